"""Storage: the SQLite file through sqlite-utils. No Qt here; callers get dataclasses back.

A one-way stack: each layer imports only the layers below it, never above (no cycle, and no
import inside a function to hide one). `lint-imports` holds it to this (pyproject.toml,
`[tool.importlinter]`, contract "store-stack")::

    restore            a backup checked in full in a copy, put in place, and recorded
      check            `needledesk check`: integrity, schema, trail, seals, records, anchors
        repository/    every read and write of records (mapping, base, queries, writes,
                       merge = import), each write with `by`, who made it
          audit, settings   the hash-chained trail; the clinic settings' rows
            database   opening the file: refusals, WAL, a backup before a migration
              backup   consistent copies (SQLite's backup API) and their generations
                identity, expected_schema   whose file is it; the schema objects it
                       must hold, replayed from the migrations (for any version)
                  schema   the migrations: plain SQL and frozen helpers only
                    anchors, seals, integrity, lock, targets   file facts with no
                       store imports: the anchors kept outside the file, the frozen
                       record hashes, SQLite's own check, the one-writer lock, the
                       paths an output must never name

A lower module may be imported lazily by a higher one for start-up speed (say so where it
is done); never the other way round.
"""

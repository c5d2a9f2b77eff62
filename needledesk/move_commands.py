"""`needledesk move-to-server URL` and `needledesk move-to-file FILE`: a clinic moved from
its file to the clinic server (PostgreSQL), or back into a new file (`store.move`).

Kept out of `cli.py` so the other commands load neither the server's driver nor the move.
Every expected failure is one plain line (a `NeedleDeskError`) and nothing is left where the
clinic was to go; the place it comes from is only read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from needledesk.domain.text import count_text
from needledesk.errors import NeedleDeskError


def add_parsers(sub: Any) -> None:
    """The two commands' parsers (called by cli._parser)."""
    to_server = sub.add_parser(
        "move-to-server", help="copy the clinic's file into an empty clinic server, checked",
        description="Copies every record, setting, photo and the whole audit trail from the "
                    "file into an empty clinic server in one transaction, checks the copy "
                    "there, and leaves the file as it was.")
    to_server.add_argument("url", metavar="URL",
                           help="the clinic server: postgresql://user@host:port/database")
    # SUPPRESS: not given here, the --db given before the command (or none) stands.
    to_server.add_argument("--db", metavar="FILE", type=Path, default=argparse.SUPPRESS,
                           help="the clinic's file (default: $NEEDLEDESK_DB, else the usual "
                                "one)")
    to_file = sub.add_parser(
        "move-to-file", help="copy the clinic on the server into a new file, checked",
        description="Copies every record, setting, photo and the whole audit trail from the "
                    "clinic server into a new file (photos in the folder beside it), checks "
                    "the copy, and leaves the server as it was.")
    to_file.add_argument("file", metavar="FILE", type=Path, help="the new file to make")
    to_file.add_argument("--server", metavar="URL", default=argparse.SUPPRESS,
                         help="the clinic server (default: $NEEDLEDESK_SERVER)")


def run(args: Any, *, existing: Callable[[Any], Path], default_path: Callable[[], Path],
        ask: Callable[[Any], str | None]) -> int:
    if args.command == "move-to-server":
        return _to_server(args, existing, ask)
    return _to_file(args, default_path, ask)


def _server_repository(url: str, ask: Callable[[Any], str | None]) -> Any:
    from needledesk.server_login import open_server_repository

    # bare: a new server gets no id of its own (the clinic's comes with it), and one that
    # is moved from is not written to.
    return open_server_repository(url, ask=ask, bare=True)


class _Percent:
    """Progress as a percentage on stderr: one line rewritten on a terminal, a line per
    tenth otherwise (a log)."""

    def __init__(self, what: str):
        self.what = what
        self.shown = -1
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        step = percent if self.tty else percent - percent % 10
        if step == self.shown:
            return
        self.shown = step
        end = "" if self.tty else "\n"
        print(f"\r{self.what}: {step}%" if self.tty else f"{self.what}: {step}%",
              end=end, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.tty and self.shown >= 0:
            print(file=sys.stderr)


def _summary(result: Any) -> str:
    rows = result.rows
    return (f"{count_text(rows.get('clients', 0), 'client')}, "
            f"{count_text(rows.get('sessions', 0), 'session')}, "
            f"{count_text(result.photos, 'photo')} and the audit trail "
            f"({_entries(rows.get('audit', 0))})")


def _entries(count: int) -> str:
    return f"{count:,} " + ("entry" if count == 1 else "entries")


def _to_server(args: Any, existing: Callable[[Any], Path],
               ask: Callable[[Any], str | None]) -> int:
    from needledesk.store.lock import DatabaseLock
    from needledesk.store.move import move_to_server

    path = existing(args)
    repo = _server_repository(args.url, ask)
    progress = _Percent("moving the clinic to the server")
    try:
        # No window may write the file while it is copied (its copy would be left behind).
        with DatabaseLock.acquire(path):
            result = move_to_server(path, repo.db, on_progress=progress)
    finally:
        progress.finish()
        repo.db.close()
    print(f"moved: {_summary(result)} from {path} to the clinic server ({repo.where}) in "
          f"{result.seconds:.1f} s, checked there. The file was not changed. Point every room "
          "at the server: Settings › Clinic server, or --server.")
    return 0


def _to_file(args: Any, default_path: Callable[[], Path],
             ask: Callable[[Any], str | None]) -> int:
    from needledesk.server_login import chosen_server
    from needledesk.store.move import move_to_file
    from needledesk.store.targets import refuse_protected_target

    url = chosen_server(getattr(args, "server", None))
    if not url:
        raise NeedleDeskError("move-to-file: name the clinic server to move from with "
                              "--server postgresql://user@host:port/database (or "
                              "NEEDLEDESK_SERVER)")
    target: Path = args.file
    # Never over the clinic's own file, its companions or its folders, nor over any file.
    refuse_protected_target(target, args.db or default_path())
    if target.exists():
        raise NeedleDeskError(f"{target} exists already; a clinic can only be moved into a new "
                              "file. Nothing was written.")
    repo = _server_repository(url, ask)
    progress = _Percent("moving the clinic to the file")
    try:
        result = move_to_file(repo.db, target, on_progress=progress)
    finally:
        progress.finish()
        repo.db.close()
    print(f"moved: {_summary(result)} from the clinic server ({repo.where}) to {target} in "
          f"{result.seconds:.1f} s, checked there. The server was not changed. Open the file "
          f"with --db {target}, or as the clinic's file in NeedleDesk.")
    return 0

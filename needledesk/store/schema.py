"""The schema as append-only migrations. Never edit a released step: add a new one.

Each step runs in one transaction with its record in `_sqlite_migrations` (sqlite-utils
`Migrations`) and sets `PRAGMA user_version` to its number, so a file written by a newer
NeedleDesk can be recognised and refused before anything touches it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from anyascii import anyascii
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

# The frozen, versioned seals (v1, v2) that steps 3 and 5 write: below this module, never
# today's Repository or the exchange encoder.
from needledesk.store.seals import record_hashes, v1_seals

MIGRATION_SET = "needledesk"
#: "NDK1" in ASCII: marks the file as a NeedleDesk database for `file(1)` and for us.
APPLICATION_ID = 0x4E444B31

migrations = Migrations(MIGRATION_SET)
STEP_NAMES: list[str] = []
#: Each step's function as registered (what `expected_schema` replays on an empty file).
STEPS: list[Callable[[Database], None]] = []


def _step(func: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register a migration step; it sets user_version to its 1-based position."""
    number = len(STEP_NAMES) + 1
    name = f"{number:04d}_{func.__name__}"
    STEP_NAMES.append(name)

    def run(db: Database) -> None:
        func(db)
        # In the step's own transaction: a crash leaves both stamps or neither.
        db.execute(f"PRAGMA user_version = {number}")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    run.__name__ = name
    migrations(name=name)(run)
    STEPS.append(run)
    return func


def schema_version() -> int:
    return len(STEP_NAMES)


# --- frozen helpers of the steps (never change: released steps depend on them) ------------

def _fmt_time_v1(value: datetime) -> str:
    return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")


def _chain_hash_v1(prev: str, row: dict[str, Any]) -> str:
    fields = [row["seq"], row["at"], row["who"], row["action"], row["kind"], row["record_id"],
              row["before"], row["after"], row["content_hash"]]
    text = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + text).encode("utf-8")).hexdigest()


def _append_audit_v1(db: Database, entries: Iterable[dict[str, Any]]) -> None:
    """Append audit rows (chain format 1) with plain SQL."""
    last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0], last[1]) if last else (0, "0" * 64)
    for entry in entries:
        seq += 1
        row = {"seq": seq, "at": _fmt_time_v1(entry["at"]), "who": entry["who"],
               "action": entry["action"], "kind": entry["kind"],
               "record_id": entry.get("record_id"), "before": None, "after": None,
               "content_hash": entry.get("content_hash")}
        row["prev_hash"] = prev
        row["hash"] = prev = _chain_hash_v1(prev, row)
        db.execute("INSERT INTO audit (seq, at, who, action, kind, record_id, before, after, "
                   "content_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [row[k] for k in ("seq", "at", "who", "action", "kind", "record_id",
                                     "before", "after", "content_hash", "prev_hash", "hash")])


@_step
def initial_schema(db: Database) -> None:
    db.execute("""
        CREATE TABLE clients (
            id TEXT PRIMARY KEY,
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL,
            date_of_birth TEXT,
            phone TEXT,
            email TEXT,
            fitzpatrick INTEGER,
            concerns TEXT NOT NULL DEFAULT '[]',
            notes TEXT NOT NULL DEFAULT '',
            search_key TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE courses (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients(id),
            concern TEXT NOT NULL,
            planned_sessions INTEGER NOT NULL,
            interval_weeks INTEGER NOT NULL,
            started_on TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("""
        CREATE TABLE screenings (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients(id),
            date TEXT NOT NULL,
            answers TEXT NOT NULL DEFAULT '{}',
            consent_signed INTEGER NOT NULL DEFAULT 0,
            notes TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("""
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients(id),
            course_id TEXT REFERENCES courses(id),
            started_at TEXT NOT NULL,
            practitioner TEXT NOT NULL,
            device_type TEXT NOT NULL,
            device_model TEXT,
            cartridge TEXT,
            cartridge_lot TEXT,
            anaesthetic_product TEXT,
            anaesthetic_applied_at TEXT,
            anaesthetic_removed_at TEXT,
            combined_with TEXT NOT NULL DEFAULT '[]',
            aftercare TEXT NOT NULL DEFAULT '[]',
            fee_amount TEXT,
            fee_currency TEXT,
            notes TEXT NOT NULL DEFAULT '',
            signed_at TEXT
        )""")
    db.execute("""
        CREATE TABLE treated_areas (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            area TEXT NOT NULL,
            depth_mm REAL NOT NULL,
            passes INTEGER,
            endpoint TEXT,
            notes TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (session_id, position)
        )""")
    db.execute("""
        CREATE TABLE serums (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            product TEXT NOT NULL,
            lot TEXT,
            PRIMARY KEY (session_id, position)
        )""")
    db.execute("""
        CREATE TABLE reactions (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            severity INTEGER NOT NULL,
            observed TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (session_id, position)
        )""")
    db.execute("""
        CREATE TABLE acknowledged_warnings (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            warning TEXT NOT NULL,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (session_id, position)
        )""")
    db.execute("""
        CREATE TABLE amendments (
            session_id TEXT NOT NULL REFERENCES sessions(id),
            position INTEGER NOT NULL,
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            reason TEXT NOT NULL,
            changes TEXT NOT NULL,
            PRIMARY KEY (session_id, position)
        )""")


@_step
def history_indexes_and_settings(db: Database) -> None:
    # A client's card lists their sessions newest first; these keep that off a table scan.
    db.execute("CREATE INDEX sessions_by_client ON sessions(client_id, started_at)")
    db.execute("CREATE INDEX courses_by_client ON courses(client_id)")
    db.execute("CREATE INDEX screenings_by_client ON screenings(client_id, date)")
    db.execute("CREATE INDEX clients_by_name ON clients(last_name, first_name)")
    # Clinic settings (name, address, practitioners, guideline tables) live with the records
    # so that a backup or a move to a new PC carries them along.
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@_step
def audit_trail(db: Database) -> None:
    db.execute("""
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            who TEXT NOT NULL,
            action TEXT NOT NULL,
            kind TEXT NOT NULL,
            record_id TEXT,
            before TEXT,
            after TEXT,
            content_hash TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX audit_by_record ON audit(record_id, seq)")
    db.execute("""
        CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END""")
    db.execute("""
        CREATE TRIGGER audit_refuses_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be deleted'); END""")
    # Seal what is already signed, so that from now on a change behind the program's back
    # shows. (Earlier history cannot be reconstructed; the baseline says so.) Frozen: plain
    # SQL and this step's own helpers, never today's Repository.
    now = datetime.now().replace(microsecond=0)
    signed = [r[0] for r in db.execute(
        "SELECT id FROM sessions WHERE signed_at IS NOT NULL ORDER BY started_at, rowid")]
    sealed = v1_seals(db, signed)
    _append_audit_v1(db, ({"at": now, "who": "NeedleDesk upgrade", "action": "baseline",
                           "kind": "session", "record_id": sid, "content_hash": sealed[sid]}
                          for sid in signed))


@_step
def client_list_order(db: Database) -> None:
    # The client list and every search are ordered by the folded name key; without this
    # index each one sorted 5,000 rows in a temporary b-tree.
    db.execute("CREATE INDEX clients_by_search_key ON clients(search_key, id)")


@_step
def record_hashes_and_database_id(db: Database) -> None:
    # The database's own random id: the anchors kept outside the file (store.anchors) and
    # the backup manifests name it. The trail records it too, so editing it shows.
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    database_id = str(uuid.uuid4())
    db.execute("INSERT INTO meta (key, value) VALUES ('database_id', ?)", [database_id])
    # A baseline hash (seal v2, frozen) of every record, so that from now on any record
    # edited, deleted or added behind the program's back shows. A signed session that no
    # longer matches its v1 seal, or is signed without one, gets no baseline: `check` keeps
    # reporting it rather than this step blessing it.
    now = datetime.now().replace(microsecond=0)
    who = "NeedleDesk upgrade"
    sealed = {r[0]: r[1] for r in db.execute(
        "SELECT record_id, content_hash FROM audit WHERE kind = 'session' AND "
        "content_hash IS NOT NULL ORDER BY seq")}
    signed = {r[0] for r in db.execute("SELECT id FROM sessions WHERE signed_at IS NOT NULL")}
    current_v1 = v1_seals(db, sorted(sealed)) if sealed else {}
    entries = [{"at": now, "who": who, "action": "identify", "kind": "database",
                "record_id": database_id}]
    for kind in ("client", "course", "screening", "session", "settings"):
        hashes = record_hashes(db, kind)
        for record_id in sorted(hashes, key=str):
            if kind == "session" and record_id is not None and (
                    (record_id in sealed and current_v1.get(record_id) != sealed[record_id])
                    or (record_id in signed and record_id not in sealed)):
                continue
            entries.append({"at": now, "who": who, "action": "baseline", "kind": kind,
                            "record_id": record_id, "content_hash": hashes[record_id]})
    _append_audit_v1(db, entries)


def identify_new(db: Any) -> None:
    """What step 5 writes into a store with no records yet (a new clinic server, whose
    tables exist already): its random id, and the trail's first rows."""
    database_id = str(uuid.uuid4())
    db.execute("INSERT INTO meta (key, value) VALUES ('database_id', ?)", [database_id])
    now = datetime.now().replace(microsecond=0)
    entries = [{"at": now, "who": "NeedleDesk upgrade", "action": "identify",
                "kind": "database", "record_id": database_id},
               {"at": now, "who": "NeedleDesk upgrade", "action": "baseline",
                "kind": "settings", "record_id": None,
                "content_hash": record_hashes(db, "settings")[None]}]
    _append_audit_v1(db, entries)


@_step
def course_plans(db: Database) -> None:
    # A course's planned areas (a JSON list of text) and, for a course ended before its
    # planned sessions were done, the day and the reason. Courses sealed before this step
    # keep their v2 seals, which cannot cover these columns: `check` requires them empty for
    # such a course (store.seals, v3).
    db.execute("ALTER TABLE courses ADD COLUMN areas_planned TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE courses ADD COLUMN ended_on TEXT")
    db.execute("ALTER TABLE courses ADD COLUMN end_reason TEXT NOT NULL DEFAULT ''")


# --- frozen helpers of step `client_search_text` (a copy of domain.search as it stood) -----

_SPELLINGS_V1: dict[str, tuple[str, ...]] = {
    "ё": ("e", "yo", "jo"), "й": ("y", "i", "j"), "х": ("kh", "h"), "ц": ("ts", "c", "tz"),
    "ж": ("zh", "j"), "щ": ("shch", "sch"), "я": ("ya", "ia", "ja"), "ю": ("yu", "iu", "ju"),
    "ы": ("y", "i"), "ъ": ("",), "ь": ("",), "є": ("ye", "ie"), "ї": ("yi", "i"),
    "ου": ("ou",), "αι": ("ai", "e"), "ει": ("ei", "i"), "οι": ("oi", "i"), "αυ": ("av", "af"),
    "ευ": ("ev", "ef"), "μπ": ("mp", "b"), "ντ": ("nt", "d"), "γγ": ("ng", "gg"),
    "γκ": ("gk", "g"), "β": ("v", "b"), "η": ("i", "e"), "υ": ("y", "i"),
    "χ": ("ch", "h", "kh"), "φ": ("f", "ph"), "ξ": ("x", "ks"), "ω": ("o",),
}
_EXTRA_FOLDS_V1 = str.maketrans({"đ": "d", "ð": "d", "ł": "l", "ø": "o", "æ": "ae",
                                 "œ": "oe", "ı": "i", "þ": "th"})


def _fold_v1(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed
                   if not unicodedata.combining(ch)).translate(_EXTRA_FOLDS_V1)


def _digits_v1(text: str | None) -> str:
    return "".join(ch for ch in (text or "") if ch.isdigit())


def _spellings_v1(word: str) -> list[str]:
    letters = "".join(ch if ch in "ёйї" else _fold_v1(ch) for ch in word)
    parts: list[tuple[str, ...]] = []
    at = 0
    while at < len(letters):
        pair = letters[at:at + 2]
        if len(pair) == 2 and pair in _SPELLINGS_V1:
            parts.append(_SPELLINGS_V1[pair])
            at += 2
            continue
        parts.append(_SPELLINGS_V1.get(letters[at]) or (_fold_v1(anyascii(letters[at])),))
        at += 1
    found: list[str] = []
    firsts = "".join(p[0] for p in parts)
    seconds = "".join(p[min(1, len(p) - 1)] for p in parts)
    for candidate in itertools.chain((firsts, seconds, _fold_v1(anyascii(word))),
                                     ("".join(c) for c in itertools.product(*parts))):
        spelt = "".join(ch for ch in candidate if ch.isalnum())
        if spelt and spelt not in found:
            found.append(spelt)
        if len(found) >= 8:
            break
    return found


def _phone_digits_v1(phone: str | None, country: str) -> list[str]:
    # Imported here: start-up never needs it once the file is at this schema.
    import phonenumbers

    written = _digits_v1(phone)
    if not written:
        return []
    found = [written]
    try:
        number = phonenumbers.parse(phone or "", country or None)
    except phonenumbers.NumberParseException:
        return found
    if phonenumbers.is_possible_number(number):
        for form in (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.NATIONAL):
            run = _digits_v1(phonenumbers.format_number(number, form))
            if run and run not in found:
                found.append(run)
    return found


def _search_text_v1(first_name: str, last_name: str, phone: str | None, country: str) -> str:
    lowered = unicodedata.normalize("NFC", f"{last_name} {first_name}".casefold())
    found: list[str] = []
    for word in "".join(ch if ch.isalnum() else " " for ch in lowered).split():
        for spelt in (_fold_v1(word), *_spellings_v1(word)):
            if spelt not in found:
                found.append(spelt)
    return "".join(f" {w}" for w in (*found, *_phone_digits_v1(phone, country)))


def _clinic_country_v1(db: Database) -> str:
    """The clinic's country as stored (a JSON string), or "" when none is."""
    row = db.execute("SELECT value FROM settings WHERE key = 'country'").fetchone()
    try:
        value = json.loads(row[0]) if row else ""
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


@_step
def client_search_text(db: Database) -> None:
    # What a client is found by beside the sort key: Latin spellings of names in other
    # scripts and the phone's international and national digits (domain.search). Derived,
    # not sealed: `check` recomputes it (store.search). Frozen copy above, never today's.
    db.execute("ALTER TABLE clients ADD COLUMN search_text TEXT NOT NULL DEFAULT ''")
    country = _clinic_country_v1(db)
    rows = db.execute("SELECT id, first_name, last_name, phone FROM clients").fetchall()
    for client_id, first_name, last_name, phone in rows:
        db.execute("UPDATE clients SET search_text = ? WHERE id = ?",
                   [_search_text_v1(first_name, last_name, phone, country), client_id])


@_step
def products_and_lots(db: Database) -> None:
    # The product catalogue (serums, anaesthetics, cartridges) and its delivered lots. A
    # session keeps each product and lot as text exactly as recorded, and beside it the
    # catalogue lot it was picked from (`*_lot_id`, no foreign key: a lot removed from the
    # catalogue never changes a signed record). The anaesthetic gains its lot, and a
    # session the screening re-confirmed at its start (`screening_check`: 'no_change' or
    # 'updated'). Sessions sealed before this step keep their v2 seals, which cannot cover
    # these columns: `check` requires them empty for such a session (store.seals, v4).
    db.execute("""
        CREATE TABLE products (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            maker TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            retired INTEGER NOT NULL DEFAULT 0
        )""")
    db.execute("""
        CREATE TABLE lots (
            id TEXT PRIMARY KEY,
            product_id TEXT NOT NULL REFERENCES products(id),
            lot TEXT NOT NULL,
            expires_on TEXT,
            received_on TEXT,
            notes TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("CREATE INDEX lots_by_product ON lots(product_id, expires_on)")
    db.execute("ALTER TABLE sessions ADD COLUMN anaesthetic_lot TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN anaesthetic_lot_id TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN cartridge_lot_id TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN screening_id TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN screening_check TEXT")
    db.execute("ALTER TABLE serums ADD COLUMN lot_id TEXT")
    # The due list reads each course's latest session.
    db.execute("CREATE INDEX sessions_by_course ON sessions(course_id, started_at)")


@_step
def consents_and_zones(db: Database) -> None:
    # Consent forms as versioned templates (a stored version never changes: editing a form
    # stores the next one), and consents given by clients: the form's text as signed, the
    # statements ticked, both signatures as strokes (JSON) and as a picture (PNG), when and
    # how. A consent is never updated once stored. Consents ticked on a screening before
    # this step stay on the screening and are read as "signed on paper" (domain.consent).
    # Each treated area gains the face-chart zone it was drawn in.
    db.execute("""
        CREATE TABLE consent_templates (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            statements TEXT NOT NULL DEFAULT '[]',
            created_at TEXT,
            created_by TEXT NOT NULL DEFAULT '',
            UNIQUE (kind, version)
        )""")
    db.execute("""
        CREATE TABLE consents (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients(id),
            kind TEXT NOT NULL,
            method TEXT NOT NULL,
            signed_at TEXT NOT NULL,
            practitioner TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL,
            body TEXT NOT NULL DEFAULT '',
            statements TEXT NOT NULL DEFAULT '[]',
            answers TEXT NOT NULL DEFAULT '{}',
            template_id TEXT,
            template_version INTEGER,
            client_strokes TEXT,
            client_image BLOB,
            practitioner_strokes TEXT,
            practitioner_image BLOB,
            notes TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("CREATE INDEX consents_by_client ON consents(client_id, signed_at)")
    db.execute("ALTER TABLE treated_areas ADD COLUMN zone TEXT")


@_step
def photos(db: Database) -> None:
    # Before-and-after photos, each of one session: the view, who added it and how, the
    # hash of the file as it came in (importing it again changes nothing) and of the bytes
    # kept (`store.photo_files`, beside the database: never in it), their kind and size, and
    # the photo consent in force when it was taken. A photo is removed only by amendment:
    # the row stays with who removed it, when and why, and its bytes go.
    db.execute("""
        CREATE TABLE photos (
            id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL REFERENCES clients(id),
            session_id TEXT NOT NULL REFERENCES sessions(id),
            view TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            taken_at TEXT,
            added_at TEXT NOT NULL,
            added_by TEXT NOT NULL,
            source TEXT NOT NULL,
            original_sha256 TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            media_type TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            size INTEGER NOT NULL,
            consent_id TEXT,
            removed_at TEXT,
            removed_by TEXT NOT NULL DEFAULT '',
            removed_reason TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("CREATE INDEX photos_by_session ON photos(session_id, view)")
    db.execute("CREATE INDEX photos_by_client ON photos(client_id, original_sha256)")
    db.execute("CREATE INDEX photos_by_hash ON photos(sha256)")

"""The `needledesk` command: the window by default, sub-commands for scripts and admins.

Every expected failure is one clear line on stderr and a non-zero exit; an unexpected one
is one line too, with the traceback written to the log file for the developers.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from pathlib import Path

from needledesk import __version__
from needledesk.errors import NeedleDeskError, ValidationError

EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70

log = logging.getLogger("needledesk")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="needledesk",
        description="Microneedling session records. With no command, opens the window.")
    parser.add_argument("--version", action="version", version=f"NeedleDesk {__version__}")
    parser.add_argument("--smoke-test", action="store_true",
                        help="check that this installation works (demo records in a temporary "
                             "database, the window, a PDF) and exit 0 only if it does")
    parser.add_argument("--db", metavar="PATH", type=Path,
                        help="the database file (default: $NEEDLEDESK_DB, else needledesk.db "
                             "in the user data folder)")
    parser.add_argument("--server", metavar="URL",
                        help="use the clinic server at postgresql://user@host:port/database "
                             "instead of the file (default: $NEEDLEDESK_SERVER)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="fill the database with realistic made-up records")
    demo.add_argument("--clients", type=int, default=200, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--force", action="store_true",
                      help="add demo records even to a database that holds real ones")
    demo.add_argument("--photos", type=int, default=4, metavar="N",
                      help="photograph N clients' courses with synthetic faces (default 4; "
                           "0: no photos)")

    imp = sub.add_parser("import", help="import records from an exchange file (.json, or "
                                        ".zip with photos)")
    imp.add_argument("file", type=Path, metavar="FILE")

    exp = sub.add_parser("export", help="export records")
    kinds = exp.add_subparsers(dest="kind", metavar="KIND", required=True)
    js = kinds.add_parser("json", help="all records (or one client's) in the exchange format")
    js.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="write here instead of to standard output; a name ending in .zip "
                         "writes a zip that carries the photos too (JSON alone carries none)")
    js.add_argument("--client", metavar="ID", help="only this client")
    summary = kinds.add_parser("summary", help="a session's one-page client handout (PDF)")
    summary.add_argument("--session", required=True, metavar="ID", help="the session")
    summary.add_argument("--photos", action="store_true",
                         help="add a second page of the session's photos (when the client's "
                              "photo consent allows showing them)")
    summary.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.pdf")
    course = kinds.add_parser("course", help="a client's full course record (PDF)")
    course.add_argument("--client", required=True, metavar="ID", help="the client")
    course.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.pdf")
    consent = kinds.add_parser(
        "consent", help="a client's signed consent, or a blank consent form to sign on "
                        "paper (PDF)")
    consent.add_argument("--client", metavar="ID",
                         help="the client (their latest consent; on a blank form, their name)")
    consent.add_argument("--consent", metavar="ID", help="this consent instead of the latest")
    consent.add_argument("--kind", dest="consent_kind", choices=["treatment", "photo"],
                         help="the treatment consent (default) or the photo consent")
    consent.add_argument("--blank", action="store_true",
                         help="the clinic's current form, blank, to print and sign on paper")
    consent.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.pdf")

    sub.add_parser("check", help="check the file's (or, with --server, the clinic server's) "
                                 "integrity; exit 0 only when sound")

    bak = sub.add_parser("backup", help="write a checked backup of the database")
    bak.add_argument("-o", "--output", type=Path, metavar="FILE",
                     help="write here (default: a new generation in the `backups` folder "
                          "beside the database; old generations are rotated); the photos go "
                          "into the `photos` folder beside it. With --server: the FOLDER "
                          "the server's pg_dump backup goes into (default: server-backups "
                          "in the data folder)")
    res = sub.add_parser("restore", help="replace the database with a backup; the current "
                                         "one is kept beside it as a safety copy")
    res.add_argument("file", type=Path, metavar="FILE")

    lots = sub.add_parser("lots", help="the product lots the sessions used")
    lot_commands = lots.add_subparsers(dest="lots_command", metavar="ACTION", required=True)
    recall = lot_commands.add_parser(
        "recall", help="every session that used a lot (a maker's recall), with the clients "
                       "to call", description="Every session that used a lot as a serum, "
                       "topical anaesthetic or needle cartridge lot; case and surrounding "
                       "spaces are ignored.")
    recall.add_argument("lot", metavar="LOT", help="the lot number")
    recall.add_argument("--json", action="store_true", help="print the rows as JSON")
    recall.add_argument("--kind", action="append", choices=["serum", "anaesthetic", "cartridge"],
                        help="only lots used as this (may be given more than once)")
    recall.add_argument("--from", dest="start", type=_day_arg, metavar="DATE",
                        help="only sessions on or after this day (YYYY-MM-DD)")
    recall.add_argument("--to", dest="end", type=_day_arg, metavar="DATE",
                        help="only sessions on or before this day (YYYY-MM-DD)")

    _photos_parser(sub)
    from needledesk.move_commands import add_parsers as move_parsers

    move_parsers(sub)
    from needledesk.server_commands import add_parser as server_parser

    server_parser(sub)

    due = sub.add_parser("due", help="clients whose course's next session is due or overdue, "
                                     "and the courses that lapsed")
    due.add_argument("--json", action="store_true", help="print the rows as JSON")
    due.add_argument("--within", type=_within_option, default=0, metavar="DAYS",
                     help=f"also list sessions due within this many days "
                          f"(0 to {WITHIN_MAX}; default 0)")
    return parser


def _photos_parser(sub) -> None:
    """`needledesk photos import|export|tidy`."""
    from needledesk.domain.model import PhotoView

    photos = sub.add_parser("photos", help="sessions' photos: add files, export a client's, "
                                           "tidy the photo folder")
    actions = photos.add_subparsers(dest="photos_command", metavar="ACTION", required=True)
    add = actions.add_parser("import", help="add photo files (JPEG, PNG, HEIC) to a session",
                             description="Each file is cleaned (turned upright, its metadata "
                             "removed) and stored with the session; a file already stored "
                             "for the client is not stored twice. Needs the client's photo "
                             "consent.")
    add.add_argument("--session", required=True, metavar="ID", help="the session")
    add.add_argument("--view", choices=[v.value for v in PhotoView], default="front",
                     help="the view of every file given (default front)")
    add.add_argument("--label", default="", metavar="TEXT",
                     help="what a close-up shows (e.g. \"left cheek scar\")")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    out = actions.add_parser("export", help="write a client's photos as picture files",
                             description="Each live photo as a file named by its session's "
                             "day and its view. For teaching or marketing the client's photo "
                             "consent must allow that use, and the client's name is left out.")
    out.add_argument("--client", required=True, metavar="ID", help="the client")
    out.add_argument("-o", "--output", required=True, type=Path, metavar="DIR",
                     help="the folder to write into (made, readable by you only, if new)")
    out.add_argument("--for", dest="use", choices=["record", "teaching", "marketing"],
                     default="record", help="what the photos are for (default record)")
    actions.add_parser("tidy", help="remove picture files in the photo folder that no photo "
                                    "names (left by an interrupted import)")


#: The most days ahead `due --within` looks.
WITHIN_MAX = 365


def _day_arg(text: str):
    """A day typed as YYYY-MM-DD (argparse names the option in a refusal: "argument --from:
    …")."""
    from datetime import date

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{text}” is not a day; write it as year-month-day, e.g. 2026-11-03") from None


def _within_option(text: str) -> int:
    try:
        days = int(text.strip())
    except ValueError:
        days = -1
    if not 0 <= days <= WITHIN_MAX:
        raise argparse.ArgumentTypeError(
            f"“{text}” is not a number of days from 0 to {WITHIN_MAX}")
    return days


def _open(args, *, create: bool = True):
    """The repository on the chosen file. Commands that only read refuse a missing file
    rather than leave an empty database behind a mistyped path."""
    from needledesk.paths import default_db_path
    from needledesk.store.database import DatabaseError, open_database
    from needledesk.store.repository import Repository

    server = _server(args)
    if server:
        from needledesk.server_login import open_server_repository

        return open_server_repository(server, ask=_ask_password)
    path = args.db or default_db_path()
    if not create and not Path(path).exists():
        raise DatabaseError(_no_database(path))
    if create:
        # A writing command holds the one-writer lock for the rest of this process.
        from needledesk.paths import prepare_db_folder
        from needledesk.store.lock import DatabaseLock

        global _LOCK
        prepare_db_folder(path)  # a fresh machine: the data folder is made here (0700)
        _LOCK = DatabaseLock.acquire(path)
    return Repository(open_database(path))


_LOCK = None


def _server(args) -> str | None:
    """The clinic server chosen by --server or NEEDLEDESK_SERVER (not with --db)."""
    from needledesk.server_login import chosen_server

    if getattr(args, "db", None) is not None and getattr(args, "server", None) is None:
        return None   # --db names a file: that file, whatever the environment says
    return chosen_server(getattr(args, "server", None))


def _address_problem(args) -> str | None:
    """What is wrong with the clinic server's address --server or NEEDLEDESK_SERVER gives,
    naming which of them; None when it is usable or none is given."""
    if args.command == "server" and getattr(args, "url", None):
        return None   # `server init|status URL` checks the address it was given
    server = _server(args)
    if not server:
        return None
    from needledesk.server_login import SERVER_VARIABLE, address_problem

    problem = address_problem(server)
    if problem is None:
        return None
    return f"{'--server' if getattr(args, 'server', None) else SERVER_VARIABLE}: {problem}"


def _server_backup(args) -> int:
    """`--server URL backup [-o FOLDER]`: pg_dump of the clinic server, read back, with its
    manifest; without a pg_dump as new as the server, the plain reason (and the docs)."""
    from needledesk.store.server_backup import backup_server, default_folder

    repo = _open(args)
    try:
        info = backup_server(repo.db, args.output or default_folder())
    finally:
        repo.db.close()
    print(f"backup: {info.path} ({_records(info)}) of the clinic server ({repo.where})")
    return 0


def _server_restore(args) -> int:
    """`--server URL restore FILE`: checked in a scratch database first; the server as it
    was is kept as a backup beside FILE before its records are replaced."""
    from needledesk.domain.text import moment_text
    from needledesk.store.server_backup import restore_server

    repo = _open(args)
    try:
        restored = restore_server(repo.db, args.file, by=_cli_user())
    finally:
        repo.db.close()
    info = restored.backup
    print(f"restored: {args.file} taken {moment_text(info.taken_at)} ({_records(info)}) "
          f"into the clinic server ({restored.server})")
    if restored.safety is not None:
        print(f"the server's records as they were are kept in {restored.safety}")
    return 0


def _ask_password(address) -> str | None:
    """The server's password typed at the terminal (never echoed); None without one."""
    import getpass

    if not sys.stdin.isatty():
        return None
    return getpass.getpass(f"Password for {address.display()}: ") or None


def _default_path() -> Path:
    from needledesk.paths import default_db_path

    return default_db_path()


def _existing(args) -> Path:
    from needledesk.store.database import DatabaseError

    path = Path(args.db or _default_path())
    if not path.exists():
        raise DatabaseError(_no_database(path))
    return path


def _no_database(path) -> str:
    if Path(path) == _default_path():
        return (f"there are no records on this PC yet ({path} does not exist); start "
                "NeedleDesk once, or import an exchange file with `needledesk import FILE`")
    return f"{path}: no such database"


def _refuse_output(args) -> None:
    """`-o` must never name the database, its -wal/-shm/-journal, its lock or its backup
    folder (by name, symlink or hard link): refused before anything is read or written."""
    from needledesk.store.targets import refuse_protected_target

    if getattr(args, "output", None) is not None:
        refuse_protected_target(args.output, args.db or _default_path())


def _cli_user() -> str:
    import getpass

    return f"{getpass.getuser()} (command line)"


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _run(args) -> int:
    if args.command == "demo":
        from needledesk.demo import fill

        if args.clients < 1:
            raise NeedleDeskError(f"--clients: {args.clients} is not 1 or more")
        if args.photos < 0:
            raise NeedleDeskError(f"--photos: {args.photos} is not 0 or more")
        result = fill(_open(args), clients=args.clients, seed=args.seed, force=args.force,
                      photos=args.photos)
        print(_counts("demo added", result.added))
        return 0
    if args.command == "import":
        from needledesk.transfer import import_file

        report = import_file(_open(args), args.file, by=_cli_user())
        for warning in report.warnings:
            _say(f"warning: {_problem_line(warning)}")
        print(_counts("imported", report.result.added)
              + (f" ({_counts('already present', report.result.skipped)})"
                 if report.result.skipped else ""))
        for note in report.result.notes:
            _say(f"note: {note}")
        updated = report.result.updated
        if any(updated.values()):
            print("brought up to date from the file: "
                  + ", ".join(f"{n} {what}" for what, n in updated.items() if n))
        return 0
    if args.command == "export" and args.kind in ("summary", "course", "consent"):
        # reportlab loads only here: the other commands and the window start without it.
        from needledesk.reports.build import course_record_pdf, session_summary_pdf
        from needledesk.transfer import write_private

        _refuse_output(args)
        if args.kind == "consent" and args.blank and args.consent:
            raise NeedleDeskError("--blank prints an empty form: leave out --consent")
        repo = _open(args, create=False)
        if args.kind == "consent":
            pdf = _consent_pdf(repo, args)
        else:
            pdf = (session_summary_pdf(repo, args.session, photos=args.photos)
                   if args.kind == "summary" else course_record_pdf(repo, args.client))
            if args.kind == "summary" and args.photos:
                from needledesk.reports.build import summary_photos_note

                left_out = summary_photos_note(repo, args.session)
                if left_out:
                    _say(f"note: {left_out}")
        write_private(args.output, pdf)
        return 0
    if args.command == "export":
        from needledesk.transfer import export_json, export_zip

        _refuse_output(args)
        repo = _open(args, create=False)
        if args.output is not None and args.output.suffix.lower() == ".zip":
            exported = export_zip(repo, args.output, args.client)
        else:
            text, exported = export_json(repo, args.output, args.client)
            if args.output is None:
                sys.stdout.write(text)
        left_out = exported.note()
        if left_out:
            _say(f"note: {left_out}")
        return 0
    if args.command == "check":
        from needledesk.store.check import check_file
        from needledesk.store.database import open_readonly

        server = _server(args)
        if server:
            # As the file: read as it is, neither migrated nor (new) given an id.
            from needledesk.server_login import open_server_repository

            repo = open_server_repository(server, ask=_ask_password, migrate_schema=False,
                                          bare=True)
            checked = check_file(repo.db)
            sound = f"check: the clinic server ({repo.where}) is sound"
        else:
            # Read-only: a damaged file must not be written to, not even to migrate it.
            path = _existing(args)
            db = open_readonly(path)
            checked = check_file(db, db_path=path)
            sound = "check: the database is sound"
        for problem in checked.problems:
            _say(problem)
        for note in checked.warnings:
            _say(f"warning: {note}")
        if checked.problems:
            _say(f"needledesk: check found {len(checked.problems)} problem(s)")
            return EXIT_PROBLEM
        print(sound
              + (f" ({len(checked.warnings)} warning(s) above)" if checked.warnings else ""))
        return 0
    if args.command == "backup":
        from needledesk.store.backup import backup_to, default_backup_dir, take_backup

        if _server(args):
            return _server_backup(args)
        path = _existing(args)
        _refuse_output(args)
        info = (backup_to(path, args.output, photos=True) if args.output
                else take_backup(path, default_backup_dir(path)))
        print(f"backup: {info.path} ({_records(info)})")
        if info.photos:
            print(f"photos: {info.photos_copied} copied into {info.path.parent / 'photos'}, "
                  f"{info.photos - info.photos_copied} already there")
        return 0
    if args.command == "restore":
        from needledesk.paths import prepare_db_folder
        from needledesk.store.lock import DatabaseLock
        from needledesk.store.restore import restore_and_record

        if _server(args):
            return _server_restore(args)

        path = args.db or _default_path()
        prepare_db_folder(path)  # restoring onto a new PC: the data folder may not exist yet
        with DatabaseLock.acquire(path):  # no window may have the file open meanwhile
            # Checked in full in a copy first; a refusal says "Nothing was changed".
            restored = restore_and_record(args.file, path, who=_cli_user())
        info = restored.backup
        print(f"restored: {args.file} taken {info.taken_at:%Y-%m-%d %H:%M} "
              f"({_records(info)}) into {restored.database}")
        if info.photos:
            print(f"photos: {restored.photos_restored} of {info.photos} brought back into the "
                  "photo folder (the others were there)")
        if restored.safety is not None:
            print(f"the database as it was is kept in {restored.safety}")
        return 0
    if args.command in ("move-to-server", "move-to-file"):
        from needledesk.move_commands import run as move

        return move(args, existing=_existing, default_path=_default_path, ask=_ask_password)
    if args.command == "server":
        from needledesk.server_commands import run as server_command

        return server_command(args, ask=_ask_password)
    if args.command == "photos":
        from needledesk.photo_commands import run as photos

        return photos(args, _open, _existing, _cli_user())
    if args.command == "lots":
        return _recall(args)
    if args.command == "due":
        return _due(args)
    from needledesk.ui.app import run_window

    return run_window(args.db, server=_server(args))


def _consent_pdf(repo, args) -> bytes:
    """`export consent`: the blank form, or a signed consent (reports.build)."""
    from needledesk.reports.build import blank_consent_form_pdf, consent_record_pdf

    if args.blank:
        return blank_consent_form_pdf(repo, args.client, kind=args.consent_kind)
    return consent_record_pdf(repo, args.client, kind=args.consent_kind,
                              consent_id=args.consent)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart; the last one unpadded."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in (headers, *rows)]


def _recall(args) -> int:
    import json

    from needledesk.domain.labels import PRODUCT_KIND_LABELS
    from needledesk.domain.model import ProductKind
    from needledesk.domain.text import count_text, day_text
    from needledesk.store.lists import recall

    if not args.lot.strip():
        raise NeedleDeskError("no lot given: write the lot number, e.g. "
                              "needledesk lots recall HA-0923")
    if args.start and args.end and args.start > args.end:
        raise NeedleDeskError(f"--from {day_text(args.start)} is after --to "
                              f"{day_text(args.end)}: no day is between them")
    kinds = [ProductKind(k) for k in args.kind] if args.kind else None
    repo = _open(args, create=False)
    rows = recall(repo.db, args.lot, kinds=kinds, start=args.start, end=args.end)
    if args.json:
        print(json.dumps([{
            "session_id": r.session_id, "client_id": r.client_id, "client": r.client_name,
            "phone": r.phone, "started_at": r.started_at.isoformat(timespec="minutes"),
            "kind": str(r.kind), "product": r.product, "lot": r.lot,
            "practitioner": r.practitioner, "signed": r.signed, "amended": r.amended}
            for r in rows], ensure_ascii=False, indent=2))
        return 0
    lot = args.lot.strip()
    if not rows:
        narrowed = []
        if kinds:
            narrowed.append("as " + " or ".join(PRODUCT_KIND_LABELS[k].lower() for k in kinds))
        if args.start:
            narrowed.append(f"from {day_text(args.start)}")
        if args.end:
            narrowed.append(f"to {day_text(args.end)}")
        print(f"No session used lot {lot}" + (" " + " ".join(narrowed) if narrowed else "")
              + ".")
        return 0
    lines = _table(["Date", "Client", "Phone", "Product", "Lot", ""], [
        [day_text(r.started_at.date()), r.client_name, r.phone or "no phone",
         f"{r.product or 'no product named'} ({PRODUCT_KIND_LABELS[r.kind].lower()})",
         r.lot.strip(),
         "(amended)" if r.amended else ""] for r in rows])
    print("\n".join(lines))
    sessions = len({r.session_id for r in rows})
    clients = len({r.client_id for r in rows})
    print(f"{count_text(sessions, 'session')}, {count_text(clients, 'client')}")
    if any(r.amended for r in rows):
        print("(amended): the lot was corrected by an amendment after the session was signed")
    return 0


def _due(args) -> int:
    import json
    from datetime import date

    from needledesk.domain.list_text import due_count_text, due_session_text, state_text
    from needledesk.domain.safety import DueState
    from needledesk.domain.text import count_text, day_text
    from needledesk.store.lists import due

    repo = _open(args, create=False)
    lapse = repo.settings().lapsed_after_intervals
    rows = due(repo.db, date.today(), within_days=args.within, lapsed_after_intervals=lapse)
    if args.json:
        print(json.dumps([{
            "client_id": r.client_id, "client": r.client_name, "phone": r.phone,
            "course_id": r.course_id, "concern": r.concern,
            "interval_weeks": r.interval_weeks, "sessions_done": r.sessions_done,
            "planned_sessions": r.planned_sessions,
            "last_session": r.last_session.isoformat() if r.last_session else None,
            "due_on": r.due_on.isoformat(), "state": str(r.state),
            "days_overdue": r.days_overdue} for r in rows], ensure_ascii=False, indent=2))
        return 0

    def table(part) -> list[str]:
        return _table(["Due", "Client", "Phone", "Course", "Session", "Last session", "State"],
                      [[day_text(r.due_on), r.client_name, r.phone or "no phone", r.concern,
                        due_session_text(r),
                        day_text(r.last_session) if r.last_session else "none yet",
                        state_text(r)] for r in part])

    if not rows:
        print(due_count_text(rows))
        return 0
    current = [r for r in rows if r.state is not DueState.LAPSED]
    lapsed = [r for r in rows if r.state is DueState.LAPSED]
    if current:
        print("Due or overdue" + (f", or due within {count_text(args.within, 'day')}"
                                  if args.within else "") + ":")
        print("\n".join(table(current)))
        print()
    if lapsed:
        print(f"Lapsed (no session for more than {count_text(lapse, 'interval')} past the "
              "due day):")
        print("\n".join(table(lapsed)))
        print()
    print(due_count_text(rows))
    return 0


def _records(info) -> str:
    """"1 client, 12 sessions": what a backup holds."""
    from needledesk.domain.text import count_text

    return f"{count_text(info.clients, 'client')}, {count_text(info.sessions, 'session')}"


def _counts(label: str, counts: dict[str, int]) -> str:
    from needledesk.domain.text import count_text

    parts = [count_text(counts.get(k, 0), k[:-1])
             for k in ("clients", "courses", "screenings", "sessions")]
    parts += [count_text(counts[k], k[:-1]) for k in ("consents", "consent form versions",
                                                      "photos")
              if counts.get(k)]
    return f"{label}: " + ", ".join(parts)


def _printable_output() -> None:
    """A name in any alphabet never crashes a command: where the output's encoding cannot
    write a character (Windows writes a pipe or a file in its ANSI code page, cp1252 in
    western Europe) it is written as an escape such as \u0424 instead of an exception."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower().replace("-", "") != "utf8":
            reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    _printable_output()
    args = _parser().parse_args(argv)
    from needledesk.logs import setup_logging

    setup_logging()
    log.info("NeedleDesk %s: %s", __version__, args.command or
             ("smoke test" if args.smoke_test else "window"))
    if args.smoke_test:  # touches no records; reports its own failures in one line
        from needledesk.smoke import run as smoke_test

        return smoke_test()
    bad_address = _address_problem(args)
    if bad_address:  # as a mistyped option: one line, exit 2, nothing connected to
        _say(f"needledesk: {bad_address}")
        return EXIT_USAGE
    try:
        return _guarded(args)
    finally:
        _release_lock()


def _release_lock() -> None:
    global _LOCK
    if _LOCK is not None:
        _LOCK.release()
        _LOCK = None


def _guarded(args) -> int:
    try:
        return _run(args)
    except ValidationError as exc:
        _say(f"needledesk: nothing was written; {len(exc.problems)} problem(s):")
        for problem in exc.problems:
            _say(f"  {_problem_line(problem)}")
        return EXIT_PROBLEM
    except NeedleDeskError as exc:
        _say(f"needledesk: {exc}")
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        _say("needledesk: interrupted")
        return 130
    except sqlite3.OperationalError as exc:
        _say(f"needledesk: {_storage_problem(exc)}")
        return EXIT_PROBLEM
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"needledesk: {where}{exc.strerror or exc}")
        return EXIT_PROBLEM
    except Exception as exc:  # the last resort: one line, never a traceback
        from needledesk.logs import log_file

        log.exception("unexpected error in %s", args.command or "the window")
        _say(f"needledesk: internal error ({type(exc).__name__}: {exc}); "
             f"details are in the log: {log_file()}")
        return EXIT_INTERNAL


def _problem_line(problem: object) -> str:
    """A refused record's problem, or an import's guideline warning, in the window's words:
    `Client 1, Session 1, Treated area 1: Depth 3.5 is outside 0.1–3.0 mm`, never a field
    path like `clients[0].sessions[0]…`."""
    from needledesk.domain.labels import LABELS, generic_path, problem_text
    from needledesk.domain.rules import GuidelineWarning, Problem

    if not isinstance(problem, Problem | GuidelineWarning):
        return str(problem)
    generic = generic_path(problem.path)
    kind = next((k for k, labels in LABELS.items()
                 if generic in labels or generic.removesuffix("[]") in labels), "session")
    return problem_text(problem, kind=kind)


def _storage_problem(exc: sqlite3.OperationalError) -> str:
    """SQLite's own words, and what they mean for the practitioner."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR"):
        return (f"the database could not be written ({exc}): the disk may be full or the "
                "file too large; nothing was changed")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (f"the database is busy ({exc}): another program is writing it; nothing was "
                "changed")
    if name.startswith("SQLITE_READONLY"):
        return f"the database is read-only ({exc}); nothing was changed"
    return f"the database could not be used ({exc}); nothing was changed"

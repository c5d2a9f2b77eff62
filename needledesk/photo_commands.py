"""`needledesk photos import|export|tidy`: a session's photos from the command line.

Kept out of `cli.py` so the other commands do not load the imaging code. Every expected
failure is a `NeedleDeskError` (one line, nothing written); `photos import` goes on past a
refused file and exits 1 when any was refused.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from needledesk.domain.labels import problem_text
from needledesk.domain.model import Photo, PhotoSource, PhotoView
from needledesk.domain.photos import EXPORT_USES, EXTENSIONS, VIEW_TEXT, use_refusal
from needledesk.domain.rules import Problem
from needledesk.domain.text import count_text, day_text
from needledesk.errors import NeedleDeskError, NotFoundError, ValidationError
from needledesk.imaging import FILE_MAX

#: Characters no file name may hold on Windows (and `/` nowhere), and control characters.
_NOT_IN_NAMES = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
NAME_MAX = 120


def run(args: Any, open_repo: Callable[..., Any], existing: Callable[[Any], Path],
        user: str) -> int:
    if args.photos_command == "import":
        _must_exist(args, existing)   # a mistyped --db must not leave an empty database
        return _import(open_repo(args), args, user)
    if args.photos_command == "export":
        return _export(open_repo(args, create=False), args)
    _must_exist(args, existing)
    repo = open_repo(args)
    removed = repo.tidy_photo_files()
    where = "on the clinic server" if repo.on_server else "in the photo folder"
    print(f"tidy: removed {count_text(removed, 'picture file')} that no photo names"
          if removed else f"tidy: every picture file {where} is a photo's; nothing to remove")
    return 0


def _must_exist(args: Any, existing: Callable[[Any], Path]) -> None:
    """The chosen database file must exist; on the clinic server (--server or
    NEEDLEDESK_SERVER, without --db) there is no file to mistype."""
    from needledesk.server_login import chosen_server

    if getattr(args, "db", None) is None and chosen_server(getattr(args, "server", None)):
        return
    existing(args)


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _read_photo_file(path: Path) -> bytes:
    """A photo file's bytes: a regular file of at most `imaging.FILE_MAX` bytes."""
    try:
        info = path.stat()
    except OSError as exc:
        raise NeedleDeskError(f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise NeedleDeskError("is not a file" if not stat.S_ISDIR(info.st_mode)
                              else "is a folder, not a photo file")
    if info.st_size > FILE_MAX:
        raise NeedleDeskError(f"is {info.st_size // 2**20:,} MB; a photo file may be at most "
                              f"{FILE_MAX // 2**20} MB")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NeedleDeskError(f"cannot be read ({exc.strerror})") from None


def _import(repo: Any, args: Any, user: str) -> int:
    try:
        session = repo.get_session(args.session)
    except NotFoundError:
        raise NeedleDeskError(f"there is no session with the id “{args.session}”; nothing "
                              "was added (the client card lists a session's id)") from None
    failed = 0
    for path in args.files:
        try:
            data = _read_photo_file(path)
            done = repo.add_photo(session.id, data, view=PhotoView(args.view), by=user,
                                  label=args.label, source=PhotoSource.FILE, name=path.name)
        except ValidationError as exc:
            failed += 1
            reasons = "; ".join(problem_text(p, kind="photo") if isinstance(p, Problem)
                                else str(p) for p in exc.problems)
            _say(f"refused: {path}: {reasons}")
            continue
        except NeedleDeskError as exc:
            failed += 1
            text = str(exc)
            # imaging's messages begin with the file's name already
            _say(f"refused: {path}: {text.removeprefix(f'{path.name}: ')}")
            continue
        photo = done.photo
        if done.added:
            print(f"added: {path} ({_view_of(photo)}, {photo.width} × {photo.height})")
        else:
            print(f"already stored: {path} (the same file is this client's photo of "
                  f"{day_text(photo.added_at.date())}, {_view_of(photo)})")
    if failed:
        _say(f"needledesk: {count_text(failed, 'file')} of {len(args.files)} refused")
        return 1
    return 0


def _view_of(photo: Photo) -> str:
    text = VIEW_TEXT.get(photo.view, str(photo.view))
    return f"{text}: {photo.label}" if photo.label else text


def file_stem(day: date, photo: Photo, client_name: str | None = None) -> str:
    """`2026-11-20 Front`, `2026-11-20 Close-up left cheek scar`, with the client's name
    first when given; no character a file name cannot hold on Windows."""
    parts = [client_name] if client_name else []
    parts += [day.isoformat(), VIEW_TEXT.get(photo.view, str(photo.view))]
    if photo.label:
        parts.append(photo.label)
    stem = " ".join(_NOT_IN_NAMES.sub(" ", part) for part in parts)
    stem = re.sub(r"\s+", " ", stem).strip().rstrip(". ")
    return stem[:NAME_MAX].rstrip(". ") or day.isoformat()


def _export(repo: Any, args: Any) -> int:
    from needledesk.store.targets import refuse_protected_target
    from needledesk.transfer import write_private

    # On the clinic server there is no database file or photo folder on this PC to protect.
    db_path = None if repo.on_server else repo.path
    if db_path is not None:
        refuse_protected_target(args.output, db_path)
    try:
        client = repo.get_client(args.client)
    except NotFoundError:
        raise NeedleDeskError(f"there is no client with the id “{args.client}”; nothing was "
                              "written") from None
    if args.use != "record":
        refusal = use_refusal(repo.consents(client.id), date.today(), EXPORT_USES[args.use])
        if refusal is not None:
            raise NeedleDeskError(f"{refusal} Nothing was written.")
    photos = repo.photos(client_id=client.id)
    name = f"{client.first_name} {client.last_name}".strip()
    if not photos:
        print(f"{name} has no photos; nothing was written")
        return 0
    days = {s.id: s.started_at.date() for s in repo.sessions(client.id)}
    for photo in photos:   # every picture as it was stored, before the first file is written
        repo.photo_bytes(photo)
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise NeedleDeskError(f"{folder} is a file, not a folder; nothing was written")
    made = not folder.exists()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if made:
            _private(folder)
    except OSError as exc:
        raise NeedleDeskError(f"{folder}: cannot be made ({exc.strerror})") from None
    taken: set[str] = {p.name.casefold() for p in folder.iterdir()}
    written = 0
    for photo in sorted(photos, key=lambda p: (days.get(p.session_id, date.min),
                                               list(PhotoView).index(p.view), p.added_at)):
        day = days.get(photo.session_id, photo.added_at.date())
        stem = file_stem(day, photo, name if args.use == "record" else None)
        ext = EXTENSIONS.get(photo.media_type, ".jpg")
        target, n = f"{stem}{ext}", 1
        while target.casefold() in taken:   # never over a file already there
            n += 1
            target = f"{stem} ({n}){ext}"
        taken.add(target.casefold())
        path = folder / target
        if db_path is not None:
            refuse_protected_target(path, db_path)
        write_private(path, repo.photo_bytes(photo))
        print(path)
        written += 1
    print(f"exported {count_text(written, 'photo')} of {name} to {folder}"
          + ("" if args.use == "record" else f" for {args.use} (file names without the "
             "client's name)"))
    return 0


def _private(folder: Path) -> None:
    if os.name == "posix":
        os.chmod(folder, 0o700)

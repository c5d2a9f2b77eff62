"""Recovery drafts: a session the clinic server could not take when the window closed.

While the server is away the editor keeps its entries and retries; if the window (or the
editor) is closed before the server is back, the unsaved session is written here, in the
user's own data folder (`recovery/`, user-only 0700; each file 0600, written atomically),
never into any record store. The next start on the same store offers each draft: saved
through the normal editor (validation, the version check and the audit trail apply), kept
for later, or discarded. A draft is never merged into the records silently.

A draft is one JSON file: the session in the exchange encoding (`exchange.encode_session`),
the client's id, the store's address (the server's URL without password, or the file's
path), the practitioner, the session's version when it was last opened or saved (the
`expected=` of the save it was waiting for) and what was pending (a draft or an
amendment, with its reason). No Qt here.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from needledesk.domain.model import Session
from needledesk.errors import NeedleDeskError

FOLDER = "recovery"
FORMAT = "needledesk-recovery-draft"
VERSION = 1


@dataclass(frozen=True)
class RecoveryDraft:
    """One unsaved session kept on this PC for this user."""

    path: Path
    store: str
    client_id: str
    session: dict[str, Any]
    practitioner: str
    #: The session's version (audit seq) when it was last opened or saved; 0 for a new one.
    version: int | None
    #: "draft" (a draft's save) or "amend" (an amendment, with `reason`).
    pending: str
    reason: str
    kept_at: datetime

    @property
    def session_id(self) -> str:
        return str(self.session.get("id", ""))

    def decoded(self) -> Session:
        """The session itself (the exchange format's rules applied to the kept entries)."""
        from needledesk.exchange import _decode_session, _Reader

        reader = _Reader()
        session = _decode_session(reader, self.session, "session", self.client_id, {})
        if session is None or reader.problems:
            raise NeedleDeskError(f"The recovery draft {self.path.name} cannot be read back: "
                                  f"{reader.problems[0] if reader.problems else 'no session'}")
        return session


def folder(base: Path | None = None) -> Path:
    """Where recovery drafts are kept: `recovery/` in the user's data folder."""
    from needledesk.paths import data_dir

    return (base if base is not None else data_dir()) / FOLDER


def keep(store: str, client_id: str, session: dict[str, Any], practitioner: str,
         version: int | None, *, pending: str = "draft", reason: str = "",
         kept_at: datetime | None = None, base: Path | None = None) -> Path:
    """Write one recovery draft (user-only, atomically) and return its path. A later draft
    of the same session on the same store replaces the earlier one."""
    from needledesk.paths import ensure_private_dir
    from needledesk.transfer import write_private

    where = ensure_private_dir(folder(base))
    if os.name == "posix":
        os.chmod(where, 0o700)
    document = {
        "format": FORMAT, "version": VERSION, "store": store, "client_id": client_id,
        "practitioner": practitioner, "session_version": version, "pending": pending,
        "reason": reason,
        "kept_at": (kept_at or datetime.now()).replace(microsecond=0).isoformat(),
        "session": session,
    }
    for earlier in drafts(store, base=base):
        if earlier.session_id == str(session.get("id", "")):
            discard(earlier)
    path = where / f"session-{uuid.uuid4().hex}.json"
    write_private(path, json.dumps(document, ensure_ascii=False, indent=1))
    return path


def drafts(store: str, *, base: Path | None = None) -> list[RecoveryDraft]:
    """The recovery drafts kept for `store` (oldest first). A file that is not a draft is
    left alone and not offered."""
    where = folder(base)
    if not where.is_dir():
        return []
    found = []
    for path in sorted(where.glob("session-*.json")):
        draft = _read(path)
        if draft is not None and draft.store == store:
            found.append(draft)
    return sorted(found, key=lambda d: d.kept_at)


def _read(path: Path) -> RecoveryDraft | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return None
        version = document.get("session_version")
        return RecoveryDraft(
            path=path, store=str(document["store"]), client_id=str(document["client_id"]),
            session=dict(document["session"]),
            practitioner=str(document.get("practitioner") or ""),
            version=int(version) if version is not None else None,
            pending=str(document.get("pending") or "draft"),
            reason=str(document.get("reason") or ""),
            kept_at=datetime.fromisoformat(str(document["kept_at"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard(draft: RecoveryDraft) -> None:
    """Remove a draft (saved, or discarded by the practitioner)."""
    with contextlib.suppress(FileNotFoundError):
        draft.path.unlink()

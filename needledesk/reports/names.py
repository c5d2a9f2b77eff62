"""Default file names for the PDFs: `2026-11-20 López Ana summary.pdf`.

Kept free of reportlab so the window can propose a name without loading it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from needledesk.domain.model import Client, Session

# Characters Windows refuses in a file name, and control characters.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_NAME_MAX = 150


def safe_file_name(text: str) -> str:
    """`text` as a file name on every system: forbidden characters become spaces, runs of
    spaces collapse, no leading or trailing dots or spaces; Unicode letters stay."""
    text = unicodedata.normalize("NFC", _FORBIDDEN.sub(" ", text))
    text = " ".join(text.split()).strip(" .")
    return text[:_NAME_MAX].rstrip(" .")


def _person(client: Client) -> str:
    return f"{client.last_name} {client.first_name}"


def default_summary_name(client: Client, session: Session) -> str:
    """`2026-11-20 López Ana summary.pdf`: the session's date, last name first."""
    stem = safe_file_name(f"{session.started_at.date().isoformat()} {_person(client)}")
    return f"{stem} summary.pdf"


def default_course_name(client: Client, today: date | None = None) -> str:
    """`2026-11-20 López Ana course record.pdf`, dated the day it is printed."""
    today = today or date.today()
    stem = safe_file_name(f"{today.isoformat()} {_person(client)}")
    return f"{stem} course record.pdf"

"""Text folding for search: case- and accent-insensitive, so `lopez` finds `López`."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

# Letters that carry no combining mark to strip (NFKD leaves them whole).
_EXTRA_FOLDS = str.maketrans(
    {
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "þ": "th",
    }
)


def fold(text: str) -> str:
    """Lower-case `text` and strip accents: `Nguyễn Đức` -> `nguyen duc`.

    Scripts without accents (Cyrillic, Greek) keep their letters, so a name typed in
    Cyrillic is found by Cyrillic typing; Greek tonos and Cyrillic й/ё fold like accents.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_EXTRA_FOLDS)


def digits(text: str | None) -> str:
    """The digits of a phone number, for matching `0100` against `+1 555 0100`."""
    return "".join(ch for ch in (text or "") if ch.isdigit())


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date | None) -> str:
    """`20 Nov 2026` whatever the process locale (strftime follows the one Qt sets), so the
    window, the PDFs and the messages read the same on every PC."""
    return "" if day is None else f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def moment_text(moment: datetime | None) -> str:
    """`20 Nov 2026 10:30`, like `day_text`."""
    return "" if moment is None else f"{day_text(moment)} {moment:%H:%M}"


#: Between a guideline's code and the practitioner's reason in an acknowledgement's text.
ACK_SEPARATOR = " — "


def compose_acknowledgement(code: str, reason: str = "") -> str:
    """The stored and exchanged text of an acknowledgement: `code — reason`, or `code` when
    no reason was given. `read_acknowledgement` turns it back into the two."""
    return f"{code}{ACK_SEPARATOR}{reason}" if reason else code


def read_acknowledgement(text: str) -> tuple[str, str]:
    """(code, reason) from an acknowledgement's text. Split at the first separator with a
    reason after it, so `compose_acknowledgement(*read_acknowledgement(t)) == t` for any
    text, older free-form ones included."""
    code, separator, reason = text.partition(ACK_SEPARATOR)
    return (code, reason) if separator and reason else (text, "")


def count_text(count: int, noun: str) -> str:
    """"1 client", "2 clients", "5,000 clients": a count as people say it."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")

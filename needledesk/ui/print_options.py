"""What the summary is printed with, chosen per PC: the page of today's photos.

Kept apart from `printing` (which loads QtPdf and the print support) so that opening a
session reads the choice without loading them.
"""

from __future__ import annotations

from collections.abc import Callable

#: QSettings key: whether the session summary is printed with a page of today's photos.
SUMMARY_PHOTOS_KEY = "summary_photos"


def summary_photos_wanted(state) -> bool:
    """Whether this PC prints the summary with its photo page (off until chosen: the
    handout is one page, and photos go on paper only when asked for)."""
    return bool(state is not None and state.value(SUMMARY_PHOTOS_KEY, False, type=bool))


def remember_summary_photos(state, on: bool) -> None:
    if state is not None:
        state.setValue(SUMMARY_PHOTOS_KEY, bool(on))
        state.sync()


def summary_maker(session_id: str, photos: bool, notes: list[str]) -> Callable:
    """What builds a session's summary on the worker thread (`printing.build_off_thread`),
    with the page of today's photos when `photos`; why that page is left out, if it is,
    lands in `notes` (plain words, for the practitioner)."""
    def make(reader) -> bytes:
        from needledesk.reports.build import session_summary_pdf, summary_photos_note

        if not photos:
            return session_summary_pdf(reader, session_id)
        data = session_summary_pdf(reader, session_id, photos=True)
        note = summary_photos_note(reader, session_id)
        if note:
            notes.append(note)
        return data
    return make

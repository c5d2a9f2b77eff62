"""The clinic's printed lists: who is due (to ring), and who received a recalled lot.

Each is a table of clients with their phone numbers under the clinic's header, as many pages
as it needs (the header row repeated, "Page n of N" at the foot), in the clinic's page size.
Names in any alphabet print through the fonts module, as in the other PDFs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from io import BytesIO
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Spacer,
)

from needledesk.domain.list_text import (
    due_count_text,
    due_session_text,
    kind_text,
    recall_count_text,
    recall_filter_text,
    state_text,
)
from needledesk.domain.model import ProductKind
from needledesk.domain.safety import DueRow, DueState, RecallRow
from needledesk.reports.layout import (
    DRAFT_HEX,
    FitTable,
    Styles,
    clinic_header,
    grid_style,
    numbered_canvas,
    one_frame_document,
    page_foot,
    page_size,
    section,
    styles,
)
from needledesk.reports.names import safe_file_name
from needledesk.reports.text import Paragraph, fmt_day, markup
from needledesk.settings import ClinicSettings

_MARGIN_X = 16 * mm
_MARGIN_TOP = 14 * mm
_MARGIN_BOTTOM = 18 * mm


def default_due_name(today: date) -> str:
    """`2026-12-01 who is due.pdf`."""
    return f"{today.isoformat()} who is due.pdf"


def default_recall_name(lot: str, today: date) -> str:
    """`2026-12-01 recall of lot HA-0923.pdf`."""
    return f"{safe_file_name(f'{today.isoformat()} recall of lot {lot.strip()}')}.pdf"


def due_list_pdf(rows: Sequence[DueRow], settings: ClinicSettings, *, today: date,
                 within_days: int = 0) -> bytes:
    """The due list as PDF bytes: the courses due, overdue (and upcoming within
    `within_days`), then the lapsed ones in a section of their own."""
    st = styles()
    active = [r for r in rows if r.state is not DueState.LAPSED]
    lapsed = [r for r in rows if r.state is DueState.LAPSED]
    within = (f"; also those due within {within_days} day{'s' if within_days != 1 else ''}"
              if within_days else "")
    story = _header(settings, st, "Who is due", f"On {fmt_day(today)}{within}")
    story.append(Paragraph(f"<b>{markup(due_count_text(rows))}</b>", st.body))
    story += _heading("Due and overdue", st)
    story += _due_table(active, st) if active else [
        Paragraph("No course is due or overdue.", st.body)]
    if lapsed:
        story += _heading("Lapsed courses", st)
        story.append(Paragraph(
            "No session for longer than the clinic's limit past the day the next one was "
            "due.", st.small))
        story.append(Spacer(1, 3))
        story += _due_table(lapsed, st)
    return _build(story, settings, today, title="Who is due")


def recall_list_pdf(rows: Sequence[RecallRow], lot: str, settings: ClinicSettings, *,
                    today: date, kinds: Iterable[ProductKind] | None = None,
                    start: date | None = None, end: date | None = None) -> bytes:
    """The clients who received `lot`, one row per use, with their phone numbers."""
    st = styles()
    title = f"Recall of lot {lot.strip()}"
    story = _header(settings, st, title, recall_filter_text(kinds, start, end))
    story.append(Paragraph(f"<b>{markup(recall_count_text(rows))}</b>", st.body))
    story.append(Spacer(1, 6))
    if rows:
        head = ["Date", "Client", "Phone", "Product", "Lot", "Note"]
        data: list[list[Any]] = [[Paragraph(h, st.head) for h in head]]
        for r in rows:
            product = (markup(r.product) or "—") + \
                f'<br/><font color="#66737A" size="7">{kind_text(r.kind)}</font>'
            marks = []
            if r.amended:
                marks.append(f'<font color="{DRAFT_HEX}"><b>amended</b></font>')
            if not r.signed:
                marks.append("draft")
            data.append([fmt_day(r.started_at.date()),
                         Paragraph(f"<b>{markup(r.client_name)}</b>", st.cell),
                         Paragraph(markup(r.phone) or "—", st.cell),
                         Paragraph(product, st.cell),
                         Paragraph(markup(r.lot), st.cell),
                         Paragraph(", ".join(marks), st.cell)])
        table = FitTable(data, colWidths=["13%", "23%", "19%", None, "13%", "11%"],
                         repeatRows=1)
        table.setStyle(grid_style())
        story.append(table)
    return _build(story, settings, today, title=title)


# --- parts --------------------------------------------------------------------------------

def _heading(title: str, st: Styles) -> list[Flowable]:
    """A section heading before a long table: a new page when fewer than a few rows' room is
    left, never kept with the whole table (which would leave a page blank)."""
    flowables = section(title, st)
    for flowable in flowables:
        flowable.keepWithNext = False
    return [CondPageBreak(70), *flowables]


def _due_table(rows: Sequence[DueRow], st: Styles) -> list[Flowable]:
    head = ["Client", "Phone", "Concern", "Session", "Last session", "Due", "State"]
    data: list[list[Any]] = [[Paragraph(h, st.head) for h in head]]
    for r in rows:
        data.append([Paragraph(f"<b>{markup(r.client_name)}</b>", st.cell),
                     Paragraph(markup(r.phone) or "—", st.cell),
                     Paragraph(markup(r.concern), st.cell),
                     due_session_text(r),
                     fmt_day(r.last_session) or "none yet",
                     fmt_day(r.due_on),
                     Paragraph(markup(state_text(r)), st.cell)])
    table = FitTable(data, colWidths=["20%", "18%", None, "9%", "13%", "12%", "17%"],
                     repeatRows=1)
    table.setStyle(grid_style())
    return [table]


def _header(settings: ClinicSettings, st: Styles, title: str, subtitle: str) -> list[Flowable]:
    """The clinic on the left, the list's title (plain text) on the right."""
    return clinic_header(settings, st, markup(title), markup(subtitle),
                         logo_size=(40 * mm, 18 * mm), title_width="45%",
                         title_width_alone="50%")


def _build(story: list[Flowable], settings: ClinicSettings, today: date, *, title: str) -> bytes:
    width, height = page_size(settings)
    foot = f"{settings.clinic_name} · {title} · printed {fmt_day(today)}"

    def page_marks(canvas: Canvas, total: int, _continued: str | None) -> None:
        _foot(canvas, foot, total, width)

    buffer = BytesIO()
    doc = one_frame_document(
        buffer, settings, (width, height), margin_x=_MARGIN_X, margin_top=_MARGIN_TOP,
        margin_bottom=_MARGIN_BOTTOM, title=title, template="list")
    doc.build(story, canvasmaker=numbered_canvas(page_marks))
    return buffer.getvalue()


def _foot(canvas: Canvas, text: str, total: int, width: float) -> None:
    canvas.saveState()
    page_foot(canvas, _MARGIN_X, width - _MARGIN_X, 10 * mm,
              f"Confidential: clients' names and phone numbers · {text}",
              f"Page {canvas.getPageNumber()} of {total}")
    canvas.restoreState()

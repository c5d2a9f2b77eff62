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
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageTemplate,
    Spacer,
    TableStyle,
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
from needledesk.reports.fonts import REGULAR, draw_string
from needledesk.reports.layout import (
    ACCENT,
    DRAFT_HEX,
    INK,
    MUTED,
    RULE,
    FitTable,
    Logo,
    Styles,
    grid_style,
    logo_image,
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
    story = _header(settings, st, "Who is due",
                    f"On {fmt_day(today)}{within}")
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
    """The clinic (logo, name, address, phone) on the left, the list's title on the right."""
    clinic: list[Flowable] = [Paragraph(markup(settings.clinic_name), st.clinic)]
    contact = [line for line in (settings.address, settings.phone) if line and line.strip()]
    clinic += [Paragraph(markup(line.strip()), st.small) for line in contact]
    heading = [Paragraph(markup(title), st.doc_title), Paragraph(markup(subtitle), st.doc_sub)]
    image = logo_image(settings.logo) if settings.logo else None
    cells: list[list[Any]]
    if image is not None:
        logo = Logo(image, 40 * mm, 18 * mm)
        cells, widths = [[logo, clinic, heading]], [logo.width + 5 * mm, None, "45%"]
    else:
        cells, widths = [[clinic, heading]], [None, "50%"]
    table = FitTable(cells, colWidths=widths)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, ACCENT),
    ]))
    return [table, Spacer(1, 8)]


def _build(story: list[Flowable], settings: ClinicSettings, today: date, *, title: str) -> bytes:
    width, height = page_size(settings)
    buffer = BytesIO()
    doc = BaseDocTemplate(
        buffer, pagesize=(width, height), leftMargin=_MARGIN_X, rightMargin=_MARGIN_X,
        topMargin=_MARGIN_TOP, bottomMargin=_MARGIN_BOTTOM, title=title,
        author=settings.clinic_name, creator="NeedleDesk")
    frame = Frame(_MARGIN_X, _MARGIN_BOTTOM, width - 2 * _MARGIN_X,
                  height - _MARGIN_TOP - _MARGIN_BOTTOM, leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate("list", [frame])])
    foot = f"{settings.clinic_name} · {title} · printed {fmt_day(today)}"

    class NumberedCanvas(Canvas):
        """Holds its pages back until the end, so each can say "of N"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._held.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's, not in its stubs

        def save(self) -> None:
            total = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                _foot(self, foot, total, width)
                super().showPage()
            super().save()

    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def _foot(canvas: Canvas, text: str, total: int, width: float) -> None:
    canvas.saveState()
    left, right, bottom = _MARGIN_X, width - _MARGIN_X, 10 * mm
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, bottom + 9, right, bottom + 9)
    canvas.setFillColor(MUTED)
    draw_string(canvas, left, bottom, f"Confidential: clients' names and phone numbers · {text}",
                REGULAR, 7)
    canvas.setFillColor(INK)
    draw_string(canvas, right, bottom, f"Page {canvas.getPageNumber()} of {total}", REGULAR,
                7.5, align="right")
    canvas.restoreState()

"""The reactions report as PDF: reactions by depth band and by product and lot over a period,
with a small bar chart of the share of sessions with a reaction, so a clinic notices a bad
lot or a depth that is too much.

Plain reportlab on the counted report (`domain.reactions_report`); the window counts it
(`store.reactions`) and hands it here with the clinic settings.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Spacer,
)

from needledesk.domain.reactions_report import (
    DEPTH_BAND_SHORT,
    RANKED_SESSIONS,
    ReactionCounts,
    ReactionsReport,
    percent_text,
)
from needledesk.domain.text import count_text
from needledesk.reports.fonts import BOLD, REGULAR
from needledesk.reports.layout import (
    DRAFT,
    INK,
    MUTED,
    RULE,
    FitTable,
    Styles,
    clinic_header,
    grid_style,
    one_frame_document,
    page_foot,
    page_size,
    section,
    styles,
)
from needledesk.reports.text import Paragraph, fmt_day, markup
from needledesk.settings import ClinicSettings

TITLE = "Reactions report"
_MARGIN_X = 16 * mm
_MARGIN_TOP = 16 * mm
_MARGIN_BOTTOM = 16 * mm
_BAR = colors.HexColor("#1E5A66")
_BAR_ABOVE = DRAFT
_TRACK = colors.HexColor("#EDF3F4")


def how_counted(report: ReactionsReport) -> str:
    """The note under the tables: how sessions are counted."""
    return (
        "A reaction is one recorded as mild, moderate or severe (severity 0, none, is not "
        f"counted). A session is counted as with a reaction when it had "
        f"{report.reaction_phrase}; the mild, moderate and severe columns count every "
        "reaction. A session counts once for each product and lot it used (each serum, the "
        "numbing cream and the needle cartridge), and once in each depth band one of its "
        "treated areas falls in. Lots are matched ignoring case and surrounding spaces. "
        "The depth bands follow the usual depth per area in the clinic's settings.")


def render_reactions_report(report: ReactionsReport, settings: ClinicSettings, *,
                            today: date | None = None) -> bytes:
    """The report as PDF bytes, in `settings.page_size`."""
    today = today or date.today()
    st = styles()
    width, height = page_size(settings)
    frame_w = width - 2 * _MARGIN_X

    story = clinic_header(settings, st, TITLE, report.period_text,
                          logo_size=(40 * mm, 16 * mm), title_width=60 * mm, space_after=6)
    story.append(Paragraph(totals_text(report.total), st.body))
    if report.total.sessions:
        story += _bands_table(report, st, frame_w)
        story += [Spacer(1, 6), KeepTogether([
            Paragraph(chart_caption(report), st.label),
            reactions_chart(report, frame_w)])]
        story += _lots_table(report, st, frame_w)
        story += [Spacer(1, 8), Paragraph(how_counted(report), st.small)]

    def foot(canvas: Canvas, _doc: object) -> None:
        canvas.saveState()
        page_foot(canvas, _MARGIN_X, width - _MARGIN_X, 9 * mm,
                  f"{settings.clinic_name} · {TITLE} · {report.period_text} · "
                  f"printed {fmt_day(today)}", f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    buffer = BytesIO()
    doc = one_frame_document(
        buffer, settings, (width, height), margin_x=_MARGIN_X, margin_top=_MARGIN_TOP,
        margin_bottom=_MARGIN_BOTTOM, title=f"{TITLE} — {report.period_text}",
        template="reactions", on_page=foot)
    doc.build(story)
    return buffer.getvalue()


def chart_caption(report: ReactionsReport) -> str:
    """`Share of sessions with a moderate or severe reaction`."""
    return f"Share of sessions with {report.reaction_phrase}"


def totals_text(total: ReactionCounts) -> str:
    """`205 sessions in the period; 11 with a moderate or severe reaction (5.4%): 230 mild,
    9 moderate and 2 severe reactions.`"""
    if not total.sessions:
        return "No session was recorded in this period."
    text = (f"{count_text(total.sessions, 'session')} in the period; "
            f"{total.with_reaction:,} with {total.reaction_phrase} ({total.share_text})")
    if not total.reactions:
        return text + "."
    return (text + f": {total.mild:,} mild, {total.moderate:,} moderate and "
            f"{total.severe:,} severe reaction{'s' if total.severe != 1 else ''}.")


def _head(titles: list[str], st: Styles, first: int, last: int) -> list[Any]:
    """Header cells that wrap (`With a reaction` on two lines), numbers' flush right."""
    return [Paragraph(t, st.head_right if first <= i <= last else st.head)
            for i, t in enumerate(titles)]


def _numbers_style(table: FitTable, first: int, last: int) -> None:
    table.setStyle([("ALIGN", (first, 1), (last, -1), "RIGHT")])


def _bands_table(report: ReactionsReport, st: Styles, frame_w: float) -> list[Flowable]:
    data: list[list[Any]] = [_head(["Depth band", "Areas", "Sessions", report.counted_title,
                                    "Share", "Mild", "Moderate", "Severe", "Worst reactions"],
                                   st, 1, 7)]
    for row in report.bands:
        c = row.counts
        data.append([Paragraph(row.label, st.cell_bold), f"{row.areas:,}", f"{c.sessions:,}",
                     f"{c.with_reaction:,}", c.share_text, f"{c.mild:,}", f"{c.moderate:,}",
                     f"{c.severe:,}", Paragraph(markup(c.worst_text()) or "—", st.cell)])
    table = FitTable(data, colWidths=["22%", "7%", "9%", "10%", "8%", "6%", "11%", "8%", None],
                     repeatRows=1, splitInRow=1)
    table.setStyle(grid_style())
    _numbers_style(table, 1, 7)
    return [*section("By depth band", st), table]


def _lots_table(report: ReactionsReport, st: Styles, frame_w: float) -> list[Flowable]:
    data: list[list[Any]] = [_head(["Product", "Lot", "Sessions", report.counted_title, "Share",
                                    "Severe", "Worst reactions"], st, 2, 5)]
    for row in report.lots:
        c = row.counts
        product = (f"{markup(row.product_text)}<br/>"
                   f'<font color="#66737A" size="7">{markup(row.kind_text)}</font>')
        data.append([Paragraph(product, st.cell_bold), Paragraph(markup(row.lot_text), st.cell),
                     f"{c.sessions:,}", f"{c.with_reaction:,}", c.share_text, f"{c.severe:,}",
                     Paragraph(markup(c.worst_text()) or "—", st.cell)])
    table = FitTable(data, colWidths=["25%", "15%", "9%", "10%", "8%", "8%", None],
                     repeatRows=1, splitInRow=1)
    table.setStyle(grid_style())
    _numbers_style(table, 2, 5)
    heading = section("By product and lot", st)
    note = Paragraph(f"Lots used on {RANKED_SESSIONS} sessions or more first, then the "
                     f"others; in each, the highest share of sessions with "
                     f"{report.reaction_phrase} first, then the most used.", st.small)
    return [*heading, note, Spacer(1, 3), table]


def _fit(label: str, width: float, size: float) -> str:
    if stringWidth(label, REGULAR, size) <= width:
        return label
    while label and stringWidth(label + "…", REGULAR, size) > width:
        label = label[:-1]
    return label + "…"


def reactions_chart(report: ReactionsReport, frame_w: float) -> Drawing:
    """Two groups of horizontal bars, side by side: the share of sessions with a reaction
    by depth band, and for the most used lots. Each bar is labelled with its share and its
    sessions."""
    bands = [(DEPTH_BAND_SHORT[b.band], b.counts, b.band.value == "above") for b in report.bands]
    lots = [(row.name, row.counts, False) for row in report.chart_lots()]
    rows = max(len(bands), len(lots), 1)
    bar_h, gap = 9.0, 4.0
    height = 16 + rows * (bar_h + gap)
    drawing = Drawing(frame_w, height)
    left = (frame_w - 12) * 0.4
    _bar_group(drawing, "By depth band", bands, 0, left, height, bar_h, gap, label_w=48)
    _bar_group(drawing, f"The {len(lots)} most used lots", lots, left + 12,
               frame_w - left - 12, height, bar_h, gap, label_w=150)
    return drawing


def _bar_group(drawing: Drawing, title: str, bars: list[tuple[str, ReactionCounts, bool]],
               x: float, width: float, height: float, bar_h: float, gap: float, *,
               label_w: float) -> None:
    drawing.add(String(x, height - 9, title, fontName=BOLD, fontSize=7.5, fillColor=MUTED))
    value_w = 62.0
    x0 = x + label_w + 4
    track_w = width - label_w - 4 - value_w
    # types-reportlab gives Rect's **kw the TypedDict itself (no Unpack): no keyword fits.
    def filled(colour: colors.Color) -> Any:
        return {"strokeColor": None, "fillColor": colour}

    y = height - 16 - bar_h
    for label, counts, warn in bars:
        drawing.add(String(x + label_w, y + 2, _fit(label, label_w - 2, 7), fontName=REGULAR,
                           fontSize=7, fillColor=INK, textAnchor="end"))
        drawing.add(Rect(x0, y, track_w, bar_h, **filled(_TRACK)))
        if counts.share:
            drawing.add(Rect(x0, y, max(track_w * counts.share, 1.0), bar_h,
                             **filled(_BAR_ABOVE if warn else _BAR)))
        value = (f"{percent_text(counts.share)} of {counts.sessions:,}" if counts.sessions
                 else "no session")
        drawing.add(String(x0 + track_w + 4, y + 2, value, fontName=REGULAR, fontSize=7,
                           fillColor=INK))
        y -= bar_h + gap
    drawing.add(Line(x0, height - 14, x0, y + bar_h + gap - 2, strokeColor=RULE,
                     strokeWidth=0.5))

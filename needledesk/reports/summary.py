"""The session summary: the one-page handout the client takes home.

Always one page: when a session holds more than a page can take (many areas, reactions,
aftercare items), the whole body is scaled down to fit rather than spilling onto a second
sheet. The practitioner's session notes are clinical and internal: they are in the course
record, not on the client's handout. Today's face chart (where and how deep) stands beside
the table of treated areas, and shrinks with the rest of the page when the page is full.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepInFrame,
    PageBreak,
    Spacer,
    TableStyle,
)

from needledesk.domain.course import next_due, session_number
from needledesk.domain.face_chart import chart_data
from needledesk.domain.labels import amendment_lines
from needledesk.domain.model import Client, Consent, Course, Photo, Screening, Session
from needledesk.domain.visit import check_text
from needledesk.exchange import encode_session
from needledesk.reports.face_chart import chart_drawing, chart_height, legend_width
from needledesk.reports.fonts import BOLD, REGULAR, draw_string, string_width
from needledesk.reports.layout import (
    ACCENT,
    DRAFT,
    DRAFT_HEX,
    DRAFT_SHADE,
    INK,
    MUTED,
    RULE,
    SHADE,
    FitTable,
    Styles,
    clinic_header,
    grid_style,
    one_frame_document,
    page_size,
    plain_style,
    section,
    styles,
)
from needledesk.reports.photos import PhotoData, photo_grid, shown_refusal, summary_photos
from needledesk.reports.text import (
    Paragraph,
    fmt_clock,
    fmt_day,
    fmt_depth,
    fmt_moment,
    markup,
    observed_word,
    severity_word,
    truncate,
)
from needledesk.settings import ClinicSettings

DRAFT_MARK = "Draft — not signed off"
WHAT_TO_EXPECT = (
    "Redness, tightness and sensitivity are normal after microneedling, much like a mild "
    "sunburn. They usually settle within hours and are largely gone within one to three "
    "days. Some dryness or light flaking may follow for a few days. Results build gradually "
    "over the next six to eight weeks as new collagen forms."
)
#: The handout is read by the client at home: a size up from the clinical record.
SCALE = 10 / 9
REACTION_NOTE_LIMIT = 140

_MARGIN_X = 18 * mm
_MARGIN_TOP = 14 * mm
_FOOT = 30 * mm  # signature line and footer, drawn on the canvas below the frame
#: Today's face chart beside the treated areas: the drawing this wide, its legend beside it.
_CHART_FACE_W = 40 * mm


#: Tables size their columns afresh for every width offered, so shrinking the page to fit
#: scales them with the text, and never by a long word (see `FitTable`).
_Table = FitTable


def render_session_summary(client: Client, session: Session, sessions: list[Session],
                           courses: list[Course], settings: ClinicSettings, *,
                           today: date | None = None,
                           screenings: Sequence[Screening] = (),
                           photos: Sequence[Photo] = (), photo_data: PhotoData | None = None,
                           consents: Sequence[Consent] = ()) -> bytes:
    """The handout for `session` as PDF bytes: one page, `settings.page_size`. The
    screening re-confirmed at the visit, if any, is named by its date among the client's
    `screenings`. Given the session's `photos`, `photo_data` to read them and the client's
    `consents`, a second page shows today's photos when the client's photo consent allows
    showing them (`reports.photos.shown_refusal`)."""
    today = today or date.today()
    st = styles(SCALE)
    width, height = page_size(settings)
    frame_w = width - 2 * _MARGIN_X
    frame_h = height - _MARGIN_TOP - _FOOT
    course = next((c for c in courses if c.id == session.course_id), None)

    body = [*clinic_header(settings, st, "Session summary", "Your treatment and aftercare",
                           logo_size=(45 * mm, 20 * mm), title_width=52 * mm),
            *_identity(client, session, sessions, course, st)]
    body += _treatment(session, st, screenings, settings)
    body += _reactions(session, st)
    body += _corrections(session, st)
    body += section("What to expect", st) + [Paragraph(WHAT_TO_EXPECT, st.body)]
    body += _aftercare(session, settings, st)
    body += _next_session(session, sessions, course, settings, st)

    def decorate(canvas: Canvas, _doc: object) -> None:
        _draw_foot(canvas, session, settings, today, width)

    buffer = BytesIO()
    doc = one_frame_document(
        buffer, settings, (width, height), margin_x=_MARGIN_X, margin_top=_MARGIN_TOP,
        margin_bottom=_FOOT, title=f"Session summary — {client.full_name}",
        template="summary", on_page=decorate)
    story: list[Flowable] = [KeepInFrame(frame_w, frame_h, body, mode="shrink")]
    if photo_data is not None and photos and shown_refusal(photos, consents, today) is None:
        story += [PageBreak(), _photo_page(client, session, photos, photo_data, st, frame_w,
                                           frame_h)]
    doc.build(story)
    return buffer.getvalue()


def _photo_page(client: Client, session: Session, photos: Sequence[Photo], read: PhotoData,
                st: Styles, frame_w: float, frame_h: float) -> Flowable:
    """The second page: up to six of today's photos, each captioned by its view."""
    shown = summary_photos(photos)
    head = [*section("Today's photos", st), Paragraph(
        f"{markup(client.full_name)} · {fmt_day(session.started_at.date())}"
        + (f" · {len(shown)} of the session's {len([p for p in photos if not p.removed])} "
           "photos" if len(shown) < len([p for p in photos if not p.removed]) else ""),
        st.small), Spacer(1, 8)]
    used = sum(f.wrap(frame_w, frame_h)[1] + f.getSpaceBefore() + f.getSpaceAfter()
               for f in head)
    grid = photo_grid(shown, read, st, frame_w, frame_h - used - 4)
    return KeepInFrame(frame_w, frame_h, [*head, grid], mode="shrink")


def _initial_capital(text: str) -> str:
    """`cheeks` -> `Cheeks` for the handout; anything typed with capitals stays as typed."""
    text = text.strip()
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _identity(client: Client, session: Session, sessions: list[Session],
              course: Course | None, st: Styles) -> list[Flowable]:
    n, of = session_number(session, sessions, course)
    number = f"Session {n} of {of}" if of else f"Session {n}"
    if course is not None:
        number += f" · {markup(course.concern)}"
        if course.ended_on is not None:
            number += f" · ended early on {fmt_day(course.ended_on)}"
    rows = [
        ("Client", f"<b>{markup(client.full_name)}</b>", "Session date",
         fmt_moment(session.started_at)),
        ("Date of birth", fmt_day(client.date_of_birth) or "—", "Practitioner",
         markup(session.practitioner)),
        ("Course", number, "Status", "Signed off" if session.is_signed else
         f'<font color="{DRAFT_HEX}"><b>{DRAFT_MARK}</b></font>'),
    ]
    data = [[Paragraph(a, st.label), Paragraph(b, st.body), Paragraph(c, st.label),
             Paragraph(d, st.body)] for a, b, c, d in rows]
    table = _Table(data, colWidths=[24 * mm, None, 25 * mm, None])
    table.setStyle(plain_style(("TOPPADDING", (0, 0), (-1, 0), 0)))
    flowables: list[Flowable] = []
    if not session.is_signed:
        banner = _Table([[Paragraph(
            f'<font color="{DRAFT_HEX}"><b>{DRAFT_MARK}.</b></font> '
            "The practitioner has not yet checked and signed off this record.", st.body)]])
        banner.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), DRAFT_SHADE),
            ("BOX", (0, 0), (-1, -1), 0.8, DRAFT),
            ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ]))
        flowables += [banner, Spacer(1, 6)]
    return [*flowables, table]


def _treatment(session: Session, st: Styles, screenings: Sequence[Screening] = (),
               settings: ClinicSettings | None = None) -> list[Flowable]:
    head = ["Treated area", "Needle depth", "Passes", "Endpoint reached"]
    data = [[Paragraph(h, st.head) for h in head]]
    for area in session.areas:
        data.append([Paragraph(markup(_initial_capital(area.area)), st.cell),
                     Paragraph(fmt_depth(area.depth_mm), st.cell),
                     Paragraph(str(area.passes) if area.passes is not None else "—", st.cell),
                     Paragraph(markup(area.endpoint) if area.endpoint else "—", st.cell)])
    table = _Table(data, colWidths=["31%", "19%", "15%", None],
                  repeatRows=1)
    table.setStyle(grid_style())
    lines = []
    a = session.anaesthetic
    if a is not None:
        detail = markup(a.product) + (f" (lot {markup(a.lot)})" if a.lot else "")
        if a.contact_minutes is not None:
            detail += (f", on the skin for {a.contact_minutes} min "
                       f"({fmt_clock(a.applied_at)}–{fmt_clock(a.removed_at)})")
        else:
            detail += f", applied at {fmt_clock(a.applied_at)}"
        lines.append(("Numbing cream", detail))
    if session.serums:
        lines.append(("Serums applied", "; ".join(
            markup(s.product) + (f" (lot {markup(s.lot)})" if s.lot else "")
            for s in session.serums)))
    if session.combined_with:
        lines.append(("Combined with", ", ".join(markup(x) for x in session.combined_with)))
    if session.screening_check is not None:
        # the same line as the editor's and the course record's (domain.visit.check_text)
        lines.append(("Screening",
                      markup(check_text(session.screening_check, screenings))))
    details = []
    if lines:
        rows = [[Paragraph(k, st.label), Paragraph(v, st.body)] for k, v in lines]
        details_table = _Table(rows, colWidths=[30 * mm, None])
        details_table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]))
        details = [Spacer(1, 5), details_table]
    chart = _chart(session, settings)
    if chart is None:
        return [*section("Today's treatment", st), table, *details]
    beside = _Table([[[table, *details], chart]], colWidths=[None, chart.width + 5 * mm])
    beside.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (0, -1), 5 * mm),
        ("RIGHTPADDING", (1, 0), (1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]))
    return [*section("Today's treatment", st), beside]


def _chart(session: Session, settings: ClinicSettings | None) -> Flowable | None:
    """Today's face chart with its legend, or None when no treated area has a zone on it
    (a body-only session: its table says it all)."""
    zones = settings.area_zones if settings is not None else None
    if not chart_data(session.areas, zones).zones:
        return None
    width = _CHART_FACE_W + 3 * mm + legend_width()
    drawing: Flowable = chart_drawing(session.areas, zones, width, chart_height(width))
    return drawing


def _reactions(session: Session, st: Styles) -> list[Flowable]:
    flowables = section("Reactions seen", st)
    if not session.reactions:
        return [*flowables, Paragraph("No reactions were recorded.", st.body)]
    for r in session.reactions:
        text = (f"<b>{markup(_initial_capital(r.kind))}</b> — {severity_word(r.severity)}, "
                f"{observed_word(r.observed)}")
        if r.notes.strip():
            text += f": {markup(truncate(r.notes, REACTION_NOTE_LIMIT))}"
        flowables.append(Paragraph(text, st.bullet, bulletText="•"))
    return flowables


def _corrections(session: Session, st: Styles) -> list[Flowable]:
    """What was corrected after sign-off, in the same lines as the course record."""
    if not session.amendments:
        return []
    plain = encode_session(session)
    flowables = section("Corrected after sign-off", st)
    for amendment in session.amendments:
        flowables.append(Paragraph(f"<b>{fmt_moment(amendment.at)}</b> — "
                                   f"{markup(truncate(amendment.reason, REACTION_NOTE_LIMIT))}",
                                   st.body))
        for line in amendment_lines(amendment, plain):
            flowables.append(Paragraph(markup(truncate(line, REACTION_NOTE_LIMIT)), st.bullet,
                                       bulletText="•"))
    return flowables


def _aftercare(session: Session, settings: ClinicSettings, st: Styles) -> list[Flowable]:
    flowables = section("Aftercare", st)
    if settings.aftercare_text.strip():
        flowables.append(Paragraph(markup(settings.aftercare_text.strip()), st.body))
    if session.aftercare:
        flowables += [Spacer(1, 4), Paragraph("Given to you today:", st.label)]
        items = [Paragraph(markup(item), st.bullet, bulletText="•") for item in session.aftercare]
        columns = 1 if len(items) <= 4 else 2 if len(items) <= 10 else 3
        depth = -(-len(items) // columns)
        rows = [[items[c * depth + r] if c * depth + r < len(items) else ""
                 for c in range(columns)] for r in range(depth)]
        table = _Table(rows, colWidths=[f"{100 / columns:.4f}%"] * columns)
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
        ]))
        flowables.append(table)
    return flowables


def next_session_text(session: Session, sessions: list[Session], course: Course | None,
                      settings: ClinicSettings) -> str:
    """`Next recommended session: from 1 Jan 2027 (6–8 weeks)`, or the course is complete."""
    n, of = session_number(session, sessions, course)
    if course is not None and course.ended_on is not None and \
            session.started_at.date() <= course.ended_on:
        return (f"Your course ended on {fmt_day(course.ended_on)} after session {n}"
                + (f" of {of}" if of else "") + ": no further session is planned in it.")
    if of is not None and n >= of:
        return (f"This completes your course of {of} session{'s' if of != 1 else ''}. "
                "Results keep developing over the next six to eight weeks.")
    weeks = course.interval_weeks if course else settings.default_interval_weeks
    due = next_due(session.started_at.date(), weeks)
    if due is None:
        return f"Next recommended session: in {weeks}–{weeks + 2} weeks"
    return f"Next recommended session: from {fmt_day(due)} ({weeks}–{weeks + 2} weeks)"


def _next_session(session: Session, sessions: list[Session], course: Course | None,
                  settings: ClinicSettings, st: Styles) -> list[Flowable]:
    text = next_session_text(session, sessions, course, settings)
    box = _Table([[Paragraph(f"<b>{text}</b>", st.body)]], colWidths=["100%"])
    box.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), SHADE),
        ("LINEBEFORE", (0, 0), (0, -1), 2.5, ACCENT),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    return [Spacer(1, 10), box]


def _draw_foot(canvas: Canvas, session: Session, settings: ClinicSettings, today: date,
               width: float) -> None:
    """The signature line (on the first page only) and the footer, pinned to the bottom of
    the page; on a draft also a faint diagonal mark across the page."""
    canvas.saveState()
    left, right = _MARGIN_X, width - _MARGIN_X
    if canvas.getPageNumber() == 1:   # the photo page has no signature line
        _draw_signature(canvas, session, left, right)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, 12 * mm, right, 12 * mm)
    canvas.setFillColor(MUTED)
    contact = " · ".join(x.strip().replace("\n", ", ") for x in
                         (settings.clinic_name, settings.phone) if x and x.strip())
    draw_string(canvas, left, 8 * mm, contact, REGULAR, 7)
    draw_string(canvas, right, 8 * mm, f"Printed {fmt_day(today)}", REGULAR, 7, align="right")
    if not session.is_signed:
        canvas.setFillColor(DRAFT)
        canvas.setFillAlpha(0.07)
        canvas.translate(width / 2, 130 * mm)
        canvas.rotate(35)
        canvas.setFont(BOLD, 110)
        canvas.drawCentredString(0, 0, "DRAFT")
    canvas.restoreState()


def _draw_signature(canvas: Canvas, session: Session, left: float, right: float) -> None:
    y = 19 * mm
    signed = fmt_moment(session.signed_at) if session.is_signed else ""
    # Left to right (so text extraction reads in order): the practitioner, the signature
    # line, then "Signed off: <date>" (or a blank to fill in) flush right.
    value_w = string_width(signed, REGULAR, 8.5) if signed else 30 * mm
    label_w = string_width("Signed off: ", REGULAR, 8.5)
    signed_x = right - value_w - label_w
    canvas.setFillColor(MUTED)
    used = draw_string(canvas, left, y, "Practitioner: ", REGULAR, 8.5)
    canvas.setFillColor(INK)
    draw_string(canvas, left + used, y, session.practitioner, BOLD, 8.5)
    mid = left + (right - left) * 0.40
    canvas.setFillColor(MUTED)
    used = draw_string(canvas, mid, y, "Signature:", REGULAR, 8.5)
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.5)
    canvas.line(mid + used + 4, y - 2, signed_x - 12, y - 2)
    draw_string(canvas, signed_x, y, "Signed off: ", REGULAR, 8.5)
    if signed:
        canvas.setFillColor(INK)
        draw_string(canvas, right - value_w, y, signed, REGULAR, 8.5)
    else:
        canvas.line(right - value_w, y - 2, right, y - 2)

"""The course record: a client's whole clinical record, as many pages as it needs.

Every session in order with everything recorded on it (device and lots, each area, the
anaesthetic's contact time, serums, reactions, aftercare, notes, amendments), after an
overview: the client, their courses and screenings, a depth-by-area table, a small chart
of depth over time and one face chart per session (reports/face_chart.py). Each page carries
the client's name and "Page n of N".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Spacer,
    Table,
    TableStyle,
)

from needledesk.domain.consent import (
    KIND_TEXT,
    all_consents,
    consent_age_text,
    consent_state,
    covering,
    signed_text,
)
from needledesk.domain.course import course_progress, session_number
from needledesk.domain.labels import acknowledgement_label, amendment_lines
from needledesk.domain.model import (
    ANSWER_TEXT,
    NOT_APPLICABLE,
    PHOTO_USES,
    SCREENING_QUESTIONS,
    Amendment,
    Client,
    Consent,
    ConsentKind,
    ConsentMethod,
    Course,
    Photo,
    Screening,
    Session,
)
from needledesk.domain.photos import USE_RECORD, first_and_latest, photo_consent, use_refusal
from needledesk.domain.text import fold
from needledesk.domain.visit import check_text
from needledesk.exchange import encode_session
from needledesk.reports.face_chart import depth_charts
from needledesk.reports.fonts import BOLD, REGULAR, draw_string, string_width
from needledesk.reports.layout import (
    ACCENT,
    DRAFT_HEX,
    INK,
    MUTED,
    RULE,
    SHADE,
    FitTable,
    Styles,
    grid_style,
    numbered_canvas,
    one_frame_document,
    page_foot,
    page_size,
    plain_style,
    section,
    styles,
)
from needledesk.reports.photos import PhotoData, before_after_pages
from needledesk.reports.text import Paragraph as _Paragraph
from needledesk.reports.text import (
    clean,
    fmt_clock,
    fmt_day,
    fmt_depth,
    fmt_moment,
    markup,
    observed_word,
    paragraphs,
    severity_word,
)
from needledesk.settings import ClinicSettings

_MARGIN_X = 16 * mm
_MARGIN_TOP = 20 * mm
_MARGIN_BOTTOM = 16 * mm
#: Areas per depth table: more would squeeze the columns; further areas get another table.
_AREAS_PER_TABLE = 6
_SERIES = [colors.HexColor(c) for c in (
    "#1E5A66", "#D1793B", "#4C8C4A", "#8E4A8C", "#C2A23A", "#3F6FB5", "#B3403A", "#6B7D86")]
#: Areas drawn in the depth chart (one line and legend entry each): more would not fit on a
#: page; the depth tables above it list every area.
_CHART_AREAS = 16
#: Free text longer than this flows after its table instead of sitting in a cell.
_CELL_MAX = 400
#: Sessions with more text than this are not kept on one page.
_KEEP_MAX = 4000
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}


class Paragraph(_Paragraph):
    """reportlab's Paragraph, laid out once per width. A record's paragraphs are measured
    again and again at the same width (KeepTogether's trial fit, the frame, the table's row
    heights, then its drawing), and breaking lines is most of a course record's time; the
    lines depend only on the width, the text and the style, none of which change here."""

    _wrapped_for: float | None = None

    def wrap(self, availWidth: float,  # noqa: N803 (reportlab's names)
             availHeight: float) -> tuple[float, float]:  # noqa: N803
        if availWidth == self._wrapped_for:
            return self.width, self.height
        size = super().wrap(availWidth, availHeight)
        self._wrapped_for = availWidth if hasattr(self, "blPara") else None
        return size


def render_course_record(client: Client, sessions: list[Session], courses: list[Course],
                         screenings: list[Screening], settings: ClinicSettings, *,
                         today: date | None = None,
                         consents: Sequence[Consent] | None = None,
                         photos: Sequence[Photo] = (),
                         photo_data: PhotoData | None = None) -> bytes:
    """The client's clinical record as PDF bytes, in `settings.page_size`. `consents`: the
    client's consents with those their screenings' ticks stand for
    (`repo.consents(id, carried=True)`); when not given, the screenings' ticks alone.
    `photos`: the client's live photos, and `photo_data` what reads one's bytes: with both,
    and a photo consent allowing photos in the record, a before-and-after page per view
    follows the sessions."""
    today = today or date.today()
    st = styles()
    width, height = page_size(settings)
    frame_w = width - 2 * _MARGIN_X
    ordered = sorted(sessions, key=lambda s: s.started_at)
    by_id = {c.id: c for c in courses}

    story: list[Flowable] = [Paragraph("Clinical record", st.title), Spacer(1, 2)]
    story += _client_block(client, st, frame_w)
    story += _courses_block(courses, ordered, settings, st, frame_w)
    story += _screenings_block(screenings, st, frame_w, today)
    story += _consents_block(all_consents([], screenings) if consents is None else consents,
                             settings, st, frame_w, today)
    if ordered:
        story += _depth_overview(ordered, st, frame_w)
        story += depth_charts(ordered, by_id, settings.area_zones, st, frame_w)
    heading = section("Sessions", st)
    if not ordered:
        story += [*heading, Paragraph("No session recorded yet.", st.body)]
    for session in ordered:
        story += _session_block(session, ordered, by_id.get(session.course_id or ""), settings,
                                st, frame_w, heading=heading, screenings=screenings)
        heading = []
    if photos and photo_data is not None:
        story += _photo_pages(photos, photo_data, ordered, courses, consents or (), today, st,
                              frame_w, height - _MARGIN_TOP - _MARGIN_BOTTOM)

    buffer = BytesIO()
    doc = one_frame_document(
        buffer, settings, (width, height), margin_x=_MARGIN_X, margin_top=_MARGIN_TOP,
        margin_bottom=_MARGIN_BOTTOM, title=f"Clinical record — {client.full_name}",
        template="record")

    def page_marks(canvas: Canvas, total: int, continued: str | None) -> None:
        _draw_page_marks(canvas, client, settings, today, width, height, total, continued)

    doc.build(story, canvasmaker=numbered_canvas(page_marks))
    return buffer.getvalue()


def _draw_page_marks(canvas: Canvas, client: Client, settings: ClinicSettings, today: date,
                     width: float, height: float, total: int, continued: str | None) -> None:
    canvas.saveState()
    left, right = _MARGIN_X, width - _MARGIN_X
    top = height - 11 * mm
    canvas.setFillColor(MUTED)
    used = draw_string(canvas, left, top, settings.clinic_name, REGULAR, 8)
    if continued:
        canvas.setFillColor(ACCENT)
        draw_string(canvas, left + used, top, f"  ·  {continued} (continued)", REGULAR, 8)
    name_w = string_width(client.full_name, BOLD, 8.5)
    canvas.setFillColor(MUTED)
    draw_string(canvas, right - name_w - 4, top, "Clinical record ·", REGULAR, 8, align="right")
    canvas.setFillColor(INK)
    draw_string(canvas, right - name_w, top, client.full_name, BOLD, 8.5)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(0.8)
    canvas.line(left, top - 4, right, top - 4)

    page_foot(canvas, left, right, 9 * mm,
              f"Confidential health record · printed {fmt_day(today)}",
              f"Page {canvas.getPageNumber()} of {total}")
    canvas.restoreState()


# --- overview -----------------------------------------------------------------------------

def _pairs(rows: list[tuple[str, str]], st: Styles, frame_w: float, *,
           wide: Sequence[tuple[str, str]] = (), label_w: float = 26 * mm) -> Table:
    """Label/value pairs, two to a row, then the `wide` pairs one to a row across the page
    (labels are plain text, values markup)."""
    def value(text: str) -> Paragraph:
        return Paragraph(text or "—", st.cell)

    data = []
    for i in range(0, len(rows), 2):
        row = [x for label, text in rows[i:i + 2] for x in (label, value(text))]
        data.append(row + ["", ""] * (2 - len(rows[i:i + 2])))
    spans = []
    for label, text in wide:
        spans.append(("SPAN", (1, len(data)), (3, len(data))))
        data.append([label, value(text), "", ""])
    value_w = frame_w / 2 - label_w
    table = Table(data, colWidths=[label_w, value_w] * 2, splitInRow=1)
    table.setStyle(plain_style(("FONT", (0, 0), (-1, -1), BOLD, 7.5, 10),
                               ("TEXTCOLOR", (0, 0), (-1, -1), MUTED),
                               *spans, right_padding=5))
    return table


def _client_block(client: Client, st: Styles, frame_w: float) -> list[Flowable]:
    name = ParagraphStyle("client_name", st.clinic, fontSize=14, leading=18)
    rows = [
        ("Date of birth", fmt_day(client.date_of_birth)),
        ("Phone", markup(client.phone)),
        ("Skin type", f"Fitzpatrick {_ROMAN.get(client.fitzpatrick, client.fitzpatrick)}"
         if client.fitzpatrick else ""),
        ("Email", markup(client.email)),
        ("Concerns", ", ".join(markup(c) for c in client.concerns)),
    ]
    flowables = [Paragraph(markup(client.full_name), name), Spacer(1, 3),
                 _pairs(rows, st, frame_w)]
    if client.notes.strip():
        flowables += [Spacer(1, 3), *paragraphs(client.notes, st.cell,
                                                prefix='<font color="#66737A">Notes: </font>')]
    return flowables


def _courses_block(courses: list[Course], sessions: list[Session], settings: ClinicSettings,
                   st: Styles, frame_w: float) -> list[Flowable]:
    loose = [s for s in sessions if s.course_id is None]
    if not courses and not loose:
        return []
    head = ["Course", "Started", "Planned", "Interval", "Progress"]
    data: list[list[Any]] = [list(head)]
    notes = []
    for course in courses:
        progress = course_progress(course, sessions, settings.default_interval_weeks)
        concern = markup(course.concern)
        if course.areas_planned:
            concern += (f'<br/><font color="#66737A">Areas planned: '
                        f'{markup(", ".join(course.areas_planned))}</font>')
        described = markup(progress.describe())
        if course.ended_on is not None and course.end_reason.strip():
            described += f" — {markup(course.end_reason.strip())}"
        data.append([Paragraph(concern, st.cell_bold),
                     fmt_day(course.started_on), f"{course.planned_sessions} sessions",
                     f"{course.interval_weeks} weeks",
                     Paragraph(described, st.cell)])
        if course.notes.strip():
            notes += [Spacer(1, 3), *paragraphs(
                course.notes, st.cell,
                prefix=f'<font color="#66737A">Notes on {markup(course.concern)}: </font>')]
    if loose:
        progress = course_progress(None, sessions, settings.default_interval_weeks)
        data.append([Paragraph("Outside any course", st.cell_bold), "", "", "",
                     Paragraph(progress.describe(), st.cell)])
    table = FitTable(data, colWidths=[frame_w * 0.25, frame_w * 0.13, frame_w * 0.12,
                                   frame_w * 0.10, None], repeatRows=1, splitInRow=1)
    table.setStyle(grid_style())
    return [*section("Courses", st), table, *notes]


def _screenings_block(screenings: list[Screening], st: Styles, frame_w: float,
                      today: date) -> list[Flowable]:
    if not screenings:
        return []
    data: list[list[Any]] = [["Date", "Flagged answers"]]
    below: list[Flowable] = []
    ordered = sorted(screenings, key=lambda s: s.date)
    for screening in ordered:
        flagged = "; ".join(SCREENING_QUESTIONS[k] for k in screening.flagged)
        unanswered = sum(1 for k in SCREENING_QUESTIONS if screening.answers.get(k) is None)
        text = (f'<font color="{DRAFT_HEX}">{markup(flagged)}</font>' if flagged
                else "none")
        if unanswered:
            text += f" ({unanswered} unanswered)"
        for key in screening.not_applicable:
            text += f"<br/>{markup(SCREENING_QUESTIONS[key])}: {ANSWER_TEXT[NOT_APPLICABLE]}"
        cell: list[Any] = [Paragraph(text, st.cell)]
        if screening.notes.strip():
            cell.append(_in_cell(screening.notes, f"Notes of {fmt_day(screening.date)}", below,
                                 st))
        # (A consent ticked on a screening is listed with the consents, signed on paper.)
        data.append([fmt_day(screening.date), cell])
    table = FitTable(data, colWidths=[frame_w * 0.15, None], repeatRows=1, splitInRow=1)
    table.setStyle(grid_style())
    return [*section("Screenings", st), table, *below]


def _consents_block(consents: Sequence[Consent], settings: ClinicSettings, st: Styles,
                    frame_w: float, today: date) -> list[Flowable]:
    """Each consent: its kind, how and when it was signed, the form version, the photo uses
    agreed and refused; the treatment consent in force today marked so, or as out of date
    past the clinic's limit (the card's and the editor's rule and words)."""
    heading = section("Consents", st)
    if not consents:
        return [*heading, Paragraph(
            f'<font color="{DRAFT_HEX}">No consent is recorded for this client.</font>',
            st.cell)]
    in_force = covering(consents, today, ConsentKind.TREATMENT)
    state = consent_state(in_force, today, settings.consent_max_days)
    data: list[list[Any]] = [["Consent", "Signed", "Form", "Details"]]
    below: list[Flowable] = []
    for consent in sorted(consents, key=lambda c: (c.signed_at, c.id)):
        kind = KIND_TEXT.get(consent.kind, "consent")
        how = signed_text(consent)
        details: list[str] = []
        if consent is in_force:
            details.append(f'<font color="{DRAFT_HEX}">'
                           f"{consent_age_text(consent, today, state.max_days)}</font>"
                           if state.expired else "<b>in force</b>")
        if consent.carried_from is not None:
            details.append("ticked on the screening of this day, before consent forms were "
                           "kept in NeedleDesk")
        elif consent.practitioner.strip():
            details.append(("countersigned by " if consent.method == ConsentMethod.ON_SCREEN
                            else "recorded by ") + markup(consent.practitioner.strip()))
        if consent.kind == ConsentKind.PHOTO:
            agreed = [PHOTO_USES[k].lower() for k in consent.photo_uses]
            refused = [text.lower() for k, text in PHOTO_USES.items()
                       if k not in consent.photo_uses]
            details.append(f"agreed: {markup('; '.join(agreed) or 'no use')}"
                           + (f"; refused: {markup('; '.join(refused))}" if refused else ""))
        cell: list[Any] = [Paragraph("; ".join(details) or "—", st.cell)]
        if consent.notes.strip() and consent.carried_from is None:
            cell.append(_in_cell(consent.notes, f"Notes on the {kind} of "
                                 f"{fmt_day(consent.signed_at.date())}", below, st))
        version = consent.template_version
        data.append([Paragraph(kind[:1].upper() + kind[1:], st.cell_bold),
                     Paragraph(how[:1].upper() + how[1:], st.cell),
                     f"version {version}" if version is not None else "—", cell])
    table = FitTable(data, colWidths=[frame_w * 0.17, frame_w * 0.25, frame_w * 0.10, None],
                     repeatRows=1, splitInRow=1)
    table.setStyle(grid_style())
    return [*heading, table, *below]


def _area_columns(sessions: list[Session]) -> list[tuple[str, str]]:
    """(key, label) of every area treated, in the order first treated; `Cheeks ` and
    `cheeks` are one area."""
    seen: dict[str, str] = {}
    for session in sessions:
        for area in session.areas:
            seen.setdefault(fold(area.area.strip()), area.area.strip())
    return list(seen.items())


def _depths(session: Session) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for area in session.areas:
        found.setdefault(fold(area.area.strip()), []).append(area.depth_mm)
    return found


def _depth_overview(sessions: list[Session], st: Styles, frame_w: float) -> list[Flowable]:
    areas = _area_columns(sessions)
    numbers = {s.id: i for i, s in enumerate(sessions, 1)}
    flowables = section("Needle depth by area (mm)", st)
    for start in range(0, len(areas), _AREAS_PER_TABLE):
        group = areas[start:start + _AREAS_PER_TABLE]
        data: list[list[Any]] = [["#", "Date"] + [Paragraph(markup(label), st.head_right)
                                                  for _key, label in group]]
        for session in sessions:
            depths = _depths(session)
            data.append([str(numbers[session.id]), fmt_day(session.started_at.date())]
                        + [" / ".join(f"{d:.2f}" for d in depths[key]) if key in depths
                           else "–" for key, _ in group])
        fixed = 8 * mm + 24 * mm
        area_w = min((frame_w - fixed) / len(group), 30 * mm)
        table = Table(data, colWidths=[8 * mm, 24 * mm] + [area_w] * len(group),
                      repeatRows=1, hAlign="LEFT", splitInRow=1)
        table.setStyle(grid_style())
        table.setStyle([("ALIGN", (2, 1), (-1, -1), "RIGHT")])
        flowables += [table, Spacer(1, 6)]
    label = "Depth over time"
    if len(areas) > _CHART_AREAS:
        label += (f" (the first {_CHART_AREAS} of {len(areas)} areas; the tables above list "
                  "them all)")
    flowables.append(KeepTogether([Paragraph(label, st.label),
                                   _depth_chart(sessions, areas[:_CHART_AREAS], frame_w)]))
    return flowables


def _depth_chart(sessions: list[Session], areas: list[tuple[str, str]],
                 frame_w: float) -> Drawing:
    """Depth per area against the session dates: one line and colour per area."""
    legend_w = 42 * mm
    height = max(44 * mm, 12 * len(areas) + 18)
    drawing = Drawing(frame_w, height)
    x0, y0 = 26.0, 24.0
    x1, y1 = frame_w - legend_w - 10, height - 6
    days = [s.started_at.date() for s in sessions]
    first, span = days[0], max((days[-1] - days[0]).days, 1)
    deepest = max((a.depth_mm for s in sessions for a in s.areas), default=1.0)
    top = max(0.5, -(-deepest // 0.5) * 0.5)

    def x_of(day: date) -> float:
        if days[-1] == first:
            return (x0 + x1) / 2
        return x0 + (x1 - x0) * (day - first).days / span

    def y_of(depth: float) -> float:
        return y0 + (y1 - y0) * depth / top

    grid = colors.HexColor("#E3EAEC")
    step = 0.5 if top <= 3 else 1.0
    value = 0.0
    while value <= top + 1e-9:
        y = y_of(value)
        drawing.add(Line(x0, y, x1, y, strokeColor=RULE if value == 0 else grid,
                         strokeWidth=0.8 if value == 0 else 0.5))
        drawing.add(String(x0 - 4, y - 2.5, f"{value:.1f}", fontName=REGULAR, fontSize=6.5,
                           fillColor=MUTED, textAnchor="end"))
        value += step
    # Date labels, thinned so they never overlap; the year shows on the first and on change.
    last_x, last_year = -1e9, None
    for day in days:
        x = x_of(day)
        drawing.add(Line(x, y0, x, y0 - 3, strokeColor=RULE, strokeWidth=0.5))
        if x - last_x < 34:
            continue
        label = f"{day.day} {fmt_day(day).split()[1]}"
        drawing.add(String(x, y0 - 11, label, fontName=REGULAR, fontSize=6.5, fillColor=MUTED,
                           textAnchor="middle"))
        if day.year != last_year:
            drawing.add(String(x, y0 - 19, str(day.year), fontName=REGULAR, fontSize=6.5,
                               fillColor=MUTED, textAnchor="middle"))
            last_year = day.year
        last_x = x

    for i, (key, label) in enumerate(areas):
        colour = _SERIES[i % len(_SERIES)]
        points = []
        for session in sessions:
            depths = _depths(session).get(key)
            if depths:
                points.append((x_of(session.started_at.date()), y_of(max(depths))))
        if len(points) > 1:
            drawing.add(PolyLine([c for p in points for c in p], strokeColor=colour,
                                 strokeWidth=1.3))
        for x, y in points:
            drawing.add(Circle(x, y, 2.1, fillColor=colour, strokeColor=colors.white,
                               strokeWidth=0.5))
        ly = height - 10 - 12 * i
        lx = frame_w - legend_w
        # types-reportlab gives Rect's **kw the TypedDict itself (no Unpack): no keyword fits.
        swatch: Any = {"fillColor": colour, "strokeColor": None}
        drawing.add(Rect(lx, ly, 8, 3, **swatch))
        text = label if stringWidth(label, REGULAR, 7.5) < legend_w - 14 else (
            _fit(label, legend_w - 14))
        drawing.add(String(lx + 12, ly - 1, text, fontName=REGULAR, fontSize=7.5, fillColor=INK))
    return drawing


def _fit(label: str, width: float) -> str:
    while label and stringWidth(label + "…", REGULAR, 7.5) > width:
        label = label[:-1]
    return label + "…"


# --- before and after ---------------------------------------------------------------------

def _photo_pages(photos: Sequence[Photo], read: PhotoData, sessions: list[Session],
                 courses: list[Course], consents: Sequence[Consent], today: date, st: Styles,
                 frame_w: float, frame_h: float) -> list[Flowable]:
    """A before-and-after page per view photographed at two sessions or more, when the
    client's photo consent allows photos in the record; otherwise a line saying why they are
    left out."""
    live = [p for p in photos if not p.removed]
    if not live:
        return []
    refusal = use_refusal(consents, today, USE_RECORD)
    if refusal is not None:
        consent = photo_consent(consents, today)
        why = ("the client has not signed a photo consent" if consent is None
               else refusal[:1].lower() + refusal[1:].rstrip("."))
        return [*section("Before and after", st), Paragraph(
            f"The client's {len(live)} photo{'s are' if len(live) != 1 else ' is'} left out "
            f"of this record: {markup(why)}.", st.body)]
    pairs = first_and_latest(live, [s.id for s in sessions])
    if not pairs:
        return [*section("Before and after", st), Paragraph(
            "No view has been photographed at two sessions yet: the before-and-after pages "
            "begin when one has.", st.body)]
    return before_after_pages(pairs, sessions, courses, read, st, frame_w, frame_h)


# --- sessions -----------------------------------------------------------------------------

def _session_block(session: Session, sessions: list[Session], course: Course | None,
                   settings: ClinicSettings, st: Styles, frame_w: float, *,
                   heading: list[Flowable],
                   screenings: Sequence[Screening] = ()) -> list[Flowable]:
    """One session in full; `heading` (the "Sessions" heading, before the first) is kept on
    the same page as the session it introduces. The screening re-confirmed at the visit is
    named by its date among the client's `screenings`."""
    n, of = session_number(session, sessions, course)
    place = f"Session {n} of {of}" if of else f"Session {n}"
    if course is not None:
        place += f" · {markup(course.concern)}"
    elif of is None:
        place += " · outside any course"
    status = (f"Signed off {fmt_moment(session.signed_at)}" if session.is_signed
              else f'<font color="{DRAFT_HEX}"><b>Draft — not signed off</b></font>')
    title = ParagraphStyle("session_title", st.body, fontName=BOLD, fontSize=10, leading=13,
                           textColor=ACCENT)
    status_style = ParagraphStyle("session_status", st.small, alignment=TA_RIGHT)
    bar = Table([[Paragraph(f"{fmt_moment(session.started_at)} "
                            f'<font name="{REGULAR}" size="8.5" color="#1F2528">'
                            f"&nbsp;&nbsp;{place}</font>", title),
                  Paragraph(status, status_style)]],
                colWidths=[frame_w * 0.62, frame_w * 0.38])
    bar.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), SHADE),
        ("LINEABOVE", (0, 0), (-1, 0), 1.2, ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 3.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4.5),
    ]))

    d = session.device
    device = " · ".join(x for x in (str(d.type).capitalize(), markup(d.model),
                                    markup(d.cartridge)) if x)
    a = session.anaesthetic
    anaesthetic = ""
    if a is not None:
        anaesthetic = markup(a.product) + (f" (lot {markup(a.lot)})" if a.lot else "")
        anaesthetic += f", applied {fmt_clock(a.applied_at)}"
        if a.removed_at is not None:
            anaesthetic += (f", removed {fmt_clock(a.removed_at)} — "
                            f"<b>{a.contact_minutes} min</b> contact")
    serums = "; ".join(markup(s.product) + (f" (lot {markup(s.lot)})" if s.lot else "")
                       for s in session.serums)
    fee = f"{session.fee.amount:,.2f} {markup(session.fee.currency)}" if session.fee else ""
    rows = [
        ("Practitioner", markup(session.practitioner)),
        ("Device", device),
        ("Fee", fee),
        ("Cartridge lot", markup(d.cartridge_lot)),
    ]
    wide = [("Anaesthetic", anaesthetic), ("Serums", serums)]
    if session.screening_check is not None:
        # the same line as the editor's (domain.visit.check_text)
        wide.insert(0, ("Screening", markup(check_text(session.screening_check, screenings))))
    if session.combined_with:
        wide.append(("Combined with", ", ".join(markup(x) for x in session.combined_with)))
    wide.append(("Aftercare", "; ".join(markup(x) for x in session.aftercare)))
    mark = _Mark(f"Session {n}, {fmt_day(session.started_at.date())}")
    mark.keepWithNext = bar.keepWithNext = True  # the bar stays with the details under it
    details = _pairs(rows, st, frame_w, wide=wide)
    details.spaceBefore = 4
    flowables: list[Flowable] = [*heading, mark, bar, details]
    flowables += _areas_table(session, st, frame_w)
    flowables += _reactions_table(session, st, frame_w)
    if session.acknowledged_warnings:
        flowables += [Spacer(1, 4), Paragraph("Guidelines acknowledged", st.label)]
    for ack in session.acknowledged_warnings:
        flowables.append(Paragraph(
            f"{markup(acknowledgement_label(ack.warning))} — by {markup(ack.by)}, "
            f"{fmt_moment(ack.at)}", st.cell))
    if session.notes.strip():
        flowables += [Spacer(1, 4), Paragraph("Notes", st.label),
                      *paragraphs(session.notes, st.cell)]
    plain = encode_session(session) if session.amendments else None
    for i, amendment in enumerate(session.amendments, 1):
        flowables += _amendment_block(i, amendment, st, plain)
    # A session that fits on a page is never cut in two; a longer one flows on, and the
    # pages it continues on say so in their header. (Very long text skips the attempt: it
    # cannot fit, and measuring it costs as much as laying it out.)
    size = len(session.notes) + sum(len(a.notes) for a in session.areas) + sum(
        len(r.notes) for r in session.reactions) + sum(
        len(a.reason) + len(str(a.changes)) for a in session.amendments)
    if size < _KEEP_MAX:
        flowables = [KeepTogether(flowables)]
    return [*flowables, _Mark(None), Spacer(1, 10)]


class _Mark(Flowable):
    """Takes no room; tells the canvas which session is being drawn, for "continued"."""

    def __init__(self, label: str | None):
        super().__init__()
        self.label = label
        self.width = self.height = 0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        # An attribute of our own on reportlab's canvas (read back by NumberedCanvas.save).
        setattr(self.canv, "needledesk_session", self.label)  # noqa: B010


def _areas_table(session: Session, st: Styles, frame_w: float) -> list[Flowable]:
    head = ["Area", "Depth", "Passes", "Endpoint", "Notes"]
    data: list[list[Any]] = [list(head)]
    below: list[Flowable] = []
    for area in session.areas:
        data.append([Paragraph(markup(area.area), st.cell_bold),
                     fmt_depth(area.depth_mm),
                     f"{area.passes} passes" if area.passes is not None else "—",
                     Paragraph(markup(area.endpoint) or "—", st.cell),
                     _in_cell(area.notes, markup(area.area), below, st)])
    table = FitTable(data, colWidths=[frame_w * 0.22, frame_w * 0.14, frame_w * 0.14,
                                   frame_w * 0.2, None], repeatRows=1, splitInRow=1)
    table.setStyle(grid_style())
    return [Spacer(1, 5), table, *below]


def _reactions_table(session: Session, st: Styles, frame_w: float) -> list[Flowable]:
    if not session.reactions:
        return [Spacer(1, 3), Paragraph("No reactions recorded.", st.small)]
    data: list[list[Any]] = [["Reaction", "Severity", "Observed", "Notes"]]
    below: list[Flowable] = []
    for r in session.reactions:
        data.append([Paragraph(markup(r.kind), st.cell_bold),
                     f"{r.severity} {severity_word(r.severity)}", observed_word(r.observed),
                     _in_cell(r.notes, markup(r.kind), below, st)])
    table = FitTable(data, colWidths=[frame_w * 0.22, frame_w * 0.14, frame_w * 0.14, None],
                  repeatRows=1, splitInRow=1)
    table.setStyle(grid_style())
    return [Spacer(1, 5), table, *below]


def _amendment_block(number: int, amendment: Amendment, st: Styles,
                     plain: dict[str, Any] | None) -> list[Flowable]:
    head = Paragraph(f'<font color="{DRAFT_HEX}"><b>Amendment {number}</b></font> — '
                     f"{fmt_moment(amendment.at)} by <b>{markup(amendment.by)}</b>", st.cell)
    reason = paragraphs(amendment.reason, st.cell, prefix="<b>Reason:</b> ")
    # the same lines as the editor's history and the audit view (domain.labels)
    changes: list[Flowable] = []
    for line in amendment_lines(amendment, plain):
        changes += paragraphs(line, st.cell, prefix="• ")
    return [Spacer(1, 6), head, *reason, Spacer(1, 2), *changes]


def _in_cell(text: str, label: str, below: list[Flowable],
             st: Styles) -> Flowable | list[Flowable] | str:
    """What goes in a table cell for free text: the text itself when short; when long, a
    pointer, and the text flows after the table under `label` (markup) instead, because a
    table row can only be split across pages slowly."""
    text = clean(text)
    if len(text) <= _CELL_MAX:
        return paragraphs(text, st.cell) or ""
    below += [Spacer(1, 3), *paragraphs(text, st.cell, prefix=f"<b>{label}:</b> ")]
    return Paragraph("(in full below the table)", st.small)

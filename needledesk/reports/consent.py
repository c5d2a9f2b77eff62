"""Consent on paper: a signed consent as the record of what was signed, and the blank form
to print and sign by hand.

The signed consent holds the form's text exactly as it was signed (the consent's own copy,
not today's version of the form), each statement with its box ticked or left empty, and
both signatures drawn again from their strokes as vector lines (their width following the
pen's pressure) scaled into a box, never the picture: crisp at any zoom. A consent signed on
paper prints as the record of it ("signed on paper on 3 Nov 2026"), without signature boxes.

The blank form has the same text and statements with empty boxes, and lines for the
client's name, both signatures and the dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Spacer, TableStyle

from needledesk.domain.consent import KIND_TEXT, signed_text
from needledesk.domain.consent_forms import paragraphs
from needledesk.domain.model import (
    PHOTO_USES,
    Client,
    Consent,
    ConsentKind,
    ConsentMethod,
    ConsentStatement,
    ConsentTemplate,
    Signature,
)
from needledesk.reports.fonts import REGULAR
from needledesk.reports.layout import (
    INK,
    MUTED,
    RULE,
    FitTable,
    Styles,
    clinic_header,
    numbered_canvas,
    one_frame_document,
    page_foot,
    page_size,
    plain_style,
    section,
    styles,
)
from needledesk.reports.text import Paragraph, chunks, fmt_day, markup
from needledesk.settings import ClinicSettings

_MARGIN_X = 18 * mm
_MARGIN_TOP = 14 * mm
_MARGIN_BOTTOM = 18 * mm
#: The box a signature is drawn into, and the room under it for the signer's name.
_SIGNATURE_W = 78 * mm
_SIGNATURE_H = 28 * mm
#: Ink of a drawn signature (a blue-black, as from a pen) and its width at full pressure.
SIGNATURE_INK = colors.HexColor("#1B2A5E")
_PEN_WIDTH = 1.6
#: Steps the pressure is rounded to: consecutive segments of one step are one path.
_WIDTH_STEPS = 8
TICKED = "☑"
UNTICKED = "☐"


def consent_pdf(consent: Consent, client: Client, settings: ClinicSettings, *,
                today: date | None = None) -> bytes:
    """A signed consent as PDF bytes (`settings.page_size`): the clinic, the form's text as
    signed, the statements ticked or not, both signatures redrawn from their strokes (or,
    for one signed on paper, the record of it), the form version and the consent's id."""
    today = today or date.today()
    st = styles()
    on_screen = consent.method == ConsentMethod.ON_SCREEN
    kind = KIND_TEXT.get(consent.kind, "consent")
    story: list[Flowable] = [
        *clinic_header(settings, st, kind[:1].upper() + kind[1:],
                       markup(signed_text(consent)), logo_size=(40 * mm, 18 * mm),
                       title_width=70 * mm),
        Paragraph(markup(consent.title), st.title), Spacer(1, 4),
        _identity(client, st, [("Signed", markup(signed_text(consent))),
                               ("Practitioner", markup(consent.practitioner) or "—")]),
    ]
    story += _form_text(consent.body, st)
    story += _statements(consent.statements, consent.answers, st, blank=False)
    if consent.kind == ConsentKind.PHOTO:
        story += _photo_uses(consent, st)
    if consent.notes.strip():
        story += [Spacer(1, 4), Paragraph("<b>Notes:</b> " + markup(consent.notes), st.body)]
    if on_screen:
        story.append(_signatures(consent, client, st))
    else:
        story += _paper_record(consent, st)
    story.append(Spacer(1, 6))
    story.append(Paragraph(_version_text(consent.template_version), st.small))
    foot = f"Consent record {consent.id} · printed {fmt_day(today)}"
    return _build(story, settings, f"{consent.title} — {client.full_name}", foot)


def blank_consent_pdf(template: ConsentTemplate, settings: ClinicSettings,
                      client: Client | None = None, *, today: date | None = None) -> bytes:
    """The form `template` ready to print and sign on paper: its text, the statements with
    empty boxes, and lines for the client's name, both signatures and the dates (the
    client's name and date of birth filled in when `client` is given)."""
    today = today or date.today()
    st = styles()
    kind = KIND_TEXT.get(template.kind, "consent")
    story: list[Flowable] = [
        *clinic_header(settings, st, kind[:1].upper() + kind[1:], "To sign on paper",
                       logo_size=(40 * mm, 18 * mm), title_width=70 * mm),
        Paragraph(markup(template.title), st.title), Spacer(1, 4),
    ]
    if client is not None:
        story.append(_identity(client, st, []))
    story += _form_text(template.body, st)
    story += _statements(template.statements, {}, st, blank=True)
    if template.kind == ConsentKind.TREATMENT:
        story += [Spacer(1, 2), Paragraph("Tick each statement to agree to it.", st.small)]
    story.append(_blank_signatures(client, st))
    story += [Spacer(1, 6), Paragraph(_version_text(template.version), st.small)]
    foot = f"{template.title} · form version {template.version} · printed {fmt_day(today)}"
    name = client.full_name if client is not None else "blank"
    return _build(story, settings, f"{template.title} — {name}", foot)


def _version_text(version: int | None) -> str:
    return (f"Form version {version}" if version is not None
            else "Recorded without a form version")


def _build(story: list[Flowable], settings: ClinicSettings, title: str, foot: str) -> bytes:
    width, height = page_size(settings)
    buffer = BytesIO()
    doc = one_frame_document(buffer, settings, (width, height), margin_x=_MARGIN_X,
                             margin_top=_MARGIN_TOP, margin_bottom=_MARGIN_BOTTOM,
                             title=title, template="consent")

    def page_marks(canvas: Canvas, total: int, _continued: str | None) -> None:
        canvas.saveState()
        page_foot(canvas, _MARGIN_X, width - _MARGIN_X, 10 * mm, foot,
                  f"Page {canvas.getPageNumber()} of {total}")
        canvas.restoreState()

    doc.build(story, canvasmaker=numbered_canvas(page_marks))
    return buffer.getvalue()


def _plain_table(rows: list[list[Any]], widths: list[Any]) -> FitTable:
    table = FitTable(rows, colWidths=widths)
    table.setStyle(plain_style())
    return table


def _identity(client: Client, st: Styles, more: list[tuple[str, str]]) -> FitTable:
    """The client's name and date of birth, then `more` (label, markup) pairs."""
    pairs = [("Client", f"<b>{markup(client.full_name)}</b>"),
             ("Date of birth", fmt_day(client.date_of_birth) or "—"), *more]
    rows = []
    for i in range(0, len(pairs), 2):
        row: list[Any] = []
        for label, value in pairs[i:i + 2]:
            row += [Paragraph(label, st.label), Paragraph(value, st.body)]
        rows.append(row + ["", ""] * (2 - len(pairs[i:i + 2])))
    return _plain_table(rows, [24 * mm, None, 24 * mm, 50 * mm])


def _form_text(body: str, st: Styles) -> list[Flowable]:
    text = ParagraphStyle("consent_text", st.body, spaceAfter=5)
    # a long paragraph in pieces (text.chunks), so none outgrows a page and splitting stays
    # cheap
    return [Spacer(1, 6), *(Paragraph(markup(piece), text) for p in paragraphs(body)
                            for piece in chunks(p))]


def _statements(statements: Sequence[ConsentStatement], answers: dict[str, bool], st: Styles,
                *, blank: bool) -> list[Flowable]:
    if not statements:
        return []
    box = ParagraphStyle("consent_box", st.body, fontSize=12, leading=13)
    rows = []
    for s in statements:
        mark = UNTICKED if blank or not answers.get(s.key) else TICKED
        text = markup(s.text)
        if not s.required and s.key not in PHOTO_USES:   # a photo use is always a choice
            text += ' <font color="#66737A">(optional)</font>'
        rows.append([Paragraph(mark, box), Paragraph(text, st.body)])
    table = _plain_table(rows, [7 * mm, None])
    # the box's larger glyph sits on the statement's first line
    table.setStyle(TableStyle([("TOPPADDING", (0, 0), (-1, -1), 2.5),
                               ("TOPPADDING", (0, 0), (0, -1), 0.5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]))
    title = "Uses of the photographs" if any(s.key in PHOTO_USES for s in statements) \
        else "Statements"
    return [*section(title, st), table]


def _photo_uses(consent: Consent, st: Styles) -> list[Flowable]:
    """The photo uses agreed and refused, in words."""
    keys = [s.key for s in consent.statements if s.key in PHOTO_USES] or list(PHOTO_USES)
    agreed = [PHOTO_USES[k] for k in keys if consent.answers.get(k)]
    refused = [PHOTO_USES[k] for k in keys if not consent.answers.get(k)]

    def listed(items: list[str]) -> str:
        return "; ".join(i[:1].lower() + i[1:] for i in items) if items else "none"

    return [Spacer(1, 4),
            Paragraph(f"<b>Agreed:</b> {markup(listed(agreed))}.", st.body),
            Paragraph(f"<b>Refused:</b> {markup(listed(refused))}.", st.body)]


def _paper_record(consent: Consent, st: Styles) -> list[Flowable]:
    said = f"This consent was {markup(signed_text(consent))}"
    if consent.practitioner.strip():
        said += f", with {markup(consent.practitioner)}"
    said += (". The signed page is kept by the clinic; this is the record of it in "
             "NeedleDesk.")
    return [*section("Signatures", st), Paragraph(said, st.body)]


class SignatureBox(Flowable):
    """A signature redrawn from its strokes, scaled (keeping its proportions) and centred in
    a `width` x `height` box with a thin frame and a baseline. Each segment's width follows
    the pen's pressure; a stroke of one point is a dot."""

    def __init__(self, signature: Signature | None, width: float = _SIGNATURE_W,
                 height: float = _SIGNATURE_H) -> None:
        super().__init__()
        self.signature = signature
        self.width, self.height = width, height

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.6)
        canvas.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        canvas.setStrokeColor(MUTED)
        canvas.setLineWidth(0.4)
        canvas.line(4 * mm, 6 * mm, self.width - 4 * mm, 6 * mm)
        if self.signature is not None and not self.signature.empty \
                and self.signature.width > 0 and self.signature.height > 0:
            self._draw_strokes(canvas, self.signature)
        canvas.restoreState()

    def _draw_strokes(self, canvas: Canvas, signature: Signature) -> None:
        pad = 2.5 * mm
        scale = min((self.width - 2 * pad) / signature.width,
                    (self.height - 2 * pad) / signature.height)
        left = (self.width - signature.width * scale) / 2
        bottom = (self.height - signature.height * scale) / 2

        def place(x: float, y: float) -> tuple[float, float]:
            # the pad's y runs down, the page's up; points a hair outside the pad are kept in
            x = min(max(x, 0.0), signature.width)
            y = min(max(y, 0.0), signature.height)
            return left + x * scale, bottom + (signature.height - y) * scale

        canvas.setStrokeColor(SIGNATURE_INK)
        canvas.setFillColor(SIGNATURE_INK)
        canvas.setLineCap(1)
        canvas.setLineJoin(1)
        for stroke in signature.strokes:
            if not stroke:
                continue
            if len(stroke) == 1:
                x, y = place(stroke[0].x, stroke[0].y)
                canvas.circle(x, y, _width_for(stroke[0].pressure) * 0.75, stroke=0, fill=1)
                continue
            for width, run in _runs_by_width(stroke):
                path = canvas.beginPath()
                path.moveTo(*place(run[0].x, run[0].y))
                for point in run[1:]:
                    path.lineTo(*place(point.x, point.y))
                canvas.setLineWidth(width)
                canvas.drawPath(path, stroke=1, fill=0)


def _width_for(pressure: float) -> float:
    """The line width for a pressure 0..1: from a third of the pen's width up to all of it,
    in `_WIDTH_STEPS` steps."""
    level = round(min(max(pressure, 0.0), 1.0) * _WIDTH_STEPS) / _WIDTH_STEPS
    return _PEN_WIDTH * (0.35 + 0.65 * level)


def _runs_by_width(stroke: Sequence[Any]) -> list[tuple[float, list[Any]]]:
    """A stroke's points cut into runs whose segments share one width (each segment takes
    the mean pressure of its ends); a run starts at the point the last one ended on."""
    runs: list[tuple[float, list[Any]]] = []
    for a, b in zip(stroke, stroke[1:], strict=False):
        width = _width_for((a.pressure + b.pressure) / 2)
        if runs and runs[-1][0] == width:
            runs[-1][1].append(b)
        else:
            runs.append((width, [a, b]))
    return runs


def _signatures(consent: Consent, client: Client, st: Styles) -> Flowable:
    when = markup(signed_text(consent))
    cells = []
    for label, signature, name in (
            ("Client's signature", consent.client_signature, client.full_name),
            ("Practitioner's countersignature", consent.practitioner_signature,
             consent.practitioner)):
        cells.append([Paragraph(label, st.label), Spacer(1, 2), SignatureBox(signature),
                      Spacer(1, 2), Paragraph(f"<b>{markup(name)}</b>", st.body),
                      Paragraph(when, st.small)])
    table = _plain_table([cells], ["50%", "50%"])
    return KeepTogether([*section("Signatures", st), table])


class BlankLine(Flowable):
    """A line to write on, `label` printed small under its left end."""

    def __init__(self, label: str, width: float, value: str = "", height: float = 15 * mm):
        super().__init__()
        self.label, self.value = label, value
        self.width, self.height = width, height

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = min(self.width, avail_width)
        return self.width, self.height

    def draw(self) -> None:
        from needledesk.reports.fonts import draw_string

        canvas = self.canv
        canvas.saveState()
        if self.value:
            canvas.setFillColor(INK)
            draw_string(canvas, 1, 4.2 * mm, self.value, REGULAR, 10)
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(0.5)
        canvas.line(0, 3.2 * mm, self.width, 3.2 * mm)
        canvas.setFillColor(MUTED)
        draw_string(canvas, 0, 0.3 * mm, self.label, REGULAR, 7)
        canvas.restoreState()


def _blank_signatures(client: Client | None, st: Styles) -> Flowable:
    """Lines for the client's name, signature and date, and the practitioner's name,
    countersignature and date."""
    wide, short = 60 * mm, 32 * mm
    name = client.full_name if client is not None else ""
    rows = [
        [BlankLine("Client's name", wide, name), BlankLine("Client's signature", wide),
         BlankLine("Date", short)],
        [BlankLine("Practitioner's name", wide), BlankLine("Practitioner's countersignature",
                                                            wide),
         BlankLine("Date", short)],
    ]
    table = FitTable(rows, colWidths=["40%", "40%", None])
    table.setStyle(TableStyle([
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return KeepTogether([*section("Signatures", st), table])

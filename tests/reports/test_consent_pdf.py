"""The consent on paper (issue 15): a signed consent as a PDF with the form's full text, the
statements ticked, both signatures drawn as vector paths from their strokes (inside their
boxes, no picture), the form version and the record id; a consent signed on paper as the
record of it; the blank form with empty boxes and lines to sign on. Read back with pypdf,
and the drawing operators read from the page's content stream."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date, datetime
from io import BytesIO

import pytest
from consent_signing import cursive_signature, signed_consent
from factories import make_client, make_screening
from pypdf import PdfReader

from needledesk.domain.consent import signed_text
from needledesk.domain.consent_forms import default_template, paragraphs
from needledesk.domain.model import (
    PHOTO_USES,
    Consent,
    ConsentKind,
    ConsentMethod,
)
from needledesk.reports import fonts
from needledesk.reports.build import course_record_pdf
from needledesk.reports.consent import (
    SIGNATURE_INK,
    TICKED,
    UNTICKED,
    blank_consent_pdf,
    consent_pdf,
)


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(BytesIO(pdf)).pages)


def drawing(pdf: bytes) -> list[dict]:
    """Each page's rectangles (`re`, in page space) and the points of the paths stroked in
    the signature ink (`m`/`l`, in page space), and the operators used."""
    ink = tuple(round(c, 3) for c in SIGNATURE_INK.rgb())
    pages = []
    for page in PdfReader(BytesIO(pdf)).pages:
        found: dict = {"rects": [], "ink": [], "operators": set(), "page": page}
        colour: list = [None]

        def visit(op, args, cm, tm, found=found, colour=colour):
            name = op.decode() if isinstance(op, bytes) else op
            found["operators"].add(name)

            def to_page(x, y):
                return (cm[0] * x + cm[2] * y + cm[4], cm[1] * x + cm[3] * y + cm[5])

            if name == "RG":
                colour[0] = tuple(round(float(a), 3) for a in args)
            elif name == "re":
                x, y, w, h = (float(a) for a in args)
                (x0, y0), (x1, y1) = to_page(x, y), to_page(x + w, y + h)
                found["rects"].append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            elif name in ("m", "l") and colour[0] == ink:
                found["ink"].append(to_page(float(args[0]), float(args[1])))

        page.extract_text(visitor_operand_before=visit)
        pages.append(found)
    return pages


def images(pdf: bytes) -> int:
    count = 0
    for page in PdfReader(BytesIO(pdf)).pages:
        xobjects = page.get("/Resources", {}).get("/XObject")
        if xobjects:
            count += sum(1 for x in xobjects.get_object().values()
                         if x.get_object().get("/Subtype") == "/Image")
    return count


@pytest.fixture
def client():
    return make_client()


def test_the_signed_consent_holds_the_whole_form_as_signed(client, settings, today):
    consent = signed_consent(client.id)
    text = text_of(consent_pdf(consent, client, settings, today=today))
    assert "Consent to microneedling treatment" in text
    assert "Ana López" in text and "14 Mar 1988" in text
    for paragraph in paragraphs(consent.body):
        assert " ".join(paragraph.split()) in text, paragraph[:40]
    for statement in consent.statements:
        assert f"{TICKED} {statement.text}" in text, statement.key
    assert UNTICKED not in text
    assert "signed on screen on 3 Nov 2026 at 10:42" in text
    assert signed_text(consent) == "signed on screen on 3 Nov 2026 at 10:42"
    assert "Lucía Fernández" in text and "Practitioner's countersignature" in text
    assert "Form version 2" in text
    assert f"Consent record {consent.id}" in text and "printed 21 Nov 2026" in text
    assert "Lumen Skin Studio" in text


def test_the_signed_form_is_printed_as_signed_not_as_the_form_is_today(client, settings,
                                                                      today):
    consent = signed_consent(client.id, version=7)
    consent.body = "An older wording of the form.\n\nSecond paragraph, as it was then."
    consent.statements = consent.statements[:2]
    consent.answers = {s.key: True for s in consent.statements}
    text = text_of(consent_pdf(consent, client, settings, today=today))
    assert "An older wording of the form. Second paragraph, as it was then." in text
    assert "Form version 7" in text
    assert "Usual effects" not in text
    assert default_template(ConsentKind.TREATMENT).statements[3].text not in text


def test_signatures_are_vector_strokes_inside_their_boxes(client, settings, today):
    consent = signed_consent(client.id)
    pdf = consent_pdf(consent, client, settings, today=today)
    assert images(pdf) == 0   # no picture of the signature (and this clinic has no logo)
    pages = drawing(pdf)
    ink = [p for page in pages for p in page["ink"]]
    points = sum(len(s) for sig in (consent.client_signature, consent.practitioner_signature)
                 for s in sig.strokes if len(s) > 1)
    # every sampled point of both signatures is drawn (a run repeats the point it starts on)
    assert len(ink) >= points
    page = next(p for p in pages if p["ink"])
    assert {"m", "l", "S"} <= page["operators"]
    boxes = [r for r in page["rects"]
             if 200 < (r[2] - r[0]) < 240 and 70 < (r[3] - r[1]) < 90]   # 78 x 28 mm
    assert len(boxes) == 2
    boxes.sort()
    for x, y in page["ink"]:
        assert any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes), (x, y)
    # each signature in its own box: the client's on the left, the practitioner's right
    left = [p for p in page["ink"] if p[0] <= boxes[0][2]]
    right = [p for p in page["ink"] if p[0] >= boxes[1][0]]
    assert len(left) + len(right) == len(page["ink"]) and left and right
    # scaled to the box, not drawn at the pad's size: the strokes span most of its width
    span = max(x for x, _ in left) - min(x for x, _ in left)
    assert span > 0.6 * (boxes[0][2] - boxes[0][0])


def test_line_width_follows_the_pens_pressure(client, settings, today):
    pressed = signed_consent(client.id)
    flat = signed_consent(client.id)
    flat.client_signature = cursive_signature(1, pressure=False)

    def widths(consent):
        found = set()
        reader = PdfReader(BytesIO(consent_pdf(consent, client, settings, today=today)))
        for page in reader.pages:
            page.extract_text(visitor_operand_before=lambda op, args, cm, tm: found.add(
                round(float(args[0]), 3)) if op in (b"w", "w") else None)
        return found

    # a pen's pressure gives strokes of several widths; a mouse (pressure 1.0) fewer
    assert len(widths(pressed)) > len(widths(flat)) + 2


def test_a_photo_consent_says_which_uses_were_agreed_and_refused(client, settings, today):
    answers = {"photo_use_record": True, "photo_use_shown": True,
               "photo_use_teaching": False, "photo_use_marketing": False}
    consent = signed_consent(client.id, ConsentKind.PHOTO, version=1, answers=answers)
    text = text_of(consent_pdf(consent, client, settings, today=today))
    assert "Consent to clinical photographs" in text
    assert (f"Agreed: {PHOTO_USES['photo_use_record'].lower()}; "
            f"{PHOTO_USES['photo_use_shown'].lower()}.") in text
    assert ("Refused: used for teaching other practitioners, without my name; used in the "
            "clinic's marketing.") in text
    assert f"{TICKED} {PHOTO_USES['photo_use_record']}" in text
    assert f"{UNTICKED} {PHOTO_USES['photo_use_marketing']}" in text
    assert "Photo consent" in text and "Form version 1" in text


def test_a_consent_signed_on_paper_prints_as_the_record_of_it(client, settings, today):
    form = default_template(ConsentKind.TREATMENT)
    consent = Consent(client.id, ConsentKind.TREATMENT, datetime(2026, 10, 2),
                      ConsentMethod.ON_PAPER, "Jane Smith", form.title, form.body,
                      list(form.statements), {s.key: True for s in form.statements},
                      form.id, 1, notes="Scanned page filed under L.")
    pdf = consent_pdf(consent, client, settings, today=today)
    text = text_of(pdf)
    assert "This consent was signed on paper on 2 Oct 2026, with Jane Smith" in text
    assert "signed on screen" not in text and "Client's signature" not in text
    assert "Notes: Scanned page filed under L." in text
    assert all(not page["ink"] for page in drawing(pdf))


@pytest.mark.parametrize("first, last", [("Αικατερίνη", "Παπαδοπούλου"),
                                         ("فاطمة", "الزهراء"), ("美玲", "王")])
def test_names_in_any_script(first, last, settings, today):
    fonts.register_fonts()
    if any(ord(ch) not in fonts._primary and fonts.font_for(ord(ch)) is None
           for ch in first + last):
        pytest.skip("this machine has no font for this script (CI installs "
                    "fonts-droid-fallback)")
    client = make_client(first_name=first, last_name=last)
    consent = signed_consent(client.id)
    consent.practitioner = "Ελένη Κ."
    # the name under the client's signature, and filled in on the blank form's line
    text = text_of(consent_pdf(consent, client, settings, today=today))
    blank = text_of(blank_consent_pdf(default_template(ConsentKind.TREATMENT), settings,
                                      client, today=today))
    # right to left, the words read back last one first, each word's letters in order
    name = (" ".join(reversed(client.full_name.split())) if first == "فاطمة"
            else client.full_name)
    for printed in (text, blank):
        assert "\x00" not in printed   # no glyph 0 (an empty box)
        assert unicodedata.normalize("NFKC", printed).count(name) >= 2, printed
    assert "Ελένη Κ." in text


def test_a_long_form_runs_on_with_numbered_pages(client, settings, today):
    consent = signed_consent(client.id)
    consent.body = "\n\n".join([consent.body] * 3)
    pdf = consent_pdf(consent, client, settings, today=today)
    pages = PdfReader(BytesIO(pdf)).pages
    assert len(pages) >= 2
    last = " ".join(pages[-1].extract_text().split())
    assert f"Page {len(pages)} of {len(pages)}" in last
    # the signatures stay together with their names
    assert "Client's signature" in last and "Ana López" in last


def test_hostile_text_prints_as_typed(settings, today):
    client = make_client(first_name="<b>Ana</b> & co", last_name="W" * 120)
    consent = signed_consent(client.id)
    consent.title = "Consent <i>&amp;</i> more"
    consent.body = ("word " * 3000) + "X" * 4000   # one paragraph of 19,000 characters
    consent.statements[0] = replace(consent.statements[0], text="I agree <script>&</script>")
    pdf = consent_pdf(consent, client, settings, today=today)
    text = text_of(pdf)
    assert "Consent <i>&amp;</i> more" in text
    assert "I agree <script>&</script>" in text and "<b>Ana</b> & co" in text
    pages = PdfReader(BytesIO(pdf)).pages
    assert len(pages) >= 3 and text.count("word") == 3000
    assert f"Page {len(pages)} of {len(pages)}" in text


def test_the_blank_form_has_empty_boxes_and_lines_to_sign(settings, today):
    form = default_template(ConsentKind.TREATMENT)
    pdf = blank_consent_pdf(form, settings, today=today)
    text = text_of(pdf)
    for paragraph in paragraphs(form.body):
        assert paragraph in text
    for statement in form.statements:
        assert f"{UNTICKED} {statement.text}" in text
    assert TICKED not in text
    for label in ("Client's name", "Client's signature", "Practitioner's name",
                  "Practitioner's countersignature", "Date"):
        assert label in text
    assert "signed on" not in text and "Ana López" not in text
    assert "Form version 1" in text
    pages = drawing(pdf)
    assert all(not page["ink"] for page in pages)
    assert images(pdf) == 0


def test_the_blank_form_names_the_client_when_given(client, settings, today):
    form = default_template(ConsentKind.PHOTO)
    form.version = 3
    text = text_of(blank_consent_pdf(form, settings, client, today=today))
    assert "Ana López" in text and "14 Mar 1988" in text
    assert "Consent to clinical photographs" in text and "Form version 3" in text
    for use in PHOTO_USES.values():
        assert f"{UNTICKED} {use}" in text


def test_a_letter_clinic_gets_letter_pages(client, settings, today):
    settings.page_size = "Letter"
    pdf = consent_pdf(signed_consent(client.id), client, settings, today=today)
    box = PdfReader(BytesIO(pdf)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert date(2026, 11, 21) == today


# --- the course record's consents ---------------------------------------------------------

def test_the_course_record_lists_each_consent(repo, today):
    client = repo.add_client(make_client(), by="Jane Smith")
    repo.add_screening(make_screening(client.id, date=date(2025, 9, 1)), by="Jane Smith")
    treatment = default_template(ConsentKind.TREATMENT)
    repo.add_consent(signed_consent(client.id, form=treatment,
                                    signed_at=datetime(2026, 10, 9, 9, 50)),
                     by="Lucía Fernández", template=treatment, today=today)
    photo = default_template(ConsentKind.PHOTO)
    answers = {key: key != "photo_use_marketing" for key in PHOTO_USES}
    repo.add_consent(signed_consent(client.id, form=photo, answers=answers,
                                    signed_at=datetime(2026, 10, 9, 9, 55)),
                     by="Lucía Fernández", template=photo, today=today)
    text = text_of(course_record_pdf(repo, client.id, today=today))
    section = text[text.index("Consents Consent Signed Form Details"):text.index("Sessions")]
    # oldest first: the screening's tick, then the two signed on screen
    assert ("Treatment consent Signed on paper on 1 Sep 2025 — ticked on the screening of "
            "this day, before consent forms were kept in NeedleDesk") in section
    assert ("Treatment consent Signed on screen on 9 Oct 2026 at 09:50 version 1 in force; "
            "countersigned by Lucía Fernández") in section
    assert ("Photo consent Signed on screen on 9 Oct 2026 at 09:55 version 1 countersigned "
            "by Lucía Fernández; agreed: kept in my treatment record; shown to me to compare "
            "results; used for teaching other practitioners, without my name; refused: used "
            "in the clinic's marketing") in section
    assert section.count("in force") == 1
    assert "consent over" not in section


def test_the_course_record_marks_the_consent_in_force_past_the_clinics_limit(repo, today):
    settings = repo.settings()
    settings.consent_max_days = 180
    repo.save_settings(settings, by="Jane Smith")
    client = repo.add_client(make_client(), by="Jane Smith")
    form = default_template(ConsentKind.TREATMENT)
    repo.add_consent(signed_consent(client.id, form=form, signed_at=datetime(2026, 5, 1, 9)),
                     by="Jane Smith", template=form, today=today)
    text = text_of(course_record_pdf(repo, client.id, today=today))
    assert ("Signed on screen on 1 May 2026 at 09:00 version 1 consent over 180 days old "
            "(signed 204 days ago)") in text
    assert "in force" not in text
    fresh = text_of(course_record_pdf(repo, client.id, today=date(2026, 6, 1)))
    assert "in force" in fresh and "consent over" not in fresh


def test_a_course_record_without_any_consent_says_so(repo, today):
    client = repo.add_client(make_client(), by="Jane Smith")
    repo.add_screening(make_screening(client.id, consent_signed=False), by="Jane Smith")
    text = text_of(course_record_pdf(repo, client.id, today=today))
    assert "Consents No consent is recorded for this client." in text

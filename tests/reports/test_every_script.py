"""Every name printed right: a client named in each script gets a real summary PDF, read back,
whose glyphs are real ones (no empty boxes, i.e. no glyph 0 / .notdef), joined where the
script joins and in right-to-left order where it runs that way.

The Chinese, Japanese and Korean names need a font of the machine (the bundle ships none):
CI installs Debian's fonts-droid-fallback and fonts-nanum (Korean). A test skips only when
this machine truly has no font for its script, and says so."""

from __future__ import annotations

import unicodedata
from io import BytesIO

import pytest
from factories import make_client, make_session
from pypdf import PdfReader

from needledesk.reports import fonts
from needledesk.reports.course import render_course_record
from needledesk.reports.summary import render_session_summary
from needledesk.reports.text import markup

# (script, first name, last name): full_name is "first last".
LATIN = ("Latin with diacritics", "Zoë", "Nguyễn-Łukasiewicz")
CYRILLIC = ("Cyrillic", "Анна", "Фёдорова")
GREEK = ("Greek", "Ελένη", "Παπαδοπούλου")
ARABIC = ("Arabic", "محمد", "علي")
HEBREW = ("Hebrew", "דוד", "כהן")
CHINESE = ("Chinese", "小明", "王")
JAPANESE = ("Japanese", "さくら", "山田")
KOREAN = ("Korean", "민준", "김")  # Droid Sans Fallback lacks Hangul: CI adds fonts-nanum


def _extracted(pdf: bytes) -> str:
    return PdfReader(BytesIO(pdf)).pages[0].extract_text()


def _summary(first: str, last: str, settings) -> tuple[str, bytes]:
    client = make_client(first_name=first, last_name=last)
    session = make_session(client.id, practitioner="Jane Smith")
    return client.full_name, render_session_summary(client, session, [session], [], settings)


def _need_font_for(name: str) -> None:
    fonts.register_fonts()
    lacking = [ch for ch in name if not ch.isspace() and ord(ch) not in fonts._primary
               and fonts.font_for(ord(ch)) is None]
    if lacking:
        pytest.skip(f"this machine has no font for {''.join(lacking)!r} "
                    "(CI installs fonts-droid-fallback and fonts-nanum)")


def _client_line(text: str) -> str:
    """The line after "Client" in the identity table: the name as printed there."""
    lines = text.splitlines()
    return lines[lines.index("Client") + 1].strip()


@pytest.mark.parametrize("script", [LATIN, CYRILLIC, GREEK, CHINESE, JAPANESE, KOREAN],
                         ids=lambda s: s[0])
def test_a_left_to_right_name_reads_back_exactly(script, settings):
    _label, first, last = script
    _need_font_for(first + last)
    name, pdf = _summary(first, last, settings)
    text = _extracted(pdf)
    assert "\x00" not in text, "a character printed as glyph 0 (.notdef, an empty box)"
    assert _client_line(text) == name
    assert "Practitioner: Jane Smith" in " ".join(text.split())


@pytest.mark.parametrize("script", [ARABIC, HEBREW], ids=lambda s: s[0])
def test_a_right_to_left_name_prints_shaped_and_from_the_right(script, settings):
    _label, first, last = script
    name, pdf = _summary(first, last, settings)
    text = _extracted(pdf)
    assert "\x00" not in text
    printed = _client_line(text)
    # Read back left to right, the words come last one first (the first word of the name is
    # at the right, where a right-to-left reader starts); each word's letters in order.
    assert unicodedata.normalize("NFKC", printed) == " ".join(reversed(name.split()))


def test_arabic_letters_are_joined(settings):
    """Joined Arabic letters are contextual glyphs (initial, medial, final forms), which the
    PDF maps to Unicode's presentation forms; unjoined letters stay the basic ones."""
    name, pdf = _summary(*ARABIC[1:], settings)
    printed = _client_line(_extracted(pdf))
    forms = [ch for ch in printed if 0xFE70 <= ord(ch) <= 0xFEFF]
    assert len(forms) == len(name.replace(" ", "")), printed
    assert {unicodedata.name(ch).split()[-2] for ch in forms} >= {"INITIAL", "FINAL"}


def test_the_canvas_lines_are_shaped_too(settings):
    """The footer's practitioner and the course record's running head are drawn on the
    canvas, not in paragraphs: the same shaping and order."""
    client = make_client(first_name="דוד", last_name="כהן")
    session = make_session(client.id, practitioner="محمد علي")
    pdf = render_session_summary(client, session, [session], [], settings)
    text = unicodedata.normalize("NFKC", " ".join(_extracted(pdf).split()))
    assert "Practitioner: علي محمد" in text
    record = render_course_record(client, [session], [], [], settings)
    pages = [unicodedata.normalize("NFKC", " ".join(p.extract_text().split()))
             for p in PdfReader(BytesIO(record)).pages]
    assert all("כהן דוד" in page for page in pages)


def test_a_chinese_name_is_set_in_a_font_of_this_machine(settings):
    _need_font_for("王小明")
    _name, pdf = _summary(*CHINESE[1:], settings)
    page = PdfReader(BytesIO(pdf)).pages[0]
    used = {str(f["/BaseFont"]) for f in page["/Resources"]["/Font"].values()
            if "/BaseFont" in f.get_object()}
    others = {f.split("+")[-1] for f in used} - {"DejaVuSans", "DejaVuSans-Bold", "Helvetica"}
    assert others, used  # the PDF embeds the PC's font (its PostScript name)...
    (chinese,) = {fonts.font_for(ord(ch)) for ch in "王小明"}
    assert chinese is not None and fonts.files[chinese]  # ...read from the file found


def test_a_mixed_name_switches_fonts_only_where_dejavu_lacks_letters():
    _need_font_for("王芳")
    pieces = list(fonts.runs("Ana 王芳 López"))
    assert [p for p, _font in pieces] == ["Ana ", "王芳 ", "López"]
    assert pieces[0][1] is None and pieces[2][1] is None
    chinese = pieces[1][1]
    assert chinese is not None and chinese.startswith(fonts.FALLBACK)
    assert markup("A<王") == f'A&lt;<font name="{chinese}">王</font>'


# A script this machine (and CI) has no font for: Adlam, a West African alphabet.
ADLAM = "\U0001e900\U0001e922\U0001e934"


def test_unprintable_names_the_script_and_the_text_in_plain_words():
    fonts.register_fonts()
    if fonts.font_for(ord(ADLAM[0])) is not None:
        pytest.skip(f"this machine has a font for Adlam ({fonts.files})")
    message = fonts.unprintable(f"Aïcha {ADLAM}")
    assert message is not None
    assert message.startswith(f"This PC has no font for the Adlam letters in 'Aïcha {ADLAM}'")
    assert "empty boxes" in message and "Install" in message
    assert "None" not in message and "\\u" not in message


def test_unprintable_is_none_for_names_this_pc_can_print():
    for _label, first, last in (LATIN, CYRILLIC, GREEK, ARABIC, HEBREW):
        assert fonts.unprintable(f"{first} {last}") is None
    assert fonts.unprintable("") is None


def test_the_missing_characters_of_a_pdf_are_collected_while_it_is_built(settings):
    fonts.register_fonts()
    if fonts.font_for(ord(ADLAM[0])) is not None:
        pytest.skip("this machine has a font for Adlam")
    with fonts.missing_characters() as missing:
        _summary("Aïcha", ADLAM, settings)
    assert f"Aïcha {ADLAM}" in missing
    with fonts.missing_characters() as missing:
        _summary("Zoë", "López", settings)
    assert missing == {}

"""`needledesk export consent` on a real database file: the client's latest signed consent
(or the one named, or the photo consent) and the blank form written as private PDFs; every
refusal one plain line on stderr, exit 1, and no file."""

from __future__ import annotations

import os
import stat
from datetime import date, datetime
from io import BytesIO

import pytest
from consent_signing import signed_consent
from factories import make_client, make_screening
from pypdf import PdfReader

from needledesk.cli import main
from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import PHOTO_USES, ConsentKind

TODAY = date(2026, 11, 21)


def text_of(path) -> str:
    return " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(BytesIO(path.read_bytes())).pages)


@pytest.fixture
def clinic(repo):
    """Ana López with two treatment consents (one under form version 2) and a photo
    consent; Ben Okafor with only a screening's tick; Chloé Martin with none."""
    settings = repo.settings()
    settings.clinic_name = "Lumen Skin Studio"
    repo.save_settings(settings, by="Jane Smith")
    ana = repo.add_client(make_client(), by="Jane Smith")
    first = default_template(ConsentKind.TREATMENT)
    older = repo.add_consent(signed_consent(ana.id, form=first,
                                            signed_at=datetime(2025, 10, 1, 9, 15)),
                             by="Jane Smith", template=first, today=TODAY)
    second = repo.add_template_version(ConsentKind.TREATMENT, first.title,
                                       first.body + "\n\nA paragraph added in version 2.",
                                       first.statements, by="Jane Smith")
    latest = repo.add_consent(signed_consent(ana.id, form=second,
                                             signed_at=datetime(2026, 11, 3, 10, 42)),
                              by="Jane Smith", today=TODAY)
    photo_form = default_template(ConsentKind.PHOTO)
    photo = repo.add_consent(signed_consent(
        ana.id, form=photo_form, answers={k: k == "photo_use_record" for k in PHOTO_USES},
        signed_at=datetime(2026, 11, 3, 10, 50)), by="Jane Smith", template=photo_form,
        today=TODAY)
    ben = repo.add_client(make_client(first_name="Ben", last_name="Okafor"), by="Jane Smith")
    repo.add_screening(make_screening(ben.id, date=date(2025, 6, 2)), by="Jane Smith")
    chloe = repo.add_client(make_client(first_name="Chloé", last_name="Martin"),
                            by="Jane Smith")
    return {"ana": ana, "ben": ben, "chloe": chloe, "older": older, "latest": latest,
            "photo": photo}


def export(db_path, *options: str) -> int:
    return main(["--db", str(db_path), "export", "consent", *options])


def test_the_latest_treatment_consent_is_written_private(clinic, db_path, tmp_path, capsys):
    out = tmp_path / "consent.pdf"
    assert export(db_path, "--client", clinic["ana"].id, "-o", str(out)) == 0, \
        capsys.readouterr().err
    text = text_of(out)
    assert "Consent to microneedling treatment" in text and "Ana López" in text
    assert "signed on screen on 3 Nov 2026 at 10:42" in text
    assert "A paragraph added in version 2." in text and "Form version 2" in text
    assert f"Consent record {clinic['latest'].id}" in text
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_the_photo_consent_and_a_named_one(clinic, db_path, tmp_path, capsys):
    photo, older = tmp_path / "photo.pdf", tmp_path / "older.pdf"
    assert export(db_path, "--client", clinic["ana"].id, "--kind", "photo",
                  "-o", str(photo)) == 0, capsys.readouterr().err
    text = text_of(photo)
    assert "Consent to clinical photographs" in text
    assert "Agreed: kept in my treatment record." in text
    # a consent by its id, the client not needed: the text it was signed under
    assert export(db_path, "--consent", clinic["older"].id, "-o", str(older)) == 0
    text = text_of(older)
    assert "signed on screen on 1 Oct 2025 at 09:15" in text and "Form version 1" in text
    assert "A paragraph added in version 2." not in text


def test_the_blank_form_with_and_without_a_name(clinic, db_path, tmp_path, capsys):
    named, blank, photo = (tmp_path / f"{n}.pdf" for n in ("named", "blank", "photo"))
    assert export(db_path, "--blank", "--client", clinic["chloe"].id, "-o", str(named)) == 0
    assert export(db_path, "--blank", "-o", str(blank)) == 0
    assert export(db_path, "--blank", "--kind", "photo", "-o", str(photo)) == 0, \
        capsys.readouterr().err
    # the clinic's current form (version 2), not the one shipped
    for path in (named, blank):
        text = text_of(path)
        assert "A paragraph added in version 2." in text and "Form version 2" in text
        assert "Client's signature" in text and "signed on screen" not in text
    assert "Chloé Martin" in text_of(named) and "Chloé Martin" not in text_of(blank)
    text = text_of(photo)
    assert "Consent to clinical photographs" in text and "Form version 1" in text
    if os.name == "posix":
        assert {stat.S_IMODE(p.stat().st_mode) for p in (named, blank, photo)} == {0o600}


@pytest.mark.parametrize("who, options, message", [
    ("chloe", (), "Chloé Martin has no treatment consent kept in NeedleDesk; print a blank "
                  "form with --blank"),
    ("chloe", ("--kind", "photo"), "Chloé Martin has no photo consent kept in NeedleDesk; "
                                   "print a blank form with --blank --kind photo"),
    ("ben", (), "Ben Okafor's treatment consent of 2 Jun 2025 is the tick on that day's "
                "screening, from before consent forms were kept in NeedleDesk: there is no "
                "form to print; print a blank form with --blank"),
])
def test_a_client_without_a_form_to_print_is_told_plainly(who, options, message, clinic,
                                                          db_path, tmp_path, capsys):
    out = tmp_path / "never.pdf"
    assert export(db_path, "--client", clinic[who].id, *options, "-o", str(out)) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"needledesk: {message}"]
    assert captured.out == "" and not out.exists()


def test_unknown_ids_and_mismatches_are_named_plainly(clinic, db_path, tmp_path, capsys):
    out = tmp_path / "never.pdf"
    cases = [
        (("--client", "no-such-id"), "no client with id 'no-such-id'"),
        (("--blank", "--client", "no-such-id"), "no client with id 'no-such-id'"),
        (("--consent", "no-such-id"), "no consent with id 'no-such-id'"),
        (("--client", clinic["chloe"].id, "--consent", clinic["latest"].id),
         f"the consent '{clinic['latest'].id}' is not one of Chloé Martin's"),
        (("--consent", clinic["photo"].id, "--kind", "treatment"),
         f"the consent '{clinic['photo'].id}' is a photo consent, not a treatment consent"),
        ((), "name the client with --client ID (or one consent with --consent ID)"),
        (("--blank", "--consent", clinic["latest"].id),
         "--blank prints an empty form: leave out --consent"),
    ]
    for options, message in cases:
        assert export(db_path, *options, "-o", str(out)) == 1, options
        captured = capsys.readouterr()
        assert captured.err.splitlines() == [f"needledesk: {message}"], options
        assert "Traceback" not in captured.err
        assert not out.exists()


def test_a_screening_tick_named_by_its_id_has_no_form_either(clinic, repo, db_path,
                                                             tmp_path, capsys):
    carried = repo.consents(clinic["ben"].id, carried=True)[0]
    out = tmp_path / "never.pdf"
    assert export(db_path, "--client", clinic["ben"].id, "--consent", carried.id,
                  "-o", str(out)) == 1
    assert "is the tick on that day's screening" in capsys.readouterr().err
    assert not out.exists()


def test_the_database_is_never_the_output(clinic, db_path, capsys):
    before = db_path.read_bytes()
    for options in (("--client", clinic["ana"].id), ("--blank",)):
        assert export(db_path, *options, "-o", str(db_path)) == 1
        err = capsys.readouterr().err
        assert err.startswith("needledesk: ") and len(err.splitlines()) == 1
    assert db_path.read_bytes() == before


def test_the_output_file_is_required(db_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        export(db_path, "--blank")
    assert exit_.value.code == 2
    assert "-o/--output" in capsys.readouterr().err

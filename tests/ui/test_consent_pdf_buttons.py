"""The signed consent's Save as PDF… and Print…, and the paper dialog's Print a blank
form…: the very PDFs of reports/consent.py, read back; never written over the database."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from factories import make_client
from pypdf import PdfReader
from PySide6.QtWidgets import QFileDialog

from needledesk.domain.consent_forms import default_template
from needledesk.domain.model import (
    Consent,
    ConsentKind,
    ConsentMethod,
    Signature,
    StrokePoint,
)
from needledesk.ui.consent_dialog import ConsentView, PaperConsentDialog, consent_file_name
from needledesk.ui.session_editor import SessionEditor


def _text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(BytesIO(data)).pages)


@pytest.fixture
def signed(ui_repo):
    client = ui_repo.add_client(make_client(), by="Jane Smith")
    form = default_template(ConsentKind.TREATMENT)
    signature = Signature([[StrokePoint(10 + i * 8, 40 + (i % 3) * 9, 0.3 + i / 40, i * 15)
                            for i in range(20)]], 300, 100)
    consent = Consent(client.id, ConsentKind.TREATMENT, datetime(2026, 11, 3, 10, 42),
                      ConsentMethod.ON_SCREEN, "Jane Smith", form.title, form.body,
                      list(form.statements), {s.key: True for s in form.statements},
                      form.id, form.version, signature, signature)
    ui_repo.add_consent(consent, by="Jane Smith", template=form, today=date(2026, 11, 20))
    return client, ui_repo.get_consent(consent.id)


@pytest.fixture
def view(qtbot, ui_repo, signed):
    client, consent = signed
    view = ConsentView(consent, client, ui_repo.settings(), db_path=ui_repo.path)
    qtbot.addWidget(view)
    return view


def _choose(monkeypatch, path: Path):
    offered = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, caption, start, filters: offered.append(start) or (str(path), "")))
    return offered


def test_save_as_pdf_writes_the_signed_consent_and_says_where(view, tmp_path, monkeypatch,
                                                              no_real_modals):
    target = tmp_path / "out" / "consent.pdf"
    target.parent.mkdir()
    offered = _choose(monkeypatch, target)
    assert view.save_pdf() == str(target)
    assert Path(offered[0]).name == "2026-11-03 López Ana treatment consent.pdf"
    text = _text(target.read_bytes())
    assert "Consent to microneedling treatment" in text
    assert "signed on screen on 3 Nov 2026 at 10:42" in text


def test_save_as_pdf_never_writes_over_the_database(view, ui_repo, monkeypatch,
                                                    no_real_modals):
    database = Path(ui_repo.path)
    before = database.read_bytes()[:100]
    _choose(monkeypatch, database)
    assert view.save_pdf() is None
    assert any("clinic's database" in line for line in no_real_modals)
    assert database.read_bytes()[:100] == before


def test_print_previews_the_same_pdf(view, monkeypatch):
    shown = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: shown.append((title, data))))
    view.print_button.click()
    [(title, data)] = shown
    assert title == "Treatment consent — Ana López"
    assert "Jane Smith" in _text(data) and "10:42" in _text(data)


def test_print_a_blank_form_for_the_chosen_consent(qtbot, ui_repo, signed, monkeypatch):
    client, _consent = signed
    shown = []
    monkeypatch.setattr(SessionEditor, "show_preview", staticmethod(
        lambda parent, data, title: shown.append((title, data))))
    dialog = PaperConsentDialog(ui_repo, client, ui_repo.settings(), kind=ConsentKind.PHOTO)
    qtbot.addWidget(dialog)
    dialog.blank_button.click()
    [(title, data)] = shown
    assert title == "Consent to clinical photographs — to sign on paper"
    text = _text(data)
    assert "Used in the clinic's marketing" in text and "Ana López" in text


def test_the_file_name_is_safe_everywhere(signed):
    client, consent = signed
    client.last_name = 'Ló/pez:"x"'
    assert consent_file_name(consent, client) == "2026-11-03 Ló pez x Ana treatment consent.pdf"

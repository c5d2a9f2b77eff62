"""The course record's speed, without timing it (a shared machine is too noisy for that;
`python -m needledesk.bench` times it): each paragraph's lines are broken once per width,
not again for every trial fit, row height and drawing, and reportlab's C accelerator is in
use. The record read back still holds every session."""

from __future__ import annotations

from datetime import datetime, timedelta

from factories import make_client, make_session
from reportlab.platypus import paragraph as rl_paragraph

from needledesk.reports.build import course_record_pdf
from needledesk.store.database import open_database
from needledesk.store.repository import Repository

SESSIONS = 20


def test_a_20_session_record_breaks_each_paragraph_once(tmp_path, monkeypatch, read_pdf):
    repo = Repository(open_database(tmp_path / "clinic.db"))
    client = repo.add_client(make_client(), by="Jane Smith")
    start = datetime(2025, 1, 6, 10, 30)
    for k in range(SESSIONS):
        at = start + timedelta(weeks=3 * k)
        session = make_session(client.id, started_at=at, anaesthetic=None,
                               notes=f"Visit {k + 1}: tolerated well, no downtime to speak "
                                     "of; asked about the neck next time.")
        repo.save_draft(session, by="Jane Smith")
    made, broken = [], []
    real_init, real_break = rl_paragraph.Paragraph.__init__, rl_paragraph.Paragraph.breakLines

    def counting_init(self, *args, **kwargs):
        made.append(self)
        real_init(self, *args, **kwargs)

    def counting_break(self, *args, **kwargs):
        broken.append(self)
        return real_break(self, *args, **kwargs)

    monkeypatch.setattr(rl_paragraph.Paragraph, "__init__", counting_init)
    monkeypatch.setattr(rl_paragraph.Paragraph, "breakLines", counting_break)
    data = course_record_pdf(repo, client.id, today=start.date() + timedelta(weeks=70))
    monkeypatch.undo()
    text = " ".join(read_pdf(data))
    for k in range(SESSIONS):
        assert f"Visit {k + 1}:" in text
    # Split paragraphs (a long one across pages) are new objects, each broken once more.
    breaks, paragraphs = len(broken), len(made)
    assert breaks <= 1.2 * paragraphs, f"{breaks} line breakings for {paragraphs} paragraphs"
    repo.db.close()


def test_reportlab_uses_its_c_accelerator():
    from reportlab.lib import rl_accel

    assert rl_accel.fp_str.__module__ != rl_accel.__name__, "rl_accel is not installed"
    assert not rl_accel.instanceStringWidthTTF.__name__.startswith("_py_")

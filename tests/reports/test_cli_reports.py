"""`needledesk export summary|course` on a real database file (and a real clinic server, with
`--server`): the PDF is written private and
whole; an unknown id is one line on stderr, exit 1, and no file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from engines import store_args

from needledesk.cli import main


def test_export_summary_writes_a_private_one_page_pdf(clinic, tmp_path, read_pdf, capsys):
    out = tmp_path / "summary.pdf"
    code = main([*store_args(clinic.repo), "export", "summary", "--session", clinic.second_id,
                 "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = read_pdf(data)
    assert len(pages) == 1
    assert "Ana López" in pages[0] and "Session 2 of 4" in pages[0]
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_export_course_writes_the_whole_record(clinic, tmp_path, read_pdf, capsys):
    out = tmp_path / "record.pdf"
    code = main([*store_args(clinic.repo), "export", "course", "--client", clinic.client_id,
                 "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    pages = read_pdf(out.read_bytes())
    text = " ".join(pages)
    assert "Session 1 of 4" in text and "Session 2 of 4" in text
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


@pytest.mark.parametrize("kind, option, what", [("summary", "--session", "session"),
                                                ("course", "--client", "client")])
def test_an_unknown_id_is_one_clear_line_and_no_file(kind, option, what, clinic, tmp_path,
                                                     capsys):
    out = tmp_path / "never.pdf"
    code = main([*store_args(clinic.repo), "export", kind, option, "no-such-id", "-o", str(out)])
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"needledesk: no {what} with id 'no-such-id'"]
    assert "Traceback" not in captured.err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".never")] == []


@pytest.mark.parametrize("kind", ["summary", "course"])
def test_the_output_file_is_required(kind, db_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(db_path), "export", kind, "--session" if kind == "summary"
              else "--client", "x"])
    assert exit_.value.code == 2
    assert "-o/--output" in capsys.readouterr().err


def test_the_command_line_starts_without_reportlab():
    probe = ("import sys, needledesk.cli, needledesk.reports.build; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('reportlab', 'PySide6', 'PIL')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"

"""A command's output never crashes on a name its encoding cannot write (Windows writes a
pipe or a file in cp1252): the character is escaped instead."""

from __future__ import annotations

import io
import sys

from needledesk import cli


def test_a_cyrillic_name_on_a_cp1252_pipe_is_escaped_not_a_crash(monkeypatch):
    raw = io.BytesIO()
    pipe = io.TextIOWrapper(raw, encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", pipe)
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(io.BytesIO(), encoding="cp1252"))
    cli._printable_output()
    print("client: Фёдорова, López")
    pipe.flush()
    written = raw.getvalue().decode("cp1252")
    assert written == "client: \\u0424\\u0451\\u0434\\u043e\\u0440\\u043e\\u0432\\u0430, López\n"


def test_utf8_output_is_left_as_it_is(monkeypatch):
    raw = io.BytesIO()
    pipe = io.TextIOWrapper(raw, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", pipe)
    cli._printable_output()
    assert pipe.errors == "strict"
    print("Фёдорова")
    pipe.flush()
    assert raw.getvalue().decode("utf-8") == "Фёдорова\n"

"""`needledesk --smoke-test` from source, and the resources the bundle carries.

The bundle itself is built and smoke-tested by scripts/build-bundle, not here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from needledesk import smoke
from needledesk.paths import resource_path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@pytest.fixture(autouse=True)
def offscreen(monkeypatch):
    # What CI sets; without it the smoke test would choose offscreen itself, when no display.
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


def test_smoke_test_passes_in_one_line(qapp, capsys):
    assert smoke.run() == 0
    out, err = capsys.readouterr()
    assert out.startswith("smoke test passed: NeedleDesk ")
    assert out.count("\n") == 1
    assert "(source)" in out and "50 clients listed" in out
    assert "catalogue lot recalled" in out
    assert "consent signed and sealed" in out and "face chart of 10 zones drawn" in out
    assert re.search(r"consent PDF [\d,]+ bytes", out)
    assert "5 resources found" in out
    assert "photo added upright, metadata stripped (GPS, serial), HEIC decoded" in out
    assert re.search(r"camera picture stored \(\d+ photos, files checked\), camera backend "
                     r"\S*ffmpegmediaplugin\S* loaded, \d+ camera\(s\) connected", out)
    assert re.search(r"psycopg [\d.]+ with libpq \d+\.\d+ \(binary\)", out)
    assert "Swedish and German collation" in out
    assert "smoke test failed" not in err


def _smoke_databases(test_server) -> list[str]:
    return [r[0] for r in test_server.admin.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'needledesk_smoke_%'")]


def test_the_server_step_writes_a_session_on_the_test_server_and_drops_its_database(
        test_server, monkeypatch):
    monkeypatch.setenv(smoke.TEST_SERVER_VARIABLE, test_server.url("postgres"))
    before = _smoke_databases(test_server)
    made = []
    real = smoke._server_session

    def watched(url):
        line = real(url)
        made.append(line)
        return line

    monkeypatch.setattr(smoke, "_server_session", watched)
    lines = smoke._clinic_server()
    assert lines[0].startswith("psycopg ") and lines[0].endswith("(binary)")
    assert lines[-1] == "session signed and checked on the test server" == made[0]
    assert _smoke_databases(test_server) == before


def test_without_a_test_server_the_server_step_only_loads_the_driver(monkeypatch):
    monkeypatch.delenv(smoke.TEST_SERVER_VARIABLE, raising=False)
    lines = smoke._clinic_server()
    assert len(lines) == 2 and "libpq" in lines[0]


def test_a_session_the_server_reads_back_otherwise_fails_and_leaves_no_database(
        test_server, monkeypatch):
    from dataclasses import replace

    from needledesk.store.repository import Repository

    real = Repository.get_session
    monkeypatch.setattr(Repository, "get_session",
                        lambda self, i: replace(real(self, i), signed_at=None))
    before = _smoke_databases(test_server)
    with pytest.raises(smoke.SmokeFailure, match="the session on the clinic server did not "
                                                 "read back as it was signed"):
        smoke._server_session(test_server.url("postgres"))
    assert _smoke_databases(test_server) == before


def test_psycopg_without_its_own_libpq_fails_the_smoke_test(monkeypatch):
    from psycopg import pq

    monkeypatch.setattr(pq, "__impl__", "python")
    with pytest.raises(smoke.SmokeFailure, match="psycopg uses its python implementation, "
                                                 "not the binary one"):
        smoke._clinic_server()


def test_windows_without_its_credential_manager_fails_the_smoke_test(monkeypatch):
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(smoke.sys, "platform", "win32")
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    with pytest.raises(smoke.SmokeFailure, match="no Windows Credential Manager for the "
                                                 "server's password"):
        smoke._password_store()


def test_collation_without_icus_rules_fails_the_smoke_test(qapp, monkeypatch):
    from PySide6.QtCore import QCollator

    monkeypatch.setattr(QCollator, "compare", lambda self, a, b: (a > b) - (a < b))
    with pytest.raises(smoke.SmokeFailure, match="does not sort Ö as Swedish and German"):
        smoke._collation()


def test_a_photo_read_back_as_it_came_fails_the_smoke_test(qapp, capsys, monkeypatch):
    """What a photo whose EXIF was neither applied nor stripped reads back as."""
    from needledesk.store.repository import Repository

    monkeypatch.setattr(Repository, "photo_bytes", lambda self, photo: smoke._phone_jpeg())
    assert smoke.run() == 1
    _out, err = capsys.readouterr()
    assert err.startswith("smoke test failed: the photo was stored 60 x 40, not upright "
                          "(40 x 60)")


def test_a_consent_that_reads_back_otherwise_fails_the_smoke_test(qapp, capsys, monkeypatch):
    from dataclasses import replace

    from needledesk.store.repository import Repository

    real = Repository.get_consent
    monkeypatch.setattr(Repository, "get_consent",
                        lambda self, i: replace(real(self, i), client_signature=None))
    assert smoke.run() == 1
    _out, err = capsys.readouterr()
    assert err.startswith("smoke test failed: the consent did not read back as it was signed")


def test_a_face_chart_without_a_zone_fails_the_smoke_test(qapp, capsys, monkeypatch):
    from dataclasses import replace

    from needledesk.domain import face_chart

    art = face_chart.chart_art()
    lacking = replace(art, zones={k: v for k, v in art.zones.items() if k != "chin"})
    monkeypatch.setattr(face_chart, "chart_art", lambda: lacking)
    assert smoke.run() == 1
    _out, err = capsys.readouterr()
    assert err.startswith("smoke test failed: the face chart's drawing lacks the zone(s) chin")


def test_a_recall_that_misses_the_catalogue_lot_fails_the_smoke_test(qapp, capsys,
                                                                     monkeypatch):
    monkeypatch.setattr("needledesk.store.lists.recall", lambda db, lot, **kw: [])
    assert smoke.run() == 1
    _out, err = capsys.readouterr()
    assert err.startswith("smoke test failed: the recall of lot SMOKE-0001 found 0 "
                          "session(s), not the one that used it")


def test_a_failure_is_one_line_on_stderr_and_exit_1(qapp, capsys, monkeypatch):
    monkeypatch.setattr(smoke, "RESOURCES", (("fonts", "missing.ttf"),))
    assert smoke.run() == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("smoke test failed: resources not found: ")
    assert "missing.ttf" in err and err.count("\n") == 1


def test_every_resource_is_found_through_resource_path():
    files = [p.relative_to(RESOURCES) for p in RESOURCES.rglob("*") if p.is_file()]
    assert files, "resources/ is empty"
    for relative in files:
        found = resource_path(*relative.parts)
        assert found.is_file(), f"{relative} not found as {found}"
        assert found.read_bytes() == (RESOURCES / relative).read_bytes()


def test_the_resources_the_program_looks_up_exist():
    for parts in smoke.RESOURCES:
        assert resource_path(*parts).is_file(), "/".join(parts)


def test_the_icon_is_a_256_pixel_png_and_the_ico_holds_it():
    png = (RESOURCES / "icons" / "needledesk.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (256, 256)
    ico = (RESOURCES / "icons" / "needledesk.ico").read_bytes()
    assert ico[:4] == b"\x00\x00\x01\x00" and png in ico
    assert (RESOURCES / "icons" / "needledesk.icns").read_bytes()[:4] == b"icns"


def test_the_bundle_spec_takes_the_version_from_the_package():
    spec = (RESOURCES.parent / "build.spec").read_text(encoding="utf-8")
    assert "from needledesk import __version__" in spec
    assert "__version__ =" not in spec.replace("from needledesk import __version__", "")


def test_windows_printing_needs_qtprintsupport_not_a_plugin_file_nor_a_printer(qapp, monkeypatch):
    # PySide6's Windows wheels build print support into Qt6PrintSupport.dll and have no
    # printsupport/ plugin folder; a build machine (or Wine) has no printer.
    monkeypatch.setattr(smoke.sys, "platform", "win32")
    line = smoke._printing()
    assert line.startswith("print support")
    assert "no printer installed" in line or "printer(s)" in line

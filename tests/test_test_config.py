"""The test run's own rules (pyproject.toml): a Qt warning fails the test that caused it, an
unknown marker is an error, and the slow tests carry the `slow` marker so `-m "not slow"`
leaves them out of a quick run (CI runs them all)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"][
    "ini_options"]


def test_qt_warnings_fail_tests_but_only_the_offscreen_plugins_own_are_ignored():
    assert CONFIG["qt_log_level_fail"] == "WARNING"
    assert CONFIG["qt_log_ignore"] == ["This plugin does not support propagateSizeHints\\(\\)"]


def test_markers_are_strict_and_slow_is_registered():
    assert "--strict-markers" in CONFIG["addopts"].split()
    assert any(marker.startswith("slow:") for marker in CONFIG["markers"])


@pytest.mark.parametrize("module, name", [
    ("store/test_crash_safety.py", "test_acknowledged_records_survive_sigkill_at_random_moments"),
    ("test_roundtrip_property.py", "test_valid_records_round_trip_through_export_and_import"),
    ("store/test_check_tamper.py", "test_any_one_edit_behind_the_programs_back_is_reported"),
])
def test_the_kill_9_and_property_tests_are_marked_slow(module, name):
    source = (ROOT / "tests" / module).read_text(encoding="utf-8")
    before = source[:source.index(f"def {name}(")].rsplit("\n\n\n", 1)[-1]
    assert "@pytest.mark.slow" in before

"""The benchmark runs end to end on a tiny clinic and reports exactly its ten figures
(startup_ratio_large null: the 50,000-client clinic is only measured once built).

Only that it runs: timings on a shared machine are too noisy for a test, so no budget is
checked here (`python -m needledesk.bench` on 5,000 clients does that, see the README).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from needledesk.bench import BUDGETS

KEYS = {"startup_ratio", "search_p95_ms", "open_client_ms", "save_session_ms",
        "summary_pdf_ms", "course_pdf_ms", "rss_mb", "startup_ratio_large", "recall_ms",
        "due_ms"}
SKIPPABLE = {"startup_ratio_large"}


def test_bench_runs_on_a_tiny_clinic_and_prints_the_ten_figures(tmp_path):
    args = ["--json", "--clients", "20", "--runs", "1", "--cache", str(tmp_path),
            "--large-cache", str(tmp_path / "large")]   # not built: skipped, never built here
    # A process of its own: the benchmark makes its own QApplication and child processes.
    script = f"from needledesk.bench import main; raise SystemExit(main({args!r}))"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    figures = json.loads(done.stdout)
    assert set(figures) == KEYS == set(BUDGETS)
    for key, value in figures.items():
        if key in SKIPPABLE and value is None:
            continue
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert math.isfinite(value) and value > 0, (key, value)
    assert list(tmp_path.glob("demo-20-seed1-*.db")), "the tiny clinic is kept in the cache"
    assert figures["startup_ratio_large"] is None
    assert "skipped" in done.stderr and "--large" in done.stderr
    assert not (tmp_path / "large").exists(), "the large clinic is built only with --large"

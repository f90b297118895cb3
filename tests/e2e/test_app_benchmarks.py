"""The app benchmarks (issue 23) run end to end on a small case and print what they promise:
benchmarks/app_memory.py (the server's peak per view and against the budget) and
benchmarks/sessions.py (simultaneous browser sessions, their times and the ratio to one)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.e2e.tour import CHROMIUM

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _run(script: str, *arguments: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (python3 tasks.py test installs it)")
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip


def test_app_memory_prints_each_views_peak_and_the_budget():
    done = _run("app_memory.py", "--demos", "digits_cnn", "--pages", "User manual",
                "--sessions", "2", "--budget", "4096")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    row = re.search(
        r"digits_cnn\s+User manual\s+[\d.]+ s\s+peak\s+(\d+) MiB\s+now\s+(\d+) MiB", done.stdout
    )
    assert row, done.stdout
    peak, now = int(row.group(1)), int(row.group(2))
    idle = int(re.search(r"idle server \(baseline\):\s+(\d+) MiB", done.stdout).group(1))
    assert 0 < idle < peak and now <= peak + 1
    assert "with 2 sessions at once" in done.stdout and "a session failed" not in done.stdout
    # a budget below what the server needs fails the run
    over = _run("app_memory.py", "--demos", "digits_cnn", "--pages", "User manual",
                "--sessions", "0", "--budget", "50")  # fmt: skip
    assert over.returncode == 1 and "FAIL: peak" in over.stdout, over.stdout


def test_sessions_prints_each_count_and_the_ratio_to_one():
    done = _run("sessions.py", "--page", "User manual", "--counts", "1,2", "--cold", "0",
                "--goal", "100")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"warm, 1 session at once\s+server done: slowest\s+[\d.]+ s", done.stdout), (
        done.stdout
    )
    assert re.search(r"warm, 2 sessions at once\s+server done: slowest\s+[\d.]+ s", done.stdout)
    assert re.search(
        r"warm, 2 sessions: server done [\d.]+x, drawn [\d.]+x 1 \(goal <= 100", done.stdout
    )
    assert "a session failed" not in done.stdout

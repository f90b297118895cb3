"""Live training's process management, with a stand-in trainer (no TensorFlow needed)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from neurogenesis import live
from neurogenesis.errors import InputError

# Behaves like `python -m neurogenesis train SCENARIO --run-dir DIR --epochs N`: writes the manifest
# each "epoch", honours the STOP file, and fails on request.
FAKE_TRAINER = """
import json, sys, time, pathlib
args = sys.argv[sys.argv.index("train") + 1:]
run_dir = pathlib.Path(args[args.index("--run-dir") + 1]); epochs = int(args[args.index("--epochs") + 1])
def manifest(status, done):
    (run_dir / "neurogenesis_run.json").write_text(json.dumps({"status": status, "epochs_completed": done}))
if epochs == 13:
    print("Traceback: something broke", flush=True); sys.exit(1)
for epoch in range(epochs):
    manifest("running", epoch)
    if (run_dir / "STOP").exists():
        manifest("stopped", epoch); sys.exit(0)
    time.sleep(0.1)
manifest("finished", epochs)
"""


@pytest.fixture
def fake_python(tmp_path, monkeypatch):
    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    launcher = tmp_path / "python"
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    launcher.chmod(0o755)
    monkeypatch.setattr(live, "_PROCESSES", {})
    return str(launcher)


def _wait_for(run, statuses, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = live.training_status(run)
        if status in statuses:
            return status
        time.sleep(0.05)
    raise AssertionError(f"status stayed {live.training_status(run)!r}")


def test_runs_get_their_own_folders_and_finish(tmp_path, fake_python):
    first = live.start_training("digits_cnn", 3, live_dir=tmp_path / "live", python=fake_python)
    second = live.start_training("digits_cnn", 3, live_dir=tmp_path / "live", python=fake_python)
    assert first.run_dir != second.run_dir and Path(first.run_dir).is_dir()
    assert _wait_for(first, {"finished"}) == "finished"
    assert _wait_for(second, {"finished"}) == "finished"
    assert live.epochs_completed(first) == 3
    source = first.source()
    assert source.kind == "logs" and source.origin == "live" and source.path == first.run_dir


def test_a_run_can_be_stopped(tmp_path, fake_python):
    run = live.start_training("digits_cnn", 200, live_dir=tmp_path, python=fake_python)
    _wait_for(run, {"running"})
    live.stop_training(run)
    assert _wait_for(run, {"stopped"}) == "stopped"
    assert live.epochs_completed(run) < 200


def test_a_failed_run_reports_its_output(tmp_path, fake_python):
    run = live.start_training("digits_cnn", 13, live_dir=tmp_path, python=fake_python)
    assert _wait_for(run, {"failed"}) == "failed"
    assert "something broke" in live.training_log_tail(run)


def test_limits(tmp_path, fake_python, monkeypatch):
    with pytest.raises(InputError, match="Unknown demo scenario"):
        live.start_training("nope", 3, live_dir=tmp_path, python=fake_python)
    with pytest.raises(InputError, match="between 1 and"):
        live.start_training("digits_cnn", 0, live_dir=tmp_path, python=fake_python)
    monkeypatch.setattr(live, "MAX_CONCURRENT_RUNS", 1)
    run = live.start_training("digits_cnn", 200, live_dir=tmp_path, python=fake_python)
    with pytest.raises(InputError, match="already running"):
        live.start_training("digits_cnn", 3, live_dir=tmp_path, python=fake_python)
    live.stop_training(run)
    _wait_for(run, {"stopped"})


def test_status_from_the_manifest_alone(tmp_path):
    """Another server process (no handle on the child) still reads the run's state."""
    run = live.LiveRun("x", "digits_cnn", str(tmp_path), 5, time.time(), pid=0)
    (tmp_path / "neurogenesis_run.json").write_text(
        json.dumps({"status": "finished", "epochs_completed": 5})
    )
    assert live.training_status(run) == "finished" and live.epochs_completed(run) == 5

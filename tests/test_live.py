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


def fake_interpreter(folder, name: str, source: str) -> str:
    """An executable ``folder/name`` that runs ``source`` with this Python, whatever the
    arguments (the stand-in for the interpreter the dashboard starts)."""
    script = folder / f"{name}.py"
    script.write_text(source)
    launcher = folder / name
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


@pytest.fixture
def fake_python(tmp_path, monkeypatch):
    monkeypatch.setattr(live, "_PROCESSES", {})
    return fake_interpreter(tmp_path, "python", FAKE_TRAINER)


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


# --------------------------------------------------------------------------------------------
# Live sweeps
# --------------------------------------------------------------------------------------------

# Behaves like `python -m neurogenesis sweep SCENARIO --out DIR --points JSON --epochs N`: rewrites
# sweep.json after each point, honours the STOP file between points, and fails on request (epochs
# 13: dies without a word in sweep.json; epochs 12: records "failed" with its error).
FAKE_SWEEPER = """
import json, sys, time, pathlib
args = sys.argv[sys.argv.index("sweep") + 1:]
out = pathlib.Path(args[args.index("--out") + 1]); epochs = int(args[args.index("--epochs") + 1])
planned = json.loads(args[args.index("--points") + 1])
summary = {"scenario": args[0], "metric": "val_accuracy", "goal": "max", "epochs": epochs,
           "status": "running", "planned": planned, "points": []}
def write():
    (out / ".sweep.json.tmp").write_text(json.dumps(summary)); (out / ".sweep.json.tmp").replace(out / "sweep.json")
write()
if epochs == 13:
    print("Traceback: something broke", flush=True); sys.exit(1)
for params in planned:
    time.sleep(0.15)
    if (out / "STOP").exists():
        summary["status"] = "stopped"; write(); sys.exit(0)
    if epochs == 12:
        summary["status"] = "failed"; summary["error"] = "ValueError: bad point"; write(); sys.exit(1)
    summary["points"].append({"run": f"lr_{params['learning_rate']:g}", "params": params})
    write(); print(f"[{len(summary['points'])}/{len(planned)}] done", flush=True)
summary["status"] = "finished"; write()
time.sleep(0.3)  # a real sweep writes its last status a moment before it exits
"""


@pytest.fixture
def fake_sweeper(tmp_path, monkeypatch):
    monkeypatch.setattr(live, "_PROCESSES", {})
    return fake_interpreter(tmp_path, "python-sweep", FAKE_SWEEPER)


def _wait_for_sweep(sweep, statuses, timeout=30.0):
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = live.sweep_status(sweep)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in statuses:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"sweep status went {seen}")


def test_sweep_gets_its_own_folder_and_finishes(tmp_path, fake_sweeper):
    grid = {"learning_rate": [1e-3, 3e-3], "width": [4]}
    sweep = live.start_sweep(
        "digits_cnn", grid=grid, epochs=2, live_dir=tmp_path, python=fake_sweeper
    )
    assert Path(sweep.sweep_dir).parent == tmp_path and sweep.sweep_id.startswith(
        "digits_cnn-sweep-"
    )
    assert sweep.points == (
        {"learning_rate": 1e-3, "width": 4},
        {"learning_rate": 3e-3, "width": 4},
    )
    seen = _wait_for_sweep(sweep, {"finished"})
    assert seen in (["starting", "running", "finished"], ["running", "finished"])
    assert live.sweep_progress(sweep) == (2, 2)
    summary = json.loads(Path(sweep.sweep_dir, "sweep.json").read_text())
    assert summary["planned"] == list(sweep.points) and summary["epochs"] == 2  # passed through
    assert live.sweep_log_tail(sweep).splitlines()[-1] == "[2/2] done"
    source = sweep.source()
    assert (source.kind, source.origin, source.path) == ("logs", "live", sweep.sweep_dir)


def test_random_sweep_points_are_planned_in_the_server(tmp_path, fake_sweeper):
    from neurogenesis.zoo import plan_sweep, sweep_spec

    sweep = live.start_sweep(
        "digits_cnn", random=3, seed=5, epochs=1, live_dir=tmp_path, python=fake_sweeper
    )
    assert list(sweep.points) == plan_sweep(sweep_spec("digits_cnn"), random=3, seed=5)
    _wait_for_sweep(sweep, {"finished"})
    assert live.sweep_progress(sweep) == (3, 3)


def test_a_sweep_can_be_stopped_between_points(tmp_path, fake_sweeper):
    sweep = live.start_sweep(
        "digits_cnn", random=16, epochs=1, live_dir=tmp_path, python=fake_sweeper
    )
    _wait_for_sweep(sweep, {"running"})
    live.stop_sweep(sweep)
    seen = _wait_for_sweep(sweep, {"stopped"})
    assert "finished" not in seen
    done, planned = live.sweep_progress(sweep)
    assert planned == 16 and done < 16


def test_a_failed_sweep_reports_its_output_and_error(tmp_path, fake_sweeper):
    grid = {"learning_rate": [1e-3], "width": [4]}
    died = live.start_sweep(
        "digits_cnn", grid=grid, epochs=13, live_dir=tmp_path, python=fake_sweeper
    )
    assert _wait_for_sweep(died, {"failed"})[-1] == "failed"
    assert "something broke" in live.sweep_log_tail(died)
    recorded = live.start_sweep(
        "digits_cnn", grid=grid, epochs=12, live_dir=tmp_path, python=fake_sweeper
    )
    assert _wait_for_sweep(recorded, {"failed"})[-1] == "failed"
    assert live.sweep_error(recorded) == "ValueError: bad point"


def test_sweep_limits(tmp_path, fake_sweeper, monkeypatch):
    def start(scenario="digits_cnn", **options):
        options.setdefault("epochs", 1)
        return live.start_sweep(scenario, live_dir=tmp_path, python=fake_sweeper, **options)

    with pytest.raises(InputError, match="Unknown demo scenario"):
        start("nope")
    with pytest.raises(InputError, match=f"at most {live.MAX_SWEEP_POINTS} sweep points"):
        start(grid={"learning_rate": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], "width": [4, 8, 16, 32]})
    with pytest.raises(InputError, match="between 1 and"):
        start(random=2, epochs=live.MAX_SWEEP_EPOCHS + 1)
    with pytest.raises(InputError, match="Unknown sweep parameter 'depth'"):
        start(points=[{"learning_rate": 1e-3, "depth": 2}])
    with pytest.raises(InputError, match="not both"):
        start(points=[{"learning_rate": 1e-3}], random=2)
    assert not list(tmp_path.glob("digits_cnn-sweep-*")), "a refused sweep made a folder"
    # Trainings and sweeps share the server's slots.
    monkeypatch.setattr(live, "MAX_CONCURRENT_RUNS", 1)
    sweep = start(random=16)
    with pytest.raises(InputError, match="already running"):
        live.start_training("digits_cnn", 3, live_dir=tmp_path, python=fake_sweeper)
    live.stop_sweep(sweep)
    _wait_for_sweep(sweep, {"stopped"})


ARGV_RECORDER = """
import json, sys, pathlib
args = sys.argv[sys.argv.index("sweep") + 1:]
out = pathlib.Path(args[args.index("--out") + 1])
(out / "argv.json").write_text(json.dumps(args))
"""


def _recorded_arguments(sweep, timeout=30.0) -> list[str]:
    path = Path(sweep.sweep_dir, "argv.json")
    deadline = time.time() + timeout
    while not path.is_file():
        assert time.time() < deadline, "the sweep process never started"
        time.sleep(0.02)
    return json.loads(path.read_text())


def test_a_cluster_sweep_is_the_same_command_with_ray(tmp_path, monkeypatch):
    from neurogenesis.compute import LOCAL, ComputeTarget

    monkeypatch.setattr(live, "_PROCESSES", {})
    recorder = fake_interpreter(tmp_path, "python-argv", ARGV_RECORDER)
    cluster = ComputeTarget("ray://head:10001", workers=3, gpus_per_worker=0.5)
    grid = {"learning_rate": [1e-3, 3e-3], "width": [4]}
    sweep = live.start_sweep(
        "digits_cnn", grid=grid, epochs=2, live_dir=tmp_path, python=recorder,
        target=cluster, asha=True,
    )  # fmt: skip
    arguments = _recorded_arguments(sweep)
    assert arguments[:3] == ["digits_cnn", "--out", sweep.sweep_dir]
    assert json.loads(arguments[arguments.index("--points") + 1]) == list(sweep.points)
    assert arguments[arguments.index("--epochs") + 1] == "2"
    tail = arguments[arguments.index("--ray") :]
    assert tail == ["--ray", "ray://head:10001", "--workers", "3", "--gpus-per-worker", "0.5",
                    "--asha"]  # fmt: skip
    assert sweep.trials == 2 and "on the Ray cluster at ray://head:10001" in (
        sweep.source().description
    )
    # TPE: the searcher picks the points, so only their count and seed travel.
    tpe = live.start_sweep(
        "digits_cnn", random=4, seed=2, epochs=1, live_dir=tmp_path, python=recorder,
        target=ComputeTarget("local"), search="tpe",
    )  # fmt: skip
    arguments = _recorded_arguments(tpe)
    assert "--points" not in arguments and "--asha" not in arguments
    start = arguments.index("--search")
    assert arguments[start : start + 6] == ["--search", "tpe", "--random", "4", "--seed", "2"]
    assert arguments[arguments.index("--ray") :] == ["--ray", "local"]
    assert tpe.points == () and live.sweep_progress(tpe) == (0, 4)
    (Path(tpe.sweep_dir) / "sweep.json").write_text(
        json.dumps({"planned": [{"learning_rate": 1e-3, "width": 4}], "points": [], "trials": 4})
    )
    assert live.sweep_progress(tpe) == (0, 4)  # TPE's planned list grows; trials is the count
    # On this machine: the sweep as always, and no TPE or ASHA.
    for options in ({"search": "tpe", "random": 4}, {"asha": True, "random": 4}):
        with pytest.raises(InputError, match="Expected a Ray cluster"):
            live.start_sweep("digits_cnn", live_dir=tmp_path, python=recorder, target=LOCAL,
                             **options)  # fmt: skip
    local = live.start_sweep(
        "digits_cnn", grid=grid, epochs=1, live_dir=tmp_path, python=recorder, target=LOCAL
    )
    assert "--ray" not in _recorded_arguments(local) and local.cluster is None


def test_sweep_status_from_sweep_json_alone(tmp_path):
    """Another server process (no handle on the child) reads the sweep's state from its file."""
    points = ({"learning_rate": 1e-3, "width": 4}, {"learning_rate": 3e-3, "width": 4})
    sweep = live.LiveSweep("x", "digits_cnn", str(tmp_path), points, 1, time.time(), pid=0)
    assert live.sweep_status(sweep) == "failed" and live.sweep_progress(sweep) == (0, 2)
    summary = {"status": "running", "planned": list(points), "points": [{"run": "a"}]}
    (tmp_path / "sweep.json").write_text(json.dumps(summary))
    assert live.sweep_status(sweep) == "running" and live.sweep_progress(sweep) == (1, 2)
    # A sweep.json from before sweeps recorded their status (the committed demo sweeps).
    (tmp_path / "sweep.json").write_text(json.dumps({"points": [{"run": "a"}, {"run": "b"}]}))
    assert live.sweep_status(sweep) == "finished" and live.sweep_progress(sweep) == (2, 2)


def test_folder_status_reads_a_live_source_folder(tmp_path, fake_python):
    run = live.start_training("digits_cnn", 200, live_dir=tmp_path / "live", python=fake_python)
    try:
        # The same answer from the folder alone (what a page has: the log source's path).
        assert live.folder_status(run.run_dir) in ("starting", "running")
        _wait_for(run, {"running"})
        assert live.folder_status(run.run_dir) == "running"
    finally:
        live.stop_training(run, grace_seconds=1)
    assert _wait_for(run, {"stopped"}) == "stopped"
    assert live.folder_status(run.run_dir) == "stopped"
    # A folder no process of this server started: what it recorded, else failed.
    other = tmp_path / "elsewhere" / "weather_lstm-20250101-000000-abcd"
    other.mkdir(parents=True)
    assert live.folder_status(other) == "failed"
    (other / "sweep.json").write_text(json.dumps({"points": []}))
    assert live.folder_status(other) == "finished"
    (other / "neurogenesis_run.json").write_text(json.dumps({"status": "finished"}))
    assert live.folder_status(other) == "finished"

"""Sweeps through Ray Tune (``neurogenesis.compute.sweeps``): one small Tune sweep of the digits
demo on a real local Ray (2 CPUs), with ASHA on and a trial's worker killed mid-sweep, read back
by the Hyperparameters page's reader and checked against each run's own history and against the
same point swept on this machine; the searchers' configuration checked without running Tune."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.cli import EXIT_INPUT_ERROR, main
from neurogenesis.io.logs import find_runs
from neurogenesis.io.trials import read_trials

pytest.importorskip("ray", reason="Ray is not installed here (pip install 'neurogenesis[ray]')")

from neurogenesis.compute.sweeps import ENGINE, plan_from_arguments, tune_setup  # noqa: E402

SCENARIO = "digits_cnn"
# One trial at a time, the better point first: ASHA then stops the second after its first epoch
# (its accuracy is below the first's there), so the sweep shows both ends of a trial.
POINTS = ({"learning_rate": 0.003, "width": 4}, {"learning_rate": 0.001, "width": 4})
EPOCHS = 2
SWEEP_SECONDS = 400
TRIAL_PROCESS = "ray::ImplicitFunc"  # the title Ray gives a Tune function trial's worker


def _history_tag(key: str) -> str:
    return f"validation/{key[4:]}" if key.startswith("val_") else f"train/{key}"


def _trial_pids() -> list[int]:
    """The processes of this machine's running Tune trials (their Ray worker titles)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path("/proc", entry, "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(TRIAL_PROCESS.encode()):
            found.append(int(entry))
    return found


def _kill_a_training_trial(sweep_dir: Path, done: threading.Event) -> int | None:
    """Waits until a trial has started recording its run, then kills a trial's worker."""
    while not done.is_set():
        started = list(sweep_dir.glob("*/neurogenesis_run.json"))
        pids = _trial_pids()
        if started and pids:
            os.kill(pids[0], signal.SIGKILL)
            return pids[0]
        time.sleep(0.05)
    return None


@pytest.fixture(scope="module")
def tune_sweep(ray_target, tmp_path_factory):
    """The one Tune sweep of this module, through the command line: two points x two epochs,
    one trial at a time, ASHA on, a worker killed."""
    sweep_dir = tmp_path_factory.mktemp("tune") / "sweep"
    outcome: dict = {}
    done = threading.Event()
    argv = ["sweep", SCENARIO, "--out", str(sweep_dir), "--points", json.dumps(POINTS),
            "--epochs", str(EPOCHS), "--asha", "--ray", ray_target.address, "--workers", "1"]  # fmt: skip

    def sweep():
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                outcome["code"] = main(argv)
            outcome["summary"] = json.loads((sweep_dir / "sweep.json").read_text())
        except BaseException as error:  # reported by the test below
            outcome["error"] = error
        finally:
            outcome["printed"] = printed.getvalue()
            done.set()

    thread = threading.Thread(target=sweep, daemon=True)
    thread.start()
    outcome["killed"] = _kill_a_training_trial(sweep_dir, done)
    thread.join(SWEEP_SECONDS)
    assert not thread.is_alive(), "the Tune sweep did not finish in time"
    if "error" in outcome:
        raise outcome["error"]
    return sweep_dir, outcome


@pytest.mark.slow
def test_tune_sweep_writes_every_run_and_the_local_sweep_schema(tune_sweep):
    sweep_dir, outcome = tune_sweep
    summary = outcome["summary"]
    assert outcome["code"] == 0, outcome["printed"]
    assert summary["status"] == "finished"
    assert summary["engine"] == ENGINE and summary["search"] == "grid"
    assert summary["scheduler"] == "asha" and summary["trials"] == len(POINTS)
    assert summary["scenario"] == SCENARIO and summary["epochs"] == EPOCHS
    assert (summary["metric"], summary["goal"]) == ("val_accuracy", "max")
    assert summary["parameters"] == ["learning_rate", "width"]
    assert summary["planned"] == [dict(point) for point in POINTS]
    assert [point["params"] for point in summary["points"]] == summary["planned"]
    assert [point["run"] for point in summary["points"]] == ["lr_0.003_width_4", "lr_0.001_width_4"]
    lines = [line for line in outcome["printed"].splitlines() if line.startswith("[")]
    for index, point in enumerate(summary["points"], start=1):
        value = point["final"]["val_accuracy"]
        assert lines[index - 1].startswith(f"[{index}/2] {point['run']}: val_accuracy {value} ")
    assert outcome["printed"].splitlines()[-1] == (
        f"sweep finished: 2 of 2 points -> {sweep_dir / 'sweep.json'}"
    )
    # Tune's own files are hidden from the run readers; the runs are exactly the points.
    assert {run.name for run in find_runs(sweep_dir)} == {p["run"] for p in summary["points"]}


@pytest.mark.slow
def test_a_killed_worker_costs_only_its_trial(tune_sweep):
    _, outcome = tune_sweep
    assert outcome["killed"] is not None, "no trial's worker was found to kill"
    summary = outcome["summary"]
    assert summary["retries"] >= 1
    assert len(summary["points"]) == len(POINTS)


@pytest.mark.slow
def test_points_are_the_runs_own_histories_and_asha_stops_say_how_far(tune_sweep):
    sweep_dir, outcome = tune_sweep
    summary = outcome["summary"]
    runs = {run.name: run for run in find_runs(sweep_dir)}
    assert [point.get("state") for point in summary["points"]] == [None, "pruned"]
    for point in summary["points"]:
        manifest = json.loads((sweep_dir / point["run"] / "neurogenesis_run.json").read_text())
        assert manifest["hyperparameters"].items() >= point["params"].items()
        run = runs[point["run"]]
        ran = run.scalars[_history_tag("val_accuracy")].num_points
        assert manifest["epochs_completed"] == ran
        if point.get("state") == "pruned":
            assert ran == point["epochs"] < EPOCHS
            assert manifest["status"] == "stopped"
            assert any("Stopped" in note for note in manifest["notes"]), manifest["notes"]
        else:
            assert ran == EPOCHS and manifest["status"] == "finished"
        for key, value in point["final"].items():
            series = run.scalars[_history_tag(key)]
            assert series.values[-1] == pytest.approx(value, rel=1e-4, abs=1e-6)
        series = run.scalars[_history_tag("val_accuracy")].values
        assert point["best"]["val_accuracy"] == pytest.approx(np.max(series), rel=1e-4)
        assert point["best"]["epoch"] == int(np.argmax(series)) + 1


@pytest.mark.slow
def test_the_hyperparameters_page_reads_the_tune_sweep(tune_sweep):
    sweep_dir, outcome = tune_sweep
    summary = outcome["summary"]
    trials = read_trials(sweep_dir)  # what cached.trials gives the page
    assert trials.metric == "val_accuracy" and trials.goals["val_accuracy"] == "max"
    assert trials.planned == len(POINTS) and trials.status == "finished"
    assert list(trials.names) == [point["run"] for point in summary["points"]]
    np.testing.assert_allclose(trials.parameter_values["learning_rate"], [0.003, 0.001])
    np.testing.assert_allclose(trials.parameter_values["width"], [4, 4])
    runs = {run.name: run for run in find_runs(sweep_dir)}
    for index, name in enumerate(trials.names):
        history = runs[name].scalars[_history_tag("val_accuracy")].values
        assert trials.metric_values["val_accuracy"][index] == pytest.approx(history[-1], rel=1e-4)
        pruned = summary["points"][index].get("state") == "pruned"
        assert trials.states[index] == ("pruned" if pruned else "complete")


@pytest.mark.slow
def test_a_trial_trains_its_point_as_the_sweep_on_this_machine(tune_sweep, tmp_path):
    from neurogenesis.zoo import run_scenario_sweep

    _, outcome = tune_sweep
    complete = [p for p in outcome["summary"]["points"] if p.get("state") != "pruned"]
    assert complete, "ASHA keeps at least the best trial to the end"
    point = complete[0]
    local = run_scenario_sweep(SCENARIO, tmp_path, points=[point["params"]], epochs=EPOCHS)
    (mine,) = local["points"]
    assert mine["run"] == point["run"]
    for key, value in mine["final"].items():
        assert point["final"][key] == pytest.approx(value, rel=1e-3, abs=1e-4), key


# --- the searchers' configuration, without running Tune ---------------------------------------


def test_tpe_is_optuna_seeded_and_suggests_points_inside_the_space():
    from ray.tune.search.optuna import OptunaSearch

    def suggestions(seed: int) -> list[dict]:
        plan = plan_from_arguments(
            SCENARIO, search="tpe", points=None, grid=None, random=6, seed=seed, asha=False
        )
        space, config = tune_setup(plan, "val_accuracy", "max", EPOCHS, workers=2)
        assert isinstance(config.search_alg, OptunaSearch)
        assert config.num_samples == 6 and config.max_concurrent_trials == 2
        assert config.scheduler is None
        config.search_alg.set_search_properties(None, None, space)
        return [config.search_alg.suggest(f"trial_{i}") for i in range(6)]

    first = suggestions(seed=3)
    assert first == suggestions(seed=3)
    assert first != suggestions(seed=4)
    for point in first:
        assert set(point) == {"learning_rate", "width"}
        assert 1e-4 <= point["learning_rate"] <= 1e-2
        assert point["width"] in (4, 8, 16, 32)
    # Log-uniform: half the draws fall below 1e-3, where a uniform draw lands one time in eleven.
    assert any(math.log10(p["learning_rate"]) < -3 for p in first)


def test_grid_and_random_search_the_planned_points_and_asha_judges_the_metric_per_epoch():
    from ray.tune.schedulers import ASHAScheduler

    from neurogenesis.zoo import plan_sweep, sweep_spec

    spec = sweep_spec(SCENARIO)
    grid = plan_from_arguments(
        SCENARIO, search=None, points=None, grid=None, random=None, seed=0, asha=True
    )
    assert list(grid.points) == plan_sweep(spec)
    random = plan_from_arguments(
        SCENARIO, search=None, points=None, grid=None, random=3, seed=5, asha=False
    )
    assert random.search == "random" and list(random.points) == plan_sweep(spec, random=3, seed=5)
    space, config = tune_setup(grid, spec.metric, spec.goal, 6, workers=3)
    assert space["point"] == {"grid_search": [dict(p) for p in grid.points]}
    assert config.num_samples == 1 and config.max_concurrent_trials == 3
    scheduler = config.scheduler
    assert isinstance(scheduler, ASHAScheduler)
    assert (scheduler._metric, scheduler._mode, scheduler._max_t) == ("val_accuracy", "max", 6)
    assert scheduler._time_attr == "training_iteration"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--search", "tpe"], "Expected --ray with --search tpe"),
        (["--asha"], "Expected --ray with --asha"),
        (["--search", "grid", "--random", "3"], "Expected --random N with --search random"),
    ],
)
def test_the_cli_refuses_tune_options_it_cannot_honour(arguments, expected, tmp_path, capsys):
    code = main(["sweep", SCENARIO, "--out", str(tmp_path / "sweep"), *arguments])
    assert code == EXIT_INPUT_ERROR
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "sweep").exists()

"""The hyperparameters page under AppTest: the zoo's sweeps, irregular trials from a CSV, an Optuna
study, HParams logs and a live sweep, each checked against the numbers in the files."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from tests.app.pages import charts, open_page, rerun, values
from tests.conftest import ROOT

TABS = ("Contours", "Parallel coordinates", "Slices", "Importance", "Trials")
SWEEP = ROOT / "data" / "sweeps" / "digits_cnn" / "sweep.json"


def _trace(at, kind: str) -> dict:
    for spec in charts(at):
        for trace in spec["data"]:
            if trace["type"] == kind:
                return trace
    raise AssertionError(f"no {kind} drawn")


def _z(trace) -> np.ndarray:
    z = trace["z"]
    if isinstance(z, dict):
        return values(z).reshape([int(n) for n in str(z["shape"]).split(",")]).astype(float)
    return np.asarray([values(row) if isinstance(row, dict) else row for row in z], dtype=float)


def test_zoo_sweep_surface_is_sweep_json_and_every_tab_draws(app_argv):
    at = open_page(app_argv, "hyperparameters.py", model="digits_cnn (demo)")
    assert at.title[0].value == "Hyperparameters"
    assert at.selectbox(key="hyperparameters_source").value == "demo sweeps / digits_cnn"
    summary = json.loads(SWEEP.read_text())
    best = max(summary["points"], key=lambda p: p["final"]["val_accuracy"])
    assert best["run"] in at.success[0].value
    assert f"{best['final']['val_accuracy']:.4g}" in at.success[0].value
    surface = _trace(at, "surface")
    z = _z(surface)  # rows: width, columns: learning rate (the observed grid)
    widths, rates = [4, 8, 16, 32], [0.0003, 0.001, 0.003]
    for point in summary["points"]:
        row = widths.index(point["params"]["width"])
        column = rates.index(point["params"]["learning_rate"])
        assert z[row, column] == pytest.approx(point["final"]["val_accuracy"])
    for tab in TABS:
        at.session_state["hyperparameters_tab"] = tab
        rerun(at)
        assert charts(at) or at.dataframe, tab
    # The trials table lists every point.
    assert len(at.dataframe[0].value) == len(summary["points"])


def test_irregular_csv_gets_a_gaussian_process_with_uncertainty(app_argv, tmp_path):
    rng = np.random.default_rng(0)
    rows = ["learning_rate,dropout,optimizer,val_loss"]
    for _ in range(24):
        rate, dropout = 10 ** rng.uniform(-4, -1), rng.uniform(0, 0.5)
        optimizer = rng.choice(["adam", "sgd"])
        loss = (math.log10(rate) + 2.5) ** 2 + 2 * (dropout - 0.2) ** 2 + (optimizer == "sgd")
        rows.append(f"{rate:.6g},{dropout:.4f},{optimizer},{loss:.6f}")
    path = tmp_path / "trials.csv"
    path.write_text("\n".join(rows) + "\n")
    at = open_page(app_argv, "hyperparameters.py", "--no-demos")
    at.session_state["trial_uploads"] = {"trials.csv": str(path)}  # as an upload leaves it
    rerun(at)
    assert at.selectbox(key="hyperparameters_source").value == "trials.csv (uploaded)"
    at.selectbox(key="hyperparameters_x_trials.csv (uploaded)").select("learning_rate")
    at.selectbox(key="hyperparameters_y_trials.csv (uploaded)").select("dropout")
    rerun(at)
    spec = next(s for s in charts(at) if "Gaussian process" in s["layout"]["title"]["text"])
    surfaces = [t for t in spec["data"] if t["type"] == "surface"]
    assert len(surfaces) == 3  # the mean and ±1 standard deviation
    low, mean, high = (_z(s) for s in (surfaces[2], surfaces[0], surfaces[1]))
    assert np.all(high >= mean) and np.all(mean >= low)
    # The loss is lowest near learning_rate 10^-2.5: the best region's trial says so.
    lowest = min(rows[1:], key=lambda row: float(row.split(",")[-1]))
    assert f"learning_rate = {float(lowest.split(',')[0]):.4g}," in at.success[0].value
    at.session_state["hyperparameters_tab"] = "Importance"
    rerun(at)
    bars = _trace(at, "bar")
    names = list(bars["y"]) if isinstance(bars["y"], list) else []
    assert "learning_rate" in json.dumps(charts(at)[-1]) and names


def test_optuna_study_with_two_studies(app_argv, tmp_path):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    for name, seed in (("first", 0), ("second", 1)):
        study = optuna.create_study(
            study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=seed)
        )
        study.optimize(
            lambda t: (t.suggest_float("x", -2, 2) - 0.5) ** 2 + t.suggest_float("y", -1, 1) ** 2,
            n_trials=12,
        )
    at = open_page(app_argv, "hyperparameters.py", "--no-demos")
    at.session_state["trial_uploads"] = {"search.db": str(tmp_path / "search.db")}
    rerun(at)
    assert at.selectbox(key="hyperparameters_study").options == ["first", "second"]
    at.selectbox(key="hyperparameters_study").select("second")
    rerun(at)
    best = optuna.load_study(study_name="second", storage=storage).best_trial
    assert f"{best.value:.4g}" in at.success[0].value


def test_a_live_sweep_lands_on_the_page(app_argv, tmp_path, monkeypatch):
    from neurogenesis import live

    monkeypatch.setattr(live, "LIVE_DIR", tmp_path / "live")
    monkeypatch.setattr(live, "_PROCESSES", {})
    at = open_page(app_argv, "hyperparameters.py", model="digits_cnn (demo)")
    at.multiselect(key="hyperparameters_grid_digits_cnn_learning_rate").set_value([0.001, 0.003])
    at.multiselect(key="hyperparameters_grid_digits_cnn_width").set_value([4])
    at.number_input(key="hyperparameters_epochs").set_value(1)
    at.button(key="hyperparameters_start").click()
    rerun(at)
    (sweep,) = at.session_state["live_sweeps"]
    assert at.selectbox(key="hyperparameters_source").value.endswith("(live)")
    deadline = time.time() + 240
    while live.sweep_status(sweep) in ("starting", "running") and time.time() < deadline:
        time.sleep(1)
    assert live.sweep_status(sweep) == "finished", live.sweep_log_tail(sweep)
    rerun(at)
    at.session_state["hyperparameters_tab"] = "Trials"
    rerun(at)
    table = at.dataframe[0].value
    assert sorted(table["learning_rate"]) == [0.001, 0.003]
    summary = json.loads((tmp_path / "live" / sweep.sweep_id / "sweep.json").read_text())
    finals = sorted(point["final"]["val_accuracy"] for point in summary["points"])
    np.testing.assert_allclose(sorted(table["val_accuracy"]), finals)


def test_on_a_cluster_the_sweep_form_starts_the_same_command_with_ray(
    app_argv, tmp_path, monkeypatch
):
    """A server started with --ray offers Compute on: this machine | the cluster, and TPE and
    ASHA there; the sweep starts as the same CLI command with --ray (a stand-in records it)."""
    from neurogenesis import compute, live
    from tests.test_live import ARGV_RECORDER, _recorded_arguments, fake_interpreter

    monkeypatch.setattr(compute, "_CLUSTER", None)  # the app's --ray sets it; put back after
    monkeypatch.setattr(live, "LIVE_DIR", tmp_path / "live")
    monkeypatch.setattr(live, "_PROCESSES", {})
    monkeypatch.setattr(
        live, "TRAINER_PYTHON", fake_interpreter(tmp_path, "python-argv", ARGV_RECORDER)
    )
    at = open_page(
        app_argv,
        "hyperparameters.py",
        "--ray",
        "local",
        "--workers",
        "2",
        model="digits_cnn (demo)",
    )
    where = at.radio(key="hyperparameters_compute")
    assert where.options == ["this machine", "a Ray instance on this machine"]
    assert where.value == "a Ray instance on this machine"
    modes = at.segmented_control(key="hyperparameters_sweep_mode")
    assert modes.options == ["grid", "random", "TPE (Optuna)"]
    at.segmented_control(key="hyperparameters_sweep_mode").set_value("TPE (Optuna)")
    rerun(at)
    at.number_input(key="hyperparameters_random").set_value(3)
    at.number_input(key="hyperparameters_epochs").set_value(1)
    at.checkbox(key="hyperparameters_asha").check()
    at.button(key="hyperparameters_start").click()
    rerun(at)
    (sweep,) = at.session_state["live_sweeps"]
    arguments = _recorded_arguments(sweep)
    assert arguments[arguments.index("--search") :] == [
        "--search", "tpe", "--random", "3", "--seed", "0", "--epochs", "1",
        "--ray", "local", "--workers", "2", "--asha",
    ]  # fmt: skip
    # Back on this machine: the grid sweep as always, without TPE or ASHA.
    at.radio(key="hyperparameters_compute").set_value("this machine")
    rerun(at)
    assert at.segmented_control(key="hyperparameters_sweep_mode").options == ["grid", "random"]
    assert not [box for box in at.checkbox if box.key == "hyperparameters_asha"]


def test_hparams_logs_under_the_sidebars_logdir(app_argv, tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tensorboard.plugins.hparams import api as hp

    trials = [(1e-4, 16, 0.61), (1e-3, 32, 0.83), (1e-2, 64, 0.78), (3e-3, 16, 0.88)]
    root = tmp_path / "search"
    for k, (rate, units, accuracy) in enumerate(trials):
        with tf.summary.create_file_writer(str(root / f"run-{k}")).as_default():
            hp.hparams({"lr": rate, "units": units}, trial_id=f"t{k}")
            for step in range(2):
                tf.summary.scalar("accuracy", accuracy * (step + 1) / 2, step=step)
    at = open_page(app_argv, "hyperparameters.py", "--no-demos", "--logdir", root)
    assert at.selectbox(key="hyperparameters_source").value == "search"
    at.session_state["hyperparameters_tab"] = "Trials"
    rerun(at)
    table = at.dataframe[0].value
    assert sorted(table["lr"]) == sorted(t[0] for t in trials)
    # The last logged value of each run is its trial's metric.
    np.testing.assert_allclose(
        table.sort_values("lr")["accuracy"], [t[2] for t in sorted(trials)], rtol=1e-6
    )
    assert "t3" in at.success[0].value or "run-3" in at.success[0].value


def test_the_page_follows_the_sidebar_models_sweep(app_argv):
    at = open_page(app_argv, "hyperparameters.py", model="weather_lstm (demo)")
    assert at.selectbox(key="hyperparameters_source").value == "demo sweeps / weather_lstm"
    at.selectbox(key="model_choice").select("sentiment_transformer (demo)")
    rerun(at)
    assert at.selectbox(key="hyperparameters_source").value == (
        "demo sweeps / sentiment_transformer"
    )
    # A choice of the user's own stays while the sidebar model does.
    at.selectbox(key="hyperparameters_source").select("demo sweeps / digits_cnn")
    rerun(at)
    assert at.selectbox(key="hyperparameters_source").value == "demo sweeps / digits_cnn"

"""neurogenesis.io.trials: sweeps, CSV tables, Optuna studies and HParams logs read as Trials.

Values are checked against what was written: the zoo's sweep.json, a CSV made here, a real
Optuna study (its own ``trials_dataframe()``) and an HParams log written with TensorBoard's
``hp.hparams`` inside ``tf.summary.create_file_writer``.
"""

from __future__ import annotations

import json
import math
import pickle
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurogenesis.errors import InputError
from neurogenesis.io.trials import (
    Trials,
    guess_goal,
    list_studies,
    read_trials,
    trials_from_frame,
    trials_from_records,
)

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "data" / "sweeps" / "digits_cnn"


# --- sweeps ---------------------------------------------------------------------------------


def test_zoo_sweep_values_are_the_final_values_of_sweep_json():
    summary = json.loads((SWEEP / "sweep.json").read_text())
    trials = read_trials(SWEEP)
    assert trials.parameters == ("learning_rate", "width")
    assert trials.metric == "val_accuracy" and trials.goals["val_accuracy"] == "max"
    assert trials.goals["val_loss"] == "min"
    assert list(trials.names) == [p["run"] for p in summary["points"]]
    for name in trials.parameters:
        expected = [p["params"][name] for p in summary["points"]]
        np.testing.assert_array_equal(trials.parameter_values[name], expected)
    for metric in ("accuracy", "loss", "val_accuracy", "val_loss"):
        expected = [p["final"][metric] for p in summary["points"]]
        np.testing.assert_array_equal(trials.metric_values[metric], expected)
    assert set(trials.states) == {"complete"}
    assert trials.planned is None and trials.status is None
    assert read_trials(SWEEP / "sweep.json") == trials
    assert pickle.loads(pickle.dumps(trials)) == trials


def test_sweep_being_written_keeps_planned_status_and_failed_points(tmp_path):
    points = [
        {"run": "a", "params": {"lr": 0.1, "w": 4}, "final": {"val_loss": 1.5}},
        {"run": "b", "params": {"lr": 0.01, "w": 4}, "final": {"val_loss": None}},
    ]
    sweep = {
        "scenario": "x",
        "parameters": ["lr", "w"],
        "metric": "val_loss",
        "goal": "min",
        "points": points,
        "planned": [{"lr": lr, "w": 4} for lr in (0.1, 0.01, 0.001)],
        "status": "running",
    }
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    trials = read_trials(tmp_path)
    assert trials.planned == 3 and trials.status == "running"
    assert list(trials.states) == ["complete", "failed"]
    assert math.isnan(trials.metric_values["val_loss"][1])
    assert any("2 of 3" in note for note in trials.notes)


def test_a_tune_sweep_counts_its_trials_and_pruned_points(tmp_path):
    """A Ray Tune sweep (compute.sweeps): TPE's planned list grows as it suggests points, so
    ``trials`` is the count; a trial ASHA stopped is a pruned point; extra keys are fine."""
    points = [
        {"run": "trial_000_a", "params": {"lr": 0.1}, "final": {"val_loss": 1.5}},
        {"run": "trial_001_b", "params": {"lr": 0.3}, "final": {"val_loss": 2.5}, "state": "pruned",
         "epochs": 1},
    ]  # fmt: skip
    sweep = {
        "parameters": ["lr"], "metric": "val_loss", "goal": "min", "status": "running",
        "planned": [{"lr": 0.1}, {"lr": 0.3}, {"lr": 0.2}], "points": points,
        "engine": "ray tune", "search": "tpe", "scheduler": "asha", "trials": 5, "retries": 0,
    }  # fmt: skip
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    trials = read_trials(tmp_path)
    assert trials.planned == 5 and trials.status == "running"
    assert list(trials.states) == ["complete", "pruned"]
    np.testing.assert_allclose(trials.metric_values["val_loss"], [1.5, 2.5])
    assert any("2 of 5" in note for note in trials.notes)


def test_half_written_sweep_json_is_a_clear_error(tmp_path):
    (tmp_path / "sweep.json").write_text('{"points": [{"run": ')
    with pytest.raises(InputError, match="being written"):
        read_trials(tmp_path)


# --- CSV ------------------------------------------------------------------------------------


def test_csv_of_irregular_trials_guesses_roles_and_skips_bad_rows(tmp_path):
    rng = np.random.default_rng(3)
    lr = 10 ** rng.uniform(-4, -1, 12)
    dropout = rng.uniform(0, 0.5, 12)
    optimizer = rng.choice(["adam", "sgd"], 12)
    accuracy = rng.uniform(0.5, 0.9, 12)
    lines = ["lr;dropout;optimizer;val_accuracy;val_loss"]
    for row in zip(lr, dropout, optimizer, accuracy, 1 - accuracy, strict=True):
        lines.append(";".join(str(v) for v in row))
    lines.insert(5, "0.01;oops;adam;0.7;0.3")  # not a number: skipped
    lines.append("0.02;0.1;sgd;;")  # missing metric: kept as a trial without a value
    path = tmp_path / "trials.csv"
    path.write_text("\n".join(lines) + "\n")
    trials = read_trials(path)
    assert trials.parameters == ("lr", "dropout", "optimizer")
    assert trials.metrics == ("val_accuracy", "val_loss")
    assert len(trials) == 13
    np.testing.assert_allclose(trials.parameter_values["lr"][:12], lr, rtol=1e-12)
    np.testing.assert_allclose(trials.metric_values["val_accuracy"][:12], accuracy, rtol=1e-12)
    assert math.isnan(trials.metric_values["val_accuracy"][12])
    assert trials.is_categorical("optimizer")
    assert list(trials.parameter_values["optimizer"][:12]) == list(optimizer)
    assert set(trials.categories["optimizer"]) == {"adam", "sgd"}
    assert any("Skipped 1 row" in note for note in trials.notes)
    assert trials.complete().sum() == 12


def test_optuna_style_csv_uses_prefixes_state_and_number(tmp_path):
    frame = pd.DataFrame(
        {
            "number": [0, 1, 2],
            "value": [0.5, math.nan, 0.7],
            "datetime_start": ["2024-01-01"] * 3,
            "params_lr": [0.1, 0.01, 0.001],
            "params_opt": ["adam", "sgd", "adam"],
            "user_attrs_val_loss": [1.0, 2.0, 3.0],
            "state": ["COMPLETE", "FAIL", "COMPLETE"],
        }
    )
    path = tmp_path / "study.csv"
    frame.to_csv(path)  # with pandas' unnamed index column
    trials = read_trials(path)
    assert trials.parameters == ("lr", "opt")
    assert trials.metrics == ("value", "val_loss")
    assert list(trials.names) == ["0", "1", "2"]
    assert list(trials.states) == ["complete", "failed", "complete"]
    np.testing.assert_array_equal(trials.metric_values["val_loss"], [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"only_one\n1\n2\n", "single column"),
        (b"\x00\x01\x02binary", "binary"),
        (b"a,b\n", "no rows"),
    ],
)
def test_bad_csv_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_trials(path)


def test_missing_path_and_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_trials(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="HParams session"):
        read_trials(tmp_path)


# --- frames and records ---------------------------------------------------------------------


def test_records_with_named_parameters_like_a_param_grid():
    grid = {"learning_rate": [1e-3, 1e-2], "units": [16, 32]}
    records = [
        {"learning_rate": lr, "units": u, "val_accuracy": 0.5 + lr + u / 100, "seed": 1}
        for lr in grid["learning_rate"]
        for u in grid["units"]
    ]
    trials = trials_from_records(records, parameters=list(grid))
    assert trials.parameters == ("learning_rate", "units")
    assert trials.metrics == ("val_accuracy", "seed")
    np.testing.assert_allclose(trials.metric_values["val_accuracy"], [0.661, 0.821, 0.67, 0.83])
    assert trials.metric == "val_accuracy"


def test_nested_records_and_frames_agree():
    records = [
        {"name": f"t{i}", "params": {"a": i, "act": act}, "metrics": {"loss": 1.0 / (i + 1)}}
        for i, act in enumerate(["relu", "tanh", "relu"])
    ]
    from_records = trials_from_records(records)
    frame = pd.DataFrame(
        {"name": ["t0", "t1", "t2"], "a": [0, 1, 2], "act": ["relu", "tanh", "relu"]}
    )
    frame["loss"] = [1.0, 0.5, 1 / 3]
    from_frame = trials_from_frame(frame, parameters=["a", "act"])
    for trials in (from_records, from_frame):
        assert trials.parameters == ("a", "act") and trials.metrics == ("loss",)
        assert trials.goals == {"loss": "min"}
        assert list(trials.names) == ["t0", "t1", "t2"]
        assert trials.categories == {"act": ("relu", "tanh")}
    with pytest.raises(InputError, match="among the columns"):
        trials_from_frame(frame, parameters=["nope"])
    with pytest.raises(InputError, match="DataFrame"):
        trials_from_frame([1, 2])
    with pytest.raises(InputError, match="empty list"):
        trials_from_records([])


def test_goal_guess_and_override():
    assert guess_goal("val_loss") == "min" and guess_goal("val_mae") == "min"
    assert guess_goal("val_accuracy") == "max" and guess_goal("f1") == "max"
    trials = trials_from_records([{"x": i, "score": i} for i in range(3)]).with_goal("score", "min")
    assert trials.goals["score"] == "min"
    assert isinstance(trials, Trials)


# --- Optuna ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def optuna_storage(tmp_path_factory):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    path = tmp_path_factory.mktemp("optuna") / "study.db"
    storage = f"sqlite:///{path}"
    study = optuna.create_study(
        study_name="search",
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd", "rmsprop"])
        width = trial.suggest_categorical("width", [16, 32, 64])
        trial.set_user_attr("val_loss", lr * 10)
        trial.set_user_attr("note", "text")
        if trial.number == 2:
            raise RuntimeError("diverged")
        return -((math.log10(lr) + 3) ** 2) + width / 64 + (optimizer == "adam")

    study.optimize(objective, n_trials=8, catch=(RuntimeError,))
    multi = optuna.create_study(
        study_name="pareto",
        storage=storage,
        directions=["minimize", "maximize"],
        sampler=optuna.samplers.RandomSampler(seed=1),
    )
    multi.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_int("n", 1, 9)), n_trials=4)
    return path, study, multi


def test_optuna_study_matches_trials_dataframe(optuna_storage):
    path, study, _ = optuna_storage
    frame = study.trials_dataframe()
    trials = read_trials(path)
    assert trials.parameters == ("lr", "optimizer", "width")
    assert trials.metric == "value" and trials.goals["value"] == "max"
    assert list(trials.names) == [str(n) for n in frame["number"]]
    assert list(trials.states) == [s.lower().replace("fail", "failed") for s in frame["state"]]
    np.testing.assert_allclose(trials.metric_values["value"], frame["value"], equal_nan=True)
    np.testing.assert_allclose(trials.parameter_values["lr"], frame["params_lr"], rtol=1e-12)
    np.testing.assert_array_equal(trials.parameter_values["width"], frame["params_width"])
    assert list(trials.parameter_values["optimizer"]) == list(frame["params_optimizer"])
    assert trials.categories["optimizer"] == ("adam", "sgd", "rmsprop")
    assert not trials.is_categorical("width")  # numeric choices keep their order
    np.testing.assert_allclose(trials.metric_values["val_loss"], frame["user_attrs_val_loss"])
    assert "note" not in trials.metrics
    assert any("pareto" in note for note in trials.notes)
    # The same study as a DataFrame and through its CSV export reads the same values.
    from_frame = trials_from_frame(frame)
    assert from_frame.parameters == trials.parameters
    np.testing.assert_allclose(
        from_frame.metric_values["value"], trials.metric_values["value"], equal_nan=True
    )
    assert list(from_frame.states) == list(trials.states)
    csv_path = path.parent / "study.csv"
    frame.to_csv(csv_path, index=False)
    from_csv = read_trials(csv_path)
    np.testing.assert_allclose(
        from_csv.metric_values["value"], trials.metric_values["value"], equal_nan=True
    )
    assert list(from_csv.states) == list(trials.states)


def test_optuna_multi_objective_study_and_study_list(optuna_storage):
    path, _, multi = optuna_storage
    assert list_studies(path) == ["search", "pareto"]
    trials = read_trials(path, study="pareto")
    frame = multi.trials_dataframe()
    assert trials.metrics == ("values_0", "values_1")
    assert trials.goals == {"values_0": "min", "values_1": "max"}
    np.testing.assert_allclose(trials.metric_values["values_0"], frame["values_0"])
    np.testing.assert_allclose(trials.metric_values["values_1"], frame["values_1"])
    with pytest.raises(InputError, match="pareto"):
        read_trials(path, study="missing")


def test_sqlite_file_that_is_not_an_optuna_study(tmp_path):
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE things (a INTEGER)")
    connection.commit()
    connection.close()
    with pytest.raises(InputError, match="Optuna study"):
        read_trials(path)
    fake = tmp_path / "fake.sqlite"
    fake.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="Optuna"):
        read_trials(fake)


# --- TensorBoard HParams --------------------------------------------------------------------

HPARAM_TRIALS = [
    {"lr": 1e-3, "optimizer": "adam", "units": 16, "accuracy": [0.5, 0.7], "val_loss": [1.0, 0.6]},
    {"lr": 1e-2, "optimizer": "sgd", "units": 32, "accuracy": [0.4, 0.8], "val_loss": [0.9, 0.4]},
    {"lr": 1e-1, "optimizer": "adam", "units": 64, "accuracy": [0.3, 0.2], "val_loss": [2.0, 3.0]},
]


@pytest.fixture(scope="module")
def hparams_logdir(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import api_pb2, summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    root = tmp_path_factory.mktemp("hparams")
    for i, trial in enumerate(HPARAM_TRIALS):
        folder = root / f"run-{i}"
        with tf.summary.create_file_writer(str(folder)).as_default():
            hp.hparams({k: trial[k] for k in ("lr", "optimizer", "units")}, trial_id=f"t{i}")
            for step, value in enumerate(trial["accuracy"]):
                tf.summary.scalar("accuracy", value, step=step)
        with tf.summary.create_file_writer(str(folder / "validation")).as_default():
            for step, value in enumerate(trial["val_loss"]):
                tf.summary.scalar("epoch_loss", value, step=step)
    # The last trial ended in failure (what hp.KerasCallback writes when training raises).
    writer = EventFileWriter(str(root / "run-2"), filename_suffix=".end")
    from tensorboard.compat.proto import event_pb2

    end = summary.session_end_pb(api_pb2.STATUS_FAILURE)  # TensorFlow's own Summary class
    event = event_pb2.Event(step=0)
    event.summary.ParseFromString(end.SerializeToString())
    writer.add_event(event)
    writer.close()
    return root


def test_hparams_logdir_gives_hparams_and_final_values(hparams_logdir):
    trials = read_trials(hparams_logdir)
    assert list(trials.names) == ["run-0", "run-1", "run-2"]
    assert set(trials.parameters) == {"lr", "optimizer", "units"}
    np.testing.assert_allclose(trials.parameter_values["lr"], [1e-3, 1e-2, 1e-1])
    np.testing.assert_array_equal(trials.parameter_values["units"], [16, 32, 64])
    assert list(trials.parameter_values["optimizer"]) == ["adam", "sgd", "adam"]
    assert set(trials.metrics) == {"accuracy", "val_loss"}
    expected = [t["accuracy"][-1] for t in HPARAM_TRIALS]
    np.testing.assert_allclose(trials.metric_values["accuracy"], expected, rtol=1e-6)
    expected = [t["val_loss"][-1] for t in HPARAM_TRIALS]
    np.testing.assert_allclose(trials.metric_values["val_loss"], expected, rtol=1e-6)
    assert trials.metric == "val_loss" and trials.goals["val_loss"] == "min"
    assert list(trials.states) == ["complete", "complete", "failed"]
    # An event file inside the log dir reads its folder.
    event = next((hparams_logdir / "run-0").glob("events.out.tfevents.*"))
    assert read_trials(event).names.tolist() == ["run-0"]


def test_find_trial_sources_lists_sweeps_and_hparams_folders(tmp_path, hparams_logdir):
    from neurogenesis.io.trials import find_trial_sources

    sweeps = ROOT / "data" / "sweeps"
    found = find_trial_sources(sweeps)
    assert found == sorted(
        str(folder) for folder in sweeps.iterdir() if (folder / "sweep.json").is_file()
    )
    # A sweep folder is one source: its run folders are not searched.
    assert find_trial_sources(sweeps / "digits_cnn") == [str(sweeps / "digits_cnn")]
    assert find_trial_sources(hparams_logdir) == [str(hparams_logdir)]
    csv = tmp_path / "trials.csv"
    csv.write_text("lr,loss\n0.1,1\n")
    assert find_trial_sources(csv) == [str(csv)]
    (tmp_path / "notes.txt").write_text("hello")
    assert find_trial_sources(tmp_path / "notes.txt") == []
    # The demo runs hold training logs, not searches.
    assert find_trial_sources(ROOT / "data" / "runs") == []
    assert find_trial_sources(tmp_path / "missing") == []

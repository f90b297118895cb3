"""Pairing training and validation series across log formats."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.analysis.training import curves_info, metric_names, split_tag
from neurogenesis.io.logs import read_run
from neurogenesis.testing import write_csv_log, write_json_history


@pytest.mark.parametrize(
    ("tag", "run", "expected"),
    [
        ("loss", "training.csv", ("train", "loss")),
        ("val_loss", "training.csv", ("validation", "loss")),
        ("val_accuracy", "h.json", ("validation", "accuracy")),
        ("train/loss", "digits/adam", ("train", "loss")),
        ("validation/accuracy", "digits/adam", ("validation", "accuracy")),
        ("epoch_loss", "logs/train", ("train", "loss")),
        ("epoch_loss", "logs/validation", ("validation", "loss")),
        ("gradient_norm/dense/kernel", "digits/adam", ("other", "gradient_norm/dense/kernel")),
    ],
)
def test_split_tag(tag, run, expected):
    assert split_tag(tag, run) == expected


def test_curves_pair_train_and_validation_and_keep_nan(tmp_path):
    history = {
        "loss": [1.0, 0.5, float("nan")],
        "val_loss": [1.2, 0.8, 0.9],
        "accuracy": [0.1, 0.5, 0.6],
    }
    csv_run = read_run(write_csv_log(tmp_path / "a.csv", history), use_cache=False)
    json_run = read_run(
        write_json_history(tmp_path / "b.json", {"loss": [2.0, 1.0]}), use_cache=False
    )
    assert metric_names([csv_run, json_run]) == ["loss", "accuracy"]
    info = curves_info([csv_run, json_run], "loss")
    assert [(curve.run, curve.role, curve.tag) for curve in info.curves] == [
        ("a.csv", "train", "loss"),
        ("a.csv", "validation", "val_loss"),
        ("b.json", "train", "loss"),
    ]
    train = info.curves[0]
    assert train.steps.tolist() == [0, 1, 2]
    assert np.isnan(train.values[2]) and train.first_nonfinite_step == 2
    assert info.curves[1].first_nonfinite_step is None
    assert info.last_wall_time is None  # CSV and JSON carry no wall times


# --- The dashboard ------------------------------------------------------------------------------

from neurogenesis.analysis.smoothing import gaussian_smooth, tensorboard_ema  # noqa: E402
from neurogenesis.analysis.training import (  # noqa: E402
    WITHOUT_SEED,
    curves_table,
    dashboard_info,
    display_names,
    group_runs,
    grouping_options,
    logical_run_name,
    purge_restarts,
    run_attributes,
)
from neurogenesis.errors import InputError  # noqa: E402
from neurogenesis.io.logs import Run, ScalarSeries  # noqa: E402


def _series(tag, values, steps=None, walls=None, segments=None):
    values = np.asarray(values, dtype=np.float64)
    steps = np.arange(values.size) if steps is None else np.asarray(steps)
    walls = np.full(values.size, np.nan) if walls is None else np.asarray(walls, dtype=float)
    segments = np.zeros(values.size, np.int32) if segments is None else np.asarray(segments)
    return ScalarSeries(tag, steps, values, walls, segments)


def _run(name, series, format="neurogenesis"):
    return Run(name, f"/logs/{name}", format, {s.tag: s for s in series}, {}, (), ())


def test_logical_names_merge_keras_train_and_validation_folders():
    assert logical_run_name("exp/keras/train") == "exp/keras"
    assert logical_run_name("exp/keras/validation") == "exp/keras"
    assert logical_run_name("train") == "train"  # a run called train is its own run
    assert logical_run_name("exp/adam") == "exp/adam"
    assert display_names([("a", "x/train"), ("a", "x/validation"), ("b", "x"), ("b", "y")]) == [
        "a: x/train",
        "a: x/validation",
        "b: x",
        "y",
    ]
    assert display_names([("logs", "train"), ("logs", "validation")]) == [
        "logs/train",
        "logs/validation",
    ]


def test_purge_restarts_keeps_what_the_restarted_attempt_overwrote():
    steps, values, _ = purge_restarts(
        [0, 1, 2, 3, 2, 3, 4],
        [10, 11, 12, 13, 22, 23, 24],
        np.full(7, np.nan),
        [0, 0, 0, 0, 1, 1, 1],
    )
    assert steps.tolist() == [0, 1, 2, 3, 4]
    assert values.tolist() == [10, 11, 22, 23, 24]


def test_million_points_are_drawn_with_2000_keeping_exact_extremes_and_exact_smoothing():
    rng = np.random.default_rng(0)
    n = 1_000_000
    values = np.cumsum(rng.normal(size=n)) * 0.01 + 5.0
    values[123_456] = 99.0  # a spike smoothing and naive sampling would hide
    values[654_321] = -42.0
    run = _run("long", [_series("train/loss", values)])
    info = dashboard_info([run], ["loss"], smoothing="exponential", smoothing_value=0.9)
    (trace,) = info.traces
    assert trace.num_points == n
    assert trace.x.size <= 2004 and trace.raw_x.size <= 2004
    assert trace.raw_y.max() == 99.0 and trace.raw_y.min() == -42.0
    smoothed = tensorboard_ema(values, 0.9)
    assert trace.y.max() == smoothed.max() and trace.y.min() == smoothed.min()
    np.testing.assert_array_equal(trace.y, smoothed[trace.x.astype(int)])
    assert trace.best_value == -42.0 and trace.best_x == 654_321
    assert info.total_points == n and info.drawn_points <= 2 * 2004

    zoomed = dashboard_info(
        [run], ["loss"], smoothing="exponential", smoothing_value=0.9, x_range=(1000, 2499)
    )
    (part,) = zoomed.traces
    # The range is read again at full detail, smoothed over the whole run, one neighbour each side.
    assert part.x.tolist() == list(range(999, 2501))
    np.testing.assert_array_equal(part.y, smoothed[999:2501])


def test_nan_and_inf_are_marked_not_dropped():
    values = [1.0, 0.5, np.nan, 0.4, np.inf, -np.inf]
    info = dashboard_info([_run("r", [_series("loss", values)], "csv")], ["loss"], smoothing="none")
    (trace,) = info.traces
    assert trace.nonfinite_x.tolist() == [2, 4, 5]
    assert trace.nonfinite_kinds == ("NaN", "+Inf", "-Inf")
    assert trace.num_nonfinite == 3 and trace.first_nonfinite_x == 2
    assert trace.best_x == 3 and trace.best_value == 0.4
    assert trace.last_x == 3


def test_groups_draw_mean_and_band_by_hand():
    runs = [
        _run("adam_seed1", [_series("train/loss", [4.0, 2.0, 1.0])]),
        _run("adam_seed2", [_series("train/loss", [2.0, 1.0, 0.0])]),
        _run("sgd_seed1", [_series("train/loss", [3.0, 3.0, 3.0])]),
    ]
    attributes = {run.name: run_attributes(run.name) for run in runs}
    assert grouping_options(attributes) == [WITHOUT_SEED]
    groups = group_runs(attributes, WITHOUT_SEED)
    assert groups == {"adam_seed1": "adam", "adam_seed2": "adam", "sgd_seed1": "sgd"}
    info = dashboard_info(runs, ["loss"], smoothing="none", groups=groups)
    adam = next(trace for trace in info.traces if trace.label == "adam")
    assert adam.members == ("adam_seed1", "adam_seed2")
    assert adam.y.tolist() == [3.0, 1.5, 0.5]
    assert adam.lower.tolist() == [2.0, 1.0, 0.0] and adam.upper.tolist() == [4.0, 2.0, 1.0]
    std = dashboard_info(runs, ["loss"], smoothing="none", groups=groups, band="std")
    adam = next(trace for trace in std.traces if trace.label == "adam")
    np.testing.assert_allclose(adam.upper - adam.y, [1.0, 0.5, 0.5])
    assert info.groups == (("adam", ("adam_seed1", "adam_seed2")), ("sgd", ("sgd_seed1",)))


def test_group_members_are_interpolated_and_leave_the_mean_when_they_diverge():
    runs = [
        _run("a", [_series("loss", [0.0, 2.0], steps=[0, 2])], "csv"),
        _run("b", [_series("loss", [1.0, 1.0, np.nan], steps=[0, 1, 2])], "csv"),
    ]
    info = dashboard_info(runs, ["loss"], smoothing="none", groups={"a": "g", "b": "g"})
    (trace,) = info.traces
    # step 1: a interpolates to 1.0, b is 1.0; step 2: b diverged, a alone.
    assert trace.x.tolist() == [0, 1, 2] and trace.y.tolist() == [0.5, 1.0, 2.0]
    assert any("b became non-finite at 2" in note for note in info.notes)


def test_x_axes_epoch_time_and_missing_wall_times():
    start = 1_000.0
    keras = [
        _run(
            "k/train",
            [
                _series("epoch_loss", [1.0, 0.5], walls=[start + 10, start + 20]),
                # Batches logged every 2.5 s: the first epoch ends at 10 s, the second at 20 s.
                _series(
                    "batch_loss",
                    [2, 1.5, 1.2, 1.0, 0.9, 0.7, 0.6, 0.5],
                    steps=range(8),
                    walls=start + 2.5 * np.arange(1, 9),
                ),
            ],
            "tensorboard",
        ),
        _run(
            "k/validation",
            [_series("epoch_loss", [1.2, 0.8], walls=[start + 11, start + 21])],
            "tensorboard",
        ),  # fmt: skip
        _run("history.csv", [_series("loss", [1.0, 0.9])], "csv"),
    ]
    info = dashboard_info(keras, ["batch_loss"], x_axis="epoch", smoothing="none")
    (batch,) = info.traces
    assert batch.label == "k"
    np.testing.assert_allclose(batch.x, [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0])
    info = dashboard_info(keras, ["loss"], x_axis="relative time", smoothing="none")
    assert [(t.label, t.role) for t in info.traces] == [("k", "train"), ("k", "validation")]
    # Seconds since the run's first point (the first batch, 2.5 s in).
    assert info.traces[0].x.tolist() == [7.5, 17.5]
    assert info.traces[1].x.tolist() == [8.5, 18.5]
    assert any("history.csv has no wall times" in note for note in info.notes)
    steps = dashboard_info(keras, ["loss"], x_axis="step", smoothing="none")
    assert {t.label for t in steps.traces} == {"k", "history.csv"}


def test_smoothers_and_bad_settings():
    values = np.sin(np.arange(50) / 3.0)
    run = _run("r", [_series("loss", values)], "csv")
    info = dashboard_info([run], ["loss"], smoothing="gaussian", smoothing_value=2.0)
    np.testing.assert_allclose(info.traces[0].y, gaussian_smooth(values, 2.0))
    np.testing.assert_array_equal(info.traces[0].raw_y, values)
    none = dashboard_info([run], ["loss"], smoothing="none")
    assert none.traces[0].raw_x.size == 0
    for bad in ({"x_axis": "time"}, {"smoothing": "lowess"}, {"band": "iqr"}):
        with pytest.raises(InputError):
            dashboard_info([run], ["loss"], **bad)


def test_run_attributes_from_names_and_hyperparameters():
    assert run_attributes("sweep/lr_0.003_width_128") == {"lr": "0.003", "width": "128"}
    assert run_attributes("x/adam_seed_2", {"optimizer": "adam", "seed": 2, "config": {}}) == {
        "optimizer": "adam",
        WITHOUT_SEED: "x/adam",
    }


def test_curves_table_holds_every_point(tmp_path):
    values = [1.0, np.nan, 0.5]
    run = _run("r", [_series("train/loss", values), _series("validation/loss", [2.0, 1.0, 0.7])])
    table = curves_table([run], ["loss"], smoothing="exponential", smoothing_value=0.5)
    assert len(table) == 6
    train = table[table.role == "train"]
    assert np.isnan(train.value.iloc[1])
    np.testing.assert_allclose(train.smoothed, tensorboard_ema(np.array(values), 0.5))


def test_named_runs_and_pick_runs_resolve_logical_runs_across_sources():
    from types import SimpleNamespace

    from neurogenesis.analysis.training import named_runs, pick_runs

    a = [SimpleNamespace(name=n) for n in ("adam", "keras/train", "keras/validation")]
    b = [SimpleNamespace(name="adam")]
    runs, names = named_runs([("demo", a), ("mine", b)])
    assert runs == [*a, *b]
    assert names == ["demo: adam", "keras/train", "keras/validation", "mine: adam"]
    assert pick_runs(runs, names, ("keras", "mine: adam")) == (
        [a[1], a[2], b[0]],
        ["keras/train", "keras/validation", "mine: adam"],
    )
    assert pick_runs(runs, names, ("nothing",)) == ([], [])


# --- Logs whose x is not a plain epoch list: validation_freq, Lightning's global steps ----------


def test_best_validation_epoch_with_validation_freq_is_the_epoch_it_ran(tmp_path):
    from neurogenesis.analysis.convergence import early_stopping_report
    from neurogenesis.analysis.training import epoch_table

    # fit(epochs=10, validation_freq=2): Keras validates after epochs 1, 3, 5, 7, 9 (0-based).
    val_loss = [0.9, 0.7, 0.4, 0.6, 0.8]  # the best at list index 2: the 6th epoch
    history = {"loss": [1.0 - e / 20 for e in range(10)], "val_loss": val_loss}
    run = read_run(write_json_history(tmp_path / "h.json", history), use_cache=False)
    table = epoch_table([run], "h.json")
    assert table.steps.tolist() == list(range(10))
    epochs, train, validation = table.monitored_history("loss")
    assert epochs.tolist() == [1, 3, 5, 7, 9]
    assert validation.tolist() == val_loss
    assert train.tolist() == [history["loss"][e] for e in (1, 3, 5, 7, 9)]
    report = early_stopping_report(epochs, train, validation, metric="loss", patience=1)
    assert report.best_epoch == 5
    assert report.findings[0].startswith("Best validation loss 0.4 at epoch 5")
    # Keras's EarlyStopping(patience=1) counts validated epochs only: it stops after epoch 7.
    assert report.early_stopping.stopped_epoch == 7
    assert report.divergence_epoch is None
    assert not any("diverge" in finding.lower() for finding in report.findings)
    # The guess is shown with the curves.
    info = dashboard_info([run], ["loss"], smoothing="none")
    assert [t.x.tolist() for t in info.traces] == [list(range(10)), [1, 3, 5, 7, 9]]
    assert [t.best_x for t in info.traces][1] == 5
    assert any(note.startswith("h.json: ") and "validation_freq=2" in note for note in info.notes)


def test_lightning_run_on_the_step_and_epoch_axes(tmp_path):
    from neurogenesis.analysis.training import epoch_table
    from neurogenesis.testing import lightning_rows, write_lightning_log

    batches = 10
    rows = lightning_rows(num_epochs=3, batches=batches, every=4)
    run = read_run(write_lightning_log(tmp_path / "version_0", rows), use_cache=False)
    metrics = ["train_loss_step", "loss"]  # val_loss is the validation loss
    by_step = dashboard_info([run], metrics, x_axis="step", smoothing="none")
    steps = {t.metric: t.x.tolist() for t in by_step.traces}
    assert steps == {
        "train_loss_step": [3, 7, 11, 15, 19, 23, 27],
        "loss": [9, 19, 29],
    }
    by_epoch = dashboard_info([run], metrics, x_axis="epoch", smoothing="none")
    epochs = {t.metric: t.x for t in by_epoch.traces}
    # Global step s is batch s + 1; an epoch's point sits where it ends (epoch e at e, as Keras).
    np.testing.assert_allclose(
        epochs["train_loss_step"], (np.array(steps["train_loss_step"]) + 1) / batches - 1
    )
    np.testing.assert_allclose(epochs["loss"], [0, 1, 2])
    assert by_epoch.notes == ()
    # The per-epoch table keys the once-per-epoch series by epoch and leaves the per-step one out.
    table = epoch_table([run], run.name)
    assert table.steps.tolist() == [0, 1, 2]
    assert set(table.columns) == {"train train_loss_epoch", "validation loss", "validation acc"}
    np.testing.assert_allclose(table.column("validation loss"), [1.5 / (e + 1) for e in range(3)])

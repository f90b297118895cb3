"""Every log at the right x: PyTorch Lightning's metrics.csv read by global step (epoch kept as
each point's epoch, never a metric), and Keras histories written with validation_freq placing
validation at the epochs it ran."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neurogenesis.io.logs import find_runs, read_run
from neurogenesis.testing import lightning_rows, write_json_history, write_lightning_log

AXES = ("epoch", "step")


def _expected(rows, tag):
    """A tag's (steps, values, epochs) straight from the logging calls that logged it."""
    logged = [row for row in rows if tag in row]
    return (
        [row["step"] for row in logged],
        [row[tag] for row in logged],
        [float(row["epoch"]) for row in logged],
    )


def _kinds(run):
    return [p.kind for p in run.problems]


# ------------------------------------------------------------------------------------------
# PyTorch Lightning CSVLogger
# ------------------------------------------------------------------------------------------


def test_lightning_metrics_csv_reads_every_point_at_its_step(tmp_path):
    rows = lightning_rows(num_epochs=3, batches=10, every=4)
    version = tmp_path / "lightning_logs" / "version_0"
    path = write_lightning_log(version, rows, {"lr": 0.001, "hidden": 64})
    text = path.read_bytes().decode()
    # The layout as Lightning writes it: sorted keys, rows of other calls' cells empty.
    assert text.startswith("epoch,step,train_loss_epoch,train_loss_step,val_acc,val_loss\r\n")
    assert "\r\n0,9,,,0.5,1.5\r\n0,9,1.0,,,\r\n" in text

    (run,) = find_runs(tmp_path / "lightning_logs", use_cache=False)
    assert (run.name, run.format) == ("version_0/metrics.csv", "csv")
    metrics = sorted({key for row in rows for key in row} - set(AXES))
    assert sorted(run.scalars) == metrics and not set(AXES) & set(run.scalars)
    for tag in metrics:
        steps, values, epochs = _expected(rows, tag)
        series = run.scalars[tag]
        assert series.steps.tolist() == steps, tag
        assert series.values.tolist() == values, tag
        assert series.epochs.tolist() == epochs, tag
        assert series.num_missing == 0, tag  # an empty cell is another call's row, not a gap
    # Validation and the epoch means share each epoch's last step, in separate rows: no problem.
    assert run.scalars["val_loss"].steps.tolist() == [9, 19, 29]
    assert run.scalars["train_loss_step"].steps.tolist() == [3, 7, 11, 15, 19, 23, 27]
    assert run.problems == ()
    assert read_run(path, use_cache=False).scalars == run.scalars


def test_lightning_same_column_twice_at_one_step_is_still_a_duplicate(tmp_path):
    rows = lightning_rows(num_epochs=2, batches=8, every=4)
    # A resumed fit logs the last epoch's validation again at the same step.
    rows.append({"epoch": 1, "step": 15, "val_loss": 0.7, "val_acc": 0.65})
    run = read_run(write_lightning_log(tmp_path / "version_0", rows), use_cache=False)
    assert sorted((p.kind, p.tag, p.step) for p in run.problems) == [
        ("duplicate_steps", "val_acc", 15),
        ("duplicate_steps", "val_loss", 15),
    ]
    assert run.scalars["val_loss"].steps.tolist() == [7, 15, 15]
    assert run.scalars["val_loss"].values.tolist() == [1.5, 0.75, 0.7]


def test_lightning_restart_goes_back_in_steps(tmp_path):
    rows = lightning_rows(num_epochs=2, batches=8, every=4)
    rows += [{"epoch": 1, "step": 11, "train_loss_step": 0.3}]  # resumed from step 11
    run = read_run(write_lightning_log(tmp_path / "version_0", rows), use_cache=False)
    (problem,) = run.problems
    assert (problem.kind, problem.tag, problem.step) == ("restart", "train_loss_step", 11)
    assert run.scalars["train_loss_step"].segments.tolist() == [0, 0, 0, 0, 1]


def test_lightning_metrics_csv_cut_mid_row_is_read_as_far_as_it_goes(tmp_path):
    rows = lightning_rows(num_epochs=2, batches=8, every=4)
    path = write_lightning_log(tmp_path / "version_0", rows)
    text = path.read_bytes()
    lines = text.split(b"\r\n")
    assert lines[-1] == b"" and lines[-2] == b"1,15,0.5,,,"  # the last call: train_loss_epoch
    path.write_bytes(text[: -len(b",,,\r\n")])  # cut inside the last row: "1,15,0.5"
    run = read_run(path, use_cache=False)
    (problem,) = run.problems
    assert problem.kind == "truncated" and problem.offset == len(lines) - 1
    assert "line" in problem.message
    for tag in ("train_loss_step", "val_loss", "val_acc"):
        steps, values, _ = _expected(rows, tag)
        assert run.scalars[tag].steps.tolist() == steps
        assert run.scalars[tag].values.tolist() == values
    # The cut row was the second epoch's train_loss_epoch: only the first epoch's is kept.
    assert run.scalars["train_loss_epoch"].steps.tolist() == [7]


def test_lightning_epochs_survive_the_cache(tmp_path):
    rows = lightning_rows(num_epochs=2, batches=8, every=4)
    path = write_lightning_log(tmp_path / "logs" / "version_0", rows)
    cache = tmp_path / "cache"
    first = read_run(path, cache_dir=cache)
    assert list((cache / "logs").glob("*.parquet"))
    second = read_run(path, cache_dir=cache)
    assert second == first == read_run(path, use_cache=False)
    assert second.scalars["val_loss"].epochs.tolist() == [0.0, 1.0]


def test_step_csv_without_epoch_and_other_axis_columns(tmp_path):
    # TensorBoard's CSV download: "Wall time,Step,Value".
    path = tmp_path / "run-train-tag-loss.csv"
    path.write_text("Wall time,Step,Value\n1700000000.5,0,1.0\n1700000001.5,10,0.5\n")
    run = read_run(path, use_cache=False)
    assert list(run.scalars) == ["Value"]
    value = run.scalars["Value"]
    assert value.steps.tolist() == [0, 10]
    assert value.wall_times.tolist() == [1700000000.5, 1700000001.5]
    assert np.isnan(value.epochs).all() and not value.has_epochs
    assert run.problems == ()


def test_step_csv_bad_steps_and_epochs_are_unparseable(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,loss\n0,0,1.0\n0,x,0.9\nabc,2,0.8\n1,3,NA\n")
    run = read_run(path, use_cache=False)
    loss = run.scalars["loss"]
    assert loss.steps.tolist() == [0, 2] and loss.missing_steps.tolist() == [3]
    np.testing.assert_array_equal(loss.epochs, [0.0, np.nan])
    problems = {(p.kind, p.tag): p.offset for p in run.problems}
    assert problems == {("unparseable_value", "step"): 3, ("unparseable_value", "epoch"): 4}


# ------------------------------------------------------------------------------------------
# Keras histories written with validation_freq
# ------------------------------------------------------------------------------------------


def _keras_validation_epochs(num_epochs: int, frequency: int) -> list[int]:
    """Keras's rule (0-based epochs): validate when (epoch + 1) % validation_freq == 0."""
    return [epoch for epoch in range(num_epochs) if (epoch + 1) % frequency == 0]


@pytest.mark.parametrize(("num_epochs", "frequency"), [(10, 2), (11, 2), (9, 3), (10, 3)])
def test_json_history_with_validation_freq_places_validation_at_its_epochs(
    tmp_path, num_epochs, frequency
):
    validated = _keras_validation_epochs(num_epochs, frequency)
    history = {
        "loss": [1.0 / (e + 1) for e in range(num_epochs)],
        "accuracy": [e / num_epochs for e in range(num_epochs)],
        "val_loss": [2.0 / (e + 1) for e in validated],
        "val_accuracy": [e / 20 for e in validated],
    }
    run = read_run(write_json_history(tmp_path / "history.json", history), use_cache=False)
    assert run.scalars["loss"].steps.tolist() == list(range(num_epochs))
    for tag in ("val_loss", "val_accuracy"):
        assert run.scalars[tag].steps.tolist() == validated
        assert run.scalars[tag].values.tolist() == history[tag]
    (note,) = run.problems
    assert note.kind == "validation_epochs"
    assert f"validation_freq={frequency}" in note.message
    assert f"epochs {frequency}, {2 * frequency}, ..." in note.message
    assert "a guess from the list lengths" in note.message


def test_json_history_with_lengths_no_frequency_fits_is_noted(tmp_path):
    history = {"loss": [1.0] * 10, "val_loss": [2.0, 1.5, 1.25, 1.0]}  # 10 // 2 = 5, 10 // 3 = 3
    run = read_run(write_json_history(tmp_path / "history.json", history), use_cache=False)
    assert run.scalars["val_loss"].steps.tolist() == [0, 1, 2, 3]  # as before: unknown epochs
    (note,) = run.problems
    assert note.kind == "validation_epochs" and "unknown" in note.message
    assert "val_loss 4" in note.message and "(10)" in note.message


def test_json_history_val_lists_of_different_lengths_are_not_guessed(tmp_path):
    history = {"loss": [1.0] * 6, "val_loss": [1.0, 0.5, 0.25], "val_accuracy": [0.5, 0.6]}
    run = read_run(write_json_history(tmp_path / "history.json", history), use_cache=False)
    assert run.scalars["val_loss"].steps.tolist() == [0, 1, 2]
    assert run.scalars["val_accuracy"].steps.tolist() == [0, 1]
    assert _kinds(run) == ["validation_epochs"] and "unknown" in run.problems[0].message


def test_json_history_without_validation_freq_has_no_note(tmp_path):
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, math.nan]}
    run = read_run(write_json_history(tmp_path / "history.json", history), use_cache=False)
    assert run.problems == () and run.scalars["val_loss"].steps.tolist() == [0, 1, 2]


def test_json_history_cut_short_is_not_guessed(tmp_path):
    history = {"loss": [1.0, 0.9, 0.8, 0.7], "val_loss": [1.2, 1.1, 1.0, 0.95]}
    text = json.dumps(history)
    path = tmp_path / "history.json"
    path.write_text(text[: text.index("1.0, 0.95")])  # val_loss cut after two entries
    run = read_run(path, use_cache=False)
    assert run.scalars["val_loss"].steps.tolist() == [0, 1]  # a cut list is no frequency
    assert _kinds(run) == ["truncated"]


@pytest.fixture(scope="module")
def keras_validation_freq_logs(tmp_path_factory):
    """A real model.fit(validation_freq=3) with CSVLogger, and its History as JSON."""
    import keras

    from neurogenesis.testing import tiny_data, tiny_dense_model

    folder = tmp_path_factory.mktemp("keras_freq")
    x, y = tiny_data()
    model = tiny_dense_model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x,
        y,
        epochs=7,
        batch_size=16,
        validation_split=0.25,
        validation_freq=3,
        verbose=0,
        callbacks=[keras.callbacks.CSVLogger(str(folder / "training.csv"))],
    )
    write_json_history(folder / "history.json", history.history)
    return {"folder": folder, "history": history.history}


def test_real_keras_validation_freq_json_matches_its_csv_logger(keras_validation_freq_logs):
    folder = keras_validation_freq_logs["folder"]
    history = keras_validation_freq_logs["history"]
    assert len(history["loss"]) == 7 and len(history["val_loss"]) == 2
    from_json = read_run(folder / "history.json", use_cache=False)
    from_csv = read_run(folder / "training.csv", use_cache=False)  # epochs written, NA between
    assert from_csv.problems == ()
    for tag in ("val_loss", "val_accuracy"):
        assert from_csv.scalars[tag].steps.tolist() == [2, 5]
        assert from_csv.scalars[tag].missing_steps.tolist() == [0, 1, 3, 4, 6]
        assert from_json.scalars[tag].steps.tolist() == from_csv.scalars[tag].steps.tolist()
        assert from_json.scalars[tag].values.tolist() == history[tag]
    assert _kinds(from_json) == ["validation_epochs"]

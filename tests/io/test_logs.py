"""neurogenesis.io.logs: every point of every log, damage reported and never fatal.

Real logs are written here with tf.summary, a Keras model.fit (TensorBoard + CSVLogger callbacks,
json.dump of the History) and hand-built TF1/TF2 Event protos framed by TensorBoard's own
(pure-Python) record writer, and read back against what was written and against TensorBoard's
EventAccumulator.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

from neurogenesis.errors import InputError
from neurogenesis.io import logs
from neurogenesis.io.logs import (
    HistogramSeries,
    Problem,
    Run,
    ScalarSeries,
    find_runs,
    read_run,
)

ROOT = Path(__file__).resolve().parents[2]
EVENT_NAME = "events.out.tfevents.1700000000.testhost.1.v2"
NUM_EPOCHS = 3


# ------------------------------------------------------------------------------------------
# Writing logs
# ------------------------------------------------------------------------------------------


def frame_records(payloads: list[bytes]) -> bytes:
    """TFRecord framing by TensorBoard's own writer (an independent CRC-32C implementation)."""

    class Sink:
        def __init__(self):
            self.chunks = []

        def write(self, data):
            self.chunks.append(data)

        def flush(self):
            pass

        def close(self):
            pass

    sink = Sink()
    writer = RecordWriter(sink)
    for payload in payloads:
        writer.write(payload)
    return b"".join(sink.chunks)


def event_bytes(events: list[event_pb2.Event], version: bool = True) -> bytes:
    head = [event_pb2.Event(wall_time=1.0, file_version="brain.Event:2")] if version else []
    return frame_records([e.SerializeToString() for e in head + events])


def write_events(folder: Path, events, name: str = EVENT_NAME) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(event_bytes(events))
    return path


def simple_value(step: int, tag: str, value: float, wall: float | None = None):
    return event_pb2.Event(
        step=step,
        wall_time=1000.0 + step if wall is None else wall,
        summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]),
    )


def tensor_event(step: int, tag: str, tensor, plugin: str | None = "scalars", wall=None):
    event = event_pb2.Event(step=step, wall_time=2000.0 + step if wall is None else wall)
    value = event.summary.value.add(tag=tag)
    value.tensor.CopyFrom(tensor)
    if plugin:
        value.metadata.plugin_data.plugin_name = plugin
    return event


def float_tensor(x, dtype=np.float32):
    array = np.asarray(x, dtype=dtype)
    proto = tensor_pb2.TensorProto(
        dtype={
            np.float32: types_pb2.DT_FLOAT,
            np.float64: types_pb2.DT_DOUBLE,
            np.float16: types_pb2.DT_HALF,
            np.int32: types_pb2.DT_INT32,
            np.int64: types_pb2.DT_INT64,
        }[dtype],
        tensor_content=array.astype(array.dtype.newbyteorder("<")).tobytes(),
    )
    proto.tensor_shape.SetInParent()
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    return proto


def histo_event(step: int, tag: str, limits, counts, low, high):
    histo = summary_pb2.HistogramProto(
        min=low, max=high, num=float(sum(counts)), bucket_limit=limits, bucket=counts
    )
    return event_pb2.Event(
        step=step,
        wall_time=3000.0 + step,
        summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=histo)]),
    )


def record_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each record of an intact file, from the length fields alone."""
    spans, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        spans.append((pos, pos + 12 + length + 4))
        pos += 12 + length + 4
    return spans


def accumulator(path, purge=True):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(
        str(path),
        size_guidance={"scalars": 0, "tensors": 0, "histograms": 0},
        purge_orphaned_data=purge,
    )
    acc.Reload()
    return acc


def accumulator_tensors(acc, plugin: str) -> dict[str, tuple[list[int], list[np.ndarray]]]:
    from tensorboard.util import tensor_util

    out = {}
    for tag in acc.Tags()["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != plugin:
            continue
        events = acc.Tensors(tag)
        out[tag] = (
            [e.step for e in events],
            [tensor_util.make_ndarray(e.tensor_proto) for e in events],
        )
    return out


def kinds(run: Run) -> list[str]:
    return [p.kind for p in run.problems]


def num_points(run: Run) -> int:
    return sum(s.num_points for s in run.scalars.values())


# ------------------------------------------------------------------------------------------
# Shared, expensive fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


@pytest.fixture(scope="module")
def tf2_log(tf, tmp_path_factory):
    """A log written by tf.summary: scalars (NaN and Inf included), histograms and a text tag."""
    folder = tmp_path_factory.mktemp("tf2") / "run"
    rng = np.random.default_rng(0)
    loss = rng.random(30).astype(np.float32)
    loss[7], loss[8] = np.nan, np.inf
    accuracy = np.linspace(0, 1, 30).astype(np.float32)
    samples = [rng.normal(size=100) * (i + 1) for i in range(4)]
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for step in range(30):
            tf.summary.scalar("loss", loss[step], step=step)
            tf.summary.scalar("accuracy", accuracy[step], step=step)
            if step < 4:
                tf.summary.histogram("weights", samples[step], step=step, buckets=7)
                tf.summary.text("notes", "a text summary is not a scalar", step=step)
    writer.close()
    return {"folder": folder, "loss": loss, "accuracy": accuracy}


@pytest.fixture(scope="module")
def keras_logs(tf, tmp_path_factory):
    """A real model.fit with the TensorBoard (histogram_freq=1) and CSVLogger callbacks."""
    import keras

    from neurogenesis.testing import tiny_data, tiny_dense_model

    folder = tmp_path_factory.mktemp("keras")
    x, y = tiny_data()
    model = tiny_dense_model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x,
        y,
        epochs=NUM_EPOCHS,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
        callbacks=[
            keras.callbacks.TensorBoard(str(folder / "tb"), histogram_freq=1),
            keras.callbacks.CSVLogger(str(folder / "training.csv")),
        ],
    )
    with open(folder / "history.json", "w") as handle:
        json.dump(history.history, handle)
    return {"folder": folder, "history": history.history}


# ------------------------------------------------------------------------------------------
# TensorBoard event files
# ------------------------------------------------------------------------------------------


def test_tf2_scalars_match_what_was_written_and_event_accumulator(tf2_log):
    run = read_run(tf2_log["folder"], use_cache=False)
    assert run.format == "tensorboard" and run.name == "run" and run.problems == ()
    assert set(run.scalars) == {"loss", "accuracy"}  # the text summary is not a scalar
    for tag in ("loss", "accuracy"):
        series = run.scalars[tag]
        assert series.num_points == 30
        np.testing.assert_array_equal(series.steps, np.arange(30))
        np.testing.assert_array_equal(series.values, tf2_log[tag].astype(np.float64))
        assert np.all(series.segments == 0) and np.all(np.isfinite(series.wall_times))
    assert run.scalars["loss"].num_nonfinite == 2

    reference = accumulator_tensors(accumulator(tf2_log["folder"]), "scalars")
    assert set(reference) == set(run.scalars)
    for tag, (steps, values) in reference.items():
        np.testing.assert_array_equal(run.scalars[tag].steps, steps)
        np.testing.assert_array_equal(run.scalars[tag].values, [v.item() for v in values])


def test_every_point_is_kept_unlike_event_accumulator_defaults(tf2_log):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    default = EventAccumulator(str(tf2_log["folder"]))
    default.Reload()
    assert len(default.Tensors("loss")) == 10  # TensorBoard's default sampling
    assert read_run(tf2_log["folder"], use_cache=False).scalars["loss"].num_points == 30


def test_tf2_histograms_match_event_accumulator(tf2_log):
    run = read_run(tf2_log["folder"], use_cache=False)
    series = run.histograms["weights"]
    assert isinstance(series, HistogramSeries) and series.num_steps == 4
    reference = accumulator_tensors(accumulator(tf2_log["folder"]), "histograms")
    steps, tensors = reference["weights"]
    np.testing.assert_array_equal(series.steps, steps)
    for ours, theirs in zip(series.buckets, tensors, strict=True):
        assert ours.shape == (7, 3)
        np.testing.assert_array_equal(ours, theirs)
        assert ours[:, 2].sum() == 100


def test_tf1_simple_values_and_histo_match_event_accumulator(tmp_path):
    limits = [-1.0, 0.0, 0.5, 2.0]
    events = [simple_value(step, "loss", 1.0 / (step + 1)) for step in range(300)]
    events += [
        histo_event(step, "weights", limits, [1.0, 2.0, 3.0, step], -3.0, 1.5) for step in range(5)
    ]
    write_events(tmp_path / "tf1", events)

    run = read_run(tmp_path / "tf1", use_cache=False)
    assert run.problems == ()
    loss = run.scalars["loss"]
    np.testing.assert_array_equal(loss.steps, np.arange(300))
    np.testing.assert_array_equal(
        loss.values, np.float32([1.0 / (s + 1) for s in range(300)]).astype(np.float64)
    )
    np.testing.assert_array_equal(loss.wall_times, 1000.0 + np.arange(300))

    acc = accumulator(tmp_path / "tf1")
    np.testing.assert_array_equal(loss.values, [e.value for e in acc.Scalars("loss")])
    hist = run.histograms["weights"]
    np.testing.assert_array_equal(hist.steps, [e.step for e in acc.Histograms("weights")])
    for ours, theirs in zip(hist.buckets, acc.Histograms("weights"), strict=True):
        value = theirs.histogram_value
        # TensorBoard's data_compat migration: lefts = [min, limits[:-1]], rights = [limits[:-1], max]
        expected_left = [value.min, *value.bucket_limit[:-1]]
        expected_right = [*value.bucket_limit[:-1], value.max]
        np.testing.assert_array_equal(ours[:, 0], expected_left)
        np.testing.assert_array_equal(ours[:, 1], expected_right)
        np.testing.assert_array_equal(ours[:, 2], value.bucket)
    np.testing.assert_array_equal(
        hist.buckets[4], [[-3, -1, 1], [-1, 0, 2], [0, 0.5, 3], [0.5, 1.5, 4]]
    )


def test_plugin_metadata_on_the_first_event_only_and_other_plugins_ignored(tmp_path):
    string_tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[b"{}"])
    string_tensor.tensor_shape.SetInParent()
    events = []
    for step in range(5):
        first = step == 0
        events.append(
            tensor_event(step, "loss", float_tensor(step / 2), "scalars" if first else None)
        )
        events.append(tensor_event(step, "bare", float_tensor(step * 3.0, np.float64), None))
        events.append(
            tensor_event(
                step,
                "h",
                float_tensor(np.ones((2, 3)) * step, np.float64),
                "histograms" if first else None,
            )
        )
        events.append(
            tensor_event(step, "keras", string_tensor, "graph_keras_model" if first else None)
        )
        events.append(tensor_event(step, "img", float_tensor(np.ones(3)), "images"))
        events.append(tensor_event(step, "vector_without_plugin", float_tensor(np.ones(2)), None))
    write_events(tmp_path / "run", events)
    run = read_run(tmp_path / "run", use_cache=False)
    assert run.problems == ()
    assert set(run.scalars) == {"loss", "bare"} and set(run.histograms) == {"h"}
    np.testing.assert_array_equal(run.scalars["loss"].values, np.arange(5) / 2)
    np.testing.assert_array_equal(run.scalars["bare"].values, np.arange(5) * 3.0)
    assert run.histograms["h"].num_steps == 5
    np.testing.assert_array_equal(run.histograms["h"].buckets[3], np.full((2, 3), 3.0))


def _typed(dtype, field, values, shape=()):
    proto = tensor_pb2.TensorProto(dtype=dtype)
    getattr(proto, field).extend(values)
    proto.tensor_shape.SetInParent()
    for size in shape:
        proto.tensor_shape.dim.add(size=size)
    return proto


def _bfloat16_content(x: float) -> tensor_pb2.TensorProto:
    bits = np.float32(x).view(np.uint32) >> 16
    proto = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_BFLOAT16, tensor_content=struct.pack("<H", int(bits))
    )
    proto.tensor_shape.SetInParent()
    return proto


@pytest.mark.parametrize(
    ("tensor", "expected"),
    [
        (float_tensor(0.1, np.float32), float(np.float32(0.1))),
        (float_tensor(0.1, np.float64), 0.1),
        (float_tensor(0.1, np.float16), float(np.float16(0.1))),
        (float_tensor(-7, np.int32), -7.0),
        (float_tensor(2**40, np.int64), float(2**40)),
        (_bfloat16_content(1.5), 1.5),
        (_typed(types_pb2.DT_FLOAT, "float_val", [0.25]), 0.25),
        (_typed(types_pb2.DT_DOUBLE, "double_val", [0.1]), 0.1),
        (
            _typed(types_pb2.DT_HALF, "half_val", [int(np.float16(0.1).view(np.uint16))]),
            float(np.float16(0.1)),
        ),
        (_typed(types_pb2.DT_BFLOAT16, "half_val", [0x3FC0]), 1.5),
        (_typed(types_pb2.DT_INT32, "int_val", [42]), 42.0),
        (_typed(types_pb2.DT_INT64, "int64_val", [-(2**40)]), -float(2**40)),
    ],
)
def test_scalar_tensor_dtypes_and_typed_fields(tmp_path, tensor, expected):
    write_events(tmp_path / "run", [tensor_event(3, "x", tensor)])
    run = read_run(tmp_path / "run", use_cache=False)
    assert run.problems == ()
    assert run.scalars["x"].values.tolist() == [expected] and run.scalars["x"].steps.tolist() == [3]


def test_unexpected_tensor_shapes_and_dtypes_are_unparseable_values(tmp_path):
    string_tensor = _typed(types_pb2.DT_STRING, "string_val", [b"oops"])
    events = [
        tensor_event(0, "loss", float_tensor(1.0)),
        tensor_event(1, "loss", float_tensor([1.0, 2.0])),  # a vector under the scalars plugin
        tensor_event(2, "loss", string_tensor),
        tensor_event(3, "loss", float_tensor(4.0)),
        tensor_event(0, "h", float_tensor(np.ones((4, 2)), np.float64), "histograms"),
        tensor_event(1, "h", float_tensor(np.ones((0, 3)), np.float64), "histograms"),
    ]
    run = read_run(write_events(tmp_path / "run", events), use_cache=False)
    assert run.name == "run"  # a single event file is named after its folder
    assert run.scalars["loss"].values.tolist() == [1.0, 4.0]
    assert run.histograms["h"].steps.tolist() == [1] and run.histograms["h"].buckets[0].shape == (
        0,
        3,
    )
    bad = {p.tag: p for p in run.problems}
    assert set(kinds(run)) == {"unparseable_value"} and set(bad) == {"loss", "h"}
    assert "2 values" in bad["loss"].message and bad["loss"].offset is not None


# ------------------------------------------------------------------------------------------
# Damage: truncation, bit flips, random bytes
# ------------------------------------------------------------------------------------------


def _small_log() -> tuple[bytes, list[int], list[int]]:
    """An event file and, per record, its number of scalar points and histogram steps."""
    events = [
        simple_value(0, "loss", 0.5),
        tensor_event(1, "acc", float_tensor(0.25)),
        histo_event(1, "w", [0.0, 1.0], [2.0, 3.0], -1.0, 2.0),
        simple_value(2, "loss", 0.25),
        tensor_event(2, "acc", float_tensor(0.5)),
        simple_value(3, "loss", float("nan")),
    ]
    data = event_bytes(events)
    scalars = [0, 1, 1, 0, 1, 1, 1]
    histograms = [0, 0, 0, 1, 0, 0, 0]
    return data, scalars, histograms


def test_truncated_at_every_offset_reads_every_complete_record(tmp_path):
    data, scalars, histograms = _small_log()
    spans = record_spans(data)
    ends = {0} | {end for _, end in spans}
    path = tmp_path / "cut" / EVENT_NAME
    path.parent.mkdir()
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        run = read_run(path, use_cache=False)
        complete = [i for i, (_, end) in enumerate(spans) if end <= cut]
        assert num_points(run) == sum(scalars[i] for i in complete), cut
        assert sum(h.num_steps for h in run.histograms.values()) == sum(
            histograms[i] for i in complete
        )
        truncated = [p for p in run.problems if p.kind == "truncated"]
        if cut in ends:
            assert truncated == [], cut
        else:
            (problem,) = truncated
            assert problem.offset == spans[len(complete)][0], cut
        assert set(kinds(run)) <= {"truncated", "empty"}
        assert ("empty" in kinds(run)) == (not run.has_data)


@pytest.mark.parametrize("where", ["payload", "length", "length_crc", "data_crc"])
def test_bit_flip_reports_corrupt_and_resynchronises(tmp_path, where):
    events = [simple_value(step, "loss", float(step)) for step in range(50)]
    data = bytearray(event_bytes(events))
    spans = record_spans(bytes(data))
    start, end = spans[21]  # the event of step 20 (record 0 is the file version)
    index = {
        "payload": start + 12 + (end - start - 16) // 2,
        "length": start + 1,
        "length_crc": start + 9,
        "data_crc": end - 2,
    }[where]
    data[index] ^= 0x10
    path = write_events(tmp_path / "run", [])
    path.write_bytes(bytes(data))
    run = read_run(path, use_cache=False)
    (problem,) = run.problems
    assert problem.kind == "corrupt" and problem.offset == start
    assert f"skipped to the next intact record at byte {end}" in problem.message
    loss = run.scalars["loss"]
    assert loss.steps.tolist() == [s for s in range(50) if s != 20]
    assert loss.values.tolist() == [float(s) for s in range(50) if s != 20]


@pytest.mark.parametrize("fill", ["random", "zeros"])
def test_garbage_between_records_and_before_the_first_is_skipped(tmp_path, fill):
    rng = np.random.default_rng(1)
    good = event_bytes([simple_value(step, "loss", float(step)) for step in range(20)])
    spans = record_spans(good)
    middle = spans[10][1]
    if fill == "random":
        garbage = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    else:  # a zero-filled stretch, as a crash can leave: every offset looks like a header
        garbage = bytes(500_000)
    data = garbage + good[:middle] + garbage + good[middle:]
    path = write_events(tmp_path / "run", [])
    path.write_bytes(data)
    run = read_run(path, use_cache=False)
    assert kinds(run) == ["corrupt", "corrupt"]
    assert [p.offset for p in run.problems] == [0, len(garbage) + middle]
    assert f"{len(garbage)} bytes were skipped" in run.problems[1].message
    assert run.scalars["loss"].steps.tolist() == list(range(20))


def test_random_bytes_give_problems_not_crashes(tmp_path):
    rng = np.random.default_rng(2)
    path = write_events(tmp_path / "run", [])
    path.write_bytes(rng.integers(0, 256, 2_000_000, dtype=np.uint8).tobytes())
    run = read_run(path, use_cache=False)
    assert not run.has_data and set(kinds(run)) <= {"corrupt", "truncated", "empty"}
    assert "corrupt" in kinds(run)
    with pytest.raises(InputError, match="no values"):
        find_runs(tmp_path, use_cache=False)


# ------------------------------------------------------------------------------------------
# Restarts and duplicates
# ------------------------------------------------------------------------------------------


def test_restart_in_one_file_keeps_every_point_in_segments(tmp_path):
    steps = [*range(10), *range(5, 15)]
    events = [simple_value(step, "loss", float(i)) for i, step in enumerate(steps)]
    run = read_run(write_events(tmp_path / "run", events), use_cache=False)
    loss = run.scalars["loss"]
    assert loss.steps.tolist() == steps and loss.values.tolist() == [float(i) for i in range(20)]
    assert loss.segments.tolist() == [0] * 10 + [1] * 10
    (problem,) = run.problems
    assert problem.kind == "restart" and problem.step == 5 and problem.tag == "loss"
    assert "from 9 to 5" in problem.message
    reference = accumulator(tmp_path / "run", purge=False).Scalars("loss")
    assert [e.step for e in reference] == steps


def test_restart_across_files_in_timestamp_order(tmp_path):
    folder = tmp_path / "run"
    # "1000" sorts before "999" as text; the timestamp in the name decides the order.
    second = write_events(
        folder,
        [simple_value(s, "loss", 100.0 + s) for s in range(5, 15)],
        "events.out.tfevents.1000.host.v2",
    )
    first = write_events(
        folder,
        [simple_value(s, "loss", float(s)) for s in range(10)],
        "events.out.tfevents.999.host.v2",
    )
    run = read_run(folder, use_cache=False)
    assert run.files == (str(first), str(second))
    loss = run.scalars["loss"]
    assert loss.steps.tolist() == [*range(10), *range(5, 15)]
    assert loss.segments.tolist() == [0] * 10 + [1] * 10
    assert [(p.kind, p.step, p.file) for p in run.problems] == [("restart", 5, str(second))]


def test_duplicate_steps_are_kept_and_reported_once_per_tag(tmp_path):
    steps = [0, 1, 1, 2, 3, 3, 3]
    events = [simple_value(step, "loss", float(i)) for i, step in enumerate(steps)]
    run = read_run(write_events(tmp_path / "run", events), use_cache=False)
    assert run.scalars["loss"].steps.tolist() == steps
    (problem,) = run.problems
    assert problem.kind == "duplicate_steps" and problem.step == 1 and "3 times" in problem.message


# ------------------------------------------------------------------------------------------
# Keras: TensorBoard callback, CSVLogger, JSON history
# ------------------------------------------------------------------------------------------


def test_keras_tensorboard_callback_gives_train_and_validation_runs(keras_logs):
    history = keras_logs["history"]
    runs = find_runs(keras_logs["folder"] / "tb", use_cache=False)
    assert [run.name for run in runs] == ["train", "validation"]
    train, validation = runs
    assert train.problems == () and validation.problems == ()
    for run, prefix in ((train, ""), (validation, "val_")):
        for metric in ("loss", "accuracy"):
            series = run.scalars[f"epoch_{metric}"]
            np.testing.assert_array_equal(series.steps, np.arange(NUM_EPOCHS))
            np.testing.assert_array_equal(
                series.values, np.float32(history[prefix + metric]).astype(np.float64)
            )
    # histogram_freq=1: one histogram per weight and epoch, tagged '<model>/<layer>/<weight>/histogram'
    assert len(train.histograms) == 4
    assert all(tag.endswith("/histogram") for tag in train.histograms)
    assert all(h.num_steps == NUM_EPOCHS for h in train.histograms.values())

    for run in runs:
        acc = accumulator(run.path)
        scalars = accumulator_tensors(acc, "scalars")
        assert set(scalars) == set(run.scalars)
        for tag, (steps, values) in scalars.items():
            np.testing.assert_array_equal(run.scalars[tag].steps, steps)
            np.testing.assert_array_equal(run.scalars[tag].values, [v.item() for v in values])
        histograms = accumulator_tensors(acc, "histograms")
        assert set(histograms) == set(run.histograms)
        for tag, (steps, tensors) in histograms.items():
            np.testing.assert_array_equal(run.histograms[tag].steps, steps)
            for ours, theirs in zip(run.histograms[tag].buckets, tensors, strict=True):
                np.testing.assert_array_equal(ours, theirs)


def test_keras_csv_logger_matches_history_exactly(keras_logs):
    history = keras_logs["history"]
    run = read_run(keras_logs["folder"] / "training.csv", use_cache=False)
    assert run.format == "csv" and run.name == "training.csv" and run.problems == ()
    assert set(run.scalars) == set(history)
    for tag, values in history.items():
        assert run.scalars[tag].values.tolist() == values
        assert run.scalars[tag].steps.tolist() == list(range(NUM_EPOCHS))
        assert np.isnan(run.scalars[tag].wall_times).all()


def test_keras_json_history_matches_history_exactly(keras_logs):
    history = keras_logs["history"]
    run = read_run(keras_logs["folder"] / "history.json", use_cache=False)
    assert run.format == "json" and run.problems == ()
    assert {tag: s.values.tolist() for tag, s in run.scalars.items()} == history


def test_find_runs_on_a_keras_folder_finds_all_three_kinds(keras_logs):
    runs = find_runs(keras_logs["folder"], use_cache=False)
    assert [(run.name, run.format) for run in runs] == [
        ("history.json", "json"),
        ("tb/train", "tensorboard"),
        ("tb/validation", "tensorboard"),
        ("training.csv", "csv"),
    ]
    assert runs[0].scalars["loss"] == runs[3].scalars["loss"]


# ------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------


def _csv(tmp_path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_csv_missing_nonfinite_and_a_cut_last_line(tmp_path):
    path = _csv(
        tmp_path,
        "epoch,loss,val_loss,lr\r\n"
        "0,1.0,NA,0.1\r\n"
        "1,nan,,0.1\r\n"
        "2,inf,0.5,-inf\r\n"
        "3,NaN,Infinity,-Infinity\r\n"
        "4,0.3,0.4",
    )
    run = read_run(path, use_cache=False)
    loss, val_loss, lr = (run.scalars[t] for t in ("loss", "val_loss", "lr"))
    np.testing.assert_array_equal(loss.values, [1.0, np.nan, np.inf, np.nan])
    assert loss.steps.tolist() == [0, 1, 2, 3] and loss.num_nonfinite == 3
    assert val_loss.steps.tolist() == [2, 3] and val_loss.missing_steps.tolist() == [0, 1]
    assert val_loss.values.tolist() == [0.5, np.inf] and val_loss.num_missing == 2
    assert lr.values.tolist() == [0.1, 0.1, -np.inf, -np.inf]
    (problem,) = run.problems
    assert problem.kind == "truncated" and problem.offset == 6


def test_csv_restart_and_repeated_header_start_new_segments(tmp_path):
    path = _csv(
        tmp_path,
        "epoch,loss\n0,1.0\n1,0.9\n2,0.8\n1,0.85\n2,0.75\nepoch,loss\n3,0.7\n4,0.6\n",
    )
    run = read_run(path, use_cache=False)
    loss = run.scalars["loss"]
    assert loss.steps.tolist() == [0, 1, 2, 1, 2, 3, 4]
    assert loss.segments.tolist() == [0, 0, 0, 1, 1, 2, 2]
    (problem,) = run.problems
    assert (problem.kind, problem.step, problem.tag) == ("restart", 1, "loss")
    assert "2 times" in problem.message


@pytest.mark.parametrize("separator", [";", "\t"])
def test_csv_separators_are_sniffed(tmp_path, separator):
    path = _csv(
        tmp_path,
        f"epoch{separator}loss{separator}acc\n0{separator}1.5{separator}0.5\n1{separator}1.25{separator}0.75\n",
    )
    run = read_run(path, use_cache=False)
    assert run.scalars["loss"].values.tolist() == [1.5, 1.25]
    assert run.scalars["acc"].values.tolist() == [0.5, 0.75]


def test_csv_bad_epochs_are_unparseable(tmp_path):
    path = _csv(tmp_path, "epoch,loss\n0,1.0\n1e30,2.0\n1.5,3.0\nNA,4.0\n4,5.0\n")
    run = read_run(path, use_cache=False)
    assert run.scalars["loss"].steps.tolist() == [0, 4]
    (problem,) = run.problems
    assert (problem.kind, problem.tag, problem.offset) == ("unparseable_value", "epoch", 3)
    assert "3 values" in problem.message


def test_csv_without_epoch_extra_fields_and_bad_values(tmp_path):
    path = _csv(tmp_path, 'loss,note\n1.0,2\n0.5,"[1, 2]"\n0.25,3,4\nabc,5\n0.125,6\n')
    run = read_run(path, use_cache=False)
    assert run.scalars["loss"].steps.tolist() == [0, 1, 3]  # row index without an epoch column
    assert run.scalars["loss"].values.tolist() == [1.0, 0.5, 0.125]
    assert run.scalars["loss"].missing_steps.tolist() == [2]
    assert run.scalars["note"].values.tolist() == [2.0, 5.0, 6.0]
    problems = {(p.kind, p.tag): p for p in run.problems}
    assert set(problems) == {
        ("corrupt", None),
        ("unparseable_value", "note"),
        ("unparseable_value", "loss"),
    }
    assert problems[("corrupt", None)].offset == 4
    assert problems[("unparseable_value", "note")].offset == 3
    assert problems[("unparseable_value", "loss")].offset == 5


def test_csv_empty_or_header_only_is_a_run_without_data(tmp_path):
    for text in ("", "epoch,loss,accuracy\n"):
        path = _csv(tmp_path, text)
        run = read_run(path, use_cache=False)
        assert not run.has_data and kinds(run) == ["empty"]
        with pytest.raises(InputError, match="no values"):
            find_runs(path, use_cache=False)


def test_csv_without_a_header_is_refused_when_named(tmp_path):
    path = _csv(tmp_path, "0,1.0,0.5\n1,0.9,0.6\n", "numbers.csv")
    with pytest.raises(InputError, match="Expected a Keras CSVLogger file"):
        read_run(path, use_cache=False)


# ------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "missing"),
    [
        (
            '{"loss": [1.0, 0.5, NaN], "acc": [0.1, null, 0.3, 0.4]}',
            {"loss": [1.0, 0.5, math.nan], "acc": [0.1, 0.3, 0.4]},
            {"acc": [1]},
        ),
        (
            '{"history": {"loss": [1, "nan", "Infinity", "-Infinity"]}, "params": {"epochs": 4}}',
            {"loss": [1.0, math.nan, math.inf, -math.inf]},
            {},
        ),
        (
            '[{"epoch": 5, "loss": 0.5}, {"epoch": 6, "loss": Infinity, "acc": 0.7}]',
            {"loss": [0.5, math.inf], "acc": [0.7]},
            {},
        ),
    ],
)
def test_json_history_forms(tmp_path, text, expected, missing):
    path = tmp_path / "history.json"
    path.write_text(text)
    run = read_run(path, use_cache=False)
    assert run.problems == ()
    for tag, values in expected.items():
        np.testing.assert_array_equal(run.scalars[tag].values, values)
        assert run.scalars[tag].missing_steps.tolist() == missing.get(tag, [])
    if text.startswith("["):
        assert run.scalars["loss"].steps.tolist() == [5, 6] and run.scalars[
            "acc"
        ].steps.tolist() == [6]
    else:
        assert run.scalars["loss"].steps.tolist() == list(range(len(expected["loss"])))


def _history_text(history: dict[str, list]) -> tuple[str, dict[str, list[int]]]:
    """json.dumps' layout, and the index of the ',' or ']' that follows each value."""
    text, follows = "{", {}
    for i, (tag, values) in enumerate(history.items()):
        text += (", " if i else "") + json.dumps(tag) + ": ["
        follows[tag] = []
        for j, value in enumerate(values):
            text += (", " if j else "") + json.dumps(value)
            follows[tag].append(len(text))
        text += "]"
    return text + "}", follows


def test_json_truncated_at_every_offset_reads_the_prefix(tmp_path):
    history = {
        "loss": [2.5, 1.25, float("nan"), 1e-05, -0.125],
        "val_loss": [3.0, float("inf"), 2.75],
        "lr": [0.001, None, 0.0001],
    }
    text, follows = _history_text(history)
    assert json.loads(text) is not None and text == json.dumps(history)
    path = tmp_path / "history.json"
    for cut in range(len(text) + 1):
        path.write_text(text[:cut])
        try:
            run = read_run(path, use_cache=False)
        except InputError:
            assert cut <= text.index("["), cut  # not yet recognisable as a history
            continue
        for tag, values in history.items():
            complete = sum(1 for position in follows[tag] if position < cut)
            if tag not in run.scalars:
                assert complete == 0, (cut, tag)
                continue
            series = run.scalars[tag]
            kept = [v for v in values[:complete] if v is not None]
            np.testing.assert_array_equal(series.values, kept, err_msg=f"{cut} {tag}")
            assert series.num_points + series.num_missing == complete, (cut, tag)
        truncated = [p for p in run.problems if p.kind == "truncated"]
        assert len(truncated) == (cut < len(text)), cut
        # Only the whole file's val_loss (3 of 5) is noted: a cut list's length is no frequency.
        noted = ("validation_epochs",) if cut == len(text) else ()
        assert all(p.kind in ("truncated", "empty", *noted) for p in run.problems), cut
        assert ("validation_epochs" in kinds(run)) == (cut == len(text)), cut


def test_json_list_of_epochs_truncated_keeps_complete_epochs(tmp_path):
    rows = [{"epoch": e, "loss": 1.0 / (e + 1), "accuracy": e / 10} for e in range(6)]
    text = json.dumps(rows)
    path = tmp_path / "history.json"
    for cut in range(text.index("}") + 1, len(text), 7):
        path.write_text(text[:cut])
        run = read_run(path, use_cache=False)
        complete = text[:cut].count("}")
        assert run.scalars["loss"].steps.tolist() == list(range(complete)), cut
        assert kinds(run) == ["truncated"]


def test_json_damaged_in_the_middle_is_corrupt(tmp_path):
    path = tmp_path / "history.json"
    path.write_text('{"loss": [1.0, 0.5, oops, 0.25], "acc": [0.5]}')
    run = read_run(path, use_cache=False)
    assert run.scalars["loss"].values.tolist() == [1.0, 0.5]
    (problem,) = run.problems
    assert problem.kind == "corrupt" and problem.offset == len('{"loss": [1.0, 0.5, ')


def test_json_that_is_not_a_history(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"layers": [{"name": "dense"}], "classes": ["a", "b"]}))
    with pytest.raises(InputError, match="not a training history"):
        read_run(config, use_cache=False)
    with pytest.raises(InputError, match="Expected"):
        find_runs(config, use_cache=False)
    (tmp_path / "deep.json").write_text("[" * 100_000)
    with pytest.raises(InputError):
        read_run(tmp_path / "deep.json", use_cache=False)


# ------------------------------------------------------------------------------------------
# Folders, names and refusals
# ------------------------------------------------------------------------------------------


def test_find_runs_walks_like_tensorboard(tmp_path):
    write_events(tmp_path / "exp" / "train", [simple_value(0, "loss", 1.0)])
    write_events(tmp_path / "exp" / ".hidden", [simple_value(0, "loss", 1.0)])
    recorder = write_events(tmp_path / "exp" / "recorded", [simple_value(0, "loss", 2.0)]).parent
    (recorder / "neurogenesis_run.json").write_text(json.dumps({"model": "x", "epochs": 3}))
    (tmp_path / "exp" / "config.json").write_text(json.dumps({"optimizer": {"name": "adam"}}))
    (tmp_path / "exp" / "notes.txt").write_text("not a log")
    (tmp_path / "exp" / "sub").mkdir()
    _csv(tmp_path / "exp" / "sub", "epoch,loss\n0,1.0\n")
    cache = tmp_path / "exp" / "cache"
    write_events(cache / "logs", [simple_value(0, "loss", 1.0)])  # a log-looking file in the cache

    runs = find_runs(tmp_path / "exp", cache_dir=cache)
    assert [(run.name, run.format) for run in runs] == [
        ("recorded", "neurogenesis"),
        ("sub/log.csv", "csv"),
        ("train", "tensorboard"),
    ]
    assert runs[0].path == str(recorder) and runs[0].scalars["loss"].values.tolist() == [2.0]
    (alone,) = find_runs(tmp_path / "exp" / "train", use_cache=False)
    assert alone.name == "train"


def test_runs_without_data_are_kept_when_another_run_has_data(tmp_path):
    write_events(tmp_path / "good", [simple_value(0, "loss", 1.0)])
    write_events(tmp_path / "broken", []).write_bytes(b"\x01\x02\x03")
    runs = find_runs(tmp_path, use_cache=False)
    assert [run.name for run in runs] == ["broken", "good"]
    assert kinds(runs[0]) == ["truncated", "empty"] and not runs[0].has_data


def test_refusals_say_what_was_expected(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        find_runs(tmp_path / "missing")
    with pytest.raises(InputError, match=r"events\.out\.tfevents"):
        find_runs(tmp_path)
    (tmp_path / "model.txt").write_text("x")
    with pytest.raises(InputError, match=r"Received: 'model\.txt'"):
        find_runs(tmp_path / "model.txt")
    with pytest.raises(InputError, match="directly inside"):
        read_run(tmp_path)
    write_events(tmp_path / "damaged", []).write_bytes(b"\x00" * 10)
    with pytest.raises(InputError) as caught:
        find_runs(tmp_path, use_cache=False)
    assert "no values" in str(caught.value) and "cut short" in str(caught.value)
    with pytest.raises(InputError):
        find_runs(12345)


# ------------------------------------------------------------------------------------------
# The public objects
# ------------------------------------------------------------------------------------------


def test_series_properties_summary_and_frame(tmp_path):
    path = _csv(tmp_path, "epoch,loss\n0,1.0\n1,NA\n2,nan\n3,0.5\n")
    run = read_run(path, use_cache=False)
    loss = run.scalars["loss"]
    assert (loss.num_points, loss.num_nonfinite, loss.num_missing) == (3, 1, 1)
    assert (loss.first_step, loss.last_step) == (0, 3)
    assert run.summary_dict() == {
        "name": "log.csv",
        "format": "csv",
        "scalars": {
            "loss": {
                "num_points": 3,
                "num_nonfinite": 1,
                "num_missing": 1,
                "first_step": 0,
                "last_step": 3,
            }
        },
        "histograms": {},
        "problems": [],
        "live": False,
    }
    json.dumps(run.summary_dict(), allow_nan=False)
    frame = loss.to_frame()
    assert list(frame.columns) == ["step", "value", "wall_time", "segment"] and len(frame) == 3
    assert not loss.values.flags.writeable
    empty = ScalarSeries("x", np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert empty.first_step is None and empty.last_step is None
    problem = Problem("restart", "f", "m", step=3, tag="loss")
    assert problem.to_dict() == {
        "kind": "restart",
        "file": "f",
        "message": "m",
        "offset": None,
        "step": 3,
        "tag": "loss",
    }
    import pickle

    assert pickle.loads(pickle.dumps(run)) == run


# ------------------------------------------------------------------------------------------
# The cache
# ------------------------------------------------------------------------------------------


@pytest.fixture
def parse_counter(monkeypatch):
    calls = []
    for name in ("_parse_events", "_parse_csv", "_parse_json"):
        original = getattr(logs, name)

        def counted(data, file, original=original, name=name):
            calls.append(name)
            return original(data, file)

        monkeypatch.setattr(logs, name, counted)
    return calls


def test_cache_serves_the_second_read(tmp_path, parse_counter):
    steps = [*range(10), *range(5, 15)]
    events = [simple_value(step, "loss", float(i)) for i, step in enumerate(steps)]
    events += [histo_event(s, "w", [0.0, 1.0], [1.0, 2.0], -1.0, 2.0) for s in range(3)]
    data = event_bytes(events)
    path = write_events(tmp_path / "logs" / "run", [])
    path.write_bytes(data[:-5])  # truncated: the problem must survive the cache too
    _csv(tmp_path / "logs", "epoch,loss\n0,1.0\n1,NA\n")
    cache = tmp_path / "cache"

    first = find_runs(tmp_path / "logs", cache_dir=cache)
    assert sorted(parse_counter) == ["_parse_csv", "_parse_events"]
    assert len(list((cache / "logs").glob("*.parquet"))) == 2
    second = find_runs(tmp_path / "logs", cache_dir=cache)
    assert len(parse_counter) == 2  # nothing parsed again
    assert second == first
    assert kinds(second[1]) == ["truncated", "restart"]
    assert second[1].scalars["loss"].segments.tolist() == [0] * 10 + [1] * 10
    assert second[1].histograms["w"].num_steps == 2
    assert second[0].scalars["loss"].missing_steps.tolist() == [1]
    assert first == find_runs(tmp_path / "logs", use_cache=False)


def test_cache_is_invalidated_when_the_file_changes(tmp_path, parse_counter):
    path = write_events(tmp_path / "run", [simple_value(s, "loss", 1.0) for s in range(3)])
    cache = tmp_path / "cache"
    assert read_run(path, cache_dir=cache).scalars["loss"].num_points == 3
    path.write_bytes(event_bytes([simple_value(s, "loss", 1.0) for s in range(4)]))
    assert read_run(path, cache_dir=cache).scalars["loss"].num_points == 4
    # Same size, new modification time.
    path.write_bytes(event_bytes([simple_value(s, "loss", 2.0) for s in range(4)]))
    os.utime(path, ns=(1, 1))
    assert read_run(path, cache_dir=cache).scalars["loss"].values.tolist() == [2.0] * 4
    assert len(parse_counter) == 3
    assert len(list((cache / "logs").glob("*.parquet"))) == 1  # one entry per file, replaced


def test_damaged_or_unwritable_cache_is_ignored(tmp_path, parse_counter):
    path = write_events(tmp_path / "run", [simple_value(s, "loss", float(s)) for s in range(3)])
    cache = tmp_path / "cache"
    expected = read_run(path, cache_dir=cache)
    for entry in (cache / "logs").glob("*.parquet"):
        entry.write_bytes(b"PAR1 not really parquet")
    assert read_run(path, cache_dir=cache) == expected
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be created here")
    assert read_run(path, cache_dir=blocker) == expected
    assert len(parse_counter) == 3


# ------------------------------------------------------------------------------------------
# No TensorFlow, any bytes, and the benchmark
# ------------------------------------------------------------------------------------------


def test_reading_logs_does_not_import_tensorflow(keras_logs):
    code = (
        "import sys\n"
        "from neurogenesis.io.logs import find_runs\n"
        "runs = find_runs(sys.argv[1], use_cache=False)\n"
        "assert len(runs) == 4 and all(run.has_data for run in runs)\n"
        "assert sum(len(run.histograms) for run in runs) == 4\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported TF'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(keras_logs["folder"])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _mutations(valid: bytes):
    edits = st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert", "delete"]),
            st.integers(0, len(valid)),
            st.binary(max_size=16),
        ),
        min_size=1,
        max_size=4,
    )

    def apply(ops):
        data = bytearray(valid)
        for op, at, blob in ops:
            at = min(at, len(data))
            if op == "flip" and at < len(data):
                data[at] ^= 1 << (at % 8)
            elif op == "cut":
                del data[at:]
            elif op == "insert":
                data[at:at] = blob
            else:
                del data[at : at + len(blob) + 1]
        return bytes(data)

    return edits.map(apply)


_VALID = {
    EVENT_NAME: _small_log()[0],
    "log.csv": b"epoch,loss,val_loss\r\n0,1.0,NA\r\n1,nan,0.5\r\nepoch,loss,val_loss\r\n0,0.5,0.25\r\n",
    "history.json": json.dumps(
        {"history": {"loss": [1.0, None, float("nan")], "acc": [0.5]}}
    ).encode(),
}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name_and_data=st.sampled_from(sorted(_VALID)).flatmap(
        lambda name: st.tuples(
            st.just(name),
            st.one_of(st.binary(max_size=4096), _mutations(_VALID[name]), st.just(_VALID[name])),
        )
    )
)
def test_any_bytes_give_a_run_or_an_input_error(tmp_path, name_and_data):
    name, data = name_and_data
    path = tmp_path / name
    path.write_bytes(data)
    try:
        run = read_run(path, use_cache=False)
    except InputError:
        return
    assert isinstance(run, Run)
    assert all(p.kind in logs.PROBLEM_KINDS for p in run.problems)
    assert not any("internal error" in p.message for p in run.problems), run.problems
    run.summary_dict()


@pytest.mark.slow
def test_benchmark_script_runs_and_agrees(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "logs.py"), "--quick"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "parse speedup vs EventAccumulator" in result.stdout
    assert "cached reopen speedup vs parse" in result.stdout
    assert "both readers saw the same points" in result.stdout

"""neurogenesis.recording.RunRecorder: what a real model.fit records, checked value by value.

Scalars against ``History`` and TensorBoard's own EventAccumulator, checkpoints against the
weights they were saved from, gradient norms against an independent GradientTape, activation
statistics against NumPy on the probe batch, attention scores against the layer called on its own.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from neurogenesis.errors import InputError
from neurogenesis.io.logs import find_runs
from neurogenesis.io.recordings import (
    load_activation_stats,
    load_attention,
    load_checkpoint_arrays,
    read_recording,
)

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from neurogenesis.recording import (  # noqa: E402
    METRICS_ONLY,
    RunRecorder,
    checkpoints,
    probes,
    summaries,
    thin_checkpoints,
)
from neurogenesis.recording import recorder as recorder_module  # noqa: E402
from neurogenesis.testing import tiny_branching_model, tiny_data, tiny_dense_model  # noqa: E402

NUM_EPOCHS = 3
DEAD_UNITS = 3


def tag_for(key: str) -> str:
    return f"validation/{key[4:]}" if key.startswith("val_") else f"train/{key}"


def only_run(run_dir):
    runs = find_runs(run_dir, use_cache=False)
    assert len(runs) == 1
    return runs[0]


# ------------------------------------------------------------------------------------------
# A small dense model, three epochs, everything on
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dense_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("dense") / "run"
    x, y = tiny_data(64)
    model = tiny_dense_model()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    hidden = model.get_layer("hidden")
    kernel, bias = hidden.get_weights()
    bias[:DEAD_UNITS] = -100.0  # these ReLUs never fire, and with no gradient they stay dead
    hidden.set_weights([kernel, bias])
    initial = model.get_weights()
    probe = (x[:32], y[:32])
    recorder = RunRecorder(
        run_dir,
        probe_data=probe,
        samples=(x, y),
        hyperparameters={"learning_rate": 0.01, "layers": (16, 3)},
    )
    history = model.fit(
        x[:48],
        y[:48],
        validation_data=(x[48:], y[48:]),
        epochs=NUM_EPOCHS,
        batch_size=16,
        verbose=0,
        callbacks=[recorder],
    )
    return {
        "run_dir": run_dir,
        "model": model,
        "history": history.history,
        "initial": initial,
        "probe": probe,
        "samples": (x, y),
        "recording": read_recording(run_dir),
    }


def test_every_epoch_and_validation_metric_reads_back(dense_run):
    run = only_run(dense_run["run_dir"])
    assert run.format == "neurogenesis" and run.problems == ()
    history = dense_run["history"]
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, values in history.items():
        series = run.scalars[tag_for(key)]
        np.testing.assert_array_equal(series.steps, np.arange(NUM_EPOCHS))
        np.testing.assert_allclose(series.values, values, rtol=1e-6)
    np.testing.assert_allclose(run.scalars["learning_rate"].values, [0.01] * NUM_EPOCHS, rtol=1e-6)
    assert dense_run["recording"].tags == {  # in the order Keras logs them
        "train": tuple(tag_for(key) for key in history if not key.startswith("val_")),
        "validation": tuple(tag_for(key) for key in history if key.startswith("val_")),
    }


def test_tensorboard_reads_the_same_scalars_and_histograms(dense_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.util import tensor_util

    accumulator = EventAccumulator(
        str(dense_run["run_dir"]), size_guidance={"scalars": 0, "tensors": 0, "histograms": 0}
    )
    accumulator.Reload()
    by_plugin: dict[str, dict] = {"scalars": {}, "histograms": {}}
    for tag in accumulator.Tags()["tensors"]:
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        events = accumulator.Tensors(tag)
        by_plugin[plugin][tag] = (
            [event.step for event in events],
            [tensor_util.make_ndarray(event.tensor_proto) for event in events],
        )
    run = only_run(dense_run["run_dir"])
    assert set(by_plugin["scalars"]) == set(run.scalars)
    for tag, (steps, values) in by_plugin["scalars"].items():
        np.testing.assert_array_equal(run.scalars[tag].steps, steps)
        np.testing.assert_array_equal(run.scalars[tag].values, [v.item() for v in values])
    for key, values in dense_run["history"].items():
        np.testing.assert_allclose(
            [v.item() for v in by_plugin["scalars"][tag_for(key)][1]], values, rtol=1e-6
        )

    model = dense_run["model"]
    expected = {f"weights/{v.path}" for v in model.weights}
    expected |= {"activations/hidden", "activations/probabilities"}
    assert set(by_plugin["histograms"]) == expected == set(run.histograms)
    for variable in model.weights:
        steps, buckets = by_plugin["histograms"][f"weights/{variable.path}"]
        assert steps == list(range(NUM_EPOCHS))
        assert all(b.shape == (30, 3) and b[:, 2].sum() == variable.numpy().size for b in buckets)
        # The last epoch's histogram is TensorBoard's own bucketing of the final weights.
        reference = histogram_pb("w", variable.numpy()).value[0].tensor
        np.testing.assert_array_equal(buckets[-1], tensor_util.make_ndarray(reference))


def test_manifest_files_and_model(dense_run):
    from neurogenesis.io.samples import load_samples

    recording = dense_run["recording"]
    assert recording.status == "finished" and recording.epochs_completed == NUM_EPOCHS
    assert recording.notes == ()
    assert recording.params["epochs"] == NUM_EPOCHS and recording.params["steps"] == 3
    hyperparameters = recording.hyperparameters
    assert hyperparameters["learning_rate"] == 0.01 and hyperparameters["layers"] == [16, 3]
    assert hyperparameters["optimizer"] == "Adam"
    assert hyperparameters["optimizer_config"]["learning_rate"] == pytest.approx(0.01)
    assert [e for e, _ in recording.checkpoints] == [-1, 0, 1, 2]
    assert [e for e, _ in recording.activation_files] == [0, 1, 2]
    assert recording.attention_files == ()
    with np.load(recording.probe_file) as probe:
        np.testing.assert_array_equal(probe["x"], dense_run["probe"][0])
        np.testing.assert_array_equal(probe["y"], dense_run["probe"][1])
    samples = load_samples(recording.samples_file)
    np.testing.assert_array_equal(samples.x, dense_run["samples"][0])
    np.testing.assert_array_equal(samples.y, dense_run["samples"][1])
    saved = keras.saving.load_model(recording.model_file, compile=False)
    for a, b in zip(saved.get_weights(), dense_run["model"].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    document = json.loads((dense_run["run_dir"] / "neurogenesis_run.json").read_text())
    assert document["format"] == "neurogenesis-run" and document["version"] == 1
    assert not [name for name in os.listdir(dense_run["run_dir"]) if name.startswith(".")]


def test_checkpoints_reload_to_the_same_weights(dense_run):
    model, recording = dense_run["model"], dense_run["recording"]
    fresh = tiny_dense_model()
    fresh.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    fresh.optimizer.build(fresh.trainable_variables)
    fresh.load_weights(dict(recording.checkpoints)[NUM_EPOCHS - 1])
    for a, b in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fresh.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    before_training = tiny_dense_model()  # its optimizer unbuilt, as it was when saved
    before_training.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before_training.load_weights(dict(recording.checkpoints)[-1])
    for a, b in zip(before_training.get_weights(), dense_run["initial"], strict=True):
        np.testing.assert_array_equal(a, b)

    arrays = load_checkpoint_arrays(dict(recording.checkpoints)[NUM_EPOCHS - 1])
    variables = [*model.weights, *model.optimizer.variables]
    assert list(arrays) == [v.path for v in variables]
    for variable in variables:
        np.testing.assert_array_equal(arrays[variable.path], variable.numpy())


def test_checkpoints_are_what_save_weights_writes(dense_run, tmp_path):
    import h5py

    model = dense_run["model"]
    ours = tmp_path / "ours.weights.h5"
    checkpoints.CheckpointPlan.of(model).write(ours, {})
    theirs = tmp_path / "keras.weights.h5"
    model.save_weights(theirs)

    def contents(path):
        found = {}
        with h5py.File(path, "r") as handle:
            handle.visititems(
                lambda name, item: found.__setitem__(
                    name,
                    (dict(item.attrs), item[()] if isinstance(item, h5py.Dataset) else None),
                )
            )
        return found

    a, b = contents(ours), contents(theirs)
    assert list(a) == list(b)
    for name in a:
        assert a[name][0] == b[name][0]
        if a[name][1] is not None:
            assert a[name][1].dtype == b[name][1].dtype
            np.testing.assert_array_equal(a[name][1], b[name][1])


def test_gradient_norms_equal_an_independent_tape(dense_run):
    model = dense_run["model"]
    x, y = dense_run["probe"]
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=False))
    gradients = tape.gradient(loss, model.trainable_variables)
    run = only_run(dense_run["run_dir"])
    norms = []
    for variable, gradient in zip(model.trainable_variables, gradients, strict=True):
        norm = float(np.linalg.norm(gradient.numpy()))
        norms.append(norm)
        series = run.scalars[f"gradient_norm/{variable.path}"]
        np.testing.assert_array_equal(series.steps, np.arange(NUM_EPOCHS))
        assert series.values[-1] == pytest.approx(norm, rel=1e-5, abs=1e-8)
    assert run.scalars["gradient_norm/global"].values[-1] == pytest.approx(
        float(np.sqrt(np.sum(np.square(norms)))), rel=1e-5
    )


def test_activation_statistics_find_dead_units(dense_run):
    model, recording = dense_run["model"], dense_run["recording"]
    x = dense_run["probe"][0].astype(np.float64)
    kernel, bias = model.get_layer("hidden").get_weights()
    hidden = np.maximum(x @ kernel + bias, 0.0)  # by hand, not through Keras
    kernel, bias = model.get_layer("probabilities").get_weights()
    logits = hidden @ kernel + bias
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)

    stats = load_activation_stats(recording.activation_files[-1][1])
    assert list(stats) == ["hidden", "probabilities"]
    for name, values, saturated in (
        ("hidden", hidden, np.zeros(16)),
        ("probabilities", probabilities, (probabilities > 0.99).mean(0)),
    ):
        np.testing.assert_allclose(stats[name]["mean"], values.mean(0), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(stats[name]["std"], values.std(0), rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(stats[name]["frac_zero"], (np.abs(values) < 1e-7).mean(0))
        np.testing.assert_array_equal(stats[name]["frac_saturated"], saturated)
    frac_zero = stats["hidden"]["frac_zero"]
    assert np.all(frac_zero[:DEAD_UNITS] == 1.0) and np.all(frac_zero[DEAD_UNITS:] < 1.0)


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(size=(40, 25)),
        np.full((7, 3), 2.5),
        np.zeros((0, 4)),
        np.array([[1.0, np.nan], [np.inf, -3.0], [0.5, 2.0]]),
    ],
)
def test_histogram_buckets_are_tensorboards(values):
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.util import tensor_util

    finite = values[np.isfinite(values)]
    reference = tensor_util.make_ndarray(histogram_pb("h", finite).value[0].tensor)
    np.testing.assert_array_equal(summaries.histogram_buckets(values), reference)
    in_graph = probes._tf_histogram_buckets(tf.constant(values, tf.float32)).numpy()
    np.testing.assert_allclose(in_graph[:, :2], reference[:, :2], rtol=1e-6)
    np.testing.assert_array_equal(in_graph[:, 2], reference[:, 2])


# ------------------------------------------------------------------------------------------
# Checkpoint thinning
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_count", [3, 5, 8, 30])
def test_thinning_keeps_initial_first_latest_and_spreads_the_rest(max_count):
    kept: list[int] = []
    for epoch in [-1, *range(200)]:
        kept = thin_checkpoints([*kept, epoch], max_count)
        assert len(kept) <= max_count and kept == sorted(set(kept))
        assert kept[0] == -1 and epoch in kept and (epoch < 0 or kept[1] == 0)
        if epoch >= max_count and max_count > 3:
            ideal = epoch / (max_count - 2)
            assert np.diff(kept[1:]).max() <= 2 * ideal
    assert thin_checkpoints([-1, 0, 1], 5) == [-1, 0, 1]


def test_thinning_keeps_the_manifest_and_the_folder_in_step(tmp_path):
    x, y = tiny_data(16)
    model = tiny_dense_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    options = {**METRICS_ONLY, "checkpoint_freq": 1, "max_checkpoints": 5}
    model.fit(x, y, epochs=12, verbose=0, callbacks=[RunRecorder(tmp_path, **options)])
    recording = read_recording(tmp_path)
    epochs = [epoch for epoch, _ in recording.checkpoints]
    assert len(epochs) == 5 and epochs[:2] == [-1, 0] and epochs[-1] == 11
    on_disk = sorted(str(path) for path in (tmp_path / "checkpoints").iterdir())
    assert on_disk == sorted(path for _, path in recording.checkpoints)
    assert not recording.notes


# ------------------------------------------------------------------------------------------
# Attention
# ------------------------------------------------------------------------------------------


class CausalBlock(keras.layers.Layer):
    """A subclassed layer with a causal MultiHeadAttention inside: reached by the recorder too."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(2, 4, name="inner_mha")
        self.norm = keras.layers.LayerNormalization()

    def call(self, x):
        return self.norm(x + self.attention(x, x, use_causal_mask=True))


def test_attention_scores_equal_the_layer_called_on_its_own(tmp_path):
    rng = np.random.default_rng(3)
    inputs = keras.Input((5, 8))
    attention = keras.layers.MultiHeadAttention(3, 4, name="mha")
    attended = attention(inputs, inputs)
    block = CausalBlock(name="block")
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(block(attended)))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    x = rng.normal(size=(40, 5, 8)).astype("float32")
    y = rng.normal(size=(40, 1)).astype("float32")
    recorder = RunRecorder(tmp_path, probe_data=(x[:20], y[:20]), save_model=False)
    model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[recorder])

    recording = read_recording(tmp_path)
    assert [epoch for epoch, _ in recording.attention_files] == [0, 1]
    scores = load_attention(recording.attention_files[-1][1])
    assert list(scores) == ["mha", "inner_mha"]
    probe = x[:16]
    _, expected = attention(probe, probe, return_attention_scores=True)
    inner_input = attention(probe, probe)
    _, expected_inner = block.attention(
        inner_input, inner_input, use_causal_mask=True, return_attention_scores=True
    )
    for name, reference, heads in (("mha", expected, 3), ("inner_mha", expected_inner, 2)):
        assert scores[name].shape == (16, heads, 5, 5)
        np.testing.assert_allclose(scores[name].sum(-1), 1.0, atol=5e-3)
        np.testing.assert_allclose(scores[name], reference.numpy(), atol=1e-3)
    assert np.all(np.triu(scores["inner_mha"], k=1) == 0)  # causal: no look ahead
    # The layers are left as they were: plain calls return the output only.
    assert "call" not in attention.__dict__ and "call" not in block.attention.__dict__
    assert attention(probe, probe).shape == (16, 5, 8)


# ------------------------------------------------------------------------------------------
# Stopping, resuming and failures that must not stop training
# ------------------------------------------------------------------------------------------


def test_stop_file_stops_training_and_a_new_fit_resumes(tmp_path):
    x, y = tiny_data(64)
    model = tiny_dense_model()
    model.compile("adam", "sparse_categorical_crossentropy")

    class TouchStopFile(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                (tmp_path / "STOP").touch()

    recorder = RunRecorder(tmp_path, **{**METRICS_ONLY, "checkpoint_freq": 1})
    history = model.fit(
        x, y, epochs=10, batch_size=16, verbose=0, callbacks=[recorder, TouchStopFile()]
    )
    assert len(history.history["loss"]) == 3  # epoch 2 stops after its first batch
    recording = read_recording(tmp_path)
    assert recording.status == "stopped" and recording.epochs_completed == 3
    assert (tmp_path / "STOP").exists()
    assert any("stop file" in note for note in recording.notes)
    assert [epoch for epoch, _ in recording.checkpoints] == [-1, 0, 1, 2]

    model.fit(x, y, initial_epoch=3, epochs=5, batch_size=16, verbose=0, callbacks=[recorder])
    recording = read_recording(tmp_path)
    assert recording.status == "finished" and recording.epochs_completed == 5
    assert not (tmp_path / "STOP").exists()
    assert [epoch for epoch, _ in recording.checkpoints] == [-1, 0, 1, 2, 3, 4]
    run = only_run(tmp_path)
    assert run.problems == ()
    np.testing.assert_array_equal(run.scalars["train/loss"].steps, np.arange(5))


class TinyAutoencoder(keras.Model):
    """VAE-style: its own train_step and loss tracker, no compiled loss, built while training."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.layers.Dense(4, activation="relu")
        self.decoder = keras.layers.Dense(8)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs):
        return self.decoder(self.encoder(inputs))

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self(data) - data))
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights, strict=True))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def test_a_custom_train_step_model_trains_to_the_end_with_notes(tmp_path):
    x, _ = tiny_data(32)
    model = TinyAutoencoder()
    model.compile("adam")
    recorder = RunRecorder(tmp_path, probe_data=(x[:8], x[:8]))
    history = model.fit(x, epochs=2, batch_size=16, verbose=0, callbacks=[recorder])
    recording = read_recording(tmp_path)
    assert recording.status == "finished" and recording.epochs_completed == 2
    notes = " ".join(recording.notes)
    assert "Activation statistics need a Sequential or Functional model" in notes
    assert "gradient norms failed" in notes and "No loss to compute" in notes
    assert "initial weights were not saved" in notes
    run = only_run(tmp_path)
    np.testing.assert_allclose(run.scalars["train/loss"].values, history.history["loss"])
    assert not any(tag.startswith("gradient_norm/") for tag in run.scalars)
    assert [epoch for epoch, _ in recording.checkpoints] == [0, 1]


def test_failing_parts_are_turned_off_and_training_goes_on(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(recorder_module, "save_npz", broken)
    monkeypatch.setattr(checkpoints.CheckpointPlan, "write", broken)
    x, y = tiny_data(32)
    model = tiny_dense_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    recorder = RunRecorder(tmp_path, probe_data=(x, y), samples=(x, y), save_model=False)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[recorder])
    assert len(history.history["loss"]) == 3
    recording = read_recording(tmp_path)
    assert recording.status == "finished" and recording.epochs_completed == 3
    notes = " ".join(recording.notes)
    for part in ("checkpoints", "activation stats", "samples", "probe"):
        assert f"Recording {part} failed and was turned off: OSError" in notes
    assert recording.checkpoints == () and recording.activation_files == ()
    assert recording.samples_file is None and recording.probe_file is None
    assert only_run(tmp_path).scalars["gradient_norm/global"].num_points == 3


# ------------------------------------------------------------------------------------------
# Other model shapes
# ------------------------------------------------------------------------------------------


def test_multi_output_model_with_batch_scalars_and_a_schedule(tmp_path):
    rng = np.random.default_rng(4)
    inputs = [rng.normal(size=(64, 6)).astype("float32"), rng.normal(size=(64, 4)).astype("f4")]
    targets = [rng.normal(size=(64, 2)).astype("float32"), rng.integers(0, 2, (64, 1)).astype("f4")]
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    model = tiny_branching_model()
    model.compile(
        optimizer=keras.optimizers.SGD(schedule),
        loss=["mse", "binary_crossentropy"],
        metrics=[["mae"], ["accuracy"]],
    )
    probe = ([a[:16] for a in inputs], [t[:16] for t in targets])
    recorder = RunRecorder(tmp_path, probe_data=probe, batch_scalars=True, save_model=False)
    history = model.fit(
        inputs,
        targets,
        validation_data=(inputs, targets),
        epochs=2,
        batch_size=16,
        verbose=0,
        callbacks=[recorder],
    )
    run = only_run(tmp_path)
    assert "val_head_1_loss" in history.history
    for key, values in history.history.items():
        np.testing.assert_allclose(run.scalars[tag_for(key)].values, values, rtol=1e-6)
    np.testing.assert_array_equal(run.scalars["batch/loss"].steps, np.arange(8))
    np.testing.assert_allclose(
        run.scalars["learning_rate"].values, [float(schedule(4)), float(schedule(8))], rtol=1e-6
    )
    assert run.scalars["gradient_norm/dense_a/kernel"].num_points == 2
    recording = read_recording(tmp_path)
    assert recording.notes == ()
    with np.load(recording.probe_file) as saved:
        assert sorted(saved.files) == ["x/0", "x/1", "y/0", "y/1"]
    assert list(load_activation_stats(recording.activation_files[-1][1])) == [
        "dense_a",
        "skip",
        "join",
        "head_1",
        "head_2",
    ]


def test_lstm_batch_normalization_and_dropout(tmp_path):
    rng = np.random.default_rng(5)
    model = keras.Sequential(
        [
            keras.Input((7, 3)),
            keras.layers.LSTM(6, return_sequences=True, name="lstm"),
            keras.layers.BatchNormalization(name="norm"),
            keras.layers.Dropout(0.3, name="dropout"),
            keras.layers.LSTM(4, name="lstm_2"),
            keras.layers.Dense(1, name="out"),
        ],
        name="sequence_model",  # variable paths start with the model's name, unique per process
    )
    model.compile("adam", "mse")
    x = 3 * rng.normal(size=(32, 7, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    recorder = RunRecorder(tmp_path, probe_data=(x, y), save_model=False)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[recorder])
    recording = read_recording(tmp_path)
    assert recording.status == "finished" and recording.notes == ()
    stats = load_activation_stats(recording.activation_files[-1][1])
    assert list(stats) == ["lstm", "norm", "dropout", "lstm_2", "out"]
    sequence = keras.Model(model.inputs[0], model.get_layer("lstm").output)(x).numpy()
    flat = sequence.reshape(-1, 6)  # samples and time steps reduced, per unit
    np.testing.assert_allclose(stats["lstm"]["mean"], flat.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(stats["lstm"]["frac_saturated"], (np.abs(flat) > 0.99).mean(0))
    run = only_run(tmp_path)
    assert run.scalars["gradient_norm/sequence_model/lstm/lstm_cell/kernel"].values[-1] > 0


def test_without_probe_data_the_probes_are_skipped_with_a_note(tmp_path):
    x, y = tiny_data(16)
    model = tiny_dense_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[RunRecorder(tmp_path, save_model=False)])
    recording = read_recording(tmp_path)
    assert recording.status == "finished"
    assert any("No probe_data or samples were given" in note for note in recording.notes)
    assert recording.activation_files == () and recording.probe_file is None


@pytest.mark.parametrize(
    "options",
    [
        {"probe_size": 0},
        {"histogram_freq": -1},
        {"max_checkpoints": 2},
        {"checkpoint_freq": 1.5},
        {"saturation_threshold": 1.0},
        {"stop_file": "../STOP"},
        {"hyperparameters": [1, 2]},
        {"probe_data": (np.zeros((4, 2)), np.zeros(3))},
        {"samples": np.float32(1.0)},
    ],
)
def test_bad_arguments_are_refused_up_front(tmp_path, options):
    with pytest.raises(ValueError):
        RunRecorder(tmp_path, **options)


def test_a_damaged_manifest_in_the_folder_is_replaced_with_a_note(tmp_path):
    (tmp_path / "neurogenesis_run.json").write_text("{garbage")
    with pytest.raises(InputError):
        read_recording(tmp_path)
    x, y = tiny_data(16)
    model = tiny_dense_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[RunRecorder(tmp_path, **METRICS_ONLY)])
    recording = read_recording(tmp_path)
    assert recording.status == "finished"
    assert any("Replaced an unreadable" in note for note in recording.notes)


def test_a_fit_that_raises_leaves_status_failed_when_the_process_exits(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = f"""
import keras
from neurogenesis.recording import RunRecorder
from neurogenesis.testing import tiny_data, tiny_dense_model

class Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("the user's callback failed")

x, y = tiny_data(16)
model = tiny_dense_model()
model.compile("adam", "sparse_categorical_crossentropy")
recorder = RunRecorder({str(tmp_path)!r}, histogram_freq=0, save_model=False)
model.fit(x, y, epochs=5, verbose=0, callbacks=[recorder, Boom()])
"""
    env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode != 0 and "the user's callback failed" in result.stderr
    recording = read_recording(tmp_path)
    assert recording.status == "failed" and recording.epochs_completed == 2
    assert any("process exited while training" in note for note in recording.notes)
    assert only_run(tmp_path).scalars["train/loss"].num_points == 2


@pytest.mark.slow
def test_the_benchmark_runs(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "callback.py"
    spec = importlib.util.spec_from_file_location("benchmark_callback", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    assert benchmark.main(["--quick"]) == 0
    output = capsys.readouterr().out
    assert "overhead with defaults: " in output and "no callback" in output


def test_checkpoints_fall_back_to_keras_when_the_weights_cannot_be_mapped(tmp_path, monkeypatch):
    def unmappable(model):
        raise TypeError("a layer saves computed arrays")

    monkeypatch.setattr(checkpoints, "_record_save_state", unmappable)
    x, y = tiny_data(16)
    model = tiny_dense_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    recorder = RunRecorder(tmp_path, **{**METRICS_ONLY, "checkpoint_freq": 1})
    model.fit(x, y, epochs=2, verbose=0, callbacks=[recorder])
    recording = read_recording(tmp_path)
    assert [epoch for epoch, _ in recording.checkpoints] == [-1, 0, 1]
    assert any("model.save_weights" in note for note in recording.notes)
    arrays = load_checkpoint_arrays(recording.checkpoints[-1][1])
    assert list(arrays)[:2] == ["layers/dense/vars/0", "layers/dense/vars/1"]
    np.testing.assert_array_equal(arrays["layers/dense/vars/0"], model.weights[0].numpy())

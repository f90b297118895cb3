"""neurogenesis.io.recordings: a recorder's manifest and files, read without TensorFlow.

The manifests and files here are written by hand (json, h5py, numpy), including damaged and
hostile ones; tests/recording/test_recorder.py reads back what a real RunRecorder wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurogenesis.errors import InputError, UnsafeModelError
from neurogenesis.io import recordings
from neurogenesis.io.recordings import (
    RUN_MANIFEST_NAME,
    VARIABLE_PATHS_ATTRIBUTE,
    Recording,
    is_recording,
    load_activation_stats,
    load_attention,
    load_checkpoint_arrays,
    read_recording,
)

ROOT = Path(__file__).resolve().parents[2]


def manifest(**overrides) -> dict:
    document = {
        "format": "neurogenesis-run",
        "version": 1,
        "status": "finished",
        "started": "2026-01-01T00:00:00+00:00",
        "updated": "2026-01-01T00:01:00+00:00",
        "epochs_completed": 3,
        "params": {"epochs": 3, "steps": 4, "verbose": 0},
        "hyperparameters": {"learning_rate": 0.001, "optimizer": "Adam"},
        "model_file": "model.keras",
        "checkpoints": [
            {"epoch": 2, "file": "checkpoints/epoch_0002.weights.h5"},
            {"epoch": -1, "file": "checkpoints/initial.weights.h5"},
        ],
        "activations": [{"epoch": 0, "file": "activations/epoch_0000.npz"}],
        "attention": [],
        "probe_file": "probe.npz",
        "samples_file": None,
        "tags": {"train": ["train/loss"], "validation": ["validation/loss"]},
        "notes": ["a note"],
    }
    document.update(overrides)
    return document


def write_run(folder: Path, document, files=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if files is None:
        files = [
            "model.keras",
            "checkpoints/epoch_0002.weights.h5",
            "checkpoints/initial.weights.h5",
            "activations/epoch_0000.npz",
            "probe.npz",
        ]
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")
    text = document if isinstance(document, str | bytes) else json.dumps(document)
    if isinstance(text, str):
        text = text.encode("utf-8")
    (folder / RUN_MANIFEST_NAME).write_bytes(text)
    return folder


# ------------------------------------------------------------------------------------------
# read_recording
# ------------------------------------------------------------------------------------------


def test_reads_a_manifest_with_absolute_paths_sorted_by_epoch(tmp_path):
    folder = write_run(tmp_path / "run", manifest())
    recording = read_recording(folder)
    assert isinstance(recording, Recording)
    assert recording.path == str(folder)
    assert recording.status == "finished"
    assert recording.epochs_completed == 3
    assert recording.hyperparameters == {"learning_rate": 0.001, "optimizer": "Adam"}
    assert recording.checkpoints == (
        (-1, str(folder / "checkpoints/initial.weights.h5")),
        (2, str(folder / "checkpoints/epoch_0002.weights.h5")),
    )
    assert recording.checkpoint_labels == ("initial", "epoch 3")
    assert recording.activation_files == ((0, str(folder / "activations/epoch_0000.npz")),)
    assert recording.attention_files == ()
    assert recording.model_file == str(folder / "model.keras")
    assert recording.probe_file == str(folder / "probe.npz")
    assert recording.samples_file is None
    assert recording.notes == ("a note",)
    assert recording.started == "2026-01-01T00:00:00+00:00"
    assert recording.params == {"epochs": 3, "steps": 4, "verbose": 0}
    assert recording.tags == {"train": ("train/loss",), "validation": ("validation/loss",)}
    # The manifest file itself may be named instead of its folder.
    assert read_recording(folder / RUN_MANIFEST_NAME) == recording
    assert is_recording(folder) and not is_recording(tmp_path)


def test_files_listed_but_missing_are_left_out_with_a_note(tmp_path):
    folder = write_run(tmp_path / "run", manifest(), files=["checkpoints/initial.weights.h5"])
    recording = read_recording(folder)
    assert [epoch for epoch, _ in recording.checkpoints] == [-1]
    assert recording.activation_files == ()
    assert recording.model_file is None and recording.probe_file is None
    assert any("epoch_0002.weights.h5" in note for note in recording.notes)
    assert any("model file" in note for note in recording.notes)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (json.dumps({"loss": [1.0, 2.0]}), "format"),
        (json.dumps(manifest(format="something-else")), "format"),
        (json.dumps(manifest(version=2)), "newer NeuroGenesis"),
        (json.dumps(manifest(version="1")), "version"),
        (json.dumps(manifest(status="exploded")), "status"),
        (json.dumps(manifest(epochs_completed=-1)), "epochs_completed"),
        (json.dumps(manifest(epochs_completed=True)), "epochs_completed"),
        (json.dumps(manifest(hyperparameters=[1])), "hyperparameters"),
        (json.dumps(manifest(notes="text")), "notes"),
        (json.dumps(manifest(notes=[1])), "notes"),
        (json.dumps(manifest(checkpoints={"epoch": 1})), "checkpoints"),
        (json.dumps(manifest(checkpoints=[{"epoch": "1", "file": "a"}])), "epoch"),
        (json.dumps(manifest(checkpoints=[{"epoch": -2, "file": "a"}])), "epoch"),
        (json.dumps(manifest(checkpoints=[{"epoch": 1, "file": None}])), "file"),
        (json.dumps(manifest(model_file=3)), "model_file"),
        (json.dumps(manifest(updated=5)), "updated"),
        (json.dumps(manifest(tags={"train": "x"})), "tags"),
    ],
)
def test_garbage_manifests_are_input_errors(tmp_path, content, message):
    folder = write_run(tmp_path / "run", content)
    with pytest.raises(InputError, match=message):
        read_recording(folder)


@pytest.mark.parametrize(
    "name",
    ["../outside.h5", "/etc/passwd", "checkpoints/../../x", "a//b", "./x", "a\\b", ""],
)
def test_paths_leading_outside_the_run_folder_are_refused(tmp_path, name):
    (tmp_path / "outside.h5").write_bytes(b"x")
    folder = write_run(tmp_path / "run", manifest(checkpoints=[{"epoch": 0, "file": name}]))
    with pytest.raises(InputError):
        read_recording(folder)


def test_a_symlink_out_of_the_run_folder_is_refused(tmp_path):
    (tmp_path / "secret.h5").write_bytes(b"x")
    folder = write_run(tmp_path / "run", manifest(model_file="model.keras"), files=[])
    os.symlink(tmp_path / "secret.h5", folder / "model.keras")
    with pytest.raises(InputError, match="outside the run folder"):
        read_recording(folder)


def test_missing_folder_manifest_and_oversized_manifest(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_recording(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has none"):
        read_recording(tmp_path / "empty")
    with pytest.raises(InputError):
        read_recording(12)
    folder = tmp_path / "huge"
    folder.mkdir()
    with (folder / RUN_MANIFEST_NAME).open("wb") as handle:
        handle.truncate(recordings.MAX_MANIFEST_BYTES + 1)
    with pytest.raises(InputError, match="larger than 16 MiB"):
        read_recording(folder)


# ------------------------------------------------------------------------------------------
# Checkpoints
# ------------------------------------------------------------------------------------------


def keras_like_weights(path: Path, *, with_paths: bool) -> dict[str, np.ndarray]:
    """A .weights.h5 laid out as Keras writes it; returns what the reader should give, in order."""
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 2)).astype("float32")
    bias = np.arange(2, dtype="float32")
    many = {str(i): np.full((1,), i, "float32") for i in range(12)}
    iteration = np.array(7, dtype="int64")
    with h5py.File(path, "w") as handle:
        handle.create_group("vars").attrs["name"] = "model"
        dense = handle.create_group("layers/dense").create_group("vars")
        dense.attrs["name"] = "hidden"
        dense["0"], dense["1"] = kernel, bias
        optimizer = handle.create_group("optimizer").create_group("vars")
        optimizer.attrs["name"] = "adam"
        for key, value in many.items():
            optimizer[key] = iteration if key == "0" else value
        paths = [
            ["layers/dense/vars/0", "model/hidden/kernel"],
            ["layers/dense/vars/1", "model/hidden/bias"],
            *[[f"optimizer/vars/{i}", f"adam/v{i}"] for i in range(12)],
        ]
        if with_paths:
            handle.attrs[VARIABLE_PATHS_ATTRIBUTE] = json.dumps(paths)
    expected = {"kernel": kernel, "bias": bias, "iteration": iteration}
    return expected


def test_checkpoint_arrays_are_named_by_variable_path_in_keras_order(tmp_path):
    path = tmp_path / "epoch_0001.weights.h5"
    expected = keras_like_weights(path, with_paths=True)
    arrays = load_checkpoint_arrays(path)
    assert list(arrays) == [
        "model/hidden/kernel",
        "model/hidden/bias",
        *[f"adam/v{i}" for i in range(12)],
    ]
    np.testing.assert_array_equal(arrays["model/hidden/kernel"], expected["kernel"])
    np.testing.assert_array_equal(arrays["model/hidden/bias"], expected["bias"])
    assert arrays["adam/v0"].dtype == np.int64 and arrays["adam/v0"] == 7
    np.testing.assert_array_equal(arrays["adam/v11"], [11.0])


def test_any_keras_weights_file_is_keyed_by_dataset_path_in_numeric_order(tmp_path):
    path = tmp_path / "plain.weights.h5"
    keras_like_weights(path, with_paths=False)
    arrays = load_checkpoint_arrays(path)
    assert list(arrays)[:4] == [
        "layers/dense/vars/0",
        "layers/dense/vars/1",
        "optimizer/vars/0",
        "optimizer/vars/1",
    ]
    assert list(arrays)[-2:] == ["optimizer/vars/10", "optimizer/vars/11"]


def test_damaged_missing_and_hostile_checkpoints_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_checkpoint_arrays(tmp_path / "gone.weights.h5")
    text = tmp_path / "text.weights.h5"
    text.write_text("not hdf5")
    with pytest.raises(InputError):
        load_checkpoint_arrays(text)
    good = tmp_path / "good.weights.h5"
    keras_like_weights(good, with_paths=True)
    cut = tmp_path / "cut.weights.h5"
    cut.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(InputError):
        load_checkpoint_arrays(cut)
    linked = tmp_path / "linked.weights.h5"
    with h5py.File(linked, "w") as handle:
        handle["vars/0"] = h5py.ExternalLink(str(good), "/layers/dense/vars/0")
    with pytest.raises(UnsafeModelError, match="external link"):
        load_checkpoint_arrays(linked)


# ------------------------------------------------------------------------------------------
# Activation statistics and attention
# ------------------------------------------------------------------------------------------


def stats_arrays(units=4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    arrays = {}
    for layer in ("conv_1", "dense"):
        for statistic in recordings.ACTIVATION_STATISTICS:
            arrays[f"{layer}/{statistic}"] = rng.random(units).astype("float32")
    return arrays


def test_activation_stats_by_layer_in_file_order(tmp_path):
    arrays = stats_arrays()
    np.savez(tmp_path / "epoch_0000.npz", **arrays)
    stats = load_activation_stats(tmp_path / "epoch_0000.npz")
    assert list(stats) == ["conv_1", "dense"]
    assert list(stats["dense"]) == ["mean", "std", "frac_zero", "frac_saturated"]
    np.testing.assert_array_equal(stats["conv_1"]["std"], arrays["conv_1/std"])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("dense/std"), "lacks std"),
        (lambda a: a.__setitem__("dense/median", np.zeros(4, "float32")), "median"),
        (lambda a: a.__setitem__("nolayer", np.zeros(4, "float32")), "nolayer"),
        (lambda a: a.__setitem__("dense/mean", np.zeros((4, 2), "float32")), "shape"),
        (lambda a: a.__setitem__("dense/mean", np.zeros(3, "float32")), "different lengths"),
        (lambda a: a.__setitem__("dense/mean", np.array([object()] * 4)), "Python objects"),
    ],
)
def test_malformed_activation_stats_are_input_errors(tmp_path, change, message):
    arrays = stats_arrays()
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError, match=message):
        load_activation_stats(tmp_path / "bad.npz")


def test_attention_scores_read_as_float32(tmp_path):
    scores = np.random.default_rng(2).random((3, 2, 5, 5)).astype("float16")
    np.savez(tmp_path / "epoch_0001.npz", mha=scores, **{"mha/call_1": scores})
    loaded = load_attention(tmp_path / "epoch_0001.npz")
    assert list(loaded) == ["mha", "mha/call_1"]
    assert loaded["mha"].dtype == np.float32
    np.testing.assert_array_equal(loaded["mha"], scores.astype("float32"))
    np.savez(tmp_path / "flat.npz", mha=np.zeros((3, 5, 5), "float16"))
    with pytest.raises(InputError, match="attention scores"):
        load_attention(tmp_path / "flat.npz")


def test_damaged_npz_files_are_input_errors(tmp_path):
    np.savez(tmp_path / "good.npz", **stats_arrays())
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    for reader in (load_activation_stats, load_attention):
        with pytest.raises(InputError):
            reader(tmp_path / "cut.npz")
        with pytest.raises(InputError, match="does not exist"):
            reader(tmp_path / "missing.npz")


def test_reading_recordings_imports_neither_tensorflow_nor_keras():
    code = (
        "import sys, neurogenesis.io.recordings as r; "
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr

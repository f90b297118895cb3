"""Safe model loading: the pre-scan refuses hostile files with InputError, benign ones load intact.

Hostile files are built here, in tmp folders: real Keras models with Lambda layers, hand-made
archives whose config names foreign code, zip bombs, path traversal, HDF5 files that reach other
files, truncated and random bytes.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import marshal
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurogenesis.errors import InputError, UnsafeModelError
from neurogenesis.io import models
from neurogenesis.io.models import (
    REFUSED_CLASS_NAMES,
    ModelCard,
    TrainingSetup,
    load_model,
    model_file_kind,
    scan_model_file,
    training_setup,
)

ROOT = Path(__file__).resolve().parents[2]
DAMAGED = r"truncated or damaged"


# --- models saved once per module ------------------------------------------------------------


def _benign_models(keras):
    layers = keras.layers
    keras.utils.set_random_seed(7)

    inputs = keras.Input((8,), name="features")
    a = layers.Dense(4, activation="relu", name="branch_a")(inputs)
    b = layers.Dense(5, activation="tanh", name="branch_b")(inputs)
    merged = layers.Concatenate(name="merge")([a, b])
    probabilities = layers.Dense(3, activation="softmax", name="probabilities")(merged)
    score = layers.Dense(1, name="score")(b)
    branchy = keras.Model(inputs, [probabilities, score], name="branchy")

    inner = keras.Sequential(
        [keras.Input((6,)), layers.Dense(5), layers.Dropout(0.2), layers.Dense(3)], name="inner"
    )
    outer_inputs = keras.Input((6,), name="outer_in")
    outer = keras.Model(
        outer_inputs, layers.Dense(2, activation="sigmoid")(inner(outer_inputs)), name="outer"
    )

    tokens = keras.Input((7,), dtype="int32", name="tokens")
    x = layers.Embedding(50, 8)(tokens)
    x = layers.LSTM(6)(x)
    recurrent = keras.Model(tokens, layers.Dense(1, activation="sigmoid")(x), name="recurrent")

    sequence = keras.Input((5, 8), name="sequence")
    y = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attention")(sequence, sequence)
    y = layers.LayerNormalization()(layers.Add()([y, sequence]))
    attention = keras.Model(sequence, layers.Dense(3, name="head")(y), name="attention_model")

    # Names that contain refused words as parts of longer words must pass.
    words = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(3, name="evaluation_head"),
            layers.Dense(3, name="pickled_features"),
            layers.Dense(2, name="safe_mode_switch"),
        ],
        name="marshalling_yard",
    )

    rng = np.random.default_rng(0)
    return {
        "sequential": (None, rng.normal(size=(5, 4)).astype("float32")),
        "branchy": (branchy, rng.normal(size=(5, 8)).astype("float32")),
        "nested": (outer, rng.normal(size=(5, 6)).astype("float32")),
        "recurrent": (recurrent, rng.integers(0, 50, size=(5, 7)).astype("int32")),
        "attention": (attention, rng.normal(size=(5, 5, 8)).astype("float32")),
        "words": (words, rng.normal(size=(5, 4)).astype("float32")),
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Benign and Lambda models in .keras and .h5, with the originals and their predictions."""
    import keras

    folder = tmp_path_factory.mktemp("models")
    built = _benign_models(keras)

    # A compiled and fitted model, so the files also hold optimizer variables.
    sequential = keras.Sequential(
        [
            keras.Input((4,), name="pixels"),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.BatchNormalization(name="norm"),
            keras.layers.Dense(3, activation="softmax", name="probabilities"),
        ],
        name="classifier",
    )
    sequential.compile("adam", "sparse_categorical_crossentropy")
    x = built["sequential"][1]
    sequential.fit(x, np.array([0, 1, 2, 1, 0]), epochs=1, verbose=0)
    built["sequential"] = (sequential, x)

    out = {"folder": folder, "models": {}}
    for name, (model, x) in built.items():
        prediction = model.predict(x, verbose=0)
        for suffix in ("keras", "h5"):
            model.save(folder / f"{name}.{suffix}")
        out["models"][name] = (model, x, prediction)

    marker = folder / "lambda_ran.txt"
    lambda_model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Lambda(
                lambda t, path=str(marker): (open(path, "w").close(), t * 2)[1],  # noqa: SIM115
                name="my_lambda",
            ),
            keras.layers.Dense(2),
        ]
    )
    lambda_model.save(folder / "lambda.keras")
    lambda_model.save(folder / "lambda.h5")
    marker.unlink(missing_ok=True)  # building the model ran the function once
    out["marker"] = marker
    return out


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def _write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def _keras_with_config(saved, path, edit):
    """A copy of the sequential .keras archive whose config.json was changed by edit(config)."""
    members = _members(saved["folder"] / "sequential.keras")
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    return _write_zip(path, members.items())


def _replace_layer(entry, index=1):
    def edit(config):
        config["config"]["layers"][index] = entry

    return edit


def _set_activation(activation):
    def edit(config):
        config["config"]["layers"][1]["config"]["activation"] = activation

    return edit


# --- benign models ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["keras", "h5"])
@pytest.mark.parametrize(
    "name", ["sequential", "branchy", "nested", "recurrent", "attention", "words"]
)
def test_benign_model_loads_with_same_predictions_and_card(saved, name, suffix):
    import keras

    model, x, prediction = saved["models"][name]
    path = saved["folder"] / f"{name}.{suffix}"

    card = scan_model_file(path)
    assert isinstance(card, ModelCard)
    assert card.path == os.fspath(path) and card.file_format == suffix
    assert card.name == model.name
    assert card.model_class == (
        "Sequential" if isinstance(model, keras.Sequential) else "Functional"
    )
    assert card.num_params == model.count_params()
    assert card.num_layers == len(model.layers)
    assert card.input_shapes == tuple(tuple(tensor.shape) for tensor in model.inputs)
    assert card.keras_version == keras.__version__
    assert card.file_size == path.stat().st_size

    loaded = load_model(path)
    assert loaded.count_params() == model.count_params()
    for got, want in zip(
        keras.tree.flatten(loaded.predict(x, verbose=0)),
        keras.tree.flatten(prediction),
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_keras_ops_nodes_are_not_layers(tmp_path):
    import keras

    inputs = keras.Input((6,), name="values")
    x = keras.ops.concatenate([inputs[:, :3] * 2.0, keras.ops.exp(inputs[:, 3:])], axis=-1)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x), name="with_ops")
    model.save(tmp_path / "ops.keras")
    card = scan_model_file(tmp_path / "ops.keras")
    assert (
        (card.num_layers, card.num_params) == (len(model.layers), model.count_params()) == (2, 14)
    )
    assert card.output_summary == "Dense(2)"
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(2, 6)
    np.testing.assert_allclose(
        load_model(tmp_path / "ops.keras").predict(x, verbose=0), model.predict(x, verbose=0)
    )
    # Keras 3 writes such a model to .h5 but cannot read it back (legacy configs have no ops).
    model.save(tmp_path / "ops.h5")
    reason = r"Keras 3 cannot read keras\.ops operations from \.h5 files; save"
    with pytest.raises(InputError, match=reason):
        scan_model_file(tmp_path / "ops.h5")
    with pytest.raises(InputError, match=reason) as caught:
        load_model(tmp_path / "ops.h5")
    assert not isinstance(caught.value, UnsafeModelError)
    assert "custom class" not in str(caught.value).replace("not a custom class", "")


def test_keras_ops_nodes_load_from_keras_and_are_named_as_operations_in_h5(tmp_path):
    """Comparison and logic ops (LogicalOr, NotEqual, ...) are Keras's own, never custom classes:
    a .keras file loads them; for .h5 the reason is that Keras 3 cannot read them there."""
    import keras

    values = keras.Input((4,), name="values")
    either = keras.ops.logical_or(keras.ops.greater(values, 0.5), keras.ops.less(values, -0.5))
    kept = keras.ops.logical_and(either, keras.ops.not_equal(values, 1.0))
    gated = keras.ops.cast(kept, "float32") * values
    model = keras.Model(values, keras.layers.Dense(2, name="out")(gated), name="gates")
    x = np.array([[1.0, 0.7, -0.9, 0.1], [0.2, -0.2, 2.0, -3.0]], dtype="float32")
    model.save(tmp_path / "gates.keras")
    loaded = load_model(tmp_path / "gates.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

    model.save(tmp_path / "gates.h5")
    with pytest.raises(InputError) as caught:
        load_model(tmp_path / "gates.h5")
    message = str(caught.value)
    assert not isinstance(caught.value, UnsafeModelError)
    operation = re.match(r"layer '(\w+)' of 'gates.h5' is the Keras operation '(\w+)' ", message)
    assert operation and operation[2] in ("Cast", "Multiply", "NotEqual", "LogicalOr")
    assert message.endswith(
        "(a keras.ops call in the model's graph, not a custom class). Keras 3 cannot read "
        'keras.ops operations from .h5 files; save the model as .keras (model.save("model.keras")).'
    )


def test_keras_reasons_are_never_cut_mid_sentence(saved, tmp_path):
    path = _keras_with_config(
        saved,
        tmp_path / "bad_units.keras",
        lambda c: c["config"]["layers"][1]["config"].update(units="three"),
    )
    with pytest.raises(InputError) as caught:
        load_model(path)
    # The innermost cause Keras wraps, whole (not Sequential's generic "could not be
    # deserialized properly" with its dumped config cut off after 300 characters).
    assert str(caught.value) == (
        "Keras could not rebuild the model from 'bad_units.keras': Received an invalid value "
        "for `units`, expected a positive integer. Received: units=three"
    )

    wrapped = TypeError(
        "<class 'keras.src.models.sequential.Sequential'> could not be deserialized properly. "
        "Please ensure that components that are Python object instances (layers, models, etc.) "
        "returned by `get_config()` are explicitly deserialized in the model's `from_config()` "
        "method.\n\nconfig={'module': 'keras', 'class_name': 'Sequential', 'config': {'layers': "
        "[{'class_name': 'Dense', 'config': {'units': 3, 'use_bias': True}}]}}.\n\nException "
        "encountered: Could not locate class 'Foo'. Make sure custom classes are decorated with "
        "`@keras.saving.register_keras_serializable()`. Full object config: {'module': 'mine', "
        "'class_name': 'Foo', 'config': {'name': 'foo', 'use_bias': True}}"
    )
    assert models._keras_reason(wrapped) == (
        "Could not locate class 'Foo'. Make sure custom classes are decorated with "
        "`@keras.saving.register_keras_serializable()`."
    )
    long_name = "n" * 120
    text = (
        f"Layer '{long_name}' expected 2 variables, but received 0 variables during loading. "
        "Expected: ['kernel', 'bias']. " + "Another sentence that does not fit. " * 10
    )
    assert models._clip_sentences(text, 200) == (
        f"Layer '{'n' * 79}…' expected 2 variables, but received 0 variables during loading. "
        "Expected: ['kernel', 'bias']."
    )
    # A first sentence over the limit is kept whole; a long dumped config inside it shrinks.
    dump = "{" + ", ".join(f"'key{i}': {i}" for i in range(40)) + "}"
    assert models._clip_sentences(f"Unrecognized keyword arguments passed: {dump}", 20) == (
        "Unrecognized keyword arguments passed: {…}"
    )


def test_card_output_summary(saved):
    folder = saved["folder"]
    assert scan_model_file(folder / "sequential.keras").output_summary == "Dense(3, softmax)"
    assert scan_model_file(folder / "sequential.h5").output_summary == "Dense(3, softmax)"
    assert (
        scan_model_file(folder / "branchy.keras").output_summary
        == "2 outputs: Dense(3, softmax), Dense(1)"
    )
    assert scan_model_file(folder / "nested.keras").output_summary == "Dense(2, sigmoid)"
    assert scan_model_file(folder / "attention.h5").output_summary == "Dense(3)"


def test_optimizer_variables_are_not_counted(saved):
    path = saved["folder"] / "sequential.keras"
    with zipfile.ZipFile(path) as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    stored = []
    weights.visititems(
        lambda _, item: stored.append(item.size) if isinstance(item, h5py.Dataset) else None
    )
    assert "optimizer" in weights and sum(stored) > saved["models"]["sequential"][0].count_params()
    assert scan_model_file(path).num_params == saved["models"]["sequential"][0].count_params()


def test_renamed_uploads_are_read_by_their_bytes(saved, tmp_path):
    model, x, prediction = saved["models"]["sequential"]
    for source, target, kind in [
        ("sequential.keras", "upload_1234", "keras"),
        ("sequential.keras", "mislabelled.h5", "keras"),
        ("sequential.h5", "mislabelled.keras", "h5"),
        ("sequential.h5", "upload.bin", "h5"),
        ("sequential.h5", "SHOUTING.H5", "h5"),
    ]:
        path = shutil.copyfile(saved["folder"] / source, tmp_path / target)
        assert model_file_kind(path) == kind
        assert scan_model_file(path).file_format == kind
        np.testing.assert_allclose(load_model(path).predict(x, verbose=0), prediction, rtol=1e-5)


def test_hdf5_with_user_block_is_recognised(saved, tmp_path):
    path = tmp_path / "userblock.h5"
    with (
        h5py.File(saved["folder"] / "sequential.h5", "r") as source,
        h5py.File(path, "w", userblock_size=512) as target,
    ):
        for key, value in source.attrs.items():
            target.attrs[key] = value
        for key in source:
            source.copy(source[key], target, name=key)
    assert model_file_kind(path) == "h5"
    assert scan_model_file(path).num_params == saved["models"]["sequential"][0].count_params()


def test_custom_loss_in_top_level_compile_config_does_not_block_loading(tmp_path):
    import keras

    def my_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred))

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", loss=my_loss)
    model.save(tmp_path / "custom_loss.keras")
    assert load_model(tmp_path / "custom_loss.keras").count_params() == 3


def test_scan_does_not_import_tensorflow_or_keras(saved):
    code = (
        "import sys\n"
        "from neurogenesis.io.models import scan_model_file\n"
        f"scan_model_file({str(saved['folder'] / 'branchy.keras')!r})\n"
        f"scan_model_file({str(saved['folder'] / 'branchy.h5')!r})\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- code in the config ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_lambda_layer_is_refused_and_never_runs(saved, suffix):
    path = saved["folder"] / f"lambda.{suffix}"
    with pytest.raises(UnsafeModelError, match=r"layer 'my_lambda' is a Lambda layer"):
        scan_model_file(path)
    with pytest.raises(UnsafeModelError, match=r"Lambda layer, which stores Python code"):
        load_model(path)
    assert not saved["marker"].exists()


def test_keras_safe_mode_stays_on_even_if_unsafe_deserialization_was_enabled(saved, monkeypatch):
    """Defence in depth: without our config walk, Keras's own safe mode must still refuse."""
    import keras
    from keras.src.backend.common import global_state
    from keras.src.saving import serialization_lib

    monkeypatch.setattr(models, "_walk_config", lambda *args: None)
    previous = serialization_lib.in_safe_mode()
    keras.config.enable_unsafe_deserialization()  # as some other code in the process might
    try:
        for suffix in ("keras", "h5"):
            with pytest.raises(UnsafeModelError, match="safe_mode"):
                load_model(saved["folder"] / f"lambda.{suffix}")
    finally:
        global_state.set_global_attribute("safe_mode_saving", previous)
    assert not saved["marker"].exists()


def test_lambda_layers_load_only_when_the_operator_allows_them(saved, tmp_path, monkeypatch):
    """--unsafe-allow-lambda: the stored code runs (the marker file appears), predictions are the
    original's, safe mode is off for that load only, and the other refusals still stand."""
    import keras
    from keras.src.saving import serialization_lib

    inputs = keras.Input((3,))
    doubled = keras.layers.Lambda(lambda t: t * 2.0 + 1.0, name="affine")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(doubled))
    x = np.arange(12, dtype="float32").reshape(4, 3)
    for suffix in ("keras", "h5"):
        model.save(tmp_path / f"affine.{suffix}")
        with pytest.raises(UnsafeModelError, match=r"layer 'affine' is a Lambda layer"):
            load_model(tmp_path / f"affine.{suffix}")

    monkeypatch.setattr(models, "_LAMBDA_ALLOWED", False)
    models.allow_lambda_layers()
    assert models.lambda_layers_allowed()
    safe_before = serialization_lib.in_safe_mode()
    for suffix in ("keras", "h5"):
        path = tmp_path / f"affine.{suffix}"
        assert scan_model_file(path).code_from == (models.LAMBDA_CODE,)
        loaded = load_model(path)
        np.testing.assert_allclose(
            loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
        )
        assert serialization_lib.in_safe_mode() == safe_before
    marker = tmp_path / "ran.txt"
    writes = eval(f"lambda t: (open({str(marker)!r}, 'w').close(), t)[1]")  # noqa: S307
    keras.Sequential([keras.Input((3,)), keras.layers.Lambda(writes)]).save(tmp_path / "w.keras")
    marker.unlink()  # building the model ran it once
    load_model(tmp_path / "w.keras").predict(x, verbose=0)
    assert marker.exists()  # the file's own code ran: that is what the flag allows

    # Everything else stays refused, and so does a Lambda wrapping a named function.
    for entry, match in [
        (
            {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"name": "tfsm"}},
            r"layer 'tfsm' is a TFSMLayer",
        ),
        (
            {
                "module": "keras.layers",
                "class_name": "Lambda",
                "config": {
                    "name": "named",
                    "function": {
                        "module": "__main__",
                        "class_name": "function",
                        "config": "shell",
                        "registered_name": "function",
                    },
                },
                "registered_name": None,
            },
            r"uses the function 'shell' from module '__main__'",
        ),
    ]:
        path = _keras_with_config(saved, tmp_path / "still.keras", _replace_layer(entry))
        with pytest.raises(UnsafeModelError, match=match):
            load_model(path)

    models.allow_lambda_layers(False)
    with pytest.raises(UnsafeModelError, match=r"Lambda layer"):
        load_model(tmp_path / "affine.keras")


def _marshalled_lambda(marker):
    code = compile(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]", "<evil>", "eval")
    return {
        "class_name": "__lambda__",
        "config": {
            "code": base64.b64encode(marshal.dumps(code.co_consts[0])).decode(),
            "defaults": None,
            "closure": None,
        },
    }


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (
            {"module": "os", "class_name": "system", "config": {"name": "boom"}},
            r"layer 'boom' uses class 'system' from module 'os'",
        ),
        (
            {"module": "builtins", "class_name": "eval", "config": {"name": "boom"}},
            r"class 'eval' from module 'builtins'",
        ),
        (
            {"module": "subprocess", "class_name": "Popen", "config": {"name": "boom"}},
            r"subprocess",
        ),
        (
            {"module": "keras.utils", "class_name": "get_file", "config": {"name": "fetch"}},
            r"module 'keras.utils', which is not part of Keras",
        ),
        (
            {
                "module": "keras.layers",
                "class_name": "MyLayer",
                "config": {"name": "mine"},
                "registered_name": "MyPkg>MyLayer",
            },
            r"layer 'mine' is the custom object 'MyPkg>MyLayer'",
        ),
        (
            {
                "class_name": "MyLayer",
                "config": {"name": "mine"},
                "registered_name": "MyPkg>MyLayer",
            },
            r"'MyPkg>MyLayer'",
        ),
        (
            {
                "module": "keras.layers",
                "class_name": "Dense",
                "config": {
                    "name": "dense",
                    "units": 3,
                    "note": "keras.config.enable_unsafe_deserialization()",
                },
            },
            r"mentions 'enable_unsafe_deserialization'",
        ),
        (
            {
                "module": "keras.layers",
                "class_name": "Dense",
                "config": {"name": "dense", "units": 3, "note": "__import__('os').system('id')"},
            },
            r"mentions '__import__'",
        ),
    ],
    ids=[
        "os-system",
        "builtins-eval",
        "subprocess",
        "keras-utils-gadget",
        "registered-keras-module",
        "registered-no-module",
        "enable-unsafe",
        "dunder-import",
    ],
)
def test_foreign_classes_in_config_are_refused(saved, tmp_path, entry, match):
    path = _keras_with_config(saved, tmp_path / "hostile.keras", _replace_layer(entry))
    with pytest.raises(UnsafeModelError, match=match):
        scan_model_file(path)
    with pytest.raises(UnsafeModelError, match=match):
        load_model(path)


@pytest.mark.parametrize("class_name", sorted(REFUSED_CLASS_NAMES - {"__lambda__"}))
def test_refused_layer_classes(saved, tmp_path, class_name):
    entry = {
        "module": "keras.layers",
        "class_name": class_name,
        "config": {"name": "wrapped", "filepath": "/tmp/elsewhere"},
        "registered_name": None,
    }
    path = _keras_with_config(saved, tmp_path / "hostile.keras", _replace_layer(entry))
    with pytest.raises(UnsafeModelError, match=rf"layer 'wrapped' is a {class_name}"):
        scan_model_file(path)


def test_marshalled_lambda_is_refused_and_never_runs(saved, tmp_path):
    marker = tmp_path / "ran.txt"
    path = _keras_with_config(
        saved, tmp_path / "hostile.keras", _set_activation(_marshalled_lambda(marker))
    )
    with pytest.raises(UnsafeModelError, match=r"Python lambda stored as bytecode"):
        scan_model_file(path)
    with pytest.raises(UnsafeModelError, match=r"inside layer 'hidden'"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("activation", "match"),
    [
        (
            {
                "module": "os",
                "class_name": "function",
                "config": "system",
                "registered_name": "function",
            },
            r"function 'system' from module 'os'",
        ),
        (
            {
                "module": "builtins",
                "class_name": "function",
                "config": "exec",
                "registered_name": "function",
            },
            r"function 'exec', which is not a Keras built-in",
        ),
        (
            {
                "module": "keras.utils",
                "class_name": "function",
                "config": "get_file",
                "registered_name": "function",
            },
            r"not a Keras modelling function",
        ),
        (
            {
                "module": "builtins",
                "class_name": "function",
                "config": "MyPkg>act",
                "registered_name": "MyPkg>act",
            },
            r"'MyPkg>act'",
        ),
    ],
    ids=["os-function", "builtin-exec", "keras-get-file", "registered-function"],
)
def test_foreign_functions_are_refused(saved, tmp_path, activation, match):
    path = _keras_with_config(saved, tmp_path / "hostile.keras", _set_activation(activation))
    with pytest.raises(UnsafeModelError, match=match):
        scan_model_file(path)


def test_escaped_refused_word_is_still_found(saved, tmp_path):
    members = _members(saved["folder"] / "sequential.keras")
    text = (
        members["config.json"].decode().replace('"hidden"', '"\\u0065nable_unsafe_deserialization"')
    )
    members["config.json"] = text.encode()
    path = _write_zip(tmp_path / "escaped.keras", members.items())
    with pytest.raises(UnsafeModelError, match="enable_unsafe_deserialization"):
        scan_model_file(path)


def test_custom_function_and_registered_layer_saved_by_keras_are_refused(tmp_path):
    import keras

    def my_activation(x):
        return x * 3

    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(2, activation=my_activation, name="custom_act")]
    )
    model.save(tmp_path / "custom_act.keras")
    scan_model_file(
        tmp_path / "custom_act.keras"
    )  # an identifier: only Keras can say if it ships it
    with pytest.raises(
        UnsafeModelError, match=r"layer 'custom_act' uses the function 'my_activation'"
    ):
        load_model(tmp_path / "custom_act.keras")

    @keras.saving.register_keras_serializable(package="MyPkg")
    class MyLayer(keras.layers.Layer):
        def call(self, inputs):
            return inputs

    custom = keras.Sequential([keras.Input((2,)), MyLayer(name="mine")])
    custom.save(tmp_path / "custom_layer.keras")
    with pytest.raises(UnsafeModelError, match=r"layer 'mine' uses class 'MyLayer' from module"):
        scan_model_file(tmp_path / "custom_layer.keras")


def test_legacy_class_names_are_checked_against_keras_at_load_time(saved, tmp_path):
    path = shutil.copyfile(saved["folder"] / "sequential.h5", tmp_path / "legacy.h5")
    with h5py.File(path, "a") as handle:
        config = json.loads(handle.attrs["model_config"])
        config["config"]["layers"][1]["class_name"] = "SneakyLayer"
        handle.attrs["model_config"] = json.dumps(config)
    scan_model_file(path)  # the scan cannot import Keras to ask
    with pytest.raises(
        UnsafeModelError, match=r"class 'SneakyLayer', which Keras does not provide"
    ):
        load_model(path)

    with h5py.File(path, "a") as handle:
        config["config"]["layers"][1]["class_name"] = "os.system"
        handle.attrs["model_config"] = json.dumps(config)
    with pytest.raises(UnsafeModelError, match=r"'os.system'"):
        scan_model_file(path)


def test_legacy_h5_lambda_in_model_config(saved, tmp_path):
    marker = tmp_path / "ran.txt"
    path = shutil.copyfile(saved["folder"] / "sequential.h5", tmp_path / "legacy_lambda.h5")
    with h5py.File(path, "a") as handle:
        config = json.loads(handle.attrs["model_config"])
        config["config"]["layers"][1]["config"]["activation"] = _marshalled_lambda(marker)
        handle.attrs["model_config"] = json.dumps(config)
    with pytest.raises(UnsafeModelError, match="Python lambda"):
        load_model(path)
    assert not marker.exists()


def test_damaged_config_json(saved, tmp_path):
    members = _members(saved["folder"] / "sequential.keras")
    members["config.json"] = members["config.json"][:-40]
    with pytest.raises(InputError, match=r"damaged config \(not valid JSON"):
        scan_model_file(_write_zip(tmp_path / "cut.keras", members.items()))
    members["config.json"] = b"[1, 2, 3]"
    with pytest.raises(InputError, match=r"damaged config: expected a JSON object"):
        scan_model_file(_write_zip(tmp_path / "list.keras", members.items()))
    members["config.json"] = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InputError):
        scan_model_file(_write_zip(tmp_path / "deep.keras", members.items()))


# --- archive structure -----------------------------------------------------------------------


def test_zip_bomb_member_is_refused(saved, tmp_path):
    path = shutil.copyfile(saved["folder"] / "sequential.keras", tmp_path / "bomb.keras")
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("assets/zeros.bin", "w", force_zip64=True) as member,
    ):
        chunk = bytes(1 << 20)
        for _ in range(200):  # 200 MiB of zeros, about 200 KiB deflated
            member.write(chunk)
    with pytest.raises(UnsafeModelError, match=r"zip bomb"):
        scan_model_file(path)
    with pytest.raises(UnsafeModelError, match=r"zip bomb"):
        load_model(path)


def test_archive_caps(saved, monkeypatch):
    path = saved["folder"] / "sequential.keras"
    with monkeypatch.context() as patch:
        patch.setattr(models, "MAX_ARCHIVE_MEMBERS", 2)
        with pytest.raises(UnsafeModelError, match=r"lists 3 archive members, more than the 2"):
            scan_model_file(path)
    with monkeypatch.context() as patch:
        patch.setattr(models, "MAX_UNCOMPRESSED_BYTES", 10_000)
        with pytest.raises(UnsafeModelError, match=r"would expand to"):
            scan_model_file(path)
    with monkeypatch.context() as patch:
        patch.setattr(models, "MAX_CONFIG_BYTES", 100)
        with pytest.raises(UnsafeModelError, match=r"member 'config.json' .* holds more than"):
            scan_model_file(path)
    scan_model_file(path)


def test_member_count_is_read_before_zipfile_lists_members(saved, tmp_path, monkeypatch):
    members = list(_members(saved["folder"] / "sequential.keras").items())
    members += [(f"assets/{index}.txt", b"") for index in range(50)]
    path = _write_zip(tmp_path / "many.keras", members)
    monkeypatch.setattr(models, "MAX_ARCHIVE_MEMBERS", 20)

    def no_listing(*args, **kwargs):
        raise AssertionError("zipfile should not have been asked to list the members")

    monkeypatch.setattr(models.zipfile, "ZipFile", no_listing)
    with pytest.raises(UnsafeModelError, match=r"lists 53 archive members"):
        scan_model_file(path)


def test_lying_member_sizes_are_damage_not_a_bomb(saved, tmp_path):
    path = shutil.copyfile(saved["folder"] / "sequential.keras", tmp_path / "liar.keras")
    data = bytearray(path.read_bytes())
    # Central directory entry of config.json: shrink its declared sizes to 10 bytes.
    at = data.find(b"PK\x01\x02")
    while data[at + 46 : at + 46 + 11] != b"config.json":
        at = data.find(b"PK\x01\x02", at + 4)
    struct.pack_into("<II", data, at + 20, 10, 10)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=DAMAGED):
        scan_model_file(path)


@pytest.mark.parametrize(
    "member", ["../evil.txt", "/etc/evil.txt", "assets/../../evil.txt", "C:/evil"]
)
def test_member_path_traversal_is_refused(saved, tmp_path, member):
    members = list(_members(saved["folder"] / "sequential.keras").items()) + [(member, b"x")]
    path = _write_zip(tmp_path / "traversal.keras", members)
    with pytest.raises(UnsafeModelError, match=r"points outside the archive's folder"):
        scan_model_file(path)


def test_archive_without_config_or_weights(saved, tmp_path):
    members = _members(saved["folder"] / "sequential.keras")
    no_config = {k: v for k, v in members.items() if k != "config.json"}
    with pytest.raises(InputError, match=r"not a Keras archive: no config.json"):
        scan_model_file(_write_zip(tmp_path / "a.keras", no_config.items()))
    with pytest.raises(InputError, match=r"not a Keras archive: no config.json"):
        scan_model_file(_write_zip(tmp_path / "empty.keras", []))
    no_weights = {k: v for k, v in members.items() if k != "model.weights.h5"}
    with pytest.raises(InputError, match=DAMAGED):
        scan_model_file(_write_zip(tmp_path / "b.keras", no_weights.items()))


def test_duplicate_member_names_are_refused(saved, tmp_path):
    members = list(_members(saved["folder"] / "sequential.keras").items())
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _write_zip(tmp_path / "dup.keras", [*members, ("config.json", b"{}")])
    with pytest.raises(UnsafeModelError, match=r"lists the member 'config.json' twice"):
        scan_model_file(path)


# --- HDF5 ------------------------------------------------------------------------------------


def _hostile_h5(saved, path, kind):
    shutil.copyfile(saved["folder"] / "sequential.h5", path)
    other = path.parent / "other.h5"
    with h5py.File(other, "w") as handle:
        handle["data"] = np.arange(4, dtype="float32")
    raw = path.parent / "raw.bin"
    raw.write_bytes(bytes(16))
    with h5py.File(path, "a") as handle:
        group = handle["model_weights"]
        if kind == "external_link":
            group["hidden_extra"] = h5py.ExternalLink(str(other), "/data")
        elif kind == "external_storage":
            group.create_dataset(
                "outside", shape=(4,), dtype="float32", external=[(str(raw), 0, 16)]
            )
        elif kind == "virtual":
            layout = h5py.VirtualLayout(shape=(4,), dtype="float32")
            layout[:] = h5py.VirtualSource(str(other), "data", shape=(4,))
            group.create_virtual_dataset("virtual", layout)
        elif kind == "huge":
            group.create_dataset(
                "huge", shape=(2**40,), dtype="float32", chunks=(1024,), compression="gzip"
            )
    return path


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("external_link", r"external link 'model_weights/hidden_extra'"),
        ("external_storage", r"keeps its data in another file"),
        ("virtual", r"is a virtual dataset"),
        ("huge", r"declares 4.0 TiB"),
    ],
)
def test_hdf5_reaching_outside_is_refused(saved, tmp_path, kind, match):
    path = _hostile_h5(saved, tmp_path / "hostile.h5", kind)
    with pytest.raises(UnsafeModelError, match=match):
        scan_model_file(path)
    with pytest.raises(UnsafeModelError, match=match):
        load_model(path)


def test_keras_archive_with_external_link_in_weights(saved, tmp_path):
    members = _members(saved["folder"] / "sequential.keras")
    weights = tmp_path / "weights.h5"
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "a") as handle:
        handle["layers/hidden/vars/2"] = h5py.ExternalLink("/etc/passwd.h5", "/x")
    members["model.weights.h5"] = weights.read_bytes()
    path = _write_zip(tmp_path / "link.keras", members.items())
    with pytest.raises(UnsafeModelError, match=r"external link 'layers/hidden/vars/2'"):
        scan_model_file(path)


def test_weights_only_and_foreign_hdf5(saved, tmp_path):
    model = saved["models"]["sequential"][0]
    model.save_weights(tmp_path / "only.weights.h5")
    with pytest.raises(InputError, match=r"holds weights but no architecture; .*load_weights"):
        scan_model_file(tmp_path / "only.weights.h5")
    with h5py.File(tmp_path / "table.h5", "w") as handle:
        handle["table"] = np.arange(10)
    with pytest.raises(InputError, match=r"HDF5 file but not a Keras model"):
        load_model(tmp_path / "table.h5")


def test_hdf5_that_crashes_the_reader_does_not_take_the_process_down(saved, tmp_path):
    """Fuzzing found it: an invalid string type on an attribute segfaults h5py when read."""
    data = bytearray((saved["folder"] / "sequential.h5").read_bytes())
    name_at = data.find(b"layer_names\x00")
    type_at = data.find(b"\x19\x01", name_at, name_at + 32)  # variable-length string datatype
    assert name_at > 0 and type_at > 0
    data[type_at + 1] = 0xBB  # an undefined variable-length kind
    path = tmp_path / "crasher.h5"
    path.write_bytes(bytes(data))
    for reader in (scan_model_file, load_model):
        with pytest.raises(InputError, match=DAMAGED):
            reader(path)
    # The worker is restarted for the next file.
    assert scan_model_file(saved["folder"] / "sequential.h5").num_params > 0


def test_hdf5_worker_timeout_and_in_process_fallback(saved, monkeypatch):
    path = saved["folder"] / "sequential.h5"
    with monkeypatch.context() as patch:
        patch.setattr(models, "HDF5_WORKER_TIMEOUT_S", 0)
        with pytest.raises(InputError, match=r"took more than 0 s to read"):
            scan_model_file(path)
    models._stop_worker()
    with monkeypatch.context() as patch:
        patch.setattr(models, "_start_worker", lambda: None)  # e.g. no subprocesses allowed
        assert scan_model_file(path).num_params == saved["models"]["sequential"][0].count_params()
        with pytest.raises(UnsafeModelError, match=r"external link"):
            scan_model_file(_hostile_h5(saved, path.parent / "fallback.h5", "external_link"))


def test_hdf5_object_cap(saved, monkeypatch):
    monkeypatch.setattr(models, "MAX_HDF5_OBJECTS", 5)
    with pytest.raises(UnsafeModelError, match=r"more than 5 HDF5 objects"):
        scan_model_file(saved["folder"] / "sequential.h5")


# --- damaged and wrong files -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_truncated_copies_say_damaged(saved, tmp_path, suffix):
    data = (saved["folder"] / f"sequential.{suffix}").read_bytes()
    offsets = sorted(
        {1, 3, 7, 100, 511, 512, 1000, len(data) - 1, len(data) - 22}
        | set(np.linspace(0, len(data), 13, endpoint=False, dtype=int)[1:].tolist())
    )
    assert len(offsets) >= 20
    for offset in offsets:
        path = tmp_path / f"cut_{offset}.{suffix}"
        path.write_bytes(data[:offset])
        with pytest.raises(InputError, match=DAMAGED) as caught:
            scan_model_file(path)
        assert "not found" not in str(caught.value).lower()
        if offset in offsets[::5]:
            with pytest.raises(InputError, match=DAMAGED):
                load_model(path)


def test_flipped_weight_bytes_in_archive_say_damaged(saved, tmp_path):
    data = bytearray((saved["folder"] / "sequential.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside model.weights.h5; the zip CRC catches it
    path = tmp_path / "flipped.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=DAMAGED):
        scan_model_file(path)


def test_wrong_and_missing_paths(tmp_path):
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"'empty.keras' is empty \(0 bytes\)"):
        scan_model_file(empty)

    for name in ("garbage.keras", "garbage.h5"):
        (tmp_path / name).write_bytes(b"this is not a model at all, just some text\n" * 50)
        with pytest.raises(
            InputError, match=r"is not a Keras model: neither a .keras \(zip\) archive nor an HDF5"
        ):
            scan_model_file(tmp_path / name)
        with pytest.raises(InputError, match=r"neither a .keras"):
            load_model(tmp_path / name)

    (tmp_path / "model.pt").write_bytes(b"\x80\x02}q\x00." * 10)
    with pytest.raises(InputError, match=r"Expected a .keras or .h5 file. Received: 'model.pt'"):
        scan_model_file(tmp_path / "model.pt")
    with pytest.raises(InputError, match=r"Expected a .keras or .h5 file. Received: 'model.pt'"):
        model_file_kind(tmp_path / "model.pt")

    saved_model = tmp_path / "exported"
    saved_model.mkdir()
    (saved_model / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(
        InputError, match=r"TensorFlow SavedModel.*tf_keras.*model.save\(\"model.keras\"\)"
    ):
        load_model(saved_model)

    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match=r"'folder' is a folder"):
        scan_model_file(tmp_path / "folder")

    with pytest.raises(InputError, match=r"No such file: .*missing.keras"):
        scan_model_file(tmp_path / "missing.keras")
    with pytest.raises(InputError, match=r"No such file"):
        load_model(str(tmp_path / "nowhere" / "missing.h5"))

    os.symlink(tmp_path / "gone.keras", tmp_path / "dangling.keras")
    with pytest.raises(InputError, match=r"link to a file that does not exist"):
        scan_model_file(tmp_path / "dangling.keras")

    os.mkfifo(tmp_path / "pipe.keras")
    with pytest.raises(InputError, match=r"not a regular file"):
        scan_model_file(tmp_path / "pipe.keras")

    for reader in (scan_model_file, load_model, model_file_kind):
        with pytest.raises(InputError, match=r"Expected a path"):
            reader(None)
    with pytest.raises(InputError):
        scan_model_file("bad\0name.keras")


def test_model_file_kind(saved, tmp_path):
    assert model_file_kind(saved["folder"] / "branchy.keras") == "keras"
    assert model_file_kind(saved["folder"] / "branchy.h5") == "h5"
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(InputError, match="neither"):
        model_file_kind(tmp_path / "text.keras")


# --- training_setup: the compiled loss and metrics, read from the JSON --------------------------


def _two_outputs(keras, **compile_args):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="scores")])
    if compile_args:
        model.compile("sgd", **compile_args)
    return model


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_training_setup_reads_a_loss_name_and_metrics(tmp_path, suffix):
    import keras

    model = _two_outputs(
        keras,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(name="area")],
    )
    model.save(tmp_path / f"named.{suffix}")
    setup = training_setup(tmp_path / f"named.{suffix}")
    assert setup == TrainingSetup("sparse_categorical_crossentropy", ("accuracy", "area"), "")


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_training_setup_reads_a_loss_object_as_keras_rebuilds_it(tmp_path, suffix):
    import keras

    huber = keras.losses.Huber(delta=2.0)
    model = _two_outputs(keras, loss=huber, metrics=["mae"])
    path = tmp_path / f"huber.{suffix}"
    model.save(path)
    setup = training_setup(path)
    assert setup.loss == {
        "module": "keras.losses",
        "class_name": "Huber",
        "config": huber.get_config(),
    }
    assert setup.metrics == ("mae",) and setup.note == ""
    # The loss it names is the one Keras itself compiles when it loads the file. Keras 3.15 saves
    # no delta (keras-team/keras#23286), so both are then Huber(delta=1.0): 3.5, not 6.0, at an
    # error of 4.
    rebuilt = keras.losses.deserialize(setup.loss)
    reloaded = keras.saving.load_model(path, compile=True)
    y_true, y_pred = np.zeros((2, 2), "float32"), np.full((2, 2), 4.0, "float32")
    expected = 6.0 if "delta" in huber.get_config() else 3.5
    assert float(rebuilt(y_true, y_pred)) == pytest.approx(expected)
    assert float(reloaded.loss(y_true, y_pred)) == pytest.approx(expected)


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_training_setup_of_a_model_never_compiled(tmp_path, suffix):
    import keras

    _two_outputs(keras).save(tmp_path / f"plain.{suffix}")
    setup = training_setup(tmp_path / f"plain.{suffix}")
    assert setup == TrainingSetup(None, (), "the file was saved without a compiled loss")


def test_training_setup_reads_a_keras_2_h5_training_config(tmp_path):
    import keras

    path = tmp_path / "legacy.h5"
    _two_outputs(keras).save(path)
    # tf.keras 2 wrote losses without a module and nested the metrics per output.
    config = {"loss": {"class_name": "Huber", "config": {"delta": 2.0}}, "metrics": [["mae"]]}
    with h5py.File(path, "r+") as file:
        file.attrs["training_config"] = json.dumps(config)
    assert training_setup(path) == TrainingSetup(
        {"module": "keras.losses", "class_name": "Huber", "config": {"delta": 2.0}}, ("mae",), ""
    )
    with h5py.File(path, "r+") as file:
        file.attrs["training_config"] = "{not json"
    assert training_setup(path).loss is None


def test_training_setup_leaves_out_what_it_cannot_name(tmp_path):
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(1)(inputs)])
    model.compile("sgd", ["mse", "mae"], metrics=[["mae"], ["mse"]])
    model.save(tmp_path / "two_heads.keras")
    setup = training_setup(tmp_path / "two_heads.keras")
    assert setup == TrainingSetup(
        None, ("mae", "mse"), "the model was compiled with one loss per output"
    )

    (tmp_path / "model.pt").write_bytes(b"not a model")
    with pytest.raises(InputError, match=r"Expected a .keras or .h5 file. Received: 'model.pt'"):
        training_setup(tmp_path / "model.pt")


def test_training_setup_does_not_turn_a_function_loss_into_a_class(tmp_path):
    import keras

    def my_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred))

    model = _two_outputs(keras)
    model.compile("sgd", loss=my_loss)
    model.save(tmp_path / "function_loss.keras")
    setup = training_setup(tmp_path / "function_loss.keras")
    # Either the function's name (an unknown name is refused later, clearly) or None with a note.
    assert setup.loss == "my_loss" or (setup.loss is None and setup.note)
    # Keras's own function losses come back as their names, which Keras rebuilds.
    model.compile("sgd", loss=keras.losses.mean_squared_error)
    model.save(tmp_path / "keras_function.keras")
    assert training_setup(tmp_path / "keras_function.keras").loss == "mean_squared_error"


# --- any bytes -------------------------------------------------------------------------------


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), suffix=st.sampled_from(["keras", "h5"]))
def test_any_bytes_give_input_error_or_a_model(saved, data, suffix):
    mode = data.draw(st.sampled_from(["random", "mutated"]), label="mode")
    if mode == "random":
        prefix = data.draw(st.sampled_from([b"", b"PK\x03\x04", models.HDF5_SIGNATURE]))
        blob = prefix + data.draw(st.binary(max_size=4096), label="bytes")
    else:
        source = data.draw(st.sampled_from(["sequential", "branchy"]), label="source")
        blob = bytearray((saved["folder"] / f"{source}.{suffix}").read_bytes())
        flips = data.draw(
            st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 255)), max_size=12),
            label="flips",
        )
        for at, value in flips:
            blob[at] = value
        cut = data.draw(st.one_of(st.just(len(blob)), st.integers(1, len(blob))), label="cut")
        blob = bytes(blob[:cut])
    path = saved["folder"] / f"fuzz.{suffix}"
    path.write_bytes(blob)
    for reader in (scan_model_file, load_model):
        with contextlib.suppress(InputError):
            reader(path)


def test_a_class_saved_from_a_script_says_how_to_trust_it(saved, tmp_path):
    """Keras names no module for a class defined in a script (__main__): the refusal says what
    would let it run, not only that it is refused."""

    def edit(config):
        layer = config["config"]["layers"][1]
        layer.pop("module", None)
        layer.update(class_name="Block", registered_name="mine>Block")

    path = _keras_with_config(saved, tmp_path / "script.keras", edit)
    with pytest.raises(UnsafeModelError) as caught:
        scan_model_file(path)
    assert "'mine>Block'" in str(caught.value)
    assert "--trust with the path of the .py file that defines it" in str(caught.value)

"""tf.keras 2.x .h5 files in Keras 3: translated configs load and predict what tf.keras predicted.

The files in tests/data/legacy/ were written by tf.keras itself (tests/data/make_tf_keras_files.py,
with tf_keras 2.21 on TF 2.21), together with tf.keras's predictions on fixed inputs: each
translated model must compute those numbers. translate_config is also tested on hand-written
configs, for what it maps and what it refuses.
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurogenesis.errors import InputError, UnsafeModelError
from neurogenesis.io import legacy
from neurogenesis.io.legacy import (
    KERAS_OPS_IN_H5,
    TRANSLATED_OPS,
    is_keras2_config,
    translate_config,
    translate_h5_config,
)
from neurogenesis.io.models import load_model, scan_model_file

DATA = Path(__file__).resolve().parents[1] / "data" / "legacy"
RESAVE = r"re-save the model with Keras 3: model\.save\('model\.keras'\)"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("legacy")
    unpacked = folder / "mobilenet_v2.h5"
    with gzip.open(DATA / "mobilenet_v2.h5.gz") as source, open(unpacked, "wb") as target:
        shutil.copyfileobj(source, target)
    return {
        "mobilenet_v2": unpacked,
        **{name: DATA / f"{name}.h5" for name in ("ops", "layers", "cumsum", "lambda")},
    }


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    with np.load(DATA / "predictions.npz") as saved:
        return dict(saved)


def _saved(expected: dict, name: str, letter: str) -> list[np.ndarray]:
    values = []
    while f"{name}_{letter}{len(values)}" in expected:
        values.append(expected[f"{name}_{letter}{len(values)}"])
    return values


def _file_config(path: Path) -> dict:
    with h5py.File(path, "r") as handle:
        return json.loads(handle.attrs["model_config"])


# --- real tf.keras files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tolerance"),
    [
        ("ops", 1e-5),
        ("layers", 1e-5),
        # 50 float32 layers: Keras 3's BatchNormalization rounds differently from tf.keras's fused
        # one, and the difference grows from 6e-7 after the first block to 7e-5 at the logits
        # (which reach 5); a wrong translation is off by the logits' size.
        ("mobilenet_v2", 2e-4),
    ],
)
def test_translated_files_predict_what_tf_keras_predicted(files, expected, name, tolerance):
    model = load_model(files[name])
    inputs = _saved(expected, name, "x")
    outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    wanted = _saved(expected, name, "y")
    assert len(outputs) == len(wanted)
    for got, want in zip(outputs, wanted, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=tolerance)
    assert model.count_params() == int(expected[f"{name}_params"])
    card = scan_model_file(files[name])
    assert card.num_params == model.count_params()
    assert card.num_layers == len(model.layers)


def test_mobilenet_card_lists_each_depthwise_groups_drop(files):
    config = _file_config(files["mobilenet_v2"])
    depthwise = [
        entry["config"]["name"]
        for entry in config["config"]["layers"]
        if entry["class_name"] == "DepthwiseConv2D"
    ]
    assert len(depthwise) == 17
    card = scan_model_file(files["mobilenet_v2"])
    assert card.keras_version == "2.21.0"
    assert card.translations == tuple(
        f"DepthwiseConv2D {name!r}: dropped groups=1, which Keras 3 does not take"
        for name in depthwise
    )


def test_layers_card_lists_argument_translations(files):
    card = scan_model_file(files["layers"])
    assert card.translations == (
        "SeparableConv2D 'separable': dropped groups=1, which Keras 3 does not take",
        "SeparableConv2D 'separable': dropped kernel_initializer, kernel_regularizer, "
        "kernel_constraint, which tf.keras's SeparableConv2D never used (its kernels come from "
        "the depthwise_ and pointwise_ arguments)",
        "DepthwiseConv2D 'depthwise': dropped groups=1, which Keras 3 does not take",
        "Conv2DTranspose 'transpose': dropped groups=1, which Keras 3 does not take",
        "SpatialDropout2D 'spatial_dropout': dropped trainable=True, noise_shape=None, which "
        "Keras 3's SpatialDropout2D does not take (tf.keras's never used them: it has no weights "
        "and makes its own noise shape)",
        "LSTM 'lstm': dropped time_major=False, which Keras 3 does not take",
        "GRU 'gru': dropped time_major=False, which Keras 3 does not take",
        "SimpleRNN 'simple_rnn': dropped time_major=False, which Keras 3 does not take",
    )


def test_ops_card_and_model_name_each_translated_op(files):
    config = _file_config(files["ops"])
    op_layers = {
        entry["config"]["name"]: entry["config"]["function"]
        for entry in config["config"]["layers"]
        if entry["class_name"] in ("TFOpLambda", "SlicingOpLambda")
    }
    # The file calls every function on the allow-list, so each translation is checked above.
    assert set(op_layers.values()) == set(TRANSLATED_OPS)
    card = scan_model_file(files["ops"])
    assert len(card.translations) == len(op_layers)
    named = {line.split("'")[1]: line for line in card.translations}
    assert set(named) == set(op_layers)
    assert named["tf.math.multiply"].endswith(": tf.math.multiply(x, y=2.0) as keras.ops.multiply")
    assert named["tf.math.multiply_1"].endswith(": tf.math.multiply(2.0, y) as keras.ops.multiply")
    assert named["tf.concat"].endswith(": tf.concat(values, axis=-1) as Concatenate(axis=-1)")
    assert named["tf.reshape"].endswith(": tf.reshape(tensor, shape=[-1, 2, 4]) as Reshape((2, 4))")
    assert named["tf.nn.relu"].endswith(": tf.nn.relu(features) as Activation('relu')")
    assert named["tf.__operators__.getitem"].endswith(": tensor[:, 0:2] as a slice in Keras 3")
    assert named["tf.__operators__.getitem_2"].endswith(": tensor[..., 1] as a slice in Keras 3")

    model = load_model(files["ops"])
    kinds = {layer.name: type(layer).__name__ for layer in model.layers}
    assert kinds["tf.concat"] == "Concatenate"
    assert kinds["tf.reshape"] == "Reshape"
    assert kinds["tf.nn.relu"] == kinds["tf.math.sigmoid"] == "Activation"
    assert kinds["tf.math.multiply"] == kinds["tf.__operators__.getitem"] == "LegacyTFOp"


def test_an_op_off_the_list_is_refused_by_name_and_nothing_runs(files, monkeypatch):
    import keras
    from keras.src.legacy.saving import saving_utils

    def never(*args, **kwargs):
        raise AssertionError("Keras was asked to build a refused model")

    monkeypatch.setattr(keras.saving, "load_model", never)
    monkeypatch.setattr(saving_utils, "model_from_config", never)
    monkeypatch.setattr(legacy, "load_translated", never)
    message = (
        rf"layer 'tf\.math\.cumsum' is a tf\.keras TFOpLambda calling 'tf\.math\.cumsum'.*{RESAVE}"
    )
    with pytest.raises(UnsafeModelError, match=message):
        scan_model_file(files["cumsum"])
    with pytest.raises(UnsafeModelError, match=message):
        load_model(files["cumsum"])


def test_a_lambda_in_a_tf_keras_file_is_still_refused(files):
    with pytest.raises(UnsafeModelError, match=r"layer 'lambda' is a Lambda layer"):
        scan_model_file(files["lambda"])
    with pytest.raises(UnsafeModelError, match=r"layer 'lambda' is a Lambda layer"):
        load_model(files["lambda"])


# --- Keras 3 .h5 files with keras.ops ------------------------------------------------------------


def test_keras_ops_in_a_keras3_h5_file_are_refused_with_the_reason(tmp_path):
    import keras

    inputs = keras.Input((4,), name="values")
    flags = keras.ops.logical_or(inputs > 0.5, inputs < -0.5)
    model = keras.Model(inputs, keras.ops.cast(flags, "float32"), name="flags")
    model.save(tmp_path / "flags.h5")
    # The check meets whichever of the four operations first: each is refused the same way.
    reason = rf"Keras operation '(Greater|Less|LogicalOr|Cast)' .*{re.escape(KERAS_OPS_IN_H5)}"
    with pytest.raises(InputError, match=reason):
        scan_model_file(tmp_path / "flags.h5")
    with pytest.raises(InputError, match=reason):
        load_model(tmp_path / "flags.h5")


def test_an_unknown_class_shaped_like_an_op_is_judged_by_keras_registry(tmp_path):
    import keras

    inputs = keras.Input((4,), name="values")
    model = keras.Model(inputs, keras.ops.exp(inputs), name="exp")
    model.save(tmp_path / "exp.h5")
    with h5py.File(tmp_path / "exp.h5", "a") as handle:
        config = json.loads(handle.attrs["model_config"])
        assert config["config"]["layers"][1]["class_name"] == "Exp"
        config["config"]["layers"][1]["class_name"] = "SneakyOp"
        handle.attrs["model_config"] = json.dumps(config)
    # Without Keras the scan knows an op node by its shape only; at load time Keras's registry
    # of operation classes says SneakyOp is none of them: the custom-class refusal applies.
    with pytest.raises(InputError, match=re.escape(KERAS_OPS_IN_H5)):
        scan_model_file(tmp_path / "exp.h5")
    with pytest.raises(UnsafeModelError, match=r"class 'SneakyOp', which Keras does not provide"):
        load_model(tmp_path / "exp.h5")


def test_keras_op_class_names_are_keras_operations_not_layers():
    names = legacy.keras_op_class_names()
    assert {"Exp", "LogicalOr", "Multiply", "GetItem", "Concatenate"} <= names
    assert "Dense" not in names and "Lambda" not in names


# --- translate_config on hand-written configs ----------------------------------------------------


def _functional(*layers: dict) -> dict:
    return {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"batch_input_shape": [None, 4], "name": "x"},
                    "name": "x",
                    "inbound_nodes": [],
                },
                *layers,
            ],
            "input_layers": [["x", 0, 0]],
            "output_layers": [[layers[-1]["name"], 0, 0]],
        },
    }


def _op(function: str, node: list, class_name: str = "TFOpLambda", name: str = "op") -> dict:
    return {
        "class_name": class_name,
        "config": {"name": name, "trainable": True, "dtype": "float32", "function": function},
        "name": name,
        "inbound_nodes": [node],
    }


def _conv(class_name: str, **arguments) -> dict:
    return {
        "class_name": class_name,
        "config": {"name": "conv", "trainable": True, "kernel_size": [3, 3], **arguments},
        "name": "conv",
        "inbound_nodes": [[["x", 0, 0, {}]]],
    }


def test_translate_config_drops_groups_1_and_leaves_its_input_alone():
    config = _functional(_conv("DepthwiseConv2D", groups=1, depth_multiplier=1))
    before = copy.deepcopy(config)
    translated, notes = translate_config(config)
    assert config == before
    assert notes == ("DepthwiseConv2D 'conv': dropped groups=1, which Keras 3 does not take",)
    expected = copy.deepcopy(before)
    del expected["config"]["layers"][1]["config"]["groups"]
    assert translated == expected


@pytest.mark.parametrize("class_name", ["DepthwiseConv2D", "Conv2DTranspose", "SeparableConv2D"])
def test_translate_config_refuses_groups_other_than_1(class_name):
    with pytest.raises(InputError, match=rf"{class_name} 'conv' has groups=2; Keras 3's"):
        translate_config(_functional(_conv(class_name, groups=2)))


def test_translate_config_refuses_time_major_true_also_inside_a_wrapper():
    lstm = {"class_name": "LSTM", "config": {"name": "lstm", "units": 2, "time_major": True}}
    wrapper = {
        "class_name": "Bidirectional",
        "config": {"name": "bi", "layer": lstm},
        "name": "bi",
        "inbound_nodes": [[["x", 0, 0, {}]]],
    }
    with pytest.raises(InputError, match=r"LSTM 'lstm' has time_major=True"):
        translate_config(_functional(wrapper))
    lstm["config"]["time_major"] = False
    translated, notes = translate_config(_functional(wrapper))
    assert notes == ("LSTM 'lstm': dropped time_major=False, which Keras 3 does not take",)
    assert "time_major" not in translated["config"]["layers"][1]["config"]["layer"]["config"]


def test_translate_config_maps_op_arguments_onto_the_layer():
    translated, notes = translate_config(
        _functional(_op("math.multiply", ["x", 0, 0, {"y": 2.0, "name": None}]))
    )
    entry = translated["config"]["layers"][1]
    assert entry == {
        "class_name": "LegacyTFOp",
        "config": {
            "name": "op",
            "trainable": True,
            "dtype": "float32",
            "function": "math.multiply",
            "arguments": {"y": 2.0},
            "tensor_arguments": ["x"],
            "list_argument": None,
        },
        "name": "op",
        "inbound_nodes": [[["x", 0, 0, {}]]],
    }
    assert notes == ("TFOpLambda 'op': tf.math.multiply(x, y=2.0) as keras.ops.multiply",)


def test_translate_config_maps_tensor_and_constant_arguments():
    # x - y with two tensors: y is a tensor saved among the keyword arguments.
    two = _op("math.subtract", ["x", 0, 0, {"y": ["x", 0, 0], "name": None}])
    entry = translate_config(_functional(two))[0]["config"]["layers"][1]
    assert entry["config"]["tensor_arguments"] == ["x", "y"]
    assert entry["config"]["arguments"] == {}
    assert entry["inbound_nodes"] == [[["x", 0, 0, {}], ["x", 0, 0, {}]]]
    # 1.0 - x: the first argument is a constant.
    constant = _op("math.subtract", ["_CONSTANT_VALUE", -1, 1.0, {"y": ["x", 0, 0]}])
    entry = translate_config(_functional(constant))[0]["config"]["layers"][1]
    assert entry["config"]["arguments"] == {"x": 1.0}
    assert entry["config"]["tensor_arguments"] == ["y"]
    # A reduction takes tf's defaults for what was not saved.
    mean = _op("math.reduce_mean", ["x", 0, 0, {"axis": [1]}])
    entry = translate_config(_functional(mean))[0]["config"]["layers"][1]
    assert entry["config"]["arguments"] == {"axis": [1], "keepdims": False}


def test_translate_config_uses_keras_layers_where_they_compute_the_same():
    concat = _op("concat", [["x", 0, 0, {"axis": 1}], ["x", 0, 0, {"axis": 1}]])
    entry = translate_config(_functional(concat))[0]["config"]["layers"][1]
    assert entry["class_name"] == "Concatenate" and entry["config"]["axis"] == 1
    assert entry["inbound_nodes"] == [[["x", 0, 0, {}], ["x", 0, 0, {}]]]
    reshape = _op("reshape", ["x", 0, 0, {"shape": [-1, 2, 2]}])
    entry = translate_config(_functional(reshape))[0]["config"]["layers"][1]
    assert entry["class_name"] == "Reshape" and entry["config"]["target_shape"] == [2, 2]
    # A reshape that does not keep the batch dimension first is no Keras Reshape.
    reshape = _op("reshape", ["x", 0, 0, {"shape": [2, -1]}])
    entry = translate_config(_functional(reshape))[0]["config"]["layers"][1]
    assert entry["class_name"] == "LegacyTFOp"


def test_translate_config_normalizes_slices():
    spec = [{"start": None, "stop": None, "step": None}, {"class_name": "__ellipsis__"}, None, -1]
    getitem = _op("__operators__.getitem", ["x", 0, 0, {"slice_spec": spec}], "SlicingOpLambda")
    translated, notes = translate_config(_functional(getitem))
    arguments = translated["config"]["layers"][1]["config"]["arguments"]
    assert arguments["slice_spec"] == [spec[0], "...", None, -1]
    assert notes == ("SlicingOpLambda 'op': tensor[:, ..., None, -1] as a slice in Keras 3",)


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (_op("math.cumsum", ["x", 0, 0, {"axis": -1}]), r"calling 'tf\.math\.cumsum'"),
        (_op("io.write_file", ["x", 0, 0, {}]), r"calling 'tf\.io\.write_file'"),
        # getitem is only translated from the class that tf.keras writes it with
        (_op("__operators__.getitem", ["x", 0, 0, {"slice_spec": 0}]), r"TFOpLambda calling"),
        (_op("reshape", ["x", 0, 0, {"shape": [-1], "extra": 1}]), r"the argument 'extra'"),
        (_op("math.reduce_sum", ["x", 0, 0, {"axis": ["x", 0, 0]}]), r"axis=\['x', 0, 0\]"),
        (_op("reshape", ["x", 0, 0, {}]), r"with no shape"),
        (
            _op(
                "__operators__.getitem",
                ["x", 0, 0, {"slice_spec": [{"start": ["x", 0, 0], "stop": None, "step": None}]}],
                "SlicingOpLambda",
            ),
            r"slice_spec=",
        ),
        (_op("concat", ["_CONSTANT_VALUE", -1, 1.0, {"axis": 0}]), r"the constant 1\.0 as values"),
    ],
)
def test_translate_config_refuses_what_it_does_not_know(layer, match):
    with pytest.raises(UnsafeModelError, match=rf"Refused: layer 'op'.*{match}.*{RESAVE}"):
        translate_config(_functional(layer))


def test_translate_config_refuses_an_op_layer_called_twice():
    twice = _op("math.negative", ["x", 0, 0, {}])
    twice["inbound_nodes"].append(["x", 0, 0, {}])
    with pytest.raises(InputError, match=r"with 2 calls"):
        translate_config(_functional(twice))


def test_op_layers_in_a_keras3_file_are_not_translated():
    config = _functional(_op("math.negative", ["x", 0, 0, {}]))
    assert translate_h5_config(config, "2.15.0")[1]
    with pytest.raises(InputError, match=r"only Keras 2 / tf\.keras files are translated"):
        translate_h5_config(config, "3.1.0")


@pytest.mark.parametrize(
    ("version", "module", "keras2"),
    [("2.21.0", False, True), ("2.2.4-tf", False, True), ("3.15.1", False, False)]
    + [(None, False, True), (None, True, False)],
)
def test_is_keras2_config(version, module, keras2):
    config = _functional(_conv("Conv2D"))
    if module:
        config["config"]["layers"][1]["module"] = "keras.layers"
    assert is_keras2_config(config, version) is keras2


# --- the layer -----------------------------------------------------------------------------------


def test_legacy_op_layer_computes_its_function_and_round_trips():
    layer_class = legacy.legacy_op_layer_class()
    x = np.arange(6, dtype="float32").reshape(2, 3)
    layer = layer_class("math.subtract", {"x": 10.0}, ["y"], name="op")
    np.testing.assert_array_equal(np.asarray(layer(x)), 10.0 - x)
    again = layer_class.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    stack = layer_class("stack", {"axis": 1}, ["values", "values"], "values", name="stack")
    np.testing.assert_array_equal(np.asarray(stack([x, 2 * x])), np.stack([x, 2 * x], axis=1))
    getitem = layer_class(
        "__operators__.getitem",
        {"slice_spec": [{"start": None, "stop": None, "step": -1}, 0]},
        ["tensor"],
    )
    np.testing.assert_array_equal(np.asarray(getitem(x)), x[::-1, 0])


@pytest.mark.parametrize(
    "arguments",
    [
        {"function": "math.cumsum", "arguments": {"axis": 0}, "tensor_arguments": ["x"]},
        {"function": "reshape", "arguments": {"shape": "rm -rf"}, "tensor_arguments": ["tensor"]},
        {"function": "reshape", "arguments": {"shape": [-1]}, "tensor_arguments": ["shape"]},
        {"function": "math.multiply", "arguments": {}, "tensor_arguments": ["x"]},
    ],
)
def test_legacy_op_layer_checks_the_allow_list_again(arguments):
    # Keras wraps the constructor's ValueError in a TypeError that keeps its message.
    with pytest.raises(
        (TypeError, ValueError),
        match=r"LegacyTFOp(\('[\w.]+'\))? (calls only|cannot|takes no|lacks)",
    ):
        legacy.legacy_op_layer_class().from_config({"name": "op", **arguments})

"""Tests for neurogenesis/model_code.py: the generated code rebuilds the same architecture.

Each model's generated code is executed in a fresh namespace and the rebuilt model is compared
with the original layer by layer (class, name, config), node by node (operation class, output
shapes), and as a whole (inputs, outputs, parameter count); where cheap, the original weights
are copied into the rebuilt model and both must give the same predictions.
"""

from __future__ import annotations

import ast
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

from neurogenesis import testing  # noqa: E402
from neurogenesis.errors import InputError, UnsupportedModelError  # noqa: E402
from neurogenesis.io.models import load_model  # noqa: E402
from neurogenesis.model_code import (  # noqa: E402
    model_to_json,
    model_to_keras_bytes,
    model_to_python,
    supports,
)

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
DEMO_MODELS = ["digits_cnn", "shapes_cnn", "sentiment_transformer", "weather_lstm", "digits_vae"]
ALLOWED_IMPORTS = {"keras", "numpy"}
HOSTILE_NAME = 'x"); import os; os.system("echo pwned > ~\\pwned'
QUOTES_AND_NEWLINES = 'it\'s a "layer"\nwith\r\nnewlines\\ and \x00 # not a comment'


# ---------------------------------------------------------------------------------------------
# Helpers


def rebuild(model):
    """Generates the code, checks its imports, runs it in a fresh namespace, builds the model."""
    code = model_to_python(model)
    assert_only_keras_and_numpy_imports(code)
    namespace: dict = {"__name__": "generated_module"}
    exec(compile(code, "<generated>", "exec"), namespace)
    return code, namespace["build_model"]()


def assert_only_keras_and_numpy_imports(code):
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= ALLOWED_IMPORTS, ast.unparse(node)
    called_builtins = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assigned = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    assert called_builtins - defined - assigned <= {"slice", "float"}


def plain(value):
    """A config as plain JSON values, so tuples and lists compare equal."""
    return json.loads(json.dumps(value, default=lambda v: np.asarray(v).tolist()))


def node_signature(model):
    """(depth, operation class, layer name, output shapes and dtypes) for every graph node."""
    rows = []
    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            operation = node.operation
            name = operation.name if isinstance(operation, keras.layers.Layer) else None
            outputs = [(tuple(t.shape), str(t.dtype)) for t in node.outputs]
            rows.append((depth, type(operation).__name__, name, outputs))
    return sorted(rows, key=repr)


def operation_config(operation):
    config = dict(operation.get_config())
    if not isinstance(operation, keras.layers.Layer):
        config.pop("name", None)  # keras.ops functions take no name; Keras numbers them
    return plain(config)


def assert_same_architecture(original, rebuilt):
    assert type(rebuilt) is type(original)
    assert rebuilt.name == original.name
    assert [type(layer) for layer in rebuilt.layers] == [type(layer) for layer in original.layers]
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in original.layers]
    for new, old in zip(rebuilt.layers, original.layers, strict=True):
        assert operation_config(new) == operation_config(old), old.name
        assert new.trainable == old.trainable, old.name
    graph = original._functional if isinstance(original, keras.Sequential) else original
    rebuilt_graph = rebuilt._functional if isinstance(rebuilt, keras.Sequential) else rebuilt
    if graph is not None:
        assert [type(op) for op in rebuilt_graph.operations] == [
            type(op) for op in graph.operations
        ]
        for new, old in zip(rebuilt_graph.operations, graph.operations, strict=True):
            assert operation_config(new) == operation_config(old), old.name
        assert [tuple(t.shape) for t in rebuilt.inputs] == [tuple(t.shape) for t in original.inputs]
        assert [t.dtype for t in rebuilt.inputs] == [t.dtype for t in original.inputs]
        assert [tuple(t.shape) for t in rebuilt.outputs] == [
            tuple(t.shape) for t in original.outputs
        ]
        assert len(rebuilt_graph._nodes_by_depth) == len(graph._nodes_by_depth)
        assert node_signature(rebuilt_graph) == node_signature(graph)
    assert rebuilt.count_params() == original.count_params()
    assert len(rebuilt.weights) == len(original.weights)


def random_inputs(model, batch_size=2):
    """Random inputs in the structure the model was built with (one array, a list, a dict)."""
    rng = np.random.default_rng(0)
    arrays = []
    for tensor in model.inputs:
        shape = (batch_size, *tensor.shape[1:])
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 10, size=shape).astype(tensor.dtype))
        else:
            arrays.append(rng.uniform(0, 1, size=shape).astype("float32"))
    structure = getattr(model, "_inputs_struct", None)
    if structure is None:  # Sequential
        return arrays[0]
    return keras.tree.pack_sequence_as(structure, arrays)


def assert_same_predictions(original, rebuilt):
    """With the original weights copied in, the rebuilt model computes the same function."""
    rebuilt.set_weights(original.get_weights())
    inputs = random_inputs(original)
    expected = keras.tree.flatten(original(inputs, training=False))
    actual = keras.tree.flatten(rebuilt(inputs, training=False))
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want), rtol=1e-5, atol=1e-6
        )


# ---------------------------------------------------------------------------------------------
# Small models built here


def shared_layer_model():
    a = keras.Input((5,), name="left")
    b = keras.Input((5,), name="right")
    shared = keras.layers.Dense(3, activation="tanh", name="shared_dense")
    joined = keras.layers.Concatenate(name="join")([shared(a), shared(b)])
    out = keras.layers.Dense(1, name="score")(joined)
    return keras.Model([a, b], out, name="siamese")


def nested_model():
    image = keras.Input((4, 4, 1), name="image")
    x = keras.layers.Flatten(name="flatten")(image)
    x = keras.layers.Dense(8, activation="relu", name="hidden")(x)
    encoder = keras.Model(
        image,
        [keras.layers.Dense(2, name="z_mean")(x), keras.layers.Dense(2, name="z_log_var")(x)],
        name="encoder",
    )
    block = keras.Sequential(
        [keras.layers.Dense(4, activation="relu", name="block_dense")], name="block"
    )
    first = keras.Input((4, 4, 1), name="first")
    second = keras.Input((4, 4, 1), name="second")
    mean_1, log_var_1 = encoder(first)
    mean_2, _ = encoder(second)  # the same encoder, called twice
    joined = keras.layers.Concatenate(name="join")([mean_1, log_var_1, mean_2])
    out = block(joined)
    return keras.Model(
        {"first": first, "second": second}, {"out": out, "mean": mean_1}, name="outer"
    )


def cross_scope_model():
    """A layer called inside a nested model and again by the outer model."""
    shared = keras.layers.Dense(3, name="shared")
    inner_input = keras.Input((3,), name="inner_input")
    inner = keras.Model(inner_input, shared(inner_input), name="inner")
    inputs = keras.Input((3,), name="outer_input")
    outputs = shared(inner(inputs))
    return keras.Model(inputs, outputs, name="cross_scope")


def kitchen_sink_model():
    """Wrappers, multi-output layers, slicing, ops with constants, frozen layers."""
    sequence = keras.Input((6, 3), name="sequence")
    lstm_out, state_h, state_c = keras.layers.LSTM(
        5, return_sequences=True, return_state=True, name="lstm"
    )(sequence)
    bidirectional = keras.layers.Bidirectional(keras.layers.GRU(4), name="bidi")(lstm_out)
    scaled = keras.ops.multiply(sequence, np.array([1.0, 2.0, 0.5], dtype="float32"))
    first_steps = scaled[:, :2, ...]
    summed = keras.ops.sum(first_steps, axis=1) * 2.0 + 1
    frozen = keras.layers.Dense(
        2,
        use_bias=False,
        kernel_regularizer=keras.regularizers.L2(0.02),
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.02, seed=3),
        trainable=False,
        name="frozen",
    )(summed)
    joined = keras.layers.Concatenate(name="join")([bidirectional, state_h, state_c, frozen])
    out = keras.layers.Dense(1, activation="sigmoid", name="out")(joined)
    return keras.Model(sequence, out, name="kitchen_sink")


def hostile_model():
    inputs = keras.Input((3,), name=QUOTES_AND_NEWLINES + " input")
    x = keras.layers.Dense(4, name=HOSTILE_NAME)(inputs)
    x = keras.layers.Dense(2, name=QUOTES_AND_NEWLINES)(x)
    return keras.Model(inputs, x, name=HOSTILE_NAME + "\n# model")


# ---------------------------------------------------------------------------------------------
# Tiny and hand-built models


@pytest.mark.parametrize("builder", ["tiny_dense_model", "tiny_cnn", "tiny_branching_model"])
def test_tiny_models_rebuild(builder):
    model = getattr(testing, builder)()
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert_same_predictions(model, rebuilt)
    assert "def build_model():" in code
    assert 'if __name__ == "__main__":' in code and "model.summary()" in code
    assert "weights are NOT included" in code and ".keras" in code


def test_tiny_branching_reads_like_hand_written_code():
    code = model_to_python(testing.tiny_branching_model())
    assert 'dense_a = layers.Dense(6, activation="relu", name="dense_a")(a)' in code
    assert 'skip = layers.Add(name="skip")([a, dense_a])' in code
    assert "keras.Model(inputs=[a, b], outputs=[head_1, head_2]" in code
    assert "kernel_initializer" not in code  # defaults are left out


def test_sequential_stays_sequential():
    model = testing.tiny_dense_model()
    code, rebuilt = rebuild(model)
    assert isinstance(rebuilt, keras.Sequential)
    assert "keras.Sequential(" in code
    assert 'layers.Dense(16, activation="relu", name="hidden")' in code


def test_shared_layer_is_one_object():
    model = shared_layer_model()
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert_same_predictions(model, rebuilt)
    assert code.count("layers.Dense(3") == 1
    assert [layer.name for layer in rebuilt.layers].count("shared_dense") == 1
    assert len(rebuilt.get_layer("shared_dense")._inbound_nodes) == 2
    assert rebuilt.count_params() == (5 * 3 + 3) + (6 + 1)


def test_nested_models_are_builders_reused_where_called():
    model = nested_model()
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert_same_predictions(model, rebuilt)
    assert "def build_encoder():" in code and "def build_block():" in code
    assert code.count("build_encoder()") == 2  # the definition and one call
    encoder = rebuilt.get_layer("encoder")
    assert len(encoder._inbound_nodes) == 2  # both calls go through the one encoder
    assert [t.shape for t in encoder.outputs] == [(None, 2), (None, 2)]
    assert isinstance(rebuilt.get_layer("block"), keras.Sequential)
    assert set(rebuilt.output) == {"out", "mean"}


def test_nested_dict_and_one_item_list_outputs_and_explicit_training():
    x = keras.Input((3,), name="x")
    branches = {"b": keras.layers.Dense(2, name="bb")(x), "a": keras.layers.Dense(1, name="aa")(x)}
    sub_dict = keras.Model(x, branches, name="sub_dict")
    y = keras.Input((3,), name="y")
    sub_list = keras.Model(y, [keras.layers.Dense(2, name="only")(y)], name="sub_list")
    inputs = keras.Input((3,), name="inputs")
    named = sub_dict(inputs)
    (only,) = sub_list(inputs)
    joined = keras.layers.Concatenate(name="cat")([named["a"], named["b"], only])
    out = keras.layers.Dropout(0.5, name="mc")(joined, training=True)  # Monte Carlo dropout
    model = keras.Model(inputs, out, name="m")
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert "aa, bb = keras.tree.flatten(sub_dict(inputs))" in code
    assert "[only] = sub_list(inputs)" in code
    assert "(cat, training=True)" in code
    assert rebuilt.get_layer("mc")._inbound_nodes[0].arguments.kwargs == {"training": True}


def test_layer_shared_across_nested_models_stays_one_object():
    model = cross_scope_model()
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert_same_predictions(model, rebuilt)
    assert "def build_inner(shared):" in code
    assert rebuilt.get_layer("inner").get_layer("shared") is rebuilt.get_layer("shared")
    assert rebuilt.count_params() == 3 * 3 + 3


def test_wrappers_multi_output_layers_slicing_and_constants():
    model = kitchen_sink_model()
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert_same_predictions(model, rebuilt)
    assert "lstm, lstm_1, lstm_2 = layers.LSTM(" in code
    assert "layers.Bidirectional(" in code and "layers.GRU(4, " in code
    assert "training=" not in code  # Keras fills training=False in by itself
    assert "np.array([1.0, 2.0, 0.5], dtype=" in code
    assert "[:, :2, ...]" in code
    assert "keras.ops.sum(" in code and "axis=1" in code
    assert "trainable=False" in code
    assert "keras.regularizers.L2(l2=0.02)" in code
    assert not rebuilt.get_layer("frozen").trainable


def test_hostile_names_stay_strings():
    model = hostile_model()
    code, rebuilt = rebuild(model)  # would raise or run os.system if a name escaped its string
    assert_same_architecture(model, rebuilt)
    assert rebuilt.name == HOSTILE_NAME + "\n# model"
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert rebuilt.get_layer(QUOTES_AND_NEWLINES).name == QUOTES_AND_NEWLINES
    for line in code.splitlines():
        assert not line.lstrip().startswith("import os")
    statements = [type(node).__name__ for node in ast.parse(code).body]
    assert statements == ["Import", "ImportFrom", "FunctionDef", "If"]


def test_frozen_nested_model_stays_frozen():
    encoder = keras.Sequential(
        [keras.Input((3,), name="x"), keras.layers.Dense(2, name="d")], name="frozen_encoder"
    )
    encoder.trainable = False
    inputs = keras.Input((3,), name="inputs")
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(encoder(inputs)), name="m")
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert "model.trainable = False" in code
    assert len(rebuilt.trainable_weights) == 2 and len(rebuilt.non_trainable_weights) == 2


def test_fallbacks_rebuild_the_same_model(demo_models, monkeypatch):
    """Layers via ``from_config`` and operations via their config still rebuild the model."""
    from neurogenesis import model_code

    monkeypatch.setattr(model_code, "_keyword_differences", lambda *args, **kwargs: None)
    monkeypatch.setattr(model_code, "_public_op_function", lambda operation: None)
    model = demo_models["sentiment_transformer"]
    code, rebuilt = rebuild(model)
    assert "layers.Dense.from_config(" in code
    assert "keras.saving.deserialize_keras_object(" in code
    assert_same_architecture(model, rebuilt)
    assert_same_predictions(model, rebuilt)


def test_subclassed_model_is_refused():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__(name="subclassed")
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = Subclassed()
    model(np.zeros((1, 3), dtype="float32"))
    assert not supports(model)
    with pytest.raises(UnsupportedModelError, match="subclassed.*JSON or .keras"):
        model_to_python(model)


def test_custom_layer_is_refused():
    class Custom(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    inputs = keras.Input((3,))
    model = keras.Model(inputs, Custom(name="custom")(inputs))
    assert supports(model)
    with pytest.raises(UnsupportedModelError, match="'custom'.*not a built-in Keras layer"):
        model_to_python(model)


def test_not_a_model_is_an_input_error():
    assert not supports("model.keras")
    for export in (model_to_python, model_to_json, model_to_keras_bytes):
        with pytest.raises(InputError, match="Expected a Keras model"):
            export(keras.layers.Dense(2))


# ---------------------------------------------------------------------------------------------
# Demo models


@pytest.fixture(scope="module")
def demo_models():
    return {name: load_model(MODELS_DIR / f"{name}.keras") for name in DEMO_MODELS}


@pytest.mark.parametrize("name", DEMO_MODELS)
def test_demo_models_rebuild(demo_models, name):
    model = demo_models[name]
    code, rebuilt = rebuild(model)
    assert_same_architecture(model, rebuilt)
    assert_same_predictions(model, rebuilt)
    compile(code, name, "exec")


def test_sentiment_transformer_ops_and_masks(demo_models):
    code = model_to_python(demo_models["sentiment_transformer"])
    for call in (
        "keras.ops.not_equal(token_ids, 0)",
        "keras.ops.cumsum(",
        "keras.ops.expand_dims(",
    ):
        assert call in code
    assert "keras.ops.logical_and(" in code
    assert "attention_mask=logical_and" in code
    assert "(feed_forward_norm_2, mask=not_equal)" in code
    assert "deserialize_keras_object" not in code  # every op has a public keras.ops function


def test_vae_encoder_returns_two_outputs(demo_models):
    code, rebuilt = rebuild(demo_models["digits_vae"])
    assert "z_mean, z_log_var = encoder(image)" in code
    assert "def build_encoder():" in code and "def build_decoder():" in code
    assert len(rebuilt.get_layer("encoder").outputs) == 2


# ---------------------------------------------------------------------------------------------
# keras.applications (weights=None), one at a time


@pytest.mark.parametrize("application", ["ResNet50", "MobileNetV2", "EfficientNetB0", "VGG16"])
def test_applications_rebuild(application):
    keras.backend.clear_session()
    try:
        model = getattr(keras.applications, application)(weights=None)
        code, rebuilt = rebuild(model)
        assert_same_architecture(model, rebuilt)
        assert "from_config" not in code  # every layer is written as a readable constructor
        if application == "EfficientNetB0":
            assert "layers.Rescaling(" in code and "layers.Normalization(" in code
        if application == "ResNet50":
            assert "layers.Add(" in code
    finally:
        keras.backend.clear_session()


# ---------------------------------------------------------------------------------------------
# JSON and .keras exports


def test_model_to_json_round_trips():
    model = testing.tiny_branching_model()
    text = model_to_json(model)
    assert json.loads(text) == json.loads(model.to_json())
    assert "\n  " in text  # pretty-printed
    rebuilt = keras.models.model_from_json(text)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert rebuilt.count_params() == model.count_params()


def test_model_to_keras_bytes_loads_with_the_same_weights(tmp_path):
    model = testing.tiny_cnn()
    data = model_to_keras_bytes(model)
    assert data[:2] == b"PK"
    assert {"config.json", "model.weights.h5"} <= set(
        zipfile.ZipFile(_write(tmp_path, data)).namelist()
    )
    loaded = load_model(tmp_path / "model.keras")
    for got, want in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def _write(folder, data):
    path = folder / "model.keras"
    path.write_bytes(data)
    return path

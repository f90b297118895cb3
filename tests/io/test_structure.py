"""A model's structure read from its file without running it (``io.structure``).

Every number is checked against the model Keras builds: parameters per layer against each
layer's ``count_params()``, connections against the graph the test wrote, for .keras and .h5,
nested models, ``keras.ops`` nodes, a keras.applications network, custom layers the loader
refuses, a subclassed model and a Lambda layer that must never run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from neurogenesis.errors import InputError, UnsafeModelError
from neurogenesis.io.models import load_model, scan_model_file
from neurogenesis.io.structure import model_structure, origin_of, snake_case

ROOT = Path(__file__).resolve().parents[2]


def _two_inputs_nested(keras):
    block = keras.Sequential(
        [
            keras.layers.Dense(5, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.1),
        ],
        name="block",
    )
    x = keras.Input((4,), name="x")
    z = keras.Input((3,), name="z")
    h = block(keras.layers.Dense(6, name="d0")(x))
    h = keras.ops.relu(h) * 2.0
    out = keras.layers.Dense(2, name="out")(keras.layers.Concatenate(name="cat")([h, z]))
    return keras.Model([x, z], out, name="two_in"), block


@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_layers_parameters_and_connections_match_the_model(tmp_path, suffix):
    import keras

    model, block = _two_inputs_nested(keras)
    path = tmp_path / f"model.{suffix}"
    model.save(path)
    structure = model_structure(path)

    assert structure.name == "two_in"
    assert structure.model_class == "Functional"
    assert structure.inputs == ("x", "z")
    assert structure.outputs == ("out",)
    assert structure.input_shapes == ((None, 4), (None, 3))
    assert structure.num_params == model.count_params() == 103
    assert not structure.runnable

    top = {layer.name: layer for layer in structure.top_layers()}
    for layer in model.layers:
        assert top[layer.name].num_params == layer.count_params(), layer.name
    inside = {layer.name: layer for layer in structure.layers if layer.parent == "block"}
    for layer in block.layers:
        assert inside[layer.name].num_params == layer.count_params(), layer.name
        assert inside[layer.name].depth == 1
    assert top["d0"].inbound == ("x",)
    assert top["block"].inbound == ("d0",)
    assert top["cat"].inbound[-1] == "z"
    assert top["out"].inbound == ("cat",)
    operations = [layer for layer in structure.layers if layer.origin == "keras operation"]
    assert [layer.class_name for layer in operations] == ["Relu", "Multiply"]
    assert all(layer.num_params == 0 for layer in operations)
    assert top["out"].summary == "Dense(2)"
    assert {name for name, _ in top["d0"].weights} >= {"vars/0", "vars/1"} or len(
        top["d0"].weights
    ) == 2
    assert sorted(shape for _, shape in top["d0"].weights) == [(4, 6), (6,)]
    assert json.loads(top["d0"].config)["units"] == 6


def test_demo_models_match_their_loaded_layers():
    from neurogenesis.analysis.architecture import architecture_summary

    for path in sorted((ROOT / "models").glob("*.keras")):
        structure = model_structure(path)
        assert structure.num_params == scan_model_file(path).num_params, path.name
        summary = architecture_summary(load_model(path))
        loaded = {layer.name: layer.num_params for layer in summary.layers}
        for layer in structure.top_layers():
            if layer.name in loaded:
                assert layer.num_params == loaded[layer.name], (path.name, layer.name)
        assert sum(loaded.values()) == structure.num_params, path.name


@pytest.mark.slow
@pytest.mark.parametrize("suffix", ["keras", "h5"])
def test_keras_applications_network(tmp_path, suffix):
    import keras

    model = keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10
    )
    path = tmp_path / f"mobilenet.{suffix}"
    model.save(path)
    structure = model_structure(path)
    assert structure.num_params == model.count_params()
    top = {layer.name: layer for layer in structure.top_layers()}
    assert len(top) == len(model.layers)
    for layer in model.layers:
        assert top[layer.name].num_params == layer.count_params(), layer.name
    # A residual block's Add takes the block's input and its projection.
    add = top["block_2_add"]
    assert set(add.inbound) == {"block_1_project_BN", "block_2_project_BN"}


def test_custom_layers_the_loader_refuses_still_have_a_structure(tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="testlayers")
    class TransformerBlock(keras.layers.Layer):
        def __init__(self, dim=8, heads=2, **kwargs):
            super().__init__(**kwargs)
            self.dim, self.heads = dim, heads
            self.attention = keras.layers.MultiHeadAttention(heads, dim // heads)
            self.ffn = keras.layers.Dense(dim)
            self.norm = keras.layers.LayerNormalization()

        def call(self, x):
            return self.norm(x + self.ffn(self.attention(x, x)))

        def get_config(self):
            return {**super().get_config(), "dim": self.dim, "heads": self.heads}

    inputs = keras.Input((5, 8))
    block = TransformerBlock(name="block")
    outputs = keras.layers.Dense(3, name="head")(block(inputs))
    model = keras.Model(inputs, outputs)
    path = tmp_path / "custom.keras"
    model.save(path)
    with pytest.raises(UnsafeModelError) as refusal:
        scan_model_file(path)

    structure = model_structure(path, reason=str(refusal.value))
    assert not structure.runnable
    assert structure.reason == str(refusal.value)
    layer = next(layer for layer in structure.layers if layer.name == "block")
    assert layer.class_name == "TransformerBlock"
    assert layer.origin.startswith("custom: ")
    assert layer.num_params == block.count_params()
    assert structure.num_params == model.count_params()
    assert structure.custom_classes == (("TransformerBlock", layer.origin),)
    assert json.loads(layer.config)["heads"] == 2


def test_subclassed_model_is_listed_by_its_stored_weights(tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="testmodels")
    class Tiny(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = keras.layers.Dense(4)
            self.head = keras.layers.Dense(2)

        def call(self, x):
            return self.head(self.hidden(x))

    model = Tiny()
    model(keras.ops.zeros((1, 3)))
    path = tmp_path / "tiny.keras"
    model.save(path)
    structure = model_structure(path)
    assert structure.num_params == model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    assert sorted(layer.num_params for layer in structure.layers) == [10, 16]
    assert {layer.name for layer in structure.layers} == {"hidden", "head"}  # its attributes


def test_a_lambda_layer_is_shown_and_never_runs(tmp_path):
    import keras

    marker = tmp_path / "ran"
    code = f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(eval(code), name="fn")])
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink()  # Keras ran the function once to build the model
    structure = model_structure(path)
    assert [layer.class_name for layer in structure.layers] == ["InputLayer", "Lambda"]
    assert not marker.exists()


def test_reading_never_imports_what_the_file_names(tmp_path):
    """A config naming a module: the structure is read, and the module is never imported."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="d")])
    source = tmp_path / "plain.keras"
    model.save(source)
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["module"] = "nosuch_module_for_the_structure_test"
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "foreign.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    code = (
        "import sys\n"
        "from neurogenesis.io.structure import model_structure\n"
        f"s = model_structure({str(path)!r})\n"
        "print(s.layers[-1].origin, 'nosuch_module_for_the_structure_test' in sys.modules,"
        " 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "custom:",
        "nosuch_module_for_the_structure_test",
        "False",
        "False",
    ]


def test_damaged_files_still_say_why(tmp_path):
    with pytest.raises(InputError, match="notes.keras"):
        model_structure(_text_file(tmp_path))
    truncated = tmp_path / "cut.keras"
    data = (ROOT / "models" / "digits_cnn.keras").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated or damaged"):
        model_structure(truncated)


def _text_file(tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    return path


def test_origin_of_entries():
    assert (
        origin_of({"class_name": "Dense", "module": "keras.layers", "config": {"trainable": True}})
        == "keras"
    )
    assert (
        origin_of(
            {"class_name": "BertBackbone", "module": "keras_hub.src.models.bert.bert_backbone"}
        )
        == "keras_hub"
    )
    assert origin_of({"class_name": "Block", "module": "mylib.layers"}) == "custom: mylib.layers"
    assert (
        origin_of({"class_name": "NotEqual", "module": "keras.src.ops.numpy", "config": {}})
        == "keras operation"
    )


def test_snake_case_is_keras_own():
    from keras.src.utils.naming import to_snake_case

    for name in ("Conv2D", "BatchNormalization", "MultiHeadAttention", "GRU", "ReLU", "TFOpLambda"):
        assert snake_case(name) == to_snake_case(name)


def test_copy_is_read_by_its_bytes(tmp_path):
    renamed = shutil.copyfile(ROOT / "models" / "digits_cnn.keras", tmp_path / "upload.bin")
    assert model_structure(renamed).num_params == scan_model_file(renamed).num_params


@pytest.mark.parametrize("which", ["nested", "mobilenet", "demos"])
def test_structure_graph_is_the_loaded_models_graph(tmp_path, which):
    """The graph drawn from the file alone has the layers, connections, nested models and
    blocks of the graph walked on the loaded model (``analysis.architecture.model_graph``)."""
    import keras

    from neurogenesis.analysis.architecture import layout_graph, model_graph, structure_graph

    if which == "nested":
        paths = [tmp_path / "nested.keras"]
        _two_inputs_nested(keras)[0].save(paths[0])
    elif which == "mobilenet":
        paths = [tmp_path / "mobilenet.keras"]
        keras.applications.MobileNetV2(
            input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10
        ).save(paths[0])
    else:
        paths = [ROOT / "models" / f"{name}.keras" for name in ("digits_cnn", "shapes_cnn")]
    for path in paths:
        drawn = structure_graph(model_structure(path))
        walked = model_graph(load_model(path))

        def edges(graph):
            return sorted(
                (graph.units[e.source].name, graph.units[e.target].name) for e in graph.edges
            )

        assert edges(drawn) == edges(walked)
        assert [u.name for u in drawn.units] == [u.name for u in walked.units]
        assert [u.num_params for u in drawn.units] == [u.num_params for u in walked.units]
        assert sorted(g.id for g in drawn.groups) == sorted(g.id for g in walked.groups)
        assert all(u.macs is None for u in drawn.units)
        for unit, real in zip(drawn.units, walked.units, strict=True):  # only inputs' shapes known
            assert unit.output_shape == (
                real.output_shape if unit.class_name == "InputLayer" else ()
            )
        layout = layout_graph(drawn)
        assert len(layout.nodes) == len(drawn.units)


def _nested_two_outputs(keras):
    """A two-input, two-output functional model called inside another on ``x`` and a layer of
    ``z``, each of its outputs used by another layer: the shape a graph must not cross-wire."""
    a = keras.Input((4,), name="a_in")
    b = keras.Input((3,), name="b_in")
    shared = keras.layers.Dense(5, name="shared")(keras.layers.Concatenate(name="cat")([a, b]))
    inner = keras.Model(
        [a, b],
        [keras.layers.Dense(2, name="head_1")(shared), keras.layers.Dense(3, name="head_2")(a)],
        name="inner",
    )
    x = keras.Input((4,), name="x")
    z = keras.Input((3,), name="z")
    first, second = inner([x, keras.layers.Dense(3, name="pre_z")(z)])
    outputs = [
        keras.layers.Dense(1, name="use_first")(first),
        keras.layers.Dense(1, name="use_second")(second),
    ]
    return keras.Model([x, z], outputs, name="outer")


def _real_edges(keras, model) -> set[tuple[str, str]]:
    """(producer, consumer) of every layer call in the live model, nested models inlined: a
    tensor out of a nested model is followed to the layer that makes that output, a nested
    model's input to the tensor its call passed at that position."""

    def producer(tensor, context):
        if id(tensor) in context:
            return producer(*context[id(tensor)])
        operation, node_index, tensor_index = tensor._keras_history
        if isinstance(operation, keras.Model):
            passed = keras.tree.flatten(operation._inbound_nodes[node_index].input_tensors)
            inner = {id(i): (t, context) for i, t in zip(operation.inputs, passed, strict=True)}
            return producer(operation.outputs[tensor_index], inner)
        return operation.name

    edges = set()

    def walk(graph, context):
        for layer in graph.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if isinstance(layer, keras.Model):
                passed = keras.tree.flatten(layer._inbound_nodes[-1].input_tensors)
                walk(
                    layer, {id(i): (t, context) for i, t in zip(layer.inputs, passed, strict=True)}
                )
                continue
            for tensor in keras.tree.flatten(layer._inbound_nodes[0].input_tensors):
                edges.add((producer(tensor, context), layer.name))

    walk(model, {})
    return edges


def test_a_nested_model_of_several_outputs_connects_each_output_to_its_user(tmp_path):
    """Each output of a nested two-output model feeds only the layer that uses it, and each of
    its inputs only the layers the tensor passed at that position reaches: the drawn edges are
    the live model's own connections (before: every output fed every user, and every passed
    tensor every input layer)."""
    import keras

    from neurogenesis.analysis.architecture import structure_graph

    model = _nested_two_outputs(keras)
    model.save(tmp_path / "outer.keras")
    structure = model_structure(tmp_path / "outer.keras")
    inner = next(layer for layer in structure.layers if layer.name == "inner")
    assert inner.model_inputs == ("a_in", "b_in")
    assert inner.model_outputs == (("head_1", 0), ("head_2", 0))
    assert inner.inbound_tensors == (("x", 0), ("pre_z", 0))
    use_second = next(layer for layer in structure.layers if layer.name == "use_second")
    assert use_second.inbound_tensors == (("inner", 1),)
    graph = structure_graph(structure)
    drawn = {(graph.units[e.source].name, graph.units[e.target].name) for e in graph.edges}
    expected = _real_edges(keras, model)
    assert ("head_2", "use_second") in expected and ("x", "head_2") in expected
    assert drawn == expected

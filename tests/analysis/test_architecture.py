"""architecture_summary against Keras's own numbers and hand counts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from neurogenesis.analysis.architecture import architecture_summary, graph_macs
from neurogenesis.testing import tiny_branching_model, tiny_cnn, tiny_dense_model


def test_dense_model_counts_by_hand():
    info = architecture_summary(tiny_dense_model())
    # hidden: 8*16 + 16 = 144; probabilities: 16*3 + 3 = 51
    assert [(layer.name, layer.num_params) for layer in info.layers] == [
        ("hidden", 144),
        ("probabilities", 51),
    ]
    assert info.num_params == info.num_trainable_params == 195
    assert info.layers[0].output_shape == (None, 16)
    assert info.input_shapes == ((None, 8),)
    assert info.output_shapes == ((None, 3),)
    assert info.model_class == "Sequential"


def test_cnn_with_batch_norm_separates_non_trainable():
    model = tiny_cnn()
    info = architecture_summary(model)
    by_name = {layer.name: layer for layer in info.layers}
    assert by_name["conv"].num_params == 3 * 3 * 1 * 4 + 4
    assert by_name["norm"].num_params == 4 * 4  # gamma, beta, moving mean, moving variance
    assert by_name["norm"].num_trainable_params == 8
    assert by_name["pool"].output_shape == (None, 4, 4, 4)
    assert info.num_params == model.count_params()
    assert info.num_params - info.num_trainable_params == 8


def test_branching_model_shapes_and_totals():
    model = tiny_branching_model()
    info = architecture_summary(model)
    assert sum(layer.num_params for layer in info.layers) == model.count_params() == info.num_params
    assert info.input_shapes == ((None, 6), (None, 4))
    assert info.output_shapes == ((None, 2), (None, 1))
    assert {layer.name: layer.output_shape for layer in info.layers}["join"] == (None, 10)


def test_to_dict_is_json_shaped():
    payload = architecture_summary(tiny_dense_model()).to_dict()
    assert set(payload) >= {"num_params", "num_trainable_params", "macs", "layers"}
    assert payload["macs"] == 8 * 16 + 16 * 3
    assert payload["layers"][0] == {
        "name": "hidden",
        "class_name": "Dense",
        "output_shape": [None, 16],
        "num_params": 144,
        "num_trainable_params": 144,
        "macs": 128,
        "activation_bytes": 16 * 4,
        "weight_bytes": 144 * 4,
        "activation": "relu",
    }


# --- Multiply-accumulates, against hand counts and published figures ---------------------------


def _macs(layer, input_shape, *more_inputs):
    inputs = [keras.Input(input_shape)] + [keras.Input(shape) for shape in more_inputs]
    outputs = layer(*inputs)
    return architecture_summary(keras.Model(inputs, outputs)).macs


def test_macs_by_hand_for_each_layer_kind():
    # Dense on rank 3: every one of the 5 positions does 8x4 multiply-adds.
    assert _macs(keras.layers.Dense(4), (5, 8)) == 5 * 8 * 4
    # Conv2D 3x3, 3 -> 16 channels, 'same' on 10x10: 10*10 positions x 16 outputs x 3*3*3.
    assert _macs(keras.layers.Conv2D(16, 3, padding="same"), (10, 10, 3)) == 10 * 10 * 16 * 27
    # Strided, valid: output 4x4.
    assert _macs(keras.layers.Conv2D(8, 3, strides=2), (9, 9, 2)) == 4 * 4 * 8 * 3 * 3 * 2
    # Grouped: each output channel sees in/groups inputs.
    assert _macs(keras.layers.Conv2D(8, 3, padding="same", groups=4), (6, 6, 8)) == 36 * 8 * 9 * 2
    assert _macs(keras.layers.Conv1D(6, 5), (20, 4)) == 16 * 6 * 5 * 4
    assert _macs(keras.layers.Conv3D(2, 3), (5, 5, 5, 1)) == 27 * 2 * 27
    assert (
        _macs(keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2), (8, 8, 4))
        == 64 * 4 * 2 * 9
    )
    assert _macs(keras.layers.SeparableConv2D(10, 3, padding="same"), (8, 8, 4)) == 64 * (
        4 * 9 + 4 * 10
    )
    # Transposed: each of the 4x4 input pixels is scattered through the 3x3x(5 -> 2) kernel.
    assert (
        _macs(keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same"), (4, 4, 5))
        == 16 * 9 * 5 * 2
    )
    assert _macs(keras.layers.Embedding(100, 8), (7,)) == 0
    assert _macs(keras.layers.MaxPooling2D(), (8, 8, 3)) == 0
    assert _macs(keras.layers.BatchNormalization(), (8, 8, 3)) == 0


def test_recurrent_macs_per_step_times_steps():
    steps, features, units = 12, 5, 7
    assert _macs(keras.layers.SimpleRNN(units), (steps, features)) == steps * units * (
        features + units
    )
    assert _macs(keras.layers.LSTM(units), (steps, features)) == steps * 4 * units * (
        features + units
    )
    assert _macs(keras.layers.GRU(units), (steps, features)) == steps * 3 * units * (
        features + units
    )
    bidirectional = keras.layers.Bidirectional(keras.layers.LSTM(units))
    assert _macs(bidirectional, (steps, features)) == 2 * steps * 4 * units * (features + units)
    assert (
        _macs(keras.layers.TimeDistributed(keras.layers.Dense(3)), (steps, features))
        == steps * features * 3
    )


def test_multi_head_attention_counts_projections_and_both_products():
    target, source, dim, heads, key_dim = 6, 9, 16, 4, 8
    layer = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
    query, value = keras.Input((target, dim)), keras.Input((source, dim))
    model = keras.Model([query, value], layer(query, value))
    expected = (
        target * dim * heads * key_dim  # query projection
        + 2 * source * dim * heads * key_dim  # key and value projections
        + 2 * heads * target * source * key_dim  # scores, then weighted values
        + target * heads * key_dim * dim  # output projection
    )
    assert architecture_summary(model).macs == expected


def test_shared_layers_count_every_call_and_nested_models_are_walked():
    shared = keras.layers.Dense(4, name="shared")
    a, b = keras.Input((3,)), keras.Input((3,))
    twice = keras.Model([a, b], keras.layers.Add()([shared(a), shared(b)]))
    assert architecture_summary(twice).macs == 2 * 3 * 4
    inner = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(5), keras.layers.Dense(2)], name="inner"
    )
    x = keras.Input((3,))
    outer = keras.Model(x, keras.layers.Dense(1, name="head")(inner(x)))
    info = architecture_summary(outer)
    assert info.macs == 3 * 5 + 5 * 2 + 2 * 1 == graph_macs(outer)
    assert [(layer.class_name, layer.macs) for layer in info.layers] == [
        ("InputLayer", 0),
        ("Sequential", 25),
        ("Dense", 2),
    ]


@pytest.mark.parametrize(
    ("builder", "published"),
    [
        ("ResNet50", 3.8e9),  # He et al. 2016, Table 1: 3.8 x 10^9 multiply-adds
        ("VGG16", 15.5e9),  # He et al. 2016 / Simonyan & Zisserman: 15.5 G
        ("MobileNetV2", 300e6),  # Sandler et al. 2018, Table 3: 300 M
        ("EfficientNetB0", 0.39e9),  # Tan & Le 2019, Table 2: 0.39 B FLOPs (multiply-adds)
    ],
)
def test_totals_match_published_figures(builder, published):
    model = getattr(keras.applications, builder)(weights=None)
    info = architecture_summary(model)
    assert abs(info.macs / published - 1) < 0.05
    assert info.num_params == model.count_params()
    assert sum(layer.num_params for layer in info.layers) == model.count_params()
    assert [layer.num_params for layer in info.layers] == [
        lay.count_params() for lay in model.layers
    ]
    assert sum(layer.macs for layer in info.layers) == info.macs


# --- The layered graph ----------------------------------------------------------------------------


def test_graph_follows_the_real_topology():
    from neurogenesis.analysis.architecture import layout_graph, model_graph

    info = layout_graph(model_graph(tiny_branching_model()))
    names = [node.name for node in info.nodes]
    assert sorted(names) == sorted(["a", "b", "dense_a", "skip", "join", "head_1", "head_2"])
    by_name = {node.name: node for node in info.nodes}
    edges = {(info.nodes[e.source].name, info.nodes[e.target].name) for e in info.edges}
    assert edges == {
        ("a", "dense_a"),
        ("a", "skip"),
        ("dense_a", "skip"),
        ("skip", "join"),
        ("b", "join"),
        ("join", "head_1"),
        ("join", "head_2"),
    }
    # Columns are longest paths from an input, so every edge points right.
    assert (
        by_name["a"].column == 0 and by_name["dense_a"].column == 1 and by_name["skip"].column == 2
    )
    assert all(info.nodes[e.source].column < info.nodes[e.target].column for e in info.edges)
    assert {e.shape for e in info.edges if info.nodes[e.target].name == "join"} == {
        (None, 6),
        (None, 4),
    }
    assert by_name["join"].output_shape == (None, 10)
    assert by_name["head_1"].macs == 10 * 2


def test_graph_of_resnet50_and_shared_layers():
    from neurogenesis.analysis.architecture import layout_graph, model_graph

    model = keras.applications.ResNet50(weights=None)
    info = layout_graph(model_graph(model))
    assert len(info.nodes) == len(model.layers)
    assert sum(node.num_params for node in info.nodes) == model.count_params()
    assert all(info.nodes[e.source].column < info.nodes[e.target].column for e in info.edges)
    adds = [node for node in info.nodes if node.class_name == "Add"]
    assert len(adds) == 16  # one residual merge per bottleneck block (3 + 4 + 6 + 3)
    shared = keras.layers.Dense(2, name="shared")
    a, b = keras.Input((3,), name="left"), keras.Input((3,), name="right")
    twice = layout_graph(
        model_graph(keras.Model([a, b], keras.layers.Add(name="sum")([shared(a), shared(b)])))
    )
    assert sorted(node.name for node in twice.nodes if node.name.startswith("shared")) == [
        "shared",
        "shared#2",
    ]
    assert sum(node.num_params for node in twice.nodes) == 8  # the weights are counted once


def test_subclassed_models_explain_why_there_is_no_graph():
    from neurogenesis.analysis.architecture import layout_graph, model_graph
    from neurogenesis.errors import UnsupportedModelError

    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = Custom()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(UnsupportedModelError, match="subclassed"):
        layout_graph(model_graph(model))


# --- Blocks: collapsing and expanding --------------------------------------------------------------


def _resnet50():
    return keras.applications.ResNet50(weights=None)


def test_resnet50_stages_and_blocks_collapse_and_expand():
    from neurogenesis.analysis.architecture import default_expanded, layout_graph, model_graph

    model = _resnet50()
    graph = model_graph(model)
    assert len(graph.units) == len(model.layers) == 177
    top = {group.label for group in graph.groups if group.parent is None}
    assert top == {"conv1", "pool1", "conv2", "conv3", "conv4", "conv5"}
    blocks = [g.label for g in graph.groups if g.parent in {"conv2", "conv3", "conv4", "conv5"}]
    assert sorted(blocks) == sorted(
        f"conv{stage}_block{block}"
        for stage, count in ((2, 3), (3, 4), (4, 6), (5, 3))
        for block in range(1, count + 1)
    )
    # Everything closed: input, the stem and pool blocks, four stages, pooling and the classifier.
    closed = layout_graph(graph, ())
    assert closed.nodes[0].class_name == "InputLayer"
    assert [node.name for node in closed.nodes[1:]] == [
        "conv1",
        "pool1",
        "conv2",
        "conv3",
        "conv4",
        "conv5",
        "avg_pool",
        "predictions",
    ]
    # The default opens as much as fits in 60 nodes: the stages, with their 16 blocks closed.
    expanded = default_expanded(graph)
    assert set(expanded) == top
    shown = layout_graph(graph, expanded)
    assert len(shown.nodes) == 25
    by_name = {node.name: node for node in shown.nodes}
    first = by_name["conv2_block1"]
    assert first.num_layers == 12 and first.group == "conv2_block1"
    assert first.output_shape == (None, 56, 56, 256)
    # Conv 1x1 64, 3x3 64, 1x1 256 and the 1x1 256 projection, each with BatchNormalization.
    convs = (64 * 64 + 64) + (3 * 3 * 64 * 64 + 64) + (64 * 256 + 256) * 2
    assert first.num_params == convs + 4 * (64 + 64 + 256 + 256)
    for info in (closed, shown, layout_graph(graph)):
        assert sum(node.num_params for node in info.nodes) == model.count_params()
        assert sum(node.macs for node in info.nodes) == graph_macs(model)
        assert all(info.nodes[e.source].column < info.nodes[e.target].column for e in info.edges)
    # Opening one block shows its parts: the projection (_0) and three convolutions (_1.._3),
    # each still closed, the residual merge and the output activation.
    one = layout_graph(graph, (*expanded, "conv2_block1"))
    assert len(one.nodes) == 25 - 1 + 6
    names = {node.name for node in one.nodes}
    assert {f"conv2_block1_{i}" for i in range(4)} | {
        "conv2_block1_add",
        "conv2_block1_out",
    } <= names


def test_other_families_of_names_form_blocks():
    from neurogenesis.analysis.architecture import model_graph

    mobilenet = model_graph(keras.applications.MobileNetV2(weights=None))
    labels = {group.label for group in mobilenet.groups}
    assert {f"block_{i}" for i in range(1, 17)} <= labels
    efficientnet = model_graph(keras.applications.EfficientNetB0(weights=None))
    labels = {group.label: group for group in efficientnet.groups}
    assert {f"block{i}" for i in range(1, 8)} <= set(labels)
    assert labels["block2b"].parent == labels["block2"].id
    # Names Keras made up (dense, dense_1, ...) are counters, not blocks.
    auto = keras.Sequential([keras.Input((4,))] + [keras.layers.Dense(4) for _ in range(3)])
    assert model_graph(auto).groups == ()
    # The digit inside a class name is no block number either (conv2d_1 is not block "conv2").
    convolutions = keras.Sequential(
        [keras.Input((8, 8, 1))]
        + [keras.layers.Conv2D(2, 3, padding="same") for _ in range(3)]
        + [keras.layers.MaxPooling2D(), keras.layers.MaxPooling2D()]
    )
    assert model_graph(convolutions).groups == ()
    # A prefix whose layers are not contiguous (a path leaves it and comes back) is no block.
    x = keras.Input((4,), name="x")
    h = keras.layers.Dense(4, name="a1_first")(x)
    h = keras.layers.Dense(4, name="between")(h)
    h = keras.layers.Dense(4, name="a1_second")(h)
    assert model_graph(keras.Model(x, h)).groups == ()


def test_transformer_blocks_by_number_and_nested_models_inlined():
    from neurogenesis.analysis.architecture import layout_graph, model_graph

    tokens = keras.Input((6, 8), name="tokens")
    x = tokens
    for block in (1, 2):
        attended = keras.layers.MultiHeadAttention(2, 4, name=f"attention_{block}")(x, x)
        x = keras.layers.LayerNormalization(name=f"norm_{block}")(
            keras.layers.Add(name=f"residual_{block}")([x, attended])
        )
    transformer = model_graph(keras.Model(tokens, x, name="transformer"))
    assert {
        g.label: len([u for u in transformer.units if g.id in u.path]) for g in transformer.groups
    } == {
        "transformer_block_1": 3,
        "transformer_block_2": 3,
    }

    image = keras.Input((4,), name="image")
    hidden = keras.layers.Dense(3, name="hidden")(image)
    encoder = keras.Model(
        image, [keras.layers.Dense(2, name="mean")(hidden), hidden], name="encoder"
    )
    code = keras.Input((2,), name="code")
    decoder = keras.Model(code, keras.layers.Dense(4, name="pixels")(code), name="decoder")
    outer_input = keras.Input((4,), name="outer")
    mean, _ = encoder(outer_input)
    model = keras.Model(outer_input, decoder(mean), name="autoencoder")
    graph = model_graph(model)
    assert [unit.name for unit in graph.units] == ["outer", "hidden", "mean", "pixels"]
    assert [unit.path for unit in graph.units] == [(), ("encoder",), ("encoder",), ("decoder",)]
    assert graph.units[3].layer_path == ("decoder", "pixels")
    edges = {(graph.units[e.source].name, graph.units[e.target].name, e.shape) for e in graph.edges}
    assert edges == {
        ("outer", "hidden", (None, 4)),
        ("hidden", "mean", (None, 3)),
        ("mean", "pixels", (None, 2)),
    }
    closed = layout_graph(graph, ())
    assert [(n.name, n.class_name, n.num_layers) for n in closed.nodes] == [
        ("outer", "InputLayer", 1),
        ("encoder", "Model", 2),
        ("decoder", "Model", 1),
    ]
    assert closed.nodes[1].output_shape == (None, 2)  # what leaves the block: the mean
    assert sum(n.num_params for n in closed.nodes) == model.count_params() == 15 + 8 + 12


def test_layer_details_statistics_and_histograms():
    from neurogenesis.analysis.architecture import layer_details
    from neurogenesis.errors import InputError

    model = tiny_cnn()
    details = layer_details(model, "conv", bins=10)
    kernel, bias = details.weights
    values = model.get_layer("conv").kernel.numpy()
    assert kernel.shape == (3, 3, 1, 4) and kernel.count == 36 and kernel.trainable
    assert kernel.mean == pytest.approx(float(values.mean()))
    assert kernel.std == pytest.approx(float(values.std()), rel=1e-6)
    assert kernel.max == pytest.approx(float(values.max()))
    assert kernel.norm == pytest.approx(float(np.linalg.norm(values)), rel=1e-6)
    assert sum(kernel.histogram_counts) == 36 and len(kernel.histogram_edges) == 11
    assert bias.zeros_fraction == 1.0  # biases start at zero
    assert '"filters": 4' in details.config and details.num_params == 40
    moving = layer_details(model, "norm").weights
    assert [w.trainable for w in moving] == [True, True, False, False]
    with pytest.raises(InputError, match="Received: 'nope'"):
        layer_details(model, "nope")


def test_numbered_blocks_are_named_after_what_they_compute():
    from neurogenesis.analysis.architecture import block_label, model_graph

    assert block_label("1", ["MultiHeadAttention", "Add", "Dense"]) == "transformer_block_1"
    assert block_label("2", ["Conv2D", "BatchNormalization"]) == "conv_block_2"
    assert block_label("3", ["LSTM", "Dense"]) == "recurrent_block_3"
    assert block_label("4", ["Dense", "Dropout"]) == "dense_block_4"
    assert block_label("5", ["Add", "Multiply"]) == "block_5"
    graph = model_graph(_conv_model())
    assert [group.label for group in graph.groups] == ["conv_block_1", "conv_block_2"]
    assert [group.id for group in graph.groups] == ["*_1", "*_2"]  # ids stay stable


def _conv_model():
    image = keras.Input((4, 4, 1), name="image")
    x = image
    for block in (1, 2):
        x = keras.layers.Conv2D(2, 3, padding="same", name=f"conv_{block}")(x)
        x = keras.layers.BatchNormalization(name=f"norm_{block}")(x)
    return keras.Model(image, x)


def test_key_attributes_read_each_layers_config():
    from neurogenesis.analysis.architecture import key_attributes, model_graph

    def attributes(layer):
        return dict(key_attributes(type(layer).__name__, layer.get_config()))

    assert attributes(keras.layers.Conv2D(16, 3, strides=2, activation="relu")) == {
        "filters": "16",
        "kernel": "3×3",
        "strides": "2×2",
        "activation": "relu",
    }
    # Strides and dilation of 1 and a linear activation say nothing.
    assert attributes(keras.layers.Conv1D(8, 5)) == {"filters": "8", "kernel": "5"}
    assert attributes(keras.layers.Dense(1024)) == {"units": "1024"}
    assert attributes(keras.layers.MultiHeadAttention(num_heads=4, key_dim=6)) == {
        "heads": "4",
        "key_dim": "6",
    }
    assert attributes(keras.layers.Embedding(60, 24)) == {"vocabulary": "60", "dim": "24"}
    assert attributes(keras.layers.Dropout(0.25)) == {"rate": "0.25"}
    # A serialised function as the activation (KerasHub's encoders save gelu this way).
    gelu = {"module": "keras_hub.src.utils", "class_name": "function", "config": "gelu_approx"}
    assert key_attributes("Dense", {"units": 8, "activation": gelu}) == (
        ("units", "8"),
        ("activation", "gelu_approx"),
    )
    pooling = key_attributes("MaxPooling2D", keras.layers.MaxPooling2D(2).get_config())
    assert pooling == (("pool", "2×2"), ("strides", "2×2"))  # in reading order
    assert attributes(keras.layers.LSTM(32, return_sequences=True)) == {
        "units": "32",
        "sequences": "all steps",
        "activation": "tanh",
    }
    assert attributes(keras.layers.Bidirectional(keras.layers.GRU(8))) == {
        "units": "8",
        "activation": "tanh",
        "merge": "concat",
    }
    assert attributes(keras.layers.Add()) == {}
    # The graph carries them to its nodes.
    graph = model_graph(_conv_model())
    assert dict(graph.units[1].attributes) == {"filters": "2", "kernel": "3×3"}

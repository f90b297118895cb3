"""architecture_summary against Keras's own numbers and hand counts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from neurogenesis.analysis.architecture import architecture_summary, graph_macs, supports
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


@pytest.mark.parametrize("builder", [tiny_dense_model, tiny_cnn, tiny_branching_model])
def test_supports_built_models(builder):
    assert supports(builder())


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
    assert sum(layer.macs for layer in info.layers) == info.macs


# --- The layered graph ----------------------------------------------------------------------------


def test_graph_follows_the_real_topology():
    from neurogenesis.analysis.architecture import graph_info

    info = graph_info(tiny_branching_model())
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
    from neurogenesis.analysis.architecture import graph_info

    model = keras.applications.ResNet50(weights=None)
    info = graph_info(model)
    assert len(info.nodes) == len(model.layers)
    assert sum(node.num_params for node in info.nodes) == model.count_params()
    assert all(info.nodes[e.source].column < info.nodes[e.target].column for e in info.edges)
    adds = [node for node in info.nodes if node.class_name == "Add"]
    assert len(adds) == 16  # one residual merge per bottleneck block (3 + 4 + 6 + 3)
    shared = keras.layers.Dense(2, name="shared")
    a, b = keras.Input((3,), name="left"), keras.Input((3,), name="right")
    twice = graph_info(keras.Model([a, b], keras.layers.Add(name="sum")([shared(a), shared(b)])))
    assert sorted(node.name for node in twice.nodes if node.name.startswith("shared")) == [
        "shared",
        "shared#2",
    ]
    assert sum(node.num_params for node in twice.nodes) == 8  # the weights are counted once


def test_subclassed_models_explain_why_there_is_no_graph():
    from neurogenesis.analysis.architecture import graph_info
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
        graph_info(model)

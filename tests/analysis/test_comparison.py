"""Complexity profiles, architecture diffs and trade-offs against hand counts and Keras's own."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import keras
import pytest

from neurogenesis.analysis.architecture import ArchitectureInfo, LayerInfo, architecture_summary
from neurogenesis.analysis.comparison import (
    ComplexityProfile,
    TradeoffEntry,
    align_layers,
    align_models,
    architecture_diff,
    complexity_profile,
    diff_table,
    layer_configs,
    model_complexity,
    tradeoff_from_cards,
    tradeoff_info,
)
from neurogenesis.testing import tiny_branching_model, tiny_dense_model
from neurogenesis.zoo.digits import digits_cnn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def digits():
    """Three digits CNNs: width 8, width 16 and width 16 without BatchNormalization."""
    models = {
        "narrow": digits_cnn(width=8),
        "wide": digits_cnn(width=16),
        "no_bn": digits_cnn(width=16, batch_norm=False),
    }
    return {
        key: (model, architecture_summary(model), layer_configs(model))
        for key, model in models.items()
    }


def _diff(pair_a, pair_b):
    (_, info_a, configs_a), (_, info_b, configs_b) = pair_a, pair_b
    return architecture_diff(info_a, info_b, configs_a=configs_a, configs_b=configs_b)


# --- Complexity profile ---------------------------------------------------------------------------


def test_tiny_dense_profile_by_hand():
    profile = model_complexity(tiny_dense_model())
    assert profile == ComplexityProfile(
        name="tiny_dense",
        num_layers=2,
        num_params=8 * 16 + 16 + 16 * 3 + 3,  # 195
        macs=8 * 16 + 16 * 3,  # 176
        memory_bytes=195 * 4 + (16 + 3) * 4,  # float32 weights + one sample's outputs
        depth=2,
        width=16,
    )
    # Without a graph depth, a chain's depth is its number of layers.
    assert complexity_profile(architecture_summary(tiny_dense_model())) == profile


def test_digits_profile_agrees_with_architecture_summary(digits):
    model, info, _ = digits["wide"]
    profile = model_complexity(model)
    layers = [layer for layer in info.layers if layer.class_name != "InputLayer"]
    assert profile.num_layers == len(layers) == 10
    assert profile.num_params == info.num_params == model.count_params()
    assert profile.macs == info.macs == sum(layer.macs for layer in info.layers)
    assert profile.memory_bytes == sum(
        layer.weight_bytes + layer.activation_bytes for layer in layers
    )
    assert profile.depth == 10  # a chain: every layer is on the one path
    # conv_2's 32 filters; the Dropout after Flatten (512 long) has no units of its own.
    assert profile.width == 32
    assert profile.axis_values() == (10, info.num_params, info.macs, profile.memory_bytes, 10, 32)
    assert pickle.loads(pickle.dumps(profile)) == profile


def test_branching_depth_is_the_longest_path():
    profile = model_complexity(tiny_branching_model())
    # a -> dense_a -> skip -> join -> head_1: four layers on the longest path, five layers in all.
    assert (profile.depth, profile.num_layers) == (4, 5)
    assert complexity_profile(architecture_summary(tiny_branching_model()), depth=4) == profile
    assert profile.width == 6  # dense_a; join's 10 features are a concatenation, not units


def test_nested_models_are_counted_inside():
    inner = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(7, name="wide"), keras.layers.Dense(2, name="thin")],
        name="inner",
    )
    inputs = keras.Input((5,), name="x")
    outputs = keras.layers.Dense(3, name="head")(inner(inputs))
    model = keras.Model(inputs, outputs, name="outer")
    profile = model_complexity(model)
    assert (profile.num_layers, profile.depth, profile.width) == (3, 3, 7)
    assert profile.num_params == model.count_params() == (5 * 7 + 7) + (7 * 2 + 2) + (2 * 3 + 3)
    assert profile.macs == 5 * 7 + 7 * 2 + 2 * 3


# --- Layer configs --------------------------------------------------------------------------------


def test_layer_configs_drop_names_and_seeds_and_simplify_objects(digits):
    _, _, configs = digits["wide"]
    conv = configs["conv_1"]
    assert "name" not in conv
    assert conv["filters"] == 16
    assert conv["kernel_size"] == (3, 3)
    assert conv["dtype"] == "float32"
    assert conv["kernel_initializer"] == "GlorotUniform"
    assert "seed" not in configs["dropout"] and configs["dropout"]["rate"] == 0.2
    assert pickle.loads(pickle.dumps(configs)) == configs
    # Two builds of the same network have the same configs.
    assert layer_configs(digits_cnn(width=16)) == configs


# --- Diff -----------------------------------------------------------------------------------------


def test_width_change_marks_every_convolution_changed_with_exact_deltas(digits):
    diff = _diff(digits["narrow"], digits["wide"])
    rows = {row.layer_a: row for row in diff.rows}
    assert [row.layer_a for row in diff.rows] == [row.layer_b for row in diff.rows]
    assert rows["image"].status == "same"
    assert all(row.status == "changed" for name, row in rows.items() if name != "image")
    # No bias under BatchNormalization: conv_1 is 3*3*1*width, conv_2 3*3*width*2width.
    assert rows["conv_1"].delta_params == 9 * 1 * 16 - 9 * 1 * 8 == 72
    assert rows["conv_2"].delta_params == 9 * 16 * 32 - 9 * 8 * 16 == 3456
    assert rows["conv_2"].delta_macs == 8 * 8 * (9 * 16 * 32 - 9 * 8 * 16)
    assert rows["probabilities"].delta_params == (4 * 4 * 32 - 4 * 4 * 16) * 10
    assert "filters 8 → 16" in rows["conv_1"].changes
    assert "output (None, 8, 8, 8) → (None, 8, 8, 16)" in rows["conv_1"].changes
    assert "parameters 72 → 144" in rows["conv_1"].changes
    (narrow, narrow_info, _), (wide, wide_info, _) = digits["narrow"], digits["wide"]
    layers_a = {layer.name: layer for layer in narrow.layers}
    layers_b = {layer.name: layer for layer in wide.layers}
    for row in diff.rows:
        assert (
            row.delta_params
            == layers_b[row.layer_b].count_params() - layers_a[row.layer_a].count_params()
        )
    assert diff.delta_params == wide.count_params() - narrow.count_params()
    assert diff.delta_params == sum(row.delta_params for row in diff.rows)
    assert (
        diff.delta_macs
        == wide_info.macs - narrow_info.macs
        == sum(row.delta_macs for row in diff.rows)
    )
    assert diff.counts() == {"same": 1, "changed": 10, "added": 0, "removed": 0}


def test_batch_norm_layers_are_removed(digits):
    diff = _diff(digits["wide"], digits["no_bn"])
    removed = [row.layer_a for row in diff.rows if row.status == "removed"]
    assert removed == ["batch_norm_1", "batch_norm_2"]
    assert all(
        row.class_name == "BatchNormalization" for row in diff.rows if row.status == "removed"
    )
    assert not [row for row in diff.rows if row.status == "added"]
    rows = {row.layer_a: row for row in diff.rows}
    # Without BatchNormalization the convolutions get their bias back.
    assert rows["conv_1"].status == "changed"
    assert "use_bias False → True" in rows["conv_1"].changes
    assert rows["conv_1"].delta_params == 16
    assert rows["batch_norm_2"].delta_params == -4 * 32
    assert rows["relu_1"].status == rows["probabilities"].status == "same"
    (wide, _, _), (no_bn, _, _) = digits["wide"], digits["no_bn"]
    assert diff.delta_params == no_bn.count_params() - wide.count_params()
    assert diff.name_b == "digits_cnn_no_bn"


def test_a_model_against_itself_is_all_same(digits):
    diff = _diff(digits["wide"], digits["wide"])
    assert {row.status for row in diff.rows} == {"same"}
    assert all(row.delta_params == 0 and row.delta_macs == 0 for row in diff.rows)
    assert diff.delta_params == diff.delta_macs == 0
    # A second build (fresh weights, the same layers) is the same too.
    again = digits_cnn(width=16)
    diff = architecture_diff(
        digits["wide"][1],
        architecture_summary(again),
        configs_a=digits["wide"][2],
        configs_b=layer_configs(again),
    )
    assert diff.counts()["same"] == len(diff.rows) == 11


def test_inserted_layer_is_the_one_added_row():
    before = tiny_dense_model()
    after = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dense(12, activation="relu", name="extra"),
            keras.layers.Dense(3, activation="softmax", name="probabilities"),
        ],
        name="tiny_dense_deeper",
    )
    diff = architecture_diff(
        architecture_summary(before),
        architecture_summary(after),
        configs_a=layer_configs(before),
        configs_b=layer_configs(after),
    )
    assert [(row.status, row.layer_a, row.layer_b) for row in diff.rows] == [
        ("same", "hidden", "hidden"),
        ("added", None, "extra"),
        ("changed", "probabilities", "probabilities"),
    ]
    assert diff.rows[1].delta_params == 16 * 12 + 12
    assert diff.rows[2].changes == ("parameters 51 → 39",)
    assert diff.delta_params == after.count_params() - before.count_params()


def test_activation_change_is_found_with_or_without_configs():
    def model(activation):
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(3, activation=activation, name="d")],
            name=activation,
        )

    relu, tanh = model("relu"), model("tanh")
    with_configs = architecture_diff(
        architecture_summary(relu),
        architecture_summary(tanh),
        configs_a=layer_configs(relu),
        configs_b=layer_configs(tanh),
    )
    assert with_configs.rows[0].changes == ("activation relu → tanh",)
    without = architecture_diff(architecture_summary(relu), architecture_summary(tanh))
    assert without.rows[0].status == "changed"
    assert without.rows[0].changes == ("activation relu → tanh",)


def _layer(name, class_name="Dense", units=4, params=20):
    return LayerInfo(name, class_name, (None, units), params, params, params, units * 4, params * 4)


def _info(name, layers):
    total = sum(layer.num_params for layer in layers)
    return ArchitectureInfo(
        name, "Functional", ((None, 4),), ((None, 4),), total, total, total, layers
    )


def test_renamed_layers_of_one_class_align_by_position():
    # Keras's automatic names differ between two builds in one session: dense_3 against dense_7.
    a = [_layer("input_layer", "InputLayer", params=0), _layer("dense_3"), _layer("dense_4")]
    b = [_layer("input_layer", "InputLayer", params=0), _layer("dense_7"), _layer("dense_8")]
    assert align_layers(a, b) == [(0, 0), (1, 1), (2, 2)]
    diff = architecture_diff(_info("a", tuple(a)), _info("b", tuple(b)))
    assert [row.status for row in diff.rows] == ["same", "changed", "changed"]
    assert diff.rows[1].changes == ("renamed dense_3 → dense_7",)
    # A different class in the same place is a different layer.
    c = [_layer("input_layer", "InputLayer", params=0), _layer("conv", "Conv1D"), _layer("dense_4")]
    assert align_layers(a, c) == [(0, 0), (1, None), (None, 1), (2, 2)]


def test_diff_table_rows():
    a = (_layer("x", "InputLayer", params=0), _layer("h"), _layer("out", params=10))
    b = (_layer("x", "InputLayer", params=0), _layer("out", params=10))
    table = diff_table(architecture_diff(_info("a", a), _info("b", b)))
    assert table[1] == {
        "status": "removed",
        "layer in A": "h",
        "layer in B": "",
        "class": "Dense",
        "what changed": "",
        "Δ parameters": -20,
        "Δ MACs": -20,
    }
    assert [row["status"] for row in table] == ["same", "removed", "same"]


def test_unknown_compute_gives_no_mac_delta():
    a = _info("a", (_layer("h"),))
    subclassed = ArchitectureInfo("b", "Sub", (), (), 20, 20, None, (_layer("h"),))
    diff = architecture_diff(a, subclassed)
    assert diff.rows[0].delta_macs is None and diff.delta_macs is None
    assert diff.rows[0].status == "same"


def test_align_models_three_ways():
    a = _info("a", (_layer("x", "InputLayer", params=0), _layer("h"), _layer("out")))
    b = _info("b", (_layer("x", "InputLayer", params=0), _layer("h"), _layer("mid"), _layer("out")))
    c = _info("c", (_layer("x", "InputLayer", params=0), _layer("out")))
    rows = align_models([a, b, c])
    names = [tuple(None if layer is None else layer.name for layer in row) for row in rows]
    assert names == [("x", "x", "x"), ("h", "h", None), (None, "mid", None), ("out", "out", "out")]


# --- Trade-offs -----------------------------------------------------------------------------------


def test_tradeoff_reads_the_demo_card():
    card = json.loads((ROOT / "models" / "digits_cnn.json").read_text())
    info = architecture_summary(tiny_dense_model())
    tradeoff = tradeoff_from_cards([info, info], [card, None])
    with_card, without = tradeoff.entries
    assert with_card.metric_name == card["test_metric"]["name"] == "accuracy"
    assert with_card.metric_value == card["test_metric"]["value"]
    assert with_card.goal == "max"
    assert with_card.sample_set == card["samples"] == "data/samples/digits_cnn.npz"
    assert (with_card.num_params, with_card.macs) == (195, 176)
    assert without.metric_value is None and not without.has_metric
    assert tradeoff.metric_names == ("accuracy",)
    assert tradeoff.without_metric == ("tiny_dense",)
    # Two demo cards with the same metric name measured on different data do not compare.
    shapes = json.loads((ROOT / "models" / "shapes_cnn.json").read_text())
    both = tradeoff_from_cards([info, info], [card, shapes])
    assert [e.metric_name for e in both.entries] == ["accuracy", "accuracy"]
    assert [len(group) for group in both.comparable_groups] == [1, 1]
    same = tradeoff_from_cards([info, info], [card, card])
    assert [len(group) for group in same.comparable_groups] == [2]
    with pytest.raises(ValueError, match="one card"):
        tradeoff_from_cards([info], [])


def test_tradeoff_info_treats_nan_as_no_metric_and_checks_goals():
    info = tradeoff_info([TradeoffEntry("m", 10, 5, "loss", math.nan, "min")])
    assert info.entries[0] == TradeoffEntry("m", 10, 5, None, None, "min")
    with pytest.raises(ValueError, match="goal"):
        tradeoff_info([TradeoffEntry("m", 10, 5, "loss", 1.0, "lower")])

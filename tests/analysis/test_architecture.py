"""architecture_summary against Keras's own numbers and hand counts."""

from __future__ import annotations

import pytest

from neurogenesis.analysis.architecture import architecture_summary, supports
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
    assert payload["layers"][0] == {
        "name": "hidden",
        "class_name": "Dense",
        "output_shape": [None, 16],
        "num_params": 144,
        "num_trainable_params": 144,
        "macs": None,
    }


@pytest.mark.parametrize("builder", [tiny_dense_model, tiny_cnn, tiny_branching_model])
def test_supports_built_models(builder):
    assert supports(builder())

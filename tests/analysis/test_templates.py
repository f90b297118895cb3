"""Model templates against published parameter counts and hand counts."""

from __future__ import annotations

import pickle

import keras
import numpy as np
import pytest

from neurogenesis.analysis import templates
from neurogenesis.analysis.architecture import architecture_summary
from neurogenesis.analysis.templates import TEMPLATES, build_template
from neurogenesis.errors import InputError

# Published parameter counts (Keras Applications table; the papers' models with a 1000-way top).
PUBLISHED = {
    "vgg16": 138_357_544,
    "resnet50": 25_636_712,
    "mobilenet_v2": 3_538_984,
    "efficientnet_b0": 5_330_571,
}
EFFICIENTNET_B2_PARAMS = 9_177_569  # width 1.1, depth 1.2: B2's coefficients (Tan & Le 2019)


def _weights_size(model) -> int:
    return sum(int(np.prod(weight.shape)) for weight in model.weights)


@pytest.fixture(scope="module")
def big_models():
    """Each keras.applications template built once, counted, then let go."""
    facts = {}
    for name in PUBLISHED:
        model = build_template(name)
        facts[name] = {
            "count_params": model.count_params(),
            "weights": _weights_size(model),
            "summary": architecture_summary(model).num_params,
            "layer_names": [layer.name for layer in model.layers],
            "shapes": {layer.name: tuple(layer.output.shape) for layer in model.layers},
        }
        del model
        keras.backend.clear_session()
    return facts


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_application_templates_match_published_counts(big_models, name):
    facts = big_models[name]
    assert facts["count_params"] == facts["weights"] == facts["summary"] == PUBLISHED[name]


def test_catalogue_is_consistent():
    assert set(TEMPLATES) >= {
        "vgg16",
        "resnet50",
        "mobilenet_v2",
        "efficientnet_b0",
        "bert_encoder",
        "lstm",
        "small_cnn",
        "vae",
    }
    for name, template in TEMPLATES.items():
        assert template.name == name
        assert template.kind in {"image", "text", "sequence", "generative"}
        assert template.multipliers
    assert pickle.loads(pickle.dumps(TEMPLATES)) == TEMPLATES


def test_own_resnet50_equals_keras_at_one(big_models):
    model = templates._resnet50_scaled(keras, 1.0, 1.0, (224, 224, 3))
    reference = big_models["resnet50"]
    assert model.count_params() == PUBLISHED["resnet50"]
    assert [layer.name for layer in model.layers] == reference["layer_names"]
    assert {layer.name: tuple(layer.output.shape) for layer in model.layers} == reference["shapes"]


def test_resnet50_depth_half_keeps_fewer_blocks():
    model = build_template("resnet50", width_multiplier=0.25, depth_multiplier=0.5)
    adds = [layer for layer in model.layers if type(layer).__name__ == "Add"]
    assert len(adds) == 2 + 2 + 3 + 2  # round(3, 4, 6, 3 * 0.5), half to even
    assert model.get_layer("conv1_conv").filters == 16
    assert model.get_layer("conv5_block1_3_conv").filters == 4 * 128


def _vgg_count(filters: list[int], convs: list[int], dense: int, side: int = 7) -> int:
    total, channels = 0, 3
    for width, count in zip(filters, convs, strict=True):
        for _ in range(count):
            total += 3 * 3 * channels * width + width
            channels = width
    flat = side * side * channels
    return total + flat * dense + dense + dense * dense + dense + dense * 1000 + 1000


def test_vgg16_multipliers_by_hand():
    assert _vgg_count([64, 128, 256, 512, 512], [2, 2, 3, 3, 3], 4096) == PUBLISHED["vgg16"]
    model = build_template("vgg16", width_multiplier=0.25, depth_multiplier=0.5)
    # filters 16..128; convolutions per block round(2, 2, 3, 3, 3 * 0.5) = 1, 1, 2, 2, 2
    assert model.count_params() == _vgg_count([16, 32, 64, 128, 128], [1, 1, 2, 2, 2], 1024)


def test_mobilenet_v2_refuses_depth_and_efficientnet_scales_like_b2():
    with pytest.raises(InputError, match="no depth multiplier"):
        build_template("mobilenet_v2", depth_multiplier=2.0)
    model = build_template("efficientnet_b0", width_multiplier=1.1, depth_multiplier=1.2)
    assert model.count_params() == EFFICIENTNET_B2_PARAMS
    keras.backend.clear_session()


def test_bert_encoder_by_hand(bert_count):
    model = build_template(
        "bert_encoder", width_multiplier=0.25, depth_multiplier=0.5, input_shape=(16,)
    )
    # hidden 128 * 0.25 = 32 (8 per head), one block, 16 positions, vocabulary 8000
    assert model.count_params() == bert_count(8000, 16, 32, 1) == 270_402
    assert build_template("bert_encoder").count_params() == bert_count(8000, 128, 128, 2)
    attention = model.get_layer("attention_1")
    assert (attention.num_heads, attention.key_dim) == (4, 8)
    assert model.get_layer("feed_forward_1").get_config()["activation"] == "gelu"


def test_lstm_and_small_cnn_by_hand():
    model = build_template("lstm", width_multiplier=0.5, depth_multiplier=1.5)
    lstm = 4 * (32 * 32 + 32 * 32 + 32)  # four gates: input and recurrent kernels and biases
    assert model.count_params() == 10000 * 32 + 3 * lstm + (32 * 2 + 2)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Embedding",
        "LSTM",
        "LSTM",
        "LSTM",
        "Dense",
    ]
    small = build_template("small_cnn", width_multiplier=0.5)
    # conv 3x3x1x16 + 16, conv 3x3x16x32 + 32, dense 7*7*32*10 + 10
    assert small.count_params() == 160 + 4640 + 15690 == 20490


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width_multiplier": 0}, "positive width multiplier"),
        ({"depth_multiplier": -1}, "positive depth multiplier"),
        ({"input_shape": (28, 28)}, "takes inputs shaped like"),
        ({"input_shape": (8, 8, 3)}, "cannot be built"),
    ],
)
def test_bad_template_arguments_are_explained(kwargs, message):
    with pytest.raises(InputError, match=message):
        build_template("vgg16", **kwargs)


def test_unknown_template():
    with pytest.raises(InputError, match="Unknown template 'vgg19'"):
        build_template("vgg19")


@pytest.mark.parametrize("name", ["bert_encoder", "vae"])
def test_templates_save_and_reload_safely(tmp_path, name):
    kwargs = {"width_multiplier": 0.25, "input_shape": (12,)} if name == "bert_encoder" else {}
    model = build_template(name, **kwargs)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    if name == "bert_encoder":
        sample = np.array([[5, 9, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]], dtype="int32")
    else:
        sample = np.random.default_rng(0).uniform(size=(2, 8, 8, 1)).astype("float32")
    assert loaded.count_params() == model.count_params()
    np.testing.assert_allclose(loaded.predict(sample, verbose=0), model.predict(sample, verbose=0))

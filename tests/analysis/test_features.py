"""Features analysis against Keras's own layers, numpy loops and scipy, on the demo models."""

from __future__ import annotations

import pickle
from pathlib import Path

import keras
import numpy as np
import pytest
from scipy import signal, special

from neurogenesis.analysis import features as ft
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.io.models import load_model
from neurogenesis.io.samples import load_samples
from neurogenesis.testing import tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
STEPS = 48  # enough for a clear rise, short enough for two CPU cores


@pytest.fixture(scope="module")
def digits():
    return load_model(ROOT / "models" / "digits_cnn.keras")


@pytest.fixture(scope="module")
def digit_samples():
    return load_samples(ROOT / "data" / "samples" / "digits_cnn.npz")


@pytest.fixture(scope="module")
def shapes():
    return load_model(ROOT / "models" / "shapes_cnn.keras")


@pytest.fixture(scope="module")
def shape_samples():
    return load_samples(ROOT / "data" / "samples" / "shapes_cnn.npz")


def _layer_output(model, layer: str, x: np.ndarray) -> np.ndarray:
    """A layer's output through Keras's own sub-model (the reference for tapped outputs)."""
    sub = keras.Model(model.inputs[0], model.get_layer(layer).output)
    return np.asarray(sub(np.asarray(x, dtype="float32"), training=False))


def _channel_means(model, layer: str, x: np.ndarray) -> np.ndarray:
    out = _layer_output(model, layer, x)
    return out.mean(axis=(1, 2)) if out.ndim == 4 else out


def _logits(model, x: np.ndarray) -> np.ndarray:
    """Pre-softmax scores by hand: the features before the last Dense, times its kernel, plus bias."""
    dense = model.get_layer("probabilities")
    features = _layer_output(model, "dropout", x)  # dropout is the identity at inference
    kernel, bias = (np.asarray(w) for w in dense.get_weights())
    return features @ kernel + bias


# ------------------------------------------------------------------ predictions


def test_supports_graph_models_only(digits):
    class Subclassed(keras.Model):
        def call(self, inputs):
            return inputs

    assert ft.reason(digits) is None
    assert "no functional graph" in ft.reason(Subclassed())


def test_classification_matches_keras_predictions(digits, digit_samples):
    x, y = digit_samples.x[:120], digit_samples.y[:120]
    info = ft.prediction_info(digits, x, y, digit_samples.label_names, batch_size=50)
    reference = np.asarray(digits(x, training=False), dtype=np.float64)
    assert info.task == "classification" and info.num_classes == 10
    np.testing.assert_allclose(info.outputs, reference, rtol=1e-5, atol=1e-6)
    assert np.array_equal(info.predicted, reference.argmax(axis=1))
    np.testing.assert_allclose(info.confidence, reference.max(axis=1), rtol=1e-5)
    assert np.array_equal(info.correct, reference.argmax(axis=1) == y)
    assert info.label_names == tuple(str(d) for d in range(10))
    assert info.errors is None
    assert info.class_name(3) == "3"
    assert pickle.loads(pickle.dumps(info)) == info


def test_one_hot_labels_and_uint8_images(shapes, shape_samples):
    x, y = shape_samples.x[:40], shape_samples.y[:40]
    one_hot = np.eye(5)[y]
    info = ft.prediction_info(shapes, x, one_hot, shape_samples.label_names)
    assert np.array_equal(info.labels, y)
    reference = np.asarray(shapes(x.astype("float32"), training=False)).argmax(axis=1)
    assert np.array_equal(info.correct, reference == y)


def test_logit_classifier_confidence_is_softmax():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="scores")])
    x = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
    y = np.arange(20) % 3
    info = ft.prediction_info(model, x, y)
    scores = np.asarray(model(x))
    assert info.task == "classification"
    np.testing.assert_allclose(info.outputs, scores, rtol=1e-6)
    np.testing.assert_allclose(info.confidence, special.softmax(scores, axis=1).max(axis=1))


def test_binary_and_regression_tasks():
    keras.utils.set_random_seed(4)
    x = np.random.default_rng(1).normal(size=(30, 3)).astype("float32")
    binary = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    labels = (x[:, 0] > 0).astype(int)
    info = ft.prediction_info(binary, x, labels, ["no", "yes"])
    p = np.asarray(binary(x))[:, 0]
    assert info.task == "binary" and info.num_classes == 2
    assert np.array_equal(info.predicted, (p >= 0.5).astype(int))
    np.testing.assert_allclose(info.confidence, np.maximum(p, 1 - p), rtol=1e-6)
    assert np.array_equal(info.correct, (p >= 0.5) == labels)

    regression = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    target = x.sum(axis=1)
    info = ft.prediction_info(regression, x, target)
    prediction = np.asarray(regression(x))[:, 0]
    assert info.task == "regression" and info.predicted is None and info.confidence is None
    np.testing.assert_allclose(info.errors, np.abs(prediction - target), rtol=1e-5, atol=1e-6)
    assert info.num_classes == 0 and info.correct is None

    several = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    targets = np.stack([target, -target], axis=1)
    info = ft.prediction_info(several, x, targets)
    assert info.task == "regression"
    expected = np.abs(np.asarray(several(x)) - targets).mean(axis=1)
    np.testing.assert_allclose(info.errors, expected, rtol=1e-5, atol=1e-6)


def _logit_model(weights, bias: float):
    """``Dense(1)`` without an activation: keras.io's transfer-learning head (a logit)."""
    model = keras.Sequential([keras.Input((len(weights),)), keras.layers.Dense(1, name="logit")])
    model.get_layer("logit").set_weights(
        [np.asarray(weights, "float32")[:, None], np.array([bias], "float32")]
    )
    return model


def test_one_logit_binary_classifier_is_binary_with_0_1_labels():
    weights = np.array([1.5, -0.5, 0.25])
    model = _logit_model(weights, bias=0.3)
    x = np.random.default_rng(6).normal(size=(40, 3)).astype("float32")
    logit = x.astype(np.float64) @ weights + 0.3
    assert np.abs(logit).min() > 1e-3  # no ties at the threshold
    labels = (x[:, 0] + 0.8 * x[:, 2] > 0).astype(int)  # agrees with the logit's sign only partly
    expected_accuracy = np.mean((logit > 0) == labels)
    assert 0.5 < expected_accuracy < 1.0
    for y in (labels, labels.astype("float32"), labels.astype("float32")[:, None]):
        info = ft.prediction_info(model, x, y, ["cat", "dog"])
        assert info.task == "binary" and info.num_classes == 2 and info.note is None
        np.testing.assert_allclose(info.outputs[:, 0], special.expit(logit), rtol=1e-5)
        assert np.array_equal(info.predicted, (logit > 0).astype(int))
        np.testing.assert_allclose(info.confidence, special.expit(np.abs(logit)), rtol=1e-5)
        assert info.correct.mean() == expected_accuracy
    # Continuous targets keep the same model a regression.
    target = logit + np.random.default_rng(7).normal(scale=0.1, size=40)
    info = ft.prediction_info(model, x, target)
    assert info.task == "regression" and info.predicted is None
    np.testing.assert_allclose(info.outputs[:, 0], logit, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(info.errors, np.abs(logit - target), rtol=1e-5, atol=1e-5)
    # Without labels the loss decides: compiled, saved in the file, or given.
    assert ft.prediction_info(model, x).task == "regression"
    saved = {"module": "keras.losses", "class_name": "BinaryCrossentropy"}
    saved["config"] = {"name": "binary_crossentropy", "from_logits": True}
    assert ft.prediction_info(model, x, loss=saved).task == "binary"
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    info = ft.prediction_info(model, x)
    assert info.task == "binary" and np.array_equal(info.predicted, (logit > 0).astype(int))


def test_logits_head_of_several_classes_is_a_classifier_by_its_loss(tmp_path):
    """A linear output trained with a categorical cross-entropy on logits (KerasHub's
    classifiers: ``activation=None``) is a classifier without labels; its confidence is the
    softmax of the model's own call."""
    keras.utils.set_random_seed(9)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="logits")])
    x = np.random.default_rng(9).normal(size=(12, 4)).astype("float32")
    logits = np.asarray(model(x), np.float64)
    assert ft.prediction_info(model, x).task == "regression"  # no loss, no labels: scores
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    info = ft.prediction_info(model, x)
    assert info.task == "classification" and info.from_logits and info.num_classes == 3
    np.testing.assert_array_equal(info.predicted, logits.argmax(axis=1))
    expected = special.softmax(logits, axis=1)[np.arange(12), logits.argmax(axis=1)]
    np.testing.assert_allclose(info.confidence, expected, rtol=1e-5)
    # The file's saved loss tells the same without a compiled model.
    model.save(tmp_path / "logits.keras")
    loaded = load_model(tmp_path / "logits.keras")
    from neurogenesis.io.models import training_setup

    saved = training_setup(tmp_path / "logits.keras").loss
    assert ft.categorical_logit_loss(saved)
    assert ft.prediction_info(loaded, x, loss=saved).task == "classification"
    assert ft.categorical_logit_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    assert not ft.categorical_logit_loss(keras.losses.SparseCategoricalCrossentropy())
    assert not ft.categorical_logit_loss(keras.losses.BinaryCrossentropy(from_logits=True))
    # A softmax model's probabilities are its own.
    softmax = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    assert not ft.prediction_info(softmax, x).from_logits
    # A binary classifier's one logit: the sigmoid, said so.
    binary = _logit_model([1.0, 0.5, -0.5, 0.2], 0.1)
    binary.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    assert ft.prediction_info(binary, x).from_logits


def test_binary_logit_loss_reads_objects_configs_and_saved_files(tmp_path):
    from neurogenesis.io.models import training_setup

    assert ft.binary_logit_loss(keras.losses.BinaryCrossentropy(from_logits=True))
    assert ft.binary_logit_loss(keras.losses.BinaryFocalCrossentropy(from_logits=True))
    assert not ft.binary_logit_loss(keras.losses.BinaryCrossentropy())
    assert not ft.binary_logit_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    assert not ft.binary_logit_loss("binary_crossentropy")  # Keras's default: probabilities
    assert not ft.binary_logit_loss(None)
    assert ft.binary_logit_loss(
        {"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}
    )
    assert not ft.binary_logit_loss({"class_name": "MeanSquaredError", "config": {}})
    for loss, binary in ((keras.losses.BinaryCrossentropy(from_logits=True), True), ("mse", False)):
        model = _logit_model([1.0, 2.0], 0.0)
        model.compile(loss=loss)
        model.save(tmp_path / "head.keras")
        assert ft.binary_logit_loss(training_setup(tmp_path / "head.keras").loss) is binary


def test_labels_that_are_not_the_models_classes_are_the_users_own():
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    x = np.random.default_rng(9).normal(size=(24, 4)).astype("float32")
    y = np.arange(24) % 2
    probabilities = np.asarray(model(x))
    info = ft.prediction_info(model, x, y, ["cats", "dogs"])
    assert info.task == "classification" and info.num_classes == 10 and info.own_labels
    assert np.array_equal(info.predicted, probabilities.argmax(axis=1))
    np.testing.assert_allclose(info.confidence, probabilities.max(axis=1), rtol=1e-6)
    assert info.correct is None and np.array_equal(info.labels, y)
    assert "not this model's classes" in info.note and "no accuracy" in info.note
    assert info.own_label_names == ("cats", "dogs") and info.label_names is None
    top = int(info.predicted[0])
    assert info.class_name(top) == f"class {top}" and info.label_name(1) == "dogs"
    rows = ft.prediction_rows(info, [1])
    assert rows == [
        {
            "sample": 1,
            "label": "dogs",
            "prediction": f"class {int(info.predicted[1])}",
            "confidence": pytest.approx(float(probabilities[1].max()), rel=1e-6),
        }
    ]
    assert np.array_equal(ft.sample_filter(info, labels=[1]), np.flatnonzero(y == 1))
    # The model's own names (its card's) name its predictions.
    names = [f"thing {i}" for i in range(10)]
    named = ft.prediction_info(model, x, y, ["cats", "dogs"], class_names=names)
    assert named.class_name(top) == f"thing {top}" and named.label_name(0) == "cats"
    # One-hot labels of another width, and class indices outside the output, are the same case.
    one_hot = ft.prediction_info(model, x, np.eye(2)[y])
    assert one_hot.own_labels and np.array_equal(one_hot.labels, y) and one_hot.correct is None
    outside = ft.prediction_info(model, x, y + 9)
    assert outside.own_labels and "run from 9 to 10" in outside.note


def test_autoencoder_is_other_and_keeps_digit_labels():
    model = load_model(ROOT / "models" / "digits_vae.keras")
    samples = load_samples(ROOT / "data" / "samples" / "digits_vae.npz")
    info = ft.prediction_info(model, samples.x[:30], samples.y[:30], samples.label_names)
    assert info.task == "other"
    assert info.outputs.shape == (30, 8, 8, 1)
    assert info.predicted is None and info.correct is None and info.errors is None
    chosen = ft.sample_filter(info, labels=[4], correctness="wrong", confidence=(0.9, 1.0))
    assert np.array_equal(chosen, np.flatnonzero(samples.y[:30] == 4))


def test_prediction_input_errors(digits, digit_samples):
    x = digit_samples.x[:10]
    with pytest.raises(InputError, match="one label per sample"):
        ft.prediction_info(digits, x, digit_samples.y[:9])
    with pytest.raises(InputError, match="expects"):
        ft.prediction_info(digits, np.zeros((3, 4, 4, 1)))


def _made_info(task: str = "classification") -> ft.PredictionInfo:
    rng = np.random.default_rng(5)
    n = 40
    probabilities = rng.dirichlet(np.ones(4), size=n)
    labels = rng.integers(0, 4, n)
    predicted = probabilities.argmax(axis=1)
    return ft.PredictionInfo(
        outputs=probabilities,
        task=task,
        predicted=predicted,
        confidence=probabilities.max(axis=1),
        labels=labels,
        correct=predicted == labels,
        errors=None,
        label_names=("a", "b", "c", "d"),
        num_classes=4,
    )


def test_sample_filter_matches_a_loop():
    info = _made_info()
    cases = [
        {},
        {"labels": [1, 3]},
        {"predictions": [0]},
        {"correctness": "wrong"},
        {"correctness": "correct", "confidence": (0.5, 0.8)},
        {"labels": [2], "predictions": [2, 3], "confidence": (0.3, 1.0)},
    ]
    for criteria in cases:
        expected = []
        for i in range(len(info)):
            if "labels" in criteria and info.labels[i] not in criteria["labels"]:
                continue
            if "predictions" in criteria and info.predicted[i] not in criteria["predictions"]:
                continue
            wanted = criteria.get("correctness", "all")
            if wanted != "all" and bool(info.correct[i]) != (wanted == "correct"):
                continue
            low, high = criteria.get("confidence", (-np.inf, np.inf))
            if not low <= info.confidence[i] <= high:
                continue
            expected.append(i)
        assert ft.sample_filter(info, **criteria).tolist() == expected, criteria


def test_sample_filter_ignores_what_does_not_apply():
    errors = np.linspace(0, 3, 10)
    info = ft.PredictionInfo(
        outputs=np.zeros((10, 1)),
        task="regression",
        predicted=None,
        confidence=None,
        labels=np.linspace(0, 1, 10),
        correct=None,
        errors=errors,
        label_names=None,
        num_classes=0,
    )
    chosen = ft.sample_filter(
        info, labels=[0], predictions=[1], correctness="wrong", confidence=(0.9, 1), error=(1, 2)
    )
    assert chosen.tolist() == np.flatnonzero((errors >= 1) & (errors <= 2)).tolist()
    with pytest.raises(InputError, match="correctness"):
        ft.sample_filter(info, correctness="bad")
    with pytest.raises(InputError, match="pair"):
        ft.sample_filter(info, error=(1,))


def test_prediction_rows():
    info = _made_info()
    rows = ft.prediction_rows(info, [0, 7])
    assert [row["sample"] for row in rows] == [0, 7]
    assert rows[1]["label"] == "abcd"[info.labels[7]]
    assert rows[1]["prediction"] == "abcd"[info.predicted[7]]
    assert rows[1]["confidence"] == pytest.approx(info.confidence[7])
    assert rows[1]["correct"] == bool(info.correct[7])


# ------------------------------------------------------------------ filters


def test_filter_layers_of_the_demo_models(digits, shapes):
    assert ft.filter_layers(digits) == ["conv_1", "conv_2"]
    assert ft.filter_layers(shapes) == ["conv_1", "conv_2", "conv_3"]


def test_conv2d_kernels_sorted_by_norm(shapes):
    info = ft.filters_info(shapes, "conv_2")
    (kernel,) = (np.asarray(w) for w in shapes.get_layer("conv_2").get_weights())  # BN follows
    assert info.kernels.shape == (32, 3, 3, 16) and info.kernels.dtype == np.float32
    norms = [np.sqrt((kernel[..., f].astype(np.float64) ** 2).sum()) for f in range(32)]
    assert info.order.tolist() == sorted(range(32), key=lambda f: -norms[f])
    np.testing.assert_allclose(info.norms, np.sort(norms)[::-1], rtol=1e-6)
    for rank, f in enumerate(info.order):
        assert np.array_equal(info.kernels[rank], kernel[..., f])
    assert info.bias is None
    assert not info.rgb and not info.first_layer and info.num_filters == 32
    top = ft.filters_info(shapes, "conv_2", max_filters=5)
    assert np.array_equal(top.order, info.order[:5]) and top.kernels.shape[0] == 5


def test_first_layers_rgb_only_for_colour_input(shapes, digits):
    colour = ft.filters_info(shapes, "conv_1")  # after a Rescaling layer
    assert colour.rgb and colour.first_layer and colour.kernels.shape == (16, 3, 3, 3)
    grey = ft.filters_info(digits, "conv_1")
    assert grey.first_layer and not grey.rgb


def _conv_zoo():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((9, 9, 2))
    a = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise")(inputs)
    b = keras.layers.SeparableConv2D(4, 3, name="separable")(a)
    c = keras.layers.Conv2DTranspose(5, 2, name="transpose")(b)
    series = keras.Input((12, 3))
    d = keras.layers.Conv1D(6, 4, name="conv1d")(series)
    return keras.Model([inputs, series], [c, d])


def test_other_convolution_layouts():
    model = _conv_zoo()
    assert sorted(ft.filter_layers(model)) == ["conv1d", "depthwise", "separable", "transpose"]

    depthwise = np.asarray(model.get_layer("depthwise").kernel)  # (3, 3, 2, 2)
    info = ft.filters_info(model, "depthwise")
    assert info.kernels.shape == (4, 3, 3, 1) and not info.rgb
    for rank, f in enumerate(info.order):
        channel, multiplier = divmod(int(f), 2)
        assert np.array_equal(info.kernels[rank, ..., 0], depthwise[:, :, channel, multiplier])
    # Output channel f really is the input channel f // 2 correlated with kernel f.
    x = np.random.default_rng(0).normal(size=(1, 9, 9, 2)).astype("float32")
    out = np.asarray(keras.Model(model.inputs[0], model.get_layer("depthwise").output)(x))
    rank = 0
    f = int(info.order[rank])
    manual = signal.correlate2d(x[0, :, :, f // 2], info.kernels[rank, :, :, 0], mode="valid")
    np.testing.assert_allclose(out[0, :, :, f], manual + info.bias[rank], rtol=1e-4, atol=1e-5)

    separable = ft.filters_info(model, "separable")
    assert separable.kernels.shape == (4, 3, 3, 1) and separable.bias is None  # multiplier 1

    transpose = np.asarray(model.get_layer("transpose").kernel)  # (2, 2, 5 filters, 4 in)
    info = ft.filters_info(model, "transpose")
    assert info.kernels.shape == (5, 2, 2, 4)
    assert np.array_equal(info.kernels[0], transpose[:, :, info.order[0], :])

    conv1d = np.asarray(model.get_layer("conv1d").kernel)  # (4, 3, 6)
    info = ft.filters_info(model, "conv1d")
    assert info.kernels.shape == (6, 1, 4, 3)
    assert np.array_equal(info.kernels[0, 0], conv1d[:, :, info.order[0]])


def test_filters_bad_layer(digits):
    with pytest.raises(InputError, match="conv_1, conv_2"):
        ft.filters_info(digits, "relu_1")
    with pytest.raises(InputError, match="max_filters"):
        ft.filters_info(digits, "conv_1", max_filters=0)


# ------------------------------------------------------------------ feature maps


def test_feature_maps_match_keras_sub_model(digits, digit_samples):
    assert "relu_1" in ft.feature_map_layers(digits) and "flatten" not in ft.feature_map_layers(
        digits
    )
    info = ft.feature_maps_info(digits, digit_samples.x, "relu_1", index=5)
    out = _layer_output(digits, "relu_1", digit_samples.x[5:6])[0]  # (8, 8, 16)
    assert info.maps.shape == (16, 8, 8)
    for channel in range(16):
        np.testing.assert_allclose(info.maps[channel], out[..., channel], rtol=1e-5, atol=1e-6)
        values = out[..., channel]
        assert info.mean_activation[channel] == pytest.approx(values.mean(), rel=1e-5, abs=1e-6)
        assert info.max_activation[channel] == pytest.approx(values.max(), rel=1e-5, abs=1e-6)
        assert info.fraction_zero[channel] == pytest.approx((values == 0).mean())
    assert info.order.tolist() == sorted(range(16), key=lambda c: -info.mean_activation[c])
    assert np.array_equal(info.input, digit_samples.x[5]) and info.index == 5
    assert pickle.loads(pickle.dumps(info)) == info


def test_feature_maps_of_uint8_images_and_1d_layers(shapes, shape_samples):
    info = ft.feature_maps_info(shapes, shape_samples.x, "pool_2", index=-1)
    assert info.maps.shape == (32, 8, 8) and info.index == len(shape_samples.x) - 1
    assert info.input.dtype == np.float32
    np.testing.assert_array_equal(info.input, shape_samples.x[-1].astype("float32"))

    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [
            keras.Input((10, 2)),
            keras.layers.Conv1D(3, 3, activation="relu", name="conv"),
            keras.layers.GlobalAveragePooling1D(),
        ]
    )
    x = np.random.default_rng(3).normal(size=(2, 10, 2)).astype("float32")
    info = ft.feature_maps_info(model, x, "conv", index=1)
    reference = np.asarray(model.get_layer("conv")(x))[1]  # (8, 3)
    assert info.maps.shape == (3, 1, 8)
    np.testing.assert_allclose(info.maps[:, 0, :], reference.T, rtol=1e-5, atol=1e-6)


def test_sequence_layers_of_the_text_transformer_are_feature_maps():
    """Issue 19: 'no time x channels layer' although 17 layers output (16, 24) or (16, 48)."""
    model = load_model(ROOT / "models" / "sentiment_transformer.keras")
    samples = load_samples(ROOT / "data" / "samples" / "sentiment_transformer.npz")
    layers = ft.feature_map_layers(model)
    shapes = {entry.path: entry.output_shape for entry in ft.graph.graph_layers(model).layers}
    assert len(layers) >= 17
    assert {"token_embedding", "attention_1", "feed_forward_1", "feed_forward_norm_2"} <= set(
        layers
    )
    assert all(len(shapes[path]) == 2 and shapes[path][0] == 16 for path in layers)
    # The padding mask (bool) and the positions (int) are not hidden states.
    assert not {"not_equal", "logical_and", "cumsum", "expand_dims", "pool"} & set(layers)
    info = ft.feature_maps_info(model, samples.x, "attention_norm_1", index=4)
    out = _layer_output(model, "attention_norm_1", samples.x[4:5])[0]  # (16, 24)
    assert info.sequence and info.maps.shape == (24, 1, 16)
    # Compared on the real tokens: at padding positions (whose attention is fully masked) the
    # tapped graph and Keras's own sub-model differ, and the model's output ignores them.
    real = samples.x[4] != 0
    assert 2 < real.sum() < 16
    np.testing.assert_allclose(info.maps[:, 0, real], out[real].T, rtol=1e-4, atol=1e-5)
    # A normalization's output is signed: the most active channels are the largest in size.
    assert info.signed
    strength = np.abs(info.maps[:, 0, :]).mean(axis=1)
    assert info.order.tolist() == sorted(range(24), key=lambda c: -strength[c])
    assert info.order.tolist() != np.argsort(-info.mean_activation, kind="stable").tolist()


def test_lstm_sequence_is_a_feature_map():
    model = load_model(ROOT / "models" / "weather_lstm.keras")
    samples = load_samples(ROOT / "data" / "samples" / "weather_lstm.npz")
    assert ft.feature_map_layers(model) == ["normalize", "lstm"]  # (1, 32) steps are not maps
    info = ft.feature_maps_info(model, samples.x, "lstm", index=2)
    reference = _layer_output(model, "lstm", samples.x[2:3])[0]
    np.testing.assert_allclose(info.maps[:, 0, :], reference.T, rtol=1e-4, atol=1e-5)


def test_feature_map_errors(digits, digit_samples):
    with pytest.raises(InputError, match="feature map"):
        ft.feature_maps_info(digits, digit_samples.x, "flatten")
    with pytest.raises(InputError, match="sample index"):
        ft.feature_maps_info(digits, digit_samples.x[:3], "relu_1", index=3)


# ------------------------------------------------------------------ activation maximization


def test_digits_channel_ascends_past_real_and_random_inputs(digits, digit_samples):
    weights = [w.copy() for w in digits.get_weights()]
    fractions = []
    info = ft.activation_maximization_info(
        digits, "relu_2", 11, steps=STEPS, progress=fractions.append
    )
    real = _channel_means(digits, "relu_2", digit_samples.x)[:, 11]
    noise = np.random.default_rng(0).uniform(0, 1, (64, 8, 8, 1))
    random = _channel_means(digits, "relu_2", noise)[:, 11]
    final = _channel_means(digits, "relu_2", info.image[None])[0, 11]
    assert info.final_activation == pytest.approx(final, rel=1e-4, abs=1e-5)
    assert info.final_activation > 3 * info.start_activation
    assert info.final_activation > 2 * max(real.max(), random.max())
    quarter = len(info.objective) // 4
    assert info.objective[-quarter:].mean() > info.objective[:quarter].mean()
    assert info.image.shape == (8, 8, 1) and info.image.dtype == np.float32
    assert info.image.min() >= 0.0 and info.image.max() <= 1.0
    assert info.input_range == (0.0, 1.0) and info.steps == STEPS
    assert fractions[-1] == 1.0 and np.all(np.diff(fractions) > 0)
    assert all(np.array_equal(a, b) for a, b in zip(weights, digits.get_weights(), strict=True))
    assert pickle.loads(pickle.dumps(info)) == info


def test_shapes_class_logit_beats_every_real_image(shapes, shape_samples):
    assert ft.default_input_range(shapes) == (0.0, 255.0)
    info = ft.activation_maximization_info(shapes, None, 2, steps=STEPS)
    assert info.layer == "probabilities" and info.input_range == (0.0, 255.0)
    logits = _logits(shapes, shape_samples.x[:200])[:, 2]
    final = _logits(shapes, info.image[None])[0, 2]
    assert info.final_activation == pytest.approx(final, rel=1e-3)
    assert info.final_activation > logits.max() > info.start_activation
    assert info.image.min() >= 0.0 and info.image.max() <= 255.0


def test_digits_class_logit_rises_and_settles_with_the_defaults(digits):
    """Issue 19: the trace swung by about 4 every step and ended where it began (jitter of one
    pixel on an 8x8 digit, a periodic blur of the image, fixed steps). With the defaults the
    logit rises, then flattens: the last tenth of the steps moves it by under 1% of its rise."""
    info = ft.activation_maximization_info(digits, None, 3)
    trace = info.objective
    assert info.steps == ft.DEFAULT_STEPS and info.jitter == 0 and info.blur_sigma == 0.5
    rise = trace.max() - info.start_activation
    assert rise > 5  # a logit, not a probability: it is not capped at 1
    tenth = len(trace) // 10
    assert trace[-tenth:].min() > trace[:tenth].mean()
    assert trace[-tenth:].min() > info.start_activation + 0.95 * rise
    assert np.ptp(trace[-tenth:]) < 0.01 * rise
    assert np.abs(np.diff(trace[-tenth:])).max() < 0.005 * rise
    assert info.last_change() == pytest.approx(np.ptp(trace[-26:]) / rise)
    assert info.last_change() < 0.01
    # The trace is the value of the image itself (no jitter): its last point is the final value.
    assert trace[-1] == pytest.approx(info.final_activation, rel=1e-4)
    # What it maximized is the logit, said in words, and it is the logit computed by hand.
    assert info.value_name == "logit" and "before its softmax" in info.objective_name
    assert "class 3" in info.objective_name
    assert _logits(digits, info.image[None])[0, 3] == pytest.approx(info.final_activation, rel=1e-3)


def test_hidden_channel_ascent_settles_and_names_the_mean(digits):
    info = ft.activation_maximization_info(digits, "relu_2", 11, steps=128)
    assert info.value_name == "mean activation" and "channel 11" in info.objective_name
    assert info.last_change() < 0.02
    assert info.objective[-1] > 3 * info.start_activation


def test_default_regularization_follows_the_image_size(digits, shapes):
    assert ft.default_regularization(digits) == {"jitter": 0, "blur_sigma": 0.5}
    assert ft.default_regularization(shapes) == {"jitter": 2, "blur_sigma": 1.6}


def test_gaussian_kernel_sums_to_one_and_fits_the_image():
    kernel = ft._gaussian_kernel(1.0, 32, 32, 3)
    assert kernel.shape == (7, 7, 3, 1)
    np.testing.assert_allclose(kernel.sum(axis=(0, 1)), 1.0, rtol=1e-6)
    assert kernel[3, 3, 0, 0] == kernel.max()
    # A radius of 3 sigma = 9 pixels would not fit the reflect padding of an 8x8 image: it is 7.
    assert ft._gaussian_kernel(3.0, 8, 8, 1).shape == (15, 15, 1, 1)
    assert ft._gaussian_kernel(0.0, 8, 8, 1).shape == (1, 1, 1, 1)


def test_regularizers_and_seed_change_the_result(digits):
    settings = {"steps": 16, "jitter": 1, "blur_every": 4, "total_variation": 0.02}
    base = ft.activation_maximization_info(digits, "relu_2", 5, **settings)
    again = ft.activation_maximization_info(digits, "relu_2", 5, **settings)
    assert again == base  # seeded
    for change in ({"jitter": 0}, {"blur_every": 0}, {"total_variation": 0.0}, {"seed": 1}):
        other = ft.activation_maximization_info(digits, "relu_2", 5, **(settings | change))
        assert np.abs(other.image - base.image).max() > 1e-3, change


def test_custom_input_range_is_respected(digits):
    info = ft.activation_maximization_info(digits, "conv_2", 0, steps=24, input_range=(0.2, 0.4))
    assert info.input_range == (0.2, 0.4)
    assert info.image.min() >= 0.2 and info.image.max() <= 0.4
    assert info.final_activation > info.start_activation


def test_probability_score_is_the_softmax_output(digits):
    info = ft.activation_maximization_info(digits, None, 7, steps=12, score="probability")
    assert np.all((info.objective >= 0) & (info.objective <= 1))
    probability = np.asarray(digits(info.image[None], training=False))[0, 7]
    assert info.final_activation == pytest.approx(probability, rel=1e-4, abs=1e-6)
    assert info.final_activation > info.start_activation and info.score == "probability"


def test_steps_are_capped_by_the_environment(digits, monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "5")
    info = ft.activation_maximization_info(digits, "relu_1", 0)
    assert info.steps == 5 and info.objective.shape == (5,)


def test_separable_1d_maps_are_listed_and_caches_let_models_go():
    import gc
    import weakref

    keras.utils.set_random_seed(6)
    model = keras.Sequential(
        [
            keras.Input((10, 2)),
            keras.layers.SeparableConv1D(3, 3, name="separable"),
            keras.layers.Flatten(name="flat"),
        ]
    )
    assert ft.feature_map_layers(model) == ["separable"]
    x = np.ones((1, 10, 2), dtype="float32")
    assert ft.feature_maps_info(model, x, "separable").maps.shape == (3, 1, 8)
    assert model in ft._TAPPED
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None  # the cache of tapped models does not keep a model alive


def test_every_digits_channel_rises_above_the_real_mean(digits, digit_samples):
    infos = [
        ft.activation_maximization_info(digits, "relu_2", unit, steps=STEPS)
        for unit in range(0, 32, 4)
    ]
    real = _channel_means(digits, "relu_2", digit_samples.x).mean(axis=0)[::4]
    final = np.array([info.final_activation for info in infos])
    start = np.array([info.start_activation for info in infos])
    assert np.all(final > start) and np.all(final > real)
    assert np.median(final / real) > 2


def test_unsupported_inputs_and_bad_arguments(digits):
    keras.utils.set_random_seed(0)
    tokens = keras.Sequential(
        [
            keras.Input((6,), dtype="int32"),
            keras.layers.Embedding(10, 4),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    with pytest.raises(UnsupportedModelError, match="token ids"):
        ft.activation_maximization_info(tokens, None, 0, steps=2)
    with pytest.raises(UnsupportedModelError, match="token ids"):
        ft.activation_layers(tokens)
    layers = ft.activation_layers(digits)
    assert layers[0] == "conv_1" and layers[-1] == "probabilities" and "dropout" not in layers
    series = keras.Sequential([keras.Input((14, 6)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    assert "images" in ft.reason(series)
    assert ft.reason(digits) is None
    assert ft.reason(tiny_cnn()) is None
    with pytest.raises(InputError, match="from 0 to 15"):
        ft.activation_maximization_info(digits, "relu_1", 16, steps=2)
    with pytest.raises(InputError, match="layer of the model"):
        ft.activation_maximization_info(digits, "nope", 0, steps=2)
    with pytest.raises(InputError, match="low < high"):
        ft.activation_maximization_info(digits, "relu_1", 0, steps=2, input_range=(1, 0))

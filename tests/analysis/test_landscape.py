"""neurogenesis.analysis.landscape: planes, lines and sharpness, checked against numbers computed
another way.

A linear regression with the mean squared error is a quadratic in its weights, so every grid value,
every point on a line and the Hessian's top eigenvalue have closed forms in NumPy; classifiers are
checked against the model's own forward pass at the same weights.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from neurogenesis.analysis import landscape
from neurogenesis.analysis.landscape import (
    LandscapeEvaluator,
    estimated_seconds,
    filter_axes,
    flat_direction,
    interpolation_info,
    landscape_info,
    pca_directions,
    preview_indices,
    random_directions,
    sharpness_info,
)
from neurogenesis.errors import InputError
from neurogenesis.testing import tiny_cnn, tiny_data, tiny_dense_model

NUM_FEATURES = 3


def _keras():
    import keras

    return keras


@pytest.fixture(scope="module")
def regression():
    """y = x @ w + b + noise, and a Dense(1) model at weights near (not at) the least squares fit."""
    keras = _keras()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(96, NUM_FEATURES)).astype("float32")
    y = (x @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=96)).astype("float32")
    model = keras.Sequential([keras.Input((NUM_FEATURES,)), keras.layers.Dense(1, name="linear")])
    model.layers[0].set_weights(
        [np.array([[1.2], [-1.7], [0.8]], "float32"), np.array([0.1], "float32")]
    )
    return model, x, y


def _mse(x, y, kernel, bias):
    prediction = x.astype(np.float64) @ kernel.reshape(-1).astype(np.float64) + float(bias[0])
    return float(np.mean((prediction - y.astype(np.float64)) ** 2))


@pytest.mark.parametrize("bias_mode", ["zero", "random", "weights"])
def test_every_grid_value_is_the_quadratic_recomputed(regression, bias_mode):
    model, x, y = regression
    info = landscape_info(
        model, x, y, loss="mse", resolution=7, span=1.5, seed=4, bias_mode=bias_mode
    )
    kernel, bias = (w.numpy() for w in model.trainable_variables)
    size = kernel.size
    dx, dy = info.direction_x, info.direction_y
    assert dx.shape == dy.shape == (size + 1,)
    expected = np.empty((7, 7))
    for i, a in enumerate(info.alphas):
        for j, b in enumerate(info.betas):
            moved = np.concatenate([kernel.ravel(), bias]) + a * dx + b * dy
            expected[i, j] = _mse(x, y, moved[:size], moved[size:])
    np.testing.assert_allclose(info.loss, expected, rtol=1e-5)
    np.testing.assert_allclose(info.alphas, np.linspace(-1.5, 1.5, 7))
    assert info.center == (3, 3) and info.complete
    np.testing.assert_allclose(info.trained_values, info.values[:, 3, 3], rtol=1e-6)
    if bias_mode == "zero":
        assert dx[size:] == 0 and dy[size:] == 0
    elif bias_mode == "weights":
        np.testing.assert_array_equal(dx[size:], bias)
    else:
        assert dx[size] != 0 and abs(abs(dx[size]) - abs(bias[0])) < 1e-6  # scaled to |b|


def test_the_model_is_never_changed(regression):
    model, x, y = regression
    before = [w.numpy().copy() for w in model.weights]
    landscape_info(model, x, y, loss="mse", resolution=5)
    sharpness_info(model, x, y, loss="mse", iterations=3)
    for old, new in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(old, new.numpy())


def test_filter_normalization_matches_each_filter_of_the_weights():
    keras = _keras()
    inputs = keras.Input((6,), dtype="int32")
    h = keras.layers.Embedding(20, 8, name="embedding")(inputs)
    h = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(h, h)
    h = keras.layers.Conv1D(5, 3, name="conv")(h)
    h = keras.layers.BatchNormalization(name="norm")(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    outputs = keras.layers.Dense(3, name="dense")(h)
    model = keras.Model(inputs, outputs)
    dx, dy = random_directions(model, seed=1)
    assert len(dx) == len(model.trainable_variables)
    checked = set()
    for variable, d_x, d_y in zip(model.trainable_variables, dx, dy, strict=True):
        w = variable.numpy()
        assert d_x.shape == w.shape
        axes = filter_axes(variable.path, w.shape)
        if axes is None:
            assert not d_x.any() and not d_y.any(), variable.path  # biases, BN: zero by default
            continue
        for d in (d_x, d_y):
            np.testing.assert_allclose(
                np.sqrt((d.astype(np.float64) ** 2).sum(axis=axes)),
                np.sqrt((w.astype(np.float64) ** 2).sum(axis=axes)),
                rtol=1e-4,
                err_msg=variable.path,
            )
        checked.add(variable.path.split("/")[-2] if "mha" in variable.path else variable.path)
    # A row of the embedding is a token; q/k/v kernels (dim, heads, key_dim) have one filter per
    # head and key dimension; the conv's and the dense's filters are their last axis.
    assert filter_axes("embedding/embeddings", (20, 8)) == (1,)
    assert filter_axes("mha/query/kernel", (8, 2, 4)) == (0,)
    assert filter_axes("mha/attention_output/kernel", (2, 4, 8)) == (0, 1)
    assert filter_axes("conv/kernel", (3, 8, 5)) == (0, 1)
    assert filter_axes("dense/bias", (3,)) is None
    assert {"query", "key", "value", "attention_output", "conv/kernel", "dense/kernel"} <= checked
    # The same seed gives the same directions; another seed others.
    again, _ = random_directions(model, seed=1)
    other, _ = random_directions(model, seed=2)
    np.testing.assert_array_equal(flat_direction(dx), flat_direction(again))
    assert not np.allclose(flat_direction(dx), flat_direction(other))


def test_layer_and_no_normalization():
    model = tiny_dense_model()
    weights = [v.numpy() for v in model.trainable_variables]
    layer, _ = random_directions(model, normalization="layer", bias_mode="random")
    for d, w in zip(layer, weights, strict=True):
        assert np.linalg.norm(d) == pytest.approx(np.linalg.norm(w), rel=1e-4)
    raw, _ = random_directions(model, normalization="none", seed=0)
    expected = np.random.default_rng(0).standard_normal(weights[0].shape)
    np.testing.assert_allclose(raw[0], expected, rtol=1e-6)
    with pytest.raises(InputError, match="normalization"):
        random_directions(model, normalization="unit")


def test_classifier_values_are_the_models_own_at_those_weights():
    keras = _keras()
    model = tiny_cnn()
    x = np.random.default_rng(0).uniform(size=(40, 8, 8, 1)).astype("float32")
    y = np.arange(40) % 10
    model(x[:2])
    # Moving statistics away from 0/1 so inference mode is visible.
    norm = model.get_layer("norm")
    norm.moving_mean.assign(np.full(4, 0.3, "float32"))
    norm.moving_variance.assign(np.full(4, 2.0, "float32"))
    info = landscape_info(
        model, x, y, loss="sparse_categorical_crossentropy", metrics=("accuracy",), resolution=5
    )
    assert info.metric_names == ("loss", "accuracy")
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    loss = keras.losses.SparseCategoricalCrossentropy()
    trainable = [v.numpy() for v in model.trainable_variables]
    sizes = [w.size for w in trainable]
    for i, j in [(2, 2), (0, 4), (3, 1)]:
        offset = info.alphas[i] * info.direction_x + info.betas[j] * info.direction_y
        parts = np.split(offset, np.cumsum(sizes)[:-1])
        for variable, w, part in zip(clone.trainable_variables, trainable, parts, strict=True):
            variable.assign(w + part.reshape(w.shape))
        probabilities = clone(x, training=False).numpy()
        assert info.loss[i, j] == pytest.approx(float(loss(y, probabilities)), rel=1e-4)
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y))
        assert info.metric("accuracy")[i, j] == pytest.approx(accuracy)
    assert pickle.loads(pickle.dumps(info)) == info


def test_preview_comes_first_and_is_refined_in_place(regression):
    model, x, y = regression
    partials = []
    info = landscape_info(
        model,
        x,
        y,
        loss="mse",
        resolution=21,
        chunk_points=100,
        on_partial=lambda partial, fraction: partials.append((partial, fraction)),
    )
    assert partials, "a preview is reported before the grid is done"
    preview, fraction = partials[0]
    coarse = preview_indices(21)
    assert 10 in coarse and len(coarse) == landscape.PREVIEW_POINTS_PER_SIDE
    assert fraction == pytest.approx(len(coarse) ** 2 / 441)
    assert not preview.complete and np.isnan(preview.loss).sum() == 441 - len(coarse) ** 2
    np.testing.assert_array_equal(
        preview.loss[np.ix_(coarse, coarse)], info.loss[np.ix_(coarse, coarse)]
    )
    fractions = [f for _, f in partials]
    assert fractions == sorted(fractions) and fractions[-1] < 1
    assert not np.isnan(info.loss).any()


def test_pca_directions_and_the_projected_path():
    rng = np.random.default_rng(0)
    final = [rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
    u, v = np.zeros(15), np.zeros(15)
    u[0], v[5] = 1.0, 1.0
    base = flat_direction(final)
    # A path in the plane (u, v) ending at the final weights: PCA must find that plane.
    coefficients = [(-4.0, 1.0), (-3.0, 0.2), (-2.0, -0.5), (-1.0, -0.2), (0.0, 0.0)]
    path = []
    for a, b in coefficients:
        flat = base + a * u + b * v
        path.append([flat[:12].reshape(4, 3), flat[12:]])
    dx, dy, ratio = pca_directions(path, final)
    assert np.linalg.norm(dx) == pytest.approx(1) and np.linalg.norm(dy) == pytest.approx(1)
    assert abs(float(dx @ dy)) < 1e-6
    # Both directions lie in span(u, v).
    for d in (dx, dy):
        assert abs(d[0]) ** 2 + abs(d[5]) ** 2 == pytest.approx(1, abs=1e-6)
    assert ratio.sum() == pytest.approx(1) and ratio[0] > ratio[1]
    projected = landscape._project(path, final, dx, dy)
    rebuilt = projected @ np.stack([dx, dy])
    np.testing.assert_allclose(rebuilt, [flat_direction(p) - base for p in path], atol=1e-5)
    assert projected[0, 0] < 0  # the sign convention: the path starts on the left
    with pytest.raises(InputError, match="at least 2 checkpoints"):
        pca_directions([final, final], final)


def test_pca_plane_covers_the_trajectory_and_values_there_are_exact(regression):
    model, x, y = regression
    kernel, bias = (w.numpy() for w in model.weights)
    rng = np.random.default_rng(1)
    checkpoints = [
        (f"epoch {k}", [kernel + rng.normal(size=kernel.shape).astype("float32") * s, bias + s])
        for k, s in enumerate((0.9, 0.5, 0.2))
    ]
    info = landscape_info(
        model, x, y, loss="mse", directions="pca", checkpoints=checkpoints, resolution=9
    )
    assert info.directions == "pca" and info.seed is None
    assert info.trajectory.shape == (3, 2)
    assert info.trajectory_labels == ("epoch 0", "epoch 1", "epoch 2")
    assert info.alphas[0] <= info.trajectory[:, 0].min() and info.alphas[-1] >= 0
    assert info.betas[0] <= info.trajectory[:, 1].min() and info.betas[-1] >= 0
    for (_, weights), expected in zip(checkpoints, info.trajectory_values[0], strict=True):
        assert expected == pytest.approx(_mse(x, y, weights[0], weights[1]), rel=1e-5)
    # The trained weights are not a node of this grid; their loss is measured all the same.
    assert info.center is None
    assert info.trained_values[0] == pytest.approx(_mse(x, y, kernel, bias), rel=1e-5)
    i, j = 4, 6
    moved = (
        np.concatenate([kernel.ravel(), bias])
        + info.alphas[i] * info.direction_x
        + info.betas[j] * info.direction_y
    )
    assert info.loss[i, j] == pytest.approx(_mse(x, y, moved[:3], moved[3:]), rel=1e-5)
    with pytest.raises(InputError, match="checkpoints"):
        landscape_info(model, x, y, loss="mse", directions="pca")


def test_interpolation_ends_are_the_two_models_batch_norm_statistics_included():
    keras = _keras()
    x = np.random.default_rng(0).uniform(size=(32, 8, 8, 1)).astype("float32")
    y = np.arange(32) % 10
    start_model, end_model = tiny_cnn(), tiny_cnn()
    start_model(x[:1]), end_model(x[:1])
    end_model.get_layer("norm").moving_mean.assign(np.full(4, 0.5, "float32"))
    start = [w.numpy() for w in start_model.weights]
    info = interpolation_info(
        end_model,
        x,
        y,
        start,
        loss="sparse_categorical_crossentropy",
        metrics=("accuracy",),
        resolution=9,
        t_range=(0.0, 1.0),
        start_label="start",
    )
    loss = keras.losses.SparseCategoricalCrossentropy()
    assert info.t[0] == 0 and info.t[-1] == 1
    for model, value in ((start_model, info.values[0, 0]), (end_model, info.values[0, -1])):
        assert value == pytest.approx(float(loss(y, model(x, training=False))), rel=1e-4)
    middle = keras.models.clone_model(end_model)
    middle.set_weights(
        [0.5 * a + 0.5 * b for a, b in zip(start, end_model.get_weights(), strict=True)]
    )
    assert info.values[0, 4] == pytest.approx(float(loss(y, middle(x, training=False))), rel=1e-4)
    distance = np.sqrt(
        sum(
            float(np.sum((a.numpy() - b.numpy()) ** 2))
            for a, b in zip(
                start_model.trainable_variables, end_model.trainable_variables, strict=True
            )
        )
    )
    assert info.distance == pytest.approx(distance, rel=1e-5)


def test_interpolation_on_the_quadratic(regression):
    model, x, y = regression
    start = [np.zeros((NUM_FEATURES, 1), "float32"), np.zeros(1, "float32")]
    info = interpolation_info(model, x, y, start, loss="mse", resolution=11)
    kernel, bias = (w.numpy() for w in model.weights)
    for t, value in zip(info.t, info.values[0], strict=True):
        assert value == pytest.approx(_mse(x, y, t * kernel, t * bias), rel=1e-5)
    assert info.t[0] == pytest.approx(-0.5) and info.t[-1] == pytest.approx(1.5)


def test_sharpness_is_the_largest_eigenvalue_of_the_quadratics_hessian(regression):
    model, x, y = regression
    info = sharpness_info(model, x, y, loss="mse", iterations=100)
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1).astype(np.float64)
    hessian = 2.0 * design.T @ design / len(x)
    expected = float(np.linalg.eigvalsh(hessian).max())
    assert info.eigenvalue == pytest.approx(expected, rel=1e-3)
    assert info.converged and info.iterations < 100
    assert info.num_parameters == NUM_FEATURES + 1 and info.num_samples == len(x)


def test_sharpness_on_a_classifier_matches_a_finite_difference():
    model = tiny_dense_model()
    x, y = tiny_data()
    info = sharpness_info(model, x, y, loss="sparse_categorical_crossentropy", iterations=60)
    # v'Hv along the top eigenvector from a central second difference of the loss.
    evaluator = LandscapeEvaluator(model, x, y, loss="sparse_categorical_crossentropy")
    hvp = evaluator.hessian_vector_function()
    rng = np.random.default_rng(0)
    vector = [rng.standard_normal(w.shape).astype("float32") for w in evaluator.trainable]
    for _ in range(200):
        products = [np.asarray(p) for p in hvp(vector)[0]]
        size = np.sqrt(sum(float(np.sum(p * p)) for p in products))
        vector = [p / size for p in products]
    step = 1e-2
    values = evaluator.evaluate(np.array([[-step], [0.0], [step]]), [vector])[:, 0]
    curvature = (values[0] - 2 * values[1] + values[2]) / step**2
    assert info.eigenvalue == pytest.approx(curvature, rel=0.05)


def test_bad_input_is_explained(regression):
    model, x, y = regression
    with pytest.raises(InputError, match="no compiled loss"):
        landscape_info(model, x, y, loss=None)
    with pytest.raises(InputError, match="Unknown loss"):
        landscape_info(model, x, y, loss="not_a_loss")
    with pytest.raises(InputError, match="resolution"):
        landscape_info(model, x, y, loss="mse", resolution=1)
    with pytest.raises(InputError, match="span"):
        landscape_info(model, x, y, loss="mse", span=float("nan"))
    with pytest.raises(InputError, match="targets"):
        LandscapeEvaluator(model, x, y[:-3], loss="mse")
    with pytest.raises(InputError, match="direction kind"):
        landscape_info(model, x, y, loss="mse", directions="hessian")


def test_overflowing_points_are_blank_with_a_note(regression):
    model, x, y = regression
    info = landscape_info(model, x * 1e18, y, loss="mse", resolution=5, span=1e6)
    assert np.isnan(info.loss).any()
    assert any("overflowed" in note for note in info.notes)


def test_metrics_that_cannot_be_evaluated_are_named(regression):
    model, x, y = regression
    info = landscape_info(model, x, y, loss="mse", metrics=("mae", "rmse"), resolution=3)
    assert info.metric_names == ("loss", "mae")
    assert any("rmse" in note for note in info.notes)
    kernel, bias = (w.numpy() for w in model.weights)
    mae = float(np.mean(np.abs(x @ kernel.ravel() + bias[0] - y)))
    assert info.metric("mae")[1, 1] == pytest.approx(mae, rel=1e-5)


def test_past_the_ends_statistics_keep_the_nearer_ends_values():
    keras = _keras()
    x = np.random.default_rng(0).uniform(size=(24, 8, 8, 1)).astype("float32")
    y = np.arange(24) % 10
    start_model, end_model = tiny_cnn(), tiny_cnn()
    start_model(x[:1]), end_model(x[:1])
    # Extrapolating 4.0 -> 0.5 past t = 1 would make the variance negative (NaN outputs).
    start_model.get_layer("norm").moving_variance.assign(np.full(4, 4.0, "float32"))
    end_model.get_layer("norm").moving_variance.assign(np.full(4, 0.5, "float32"))
    start = [w.numpy() for w in start_model.weights]
    info = interpolation_info(
        end_model,
        x,
        y,
        start,
        loss="sparse_categorical_crossentropy",
        resolution=5,
        t_range=(-1.0, 2.0),
    )
    assert np.isfinite(info.values).all()
    # t = 2: trainable weights extrapolated, statistics those of the end model.
    beyond = keras.models.clone_model(end_model)
    beyond.set_weights(end_model.get_weights())
    for variable, a, b in zip(
        beyond.trainable_variables,
        start_model.trainable_variables,
        end_model.trainable_variables,
        strict=True,
    ):
        variable.assign(2.0 * b.numpy() - a.numpy())
    loss = keras.losses.SparseCategoricalCrossentropy()
    assert info.values[0, -1] == pytest.approx(float(loss(y, beyond(x, training=False))), rel=1e-4)


def test_targets_and_suggested_losses():
    keras = _keras()
    inputs = keras.Input((4, 4, 1))
    autoencoder = keras.Model(inputs, keras.layers.Conv2D(1, 1)(inputs))
    x = np.zeros((6, 4, 4, 1), "float32")
    labels = np.arange(6)
    for y in (None, labels):
        targets, kind = landscape.landscape_targets(autoencoder, x, y)
        assert kind == "inputs" and targets is x
        assert landscape.suggested_loss(autoencoder, targets, kind) == "mse"
    # A denoiser trained against clean images: y has the output's shape, so y is the target.
    clean = np.ones_like(x)
    assert landscape.landscape_targets(autoencoder, x, clean)[1] == "labels"
    classifier = tiny_dense_model()
    xs, ys = tiny_data()
    targets, kind = landscape.landscape_targets(classifier, xs, ys)
    assert kind == "labels" and targets is ys
    assert landscape.suggested_loss(classifier, ys, kind) == "sparse_categorical_crossentropy"
    one_hot = np.eye(3, dtype="int64")[ys]
    assert landscape.suggested_loss(classifier, one_hot, kind) == "categorical_crossentropy"
    assert landscape.suggested_loss(classifier, ys.astype("float32"), kind) == "mse"
    with pytest.raises(InputError, match="no labels"):
        landscape.landscape_targets(classifier, xs, None)


def test_sharpness_through_an_embedding():
    """Embedding gradients are IndexedSlices; the Hessian-vector products must still be dense."""
    keras = _keras()
    inputs = keras.Input((5,), dtype="int32")
    h = keras.layers.Embedding(12, 4)(inputs)
    h = keras.layers.GlobalAveragePooling1D()(h)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))
    x = np.random.default_rng(0).integers(0, 12, size=(20, 5)).astype("int32")
    y = np.arange(20) % 2
    info = sharpness_info(model, x, y, loss="sparse_categorical_crossentropy", iterations=20)
    assert np.isfinite(info.eigenvalue) and info.iterations >= 2


def test_labels_win_whenever_they_fit_the_output():
    keras = _keras()
    # One-feature regression: x (N, 1), output (1,), y (N,): y is the target, not x.
    inputs = keras.Input((1,))
    regression = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    x = np.arange(8, dtype="float32").reshape(-1, 1)
    y = 2 * x[:, 0]
    assert landscape.landscape_targets(regression, x, y)[1] == "labels"
    # As many classes as input features, integer labels: class ids, not a reconstruction.
    inputs = keras.Input((3,))
    classifier = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    xs = np.eye(3, dtype="float32")
    ids = np.arange(3)
    # Ambiguous by shape alone: the loss decides (a reconstruction unless it is a crossentropy).
    assert landscape.landscape_targets(classifier, xs, ids)[1] == "inputs"
    found = landscape.landscape_targets(classifier, xs, ids, "sparse_categorical_crossentropy")
    assert found[1] == "labels"
    assert landscape.landscape_targets(classifier, xs, ids, "mse")[1] == "inputs"
    # Class ids against scores of another width than the input: labels, whatever the loss.
    inputs = keras.Input((5,))
    wide = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    assert landscape.landscape_targets(wide, np.zeros((3, 5)), ids)[1] == "labels"


def test_models_the_landscape_cannot_read_are_explained():
    from neurogenesis.testing import tiny_branching_model

    assert landscape.reason(tiny_branching_model()) is None  # several inputs are read
    assert landscape.reason(tiny_dense_model()) is None
    assert "not a Keras 3 model" in landscape.reason(object())


def test_a_binary_classifier_takes_one_label_per_sample():
    keras = _keras()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")  # (N,), as model.fit takes it
    info = landscape_info(
        model, x, y, loss="binary_crossentropy", metrics=("accuracy",), resolution=3
    )
    probabilities = np.asarray(model(x, training=False)).reshape(-1)
    expected = float(keras.losses.BinaryCrossentropy()(y.reshape(-1, 1), probabilities[:, None]))
    assert info.trained_values[0] == pytest.approx(expected, rel=1e-5)
    assert info.metric("accuracy")[1, 1] == pytest.approx(np.mean((probabilities > 0.5) == y))


def test_samples_in_batches_give_the_same_plane_and_sharpness():
    """An ImageNet-sized model gets a few samples per call (the memory budget): batches of 3 over
    64 samples (the last padded) give the same loss, accuracy and curvature as one call."""
    model = tiny_dense_model()
    x, y = tiny_data()
    loss = "sparse_categorical_crossentropy"
    whole = LandscapeEvaluator(model, x, y, loss=loss, metrics=("accuracy",))
    batched = LandscapeEvaluator(model, x, y, loss=loss, metrics=("accuracy",), batch_size=3)
    assert (whole.num_batches, batched.num_batches, batched.batch_size) == (1, 22, 3)
    directions = random_directions(model, seed=3)
    coefficients = np.array([[0.0, 0.0], [0.5, -0.25], [-1.0, 1.0]])
    expected = whole.evaluate(coefficients, directions)
    np.testing.assert_allclose(batched.evaluate(coefficients, directions), expected, rtol=1e-5)
    # The trained point by hand: the mean crossentropy and accuracy of the model's own call.
    probabilities = np.asarray(model(x))
    by_hand = -np.log(probabilities[np.arange(len(y)), y]).mean()
    accuracy = (probabilities.argmax(axis=1) == y).mean()
    np.testing.assert_allclose(expected[0], [by_hand, accuracy], rtol=1e-5)
    sharp = sharpness_info(model, None, None, evaluator=whole, iterations=30)
    assert sharpness_info(model, None, None, evaluator=batched, iterations=30).eigenvalue == (
        pytest.approx(sharp.eigenvalue, rel=1e-4)
    )


def test_the_batch_follows_the_memory_budget(monkeypatch):
    """The default batch is attribution's chunk_rows with the sample cap: every sample at once
    for a small model, budget // row bytes under a tight budget."""
    from neurogenesis.analysis.attribution import row_bytes
    from neurogenesis.analysis.graph import graph_layers

    model = tiny_dense_model()
    x, y = tiny_data(num_samples=300)
    loss = "sparse_categorical_crossentropy"
    assert LandscapeEvaluator(model, x, y, loss=loss).num_batches == 1  # 300 > attribution's 256
    per_row = row_bytes(graph_layers(model), x.shape[1:])
    monkeypatch.setenv("NEUROGENESIS_ATTRIBUTION_BUDGET_MB", str(per_row * 40 / 2**20))
    evaluator = LandscapeEvaluator(model, x, y, loss=loss)
    assert (evaluator.batch_size, evaluator.num_batches) == (40, 8)


def test_estimated_seconds_by_hand():
    # 0.25 s a batch, 3 batches a point, 21 × 21 points plus the trained weights: 0.75 × 442.
    assert estimated_seconds(0.25, 3, 21) == pytest.approx(331.5)
    assert estimated_seconds(2.0, 1, 5) == pytest.approx(52.0)


# --- Models of several inputs, and a chosen output -------------------------------------------


def _moved_copy(model, directions, coefficients):
    """A copy of ``model`` whose trainable weights are moved by hand to
    ``theta + sum_k coefficients[k] * directions[k]`` (``set_weights`` on a clone)."""
    keras = _keras()
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for k, variable in enumerate(copy.trainable_variables):
        moved = variable.numpy().astype(np.float64)
        for c, direction in zip(coefficients, directions, strict=True):
            moved = moved + c * direction[k]
        variable.assign(moved.astype("float32"))
    return copy


def _sparse_crossentropy(probabilities, labels) -> float:
    p = np.clip(np.asarray(probabilities, np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


@pytest.mark.parametrize("form", ["packed", "dict", "list"])
def test_a_two_input_model_gets_the_loss_of_its_own_call(form):
    """The two-input classifier's plane: the loss at the origin and at a corner of the grid are
    the crossentropy of the model's own call on both inputs, the weights moved by hand."""
    from neurogenesis.io.samples import pack_inputs
    from neurogenesis.testing import two_input_classifier, two_input_samples

    model = two_input_classifier()
    data = two_input_samples(12)
    inputs = {"image": data["image"], "meta": data["meta"]}
    x = {
        "packed": pack_inputs(inputs),
        "dict": inputs,
        "list": [data["image"], data["meta"]],
    }[form]
    targets, kind = landscape.landscape_targets(model, x, data["y"], model.loss)
    assert kind == "labels" and np.array_equal(targets, data["y"])
    info = landscape_info(
        model, x, data["y"], loss="sparse_categorical_crossentropy", resolution=3, span=0.5,
        metrics=("accuracy",), num_samples=10,
    )  # fmt: skip
    assert info.num_samples == 10
    image, meta, y = data["image"][:10], data["meta"][:10], data["y"][:10]
    own = np.asarray(model([image, meta], training=False))
    assert info.trained_values[0] == pytest.approx(_sparse_crossentropy(own, y), abs=1e-5)
    assert info.loss[1, 1] == pytest.approx(info.trained_values[0], abs=1e-6)
    assert info.metric("accuracy")[1, 1] == pytest.approx(np.mean(own.argmax(1) == y))
    dx, dy = random_directions(model, seed=info.seed)
    moved = _moved_copy(model, [dx, dy], [info.alphas[0], info.betas[2]])
    expected = _sparse_crossentropy(np.asarray(moved([image, meta], training=False)), y)
    assert info.loss[0, 2] == pytest.approx(expected, abs=1e-5)


def test_two_inputs_in_batches_give_the_same_plane_line_and_sharpness():
    """Both inputs go through in the same batches (the last padded): the same values as one call."""
    from neurogenesis.testing import two_input_classifier, two_input_samples

    model = two_input_classifier()
    data = two_input_samples(11)
    x = {"image": data["image"], "meta": data["meta"]}
    loss = "sparse_categorical_crossentropy"
    whole = LandscapeEvaluator(model, x, data["y"], loss=loss)
    batched = LandscapeEvaluator(model, x, data["y"], loss=loss, batch_size=4)
    assert (whole.num_batches, batched.num_batches) == (1, 3)
    planes = [
        landscape_info(model, None, None, resolution=3, evaluator=e) for e in (whole, batched)
    ]
    np.testing.assert_allclose(planes[1].values, planes[0].values, atol=1e-5)
    start = [w * 0.5 for w in model.get_weights()]
    lines = [
        interpolation_info(model, None, None, start, resolution=5, evaluator=e)
        for e in (whole, batched)
    ]
    np.testing.assert_allclose(lines[1].values, lines[0].values, atol=1e-5)
    sharp = [sharpness_info(model, None, None, iterations=5, evaluator=e) for e in (whole, batched)]
    assert sharp[1].estimates == pytest.approx(sharp[0].estimates, rel=1e-3)


def test_a_chosen_output_gets_a_loss_from_its_activation_and_labels():
    """``graph.with_output(model, 'head_2')`` (a sigmoid unit of a two-output model, no compiled
    loss): binary crossentropy is suggested for 0/1 labels, and the plane's loss is that of the
    full model's second output on both inputs."""
    from neurogenesis.analysis.graph import with_output
    from neurogenesis.testing import tiny_branching_model

    keras = _keras()
    full = tiny_branching_model()
    rng = np.random.default_rng(4)
    a = rng.normal(size=(16, 6)).astype("float32")
    b = rng.normal(size=(16, 4)).astype("float32")
    y = (a[:, 0] > 0).astype("float32")  # float 0/1 labels
    chosen = with_output(full, "head_2")
    x = {"a": a, "b": b}
    targets, kind = landscape.landscape_targets(chosen, x, y)
    assert kind == "labels"
    assert landscape.suggested_loss(chosen, targets, kind) == "binary_crossentropy"
    info = landscape_info(chosen, x, y, loss="binary_crossentropy", resolution=3)
    probabilities = np.asarray(full([a, b], training=False)[1])
    expected = float(keras.losses.binary_crossentropy(y[:, None], probabilities).numpy().mean())
    assert info.trained_values[0] == pytest.approx(expected, abs=1e-5)
    dx, dy = random_directions(chosen, seed=info.seed)
    moved = _moved_copy(chosen, [dx, dy], [info.alphas[2], info.betas[0]])
    probabilities = np.asarray(moved([a, b], training=False))
    expected = float(keras.losses.binary_crossentropy(y[:, None], probabilities).numpy().mean())
    assert info.loss[2, 0] == pytest.approx(expected, abs=1e-5)


def test_a_model_answering_features_has_no_loss_reason():
    """A backbone's features (a tanh vector, a sequence of vectors) have no loss against class
    ids; class scores (softmax or linear), labels shaped like the output, and an autoencoder do."""
    keras = _keras()
    inputs = keras.Input((5,))
    x = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")
    ids = np.array([0, 1, 2, 0, 1, 2])

    def model(layer):
        return keras.Model(inputs, layer(inputs))

    pooled = model(keras.layers.Dense(4, activation="tanh"))
    said = landscape.loss_reason(pooled, x, ids)
    assert said.startswith("This model's output (shaped (None, 4)) is features")
    assert "(one per sample)" in said and "a task model with a head" in said
    sequence = keras.Model(inputs, keras.layers.Reshape((3, 4))(keras.layers.Dense(12)(inputs)))
    assert "(None, 3, 4)" in landscape.loss_reason(sequence, x, ids)
    assert landscape.loss_reason(model(keras.layers.Dense(3, activation="softmax")), x, ids) is None
    assert landscape.loss_reason(model(keras.layers.Dense(3)), x, ids) is None  # logits
    assert landscape.loss_reason(pooled, x, np.zeros((6, 4), "float32")) is None  # fits
    # Shaped like its input: an autoencoder, compared with x whatever its activation.
    assert landscape.loss_reason(model(keras.layers.Dense(5, activation="relu")), x, ids) is None
    assert landscape.loss_reason(pooled, x, None) is None  # landscape_targets says what is missing


def test_class_ids_out_of_the_outputs_range_are_explained():
    """Sparse crossentropy against one probability: said in words, whichever samples hold the
    label out of range (not an error from inside the compiled graph)."""
    keras = _keras()
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    x = np.ones((6, 3), "float32")
    y = np.array([0, 0, 0, 0, 1, 0])
    with pytest.raises(InputError, match="run from 0 to 1 while the model's output has 1 class"):
        LandscapeEvaluator(model, x, y, loss="sparse_categorical_crossentropy")

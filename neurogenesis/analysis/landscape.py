"""Loss landscapes: the loss (and metrics) around a trained model's weights.

Three pictures, after Li et al. 2018 ("Visualizing the Loss Landscape of Neural Nets") and
Goodfellow et al. 2015 ("Qualitatively characterizing neural network optimization problems"):

- a **plane** through the trained weights ``theta`` spanned by two filter-normalized random
  directions: ``loss[i, j] = L(theta + alphas[i] * dx + betas[j] * dy)``;
- a **plane** spanned by the top two principal directions of the training trajectory (the
  checkpoints a run recorded), where the path itself can be drawn;
- a **line** from one set of weights to another (initial to final, two checkpoints, two models).

Directions run over ``model.trainable_variables`` in order. Filter normalization scales each
filter of a random direction to the norm of the same filter of the weights, so that a step of
1 means "as far as the weights' own size" in every layer, whatever its scale; a "filter" is one
output unit: the slice along a kernel's last axis (Dense, Conv, LSTM, MultiHeadAttention's output
projection), both trailing axes of MultiHeadAttention's query/key/value kernels, and a row of an
embedding table (one token). One-dimensional variables (biases, normalization scales and
offsets) are left out of the direction by default, as in the paper's code.

Speed: every grid point of a chunk is evaluated inside one compiled function
(``model.stateless_call`` under ``tf.function``, ``tf.map_fn`` over the coefficients), so a
point costs one forward pass over the sample subset and no Python, no ``set_weights``, no
``evaluate``. BatchNormalization runs in inference mode with the model's moving statistics.
The user's model is never changed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurogenesis.analysis import graph
from neurogenesis.analysis.architecture import shape_text
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "reason",
    "BIAS_MODES",
    "DEFAULT_NUM_SAMPLES",
    "DEFAULT_RESOLUTION",
    "DEFAULT_SPAN",
    "DIRECTION_KINDS",
    "NORMALIZATIONS",
    "InterpolationInfo",
    "LandscapeEvaluator",
    "LandscapeInfo",
    "SharpnessInfo",
    "check_grid",
    "checkpoint_weights",
    "coarse",
    "estimated_seconds",
    "landscape_arrays",
    "filter_axes",
    "flat_direction",
    "interpolation_info",
    "landscape_info",
    "landscape_targets",
    "loss_reason",
    "LOSS_CHOICES",
    "suggested_loss",
    "pca_directions",
    "preview_indices",
    "random_directions",
    "recorded_checkpoints",
    "sharpness_info",
]

DEFAULT_RESOLUTION = 21
DEFAULT_SPAN = 1.0
DEFAULT_SEED = 0
DEFAULT_NUM_SAMPLES = 512
MAX_NUM_SAMPLES = 4096
MAX_RESOLUTION = 101
DEFAULT_INTERPOLATION_RANGE = (-0.5, 1.5)
DEFAULT_CHUNK_POINTS = 64
PREVIEW_POINTS_PER_SIDE = 7
PCA_MARGIN = 0.25
DEFAULT_POWER_ITERATIONS = 50
POWER_TOLERANCE = 1e-4
DIRECTION_KINDS = ("random", "pca")
NORMALIZATIONS = ("filter", "layer", "none")
BIAS_MODES = ("zero", "weights", "random")
_EPSILON = 1e-10
_ATTENTION_PROJECTIONS = ("query", "key", "value")


# --------------------------------------------------------------------------------------------
# Infos
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LandscapeInfo(ValueEquality):
    """The loss and metrics over a plane of weights.

    Attributes:
        directions: ``'random'`` or ``'pca'``.
        metric_names: ``('loss', *metrics)``; ``values[k]`` belongs to ``metric_names[k]``.
        loss_name: what ``'loss'`` is (``'sparse_categorical_crossentropy'``, ...).
        alphas: (R,) coefficients along ``direction_x``.
        betas: (R,) coefficients along ``direction_y``.
        values: (M, R, R): ``values[k, i, j]`` is metric ``k`` at
            ``theta + alphas[i] * direction_x + betas[j] * direction_y``; NaN where not computed
            yet (a preview) or where the loss overflowed.
        direction_x: the first direction, flat (every trainable variable in order, C order).
        direction_y: the second direction, flat.
        trajectory: (T, 2) the checkpoints projected onto the plane (least squares), relative
            to ``theta``; (0, 2) when no run was given.
        trajectory_labels: (T,) what each checkpoint is (``'initial'``, ``'epoch 3'``).
        trajectory_values: (M, T) the metrics at the checkpoints themselves (off the plane).
        explained_variance: (2,) share of the trajectory's variance along each PCA direction;
            empty for random directions.
        num_samples: samples the values were computed on.
        seed: the random directions' seed (None for PCA).
        normalization: ``'filter'``, ``'layer'`` or ``'none'``.
        bias_mode: what one-dimensional variables get: ``'zero'``, ``'weights'`` or ``'random'``.
        complete: False for a preview.
        trained_values: (M,) the metrics at the trained weights themselves (the origin, which a
            PCA grid need not have as a node).
        notes: anything the reader should know (metrics left out, clipped values).
    """

    directions: str
    metric_names: tuple[str, ...]
    loss_name: str
    alphas: np.ndarray
    betas: np.ndarray
    values: np.ndarray
    direction_x: np.ndarray
    direction_y: np.ndarray
    trajectory: np.ndarray
    trajectory_labels: tuple[str, ...]
    trajectory_values: np.ndarray
    explained_variance: np.ndarray
    num_samples: int
    seed: int | None
    normalization: str
    bias_mode: str
    complete: bool
    trained_values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    notes: tuple[str, ...] = ()

    @property
    def loss(self) -> np.ndarray:
        """(R, R) the loss over the plane."""
        return self.values[0]

    @property
    def center(self) -> tuple[int, int] | None:
        """Grid indices of the trained weights when the grid has a node there."""
        i = np.flatnonzero(np.isclose(self.alphas, 0.0, atol=1e-12))
        j = np.flatnonzero(np.isclose(self.betas, 0.0, atol=1e-12))
        return (int(i[0]), int(j[0])) if len(i) and len(j) else None

    def metric(self, name: str) -> np.ndarray:
        """(R, R) values of one metric."""
        return self.values[_metric_index(self.metric_names, name)]


@dataclass(frozen=True, eq=False)
class InterpolationInfo(ValueEquality):
    """The metrics along the straight line ``(1 - t) * start + t * end`` in weight space.

    Attributes:
        t: (R,) positions; 0 is ``start``, 1 is ``end``.
        metric_names: ``('loss', *metrics)``.
        loss_name: what ``'loss'`` is.
        values: (M, R).
        start_label: what ``t = 0`` is (``'initial weights'``, a model's name).
        end_label: what ``t = 1`` is.
        distance: the L2 distance between the two points over the trainable variables.
        num_samples: samples the values were computed on.
        notes: anything the reader should know.
    """

    t: np.ndarray
    metric_names: tuple[str, ...]
    loss_name: str
    values: np.ndarray
    start_label: str
    end_label: str
    distance: float
    num_samples: int
    notes: tuple[str, ...] = ()

    def metric(self, name: str) -> np.ndarray:
        return self.values[_metric_index(self.metric_names, name)]


@dataclass(frozen=True, eq=False)
class SharpnessInfo(ValueEquality):
    """The Hessian eigenvalue of largest magnitude at the trained weights (power iteration).

    Attributes:
        eigenvalue: the estimate after the last iteration.
        estimates: (K,) the estimate at each iteration (to see it settle).
        iterations: iterations run.
        converged: whether successive estimates agreed to ``POWER_TOLERANCE`` (relative).
        loss_name: the loss differentiated.
        num_samples: samples the loss was averaged over.
        num_parameters: trainable parameters (the Hessian's size).
    """

    eigenvalue: float
    estimates: np.ndarray
    iterations: int
    converged: bool
    loss_name: str
    num_samples: int
    num_parameters: int


def _metric_index(names: Sequence[str], name: str) -> int:
    if name not in names:
        raise InputError(f"Unknown metric {name!r}. Expected one of: {', '.join(names)}.")
    return list(names).index(name)


# --------------------------------------------------------------------------------------------
# Capability
# --------------------------------------------------------------------------------------------


def _layers_or_reason(model: Any) -> tuple[Any, str | None]:
    """The model's traced layers (``graph.graph_layers``), and why no landscape can be drawn for
    it (None when one can); tracing once serves both the check and the evaluator."""
    if not hasattr(model, "stateless_call") or not hasattr(model, "trainable_variables"):
        return (
            None,
            "This is not a Keras 3 model, so its loss cannot be evaluated at other weights.",
        )
    if not model.trainable_variables:
        return None, "The model has no trainable weights: there is no landscape to draw."
    try:
        layers = graph.graph_layers(model)
    except (UnsupportedModelError, InputError) as error:
        return None, str(error)
    return layers, None


def reason(model: Any) -> str | None:
    """Why the landscape cannot be drawn for ``model``, or None when it can."""
    return _layers_or_reason(model)[1]


# --------------------------------------------------------------------------------------------
# Loss and metrics
# --------------------------------------------------------------------------------------------


def _loss_function(loss: str | dict | Callable | None) -> tuple[str, Callable]:
    import keras

    if loss is None:
        raise InputError(
            "The model file holds no compiled loss. Choose one (e.g. "
            "'sparse_categorical_crossentropy' for integer labels, 'mse' for regression)."
        )
    if callable(loss):
        return getattr(loss, "__name__", type(loss).__name__), loss
    if isinstance(loss, dict):
        if loss.get("module", "keras.losses") != "keras.losses":
            raise InputError(f"Only Keras's own losses are evaluated. Received: {loss!r:.120}")
        try:
            function = keras.losses.deserialize(
                {"module": "keras.losses", **{k: v for k, v in loss.items() if k != "module"}}
            )
        except Exception as error:  # Keras raises TypeError/ValueError for unknown configs
            raise InputError(
                f"Could not rebuild the loss {loss.get('class_name')!r}: {error}"
            ) from None
        return _snake(str(loss.get("class_name"))), function
    if isinstance(loss, str):
        try:
            function = keras.losses.get(loss)
        except (ValueError, TypeError):
            function = None
        if function is None:
            raise InputError(
                f"Unknown loss {loss!r}. Expected a Keras loss name such as "
                "'sparse_categorical_crossentropy', 'categorical_crossentropy', "
                "'binary_crossentropy', 'mse' or 'mae'."
            )
        return loss, function
    raise InputError(f"Expected a loss name or function. Received: {type(loss).__name__}")


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def _metric_function(name: str, y: np.ndarray, output_shape: tuple) -> Callable | None:
    """A stateless ``f(y_true, y_pred) -> per-sample values`` for a compiled metric name."""
    import keras
    from keras import ops

    key = name.lower()
    classes = output_shape[-1] if output_shape else 1
    if key in ("accuracy", "acc"):
        if classes == 1:
            key = "binary_accuracy"
        elif y.ndim >= 2 and y.shape[-1] == classes and y.ndim == len(output_shape) + 1:
            key = "categorical_accuracy"
        else:
            key = "sparse_categorical_accuracy"
    if key == "sparse_categorical_accuracy":
        return lambda y_true, y_pred: ops.cast(
            ops.equal(
                ops.cast(ops.reshape(y_true, (-1,)), "int32"),
                ops.cast(ops.argmax(ops.reshape(y_pred, (-1, classes)), axis=-1), "int32"),
            ),
            "float32",
        )
    if key == "rmse" or key == "root_mean_squared_error":
        return None  # not a mean of per-sample values; Keras's own metric is stateful
    # A metric name that is also a loss (mae, mse, mape, crossentropies...) is evaluated with the
    # loss: losses are stateless, while keras.metrics.get returns a stateful Metric object whose
    # call updates running totals (wrong inside a compiled grid).
    try:
        function = keras.losses.get(key)
    except (ValueError, TypeError):
        function = None
    if function is None:
        # Stateless metric functions (binary_accuracy, top_k_categorical_accuracy, ...).
        function = getattr(keras.metrics, key, None)
        if isinstance(function, (type, keras.metrics.Metric)):
            function = None
    return function if callable(function) else None


LOSS_CHOICES = (
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mse",
    "mae",
    "huber",
)
"""Losses offered when a model file holds none (any Keras loss name is accepted)."""


def _fits_exactly(y: np.ndarray, output_shape: tuple) -> bool:
    """Labels shaped like the output (one number against a single output counts)."""
    per_sample = tuple(y.shape[1:])
    return per_sample == output_shape or (per_sample == () and output_shape in ((), (1,)))


def _class_ids(y: np.ndarray, output_shape: tuple) -> bool:
    """Integer labels, one per sample, against a vector of class scores."""
    return (
        y.ndim == 1
        and np.issubdtype(y.dtype, np.integer)
        and len(output_shape) == 1
        and output_shape[0] > 1
    )


def landscape_targets(
    model: Any, x: np.ndarray, y: np.ndarray | None, loss: Any = None
) -> tuple[np.ndarray, str]:
    """What the loss compares the model's output with: ``(targets, 'labels' | 'inputs')``.

    Labels shaped like the output are the targets. An autoencoder's target is its input: when
    the output has the samples' own shape and the labels are not shaped like it (``y`` is None,
    or class ids), the targets are ``x``, unless ``loss`` is a crossentropy (then integer labels
    are class ids). Integer labels against class scores are class ids.

    Raises:
        InputError: no labels, and the output is not shaped like the input.
    """
    layers = graph.graph_layers(model)
    output_shape = tuple(layers.output_shape)
    # A model of several inputs has no one input its output could reconstruct.
    x = np.asarray(x) if len(layers.input_dtypes) == 1 and _plain(x) else None
    y = None if y is None else np.asarray(y)
    if y is not None and _fits_exactly(y, output_shape):
        return y, "labels"
    crossentropy = "crossentropy" in json.dumps(loss, default=str).lower()
    ids = y is not None and _class_ids(y, output_shape)
    if x is not None and output_shape == tuple(x.shape[1:]) and not (ids and crossentropy):
        return x, "inputs"
    if y is None:
        raise InputError(
            "This sample set has no labels (y), and the model's output is not shaped like its "
            "input, so there is nothing to compute a loss against. Choose a set with labels."
        )
    return y, "labels"


# Activations of a layer that makes features (a backbone's pooled output), never class scores.
_FEATURE_ACTIVATIONS = frozenset(
    {"tanh", "relu", "relu6", "gelu", "elu", "selu", "silu", "swish", "leaky_relu", "mish"}
)


def loss_reason(model: Any, x: Any, y: np.ndarray | None, loss: Any = None) -> str | None:
    """Why there is no loss landscape of ``model`` on these labels, in one sentence, or None.

    A backbone's output (a KerasHub ``BertBackbone``'s pooled or sequence output, any model that
    answers features rather than predictions) has no loss against the labels: they are neither
    shaped like the output nor class ids against class scores (a vector out of a softmax,
    sigmoid or linear layer). Without labels, or for an autoencoder, this is None
    (:func:`landscape_targets` says what is missing).
    """
    if y is None:
        return None
    try:
        _, kind = landscape_targets(model, x, y, loss)
    except InputError:
        return None
    layers = graph.graph_layers(model)
    output_shape = tuple(layers.output_shape)
    y = np.asarray(y)
    if kind == "inputs" or _fits_exactly(y, output_shape):
        return None
    if _class_ids(y, output_shape) and layers.output_activation not in _FEATURE_ACTIVATIONS:
        return None
    labels = "one per sample" if y.ndim == 1 else f"shaped {shape_text((None, *y.shape[1:]))}"
    return (
        f"This model's output (shaped {shape_text((None, *output_shape))}) is features, not "
        f"predictions of the labels ({labels}), so there is no loss to draw a landscape of: "
        "open a task model with a head over it (a classifier), or a sample set whose labels "
        "fit the output."
    )


def _plain(x: Any) -> bool:
    """Whether the samples are one plain array (not a packed set, dict or list of inputs)."""
    return not isinstance(x, (dict, list, tuple)) and np.asarray(x).dtype.names is None


def suggested_loss(model: Any, targets: np.ndarray, kind: str) -> str:
    """A sensible loss for a model saved without one: reconstruction error for autoencoders,
    crossentropy for class ids against probabilities, mean squared error otherwise."""
    if kind == "inputs":
        return "mse"
    layers = graph.graph_layers(model)
    output_shape = tuple(layers.output_shape)
    targets = np.asarray(targets)
    classes = output_shape[-1] if output_shape else 1
    integer = np.issubdtype(targets.dtype, np.integer)
    if integer and classes and classes > 1 and targets.ndim == 1:
        return "sparse_categorical_crossentropy"
    # A probability output (a sigmoid or softmax activation) against labels between 0 and 1
    # is a classifier's, whatever the labels' dtype (a chosen output of a model of several
    # outputs has no compiled loss of its own).
    unit = targets.size > 0 and bool(np.all((targets >= 0) & (targets <= 1)))
    if classes == 1 and (integer or (unit and layers.output_activation == "sigmoid")):
        return "binary_crossentropy"
    exact = targets.shape[1:] == output_shape and classes and classes > 1
    if exact and (integer or (unit and layers.output_activation == "softmax")):
        return "categorical_crossentropy"
    return "mse"


# --------------------------------------------------------------------------------------------
# Directions
# --------------------------------------------------------------------------------------------


def filter_axes(path: str, shape: Sequence[int]) -> tuple[int, ...] | None:
    """The axes a filter's norm is taken over for a variable, or None for a 1-D variable.

    A filter is one output unit: every axis but the last for a kernel (Dense ``(in, out)``,
    Conv ``(kh, kw, in, out)``, LSTM ``(in, 4 * units)``); the first axis only for
    MultiHeadAttention's query/key/value kernels ``(dim, heads, key_dim)`` (a unit is one head's
    one key dimension); every axis but the first for an embedding table (a row is a token).
    """
    ndim = len(shape)
    if ndim <= 1:
        return None
    name = path.rsplit("/", 1)[-1]
    parent = path.rsplit("/", 2)[-2] if path.count("/") >= 1 else ""
    if name == "embeddings":
        return tuple(range(1, ndim))
    if ndim == 3 and name == "kernel" and parent in _ATTENTION_PROJECTIONS:
        return (0,)
    return tuple(range(ndim - 1))


def _normalized(
    direction: list[np.ndarray],
    weights: list[np.ndarray],
    paths: list[str],
    normalization: str,
    bias_mode: str,
) -> list[np.ndarray]:
    out = []
    for d, w, path in zip(direction, weights, paths, strict=True):
        axes = filter_axes(path, w.shape)
        if axes is None:
            if bias_mode == "zero":
                d = np.zeros_like(w)
            elif bias_mode == "weights":
                d = w.copy()
            else:
                d = d * (np.linalg.norm(w) / (np.linalg.norm(d) + _EPSILON))
        elif normalization == "filter":
            scale = np.sqrt(np.sum(w * w, axis=axes, keepdims=True)) / (
                np.sqrt(np.sum(d * d, axis=axes, keepdims=True)) + _EPSILON
            )
            d = d * scale
        elif normalization == "layer":
            d = d * (np.linalg.norm(w) / (np.linalg.norm(d) + _EPSILON))
        out.append(d.astype(np.float32))
    return out


def _check_choice(value: str, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise InputError(f"Unknown {what} {value!r}. Expected one of: {', '.join(choices)}.")


def random_directions(
    model: Any,
    *,
    seed: int = DEFAULT_SEED,
    normalization: str = "filter",
    bias_mode: str = "zero",
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two Gaussian directions over ``model.trainable_variables``, normalized (Li et al. 2018).

    Args:
        model: the Keras model.
        seed: the random seed (the same seed gives the same directions).
        normalization: ``'filter'`` (each filter scaled to the norm of the weights' filter),
            ``'layer'`` (each variable to the variable's norm) or ``'none'``.
        bias_mode: one-dimensional variables (biases, normalization parameters): ``'zero'``
            (left out), ``'weights'`` (a copy of the weights, as the paper's code does when they
            are not ignored) or ``'random'`` (random, scaled to the variable's norm).

    Returns:
        ``(direction_x, direction_y)``, each a list of arrays shaped like the variables.
    """
    _check_choice(normalization, NORMALIZATIONS, "normalization")
    _check_choice(bias_mode, BIAS_MODES, "bias mode")
    weights = [np.asarray(v.numpy(), dtype=np.float32) for v in model.trainable_variables]
    paths = [v.path for v in model.trainable_variables]
    rng = np.random.default_rng(seed)
    pair = []
    for _ in range(2):
        raw = [rng.standard_normal(w.shape).astype(np.float32) for w in weights]
        pair.append(_normalized(raw, weights, paths, normalization, bias_mode))
    return pair[0], pair[1]


def flat_direction(direction: Sequence[np.ndarray]) -> np.ndarray:
    """A per-variable direction as one flat float32 array (C order, variables in order)."""
    return np.concatenate([np.ravel(np.asarray(d, dtype=np.float32)) for d in direction])


def _unflatten(flat: np.ndarray, shapes: Sequence[tuple]) -> list[np.ndarray]:
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out


def pca_directions(
    trajectory: Sequence[Sequence[np.ndarray]], final: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top two principal directions of a training path, relative to the final weights.

    As Li et al. 2018 (section 7): the rows ``theta_t - theta_final`` for every checkpoint,
    centered, decomposed by SVD; the directions have unit length.

    Args:
        trajectory: per checkpoint, the trainable variables' values (lists of arrays).
        final: the weights the plane goes through.

    Returns:
        ``(direction_x, direction_y, explained_variance_ratio)``, directions flat.

    Raises:
        InputError: fewer than 3 checkpoints differ from the final weights.
    """
    base = flat_direction(final).astype(np.float64)
    rows = np.stack([flat_direction(point).astype(np.float64) - base for point in trajectory])
    rows = rows[np.linalg.norm(rows, axis=1) > 0]
    if len(rows) < 2:
        raise InputError(
            "PCA directions need a run with at least 2 checkpoints other than the final "
            f"weights; this one has {len(rows)}. Record the run with more checkpoints, or use "
            "random directions."
        )
    centered = rows - rows.mean(axis=0)
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    total = float(np.sum(singular**2)) or 1.0
    ratio = np.zeros(2)
    ratio[: min(2, len(singular))] = (singular[:2] ** 2) / total
    directions = [vt[k] if k < len(vt) else np.zeros_like(base) for k in range(2)]
    # A sign convention so the picture does not flip between runs: the path starts at x < 0.
    first = rows[0]
    directions = [d if float(first @ d) <= 0 else -d for d in directions]
    return directions[0].astype(np.float32), directions[1].astype(np.float32), ratio


def checkpoint_weights(model: Any, arrays: dict[str, np.ndarray], *, label: str = "checkpoint"):
    """A checkpoint's arrays (``variable.path -> array``) in ``model.weights`` order.

    Raises:
        InputError: a variable is missing or has another shape (a checkpoint of another model).
    """
    out = []
    for variable in model.weights:
        value = arrays.get(variable.path)
        if value is None or tuple(np.shape(value)) != tuple(variable.shape):
            found = "missing" if value is None else f"shaped {tuple(np.shape(value))}"
            raise InputError(
                f"The {label} does not fit this model: {variable.path!r} is {found}, the model's is "
                f"{tuple(variable.shape)}. Choose a run of this model."
            )
        out.append(np.asarray(value, dtype=np.float32))
    return out


def recorded_checkpoints(
    model: Any, run_dir: str, *, max_checkpoints: int | None = None
) -> list[tuple[str, list[np.ndarray]]]:
    """A recorded run's checkpoints as ``(label, weights)`` for :func:`landscape_info`, oldest
    first: ``'initial'`` for the weights before training, ``'epoch N'`` (1-based) after.

    Args:
        model: the model the run trained (the checkpoints must fit it).
        run_dir: a run folder written by :class:`neurogenesis.RunRecorder`.
        max_checkpoints: keep this many, evenly spread, first and last always kept.

    Raises:
        InputError: not a recorded run, no checkpoints, or checkpoints of another model.
    """
    from neurogenesis.io.recordings import load_checkpoint_arrays, read_recording

    recording = read_recording(run_dir)
    entries = list(recording.checkpoints)
    if not entries:
        raise InputError(
            f"The run '{recording.path}' has no weight checkpoints. Record it with "
            "RunRecorder(checkpoint_every=...) to draw its path."
        )
    if max_checkpoints is not None and len(entries) > max_checkpoints >= 2:
        keep = np.unique(np.round(np.linspace(0, len(entries) - 1, max_checkpoints)).astype(int))
        entries = [entries[k] for k in keep]
    out = []
    for epoch, path in entries:
        label = "initial" if epoch < 0 else f"epoch {epoch + 1}"
        out.append((label, checkpoint_weights(model, load_checkpoint_arrays(path), label=label)))
    return out


def _trainable_part(model: Any, weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    by_id = {id(v): w for v, w in zip(model.weights, weights, strict=True)}
    return [by_id[id(v)] for v in model.trainable_variables]


def _non_trainable_part(model: Any, weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    by_id = {id(v): w for v, w in zip(model.weights, weights, strict=True)}
    # Random layers' seed states are non-trainable variables but not weights: keep their values.
    return [by_id[id(v)] if id(v) in by_id else v.numpy() for v in model.non_trainable_variables]


# --------------------------------------------------------------------------------------------
# The compiled evaluator
# --------------------------------------------------------------------------------------------


class LandscapeEvaluator:
    """Evaluates the loss and metrics at many weight points inside one compiled function.

    A point is ``base + sum_k coefficients[k] * directions[k]`` over the trainable variables
    (and, for lines through BatchNormalization statistics, the non-trainable ones). Every chunk
    of points is one call: ``tf.map_fn`` over the coefficient rows, each row one
    ``model.stateless_call`` on the whole sample subset in inference mode. A subset larger than
    what fits the memory budget (an ImageNet-sized model on 224×224 photos) goes through in
    batches of ``batch_size`` inside the same call, one batch and one point at a time; the loss
    is the same mean over every sample.

    Args:
        model: the Keras model (never changed).
        x: the samples (a subset: every point runs on all of them at once): one array, or for a
            model of several inputs any form ``graph.model_inputs`` takes (a packed set, a dict
            by input name, a list in input order); every input is batched the same way.
        y: the targets, as the loss expects them.
        loss: a Keras loss name, a serialized ``keras.losses`` object, or a function.
        metrics: compiled metric names; those that cannot be evaluated statelessly are left out
            with a note.
        batch_size: samples per model call; default as many as fit the memory budget
            (``attribution.chunk_rows``, ``$NEUROGENESIS_ATTRIBUTION_BUDGET_MB``).
    """

    def __init__(
        self,
        model: Any,
        x: np.ndarray,
        y: np.ndarray,
        *,
        loss,
        metrics=(),
        batch_size: int | None = None,
    ):
        import tensorflow as tf

        from neurogenesis.analysis.attribution import chunk_rows

        layers, reason = _layers_or_reason(model)
        if reason:
            raise UnsupportedModelError(reason)
        self.model = model
        # One array per model input, in model.inputs order.
        self.inputs = graph.model_inputs(model, x if not _plain(x) else np.asarray(x))
        self.y = np.asarray(y)
        count = len(self.inputs[0])
        if count != len(self.y):
            raise InputError(f"{count} samples but {len(self.y)} targets; expected as many.")
        if count == 0:
            raise InputError("No samples to evaluate the loss on.")
        self.loss_name, self._loss = _loss_function(loss)
        # As asked (a Ray worker builds the same evaluator over its shard of the samples).
        self.loss = loss
        self.metric_requests = tuple(metrics)
        output_shape = tuple(layers.output_shape)
        if output_shape == (1,) and self.y.ndim == 1:
            # One label per sample against an (N, 1) output: model.fit matches the ranks itself,
            # the loss functions evaluated here do not (binary crossentropy refuses).
            self.y = self.y.reshape(-1, 1)
        self._check_loss(output_shape)
        self.notes: list[str] = []
        names, functions = [], []
        for name in metrics:
            function = _metric_function(name, self.y, output_shape)
            if function is None:
                self.notes.append(f"The metric {name!r} is not evaluated on the landscape.")
            elif name not in names and name != "loss":
                names.append(name)
                functions.append(function)
        self.metric_names = ("loss", *names)
        self._metrics = functions
        self.trainable = [np.asarray(v.numpy(), np.float32) for v in model.trainable_variables]
        self.non_trainable = [v.numpy() for v in model.non_trainable_variables]
        self.shapes = [tuple(w.shape) for w in self.trainable]
        self._tf = tf
        self._functions: dict[tuple[int, bool], Callable] = {}
        if batch_size is None:
            # One row is every input's values of one sample.
            row = (sum(int(np.prod(a.shape[1:])) for a in self.inputs),)
            batch_size = chunk_rows(layers, row, most=MAX_NUM_SAMPLES)
        self.batch_size = int(max(1, min(int(batch_size), count)))
        self.num_batches = -(-count // self.batch_size)
        self._x_tensor = [tf.constant(a) for a in self.inputs]
        self._y_tensor = tf.constant(self.y)
        if self.num_batches > 1:
            # (batches, batch_size, ...): the last batch padded with the first samples, which
            # weigh 0 in the mean.
            padding = self.num_batches * self.batch_size - count
            weights = np.concatenate([np.ones(count), np.zeros(padding)]).astype(np.float32)

            def batches(values: np.ndarray) -> np.ndarray:
                padded = np.concatenate([values, np.resize(values, (padding, *values.shape[1:]))])
                return padded.reshape(self.num_batches, self.batch_size, *values.shape[1:])

            self._x_tensor = [tf.constant(batches(a)) for a in self.inputs]
            self._y_tensor = tf.constant(batches(self.y))
            self._weights = tf.constant(weights.reshape(self.num_batches, self.batch_size))

    @property
    def num_samples(self) -> int:
        return len(self.y)

    @property
    def x(self) -> np.ndarray | list[np.ndarray]:
        """The samples: the one array of a one-input model, else one array per input."""
        return self.inputs[0] if len(self.inputs) == 1 else self.inputs

    def _call(self, rows: slice) -> Any:
        """The model's eager call on these rows of every input (inference mode)."""
        return self.model(graph.feed(self.model, graph.take(self.inputs, rows)), training=False)

    def _check_loss(self, output_shape: tuple) -> None:
        """The loss on two samples, eagerly: targets the loss cannot compare with the output
        (class ids against a reconstruction, one-hot rows against one probability) are said in
        words here rather than as an error from inside a compiled graph."""
        try:
            output = self._call(slice(0, 2))
            if isinstance(output, (list, tuple)):
                output = output[0]
            if isinstance(output, dict):
                output = next(iter(output.values()))
            value = np.asarray(self._loss(self.y[:2], output))
        except Exception as error:  # TensorFlow raises ValueError or InvalidArgumentError
            first = str(error).strip().splitlines()[-1][:300] if str(error).strip() else ""
            raise InputError(
                f"The loss {self.loss_name!r} cannot compare these targets (shaped "
                f"{tuple(self.y.shape[1:])} per sample) with the model's output (shaped "
                f"{output_shape}). Choose a loss that fits, or a sample set made for this "
                f"model. ({type(error).__name__}: {first})"
            ) from None
        if value.size == 0:
            raise InputError(f"The loss {self.loss_name!r} gave no value for these targets.")
        classes = int(output_shape[-1]) if output_shape and output_shape[-1] else 0
        ids = self.y.ndim <= 2 and np.issubdtype(self.y.dtype, np.integer) and classes
        if "sparse" in self.loss_name and ids and not 0 <= self.y.min() <= self.y.max() < classes:
            # Two samples need not hold the label that is out of range.
            raise InputError(
                f"The loss {self.loss_name!r} reads the labels as class ids, and they run from "
                f"{self.y.min()} to {self.y.max()} while the model's output has {classes} "
                f"class{'es' if classes > 1 else ''}. Choose a loss that fits (binary "
                "crossentropy for one probability), or a sample set made for this model."
            )

    def _output_and_losses(self, trainable, non_trainable, x):
        """The model's (first) output at these weights on ``x`` (one tensor per input), and the
        losses its layers added."""
        output, _, losses = self.model.stateless_call(
            trainable,
            non_trainable,
            graph.feed(self.model, list(x)),
            training=False,
            return_losses=True,
        )
        if isinstance(output, (list, tuple)):
            output = output[0]
        if isinstance(output, dict):
            output = next(iter(output.values()))
        return output, losses

    def _objectives(self, trainable, non_trainable, x, y):
        from keras import ops

        output, losses = self._output_and_losses(trainable, non_trainable, x)
        value = ops.mean(self._loss(y, output))
        for extra in losses:
            value = value + ops.cast(extra, value.dtype)
        values = [ops.cast(value, "float32")]
        values += [ops.cast(ops.mean(metric(y, output)), "float32") for metric in self._metrics]
        return self._tf.stack(values)

    def seconds_per_batch(self) -> float:
        """Seconds one forward pass of one batch takes here (the second of two eager calls, so
        the first call's setup is not counted): the unit of :func:`estimated_seconds`."""
        import time

        part = slice(0, self.batch_size)
        self._call(part)
        start = time.perf_counter()
        self._call(part)
        return time.perf_counter() - start

    def _weighted_sums(self, trainable, non_trainable, x, y, weights):
        """One batch's ``[sum(w * loss), sum(w * metric)..., added losses]`` (per-sample values
        averaged over their own other axes first, so the mean over samples is unchanged)."""
        from keras import ops

        output, losses = self._output_and_losses(trainable, non_trainable, x)
        count = self.batch_size

        def weighted(values):
            values = ops.cast(ops.reshape(values, (count, -1)), "float32")
            return ops.sum(ops.mean(values, axis=1) * weights)

        sums = [weighted(self._loss(y, output))]
        sums += [weighted(metric(y, output)) for metric in self._metrics]
        extra = ops.zeros((), "float32")
        for value in losses:
            extra = extra + ops.cast(value, "float32")
        return self._tf.stack([*sums, extra])

    def _batched_objectives(self, trainable, non_trainable, x, y, weights):
        """:meth:`_objectives` over batches ``x`` (B, batch_size, ...), one batch at a time."""
        tf = self._tf
        sums = tf.map_fn(
            lambda part: self._weighted_sums(trainable, non_trainable, *part),
            (x, y, weights),
            fn_output_signature=tf.float32,
            parallel_iterations=1,
        )
        total = tf.reduce_sum(sums, axis=0)
        values = total[:-1] / tf.reduce_sum(weights)
        # Added losses (regularization) do not depend on the samples: the same in every batch.
        return tf.concat([values[:1] + total[-1] / self.num_batches, values[1:]], axis=0)

    def _function(self, num_directions: int, moves_non_trainable: bool) -> Callable:
        key = (num_directions, moves_non_trainable)
        if key in self._functions:
            return self._functions[key]
        tf = self._tf
        graph_function = tf.function(reduce_retracing=True)

        graph.quiet_retracing()

        def evaluate(base, base_nt, directions, directions_nt, coefficients, x, y):
            def one(row):
                trainable = [
                    b + sum(row[k] * directions[k][i] for k in range(num_directions))
                    for i, b in enumerate(base)
                ]
                if moves_non_trainable:
                    # Statistics (BatchNormalization's moving mean and variance) are interpolated
                    # between the two ends but never extrapolated past them: a variance would
                    # turn negative. Past an end they stay at that end's values.
                    clipped = [tf.clip_by_value(row[k], 0.0, 1.0) for k in range(num_directions)]
                    non_trainable = [
                        b
                        + sum(
                            tf.cast(clipped[k], b.dtype) * directions_nt[k][i]
                            for k in range(num_directions)
                        )
                        for i, b in enumerate(base_nt)
                    ]
                else:
                    non_trainable = base_nt
                if self.num_batches > 1:
                    return self._batched_objectives(trainable, non_trainable, x, y, self._weights)
                return self._objectives(trainable, non_trainable, x, y)

            # One point at a time when the samples come in batches: each point's call already
            # uses the memory budget.
            return tf.map_fn(
                one,
                coefficients,
                fn_output_signature=tf.float32,
                parallel_iterations=1 if self.num_batches > 1 else None,
            )

        self._functions[key] = graph_function(evaluate)
        return self._functions[key]

    def evaluate(
        self,
        coefficients: np.ndarray,
        directions: Sequence[Sequence[np.ndarray]],
        *,
        base: Sequence[np.ndarray] | None = None,
        base_non_trainable: Sequence[np.ndarray] | None = None,
        directions_non_trainable: Sequence[Sequence[np.ndarray]] | None = None,
    ) -> np.ndarray:
        """The metrics at ``base + coefficients @ directions``.

        Args:
            coefficients: (P, K) one row per point.
            directions: K directions, each a list of arrays over the trainable variables.
            base: the trainable variables' values at the origin (default: the model's).
            base_non_trainable: the non-trainable variables' values (default: the model's).
            directions_non_trainable: K directions over the non-trainable variables (a line
                between two models moves their BatchNormalization statistics too).

        Returns:
            (P, M) values, ``M = len(metric_names)``; non-finite values become NaN.
        """
        tf = self._tf
        coefficients = np.asarray(coefficients, dtype=np.float32)
        if coefficients.ndim != 2 or coefficients.shape[1] != len(directions):
            raise InputError("Expected one coefficient per direction for every point.")
        if len(coefficients) == 0:
            return np.zeros((0, len(self.metric_names)), dtype=np.float64)
        base = self.trainable if base is None else base
        base_nt = self.non_trainable if base_non_trainable is None else base_non_trainable
        moves = directions_non_trainable is not None and len(base_nt) > 0
        function = self._function(len(directions), moves)
        values = function(
            [tf.constant(b, tf.float32) for b in base],
            [tf.constant(b) for b in base_nt],
            [[tf.constant(d, tf.float32) for d in direction] for direction in directions],
            [[tf.constant(d) for d in direction] for direction in directions_non_trainable]
            if moves
            else [],
            tf.constant(coefficients),
            self._x_tensor,
            self._y_tensor,
        )
        values = np.asarray(values, dtype=np.float64)
        return np.where(np.isfinite(values), values, np.nan)

    def hessian_vector_function(self) -> Callable:
        """``hvp(vector) -> (Hv, loss)`` at the model's weights (double backpropagation)."""
        tf = self._tf
        base = [tf.constant(b, tf.float32) for b in self.trainable]
        base_nt = [tf.constant(b) for b in self.non_trainable]

        batched = self.num_batches > 1

        def objective(x, y, weights):
            if not batched:
                return self._objectives(base, base_nt, x, y)[0]
            # This batch's share of the mean loss: the batches' shares add up to it, and so do
            # their Hessian-vector products.
            sums = self._weighted_sums(base, base_nt, x, y, weights)
            return sums[0] / self.num_samples + sums[-1] / self.num_batches

        @tf.function(reduce_retracing=True)
        def hvp(vector, x, y, weights):
            with tf.GradientTape() as outer:
                outer.watch(base)
                with tf.GradientTape() as inner:
                    inner.watch(base)
                    value = objective(x, y, weights)
                # Embedding lookups give IndexedSlices: dense tensors for the products below.
                gradients = [
                    None if g is None else tf.convert_to_tensor(g)
                    for g in inner.gradient(value, base)
                ]
                dot = tf.add_n(
                    [
                        tf.reduce_sum(g * v)
                        for g, v in zip(gradients, vector, strict=True)
                        if g is not None
                    ]
                )
            products = [
                tf.convert_to_tensor(p)
                for p in outer.gradient(dot, base, unconnected_gradients="zero")
            ]
            return products, value

        if not batched:
            return lambda vector: hvp(
                [tf.constant(v, tf.float32) for v in vector], self._x_tensor, self._y_tensor, None
            )

        def batched_hvp(vector):
            vector = [tf.constant(v, tf.float32) for v in vector]
            total_products, total_value = None, 0.0
            for k in range(self.num_batches):
                products, value = hvp(
                    vector, [x[k] for x in self._x_tensor], self._y_tensor[k], self._weights[k]
                )
                total_value += value
                total_products = (
                    products
                    if total_products is None
                    else [a + b for a, b in zip(total_products, products, strict=True)]
                )
            return total_products, total_value

        return batched_hvp


# --------------------------------------------------------------------------------------------
# Planes
# --------------------------------------------------------------------------------------------


def preview_indices(resolution: int, points_per_side: int = PREVIEW_POINTS_PER_SIDE) -> np.ndarray:
    """The grid indices of the coarse preview: evenly spaced from edge to edge, with the center
    (the trained weights) whenever the grid has one."""
    if resolution <= points_per_side:
        return np.arange(resolution)
    indices = np.round(np.linspace(0, resolution - 1, points_per_side)).astype(int)
    if resolution % 2:
        indices = np.append(indices, (resolution - 1) // 2)
    return np.unique(indices)


def coarse(info: LandscapeInfo) -> LandscapeInfo:
    """The preview's sub-grid of a plane: only the nodes the preview computes (no blanks), for
    drawing a partial result as a complete coarse picture."""
    import dataclasses

    index = preview_indices(len(info.alphas))
    return dataclasses.replace(
        info,
        alphas=info.alphas[index],
        betas=info.betas[index],
        values=info.values[:, index][:, :, index],
    )


def landscape_arrays(info: LandscapeInfo) -> dict[str, np.ndarray]:
    """A plane as plain arrays (the CLI's ``.npz`` and the page's download): ``alphas`` (R,),
    ``betas`` (R,), ``loss`` (R, R) with ``loss[i, j]`` at ``theta + alphas[i] * direction_x +
    betas[j] * direction_y``, ``direction_x`` and ``direction_y`` flat over the trainable
    variables, ``metric_names`` and ``values`` (M, R, R), and the projected ``trajectory``."""
    return {
        "alphas": np.asarray(info.alphas, np.float64),
        "betas": np.asarray(info.betas, np.float64),
        "loss": np.asarray(info.loss, np.float64),
        "direction_x": np.asarray(info.direction_x, np.float32),
        "direction_y": np.asarray(info.direction_y, np.float32),
        "metric_names": np.asarray(info.metric_names, dtype=str),
        "values": np.asarray(info.values, np.float64),
        "trajectory": np.asarray(info.trajectory, np.float64).reshape(-1, 2),
        "trajectory_labels": np.asarray(info.trajectory_labels, dtype=str),
        "explained_variance": np.asarray(info.explained_variance, np.float64),
    }


def _grid_order(resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat grid indices: the preview's points first, then the rest (row by row)."""
    coarse = preview_indices(resolution)
    first = np.array([i * resolution + j for i in coarse for j in coarse], dtype=int)
    rest = np.setdiff1d(np.arange(resolution * resolution), first)
    return first, rest


def estimated_seconds(seconds_per_batch: float, num_batches: int, resolution: int) -> float:
    """How long a plane of ``resolution`` × ``resolution`` points takes: each point (and the
    trained weights, evaluated once more) runs every batch of samples forward once.

    Args:
        seconds_per_batch: one forward pass of one batch
            (:meth:`LandscapeEvaluator.seconds_per_batch`).
        num_batches: batches per point (:attr:`LandscapeEvaluator.num_batches`).
        resolution: grid points per side.
    """
    return float(seconds_per_batch) * int(num_batches) * (int(resolution) ** 2 + 1)


def check_grid(resolution: int, span: float) -> None:
    if not 3 <= int(resolution) <= MAX_RESOLUTION:
        raise InputError(
            f"Expected a resolution between 3 and {MAX_RESOLUTION}. Received: {resolution}."
        )
    if not (math.isfinite(span) and span > 0):
        raise InputError(f"Expected a positive span. Received: {span}.")


def first_samples(x: Any, y: np.ndarray, num_samples: int | None) -> tuple[Any, np.ndarray]:
    """The first ``num_samples`` samples (of every input: ``x`` is an array, a packed set, a
    dict by input name or a list) and their targets."""
    y = np.asarray(y)
    if num_samples is None:
        return x, y
    if isinstance(x, dict):
        length = len(next(iter(x.values()), ()))
    elif isinstance(x, (list, tuple)):
        length = len(x[0]) if len(x) else 0
    else:
        length = len(x)
    count = max(1, min(int(num_samples), MAX_NUM_SAMPLES, length))
    if isinstance(x, dict):
        return {name: np.asarray(value)[:count] for name, value in x.items()}, y[:count]
    if isinstance(x, (list, tuple)):
        return [np.asarray(value)[:count] for value in x], y[:count]
    return np.asarray(x)[:count], y[:count]


def _project(
    points: Sequence[Sequence[np.ndarray]],
    theta: Sequence[np.ndarray],
    dx: np.ndarray,
    dy: np.ndarray,
) -> np.ndarray:
    """Least-squares coordinates of each point's offset from theta in the plane (dx, dy)."""
    if not points:
        return np.zeros((0, 2))
    base = flat_direction(theta).astype(np.float64)
    basis = np.stack([dx, dy], axis=1).astype(np.float64)
    offsets = np.stack([flat_direction(p).astype(np.float64) - base for p in points], axis=1)
    coordinates, *_ = np.linalg.lstsq(basis, offsets, rcond=None)
    return coordinates.T


def landscape_info(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss=None,
    metrics: Sequence[str] = (),
    directions: str = "random",
    resolution: int = DEFAULT_RESOLUTION,
    span: float = DEFAULT_SPAN,
    seed: int = DEFAULT_SEED,
    normalization: str = "filter",
    bias_mode: str = "zero",
    num_samples: int | None = DEFAULT_NUM_SAMPLES,
    checkpoints: Sequence[tuple[str, Sequence[np.ndarray]]] = (),
    chunk_points: int = DEFAULT_CHUNK_POINTS,
    on_partial: Callable[[LandscapeInfo, float], None] | None = None,
    evaluator: LandscapeEvaluator | None = None,
    runner: Any = None,
) -> LandscapeInfo:
    """The loss (and metrics) over a plane through the model's weights.

    Args:
        model: the Keras model (never changed).
        x: samples; the first ``num_samples`` are used.
        y: their targets.
        loss: a Keras loss name, serialized ``keras.losses`` object or function.
        metrics: compiled metric names to draw too.
        directions: ``'random'`` (filter-normalized Gaussian directions) or ``'pca'`` (the
            trajectory's top two principal directions; needs ``checkpoints``).
        resolution: grid points per side.
        span: random directions: the grid runs from ``-span`` to ``span`` on both axes. PCA:
            the grid covers the projected trajectory plus ``span * PCA_MARGIN`` of its extent
            on each side.
        seed: the random directions' seed.
        normalization: see :func:`random_directions`.
        bias_mode: see :func:`random_directions`.
        num_samples: how many samples (None for all, at most ``MAX_NUM_SAMPLES``).
        checkpoints: ``(label, weights)`` per checkpoint of the run, oldest first; ``weights``
            in ``model.weights`` order (:func:`checkpoint_weights`). Projected onto the plane.
        chunk_points: grid points per compiled call (progress is reported between calls).
        on_partial: ``on_partial(info, fraction)`` after the preview and after every chunk;
            ``info.values`` holds NaN where not computed yet.
        evaluator: a :class:`LandscapeEvaluator` to reuse (its samples and loss win).
        runner: what evaluates the chunks of grid points: ``run(chunks, directions)`` yields
            ``(chunk index, values)`` as chunks finish, in any order. Default: this process,
            one chunk after another (``compute.local.LocalChunks``); a cluster's
            (``compute.ray.LandscapeChunks``) gives the same values. Its ``workers`` attribute
            makes the chunks small enough for every worker to get several.

    Returns:
        A :class:`LandscapeInfo` with ``complete=True``.
    """
    _check_choice(directions, DIRECTION_KINDS, "direction kind")
    check_grid(resolution, span)
    resolution = int(resolution)
    if evaluator is None:
        xs, ys = first_samples(x, y, num_samples)
        evaluator = LandscapeEvaluator(model, xs, ys, loss=loss, metrics=metrics)
    theta = evaluator.trainable
    shapes = evaluator.shapes
    trainable_points = [_trainable_part(model, weights) for _, weights in checkpoints]
    notes = list(evaluator.notes)
    explained = np.zeros(0)
    if directions == "random":
        dx_list, dy_list = random_directions(
            model, seed=seed, normalization=normalization, bias_mode=bias_mode
        )
        dx, dy = flat_direction(dx_list), flat_direction(dy_list)
        trajectory = _project(trainable_points, theta, dx, dy)
        alphas = np.linspace(-span, span, resolution)
        betas = alphas.copy()
        used_seed: int | None = int(seed)
    else:
        if not checkpoints:
            raise InputError(
                "PCA directions come from a training run's checkpoints. Choose a recorded run "
                "of this model, or use random directions."
            )
        dx, dy, explained = pca_directions(trainable_points, theta)
        dx_list, dy_list = _unflatten(dx, shapes), _unflatten(dy, shapes)
        trajectory = _project(trainable_points, theta, dx, dy)
        alphas, betas = _pca_axes(trajectory, resolution, span)
        used_seed = None
        normalization, bias_mode = "none", "weights"
    trajectory_values = np.zeros((len(evaluator.metric_names), 0))
    if checkpoints:
        trajectory_values = _values_at(evaluator, model, [w for _, w in checkpoints]).T

    values = np.full((len(evaluator.metric_names), resolution, resolution), np.nan)
    trained = np.full(len(evaluator.metric_names), np.nan)

    def info(complete: bool) -> LandscapeInfo:
        return LandscapeInfo(
            directions=directions,
            metric_names=evaluator.metric_names,
            loss_name=evaluator.loss_name,
            alphas=alphas,
            betas=betas,
            values=values.copy(),
            direction_x=dx,
            direction_y=dy,
            trajectory=trajectory,
            trajectory_labels=tuple(label for label, _ in checkpoints),
            trajectory_values=trajectory_values,
            explained_variance=explained,
            num_samples=evaluator.num_samples,
            seed=used_seed,
            normalization=normalization,
            bias_mode=bias_mode,
            complete=complete,
            trained_values=trained.copy(),
            notes=tuple(notes),
        )

    first, rest = _grid_order(resolution)
    total = resolution * resolution
    if runner is None:
        from neurogenesis.compute.local import LocalChunks

        runner = LocalChunks(evaluator)
    workers = int(getattr(runner, "workers", 1))
    step = max(1, chunk_points)
    if workers > 1:  # several chunks per worker: the last ones do not wait on one worker
        step = max(1, min(step, math.ceil(len(rest) / (4 * workers))))
    chunks = [first] + [rest[i : i + step] for i in range(0, len(rest), step)]
    chunks = [chunk for chunk in chunks if len(chunk)]
    grids = []
    for number, chunk in enumerate(chunks):
        rows, cols = np.divmod(chunk, resolution)
        coefficients = np.stack([alphas[rows], betas[cols]], axis=1)
        if number == 0:
            # The trained weights ride along with the preview (a grid may have no node there).
            coefficients = np.concatenate([coefficients, np.zeros((1, 2))])
        grids.append(coefficients)
    done = 0
    for number, result in runner.run(grids, [dx_list, dy_list]):
        chunk = chunks[number]
        rows, cols = np.divmod(chunk, resolution)
        if number == 0:
            trained[:] = result[-1]
            result = result[:-1]
        values[:, rows, cols] = np.asarray(result).T
        done += len(chunk)
        if on_partial is not None and done < total:
            on_partial(info(False), done / total)
    if np.isnan(values[0]).any():
        notes.append(
            f"The loss overflowed at {int(np.isnan(values[0]).sum())} grid points (left blank)."
        )
    return info(True)


def _pca_axes(
    trajectory: np.ndarray, resolution: int, span: float
) -> tuple[np.ndarray, np.ndarray]:
    axes = []
    for k in range(2):
        low = min(0.0, float(trajectory[:, k].min())) if len(trajectory) else -1.0
        high = max(0.0, float(trajectory[:, k].max())) if len(trajectory) else 1.0
        extent = max(high - low, 1e-6)
        margin = span * PCA_MARGIN * extent
        axes.append(np.linspace(low - margin, high + margin, resolution))
    return axes[0], axes[1]


def _values_at(evaluator: LandscapeEvaluator, model: Any, points: Sequence[Sequence[np.ndarray]]):
    """(T, M) the metrics at each full set of weights (trainable and non-trainable)."""
    rows = []
    zero = [np.zeros_like(w) for w in evaluator.trainable]
    for weights in points:
        rows.append(
            evaluator.evaluate(
                np.zeros((1, 1)),
                [zero],
                base=_trainable_part(model, weights),
                base_non_trainable=_non_trainable_part(model, weights),
            )[0]
        )
    return np.stack(rows) if rows else np.zeros((0, len(evaluator.metric_names)))


# --------------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------------


def interpolation_info(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    start: Sequence[np.ndarray],
    end: Sequence[np.ndarray] | None = None,
    *,
    loss=None,
    metrics: Sequence[str] = (),
    resolution: int = DEFAULT_RESOLUTION * 2 - 1,
    t_range: tuple[float, float] = DEFAULT_INTERPOLATION_RANGE,
    num_samples: int | None = DEFAULT_NUM_SAMPLES,
    start_label: str = "start",
    end_label: str = "trained",
    evaluator: LandscapeEvaluator | None = None,
) -> InterpolationInfo:
    """The metrics along the line from ``start`` to ``end`` (Goodfellow et al. 2015).

    Every weight moves, BatchNormalization statistics included, so ``t = 0`` is exactly the
    start model and ``t = 1`` exactly the end model. Past the ends (``t < 0`` or ``t > 1``) the
    trainable weights are extrapolated while the statistics keep the nearer end's values (an
    extrapolated variance can turn negative).

    Args:
        model: a model of the right architecture (never changed).
        x: samples; y: targets.
        start: weights in ``model.weights`` order (a checkpoint, another model's weights).
        end: the same for the other end; None for the model's own weights.
        loss: see :func:`landscape_info`; metrics: likewise.
        resolution: points on the line.
        t_range: where the line starts and ends (``(-0.5, 1.5)`` goes half a length past both).
        num_samples: how many samples.
        start_label: what ``start`` is; end_label: what ``end`` is.
        evaluator: a :class:`LandscapeEvaluator` to reuse.
    """
    if not 3 <= int(resolution) <= 4 * MAX_RESOLUTION:
        raise InputError(
            f"Expected between 3 and {4 * MAX_RESOLUTION} points. Received: {resolution}."
        )
    if evaluator is None:
        xs, ys = first_samples(x, y, num_samples)
        evaluator = LandscapeEvaluator(model, xs, ys, loss=loss, metrics=metrics)
    end = [v.numpy() for v in model.weights] if end is None else list(end)
    start = list(start)
    for name, weights in ((start_label, start), (end_label, end)):
        if len(weights) != len(model.weights) or any(
            tuple(np.shape(w)) != tuple(v.shape)
            for w, v in zip(weights, model.weights, strict=True)
        ):
            raise InputError(
                f"The weights of {name!r} do not fit this model (another architecture): expected "
                f"{len(model.weights)} arrays shaped like the model's weights. Choose a checkpoint "
                "or model of the same architecture."
            )
    start_t, end_t = _trainable_part(model, start), _trainable_part(model, end)
    start_nt, end_nt = _non_trainable_part(model, start), _non_trainable_part(model, end)
    direction = [
        np.asarray(e, np.float32) - np.asarray(s, np.float32)
        for s, e in zip(start_t, end_t, strict=True)
    ]
    direction_nt = [np.asarray(e) - np.asarray(s) for s, e in zip(start_nt, end_nt, strict=True)]
    t = np.linspace(t_range[0], t_range[1], int(resolution))
    values = evaluator.evaluate(
        t[:, None],
        [direction],
        base=[np.asarray(s, np.float32) for s in start_t],
        base_non_trainable=[np.asarray(s) for s in start_nt],
        directions_non_trainable=[direction_nt],
    )
    distance = float(np.linalg.norm(flat_direction(direction)))
    return InterpolationInfo(
        t=t,
        metric_names=evaluator.metric_names,
        loss_name=evaluator.loss_name,
        values=values.T,
        start_label=start_label,
        end_label=end_label,
        distance=distance,
        num_samples=evaluator.num_samples,
        notes=tuple(evaluator.notes),
    )


# --------------------------------------------------------------------------------------------
# Sharpness
# --------------------------------------------------------------------------------------------


def sharpness_info(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss=None,
    iterations: int = DEFAULT_POWER_ITERATIONS,
    seed: int = DEFAULT_SEED,
    num_samples: int | None = DEFAULT_NUM_SAMPLES,
    evaluator: LandscapeEvaluator | None = None,
) -> SharpnessInfo:
    """The Hessian's eigenvalue of largest magnitude at the trained weights.

    Power iteration on Hessian-vector products (double backpropagation, no Hessian is formed):
    ``v <- Hv / |Hv|``, the estimate is the Rayleigh quotient ``v . Hv``. It stops when two
    estimates agree to ``POWER_TOLERANCE`` (relative) or after ``iterations``.
    """
    if evaluator is None:
        xs, ys = first_samples(x, y, num_samples)
        evaluator = LandscapeEvaluator(model, xs, ys, loss=loss)
    hvp = evaluator.hessian_vector_function()
    rng = np.random.default_rng(seed)
    vector = [rng.standard_normal(w.shape).astype(np.float32) for w in evaluator.trainable]
    norm = math.sqrt(sum(float(np.sum(v * v)) for v in vector))
    vector = [v / norm for v in vector]
    estimates: list[float] = []
    converged = False
    for _ in range(graph.capped_steps(iterations)):
        products, _ = hvp(vector)
        products = [np.asarray(p, np.float64) for p in products]
        estimate = sum(float(np.sum(p * v)) for p, v in zip(products, vector, strict=True))
        estimates.append(estimate)
        size = math.sqrt(sum(float(np.sum(p * p)) for p in products))
        if not math.isfinite(size) or size == 0.0:
            break
        vector = [(p / size).astype(np.float32) for p in products]
        if len(estimates) > 1 and abs(estimates[-1] - estimates[-2]) <= POWER_TOLERANCE * max(
            abs(estimates[-1]), _EPSILON
        ):
            converged = True
            break
    return SharpnessInfo(
        eigenvalue=estimates[-1] if estimates else float("nan"),
        estimates=np.asarray(estimates),
        iterations=len(estimates),
        converged=converged,
        loss_name=evaluator.loss_name,
        num_samples=evaluator.num_samples,
        num_parameters=int(sum(w.size for w in evaluator.trainable)),
    )

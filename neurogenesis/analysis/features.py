"""What a model sees: predictions to browse, its filters, feature maps and activation maximization.

Pure computation for the features page, on top of :mod:`neurogenesis.analysis.graph`:

- ``prediction_info(model, x, y) -> PredictionInfo``: every sample's output, the task it implies
  (classification, binary, regression or other), the predicted class, confidence, correctness or
  absolute error; ``sample_filter`` picks sample indices by label, prediction, correctness,
  confidence or error, and ``prediction_rows`` turns them into table rows.
- ``filters_info(model, layer) -> FiltersInfo``: a convolution's kernels, one per output filter,
  sorted by L2 norm, with a flag telling whether they can be drawn as colour images (a first layer
  looking at RGB pixels).
- ``feature_maps_info(model, x, layer) -> FeatureMapsInfo``: one sample's activations of a spatial
  or sequence layer as ``(channels, height, width)`` maps, with per-channel statistics.
- ``activation_maximization_info(model, layer, unit) -> ActivationMaxInfo``: an input made by
  gradient ascent to excite one channel or unit (Erhan et al. 2009), kept natural-looking with the
  regularizers of Yosinski et al. 2015 and Olah et al. 2017 ("Feature Visualization"): random
  jitter, L2 decay, a Gaussian-smoothed gradient and a total-variation penalty (Mahendran &
  Vedaldi 2015), with Adam steps that decay so the ascent settles. A classifier's output is
  maximized as its logit (the score before the softmax), and the info says so.

**Layouts.** Kernels are ``(filters, height, width, input channels)`` whatever the layer stores.
1-D kernels (``Conv1D``: ``(k, C_in, F)``) become ``(F, 1, k, C_in)`` and 1-D feature maps
``(steps, channels)`` become ``(channels, 1, steps)``: time runs along the width in both, so they
draw as strips. ``Conv3D`` kernels stack their depth slices along the height. Depthwise kernels
(``DepthwiseConv2D`` and the depthwise half of ``SeparableConv2D``) have one input channel per
filter, ``C_in * depth_multiplier`` filters in Keras's output order.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurogenesis.analysis import graph
from neurogenesis.analysis.architecture import find_layer, shape_text
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "REASON_VIEWS",
    "reason",
    "CONVOLUTION_CLASSES",
    "CORRECTNESS",
    "DEFAULT_BLUR_EVERY",
    "DEFAULT_BLUR_SIGMA",
    "DEFAULT_JITTER",
    "DEFAULT_L2",
    "DEFAULT_LEARNING_RATE",
    "FINAL_LEARNING_RATE_SHARE",
    "DEFAULT_STEPS",
    "DEFAULT_TOTAL_VARIATION",
    "PREPROCESSING_CLASSES",
    "TASKS",
    "ActivationMaxInfo",
    "FeatureMapsInfo",
    "FiltersInfo",
    "PredictionInfo",
    "activation_maximization_info",
    "activation_layers",
    "binary_logit_loss",
    "categorical_logit_loss",
    "default_input_range",
    "default_regularization",
    "feature_map_layers",
    "feature_maps_info",
    "filter_layers",
    "filters_info",
    "output_values",
    "prediction_info",
    "prediction_rows",
    "sample_filter",
]

TASKS = ("classification", "binary", "regression", "other")
CORRECTNESS = ("all", "correct", "wrong")
DEFAULT_BATCH_SIZE = 256
CLASSIFICATION_ACTIVATIONS = ("softmax", "log_softmax", "sigmoid")
LINEAR_ACTIVATIONS = (None, "linear")
BINARY_LOSSES = ("binary_crossentropy", "binary_focal_crossentropy")
"""Losses that, with ``from_logits=True``, make a one-unit linear output a binary classifier's
logit (keras.io's transfer-learning recipe: ``Dense(1)`` and ``BinaryCrossentropy(from_logits=True)``)."""
CATEGORICAL_LOSSES = (
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "categorical_focal_crossentropy",
)
"""Losses that, with ``from_logits=True``, make a linear output of several units a classifier's
logits (KerasHub's classifiers: ``activation=None`` and ``SparseCategoricalCrossentropy(from_logits=True)``)."""
CONVOLUTION_CLASSES = (
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
)
PREPROCESSING_CLASSES = (
    "InputLayer",
    "Rescaling",
    "Normalization",
    "Resizing",
    "CenterCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomBrightness",
    "RandomCrop",
)
"""Layers that keep pixels pixels: a convolution after only these still looks at colours."""
ZERO_TOLERANCE = 1e-7
"""An activation this close to zero counts as zero (ReLU writes exact zeros)."""
PIXEL_SCALE = 1 / 255
PIXEL_RANGE = (0.0, 255.0)
UNIT_RANGE = (0.0, 1.0)

DEFAULT_STEPS = 256
DEFAULT_LEARNING_RATE = 0.05
"""Adam's step in the unit input space ([0, 1] whatever the input range), decayed to
``FINAL_LEARNING_RATE_SHARE`` of it by the last step (cosine), so the ascent settles."""
FINAL_LEARNING_RATE_SHARE = 0.02
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8
DEFAULT_JITTER = None
"""Pixels of random roll per step (Olah et al.'s transformation robustness); None: one pixel per
``JITTER_PIXELS_PER`` pixels of the smaller side (0 on an 8x8 digit, where one pixel moves the
whole stroke, 2 on a 32x32 image)."""
JITTER_PIXELS_PER = 16
DEFAULT_L2 = 0.01
"""Weight of the pull towards mid-grey, per pixel, against the normalized score gradient."""
DEFAULT_BLUR_EVERY = 0
"""Blur the image itself every this many steps (Yosinski et al.); 0: never. Each blur drops the
score at once, so the trace saws; the default smooths the gradient instead (``blur_sigma``)."""
DEFAULT_BLUR_SIGMA = None
"""Standard deviation in pixels of the Gaussian that smooths every step's gradient: a low-pass
preconditioner (Olah et al.'s decorrelated parametrization, in its simplest form). None: the
image's smaller side over ``BLUR_PIXELS_PER``, at least ``MIN_BLUR_SIGMA`` (0.5 on an 8x8 digit,
1.6 on a 32x32 image, where 0.5 leaves colour noise)."""
BLUR_PIXELS_PER = 20
MIN_BLUR_SIGMA = 0.5
DEFAULT_TOTAL_VARIATION = 0.1
"""Weight of the squared differences between neighbouring pixels, against the same gradient."""
INITIAL_NOISE = 0.01
MAX_INITIAL_NOISE = 0.3
"""Standard deviations of the starting noise around mid-grey, as a share of the input range."""
START_CANDIDATES = 8
SETTLING_SHARE = 0.1
"""The last share of the steps over which :meth:`ActivationMaxInfo.last_change` is measured."""
GRADIENT_EPSILON = 1e-12
PROGRESS_EVERY = 1


# --------------------------------------------------------------------------------------------
# Predictions: the sample browser's table.


@dataclass(frozen=True, eq=False)
class PredictionInfo(ValueEquality):
    """The model's output for every sample, and how it compares with the labels.

    Attributes:
        outputs: the model's first output, ``(N, K)`` (probabilities for softmax and sigmoid
            models and ``sigmoid(logit)`` for a binary classifier that returns its logit, the raw
            scores otherwise: :func:`output_values`); for an ``"other"`` task the output keeps
            its shape (``(N, 8, 8, 1)`` for an autoencoder).
        task: ``"classification"``, ``"binary"``, ``"regression"`` or ``"other"``.
        predicted: ``(N,)`` predicted class (argmax; ``p >= 0.5`` for binary), else None.
        confidence: ``(N,)`` probability of the predicted class, else None.
        labels: ``(N,)`` labels as given (one-hot labels become class indices), or None.
        correct: ``(N,)`` predicted == label, for classification with labels that are the
            model's classes, else None.
        errors: ``(N,)`` absolute error (mean over outputs) for regression with labels, else None.
        label_names: the model's class names, or None.
        num_classes: classes for classification (2 for binary), 0 for other tasks.
        own_label_names: the sample set's names for its labels when those are the user's own
            labels and not the model's classes (a two-folder photo set under a 1000-class
            ImageNet model); None when the labels are the model's classes.
        note: one sentence on what is not computed and why (labels that are not the model's
            classes), or None.
        from_logits: the model returns logits (a linear output), so ``confidence`` is the
            softmax of them (the sigmoid of a binary classifier's one logit), not the model's
            own output.
    """

    outputs: np.ndarray
    task: str
    predicted: np.ndarray | None
    confidence: np.ndarray | None
    labels: np.ndarray | None
    correct: np.ndarray | None
    errors: np.ndarray | None
    label_names: tuple[str, ...] | None
    num_classes: int
    own_label_names: tuple[str, ...] | None = None
    note: str | None = None
    from_logits: bool = False

    def __len__(self) -> int:
        return int(self.outputs.shape[0])

    @property
    def own_labels(self) -> bool:
        """The labels are the user's own, not the model's classes (see ``own_label_names``)."""
        return self.note is not None

    def class_name(self, index: int) -> str:
        """The name of the model's class ``index`` (its number when the classes have no names;
        ``"class 207"`` beside labels of the user's own, so the two are not confused)."""
        if self.label_names is not None and 0 <= int(index) < len(self.label_names):
            return str(self.label_names[int(index)])
        return f"class {int(index)}" if self.own_labels else str(int(index))

    def label_name(self, value: int) -> str:
        """The name of label ``value``: the set's own name for it when the labels are not the
        model's classes, else the class's name (:meth:`class_name`)."""
        if self.own_labels:
            names = self.own_label_names
            if names is not None and 0 <= int(value) < len(names):
                return str(names[int(value)])
            return str(int(value))
        return self.class_name(value)


def _loss_config(loss: Any) -> tuple[str, dict]:
    """``(name, config)`` of a loss given as a Keras loss object, a saved config dict
    (``{"class_name": ..., "config": {...}}``, as ``io.models.training_setup`` gives it) or a name."""
    if isinstance(loss, str):
        return loss, {}
    if isinstance(loss, dict):
        config = loss.get("config") if isinstance(loss.get("config"), dict) else {}
        return str(config.get("name") or loss.get("class_name") or ""), config
    get_config = getattr(loss, "get_config", None)
    try:
        config = get_config() if callable(get_config) else {}
    except (NotImplementedError, TypeError):
        config = {}
    config = config if isinstance(config, dict) else {}
    return str(config.get("name") or type(loss).__name__), config


def _logit_loss(loss: Any, names: tuple[str, ...]) -> bool:
    if loss is None:
        return False
    name, config = _loss_config(loss)
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return snake in names and config.get("from_logits") is True


def categorical_logit_loss(loss: Any) -> bool:
    """Whether ``loss`` is a (sparse) categorical cross-entropy on logits (``from_logits=True``).

    A model compiled with one has a linear output of class logits (KerasHub's text and image
    classifiers with their default ``activation=None``): its probabilities are their softmax.

    Args:
        loss: a Keras loss object, a saved loss config, a name, or None.
    """
    return _logit_loss(loss, CATEGORICAL_LOSSES)


def binary_logit_loss(loss: Any) -> bool:
    """Whether ``loss`` is a binary cross-entropy on logits (``from_logits=True``).

    A model compiled with one has a linear one-unit output that is a classifier's logit, not a
    regression value: its probability is ``sigmoid(output)``.

    Args:
        loss: a Keras loss object (``model.loss``), a saved loss config (``{"class_name":
            "BinaryCrossentropy", "config": {"from_logits": True, ...}}``), a name, or None.
    """
    return _logit_loss(loss, BINARY_LOSSES)


def _binary_labels(y: np.ndarray | None) -> bool:
    """Labels that are all 0 or 1 (ints, bools or floats equal to them), one per sample."""
    if y is None or y.size == 0 or y.dtype.kind not in "biuf":
        return False
    if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        return False
    return bool(np.all((y == 0) | (y == 1)))


def _task(
    output_shape: tuple, activation: str | None, y: np.ndarray | None, names, loss: Any = None
) -> str:
    if len(output_shape) != 1:
        return "other"
    width = output_shape[0]
    if width == 1:
        if activation == "sigmoid":
            return "binary"
        # A linear unit is a binary classifier's logit when the labels are classes 0 and 1 or
        # the model was trained with a binary cross-entropy on logits; else a regression value.
        linear = activation in LINEAR_ACTIVATIONS
        if linear and (_binary_labels(y) or binary_logit_loss(loss)):
            return "binary"
        return "regression"
    if activation in CLASSIFICATION_ACTIVATIONS:
        return "classification"
    # Linear scores: logits of a classifier when the labels are class indices or named classes,
    # or when the model was trained with a categorical cross-entropy on logits.
    if activation in LINEAR_ACTIVATIONS and categorical_logit_loss(loss):
        return "classification"
    if names is not None and len(names) == width:
        return "classification"
    if y is not None and y.ndim == 1 and y.dtype.kind in "iu":
        return "classification"
    return "regression"


def output_values(raw: np.ndarray, task: str, activation: str | None) -> np.ndarray:
    """The model's raw first output as :attr:`PredictionInfo.outputs` holds it.

    A binary classifier without a sigmoid returns logits; its outputs are ``sigmoid(logit)`` so
    that every binary output is a probability (predicted class 1 where it is >= 0.5, that is
    where the logit is >= 0). A ``log_softmax`` output becomes probabilities. Other outputs are
    kept as they are, ``(N, K)`` (``"other"`` tasks keep their shape).
    """
    if task == "other":
        return raw
    outputs = raw.reshape(len(raw), -1)
    if task == "binary" and activation != "sigmoid":
        with np.errstate(over="ignore"):  # a logit below about -700: exp overflows, p is 0
            return 1.0 / (1.0 + np.exp(-outputs.astype(np.float64)))
    if task == "classification" and activation == "log_softmax":
        return np.exp(outputs)
    return outputs


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _own_labels_note(found: str, num_classes: int) -> str:
    return (
        f"The sample set's labels are not this model's classes ({found}; the model has "
        f"{num_classes}), so they are shown beside the model's own predictions and no accuracy "
        "is computed."
    )


def prediction_info(
    model: Any,
    x: np.ndarray,
    y: np.ndarray | None = None,
    label_names: Sequence[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    loss: Any = None,
    class_names: Sequence[str] | None = None,
    task: str | None = None,
) -> PredictionInfo:
    """Runs the model on every sample and compares with the labels.

    A one-unit output without a sigmoid is a binary classifier's logit when the labels are all 0
    or 1 or the model was trained with a binary cross-entropy on logits (``loss``, else the
    compiled ``model.loss``); its outputs are then ``sigmoid(logit)``. Labels that are not the
    model's classes (class names of another count, one-hot labels of another width, classes
    outside the output) are kept as the user's own labels: the info names them apart from the
    predicted classes, compares nothing, and says so in ``note``.

    Args:
        model: a functional or Sequential Keras model.
        x: samples, ``(N, ...)`` as the model takes them (uint8 images are cast).
        y: labels, ``(N,)`` class indices or values, ``(N, K)`` one-hot or regression targets.
        label_names: the sample set's class names, indexed by label.
        batch_size: samples per forward pass.
        loss: the loss the model was trained with, when it is not compiled (a loaded file's
            saved loss config, as ``io.models.training_setup(path).loss`` gives it).
        class_names: the model's own class names (its model card's), used to name its
            predictions when the set's names are not its classes.
        task: the task, when the caller knows it already (an attack's perturbed batch has the
            task of its clean batch); default: found from the model, labels and loss.

    Returns:
        The predictions.

    Raises:
        InputError: samples of the wrong shape, labels of another length, or an unknown task.
        UnsupportedModelError: a model without a graph.
    """
    layers = graph.graph_layers(model)
    raw = graph.predict(model, x, batch_size=batch_size)
    n = len(raw)
    names = tuple(str(name) for name in label_names) if label_names is not None else None
    labels = None
    if y is not None:
        labels = np.asarray(y)
        if labels.shape[:1] != (n,):
            raise InputError(
                f"Expected one label per sample ({n}). Received: labels of shape {labels.shape}. "
                "Choose the labels that belong to these samples."
            )
    if loss is None:
        loss = getattr(model, "loss", None)
    activation = layers.output_activation
    if task is None:
        task = _task(layers.output_shape, activation, labels, names, loss)
    elif task not in TASKS:
        raise InputError(f"Expected a task in {TASKS}. Received: {task!r}.")
    outputs = output_values(raw, task, activation)
    num_classes = {"classification": outputs.shape[1], "binary": 2}.get(task, 0)
    note = None
    if num_classes and names is not None and len(names) != num_classes:
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        note = _own_labels_note(f"the set names {len(names)} classes: {shown}", num_classes)
    if task == "binary" and labels is not None and labels.shape == (n, 1):
        labels = labels[:, 0]
    if task == "classification" and labels is not None and labels.ndim == 2:
        if labels.shape[1] != outputs.shape[1] and note is None:
            note = _own_labels_note(
                f"its one-hot labels have {labels.shape[1]} columns", num_classes
            )
        labels = labels.argmax(axis=1)
    predicted = confidence = correct = errors = None
    if task == "classification":
        probabilities = outputs if activation in CLASSIFICATION_ACTIVATIONS else _softmax(outputs)
        predicted = outputs.argmax(axis=1)
        confidence = probabilities[np.arange(n), predicted]
    elif task == "binary":
        probability = outputs[:, 0]
        predicted = (probability >= 0.5).astype(np.int64)
        confidence = np.maximum(probability, 1.0 - probability)
    if labels is not None and task in ("classification", "binary"):
        if labels.ndim != 1:
            raise InputError(
                f"Expected class labels of shape ({n},). Received: {labels.shape}. "
                "Choose the labels that belong to these samples."
            )
        if labels.dtype.kind == "f":
            labels = np.rint(labels)
        labels = labels.astype(np.int64)
        outside = len(labels) and (labels.min() < 0 or labels.max() >= num_classes)
        if outside and note is None:
            found = f"its labels run from {labels.min()} to {labels.max()}"
            note = _own_labels_note(found, num_classes)
        if note is None:
            correct = predicted == labels
    elif labels is not None and task == "regression":
        target = labels.astype(np.float64).reshape(n, -1)
        if target.shape[1] != outputs.shape[1]:
            raise InputError(
                f"Expected {outputs.shape[1]} target value(s) per sample. Received: labels of "
                f"shape {labels.shape}."
            )
        errors = np.abs(outputs - target).mean(axis=1)
    own_names = None
    if note is not None:
        own_names, names = names, None
        if class_names is not None and len(class_names) == num_classes:
            names = tuple(str(name) for name in class_names)
    return PredictionInfo(
        outputs=outputs,
        from_logits=task in ("classification", "binary")
        and activation not in CLASSIFICATION_ACTIVATIONS,
        task=task,
        predicted=predicted,
        confidence=confidence,
        labels=labels,
        correct=correct,
        errors=errors,
        label_names=names,
        num_classes=int(num_classes),
        own_label_names=own_names,
        note=note,
    )


def _in_range(values: np.ndarray, bounds: tuple[float, float] | None, name: str) -> np.ndarray:
    if bounds is None:
        return np.ones(values.shape, dtype=bool)
    try:
        low, high = (float(bound) for bound in bounds)
    except (TypeError, ValueError):
        raise InputError(
            f"Expected {name} as a (low, high) pair of numbers. Received: {bounds!r}."
        ) from None
    return (values >= low) & (values <= high)


def sample_filter(
    info: PredictionInfo,
    *,
    labels: Sequence[int] | None = None,
    predictions: Sequence[int] | None = None,
    correctness: str = "all",
    confidence: tuple[float, float] | None = None,
    error: tuple[float, float] | None = None,
) -> np.ndarray:
    """Indices (in order) of the samples that match every given criterion.

    Criteria that do not apply to the task are ignored: ``predictions``, ``correctness`` and
    ``confidence`` need a classifier (and ``correctness`` labels), ``error`` a regression with
    labels, ``labels`` integer labels (an autoencoder's digit labels count).

    Args:
        info: the predictions.
        labels: keep samples whose label is one of these.
        predictions: keep samples predicted as one of these classes.
        correctness: ``"all"``, ``"correct"`` or ``"wrong"``.
        confidence: keep samples whose confidence lies in ``[low, high]``.
        error: keep samples whose absolute error lies in ``[low, high]``.

    Returns:
        ``int64`` indices into the samples.

    Raises:
        InputError: an unknown correctness or a bound that is not a pair of numbers.
    """
    if correctness not in CORRECTNESS:
        raise InputError(f"Expected correctness in {CORRECTNESS}. Received: {correctness!r}.")
    keep = np.ones(len(info), dtype=bool)
    if labels is not None and info.labels is not None and info.labels.dtype.kind in "iub":
        keep &= np.isin(info.labels, np.asarray(list(labels), dtype=np.int64))
    if predictions is not None and info.predicted is not None:
        keep &= np.isin(info.predicted, np.asarray(list(predictions), dtype=np.int64))
    if correctness != "all" and info.correct is not None:
        keep &= info.correct if correctness == "correct" else ~info.correct
    if info.confidence is not None:
        keep &= _in_range(info.confidence, confidence, "a confidence range")
    if info.errors is not None:
        keep &= _in_range(info.errors, error, "an error range")
    return np.flatnonzero(keep).astype(np.int64)


def prediction_rows(info: PredictionInfo, indices: Sequence[int] | None = None) -> list[dict]:
    """One row per sample for a table: index, label, prediction, confidence, correct, error."""
    chosen = range(len(info)) if indices is None else indices
    rows = []
    for index in chosen:
        index = int(index)
        row: dict[str, Any] = {"sample": index}
        if info.labels is not None and info.labels.ndim == 1:
            label = info.labels[index]
            row["label"] = (
                info.label_name(label) if info.labels.dtype.kind in "iu" else float(label)
            )
        if info.predicted is not None:
            row["prediction"] = info.class_name(info.predicted[index])
            row["confidence"] = float(info.confidence[index])
        elif info.task == "regression":
            row["prediction"] = float(info.outputs[index, 0])
        if info.correct is not None:
            row["correct"] = bool(info.correct[index])
        if info.errors is not None:
            row["error"] = float(info.errors[index])
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# Filters.


@dataclass(frozen=True, eq=False)
class FiltersInfo(ValueEquality):
    """A convolution's kernels, one per output filter, strongest (largest L2 norm) first.

    Attributes:
        kernels: ``(F, kh, kw, C_in)`` float32 (see the module notes for 1-D, 3-D and depthwise).
        norms: ``(F,)`` L2 norm of each kernel, descending.
        order: ``(F,)`` the filters' indices in the layer (its output channels).
        rgb: the kernels look at the 3 colour channels of an image input, so they draw as colours.
        layer: the layer's path.
        class_name: the layer's class.
        bias: ``(F,)`` in the same order, or None (no bias, or a separable layer's depthwise half).
        first_layer: the convolution is fed by an input through preprocessing layers only.
        num_filters: filters in the layer (``len(order)`` is smaller when ``max_filters`` cut).
    """

    kernels: np.ndarray
    norms: np.ndarray
    order: np.ndarray
    rgb: bool
    layer: str
    class_name: str
    bias: np.ndarray | None
    first_layer: bool
    num_filters: int


def filter_layers(model: Any) -> list[str]:
    """Paths of the convolution layers whose kernels :func:`filters_info` can show."""
    layers = graph.graph_layers(model)
    paths = []
    for entry in layers.layers:
        path = entry.path.split("#")[0]  # a shared layer's second call has the same kernel
        if entry.class_name in CONVOLUTION_CLASSES and path not in paths:
            paths.append(path)
    return paths


def _kernel_filters(layer: Any, class_name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The kernel as ``(F, kh, kw, C_in)`` and the bias per filter (None when it has none)."""
    depthwise = "Depthwise" in class_name or "Separable" in class_name
    # Keras 3 keeps a DepthwiseConv2D's weights in ``kernel``, a SeparableConv2D's in
    # ``depthwise_kernel`` (and ``pointwise_kernel``); both are (*window, C_in, multiplier).
    weight = getattr(layer, "depthwise_kernel", None)
    if weight is None:
        weight = layer.kernel
    kernel = np.asarray(weight, dtype=np.float32)
    if depthwise:
        # (*window, C_in, multiplier): output channel c * multiplier + m looks at input channel c.
        window = kernel.shape[:-2]
        kernel = kernel.reshape(*window, -1)[..., None]
        kernel = np.moveaxis(kernel, -2, 0)  # (F, *window, 1)
    elif "Transpose" in class_name:
        kernel = np.moveaxis(kernel, -2, 0)  # (*window, filters, C_in)
    else:
        kernel = np.moveaxis(kernel, -1, 0)  # (*window, C_in, filters)
    if kernel.ndim == 3:  # 1-D: time along the width
        kernel = kernel[:, None, :, :]
    elif kernel.ndim == 5:  # 3-D: depth slices stacked along the height
        f, d, h, w, c = kernel.shape
        kernel = kernel.reshape(f, d * h, w, c)
    bias = None
    if "Separable" not in class_name and getattr(layer, "bias", None) is not None:
        bias = np.asarray(layer.bias, dtype=np.float32)
    return np.ascontiguousarray(kernel), bias


def _first_convolution(layers: graph.GraphLayers, path: str) -> bool:
    """The first layer in the graph that is not preprocessing is this convolution."""
    for entry in layers.layers:
        if entry.path.split("#")[0] == path:
            return True
        if entry.class_name not in PREPROCESSING_CLASSES:
            return False
    return False


def filters_info(model: Any, layer: str, *, max_filters: int | None = None) -> FiltersInfo:
    """The kernels of convolution ``layer``, sorted by L2 norm (largest first).

    Args:
        model: a functional or Sequential Keras model.
        layer: a path from :func:`filter_layers` (``"#2"`` suffixes are ignored).
        max_filters: keep only this many filters, the largest norms.

    Returns:
        The kernels.

    Raises:
        InputError: ``layer`` is not a convolution of the model, or ``max_filters`` < 1.
    """
    path = layer.split("#")[0]
    layers = graph.graph_layers(model)
    known = filter_layers(model)
    if path not in known:
        raise InputError(
            f"Expected a convolution layer. Received: {layer!r}. "
            + (
                f"This model's convolutions are: {', '.join(known)}."
                if known
                else "This model has no convolution layers."
            )
        )
    if max_filters is not None and max_filters < 1:
        raise InputError(f"Expected max_filters of at least 1. Received: {max_filters}.")
    layer_object = find_layer(model, path.split(graph.PATH_SEPARATOR))
    class_name = type(layer_object).__name__
    kernels, bias = _kernel_filters(layer_object, class_name)
    norms = np.sqrt(np.square(kernels.astype(np.float64)).sum(axis=(1, 2, 3)))
    order = np.argsort(-norms, kind="stable")
    if max_filters is not None:
        order = order[:max_filters]
    first = _first_convolution(layers, path)
    rgb = first and kernels.shape[-1] == 3 and any(s[-1:] == (3,) for s in layers.input_shapes)
    return FiltersInfo(
        kernels=kernels[order],
        norms=norms[order],
        order=order.astype(np.int64),
        rgb=bool(rgb),
        layer=path,
        class_name=class_name,
        bias=None if bias is None else bias[order],
        first_layer=bool(first),
        num_filters=int(kernels.shape[0]),
    )


# --------------------------------------------------------------------------------------------
# Feature maps.

# Rebuilt graphs per model, so browsing samples does not rebuild the graph each time; weak keys let
# a model that is no longer used go.
_TAPPED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tapped(model: Any, layer: str, score: str = "probability") -> Any:
    per_model = _TAPPED.setdefault(model, {})
    key = (layer, score)
    if key not in per_model:
        per_model[key] = graph.tap_model(model, [layer], score=score)
    return per_model[key]


@dataclass(frozen=True, eq=False)
class FeatureMapsInfo(ValueEquality):
    """One sample's activations of a spatial or sequence layer.

    Attributes:
        maps: ``(C, H, W)`` float32; a sequence layer's ``(steps, channels)`` is ``(C, 1, steps)``.
        mean_activation: ``(C,)`` mean of each map.
        max_activation: ``(C,)`` maximum of each map.
        order: ``(C,)`` channel indices, the most active first (for the top k): by mean activation,
            or by mean absolute activation when the maps have negative values (a normalization's
            or an attention layer's output, where a strongly negative channel is as active).
        fraction_zero: ``(C,)`` share of each map that is zero (a channel dead for this sample).
        layer: the layer's path.
        index: the sample's index.
        input: the sample as the model takes it (uint8 images cast to float32); of a model of
            several inputs, the input drawn beside the maps: its image input (the first of
            ``(H, W, C)``), else its first.
        sequence: the layer outputs one vector per step (time steps, tokens): the maps are drawn
            as one time x channel picture rather than as small images.
        input_name: the name of the model input ``input`` is.
    """

    maps: np.ndarray
    mean_activation: np.ndarray
    max_activation: np.ndarray
    order: np.ndarray
    fraction_zero: np.ndarray
    layer: str
    index: int
    input: np.ndarray
    sequence: bool = False
    input_name: str = ""

    @property
    def signed(self) -> bool:
        """Some value is negative: draw on a diverging scale centred on zero."""
        return bool(self.maps.size and float(self.maps.min()) < 0)


# Output dtypes per model, so listing the layers does not trace the model again on every rerun.
_DTYPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _output_dtypes(model: Any) -> dict[str, str]:
    """Each layer path's output dtype (the first output's, for layers with several)."""
    if model not in _DTYPES:
        _, recorded, _ = graph._run(model, graph._model_inputs(model), None, None, None)
        dtypes = {}
        for path, value in recorded.items():
            first = value[0] if isinstance(value, (list, tuple)) else value
            dtypes[path] = str(getattr(first, "dtype", ""))
        _DTYPES[model] = dtypes
    return _DTYPES[model]


def _is_float(dtype: str) -> bool:
    return "float" in dtype


def _shown_input(model: Any, arrays: Sequence[np.ndarray]) -> int:
    """Which of the model's inputs to draw beside its maps: the first image (``(H, W, C)``,
    floating point), else the first."""
    for position, array in enumerate(arrays):
        if array.ndim == 4 and array.dtype.kind == "f":
            return position
    return 0


def feature_map_layers(model: Any) -> list[str]:
    """Paths of the layers whose output can be drawn as maps, in model order.

    Images' ``(H, W, C)`` maps, and sequences' ``(steps, channels)`` of more than one step or of
    steps the graph leaves open (a 1-D convolution, an LSTM returning sequences, a text model's
    embeddings, attention and feed-forward outputs), from every branch of a model of several
    inputs. Outputs that are not floating point (a padding mask, positions) are
    left out.
    """
    layers = graph.graph_layers(model)
    dtypes = _output_dtypes(model)
    chosen = []
    for entry in layers.layers:
        shape = entry.output_shape
        image = entry.spatial and len(shape) == 3
        # A sequence of steps not fixed in the graph (a text model's) counts: a sample has them.
        sequence = len(shape) == 2 and (shape[0] is None or shape[0] > 1)
        # Convolution classes are also matched by name, so a 1-D convolution's (steps, channels)
        # output counts even when its layer keeps its kernel under another attribute name.
        convolution = entry.class_name in CONVOLUTION_CLASSES and len(shape) in (2, 3)
        if (image or sequence or convolution or entry.spatial) and _is_float(
            dtypes.get(entry.path, "float32")
        ):
            chosen.append(entry.path)
    return chosen


def feature_maps_info(model: Any, x: np.ndarray, layer: str, *, index: int = 0) -> FeatureMapsInfo:
    """The feature maps of ``layer`` for the sample ``x[index]``.

    Args:
        model: a functional or Sequential Keras model.
        x: samples as the model takes them; for a model of several inputs a packed set, a dict
            by input name or a list in the model's input order (see ``graph.model_inputs``):
            every input is fed.
        layer: a path from :func:`feature_map_layers`.
        index: which sample.

    Returns:
        The maps and their statistics.

    Raises:
        InputError: an index out of range, samples of the wrong shape, or a layer whose output is
            not a feature map or a sequence.
    """
    if isinstance(x, dict):
        count = len(next(iter(x.values()), ()))
    elif isinstance(x, (list, tuple)):
        count = len(x[0]) if x else 0
    else:
        x = np.asarray(x)
        count = len(x)
    if not -count <= index < count:
        raise InputError(
            f"Expected a sample index from 0 to {count - 1}. Received: {index}. "
            "Choose a sample of this set."
        )
    index = int(index) % count
    spatial = feature_map_layers(model)
    if layer not in spatial:
        raise InputError(
            f"Expected a layer whose output is a feature map. Received: {layer!r}. "
            + (
                f"This model's are: {', '.join(spatial[:12])}{', ...' if len(spatial) > 12 else ''}."
                if spatial
                else "This model has none."
            )
        )
    rows = slice(index, index + 1)
    if isinstance(x, dict):
        arrays = graph.model_inputs(model, {name: value[rows] for name, value in x.items()})
    elif isinstance(x, (list, tuple)):
        arrays = graph.model_inputs(model, [value[rows] for value in x])
    else:
        arrays = graph.model_inputs(model, x[rows])
    activation = np.asarray(graph.call_tapped(_tapped(model, layer), *arrays)[1], dtype=np.float32)
    activation = activation[0]
    sequence = activation.ndim == 2  # (steps, channels)
    maps = np.transpose(activation)[:, None, :] if sequence else np.moveaxis(activation, -1, 0)
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    flat = maps.reshape(maps.shape[0], -1).astype(np.float64)
    mean = flat.mean(axis=1)
    strength = np.abs(flat).mean(axis=1) if (flat < 0).any() else mean
    return FeatureMapsInfo(
        maps=maps,
        mean_activation=mean,
        max_activation=flat.max(axis=1),
        order=np.argsort(-strength, kind="stable").astype(np.int64),
        fraction_zero=(np.abs(flat) <= ZERO_TOLERANCE).mean(axis=1),
        layer=layer,
        index=index,
        input=np.asarray(arrays[_shown_input(model, arrays)][0]),
        sequence=bool(sequence),
        input_name=graph.input_names(model)[_shown_input(model, arrays)],
    )


# --------------------------------------------------------------------------------------------
# Activation maximization.


@dataclass(frozen=True, eq=False)
class ActivationMaxInfo(ValueEquality):
    """An input made by gradient ascent to excite one unit, and how the ascent went.

    Attributes:
        image: ``(H, W, C)`` float32 within ``input_range``.
        objective: ``(steps,)`` the maximized value after each step, measured on the image itself
            (not its jittered copy), so the trace shows how the picture improves.
        layer: the layer's path.
        unit: the channel (spatial layers: mean over the map) or unit (dense layers).
        start_activation: the activation of the starting noise.
        final_activation: the activation of ``image``.
        steps, learning_rate, jitter, l2, blur_every, blur_sigma, total_variation, seed, score,
        input_range: the settings used (``steps`` after :func:`graph.capped_steps`, ``jitter``
            after its default is resolved).
        objective_name: what was maximized, in words (``"logit of class 3 (the output layer
            'probabilities' before its softmax)"``).
        value_name: the short name of that value for an axis (``"logit"``, ``"probability"``,
            ``"mean activation"``, ``"activation"``).
    """

    image: np.ndarray
    objective: np.ndarray
    layer: str
    unit: int
    start_activation: float
    final_activation: float
    steps: int
    learning_rate: float
    jitter: int
    l2: float
    blur_every: int
    blur_sigma: float
    total_variation: float
    seed: int
    score: str
    input_range: tuple[float, float]
    objective_name: str = ""
    value_name: str = "activation"

    def last_change(self, share: float = SETTLING_SHARE) -> float:
        """How much the value moved over the last ``share`` of the steps, as a share of its
        whole rise (about 0 when the ascent has settled; 0 when it did not rise at all)."""
        trace = np.asarray(self.objective, dtype=np.float64)
        if len(trace) < 2:
            return 0.0
        tail = trace[-max(2, math.ceil(share * len(trace))) :]
        rise = float(trace.max() - min(trace.min(), self.start_activation))
        return float(np.ptp(tail) / rise) if rise > 0 else 0.0


REASON_VIEWS = ("activation_maximization",)


def reason(model: Any, view: str = "activation_maximization") -> str | None:
    """Why a view of this module cannot run on ``model``, or None when it can.

    Args:
        model: a Keras model.
        view: ``"activation_maximization"`` (an input optimized to excite one unit).

    Raises:
        InputError: ``view`` is not one of :data:`REASON_VIEWS`.
    """
    if view not in REASON_VIEWS:
        raise InputError(f"Expected a view in {REASON_VIEWS}. Received: {view!r}.")
    return _activation_maximization_reason(model)


def _activation_maximization_reason(model: Any) -> str | None:
    """Why activation maximization cannot run on ``model``, or None when it can."""
    if not graph.supports(model):
        return (
            "This model has no functional graph, so its inner layers cannot be reached; build it "
            "with the functional API or as a Sequential model with an Input."
        )
    layers = graph.graph_layers(model)
    if len(layers.input_shapes) != 1:
        return (
            f"The model takes {len(layers.input_shapes)} inputs; activation maximization "
            "optimizes a single image input."
        )
    dtype = layers.input_dtypes[0]
    if "int" in dtype or "bool" in dtype:
        return (
            f"The model takes {dtype} inputs (token ids): ids are discrete, so they cannot be "
            "changed a little along a gradient. Activation maximization needs an image input; "
            "for text models see which tokens drive a unit with attribution instead."
        )
    shape = layers.input_shapes[0]
    if len(shape) != 3 or any(size is None for size in shape):
        return (
            f"The model takes inputs of shape {shape_text((None, *shape))}; activation "
            "maximization needs images of a fixed size (height, width, channels)."
        )
    return None


def activation_layers(model: Any) -> list[str]:
    """Paths of the layers whose units or channels activation maximization can excite.

    Every layer call after the input's preprocessing, except dropout (the identity at inference),
    the model's output layer last.

    Raises:
        UnsupportedModelError: the model cannot be optimized (see
            :func:`reason`).
    """
    reason = _activation_maximization_reason(model)
    if reason is not None:
        raise UnsupportedModelError(reason)
    return [
        entry.path
        for entry in graph.graph_layers(model).layers
        if entry.class_name not in PREPROCESSING_CLASSES
        and "Dropout" not in entry.class_name
        and len(entry.output_shape) >= 1
    ]


def default_input_range(model: Any) -> tuple[float, float]:
    """The range of the model's inputs, guessed for when the model card does not say it.

    ``(0, 255)`` when the first layer rescales by 1/255 (the model takes raw pixel values, as
    shapes_cnn does), else ``(0, 1)``.
    """
    for layer in getattr(model, "layers", []):
        name = type(layer).__name__
        if name == "InputLayer":
            continue
        scale = getattr(layer, "scale", None) if name == "Rescaling" else None
        if scale is not None and np.ndim(scale) == 0 and math.isclose(float(scale), PIXEL_SCALE):
            return PIXEL_RANGE
        break
    return UNIT_RANGE


def _check_range(input_range: Sequence[float] | None, model: Any) -> tuple[float, float]:
    if input_range is None:
        return default_input_range(model)
    try:
        low, high = (float(value) for value in input_range)
    except (TypeError, ValueError):
        raise InputError(
            f"Expected input_range as (low, high). Received: {input_range!r}."
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InputError(
            f"Expected an input range with low < high. Received: {input_range!r}. "
            "Use the range the model's inputs come in, e.g. (0, 1) or (0, 255)."
        )
    return low, high


def _unit_count(model: Any, layer: str, score: str) -> int:
    tapped = _tapped(model, layer, score)
    shape = tapped.outputs[1].shape
    return int(shape[-1])


def _blur(values: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage

    return ndimage.gaussian_filter(values, sigma=(0, sigma, sigma, 0), mode="reflect")


def _gaussian_kernel(sigma: float, height: int, width: int, channels: int) -> np.ndarray:
    """A ``(k, k, channels, 1)`` depthwise Gaussian, its radius at most 3 sigma and the image."""
    radius = min(math.ceil(3 * sigma), height - 1, width - 1) if sigma > 0 else 0
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    line = np.exp(-0.5 * (offsets / sigma) ** 2) if sigma > 0 else np.ones(1)
    line /= line.sum()
    kernel = np.outer(line, line)
    return np.repeat(kernel[:, :, None, None], channels, axis=2).astype(np.float32)


def default_regularization(model: Any) -> dict[str, float | int]:
    """The ``jitter`` and ``blur_sigma`` the ascent uses on this model's images by default.

    Raises:
        UnsupportedModelError: the model cannot be optimized.
    """
    reason = _activation_maximization_reason(model)
    if reason is not None:
        raise UnsupportedModelError(reason)
    height, width = (int(size) for size in graph.graph_layers(model).input_shapes[0][:2])
    return {
        "jitter": _resolved_jitter(None, height, width),
        "blur_sigma": _resolved_blur(None, height, width),
    }


def _resolved_jitter(jitter: int | None, height: int, width: int) -> int:
    if jitter is None:
        return int(min(height, width) // JITTER_PIXELS_PER)
    return int(jitter)


def _resolved_blur(sigma: float | None, height: int, width: int) -> float:
    if sigma is None:
        return max(MIN_BLUR_SIGMA, round(min(height, width) / BLUR_PIXELS_PER, 1))
    return float(sigma)


def _objective_name(model: Any, layer: str, unit: int, score: str, rank: int) -> tuple[str, str]:
    """What the ascent maximizes, in words, and a short name for the value's axis."""
    output_layer = graph._output_operation(model)[0]
    activation = graph.graph_layers(model).output_activation
    if layer == output_layer:
        squashed = activation in graph.SQUASHING_ACTIVATIONS
        if score == "logit" and squashed:
            return (
                f"logit of class {unit} (the output layer '{layer}' before its {activation}, "
                "the pre-softmax score)",
                "logit",
            )
        if squashed:
            return f"{activation} output (probability) of class {unit} of '{layer}'", "probability"
        return f"output {unit} of '{layer}' (it has no squashing activation)", "output"
    if rank > 2:
        return f"mean of channel {unit} of '{layer}' over its positions", "mean activation"
    return f"unit {unit} of '{layer}'", "activation"


# tf.functions per model and (layer, score), traced once; settings enter as tensors so changing a
# slider does not trace again.
_ASCENT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ascent_functions(model: Any, layer: str, score: str):
    per_model = _ASCENT.setdefault(model, {})
    key = (layer, score)
    if key in per_model:
        return per_model[key]
    import tensorflow as tf

    tapped = _tapped(model, layer, score)

    def unit_values(images):
        value = tf.cast(graph.call_tapped(tapped, images)[1], tf.float32)
        if len(value.shape) > 2:
            value = tf.reduce_mean(value, axis=list(range(1, len(value.shape) - 1)))
        return value  # (batch, units)

    def activation(images, mask):
        return tf.reduce_sum(unit_values(images) * mask, axis=-1)  # each image's own unit

    @tf.function(reduce_retracing=True)
    def step(
        pixels, first, second, count, low, scale, shifts, mask, rate, l2, total_variation, kernel
    ):
        """One Adam step on the regularized objective; returns the new state and the objective
        of the new image (without jitter)."""
        with tf.GradientTape() as tape:
            tape.watch(pixels)
            moved = tf.roll(pixels, shift=shifts, axis=[1, 2])
            total = tf.reduce_sum(activation(low + scale * moved, mask))
        gradient = tape.gradient(total, pixels)
        # Smoothing the gradient (not the image) keeps high frequencies out without the sudden
        # drops a periodic blur of the image gives.
        radius = (tf.shape(kernel)[0] - 1) // 2
        padded = tf.pad(
            gradient, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT"
        )
        gradient = tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
        # Normalized per image, so the regularizer weights mean the same for every layer, unit
        # and input range.
        rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3], keepdims=True))
        gradient = gradient / (rms + GRADIENT_EPSILON)
        with tf.GradientTape() as penalty_tape:
            penalty_tape.watch(pixels)
            centred = pixels - 0.5
            dy = pixels[:, 1:, :, :] - pixels[:, :-1, :, :]
            dx = pixels[:, :, 1:, :] - pixels[:, :, :-1, :]
            penalty = l2 * tf.reduce_sum(tf.square(centred)) + total_variation * (
                tf.reduce_sum(tf.square(dy)) + tf.reduce_sum(tf.square(dx))
            )
        ascent = gradient - penalty_tape.gradient(penalty, pixels)
        beta_1, beta_2 = ADAM_BETAS
        first = beta_1 * first + (1 - beta_1) * ascent
        second = beta_2 * second + (1 - beta_2) * tf.square(ascent)
        unbiased_first = first / (1 - tf.pow(beta_1, count))
        unbiased_second = second / (1 - tf.pow(beta_2, count))
        change = rate * unbiased_first / (tf.sqrt(unbiased_second) + ADAM_EPSILON)
        updated = tf.clip_by_value(pixels + change, 0.0, 1.0)
        return updated, first, second, activation(low + scale * updated, mask)

    def evaluate(images):
        return unit_values(images)  # twice per ascent: eager is cheaper than a trace

    per_model[key] = (step, evaluate)
    return per_model[key]


def _ascend(
    model: Any,
    layer: str | None,
    units: Sequence[int],
    *,
    steps: int,
    learning_rate: float,
    jitter: int | None,
    l2: float,
    blur_every: int,
    blur_sigma: float | None,
    total_variation: float,
    seed: int,
    score: str,
    input_range: Sequence[float] | None,
    progress: Callable[[float], Any] | None,
) -> list[ActivationMaxInfo]:
    reason = _activation_maximization_reason(model)
    if reason is not None:
        raise UnsupportedModelError(reason)
    if score not in graph.SCORES:
        raise InputError(f"Expected a score in {graph.SCORES}. Received: {score!r}.")
    layers = graph.graph_layers(model)
    paths = [entry.path for entry in layers.layers]
    if layer is None:
        layer = graph._output_operation(model)[0]
    if layer not in paths:
        raise InputError(
            f"Expected a layer of the model. Received: {layer!r}. It has: "
            f"{', '.join(paths[:12])}{', ...' if len(paths) > 12 else ''}."
        )
    count = _unit_count(model, layer, score)
    for unit in units:
        if not 0 <= int(unit) < count:
            raise InputError(
                f"Expected a unit of {layer!r} from 0 to {count - 1}. Received: {unit}."
            )
    height, width, channels = (int(size) for size in layers.input_shapes[0])
    jitter = _resolved_jitter(jitter, height, width)
    blur_sigma = _resolved_blur(blur_sigma, height, width)
    for name, value in (
        ("learning_rate", learning_rate),
        ("l2", l2),
        ("blur_sigma", blur_sigma),
        ("total_variation", total_variation),
    ):
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"Expected {name} >= 0. Received: {value!r}.")
    if jitter < 0 or int(blur_every) < 0 or int(steps) < 1:
        raise InputError(
            f"Expected steps >= 1, jitter >= 0 and blur_every >= 0. Received: steps={steps}, "
            f"jitter={jitter}, blur_every={blur_every}."
        )
    import tensorflow as tf

    low, high = _check_range(input_range, model)
    steps = graph.capped_steps(steps)
    batch = len(units)
    units = [int(unit) for unit in units]
    rng = np.random.default_rng(seed)
    step, evaluate = _ascent_functions(model, layer, score)
    # A ReLU unit that is zero everywhere on the start has no gradient and would never move: each
    # unit starts from the best of a few noise images of growing strength.
    scales = np.geomspace(INITIAL_NOISE, MAX_INITIAL_NOISE, START_CANDIDATES)
    noise = rng.standard_normal((START_CANDIDATES, height, width, channels))
    candidates = (0.5 + scales[:, None, None, None] * noise).clip(0.0, 1.0).astype(np.float32)
    candidate_values = evaluate(tf.constant(low + (high - low) * candidates)).numpy()
    chosen = candidate_values[:, units].argmax(axis=0)
    start = candidates[chosen]
    start_values = candidate_values[chosen, units]
    mask = np.zeros((batch, count), dtype=np.float32)
    mask[np.arange(batch), units] = 1.0
    low_t, scale_t, l2_t, tv_t = (
        tf.constant(value, tf.float32) for value in (low, high - low, l2, total_variation)
    )
    kernel_t = tf.constant(_gaussian_kernel(float(blur_sigma), height, width, channels))
    mask_t = tf.constant(mask)
    pixels = tf.constant(start)
    first = tf.zeros_like(pixels)
    second = tf.zeros_like(pixels)
    # Cosine decay from the learning rate to a small share of it: big steps find the peak, small
    # ones settle on it, so the last steps change the picture (and the score) very little.
    progress_share = np.arange(steps) / max(steps - 1, 1)
    rates = learning_rate * (
        FINAL_LEARNING_RATE_SHARE
        + (1 - FINAL_LEARNING_RATE_SHARE) * 0.5 * (1 + np.cos(np.pi * progress_share))
    )
    objective = np.zeros((steps, batch), dtype=np.float64)
    for index in range(steps):
        shifts = rng.integers(-jitter, jitter + 1, size=2) if jitter else np.zeros(2, np.int64)
        pixels, first, second, values = step(
            pixels,
            first,
            second,
            tf.constant(index + 1, tf.float32),
            low_t,
            scale_t,
            tf.constant(shifts, tf.int32),
            mask_t,
            tf.constant(rates[index], tf.float32),
            l2_t,
            tv_t,
            kernel_t,
        )
        if blur_every and blur_sigma > 0 and (index + 1) % blur_every == 0:
            pixels = tf.constant(_blur(pixels.numpy(), blur_sigma))
            blurred = evaluate(low + (high - low) * pixels).numpy()
            values = tf.constant(blurred[np.arange(batch), units])
        objective[index] = values.numpy()
        if progress is not None and ((index + 1) % PROGRESS_EVERY == 0 or index + 1 == steps):
            progress((index + 1) / steps)
    final_unit = np.clip(pixels.numpy(), 0.0, 1.0)
    images = np.clip(low + (high - low) * final_unit, low, high).astype(np.float32)
    final_values = evaluate(tf.constant(images)).numpy()[np.arange(batch), units]
    rank = len(_tapped(model, layer, score).outputs[1].shape) - 1
    return [
        ActivationMaxInfo(
            image=images[position],
            objective=objective[:, position].copy(),
            layer=layer,
            unit=int(unit),
            start_activation=float(start_values[position]),
            final_activation=float(final_values[position]),
            steps=int(steps),
            learning_rate=float(learning_rate),
            jitter=int(jitter),
            l2=float(l2),
            blur_every=int(blur_every),
            blur_sigma=float(blur_sigma),
            total_variation=float(total_variation),
            seed=int(seed),
            score=score,
            input_range=(float(low), float(high)),
            objective_name=(names := _objective_name(model, layer, int(unit), score, rank))[0],
            value_name=names[1],
        )
        for position, unit in enumerate(units)
    ]


def activation_maximization_info(
    model: Any,
    layer: str | None,
    unit: int,
    *,
    steps: int = DEFAULT_STEPS,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    jitter: int | None = DEFAULT_JITTER,
    l2: float = DEFAULT_L2,
    blur_every: int = DEFAULT_BLUR_EVERY,
    blur_sigma: float | None = DEFAULT_BLUR_SIGMA,
    total_variation: float = DEFAULT_TOTAL_VARIATION,
    seed: int = 0,
    score: str = "logit",
    input_range: Sequence[float] | None = None,
    progress: Callable[[float], Any] | None = None,
) -> ActivationMaxInfo:
    """An input that maximizes one channel or unit, by regularized gradient ascent.

    Starts from the best (for this unit) of a few noise images around the middle of the input
    range, of growing strength, so a ReLU unit silent on faint noise still gets a gradient. At
    each step it rolls the image by up to ``jitter`` pixels (wrapping around), takes the gradient
    of the unit's value (the mean over the map for spatial layers; for the output layer of a
    classifier the *logit*, the output before its softmax, by default), smooths it with a
    Gaussian of ``blur_sigma`` pixels, normalizes it, subtracts the gradients of the L2 and
    total-variation penalties and takes an Adam step whose size decays (cosine) from
    ``learning_rate`` to 2% of it, clipped to the input range. The ascent runs in a [0, 1] copy of
    the input range, so the settings mean the same for pixels in [0, 255] as in [0, 1]. The trace
    is the value of the image after each step (not its jittered copy): it rises and flattens
    when the ascent has converged.

    Args:
        model: a model with one float image input ``(H, W, C)``.
        layer: a layer path (:func:`graph.graph_layers`); None for the model's output layer.
        unit: the channel (spatial layers) or unit (dense layers); the class for the output.
        steps: ascent steps (lowered by ``$NEUROGENESIS_MAX_STEPS``).
        learning_rate: Adam's first step size in the [0, 1] input space.
        jitter: maximum random roll in pixels per step (0: none; None: one pixel per 16 of the
            image's smaller side).
        l2: weight of the pull towards mid-grey.
        blur_every: also blur the image itself every this many steps (0: never).
        blur_sigma: the Gaussian's standard deviation in pixels (gradient smoothing, and the
            image blur when ``blur_every`` is set; 0: none; None: the image's smaller side / 20,
            at least 0.5).
        total_variation: weight of the penalty on differences between neighbouring pixels.
        seed: seeds the starting noise and the jitter.
        score: ``"logit"`` maximizes the output layer before its softmax (a class's probability
            can also rise by lowering the others, and saturates); ``"probability"`` as the model
            outputs it. Layers other than the output are the same either way.
        input_range: ``(low, high)`` of the inputs (the model card's); default
            :func:`default_input_range`.
        progress: called with the share of steps done after each step.

    Returns:
        The image and the activation trace.

    Raises:
        UnsupportedModelError: the model does not take one float image input (token ids cannot
            follow a gradient).
        InputError: an unknown layer or unit, or a bad setting.
    """
    return _ascend(
        model,
        layer,
        [unit],
        steps=steps,
        learning_rate=learning_rate,
        jitter=jitter,
        l2=l2,
        blur_every=blur_every,
        blur_sigma=blur_sigma,
        total_variation=total_variation,
        seed=seed,
        score=score,
        input_range=input_range,
        progress=progress,
    )[0]

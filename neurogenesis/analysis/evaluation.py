"""Where a model goes wrong, whether model A really beats model B, and what a model costs to run.

Pure computation for the evaluation page and ``neurogenesis compare``, on labels, probabilities
and correctness arrays (models only enter through :func:`~neurogenesis.analysis.features.prediction_info`
and :func:`profile_info`):

- Error analysis: ``confusion_info`` (matrix, per-class precision/recall/F1 as
  ``sklearn.metrics.precision_recall_fscore_support(zero_division=0)``, and the samples of each
  cell), ``confident_mistakes``, ``calibration_info`` (reliability diagram, expected and maximum
  calibration error of Guo et al. 2017, Brier score), ``slice_info`` (accuracy or error per value
  of a metadata column, Wilson intervals for accuracies) and ``residual_info`` for regression.
- A/B comparison on the same samples: ``mcnemar_info`` (exact McNemar test on the discordant
  pairs), ``paired_bootstrap_info`` (percentile interval of the accuracy difference),
  ``paired_error_info`` (regression: Wilcoxon signed-rank test and paired bootstrap of the mean
  difference of absolute errors),
  ``disagreements``, ``seed_comparison_info`` (scores of several training seeds: t-test and
  Wilcoxon / Mann-Whitney) and ``comparison_report`` (the dict ``neurogenesis compare --json``
  prints).
- Cost: ``profile_info`` (latency, throughput, parameters, weight and activation memory) and
  ``pareto_front`` (models no other model beats on both cost and score).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from neurogenesis.analysis import graph
from neurogenesis.analysis.features import PredictionInfo, prediction_info
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "reason",
    "CALIBRATION_STRATEGIES",
    "DEFAULT_BATCH_SIZES",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_NUM_BINS",
    "DEFAULT_NUM_MISTAKES",
    "DEFAULT_NUM_RESAMPLES",
    "DEFAULT_REPEATS",
    "MAX_SLICE_GROUPS",
    "MIN_WILCOXON_PAIRS",
    "PROFILE_METHOD",
    "BootstrapInfo",
    "CalibrationInfo",
    "ConfusionInfo",
    "ErrorComparisonInfo",
    "McNemarInfo",
    "MistakesInfo",
    "ProfileInfo",
    "ResidualInfo",
    "SeedComparisonInfo",
    "SliceInfo",
    "calibration_info",
    "comparison_report",
    "confident_mistakes",
    "confusion_info",
    "disagreements",
    "largest_errors",
    "mcnemar_info",
    "month_groups",
    "paired_bootstrap_info",
    "paired_error_info",
    "pareto_front",
    "prediction_slices",
    "profile_info",
    "residual_info",
    "same_predictions",
    "seed_comparison_info",
    "slice_columns",
    "slice_info",
]

CALIBRATION_STRATEGIES = ("uniform", "quantile")
DEFAULT_NUM_BINS = 15
DEFAULT_NUM_MISTAKES = 20
# A metadata column with more distinct values than this is an identifier, not a slice.
MAX_SLICE_GROUPS = 40
DEFAULT_CONFIDENCE = 0.95
DEFAULT_NUM_RESAMPLES = 10_000
DEFAULT_SEED = 0
DEFAULT_BATCH_SIZES = (1, 8, 32, 128)
DEFAULT_REPEATS = 5
DEFAULT_WARMUP = 1
DEFAULT_PREDICT_BATCH_SIZE = 256
# Below 6 pairs the exact two-sided Wilcoxon p-value cannot drop under 2 / 2**5 = 0.0625.
MIN_WILCOXON_PAIRS = 6
# Resample index matrices are cut into row chunks of at most this many entries (32 MB of int64).
BOOTSTRAP_CHUNK_ENTRIES = 4_000_000
PROFILE_METHOD = "model(x, training=False)"
"""How ``profile_info`` times a batch: an eager call in inference mode, output copied to numpy."""
CLASSIFICATION_TASKS = ("classification", "binary")


# --------------------------------------------------------------------------------------------
# Input checks.


def _vector(values: Any, name: str, *, kind: str | None = None) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(
            f"Expected {name} as one value per sample, shape (N,). Received: shape {array.shape}. "
            "Pass a flat array."
        )
    if kind == "bool":
        if array.dtype.kind == "b":
            return array
        if array.dtype.kind in "iuf" and np.isin(array, (0, 1)).all():
            return array.astype(bool)
        raise InputError(
            f"Expected {name} as booleans (True where the prediction is right). Received: "
            f"dtype {array.dtype}. Pass predicted == labels."
        )
    if kind == "int":
        if array.dtype.kind in "iu":
            return array.astype(np.int64)
        if (
            array.dtype.kind in "fb"
            and np.all(np.isfinite(array))
            and np.all(array == np.rint(array))
        ):
            return array.astype(np.int64)
        raise InputError(
            f"Expected {name} as class indices (integers). Received: dtype {array.dtype}. "
            "Pass class numbers, not probabilities or names."
        )
    return array


def _same_length(*named: tuple[str, np.ndarray]) -> int:
    lengths = {name: len(array) for name, array in named}
    if len(set(lengths.values())) != 1:
        text = ", ".join(f"{name}: {length}" for name, length in lengths.items())
        raise InputError(
            f"Expected one value per sample in every array. Received lengths {text}. "
            "Pass arrays computed on the same samples."
        )
    (length,) = set(lengths.values())
    return int(length)


def _check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise InputError(
            f"Expected a confidence level between 0 and 1 (0.95 for 95%). Received: {confidence}."
        )
    return confidence


def _float(value: Any) -> float:
    return float(value) if value is not None else math.nan


# --------------------------------------------------------------------------------------------
# Confusion matrix and per-class metrics.


@dataclass(frozen=True, eq=False)
class ConfusionInfo(ValueEquality):
    """A confusion matrix with per-class and averaged precision, recall and F1.

    Attributes:
        matrix: ``(K, K)`` int64 counts, rows the true class, columns the predicted class.
        labels: ``(N,)`` true classes, kept so that :meth:`indices` can find a cell's samples.
        predicted: ``(N,)`` predicted classes.
        label_names: the class names (numbers when none were given).
        precision, recall, f1: ``(K,)`` per class; 0 where undefined (``zero_division=0``).
        support: ``(K,)`` int64 samples of each true class.
        macro_precision, macro_recall, macro_f1: unweighted means over classes.
        weighted_precision, weighted_recall, weighted_f1: means weighted by support.
        accuracy: share of samples on the diagonal.
    """

    matrix: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    label_names: tuple[str, ...]
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    macro_precision: float
    macro_recall: float
    macro_f1: float
    weighted_precision: float
    weighted_recall: float
    weighted_f1: float
    accuracy: float

    @property
    def num_classes(self) -> int:
        return int(self.matrix.shape[0])

    def indices(self, true: int, predicted: int) -> np.ndarray:
        """Sample indices of the cell (``true``, ``predicted``), in sample order."""
        return np.flatnonzero((self.labels == int(true)) & (self.predicted == int(predicted)))


def confusion_info(
    labels: Any,
    predicted: Any,
    num_classes: int,
    label_names: Sequence[str] | None = None,
) -> ConfusionInfo:
    """Counts every (true, predicted) pair and derives per-class metrics.

    Args:
        labels: ``(N,)`` true class indices.
        predicted: ``(N,)`` predicted class indices.
        num_classes: K; classes that never occur still get a row and a column.
        label_names: K class names.

    Returns:
        The confusion matrix and metrics.

    Raises:
        InputError: arrays of different lengths, classes outside ``[0, K)``, or K names missing.
    """
    labels = _vector(labels, "labels", kind="int")
    predicted = _vector(predicted, "predicted", kind="int")
    n = _same_length(("labels", labels), ("predicted", predicted))
    k = int(num_classes)
    if k < 1:
        raise InputError(f"Expected at least one class. Received: num_classes={num_classes}.")
    for name, array in (("labels", labels), ("predicted", predicted)):
        if n and (array.min() < 0 or array.max() >= k):
            raise InputError(
                f"Expected {name} between 0 and {k - 1}. Received values from {array.min()} to "
                f"{array.max()}. Pass num_classes matching the model's output."
            )
    if label_names is None:
        names = tuple(str(i) for i in range(k))
    else:
        names = tuple(str(name) for name in label_names)
        if len(names) != k:
            raise InputError(
                f"Expected {k} class names. Received: {len(names)}. Pass one name per class."
            )
    matrix = np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k).astype(np.int64)
    true_positive = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted_count = matrix.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_count > 0, true_positive / predicted_count, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        denominator = precision + recall
        f1 = np.where(denominator > 0, 2 * precision * recall / denominator, 0.0)
    total = support.sum()

    def weighted(values: np.ndarray) -> float:
        return float(np.dot(values, support) / total) if total else 0.0

    return ConfusionInfo(
        matrix=matrix,
        labels=labels,
        predicted=predicted,
        label_names=names,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support.astype(np.int64),
        macro_precision=float(precision.mean()),
        macro_recall=float(recall.mean()),
        macro_f1=float(f1.mean()),
        weighted_precision=weighted(precision),
        weighted_recall=weighted(recall),
        weighted_f1=weighted(f1),
        accuracy=float(true_positive.sum() / n) if n else math.nan,
    )


# --------------------------------------------------------------------------------------------
# Confident mistakes.


@dataclass(frozen=True, eq=False)
class MistakesInfo(ValueEquality):
    """The wrong predictions the model was surest of, most confident first.

    Attributes:
        indices: ``(M,)`` sample indices.
        confidence: ``(M,)`` probability given to the (wrong) predicted class.
        true: ``(M,)`` true classes.
        predicted: ``(M,)`` predicted classes.
        num_wrong: all wrong predictions, of which at most ``k`` are listed.
    """

    indices: np.ndarray
    confidence: np.ndarray
    true: np.ndarray
    predicted: np.ndarray
    num_wrong: int

    def __len__(self) -> int:
        return int(self.indices.shape[0])


def confident_mistakes(info: PredictionInfo, k: int = DEFAULT_NUM_MISTAKES) -> MistakesInfo:
    """The ``k`` wrong predictions with the highest confidence (ties: lower sample index first).

    Args:
        info: predictions of a classifier, with labels.
        k: how many to keep.

    Returns:
        The mistakes.

    Raises:
        InputError: predictions without labels, or not from a classifier.
    """
    if info.task not in CLASSIFICATION_TASKS or info.correct is None or info.confidence is None:
        raise InputError(
            f"Expected classification predictions with labels. Received: a {info.task} task"
            f"{' without labels' if info.labels is None else ''}. Choose a sample set with labels "
            "for a classifier."
        )
    wrong = np.flatnonzero(~info.correct)
    # Stable sort on the negated confidence keeps sample order among equal confidences.
    order = wrong[np.argsort(-info.confidence[wrong], kind="stable")][: max(0, int(k))]
    return MistakesInfo(
        indices=order.astype(np.int64),
        confidence=np.asarray(info.confidence[order], dtype=np.float64),
        true=np.asarray(info.labels[order], dtype=np.int64),
        predicted=np.asarray(info.predicted[order], dtype=np.int64),
        num_wrong=int(wrong.size),
    )


def largest_errors(info: PredictionInfo, k: int = DEFAULT_NUM_MISTAKES) -> np.ndarray:
    """The ``k`` samples with the largest absolute error (mean over outputs), largest first.

    Args:
        info: predictions of a regression, with targets.
        k: how many to keep.

    Returns:
        ``int64`` sample indices.

    Raises:
        InputError: predictions without targets, or not from a regression.
    """
    if info.errors is None:
        raise InputError(
            f"Expected regression predictions with targets. Received: a {info.task} task"
            f"{' without labels' if info.labels is None else ''}. Choose a sample set with "
            "targets for a regression model."
        )
    return np.argsort(-np.asarray(info.errors))[: max(0, int(k))].astype(np.int64)


def same_predictions(
    a: PredictionInfo, b: PredictionInfo, *, atol: float = 0.0, field: str = "outputs"
) -> bool:
    """Whether two models' outputs (or another array ``field`` of their predictions, such as
    ``"errors"``) on the same samples agree within ``atol`` (exactly by default): a copy of a
    model compared with itself says nothing."""
    first, second = getattr(a, field), getattr(b, field)
    if first is None or second is None:
        return first is None and second is None
    if np.shape(first) != np.shape(second):
        return False
    if atol == 0:
        return bool(np.array_equal(first, second))
    return bool(np.allclose(first, second, atol=atol))


# --------------------------------------------------------------------------------------------
# Calibration.


@dataclass(frozen=True, eq=False)
class CalibrationInfo(ValueEquality):
    """Reliability diagram data and calibration errors (Guo et al. 2017).

    A sample falls in bin ``b`` when ``edges[b] < confidence <= edges[b + 1]`` (the first bin also
    takes confidence ``edges[0]``).

    Attributes:
        edges: ``(B + 1,)`` bin edges.
        confidence: ``(B,)`` mean confidence in each bin (NaN for an empty bin).
        accuracy: ``(B,)`` share of correct predictions in each bin (NaN for an empty bin).
        counts: ``(B,)`` int64 samples per bin.
        ece: expected calibration error, ``sum_b n_b / N * |acc_b - conf_b|``.
        mce: maximum calibration error, the largest ``|acc_b - conf_b|`` over non-empty bins.
        brier: Brier score: mean over samples of ``sum_k (p_k - 1[y = k])^2`` for ``(N, K)``
            probabilities, ``mean (p - y)^2`` for a single probability of class 1 (as
            ``sklearn.metrics.brier_score_loss``).
        strategy: ``"uniform"`` (equal-width bins on [0, 1]) or ``"quantile"`` (equal counts).
        num_samples: N.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray
    ece: float
    mce: float
    brier: float
    strategy: str
    num_samples: int


def calibration_info(
    probabilities: Any,
    labels: Any,
    num_bins: int = DEFAULT_NUM_BINS,
    strategy: str = "uniform",
) -> CalibrationInfo:
    """Bins predictions by confidence (the largest probability) and compares with accuracy.

    Args:
        probabilities: ``(N, K)`` class probabilities, or ``(N,)`` / ``(N, 1)`` probabilities of
            class 1 for a binary model (confidence is then ``max(p, 1 - p)``).
        labels: ``(N,)`` true class indices.
        num_bins: B.
        strategy: ``"uniform"`` or ``"quantile"``.

    Returns:
        The reliability diagram and scores.

    Raises:
        InputError: probabilities outside [0, 1] or not of the labels' length, labels outside the
            classes, a bad bin count or strategy.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = _vector(labels, "labels", kind="int")
    if strategy not in CALIBRATION_STRATEGIES:
        raise InputError(
            f"Expected strategy one of {CALIBRATION_STRATEGIES}. Received: {strategy!r}."
        )
    if int(num_bins) < 1:
        raise InputError(f"Expected at least one bin. Received: num_bins={num_bins}.")
    binary = probabilities.ndim == 1 or (probabilities.ndim == 2 and probabilities.shape[1] == 1)
    if binary:
        probabilities = probabilities.reshape(-1)
    elif probabilities.ndim != 2:
        raise InputError(
            f"Expected probabilities of shape (N, K) or (N,). Received: {probabilities.shape}."
        )
    n = _same_length(("probabilities", probabilities), ("labels", labels))
    if n == 0:
        raise InputError("Expected at least one sample. Received: none.")
    if not np.all(np.isfinite(probabilities)) or probabilities.min() < 0 or probabilities.max() > 1:
        raise InputError(
            "Expected probabilities between 0 and 1. Received values from "
            f"{np.nanmin(probabilities):.3g} to {np.nanmax(probabilities):.3g}. Pass the softmax "
            "output (score='probability'), not logits."
        )
    k = 2 if binary else probabilities.shape[1]
    if labels.min() < 0 or labels.max() >= k:
        raise InputError(
            f"Expected labels between 0 and {k - 1}. Received values from {labels.min()} to "
            f"{labels.max()}."
        )
    if binary:
        predicted = (probabilities >= 0.5).astype(np.int64)
        confidence = np.maximum(probabilities, 1.0 - probabilities)
        brier = float(np.mean((probabilities - labels) ** 2))
    else:
        predicted = probabilities.argmax(axis=1)
        confidence = probabilities[np.arange(n), predicted]
        one_hot = np.eye(k)[labels]
        brier = float(np.mean(np.sum((probabilities - one_hot) ** 2, axis=1)))
    correct = (predicted == labels).astype(np.float64)

    bins = int(num_bins)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    else:
        edges = np.quantile(confidence, np.linspace(0.0, 1.0, bins + 1))
        edges[0], edges[-1] = min(edges[0], 0.0), max(edges[-1], 1.0)
    # Left searchsorted on the inner edges gives the number of inner edges strictly below the
    # confidence: the right-closed bin (edges[b], edges[b + 1]].
    which = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(which, minlength=bins).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / counts
        accuracy = np.bincount(which, weights=correct, minlength=bins) / counts
    gaps = np.abs(accuracy - mean_confidence)
    filled = counts > 0
    return CalibrationInfo(
        edges=edges,
        confidence=mean_confidence,
        accuracy=accuracy,
        counts=counts,
        ece=float(np.sum(counts[filled] / n * gaps[filled])),
        mce=float(gaps[filled].max()),
        brier=brier,
        strategy=strategy,
        num_samples=n,
    )


# --------------------------------------------------------------------------------------------
# Slices.


@dataclass(frozen=True, eq=False)
class SliceInfo(ValueEquality):
    """Accuracy or mean error per value of a metadata column.

    Attributes:
        groups: ``(G,)`` distinct group values, sorted.
        counts: ``(G,)`` int64 samples per group.
        values: ``(G,)`` accuracy (share correct) or mean error per group.
        low, high: ``(G,)`` interval bounds: Wilson score interval for accuracies, Student t
            interval of the mean for errors (NaN for a group of one).
        metric: ``"accuracy"`` or ``"error"``.
        overall: accuracy or mean error over all samples.
        confidence: the intervals' confidence level.
    """

    groups: np.ndarray
    counts: np.ndarray
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    metric: str
    overall: float
    confidence: float

    def weakest(self) -> int:
        """The index of the weakest group: the lowest accuracy, or the largest error."""
        return int(np.argmin(self.values) if self.metric == "accuracy" else np.argmax(self.values))


def _wilson(
    successes: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z**2 / n
    center = (p + z**2 / (2 * n)) / denominator
    half = z / denominator * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(center - half, 0.0, 1.0), np.clip(center + half, 0.0, 1.0)


def slice_info(values: Any, groups: Any, *, confidence: float = DEFAULT_CONFIDENCE) -> SliceInfo:
    """Splits correctness (booleans) or errors (floats) by a metadata column.

    Args:
        values: ``(N,)`` booleans (``PredictionInfo.correct``: accuracy per group) or numbers
            (``PredictionInfo.errors``: mean error per group).
        groups: ``(N,)`` group of each sample (booleans, numbers or strings, e.g. the sentiment
            set's ``negated`` or ``keyword`` extras, or :func:`month_groups` of dates).
        confidence: level of the intervals.

    Returns:
        The per-group values.

    Raises:
        InputError: arrays of different lengths, non-finite errors, no samples.
    """
    confidence = _check_confidence(confidence)
    values = _vector(values, "values")
    groups = _vector(groups, "groups")
    n = _same_length(("values", values), ("groups", groups))
    if n == 0:
        raise InputError("Expected at least one sample. Received: none.")
    accuracy = values.dtype.kind == "b"
    if not accuracy:
        if values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
            raise InputError(
                f"Expected booleans (correct) or finite errors. Received: dtype {values.dtype}"
                f"{' with NaN or Inf' if values.dtype.kind == 'f' else ''}."
            )
        values = values.astype(np.float64)
    distinct, inverse = np.unique(groups, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse, minlength=len(distinct)).astype(np.int64)
    sums = np.bincount(inverse, weights=values.astype(np.float64), minlength=len(distinct))
    means = sums / counts
    if accuracy:
        low, high = _wilson(sums, counts.astype(np.float64), confidence)
    else:
        squares = np.bincount(inverse, weights=values**2, minlength=len(distinct))
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = np.maximum(squares - counts * means**2, 0.0) / (counts - 1)
            half = stats.t.ppf(0.5 + confidence / 2, counts - 1) * np.sqrt(variance / counts)
        half = np.where(counts > 1, half, math.nan)
        low, high = means - half, means + half
    return SliceInfo(
        groups=distinct,
        counts=counts,
        values=means,
        low=low,
        high=high,
        metric="accuracy" if accuracy else "error",
        overall=float(values.mean()),
        confidence=confidence,
    )


def month_groups(dates: Any) -> np.ndarray:
    """Month numbers (1 to 12) of ``YYYY-MM-DD`` strings or datetime64 values, for slices.

    Raises:
        InputError: values that are not dates.
    """
    try:
        days = np.asarray(dates).astype("datetime64[D]")
    except (TypeError, ValueError) as error:
        raise InputError(
            f"Expected dates as 'YYYY-MM-DD' strings or datetime64. Received: {error}."
        ) from None
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return months.astype(np.int64)


def slice_columns(sample_set: Any, max_groups: int = MAX_SLICE_GROUPS) -> dict[str, np.ndarray]:
    """The per-sample extras of a sample set that can group its samples into slices: those with
    at most ``max_groups`` distinct values, and dates (named ``date``, ``day``, ``time`` or of a
    datetime type) by month, as ``"<name> (month)"``; in name order.

    Args:
        sample_set: a :class:`~neurogenesis.io.samples.SampleSet`.
        max_groups: the most distinct values a column may have.

    Returns:
        Column name -> ``(N,)`` group of each sample.
    """
    columns = {}
    for name in sorted(sample_set.extras):
        values = sample_set.per_sample(name)
        if values is None or np.asarray(values).ndim != 1:
            continue
        values = np.asarray(values)
        if name.lower() in ("date", "dates", "day", "time") or values.dtype.kind == "M":
            try:
                columns[f"{name} (month)"] = month_groups(values)
                continue
            except InputError:
                pass
        if len(np.unique(values)) <= max_groups:
            columns[name] = values
    return columns


def prediction_slices(info: PredictionInfo, groups: Any) -> SliceInfo:
    """:func:`slice_info` of a model's predictions: accuracy per group for a classifier with
    labels, mean absolute error per group for a regression with targets.

    Raises:
        InputError: predictions with neither correctness nor errors (no labels), or groups of
            another length.
    """
    if info.correct is not None:
        return slice_info(np.asarray(info.correct).astype(bool), groups)
    if info.errors is not None:
        return slice_info(info.errors, groups)
    raise InputError(
        f"Expected predictions with labels to slice. Received: a {info.task} task without "
        "labels. Choose a sample set with labels."
    )


# --------------------------------------------------------------------------------------------
# Regression residuals.


@dataclass(frozen=True, eq=False)
class ResidualInfo(ValueEquality):
    """Residuals of a regression model and their summaries.

    Attributes:
        predictions: ``(N, H)`` predictions (H = 1 for one output).
        targets: ``(N, H)`` true values.
        residuals: ``(N, H)`` ``targets - predictions``.
        mae, rmse: mean absolute and root mean squared error over all entries.
        r2: coefficient of determination (``sklearn.metrics.r2_score``, averaged over steps).
        bias: mean residual (positive: the model predicts too low).
        horizon: ``(H,)`` labels of the steps.
        horizon_mae, horizon_rmse: ``(H,)`` errors per step.
        by_group: mean absolute error (averaged over steps) per group, when groups were given.
    """

    predictions: np.ndarray
    targets: np.ndarray
    residuals: np.ndarray
    mae: float
    rmse: float
    r2: float
    bias: float
    horizon: np.ndarray
    horizon_mae: np.ndarray
    horizon_rmse: np.ndarray
    by_group: SliceInfo | None


def _r2(targets: np.ndarray, predictions: np.ndarray) -> float:
    residual = np.sum((targets - predictions) ** 2, axis=0)
    total = np.sum((targets - targets.mean(axis=0)) ** 2, axis=0)
    # As scikit-learn: a constant target scores 1 when predicted exactly, else 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total > 0, 1 - residual / total, np.where(residual == 0, 1.0, 0.0))
    return float(scores.mean())


def residual_info(
    predictions: Any,
    targets: Any,
    *,
    horizon: Sequence[Any] | None = None,
    groups: Any = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> ResidualInfo:
    """Residuals, MAE, RMSE and R^2 of regression predictions, per step and per group.

    Args:
        predictions: ``(N,)``, ``(N, H)`` or ``(N, H, 1)`` model outputs.
        targets: true values of the same size.
        horizon: H labels for the steps (default 1 to H).
        groups: ``(N,)`` group of each sample (e.g. :func:`month_groups` of the weather dates).
        confidence: level of the per-group intervals.

    Returns:
        The residuals and summaries.

    Raises:
        InputError: sizes that do not match, non-finite values, fewer than two samples.
    """
    predictions = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if predictions.ndim == 0 or targets.ndim == 0:
        raise InputError("Expected one prediction and one target per sample. Received scalars.")
    n = _same_length(("predictions", predictions), ("targets", targets))
    predictions = predictions.reshape(n, -1)
    targets = targets.reshape(n, -1)
    if predictions.shape != targets.shape:
        raise InputError(
            f"Expected targets shaped like the predictions {predictions.shape}. Received: "
            f"{targets.shape}. Choose the targets of this model's output."
        )
    if n < 2:
        raise InputError(f"Expected at least two samples. Received: {n}.")
    if not (np.all(np.isfinite(predictions)) and np.all(np.isfinite(targets))):
        raise InputError("Expected finite predictions and targets. Received NaN or Inf.")
    steps = predictions.shape[1]
    labels = np.arange(1, steps + 1) if horizon is None else np.asarray(horizon)
    if labels.shape != (steps,):
        raise InputError(f"Expected {steps} horizon labels. Received: {labels.shape}.")
    residuals = targets - predictions
    by_group = None
    if groups is not None:
        by_group = slice_info(np.abs(residuals).mean(axis=1), groups, confidence=confidence)
    return ResidualInfo(
        predictions=predictions,
        targets=targets,
        residuals=residuals,
        mae=float(np.abs(residuals).mean()),
        rmse=float(np.sqrt(np.mean(residuals**2))),
        r2=_r2(targets, predictions),
        bias=float(residuals.mean()),
        horizon=labels,
        horizon_mae=np.abs(residuals).mean(axis=0),
        horizon_rmse=np.sqrt(np.mean(residuals**2, axis=0)),
        by_group=by_group,
    )


# --------------------------------------------------------------------------------------------
# A/B comparison on the same samples.


@dataclass(frozen=True, eq=False)
class McNemarInfo(ValueEquality):
    """McNemar's test of two classifiers on the same samples.

    Attributes:
        both_correct, both_wrong: concordant pairs.
        b: samples A gets right and B wrong.
        c: samples A gets wrong and B right.
        p_value: exact two-sided p-value, ``min(1, 2 * binom.cdf(min(b, c), b + c, 1/2))``
            (1 when ``b + c = 0``).
        statistic: continuity-corrected chi-square ``max(0, |b - c| - 1)^2 / (b + c)`` (0 when
            ``b + c = 0``), for reference.
        chi2_p_value: its p-value on one degree of freedom.
        num_samples: N.
    """

    both_correct: int
    both_wrong: int
    b: int
    c: int
    p_value: float
    statistic: float
    chi2_p_value: float
    num_samples: int


def _correct_pair(correct_a: Any, correct_b: Any) -> tuple[np.ndarray, np.ndarray, int]:
    a = _vector(correct_a, "correct_a", kind="bool")
    b = _vector(correct_b, "correct_b", kind="bool")
    n = _same_length(("correct_a", a), ("correct_b", b))
    if n == 0:
        raise InputError("Expected at least one sample. Received: none.")
    return a, b, n


def _mcnemar_exact(b: int, c: int) -> float:
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2.0 * stats.binom.cdf(min(b, c), b + c, 0.5)))


def mcnemar_info(correct_a: Any, correct_b: Any) -> McNemarInfo:
    """Exact McNemar test: do A and B err on the same samples as often as chance allows?

    Args:
        correct_a: ``(N,)`` booleans, A's prediction right.
        correct_b: ``(N,)`` booleans, B's prediction right, on the same samples.

    Returns:
        The discordant counts and p-values.

    Raises:
        InputError: arrays of different lengths or not boolean.
    """
    a, b_right, n = _correct_pair(correct_a, correct_b)
    b = int(np.sum(a & ~b_right))
    c = int(np.sum(~a & b_right))
    discordant = b + c
    # Yates's correction must not overshoot: with b = c the literal (|b - c| - 1)^2 would be 1.
    statistic = max(0, abs(b - c) - 1) ** 2 / discordant if discordant else 0.0
    return McNemarInfo(
        both_correct=int(np.sum(a & b_right)),
        both_wrong=int(np.sum(~a & ~b_right)),
        b=b,
        c=c,
        p_value=_mcnemar_exact(b, c),
        statistic=float(statistic),
        chi2_p_value=float(stats.chi2.sf(statistic, 1)) if discordant else 1.0,
        num_samples=n,
    )


@dataclass(frozen=True, eq=False)
class BootstrapInfo(ValueEquality):
    """Paired bootstrap of the accuracy difference between A and B.

    Attributes:
        accuracy_a, accuracy_b: accuracies on all samples.
        difference: ``accuracy_a - accuracy_b``.
        low, high: percentile interval of the difference (linear interpolation, ``np.quantile``).
        probability_a_better: share of resamples where A's accuracy is strictly higher.
        differences: ``(R,)`` the resampled differences.
        confidence: level of the interval.
        num_resamples: R.
        seed: seed of the ``np.random.default_rng`` that drew the resamples.
    """

    accuracy_a: float
    accuracy_b: float
    difference: float
    low: float
    high: float
    probability_a_better: float
    differences: np.ndarray
    confidence: float
    num_resamples: int
    seed: int


def _bootstrap_means(gap: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The means of ``resamples`` resamples of ``gap`` (drawn with replacement)."""
    n = len(gap)
    rng = np.random.default_rng(seed)
    chunk = max(1, BOOTSTRAP_CHUNK_ENTRIES // n)
    means = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        # Doubles take one 64-bit draw each, so chunking does not shift the stream (integers()
        # drops buffered 32-bit halves between calls).
        indices = np.minimum((rng.random((rows, n)) * n).astype(np.int64), n - 1)
        means[start : start + rows] = gap[indices].mean(axis=1)
    return means


def paired_bootstrap_info(
    correct_a: Any,
    correct_b: Any,
    *,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> BootstrapInfo:
    """Resamples sample indices (jointly for A and B) to put an interval on the accuracy gap.

    Resample ``r`` takes the samples ``floor(u * N)`` for the ``r``-th row of ``N`` uniforms
    ``u`` drawn by ``np.random.default_rng(seed).random``; rows are drawn in chunks, which gives
    the same stream as drawing them one by one.

    Args:
        correct_a: ``(N,)`` booleans, A's prediction right.
        correct_b: ``(N,)`` booleans, B's prediction right, on the same samples.
        num_resamples: R.
        confidence: level of the percentile interval.
        seed: random seed.

    Returns:
        The accuracies, difference and its interval.

    Raises:
        InputError: arrays of different lengths or not boolean, a bad R or confidence.
    """
    a, b, n = _correct_pair(correct_a, correct_b)
    confidence = _check_confidence(confidence)
    resamples = int(num_resamples)
    if resamples < 1:
        raise InputError(f"Expected at least one resample. Received: {num_resamples}.")
    # Per-sample differences in {-1, 0, 1}: a resample's accuracy gap is their mean.
    gap = a.astype(np.float64) - b.astype(np.float64)
    differences = _bootstrap_means(gap, resamples, seed)
    alpha = 1.0 - confidence
    low, high = np.quantile(differences, [alpha / 2, 1 - alpha / 2])
    accuracy_a, accuracy_b = float(a.mean()), float(b.mean())
    return BootstrapInfo(
        accuracy_a=accuracy_a,
        accuracy_b=accuracy_b,
        difference=float(gap.mean()),
        low=float(low),
        high=float(high),
        probability_a_better=float(np.mean(differences > 0)),
        differences=differences,
        confidence=confidence,
        num_resamples=resamples,
        seed=int(seed),
    )


@dataclass(frozen=True, eq=False)
class ErrorComparisonInfo(ValueEquality):
    """Paired comparison of two regression models' absolute errors on the same samples.

    Attributes:
        absolute_a, absolute_b: ``(N,)`` each sample's absolute error (averaged over outputs).
        mae_a, mae_b: their means.
        difference: ``mae_a - mae_b`` (below 0: A errs less).
        low, high: percentile bootstrap interval of the difference (samples resampled jointly).
        probability_a_better: share of resamples where A's mean absolute error is strictly lower.
        differences: ``(R,)`` the resampled differences.
        wilcoxon_statistic, wilcoxon_p_value: ``scipy.stats.wilcoxon(absolute_a, absolute_b)``
            (two-sided signed-rank test of the paired differences; NaN when skipped, see
            ``note``).
        a_smaller, b_smaller, ties: samples where A's absolute error is smaller, B's is, neither.
        num_samples: N.
        confidence: level of the interval.
        num_resamples: R.
        seed: seed of the resamples.
        note: why the rank test was skipped, else ``""``.
    """

    absolute_a: np.ndarray
    absolute_b: np.ndarray
    mae_a: float
    mae_b: float
    difference: float
    low: float
    high: float
    probability_a_better: float
    differences: np.ndarray
    wilcoxon_statistic: float
    wilcoxon_p_value: float
    a_smaller: int
    b_smaller: int
    ties: int
    num_samples: int
    confidence: float
    num_resamples: int
    seed: int
    note: str


def paired_error_info(
    errors_a: Any,
    errors_b: Any,
    *,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> ErrorComparisonInfo:
    """Is A's error really smaller than B's? A paired test on the absolute errors.

    Both tests pair sample ``i`` of A with sample ``i`` of B, so the spread between easy and hard
    samples cancels: the Wilcoxon signed-rank test of ``|e_A| - |e_B|`` (scipy's two-sided
    default) and a paired bootstrap of the mean difference of ``|e|`` with a percentile interval
    (the same resampling as :func:`paired_bootstrap_info`).

    Args:
        errors_a: ``(N,)`` or ``(N, H)`` errors (residuals or absolute errors) of A; the absolute
            value is taken and averaged over the H outputs.
        errors_b: B's, on the same samples.
        num_resamples: R.
        confidence: level of the interval.
        seed: random seed.

    Returns:
        The mean absolute errors, their difference with its interval, and the rank test.

    Raises:
        InputError: arrays of different lengths, non-finite errors, a bad R or confidence.
    """
    confidence = _check_confidence(confidence)
    a = np.asarray(errors_a, dtype=np.float64)
    b = np.asarray(errors_b, dtype=np.float64)
    if a.ndim == 0 or b.ndim == 0:
        raise InputError("Expected one error per sample. Received scalars.")
    n = _same_length(("errors_a", a), ("errors_b", b))
    if n == 0:
        raise InputError("Expected at least one sample. Received: none.")
    a = np.abs(a.reshape(n, -1)).mean(axis=1)
    b = np.abs(b.reshape(n, -1)).mean(axis=1)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise InputError("Expected finite errors. Received NaN or Inf.")
    resamples = int(num_resamples)
    if resamples < 1:
        raise InputError(f"Expected at least one resample. Received: {num_resamples}.")
    gap = a - b
    differences = _bootstrap_means(gap, resamples, seed)
    alpha = 1.0 - confidence
    low, high = np.quantile(differences, [alpha / 2, 1 - alpha / 2])
    note = ""
    statistic = p_value = math.nan
    if np.all(gap == 0):
        statistic, p_value = 0.0, 1.0
        note = "The two models make exactly the same absolute error on every sample."
    elif n < MIN_WILCOXON_PAIRS:
        note = (
            f"With {n} samples the Wilcoxon signed-rank test cannot reach p < 0.05 (it needs "
            f"{MIN_WILCOXON_PAIRS}); only the bootstrap interval is reported."
        )
    else:
        result = stats.wilcoxon(a, b)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return ErrorComparisonInfo(
        absolute_a=a,
        absolute_b=b,
        mae_a=float(a.mean()),
        mae_b=float(b.mean()),
        difference=float(gap.mean()),
        low=float(low),
        high=float(high),
        probability_a_better=float(np.mean(differences < 0)),
        differences=differences,
        wilcoxon_statistic=statistic,
        wilcoxon_p_value=p_value,
        a_smaller=int(np.sum(a < b)),
        b_smaller=int(np.sum(b < a)),
        ties=int(np.sum(a == b)),
        num_samples=n,
        confidence=confidence,
        num_resamples=resamples,
        seed=int(seed),
        note=note,
    )


def disagreements(predicted_a: Any, predicted_b: Any) -> np.ndarray:
    """Indices of the samples where A and B predict different classes.

    Raises:
        InputError: arrays of different lengths.
    """
    a = _vector(predicted_a, "predicted_a")
    b = _vector(predicted_b, "predicted_b")
    _same_length(("predicted_a", a), ("predicted_b", b))
    return np.flatnonzero(a != b).astype(np.int64)


@dataclass(frozen=True, eq=False)
class SeedComparisonInfo(ValueEquality):
    """Scores of A and B over several training runs (seeds), and whether they differ.

    Attributes:
        scores_a, scores_b: the scores given.
        paired: True when run ``i`` of A and of B share a seed (paired t-test, Wilcoxon);
            False for independent runs (Welch's t-test, Mann-Whitney U).
        mean_a, mean_b: mean scores.
        mean_difference: ``mean_a - mean_b`` (the mean of the paired differences).
        low, high: Student t interval of the mean difference (Welch-Satterthwaite degrees of
            freedom when unpaired).
        t_statistic, t_p_value: two-sided t-test.
        rank_test: ``"wilcoxon"`` or ``"mann-whitney"``.
        rank_statistic, rank_p_value: two-sided rank test; NaN when skipped (see ``note``).
        confidence: level of the interval.
        note: why a test was skipped or cannot be trusted, else ``""``.
    """

    scores_a: np.ndarray
    scores_b: np.ndarray
    paired: bool
    mean_a: float
    mean_b: float
    mean_difference: float
    low: float
    high: float
    t_statistic: float
    t_p_value: float
    rank_test: str
    rank_statistic: float
    rank_p_value: float
    confidence: float
    note: str


def seed_comparison_info(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    paired: bool = True,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> SeedComparisonInfo:
    """Tests whether A's scores over training seeds differ from B's.

    Args:
        scores_a: A's score (accuracy, loss...) for each run.
        scores_b: B's score for each run; with ``paired`` run ``i`` used the same seed as A's.
        paired: paired tests (same seeds) or independent-sample tests.
        confidence: level of the interval of the mean difference.

    Returns:
        The means, interval and tests.

    Raises:
        InputError: fewer than two runs, non-finite scores, or paired runs of different counts.
    """
    confidence = _check_confidence(confidence)
    a = np.asarray(scores_a, dtype=np.float64).reshape(-1)
    b = np.asarray(scores_b, dtype=np.float64).reshape(-1)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise InputError("Expected finite scores. Received NaN or Inf.")
    if len(a) < 2 or len(b) < 2:
        raise InputError(
            f"Expected at least two runs of each model. Received: {len(a)} and {len(b)}. "
            "Train with more seeds."
        )
    notes = []
    quantile = 0.5 + confidence / 2
    if paired:
        n = _same_length(("scores_a", a), ("scores_b", b))
        differences = a - b
        mean_difference = float(differences.mean())
        spread = float(differences.std(ddof=1))
        if spread == 0:
            t_statistic, t_p_value = math.nan, math.nan
            low = high = mean_difference
            notes.append("Every run differs by the same amount: the t-test is undefined.")
        else:
            result = stats.ttest_rel(a, b)
            t_statistic, t_p_value = float(result.statistic), float(result.pvalue)
            half = stats.t.ppf(quantile, n - 1) * spread / math.sqrt(n)
            low, high = mean_difference - half, mean_difference + half
        rank_test = "wilcoxon"
        rank_statistic = rank_p_value = math.nan
        if n < MIN_WILCOXON_PAIRS:
            notes.append(
                f"With {n} runs the Wilcoxon signed-rank test cannot reach p < 0.05 (it needs "
                f"{MIN_WILCOXON_PAIRS}); only the t-test is reported."
            )
        elif np.all(differences == 0):
            rank_statistic, rank_p_value = 0.0, 1.0
            notes.append("The runs score identically.")
        else:
            result = stats.wilcoxon(a, b)
            rank_statistic, rank_p_value = float(result.statistic), float(result.pvalue)
    else:
        mean_difference = float(a.mean() - b.mean())
        var_a, var_b = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        if var_a + var_b == 0:
            t_statistic, t_p_value = math.nan, math.nan
            low = high = mean_difference
            notes.append("Both models score the same in every run: the t-test is undefined.")
        else:
            result = stats.ttest_ind(a, b, equal_var=False)
            t_statistic, t_p_value = float(result.statistic), float(result.pvalue)
            df = (var_a + var_b) ** 2 / (var_a**2 / (len(a) - 1) + var_b**2 / (len(b) - 1))
            half = stats.t.ppf(quantile, df) * math.sqrt(var_a + var_b)
            low, high = mean_difference - half, mean_difference + half
        rank_test = "mann-whitney"
        result = stats.mannwhitneyu(a, b, alternative="two-sided")
        rank_statistic, rank_p_value = float(result.statistic), float(result.pvalue)
        if min(len(a), len(b)) < 4:
            notes.append("With fewer than 4 runs per model the Mann-Whitney test is very weak.")
    return SeedComparisonInfo(
        scores_a=a,
        scores_b=b,
        paired=bool(paired),
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        mean_difference=mean_difference,
        low=float(low),
        high=float(high),
        t_statistic=t_statistic,
        t_p_value=t_p_value,
        rank_test=rank_test,
        rank_statistic=rank_statistic,
        rank_p_value=rank_p_value,
        confidence=confidence,
        note=" ".join(notes),
    )


def reason(model_a: Any, model_b: Any) -> str | None:
    """Why two models cannot be compared sample by sample, or None when they can."""
    for name, model in (("A", model_a), ("B", model_b)):
        if not graph.supports(model):
            return f"Model {name} has no layer graph (a subclassed model); it cannot be run here."
    shape_a = graph.graph_layers(model_a).output_shape
    shape_b = graph.graph_layers(model_b).output_shape
    if shape_a != shape_b:
        return (
            f"The models have different outputs ({shape_a} and {shape_b}); compare models "
            "trained for the same task."
        )
    return None


def comparison_report(
    model_a: Any,
    model_b: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    num_resamples: int = DEFAULT_NUM_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    batch_size: int = DEFAULT_PREDICT_BATCH_SIZE,
) -> dict[str, Any]:
    """Accuracy of two classifiers on the same labelled samples, and whether the gap is real.

    Args:
        model_a, model_b: classifiers with the same output.
        x: samples both models take.
        y: ``(N,)`` class labels (or one-hot).
        num_resamples: bootstrap resamples.
        seed: bootstrap seed.
        confidence: level of the bootstrap interval.
        batch_size: samples per forward pass.

    Returns:
        A JSON-serializable dict: ``num_samples``, ``accuracy_a``, ``accuracy_b``,
        ``accuracy_difference`` (A - B), ``accuracy_difference_ci`` ([low, high]),
        ``confidence``, ``probability_a_better``, ``num_disagreements``, ``mcnemar_b``,
        ``mcnemar_c``, ``mcnemar_p_value``, ``mcnemar_chi2_p_value``.

    Raises:
        UnsupportedModelError: models that are not classifiers or have different outputs.
        InputError: samples or labels the models cannot take.
    """
    why = reason(model_a, model_b)
    if why is not None:
        raise UnsupportedModelError(why)
    info_a = prediction_info(model_a, x, y, batch_size=batch_size)
    info_b = prediction_info(model_b, x, y, batch_size=batch_size)
    for name, info in (("A", info_a), ("B", info_b)):
        if info.task not in CLASSIFICATION_TASKS:
            raise UnsupportedModelError(
                f"Model {name} looks like a {info.task} model; the comparison counts right and "
                "wrong predictions, so it needs classifiers with class labels."
            )
    mcnemar = mcnemar_info(info_a.correct, info_b.correct)
    bootstrap = paired_bootstrap_info(
        info_a.correct,
        info_b.correct,
        num_resamples=num_resamples,
        confidence=confidence,
        seed=seed,
    )
    return {
        "num_samples": int(len(info_a)),
        "accuracy_a": bootstrap.accuracy_a,
        "accuracy_b": bootstrap.accuracy_b,
        "accuracy_difference": bootstrap.difference,
        "accuracy_difference_ci": [bootstrap.low, bootstrap.high],
        "confidence": bootstrap.confidence,
        "probability_a_better": bootstrap.probability_a_better,
        "num_disagreements": int(disagreements(info_a.predicted, info_b.predicted).size),
        "mcnemar_b": mcnemar.b,
        "mcnemar_c": mcnemar.c,
        "mcnemar_p_value": mcnemar.p_value,
        "mcnemar_chi2_p_value": mcnemar.chi2_p_value,
    }


# --------------------------------------------------------------------------------------------
# Cost: latency, memory, and the Pareto front.


@dataclass(frozen=True, eq=False)
class ProfileInfo(ValueEquality):
    """What a model costs to run on this machine.

    Attributes:
        batch_sizes: ``(B,)`` int64 batch sizes timed.
        latency: ``(B,)`` median seconds per batch over the repeats.
        latency_min: ``(B,)`` fastest repeat, seconds.
        throughput: ``(B,)`` samples per second at the median latency.
        num_parameters: all weights (trainable and not).
        trainable_parameters: trainable weights.
        weight_bytes: sum of the weights' ``nbytes``.
        activation_bytes: estimated bytes of all layer outputs for one sample (float32 per
            value, each layer output counted once); None when a shape is not fixed.
        repeats: timed calls per batch size.
        method: how a batch was run (:data:`PROFILE_METHOD`).
    """

    batch_sizes: np.ndarray
    latency: np.ndarray
    latency_min: np.ndarray
    throughput: np.ndarray
    num_parameters: int
    trainable_parameters: int
    weight_bytes: int
    activation_bytes: int | None
    repeats: int
    method: str

    def latency_at(self, batch_size: int) -> float:
        """Median seconds per batch of ``batch_size`` (the largest batch timed when that size
        was not)."""
        sizes = [int(size) for size in self.batch_sizes]
        return float(self.latency[sizes.index(batch_size) if batch_size in sizes else -1])


def _activation_bytes(model: Any) -> int | None:
    total = 0
    for entry in graph.graph_layers(model).layers:
        if entry.class_name == "InputLayer":
            continue
        shape = entry.output_shape
        if not isinstance(shape, tuple) or any(not isinstance(d, int) for d in shape):
            return None
        total += math.prod(shape) * np.dtype(np.float32).itemsize
    return int(total)


def profile_info(
    model: Any,
    x: np.ndarray,
    *,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
) -> ProfileInfo:
    """Times the model on batches of several sizes and measures its memory.

    Each batch runs ``model(batch, training=False)`` eagerly and the output is copied to numpy
    (so the time includes finishing the work). Samples are repeated when ``x`` holds fewer than
    a batch. ``repeats`` is lowered by ``$NEUROGENESIS_MAX_STEPS``.

    Args:
        model: a functional or Sequential Keras model.
        x: samples the model takes.
        batch_sizes: sizes to time.
        repeats: timed calls per size (the median is reported).
        warmup: untimed calls per size first (tracing, memory allocation).

    Returns:
        The timings and sizes.

    Raises:
        InputError: no samples, bad batch sizes or repeats, samples the model cannot take.
        UnsupportedModelError: a model without a graph.
    """
    arrays = graph.model_inputs(model, x)
    if len(arrays[0]) == 0:
        raise InputError("Expected at least one sample to time the model on. Received: none.")
    sizes = np.asarray([int(size) for size in batch_sizes], dtype=np.int64)
    if sizes.size == 0 or sizes.min() < 1:
        raise InputError(f"Expected positive batch sizes. Received: {tuple(batch_sizes)}.")
    runs = graph.capped_steps(int(repeats)) if int(repeats) >= 1 else 0
    if runs < 1:
        raise InputError(f"Expected at least one repeat. Received: {repeats}.")
    latency = np.empty(len(sizes))
    fastest = np.empty(len(sizes))
    for position, size in enumerate(sizes):
        batch = graph.feed(model, graph.take(arrays, np.arange(size) % len(arrays[0])))
        times = []
        for call in range(max(0, int(warmup)) + runs):
            start = time.perf_counter()
            output = model(batch, training=False)
            if isinstance(output, dict):
                output = list(output.values())
            for tensor in output if isinstance(output, (list, tuple)) else [output]:
                np.asarray(tensor)
            if call >= max(0, int(warmup)):
                times.append(time.perf_counter() - start)
        latency[position] = statistics.median(times)
        fastest[position] = min(times)
    weights = model.weights
    return ProfileInfo(
        batch_sizes=sizes,
        latency=latency,
        latency_min=fastest,
        throughput=sizes / latency,
        num_parameters=int(sum(math.prod(w.shape) for w in weights)),
        trainable_parameters=int(sum(math.prod(w.shape) for w in model.trainable_weights)),
        weight_bytes=int(sum(np.asarray(w.numpy()).nbytes for w in weights)),
        activation_bytes=_activation_bytes(model),
        repeats=runs,
        method=PROFILE_METHOD,
    )


def pareto_front(costs: Any, scores: Any) -> np.ndarray:
    """Indices of the points no other point beats: lower or equal cost and higher or equal score,
    better in at least one. Exact duplicates of a front point are all kept.

    Args:
        costs: ``(M,)`` costs (latency, parameters...), lower is better.
        scores: ``(M,)`` scores (accuracy...), higher is better.

    Returns:
        The front's indices, by increasing cost (then decreasing score, then index).

    Raises:
        InputError: arrays of different lengths or with NaN.
    """
    costs = _vector(costs, "costs").astype(np.float64)
    scores = _vector(scores, "scores").astype(np.float64)
    _same_length(("costs", costs), ("scores", scores))
    if np.isnan(costs).any() or np.isnan(scores).any():
        raise InputError("Expected numbers for every cost and score. Received NaN.")
    order = np.lexsort((np.arange(len(costs)), -scores, costs))
    front: list[int] = []
    for index in order:
        if not front:
            front.append(int(index))
            continue
        last = front[-1]
        # Sorted by cost, the best score so far is the last kept one; equal points sort together.
        duplicate = costs[index] == costs[last] and scores[index] == scores[last]
        if scores[index] > scores[last] or duplicate:
            front.append(int(index))
    return np.asarray(front, dtype=np.int64)

"""Convergence and early stopping: what a metric history says about how training went.

Pure computation on plain arrays (``epochs`` or steps, and metric ``values`` that may hold NaN or
Inf from a diverged run), for the training-dynamics page and the paper's convergence figure:

- ``best_epoch`` and ``early_stopping``: where the best value was, and exactly what
  ``keras.callbacks.EarlyStopping`` would have done on this history.
- ``generalization_gap`` and ``overfitting_onset``: the train/validation gap and where it starts
  to open for good.
- ``plateau``, ``divergence_epoch`` and ``convergence_info``: flat stretches, blow-ups, and a
  fitted exponential approach to an asymptote with the estimated epochs to convergence.
- ``metric_correlations``: how the logged metrics move together.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields

import numpy as np
from scipy import optimize, stats

from neurogenesis.errors import InputError

__all__ = [
    "ConvergenceInfo",
    "CorrelationInfo",
    "EarlyStoppingInfo",
    "best_epoch",
    "convergence_info",
    "divergence_epoch",
    "early_stopping",
    "generalization_gap",
    "metric_correlations",
    "overfitting_onset",
    "plateau",
]

GOALS = ("min", "max")
CORRELATION_METHODS = ("pearson", "spearman", "kendall")


class _ValueEquality:
    """Compare dataclass infos field by field, arrays by value (NaN equal to NaN)."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        for field in fields(self):  # type: ignore[arg-type]
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if isinstance(mine, np.ndarray) or isinstance(theirs, np.ndarray):
                mine, theirs = np.asarray(mine), np.asarray(theirs)
                if mine.shape != theirs.shape or mine.dtype.kind != theirs.dtype.kind:
                    return False
                equal_nan = mine.dtype.kind in "fc"
                if not np.array_equal(mine, theirs, equal_nan=equal_nan):
                    return False
            elif isinstance(mine, float) and isinstance(theirs, float):
                if not (mine == theirs or (math.isnan(mine) and math.isnan(theirs))):
                    return False
            elif mine != theirs:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]


def _check_goal(goal: str) -> None:
    if goal not in GOALS:
        raise InputError(f"Expected goal 'min' or 'max'. Received: {goal!r}")


def _as_series(epochs, values, name: str = "values") -> tuple[np.ndarray, np.ndarray]:
    epochs = np.asarray(epochs)
    values = np.asarray(values, dtype=np.float64)
    if epochs.ndim != 1 or values.ndim != 1:
        raise InputError(
            f"Expected one-dimensional epochs and {name}. "
            f"Received shapes {epochs.shape} and {values.shape}."
        )
    if epochs.shape != values.shape:
        raise InputError(
            f"Expected as many epochs as {name}. "
            f"Received {epochs.shape[0]} epochs and {values.shape[0]} {name}."
        )
    return epochs, values


def _plain(epoch):
    """An epoch label as a plain Python number."""
    return epoch.item() if isinstance(epoch, np.generic) else epoch


def best_epoch(epochs, values, goal: str = "min") -> tuple[object, float]:
    """The epoch with the best finite value.

    Args:
        epochs: epochs (or steps), one per value.
        values: metric values; NaN and Inf are ignored.
        goal: ``"min"`` for losses, ``"max"`` for accuracies.

    Returns:
        ``(epoch, value)`` of the first best finite value, or ``(None, nan)`` when no value is
        finite.
    """
    _check_goal(goal)
    epochs, values = _as_series(epochs, values)
    finite = np.isfinite(values)
    if not finite.any():
        return None, math.nan
    masked = np.where(finite, values, np.inf if goal == "min" else -np.inf)
    index = int(np.argmin(masked) if goal == "min" else np.argmax(masked))
    return _plain(epochs[index]), float(values[index])


@dataclass(frozen=True, eq=False)
class EarlyStoppingInfo(_ValueEquality):
    """What ``keras.callbacks.EarlyStopping`` would have done on a metric history.

    Positions (``*_index``) count epochs as ``model.fit`` does (0 for the first value given);
    epochs are the matching labels from the ``epochs`` argument.

    Attributes:
        stopped_index: position of the epoch at whose end training stops, None if it would not.
        stopped_epoch: its label, None if it would not stop.
        best_index: position of the callback's best epoch (``callback.best_epoch``).
        best_epoch: its label.
        best_value: the callback's ``best`` (NaN if the first monitored value was NaN, as in
            Keras; None if no epoch was monitored).
        restored_epoch: the epoch whose weights the model ends with: the best epoch with
            ``restore_best_weights``, else the last epoch run.
        restored_value: the metric value at ``restored_epoch``.
        epochs_run: how many epochs would have run.
        wait: float64 wait counter after each epoch run (NaN before ``start_from_epoch``).
        patience, min_delta, goal, baseline, restore_best_weights, start_from_epoch: the settings.
    """

    stopped_index: int | None
    stopped_epoch: object
    best_index: int
    best_epoch: object
    best_value: float | None
    restored_epoch: object
    restored_value: float
    epochs_run: int
    wait: np.ndarray
    patience: int
    min_delta: float
    goal: str
    baseline: float | None
    restore_best_weights: bool
    start_from_epoch: int


def _keras_improves(current: float, reference: float, signed_delta: float, goal: str) -> bool:
    """``MonitorCallback._is_improvement`` with ``ops.less``/``ops.greater`` on Python floats.

    Keras converts the Python floats to tensors of ``floatx`` (float32) before comparing, so
    ``current - min_delta`` is computed in float64 and both sides are rounded to float32.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        left = np.float32(current - signed_delta)
        right = np.float32(reference)
    return bool(left < right) if goal == "min" else bool(left > right)


def early_stopping(
    epochs,
    values,
    *,
    patience: int = 0,
    goal: str = "min",
    min_delta: float = 0.0,
    baseline: float | None = None,
    restore_best_weights: bool = False,
    start_from_epoch: int = 0,
) -> EarlyStoppingInfo:
    """Replay ``keras.callbacks.EarlyStopping`` (Keras 3) on a metric history.

    The rule, as in Keras: each monitored epoch adds one to a wait counter. An epoch improves
    when ``value - min_delta < best`` (``goal="min"``; ``value + min_delta > best`` for
    ``"max"``), compared in float32; the first monitored epoch always improves. An improvement
    becomes the new best and resets the wait counter to 0, unless a ``baseline`` is given and the
    value does not also improve on it. Otherwise, once the counter reaches ``patience`` (and it
    is not the first epoch), training stops at the end of that epoch. A NaN value never improves
    (every comparison with NaN is false), so it counts as a waiting epoch; a NaN as the very first
    value becomes the best, and nothing improves on it afterwards. Epochs before
    ``start_from_epoch`` are not monitored.

    Args:
        epochs: epoch labels, one per value, in training order.
        values: the monitored metric, one value per epoch (NaN and Inf allowed).
        patience: epochs without improvement after which training stops.
        goal: ``"min"`` (Keras ``mode="min"``) or ``"max"``.
        min_delta: smallest change that counts as an improvement (its sign is ignored).
        baseline: value the metric must beat for the wait counter to reset.
        restore_best_weights: whether the model ends with the best epoch's weights.
        start_from_epoch: number of warm-up epochs that are not monitored.

    Returns:
        An ``EarlyStoppingInfo``.

    Raises:
        InputError: if the history is empty or the arguments are malformed.
    """
    _check_goal(goal)
    epochs, values = _as_series(epochs, values)
    if values.size == 0:
        raise InputError("Expected at least one epoch of metric values. Received none.")
    delta = abs(float(min_delta))
    signed_delta = -delta if goal == "min" else delta

    wait = 0
    best: float | None = None
    best_index = 0
    stopped_index: int | None = None
    wait_history = np.full(values.size, np.nan)
    for index, raw in enumerate(values):
        current = float(raw)
        if index < start_from_epoch:
            continue
        wait += 1
        if best is None or _keras_improves(current, best, signed_delta, goal):
            best = current
            best_index = index
            if baseline is None or _keras_improves(current, float(baseline), signed_delta, goal):
                wait = 0
            wait_history[index] = wait
            continue
        wait_history[index] = wait
        if wait >= patience and index > 0:
            stopped_index = index
            break

    last_index = stopped_index if stopped_index is not None else values.size - 1
    restored_index = best_index if (restore_best_weights and best is not None) else last_index
    return EarlyStoppingInfo(
        stopped_index=stopped_index,
        stopped_epoch=None if stopped_index is None else _plain(epochs[stopped_index]),
        best_index=best_index,
        best_epoch=_plain(epochs[best_index]),
        best_value=best,
        restored_epoch=_plain(epochs[restored_index]),
        restored_value=float(values[restored_index]),
        epochs_run=last_index + 1,
        wait=wait_history[: last_index + 1],
        patience=int(patience),
        min_delta=delta,
        goal=goal,
        baseline=None if baseline is None else float(baseline),
        restore_best_weights=bool(restore_best_weights),
        start_from_epoch=int(start_from_epoch),
    )


def generalization_gap(epochs, train_values, validation_values, goal: str = "min") -> np.ndarray:
    """The generalization gap per epoch, signed so that positive means overfitting.

    Args:
        epochs: epochs, one per value.
        train_values: the training metric.
        validation_values: the validation metric at the same epochs.
        goal: ``"min"`` for losses (gap = validation - train), ``"max"`` for accuracies
            (gap = train - validation).

    Returns:
        float64 gap per epoch; NaN where either value is not finite.
    """
    _check_goal(goal)
    _, train = _as_series(epochs, train_values, "train values")
    _, validation = _as_series(epochs, validation_values, "validation values")
    with np.errstate(invalid="ignore", over="ignore"):
        gap = validation - train if goal == "min" else train - validation
    gap[~(np.isfinite(train) & np.isfinite(validation))] = np.nan
    return gap


def _trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values (fewer at the start); NaN if any of them is not finite."""
    out = np.empty_like(values)
    for index in range(values.size):
        out[index] = np.mean(values[max(0, index - window + 1) : index + 1])
    out[~np.isfinite(out)] = np.nan
    return out


def overfitting_onset(
    epochs,
    train_values,
    validation_values,
    *,
    goal: str = "min",
    window: int = 3,
    consecutive: int = 3,
):
    """The epoch after which the model starts to overfit, or None.

    The rule: smooth both curves with a trailing mean over ``window`` epochs. An epoch is
    *overfitting* when (1) the smoothed validation metric is no better than its best so far,
    (2) the smoothed training metric still improves on the previous epoch, and (3) the
    generalization gap (see ``generalization_gap``) is wider than at the previous epoch. The onset
    is the epoch just before the first run of ``consecutive`` overfitting epochs in a row: the
    last epoch at which validation was still keeping up with training. The trailing mean makes
    the onset lag by up to ``window - 1`` epochs on a sharp turn; ``window=1`` turns smoothing off.

    Args:
        epochs: epochs, one per value.
        train_values: the training metric.
        validation_values: the validation metric at the same epochs.
        goal: ``"min"`` for losses, ``"max"`` for accuracies.
        window: smoothing window in epochs (at least 1).
        consecutive: how many overfitting epochs in a row make an onset (at least 1).

    Returns:
        The onset epoch (a label from ``epochs``), or None when there is no onset.
    """
    _check_goal(goal)
    if window < 1 or consecutive < 1:
        raise InputError(
            f"Expected window >= 1 and consecutive >= 1. Received {window} and {consecutive}."
        )
    epochs, train = _as_series(epochs, train_values, "train values")
    _, validation = _as_series(epochs, validation_values, "validation values")
    sign = 1.0 if goal == "min" else -1.0
    train_smooth = _trailing_mean(sign * train, window)
    validation_smooth = _trailing_mean(sign * validation, window)
    gap = generalization_gap(epochs, train, validation, goal)

    run = 0
    best_validation = np.inf
    for index in range(epochs.size):
        if index > 0:
            overfitting = (
                validation_smooth[index] >= best_validation
                and train_smooth[index] < train_smooth[index - 1]
                and gap[index] > gap[index - 1]
            )
            run = run + 1 if overfitting else 0
            if run >= consecutive:
                return _plain(epochs[index - consecutive])
        if validation_smooth[index] < best_validation:
            best_validation = validation_smooth[index]
    return None


def plateau(epochs, values, *, window: int = 5, tolerance: float = 0.01) -> list[tuple]:
    """Stretches where the metric barely moves.

    An epoch ``i`` (from ``window`` on) closes a flat window when
    ``|v[i] - v[i - window]| / |v[i - window]| < tolerance`` (absolute change when
    ``v[i - window]`` is 0) and all values in between are finite; overlapping or touching flat
    windows merge into one plateau.

    Args:
        epochs: epochs, one per value.
        values: metric values (non-finite values break plateaus).
        window: number of epochs the change is measured over (at least 1).
        tolerance: largest relative change that still counts as flat.

    Returns:
        ``(start_epoch, end_epoch)`` for each plateau, in order.
    """
    if window < 1:
        raise InputError(f"Expected window >= 1. Received {window}.")
    epochs, values = _as_series(epochs, values)
    intervals: list[list[int]] = []
    for end in range(window, values.size):
        start = end - window
        segment = values[start : end + 1]
        if not np.all(np.isfinite(segment)):
            continue
        scale = abs(values[start]) or 1.0
        if abs(values[end] - values[start]) / scale >= tolerance:
            continue
        if intervals and start <= intervals[-1][1]:
            intervals[-1][1] = end
        else:
            intervals.append([start, end])
    return [(_plain(epochs[start]), _plain(epochs[end])) for start, end in intervals]


def divergence_epoch(epochs, values, *, goal: str = "min", factor: float = 10.0):
    """The epoch where a run diverges, or None.

    A run diverges at the first non-finite value (NaN or Inf), or, for losses
    (``goal="min"``), at the first epoch whose value exceeds ``factor`` times the lowest value
    so far, when that lowest value is positive. Accuracy-like metrics (``goal="max"``) only
    diverge by becoming non-finite.

    Args:
        epochs: epochs, one per value.
        values: metric values.
        goal: ``"min"`` or ``"max"``.
        factor: how many times the running minimum a loss may reach before it counts as diverged.

    Returns:
        The divergence epoch (a label from ``epochs``), or None.
    """
    _check_goal(goal)
    epochs, values = _as_series(epochs, values)
    running_min = np.inf
    for index, value in enumerate(values):
        if not np.isfinite(value):
            return _plain(epochs[index])
        if goal == "min" and 0 < running_min < np.inf and value > factor * running_min:
            return _plain(epochs[index])
        running_min = min(running_min, value)
    return None


@dataclass(frozen=True, eq=False)
class ConvergenceInfo(_ValueEquality):
    """How a metric approaches its final value.

    Attributes:
        epochs: float64 epochs.
        values: float64 values as given.
        difference: per-epoch first difference ``v[i] - v[i-1]`` (NaN at 0 and around non-finite
            values).
        relative_change: ``difference / |v[i-1]|``.
        fit_succeeded: whether ``v(t) = a + b * exp(-(t - t0) / tau)`` was fitted.
        a, b, tau: fitted parameters (NaN when the fit failed); ``t0`` is the first epoch used.
        t0: the fit's time origin.
        fitted_values: the fitted curve at ``epochs`` (NaN when the fit failed).
        asymptote: the fitted ``a``; without a fit, the best value seen.
        convergence_epoch: where the curve gets within ``threshold`` of the total improvement
            from the asymptote: ``t0 + tau * ln(1 / threshold)`` with a fit; without one, the
            first epoch after which all values stay within ``threshold * |v(t0) - best|`` of the
            best. None if unknown.
        converged: whether ``convergence_epoch`` is at or before the last usable epoch.
        divergence_epoch: see ``divergence_epoch``; the fit uses only the epochs before it.
        threshold: the convergence threshold (0.01 = 1%).
        goal: ``"min"`` or ``"max"``.
    """

    epochs: np.ndarray
    values: np.ndarray
    difference: np.ndarray
    relative_change: np.ndarray
    fit_succeeded: bool
    a: float
    b: float
    tau: float
    t0: float
    fitted_values: np.ndarray
    asymptote: float
    convergence_epoch: float | None
    converged: bool
    divergence_epoch: object
    threshold: float
    goal: str


def _exponential(t, a, b, tau):
    return a + b * np.exp(-t / tau)


def _fit_exponential(t: np.ndarray, v: np.ndarray) -> tuple[float, float, float] | None:
    if t.size < 4 or np.ptp(t) == 0:
        return None
    span = float(np.ptp(t))
    guesses = []
    for fraction in (0.3, 0.1, 1.0):
        a0 = float(v[-1])
        guesses.append((a0, float(v[0]) - a0, span * fraction))
    best = None
    for p0 in guesses:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params, _ = optimize.curve_fit(
                    _exponential,
                    t,
                    v,
                    p0=p0,
                    bounds=([-np.inf, -np.inf, 1e-9], [np.inf, np.inf, np.inf]),
                    maxfev=20000,
                    ftol=1e-15,
                    xtol=1e-15,
                    gtol=1e-15,
                )
        except (RuntimeError, ValueError, optimize.OptimizeWarning):
            continue
        if not np.all(np.isfinite(params)):
            continue
        residual = float(np.sum((_exponential(t, *params) - v) ** 2))
        if best is None or residual < best[0]:
            best = (residual, params)
    if best is None:
        return None
    a, b, tau = (float(p) for p in best[1])
    # A time constant far beyond the data is a straight line, not an approach to an asymptote.
    if tau > 100 * span:
        return None
    return a, b, tau


def convergence_info(
    epochs, values, goal: str = "min", *, threshold: float = 0.01
) -> ConvergenceInfo:
    """Rate of change, fitted asymptote and epochs to convergence of one metric.

    Fits ``v(t) = a + b * exp(-(t - t0) / tau)`` with ``scipy.optimize.curve_fit`` on the finite
    values before the divergence epoch (``t0`` = the first of them). The curve is within
    ``threshold`` (1%) of the total improvement ``|b|`` from the asymptote ``a`` at
    ``t0 + tau * ln(1 / threshold)``. When the fit fails (too few points, no decay), the
    asymptote falls back to the best value seen and the convergence epoch to the first epoch after
    which the values stay within ``threshold`` of the total improvement from that best.

    Args:
        epochs: epochs (or steps), one per value, increasing.
        values: metric values (NaN/Inf allowed: a diverged run is reported, not an error).
        goal: ``"min"`` for losses, ``"max"`` for accuracies.
        threshold: the fraction of the total improvement that counts as converged.

    Returns:
        A ``ConvergenceInfo``.
    """
    _check_goal(goal)
    if not 0 < threshold < 1:
        raise InputError(f"Expected 0 < threshold < 1. Received {threshold}.")
    raw_epochs, values = _as_series(epochs, values)
    times = raw_epochs.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        difference = np.full(values.size, np.nan)
        relative = np.full(values.size, np.nan)
        if values.size > 1:
            difference[1:] = np.diff(values)
            relative[1:] = difference[1:] / np.abs(values[:-1])
    difference[~np.isfinite(difference)] = np.nan
    relative[~np.isfinite(relative)] = np.nan

    diverged_at = divergence_epoch(raw_epochs, values, goal=goal)
    usable = np.isfinite(values)
    if diverged_at is not None:
        usable &= np.arange(values.size) < int(np.argmax(raw_epochs == diverged_at))
    t, v = times[usable], values[usable]
    t0 = float(t[0]) if t.size else math.nan

    fit = _fit_exponential(t - t0, v) if t.size else None
    fitted = np.full(values.size, np.nan)
    convergence_at: float | None = None
    if fit is not None:
        a, b, tau = fit
        fitted = _exponential(times - t0, a, b, tau)
        asymptote = a
        convergence_at = t0 + tau * math.log(1.0 / threshold)
    else:
        a = b = tau = math.nan
        if v.size:
            asymptote = float(v.min() if goal == "min" else v.max())
            total = abs(float(v[0]) - asymptote)
            outside = np.abs(v - asymptote) > threshold * total
            if total > 0:
                last_outside = np.flatnonzero(outside)
                index = int(last_outside[-1]) + 1 if last_outside.size else 0
                convergence_at = float(t[index]) if index < t.size else None
        else:
            asymptote = math.nan
    converged = convergence_at is not None and t.size > 0 and convergence_at <= float(t[-1])
    return ConvergenceInfo(
        epochs=times,
        values=values,
        difference=difference,
        relative_change=relative,
        fit_succeeded=fit is not None,
        a=a,
        b=b,
        tau=tau,
        t0=t0,
        fitted_values=fitted,
        asymptote=float(asymptote),
        convergence_epoch=convergence_at,
        converged=bool(converged),
        divergence_epoch=diverged_at,
        threshold=float(threshold),
        goal=goal,
    )


@dataclass(frozen=True, eq=False)
class CorrelationInfo(_ValueEquality):
    """Pairwise correlations between metric series.

    Attributes:
        names: the series names, in matrix order.
        matrix: float64 correlation matrix (NaN where undefined, e.g. a constant series).
        method: ``"pearson"``, ``"spearman"`` or ``"kendall"``.
        num_points: number of epochs where every series is finite (the ones used).
    """

    names: tuple[str, ...]
    matrix: np.ndarray
    method: str
    num_points: int


def metric_correlations(series: dict[str, np.ndarray], method: str = "pearson") -> CorrelationInfo:
    """Correlate metric series over the epochs where all of them are finite.

    Args:
        series: name -> values, all of the same length (one value per epoch).
        method: ``"pearson"`` (linear), ``"spearman"`` (rank) or ``"kendall"`` (tau-b).

    Returns:
        A ``CorrelationInfo``.

    Raises:
        InputError: for an unknown method or series of different lengths.
    """
    if method not in CORRELATION_METHODS:
        raise InputError(
            f"Expected method 'pearson', 'spearman' or 'kendall'. Received: {method!r}"
        )
    names = tuple(series)
    arrays = [np.asarray(series[name], dtype=np.float64).ravel() for name in names]
    lengths = {array.size for array in arrays}
    if len(lengths) > 1:
        raise InputError(
            "Expected series of the same length. Received lengths "
            + ", ".join(f"{name}: {array.size}" for name, array in zip(names, arrays, strict=True))
        )
    if not arrays:
        return CorrelationInfo(names, np.zeros((0, 0)), method, 0)
    data = np.vstack(arrays)
    mask = np.all(np.isfinite(data), axis=0)
    data = data[:, mask]
    count = len(names)
    matrix = np.full((count, count), np.nan)
    function = {
        "pearson": stats.pearsonr,
        "spearman": stats.spearmanr,
        "kendall": stats.kendalltau,
    }[method]
    for i in range(count):
        for j in range(i, count):
            if data.shape[1] < 2:
                continue
            if np.ptp(data[i]) == 0 or np.ptp(data[j]) == 0:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = float(function(data[i], data[j])[0]) if i != j else 1.0
            matrix[i, j] = matrix[j, i] = value
    return CorrelationInfo(names, matrix, method, int(mask.sum()))

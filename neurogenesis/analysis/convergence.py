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
- ``early_stopping_report``: all of the above for one train/validation pair, with the findings
  written out as sentences (``metric_goal`` guesses whether a metric should go down or up).
- ``trajectory_info``: the paper's training-dynamics trajectory of two metrics over epochs, with
  velocity, smoothed "momentum" and speed.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError

__all__ = [
    "DEFAULT_PATIENCE",
    "DEFAULT_PLATEAU_TOLERANCE",
    "DEFAULT_PLATEAU_WINDOW",
    "DEFAULT_WINDOW",
    "ConvergenceInfo",
    "CorrelationInfo",
    "EarlyStoppingInfo",
    "EarlyStoppingReport",
    "TrajectoryInfo",
    "best_epoch",
    "convergence_info",
    "divergence_epoch",
    "early_stopping",
    "early_stopping_report",
    "generalization_gap",
    "metric_correlations",
    "metric_goal",
    "overfitting_onset",
    "plateau",
    "trajectory_info",
]

GOALS = ("min", "max")
CORRELATION_METHODS = ("pearson", "spearman", "kendall")
DEFAULT_PATIENCE = 5
DEFAULT_PLATEAU_WINDOW = 5
DEFAULT_PLATEAU_TOLERANCE = 0.01
DEFAULT_WINDOW = 3
DEFAULT_DIVERGENCE_FACTOR = 10.0
# The gap must grow by more than this fraction of the metric's magnitude to count as widening.
GAP_WIDENING_TOLERANCE = 1e-9
# The fewest finite points ``_fit_exponential`` will fit a three-parameter curve to.
MIN_FIT_POINTS = 4
# A fit must describe the last points of the data: at most this many are checked.
FIT_TAIL_POINTS = 5
# How far (in standard errors of the tail's own noise) the fit may miss the tail's mean, and (in
# noise standard deviations) its last point, before it is said not to describe the data.
FIT_TAIL_SIGMAS = 3.0
# Misses smaller than this share of the curve's observed range count as no miss at all.
FIT_RESOLUTION = 0.01


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
class EarlyStoppingInfo(ValueEquality):
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


def divergence_epoch(
    epochs, values, *, goal: str = "min", factor: float = DEFAULT_DIVERGENCE_FACTOR
):
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
class ConvergenceInfo(ValueEquality):
    """How a metric approaches its final value.

    Attributes:
        epochs: float64 epochs.
        values: float64 values as given.
        difference: per-epoch first difference ``v[i] - v[i-1]`` (NaN at 0 and around non-finite
            values).
        relative_change: ``difference / |v[i-1]|``.
        fit_succeeded: whether ``v(t) = a + b * exp(-(t - t0) / tau)`` was fitted and describes
            the data (see ``fit_problem``).
        a, b, tau: fitted parameters (NaN when there is no fit); ``t0`` is the first epoch used.
        t0: the fit's time origin.
        fitted_values: the fitted curve at ``epochs`` (NaN when there is no fit).
        asymptote: the fitted ``a``; without a fit, the best value seen (not an estimate).
        convergence_epoch: where the curve gets within ``threshold`` of the total improvement
            from the asymptote, ``t0 + tau * ln(1 / threshold)``; None without a fit (nothing is
            estimated from a curve that does not describe the data).
        converged: whether ``convergence_epoch`` is at or before the last usable epoch.
        divergence_epoch: see ``divergence_epoch``; the fit uses only the epochs before it.
        threshold: the convergence threshold (0.01 = 1%).
        goal: ``"min"`` or ``"max"``.
        fit_problem: why the best exponential was rejected, in words (it misses the last
            points by more than their noise, or its asymptote lies outside what the data
            allow); empty when it was accepted or none could be fitted.
        tail_noise: the noise of the last points, from their second differences (the scale the
            fit's misses are judged on); NaN when too few points.
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
    fit_problem: str = ""
    tail_noise: float = math.nan

    @property
    def usable(self) -> np.ndarray:
        """Boolean mask of the epochs the fit used: finite values before the divergence epoch."""
        usable = np.isfinite(self.values)
        if self.divergence_epoch is not None:
            first = int(np.argmax(self.epochs == float(self.divergence_epoch)))
            usable &= np.arange(self.values.size) < first
        return usable

    @property
    def last_usable_epoch(self) -> float | None:
        """The last epoch the fit used, or None when no value was usable."""
        usable = self.usable
        return float(self.epochs[usable][-1]) if usable.any() else None

    @property
    def epochs_to_converge(self) -> float | None:
        """Epochs still needed after the last usable one (0.0 once converged; None if unknown)."""
        last = self.last_usable_epoch
        if self.convergence_epoch is None or last is None:
            return None
        return max(0.0, self.convergence_epoch - last)

    @property
    def fit_failure_reason(self) -> str | None:
        """Why no exponential was fitted, in words; None when the fit succeeded."""
        if self.fit_succeeded:
            return None
        if self.fit_problem:
            return self.fit_problem
        count = int(self.usable.sum())
        if count < MIN_FIT_POINTS:
            return f"only {count} usable epochs (at least {MIN_FIT_POINTS} needed)"
        return "the values do not settle toward a level like a decaying exponential"

    def curve(self, epochs) -> np.ndarray:
        """The fitted curve ``a + b * exp(-(t - t0) / tau)`` at any epochs (NaN without a fit).

        Args:
            epochs: epochs to evaluate at, e.g. a grid reaching the convergence epoch.

        Returns:
            float64 values, the shape of ``epochs``.
        """
        times = np.asarray(epochs, dtype=np.float64)
        if not self.fit_succeeded:
            return np.full(times.shape, np.nan)
        return _exponential(times - self.t0, self.a, self.b, self.tau)


def _exponential(t, a, b, tau):
    return a + b * np.exp(-t / tau)


def _asymptote_bounds(v: np.ndarray, goal: str) -> tuple[float, float]:
    """Where the asymptote may lie: a metric that never went below 0 while being minimised (a
    loss, an error) cannot converge below 0, and a maximised one that stayed within [0, 1] (an
    accuracy, an AUC) cannot converge above 1. Without these bounds a curve that bends late (a
    sigmoid-like validation loss) fits an asymptote below zero."""
    lower, upper = -np.inf, np.inf
    if v.size and goal == "min" and np.all(v >= 0):
        lower = 0.0
    if v.size and goal == "max" and np.all((v >= 0) & (v <= 1)):
        upper = 1.0
    return lower, upper


def _fit_exponential(
    t: np.ndarray, v: np.ndarray, goal: str = "min"
) -> tuple[float, float, float] | None:
    if t.size < MIN_FIT_POINTS or np.ptp(t) == 0:
        return None
    lower, upper = _asymptote_bounds(v, goal)
    span = float(np.ptp(t))
    guesses = []
    for fraction in (0.3, 0.1, 1.0):
        a0 = min(max(float(v[-1]), lower), upper)
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
                    bounds=([lower, -np.inf, 1e-9], [upper, np.inf, np.inf]),
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


def _tail_size(count: int) -> int:
    """How many last points a fit to ``count`` points must describe: a third, 3 to 5."""
    return min(FIT_TAIL_POINTS, max(3, count // 3))


def tail_noise(values) -> float:
    """The noise of a series' last points: ``sqrt(mean(d2**2) / 6)`` over the second differences
    ``d2`` of its last ``max(2 * k, 5)`` finite values (``k`` the tail a fit must describe; for
    independent noise of standard deviation s, ``d2`` has variance ``6 s**2``, and a slowly
    bending curve adds a little). NaN with fewer than 3 values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    v = v[-max(2 * _tail_size(v.size), 5) :]
    if v.size < 3:
        return math.nan
    return float(np.sqrt(np.mean(np.diff(v, 2) ** 2) / 6.0))


def _fit_problem(t: np.ndarray, v: np.ndarray, params, goal: str) -> tuple[str, float]:
    """Why the fitted exponential does not describe ``v`` (empty when it does), and the tail
    noise it was judged on.

    Checks on the data's own scale: the asymptote lies where the data allow (a minimised metric
    heads at most one observed range below its best value and not above its worst; a maximised
    one mirrored), and not on a bound of the metric (0 for a loss, 1 for an accuracy) that the
    data stay clearly away from: the fit wanted to go past what the metric can reach, so the
    data do not show where it levels off. And the fit describes the last ``k`` points within
    their noise ``s`` (:func:`tail_noise`, at least ``FIT_RESOLUTION`` of the observed range): the
    mean miss is within ``FIT_TAIL_SIGMAS * s / sqrt(k)`` and the last point's within
    ``FIT_TAIL_SIGMAS * s``."""
    a = float(params[0])
    low, high = float(v.min()), float(v.max())
    span = high - low
    noise = tail_noise(v)
    lower, upper = _asymptote_bounds(v, goal)
    margin = FIT_TAIL_SIGMAS * max(noise, 0.0)
    pinned = next(
        (
            bound
            for bound, best in ((lower, low), (upper, high))
            if math.isfinite(bound)
            and abs(a - bound) <= 1e-6 * max(span, 1e-300)
            and abs(best - bound) > margin
        ),
        None,
    )
    if pinned is not None:
        return (
            f"its asymptote sits on {pinned:g}, the bound of the metric, while the data stay "
            f"{abs((low if goal == 'min' else high) - pinned):.3g} away from it: they do not "
            "show where the curve levels off",
            noise,
        )
    best = low if goal == "min" else high
    beyond = a < low - span if goal == "min" else a > high + span
    if beyond:
        return (
            f"its asymptote {a:.4g} lies further from the best value ({best:.4g}) than the "
            f"whole observed range ({span:.3g}): the data cover too little of the approach to "
            "tell where it levels off",
            noise,
        )
    if (goal == "min" and a > high) or (goal == "max" and a < low):
        return f"its asymptote {a:.4g} lies beyond the worst value seen", noise
    k = _tail_size(v.size)
    misses = v[-k:] - _exponential(t[-k:], *params)
    # A miss below 1% of the range the curve covers is invisible on its chart and within what a
    # metric's logged precision resolves (an accuracy that reached exactly 1.0 has no noise).
    scale = max(noise, FIT_RESOLUTION * span, 1e-300)
    bias = float(misses.mean())
    if abs(bias) > FIT_TAIL_SIGMAS * scale / math.sqrt(k) or abs(misses[-1]) > (
        FIT_TAIL_SIGMAS * scale
    ):
        side = "above" if bias < 0 else "below"
        return (
            f"the best exponential (asymptote {a:.3g}) runs {side} the last {k} points by "
            f"{abs(bias):.3g} on average, where their noise is {noise:.2g}",
            noise,
        )
    return "", noise


def convergence_info(
    epochs, values, goal: str = "min", *, threshold: float = 0.01
) -> ConvergenceInfo:
    """Rate of change, fitted asymptote and epochs to convergence of one metric.

    Fits ``v(t) = a + b * exp(-(t - t0) / tau)`` with ``scipy.optimize.curve_fit`` on the finite
    values before the divergence epoch (``t0`` = the first of them). The curve is within
    ``threshold`` (1%) of the total improvement ``|b|`` from the asymptote ``a`` at
    ``t0 + tau * ln(1 / threshold)``. A fit is kept only when it describes the data: its
    asymptote lies where the data allow and it meets the last points within their noise (see
    ``_fit_problem``; the reason is kept in ``fit_problem``). Without a fit (too few points, no
    decay, or a fit that does not describe the data) nothing is estimated: no convergence epoch,
    and the asymptote field holds the best value seen.

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

    fit = _fit_exponential(t - t0, v, goal) if t.size else None
    problem, noise = "", tail_noise(v) if v.size else math.nan
    if fit is not None:
        problem, noise = _fit_problem(t - t0, v, fit, goal)
        if problem:
            fit = None
    fitted = np.full(values.size, np.nan)
    convergence_at: float | None = None
    if fit is not None:
        a, b, tau = fit
        fitted = _exponential(times - t0, a, b, tau)
        asymptote = a
        convergence_at = t0 + tau * math.log(1.0 / threshold)
    else:
        a = b = tau = math.nan
        asymptote = float(v.min() if goal == "min" else v.max()) if v.size else math.nan
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
        fit_problem=problem,
        tail_noise=float(noise),
    )


@dataclass(frozen=True, eq=False)
class CorrelationInfo(ValueEquality):
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


# Name parts that settle a metric's direction. Loss-like words win over everything else, so an
# "iou_loss" or a "dice_loss" is minimised although IoU and Dice are maximised.
_LOSS_WORDS = frozenset({"loss", "losses", "error", "errors", "err", "distance", "divergence"})
_MAX_WORDS = frozenset(
    {
        "accuracy",
        "acc",
        "auc",
        "precision",
        "recall",
        "f1",
        "fbeta",
        "r2",
        "iou",
        "miou",
        "dice",
        "psnr",
        "ssim",
        "bleu",
        "rouge",
        "similarity",
        "proximity",
        "specificity",
        "sensitivity",
        "tpr",
        "tnr",
    }
)
_MIN_WORDS = frozenset(
    {
        "mae",
        "mse",
        "rmse",
        "mape",
        "msle",
        "rmsle",
        "crossentropy",
        "entropy",
        "hinge",
        "kl",
        "kld",
        "logcosh",
        "cosh",
        "huber",
        "perplexity",
        "ppl",
        "poisson",
        "nll",
        "wer",
        "cer",
        "fpr",
        "fnr",
    }
)


def metric_goal(name: str) -> str | None:
    """Whether a metric should go down (``"min"``) or up (``"max"``), guessed from its name.

    The name is split into words (``val_sparse_categorical_accuracy``, ``train/loss``,
    ``MeanSquaredError`` all work). Losses, errors, distances and divergences are minimised, and
    so are MAE, MSE, cross-entropy, hinge, KL, Huber, perplexity, false positives/negatives and
    the like; accuracy, AUC, precision, recall, F1, R², IoU, Dice, PSNR, SSIM, similarity, true
    positives/negatives and the like are maximised. A loss word wins (``iou_loss`` is ``"min"``).

    Args:
        name: a metric name or log tag.

    Returns:
        ``"min"``, ``"max"``, or None when the name does not say (``learning_rate``).
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()
    words = set(re.split(r"[^a-z0-9]+", spaced)) - {""}
    if words & _LOSS_WORDS:
        return "min"
    if words & {"positives", "negatives"}:
        if "false" in words:
            return "min"
        if "true" in words:
            return "max"
    if words & _MAX_WORDS:
        return "max"
    if words & _MIN_WORDS:
        return "min"
    return None


def _check_epochs(epochs) -> np.ndarray:
    """Epochs as a non-empty, finite, strictly increasing numeric array, or an InputError."""
    epochs = np.asarray(epochs)
    if epochs.ndim != 1 or epochs.size == 0:
        raise InputError(
            f"Expected a non-empty one-dimensional list of epochs. Received shape {epochs.shape}."
        )
    if epochs.dtype.kind not in "iuf":
        raise InputError(f"Expected numeric epochs or steps. Received dtype {epochs.dtype}.")
    as_float = epochs.astype(np.float64)
    if not np.all(np.isfinite(as_float)):
        raise InputError("Expected finite epochs. Received NaN or Inf among the epochs.")
    if np.any(np.diff(as_float) <= 0):
        position = int(np.flatnonzero(np.diff(as_float) <= 0)[0]) + 1
        raise InputError(
            "Expected strictly increasing epochs. "
            f"Received {_epoch_text(epochs[position])} after {_epoch_text(epochs[position - 1])}."
        )
    return epochs


def _epoch_text(epoch) -> str:
    """An epoch label for a sentence: ``7``, ``7.5``, ``1200``."""
    epoch = _plain(epoch)
    if isinstance(epoch, float) and epoch.is_integer():
        return str(int(epoch))
    return f"{epoch:g}" if isinstance(epoch, float) else str(epoch)


def _value_text(value) -> str:
    """A metric value for a sentence, four significant digits: ``0.1234``, ``NaN``, ``Inf``."""
    if value is None:
        return "none"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def _finite_span_size(*arrays: np.ndarray) -> float:
    """The largest finite magnitude among the arrays (1.0 when there is none)."""
    values = np.concatenate([np.abs(a[np.isfinite(a)]) for a in arrays])
    return float(values.max()) if values.size and values.max() > 0 else 1.0


def _spans_text(intervals) -> str:
    parts = [f"{_epoch_text(start)}–{_epoch_text(end)}" for start, end in intervals]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True, eq=False)
class EarlyStoppingReport(ValueEquality):
    """Everything the early-stopping figure shows, with the findings in words.

    Attributes:
        metric: the metric's name without a train/validation prefix (``"loss"``).
        goal: ``"min"`` or ``"max"``.
        monitored: ``"validation"`` when a validation series was given, else ``"train"``: the
            series used for the best epoch, early stopping and plateaus.
        epochs: the epochs (or steps) as given.
        train_values: float64 training values, or None.
        validation_values: float64 validation values, or None.
        best_epoch: the epoch of the best finite monitored value (None if none is finite).
        best_value: that value (NaN if none).
        early_stopping: what ``EarlyStopping(patience, min_delta, restore_best_weights)`` would
            have done on the monitored series (see ``early_stopping``).
        gap: the generalization gap per epoch (see ``generalization_gap``), None without both
            series.
        gap_widening: True at epochs whose gap is wider than at the previous epoch (both finite,
            by more than rounding); None without a gap.
        overfitting_onset: see ``overfitting_onset``; None without both series or without onset.
        plateaus: ``(start_epoch, end_epoch)`` of each flat stretch of the monitored series.
        divergence_epoch: the first epoch at which either series diverged (see
            ``divergence_epoch``), or None.
        divergence_series: ``"train"`` or ``"validation"``: which series diverged first.
        divergence_value: the value there (NaN, Inf, or the finite value of a blow-up).
        patience, min_delta, restore_best_weights, plateau_window, plateau_tolerance: settings.
        findings: one plain sentence per finding, with numbers.
        verdict: one short line summing the run up.
    """

    metric: str
    goal: str
    monitored: str
    epochs: np.ndarray
    train_values: np.ndarray | None
    validation_values: np.ndarray | None
    best_epoch: object
    best_value: float
    early_stopping: EarlyStoppingInfo
    gap: np.ndarray | None
    gap_widening: np.ndarray | None
    overfitting_onset: object
    plateaus: tuple[tuple[object, object], ...]
    divergence_epoch: object
    divergence_series: str | None
    divergence_value: float | None
    patience: int
    min_delta: float
    restore_best_weights: bool
    plateau_window: int
    plateau_tolerance: float
    findings: tuple[str, ...]
    verdict: str

    @property
    def monitored_values(self) -> np.ndarray:
        """The series the best epoch, early stopping and plateaus were computed on."""
        if self.monitored == "validation":
            return self.validation_values
        return self.train_values

    @property
    def epochs_saved(self) -> int:
        """How many logged epochs early stopping would not have run (0 if it would not stop)."""
        return int(self.epochs.size - self.early_stopping.epochs_run)


_ROLE_WORDS = {"train": "training", "validation": "validation"}


def _divergence_finding(epoch, series: str, value: float, metric: str, lowest: float) -> str:
    role = _ROLE_WORDS[series]
    if not math.isfinite(value):
        # "NaN loss" for the training series, "NaN validation loss" for the other.
        what = metric if series == "train" else f"validation {metric}"
        return f"Training diverged at epoch {_epoch_text(epoch)} ({_value_text(value)} {what})."
    return (
        f"Training diverged at epoch {_epoch_text(epoch)}: {role} {metric} jumped to "
        f"{_value_text(value)}, more than {DEFAULT_DIVERGENCE_FACTOR:g}× its lowest value so far "
        f"({_value_text(lowest)})."
    )


def early_stopping_report(
    epochs,
    train_values=None,
    validation_values=None,
    *,
    metric: str = "loss",
    goal: str | None = None,
    patience: int = DEFAULT_PATIENCE,
    min_delta: float = 0.0,
    restore_best_weights: bool = True,
    plateau_window: int = DEFAULT_PLATEAU_WINDOW,
    plateau_tolerance: float = DEFAULT_PLATEAU_TOLERANCE,
) -> EarlyStoppingReport:
    """Best epoch, early stopping, overfitting, plateaus and divergence of one metric, in words.

    The validation series is monitored when given (as ``EarlyStopping(monitor="val_loss")``
    would), else the training series; the gap and the overfitting onset need both. Divergence is
    looked for in both series and the earlier one is reported. NaN and Inf are allowed anywhere
    (a diverged run is reported, not an error).

    Args:
        epochs: epochs or steps, strictly increasing, any spacing.
        train_values: training metric per epoch, or None.
        validation_values: validation metric per epoch, or None.
        metric: the metric's name, used in the sentences and to guess ``goal``.
        goal: ``"min"`` or ``"max"``; None guesses it from ``metric`` (see ``metric_goal``).
        patience: the replayed ``EarlyStopping``'s patience.
        min_delta: its ``min_delta``.
        restore_best_weights: its ``restore_best_weights``.
        plateau_window: epochs a plateau's change is measured over (see ``plateau``).
        plateau_tolerance: largest relative change over ``plateau_window`` that counts as flat.

    Returns:
        An ``EarlyStoppingReport``.

    Raises:
        InputError: without any series, with series of the wrong length, with epochs that are not
            strictly increasing, or when ``goal`` is None and the metric's name does not say
            which way is better.
    """
    epochs = _check_epochs(epochs)
    if train_values is None and validation_values is None:
        raise InputError("Expected a training or a validation series (or both). Received neither.")
    if goal is None:
        goal = metric_goal(metric)
        if goal is None:
            raise InputError(
                f"Cannot tell whether {metric!r} should go down or up. "
                "Pass goal='min' (losses, errors) or goal='max' (accuracy-like metrics)."
            )
    _check_goal(goal)
    if patience < 0:
        raise InputError(f"Expected patience >= 0. Received {patience}.")
    train = None if train_values is None else _as_series(epochs, train_values, "train values")[1]
    validation = (
        None
        if validation_values is None
        else _as_series(epochs, validation_values, "validation values")[1]
    )
    monitored = "validation" if validation is not None else "train"
    values = validation if validation is not None else train
    subject = f"{_ROLE_WORDS[monitored]} {metric}"
    count = epochs.size

    best_at, best_value = best_epoch(epochs, values, goal)
    stopping = early_stopping(
        epochs,
        values,
        patience=patience,
        goal=goal,
        min_delta=min_delta,
        restore_best_weights=restore_best_weights,
    )
    flat = tuple(plateau(epochs, values, window=plateau_window, tolerance=plateau_tolerance))
    gap = widening = onset = None
    if train is not None and validation is not None:
        gap = generalization_gap(epochs, train, validation, goal)
        widening = np.zeros(count, dtype=bool)
        # A change of a few ulps (validation = train + constant) is rounding, not widening.
        scale = _finite_span_size(train, validation)
        with np.errstate(invalid="ignore"):
            widening[1:] = np.diff(gap) > GAP_WIDENING_TOLERANCE * scale
        onset = overfitting_onset(epochs, train, validation, goal=goal)

    diverged_at = diverged_series = diverged_value = None
    lowest = math.nan
    first_index = count
    for name, series in (("train", train), ("validation", validation)):
        if series is None:
            continue
        at = divergence_epoch(epochs, series, goal=goal)
        if at is None:
            continue
        index = int(np.flatnonzero(epochs == at)[0])
        if index < first_index:
            first_index, diverged_at, diverged_series = index, at, name
            diverged_value = float(series[index])
            before = series[:index]
            lowest = float(before.min()) if before.size else math.nan

    findings: list[str] = []
    last_epoch = _plain(epochs[-1])
    if best_at is None:
        findings.append(f"No finite {subject} to judge: every value is NaN or Inf.")
    else:
        sentence = f"Best {subject} {_value_text(best_value)} at epoch {_epoch_text(best_at)}"
        if best_at == last_epoch and count > 1:
            sentence += ", the last epoch logged: it was still improving when training ended"
        findings.append(sentence + ".")

    monitor = f"val_{metric}" if monitored == "validation" else metric
    call = f"EarlyStopping(monitor={monitor!r}, patience={patience}"
    call += f", min_delta={abs(min_delta):g})" if min_delta else ")"
    if stopping.stopped_epoch is not None:
        saved = count - stopping.epochs_run
        sentence = (
            f"{call} would have stopped after epoch {_epoch_text(stopping.stopped_epoch)} "
            f"({saved} of {count} epochs saved)"
        )
        if restore_best_weights:
            sentence += (
                f" and restored the weights of epoch {_epoch_text(stopping.restored_epoch)} "
                f"({subject} {_value_text(stopping.restored_value)})"
            )
        else:
            sentence += (
                f" and kept the weights of epoch {_epoch_text(stopping.restored_epoch)} "
                f"({subject} {_value_text(stopping.restored_value)})"
            )
        if best_at is not None and float(best_at) > float(stopping.stopped_epoch):
            sentence += (
                f"; that is too early: the best {subject} came later, at epoch "
                f"{_epoch_text(best_at)}"
            )
        findings.append(sentence + ".")
    else:
        streak = max(patience, 1)
        by = f" by more than {abs(min_delta):g}" if min_delta else ""
        findings.append(
            f"{call} would not have stopped: {subject} never went {streak} "
            f"epoch{'s' if streak > 1 else ''} in a row without improving{by}."
        )

    if gap is not None:
        pair = "validation and training" if goal == "min" else "training and validation"
        finite_gap = np.flatnonzero(np.isfinite(gap))
        if onset is not None:
            onset_index = int(np.flatnonzero(epochs == onset)[0])
            end = int(finite_gap[-1]) if finite_gap.size else onset_index
            findings.append(
                f"The gap between {pair} {metric} widens from epoch {_epoch_text(onset)} on "
                f"({_value_text(gap[onset_index])} there, {_value_text(gap[end])} at epoch "
                f"{_epoch_text(epochs[end])}): the model starts to overfit there."
            )
        elif finite_gap.size:
            end = int(finite_gap[-1])
            findings.append(
                f"No overfitting found: validation {metric} keeps up with training {metric} "
                f"(gap {_value_text(gap[end])} at epoch {_epoch_text(epochs[end])})."
            )

    if flat:
        tolerance_text = f"{plateau_tolerance * 100:g}%"
        where = (
            f"from epoch {_epoch_text(flat[0][0])} to {_epoch_text(flat[0][1])}"
            if len(flat) == 1
            else f"at epochs {_spans_text(flat)}"
        )
        findings.append(
            f"{subject[0].upper()}{subject[1:]} is flat (within {tolerance_text} over "
            f"{plateau_window} epochs) {where}."
        )

    if diverged_at is not None:
        findings.append(
            _divergence_finding(diverged_at, diverged_series, diverged_value, metric, lowest)
        )

    if best_at is None:
        verdict = "No finite values: nothing to judge."
    elif diverged_at is not None:
        verdict = (
            f"Diverged at epoch {_epoch_text(diverged_at)}: try a lower learning rate or "
            "gradient clipping."
        )
    elif onset is not None:
        verdict = (
            f"Overfits from epoch {_epoch_text(onset)}; the best weights are those of epoch "
            f"{_epoch_text(best_at)}."
        )
    elif stopping.stopped_epoch is None:
        verdict = (
            f"Still improving at the end (best at epoch {_epoch_text(best_at)}): training longer "
            "may help."
        )
    else:
        verdict = (
            f"Stopped improving after epoch {_epoch_text(stopping.best_epoch)}: early stopping "
            f"would save {count - stopping.epochs_run} of {count} epochs."
        )

    return EarlyStoppingReport(
        metric=str(metric),
        goal=goal,
        monitored=monitored,
        epochs=epochs,
        train_values=train,
        validation_values=validation,
        best_epoch=best_at,
        best_value=float(best_value),
        early_stopping=stopping,
        gap=gap,
        gap_widening=widening,
        overfitting_onset=onset,
        plateaus=flat,
        divergence_epoch=diverged_at,
        divergence_series=diverged_series,
        divergence_value=diverged_value,
        patience=int(patience),
        min_delta=abs(float(min_delta)),
        restore_best_weights=bool(restore_best_weights),
        plateau_window=int(plateau_window),
        plateau_tolerance=float(plateau_tolerance),
        findings=tuple(findings),
        verdict=verdict,
    )


@dataclass(frozen=True, eq=False)
class TrajectoryInfo(ValueEquality):
    """The paper's training-dynamics trajectory: two metrics against each other over epochs.

    Attributes:
        x_name, y_name: the two metrics' names.
        epochs: float64 epochs (or steps).
        x, y: float64 metric values as given (NaN/Inf kept).
        finite: True where both ``x`` and ``y`` are finite: the points the derivatives use.
        velocity: float64 ``(n, 2)`` derivative of ``(x, y)`` with respect to the epoch,
            ``np.gradient`` over the finite points with their real epoch spacing (second-order
            central differences inside, one-sided first-order differences at the two ends); NaN
            at non-finite points and everywhere when fewer than two points are finite.
        momentum: float64 ``(n, 2)`` centred moving average of ``velocity`` over ``window``
            consecutive finite points; at the ends the window is cut short and averages only the
            points that exist (the first point averages itself and the ``window // 2`` after it).
        speed: float64 ``(n,)`` norm of the momentum in standardised units: each component
            divided by its metric's range (``x_scale``, ``y_scale``), so a loss and an accuracy
            weigh the same; it reads as "fraction of the metric's range per epoch".
        x_scale, y_scale: the ranges (max - min of the finite points; 1.0 when that is 0).
        window: the moving-average window, in points.
    """

    x_name: str
    y_name: str
    epochs: np.ndarray
    x: np.ndarray
    y: np.ndarray
    finite: np.ndarray
    velocity: np.ndarray
    momentum: np.ndarray
    speed: np.ndarray
    x_scale: float
    y_scale: float
    window: int

    @property
    def dropped_epochs(self) -> np.ndarray:
        """Epochs whose point is not finite and is left out of the derivatives."""
        return self.epochs[~self.finite]


def _centred_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean over a centred window along axis 0, cut short (not padded) at the ends."""
    half = window // 2
    count = values.shape[0]
    padded = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)])
    low = np.clip(np.arange(count) - half, 0, count)
    high = np.clip(np.arange(count) + half + 1, 0, count)
    sizes = (high - low).reshape((-1,) + (1,) * (values.ndim - 1))
    return (padded[high] - padded[low]) / sizes


def trajectory_info(
    epochs,
    x_values,
    y_values,
    *,
    x_name: str,
    y_name: str,
    window: int = DEFAULT_WINDOW,
) -> TrajectoryInfo:
    """Velocity, momentum and speed of the path traced by two metrics over training.

    The path is ``(x(t), y(t), t)`` with ``t`` the epoch. Points where either metric is NaN or
    Inf are left out of the derivatives (the neighbours on both sides are differenced directly)
    and listed in ``TrajectoryInfo.dropped_epochs``.

    Args:
        epochs: epochs or steps, strictly increasing, any spacing.
        x_values: the first metric per epoch (e.g. validation loss).
        y_values: the second metric per epoch (e.g. validation accuracy).
        x_name: the first metric's name.
        y_name: the second metric's name.
        window: odd number of points the momentum averages the velocity over (1 = none).

    Returns:
        A ``TrajectoryInfo``.

    Raises:
        InputError: for epochs that are not strictly increasing, series of the wrong length, or
            a window that is not a positive odd number.
    """
    if int(window) != window or window < 1 or window % 2 == 0:
        raise InputError(f"Expected a positive odd window. Received {window!r}.")
    window = int(window)
    epochs = _check_epochs(epochs)
    _, x = _as_series(epochs, x_values, f"{x_name} values")
    _, y = _as_series(epochs, y_values, f"{y_name} values")
    times = epochs.astype(np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    count = times.size
    velocity = np.full((count, 2), np.nan)
    momentum = np.full((count, 2), np.nan)
    speed = np.full(count, np.nan)
    x_scale = y_scale = 1.0
    if finite.any():
        x_scale = float(np.ptp(x[finite])) or 1.0
        y_scale = float(np.ptp(y[finite])) or 1.0
    if finite.sum() >= 2:
        points = np.column_stack([x[finite], y[finite]])
        inner = np.gradient(points, times[finite], axis=0)
        velocity[finite] = inner
        momentum[finite] = _centred_mean(inner, window)
        scaled = momentum[finite] / np.array([x_scale, y_scale])
        speed[finite] = np.hypot(scaled[:, 0], scaled[:, 1])
    return TrajectoryInfo(
        x_name=str(x_name),
        y_name=str(y_name),
        epochs=times,
        x=x,
        y=y,
        finite=finite,
        velocity=velocity,
        momentum=momentum,
        speed=speed,
        x_scale=x_scale,
        y_scale=y_scale,
        window=window,
    )

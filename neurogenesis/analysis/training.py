"""Training curves: which series belong together, as plain arrays for the plotting layer.

``curves_info(runs, metric)`` pairs each run's training and validation series of one metric,
whatever the log's naming: NeuroGenesis runs (``train/loss``, ``validation/loss``), Keras's
TensorBoard callback (``epoch_loss`` in the ``train`` and ``validation`` runs), CSVLogger and JSON
histories (``loss``, ``val_loss``).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np

from neurogenesis.analysis.convergence import metric_goal
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError

__all__ = [
    "BANDS",
    "Curve",
    "CurvesInfo",
    "DashboardInfo",
    "EpochTable",
    "ROLES",
    "SMOOTHERS",
    "SMOOTHING_DEFAULTS",
    "Series",
    "Trace",
    "X_AXES",
    "WITHOUT_SEED",
    "curves_info",
    "curves_table",
    "dashboard_info",
    "display_names",
    "epoch_table",
    "group_runs",
    "grouping_options",
    "logical_run_name",
    "metric_names",
    "named_runs",
    "pick_runs",
    "purge_restarts",
    "run_attributes",
    "seed_groups",
    "run_series",
    "smooth",
    "split_tag",
]

VALIDATION_RUN_NAMES = ("validation", "val", "eval", "test")


@dataclass(frozen=True, eq=False)
class Curve:
    """One series of one metric.

    Attributes:
        run: the run's name.
        role: ``"train"``, ``"validation"`` or ``"other"``.
        tag: the tag it was read from.
        steps: int64 steps (epochs for per-epoch logs), file order.
        values: float64 values; NaN and Inf kept.
        wall_times: float64 Unix seconds, NaN where the log has none.
    """

    run: str
    role: str
    tag: str
    steps: np.ndarray
    values: np.ndarray
    wall_times: np.ndarray

    @property
    def first_nonfinite_step(self) -> int | None:
        """Where the series first became NaN or infinite (diverged), or None."""
        bad = np.flatnonzero(~np.isfinite(self.values))
        return int(self.steps[bad[0]]) if bad.size else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Curve):
            return NotImplemented
        return (self.run, self.role, self.tag) == (other.run, other.role, other.tag) and all(
            np.array_equal(a, b, equal_nan=True)
            for a, b in (
                (self.steps, other.steps),
                (self.values, other.values),
                (self.wall_times, other.wall_times),
            )
        )

    __hash__ = None


@dataclass(frozen=True)
class CurvesInfo:
    """The curves of one metric across runs, and when the newest point was written."""

    metric: str
    curves: tuple[Curve, ...]
    last_wall_time: float | None


def split_tag(tag: str, run_name: str = "") -> tuple[str, str]:
    """The (role, metric) a tag stands for: ``val_loss`` -> (validation, loss), ``train/acc`` -> (train, acc)."""
    lowered = tag.lower()
    for prefix, role in (
        ("train/", "train"),
        ("training/", "train"),
        ("validation/", "validation"),
        ("val/", "validation"),
    ):
        if lowered.startswith(prefix):
            return role, tag[len(prefix) :]
    if lowered.startswith("val_"):
        return "validation", tag[4:]
    metric = tag[len("epoch_") :] if lowered.startswith("epoch_") else tag
    leaf = run_name.rsplit("/", 1)[-1].lower()
    if leaf in VALIDATION_RUN_NAMES:
        return "validation", metric
    if leaf == "train" or "/" not in tag:
        return "train", metric
    return "other", tag


def metric_names(runs) -> list[str]:
    """Every metric with a training or validation series in any of the runs, losses first."""
    names = set()
    for run in runs:
        for tag in run.scalars:
            role, metric = split_tag(tag, run.name)
            if role in ("train", "validation"):
                names.add(metric)
    return sorted(names, key=lambda name: (0 if "loss" in name else 1, name))


def curves_info(runs, metric: str) -> CurvesInfo:
    """The training and validation curves of ``metric`` in each run.

    Args:
        runs: ``neurogenesis.io.logs.Run`` objects.
        metric: a name from :func:`metric_names`, e.g. ``"loss"``.

    Returns:
        One curve per (run, role) that logged the metric, train before validation.
    """
    curves = []
    last = -math.inf
    for run in runs:
        for tag, series in run.scalars.items():
            role, name = split_tag(tag, run.name)
            if name != metric or role == "other" or series.num_points == 0:
                continue
            curves.append(
                Curve(run.name, role, tag, series.steps, series.values, series.wall_times)
            )
            finite_walls = series.wall_times[np.isfinite(series.wall_times)]
            if finite_walls.size:
                last = max(last, float(finite_walls.max()))
    curves.sort(key=lambda curve: (curve.run, curve.role != "train"))
    return CurvesInfo(metric, tuple(curves), None if last == -math.inf else last)


# --------------------------------------------------------------------------------------------
# The dashboard: many runs, many metrics, groups, smoothing, and traces a browser can draw
# --------------------------------------------------------------------------------------------

X_AXES = ("step", "epoch", "relative time", "wall time")
SMOOTHERS = ("none", "exponential", "gaussian", "moving average")
# Each smoother's parameter and its default: TensorBoard's EMA weight (0.6 is its slider's
# default), a Gaussian sigma and a moving-average window, both in points.
SMOOTHING_DEFAULTS = {"none": 0.0, "exponential": 0.6, "gaussian": 2.0, "moving average": 5}
BANDS = ("min-max", "std")
ROLES = ("train", "validation")
MAX_NONFINITE_MARKS = 200  # per trace; the count and the first one are always reported
_ROLE_LEAVES = {
    "train": "train",
    "training": "train",
    **{name: "validation" for name in VALIDATION_RUN_NAMES},
}


def logical_run_name(run_name: str) -> str:
    """The run a series belongs to for pairing: Keras's TensorBoard callback writes training and
    validation into sibling ``train`` and ``validation`` folders of one run; both map to it."""
    head, _, leaf = run_name.rpartition("/")
    return head if head and leaf.lower() in _ROLE_LEAVES else run_name


def _is_batch_level(tag: str) -> bool:
    lowered = tag.lower()
    # Keras's TensorBoard callback: batch_loss (update_freq="batch"), evaluation_*_vs_iterations.
    batch = lowered.startswith("batch_") and not lowered.startswith("batch_norm")
    return batch or "vs_iterations" in lowered


def purge_restarts(
    steps: np.ndarray, values: np.ndarray, wall_times: np.ndarray, segments: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The points a restarted run really has, sorted by step, as TensorBoard keeps them.

    When training restarts from a checkpoint the steps go back; the points an earlier attempt
    logged at or after the step the new attempt starts from were overwritten by it (TensorBoard's
    ``purge_orphaned_data``). Each segment therefore drops earlier points at steps >= its first.
    """
    steps = np.asarray(steps, dtype=np.int64)
    order = _purge_order(steps, segments)
    return (
        steps[order],
        np.asarray(values, dtype=np.float64)[order],
        np.asarray(wall_times, dtype=np.float64)[order],
    )


def _purge_order(steps: np.ndarray, segments) -> np.ndarray:
    """The positions :func:`purge_restarts` keeps, in its order (sorted by step)."""
    keep = np.ones(steps.size, dtype=bool)
    segments = np.asarray(segments)
    if segments.size and segments.max() > 0:
        for segment in range(1, int(segments.max()) + 1):
            positions = np.flatnonzero(segments == segment)
            if positions.size == 0:
                continue
            first = positions[0]
            keep[:first] &= ~(steps[:first] >= steps[first])
    order = np.flatnonzero(keep)
    return order[np.argsort(steps[order], kind="stable")]


@dataclass(frozen=True, eq=False)
class Series(ValueEquality):
    """One metric of one run, restarts purged and sorted by step: what the dashboard draws from.

    Attributes:
        run: the logical run (:func:`logical_run_name`), or its display name.
        role: ``"train"`` or ``"validation"``.
        metric: the metric, e.g. ``"loss"``.
        tag: the tag it was read from.
        steps, values, wall_times: the points (values keep NaN/Inf; wall times NaN when unknown).
        batch_level: whether the steps count batches rather than epochs.
        epochs: the epoch each point was logged in where the log keeps it apart from the step
            (a Lightning ``metrics.csv``), NaN where it does not.
    """

    run: str
    role: str
    metric: str
    tag: str
    steps: np.ndarray
    values: np.ndarray
    wall_times: np.ndarray
    batch_level: bool
    epochs: np.ndarray


def run_series(runs, metrics, names=None, roles=ROLES) -> tuple[Series, ...]:
    """Every (run, role, metric) series of the chosen metrics, runs merged by logical name.

    Args:
        runs: ``Run`` objects.
        metrics: metric names from :func:`metric_names`.
        names: optional display names, one per run (e.g. prefixed by the log source); training
            and validation folders of one Keras run still merge (the role leaf is dropped).
        roles: which roles to keep.
    """
    found = []
    for index, run in enumerate(runs):
        display = logical_run_name(names[index] if names is not None else run.name)
        for tag, scalar in run.scalars.items():
            role, metric = split_tag(tag, run.name)
            if role not in roles or metric not in metrics or scalar.num_points == 0:
                continue
            order = _purge_order(scalar.steps, scalar.segments)
            found.append(
                Series(
                    display,
                    role,
                    metric,
                    tag,
                    scalar.steps[order],
                    scalar.values[order],
                    scalar.wall_times[order],
                    _is_batch_level(tag),
                    scalar.epochs[order],
                )
            )
    order = {metric: i for i, metric in enumerate(metrics)}
    found.sort(key=lambda s: (order[s.metric], s.run, ROLES.index(s.role)))
    return tuple(found)


@dataclass(frozen=True)
class _Clock:
    """What a run's wall times say: when it started and when each epoch ended."""

    start: float
    epoch_steps: np.ndarray
    epoch_walls: np.ndarray


def _clocks(runs, names) -> dict[str, _Clock]:
    starts: dict[str, float] = {}
    references: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for index, run in enumerate(runs):
        display = logical_run_name(names[index] if names is not None else run.name)
        for tag, scalar in run.scalars.items():
            walls = scalar.wall_times[np.isfinite(scalar.wall_times)]
            if walls.size:
                starts[display] = min(starts.get(display, math.inf), float(walls.min()))
            role, _ = split_tag(tag, run.name)
            if role == "other" or _is_batch_level(tag) or not walls.size:
                continue
            steps, _, walls = purge_restarts(
                scalar.steps, scalar.values, scalar.wall_times, scalar.segments
            )
            ok = np.isfinite(walls)
            if ok.sum() > references.get(display, (np.zeros(0),))[0].size:
                references[display] = (steps[ok].astype(np.float64), walls[ok])
    empty = np.zeros(0)
    return {
        name: _Clock(start, *references.get(name, (empty, empty))) for name, start in starts.items()
    }


def _epoch_ends(runs, names) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per logical run whose log gives each point's epoch apart from its step (a Lightning
    ``metrics.csv``): its epochs, sorted, and the last step logged in each."""
    pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for index, run in enumerate(runs):
        display = logical_run_name(names[index] if names is not None else run.name)
        for scalar in run.scalars.values():
            epochs = scalar.epochs
            if not np.isfinite(epochs).any():
                continue
            order = _purge_order(scalar.steps, scalar.segments)
            known = np.isfinite(epochs[order])
            pairs.setdefault(display, []).append((scalar.steps[order][known], epochs[order][known]))
    ends = {}
    for display, found in pairs.items():
        steps = np.concatenate([s for s, _ in found]).astype(np.float64)
        epochs = np.concatenate([e for _, e in found])
        unique, inverse = np.unique(epochs, return_inverse=True)
        last = np.full(unique.size, -np.inf)
        np.maximum.at(last, inverse, steps)
        ends[display] = (unique, np.maximum.accumulate(last))
    return ends


def _epochs_of_steps(steps: np.ndarray, ends: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Steps as epochs, the way Keras's per-epoch points sit: epoch e's point is logged when
    epoch e ends (its last step maps to e), and a step during epoch e maps to a fraction between
    e - 1 and e. Epoch 0 starts at step 0 (global steps count from 0); a log that starts later
    takes its first epoch as long as the next."""
    epochs, last = ends
    if epochs[0] == 0 or epochs.size == 1:
        before = -1.0 if epochs[0] == 0 else last[0] - 1.0
    else:
        before = last[0] - (last[1] - last[0])
    grid = np.concatenate([[before], last])
    return np.interp(steps, grid, np.concatenate([[epochs[0] - 1], epochs]))


def _x_of(
    series: Series, axis: str, clock: _Clock | None, ends=None
) -> tuple[np.ndarray, str | None]:
    """The series' x values on ``axis`` (NaN where unknown) and a note when they are missing.

    ``ends`` are the run's epoch ends (:func:`_epoch_ends`) when its log gives epochs apart from
    steps: the epoch axis then comes from them.
    """
    if axis == "step":
        return series.steps.astype(np.float64), None
    if axis == "epoch":
        if ends is not None and np.isfinite(series.epochs).any():
            return _epochs_of_steps(series.steps.astype(np.float64), ends), None
        if not series.batch_level:
            return series.steps.astype(np.float64), None
        if clock is None or clock.epoch_walls.size == 0 or not np.isfinite(series.wall_times).any():
            return series.steps.astype(np.float64), (
                f"{series.run}: {series.metric} counts batches and the run has no per-epoch "
                "wall times to map them to epochs; drawn by step."
            )
        # Epoch e's point is logged when epoch e ends: a batch logged then maps to e, and one
        # logged during epoch e to a fraction between e - 1 and e. The first epoch starts before
        # the first point of the log (logged after the first batch): take it as long as the next.
        start = clock.start
        if clock.epoch_walls.size > 1:
            start = min(start, 2 * clock.epoch_walls[0] - clock.epoch_walls[1])
        walls = np.concatenate([[start], clock.epoch_walls])
        epochs = np.concatenate([[clock.epoch_steps[0] - 1], clock.epoch_steps])
        order = np.argsort(walls, kind="stable")
        return np.interp(series.wall_times, walls[order], epochs[order]), None
    if not np.isfinite(series.wall_times).any():
        return np.full(series.steps.size, np.nan), (
            f"{series.run} has no wall times (CSV and JSON histories do not store them); it is "
            "left out of the time axis."
        )
    if axis == "relative time":
        start = clock.start if clock is not None else float(np.nanmin(series.wall_times))
        return series.wall_times - start, None
    return series.wall_times.copy(), None


def smooth(values: np.ndarray, smoothing: str, value: float) -> np.ndarray:
    """One of :data:`SMOOTHERS` applied to a series (NaN/Inf passed through)."""
    from neurogenesis.analysis.smoothing import gaussian_smooth, moving_average, tensorboard_ema

    if smoothing == "none":
        return np.asarray(values, dtype=np.float64).copy()
    if smoothing == "exponential":
        return tensorboard_ema(values, float(value))
    if smoothing == "gaussian":
        return gaussian_smooth(values, float(value))
    if smoothing == "moving average":
        return moving_average(values, max(int(value), 1))
    raise InputError(f"Expected a smoothing among {', '.join(SMOOTHERS)}. Received: {smoothing!r}")


@dataclass(frozen=True, eq=False)
class Trace(ValueEquality):
    """One line of the dashboard, ready to draw: a run's series or a group's mean.

    Attributes:
        label: the run, or the group, it stands for (one colour per label).
        role, metric: as in :class:`Series`.
        x, y: the drawn curve (smoothed when smoothing is on), downsampled; non-finite y are gaps.
        raw_x, raw_y: the unsmoothed curve, downsampled on its own (its extremes kept); empty
            when smoothing is off.
        band_x, lower, upper: a group's band (min-max or mean ± std); empty for single runs.
        nonfinite_x, nonfinite_kinds: where values were NaN/+Inf/-Inf (at most
            ``MAX_NONFINITE_MARKS``, evenly chosen, the first always included).
        num_nonfinite: how many there were in all.
        first_nonfinite_x: where the series first became non-finite, or None.
        num_points: the series' full length (before downsampling).
        members: for a group, its runs; for a run, itself.
        best_x, best_value: the best finite raw value (by the metric's goal) and where.
        goal: ``"min"`` or ``"max"``.
        last_x: the last finite x (where the run got to).
    """

    label: str
    role: str
    metric: str
    x: np.ndarray
    y: np.ndarray
    raw_x: np.ndarray
    raw_y: np.ndarray
    band_x: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    nonfinite_x: np.ndarray
    nonfinite_kinds: tuple[str, ...]
    num_nonfinite: int
    first_nonfinite_x: float | None
    num_points: int
    members: tuple[str, ...]
    best_x: float | None
    best_value: float | None
    goal: str
    last_x: float | None

    @property
    def num_drawn(self) -> int:
        return int(self.x.size + self.raw_x.size + self.band_x.size)


@dataclass(frozen=True, eq=False)
class DashboardInfo(ValueEquality):
    """Everything the dashboard draws for the chosen runs and metrics.

    Attributes:
        metrics: the metrics, one panel each, in order.
        x_axis: one of :data:`X_AXES`.
        smoothing, smoothing_value: the smoother and its parameter.
        band: ``"min-max"`` or ``"std"`` (groups only).
        traces: the traces, by metric, label, role.
        x_range: the zoomed range re-read at full detail, or None for the whole run.
        total_points: points in the chosen series; ``drawn_points``: points sent to draw.
        notes: what could not be drawn as asked, in words.
        last_wall_time: Unix time of the newest point of the chosen series, or None.
        groups: label -> member runs, for grouped runs.
    """

    metrics: tuple[str, ...]
    x_axis: str
    smoothing: str
    smoothing_value: float
    band: str
    traces: tuple[Trace, ...]
    x_range: tuple[float, float] | None
    total_points: int
    drawn_points: int
    notes: tuple[str, ...]
    last_wall_time: float | None
    groups: tuple[tuple[str, tuple[str, ...]], ...]

    def traces_of(self, metric: str) -> tuple[Trace, ...]:
        return tuple(trace for trace in self.traces if trace.metric == metric)


READ_NOTE_KINDS = ("validation_epochs",)
"""Kinds of ``Run.problems`` that say where points were placed (not damage); the dashboard shows
them as notes."""


def _read_notes(runs, names, shown: set[str]) -> list[str]:
    """The reader's notes on where it placed points (e.g. a JSON history's ``val_*`` lists shorter
    than its training lists), for the runs drawn."""
    notes = []
    for index, run in enumerate(runs):
        display = logical_run_name(names[index] if names is not None else run.name)
        if display in shown:
            notes.extend(
                f"{display}: {problem.message}"
                for problem in run.problems
                if problem.kind in READ_NOTE_KINDS
            )
    return notes


def _aggregate(members, band: str):
    """Mean and band of several curves on the union of their x values (linear interpolation).

    A member counts only inside its own x range and before it first became non-finite (a
    diverged run stops contributing; the trace reports where).
    """
    grid = np.unique(np.concatenate([x[np.isfinite(x)] for x, _ in members]))
    stack = np.full((len(members), grid.size), np.nan)
    for row, (x, y) in enumerate(members):
        finite = np.isfinite(y) & np.isfinite(x)
        bad = np.flatnonzero(~np.isfinite(y) & np.isfinite(x))
        if bad.size:
            finite &= np.arange(y.size) < bad[0]
        if not finite.any():
            continue
        xs, ys = x[finite], y[finite]
        inside = (grid >= xs[0]) & (grid <= xs[-1])
        stack[row, inside] = np.interp(grid[inside], xs, ys)
    count = np.isfinite(stack).sum(axis=0)
    with warnings.catch_warnings():  # all-NaN columns (no member there) are dropped below
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(stack, axis=0)
        if band == "std":
            spread = np.nanstd(stack, axis=0)
            lower, upper = mean - spread, mean + spread
        else:
            lower, upper = np.nanmin(stack, axis=0), np.nanmax(stack, axis=0)
    keep = count > 0
    return grid[keep], mean[keep], lower[keep], upper[keep]


def _pick(x, y, x_range, max_points) -> np.ndarray:
    from neurogenesis.analysis.smoothing import downsample, downsample_range

    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    if x_range is None:
        return downsample(x, y, max_points)
    return downsample_range(x, y, x_range[0], x_range[1], max_points)


def _nonfinite(x: np.ndarray, y: np.ndarray, x_range):
    bad = np.flatnonzero(~np.isfinite(y) & np.isfinite(x))
    total = int(bad.size)
    first = float(x[bad[0]]) if total else None
    if x_range is not None and total:
        lo, hi = sorted(x_range)
        bad = bad[(x[bad] >= lo) & (x[bad] <= hi)]
    if bad.size > MAX_NONFINITE_MARKS:
        chosen = np.unique(np.linspace(0, bad.size - 1, MAX_NONFINITE_MARKS).round().astype(int))
        bad = bad[chosen]
    kinds = tuple("NaN" if np.isnan(v) else ("+Inf" if v > 0 else "-Inf") for v in y[bad])
    return x[bad], kinds, total, first


def _best(x: np.ndarray, y: np.ndarray, goal: str) -> tuple[float | None, float | None]:
    finite = np.isfinite(y) & np.isfinite(x)
    if not finite.any():
        return None, None
    positions = np.flatnonzero(finite)
    at = positions[int(np.argmin(y[finite]) if goal == "min" else np.argmax(y[finite]))]
    return float(x[at]), float(y[at])


def _trace(label, role, metric, members, x, raw, smoothing, value, x_range, max_points, band=None):
    sorted_x = np.all(np.diff(x) >= 0) if x.size > 1 else True
    if not sorted_x:  # wall times can go back (clock changes, restarts): draw in x order
        order = np.argsort(x, kind="stable")
        x, raw = x[order], raw[order]
    smoothed = smooth(raw, smoothing, value)
    index = _pick(x, smoothed, x_range, max_points)
    raw_index = _pick(x, raw, x_range, max_points) if smoothing != "none" else index[:0]
    nonfinite_x, kinds, total, first = _nonfinite(x, raw, x_range)
    goal = metric_goal(metric) or "min"  # a metric that does not say is drawn like a loss
    best_x, best_value = _best(x, raw, goal)
    finite_x = x[np.isfinite(raw)]
    empty = np.zeros(0)
    if band is not None:
        lower, upper = (smooth(b, smoothing, value) for b in band)
        band_x, lower, upper = x[index], lower[index], upper[index]
    else:
        band_x = lower = upper = empty
    return Trace(
        label=label,
        role=role,
        metric=metric,
        x=x[index],
        y=smoothed[index],
        raw_x=x[raw_index],
        raw_y=raw[raw_index],
        band_x=band_x,
        lower=lower,
        upper=upper,
        nonfinite_x=nonfinite_x,
        nonfinite_kinds=kinds,
        num_nonfinite=total,
        first_nonfinite_x=first,
        num_points=int(raw.size),
        members=tuple(members),
        best_x=best_x,
        best_value=best_value,
        goal=goal,
        last_x=float(finite_x[-1]) if finite_x.size else None,
    )


def dashboard_info(
    runs,
    metrics,
    *,
    names=None,
    x_axis: str = "step",
    smoothing: str = "exponential",
    smoothing_value: float | None = None,
    groups: dict[str, str] | None = None,
    band: str = "min-max",
    roles=ROLES,
    x_range: tuple[float, float] | None = None,
    max_points: int | None = None,
) -> DashboardInfo:
    """The dashboard's traces: chosen metrics of chosen runs, smoothed, grouped and downsampled.

    Smoothing runs over every point of a series (not over the drawn ones), then the smoothed and
    the raw curve are each downsampled with MinMaxLTTB to at most ``max_points`` (+4: first,
    last, global min and max), so a million-point log costs the browser two thousand points per
    trace and keeps its exact extremes. With ``x_range``, only that range is read again, at full
    detail when few enough points fall in it.

    Args:
        runs: ``Run`` objects.
        metrics: metric names (see :func:`metric_names`).
        names: display names for the runs (default: their names); a Keras run's ``train`` and
            ``validation`` folders merge into one name.
        x_axis: ``"step"``, ``"epoch"`` (batch-level series mapped through the run's epoch wall
            times), ``"relative time"`` (seconds since the run's first point) or ``"wall time"``
            (Unix seconds).
        smoothing: one of :data:`SMOOTHERS`; ``"exponential"`` is TensorBoard's debiased EMA.
        smoothing_value: the EMA weight in [0, 1), the Gaussian sigma or the moving-average
            window in points (default: :data:`SMOOTHING_DEFAULTS`).
        groups: display name -> group label; runs in one group are drawn as their mean with a band.
            Runs not in the mapping are drawn alone.
        band: ``"min-max"`` or ``"std"`` (mean ± one standard deviation).
        roles: the roles to draw.
        x_range: (low, high) on the x axis to re-read at full detail.
        max_points: most points per drawn curve (default ``DEFAULT_MAX_POINTS``).

    Returns:
        A :class:`DashboardInfo`.

    Raises:
        InputError: for an unknown axis, smoother or band.
    """
    from neurogenesis.analysis.smoothing import DEFAULT_MAX_POINTS

    if x_axis not in X_AXES:
        raise InputError(f"Expected an x axis among {', '.join(X_AXES)}. Received: {x_axis!r}")
    if smoothing not in SMOOTHERS:
        raise InputError(
            f"Expected a smoothing among {', '.join(SMOOTHERS)}. Received: {smoothing!r}"
        )
    if band not in BANDS:
        raise InputError(f"Expected a band among {', '.join(BANDS)}. Received: {band!r}")
    value = SMOOTHING_DEFAULTS[smoothing] if smoothing_value is None else float(smoothing_value)
    max_points = DEFAULT_MAX_POINTS if max_points is None else int(max_points)
    metrics = tuple(metrics)
    series = run_series(runs, metrics, names, roles)
    clocks = _clocks(runs, names)
    ends = _epoch_ends(runs, names) if x_axis == "epoch" else {}
    groups = groups or {}
    notes: list[str] = _read_notes(runs, names, {item.run for item in series})
    placed = []
    for item in series:
        x, note = _x_of(item, x_axis, clocks.get(item.run), ends.get(item.run))
        if note:
            notes.append(note)
        known = np.isfinite(x)
        if not known.any():
            continue
        placed.append((item, x[known], item.values[known]))

    traces = []
    grouped: dict[tuple, list] = {}
    for item, x, values in placed:
        group = groups.get(item.run)
        if group is None:
            traces.append(
                _trace(
                    item.run,
                    item.role,
                    item.metric,
                    (item.run,),
                    x,
                    values,
                    smoothing,
                    value,
                    x_range,
                    max_points,
                )  # fmt: skip
            )
        else:
            grouped.setdefault((group, item.role, item.metric), []).append((item, x, values))
    for (group, role, metric), members in grouped.items():
        curves = []
        for _, x, values in members:
            order = np.argsort(x, kind="stable")
            curves.append((x[order], values[order]))
        grid, mean, lower, upper = _aggregate(curves, band)
        diverged = [
            f"{item.run} became non-finite at {float(x[~np.isfinite(values)][0]):g}"
            for item, x, values in members
            if not np.isfinite(values).all()
        ]
        notes.extend(f"Group {group}: {text}; it leaves the mean from there." for text in diverged)
        traces.append(
            _trace(
                group,
                role,
                metric,
                tuple(item.run for item, _, _ in members),
                grid,
                mean,
                smoothing,
                value,
                x_range,
                max_points,
                band=(lower, upper),
            )  # fmt: skip
        )
    order = {metric: i for i, metric in enumerate(metrics)}
    traces.sort(key=lambda t: (order[t.metric], t.label, ROLES.index(t.role)))
    walls = [float(np.nanmax(s.wall_times)) for s in series if np.isfinite(s.wall_times).any()]
    group_members: dict[str, list[str]] = {}
    for run, group in groups.items():
        if any(s.run == run for s in series):
            group_members.setdefault(group, []).append(run)
    return DashboardInfo(
        metrics=metrics,
        x_axis=x_axis,
        smoothing=smoothing,
        smoothing_value=value,
        band=band,
        traces=tuple(traces),
        x_range=None if x_range is None else (float(min(x_range)), float(max(x_range))),
        total_points=int(sum(s.values.size for s in series)),
        drawn_points=int(sum(t.num_drawn for t in traces)),
        notes=tuple(dict.fromkeys(notes)),
        last_wall_time=max(walls) if walls else None,
        groups=tuple((g, tuple(m)) for g, m in sorted(group_members.items())),
    )


# --------------------------------------------------------------------------------------------
# Naming and grouping runs
# --------------------------------------------------------------------------------------------

SEED_PATTERN = re.compile(r"[_\-.](?:seed|s|run|trial|rep|repeat)[_\-=]?\d+$", re.I)
_NAME_TOKEN = re.compile(r"([A-Za-z][A-Za-z0-9]*)[_=]([-+0-9.eE]+|[A-Za-z]+)(?=_|$)")
WITHOUT_SEED = "name without seed"


def named_runs(sources) -> tuple[list, list[str]]:
    """Every run of several log sources in order, with a unique display name per run.

    Args:
        sources: ``(source label, runs)`` per source (see :func:`display_names`).

    Returns:
        ``(runs, names)``, one name per run.
    """
    runs = [run for _, found in sources for run in found]
    pairs = [(label, run.name) for label, found in sources for run in found]
    return runs, display_names(pairs)


def pick_runs(runs, names: list[str], chosen: tuple[str, ...]) -> tuple[list, list[str]]:
    """The runs behind the chosen logical runs (:func:`logical_run_name`), and their display
    names, in the chosen order (a logical run's ``train`` and ``validation`` folders both)."""
    picked = [i for run in chosen for i, name in enumerate(names) if logical_run_name(name) == run]
    return [runs[i] for i in picked], [names[i] for i in picked]


def display_names(pairs) -> list[str]:
    """A unique name per run across several log sources: the run's name, prefixed by its
    source's label only where two sources hold runs of the same name (and always for bare
    ``train``/``validation`` runs, which become ``<source>/train``).

    Args:
        pairs: ``(source label, run name)`` per run, in order.
    """
    # A log folder opened at a Keras TensorBoard run holds bare train and validation runs: they
    # are one run, named after the source.
    pairs = [
        (source, f"{source}/{name}" if name.lower() in _ROLE_LEAVES else name)
        for source, name in pairs
    ]
    counts: dict[str, set[str]] = {}
    for source, name in pairs:
        counts.setdefault(logical_run_name(name), set()).add(source)
    names = []
    for source, name in pairs:
        clash = len(counts[logical_run_name(name)]) > 1
        names.append(f"{source}: {name}" if clash else name)
    return names


def run_attributes(name: str, hyperparameters: dict | None = None) -> dict[str, str]:
    """What a run can be grouped by: its recorded hyperparameters, ``key_value`` parts of its name
    (``lr_0.003_width_128``), and its name without a trailing seed or repeat number.
    """
    attributes: dict[str, str] = {}
    for key, value in (hyperparameters or {}).items():
        if isinstance(value, (str, int, float, bool)) and key != "seed":
            attributes[str(key)] = str(value)
    leaf = SEED_PATTERN.sub("", name.rsplit("/", 1)[-1])
    for key, value in _NAME_TOKEN.findall(leaf):
        attributes.setdefault(key, value)
    stripped = SEED_PATTERN.sub("", name)
    if stripped and stripped != name:
        attributes[WITHOUT_SEED] = stripped
    return attributes


def seed_groups(
    hyperparameters: dict[str, dict | None], *, distinct: bool = False
) -> dict[str, list[tuple]]:
    """Runs that share a recipe (every recorded hyperparameter but the seed, as
    :func:`run_attributes` reads them) and differ in their ``seed``, for a test across seeds.

    Args:
        hyperparameters: run label -> its recorded hyperparameters (runs without a ``seed`` are
            left out).
        distinct: name each recipe by only the hyperparameters that tell the recipes apart
            (``optimizer=adam`` rather than every setting the runs share), so that two recipes
            fit side by side on a chart's axis; with one recipe it keeps every setting.

    Returns:
        Recipe (``"k=v, ..."`` by key) -> ``(seed, label)`` sorted by seed, for the recipes with
        at least two runs.
    """
    recipes: dict[tuple, dict[str, str]] = {}
    groups: dict[tuple, list[tuple]] = {}
    for label, hyper in hyperparameters.items():
        if not hyper or "seed" not in hyper:
            continue
        recipe = run_attributes("", hyper)
        key = tuple(sorted(recipe.items()))
        recipes[key] = recipe
        groups.setdefault(key, []).append((hyper["seed"], label))
    kept = [key for key, runs in groups.items() if len(runs) >= 2]
    names = sorted({name for key in kept for name in recipes[key]})
    if distinct and len(kept) > 1:
        names = [name for name in names if len({recipes[key].get(name) for key in kept}) > 1]

    def title(recipe: dict[str, str]) -> str:
        return ", ".join(
            f"{name}={recipe[name]}" if name in recipe else f"{name} unset"
            for name in names
            if name in recipe or distinct
        )

    return {title(recipes[key]): sorted(groups[key]) for key in kept}


def grouping_options(attributes: dict[str, dict[str, str]]) -> list[str]:
    """The attributes worth grouping by: those that put at least two runs in one group."""
    keys = dict.fromkeys(key for values in attributes.values() for key in values)
    useful = []
    for key in keys:
        values = [values[key] for values in attributes.values() if key in values]
        if len(values) > len(set(values)):
            useful.append(key)
    return useful


def group_runs(attributes: dict[str, dict[str, str]], key: str) -> dict[str, str]:
    """Run -> group label (``optimizer=adam``) for the runs that have ``key``."""
    return {
        run: (values[key] if key == WITHOUT_SEED else f"{key}={values[key]}")
        for run, values in attributes.items()
        if key in values
    }


def curves_table(
    runs,
    metrics,
    *,
    names=None,
    smoothing: str = "none",
    smoothing_value: float | None = None,
    roles=ROLES,
):
    """Every point of the chosen series as one long table (for CSV export), nothing downsampled.

    Columns: run, role, metric, tag, step, wall_time (Unix seconds, empty when unknown), value
    (NaN/Inf kept), and smoothed when a smoother is chosen.
    """
    import pandas as pd

    value = SMOOTHING_DEFAULTS[smoothing] if smoothing_value is None else float(smoothing_value)
    frames = []
    for item in run_series(runs, tuple(metrics), names, roles):
        frame = {
            "run": item.run,
            "role": item.role,
            "metric": item.metric,
            "tag": item.tag,
            "step": item.steps,
            "wall_time": item.wall_times,
            "value": item.values,
        }
        if smoothing != "none":
            frame["smoothed"] = smooth(item.values, smoothing, value)
        frames.append(pd.DataFrame(frame))
    if not frames:
        columns = ["run", "role", "metric", "tag", "step", "wall_time", "value"]
        return pd.DataFrame(columns=columns + ([] if smoothing == "none" else ["smoothed"]))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# One run, one row per epoch: what the early-stopping, correlation and trajectory views read
# --------------------------------------------------------------------------------------------

MIN_COVERAGE = 0.9  # a scalar joins the epoch table when it was logged at this share of epochs


@dataclass(frozen=True, eq=False)
class EpochTable(ValueEquality):
    """The per-epoch scalars of one (logical) run on one set of epochs.

    Attributes:
        run: the run's display name.
        steps: the epochs (the steps of its longest per-epoch training or validation series).
        columns: ``"train loss"``, ``"validation accuracy"``, then other scalars by tag
            (``learning_rate``, ``gradient_norm/global``).
        values: float64 (columns, steps); NaN where a scalar was not logged, NaN/Inf kept.
        logged: bool (columns, steps): where each scalar was logged (a NaN it logged is a value;
            a NaN where it was not logged is not: validation every few epochs).
    """

    run: str
    steps: np.ndarray
    columns: tuple[str, ...]
    values: np.ndarray
    logged: np.ndarray

    def column(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise InputError(
                f"The run '{self.run}' has no per-epoch '{name}'. Available: "
                f"{', '.join(self.columns) or 'none'}."
            )
        return self.values[self.columns.index(name)]

    def history(self, metric: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(train, validation) values of a metric, None for a role that was not logged."""
        return tuple(
            self.values[self.columns.index(f"{role} {metric}")]
            if f"{role} {metric}" in self.columns
            else None
            for role in ROLES
        )

    def monitored_history(
        self, metric: str
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(epochs, train, validation) of a metric on the epochs ``EarlyStopping`` sees.

        Keras's ``EarlyStopping`` monitors ``val_<metric>`` when it is logged and skips the epochs
        where it is not (``validation_freq``), so with a validation series the epochs are those
        it was logged at; the training values are taken at the same epochs.
        """
        train, validation = self.history(metric)
        if validation is None:
            return self.steps, train, validation
        at = self.logged[self.columns.index(f"validation {metric}")]
        return self.steps[at], None if train is None else train[at], validation[at]

    @property
    def metrics(self) -> list[str]:
        """The metrics logged for training or validation, losses first."""
        names = {
            column.split(" ", 1)[1] for column in self.columns if column.split(" ")[0] in ROLES
        }
        return sorted(names, key=lambda name: (0 if "loss" in name else 1, name))


def epoch_table(runs, run: str, names=None, min_coverage: float = MIN_COVERAGE) -> EpochTable:
    """Every per-epoch scalar of one logical run, on the epochs of its main series.

    Args:
        runs: ``Run`` objects (those of other logical runs are ignored).
        run: the logical run's display name.
        names: display names for ``runs`` (default: their names).
        min_coverage: the share of the epochs a scalar that is not a training or validation
            metric must cover to join (gradient norms logged every epoch do; a value logged once
            does not).

    Raises:
        InputError: when the run has no per-epoch training or validation series.
    """
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    main: list[str] = []
    for index, item in enumerate(runs):
        display = names[index] if names is not None else item.name
        if logical_run_name(display) != run:
            continue
        for tag, scalar in item.scalars.items():
            if scalar.num_points == 0 or _is_batch_level(tag):
                continue
            role, metric = split_tag(tag, item.name)
            if metric.lower() in ("learning_rate", "lr"):
                role = "other"  # logged by the training side, but a setting, not a metric
            column = f"{role} {metric}" if role in ROLES else tag
            order = _purge_order(scalar.steps, scalar.segments)
            steps, values, epochs = scalar.steps[order], scalar.values[order], scalar.epochs[order]
            if np.isfinite(epochs).all() and epochs.size:
                # The log gives epochs apart from global steps (Lightning): a series logged once
                # per epoch joins at its epochs; one logged more often is step-level.
                if tag.lower().endswith("_step") or np.unique(epochs).size < epochs.size:
                    continue
                steps = epochs.astype(np.int64)
            steps, first = np.unique(steps[::-1], return_index=True)  # the last value per step
            series.setdefault(column, (steps, values[::-1][first]))
            if role in ROLES:
                main.append(column)
    if not main:
        raise InputError(
            f"The run '{run}' has no per-epoch training or validation metric to analyse."
        )
    reference = max(main, key=lambda column: series[column][0].size)
    steps = series[reference][0]
    columns, rows, logged = [], [], []
    ordered = sorted(series, key=lambda c: (c not in main, c.split(" ")[0] != "train", c))
    for column in ordered:
        own_steps, own_values = series[column]
        at = np.searchsorted(own_steps, steps).clip(max=max(own_steps.size - 1, 0))
        present = own_steps[at] == steps if own_steps.size else np.zeros(steps.size, bool)
        if column not in main and present.mean() < min_coverage:
            continue
        columns.append(column)
        rows.append(np.where(present, own_values[at], np.nan))
        logged.append(present)
    return EpochTable(
        run, steps.astype(np.int64), tuple(columns), np.vstack(rows), np.vstack(logged)
    )

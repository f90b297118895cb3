"""Hyperparameter surfaces, slices, parallel coordinates and importance from a set of trials.

Axes: a numeric parameter whose values are all positive and span three decades, or a factor of
at least :data:`LOG_RATIO_SWEPT` with values spread more evenly in log10 than in linear units (a
sweep over 3e-4, 1e-3, 3e-3; a log-uniform learning-rate search), is on a log axis, and every fit
here works in log10 of it; a categorical parameter sits at positions ``0..k-1`` with its labels.

A surface is either the observed values themselves (``method="grid"``, when the completed trials
cover every combination of the two parameters' values: nothing is invented) or a Gaussian process
fitted to irregular trials (``method="gp"``), with its standard deviation as the uncertainty.

Importance is fANOVA-style: a random forest is fitted to the trials and, for each parameter, the
variance of its marginal prediction (the forest averaged over the trials' other parameters while
that one takes each of its values) is divided by the variance of the forest's predictions.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields

import numpy as np

from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError
from neurogenesis.io.trials import Trials

__all__ = [
    "AGGREGATES",
    "BEST_REGION_FRACTION",
    "DEFAULT_RESOLUTION",
    "ALWAYS_LOG_RATIO",
    "LOG_RATIO",
    "LOG_RATIO_SWEPT",
    "METHODS",
    "MIN_AXIS_VALUES",
    "MIN_SURFACE_TRIALS",
    "ImportanceInfo",
    "ParallelAxis",
    "ParallelInfo",
    "SliceInfo",
    "SlicePanel",
    "SurfaceInfo",
    "axis_ticks",
    "default_axes",
    "importance_info",
    "parallel_info",
    "slice_info",
    "surface_info",
    "surface_problem",
]

DEFAULT_RESOLUTION = 40
MIN_RESOLUTION = 5
MAX_RESOLUTION = 200
METHODS = ("auto", "grid", "gp")
AGGREGATES = ("best", "mean")
LOG_RATIO = 20.0
LOG_RATIO_SWEPT = 5.0
ALWAYS_LOG_RATIO = 1000.0
MIN_SURFACE_TRIALS = 4
MIN_AXIS_VALUES = 3
MIN_IMPORTANCE_TRIALS = 5
MAX_GRID_CELLS = 10_000
BEST_REGION_FRACTION = 0.05
GP_RESTARTS = 2
GP_LENGTH_SCALE = 0.3
# A length scale below 1/20 of an axis would let the GP thread a spike through every trial.
GP_LENGTH_SCALE_BOUNDS = (0.05, 10.0)
GP_NOISE = 1e-2
GP_NOISE_BOUNDS = (1e-6, 1.0)
DEFAULT_TREES = 200
MAX_MARGINAL_POINTS = 25
MAX_BACKGROUND_ROWS = 400
PERMUTATION_REPEATS = 5
MIN_OOB_TRIALS = 10
RANDOM_STATE = 0
MAX_TICKS = 8


# --------------------------------------------------------------------------------------------
# Infos
# --------------------------------------------------------------------------------------------


def _same(mine, theirs) -> bool:
    if isinstance(mine, np.ndarray) or isinstance(theirs, np.ndarray):
        mine, theirs = np.asarray(mine), np.asarray(theirs)
        if mine.shape != theirs.shape or mine.dtype.kind != theirs.dtype.kind:
            return False
        return bool(np.array_equal(mine, theirs, equal_nan=mine.dtype.kind in "fc"))
    if isinstance(mine, tuple | list) and isinstance(theirs, tuple | list):
        return len(mine) == len(theirs) and all(map(_same, mine, theirs))
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return mine.keys() == theirs.keys() and all(_same(mine[k], theirs[k]) for k in mine)
    if isinstance(mine, float) and isinstance(theirs, float) and math.isnan(mine):
        return math.isnan(theirs)
    return bool(mine == theirs)


class _Equality(ValueEquality):
    """Value equality that also looks inside tuples and dicts of arrays (per-parameter fields)."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class SurfaceInfo(_Equality):
    """A metric over two hyperparameters.

    Grid coordinates and trial positions are in the parameter's units (a learning rate, not its
    log); a categorical axis uses positions ``0..k-1`` with ``*_categories`` as labels. Plot log
    axes in log10 of these values.

    Attributes:
        x, y: the parameters on the axes; metric: the metric; goal: ``"max"`` or ``"min"``.
        method: ``"grid"`` (observed values at the nodes) or ``"gp"`` (Gaussian process mean).
        aggregate: how trials sharing a node were combined (``"best"`` or ``"mean"``).
        x_log, y_log: whether the axis is logarithmic.
        x_categories, y_categories: labels of a categorical axis, else None.
        x_values, y_values: grid coordinates, shapes (nx,) and (ny,).
        z: float64 (ny, nx) surface (NaN nowhere for a grid: every node was observed).
        z_std: float64 (ny, nx) GP standard deviation, None for a grid.
        counts: int (ny, nx) number of trials per node for a grid, None for a GP.
        points_x, points_y, points_z: the completed trials with a finite metric.
        points_names: their names; points_index: their positions in the Trials.
        other_x, other_y, other_names, other_states: the other trials (failed, pruned, running,
            no metric), drawn apart.
        best_index, best_name, best_value, best_x, best_y: the best completed trial.
        best_params: every parameter of the best trial (numbers or category labels).
        region: bool (ny, nx): where the surface is within ``region_tolerance`` of its best
            value, ``region_tolerance = best_fraction * (z.max() - z.min())``. The same rule for
            both methods; for a GP it applies to the mean, and ``z_std`` says how sure that is.
        region_tolerance: in metric units; best_fraction: the fraction used.
        kernel: the fitted GP kernel as text, None for a grid.
        num_trials: how many trials the surface uses.
        notes: what was assumed or left out.
    """

    x: str
    y: str
    metric: str
    goal: str
    method: str
    aggregate: str
    x_log: bool
    y_log: bool
    x_categories: tuple[str, ...] | None
    y_categories: tuple[str, ...] | None
    x_values: np.ndarray
    y_values: np.ndarray
    z: np.ndarray
    z_std: np.ndarray | None
    counts: np.ndarray | None
    points_x: np.ndarray
    points_y: np.ndarray
    points_z: np.ndarray
    points_names: np.ndarray
    points_index: np.ndarray
    other_x: np.ndarray
    other_y: np.ndarray
    other_names: np.ndarray
    other_states: np.ndarray
    best_index: int
    best_name: str
    best_value: float
    best_x: float
    best_y: float
    best_params: dict
    region: np.ndarray
    region_tolerance: float
    best_fraction: float
    kernel: str | None
    num_trials: int
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ImportanceInfo(_Equality):
    """How much of the metric's variation each hyperparameter explains.

    Attributes:
        metric, goal: the metric and its goal.
        parameters: every parameter, in the Trials' order.
        importance: float64 share of the forest's prediction variance explained by each
            parameter alone (fANOVA-style main effect), in [0, 1]; 0 for a constant parameter.
        interaction: 1 minus the sum of the shares (clipped at 0): what only combinations of
            parameters explain.
        marginal_values: per parameter, the values its marginal was evaluated at (parameter units;
            categorical: positions).
        marginal_means: per parameter, the forest's mean prediction at those values.
        log: per parameter, whether it is on a log axis.
        categories: labels of the categorical parameters.
        permutation_mean, permutation_std: permutation importance (drop in the forest's R² on
            the trials when the parameter is shuffled, over several shuffles).
        oob_r2: the forest's out-of-bag R² (None with fewer than 10 trials): how well a forest
            predicts unseen trials, i.e. how much to trust the shares.
        total_variance: variance of the forest's predictions over the trials.
        num_trials, n_estimators: the data and forest size.
        notes: what was assumed or left out.
    """

    metric: str
    goal: str
    parameters: tuple[str, ...]
    importance: np.ndarray
    interaction: float
    marginal_values: tuple[np.ndarray, ...]
    marginal_means: tuple[np.ndarray, ...]
    log: tuple[bool, ...]
    categories: dict
    permutation_mean: np.ndarray
    permutation_std: np.ndarray
    oob_r2: float | None
    total_variance: float
    num_trials: int
    n_estimators: int
    notes: tuple[str, ...]

    @property
    def order(self) -> np.ndarray:
        """Parameter positions from the most to the least important."""
        return np.argsort(-self.importance, kind="stable")


@dataclass(frozen=True, eq=False)
class SlicePanel(_Equality):
    """The metric against one parameter.

    Attributes:
        parameter: the parameter; log: whether its axis is logarithmic; categories: labels of a
            categorical parameter (x holds positions), else None.
        x: the parameter's value per trial; y: the metric; index: the trials' positions (their
            order in the search); names: their names.
    """

    parameter: str
    log: bool
    categories: tuple[str, ...] | None
    x: np.ndarray
    y: np.ndarray
    index: np.ndarray
    names: np.ndarray


@dataclass(frozen=True, eq=False)
class SliceInfo(_Equality):
    """One panel per parameter, plus the best trial (``best_index`` is a Trials position)."""

    metric: str
    goal: str
    panels: tuple[SlicePanel, ...]
    best_index: int
    best_name: str
    best_value: float
    num_trials: int
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ParallelAxis(_Equality):
    """One axis of a parallel-coordinates plot.

    Attributes:
        name: the parameter or metric; log: whether ``values`` are log10 of the parameter;
        categories: labels when ``values`` are category positions, else None.
        values: float64 per trial, in axis coordinates (log10, position or raw).
        range: (low, high) in axis coordinates.
        tickvals, ticktext: readable ticks for log and categorical axes, else None.
    """

    name: str
    log: bool
    categories: tuple[str, ...] | None
    values: np.ndarray
    range: tuple[float, float]
    tickvals: tuple[float, ...] | None
    ticktext: tuple[str, ...] | None


@dataclass(frozen=True, eq=False)
class ParallelInfo(_Equality):
    """The table behind parallel coordinates: parameter axes, then the metric axis (last).

    Attributes:
        metric, goal: the metric; color: its value per row (for the line colours).
        axes: the axes; names: trial names per row; index: trial positions per row.
        best_row: the row of the best trial.
        notes: trials or parameters left out.
    """

    metric: str
    goal: str
    axes: tuple[ParallelAxis, ...]
    color: np.ndarray
    names: np.ndarray
    index: np.ndarray
    best_row: int
    notes: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Axes
# --------------------------------------------------------------------------------------------


def _check_trials(trials) -> None:
    if not isinstance(trials, Trials):
        raise InputError(
            f"Expected Trials (from neurogenesis.io.trials). Received: {type(trials).__name__}."
        )


def _check_metric(trials: Trials, metric: str | None) -> str:
    metric = trials.metric if metric is None else metric
    if metric not in trials.metrics:
        raise InputError(
            f"Expected one of the metrics {list(trials.metrics)}. Received: {metric!r}; "
            "pick one of those."
        )
    return metric


def _check_parameter(trials: Trials, name: str) -> None:
    if name not in trials.parameters:
        raise InputError(
            f"Expected one of the hyperparameters {list(trials.parameters)}. Received: {name!r}; "
            "pick one of those."
        )


def _encode(trials: Trials, name: str) -> tuple[np.ndarray, bool, tuple[str, ...] | None]:
    """Axis coordinates per trial (log10, position or raw; NaN when missing), log, categories."""
    values = trials.parameter_values[name]
    if trials.is_categorical(name):
        categories = trials.categories[name]
        position = {label: i for i, label in enumerate(categories)}
        coords = np.array([position.get(v, np.nan) if v is not None else np.nan for v in values])
        return coords.astype(np.float64), False, categories
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    log = bool(finite.size and finite.min() > 0) and _log_spaced(np.unique(finite))
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(values), True, None
    return values.copy(), False, None


def _log_spaced(distinct: np.ndarray) -> bool:
    """Whether sorted distinct positive values belong on a log axis.

    Three decades or more always do. From a factor of :data:`LOG_RATIO_SWEPT` on, the values
    decide: a sweep like 3e-4, 1e-3, 3e-3 (or widths 4, 8, 16, 32) or a log-uniform search is
    spread evenly in log10 and would bunch up at one end of a linear axis, while a dropout drawn
    uniformly from [0.005, 0.5] is spread evenly in linear units and would bunch up on a log
    axis. With fewer than three values there is no spread to judge: :data:`LOG_RATIO` decides.
    """
    ratio = distinct[-1] / distinct[0]
    if ratio >= ALWAYS_LOG_RATIO:
        return True
    if distinct.size < MIN_AXIS_VALUES:
        return ratio >= LOG_RATIO
    if ratio < LOG_RATIO_SWEPT:
        return False

    def unevenness(values):
        # Largest gap between the values' positions on the axis and evenly spaced positions.
        position = (values - values[0]) / (values[-1] - values[0])
        return float(np.max(np.abs(position - np.linspace(0.0, 1.0, values.size))))

    return unevenness(np.log10(distinct)) < unevenness(distinct)


def _raw(trials: Trials, name: str) -> np.ndarray:
    """Per trial, the parameter's own value (exact, not back from log10), or category position."""
    if trials.is_categorical(name):
        return _encode(trials, name)[0]
    return np.asarray(trials.parameter_values[name], np.float64)


def _decode(coords: np.ndarray, log: bool) -> np.ndarray:
    return np.power(10.0, coords) if log else np.asarray(coords, np.float64)


def _format(value: float) -> str:
    return f"{value:.3g}"


def axis_ticks(
    low: float, high: float, *, log: bool, categories: tuple[str, ...] | None = None
) -> tuple[tuple[float, ...], tuple[str, ...]] | None:
    """Readable ticks for an axis in coordinates (log10 for log axes, positions for categories).

    Args:
        low, high: the axis range in coordinates.
        log: whether coordinates are log10 of the values.
        categories: labels of a categorical axis.

    Returns:
        ``(tickvals, ticktext)``: decades (or 1-2-5 steps, or a few evenly spaced values when the
        range is under a decade) labelled with the value itself (``0.001``), category labels, or
        None for a linear axis (the plotting library's ticks are fine there).
    """
    if categories is not None:
        return tuple(float(i) for i in range(len(categories))), tuple(categories)
    if not log:
        return None
    low, high = float(min(low, high)), float(max(low, high))
    eps = 1e-9
    for multipliers in ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)):
        ticks = [
            math.log10(m) + decade
            for decade in range(math.floor(low) - 1, math.ceil(high) + 1)
            for m in multipliers
        ]
        ticks = [t for t in ticks if low - eps <= t <= high + eps]
        if len(ticks) >= 2:
            step = max(1, math.ceil(len(ticks) / MAX_TICKS))
            ticks = ticks[::step]
            return tuple(ticks), tuple(_format(10.0**t) for t in ticks)
    ticks = list(np.linspace(low, high, 3)) if high > low else [low]
    return tuple(float(t) for t in ticks), tuple(_format(10.0**t) for t in ticks)


def _best(values: np.ndarray, goal: str) -> int:
    return int(np.nanargmax(values) if goal == "max" else np.nanargmin(values))


def _param_value(trials: Trials, name: str, index: int):
    value = trials.parameter_values[name][index]
    if trials.is_categorical(name):
        return value
    return float(value)


# --------------------------------------------------------------------------------------------
# Surface
# --------------------------------------------------------------------------------------------


def surface_problem(trials: Trials, x: str, y: str, metric: str | None = None) -> str | None:
    """Why a surface of ``metric`` over ``x`` and ``y`` cannot be drawn, or None when it can.

    A surface needs two different parameters, at least :data:`MIN_SURFACE_TRIALS` completed
    trials with a finite metric and both parameters set, and at least :data:`MIN_AXIS_VALUES`
    distinct values of each parameter among them.
    """
    _check_trials(trials)
    metric = _check_metric(trials, metric)
    _check_parameter(trials, x)
    _check_parameter(trials, y)
    if x == y:
        return f"Expected two different hyperparameters. Received: {x!r} twice; pick another y."
    xc, _, _ = _encode(trials, x)
    yc, _, _ = _encode(trials, y)
    usable = trials.complete(metric) & np.isfinite(xc) & np.isfinite(yc)
    count = int(usable.sum())
    if count < MIN_SURFACE_TRIALS:
        return (
            f"Expected at least {MIN_SURFACE_TRIALS} completed trials with a finite {metric!r} "
            f"and both {x!r} and {y!r} set. Received: {count}; wait for more trials or pick "
            "other parameters."
        )
    for name, coords in ((x, xc), (y, yc)):
        distinct = np.unique(coords[usable]).size
        if distinct < MIN_AXIS_VALUES:
            return (
                f"Expected at least {MIN_AXIS_VALUES} distinct values of {name!r} among the "
                f"completed trials for a surface. Received: {distinct}; use the slice plot for "
                "it, or pick another parameter."
            )
    return None


def default_axes(trials: Trials, metric: str | None = None) -> tuple[str, str] | None:
    """The first two parameters a surface can be drawn over (most distinct values first)."""
    _check_trials(trials)
    metric = _check_metric(trials, metric)
    done = trials.complete(metric)
    counts = []
    for name in trials.parameters:
        coords, _, _ = _encode(trials, name)
        counts.append(np.unique(coords[done & np.isfinite(coords)]).size)
    ranked = [trials.parameters[i] for i in np.argsort(-np.array(counts), kind="stable")]
    for i, first in enumerate(ranked):
        for second in ranked[i + 1 :]:
            if surface_problem(trials, first, second, metric) is None:
                # Keep the Trials' order on screen: the first parameter goes on x.
                if trials.parameters.index(first) > trials.parameters.index(second):
                    first, second = second, first
                return first, second
    return None


def _aggregate(values: np.ndarray, goal: str, aggregate: str) -> float:
    if aggregate == "mean":
        return float(np.mean(values))
    return float(np.max(values) if goal == "max" else np.min(values))


def _region(z: np.ndarray, goal: str, fraction: float) -> tuple[np.ndarray, float]:
    finite = z[np.isfinite(z)]
    spread = float(finite.max() - finite.min())
    tolerance = fraction * spread
    best = finite.max() if goal == "max" else finite.min()
    return np.isfinite(z) & (np.abs(z - best) <= tolerance), tolerance


def _fit_gp(coords: np.ndarray, values: np.ndarray):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=[GP_LENGTH_SCALE] * coords.shape[1],
        length_scale_bounds=GP_LENGTH_SCALE_BOUNDS,
        nu=2.5,
    ) + WhiteKernel(GP_NOISE, GP_NOISE_BOUNDS)
    gp = GaussianProcessRegressor(
        kernel,
        normalize_y=True,
        n_restarts_optimizer=GP_RESTARTS,
        random_state=RANDOM_STATE,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(coords, values)
    return gp


def surface_info(
    trials: Trials,
    x: str,
    y: str,
    metric: str | None = None,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    method: str = "auto",
    aggregate: str = "best",
    best_fraction: float = BEST_REGION_FRACTION,
) -> SurfaceInfo:
    """The metric over a grid of two hyperparameters, with the trials and the best region.

    Args:
        trials: the search (:func:`neurogenesis.io.trials.read_trials`).
        x, y: the parameters on the horizontal axes.
        metric: the metric (default: the Trials' default metric).
        resolution: grid nodes per numeric axis for a GP surface (a categorical axis has one
            node per category; a grid surface uses the observed values).
        method: ``"grid"`` (the completed trials must cover every (x, y) combination),
            ``"gp"`` (Gaussian process: Matern 2.5 + white noise on inputs scaled to [0, 1]), or
            ``"auto"``: grid when the trials cover one, else GP.
        aggregate: trials sharing an (x, y) node (they differ in other parameters, or repeat a
            point) are combined by their ``"best"`` value (by the metric's goal) or ``"mean"``.
        best_fraction: the best region is where the surface is within this fraction of its
            range of its best value.

    Returns:
        The surface (see :class:`SurfaceInfo`).

    Raises:
        InputError: unknown names, a bad option, too few trials or distinct values, or
            ``method="grid"`` on trials that do not cover a grid.
    """
    _check_trials(trials)
    metric = _check_metric(trials, metric)
    if method not in METHODS:
        raise InputError(f"Expected method in {list(METHODS)}. Received: {method!r}.")
    if aggregate not in AGGREGATES:
        raise InputError(f"Expected aggregate in {list(AGGREGATES)}. Received: {aggregate!r}.")
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise InputError(f"Expected an integer resolution. Received: {resolution!r}.")
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise InputError(
            f"Expected a resolution between {MIN_RESOLUTION} and {MAX_RESOLUTION}. "
            f"Received: {resolution}."
        )
    if not 0.0 <= float(best_fraction) <= 1.0:
        raise InputError(f"Expected best_fraction in [0, 1]. Received: {best_fraction!r}.")
    problem = surface_problem(trials, x, y, metric)
    if problem is not None:
        raise InputError(problem)
    goal = trials.goals[metric]
    notes: list[str] = []
    xc, x_log, x_cats = _encode(trials, x)
    yc, y_log, y_cats = _encode(trials, y)
    xr, yr = _raw(trials, x), _raw(trials, y)
    placed = np.isfinite(xc) & np.isfinite(yc)
    usable = trials.complete(metric) & placed
    other = placed & ~usable
    unplaced = int((~placed).sum())
    if unplaced:
        notes.append(f"{unplaced} trials without a value of {x!r} or {y!r} are not drawn.")
    values = trials.metric_values[metric]
    ux, uy = np.unique(xc[usable]), np.unique(yc[usable])
    ix = np.searchsorted(ux, xc[usable])
    iy = np.searchsorted(uy, yc[usable])
    counts = np.zeros((uy.size, ux.size), np.int64)
    np.add.at(counts, (iy, ix), 1)
    covered = bool((counts > 0).all()) and counts.size <= MAX_GRID_CELLS
    if method == "grid" and not covered:
        missing = int((counts == 0).sum())
        raise InputError(
            f"Expected trials at every combination of {x!r} and {y!r} for a grid surface. "
            f"Received: {missing} of {counts.size} combinations without a completed trial; "
            "use method='gp' (a Gaussian process) instead."
        )
    chosen = "grid" if method == "grid" or (method == "auto" and covered) else "gp"
    others = [p for p in trials.parameters if p not in (x, y)]
    z_std = None
    cell_counts = None
    kernel = None
    if chosen == "grid":
        z = np.full(counts.shape, np.nan)
        observed = values[usable]
        for j in range(uy.size):
            for i in range(ux.size):
                z[j, i] = _aggregate(observed[(iy == j) & (ix == i)], goal, aggregate)
        grid_x, grid_y = ux, uy
        # The nodes in the parameters' own units, exactly as the trials give them.
        grid_x_values = np.unique(xr[usable])
        grid_y_values = np.unique(yr[usable])
        cell_counts = counts
        if counts.max() > 1:
            notes.append(
                f"Up to {int(counts.max())} trials share a node (other parameters: {others}); "
                f"each node shows their {'best' if aggregate == 'best' else 'mean'} value."
            )
    else:
        grid_x = _axis_grid(xc[placed], x_cats, resolution)
        grid_y = _axis_grid(yc[placed], y_cats, resolution)
        low = np.array([grid_x[0], grid_y[0]])
        span = np.array([grid_x[-1] - grid_x[0], grid_y[-1] - grid_y[0]])
        span[span == 0] = 1.0
        points = np.column_stack([xc[usable], yc[usable]])
        unique_points, inverse = np.unique(points, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        observed = values[usable]
        targets = np.array(
            [_aggregate(observed[inverse == k], goal, aggregate) for k in range(len(unique_points))]
        )
        if len(unique_points) < len(points):
            notes.append(
                f"Trials repeating an (x, y) point were combined by their {aggregate} value "
                "before the fit."
            )
        gp = _fit_gp((unique_points - low) / span, targets)
        grid_x_values, grid_y_values = _decode(grid_x, x_log), _decode(grid_y, y_log)
        mesh_x, mesh_y = np.meshgrid(grid_x, grid_y)
        query = (np.column_stack([mesh_x.ravel(), mesh_y.ravel()]) - low) / span
        mean, std = gp.predict(query, return_std=True)
        z = mean.reshape(mesh_x.shape)
        z_std = std.reshape(mesh_x.shape)
        kernel = str(gp.kernel_)
        if others:
            notes.append(
                f"The Gaussian process averages over the other parameters ({others}): the "
                "surface is the metric expected at (x, y) across them."
            )
        categorical = [name for name, cats in ((x, x_cats), (y, y_cats)) if cats is not None]
        if categorical:
            notes.append(
                f"The categories of {categorical} sit at positions 0..k-1 in their listed order; "
                "the Gaussian process treats neighbouring categories as alike."
            )
        notes.append(
            "Gaussian-process surface (Matern 2.5 + noise): between and beyond the trials it is "
            "an estimate; the uncertainty (±1 std) says how far to trust it."
        )
    region, tolerance = _region(z, goal, float(best_fraction))
    indices = np.flatnonzero(usable)
    best = int(indices[_best(values[usable], goal)])
    return SurfaceInfo(
        x=x,
        y=y,
        metric=metric,
        goal=goal,
        method=chosen,
        aggregate=aggregate,
        x_log=x_log,
        y_log=y_log,
        x_categories=x_cats,
        y_categories=y_cats,
        x_values=grid_x_values,
        y_values=grid_y_values,
        z=z,
        z_std=z_std,
        counts=cell_counts,
        points_x=xr[usable],
        points_y=yr[usable],
        points_z=values[usable].astype(np.float64),
        points_names=trials.names[usable].copy(),
        points_index=indices,
        other_x=xr[other],
        other_y=yr[other],
        other_names=trials.names[other].copy(),
        other_states=np.array(
            [s if s != "complete" else "no value" for s in trials.states[other]],
            dtype=str,
        ),
        best_index=best,
        best_name=str(trials.names[best]),
        best_value=float(values[best]),
        best_x=float(xr[best]),
        best_y=float(yr[best]),
        best_params={p: _param_value(trials, p, best) for p in trials.parameters},
        region=region,
        region_tolerance=tolerance,
        best_fraction=float(best_fraction),
        kernel=kernel,
        num_trials=int(usable.sum()),
        notes=tuple(notes),
    )


def _axis_grid(coords: np.ndarray, categories, resolution: int) -> np.ndarray:
    if categories is not None:
        return np.arange(len(categories), dtype=np.float64)
    return np.linspace(float(coords.min()), float(coords.max()), resolution)


# --------------------------------------------------------------------------------------------
# Importance
# --------------------------------------------------------------------------------------------


def importance_info(
    trials: Trials,
    metric: str | None = None,
    *,
    n_estimators: int = DEFAULT_TREES,
    random_state: int = RANDOM_STATE,
    permutation: bool = True,
) -> ImportanceInfo:
    """fANOVA-style hyperparameter importance from a random forest fitted to the trials.

    For each parameter, the forest's prediction is averaged over the completed trials while that
    parameter is set to each of its values (every observed value, or
    :data:`MAX_MARGINAL_POINTS` quantiles); the variance of these means, weighted by how often
    the trials take each value, over the variance of the forest's predictions on the trials is
    its share. On a full grid and an additive metric the shares are the exact variance shares.

    Args:
        trials: the search.
        metric: the metric (default: the Trials' default).
        n_estimators: trees in the forest.
        random_state: the forest's seed (the result is deterministic).
        permutation: also compute permutation importance.

    Returns:
        The importances (see :class:`ImportanceInfo`).

    Raises:
        InputError: unknown metric or fewer than :data:`MIN_IMPORTANCE_TRIALS` completed trials.
    """
    from sklearn.ensemble import RandomForestRegressor

    _check_trials(trials)
    metric = _check_metric(trials, metric)
    if isinstance(n_estimators, bool) or not isinstance(n_estimators, int) or n_estimators < 1:
        raise InputError(f"Expected a positive number of trees. Received: {n_estimators!r}.")
    goal = trials.goals[metric]
    usable = trials.complete(metric)
    count = int(usable.sum())
    if count < MIN_IMPORTANCE_TRIALS:
        raise InputError(
            f"Expected at least {MIN_IMPORTANCE_TRIALS} completed trials with a finite {metric!r} "
            f"for importance. Received: {count}; wait for more trials."
        )
    notes: list[str] = []
    y = trials.metric_values[metric][usable]
    columns, logs, missing_params = [], [], []
    for name in trials.parameters:
        coords, log, categories = _encode(trials, name)
        coords = coords[usable]
        logs.append(log)
        missing = ~np.isfinite(coords)
        if missing.any():
            missing_params.append(name)
            finite = coords[~missing]
            if categories is not None:
                fill = float(len(categories))
            elif finite.size:
                fill = float(finite.min() - 0.1 * max(np.ptp(finite), 1.0))
            else:
                fill = 0.0
            # Trees split "not set" off as a value of its own (Optuna's conditional parameters).
            coords = np.where(missing, fill, coords)
        columns.append(coords)
    if missing_params:
        notes.append(
            f"Trials without a value of {missing_params} count that as a value of its own."
        )
    features = np.column_stack(columns)
    forest = RandomForestRegressor(
        n_estimators=n_estimators,
        random_state=random_state,
        oob_score=count >= MIN_OOB_TRIALS,
        n_jobs=1,
    )
    forest.fit(features, y)
    predictions = forest.predict(features)
    total = float(np.var(predictions))
    rng = np.random.default_rng(random_state)
    background = features
    if len(features) > MAX_BACKGROUND_ROWS:
        background = features[rng.choice(len(features), MAX_BACKGROUND_ROWS, replace=False)]
        notes.append(f"Marginals average over {MAX_BACKGROUND_ROWS} random trials.")
    shares, grids, means = [], [], []
    constant = []
    for j, name in enumerate(trials.parameters):
        column = features[:, j]
        distinct, frequency = np.unique(column, return_counts=True)
        if distinct.size <= MAX_MARGINAL_POINTS:
            grid, weights = distinct, frequency / frequency.sum()
        else:
            grid = np.unique(np.quantile(column, np.linspace(0, 1, MAX_MARGINAL_POINTS)))
            weights = np.full(grid.size, 1.0 / grid.size)
        stacked = np.repeat(background[None], grid.size, axis=0)
        stacked[:, :, j] = grid[:, None]
        marginal = forest.predict(stacked.reshape(-1, features.shape[1]))
        marginal = marginal.reshape(grid.size, len(background)).mean(axis=1)
        centre = float(np.sum(weights * marginal))
        variance = float(np.sum(weights * (marginal - centre) ** 2))
        if distinct.size < 2:
            constant.append(name)
        shares.append(variance / total if total > 0 else 0.0)
        grids.append(_decode(grid, logs[j]))
        means.append(marginal)
    if constant:
        notes.append(
            f"Parameters with one value in the completed trials explain nothing: {constant}."
        )
    if total <= 0:
        notes.append(f"The forest predicts the same {metric!r} everywhere: nothing to share out.")
    importance = np.clip(np.array(shares, np.float64), 0.0, 1.0)
    if permutation and total > 0:
        from sklearn.inspection import permutation_importance

        result = permutation_importance(
            forest, features, y, n_repeats=PERMUTATION_REPEATS, random_state=random_state
        )
        permutation_mean = result.importances_mean.astype(np.float64)
        permutation_std = result.importances_std.astype(np.float64)
    else:
        permutation_mean = np.zeros(len(trials.parameters))
        permutation_std = np.zeros(len(trials.parameters))
    oob = float(forest.oob_score_) if count >= MIN_OOB_TRIALS else None
    if oob is None:
        notes.append(f"With fewer than {MIN_OOB_TRIALS} trials the forest's fit is not checked.")
    elif oob < 0.3:
        notes.append(
            f"The forest predicts unseen trials poorly (out-of-bag R² {oob:.2f}): treat the "
            "shares as rough."
        )
    return ImportanceInfo(
        metric=metric,
        goal=goal,
        parameters=tuple(trials.parameters),
        importance=importance,
        interaction=float(max(0.0, 1.0 - importance.sum())),
        marginal_values=tuple(grids),
        marginal_means=tuple(means),
        log=tuple(logs),
        categories=dict(trials.categories),
        permutation_mean=permutation_mean,
        permutation_std=permutation_std,
        oob_r2=oob,
        total_variance=total,
        num_trials=count,
        n_estimators=n_estimators,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Slices and parallel coordinates
# --------------------------------------------------------------------------------------------


def _completed(trials: Trials, metric: str | None) -> tuple[str, np.ndarray]:
    """The metric's name and the mask of completed trials with a finite value (at least one).

    Raises:
        InputError: unknown metric or no such trial.
    """
    _check_trials(trials)
    metric = _check_metric(trials, metric)
    done = trials.complete(metric)
    if not done.any():
        raise InputError(
            f"Expected at least one completed trial with a finite {metric!r}. Received: none "
            f"of {len(trials)} trials."
        )
    return metric, done


def slice_info(trials: Trials, metric: str | None = None) -> SliceInfo:
    """The metric against each parameter, one panel each (completed trials, finite metric).

    Raises:
        InputError: unknown metric or no completed trial with a finite value.
    """
    metric, done = _completed(trials, metric)
    values = trials.metric_values[metric]
    panels = []
    for name in trials.parameters:
        coords, log, categories = _encode(trials, name)
        keep = done & np.isfinite(coords)
        index = np.flatnonzero(keep)
        panels.append(
            SlicePanel(
                parameter=name,
                log=log,
                categories=categories,
                x=_raw(trials, name)[keep],
                y=values[keep].astype(np.float64),
                index=index,
                names=trials.names[keep].copy(),
            )
        )
    goal = trials.goals[metric]
    best = int(np.flatnonzero(done)[_best(values[done], goal)])
    notes = []
    left = len(trials) - int(done.sum())
    if left:
        notes.append(f"{left} trials that did not complete with a finite {metric!r} are not drawn.")
    return SliceInfo(
        metric=metric,
        goal=goal,
        panels=tuple(panels),
        best_index=best,
        best_name=str(trials.names[best]),
        best_value=float(values[best]),
        num_trials=int(done.sum()),
        notes=tuple(notes),
    )


def _parallel_axis(name, coords, log, categories) -> ParallelAxis:
    if categories is not None:
        low, high = 0.0, float(max(len(categories) - 1, 1))
    else:
        low, high = float(np.min(coords)), float(np.max(coords))
        if high == low:
            low, high = low - 0.5, high + 0.5
    ticks = axis_ticks(low, high, log=log, categories=categories)
    return ParallelAxis(
        name=name,
        log=log,
        categories=categories,
        values=np.asarray(coords, np.float64),
        range=(low, high),
        tickvals=None if ticks is None else ticks[0],
        ticktext=None if ticks is None else ticks[1],
    )


def parallel_info(trials: Trials, metric: str | None = None) -> ParallelInfo:
    """The table for parallel coordinates: one axis per parameter, then the metric.

    Rows are the completed trials with a finite metric and every kept parameter set; a parameter
    missing in more than half of them is left out instead.

    Raises:
        InputError: unknown metric or no completed trial with a finite value.
    """
    metric, done = _completed(trials, metric)
    notes = []
    encoded = {name: _encode(trials, name) for name in trials.parameters}
    kept = []
    for name, (coords, _, _) in encoded.items():
        present = np.isfinite(coords[done])
        if present.mean() > 0.5:
            kept.append(name)
        else:
            notes.append(f"{name!r} is left out: most trials have no value for it.")
    rows = done.copy()
    for name in kept:
        rows &= np.isfinite(encoded[name][0])
    if not rows.any():
        raise InputError(
            f"Expected completed trials with every parameter set. Received: none of "
            f"{int(done.sum())} completed trials sets all of {kept}."
        )
    dropped = int(done.sum() - rows.sum())
    if dropped:
        notes.append(f"{dropped} trials without a value of every parameter shown are left out.")
    values = trials.metric_values[metric][rows].astype(np.float64)
    axes = [
        _parallel_axis(name, encoded[name][0][rows], encoded[name][1], encoded[name][2])
        for name in kept
    ]
    axes.append(_parallel_axis(metric, values, False, None))
    goal = trials.goals[metric]
    return ParallelInfo(
        metric=metric,
        goal=goal,
        axes=tuple(axes),
        color=values,
        names=trials.names[rows].copy(),
        index=np.flatnonzero(rows),
        best_row=_best(values, goal),
        notes=tuple(notes),
    )

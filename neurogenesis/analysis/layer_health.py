"""Activation and layer health: histograms over time, dead units, the effect of BatchNormalization.

Pure computation on what :mod:`neurogenesis.io.logs` and :mod:`neurogenesis.io.recordings` read,
for the training-dynamics page:

- ``histogram_info(series) -> HistogramInfo``: one histogram tag over time, re-binned onto common
  bin edges (TensorBoard writes new bucket edges at every step), with the per-step count, mean and
  standard deviation, and TensorBoard's *distribution* percentiles (``compress_histogram``).
- ``dead_unit_info(stats_by_epoch) -> DeadUnitInfo``: per layer and epoch, how many units never
  fire on the probe batch (``frac_zero`` at or above a threshold), how much of the layer fires at
  all (utilization) and how many units are saturated.
- ``batch_norm_effect_info(run_with, run_without) -> BatchNormEffectInfo``: the training curves and
  the per-layer activation statistics of two runs, one with BatchNormalization and one without;
  ``batch_norm_pairs(runs)`` proposes such pairs among recorded runs.

**Dead units and the graph.** The statistics of a layer are taken on its own output, so a layer
that passes values through (pooling, flatten, dropout at inference, reshape) shows the zeros of the
ReLU before it: those units are not dead *in* that layer. The statistics do not hold the graph, so
every layer is reported on its own; a layer whose name says it passes values through, or whose share
of zeros equals the layer before it at every epoch, is marked ``"pass-through"`` with
``inherited_from`` naming the layer before it in model order (a guess from names and numbers, right
for Sequential stacks). Normalization outputs and probabilities (softmax, sigmoid) are almost never
exactly zero, so their dead counts say little; they are marked as such, and still get numbers.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.analysis.training import metric_names, split_tag
from neurogenesis.errors import InputError

__all__ = [
    "histogram_tags",
    "run_histogram_info",
    "DEFAULT_BINS",
    "DEFAULT_DEAD_THRESHOLD",
    "DISTRIBUTION_BASIS_POINTS",
    "DISTRIBUTION_LABELS",
    "LAYER_KINDS",
    "BatchNormEffectInfo",
    "DeadUnitInfo",
    "HistogramInfo",
    "LayerActivationSeries",
    "LayerUnitStats",
    "MetricCurve",
    "batch_norm_effect_info",
    "batch_norm_pairs",
    "dead_unit_info",
    "dead_unit_info_from_recording",
    "dead_unit_rows",
    "has_batch_norm",
    "histogram_info",
]

DEFAULT_BINS = 60
"""Common bins a histogram series is re-binned onto (TensorBoard writes 30 buckets per step)."""
MAX_BINS = 10_000
DEFAULT_DEAD_THRESHOLD = 0.99
"""A unit is dead when at least this share of its probe outputs is zero (``|x| < 1e-7``)."""
DISTRIBUTION_BASIS_POINTS = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)
"""TensorBoard's ``NORMAL_HISTOGRAM_BPS``: the normal CDF at -inf, -1.5, -1, -0.5, 0, ... +inf."""
DISTRIBUTION_LABELS = ("min", "-1.5σ", "-1σ", "-0.5σ", "median", "+0.5σ", "+1σ", "+1.5σ", "max")
CONSTANT_PADDING = 0.5
"""Half-width of the bin range around a value that never changes (all values equal, all steps)."""
MAX_LISTED_UNITS = 12
"""Dead unit indices listed in a table row before the rest are counted."""
ACTIVATION_PREFIX = "activations/"
BATCH_NORM_PATTERN = re.compile(r"batch_?norm", re.IGNORECASE)
LAYER_KINDS = ("layer", "pass-through", "normalization", "probabilities")
_NORMALIZATION_PATTERN = re.compile(r"norm", re.IGNORECASE)
_PROBABILITIES_PATTERN = re.compile(r"softmax|sigmoid|probabilit|probs", re.IGNORECASE)
_PASS_THROUGH_PATTERN = re.compile(
    r"pool|flatten|dropout|reshape|permute|crop|padding|up_?sampl|repeat|identity|noise|masking",
    re.IGNORECASE,
)
_ROLES = ("train", "validation")


# --------------------------------------------------------------------------------------------
# Histograms over time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HistogramInfo(ValueEquality):
    """One histogram tag over time, on common bins.

    Attributes:
        tag: the histogram's tag.
        steps: int64 steps, sorted; a step logged twice (a restarted run) keeps its last histogram.
        wall_times: float64 Unix seconds per step (NaN where unknown).
        edges: float64 common bin edges, shape (bins + 1,), spanning every step's values.
        counts: float64 (steps, bins): each step's buckets re-binned onto ``edges``, a bucket's
            count split over the bins in proportion to overlap (a zero-width bucket, which
            TensorBoard writes for a constant tensor, puts its count in the bin holding it).
        density: float64 (steps, bins): ``counts / (total * bin width)``, integrating to 1 per
            step; NaN for a step without values.
        total: float64 number of values per step.
        mean: float64 per step, from the bucket centres; NaN without values.
        std: float64 per step (population), from the bucket centres; NaN without values.
        percentiles: float64 (steps, 9): TensorBoard's distribution values at
            ``DISTRIBUTION_BASIS_POINTS`` (min, -1.5σ, -1σ, -0.5σ, median, +0.5σ, +1σ, +1.5σ, max
            of a normal), interpolated within buckets exactly as TensorBoard's
            ``compress_histogram`` does; NaN without values (TensorBoard would draw 0).
        basis_points: int64 ``DISTRIBUTION_BASIS_POINTS``.
        notes: what was repaired or left out, one sentence each.
    """

    tag: str
    steps: np.ndarray
    wall_times: np.ndarray
    edges: np.ndarray
    counts: np.ndarray
    density: np.ndarray
    total: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    percentiles: np.ndarray
    basis_points: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def num_steps(self) -> int:
        return int(self.steps.shape[0])

    @property
    def num_bins(self) -> int:
        return int(self.edges.shape[0] - 1)

    @property
    def centers(self) -> np.ndarray:
        """The centre of each common bin."""
        return (self.edges[:-1] + self.edges[1:]) / 2.0


def _is_histogram_series(series) -> bool:
    return all(hasattr(series, name) for name in ("tag", "steps", "buckets"))


def _ordered_steps(series) -> tuple[list[int], list[str]]:
    """Indices of the histograms to keep, sorted by step; a repeated step keeps its last entry."""
    steps = np.asarray(series.steps, dtype=np.int64)
    last: dict[int, int] = {}
    for index, step in enumerate(steps.tolist()):
        last[step] = index
    notes = []
    repeated = steps.shape[0] - len(last)
    if repeated:
        notes.append(
            f"{repeated} histogram{'s were' if repeated != 1 else ' was'} logged again at a step "
            "already seen (a restarted run); the last one written is shown."
        )
    return [last[step] for step in sorted(last)], notes


def _clean_buckets(buckets) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """(left, right, count) of one step's buckets, sorted, with finite edges and counts.

    Returns also the count that had to be left out (a bucket without any finite edge) and the
    number of buckets whose count was not a non-negative number (read as 0).
    """
    array = np.asarray(buckets, dtype=np.float64).reshape(-1, 3)
    left, right, count = array[:, 0].copy(), array[:, 1].copy(), array[:, 2].copy()
    bad_counts = ~np.isfinite(count) | (count < 0)
    count[bad_counts] = 0.0
    finite_left, finite_right = np.isfinite(left), np.isfinite(right)
    # A bucket with one infinite edge holds its values at the finite one.
    left = np.where(finite_left, left, right)
    right = np.where(finite_right, right, left)
    usable = np.isfinite(left) & np.isfinite(right)
    lost = float(count[~usable].sum())
    left, right, count = left[usable], right[usable], count[usable]
    left, right = np.minimum(left, right), np.maximum(left, right)
    order = np.lexsort((right, left))
    return left[order], right[order], count[order], lost, int(bad_counts.sum())


def _tensorboard_percentiles(left, right, count, basis_points) -> np.ndarray:
    """TensorBoard's ``compress_histogram`` (plugins/distribution/compressor.py), same arithmetic.

    The cumulative weight is interpolated linearly within the bucket where it crosses each basis
    point, from the previous bucket's right edge (or the minimum) to this bucket's right edge.
    """
    minmin, maxmax = float(left[0]), float(right[-1])
    weights = (count * basis_points[-1] / (count.sum() or 1.0)).cumsum()
    values = []
    index = 0
    while index < len(basis_points):
        point = basis_points[index]
        i = int(np.searchsorted(weights, point, side="right"))
        while i < len(weights):
            cumsum = weights[i]
            cumsum_prev = weights[i - 1] if i > 0 else 0.0
            if cumsum == cumsum_prev:
                i += 1
                continue
            lhs = minmin if (not i or not cumsum_prev) else max(right[i - 1], minmin)
            rhs = min(right[i], maxmax)
            values.append(lhs + (point - cumsum_prev) * float(rhs - lhs) / (cumsum - cumsum_prev))
            index += 1
            break
        else:
            break
    values.extend([maxmax] * (len(basis_points) - index))
    return np.asarray(values, dtype=np.float64)


def _rebin(left, right, count, edges) -> np.ndarray:
    """Counts on ``edges``, each bucket's count spread evenly over its width (mass-preserving)."""
    num_bins = edges.shape[0] - 1
    row = np.zeros(num_bins)
    width = right - left
    spread = width > 0
    if spread.any():
        share = np.clip((edges[None, :] - left[spread, None]) / width[spread, None], 0.0, 1.0)
        row += (count[spread, None] * np.diff(share, axis=1)).sum(axis=0)
    if (~spread).any():
        where = np.searchsorted(edges, left[~spread], side="right") - 1
        np.add.at(row, np.clip(where, 0, num_bins - 1), count[~spread])
    return row


def _moments(left, right, count) -> tuple[float, float, float]:
    total = float(count.sum())
    if total <= 0:
        return 0.0, math.nan, math.nan
    centers = (left + right) / 2.0
    mean = float((count * centers).sum() / total)
    variance = float((count * (centers - mean) ** 2).sum() / total)
    return total, mean, math.sqrt(max(variance, 0.0))


def _prepared(series):
    """Kept indices, steps, cleaned buckets per kept step and notes, for every bucket reader."""
    if not _is_histogram_series(series):
        raise InputError(
            "Expected a histogram series (neurogenesis.io.logs.HistogramSeries). "
            f"Received: {type(series).__name__}."
        )
    if len(series.steps) == 0 or len(series.buckets) == 0:
        raise InputError(
            f"The histogram '{series.tag}' has no steps; there is nothing to draw. "
            "Pick another tag or a run that logged histograms."
        )
    if len(series.buckets) != len(series.steps):
        raise InputError(
            f"The histogram '{series.tag}' has {len(series.steps)} steps but "
            f"{len(series.buckets)} bucket sets; the log is damaged."
        )
    keep, notes = _ordered_steps(series)
    steps = np.asarray(series.steps, dtype=np.int64)[keep]
    cleaned = [_clean_buckets(series.buckets[index]) for index in keep]
    lost = [(int(step), c[3]) for step, c in zip(steps, cleaned, strict=True) if c[3] > 0]
    if lost:
        total_lost = sum(amount for _, amount in lost)
        notes.append(
            f"{total_lost:g} values in buckets without a finite edge were left out "
            f"(step{'s' if len(lost) != 1 else ''} {', '.join(str(s) for s, _ in lost[:5])}"
            f"{', ...' if len(lost) > 5 else ''})."
        )
    bad = sum(c[4] for c in cleaned)
    if bad:
        notes.append(f"{bad} bucket counts were negative or not a number and were read as 0.")
    empty = [int(step) for step, c in zip(steps, cleaned, strict=True) if c[2].sum() <= 0]
    if empty:
        notes.append(
            f"{len(empty)} step{'s have' if len(empty) != 1 else ' has'} no values "
            f"({', '.join(str(s) for s in empty[:5])}{', ...' if len(empty) > 5 else ''}); "
            "their statistics are NaN."
        )
    return keep, steps, cleaned, notes


def _common_edges(cleaned, num_bins: int) -> np.ndarray:
    lows, highs = [], []
    for left, right, count, _, _ in cleaned:
        filled = count > 0
        if filled.any():
            lows.append(left[filled].min())
            highs.append(right[filled].max())
    if not lows:  # no values anywhere: span whatever edges there are
        for left, right, _, _, _ in cleaned:
            if left.size:
                lows.append(left.min())
                highs.append(right.max())
    low, high = (min(lows), max(highs)) if lows else (0.0, 0.0)
    if not high > low:
        padding = CONSTANT_PADDING if low == 0 else max(abs(low) * 0.01, 1e-12)
        low, high = low - padding, high + padding
    return np.linspace(low, high, num_bins + 1)


def histogram_tags(runs) -> list[str]:
    """The histogram tags of ``runs`` (the folders of one logical run): activations first, then
    weights, then the rest."""
    tags = [tag for run in runs for tag in run.histograms]
    return sorted(dict.fromkeys(tags), key=lambda t: (not t.startswith("activations/"), t))


def run_histogram_info(runs, tag: str, num_bins: int = DEFAULT_BINS, *, run_name: str = ""):
    """:func:`histogram_info` of ``tag`` in the first of ``runs`` (the folders of one logical
    run, ``run_name``) that recorded it.

    Raises:
        InputError: no run has the tag, or as :func:`histogram_info`.
    """
    for run in runs:
        if tag in run.histograms:
            return histogram_info(run.histograms[tag], num_bins)
    raise InputError(f"The run '{run_name}' has no histogram '{tag}'.")


def histogram_info(series, num_bins: int = DEFAULT_BINS) -> HistogramInfo:
    """One histogram tag over time: re-binned counts, moments and TensorBoard's percentiles.

    Args:
        series: a ``neurogenesis.io.logs.HistogramSeries`` (``run.histograms[tag]``).
        num_bins: common bins spanning the values of every step.

    Returns:
        The steps in order, with counts on common edges and per-step statistics.

    Raises:
        InputError: ``series`` is not a histogram series, has no steps, or ``num_bins`` is not a
            whole number from 1 to 10,000.
    """
    if not isinstance(num_bins, int | np.integer) or isinstance(num_bins, bool):
        raise InputError(f"Expected num_bins as a whole number. Received: {num_bins!r}.")
    if not 1 <= num_bins <= MAX_BINS:
        raise InputError(f"Expected num_bins from 1 to {MAX_BINS:,}. Received: {num_bins}.")
    keep, steps, cleaned, notes = _prepared(series)
    num_bins = int(num_bins)
    edges = _common_edges(cleaned, num_bins)
    widths = np.diff(edges)
    basis_points = np.asarray(DISTRIBUTION_BASIS_POINTS, dtype=np.int64)
    num_steps = steps.shape[0]
    counts = np.zeros((num_steps, num_bins))
    total = np.zeros(num_steps)
    mean = np.full(num_steps, math.nan)
    std = np.full(num_steps, math.nan)
    percentiles = np.full((num_steps, basis_points.shape[0]), math.nan)
    for row, (left, right, count, _, _) in enumerate(cleaned):
        total[row], mean[row], std[row] = _moments(left, right, count)
        if total[row] > 0:
            counts[row] = _rebin(left, right, count, edges)
            percentiles[row] = _tensorboard_percentiles(
                left, right, count, DISTRIBUTION_BASIS_POINTS
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(total[:, None] > 0, counts / (total[:, None] * widths[None, :]), np.nan)
    wall_times = np.asarray(getattr(series, "wall_times", ()), dtype=np.float64)
    if wall_times.shape != (len(series.steps),):
        wall_times = np.full(len(series.steps), np.nan)
    wall_times = wall_times[keep]
    return HistogramInfo(
        tag=str(series.tag),
        steps=steps,
        wall_times=wall_times,
        edges=edges,
        counts=counts,
        density=density,
        total=total,
        mean=mean,
        std=std,
        percentiles=percentiles,
        basis_points=basis_points,
        notes=tuple(notes),
    )


def _histogram_moments(series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, mean and std per step of a histogram series, without re-binning."""
    _, steps, cleaned, _ = _prepared(series)
    moments = np.array([_moments(c[0], c[1], c[2]) for c in cleaned]).reshape(-1, 3)
    return steps, moments[:, 1], moments[:, 2]


# --------------------------------------------------------------------------------------------
# Dead units
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LayerUnitStats(ValueEquality):
    """Per-unit shares of one layer over the epochs of a :class:`DeadUnitInfo`.

    Attributes:
        layer: the layer's name.
        kind: one of ``LAYER_KINDS``: ``"pass-through"`` (pooling, flatten, dropout, ...: its zeros
            come from the layer before), ``"normalization"`` and ``"probabilities"`` (outputs
            almost never exactly zero), else ``"layer"``. Guessed from the name and the numbers.
        inherited_from: for a pass-through layer, the layer before it in model order, else None.
        num_units: units (channels) of the layer.
        frac_zero: float32 (epochs, units): share of probe outputs that were zero; NaN rows at
            epochs where the layer was not recorded.
        frac_saturated: float32 (epochs, units), likewise, for bounded activations.
    """

    layer: str
    kind: str
    inherited_from: str | None
    num_units: int
    frac_zero: np.ndarray
    frac_saturated: np.ndarray


@dataclass(frozen=True, eq=False)
class DeadUnitInfo(ValueEquality):
    """Dead and saturated units per layer and epoch, on the recorder's probe batch.

    Rows follow ``layers`` (model order), columns follow ``epochs``; NaN where a layer was not
    recorded at an epoch.

    Attributes:
        layers: layer names in model order.
        epochs: int64 epochs, sorted.
        threshold: a unit is dead when ``frac_zero >= threshold``, saturated when
            ``frac_saturated >= threshold``.
        epoch: the epoch ``dead_units`` describes.
        num_units: int64 units per layer.
        num_dead: float64 (layers, epochs) dead units.
        dead_share: float64 (layers, epochs) dead units / units.
        utilization: float64 (layers, epochs) mean over units of ``1 - frac_zero``: how much of
            the layer fires on the probe.
        num_saturated: float64 (layers, epochs) saturated units.
        saturated_share: float64 (layers, epochs) saturated units / units.
        dead_units: per layer, the indices of its dead units at ``epoch`` (empty if not recorded).
        units: per layer, the per-unit shares over all epochs (for other epochs and unit plots).
        notes: what was missing or skipped, one sentence each.
    """

    layers: tuple[str, ...]
    epochs: np.ndarray
    threshold: float
    epoch: int
    num_units: np.ndarray
    num_dead: np.ndarray
    dead_share: np.ndarray
    utilization: np.ndarray
    num_saturated: np.ndarray
    saturated_share: np.ndarray
    dead_units: tuple[tuple[int, ...], ...]
    units: tuple[LayerUnitStats, ...]
    notes: tuple[str, ...] = ()

    def epoch_index(self, epoch: int | None = None) -> int:
        """The column of ``epoch`` (None: the info's chosen epoch).

        Raises:
            InputError: the epoch was not recorded.
        """
        epoch = self.epoch if epoch is None else epoch
        found = np.flatnonzero(self.epochs == epoch)
        if not found.size:
            raise InputError(
                f"Expected one of the recorded epochs {_short_list(self.epochs.tolist())}. "
                f"Received: {epoch!r}."
            )
        return int(found[0])

    def dead_indices(self, layer: str, epoch: int | None = None) -> np.ndarray:
        """The indices of the dead units of ``layer`` at ``epoch`` (None: the chosen epoch)."""
        if layer not in self.layers:
            raise InputError(
                f"Expected a layer among {_short_list(list(self.layers))}. Received: {layer!r}."
            )
        stats = self.units[self.layers.index(layer)]
        row = stats.frac_zero[self.epoch_index(epoch)]
        return np.flatnonzero(row >= self.threshold).astype(np.int64)


def _short_list(items: Sequence, limit: int = 8) -> str:
    shown = ", ".join(str(item) for item in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def _check_threshold(threshold) -> float:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float | np.floating)
        or not 0 < threshold <= 1
    ):
        raise InputError(
            f"Expected threshold as a share above 0 and at most 1 (0.99: zero on 99% of the "
            f"probe). Received: {threshold!r}."
        )
    return float(threshold)


def _checked_stats(epoch, stats) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not isinstance(stats, Mapping):
        raise InputError(
            f"Expected per-layer statistics (a dict from load_activation_stats) for epoch {epoch}. "
            f"Received: {type(stats).__name__}."
        )
    layers = {}
    for layer, values in stats.items():
        if not isinstance(values, Mapping) or "frac_zero" not in values:
            raise InputError(
                f"Expected 'frac_zero' among the statistics of layer {str(layer)!r} at epoch "
                f"{epoch}. Received: {sorted(values) if isinstance(values, Mapping) else values!r}."
            )
        zero = np.asarray(values["frac_zero"], dtype=np.float32)
        saturated = values.get("frac_saturated")
        saturated = (
            np.zeros_like(zero) if saturated is None else np.asarray(saturated, dtype=np.float32)
        )
        if zero.ndim != 1 or saturated.shape != zero.shape:
            raise InputError(
                f"Expected one 'frac_zero' and 'frac_saturated' value per unit for layer "
                f"{str(layer)!r} at epoch {epoch}. Received shapes {zero.shape} and "
                f"{saturated.shape}."
            )
        layers[str(layer)] = (zero, saturated)
    return layers


def _layer_kind(name: str) -> str:
    if _NORMALIZATION_PATTERN.search(name):
        return "normalization"
    if _PROBABILITIES_PATTERN.search(name):
        return "probabilities"
    if _PASS_THROUGH_PATTERN.search(name):
        return "pass-through"
    return "layer"


def dead_unit_info(
    stats_by_epoch,
    threshold: float = DEFAULT_DEAD_THRESHOLD,
    epoch: int | None = None,
) -> DeadUnitInfo:
    """Dead, firing and saturated units per layer and epoch.

    Args:
        stats_by_epoch: ``[(epoch, stats), ...]`` with ``stats`` as
            ``neurogenesis.io.recordings.load_activation_stats`` returns it:
            ``{layer: {"frac_zero": (units,), "frac_saturated": (units,), ...}}`` in model order.
        threshold: a unit is dead when its share of zero outputs is at least this, saturated when
            its share of saturated outputs is.
        epoch: the epoch whose dead unit indices are listed; None: the last one.

    Returns:
        The counts, shares and utilization per layer and epoch.

    Raises:
        InputError: no epochs, an epoch given twice, statistics of the wrong shape, a layer whose
            number of units changes, a threshold outside (0, 1], or an epoch not given.
    """
    threshold = _check_threshold(threshold)
    if isinstance(stats_by_epoch, Mapping):
        stats_by_epoch = list(stats_by_epoch.items())
    try:
        entries = [(int(e), s) for e, s in stats_by_epoch]
    except (TypeError, ValueError):
        raise InputError(
            "Expected a list of (epoch, statistics) pairs, as read from a recording's "
            "activation files."
        ) from None
    if not entries:
        raise InputError(
            "No activation statistics were given. Record the run with RunRecorder and probe data "
            "(activation_stats=True) to see dead units."
        )
    seen = [e for e, _ in entries]
    if len(set(seen)) != len(seen):
        twice = sorted({e for e in seen if seen.count(e) > 1})
        raise InputError(
            f"Expected each epoch once. Received epoch {_short_list(twice)} more than once."
        )
    entries.sort(key=lambda pair: pair[0])
    epochs = np.asarray([e for e, _ in entries], dtype=np.int64)
    per_epoch = [_checked_stats(e, s) for e, s in entries]
    layers: list[str] = []
    for stats in per_epoch:
        layers.extend(name for name in stats if name not in layers)
    if not layers:
        raise InputError("The activation statistics hold no layer; the files may be damaged.")
    chosen = int(epochs[-1]) if epoch is None else epoch
    if chosen not in epochs.tolist():
        raise InputError(
            f"Expected one of the recorded epochs {_short_list(epochs.tolist())}. "
            f"Received: epoch={epoch!r}."
        )
    chosen_index = int(np.flatnonzero(epochs == chosen)[0])
    num_layers, num_epochs = len(layers), epochs.shape[0]
    shape = (num_layers, num_epochs)
    num_dead, dead_share = np.full(shape, np.nan), np.full(shape, np.nan)
    utilization = np.full(shape, np.nan)
    num_saturated, saturated_share = np.full(shape, np.nan), np.full(shape, np.nan)
    num_units = np.zeros(num_layers, dtype=np.int64)
    notes: list[str] = []
    zero_rows: list[np.ndarray] = []
    saturated_rows: list[np.ndarray] = []
    for row, layer in enumerate(layers):
        sizes = {stats[layer][0].shape[0] for stats in per_epoch if layer in stats}
        if len(sizes) != 1:
            raise InputError(
                f"Layer {layer!r} has {' and '.join(str(s) for s in sorted(sizes))} units at "
                "different epochs; the statistics come from different models."
            )
        units = sizes.pop()
        num_units[row] = units
        zero = np.full((num_epochs, units), np.nan, dtype=np.float32)
        saturated = np.full((num_epochs, units), np.nan, dtype=np.float32)
        for column, stats in enumerate(per_epoch):
            if layer not in stats:
                continue
            zero[column], saturated[column] = stats[layer]
            dead = int(np.count_nonzero(zero[column] >= threshold))
            sat = int(np.count_nonzero(saturated[column] >= threshold))
            num_dead[row, column] = dead
            num_saturated[row, column] = sat
            if units:
                dead_share[row, column] = dead / units
                saturated_share[row, column] = sat / units
                utilization[row, column] = float(np.mean(1.0 - zero[column].astype(np.float64)))
        zero_rows.append(zero)
        saturated_rows.append(saturated)
        missing = int(np.isnan(num_dead[row]).sum())
        if missing:
            notes.append(
                f"Layer {layer!r} is missing at {missing} of {num_epochs} epochs; shown as gaps."
            )
    unit_stats = []
    for row, layer in enumerate(layers):
        kind = _layer_kind(layer)
        inherited_from = None
        if row > 0:
            before = 1.0 - utilization[row - 1]
            mine = 1.0 - utilization[row]
            both = np.isfinite(before) & np.isfinite(mine)
            same_zeros = (
                both.any()
                and np.allclose(mine[both], before[both], rtol=0, atol=1e-6)
                and (mine[both] > 0).any()
            )
            if kind == "pass-through" or (kind == "layer" and same_zeros):
                kind, inherited_from = "pass-through", layers[row - 1]
        unit_stats.append(
            LayerUnitStats(
                layer=layer,
                kind=kind,
                inherited_from=inherited_from,
                num_units=int(num_units[row]),
                frac_zero=zero_rows[row],
                frac_saturated=saturated_rows[row],
            )
        )
    dead_units = tuple(
        tuple(np.flatnonzero(zero_rows[row][chosen_index] >= threshold).tolist())
        for row in range(num_layers)
    )
    return DeadUnitInfo(
        layers=tuple(layers),
        epochs=epochs,
        threshold=threshold,
        epoch=chosen,
        num_units=num_units,
        num_dead=num_dead,
        dead_share=dead_share,
        utilization=utilization,
        num_saturated=num_saturated,
        saturated_share=saturated_share,
        dead_units=dead_units,
        units=tuple(unit_stats),
        notes=tuple(notes),
    )


def _as_recording(recording):
    from neurogenesis.io.recordings import Recording, read_recording

    if isinstance(recording, Recording):
        return recording
    path = getattr(recording, "path", recording)  # a Run from find_runs, or a folder
    if not isinstance(path, str | os.PathLike):
        raise InputError(
            "Expected a recording, a recorded run or its folder. "
            f"Received: {type(recording).__name__}."
        )
    return read_recording(path)


def dead_unit_info_from_recording(
    recording,
    threshold: float = DEFAULT_DEAD_THRESHOLD,
    epoch: int | None = None,
) -> DeadUnitInfo:
    """:func:`dead_unit_info` on every activation-statistics file of a recorded run.

    A damaged or missing file is left out with a note, like the rest of a half-readable log.

    Args:
        recording: a ``neurogenesis.io.recordings.Recording``, a ``Run`` recorded by RunRecorder,
            or the run folder.
        threshold: see :func:`dead_unit_info`.
        epoch: see :func:`dead_unit_info`.

    Returns:
        The dead-unit info, with a note per file left out.

    Raises:
        InputError: not a recording, or one without readable activation statistics.
    """
    from neurogenesis.io.recordings import load_activation_stats

    recording = _as_recording(recording)
    if not recording.activation_files:
        raise InputError(
            f"The run in '{recording.path}' has no activation statistics. Record it with "
            "RunRecorder(probe_data=...) and activation_stats=True to see dead units."
        )
    stats_by_epoch, skipped = [], []
    for file_epoch, path in recording.activation_files:
        try:
            stats_by_epoch.append((file_epoch, load_activation_stats(path)))
        except InputError as error:
            skipped.append(f"Epoch {file_epoch} was left out: {error}")
    if not stats_by_epoch:
        raise InputError(
            f"None of the activation-statistics files in '{recording.path}' could be read. "
            + (skipped[0] if skipped else "")
        )
    info = dead_unit_info(stats_by_epoch, threshold=threshold, epoch=epoch)
    if not skipped:
        return info
    from dataclasses import replace

    return replace(info, notes=info.notes + tuple(skipped))


def _kind_note(stats: LayerUnitStats) -> str:
    if stats.kind == "pass-through":
        source = stats.inherited_from
        return f"zeros passed on from {source}" if source else "passes values through"
    if stats.kind == "normalization":
        return "normalized output: exact zeros are rare"
    if stats.kind == "probabilities":
        return "probabilities: never exactly zero"
    return ""


def _units_text(indices: Sequence[int], limit: int = MAX_LISTED_UNITS) -> str:
    if not len(indices):
        return ""
    shown = ", ".join(str(i) for i in indices[:limit])
    return shown + (f", ... (+{len(indices) - limit} more)" if len(indices) > limit else "")


def dead_unit_rows(info: DeadUnitInfo, epoch: int | None = None) -> list[dict]:
    """One plain row per layer at one epoch, for a table.

    Args:
        info: a :class:`DeadUnitInfo`.
        epoch: the epoch; None: the info's chosen epoch.

    Returns:
        Dicts with ``layer``, ``units``, ``dead``, ``share dead`` (0-1), ``dead units`` (indices
        as text, the first few), ``utilization`` (0-1), ``saturated`` and ``note``; None where the
        layer was not recorded at that epoch.

    Raises:
        InputError: the epoch was not recorded.
    """
    column = info.epoch_index(epoch)
    rows = []
    for row, (layer, stats) in enumerate(zip(info.layers, info.units, strict=True)):
        recorded = not math.isnan(info.num_dead[row, column])
        indices = (
            np.flatnonzero(stats.frac_zero[column] >= info.threshold).tolist() if recorded else []
        )
        note = _kind_note(stats)
        if not recorded:
            note = "not recorded at this epoch" + (f"; {note}" if note else "")
        rows.append(
            {
                "layer": layer,
                "units": int(info.num_units[row]),
                "dead": int(info.num_dead[row, column]) if recorded else None,
                "share dead": float(info.dead_share[row, column]) if recorded else None,
                "dead units": _units_text(indices),
                "utilization": float(info.utilization[row, column]) if recorded else None,
                "saturated": int(info.num_saturated[row, column]) if recorded else None,
                "note": note,
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# BatchNormalization: with and without
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MetricCurve(ValueEquality):
    """One metric series of one run.

    Attributes:
        run: the run's name.
        batch_norm: whether the run is the one with BatchNormalization.
        role: ``"train"`` or ``"validation"``.
        tag: the tag it was read from.
        steps: int64 steps (epochs), sorted.
        values: float64 values; NaN and Inf kept.
    """

    run: str
    batch_norm: bool
    role: str
    tag: str
    steps: np.ndarray
    values: np.ndarray


@dataclass(frozen=True, eq=False)
class LayerActivationSeries(ValueEquality):
    """Mean and standard deviation of one layer's activations per epoch, from its histograms.

    Attributes:
        layer: the layer's name.
        run: the run's name.
        batch_norm: whether the run is the one with BatchNormalization.
        steps: int64 steps (epochs), sorted.
        mean: float64 mean per step, from the bucket centres.
        std: float64 standard deviation (population) per step, from the bucket centres.
    """

    layer: str
    run: str
    batch_norm: bool
    steps: np.ndarray
    mean: np.ndarray
    std: np.ndarray


@dataclass(frozen=True, eq=False)
class BatchNormEffectInfo(ValueEquality):
    """Two runs, with and without BatchNormalization: curves and activation statistics.

    Attributes:
        run_with: name of the run with BatchNormalization.
        run_without: name of the run without.
        metric: the metric of ``curves`` (``"loss"``, ``"accuracy"``, ...).
        curves: train and validation curves, the run with BatchNormalization first.
        layers: the activation layers both runs recorded (``activations/<layer>``), model order.
        activations: per layer of ``layers``, the series with, then without BatchNormalization.
        layers_only_with: activation layers only the run with BatchNormalization has (the
            BatchNormalization layers themselves, usually).
        layers_only_without: activation layers only the run without has.
        notes: what is missing or doubtful, one sentence each.
    """

    run_with: str
    run_without: str
    metric: str
    curves: tuple[MetricCurve, ...]
    layers: tuple[str, ...]
    activations: tuple[LayerActivationSeries, ...]
    layers_only_with: tuple[str, ...] = ()
    layers_only_without: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def series(self, layer: str, batch_norm: bool) -> LayerActivationSeries:
        """The activation series of ``layer`` in the run with (True) or without (False)."""
        for series in self.activations:
            if series.layer == layer and series.batch_norm == batch_norm:
                return series
        raise InputError(
            f"Expected a layer among {_short_list(list(self.layers))}. Received: {layer!r}."
        )


def _check_run(run, what: str) -> None:
    if not all(hasattr(run, name) for name in ("name", "path", "scalars", "histograms")):
        raise InputError(
            f"Expected a run (neurogenesis.io.logs.Run) for {what}. Received: {type(run).__name__}."
        )


def _hyperparameters(run) -> dict | None:
    """The recorder's hyperparameters of a run, or None for a run that is not a recording."""
    from neurogenesis.io.recordings import is_recording, read_recording

    if getattr(run, "format", None) != "neurogenesis" and not is_recording(run.path):
        return None
    try:
        return dict(read_recording(run.path).hyperparameters)
    except InputError:
        return None


def has_batch_norm(run) -> bool:
    """Whether a run trained a model with BatchNormalization.

    Evidence: a histogram or scalar tag naming a BatchNormalization layer (``batch_norm_1/...``,
    ``weights/batchnormalization/...``, ``gradient_norm/batch_normalization/gamma``), or a
    recording whose hyperparameters say ``batch_norm: true``.

    Args:
        run: a ``neurogenesis.io.logs.Run``.

    Returns:
        True when either says so.
    """
    _check_run(run, "has_batch_norm")
    for tag in (*run.histograms, *run.scalars):
        if BATCH_NORM_PATTERN.search(tag):
            return True
    hyperparameters = _hyperparameters(run)
    return bool(hyperparameters) and hyperparameters.get("batch_norm") is True


def _comparable(hyperparameters: dict) -> dict:
    """Hyperparameters without the BatchNormalization switch and the optimizer's own name."""
    rest = {key: value for key, value in hyperparameters.items() if key != "batch_norm"}
    config = rest.get("optimizer_config")
    if isinstance(config, dict):  # Keras numbers optimizer names per process: adam, adam_1, ...
        rest["optimizer_config"] = {k: v for k, v in config.items() if k != "name"}
    return rest


def _scenario(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def batch_norm_pairs(runs) -> list[tuple]:
    """Pairs of recorded runs that differ only in BatchNormalization.

    Two runs pair up when they lie in the same scenario folder (``digits_cnn/...``), one has
    BatchNormalization and the other not (:func:`has_batch_norm`), and their recorded
    hyperparameters are equal apart from ``batch_norm`` (and the optimizer's automatic name).
    Runs that are not RunRecorder recordings are left out: nothing says how they were trained.

    Args:
        runs: ``neurogenesis.io.logs.Run`` objects, e.g. ``find_runs("data/runs")``.

    Returns:
        ``[(run_with, run_without), ...]`` sorted by the names, the run with BatchNormalization
        first.
    """
    candidates = []
    for run in runs:
        _check_run(run, "batch_norm_pairs")
        hyperparameters = _hyperparameters(run)
        if hyperparameters is None:
            continue
        candidates.append((run, _scenario(run.name), has_batch_norm(run), hyperparameters))
    pairs = []
    for run_with, scenario, with_norm, hyper_with in candidates:
        if not with_norm:
            continue
        for run_without, other_scenario, without_norm, hyper_without in candidates:
            if (
                not without_norm
                and other_scenario == scenario
                and _comparable(hyper_with) == _comparable(hyper_without)
            ):
                pairs.append((run_with, run_without))
    pairs.sort(key=lambda pair: (pair[0].name, pair[1].name))
    return pairs


def _metric_curves(run, batch_norm: bool, metric: str) -> list[MetricCurve]:
    found: dict[str, MetricCurve] = {}
    for tag, series in run.scalars.items():
        role, name = split_tag(tag, run.name)
        if name != metric or role not in _ROLES or role in found or series.num_points == 0:
            continue
        order = np.argsort(series.steps, kind="stable")
        found[role] = MetricCurve(
            run=run.name,
            batch_norm=batch_norm,
            role=role,
            tag=tag,
            steps=np.asarray(series.steps, dtype=np.int64)[order],
            values=np.asarray(series.values, dtype=np.float64)[order],
        )
    return [found[role] for role in _ROLES if role in found]


def _activation_layers(run) -> list[str]:
    return [
        tag[len(ACTIVATION_PREFIX) :]
        for tag, series in run.histograms.items()
        if tag.startswith(ACTIVATION_PREFIX) and series.num_steps
    ]


def _model_order(run) -> list[str]:
    """Layer names in model order from the first activation-statistics file, else none."""
    from neurogenesis.io.recordings import load_activation_stats

    try:
        recording = _as_recording(run)
        if recording.activation_files:
            return list(load_activation_stats(recording.activation_files[0][1]))
    except InputError:
        pass
    return []


def batch_norm_effect_info(run_with, run_without, metric: str = "loss") -> BatchNormEffectInfo:
    """How BatchNormalization changed training: curves and per-layer activation statistics.

    Args:
        run_with: the run with BatchNormalization (a ``neurogenesis.io.logs.Run``).
        run_without: the run without it.
        metric: the metric to compare, a name as ``split_tag`` gives it (``"loss"`` for
            ``train/loss``, ``val_loss`` or ``epoch_loss``).

    Returns:
        Both runs' train and validation curves of ``metric``, and the mean and standard deviation
        per epoch of every activation layer both recorded (``activations/<layer>`` histograms).
        An info with notes, not an error, when the activations are missing or a run's
        BatchNormalization is not what its role says.

    Raises:
        InputError: not runs, the same run twice, or neither run logged ``metric``.
    """
    _check_run(run_with, "run_with")
    _check_run(run_without, "run_without")
    if run_with.path == run_without.path and run_with.name == run_without.name:
        raise InputError(
            f"Expected two different runs. Received '{run_with.name}' twice; pick the run "
            "without BatchNormalization as the second."
        )
    notes = []
    curves = _metric_curves(run_with, True, metric) + _metric_curves(run_without, False, metric)
    if not curves:
        available = metric_names([run_with, run_without])
        raise InputError(
            f"Neither '{run_with.name}' nor '{run_without.name}' logged the metric {metric!r}. "
            f"Expected one of: {', '.join(available) if available else 'none (no curves)'}."
        )
    for run, flag in ((run_with, True), (run_without, False)):
        if not any(curve.batch_norm == flag for curve in curves):
            notes.append(f"'{run.name}' did not log {metric!r}; only the other run's curves show.")
    if not has_batch_norm(run_with):
        notes.append(f"'{run_with.name}' shows no sign of BatchNormalization in its tags.")
    if has_batch_norm(run_without):
        notes.append(f"'{run_without.name}' seems to use BatchNormalization too.")
    with_layers, without_layers = _activation_layers(run_with), _activation_layers(run_without)
    order = _model_order(run_with) or _model_order(run_without)
    rank = {name: index for index, name in enumerate(order)}

    def model_sorted(names):
        return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))

    shared = model_sorted(set(with_layers) & set(without_layers))
    if not shared:
        notes.append(
            "The runs share no activation histograms (activations/<layer>), so only the curves "
            "compare; record both with RunRecorder(probe_data=..., histogram_freq=1)."
        )
    activations = []
    for layer in shared:
        for run, flag in ((run_with, True), (run_without, False)):
            steps, mean, std = _histogram_moments(run.histograms[ACTIVATION_PREFIX + layer])
            activations.append(LayerActivationSeries(layer, run.name, flag, steps, mean, std))
    return BatchNormEffectInfo(
        run_with=run_with.name,
        run_without=run_without.name,
        metric=metric,
        curves=tuple(curves),
        layers=tuple(shared),
        activations=tuple(activations),
        layers_only_with=tuple(model_sorted(set(with_layers) - set(without_layers))),
        layers_only_without=tuple(model_sorted(set(without_layers) - set(with_layers))),
        notes=tuple(notes),
    )

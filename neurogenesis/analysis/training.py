"""Training curves: which series belong together, as plain arrays for the plotting layer.

``curves_info(runs, metric)`` pairs each run's training and validation series of one metric,
whatever the log's naming: NeuroGenesis runs (``train/loss``, ``validation/loss``), Keras's
TensorBoard callback (``epoch_loss`` in the ``train`` and ``validation`` runs), CSVLogger and JSON
histories (``loss``, ``val_loss``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Curve", "CurvesInfo", "curves_info", "metric_names", "split_tag"]

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

"""What Home shows of what is loaded: one row per training run with its main metrics' last
values, the problems found while reading a run, the live curve's points and the sample set's
one-line summary. No TensorFlow, no Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from neurogenesis.analysis.architecture import shape_text
from neurogenesis.analysis.training import CurvesInfo, split_tag

__all__ = [
    "curves_table",
    "last_values",
    "main_tags",
    "problems_table",
    "runs_table",
    "sample_set_text",
]

MAX_METRICS_SHOWN = 4
MAX_METRICS_IN_CELL = 2  # metrics in the runs table's last-values cell (train / validation each)
LAST_VALUES = "last values (train / validation)"


def _last_value(series) -> str:
    if series.num_points == 0:
        return "—"
    value = float(series.values[-1])
    return f"{value:.4g}" if math.isfinite(value) else f"{value} (diverged)"


def _rank(tag: str) -> tuple[int, int, str]:
    """The metrics a reader looks for first: losses, then accuracies, then the rest; learning
    rates and per-batch tags last."""
    lowered = tag.lower()
    secondary = int(
        "vs_iterations" in lowered or "learning_rate" in lowered or lowered.startswith("batch_")
    )
    for i, word in enumerate(("loss", "acc", "mae", "mse", "auc")):
        if word in lowered:
            return secondary, i, tag
    return secondary, 9, tag


def main_tags(tags: Sequence[str]) -> list[str]:
    """The run's main scalar tags, the one a reader looks for first (a loss) first."""
    return sorted(tags, key=_rank)[:MAX_METRICS_SHOWN]


def last_values(run) -> str:
    """The last values of a run's main metrics, short enough for one table cell: each metric
    once, its training and validation values side by side (``loss 0.0319 / 0.0406``)."""
    by_metric: dict[str, dict[str, str]] = {}
    for tag in run.scalars:
        role, metric = split_tag(tag, run.name)
        key = metric if role in ("train", "validation") else tag
        by_metric.setdefault(key, {})[role] = _last_value(run.scalars[tag])
    parts = []
    for metric in sorted(by_metric, key=_rank)[:MAX_METRICS_IN_CELL]:
        roles = by_metric[metric]
        if "train" in roles and "validation" in roles:
            parts.append(f"{metric} {roles['train']} / {roles['validation']}")
        elif "validation" in roles:
            parts.append(f"{metric} — / {roles['validation']}")
        else:
            parts.append(f"{metric} {next(iter(roles.values()))}")
    return " · ".join(parts)


def runs_table(runs: Sequence[tuple[str, object, bool]], model: str | None = None) -> pd.DataFrame:
    """One row per run, as text: ``runs`` are ``(source label, Run, whether it is the model's
    own)``; with a ``model`` label, a "model" column names it on its own runs. A "source" column
    that would say one thing, or a "model" column that would say nothing, is left out."""
    rows = []
    for source, run, mine in runs:
        row = {"run": run.name, "source": source, "format": run.format}
        if model is not None:
            row["model"] = model if mine else ""
        tags = main_tags(list(run.scalars))
        main = run.scalars[tags[0]] if tags else None
        row["last step"] = f"{main.last_step:,}" if main is not None else "—"
        row["points"] = f"{main.num_points:,}" if main is not None else "0"
        row[LAST_VALUES] = last_values(run)
        row["histograms"] = f"{len(run.histograms):,}"
        row["problems"] = f"{len(run.problems):,}"
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    if frame["source"].nunique() == 1:
        frame = frame.drop(columns="source")  # one source: its name adds nothing
    if "model" in frame and not frame["model"].any():
        frame = frame.drop(columns="model")
    return frame.astype(str).replace({"None": "—", "nan": "—"})


def problems_table(run) -> pd.DataFrame:
    """The problems found while reading ``run``, one row each, as text."""
    return pd.DataFrame([problem.to_dict() for problem in run.problems]).astype(str)


def curves_table(info: CurvesInfo) -> pd.DataFrame:
    """Every point of every curve: ``run``, ``role``, ``step`` and the metric's value (the
    column is named after ``info.metric``)."""
    return pd.DataFrame(
        [
            {"run": curve.run, "role": curve.role, "step": step, info.metric: value}
            for curve in info.curves
            for step, value in zip(curve.steps, curve.values, strict=True)
        ]
    )


def sample_set_text(samples) -> str:
    """A sample set in one line: its name, count, kind, one sample's shape and its labels."""
    labels = "no labels" if samples.y is None else f"{len(set(samples.y.tolist()))} label value(s)"
    names = samples.x.dtype.names
    if names:  # a set of several inputs: each input's shape by name
        shapes = ", ".join(f"{name} {shape_text(samples.x[name].shape[1:])}" for name in names)
        return f"{samples.name}: {len(samples):,} sample(s) of {len(names)} inputs ({shapes}), {labels}"
    shape = shape_text(samples.x.shape[1:])
    return f"{samples.name}: {len(samples):,} {samples.kind} sample(s), each {shape}, {labels}"

"""Evaluation figures: where a model goes wrong, whether A beats B, and what a model costs.

Drawing only: no TensorFlow, no Streamlit. Draws what :mod:`neurogenesis.analysis.evaluation`
computes, for the debugging page:

- error analysis: ``plot_confusion_matrix`` (clickable cells), ``plot_class_metrics``,
  ``plot_reliability_diagram``, ``plot_slices``;
- regression: ``plot_residuals``, ``plot_horizon_error``, ``plot_group_error``;
- A/B comparison: ``plot_bootstrap``, ``plot_mcnemar``, ``plot_error_comparison`` (regression),
  ``plot_seed_comparison``;
- cost: ``plot_profile``, ``plot_throughput``, ``plot_pareto``;
- the tables behind them (``<thing>_table(info)``): what a chart's CSV download and the page's
  tables hold.

Class names, group values and model names came from files, so they are escaped before they reach
a figure.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from neurogenesis.analysis.evaluation import (
    BootstrapInfo,
    CalibrationInfo,
    ConfusionInfo,
    ErrorComparisonInfo,
    McNemarInfo,
    ProfileInfo,
    ResidualInfo,
    SeedComparisonInfo,
    SliceInfo,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, escaped, rgba

__all__ = [
    "CONFUSION_NORMALIZATIONS",
    "MAX_CELL_TEXT_CLASSES",
    "MAX_SVG_POINTS",
    "plot_bootstrap",
    "plot_class_metrics",
    "plot_confusion_matrix",
    "plot_error_comparison",
    "plot_horizon_error",
    "plot_mcnemar",
    "plot_pareto",
    "plot_profile",
    "plot_reliability_diagram",
    "plot_residuals",
    "plot_seed_comparison",
    "plot_slices",
    "plot_throughput",
    "class_metrics_table",
    "confusion_matrix_table",
    "disagreements_table",
    "error_comparison_table",
    "horizon_error_table",
    "mcnemar_table",
    "model_scores_table",
    "pareto_table",
    "profile_sizes_table",
    "profile_table",
    "reliability_diagram_table",
    "residuals_table",
    "seed_comparison_table",
    "slices_table",
    "text_samples_table",
]

CONFUSION_NORMALIZATIONS = (None, "true", "pred")
CONFUSION_COLORSCALE = "Blues"
# Past this many classes the counts no longer fit in the cells; hover still has them.
MAX_CELL_TEXT_CLASSES = 20
# Above this many points a scatter switches to WebGL, which stays smooth where SVG crawls.
MAX_SVG_POINTS = 2_000
MANY_TICKS = 12
TICK_ANGLE = -45
# Per-group counts are printed above the points only while they do not collide.
MAX_COUNT_LABELS = 24
METRIC_COLORS = {"precision": color_for(0), "recall": color_for(1), "F1": color_for(2)}
ACCURACY_COLOR = color_for(0)
GAP_COLOR = PALETTE[5]
REFERENCE_COLOR = "#6B7280"
CONCORDANT_COLOR = "#E5E7EB"
DISCORDANT_COLOR = PALETTE[1]
FRONT_COLOR = PALETTE[5]
OTHER_COLOR = "#9CA3AF"
# Seed dots spread over this share of a category's width, always in the same places.
JITTER_WIDTH = 0.3
MEAN_OFFSET = 0.32
GOLDEN_RATIO = (math.sqrt(5) - 1) / 2
# The bootstrap histogram gives each distinct difference its own bar while there are few of them
# (small test sets give differences in steps of 1/N), else this many bins.
MAX_DISTINCT_BARS = 80
BOOTSTRAP_BINS = 60
# A cost axis is logarithmic when the costs span more than this factor.
LOG_COST_RATIO = 100.0
SIGNIFICANCE = 0.05
# Bins of unequal width show their samples per this much confidence.
DENSITY_STEP = 0.1
# Plotly measures a multi-line title from its first baseline, so "top" needs this much room.
TITLE_PAD = 28
WRAP_CHARS = 95
# Roughly the plot width of a 700 px figure, and the width of one tick label character.
PLOT_WIDTH_PX = 560
LEGEND_ROW_PX = 24
TICK_CHAR_PX = 8


# --------------------------------------------------------------------------------------------
# Helpers.


def _closest(title: str, top: int = 100) -> dict:
    """The house layout, with hover on the nearest point and room for a two-line title.

    The title is pinned to the top of the figure so the legend row (just above the plot) never
    runs over its subtitle.
    """
    layout = base_layout(title)
    layout["title"] = {**layout["title"], "yref": "container", "y": 1.0, "yanchor": "top"}
    layout["title"]["pad"] = {"t": TITLE_PAD}
    layout["hovermode"] = "closest"
    layout["margin"] = {**layout["margin"], "t": top}
    return layout


def _legend_below(layout: dict, height: int, entries: int, per_row: int = 2) -> dict:
    """The legend in rows under the x axis title (above the plot it runs into a subtitle), the
    figure taller by what it needs."""
    rows = math.ceil(entries / per_row)
    below = 60  # tick labels and the x axis title
    margin = {**layout["margin"], "b": below + 10 + rows * LEGEND_ROW_PX}
    layout["margin"] = margin
    layout["height"] = int(height + rows * LEGEND_ROW_PX)
    plot_px = max(layout["height"] - margin["t"] - margin["b"], 1)
    layout["legend"] = {
        "orientation": "h",
        "yanchor": "top",
        "y": -below / plot_px,
        "xanchor": "left",
        "x": 0.0,
        "entrywidth": 1.0 / per_row,
        "entrywidthmode": "fraction",
    }
    return layout


def _wrap(text: str) -> str:
    """Long notes broken into lines that fit a 700 px figure."""
    return "<br>".join(textwrap.wrap(escaped(text), WRAP_CHARS, break_on_hyphens=False))


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _resample_histogram(centres, heights, width, hover: str, interval, observed) -> go.Figure:
    """A paired bootstrap's resampled differences as bars, its interval as a band with dotted
    ends, the observed difference and zero as lines, each line named in the legend.

    ``interval`` is ``(low, high, label)``; ``observed`` is ``(value, label)``.
    """
    low, high, interval_label = interval
    figure = go.Figure(
        go.Bar(
            x=centres,
            y=heights,
            width=width,
            name="resamples",
            marker={"color": rgba(ACCURACY_COLOR, 0.7)},
            hovertemplate=hover,
            showlegend=False,
        )
    )
    figure.add_vrect(
        x0=low, x1=high, fillcolor=rgba(ACCURACY_COLOR, 0.12), line_width=0, layer="below"
    )
    lines = (
        (low, ACCURACY_COLOR, "dot", interval_label),
        (high, ACCURACY_COLOR, "dot", None),
        (observed[0], GAP_COLOR, "solid", observed[1]),
        (0.0, REFERENCE_COLOR, "dash", "no difference"),
    )
    for x, color, dash, label in lines:
        figure.add_vline(x=x, line={"color": color, "dash": dash, "width": 2})
        if label is not None:
            figure.add_trace(_legend_line(label, color, dash))
    return figure


def _legend_line(name: str, color: str, dash: str) -> go.Scatter:
    """A legend entry for a reference line drawn as a shape (shapes have no legend)."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="lines",
        line={"color": color, "dash": dash, "width": 2},
        name=name,
        hoverinfo="skip",
    )


def _unique_names(names: Sequence[Any]) -> list[str]:
    """Escaped names, numbered where two are the same (a category axis would merge them)."""
    seen: dict[str, int] = {}
    shown = []
    for name in names:
        text = escaped(name)
        seen[text] = seen.get(text, 0) + 1
        shown.append(text if seen[text] == 1 else f"{text} #{seen[text]}")
    return shown


def _category_axis(names: Sequence[str]) -> dict:
    """A category axis whose labels stay readable at 700 px: slanted when long or many."""
    widest = max((len(name) for name in names), default=0) * TICK_CHAR_PX
    crowded = widest > 0.8 * PLOT_WIDTH_PX / max(len(names), 1)
    axis: dict[str, Any] = {"type": "category", "automargin": True}
    if crowded:
        axis["tickangle"] = TICK_ANGLE
    return axis


def _with_unit(label: str, unit: str) -> str:
    return f"{label} ({escaped(unit)})" if unit else label


def _number(value: float, unit: str = "") -> str:
    if not math.isfinite(value):
        return "undefined"
    return f"{value:.3g} {escaped(unit)}".rstrip()


def _p_text(p_value: float) -> str:
    if not math.isfinite(p_value):
        return "n/a"
    if p_value < 1e-4:
        return f"{p_value:.2e}"
    return f"{p_value:.3g}"


def _error_array(values: np.ndarray) -> list[float | None]:
    """Error bar lengths for plotly, with None (no bar) where the interval is undefined."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def _scatter_class(count: int):
    return go.Scattergl if count > MAX_SVG_POINTS else go.Scatter


# --------------------------------------------------------------------------------------------
# Confusion matrix and per-class metrics.


def _confusion_shares(matrix: np.ndarray, normalize: str | None) -> np.ndarray:
    matrix = matrix.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "true":
            return matrix / matrix.sum(axis=1, keepdims=True)
        if normalize == "pred":
            return matrix / matrix.sum(axis=0, keepdims=True)
        return matrix / matrix.sum()


def _share_text(share: float) -> str:
    """A cell's share: whole percents, with a decimal below 10% so that 0.3% does not read 0%."""
    if not math.isfinite(share):
        return "–"
    return f"{share:.0%}" if share == 0 or share >= 0.095 else f"{share:.1%}"


def plot_confusion_matrix(info: ConfusionInfo, normalize: str | None = "true") -> go.Figure:
    """The confusion matrix as a heatmap: rows the true class (first at the top), columns the
    predicted class.

    Each cell shows its count and share; hover reads "true X, predicted Y: n samples (p%)". The
    cell's ``customdata`` is ``[true_index, predicted_index, count, share]`` and its ``x`` / ``y``
    are the (escaped) class names, so a page can map a clicked point back to
    ``info.indices(true_index, predicted_index)``.

    Args:
        info: a :class:`ConfusionInfo`.
        normalize: None (colour by count, share of all samples), ``"true"`` (share of the true
            class: recall on the diagonal) or ``"pred"`` (share of the predicted class: precision
            on the diagonal). A class with no samples has no shares (blank cells).

    Returns:
        The figure.

    Raises:
        InputError: an unknown ``normalize``.
    """
    if normalize not in CONFUSION_NORMALIZATIONS:
        raise InputError(
            f"Expected normalize one of None, 'true' or 'pred'. Received: {normalize!r}. Use "
            "'true' for the share of each true class, 'pred' for the share of each prediction."
        )
    matrix = np.asarray(info.matrix, dtype=np.int64)
    k = matrix.shape[0]
    names = _unique_names(info.label_names)
    shares = _confusion_shares(matrix, normalize)
    customdata = [
        [
            [t, p, int(matrix[t, p]), float(shares[t, p]) if math.isfinite(shares[t, p]) else None]
            for p in range(k)
        ]
        for t in range(k)
    ]
    share_of = {
        None: "of all samples",
        "true": "of true {true}",
        "pred": "of predicted {pred}",
    }[normalize]
    hover, text = [], []
    for t in range(k):
        hover_row, text_row = [], []
        for p in range(k):
            count, share = int(matrix[t, p]), shares[t, p]
            what = share_of.format(true=names[t], pred=names[p])
            share_text = f"{share:.1%}" if math.isfinite(share) else "no samples"
            hover_row.append(
                f"true {names[t]}, predicted {names[p]}: {count:,} sample"
                f"{'' if count == 1 else 's'} ({share_text} {what})"
                + ("<br><i>correct</i>" if t == p else "")
                + ("<br>click to list them" if count else "")
            )
            text_row.append(f"{count:,}<br>{_share_text(share)}")
        hover.append(hover_row)
        text.append(text_row)
    z = matrix.astype(np.float64) if normalize is None else shares
    cell_text: dict[str, Any] = {}
    if k <= MAX_CELL_TEXT_CLASSES:
        cell_text = {
            "text": text,
            "texttemplate": "%{text}",
            "textfont": {"size": 12 if k <= 10 else 9},
        }
    colorbar_title = {
        None: "samples",
        "true": "share of<br>true class",
        "pred": "share of<br>predicted",
    }[normalize]
    figure = go.Figure(
        go.Heatmap(
            z=z.tolist(),
            x=names,
            y=names,
            **cell_text,
            hovertext=hover,
            hoverinfo="text",
            customdata=customdata,
            colorscale=CONFUSION_COLORSCALE,
            zmin=0.0,
            zmax=None if normalize is None else 1.0,
            xgap=1,
            ygap=1,
            colorbar={"title": {"text": colorbar_title}, "thickness": 14},
            name="confusion",
        )
    )
    # Streamlit's chart selection reports scatter points, not heatmap cells: invisible markers on
    # the non-empty cells carry the same customdata, so a click lists the cell's samples.
    filled = [(t, p) for t in range(k) for p in range(k) if matrix[t, p]]
    figure.add_trace(
        go.Scatter(
            x=[names[p] for _, p in filled],
            y=[names[t] for t, _ in filled],
            customdata=[customdata[t][p] for t, p in filled],
            hovertext=[hover[t][p] for t, p in filled],
            hoverinfo="text",
            mode="markers",
            marker={"size": max(12, min(40, 360 // k)), "color": "rgba(0,0,0,0)"},
            name="cells",
            showlegend=False,
        )
    )
    subtitle = {
        None: "colour: samples in the cell",
        "true": "colour: share of each true class (rows sum to 100%; diagonal = recall)",
        "pred": "colour: share of each prediction (columns sum to 100%; diagonal = precision)",
    }[normalize]
    layout = _closest(
        f"Confusion matrix: accuracy {info.accuracy:.1%} of {int(matrix.sum()):,} samples"
        f"<br><sub>{subtitle}</sub>"
    )
    side = 60 + 42 * k
    figure.update_layout(
        **layout,
        height=int(min(900, max(420, side + 160))),
        xaxis={**_category_axis(names), "title": {"text": "predicted class"}, "side": "bottom"},
        yaxis={
            **_category_axis(names),
            "tickangle": 0,
            "autorange": "reversed",
            "title": {"text": "true class"},
        },
    )
    return figure


def plot_class_metrics(info: ConfusionInfo) -> go.Figure:
    """Precision, recall and F1 of each class as grouped bars, with the macro F1 as a dashed line.

    Args:
        info: a :class:`ConfusionInfo`.

    Returns:
        The figure; hover gives each class's support (samples of the true class).
    """
    names = _unique_names(info.label_names)
    support = np.asarray(info.support, dtype=np.int64)
    figure = go.Figure()
    for metric, values in (("precision", info.precision), ("recall", info.recall), ("F1", info.f1)):
        figure.add_trace(
            go.Bar(
                x=names,
                y=np.asarray(values, dtype=np.float64),
                name=metric,
                marker={"color": METRIC_COLORS[metric]},
                customdata=support,
                hovertemplate=(
                    f"class %{{x}}<br>{metric} %{{y:.3f}}<br>support %{{customdata:,}} "
                    "samples<extra></extra>"
                ),
            )
        )
    figure.add_hline(
        y=float(info.macro_f1), line={"color": REFERENCE_COLOR, "dash": "dash", "width": 1.5}
    )
    figure.add_trace(_legend_line(f"macro F1 {info.macro_f1:.3f}", REFERENCE_COLOR, "dash"))
    layout = _closest(
        f"Per-class precision, recall and F1<br><sub>accuracy {info.accuracy:.1%}, macro F1 "
        f"{info.macro_f1:.3f}, weighted F1 {info.weighted_f1:.3f}</sub>"
    )
    figure.update_layout(
        **layout,
        barmode="group",
        height=420,
        xaxis={**_category_axis(names), "title": {"text": "class"}},
        yaxis={"range": [0.0, 1.05], "title": {"text": "score (0 to 1)"}},
    )
    return figure


# --------------------------------------------------------------------------------------------
# Calibration.


def plot_reliability_diagram(info: CalibrationInfo) -> go.Figure:
    """Reliability diagram (Guo et al. 2017): accuracy per confidence bin against the diagonal.

    Top: the accuracy of each non-empty bin as a bar spanning the bin, the gap to the bin's mean
    confidence as a hatched overlay, and the perfect-calibration diagonal. Bottom: the samples in
    each bin (per ``DENSITY_STEP`` of confidence when the bins have unequal widths, as with the
    quantile strategy, so that the heights still show where confidences lie). Bars take the bins'
    own widths; empty bins are left out.

    Args:
        info: a :class:`CalibrationInfo`.

    Returns:
        The figure; its title gives ECE, MCE and the Brier score.
    """
    edges = np.asarray(info.edges, dtype=np.float64)
    counts = np.asarray(info.counts, dtype=np.int64)
    filled = counts > 0
    centres = ((edges[:-1] + edges[1:]) / 2)[filled]
    widths = np.diff(edges)[filled]
    accuracy = np.asarray(info.accuracy, dtype=np.float64)[filled]
    confidence = np.asarray(info.confidence, dtype=np.float64)[filled]
    ranges = [
        f"({low:.2f}, {high:.2f}]"
        for low, high in zip(edges[:-1][filled], edges[1:][filled], strict=True)
    ]
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06
    )
    figure.add_trace(
        go.Bar(
            x=centres,
            y=accuracy,
            width=widths,
            name="accuracy",
            marker={"color": ACCURACY_COLOR, "line": {"color": "white", "width": 1}},
            customdata=np.stack([confidence, counts[filled]], axis=-1),
            hovertext=ranges,
            hovertemplate=(
                "confidence %{hovertext}<br>accuracy %{y:.3f}<br>mean confidence "
                "%{customdata[0]:.3f}<br>%{customdata[1]:,} samples<extra></extra>"
            ),
        ),
        row=1,
        col=1,
    )
    # The gap bar runs from the accuracy to the mean confidence: above the accuracy when the
    # model is overconfident, below when underconfident.
    figure.add_trace(
        go.Bar(
            x=centres,
            y=confidence - accuracy,
            base=accuracy,
            width=widths,
            name="gap (confidence − accuracy)",
            marker={
                "color": rgba(GAP_COLOR, 0.25),
                "line": {"color": GAP_COLOR, "width": 1},
                "pattern": {"shape": "/", "fgcolor": GAP_COLOR, "size": 6},
            },
            customdata=np.stack([accuracy, confidence], axis=-1),
            hovertext=ranges,
            hovertemplate=(
                "confidence %{hovertext}<br>gap %{y:+.3f} (mean confidence %{customdata[1]:.3f}"
                " − accuracy %{customdata[0]:.3f})<extra></extra>"
            ),
        ),
        row=1,
        col=1,
    )
    low, high = float(edges[0]), float(edges[-1])
    figure.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="perfect calibration",
            line={"color": REFERENCE_COLOR, "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    # Equal-count (quantile) bins all have the same height; per unit of confidence their
    # heights show where the confidences lie, as a histogram with unequal bins should.
    all_widths = np.diff(edges)
    density = not np.allclose(all_widths, all_widths[0])
    figure.add_trace(
        go.Bar(
            x=centres,
            y=counts[filled] / widths * DENSITY_STEP if density else counts[filled],
            width=widths,
            name="samples",
            marker={"color": rgba(ACCURACY_COLOR, 0.5), "line": {"color": "white", "width": 1}},
            customdata=counts[filled],
            hovertext=ranges,
            hovertemplate="confidence %{hovertext}<br>%{customdata:,} samples<extra></extra>",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    bins = len(counts)
    layout = _closest(
        f"Calibration: ECE {info.ece:.3f} · MCE {info.mce:.3f} · Brier {info.brier:.3f}"
        f"<br><sub>{info.num_samples:,} samples in {bins} {escaped(info.strategy)} bins "
        f"({int(filled.sum())} non-empty); bars above the diagonal: underconfident</sub>",
        top=100,
    )
    figure.update_layout(**layout, barmode="overlay", height=560, bargap=0)
    figure.update_xaxes(range=[low, high], row=1, col=1)
    figure.update_xaxes(
        range=[low, high], title_text="confidence (probability of the predicted class)", row=2
    )
    figure.update_yaxes(range=[0.0, 1.02], title_text="accuracy (share correct)", row=1, col=1)
    figure.update_yaxes(
        title_text=f"samples per {DENSITY_STEP:g}" if density else "samples", row=2, col=1
    )
    return figure


# --------------------------------------------------------------------------------------------
# Slices.


def _slice_figure(
    info: SliceInfo, *, title: str, y_title: str, group_label: str, unit: str
) -> go.Figure:
    names = _unique_names(info.groups)
    values = np.asarray(info.values, dtype=np.float64)
    low = np.asarray(info.low, dtype=np.float64)
    high = np.asarray(info.high, dtype=np.float64)
    counts = np.asarray(info.counts, dtype=np.int64)
    accuracy = info.metric == "accuracy"
    number = "%{y:.1%}" if accuracy else "%{y:.3g}"
    interval = [
        (f"{lo:.1%} to {hi:.1%}" if accuracy else f"{lo:.3g} to {hi:.3g}")
        if math.isfinite(lo) and math.isfinite(hi)
        else "undefined (one sample)"
        for lo, hi in zip(low, high, strict=True)
    ]
    level = f"{info.confidence:.0%}"
    suffix = f" {escaped(unit)}" if unit and not accuracy else ""
    figure = go.Figure(
        go.Scatter(
            x=names,
            y=values,
            mode="markers+text" if len(names) <= MAX_COUNT_LABELS else "markers",
            text=[f"n={count:,}" for count in counts],
            textposition="middle right",
            textfont={"size": 10, "color": REFERENCE_COLOR},
            marker={"color": ACCURACY_COLOR, "size": 9},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": _error_array(high - values),
                "arrayminus": _error_array(values - low),
                "color": rgba(ACCURACY_COLOR, 0.6),
                "thickness": 1.5,
                "width": 4,
            },
            customdata=np.stack([counts, np.asarray(interval, dtype=object)], axis=-1),
            hovertemplate=(
                f"{escaped(group_label)} %{{x}}<br>{escaped(y_title)} {number}{suffix}<br>"
                f"{level} interval %{{customdata[1]}}<br>%{{customdata[0]:,}} samples"
                "<extra></extra>"
            ),
            name=f"per {escaped(group_label)}",
        )
    )
    overall = float(info.overall)
    overall_text = f"{overall:.1%}" if accuracy else f"{overall:.3g}{suffix}"
    figure.add_hline(y=overall, line={"color": REFERENCE_COLOR, "dash": "dash", "width": 1.5})
    figure.add_trace(_legend_line(f"overall {overall_text}", REFERENCE_COLOR, "dash"))
    y_axis: dict[str, Any] = {"title": {"text": _with_unit(escaped(y_title), unit)}}
    if accuracy:
        y_axis = {"title": {"text": escaped(y_title)}, "range": [0.0, 1.05], "tickformat": ".0%"}
    figure.update_layout(
        **_closest(title),
        height=420,
        xaxis={**_category_axis(names), "title": {"text": escaped(group_label)}},
        yaxis=y_axis,
        showlegend=True,
    )
    return figure


def plot_slices(info: SliceInfo, *, group_label: str = "group", unit: str = "") -> go.Figure:
    """Accuracy (or mean error) per group, with its interval, against the overall value.

    Args:
        info: a :class:`SliceInfo`.
        group_label: what the groups are ("month", "negated"), for the x axis and hover.
        unit: unit of the errors (ignored for accuracies).

    Returns:
        The figure: one point per group with its interval (none where it is undefined, a group
        of one sample), its sample count above it, and a dashed line at the overall value.
    """
    accuracy = info.metric == "accuracy"
    metric = "accuracy" if accuracy else "mean error"
    return _slice_figure(
        info,
        title=(
            f"{_sentence_case(metric)} by {escaped(group_label)}<br><sub>bars: "
            f"{info.confidence:.0%} {'Wilson' if accuracy else 'Student t'} intervals</sub>"
        ),
        y_title=metric,
        group_label=group_label,
        unit=unit,
    )


# --------------------------------------------------------------------------------------------
# Regression.


def _residual_title(info: ResidualInfo, unit: str, what: str) -> str:
    return (
        f"{what}: MAE {_number(info.mae, unit)} · RMSE {_number(info.rmse, unit)} · "
        f"R² {info.r2:.3f} · bias {info.bias:+.3g}{(' ' + escaped(unit)) if unit else ''}"
        "<br><sub>residual = actual − predicted (positive bias: predictions too low)</sub>"
    )


def plot_residuals(info: ResidualInfo, unit: str = "") -> go.Figure:
    """Predicted against actual, residual against predicted, and the residual histogram.

    Args:
        info: a :class:`ResidualInfo`; every step of every sample is one point.
        unit: unit of the target ("°C").

    Returns:
        The figure (WebGL scatters above ``MAX_SVG_POINTS`` points).
    """
    predictions = np.asarray(info.predictions, dtype=np.float64)
    targets = np.asarray(info.targets, dtype=np.float64)
    residuals = np.asarray(info.residuals, dtype=np.float64)
    n, steps = predictions.shape
    samples, step_index = np.meshgrid(np.arange(n), np.arange(steps), indexing="ij")
    horizon = [escaped(label) for label in np.asarray(info.horizon).reshape(-1)]
    step_names = np.asarray([horizon[s] for s in step_index.reshape(-1)], dtype=object)
    customdata = np.stack(
        [samples.reshape(-1), step_names, residuals.reshape(-1), targets.reshape(-1)], axis=-1
    )
    where = "sample %{customdata[0]}" + (", step %{customdata[1]}" if steps > 1 else "")
    suffix = f" {escaped(unit)}" if unit else ""
    scatter = _scatter_class(predictions.size)
    marker = {"color": rgba(ACCURACY_COLOR, 0.45), "size": 5}
    figure = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.1,
        subplot_titles=("predicted vs actual", "residual vs predicted", "residuals"),
    )
    figure.add_trace(
        scatter(
            x=targets.reshape(-1),
            y=predictions.reshape(-1),
            mode="markers",
            marker=marker,
            customdata=customdata,
            name="samples",
            hovertemplate=(
                f"{where}<br>actual %{{x:.3g}}{suffix}<br>predicted %{{y:.3g}}{suffix}<br>"
                f"residual %{{customdata[2]:+.3g}}{suffix}<extra></extra>"
            ),
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    lowest = float(min(targets.min(), predictions.min()))
    highest = float(max(targets.max(), predictions.max()))
    figure.add_trace(
        go.Scatter(
            x=[lowest, highest],
            y=[lowest, highest],
            mode="lines",
            line={"color": REFERENCE_COLOR, "dash": "dash", "width": 1.5},
            name="predicted = actual",
            hoverinfo="skip",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        scatter(
            x=predictions.reshape(-1),
            y=residuals.reshape(-1),
            mode="markers",
            marker=marker,
            customdata=customdata,
            name="residuals",
            hovertemplate=(
                f"{where}<br>predicted %{{x:.3g}}{suffix}<br>actual %{{customdata[3]:.3g}}"
                f"{suffix}<br>residual %{{y:+.3g}}{suffix}<extra></extra>"
            ),
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    figure.add_hline(
        y=0.0, line={"color": REFERENCE_COLOR, "dash": "dash", "width": 1.5}, row=1, col=2
    )
    figure.add_trace(
        go.Histogram(
            x=residuals.reshape(-1),
            marker={"color": rgba(ACCURACY_COLOR, 0.7)},
            name="residual histogram",
            hovertemplate=f"residual %{{x}}{suffix}<br>%{{y:,}} predictions<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=3,
    )
    figure.add_vline(
        x=0.0, line={"color": REFERENCE_COLOR, "dash": "dash", "width": 1.5}, row=1, col=3
    )
    figure.update_layout(**_closest(_residual_title(info, unit, "Residuals"), top=110), height=400)
    figure.update_xaxes(title_text=_with_unit("actual", unit), row=1, col=1)
    figure.update_yaxes(title_text=_with_unit("predicted", unit), row=1, col=1)
    figure.update_xaxes(title_text=_with_unit("predicted", unit), row=1, col=2)
    figure.update_yaxes(title_text=_with_unit("residual", unit), row=1, col=2)
    figure.update_xaxes(title_text=_with_unit("residual", unit), row=1, col=3)
    figure.update_yaxes(title_text="predictions", row=1, col=3)
    return figure


def plot_horizon_error(info: ResidualInfo, unit: str = "") -> go.Figure:
    """MAE and RMSE at each forecast step.

    Args:
        info: a :class:`ResidualInfo`.
        unit: unit of the target.

    Returns:
        The figure.

    Raises:
        InputError: the info has no horizon (no steps).
    """
    horizon = None if info.horizon is None else np.asarray(info.horizon).reshape(-1)
    if horizon is None or horizon.size == 0:
        raise InputError(
            "Expected predictions with a forecast horizon (one or more steps). Received: no "
            "horizon. Use plot_residuals for this model's errors."
        )
    numeric = horizon.dtype.kind in "iuf"
    x = horizon.tolist() if numeric else _unique_names(horizon)
    suffix = f" {escaped(unit)}" if unit else ""
    figure = go.Figure()
    for position, (name, values) in enumerate(
        (("MAE", info.horizon_mae), ("RMSE", info.horizon_rmse))
    ):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=np.asarray(values, dtype=np.float64),
                mode="lines+markers",
                name=name,
                marker={"color": color_for(position), "size": 8},
                line={"color": color_for(position), "width": 2},
                hovertemplate=f"step %{{x}}<br>{name} %{{y:.3g}}{suffix}<extra></extra>",
            )
        )
    x_axis: dict[str, Any] = {"title": {"text": "forecast step"}, "automargin": True}
    if not numeric:
        x_axis.update(_category_axis(x))
    elif horizon.size <= MANY_TICKS:
        x_axis.update(tickmode="array", tickvals=horizon.tolist())
    layout = base_layout(
        f"Error by forecast step: MAE {_number(info.mae, unit)}, RMSE "
        f"{_number(info.rmse, unit)} over all steps"
    )
    layout["margin"] = {**layout["margin"], "t": 80}
    figure.update_layout(
        **layout,
        height=380,
        xaxis=x_axis,
        yaxis={"title": {"text": _with_unit("error", unit)}, "rangemode": "tozero"},
    )
    return figure


# --------------------------------------------------------------------------------------------
# A/B comparison.


def _pair_names(names: Sequence[str]) -> tuple[str, str]:
    if len(names) != 2:
        raise InputError(f"Expected two model names. Received: {len(names)}.")
    first, second = _unique_names(names)
    return first, second


def _histogram_bars(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Bar centres, heights and width: one bar per distinct value while there are few."""
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) <= MAX_DISTINCT_BARS:
        step = float(np.min(np.diff(distinct))) if len(distinct) > 1 else 1.0
        return distinct, counts, step * 0.9
    heights, edges = np.histogram(values, bins=BOOTSTRAP_BINS)
    return (edges[:-1] + edges[1:]) / 2, heights, float(edges[1] - edges[0])


def plot_bootstrap(info: BootstrapInfo, names: tuple[str, str] = ("A", "B")) -> go.Figure:
    """The resampled accuracy differences A − B (percentage points) with the interval and 0.

    Args:
        info: a :class:`BootstrapInfo`.
        names: the two models' names.

    Returns:
        The figure; its title gives the interval and P(A better). Shapes: the shaded interval,
        then vertical lines at the low bound, the high bound, the observed difference and 0.
    """
    first, second = _pair_names(names)
    differences = np.asarray(info.differences, dtype=np.float64) * 100.0
    centres, heights, width = _histogram_bars(differences)
    observed, low, high = info.difference * 100.0, info.low * 100.0, info.high * 100.0
    level = f"{info.confidence:.0%}"
    figure = _resample_histogram(
        centres,
        heights,
        width,
        f"{first} − {second} = %{{x:+.2f}} pp<br>%{{y:,}} of {info.num_resamples:,} "
        "resamples<extra></extra>",
        (low, high, f"{level} interval {low:+.2f} to {high:+.2f} pp"),
        (observed, f"observed {observed:+.2f} pp"),
    )
    title = (
        f"Accuracy {first} − {second}: {observed:+.2f} pp<br><sub>{level} CI {low:+.2f} to "
        f"{high:+.2f} pp · P({first} better) = {info.probability_a_better:.3f}<br>{first} "
        f"{info.accuracy_a:.2%}, {second} {info.accuracy_b:.2%} · {info.num_resamples:,} paired "
        f"resamples (seed {info.seed})</sub>"
    )
    layout = _closest(title, top=120)
    figure.update_layout(
        **_legend_below(layout, 420, 3, per_row=1),
        bargap=0,
        showlegend=True,
        xaxis={"title": {"text": f"accuracy {first} − {second} (percentage points)"}},
        yaxis={"title": {"text": "resamples"}, "tickformat": ","},
    )
    return figure


def plot_error_comparison(
    info: ErrorComparisonInfo, names: tuple[str, str] = ("A", "B"), unit: str = ""
) -> go.Figure:
    """The paired bootstrap of the mean absolute error difference A − B, in the target's unit.

    Args:
        info: a :class:`ErrorComparisonInfo`.
        names: the two models' names.
        unit: the target's unit (``"°C"``), '' when unknown.

    Returns:
        The figure: the resampled differences as bars, the shaded interval, lines at its bounds,
        at the observed difference and at 0; the title gives the difference, its interval and
        the Wilcoxon signed-rank p-value.
    """
    first, second = _pair_names(names)
    differences = np.asarray(info.differences, dtype=np.float64)
    centres, heights, width = _histogram_bars(differences)
    level = f"{info.confidence:.0%}"
    suffix = f" {escaped(unit)}" if unit else ""
    figure = _resample_histogram(
        centres,
        heights,
        width,
        f"MAE {first} − {second} = %{{x:+.3g}}{suffix}<br>%{{y:,}} of "
        f"{info.num_resamples:,} resamples<extra></extra>",
        (info.low, info.high, f"{level} interval {info.low:+.3g} to {info.high:+.3g}"),
        (info.difference, f"observed {info.difference:+.3g}{suffix}"),
    )
    rank = (
        f"Wilcoxon signed-rank p = {_p_text(info.wilcoxon_p_value)}"
        if math.isfinite(info.wilcoxon_p_value)
        else "Wilcoxon test skipped"
    )
    title = (
        f"Mean |error| {first} − {second}: {info.difference:+.3g}{suffix}<br><sub>{level} CI "
        f"{info.low:+.3g} to {info.high:+.3g}{suffix} · {rank}<br>{first} closer on "
        f"{info.a_smaller:,}, {second} on {info.b_smaller:,} of {info.num_samples:,} samples · "
        f"{info.num_resamples:,} resamples</sub>"
    )
    layout = _closest(title, top=120)
    figure.update_layout(
        **_legend_below(layout, 420, 3, per_row=1),
        bargap=0,
        showlegend=True,
        xaxis={
            "title": {"text": _with_unit(f"mean absolute error {first} − {second}", unit)},
            "zeroline": False,
        },
        yaxis={"title": {"text": "resamples"}, "tickformat": ","},
    )
    return figure


def plot_mcnemar(info: McNemarInfo, names: tuple[str, str] = ("A", "B")) -> go.Figure:
    """The 2x2 table of right and wrong predictions of A and B, discordant cells highlighted.

    Args:
        info: a :class:`McNemarInfo`.
        names: the two models' names.

    Returns:
        The figure: two heatmap traces, ``concordant`` and ``discordant``, each holding its
        counts (``z``) and NaN in the other's cells; the title gives the exact p-value.
    """
    first, second = _pair_names(names)
    counts = np.array([[info.both_correct, info.b], [info.c, info.both_wrong]], dtype=np.float64)
    discordant = np.array([[False, True], [True, False]])
    x = [f"{second} correct", f"{second} wrong"]
    y = [f"{first} correct", f"{first} wrong"]
    share = counts / max(info.num_samples, 1)
    meaning = [
        ["both right", f"only {first} right (b)"],
        [f"only {second} right (c)", "both wrong"],
    ]
    text = [
        [f"{meaning[r][c]}<br><b>{int(counts[r, c]):,}</b> ({share[r, c]:.1%})" for c in range(2)]
        for r in range(2)
    ]
    figure = go.Figure()
    for name, mask, color in (
        ("concordant", ~discordant, CONCORDANT_COLOR),
        ("discordant", discordant, DISCORDANT_COLOR),
    ):
        figure.add_trace(
            go.Heatmap(
                z=np.where(mask, counts, np.nan).tolist(),
                x=x,
                y=y,
                text=[[text[r][c] if mask[r, c] else "" for c in range(2)] for r in range(2)],
                texttemplate="%{text}",
                textfont={"size": 14, "color": "#111827"},
                hoverongaps=False,
                hovertext=[
                    [f"{y[r]}, {x[c]}: {int(counts[r, c]):,} samples" for c in range(2)]
                    for r in range(2)
                ],
                hoverinfo="text",
                colorscale=[[0.0, color], [1.0, color]],
                showscale=False,
                xgap=3,
                ygap=3,
                name=name,
            )
        )
    verdict = "they differ" if info.p_value < SIGNIFICANCE else "no evidence that they differ"
    title = (
        f"McNemar exact p = {_p_text(info.p_value)}<br><sub>{verdict} at 5%;<br>only the "
        f"{info.b + info.c:,} samples where exactly one model is right<br>count: b = {info.b:,}, "
        f"c = {info.c:,} of {info.num_samples:,}</sub>"
    )
    figure.update_layout(
        **_closest(title, top=150),
        height=420,
        xaxis={
            "type": "category",
            "side": "top",
            "automargin": True,
            "title": {"text": f"model {second}", "standoff": 4},
        },
        yaxis={
            "type": "category",
            "autorange": "reversed",
            "automargin": True,
            "title": {"text": f"model {first}"},
        },
    )
    return figure


def _jitter(count: int) -> np.ndarray:
    """Sideways offsets of ``count`` dots: the golden-ratio sequence looks random, never changes
    between renders, and keeps neighbouring runs apart."""
    return ((np.arange(count) * GOLDEN_RATIO + 0.5) % 1.0 - 0.5) * JITTER_WIDTH


def _mean_interval(scores: np.ndarray, confidence: float) -> tuple[float, float]:
    """The Student t interval half-width below and above the mean of one model's runs."""
    if len(scores) < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(scores) - 1) * scores.std(ddof=1)
    half /= math.sqrt(len(scores))
    return float(half), float(half)


def plot_seed_comparison(
    info: SeedComparisonInfo, names: tuple[str, str] = ("A", "B"), *, score_label: str = "score"
) -> go.Figure:
    """Each training run's score as a dot per model, with each model's mean and interval.

    Dots are spread sideways by a fixed offset per run (deterministic jitter). Paired runs
    (same seed) are joined by thin lines.

    Args:
        info: a :class:`SeedComparisonInfo`.
        names: the two models' names.
        score_label: what the scores are ("test accuracy").

    Returns:
        The figure; its title gives the mean difference, its interval, the t-test and rank-test
        p-values.
    """
    first, second = _pair_names(names)
    series = (np.asarray(info.scores_a, np.float64), np.asarray(info.scores_b, np.float64))
    figure = go.Figure()
    offsets = [_jitter(len(scores)) for scores in series]
    if info.paired:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for run, (a, b) in enumerate(zip(*series, strict=True)):
            xs += [float(offsets[0][run]), 1.0 + float(offsets[1][run]), None]
            ys += [float(a), float(b), None]
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": rgba(REFERENCE_COLOR, 0.5), "width": 1},
                name="same seed",
                hoverinfo="skip",
            )
        )
    for position, (name, scores, offset) in enumerate(
        zip((first, second), series, offsets, strict=True)
    ):
        color = color_for(position)
        figure.add_trace(
            go.Scatter(
                x=position + offset,
                y=scores,
                mode="markers",
                marker={"color": color, "size": 9, "line": {"color": "white", "width": 1}},
                name=f"{name} runs",
                customdata=np.arange(len(scores)),
                hovertemplate=(
                    f"{name}, run %{{customdata}}<br>{escaped(score_label)} %{{y:.4g}}"
                    "<extra></extra>"
                ),
            )
        )
        below, above = _mean_interval(scores, info.confidence)
        figure.add_trace(
            go.Scatter(
                x=[position + MEAN_OFFSET],
                y=[float(scores.mean())],
                mode="markers",
                marker={"color": color, "size": 12, "symbol": "diamond"},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": _error_array(np.array([above])),
                    "arrayminus": _error_array(np.array([below])),
                    "color": color,
                    "thickness": 2,
                    "width": 6,
                },
                name=f"{name} mean ± {info.confidence:.0%} CI",
                hovertemplate=(
                    f"{name} mean %{{y:.4g}} over {len(scores)} runs<br>{info.confidence:.0%} "
                    f"interval ±{above:.3g}<extra></extra>"
                ),
            )
        )
    test = "paired t-test" if info.paired else "Welch t-test"
    rank = "Wilcoxon" if info.rank_test == "wilcoxon" else "Mann-Whitney"
    title = (
        f"{first} − {second} = {info.mean_difference:+.3g} ({info.confidence:.0%} CI "
        f"{info.low:+.3g} to {info.high:+.3g})<br><sub>{test} p = {_p_text(info.t_p_value)} · "
        f"{rank} p = {_p_text(info.rank_p_value)} · {len(series[0])} and {len(series[1])} runs"
        + (f"<br>{_wrap(info.note)}" if info.note else "")
        + "</sub>"
    )
    figure.update_layout(
        **_closest(title, top=100 + 18 * _wrap(info.note).count("<br>") + (18 if info.note else 0)),
        height=440,
        xaxis={
            "tickmode": "array",
            "tickvals": [0, 1],
            "ticktext": [first, second],
            "range": [-0.5, 1.5 + MEAN_OFFSET / 2],
            "title": {"text": "model"},
            "zeroline": False,
        },
        yaxis={"title": {"text": escaped(score_label)}},
    )
    return figure


# --------------------------------------------------------------------------------------------
# Cost.


def _check_profiles(profiles: Mapping[str, ProfileInfo]) -> None:
    if not profiles:
        raise InputError("Expected at least one profiled model. Received: none.")


def _batch_axis(profiles: Mapping[str, ProfileInfo]) -> dict:
    sizes = sorted({int(size) for info in profiles.values() for size in info.batch_sizes})
    return {
        "type": "log",
        "title": {"text": "batch size (samples, log scale)"},
        "tickmode": "array",
        "tickvals": sizes,
        "ticktext": [str(size) for size in sizes],
    }


def plot_profile(profiles: Mapping[str, ProfileInfo]) -> go.Figure:
    """Median latency per batch against batch size, one line per model (log-log).

    Args:
        profiles: model name to :class:`ProfileInfo`.

    Returns:
        The figure: each point's error bar reaches down to the fastest repeat.

    Raises:
        InputError: no profiles.
    """
    _check_profiles(profiles)
    figure = go.Figure()
    names = _unique_names(list(profiles))
    for position, (name, info) in enumerate(zip(names, profiles.values(), strict=True)):
        latency = np.asarray(info.latency, dtype=np.float64) * 1000.0
        fastest = np.asarray(info.latency_min, dtype=np.float64) * 1000.0
        color = color_for(position)
        figure.add_trace(
            go.Scatter(
                x=np.asarray(info.batch_sizes, dtype=np.int64),
                y=latency,
                mode="lines+markers",
                name=name,
                line={"color": color, "width": 2},
                marker={"color": color, "size": 8},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": np.zeros_like(latency),
                    "arrayminus": latency - fastest,
                    "color": rgba(color, 0.6),
                    "width": 4,
                },
                customdata=np.stack(
                    [fastest, np.asarray(info.throughput, dtype=np.float64)], axis=-1
                ),
                hovertemplate=(
                    f"<b>{name}</b>, batch %{{x}}<br>median %{{y:.3g}} ms per batch (fastest "
                    f"%{{customdata[0]:.3g}} ms, {info.repeats} repeats)<br>"
                    "%{customdata[1]:,.0f} samples/s<extra></extra>"
                ),
            )
        )
    figure.update_layout(
        **_closest(
            "Latency by batch size<br><sub>median of the repeats; error bar down to the fastest"
            "</sub>"
        ),
        height=420,
        xaxis=_batch_axis(profiles),
        yaxis={"type": "log", "title": {"text": "latency (ms per batch, log scale)"}},
        showlegend=True,
    )
    return figure


def plot_throughput(profiles: Mapping[str, ProfileInfo]) -> go.Figure:
    """Samples per second (at the median latency) against batch size, one line per model.

    Args:
        profiles: model name to :class:`ProfileInfo`.

    Returns:
        The figure.

    Raises:
        InputError: no profiles.
    """
    _check_profiles(profiles)
    figure = go.Figure()
    names = _unique_names(list(profiles))
    for position, (name, info) in enumerate(zip(names, profiles.values(), strict=True)):
        color = color_for(position)
        figure.add_trace(
            go.Scatter(
                x=np.asarray(info.batch_sizes, dtype=np.int64),
                y=np.asarray(info.throughput, dtype=np.float64),
                mode="lines+markers",
                name=name,
                line={"color": color, "width": 2},
                marker={"color": color, "size": 8},
                customdata=np.asarray(info.latency, dtype=np.float64) * 1000.0,
                hovertemplate=(
                    f"<b>{name}</b>, batch %{{x}}<br>%{{y:,.0f}} samples/s<br>"
                    "median %{customdata:.3g} ms per batch<extra></extra>"
                ),
            )
        )
    figure.update_layout(
        **_closest("Throughput by batch size<br><sub>at the median latency</sub>"),
        height=420,
        xaxis=_batch_axis(profiles),
        yaxis={"type": "log", "title": {"text": "throughput (samples/s, log scale)"}},
        showlegend=True,
    )
    return figure


def _front_indices(front: Any, count: int) -> np.ndarray:
    front = np.asarray(front)
    if front.dtype.kind == "b":
        if front.shape != (count,):
            raise InputError(
                f"Expected a front mask of {count} booleans, one per model. Received: shape "
                f"{front.shape}."
            )
        return np.flatnonzero(front)
    front = front.reshape(-1)
    if front.size and (front.dtype.kind not in "iu" or front.min() < 0 or front.max() >= count):
        raise InputError(
            f"Expected front as model indices between 0 and {count - 1} (as pareto_front "
            f"returns) or a boolean mask. Received: {front.tolist()}."
        )
    return front.astype(np.int64)


def plot_pareto(
    names: Sequence[str],
    costs: Any,
    scores: Any,
    front: Any,
    cost_label: str,
    score_label: str,
) -> go.Figure:
    """Models by cost and score, the Pareto front marked and joined by a step line.

    The step line is the best score reachable at each cost: flat until the next front model.
    The cost axis is logarithmic when the costs span more than ``LOG_COST_RATIO``.

    Args:
        names: model names.
        costs: ``(M,)`` costs (lower is better).
        scores: ``(M,)`` scores (higher is better).
        front: indices from :func:`~neurogenesis.analysis.evaluation.pareto_front`, or an
            ``(M,)`` boolean mask.
        cost_label: cost axis title, with its unit ("latency (ms per batch of 32)").
        score_label: score axis title ("accuracy").

    Returns:
        The figure: traces ``other models`` and ``Pareto front`` (``customdata`` the model
        indices) and ``front line``.

    Raises:
        InputError: arrays of different lengths or a front outside the models.
    """
    costs = np.asarray(costs, dtype=np.float64).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = _unique_names(names)
    if not (len(labels) == len(costs) == len(scores)):
        raise InputError(
            f"Expected one name, cost and score per model. Received: {len(labels)} names, "
            f"{len(costs)} costs, {len(scores)} scores."
        )
    on_front = _front_indices(front, len(costs))
    ordered = on_front[np.lexsort((-scores[on_front], costs[on_front]))]
    others = np.setdiff1d(np.arange(len(costs)), on_front)
    hover = (
        f"<b>%{{text}}</b><br>{escaped(cost_label)} %{{x:.4g}}<br>{escaped(score_label)} %{{y:.4g}}"
    )
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=costs[others],
            y=scores[others],
            mode="markers+text",
            text=[labels[i] for i in others],
            textposition="bottom center",
            textfont={"size": 11, "color": REFERENCE_COLOR},
            marker={"color": OTHER_COLOR, "size": 10},
            customdata=others,
            name="other models",
            hovertemplate=hover + "<br>beaten on both cost and score<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=costs[ordered],
            y=scores[ordered],
            mode="lines",
            line={"color": rgba(FRONT_COLOR, 0.6), "width": 2, "shape": "hv"},
            name="front line",
            hoverinfo="skip",
            showlegend=False,
        )
    )
    figure.add_trace(
        go.Scatter(
            x=costs[ordered],
            y=scores[ordered],
            mode="markers+text",
            text=[labels[i] for i in ordered],
            textposition="top center",
            textfont={"size": 11, "color": FRONT_COLOR},
            marker={"color": FRONT_COLOR, "size": 13, "symbol": "star"},
            customdata=ordered,
            name="Pareto front",
            hovertemplate=hover + "<br>on the Pareto front<extra></extra>",
        )
    )
    positive = costs[costs > 0]
    log_cost = (
        positive.size == costs.size
        and costs.size > 1
        and positive.max() / positive.min() > LOG_COST_RATIO
    )
    figure.update_layout(
        **_closest(
            f"{_sentence_case(escaped(score_label))} against {escaped(cost_label)}<br><sub>"
            f"{len(ordered)} of {len(costs)} models on the Pareto front (no model is cheaper "
            "and better)</sub>"
        ),
        height=440,
        xaxis={
            "title": {"text": escaped(cost_label) + (" (log scale)" if log_cost else "")},
            "type": "log" if log_cost else "linear",
            "automargin": True,
        },
        yaxis={"title": {"text": escaped(score_label)}, "automargin": True},
        showlegend=True,
    )
    return figure


# --------------------------------------------------------------------------------------------
# Tables behind the charts: what a chart's CSV download and the page's tables hold.


def confusion_matrix_table(info: ConfusionInfo) -> pd.DataFrame:
    """Counts of label (rows) × prediction (columns), as the matrix's hover says them."""
    names = [str(name) for name in info.label_names]
    return pd.DataFrame(
        np.asarray(info.matrix, dtype=np.int64),
        index=pd.Index(names, name="label"),
        columns=[f"predicted {name}" for name in names],
    )


def class_metrics_table(info: ConfusionInfo) -> pd.DataFrame:
    """Precision, recall, F1 and support per class."""
    return pd.DataFrame(
        {
            "class": info.label_names,
            "precision": info.precision,
            "recall": info.recall,
            "F1": info.f1,
            "support": info.support,
        }
    )


def reliability_diagram_table(info: CalibrationInfo) -> pd.DataFrame:
    """One row per confidence bin: its edges, mean confidence, accuracy and samples."""
    return pd.DataFrame(
        {
            "bin from": info.edges[:-1],
            "bin to": info.edges[1:],
            "mean confidence": info.confidence,
            "accuracy": info.accuracy,
            "samples": info.counts,
        }
    )


def slices_table(info: SliceInfo, *, group_label: str = "group") -> pd.DataFrame:
    """One row per slice: its value, samples, the metric and its interval."""
    return pd.DataFrame(
        {
            group_label: info.groups,
            "samples": info.counts,
            info.metric: info.values,
            "low": info.low,
            "high": info.high,
        }
    )


def residuals_table(info: ResidualInfo) -> pd.DataFrame:
    """One row per sample and predicted step: prediction, target and residual."""
    predictions = np.asarray(info.predictions, dtype=np.float64)
    predictions = predictions.reshape(len(predictions), -1)
    count, steps = predictions.shape
    return pd.DataFrame(
        {
            "sample": np.repeat(np.arange(count), steps),
            "step": np.tile(np.arange(steps), count),
            "prediction": predictions.ravel(),
            "target": np.asarray(info.targets, dtype=np.float64).ravel(),
            "residual": np.asarray(info.residuals, dtype=np.float64).ravel(),
        }
    )


def horizon_error_table(info: ResidualInfo) -> pd.DataFrame:
    """MAE and RMSE per predicted step (horizon)."""
    return pd.DataFrame(
        {"horizon": info.horizon, "MAE": info.horizon_mae, "RMSE": info.horizon_rmse}
    )


def error_comparison_table(info: ErrorComparisonInfo, unit: str = "") -> pd.DataFrame:
    """Each sample's absolute error under A and under B."""
    return pd.DataFrame(
        {
            "sample": np.arange(info.num_samples),
            f"A |error| {unit}".rstrip(): info.absolute_a,
            f"B |error| {unit}".rstrip(): info.absolute_b,
        }
    )


def mcnemar_table(info: McNemarInfo) -> pd.DataFrame:
    """The 2 × 2 table of A right or wrong against B right or wrong, in samples."""
    return pd.DataFrame(
        {
            "A": ["right", "right", "wrong", "wrong"],
            "B": ["right", "wrong", "right", "wrong"],
            "samples": [info.both_correct, info.b, info.c, info.both_wrong],
        }
    )


def seed_comparison_table(
    info: SeedComparisonInfo, names: tuple[str, str], seeds: tuple[Sequence, Sequence]
) -> pd.DataFrame:
    """One row per run: its recipe (``names[0]`` for A, ``names[1]`` for B), seed and score."""
    scores_a, scores_b = (np.asarray(s, dtype=np.float64) for s in (info.scores_a, info.scores_b))
    return pd.DataFrame(
        {
            "recipe": [names[0]] * len(scores_a) + [names[1]] * len(scores_b),
            "seed": [*seeds[0], *seeds[1]],
            "accuracy": [*scores_a.tolist(), *scores_b.tolist()],
        }
    )


def model_scores_table(predictions: Mapping[str, Any], classification: bool) -> pd.DataFrame:
    """Each model's accuracy (classification) or mean absolute error (regression) on the set,
    from its :class:`~neurogenesis.analysis.features.PredictionInfo`."""
    return pd.DataFrame(
        {
            "model": list(predictions),
            ("accuracy" if classification else "MAE"): [
                float(np.mean(info.correct)) if classification else float(np.nanmean(info.errors))
                for info in predictions.values()
            ],
        }
    )


def disagreements_table(
    indices: Any, truth: Any, info_a: Any, info_b: Any, names: tuple[str, str]
) -> pd.DataFrame:
    """The samples where A and B predict differently: label, each model's class and confidence.

    Args:
        indices: the disagreeing samples.
        truth: the :class:`~neurogenesis.analysis.features.PredictionInfo` that names the classes
            and holds the labels.
        info_a, info_b: the two models' predictions.
        names: the two models' names.
    """
    indices = np.asarray(indices, dtype=np.int64)
    return pd.DataFrame(
        {
            "sample": indices,
            "label": [truth.class_name(truth.labels[i]) for i in indices],
            f"A: {names[0]}": [truth.class_name(info_a.predicted[i]) for i in indices],
            "A confidence": info_a.confidence[indices],
            f"B: {names[1]}": [truth.class_name(info_b.predicted[i]) for i in indices],
            "B confidence": info_b.confidence[indices],
        }
    )


def profile_table(profiles: Mapping[str, ProfileInfo]) -> pd.DataFrame:
    """One row per model and batch size: median and fastest latency, throughput (the data of
    ``plot_profile`` and ``plot_throughput``)."""
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "model": label,
                    "batch size": profile.batch_sizes,
                    "median latency (s)": profile.latency,
                    "fastest latency (s)": profile.latency_min,
                    "samples per second": profile.throughput,
                }
            )
            for label, profile in profiles.items()
        ],
        ignore_index=True,
    )


def profile_sizes_table(profiles: Mapping[str, ProfileInfo]) -> pd.DataFrame:
    """One row per model: parameters, weight and activation memory, time per sample at the
    largest batch timed."""
    return pd.DataFrame(
        {
            "model": list(profiles),
            "parameters": [p.num_parameters for p in profiles.values()],
            "weights (MB)": [p.weight_bytes / 1e6 for p in profiles.values()],
            "activations (MB)": [
                None if p.activation_bytes is None else p.activation_bytes / 1e6
                for p in profiles.values()
            ],
            f"ms per sample at {_largest_batch(profiles)}": [
                float(p.latency[-1]) * 1000 / p.batch_sizes[-1] for p in profiles.values()
            ],
        }
    )


def _largest_batch(profiles: Mapping[str, ProfileInfo]) -> int:
    sizes = [int(p.batch_sizes[-1]) for p in profiles.values()]
    return max(sizes) if sizes else 0


def pareto_table(
    names: Sequence[str],
    costs: Any,
    scores: Any,
    front: Any,
    cost_label: str,
    score_label: str,
) -> pd.DataFrame:
    """The data of ``plot_pareto`` (same arguments): each model's cost, score and whether it is
    on the front."""
    costs = np.asarray(costs, dtype=np.float64)
    return pd.DataFrame(
        {
            "model": list(names),
            cost_label: costs,
            score_label: np.asarray(scores, dtype=np.float64),
            "on the front": np.isin(np.arange(len(costs)), _front_indices(front, len(costs))),
        }
    )


def text_samples_table(indices: Any, texts: Sequence[str], facts: Sequence[str]) -> pd.DataFrame:
    """Text samples as the debugging lists show them (mistakes, a confusion cell, flipped or
    disagreeing samples): index, text, and what the model made of it."""
    return pd.DataFrame({"sample": indices, "text": list(texts), "facts": list(facts)})

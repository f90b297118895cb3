"""Robustness as Plotly figures. Drawing only: no TensorFlow, no Streamlit.

Draws what :mod:`neurogenesis.analysis.robustness` computes, for the Debugging page:

- ``plot_robustness_curves``: accuracy (or error) against strength, one small panel per corruption
  or attack (their strengths have different units), optionally one line per class;
- ``plot_robustness_overview``: one bar per corruption or attack, the metric averaged over its
  matched severity levels, worst first, against the clean value;
- ``plot_adversarial_example``: original, amplified perturbation and adversarial sample side by
  side (images), or per-feature lines (series);
- ``plot_prediction_change``: class probabilities before and after a perturbation;
- ``plot_perturbed_input``: the perturbed sample the page is predicting on (an image, a series, or
  a row of words with the changed tokens highlighted);
- the tables behind them (``<thing>_table(info)``): what a chart's CSV download and the page's
  tables hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.robustness import (
    DROP_THRESHOLD,
    MIDDLE_SEVERITY,
    NUM_SEVERITIES,
    AdversarialInfo,
    RobustnessInfo,
    strength_text,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.features import (
    TRANSPARENT,
    _display_uint8,
    _image,
    _picture_axes,
)
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, escaped, rgba

__all__ = [
    "CURVE_LABELS",
    "INPUT_KINDS",
    "MAX_COLUMNS",
    "MAX_FEATURE_PANELS",
    "curve_label",
    "plot_adversarial_example",
    "plot_perturbed_input",
    "plot_prediction_change",
    "plot_robustness_curves",
    "plot_robustness_overview",
    "adversarial_budget_table",
    "prediction_change_table",
    "robustness_curves_table",
    "robustness_overview_table",
]

CURVE_LABELS = {
    "gaussian_noise": "Gaussian noise",
    "blur": "Blur",
    "brightness": "Brightness",
    "contrast": "Contrast loss",
    "occlusion": "Occlusion",
    "rotation": "Rotation",
    "shift": "Shift",
    "series_noise": "Noise",
    "series_shift": "Time shift",
    "mask_tokens": "Token masking",
    "delete_tokens": "Token deletion",
    "fgsm": "FGSM (L∞)",
    "pgd": "PGD (L∞)",
}
"""Readable names of the corruptions and attacks, for panel titles and bar labels."""
INPUT_KINDS = ("image", "series", "text", "array")
"""Kinds :func:`plot_perturbed_input` draws; ``"array"`` (a sample set's kind for series and
feature vectors) is read from the sample's rank."""
MAX_COLUMNS = 3
MAX_FEATURE_PANELS = 6
"""Series features drawn at most (one panel each); the title says when some are left out."""
PANEL_ROW_PX = 230
CURVE_EXTRA_PX = 130
LEGEND_ROW_PX = 22
LEGEND_ENTRIES_PER_ROW = 4
BAR_ROW_PX = 34
IMAGE_PANEL_PX = 220
SERIES_ROW_PX = 150
TOKENS_PER_ROW = 8
TOKEN_ROW_PX = 42
MIN_HEIGHT_PX, MAX_HEIGHT_PX = 240, 2000
HOVER_MAX_PIXELS = 64 * 64
"""Images larger than this get no per-pixel hover (its text would outweigh the picture)."""
OVERALL_COLOR = "#000000"
# Black is the overall line, so classes take the other palette colours (and a dash after those).
CLASS_COLORS = tuple(color for color in PALETTE if color != OVERALL_COLOR)
CLASS_DASHES = ("solid", "dash", "dot", "dashdot")
KIND_COLORS = {"corruption": color_for(0), "attack": color_for(5)}
CLEAN_COLOR = "#7F7F7F"
ORIGINAL_COLOR = color_for(0)
CHANGED_COLOR = color_for(5)
BACKGROUND_SERIES_COLOR = "#C8C8C8"
UNCHANGED_TOKEN_COLOR = "#F2F2F2"
PADDING_ID = 0
STAR = "★"


# ---------------------------------------------------------------------------------------------
# Shared helpers


def curve_label(name: str) -> str:
    """The readable name of a corruption or attack (``"pgd"`` -> ``"PGD (L∞)"``)."""
    if name in CURVE_LABELS:
        return CURVE_LABELS[name]
    return escaped(str(name).replace("_", " ").capitalize())


def _bounds(value_range: Sequence[float]) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise InputError(
            f"Expected value_range as (low, high). Received: {value_range!r}. Pass the sample "
            "set's value range (robustness.value_range(x))."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and high >= low):
        raise InputError(f"Expected finite value_range low <= high. Received: ({low}, {high}).")
    return low, high


def _span(bounds: tuple[float, float]) -> float:
    return bounds[1] - bounds[0] if bounds[1] > bounds[0] else 1.0


def _number(value: float) -> str:
    return f"{float(value):.4g}"


def _layout(title: str, height: int, **extra) -> dict:
    layout = base_layout(title)
    layout.update(hovermode="closest", height=int(np.clip(height, MIN_HEIGHT_PX, MAX_HEIGHT_PX)))
    layout.update(extra)
    return layout


def _legend_below(layout: dict, entries: int, x_titles: bool = True) -> dict:
    """Moves the legend under the plots (above them it collides with the panel titles)."""
    rows = math.ceil(entries / LEGEND_ENTRIES_PER_ROW)
    below = 55 if x_titles else 30
    margin = {**layout["margin"], "b": below + 15 + rows * LEGEND_ROW_PX}
    layout["height"] = int(layout["height"] + rows * LEGEND_ROW_PX)
    plot_px = max(layout["height"] - margin["t"] - margin["b"], 1)
    layout["margin"] = margin
    layout["legend"] = {
        "orientation": "h",
        "yanchor": "top",
        "y": -below / plot_px,
        "xanchor": "left",
        "x": 0.0,
    }
    return layout


def _pixels(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """One image in input units as uint8 RGB, ``bounds`` mapped to black..white."""
    scaled = (np.asarray(values, dtype=np.float64) - bounds[0]) / _span(bounds)
    return _display_uint8(np.clip(scaled, 0.0, 1.0)[None])[0]


def _pixel_hover(hover: list[list[str]]) -> go.Heatmap:
    """An invisible heatmap over a picture whose hover gives ``hover[row][column]``."""
    return go.Heatmap(
        z=np.zeros((len(hover), len(hover[0]))),
        hovertext=hover,
        hoverinfo="text",
        colorscale=TRANSPARENT,
        showscale=False,
        name="values",
    )


def _pixel_texts(height: int, width: int, rows: Sequence[tuple[str, np.ndarray]]) -> list:
    """Per pixel, each named ``(height, width, channels)`` value (channels in brackets)."""

    def text(values: np.ndarray) -> str:
        if len(values) == 1:
            return _number(values[0])
        return "(" + ", ".join(_number(v) for v in values) + ")"

    return [
        [
            f"row {r}, column {c}<br>"
            + "<br>".join(f"{name}: {text(values[r, c])}" for name, values in rows)
            for c in range(width)
        ]
        for r in range(height)
    ]


def _feature_names(feature_names: Sequence[str] | None, count: int) -> list[str]:
    if feature_names is None:
        return [f"feature {k}" for k in range(count)]
    names = [escaped(name) for name in feature_names]
    if len(names) != count:
        raise InputError(
            f"Expected {count} feature names. Received: {len(names)}. Pass the sample set's "
            "feature names."
        )
    return names


def _feature_units(feature_units: Sequence[str] | None, count: int) -> list[str]:
    if feature_units is None:
        return [""] * count
    units = [escaped(str(unit)) for unit in feature_units]
    if len(units) != count:
        raise InputError(
            f"Expected {count} feature units. Received: {len(units)}. Pass the sample set's "
            "feature units ('' where a feature has none)."
        )
    return units


def _feature_epsilon(feature_epsilon, count: int) -> np.ndarray:
    epsilon = np.asarray(feature_epsilon, dtype=np.float64).reshape(-1)
    if epsilon.shape != (count,) or not np.all(epsilon >= 0):
        raise InputError(
            f"Expected one ε >= 0 per feature ({count}). Received: {epsilon.tolist()}. Pass "
            "AdversarialInfo.epsilon of a per-feature attack."
        )
    return epsilon


def _same_shape(x: np.ndarray, other: np.ndarray, what: str) -> None:
    if x.shape != other.shape:
        raise InputError(
            f"Expected {what} of the same shape as the sample {x.shape}. Received: {other.shape}."
        )


# ---------------------------------------------------------------------------------------------
# Curves


def _metric_title(info: RobustnessInfo, unit: str = "") -> str:
    if info.metric == "accuracy":
        return "accuracy (higher is better)"
    unit = f" in {escaped(unit)}" if unit else ""
    return f"{escaped(info.metric.replace('_', ' '))}{unit} (lower is better)"


def _metric_text(info: RobustnessInfo, value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.1%}" if info.metric == "accuracy" else _number(value)


def _is_share(unit: str) -> bool:
    """Whether a unit (``"noise σ (% of the value range)"``) measures shares, drawn as %."""
    return "(%" in unit


def _strength_note(info: RobustnessInfo, index: int) -> str:
    """For attacks in input units, epsilon as a share of the value range (input units alone say
    little); nothing for strengths that are shares already."""
    if info.kinds[index] != "attack" or _is_share(info.units[index]):
        return ""
    if np.ndim(info.value_range[0]):
        return ""
    low, high = info.value_range
    return f" = %{{customdata:.1%}} of the range {low:.3g}..{high:.3g}"


def _chosen_names(info: RobustnessInfo, names: Sequence[str] | None) -> list[str]:
    chosen = list(info.names) if names is None else [str(name) for name in names]
    unknown = [name for name in chosen if name not in info.names]
    if unknown:
        raise InputError(
            f"Expected curve names from {info.names}. Received: {unknown}. Leave names out to "
            "draw them all."
        )
    if not chosen:
        raise InputError("Expected at least one curve to draw. Received: none.")
    return chosen


def _sorted_points(info: RobustnessInfo, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The strengths, values and point indices (into the long form) of a curve, by strength."""
    points = np.flatnonzero(info.curve == info.names.index(name))
    order = np.argsort(info.strength[points], kind="stable")
    points = points[order]
    return info.strength[points], info.value[points], points


def _class_label(info: RobustnessInfo, k: int) -> str:
    names = info.label_names
    name = escaped(names[k]) if names is not None and k < len(names) else f"class {k}"
    if info.class_counts is not None:
        count = int(info.class_counts[k])
        name += f" ({count} sample{'s' if count != 1 else ''})"
    return name


def _value_axis(info: RobustnessInfo) -> dict:
    if info.metric == "accuracy":
        return {"range": [-0.02, 1.04], "tickformat": ".0%"}
    values = np.concatenate([info.value, [info.clean]])
    if info.per_class is not None:
        values = np.concatenate([values, np.ravel(info.per_class)])
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 1.0
    # One range for every panel, so a flat panel and a steep one compare at a glance.
    return {"range": [0.0, (top or 1.0) * 1.08]}


def plot_robustness_curves(
    info: RobustnessInfo,
    *,
    per_class: bool = False,
    names: Sequence[str] | None = None,
    unit: str = "",
) -> go.Figure:
    """The metric against strength, one small panel per corruption or attack.

    Each panel has its own x axis (its strength's unit from ``info.units``: a noise level, pixels,
    degrees, epsilon in input units...) and the same y axis: accuracy from 0 to 1, or for a
    regression model the mean absolute error, which grows with the strength. The clean value is a
    dotted line. Panels go up to :data:`MAX_COLUMNS` per row; the figure grows with the rows.

    Args:
        info: the curves from :func:`~neurogenesis.analysis.robustness.robustness_curves`.
        per_class: add one thin line per true class (same colour in every panel, one legend
            entry each) under the overall line, drawn thick and black.
        names: the curves to draw, in order; default all of ``info.names``.
        unit: the unit of a regression model's error (the target's, ``"°C"``), for the y axes.

    Returns:
        The figure.

    Raises:
        InputError: unknown names, or ``per_class`` when the curves carry no per-class values
            (regression models, or ``robustness_curves(..., per_class=False)``).
    """
    chosen = _chosen_names(info, names)
    if per_class and info.per_class is None:
        raise InputError(
            "Expected curves with per-class accuracy. Received: none (a regression model, or "
            "robustness_curves was run with per_class=False). Draw them with per_class=False."
        )
    count = len(chosen)
    columns = min(MAX_COLUMNS, count)
    rows = math.ceil(count / columns)
    classes = (
        [
            k
            for k in range(info.per_class.shape[1])
            if info.class_counts is None or info.class_counts[k] > 0
        ]
        if per_class
        else []
    )
    height = rows * PANEL_ROW_PX + CURVE_EXTRA_PX
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[curve_label(name) for name in chosen],
        horizontal_spacing=0.08 if columns > 1 else 0.0,
        vertical_spacing=min(0.3, 100 / height) if rows > 1 else 0.0,
    )
    shown_legend: set[str] = set()

    def legend_once(group: str) -> bool:
        first = group not in shown_legend
        shown_legend.add(group)
        return first

    metric = "accuracy" if info.metric == "accuracy" else escaped(info.metric.replace("_", " "))
    axis_title = f"{metric} ({escaped(unit)})" if unit and info.metric != "accuracy" else metric
    value_format = ":.1%" if info.metric == "accuracy" else ":.4g"
    clean_text = _metric_text(info, info.clean)
    for position, name in enumerate(chosen):
        row, column = divmod(position, columns)
        cell = {"row": row + 1, "col": column + 1}
        index = info.names.index(name)
        strengths, values, points = _sorted_points(info, name)
        unit = escaped(info.units[index] or "strength")
        span = [float(strengths.min()), float(strengths.max())] if len(strengths) else [0.0, 1.0]
        figure.add_trace(
            go.Scatter(
                x=span,
                y=[info.clean, info.clean],
                mode="lines",
                line={"color": CLEAN_COLOR, "dash": "dot", "width": 1.5},
                name=f"clean ({clean_text})",
                legendgroup="clean",
                showlegend=legend_once("clean"),
                hoverinfo="skip",
            ),
            **cell,
        )
        for k in classes:
            group = f"class {k}"
            figure.add_trace(
                go.Scatter(
                    x=strengths,
                    y=info.per_class[points, k],
                    mode="lines",
                    line={
                        "color": CLASS_COLORS[k % len(CLASS_COLORS)],
                        "dash": CLASS_DASHES[(k // len(CLASS_COLORS)) % len(CLASS_DASHES)],
                        "width": 1.3,
                    },
                    name=_class_label(info, k),
                    legendgroup=group,
                    showlegend=legend_once(group),
                    hovertemplate=f"{_class_label(info, k)}: %{{y{value_format}}}<extra></extra>",
                ),
                **cell,
            )
        kind = info.kinds[index]
        if per_class:
            line, group, label = {"color": OVERALL_COLOR, "width": 3.5}, "all", "all samples"
        else:
            line, group, label = (
                {"color": KIND_COLORS.get(kind, color_for(0)), "width": 2.5},
                kind,
                kind,
            )
        share = _is_share(info.units[index])
        strength_format = ":.3~%" if share else ":.3g"
        figure.add_trace(
            go.Scatter(
                x=strengths,
                y=values,
                customdata=(
                    strengths
                    if share or np.ndim(info.value_range[0])
                    else strengths / _span(info.value_range)
                ),
                mode="lines+markers",
                line=line,
                marker={"size": 6, "color": line["color"]},
                name=label,
                legendgroup=group,
                showlegend=legend_once(group),
                hovertemplate=(
                    f"<b>{curve_label(name)}</b> at %{{x{strength_format}}} ({unit}"
                    f"{_strength_note(info, index)})<br>"
                    f"all samples: {metric} %{{y{value_format}}} (clean {clean_text})"
                    "<extra></extra>"
                ),
            ),
            **cell,
        )
        figure.update_xaxes(
            title={"text": unit, "standoff": 4, "font": {"size": 12}},
            **({"tickformat": ".0%"} if share else {}),
            **cell,
        )
        figure.update_yaxes(title={"text": axis_title}, **_value_axis(info), **cell)
    title = f"{_metric_title(info).capitalize()} against corruption strength"
    if per_class:
        title += ", per class"
    layout = _layout(title, height)
    layout["hovermode"] = "x unified"
    layout["margin"] = {"l": 60, "r": 20, "t": 80, "b": 60}
    _legend_below(layout, len(classes) + 2 if per_class else 3)
    figure.update_layout(**layout)
    figure.update_annotations(font={"size": 13})
    return figure


def plot_robustness_overview(info: RobustnessInfo, *, unit: str = "") -> go.Figure:
    """The corruptions and attacks ranked at matched severities, worst first.

    Each bar is the metric averaged over the curve's severity levels 1..n (``mean`` of
    ``info.summary_rows()``: every default grid has five levels, each stated in its unit), so no
    curve is judged at an arbitrary strongest setting. A diamond marks severity
    :data:`~neurogenesis.analysis.robustness.MIDDLE_SEVERITY` and the clean value is a dotted
    line. The hover lists every level with its unit and metric.

    Args:
        info: the curves.
        unit: the unit of a regression model's error (the target's), for the x axis.

    Returns:
        The figure.
    """
    rows = info.summary_rows()
    if not rows:
        raise InputError("Expected at least one corruption or attack. Received: none.")
    accuracy = info.metric == "accuracy"
    labels, means, middles, hovers, colors = [], [], [], [], []
    counts = set()
    for row in rows:
        name = row["corruption"]
        strengths, values = info.severities(name)
        counts.add(len(strengths))
        strength_unit = escaped(row["unit"] or "strength")
        levels = "<br>".join(
            f"  {level}: {escaped(strength_text(strength, row['unit']))} → "
            f"{_metric_text(info, value)}"
            for level, (strength, value) in enumerate(zip(strengths, values, strict=True), 1)
        )
        breaks = (
            f"falls below {DROP_THRESHOLD:.0%} of clean at {escaped(row['breaks_at'])}"
            if row["breaks_at"] is not None
            else f"stays above {DROP_THRESHOLD:.0%} of clean at every level"
        )
        # The value goes in the label: inside a short bar it would run into the diamond.
        labels.append(f"{curve_label(name)}: {_metric_text(info, row['mean'])}")
        means.append(row["mean"])
        middles.append(row["at_middle"])
        colors.append(KIND_COLORS.get(row["kind"], color_for(0)))
        hovers.append(
            f"<b>{curve_label(name)}</b> ({row['kind']}; {strength_unit})<br>"
            f"mean over {len(strengths)} severities: {_metric_text(info, row['mean'])} "
            f"(clean {_metric_text(info, info.clean)})<br>severity: strength → {_metric_name(info)}"
            f"<br>{levels}<br>{breaks}"
        )
    figure = go.Figure(
        go.Bar(
            x=means,
            y=labels,
            orientation="h",
            marker={"color": colors},
            hovertext=hovers,
            hoverinfo="text",
            name="mean over the severities",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=middles,
            y=labels,
            mode="markers",
            marker={"symbol": "diamond", "size": 10, "color": "#111827"},
            name=f"at severity {MIDDLE_SEVERITY}",
            customdata=[row["middle"] for row in rows],
            hovertemplate=(
                f"%{{y}} at severity {MIDDLE_SEVERITY} (%{{customdata}}): "
                f"%{{x{':.1%' if accuracy else ':.4g'}}}<extra></extra>"
            ),
        )
    )
    figure.add_vline(
        x=info.clean,
        line={"color": CLEAN_COLOR, "dash": "dot", "width": 2},
        annotation={"text": f"clean {_metric_text(info, info.clean)}"},
        annotation_position="top",
    )
    levels = f"{counts.pop()} severity levels" if len(counts) == 1 else "severity levels"
    title = (
        f"{_metric_name(info).capitalize()} averaged over each curve's {levels}, worst first"
        + ("<br><sub>attacks in orange; ◆ at severity " + f"{MIDDLE_SEVERITY}</sub>")
    )
    layout = _layout(title, len(rows) * BAR_ROW_PX + 170)
    layout["margin"] = {"l": 170, "r": 30, "t": 90, "b": 50}
    layout["xaxis"] = {
        "title": {"text": f"{_metric_title(info, unit)}, mean over the severity levels"},
        **({"range": [0, 1.02], "tickformat": ".0%"} if accuracy else {"rangemode": "tozero"}),
    }
    layout["yaxis"] = {"autorange": "reversed", "title": {"text": "corruption or attack"}}
    _legend_below(layout, 2)
    figure.update_layout(**layout)
    return figure


def _metric_name(info: RobustnessInfo) -> str:
    return "accuracy" if info.metric == "accuracy" else escaped(info.metric.replace("_", " "))


# ---------------------------------------------------------------------------------------------
# Samples


def _sample_kind(x: np.ndarray, kind: str | None, feature_names) -> str:
    """``"image"``, ``"series"`` or ``"vector"`` for a continuous sample, else InputError.

    Without ``kind``, a 3-D array is an image and a 2-D one a series when it has feature names,
    else a greyscale image.
    """
    if x.dtype.kind not in "biuf":
        raise InputError(f"Expected a sample of numbers. Received: {x.dtype} values.")
    if kind is None:
        if x.ndim == 1 and x.dtype.kind in "iub":
            raise InputError(
                f"Expected an image (height, width[, channels]) or a series (steps, features). "
                f"Received: {x.dtype} values of shape {x.shape}, which look like token ids: "
                "adversarial examples need continuous inputs; text models get token "
                "perturbations instead (mask or delete tokens)."
            )
        kinds = {3: "image", 2: "series" if feature_names is not None else "image", 1: "vector"}
        if x.ndim not in kinds:
            raise InputError(
                f"Expected an image (height, width[, channels]) or a series (steps, features). "
                f"Received: an array of shape {x.shape}."
            )
        kind = kinds[x.ndim]
    if kind == "image" and not (x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (1, 3, 4))):
        raise InputError(
            f"Expected an image of shape (height, width[, 1, 3 or 4 channels]). Received: "
            f"{x.shape}."
        )
    if kind == "series" and x.ndim != 2:
        raise InputError(f"Expected a series of shape (steps, features). Received: {x.shape}.")
    if kind == "vector" and x.ndim != 1:
        raise InputError(f"Expected a feature vector of shape (features,). Received: {x.shape}.")
    return kind


def _series_figure(
    reference: np.ndarray | None,
    current: np.ndarray,
    *,
    feature_names,
    reference_name: str,
    current_name: str,
    title: str,
    adversarial: bool,
    feature_units: Sequence[str] | None = None,
    feature_epsilon: np.ndarray | None = None,
) -> go.Figure:
    """One panel per feature (up to :data:`MAX_FEATURE_PANELS`), two columns.

    ``adversarial``: ``reference`` solid, ``current`` dashed, the gap between them shaded.
    Otherwise ``current`` solid in front of ``reference`` in light grey. Each panel's y axis is
    titled with the feature's unit when known; with ``feature_epsilon`` each panel title gives
    the feature's budget (or says it is fixed).
    """
    steps, num_features = current.shape
    names = _feature_names(feature_names, num_features)
    units = _feature_units(feature_units, num_features)
    titles = list(names)
    if feature_epsilon is not None:
        epsilon = _feature_epsilon(feature_epsilon, num_features)
        titles = [
            f"{name}: fixed" if eps == 0 else f"{name}: ε {eps:.3g}{' ' + unit if unit else ''}"
            for name, unit, eps in zip(names, units, epsilon, strict=True)
        ]
    shown = min(num_features, MAX_FEATURE_PANELS)
    if shown < num_features:
        title += f" (first {shown} of {num_features} features)"
    columns = 1 if shown == 1 else 2
    rows = math.ceil(shown / columns)
    height = rows * SERIES_ROW_PX + 120
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles[:shown],
        horizontal_spacing=0.1,
        vertical_spacing=min(0.25, 70 / height) if rows > 1 else 0.0,
        shared_xaxes=True,
    )
    time = np.arange(steps)
    for feature in range(shown):
        row, column = divmod(feature, columns)
        cell = {"row": row + 1, "col": column + 1}
        name = names[feature]
        now = current[:, feature].astype(np.float64)
        if reference is not None:
            before = reference[:, feature].astype(np.float64)
            figure.add_trace(
                go.Scatter(
                    x=time,
                    y=before,
                    mode="lines",
                    line={
                        "color": ORIGINAL_COLOR if adversarial else BACKGROUND_SERIES_COLOR,
                        "width": 2 if adversarial else 3,
                    },
                    name=reference_name,
                    legendgroup="reference",
                    showlegend=feature == 0,
                    hovertemplate=f"step %{{x}}<br>{name}, {reference_name}: %{{y:.4g}}<extra></extra>",
                ),
                **cell,
            )
        delta = now - before if reference is not None else np.zeros_like(now)
        figure.add_trace(
            go.Scatter(
                x=time,
                y=now,
                customdata=delta,
                mode="lines",
                line={
                    "color": CHANGED_COLOR if adversarial else ORIGINAL_COLOR,
                    "width": 2,
                    "dash": "dash" if adversarial else "solid",
                },
                fill="tonexty" if adversarial and reference is not None else None,
                fillcolor=rgba(CHANGED_COLOR, 0.25),
                name=current_name,
                legendgroup="current",
                showlegend=feature == 0,
                hovertemplate=(
                    f"step %{{x}}<br>{name}, {current_name}: %{{y:.4g}}"
                    + ("<br>change %{customdata:+.3g}" if reference is not None else "")
                    + "<extra></extra>"
                ),
            ),
            **cell,
        )
        figure.update_yaxes(title={"text": units[feature] or "value"}, **cell)
        if row == rows - 1 or feature + columns >= shown:
            figure.update_xaxes(title={"text": "time step"}, showticklabels=True, **cell)
    layout = _layout(title, height)
    layout["margin"] = {"l": 60, "r": 20, "t": 70, "b": 50}
    figure.update_layout(**_legend_below(layout, 2))
    figure.update_annotations(font={"size": 13})
    return figure


def _vector_figure(
    reference: np.ndarray | None,
    current: np.ndarray,
    *,
    feature_names,
    reference_name: str,
    current_name: str,
    title: str,
) -> go.Figure:
    """Feature vectors: grouped bars, the reference (when given) beside the current values."""
    names = _feature_names(feature_names, len(current))
    figure = go.Figure()
    if reference is not None:
        figure.add_trace(
            go.Bar(
                x=names,
                y=reference.astype(np.float64),
                name=reference_name,
                marker={"color": ORIGINAL_COLOR},
                hovertemplate=f"%{{x}}<br>{reference_name}: %{{y:.4g}}<extra></extra>",
            )
        )
    delta = current - reference if reference is not None else np.zeros(len(current))
    figure.add_trace(
        go.Bar(
            x=names,
            y=current.astype(np.float64),
            customdata=delta.astype(np.float64),
            name=current_name,
            marker={"color": CHANGED_COLOR if reference is not None else ORIGINAL_COLOR},
            hovertemplate=(
                f"%{{x}}<br>{current_name}: %{{y:.4g}}"
                + ("<br>change %{customdata:+.3g}" if reference is not None else "")
                + "<extra></extra>"
            ),
        )
    )
    figure.update_layout(**_layout(title, 340, barmode="group", yaxis={"title": {"text": "value"}}))
    return figure


def plot_adversarial_example(
    x: np.ndarray,
    x_adv: np.ndarray,
    *,
    value_range: tuple[float, float],
    labels: tuple[str, str] = ("original", "adversarial"),
    amplification: float | None = None,
    feature_names: Sequence[str] | None = None,
    kind: str | None = None,
    feature_epsilon: np.ndarray | None = None,
    feature_units: Sequence[str] | None = None,
) -> go.Figure:
    """One sample, its adversarial version and the perturbation between them.

    Images ``(H, W[, C])``: three panels, the original, the perturbation ``x_adv - x`` and the
    adversarial image. The perturbation is drawn around mid-grey: 0 is grey, and with the default
    amplification ``+max|δ|`` is white and ``-max|δ|`` black (per channel for colour images). Its
    title gives the amplification (how many times the perturbation is magnified on the value
    range's scale) and the L∞ norm of ``δ`` in input units.

    Series ``(T, F)``: one panel per feature (up to :data:`MAX_FEATURE_PANELS`), the original solid,
    the adversarial dashed and the gap shaded. A 2-D array is a series when ``feature_names`` is
    given or ``kind="series"``, else a greyscale image. Feature vectors ``(F,)`` get grouped bars.

    Args:
        x: the original sample, in input units.
        x_adv: the adversarial sample (``AdversarialInfo.x_adv[i]``).
        value_range: the bounds of the inputs (``AdversarialInfo.value_range``): black..white.
        labels: names of the two samples.
        amplification: the magnification of the drawn perturbation; default the one that maps
            ``max|δ|`` to the ends of the scale.
        feature_names: names of a series' features.
        kind: ``"image"`` or ``"series"`` to settle a 2-D sample; default guessed as above.
        feature_epsilon: ``(F,)`` each feature's budget (``AdversarialInfo.epsilon`` of a
            per-feature attack on a series or a feature vector): the title then speaks of each
            feature's ε, not of one L∞ over features of different units, and each panel gives
            its feature's ε (or "fixed" where it is 0).
        feature_units: the unit of each feature ('' where none), for the value axes.

    Returns:
        The figure.

    Raises:
        InputError: samples of different shapes, token ids or other ranks, a bad value range or
            amplification.
    """
    x, x_adv = np.asarray(x), np.asarray(x_adv)
    _same_shape(x, x_adv, "an adversarial sample")
    bounds = _bounds(value_range)
    if kind not in (None, "image", "series"):
        raise InputError(f"Expected kind 'image', 'series' or None. Received: {kind!r}.")
    drawn = _sample_kind(x, kind, feature_names)
    delta = x_adv.astype(np.float64) - x.astype(np.float64)
    linf = float(np.abs(delta).max()) if delta.size else 0.0
    original_name, adversarial_name = (escaped(label) for label in labels)
    title = (
        f"Adversarial example: L∞ {linf:.3g} in input units "
        f"({linf / _span(bounds):.1%} of the range)"
    )
    if feature_epsilon is not None:
        if drawn == "image":
            raise InputError(
                "Expected feature_epsilon only for a series or a feature vector. Received: an "
                "image; images take one ε in input units."
            )
        epsilon = _feature_epsilon(feature_epsilon, x.shape[-1])
        fixed = int(np.sum(epsilon == 0))
        title = "Adversarial example: each feature moved by at most its own ε" + (
            f", {fixed} fixed" if fixed else ""
        )
    if drawn == "series":
        return _series_figure(
            x,
            x_adv,
            feature_names=feature_names,
            reference_name=original_name,
            current_name=adversarial_name,
            title=title,
            adversarial=True,
            feature_units=feature_units,
            feature_epsilon=feature_epsilon,
        )
    if drawn == "vector":
        return _vector_figure(
            x,
            x_adv,
            feature_names=feature_names,
            reference_name=original_name,
            current_name=adversarial_name,
            title=title,
        )
    if amplification is None:
        amplification = _span(bounds) / (2 * linf) if linf > 0 else 1.0
    elif not (np.isfinite(amplification) and amplification > 0):
        raise InputError(f"Expected a positive amplification. Received: {amplification!r}.")
    shown_delta = np.clip(0.5 + delta * float(amplification) / _span(bounds), 0.0, 1.0)
    perturbation_title = (
        f"perturbation ×{amplification:.3g}, L∞ {linf:.3g}" if linf > 0 else "no perturbation"
    )
    figure = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=(original_name, perturbation_title, adversarial_name),
        horizontal_spacing=0.03,
    )
    pictures = (
        _pixels(x, bounds),
        _display_uint8(shown_delta[None])[0],
        _pixels(x_adv, bounds),
    )
    height, width = pictures[0].shape[:2]
    hover = None
    if height * width <= HOVER_MAX_PIXELS:
        hover = _pixel_texts(
            height,
            width,
            [
                (original_name, x.reshape(height, width, -1)),
                ("change", delta.reshape(height, width, -1)),
                (adversarial_name, x_adv.reshape(height, width, -1)),
            ],
        )
    for column, picture in enumerate(pictures, start=1):
        figure.add_trace(
            _image(picture, hoverinfo="skip", name=f"panel {column}"), row=1, col=column
        )
        if hover is not None:
            figure.add_trace(_pixel_hover(hover), row=1, col=column)
        _picture_axes(figure, row=1, col=column)
        figure.update_yaxes(scaleanchor=f"x{column if column > 1 else ''}", row=1, col=column)
    figure.update_layout(
        **_layout(
            title,
            int(IMAGE_PANEL_PX * height / width) + 80,
            showlegend=False,
            margin={"l": 10, "r": 10, "t": 70, "b": 10},
        )
    )
    figure.update_annotations(font={"size": 13})
    return figure


# ---------------------------------------------------------------------------------------------
# Predictions


def plot_prediction_change(
    label_names: Sequence[str] | None,
    before: np.ndarray,
    after: np.ndarray,
    *,
    names: tuple[str, str] = ("original", "perturbed"),
    top: int = 10,
) -> go.Figure:
    """Class probabilities before and after a perturbation, as grouped horizontal bars.

    The ``top`` classes by ``max(before, after)`` are drawn, largest first (each side's predicted
    class always among them). The predicted class of each side has a star on its bar and a bold
    label. A regression output (one value each) gets two vertical bars with the values; a single
    sigmoid probability with two class names is drawn as both classes' probabilities.

    Args:
        label_names: class names (or ``None`` / empty for ``class k``); for a regression output
            the name of the predicted quantity, if any.
        before: ``(K,)`` the outputs for the original sample.
        after: ``(K,)`` the outputs for the perturbed sample.
        names: what ``before`` and ``after`` are.
        top: classes drawn at most.

    Returns:
        The figure.

    Raises:
        InputError: outputs of different lengths, names that do not fit, ``top < 1``.
    """
    before = np.asarray(before, dtype=np.float64).ravel()
    after = np.asarray(after, dtype=np.float64).ravel()
    if before.shape != after.shape or before.size == 0:
        raise InputError(
            f"Expected two output vectors of the same length. Received: {before.size} and "
            f"{after.size} values."
        )
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InputError(f"Expected top of at least 1. Received: {top!r}.")
    label_names = [] if label_names is None else [str(name) for name in label_names]
    before_name, after_name = (escaped(name) for name in names)
    if before.size == 1 and len(label_names) == 2 and 0 <= min(before[0], after[0]) <= 1:
        # A sigmoid output with two class names is the second class's probability.
        before, after = np.array([1 - before[0], before[0]]), np.array([1 - after[0], after[0]])
    if before.size == 1:
        return _regression_change(label_names, float(before[0]), float(after[0]), names)
    if label_names and len(label_names) != before.size:
        raise InputError(
            f"Expected {before.size} class names. Received: {len(label_names)}. Pass the sample "
            "set's label names."
        )
    classes = [escaped(n) for n in label_names] or [f"class {k}" for k in range(before.size)]
    predicted = (int(np.argmax(before)), int(np.argmax(after)))
    order = [int(k) for k in np.argsort(-np.maximum(before, after), kind="stable")[:top]]
    order += [k for k in dict.fromkeys(predicted) if k not in order]
    ticks = [f"<b>{classes[k]}</b>" if k in predicted else classes[k] for k in order]
    figure = go.Figure()
    for side, (values, name, color) in enumerate(
        ((before, before_name, ORIGINAL_COLOR), (after, after_name, CHANGED_COLOR))
    ):
        figure.add_trace(
            go.Bar(
                x=values[order],
                y=ticks,
                orientation="h",
                name=name,
                marker={"color": color},
                text=[
                    f"{values[k]:.1%} {STAR}" if k == predicted[side] else f"{values[k]:.1%}"
                    for k in order
                ],
                textposition="outside",
                customdata=[classes[k] for k in order],
                hovertemplate=f"%{{customdata}}<br>{name}: %{{x:.2%}}<extra></extra>",
            )
        )
    changed = predicted[0] != predicted[1]
    title = (
        f"Prediction: {classes[predicted[0]]} ({before[predicted[0]]:.0%}) → "
        f"{classes[predicted[1]]} ({after[predicted[1]]:.0%})" + (", changed" if changed else "")
    )
    probabilities = bool(
        before.min() >= 0 and after.min() >= 0 and max(before.max(), after.max()) <= 1
    )
    layout = _layout(title, len(order) * 2 * 16 + 150, barmode="group")
    layout["margin"] = {"l": 110, "r": 30, "t": 80, "b": 50}
    layout["xaxis"] = {
        "title": {"text": f"probability ({STAR} = predicted class)"},
        **({"range": [0, 1.15], "tickformat": ".0%"} if probabilities else {}),
    }
    layout["yaxis"] = {"autorange": "reversed", "title": {"text": "class"}}
    figure.update_layout(**layout)
    return figure


def _regression_change(
    label_names: list[str], before: float, after: float, names: tuple[str, str]
) -> go.Figure:
    quantity = escaped(label_names[0]) if label_names else ""
    sides = [escaped(name) for name in names]
    figure = go.Figure(
        go.Bar(
            x=sides,
            y=[before, after],
            marker={"color": [ORIGINAL_COLOR, CHANGED_COLOR]},
            text=[_number(before), _number(after)],
            # Outside the bar, never clipped: a bar near 0 has no room inside for its value.
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:.4g}<extra></extra>",
            name="prediction",
        )
    )
    title = f"Prediction: {_number(before)} → {_number(after)} ({after - before:+.3g})"
    low, high = min(before, after, 0.0), max(before, after, 0.0)
    pad = 0.15 * (high - low or 1.0)
    layout = _layout(title, 320, showlegend=False)
    layout["yaxis"] = {
        "title": {"text": f"predicted {quantity}" if quantity else "prediction"},
        "range": [low - (pad if low < 0 else 0.0), high + (pad if high > 0 else 0.0)],
    }
    layout["xaxis"] = {"title": {"text": "input"}}
    figure.update_layout(**layout)
    return figure


# ---------------------------------------------------------------------------------------------
# The perturbed sample


def _word(vocabulary, token) -> str:
    if isinstance(token, str):
        return token
    token = int(token)
    if vocabulary is not None and 0 <= token < len(vocabulary):
        return str(vocabulary[token])
    return str(token) if vocabulary is None else f"<{token}>"


def _token_figure(tokens: np.ndarray, original: np.ndarray | None, vocabulary) -> go.Figure:
    """A wrapped row of words, the positions that differ from ``original`` highlighted."""
    if tokens.dtype.kind in "US":
        present = tokens != ""
        other_present = original != "" if original is not None else present
    else:
        present = tokens != PADDING_ID
        other_present = original != PADDING_ID if original is not None else present
    keep = present | other_present
    if not keep.any():
        keep = np.ones(len(tokens), dtype=bool)
    # Trailing padding is left out, padding inside the sentence is kept (it is what the model sees).
    last = int(np.flatnonzero(keep)[-1])
    positions = np.arange(last + 1)
    changed = (
        tokens[positions] != original[positions]
        if original is not None
        else np.zeros(len(positions), dtype=bool)
    )
    rows = math.ceil(len(positions) / TOKENS_PER_ROW)
    z = np.full((rows, TOKENS_PER_ROW), np.nan)
    text = np.full((rows, TOKENS_PER_ROW), "", dtype=object)
    hover = np.full((rows, TOKENS_PER_ROW), "", dtype=object)
    custom = np.full((rows, TOKENS_PER_ROW), -1, dtype=np.int64)
    for slot, position in enumerate(positions):
        row, column = divmod(slot, TOKENS_PER_ROW)
        word = escaped(_word(vocabulary, tokens[position]))
        z[row, column] = 1.0 if changed[slot] else 0.0
        text[row, column] = word
        custom[row, column] = position
        hover[row, column] = f"position {position}: {word}"
        if changed[slot]:
            hover[row, column] += f"<br>was: {escaped(_word(vocabulary, original[position]))}"
    figure = go.Figure(
        go.Heatmap(
            z=z,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 13},
            hovertext=hover,
            hoverinfo="text",
            hoverongaps=False,
            customdata=custom,
            colorscale=[[0.0, UNCHANGED_TOKEN_COLOR], [1.0, rgba(CHANGED_COLOR, 0.45)]],
            zmin=0.0,
            zmax=1.0,
            showscale=False,
            xgap=3,
            ygap=3,
            name="tokens",
        )
    )
    if original is not None:
        title = f"Perturbed input: {int(changed.sum())} of {len(positions)} tokens changed"
        if changed.any():
            title += " (highlighted)"
    else:
        title = f"Input: {len(positions)} tokens"
    layout = _layout(title, rows * TOKEN_ROW_PX + 90, showlegend=False)
    layout["height"] = int(np.clip(rows * TOKEN_ROW_PX + 90, 130, MAX_HEIGHT_PX))
    layout["margin"] = {"l": 10, "r": 10, "t": 50, "b": 10}
    layout["xaxis"] = {"visible": False}
    layout["yaxis"] = {"visible": False, "autorange": "reversed"}
    figure.update_layout(**layout)
    return figure


def plot_perturbed_input(
    x: np.ndarray,
    *,
    value_range: tuple[float, float] | None,
    kind: str,
    vocabulary: Sequence[str] | np.ndarray | None = None,
    original: np.ndarray | None = None,
    feature_names: Sequence[str] | None = None,
    feature_units: Sequence[str] | None = None,
) -> go.Figure:
    """The perturbed sample as the page shows it next to the live prediction.

    Args:
        x: one sample: an image ``(H, W[, C])``, a series ``(T, F)``, a feature vector ``(F,)``,
            or token ids ``(T,)`` (or words).
        value_range: the bounds of the inputs, drawn black..white for images (unused for text).
        kind: ``"image"``, ``"series"``, ``"text"``, or ``"array"`` (series or feature vector by
            rank, as sample sets name them).
        vocabulary: token id -> word, for text.
        original: the unperturbed sample: drawn in light grey behind a series, and for text the
            tokens that differ from it are highlighted (hover gives the original word).
        feature_names: names of a series' features.
        feature_units: their units ('' where none), for each panel's value axis.

    Returns:
        An image with per-pixel hover (values, and the change when ``original`` is given); one
        panel per feature for series; a row of words (wrapped every :data:`TOKENS_PER_ROW`) for
        text.

    Raises:
        InputError: an unknown kind, a sample whose shape does not fit it, an ``original`` of
            another shape.
    """
    if kind not in INPUT_KINDS:
        raise InputError(f"Expected kind in {INPUT_KINDS}. Received: {kind!r}.")
    x = np.asarray(x)
    if original is not None:
        original = np.asarray(original)
        _same_shape(x, original, "the original")
    if kind == "text":
        if x.ndim != 1 or x.dtype.kind not in "iuUS":
            raise InputError(
                f"Expected one text sample as token ids (steps,). Received: {x.dtype} values of "
                f"shape {x.shape}."
            )
        return _token_figure(x, original, vocabulary)
    if kind == "array":
        kind = "series" if x.ndim == 2 else "vector" if x.ndim == 1 else "image"
    bounds = _bounds(value_range) if kind == "image" else None
    if kind == "series" and x.ndim == 1:
        x = x[:, None]
        original = original[:, None] if original is not None else None
    drawn = _sample_kind(x, kind, feature_names)
    if drawn == "vector":
        return _vector_figure(
            original,
            x,
            feature_names=feature_names,
            reference_name="original",
            current_name="perturbed",
            title="Perturbed input",
        )
    if drawn == "series":
        return _series_figure(
            original,
            x,
            feature_names=feature_names,
            reference_name="original",
            current_name="perturbed",
            title="Perturbed input" + (" (original in grey)" if original is not None else ""),
            adversarial=False,
            feature_units=feature_units,
        )
    picture = _pixels(x, bounds)
    height, width = picture.shape[:2]
    figure = go.Figure(_image(picture, hoverinfo="skip", name="input"))
    if height * width <= HOVER_MAX_PIXELS:
        values = [("value", x.reshape(height, width, -1))]
        if original is not None:
            change = x.astype(np.float64) - original.astype(np.float64)
            values.append(("change", change.reshape(height, width, -1)))
        figure.add_trace(_pixel_hover(_pixel_texts(height, width, values)))
    title = "Perturbed input"
    if original is not None:
        linf = float(np.abs(x.astype(np.float64) - original.astype(np.float64)).max())
        title += f": L∞ change {linf:.3g} in input units"
    figure.update_layout(**_layout(title, 340, showlegend=False))
    figure.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10})
    _picture_axes(figure)
    return figure


# ---------------------------------------------------------------------------------------------
# Tables behind the charts: what a chart's CSV download and the page's tables hold.


def prediction_change_table(
    class_names: Sequence[str],
    before: np.ndarray,
    after: np.ndarray,
    names: tuple[str, str] = ("original", "perturbed"),
) -> pd.DataFrame:
    """The model's outputs for two versions of a sample, one row per class (``output k`` when
    ``class_names`` does not name every output), as ``plot_prediction_change`` draws them."""
    before, after = np.ravel(before), np.ravel(after)
    classes = list(class_names)
    if len(classes) != len(before):
        classes = [f"output {k}" for k in range(len(before))]
    return pd.DataFrame({"class": classes, names[0]: before, names[1]: after})


def robustness_curves_table(info: RobustnessInfo) -> pd.DataFrame:
    """One row per curve and strength: the metric there (the data of the curves' panels)."""
    return pd.concat(
        [
            pd.DataFrame({"curve": name, "kind": kind, "strength": strengths, info.metric: values})
            for name, kind in zip(info.names, info.kinds, strict=True)
            for strengths, values in [info.curve_values(name)]
        ],
        ignore_index=True,
    )


def robustness_overview_table(info: RobustnessInfo) -> pd.DataFrame:
    """The ranked summary, worst first, with readable headers: every level with its unit, the
    metric averaged over the levels (what the overview draws), its middle level and where the
    metric first falls below :data:`DROP_THRESHOLD` of clean."""
    metric = info.metric.replace("_", " ")
    rows = info.summary_rows()
    return pd.DataFrame(
        {
            "corruption": [row["corruption"].replace("_", " ") for row in rows],
            "kind": [row["kind"] for row in rows],
            f"severity levels 1–{NUM_SEVERITIES}": [row["levels"] for row in rows],
            f"{metric} averaged over the levels": [row["mean"] for row in rows],
            "change from clean": [row["mean_change"] for row in rows],
            f"severity {MIDDLE_SEVERITY}": [row["middle"] for row in rows],
            f"{metric} at severity {MIDDLE_SEVERITY}": [row["at_middle"] for row in rows],
            f"below {DROP_THRESHOLD:.0%} of clean from": [
                row["breaks_at"] or "never" for row in rows
            ],
        }
    )


def adversarial_budget_table(
    single: AdversarialInfo,
    batch: AdversarialInfo | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    feature_units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per feature of a per-feature attack: its observed range, its ε, the largest change the
    attack made on the sample (and on the batch), and whether it is fixed (ε = 0).

    Args:
        single: the attack on one sample (``value_range`` and ``epsilon`` per feature).
        batch: the same attack on a batch, or None.
        feature_names: the features' names (``feature k`` without).
        feature_units: each feature's unit (``''`` for none; all empty without, or when they
            do not name every feature).
    """
    low, high = np.asarray(single.value_range, dtype=np.float64)
    epsilon = np.asarray(single.epsilon, dtype=np.float64)
    count = len(low)
    units = [str(unit) for unit in feature_units] if feature_units is not None else []
    table = {
        "feature": list(feature_names) if feature_names else [f"feature {k}" for k in range(count)],
        "unit": units if len(units) == count else [""] * count,
        "low": low,
        "high": high,
        "ε": epsilon,
        "change (this sample)": single.feature_linf,
    }
    if batch is not None:
        table["largest change (batch)"] = batch.feature_linf
    table["fixed"] = epsilon == 0
    return pd.DataFrame(table)

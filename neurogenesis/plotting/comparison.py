"""Comparison figures: the complexity radar, the aligned diff, trade-offs and side-by-side costs.

Drawing only: no TensorFlow, no Streamlit. Names that came from model files are escaped before
they reach a figure, so plotly shows them as text, never as markup.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.comparison import (
    AXES,
    STATUSES,
    ComplexityProfile,
    DiffInfo,
    DiffRow,
    TradeoffInfo,
    align_models,
    diff_table,
)
from neurogenesis.plotting.architecture import human
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, escaped, rgba

__all__ = [
    "AXIS_LABELS",
    "REFERENCE",
    "STATUS_COLORS",
    "architecture_diff_table",
    "complexity_table",
    "diff_table",
    "plot_architecture_diff",
    "plot_complexity_radar",
    "plot_side_by_side_costs",
    "plot_tradeoff",
    "radar_radii",
]

AXIS_LABELS = {
    "layers": "layers",
    "parameters": "parameters",
    "compute": "compute (MACs)",
    "memory": "memory",
    "depth": "depth",
    "width": "width",
}
# A single model is drawn against a model most readers know: Keras's ResNet-50, measured with
# ``model_complexity(keras.applications.ResNet50(weights=None))``.
REFERENCE = ComplexityProfile(
    name="ResNet-50",
    num_layers=176,
    num_params=25_636_712,
    macs=3_857_973_248,
    memory_bytes=250_425_584,
    depth=168,
    width=2048,
)
REFERENCE_COLOR = "#6B7280"
MAX_DECADES = 8
# Okabe-Ito: bluish green, vermillion and orange stay apart for the common colour blindnesses;
# grey recedes.
STATUS_COLORS = {
    "same": "#A0A0A0",
    "changed": PALETTE[1],
    "added": PALETTE[2],
    "removed": PALETTE[5],
}
# Runs of unchanged rows longer than this fold into one row, keeping their first and last layers.
MAX_SAME_RUN = 4
ROW_HEIGHT = 24


def _signed(value: int | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:+,}"


def _axis_text(axis: str, value: int | None) -> str:
    """What a reader sees on hover: the true value with its unit."""
    if value is None:
        return f"{axis} unknown (no graph to count)"
    if axis == "layers":
        return f"{value:,} layers"
    if axis == "parameters":
        return f"{human(value)} parameters"
    if axis == "compute":
        return f"{human(value)} MACs per sample"
    if axis == "memory":
        return f"{human(value, 'B')} memory (weights + one sample's activations)"
    if axis == "depth":
        return f"{value:,} layers deep"
    return f"{value:,} channels or units in the widest layer"


def _edge_text(axis: str, value: float) -> str:
    if axis == "memory":
        return human(value, "B")
    if axis in ("parameters", "compute"):
        return human(value)
    return f"{value:,.0f}"


def radar_radii(
    profiles: Sequence[ComplexityProfile],
) -> tuple[list[list[float]], dict[str, float], int]:
    """Each profile's radius on each axis, each axis's edge value, and the number of rings.

    Every axis is logarithmic with the same ring spacing: one ring per factor of ten. The edge of an
    axis is the power of ten at or above its largest value; the rings reach down to the decade of
    the smallest value on any axis (at most ``MAX_DECADES``), so the smallest values sit near the
    centre and a reader can count rings ("two rings in from 100 k is 1 k").

    Args:
        profiles: the models (a reference model included, if one is drawn).

    Returns:
        ``(radii, edges, decades)``: one list of radii in ``[0, 1]`` (in the order of ``AXES``) per
        profile, ``{axis: edge value}``, and the number of rings. An unknown or zero value has
        radius 0.
    """
    columns = list(zip(*(profile.axis_values() for profile in profiles), strict=True))
    edges: dict[str, float] = {}
    decades = 1
    for axis, values in zip(AXES, columns, strict=True):
        positive = [float(value) for value in values if value]
        if not positive:
            edges[axis] = 10.0
            continue
        top = max(1, math.ceil(math.log10(max(positive)) - 1e-9))
        edges[axis] = 10.0**top
        decades = max(decades, top - math.floor(math.log10(min(positive))))
    decades = min(decades, MAX_DECADES)
    radii = [
        [
            max(0.0, 1 - (math.log10(edges[axis]) - math.log10(value)) / decades) if value else 0.0
            for axis, value in zip(AXES, profile.axis_values(), strict=True)
        ]
        for profile in profiles
    ]
    return radii, edges, decades


def _display_names(names: Sequence[str]) -> list[str]:
    """Model names, numbered where two are the same (width 8 and width 16 of one builder)."""
    seen: dict[str, int] = {}
    shown = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        shown.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return shown


def plot_complexity_radar(
    profiles: Sequence[ComplexityProfile],
    *,
    names: Sequence[str] | None = None,
    reference: ComplexityProfile | None = REFERENCE,
) -> go.Figure:
    """One polygon per model on the six complexity axes, all on log scales, one ring per ×10.

    The axes span orders of magnitude (a handful of layers, millions of parameters), so each is
    logarithmic; every ring is a factor of ten and each axis is labelled with its edge value. A
    single model is drawn beside a dotted reference (ResNet-50 by default) so its size means
    something; hover shows every true value ("25.6 M parameters").

    Args:
        profiles: one :class:`ComplexityProfile` per model, at least one.
        names: legend names, one per profile (default: the models' names, numbered if repeated).
        reference: the profile drawn dotted beside a single model; None for none. It is not drawn
            beside several models, which are each other's reference.

    Raises:
        ValueError: no profiles, or a different number of names.
    """
    if not profiles:
        raise ValueError("Expected at least one complexity profile. Received none.")
    names = _display_names([profile.name for profile in profiles] if names is None else names)
    if len(names) != len(profiles):
        raise ValueError(f"Expected {len(profiles)} names. Received {len(names)}.")
    drawn = list(profiles)
    labels = list(names)
    with_reference = len(profiles) == 1 and reference is not None
    if with_reference:
        drawn.append(reference)
        labels.append(f"{reference.name} (reference)")
    radii, edges, decades = radar_radii(drawn)
    theta = [
        f"{AXIS_LABELS[axis]}<br><sub>edge {_edge_text(axis, edges[axis])}</sub>" for axis in AXES
    ]
    figure = go.Figure()
    for position, (profile, name, row) in enumerate(zip(drawn, labels, radii, strict=True)):
        is_reference = with_reference and position == len(drawn) - 1
        color = REFERENCE_COLOR if is_reference else color_for(position)
        hover = [
            _axis_text(axis, value) for axis, value in zip(AXES, profile.axis_values(), strict=True)
        ]
        figure.add_trace(
            go.Scatterpolar(
                # The first point again closes the polygon.
                r=[*row, row[0]],
                theta=[*theta, theta[0]],
                mode="lines+markers",
                fill="none" if is_reference else "toself",
                fillcolor=rgba(color, 0.12),
                line={"color": color, "width": 2, "dash": "dot" if is_reference else "solid"},
                marker={"color": color, "size": 7},
                name=escaped(name),
                customdata=[*hover, hover[0]],
                hovertemplate=f"<b>{escaped(name)}</b><br>%{{customdata}}<extra></extra>",
            )
        )
    subject = escaped(names[0]) if len(profiles) == 1 else f"{len(profiles)} models"
    layout = base_layout(f"Complexity of {subject}<br><sub>log scales: each ring is ×10</sub>")
    layout["hovermode"] = "closest"
    layout["margin"] = {"l": 80, "r": 80, "t": 110, "b": 50}
    figure.update_layout(
        **layout,
        polar={
            "radialaxis": {
                "range": [0, 1.0],
                "tickvals": [ring / decades for ring in range(1, decades + 1)],
                "showticklabels": False,
                "showline": False,
                "ticks": "",
                "gridcolor": "#E5E7EB",
            },
            "angularaxis": {"direction": "clockwise", "rotation": 90},
        },
        height=520,
        showlegend=True,
    )
    return figure


# --- The diff -------------------------------------------------------------------------------------


def _row_label(row: DiffRow) -> str:
    if row.status == "added":
        return f"+ {escaped(row.layer_b)} ({escaped(row.class_name)})"
    if row.status == "removed":
        return f"− {escaped(row.layer_a)} ({escaped(row.class_name)})"
    if row.layer_a != row.layer_b:
        return f"{escaped(row.layer_a)} → {escaped(row.layer_b)} ({escaped(row.class_name)})"
    return f"{escaped(row.layer_a)} ({escaped(row.class_name)})"


def _shape(shape) -> str:
    if shape and all(isinstance(item, tuple) for item in shape):
        return ", ".join(_shape(item) for item in shape)
    return "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + ")"


def _row_hover(row: DiffRow) -> str:
    lines = [f"<b>{row.status}</b> · {escaped(row.class_name)}"]
    if row.layer_a is not None:
        lines.append(
            f"A: {escaped(row.layer_a)} · output {_shape(row.output_shape_a)} · "
            f"{row.num_params_a:,} parameters · {human(row.macs_a)} MACs"
        )
    if row.layer_b is not None:
        lines.append(
            f"B: {escaped(row.layer_b)} · output {_shape(row.output_shape_b)} · "
            f"{row.num_params_b:,} parameters · {human(row.macs_b)} MACs"
        )
    lines += [escaped(change) for change in row.changes]
    lines.append(f"Δ parameters {_signed(row.delta_params)} · Δ MACs {_signed(row.delta_macs)}")
    return "<br>".join(lines)


def _displayed_rows(
    rows: Sequence[DiffRow], collapse_same: bool
) -> list[tuple[str, str, str, int]]:
    """``(status, label, hover, index in rows)`` per displayed row; index -1 for a folded run."""
    shown: list[tuple[str, str, str, int]] = []
    index = 0
    while index < len(rows):
        end = index
        while end < len(rows) and rows[end].status == "same":
            end += 1
        run = end - index
        if collapse_same and run > MAX_SAME_RUN:
            folded = rows[index + 1 : end - 1]
            first, last = folded[0], folded[-1]
            shown.append(("same", _row_label(rows[index]), _row_hover(rows[index]), index))
            shown.append(
                (
                    "same",
                    f"⋯ {len(folded)} unchanged layers",
                    f"<b>{len(folded)} unchanged layers</b><br>{escaped(first.layer_a)} … "
                    f"{escaped(last.layer_a)}",
                    -1,
                )
            )
            shown.append(("same", _row_label(rows[end - 1]), _row_hover(rows[end - 1]), end - 1))
            index = end
            continue
        if run == 0:
            end = index + 1
        for position in range(index, end):
            row = rows[position]
            shown.append((row.status, _row_label(row), _row_hover(row), position))
        index = end
    return shown


def plot_architecture_diff(
    diff: DiffInfo, *, delta: str = "num_params", collapse_same: bool = True
) -> go.Figure:
    """The two architectures aligned row by row, coloured by status, with each row's cost delta.

    A narrow column of squares gives each row's status (added green, removed vermillion, changed
    orange, same grey); bars beside it show how many parameters (or MACs) the row adds or removes.
    Runs of more than ``MAX_SAME_RUN`` unchanged rows fold into "⋯ N unchanged layers", so a
    175-layer model that barely changed stays short; otherwise the figure grows with the rows.

    Args:
        diff: a ``DiffInfo`` from ``architecture_diff``.
        delta: "num_params" or "macs": what the bars measure.
        collapse_same: fold long runs of unchanged rows.

    Raises:
        ValueError: an unknown ``delta``.
    """
    if delta not in ("num_params", "macs"):
        raise ValueError(f"Expected delta 'num_params' or 'macs'. Received: {delta!r}")
    shown = _displayed_rows(diff.rows, collapse_same)
    figure = make_subplots(
        rows=1, cols=2, shared_yaxes=True, column_widths=[0.05, 0.95], horizontal_spacing=0.005
    )
    for status in STATUSES:
        members = [(y, item) for y, item in enumerate(shown) if item[0] == status]
        if not members:
            continue
        ys = [y for y, _ in members]
        hovers = [item[2] for _, item in members]
        color = STATUS_COLORS[status]
        figure.add_trace(
            go.Scatter(
                x=[0] * len(ys),
                y=ys,
                mode="markers",
                marker={"symbol": "square", "size": 14, "color": color},
                name=status,
                legendgroup=status,
                customdata=hovers,
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        values = []
        for _, item in members:
            if item[3] < 0:
                values.append(0)
                continue
            row = diff.rows[item[3]]
            values.append(row.delta_params if delta == "num_params" else row.delta_macs)
        figure.add_trace(
            go.Bar(
                x=values,
                y=ys,
                orientation="h",
                marker={"color": color},
                name=status,
                legendgroup=status,
                showlegend=False,
                text=[_signed(value) if value else "" for value in values],
                textposition="outside",
                cliponaxis=False,
                customdata=hovers,
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=1,
            col=2,
        )
    counts = diff.counts()
    summary = ", ".join(
        f"{counts[status]} {status}" for status in ("changed", "added", "removed", "same")
    )
    total = diff.delta_params if delta == "num_params" else diff.delta_macs
    before = diff.num_params_a if delta == "num_params" else diff.macs_a
    share = f" ({total / before:+.1%})" if total is not None and before else ""
    unit = "parameters" if delta == "num_params" else "MACs"
    layout = base_layout(
        f"{escaped(diff.name_a)} → {escaped(diff.name_b)}: {summary} · Δ {unit} {_signed(total)}{share}"
    )
    layout["hovermode"] = "closest"
    layout["margin"] = {**layout["margin"], "t": 80}
    figure.update_layout(
        **layout,
        height=max(300, ROW_HEIGHT * len(shown) + 170),
        bargap=0.35,
        yaxis={
            "tickvals": list(range(len(shown))),
            "ticktext": [item[1] for item in shown],
            "autorange": "reversed",
            "automargin": True,
            "showgrid": False,
            "zeroline": False,
            "title": "layer (class), A → B",
        },
    )
    figure.update_xaxes(visible=False, range=[-1, 1], row=1, col=1)
    figure.update_xaxes(
        title_text=f"Δ {unit} (B − A)", zeroline=True, zerolinecolor="#6B7280", row=1, col=2
    )
    return figure


# --- Trade-offs -----------------------------------------------------------------------------------

TRADEOFF_X = {"num_params": "parameters", "macs": "multiply-accumulates per sample"}
NO_METRIC = "no recorded metric"


def _sample_set_text(entry) -> str:
    """``data/samples/digits_cnn.npz`` -> ``"digits_cnn.npz"``; a dataset's description, clipped."""
    if entry.sample_set is None:
        return f"{entry.name}'s own data (not recorded)"
    text = entry.sample_set.replace("\\", "/").rsplit("/", 1)[-1]
    return text if len(text) <= 40 else text[:39] + "…"


def plot_tradeoff(info: TradeoffInfo, x: str = "num_params") -> go.Figure:
    """Each model's recorded metric against its size or compute (log x), one labelled point each.

    Results are drawn on one axis only when they are comparable: the same metric measured on the
    same sample set (``TradeoffInfo.comparable_groups``). Each such group gets a panel of its own
    (sharing the x axis) whose axis names the metric and the data, so a digits accuracy and a
    shapes accuracy never share an axis. Models without a recorded metric sit on a grey strip
    below, and are named in the title. Models whose compute is unknown cannot be placed on the
    compute axis and are named in the title too.

    Args:
        info: a ``TradeoffInfo``.
        x: "num_params" or "macs".

    Raises:
        ValueError: an unknown ``x``.
    """
    if x not in TRADEOFF_X:
        raise ValueError(f"Expected x in {sorted(TRADEOFF_X)}. Received: {x!r}")
    placeable = [entry for entry in info.entries if (getattr(entry, x) or 0) > 0]
    unplaced = [entry.name for entry in info.entries if (getattr(entry, x) or 0) <= 0]
    groups = [
        members
        for group in info.comparable_groups
        if (members := [entry for entry in group if (getattr(entry, x) or 0) > 0])
    ]
    without = [entry for entry in placeable if not entry.has_metric]
    panels = len(groups) + (1 if without else 0)
    figure = make_subplots(
        rows=max(panels, 1),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.08, 0.4 / max(panels, 1)) if panels > 1 else 0.02,
        row_heights=[1.0] * len(groups) + ([0.25] if without else []) or None,
    )
    for position, members in enumerate(groups):
        metric = members[0].metric_name
        goals = {entry.goal for entry in members} - {None}
        better = (
            " (higher is better)"
            if goals == {"max"}
            else " (lower is better)"
            if goals == {"min"}
            else ""
        )
        data = _sample_set_text(members[0])
        figure.add_trace(
            go.Scatter(
                x=[getattr(entry, x) for entry in members],
                y=[entry.metric_value for entry in members],
                mode="markers+text",
                text=[escaped(entry.name) for entry in members],
                textposition="top center",
                marker={"size": 12, "color": color_for(position)},
                name=f"{escaped(metric)} on {escaped(data)}",
                customdata=[_tradeoff_hover(entry) for entry in members],
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=position + 1,
            col=1,
        )
        values = [entry.metric_value for entry in members]
        # Room above the highest point for its label.
        pad = (max(values) - min(values)) * 0.2 or abs(values[0]) * 0.05 or 0.05
        figure.update_yaxes(
            title_text=f"{escaped(metric)}{better}<br>on {escaped(data)}",
            range=[min(values) - pad / 2, max(values) + pad],
            row=position + 1,
            col=1,
        )
    if without:
        figure.add_trace(
            go.Scatter(
                x=[getattr(entry, x) for entry in without],
                y=[0] * len(without),
                mode="markers+text",
                text=[escaped(entry.name) for entry in without],
                textposition="top center",
                marker={"size": 10, "color": STATUS_COLORS["same"], "symbol": "diamond"},
                name=NO_METRIC,
                customdata=[_tradeoff_hover(entry) for entry in without],
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=panels,
            col=1,
        )
        figure.update_yaxes(
            title_text=NO_METRIC,
            tickvals=[0],
            ticktext=[""],
            range=[-1, 2],
            showgrid=False,
            row=panels,
            col=1,
        )
    notes = []
    if len(groups) > 1:
        notes.append("one panel per metric and test set: results on different data do not compare")
    if info.without_metric:
        notes.append(f"{NO_METRIC}: {', '.join(escaped(name) for name in info.without_metric)}")
    if unplaced:
        what = "compute unknown" if x == "macs" else "no parameters"
        notes.append(f"{what}: {', '.join(escaped(name) for name in unplaced)}")
    title = f"Recorded result against {TRADEOFF_X[x]}"
    if notes:
        title += f"<br><sub>{' · '.join(notes)}</sub>"
    layout = base_layout(title)
    layout["hovermode"] = "closest"
    layout["margin"] = {**layout["margin"], "t": 90, "l": 90}
    layout["legend"] = {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0.0}
    per_panel = 300 if len(groups) <= 2 else 230
    figure.update_layout(
        **layout, height=max(360, per_panel * len(groups) + (120 if without else 0) + 80)
    )
    figure.update_xaxes(type="log")
    figure.update_xaxes(title_text=TRADEOFF_X[x], row=max(panels, 1), col=1)
    return figure


def _tradeoff_hover(entry) -> str:
    lines = [f"<b>{escaped(entry.name)}</b>"]
    if entry.has_metric:
        lines.append(f"{escaped(entry.metric_name)} {entry.metric_value:.4g}")
    else:
        lines.append(NO_METRIC)
    lines.append(f"{human(entry.num_params)} parameters ({entry.num_params:,})")
    lines.append(
        "compute unknown"
        if entry.macs is None
        else f"{human(entry.macs)} MACs per sample ({entry.macs:,})"
    )
    return "<br>".join(lines)


# --- Side-by-side costs ---------------------------------------------------------------------------

COST_LABELS = {
    "macs": "multiply-accumulates per sample",
    "num_params": "parameters",
    "activation_bytes": "activation memory per sample (bytes)",
    "weight_bytes": "weight memory (bytes)",
}


def plot_side_by_side_costs(
    infos: Sequence,
    cost: str = "macs",
    *,
    names: Sequence[str] | None = None,
    skip_zero: bool = True,
) -> go.Figure:
    """Per-layer costs of two or more models, their layers aligned, as grouped horizontal bars.

    Layers are aligned as in the diff (same class and name first, then same class by position),
    so each row holds one role and a bar per model that has it; hover gives the value and its
    share of that model's total.

    Args:
        infos: ``ArchitectureInfo`` of each model, the first one setting the row order.
        cost: one of ``COST_LABELS``.
        names: legend names, one per model (default: the models' names, numbered if repeated).
        skip_zero: leave out rows that cost nothing in every model.

    Raises:
        ValueError: an unknown cost, no models, or a different number of names.
    """
    if cost not in COST_LABELS:
        raise ValueError(f"Expected a cost in {sorted(COST_LABELS)}. Received: {cost!r}")
    if not infos:
        raise ValueError("Expected at least one architecture. Received none.")
    names = _display_names([info.name for info in infos] if names is None else names)
    if len(names) != len(infos):
        raise ValueError(f"Expected {len(infos)} names. Received {len(names)}.")
    rows = [
        row
        for row in align_models(infos)
        if not skip_zero
        or any(layer is not None and (getattr(layer, cost) or 0) > 0 for layer in row)
    ]
    labels = []
    for row in rows:
        present = [layer for layer in row if layer is not None]
        layer_names = list(dict.fromkeys(layer.name for layer in present))
        labels.append(f"{escaped(' | '.join(layer_names))} ({escaped(present[0].class_name)})")
    figure = go.Figure()
    for position, (info, name) in enumerate(zip(infos, names, strict=True)):
        unknown = cost == "macs" and info.macs is None
        values = [
            None if row[position] is None or unknown else int(getattr(row[position], cost) or 0)
            for row in rows
        ]
        total = sum(int(getattr(layer, cost) or 0) for layer in info.layers) or 1
        figure.add_trace(
            go.Bar(
                x=values,
                y=list(range(len(rows))),
                orientation="h",
                marker={"color": color_for(position)},
                name=escaped(name) + (" (compute unknown)" if unknown else ""),
                customdata=[
                    (
                        f"<b>{escaped(name)}</b><br>{escaped(row[position].name)} "
                        f"({escaped(row[position].class_name)})<br>{value:,} "
                        f"{COST_LABELS[cost]} · {value / total:.1%} of the model"
                    )
                    if value is not None
                    else f"<b>{escaped(name)}</b><br>no such layer"
                    for row, value in zip(rows, values, strict=True)
                ],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    layout = base_layout(f"{COST_LABELS[cost].capitalize()} by layer, side by side")
    layout["hovermode"] = "closest"
    figure.update_layout(
        **layout,
        barmode="group",
        xaxis_title=COST_LABELS[cost],
        yaxis={
            "tickvals": list(range(len(rows))),
            "ticktext": labels,
            "autorange": "reversed",
            "automargin": True,
            "title": "layer (class)",
        },
        height=max(300, len(rows) * (8 + 10 * len(infos)) + 140),
    )
    return figure


# --- Tables behind the figures -------------------------------------------------------------------


def architecture_diff_table(info: DiffInfo) -> pd.DataFrame:
    """Every row of the diff (``analysis.comparison.diff_table``) as a table."""
    return pd.DataFrame(diff_table(info))


def complexity_table(profiles: Sequence[ComplexityProfile]) -> pd.DataFrame:
    """One row per model's complexity profile: its name and the six radar axes."""
    return pd.DataFrame([dataclasses.asdict(profile) for profile in profiles])

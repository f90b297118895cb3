"""Learning rate and optimization as Plotly figures. Drawing only: no TensorFlow, no Streamlit.

Every figure takes an info from :mod:`neurogenesis.analysis.optimization`. Values that are NaN or
infinite cannot be drawn as points, so each such place is marked (an ``x`` and a hover text that
says so) instead of silently leaving a gap. Names that came from a file (runs, layers, variables)
are shown as text, never as HTML.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.errors import InputError
from neurogenesis.plotting.style import base_layout, color_for, escaped

__all__ = [
    "log_axis_ticks",
    "log_colorbar_ticks",
    "plot_gradient_heatmap",
    "plot_learning_rate",
    "plot_optimizer_comparison",
    "plot_update_cosine",
    "plot_weight_evolution",
    "plot_weight_trajectories",
]

WEIGHT_QUANTITIES = {
    "norm": ("norms", "model_norms", "weight L2 norm ‖W‖"),
    "distance": ("distances", "model_distances", "distance from initialization ‖W − W₀‖"),
    "relative_distance": (
        "relative_distances",
        "model_relative_distances",
        "relative distance ‖W − W₀‖ / ‖W₀‖",
    ),
}
CHECKPOINT_AXIS = "epoch (−1 = before training)"
COSINE_LEGEND = "+1: same direction (steady descent) · ~0: unrelated · −1: oscillating"
HEATMAP_ROW_HEIGHT = 24
HEATMAP_COLORSCALE = "Viridis"
COSINE_COLORSCALE = "RdBu"
NONFINITE_COLOR = "#D55E00"
MODEL_COLOR = "#000000"
MARKERS_UP_TO = 60  # points per line drawn with markers; longer lines are lines only
# Runs drawn on one axis differ in dash and marker as well as colour, so lines that coincide
# (three optimizers on the same constant learning rate) stay distinguishable.
RUN_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
RUN_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "triangle-down", "pentagon")
MESSAGE_WIDTH = 90  # characters per line of a message figure
NOT_LOGGED = "not logged"


def _exact(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.8g}"


def _vertical_legend(layout: dict) -> dict:
    layout["legend"] = {
        "orientation": "v",
        "x": 1.02,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "top",
    }
    layout["margin"] = {**layout["margin"], "r": 200}
    return layout


def _message_figure(title: str, message: str, height: int = 260) -> go.Figure:
    """An empty figure that says in words why there is nothing to draw."""
    figure = go.Figure()
    figure.add_annotation(
        text="<br>".join(escaped(line) for line in textwrap.wrap(message, MESSAGE_WIDTH)),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": "#6B7280"},
    )
    figure.update_layout(
        **base_layout(escaped(title)),
        height=height,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return figure


def _finite_or_nan(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def _nonfinite_trace(x, values, name: str, color: str, *, log_y: bool = False, **extra):
    """An ``x`` at each non-finite value, drawn at the top of the finite range, or None."""
    values = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if not bad.size:
        return None
    finite = values[np.isfinite(values)]
    if log_y:
        finite = finite[finite > 0]
    top = float(finite.max()) if finite.size else (1.0 if log_y else 0.0)
    x = np.asarray(x)[bad]
    labels = [
        f"{escaped(name)}: {_exact(values[i])} at {x_value}"
        for i, x_value in zip(bad, x, strict=True)
    ]
    return go.Scatter(
        x=x,
        y=np.full(bad.size, top),
        mode="markers",
        marker={"symbol": "x", "size": 11, "color": color, "line": {"width": 1}},
        name=f"{escaped(name)}: NaN/Inf from {x[0]}",
        customdata=labels,
        hovertemplate="%{customdata}<extra></extra>",
        **extra,
    )


def _positive(values) -> bool:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return bool(finite.size) and bool((finite > 0).all())


# --------------------------------------------------------------------------------------------
# Learning rate
# --------------------------------------------------------------------------------------------


def plot_learning_rate(info, log_y: bool = True, *, title: str | None = None) -> go.Figure:
    """Learning rate per run as step lines, with the changes marked.

    Args:
        info: A ``LearningRateInfo``.
        log_y: Logarithmic y axis (falls back to linear when a rate is zero or negative).
        title: Figure title.

    Returns:
        One step line per series, each run in its own colour, dash, marker and width (later
        ones thinner, so coinciding schedules stay visible, and the legend names a schedule
        equal to an earlier one); fainter when worked out from the optimizer config (the source
        in its legend name); a diamond at each change and an ``x`` where it is NaN/Inf. Log
        axes are ticked 1-2-5 in full numbers.
    """
    title = title or "Learning rate"
    if not info.series:
        notes = " ".join(info.notes) or "No run logged a learning rate."
        return _message_figure(title, notes)
    log_y = log_y and all(_positive(series.values) for series in info.series)
    runs = list(dict.fromkeys(series.run for series in info.series))
    figure = go.Figure()
    drawn: list[tuple[str, np.ndarray, np.ndarray]] = []
    for index, series in enumerate(info.series):
        color = color_for(runs.index(series.run))
        name = escaped(
            series.run if len(info.series) == len(runs) else f"{series.run} · {series.tag}"
        )
        if series.source != "logged":
            name += f" (from {series.source}: {escaped(series.schedule)})"
        same = next(
            (
                other
                for other, steps, values in drawn
                if np.array_equal(steps, series.steps)
                and np.array_equal(values, series.values, equal_nan=True)
            ),
            None,
        )
        drawn.append((name, series.steps, series.values))
        legend = name if same is None else f"{name} (same as {same})"
        exact = [_exact(v) for v in series.values]
        figure.add_trace(
            go.Scatter(
                x=series.steps,
                y=_finite_or_nan(series.values),
                mode="lines+markers" if series.steps.size <= MARKERS_UP_TO else "lines",
                line={
                    "shape": "hv",
                    "color": color,
                    # Later runs thinner, so a line drawn over an equal one leaves it visible.
                    "width": max(4.5 - 1.0 * index, 1.5),
                    "dash": RUN_DASHES[index % len(RUN_DASHES)],
                },
                marker={"size": 7, "symbol": RUN_SYMBOLS[index % len(RUN_SYMBOLS)]},
                # Worked out from the optimizer's config, not logged: fainter (the name says so).
                opacity=1.0 if series.source == "logged" else 0.6,
                name=legend,
                customdata=exact,
                hovertemplate=f"{name}<br>{series.step_unit} %{{x}}<br>"
                "learning rate %{customdata}<extra></extra>",
            )
        )
        if series.change_indices.size:
            after = series.change_indices
            texts = [
                f"{name}: {_exact(series.values[i - 1])} → {_exact(series.values[i])} "
                f"at {series.step_unit} {series.steps[i]}"
                for i in after
            ]
            figure.add_trace(
                go.Scatter(
                    x=series.steps[after],
                    y=_finite_or_nan(series.values[after]),
                    mode="markers",
                    marker={"symbol": "diamond", "size": 10, "color": color},
                    name=f"{name}: {after.size} change{'s' if after.size > 1 else ''}",
                    customdata=texts,
                    hovertemplate="%{customdata}<extra></extra>",
                )
            )
        marker = _nonfinite_trace(series.steps, series.values, name, NONFINITE_COLOR, log_y=log_y)
        if marker is not None:
            figure.add_trace(marker)
    units = {series.step_unit for series in info.series}
    layout = base_layout(escaped(title))
    layout["hovermode"] = "x unified"  # every run's rate at the step, coinciding ones included
    figure.update_layout(
        **layout,
        xaxis_title=units.pop() if len(units) == 1 else "step",
        yaxis_title="learning rate" + (" (log scale)" if log_y else ""),
        yaxis_type="log" if log_y else "linear",
    )
    if log_y:
        figure.update_yaxes(**log_axis_ticks(*(series.values for series in info.series)))
    return figure


# --------------------------------------------------------------------------------------------
# Gradient norms
# --------------------------------------------------------------------------------------------


def log_colorbar_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Colourbar ticks at 1, 2 and 5 times powers of ten between ``low`` and ``high`` (log10)."""
    ticks = []
    for decade in range(math.floor(low), math.ceil(high) + 1):
        for factor in (1, 2, 5) if high - low < 3 else (1,):
            position = decade + math.log10(factor)
            if low - 1e-9 <= position <= high + 1e-9:
                ticks.append(position)
    if len(ticks) < 2:
        ticks = [low, high] if high > low else [low]
    return ticks, [_tick_label(10**tick) for tick in ticks]


def log_axis_ticks(*arrays, most: int | None = None) -> dict:
    """Ticks for a log axis in data units that read as numbers: 1, 2 and 5 times powers of ten
    over up to three decades (0.1, 0.2, 0.5, 1, 2), powers of ten only beyond, each labelled in
    full (Plotly's own log ticks label 2 and 5 with their digit alone: "2, 5, 0.1, 2, 5").

    Args:
        *arrays: the values the axis shows; only finite positive ones count.
        most: at most this many ticks (a short panel): powers of ten only, then every other one.

    Returns:
        ``{"tickmode": "array", "tickvals": [...], "ticktext": [...]}`` for ``update_yaxes``;
        ``{}`` when no value is positive.
    """
    values = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return {}
    low, high = math.log10(values.min()), math.log10(values.max())
    if high - low < math.log10(2.5):
        # Within one 1-2-5 step: widen to the neighbouring ticks so at least two show.
        low, high = low - math.log10(2.5), high + math.log10(2.5)
    ticks = []
    # float32 logs store 0.001 as 0.0010000000475: a tick that close to the data is inside.
    slack = 1e-6
    for decade in range(math.floor(low + slack), math.ceil(high - slack) + 1):
        for factor in (1, 2, 5) if high - low < 3 else (1,):
            position = decade + math.log10(factor)
            if low - slack <= position <= high + slack:
                ticks.append(10.0**position)
    if len(ticks) < 2:
        ticks = [10.0 ** math.floor(low + slack), 10.0 ** math.ceil(high - slack)]
    ticks = [float(f"{tick:.1g}") for tick in ticks]
    if most is not None and len(ticks) > most:
        powers = [tick for tick in ticks if float(f"{tick:.0e}".split("e")[0]) == 1.0]
        ticks = powers if len(powers) >= 2 else [ticks[0], ticks[-1]]
        while len(ticks) > most:
            ticks = ticks[::2]
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [_tick_label(t) for t in ticks]}


def _tick_label(value: float) -> str:
    """``0.01``, ``100``, ``2e-5``: plain numbers where short, else a compact power of ten."""
    value = float(f"{value:.2g}")
    if 1e-3 <= value < 1e4:
        return f"{value:g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def plot_gradient_heatmap(info, log_color: bool = True, *, title: str | None = None) -> go.Figure:
    """Gradient norm per layer (rows, model order top to bottom) and epoch, with the global norm
    as a line in a panel above (shared x).

    Args:
        info: A ``GradientNormInfo``.
        log_color: Colour by log10 of the norm (the colourbar shows real values).
        title: Figure title.

    Returns:
        The figure; cells that were NaN/Inf get an ``x``, zero norms sit at the bottom of the
        colour scale and say "0" on hover, cells that were not logged are empty.
    """
    title = title or f"Gradient norms: {info.run}"
    if not info.available:
        return _message_figure(title, info.reason)
    norms = np.asarray(info.norms, dtype=np.float64)
    finite = np.isfinite(norms)
    positive = finite & (norms > 0)
    use_log = log_color and positive.any()
    if use_log:
        logs = np.log10(np.where(positive, norms, 1.0))
        low, high = float(logs[positive].min()), float(logs[positive].max())
        colour = np.where(positive, logs, np.where(finite, low, np.nan))  # zero: bottom of scale
        tickvals, ticktext = log_colorbar_ticks(low, high)
        colorbar_extra = {"tickvals": tickvals, "ticktext": ticktext}
    else:
        colour = np.where(finite, norms, np.nan)
        colorbar_extra = {}
    logged = np.asarray(info.logged, dtype=bool)
    hover = np.where(
        logged,
        np.vectorize(lambda v: f"norm {_exact(v)}" + (" (no gradient)" if v == 0 else ""))(
            norms
        ).astype(object)
        if norms.size
        else norms.astype(object),
        NOT_LOGGED,
    )
    names = [escaped(name) for name in info.names]
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7], vertical_spacing=0.06
    )
    figure.add_trace(
        go.Scatter(
            x=info.steps,
            y=_finite_or_nan(info.global_norms),
            mode="lines+markers" if info.steps.size <= MARKERS_UP_TO else "lines",
            line={"color": MODEL_COLOR, "width": 2},
            marker={"size": 5},
            name=f"global norm ({info.global_source})",
            customdata=[_exact(v) for v in info.global_norms],
            hovertemplate="epoch %{x}<br>global norm %{customdata}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    marker = _nonfinite_trace(info.steps, info.global_norms, "global norm", NONFINITE_COLOR)
    if marker is not None:
        figure.add_trace(marker, row=1, col=1)
    figure.add_trace(
        go.Heatmap(
            x=info.steps,
            y=names,
            z=colour,
            text=hover,
            colorscale=HEATMAP_COLORSCALE,
            hoverongaps=True,
            hovertemplate="%{y}<br>epoch %{x}<br>%{text}<extra></extra>",
            colorbar={
                "title": {"text": "gradient norm" + ("<br>(log colour)" if use_log else "")},
                "len": 0.75,
                "y": 0.0,
                "yanchor": "bottom",
                **colorbar_extra,
            },
            name="gradient norm",
        ),
        row=2,
        col=1,
    )
    rows, columns = np.nonzero(logged & ~finite)
    if rows.size:
        figure.add_trace(
            go.Scatter(
                x=info.steps[columns],
                y=[names[r] for r in rows],
                mode="markers",
                marker={"symbol": "x", "size": 12, "color": NONFINITE_COLOR},
                name="NaN/Inf gradient",
                customdata=[
                    f"{names[r]}: {_exact(norms[r, c])}" for r, c in zip(rows, columns, strict=True)
                ],
                hovertemplate="%{customdata}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    if info.first_nonfinite_step is not None:  # a dotted line through both panels
        figure.add_vline(
            x=info.first_nonfinite_step, line={"color": NONFINITE_COLOR, "dash": "dot"}
        )
        title += f" · NaN/Inf from epoch {info.first_nonfinite_step}"
    layout = base_layout(escaped(title))
    layout["hovermode"] = "closest"
    figure.update_layout(**layout, height=max(380, 220 + HEATMAP_ROW_HEIGHT * len(names)))
    global_log = use_log and _positive(info.global_norms)
    figure.update_yaxes(
        title_text="global norm" + (" (log)" if global_log else ""),
        type="log" if global_log else "linear",
        row=1,
        col=1,
        # The panel is short: a few ticks, labelled in full.
        **(log_axis_ticks(info.global_norms, most=3) if global_log else {"nticks": 4}),
    )
    figure.update_yaxes(
        title_text=info.by, autorange="reversed", automargin=True, type="category", row=2, col=1
    )
    figure.update_xaxes(title_text="epoch", row=2, col=1)
    return figure


# --------------------------------------------------------------------------------------------
# Weight evolution
# --------------------------------------------------------------------------------------------


def plot_update_cosine(info, *, title: str | None = None) -> go.Figure:
    """Cosine similarity of successive weight updates, one line per layer plus the whole model.

    x is the checkpoint between the two updates compared (hover names both updates); with
    thinned checkpoints one update spans several epochs. Undefined cosines (a zero or NaN
    update) are marked on the zero line.
    """
    title = title or "Do successive updates point the same way?"
    pairs = np.asarray(info.cosine_epochs)
    if pairs.shape[0] == 0:
        return _message_figure(
            title, "Update directions need at least three checkpoints. " + " ".join(info.notes)
        )
    x = pairs[:, 1]
    spans = [f"update {a}→{b} vs {b}→{c}" for a, b, c in pairs.tolist()]
    figure = go.Figure()
    undefined_x, undefined_text = [], []
    rows = [(name, info.update_cosines[i], color_for(i)) for i, name in enumerate(info.names)]
    rows.append(("whole model", info.model_update_cosines, MODEL_COLOR))
    for index, (name, cosines, color) in enumerate(rows):
        is_model = index == len(rows) - 1
        label = escaped(name)
        figure.add_trace(
            go.Scatter(
                x=x,
                y=_finite_or_nan(cosines),
                mode="lines+markers",
                line={
                    "color": color,
                    "width": 3 if is_model else 1.5,
                    "dash": "dash" if is_model else "solid",
                },
                marker={"size": 6},
                name=label,
                customdata=[
                    f"{label}<br>{span}<br>cosine {_exact(v)}"
                    for span, v in zip(spans, cosines, strict=True)
                ],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
        for position, value, span in zip(x, cosines, spans, strict=True):
            if not np.isfinite(value):
                undefined_x.append(position)
                undefined_text.append(f"{label}: {span}: undefined (an update is zero or NaN)")
    if undefined_x:
        figure.add_trace(
            go.Scatter(
                x=undefined_x,
                y=[0.0] * len(undefined_x),
                mode="markers",
                marker={"symbol": "x", "size": 11, "color": NONFINITE_COLOR},
                name="undefined (zero or NaN update)",
                customdata=undefined_text,
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    figure.add_hline(y=0.0, line={"color": "#6B7280", "width": 1})
    figure.add_annotation(
        text=COSINE_LEGEND,
        x=0.0,
        y=1.01,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font={"size": 12, "color": "#374151"},
    )
    layout = _vertical_legend(base_layout(escaped(title)))
    layout["hovermode"] = "closest"
    layout["margin"] = {**layout["margin"], "t": 80}
    figure.update_layout(
        **layout,
        xaxis_title="checkpoint epoch between the two updates compared",
        yaxis_title="cosine(update k, update k+1)",
        yaxis_range=[-1.05, 1.05],
        xaxis={"tickmode": "array", "tickvals": x.tolist()},
    )
    return figure


def plot_weight_evolution(info, quantity: str = "norm", *, title: str | None = None) -> go.Figure:
    """One line per layer over the checkpoints: weight norm, distance or relative distance from
    initialization; the whole model as a dashed black line (hidden until clicked for the norm and
    distance, whose scale it dominates).

    Raises:
        InputError: An unknown ``quantity``.
    """
    if quantity not in WEIGHT_QUANTITIES:
        raise InputError(
            f"Expected quantity 'norm', 'distance' or 'relative_distance'. Received: {quantity!r}"
        )
    field, model_field, axis_title = WEIGHT_QUANTITIES[quantity]
    matrix = getattr(info, field)
    title = title or f"Weights per {info.by}: {axis_title}"
    figure = go.Figure()
    mode = "lines+markers" if info.epochs.size <= MARKERS_UP_TO else "lines"
    rows = [(name, matrix[i], color_for(i), False) for i, name in enumerate(info.names)]
    rows.append(("whole model", getattr(info, model_field), MODEL_COLOR, True))
    for name, values, color, is_model in rows:
        label = escaped(name)
        figure.add_trace(
            go.Scatter(
                x=info.epochs,
                y=_finite_or_nan(values),
                mode=mode,
                line={
                    "color": color,
                    "width": 3 if is_model else 2,
                    "dash": "dash" if is_model else "solid",
                },
                marker={"size": 6},
                name=label,
                visible="legendonly" if is_model and quantity != "relative_distance" else True,
                customdata=[_exact(v) for v in values],
                hovertemplate=f"{label}<br>epoch %{{x}}<br>{axis_title} %{{customdata}}"
                "<extra></extra>",
            )
        )
        marker = _nonfinite_trace(info.epochs, values, name, color)
        if marker is not None:
            figure.add_trace(marker)
    layout = _vertical_legend(base_layout(escaped(title)))
    figure.update_layout(
        **layout,
        xaxis_title=CHECKPOINT_AXIS,
        yaxis_title=axis_title,
        xaxis={"tickmode": "array", "tickvals": info.epochs.tolist()},
    )
    return figure


def plot_weight_trajectories(info, *, title: str | None = None) -> go.Figure:
    """Chosen weights of one variable over the checkpoints, one line each."""
    chosen = "that moved most" if info.selected_by == "largest movement" else "chosen"
    title = title or f"{info.variable}: the {len(info.labels)} weights {chosen}"
    figure = go.Figure()
    mode = "lines+markers" if info.epochs.size <= MARKERS_UP_TO else "lines"
    for index, (label, values) in enumerate(zip(info.labels, info.values, strict=True)):
        color = color_for(index)
        name = escaped(label)
        figure.add_trace(
            go.Scatter(
                x=info.epochs,
                y=_finite_or_nan(values),
                mode=mode,
                line={"color": color, "width": 2},
                marker={"size": 6},
                name=name,
                customdata=[_exact(v) for v in values],
                hovertemplate=f"{name}<br>epoch %{{x}}<br>value %{{customdata}}<extra></extra>",
            )
        )
        marker = _nonfinite_trace(info.epochs, values, label, color)
        if marker is not None:
            figure.add_trace(marker)
    layout = _vertical_legend(base_layout(escaped(title)))
    figure.update_layout(
        **layout,
        xaxis_title=CHECKPOINT_AXIS,
        yaxis_title="weight value",
        xaxis={"tickmode": "array", "tickvals": info.epochs.tolist()},
    )
    return figure


# --------------------------------------------------------------------------------------------
# Optimizer comparison
# --------------------------------------------------------------------------------------------


def plot_optimizer_comparison(info, *, title: str | None = None) -> go.Figure:
    """2×2 small multiples: training metric, validation metric, global gradient norm and learning
    rate, one colour per run (the same in every panel, one legend entry per run). A panel no run
    logged says "not logged"; each run's first NaN/Inf is marked with an ``x``.
    """
    metric = escaped(info.metric)
    panels = (
        ("train", f"training {metric}", metric, "train_steps", "train_values"),
        ("validation", f"validation {metric}", metric, "validation_steps", "validation_values"),
        (
            "gradient",
            "global gradient norm",
            "gradient L2 norm",
            "gradient_steps",
            "gradient_norms",
        ),
        (
            "learning_rate",
            "learning rate",
            "learning rate",
            "learning_rate_steps",
            "learning_rates",
        ),
    )
    title = title or f"Optimizers compared: {info.metric}"
    if not info.runs:
        return _message_figure(title, " ".join(info.notes) or "No run to compare.")
    figure = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[panel[1] for panel in panels],
        horizontal_spacing=0.1,
        vertical_spacing=0.16,
    )
    for index, (key, _, axis_title, steps_field, values_field) in enumerate(panels):
        row, col = index // 2 + 1, index % 2 + 1
        log_y = key == "learning_rate" and all(
            _positive(getattr(run, values_field))
            for run in info.runs
            if getattr(run, values_field).size
        )
        drawn = 0
        for number, run in enumerate(info.runs):
            steps, values = getattr(run, steps_field), getattr(run, values_field)
            if not steps.size:
                continue
            drawn += 1
            color, label = color_for(number), escaped(run.label)
            figure.add_trace(
                go.Scatter(
                    x=steps,
                    y=_finite_or_nan(values),
                    mode="lines+markers" if steps.size <= MARKERS_UP_TO else "lines",
                    line={
                        "color": color,
                        "width": max(3.5 - 0.75 * number, 1.25),
                        "dash": RUN_DASHES[number % len(RUN_DASHES)],
                        "shape": "hv" if key == "learning_rate" else "linear",
                    },
                    marker={"size": 5, "symbol": RUN_SYMBOLS[number % len(RUN_SYMBOLS)]},
                    name=label,
                    legendgroup=run.run,
                    showlegend=False,
                    customdata=[_exact(v) for v in values],
                    hovertemplate=f"{label}<br>epoch %{{x}}<br>{axis_title} %{{customdata}}"
                    "<extra></extra>",
                ),
                row=row,
                col=col,
            )
            marker = _nonfinite_trace(
                steps, values, run.label, color, log_y=log_y, legendgroup=run.run, showlegend=False
            )
            if marker is not None:
                figure.add_trace(marker, row=row, col=col)
        axis = "" if index == 0 else str(index + 1)
        if not drawn:
            x_domain = figure.layout[f"xaxis{axis}"].domain
            y_domain = figure.layout[f"yaxis{axis}"].domain
            figure.add_annotation(
                text=NOT_LOGGED,
                x=(x_domain[0] + x_domain[1]) / 2,
                y=(y_domain[0] + y_domain[1]) / 2,
                xref="paper",
                yref="paper",
                showarrow=False,
                font={"size": 14, "color": "#6B7280"},
            )
            figure.update_xaxes(
                showticklabels=False, showgrid=False, zeroline=False, row=row, col=col
            )
            figure.update_yaxes(
                showticklabels=False, showgrid=False, zeroline=False, row=row, col=col
            )
        else:
            figure.update_xaxes(title_text="epoch", row=row, col=col)
            figure.update_yaxes(
                title_text=axis_title + (" (log scale)" if log_y else ""),
                type="log" if log_y else "linear",
                row=row,
                col=col,
                **(
                    log_axis_ticks(*(getattr(run, values_field) for run in info.runs))
                    if log_y
                    else {}
                ),
            )
    for number, run in enumerate(info.runs):  # one legend entry per run, shared by the panels
        figure.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines+markers",
                line={"color": color_for(number), "width": 3, "dash": RUN_DASHES[number % 6]},
                marker={"symbol": RUN_SYMBOLS[number % len(RUN_SYMBOLS)], "size": 7},
                name=escaped(run.label),
                legendgroup=run.run,
                showlegend=True,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    layout = base_layout(escaped(title))
    layout["hovermode"] = "closest"
    layout["legend"] = {
        "orientation": "h",
        "x": 0.0,
        "xanchor": "left",
        "y": -0.12,
        "yanchor": "top",
    }
    layout["margin"] = {**layout["margin"], "t": 80, "b": 110}
    figure.update_layout(**layout, height=680)
    return figure

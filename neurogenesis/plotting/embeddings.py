"""The embedding projector as Plotly figures. Drawing only: no TensorFlow, no Streamlit.

``plot_projection`` draws every point of a
:class:`~neurogenesis.analysis.embeddings.ProjectionInfo` with WebGL (``Scattergl`` in 2-D,
``Scatter3d`` in 3-D), so 50,000 points and more stay interactive. The figure stays small:
coordinates, colours and sample indices travel as typed arrays (Plotly's base64 ``bdata``), and
per-point hover strings are attached to at most ``HOVER_LIMIT`` points, a uniform random subset;
the other points hover with a template (their category and sample index) that costs nothing per
point.

**Mapping a selection back to samples.** Every drawn point carries its sample index as
``customdata`` (one integer per point), in every trace. With ``event = st.plotly_chart(fig,
on_select="rerun")``, the chosen samples are ``[point["customdata"] for point in
event.selection["points"]]``; :func:`selected_indices` does exactly that, tolerating the
``[index]`` list form. ``point_index`` is *not* a sample index: it counts within one trace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from neurogenesis.analysis.embeddings import LatentGridInfo, ProjectionInfo, ReconstructionInfo
from neurogenesis.errors import InputError
from neurogenesis.plotting.style import PALETTE, base_layout, escaped

__all__ = [
    "CATEGORY_10",
    "CATEGORY_20",
    "COLOR_KINDS",
    "HOVER_LIMIT",
    "NOISE_COLOR",
    "category_colours",
    "latent_grid_table",
    "neighbours_table",
    "plot_latent_grid",
    "plot_projection",
    "plot_reconstructions",
    "plot_similarity",
    "projection_colours",
    "projection_table",
    "reconstructions_table",
    "selected_indices",
    "similarity_table",
]

HOVER_LIMIT = 5000
"""Points that get a per-point hover text at most (a uniform random subset beyond it)."""
COLOR_KINDS = ("categorical", "continuous")
NOISE_COLOR = "#BBBBBB"
NOISE_NAME = "noise"
HIGHLIGHT_COLOR = "#000000"
"""The rings of the chosen sample and its neighbours: black, which no category colour is."""
CATEGORY_10 = (
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#D62728",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
)
"""D3's / Tableau's category10: ten hues, told apart also with the common colour-vision
deficiencies by lightness (digits 0 and 8 no longer share the palette's blue)."""
CATEGORY_20 = (
    "#1F77B4",
    "#AEC7E8",
    "#FF7F0E",
    "#FFBB78",
    "#2CA02C",
    "#98DF8A",
    "#D62728",
    "#FF9896",
    "#9467BD",
    "#C5B0D5",
    "#8C564B",
    "#C49C94",
    "#E377C2",
    "#F7B6D2",
    "#7F7F7F",
    "#C7C7C7",
    "#BCBD22",
    "#DBDB8D",
    "#17BECF",
    "#9EDAE5",
)
"""D3's category20: each hue dark and light, for 11 to 20 categories."""
MAX_DISTINCT_CATEGORIES = len(CATEGORY_20)
"""Beyond this many categories, colours come from a continuous scale over the category number."""
CONTINUOUS_SCALE = "Viridis"
# Marker sizes in pixels: smaller as the cloud grows, so dense regions still show structure.
MARKER_SIZES = ((1_000, 7), (10_000, 5), (50_000, 3))
SMALLEST_MARKER = 2
MARKER_OPACITY = 0.75
SELECTED_SIZE, NEIGHBOUR_SIZE = 16, 10
HOVER_SEED = 0
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
SIMILARITY_METRICS = ("cosine", "euclidean")
MAX_TICK_LABELS = 60
TILE_GAP = 1
PICTURE_WIDTH_PX = 640
"""The width tiled pictures are sized for; pixels stay square whatever the page's width."""
WIDE_PICTURE_WIDTH_PX = 900
"""The same for a picture of two rows (reconstructions), which would be a thin strip at 640."""
SIMILARITY_SCALE = "Viridis"
COSINE_ROUNDING = 0.05
"""The all-positive cosine scale's ends are rounded out to this step (0.83..0.98 shows 0.80..1)."""


def _marker_size(count: int) -> int:
    for limit, size in MARKER_SIZES:
        if count <= limit:
            return size
    return SMALLEST_MARKER


def _hover_subset(count: int, limit: int) -> np.ndarray:
    """A boolean mask of the points that get hover text."""
    mask = np.zeros(count, dtype=bool)
    if count <= limit:
        mask[:] = True
    elif limit > 0:
        mask[np.random.default_rng(HOVER_SEED).choice(count, limit, replace=False)] = True
    return mask


def _hover_strings(texts: Sequence[Any], indices: np.ndarray) -> list[str]:
    # Hover text comes from sample files (words, label names): escape it, keep line breaks.
    return [escaped(texts[i]).replace("\n", "<br>") for i in indices.tolist()]


def _axis_titles(info: ProjectionInfo) -> list[str]:
    name = METHOD_NAMES.get(info.method, info.method)
    if info.method == "pca" and info.explained_variance_ratio is not None:
        return [
            f"PC{axis + 1} ({share:.0%} of variance)"
            for axis, share in enumerate(info.explained_variance_ratio)
        ]
    return [f"{name} {axis + 1}" for axis in range(info.dims)]


def _default_title(info: ProjectionInfo) -> str:
    name = METHOD_NAMES.get(info.method, info.method)
    title = f"{name} of {info.num_points:,} points ({info.num_features} features)"
    if info.trustworthiness is not None:
        title += f" · trustworthiness {info.trustworthiness:.3f}"
    return title


def _trace(
    info: ProjectionInfo,
    points: np.ndarray,
    *,
    name: str,
    marker: dict,
    hovertext: list[str] | None,
    template: str,
    showlegend: bool,
    legendgroup: str | None = None,
) -> go.BaseTraceType:
    coords = info.coords
    common = {
        "mode": "markers",
        "name": name,
        "marker": marker,
        "customdata": points.astype(np.int32),
        "showlegend": showlegend,
        "legendgroup": legendgroup,
    }
    if hovertext is not None:
        common["hovertext"] = hovertext
        common["hovertemplate"] = (
            "%{hovertext}<br>sample %{customdata}<extra>%{fullData.name}</extra>"
        )
    else:
        common["hovertemplate"] = template
    if info.dims == 3:
        return go.Scatter3d(x=coords[points, 0], y=coords[points, 1], z=coords[points, 2], **common)
    return go.Scattergl(x=coords[points, 0], y=coords[points, 1], **common)


def _groups(
    color: Any, color_kind: str, category_names: Any, count: int
) -> list[tuple[str, str, np.ndarray]]:
    """(name, colour, point indices) per drawn group."""
    if color is None:
        return [("samples", PALETTE[0], np.arange(count))]
    values = np.asarray(color)
    if values.shape != (count,):
        raise InputError(
            f"Expected one colour value per point ({count}). Received shape {values.shape}."
        )
    if color_kind == "continuous":
        return [("samples", PALETTE[0], np.arange(count))]
    categories, inverse = np.unique(values, return_inverse=True)
    groups = []
    for number, category in enumerate(categories.tolist()):
        points = np.flatnonzero(inverse == number)
        is_noise = isinstance(category, (int, np.integer)) and category == -1
        if is_noise and not (isinstance(category_names, Mapping) and -1 in category_names):
            groups.append((NOISE_NAME, NOISE_COLOR, points))
            continue
        if isinstance(category_names, Mapping):
            label = category_names.get(category, category)
        elif (
            category_names is not None
            and isinstance(category, (int, np.integer))
            and 0 <= category < len(category_names)
        ):
            label = category_names[category]
        else:
            label = category
        groups.append((escaped(label), "", points))
    # Noise last, so it never takes a palette colour and sits at the end of the legend.
    groups.sort(key=lambda group: group[1] == NOISE_COLOR)
    palette = category_colours(sum(1 for group in groups if not group[1]))
    palette_index = 0
    coloured = []
    for label, colour, points in groups:
        if not colour:
            colour = palette[palette_index]
            palette_index += 1
        coloured.append((label, colour, points))
    return coloured


def category_colours(count: int) -> tuple[str, ...]:
    """``count`` distinct colours: category10 up to 10, category20 up to 20.

    Raises:
        InputError: more than ``MAX_DISTINCT_CATEGORIES`` (use a continuous scale instead).
    """
    if count > MAX_DISTINCT_CATEGORIES:
        raise InputError(
            f"Expected at most {MAX_DISTINCT_CATEGORIES} categories for distinct colours. "
            f"Received: {count}. Colour them on a continuous scale instead."
        )
    return (CATEGORY_10 if count <= len(CATEGORY_10) else CATEGORY_20)[:count]


def _category_codes(color: Any, category_names: Any) -> tuple[np.ndarray, list[str]] | None:
    """Many categories as numbers for a continuous scale (noise -1 kept), or None for few."""
    values = np.asarray(color)
    categories = np.unique(values)
    real = [c for c in categories.tolist() if not (isinstance(c, (int, np.integer)) and c == -1)]
    if len(real) <= MAX_DISTINCT_CATEGORIES:
        return None
    codes = np.searchsorted(np.asarray(real, dtype=values.dtype), values).astype(np.float32)
    noise = np.zeros(len(values), dtype=bool)
    if len(real) < len(categories):
        noise = values == -1
        codes[noise] = np.nan
    names = []
    for category in real:
        if isinstance(category_names, Mapping):
            names.append(str(category_names.get(category, category)))
        elif (
            category_names is not None
            and isinstance(category, (int, np.integer))
            and 0 <= category < len(category_names)
        ):
            names.append(str(category_names[category]))
        else:
            names.append(str(category))
    return codes, names


def plot_projection(
    info: ProjectionInfo,
    *,
    color: Any = None,
    color_kind: str = "categorical",
    category_names: Sequence[str] | Mapping[Any, str] | None = None,
    hover_text: Sequence[Any] | None = None,
    highlight: Sequence[int] | None = None,
    title: str | None = None,
    max_hover_points: int = HOVER_LIMIT,
    color_title: str | None = None,
) -> go.Figure:
    """Every point of a projection, coloured, with hover text and the chosen points on top.

    Args:
        info: a projection.
        color: one value per point, or None for one colour. Categorical values (labels,
            predictions, clusters, words) give one trace per category with a legend entry,
            distinct colours (:func:`category_colours`: category10 up to 10 categories,
            category20 up to 20) and grey for ``-1`` (HDBSCAN's noise); past 20 categories a
            continuous scale over the category's number (names in the hover); continuous values
            (confidence, loss, a date) give one colour scale with a colour bar.
        color_kind: ``"categorical"`` or ``"continuous"``.
        category_names: names of integer categories (a sequence indexed by value, or a mapping).
        hover_text: one string per point (``"\\n"`` becomes a line break; the text is escaped);
            shown on at most ``max_hover_points`` points, a uniform random subset, while the
            others show their category and sample index.
        highlight: sample indices drawn on top with an outline: the first is the selected sample
            (larger), the rest its neighbours.
        title: the figure title; by default the method, point count and trustworthiness.
        max_hover_points: the hover text budget.
        color_title: the colour bar's title for continuous colours.

    Returns:
        A figure whose every trace carries sample indices in ``customdata``
        (see :func:`selected_indices`).

    Raises:
        InputError: colours, hover texts or highlights that do not match the points.
    """
    if color_kind not in COLOR_KINDS:
        raise InputError(f"Expected color_kind in {COLOR_KINDS}. Received: {color_kind!r}.")
    if not isinstance(max_hover_points, int) or max_hover_points < 0:
        raise InputError(
            f"Expected max_hover_points as a whole number of 0 or more. Received: {max_hover_points!r}."
        )
    count = info.num_points
    if hover_text is not None and len(hover_text) != count:
        raise InputError(
            f"Expected one hover text per point ({count}). Received {len(hover_text)}."
        )
    hovered = _hover_subset(count, max_hover_points) if hover_text is not None else None
    size = _marker_size(count)
    many = None
    if color is not None and color_kind == "categorical":
        if np.shape(color) != (count,):
            raise InputError(
                f"Expected one colour value per point ({count}). Received shape {np.shape(color)}."
            )
        many = _category_codes(color, category_names)
    groups = None
    if many is not None:
        # Past 20 categories no set of colours stays distinct: a continuous scale over the
        # category's number, its name in the hover (unless hover texts are given), noise grey.
        codes, names = many
        noise = np.isnan(codes)
        if hover_text is None:
            hover_text = [NOISE_NAME if np.isnan(code) else names[int(code)] for code in codes]
            hovered = _hover_subset(count, max_hover_points)
        color, color_kind = np.nan_to_num(codes, nan=-1.0), "continuous"
        color_title = color_title or f"category (0 to {len(names) - 1})"
        groups = [("categories", "", np.flatnonzero(~noise))]
        if noise.any():
            groups.append((NOISE_NAME, NOISE_COLOR, np.flatnonzero(noise)))
    continuous = color is not None and color_kind == "continuous"
    values = np.asarray(color, dtype=np.float32) if continuous else None
    if groups is None:
        groups = _groups(color, color_kind, category_names, count)
    fig = go.Figure()
    for name, colour, points in groups:
        scaled = continuous and colour != NOISE_COLOR
        marker: dict[str, Any] = {"size": size, "opacity": MARKER_OPACITY, "color": colour}
        if scaled:
            template = "sample %{customdata}<br>value %{marker.color:.4g}<extra></extra>"
        else:
            template = "%{fullData.name}<br>sample %{customdata}<extra></extra>"
        # Points without hover text first, the hover subset after: every point is drawn once.
        parts = (
            [(points, None)]
            if hovered is None
            else [
                (points[~hovered[points]], None),
                (points[hovered[points]], hover_text),
            ]
        )
        first = True
        for part, texts in parts:
            if len(part) == 0:
                continue
            part_marker = dict(marker)
            if scaled:
                part_marker.update(color=values[part], coloraxis="coloraxis")
            fig.add_trace(
                _trace(
                    info,
                    part,
                    name=name,
                    marker=part_marker,
                    hovertext=None if texts is None else _hover_strings(texts, part),
                    template=template,
                    showlegend=first and not scaled and color is not None,
                    legendgroup=name,
                )
            )
            first = False
    if highlight is not None and len(highlight):
        chosen = np.asarray(highlight, dtype=np.int64)
        if chosen.ndim != 1 or chosen.min() < 0 or chosen.max() >= count:
            raise InputError(
                f"Expected highlighted indices between 0 and {count - 1}. Received: {list(highlight)[:8]}."
            )
        for name, points, marker_size in (
            ("selected", chosen[:1], SELECTED_SIZE),
            ("neighbours", chosen[1:], NEIGHBOUR_SIZE),
        ):
            if len(points) == 0:
                continue
            texts = _hover_strings(hover_text, points) if hover_text is not None else None
            fig.add_trace(
                _trace(
                    info,
                    points,
                    name=name,
                    marker={
                        "size": marker_size,
                        "color": "rgba(0,0,0,0)",
                        "line": {"color": HIGHLIGHT_COLOR, "width": 2},
                        "symbol": "circle",
                    },
                    hovertext=texts,
                    template="%{fullData.name}<br>sample %{customdata}<extra></extra>",
                    showlegend=True,
                )
            )
    layout = base_layout(title if title is not None else _default_title(info))
    layout["hovermode"] = "closest"
    layout["legend"]["itemsizing"] = "constant"
    axes = _axis_titles(info)
    if continuous:
        layout["coloraxis"] = {
            "colorscale": CONTINUOUS_SCALE,
            "colorbar": {"title": {"text": escaped(color_title or "value")}},
        }
    if info.dims == 3:
        layout["scene"] = {
            "xaxis": {"title": {"text": axes[0]}},
            "yaxis": {"title": {"text": axes[1]}},
            "zaxis": {"title": {"text": axes[2]}},
        }
    else:
        # t-SNE and UMAP axes have no units, but equal scales keep distances honest for all three.
        layout["xaxis"] = {"title": {"text": axes[0]}, "zeroline": False}
        layout["yaxis"] = {
            "title": {"text": axes[1]},
            "zeroline": False,
            "scaleanchor": "x",
            "scaleratio": 1,
        }
    fig.update_layout(layout)
    return fig


def selected_indices(selection: Mapping[str, Any] | None) -> list[int]:
    """Sample indices of a Streamlit ``on_select`` selection of a :func:`plot_projection` figure.

    Args:
        selection: ``event.selection`` (a mapping with ``"points"``), or None.

    Returns:
        The selected sample indices, each once, in the order first selected.
    """
    if not selection:
        return []
    found: dict[int, None] = {}
    for point in selection.get("points", []) or []:
        value = point.get("customdata") if isinstance(point, Mapping) else None
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value is None:
            continue
        found.setdefault(int(value), None)
    return list(found)


def _cosine_scale(values: np.ndarray) -> dict:
    """The colour range of a cosine-similarity matrix (see :func:`plot_similarity`)."""
    n = len(values)
    off = values[~np.eye(n, dtype=bool)] if n > 1 else values.ravel()
    off = off[np.isfinite(off)]
    if off.size == 0:
        return {"colorscale": SIMILARITY_SCALE, "zmin": 0.0, "zmax": 1.0}
    if float(off.min()) < 0:
        limit = float(np.abs(off).max()) or 1.0
        return {"colorscale": "RdBu_r", "zmin": -limit, "zmax": limit, "zmid": 0.0}
    low = math.floor(float(off.min()) / COSINE_ROUNDING) * COSINE_ROUNDING
    high = min(1.0, math.ceil(float(off.max()) / COSINE_ROUNDING) * COSINE_ROUNDING)
    if high <= low:
        low, high = max(0.0, high - COSINE_ROUNDING), max(high, COSINE_ROUNDING)
    return {"colorscale": SIMILARITY_SCALE, "zmin": round(low, 4), "zmax": round(high, 4)}


def plot_similarity(
    matrix: Any, labels: Sequence[Any], *, metric: str = "cosine", title: str | None = None
) -> go.Figure:
    """A heatmap of :func:`~neurogenesis.analysis.embeddings.similarity_matrix`.

    Args:
        matrix: (n, n) cosine similarities or euclidean distances.
        labels: one name per row (sample names, words); escaped; duplicates stay separate rows.
        metric: ``"cosine"`` or ``"euclidean"`` (a sequential scale from 0, darker for nearer).
            Cosine similarities that are all positive (hidden states after a ReLU are 0.8 to 1
            apart) get a sequential scale over the range they span, rounded out to 0.05 and said
            on the colour bar, so their differences show; with negative values a diverging scale
            centred on zero, as wide as the largest size.
        title: the figure title.
    """
    if metric not in SIMILARITY_METRICS:
        raise InputError(f"Expected metric in {SIMILARITY_METRICS}. Received: {metric!r}.")
    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] != len(labels):
        raise InputError(
            f"Expected a square matrix with one label per row. Received shape {values.shape} and "
            f"{len(labels)} labels."
        )
    names = [escaped(label) for label in labels]
    positions = np.arange(len(names))
    value_name = "cosine similarity" if metric == "cosine" else "euclidean distance"
    scale_name = value_name
    if metric == "cosine":
        scale = _cosine_scale(values)
        low, high = scale["zmin"], scale["zmax"]
        # Two lines at most: Plotly does not make room for a third above the bar.
        scale_name = (
            f"{value_name}<br>scale {low:.2f} to {high:.2f}"
            if "zmid" not in scale
            else f"{value_name}<br>(0 = white)"
        )
    else:
        scale = {"colorscale": "Viridis_r", "zmin": 0.0}
    # Numeric axes with tick labels: a categorical axis would merge rows with the same label.
    heatmap = go.Heatmap(
        z=values,
        x=positions,
        y=positions,
        customdata=np.array([[(row, col) for col in names] for row in names], dtype=object)
        if len(names) <= MAX_TICK_LABELS
        else None,
        hovertemplate=(
            "%{customdata[0]} · %{customdata[1]}<br>" + value_name + " %{z:.3f}<extra></extra>"
            if len(names) <= MAX_TICK_LABELS
            else "row %{y} · column %{x}<br>" + value_name + " %{z:.3f}<extra></extra>"
        ),
        colorbar={"title": {"text": scale_name}},
        **scale,
    )
    fig = go.Figure(heatmap)
    layout = base_layout(title or f"{value_name.capitalize()} between {len(names)} points")
    layout["hovermode"] = "closest"
    ticks = {"tickvals": positions, "ticktext": names} if len(names) <= MAX_TICK_LABELS else {}
    layout["xaxis"] = {"showgrid": False, "title": {"text": "point"}, **ticks}
    layout["yaxis"] = {
        "showgrid": False,
        "autorange": "reversed",
        "scaleanchor": "x",
        "title": {"text": "point"},
        **ticks,
    }
    fig.update_layout(layout)
    return fig


# --------------------------------------------------------------------------------------------
# Autoencoders
# --------------------------------------------------------------------------------------------


def _tile(images: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """``images`` (rows * columns, H, W, C) on one canvas with a one-pixel NaN gap between."""
    _, height, width, channels = images.shape
    canvas = np.full(
        (rows * (height + TILE_GAP) - TILE_GAP, columns * (width + TILE_GAP) - TILE_GAP, channels),
        np.nan,
    )
    for position, image in enumerate(images):
        row, column = divmod(position, columns)
        top, left = row * (height + TILE_GAP), column * (width + TILE_GAP)
        canvas[top : top + height, left : left + width] = image
    return canvas


def _as_images(values: np.ndarray) -> np.ndarray:
    """(n, H, W[, C]) or (n, L) vectors as (n, H, W, C) pictures (a vector as one row)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        return values[:, None, :, None]
    if values.ndim == 3:
        return values[..., None]
    if values.ndim == 4:
        return values
    raise InputError(f"Expected images (n, height, width[, channels]). Received: {values.shape}.")


def _picture(canvas: np.ndarray, low: float, high: float, hover: str, custom=None) -> Any:
    """A grey canvas as a heatmap on ``low..high`` (high white), a colour one as an image."""
    if canvas.shape[-1] == 3:
        scaled = np.clip((np.nan_to_num(canvas, nan=high) - low) / (high - low or 1.0), 0, 1)
        return go.Image(z=np.rint(scaled * 255).astype(np.uint8), hoverinfo="skip")
    return go.Heatmap(
        z=canvas[..., 0],
        zmin=low,
        zmax=high,
        colorscale="Greys",
        reversescale=True,
        hoverongaps=False,
        customdata=custom,
        hovertemplate=hover,
        colorbar={"thickness": 12},
    )


def _picture_layout(
    fig: go.Figure, title: str, canvas: np.ndarray, extra: int, width: int = PICTURE_WIDTH_PX
) -> None:
    pixel = float(np.clip(width / canvas.shape[1], 2.0, 24.0))
    layout = base_layout(title)
    layout.update(
        hovermode="closest",
        height=int(np.clip(canvas.shape[0] * pixel + extra, 240, 1400)),
        showlegend=False,
        margin={"l": 110, "r": 20, "t": 80, "b": 60},
    )
    fig.update_layout(layout)
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(
        showgrid=False,
        zeroline=False,
        autorange="reversed",
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )


def plot_reconstructions(info: ReconstructionInfo) -> go.Figure:
    """Inputs (top row) above the autoencoder's outputs (bottom row), on ONE colour scale.

    Each column is a sample, labelled with its index and mean squared error; both rows share the
    scale ``info.value_range`` (its colour bar says so), so a faint reconstruction looks faint.
    """
    inputs, outputs = _as_images(info.inputs), _as_images(info.outputs)
    count = len(inputs)
    if count == 0:
        raise InputError("Expected at least one sample to show. Received: none.")
    height, width = inputs.shape[1:3]
    canvas = _tile(np.concatenate([inputs, outputs]), 2, count)
    low, high = info.value_range
    if high <= low:
        high = low + 1.0
    fig = go.Figure(_picture(canvas, low, high, "pixel value %{z:.3f}<extra></extra>"))
    if isinstance(fig.data[0], go.Heatmap):
        fig.data[0].colorbar.title = {"text": "pixel value"}
    step = width + TILE_GAP
    errors = info.errors[info.indices]
    fig.update_xaxes(
        tickvals=[column * step + (width - 1) / 2 for column in range(count)],
        ticktext=[
            f"#{int(index)}<br>{error:.3f}"
            for index, error in zip(info.indices, errors, strict=True)
        ],
        title={"text": "sample, and its mean squared error"},
    )
    fig.update_yaxes(
        tickvals=[(height - 1) / 2, height + TILE_GAP + (height - 1) / 2],
        ticktext=["input", "reconstruction"],
        title={"text": "row"},
    )
    chosen = {
        "given": "chosen samples",
        "first": f"first {count} samples",
        "worst": f"{count} worst reconstructed samples",
        "best": f"{count} best reconstructed samples",
    }[info.order]
    title = (
        f"Inputs and reconstructions: the {chosen} of {len(info.errors):,}"
        f"<br><sup>mean squared error over all samples {info.mean_error:.4f}; one colour scale "
        f"{low:.3g} to {high:.3g} for both rows</sup>"
    )
    _picture_layout(fig, title, canvas, 170, width=WIDE_PICTURE_WIDTH_PX)
    return fig


def plot_latent_grid(info: LatentGridInfo) -> go.Figure:
    """The decoder's outputs over the grid of the first two latent coordinates.

    Tiles sit at their latent coordinates: the first grows to the right, the second upwards.
    Axis ticks give the coordinates of a few tiles; hover gives each tile's.
    """
    rows, columns = info.images.shape[:2]
    images = _as_images(info.images.reshape(rows * columns, *info.images.shape[2:]))
    height, width = images.shape[1:3]
    canvas = _tile(images, rows, columns)
    finite = canvas[np.isfinite(canvas)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if low >= 0.0 and high <= 1.0:
        low, high = 0.0, 1.0  # a sigmoid's outputs: keep the full range, grey means grey
    custom = np.full((*canvas.shape[:2], 2), np.nan)
    for row in range(rows):
        for column in range(columns):
            top, left = row * (height + TILE_GAP), column * (width + TILE_GAP)
            custom[top : top + height, left : left + width] = (
                info.first[column],
                info.second[row],
            )
    name = escaped(info.latent)
    fig = go.Figure(
        _picture(
            canvas,
            low,
            high,
            f"{name}[0] %{{customdata[0]:.3f}}<br>{name}[1] %{{customdata[1]:.3f}}<br>"
            "decoded value %{z:.3f}<extra></extra>",
            custom,
        )
    )
    if isinstance(fig.data[0], go.Heatmap):
        fig.data[0].colorbar.title = {"text": "decoded<br>pixel value"}
    ticks = sorted({0, columns // 2, columns - 1})
    fig.update_xaxes(
        tickvals=[c * (width + TILE_GAP) + (width - 1) / 2 for c in ticks],
        ticktext=[f"{info.first[c]:.2f}" for c in ticks],
        title={"text": f"{name}[0], first latent coordinate"},
    )
    if rows > 1:
        row_ticks = sorted({0, rows // 2, rows - 1})
        fig.update_yaxes(
            tickvals=[r * (height + TILE_GAP) + (height - 1) / 2 for r in row_ticks],
            ticktext=[f"{info.second[r]:.2f}" for r in row_ticks],
            title={"text": f"{name}[1], second latent coordinate"},
        )
    others = f"; the other {info.latent_dim - 2} coordinates at 0" if info.latent_dim > 2 else ""
    low_q, high_q = info.quantiles
    title = (
        f"What {escaped(info.decoder)} makes of a {rows} × {columns} grid of latent points"
        f"<br><sup>{name} from the encoded samples' {low_q:.0%} to {high_q:.0%} quantile on "
        f"each axis{others}</sup>"
    )
    _picture_layout(fig, title, canvas, 170)
    return fig


# --- the tables and colours behind the projector and the autoencoder views --------------------


def projection_colours(colour_by: str, predictions, clusters=None):
    """What colours the projector's points: ``(values, "categorical" or "continuous", category
    names or None)`` for ``colour_by`` (label, prediction, correctness, confidence, cluster)."""
    names = list(predictions.label_names) if predictions.label_names else None
    if colour_by == "label" and predictions.task == "regression":
        return np.asarray(predictions.labels, dtype=np.float64), "continuous", None
    if colour_by == "label":
        own = getattr(predictions, "own_labels", False)  # the set's labels, not model classes
        label_names = predictions.own_label_names if own else names
        return np.asarray(predictions.labels), "categorical", list(label_names or ()) or None
    if colour_by == "prediction":
        return np.asarray(predictions.predicted), "categorical", names
    if colour_by == "correctness":
        return np.asarray(predictions.correct).astype(int), "categorical", ["wrong", "correct"]
    if colour_by == "confidence":
        return np.asarray(predictions.confidence), "continuous", None
    return (
        np.asarray(clusters.labels),
        "categorical",
        [f"cluster {i}" for i in range(clusters.num_clusters)],
    )


def projection_table(info: ProjectionInfo, predictions, colour_by, colour, names) -> pd.DataFrame:
    """Every sample's place in the projection, with what colours it."""
    from neurogenesis.plotting.features import sample_table

    table = sample_table(predictions, np.arange(len(info.coords)))
    for axis in range(info.coords.shape[1]):
        table.insert(1 + axis, f"{info.method} {axis + 1}", info.coords[:, axis])
    if colour_by == "cluster":
        values = np.asarray(colour)
        table["cluster"] = [names[v] if names and 0 <= v < len(names) else v for v in values]
    return table


def neighbours_table(neighbours, facts: Sequence[str]) -> pd.DataFrame:
    """The nearest neighbours of a sample with their distances and ``facts`` (their captions)."""
    return pd.DataFrame(
        {"sample": neighbours.indices, "distance": neighbours.distances, "sample facts": facts}
    )


def similarity_table(matrix, labels: Sequence[str]) -> pd.DataFrame:
    """The similarity matrix, its rows and columns labelled."""
    return pd.DataFrame(matrix, index=labels, columns=labels)


def reconstructions_table(info: ReconstructionInfo) -> pd.DataFrame:
    """The samples shown, with their mean squared reconstruction errors."""
    return pd.DataFrame({"sample": info.indices, "mean squared error": info.errors[info.indices]})


def latent_grid_table(info: LatentGridInfo) -> pd.DataFrame:
    """The latent grid's points, row by row (the first coordinate fastest)."""
    rows, columns = info.images.shape[:2]
    return pd.DataFrame(
        {
            f"{info.latent}[0]": np.tile(info.first, rows),
            f"{info.latent}[1]": np.repeat(info.second, columns),
        }
    )

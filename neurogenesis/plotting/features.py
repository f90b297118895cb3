"""Features as Plotly figures: sample thumbnails, filters, feature maps, activation maximization.

Drawing only: no TensorFlow, no Streamlit. Many small pictures are drawn as ONE tiled picture (a
``go.Image`` or a ``go.Heatmap`` with blank gaps) and a coarse, invisible heatmap on top of it
whose cells are the tiles, so hovering a tile names it: a figure with one trace per thumbnail
takes seconds to draw in the browser once there are a few dozen.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from neurogenesis.analysis.features import (
    ActivationMaxInfo,
    FeatureMapsInfo,
    FiltersInfo,
    PredictionInfo,
)
from neurogenesis.errors import InputError
from neurogenesis.plotting.embeddings import category_colours
from neurogenesis.plotting.style import PALETTE, base_layout, color_for, escaped, rgba

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_MAX_CHANNELS",
    "DEFAULT_MAX_FILTERS",
    "SAMPLE_KINDS",
    "activation_maximization_table",
    "caption_font_size",
    "class_name",
    "label_name",
    "feature_maps_table",
    "filters_table",
    "plot_activation_maximization",
    "plot_feature_maps",
    "plot_filters",
    "plot_sample_grid",
    "sample_table",
    "sample_text_table",
]

SAMPLE_KINDS = ("image", "series", "text", "array")
DEFAULT_COLUMNS = 8
DEFAULT_MAX_FILTERS = 64
DEFAULT_MAX_CHANNELS = 16
WRONG_COLOR = PALETTE[5]
"""Vermillion, the palette's red: the border of a wrongly predicted sample."""
SELECTED_COLOR = PALETTE[0]
BACKGROUND = 255
GAP_SHARE = 0.15
"""Blank between tiles, as a share of a tile's width (at least one pixel)."""
CAPTION_SHARE = 0.45
"""Room under a thumbnail (or above a feature map) for its caption, as a share of its height."""
CAPTION_FONT_SIZE = 10
MIN_CAPTION_FONT_SIZE = 8
MAX_CAPTION_CHARS = 22
"""Characters per caption line at most (a longer line ends in "…")."""
CHAR_WIDTH_EM = 0.6
"""A character's width in font sizes (Plotly's default sans-serif, upper bound for digits)."""
CAPTION_FILL = 0.95
LINE_HEIGHT = 1.3
FIGURE_WIDTH_PX = 760
"""The width heights are worked out for (figures stretch to the page; the aspect stays close)."""
MIN_HEIGHT_PX, MAX_HEIGHT_PX = 220, 2400
SERIES_ROW_PX = 90
TEXT_ROW_PX = 28
FILTER_COLORSCALE = "RdBu_r"
FILTER_WIDTH_PX = 620
"""The width a grid of kernels is sized for (the colour bar takes the rest of the figure)."""
MAX_FILTER_PIXEL_PX = 28.0
"""Diverging around zero: negative weights blue, positive red."""
MAP_COLORSCALE = "Viridis"
MIN_TICK_SPACING_PX = 15
"""Channel labels of a sequence map are at least this far apart (every second one when rows are
thinner)."""
SIGNED_MAP_COLORSCALE = "RdBu_r"
"""Feature maps with negative values (normalization, attention outputs): blue below zero, white at
zero, red above."""
INPUT_PANEL_SHARE = 0.22
OBJECTIVE_COLOR = color_for(0)
SETTLED_CHANGE = 0.02
"""An ascent whose last tenth of steps moved the value by at most this share of its rise has
settled."""
SETTLING_PERCENT = 10
PAD_TOKENS = ("", "[PAD]", "<pad>", "<PAD>", "[pad]")
TRANSPARENT = [[0.0, "rgba(0,0,0,0)"], [1.0, "rgba(0,0,0,0)"]]


# --------------------------------------------------------------------------------------------
# Shared helpers.


def _display_uint8(images: np.ndarray) -> np.ndarray:
    """Images ``(n, h, w[, c])`` as ``uint8`` RGB ``(n, h, w, 3)`` for ``go.Image``.

    uint8 stays as it is; floats in [0, 1] are scaled by 255, floats in [0, 255] kept, anything
    else stretched from its minimum to its maximum over all the images (so they stay comparable).
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    channels = images.shape[-1]
    if channels == 4:
        images = images[..., :3]
    elif channels != 3:
        images = np.repeat(images[..., :1], 3, axis=-1)
    if images.dtype == np.uint8:
        return images
    values = np.nan_to_num(images.astype(np.float64))
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if low >= 0 and high <= 1:
        values = values * 255
    elif not (low >= 0 and high <= 255):
        values = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _image(pixels: np.ndarray, **properties) -> go.Image:
    """``go.Image`` of ``uint8`` RGB pixels, sent as a PNG data URI.

    A grid of 64 thumbnails as nested lists is ~1.7 MB of JSON on every rerun; as a PNG it is
    tens of kilobytes.
    """
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(buffer, format="PNG")
    source = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return go.Image(source=source, **properties)


def _stretched_uint8(images: np.ndarray) -> np.ndarray:
    """Each image min-max stretched on its own to 0..255 (kernels, optimized inputs)."""
    images = np.asarray(images, dtype=np.float64)
    axes = tuple(range(1, images.ndim))
    low = images.min(axis=axes, keepdims=True)
    span = images.max(axis=axes, keepdims=True) - low
    scaled = np.divide(images - low, span, out=np.full_like(images, 0.5), where=span > 0)
    return _display_uint8(scaled)


class _Grid:
    """Where ``count`` tiles of ``tile_h`` x ``tile_w`` go on one canvas, row by row."""

    def __init__(
        self, count: int, tile_h: int, tile_w: int, columns: int, *, band: int = 0, above=False
    ):
        self.count = count
        self.tile_h, self.tile_w = tile_h, tile_w
        self.columns = max(1, min(int(columns), max(count, 1)))
        self.rows = max(1, math.ceil(count / self.columns))
        self.gap = max(1, round(GAP_SHARE * tile_w))
        self.band = band
        self.above = above
        self.cell_w = tile_w + self.gap
        self.cell_h = tile_h + self.gap + band
        self.width = self.columns * self.cell_w + self.gap
        self.height = self.rows * self.cell_h + self.gap

    def origin(self, index: int) -> tuple[int, int]:
        """The (top, left) pixel of tile ``index``."""
        row, column = divmod(index, self.columns)
        top = self.gap + row * self.cell_h + (self.band if self.above else 0)
        return top, self.gap + column * self.cell_w

    def center(self, index: int) -> tuple[float, float]:
        top, left = self.origin(index)
        return top + (self.tile_h - 1) / 2, left + (self.tile_w - 1) / 2

    def canvas(self, tiles: np.ndarray, fill) -> np.ndarray:
        canvas = np.full((self.height, self.width, *tiles.shape[3:]), fill, dtype=tiles.dtype)
        for index, tile in enumerate(tiles):
            top, left = self.origin(index)
            canvas[top : top + self.tile_h, left : left + self.tile_w] = tile
        return canvas

    def box(self, index: int, margin: float) -> dict:
        top, left = self.origin(index)
        return {
            "x0": left - 0.5 - margin,
            "x1": left + self.tile_w - 0.5 + margin,
            "y0": top - 0.5 - margin,
            "y1": top + self.tile_h - 0.5 + margin,
        }

    def hover_trace(self, texts: Sequence[str], ids: Sequence[int] | None = None) -> go.Heatmap:
        """An invisible heatmap, one cell per tile, that names the tile under the pointer.

        Its ``customdata`` is each tile's id (``ids``, default the position; -1 off the tiles).
        """
        z = np.full((self.rows, self.columns), np.nan)
        hover = np.full((self.rows, self.columns), "", dtype=object)
        custom = np.full((self.rows, self.columns), -1, dtype=np.int64)
        for index, text in enumerate(texts):
            row, column = divmod(index, self.columns)
            z[row, column] = index
            hover[row, column] = text
            custom[row, column] = index if ids is None else int(ids[index])
        top, left = self.center(0)
        return go.Heatmap(
            z=z,
            x0=left,
            dx=self.cell_w,
            y0=top,
            dy=self.cell_h,
            hovertext=hover,
            customdata=custom,
            hoverinfo="text",
            hoverongaps=False,
            colorscale=TRANSPARENT,
            showscale=False,
            name="tiles",
        )

    def click_trace(self, texts: Sequence[str], ids: Sequence[int]) -> go.Scatter:
        """Invisible markers on the tiles' centres whose ``customdata`` is the tile's id.

        Streamlit's chart selection reports scatter points, not heatmap cells.
        """
        centres = [self.center(index) for index in range(len(texts))]
        return go.Scatter(
            x=[x for _, x in centres],
            y=[y for y, _ in centres],
            customdata=[int(i) for i in ids],
            hovertext=list(texts),
            hoverinfo="text",
            mode="markers",
            marker={"size": 24, "color": "rgba(0,0,0,0)"},
            name="samples",
            showlegend=False,
        )

    def height_px(self, extra: int = 0, share: float = 1.0) -> int:
        """The figure height that keeps pixels square when the grid gets ``share`` of the width."""
        scale = FIGURE_WIDTH_PX * share / self.width
        return int(np.clip(self.height * scale + extra, MIN_HEIGHT_PX, MAX_HEIGHT_PX))


def _picture_axes(figure: go.Figure, row: int | None = None, col: int | None = None) -> None:
    """Axes for a picture: hidden, square pixels, the first row at the top."""
    figure.update_xaxes(visible=False, showgrid=False, constrain="domain", row=row, col=col)
    figure.update_yaxes(
        visible=False,
        showgrid=False,
        autorange="reversed",
        scaleanchor="x" if row is None else None,
        constrain="domain",
        row=row,
        col=col,
    )


def _layout(title: str, height: int) -> dict:
    layout = base_layout(title)
    layout.update(hovermode="closest", height=height, showlegend=False)
    layout["margin"] = {"l": 10, "r": 10, "t": 60, "b": 10}
    return layout


def _short(text: str) -> str:
    return text if len(text) <= MAX_CAPTION_CHARS else text[: MAX_CAPTION_CHARS - 1] + "…"


# --------------------------------------------------------------------------------------------
# Sample browser.


def _describe(info: PredictionInfo, index: int) -> tuple[str, str, bool]:
    """A sample's caption, hover text and whether its prediction is wrong."""
    parts, hover = [], [f"sample {index}"]
    wrong = bool(info.correct is not None and not info.correct[index])
    label = None
    if info.labels is not None and info.labels.ndim == 1:
        value = info.labels[index]
        label = info.label_name(value) if info.labels.dtype.kind in "iu" else f"{float(value):.3g}"
        hover.append(f"label: {escaped(label)}")
    if info.predicted is not None:
        predicted = info.class_name(info.predicted[index])
        confidence = float(info.confidence[index])
        # A correct prediction needs its class only once.
        arrow = f"{label}→{predicted}" if label not in (None, predicted) else predicted
        parts.append(f"{arrow} {confidence:.0%}")
        hover.append(f"predicted: {escaped(predicted)} ({confidence:.1%})")
    elif info.task == "regression":
        predicted = float(info.outputs[index, 0])
        parts.append(f"{label} / {predicted:.3g}" if label is not None else f"{predicted:.3g}")
        hover.append(f"predicted: {predicted:.4g}")
        if info.errors is not None:
            hover.append(f"absolute error: {float(info.errors[index]):.3g}")
    elif label is not None:
        parts.append(label)
    if wrong:
        hover.append("<b>wrong</b>")
    return escaped(_short(" ".join(parts))), "<br>".join(hover), wrong


def _marks(
    grid: _Grid, wrong: Sequence[bool], selected_position: int | None, margin: float
) -> list[dict]:
    shapes = []
    for position, is_wrong in enumerate(wrong):
        if is_wrong:
            shapes.append(
                {"type": "rect", "line": {"color": WRONG_COLOR, "width": 2}, "name": "wrong"}
                | grid.box(position, margin)
            )
    if selected_position is not None:
        shapes.append(
            {"type": "rect", "line": {"color": SELECTED_COLOR, "width": 4}, "name": "selected"}
            | grid.box(selected_position, margin * 2)
        )
    return shapes


def _sample_texts(
    count: int,
    indices: np.ndarray,
    captions: Sequence[str] | None,
    info: PredictionInfo | None,
) -> tuple[list[str], list[str], list[bool]]:
    if captions is not None and len(captions) != count:
        raise InputError(
            f"Expected one caption per shown sample ({count}). Received: {len(captions)}."
        )
    shown, hovers, wrong = [], [], []
    for position, index in enumerate(indices):
        if info is not None:
            caption, hover, is_wrong = _describe(info, int(index))
        else:
            caption, hover, is_wrong = "", f"sample {int(index)}", False
        if captions is not None:
            # A caption may hold several lines ("\n"); each is escaped and kept short on its own.
            lines = str(captions[position]).split("\n")
            caption = "<br>".join(escaped(_short(line)) for line in lines)
            hover = f"{hover}<br>{'<br>'.join(escaped(line) for line in lines)}"
        shown.append(caption)
        hovers.append(hover)
        wrong.append(is_wrong)
    return shown, hovers, wrong


def _caption_lines(caption: str) -> list[str]:
    """A caption's lines as they are drawn (tags and entities count as what they show)."""
    import html
    import re

    return [html.unescape(re.sub(r"<[^>]+>", "", line)) for line in caption.split("<br>")]


def _cut_lines(caption: str, limit: int) -> str:
    """Each line of an escaped caption cut to ``limit`` shown characters (ending in "…")."""

    lines = []
    for line in _caption_lines(caption):
        shown = line if len(line) <= limit else line[: limit - 1] + "…"
        lines.append(escaped(shown))
    return "<br>".join(lines)


def caption_font_size(captions: Sequence[str], cell_px: float) -> int:
    """The largest font (up to ``CAPTION_FONT_SIZE``) at which every caption line fits a cell.

    A line of n characters is about ``CHAR_WIDTH_EM * n`` font sizes wide; below
    ``MIN_CAPTION_FONT_SIZE`` the font stays there (lines were already cut to
    ``MAX_CAPTION_CHARS``).
    """
    longest = max((len(line) for c in captions for line in _caption_lines(c)), default=0)
    if longest == 0:
        return CAPTION_FONT_SIZE
    fitting = math.floor(CAPTION_FILL * cell_px / (CHAR_WIDTH_EM * longest))
    return int(np.clip(fitting, MIN_CAPTION_FONT_SIZE, CAPTION_FONT_SIZE))


def _caption_annotations(
    grid: _Grid, captions: Sequence[str], wrong: Sequence[bool], font_size: int = CAPTION_FONT_SIZE
) -> list:
    annotations = []
    for position, caption in enumerate(captions):
        if not caption:
            continue
        top, left = grid.origin(position)
        annotations.append(
            {
                "x": left + (grid.tile_w - 1) / 2,
                "y": top + grid.tile_h - 0.5 + grid.gap / 2,
                "xref": "x",
                "yref": "y",
                "text": caption,
                "showarrow": False,
                "yanchor": "top",
                "font": {
                    "size": font_size,
                    "color": WRONG_COLOR if wrong[position] else "#333333",
                },
            }
        )
    return annotations


def _check_indices(x: np.ndarray, indices: Sequence[int] | None) -> np.ndarray:
    chosen = np.arange(len(x)) if indices is None else np.asarray(indices, dtype=np.int64)
    if chosen.ndim != 1 or (chosen.size and (chosen.min() < 0 or chosen.max() >= len(x))):
        raise InputError(
            f"Expected sample indices from 0 to {len(x) - 1}. Received: {chosen.tolist()[:8]}."
        )
    return chosen


def plot_sample_grid(
    x: np.ndarray,
    indices: Sequence[int] | None = None,
    *,
    kind: str = "image",
    captions: Sequence[str] | None = None,
    columns: int = DEFAULT_COLUMNS,
    selected: int | None = None,
    info: PredictionInfo | None = None,
    wrong: Sequence[bool] | None = None,
    feature_names: Sequence[str] | None = None,
    vocabulary: Sequence[str] | None = None,
) -> go.Figure:
    """Samples ``x[indices]`` as thumbnails, sparklines or table rows.

    Images are tiled into one picture (hover names the sample, its label and prediction; a click
    selects a point whose ``customdata`` is the sample's index, as the sparklines' do); series
    ``(n, steps[, features])`` become sparklines, each feature stretched over the shown samples;
    text (strings, or token ids with ``vocabulary``) becomes a table. With ``info`` each sample is
    captioned ``label→prediction confidence`` and wrong predictions get a red border (a red row
    for text); ``captions`` replaces those captions.

    Args:
        x: all the samples.
        indices: the samples to show, in order (default: all).
        kind: ``"image"``, ``"series"``, ``"text"``, or ``"array"`` (series or images by rank).
        captions: one short caption per shown sample.
        columns: thumbnails per row.
        selected: a sample index (into ``x``) to outline.
        info: the predictions, for captions, hover and wrong marks.
        wrong: one flag per shown sample, marking wrong predictions (replaces ``info``'s).
        feature_names: names of a series' features, for the legend and hover.
        vocabulary: token id -> word, to show token ids as text.

    Returns:
        The figure.

    Raises:
        InputError: an unknown kind, indices out of range, or captions of another length.
    """
    if kind not in SAMPLE_KINDS:
        raise InputError(f"Expected kind in {SAMPLE_KINDS}. Received: {kind!r}.")
    x = np.asarray(x)
    chosen = _check_indices(x, indices)
    if kind == "array":
        kind = "image" if x.ndim == 4 else "series"
    texts, hovers, marked = _sample_texts(len(chosen), chosen, captions, info)
    if wrong is not None:
        if len(wrong) != len(chosen):
            raise InputError(
                f"Expected one wrong flag per shown sample ({len(chosen)}). Received: {len(wrong)}."
            )
        marked = [bool(flag) for flag in wrong]
    wrong = marked
    where = np.flatnonzero(chosen == selected) if selected is not None else []
    selected_position = int(where[0]) if len(where) else None
    if kind == "text":
        return _text_table(x, chosen, texts, hovers, wrong, selected_position, vocabulary)
    if kind == "series":
        return _sparklines(
            x[chosen], chosen, texts, wrong, selected_position, columns, feature_names
        )
    return _thumbnails(x[chosen], chosen, texts, hovers, wrong, selected_position, columns)


def _thumbnails(images, chosen, texts, hovers, wrong, selected_position, columns) -> go.Figure:
    if images.ndim not in (3, 4):
        raise InputError(
            f"Expected images of shape (n, height, width[, channels]). Received: {images.shape}. "
            "Use kind='series' or 'text' for other samples."
        )
    pictures = _display_uint8(images)
    height, width = pictures.shape[1:3]
    # The captions' room follows their lines at the font that fits a cell (pixels per data unit
    # come from the grid's width, which the band does not change).
    share = min(len(chosen), max(1, int(columns))) / max(1, int(columns))
    scale = FIGURE_WIDTH_PX * share / _Grid(len(chosen), height, width, columns).width
    cell_px = _Grid(len(chosen), height, width, columns).cell_w * scale
    font_size = caption_font_size(texts, cell_px)
    fitting = max(4, math.floor(CAPTION_FILL * cell_px / (CHAR_WIDTH_EM * font_size)))
    texts = [_cut_lines(text, fitting) for text in texts]
    lines = max((len(_caption_lines(text)) for text in texts if text), default=0)
    band = (
        max(round(CAPTION_SHARE * height), math.ceil(lines * LINE_HEIGHT * font_size / scale))
        if any(texts)
        else 0
    )
    grid = _Grid(len(chosen), height, width, columns, band=band)
    figure = go.Figure()
    if len(chosen):
        figure.add_trace(_image(grid.canvas(pictures, BACKGROUND), hoverinfo="skip"))
        figure.add_trace(grid.hover_trace(hovers, chosen))
        figure.add_trace(grid.click_trace(hovers, chosen))
    shapes = _marks(grid, wrong, selected_position, grid.gap * 0.3)
    title = f"{len(chosen)} sample{'s' if len(chosen) != 1 else ''}"
    if any(wrong):
        title += f" ({sum(wrong)} wrong, outlined in red)"
    # A short row keeps the thumbnail size of a full one instead of stretching to the width.
    figure.update_layout(
        **_layout(title, grid.height_px(70, share=share)),
        shapes=shapes,
        annotations=_caption_annotations(grid, texts, wrong, font_size),
    )
    _picture_axes(figure)
    figure.update_xaxes(range=[-0.5, grid.width - 0.5])
    figure.update_yaxes(range=[grid.height - 0.5, -0.5], autorange=False)
    return figure


def _sparklines(series, chosen, texts, wrong, selected_position, columns, feature_names):
    if series.ndim == 2:
        series = series[..., None]
    if series.ndim != 3:
        raise InputError(
            f"Expected series of shape (n, steps[, features]). Received: {series.shape}."
        )
    count, steps, num_features = series.shape
    names = (
        [str(name) for name in feature_names]
        if feature_names is not None and len(feature_names) == num_features
        else [f"feature {f}" for f in range(num_features)]
    )
    gap = max(1.0, GAP_SHARE * steps)
    cell_w = steps - 1 + gap
    band = CAPTION_SHARE if any(texts) else 0.0
    cell_h = 1.0 + 0.15 + band
    columns = max(1, min(int(columns), max(count, 1)))
    rows = max(1, math.ceil(count / columns))
    values = series.astype(np.float64)
    low = np.nanmin(values, axis=(0, 1)) if count else np.zeros(num_features)
    span = (np.nanmax(values, axis=(0, 1)) - low) if count else np.ones(num_features)
    span = np.where(span > 0, span, 1.0)
    # Distinct colours for up to 20 features (the 8-colour palette repeated past 8).
    feature_colours = (
        PALETTE if num_features <= len(PALETTE) else category_colours(min(num_features, 20))
    )
    figure = go.Figure()
    for feature in range(num_features):
        xs, ys, custom = [], [], []
        for position in range(count):
            row, column = divmod(position, columns)
            xs.extend((column * cell_w + np.arange(steps)).tolist() + [None])
            scaled = (values[position, :, feature] - low[feature]) / span[feature]
            ys.extend((row * cell_h + 1.0 - scaled).tolist() + [None])
            custom.extend(
                [[int(chosen[position]), float(v)] for v in values[position, :, feature]]
                + [[None, None]]
            )
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                customdata=custom,
                mode="lines",
                line={"color": feature_colours[feature % len(feature_colours)], "width": 1.2},
                name=escaped(names[feature]),
                hovertemplate=(
                    f"sample %{{customdata[0]}}<br>{escaped(names[feature])}: "
                    "%{customdata[1]:.4g}<extra></extra>"
                ),
            )
        )
    shapes, annotations = [], []
    for position in range(count):
        row, column = divmod(position, columns)
        box = {
            "x0": column * cell_w - gap * 0.3,
            "x1": column * cell_w + steps - 1 + gap * 0.3,
            "y0": row * cell_h - 0.1,
            "y1": row * cell_h + 1.1,
        }
        if wrong[position]:
            shapes.append(
                {"type": "rect", "line": {"color": WRONG_COLOR, "width": 2}, "name": "wrong"} | box
            )
        if position == selected_position:
            shapes.append(
                {"type": "rect", "line": {"color": SELECTED_COLOR, "width": 4}, "name": "selected"}
                | box
            )
        if texts[position]:
            annotations.append(
                {
                    "x": column * cell_w + (steps - 1) / 2,
                    "y": row * cell_h + 1.12,
                    "text": texts[position],
                    "showarrow": False,
                    "yanchor": "top",
                    "font": {
                        "size": CAPTION_FONT_SIZE,
                        "color": WRONG_COLOR if wrong[position] else "#333333",
                    },
                }
            )
    layout = _layout(
        f"{count} series, each feature stretched over the samples shown",
        int(np.clip(rows * SERIES_ROW_PX + 90, MIN_HEIGHT_PX, MAX_HEIGHT_PX)),
    )
    layout["showlegend"] = num_features > 1
    layout["legend"] = base_layout("")["legend"]
    figure.update_layout(**layout, shapes=shapes, annotations=annotations)
    figure.update_xaxes(visible=False, showgrid=False, zeroline=False)
    # Down the page, to the end of the last row's caption band: the captions under the last row
    # stay inside the plot, clear of the legend below it.
    figure.update_yaxes(
        visible=False, showgrid=False, zeroline=False, range=[rows * cell_h - 0.1, -0.15]
    )
    return figure


def _as_text(sample, vocabulary) -> str:
    if isinstance(sample, str):
        return sample
    values = np.asarray(sample).ravel()
    if vocabulary is not None and values.dtype.kind in "iu":
        words = [str(vocabulary[v]) if 0 <= v < len(vocabulary) else f"<{v}>" for v in values]
        return " ".join(word for word in words if word not in PAD_TOKENS)
    return " ".join(str(value) for value in values)


def _text_table(x, chosen, texts, hovers, wrong, selected_position, vocabulary) -> go.Figure:
    rows = [_as_text(x[index], vocabulary) for index in chosen]
    fills = []
    for position in range(len(chosen)):
        if position == selected_position:
            fills.append(rgba(SELECTED_COLOR, 0.25))
        elif wrong[position]:
            fills.append(rgba(WRONG_COLOR, 0.18))
        else:
            fills.append("white")
    figure = go.Figure(
        go.Table(
            columnwidth=[1, 8, 3],
            header={
                "values": ["sample", "text", "label → prediction"],
                "align": "left",
                "fill": {"color": "#EEEEEE"},
            },
            cells={
                "values": [
                    [int(index) for index in chosen],
                    [escaped(row) for row in rows],
                    list(texts),
                ],
                "align": "left",
                "fill": {"color": [fills, fills, fills]},
                "height": TEXT_ROW_PX,
            },
        )
    )
    title = f"{len(chosen)} text sample{'s' if len(chosen) != 1 else ''}"
    if any(wrong):
        title += f" ({sum(wrong)} wrong, in red)"
    figure.update_layout(
        **_layout(
            title,
            int(np.clip(len(chosen) * TEXT_ROW_PX + 110, MIN_HEIGHT_PX, MAX_HEIGHT_PX)),
        )
    )
    return figure


# --------------------------------------------------------------------------------------------
# Filters.


def plot_filters(
    info: FiltersInfo,
    *,
    max_filters: int = DEFAULT_MAX_FILTERS,
    max_channels: int = DEFAULT_MAX_CHANNELS,
    columns: int = DEFAULT_COLUMNS,
    as_rgb: bool | None = None,
) -> go.Figure:
    """A convolution's kernels, strongest (largest L2 norm) first.

    A first layer looking at RGB pixels (``info.rgb``) draws each kernel as a colour image,
    stretched from its own minimum to its maximum, ``columns`` per row. Any other layer draws a
    grid of weights on a diverging scale symmetric around zero (blue negative, white zero, red
    positive) shared by all kernels shown: one row per filter and one column per input channel,
    or, for kernels that read one channel, ``columns`` kernels per row. Weights are square (the
    y axis is anchored to the x axis), so a 3x3 kernel looks 3x3.

    Args:
        info: the kernels.
        max_filters: filters drawn at most (the largest norms).
        max_channels: input channels drawn at most (the first ones).
        columns: colour kernels per row.
        as_rgb: force (True) or refuse (False) colour drawing; default ``info.rgb``.

    Returns:
        The figure.
    """
    if max_filters < 1 or max_channels < 1:
        raise InputError(
            f"Expected max_filters and max_channels of at least 1. Received: {max_filters}, "
            f"{max_channels}."
        )
    kernels = info.kernels[:max_filters]
    shown = len(kernels)
    total = info.num_filters
    rgb = info.rgb if as_rgb is None else bool(as_rgb and kernels.shape[-1] == 3)
    title = (
        f"{escaped(info.layer)} ({info.class_name}): {shown} of {total} filters, sorted by L2 norm"
    )
    names = [
        f"filter {int(index)}<br>L2 norm {float(norm):.3g}"
        for index, norm in zip(info.order[:shown], info.norms[:shown], strict=True)
    ]
    if rgb:
        return _rgb_filters(kernels, names, title + ", as colours", columns)
    channels = min(kernels.shape[-1], max_channels)
    if channels < kernels.shape[-1]:
        title += f"; {channels} of {kernels.shape[-1]} input channels"
    kh, kw = kernels.shape[1:3]
    # One input channel (a first layer on grey images, depthwise kernels): the kernels tile a grid
    # of ``columns``, read left to right; several: a row per filter, a column per input channel.
    tiled = channels == 1
    rows, cols = (
        (math.ceil(shown / max(1, columns)), min(shown, columns)) if tiled else (shown, channels)
    )
    canvas = np.full((rows * (kh + 1) - 1, cols * (kw + 1) - 1), np.nan)
    custom = np.full((*canvas.shape, 3), np.nan)
    for position in range(shown):
        for channel in range(channels):
            row, col = divmod(position, cols) if tiled else (position, channel)
            top, left = row * (kh + 1), col * (kw + 1)
            canvas[top : top + kh, left : left + kw] = kernels[position, :, :, channel]
            custom[top : top + kh, left : left + kw] = (
                info.order[position],
                channel,
                info.norms[position],
            )
    limit = float(np.nanmax(np.abs(canvas))) if np.isfinite(canvas).any() else 1.0
    limit = limit or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=canvas,
            customdata=custom,
            colorscale=FILTER_COLORSCALE,
            zmin=-limit,
            zmax=limit,
            zmid=0.0,
            hoverongaps=False,
            colorbar={"title": {"text": "weight (0 = white)"}, "thickness": 12},
            hovertemplate=(
                "filter %{customdata[0]} (L2 norm %{customdata[2]:.3g})<br>"
                "input channel %{customdata[1]}<br>weight %{z:.4g}<extra></extra>"
            ),
        )
    )
    # Square weights: the figure's height follows the canvas's shape at a pixel size that fits
    # the width, and the y axis is anchored to the x axis so a 3x3 kernel stays square.
    pixel = float(np.clip(FILTER_WIDTH_PX / canvas.shape[1], 4.0, MAX_FILTER_PIXEL_PX))
    if tiled:
        title += f", {cols} per row"
    figure.update_layout(
        **_layout(title, int(np.clip(canvas.shape[0] * pixel + 130, MIN_HEIGHT_PX, MAX_HEIGHT_PX)))
    )
    figure.layout.margin.b = 50
    x_axis = {"showgrid": False, "zeroline": False, "constrain": "domain"}
    y_axis = {
        "showgrid": False,
        "zeroline": False,
        "autorange": "reversed",
        "scaleanchor": "x",
        "scaleratio": 1,
        "constrain": "domain",
    }
    if tiled:
        figure.update_xaxes(
            title={"text": "filters, strongest first (left to right)"},
            showticklabels=False,
            **x_axis,
        )
        figure.update_yaxes(showticklabels=False, **y_axis)
        return figure
    figure.update_xaxes(
        title={"text": "input channel"},
        tickvals=[c * (kw + 1) + (kw - 1) / 2 for c in range(channels)],
        ticktext=[str(c) for c in range(channels)],
        **x_axis,
    )
    figure.update_yaxes(
        title={"text": "filter (by norm)"},
        tickvals=[r * (kh + 1) + (kh - 1) / 2 for r in range(shown)],
        ticktext=[str(int(index)) for index in info.order[:shown]],
        **y_axis,
    )
    return figure


def _rgb_filters(kernels: np.ndarray, names: list[str], title: str, columns: int) -> go.Figure:
    pictures = _stretched_uint8(kernels)
    grid = _Grid(len(pictures), pictures.shape[1], pictures.shape[2], columns)
    figure = go.Figure()
    if len(pictures):
        figure.add_trace(_image(grid.canvas(pictures, BACKGROUND), hoverinfo="skip"))
        figure.add_trace(grid.hover_trace(names))
    figure.update_layout(**_layout(title, grid.height_px(70)))
    _picture_axes(figure)
    return figure


# --------------------------------------------------------------------------------------------
# Feature maps.


def _input_trace(image: np.ndarray):
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] in (1, 3, 4):
        return _image(_display_uint8(image[None])[0], name="input", hoverinfo="skip")
    values = image.reshape(image.shape[0], -1).T if image.ndim >= 2 else image[None]
    return go.Heatmap(
        z=values,
        colorscale="Greys",
        showscale=False,
        name="input",
        hovertemplate="step %{x}<br>feature %{y}<br>%{z:.4g}<extra>input</extra>",
    )


def _map_scale(values: np.ndarray, signed: bool) -> dict:
    """A diverging scale centred on zero for signed maps, else a sequential one from zero."""
    finite = values[np.isfinite(values)]
    if signed:
        limit = float(np.abs(finite).max()) if finite.size else 1.0
        limit = limit or 1.0
        return {"colorscale": SIGNED_MAP_COLORSCALE, "zmin": -limit, "zmax": limit, "zmid": 0.0}
    top = float(finite.max()) if finite.size else 1.0
    return {
        "colorscale": MAP_COLORSCALE,
        "zmin": min(0.0, float(finite.min(initial=0.0))),
        "zmax": top or 1.0,
    }


def _sequence_maps(
    info: FeatureMapsInfo,
    channels: np.ndarray,
    *,
    input_values: np.ndarray | None,
    step_labels: Sequence[str] | None,
    feature_names: Sequence[str] | None,
    what: str,
) -> go.Figure:
    """A sequence layer as ONE time x channel picture (a row per channel), the input above it."""
    z = info.maps[channels, 0, :].astype(np.float64)  # (channels, steps)
    steps = z.shape[1]
    positions = np.arange(steps)
    labels = None
    if step_labels is not None and len(step_labels) == steps:
        labels = [escaped(str(word)) if str(word) else "·" for word in step_labels]
    scale = _map_scale(z, info.signed)
    value_name = "activation"
    hover_step = "%{customdata}" if labels is not None else "step %{x}"
    heatmap = go.Heatmap(
        z=z,
        x=positions,
        y=np.arange(len(channels)),
        customdata=np.broadcast_to(np.array(labels or positions, dtype=object), z.shape)
        if labels is not None
        else None,
        colorbar={
            "title": {"text": value_name + (" (0 = white)" if info.signed else "")},
            "thickness": 12,
        },
        hovertemplate=(
            f"{hover_step}<br>channel %{{text}}<br>{value_name} %{{z:.4g}}<extra></extra>"
        ),
        text=np.broadcast_to(channels[:, None].astype(str), z.shape),
        name="maps",
        **scale,
    )
    series = None
    if input_values is not None:
        values = np.asarray(input_values, dtype=np.float64)
        if values.ndim == 2 and values.shape[0] == steps and values.dtype.kind == "f":
            series = values
    rows = 2 if series is not None else 1
    channel_px = int(np.clip(360 / max(len(channels), 1), 10, 22))
    input_px = 0
    if series is not None:
        input_px = int(np.clip(series.shape[1] * 22, 60, 200))
        figure = make_subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            row_heights=[input_px, len(channels) * channel_px],
            vertical_spacing=0.1,
            subplot_titles=(
                "input (each feature stretched to its own range)",
                f"{escaped(info.layer)}: {len(channels)} channels over {steps} steps",
            ),
        )
        low = series.min(axis=0)
        span = np.ptp(series, axis=0)
        stretched = np.divide(series - low, span, out=np.full_like(series, 0.5), where=span > 0).T
        names = (
            [escaped(str(name)) for name in feature_names]
            if feature_names is not None and len(feature_names) == series.shape[1]
            else [f"feature {f}" for f in range(series.shape[1])]
        )
        figure.add_trace(
            go.Heatmap(
                z=stretched,
                x=positions,
                y=names,
                customdata=series.T,
                colorscale="Greys",
                reversescale=True,
                zmin=0.0,
                zmax=1.0,
                showscale=False,
                name="input",
                hovertemplate="step %{x}<br>%{y} %{customdata:.4g}<extra>input</extra>",
            ),
            row=1,
            col=1,
        )
        figure.add_trace(heatmap, row=2, col=1)
    else:
        figure = go.Figure(heatmap)
    title = (
        f"{escaped(info.layer)}: {len(channels)} of {info.maps.shape[0]} channels ({what}) "
        f"over {steps} {'tokens' if labels is not None else 'steps'}, sample {info.index}"
    )
    height = len(channels) * channel_px + input_px + (150 if labels is not None else 130)
    layout = _layout(title, int(np.clip(height, MIN_HEIGHT_PX, MAX_HEIGHT_PX)))
    layout["margin"] = {"l": 70, "r": 10, "t": 70, "b": 80 if labels is not None else 50}
    figure.update_layout(**layout)
    x_axis = {
        "title": {"text": "token" if labels is not None else "time step"},
        "showgrid": False,
        "zeroline": False,
    }
    if labels is not None:
        x_axis.update(tickvals=positions, ticktext=labels, tickangle=-45)
    figure.update_xaxes(**x_axis, row=rows if rows > 1 else None, col=1 if rows > 1 else None)
    channel_axis = {
        "title": {"text": "channel" + (" (most active first)" if what != "all" else "")},
        "tickvals": np.arange(len(channels)),
        "ticktext": [str(int(c)) for c in channels],
        "autorange": "reversed",
        "showgrid": False,
        "zeroline": False,
    }
    step = math.ceil(MIN_TICK_SPACING_PX / channel_px)  # labels at least a line apart
    if step > 1:
        channel_axis["tickvals"] = np.arange(0, len(channels), step)
        channel_axis["ticktext"] = [str(int(c)) for c in channels[::step]]
    if rows > 1:
        figure.update_yaxes(**channel_axis, row=2, col=1)
        figure.update_yaxes(
            title={"text": "feature"}, autorange="reversed", showgrid=False, row=1, col=1
        )
    else:
        figure.update_yaxes(**channel_axis)
    return figure


def plot_feature_maps(
    info: FeatureMapsInfo,
    *,
    top_k: int | None = None,
    columns: int = DEFAULT_COLUMNS,
    input_image: np.ndarray | None = None,
    show_input: bool = True,
    shared_scale: bool = True,
    step_labels: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
) -> go.Figure:
    """One sample's feature maps as small heatmaps, with the input beside them.

    A sequence layer (``info.sequence``: time steps or tokens) is drawn as one time x channel
    picture instead, a row per channel, with the input series above it sharing its time axis
    (or the tokens as the time axis's labels). Maps with negative values use a diverging scale
    centred on zero; others a sequential one from zero.

    Args:
        info: the maps.
        top_k: draw only the k channels of largest mean activation (by rank); default all, in
            channel order.
        columns: maps per row.
        input_image: the picture to draw as the input (the raw image); default ``info.input``.
        show_input: draw the input panel.
        shared_scale: one colour scale for all maps (a weak or dead channel looks dark); False
            stretches each map to its own range (hover still gives the real value).
        step_labels: a sequence layer's step names (a text sample's words).
        feature_names: names of a series input's features.

    Returns:
        The figure.
    """
    if top_k is not None and top_k < 1:
        raise InputError(f"Expected top_k of at least 1. Received: {top_k}.")
    num_channels = info.maps.shape[0]
    channels = info.order[:top_k] if top_k is not None else np.arange(num_channels)
    what = f"top {len(channels)} by {'mean |activation|' if info.signed else 'mean activation'}"
    what = what if top_k is not None else "all"
    if info.sequence:
        return _sequence_maps(
            info,
            channels,
            input_values=(info.input if input_image is None else input_image)
            if show_input
            else None,
            step_labels=step_labels,
            feature_names=feature_names,
            what=what,
        )
    maps = info.maps[channels].astype(np.float64)
    height, width = maps.shape[1:]
    band = max(1, round(CAPTION_SHARE * height)) if height > 1 else 1
    grid = _Grid(len(channels), height, width, columns, band=band, above=True)
    z = maps
    if not shared_scale:
        low = maps.min(axis=(1, 2), keepdims=True)
        span = maps.max(axis=(1, 2), keepdims=True) - low
        z = np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)
    canvas = grid.canvas(z[..., None], np.nan)[..., 0]
    custom_tiles = np.stack(
        [
            np.broadcast_to(channels[:, None, None], maps.shape).astype(np.float64),
            np.broadcast_to(info.mean_activation[channels][:, None, None], maps.shape),
            maps,
        ],
        axis=-1,
    )
    custom = grid.canvas(custom_tiles, np.nan)
    scale = (
        _map_scale(canvas, info.signed)
        if shared_scale
        else {"colorscale": MAP_COLORSCALE, "zmin": 0.0, "zmax": 1.0}
    )
    heatmap = go.Heatmap(
        z=canvas,
        customdata=custom,
        hoverongaps=False,
        showscale=shared_scale,
        colorbar={
            "title": {"text": "activation" + (" (0 = white)" if info.signed else "")},
            "thickness": 12,
        },
        **scale,
        hovertemplate=(
            "channel %{customdata[0]}<br>mean %{customdata[1]:.3g}<br>"
            "activation %{customdata[2]:.4g}<extra></extra>"
        ),
        name="maps",
    )
    show_input = show_input and (input_image is not None or info.input is not None)
    if show_input:
        figure = make_subplots(
            rows=1,
            cols=2,
            column_widths=[INPUT_PANEL_SHARE, 1 - INPUT_PANEL_SHARE],
            horizontal_spacing=0.03,
            subplot_titles=("input", "feature maps"),
        )
        figure.add_trace(
            _input_trace(info.input if input_image is None else input_image), row=1, col=1
        )
        figure.add_trace(heatmap, row=1, col=2)
        map_axes = ("x2", "y2")
    else:
        figure = go.Figure(heatmap)
        map_axes = ("x", "y")
    annotations = list(figure.layout.annotations)
    for position, channel in enumerate(channels):
        top, left = grid.origin(position)
        annotations.append(
            go.layout.Annotation(
                x=left + (width - 1) / 2,
                y=top - 0.5 - grid.band / 2,
                xref=map_axes[0],
                yref=map_axes[1],
                text=f"{int(channel)} · {float(info.mean_activation[channel]):.2g}",
                showarrow=False,
                font={"size": CAPTION_FONT_SIZE},
            )
        )
    title = (
        f"{escaped(info.layer)}: {len(channels)} of {num_channels} feature maps ({what}), "
        f"sample {info.index}"
    )
    extra = 90 if show_input else 70
    share = 1 - INPUT_PANEL_SHARE if show_input else 1.0
    figure.update_layout(**_layout(title, grid.height_px(extra, share)), annotations=annotations)
    figure.update_xaxes(visible=False, showgrid=False, zeroline=False, constrain="domain")
    figure.update_yaxes(
        visible=False, showgrid=False, zeroline=False, autorange="reversed", constrain="domain"
    )
    if show_input:
        figure.update_yaxes(scaleanchor="x", row=1, col=1)
        figure.update_yaxes(scaleanchor="x2", row=1, col=2)
    else:
        figure.update_yaxes(scaleanchor="x")
    return figure


# --------------------------------------------------------------------------------------------
# Activation maximization.


def plot_activation_maximization(
    info: ActivationMaxInfo,
    *,
    references: dict[str, float] | None = None,
    unit_name: str | None = None,
) -> go.Figure:
    """The optimized input (stretched for display) and the maximized value over the steps.

    The title says what was maximized (a class's logit, a channel's mean, a unit) and whether the
    ascent settled; the trace's axis is named after the value (``logit``, ``mean activation``).

    Args:
        info: the result of the ascent.
        references: named values to draw as dashed lines for comparison (``{"mean over
            the samples": 0.31}``).
        unit_name: the class or unit's name (``"3"``, ``"triangle"``), added to the title.

    Returns:
        The figure.
    """
    value_name = info.value_name or "activation"
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        horizontal_spacing=0.08,
        subplot_titles=(
            "input that maximizes it (stretched to its own range)",
            f"{value_name} after each step",
        ),
    )
    figure.add_trace(
        _image(_stretched_uint8(info.image[None])[0], name="image", hoverinfo="skip"),
        row=1,
        col=1,
    )
    steps = np.arange(1, len(info.objective) + 1)
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=info.objective,
            mode="lines",
            line={"color": OBJECTIVE_COLOR, "width": 2},
            name=value_name,
            hovertemplate=f"step %{{x}}<br>{value_name} %{{y:.4g}}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    lines = {"start (noise)": info.start_activation}
    lines.update(references or {})
    for position, (name, value) in enumerate(lines.items()):
        figure.add_hline(
            y=float(value),
            line={"color": color_for(position + 1), "dash": "dash", "width": 1},
            annotation={"text": escaped(name), "font": {"size": CAPTION_FONT_SIZE}},
            annotation_position="bottom right",
            row=1,
            col=2,
        )
    what = escaped(info.objective_name or f"unit {info.unit} of '{info.layer}'")
    if unit_name is not None and str(unit_name) != str(info.unit):
        what += f" · {escaped(unit_name)}"
    change = info.last_change()
    settled = (
        f"settled (last {SETTLING_PERCENT}% of steps: {change:.1%} of the rise)"
        if change <= SETTLED_CHANGE
        else f"still moving ({change:.0%} of the rise in the last {SETTLING_PERCENT}% of steps)"
    )
    title = (
        f"Maximizing the {what}<br><sup>{value_name} {info.start_activation:.3g} → "
        f"{info.final_activation:.3g} in {info.steps} steps, {settled}</sup>"
    )
    layout = _layout(title, 400)
    layout["margin"] = {"l": 10, "r": 10, "t": 90, "b": 50}
    figure.update_layout(**layout)
    figure.update_xaxes(visible=False, row=1, col=1)
    figure.update_yaxes(visible=False, scaleanchor="x", row=1, col=1)
    figure.update_xaxes(title={"text": "step"}, row=1, col=2)
    figure.update_yaxes(title={"text": value_name}, row=1, col=2)
    return figure


# --- the tables behind the features page's charts and sample lists ------------------------------


def class_name(predictions, value) -> str:
    """One of the model's classes as the sample lists name it: its name where the set (or the
    model) has them, else its number (``"class 207"`` beside labels of the user's own); a dash
    for none."""
    if value is None:
        return "–"
    names = predictions.label_names
    value = int(value)
    if names and 0 <= value < len(names):
        return names[value]
    return f"class {value}" if getattr(predictions, "own_labels", False) else str(value)


def label_name(predictions, value) -> str:
    """A sample's label as the sample lists name it: the set's own name for it when the labels
    are not the model's classes (``PredictionInfo.own_labels``), else :func:`class_name`."""
    if value is None:
        return "–"
    if getattr(predictions, "own_labels", False):
        return predictions.label_name(value)
    return class_name(predictions, value)


def sample_table(predictions, indices) -> pd.DataFrame:
    """The samples of a grid with their label, prediction and confidence (what the captions say)."""
    indices = np.asarray(indices, dtype=np.int64)
    table = {"sample": indices}
    if predictions.task == "regression":
        table["output"] = [float(np.ravel(predictions.outputs[i])[0]) for i in indices]
        if predictions.labels is not None and np.ndim(predictions.labels) == 1:
            table["target"] = np.asarray(predictions.labels, dtype=np.float64)[indices]
        if predictions.errors is not None:
            table["absolute error"] = np.asarray(predictions.errors)[indices]
        return pd.DataFrame(table)
    if predictions.labels is not None:
        table["label"] = [label_name(predictions, predictions.labels[i]) for i in indices]
    if predictions.predicted is not None:
        table["prediction"] = [class_name(predictions, predictions.predicted[i]) for i in indices]
        table["confidence"] = np.asarray(predictions.confidence)[indices]
    return pd.DataFrame(table)


def sample_text_table(predictions, indices, texts: Sequence[str]) -> pd.DataFrame:
    """Text samples as the browser lists them: index, text, label, prediction, confidence."""
    return pd.DataFrame(
        {
            "sample": indices,
            "text": list(texts),
            "label": [
                label_name(predictions, predictions.labels[i])
                if predictions.labels is not None
                else ""
                for i in indices
            ],
            "prediction": [
                class_name(predictions, predictions.predicted[i])
                if predictions.predicted is not None
                else ""
                for i in indices
            ],
            "confidence": [
                float(predictions.confidence[i]) if predictions.confidence is not None else None
                for i in indices
            ],
        }
    )


def feature_maps_table(info: FeatureMapsInfo) -> pd.DataFrame:
    """One row per channel: its mean and largest activation and its share of zeros."""
    return pd.DataFrame(
        {
            "channel": np.arange(info.maps.shape[0]),
            "mean activation": info.mean_activation,
            "max activation": info.max_activation,
            "share zero": info.fraction_zero,
        }
    )


def filters_table(info: FiltersInfo) -> pd.DataFrame:
    """The filters, strongest first, with their L2 norms."""
    return pd.DataFrame({"filter": info.order, "L2 norm": info.norms})


def activation_maximization_table(info: ActivationMaxInfo) -> pd.DataFrame:
    """The objective after each step of the ascent."""
    return pd.DataFrame(
        {"step": np.arange(1, len(info.objective) + 1), info.value_name: info.objective}
    )

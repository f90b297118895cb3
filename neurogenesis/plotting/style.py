"""One look for every figure: colours, fonts, margins."""

from __future__ import annotations

import html
import json
import re

# Colour-blind-safe qualitative palette (Okabe & Ito 2008), in an order that keeps the first
# few colours far apart.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


LEGEND_BELOW = {
    "orientation": "h",
    "yref": "container",
    "yanchor": "bottom",
    "y": 0.0,
    "xanchor": "left",
    "x": 0.0,
}


def base_layout(title: str) -> dict:
    return {
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "template": "plotly_white",
        "font": {"size": 13},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        # The legend under the chart, its rows pushing the margin: above the plot, a long
        # legend ran into a long title on a narrow column.
        "legend": LEGEND_BELOW,
        "hovermode": "x unified",
    }


def rgb_of(color: str) -> tuple[float, float, float]:
    """The red, green and blue of ``#RRGGBB`` or ``rgb(r, g, b)`` (a sampled colour scale)."""
    if color.startswith("rgb"):
        parts = color[color.index("(") + 1 : color.index(")")].split(",")[:3]
        red, green, blue = (float(part) for part in parts)
        return red, green, blue
    red, green, blue = (int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return red, green, blue


def rgba(color: str, alpha: float) -> str:
    """``color`` with transparency ``alpha``, for bands and fills."""
    red, green, blue = (round(value) for value in rgb_of(color))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def escaped(name: object) -> str:
    """A name that came from a file (a layer, a tag, a run), safe in Plotly's HTML-like labels."""
    return html.escape(str(name), quote=False)


# --------------------------------------------------------------------------------------------
# Styles: the dashboard's look, and a publication look for papers
# --------------------------------------------------------------------------------------------

STYLES = ("default", "publication")
PUBLICATION_FONT = "Arial, Helvetica, sans-serif"
PUBLICATION_FONT_SIZE = 16
PUBLICATION_TITLE_SIZE = 20
PUBLICATION_AXIS_TITLE_SIZE = 18
PUBLICATION_MIN_TEXT_SIZE = 13  # heatmap cells, annotations: still readable once printed
PUBLICATION_GRID_COLOR = "#D9D9D9"
# Continuous scales every common colour blindness reads in order (viridis family: perceptually
# uniform, monotonic in lightness; RdBu: a diverging scale whose two hues stay apart).
SEQUENTIAL_COLORSCALE = "Viridis"
DIVERGING_COLORSCALE = "RdBu_r"
_COLOR_BLIND_SAFE_SCALES = frozenset(
    name
    for base in ("viridis", "cividis", "plasma", "inferno", "magma", "blues", "greys", "rdbu")
    for name in (base, f"{base}_r")
)
_DIVERGING_SCALES = frozenset(
    name
    for base in ("rdbu", "rdylbu", "rdylgn", "spectral", "piyg", "prgn", "puor", "brbg", "rdgy")
    for name in (base, f"{base}_r")
)


def _safe_scale(scale):
    """A named colour scale swapped for a colour-blind-safe one of the same kind (diverging or
    sequential, direction kept); explicit colour lists (one-colour bands) are left alone."""
    if not isinstance(scale, str):
        return scale
    name = scale.lower()
    if name in _COLOR_BLIND_SAFE_SCALES:
        return scale
    reverse = name.endswith("_r")
    base = DIVERGING_COLORSCALE.removesuffix("_r") if name in _DIVERGING_SCALES else None
    if base is not None:
        flipped = not DIVERGING_COLORSCALE.endswith("_r")
        return f"{base}{'_r' if reverse != flipped else ''}"
    return f"{SEQUENTIAL_COLORSCALE}{'_r' if reverse else ''}"


def _bigger(font, size: int) -> dict:
    """A font dict whose size is at least ``size``."""
    font = font.to_plotly_json() if hasattr(font, "to_plotly_json") else dict(font or {})
    if font.get("size") is None or font["size"] < size:
        font["size"] = size
    return font


def _publication_axis(axis) -> dict:
    title = axis.title.to_plotly_json() if axis.title is not None else {}
    return {
        "showline": True,
        "linecolor": "black",
        "linewidth": 1,
        "ticks": "outside",
        "tickcolor": "black",
        "gridcolor": PUBLICATION_GRID_COLOR,
        "zerolinecolor": PUBLICATION_GRID_COLOR,
        "tickfont": _bigger(axis.tickfont, PUBLICATION_FONT_SIZE - 2),
        "title": {**title, "font": _bigger(title.get("font"), PUBLICATION_AXIS_TITLE_SIZE)},
    }


def publication_layout(figure):
    """The figure restyled for a paper, in place: white background, larger fonts, black axis
    lines, the Okabe-Ito palette for discrete colours and colour-blind-safe continuous scales.

    Hover text, data and every trace's own colours stay as they are (the plots already draw
    with :data:`PALETTE`); a named colour scale outside the safe set becomes Viridis (or RdBu for
    a diverging one).

    Args:
        figure: any plotly figure.

    Returns:
        The same figure, for chaining.
    """
    layout = figure.layout
    import plotly.io as pio

    figure.update_layout(
        # the template itself: a figure built unvalidated (the architecture graph) keeps a name
        template=pio.templates["plotly_white"],
        paper_bgcolor="white",
        plot_bgcolor="white",
        font={"family": PUBLICATION_FONT, "size": PUBLICATION_FONT_SIZE, "color": "black"},
        colorway=list(PALETTE),
        colorscale={"sequential": SEQUENTIAL_COLORSCALE, "diverging": DIVERGING_COLORSCALE},
        legend={"font": _bigger(layout.legend.font, PUBLICATION_FONT_SIZE)},
    )
    if layout.title is not None and layout.title.text:
        figure.update_layout(title={"font": _bigger(layout.title.font, PUBLICATION_TITLE_SIZE)})
    figure.for_each_xaxis(lambda axis: axis.update(_publication_axis(axis)))
    figure.for_each_yaxis(lambda axis: axis.update(_publication_axis(axis)))

    def scene(item) -> None:
        item.update(bgcolor="white")
        for name in ("xaxis", "yaxis", "zaxis"):
            axis = getattr(item, name)
            axis.update(
                backgroundcolor="white",
                gridcolor=PUBLICATION_GRID_COLOR,
                tickfont=_bigger(axis.tickfont, PUBLICATION_FONT_SIZE - 4),
                title={"font": _bigger(axis.title.font, PUBLICATION_FONT_SIZE)},
            )

    figure.for_each_scene(scene)
    figure.for_each_polar(lambda polar: polar.update(bgcolor="white"))
    for annotation in layout.annotations or ():
        annotation.update(font=_bigger(annotation.font, PUBLICATION_MIN_TEXT_SIZE))

    def trace(item) -> None:
        if "colorscale" in item and item.colorscale is not None:
            item.colorscale = _named_safe(item.colorscale)
        marker = getattr(item, "marker", None)
        if marker is not None and "colorscale" in marker and marker.colorscale is not None:
            marker.colorscale = _named_safe(marker.colorscale)
        if "textfont" in item and item.textfont is not None and item.text is not None:
            item.textfont = _bigger(item.textfont, PUBLICATION_MIN_TEXT_SIZE)

    figure.for_each_trace(trace)
    return figure


def _named_safe(scale):
    """``_safe_scale`` for a scale plotly has resolved to ``((position, colour), ...)``: the name
    whose colours it is (positions are rounded differently), swapped if unsafe; an unknown list
    is kept (a one-colour band)."""
    if isinstance(scale, str):
        return _safe_scale(scale)
    import plotly.colors as colors

    wanted = [str(color).replace(" ", "").lower() for _, color in scale]
    for name in colors.named_colorscales():
        for candidate in (name, f"{name}_r"):
            try:
                resolved = colors.get_colorscale(candidate)
            except Exception:  # a name plotly lists but cannot resolve reversed
                continue
            if [str(color).replace(" ", "").lower() for _, color in resolved] == wanted:
                safe = _safe_scale(candidate)
                return scale if safe == candidate else safe
    return scale


def styled(figure, style: str):
    """The figure in ``style`` (one of :data:`STYLES`): unchanged for ``'default'``,
    :func:`publication_layout` for ``'publication'``.

    Raises:
        InputError: an unknown style.
    """
    if style not in STYLES:
        from neurogenesis.errors import InputError

        raise InputError(f"Expected a style in {list(STYLES)}. Received: {style!r}")
    return publication_layout(figure) if style == "publication" else figure


# Streamlit's chart element swaps the exact strings #000001 ... #000020 anywhere in a figure for
# its theme's colours, whatever the theme (its placeholders for "the theme's n-th colour").
# Inferno's and Magma's zero, #000004, is one of them: spelled rgb() it reaches the browser.
_STREAMLIT_PLACEHOLDER = re.compile(r'"#0{4}(0[1-9]|1[0-9]|20)"', re.IGNORECASE)


def browser_safe(figure):
    """``figure`` with every colour Streamlit would replace spelled as ``rgb(0, 0, n)``: the
    same figure object when there is none (the usual case), else an equal copy."""
    import plotly.graph_objects as go

    text = figure.to_json()
    if not _STREAMLIT_PLACEHOLDER.search(text):
        return figure
    text = _STREAMLIT_PLACEHOLDER.sub(lambda m: f'"rgb(0, 0, {int(m.group(1), 16)})"', text)
    return go.Figure(json.loads(text))

"""One look for every figure: colours, fonts, margins."""

from __future__ import annotations

import html

# Colour-blind-safe qualitative palette (Okabe & Ito 2008), in an order that keeps the first
# few colours far apart.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def base_layout(title: str) -> dict:
    return {
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "template": "plotly_white",
        "font": {"size": 13},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "xanchor": "right",
            "x": 1.0,
        },
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

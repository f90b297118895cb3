"""One look for every figure: colours, fonts, margins."""

from __future__ import annotations

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

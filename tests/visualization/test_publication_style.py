"""The publication style: white background, larger fonts, colour-blind-safe colours."""

from __future__ import annotations

import plotly.colors
import plotly.graph_objects as go
import pytest

from neurogenesis.errors import InputError
from neurogenesis.plotting.style import (
    PALETTE,
    PUBLICATION_AXIS_TITLE_SIZE,
    PUBLICATION_FONT_SIZE,
    PUBLICATION_MIN_TEXT_SIZE,
    PUBLICATION_TITLE_SIZE,
    publication_layout,
    styled,
)


def _colors(scale) -> list[str]:
    return [str(color).replace(" ", "").lower() for _, color in scale]


def _named(name: str) -> list[str]:
    return _colors(plotly.colors.get_colorscale(name))


def _figure() -> go.Figure:
    figure = go.Figure()
    figure.add_trace(go.Heatmap(z=[[1, 2], [3, 4]], colorscale="Jet", text=[["a", "b"]] * 2))
    figure.add_trace(go.Heatmap(z=[[1, 2], [3, 4]], colorscale="RdBu_r"))
    figure.add_trace(go.Heatmap(z=[[1, 2], [3, 4]], colorscale="Spectral"))
    figure.add_trace(go.Heatmap(z=[[1, 2], [3, 4]], colorscale=[[0, "#00FF00"], [1, "#00FF00"]]))
    figure.add_trace(go.Scatter(y=[1, 2], marker={"color": [1, 2], "colorscale": "Hot_r"}))
    figure.add_trace(go.Surface(z=[[1, 2], [3, 4]], colorscale="Blues", scene="scene"))
    figure.update_layout(
        title={"text": "a title", "font": {"size": 12}},
        xaxis={"title": {"text": "epoch"}},
        template="plotly_dark",
        paper_bgcolor="#111111",
        annotations=[{"text": "note", "font": {"size": 9}, "x": 0, "y": 0}],
    )
    return figure


def test_publication_layout_whitens_enlarges_and_keeps_colors_safe():
    figure = publication_layout(_figure())
    layout = figure.layout
    assert layout.paper_bgcolor == "white" and layout.plot_bgcolor == "white"
    assert layout.scene.bgcolor == "white" and layout.scene.xaxis.backgroundcolor == "white"
    assert layout.font.size == PUBLICATION_FONT_SIZE >= 16
    assert layout.title.font.size == PUBLICATION_TITLE_SIZE
    assert layout.xaxis.title.font.size == PUBLICATION_AXIS_TITLE_SIZE
    assert layout.xaxis.title.text == "epoch"  # kept
    assert layout.annotations[0].font.size == PUBLICATION_MIN_TEXT_SIZE
    assert tuple(layout.colorway) == PALETTE  # Okabe-Ito for anything without its own colour
    jet, diverging, spectral, band, hot, blues = (
        figure.data[0].colorscale,
        figure.data[1].colorscale,
        figure.data[2].colorscale,
        figure.data[3].colorscale,
        figure.data[4].marker.colorscale,
        figure.data[5].colorscale,
    )
    assert _colors(jet) == _named("viridis")  # a rainbow becomes Viridis
    assert _colors(hot) == _named("viridis_r")  # reversed stays reversed
    assert _colors(spectral) == _named("rdbu")  # a diverging scale stays diverging
    assert _colors(diverging) == _named("rdbu_r")  # safe scales are kept
    assert _colors(blues) == _named("blues")
    assert _colors(band) == ["#00ff00", "#00ff00"]  # one-colour bands are not scales
    assert figure.data[0].textfont.size == PUBLICATION_MIN_TEXT_SIZE


def test_styled_leaves_the_default_alone_and_refuses_unknown_styles():
    figure = _figure()
    before = figure.to_plotly_json()
    assert styled(figure, "default") is figure and figure.to_plotly_json() == before
    assert styled(figure, "publication").layout.paper_bgcolor == "white"
    with pytest.raises(InputError, match="Received: 'poster'"):
        styled(_figure(), "poster")

"""The shared look: what every figure passes through before it reaches the browser."""

from __future__ import annotations

import plotly.graph_objects as go

from neurogenesis.plotting.style import LEGEND_BELOW, base_layout, browser_safe


def test_streamlit_placeholder_colours_are_spelled_as_rgb():
    figure = go.Figure(go.Heatmap(z=[[0, 1], [2, 3]], colorscale="Inferno", zmin=0))
    figure.update_layout(paper_bgcolor="#000010")
    assert figure.data[0].colorscale[0][1] == "#000004"  # Inferno's zero: a placeholder
    safe = browser_safe(figure)
    assert safe.data[0].colorscale[0][1] == "rgb(0, 0, 4)"
    assert safe.layout.paper_bgcolor == "rgb(0, 0, 16)"
    # everything else is the same figure
    assert [color for _, color in safe.data[0].colorscale[1:]] == [
        color for _, color in figure.data[0].colorscale[1:]
    ]
    assert safe.data[0].z == figure.data[0].z


def test_a_figure_without_placeholders_is_passed_through_untouched():
    # its own template: the default one may be changed by whatever ran before in this process
    figure = go.Figure(go.Heatmap(z=[[0, 1]], colorscale="Viridis"), layout={"template": "none"})
    figure.update_layout(plot_bgcolor="#000021")  # outside #000001-#000020
    assert browser_safe(figure) is figure


def test_legends_sit_under_the_chart_clear_of_the_title():
    legend = base_layout("A title")["legend"]
    assert legend == LEGEND_BELOW
    assert legend["yref"] == "container" and legend["y"] == 0.0 and legend["yanchor"] == "bottom"

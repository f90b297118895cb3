"""Per-layer cost bars: the numbers drawn are the info's numbers."""

from __future__ import annotations

import pytest

from neurogenesis.analysis.architecture import ArchitectureInfo, LayerInfo
from neurogenesis.plotting.architecture import plot_layer_costs


def _info():
    layers = (
        LayerInfo("image", "InputLayer", (None, 4), 0, 0, 0, 16, 0, None),
        LayerInfo("hidden", "Dense", (None, 8), 40, 40, 32, 32, 160, "relu"),
        LayerInfo("out", "Dense", (None, 2), 18, 18, 16, 8, 72, "softmax"),
    )
    return ArchitectureInfo("m", "Functional", ((None, 4),), ((None, 2),), 58, 58, 48, layers)


def test_bars_show_each_layer_and_its_share():
    figure = plot_layer_costs(_info(), "macs")
    (bars,) = figure.data
    assert list(bars.x) == [32, 16]
    assert list(bars.y) == ["hidden (Dense)", "out (Dense)"]  # zero-cost input layer left out
    assert list(bars.text) == ["66.7%", "33.3%"]
    assert figure.layout.xaxis.title.text == "multiply-accumulates per sample"


def test_every_layer_when_asked_and_unknown_costs_refused():
    assert len(plot_layer_costs(_info(), "activation_bytes", skip_zero=False).data[0].x) == 3
    with pytest.raises(ValueError, match="Expected a cost"):
        plot_layer_costs(_info(), "flops")


def test_graph_figure_draws_every_node_and_edge():
    from neurogenesis.analysis.architecture import graph_info
    from neurogenesis.plotting.architecture import plot_graph
    from neurogenesis.testing import tiny_branching_model

    info = graph_info(tiny_branching_model())
    figure = plot_graph(info)
    edges, *families = figure.data
    assert sum(x is None for x in edges.x) == len(info.edges)
    assert sum(len(trace.x) for trace in families) == len(info.nodes)
    assert {trace.name for trace in families} == {"input", "dense", "merge"}
    labels = {text for trace in families for text in trace.text}
    assert labels == {node.name for node in info.nodes}

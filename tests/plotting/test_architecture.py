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
    from neurogenesis.plotting.architecture import plot_graph, shape_text
    from neurogenesis.testing import tiny_branching_model

    info = graph_info(tiny_branching_model())
    figure = plot_graph(info)
    edges, shapes, *families = figure.data
    assert sum(x is None for x in edges.x) == len(info.edges)
    # Shapes ride on the edges: the join receives (None, 6) and (None, 4).
    assert sorted(shapes.text) == sorted(shape_text(edge.shape) for edge in info.edges)
    assert {"(None, 6)", "(None, 4)"} <= set(shapes.text)
    assert sum(len(trace.x) for trace in families) == len(info.nodes)
    assert {trace.name for trace in families} == {"input", "dense", "merge"}
    labels = {text.split("<br>")[0] for trace in families for text in trace.text}
    assert labels == {node.name for node in info.nodes}
    # Parameters are written on the nodes: dense_a has 6 * 6 + 6 = 42.
    assert any(text == "dense_a<br>42 params" for trace in families for text in trace.text)
    # Top down (the default) puts depth on the vertical axis: the inputs on top.
    by_name = {node.name: node for node in info.nodes}
    node_y = {
        text.split("<br>")[0]: y
        for trace in families
        for text, y in zip(trace.text, trace.y, strict=True)
    }
    assert node_y["a"] > node_y["dense_a"] > node_y["skip"]
    across = plot_graph(info, direction="left to right")
    node_x = {
        text.split("<br>")[0]: x
        for trace in across.data[2:]
        for text, x in zip(trace.text, trace.x, strict=True)
    }
    assert node_x == {name: node.column for name, node in by_name.items()}


def _nested_graph():
    from neurogenesis.analysis.architecture import GraphEdge, GraphGroup, GraphUnit, ModelGraph

    def unit(index, name, shape, params, macs, path):
        return GraphUnit(
            index, name, "Dense" if params else "InputLayer", shape, params, macs, path, (name,)
        )

    return ModelGraph(
        "toy",
        (
            unit(0, "x", (None, 4), 0, 0, ()),
            unit(1, "b1_a", (None, 8), 40, 32, ("b1",)),
            unit(2, "b1_b", (None, 8), 72, 64, ("b1",)),
            unit(3, "head", (None, 2), 18, 16, ()),
        ),
        (GraphEdge(0, 1, (None, 4)), GraphEdge(1, 2, (None, 8)), GraphEdge(2, 3, (None, 8))),
        (GraphGroup("b1", "b1", "block", None),),
    )


def test_block_diagram_sizes_blocks_by_their_layers_cost():
    from neurogenesis.plotting.architecture import plot_block_diagram

    icicle = plot_block_diagram(_nested_graph(), "macs").data[0]
    values = dict(zip(icicle.ids, icicle.values, strict=True))
    assert values == {"model": 112, "group:b1": 96, "unit:1": 32, "unit:2": 64, "unit:3": 16}
    parents = dict(zip(icicle.ids, icicle.parents, strict=True))
    assert parents["unit:1"] == "group:b1" and parents["group:b1"] == "model"
    by_params = plot_block_diagram(_nested_graph(), "num_params").data[0]
    assert dict(zip(by_params.ids, by_params.values, strict=True))["model"] == 130
    with pytest.raises(ValueError, match="Expected size_by"):
        plot_block_diagram(_nested_graph(), "flops")


def test_layer_stack_draws_one_box_per_output_sized_by_its_shape():
    from neurogenesis.plotting.architecture import plot_layer_stack_3d

    mesh, markers = plot_layer_stack_3d(_nested_graph()).data
    assert len(mesh.x) == 8 * 4 and len(mesh.i) == 12 * 4  # four boxes, eight corners each
    assert len(markers.x) == 4 and "output (None, 8)" in markers.text[1]
    # Vectors are slabs as tall as the square root of their length allows: 8 units above 2.
    height = [max(mesh.y[8 * b : 8 * b + 8]) - min(mesh.y[8 * b : 8 * b + 8]) for b in range(4)]
    assert height[1] == pytest.approx(8**0.5 / 2) and height[3] == 1.0


def test_weight_histograms_one_panel_per_tensor():
    from neurogenesis.analysis.architecture import LayerDetails, WeightStats
    from neurogenesis.plotting.architecture import plot_weight_histograms

    def stats(name, counts):
        edges = tuple(float(i) for i in range(len(counts) + 1))
        return WeightStats(
            name, (2, 2), "float32", True, 4, 0.5, 0.1, 0.0, 1.0, 1.0, 0.0, counts, edges
        )

    details = LayerDetails(
        "dense", "Dense", ("dense",), "{}", 6, (stats("kernel", (1, 3)), stats("bias", (2, 0)))
    )
    figure = plot_weight_histograms(details)
    assert [list(trace.y) for trace in figure.data] == [[1, 3], [2, 0]]
    assert "kernel 2×2: mean 0.5" in figure.layout.annotations[0].text
    empty = plot_weight_histograms(LayerDetails("flatten", "Flatten", ("flatten",), "{}", 0, ()))
    assert empty.data == () and "no weights" in empty.layout.title.text

"""Per-layer cost bars: the numbers drawn are the info's numbers."""

from __future__ import annotations

import pytest

from neurogenesis.analysis.architecture import ArchitectureInfo, LayerInfo
from neurogenesis.plotting.architecture import plot_layer_costs, text_width


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
    assert figure.layout.yaxis.title.text == "layer (class)"


def test_every_layer_when_asked_and_unknown_costs_refused():
    assert len(plot_layer_costs(_info(), "activation_bytes", skip_zero=False).data[0].x) == 3
    with pytest.raises(ValueError, match="Expected a cost"):
        plot_layer_costs(_info(), "flops")


# --- The graph ------------------------------------------------------------------------------------


def _named(figure, kind: str) -> dict[str, object]:
    """The figure's shapes (or annotations) whose name starts with ``kind:``, by the rest."""
    items = list(figure.layout.shapes) + list(figure.layout.annotations)
    return {item.name.split(":", 1)[1]: item for item in items if item.name.startswith(kind + ":")}


def _rect(shape) -> tuple[float, float, float, float]:
    return (
        min(shape.x0, shape.x1),
        min(shape.y0, shape.y1),
        max(shape.x0, shape.x1),
        max(shape.y0, shape.y1),
    )


def _overlap(a, b, margin: float = 0.0) -> bool:
    return (
        a[0] < b[2] - margin
        and b[0] < a[2] - margin
        and a[1] < b[3] - margin
        and b[1] < a[3] - margin
    )


def _plain(text: str) -> list[str]:
    import html
    import re

    return [html.unescape(re.sub(r"<[^>]+>", "", line)) for line in text.split("<br>")]


def _annotation_box(annotation) -> tuple[float, float, float, float]:
    """A generous bound on an annotation's box, from its text and anchors alone: 0.62 em a
    character (Arial's widest lower-case letters and digits are 0.56 em), 1.3 em a line."""
    lines = _plain(annotation.text)
    size = annotation.font.size
    width = max(len(line) for line in lines) * 0.62 * size + 2
    height = len(lines) * 1.3 * size + 2
    left = {"left": 0.0, "center": 0.5, "right": 1.0}[annotation.xanchor or "center"]
    below = {"bottom": 0.0, "middle": 0.5, "top": 1.0}[annotation.yanchor or "middle"]
    x0, y0 = annotation.x - left * width, annotation.y - below * height
    return x0, y0, x0 + width, y0 + height


def _path_points(path: str, samples: int = 24) -> list[tuple[float, float]]:
    """The points along an SVG path of M, L and C commands (lines and curves sampled)."""
    import re

    points: list[tuple[float, float]] = []
    for command, body in re.findall(r"([MLC])([^MLC]*)", path):
        numbers = [float(value) for value in re.findall(r"-?[0-9.]+", body)]
        pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
        if command == "M":
            points += pairs
            continue
        if command == "L":
            for x3, y3 in pairs:
                x0, y0 = points[-1]
                points += [
                    (x0 + (x3 - x0) * step / samples, y0 + (y3 - y0) * step / samples)
                    for step in range(1, samples + 1)
                ]
            continue
        (x0, y0), ((x1, y1), (x2, y2), (x3, y3)) = points[-1], pairs
        for step in range(1, samples + 1):
            t = step / samples
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            points.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return points


@pytest.fixture(scope="module")
def transformer_graph():
    """The sentiment transformer demo: a mask branch, two blocks with two residuals each."""
    import keras

    from neurogenesis.analysis.architecture import model_graph
    from neurogenesis.workspace import DEMO_MODELS_DIR

    model = keras.saving.load_model(
        DEMO_MODELS_DIR / "sentiment_transformer.keras", compile=False, safe_mode=True
    )
    return model_graph(model)


def _check_readable(info, figure) -> None:
    nodes = {int(key): _rect(shape) for key, shape in _named(figure, "node").items()}
    assert sorted(nodes) == [node.index for node in info.nodes]
    boxes = list(nodes.values())
    for i, a in enumerate(boxes):  # no two node boxes overlap
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    labels = _named(figure, "shape")
    for label in labels.values():  # no tensor shape on a node
        box = _annotation_box(label)
        for index, node in nodes.items():
            assert not _overlap(box, node), (label.text, info.nodes[index].name)
    label_boxes = [_annotation_box(label) for label in labels.values()]
    for i, a in enumerate(label_boxes):  # nor on another shape
        for b in label_boxes[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    for key, text in _named(figure, "text").items():  # each box holds its text, font >= 11 px
        x0, y0, x1, y1 = nodes[int(key)]
        header = _named(figure, "class")[key]
        assert text.font.size >= 11 and header.font.size >= 11
        lines = [*_plain(header.text), *_plain(text.text)]
        bold = [True] + [line == _plain(text.text)[0] for line in lines[1:]]
        assert max(text_width(line, 12, bold=b) for line, b in zip(lines, bold, strict=True)) < (
            x1 - x0
        )
        assert len(lines) * 1.3 * 12 < y1 - y0
    assert all(a.font.size >= 11 for a in figure.layout.annotations)
    # No edge passes through a node's box (its own ends touch their boxes' borders).
    for key, edge in _named(figure, "edge").items():
        for x, y in _path_points(edge.path):
            for x0, y0, x1, y1 in boxes:
                assert not (x0 + 1 < x < x1 - 1 and y0 + 1 < y < y1 - 1), (key, x, y)


@pytest.mark.parametrize("direction", ["top down", "left to right"])
def test_graph_boxes_hold_their_text_and_nothing_overlaps(transformer_graph, direction):
    from neurogenesis.analysis.architecture import default_expanded, layout_graph, model_graph
    from neurogenesis.plotting.architecture import plot_graph
    from neurogenesis.testing import tiny_branching_model

    for info in (
        layout_graph(transformer_graph, default_expanded(transformer_graph)),  # all open
        layout_graph(transformer_graph, ()),  # blocks closed
        layout_graph(model_graph(tiny_branching_model())),
    ):
        _check_readable(info, plot_graph(info, direction=direction))


@pytest.mark.parametrize("name", ["digits_cnn", "shapes_cnn", "weather_lstm", "digits_vae"])
def test_every_demo_graph_is_readable(name):
    import keras

    from neurogenesis.analysis.architecture import default_expanded, layout_graph, model_graph
    from neurogenesis.plotting.architecture import plot_graph
    from neurogenesis.workspace import DEMO_MODELS_DIR

    model = keras.saving.load_model(DEMO_MODELS_DIR / f"{name}.keras", compile=False)
    graph = model_graph(model)
    for expanded in {default_expanded(graph), ()}:
        info = layout_graph(graph, expanded)
        for direction in ("top down", "left to right"):
            _check_readable(info, plot_graph(info, direction=direction))


def test_graph_boxes_name_the_class_the_layer_and_its_settings(transformer_graph):
    from neurogenesis.analysis.architecture import default_expanded, layout_graph
    from neurogenesis.plotting.architecture import plot_graph

    info = layout_graph(transformer_graph, default_expanded(transformer_graph))
    figure = plot_graph(info)
    by_name = {node.name: node.index for node in info.nodes}
    header, text = _named(figure, "class"), _named(figure, "text")

    def box(name):
        index = str(by_name[name])
        return _plain(header[index].text), _plain(text[index].text)

    # The demo's config: MultiHeadAttention(num_heads=4, key_dim=6): 4 * (3 * (24*6 + 6)) +
    # 4*6*24 + 24 = 2,400 parameters; Dense(48, relu) on 24 features: 24*48 + 48 = 1,200.
    assert box("attention_1") == (
        ["MultiHeadAttention"],
        ["attention_1", "4 heads · key_dim 6", "2,400 params"],
    )
    assert box("feed_forward_1") == (
        ["Dense"],
        ["feed_forward_1", "48 units · relu", "1,200 params"],
    )
    assert box("token_embedding")[1] == [
        "token_embedding",
        "vocabulary 60 · dim 24",
        "1,440 params",
    ]
    assert box("token_ids") == (["InputLayer"], ["token_ids", "(None, 16)"])
    # Closed blocks are named after the block.
    closed = layout_graph(transformer_graph, ())
    figure = plot_graph(closed)
    blocks = [node for node in closed.nodes if node.group]
    names = [_plain(_named(figure, "text")[str(node.index)].text)[0] for node in blocks]
    assert names == ["transformer_block_1", "transformer_block_2"]
    assert all(
        _plain(_named(figure, "class")[str(n.index)].text) == ["block · 7 layers"] for n in blocks
    )
    assert figure.layout.title.text.endswith("(2 blocks closed)")
    # Every edge's tensor shape is written once, by the layer that sends it.
    shapes = {
        info.nodes[int(key)].name: label.text
        for key, label in _named(plot_graph(info), "shape").items()
    }
    assert shapes["attention_1"] == "(None, 16, 24)" and shapes["logical_and"] == "(None, 16, 16)"
    assert shapes["feed_forward_1"] == "(None, 16, 48)"
    assert "probabilities" not in shapes  # the output sends nothing


@pytest.mark.parametrize("direction", ["top down", "left to right"])
def test_residuals_run_beside_the_column_they_jump(transformer_graph, direction):
    from neurogenesis.analysis.architecture import default_expanded, layout_graph
    from neurogenesis.plotting.architecture import plot_graph

    info = layout_graph(transformer_graph, default_expanded(transformer_graph))
    figure = plot_graph(info, direction=direction)
    index = {node.name: node.index for node in info.nodes}
    nodes = {int(key): _rect(shape) for key, shape in _named(figure, "node").items()}
    edges = _named(figure, "edge")
    across = direction == "left to right"
    # embedding_norm -> attention_residual_1 jumps attention_1; attention_norm_1 ->
    # feed_forward_residual_1 jumps the feed-forward pair.
    for source, target, jumped in (
        ("embedding_norm", "attention_residual_1", ["attention_1"]),
        ("attention_norm_1", "feed_forward_residual_1", ["feed_forward_1", "feed_forward_out_1"]),
        ("attention_norm_2", "feed_forward_residual_2", ["feed_forward_2", "feed_forward_out_2"]),
    ):
        points = _path_points(edges[f"{index[source]}:{index[target]}"].path)
        for name in jumped:
            x0, y0, x1, y1 = nodes[index[name]]
            # Beside the jumped layer: past its box across the column, where the layer is.
            if across:
                beside = [y for x, y in points if x0 <= x <= x1]
                assert beside and all(y < y0 or y > y1 for y in beside), name
            else:
                beside = [x for x, y in points if y0 <= y <= y1]
                assert beside and all(x > x1 or x < x0 for x in beside), name
    # The main line's own edges stay in the column: attention_1 -> attention_residual_1 is
    # straight down.
    main = _path_points(edges[f"{index['attention_1']}:{index['attention_residual_1']}"].path)
    x0, _, x1, _ = nodes[index["attention_1"]]
    if not across:
        assert all(x0 <= x <= x1 for x, _ in main)


def test_graph_grows_with_its_nodes():
    import keras

    from neurogenesis.analysis.architecture import layout_graph, model_graph
    from neurogenesis.plotting.architecture import plot_graph

    def chain(length):
        inputs = keras.Input((4,), name="x")
        hidden = inputs
        for position in range(length):
            hidden = keras.layers.Dense(4, name=f"dense_{position}")(hidden)
        return keras.Model(inputs, hidden)

    short, long = (
        plot_graph(layout_graph(model_graph(chain(4)))),
        plot_graph(layout_graph(model_graph(chain(12)))),
    )
    boxes = [_rect(shape) for shape in _named(long, "node").values()]
    heights = {round(y1 - y0) for _, y0, _, y1 in boxes[1:]}
    # Same box sizes, so eight more layers are eight more boxes and gaps of height.
    step = next(iter(heights)) + 46
    assert len(heights) == 1
    assert long.layout.height - short.layout.height == pytest.approx(8 * step, abs=2)
    # One axis unit is one pixel: the y range spans the plot area's height.
    y0, y1 = long.layout.yaxis.range
    margin = long.layout.margin
    assert y1 - y0 == pytest.approx(long.layout.height - margin.t - margin.b, abs=1)
    assert long.layout.yaxis.scaleanchor == "x" and long.layout.yaxis.scaleratio == 1
    assert long.layout.width is None  # the page stretches it to its column
    # For a file, the whole graph at one pixel a unit: the width fits the x range.
    whole = plot_graph(layout_graph(model_graph(chain(12))), direction="left to right", whole=True)
    x0, x1 = whole.layout.xaxis.range
    assert whole.layout.width == pytest.approx(x1 - x0 + margin.l + margin.r, abs=1)
    assert x1 - x0 > 12 * 120  # every level, not a window on the inputs
    window = plot_graph(layout_graph(model_graph(chain(12))), direction="left to right")
    assert window.layout.xaxis.range[1] - window.layout.xaxis.range[0] < x1 - x0


def test_found_layer_is_outlined_and_centred(transformer_graph):
    from neurogenesis.analysis.architecture import default_expanded, layout_graph
    from neurogenesis.plotting.architecture import VIEW_SIZE, plot_graph

    info = layout_graph(transformer_graph, default_expanded(transformer_graph))
    target = next(node.index for node in info.nodes if node.name == "feed_forward_2")
    figure = plot_graph(info, focus=target)
    x0, y0, x1, y1 = _rect(_named(figure, "node")[str(target)])
    (focus,) = [shape for shape in figure.layout.shapes if shape.name == "focus"]
    fx0, fy0, fx1, fy1 = _rect(focus)
    assert fx0 < x0 and fy0 < y0 and fx1 > x1 and fy1 > y1  # the outline surrounds the box
    assert sum(figure.layout.xaxis.range) / 2 == pytest.approx((x0 + x1) / 2)
    assert sum(figure.layout.yaxis.range) / 2 == pytest.approx((y0 + y1) / 2)
    low, high = figure.layout.yaxis.range
    assert high - low == VIEW_SIZE[1]
    # Without a focus the whole graph shows, and the found layer is far down it.
    whole = plot_graph(info)
    assert whole.layout.height > figure.layout.height
    assert not any(shape.name == "focus" for shape in whole.layout.shapes)


def test_text_width_is_arials():
    from pathlib import Path

    font_file = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
    if not font_file.is_file():
        pytest.skip("Liberation Sans (Arial's metrics) is not installed here")
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_file), 12)
    bold = ImageFont.truetype(str(font_file).replace("Regular", "Bold"), 12)
    for text in ("feed_forward_residual_1", "(None, 16, 24)", "4 heads · key_dim 6", "W×H"):
        assert text_width(text, 12) == pytest.approx(font.getlength(text), abs=1.0)
        assert text_width(text, 12, bold=True) == pytest.approx(bold.getlength(text), abs=1.0)


def test_graph_click_points_carry_the_node_index():
    from neurogenesis.analysis.architecture import layout_graph, model_graph
    from neurogenesis.plotting.architecture import plot_graph
    from neurogenesis.testing import tiny_branching_model

    info = layout_graph(model_graph(tiny_branching_model()))
    figure = plot_graph(info)
    layers = next(trace for trace in figure.data if trace.name == "layers")
    assert [row[0] for row in layers.customdata] == [node.index for node in info.nodes]
    assert [row[1] for row in layers.customdata] == [node.name for node in info.nodes]
    nodes = _named(figure, "node")
    for (x, y), node in zip(zip(layers.x, layers.y, strict=True), info.nodes, strict=True):
        x0, y0, x1, y1 = _rect(nodes[str(node.index)])
        assert x0 < x < x1 and y0 < y < y1  # each point sits on its box
    legend = {trace.name for trace in figure.data if trace.showlegend is not False}
    assert legend == {"input", "dense", "merge"}
    # Top down, the inputs are on top; left to right, on the left.
    top = {info.nodes[int(k)].name: _rect(s) for k, s in nodes.items()}
    assert top["a"][1] > top["dense_a"][1] > top["skip"][1]
    across = {
        info.nodes[int(k)].name: _rect(s)
        for k, s in _named(plot_graph(info, direction="left to right"), "node").items()
    }
    assert across["a"][0] < across["dense_a"][0] < across["skip"][0]


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

    figure = plot_layer_stack_3d(_nested_graph())
    mesh, markers, names, *legend = figure.data
    assert len(mesh.x) == 8 * 4 and len(mesh.i) == 12 * 4  # four boxes, eight corners each
    assert len(markers.x) == 4 and "output (None, 8)" in markers.text[1]
    # Each box is named above it, and every axis says what it measures.
    assert list(names.text) == ["x", "b1_a", "b1_b", "head"] and names.mode == "text"
    assert list(names.x) == list(markers.x)
    assert all(names.z[b] > max(mesh.z[8 * b : 8 * b + 8]) for b in range(4))  # above its box
    assert {trace.name for trace in legend} == {"input", "dense"}
    scene = figure.layout.scene
    assert all(axis.title.text for axis in (scene.xaxis, scene.yaxis, scene.zaxis))
    assert scene.yaxis.visible is not False and scene.zaxis.visible is not False
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
    assert figure.layout.xaxis.title.text == figure.layout.xaxis2.title.text == "weight value"
    assert figure.layout.yaxis.title.text == figure.layout.yaxis2.title.text == "count of values"
    assert "kernel 2×2: mean 0.5" in figure.layout.annotations[0].text
    empty = plot_weight_histograms(LayerDetails("flatten", "Flatten", ("flatten",), "{}", 0, ()))
    assert empty.data == () and "no weights" in empty.layout.title.text


# --- Tables behind the figures -------------------------------------------------------------------


def test_layer_table_and_its_totals_row():
    from neurogenesis.plotting.architecture import layer_table, layer_totals_table, memory_totals

    info = _info()
    table = layer_table(info)
    assert table["layer"].tolist() == ["image", "hidden", "out"]
    assert table["output shape"].tolist() == ["(None, 4)", "(None, 8)", "(None, 2)"]
    assert table["MACs"].tolist() == [0, 32, 16]
    assert table["activation"].tolist() == ["", "relu", "softmax"]
    rows = layer_totals_table(info)
    total = rows.iloc[-1]
    assert (total["layer"], total["class"]) == ("Total", "3 layers")
    assert total["parameters"] == 58 and total["MACs"] == 48
    assert total["activation bytes"] == 16 + 32 + 8 and total["weight bytes"] == 0 + 160 + 72
    assert memory_totals(info) == (232, 56)


def test_weights_table_has_a_row_per_tensor():
    from neurogenesis.analysis.architecture import LayerDetails, WeightStats
    from neurogenesis.plotting.architecture import weights_table

    kernel = WeightStats(
        "kernel", (4, 8), "float32", True, 32, 0.5, 0.1, -1.0, 2.0, 3.0, 0.25, (1,), (0.0, 1.0)
    )
    bias = WeightStats(
        "bias", (8,), "float32", False, 8, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, (8,), (0, 1)
    )
    table = weights_table(LayerDetails("d", "Dense", ("d",), "{}", 40, (kernel, bias)))
    assert table["weight"].tolist() == ["kernel", "bias"]
    assert table["shape"].tolist() == ["4×8", "8"]
    assert table["trainable"].tolist() == [True, False]
    assert table.loc[0, ["mean", "std", "min", "max", "L2 norm", "zeros"]].tolist() == [
        0.5,
        0.1,
        -1.0,
        2.0,
        3.0,
        0.25,
    ]


def test_builder_table_marks_where_the_stack_failed():
    from neurogenesis.analysis.layer_stack import BuildError, BuildResult, LayerSpec
    from neurogenesis.plotting.architecture import builder_table, setting_text

    specs = (
        LayerSpec("Conv2D", {"filters": 8, "kernel_size": (3, 3)}, name="conv"),
        LayerSpec("Flatten"),
        LayerSpec("Dense", {"units": 10}),
    )
    error = BuildError(1, "Flatten", "flatten", "Layer 2 fails.")
    failed = builder_table(specs, BuildResult(None, error, ((None, 26, 26, 8),)))
    assert failed["#"].tolist() == [1, 2, 3]
    assert failed["layer"].tolist() == ["conv", "", ""]
    assert failed["settings"].tolist() == ["filters=8, kernel_size=3, 3", "", "units=10"]
    assert failed["output shape"].tolist() == ["(None, 26, 26, 8)", "✗ fails here", "not built"]
    assert failed["parameters"].isna().all()
    layers = _info().layers  # input, then one built layer per spec (3 specs, 2 Dense here)
    summary = ArchitectureInfo("m", "Sequential", ((None, 4),), ((None, 2),), 58, 58, 48, layers)
    built = BuildResult(object(), None, ((None, 4), (None, 8), (None, 2)), summary)
    table = builder_table(specs, built)
    assert table["parameters"].tolist() == [0, 40, 18]  # the last len(specs) layers' counts
    assert setting_text(None) == "" and setting_text((1, (2, 3))) == "1, 2, 3"


def test_structure_origins_read_as_words():
    from neurogenesis.plotting.architecture import origin_text

    assert origin_text("keras") == "Keras"
    assert origin_text("keras operation") == "Keras operation (keras.ops)"
    assert origin_text("keras_hub") == "KerasHub"
    assert origin_text("custom: mylib.layers") == "custom code (mylib.layers)"

"""Attention figures: the traces and the values they carry (synthetic scores, no model)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest

from neurogenesis.analysis.attention import HeadImportance, head_statistics
from neurogenesis.errors import InputError
from neurogenesis.plotting import attention as plots
from neurogenesis.plotting.style import color_for

# "the" twice (duplicates must keep their own rows) and a token that is HTML.
TOKENS = ["the", "<b>", "cat", "the", "mat"]
ESCAPED = ["the", "&lt;b&gt;", "cat", "the", "mat"]


def _softmax(shape, seed=0, sharpness=2.0):
    logits = np.random.default_rng(seed).normal(size=shape) * sharpness
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def _heatmaps(figure):
    return [trace for trace in figure.data if isinstance(trace, go.Heatmap)]


def _lines(figure):
    return [
        trace
        for trace in figure.data
        if isinstance(trace, go.Scatter) and trace.mode == "lines" and trace.x[0] is not None
    ]


def test_importing_does_not_import_tensorflow():
    code = "import neurogenesis.plotting.attention, sys; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_attention_head_draws_the_matrix_with_escaped_token_labels():
    scores = _softmax((5, 5))
    figure = plots.plot_attention_head(scores, TOKENS, scale="shared")
    (heatmap,) = _heatmaps(figure)
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), scores)
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)
    assert heatmap.colorbar.title.text == "attention<br>weight<br>(shared<br>0–1 scale)"
    # Positions are the axis values, so the two "the" stay two rows and two columns.
    assert list(heatmap.y) == list(range(5)) and list(heatmap.x) == list(range(5))
    assert list(figure.layout.yaxis.ticktext) == ESCAPED
    assert list(figure.layout.xaxis.ticktext) == ESCAPED
    assert list(figure.layout.yaxis.tickvals) == list(range(5))
    assert figure.layout.yaxis.autorange == "reversed"
    assert heatmap.text[1][3] == f"&lt;b&gt; (1) → the (3): {scores[1, 3]:.3f}"
    assert not any("<b>" in cell for row in heatmap.text for cell in row)


def test_duplicate_tokens_keep_their_own_positions():
    figure = plots.plot_attention_head(np.eye(5), TOKENS)
    axis = figure.layout.yaxis
    assert axis.ticktext[0] == axis.ticktext[3] == "the"
    assert len(set(axis.tickvals)) == 5
    # The second "the" attends to itself, not to the first one.
    assert np.asarray(figure.data[0].z)[3, 3] == 1.0 and np.asarray(figure.data[0].z)[3, 0] == 0.0
    view = plots.plot_head_view(np.eye(5)[None], TOKENS)
    ends = sorted((line.y[0], line.y[-1]) for line in _lines(view))
    assert ends == [(i, i) for i in range(5)]


def test_attention_head_cross_attention_and_highlighted_row():
    scores = _softmax((2, 4))
    figure = plots.plot_attention_head(scores, ["q0", "q1"], ["a", "b", "c", "d"], query_index=1)
    assert list(figure.layout.xaxis.ticktext) == ["a", "b", "c", "d"]
    (shape,) = figure.layout.shapes
    assert (shape.y0, shape.y1, shape.x0, shape.x1) == (0.5, 1.5, -0.5, 3.5)
    with pytest.raises(InputError, match="key_tokens"):
        plots.plot_attention_head(scores, ["q0", "q1"])


@pytest.mark.parametrize(
    ("scores", "tokens", "kwargs"),
    [
        (np.ones((1, 5, 5)), TOKENS, {}),
        (np.ones((5, 5)), TOKENS[:4], {}),
        (np.ones((5, 5)), TOKENS, {"query_index": 5}),
        (np.ones((5, 5)), TOKENS, {"query_index": True}),
    ],
)
def test_attention_head_rejects_what_does_not_fit(scores, tokens, kwargs):
    with pytest.raises(InputError, match="Expected"):
        plots.plot_attention_head(scores, tokens, **kwargs)


def test_attention_heads_one_subplot_per_head_on_a_shared_scale():
    scores = _softmax((5, 5, 5), seed=1)
    figure = plots.plot_attention_heads(
        scores, TOKENS, layer="<block>/mha", columns=2, scale="shared"
    )
    heatmaps = _heatmaps(figure)
    assert len(heatmaps) == 5
    for head, heatmap in enumerate(heatmaps):
        np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), scores[head])
        assert heatmap.coloraxis == "coloraxis"
        # A 3 x 2 grid: head h sits in row h // 2, column h % 2, axes numbered row-major.
        assert heatmap.xaxis == ("x" if head == 0 else f"x{head + 1}")
    assert (figure.layout.coloraxis.cmin, figure.layout.coloraxis.cmax) == (0.0, 1.0)
    # Side by side on one scale, and the picture says so.
    assert figure.layout.coloraxis.colorbar.title.text == plots.SHARED_TITLE
    assert "one shared 0–1 scale" in figure.layout.title.text
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == [f"head {head}" for head in range(5)]
    assert list(figure.layout.yaxis.ticktext) == ESCAPED
    assert "&lt;block&gt;" in figure.layout.title.text
    with pytest.raises(InputError, match="column"):
        plots.plot_attention_heads(scores, TOKENS, columns=0)


def test_model_view_cells_carry_layer_and_head_and_leave_missing_heads_blank():
    layers = {"block_1/mha": _softmax((2, 5, 5), seed=2), "block_2/mha": _softmax((3, 5, 5), 3)}
    figure = plots.plot_model_view(layers, TOKENS, scale="shared")
    heatmaps = _heatmaps(figure)
    assert len(heatmaps) == 5
    expected = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    for heatmap, (layer, head) in zip(heatmaps, expected, strict=True):
        matrix = list(layers.values())[layer][head]
        np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), matrix)
        customdata = np.asarray(heatmap.customdata)
        assert customdata.shape == (5, 5, 2)
        assert (customdata == [layer, head]).all()
        assert list(heatmap.meta) == [layer, head]
    # Row 1 has 2 heads of 3: its third cell (axis 3 in a 2 x 3 grid) is hidden.
    assert figure.layout.xaxis3.visible is False and figure.layout.yaxis3.visible is False
    texts = {annotation.text for annotation in figure.layout.annotations}
    assert {"head 0", "head 1", "head 2", "block_1/mha", "block_2/mha"} <= texts
    with pytest.raises(InputError, match="same number of queries"):
        plots.plot_model_view({"a": np.ones((1, 5, 5)), "b": np.ones((1, 4, 4))}, None)


def test_head_view_draws_one_line_per_weight_above_threshold():
    scores = _softmax((3, 5, 5), seed=4)
    threshold = 0.1
    figure = plots.plot_head_view(scores, TOKENS, threshold=threshold)
    lines = _lines(figure)
    assert len(lines) == int((scores >= threshold).sum())
    for line in lines:
        head, query, key = line.meta["head"], line.meta["query"], line.meta["key"]
        weight = scores[head, query, key]
        assert line.opacity == pytest.approx(weight)
        assert line.line.width == pytest.approx(
            max(plots.MIN_LINE_WIDTH, plots.MAX_LINE_WIDTH * weight)
        )
        assert line.line.color == color_for(head)
        assert (line.y[0], line.y[-1]) == (query, key)
        assert line.legendgroup == f"head {head}"
    legend = [trace for trace in figure.data if trace.showlegend]
    assert [trace.name for trace in legend] == ["head 0", "head 1", "head 2"]
    texts = [trace for trace in figure.data if trace.mode == "text"]
    assert [list(trace.text) for trace in texts] == [ESCAPED, ESCAPED]


def test_head_view_one_query_chosen_heads_and_line_cap():
    scores = _softmax((3, 5, 5), seed=5)
    figure = plots.plot_head_view(scores, TOKENS, query_index=3, heads=[0, 2], threshold=0.0)
    lines = _lines(figure)
    assert len(lines) == 2 * 5
    assert {line.meta["query"] for line in lines} == {3}
    assert {line.meta["head"] for line in lines} == {0, 2}
    capped = plots.plot_head_view(scores, TOKENS, threshold=0.0, max_lines=7)
    kept = sorted((line.meta["weight"] for line in _lines(capped)), reverse=True)
    np.testing.assert_allclose(kept, np.sort(scores.reshape(-1))[::-1][:7])
    assert "7 strongest of 75" in capped.layout.title.text
    with pytest.raises(InputError, match="threshold"):
        plots.plot_head_view(scores, TOKENS, threshold=1.5)


def test_rollout_matrix_and_one_row():
    rollout = _softmax((5, 5), seed=6)
    (heatmap,) = _heatmaps(plots.plot_rollout(rollout, TOKENS))
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), rollout)
    assert heatmap.zmax == pytest.approx(rollout.max())
    figure = plots.plot_rollout(rollout, TOKENS, query_index=2)
    (bar,) = figure.data
    np.testing.assert_allclose(np.asarray(bar.y, dtype=float), rollout[2])
    assert list(figure.layout.xaxis.ticktext) == ESCAPED
    colors = list(bar.marker.color)
    assert colors[2] == plots.HIGHLIGHT_COLOR and colors.count(plots.HIGHLIGHT_COLOR) == 1
    with pytest.raises(InputError, match="square"):
        plots.plot_rollout(np.ones((2, 3)), None)


def test_head_statistics_places_uniform_and_sink_heads():
    # Head 0 spreads evenly over 4 keys, head 1 puts everything on the first key.
    scores = np.zeros((2, 2, 4, 4))
    scores[:, 0] = 0.25
    scores[:, 1, :, 0] = 1.0
    stats = head_statistics(scores, layer="<mha>")
    figure = plots.plot_head_statistics([stats, head_statistics(_softmax((2, 3, 4, 4)), layer="b")])
    points = figure.data[0]
    np.testing.assert_allclose(points.y, [1.0, 0.0], atol=1e-12)
    # Mean |query - key| by hand: uniform over 4 keys averages (1.5 + 1 + 1 + 1.5) / 4;
    # the sink head looks back (0 + 1 + 2 + 3) / 4.
    np.testing.assert_allclose(points.x, [1.25, 1.5])
    np.testing.assert_allclose(
        points.marker.size,
        [plots.MIN_MARKER_SIZE + 0.25 * (plots.MAX_MARKER_SIZE - plots.MIN_MARKER_SIZE), 30.0],
    )
    assert points.name == "&lt;mha&gt;" and points.marker.color == color_for(0)
    assert figure.data[1].marker.color == color_for(1)
    assert "head 1" in points.text[1] and "first token 100.0%" in points.text[1]
    (line,) = figure.layout.shapes
    assert (line.y0, line.y1, line.line.dash) == (1.0, 1.0, "dash")
    assert any(annotation.text == "uniform" for annotation in figure.layout.annotations)


def test_head_importance_heatmap_leaves_missing_heads_blank():
    drop = np.array([[0.1, -0.2, 0.05], [0.3, np.nan, np.nan]])
    flipped = np.array([[0.0, 0.5, 0.25], [1.0, np.nan, np.nan]])
    info = HeadImportance(
        layers=("a/<mha>", "b"),
        num_heads=(3, 1),
        target=np.zeros(4, int),
        baseline=np.ones(4),
        drop=drop,
        flipped=flipped,
    )
    figure = plots.plot_head_importance(info)
    (heatmap,) = figure.data
    z = np.array(heatmap.z, dtype=float)
    np.testing.assert_allclose(z, drop)  # NaN where the layer has no such head
    assert heatmap.z[1][1] is None and heatmap.text[1][1] == "" and heatmap.customdata[1][2] == ""
    assert heatmap.text[0][1] == "-0.2"
    assert heatmap.hoverongaps is False
    assert heatmap.zmid == 0.0 and (heatmap.zmin, heatmap.zmax) == (-0.3, 0.3)
    assert "flipped 50.0%" in heatmap.customdata[0][1]
    assert list(figure.layout.yaxis.ticktext) == ["a/&lt;mha&gt;", "b"]


def test_attention_evolution_has_a_frame_per_epoch():
    matrices = [_softmax((5, 5), seed=seed) for seed in range(4)]
    epochs = [1, 5, 10, 20]
    figure = plots.plot_attention_evolution(matrices, epochs, TOKENS)
    assert [frame.name for frame in figure.frames] == ["1", "5", "10", "20"]
    # The default scale runs to the head's largest weight over every epoch: one for all frames.
    peak = max(float(m.max()) for m in matrices)
    assert [frame.data[0].zmax for frame in figure.frames] == [pytest.approx(peak)] * 4
    assert "over the<br>epochs" in figure.data[0].colorbar.title.text
    for frame, matrix in zip(figure.frames, matrices, strict=True):
        np.testing.assert_allclose(np.asarray(frame.data[0].z, dtype=float), matrix)
    np.testing.assert_allclose(np.asarray(figure.data[0].z, dtype=float), matrices[0])
    (slider,) = figure.layout.sliders
    assert [list(step.args[0]) for step in slider.steps] == [["1"], ["5"], ["10"], ["20"]]
    assert list(figure.layout.yaxis.ticktext) == ESCAPED
    with pytest.raises(InputError, match="4 epochs"):
        plots.plot_attention_evolution(matrices, epochs[:3], TOKENS)
    with pytest.raises(InputError, match="one shape"):
        plots.plot_attention_evolution([np.ones((5, 5)), np.ones((4, 4))], [1, 2], None)


def test_entropy_over_epochs_one_line_per_head():
    entropy = np.random.default_rng(7).uniform(size=(3, 4))
    labels = ["l0 h0", "l0 h1", "<l1> h0", "l1 h1"]
    figure = plots.plot_entropy_over_epochs(entropy, [1, 2, 3], labels)
    assert [trace.name for trace in figure.data] == ["l0 h0", "l0 h1", "&lt;l1&gt; h0", "l1 h1"]
    for column, trace in enumerate(figure.data):
        np.testing.assert_allclose(trace.y, entropy[:, column])
        assert list(trace.x) == [1, 2, 3]
    with pytest.raises(InputError, match="head label"):
        plots.plot_entropy_over_epochs(entropy, [1, 2, 3], labels[:3])


def test_temporal_attention_lines_per_head_and_their_mean():
    scores = _softmax((2, 1, 14), seed=8)
    labels = [f"<t-{13 - step}>" for step in range(14)]
    figure = plots.plot_temporal_attention(scores, time_labels=labels)
    assert [trace.name for trace in figure.data] == ["head 0", "head 1", "mean of heads"]
    np.testing.assert_allclose(figure.data[0].y, scores[0, 0])
    np.testing.assert_allclose(figure.data[1].y, scores[1, 0])
    np.testing.assert_allclose(figure.data[2].y, scores[:, 0].mean(axis=0))
    assert figure.layout.xaxis.ticktext[0] == "&lt;t-13&gt;"
    # (H, S) and a chosen query row of (H, T, S) draw the same values.
    single = plots.plot_temporal_attention(scores[:, 0])
    np.testing.assert_allclose(single.data[0].y, scores[0, 0])
    two_queries = np.concatenate([scores, scores[:, :, ::-1]], axis=1)
    last = plots.plot_temporal_attention(two_queries)
    np.testing.assert_allclose(last.data[0].y, scores[0, 0, ::-1])


def test_rollout_of_one_output_is_drawn_as_bars():
    from neurogenesis.plotting.attention import plot_rollout

    shares = np.array([0.5, 0.3, 0.2])
    figure = plot_rollout(shares, ["a", "<b>", "a"])
    bar = figure.data[0]
    assert bar.type == "bar"
    np.testing.assert_allclose(np.asarray(bar.y, dtype=float), shares)
    assert "&lt;b&gt;" in " ".join(bar.text)


def _diffuse(heads=3, size=6, seed=5):
    """A sharp head (one key per query) next to diffuse ones (weights near 1/size)."""
    scores = _softmax((heads, size, size), seed=seed, sharpness=0.1)
    scores[0] = np.eye(size)
    return scores


def test_a_diffuse_head_on_its_own_scale_uses_the_whole_colour_bar():
    scores = _diffuse()
    diffuse = scores[1]
    assert diffuse.max() < 0.3  # on a 0..1 scale it is all pale
    figure = plots.plot_attention_head(diffuse, TOKENS + ["x"])
    (heatmap,) = _heatmaps(figure)
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), diffuse)  # the weights
    assert heatmap.zmax == pytest.approx(diffuse.max()) and heatmap.zmin == 0.0
    assert heatmap.colorbar.title.text == (
        f"attention<br>weight<br>(0 to this<br>head's max,<br>{diffuse.max():.3g})"
    )
    shared = _heatmaps(plots.plot_attention_head(diffuse, TOKENS + ["x"], scale="shared"))[0]
    assert shared.zmax == 1.0
    # A pair shown side by side: one given scale for both, and it says so.
    pair = _heatmaps(plots.plot_attention_head(diffuse, TOKENS + ["x"], zmax=0.5))[0]
    assert pair.zmax == 0.5 and "one scale<br>for both" in pair.colorbar.title.text
    with pytest.raises(InputError, match="scale"):
        plots.plot_attention_head(diffuse, None, scale="log")


def test_small_multiples_scaled_each_to_its_own_max_say_so():
    scores = _diffuse()
    for figure in (
        plots.plot_attention_heads(scores, None),
        plots.plot_model_view({"block/mha": scores}, None),
    ):
        heatmaps = _heatmaps(figure)
        for head, heatmap in enumerate(heatmaps):
            # Drawn as a share of the head's own largest weight: every head reaches 1.
            drawn = np.asarray(heatmap.z, dtype=float)
            np.testing.assert_allclose(drawn, scores[head] / scores[head].max())
            assert drawn.max() == pytest.approx(1.0)
            # Hover still reads the weight itself.
            assert heatmap.text[0][1].endswith(f": {scores[head][0, 1]:.3f}")
        axis = figure.layout.coloraxis
        assert (axis.cmin, axis.cmax) == (0.0, 1.0)
        assert axis.colorbar.title.text == "weight ÷<br>the head's<br>own max"
        assert "each head scaled to its own max" in figure.layout.title.text
    titles = [a.text for a in plots.plot_attention_heads(scores, None).layout.annotations]
    assert titles == [f"head {h} (max {scores[h].max():.2f})" for h in range(3)]

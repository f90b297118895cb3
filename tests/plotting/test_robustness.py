"""Robustness figures: the values each trace carries, checked against the infos and by hand."""

from __future__ import annotations

import base64
import io
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from neurogenesis.analysis.robustness import STRENGTH_UNITS, RobustnessInfo, strength_text
from neurogenesis.errors import InputError
from neurogenesis.plotting import robustness as pr

NAMES = ("gaussian_noise", "blur", "fgsm", "pgd")
# The blur strengths are stored out of order: the panel must draw them sorted.
STRENGTHS = {
    "gaussian_noise": [0.0, 0.1, 0.3],
    "blur": [2.0, 0.0, 1.0, 3.0],
    "fgsm": [0.0, 0.05],
    "pgd": [0.0, 0.05, 0.1],
}


def _info(metric: str = "accuracy", per_class: bool = True, counts=(4, 3, 5)) -> RobustnessInfo:
    rng = np.random.default_rng(0)
    curve, strength = [], []
    for index, name in enumerate(NAMES):
        curve += [index] * len(STRENGTHS[name])
        strength += STRENGTHS[name]
    m = len(curve)
    values = rng.uniform(0.2, 0.9, m) if metric == "accuracy" else rng.uniform(1.0, 5.0, m)
    classes = len(counts)
    per_class_values = rng.uniform(0, 1, (m, classes)) if per_class else None
    if per_class:
        per_class_values[:, np.asarray(counts) == 0] = np.nan
    return RobustnessInfo(
        input_kind="image",
        task="classification" if metric == "accuracy" else "regression",
        metric=metric,
        clean=0.93 if metric == "accuracy" else 1.2,
        names=NAMES,
        kinds=("corruption", "corruption", "attack", "attack"),
        units=tuple(STRENGTH_UNITS[name] for name in NAMES),
        curve=np.asarray(curve),
        strength=np.asarray(strength, dtype=float),
        value=values,
        per_class=per_class_values,
        class_counts=np.asarray(counts) if per_class else None,
        label_names=("cat", "dog", "<bird>") if per_class else None,
        value_range=(0.0, 1.0),
    )


def _panels(figure: go.Figure) -> dict[str, list]:
    """Traces by the x axis (panel) they are drawn on."""
    panels: dict[str, list] = {}
    for trace in figure.data:
        panels.setdefault(trace.xaxis or "x", []).append(trace)
    return panels


def _axis(figure: go.Figure, ref: str, kind: str = "x"):
    return figure.layout[f"{kind}axis{ref[1:]}"]


def _pixels(trace: go.Image) -> np.ndarray:
    header, data = trace.source.split(",", 1)
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def _hover_name(trace) -> str:
    """The bold curve name a point's hover starts with."""
    return trace.hovertemplate.split("<b>")[1].split("</b>")[0]


def _expected_curve(info: RobustnessInfo, name: str):
    strengths, values = info.curve_values(name)
    order = np.argsort(strengths, kind="stable")
    return strengths[order], values[order], order


# ---------------------------------------------------------------------------------------------
# Curves


def test_curves_one_panel_per_curve_with_its_values_and_units():
    info = _info()
    figure = pr.plot_robustness_curves(info)
    panels = _panels(figure)
    assert len(panels) == len(NAMES)
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["Gaussian noise", "Blur", "FGSM (L∞)", "PGD (L∞)"]
    for (ref, traces), name in zip(panels.items(), NAMES, strict=True):
        clean, overall = traces
        strengths, values, _ = _expected_curve(info, name)
        np.testing.assert_allclose(overall.x, strengths)
        np.testing.assert_allclose(overall.y, values)
        assert overall.name == info.kinds[NAMES.index(name)]
        # The clean value is a dotted line across the panel's strengths.
        assert clean.line.dash == "dot"
        np.testing.assert_allclose(clean.y, [0.93, 0.93])
        np.testing.assert_allclose(clean.x, [strengths.min(), strengths.max()])
        assert _axis(figure, ref).title.text == STRENGTH_UNITS[name]
        assert list(_axis(figure, ref, "y").range) == [-0.02, 1.04]
        assert _hover_name(overall) == pr.curve_label(name)
    # Attacks' hover gives epsilon as a share of the value range.
    attack = panels["x3"][1]
    np.testing.assert_allclose(attack.customdata, [0.0, 0.05])
    assert "of the range 0..1" in attack.hovertemplate
    assert figure.layout.title.text.startswith("Accuracy")
    # Every panel's axes carry a title (a panel read alone says what it measures).
    assert figure.layout.yaxis.title.text == figure.layout.yaxis2.title.text == "accuracy"


def test_curves_grid_has_three_columns_and_grows_with_rows():
    info = _info()
    four = pr.plot_robustness_curves(info)
    two = pr.plot_robustness_curves(info, names=["pgd", "blur"])
    # Four panels: three on the first row, one below.
    first_row = {round(four.layout.yaxis.domain[0], 3)}
    assert {round(four.layout[f"yaxis{i}"].domain[0], 3) for i in (2, 3)} == first_row
    assert round(four.layout.yaxis4.domain[0], 3) < min(first_row)
    assert four.layout.height > two.layout.height
    assert [annotation.text for annotation in two.layout.annotations] == ["PGD (L∞)", "Blur"]
    strengths, values, _ = _expected_curve(info, "pgd")
    np.testing.assert_allclose(two.data[1].y, values)


def test_curves_per_class_lines_match_the_info():
    info = _info()
    figure = pr.plot_robustness_curves(info, per_class=True)
    panels = _panels(figure)
    colors = {}
    for traces, name in zip(panels.values(), NAMES, strict=True):
        clean, *classes, overall = traces
        assert len(classes) == 3
        points = np.flatnonzero(info.curve == NAMES.index(name))
        _, _, order = _expected_curve(info, name)
        for k, trace in enumerate(classes):
            np.testing.assert_allclose(trace.y, info.per_class[points[order], k])
            assert trace.legendgroup == f"class {k}"
            colors.setdefault(k, trace.line.color)
            assert trace.line.color == colors[k]  # the same colour in every panel
            assert trace.line.width < overall.line.width
        assert overall.line.color == "#000000"
        np.testing.assert_allclose(overall.y, _expected_curve(info, name)[1])
    assert len(set(colors.values())) == 3 and "#000000" not in colors.values()
    # One legend entry per class, however many panels.
    legend = [trace.name for trace in figure.data if trace.showlegend]
    assert legend == [
        "clean (93.0%)",
        "cat (4 samples)",
        "dog (3 samples)",
        "&lt;bird&gt; (5 samples)",
        "all samples",
    ]


def test_curves_skip_classes_without_samples():
    figure = pr.plot_robustness_curves(_info(counts=(4, 0, 5)), per_class=True)
    groups = {trace.legendgroup for trace in figure.data}
    assert groups == {"clean", "class 0", "class 2", "all"}


def test_curves_regression_error_goes_up():
    info = _info(metric="mean_absolute_error", per_class=False)
    figure = pr.plot_robustness_curves(info)
    assert "lower is better" in figure.layout.title.text
    assert figure.layout.yaxis.title.text == "mean absolute error"
    y_range = figure.layout.yaxis.range
    assert y_range[0] == 0 and y_range[1] >= info.value.max()
    # One range for all panels.
    assert figure.layout.yaxis3.range == y_range
    strengths, values, _ = _expected_curve(info, "blur")
    np.testing.assert_allclose(_panels(figure)["x2"][1].y, values)
    np.testing.assert_allclose(_panels(figure)["x2"][0].y, [1.2, 1.2])


def test_curves_bad_requests():
    with pytest.raises(InputError, match="rotation"):
        pr.plot_robustness_curves(_info(), names=["rotation"])
    with pytest.raises(InputError, match="per_class=False"):
        pr.plot_robustness_curves(_info(per_class=False), per_class=True)


def test_curves_of_a_real_run():
    from neurogenesis.analysis.robustness import robustness_curves
    from neurogenesis.testing import tiny_cnn

    model = tiny_cnn(num_classes=3)
    x = np.random.default_rng(1).uniform(0, 1, (9, 8, 8, 1)).astype("float32")
    y = np.arange(9) % 3
    info = robustness_curves(
        model,
        x,
        y,
        corruptions=("gaussian_noise", "brightness"),
        strengths={"gaussian_noise": (0.0, 0.3), "brightness": (0.0, 0.5), "fgsm": (0.0, 0.2)},
        attacks=("fgsm",),
    )
    figure = pr.plot_robustness_curves(info, per_class=True)
    panels = _panels(figure)
    assert len(panels) == len(info.names) == 3
    for traces, name in zip(panels.values(), info.names, strict=True):
        assert len(traces) == 1 + 3 + 1
        np.testing.assert_allclose(traces[-1].y, _expected_curve(info, name)[1])
    overview = pr.plot_robustness_overview(info)
    assert len(overview.data[0].x) == 3


# ---------------------------------------------------------------------------------------------
# Overview


def test_overview_ranks_at_matched_severities_worst_first():
    info = _info()
    figure = pr.plot_robustness_overview(info)
    bars, middle = figure.data
    expected = info.summary_rows()
    # The bars are the mean over each curve's severity levels (strengths above 0), worst first.
    for name in NAMES:
        strengths, values = info.curve_values(name)
        assert next(r for r in expected if r["corruption"] == name)["mean"] == pytest.approx(
            values[strengths > 0].mean()
        )
    np.testing.assert_allclose(bars.x, [row["mean"] for row in expected])
    assert list(np.diff(bars.x) >= 0) == [True] * (len(NAMES) - 1)
    assert list(bars.y) == [
        f"{pr.curve_label(row['corruption'])}: {row['mean']:.1%}" for row in expected
    ]
    np.testing.assert_allclose(middle.x, [row["at_middle"] for row in expected])
    assert figure.layout.yaxis.autorange == "reversed"  # the worst on top
    # Every level is listed in its unit in the hover.
    for hover, row in zip(bars.hovertext, expected, strict=True):
        strengths = sorted(s for s in STRENGTHS[row["corruption"]] if s > 0)
        for strength in strengths:
            assert strength_text(strength, STRENGTH_UNITS[row["corruption"]]) in hover
    (line,) = figure.layout.shapes
    assert line.x0 == line.x1 == 0.93 and line.line.dash == "dot"
    title = figure.layout.title.text
    assert "averaged over each curve's its severity levels" not in title
    assert "severity levels, worst first" in title and "strongest" not in title
    assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text


def test_overview_regression_sorts_largest_error_first():
    info = _info(metric="mean_absolute_error", per_class=False)
    bars, _ = pr.plot_robustness_overview(info).data
    expected = sorted((row["mean"] for row in info.summary_rows()), reverse=True)
    np.testing.assert_allclose(bars.x, expected)


# ---------------------------------------------------------------------------------------------
# Adversarial examples


def test_adversarial_image_perturbation_is_grey_at_zero_and_extreme_at_max():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, (4, 5, 1))
    delta = np.zeros_like(x)
    delta[0, 0], delta[1, 2], delta[3, 4] = 0.05, -0.05, 0.025
    figure = pr.plot_adversarial_example(x, x + delta, value_range=(0.0, 1.0))
    images = [trace for trace in figure.data if isinstance(trace, go.Image)]
    original, perturbation, adversarial = (_pixels(image)[..., 0].astype(int) for image in images)
    np.testing.assert_array_equal(original, np.rint(x[..., 0] * 255))
    np.testing.assert_array_equal(adversarial, np.rint((x + delta)[..., 0] * 255))
    assert perturbation[0, 0] == 255 and perturbation[1, 2] == 0
    assert perturbation[3, 4] == np.rint(0.75 * 255)
    zero = delta[..., 0] == 0
    assert np.all(perturbation[zero] == 128)
    # The default amplification maps max|δ| to the ends: range / (2 * 0.05) = 10.
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["original", "perturbation ×10, L∞ 0.05", "adversarial"]
    assert "L∞ 0.05" in figure.layout.title.text
    # Hover names the values of each pixel.
    hover = [trace for trace in figure.data if isinstance(trace, go.Heatmap)][0]
    assert hover.hovertext[1][2] == (
        f"row 1, column 2<br>original: {x[1, 2, 0]:.4g}<br>change: -0.05<br>"
        f"adversarial: {x[1, 2, 0] - 0.05:.4g}"
    )


def test_adversarial_colour_image_with_chosen_amplification():
    rng = np.random.default_rng(1)
    x = rng.integers(10, 240, (3, 4, 3)).astype(np.uint8)
    delta = rng.integers(-8, 9, x.shape)
    x_adv = (x + delta).astype(np.uint8)
    figure = pr.plot_adversarial_example(
        x, x_adv, value_range=(0, 255), amplification=4.0, labels=("clean", "attacked")
    )
    original, perturbation, adversarial = (
        _pixels(trace) for trace in figure.data if isinstance(trace, go.Image)
    )
    np.testing.assert_array_equal(original, x)
    np.testing.assert_array_equal(adversarial, x_adv)
    expected = np.rint(np.clip(0.5 + delta * 4.0 / 255, 0, 1) * 255)
    np.testing.assert_array_equal(perturbation, expected)
    assert figure.layout.annotations[1].text == f"perturbation ×4, L∞ {np.abs(delta).max()}"
    assert figure.layout.annotations[2].text == "attacked"


def test_adversarial_series_one_panel_per_feature():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(10, 8))
    x_adv = x + rng.uniform(-0.1, 0.1, x.shape)
    names = [f"f{k}" for k in range(8)]
    figure = pr.plot_adversarial_example(x, x_adv, value_range=(-3, 3), feature_names=names)
    panels = _panels(figure)
    assert len(panels) == pr.MAX_FEATURE_PANELS
    assert "first 6 of 8 features" in figure.layout.title.text
    assert [a.text for a in figure.layout.annotations] == names[:6]
    for feature, (original, adversarial) in enumerate(panels.values()):
        np.testing.assert_allclose(original.y, x[:, feature])
        np.testing.assert_allclose(adversarial.y, x_adv[:, feature])
        np.testing.assert_allclose(adversarial.customdata, x_adv[:, feature] - x[:, feature])
        assert original.line.dash in (None, "solid") and adversarial.line.dash == "dash"
        assert adversarial.fill == "tonexty"  # the perturbation is the shaded gap


def test_adversarial_series_per_feature_budget_and_units():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(10, 3))
    x_adv = x.copy()
    x_adv[:, :2] += 0.1
    figure = pr.plot_adversarial_example(
        x,
        x_adv,
        value_range=(-3, 3),
        feature_names=["rain", "temp", "day_sin"],
        feature_units=["mm", "°C", ""],
        feature_epsilon=[0.5, 0.25, 0.0],
    )
    title = figure.layout.title.text
    assert "its own ε" in title and "1 fixed" in title and "input units" not in title
    assert [a.text for a in figure.layout.annotations] == [
        "rain: ε 0.5 mm",
        "temp: ε 0.25 °C",
        "day_sin: fixed",
    ]
    assert [figure.layout[f"yaxis{k or ''}"].title.text for k in (None, 2, 3)] == [
        "mm",
        "°C",
        "value",
    ]
    with pytest.raises(InputError, match="one ε"):
        pr.plot_adversarial_example(
            x, x_adv, value_range=(-3, 3), feature_names=["a", "b", "c"], feature_epsilon=[1]
        )


def test_adversarial_refuses_what_it_cannot_draw():
    tokens = np.array([4, 8, 15, 16])
    with pytest.raises(InputError, match="continuous inputs"):
        pr.plot_adversarial_example(tokens, tokens, value_range=(0, 60))
    with pytest.raises(InputError, match="same shape"):
        pr.plot_adversarial_example(np.zeros((4, 4, 1)), np.zeros((4, 5, 1)), value_range=(0, 1))
    with pytest.raises(InputError):
        pr.plot_adversarial_example(
            np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4, 1)), value_range=(0, 1)
        )
    with pytest.raises(InputError, match="value_range"):
        pr.plot_adversarial_example(np.zeros((4, 4)), np.zeros((4, 4)), value_range=(1, 0))
    with pytest.raises(InputError, match="amplification"):
        pr.plot_adversarial_example(
            np.zeros((4, 4)), np.ones((4, 4)), value_range=(0, 1), amplification=-1
        )


# ---------------------------------------------------------------------------------------------
# Prediction change


def test_prediction_change_bars_are_the_probabilities():
    rng = np.random.default_rng(3)
    before, after = rng.dirichlet(np.ones(12)), rng.dirichlet(np.ones(12))
    labels = [f"c{k}" for k in range(12)]
    figure = pr.plot_prediction_change(labels, before, after, top=5)
    first, second = figure.data
    order = np.argsort(-np.maximum(before, after))[:5].tolist()
    for k in (int(np.argmax(before)), int(np.argmax(after))):
        if k not in order:
            order.append(k)
    np.testing.assert_allclose(first.x, before[order])
    np.testing.assert_allclose(second.x, after[order])
    assert list(first.customdata) == [labels[k] for k in order]
    # A star on each side's predicted class, and its label in bold.
    for trace, values in ((first, before), (second, after)):
        starred = [order[i] for i, text in enumerate(trace.text) if pr.STAR in text]
        assert starred == [int(np.argmax(values))]
    bold = {order[i] for i, tick in enumerate(first.y) if tick.startswith("<b>")}
    assert bold == {int(np.argmax(before)), int(np.argmax(after))}
    assert first.name == "original" and second.name == "perturbed"


def test_prediction_change_keeps_both_predicted_classes():
    before = np.array([0.6, 0.3, 0.1])
    after = np.array([0.1, 0.2, 0.7])
    figure = pr.plot_prediction_change(["a", "b", "c"], before, after, top=1)
    assert list(figure.data[0].customdata) == ["c", "a"]  # by max(before, after)
    assert figure.layout.title.text == "Prediction: a (60%) → c (70%), changed"


def test_prediction_change_regression():
    figure = pr.plot_prediction_change(["temperature"], [12.5], [9.0])
    (bars,) = figure.data
    np.testing.assert_allclose(bars.y, [12.5, 9.0])
    assert figure.layout.yaxis.title.text == "predicted temperature"
    # the values sit outside the bars and are never clipped, with room on the axis for them
    (bar,) = figure.data
    assert bar.textposition == "outside" and bar.cliponaxis is False
    assert figure.layout.yaxis.range[1] > 12.5
    assert "-3.5" in figure.layout.title.text


def test_prediction_change_binary_sigmoid_shows_both_classes():
    figure = pr.plot_prediction_change(["negative", "positive"], [0.8], [0.3])
    first, second = figure.data
    assert list(first.customdata) == ["positive", "negative"]
    np.testing.assert_allclose(first.x, [0.8, 0.2])
    np.testing.assert_allclose(second.x, [0.3, 0.7])


def test_prediction_change_bad_input():
    with pytest.raises(InputError):
        pr.plot_prediction_change(["a", "b"], [0.5, 0.5], [1.0])
    with pytest.raises(InputError):
        pr.plot_prediction_change(["a"], [0.5, 0.5], [0.2, 0.8])
    with pytest.raises(InputError):
        pr.plot_prediction_change(None, [0.5, 0.5], [0.2, 0.8], top=0)


# ---------------------------------------------------------------------------------------------
# The perturbed sample


def test_perturbed_text_highlights_exactly_the_changed_tokens():
    vocabulary = np.array(["[PAD]", "[UNK]", "good", "film", "not", "<b>bad</b>"])
    original = np.array([2, 3, 4, 5, 2, 0, 0])
    perturbed = np.array([2, 1, 4, 1, 2, 0, 0])
    figure = pr.plot_perturbed_input(
        perturbed, value_range=None, kind="text", vocabulary=vocabulary, original=original
    )
    (cells,) = figure.data
    z = np.asarray(cells.z, dtype=float)
    positions = np.asarray(cells.customdata)
    highlighted = sorted(int(p) for p in positions[z == 1])
    assert highlighted == [1, 3]
    assert sorted(int(p) for p in positions[z == 0]) == [0, 2, 4]  # trailing padding left out
    words = [cells.text[0][i] for i in range(5)]
    assert words == ["good", "[UNK]", "not", "[UNK]", "good"]
    assert cells.hovertext[0][3] == "position 3: [UNK]<br>was: &lt;b&gt;bad&lt;/b&gt;"
    assert "2 of 5 tokens changed" in figure.layout.title.text


def test_perturbed_text_wraps_and_handles_no_original():
    tokens = np.arange(2, 20)
    figure = pr.plot_perturbed_input(tokens, value_range=None, kind="text")
    z = np.asarray(figure.data[0].z, dtype=float)
    assert z.shape == (3, pr.TOKENS_PER_ROW)
    assert np.nansum(z) == 0 and np.isnan(z).sum() == 3 * pr.TOKENS_PER_ROW - len(tokens)
    assert figure.data[0].text[1][0] == str(tokens[pr.TOKENS_PER_ROW])


def test_perturbed_image_and_series():
    x = np.linspace(0, 255, 12).reshape(3, 4, 1).astype(np.uint8)
    original = np.zeros_like(x)
    figure = pr.plot_perturbed_input(x, value_range=(0, 255), kind="image", original=original)
    image, hover = figure.data
    np.testing.assert_array_equal(_pixels(image)[..., 0], x[..., 0])
    assert hover.hovertext[2][3] == "row 2, column 3<br>value: 255<br>change: 255"
    series = np.random.default_rng(4).normal(size=(7, 2))
    before = series + 1.0
    figure = pr.plot_perturbed_input(
        series, value_range=None, kind="array", original=before, feature_names=["a", "b"]
    )
    panels = list(_panels(figure).values())
    assert len(panels) == 2
    for feature, (grey, line) in enumerate(panels):
        np.testing.assert_allclose(grey.y, before[:, feature])
        np.testing.assert_allclose(line.y, series[:, feature])
        assert grey.line.color == pr.BACKGROUND_SERIES_COLOR


def test_perturbed_input_bad_input():
    with pytest.raises(InputError, match="kind"):
        pr.plot_perturbed_input(np.zeros(4), value_range=(0, 1), kind="audio")
    with pytest.raises(InputError):
        pr.plot_perturbed_input(np.zeros((2, 4), dtype=int), value_range=None, kind="text")
    with pytest.raises(InputError, match="same shape"):
        pr.plot_perturbed_input(
            np.zeros((4, 4, 1)), value_range=(0, 1), kind="image", original=np.zeros((4, 4))
        )


def test_plotting_does_not_import_tensorflow():
    code = (
        "import sys; import neurogenesis.plotting.robustness; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_regression_error_axes_carry_the_targets_unit():
    info = _info(metric="mean_absolute_error", per_class=False)
    curves = pr.plot_robustness_curves(info, unit="°C")
    titles = [curves.layout[f"yaxis{k or ''}"].title.text for k in (None, 2, 3, 4)]
    assert titles == ["mean absolute error (°C)"] * 4
    assert all(curves.layout[f"xaxis{k or ''}"].title.text for k in (None, 2, 3, 4))
    overview = pr.plot_robustness_overview(info, unit="°C")
    assert overview.layout.xaxis.title.text.startswith("mean absolute error in °C")

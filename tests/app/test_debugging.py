"""The debugging page under AppTest: every tab on the image, text, weather and autoencoder demos,
with the numbers it shows recomputed independently."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from neurogenesis.analysis import graph, robustness
from neurogenesis.io.models import load_model
from neurogenesis.io.samples import load_samples
from tests.app.pages import charts, open_page, rerun, values
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def open_debugging(app_argv, model: str) -> AppTest:
    return open_page(app_argv, "debugging.py", model=model)


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["debugging_tab"] = tab
    return rerun(at)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def trace(at: AppTest, name: str) -> dict:
    return next(t for spec in charts(at) for t in spec["data"] if t.get("name") == name)


def test_digits_every_tab(app_argv):
    model = load_model(ROOT / "models/digits_cnn.keras")
    samples = load_samples(ROOT / "data/samples/digits_cnn.npz")
    low, high = robustness.value_range(samples.x)
    probabilities = np.asarray(graph.predict(model, samples.x))
    predicted = probabilities.argmax(axis=1)

    at = open_debugging(app_argv, "digits_cnn (demo)")
    assert at.title[0].value == "Debugging"
    # Explain: the inputs that drove sample #0, largest share first.
    top = at.dataframe[-1].value
    assert {"row", "column", "share of |total|"} <= set(top.columns) and len(top) == 10
    shares = top["share of |total|"].to_numpy()
    assert np.all(np.diff(shares) <= 1e-12) and 0 < shares.sum() <= 1 + 1e-9

    # Perturbation: brighter by 30% of the range; the bars are the model's own probabilities.
    open_tab(at, "Perturbation")
    at.slider(key="debugging_brightness").set_value(0.3)
    rerun(at)
    brighter = robustness.brightness(samples.x[:1], 0.3, value_range=(low, high))
    expected = np.asarray(graph.predict(model, brighter))[0]
    shown = values(trace(at, "perturbed")["x"])
    np.testing.assert_allclose(np.sort(shown), np.sort(expected), atol=1e-5)
    np.testing.assert_allclose(
        np.sort(values(trace(at, "original")["x"])), np.sort(probabilities[0]), atol=1e-5
    )

    # Adversarial: PGD at 10% of the range; the batch accuracy recomputes from an independent run.
    open_tab(at, "Adversarial")
    at.slider(key="debugging_epsilon").set_value(0.1)
    rerun(at)
    epsilon = 0.1 * (high - low)
    attack = robustness.pgd(
        model,
        samples.x[:200],
        samples.y[:200],
        epsilon=epsilon,
        steps=10,  # capped to 4 by NEUROGENESIS_MAX_STEPS; the step is 2.5 ε / 4
        value_range=(low, high),
    )
    assert metric(at, "Accuracy under attack") == f"{attack.adversarial_accuracy:.1%}"
    assert metric(at, "Clean accuracy") == f"{np.mean(predicted[:200] == samples.y[:200]):.1%}"
    assert attack.adversarial_accuracy < attack.clean_accuracy - 0.2  # 4 PGD steps in tests
    assert float(metric(at, "Largest change (L∞)")) <= epsilon + 1e-6
    # the single attack's outcome is a result (warning or success), never an error box
    assert not at.error
    outcome = [m.value for m in [*at.warning, *at.success]]
    assert any("fooled the model" in v or "model held" in v for v in outcome), outcome

    # Robustness: every image corruption and both attacks in the summary.
    open_tab(at, "Robustness")
    at.slider(key="debugging_curve_count").set_value(40)
    at.button(key="debugging_curves_button").click()
    rerun(at)
    summary = at.dataframe[-1].value
    assert len(summary) == len(robustness.CORRUPTIONS["image"]) + len(robustness.ATTACKS)
    # ranked by the mean over the five severities, each level with its unit
    means = summary["accuracy averaged over the levels"].to_numpy()
    assert np.all(np.diff(means) >= 0)
    noise = summary[summary["corruption"] == "gaussian noise"].iloc[0]
    assert noise["severity levels 1–5"] == "2%, 5%, 10%, 20%, 30% of the value range"
    overview = next(s for s in charts(at) if "worst first" in s["layout"]["title"]["text"])
    np.testing.assert_allclose(values(overview["data"][0]["x"]), means)

    # Errors: the confusion matrix is sklearn's; a cell lists its samples; ECE by hand.
    open_tab(at, "Errors")
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(samples.y, predicted, labels=range(10))
    confusion = next(s for s in charts(at) if "Confusion" in s["layout"]["title"]["text"])
    heatmap = next(t for t in confusion["data"] if t["type"] == "heatmap")
    z = (
        values(heatmap["z"]).reshape(10, 10)
        if isinstance(heatmap["z"], dict)
        else np.asarray(heatmap["z"], float)
    )
    np.testing.assert_allclose(z, matrix / matrix.sum(axis=1, keepdims=True), atol=1e-9)
    wrong = np.flatnonzero(predicted != samples.y)
    true, guess = int(samples.y[wrong[0]]), int(predicted[wrong[0]])
    at.session_state["debugging_cell"] = (true, guess)
    rerun(at)
    assert any(f"{int(matrix[true, guess])} samples" in m.value for m in at.markdown)
    confidence = probabilities.max(axis=1)
    bins = np.minimum((confidence * 15).astype(int), 14)
    correct = predicted == samples.y
    ece = sum(
        abs(correct[bins == b].mean() - confidence[bins == b].mean()) * np.mean(bins == b)
        for b in range(15)
        if np.any(bins == b)
    )
    assert any(f"Expected calibration error **{ece:.3f}**" in c.value for c in at.caption)

    # Compare: the default B is a model that disagrees somewhere; McNemar's p is scipy's.
    open_tab(at, "Compare models")
    chosen = at.multiselect(key="debugging_compare_models").value
    assert chosen[0] == "digits_cnn (demo)" and len(chosen) == 2
    run = chosen[1].removesuffix(" (run)")
    other = load_model(ROOT / "data/runs" / run / "model.keras")
    other_predicted = np.asarray(graph.predict(other, samples.x)).argmax(axis=1)
    assert np.any(other_predicted != predicted)
    b = int(np.sum((predicted == samples.y) & (other_predicted != samples.y)))
    c = int(np.sum((predicted != samples.y) & (other_predicted == samples.y)))
    p_value = stats.binomtest(min(b, c), b + c, 0.5).pvalue if b + c else 1.0
    text = next(m.value for m in at.markdown if "McNemar's exact test" in m.value)
    assert f"A alone is right on **{b}**, B alone on **{c}**" in text
    assert f"p = {min(p_value, 1.0):.3g}" in text
    disagreements = at.dataframe[-1].value
    assert len(disagreements) == int(np.sum(other_predicted != predicted))
    at.toggle(key="debugging_profile").set_value(True)
    rerun(at)
    pareto = trace(at, "Pareto front")
    assert len(values(pareto["x"])) >= 1


def test_sentiment_tokens(app_argv):
    samples = load_samples(ROOT / "data/samples/sentiment_transformer.npz")
    model = load_model(ROOT / "models/sentiment_transformer.keras")
    at = open_debugging(app_argv, "sentiment_transformer (demo)")
    top = at.dataframe[-1].value
    vocabulary = [str(w) for w in samples.extras["vocabulary"]]
    assert "token" in top.columns and set(top["token"]) <= set(vocabulary)
    open_tab(at, "Perturbation")
    present = np.flatnonzero(samples.x[0] != 0)
    # the token edits are keyed by the sample's tokens (a kept choice belongs to these tokens)
    (mask,) = [m for m in at.multiselect if m.key.startswith("debugging_mask_0_")]
    mask.select(int(present[0])).select(int(present[1]))
    rerun(at)
    masked = samples.x[:1].copy()
    masked[0, present[:2]] = robustness.UNKNOWN_ID
    expected = np.asarray(graph.predict(model, masked))[0]
    np.testing.assert_allclose(
        np.sort(values(trace(at, "perturbed")["x"])), np.sort(expected), atol=1e-5
    )
    open_tab(at, "Adversarial")
    assert any("token ids" in info.value for info in at.info)
    open_tab(at, "Errors")
    at.selectbox(key="debugging_slice_by").select("negated")
    rerun(at)
    predicted = np.asarray(graph.predict(model, samples.x)).argmax(axis=1)
    negated = samples.extras["negated"]
    points = next(
        t for spec in charts(at) for t in spec["data"] if t.get("name", "").startswith("per ")
    )
    accuracy = {str(g): np.mean((predicted == samples.y)[negated == g]) for g in (False, True)}
    np.testing.assert_allclose(sorted(values(points["y"])), sorted(accuracy.values()), atol=1e-9)


def test_weather_regression(app_argv):
    samples = load_samples(ROOT / "data/samples/weather_lstm.npz")
    model = load_model(ROOT / "models/weather_lstm.keras")
    at = open_debugging(app_argv, "weather_lstm (demo)")
    open_tab(at, "Errors")
    predictions = np.asarray(graph.predict(model, samples.x)).reshape(-1)
    assert any("no error by horizon" in c.value for c in at.caption)
    assert metric(at, "MAE") == f"{np.mean(np.abs(samples.y - predictions)):.3g} °C"
    open_tab(at, "Adversarial")
    names = [str(n) for n in samples.extras["feature_names"]]
    # calendar features are fixed by default; ε is 3% of each feature's own range
    fixed = at.multiselect(key="debugging_fixed_attack")
    assert [names[k] for k in fixed.value] == ["day_of_year_sin", "day_of_year_cos"]
    budget = at.dataframe[-1].value
    low, high = samples.x.min(axis=(0, 1)), samples.x.max(axis=(0, 1))
    epsilon = 0.03 * (high.astype(np.float64) - low)
    epsilon[4:] = 0
    assert list(budget["feature"]) == names
    np.testing.assert_allclose(budget["ε"], epsilon, rtol=1e-6)
    assert np.all(budget["largest change (batch)"] <= epsilon + 1e-5)
    assert list(budget["fixed"]) == [False] * 4 + [True] * 2
    attack = robustness.pgd(
        model,
        samples.x[:200],
        samples.y[:200],
        epsilon_share=0.03,
        value_range=robustness.set_range(samples.x),
        fixed_features=(4, 5),
    )
    assert metric(at, "MAE under attack") == f"{attack.adversarial_error:.3g} °C"
    np.testing.assert_array_equal(attack.x_adv[..., 4:], samples.x[:200, :, 4:])
    assert attack.adversarial_error > attack.clean_error
    title = next(s for s in charts(at) if "its own ε" in s["layout"]["title"]["text"])
    assert any(a["text"] == "day_of_year_cos: fixed" for a in title["layout"]["annotations"])
    open_tab(at, "Perturbation")
    at.slider(key="debugging_series_shift").set_value(2)
    rerun(at)
    delayed = robustness.series_shift(
        samples.x[:1], 2, value_range=robustness.value_range(samples.x)
    )
    moved = float(np.asarray(graph.predict(model, delayed)).reshape(-1)[0] - predictions[0])
    assert any(f"{moved:+.3g} °C" in c.value for c in at.caption)
    # Compare: the recorded 'lstm' run, with a paired test on the absolute errors
    open_tab(at, "Compare models")
    chosen = at.multiselect(key="debugging_compare_models").value
    assert len(chosen) == 2 and chosen[0] != chosen[1]
    other = load_model(ROOT / "data/runs" / chosen[1].removesuffix(" (run)") / "model.keras")
    theirs = np.asarray(graph.predict(other, samples.x)).reshape(-1)
    mine_abs, theirs_abs = np.abs(samples.y - predictions), np.abs(samples.y - theirs)
    expected = stats.wilcoxon(mine_abs, theirs_abs)
    text = next(m.value for m in at.markdown if "Wilcoxon signed-rank test" in m.value)
    assert f"p = {expected.pvalue:.3g}" in text
    assert f"A − B = **{mine_abs.mean() - theirs_abs.mean():+.3g} °C**" in text
    assert any("Mean |error|" in s["layout"]["title"]["text"] for s in charts(at))


def test_autoencoder_says_why(app_argv):
    at = open_debugging(app_argv, "digits_vae (demo)")
    for tab in ("Perturbation", "Adversarial", "Robustness", "Errors", "Compare models"):
        open_tab(at, tab)
        assert at.info, tab

"""The digits demo's seed stories on the Debugging page's Compare models tab (issue 23): the test
across seeds on the adam and sgd recipes and the A/B test between two seeded runs, with every
number shown recomputed from the saved models by Keras and scipy."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from scipy import stats

from tests.app.pages import charts, open_page, rerun, values
from tests.conftest import ROOT

RUNS = ROOT / "data" / "runs" / "digits_cnn"
SEEDS = (1, 2, 3)
RECIPES = {
    "adam": "learning_rate=0.001, optimizer=adam",
    "sgd": "learning_rate=0.01, optimizer=sgd",
}


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def label(recipe: str, seed: int) -> str:
    return f"digits_cnn/{recipe}_seed{seed} (run)"


def classes_by_keras() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each seed model's predicted class on the page's sample set, from Keras's own load and
    call, and the set's labels."""
    samples = np.load(ROOT / "data" / "samples" / "digits_cnn.npz")
    predicted = {}
    for recipe in RECIPES:
        for seed in SEEDS:
            model = keras.saving.load_model(RUNS / f"{recipe}_seed{seed}" / "model.keras")
            scores = np.asarray(model.predict(samples["x"], batch_size=360, verbose=0))
            predicted[label(recipe, seed)] = scores.argmax(axis=1)
    return predicted, samples["y"]


def exact_bootstrap_interval(right_a, right_b, confidence: float = 0.95) -> tuple[float, float]:
    """The ideal (infinitely many resamples) percentile interval of accuracy A − B when samples
    are resampled jointly: the numbers of A-only and B-only samples in a resample are multinomial,
    so the distribution of their difference is exact by enumeration."""
    n = len(right_a)
    p_a = np.mean(right_a & ~right_b)
    p_b = np.mean(~right_a & right_b)
    probability = np.zeros(2 * n + 1)  # index: (A-only) − (B-only) + n
    for k in range(n + 1):
        first = stats.binom.pmf(k, n, p_a)
        if first < 1e-15:
            continue
        rest = n - k
        second = stats.binom.pmf(np.arange(rest + 1), rest, p_b / (1 - p_a) if p_a < 1 else 0)
        probability[k - np.arange(rest + 1) + n] += first * second
    cdf = np.cumsum(probability)
    tail = (1 - confidence) / 2
    low = (np.searchsorted(cdf, tail) - n) / n
    high = (np.searchsorted(cdf, 1 - tail) - n) / n
    return low, high


def test_the_seed_stories_compare_across_seeds_and_a_b(app_argv):
    predicted, truth = classes_by_keras()
    right = {name: classes == truth for name, classes in predicted.items()}
    accuracy = {name: float(np.mean(r)) for name, r in right.items()}

    at = open_page(app_argv, "debugging.py", model="digits_cnn (demo)")
    at.session_state["debugging_tab"] = "Compare models"
    rerun(at)
    compare = at.multiselect(key="debugging_compare_models")
    # The six seed stories are offered (their runs saved model.keras) and can be chosen together.
    assert set(accuracy) <= set(compare.options)
    compare.set_value(list(accuracy))
    rerun(at)
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["model", "accuracy"])
    shown = dict(zip(table["model"], table["accuracy"], strict=True))
    assert shown.keys() == accuracy.keys()
    for name in accuracy:
        assert shown[name] == pytest.approx(accuracy[name], abs=1e-12), name

    # Across seeds: two recipes named by what tells them apart, paired by seed 1..3.
    recipe_a = at.selectbox(key="debugging_seed_a")
    assert recipe_a.options == list(RECIPES.values())
    assert recipe_a.value == RECIPES["adam"]
    assert at.selectbox(key="debugging_seed_b").value == RECIPES["sgd"]
    adam = np.array([accuracy[label("adam", seed)] for seed in SEEDS])
    sgd = np.array([accuracy[label("sgd", seed)] for seed in SEEDS])
    t_test = stats.ttest_rel(adam, sgd)
    caption = next(c.value for c in at.caption if c.value.startswith("Paired by seed"))
    assert (
        f"Mean accuracy {adam.mean():.2%} against {sgd.mean():.2%}: A − B = "
        f"{100 * (adam.mean() - sgd.mean()):+.2f} percentage points, "
        f"t-test p = {t_test.pvalue:.3g}, Wilcoxon signed-rank p = n/a." in caption
    )
    spec = next(s for s in charts(at) if any(t.get("name") == "same seed" for t in s["data"]))
    assert spec["layout"]["yaxis"]["title"]["text"] == "accuracy"
    runs = {t["name"]: values(t["y"]) for t in spec["data"] if t["name"].endswith(" runs")}
    np.testing.assert_allclose(runs[f"{RECIPES['adam']} runs"], adam, atol=1e-12)
    np.testing.assert_allclose(runs[f"{RECIPES['sgd']} runs"], sgd, atol=1e-12)
    # Both recipes are named under their column (long names made Plotly drop one).
    assert spec["layout"]["xaxis"]["ticktext"] == list(RECIPES.values())
    title = spec["layout"]["title"]["text"]
    assert title.startswith(
        f"{RECIPES['adam']} − {RECIPES['sgd']} = {adam.mean() - sgd.mean():+.3g}"
    )

    # A/B between two story models: adam and sgd trained with the same seed.
    a, b = label("adam", 1), label("sgd", 1)
    at.selectbox(key="debugging_model_a").set_value(a)
    rerun(at)
    at.selectbox(key="debugging_model_b").set_value(b)
    rerun(at)
    only_a = int(np.sum(right[a] & ~right[b]))
    only_b = int(np.sum(~right[a] & right[b]))
    assert only_a + only_b > 0  # the two recipes disagree somewhere: the test has something to say
    p_value = stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
    text = next(m.value for m in at.markdown if "McNemar's exact test" in m.value)
    assert f"A alone is right on **{only_a}**, B alone on **{only_b}**" in text
    assert f"McNemar's exact test: **p = {min(p_value, 1.0):.3g}**" in text
    difference = accuracy[a] - accuracy[b]
    assert f"Accuracy difference A − B = {difference:+.1%}" in text
    # The percentile interval of 10,000 resamples sits within one sample (1/360) of the exact one.
    bootstrap = next(s for s in charts(at) if "Accuracy A − B" in s["layout"]["title"]["text"])
    low, high = (
        float(v) / 100
        for v in re.search(
            r"CI ([-+]?[\d.]+) to ([-+]?[\d.]+) pp", bootstrap["layout"]["title"]["text"]
        ).groups()
    )
    exact_low, exact_high = exact_bootstrap_interval(right[a], right[b])
    step = 1 / len(right[a])
    assert abs(low - exact_low) <= step + 1e-4 and abs(high - exact_high) <= step + 1e-4
    assert low <= difference <= high
    disagreements = at.dataframe[-1].value
    assert len(disagreements) == int(np.sum(predicted[a] != predicted[b]))
    assert not at.error

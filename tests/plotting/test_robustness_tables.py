"""The tables behind the robustness charts: each row and column recomputed from the infos (what
the debugging page showed before the tables moved here)."""

from __future__ import annotations

import numpy as np

from neurogenesis.analysis.robustness import AdversarialInfo
from neurogenesis.plotting import robustness as pr
from tests.plotting.test_robustness import NAMES, STRENGTHS, _info


def test_prediction_change_table_names_classes_or_outputs():
    table = pr.prediction_change_table(["cat", "dog"], [0.8, 0.2], [0.3, 0.7])
    assert list(table.columns) == ["class", "original", "perturbed"]
    assert list(table["class"]) == ["cat", "dog"]
    np.testing.assert_allclose(table["perturbed"], [0.3, 0.7])
    # a regression output (no class names): one row, named by its position
    table = pr.prediction_change_table([], [[21.5]], [[23.0]], ("original", "adversarial"))
    assert list(table.columns) == ["class", "original", "adversarial"]
    assert list(table["class"]) == ["output 0"] and table["adversarial"][0] == 23.0


def test_curves_table_holds_every_point_of_every_curve():
    info = _info()
    table = pr.robustness_curves_table(info)
    assert list(table.columns) == ["curve", "kind", "strength", "accuracy"]
    assert len(table) == sum(len(s) for s in STRENGTHS.values())
    for name, kind in zip(NAMES, info.kinds, strict=True):
        rows = table[table["curve"] == name]
        assert set(rows["kind"]) == {kind}
        np.testing.assert_allclose(rows["strength"], STRENGTHS[name])
        np.testing.assert_allclose(rows["accuracy"], info.value[info.curve == NAMES.index(name)])


def test_overview_table_is_the_ranked_summary_with_readable_headers():
    info = _info()
    table = pr.robustness_overview_table(info)
    assert list(table.columns) == [
        "corruption",
        "kind",
        "severity levels 1–5",
        "accuracy averaged over the levels",
        "change from clean",
        "severity 3",
        "accuracy at severity 3",
        "below 90% of clean from",
    ]
    rows = info.summary_rows()
    assert list(table["corruption"]) == [row["corruption"].replace("_", " ") for row in rows]
    np.testing.assert_allclose(
        table["accuracy averaged over the levels"], [r["mean"] for r in rows]
    )
    np.testing.assert_allclose(
        table["change from clean"], [r["mean"] - info.clean for r in rows], atol=1e-12
    )
    assert list(table["below 90% of clean from"]) == [r["breaks_at"] or "never" for r in rows]
    assert list(pr.robustness_overview_table(_info("error")).columns)[3] == (
        "error averaged over the levels"
    )


def _attack(feature_linf, epsilon) -> AdversarialInfo:
    epsilon = np.asarray(epsilon, dtype=np.float64)
    return AdversarialInfo(
        method="pgd",
        task="regression",
        x_adv=np.zeros((1, 2, 3)),
        perturbation=np.zeros((1, 2, 3)),
        clean_predictions=np.zeros((1, 1)),
        adversarial_predictions=np.zeros((1, 1)),
        clean_probabilities=np.zeros((1, 1)),
        adversarial_probabilities=np.zeros((1, 1)),
        labels=np.zeros((1, 1)),
        clean_accuracy=None,
        adversarial_accuracy=None,
        clean_error=0.0,
        adversarial_error=0.0,
        epsilon=epsilon,
        steps=4,
        step_size=epsilon / 4,
        linf=float(np.max(feature_linf)),
        feature_linf=np.asarray(feature_linf, dtype=np.float64),
        value_range=np.array([[-10.0, 0.0, 0.0], [30.0, 100.0, 1.0]]),
        target=None,
        score="loss",
    )


def test_budget_table_gives_each_features_range_epsilon_and_change():
    single = _attack([1.2, 3.0, 0.0], [1.2, 3.0, 0.0])
    batch = _attack([1.2, 2.5, 0.0], [1.2, 3.0, 0.0])
    table = pr.adversarial_budget_table(
        single,
        batch,
        feature_names=["temp", "humidity", "day_sin"],
        feature_units=["°C", "%", ""],
    )
    assert list(table.columns) == [
        "feature",
        "unit",
        "low",
        "high",
        "ε",
        "change (this sample)",
        "largest change (batch)",
        "fixed",
    ]
    assert list(table["feature"]) == ["temp", "humidity", "day_sin"]
    assert list(table["unit"]) == ["°C", "%", ""]
    np.testing.assert_allclose(table["low"], [-10, 0, 0])
    np.testing.assert_allclose(table["high"], [30, 100, 1])
    np.testing.assert_allclose(table["largest change (batch)"], [1.2, 2.5, 0.0])
    assert list(table["fixed"]) == [False, False, True]
    # without names, units that do not name every feature, and no batch
    bare = pr.adversarial_budget_table(single, feature_units=["°C"])
    assert list(bare["feature"]) == ["feature 0", "feature 1", "feature 2"]
    assert list(bare["unit"]) == ["", "", ""] and "largest change (batch)" not in bare

"""The tables behind the evaluation charts: each row and column recomputed from the raw numbers
(what the debugging page showed before the tables moved here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurogenesis.analysis import evaluation
from neurogenesis.analysis.evaluation import ProfileInfo
from neurogenesis.analysis.features import PredictionInfo
from neurogenesis.plotting import evaluation as pe

LABELS = np.array([0, 0, 1, 1, 2, 2, 2, 0])
PREDICTED = np.array([0, 1, 1, 1, 2, 0, 2, 0])
NAMES = ("cat", "dog", "bird")


def _predictions(predicted, confidence, labels=LABELS) -> PredictionInfo:
    predicted = np.asarray(predicted)
    outputs = np.eye(3)[predicted] * np.asarray(confidence)[:, None]
    return PredictionInfo(
        outputs=outputs,
        task="classification",
        predicted=predicted,
        confidence=np.asarray(confidence, dtype=float),
        labels=labels,
        correct=(predicted == labels).astype(np.int64),
        errors=None,
        label_names=NAMES,
        num_classes=3,
    )


def test_confusion_and_class_metrics_tables_count_by_hand():
    info = evaluation.confusion_info(LABELS, PREDICTED, 3, NAMES)
    matrix = pe.confusion_matrix_table(info)
    assert matrix.index.name == "label" and list(matrix.index) == list(NAMES)
    assert list(matrix.columns) == ["predicted cat", "predicted dog", "predicted bird"]
    expected = np.zeros((3, 3), dtype=np.int64)
    for true, guess in zip(LABELS, PREDICTED, strict=True):
        expected[true, guess] += 1
    np.testing.assert_array_equal(matrix.to_numpy(), expected)

    metrics = pe.class_metrics_table(info)
    assert list(metrics.columns) == ["class", "precision", "recall", "F1", "support"]
    assert list(metrics["class"]) == list(NAMES)
    precision = np.diag(expected) / expected.sum(axis=0)
    recall = np.diag(expected) / expected.sum(axis=1)
    np.testing.assert_allclose(metrics["precision"], precision)
    np.testing.assert_allclose(metrics["recall"], recall)
    np.testing.assert_allclose(metrics["F1"], 2 * precision * recall / (precision + recall))
    np.testing.assert_array_equal(metrics["support"], [3, 2, 3])


def test_reliability_table_is_one_row_per_bin():
    probabilities = np.array(
        [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.4, 0.35, 0.25], [0.1, 0.1, 0.8]]
    )
    labels = np.array([0, 0, 0, 2])
    info = evaluation.calibration_info(probabilities, labels, 4, "uniform")
    table = pe.reliability_diagram_table(info)
    assert list(table.columns) == ["bin from", "bin to", "mean confidence", "accuracy", "samples"]
    np.testing.assert_allclose(table["bin from"], [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(table["bin to"], [0.25, 0.5, 0.75, 1.0])
    assert table["samples"].sum() == 4
    # confidence 0.4 (right) in the second bin, 0.7 (wrong) in the third, 0.8 and 0.9 (right)
    np.testing.assert_array_equal(table["samples"], [0, 1, 1, 2])
    row = table[table["samples"] == 2].iloc[0]
    assert row["mean confidence"] == pytest.approx(0.85) and row["accuracy"] == 1.0


def test_slices_table_names_its_group_column():
    correct = np.array([1, 0, 1, 1, 1, 0], dtype=bool)
    groups = np.array(["a", "a", "b", "b", "b", "c"])
    info = evaluation.slice_info(correct, groups)
    table = pe.slices_table(info, group_label="source")
    assert list(table.columns) == ["source", "samples", "accuracy", "low", "high"]
    assert list(table["source"]) == ["a", "b", "c"]
    np.testing.assert_array_equal(table["samples"], [2, 3, 1])
    np.testing.assert_allclose(table["accuracy"], [0.5, 1.0, 0.0])
    assert np.all(table["low"] <= table["accuracy"]) and np.all(table["accuracy"] <= table["high"])


def test_residual_and_horizon_tables():
    predictions = np.array([[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]])
    targets = np.array([[1.5, 2.0], [2.0, 7.0], [0.0, 0.0]])
    info = evaluation.residual_info(predictions, targets)
    table = pe.residuals_table(info)
    assert list(table["sample"]) == [0, 0, 1, 1, 2, 2]
    assert list(table["step"]) == [0, 1, 0, 1, 0, 1]
    np.testing.assert_allclose(table["prediction"], predictions.ravel())
    np.testing.assert_allclose(table["target"], targets.ravel())
    np.testing.assert_allclose(table["residual"], (targets - predictions).ravel())
    horizon = pe.horizon_error_table(info)
    assert list(horizon.columns) == ["horizon", "MAE", "RMSE"] and len(horizon) == 2
    np.testing.assert_allclose(horizon["MAE"], np.abs(targets - predictions).mean(axis=0))
    np.testing.assert_allclose(
        horizon["RMSE"], np.sqrt(((targets - predictions) ** 2).mean(axis=0))
    )


def test_error_comparison_and_mcnemar_tables():
    errors_a = np.array([0.5, -1.0, 2.0, 0.1, 0.3, -0.2, 0.4])
    errors_b = np.array([0.4, 1.5, -1.0, 0.2, 0.6, 0.1, -0.9])
    info = evaluation.paired_error_info(errors_a, errors_b, num_resamples=200)
    table = pe.error_comparison_table(info, unit="°C")
    assert list(table.columns) == ["sample", "A |error| °C", "B |error| °C"]
    np.testing.assert_allclose(table["A |error| °C"], np.abs(errors_a))
    np.testing.assert_allclose(table["B |error| °C"], np.abs(errors_b))
    assert list(pe.error_comparison_table(info).columns) == ["sample", "A |error|", "B |error|"]

    correct_a = np.array([1, 1, 0, 0, 1, 1, 0])
    correct_b = np.array([1, 0, 1, 0, 0, 1, 0])
    counts = pe.mcnemar_table(evaluation.mcnemar_info(correct_a, correct_b))
    assert list(counts["A"]) == ["right", "right", "wrong", "wrong"]
    assert list(counts["B"]) == ["right", "wrong", "right", "wrong"]
    assert list(counts["samples"]) == [2, 2, 1, 2]


def test_seed_table_lists_every_run():
    info = evaluation.seed_comparison_info([0.9, 0.8, 0.85], [0.7, 0.75, 0.72], paired=True)
    table = pe.seed_comparison_table(info, ("wide", "narrow"), ([1, 2, 3], [1, 2, 3]))
    assert list(table["recipe"]) == ["wide"] * 3 + ["narrow"] * 3
    assert list(table["seed"]) == [1, 2, 3, 1, 2, 3]
    np.testing.assert_allclose(table["accuracy"], [0.9, 0.8, 0.85, 0.7, 0.75, 0.72])


def test_model_scores_and_disagreements():
    a = _predictions(PREDICTED, np.linspace(0.5, 0.9, 8))
    other = np.array([0, 0, 1, 2, 2, 0, 2, 1])
    b = _predictions(other, np.linspace(0.6, 0.95, 8))
    scores = pe.model_scores_table({"A": a, "B": b}, classification=True)
    assert list(scores.columns) == ["model", "accuracy"]
    np.testing.assert_allclose(
        scores["accuracy"], [np.mean(PREDICTED == LABELS), np.mean(other == LABELS)]
    )
    regression = PredictionInfo(
        outputs=np.zeros((3, 1)),
        task="regression",
        predicted=None,
        confidence=None,
        labels=np.zeros(3),
        correct=None,
        errors=np.array([1.0, np.nan, 3.0]),
        label_names=None,
        num_classes=0,
    )
    errors = pe.model_scores_table({"m": regression}, classification=False)
    assert list(errors.columns) == ["model", "MAE"] and errors["MAE"][0] == pytest.approx(2.0)

    indices = np.flatnonzero(other != PREDICTED)
    table = pe.disagreements_table(indices, a, a, b, ("first", "second"))
    assert list(table.columns) == [
        "sample",
        "label",
        "A: first",
        "A confidence",
        "B: second",
        "B confidence",
    ]
    assert list(table["sample"]) == list(indices)
    assert list(table["label"]) == [NAMES[LABELS[i]] for i in indices]
    assert list(table["A: first"]) == [NAMES[PREDICTED[i]] for i in indices]
    assert list(table["B: second"]) == [NAMES[other[i]] for i in indices]
    np.testing.assert_allclose(table["B confidence"], b.confidence[indices])


def _profile(latency, parameters=10, activation_bytes=None) -> ProfileInfo:
    sizes = np.array([1, 8, 32, 128])
    latency = np.asarray(latency, dtype=float)
    return ProfileInfo(
        batch_sizes=sizes,
        latency=latency,
        latency_min=latency * 0.9,
        throughput=sizes / latency,
        num_parameters=parameters,
        trainable_parameters=parameters,
        weight_bytes=parameters * 4,
        activation_bytes=activation_bytes,
        repeats=3,
        method=evaluation.PROFILE_METHOD,
    )


def test_profile_pareto_and_size_tables():
    profiles = {
        "small": _profile([0.001, 0.002, 0.004, 0.016], 1_000, 2_000_000),
        "big": _profile([0.002, 0.004, 0.008, 0.032], 5_000),
    }
    timings = pe.profile_table(profiles)
    assert len(timings) == 8 and list(timings["model"]) == ["small"] * 4 + ["big"] * 4
    np.testing.assert_allclose(
        timings["samples per second"], np.tile([1, 8, 32, 128], 2) / timings["median latency (s)"]
    )
    np.testing.assert_allclose(timings["fastest latency (s)"], timings["median latency (s)"] * 0.9)

    sizes = pe.profile_sizes_table(profiles)
    assert list(sizes.columns) == [
        "model",
        "parameters",
        "weights (MB)",
        "activations (MB)",
        "ms per sample at 128",
    ]
    np.testing.assert_allclose(sizes["weights (MB)"], [0.004, 0.02])
    assert sizes["activations (MB)"][0] == pytest.approx(2.0) and pd.isna(
        sizes["activations (MB)"][1]
    )
    np.testing.assert_allclose(sizes["ms per sample at 128"], [0.125, 0.25])

    costs = np.array([4.0, 8.0, 6.0])
    scores = np.array([0.9, 0.95, 0.8])
    front = evaluation.pareto_front(costs, scores)
    table = pe.pareto_table(["a", "b", "c"], costs, scores, front, "latency (ms)", "accuracy")
    assert list(table.columns) == ["model", "latency (ms)", "accuracy", "on the front"]
    assert list(table["on the front"]) == [True, True, False]


def test_text_samples_table_lists_index_text_and_facts():
    table = pe.text_samples_table([3, 7], ["a fine film", "not good"], ["#3 → pos", "#7 → neg ✗"])
    assert list(table.columns) == ["sample", "text", "facts"]
    assert list(table["sample"]) == [3, 7] and table["facts"][1] == "#7 → neg ✗"

"""What the debugging page asks of analysis.evaluation besides the infos: slice columns of a
sample set, slices of a model's predictions, the largest errors, whether two models predict
alike, a profile's latency at a batch size; and analysis.training's groups of seeds."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.analysis import evaluation
from neurogenesis.analysis.evaluation import ProfileInfo
from neurogenesis.analysis.features import PredictionInfo
from neurogenesis.analysis.training import seed_groups
from neurogenesis.errors import InputError
from neurogenesis.io.samples import SampleSet


def _regression(outputs, targets) -> PredictionInfo:
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    targets = np.asarray(targets, dtype=np.float64)
    return PredictionInfo(
        outputs=outputs,
        task="regression",
        predicted=None,
        confidence=None,
        labels=targets,
        correct=None,
        errors=np.abs(outputs - targets.reshape(len(targets), -1)).mean(axis=1),
        label_names=None,
        num_classes=0,
    )


def _classifier(predicted, labels) -> PredictionInfo:
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    return PredictionInfo(
        outputs=np.eye(2)[predicted],
        task="classification",
        predicted=predicted,
        confidence=np.ones(len(predicted)),
        labels=labels,
        correct=predicted == labels,
        errors=None,
        label_names=None,
        num_classes=2,
    )


def test_slice_columns_keep_few_valued_extras_and_dates_by_month():
    count = 6
    sample_set = SampleSet(
        name="s",
        kind="array",
        x=np.zeros((count, 2)),
        y=None,
        label_names=None,
        source="s.npz",
        extras={
            "source": np.array(["a", "b", "a", "b", "a", "c"]),
            "date": np.array(["2024-01-03", "2024-01-20", "2024-02-01"] * 2),
            "id": np.arange(count),  # six distinct values: more than the cap of 5 below
            "vocabulary": np.array(["x", "y"]),  # set-wide, not per sample
            "masks": np.zeros((count, 2, 2)),  # per sample but not one value each
        },
    )
    columns = evaluation.slice_columns(sample_set, max_groups=5)
    assert list(columns) == ["date (month)", "source"]
    np.testing.assert_array_equal(columns["date (month)"], [1, 1, 2, 1, 1, 2])
    np.testing.assert_array_equal(columns["source"], sample_set.extras["source"])
    assert "id" in evaluation.slice_columns(sample_set)  # under the default cap of 40


def test_prediction_slices_are_accuracy_or_mean_error_per_group():
    groups = np.array([0, 0, 1, 1])
    accuracy = evaluation.prediction_slices(_classifier([0, 1, 1, 1], [0, 0, 1, 1]), groups)
    assert accuracy.metric == "accuracy"
    np.testing.assert_allclose(accuracy.values, [0.5, 1.0])
    errors = evaluation.prediction_slices(
        _regression([1.0, 2.0, 3.0, 5.0], [1.5, 2.0, 2.0, 7.0]), groups
    )
    assert errors.metric == "error"
    np.testing.assert_allclose(errors.values, [0.25, 1.5])
    unlabelled = _classifier([0, 1], [0, 1])
    unlabelled = PredictionInfo(**{**vars(unlabelled), "labels": None, "correct": None})
    with pytest.raises(InputError, match="labels"):
        evaluation.prediction_slices(unlabelled, [0, 1])


def test_largest_errors_orders_by_mean_absolute_error():
    info = _regression([[1.0, 1.0], [0.0, 4.0], [2.0, 2.0]], [[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    # mean |error| per sample: 0.5, 2.0, 2.0 -> the two 2.0s first
    order = evaluation.largest_errors(info, 2)
    assert order.dtype == np.int64 and set(order.tolist()) == {1, 2}
    assert evaluation.largest_errors(info, 10)[-1] == 0
    with pytest.raises(InputError, match="regression"):
        evaluation.largest_errors(_classifier([0, 1], [0, 1]))


def test_same_predictions_exactly_or_within_a_tolerance():
    a = _regression([1.0, 2.0], [0.0, 0.0])
    nudged = _regression([1.0 + 1e-9, 2.0], [0.0, 0.0])
    assert evaluation.same_predictions(a, a)
    assert not evaluation.same_predictions(a, nudged)
    assert evaluation.same_predictions(a, nudged, atol=1e-6)
    assert not evaluation.same_predictions(a, _regression([1.0, 2.0, 3.0], [0, 0, 0]), atol=1)
    mirrored = _regression([-1.0, -2.0], [0.0, 0.0])  # other outputs, the same errors
    assert not evaluation.same_predictions(a, mirrored)
    assert evaluation.same_predictions(a, mirrored, field="errors")


def test_latency_at_a_batch_size_or_the_largest_timed():
    profile = ProfileInfo(
        batch_sizes=np.array([1, 8, 32]),
        latency=np.array([0.1, 0.2, 0.4]),
        latency_min=np.array([0.1, 0.2, 0.4]),
        throughput=np.array([10.0, 40.0, 80.0]),
        num_parameters=1,
        trainable_parameters=1,
        weight_bytes=4,
        activation_bytes=None,
        repeats=1,
        method=evaluation.PROFILE_METHOD,
    )
    assert profile.latency_at(8) == 0.2
    assert profile.latency_at(128) == 0.4


def test_seed_groups_pair_runs_that_differ_only_in_their_seed():
    recipe = {"optimizer": "adam", "learning_rate": 0.01, "optimizer_config": {"name": "adam"}}
    runs = {
        "a1": {**recipe, "seed": 2},
        "a0": {**recipe, "seed": 1},
        "b0": {**recipe, "learning_rate": 0.1, "seed": 1},
        "b1": {**recipe, "learning_rate": 0.1, "seed": 2},
        "lonely": {**recipe, "learning_rate": 0.5, "seed": 1},
        "no seed": recipe,
        "nothing": None,
    }
    groups = seed_groups(runs)
    assert groups == {
        "learning_rate=0.01, optimizer=adam": [(1, "a0"), (2, "a1")],
        "learning_rate=0.1, optimizer=adam": [(1, "b0"), (2, "b1")],
    }
    # Named by what tells the recipes apart (the shared optimizer=adam left out), so that both
    # fit on a chart's axis; a setting only one recipe has is "unset" in the other.
    assert seed_groups(runs, distinct=True) == {
        "learning_rate=0.01": [(1, "a0"), (2, "a1")],
        "learning_rate=0.1": [(1, "b0"), (2, "b1")],
    }
    clipped = {f"c{seed}": {**recipe, "clipnorm": 1.0, "seed": seed} for seed in (1, 2)}
    assert seed_groups({"a0": runs["a0"], "a1": runs["a1"], **clipped}, distinct=True) == {
        "clipnorm unset": [(1, "a0"), (2, "a1")],
        "clipnorm=1.0": [(1, "c1"), (2, "c2")],
    }
    # One recipe keeps every setting: nothing tells it apart from another.
    assert list(seed_groups({"a0": runs["a0"], "a1": runs["a1"]}, distinct=True)) == [
        "learning_rate=0.01, optimizer=adam"
    ]


def test_the_weakest_slice_is_the_least_accurate_or_the_most_wrong():
    groups = np.array([0, 0, 1, 1, 2])
    accuracy = evaluation.slice_info(np.array([1, 1, 0, 1, 1], dtype=bool), groups)
    assert accuracy.weakest() == 1
    errors = evaluation.slice_info(np.array([0.1, 0.2, 0.1, 0.1, 3.0]), groups)
    assert errors.weakest() == 2


def test_an_attack_lists_the_samples_it_flipped():
    from neurogenesis.analysis.robustness import AdversarialInfo

    def attack(task, clean, adversarial) -> AdversarialInfo:
        clean, adversarial = np.asarray(clean), np.asarray(adversarial)
        return AdversarialInfo(
            method="fgsm",
            task=task,
            x_adv=np.zeros((3, 2)),
            perturbation=np.zeros((3, 2)),
            clean_predictions=clean,
            adversarial_predictions=adversarial,
            clean_probabilities=np.zeros((3, 2)),
            adversarial_probabilities=np.zeros((3, 2)),
            labels=clean,
            clean_accuracy=None,
            adversarial_accuracy=None,
            clean_error=None,
            adversarial_error=None,
            epsilon=0.1,
            steps=1,
            step_size=0.1,
            linf=0.1,
            feature_linf=None,
            value_range=(0.0, 1.0),
            target=None,
            score="loss",
        )

    flipped = attack("classification", [0, 1, 1], [0, 0, 2]).flipped()
    assert flipped.tolist() == [1, 2]
    assert attack("regression", [[0.5]] * 3, [[0.9]] * 3).flipped().size == 0

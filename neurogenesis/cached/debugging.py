"""Cached wrappers of the Debugging page: robustness, evaluation, comparisons, profiles."""

from __future__ import annotations

import streamlit as st

from neurogenesis import workspace as catalogue
from neurogenesis.cached._keys import (
    Key,
    _array_key,
    _hashable,
    _identity,
    _model,
    _remembered,
    _samples,
    by_key,
    model_object,
)
from neurogenesis.cached.features import predictions
from neurogenesis.cached.sources import saved_loss
from neurogenesis.cached.training import hyperparameters, named_runs
from neurogenesis.workspace import Source


def run_models(sources) -> list[tuple[str, Source, dict]]:
    """``workspace.run_models``: ``(run name, model Source, hyperparameters)`` of every recorded
    run of the chosen logs that saved its model (the models a comparison can offer)."""
    return catalogue.run_models(sources, named_runs=named_runs, hyperparameters=hyperparameters)


@st.cache_data(show_spinner=False, max_entries=256)
def _perturbation(model_key, samples_key, index: int, steps: tuple, seed: int):
    from neurogenesis.analysis.robustness import perturbation_info

    steps = [(name, dict(parameters)) for name, parameters in steps]
    return perturbation_info(
        _model(*model_key),
        _samples(*samples_key).x,
        index,
        steps,
        seed=seed,
        loss=saved_loss(model_key),
        task=predictions(model_key, samples_key).task,  # the set's labels tell a logit head
    )


def perturbation(model: Source, samples: Source, index: int, steps, seed: int = 0):
    """``analysis.robustness.perturbation_info`` of one sample (steps: ``(name, params)``)."""
    frozen = tuple(
        (name, tuple(sorted((k, _hashable(v)) for k, v in parameters.items())))
        for name, parameters in steps
    )
    return _perturbation(_identity(model), _identity(samples), int(index), frozen, int(seed))


@st.cache_data(show_spinner=False, max_entries=64)
def _perturbation_of(model_key, x, steps: tuple, seed: int):
    from neurogenesis.analysis.robustness import perturbation_info

    steps = [(name, dict(parameters)) for name, parameters in steps]
    return perturbation_info(_model(*model_key), x, 0, steps, seed=seed, loss=saved_loss(model_key))


def perturbation_of(model: Source, x, steps, seed: int = 0):
    """``analysis.robustness.perturbation_info`` of one sample that is not in a sample set
    (typed text packed as the model's inputs), keyed by its values."""
    import numpy as np

    frozen = tuple(
        (name, tuple(sorted((k, _hashable(v)) for k, v in parameters.items())))
        for name, parameters in steps
    )
    return _perturbation_of(_identity(model), np.ascontiguousarray(x), frozen, int(seed))


def attribution_of(model: Source, x, method: str, options: dict, progress=None):
    """``analysis.attribution.attribution_info`` of arrays that are not in a sample set (a
    perturbed or adversarial sample), remembered by the arrays' content."""
    from neurogenesis.analysis.attribution import attribution_info

    key = (_identity(model), _array_key(x), method, tuple(sorted(options.items())))
    return _remembered(
        "attribution_of",
        key,
        lambda report: attribution_info(model_object(model), x, method, progress=report, **options),
        progress,
    )


def token_attribution_of(model: Source, x, method: str, options: dict):
    """``analysis.attribution.token_attribution_info`` of token arrays not in a sample set."""
    from neurogenesis.analysis.attribution import token_attribution_info

    key = (_identity(model), _array_key(x), method, tuple(sorted(options.items())))
    return _remembered(
        "token_attribution_of",
        key,
        lambda report: token_attribution_info(model_object(model), x, method, **options),
    )


@st.cache_data(show_spinner="Attacking…", max_entries=32)
def _adversarial(model_key, samples_key, indices: tuple[int, ...], method: str, options: tuple):
    from neurogenesis.analysis import robustness

    sample_set = _samples(*samples_key)
    chosen = list(indices)
    attack = robustness.fgsm if method == "fgsm" else robustness.pgd
    return attack(
        _model(*model_key),
        sample_set.x[chosen],
        None if sample_set.y is None else sample_set.y[chosen],
        value_range=robustness.set_range(sample_set.x),
        loss=saved_loss(model_key),
        **dict(options),
    )


def adversarial(model: Source, samples: Source, indices, method: str, options: dict):
    """``analysis.robustness.fgsm`` or ``pgd`` on the chosen samples, clipped to the whole set's
    value range (each feature's own range for series and feature vectors: ``set_range``)."""
    indices = tuple(int(i) for i in indices)
    return _adversarial(
        _identity(model), _identity(samples), indices, method, tuple(sorted(options.items()))
    )


def robustness(
    model: Source, samples: Source, count: int, options: dict, progress=None, target=None
):
    """``analysis.robustness.robustness_curves`` on the first ``count`` samples, remembered.
    ``target`` (a ``compute.ComputeTarget``) runs the samples' shards on a Ray cluster
    (``compute.jobs.robustness_curves``): the same curves, remembered under the same key."""
    from neurogenesis.analysis.robustness import robustness_curves, set_range

    key = (_identity(model), _identity(samples), int(count), tuple(sorted(options.items())))

    def compute(report):
        sample_set = _samples(*_identity(samples))
        if target is not None and not target.is_local:
            from neurogenesis.compute import jobs
            from neurogenesis.compute.payload import payload_from_path

            return jobs.robustness_curves(
                model_object(model),
                sample_set.x[:count],
                sample_set.y[:count],
                where=target,
                payload=payload_from_path(model.path, model.output or None),
                value_range=set_range(sample_set.x),
                label_names=sample_set.label_names,
                loss=saved_loss(model),
                **options,
            )
        return robustness_curves(
            model_object(model),
            sample_set.x[:count],
            sample_set.y[:count],
            value_range=set_range(sample_set.x),
            label_names=sample_set.label_names,
            progress=report,
            loss=saved_loss(model),
            **options,
        )

    return _remembered("robustness", key, compute, progress)


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def confusion(model: Key, samples: Key):
    """``analysis.evaluation.confusion_info`` of the model's predictions on the sample set."""
    from neurogenesis.analysis.evaluation import confusion_info

    info = predictions(model, samples)
    return confusion_info(info.labels, info.predicted, info.num_classes, info.label_names)


@st.cache_data(show_spinner=False, max_entries=64)
def _calibration(model_key, samples_key, num_bins: int, strategy: str):
    from neurogenesis.analysis.evaluation import calibration_info

    info = predictions(model_key, samples_key)
    return calibration_info(info.outputs, info.labels, num_bins, strategy)


def calibration(model: Source, samples: Source, num_bins: int, strategy: str):
    """``analysis.evaluation.calibration_info`` (reliability diagram, ECE) on the sample set."""
    return _calibration(_identity(model), _identity(samples), int(num_bins), strategy)


@st.cache_data(show_spinner=False, max_entries=64)
def _comparison(model_keys: tuple, samples_key, num_resamples: int, seed: int):
    from neurogenesis.analysis import evaluation

    a, b = (predictions(key, samples_key) for key in model_keys)
    return (
        evaluation.mcnemar_info(a.correct, b.correct),
        evaluation.paired_bootstrap_info(
            a.correct, b.correct, num_resamples=num_resamples, seed=seed
        ),
        evaluation.disagreements(a.predicted, b.predicted),
    )


def comparison(model_a: Source, model_b: Source, samples: Source, num_resamples: int, seed=0):
    """McNemar's exact test, the paired bootstrap and the disagreeing samples of two models."""
    return _comparison(
        (_identity(model_a), _identity(model_b)), _identity(samples), int(num_resamples), int(seed)
    )


def profile(model: Source, samples: Source, batch_sizes: tuple[int, ...], repeats: int):
    """``analysis.evaluation.profile_info`` on the sample set's first samples, remembered (the
    timings belong to this machine and this moment; rerun to measure again)."""
    from neurogenesis.analysis.evaluation import profile_info

    key = (_identity(model), _identity(samples), tuple(batch_sizes), int(repeats))
    return _remembered(
        "profile",
        key,
        lambda report: profile_info(
            model_object(model),
            _samples(*_identity(samples)).x,
            batch_sizes=batch_sizes,
            repeats=repeats,
        ),
    )


# --- What the debugging page asked analysis for itself: capabilities, ranges, slices, tests ----


@st.cache_data(show_spinner=False, max_entries=64)
def _check_samples(model_key, samples_key) -> None:
    from neurogenesis.analysis.graph import model_inputs

    model_inputs(_model(*model_key), _samples(*samples_key).x[:1])


def check_samples(model: Source, samples: Source) -> None:
    """Raises ``InputError`` (saying what the model expects) when the samples do not fit it."""
    _check_samples(_identity(model), _identity(samples))


@st.cache_data(show_spinner="Resizing the images to the model's input…", max_entries=32)
def _fitted_samples(model_key, samples_key, source: Source):
    from neurogenesis.analysis.graph import graph_layers

    shape = graph_layers(_model(*model_key)).input_shapes[0]
    return catalogue.fitted_samples(source, _samples(*samples_key), shape)


def fitted_samples(model: Source, samples: Source) -> tuple[Source, str | None]:
    """``workspace.fitted_samples``: the set with its images resized to the model's fixed input
    height and width (a new Source) and the sentence saying so, or the set as it was and None."""
    return _fitted_samples(_identity(model), _identity(samples), samples)


@by_key
@st.cache_data(show_spinner=False, max_entries=16)
def value_range(samples: Key) -> tuple[float, float]:
    """``analysis.robustness.value_range`` of the sample set: its overall low and high."""
    from neurogenesis.analysis.robustness import value_range as bounds

    return bounds(_samples(*samples).x)


@by_key
@st.cache_data(show_spinner=False, max_entries=16)
def per_feature_range(samples: Key) -> bool:
    """Whether attacks on the set bound each feature by its own range (series, feature vectors)."""
    from neurogenesis.analysis.robustness import is_per_feature, set_range

    return is_per_feature(set_range(_samples(*samples).x))


@by_key
@st.cache_data(show_spinner=False, max_entries=16)
def default_fixed_features(samples: Key) -> tuple[int, ...]:
    """``analysis.robustness.default_fixed_features``: calendar and per-sample constant features."""
    from neurogenesis.analysis.robustness import default_fixed_features as fixed

    sample_set = _samples(*samples)
    return fixed(sample_set.x, sample_set.feature_names)


@st.cache_data(show_spinner=False, max_entries=64)
def _confident_mistakes(model_key, samples_key, count: int):
    from neurogenesis.analysis.evaluation import confident_mistakes as mistakes

    return mistakes(predictions(model_key, samples_key), count)


def confident_mistakes(model: Source, samples: Source, count: int):
    """``analysis.evaluation.confident_mistakes`` of the model's predictions on the set."""
    return _confident_mistakes(_identity(model), _identity(samples), int(count))


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def residuals(model: Key, samples: Key):
    """``analysis.evaluation.residual_info`` of a regression's predictions on the set."""
    from neurogenesis.analysis.evaluation import residual_info

    info = predictions(model, samples)
    return residual_info(info.outputs, info.labels)


@st.cache_data(show_spinner=False, max_entries=64)
def _largest_errors(model_key, samples_key, count: int):
    from neurogenesis.analysis.evaluation import largest_errors as largest

    return largest(predictions(model_key, samples_key), count)


def largest_errors(model: Source, samples: Source, count: int):
    """``analysis.evaluation.largest_errors``: the samples a regression misses most."""
    return _largest_errors(_identity(model), _identity(samples), int(count))


@by_key
@st.cache_data(show_spinner=False, max_entries=16)
def slice_columns(samples: Key) -> list[str]:
    """The metadata columns of the set that can slice it (``analysis.evaluation.slice_columns``)."""
    from neurogenesis.analysis.evaluation import slice_columns as columns

    return list(columns(_samples(*samples)))


@by_key
@st.cache_data(show_spinner=False, max_entries=64)
def slices(model: Key, samples: Key, column: str):
    """``analysis.evaluation.prediction_slices`` by the set's metadata column ``column``."""
    from neurogenesis.analysis.evaluation import prediction_slices, slice_columns

    groups = slice_columns(_samples(*samples))[column]
    return prediction_slices(predictions(model, samples), groups)


@st.cache_data(show_spinner=False, max_entries=64)
def _same_predictions(model_keys: tuple, samples_key, atol: float, field: str) -> bool:
    from neurogenesis.analysis.evaluation import same_predictions as same

    a, b = (predictions(key, samples_key) for key in model_keys)
    return same(a, b, atol=atol, field=field)


def same_predictions(
    model_a: Source, model_b: Source, samples: Source, *, atol=0.0, field="outputs"
):
    """``analysis.evaluation.same_predictions`` of two models on the set."""
    keys = (_identity(model_a), _identity(model_b))
    return _same_predictions(keys, _identity(samples), float(atol), field)


@st.cache_data(show_spinner=False, max_entries=64)
def _paired_errors(model_keys: tuple, samples_key, num_resamples: int):
    from neurogenesis.analysis.evaluation import paired_error_info

    a, b = (predictions(key, samples_key) for key in model_keys)
    return paired_error_info(a.errors, b.errors, num_resamples=num_resamples)


def paired_errors(model_a: Source, model_b: Source, samples: Source, num_resamples: int):
    """``analysis.evaluation.paired_error_info`` of two regressions' absolute errors."""
    keys = (_identity(model_a), _identity(model_b))
    return _paired_errors(keys, _identity(samples), int(num_resamples))


@st.cache_data(show_spinner=False, max_entries=64)
def seed_groups(hyperparameters: dict, distinct: bool = False) -> dict[str, list[tuple]]:
    """``analysis.training.seed_groups``: runs of one recipe that differ in their seed."""
    from neurogenesis.analysis.training import seed_groups as groups

    return groups(hyperparameters, distinct=distinct)


@st.cache_data(show_spinner=False, max_entries=64)
def seed_comparison(scores_a: list, scores_b: list, paired: bool):
    """``analysis.evaluation.seed_comparison_info`` of two recipes' scores."""
    from neurogenesis.analysis.evaluation import seed_comparison_info

    return seed_comparison_info(scores_a, scores_b, paired=paired)


@st.cache_data(show_spinner=False, max_entries=64)
def pareto_front(costs: list, scores: list):
    """``analysis.evaluation.pareto_front``: the models no other beats on cost and score."""
    from neurogenesis.analysis.evaluation import pareto_front as front

    return front(costs, scores)

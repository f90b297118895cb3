"""Cached wrappers of the Loss landscape page: evaluators, planes, lines and sharpness."""

from __future__ import annotations

import streamlit as st

from neurogenesis import workspace as catalogue
from neurogenesis.cached._keys import (
    Key,
    _folder_fingerprint,
    _hashable,
    _identity,
    _model,
    _remembered,
    _samples,
    by_folder,
    is_remembered,
)
from neurogenesis.cached.debugging import run_models
from neurogenesis.cached.sources import model_card, weights_digest
from neurogenesis.resources import cache_entries
from neurogenesis.workspace import Source

# A landscape is remembered per (model file, sample file, run, settings); its compiled evaluator
# (the samples, the loss and one traced function) is a shared resource per (model, samples, loss,
# sample count), so a new seed, span or resolution reuses the traced graph.


@st.cache_data(show_spinner=False, max_entries=64)
def _landscape_targets(model_key, samples_key, loss: str):
    import json

    from neurogenesis.analysis.landscape import landscape_targets as targets

    sample_set = _samples(*samples_key)
    return targets(_model(*model_key), sample_set.x, sample_set.y, json.loads(loss))[1]


def landscape_targets(model: Source, samples: Source, loss=None) -> str:
    """``'labels'`` or ``'inputs'`` (an autoencoder): what the loss compares the output with."""
    import json

    return _landscape_targets(_identity(model), _identity(samples), json.dumps(loss))


@st.cache_data(show_spinner=False, max_entries=64)
def _loss_reason(model_key, samples_key):
    from neurogenesis.analysis.landscape import loss_reason as why

    sample_set = _samples(*samples_key)
    return why(_model(*model_key), sample_set.x, sample_set.y)


def loss_reason(model: Source, samples: Source) -> str | None:
    """``analysis.landscape.loss_reason``: why the model's output (a backbone's features) has no
    loss against the sample set's labels, or None."""
    return _loss_reason(_identity(model), _identity(samples))


def suggested_loss(model: Source, samples: Source) -> str:
    """A loss for a model file saved without one."""
    from neurogenesis.analysis.landscape import landscape_targets as targets
    from neurogenesis.analysis.landscape import suggested_loss as suggest

    sample_set = _samples(*_identity(samples))
    loaded = _model(*_identity(model))
    values, kind = targets(loaded, sample_set.x, sample_set.y)
    return suggest(loaded, values, kind)


@st.cache_resource(show_spinner=False, max_entries=cache_entries(8, 2))
def _landscape_evaluator(model_key, samples_key, loss: str, metrics: tuple, num_samples: int):
    import json

    from neurogenesis.analysis.landscape import LandscapeEvaluator, landscape_targets

    sample_set = _samples(*samples_key)
    model = _model(*model_key)
    targets, _ = landscape_targets(model, sample_set.x, sample_set.y, json.loads(loss))
    count = max(1, min(int(num_samples), len(sample_set)))
    return LandscapeEvaluator(
        model, sample_set.x[:count], targets[:count], loss=json.loads(loss), metrics=metrics
    )


def _evaluator_settings(options: dict) -> tuple[str, tuple, int]:
    """What the evaluator (and so a line or the sharpness) depends on: the loss, the metrics and
    the sample count; the plane's settings (seed, span, resolution...) do not change it."""
    import json

    return (
        json.dumps(options["loss"], sort_keys=True),
        tuple(options.get("metrics", ())),
        int(options["num_samples"]),
    )


def _evaluator(model: Source, samples: Source, options: dict):
    return _landscape_evaluator(_identity(model), _identity(samples), *_evaluator_settings(options))


@by_folder
@st.cache_data(show_spinner="Reading the run's checkpoints…", max_entries=16)
def run_checkpoint_labels(run_dir: Key) -> tuple[str, ...]:
    """The labels of a recorded run's checkpoints, oldest first (``'initial'``, ``'epoch 3'``)."""
    from neurogenesis.io.recordings import read_recording

    return read_recording(run_dir[0]).checkpoint_labels


@st.cache_resource(show_spinner="Reading the run's checkpoints…", max_entries=cache_entries(8, 2))
def _run_checkpoints(model_key, run_dir: str, fingerprint: str):
    from neurogenesis.analysis.landscape import recorded_checkpoints

    return recorded_checkpoints(_model(*model_key), run_dir)


def landscape_runs(sources, input_shape: tuple) -> list[tuple[str, Source, str]]:
    """``workspace.landscape_runs``: ``(run name, model Source, run folder)`` of the chosen logs'
    recorded runs that saved their model and weight checkpoints and take samples shaped
    ``input_shape`` (without the batch)."""
    return catalogue.landscape_runs(
        run_models(sources),
        input_shape,
        model_card=model_card,
        checkpoint_labels=run_checkpoint_labels,
    )


def landscape(
    model: Source,
    samples: Source,
    options: dict,
    run_dir: str | None = None,
    on_partial=None,
    target=None,
):
    """``analysis.landscape.landscape_info`` for the settings in ``options`` (loss, metrics,
    num_samples, directions, resolution, span, seed, normalization, bias_mode), the run's
    checkpoints drawn as a path when ``run_dir`` is given; remembered per file identities and
    settings. ``on_partial(info, fraction)`` sees the preview and each refinement on a miss.
    ``target`` (a ``compute.ComputeTarget``) runs the grid on a Ray cluster; the result is the
    same, so it is remembered under the same key wherever it was computed."""
    import functools

    from neurogenesis.analysis.landscape import landscape_info
    from neurogenesis.compute import landscape_runner
    from neurogenesis.compute.payload import payload_from_path

    key, run_key = _landscape_key(model, samples, options, run_dir)
    plane = {k: options[k] for k in ("directions", "resolution", "span", "seed")}
    plane.update(normalization=options["normalization"], bias_mode=options["bias_mode"])

    def compute(_progress):
        evaluator = _evaluator(model, samples, options)
        checkpoints = _run_checkpoints(_identity(model), *run_key) if run_key else ()
        made = functools.partial(payload_from_path, model.path, model.output or None)
        with landscape_runner(target, evaluator, made) as runner:
            return landscape_info(
                _model(*_identity(model)),
                None,
                None,
                evaluator=evaluator,
                checkpoints=checkpoints,
                on_partial=on_partial,
                runner=runner,
                **plane,
            )

    return _remembered("landscape", key, compute)


def landscape_estimate(model: Source, samples: Source, options: dict) -> dict:
    """How long :func:`landscape` will take with these settings, before it starts: one forward
    pass of one batch timed (remembered per evaluator), times the batches, times the grid's
    points (``analysis.landscape.estimated_seconds``). Returns ``seconds``,
    ``seconds_per_batch``, ``batch_size``, ``num_batches`` and ``num_samples``."""
    from neurogenesis.analysis.landscape import estimated_seconds

    evaluator = _evaluator(model, samples, options)
    key = (_identity(model), _identity(samples), _evaluator_settings(options))
    per_batch = _remembered(
        "landscape_batch_seconds", key, lambda _p: evaluator.seconds_per_batch()
    )
    return {
        "seconds": estimated_seconds(per_batch, evaluator.num_batches, options["resolution"]),
        "seconds_per_batch": per_batch,
        "batch_size": evaluator.batch_size,
        "num_batches": evaluator.num_batches,
        "num_samples": evaluator.num_samples,
    }


def _landscape_key(model: Source, samples: Source, options: dict, run_dir: str | None):
    """The remembered landscape's key, and the run's identity (None without a run)."""
    run_key = (run_dir, _folder_fingerprint(run_dir)) if run_dir else None
    return (_identity(model), _identity(samples), run_key, _hashable(options)), run_key


def is_landscape_ready(model: Source, samples: Source, options: dict, run_dir=None) -> bool:
    """Whether :func:`landscape` has this one already (the page shows a preview otherwise)."""
    return is_remembered("landscape", _landscape_key(model, samples, options, run_dir)[0])


def interpolation(
    model: Source, samples: Source, options: dict, start: tuple, resolution: int, t_range: tuple
):
    """``analysis.landscape.interpolation_info`` from ``start`` to the model's weights: ``start``
    is ``('checkpoint', run_dir, index)`` (a checkpoint of the model's own run) or
    ``('model', Source)`` (another model of the same architecture)."""
    from neurogenesis.analysis.landscape import interpolation_info

    if start[0] == "checkpoint":
        _, run_dir, index = start
        start_key = ("checkpoint", run_dir, _folder_fingerprint(run_dir), int(index))
    else:
        start_key = ("model", *_identity(start[1]))
    key = (
        _identity(model),
        _identity(samples),
        start_key,
        _evaluator_settings(options),
        int(resolution),
        tuple(t_range),
    )

    def compute(_progress):
        loaded = _model(*_identity(model))
        if start[0] == "checkpoint":
            label, weights = _run_checkpoints(_identity(model), run_dir, start_key[2])[index]
            label = f"{label} weights"
        else:
            other = _model(*_identity(start[1]))
            label, weights = start[1].label, [w.numpy() for w in other.weights]
        return interpolation_info(
            loaded,
            None,
            None,
            weights,
            evaluator=_evaluator(model, samples, options),
            resolution=resolution,
            t_range=t_range,
            start_label=label,
            end_label=model.label,
        )

    return _remembered("interpolation", key, compute)


def sharpness(model: Source, samples: Source, options: dict):
    """``analysis.landscape.sharpness_info`` at the model's weights, remembered."""
    from neurogenesis.analysis.landscape import sharpness_info

    key = (_identity(model), _identity(samples), _evaluator_settings(options))
    return _remembered(
        "sharpness",
        key,
        lambda _progress: sharpness_info(
            _model(*_identity(model)), None, None, evaluator=_evaluator(model, samples, options)
        ),
    )


def matching_models(
    model: Source, candidates, *, same_size: bool, same_output: bool = False
) -> list[Source]:
    """``workspace.matching_models``: the candidates (other files) that take the same inputs as
    ``model``, and with ``same_size`` also hold as many parameters (the same architecture, for a
    line between weights); read from the files without loading them. With ``same_output`` they
    also give an output of the same shape (to compare their predictions; this loads them)."""
    return catalogue.matching_models(
        model,
        candidates,
        same_size=same_size,
        same_output=_same_output if same_output else None,
        model_card=model_card,
    )


def _same_output(model: Source, other: Source) -> bool:
    from neurogenesis.cached.features import graph_layers
    from neurogenesis.errors import InputError

    try:
        return tuple(graph_layers(other).output_shape) == tuple(graph_layers(model).output_shape)
    except InputError:
        return False


def twin_run(model: Source, runs) -> str | None:
    """``workspace.twin_run``: the name of the recorded run (``(name, model Source, folder)``)
    whose saved model holds the same weights as ``model``, or None."""
    return catalogue.twin_run(model, runs, weights_digest=weights_digest, model_card=model_card)

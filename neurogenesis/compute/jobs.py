"""Whole-dataset analyses as jobs over shards of a sample set: here, or on a Ray cluster.

Attribution maps, adversarial examples (and the accuracies they give), robustness curves and
the hidden states a projection is made of are all per-sample: a large set splits into shards that are explained,
attacked or embedded independently and joined again in sample order. Each job is a module-level
function of ``(model, shard, **options)`` that both paths call: on this machine the whole set
is one shard (``compute.local.map_local``), on a cluster each actor holding the model serves
shards of ``DEFAULT_SHARD_SIZE`` rows (``compute.ray.map_shards``), so the paths cannot drift.

What belongs to the whole set rather than to a sample is settled once here, on the driver, and
passed to every shard: the ``"mean"`` baseline of integrated gradients and occlusion, the value
range an attack clips to, the step caps of ``$NEUROGENESIS_MAX_STEPS`` (workers do not share
this process's environment). Seeded noise (SmoothGrad's copies, PGD's random start) is drawn
per sample from one stream over the set; a :class:`Shard` knows where it starts in the set and
skips the draws of the samples before it, so every sample gets the noise it gets locally.
Accuracies (an attack's, every point of the robustness curves) are counts of correct samples
summed over shards, divided by the set's size (never an average of the shards' accuracies).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neurogenesis.compute import LOCAL, ComputeTarget
from neurogenesis.compute.local import map_local
from neurogenesis.errors import InputError

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "Shard",
    "adversarial",
    "attribution",
    "hidden_states",
    "robustness_curves",
    "run_job",
]

DEFAULT_SHARD_SIZE = 256
"""Rows per shard on a cluster: small enough to spread 2,000 samples over several workers,
large enough that a shard's model calls run full batches."""


class Shard:
    """Rows of a sample set that travel together, and where they start in the whole set.

    ``shard[a:b]`` slices every array alike and moves ``start``; ``x`` is what the model reads
    (an array or a packed set of several inputs), ``y`` per-sample labels or targets (or None).
    """

    def __init__(self, x: Any, y: Any = None, start: int = 0):
        if y is not None and len(y) != len(x):
            raise InputError(
                f"Expected one label per sample ({len(x)}). Received: {len(y)} labels. "
                "Choose the labels that belong to these samples."
            )
        self.x = x
        self.y = y
        self.start = int(start)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: slice) -> Shard:
        if not isinstance(index, slice):
            raise TypeError("A shard is sliced by a range of rows.")
        first, _, step = index.indices(len(self))
        if step != 1:
            raise TypeError("A shard is sliced by a contiguous range of rows.")
        y = None if self.y is None else self.y[index]
        return Shard(self.x[index], y, self.start + first)


def run_job(
    function: Callable[..., Any],
    model: Any,
    shard: Shard,
    *,
    where: ComputeTarget = LOCAL,
    payload: Any = None,
    kwargs: dict | None = None,
    shard_size: int | None = None,
) -> list[Any]:
    """``function(model, part, **kwargs)`` for each part of ``shard``, in order: the whole shard
    here when ``where`` is this machine, otherwise shards of ``shard_size`` rows (default
    :data:`DEFAULT_SHARD_SIZE`) on the cluster's actors, which load ``payload`` (the model's
    bytes) once each.

    Raises:
        InputError: a bad input, as raised by ``function`` (on a worker too).
        ClusterError: the cluster could not be reached or stopped answering.
    """
    if where.is_local:
        return map_local(function, model, shard, kwargs)
    if payload is None:
        from neurogenesis.compute.payload import payload_from_model

        payload = payload_from_model(model)
    from neurogenesis.compute.ray import map_shards

    size = DEFAULT_SHARD_SIZE if shard_size is None else shard_size
    return map_shards(where, payload, function, shard, shard_size=size, kwargs=kwargs)


# ---------------------------------------------------------------------------------------------
# Attribution

_ATTRIBUTION_ROWS = ("maps", "attributions", "target", "scores", "outputs", "completeness_error")
_TOKEN_ROWS = (
    "scores",
    "tokens",
    "target",
    "probabilities",
    "target_scores",
    "completeness_error",
    "real",
)


def attribution_shard(model: Any, shard: Shard, *, method: str, tokens: bool, options: dict):
    """The job's piece: ``attribution_info`` (``token_attribution_info`` for token ids) of one
    shard; per-sample targets travel as the shard's ``y``."""
    from neurogenesis.analysis import attribution as analysis

    options = dict(options)
    if shard.y is not None:
        options["target"] = shard.y
    if tokens:
        return analysis.token_attribution_info(model, shard.x, method, **options)
    return analysis.attribution_info(model, shard.x, method, first_sample=shard.start, **options)


def _join(parts: Sequence[Any], rows: Sequence[str]) -> Any:
    """One info of ``parts`` (infos of consecutive shards): ``rows`` fields concatenated in
    order, notes gathered once each, everything else (settings) the first part's."""
    first = parts[0]
    if len(parts) == 1:
        return first
    changes: dict[str, Any] = {}
    for name in rows:
        values = [getattr(part, name) for part in parts]
        changes[name] = None if values[0] is None else np.concatenate(values)
    changes["notes"] = tuple(dict.fromkeys(note for part in parts for note in part.notes))
    return dataclasses.replace(first, **changes)


def join_attributions(parts: Sequence[Any]) -> Any:
    """The attribution info of a whole set from the infos of its shards, in order."""
    from neurogenesis.analysis.attribution import InputsAttributionInfo, TokenAttributionInfo

    first = parts[0]
    if isinstance(first, TokenAttributionInfo):
        return _join(parts, _TOKEN_ROWS)
    if isinstance(first, InputsAttributionInfo):
        joined = _join(parts, _ATTRIBUTION_ROWS[2:])
        inputs = {name: join_attributions([p.inputs[name] for p in parts]) for name in first.inputs}
        return dataclasses.replace(joined, inputs=inputs)
    return _join(parts, _ATTRIBUTION_ROWS)


def attribution(
    model: Any,
    x: Any,
    method: str,
    *,
    tokens: bool = False,
    where: ComputeTarget = LOCAL,
    payload: Any = None,
    shard_size: int | None = None,
    **options: Any,
):
    """``attribution.attribution_info(model, x, method, **options)`` (with ``tokens``,
    ``token_attribution_info``) over a whole set, on ``where``: the same info either way.

    Args:
        model: the model (here; the cluster loads ``payload``).
        x: the samples (an array, or a packed set of several inputs).
        method: the attribution method.
        tokens: explain token ids per token.
        where: where the shards run.
        payload: the model's bytes for the cluster (``compute.payload``); default: ``model``
            saved to bytes.
        shard_size: rows per shard on the cluster (default :data:`DEFAULT_SHARD_SIZE`).
        **options: as ``attribution_info`` (``target``: an int, or one class per sample,
            which travels with its shard).
    """
    from neurogenesis.analysis import attribution as analysis
    from neurogenesis.analysis import graph

    explained = options.pop("target", None)
    per_sample = explained is not None and np.ndim(explained) == 1
    if not tokens:
        if options.get("baseline") == "mean" and method in ("integrated_gradients", "occlusion"):
            options["baseline_mean"] = analysis.mean_baseline(model, x)
        if method == "smoothgrad":
            chosen = options.get("num_samples")
            chosen = analysis.DEFAULT_SMOOTHGRAD_SAMPLES if chosen is None else chosen
            options["num_samples"] = graph.capped_steps(chosen) if int(chosen) >= 1 else chosen
    if explained is not None and not per_sample:
        options["target"] = explained
    shard = Shard(x, np.asarray(explained) if per_sample else None)
    parts = run_job(
        attribution_shard,
        model,
        shard,
        where=where,
        payload=payload,
        kwargs={"method": method, "tokens": tokens, "options": options},
        shard_size=shard_size,
    )
    return join_attributions(parts)


# ---------------------------------------------------------------------------------------------
# Adversarial examples

_ADVERSARIAL_ROWS = (
    "x_adv",
    "perturbation",
    "clean_predictions",
    "adversarial_predictions",
    "clean_probabilities",
    "adversarial_probabilities",
    "labels",
)


def adversarial_shard(model: Any, shard: Shard, *, method: str, options: dict):
    """The job's piece: ``robustness.fgsm`` or ``robustness.pgd`` of one shard (PGD's random
    start drawn where the shard's samples start in the set)."""
    from neurogenesis.analysis import robustness

    if method == "fgsm":
        return robustness.fgsm(model, shard.x, shard.y, **options)
    return robustness.pgd(model, shard.x, shard.y, first_sample=shard.start, **options)


def join_adversarial(parts: Sequence[Any]) -> Any:
    """The adversarial info of a whole set from its shards' infos, in order. Accuracies are the
    shards' counts of correct samples summed over the set's size; errors the shards' sums of
    absolute errors over the set's values; the largest change the largest of any shard."""
    first = parts[0]
    if len(parts) == 1:
        return first
    changes = {
        name: np.concatenate([getattr(p, name) for p in parts]) for name in _ADVERSARIAL_ROWS
    }
    count = sum(len(p.labels) for p in parts)
    if first.task == "regression":
        size = sum(p.labels.size for p in parts)
        for which in ("clean", "adversarial"):
            total = sum(
                float(np.abs(getattr(p, f"{which}_predictions") - p.labels).sum()) for p in parts
            )
            changes[f"{which}_error"] = total / size
    else:
        for which in ("clean", "adversarial"):
            correct = sum(
                int(np.sum(getattr(p, f"{which}_predictions") == p.labels)) for p in parts
            )
            changes[f"{which}_accuracy"] = correct / count
    changes["linf"] = max(p.linf for p in parts)
    if first.feature_linf is not None:
        changes["feature_linf"] = np.max([p.feature_linf for p in parts], axis=0)
    return dataclasses.replace(first, **changes)


def adversarial(
    model: Any,
    x: Any,
    y: Any,
    method: str,
    *,
    where: ComputeTarget = LOCAL,
    payload: Any = None,
    shard_size: int | None = None,
    **options: Any,
):
    """``robustness.fgsm`` or ``robustness.pgd`` of a whole set on ``where``: the same info
    either way. The value range inputs are clipped to is the whole set's unless
    ``value_range`` is given; ``options`` as those functions take them."""
    from neurogenesis.analysis import graph, robustness

    if method not in robustness.ATTACKS:
        raise InputError(f"Expected an attack in {robustness.ATTACKS}. Received: {method!r}.")
    if options.get("value_range") is None:
        _, attacked = robustness.attacked_input(np.asarray(x), options.get("input_name"))
        options["value_range"] = robustness.set_range(attacked)
    if method == "pgd":
        steps = options.get("steps", robustness.DEFAULT_PGD_STEPS)
        options["steps"] = graph.capped_steps(steps) if steps >= 1 else steps
    parts = run_job(
        adversarial_shard,
        model,
        Shard(x, y),
        where=where,
        payload=payload,
        kwargs={"method": method, "options": options},
        shard_size=shard_size,
    )
    return join_adversarial(parts)


# ---------------------------------------------------------------------------------------------
# Hidden states (the projector's embeddings)


def hidden_states_shard(model: Any, shard: Shard, *, layer: str, pooling: str) -> np.ndarray:
    """The job's piece: ``embeddings.hidden_states`` of one shard."""
    from neurogenesis.analysis import embeddings

    return embeddings.hidden_states(model, shard.x, layer, pooling=pooling)


def hidden_states(
    model: Any,
    x: Any,
    layer: str,
    *,
    pooling: str = "auto",
    where: ComputeTarget = LOCAL,
    payload: Any = None,
    shard_size: int | None = None,
) -> np.ndarray:
    """``embeddings.hidden_states(model, x, layer, pooling=...)`` of a whole set on ``where``,
    the shards' rows in sample order (the projection itself is made from them here)."""
    parts = run_job(
        hidden_states_shard,
        model,
        Shard(x),
        where=where,
        payload=payload,
        kwargs={"layer": layer, "pooling": pooling},
        shard_size=shard_size,
    )
    parts = [part for part in parts if part.size] or parts[:1]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


# ---------------------------------------------------------------------------------------------
# Robustness curves: per-shard counts summed


def curves_shard(model: Any, shard: Shard, *, set_size: int, options: dict):
    """The job's piece: ``robustness.robustness_curves`` of one shard (its random corruptions
    and PGD starts those of its samples in the set), with its size."""
    from neurogenesis.analysis import robustness

    info = robustness.robustness_curves(
        model, shard.x, shard.y, per_class=True, first_sample=shard.start, set_size=set_size,
        **options,
    )  # fmt: skip
    return len(shard), info


def join_curves(parts: Sequence[tuple[int, Any]], per_class: bool = True) -> Any:
    """The robustness curves of a whole set from ``(size, info)`` of its shards: accuracies are
    the shards' counts of correct samples summed over the set's size (a shard's accuracy times
    its size, a whole number), errors the shards' sums of absolute errors over the set's size;
    per class the same over each class's samples."""
    first = parts[0][1]
    total = sum(size for size, _ in parts)
    accuracy = first.metric == "accuracy"

    def summed(value, size):
        value = np.asarray(value, dtype=np.float64) * size
        return np.round(value) if accuracy else value

    changes: dict[str, Any] = {
        "clean": float(sum(summed(info.clean, size) for size, info in parts) / total),
        "value": sum(summed(info.value, size) for size, info in parts) / total,
    }
    if first.per_class is not None and per_class:
        counts = sum(info.class_counts for _, info in parts)
        sums = sum(np.round(np.nan_to_num(info.per_class) * info.class_counts) for _, info in parts)
        with np.errstate(invalid="ignore", divide="ignore"):
            changes["per_class"] = np.where(counts > 0, sums / counts, np.nan)
        changes["class_counts"] = counts
    else:
        changes["per_class"] = changes["class_counts"] = None
    return dataclasses.replace(first, **changes)


def robustness_curves(
    model: Any,
    x: Any,
    y: Any,
    *,
    where: ComputeTarget = LOCAL,
    payload: Any = None,
    shard_size: int | None = None,
    per_class: bool = True,
    **options: Any,
):
    """``robustness.robustness_curves(model, x, y, **options)`` of a whole set on ``where``:
    the same curves either way. The value range (and a series' noise scale) is the whole
    set's, fixed here; ``progress`` is reported only on this machine.

    Raises:
        InputError: token inputs on a cluster (each random token edit is drawn after those of
            every earlier sample, so a shard cannot draw its own), or bad input as
            ``robustness_curves``.
    """
    from neurogenesis.analysis import graph, robustness

    packed = np.asarray(x)
    _, attacked = robustness.attacked_input(packed, options.get("input_name"))
    if attacked.dtype.kind in "iu" and attacked.ndim == 2 and not where.is_local:
        raise InputError(
            "Expected float inputs for robustness curves on a cluster: each random token edit "
            "is drawn after those of every earlier sample, so shards cannot draw their own. "
            f"Received: token ids. Compute them on this machine instead of {where.describe()}."
        )
    if options.get("value_range") is None:
        options["value_range"] = robustness.set_range(attacked)
    if attacked.ndim == 3 and attacked.dtype.kind == "f":
        options["series_scale"] = robustness.noise_scale(attacked)
    steps = options.get("pgd_steps", robustness.DEFAULT_PGD_STEPS)
    options["pgd_steps"] = graph.capped_steps(steps) if steps >= 1 else steps
    if not where.is_local:
        options.pop("progress", None)
    parts = run_job(
        curves_shard,
        model,
        Shard(packed, y),
        where=where,
        payload=payload,
        kwargs={"set_size": len(packed), "options": options},
        shard_size=shard_size,
    )
    return join_curves(parts, per_class)

"""Variant exploration: parameters, compute and memory of architectures across one knob.

:func:`multiplier_sweep` measures a template (:mod:`.templates`) across width or depth
multipliers; :func:`width_sweep` measures the models a caller builds at each width of a recorded
sweep, together with the best validation metric at each width. The caller brings the model
builder and the sweep's summary (``neurogenesis.zoo.scenario_width_sweep`` does it for the demo
scenarios), so this module neither knows the demos nor reads files.

Pure computation (no streamlit, no plotly); Keras is imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neurogenesis.analysis.architecture import architecture_summary
from neurogenesis.analysis.templates import build_template, check_multiplier, find_template
from neurogenesis.errors import InputError

__all__ = [
    "SweepInfo",
    "multiplier_sweep",
    "width_sweep",
]

_NORMALIZATION_CLASSES = (
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "Normalization",
    "UnitNormalization",
)


@dataclass(frozen=True)
class SweepInfo:
    """Size and cost of an architecture across one knob, optionally with a recorded metric.

    All sequences run parallel to ``multipliers``.

    Attributes:
        name: the template or scenario.
        parameter: what ``multipliers`` holds: ``"width multiplier"``, ``"depth multiplier"``
            or ``"width"`` (a scenario's absolute width, e.g. filters of the first layer).
        multipliers: the knob's values, ascending.
        num_params: parameters of each variant.
        macs: multiply-accumulates per sample.
        weight_bytes: bytes of all weights.
        activation_bytes: bytes of all layers' outputs for one sample (top-level layers).
        num_layers: layers with weights, normalization excluded, counted through nested models
            (VGG16: 16; ResNet-50: 54, its four projection shortcuts included).
        metric: the recorded metric (``"val_accuracy"``), or None for a template sweep.
        goal: ``"max"`` or ``"min"``: which way the metric is better; None without a metric.
        metric_values: the best value of ``metric`` over the sweep's other parameters (learning
            rates) at each value, None where the sweep has none.
        best_learning_rates: the learning rate that gave each best value, None where unknown.
    """

    name: str
    parameter: str
    multipliers: tuple[float, ...]
    num_params: tuple[int, ...]
    macs: tuple[int, ...]
    weight_bytes: tuple[int, ...]
    activation_bytes: tuple[int, ...]
    num_layers: tuple[int, ...]
    metric: str | None = None
    goal: str | None = None
    metric_values: tuple[float | None, ...] = field(default=())
    best_learning_rates: tuple[float | None, ...] = field(default=())


def _leaf_layers(model: Any) -> list:
    leaves = []
    for layer in model.layers:
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):  # a nested model
            leaves.extend(_leaf_layers(layer))
        else:
            leaves.append(layer)
    return leaves


def _weight_layer_count(model: Any) -> int:
    return sum(
        1
        for layer in _leaf_layers(model)
        if layer.weights and type(layer).__name__ not in _NORMALIZATION_CLASSES
    )


def _facts(model: Any) -> tuple[int, int, int, int, int]:
    info = architecture_summary(model)
    return (
        int(info.num_params),
        int(info.macs or 0),
        sum(layer.weight_bytes for layer in info.layers),
        sum(layer.activation_bytes or 0 for layer in info.layers),
        _weight_layer_count(model),
    )


def _measured(
    name: str,
    parameter: str,
    values: Sequence[float],
    build: Callable[[Any], Any],
    **recorded: Any,
) -> SweepInfo:
    """The :class:`SweepInfo` of ``build(value)`` at each value (``recorded``: the metric fields).

    Each variant is built, measured and let go in turn, with ``keras.backend.clear_session()``
    before each, so memory stays bounded.
    """
    import keras

    facts = []
    for value in values:
        keras.backend.clear_session()  # each variant's graph and names go before the next
        model = build(value)
        facts.append(_facts(model))
        del model
    keras.backend.clear_session()
    return SweepInfo(
        name=name,
        parameter=parameter,
        multipliers=tuple(values),
        num_params=tuple(item[0] for item in facts),
        macs=tuple(item[1] for item in facts),
        weight_bytes=tuple(item[2] for item in facts),
        activation_bytes=tuple(item[3] for item in facts),
        num_layers=tuple(item[4] for item in facts),
        **recorded,
    )


def multiplier_sweep(
    template_name: str, multipliers: Sequence[float], *, kind: str = "width"
) -> SweepInfo:
    """Parameters, compute and memory of a template at each multiplier, by building each variant.

    Args:
        template_name: a key of :data:`TEMPLATES`.
        multipliers: the values to try (sorted and deduplicated).
        kind: ``"width"`` or ``"depth"``: which multiplier varies (the other stays 1).

    Returns:
        The :class:`SweepInfo` (no metric).

    Raises:
        InputError: an unknown template or kind, no multipliers, a multiplier that is not
            positive, or a kind the template does not support.

    Note:
        Calls ``keras.backend.clear_session()`` between variants to keep memory bounded, which
        resets Keras's automatic layer names.
    """
    template = find_template(template_name)
    if kind not in ("width", "depth"):
        raise InputError(f"Expected kind 'width' or 'depth'. Received: {kind!r}.")
    if not (template.supports_width if kind == "width" else template.supports_depth):
        raise InputError(
            f"{template.title} has no {kind} multiplier ({template.multipliers}). Sweep the other "
            "multiplier instead."
        )
    values = sorted({check_multiplier(value, f"{kind} multiplier") for value in multipliers})
    if not values:
        raise InputError(
            "Expected at least one multiplier, such as 0.5, 1, 2. Received none. Add values."
        )
    argument = "width_multiplier" if kind == "width" else "depth_multiplier"
    return _measured(
        template_name,
        f"{kind} multiplier",
        values,
        lambda value: build_template(template_name, **{argument: value}),
    )


def width_sweep(
    name: str, sweep: Mapping[str, Any], build: Callable[[int], Any], *, source: str
) -> SweepInfo:
    """A model's size and cost at each width of a recorded sweep, with the best metric there.

    For each width in the sweep, ``build(width)`` makes the model at that width (parameters and
    MACs counted by :func:`architecture_summary`), and the best value of the sweep's metric over
    the learning rates tried at that width is attached (each point's ``best`` value, else its
    ``final`` one), so a page can plot parameters or compute against width and accuracy against
    width.

    Args:
        name: the scenario the sweep belongs to (``"digits_cnn"``, ...).
        sweep: the sweep's summary, as ``neurogenesis.io.run_folder.read_sweep`` returns it
            (a dict with a list of ``points``).
        build: ``build(width) -> keras.Model``: the scenario's model at one width.
        source: where the sweep was read from, for messages (its path).

    Returns:
        The :class:`SweepInfo` with ``parameter="width"`` and ``metric``, ``goal``,
        ``metric_values`` and ``best_learning_rates`` from the sweep.

    Raises:
        InputError: a sweep written for another scenario, or one without a width parameter or
            any widths.
    """
    recorded = sweep.get("scenario")
    if recorded is not None and recorded != name:
        raise InputError(
            f"{source!r} is the sweep of {recorded!r}, not of {name!r}. Pick the "
            f"sweep.json under data/sweeps/{name}/."
        )
    metric = sweep.get("metric")
    goal = sweep.get("goal", "max")
    if goal not in ("max", "min"):
        raise InputError(f"{source!r} has goal {goal!r}; expected 'max' or 'min'.")
    best: dict[int, tuple[float, float | None]] = {}
    for point in sweep["points"]:
        params = point.get("params", {}) if isinstance(point, dict) else {}
        width = params.get("width")
        if not isinstance(width, int) or isinstance(width, bool) or width <= 0:
            continue
        value = None
        for part in ("best", "final"):
            candidate = (point.get(part) or {}).get(metric)
            if isinstance(candidate, int | float) and math.isfinite(candidate):
                value = float(candidate)
                break
        if value is None:
            best.setdefault(width, (None, None))
            continue
        held = best.get(width, (None, None))[0]
        better = held is None or (value > held if goal == "max" else value < held)
        if better:
            best[width] = (value, params.get("learning_rate"))
    if not best:
        raise InputError(
            f"{source!r} has no points with a positive whole 'width'. Expected a sweep over "
            "width (parameters learning_rate and width)."
        )
    widths = sorted(best)
    return _measured(
        name,
        "width",
        widths,
        build,
        metric=metric,
        goal=goal,
        metric_values=tuple(best[width][0] for width in widths),
        best_learning_rates=tuple(best[width][1] for width in widths),
    )

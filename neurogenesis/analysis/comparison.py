"""Comparing architectures: complexity profiles, layer-by-layer diffs and cost/metric trade-offs.

Everything here works on :class:`~neurogenesis.analysis.architecture.ArchitectureInfo` (and on
plain dicts of layer configs), so the diff of two cached summaries costs no TensorFlow:

- ``complexity_profile(info) -> ComplexityProfile``: the six axes of the paper's radar chart
  (layers, parameters, compute, memory, depth, width).
- ``architecture_diff(a, b) -> DiffInfo``: the layers of two models aligned (``difflib`` over
  ``(class, name)`` signatures, then renamed layers of the same class matched by position), each
  row "same", "changed" (with what changed, in words), "added" or "removed", with deltas of
  parameters and multiply-accumulates.
- ``tradeoff_from_cards(infos, cards) -> TradeoffInfo``: size and compute against the test metric
  recorded in each demo model's card.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neurogenesis.analysis.architecture import (
    ArchitectureInfo,
    LayerInfo,
    architecture_summary,
    functional_graph,
    layout_graph,
    model_graph,
    shape_text,
)

__all__ = [
    "AXES",
    "STATUSES",
    "ComplexityProfile",
    "DiffInfo",
    "DiffRow",
    "TradeoffEntry",
    "TradeoffInfo",
    "align_layers",
    "align_models",
    "architecture_diff",
    "complexity_profile",
    "diff_table",
    "layer_configs",
    "model_complexity",
    "tradeoff_entry",
    "tradeoff_from_cards",
    "tradeoff_info",
]

# The radar's axes, in drawing order (clockwise from the top).
AXES = ("layers", "parameters", "compute", "memory", "depth", "width")
STATUSES = ("same", "changed", "added", "removed")
# Layers that only rearrange elements: their last dimension is not a number of channels or units.
RESHAPING_LAYERS = ("Flatten", "Reshape", "Permute", "InputLayer")
# Config keys that differ between two builds of the same layer and say nothing about it.
VOLATILE_CONFIG_KEYS = ("name", "seed")
MAX_CHANGES_LISTED = 6
MAX_VALUE_CHARS = 40


# --- Complexity profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplexityProfile:
    """One model on the six axes of the complexity radar.

    Attributes:
        name: the model's name.
        num_layers: layers, not counting input layers.
        num_params: all weights, trainable or not.
        macs: multiply-accumulates for one sample; None when unknown (a subclassed model).
        memory_bytes: the weights plus every layer's output for one sample.
        depth: the longest path from an input to an output, in layers.
        width: the most channels or units of any layer with weights (its output's last dimension).
    """

    name: str
    num_layers: int
    num_params: int
    macs: int | None
    memory_bytes: int
    depth: int
    width: int

    def axis_values(self) -> tuple[int | None, ...]:
        """The values in the order of ``AXES``."""
        return (
            self.num_layers,
            self.num_params,
            self.macs,
            self.memory_bytes,
            self.depth,
            self.width,
        )


def _last_dims(shape: Any) -> list[int]:
    """The last dimension of a shape, or of each shape of a multi-output layer."""
    if not shape:
        return []
    if all(isinstance(item, tuple) for item in shape):
        return [dim for item in shape for dim in _last_dims(item)]
    last = shape[-1]
    return [] if last is None else [int(last)]


def complexity_profile(
    info: ArchitectureInfo,
    *,
    depth: int | None = None,
    layers: Sequence[LayerInfo] | None = None,
) -> ComplexityProfile:
    """The six radar axes of one model, from its architecture summary.

    Args:
        info: the model's ``ArchitectureInfo``.
        depth: the longest input-to-output path in layers, when known (``layout_graph(model_graph(model))``'s
            ``num_columns - 1``); otherwise the number of layers, which is exact for a chain.
        layers: the layers to count, measure and take the width of, when not ``info.layers``:
            ``model_complexity`` passes the layers inside nested models, which ``info`` shows as
            one row each.

    Returns:
        A :class:`ComplexityProfile`. Input layers are not counted as layers, nor in the memory.
        The width is the largest last output dimension of the layers with weights (their filters,
        units or features); of all but reshaping layers in a model without weights. Parameters
        and compute are ``info``'s totals.
    """
    counted = [
        layer
        for layer in (info.layers if layers is None else layers)
        if layer.class_name != "InputLayer"
    ]
    # Channels and units belong to layers with weights (Conv2D filters, Dense units, an
    # embedding's size); a Dropout after a Flatten has a long last dimension but no units.
    weighted = [layer for layer in counted if layer.num_params > 0] or [
        layer for layer in counted if layer.class_name not in RESHAPING_LAYERS
    ]
    widths = [dim for layer in weighted for dim in _last_dims(layer.output_shape)]
    memory = sum(layer.weight_bytes for layer in counted) + sum(
        layer.activation_bytes or 0 for layer in counted
    )
    return ComplexityProfile(
        name=info.name,
        num_layers=len(counted),
        num_params=int(info.num_params),
        macs=None if info.macs is None else int(info.macs),
        memory_bytes=int(memory),
        depth=int(depth) if depth is not None else len(counted),
        width=max(widths, default=0),
    )


def _is_model(layer: Any) -> bool:
    return hasattr(layer, "layers") and (
        hasattr(layer, "_nodes_by_depth") or hasattr(layer, "_functional")
    )


def _graph_depth(model: Any) -> int | None:
    """Layers on the longest input-to-output path, through nested models; None without a graph.

    The graph view's own walk (nested models inlined, input layers at depth zero): the depth is
    its number of columns after the inputs'.
    """
    if functional_graph(model) is None:
        return None
    return layout_graph(model_graph(model)).num_columns - 1


def _leaf_layers(model: Any) -> list[LayerInfo]:
    """The summary rows of a model's layers, a nested model's rows in place of its own."""
    leaves = []
    for layer, row in zip(model.layers, architecture_summary(model).layers, strict=True):
        leaves += _leaf_layers(layer) if _is_model(layer) else [row]
    return leaves


def model_complexity(model: Any) -> ComplexityProfile:
    """``complexity_profile`` of a built Keras model, looking inside nested models.

    Layers, memory and width count the layers inside nested models (a VAE's encoder and decoder),
    and the depth is the longest path through them.

    Args:
        model: a built ``keras.Model``.

    Returns:
        The model's :class:`ComplexityProfile`; the depth is the number of layers when the model
        has no graph to walk (a subclassed model).
    """
    info = architecture_summary(model)
    return complexity_profile(info, depth=_graph_depth(model), layers=_leaf_layers(model))


# --- Layer configs --------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A config value reduced to comparable plain values (tuples, strings, numbers, dicts)."""
    if isinstance(value, Mapping):
        if "class_name" in value and "config" in value:
            config = value.get("config") or {}
            class_name = str(value["class_name"])
            if class_name.endswith("DTypePolicy") and isinstance(config, Mapping):
                return str(config.get("name", class_name))
            inner = {
                key: _plain(item)
                for key, item in (config.items() if isinstance(config, Mapping) else ())
                if key not in VOLATILE_CONFIG_KEYS and item is not None
            }
            return {"class_name": class_name, **inner} if inner else class_name
        return {
            str(key): _plain(item) for key, item in value.items() if key not in VOLATILE_CONFIG_KEYS
        }
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


def layer_configs(model: Any) -> dict[str, dict]:
    """Each top-level layer's ``get_config()``, reduced to what describes the layer.

    Names and seeds are left out (two builds of the same layer differ in them), serialized objects
    become their class name (``"GlorotUniform"``) or a dict of class name and non-default settings,
    dtype policies their name (``"float32"``), lists tuples. Layers whose config cannot be read are
    left out.

    Args:
        model: a built ``keras.Model``.

    Returns:
        ``{layer name: config}``, plain values only (they pickle and compare by value).
    """
    configs: dict[str, dict] = {}
    for layer in model.layers:
        try:
            config = layer.get_config()
        except Exception:  # custom layers may not implement get_config
            continue
        configs[layer.name] = _plain(dict(config))
    return configs


def _flatten(config: Mapping, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            for inner_key, inner in _flatten(value, f"{name}.").items():
                flat[inner_key.replace(".class_name", "")] = inner
        else:
            flat[name] = value
    return flat


# --- Alignment and diff ---------------------------------------------------------------------------


class _Deltas:
    """B minus A, for anything with ``num_params_a/b`` and ``macs_a/b``."""

    num_params_a: int
    num_params_b: int
    macs_a: int | None
    macs_b: int | None

    @property
    def delta_params(self) -> int:
        return self.num_params_b - self.num_params_a

    @property
    def delta_macs(self) -> int | None:
        if self.macs_a is None or self.macs_b is None:
            return None
        return self.macs_b - self.macs_a


@dataclass(frozen=True)
class DiffRow(_Deltas):
    """One aligned row of two architectures.

    Attributes:
        status: "same", "changed", "added" (only in B) or "removed" (only in A).
        layer_a: the layer's name in A, None for an added layer.
        layer_b: the layer's name in B, None for a removed layer.
        class_name: the layer class (the same on both sides of an aligned row).
        changes: what changed, in words ("filters 8 → 16", "output (None, 8) → (None, 16)").
        output_shape_a: the output shape in A (``()`` when absent).
        output_shape_b: the output shape in B (``()`` when absent).
        num_params_a: parameters in A (0 when absent).
        num_params_b: parameters in B (0 when absent).
        macs_a: multiply-accumulates per sample in A (0 when absent, None when unknown).
        macs_b: the same in B.
    """

    status: str
    layer_a: str | None
    layer_b: str | None
    class_name: str
    changes: tuple[str, ...]
    output_shape_a: tuple
    output_shape_b: tuple
    num_params_a: int
    num_params_b: int
    macs_a: int | None
    macs_b: int | None


@dataclass(frozen=True)
class DiffInfo(_Deltas):
    """Two architectures aligned layer by layer, A (before) to B (after)."""

    name_a: str
    name_b: str
    rows: tuple[DiffRow, ...]
    num_params_a: int
    num_params_b: int
    macs_a: int | None
    macs_b: int | None

    def counts(self) -> dict[str, int]:
        """Rows per status, every status present (zero when none)."""
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts


def align_layers(
    a: Sequence[LayerInfo], b: Sequence[LayerInfo]
) -> list[tuple[int | None, int | None]]:
    """Pairs of indices of aligned layers, in order; ``None`` on the side a layer is missing from.

    Layers with the same class and name are matched first (``difflib.SequenceMatcher`` over
    ``(class_name, name)``, the longest common runs first); between those anchors, layers of the
    same class are matched by position (a renamed layer, or Keras's automatic names ``dense_3``
    against ``dense_7``), and what is left is removed from A or added in B.

    Args:
        a: the layers of A.
        b: the layers of B.

    Returns:
        ``(i, j)`` for a matched pair, ``(i, None)`` for a layer only in A, ``(None, j)`` for one
        only in B.
    """
    signature_a = [(layer.class_name, layer.name) for layer in a]
    signature_b = [(layer.class_name, layer.name) for layer in b]
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(None, signature_a, signature_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += [(i1 + k, j1 + k) for k in range(i2 - i1)]
        elif tag == "delete":
            pairs += [(i, None) for i in range(i1, i2)]
        elif tag == "insert":
            pairs += [(None, j) for j in range(j1, j2)]
        else:
            pairs += _align_by_class(a, b, range(i1, i2), range(j1, j2))
    return pairs


def _align_by_class(a, b, rows_a: range, rows_b: range) -> list[tuple[int | None, int | None]]:
    classes_a = [a[i].class_name for i in rows_a]
    classes_b = [b[j].class_name for j in rows_b]
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(None, classes_a, classes_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += [(rows_a[i1 + k], rows_b[j1 + k]) for k in range(i2 - i1)]
        else:  # a different class in the same place is a different layer
            pairs += [(rows_a[i], None) for i in range(i1, i2)]
            pairs += [(None, rows_b[j]) for j in range(j1, j2)]
    return pairs


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, tuple):
        text = "(" + ", ".join(_value_text(item) for item in value) + ")"
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _config_changes(config_a: Mapping, config_b: Mapping) -> list[str]:
    flat_a, flat_b = _flatten(config_a), _flatten(config_b)
    changes = []
    for key in dict.fromkeys([*flat_a, *flat_b]):
        missing = object()
        value_a, value_b = flat_a.get(key, missing), flat_b.get(key, missing)
        if value_a == value_b:
            continue
        text_a = "unset" if value_a is missing else _value_text(value_a)
        text_b = "unset" if value_b is missing else _value_text(value_b)
        changes.append(f"{key} {text_a} → {text_b}")
    return changes


def _compare(
    layer_a: LayerInfo, layer_b: LayerInfo, config_a: Mapping | None, config_b: Mapping | None
) -> list[str]:
    changes = []
    if layer_a.name != layer_b.name:
        changes.append(f"renamed {layer_a.name} → {layer_b.name}")
    if config_a is not None and config_b is not None:
        changes += _config_changes(config_a, config_b)
    elif layer_a.activation != layer_b.activation:
        changes.append(
            f"activation {layer_a.activation or 'linear'} → {layer_b.activation or 'linear'}"
        )
    if layer_a.output_shape != layer_b.output_shape:
        changes.append(
            f"output {shape_text(layer_a.output_shape)} → {shape_text(layer_b.output_shape)}"
        )
    if layer_a.num_params != layer_b.num_params:
        changes.append(f"parameters {layer_a.num_params:,} → {layer_b.num_params:,}")
    elif layer_a.num_trainable_params != layer_b.num_trainable_params:
        changes.append(
            f"trainable parameters {layer_a.num_trainable_params:,} → "
            f"{layer_b.num_trainable_params:,}"
        )
    if not changes and (layer_a.macs or 0) != (layer_b.macs or 0):
        # Same shape and weights but different work: the input grew or shrank.
        changes.append(f"MACs {layer_a.macs or 0:,} → {layer_b.macs or 0:,}")
    if len(changes) > MAX_CHANGES_LISTED:
        extra = len(changes) - MAX_CHANGES_LISTED + 1
        changes = [*changes[: MAX_CHANGES_LISTED - 1], f"and {extra} more"]
    return changes


def _macs(info: ArchitectureInfo, layer: LayerInfo) -> int | None:
    if info.macs is None:
        return None
    return int(layer.macs or 0)


def architecture_diff(
    a: ArchitectureInfo,
    b: ArchitectureInfo,
    *,
    configs_a: Mapping[str, dict] | None = None,
    configs_b: Mapping[str, dict] | None = None,
) -> DiffInfo:
    """Aligns the layers of A and B and says, row by row, what differs.

    Args:
        a: the summary of the first model ("before").
        b: the summary of the second ("after").
        configs_a: ``layer_configs`` of A; with ``configs_b``, config changes that leave shapes
            and parameters alone (an activation, a kernel size with "same" padding, a dropout
            rate) are found too. Without them, only the activation is compared besides shapes and
            parameters.
        configs_b: ``layer_configs`` of B.

    Returns:
        A :class:`DiffInfo` with one :class:`DiffRow` per aligned pair, added or removed layer, in
        the order of the models' layers.
    """
    with_configs = configs_a is not None and configs_b is not None
    rows = []
    for i, j in align_layers(a.layers, b.layers):
        layer_a = a.layers[i] if i is not None else None
        layer_b = b.layers[j] if j is not None else None
        if layer_a is not None and layer_b is not None:
            changes = _compare(
                layer_a,
                layer_b,
                configs_a.get(layer_a.name) if with_configs else None,
                configs_b.get(layer_b.name) if with_configs else None,
            )
            status = "changed" if changes else "same"
        else:
            status = "removed" if layer_b is None else "added"
            changes = []
        present = layer_a if layer_a is not None else layer_b
        rows.append(
            DiffRow(
                status=status,
                layer_a=layer_a.name if layer_a is not None else None,
                layer_b=layer_b.name if layer_b is not None else None,
                class_name=present.class_name,
                changes=tuple(changes),
                output_shape_a=layer_a.output_shape if layer_a is not None else (),
                output_shape_b=layer_b.output_shape if layer_b is not None else (),
                num_params_a=layer_a.num_params if layer_a is not None else 0,
                num_params_b=layer_b.num_params if layer_b is not None else 0,
                macs_a=_macs(a, layer_a)
                if layer_a is not None
                else (None if a.macs is None else 0),
                macs_b=_macs(b, layer_b)
                if layer_b is not None
                else (None if b.macs is None else 0),
            )
        )
    return DiffInfo(
        name_a=a.name,
        name_b=b.name,
        rows=tuple(rows),
        num_params_a=int(a.num_params),
        num_params_b=int(b.num_params),
        macs_a=a.macs,
        macs_b=b.macs,
    )


def diff_table(diff: DiffInfo) -> list[dict]:
    """The diff as rows for ``st.dataframe``: one dict per aligned row, same keys in each.

    Args:
        diff: a :class:`DiffInfo`.

    Returns:
        Dicts with "status", "layer in A", "layer in B", "class", "what changed",
        "Δ parameters" and "Δ MACs" (None when a model's compute is unknown).
    """
    return [
        {
            "status": row.status,
            "layer in A": row.layer_a or "",
            "layer in B": row.layer_b or "",
            "class": row.class_name,
            "what changed": "; ".join(row.changes),
            "Δ parameters": row.delta_params,
            "Δ MACs": row.delta_macs,
        }
        for row in diff.rows
    ]


def align_models(
    infos: Sequence[ArchitectureInfo],
) -> tuple[tuple[LayerInfo | None, ...], ...]:
    """Aligns the layers of any number of models, each against the rows built so far.

    Args:
        infos: the models' summaries, the first one setting the order.

    Returns:
        One tuple per aligned row, holding each model's layer or None where the model has none.
    """
    rows: list[list[LayerInfo | None]] = [[layer] for layer in infos[0].layers] if infos else []
    for position, info in enumerate(infos[1:], start=1):
        # Each row stands for its first present layer; earlier models' gaps stay None.
        anchors = [next(layer for layer in row if layer is not None) for row in rows]
        merged: list[list[LayerInfo | None]] = []
        for i, j in align_layers(anchors, info.layers):
            row = rows[i] if i is not None else [None] * position
            merged.append([*row, info.layers[j] if j is not None else None])
        rows = merged
    return tuple(tuple(row) for row in rows)


# --- Trade-offs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeoffEntry:
    """One model's size, compute and recorded result.

    Attributes:
        name: the model's name.
        num_params: its parameters.
        macs: its multiply-accumulates per sample (None when unknown).
        metric_name: the name of its test metric, None when it has none recorded.
        metric_value: the metric's value, None when it has none recorded.
        goal: "max" when higher is better, "min" when lower is, None when unknown.
        sample_set: the data the metric was measured on (a model card's ``"samples"`` file, or
            its ``"dataset"``); None when unknown. Only results on the same sample set compare.
    """

    name: str
    num_params: int
    macs: int | None
    metric_name: str | None = None
    metric_value: float | None = None
    goal: str | None = None
    sample_set: str | None = None

    @property
    def has_metric(self) -> bool:
        return self.metric_name is not None and self.metric_value is not None


@dataclass(frozen=True)
class TradeoffInfo:
    """Several models' sizes and results, for the trade-off overlay."""

    entries: tuple[TradeoffEntry, ...]

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The recorded metrics, in order of first appearance."""
        return tuple(dict.fromkeys(entry.metric_name for entry in self.entries if entry.has_metric))

    @property
    def without_metric(self) -> tuple[str, ...]:
        """Names of the models with no recorded metric."""
        return tuple(entry.name for entry in self.entries if not entry.has_metric)

    @property
    def comparable_groups(self) -> tuple[tuple[TradeoffEntry, ...], ...]:
        """The entries with a metric, grouped so that each group's values can share an axis: the
        same metric on the same sample set. A metric measured on unknown data is alone. Groups
        and their entries keep the order of first appearance."""
        groups: dict[tuple, list[TradeoffEntry]] = {}
        for entry in self.entries:
            if not entry.has_metric:
                continue
            data = entry.sample_set if entry.sample_set is not None else ("alone", entry.name)
            groups.setdefault((entry.metric_name, data), []).append(entry)
        return tuple(tuple(group) for group in groups.values())


def tradeoff_info(entries: Sequence[TradeoffEntry]) -> TradeoffInfo:
    """The trade-off info of some entries; a metric that is NaN or infinite counts as none.

    Args:
        entries: one :class:`TradeoffEntry` per model.

    Returns:
        A :class:`TradeoffInfo`.

    Raises:
        ValueError: a goal other than "max", "min" or None.
    """
    cleaned = []
    for entry in entries:
        if entry.goal not in ("max", "min", None):
            raise ValueError(
                f"Expected a goal of 'max', 'min' or None for '{entry.name}'. Received: {entry.goal!r}"
            )
        value = entry.metric_value
        if value is not None and not math.isfinite(float(value)):
            value = None
        cleaned.append(
            TradeoffEntry(
                name=entry.name,
                num_params=int(entry.num_params),
                macs=None if entry.macs is None else int(entry.macs),
                metric_name=entry.metric_name if value is not None else None,
                metric_value=None if value is None else float(value),
                goal=entry.goal,
                sample_set=entry.sample_set,
            )
        )
    return TradeoffInfo(tuple(cleaned))


def tradeoff_entry(info: ArchitectureInfo, card: Mapping | None = None) -> TradeoffEntry:
    """One model's entry, its metric read from a model card's ``"test_metric"`` when there is one.

    Args:
        info: the model's summary.
        card: the model's card (``models/<name>.json``), or None.

    Returns:
        A :class:`TradeoffEntry`; the metric is None when the card has no usable ``"test_metric"``
        (``{"name": ..., "value": ...}``); the sample set is the card's ``"samples"`` file (its
        ``"dataset"`` without one).
    """
    metric = (card or {}).get("test_metric")
    name = value = None
    if isinstance(metric, Mapping) and metric.get("name") is not None:
        try:
            value = float(metric["value"])
            name = str(metric["name"])
        except (KeyError, TypeError, ValueError):
            value = None
    goal = (card or {}).get("goal")
    sample_set = (card or {}).get("samples") or (card or {}).get("dataset")
    return TradeoffEntry(
        name=info.name,
        num_params=int(info.num_params),
        macs=info.macs,
        metric_name=name,
        metric_value=value,
        goal=goal if goal in ("max", "min") else None,
        sample_set=str(sample_set) if sample_set else None,
    )


def tradeoff_from_cards(
    infos: Sequence[ArchitectureInfo], cards: Sequence[Mapping | None]
) -> TradeoffInfo:
    """The trade-off info of several models and their cards (None for a model without one).

    Args:
        infos: the models' summaries.
        cards: each model's card, in the same order.

    Returns:
        A :class:`TradeoffInfo`.

    Raises:
        ValueError: a different number of summaries and cards.
    """
    if len(infos) != len(cards):
        raise ValueError(
            f"Expected one card (or None) per model. Received {len(infos)} models and "
            f"{len(cards)} cards."
        )
    return tradeoff_info(
        [tradeoff_entry(info, card) for info, card in zip(infos, cards, strict=True)]
    )

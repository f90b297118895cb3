"""A model's structure from its saved file, never executed: the Netron view of any .keras or .h5.

Every file gets a structure, also one that cannot be loaded (a custom layer nobody trusted, a
library that is not installed, a Keras 2 file Keras 3 cannot rebuild): the layers, their classes
and where those come from, their settings, how they connect (a Functional model's inbound nodes,
nested models) and their parameters, counted from the shapes of the weights stored in the file.
Nothing here imports TensorFlow or Keras or resolves a class the file names; the file's bytes go
through the same archive and HDF5 safety checks as the pre-scan (``io.models``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from neurogenesis.io.models import (
    SavedParts,
    _describe,
    _entry_name,
    _input_shapes,
    _is_op_node,
    _layer_input_shape,
    read_saved_parts,
)

__all__ = [
    "MAX_CONFIG_CHARS",
    "ModelStructure",
    "StructureLayer",
    "model_structure",
    "origin_of",
    "snake_case",
    "structure_from_parts",
]

MAX_CONFIG_CHARS = 4_000
"""A layer's settings are kept as JSON text up to this many characters (then cut, and said)."""
_MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
_LIBRARIES = {"keras_hub": "KerasHub", "keras_nlp": "KerasNLP", "keras_cv": "KerasCV"}
_MAX_DEPTH = 50  # nested models deeper than this are listed as one layer


@dataclass(frozen=True)
class StructureLayer:
    """One layer (or ``keras.ops`` operation) of a saved model.

    Attributes:
        name: The layer's name.
        class_name: The class the file names.
        origin: Where the class comes from: ``"keras"``, ``"keras operation"`` (a ``keras.ops``
            call in a Functional graph), a model library (``"keras_hub"``, ``"keras_nlp"``,
            ``"keras_cv"``) or ``"custom: MODULE"`` (code that is not part of Keras).
        summary: A short description, e.g. ``"Dense(10, softmax)"``.
        inbound: The names of the layers that feed this one, in the same (nested) model.
        parent: The name of the nested model this layer belongs to, or None at the top.
        depth: 0 at the top, 1 inside a nested model, ...
        num_params: Parameters from the stored weight shapes (nested layers' included); None
            where the file's weights could not be matched to this layer.
        weights: ``(name, shape)`` of each stored weight, in the file's order.
        config: The layer's settings as JSON text (cut at ``MAX_CONFIG_CHARS``).
        input_shape: An InputLayer's shape as the file states it (batch first), else ``()``.
        inbound_tensors: ``(layer name, tensor index)`` of every tensor the layer is called on,
            in call order: which output of a layer of several outputs (a nested model's) feeds
            it.
        model_inputs: A nested Functional model's input layer names, in its inputs' order (the
            tensors its caller passes, in ``inbound_tensors`` order, go to them); else ``()``.
        model_outputs: A nested Functional model's outputs as ``(layer name, tensor index)``, in
            order (a caller's tensor index ``k`` is ``model_outputs[k]``); else ``()``.
    """

    name: str
    class_name: str
    origin: str
    summary: str
    inbound: tuple[str, ...]
    parent: str | None
    depth: int
    num_params: int | None
    weights: tuple[tuple[str, tuple[int, ...]], ...]
    config: str
    input_shape: tuple[int | None, ...] = ()
    inbound_tensors: tuple[tuple[str, int], ...] = ()
    model_inputs: tuple[str, ...] = ()
    model_outputs: tuple[tuple[str, int], ...] = ()

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "class_name": self.class_name,
            "origin": self.origin,
            "summary": self.summary,
            "inbound": list(self.inbound),
            "parent": self.parent,
            "depth": self.depth,
            "num_params": self.num_params,
            "weights": [[name, list(shape)] for name, shape in self.weights],
        }


@dataclass(frozen=True)
class ModelStructure:
    """What a model file holds, read without running it.

    Attributes:
        path: The path as given.
        file_format: ``'keras'`` or ``'h5'``.
        name: The model's name.
        model_class: ``'Functional'``, ``'Sequential'``, or the class the file names.
        keras_version: The Keras version that saved the file, if it says.
        layers: Every layer and operation, nested models' layers after the model that holds
            them, in the file's order.
        inputs: The top model's input layer names (Functional models).
        outputs: The top model's output layer names (Functional models).
        input_shapes: One shape per input, batch dimension first, where the file says.
        num_params: Parameters stored in the file (optimizer state excluded), as
            ``model.count_params()`` counts them.
        runnable: Whether the model can be loaded and run here.
        reason: Why it cannot, in one sentence with what would let it (None when runnable).
        custom_classes: ``(class, origin)`` of every class that is not Keras's own.
    """

    path: str
    file_format: str
    name: str
    model_class: str
    keras_version: str | None
    layers: tuple[StructureLayer, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    input_shapes: tuple[tuple[int | None, ...], ...]
    num_params: int
    runnable: bool
    reason: str | None

    @property
    def custom_classes(self) -> tuple[tuple[str, str], ...]:
        seen: dict[tuple[str, str], None] = {}
        for layer in self.layers:
            if layer.origin not in ("keras", "keras operation"):
                seen[(layer.class_name, layer.origin)] = None
        return tuple(seen)

    def top_layers(self) -> tuple[StructureLayer, ...]:
        """The layers of the top model (nested models as one layer each)."""
        return tuple(layer for layer in self.layers if layer.depth == 0)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "model_class": self.model_class,
            "file_format": self.file_format,
            "keras_version": self.keras_version,
            "runnable": self.runnable,
            "reason": self.reason,
            "structure_only": True,
            "num_params": self.num_params,
            "input_shapes": [list(shape) for shape in self.input_shapes],
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "custom_classes": [
                {"class_name": name, "origin": origin} for name, origin in self.custom_classes
            ],
            "layers": [layer.to_dict() for layer in self.layers],
        }


def model_structure(
    path: str | os.PathLike[str], *, runnable: bool = False, reason: str | None = None
) -> ModelStructure:
    """The structure of the model in a .keras or .h5 file, read without running anything.

    Args:
        path: The model file.
        runnable: Whether the caller could load the model (this reader never tries).
        reason: Why it could not (the loader's refusal or error), for the structure's label.

    Raises:
        UnsafeModelError: The file is shaped to exhaust memory or disk (a zip bomb, ...).
        InputError: The file is missing, damaged, or holds no model configuration.
    """
    return structure_from_parts(read_saved_parts(path), runnable=runnable, reason=reason)


def structure_from_parts(
    parts: SavedParts, *, runnable: bool = False, reason: str | None = None
) -> ModelStructure:
    """The structure of saved parts (see :func:`model_structure`)."""
    config = parts.config
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    name = inner.get("name") if isinstance(inner.get("name"), str) else None
    name = name or os.path.splitext(os.path.basename(parts.path))[0]
    layout = _WeightsLayout(parts.weight_shapes)
    layers: list[StructureLayer] = []
    _add_layers(config, layout.top(), None, 0, layers)
    entries = _layer_entries(inner)
    if not entries:
        layers = _weight_groups(layout.top(), origin_of(config))
    return ModelStructure(
        path=parts.path,
        file_format=parts.file_format,
        name=name,
        model_class=str(config.get("class_name")),
        keras_version=parts.keras_version,
        layers=tuple(layers),
        inputs=tuple(_names(inner.get("input_layers"))),
        outputs=tuple(_names(inner.get("output_layers"))),
        input_shapes=_input_shapes(config, inner, entries, str(config.get("class_name"))),
        num_params=layout.total(),
        runnable=runnable,
        reason=None if runnable else reason,
    )


def origin_of(entry: dict) -> str:
    """Where a config entry's class comes from (see ``StructureLayer.origin``)."""
    module = entry.get("module")
    registered = entry.get("registered_name")
    if _is_op_node(entry):
        return "keras operation"
    if isinstance(module, str) and module:
        top = module.split(".")[0]
        if top == "keras":
            return "keras"
        if top in _LIBRARIES:
            return top
        return f"custom: {module}"
    if isinstance(registered, str) and ">" in registered:
        package = registered.split(">")[0]
        return package if package in _LIBRARIES else f"custom: {package}"
    return "keras"  # legacy files name no module; Keras's own classes are the rule there


# --- walking the config ------------------------------------------------------------------------


def _layer_entries(inner: dict) -> list[dict]:
    raw = inner.get("layers")
    return [entry for entry in raw if isinstance(entry, dict)] if isinstance(raw, list) else []


def _add_layers(
    model: dict, weights: _Scope, parent: str | None, depth: int, out: list[StructureLayer]
) -> None:
    inner = model.get("config") if isinstance(model.get("config"), dict) else {}
    entries = _layer_entries(inner)
    sequential = model.get("class_name") == "Sequential"
    previous: str | None = None
    for entry in entries:
        name = _entry_name(entry) or "?"
        class_name = str(entry.get("class_name"))
        if sequential:
            inbound = (previous,) if previous else ()
            tensors = ((previous, 0),) if previous else ()
            previous = name
        else:
            tensors = tuple(_inbound_tensors(entry.get("inbound_nodes")))
            inbound = tuple(dict.fromkeys(source for source, _ in tensors))
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        own = weights.child(entry, name)
        nested = class_name in _MODEL_CLASSES and depth < _MAX_DEPTH and _layer_entries(config)
        out.append(
            StructureLayer(
                name=name,
                class_name=class_name,
                origin=origin_of(entry),
                summary=_describe(entry),
                inbound=inbound,
                parent=parent,
                depth=depth,
                num_params=own.total() if own.matched else None,
                weights=own.listing(),
                config=_config_text(entry.get("config")),
                input_shape=(_layer_input_shape(entry) or ()) if class_name == "InputLayer" else (),
                inbound_tensors=tensors,
                model_inputs=tuple(_names(config.get("input_layers"))) if nested else (),
                model_outputs=tuple(_inbound_tensors(config.get("output_layers")))
                if nested
                else (),
            )
        )
        if nested:
            _add_layers(entry, own, name, depth + 1, out)


def _weight_groups(scope: _Scope, origin: str) -> list[StructureLayer]:
    """A model whose config lists no layers (a subclassed model, a KerasHub backbone that saves
    only its constructor's arguments): its stored weight groups, one row each, named as the
    file names them (a .keras archive names them after the layer's class: ``dense_1``)."""
    groups: dict[str, dict[str, tuple[int, ...]]] = {}
    for key, shape in scope.shapes.items():
        parts = key[len(scope.prefix) :].split("/")
        if scope.style == "keras" and parts[0] == "layers" and len(parts) > 2:
            group = parts[1]
        elif len(parts) > 1 and parts[0] != "vars":
            group = parts[0]  # an .h5 layer's group, or a subclassed model's attribute
        else:
            group = "(the model's own weights)"
        groups.setdefault(group, {})[key] = shape
    return [
        StructureLayer(
            name=group,
            class_name="?",
            origin=origin,
            summary="known only by its stored weights",
            inbound=(),
            parent=None,
            depth=0,
            num_params=sum(math.prod(shape) for shape in shapes.values()),
            weights=tuple((key[len(scope.prefix) :], shape) for key, shape in shapes.items()),
            config="",
        )
        for group, shapes in groups.items()
    ]


def _inbound(value: Any) -> Iterator[str]:
    """Layer names a Functional entry's ``inbound_nodes`` call: Keras 3's ``keras_history``
    ``[name, node, tensor]`` and Keras 2's ``[name, node, tensor, kwargs]``."""
    return (name for name, _ in _inbound_tensors(value))


def _inbound_tensors(value: Any) -> Iterator[tuple[str, int]]:
    """``(layer name, tensor index)`` of every tensor in an ``inbound_nodes`` (or
    ``input_layers`` / ``output_layers``) value, in order (see :func:`_inbound`)."""
    stack = [value]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            if (
                len(item) in (3, 4)
                and isinstance(item[0], str)
                and all(type(index) is int for index in item[1:3])
                and (len(item) == 3 or isinstance(item[3], dict))
            ):
                yield item[0], item[2]
                if len(item) == 4:
                    stack.append(item[3])
            else:
                stack[0:0] = item
        elif isinstance(item, dict):
            stack[0:0] = list(item.values())


def _names(value: Any) -> Iterator[str]:
    """Layer names in ``input_layers`` / ``output_layers`` (``[name, node, tensor]`` lists)."""
    return _inbound(value)


def _config_text(config: Any) -> str:
    try:
        text = json.dumps(config, indent=1, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return ""
    if len(text) > MAX_CONFIG_CHARS:
        return text[:MAX_CONFIG_CHARS] + f"\n… ({len(text) - MAX_CONFIG_CHARS:,} more characters)"
    return text


# --- weights: which stored arrays belong to which layer ----------------------------------------


def snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case`` without importing Keras: the name Keras gives a layer of
    this class (``Conv2D`` -> ``conv2d``) and how a .keras archive names its weights group."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class _Scope:
    """The stored weights under one group of the weights file (a model or a layer)."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], prefix: str, style: str, matched: bool):
        self.shapes = (
            {k: v for k, v in shapes.items() if k.startswith(prefix)} if prefix else shapes
        )
        self.prefix = prefix
        self.style = style  # "keras": layers/<class_snake>[_n]/...; "h5": <layer name>/...
        self.matched = matched
        self._used: dict[str, int] = {}

    def child(self, entry: dict, name: str) -> _Scope:
        if not self.matched or _is_op_node(entry):
            return _Scope({}, "", self.style, self.matched and _is_op_node(entry))
        if self.style == "h5" and self.prefix == "model_weights/":
            prefix = f"{self.prefix}{name}/"
        elif self.style == "h5":
            # Inside a nested model an .h5 file names weights by their path: "block/dense/kernel"
            # (Keras 3) or "dense_1/kernel:0" (tf.keras), so a layer's weights are those whose
            # path has its name as a folder.
            inside = {
                key: shape
                for key, shape in self.shapes.items()
                if name in key[len(self.prefix) :].split("/")[:-1]
            }
            return _Scope(inside, self.prefix, self.style, True)
        else:
            key = snake_case(str(entry.get("class_name")))
            if key in self._used:
                self._used[key] += 1
                key = f"{key}_{self._used[key]}"
            else:
                self._used[key] = 0
            prefix = f"{self.prefix}layers/{key}/"
        return _Scope(self.shapes, prefix, self.style, True)

    def total(self) -> int:
        return sum(math.prod(shape) for shape in self.shapes.values())

    def listing(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        return tuple((name[len(self.prefix) :], shape) for name, shape in self.shapes.items())


class _WeightsLayout:
    def __init__(self, shapes: dict[str, tuple[int, ...]]):
        if any(name.startswith("model_weights/") for name in shapes):
            self.style = "h5"
            self.shapes = {k: v for k, v in shapes.items() if k.startswith("model_weights/")}
            self.prefix = "model_weights/"
        else:
            self.style = "keras"
            # Everything but the optimizer's state: a Functional or Sequential model's layers
            # under layers/, a subclassed model's under its attribute names.
            self.shapes = {k: v for k, v in shapes.items() if not k.startswith("optimizer/")}
            self.prefix = ""

    def top(self) -> _Scope:
        return _Scope(self.shapes, self.prefix, self.style, True)

    def total(self) -> int:
        return sum(math.prod(shape) for shape in self.shapes.values())

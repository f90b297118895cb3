"""Architecture facts: per-layer class, output shape and parameters of any Keras model.

``architecture_summary(model) -> ArchitectureInfo`` is the compute step of every architecture view
and of ``neurogenesis inspect``. Multiply-accumulates (``macs``) are counted for one sample, per call of each layer in the
model's graph (a shared layer called twice costs twice): convolutions of every kind, Dense on any
rank, MultiHeadAttention with its projections and both attention products, recurrent layers per
time step times steps. Layers whose work is not multiply-accumulates (pooling, normalisation,
element-wise merges, activations, embeddings as lookups) count zero, as the published figures
(He et al. 2016, Sandler et al. 2018, Tan & Le 2019) do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from neurogenesis.io.structure import snake_case  # Keras's naming rule, without Keras

__all__ = [
    "LayerInfo",
    "ArchitectureInfo",
    "architecture_summary",
    "shape_text",
    "snake_case",
    "functional_graph",
    "model_graph",
    "layout_graph",
    "default_expanded",
    "key_attributes",
    "block_label",
]


@dataclass(frozen=True)
class LayerInfo:
    name: str
    class_name: str
    output_shape: tuple
    num_params: int
    num_trainable_params: int
    macs: int | None = None
    activation_bytes: int | None = None
    weight_bytes: int = 0
    activation: str | None = None


@dataclass(frozen=True)
class ArchitectureInfo:
    name: str
    model_class: str
    input_shapes: tuple
    output_shapes: tuple
    num_params: int
    num_trainable_params: int
    macs: int | None
    layers: tuple[LayerInfo, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``neurogenesis inspect --json`` shape."""
        return {
            "name": self.name,
            "model_class": self.model_class,
            "num_params": self.num_params,
            "num_trainable_params": self.num_trainable_params,
            "macs": self.macs,
            "input_shapes": [list(shape) for shape in self.input_shapes],
            "output_shapes": [list(shape) for shape in self.output_shapes],
            "layers": [
                {**asdict(layer), "output_shape": _jsonable_shape(layer.output_shape)}
                for layer in self.layers
            ],
        }


def shape_text(shape: Any) -> str:
    """``(None, 8, 8, 16)``; the shapes of a multi-output layer joined by commas."""
    if shape and all(isinstance(item, tuple) for item in shape):
        return ", ".join(shape_text(item) for item in shape)
    return "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + ")"


def _jsonable_shape(shape: Any) -> Any:
    if isinstance(shape, tuple | list):
        return [_jsonable_shape(item) for item in shape]
    return None if shape is None else int(shape)


def _shape_tuple(shape: Any) -> tuple:
    if (
        isinstance(shape, list | tuple)
        and shape
        and all(isinstance(item, list | tuple) for item in shape)
    ):
        return tuple(_shape_tuple(item) for item in shape)
    return tuple(None if dim is None else int(dim) for dim in shape)


def _output_shape(layer: Any) -> tuple:
    """The layer's output shape; a tuple of shapes for layers with several outputs."""
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        output = None
    if output is not None:
        if isinstance(output, list | tuple):
            return tuple(_shape_tuple(tensor.shape) for tensor in output)
        if isinstance(output, dict):
            return tuple(_shape_tuple(tensor.shape) for tensor in output.values())
        return _shape_tuple(output.shape)
    try:
        return _shape_tuple(layer.compute_output_shape(layer.input.shape))
    except Exception:  # Keras raises many types for layers that were never called
        return ()


def _count(weights: list) -> int:
    total = 0
    for weight in weights:
        size = 1
        for dim in weight.shape:
            size *= int(dim)
        total += size
    return total


def _size(shape) -> int:
    return math.prod(1 if dim is None else int(dim) for dim in shape)


def _per_sample(shape) -> int:
    """Elements of one sample of a tensor shaped (batch, ...)."""
    return _size(tuple(shape)[1:])


def _kernel_shape(layer: Any, name: str = "kernel") -> tuple | None:
    variable = getattr(layer, name, None)
    shape = getattr(variable, "shape", None)
    return tuple(int(dim) for dim in shape) if shape is not None else None


def _recurrent_macs(cell: Any, input_shape: tuple) -> int:
    """One sequence through a recurrent cell: gates x (inputs + state) x units, per time step."""
    steps = int(input_shape[1] or 1)
    kernel = _kernel_shape(cell)
    recurrent = _kernel_shape(cell, "recurrent_kernel")
    per_step = (_size(kernel) if kernel else 0) + (_size(recurrent) if recurrent else 0)
    return steps * per_step


def _mha_macs(layer: Any, shapes: list[tuple]) -> int:
    """Projections of query, key and value, the two attention products, and the output projection."""
    query = shapes[0]
    value = shapes[1] if len(shapes) > 1 else query
    key = shapes[2] if len(shapes) > 2 else value
    target, source = _size(query[1:-1]), _size(value[1:-1])
    heads = int(layer.num_heads)
    key_dim = int(layer.key_dim)
    value_dim = int(layer.value_dim or layer.key_dim)
    out_kernel = _kernel_shape(layer.output_dense) if getattr(layer, "output_dense", None) else None
    output_dim = out_kernel[-1] if out_kernel else int(query[-1])
    return (
        target * int(query[-1]) * heads * key_dim
        + source * int(key[-1]) * heads * key_dim
        + source * int(value[-1]) * heads * value_dim
        + heads * target * source * key_dim
        + heads * target * source * value_dim
        + target * heads * value_dim * output_dim
    )


def layer_macs(layer: Any, input_shapes: list[tuple], output_shapes: list[tuple]) -> int:
    """Multiply-accumulates of one call of ``layer`` on one sample.

    Args:
        layer: a Keras layer (or an operation, which counts zero).
        input_shapes: the shapes of the call's input tensors, batch first.
        output_shapes: the shapes of its outputs, batch first.

    Returns:
        The count; zero for layers that do no multiply-accumulates.
    """
    name = type(layer).__name__
    if hasattr(layer, "_nodes_by_depth") or hasattr(layer, "_functional"):
        return graph_macs(layer)
    if not input_shapes or not output_shapes:
        return 0
    inputs, outputs = input_shapes[0], output_shapes[0]
    if name in ("MultiHeadAttention", "GroupedQueryAttention"):
        return _mha_macs(layer, input_shapes)
    if name in ("LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"):
        return _recurrent_macs(getattr(layer, "cell", layer), inputs)
    if name == "Bidirectional":
        return layer_macs(layer.forward_layer, input_shapes, output_shapes) + layer_macs(
            layer.backward_layer, input_shapes, output_shapes
        )
    if name == "TimeDistributed":
        steps = int(inputs[1] or 1)
        inner_in = [(inputs[0], *inputs[2:])]
        inner_out = [(outputs[0], *outputs[2:])]
        return steps * layer_macs(layer.layer, inner_in, inner_out)
    if name in ("Attention", "AdditiveAttention"):
        query, value = (
            input_shapes[0],
            input_shapes[1] if len(input_shapes) > 1 else input_shapes[0],
        )
        return 2 * _size(query[1:-1]) * _size(value[1:-1]) * int(query[-1])
    if name.startswith("SeparableConv"):
        depthwise = _kernel_shape(layer, "depthwise_kernel")
        pointwise = _kernel_shape(layer, "pointwise_kernel")
        positions = _size(outputs[1:-1])
        return positions * (_size(depthwise) + _size(pointwise))
    if name.startswith("DepthwiseConv"):
        kernel = _kernel_shape(layer, "kernel") or _kernel_shape(layer, "depthwise_kernel")
        return _size(outputs[1:-1]) * _size(kernel)
    kernel = _kernel_shape(layer)
    if kernel is None:
        return 0
    if "Transpose" in name:
        # Every input position is scattered through the whole kernel.
        return _size(inputs[1:-1]) * _size(kernel)
    if name == "EinsumDense":
        return _per_sample(outputs) * _size(kernel) // max(_size(kernel[-1:]), 1)
    # Dense on any rank and convolutions of any dimension (grouped ones have a thinner kernel):
    # each output element is one dot product over the kernel's input side.
    return _per_sample(outputs) * (_size(kernel) // max(int(kernel[-1]), 1))


def functional_graph(model: Any) -> Any:
    """The functional graph behind a model (a built Sequential keeps one too), or None."""
    if hasattr(model, "_nodes_by_depth"):
        return model
    functional = getattr(model, "_functional", None)
    return functional if functional is not None and hasattr(functional, "_nodes_by_depth") else None


def _node_shapes(tensors) -> list[tuple]:
    return [tuple(tensor.shape) for tensor in tensors if hasattr(tensor, "shape")]


def graph_macs(model: Any, per_layer: dict[str, int] | None = None) -> int:
    """Multiply-accumulates of one sample through a model's graph, every call of every layer.

    Args:
        model: a functional or built Sequential model (nested models are walked too).
        per_layer: filled with each top-level layer's share, by layer name, when given.

    Returns:
        The total, or 0 for a model without a graph (an unbuilt subclassed model).
    """
    graph = functional_graph(model)
    if graph is None:
        return 0
    total = 0
    for nodes in graph._nodes_by_depth.values():
        for node in nodes:
            if node.is_input:
                continue
            layer = node.operation
            macs = layer_macs(
                layer, _node_shapes(node.input_tensors), _node_shapes(node.output_tensors)
            )
            total += macs
            if per_layer is not None:
                per_layer[layer.name] = per_layer.get(layer.name, 0) + macs
    return total


def _activation_name(layer: Any) -> str | None:
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    name = getattr(activation, "__name__", None) or type(activation).__name__
    return None if name == "linear" else name


def _bytes_of(weights: list) -> int:
    total = 0
    for weight in weights:
        itemsize = getattr(getattr(weight, "dtype", None), "itemsize", None)
        if itemsize is None:
            import numpy as np

            itemsize = np.dtype(str(weight.dtype)).itemsize
        total += _size(weight.shape) * int(itemsize)
    return total


def _activation_bytes(layer: Any, output_shape: tuple) -> int | None:
    if not output_shape:
        return None
    shapes = (
        output_shape if all(isinstance(item, tuple) for item in output_shape) else (output_shape,)
    )
    dtype = getattr(layer, "compute_dtype", None) or "float32"
    import numpy as np

    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError:
        itemsize = 4
    return sum(_per_sample(shape) for shape in shapes) * itemsize


def architecture_summary(model: Any) -> ArchitectureInfo:
    """Per-layer facts of a built Keras model, as ``model.summary()`` shows them, plus compute.

    Args:
        model: a built ``keras.Model`` (Sequential, functional or subclassed).

    Returns:
        The model's name, inputs and outputs, totals and one :class:`LayerInfo` per top-level layer
        (a nested model is one row; its inner layers belong to the architecture views). ``macs``
        is None for a model without a graph to walk (a subclassed model).
    """
    per_layer: dict[str, int] = {}
    has_graph = functional_graph(model) is not None
    total_macs = graph_macs(model, per_layer) if has_graph else None
    layers = []
    for layer in model.layers:
        output_shape = _output_shape(layer)
        layers.append(
            LayerInfo(
                name=layer.name,
                class_name=type(layer).__name__,
                output_shape=output_shape,
                num_params=_count(layer.weights),
                num_trainable_params=_count(layer.trainable_weights),
                macs=per_layer.get(layer.name, 0) if has_graph else None,
                activation_bytes=_activation_bytes(layer, output_shape),
                weight_bytes=_bytes_of(layer.weights),
                activation=_activation_name(layer),
            )
        )
    try:
        inputs = model.inputs or []
    except (AttributeError, ValueError):
        inputs = []
    try:
        outputs = model.outputs or []
    except (AttributeError, ValueError):
        outputs = []
    return ArchitectureInfo(
        name=model.name,
        model_class=type(model).__name__,
        input_shapes=tuple(_shape_tuple(tensor.shape) for tensor in inputs),
        output_shapes=tuple(_shape_tuple(tensor.shape) for tensor in outputs),
        num_params=int(model.count_params()),
        num_trainable_params=_count(model.trainable_weights),
        macs=total_macs,
        layers=tuple(layers),
    )


# --- The layered graph view ----------------------------------------------------------------------
#
# ``model_graph(model)`` walks the model once (TensorFlow needed) into a flat graph of layer calls,
# nested models inlined, each call tagged with the blocks it belongs to. ``layout_graph(graph,
# expanded)`` is pure Python and fast: it collapses every block that is not expanded into one node
# and lays the result out, so expanding a block in the page costs milliseconds.

MAX_VISIBLE_NODES = 60


@dataclass(frozen=True)
class GraphUnit:
    """One call of one layer (or Keras operation) in the flattened graph."""

    index: int
    name: str
    class_name: str
    output_shape: tuple
    num_params: int
    macs: int | None  # None where unknown (a structure read from a file, never run)
    path: tuple[str, ...]  # ids of the blocks it belongs to, outermost first
    layer_path: tuple[str, ...]  # layer names from the top model down (nested models)
    attributes: tuple[tuple[str, str], ...] = ()  # key settings, see key_attributes


@dataclass(frozen=True)
class GraphGroup:
    """A collapsible block: a nested model, or layers whose names share a numbered prefix."""

    id: str
    label: str
    kind: str  # "model" or "block"
    parent: str | None


@dataclass(frozen=True)
class GraphEdge:
    """A tensor flowing from one node to another, with its shape."""

    source: int
    target: int
    shape: tuple


@dataclass(frozen=True)
class ModelGraph:
    name: str
    units: tuple[GraphUnit, ...]
    edges: tuple[GraphEdge, ...]
    groups: tuple[GraphGroup, ...]

    def group(self, group_id: str) -> GraphGroup:
        return next(group for group in self.groups if group.id == group_id)

    def depth_of(self, group_id: str) -> int:
        depth, parent = 0, self.group(group_id).parent
        while parent is not None:
            depth, parent = depth + 1, self.group(parent).parent
        return depth


@dataclass(frozen=True)
class GraphNode:
    """One node of a laid-out graph: a layer call, or a collapsed block of them."""

    index: int
    name: str
    class_name: str
    output_shape: tuple
    num_params: int
    macs: int | None
    column: int
    row: float
    group: str | None = None  # the block's id when this node is a collapsed block
    num_layers: int = 1
    layer_path: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()  # key settings, see key_attributes


@dataclass(frozen=True)
class GraphInfo:
    name: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    num_columns: int
    expanded: tuple[str, ...] = ()  # ids of the blocks drawn open
    collapsed: tuple[str, ...] = ()  # ids of the blocks drawn as one node


def _output_of(shapes: list[tuple]) -> tuple:
    if len(shapes) == 1:
        return _shape_tuple(shapes[0])
    return tuple(_shape_tuple(shape) for shape in shapes)


def _size_text(value: Any) -> str:
    """``[3, 3]`` -> ``"3×3"``; ``2`` -> ``"2"``."""
    if isinstance(value, list | tuple):
        return "×".join("?" if item is None else str(item) for item in value)
    return str(value)


def _is_ones(value: Any) -> bool:
    items = value if isinstance(value, list | tuple) else [value]
    return all(item == 1 for item in items)


def key_attributes(class_name: str, config: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The settings that say what a layer does, as Netron writes them on its boxes.

    Args:
        class_name: the layer's class (``Conv2D``, ``Dense``, ...).
        config: its ``get_config()``.

    Returns:
        ``(name, value)`` pairs in reading order, values as text: ``("filters", "16")``,
        ``("kernel", "3×3")``, ``("pool", "2×2")``, ``("strides", "2×2")`` (only when not 1),
        ``("units", "64")``, ``("heads", "4")``, ``("key_dim", "8")``, ``("vocabulary", "60")``,
        ``("dim", "24")``, ``("rate", "0.2")``, ``("activation", "relu")`` (not for linear), ...
    """
    found: list[tuple[str, str]] = []

    def add(name: str, key: str, *, skip_ones: bool = False, text=_size_text) -> None:
        value = config.get(key)
        if value is None or value == "" or (skip_ones and _is_ones(value)):
            return
        found.append((name, text(value)))

    if class_name == "Bidirectional" and isinstance(config.get("layer"), Mapping):
        inner = config["layer"]
        found += key_attributes(str(inner.get("class_name", "")), inner.get("config") or {})
        add("merge", "merge_mode")
        return tuple(found)
    add("filters", "filters")
    add("kernel", "kernel_size")
    add("pool", "pool_size")
    add("strides", "strides", skip_ones=True)
    add("dilation", "dilation_rate", skip_ones=True)
    add("depth_multiplier", "depth_multiplier", skip_ones=True)
    add("units", "units")
    add("heads", "num_heads")
    add("key_dim", "key_dim")
    if "input_dim" in config and "output_dim" in config:
        add("vocabulary", "input_dim")
        add("dim", "output_dim")
    if class_name.endswith("Dropout"):
        add("rate", "rate", text=lambda value: f"{float(value):g}")
    add("shape", "target_shape")
    add("equation", "equation")
    if config.get("return_sequences"):
        found.append(("sequences", "all steps"))
    activation = config.get("activation")
    if isinstance(activation, Mapping):  # a serialised activation object or function
        inner = activation.get("config")
        if isinstance(inner, Mapping):
            activation = inner.get("name") or activation.get("class_name")
        else:  # a function: its name is the config (KerasHub's "gelu_approximate", ...)
            activation = inner if isinstance(inner, str) else activation.get("class_name")
    if activation not in (None, "linear"):
        found.append(("activation", str(activation)))
    return tuple(found)


def _attributes_of(operation: Any) -> tuple[tuple[str, str], ...]:
    try:
        config = operation.get_config()
    except Exception:  # a Keras operation or a custom layer may not have one; it has no settings
        return ()
    return key_attributes(type(operation).__name__, config) if isinstance(config, dict) else ()


# A block found by its layers' common number (``attention_1``, ``feed_forward_1``, ...) is named
# after what it computes, the first family (in this order) any of its layers belongs to.
BLOCK_KINDS = (
    ("transformer", ("Attention",)),
    ("recurrent", ("LSTM", "GRU", "RNN")),
    ("conv", ("Conv",)),
    ("dense", ("Dense",)),
)


def block_label(number: str, class_names: Iterable[str]) -> str:
    """``transformer_block_1`` for a numbered block holding attention, ``conv_block_2`` for one
    holding convolutions, ``block_3`` otherwise."""
    classes = list(class_names)
    for kind, needles in BLOCK_KINDS:
        if any(needle in name for name in classes for needle in needles):
            return f"{kind}_block_{number}"
    return f"block_{number}"


def _name_keys(name: str, class_name: str) -> list[str]:
    """Numbered prefixes of a layer name, outermost first: ``conv2_block1_1_conv`` gives
    ``conv2``, ``conv2_block1``, ``conv2_block1_1``; ``block1a_dwconv`` gives ``block1``,
    ``block1a``. A name Keras made up (``conv2d_3``) gives none: its number is a counter, not a block.
    """
    if re.fullmatch(re.escape(snake_case(class_name)) + r"(_\d+)?", name):
        return []
    tokens = name.split("_")
    keys = []
    for i, token in enumerate(tokens[:-1]):
        if not re.search(r"\d", token):
            continue
        head = "_".join(tokens[:i])
        letters = re.fullmatch(r"(.*\d)([a-zA-Z]+)", token)
        if letters and letters.group(1) and not keys:
            keys.append((head + "_" if head else "") + letters.group(1))
        keys.append("_".join(tokens[: i + 1]))
    return keys


def _suffix_key(name: str, class_name: str) -> str | None:
    """``attention_norm_2`` belongs to block ``*_2`` (a transformer block named by its number)."""
    if re.fullmatch(re.escape(snake_case(class_name)) + r"(_\d+)?", name):
        return None
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*?)_(\d+)", name)
    return match.group(2) if match else None


def _is_convex(members: set[int], children: dict[int, list[int]]) -> bool:
    """No path leaves the set and comes back: collapsing it keeps the graph acyclic."""
    frontier = [c for m in members for c in children[m] if c not in members]
    seen = set(frontier)
    while frontier:
        node = frontier.pop()
        for child in children[node]:
            if child in members:
                return False
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return True


def model_graph(model: Any) -> ModelGraph:
    """Every layer call of the model as a flat graph, nested models inlined, blocks found.

    Each call of each layer is a unit (a shared layer appears once per call, named ``name#2``, ...;
    its parameters count at its first call). Edges carry the shape of the tensor they pass, masks
    and other tensor arguments included. Blocks are nested models and groups of consecutive layers
    whose names share a numbered prefix (``conv2_block1_*`` in ResNet-50, ``block_3_*`` in
    MobileNetV2, ``block2a_*`` in EfficientNet, ``*_1`` in a transformer's first block, labelled
    ``transformer_block_1``); a group is
    kept only when collapsing it cannot create a cycle.

    Raises:
        UnsupportedModelError: a model without a graph (a subclassed model that was never built
            from ``keras.Input``).
    """
    from neurogenesis.errors import UnsupportedModelError

    if functional_graph(model) is None:
        raise UnsupportedModelError(
            f"'{model.name}' is a subclassed model without a functional graph, so its layers' "
            "connections are unknown; the layer table still lists its layers."
        )
    units: list[dict] = []
    edges: list[tuple[int, int, tuple]] = []
    groups: dict[str, GraphGroup] = {}
    producer: dict[int, int] = {}  # id(tensor) -> unit index
    calls: dict[str, int] = {}
    seen_layers: set[int] = set()

    def walk(graph_model: Any, path: tuple[str, ...], layer_path: tuple[str, ...]) -> None:
        depths = graph_model._nodes_by_depth
        for depth in sorted(depths, reverse=True):
            for node in depths[depth]:
                operation = node.operation
                inputs = list(node.input_tensors)
                if node.is_input and path:
                    continue  # an inner model's input is its caller's tensor (mapped below)
                inner = None if node.is_input else functional_graph(operation)
                if inner is not None:
                    key = "/".join((*layer_path, operation.name))
                    calls[key] = calls.get(key, 0) + 1
                    group_id = key if calls[key] == 1 else f"{key}#{calls[key]}"
                    groups[group_id] = GraphGroup(
                        group_id,
                        operation.name if calls[key] == 1 else f"{operation.name}#{calls[key]}",
                        "model",
                        path[-1] if path else None,
                    )
                    for inner_input, outer in zip(inner.inputs, inputs, strict=False):
                        if id(outer) in producer:
                            producer[id(inner_input)] = producer[id(outer)]
                    walk(inner, (*path, group_id), (*layer_path, operation.name))
                    for inner_output, outer in zip(
                        inner.outputs, node.output_tensors, strict=False
                    ):
                        if id(inner_output) in producer:
                            producer[id(outer)] = producer[id(inner_output)]
                    continue
                key = "/".join((*layer_path, operation.name))
                calls[key] = calls.get(key, 0) + 1
                first = id(operation) not in seen_layers
                seen_layers.add(id(operation))
                out_shapes = _node_shapes(node.output_tensors)
                index = len(units)
                units.append(
                    {
                        "name": operation.name
                        if calls[key] == 1
                        else f"{operation.name}#{calls[key]}",
                        "class_name": type(operation).__name__,
                        "output_shape": _output_of(out_shapes) if out_shapes else (),
                        "num_params": _count(getattr(operation, "weights", [])) if first else 0,
                        "macs": 0
                        if node.is_input
                        else layer_macs(operation, _node_shapes(inputs), out_shapes),
                        "path": path,
                        "layer_path": (*layer_path, operation.name),
                        "attributes": _attributes_of(operation),
                    }
                )
                linked = set()
                for tensor in inputs:
                    source = producer.get(id(tensor))
                    if source is not None and source not in linked:
                        linked.add(source)
                        edges.append((source, index, _shape_tuple(tensor.shape)))
                for tensor in node.output_tensors:
                    producer[id(tensor)] = index

    walk(functional_graph(model), (), ())
    return _with_blocks(model.name, units, edges, groups)


def _with_blocks(
    name: str, units: list[dict], edges: list[tuple[int, int, tuple]], groups: dict
) -> ModelGraph:
    """The graph of these units and edges, with the numbered-name blocks found."""
    children: dict[int, list[int]] = {i: [] for i in range(len(units))}
    for source, target, _ in edges:
        children[source].append(target)
    paths = [list(unit["path"]) for unit in units]
    _find_name_blocks(units, paths, children, groups)
    return ModelGraph(
        name=name,
        units=tuple(
            GraphUnit(index=i, **{**unit, "path": tuple(paths[i])}) for i, unit in enumerate(units)
        ),
        edges=tuple(GraphEdge(s, t, shape) for s, t, shape in edges),
        groups=tuple(groups.values()),
    )


def structure_graph(structure: Any) -> ModelGraph:
    """The graph of a model read from its file without running it (``io.structure``), for the
    same drawing as :func:`model_graph`: a unit per layer, nested models as groups, blocks found
    by name. Shapes and compute are unknown (``output_shape`` ``()``, edges' shapes ``()``,
    ``macs`` None); parameters come from the stored weights.

    An edge from a nested model goes from the output its caller's tensor index names (the
    nested model's ``output_layers``), an edge into it to the input at the caller's tensor's
    position; where the file does not say (a nested Sequential), a nested model's inputs are its
    layers that nothing inside it feeds, its outputs those that feed nothing inside it.
    """
    from collections import defaultdict

    units: list[dict] = []
    groups: dict[str, GraphGroup] = {}
    index_of: dict[tuple[str | None, str], int] = {}  # (parent, layer name) -> unit index
    members: dict[str, list[str]] = defaultdict(list)  # nested model -> its layer names
    by_key = {(layer.parent, layer.name): layer for layer in structure.layers}
    nested = {
        layer.name
        for layer in structure.layers
        if any(other.parent == layer.name for other in structure.layers)
    }
    nested_layer = {layer.name: layer for layer in structure.layers if layer.name in nested}
    path_of: dict[str | None, tuple[str, ...]] = {None: ()}
    for layer in structure.layers:
        if layer.parent is not None:
            members[layer.parent].append(layer.name)
        if layer.name in nested:
            path_of[layer.name] = (*path_of.get(layer.parent, ()), layer.name)
            groups[layer.name] = GraphGroup(layer.name, layer.name, "model", layer.parent)
            continue
        if layer.parent is not None and layer.class_name == "InputLayer":
            continue  # a nested model's input is its caller's tensor (as in model_graph)
        index_of[(layer.parent, layer.name)] = len(units)
        units.append(
            {
                "name": layer.name,
                "class_name": layer.class_name,
                "output_shape": layer.input_shape,  # only an input's shape is in the file
                "num_params": layer.num_params or 0,
                "macs": None,
                "path": path_of.get(layer.parent, ()),
                "layer_path": (*path_of.get(layer.parent, ()), layer.name),
                "attributes": _structure_attributes(layer),
            }
        )

    def fed_inside(model: str) -> set[str]:
        return {name for name in members[model] for name in by_key[(model, name)].inbound}

    def producers(parent: str | None, name: str, index: int | None = None) -> list[int]:
        """The units whose output a layer named ``name`` (in ``parent``) passes on as its
        output ``index`` (None: every output)."""
        if name in nested and (parent, name) in by_key:
            outputs = by_key[(parent, name)].model_outputs
            if index is not None and 0 <= index < len(outputs):
                return producers(name, *outputs[index])
            used = fed_inside(name)
            sinks = [n for n in members[name] if n not in used] or members[name][-1:]
            return [i for n in sinks for i in producers(name, n)]
        found = index_of.get((parent, name))
        if found is None and parent is not None and (parent, name) in by_key:
            return caller_producers(parent, name)  # a nested model's input: what its caller passes
        return [] if found is None else [found]

    def caller_producers(model: str, input_name: str | None = None) -> list[int]:
        """What the call of nested ``model`` passes to its input ``input_name`` (None, or a
        call the file does not line up with the inputs: everything it passes)."""
        caller = nested_layer[model]
        tensors = caller.inbound_tensors
        if input_name in caller.model_inputs and len(tensors) == len(caller.model_inputs):
            return producers(caller.parent, *tensors[caller.model_inputs.index(input_name)])
        return [i for outer, index in tensors for i in producers(caller.parent, outer, index)]

    edges: dict[tuple[int, int], None] = {}
    for layer in structure.layers:
        target = index_of.get((layer.parent, layer.name))
        if target is None:
            continue  # a nested model, or a nested model's input
        if layer.inbound:
            sources = [
                i
                for name, index in layer.inbound_tensors
                for i in producers(layer.parent, name, index)
            ]
        elif layer.parent is not None:  # a nested Sequential's first layer records none
            sources = caller_producers(layer.parent)
        else:
            sources = []
        for source in sources:
            if source != target:
                edges[(source, target)] = None

    return _with_blocks(structure.name, units, [(s, t, ()) for s, t in edges], groups)


def _structure_attributes(layer: Any) -> tuple[tuple[str, str], ...]:
    import json

    try:
        config = json.loads(layer.config) if layer.config else {}
    except ValueError:  # a config cut at io.structure.MAX_CONFIG_CHARS
        config = {}
    return key_attributes(layer.class_name, config) if isinstance(config, dict) else ()


def _find_name_blocks(
    units: list[dict], paths: list[list[str]], children: dict, groups: dict
) -> None:
    """Adds numbered-name blocks inside each graph level (the top model, each nested model)."""
    levels: dict[tuple[str, ...], list[int]] = {}
    for i, unit in enumerate(units):
        levels.setdefault(tuple(unit["path"]), []).append(i)
    for level, members in levels.items():
        parent = level[-1] if level else None
        prefix = (parent + "/") if parent else ""
        keyed: dict[str, set[int]] = {}
        order: list[str] = []
        for i in members:
            unit = units[i]
            if unit["class_name"] == "InputLayer":
                continue
            keys = _name_keys(unit["layer_path"][-1], unit["class_name"])
            suffix = _suffix_key(unit["layer_path"][-1], unit["class_name"])
            if not keys and suffix is not None:
                keys = [f"*_{suffix}"]
            for key in keys:
                if key not in keyed:
                    keyed[key] = set()
                    order.append(key)
                keyed[key].add(i)
        # A layer named exactly like a block (ResNet's ``conv1`` stem has ``conv1_conv``, ...;
        # MobileNet's ``Conv_1`` has ``Conv_1_bn``) belongs to it.
        for i in members:
            name = units[i]["layer_path"][-1]
            if name in keyed:
                keyed[name].add(i)
        accepted: list[tuple[str, set[int]]] = []
        for key in order:
            group_members = keyed[key]
            if len(group_members) < 2 or not _is_convex(group_members, children):
                continue
            if any(group_members == other for _, other in accepted):
                continue  # the same layers under a longer name: keep the outer block only
            accepted.append((key, group_members))
        # Parents first (bigger sets), so each block's parent is the smallest accepted superset.
        accepted.sort(key=lambda item: -len(item[1]))
        for position, (key, group_members) in enumerate(accepted):
            group_id = prefix + key
            enclosing = [
                prefix + other
                for other, other_members in accepted[:position]
                if group_members < other_members
            ]
            label = (
                block_label(key[2:], (units[i]["class_name"] for i in sorted(group_members)))
                if key.startswith("*_")
                else key
            )
            groups[group_id] = GraphGroup(
                group_id, label, "block", enclosing[-1] if enclosing else parent
            )
            for i in group_members:
                # Insert after the enclosing block (paths stay outermost-first).
                path = paths[i]
                spot = path.index(enclosing[-1]) + 1 if enclosing else len(level)
                path.insert(spot, group_id)


def default_expanded(graph: ModelGraph, max_nodes: int = MAX_VISIBLE_NODES) -> tuple[str, ...]:
    """The blocks to open so the graph shows as much detail as fits in ``max_nodes`` nodes:
    every block of one nesting depth at a time, outermost first."""
    expanded: tuple[str, ...] = ()
    depths = sorted({graph.depth_of(group.id) for group in graph.groups})
    for depth in depths:
        trial = expanded + tuple(g.id for g in graph.groups if graph.depth_of(g.id) == depth)
        if len(set(_visible(graph, set(trial)))) > max_nodes:
            break
        expanded = trial
    return expanded


def _visible(graph: ModelGraph, expanded: set[str]) -> list[str | int]:
    """Each unit's visible node: itself, or its outermost collapsed block."""
    keys: list[str | int] = []
    for unit in graph.units:
        key: str | int = unit.index
        for group_id in unit.path:
            if group_id not in expanded:
                key = group_id
                break
        keys.append(key)
    return keys


def layout_graph(graph: ModelGraph, expanded: Iterable[str] | None = None) -> GraphInfo:
    """Collapses the closed blocks and lays the graph out in columns (pure Python, fast).

    A node's column is the length of the longest path from an input, so every edge points right;
    rows within a column follow the mean row of each node's parents (the barycentre heuristic),
    which keeps branches such as ResNet's skip connections beside their main path.

    Args:
        graph: from :func:`model_graph`.
        expanded: ids of the blocks to draw open; None opens every block.
    """
    open_ids = {g.id for g in graph.groups} if expanded is None else set(expanded)
    # A block inside a closed block is hidden whatever its own state.
    keys = _visible(graph, open_ids)
    order: list[str | int] = list(dict.fromkeys(keys))
    position = {key: i for i, key in enumerate(order)}
    members: dict[str | int, list[GraphUnit]] = {}
    for unit, key in zip(graph.units, keys, strict=True):
        members.setdefault(key, []).append(unit)
    edge_set: dict[tuple[int, int], tuple] = {}
    for edge in graph.edges:
        source, target = position[keys[edge.source]], position[keys[edge.target]]
        if source != target:
            edge_set.setdefault((source, target), edge.shape)
    parents: dict[int, list[int]] = {i: [] for i in range(len(order))}
    children: dict[int, list[int]] = {i: [] for i in range(len(order))}
    for source, target in edge_set:
        parents[target].append(source)
        children[source].append(target)
    column: dict[int, int] = {}
    for i in _topological(len(order), parents, children):
        column[i] = 1 + max((column[p] for p in parents[i]), default=-1)
    rows: dict[int, float] = {}
    by_column: dict[int, list[int]] = {}
    for i in sorted(range(len(order)), key=lambda i: (column[i], i)):
        by_column.setdefault(column[i], []).append(i)
    for col in sorted(by_column):
        nodes_here = by_column[col]
        nodes_here.sort(
            key=lambda i: (
                (sum(rows[p] for p in parents[i]) / len(parents[i])) if parents[i] else 0.0
            )
        )
        offset = (len(nodes_here) - 1) / 2
        for rank, i in enumerate(nodes_here):
            rows[i] = rank - offset
    nodes = []
    for i, key in enumerate(order):
        units = members[key]
        if isinstance(key, int):
            unit = units[0]
            nodes.append(
                GraphNode(
                    index=i,
                    name=unit.name,
                    class_name=unit.class_name,
                    output_shape=unit.output_shape,
                    num_params=unit.num_params,
                    macs=unit.macs,
                    column=column[i],
                    row=rows[i],
                    layer_path=unit.layer_path,
                    attributes=unit.attributes,
                )
            )
            continue
        group = graph.group(key)
        inside = {unit.index for unit in units}
        outgoing = {
            edge.source
            for edge in graph.edges
            if edge.source in inside and edge.target not in inside
        }
        exits = [unit for unit in units if unit.index in outgoing] or [units[-1]]
        nodes.append(
            GraphNode(
                index=i,
                name=group.label,
                class_name="Model" if group.kind == "model" else "Block",
                output_shape=exits[-1].output_shape
                if len(exits) == 1
                else tuple(unit.output_shape for unit in exits),
                num_params=sum(unit.num_params for unit in units),
                macs=None
                if any(unit.macs is None for unit in units)
                else sum(unit.macs for unit in units),
                column=column[i],
                row=rows[i],
                group=key,
                num_layers=len(units),
            )
        )
    edges = tuple(GraphEdge(s, t, shape) for (s, t), shape in edge_set.items())
    shown = {unit_group for unit in graph.units for unit_group in unit.path}
    return GraphInfo(
        name=graph.name,
        nodes=tuple(nodes),
        edges=edges,
        num_columns=1 + max(column.values(), default=0),
        expanded=tuple(g.id for g in graph.groups if g.id in open_ids and g.id in shown),
        collapsed=tuple(key for key in order if isinstance(key, str)),
    )


def _topological(count: int, parents: dict, children: dict) -> list[int]:
    """Kahn's order, stable by first appearance (the walk's order is already nearly sorted)."""
    pending = {i: len(parents[i]) for i in range(count)}
    ready = [i for i in range(count) if pending[i] == 0]
    order: list[int] = []
    import heapq

    heapq.heapify(ready)
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for child in children[i]:
            pending[child] -= 1
            if pending[child] == 0:
                heapq.heappush(ready, child)
    if len(order) != count:  # a cycle cannot come from a model; keep every node anyway
        order += [i for i in range(count) if i not in set(order)]
    return order


# --- One layer, in detail ------------------------------------------------------------------------

DEFAULT_HISTOGRAM_BINS = 50


@dataclass(frozen=True)
class WeightStats:
    """One weight tensor of a layer: its size, its statistics and a histogram of its values."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    trainable: bool
    count: int
    mean: float
    std: float
    min: float
    max: float
    norm: float
    zeros_fraction: float
    histogram_counts: tuple[int, ...]
    histogram_edges: tuple[float, ...]


@dataclass(frozen=True)
class LayerDetails:
    name: str
    class_name: str
    layer_path: tuple[str, ...]
    config: str  # the layer's get_config() as indented JSON
    num_params: int
    weights: tuple[WeightStats, ...]


def find_layer(model: Any, layer_path: Sequence[str] | str) -> Any:
    """The layer at ``layer_path`` (names from the top model down, or one name).

    Raises:
        InputError: no such layer, with the names that exist at the level where the search stopped.
    """
    from neurogenesis.errors import InputError

    parts = [layer_path] if isinstance(layer_path, str) else list(layer_path)
    current = model
    for depth, part in enumerate(parts):
        part = part.split("#")[0]  # "shared#2" is a second call of "shared"
        layers = {layer.name: layer for layer in getattr(current, "layers", [])}
        if part not in layers:
            where = "/".join(parts[:depth]) or model.name
            known = ", ".join(list(layers)[:12]) + (", ..." if len(layers) > 12 else "")
            raise InputError(f"Expected a layer of {where!r}. Received: {part!r}. It has: {known}.")
        current = layers[part]
    return current


def layer_details(
    model: Any, layer_path: Sequence[str] | str, *, bins: int = DEFAULT_HISTOGRAM_BINS
) -> LayerDetails:
    """A layer's configuration, and statistics and a histogram of each of its weight tensors.

    Args:
        model: a built Keras model.
        layer_path: the layer's name, or names from the top model down for a nested layer
            (``GraphNode.layer_path``).
        bins: histogram bins per weight tensor.

    Raises:
        InputError: no such layer.
    """
    import json

    import numpy as np

    layer = find_layer(model, layer_path)
    try:
        config = layer.get_config()
    except Exception as error:  # a layer may not implement it; say so rather than fail
        config = {"unavailable": f"{type(error).__name__}: {error}"}
    trainable = {id(weight) for weight in layer.trainable_weights}
    stats = []
    for weight in layer.weights:
        values = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight)
        flat = values.astype("float64").ravel()
        finite = flat[np.isfinite(flat)]
        if finite.size:
            counts, edges = np.histogram(finite, bins=bins)
        else:
            counts, edges = np.zeros(0, int), np.zeros(0)
        stats.append(
            WeightStats(
                name=getattr(weight, "path", None) or weight.name,
                shape=tuple(int(dim) for dim in values.shape),
                dtype=str(values.dtype),
                trainable=id(weight) in trainable,
                count=int(flat.size),
                mean=float(finite.mean()) if finite.size else float("nan"),
                std=float(finite.std()) if finite.size else float("nan"),
                min=float(finite.min()) if finite.size else float("nan"),
                max=float(finite.max()) if finite.size else float("nan"),
                norm=float(np.linalg.norm(finite)),
                zeros_fraction=float(np.mean(flat == 0)) if flat.size else 0.0,
                histogram_counts=tuple(int(c) for c in counts),
                histogram_edges=tuple(float(e) for e in edges),
            )
        )
    names = [layer_path] if isinstance(layer_path, str) else list(layer_path)
    return LayerDetails(
        name=layer.name,
        class_name=type(layer).__name__,
        layer_path=tuple(names),
        config=json.dumps(config, indent=2, default=repr, sort_keys=False),
        num_params=_count(layer.weights),
        weights=tuple(stats),
    )

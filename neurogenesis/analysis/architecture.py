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
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["LayerInfo", "ArchitectureInfo", "architecture_summary", "supports"]


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


def supports(model: Any) -> bool:
    """Every built Keras model can be summarised."""
    return bool(getattr(model, "built", False))


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


def _graph(model: Any) -> Any:
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
    graph = _graph(model)
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
    has_graph = _graph(model) is not None
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


@dataclass(frozen=True)
class GraphNode:
    """One call of one layer, placed on a layered (left-to-right) layout."""

    index: int
    name: str
    class_name: str
    output_shape: tuple
    num_params: int
    macs: int
    column: int
    row: float


@dataclass(frozen=True)
class GraphEdge:
    """A tensor flowing from one node to another, with its shape."""

    source: int
    target: int
    shape: tuple


@dataclass(frozen=True)
class GraphInfo:
    name: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    num_columns: int


def graph_info(model: Any) -> GraphInfo:
    """The model's real topology as a layered graph: a column per depth, rows ordered to untangle.

    Every call of every layer is a node (a shared layer appears once per call, named ``name#2``,
    ...); edges carry the shape of the tensor they pass. A node's column is the length of the
    longest path from an input, so every edge points right; rows within a column follow the mean
    row of each node's parents (the barycentre heuristic), which keeps branches such as ResNet's
    skip connections beside their main path.

    Raises:
        UnsupportedModelError: a model without a graph (a subclassed model that was never built
            from ``keras.Input``).
    """
    from neurogenesis.errors import UnsupportedModelError

    graph = _graph(model)
    if graph is None:
        raise UnsupportedModelError(
            f"'{model.name}' is a subclassed model without a functional graph, so its layers' "
            "connections are unknown; the layer table still lists its layers."
        )
    depths = graph._nodes_by_depth
    all_nodes = [node for depth in sorted(depths, reverse=True) for node in depths[depth]]
    index = {id(node): i for i, node in enumerate(all_nodes)}
    parents = {
        i: [index[id(parent)] for parent in node.parent_nodes if id(parent) in index]
        for i, node in enumerate(all_nodes)
    }
    column: dict[int, int] = {}
    for i in range(len(all_nodes)):  # deepest first: parents are always placed before children
        column[i] = 1 + max((column[p] for p in parents[i]), default=-1)
    calls: dict[str, int] = {}
    rows: dict[int, float] = {}
    by_column: dict[int, list[int]] = {}
    for i in sorted(range(len(all_nodes)), key=lambda i: column[i]):
        by_column.setdefault(column[i], []).append(i)
    for col in sorted(by_column):
        members = by_column[col]
        members.sort(
            key=lambda i: (
                (sum(rows[p] for p in parents[i]) / len(parents[i])) if parents[i] else 0.0
            )
        )
        offset = (len(members) - 1) / 2
        for rank, i in enumerate(members):
            rows[i] = rank - offset
    nodes, edges = [], []
    for i, node in enumerate(all_nodes):
        layer = node.operation
        calls[layer.name] = calls.get(layer.name, 0) + 1
        name = layer.name if calls[layer.name] == 1 else f"{layer.name}#{calls[layer.name]}"
        out_shapes = _node_shapes(node.output_tensors)
        in_shapes = _node_shapes(node.input_tensors)
        nodes.append(
            GraphNode(
                index=i,
                name=name,
                class_name=type(layer).__name__,
                output_shape=_shape_tuple(out_shapes[0])
                if len(out_shapes) == 1
                else tuple(_shape_tuple(s) for s in out_shapes),
                num_params=_count(getattr(layer, "weights", [])) if calls[layer.name] == 1 else 0,
                macs=0 if node.is_input else layer_macs(layer, in_shapes, out_shapes),
                column=column[i],
                row=rows[i],
            )
        )
        for parent in node.parent_nodes:
            if id(parent) in index:
                shapes = _node_shapes(parent.output_tensors)
                edges.append(
                    GraphEdge(index[id(parent)], i, _shape_tuple(shapes[0]) if shapes else ())
                )
    return GraphInfo(model.name, tuple(nodes), tuple(edges), 1 + max(column.values(), default=0))

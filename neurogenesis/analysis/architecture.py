"""Architecture facts: per-layer class, output shape and parameters of any Keras model.

``architecture_summary(model) -> ArchitectureInfo`` is the compute step of every architecture view
and of ``neurogenesis inspect``. Multiply-accumulates (``macs``) are ``None`` until the complexity
analysis fills them in.
"""

from __future__ import annotations

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


def architecture_summary(model: Any) -> ArchitectureInfo:
    """Per-layer facts of a built Keras model, as ``model.summary()`` shows them.

    Args:
        model: a built ``keras.Model`` (Sequential, functional or subclassed).

    Returns:
        The model's name, inputs and outputs, totals and one :class:`LayerInfo` per top-level layer
        (a nested model is one row; its inner layers belong to the architecture views).
    """
    layers = []
    for layer in model.layers:
        layers.append(
            LayerInfo(
                name=layer.name,
                class_name=type(layer).__name__,
                output_shape=_output_shape(layer),
                num_params=_count(layer.weights),
                num_trainable_params=_count(layer.trainable_weights),
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
        macs=None,
        layers=tuple(layers),
    )

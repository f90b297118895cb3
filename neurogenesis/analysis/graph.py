"""Rebuilt graphs: any Keras model as a functional graph whose inner layers can be tapped.

The features, attribution and embedding analyses all need what Keras does not give directly:

- the output of an inner layer next to the model's output, in one call, so a gradient can flow
  from the score to that layer (Grad-CAM) or the activations can be read (feature maps);
- the same for layers inside nested models (``encoder/conv_1``), which ``keras.Model(model.inputs,
  inner.output)`` refuses because the inner tensors belong to another graph;
- the same for ``Sequential`` models loaded from a file, where ``model.output`` raises Keras 3's
  "The layer sequential has never been called and thus has no defined output";
- the score before the last softmax (``score="logit"``), by rebuilding the last layer without its
  activation;
- a chosen layer's output fed in from outside (``replace=``), so text models can be attributed at
  their token embeddings.

:func:`tap_model` does all of it the same way: it re-runs the model's graph symbolically
(``Function._run_through_graph``, the method ``Functional.call`` itself uses), inlining every nested
functional or Sequential model, and records each layer call's output under its path. The new model
shares the user's layer objects (and so their weights) and is never trained or changed; anything
that changes weights (the sanity check) works on a clone first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurogenesis.analysis.architecture import functional_graph, shape_text
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError

__all__ = [
    "SCORES",
    "LayerEntry",
    "GraphLayers",
    "supports",
    "graph_layers",
    "tap_model",
    "call_tapped",
    "last_conv_layer",
    "model_input",
    "model_inputs",
    "feed",
    "take",
    "input_names",
    "output_names",
    "with_output",
    "predict",
    "score_activation",
    "PATH_SEPARATOR",
    "SCORES_SUFFIX",
    "capped_steps",
]

PATH_SEPARATOR = "/"
SCORES = ("probability", "logit")
# Activations the "logit" score removes from the last layer.
SQUASHING_ACTIVATIONS = ("softmax", "sigmoid", "log_softmax")
DEFAULT_BATCH_SIZE = 256
# A MultiHeadAttention call's scores are tapped as "<layer path>:attention_scores".
SCORES_SUFFIX = ":attention_scores"
# Caps iterative loops (activation maximization, sanity-check stages) in tests, as tf-keras-vis's
# TF_KERAS_VIS_MAX_STEPS does; unset for users.
MAX_STEPS_VARIABLE = "NEUROGENESIS_MAX_STEPS"


def capped_steps(steps: int) -> int:
    """``steps``, lowered to ``$NEUROGENESIS_MAX_STEPS`` when that is set (tests keep loops short)."""
    limit = os.environ.get(MAX_STEPS_VARIABLE)
    return max(1, min(int(steps), int(limit))) if limit else int(steps)


@dataclass(frozen=True, eq=False)
class LayerEntry(ValueEquality):
    """One layer call in the rebuilt graph.

    Attributes:
        path: the layer's name, prefixed by the names of the models it is nested in
            (``"encoder/conv_1"``); a second call of a shared layer gets ``"#2"``.
        class_name: the layer's class (``"Conv2D"``).
        output_shape: the call's output shape without the batch axis (first output only).
        spatial: the output is a feature map, ``(height, width, channels)`` (or ``(steps, channels)``
            for 1-D convolutions): the layers Grad-CAM and the feature-map view can use.
        convolution: the layer is a convolution (has a ``kernel`` of rank 3 or more).
    """

    path: str
    class_name: str
    output_shape: tuple
    spatial: bool
    convolution: bool

    @property
    def shape_text(self) -> str:
        return shape_text((None, *self.output_shape))


@dataclass(frozen=True, eq=False)
class GraphLayers(ValueEquality):
    """Every layer call of a model in execution order, and what the model takes and returns."""

    layers: tuple[LayerEntry, ...]
    input_shapes: tuple[tuple, ...]
    input_dtypes: tuple[str, ...]
    output_shape: tuple
    output_activation: str | None  # the activation of the layer that makes the first output

    def paths(self, *, spatial: bool | None = None, convolution: bool | None = None) -> list[str]:
        return [
            entry.path
            for entry in self.layers
            if (spatial is None or entry.spatial == spatial)
            and (convolution is None or entry.convolution == convolution)
        ]

    def entry(self, path: str) -> LayerEntry:
        for entry in self.layers:
            if entry.path == path:
                return entry
        known = ", ".join(e.path for e in self.layers[:12]) + (
            ", ..." if len(self.layers) > 12 else ""
        )
        raise InputError(f"Expected a layer of the model. Received: {path!r}. It has: {known}.")


def supports(model: Any) -> bool:
    """True when the model has a graph to rebuild (functional, or Sequential with known input)."""
    return functional_graph(model) is not None


def _require_graph(model: Any) -> Any:
    graph = functional_graph(model)
    if graph is None:
        raise UnsupportedModelError(
            f"'{getattr(model, 'name', model)}' is a subclassed model without a functional graph, so its "
            "inner layers cannot be reached. Build it with the functional API or as a Sequential "
            "model with an Input, or call it once on data and save it again."
        )
    return graph


def _is_graph_model(operation: Any) -> bool:
    import keras

    return isinstance(operation, keras.Model) and functional_graph(operation) is not None


def _activation_name(layer: Any) -> str | None:
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    if name is None and activation is not None:
        name = str(activation)
    if type(layer).__name__ == "Softmax":
        return "softmax"
    return name


def _output_operation(model: Any) -> tuple[str, Any]:
    """The path and layer that compute the model's first output (looking into nested models)."""
    graph = _require_graph(model)
    prefix = ""
    tensor = graph.outputs[0]
    while True:
        operation, _, index = tensor._keras_history
        if _is_graph_model(operation):
            inner = functional_graph(operation)
            prefix += operation.name + PATH_SEPARATOR
            tensor = inner.outputs[index]
            continue
        return prefix + operation.name, operation


def score_activation(model: Any) -> str | None:
    """The activation applied by the layer that makes the model's output (``"softmax"``, ...)."""
    _, operation = _output_operation(model)
    return _activation_name(operation)


def _without_activation(layer: Any):
    """A callable computing ``layer`` without its squashing activation (same weights)."""
    name = _activation_name(layer)
    if name not in SQUASHING_ACTIVATIONS:
        return layer
    if type(layer).__name__ in ("Activation", "Softmax"):
        return lambda inputs, *args, **kwargs: inputs
    config = layer.get_config()
    config["activation"] = "linear"
    config["name"] = layer.name + "_logit"
    clone = type(layer).from_config(config)
    input_shape = getattr(layer, "_build_shapes_dict", None) or {}
    shape = next(iter(input_shape.values()), None)

    def share(built) -> None:
        # The clone reads the layer's own variables (not copies), so weights loaded or randomized
        # into the layer later are what the logit graph computes with.
        import keras

        for attribute, value in list(vars(built).items()):
            source = getattr(layer, attribute, None)
            if (
                isinstance(value, keras.Variable)
                and isinstance(source, keras.Variable)
                and tuple(source.shape) == tuple(value.shape)
            ):
                object.__setattr__(built, attribute, source)

    if shape is not None:
        clone.build(tuple(shape))
        share(clone)
        return clone

    def call(inputs, *args, **kwargs):
        clone.build(tuple(inputs.shape))
        share(clone)
        return clone(inputs)

    return call


def _with_scores(layer: Any):
    """A one-call layer returning ``layer``'s output and attention scores.

    Calling the user's MultiHeadAttention itself with ``return_attention_scores=True`` would give
    it a second call with two outputs, which Keras's graph check (``op.output`` of the first call)
    refuses; a fresh wrapper has one call with both.
    """
    import keras

    class AttentionWithScores(keras.layers.Layer):
        def __init__(self, inner):
            super().__init__(name=inner.name + "_with_scores")
            self.inner = inner

        def call(self, *args, **kwargs):
            kwargs["return_attention_scores"] = True
            return self.inner(*args, **kwargs)

    return AttentionWithScores(layer)


def _model_inputs(model: Any) -> list[Any]:
    import keras

    graph = _require_graph(model)
    return [
        keras.Input(batch_shape=tuple(tensor.shape), dtype=tensor.dtype, name=tensor.name)
        for tensor in graph.inputs
    ]


def _run(
    model: Any, inputs: list[Any], replace: str | None, replacement: Any, logit_path: str | None
):
    """Runs ``model``'s graph on symbolic ``inputs``; returns (outputs, {path: output}, order)."""
    import keras

    recorded: dict[str, Any] = {}
    order: list[tuple[str, Any]] = []

    def operation_fn(prefix: str):
        def wrap(operation):
            base = prefix + operation.name

            def call(*args, **kwargs):
                if _is_graph_model(operation):
                    inner = functional_graph(operation)
                    flat = keras.tree.flatten((args, kwargs.get("inputs")))
                    flat = [t for t in flat if t is not None]
                    outputs = inner._run_through_graph(
                        flat[: len(inner.inputs)], operation_fn=operation_fn(base + PATH_SEPARATOR)
                    )
                    outputs = keras.tree.flatten(outputs)
                    outputs = outputs[0] if len(outputs) == 1 else outputs
                else:
                    path = base
                    count = 2
                    while path in recorded:
                        path = f"{base}#{count}"
                        count += 1
                    if replace is not None and path == replace:
                        outputs = replacement
                    elif logit_path is not None and path == logit_path:
                        outputs = _without_activation(operation)(*args, **kwargs)
                    elif isinstance(operation, keras.layers.MultiHeadAttention):
                        # Ask the layer itself for its scores, so they are exactly what
                        # return_attention_scores=True gives; the output is unchanged.
                        asked = bool(kwargs.get("return_attention_scores"))
                        result = _with_scores(operation)(*args, **kwargs)
                        recorded[path + SCORES_SUFFIX] = result[1]
                        outputs = result if asked else result[0]
                    else:
                        outputs = operation(*args, **kwargs)
                    recorded[path] = outputs
                    order.append((path, operation))
                return outputs

            return call

        return wrap

    graph = _require_graph(model)
    outputs = keras.tree.flatten(graph._run_through_graph(inputs, operation_fn=operation_fn("")))
    return outputs, recorded, order


def graph_layers(model: Any) -> GraphLayers:
    """Every layer call of ``model`` (nested models inlined) with output shapes, in order."""
    inputs = _model_inputs(model)
    outputs, recorded, order = _run(model, inputs, None, None, None)
    entries = []
    for path, operation in order:
        value = recorded[path]
        first = value[0] if isinstance(value, (list, tuple)) else value
        shape = tuple(first.shape[1:]) if hasattr(first, "shape") else ()
        kernel = getattr(operation, "kernel", None)
        if kernel is None:  # SeparableConv and DepthwiseConv keep a depthwise kernel instead
            kernel = getattr(operation, "depthwise_kernel", None)
        convolution = (
            kernel is not None and len(kernel.shape) >= 3 and "Conv" in type(operation).__name__
        )
        spatial = len(shape) == 3 or (convolution and len(shape) == 2)
        entries.append(LayerEntry(path, type(operation).__name__, shape, spatial, convolution))
    first_output = outputs[0]
    return GraphLayers(
        layers=tuple(entries),
        input_shapes=tuple(tuple(t.shape[1:]) for t in inputs),
        input_dtypes=tuple(str(t.dtype) for t in inputs),
        output_shape=tuple(first_output.shape[1:]),
        output_activation=score_activation(model),
    )


def tap_model(
    model: Any,
    taps: Sequence[str] = (),
    *,
    score: str = "probability",
    replace: str | None = None,
) -> Any:
    """A functional model returning ``[output, *tap outputs]`` for ``model``'s inputs.

    Args:
        model: a functional or Sequential model (nested models are inlined; the user's layers are
            shared, not copied).
        taps: layer paths (see :func:`graph_layers`) whose outputs to return after the output.
        score: ``"probability"`` returns the model's first output as it is; ``"logit"`` rebuilds
            the layer that makes it without its softmax/sigmoid, so the output is the pre-activation.
        replace: a layer path whose output is fed in as an extra, last input instead of computed
            (the token embedding of a text model, for attribution in embedding space).

    Returns:
        A ``keras.Model``; call it with :func:`call_tapped` (inference mode, always a list).

    Raises:
        InputError: an unknown tap or score.
        UnsupportedModelError: the model has no graph.
    """
    import keras

    if score not in SCORES:
        raise InputError(f"Expected a score in {SCORES}. Received: {score!r}.")
    inputs = _model_inputs(model)
    logit_path = _output_operation(model)[0] if score == "logit" else None
    replacement = None
    if replace is not None:
        # A first, plain pass tells the shape of the replaced layer's output.
        _, recorded, _ = _run(model, _model_inputs(model), None, None, None)
        if replace not in recorded:
            raise InputError(f"Expected a layer to replace. Received: {replace!r}.")
        reference = recorded[replace]
        replacement = keras.Input(
            batch_shape=tuple(reference.shape),
            dtype=reference.dtype,
            name="replaced_" + replace.replace("/", "_"),
        )
    outputs, recorded, _ = _run(model, inputs, replace, replacement, logit_path)
    missing = [path for path in taps if path not in recorded]
    if missing:
        known = ", ".join(list(recorded)[:12]) + (", ..." if len(recorded) > 12 else "")
        raise InputError(f"Expected layers of the model. Received: {missing}. It has: {known}.")
    tapped = [recorded[path] for path in taps]
    tapped = [t[0] if isinstance(t, (list, tuple)) else t for t in tapped]
    model_inputs = inputs + ([replacement] if replacement is not None else [])
    return keras.Model(
        model_inputs[0] if len(model_inputs) == 1 else model_inputs,
        [outputs[0], *tapped],
        name=f"{model.name}_tapped",
    )


def call_tapped(tapped: Any, *inputs: Any) -> list[Any]:
    """Calls a :func:`tap_model` model in inference mode; always returns ``[output, *taps]``."""
    result = tapped(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
    return list(result) if isinstance(result, (list, tuple)) else [result]


def last_conv_layer(model: Any, layers: GraphLayers | None = None) -> str | None:
    """The last layer whose output is a feature map made by a convolution (Grad-CAM's default).

    Prefers the convolution's activation/normalization that follows it while the output stays a
    feature map of the same shape (Grad-CAM papers use the last convolutional *block* output); falls
    back to any spatial layer when the model has no convolution.
    """
    layers = layers or graph_layers(model)
    entries = list(layers.layers)
    last = None
    for index, entry in enumerate(entries):
        if entry.convolution and entry.spatial:
            last = index
    if last is None:
        spatial = [entry.path for entry in entries if entry.spatial]
        return spatial[-1] if spatial else None
    chosen = last
    # Follow the conv's own BatchNormalization/Activation (same shape) so the map is post-ReLU.
    for index in range(last + 1, len(entries)):
        entry = entries[index]
        if entry.output_shape != entries[last].output_shape or entry.class_name not in (
            "BatchNormalization",
            "Activation",
            "ReLU",
            "LeakyReLU",
            "ELU",
            "PReLU",
            "LayerNormalization",
            "GroupNormalization",
        ):
            break
        chosen = index
    return entries[chosen].path


def input_names(model: Any) -> list[str]:
    """The names of the model's inputs, in the order of ``model.inputs`` (Keras's flattened
    order: a KerasHub backbone's dict of inputs sorted by key)."""
    return [str(tensor.name) for tensor in _require_graph(model).inputs]


def output_names(model: Any) -> list[str]:
    """One name per output of the model, in the order of ``model.outputs``: the keys of a dict
    of outputs (``pooled_output``, ``sequence_output``), else the name of the layer that makes
    each one."""
    import keras

    graph = _require_graph(model)
    struct = getattr(graph, "_outputs_struct", None)
    if isinstance(struct, dict):
        paths = [path for path, _ in keras.tree.flatten_with_path(struct)]
        if len(paths) == len(graph.outputs):
            return ["/".join(str(part) for part in path) for path in paths]
    names = []
    for tensor in graph.outputs:
        history = getattr(tensor, "_keras_history", None)
        name = history[0].name if history is not None else str(tensor.name)
        names.append(name if name not in names else f"{name}#{len(names) + 1}")
    return names


def with_output(model: Any, name: str | None) -> Any:
    """``model`` answering only its output ``name`` (see :func:`output_names`): a functional
    model over the same inputs and the same layer objects (weights shared, nothing copied), so
    every analysis that reads "the model's output" reads the chosen one. ``None``, or a model
    with one output, gives the model itself.

    Raises:
        InputError: ``name`` is not one of the model's outputs.
    """
    import keras

    if name is None or name == "":
        return model
    names = output_names(model)
    if name not in names:
        raise InputError(f"Expected one of the model's outputs {names}. Received: {name!r}.")
    if len(names) == 1:
        return model
    graph = _require_graph(model)
    struct = getattr(graph, "_inputs_struct", None)
    inputs = (
        keras.tree.pack_sequence_as(struct, graph.inputs) if struct is not None else graph.inputs
    )
    chosen = keras.Model(inputs, graph.outputs[names.index(name)], name=model.name)
    chosen.output_name_chosen = name
    return chosen


def _checked_input(tensor: Any, x: Any, label: str = "samples") -> np.ndarray:
    """One input array in the dtype its model input declares, after checking its shape."""
    dtype = str(tensor.dtype)
    x = np.asarray(x)
    if x.dtype.kind == "U":
        raise InputError(
            f"The {label} hold raw text; the model expects numbers (token ids). Tokenize the "
            "text first (a .npz with the token ids), or use a task model saved with its "
            "preprocessor."
        )
    if x.dtype.names is not None:
        raise InputError(
            f"The {label} hold several inputs ({', '.join(x.dtype.names)}); this model takes one."
        )
    expected = tuple(tensor.shape[1:])
    if len(expected) != x.ndim - 1 or any(
        e is not None and e != s for e, s in zip(expected, x.shape[1:], strict=True)
    ):
        raise InputError(
            f"The {label} have shape {shape_text((None, *x.shape[1:]))}; the model expects "
            f"{shape_text((None, *expected))}. Choose the sample set made for this model."
        )
    return x.astype(dtype, copy=False)


def model_inputs(model: Any, x: Any) -> list[np.ndarray]:
    """The samples as one array per model input, in the order of ``model.inputs``, each in the
    dtype its input declares.

    ``x`` is one array (a one-input model), a packed set of several inputs
    (``io.samples.pack_inputs``) or a dict of arrays, matched to the inputs by name, or a list
    in the model's input order.

    Raises:
        InputError: an input is missing, an array has the wrong shape, or the arrays have
            different numbers of samples.
    """
    from neurogenesis.io.samples import input_arrays

    tensors = list(_require_graph(model).inputs)
    names = [str(tensor.name) for tensor in tensors]
    if isinstance(x, (list, tuple)):
        if len(x) != len(tensors):
            raise InputError(
                f"The model takes {len(tensors)} inputs ({', '.join(names)}); expected as many "
                f"arrays. Received: {len(x)}."
            )
        arrays = dict(zip(names, x, strict=True))
    elif isinstance(x, dict):
        arrays = dict(x)
    else:
        arrays = input_arrays(x)
        if arrays is None:
            if len(tensors) == 1:
                return [_checked_input(tensors[0], x)]
            raise InputError(
                f"This model takes {len(tensors)} inputs ({', '.join(names)}), and the samples "
                f"are one array. Choose a .npz whose arrays are named {', '.join(names)} "
                "(plus 'y' for labels)."
            )
    if len(tensors) == 1 and len(arrays) == 1:
        return [_checked_input(tensors[0], next(iter(arrays.values())))]
    missing = [name for name in names if name not in arrays]
    if missing:
        raise InputError(
            f"This model takes the inputs {', '.join(names)}; the samples have "
            f"{', '.join(arrays) or 'none'} (missing {', '.join(missing)}). Name the .npz "
            "arrays after the model's inputs."
        )
    result = [
        _checked_input(tensor, arrays[name], f"samples' '{name}'")
        for tensor, name in zip(tensors, names, strict=True)
    ]
    if len({len(array) for array in result}) != 1:
        raise InputError(
            f"Expected as many samples in every input. Received: {[len(a) for a in result]}."
        )
    return result


def model_input(model: Any, x: np.ndarray) -> np.ndarray:
    """``x`` in the dtype the model's input declares (uint8 images become float32), for an
    analysis that feeds one array (see :func:`model_inputs` for models of several inputs).

    Raises:
        InputError: the samples do not have the shape the model takes, are raw text, or the
            model takes several inputs.
    """
    arrays = model_inputs(model, x)
    if len(arrays) != 1:
        raise InputError(
            f"This view feeds the model one input array, and this model takes {len(arrays)} "
            f"({', '.join(input_names(model))})."
        )
    return arrays[0]


def feed(model: Any, arrays: Sequence[np.ndarray]) -> Any:
    """The arrays of :func:`model_inputs` in the structure ``model(...)`` takes (a KerasHub
    backbone's dict, a list, or the one array)."""
    import keras

    arrays = list(arrays)
    if len(arrays) == 1:
        return arrays[0]
    struct = getattr(_require_graph(model), "_inputs_struct", None)
    if struct is None:
        return arrays
    return keras.tree.pack_sequence_as(struct, arrays)


def take(arrays: Sequence[np.ndarray], index: Any) -> list[np.ndarray]:
    """The same samples (an index, slice or index array) of every input array."""
    return [array[index] for array in arrays]


def predict(model: Any, x: Any, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """The model's first output for ``x`` (any of :func:`model_inputs`'s forms), in batches,
    inference mode, as float64."""
    arrays = model_inputs(model, x)
    chunks = []
    for start in range(0, len(arrays[0]), batch_size):
        batch = take(arrays, slice(start, start + batch_size))
        output = model(feed(model, batch), training=False)
        if isinstance(output, dict):
            import keras

            output = keras.tree.flatten(output)
        if isinstance(output, (list, tuple)):
            output = output[0]
        chunks.append(np.asarray(output, dtype=np.float64))
    return np.concatenate(chunks) if chunks else np.zeros((0,))


class _RetracingFilter(logging.Filter):
    """Drops TensorFlow's retracing warning for the project's own compiled functions: every tapped
    model and every landscape evaluator gets its own, so a trace per new model, layer, score or
    chunk size is expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(name in message for name in QUIET_RETRACING_FUNCTIONS)


QUIET_RETRACING_FUNCTIONS = ("_Scorer._function", "LandscapeEvaluator._function")
"""Qualified names of the project's functions whose retracing is expected."""


def quiet_retracing() -> None:
    """Silences TensorFlow's retracing warning for :data:`QUIET_RETRACING_FUNCTIONS` (idempotent)."""
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _RetracingFilter) for f in logger.filters):
        logger.addFilter(_RetracingFilter())

"""The layer-stack editor behind the Architecture page's "Build" view.

A sequential stack of editable layer specs (:data:`BUILDER_LAYERS`, :class:`LayerSpec`,
:func:`build_from_specs`) that is really built with Keras; a failure comes back as a
:class:`BuildError` that says which layer failed and why, in plain words. Editing is done with
pure functions on tuples of specs (:func:`add_layer`, :func:`remove_layer`, :func:`move_layer`,
:func:`update_layer`), :func:`specs_from_model` opens a plain chain of layers (a template, a
loaded model) in the editor, and :func:`parse_shape` reads a shape typed as text.

Pure computation (no streamlit, no plotly). Keras is imported on first use, so importing this
module (and reading the layer catalogue) stays cheap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from neurogenesis.analysis.architecture import (
    ArchitectureInfo,
    architecture_summary,
    functional_graph,
    snake_case,
)
from neurogenesis.errors import InputError

__all__ = [
    "ACTIVATIONS",
    "BUILDER_LAYERS",
    "BuildError",
    "BuildResult",
    "BuilderLayer",
    "LayerSpec",
    "ParameterSpec",
    "add_layer",
    "build_from_specs",
    "keras_message",
    "layer_spec",
    "move_layer",
    "parse_shape",
    "remove_layer",
    "specs_from_model",
    "update_layer",
]

# --------------------------------------------------------------------------------------------
# The builder's catalogue
# --------------------------------------------------------------------------------------------

ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "mish",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softplus",
    "softsign",
    "softmax",
    "log_softmax",
    "exponential",
)
PADDINGS = ("valid", "same")
INPUT_NAME = "input"  # the built model's input layer


@dataclass(frozen=True)
class ParameterSpec:
    """One editable setting of a builder layer, enough for a UI to draw its form field.

    Attributes:
        name: the Keras argument name (``units``, ``kernel_size``, ...).
        type: ``"int"``, ``"float"``, ``"bool"``, ``"choice"`` (one of ``choices``),
            ``"size"`` (an int, or a tuple of one int per spatial axis), ``"optional_size"``
            (a size or None), ``"shape"`` (a tuple of positive ints, one of them may be -1) or
            ``"padding"`` (an int, a pair, or a pair of (before, after) pairs).
        default: the value a new layer starts with.
        choices: the allowed values of a ``"choice"``.
        minimum: the smallest allowed number (for ints, floats and sizes).
        maximum: the largest allowed number, if any.
        exclusive_maximum: whether ``maximum`` itself is excluded (a dropout rate < 1).
        help: one line for the form's tooltip.
    """

    name: str
    type: str
    default: Any
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: bool = False
    help: str = ""


@dataclass(frozen=True)
class BuilderLayer:
    """One layer class the builder offers.

    Attributes:
        name: the key in :data:`BUILDER_LAYERS` and a :class:`LayerSpec`'s ``class_name``
            (``"Bidirectional LSTM"`` for the wrapped LSTM; the Keras class name otherwise).
        keras_class: the Keras class built (``"Bidirectional"`` for ``"Bidirectional LSTM"``).
        family: ``"core"``, ``"convolution"``, ``"pooling"``, ``"reshaping"``,
            ``"normalization"``, ``"regularization"``, ``"recurrent"``, ``"attention"``.
        input_rank: the rank its input must have, batch axis included (4 for images, 3 for
            sequences), or None for any rank.
        description: one line on what it does.
        parameters: its editable settings, in form order.
    """

    name: str
    keras_class: str
    family: str
    input_rank: int | None
    description: str
    parameters: tuple[ParameterSpec, ...] = ()

    def parameter(self, name: str) -> ParameterSpec | None:
        """The setting called ``name``, or None."""
        return next((item for item in self.parameters if item.name == name), None)

    def defaults(self) -> dict[str, Any]:
        """Every setting at its default value."""
        return {item.name: item.default for item in self.parameters}


def _units(default: int = 64, name: str = "units") -> ParameterSpec:
    return ParameterSpec(name, "int", default, minimum=1, help="Output features (width).")


def _filters(default: int = 32) -> ParameterSpec:
    return ParameterSpec("filters", "int", default, minimum=1, help="Output channels.")


def _activation(default: str = "linear") -> ParameterSpec:
    return ParameterSpec(
        "activation", "choice", default, choices=ACTIVATIONS, help="Applied to the output."
    )


_USE_BIAS = ParameterSpec("use_bias", "bool", True, help="Add a learned bias per output.")


def _kernel(default: int = 3) -> ParameterSpec:
    return ParameterSpec("kernel_size", "size", default, minimum=1, help="Window size.")


def _strides(default: int = 1) -> ParameterSpec:
    return ParameterSpec("strides", "size", default, minimum=1, help="Step between windows.")


def _padding(choices: tuple = PADDINGS) -> ParameterSpec:
    return ParameterSpec(
        "padding",
        "choice",
        "valid",
        choices=choices,
        help="'valid' shrinks the output by the window; 'same' keeps size / strides.",
    )


def _pool_parameters() -> tuple[ParameterSpec, ...]:
    return (
        ParameterSpec("pool_size", "size", 2, minimum=1, help="Window size."),
        ParameterSpec(
            "strides", "optional_size", None, minimum=1, help="Step; empty means pool_size."
        ),
        _padding(),
    )


def _conv_parameters(*, causal: bool = False) -> tuple:
    return (
        _filters(),
        _kernel(),
        _strides(),
        _padding((*PADDINGS, "causal") if causal else PADDINGS),
        _activation("relu"),
        _USE_BIAS,
    )


def _recurrent_parameters() -> tuple[ParameterSpec, ...]:
    return (
        _units(),
        ParameterSpec(
            "return_sequences",
            "bool",
            False,
            help="Output every time step (needed before another recurrent layer).",
        ),
    )


_NORMALIZATION_PARAMETERS = (
    ParameterSpec("epsilon", "float", 1e-3, minimum=0.0, help="Added to the variance."),
    ParameterSpec("center", "bool", True, help="Learn an offset (beta)."),
    ParameterSpec("scale", "bool", True, help="Learn a scale (gamma)."),
)

_CATALOGUE = (
    BuilderLayer(
        "Dense",
        "Dense",
        "core",
        None,
        "A fully connected layer on the last axis.",
        (_units(), _activation(), _USE_BIAS),
    ),
    BuilderLayer(
        "Conv1D",
        "Conv1D",
        "convolution",
        3,
        "Slides filters along a sequence (batch, steps, channels).",
        _conv_parameters(causal=True),
    ),
    BuilderLayer(
        "Conv2D",
        "Conv2D",
        "convolution",
        4,
        "Slides filters over an image (batch, height, width, channels).",
        _conv_parameters(),
    ),
    BuilderLayer(
        "DepthwiseConv2D",
        "DepthwiseConv2D",
        "convolution",
        4,
        "One filter per input channel (no mixing across channels).",
        (
            _kernel(),
            _strides(),
            _padding(),
            ParameterSpec(
                "depth_multiplier", "int", 1, minimum=1, help="Output channels per input channel."
            ),
            _activation("relu"),
            _USE_BIAS,
        ),
    ),
    BuilderLayer(
        "SeparableConv2D",
        "SeparableConv2D",
        "convolution",
        4,
        "A depthwise convolution followed by a 1x1 convolution that mixes channels.",
        _conv_parameters(),
    ),
    BuilderLayer(
        "Conv2DTranspose",
        "Conv2DTranspose",
        "convolution",
        4,
        "A learned upsampling: strides > 1 enlarge the image.",
        _conv_parameters(),
    ),
    BuilderLayer(
        "MaxPooling1D",
        "MaxPooling1D",
        "pooling",
        3,
        "The largest value in each window of a sequence.",
        _pool_parameters(),
    ),
    BuilderLayer(
        "MaxPooling2D",
        "MaxPooling2D",
        "pooling",
        4,
        "The largest value in each window of an image.",
        _pool_parameters(),
    ),
    BuilderLayer(
        "AveragePooling2D",
        "AveragePooling2D",
        "pooling",
        4,
        "The mean of each window of an image.",
        _pool_parameters(),
    ),
    BuilderLayer(
        "GlobalAveragePooling1D",
        "GlobalAveragePooling1D",
        "pooling",
        3,
        "The mean over all time steps: one vector per sample.",
    ),
    BuilderLayer(
        "GlobalMaxPooling1D",
        "GlobalMaxPooling1D",
        "pooling",
        3,
        "The maximum over all time steps: one vector per sample.",
    ),
    BuilderLayer(
        "GlobalAveragePooling2D",
        "GlobalAveragePooling2D",
        "pooling",
        4,
        "The mean over all pixels: one vector per sample.",
    ),
    BuilderLayer(
        "GlobalMaxPooling2D",
        "GlobalMaxPooling2D",
        "pooling",
        4,
        "The maximum over all pixels: one vector per sample.",
    ),
    BuilderLayer("Flatten", "Flatten", "reshaping", None, "All axes but the batch into one."),
    BuilderLayer(
        "Reshape",
        "Reshape",
        "reshaping",
        None,
        "The same values in a new shape (one axis may be -1: inferred).",
        (
            ParameterSpec(
                "target_shape",
                "shape",
                (-1,),
                help="One sample's new shape, e.g. (8, 8, 1); the element count must not change.",
            ),
        ),
    ),
    BuilderLayer(
        "UpSampling2D",
        "UpSampling2D",
        "reshaping",
        4,
        "Repeats rows and columns to enlarge an image.",
        (
            ParameterSpec("size", "size", 2, minimum=1, help="Factor per axis."),
            ParameterSpec(
                "interpolation", "choice", "nearest", choices=("nearest", "bilinear"), help=""
            ),
        ),
    ),
    BuilderLayer(
        "ZeroPadding2D",
        "ZeroPadding2D",
        "reshaping",
        4,
        "Adds rows and columns of zeros around an image.",
        (ParameterSpec("padding", "padding", 1, minimum=0, help="Pixels added on each side."),),
    ),
    BuilderLayer(
        "Dropout",
        "Dropout",
        "regularization",
        None,
        "Zeroes a random fraction of values while training.",
        (
            ParameterSpec(
                "rate",
                "float",
                0.5,
                minimum=0.0,
                maximum=1.0,
                exclusive_maximum=True,
                help="Fraction dropped, from 0 up to (not including) 1.",
            ),
        ),
    ),
    BuilderLayer(
        "BatchNormalization",
        "BatchNormalization",
        "normalization",
        None,
        "Normalizes each channel with batch statistics (moving averages at inference).",
        (
            ParameterSpec(
                "momentum", "float", 0.99, minimum=0.0, maximum=1.0, help="Moving-average momentum."
            ),
            *_NORMALIZATION_PARAMETERS,
        ),
    ),
    BuilderLayer(
        "LayerNormalization",
        "LayerNormalization",
        "normalization",
        None,
        "Normalizes each sample's last axis.",
        (*_NORMALIZATION_PARAMETERS,),
    ),
    BuilderLayer(
        "Activation",
        "Activation",
        "core",
        None,
        "An element-wise non-linearity.",
        (_activation("relu"),),
    ),
    BuilderLayer(
        "Embedding",
        "Embedding",
        "core",
        None,
        "Looks up a learned vector for each integer token id.",
        (
            ParameterSpec(
                "input_dim", "int", 1000, minimum=1, help="Vocabulary size (ids 0..n-1)."
            ),
            ParameterSpec("output_dim", "int", 64, minimum=1, help="Vector size."),
        ),
    ),
    BuilderLayer(
        "LSTM",
        "LSTM",
        "recurrent",
        3,
        "Long short-term memory over a sequence (batch, steps, features).",
        _recurrent_parameters(),
    ),
    BuilderLayer(
        "GRU",
        "GRU",
        "recurrent",
        3,
        "Gated recurrent unit over a sequence (batch, steps, features).",
        _recurrent_parameters(),
    ),
    BuilderLayer(
        "SimpleRNN",
        "SimpleRNN",
        "recurrent",
        3,
        "The plain recurrent layer over a sequence (batch, steps, features).",
        _recurrent_parameters(),
    ),
    BuilderLayer(
        "Bidirectional LSTM",
        "Bidirectional",
        "recurrent",
        3,
        "An LSTM reading forwards and one reading backwards, outputs merged.",
        (
            *_recurrent_parameters(),
            ParameterSpec(
                "merge_mode",
                "choice",
                "concat",
                choices=("concat", "sum", "mul", "ave"),
                help="How the two directions are combined ('concat' doubles the features).",
            ),
        ),
    ),
    BuilderLayer(
        "MultiHeadAttention",
        "MultiHeadAttention",
        "attention",
        3,
        "Self-attention: every step attends to every step of the same sequence.",
        (
            ParameterSpec("num_heads", "int", 4, minimum=1, help="Attention heads."),
            ParameterSpec("key_dim", "int", 16, minimum=1, help="Size of each head."),
            ParameterSpec(
                "dropout",
                "float",
                0.0,
                minimum=0.0,
                maximum=1.0,
                exclusive_maximum=True,
                help="Dropout on the attention weights.",
            ),
        ),
    ),
)

BUILDER_LAYERS: dict[str, BuilderLayer] = {layer.name: layer for layer in _CATALOGUE}
"""The layer classes the builder offers, by :class:`LayerSpec` ``class_name``."""

_BUILDER_KEY_OF_KERAS_CLASS = {
    layer.keras_class: layer.name for layer in _CATALOGUE if layer.keras_class != "Bidirectional"
}


# --------------------------------------------------------------------------------------------
# Layer specs and editing
# --------------------------------------------------------------------------------------------


def _frozen(value: Any) -> Any:
    """Lists become tuples (recursively), so a config is hashable and compares by value."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the builder's stack: its class, its settings and (optionally) its name.

    ``config`` holds ``(setting, value)`` pairs sorted by setting, with lists turned into
    tuples, so specs are hashable, pickle and compare by value; a dict is accepted too. Settings
    left out take the catalogue's defaults when the layer is built. Make specs with
    :func:`layer_spec` to have unknown settings refused early.

    Attributes:
        class_name: a key of :data:`BUILDER_LAYERS`.
        config: the settings that differ from, or restate, the defaults.
        name: the Keras layer name; None gives ``<class>_<position>``.
    """

    class_name: str
    config: tuple[tuple[str, Any], ...] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        items = self.config.items() if isinstance(self.config, dict) else self.config
        object.__setattr__(
            self, "config", tuple(sorted((str(key), _frozen(value)) for key, value in items))
        )

    def config_dict(self) -> dict[str, Any]:
        """The settings as given (no defaults filled in)."""
        return dict(self.config)

    def resolved_config(self) -> dict[str, Any]:
        """Every setting of the layer: the catalogue's defaults updated with this spec's."""
        kind = BUILDER_LAYERS.get(self.class_name)
        return {**(kind.defaults() if kind else {}), **self.config_dict()}

    def get(self, key: str, default: Any = None) -> Any:
        """One setting, the catalogue's default if the spec leaves it out."""
        return self.resolved_config().get(key, default)

    def replace(self, **changes: Any) -> LayerSpec:
        """A copy with settings changed (``name=`` renames the layer)."""
        name = changes.pop("name", self.name)
        return LayerSpec(self.class_name, {**self.config_dict(), **changes}, name)


def _builder_layer(class_name: str) -> BuilderLayer:
    if class_name not in BUILDER_LAYERS:
        raise InputError(
            f"The builder has no layer {class_name!r}. Expected one of: "
            f"{', '.join(BUILDER_LAYERS)}. Pick a layer from the list."
        )
    return BUILDER_LAYERS[class_name]


def _check_setting_names(kind: BuilderLayer, names: Sequence[str]) -> None:
    unknown = [name for name in names if kind.parameter(name) is None]
    if unknown:
        known = ", ".join(item.name for item in kind.parameters) or "none"
        raise InputError(
            f"{kind.name} has no setting {unknown[0]!r}. Its settings are: {known}. Check the "
            "spelling."
        )


def layer_spec(class_name: str, *, name: str | None = None, **config: Any) -> LayerSpec:
    """A :class:`LayerSpec` with every setting filled in (the defaults, updated with ``config``).

    Args:
        class_name: a key of :data:`BUILDER_LAYERS`, e.g. ``"Conv2D"`` or ``"Bidirectional LSTM"``.
        name: the layer's name; None gives ``<class>_<position>`` when built.
        **config: settings to change, e.g. ``units=10``.

    Returns:
        The spec. Values are checked when the stack is built (:func:`build_from_specs`), where a
        bad one is explained.

    Raises:
        InputError: an unknown layer class or setting name.
    """
    kind = _builder_layer(class_name)
    _check_setting_names(kind, list(config))
    return LayerSpec(class_name, {**kind.defaults(), **config}, name)


def _check_index(specs: Sequence[LayerSpec], index: int, *, allow_end: bool = False) -> int:
    last = len(specs) if allow_end else len(specs) - 1
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= last:
        if last < 0:
            raise InputError(f"The stack is empty, so there is no layer {index!r}. Add one first.")
        raise InputError(
            f"Expected a layer position from 0 to {last} (the stack has {len(specs)} layers). "
            f"Received: {index!r}."
        )
    return index


def add_layer(specs: Sequence[LayerSpec], index: int, spec: LayerSpec) -> tuple[LayerSpec, ...]:
    """The stack with ``spec`` inserted at ``index`` (``len(specs)`` appends).

    Raises:
        InputError: an index outside 0..len(specs), or a spec of a class the builder lacks.
    """
    _builder_layer(spec.class_name)
    index = _check_index(specs, index, allow_end=True)
    return (*specs[:index], spec, *specs[index:])


def remove_layer(specs: Sequence[LayerSpec], index: int) -> tuple[LayerSpec, ...]:
    """The stack without the layer at ``index``.

    Raises:
        InputError: an index outside the stack.
    """
    index = _check_index(specs, index)
    return (*specs[:index], *specs[index + 1 :])


def move_layer(specs: Sequence[LayerSpec], index: int, new_index: int) -> tuple[LayerSpec, ...]:
    """The stack with the layer at ``index`` moved so that it ends up at ``new_index``.

    Raises:
        InputError: either index outside the stack.
    """
    index = _check_index(specs, index)
    new_index = _check_index(specs, new_index)
    rest = [*specs[:index], *specs[index + 1 :]]
    rest.insert(new_index, specs[index])
    return tuple(rest)


def update_layer(specs: Sequence[LayerSpec], index: int, **changes: Any) -> tuple[LayerSpec, ...]:
    """The stack with settings of the layer at ``index`` changed (``name=`` renames it).

    Raises:
        InputError: an index outside the stack or a setting the layer does not have.
    """
    index = _check_index(specs, index)
    spec = specs[index]
    _check_setting_names(_builder_layer(spec.class_name), [key for key in changes if key != "name"])
    return (*specs[:index], spec.replace(**changes), *specs[index + 1 :])


def parse_shape(text: str) -> tuple:
    """A shape typed as text: ``"28, 28, 1"``, ``"(None, 8)"`` or ``"[4]"`` -> a tuple.

    Brackets and blanks are ignored; ``None`` (any case) stands for an unknown size.

    Raises:
        InputError: a part that is neither a whole number nor ``None``.
    """
    parts = [part.strip() for part in text.strip().strip("()[]").split(",") if part.strip()]
    try:
        return tuple(None if part.lower() == "none" else int(part) for part in parts)
    except ValueError as error:
        raise InputError(
            f"Expected whole numbers separated by commas, like '28, 28, 1'. Received: {text!r}"
        ) from error


# --------------------------------------------------------------------------------------------
# Building a stack
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildError:
    """Why a stack did not build: which layer, and what to do, in plain words.

    Attributes:
        index: the failing spec's 0-based position in the stack; None for the input itself.
            Messages count from 1 (``Layer 3``), as the page numbers its list.
        class_name: the spec's class (``"Input"`` for the input).
        layer_name: the layer's name.
        message: the explanation: what was found, what was expected, what to do.
        keras_message: Keras's own words, when Keras raised (a second line for the curious).
        input_shape: the shape that reached the failing layer, batch axis first, if known.
    """

    index: int | None
    class_name: str
    layer_name: str
    message: str
    keras_message: str | None = None
    input_shape: tuple | None = None

    @property
    def text(self) -> str:
        """The message, with Keras's words on a second line when there are any."""
        if self.keras_message and self.keras_message not in self.message:
            return f"{self.message}\nKeras said: {self.keras_message}"
        return self.message

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, eq=False)
class BuildResult:
    """The outcome of :func:`build_from_specs`.

    Attributes:
        model: the built ``keras.Model`` (untrained), or None when a layer failed.
        error: the :class:`BuildError`, or None on success.
        output_shapes: each layer's output shape (batch first), for the layers that were built
            before any failure, so the page can show shapes up to the broken layer.
        summary: :func:`~neurogenesis.analysis.architecture.architecture_summary` of the model
            (parameters, MACs, weight and activation bytes per layer), or None.
    """

    model: Any
    error: BuildError | None
    output_shapes: tuple[tuple, ...] = ()
    summary: ArchitectureInfo | None = None

    @property
    def ok(self) -> bool:
        """Whether the whole stack built."""
        return self.error is None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def keras_message(error: BaseException) -> str:
    """Keras's message without colour codes, call banners and argument dumps, on one line."""
    text = _ANSI.sub("", str(error))
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Arguments received by"):
            break
        if line and not line.startswith("Exception encountered when calling"):
            lines.append(line)
    return " ".join(lines) or type(error).__name__


def _shape_text(shape: Sequence) -> str:
    dims = ["None" if dim is None else str(int(dim)) for dim in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _spatial_text(sizes: Sequence) -> str:
    return "x".join("?" if size is None else str(int(size)) for size in sizes)


def _as_sizes(value: Any, count: int) -> tuple | None:
    if value is None:
        return None
    if isinstance(value, int):
        return (value,) * count
    return tuple(value)


def _describe(index: int | None, class_name: str, layer_name: str) -> str:
    if index is None:
        return "the input"
    return f"layer {index + 1} ({class_name} '{layer_name}')"


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_value(kind: BuilderLayer, item: ParameterSpec, value: Any) -> str | None:
    """What is wrong with one setting's value, in words, or None."""
    name = item.name
    if item.type == "bool":
        return None if isinstance(value, bool) else f"{name} must be True or False; got {value!r}"
    if item.type == "choice":
        if value in item.choices:
            return None
        if name == "activation" and isinstance(value, str):
            import keras

            try:
                keras.activations.get(value)
                return None
            except (ValueError, TypeError):
                pass
            return (
                f"activation {value!r} is not a Keras activation; choose one of "
                f"{', '.join(item.choices)}"
            )
        return f"{name} must be one of {', '.join(map(repr, item.choices))}; got {value!r}"
    if item.type in ("int", "float"):
        number_ok = (
            _is_whole(value)
            if item.type == "int"
            else (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            )
        )
        what = "a whole number" if item.type == "int" else "a number"
        if not number_ok:
            return f"{name} must be {what}; got {value!r}"
        if item.minimum is not None and value < item.minimum:
            return f"{name} must be {what} of at least {item.minimum:g}; got {value!r}"
        if item.maximum is not None and (
            value >= item.maximum if item.exclusive_maximum else value > item.maximum
        ):
            bound = "below" if item.exclusive_maximum else "at most"
            return f"{name} must be {bound} {item.maximum:g}; got {value!r}"
        return None
    if item.type in ("size", "optional_size"):
        if value is None and item.type == "optional_size":
            return None
        rank = (kind.input_rank or 3) - 2
        sizes = (value,) if _is_whole(value) else value
        if (
            not isinstance(sizes, tuple)
            or len(sizes) not in (1, rank)
            or not all(_is_whole(size) and size >= 1 for size in sizes)
        ):
            return (
                f"{name} must be a positive whole number or {rank} of them (one per axis); "
                f"got {value!r}"
            )
        return None
    if item.type == "padding":
        flat = value if isinstance(value, tuple) else (value,)
        flat = tuple(
            part for group in flat for part in (group if isinstance(group, tuple) else (group,))
        )
        if not flat or not all(_is_whole(size) and size >= 0 for size in flat):
            return f"{name} must be whole numbers of at least 0; got {value!r}"
        return None
    if item.type == "shape":
        if (
            not isinstance(value, tuple)
            or not value
            or not all(_is_whole(size) and (size >= 1 or size == -1) for size in value)
            or sum(size == -1 for size in value) > 1
        ):
            return (
                f"{name} must be a tuple of positive whole numbers, one of which may be -1 "
                f"(inferred), such as (8, 8, 1); got {value!r}"
            )
        return None
    return None


def _make_layer(keras, kind: BuilderLayer, config: dict[str, Any], name: str):
    layers = keras.layers
    if kind.name == "Bidirectional LSTM":
        return layers.Bidirectional(
            layers.LSTM(config["units"], return_sequences=config["return_sequences"]),
            merge_mode=config["merge_mode"],
            name=name,
        )
    if kind.name == "Reshape":
        return layers.Reshape(tuple(config["target_shape"]), name=name)
    return getattr(layers, kind.keras_class)(**config, name=name)


def _reshape_suggestion(shape: tuple, rank: int) -> str:
    """A concrete Reshape that would give ``rank`` (batch included), when one is obvious."""
    dims = shape[1:]
    if any(dim is None for dim in dims):
        return ""
    count = math.prod(dims)
    if rank == 4:
        if len(dims) == 2:
            target = (dims[0], dims[1], 1)
        else:
            side = math.isqrt(count)
            target = (side, side, 1) if side * side == count else (count, 1, 1)
        return f"Reshape(target_shape={_shape_text(target)})"
    if rank == 3:
        target = (dims[0] * dims[1], dims[2]) if len(dims) == 3 else (count, 1)
        return f"Reshape(target_shape={_shape_text(target)})"
    return ""


def _rank_problem(
    kind: BuilderLayer,
    config: dict[str, Any],
    shape: tuple,
    source: str,
    previous_spec: LayerSpec | None,
) -> str | None:
    units = config.get("units")
    rank = len(shape)
    if kind.input_rank is not None and rank != kind.input_rank:
        wanted = {
            4: "a 4-D input (batch, height, width, channels)",
            3: "a 3-D input (batch, steps, features)",
        }[kind.input_rank]
        fixes = []
        suggestion = _reshape_suggestion(shape, kind.input_rank)
        if kind.input_rank == 3 and previous_spec is not None and rank == 2:
            previous_kind = BUILDER_LAYERS.get(previous_spec.class_name)
            if previous_kind and previous_kind.family == "recurrent":
                fixes.append(
                    "set return_sequences=True on the recurrent layer before it, so it passes "
                    "on every time step"
                )
        if suggestion:
            if kind.input_rank == 4:
                fixes.append(f"add {suggestion} before it to treat the values as an image")
            else:
                fixes.append(f"add {suggestion} before it to treat the values as a sequence")
        if kind.input_rank == 3 and rank == 2 and kind.family in ("recurrent", "attention"):
            fixes.append("start with an Embedding if the input is token ids")
        if kind.input_rank == 3 and rank == 4:
            fixes.append(f"use the 2-D version of {kind.name} if the input is an image")
        if kind.input_rank == 4 and rank == 3:
            fixes.append(f"use the 1-D version of {kind.name} if the input is a sequence")
        advice = "; or ".join(fixes)
        return (
            f"{kind.name} needs {wanted} but receives the {rank}-D output {_shape_text(shape)} of "
            f"{source}." + (f" To fix it, {advice}." if advice else "")
        )
    if kind.name == "Dense" and rank >= 4:
        would_give = _shape_text((*shape[:-1], units))
        return (
            f"Dense cannot follow a {rank}-D output {_shape_text(shape)} (from {source}): Dense "
            f"acts on the last axis only and would give {would_give}, one vector per pixel "
            "rather than per sample. Add Flatten or GlobalAveragePooling2D first if you want one "
            "vector per sample (a 1x1 Conv2D is the per-pixel layer)."
        )
    return None


def _window_problem(kind: BuilderLayer, config: dict[str, Any], shape: tuple) -> str | None:
    """A convolution or pooling window that does not fit its input (output size <= 0)."""
    window_key = "pool_size" if "pool_size" in config else "kernel_size"
    if window_key not in config or kind.name == "Conv2DTranspose" or kind.input_rank is None:
        return None
    if config.get("padding", "valid") != "valid":
        return None
    axes = kind.input_rank - 2
    window = _as_sizes(config[window_key], axes)
    strides = _as_sizes(config.get("strides"), axes) or window
    if len(window) == 1:
        window = window * axes
    if len(strides) == 1:
        strides = strides * axes
    spatial = shape[1:-1]
    output = tuple(
        None if size is None else (size - k) // s + 1
        for size, k, s in zip(spatial, window, strides, strict=True)
    )
    if all(size is None or size > 0 for size in output):
        return None
    noun = "pool_size" if window_key == "pool_size" else "kernel_size"
    return (
        f"{kind.name} has a {_spatial_text(window)} {noun} but its input {_shape_text(shape)} is "
        f"only {_spatial_text(spatial)}: with padding='valid' the output would be "
        f"{_spatial_text(output)} (a size of 0 or less). Use padding='same', a {noun} of at most "
        f"{_spatial_text(spatial)}, or fewer downsampling layers before it."
    )


def _reshape_problem(config: dict[str, Any], shape: tuple) -> str | None:
    dims = shape[1:]
    target = tuple(config["target_shape"])
    if any(dim is None for dim in dims):
        return None
    count = math.prod(dims)
    known = math.prod(size for size in target if size != -1)
    if -1 in target:
        if count % known == 0:
            return None
        return (
            f"Reshape cannot turn {_shape_text(shape)} - {count} values per sample - into "
            f"{_shape_text(target)}: the sizes other than -1 multiply to {known}, which does not "
            f"divide {count}. Choose sizes whose product divides {count}."
        )
    if count == known:
        return None
    return (
        f"Reshape cannot turn {_shape_text(shape)} - {count} values per sample - into "
        f"{_shape_text(target)} - {known} values per sample. The counts must be equal: choose a "
        f"target_shape whose sizes multiply to {count}, or put -1 for one axis to have it "
        "inferred."
    )


def _dtype_problem(kind: BuilderLayer, dtype: str, source: str) -> str | None:
    if kind.name != "Embedding" or "int" in str(dtype):
        return None
    if source == "the input":
        return (
            f"Embedding looks up integer token ids but the input is {dtype}. Set the input dtype "
            "to int32 (token ids), or remove the Embedding if the input is real-valued features."
        )
    return (
        f"Embedding looks up integer token ids but receives {dtype} values from {source}. "
        "Put the Embedding first, straight after an int32 input of token ids."
    )


def _explain_keras_error(message: str, kind: BuilderLayer, shape: tuple, source: str) -> str:
    lowered = message.lower()
    if "zero or negative" in lowered or "negative dimension" in lowered:
        return (
            f"{kind.name} would make a dimension of its output 0 or less from the input "
            f"{_shape_text(shape)} of {source}. Use padding='same', a smaller window or "
            "strides, or fewer downsampling layers before it."
        )
    if "ndim" in lowered or "rank" in lowered:
        return (
            f"{kind.name} cannot take the {len(shape)}-D output {_shape_text(shape)} of {source}. "
            "Add a Reshape, Flatten or pooling layer before it to give it the shape it expects."
        )
    return (
        f"Keras could not apply {kind.name} to the output {_shape_text(shape)} of {source} "
        "(Keras's reason below). Check this layer's settings and the layers before it."
    )


def _layer_names(specs: Sequence[LayerSpec]) -> list[str]:
    return [
        spec.name or f"{snake_case(spec.class_name)}_{index + 1}"
        for index, spec in enumerate(specs)
    ]


def _default_input_dtype(specs: Sequence[LayerSpec]) -> str:
    return "int32" if specs and specs[0].class_name == "Embedding" else "float32"


def _input_refused(message: str, keras_message: str | None = None) -> BuildResult:
    """Nothing built: the input itself (its shape or dtype) is wrong."""
    return BuildResult(None, BuildError(None, "Input", "input", message, keras_message))


def _name_refused(
    specs: Sequence[LayerSpec], names: list[str], index: int, message: str
) -> BuildResult:
    """Nothing built: layer ``index`` has a name it cannot have (the input's, or an earlier
    layer's)."""
    return BuildResult(None, BuildError(index, specs[index].class_name, names[index], message))


def build_from_specs(
    input_shape: Sequence[int | None],
    specs: Sequence[LayerSpec],
    *,
    name: str = "built",
    input_dtype: str | None = None,
    summarize: bool = True,
) -> BuildResult:
    """Builds the stack layer by layer; a failure is returned, explained, not raised.

    Each layer is created from its spec and called on the previous output (MultiHeadAttention as
    self-attention, ``layer(x, x)``). Before Keras sees a layer, the common mistakes are checked
    and explained: the wrong input rank (Conv2D on a vector, LSTM on a 2-D output, Dense on an
    image map), a window larger than its input, a Reshape that changes the element count, an
    Embedding on real values, and bad settings (a negative unit count, a dropout rate of 1 or
    more, an unknown activation). Anything else Keras refuses is reported with Keras's words.

    Args:
        input_shape: one sample's shape (no batch axis); None for a variable-length axis.
        specs: the layers, first to last.
        name: the model's name.
        input_dtype: the input's dtype; None means int32 when the first layer is an Embedding
            (token ids) and float32 otherwise.
        summarize: whether to attach :func:`architecture_summary` (parameters, MACs, memory).

    Returns:
        A :class:`BuildResult`: the model and its summary, or the :class:`BuildError` with the
        output shapes of the layers before it.
    """
    import keras

    input_dtype = input_dtype or _default_input_dtype(specs)
    try:
        shape = tuple(None if dim is None else int(dim) for dim in input_shape)
    except (TypeError, ValueError):
        shape = ()
    if not shape or any(dim is not None and dim <= 0 for dim in shape):
        return _input_refused(
            f"The input shape must be one or more positive sizes (None for a variable "
            f"length), one sample without the batch axis, such as (28, 28, 1). Received: "
            f"{input_shape!r}."
        )
    names = _layer_names(specs)
    duplicates = sorted({item for item in names if names.count(item) > 1})
    if INPUT_NAME in names:
        index = names.index(INPUT_NAME)
        return _name_refused(
            specs,
            names,
            index,
            f"Layer {index + 1} ({specs[index].class_name}) is named '{INPUT_NAME}', the name "
            "of the model's input. Rename the layer.",
        )
    if duplicates:
        index = names.index(duplicates[0], names.index(duplicates[0]) + 1)
        return _name_refused(
            specs,
            names,
            index,
            f"Layer {index + 1} ({specs[index].class_name}) is named '{names[index]}', like an "
            "earlier layer. Layer names must be unique: rename one of them.",
        )
    try:
        inputs = keras.Input(shape, dtype=input_dtype, name=INPUT_NAME)
    except (ValueError, TypeError) as error:
        return _input_refused(
            f"Keras cannot make an input of shape {shape} and dtype {input_dtype!r}. Use a "
            "dtype such as float32 or int32.",
            keras_message(error),
        )
    x = inputs
    output_shapes: list[tuple] = []
    source = "the input"
    for index, (spec, layer_name) in enumerate(zip(specs, names, strict=True)):
        current = tuple(x.shape)
        label = f"Layer {index + 1} ({spec.class_name} '{layer_name}')"

        def failure(
            message: str,
            keras_message: str | None = None,
            *,
            _index=index,
            _spec=spec,
            _shape=current,
        ):
            error = BuildError(
                _index,
                _spec.class_name,
                names[_index],
                message,
                keras_message,
                _shape,
            )
            return BuildResult(None, error, tuple(output_shapes))

        kind = BUILDER_LAYERS.get(spec.class_name)
        if kind is None:
            return failure(
                f"{label}: the builder has no layer class {spec.class_name!r}. Replace it with "
                f"one of: {', '.join(BUILDER_LAYERS)}."
            )
        unknown = [key for key, _ in spec.config if kind.parameter(key) is None]
        if unknown:
            known = ", ".join(item.name for item in kind.parameters) or "none"
            return failure(
                f"{label} has no setting {unknown[0]!r} (its settings: {known}). Remove it."
            )
        config = spec.resolved_config()
        for item in kind.parameters:
            problem = _check_value(kind, item, config[item.name])
            if problem:
                return failure(f"{label}: {problem}. Change {item.name} in its settings.")
        previous_spec = specs[index - 1] if index else None
        problem = (
            _dtype_problem(kind, str(x.dtype), source)
            or _rank_problem(kind, config, current, source, previous_spec)
            or _window_problem(kind, config, current)
            or (_reshape_problem(config, current) if kind.name == "Reshape" else None)
        )
        if problem:
            return failure(f"{label}: {problem}")
        try:
            layer = _make_layer(keras, kind, config, layer_name)
            x = layer(x, x) if kind.name == "MultiHeadAttention" else layer(x)
        except Exception as error:  # Keras raises ValueError, TypeError, and backend errors
            message = keras_message(error)
            return failure(
                f"{label}: {_explain_keras_error(message, kind, current, source)}", message
            )
        output = tuple(x.shape)
        if any(dim is not None and dim <= 0 for dim in output[1:]):
            return failure(
                f"{label} gives the output {_shape_text(output)}, with a size of 0 or less, from "
                f"{_shape_text(current)}. Use padding='same', a smaller window or strides, or "
                "fewer downsampling layers before it."
            )
        output_shapes.append(output)
        source = _describe(index, spec.class_name, layer_name)
    model = keras.Model(inputs, x, name=name)
    summary = architecture_summary(model) if summarize else None
    return BuildResult(model, None, tuple(output_shapes), summary)


# --------------------------------------------------------------------------------------------
# Opening a model in the builder
# --------------------------------------------------------------------------------------------

# Settings the builder cannot edit: a layer that uses anything but these values is refused, so
# that a round trip never silently changes the architecture.
_FIXED_SETTINGS: dict[str, Callable[[Any], bool]] = {
    "dilation_rate": lambda value: all(item == 1 for item in _as_sizes(value, 1)),
    "groups": lambda value: value == 1,
    "data_format": lambda value: value in (None, "channels_last"),
    "go_backwards": lambda value: not value,
    "stateful": lambda value: not value,
    "return_state": lambda value: not value,
    "output_shape": lambda value: value is None,
    "attention_axes": lambda value: value is None or tuple(value) == (1,),  # the steps
    "use_gate": lambda value: not value,
    "sliding_window": lambda value: value is None,
    "lora_rank": lambda value: value is None,
    "rms_scaling": lambda value: not value,
    "noise_shape": lambda value: value is None,
}


def _simplified_size(value: Any) -> Any:
    if isinstance(value, list | tuple) and value and len(set(value)) == 1:
        return int(value[0])
    return _frozen(value)


def _simplified_padding(value: Any) -> Any:
    value = _frozen(value)
    if isinstance(value, tuple) and all(isinstance(pair, tuple) for pair in value):
        if all(pair[0] == pair[1] for pair in value):
            value = tuple(pair[0] for pair in value)
        else:
            return value
    return _simplified_size(value)


def _unsupported(model_name: str, layer: Any, reason: str) -> InputError:
    return InputError(
        f"'{model_name}' cannot be opened in the builder: layer '{layer.name}' "
        f"({type(layer).__name__}) {reason}. The builder edits plain chains of its own layer "
        "classes; use the multiplier sweep or the architecture views for this model."
    )


def _spec_from_layer(model_name: str, layer: Any) -> LayerSpec:
    class_name = type(layer).__name__
    config = layer.get_config()
    if class_name == "Bidirectional":
        forward = layer.forward_layer
        if type(forward).__name__ != "LSTM":
            raise _unsupported(
                model_name,
                layer,
                f"wraps a {type(forward).__name__}; the builder's Bidirectional is LSTM only",
            )
        inner = forward.get_config()
        for key, allowed in _FIXED_SETTINGS.items():
            if key in inner and key != "go_backwards" and not allowed(inner[key]):
                raise _unsupported(model_name, layer, f"uses {key}={inner[key]!r}")
        return LayerSpec(
            "Bidirectional LSTM",
            {
                "units": int(inner["units"]),
                "return_sequences": bool(inner["return_sequences"]),
                "merge_mode": layer.merge_mode,
            },
            layer.name,
        )
    key = _BUILDER_KEY_OF_KERAS_CLASS.get(class_name)
    if key is None:
        raise _unsupported(model_name, layer, "is not one of the builder's layer classes")
    kind = BUILDER_LAYERS[key]
    for setting, allowed in _FIXED_SETTINGS.items():
        if setting in config and not allowed(config[setting]):
            raise _unsupported(
                model_name,
                layer,
                f"uses {setting}={config[setting]!r}, which the builder cannot set",
            )
    if class_name == "MultiHeadAttention" and config.get("value_dim") not in (
        None,
        config["key_dim"],
    ):
        raise _unsupported(model_name, layer, "has a value_dim different from its key_dim")
    if class_name == "SeparableConv2D" and config.get("depth_multiplier", 1) != 1:
        raise _unsupported(model_name, layer, "uses depth_multiplier > 1")
    if "axis" in config and class_name in ("BatchNormalization", "LayerNormalization"):
        axis = config["axis"]
        axis = axis[0] if isinstance(axis, list | tuple) and len(axis) == 1 else axis
        rank = len(layer.input.shape)
        if axis not in (-1, rank - 1):
            raise _unsupported(
                model_name, layer, f"normalizes axis {config['axis']!r}, not the last"
            )
    values = {}
    for item in kind.parameters:
        value = config.get(item.name, item.default)
        if item.type in ("size", "optional_size"):
            value = _simplified_size(value)
        elif item.type == "padding":
            value = _simplified_padding(value)
        elif item.type == "choice" and item.name == "activation" and not isinstance(value, str):
            raise _unsupported(model_name, layer, f"has a custom activation {value!r}")
        values[item.name] = _frozen(value)
    return LayerSpec(key, values, layer.name)


def _graph_of(model: Any) -> Any:
    graph = functional_graph(model)
    if graph is not None:
        return graph
    raise InputError(
        f"'{getattr(model, 'name', model)}' has no layer graph (a subclassed or unbuilt model), "
        "so it cannot be opened in the builder. Build it from keras.Input first."
    )


def specs_from_model(model: Any) -> tuple[tuple, tuple[LayerSpec, ...]]:
    """The builder stack of a model that is a plain chain of builder layers.

    Args:
        model: a built Sequential or functional ``keras.Model`` with one input and one output.

    Returns:
        ``(input_shape, specs)``: one sample's input shape (no batch axis) and one spec per
        layer, named as in the model. ``build_from_specs(input_shape, specs)`` rebuilds the same
        architecture with fresh weights (initializers and regularizers are not carried over).

    Raises:
        InputError: the model branches or merges (residual connections, several inputs or
            outputs), shares a layer, uses ``keras.ops`` between layers, nests a model, or has
            a layer class or setting the builder cannot represent; the message names the layer.
    """
    import keras

    graph = _graph_of(model)
    model_name = model.name
    inputs, outputs = list(graph.inputs), list(graph.outputs)
    if len(inputs) != 1 or len(outputs) != 1:
        raise InputError(
            f"'{model_name}' has {len(inputs)} inputs and {len(outputs)} outputs; the builder "
            "edits chains with one of each. Use the multiplier sweep or the architecture views."
        )
    nodes_of: dict[int, list] = {}
    for nodes in graph._nodes_by_depth.values():
        for node in nodes:
            nodes_of.setdefault(id(node.operation), []).append(node)
    current = inputs[0]
    specs = []
    for operation in graph.operations:
        if isinstance(operation, keras.layers.InputLayer):
            continue
        if not isinstance(operation, keras.layers.Layer):
            raise InputError(
                f"'{model_name}' cannot be opened in the builder: it computes "
                f"'{operation.name}' ({type(operation).__name__}) with keras.ops between its "
                "layers, which the builder cannot represent. Use the multiplier sweep or the "
                "architecture views for this model."
            )
        if isinstance(operation, keras.Model):
            raise _unsupported(model_name, operation, "is a nested model")
        nodes = nodes_of.get(id(operation), [])
        if len(nodes) != 1:
            raise _unsupported(model_name, operation, f"is called {len(nodes)} times (shared)")
        node = nodes[0]
        tensors = list(node.input_tensors)
        distinct = {id(tensor) for tensor in tensors}
        if len(distinct) > 1:
            sources = ", ".join(f"'{tensor._keras_history.operation.name}'" for tensor in tensors)
            raise _unsupported(
                model_name, operation, f"merges {len(tensors)} tensors (from {sources})"
            )
        if tensors and tensors[0] is not current:
            origin = tensors[0]._keras_history.operation.name
            raise _unsupported(
                model_name,
                operation,
                f"reads the output of '{origin}' rather than of the layer before it: the model "
                f"branches at '{origin}'",
            )
        is_attention = type(operation).__name__ == "MultiHeadAttention"
        extra = {key: value for key, value in node.arguments.kwargs.items() if value is not None}
        if len(tensors) != (2 if is_attention else 1) or (is_attention and extra):
            raise _unsupported(
                model_name,
                operation,
                "is called with masks or extra inputs, which the builder cannot represent",
            )
        if len(node.output_tensors) != 1:
            raise _unsupported(model_name, operation, "has several outputs")
        specs.append(_spec_from_layer(model_name, operation))
        current = node.output_tensors[0]
    if current is not outputs[0]:
        raise InputError(
            f"'{model_name}' does not end at its last layer in a single chain; the builder "
            "cannot open it. Use the multiplier sweep or the architecture views."
        )
    input_shape = tuple(inputs[0].shape)[1:]
    return input_shape, tuple(specs)

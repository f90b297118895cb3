"""Keras 2 / tf.keras .h5 model files in Keras 3: known, safe config translations, never code.

Keras 3 reads the .h5 files TF 2.x's tf.keras wrote, but refuses some of them over small
differences in how layers are configured (``DepthwiseConv2D`` no longer takes ``groups``, the RNN
layers no longer take ``time_major``) and over tf.keras's op layers: a functional model that calls
a TensorFlow function (``x * 2``, ``tf.concat``, ``x[:, 0]``) stores the call as a ``TFOpLambda``
or ``SlicingOpLambda`` layer naming the function, which Keras 3 does not have.

:func:`translate_config` rewrites such a config into one Keras 3 builds, as a pure function on
JSON: only translations known to keep the model's meaning are made, each is listed in words, and
anything else is refused. An op layer is translated only when its TensorFlow function is on an
allow-list of pure tensor operations (:data:`TRANSLATED_OPS`) and its saved arguments are plain
numbers, flags, axes, shapes or slices; it becomes a Keras built-in layer where one computes the
same thing (``Concatenate``, ``Activation``, ``Reshape``), otherwise :class:`LegacyTFOp`, a layer
that maps the function onto ``keras.ops`` and checks the allow-list again when it is built, so no
config can make it call anything else.

``neurogenesis.io.models`` calls in here: :func:`vouches_for` from its config check,
:func:`translate_h5_config` from its scan, and :func:`load_translated` to load a translated file
(the model from the translated config, the weights from the same file by layer name).

Keras 3 itself cannot read ``keras.ops`` operations back from an .h5 file (it looks their class
names up among its layers), so a Keras 3 .h5 file holding them is refused with that reason.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neurogenesis.errors import InputError, UnsafeModelError

if TYPE_CHECKING:
    import keras

__all__ = [
    "KERAS_OPS_IN_H5",
    "OP_LAYER_CLASSES",
    "RESAVE_ADVICE",
    "TRANSLATED_OPS",
    "is_keras2_config",
    "legacy_op_layer_class",
    "load_translated",
    "translate_config",
    "translate_h5_config",
    "vouches_for",
]

OP_LAYER_CLASSES = frozenset({"TFOpLambda", "SlicingOpLambda"})
"""tf.keras's layers for TensorFlow functions called on Keras tensors in a functional model."""
KERAS_OPS_IN_H5 = (
    "Keras 3 cannot read keras.ops operations from .h5 files; save the model as .keras "
    '(model.save("model.keras"))'
)
RESAVE_ADVICE = "re-save the model with Keras 3: model.save('model.keras')"
LAYER_CLASS_NAME = "LegacyTFOp"
"""The class name translated op layers get in the translated config."""

_CONSTANT_VALUE = "_CONSTANT_VALUE"  # tf.keras's marker for a first argument that is no tensor
_MAX_SHOWN = 60

# --- the allow-list ----------------------------------------------------------------------------
#
# Kinds of argument: what a saved argument may be for the translation to be exact.
_TENSOR = "tensor"  # a Keras tensor, or a number (TensorFlow converts it to one)
_TENSORS = "tensors"  # a list of Keras tensors
_AXIS = "axis"  # None, an int, or a list of ints
_INTS = "ints"  # a list of ints (a shape, a permutation); None where the default is None
_BOOL = "bool"
_FALSE = "false"  # a flag translated only when False (conjugate: no complex numbers here)
_SLICES = "slices"  # getitem's slice_spec: ints, slices, None (new axis) and Ellipsis
_REQUIRED = object()


@dataclass(frozen=True)
class _Op:
    """One TensorFlow function tf.keras may have stored, and the keras.ops call it becomes.

    Attributes:
        params: The function's parameters in order (name, kind, default or _REQUIRED); the first
            is the tensor the op layer was called on. ``name`` is always accepted and ignored.
        keras: The ``keras.ops`` function, called with the parameters' values in order.
        passed: The parameters handed on to ``keras``, in order (None: all of them).
    """

    params: tuple[tuple[str, str, Any], ...]
    keras: str
    passed: tuple[str, ...] | None = None


def _binary(keras_name: str) -> _Op:
    return _Op((("x", _TENSOR, _REQUIRED), ("y", _TENSOR, _REQUIRED)), keras_name)


def _unary(keras_name: str, param: str = "x") -> _Op:
    return _Op(((param, _TENSOR, _REQUIRED),), keras_name)


def _reduction(keras_name: str) -> _Op:
    return _Op(
        (
            ("input_tensor", _TENSOR, _REQUIRED),
            ("axis", _AXIS, None),
            ("keepdims", _BOOL, False),
        ),
        keras_name,
    )


# Keyed by the "function" a TFOpLambda/SlicingOpLambda config stores (``tf.`` left off). Only
# pure tensor operations whose keras.ops counterpart computes the same values (same broadcasting,
# same defaults) are listed; tests/io/test_legacy.py checks each against tf.keras's own output.
TRANSLATED_OPS: dict[str, _Op] = {
    "math.multiply": _binary("multiply"),
    "math.add": _binary("add"),
    "__operators__.add": _binary("add"),
    "math.subtract": _binary("subtract"),
    "math.truediv": _binary("true_divide"),
    "math.maximum": _binary("maximum"),
    "math.minimum": _binary("minimum"),
    "math.negative": _unary("negative"),
    "math.abs": _unary("abs"),
    "math.square": _unary("square"),
    "math.sqrt": _unary("sqrt"),
    "math.exp": _unary("exp"),
    "math.log": _unary("log"),
    "math.sigmoid": _unary("sigmoid"),
    "math.tanh": _unary("tanh"),
    "nn.relu": _unary("relu", "features"),
    "nn.relu6": _unary("relu6", "features"),
    "nn.softmax": _Op((("logits", _TENSOR, _REQUIRED), ("axis", _AXIS, None)), "softmax"),
    "math.reduce_mean": _reduction("mean"),
    "math.reduce_sum": _reduction("sum"),
    "math.reduce_max": _reduction("max"),
    "math.reduce_min": _reduction("min"),
    "concat": _Op((("values", _TENSORS, _REQUIRED), ("axis", _AXIS, _REQUIRED)), "concatenate"),
    "stack": _Op((("values", _TENSORS, _REQUIRED), ("axis", _AXIS, 0)), "stack"),
    "reshape": _Op((("tensor", _TENSOR, _REQUIRED), ("shape", _INTS, _REQUIRED)), "reshape"),
    "compat.v1.transpose": _Op(
        (("a", _TENSOR, _REQUIRED), ("perm", _INTS, None), ("conjugate", _FALSE, False)),
        "transpose",
        passed=("a", "perm"),  # conjugate is always False here
    ),
    "expand_dims": _Op((("input", _TENSOR, _REQUIRED), ("axis", _AXIS, _REQUIRED)), "expand_dims"),
    "__operators__.getitem": _Op(
        (("tensor", _TENSOR, _REQUIRED), ("slice_spec", _SLICES, _REQUIRED)), ""
    ),
}

# Elementwise activations whose Keras built-in Activation computes exactly the TensorFlow function.
_ACTIVATIONS = {"nn.relu": "relu", "math.sigmoid": "sigmoid", "math.tanh": "tanh"}

# --- argument differences between tf.keras 2.x and Keras 3 ----------------------------------------
#
# Each seen in a real tf.keras 2.21 config that Keras 3.15 refuses ("Unrecognized keyword arguments
# passed to ..."); see tests/data/make_tf_keras_files.py and keras-team/keras issues #19151
# (DepthwiseConv2D groups), #19441 (Conv2DTranspose groups), #20750 (GRU time_major).
_GROUPS_CLASSES = frozenset(
    {
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "Conv1DTranspose",
        "Conv2DTranspose",
        "Conv3DTranspose",
        "SeparableConv1D",
        "SeparableConv2D",
    }
)
_TIME_MAJOR_CLASSES = frozenset(
    {"LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}
)
_SEPARABLE_CLASSES = frozenset({"SeparableConv1D", "SeparableConv2D"})
# tf.keras's SeparableConv passes these to its Conv base but builds only depthwise and pointwise
# kernels from depthwise_*/pointwise_* arguments: they never touched the model.
_SEPARABLE_UNUSED = ("kernel_initializer", "kernel_regularizer", "kernel_constraint")
_SPATIAL_DROPOUT_CLASSES = frozenset({"SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"})
_SPATIAL_DROPOUT_UNUSED = ("trainable", "noise_shape")
_MODEL_CLASSES = frozenset({"Functional", "Model", "Sequential"})


# --- which files ----------------------------------------------------------------------------------


def is_keras2_config(config: dict, keras_version: str | None) -> bool:
    """Whether an .h5 model config was written by Keras 2 / tf.keras rather than Keras 3.

    The file's ``keras_version`` attribute says so when present (``'2.21.0'``, ``'2.2.4-tf'``);
    otherwise a Keras 3 config is known by its layers' ``module`` keys, which Keras 2 never wrote.
    """
    if isinstance(keras_version, str) and re.match(r"\d+", keras_version):
        return int(re.match(r"\d+", keras_version).group(0)) < 3
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return False
    return not any(isinstance(entry, dict) and "module" in entry for entry in layers)


def vouches_for(entry: dict, where: str, keras_loaded: bool, display: str = "the file") -> bool:
    """For the config check: an .h5 entry without a module that this module answers for.

    Returns True for tf.keras's op layers (whether each one can be translated is decided by
    :func:`translate_h5_config`), False for anything the usual checks should judge.

    Raises:
        InputError: The entry is a ``keras.ops`` operation in a Keras 3 .h5 file. With Keras
            loaded its class must be one of Keras's own operation classes (an unknown class is
            left to the usual refusal of custom classes); without Keras, the entry's shape says
            it (a Keras 3 node that records no ``trainable``, which every layer does).
    """
    class_name = entry.get("class_name")
    if class_name in OP_LAYER_CLASSES:
        return True
    if _is_keras3_op_node(entry) and (not keras_loaded or class_name in keras_op_class_names()):
        raise keras_op_in_h5(where, display, class_name)
    return False


def keras_op_in_h5(where: str, display: str, class_name: str) -> InputError:
    """Why a Keras 3 .h5 file with a ``keras.ops`` node cannot load (not a security refusal)."""
    return InputError(
        f"{where} of {display} is the Keras operation {_quote(class_name)} (a keras.ops call in "
        f"the model's graph, not a custom class). {KERAS_OPS_IN_H5}."
    )


def _is_keras3_op_node(entry: dict) -> bool:
    nodes = entry.get("inbound_nodes")
    inner = entry.get("config")
    return (
        isinstance(nodes, list)
        and bool(nodes)
        and all(isinstance(node, dict) and "args" in node for node in nodes)
        and isinstance(inner, dict)
        and "trainable" not in inner
    )


@functools.cache
def keras_op_class_names() -> frozenset[str]:
    """Names of Keras's own operation classes (``keras.ops`` calls in a functional graph).

    Read from the ``keras.src.ops`` modules that importing Keras loaded (nothing is imported
    here): every class defined there that is an ``Operation`` but no ``Layer``.
    """
    import inspect

    import keras  # noqa: F401 - loads keras.src.ops

    try:
        from keras.src.layers import Layer
        from keras.src.ops.operation import Operation
    except ImportError:  # a future Keras without these paths: the node's shape decides alone
        return frozenset()
    names: set[str] = set()
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("keras.src.ops.") or module_name.endswith("_test"):
            continue
        for name, value in list(vars(module).items()):
            if (
                inspect.isclass(value)
                and issubclass(value, Operation)
                and not issubclass(value, Layer)
                and value.__module__ == module_name
            ):
                names.add(name)
    return frozenset(names)


def translate_h5_config(config: dict, keras_version: str | None) -> tuple[dict, tuple[str, ...]]:
    """The config to build from an .h5 model file, and the translations made (none for Keras 3).

    Raises:
        UnsafeModelError: An op layer that is not translated (see :func:`translate_config`).
        InputError: A Keras 2 config that cannot be translated, or op layers in a file that is not
            a Keras 2 file.
    """
    if is_keras2_config(config, keras_version):
        return translate_config(config)
    for entry in _entries(config):
        if entry.get("class_name") in OP_LAYER_CLASSES:
            raise InputError(
                f"Layer {_quote(_name_of(entry))} is a tf.keras {entry['class_name']} in a file "
                f"that says it was saved by Keras {keras_version or '3'}; only Keras 2 / tf.keras "
                f"files are translated. Save the model again from where it was made, or "
                f"{RESAVE_ADVICE}."
            )
    return config, ()


# --- the translation ------------------------------------------------------------------------------


def translate_config(config: dict) -> tuple[dict, tuple[str, ...]]:
    """Translates a Keras 2 / tf.keras model config into one Keras 3 builds.

    A pure function on the JSON: the input is not changed. Every change is one of a few known,
    safe translations:

    - ``groups=1`` dropped from DepthwiseConv1D/2D, Conv1D/2D/3DTranspose and SeparableConv1D/2D
      (Keras 3 does not take it; any other value is refused);
    - ``time_major=False`` dropped from the RNN layers (True is refused);
    - ``kernel_initializer``/``kernel_regularizer``/``kernel_constraint`` dropped from
      SeparableConv1D/2D, which tf.keras never used for it;
    - ``trainable`` and ``noise_shape`` dropped from SpatialDropout1D/2D/3D (no weights; tf.keras
      made its own noise shape; Keras 3 takes neither);
    - ``TFOpLambda``/``SlicingOpLambda`` layers calling a function of :data:`TRANSLATED_OPS`
      with plain arguments, replaced by ``Concatenate``/``Activation``/``Reshape`` or by
      :class:`LegacyTFOp` under the same layer name.

    Args:
        config: A model config as tf.keras saved it (``json.loads`` of an .h5 file's
            ``model_config`` attribute).

    Returns:
        The translated copy, and one sentence per translation made, in config order.

    Raises:
        UnsafeModelError: An op layer calling a function that is not on the allow-list, or one
            whose arguments are not plain values: nothing is translated and it stays refused.
        InputError: A config whose argument differences cannot be dropped without changing the
            model (``groups=2``, ``time_major=True``), or a damaged op layer.
    """
    translated = copy.deepcopy(config)
    notes: list[str] = []
    _translate_object(translated, notes)
    return translated, tuple(notes)


def _translate_object(value: Any, notes: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _translate_object(item, notes)
        return
    if not isinstance(value, dict):
        return
    class_name = value.get("class_name")
    inner = value.get("config")
    if isinstance(class_name, str) and isinstance(inner, dict):
        if class_name in OP_LAYER_CLASSES:
            raise UnsafeModelError(
                f"Refused: layer {_quote(_name_of(value))} is a tf.keras {class_name} outside a "
                f"functional model's layers, which is never translated; {RESAVE_ADVICE}."
            )
        _fix_arguments(class_name, inner, notes)
        if class_name in _MODEL_CLASSES and isinstance(inner.get("layers"), list):
            _translate_layers(inner["layers"], notes)
    for item in value.values():
        _translate_object(item, notes)


def _fix_arguments(class_name: str, inner: dict, notes: list[str]) -> None:
    where = f"{class_name} {_quote(inner.get('name'))}"
    if class_name in _GROUPS_CLASSES and "groups" in inner:
        if inner["groups"] != 1:
            raise InputError(
                f"{where} has groups={_shown(inner['groups'])}; Keras 3's {class_name} does not "
                f"take groups, and it cannot be dropped without changing the model. "
                f"{RESAVE_ADVICE[0].upper()}{RESAVE_ADVICE[1:]}."
            )
        del inner["groups"]
        notes.append(f"{where}: dropped groups=1, which Keras 3 does not take")
    if class_name in _SEPARABLE_CLASSES:
        unused = [key for key in _SEPARABLE_UNUSED if key in inner]
        for key in unused:
            del inner[key]
        if unused:
            notes.append(
                f"{where}: dropped {', '.join(unused)}, which tf.keras's {class_name} never used "
                "(its kernels come from the depthwise_ and pointwise_ arguments)"
            )
    if class_name in _TIME_MAJOR_CLASSES and "time_major" in inner:
        if inner["time_major"] is not False:
            raise InputError(
                f"{where} has time_major={_shown(inner['time_major'])}; Keras 3 takes no "
                f"time_major (its RNNs are batch-major). {RESAVE_ADVICE[0].upper()}"
                f"{RESAVE_ADVICE[1:]}."
            )
        del inner["time_major"]
        notes.append(f"{where}: dropped time_major=False, which Keras 3 does not take")
    if class_name in _SPATIAL_DROPOUT_CLASSES:
        # tf.keras's SpatialDropout computes its own noise shape (noise_shape is never read) and
        # has no weights to train; Keras 3's takes neither argument.
        dropped = [
            f"{key}={_shown(inner.pop(key))}" for key in _SPATIAL_DROPOUT_UNUSED if key in inner
        ]
        if dropped:
            notes.append(
                f"{where}: dropped {', '.join(dropped)}, which Keras 3's {class_name} does not "
                "take (tf.keras's never used them: it has no weights and makes its own noise shape)"
            )


def _translate_layers(layers: list, notes: list[str]) -> None:
    names = {_name_of(entry) for entry in layers if isinstance(entry, dict)}
    for index, entry in enumerate(layers):
        if isinstance(entry, dict) and entry.get("class_name") in OP_LAYER_CLASSES:
            layers[index], note = _translate_op_layer(entry, names)
            notes.append(note)


@dataclass(frozen=True)
class _Call:
    """One op layer's call, read from its config and inbound node."""

    function: str
    op: _Op
    constants: dict[str, Any]  # parameter -> plain value
    inputs: list[list]  # [layer name, node index, tensor index] per tensor input, in order
    tensor_arguments: list[str]  # the parameter each input goes to
    list_argument: str | None  # the parameter that takes a list of tensors


def _translate_op_layer(entry: dict, names: set[str]) -> tuple[dict, str]:
    class_name = entry["class_name"]
    inner = entry["config"]
    name = _name_of(entry)
    where = f"layer {_quote(name)}"
    function = inner.get("function")
    if not isinstance(function, str):
        raise InputError(f"{where} is a damaged tf.keras {class_name}: it names no function.")
    op = TRANSLATED_OPS.get(function)
    expected_class = "SlicingOpLambda" if function == "__operators__.getitem" else "TFOpLambda"
    if op is None or class_name != expected_class:
        raise UnsafeModelError(
            f"Refused: {where} is a tf.keras {class_name} calling {_quote('tf.' + function)}, "
            "which NeuroGenesis does not translate to Keras 3 (only pure tensor operations on its "
            f"list are: {', '.join('tf.' + key for key in TRANSLATED_OPS)}); {RESAVE_ADVICE}."
        )
    call = _read_call(entry, function, op, names, where)
    common = {"name": name, "trainable": inner.get("trainable", True), "dtype": inner.get("dtype")}
    words = _describe_call(call)
    node = [[*ref, {}] for ref in call.inputs]
    replacement: dict[str, Any] | None = None
    if function == "concat" and len(call.inputs) >= 2 and isinstance(call.constants["axis"], int):
        axis = call.constants["axis"]
        replacement = {"class_name": "Concatenate", "config": {**common, "axis": axis}}
        target = f"Concatenate(axis={axis})"
    elif function in _ACTIVATIONS:
        activation = _ACTIVATIONS[function]
        replacement = {"class_name": "Activation", "config": {**common, "activation": activation}}
        target = f"Activation({activation!r})"
    elif (
        function == "reshape"
        and call.tensor_arguments == ["tensor"]
        and call.constants["shape"][:1] == [-1]
    ):
        # A leading -1 keeps the batch: Keras's Reshape; it refuses a size that does not fit,
        # where tf.reshape would have folded the rest into the batch.
        target_shape = call.constants["shape"][1:]
        replacement = {"class_name": "Reshape", "config": {**common, "target_shape": target_shape}}
        target = f"Reshape({tuple(target_shape)})"
    if replacement is None:
        replacement = {
            "class_name": LAYER_CLASS_NAME,
            "config": {
                **common,
                "function": function,
                "arguments": call.constants,
                "tensor_arguments": call.tensor_arguments,
                "list_argument": call.list_argument,
            },
        }
        target = f"keras.ops.{op.keras}" if op.keras else "a slice in Keras 3"
    replacement.update({"name": name, "inbound_nodes": [node]})
    return replacement, f"{class_name} {_quote(name)}: {words} as {target}"


def _read_call(entry: dict, function: str, op: _Op, names: set[str], where: str) -> _Call:
    nodes = entry.get("inbound_nodes")
    if not isinstance(nodes, list) or len(nodes) != 1:
        raise InputError(
            f"{where} is a tf.keras op layer with {len(nodes) if isinstance(nodes, list) else 'no'}"
            f" calls; a translated op layer must be called once. {RESAVE_ADVICE[0].upper()}"
            f"{RESAVE_ADVICE[1:]}."
        )
    node = nodes[0]
    first_param, first_kind, _ = op.params[0]
    constants: dict[str, Any] = {}
    inputs: list[list] = []
    tensor_arguments: list[str] = []
    list_argument = None

    def refused(what: str) -> UnsafeModelError:
        return UnsafeModelError(
            f"Refused: {where} calls tf.{function} with {what}, which NeuroGenesis does not "
            f"translate to Keras 3; {RESAVE_ADVICE}."
        )

    # The first argument: one tensor entry [name, node, tensor, kwargs], a constant
    # ["_CONSTANT_VALUE", -1, value, kwargs], or a list of tensor entries.
    if _is_node_entry(node):
        entries = [node]
        if node[0] == _CONSTANT_VALUE:
            if first_kind != _TENSOR or not _is_number(node[2]):
                raise refused(f"the constant {_shown(node[2])} as {first_param}")
            constants[first_param] = node[2]
        else:
            if first_kind != _TENSOR:
                raise refused(f"one tensor as {first_param}")
            inputs.append(_ref(node, names, where))
            tensor_arguments.append(first_param)
    elif isinstance(node, list) and node and all(_is_node_entry(item) for item in node):
        entries = node
        if first_kind != _TENSORS or any(item[0] == _CONSTANT_VALUE for item in node):
            raise refused(f"a list of values as {first_param}")
        inputs.extend(_ref(item, names, where) for item in node)
        tensor_arguments.extend(first_param for _ in node)
        list_argument = first_param
    else:
        raise InputError(f"{where} is a damaged tf.keras op layer: its call cannot be read.")

    kwargs = entries[0][3] if len(entries[0]) == 4 else {}
    if not isinstance(kwargs, dict):
        raise InputError(f"{where} is a damaged tf.keras op layer: its arguments are not a map.")
    params = {param: (kind, default) for param, kind, default in op.params[1:]}
    for key, value in kwargs.items():
        if key == "name":
            if value is not None and not isinstance(value, str):
                raise refused(f"name={_shown(value)}")
            continue
        if key not in params:
            raise refused(f"the argument {_quote(key)}")
        kind, _ = params[key]
        if kind == _TENSOR and _is_tensor_ref(value):
            inputs.append(_ref(value, names, where))
            tensor_arguments.append(key)
        elif _plain(kind, value):
            constants[key] = value
        else:
            raise refused(f"{key}={_shown(value)}")
    for param, (_kind, default) in params.items():
        if param not in constants and param not in tensor_arguments:
            if default is _REQUIRED:
                raise refused(f"no {param}")
            constants[param] = default
    if function == "__operators__.getitem":
        constants["slice_spec"] = _normalized_slices(constants["slice_spec"])
    return _Call(function, op, constants, inputs, tensor_arguments, list_argument)


def _is_node_entry(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (3, 4)
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    )


def _is_tensor_ref(value: Any) -> bool:
    # tf.keras writes a Keras tensor in a call's arguments as [layer name, node, tensor].
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(type(item) is int for item in value[1:])
    )


def _ref(entry: list, names: set[str], where: str) -> list:
    name, node_index, tensor_index = entry[0], entry[1], entry[2]
    if name not in names or type(node_index) is not int or type(tensor_index) is not int:
        raise InputError(
            f"{where} is a damaged tf.keras op layer: it reads {_quote(str(name))}, which is not "
            "a layer of the model."
        )
    return [name, node_index, tensor_index]


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_int_list(value: Any) -> bool:
    return isinstance(value, list) and all(type(item) is int for item in value)


def _plain(kind: str, value: Any) -> bool:
    if kind == _TENSOR:
        return _is_number(value)
    if kind == _AXIS:
        return value is None or type(value) is int or (_is_int_list(value) and bool(value))
    if kind == _INTS:
        return value is None or _is_int_list(value)
    if kind == _BOOL:
        return type(value) is bool
    if kind == _FALSE:
        return value is False
    if kind == _SLICES:
        return _normalized_slices(value, check_only=True) is not None
    return False


def _normalized_slices(spec: Any, check_only: bool = False) -> Any:
    """getitem's slice_spec as plain JSON: ints, None, "..." and {start, stop, step} maps.

    tf.keras writes ``x[0:2]`` as one item and ``x[:, 0]`` as a list; Ellipsis as
    ``{"class_name": "__ellipsis__"}``. Returns None (check_only) when an item is anything else,
    a tensor index above all.
    """
    items = spec if isinstance(spec, list) else [spec]
    normalized: list[Any] = []
    for item in items:
        if item is None or type(item) is int or item == "...":
            normalized.append(item)
        elif isinstance(item, dict) and item == {"class_name": "__ellipsis__"}:
            normalized.append("...")
        elif (
            isinstance(item, dict)
            and set(item) == {"start", "stop", "step"}
            and all(part is None or type(part) is int for part in item.values())
            and item["step"] != 0
        ):
            normalized.append(dict(item))
        else:
            if check_only:
                return None
            raise InputError(f"Cannot translate the slice item {_shown(item)}.")
    if normalized.count("...") > 1:
        if check_only:
            return None
        raise InputError("Cannot translate a slice with two Ellipsis.")
    return normalized


def _describe_call(call: _Call) -> str:
    """The call in words: tensors by parameter name, plain values as written (``y=2.0``)."""
    if call.function == "__operators__.getitem":
        return f"tensor[{_slice_words(call.constants['slice_spec'])}]"
    parts = []
    for index, (param, _kind, _default) in enumerate(call.op.params):
        if param in call.tensor_arguments:
            parts.append(param)
        elif index == 0:
            parts.append(_shown(call.constants[param]))
        else:
            parts.append(f"{param}={_shown(call.constants[param])}")
    return f"tf.{call.function}({', '.join(parts)})"


# --- the layer ------------------------------------------------------------------------------------


def _check_layer_arguments(
    function: Any, arguments: Any, tensor_arguments: Any, list_argument: Any
) -> _Op:
    """The checks LegacyTFOp repeats when built, so that no config makes it call anything else."""
    op = TRANSLATED_OPS.get(function) if isinstance(function, str) else None
    if op is None:
        raise ValueError(
            f"LegacyTFOp calls only the operations of neurogenesis.io.legacy.TRANSLATED_OPS. "
            f"Received: function={function!r}"
        )
    kinds = {param: kind for param, kind, _ in op.params}
    if not isinstance(arguments, dict) or not isinstance(tensor_arguments, list | tuple):
        raise ValueError("LegacyTFOp expects arguments as a dict and tensor_arguments as a list.")
    for param, value in arguments.items():
        if param not in kinds or not _plain(kinds[param], value):
            raise ValueError(f"LegacyTFOp({function!r}) cannot take {param}={value!r}.")
    for param in tensor_arguments:
        if kinds.get(param) not in (_TENSOR, _TENSORS):
            raise ValueError(f"LegacyTFOp({function!r}) takes no tensor as {param!r}.")
    missing = set(kinds) - set(arguments) - set(tensor_arguments)
    if missing:
        raise ValueError(f"LegacyTFOp({function!r}) lacks {sorted(missing)}.")
    if list_argument is not None and kinds.get(list_argument) != _TENSORS:
        raise ValueError(f"LegacyTFOp({function!r}) takes no list as {list_argument!r}.")
    return op


def _slice_key(spec: list) -> tuple:
    key = []
    for item in spec:
        if item == "...":
            key.append(Ellipsis)
        elif isinstance(item, dict):
            key.append(slice(item["start"], item["stop"], item["step"]))
        else:
            key.append(item)
    return tuple(key)


@functools.cache
def legacy_op_layer_class() -> type[keras.layers.Layer]:
    """The LegacyTFOp layer class (made on first use, so that importing this module needs no Keras).

    It is registered with Keras as ``neurogenesis>LegacyTFOp``; :func:`load_translated` also
    hands it to the loader under its plain class name, which translated configs use.
    """
    import keras

    class LegacyTFOp(keras.layers.Layer):
        """A tf.keras op layer's TensorFlow call, computed with ``keras.ops``.

        Args:
            function: The TensorFlow function tf.keras stored, ``tf.`` left off
                (``'math.multiply'``); one of ``TRANSLATED_OPS``.
            arguments: The call's plain arguments by parameter name (``{'y': 2.0}``).
            tensor_arguments: The parameter each input tensor goes to, in input order.
            list_argument: The parameter that takes all its tensors as one list (``values`` of
                ``tf.concat``), or None.
            **kwargs: Layer arguments (``name``, ``dtype``, ``trainable``).
        """

        def __init__(
            self,
            function: str,
            arguments: dict | None = None,
            tensor_arguments: list[str] | tuple[str, ...] = (),
            list_argument: str | None = None,
            **kwargs: Any,
        ) -> None:
            kwargs["autocast"] = False  # as tf.keras's TFOpLambda: no casting of the inputs
            super().__init__(**kwargs)
            arguments = dict(arguments or {})
            tensor_arguments = list(tensor_arguments)
            self._op = _check_layer_arguments(function, arguments, tensor_arguments, list_argument)
            self.function = function
            self.arguments = arguments
            self.tensor_arguments = tensor_arguments
            self.list_argument = list_argument

        def call(self, inputs: Any) -> Any:
            tensors = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
            if len(tensors) != len(self.tensor_arguments):
                raise ValueError(
                    f"{self.name} expects {len(self.tensor_arguments)} input(s). "
                    f"Received: {len(tensors)}"
                )
            values = dict(self.arguments)
            for param, tensor in zip(self.tensor_arguments, tensors, strict=True):
                if param == self.list_argument:
                    values.setdefault(param, []).append(tensor)
                else:
                    values[param] = tensor
            if self.function == "__operators__.getitem":
                return values["tensor"][_slice_key(values["slice_spec"])]
            if self.function == "nn.softmax" and values["axis"] is None:
                values["axis"] = -1
            call = getattr(keras.ops, self._op.keras)
            passed = self._op.passed or tuple(param for param, _kind, _default in self._op.params)
            return call(*(values[param] for param in passed))

        def get_config(self) -> dict:
            config = super().get_config()
            config.pop("autocast", None)
            config.update(
                function=self.function,
                arguments=dict(self.arguments),
                tensor_arguments=list(self.tensor_arguments),
                list_argument=self.list_argument,
            )
            return config

    LegacyTFOp.__module__ = __name__
    LegacyTFOp.__qualname__ = LAYER_CLASS_NAME
    return keras.saving.register_keras_serializable(package="neurogenesis")(LegacyTFOp)


def __getattr__(name: str) -> Any:
    if name == LAYER_CLASS_NAME:
        return legacy_op_layer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- loading --------------------------------------------------------------------------------------


def load_translated(
    path: str, display: str, safe_mode_scope: Callable[[], contextlib.AbstractContextManager]
) -> keras.Model:
    """Builds a model from a Keras 2 .h5 file's translated config and loads its weights by name.

    Call it only on a file the pre-scan accepted (``neurogenesis.io.models.load_model`` does).
    The model is built the way Keras builds an .h5 model (legacy config scope, safe mode), from
    :func:`translate_config`'s copy; the weights come from the file's ``model_weights`` group,
    layer by layer name, and every layer with weights must find its own.

    Raises:
        InputError: Keras could not build the model or load its weights (the Keras exception is
            kept as ``__cause__``).
    """
    import h5py
    from keras.src.legacy.saving import json_utils, legacy_h5_format, saving_options, saving_utils

    try:
        with h5py.File(path, "r", locking=False) as handle:
            raw = handle.attrs["model_config"]
            text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            translated, _notes = translate_config(json.loads(text))
            layer_class = legacy_op_layer_class()
            with saving_options.keras_option_scope(use_legacy_config=True), safe_mode_scope():
                model = saving_utils.model_from_config(
                    json_utils.decode(json.dumps(translated)),
                    custom_objects={LAYER_CLASS_NAME: layer_class},
                )
            weights = handle["model_weights"]
            saved = {str(name) for name in _attribute_names(weights, "layer_names")}
            missing = [
                layer.name for layer in model.layers if layer.weights and layer.name not in saved
            ]
            if missing:
                raise ValueError(
                    f"no saved weights for layer(s) {', '.join(map(_quote, missing[:5]))}"
                )
            legacy_h5_format.load_weights_from_hdf5_group_by_name(weights, model)
    except InputError:
        raise
    except Exception as error:
        lines = str(error).strip().splitlines()
        reason = lines[0] if lines and lines[0] else type(error).__name__
        raise InputError(
            f"Keras could not rebuild the translated tf.keras model from {display}: "
            f"{_short(reason, 300)}"
        ) from error
    return model


def _attribute_names(group: Any, name: str) -> Iterator[str]:
    for value in group.attrs.get(name, []):
        yield value.decode("utf-8") if isinstance(value, bytes) else str(value)


# --- small helpers --------------------------------------------------------------------------------


def _entries(value: Any) -> Iterator[dict]:
    """Every serialized object (a dict with a class_name) in a config, outermost first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _name_of(entry: dict) -> str | None:
    inner = entry.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    if isinstance(name, str):
        return name
    return entry.get("name") if isinstance(entry.get("name"), str) else None


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(text: Any) -> str:
    return repr(_short(str(text), 80))


def _shown(value: Any) -> str:
    return _short(repr(value), _MAX_SHOWN)


def _slice_words(spec: list) -> str:
    """A normalized slice_spec as Python writes it: ``:, 0:2``, ``..., 1``, ``:, None``."""
    words = []
    for item in spec:
        if isinstance(item, dict):
            start, stop, step = (
                "" if item[key] is None else str(item[key]) for key in ("start", "stop", "step")
            )
            words.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            words.append(str(item))
    return ", ".join(words)

"""A Keras 3 model as runnable Python source, as its JSON config, or as a .keras file.

:func:`model_to_python` writes readable, runnable Keras code that rebuilds the architecture (not
the weights): one line per layer call, constructor arguments that differ from the layer's
defaults, shared layers kept as one object, nested models as their own builder functions, and
Keras operations that appear as graph nodes (``keras.ops.not_equal(token_ids, 0)``) as calls to
``keras.ops``. Everything that came from the model (layer names above all) is written with
``repr()``, so a hostile name stays a string; the code imports nothing but ``keras`` and
``numpy``.

:func:`model_to_json` and :func:`model_to_keras_bytes` are the two lossless exports, for the
download buttons.
"""

from __future__ import annotations

import builtins
import inspect
import json
import keyword
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from neurogenesis.errors import InputError, UnsupportedModelError

if TYPE_CHECKING:
    import keras

__all__ = [
    "MAX_CONSTANT_ELEMENTS",
    "model_to_json",
    "model_to_keras_bytes",
    "model_to_python",
    "supports",
]

MAX_CONSTANT_ELEMENTS = 100_000
"""Largest array constant (in elements) written into generated code; bigger ones are refused."""
MAX_LINE_LENGTH = 99
"""Generated lines longer than this put each argument on its own line."""
MAX_IDENTIFIER_LENGTH = 40
"""Longest Python variable name derived from a layer name."""

_OPS_NAMESPACES = ("keras.ops", "keras.ops.image", "keras.ops.linalg", "keras.ops.nn")
_SERIALIZED_NAMESPACES = ("initializers", "regularizers", "constraints")
_RESERVED_NAMES = frozenset(
    {"keras", "layers", "np", "model", "build_model", *dir(builtins), *keyword.kwlist}
)


class _Unrenderable(Exception):
    """A value that cannot be written as Python source; the caller falls back or refuses."""


# --------------------------------------------------------------------------------------------
# Public API


def supports(model: Any) -> bool:
    """Whether :func:`model_to_python` can write code for this model.

    Args:
        model: Any object; a Keras model built with the Sequential or functional API qualifies.

    Returns:
        True for Sequential models and functional models (including nested ones); False for
        subclassed models that have no functional graph and for anything that is not a model.
    """
    try:
        _check_model(model)
    except InputError:
        return False
    return True


def model_to_python(model: keras.Model) -> str:
    """Writes runnable Keras source that rebuilds the model's architecture (not its weights).

    The code defines ``build_model()``, which returns a fresh, untrained copy of the model with
    the same layers, names, shapes and parameter counts, and ends with an
    ``if __name__ == "__main__":`` block that builds it and prints ``model.summary()``.

    Args:
        model: A Keras 3 Sequential or functional model (nested models, shared layers,
            several inputs and outputs, and ``keras.ops`` graph nodes are supported).

    Returns:
        The Python source as one string.

    Raises:
        InputError: ``model`` is not a Keras model.
        UnsupportedModelError: the model is subclassed (no functional graph to read), or holds
            a layer that is not a built-in Keras layer, or a value that cannot be written as code.
    """
    _check_model(model)
    import keras

    writer = _Writer(model)
    body = writer.write()
    uses_numpy = writer.uses_numpy
    header = [
        f"# Keras code for the model {ascii(model.name)}, written by NeuroGenesis "
        f"(Keras {keras.__version__}).",
        "#",
        "# This file rebuilds the ARCHITECTURE only: the weights are NOT included, so the layers",
        "# start from fresh initial values. To keep the trained weights, download the .keras",
        '# export instead and open it with keras.saving.load_model("model.keras").',
        "",
        "import keras",
    ]
    if uses_numpy:
        header.append("import numpy as np")
    header.append("from keras import layers")
    footer = [
        "",
        "",
        'if __name__ == "__main__":',
        "    model = build_model()",
        "    model.summary()",
        "",
    ]
    return "\n".join(header) + "\n" + body + "\n".join(footer)


def model_to_json(model: keras.Model) -> str:
    """The model's Keras JSON config (``model.to_json()``), pretty-printed.

    Args:
        model: A Keras model whose layers can serialize their config.

    Returns:
        JSON text that ``keras.models.model_from_json`` reads back (architecture only).

    Raises:
        InputError: ``model`` is not a Keras model.
        UnsupportedModelError: the model cannot serialize its config.
    """
    _require_keras_model(model)
    try:
        text = model.to_json()
    except Exception as error:  # Keras raises NotImplementedError, TypeError, ValueError...
        raise UnsupportedModelError(
            f"Could not write the JSON config of model {model.name!r}: {error}. Expected a "
            "model whose layers all implement get_config(); try the .keras export instead."
        ) from error
    return json.dumps(json.loads(text), indent=2) + "\n"


def model_to_keras_bytes(model: keras.Model) -> bytes:
    """The model saved as a .keras file (architecture and weights), as bytes.

    Args:
        model: A Keras model.

    Returns:
        The bytes of the .keras archive, ready for a download button.

    Raises:
        InputError: ``model`` is not a Keras model.
        UnsupportedModelError: Keras could not save the model.
    """
    _require_keras_model(model)
    with tempfile.TemporaryDirectory(prefix="neurogenesis-export-") as folder:
        path = os.path.join(folder, "model.keras")
        try:
            model.save(path)
        except Exception as error:  # Keras raises many types when a layer cannot be saved.
            raise UnsupportedModelError(
                f"Could not save model {model.name!r} as a .keras file: {error}. Expected a "
                "model whose layers all implement get_config(); try the JSON export for the "
                "architecture, or save the weights with model.save_weights()."
            ) from error
        with open(path, "rb") as handle:
            return handle.read()


# --------------------------------------------------------------------------------------------
# Checks


def _require_keras_model(model: Any) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise InputError(
            f"Expected a Keras model (keras.Model). Received: {type(model).__name__}. "
            "Load one with neurogenesis.load_model(path) first."
        )


def _is_functional(model: Any) -> bool:
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)


def _is_sequential(model: Any) -> bool:
    import keras

    return isinstance(model, keras.Sequential)


def _check_model(model: Any) -> None:
    _require_keras_model(model)
    if not (_is_sequential(model) or _is_functional(model)):
        raise UnsupportedModelError(
            f"Model {model.name!r} is a subclassed model ({type(model).__name__}) with no "
            "functional graph: its architecture lives in Python code in its call() method, "
            "which cannot be read back. Expected a Sequential model or one built from "
            "keras.Input with keras.Model(inputs, outputs). Use the JSON or .keras export "
            "instead (they need the class's code to load)."
        )


# --------------------------------------------------------------------------------------------
# Graph walking


def _history_key(tensor: Any) -> tuple[int, int, int]:
    history = tensor._keras_history
    return (id(history.operation), history.node_index, history.tensor_index)


def _producing_node(tensor: Any) -> Any:
    history = tensor._keras_history
    return history.operation._inbound_nodes[history.node_index]


def _graph_nodes(model: Any) -> list[Any]:
    """The model's call nodes (inputs left out), parents first, in depth-first argument order."""
    input_keys = {_history_key(tensor) for tensor in model.inputs}
    ordered: list[Any] = []
    done: set[int] = set()
    for output in model.outputs:
        if _history_key(output) in input_keys:
            continue
        stack: list[tuple[Any, bool]] = [(_producing_node(output), False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                ordered.append(node)
                continue
            stack.append((node, True))
            parents = []
            for tensor in node.arguments.keras_tensors:
                if _history_key(tensor) in input_keys:
                    continue
                parent = _producing_node(tensor)
                if id(parent) not in done and not parent.is_input:
                    parents.append(parent)
            stack.extend((parent, False) for parent in reversed(parents))
    return ordered


def _scope_operations(model: Any) -> list[Any]:
    """The layers and operations a model calls directly, in order of first use."""
    if _is_sequential(model):
        return list(model.layers)
    seen: dict[int, Any] = {}
    for node in _graph_nodes(model):
        seen.setdefault(id(node.operation), node.operation)
    return list(seen.values())


# --------------------------------------------------------------------------------------------
# Names


def _identifier(text: str, fallback: str) -> str:
    name = re.sub(r"[^0-9A-Za-z_]+", "_", str(text)).strip("_").lower()[:MAX_IDENTIFIER_LENGTH]
    name = name.strip("_") or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name


class _Names:
    """Hands out unique, safe Python identifiers within one function."""

    def __init__(self, taken: set[str]):
        self.taken = set(taken)

    def new(self, text: str, fallback: str = "x") -> str:
        base = _identifier(text, fallback)
        name, count = base, 0
        while name in self.taken or name in _RESERVED_NAMES:
            count += 1
            name = f"{base}_{count}"
        self.taken.add(name)
        return name


# --------------------------------------------------------------------------------------------
# Values


def _float_source(value: float) -> str:
    if math.isnan(value):
        return 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else '-float("inf")'
    return repr(float(value))


def _string_source(text: str) -> str:
    """``repr(text)``, in double quotes where that needs no escaping (the house style)."""
    source = repr(text)
    if source.startswith("'") and '"' not in text:
        return '"' + source[1:-1] + '"'
    return source


def _call_source(function: str, arguments: list[str], indent: str, prefix: str = "") -> str:
    """``function(arg, ...)`` on one line, or wrapped the way ruff/black would wrap it."""
    one_line = f"{function}({', '.join(arguments)})"
    last_line = (indent + prefix + function).rsplit("\n", 1)[-1]
    if not arguments or len(last_line) + len(one_line) - len(function) <= MAX_LINE_LENGTH:
        return one_line
    inner = indent + "    "
    joined = ", ".join(arguments)
    if "\n" not in joined and len(inner) + len(joined) <= MAX_LINE_LENGTH:
        return f"{function}(\n{inner}{joined}\n{indent})"
    return f"{function}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{indent})"


def _is_serialized_object(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


def _same(a: Any, b: Any) -> bool:
    """Deep equality for configs: tuples equal lists, arrays compare by value, NaN equals NaN."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
        except TypeError:
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return type(a) is type(b) and a == b
    try:
        return bool(a == b)
    except Exception:
        return False


@dataclass
class _Renderer:
    """Writes Python values as source; ``tensor_names`` maps graph tensors to variables."""

    tensor_names: dict[tuple[int, int, int], str] = field(default_factory=dict)
    uses_numpy: bool = False

    def value(self, value: Any, objects: bool = True) -> str:
        """Source for ``value``; ``objects`` turns serialized Keras objects into constructors."""
        import keras

        if value is None or isinstance(value, (bool, np.bool_)):
            return repr(None if value is None else bool(value))
        if isinstance(value, (int, np.integer)):
            return repr(int(value))
        if isinstance(value, (float, np.floating)):
            return _float_source(float(value))
        if isinstance(value, str):
            return _string_source(value)
        if isinstance(value, bytes):
            return repr(value)
        if value is Ellipsis:
            return "..."
        if isinstance(value, slice):
            parts = [self.value(v) for v in (value.start, value.stop, value.step)]
            return f"slice({', '.join(parts)})"
        if isinstance(value, keras.KerasTensor):
            key = _history_key(value)
            if key not in self.tensor_names:
                raise _Unrenderable("a tensor that is not produced inside this model")
            return self.tensor_names[key]
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, tuple):
            items = [self.value(v, objects) for v in value]
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, list):
            return f"[{', '.join(self.value(v, objects) for v in value)}]"
        if isinstance(value, dict):
            if value.get("class_name") in ("__numpy__", "__tensor__") and isinstance(
                value.get("config"), dict
            ):
                config = value["config"]
                return self.array(np.asarray(config.get("value"), dtype=config.get("dtype")))
            if objects and _is_serialized_object(value):
                return self.serialized_object(value)
            items = []
            for key, item in value.items():
                if not isinstance(key, (str, int)):
                    raise _Unrenderable(f"a dict key of type {type(key).__name__}")
                items.append(f"{self.value(key)}: {self.value(item, objects)}")
            return "{" + ", ".join(items) + "}"
        if keras.ops.is_tensor(value):
            return self.array(keras.ops.convert_to_numpy(value))
        raise _Unrenderable(f"a value of type {type(value).__name__}")

    def array(self, array: np.ndarray) -> str:
        if array.size > MAX_CONSTANT_ELEMENTS:
            raise _Unrenderable(
                f"a constant array of {array.size:,} elements (at most "
                f"{MAX_CONSTANT_ELEMENTS:,} are written into code)"
            )
        if array.dtype.kind not in "biuf":
            raise _Unrenderable(f"a constant array of dtype {array.dtype}")
        self.uses_numpy = True
        return f"np.array({self.value(array.tolist())}, dtype={self.value(str(array.dtype))})"

    def serialized_object(self, config: dict) -> str:
        """A serialized Keras object (initializer, regularizer, dtype policy...) as source."""
        import keras

        module = str(config.get("module") or "")
        class_name = config.get("class_name")
        inner = config.get("config")
        if (
            module == "keras"
            and class_name == "DTypePolicy"
            and isinstance(inner, dict)
            and set(inner) == {"name"}
            and isinstance(inner["name"], str)
        ):
            return self.value(inner["name"])
        namespace = module.removeprefix("keras.")
        if (
            namespace in _SERIALIZED_NAMESPACES
            and isinstance(inner, dict)
            and isinstance(class_name, str)
            and not config.get("registered_name")
        ):
            cls = getattr(getattr(keras, namespace), class_name, None)
            if isinstance(cls, type):
                arguments = _keyword_differences(cls, inner, required=())
                if arguments is not None:
                    rendered = [f"{k}={self.value(v)}" for k, v in arguments.items()]
                    return f"keras.{namespace}.{class_name}({', '.join(rendered)})"
        if module.startswith(("keras.layers", "keras.src.layers")):
            try:
                layer = keras.saving.deserialize_keras_object(config)
            except Exception as error:
                raise _Unrenderable(
                    f"a nested layer that Keras cannot rebuild ({error})"
                ) from error
            return self.layer_constructor(layer, indent="")
        if module == "keras" or module.startswith("keras."):
            return f"keras.saving.deserialize_keras_object({self.value(config, objects=False)})"
        raise _Unrenderable(f"an object from module {module!r}, outside Keras")

    def layer_constructor(self, layer: Any, indent: str, prefix: str = "") -> str:
        """``layers.Dense(16, activation="relu", name="hidden")``, or ``.from_config``."""
        import keras

        cls = type(layer)
        if getattr(keras.layers, cls.__name__, None) is not cls:
            raise UnsupportedModelError(
                f"Layer {layer.name!r} is a {cls.__module__}.{cls.__qualname__}, which is not a "
                "built-in Keras layer, so the generated code could not import it. Expected only "
                "keras.layers classes; use the .keras export, which keeps the class name, and "
                "load it where that class is defined."
            )
        function = f"layers.{cls.__name__}"
        try:
            config = layer.get_config()
        except Exception as error:
            raise UnsupportedModelError(
                f"Layer {layer.name!r} ({cls.__name__}) cannot report its config ({error}), so "
                "its code cannot be written. Use the .keras export instead."
            ) from error
        required = _required_parameters(cls)
        arguments = None
        if required is not None and all(name in config for name in required):
            arguments = _keyword_differences(cls, config, required=required)
        if arguments is not None:
            positional = {name: config[name] for name in required}
            positional, arguments = _simplified(cls, config, positional, arguments)
            try:
                rendered = [self.value(value) for value in positional.values()]
                rendered += [f"{key}={self.value(value)}" for key, value in arguments.items()]
                return _call_source(function, rendered, indent, prefix)
            except _Unrenderable:
                pass
        try:
            source = f"{function}.from_config({self.value(config, objects=False)})"
            if len(indent) + len(prefix) + len(source) <= MAX_LINE_LENGTH:
                return source
            inner, deeper = indent + "    ", indent + "        "
            items = "".join(
                f"{deeper}{self.value(key)}: {self.value(value, objects=False)},\n"
                for key, value in config.items()
            )
            return f"{function}.from_config(\n{inner}{{\n{items}{inner}}}\n{indent})"
        except _Unrenderable as error:
            raise UnsupportedModelError(
                f"Layer {layer.name!r} ({cls.__name__}) holds {error} in its config, which "
                "cannot be written as code. Use the .keras export instead."
            ) from error


def _required_parameters(cls: type) -> list[str] | None:
    """Names of ``cls.__init__``'s parameters that have no default, or None if unreadable."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return None
    names = []
    for index, parameter in enumerate(signature.parameters.values()):
        if index == 0 or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is parameter.empty:
            if parameter.kind is parameter.POSITIONAL_ONLY:
                return None
            names.append(parameter.name)
    return names


def _simplified(cls: type, config: dict, positional: dict, keywords: dict) -> tuple[dict, dict]:
    """Writes ``(3, 3)`` as ``3`` where the layer accepts that and the config stays the same."""

    def simple(value: Any) -> Any:
        if (
            isinstance(value, tuple)
            and len(value) > 1
            and all(type(v) is int and v == value[0] for v in value)
        ):
            return value[0]
        return value

    new_positional = {key: simple(value) for key, value in positional.items()}
    new_keywords = {key: simple(value) for key, value in keywords.items()}
    if new_positional == positional and new_keywords == keywords:
        return positional, keywords
    try:
        arguments = {**new_positional, **new_keywords}
        rebuilt = cls(**{key: _materialize(value) for key, value in arguments.items()})
        if _same(rebuilt.get_config(), config):
            return new_positional, new_keywords
    except Exception:
        pass
    return positional, keywords


def _materialize(value: Any) -> Any:
    """A serialized nested layer (a wrapper's ``layer``) as a layer object, for a constructor."""
    import keras

    if _is_serialized_object(value) and str(value.get("module") or "").startswith(
        ("keras.layers", "keras.src.layers")
    ):
        return keras.saving.deserialize_keras_object(value)
    return value


def _keyword_differences(cls: type, config: dict, required: Any) -> dict | None:
    """The config entries that differ from a default ``cls`` instance's, checked to round-trip.

    Builds ``cls(required...)`` to read the defaults, then ``cls(required..., differences...)``
    and checks that its config equals ``config``. Returns None when the class cannot be built
    that way (the caller then falls back to ``from_config``).
    """
    required = list(required)
    named = {"name": config["name"]} if "name" in config else {}
    try:
        base = {name: _materialize(config[name]) for name in required}
        defaults = cls(**base, **named).get_config()
        differences = {
            key: value
            for key, value in config.items()
            if key not in required
            and key != "name"
            and (key not in defaults or not _same(defaults[key], value))
        }
        # Defaults can depend on other arguments (MaxPooling2D's strides follow pool_size), so
        # add back whatever the rebuilt layer still gets wrong, a few rounds at most.
        for _ in range(4):
            rebuilt = cls(
                **base, **named, **{key: _materialize(value) for key, value in differences.items()}
            ).get_config()
            if _same(rebuilt, config):
                break
            missing = {
                key: value
                for key, value in config.items()
                if key not in required
                and key not in differences
                and (key not in rebuilt or not _same(rebuilt[key], value))
            }
            if not missing:
                return None
            differences.update(missing)
        else:
            return None
    except Exception:
        return None
    if "name" in named:
        differences["name"] = config["name"]
    return differences


# --------------------------------------------------------------------------------------------
# Operations (keras.ops nodes)


def _function_names(class_name: str) -> list[str]:
    """Likely ``keras.ops`` function names for an operation class: ``RGBToHSV`` -> ``rgb_to_hsv``."""
    snake = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", "_", class_name).lower()
    alias = re.sub(r"_norm$", "_normalization", snake)
    return list(dict.fromkeys([snake, class_name.lower(), alias]))


def _public_op_function(operation: Any) -> tuple[str, Any] | None:
    """``("keras.ops.not_equal", function)`` for an operation class, if Keras exports one.

    The match is only a candidate: the caller checks that calling it rebuilds the operation.
    """
    import importlib

    cls = type(operation)
    for namespace in _OPS_NAMESPACES:
        module = importlib.import_module(namespace)
        for function_name in _function_names(cls.__name__):
            function = getattr(module, function_name, None)
            if callable(function) and getattr(function, "__module__", None) == cls.__module__:
                return f"{namespace}.{function_name}", function
    return None


def _placeholder(value: Any) -> Any:
    import keras

    if isinstance(value, keras.KerasTensor):
        return keras.KerasTensor(value.shape, dtype=value.dtype, sparse=value.sparse)
    if isinstance(value, (list, tuple)):
        return type(value)(_placeholder(v) for v in value)
    if isinstance(value, dict):
        return {key: _placeholder(v) for key, v in value.items()}
    return value


def _op_config(operation: Any) -> dict:
    config = dict(operation.get_config())
    config.pop("name", None)
    return config


def _rebuilds_operation(call: Any, node: Any, arguments: dict) -> bool:
    """Whether ``call(*args, **arguments)`` on placeholders makes the same operation."""
    import keras

    operation = node.operation
    try:
        result = call(
            *_placeholder(list(node.arguments.args)),
            **_placeholder(dict(node.arguments.kwargs)),
            **arguments,
        )
        outputs = keras.tree.flatten(result)
        if len(outputs) != len(node.outputs):
            return False
        for output, original in zip(outputs, node.outputs, strict=True):
            made = output._keras_history.operation
            if type(made) is not type(operation) or not _same(
                _op_config(made), _op_config(operation)
            ):
                return False
            if tuple(output.shape) != tuple(original.shape) or output.dtype != original.dtype:
                return False
    except Exception:
        return False
    return True


def _op_keyword_arguments(function: Any, config: dict) -> dict | None:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return None
    arguments = {}
    for key, value in config.items():
        parameter = parameters.get(key)
        if parameter is None or parameter.kind is parameter.POSITIONAL_ONLY:
            return None
        if parameter.default is parameter.empty or not _same(parameter.default, value):
            arguments[key] = value
    return arguments


# --------------------------------------------------------------------------------------------
# The writer


@dataclass
class _Scope:
    model: Any
    builder: str


class _Writer:
    """Turns a model (and the models nested in it) into builder functions."""

    def __init__(self, model: Any):
        self.model = model
        self.renderer = _Renderer()
        self.scopes: dict[int, _Scope] = {}
        self.scope_order: list[int] = []
        self.uses: dict[int, set[int]] = {}  # object id -> ids of the scopes that call it
        self.objects: dict[int, Any] = {}
        self._collect(model)
        builder_names = _Names(set())
        builder_names.taken.add("build_model")
        for scope_id in self.scope_order:
            scope = self.scopes[scope_id]
            if scope.model is not model:
                scope.builder = builder_names.new(f"build_{scope.model.name}", "build")
        # Objects called from more than one model are made once in build_model and passed down.
        self.hoisted = [oid for oid, scopes in self.uses.items() if len(scopes) > 1]
        self.global_names = set(builder_names.taken)
        hoisted_names = _Names(self.global_names)
        self.hoisted_names = {
            oid: hoisted_names.new(self.objects[oid].name, "shared") for oid in self.hoisted
        }
        self.global_names |= set(self.hoisted_names.values())
        self._needs: dict[int, list[int]] = {}
        self._target_names: list[str] = []  # set by _targets for the node being written
        self._unpack: str | None = None

    @property
    def uses_numpy(self) -> bool:
        return self.renderer.uses_numpy

    def _collect(self, model: Any) -> None:
        import keras

        if id(model) in self.scopes:
            return
        self.scopes[id(model)] = _Scope(model, "build_model")
        for operation in _scope_operations(model):
            if isinstance(operation, keras.layers.InputLayer):
                continue
            self.objects[id(operation)] = operation
            self.uses.setdefault(id(operation), set()).add(id(model))
            if isinstance(operation, keras.Model):
                _check_model(operation)
                self._collect(operation)
        self.scope_order.append(id(model))  # children first

    def needs(self, scope_id: int) -> list[int]:
        """Hoisted objects a scope's builder must receive (used there or in its children)."""
        if scope_id in self._needs:
            return self._needs[scope_id]
        found: list[int] = []
        for operation in _scope_operations(self.scopes[scope_id].model):
            oid = id(operation)
            if oid in self.hoisted_names:
                found.append(oid)
            elif oid in self.scopes:
                found.extend(self.needs(oid))
        result = list(dict.fromkeys(found))
        self._needs[scope_id] = result
        return result

    def builder_call(self, model: Any) -> str:
        scope = self.scopes[id(model)]
        parameters = [self.hoisted_names[oid] for oid in self.needs(id(model))]
        return f"{scope.builder}({', '.join(parameters)})"

    def write(self) -> str:
        blocks = []
        for scope_id in self.scope_order:
            blocks.append(self._write_scope(self.scopes[scope_id]))
        return "\n\n" + "\n\n".join(blocks)

    def _hoisted_lines(self, names: _Names) -> list[str]:
        """Creates every hoisted object at the top of build_model, dependencies first."""
        import keras

        lines: list[str] = []
        made: set[int] = set()

        def make(oid: int) -> None:
            if oid in made:
                return
            made.add(oid)
            operation = self.objects[oid]
            if isinstance(operation, keras.Model):
                for need in self.needs(oid):
                    make(need)
                expression = self.builder_call(operation)
            else:
                expression = self.renderer.layer_constructor(
                    operation, "    ", f"{self.hoisted_names[oid]} = "
                )
            lines.append(f"    {self.hoisted_names[oid]} = {expression}")

        for oid in self.hoisted:
            make(oid)
        return lines

    def _write_scope(self, scope: _Scope) -> str:
        model = scope.model
        is_top = model is self.model
        parameters = [] if is_top else [self.hoisted_names[oid] for oid in self.needs(id(model))]
        names = _Names(self.global_names)
        kind = "Sequential" if _is_sequential(model) else "functional"
        lines = [
            f"def {scope.builder}({', '.join(parameters)}):",
            f'    """Builds the {kind} model {ascii(model.name)}."""'
            if not is_top
            else '    """Builds the model\'s architecture, with freshly initialized weights."""',
        ]
        if is_top:
            lines += self._hoisted_lines(names)
        if _is_sequential(model):
            lines += self._sequential_body(model, names)
        else:
            lines += self._functional_body(model, names)
        return "\n".join(lines) + "\n"

    def _object_expression(self, operation: Any, indent: str, prefix: str) -> str:
        import keras

        if id(operation) in self.hoisted_names:
            return self.hoisted_names[id(operation)]
        if isinstance(operation, keras.Model):
            return self.builder_call(operation)
        return self.renderer.layer_constructor(operation, indent, prefix)

    def _input_source(self, input_layer: Any, indent: str, prefix: str = "") -> str:
        import keras

        config = input_layer.get_config()
        batch_shape = list(config.get("batch_shape") or [None])
        arguments = [f"shape={self.renderer.value(tuple(batch_shape[1:]))}"]
        if batch_shape[0] is not None:
            arguments.append(f"batch_size={self.renderer.value(batch_shape[0])}")
        dtype = config.get("dtype")
        if dtype is not None and dtype != keras.config.floatx():
            arguments.append(f"dtype={self.renderer.value(dtype)}")
        for flag in ("sparse", "ragged", "optional"):
            if config.get(flag):
                arguments.append(f"{flag}=True")
        arguments.append(f"name={self.renderer.value(input_layer.name)}")
        return _call_source("keras.Input", arguments, indent, prefix)

    def _model_settings(self, model: Any, variable: str) -> list[str]:
        return [] if model.trainable else [f"    {variable}.trainable = False"]

    def _sequential_body(self, model: Any, names: _Names) -> list[str]:
        import keras

        items = []
        first = model._layers[0] if getattr(model, "_layers", None) else None
        if isinstance(first, keras.layers.InputLayer):
            items.append(self._input_source(first, "            "))
        for layer in model.layers:
            items.append(self._object_expression(layer, "            ", ""))
        lines = ["    model = keras.Sequential(", "        ["]
        lines += [f"            {item}," for item in items]
        lines += ["        ],", f"        name={self.renderer.value(model.name)},", "    )"]
        lines += self._model_settings(model, "model")
        lines.append("    return model")
        return lines

    def _functional_body(self, model: Any, names: _Names) -> list[str]:
        import keras

        renderer = self.renderer
        lines: list[str] = []
        object_names = dict(self.hoisted_names)
        call_counts: dict[int, int] = {}
        nodes = _graph_nodes(model)
        for node in nodes:
            call_counts[id(node.operation)] = call_counts.get(id(node.operation), 0) + 1

        for tensor in model.inputs:
            history = tensor._keras_history
            key = _history_key(tensor)
            if key in renderer.tensor_names:
                continue
            variable = names.new(history.operation.name, "inputs")
            if isinstance(history.operation, keras.layers.InputLayer):
                source = self._input_source(history.operation, "    ", f"{variable} = ")
            else:  # a model built on another model's intermediate tensor
                shape = self.renderer.value(tuple(tensor.shape[1:]))
                source = f"keras.Input(shape={shape}, dtype={self.renderer.value(tensor.dtype)})"
            lines.append(f"    {variable} = {source}")
            renderer.tensor_names[key] = variable

        for node in nodes:
            operation = node.operation
            oid = id(operation)
            shared = call_counts[oid] > 1 or isinstance(operation, keras.Model)
            if shared and oid not in object_names:
                variable = names.new(operation.name, "layer")
                expression = self._object_expression(operation, "    ", f"{variable} = ")
                lines.append(f"    {variable} = {expression}")
                object_names[oid] = variable
            targets = self._targets(node, names)
            prefix = f"{targets} = "
            if oid in object_names:
                call = self._call_arguments(node, object_names[oid], prefix)
            elif isinstance(operation, keras.layers.Layer):
                callee = renderer.layer_constructor(operation, "    ", prefix)
                call = self._call_arguments(node, callee, prefix)
            else:
                call = self._operation_call(node, prefix)
            lines.append(f"    {prefix}{call}")
            for index, tensor in enumerate(node.outputs):
                renderer.tensor_names[_history_key(tensor)] = self._target_names[index]

        inputs = self._structure(getattr(model, "_inputs_struct", model.inputs))
        outputs = self._structure(getattr(model, "_outputs_struct", model.outputs))
        name = renderer.value(model.name)
        arguments = [f"inputs={inputs}", f"outputs={outputs}", f"name={name}"]
        if model.trainable:
            lines.append(f"    return {_call_source('keras.Model', arguments, '    ', 'return ')}")
        else:
            lines.append(
                f"    model = {_call_source('keras.Model', arguments, '    ', 'model = ')}"
            )
            lines += self._model_settings(model, "model")
            lines.append("    return model")
        return lines

    def _structure(self, structure: Any) -> str:
        import keras

        if isinstance(structure, keras.KerasTensor):
            return self.renderer.tensor_names[_history_key(structure)]
        return self.renderer.value(structure, objects=False)

    def _targets(self, node: Any, names: _Names) -> str:
        """The left-hand side for a node's outputs; records the names in ``_target_names``."""
        import keras

        operation = node.operation
        outputs = node.outputs
        if isinstance(operation, keras.Model) and _is_functional(operation):
            inner = [t._keras_history.operation.name for t in operation.outputs]
            structure = operation._outputs_struct
        else:
            inner = [operation.name] * len(outputs)
            structure = outputs[0] if len(outputs) == 1 else list(outputs)
        self._target_names = [names.new(text, "x") for text in inner]
        self._unpack = None
        if isinstance(structure, keras.KerasTensor):
            return self._target_names[0]
        if isinstance(structure, (list, tuple)) and all(
            isinstance(item, keras.KerasTensor) for item in structure
        ):
            if len(self._target_names) == 1:
                return f"[{self._target_names[0]}]"
            return ", ".join(self._target_names)
        self._unpack = "keras.tree.flatten"
        return ", ".join(self._target_names) + ("," if len(self._target_names) == 1 else "")

    def _call_arguments(self, node: Any, callee: str, prefix: str) -> str:
        renderer = self.renderer
        try:
            arguments = [renderer.value(v) for v in node.arguments.args]
            arguments += [
                f"{k}={renderer.value(v)}"
                for k, v in node.arguments.kwargs.items()
                if not _filled_in_by_keras(k, v)
            ]
        except _Unrenderable as error:
            raise UnsupportedModelError(
                f"Layer {node.operation.name!r} is called with {error}, which cannot be written "
                "as code. Use the .keras export instead."
            ) from error
        if self._unpack:
            return (
                f"{self._unpack}({_call_source(callee, arguments, '    ', prefix + self._unpack)})"
            )
        return _call_source(callee, arguments, "    ", prefix)

    def _operation_call(self, node: Any, prefix: str) -> str:
        import keras

        operation = node.operation
        renderer = self.renderer
        config = _op_config(operation)
        args, kwargs = list(node.arguments.args), dict(node.arguments.kwargs)
        try:
            if (
                type(operation).__name__ == "GetItem"
                and len(args) == 2
                and not kwargs
                and not config
                and _rebuilds_operation(lambda x, key: x[key], node, {})
            ):
                return f"{renderer.value(args[0])}[{_subscript(renderer, args[1])}]"
            found = _public_op_function(operation)
            if found is not None:
                path, function = found
                keywords = _op_keyword_arguments(function, config)
                if keywords is not None and _rebuilds_operation(function, node, keywords):
                    rendered = [renderer.value(v) for v in args]
                    rendered += [f"{k}={renderer.value(v)}" for k, v in kwargs.items()]
                    rendered += [f"{k}={renderer.value(v)}" for k, v in keywords.items()]
                    return _call_source(path, rendered, "    ", prefix)
            serialized = keras.saving.serialize_keras_object(operation)
            module = str(serialized.get("module") or "")
            if not module.startswith("keras."):
                raise _Unrenderable(f"an operation from module {module!r}, outside Keras")
            rebuilt = keras.saving.deserialize_keras_object(serialized)
            if not _rebuilds_operation(rebuilt, node, {}):
                raise _Unrenderable("an operation that its config does not rebuild")
            rendered = [renderer.value(v) for v in args]
            rendered += [f"{k}={renderer.value(v)}" for k, v in kwargs.items()]
            factory = _call_source(
                "keras.saving.deserialize_keras_object",
                [renderer.value(serialized, objects=False)],
                "    ",
                prefix,
            )
            return f"{factory}({', '.join(rendered)})"
        except _Unrenderable as error:
            raise UnsupportedModelError(
                f"Operation {operation.name!r} ({type(operation).__name__}) is {error}, so its "
                "code cannot be written. Use the .keras export instead."
            ) from error


def _filled_in_by_keras(keyword: str, value: Any) -> bool:
    """Call arguments Keras records on its own (``mask=None``, ``training=False``).

    A functional model passes its own ``training`` to every layer at run time whenever it is
    set, and Keras falls back to inference otherwise, so a recorded ``training=False`` changes
    nothing; ``training=True`` (Monte Carlo dropout) is kept.
    """
    # Identity checks: `==` on a KerasTensor would add an operation to the graph.
    return (keyword == "mask" and value is None) or (
        keyword == "training" and (value is None or value is False)
    )


def _subscript(renderer: _Renderer, key: Any) -> str:
    """``[:, 1:3]``-style source for a GetItem key."""

    def one(item: Any) -> str:
        if isinstance(item, slice):
            parts = ["" if v is None else renderer.value(v) for v in (item.start, item.stop)]
            text = ":".join(parts)
            return text + (f":{renderer.value(item.step)}" if item.step is not None else "")
        return renderer.value(item)

    if isinstance(key, tuple):
        return ", ".join(one(item) for item in key) + ("," if len(key) == 1 else "")
    return one(key)

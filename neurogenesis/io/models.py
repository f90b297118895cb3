"""Safe model loading (.keras, .h5): a pre-scan, then Keras in safe mode, and clear errors.

A model file is a program: its config names classes and functions that Keras will import and
call. Before Keras sees a file, :func:`scan_model_file` reads it with zipfile, json and h5py
only (no TensorFlow, no Keras, nothing executed) and refuses:

- archives that could exhaust the machine: too many members, too many bytes, members that
  decompress far beyond what they store, configs or datasets over the size caps;
- archives that could write outside their folder: member names with ``..`` or absolute paths;
- configs that name code: ``Lambda`` layers, Python lambdas, ``TFSMLayer``,
  ``TorchModuleWrapper``, ``JaxLayer``/``FlaxLayer``, classes from modules outside ``keras.*``,
  registered custom objects (``"MyPkg>MyLayer"``) and functions Keras does not ship;
- HDF5 files that reach outside themselves: external links, external storage, virtual datasets.

Classes from an installed model library (KerasHub, KerasNLP, KerasCV: :data:`MODEL_LIBRARIES`)
load when the library is installed and Keras's registry of serializable objects hands back, under
the name the file gives, an object the library itself defined; the module a file names is never
imported. Everything inside such a model is checked as above.

The operator's own classes and functions (``register_keras_serializable``) load when whoever
started the process trusted the module that registers them: :func:`trust` (``--trust MODULE`` or
``--trust path/to/layers.py`` on the command line) imports it once, and an entry loads when the
registry's object under its registered name was defined in a trusted module. Nothing a model file
names is ever imported. Lambda layers load only after :func:`allow_lambda_layers`
(``--unsafe-allow-lambda``), with safe mode off for that one load.

HDF5 files (a .h5 model, or the weights inside a .keras archive) are read in full by a separate,
long-lived worker process before anything in this process opens them: the HDF5 C library can
crash outright on a crafted or damaged file, and that must not take the app down.

:func:`load_model` runs the same scan, plus checks that need Keras itself (is this legacy class
name one Keras provides?), then ``keras.saving.load_model(path, safe_mode=True, compile=False)``
inside a safe-mode scope, so that a process-wide ``enable_unsafe_deserialization()`` elsewhere
cannot switch safe mode off. Every refusal is an :class:`~neurogenesis.errors.InputError`
(:class:`~neurogenesis.errors.UnsafeModelError` for security refusals) with a one-line reason.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import inspect
import io
import json
import math
import os
import re
import select
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neurogenesis.errors import InputError, UnsafeModelError
from neurogenesis.io import legacy

if TYPE_CHECKING:
    import keras

__all__ = [
    "MAX_ARCHIVE_MEMBERS",
    "MAX_COMPRESSION_RATIO",
    "MAX_CONFIG_BYTES",
    "MAX_UNCOMPRESSED_BYTES",
    "MODEL_LIBRARIES",
    "LAMBDA_CODE",
    "REFUSED_CLASS_NAMES",
    "ModelCard",
    "TrainingSetup",
    "allow_lambda_layers",
    "lambda_layers_allowed",
    "load_model",
    "model_file_kind",
    "scan_model_file",
    "training_setup",
    "trust",
    "trust_argument",
    "trusted_modules",
]

MAX_ARCHIVE_MEMBERS = 10_000
"""Most members a .keras archive may list (Keras writes 3, plus one per asset file)."""
MAX_UNCOMPRESSED_BYTES = 4 * 1024**3
"""Most bytes a .keras archive may declare in all, and most any one HDF5 dataset may declare."""
MAX_COMPRESSION_RATIO = 100
"""Largest uncompressed/compressed ratio for a big archive member (Keras stores members as-is)."""
COMPRESSION_RATIO_MIN_BYTES = 16 * 1024**2
"""Members smaller than this skip the ratio check: zero-filled small weights compress hugely."""
MAX_CONFIG_BYTES = 64 * 1024**2
"""Most bytes of model configuration JSON (config.json, or the .h5 ``model_config`` attribute)."""
MAX_METADATA_BYTES = 1024**2
"""Most bytes of metadata.json."""
MAX_CONFIG_DEPTH = 200
"""Deepest nesting of lists and objects allowed in a model configuration."""
MAX_HDF5_OBJECTS = 100_000
"""Most links (groups, datasets, soft links) an HDF5 file may hold."""
READ_CHUNK_BYTES = 1024**2

MODEL_EXTENSIONS = (".keras", ".h5", ".hdf5")
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

REFUSED_CLASS_NAMES = frozenset(
    {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "__lambda__"}
)
_REFUSED_CLASS_REASONS = {
    "Lambda": "is a Lambda layer, which stores Python code",
    "TFSMLayer": "is a TFSMLayer, which loads a TensorFlow SavedModel from outside the file",
    "TorchModuleWrapper": "is a TorchModuleWrapper, which stores a pickled PyTorch module",
    "JaxLayer": "is a JaxLayer, which stores Python functions",
    "FlaxLayer": "is a FlaxLayer, which stores Python functions",
    "__lambda__": "holds a Python lambda stored as bytecode",
}
# Special entries Keras's serializer writes without a module.
_SPECIAL_CLASS_NAMES = frozenset(
    {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}
)
# Parts of Keras that hold no modelling classes: a config naming them is not a model.
_KERAS_REFUSED_SUBMODULES = frozenset(
    {
        "callbacks",
        "config",
        "datasets",
        "distribution",
        "export",
        "preprocessing",
        "saving",
        "utils",
    }
)
# Keras-3 "function" entries may only come from these parts of Keras.
_KERAS_FUNCTION_SUBMODULES = frozenset(
    {
        "activations",
        "constraints",
        "initializers",
        "losses",
        "metrics",
        "ops",
        "optimizers",
        "regularizers",
    }
)
# Words that have no business in a model config. Matched as tokens so that benign names such as
# 'evaluation_head' or 'pickled_features' pass.
_REFUSED_CONFIG_TOKENS = re.compile(
    r"enable_unsafe_deserialization"
    r"|(?<![A-Za-z0-9_])safe_mode(?![A-Za-z0-9_])"
    r"|__import__|__builtins__|__globals__|__subclasses__|__reduce(?:_ex)?__"
    r"|(?<![A-Za-z0-9_])(?:c?pickle|cloudpickle|dill|marshal)(?![A-Za-z0-9_])"
    r"|(?<![A-Za-z0-9_])(?:exec|eval)\s*\("
    r"|(?<![A-Za-z0-9_])os\.(?:system|popen|exec\w*|spawn\w*)"
    r"|(?<![A-Za-z0-9_])subprocess(?![A-Za-z0-9_])",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PYTHON_BUILTIN_NAMES = frozenset(dir(builtins))
_MODEL_CLASS_NAMES = frozenset({"Sequential", "Functional", "Model"})
_MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class ModelCard:
    """What the home page shows about a model file, read without importing TensorFlow or Keras.

    Attributes:
        path: The path as given.
        file_format: ``'keras'`` (zip archive) or ``'h5'`` (HDF5), from the file's bytes.
        name: The model's name from its config.
        model_class: ``'Sequential'``, ``'Functional'``, ...
        num_layers: Layers as ``len(model.layers)`` counts them (no InputLayer in a Sequential,
            no ``keras.ops`` nodes); None for a model whose config lists no layers (a
            subclassed model, a KerasHub backbone saved as its constructor's arguments).
        num_params: Parameters stored in the file, as ``model.count_params()`` counts them
            (optimizer variables excluded); None if unknown.
        input_shapes: One shape per model input, batch dimension first.
        output_summary: The last layer(s), e.g. ``"Dense(10, softmax)"``.
        keras_version: The Keras version that saved the file, if it says.
        file_size: Bytes on disk.
        code_from: Code outside Keras that loading the model runs, trusted by whoever started
            this process: an installed model library (``'KerasHub'``), a module trusted with
            :func:`trust` (its name, or its file's name), :data:`LAMBDA_CODE` where Lambda
            layers were allowed; empty for a model of Keras's own layers.
        translations: What was translated to load a tf.keras 2.x .h5 file in Keras 3, one
            sentence each (see :mod:`neurogenesis.io.legacy`); empty for every other file.
    """

    path: str
    file_format: str
    name: str
    model_class: str
    num_layers: int | None
    num_params: int | None
    input_shapes: tuple[tuple[int | None, ...], ...]
    output_summary: str
    keras_version: str | None
    file_size: int
    code_from: tuple[str, ...] = ()
    translations: tuple[str, ...] = ()


@dataclass(frozen=True)
class _KerasNames:
    """Names Keras itself provides, for the checks only Keras can answer (load time only)."""

    classes: frozenset[str]
    functions: frozenset[str]
    operations: frozenset[str] = frozenset()  # classes of keras.ops calls (Functional nodes)


@dataclass
class _Walk:
    """What the config walk knows, and what it finds on the way.

    Attributes:
        keras_names: Keras's own names; None in the scan, which imports no Keras (the checks
            only Keras can answer wait for the load).
        allow_lambda: Whether Lambda layers may load (the operator's --unsafe-allow-lambda).
        code_from: The code outside Keras that the model runs, in order found (an ordered set).
        has_lambda: Whether an allowed Lambda layer (or Python lambda) was found: the load then
            needs safe mode off.
    """

    keras_names: _KerasNames | None
    allow_lambda: bool = False
    code_from: dict[str, None] = field(default_factory=dict)
    has_lambda: bool = False


@dataclass(frozen=True)
class _FileInfo:
    path: str  # what is read: the given path, or load_model's private copy of it
    given: str  # the path as given, for the card
    display: str  # the file's name, quoted, for messages
    kind: str
    stat: os.stat_result


def model_file_kind(path: str | os.PathLike[str]) -> str:
    """Says what a model file is from its bytes (not its extension).

    Args:
        path: A file path.

    Returns:
        ``'keras'`` for a zip archive, ``'h5'`` for an HDF5 file (signature at offset 0, 512,
        1024, ... as HDF5 allows a user block).

    Raises:
        InputError: The path is missing, a folder, empty, unreadable, or neither kind.
    """
    return _inspect_path(path).kind


def scan_model_file(path: str | os.PathLike[str]) -> ModelCard:
    """Checks a .keras or .h5 file without running it and describes the model in it.

    Nothing in the file is executed and neither TensorFlow nor Keras is imported: the archive
    and its config are read with zipfile and json, HDF5 (a .h5 model, the weights in a .keras
    archive) with h5py in a worker process, everything is read through (so damage shows up
    here), and anything that could run code or exhaust the machine is refused.

    Args:
        path: Path to a ``.keras`` archive or a full-model ``.h5`` file. A file with another
            name is accepted when its bytes say it is one of these (uploads get renamed).

    Returns:
        A ModelCard.

    Raises:
        UnsafeModelError: The file holds code (Lambda layers, custom classes, ...) or is shaped
            to exhaust memory or disk.
        InputError: The file is missing, empty, damaged, or not a Keras model.
    """
    return _scan(_inspect_path(path), _Walk(keras_names=None, allow_lambda=_LAMBDA_ALLOWED))


def load_model(path: str | os.PathLike[str]) -> keras.Model:
    """Loads a Keras model after the pre-scan, in safe mode, without compiling it.

    Args:
        path: Path to a ``.keras`` archive or a full-model ``.h5`` file.

    Returns:
        The model (not compiled).

    Raises:
        UnsafeModelError: The scan, or Keras's safe mode, refused the file.
        InputError: The file is missing, damaged or not a Keras model, or Keras could not
            rebuild the model from it (the Keras exception is kept as ``__cause__``).
    """
    info = _inspect_path(path)
    keras_names = _keras_builtin_names()
    with contextlib.ExitStack() as stack:
        if not info.path.endswith(_extensions_for(info.kind)):
            # Keras picks its reader by the (case-sensitive) extension: hand it a private copy
            # named after what the bytes are, so it reads exactly what was scanned.
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="neurogenesis-"))
            copy = os.path.join(folder, "model" + _extensions_for(info.kind)[0])
            try:
                shutil.copyfile(info.path, copy)
            except OSError as error:
                raise InputError(
                    f"Could not copy {info.display} to a temporary folder to load it: "
                    f"{error.strerror or error}."
                ) from error
            info = _FileInfo(copy, info.given, info.display, info.kind, os.stat(copy))
        walk = _Walk(keras_names=keras_names, allow_lambda=_LAMBDA_ALLOWED)
        card = _scan(info, walk)
        _check_unchanged(info)
        if card.translations:  # a tf.keras 2.x .h5 file that Keras 3 reads only translated
            return legacy.load_translated(info.path, info.display, _safe_mode_scope)
        return _keras_load(info, safe_mode=not walk.has_lambda)


# --- the operator's own code -----------------------------------------------------------------

_LAMBDA_ALLOWED = False
_LAMBDA_CLASS_NAMES = frozenset({"Lambda", "__lambda__"})
LAMBDA_CODE = "the file's own Lambda layers"
"""What :attr:`ModelCard.code_from` lists for a model whose Lambda layers were allowed."""


def allow_lambda_layers(allowed: bool = True) -> None:
    """Lets model files with Lambda layers (Python code stored in the file) load, or stops it.

    Only the operator may call this (``--unsafe-allow-lambda``): any file opened afterwards,
    an upload included, then runs the code its Lambda layers hold. Such a file loads with
    ``safe_mode=False`` for that one load; everything else the scan refuses still is.
    """
    global _LAMBDA_ALLOWED
    _LAMBDA_ALLOWED = bool(allowed)


def lambda_layers_allowed() -> bool:
    """Whether :func:`allow_lambda_layers` let Lambda layers load in this process."""
    return _LAMBDA_ALLOWED


_TRUSTED: dict[str, str] = {}
"""Modules trusted by whoever started this process: module name -> how the operator named it."""
_TRUST_LOCK = threading.Lock()
_TRUSTED_FILE_PREFIX = "neurogenesis_trusted_"


def trust(module_or_path: str | os.PathLike[str]) -> str:
    """Imports the operator's own code once, so that model files may use the classes and
    functions it registers with ``keras.saving.register_keras_serializable``.

    Only the person who starts the process may call this (``--trust`` on the command line, or a
    script of theirs): importing runs the code. A name that came from a model file or an upload
    must never reach it, and loading a model never imports anything a file names.

    A config entry then loads when Keras's registry hands back, under the entry's registered
    name, an object whose ``__module__`` is a trusted module (or inside a trusted package).

    Args:
        module_or_path: A module name importable from ``sys.path`` (``'mypackage.layers'``), or
            the path of a ``.py`` file, imported under a stable name of its own
            (``neurogenesis_trusted_<stem>_<hash of the path>``) so that trusting it twice
            imports it once.

    Returns:
        The trusted module's name.

    Raises:
        InputError: No such module or file, or importing it failed.
    """
    text = os.fspath(module_or_path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    with _TRUST_LOCK:
        if _looks_like_path(text):
            name = _import_trusted_file(text)
            label = os.path.basename(text)
        else:
            name = _import_trusted_module(text)
            label = name
        _TRUSTED.setdefault(name, label)
    return name


def trust_argument(module_or_path: str | os.PathLike[str]) -> str:
    """Checks, importing nothing, that :func:`trust` can find this; returns it as another
    process should be handed it: a file as an absolute path, a module name as given.

    Raises:
        InputError: Not a module name, no such module, or no such .py file.
    """
    text = os.fspath(module_or_path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if _looks_like_path(text):
        path = os.path.realpath(os.path.expanduser(text))
        if not os.path.isfile(path) or not path.endswith(".py"):
            raise _no_trust_file(text)
        return path
    if not _is_module_name(text):
        raise _not_a_trust_name(text)
    if not _installed(text.split(".", 1)[0]):
        raise _no_trust_module(text)
    return text


def trusted_modules() -> dict[str, str]:
    """The modules trusted so far in this process: module name -> how the operator named it."""
    return dict(_TRUSTED)


def _looks_like_path(text: str) -> bool:
    separators = {os.sep, os.altsep, "/"} - {None}
    return text.endswith(".py") or any(separator in text for separator in separators)


def _import_trusted_module(name: str) -> str:
    if not _is_module_name(name):
        raise _not_a_trust_name(name)
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            raise _no_trust_module(name) from None
        raise _trust_failed(name, error) from error
    except Exception as error:
        raise _trust_failed(name, error) from error
    return name


def _import_trusted_file(text: str) -> str:
    path = os.path.realpath(os.path.expanduser(text))
    if not os.path.isfile(path) or not path.endswith(".py"):
        raise _no_trust_file(text)
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    digest = hashlib.sha256(os.fsencode(path)).hexdigest()[:10]
    name = f"{_TRUSTED_FILE_PREFIX}{stem}_{digest}"
    if name in sys.modules:
        return name
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"Python cannot import {text!r} as a module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(name, None)
        raise _trust_failed(text, error) from error
    return name


def _not_a_trust_name(text: str) -> InputError:
    return InputError(
        f"Expected a module name (mypackage.layers) or a .py file to trust. Received: {text!r}"
    )


def _no_trust_module(name: str) -> InputError:
    return InputError(
        f"No module named {name!r} to trust: it is not importable from here. Install it, add "
        "its folder to PYTHONPATH, or pass the path of its .py file."
    )


def _no_trust_file(text: str) -> InputError:
    return InputError(f"Expected an existing .py file to trust. Received: {text!r}")


def _trust_failed(what: str, error: Exception) -> InputError:
    return InputError(
        f"Importing {what!r} to trust it failed: {type(error).__name__}: "
        f"{_clip_sentences(_reason(error), 200)}"
    )


def _check_operator_code(key: Any, kind: str, walk: _Walk) -> bool:
    """Whether the registry's object under ``key`` is trusted code; records where it is from.

    Keras looks an entry up in its registry before anything else (under ``key``), so when that
    object is one a trusted module defined, Keras runs exactly that, and nothing the file names
    is imported.
    """
    if not _TRUSTED:
        return False
    found = _registered(key)
    right_kind = isinstance(found, type) if kind == "class" else inspect.isfunction(found)
    if found is None or not right_kind or not _defined_in(found, frozenset(_TRUSTED)):
        return False
    home = found.__module__
    owner = next(name for name in _TRUSTED if home == name or home.startswith(name + "."))
    walk.code_from[_TRUSTED[owner]] = None
    return True


def _trust_advice(key: Any, module: str | None) -> str:
    """What would let a custom object load: whoever starts NeuroGenesis trusts its code."""
    found = _registered(key)
    home = getattr(found, "__module__", None) if found is not None else None
    if isinstance(home, str) and not home.startswith(_TRUSTED_FILE_PREFIX):
        return (
            f"It is registered by module {_quote(home)}, which is not trusted; it runs only "
            f"if whoever starts NeuroGenesis passes --trust {home}."
        )
    hint = "--trust with the path of the .py file that defines it"
    if isinstance(module, str) and module != "__main__" and _is_module_name(module):
        top = module.split(".", 1)[0]
        if top in sys.stdlib_module_names or top in MODEL_LIBRARIES or top == "keras":
            return _ADVICE
        hint = f"--trust {module} (or --trust with the path of the .py file that defines it)"
    return f"Code outside Keras runs only if whoever starts NeuroGenesis trusts it: {hint}."


def _is_module_name(text: str) -> bool:
    return all(_IDENTIFIER.fullmatch(part) for part in text.split("."))


@dataclass(frozen=True)
class SavedParts:
    """A model file's saved parts, read without running anything and without resolving any
    class it names (for ``io.structure``: the structure of files that cannot be loaded).

    Attributes:
        path: The path as given.
        file_format: ``'keras'`` or ``'h5'``.
        config: The model's saved configuration (JSON).
        keras_version: The Keras version that saved the file, if it says.
        weight_shapes: Every dataset of the weights file and its shape (``layers/...`` in a
            .keras archive's model.weights.h5, ``model_weights/...`` in an .h5 model).
        file_size: Bytes on disk.
    """

    path: str
    file_format: str
    config: dict
    keras_version: str | None
    weight_shapes: dict[str, tuple[int, ...]]
    file_size: int


def read_saved_parts(path: str | os.PathLike[str]) -> SavedParts:
    """Reads a model file's config and weight shapes without checking the classes it names.

    The archive and HDF5 safety checks of :func:`scan_model_file` still apply (sizes, member
    counts, links, zip bombs); only the config's classes are not checked, because nothing here
    resolves or runs them.

    Raises:
        UnsafeModelError: The file is shaped to exhaust memory or disk, or reaches outside itself.
        InputError: The file is missing, empty, damaged, or not a Keras model.
    """
    info = _inspect_path(path)
    config, keras_version, _, shapes = _read_parts(info, None)
    return SavedParts(
        path=info.given,
        file_format=info.kind,
        config=config,
        keras_version=keras_version,
        weight_shapes={name: tuple(shape) for name, shape in shapes.items()},
        file_size=info.stat.st_size,
    )


# --- path and kind ---------------------------------------------------------------------------


def _inspect_path(path: Any) -> _FileInfo:
    try:
        fspath = os.fspath(path)
    except TypeError:
        raise InputError(
            f"Expected a path to a .keras or .h5 file. Received: {type(path).__name__}"
        ) from None
    if isinstance(fspath, bytes):
        fspath = os.fsdecode(fspath)
    if not fspath:
        raise InputError("Expected a path to a .keras or .h5 file. Received: ''")
    display = _quote(os.path.basename(os.path.normpath(fspath)) or fspath)
    try:
        info = os.stat(fspath)
    except (FileNotFoundError, NotADirectoryError):
        if _lexists(fspath):
            raise InputError(
                f"{_quote(fspath)} is a link to a file that does not exist. "
                "Point to the model file itself."
            ) from None
        raise InputError(
            f"No such file: {fspath!r}. Check the path, or upload the model file."
        ) from None
    except PermissionError:
        raise InputError(f"{display} cannot be read: permission denied.") from None
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"{_quote(fspath)} cannot be read: {reason}.") from None

    if stat.S_ISDIR(info.st_mode):
        if os.path.isfile(os.path.join(fspath, "saved_model.pb")):
            raise InputError(
                f"{display} is a TensorFlow SavedModel folder, which Keras 3 cannot load as a "
                "model. Convert it once: load it with TensorFlow 2.15 (or tf_keras) and call "
                'model.save("model.keras"), then open the .keras file.'
            )
        raise InputError(
            f"{display} is a folder. Expected a .keras or .h5 file; pick the model file inside it."
        )
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{display} is not a regular file. Expected a .keras or .h5 file.")
    if info.st_size == 0:
        raise InputError(
            f"{display} is empty (0 bytes). Save the model again, or upload it again if the "
            "upload was interrupted."
        )
    kind = _kind_from_bytes(fspath, info.st_size, display)
    return _FileInfo(fspath, fspath, display, kind, info)


def _lexists(path: str) -> bool:
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def _kind_from_bytes(path: str, size: int, display: str) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            if head[:4] in ZIP_SIGNATURES:
                return "keras"
            if head == HDF5_SIGNATURE:
                return "h5"
            offset = 512
            while offset + len(HDF5_SIGNATURE) <= size:
                handle.seek(offset)
                if handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
                    return "h5"
                offset *= 2
    except OSError as error:
        raise InputError(f"{display} cannot be read: {error.strerror or error}.") from None

    extension = os.path.splitext(path)[1].lower()
    if extension not in MODEL_EXTENSIONS:
        raise InputError(
            f"Expected a .keras or .h5 file. Received: {display}. Save the model with "
            'model.save("model.keras") in Keras 3 and open that file.'
        )
    if len(head) < 8:
        if extension == ".keras" and any(sig.startswith(head) for sig in ZIP_SIGNATURES):
            raise _damaged_archive(display, f"only {size} bytes")
        if extension != ".keras" and HDF5_SIGNATURE.startswith(head):
            raise _damaged_hdf5(display, f"only {size} bytes")
    raise InputError(
        f"{display} is not a Keras model: neither a .keras (zip) archive nor an HDF5 file. "
        'Save the model with model.save("model.keras") and open that file.'
    )


def _extensions_for(kind: str) -> tuple[str, ...]:
    return (".keras",) if kind == "keras" else (".h5", ".hdf5")


def _check_unchanged(info: _FileInfo) -> None:
    try:
        now = os.stat(info.path)
    except OSError:
        now = None
    before = info.stat
    if now is None or (now.st_ino, now.st_size, now.st_mtime_ns) != (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    ):
        raise InputError(f"{info.display} changed while it was being checked. Load it again.")


# --- the scan --------------------------------------------------------------------------------


def _scan(info: _FileInfo, walk: _Walk) -> ModelCard:
    config, keras_version, num_params, _ = _read_parts(info, walk)
    card = _card_from_config(config, info, keras_version, num_params, tuple(walk.code_from))
    if info.kind == "h5":
        _, translations = legacy.translate_h5_config(config, keras_version)
        if translations:
            return dataclasses.replace(card, translations=translations)
    return card


def _read_parts(info: _FileInfo, walk: _Walk | None) -> tuple[dict, str | None, int | None, dict]:
    """The file's config, Keras version, parameter count and weight shapes; with a ``walk`` the
    config's classes must pass the pre-scan, with None they are not checked (nothing resolves
    them); the archive and HDF5 safety checks always apply."""
    if info.kind == "keras":
        return _scan_keras_archive(info, walk)
    return _scan_h5_model(info, walk)


def _damaged_archive(display: str, reason: str) -> InputError:
    return InputError(
        f"{display} is a truncated or damaged .keras archive ({_clip_sentences(reason, 160)}). Save the "
        "model again, or upload it again if the upload was cut short."
    )


def _damaged_hdf5(display: str, reason: str) -> InputError:
    return InputError(
        f"{display} is a truncated or damaged HDF5 file ({_clip_sentences(reason, 160)}). Save the model "
        "again, or upload it again if the upload was cut short."
    )


def _scan_keras_archive(
    info: _FileInfo, walk: _Walk | None
) -> tuple[dict, str | None, int | None, dict]:
    display = info.display
    try:
        handle = open(info.path, "rb")  # noqa: SIM115 - closed by the with block below
    except OSError as error:
        raise InputError(f"{display} cannot be read: {error.strerror or error}.") from None
    with handle:
        declared = _declared_member_count(handle, info.stat.st_size)
        if declared is not None and declared > MAX_ARCHIVE_MEMBERS:
            raise _too_many_members(display, declared)
        try:
            archive = zipfile.ZipFile(handle)
        except Exception as error:  # zipfile raises many kinds on bad bytes
            raise _damaged_archive(display, _reason(error)) from None
        with archive:
            return _scan_open_archive(archive, display, walk)


def _scan_open_archive(
    archive: zipfile.ZipFile, display: str, walk: _Walk | None
) -> tuple[dict, str | None, int | None, dict]:
    members = archive.infolist()
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise _too_many_members(display, len(members))
    seen: set[str] = set()
    total = 0
    for member in members:
        name = member.filename
        normalized = name.replace("\\", "/")
        parts = normalized.split("/")
        if normalized.startswith("/") or re.match(r"[A-Za-z]:", normalized) or ".." in parts:
            raise UnsafeModelError(
                f"Refused: {display} has an archive member named {_quote(name)}, which points "
                "outside the archive's folder. Keras never writes such names."
            )
        if name in seen:
            raise UnsafeModelError(
                f"Refused: {display} lists the member {_quote(name)} twice; a genuine .keras "
                "archive names each member once."
            )
        seen.add(name)
        if member.flag_bits & 0x1:
            raise InputError(f"{display} is an encrypted archive; Keras cannot read it.")
        total += member.file_size
        if (
            member.file_size > COMPRESSION_RATIO_MIN_BYTES
            and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        ):
            raise UnsafeModelError(
                f"Refused: the member {_quote(name)} of {display} would expand from "
                f"{_bytes(member.compress_size)} to {_bytes(member.file_size)} (more than "
                f"{MAX_COMPRESSION_RATIO}x); it looks like a zip bomb."
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnsafeModelError(
            f"Refused: {display} would expand to {_bytes(total)}, more than the "
            f"{_bytes(MAX_UNCOMPRESSED_BYTES)} allowed."
        )
    if "config.json" not in seen:
        raise InputError(
            f"{display} is not a Keras archive: no config.json. Expected a file written by "
            'Keras 3\'s model.save("model.keras").'
        )
    # The config is checked first: a hostile file is reported as hostile, not as merely incomplete.
    config_bytes = _read_member(archive, "config.json", display, MAX_CONFIG_BYTES)
    if walk is not None:
        config = _check_config(config_bytes, display, walk)
    else:
        config = _parse_config(config_bytes, display)
    if "model.weights.h5" not in seen:
        if "model.weights.npz" in seen:
            raise InputError(
                f"{display} stores its weights as model.weights.npz, which NeuroGenesis does not "
                'read. Save the model again with model.save("model.keras") (the default format).'
            )
        raise _damaged_archive(display, "no model.weights.h5 member")
    keras_version = None
    if "metadata.json" in seen:
        keras_version = _version_from_metadata(
            _read_member(archive, "metadata.json", display, MAX_METADATA_BYTES)
        )

    num_params = None
    shapes: dict = {}
    for member in members:
        if member.filename in ("config.json", "metadata.json"):
            continue
        if member.filename == "model.weights.h5":
            # Written out (checking the CRC on the way) for the HDF5 worker to read.
            with tempfile.TemporaryDirectory(prefix="neurogenesis-") as folder:
                weights_path = os.path.join(folder, "model.weights.h5")
                with open(weights_path, "wb") as weights:
                    _read_member(archive, member.filename, display, MAX_UNCOMPRESSED_BYTES, weights)
                facts = hdf5_facts(weights_path, f"model.weights.h5 in {display}", model_file=False)
            num_params = facts["layer_params"]
            shapes = facts.get("shapes", {})
        else:
            _read_member(archive, member.filename, display, MAX_UNCOMPRESSED_BYTES, _Discard())
    return config, keras_version, num_params, shapes


def _too_many_members(display: str, count: int) -> UnsafeModelError:
    return UnsafeModelError(
        f"Refused: {display} lists {count:,} archive members, more than the "
        f"{MAX_ARCHIVE_MEMBERS:,} allowed; a Keras model has a handful."
    )


def _declared_member_count(handle: io.BufferedReader, size: int) -> int | None:
    """The member count from the end-of-archive record, read before zipfile lists them all."""
    try:
        tail_size = min(size, 22 + 65_535)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        (count,) = struct.unpack_from("<H", tail, at + 10)
        if count == 0xFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
            (record_offset,) = struct.unpack_from("<Q", tail, at - 20 + 8)
            if record_offset + 56 <= size:
                handle.seek(record_offset)
                record = handle.read(56)
                if record[:4] == b"PK\x06\x06":
                    (count,) = struct.unpack_from("<Q", record, 32)
        return count
    except (OSError, struct.error, OverflowError, ValueError):
        return None
    finally:
        with contextlib.suppress(OSError, ValueError):
            handle.seek(0)


class _Discard:
    def write(self, data: bytes) -> None:
        pass


def _read_member(
    archive: zipfile.ZipFile, name: str, display: str, limit: int, sink: Any = None
) -> bytes:
    """Reads one member through zipfile (which checks its CRC at the end) under a byte cap.

    Returns the bytes, or writes them to ``sink`` (a file object) and returns b"".
    """
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(name) as member:
            while True:
                chunk = member.read(READ_CHUNK_BYTES)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise UnsafeModelError(
                        f"Refused: the member {_quote(name)} of {display} holds more than "
                        f"{_bytes(limit)}, the most allowed for it."
                    )
                if sink is None:
                    chunks.append(chunk)
                else:
                    sink.write(chunk)
    except InputError:
        raise
    except Exception as error:  # BadZipFile, zlib.error, EOFError, OSError, ...
        raise _damaged_archive(display, f"member {_quote(name)}: {_reason(error)}") from None
    return b"".join(chunks)


def _version_from_metadata(raw: bytes) -> str | None:
    try:
        metadata = json.loads(raw)
    except Exception:  # a bad metadata.json costs the version, nothing else
        return None
    version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    return _short(version, 40) if isinstance(version, str) else None


def _scan_h5_model(
    info: _FileInfo, walk: _Walk | None
) -> tuple[dict, str | None, int | None, dict]:
    display = info.display
    facts = hdf5_facts(info.path, display, model_file=True)
    if facts["model_config"] is None:
        if facts["weights_only"]:
            raise InputError(
                f"{display} holds weights but no architecture; build the model in code and "
                "call model.load_weights(...) on it."
            )
        raise InputError(
            f"{display} is an HDF5 file but not a Keras model (it has no model_config). "
            'Expected a file written by model.save("model.h5") or model.save("model.keras").'
        )
    raw = facts["model_config"].encode("utf-8", "surrogatepass")
    config = _check_config(raw, display, walk) if walk is not None else _parse_config(raw, display)
    num_params = facts["model_weights_params"] if facts["has_model_weights"] else None
    return config, facts["keras_version"], num_params, facts.get("shapes", {})


# --- HDF5, read in a separate process --------------------------------------------------------
#
# h5py and the HDF5 library are C code, and a crafted or damaged file can crash them outright
# (fuzzing found a segfault reading a variable-length string attribute), which would take the
# whole app down. So every HDF5 file is first read in full (links, attributes, data) by a
# long-lived worker process; only if that survives does Keras read it in this process.

HDF5_WORKER_TIMEOUT_S = 300
"""Longest the worker may take to read one HDF5 file before it is stopped."""
HDF5_READ_BLOCK_BYTES = 64 * 1024**2
"""The worker reads big datasets in blocks of about this size."""

_worker_lock = threading.Lock()
_worker: subprocess.Popen | None = None


def hdf5_facts(path: str, display: str, *, model_file: bool) -> dict:
    """What the pre-scan needs from an HDF5 file, read by the worker process."""
    request = {
        "path": path,
        "display": display,
        "model_file": model_file,
        "limits": {
            "max_objects": MAX_HDF5_OBJECTS,
            "max_dataset_bytes": MAX_UNCOMPRESSED_BYTES,
            "max_attribute_bytes": MAX_CONFIG_BYTES,
        },
    }
    reply = _ask_worker(request)
    if reply is None:  # no worker could be started here: read in this process instead
        try:
            return _read_hdf5_facts(**request)
        except InputError:
            raise
        except Exception as error:
            raise _damaged_hdf5(display, _reason(error)) from None
    if "facts" in reply:
        return reply["facts"]
    if "crashed" in reply:
        raise _damaged_hdf5(display, "it crashed the HDF5 reader")
    if "timeout" in reply:
        raise InputError(
            f"{display} took more than {HDF5_WORKER_TIMEOUT_S} s to read, so it was abandoned; "
            "the file may be damaged."
        )
    kind, message = reply["error"]
    raise (UnsafeModelError if kind == "unsafe" else InputError)(message)


def _ask_worker(request: dict) -> dict | None:
    global _worker
    with _worker_lock:
        if _worker is None or _worker.poll() is not None:
            _worker = _start_worker()
            if _worker is None:
                return None
        worker = _worker
        try:
            worker.stdin.write(json.dumps(request) + "\n")
            worker.stdin.flush()
            ready, _, _ = select.select([worker.stdout], [], [], HDF5_WORKER_TIMEOUT_S)
            line = worker.stdout.readline() if ready else None
        except (OSError, ValueError):
            line = ""
        if line:
            return json.loads(line)
        _stop_worker()
        return {"timeout": True} if line is None else {"crashed": True}


def _start_worker() -> subprocess.Popen | None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    try:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from neurogenesis.io.models import _worker_main; _worker_main()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env=env,
        )
    except OSError:
        return None
    _register_stop_at_exit()
    return worker


@functools.cache
def _register_stop_at_exit() -> None:
    atexit.register(_stop_worker)


def _stop_worker() -> None:
    global _worker
    worker, _worker = _worker, None
    if worker is None:
        return
    with contextlib.suppress(OSError, ValueError):
        worker.stdin.close()
    if worker.poll() is None:
        worker.kill()
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        worker.wait(timeout=10)
    with contextlib.suppress(OSError, ValueError):
        worker.stdout.close()


def _worker_main() -> None:
    """The worker: one JSON request per line on stdin, one JSON reply per line on stdout."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else printed, by Python or C, stays off the reply channel
    sys.stdout = sys.stderr
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply: dict = {"facts": _read_hdf5_facts(**request)}
        except UnsafeModelError as error:
            reply = {"error": ["unsafe", str(error)]}
        except InputError as error:
            reply = {"error": ["input", str(error)]}
        except Exception as error:
            reply = {"error": ["input", str(_damaged_hdf5(request["display"], _reason(error)))]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def _read_hdf5_facts(path: str, display: str, model_file: bool, limits: dict) -> dict:
    """Reads a whole HDF5 file: refuses what reaches outside it, returns what the scan needs.

    Runs in the worker. Every link is listed, every object opened, every attribute and every
    dataset read, so that anything in the file that could crash the reader does so here.
    """
    import h5py

    try:
        handle = h5py.File(path, "r", locking=False)
    except Exception as error:
        raise _damaged_hdf5(display, _reason(error)) from None
    with handle:
        # Exceptions raised inside an h5py visit callback come out mangled, so the callback only
        # collects links (stopping past the cap, by returning a value); the checks run after.
        links: list[tuple[str, Any]] = []

        def collect(name: str, link: Any) -> bool | None:
            links.append((name, link))
            return True if len(links) > limits["max_objects"] else None

        try:
            handle.visititems_links(collect)
        except Exception as error:
            raise _damaged_hdf5(display, _reason(error)) from None
        if len(links) > limits["max_objects"]:
            raise UnsafeModelError(
                f"Refused: {display} holds more than {limits['max_objects']:,} HDF5 objects; a "
                "Keras model has far fewer."
            )
        for name, link in links:
            if isinstance(link, h5py.ExternalLink):
                raise UnsafeModelError(
                    f"Refused: {display} has an external link {_quote(name)} to "
                    f"{_quote(link.filename)}; a model file must not reach other files."
                )
            if not isinstance(link, h5py.SoftLink | h5py.HardLink):
                raise UnsafeModelError(
                    f"Refused: {display} has a user-defined HDF5 link {_quote(name)}; Keras "
                    "never writes one."
                )

        sizes: dict[str, int] = {}
        shapes: dict[str, list[int]] = {}
        datasets = []
        _read_attributes(handle, "/", display, limits)
        for name, link in links:
            if isinstance(link, h5py.SoftLink):
                continue
            try:
                item = handle[name]
            except Exception as error:
                raise _damaged_hdf5(display, f"{_quote(name)}: {_reason(error)}") from None
            _read_attributes(item, name, display, limits)
            if isinstance(item, h5py.Dataset):
                sizes[name] = _check_dataset(item, name, display, limits)
                shapes[name] = [int(n) for n in item.shape or ()]
                datasets.append((name, item))
        # Only once nothing reaches outside the file is any data read.
        for name, item in datasets:
            _read_dataset(item, name, display)

        facts = {
            "layer_params": sum(
                size for name, size in sizes.items() if name.startswith(("layers/", "vars/"))
            ),
            "model_weights_params": sum(
                size for name, size in sizes.items() if name.startswith("model_weights/")
            ),
            "has_model_weights": "model_weights" in handle,
            "shapes": shapes,
            "model_config": None,
            "keras_version": None,
            "weights_only": False,
        }
        if model_file:
            attrs = handle.attrs
            if "model_config" in attrs:
                text = _as_text(attrs["model_config"])
                if text is None:
                    raise _damaged_hdf5(display, "model_config is not text")
                if len(text.encode("utf-8", "surrogatepass")) > limits["max_attribute_bytes"]:
                    raise _config_too_big(display, len(text))
                facts["model_config"] = text
                version = _as_text(attrs.get("keras_version"))
                facts["keras_version"] = _short(version, 40) if version else None
            else:
                facts["weights_only"] = "layer_names" in attrs or any(
                    key in handle for key in ("layers", "vars", "model_weights")
                )
        return facts


def _read_attributes(item: Any, name: str, display: str, limits: dict) -> None:
    try:
        attrs = item.attrs
        for key in list(attrs):
            try:
                size = attrs.get_id(key).get_storage_size()
            except Exception:  # h5py raises for an empty attribute (0 bytes stored)
                size = 0
            if size > limits["max_attribute_bytes"]:
                raise UnsafeModelError(
                    f"Refused: the attribute {_quote(key)} of {_quote(name)} in {display} is "
                    f"{_bytes(size)}, more than the {_bytes(limits['max_attribute_bytes'])} allowed."
                )
            attrs[key]
    except InputError:
        raise
    except Exception as error:
        raise _damaged_hdf5(display, f"attributes of {_quote(name)}: {_reason(error)}") from None


def _check_dataset(item: Any, name: str, display: str, limits: dict) -> int:
    try:
        external = item.external
        virtual = item.is_virtual
        shape = item.shape or ()
        itemsize = item.dtype.itemsize
    except Exception as error:
        raise _damaged_hdf5(display, f"{_quote(name)}: {_reason(error)}") from None
    if external:
        raise UnsafeModelError(
            f"Refused: the dataset {_quote(name)} in {display} keeps its data in another file "
            f"({_quote(str(external[0][0]))}); a model file must not reach other files."
        )
    if virtual:
        raise UnsafeModelError(
            f"Refused: the dataset {_quote(name)} in {display} is a virtual dataset, which reads "
            "other files; Keras never writes one."
        )
    elements = math.prod(shape)
    declared = elements * itemsize
    if declared > limits["max_dataset_bytes"]:
        raise UnsafeModelError(
            f"Refused: the dataset {_quote(name)} in {display} declares {_bytes(declared)}, more "
            f"than the {_bytes(limits['max_dataset_bytes'])} allowed."
        )
    return elements


def _read_dataset(item: Any, name: str, display: str) -> None:
    try:
        shape = item.shape
        if not shape:
            item[()]
            return
        row_bytes = max(1, math.prod(shape[1:]) * item.dtype.itemsize)
        rows = max(1, HDF5_READ_BLOCK_BYTES // row_bytes)
        for start in range(0, shape[0], rows):
            item[start : start + rows]
    except Exception as error:
        raise _damaged_hdf5(display, f"{_quote(name)}: {_reason(error)}") from None


def _as_text(value: Any) -> str | None:
    import numpy as np

    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes | np.bytes_):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, str):
        return value
    return None


def _config_too_big(display: str, size: int) -> UnsafeModelError:
    return UnsafeModelError(
        f"Refused: the model configuration in {display} is {_bytes(size)}, more than the "
        f"{_bytes(MAX_CONFIG_BYTES)} allowed."
    )


# --- config checks ---------------------------------------------------------------------------


def _check_config(raw: bytes, display: str, walk: _Walk) -> dict:
    found = _REFUSED_CONFIG_TOKENS.search(raw.decode("utf-8", errors="replace"))
    if found:
        raise _token_refusal(found.group(0), display)
    config = _parse_config(raw, display)
    _walk_config(config, display, walk)
    return config


def _parse_config(raw: bytes, display: str) -> dict:
    """The config as JSON, checked only for being a model description (nothing is resolved)."""
    try:
        config = json.loads(raw)
    except Exception as error:  # JSONDecodeError, UnicodeDecodeError, RecursionError, ...
        raise InputError(
            f"{display} has a damaged config (not valid JSON: {_clip_sentences(_reason(error), 120)}). "
            "Save the model again."
        ) from None
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise InputError(
            f"{display} has a damaged config: expected a JSON object describing a model. "
            "Save the model again."
        )
    return config


def _token_refusal(token: str, display: str) -> UnsafeModelError:
    return UnsafeModelError(
        f"Refused: the configuration in {display} mentions {_quote(token)}, which has no place "
        "in a model file; it may be trying to run code."
    )


def _walk_config(config: dict, display: str, walk: _Walk) -> None:
    # Iterative, so a deeply nested config cannot overflow the Python stack. Each entry:
    # (value, depth, name of the nearest enclosing layer, inside the top-level compile_config).
    stack: list[tuple[Any, int, str | None, bool]] = [(config, 0, None, False)]
    while stack:
        value, depth, owner, in_compile_config = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise UnsafeModelError(
                f"Refused: the configuration in {display} is nested more than "
                f"{MAX_CONFIG_DEPTH} levels deep."
            )
        if isinstance(value, str):
            found = _REFUSED_CONFIG_TOKENS.search(value)
            if found:
                raise _token_refusal(found.group(0), display)
        elif isinstance(value, list):
            stack.extend((item, depth + 1, owner, in_compile_config) for item in value)
        elif isinstance(value, dict):
            if "class_name" in value:
                owner = _check_entry(value, owner, in_compile_config, display, walk)
            for key, item in value.items():
                stack.append((key, depth + 1, owner, in_compile_config))
                # Keras replaces the top-level compile_config by None when compile=False, so
                # it is never deserialized (nested models' compile configs are, so no pass).
                child_in_compile = in_compile_config or (depth == 0 and key == "compile_config")
                stack.append((item, depth + 1, owner, child_in_compile))


def _check_entry(
    entry: dict,
    owner: str | None,
    in_compile_config: bool,
    display: str,
    walk: _Walk,
) -> str | None:
    """Checks one serialized object; returns the layer name that encloses what is inside it."""
    class_name = entry["class_name"]
    if not isinstance(class_name, str):
        raise InputError(
            f"{display} has a damaged config: an entry's class_name is not text. "
            "Save the model again."
        )
    inner = entry.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    if not isinstance(name, str):
        name = entry.get("name") if isinstance(entry.get("name"), str) else None
    if name is not None:
        where = f"layer {_quote(name)}"
    elif owner is not None:
        where = f"an object inside layer {_quote(owner)}"
    else:
        where = "the model configuration"
    advice = _ADVICE
    module = entry.get("module")
    registered = entry.get("registered_name")

    if (
        class_name in _LAMBDA_CLASS_NAMES
        and walk.allow_lambda
        and (module is None or (isinstance(module, str) and _is_keras_module(module)))
        and registered in (None, class_name)
    ):
        walk.has_lambda = True
        walk.code_from[LAMBDA_CODE] = None
        return name or owner
    if class_name in REFUSED_CLASS_NAMES:
        if class_name in _LAMBDA_CLASS_NAMES:
            advice = _LAMBDA_ADVICE
        raise UnsafeModelError(
            f"Refused: {where} {_REFUSED_CLASS_REASONS[class_name]}; loading it could run that "
            f"code. {advice}"
        )
    if in_compile_config:
        return name or owner

    if module is not None and not isinstance(module, str):
        raise InputError(
            f"{display} has a damaged config: the module of {where} is not text. "
            "Save the model again."
        )
    if class_name == "function" and module is not None:
        function = inner
        if not isinstance(function, str):
            raise UnsafeModelError(
                f"Refused: {where} uses the function {_quote(str(function))} from module "
                f"{_quote(module)}, which is not a Keras built-in. {advice}"
            )
        # Keras looks a function up by its config (a name) in the registry first.
        if _libraries_named(module, function):
            _check_library_object(entry, function, module, "function", where, display, walk)
            return name or owner
        if _check_operator_code(function, "function", walk):
            return name or owner
        if not _IDENTIFIER.fullmatch(function):
            raise UnsafeModelError(
                f"Refused: {where} uses the function {_quote(function)} from module "
                f"{_quote(module)}, which is not a Keras built-in. "
                f"{_trust_advice(function, module)}"
            )
        if module == "builtins":
            # Keras writes its own functions (losses, activations) as module 'builtins' and
            # looks the name up among Keras's built-ins only; anything else is user code.
            unknown = function.startswith("_") or function in _PYTHON_BUILTIN_NAMES
            if not unknown and walk.keras_names is not None:
                unknown = function not in walk.keras_names.functions
            if unknown:
                raise UnsafeModelError(
                    f"Refused: {where} uses the function {_quote(function)}, which is not a "
                    "Keras built-in (a custom function loads only when it is registered with "
                    "keras.saving.register_keras_serializable and its module is trusted with "
                    f"--trust). {advice}"
                )
        elif not _keras_submodule_in(module, _KERAS_FUNCTION_SUBMODULES):
            raise UnsafeModelError(
                f"Refused: {where} uses the function {_quote(function)} from module "
                f"{_quote(module)}, which is not a Keras modelling function. "
                f"{_trust_advice(function, module)}"
            )
        if registered not in (None, "function", function):
            raise _registered_refusal(where, registered, _trust_advice(registered, module))
        return name or owner

    if module is not None:
        # Keras looks a class up in the registry first, under registered_name when the entry
        # has that key (even null), else under its class name.
        key = registered if "registered_name" in entry else class_name
        if _libraries_named(module, key):
            _check_library_object(entry, key, module, "class", where, display, walk)
            return name or owner
        keras_module = _is_keras_module(module)
        if keras_module and _keras_submodule_in(module, _KERAS_REFUSED_SUBMODULES):
            raise UnsafeModelError(
                f"Refused: {where} uses class {_quote(class_name)} from module "
                f"{_quote(module)}, which is not part of Keras. {advice}"
            )
        if not keras_module or registered not in (None, class_name):
            if _check_operator_code(key, "class", walk):
                return name or owner
            if not keras_module:
                raise UnsafeModelError(
                    f"Refused: {where} uses class {_quote(class_name)} from module "
                    f"{_quote(module)}, which is not part of Keras. {_trust_advice(key, module)}"
                )
            raise _registered_refusal(where, registered, _trust_advice(key, module))
        if not _IDENTIFIER.fullmatch(class_name):
            raise UnsafeModelError(
                f"Refused: {where} names the class {_quote(class_name)}, which is not a Keras "
                f"class. {advice}"
            )
        return name or owner

    # No module: a legacy (.h5, tf.keras) entry, one of the serializer's special entries, or a
    # class Keras saved from a script (__main__), which names no module.
    if registered not in (None, class_name):
        raise _registered_refusal(where, registered, _trust_advice(registered, None))
    if class_name in _SPECIAL_CLASS_NAMES:
        return name or owner
    # The legacy loader looks the class name up in the registry first.
    if _check_operator_code(class_name, "class", walk):
        return name or owner
    if legacy.vouches_for(entry, where, walk.keras_names is not None, display):
        return name or owner  # tf.keras op layers: translate_h5_config decides on each
    known = _IDENTIFIER.fullmatch(class_name) is not None
    if known and walk.keras_names is not None:
        known = class_name in walk.keras_names.classes
        if not known and class_name in walk.keras_names.operations:
            raise legacy.keras_op_in_h5(where, display, class_name)
    if not known:
        raise UnsafeModelError(
            f"Refused: {where} is of class {_quote(class_name)}, which Keras does not provide "
            "under that name (a custom class loads only when it is registered with "
            "keras.saving.register_keras_serializable and its module is trusted with --trust). "
            f"{advice}"
        )
    return name or owner


_ADVICE = (
    "NeuroGenesis loads models built from Keras's own layers and from the model libraries "
    "installed beside it (KerasHub); rebuild the model without it and save it again."
)
_LAMBDA_ADVICE = (
    "Rebuild the model without it, or, if you trust this file, start NeuroGenesis with "
    "--unsafe-allow-lambda (only the person who starts the server can)."
)


def _registered_refusal(where: str, registered: Any, advice: str) -> UnsafeModelError:
    return UnsafeModelError(
        f"Refused: {where} is the custom object {_quote(str(registered))}, registered with "
        f"keras.saving.register_keras_serializable rather than part of Keras. {advice}"
    )


# --- installed model libraries (KerasHub, ...) ------------------------------------------------


@dataclass(frozen=True)
class _Library:
    """A model library whose registered classes may load when it is installed.

    Attributes:
        title: Its name for people: ``'KerasHub'``.
        pip: What ``pip install`` takes to install it.
        providers: The packages that register its names with Keras, tried in order (KerasHub
            registers every class under ``keras_nlp>`` as well as ``keras_hub>``).
    """

    title: str
    pip: str
    providers: tuple[str, ...]


MODEL_LIBRARIES = {
    "keras_hub": _Library("KerasHub", "keras-hub", ("keras_hub",)),
    "keras_nlp": _Library("KerasNLP", "keras-hub", ("keras_hub", "keras_nlp")),
    "keras_cv": _Library("KerasCV", "keras-cv", ("keras_cv",)),
}
"""The installed-model-libraries tier: file prefix (module package or ``package>`` of a
registered name) -> the library."""


def _libraries_named(module: str | None, key: Any) -> list[_Library]:
    """The model libraries an entry names through its module's package or its registered name."""
    prefixes = []
    if isinstance(module, str):
        prefixes.append(module.split(".", 1)[0])
    if isinstance(key, str) and ">" in key:
        prefixes.append(key.split(">", 1)[0])
    libraries = [MODEL_LIBRARIES[prefix] for prefix in prefixes if prefix in MODEL_LIBRARIES]
    return list(dict.fromkeys(libraries))


def _installed(package: str) -> bool:
    """Whether a top-level package can be imported here, found without importing it."""
    if sys.modules.get(package) is not None:
        return True
    try:  # raises ValueError where sys.modules marks the package unimportable (None)
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def _import_library(library: _Library, display: str) -> None:
    """Imports a library's installed providers (fixed package names, never one from a file), so
    that they register their classes with Keras."""
    for package in library.providers:
        if sys.modules.get(package) is not None or not _installed(package):
            continue
        try:
            importlib.import_module(package)
        except Exception as error:
            raise InputError(
                f"{display} needs {library.title}, which is installed but could not be "
                f"imported: {_clip_sentences(_reason(error), 200)}"
            ) from error


def _registered(key: Any) -> Any:
    """What Keras's registry of serializable objects holds under ``key``, or None.

    Read only if Keras is already imported: the scan must not import it, and in a process
    that never imported Keras nothing can have been registered.
    """
    registration = sys.modules.get("keras.src.saving.object_registration")
    if registration is None or not isinstance(key, str):
        return None
    return registration.get_registered_object(key)


def _defined_in(obj: Any, packages: tuple[str, ...] | frozenset[str]) -> bool:
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and any(
        module == package or module.startswith(package + ".") for package in packages
    )


def _check_library_object(
    entry: dict, key: Any, module: str, kind: str, where: str, display: str, walk: _Walk
) -> None:
    """An entry that names a model library loads only through Keras's registry, as an object
    that the installed library registered itself (Keras would otherwise import the module the
    file names)."""
    class_name = entry["class_name"] if kind == "class" else entry.get("config")
    what = f"{kind} {_quote(str(class_name))}"
    for library in _libraries_named(module, key):
        if not any(_installed(package) for package in library.providers):
            raise InputError(
                f"{where} uses the {what} from {library.title}, which is not installed here: "
                f"{display} needs {library.title}: pip install {library.pip}"
            )
        walk.code_from[library.title] = None
        if walk.keras_names is not None:  # loading: make the library register its classes
            _import_library(library, display)
        elif not any(package in sys.modules for package in library.providers):
            continue  # the scan imports nothing: the load checks the registry
        found = _registered(key)
        right_kind = isinstance(found, type) if kind == "class" else inspect.isfunction(found)
        if (
            found is None
            or not right_kind
            or not _defined_in(found, library.providers)
            or (kind == "class" and found.__name__ != class_name)
        ):
            version = next(
                (
                    getattr(sys.modules[package], "__version__", None)
                    for package in library.providers
                    if package in sys.modules
                ),
                None,
            )
            installed = f"{library.title} {version}" if version else library.title
            raise UnsafeModelError(
                f"Refused: {where} names the {what} (registered name "
                f"{_quote(str(key))}), which the installed {installed} does not register with "
                "Keras, so it cannot be loaded safely. Save the model again with that version "
                f"of {library.title}."
            )
    _check_library_paths(entry, where)


# Tokenizer arguments that KerasHub reads as a file when they are text: a saved model keeps its
# vocabulary in the archive's assets and writes None here.
_LIBRARY_FILE_ARGUMENTS = frozenset({"vocabulary", "merges", "proto"})
_PATH_OR_URL = re.compile(r"^\s*(?:[/\\~]|[A-Za-z]:[/\\]|\.\.?[/\\]|[A-Za-z][A-Za-z0-9+.-]*://)")


def _check_library_paths(entry: dict, where: str) -> None:
    """Refuses a library object whose arguments name a file or URL for it to read: a model
    file must not make the server read its other files, or fetch anything."""
    inner = entry.get("config")
    if not isinstance(inner, dict):
        return
    for key, value in inner.items():
        if isinstance(value, str) and (key in _LIBRARY_FILE_ARGUMENTS or _PATH_OR_URL.match(value)):
            raise UnsafeModelError(
                f"Refused: the argument {_quote(key)} of {where} is the path or address "
                f"{_quote(value)}, which loading would read from this machine or the network; "
                "a saved model keeps such data inside its own file."
            )


def _is_keras_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "keras" and all(_IDENTIFIER.fullmatch(part) for part in parts)


def _keras_submodule_in(module: str, allowed: frozenset[str]) -> bool:
    if not _is_keras_module(module):
        return False
    parts = module.split(".")[1:]
    if parts and parts[0] == "src":
        parts = parts[1:]
    return bool(parts) and parts[0] in allowed


@functools.cache
def _keras_builtin_names() -> _KerasNames:
    import inspect

    import keras

    class_modules = [
        keras.layers,
        keras.models,
        keras.initializers,
        keras.regularizers,
        keras.constraints,
        keras.activations,
        keras.optimizers,
        keras.optimizers.schedules,
        keras.losses,
        keras.metrics,
        keras.dtype_policies,
        keras.mixed_precision,
    ]
    classes = {"Functional"}
    for module in class_modules:
        classes.update(
            name for name in dir(module) if isinstance(getattr(module, name, None), type)
        )
    function_modules = [
        keras.activations,
        keras.constraints,
        keras.initializers,
        keras.losses,
        keras.metrics,
        keras.optimizers,
        keras.regularizers,
    ]
    functions: set[str] = set()
    for module in function_modules:
        functions.update(
            name
            for name in dir(module)
            if not name.startswith("_") and inspect.isfunction(getattr(module, name, None))
        )
    return _KerasNames(
        classes=frozenset(classes - REFUSED_CLASS_NAMES),
        functions=frozenset(functions - {"get", "serialize", "deserialize"}),
        operations=_keras_operation_names(),
    )


def _keras_operation_names() -> frozenset[str]:
    """The classes Keras writes for ``keras.ops`` calls in a Functional graph (``LogicalOr``,
    ``NotEqual``, ``Cast``, ...): every Operation in ``keras.src.ops`` that is not a layer."""
    import keras  # noqa: F401 - imports every keras.src.ops module that defines operations
    from keras.src.layers.layer import Layer
    from keras.src.ops.operation import Operation

    names = set()
    modules = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("keras.src.ops.") and not name.endswith("_test") and module is not None
    ]
    for module in modules:
        names.update(
            name
            for name, value in vars(module).items()
            if isinstance(value, type)
            and issubclass(value, Operation)
            and not issubclass(value, Layer)
            and value is not Operation
            and value.__module__.startswith("keras.src.ops.")
        )
    return frozenset(names)


# --- Keras -----------------------------------------------------------------------------------


def _keras_load(info: _FileInfo, safe_mode: bool = True) -> keras.Model:
    import keras

    try:
        with _archive_safe_mode_scope(safe_mode):
            return keras.saving.load_model(info.path, safe_mode=safe_mode, compile=False)
    except Exception as error:
        reason = _keras_reason(error)
        if "safe_mode" in str(error):
            raise UnsafeModelError(
                f"Refused by Keras's safe mode (safe_mode=True) while loading {info.display}: "
                f"{reason}"
            ) from error
        raise InputError(
            f"Keras could not rebuild the model from {info.display}: {reason}"
        ) from error


def _archive_safe_mode_scope(safe_mode: bool = True) -> contextlib.AbstractContextManager:
    """The scope a .keras archive loads in: with no process-wide setting, safe_mode=True alone
    is safe mode while Keras rebuilds objects, and nothing is pinned. A pinned scope would still
    be on when Keras hands a KerasHub tokenizer the assets it extracted from the archive, and
    KerasHub refuses any vocabulary file in safe mode: a task saved with its preprocessor would
    not load."""
    try:
        from keras.src.saving.serialization_lib import in_safe_mode
    except ImportError:  # a future Keras: the safe_mode argument still applies
        return contextlib.nullcontext()
    if safe_mode and in_safe_mode() is None:
        return contextlib.nullcontext()
    return _safe_mode_scope(safe_mode)


def _safe_mode_scope(safe_mode: bool = True) -> contextlib.AbstractContextManager:
    # keras.saving.load_model(safe_mode=True) defers to a process-wide setting when one is set,
    # so enable_unsafe_deserialization() anywhere in the process would switch it off. The scope
    # pins safe mode for this load (off only for a file whose Lambda layers the operator
    # allowed) and restores the setting afterwards.
    try:
        from keras.src.saving.serialization_lib import SafeModeScope
    except ImportError:  # a future Keras: the safe_mode argument still applies
        return contextlib.nullcontext()
    return SafeModeScope(safe_mode)


# --- the card --------------------------------------------------------------------------------


def _card_from_config(
    config: dict,
    info: _FileInfo,
    keras_version: str | None,
    num_params: int | None,
    code_from: tuple[str, ...] = (),
) -> ModelCard:
    model_class = _short(config["class_name"], _MAX_NAME_CHARS)
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    name = inner.get("name") if isinstance(inner.get("name"), str) else None
    if name is None:
        name = os.path.splitext(os.path.basename(info.given))[0]
    raw_layers = inner.get("layers")
    layers = (
        [entry for entry in raw_layers if isinstance(entry, dict)]
        if isinstance(raw_layers, list)
        else []
    )
    return ModelCard(
        path=info.given,
        file_format=info.kind,
        name=_short(name, 200),
        model_class=model_class,
        num_layers=_count_layers(layers, model_class)
        if layers or model_class in _MODEL_CLASS_NAMES
        else None,
        num_params=num_params,
        input_shapes=_input_shapes(config, inner, layers, model_class),
        output_summary=_output_summary(inner, layers, model_class),
        keras_version=keras_version,
        file_size=info.stat.st_size,
        code_from=code_from,
    )


def _is_op_node(entry: dict) -> bool:
    """A keras.ops call in a Functional graph: a node of the config, not a layer."""
    module = entry.get("module")
    if isinstance(module, str):
        return module.startswith(("keras.src.ops", "keras.ops"))
    # Legacy .h5 configs drop the module; an op's config holds only its name, while every
    # layer but InputLayer also records whether it is trainable.
    inner = entry.get("config")
    return (
        entry.get("class_name") != "InputLayer"
        and isinstance(inner, dict)
        and "trainable" not in inner
    )


def _count_layers(layers: list[dict], model_class: str) -> int:
    count = 0
    for entry in layers:
        if _is_op_node(entry):
            continue
        if model_class == "Sequential" and entry.get("class_name") == "InputLayer":
            continue
        count += 1
    return count


def _entry_name(entry: dict) -> str | None:
    inner = entry.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    if isinstance(name, str):
        return name
    return entry.get("name") if isinstance(entry.get("name"), str) else None


def _node_names(value: Any) -> Iterator[str]:
    """Layer names in a Functional config's input_layers/output_layers, in order."""
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(index, int) for index in value[1:])
    ):
        yield value[0]
    elif isinstance(value, list):
        for item in value:
            yield from _node_names(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _node_names(item)


def _shape(value: Any) -> tuple[int | None, ...] | None:
    if not isinstance(value, list | tuple):
        return None
    if not all(item is None or (type(item) is int and item >= 0) for item in value):
        return None
    return tuple(value)


def _layer_input_shape(entry: dict) -> tuple[int | None, ...] | None:
    inner = entry.get("config")
    if not isinstance(inner, dict):
        return None
    for key in ("batch_shape", "batch_input_shape"):
        shape = _shape(inner.get(key))
        if shape is not None:
            return shape
    return None


def _input_shapes(
    config: dict, inner: dict, layers: list[dict], model_class: str
) -> tuple[tuple[int | None, ...], ...]:
    by_name = {_entry_name(entry): entry for entry in layers}
    if "input_layers" in inner:
        shapes = []
        for name in _node_names(inner["input_layers"]):
            entry = by_name.get(name)
            shape = _layer_input_shape(entry) if entry is not None else None
            if shape is not None:
                shapes.append(shape)
        return tuple(shapes)
    if layers:
        shape = _layer_input_shape(layers[0])
        if shape is not None:
            return (shape,)
    build_config = config.get("build_config")
    candidates = [inner.get("build_input_shape")]
    if isinstance(build_config, dict):
        candidates.append(build_config.get("input_shape"))
    for candidate in candidates:
        shape = _shape(candidate)
        if shape is not None:
            return (shape,)
    return ()


def _describe(entry: dict) -> str:
    class_name = _short(str(entry.get("class_name")), _MAX_NAME_CHARS)
    if class_name in _MODEL_CLASS_NAMES:
        name = _entry_name(entry)
        return f"{class_name} {_quote(name)}" if name else class_name
    inner = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    arguments = []
    for key in ("units", "filters", "output_dim", "num_heads"):
        value = inner.get(key)
        if type(value) is int:
            arguments.append(str(value))
            break
    activation = inner.get("activation")
    if isinstance(activation, dict):
        activation = (
            activation.get("config") if activation.get("class_name") == "function" else None
        )
    if isinstance(activation, str) and activation != "linear":
        arguments.append(_short(activation, 40))
    return f"{class_name}({', '.join(arguments)})" if arguments else class_name


def _output_summary(inner: dict, layers: list[dict], model_class: str) -> str:
    if "output_layers" in inner:
        by_name = {_entry_name(entry): entry for entry in layers}
        outputs = [by_name[name] for name in _node_names(inner["output_layers"]) if name in by_name]
    else:
        candidates = [entry for entry in layers if entry.get("class_name") != "InputLayer"]
        outputs = candidates[-1:]
    if not outputs:
        return "unknown"
    described = [_describe(entry) for entry in outputs]
    if len(described) == 1:
        return described[0]
    return f"{len(described)} outputs: " + ", ".join(described)


# --- small helpers ---------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_sentences(text: str, limit: int) -> str:
    """The text's leading whole sentences, up to about ``limit`` characters.

    A reason is never cut mid-sentence: what gets shorter is what is quoted inside it (a name
    from a file, a dumped config), and sentences after the first are left out once the limit is
    reached; a first sentence over the limit is kept whole.
    """
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z`'\"(<])", _shorten_quoted(" ".join(text.split())))
    kept = sentences[0]
    for sentence in sentences[1:]:
        if len(kept) + 1 + len(sentence) > limit:
            break
        kept += " " + sentence
    return kept


_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_MAX_DUMP_CHARS = 60


def _shorten_quoted(text: str) -> str:
    """``text`` with long quoted strings shortened ('a very long na…') and long dumped dicts or
    lists (``{'module': ...}``) replaced by ``{…}``."""
    text = _QUOTED.sub(
        lambda found: (
            found.group(0)
            if len(found.group(0)) <= _MAX_NAME_CHARS + 2
            else found.group(0)[:_MAX_NAME_CHARS] + "…" + found.group(0)[-1]
        ),
        text,
    )
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char in "{[":
            closing = _closing_bracket(text, index)
            if closing is not None and closing - index + 1 > _MAX_DUMP_CHARS:
                out.append("{…}" if char == "{" else "[…]")
                index = closing + 1
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _closing_bracket(text: str, start: int) -> int | None:
    pairs = {"{": "}", "[": "]"}
    stack = []
    for index in range(start, len(text)):
        char = text[index]
        if char in pairs:
            stack.append(pairs[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return index
    return None


_KERAS_CONFIG_DUMP = re.compile(
    r"\s*(?:Full object config|Received config|config)\s*[:=]\s*[\[{].*\Z", re.DOTALL
)


def _keras_reason(error: BaseException) -> str:
    """Why Keras could not rebuild a model, in whole sentences: the innermost cause Keras wraps
    ("Exception encountered: ..."), without the configs Keras dumps after it."""
    text = str(error).strip()
    if "Exception encountered:" in text:
        text = text.rsplit("Exception encountered:", 1)[1].strip()
    text = _KERAS_CONFIG_DUMP.sub("", text).strip()
    first = next((line for line in text.splitlines() if line.strip()), "")
    return _clip_sentences(first or type(error).__name__, 300)


def _quote(text: str | None) -> str:
    """A name from a file, quoted and shortened, safe to show as text."""
    return repr(_short(str(text), _MAX_NAME_CHARS))


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text and text[0] else type(error).__name__


def _bytes(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:,.1f} {unit}"


# --- training setup (the loss and metrics a model was compiled with) -------------------------


@dataclass(frozen=True)
class TrainingSetup:
    """What a model file says it was compiled with, as plain JSON values (nothing deserialized).

    Attributes:
        loss: a Keras loss name (``'sparse_categorical_crossentropy'``) or a serialized
            ``keras.losses`` object (``{'module': 'keras.losses', 'class_name': ..., 'config':
            ...}``); None when the file holds none, or one this reader does not take (several
            outputs' losses, a custom loss).
        metrics: the compiled metrics' names (``'accuracy'``, ``'mae'``), in order.
        note: why the loss was left out, or ``''``.
    """

    loss: str | dict | None
    metrics: tuple[str, ...]
    note: str = ""


def training_setup(path: str | os.PathLike[str]) -> TrainingSetup:
    """The loss and metrics a ``.keras`` or ``.h5`` model file was compiled with.

    Only the JSON is read (``compile_config`` in a ``.keras`` archive's ``config.json``, the
    ``training_config`` attribute of an ``.h5`` file); nothing is deserialized or run. Call it
    on a file :func:`load_model` accepted.

    Raises:
        InputError: the file cannot be read.
    """
    info = _inspect_path(path)
    if info.kind == "keras":
        try:
            with zipfile.ZipFile(info.path) as archive:
                raw = _read_member(archive, "config.json", info.display, MAX_CONFIG_BYTES)
        except (OSError, zipfile.BadZipFile) as error:
            raise _damaged_archive(info.display, _reason(error)) from None
        try:
            compiled = json.loads(raw).get("compile_config")
        except (ValueError, AttributeError):
            compiled = None
    else:
        compiled = _h5_training_config(info.path)
    if not isinstance(compiled, dict) or not compiled:
        return TrainingSetup(None, (), "the file was saved without a compiled loss")
    loss, note = _plain_loss(compiled.get("loss"))
    return TrainingSetup(loss, _metric_names(compiled.get("metrics")), note)


def _h5_training_config(path: str) -> dict | None:
    import h5py

    try:
        with h5py.File(path, "r") as file:
            raw = file.attrs.get("training_config")
    except OSError:
        return None
    if raw is None or len(raw) > MAX_CONFIG_BYTES:
        return None
    try:
        config = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))
    except ValueError:
        return None
    return config if isinstance(config, dict) else None


def _plain_loss(loss: Any) -> tuple[str | dict | None, str]:
    if isinstance(loss, str) and _IDENTIFIER.fullmatch(loss):
        return loss, ""
    if isinstance(loss, dict) and loss.get("class_name") == "function":
        # Keras 3 saves a function loss (keras.losses.mean_squared_error) as a builtins
        # "function" whose config is its name.
        name = loss.get("config")
        if isinstance(name, str) and _IDENTIFIER.fullmatch(name):
            return name, ""
        return None, "the compiled loss is a function this reader cannot name"
    if isinstance(loss, dict) and "class_name" in loss:
        module = loss.get("module", "keras.losses")
        # Keras 2 .h5 files write {"class_name": ..., "config": ...} with no module.
        if module in ("keras.losses", "builtins") and isinstance(loss.get("class_name"), str):
            return {
                "module": "keras.losses",
                "class_name": loss["class_name"],
                "config": loss.get("config") if isinstance(loss.get("config"), dict) else {},
            }, ""
        return None, f"the compiled loss is not one of Keras's own ({_quote(module)})"
    if isinstance(loss, (list, dict)):
        return None, "the model was compiled with one loss per output"
    return None, "the file names no compiled loss"


def _metric_names(metrics: Any) -> tuple[str, ...]:
    names: list[str] = []
    items = metrics if isinstance(metrics, list) else []
    for item in items:
        # Keras 3 nests a list per output; a single-output model has one flat list.
        for entry in item if isinstance(item, list) else [item]:
            if isinstance(entry, str) and _IDENTIFIER.fullmatch(entry):
                names.append(entry)
            elif isinstance(entry, dict):
                name = (
                    entry.get("config", {}).get("name")
                    if isinstance(entry.get("config"), dict)
                    else None
                )
                name = name or entry.get("class_name")
                if isinstance(name, str) and _IDENTIFIER.fullmatch(name):
                    names.append(name)
    return tuple(dict.fromkeys(names))

"""What the recorder does with the data given up front and the values it keeps: the first
samples of arrays, structures or datasets, arrays as NumPy, ``.npz`` files and JSON-safe values."""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import keras
import numpy as np

__all__ = [
    "as_float",
    "first_samples",
    "flat_arrays",
    "json_safe",
    "num_samples",
    "save_npz",
    "short_text",
    "take",
    "to_numpy",
]


def short_text(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_float(value) -> float | None:
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.size != 1 or array.dtype.kind not in "biuf":
        return None
    return float(array.reshape(()))


def to_numpy(value) -> np.ndarray:
    # keras.ops.convert_to_numpy(variable) goes through np.array(variable), which NumPy 2
    # deprecates for TensorFlow variables; Variable.numpy() does not.
    if isinstance(value, keras.Variable) or hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(keras.ops.convert_to_numpy(value))


def _unpack(data):
    """Keras's convention: a tuple is (x,), (x, y) or (x, y, sample_weight); anything else is x."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None
        if len(data) in (2, 3):
            return data[0], data[1]
    return data, None


def _is_dataset(data) -> bool:
    return type(data).__module__.startswith("tensorflow") and hasattr(data, "element_spec")


def take(structure, count: int):
    return keras.tree.map_structure(lambda array: array[:count], structure)


def num_samples(structure) -> int:
    leaves = keras.tree.flatten(structure)
    return int(leaves[0].shape[0]) if leaves else 0


def first_samples(data, count: int, what: str):
    """(x, y) as NumPy structures holding the first ``count`` samples, or None."""
    if data is None:
        return None
    if _is_dataset(data):
        xs, ys, seen = [], [], 0
        for element in data:
            x, y = _unpack(element)
            xs.append(keras.tree.map_structure(np.asarray, x))
            ys.append(None if y is None else keras.tree.map_structure(np.asarray, y))
            seen += num_samples(xs[-1])
            if seen >= count:
                break
        if not xs:
            raise ValueError(
                f"Expected {what} with at least one sample. Received: an empty dataset."
            )
        x = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *xs)
        y = None if ys[0] is None else keras.tree.map_structure(lambda *p: np.concatenate(p), *ys)
    else:
        x, y = _unpack(data)
    try:
        x = keras.tree.map_structure(lambda a: _plain_array(a)[:count], x)
        y = None if y is None else keras.tree.map_structure(lambda a: _plain_array(a)[:count], y)
    except Exception as error:
        raise ValueError(
            f"Expected {what} to be x or (x, y) of arrays (or lists/dicts of arrays). "
            f"Received: {type(data).__name__} ({error})"
        ) from None
    leaves = keras.tree.flatten(x) + (keras.tree.flatten(y) if y is not None else [])
    if not leaves or any(leaf.ndim == 0 for leaf in leaves):
        raise ValueError(
            f"Expected {what} arrays with a sample axis. Received: {type(data).__name__}"
        )
    sizes = {int(leaf.shape[0]) for leaf in leaves}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(
            f"Expected {what} arrays with the same, non-zero number of samples. "
            f"Received sample counts {sorted(sizes)}."
        )
    if any(leaf.dtype.kind == "O" for leaf in leaves):
        raise ValueError(f"Expected {what} arrays of numbers or strings, not Python objects.")
    return x, y


def _plain_array(value) -> np.ndarray:
    """An array NumPy can save without pickling: TensorFlow's string tensors become str arrays."""
    array = np.asarray(value)
    if array.dtype == object and all(isinstance(v, bytes | str) for v in array.flat):
        text = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in array.flat]
        array = np.array(text, dtype=str).reshape(array.shape)
    return array


def flat_arrays(prefix: str, value) -> dict[str, np.ndarray]:
    """``x`` for one array; ``x/0``, ``x/1`` or ``x/<key>`` for lists and dicts of arrays."""
    if value is None:
        return {}
    if isinstance(value, dict):
        items = [(f"{prefix}/{key}", item) for key, item in value.items()]
    elif isinstance(value, list | tuple):
        items = [(f"{prefix}/{index}", item) for index, item in enumerate(value)]
    else:
        return {prefix: np.asarray(value)}
    arrays: dict[str, np.ndarray] = {}
    for key, item in items:
        arrays.update(flat_arrays(key, item))
    return arrays


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` into a hidden temporary file, then renamed: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".tmp-{path.name}"
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def json_safe(value, depth: int = 0):
    """Plain JSON values: numbers, strings, lists, dicts; anything else as its short repr."""
    if depth > 32:
        return short_text(repr(value), 200)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return json_safe(value.item(), depth + 1)
    if isinstance(value, np.ndarray):
        if value.size <= 1000:
            return json_safe(value.tolist(), depth + 1)
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, dict):
        return {str(key): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item, depth + 1) for item in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return short_text(repr(value), 200)

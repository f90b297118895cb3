"""Tiny deterministic models, data and logs shared by the tests and the benchmarks.

Everything here is small enough to build in well under a second on a laptop CPU, and seeded, so
two calls give the same weights.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

SEED = 1234

__all__ = [
    "tiny_dense_model",
    "tiny_cnn",
    "tiny_branching_model",
    "tiny_data",
    "write_csv_log",
    "write_json_history",
]


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    keras.utils.set_random_seed(SEED)
    return keras


def tiny_dense_model(input_dim: int = 8, num_classes: int = 3, name: str = "tiny_dense"):
    """Sequential: Dense(16, relu) -> Dense(num_classes, softmax). 8*16+16 + 16*3+3 = 195 parameters by default."""
    keras = _keras()
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dense(num_classes, activation="softmax", name="probabilities"),
        ],
        name=name,
    )


def tiny_cnn(
    input_shape: tuple[int, int, int] = (8, 8, 1), num_classes: int = 10, name: str = "tiny_cnn"
):
    """Functional: Conv2D(4, 3x3) -> BatchNormalization -> MaxPooling -> Flatten -> Dense(num_classes)."""
    keras = _keras()
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def tiny_branching_model(name: str = "tiny_branching"):
    """Two inputs, a skip connection and two outputs: the shapes a walker must get right."""
    keras = _keras()
    a = keras.Input((6,), name="a")
    b = keras.Input((4,), name="b")
    ha = keras.layers.Dense(6, activation="relu", name="dense_a")(a)
    skip = keras.layers.Add(name="skip")([a, ha])
    joined = keras.layers.Concatenate(name="join")([skip, b])
    out_1 = keras.layers.Dense(2, name="head_1")(joined)
    out_2 = keras.layers.Dense(1, activation="sigmoid", name="head_2")(joined)
    return keras.Model([a, b], [out_1, out_2], name=name)


def tiny_data(
    num_samples: int = 64, input_dim: int = 8, num_classes: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """A separable classification set: the class is the argmax of the first ``num_classes`` features."""
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(num_samples, input_dim)).astype("float32")
    y = np.argmax(x[:, :num_classes], axis=1).astype("int64")
    return x, y


def write_csv_log(path: str | os.PathLike, history: dict[str, list], separator: str = ",") -> Path:
    """Writes a history the way ``keras.callbacks.CSVLogger`` does (epoch column first)."""
    path = Path(path)
    keys = list(history)
    num_epochs = max(len(values) for values in history.values())
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=separator)
        writer.writerow(["epoch", *keys])
        for epoch in range(num_epochs):
            row = [epoch]
            for key in keys:
                values = history[key]
                row.append(values[epoch] if epoch < len(values) else "NA")
            writer.writerow(row)
    return path


def write_json_history(path: str | os.PathLike, history: dict[str, list]) -> Path:
    """Writes ``History.history`` as ``json.dump`` does (NaN as the ``NaN`` literal)."""
    path = Path(path)
    path.write_text(json.dumps(history))
    return path

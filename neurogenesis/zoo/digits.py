"""Image classification on scikit-learn's handwritten digits (1,797 real 8x8 images, offline).

A small CNN trained with Adam, recorded with Keras's own TensorBoard (scalars and weight
histograms per epoch) and CSVLogger callbacks, so the demo logs are exactly what users' logs are.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

SEED = 7
DEFAULT_EPOCHS = 12
TEST_FRACTION = 0.2


def digits_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The digits as float32 images in [0, 1], shape (n, 8, 8, 1), split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=SEED, stratify=y
    )
    return (x_train, y_train), (x_test, y_test)


def digits_cnn():
    import keras

    inputs = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_1")(inputs)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_2")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(0.2, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


def build_digits_cnn(models_dir: Path, data_dir: Path, epochs: int = DEFAULT_EPOCHS) -> dict:
    """Trains the digits CNN and writes its model, runs and sample set.

    Writes ``models/digits_cnn.keras`` (+ ``.json`` card), ``data/runs/digits_cnn/`` (TensorBoard
    ``train``/``validation`` runs and ``training.csv``) and ``data/samples/digits.npz``.

    Returns:
        Facts about the build: test accuracy, number of epochs, paths written.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_test, y_test) = digits_data()
    model = digits_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    run_dir = data_dir / "runs" / "digits_cnn"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    model.fit(
        x_train,
        y_train,
        validation_data=(x_test, y_test),
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[
            keras.callbacks.TensorBoard(log_dir=str(run_dir), histogram_freq=1, write_graph=False),
            keras.callbacks.CSVLogger(str(run_dir / "training.csv")),
        ],
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    models_dir.mkdir(parents=True, exist_ok=True)
    model_path = models_dir / "digits_cnn.keras"
    model.save(model_path)
    card = {
        "title": "Digits CNN",
        "dataset": "scikit-learn handwritten digits (8x8, 10 classes)",
        "description": "Two convolutions, max pooling and a dense head, trained with Adam.",
        "test_accuracy": round(float(accuracy), 4),
        "epochs": epochs,
        "seed": SEED,
    }
    model_path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    samples_dir = data_dir / "samples"
    samples_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        samples_dir / "digits.npz",
        x=x_test,
        y=y_test,
        label_names=np.array([str(digit) for digit in range(10)]),
    )
    return {**card, "model": str(model_path), "runs": str(run_dir)}

"""Image classification on scikit-learn's handwritten digits (1,797 real 8x8 images, offline).

A small CNN with BatchNormalization, trained with Adam (the saved model), and the same network
trained with SGD and RMSprop and without BatchNormalization, so the training page can compare
optimizers and show what batch normalization does. One more run is recorded with Keras's own
``TensorBoard(histogram_freq=1)`` and ``CSVLogger`` callbacks, so standard logs are demoed too.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from neurogenesis.zoo.common import (
    SEED,
    Recipe,
    Scenario,
    SweepSpec,
    fresh_dir,
    keras_module,
    make_card,
    make_optimizer,
    save_model_and_card,
    save_samples,
    scenario_facts,
    seconds_since,
    set_seed,
)

NAME = "digits_cnn"
TITLE = "Digits CNN"
DATASET = (
    "scikit-learn's load_digits: 1,797 real handwritten digits, 8x8 grey levels (UCI Optical "
    "Recognition of Handwritten Digits, CC BY 4.0), shipped inside scikit-learn"
)
TASK = "image classification"
LABEL_NAMES = tuple(str(digit) for digit in range(10))
DEFAULT_EPOCHS = 12
QUICK_EPOCHS = 2
TEST_FRACTION = 0.2
BATCH_SIZE = 32
DEFAULT_WIDTH = 16
KERAS_CALLBACKS_RUN = "keras_callbacks"
MAIN_RUN = "adam"

# Run folder -> (optimizer, learning rate, batch normalization). The first is the saved model.
VARIANTS = {
    "adam": ("adam", 1e-3, True),
    "sgd": ("sgd", 1e-2, True),
    "rmsprop": ("rmsprop", 1e-3, True),
    "adam_no_bn": ("adam", 1e-3, False),
}
SWEEP_GRID = {"learning_rate": [3e-4, 1e-3, 3e-3], "width": [4, 8, 16, 32]}
SWEEP_EPOCHS = 6
QUICK_SWEEP_GRID = {"learning_rate": [1e-3, 3e-3], "width": [4]}
QUICK_SWEEP_EPOCHS = 1
SWEEP_METRIC = "val_accuracy"
SWEEP_GOAL = "max"
# A live random sweep: log-uniform learning rates around the grid's, the grid's widths.
RANDOM_SPACE = {"learning_rate": (1e-4, 1e-2, "log"), "width": [4, 8, 16, 32]}


def digits_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The digits as float32 images in [0, 1], shape (n, 8, 8, 1), split 80/20 with a fixed seed.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``; labels are int64 digits 0-9.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=SEED, stratify=y
    )
    return (x_train, y_train), (x_test, y_test)


def digits_cnn(*, width: int = DEFAULT_WIDTH, batch_norm: bool = True):
    """Two 3x3 convolutions (``width`` and ``2 * width`` filters), max pooling, a softmax layer.

    With ``batch_norm`` each convolution is followed by BatchNormalization before its ReLU.
    """
    keras = keras_module()
    inputs = keras.Input((8, 8, 1), name="image")
    x = inputs
    for index, filters in enumerate((width, 2 * width), start=1):
        x = keras.layers.Conv2D(
            filters, 3, padding="same", use_bias=not batch_norm, name=f"conv_{index}"
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"batch_norm_{index}")(x)
        x = keras.layers.Activation("relu", name=f"relu_{index}")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.2, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=NAME if batch_norm else f"{NAME}_no_bn")


def _compiled(
    *,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    width: int = DEFAULT_WIDTH,
    batch_norm: bool = True,
):
    model = digits_cnn(width=width, batch_norm=batch_norm)
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _hyperparameters(
    *,
    epochs: int,
    seed: int,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    width: int = DEFAULT_WIDTH,
    batch_norm: bool = True,
) -> dict:
    return {
        "optimizer": optimizer,
        "learning_rate": learning_rate,
        "width": width,
        "batch_norm": batch_norm,
        "batch_size": BATCH_SIZE,
        "epochs": epochs,
        "seed": seed,
    }


_RECIPE = Recipe(
    compiled=_compiled,
    hyperparameters=_hyperparameters,
    batch_size=BATCH_SIZE,
    split=lambda data: data,  # already ((x_train, y_train), (x_test, y_test))
)


def _keras_callbacks_run(run_dir: Path, data, epochs: int) -> None:
    """The Adam + BatchNormalization run again, logged by Keras's own callbacks only."""
    keras = keras_module()
    fresh_dir(run_dir)
    set_seed(SEED)
    optimizer, learning_rate, batch_norm = VARIANTS[MAIN_RUN]
    model = _compiled(optimizer=optimizer, learning_rate=learning_rate, batch_norm=batch_norm)
    (x_train, y_train), validation = data
    model.fit(
        x_train,
        y_train,
        validation_data=validation,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
        callbacks=[
            keras.callbacks.TensorBoard(log_dir=str(run_dir), histogram_freq=1, write_graph=False),
            keras.callbacks.CSVLogger(str(run_dir / "training.csv")),
        ],
    )


def build(
    models_dir: Path, data_dir: Path, *, quick: bool = False, epochs: int | None = None
) -> dict:
    """Rebuilds the digits CNN: model and card, the optimizer and BN runs, the sweep, the samples.

    Writes ``models/digits_cnn.keras`` (+ ``.json``), ``data/runs/digits_cnn/{adam,sgd,rmsprop,
    adam_no_bn,keras_callbacks}``, ``data/sweeps/digits_cnn`` and ``data/samples/digits_cnn.npz``
    (the test split).

    Returns:
        The card plus paths and the build's duration (see :class:`~neurogenesis.zoo.Scenario`).
    """
    start = time.perf_counter()
    epochs = epochs or (QUICK_EPOCHS if quick else DEFAULT_EPOCHS)
    data = digits_data()
    runs_dir = fresh_dir(data_dir / "runs" / NAME)
    models = {}
    for run, (optimizer, learning_rate, batch_norm) in VARIANTS.items():
        options = {"optimizer": optimizer, "learning_rate": learning_rate, "batch_norm": batch_norm}
        models[run] = _RECIPE.record_run(
            runs_dir / run, data, epochs, options, comparison=run != MAIN_RUN
        )
    _keras_callbacks_run(runs_dir / KERAS_CALLBACKS_RUN, data, epochs)

    _RECIPE.sweep(
        NAME,
        data_dir,
        data,
        grid=QUICK_SWEEP_GRID if quick else SWEEP_GRID,
        epochs=QUICK_SWEEP_EPOCHS if quick else SWEEP_EPOCHS,
        metric=SWEEP_METRIC,
        goal=SWEEP_GOAL,
    )

    main_model = models[MAIN_RUN]
    x_test, y_test = data[1]
    _, accuracy = main_model.evaluate(x_test, y_test, verbose=0)
    card = make_card(
        name=NAME,
        title=TITLE,
        dataset=DATASET,
        task=TASK,
        description=(
            "Two 3x3 convolutions with BatchNormalization and ReLU, max pooling and a softmax layer, "
            f"trained with Adam. The runs compare Adam, SGD (momentum 0.9) and RMSprop, and Adam "
            f"without BatchNormalization; '{KERAS_CALLBACKS_RUN}' is the Adam run logged by "
            "Keras's own TensorBoard and CSVLogger callbacks."
        ),
        test_metric="accuracy",
        test_value=accuracy,
        goal="max",
        epochs=epochs,
        input_description="8x8 grey-level digit images, float32 in [0, 1] (ink = 1)",
        input_shape=(None, 8, 8, 1),
        input_dtype="float32",
        input_range=[0.0, 1.0],
        label_names=LABEL_NAMES,
        data_dir=data_dir,
        runs=[*VARIANTS, KERAS_CALLBACKS_RUN],
        quick=quick,
        test_split=f"the {len(y_test)} images in data/samples/{NAME}.npz (stratified 20%)",
    )
    model_path = save_model_and_card(main_model, models_dir, NAME, card)
    save_samples(data_dir, NAME, x=x_test, y=y_test, label_names=np.array(LABEL_NAMES))
    return scenario_facts(card, model_path, data_dir, seconds_since(start))


SCENARIO = Scenario(
    name=NAME,
    title=TITLE,
    dataset=DATASET,
    task=TASK,
    default_epochs=DEFAULT_EPOCHS,
    build=build,
    setup=lambda: (_RECIPE, digits_data()),
    sweep=SweepSpec.declared(globals()),
    width_model=lambda width: digits_cnn(width=width),
)

"""Image classification on scikit-learn's handwritten digits (1,797 real 8x8 images, offline).

A small CNN with BatchNormalization, trained with Adam (the saved model), and the same network
trained with SGD and RMSprop and without BatchNormalization, so the training page can compare
optimizers and show what batch normalization does. One more run is recorded with Keras's own
``TensorBoard(histogram_freq=1)`` and ``CSVLogger`` callbacks, so standard logs are demoed too.

The story runs (:func:`build_stories`) give the training page's views something to find: a run
that overfits, one that diverges to NaN, and three seeds each of the Adam and SGD recipes.
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
    fit_recorded,
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
# Story runs (build_stories): folder -> what it shows.
OVERFIT_RUN = "overfit"
DIVERGING_RUN = "diverging"
SEED_RECIPES = ("adam", "sgd")  # VARIANTS entries trained again with each of SEEDS
SEEDS = (1, 2, 3)
STORY_RUNS = {
    OVERFIT_RUN: "no BatchNormalization or dropout, twice as wide, 150 training images: the "
    "validation loss reaches its minimum early and then rises while the training loss falls",
    DIVERGING_RUN: "SGD whose learning rate is multiplied by 10 every epoch from 0.001 (a "
    "learning-rate range test): the loss falls, climbs, and becomes NaN; TerminateOnNaN stops it",
    **{
        f"{recipe}_seed{seed}": f"the '{recipe}' run with seed {seed}, metrics and model only"
        for recipe in SEED_RECIPES
        for seed in SEEDS
    },
}
OVERFIT_TRAIN_SIZE = 150
OVERFIT_WIDTH = 2 * DEFAULT_WIDTH
OVERFIT_LEARNING_RATE = 5e-3
OVERFIT_EPOCHS = 40
OVERFIT_HISTOGRAM_FREQ = 5
DIVERGING_LEARNING_RATE = 1e-3  # at epoch 0; times DIVERGING_GROWTH every epoch
DIVERGING_GROWTH = 10.0
DIVERGING_WEIGHT_DECAY = 1e-2
DIVERGING_EPOCHS = 12  # at most: TerminateOnNaN ends it at the first NaN
QUICK_STORY_EPOCHS = 2

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


def digits_cnn(*, width: int = DEFAULT_WIDTH, batch_norm: bool = True, dropout: float = 0.2):
    """Two 3x3 convolutions (``width`` and ``2 * width`` filters), max pooling, a softmax layer.

    With ``batch_norm`` each convolution is followed by BatchNormalization before its ReLU;
    ``dropout`` is the rate of the Dropout layer before the softmax layer (0: no such layer).
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
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
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


def _overfit_run(run_dir: Path, data, epochs: int) -> None:
    """A wider CNN without BatchNormalization or dropout on the first 150 training images."""
    set_seed(SEED)
    model = digits_cnn(width=OVERFIT_WIDTH, batch_norm=False, dropout=0.0)
    model.compile(
        optimizer=make_optimizer("adam", OVERFIT_LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    (x_train, y_train), validation = data
    hyperparameters = {
        **_hyperparameters(
            epochs=epochs,
            seed=SEED,
            learning_rate=OVERFIT_LEARNING_RATE,
            width=OVERFIT_WIDTH,
            batch_norm=False,
        ),
        "dropout": 0.0,
        "train_size": OVERFIT_TRAIN_SIZE,
    }
    fit_recorded(
        model,
        run_dir,
        (x_train[:OVERFIT_TRAIN_SIZE], y_train[:OVERFIT_TRAIN_SIZE]),
        validation,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        hyperparameters=hyperparameters,
        recorder_options={
            "histogram_freq": OVERFIT_HISTOGRAM_FREQ,
            "checkpoint_freq": 0,
            "activation_stats": False,
            "save_model": False,
        },
    )


def _diverging_run(run_dir: Path, data, epochs: int) -> None:
    """SGD (momentum 0.9, weight decay) whose learning rate grows tenfold every epoch until the
    loss is NaN; Keras's TerminateOnNaN ends the training in that epoch, which is recorded."""
    keras = keras_module()
    set_seed(SEED)
    model = digits_cnn(batch_norm=False)
    model.compile(
        optimizer=keras.optimizers.SGD(
            DIVERGING_LEARNING_RATE, momentum=0.9, weight_decay=DIVERGING_WEIGHT_DECAY
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    hyperparameters = {
        **_hyperparameters(
            epochs=epochs,
            seed=SEED,
            optimizer="sgd",
            learning_rate=DIVERGING_LEARNING_RATE,
            batch_norm=False,
        ),
        "learning_rate_growth": DIVERGING_GROWTH,
        "weight_decay": DIVERGING_WEIGHT_DECAY,
    }
    train, validation = data
    fit_recorded(
        model,
        run_dir,
        train,
        validation,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        hyperparameters=hyperparameters,
        recorder_options={"checkpoint_freq": 0, "activation_stats": False, "save_model": False},
        callbacks=[
            keras.callbacks.LearningRateScheduler(
                lambda epoch: DIVERGING_LEARNING_RATE * DIVERGING_GROWTH**epoch
            ),
            keras.callbacks.TerminateOnNaN(),
        ],
    )


def _seed_run(run_dir: Path, data, epochs: int, recipe: str, seed: int) -> None:
    """One of :data:`VARIANTS`' recipes again with another seed: metrics and the model only."""
    optimizer, learning_rate, batch_norm = VARIANTS[recipe]
    options = {"optimizer": optimizer, "learning_rate": learning_rate, "batch_norm": batch_norm}
    set_seed(seed)
    model = _compiled(**options)
    train, validation = data
    fit_recorded(
        model,
        run_dir,
        train,
        validation,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        hyperparameters=_hyperparameters(epochs=epochs, seed=seed, **options),
        light=True,
        recorder_options={"save_model": True},  # the seed test compares the saved models
    )


def build_stories(data_dir: Path, *, quick: bool = False, epochs: int | None = None) -> list[Path]:
    """Writes only the story runs (:data:`STORY_RUNS`) into ``data/runs/digits_cnn/``, leaving
    the other runs, the model and the sweep as they are.

    Every run is seeded, so a rebuild writes the same curves. The seed runs train as long as the
    comparison runs (``epochs``, by default :data:`DEFAULT_EPOCHS`), so ``adam`` (seed 7) and
    ``adam_seed1..3`` differ only in their seed.

    Returns:
        The run folders written.
    """
    data = digits_data()
    runs_dir = data_dir / "runs" / NAME
    epochs = epochs or (QUICK_EPOCHS if quick else DEFAULT_EPOCHS)
    written = []
    for run in STORY_RUNS:
        run_dir = fresh_dir(runs_dir / run)
        if run == OVERFIT_RUN:
            _overfit_run(run_dir, data, QUICK_STORY_EPOCHS if quick else OVERFIT_EPOCHS)
        elif run == DIVERGING_RUN:
            _diverging_run(run_dir, data, QUICK_STORY_EPOCHS if quick else DIVERGING_EPOCHS)
        else:
            recipe, seed = run.rsplit("_seed", 1)
            _seed_run(run_dir, data, epochs, recipe, int(seed))
        written.append(run_dir)
    return written


def build(
    models_dir: Path, data_dir: Path, *, quick: bool = False, epochs: int | None = None
) -> dict:
    """Rebuilds the digits CNN: model and card, the optimizer and BN runs, the sweep, the samples.

    Writes ``models/digits_cnn.keras`` (+ ``.json``), ``data/runs/digits_cnn/{adam,sgd,rmsprop,
    adam_no_bn,keras_callbacks}`` and the story runs (:func:`build_stories`),
    ``data/sweeps/digits_cnn`` and ``data/samples/digits_cnn.npz``
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
    build_stories(data_dir, quick=quick, epochs=epochs)

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

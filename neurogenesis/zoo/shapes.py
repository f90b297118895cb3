"""Image classification on generated 32x32 colour shapes: a CIFAR-like stand-in with ground truth.

Five object classes (circle, square, triangle, cross, ring), upright give or take 15 degrees, of
random size, position and colour are drawn on textured backgrounds (stripes, checkerboards, smooth
noise, gradients in two related colours) whose statistics do not depend on the class, and each
object's pixel mask is kept. Only the object can
tell the classes apart, so a saliency map can be scored against the mask: the pixels that matter
are known for every image. The data is generated with NumPy from a fixed seed (no download, no
licence question).
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
)

NAME = "shapes_cnn"
TITLE = "Shapes CNN"
DATASET = (
    "generated 32x32 colour shapes (circle, square, triangle, cross, ring) on textured "
    "backgrounds with per-image object masks; made by neurogenesis.zoo.shapes from a fixed seed"
)
TASK = "image classification"
LABEL_NAMES = ("circle", "square", "triangle", "cross", "ring")
IMAGE_SIZE = 32
TRAIN_PER_CLASS = 500
TEST_PER_CLASS = 100
QUICK_TRAIN_PER_CLASS = 60
QUICK_TEST_PER_CLASS = 20
DEFAULT_EPOCHS = 12
QUICK_EPOCHS = 2
BATCH_SIZE = 64
DEFAULT_WIDTH = 16
LEARNING_RATE = 3e-3
MAIN_RUN = "adam"
SWEEP_GRID = {"learning_rate": [3e-4, 1e-3, 3e-3], "width": [4, 8, 12, 16]}
SWEEP_EPOCHS = 5
QUICK_SWEEP_GRID = {"learning_rate": [1e-3, 3e-3], "width": [4]}
QUICK_SWEEP_EPOCHS = 1
SWEEP_METRIC = "val_accuracy"
SWEEP_GOAL = "max"
# A live random sweep: log-uniform learning rates around the grid's, the grid's widths.
RANDOM_SPACE = {"learning_rate": (1e-4, 1e-2, "log"), "width": [4, 8, 12, 16]}
MIN_CONTRAST = 0.5  # RGB distance between an object's colour and its background's mean colour
TEXTURE_CONTRAST = 0.25  # most a background's second colour differs from its first, per channel
PIXEL_NOISE = 0.03
MIN_RADIUS = 5.0
MAX_RADIUS = 8.5
MAX_ROTATION = np.pi / 12.0  # shapes stand upright, give or take 15 degrees

_TEXTURES = ("stripes", "checker", "smooth", "gradient")


def _object_mask(label: int, rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray):
    """The boolean mask of one object of class ``label`` at a random place, size and angle."""
    radius = rng.uniform(MIN_RADIUS, MAX_RADIUS)
    # Every shape reaches at most 0.8 * sqrt(2) * radius (a square's corner) from its centre:
    # keep a pixel of background between it and the border, so the object is wholly inside.
    reach = 0.8 * np.sqrt(2.0) * radius + 1.0
    cy, cx = rng.uniform(reach, IMAGE_SIZE - 1.0 - reach, size=2)
    angle = rng.uniform(-MAX_ROTATION, MAX_ROTATION)
    dy, dx = yy - cy, xx - cx
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    distance = np.hypot(dx, dy)
    name = LABEL_NAMES[label]
    if name == "circle":
        return distance <= radius
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8 * radius
    if name == "triangle":
        # An equilateral triangle: inside the three half-planes at the inradius (radius / 2).
        inside = np.ones_like(u, dtype=bool)
        for k in range(3):
            normal = angle + np.pi / 2.0 + 2.0 * np.pi * k / 3.0  # a flat base: pointing up
            inside &= dx * np.cos(normal) + dy * np.sin(normal) <= 0.5 * radius
        return inside
    if name == "cross":
        arm = 0.3 * radius
        return ((np.abs(u) <= arm) & (np.abs(v) <= radius)) | (
            (np.abs(v) <= arm) & (np.abs(u) <= radius)
        )
    return (distance <= radius) & (distance >= 0.55 * radius)  # ring


def _texture(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """A background pattern in [0, 1], the same kinds for every class."""
    kind = _TEXTURES[rng.integers(len(_TEXTURES))]
    theta = rng.uniform(0.0, np.pi)
    along = xx * np.cos(theta) + yy * np.sin(theta)
    if kind == "stripes":
        return 0.5 + 0.5 * np.sin(2.0 * np.pi * rng.uniform(0.08, 0.25) * along + rng.uniform(0, 6))
    if kind == "checker":
        size = rng.integers(3, 7)
        offset = rng.integers(0, size, size=2)
        return (((yy + offset[0]) // size + (xx + offset[1]) // size) % 2).astype(float)
    if kind == "smooth":
        pattern = np.zeros_like(xx, dtype=float)
        for _ in range(4):
            fy, fx = rng.uniform(-0.2, 0.2, size=2)
            pattern += np.sin(2.0 * np.pi * (fy * yy + fx * xx) + rng.uniform(0, 6))
        return (pattern - pattern.min()) / max(np.ptp(pattern), 1e-6)
    return (along - along.min()) / max(np.ptp(along), 1e-6)  # gradient


def _draw(label: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(float)
    mask = _object_mask(label, rng, yy, xx)
    texture = _texture(rng, yy, xx)[..., None]
    first = rng.uniform(0.0, 1.0, size=3)
    second = np.clip(first + rng.uniform(-TEXTURE_CONTRAST, TEXTURE_CONTRAST, size=3), 0.0, 1.0)
    background = first * (1.0 - texture) + second * texture
    mean = background.mean(axis=(0, 1))
    colour = rng.uniform(0.0, 1.0, size=3)
    while np.linalg.norm(colour - mean) < MIN_CONTRAST:
        colour = rng.uniform(0.0, 1.0, size=3)
    image = np.where(mask[..., None], colour, background)
    image = image + rng.normal(0.0, PIXEL_NOISE, size=image.shape)
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8), mask


def make_shapes(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generates ``per_class`` images of each class in a shuffled, fixed order.

    Args:
        per_class: images per class.
        seed: the generator's seed; the same seed gives the same images.

    Returns:
        ``x`` uint8 ``(n, 32, 32, 3)``, ``y`` int64 ``(n,)`` and ``masks`` bool ``(n, 32, 32)``
        (True on the object's pixels).
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(LABEL_NAMES)), per_class))
    images, masks = zip(*(_draw(int(label), rng) for label in labels), strict=True)
    return np.stack(images), labels.astype(np.int64), np.stack(masks)


def shapes_data(quick: bool = False):
    """The train and test sets (independent seeds), each ``(x, y, masks)``."""
    train_per_class, test_per_class = (
        (QUICK_TRAIN_PER_CLASS, QUICK_TEST_PER_CLASS)
        if quick
        else (TRAIN_PER_CLASS, TEST_PER_CLASS)
    )
    return make_shapes(train_per_class, SEED), make_shapes(test_per_class, SEED + 1)


def shapes_cnn(*, width: int = DEFAULT_WIDTH):
    """Three convolution blocks (``width``, ``2 * width``, ``4 * width`` filters) with
    BatchNormalization, global average pooling and a softmax over the five classes.

    Takes images as float32 pixel values in [0, 255] (a Rescaling layer maps them to [0, 1]), so
    uint8 images from files or the sample set go in as they are.
    """
    keras = keras_module()
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    for index, filters in enumerate((width, 2 * width, 4 * width), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv_{index}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"batch_norm_{index}")(x)
        x = keras.layers.Activation("relu", name=f"relu_{index}")(x)
        if index < 3:
            x = keras.layers.MaxPooling2D(name=f"pool_{index}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = keras.layers.Dropout(0.2, name="dropout")(x)
    outputs = keras.layers.Dense(len(LABEL_NAMES), activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=NAME)


def _compiled(*, learning_rate: float = LEARNING_RATE, width: int = DEFAULT_WIDTH):
    model = shapes_cnn(width=width)
    model.compile(
        optimizer=make_optimizer("adam", learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _hyperparameters(
    *, epochs: int, seed: int, learning_rate: float = LEARNING_RATE, width: int = DEFAULT_WIDTH
) -> dict:
    return {
        "optimizer": "adam",
        "learning_rate": learning_rate,
        "width": width,
        "batch_size": BATCH_SIZE,
        "epochs": epochs,
        "seed": seed,
    }


def _split(data):
    (x_train, y_train, _), (x_test, y_test, _) = data
    return (x_train, y_train), (x_test, y_test)


_RECIPE = Recipe(
    compiled=_compiled, hyperparameters=_hyperparameters, batch_size=BATCH_SIZE, split=_split
)


def build(
    models_dir: Path, data_dir: Path, *, quick: bool = False, epochs: int | None = None
) -> dict:
    """Rebuilds the shapes CNN: model and card, its run, the sweep and the sample set.

    Writes ``models/shapes_cnn.keras`` (+ ``.json``), ``data/runs/shapes_cnn/adam``,
    ``data/sweeps/shapes_cnn`` and ``data/samples/shapes_cnn.npz`` (the test set with masks).

    Returns:
        The card plus paths and the build's duration (see :class:`~neurogenesis.zoo.Scenario`).
    """
    start = time.perf_counter()
    epochs = epochs or (QUICK_EPOCHS if quick else DEFAULT_EPOCHS)
    data = shapes_data(quick)
    runs_dir = fresh_dir(data_dir / "runs" / NAME)
    model = _RECIPE.record_run(runs_dir / MAIN_RUN, data, epochs)

    _RECIPE.sweep(
        NAME,
        data_dir,
        data,
        grid=QUICK_SWEEP_GRID if quick else SWEEP_GRID,
        epochs=QUICK_SWEEP_EPOCHS if quick else SWEEP_EPOCHS,
        metric=SWEEP_METRIC,
        goal=SWEEP_GOAL,
    )

    x_test, y_test, masks = data[1]
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    card = make_card(
        name=NAME,
        title=TITLE,
        dataset=DATASET,
        task=TASK,
        description=(
            "Three convolution blocks with BatchNormalization, global average pooling and a "
            "softmax, trained with Adam on generated shapes. The sample set keeps each object's "
            "mask ('masks'), so saliency maps can be scored against where the object really is."
        ),
        test_metric="accuracy",
        test_value=accuracy,
        goal="max",
        epochs=epochs,
        input_description=(
            "32x32 RGB images as pixel values in [0, 255] (uint8 or float32); the model rescales "
            "them itself"
        ),
        input_shape=(None, IMAGE_SIZE, IMAGE_SIZE, 3),
        input_dtype="float32",
        input_range=[0.0, 255.0],
        label_names=LABEL_NAMES,
        data_dir=data_dir,
        runs=[MAIN_RUN],
        quick=quick,
        test_split=f"the {len(y_test)} images in data/samples/{NAME}.npz (a separately seeded set)",
    )
    model_path = save_model_and_card(model, models_dir, NAME, card)
    save_samples(data_dir, NAME, x=x_test, y=y_test, label_names=np.array(LABEL_NAMES), masks=masks)
    return scenario_facts(card, model_path, data_dir, seconds_since(start))


SCENARIO = Scenario(
    name=NAME,
    title=TITLE,
    dataset=DATASET,
    task=TASK,
    default_epochs=DEFAULT_EPOCHS,
    build=build,
    setup=lambda: (_RECIPE, shapes_data()),
    sweep=SweepSpec.declared(globals()),
    width_model=lambda width: shapes_cnn(width=width),
)

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
    "TEXT_VOCABULARY",
    "tiny_bert_text_classifier",
    "tiny_dense_model",
    "tiny_cnn",
    "tiny_branching_model",
    "tiny_data",
    "lightning_rows",
    "write_csv_log",
    "write_json_history",
    "write_lightning_log",
    "BIG_MODELS",
    "big_model",
    "write_photo_samples",
    "two_input_classifier",
    "two_input_samples",
    "tiny_bert",
    "bert_samples",
    "write_multi_input_cases",
    "spread_weights",
]

# The full-size ImageNet classifiers of ``keras.applications`` that the app must stay usable
# with (issue 21), by the name the NEUROGENESIS_BIG_MODELS variable uses.
BIG_MODELS = {
    "resnet50": "ResNet50",
    "efficientnetb0": "EfficientNetB0",
    "densenet121": "DenseNet121",
}


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


def lightning_rows(
    num_epochs: int = 3, batches: int = 10, every: int = 4
) -> list[dict[str, float | int]]:
    """The logging calls of a PyTorch Lightning fit, as its CSVLogger records them: one dict per
    call, with the ``epoch`` and ``step`` (global step) Lightning adds.

    ``self.log("train_loss", ..., on_step=True, on_epoch=True)`` gives ``train_loss_step`` every
    ``every`` steps and ``train_loss_epoch`` at the epoch's last step; the validation metrics
    (``val_loss``, ``val_acc``) are logged once per epoch, at the same step, by another call.
    """
    rows: list[dict[str, float | int]] = []
    step = -1
    for epoch in range(num_epochs):
        for _ in range(batches):
            step += 1
            if (step + 1) % every == 0:
                rows.append({"epoch": epoch, "step": step, "train_loss_step": 2.0 / (step + 2)})
        rows.append(
            {
                "epoch": epoch,
                "step": step,
                "val_loss": 1.5 / (epoch + 1),
                "val_acc": 0.5 + epoch / 10,
            }
        )
        rows.append({"epoch": epoch, "step": step, "train_loss_epoch": 1.0 / (epoch + 1)})
    return rows


def write_lightning_log(
    folder: str | os.PathLike, rows: list[dict], hparams: dict | None = None
) -> Path:
    """Writes ``rows`` the way Lightning's CSVLogger does: ``metrics.csv`` in ``folder`` (its
    ``lightning_logs/version_N``), the keys of every row sorted into one header, a row's other
    cells empty, ``\\r\\n`` line ends (``csv.DictWriter``), and ``hparams.yaml`` beside it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keys = sorted(set().union(*rows))
    path = folder / "metrics.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    lines = [f"{key}: {value}" for key, value in (hparams or {}).items()]
    (folder / "hparams.yaml").write_text("\n".join(lines) + "\n" if lines else "{}\n")
    return path


def big_model(name: str):
    """A full-size ``keras.applications`` classifier with random weights (nothing downloaded):
    224×224×3 inputs, 1000 softmax classes, seeded.

    Args:
        name: a key of ``BIG_MODELS`` (``"resnet50"``, ``"efficientnetb0"``, ``"densenet121"``).
    """
    keras = _keras()
    builder = getattr(keras.applications, BIG_MODELS[name])
    return builder(weights=None, input_shape=(224, 224, 3), classes=1000)


def write_photo_samples(
    path: str | os.PathLike,
    num_samples: int = 8,
    image_size: tuple[int, int] = (224, 224),
    label_names: tuple[str, ...] = ("cats", "dogs"),
) -> Path:
    """A labelled photo set as ``.npz`` (``x`` uint8 images, ``y``, ``label_names``): random but
    fixed pixels, labels alternating over ``label_names`` (which are not a model's classes)."""
    rng = np.random.default_rng(SEED)
    x = rng.integers(0, 256, size=(num_samples, *image_size, 3), dtype=np.uint8)
    y = np.arange(num_samples) % len(label_names)
    path = Path(path)
    np.savez(path, x=x, y=y, label_names=np.array(label_names))
    return path


def two_input_classifier(name: str = "two_input"):
    """Two inputs of different kinds, one softmax output: an 8x8x1 ``image`` through a small
    convolution, joined with 3 ``meta`` features: the shape of a two-tower model."""
    keras = _keras()
    image = keras.Input((8, 8, 1), name="image")
    meta = keras.Input((3,), name="meta")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(image)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    m = keras.layers.Dense(4, activation="relu", name="meta_dense")(meta)
    joined = keras.layers.Concatenate(name="join")([x, m])
    outputs = keras.layers.Dense(3, activation="softmax", name="probabilities")(joined)
    model = keras.Model([image, meta], outputs, name=name)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def two_input_samples(num_samples: int = 32) -> dict[str, np.ndarray]:
    """Inputs named after :func:`two_input_classifier`'s, and ``y`` (0..2), seeded."""
    rng = np.random.default_rng(SEED)
    image = rng.random((num_samples, 8, 8, 1)).astype("float32")
    meta = rng.normal(size=(num_samples, 3)).astype("float32")
    y = (np.argmax(meta, axis=1)).astype("int64")
    return {"image": image, "meta": meta, "y": y}


def tiny_bert(task: bool = False, vocabulary_size: int = 40, sequence_length: int = 12):
    """A KerasHub ``BertBackbone`` (2 layers, 2 heads, width 16; random weights, no download),
    or with ``task=True`` a ``BertTextClassifier`` of 2 classes over it (no preprocessor)."""
    _keras()
    import keras_hub

    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=sequence_length,
    )
    if not task:
        return backbone
    return keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=None)


def bert_samples(
    num_samples: int = 8, vocabulary_size: int = 40, sequence_length: int = 12
) -> dict[str, np.ndarray]:
    """``token_ids``, ``padding_mask``, ``segment_ids`` of sentences of different lengths (the
    rest padding), a ``vocabulary`` and labels ``y``, seeded."""
    rng = np.random.default_rng(SEED)
    lengths = rng.integers(3, sequence_length + 1, size=num_samples)
    lengths[0] = sequence_length // 2  # at least one sentence with padding
    mask = np.arange(sequence_length)[None, :] < lengths[:, None]
    ids = rng.integers(4, vocabulary_size, size=(num_samples, sequence_length))
    ids[:, 0] = 2  # [CLS]
    ids = np.where(mask, ids, 0).astype("int32")
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(4, vocabulary_size)]
    return {
        "token_ids": ids,
        "padding_mask": mask,
        "segment_ids": np.zeros_like(ids),
        "vocabulary": np.array(vocabulary),
        "y": (lengths % 2).astype("int64"),
    }


# A small English vocabulary for the text classifier saved with its preprocessor; "unaffable"
# splits as BERT's own example (un ##aff ##able).
TEXT_VOCABULARY = (
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "the", "a", "movie", "film", "acting", "was", "is", "not", "good", "great", "bad", "very",
    "and", "but", "plot", "un", "##aff", "##able", "##s", "##ing", ".", ",", "!", "?",
)  # fmt: skip


def tiny_bert_text_classifier(sequence_length: int = 12):
    """A KerasHub ``BertTextClassifier`` of 2 classes (2 layers, 2 heads, width 16; random
    weights) saved WITH its preprocessor: a lower-casing ``BertTokenizer`` over
    :data:`TEXT_VOCABULARY` packed to ``sequence_length`` by ``BertTextClassifierPreprocessor``,
    so typed text can be read from the archive."""
    _keras()
    import keras_hub

    tokenizer = keras_hub.models.BertTokenizer(vocabulary=list(TEXT_VOCABULARY), lowercase=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    backbone = tiny_bert(vocabulary_size=len(TEXT_VOCABULARY), sequence_length=sequence_length)
    return keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor)


def write_multi_input_cases(folder: str | os.PathLike) -> dict[str, tuple[Path, Path]]:
    """Saves the models of several inputs the tests tour the pages with, each with its sample
    set (a .npz named by input): ``{"two_input": (model, samples), "bert": ...,
    "bert_classifier": ...}``. KerasHub cases are left out when keras-hub is not installed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases = {}
    model = two_input_classifier()
    samples = two_input_samples()
    model.save(folder / "two_input.keras")
    np.savez(folder / "two_input.npz", **samples)
    cases["two_input"] = (folder / "two_input.keras", folder / "two_input.npz")
    try:
        import keras_hub  # noqa: F401
    except ImportError:
        return cases
    for name, task in (("bert", False), ("bert_classifier", True)):
        tiny_bert(task=task).save(folder / f"{name}.keras")
        np.savez(folder / f"{name}.npz", **bert_samples())
        cases[name] = (folder / f"{name}.keras", folder / f"{name}.npz")
    return cases


def spread_weights(model, seed: int = 3) -> None:
    """Draws every weight from N(0, 0.5²): KerasHub's initial weights (std 0.02) leave a tiny
    random BERT's outputs nearly the same for any input, too close to tell edits apart."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(rng.normal(0.0, 0.5, variable.shape).astype(variable.dtype))

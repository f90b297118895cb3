"""Full-size ImageNet models under AppTest (issue 21): every page that applies renders, with
values checked against the model's own call; and photos of another size fit the model's input.

The full-size tests are slow: ``NEUROGENESIS_BIG_MODELS`` picks which run (``resnet50`` by
default, ``all`` for ResNet-50, EfficientNet-B0 and DenseNet-121, a comma-separated list
otherwise, ``none`` for none).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurogenesis.testing import BIG_MODELS, tiny_cnn
from tests.app.pages import charts, open_page

BIG_MODELS_VARIABLE = "NEUROGENESIS_BIG_MODELS"


def _chosen() -> list[str]:
    text = os.environ.get(BIG_MODELS_VARIABLE, "resnet50").strip().lower()
    if text == "all":
        return list(BIG_MODELS)
    if text in ("", "none"):
        return []
    return [name.strip() for name in text.split(",") if name.strip() in BIG_MODELS]


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def _no_errors(at) -> None:
    assert not at.exception, [exception.value for exception in at.exception]
    assert not at.error, [error.value for error in at.error]


def _class_of(option: str) -> int:
    """The predicted class in a sample picker's option: '#1 label dogs → class 7 (0.01)'."""
    return int(option.split("→ class ")[1].split()[0])


# --- Photos of another size -----------------------------------------------------------------


def test_photos_of_another_size_are_resized_to_the_models_input(app_argv, tmp_path):
    """A folder of 100×80 photos under a 32×32-input CNN: the page says it resized them, and its
    predictions are the model's own call on the images resized to 32×32."""
    from PIL import Image

    from neurogenesis.io.models import load_model

    tiny_cnn(input_shape=(32, 32, 3), num_classes=4, name="small").save(tmp_path / "small.keras")
    rng = np.random.default_rng(21)
    photos = rng.integers(0, 256, size=(6, 100, 80, 3), dtype=np.uint8)
    for k, photo in enumerate(photos):
        folder = tmp_path / "photos" / ("cats" if k % 2 == 0 else "dogs")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo).save(folder / f"{k}.png")
    at = open_page(
        app_argv,
        "features.py",
        "--model", tmp_path / "small.keras", "--samples", tmp_path / "photos", "--no-demos",
    )  # fmt: skip
    _no_errors(at)
    captions = [caption.value for caption in at.caption]
    assert "Resized from 100×80 to 32×32 to fit the model's input (6 images)." in captions
    # The folder's order: cats/0, cats/2, cats/4, dogs/1, dogs/3, dogs/5.
    order = [0, 2, 4, 1, 3, 5]
    resized = np.stack(
        [
            np.stack(
                [
                    np.asarray(
                        Image.fromarray(photos[k][..., c].astype("float32"), mode="F").resize(
                            (32, 32), Image.BILINEAR
                        )
                    )
                    for c in range(3)
                ],
                axis=-1,
            )
            for k in order
        ]
    )
    resized = np.clip(np.rint(resized), 0, 255).astype("float32")
    expected = np.asarray(load_model(tmp_path / "small.keras")(resized)).argmax(axis=1)
    options = at.selectbox(key="features_sample_pick").options
    assert len(options) == 6
    assert [_class_of(option) for option in options] == expected.tolist()
    assert charts(at), "the attribution views draw on the resized images"

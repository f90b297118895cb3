"""Full-size ImageNet models under AppTest (issue 21): every page that applies renders, with
values checked against the model's own call; and photos of another size fit the model's input.

The full-size tests are slow: ``NEUROGENESIS_BIG_MODELS`` picks which run (``resnet50`` by
default, ``all`` for ResNet-50, EfficientNet-B0 and DenseNet-121, a comma-separated list
otherwise, ``none`` for none). Set at all, it also runs Debugging's two slowest tabs; the default
(ResNet-50, those tabs left out) takes about 3 minutes on two cores.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurogenesis.testing import BIG_MODELS, big_model, tiny_cnn, write_photo_samples
from tests.app.pages import charts, open_page, rerun

BIG_MODELS_VARIABLE = "NEUROGENESIS_BIG_MODELS"
PHOTOS = 4  # every view runs on all of them: four keep ResNet-50's pages near a minute each
# Multiply-adds of one 224×224 image, published: He et al. 2016 Table 1 (3.8 G; Keras's ResNet50
# counts its biases and the 1000-class head too, ~4.1 G), Tan & Le 2019 Table 2 (0.39 G), Huang
# et al. 2017 (DenseNet-121, 2.87 G).
PUBLISHED_MACS = {"resnet50": (3.7e9, 4.2e9), "efficientnetb0": (0.37e9, 0.42e9)}
PUBLISHED_MACS["densenet121"] = (2.7e9, 3.0e9)


def _chosen() -> list[str]:
    text = os.environ.get(BIG_MODELS_VARIABLE, "resnet50").strip().lower()
    if text == "all":
        return list(BIG_MODELS)
    if text in ("", "none"):
        return []
    return [name.strip() for name in text.split(",") if name.strip() in BIG_MODELS]


@pytest.fixture(scope="module", params=_chosen() or [None])
def big(request, tmp_path_factory):
    """One full-size model saved once per module, with 4 fixed 224×224 photos labelled cats and
    dogs (not the model's classes), and the model itself for the expected values."""
    if request.param is None:
        pytest.skip(f"no full-size model chosen (${BIG_MODELS_VARIABLE})")
    folder = tmp_path_factory.mktemp(request.param)
    model = big_model(request.param)
    model.save(folder / f"{request.param}.keras")
    samples = write_photo_samples(folder / "photos.npz", num_samples=PHOTOS)
    return {
        "name": request.param,
        "model": model,
        "path": folder / f"{request.param}.keras",
        "samples": samples,
        "x": np.load(samples)["x"],
    }


def _open_big(app_argv, big, page: str):
    at = open_page(
        app_argv, page, "--model", big["path"], "--samples", big["samples"], "--no-demos",
        timeout=900,
    )  # fmt: skip
    _no_errors(at)
    return at


def _tab(at, key: str, tab: str):
    at.session_state[key] = tab
    rerun(at)
    _no_errors(at)
    return at


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


# --- Full-size models -----------------------------------------------------------------------


@pytest.mark.slow
def test_architecture_counts_a_full_size_model(app_argv, big):
    at = _open_big(app_argv, big, "architecture.py")
    for tab in ("Graph", "Blocks", "Layers", "3D", "Complexity", "Export"):
        _tab(at, "architecture_tab", tab)
        if tab == "Layers":
            metrics = {metric.label: metric.value for metric in at.metric}
            assert metrics["Parameters"] == f"{big['model'].count_params():,}"
            total = at.dataframe[0].value.iloc[-1]
            low, high = PUBLISHED_MACS[big["name"]]
            assert low < total["MACs"] < high


@pytest.mark.slow
def test_features_of_a_full_size_model(app_argv, big):
    at = _open_big(app_argv, big, "features.py")
    predicted = np.asarray(big["model"].predict(big["x"].astype("float32"), verbose=0))
    options = at.selectbox(key="features_sample_pick").options
    assert [_class_of(option) for option in options] == predicted.argmax(axis=1).tolist()
    assert any("not this model's classes" in caption.value for caption in at.caption)
    assert len(charts(at)) >= 2  # the sample grid and the attribution maps
    for tab in ("Feature maps", "Filters", "Activation maximization", "Projector"):
        _tab(at, "features_tab", tab)
        assert charts(at) or tab == "Activation maximization", tab


@pytest.mark.slow
def test_debugging_of_a_full_size_model(app_argv, big):
    """Every tab renders; Perturbation and Adversarial (about 40 and 65 s on ResNet-50 with two
    cores) only when ``$NEUROGENESIS_BIG_MODELS`` is set, to keep the default run short."""
    at = _open_big(app_argv, big, "debugging.py")
    tabs = ["Explain", "Robustness", "Errors"]
    if os.environ.get(BIG_MODELS_VARIABLE):
        tabs[1:1] = ["Perturbation", "Adversarial"]
    for tab in tabs:
        _tab(at, "debugging_tab", tab)


@pytest.mark.slow
def test_loss_landscape_of_a_full_size_model_says_its_cost_first(app_argv, big, monkeypatch):
    """The plane's cost is said before it starts (a full-size model waits for a click), the
    samples go through in batches the memory budget allows, and the loss at the trained weights
    is the model's own crossentropy on the photos."""
    # Below the app's own 60 s (four photos on a fast machine may cost less than that): any
    # full-size plane costs more than 10 s, so it must wait for the click.
    monkeypatch.setenv("NEUROGENESIS_CONFIRM_SECONDS", "10")
    at = _open_big(app_argv, big, "landscape.py")
    (said,) = [c.value for c in at.caption if c.value.startswith("About ")]
    assert f"21×21 points, each running {PHOTOS} samples" in said
    assert at.button(key="landscape_go").label.startswith("Compute the plane (about ")
    assert not at.get("plotly_chart")  # nothing computed before the click
    at.slider(key="landscape_resolution").set_value(5)
    rerun(at)
    at.button(key="landscape_go").click()
    rerun(at)
    _no_errors(at)
    probabilities = np.asarray(big["model"](big["x"].astype("float32"), training=False))
    labels = np.arange(PHOTOS) % 2
    loss = -np.log(probabilities[np.arange(PHOTOS), labels]).mean()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert float(metrics["loss at the trained weights"]) == pytest.approx(loss, rel=1e-3)
    assert charts(at)

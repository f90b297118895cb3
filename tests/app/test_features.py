"""The features page under AppTest: every demo model, every tab, the sample browser driving the views."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.pages import charts, open_page, rerun, values
from tests.conftest import ROOT

TABS = ("Attribution", "Feature maps", "Filters", "Activation maximization", "Projector")


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def open_features(app_argv, model: str | None = None, *arguments) -> AppTest:
    return open_page(app_argv, "features.py", *arguments, model=model)


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["features_tab"] = tab
    return rerun(at)


def test_shapes_demo_every_view(app_argv):
    at = open_features(app_argv, "shapes_cnn (demo)")
    assert at.title[0].value == "Features and representations"
    assert at.session_state["samples"].label == "shapes_cnn"
    # The sample grid, then the default methods side by side.
    specs = charts(at)
    assert len(specs) >= 2
    sample = at.selectbox(key="features_sample_pick")
    assert sample.value.startswith("#0 label circle")
    sample.select(next(option for option in sample.options if option.startswith("#7 ")))
    rerun(at)
    assert at.session_state["features_sample"] == 7
    assert any("completeness error" in caption.value for caption in at.caption)
    # Ground truth: the pointing game over the masked samples, every method plus IG from a blur.
    at.toggle(key="features_pointing").set_value(True)
    rerun(at)
    bars = charts(at)[-1]["data"][0]
    scores = dict(zip(bars["x"], values(bars["y"]), strict=True))
    assert len(scores) == 8 and all(0.0 <= v <= 1.0 for v in scores.values())
    assert scores["Integrated gradients (blur baseline)"] >= 0.9
    at.button(key="features_sanity").click()
    rerun(at)
    assert any("after randomizing" in caption.value for caption in at.caption)

    # Filters: the first layer reads RGB, so its kernels are drawn as colour images.
    open_tab(at, "Filters")
    spec = charts(at)[-1]
    assert any(trace["type"] == "image" for trace in spec["data"])

    open_tab(at, "Feature maps")
    at.selectbox(key="features_map_layer").select("relu_3")
    rerun(at)
    assert any("64 channels of relu_3 for sample #7" in caption.value for caption in at.caption)

    open_tab(at, "Activation maximization")
    at.button(key="features_am_go").click()
    rerun(at)
    assert any("The activation rose from" in caption.value for caption in at.caption)

    open_tab(at, "Projector")
    spec = next(s for s in charts(at) if any(t["type"] == "scattergl" for t in s["data"]))
    drawn = np.concatenate(
        [values(t["customdata"]).reshape(-1) for t in spec["data"] if t["type"] == "scattergl"]
    )
    assert set(range(500)) <= set(drawn.astype(int).tolist())  # every sample, no cap
    neighbours = at.dataframe[-1].value["sample"].tolist()
    assert len(neighbours) == 8 and 7 not in neighbours  # the chosen sample's neighbours
    similarity = charts(at)[-1]
    assert similarity["data"][0]["type"] == "heatmap"


def test_filters_narrow_the_samples(app_argv):
    at = open_features(app_argv, "digits_cnn (demo)")
    at.segmented_control(key="features_correct").set_value("wrong")
    rerun(at)
    chosen = at.session_state["features_sample"]
    from neurogenesis.analysis.graph import predict
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    model = load_model(ROOT / "models" / "digits_cnn.keras")
    samples = load_samples(ROOT / "data" / "samples" / "digits_cnn.npz")
    wrong = np.flatnonzero(np.argmax(predict(model, samples.x), axis=1) != samples.y)
    assert chosen in wrong.tolist()
    options = at.selectbox(key="features_sample_pick").options
    assert len(options) == len(wrong) and all("✗" in option for option in options)

    # Another model and sample set in the same session: the chosen sample starts over.
    at.selectbox(key="model_choice").select("shapes_cnn (demo)")
    rerun(at)
    assert at.session_state["features_sample"] in range(500)
    assert "label" in at.selectbox(key="features_sample_pick").value


@pytest.mark.parametrize(
    "model", ["sentiment_transformer (demo)", "weather_lstm (demo)", "digits_vae (demo)"]
)
def test_other_demos_render_every_tab(app_argv, model):
    at = open_features(app_argv, model)
    for tab in TABS:
        open_tab(at, tab)
        if tab == "Activation maximization" and "features_am_go" in [b.key for b in at.button]:
            at.button(key="features_am_go").click()
            rerun(at)


def test_sentiment_tokens_are_coloured(app_argv):
    at = open_features(app_argv, "sentiment_transformer (demo)")
    spec = charts(at)[-1]
    text = json.dumps(spec)
    vocabulary = np.load(ROOT / "data" / "samples" / "sentiment_transformer.npz")["vocabulary"]
    tokens = np.load(ROOT / "data" / "samples" / "sentiment_transformer.npz")["x"][0]
    first_word = str(vocabulary[tokens[0]])
    assert first_word in text


def test_model_without_matching_samples_explains(app_argv, app_inputs):
    at = open_features(app_argv, None, "--model", app_inputs["model"], "--no-demos")
    assert any("sample set" in info.value.lower() for info in [*at.info, *at.warning]), (
        "the page says it needs a sample set"
    )

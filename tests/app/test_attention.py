"""The attention page under AppTest: the text demo in every tab, typed text, the weather demo, no attention."""

from __future__ import annotations

import json

import numpy as np
from streamlit.testing.v1 import AppTest

from neurogenesis.analysis.attention import attention_scores
from neurogenesis.io.models import load_model
from tests.app.pages import charts, open_page, rerun, values
from tests.conftest import ROOT

TABS = ("Heads", "Model view", "Head view", "Rollout", "Head statistics", "Importance", "Evolution")


def open_attention(app_argv, model: str | None, *arguments) -> AppTest:
    return open_page(app_argv, "attention.py", *arguments, model=model)


def test_text_demo_every_tab_and_the_scores_drawn_are_the_layers(app_argv):
    at = open_attention(app_argv, "sentiment_transformer (demo)")
    assert at.title[0].value == "Attention"
    spec = charts(at)[0]
    heatmap = next(trace for trace in spec["data"] if trace["type"] == "heatmap")
    z = heatmap["z"]
    if isinstance(z, dict):  # typed array: flat bytes plus a shape
        drawn = values(z).reshape([int(n) for n in str(z["shape"]).split(",")])
    else:
        drawn = np.asarray([values(row) if isinstance(row, dict) else row for row in z])
    model = load_model(ROOT / "models" / "sentiment_transformer.keras")
    tokens = np.load(ROOT / "data" / "samples" / "sentiment_transformer.npz")["x"][:1]
    expected = attention_scores(model, tokens)["attention_1"][0, 0]
    real = int((tokens[0] != 0).sum())
    np.testing.assert_allclose(drawn.astype(float), expected[:real, :real], atol=1e-5)
    for tab in TABS[1:]:
        at.session_state["attention_tab"] = tab
        rerun(at)
    assert any(spec.get("frames") for spec in charts(at))  # the recorded epochs, animated
    at.session_state["attention_tab"] = "Rollout"
    rerun(at)
    at.segmented_control(key="attention_aggregation").set_value("flow")
    rerun(at)
    assert any("Attention flow" in json.dumps(spec) for spec in charts(at))
    at.session_state["attention_tab"] = "Importance"
    rerun(at)
    at.toggle(key="attention_ablate").set_value(True)
    rerun(at)
    assert any("Most important heads" in caption.value for caption in at.caption)


def test_typed_text_and_a_second_input(app_argv):
    at = open_attention(app_argv, "sentiment_transformer (demo)")
    at.segmented_control(key="attention_a_source").set_value("your own text")
    rerun(at)
    at.text_input(key="attention_a_text").input("the plot was really dull")
    rerun(at)
    at.toggle(key="attention_compare").set_value(True)
    rerun(at)
    titles = [json.dumps(spec.get("layout", {}).get("title", "")) for spec in charts(at)]
    assert any("second input" in title for title in titles)
    assert "dull" in json.dumps(charts(at)[0])


def test_weather_demo_shows_temporal_attention(app_argv):
    at = open_attention(app_argv, "weather_lstm (demo)")
    assert any("input window" in json.dumps(spec) for spec in charts(at))
    for tab in TABS[1:]:
        at.session_state["attention_tab"] = tab
        rerun(at)


def test_a_model_without_attention_explains(app_argv):
    at = open_attention(app_argv, "digits_cnn (demo)")
    assert any("no keras.layers.MultiHeadAttention" in info.value for info in at.info)

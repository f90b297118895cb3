"""The attention page under AppTest: the text demo in every tab, typed text, the weather demo, no attention."""

from __future__ import annotations

import json

import numpy as np
from streamlit.testing.v1 import AppTest

from neurogenesis.analysis.attention import attention_scores
from neurogenesis.io.models import load_model
from neurogenesis.io.samples import encode_text
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


SENTIMENT = ROOT / "models" / "sentiment_transformer.keras"
SENTIMENT_SAMPLES = ROOT / "data" / "samples" / "sentiment_transformer.npz"


def _predictions(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("Model's prediction:")]


def _expected(model, ids, names) -> tuple[str, float]:
    probabilities = np.asarray(model(ids, training=False))[0]
    best = int(probabilities.argmax())
    return str(names[best]), float(probabilities[best])


def test_typed_text_shows_the_models_prediction(app_argv):
    model = load_model(SENTIMENT)
    data = np.load(SENTIMENT_SAMPLES)
    names, vocabulary = data["label_names"], [str(w) for w in data["vocabulary"]]
    at = open_attention(app_argv, "sentiment_transformer (demo)")
    # A sample: its prediction (from Keras itself) and its label, as the sample lists show them.
    name, probability = _expected(model, data["x"][:1], names)
    label = str(names[int(data["y"][0])])
    mark = "" if label == name else " ✗"
    assert _predictions(at) == [
        f"Model's prediction: {name} (probability {probability:.2f}); label {label}{mark}"
    ]
    at.segmented_control(key="attention_a_source").set_value("your own text")
    rerun(at)
    for text in ("the plot was really dull", "a wonderful and moving film"):
        at.text_input(key="attention_a_text").input(text)
        rerun(at)
        ids, _ = encode_text(text, vocabulary, data["x"].shape[1])
        name, probability = _expected(model, ids, names)
        assert _predictions(at) == [f"Model's prediction: {name} (probability {probability:.2f})"]


def _heatmap_traces(spec) -> list[dict]:
    return [trace for trace in spec["data"] if trace["type"] == "heatmap"]


def _z(trace) -> np.ndarray:
    z = trace["z"]
    if isinstance(z, dict):
        return values(z).reshape([int(n) for n in str(z["shape"]).split(",")]).astype(float)
    return np.asarray([values(row) if isinstance(row, dict) else row for row in z], dtype=float)


def test_heads_scale_to_their_own_max_or_share_0_to_1(app_argv):
    at = open_attention(app_argv, "sentiment_transformer (demo)")
    head, heads = charts(at)[:2]
    (single,) = _heatmap_traces(head)
    weights = _z(single)
    # Default: the head's own scale, said in the colour bar; the small multiples say theirs.
    assert single["zmax"] == weights.max() < 1.0
    assert "this<br>head's max" in single["colorbar"]["title"]["text"]
    assert "each head scaled to its own max" in heads["layout"]["title"]["text"]
    assert (
        heads["layout"]["coloraxis"]["colorbar"]["title"]["text"]
        == "weight ÷<br>the head's<br>own max"
    )
    assert max(_z(t).max() for t in _heatmap_traces(heads)) == 1.0
    at.toggle(key="attention_heads_scale").set_value(False)
    rerun(at)
    head, heads = charts(at)[:2]
    assert _heatmap_traces(head)[0]["zmax"] == 1.0
    assert "one shared 0–1 scale" in heads["layout"]["title"]["text"]
    # Two inputs side by side: one scale for both, said in both colour bars and a caption.
    at.toggle(key="attention_heads_scale").set_value(True)
    at.toggle(key="attention_compare").set_value(True)
    rerun(at)
    first, second = [_heatmap_traces(s)[0] for s in charts(at)[:2]]
    top = max(_z(first).max(), _z(second).max())
    assert first["zmax"] == second["zmax"] == top
    assert "one scale<br>for both" in first["colorbar"]["title"]["text"]
    assert any("Both inputs on one colour scale" in c.value for c in at.caption)
    assert len(_predictions(at)) == 2
    at.session_state["attention_tab"] = "Model view"
    rerun(at)
    view = next(s for s in charts(at) if "Model view" in s["layout"]["title"]["text"])
    assert "each head scaled to its own max" in view["layout"]["title"]["text"]

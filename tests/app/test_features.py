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
    # It says what it maximized: the class's logit, before the softmax, not "activation".
    said = [caption.value for caption in at.caption if caption.value.startswith("Maximized:")]
    assert said and "logit of class 0" in said[0] and "before its softmax" in said[0]
    trace = charts(at)[-1]
    assert trace["layout"]["yaxis2"]["title"]["text"] == "logit"

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
    ("model", "hidden", "extra"),
    [
        ("sentiment_transformer (demo)", ("Filters", "Activation maximization"), ()),
        ("weather_lstm (demo)", ("Filters", "Activation maximization"), ()),
        ("digits_vae (demo)", ("Attribution", "Filters"), ("Reconstructions", "Latent space")),
    ],
)
def test_other_demos_show_the_tabs_that_apply(app_argv, model, hidden, extra):
    """Issue 19: text models got three empty tabs, the VAE no reconstructions or latent grid."""
    at = open_features(app_argv, model)
    shown = [tab.label for tab in at.tabs]
    assert shown == list(extra) + [tab for tab in TABS if tab not in hidden]
    note = next(c.value for c in at.caption if c.value.startswith("Not shown for this model"))
    assert all(f"**{tab}**" in note for tab in hidden)
    for tab in shown:
        open_tab(at, tab)
        if tab == "Activation maximization" and "features_am_go" in [b.key for b in at.button]:
            at.button(key="features_am_go").click()
            rerun(at)
        if tab in ("Feature maps", "Reconstructions", "Latent space"):
            assert charts(at), f"{tab} drew nothing"


def test_sentiment_feature_maps_are_time_by_channel_with_tokens(app_argv):
    """Issue 19: 'no time x channels layer' although 17 layers output (16, 24)."""
    at = open_features(app_argv, "sentiment_transformer (demo)")
    open_tab(at, "Feature maps")
    layers = at.selectbox(key="features_map_layer").options
    assert len(layers) >= 17 and "attention_1" in layers
    spec = charts(at)[-1]
    (heatmap,) = [trace for trace in spec["data"] if trace["type"] == "heatmap"]
    assert heatmap["zmid"] == 0  # signed states, a diverging scale
    words = np.load(ROOT / "data" / "samples" / "sentiment_transformer.npz")["vocabulary"]
    tokens = np.load(ROOT / "data" / "samples" / "sentiment_transformer.npz")["x"][0]
    assert spec["layout"]["xaxis"]["ticktext"][:3] == [str(words[t]) for t in tokens[:3]]
    assert spec["layout"]["xaxis"]["title"]["text"] == "token"


def test_vae_reconstructions_and_latent_grid(app_argv):
    at = open_features(app_argv, "digits_vae (demo)")
    open_tab(at, "Reconstructions")
    spec = charts(at)[-1]
    heatmap = spec["data"][0]
    assert (heatmap["zmin"], heatmap["zmax"]) == (0.0, 1.0)  # one scale for both rows
    assert spec["layout"]["yaxis"]["ticktext"] == ["input", "reconstruction"]
    assert any("0.0428" in caption.value for caption in at.caption)  # the card's MSE
    open_tab(at, "Latent space")
    spec = charts(at)[-1]
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("z_mean[0]")
    z = spec["data"][0]["z"]  # typed binary data with its shape, or nested lists
    shape = (
        tuple(int(n) for n in str(z["shape"]).split(",")) if isinstance(z, dict) else np.shape(z)
    )
    assert shape == (15 * 9 - 1, 15 * 9 - 1)  # 15 x 15 tiles of 8 x 8 with 1-pixel gaps


def test_sample_browser_is_one_row_with_the_rest_in_a_closed_expander(app_argv):
    """Issue 19: a 48-thumbnail grid (~1,000 px) stood above every tab."""
    at = open_features(app_argv, "digits_cnn (demo)")
    browser = at.expander[0]
    assert browser.label.startswith("Filter the samples") and not browser.proto.expanded
    strip = json.loads(at.get("plotly_chart")[0].proto.spec)
    clicks = next(trace for trace in strip["data"] if trace["type"] == "scatter")
    assert len(clicks["customdata"]) == 8  # one row of eight
    assert strip["layout"]["height"] < 300
    texts = [a["text"] for a in strip["layout"]["annotations"]]
    assert texts[0].startswith("#0 ") and "<br>" in texts[0] and "…" not in "".join(texts)
    # All 48 of the first page are still there, in the expander.
    grid = json.loads(at.get("plotly_chart")[1].proto.spec)
    clicks = next(trace for trace in grid["data"] if trace["type"] == "scatter")
    assert len(clicks["customdata"]) == 48


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


def test_similarity_samples_follow_the_model_and_sample(app_argv):
    """The similarity picker kept the previous model's samples after a switch."""
    at = open_features(app_argv, "digits_cnn (demo)")
    open_tab(at, "Projector")
    at.selectbox(key="model_choice").select("shapes_cnn (demo)")
    rerun(at)
    chosen = at.session_state["features_sample"]
    neighbours = at.dataframe[-1].value["sample"].tolist()
    picker = next(m for m in at.multiselect if m.label == "Similarity of chosen samples")
    assert picker.value == [chosen, *neighbours]


def test_a_photo_set_with_its_own_two_labels_under_a_ten_class_model(app_argv, tmp_path):
    """An ImageNet-style model (more outputs than the set has labels) with the user's own
    two-folder set: the labels are shown beside the model's classes, no traceback."""
    from neurogenesis.io.models import load_model
    from neurogenesis.testing import tiny_cnn

    tiny_cnn(input_shape=(8, 8, 3), num_classes=10, name="photos").save(tmp_path / "photos.keras")
    x = np.random.default_rng(14).uniform(0, 1, size=(12, 8, 8, 3)).astype("float32")
    np.savez(tmp_path / "photos.npz", x=x, y=np.arange(12) % 2, label_names=["cats", "dogs"])
    at = open_features(
        app_argv,
        None,
        "--model", tmp_path / "photos.keras", "--samples", tmp_path / "photos.npz", "--no-demos",
    )  # fmt: skip
    assert not at.error, [error.value for error in at.error]
    assert any("not this model's classes" in caption.value for caption in at.caption)
    predicted = np.asarray(load_model(tmp_path / "photos.keras")(x)).argmax(axis=1)
    sample = at.selectbox(key="features_sample_pick")
    assert sample.options[1].startswith(f"#1 label dogs → class {predicted[1]} ")
    assert charts(at), "the attribution views still draw"


def test_completeness_error_says_undefined_where_the_output_does_not_move(app_argv, tmp_path):
    """A model whose score ignores the input (a zero last kernel, like an untrained head): the
    caption says why there is no completeness error instead of showing nan%."""
    from neurogenesis.testing import tiny_cnn

    model = tiny_cnn(input_shape=(8, 8, 3), num_classes=3, name="flat")
    head = model.get_layer("probabilities")
    head.set_weights([np.zeros_like(weight) for weight in head.get_weights()])
    model.save(tmp_path / "flat.keras")
    x = np.random.default_rng(17).uniform(0, 1, size=(6, 8, 8, 3)).astype("float32")
    np.savez(tmp_path / "flat.npz", x=x, y=np.arange(6) % 3)
    at = open_features(
        app_argv,
        None,
        "--model", tmp_path / "flat.keras", "--samples", tmp_path / "flat.npz", "--no-demos",
    )  # fmt: skip
    said = [c.value for c in at.caption if "completeness error" in c.value]
    assert said == [
        "Integrated gradients' completeness error: **undefined (the output does not change "
        "between baseline and input)**."
    ]

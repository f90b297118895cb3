"""Token attribution of typed text on the features page (issue 21): a BertTextClassifier saved
with its preprocessor explains text the user types, tokenized by the model's own tokenizer, with
or without a sample set; the drawn tokens and scores against ``token_attribution_info`` called
on the tokenizer's inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurogenesis.analysis.attribution import token_attribution_info
from neurogenesis.io.models import load_model
from neurogenesis.io.tokenizers import read_preprocessor
from tests.app.pages import open_page, rerun, values

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def text_classifier(tmp_path_factory):
    pytest.importorskip("keras_hub")
    from neurogenesis.testing import bert_samples, tiny_bert_text_classifier

    folder = tmp_path_factory.mktemp("typed-attribution")
    tiny_bert_text_classifier().save(folder / "bert_text.keras")
    samples = bert_samples(4, vocabulary_size=29)
    del samples["vocabulary"]  # not the tokenizer's: the tokens come from the model's own
    np.savez(folder / "bert_text.npz", **samples)
    return folder / "bert_text.keras", folder / "bert_text.npz"


def _token_chart(at) -> dict:
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    found = [c for c in charts if "per token" in (c["layout"].get("title", {}).get("text") or "")]
    assert len(found) == 1, [c["layout"].get("title") for c in charts]
    return found[0]["data"][0]


def _check_drawn(at, model, saved, text, method, target=None) -> None:
    """The chart shows the tokenizer's real tokens, each with the analysis's score."""
    packed = saved.encode(text)
    # The app's tokens are the model's own preprocessor's.
    theirs = model.preprocessor([text])
    for name in ("token_ids", "padding_mask", "segment_ids"):
        np.testing.assert_array_equal(packed.inputs[name], np.asarray(theirs[name]))
    options = {} if target is None else {"target": target}
    info = token_attribution_info(model, packed.inputs, method, **options)
    real = np.asarray(packed.inputs["padding_mask"][0], dtype=bool)
    assert not real.all()  # padding there, and left out of the picture
    trace = _token_chart(at)
    assert [int(p) for p in trace["x"]] == np.flatnonzero(real).tolist()
    assert list(trace["text"][0]) == [t for t, r in zip(packed.tokens, real, strict=True) if r]
    scores = np.asarray(values(trace["z"][0]), dtype=float)
    np.testing.assert_allclose(scores, info.scores[0][real], rtol=1e-4, atol=1e-7)
    explained = int(np.asarray(model(packed.inputs)).argmax()) if target is None else target
    assert int(info.target[0]) == explained


def test_typed_text_beside_the_samples(app_argv, text_classifier):
    model_path, samples_path = text_classifier
    at = open_page(
        app_argv, "features.py", "--no-demos", "--model", model_path, "--samples", samples_path
    )
    assert not at.warning, [w.value for w in at.warning]
    sample_trace = _token_chart(at)  # a sample's tokens first
    at.segmented_control(key="features_source").set_value("your own text")
    rerun(at)
    saved, model = read_preprocessor(model_path), load_model(model_path)
    text = "The acting was NOT good!"
    at.text_input(key="features_text").input(text)
    rerun(at)
    assert not at.warning, [w.value for w in at.warning]
    _check_drawn(at, model, saved, text, "integrated_gradients")
    predicted = int(np.asarray(model(saved.encode(text).inputs)).argmax())
    assert f"Model's prediction for this text: **{predicted}**" in [m.value for m in at.markdown]
    # Other text (the cache is keyed by the packed arrays), another method, another class.
    text = "unaffable plots, very bad"
    at.text_input(key="features_text").input(text)
    at.segmented_control(key="features_token_method").set_value("gradient")
    at.selectbox(key="features_token_target").select_index(2)  # class 1
    rerun(at)
    _check_drawn(at, model, saved, text, "gradient", target=1)
    # Back to the sample: its picture again.
    at.segmented_control(key="features_source").set_value("a sample")
    rerun(at)
    assert _token_chart(at)["x"] == sample_trace["x"]


def test_typed_text_without_a_sample_set(app_argv, text_classifier):
    model_path, _ = text_classifier
    at = open_page(app_argv, "features.py", "--no-demos", "--model", model_path)
    saved, model = read_preprocessor(model_path), load_model(model_path)
    text = "the plots were good"
    at.text_input(key="features_text").input(text)
    rerun(at)
    assert not at.warning, [w.value for w in at.warning]
    _check_drawn(at, model, saved, text, "integrated_gradients")
    predicted = int(np.asarray(model(saved.encode(text).inputs)).argmax())
    assert any(
        f"Model's prediction for this text: **{predicted}**" in m.value for m in at.markdown
    ), [m.value for m in at.markdown]

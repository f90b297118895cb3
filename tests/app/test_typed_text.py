"""Typed text read by the model's own saved tokenizer: a BertTextClassifier saved with its
preprocessor, on the attention page with --no-demos (its model and a sample set of its inputs)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from neurogenesis.io.models import load_model
from neurogenesis.io.tokenizers import read_preprocessor
from neurogenesis.testing import spread_weights
from tests.app.pages import charts, open_page, rerun, values

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def text_classifier(tmp_path_factory):
    pytest.importorskip("keras_hub")
    from neurogenesis.testing import bert_samples, tiny_bert_text_classifier

    folder = tmp_path_factory.mktemp("typed-text")
    model = tiny_bert_text_classifier()
    spread_weights(model)
    model.save(folder / "bert_text.keras")
    samples = bert_samples(4, vocabulary_size=29)
    del samples["vocabulary"]  # the sample view of several inputs is other work in progress
    np.savez(folder / "bert_text.npz", **samples)
    return folder / "bert_text.keras", folder / "bert_text.npz"


def test_typed_text_is_read_by_the_models_tokenizer(app_argv, text_classifier):
    model_path, samples_path = text_classifier
    at = open_page(
        app_argv, "attention.py", "--no-demos", "--model", model_path, "--samples", samples_path
    )
    at.segmented_control(key="attention_a_source").set_value("your own text")
    rerun(at)
    saved = read_preprocessor(model_path)
    model = load_model(model_path)
    for text in ("The acting was NOT good!", "unaffable plots, very bad"):
        at.text_input(key="attention_a_text").input(text)
        rerun(at)
        packed = saved.encode(text)
        tokens = [t for t in packed.tokens if t != "[PAD]"]
        captions = [c.value for c in at.caption if c.value.startswith("Tokens (")]
        assert captions == [f"Tokens ({packed.tokenizer}): " + " · ".join(tokens)]
        # The tokens are the model's own preprocessor's.
        theirs = model.preprocessor([text])
        np.testing.assert_array_equal(packed.inputs["token_ids"], np.asarray(theirs["token_ids"]))
        # The page gives the analyses exactly these inputs: the model's call on them runs.
        assert np.asarray(model(packed.inputs, training=False)).shape == (1, 2)


def _own_probabilities(model, inputs) -> np.ndarray:
    """Softmax of the model's own call (a KerasHub classifier returns logits)."""
    return special.softmax(np.asarray(model(inputs, training=False), np.float64), axis=-1)[0]


def test_typed_text_prediction_is_the_softmax_of_the_models_logits(app_argv, text_classifier):
    model_path, samples_path = text_classifier
    at = open_page(
        app_argv, "attention.py", "--no-demos", "--model", model_path, "--samples", samples_path
    )
    at.segmented_control(key="attention_a_source").set_value("your own text")
    rerun(at)
    saved, model = read_preprocessor(model_path), load_model(model_path)
    text = "the film was very bad"
    at.text_input(key="attention_a_text").input(text)
    rerun(at)
    probabilities = _own_probabilities(model, saved.encode(text).inputs)
    best = int(probabilities.argmax())
    shown = [m.value for m in at.markdown if m.value.startswith("Model's prediction:")]
    assert shown == [
        f"Model's prediction: {best} (probability {probabilities[best]:.2f}, softmax of the "
        "model's logits)"
    ]


def test_typed_text_on_the_debugging_perturbation_tab(app_argv, text_classifier):
    model_path, samples_path = text_classifier
    at = open_page(
        app_argv, "debugging.py", "--no-demos", "--model", model_path, "--samples", samples_path
    )
    at.session_state["debugging_tab"] = "Perturbation"
    rerun(at)
    at.segmented_control(key="debugging_perturb_source").set_value("your own text")
    rerun(at)
    saved, model = read_preprocessor(model_path), load_model(model_path)
    text = "the acting was not good"
    at.text_input(key="debugging_perturb_text").input(text)
    rerun(at)
    packed = saved.encode(text)
    tokens = [t for t in packed.tokens if t != "[PAD]"]
    captions = [c.value for c in at.caption if c.value.startswith("Tokens (")]
    assert captions == [f"Tokens ({packed.tokenizer}): " + " · ".join(tokens)]
    before = _own_probabilities(model, packed.inputs)
    best = int(before.argmax())
    assert [m.value for m in at.markdown if m.value.startswith("Model's prediction for")] == [
        f"Model's prediction for your text: {best} (probability {before[best]:.2f}, softmax "
        "of the model's logits)"
    ]
    # Delete "not": the tokens after it move left with their mask; the end is padding.
    position = tokens.index("not")
    delete = next(m for m in at.multiselect if m.label == "Delete tokens")
    assert delete.options == [f"{p}: {t}" for p, t in enumerate(tokens)]
    delete.select(position)
    rerun(at)
    inputs = {name: np.array(array) for name, array in packed.inputs.items()}
    length = len(tokens)
    for array in inputs.values():
        row = np.delete(array[0], position)
        array[0] = np.r_[row, np.zeros(1, row.dtype)]
    assert inputs["padding_mask"][0].sum() == length - 1
    after = _own_probabilities(model, inputs)
    stale = dict(inputs, padding_mask=packed.inputs["padding_mask"])  # the mask not shifted
    assert np.abs(_own_probabilities(model, stale) - after).max() > 1e-3
    bars = next(t for spec in charts(at) for t in spec["data"] if t.get("name") == "perturbed")
    np.testing.assert_allclose(np.sort(values(bars["x"])), np.sort(after), atol=1e-5)
    original = next(t for spec in charts(at) for t in spec["data"] if t.get("name") == "original")
    np.testing.assert_allclose(np.sort(values(original["x"])), np.sort(before), atol=1e-5)

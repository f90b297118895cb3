"""Typed text read by the model's own saved tokenizer: a BertTextClassifier saved with its
preprocessor, on the attention page with --no-demos (its model and a sample set of its inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.io.models import load_model
from neurogenesis.io.tokenizers import read_preprocessor
from tests.app.pages import open_page, rerun

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def text_classifier(tmp_path_factory):
    pytest.importorskip("keras_hub")
    from neurogenesis.testing import bert_samples, tiny_bert_text_classifier

    folder = tmp_path_factory.mktemp("typed-text")
    tiny_bert_text_classifier().save(folder / "bert_text.keras")
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

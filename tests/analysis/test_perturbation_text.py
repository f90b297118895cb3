"""Token corruptions of a text classifier fed token ids, a padding mask and segment ids (a
KerasHub BertTextClassifier returning logits), checked against the model's own call."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from neurogenesis.analysis import robustness
from neurogenesis.io.samples import pack_inputs
from neurogenesis.testing import spread_weights

pytestmark = pytest.mark.slow
NAMES = ("token_ids", "padding_mask", "segment_ids")


@pytest.fixture(scope="module")
def bert():
    pytest.importorskip("keras_hub")
    from neurogenesis.testing import bert_samples, tiny_bert

    model = tiny_bert(task=True)
    spread_weights(model)
    arrays = bert_samples(4)
    return model, pack_inputs({name: arrays[name] for name in NAMES}), arrays


def _own_probabilities(model, token_ids, padding_mask, segment_ids) -> np.ndarray:
    logits = model(
        {"token_ids": token_ids, "padding_mask": padding_mask, "segment_ids": segment_ids},
        training=False,
    )
    return special.softmax(np.asarray(logits, np.float64), axis=-1)


def test_deleting_a_token_shifts_its_mask_and_segment_with_it(bert):
    model, x, arrays = bert
    ids, mask = arrays["token_ids"][0], arrays["padding_mask"][0]
    length = int(mask.sum())
    assert length < len(ids)  # padding at the end
    segments = np.zeros_like(ids)
    segments[length - 2 : length] = 1  # a second segment, to see it move with its tokens
    x = x.copy()
    x["segment_ids"][0] = segments
    info = robustness.perturbation_info(model, x, 0, [("delete_tokens", {"positions": [2]})])
    kept = np.r_[0:2, 3:length]
    expected_ids = np.zeros_like(ids)
    expected_ids[: length - 1] = ids[kept]
    expected_mask = np.arange(len(ids)) < length - 1  # the freed end is padding
    expected_segments = np.zeros_like(ids)
    expected_segments[: length - 1] = segments[kept]
    np.testing.assert_array_equal(info.perturbed, expected_ids)
    assert info.task == "classification" and info.original_prediction is not None
    own = _own_probabilities(
        model, expected_ids[None], expected_mask[None], expected_segments[None]
    )
    # The mask matters: the shifted tokens under the old mask (a [PAD] read as a token) differ.
    stale = _own_probabilities(model, expected_ids[None], mask[None], segments[None])
    assert np.abs(stale - own).max() > 1e-3
    np.testing.assert_allclose(info.perturbed_output, own[0], atol=1e-5)
    before = _own_probabilities(model, ids[None], mask[None], segments[None])
    np.testing.assert_allclose(info.original_output, before[0], atol=1e-5)
    assert info.perturbed_prediction == int(own[0].argmax())
    # A random share of tokens deleted: still one mask position freed per deleted token.
    share = robustness.perturbation_info(model, x, 0, [("delete_tokens", {"positions": 0.5})])
    deleted = int(np.count_nonzero(ids)) - int(np.count_nonzero(share.perturbed))
    assert deleted == round(0.5 * np.count_nonzero(ids))


def test_masking_uses_the_given_mask_id_and_keeps_the_padding_mask(bert):
    model, x, arrays = bert
    ids = arrays["token_ids"][1]
    info = robustness.perturbation_info(
        model, x, 1, [("mask_tokens", {"positions": [1, 2], "mask_id": 3})]
    )
    expected = ids.copy()
    expected[[1, 2]] = 3
    np.testing.assert_array_equal(info.perturbed, expected)
    own = _own_probabilities(
        model, expected[None], arrays["padding_mask"][1:2], arrays["segment_ids"][1:2]
    )
    np.testing.assert_allclose(info.perturbed_output, own[0], atol=1e-5)

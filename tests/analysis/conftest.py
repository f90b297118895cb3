"""What several analysis tests share: hand counts to check the code against."""

from __future__ import annotations

import pytest


def _bert_count(vocab, length, hidden, blocks, classes=2, ratio=4) -> int:
    """The parameters of the ``bert_encoder`` template counted by hand."""
    embeddings = vocab * hidden + length * hidden + 2 * hidden
    attention = 4 * (hidden * hidden + hidden)  # query, key, value and output projections
    feed_forward = hidden * ratio * hidden + ratio * hidden + ratio * hidden * hidden + hidden
    block = attention + 2 * hidden + feed_forward + 2 * hidden
    head = hidden * hidden + hidden + hidden * classes + classes
    return embeddings + blocks * block + head


@pytest.fixture
def bert_count():
    """``bert_count(vocab, length, hidden, blocks, classes=2, ratio=4)``: the parameters of the
    ``bert_encoder`` template counted by hand (embeddings, blocks of attention, normalisation
    and feed-forward, the classifier head)."""
    return _bert_count

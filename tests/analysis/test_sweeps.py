"""Variant sweeps of templates against hand counts."""

from __future__ import annotations

import pickle

import pytest

from neurogenesis.analysis.sweeps import multiplier_sweep
from neurogenesis.errors import InputError


def test_width_sweep_of_small_cnn_is_monotonic_and_matches_hand_count():
    info = multiplier_sweep("small_cnn", [1.0, 0.5, 2.0, 0.25])
    assert info.parameter == "width multiplier"
    assert info.multipliers == (0.25, 0.5, 1.0, 2.0)
    assert info.num_params[1] == 20490
    # conv_1 28*28*32*9, conv_2 14*14*64*(9*32), dense 7*7*64*10 multiply-accumulates
    assert info.macs[2] == 28 * 28 * 32 * 9 + 14 * 14 * 64 * 288 + 3136 * 10
    for series in (info.num_params, info.macs, info.weight_bytes, info.activation_bytes):
        assert all(a < b for a, b in zip(series, series[1:], strict=False))
    assert info.weight_bytes == tuple(4 * count for count in info.num_params)
    assert info.num_layers == (3, 3, 3, 3)
    assert pickle.loads(pickle.dumps(info)) == info


def test_depth_sweep_adds_blocks(bert_count):
    info = multiplier_sweep("bert_encoder", [0.5, 1.0, 2.0], kind="depth")
    assert info.num_layers == (7, 10, 16)  # embeddings 2 + 3 Dense/attention per block + head 2
    block = bert_count(8000, 128, 128, 2) - bert_count(8000, 128, 128, 1)
    assert info.num_params[2] - info.num_params[1] == 2 * block
    with pytest.raises(InputError, match="no depth multiplier"):
        multiplier_sweep("vae", [1.0, 2.0], kind="depth")
    with pytest.raises(InputError, match="at least one multiplier"):
        multiplier_sweep("small_cnn", [])

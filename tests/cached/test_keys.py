"""The cache layer's keys: a Source enters a cache key by its path and fingerprint, never as an
object, and the public face of a cached function makes one entry per identity."""

from __future__ import annotations

import os
import time

import pytest
import streamlit as st

from neurogenesis.cached._keys import by_folder, by_key, folder_key, key
from neurogenesis.errors import InputError
from neurogenesis.workspace import Source


def _counted():
    calls = []

    @by_key
    @st.cache_data(show_spinner=False)
    def summary(model, scale: int = 1):
        calls.append((model, scale))
        return (model[0], scale)

    return summary, calls


def test_a_source_and_its_key_share_one_entry_and_defaults_are_filled_in(tmp_path):
    file = tmp_path / "model.keras"
    file.write_bytes(b"x")
    source = Source("model", "local", "m", str(file))
    summary, calls = _counted()
    assert summary(source) == (str(file), 1)
    assert summary(key(source)) == summary(source, 1) == summary(source, scale=1)
    assert summary(model=source) == (str(file), 1)
    assert len(calls) == 1 and calls[0][0] == (str(file), source.fingerprint())
    summary(source, 2)
    assert len(calls) == 2


def test_a_changed_file_is_a_new_key(tmp_path):
    file = tmp_path / "model.keras"
    file.write_bytes(b"x")
    source = Source("model", "local", "m", str(file))
    summary, calls = _counted()
    summary(source)
    file.write_bytes(b"xy")
    os.utime(file, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    summary(source)
    assert len(calls) == 2


def test_by_folder_keys_a_path_by_its_folder_fingerprint(tmp_path):
    calls = []

    @by_folder
    @st.cache_data(show_spinner=False)
    def listing(path, pattern: str = "*"):
        calls.append(path)
        return path[0]

    assert listing(str(tmp_path)) == listing(folder_key(str(tmp_path)), "*") == str(tmp_path)
    assert calls == [folder_key(str(tmp_path))]
    (tmp_path / "new.txt").write_text("grown")
    listing(str(tmp_path))
    assert len(calls) == 2


def test_reason_refuses_an_unknown_kind():
    from neurogenesis import cached

    with pytest.raises(InputError, match="Expected a kind in"):
        cached.reason(Source("model", "local", "m", "/nowhere.keras"), "telepathy")
    assert {"landscape", "attention", "attribution", "attack"} <= set(cached.REASON_KINDS)


def test_reason_asks_the_analysis_module_of_its_kind():
    from pathlib import Path

    from neurogenesis import cached
    from neurogenesis.analysis import attribution, robustness

    path = Path(__file__).resolve().parents[2] / "models" / "sentiment_transformer.keras"
    source = Source("model", "demo", "sentiment", str(path))
    model = cached.model(source)
    gradient = cached.reason(source, "attribution", method="gradient")
    assert gradient == attribution.reason(model, "gradient") and "token" in gradient
    assert cached.attribution_reasons(source)["gradient"] == gradient
    assert cached.reason(source, "token_attribution") is None
    assert cached.reason(source, "attack") == robustness.reason(model, "attack") is not None
    assert cached.reason(source, "robustness") is None
    assert cached.reason(source, "attention") is None

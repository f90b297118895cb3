"""The model's saved preprocessor, read once per model file (typed text on any page)."""

from __future__ import annotations

import streamlit as st

from neurogenesis.cached._keys import Key, by_key


@by_key
@st.cache_data(show_spinner=False, max_entries=32)
def saved_preprocessor(source: Key):
    """The KerasHub preprocessor saved in the model's archive (``io.tokenizers``), or None."""
    from neurogenesis.io.tokenizers import read_preprocessor

    return read_preprocessor(source[0])

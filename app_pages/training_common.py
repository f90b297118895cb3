"""What the training page's tabs share: picking one of the chosen runs and reading its epochs."""

from __future__ import annotations

import streamlit as st

from neurogenesis import cached
from neurogenesis.errors import InputError


def pick_run(chosen: list[str], key: str, label: str = "Run", options=None) -> str | None:
    """A selectbox of ``options`` (the chosen runs by default) that forgets a stale choice."""
    options = list(options if options is not None else chosen)
    if not options:
        return None
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    return st.selectbox(label, options, key=key)


def epoch_table(sources, run: str):
    """The run's per-epoch table, or None after saying why there is none."""
    try:
        return cached.epoch_table(sources, run)
    except InputError as error:
        st.info(str(error))
        return None


def has_epoch_table(sources, run: str) -> bool:
    try:
        cached.epoch_table(sources, run)
    except InputError:
        return False
    return True

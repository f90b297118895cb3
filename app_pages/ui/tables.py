"""Column settings for st.dataframe that pages share."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def text_widths(frame: pd.DataFrame, columns) -> dict:
    """Text columns as wide as their longest entry (about 8 px a character at the table's 14 px),
    so no name is cut off ("feed_forward_residual_…")."""
    return {
        name: st.column_config.TextColumn(
            width=int(24 + 8 * max([len(str(value)) for value in frame[name]] + [len(name)]))
        )
        for name in columns
    }

"""The base every info compares by value with.

Infos are frozen dataclasses of numpy arrays and plain values (DESIGN.md, "Three steps per
picture"): they pickle, so ``st.cache_data`` can hold them, and compare by value, so tests can
assert on them.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

__all__ = ["ValueEquality"]


class ValueEquality:
    """Compare dataclass infos field by field, arrays by value (NaN equal to NaN)."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        for field in fields(self):  # type: ignore[arg-type]
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if isinstance(mine, np.ndarray) or isinstance(theirs, np.ndarray):
                mine, theirs = np.asarray(mine), np.asarray(theirs)
                if mine.shape != theirs.shape or mine.dtype.kind != theirs.dtype.kind:
                    return False
                equal_nan = mine.dtype.kind in "fc"
                if not np.array_equal(mine, theirs, equal_nan=equal_nan):
                    return False
            elif isinstance(mine, float) and isinstance(theirs, float):
                if not (mine == theirs or (math.isnan(mine) and math.isnan(theirs))):
                    return False
            elif mine != theirs:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

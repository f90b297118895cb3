"""What every benchmark script times with: the best of several runs of a function."""

from __future__ import annotations

import time


def best(function, repeats: int) -> tuple[float, object]:
    """The fastest of ``repeats`` calls of ``function()`` in seconds, and the last result."""
    fastest, result = float("inf"), None
    for _ in range(max(1, int(repeats))):
        start = time.perf_counter()
        result = function()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, result

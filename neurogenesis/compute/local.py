"""The embedded default: every piece of a job runs here, in this process, one after another.

This is what every page, test and the Community Cloud deployment use when no cluster is named;
:mod:`.ray` gives the same results from a cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["LocalChunks", "map_local"]


class LocalChunks:
    """Runs a landscape's chunks of grid points on one ``LandscapeEvaluator``, in order.

    ``run(chunks, directions)`` yields ``(index, values)`` per chunk as it finishes, where
    ``values`` is ``(P, M)`` for the chunk's ``(P, K)`` coefficient rows.
    """

    workers = 1

    def __init__(self, evaluator: Any):
        self.evaluator = evaluator

    def run(
        self, chunks: Sequence[np.ndarray], directions: Sequence[Sequence[np.ndarray]]
    ) -> Iterator[tuple[int, np.ndarray]]:
        for index, coefficients in enumerate(chunks):
            yield index, self.evaluator.evaluate(coefficients, directions)

    def close(self) -> None:
        pass


def map_local(
    function: Callable[..., Any], model: Any, x: Any, kwargs: dict | None = None
) -> list[Any]:
    """``[function(model, x, **kwargs)]``: the whole sample set as one shard (see
    ``compute.ray.map_shards`` for the same call over a cluster's shards)."""
    return [function(model, x, **(kwargs or {}))]

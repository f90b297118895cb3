"""Where heavy work runs: this machine (the embedded default) or a Ray cluster.

Every heavy analysis (a loss landscape's grid, a sweep's trials, attribution maps or robustness
curves over a large sample set) is a job of independent pieces. Without an address the pieces
run here, in this process, exactly as they always have; with one (``--ray auto|local|ADDRESS``)
the same call sends them to a Ray cluster and gives the same result to float tolerance.

- :class:`ComputeTarget` names where work runs (``ComputeTarget()`` is this machine).
- :mod:`.payload`: a model travels as the bytes of its file, pre-scanned here and loaded on the
  worker by the same safe loader (the cluster need not share a file system).
- :mod:`.local`: the embedded default.
- :mod:`.ray`: the Ray backend (``pip install neurogenesis[ray]``; imported only when asked).
- :mod:`.sweeps`: a demo scenario's sweep as Ray Tune trials (grid, random, Optuna's TPE; ASHA).

Nothing here imports Ray, TensorFlow or Streamlit at import time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from neurogenesis.errors import InputError

__all__ = [
    "ClusterError",
    "ComputeTarget",
    "LOCAL",
    "RAY_EXTRA_HINT",
    "configure_cluster",
    "configured_cluster",
    "landscape_runner",
    "parse_target",
]

RAY_EXTRA_HINT = "pip install 'neurogenesis[ray]'"
"""How to get the Ray backend."""


class ClusterError(RuntimeError):
    """The cluster could not be reached, or stopped answering in the middle of a job.

    The message is one sentence a user can act on; what was computed before the fault is kept
    by the caller (a landscape's partial grid, a sweep's finished trials).
    """


@dataclass(frozen=True)
class ComputeTarget:
    """Where a job runs.

    Attributes:
        address: ``None`` for this machine, in process (the embedded default); ``"auto"`` for
            the Ray cluster this machine belongs to (started with ``ray start``); ``"local"``
            to start a Ray instance on this machine; otherwise a Ray address
            (``ray://host:10001`` or ``host:6379``).
        workers: how many Ray workers (actors) a job uses; ``None`` for one per CPU the
            cluster has (at most one per piece of the job).
        gpus_per_worker: GPUs each worker reserves (0 on CPU clusters; 1 gives each worker a
            GPU of its own, 0.5 shares one between two).
        cpus_per_worker: CPUs each worker reserves (and the threads TensorFlow uses there).
    """

    address: str | None = None
    workers: int | None = None
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0

    @property
    def is_local(self) -> bool:
        """Whether the job runs in this process (no Ray at all)."""
        return self.address is None

    def describe(self) -> str:
        """``'this machine'`` or ``'the Ray cluster at ADDRESS'`` (for pages and messages)."""
        if self.address is None:
            return "this machine"
        if self.address == "local":
            return "a Ray instance on this machine"
        if self.address == "auto":
            return "the Ray cluster this machine belongs to"
        return f"the Ray cluster at {self.address}"


LOCAL = ComputeTarget()
"""This machine, in process: the embedded default."""


def parse_target(
    address: str | None,
    workers: int | None = None,
    gpus_per_worker: float = 0.0,
    cpus_per_worker: float = 1.0,
) -> ComputeTarget:
    """A :class:`ComputeTarget` from the CLI's ``--ray``, ``--workers`` and ``--gpus`` values,
    checked (``--workers`` without ``--ray`` is an error: it would silently do nothing)."""
    if address is not None:
        address = address.strip()
        if not address:
            raise InputError(
                "Expected --ray auto, --ray local or --ray ADDRESS (ray://host:10001 or "
                "host:6379). Received: an empty address."
            )
    if address is None and workers is not None:
        raise InputError(
            "Expected --workers together with --ray: without a cluster the work runs in this "
            f"process. Received: --workers {workers} alone."
        )
    if workers is not None and workers < 1:
        raise InputError(f"Expected at least 1 worker. Received: --workers {workers}.")
    if gpus_per_worker < 0 or cpus_per_worker <= 0:
        raise InputError(
            "Expected a non-negative number of GPUs and a positive number of CPUs per worker. "
            f"Received: {gpus_per_worker} GPUs, {cpus_per_worker} CPUs."
        )
    return ComputeTarget(address, workers, float(gpus_per_worker), float(cpus_per_worker))


_CLUSTER: ComputeTarget | None = None


def configure_cluster(target: ComputeTarget | None) -> None:
    """The cluster the app's pages may offer (``neurogenesis app --ray ADDRESS``). Only the
    server's command line sets it: no widget or file can point the server at another cluster."""
    global _CLUSTER
    _CLUSTER = None if target is None or target.is_local else target


def configured_cluster() -> ComputeTarget | None:
    """The cluster :func:`configure_cluster` set, or None (pages then offer this machine only)."""
    return _CLUSTER


@contextlib.contextmanager
def landscape_runner(
    target: ComputeTarget | None, evaluator: Any, payload: Callable[[], Any]
) -> Iterator[Any]:
    """What runs a landscape's chunks (``landscape_info(..., runner=)``): None on this machine
    (its own default), else ``ray.LandscapeChunks`` on the cluster, stopped when the block ends.

    Args:
        target: where; None or :data:`LOCAL` for this machine.
        evaluator: the driver's ``LandscapeEvaluator`` (what the workers evaluate).
        payload: makes the model's ``payload.ModelPayload`` (called only for a cluster).
    """
    if target is None or target.is_local:
        yield None
        return
    from neurogenesis.compute.ray import LandscapeChunks

    runner = LandscapeChunks(target, payload(), evaluator)
    try:
        yield runner
    finally:
        runner.close()

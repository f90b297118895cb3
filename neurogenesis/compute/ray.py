"""The Ray backend: the same jobs as :mod:`.local`, spread over a Ray cluster.

Imported only when a user names a cluster (``--ray``); needs ``pip install neurogenesis[ray]``.

- :func:`connect` joins (or, for ``"local"``, starts) the cluster, once per process.
- A landscape runs on :class:`LandscapeChunks`: actors that each loaded the model once (from
  its bytes, :mod:`.payload`) and hold one shard of the samples. A chunk of grid points goes to
  one actor of every shard (grid-parallel over chunks, data-parallel over samples); each shard
  answers its samples' mean loss and metrics and the driver weighs them by the shard's size, so
  the result is the local one to float tolerance. Actors restart and their tasks retry when a
  worker dies: a killed worker costs its task, never the grid.
- :func:`map_shards` runs a function of ``(model, shard, **kwargs)`` over shards of a sample set
  on actors that loaded the model once, and gives the results in shard order.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurogenesis.compute import RAY_EXTRA_HINT, ClusterError, ComputeTarget
from neurogenesis.compute.payload import ModelPayload, load_payload
from neurogenesis.errors import InputError

__all__ = [
    "check_reachable",
    "cluster_call",
    "connect",
    "first_line",
    "cluster_cpus",
    "LandscapeChunks",
    "map_shards",
    "shard_bounds",
    "worker_count",
]

SHARD_MIN_SAMPLES = 64
"""A landscape's samples are split only into shards of at least this many."""

_CONNECT_LOCK = threading.Lock()
_CONNECTED: dict[str, str | None] = {}


def _ray():
    try:
        import ray
    except ImportError as error:
        raise InputError(
            f"Running on a Ray cluster needs Ray on this machine: {RAY_EXTRA_HINT}. ({error})"
        ) from None
    return ray


def connect(target: ComputeTarget) -> Any:
    """Joins the cluster ``target`` names (once per process; a later call with another address
    says so rather than silently staying on the first). Returns the ``ray`` module.

    Raises:
        ClusterError: nothing answers at the address.
        InputError: Ray is not installed.
    """
    ray = _ray()
    if target.address not in ("local", "auto"):
        check_reachable(target)
    with _CONNECT_LOCK:
        if ray.is_initialized():
            if "address" in _CONNECTED and _CONNECTED["address"] != target.address:
                raise ClusterError(
                    "This process already works with "
                    f"{ComputeTarget(_CONNECTED['address']).describe()}; "
                    f"restart it to use {target.describe()}."
                )
            return ray
        options: dict[str, Any] = {
            "ignore_reinit_error": True,
            "log_to_driver": False,
            "logging_level": "ERROR",
            "configure_logging": True,
        }
        # The workers run the same neurogenesis as this process: a Ray instance started here
        # imports it from the same folder; a cluster is sent the package's code (its nodes need
        # the dependencies: `pip install neurogenesis[ray]`).
        package = Path(__file__).resolve().parents[1]
        if target.address == "local":
            path = os.pathsep.join(
                filter(None, [str(package.parent), os.environ.get("PYTHONPATH")])
            )
            options["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
        else:
            options["runtime_env"] = {"py_modules": [str(package)], "excludes": ["__pycache__"]}
        if target.address == "local":
            # A throwaway instance of this process: no dashboard, and no usage report sent
            # (unless the user asked for one).
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            options["include_dashboard"] = False
            if target.workers is not None:
                options["num_cpus"] = max(
                    int(math.ceil(target.workers * target.cpus_per_worker)), 1
                )
        else:
            options["address"] = target.address
            _token_auth_when_token()
        try:
            ray.init(**options)
        except Exception as error:  # ConnectionError, RuntimeError, ValueError, TimeoutError
            if "auth" in f"{error} {error.__cause__}".lower():
                raise ClusterError(
                    f"{_sentence(target.describe())} asks for its authentication token: copy "
                    "~/.ray/auth_token from its head to this machine, or set RAY_AUTH_TOKEN."
                ) from None
            raise ClusterError(
                f"Could not reach {target.describe()}: {first_line(error)}. Start it with "
                "`ray start --head` (or check the address), or compute on this machine."
            ) from None
        _CONNECTED["address"] = target.address
        return ray


REACH_SECONDS = 5.0
"""How long :func:`connect` waits for a cluster's address to answer before saying it does not
(Ray itself retries for minutes)."""


def check_reachable(target: ComputeTarget) -> None:
    """A TCP connection to ``host:port`` (or ``ray://host:port``) within :data:`REACH_SECONDS`,
    or a :class:`ClusterError` that says so at once. ``auto`` is left to Ray."""
    import socket

    address = target.address or ""
    if address == "auto":
        return
    host_port = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(
            "Expected --ray auto, --ray local or --ray ADDRESS as host:port (the head's GCS "
            f"port, 6379 by default) or ray://host:port. Received: {address!r}."
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_SECONDS):
            pass
    except OSError as error:
        raise ClusterError(
            f"Nothing answers at {address} ({error.strerror or error}): start the cluster with "
            "`ray start --head` there (or check the address), or compute on this machine."
        ) from None


def _token_auth_when_token() -> None:
    """Sends this machine's Ray token to a cluster when there is one and the user left
    ``RAY_AUTH_MODE`` unset: ``ray start --head`` (Ray 2.5x and later) turns token authentication
    on by default, while a driver joining by address stays without it and is refused."""
    if "RAY_AUTH_MODE" in os.environ:
        return
    try:  # Ray's own rule (and it refreshes the config Ray read when it was imported)
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # another Ray version: the variable, read when ray.init starts
        path = os.environ.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
        if os.environ.get("RAY_AUTH_TOKEN") or Path(path).expanduser().is_file():
            os.environ["RAY_AUTH_MODE"] = "token"
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def first_line(error: BaseException) -> str:
    """An error's first line (at most 240 characters), or its type's name: for one-sentence
    messages."""
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:240]


def cluster_cpus(ray: Any) -> int:
    """CPUs the cluster has (all nodes)."""
    return int(ray.cluster_resources().get("CPU", 1))


def worker_count(ray: Any, target: ComputeTarget, pieces: int) -> int:
    """Workers for a job of ``pieces`` independent pieces: ``target.workers`` or, by default,
    as many as the cluster's CPUs (and GPUs, when each worker asks for some) hold; never more
    than the cluster holds (a worker with no room would wait forever) nor than pieces.

    Raises:
        ClusterError: the cluster has no room for even one worker (GPUs asked of a CPU cluster).
    """
    resources = ray.cluster_resources()
    room = int(resources.get("CPU", 0) // max(target.cpus_per_worker, 1e-9))
    if target.gpus_per_worker > 0:
        room = min(room, int(resources.get("GPU", 0) // target.gpus_per_worker))
    if room < 1:
        raise ClusterError(
            f"{_sentence(target.describe())} has no room for one worker of "
            f"{target.cpus_per_worker:g} CPU and {target.gpus_per_worker:g} GPU (it has "
            f"{resources.get('CPU', 0):g} CPUs and {resources.get('GPU', 0):g} GPUs)."
        )
    count = room if target.workers is None else min(target.workers, room)
    return max(1, min(int(count), int(pieces)))


START_SECONDS = 300.0
"""How long workers may take to start (import TensorFlow, load the model) before a job says the
cluster did not start them (``$NEUROGENESIS_RAY_START_SECONDS``)."""


def _start_seconds() -> float:
    try:
        return float(os.environ.get("NEUROGENESIS_RAY_START_SECONDS", START_SECONDS))
    except ValueError:
        return START_SECONDS


def _wait_started(ray: Any, target: ComputeTarget, refs: list) -> list:
    """The answers of one call per new worker, or a :class:`ClusterError` when some did not start
    in time."""
    ready, waiting = ray.wait(refs, num_returns=len(refs), timeout=_start_seconds())
    if waiting:
        raise ClusterError(
            f"{len(ready)} of {len(refs)} workers started on {target.describe()} within "
            f"{_start_seconds():.0f} s: the cluster lacks room for them or cannot import "
            "neurogenesis and its dependencies there (pip install 'neurogenesis[ray]' on every "
            "node)."
        )
    return ray.get(refs)


def shard_bounds(count: int, shards: int) -> list[tuple[int, int]]:
    """``shards`` contiguous ``(start, stop)`` row ranges covering ``count`` rows, sizes within
    one of each other."""
    shards = max(1, min(int(shards), int(count)))
    edges = np.linspace(0, count, shards + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _actor_options(target: ComputeTarget) -> dict[str, Any]:
    return {
        "num_cpus": target.cpus_per_worker,
        "num_gpus": target.gpus_per_worker,
        # A worker that dies is started again (its constructor's arguments are kept by the
        # driver's object store) and its unfinished tasks run again.
        "max_restarts": -1,
        "max_task_retries": -1,
        "scheduling_strategy": "SPREAD",
    }


def _set_threads(threads: float) -> None:
    """TensorFlow's thread pools sized to the CPUs this worker reserved (set before its first
    operation; the default, every core of the node, oversubscribes a node of several workers)."""
    import tensorflow as tf

    count = max(1, int(round(threads)))
    try:
        tf.config.threading.set_intra_op_parallelism_threads(count)
        tf.config.threading.set_inter_op_parallelism_threads(count)
    except RuntimeError:  # already initialized in this process
        pass


class _LandscapeWorker:
    """One actor: the model (loaded once from its bytes) and one shard of the samples."""

    def __init__(self, payload, x, y, loss, metrics, threads: float):
        _set_threads(threads)
        from neurogenesis.analysis.landscape import LandscapeEvaluator

        self.model = load_payload(payload)
        self.evaluator = LandscapeEvaluator(self.model, x, y, loss=loss, metrics=metrics)

    def evaluate(self, coefficients, directions):
        return self.evaluator.evaluate(coefficients, directions)

    def metric_names(self):
        return self.evaluator.metric_names

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()


class _ModelWorker:
    """One actor: the model, loaded once from its bytes, applied to shards as asked."""

    def __init__(self, payload, threads: float):
        _set_threads(threads)
        self.model = load_payload(payload)

    def apply(self, function, x, kwargs):
        return function(self.model, x, **kwargs)

    def pid(self) -> int:
        return os.getpid()


def _remote(ray: Any, cls: type, target: ComputeTarget):
    return ray.remote(cls).options(**_actor_options(target))


def cluster_call(target: ComputeTarget, what: Callable[[], Any], done: str = "") -> Any:
    """``what()``, with the cluster's own failures said in one sentence (an error raised by our
    code on the worker, a bad input, passes through as itself)."""
    ray = _ray()
    try:
        return what()
    except ray.exceptions.RayTaskError as error:
        cause = getattr(error, "cause", None)
        if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
            raise cause from None
        raise ClusterError(
            f"{_sentence(target.describe())} could not finish the job: {first_line(error)}{done}."
        ) from None
    except (ray.exceptions.RayError, ConnectionError, OSError) as error:
        raise ClusterError(
            f"{_sentence(target.describe())} stopped answering ({first_line(error)})"
            f"{done}; start it again, or compute on this machine."
        ) from None


class LandscapeChunks:
    """Runs a landscape's chunks on a Ray cluster (see the module's docstring).

    Args:
        target: the cluster.
        payload: the model's bytes.
        evaluator: the driver's ``LandscapeEvaluator`` (its samples, targets, loss and metrics
            are what the workers evaluate).
        shards: how many shards the samples are split into (data-parallel); default: one
            when the grid has enough chunks to keep every worker busy, else as many as the
            workers (each at least ``SHARD_MIN_SAMPLES`` samples).
        num_chunks: how many chunks the job will have (for the default of ``shards``).
    """

    def __init__(
        self,
        target: ComputeTarget,
        payload: ModelPayload,
        evaluator: Any,
        *,
        shards: int | None = None,
        num_chunks: int | None = None,
    ):
        ray = connect(target)
        self.target = target
        self._ray = ray
        count = evaluator.num_samples
        self.workers = worker_count(ray, target, 1 << 30)
        if shards is None:
            enough = num_chunks is None or num_chunks >= 2 * self.workers
            shards = 1 if enough else min(self.workers, max(1, count // SHARD_MIN_SAMPLES))
        self.bounds = shard_bounds(count, shards)
        replicas = max(1, self.workers // len(self.bounds))
        self.workers = replicas * len(self.bounds)
        self.num_samples = count
        inputs = evaluator.inputs
        remote = _remote(ray, _LandscapeWorker, target)
        payload_ref = ray.put(payload)
        # The actors' constructor arguments: kept alive here so that a worker that dies can be
        # started again from them.
        self._refs: list[Any] = [payload_ref]

        def create():
            actors = []
            for start, stop in self.bounds:
                x = [a[start:stop] for a in inputs]
                x_ref = ray.put(x[0] if len(x) == 1 else x)
                y_ref = ray.put(evaluator.y[start:stop])
                self._refs += [x_ref, y_ref]
                actors.append(
                    [
                        remote.remote(
                            payload_ref,
                            x_ref,
                            y_ref,
                            evaluator.loss,
                            tuple(evaluator.metric_requests),
                            target.cpus_per_worker,
                        )
                        for _ in range(replicas)
                    ]
                )
            answers = _wait_started(
                ray, target, [a.metric_names.remote() for row in actors for a in row]
            )
            names = answers[0]
            if tuple(names) != tuple(evaluator.metric_names):
                raise ClusterError(
                    f"The workers evaluate {names} but this machine {evaluator.metric_names}: "
                    "the cluster runs another version of neurogenesis or Keras."
                )
            return actors

        self.actors = cluster_call(target, create)

    def pids(self) -> list[int]:
        """The process ids of the workers (tests kill one to check that the grid survives)."""
        ray = self._ray
        return cluster_call(
            self.target, lambda: ray.get([a.pid.remote() for row in self.actors for a in row])
        )

    def nodes(self) -> int:
        """How many of the cluster's nodes the workers run on."""
        ray = self._ray
        return len(
            set(
                cluster_call(
                    self.target,
                    lambda: ray.get([a.node.remote() for row in self.actors for a in row]),
                )
            )
        )

    def run(
        self, chunks: Sequence[np.ndarray], directions: Sequence[Sequence[np.ndarray]]
    ) -> Iterator[tuple[int, np.ndarray]]:
        ray = self._ray
        directions_ref = ray.put([list(d) for d in directions])
        weights = np.array([stop - start for start, stop in self.bounds], np.float64)
        weights /= weights.sum()
        pending: dict[Any, tuple[int, int]] = {}
        parts: dict[int, dict[int, np.ndarray]] = {}

        def submit():
            for index, coefficients in enumerate(chunks):
                for shard, row in enumerate(self.actors):
                    actor = row[index % len(row)]
                    ref = actor.evaluate.remote(np.asarray(coefficients), directions_ref)
                    pending[ref] = (index, shard)

        cluster_call(self.target, submit)
        total = len(chunks)
        finished = 0
        while pending:
            done, _ = cluster_call(
                self.target,
                lambda: ray.wait(list(pending), num_returns=1),
                f"; {finished} of {total} chunks had finished",
            )
            for ref in done:
                index, shard = pending.pop(ref)
                values = cluster_call(
                    self.target,
                    lambda r=ref: ray.get(r),
                    f"; {finished} of {total} chunks had finished",
                )
                parts.setdefault(index, {})[shard] = np.asarray(values, np.float64)
                if len(parts[index]) == len(self.actors):
                    shares = parts.pop(index)
                    # Each shard's mean weighed by its share of the samples: the mean over all.
                    combined = sum(weights[s] * shares[s] for s in range(len(self.actors)))
                    finished += 1
                    yield index, combined

    def close(self) -> None:
        """Stops the workers (the cluster keeps running)."""
        for row in getattr(self, "actors", ()):
            for actor in row:
                with contextlib.suppress(Exception):  # already gone with its node
                    self._ray.kill(actor)
        self.actors = []
        self._refs = []


def map_shards(
    target: ComputeTarget,
    payload: ModelPayload,
    function: Callable[..., Any],
    x: Any,
    *,
    shard_size: int,
    kwargs: dict | None = None,
) -> list[Any]:
    """``[function(model, x[a:b], **kwargs) for each shard]`` on the cluster, in shard order.

    ``function`` must be importable on the workers (a module-level function of neurogenesis or
    of code every node has); ``x`` is any row-indexable sample set (an array, a packed set of
    several inputs). Each worker loads the model once and serves many shards; a worker that
    dies is restarted and its shards run again.
    """
    ray = connect(target)
    count = len(x)
    bounds = shard_bounds(count, math.ceil(count / max(1, int(shard_size))))
    workers = worker_count(ray, target, len(bounds))
    remote = _remote(ray, _ModelWorker, target)
    payload_ref = ray.put(payload)
    kwargs = dict(kwargs or {})
    actors: list[Any] = []
    try:

        def submit():
            actors.extend(
                remote.remote(payload_ref, target.cpus_per_worker) for _ in range(workers)
            )
            return [
                actors[i % workers].apply.remote(function, x[start:stop], kwargs)
                for i, (start, stop) in enumerate(bounds)
            ]

        refs = cluster_call(target, submit)
        return cluster_call(target, lambda: ray.get(refs))
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)

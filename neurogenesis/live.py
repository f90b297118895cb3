"""Live training and sweeps: demo models trained in background processes, recorded with RunRecorder.

The dashboard starts ``neurogenesis train SCENARIO --run-dir DIR`` (one training) or
``neurogenesis sweep SCENARIO --out DIR --points JSON`` (a hyperparameter sweep: one light run per
point in ``DIR/<point>``, ``DIR/sweep.json`` rewritten after every point) as a child process; the
folder is new for every start (scenario, time and a random suffix), so users starting runs at once
never share one. Pages read the folder like any other log while it grows. A run or sweep is
stopped by writing the stop file (training ends cleanly after the current batch, status
"stopped"); one that ignores it is terminated. Trainings and sweeps count together against
:data:`MAX_CONCURRENT_RUNS`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurogenesis.compute import ComputeTarget
from neurogenesis.errors import InputError
from neurogenesis.io.run_folder import (
    SWEEP_FILE,
    SWEEP_LOG_FILE,
    TRAIN_LOG_FILE,
    read_manifest,
    read_sweep_summary,
    request_stop,
    stop_requested,
)
from neurogenesis.workspace import Source

LIVE_DIR = Path(
    os.environ.get("NEUROGENESIS_LIVE_DIR", Path(tempfile.gettempdir()) / "neurogenesis-live")
)
MAX_CONCURRENT_RUNS = int(os.environ.get("NEUROGENESIS_MAX_LIVE_RUNS", "2"))
STOP_GRACE_SECONDS = 20.0
MAX_EPOCHS = 200
MAX_SWEEP_POINTS = 16
MAX_SWEEP_EPOCHS = 30
LIVE_REFRESH_SECONDS = 2  # how often a page redraws what a live run or sweep has written
# The statuses of a live run or sweep that is still going, and of one that a Stop button can stop.
ACTIVE_STATUSES = ("starting", "running", "stopping")
STOPPABLE_STATUSES = ("starting", "running")
# The interpreter that trains (tests point it at a stand-in trainer); None means this one.
TRAINER_PYTHON: str | None = os.environ.get("NEUROGENESIS_TRAINER_PYTHON")

# Child processes started by this server process, by run or sweep id. Only the process that started a run
# can poll it; anyone else reads its status from the run's manifest.
_PROCESSES: dict[str, subprocess.Popen] = {}
_LOCK = threading.Lock()

__all__ = [
    "LiveRun",
    "LiveSweep",
    "start_training",
    "stop_training",
    "training_status",
    "training_log_tail",
    "epochs_completed",
    "folder_status",
    "start_sweep",
    "stop_sweep",
    "sweep_status",
    "sweep_progress",
    "sweep_written",
    "sweep_log_tail",
    "sweep_error",
    "LIVE_DIR",
    "ACTIVE_STATUSES",
    "STOPPABLE_STATUSES",
]


@dataclass(frozen=True)
class LiveRun:
    """A training started from the dashboard."""

    run_id: str
    scenario: str
    run_dir: str
    epochs: int
    started: float
    pid: int

    def source(self) -> Source:
        """The run as a log source for every page."""
        return _live_source(
            self.scenario, self.started, self.run_dir, "trained live from the dashboard"
        )


@dataclass(frozen=True)
class LiveSweep:
    """A hyperparameter sweep started from the dashboard.

    Attributes:
        sweep_id: the folder's name, ``<scenario>-sweep-<time>-<hex>``.
        scenario: the demo scenario.
        sweep_dir: the sweep folder: one run folder per point and ``sweep.json``.
        points: every planned point's parameters, in the order given (empty for a TPE search,
            whose points the searcher picks as it goes).
        epochs: epochs per point.
        started: when it started (``time.time()``).
        pid: the child process.
        trials: how many trials (points) the sweep runs.
        cluster: where its trials run, in words (None: this machine).
    """

    sweep_id: str
    scenario: str
    sweep_dir: str
    points: tuple[dict, ...]
    epochs: int
    started: float
    pid: int
    trials: int | None = None
    cluster: str | None = None

    def source(self) -> Source:
        """The sweep folder as a log source: every point is a run the training page can read."""
        count = self.trials if self.trials is not None else len(self.points)
        where = f" on {self.cluster}" if self.cluster else ""
        return _live_source(
            f"{self.scenario} sweep",
            self.started,
            self.sweep_dir,
            f"{count}-point sweep run live from the dashboard{where}",
        )


def _live_source(name: str, started: float, path: str, description: str) -> Source:
    """A live run or sweep folder as a log source, labelled with its start time."""
    clock = time.strftime("%H:%M:%S", time.localtime(started))
    return Source("logs", "live", f"{name} {clock}", path, description)


def _running_count() -> int:
    with _LOCK:
        return sum(1 for process in _PROCESSES.values() if process.poll() is None)


def _check_room(scenario: str) -> None:
    """A known scenario and a free slot, or InputError."""
    from neurogenesis.zoo import SCENARIO_NAMES

    if scenario not in SCENARIO_NAMES:
        raise InputError(
            f"Unknown demo scenario '{scenario}'. Expected one of: {', '.join(SCENARIO_NAMES)}."
        )
    if _running_count() >= MAX_CONCURRENT_RUNS:
        raise InputError(
            f"{MAX_CONCURRENT_RUNS} trainings or sweeps are already running on this server; stop one or wait for it to finish."
        )


def _check_epochs(epochs: int, most: int) -> int:
    if not 1 <= int(epochs) <= most:
        raise InputError(f"Expected between 1 and {most} epochs. Received: {epochs}.")
    return int(epochs)


def _spawn(
    stem: str,
    live_dir: Path | None,
    python: str | None,
    log_name: str,
    arguments: Callable[[Path], list[str]],
) -> tuple[str, Path, subprocess.Popen]:
    """Makes a fresh folder ``<stem>-<time>-<hex>`` and starts ``python -m neurogenesis
    *arguments(folder)`` in its own session, its output going to the folder's log file."""
    key = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    folder = (live_dir or LIVE_DIR) / key
    folder.mkdir(parents=True, exist_ok=False)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    command = [python or TRAINER_PYTHON or sys.executable, "-m", "neurogenesis", *arguments(folder)]
    with open(folder / log_name, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    with _LOCK:
        _PROCESSES[key] = process
    return key, folder, process


def _status(key: str, folder: Path, recorded: object) -> str:
    """The state of a child process's work from what it recorded (``recorded``) and, when this
    server process started it, the process itself."""
    with _LOCK:
        process = _PROCESSES.get(key)
    return_code = process.poll() if process is not None else None
    stopping = stop_requested(folder)
    if process is not None and return_code is None:
        if stopping:
            return "stopping"
        # Once the child has recorded anything it is running, until it exits (a finished status
        # is written a moment before the process ends).
        return "starting" if recorded is None else "running"
    if recorded in ("finished", "stopped", "failed"):
        return recorded
    if return_code is not None and return_code != 0:
        return "stopped" if stopping else "failed"
    return recorded if isinstance(recorded, str) else "failed"


def _stop(key: str, folder: Path, grace_seconds: float) -> None:
    """Writes the stop file; terminates the process if it has not ended after the grace period."""
    request_stop(folder)
    with _LOCK:
        process = _PROCESSES.get(key)
    if process is None or process.poll() is not None:
        return

    def reap() -> None:
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                process.terminate()
            process.wait(timeout=10)

    threading.Thread(target=reap, name=f"stop-{key}", daemon=True).start()


def _log_tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def start_training(
    scenario: str,
    epochs: int,
    *,
    live_dir: Path | None = None,
    python: str | None = None,
) -> LiveRun:
    """Starts training a demo scenario in a background process.

    Args:
        scenario: a name from ``neurogenesis.zoo.SCENARIOS``.
        epochs: how many epochs to train (1 to ``MAX_EPOCHS``).
        live_dir: where run folders are made (default ``LIVE_DIR``).
        python: the interpreter to run (default ``TRAINER_PYTHON``, else the current one).

    Returns:
        The run; its folder exists at once and fills as training goes.

    Raises:
        InputError: an unknown scenario, an epoch count out of range, or too many runs at once.
    """
    _check_room(scenario)
    epochs = _check_epochs(epochs, MAX_EPOCHS)
    run_id, run_dir, process = _spawn(
        scenario,
        live_dir,
        python,
        TRAIN_LOG_FILE,
        lambda folder: ["train", scenario, "--run-dir", str(folder), "--epochs", str(epochs)],
    )
    return LiveRun(run_id, scenario, str(run_dir), epochs, time.time(), process.pid)


def folder_status(path: str | os.PathLike) -> str:
    """The status of the live run or sweep whose folder is ``path`` (a live log source's path),
    as :func:`training_status` or :func:`sweep_status` give it: ``"starting"`` while nothing is
    recorded yet, so a page can say a run has not written its log yet instead of calling the
    empty folder an error."""
    folder = Path(path)
    recorded = read_manifest(folder).get("status")
    if recorded is None:
        summary = read_sweep_summary(folder)
        recorded = summary.get("status")
        if recorded is None and isinstance(summary.get("points"), list):
            recorded = "finished"
    return _status(folder.name, folder, recorded)


def _manifest(run: LiveRun) -> dict:
    return read_manifest(run.run_dir)


def training_status(run: LiveRun) -> str:
    """``"starting"``, ``"running"``, ``"stopping"``, ``"finished"``, ``"stopped"`` or ``"failed"``."""
    return _status(run.run_id, Path(run.run_dir), _manifest(run).get("status"))


def epochs_completed(run: LiveRun) -> int:
    value = _manifest(run).get("epochs_completed", 0)
    return value if isinstance(value, int) else 0


def stop_training(run: LiveRun, *, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """Asks the run to stop after its current batch; terminates it if it has not after the grace period."""
    _stop(run.run_id, Path(run.run_dir), grace_seconds)


def training_log_tail(run: LiveRun, lines: int = 8) -> str:
    """The last lines the training process printed, for a failed run's message."""
    return _log_tail(Path(run.run_dir, TRAIN_LOG_FILE), lines)


def start_sweep(
    scenario: str,
    *,
    points: Sequence[Mapping[str, Any]] | None = None,
    grid: Mapping[str, Sequence] | None = None,
    random: int | None = None,
    seed: int = 0,
    epochs: int | None = None,
    live_dir: Path | None = None,
    python: str | None = None,
    target: ComputeTarget | None = None,
    search: str | None = None,
    asha: bool = False,
) -> LiveSweep:
    """Starts a hyperparameter sweep of a demo scenario in a background process.

    The points are checked here, so a bad request fails at once instead of in the child. With a
    cluster ``target`` the child is the same command with ``--ray`` (Ray Tune runs the points as
    trials on the cluster, writing into the same folder, which must be one the cluster's workers
    can write: with ``--ray local``, this machine's disk).

    Args:
        scenario: a name from ``neurogenesis.zoo.SCENARIOS``.
        points: the points (parameter -> value); or else:
        grid: values per parameter over the scenario's default grid (``sweep_spec(scenario).grid``);
            with ``random``, the choices of those parameters in its random space.
        random: draw this many random points from the scenario's random space.
        seed: the random points' seed.
        epochs: epochs per point (1 to ``MAX_SWEEP_EPOCHS``; default the scenario's).
        live_dir: where sweep folders are made (default ``LIVE_DIR``).
        python: the interpreter to run (default ``TRAINER_PYTHON``, else the current one).
        target: where the trials run (None or ``compute.LOCAL``: this machine).
        search: on a cluster, ``"tpe"``: ``random`` trials of Optuna's TPE over the scenario's
            random space instead of planned points.
        asha: on a cluster, stop trials that fall behind (Ray Tune's ASHA).

    Returns:
        The sweep; its folder exists at once and fills point by point.

    Raises:
        InputError: an unknown scenario, bad points, more than ``MAX_SWEEP_POINTS`` points, an
            epoch count out of range, too many runs at once, or TPE or ASHA without a cluster.
    """
    from neurogenesis.zoo import plan_sweep, sweep_spec
    from neurogenesis.zoo.common import check_points

    spec = sweep_spec(scenario)
    cluster = None if target is None or target.is_local else target
    if cluster is None and (search == "tpe" or asha):
        raise InputError(
            "Expected a Ray cluster for a TPE search or ASHA early stopping (start the server "
            "with --ray). Received: this machine."
        )
    if points is not None and (grid is not None or random is not None):
        raise InputError("Expected either points, or a grid and/or a random count, not both.")
    if search == "tpe":
        if points is not None or grid is not None or random is None:
            raise InputError("Expected a count of trials, alone, for a TPE search.")
        planned: list[dict] = []
        count = int(random)
    elif points is not None:
        planned = check_points(spec, list(points))
        count = len(planned)
    else:
        planned = plan_sweep(spec, grid=grid, random=random, seed=seed)
        count = len(planned)
    if count < 1:
        raise InputError(f"Expected at least 1 trial. Received: {count}.")
    if count > MAX_SWEEP_POINTS:
        raise InputError(
            f"Expected at most {MAX_SWEEP_POINTS} sweep points on this server. Received "
            f"{count}; take fewer values or fewer random points."
        )
    epochs = _check_epochs(spec.epochs if epochs is None else epochs, MAX_SWEEP_EPOCHS)
    _check_room(scenario)

    def arguments(folder: Path) -> list[str]:
        chosen = ["--search", "tpe", "--random", str(count), "--seed", str(seed)]
        if search != "tpe":
            chosen = ["--points", json.dumps(planned)]
        where: list[str] = []
        if cluster is not None:
            where = ["--ray", str(cluster.address)]
            if cluster.workers is not None:
                where += ["--workers", str(cluster.workers)]
            if cluster.gpus_per_worker:
                where += ["--gpus-per-worker", f"{cluster.gpus_per_worker:g}"]
            if asha:
                where.append("--asha")
        return ["sweep", scenario, "--out", str(folder), *chosen, "--epochs", str(epochs), *where]

    sweep_id, sweep_dir, process = _spawn(
        f"{scenario}-sweep", live_dir, python, SWEEP_LOG_FILE, arguments
    )
    return LiveSweep(
        sweep_id,
        scenario,
        str(sweep_dir),
        tuple(planned),
        epochs,
        time.time(),
        process.pid,
        trials=count,
        cluster=None if cluster is None else cluster.describe(),
    )


def _summary(sweep: LiveSweep) -> dict:
    return read_sweep_summary(sweep.sweep_dir)


def sweep_status(sweep: LiveSweep) -> str:
    """``"starting"``, ``"running"``, ``"stopping"``, ``"finished"``, ``"stopped"`` or ``"failed"``
    (from ``sweep.json``'s status and, in the server process that started it, the process)."""
    summary = _summary(sweep)
    recorded = summary.get("status")
    if recorded is None and isinstance(summary.get("points"), list):
        recorded = "finished"  # a sweep.json written before sweeps recorded their status
    return _status(sweep.sweep_id, Path(sweep.sweep_dir), recorded)


def sweep_progress(sweep: LiveSweep) -> tuple[int, int]:
    """``(finished points, planned points)``."""
    summary = _summary(sweep)
    done = summary.get("points")
    planned = summary.get("planned")
    trials = summary.get("trials")  # a sweep Ray Tune runs: TPE plans its points as it goes
    if isinstance(trials, int) and not isinstance(trials, bool):
        total = trials
    elif isinstance(planned, list):
        total = len(planned)
    else:
        total = sweep.trials if sweep.trials is not None else len(sweep.points)
    return (len(done) if isinstance(done, list) else 0, total)


def sweep_written(sweep: LiveSweep) -> bool:
    """Whether the sweep has written its ``sweep.json`` yet (until then it has no trials)."""
    return Path(sweep.sweep_dir, SWEEP_FILE).is_file()


def sweep_error(sweep: LiveSweep) -> str:
    """The error a failed sweep recorded in ``sweep.json`` (empty if none)."""
    error = _summary(sweep).get("error")
    return error if isinstance(error, str) else ""


def stop_sweep(sweep: LiveSweep, *, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """Asks the sweep to stop (its running point stops after its current batch); terminates it
    if it has not after the grace period."""
    _stop(sweep.sweep_id, Path(sweep.sweep_dir), grace_seconds)


def sweep_log_tail(sweep: LiveSweep, lines: int = 8) -> str:
    """The last lines the sweep process printed (one per finished point, or a traceback)."""
    return _log_tail(Path(sweep.sweep_dir, SWEEP_LOG_FILE), lines)

"""Live training: a demo model trained in a background process, recorded with RunRecorder.

The dashboard starts ``neurogenesis train SCENARIO --run-dir DIR`` as a child process; the run
folder is new for every start (scenario, time and a random suffix), so users starting runs at once
never share one. Pages read the folder like any other log while it grows. A run is stopped by
writing the recorder's stop file (training ends cleanly after the current batch, status
"stopped"); a run that ignores it is terminated.
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
from dataclasses import dataclass
from pathlib import Path

from neurogenesis.errors import InputError
from neurogenesis.workspace import Source

LIVE_DIR = Path(
    os.environ.get("NEUROGENESIS_LIVE_DIR", Path(tempfile.gettempdir()) / "neurogenesis-live")
)
MAX_CONCURRENT_RUNS = int(os.environ.get("NEUROGENESIS_MAX_LIVE_RUNS", "2"))
STOP_FILE = "STOP"
MANIFEST = "neurogenesis_run.json"
LOG_FILE = "train.log"
STOP_GRACE_SECONDS = 20.0
MAX_EPOCHS = 200
# The interpreter that trains (tests point it at a stand-in trainer); None means this one.
TRAINER_PYTHON: str | None = os.environ.get("NEUROGENESIS_TRAINER_PYTHON")

# Child processes started by this server process, by run id. Only the process that started a run
# can poll it; anyone else reads its status from the run's manifest.
_PROCESSES: dict[str, subprocess.Popen] = {}
_LOCK = threading.Lock()

__all__ = [
    "LiveRun",
    "start_training",
    "stop_training",
    "training_status",
    "training_log_tail",
    "LIVE_DIR",
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
        clock = time.strftime("%H:%M:%S", time.localtime(self.started))
        return Source(
            "logs",
            "live",
            f"{self.scenario} {clock}",
            self.run_dir,
            "trained live from the dashboard",
        )


def _running_count() -> int:
    with _LOCK:
        return sum(1 for process in _PROCESSES.values() if process.poll() is None)


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
    from neurogenesis.zoo import SCENARIO_NAMES

    if scenario not in SCENARIO_NAMES:
        raise InputError(
            f"Unknown demo scenario '{scenario}'. Expected one of: {', '.join(SCENARIO_NAMES)}."
        )
    if not 1 <= int(epochs) <= MAX_EPOCHS:
        raise InputError(f"Expected between 1 and {MAX_EPOCHS} epochs. Received: {epochs}.")
    if _running_count() >= MAX_CONCURRENT_RUNS:
        raise InputError(
            f"{MAX_CONCURRENT_RUNS} trainings are already running on this server; stop one or wait for it to finish."
        )
    run_id = f"{scenario}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    run_dir = (live_dir or LIVE_DIR) / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    command = [
        python or TRAINER_PYTHON or sys.executable,
        "-m",
        "neurogenesis",
        "train",
        scenario,
        "--run-dir",
        str(run_dir),
        "--epochs",
        str(int(epochs)),
    ]
    with open(run_dir / LOG_FILE, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    with _LOCK:
        _PROCESSES[run_id] = process
    return LiveRun(run_id, scenario, str(run_dir), int(epochs), time.time(), process.pid)


def _manifest(run: LiveRun) -> dict:
    try:
        data = json.loads((Path(run.run_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def training_status(run: LiveRun) -> str:
    """``"starting"``, ``"running"``, ``"stopping"``, ``"finished"``, ``"stopped"`` or ``"failed"``."""
    manifest_status = _manifest(run).get("status")
    with _LOCK:
        process = _PROCESSES.get(run.run_id)
    return_code = process.poll() if process is not None else None
    stop_requested = (Path(run.run_dir) / STOP_FILE).exists()
    if process is not None and return_code is None:
        if stop_requested:
            return "stopping"
        return manifest_status if manifest_status in ("running",) else "starting"
    if manifest_status in ("finished", "stopped", "failed"):
        return manifest_status
    if return_code is not None and return_code != 0:
        return "stopped" if stop_requested else "failed"
    return manifest_status if isinstance(manifest_status, str) else "failed"


def epochs_completed(run: LiveRun) -> int:
    value = _manifest(run).get("epochs_completed", 0)
    return value if isinstance(value, int) else 0


def stop_training(run: LiveRun, *, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """Asks the run to stop after its current batch; terminates it if it has not after the grace period."""
    Path(run.run_dir, STOP_FILE).touch()
    with _LOCK:
        process = _PROCESSES.get(run.run_id)
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

    threading.Thread(target=reap, name=f"stop-{run.run_id}", daemon=True).start()


def training_log_tail(run: LiveRun, lines: int = 8) -> str:
    """The last lines the training process printed, for a failed run's message."""
    try:
        text = Path(run.run_dir, LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])

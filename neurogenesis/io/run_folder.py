"""The run-folder format: every file and folder name a recorded run or a sweep uses, once.

A run folder is what :class:`neurogenesis.RunRecorder` writes (read back by
:mod:`neurogenesis.io.recordings` and :mod:`neurogenesis.io.logs`); a sweep folder holds one run
folder per point plus a summary (written by ``neurogenesis sweep``, read by
:mod:`neurogenesis.io.trials`):

=============================  ====================================================================
``neurogenesis_run.json``      a run's manifest: status, epochs, hyperparameters, its files
``model.keras``                the model (architecture at the start, final weights at the end)
``checkpoints/*.weights.h5``   weights per epoch; ``initial.weights.h5`` = before training
``activations/*.npz``          per-layer, per-unit statistics on the fixed probe batch
``attention/*.npz``            MultiHeadAttention scores on the first probe samples
``probe.npz``, ``samples.npz`` the probe batch and the small sample set
``STOP``                       written by whoever wants the run (or sweep) to stop
``train.log``                  what a live training process printed
``sweep.json``                 a sweep's summary: scenario, parameters, metric, goal, points
``sweep.log``                  what a live sweep process printed
=============================  ====================================================================

The small readers beside the names read these files as the app needs them: tolerant ones that
return ``{}`` (a file being written or not there yet), and :func:`read_sweep`, which says what is
wrong.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from neurogenesis.errors import InputError

__all__ = [
    "ACTIVATION_DIR",
    "ATTENTION_DIR",
    "CHECKPOINT_DIR",
    "INITIAL_CHECKPOINT",
    "MAX_MANIFEST_BYTES",
    "MODEL_FILE",
    "PROBE_FILE",
    "RUN_MANIFEST_NAME",
    "SAMPLES_FILE",
    "STOP_FILE",
    "SWEEP_FILE",
    "SWEEP_LOG_FILE",
    "TRAIN_LOG_FILE",
    "has_attention",
    "manifest_status",
    "model_file",
    "read_json_object",
    "read_manifest",
    "read_sweep",
    "read_sweep_summary",
    "replace_text",
    "request_stop",
    "stop_requested",
]

# --- A run folder (RunRecorder) -------------------------------------------------------------------
RUN_MANIFEST_NAME = "neurogenesis_run.json"
MODEL_FILE = "model.keras"
PROBE_FILE = "probe.npz"
SAMPLES_FILE = "samples.npz"
CHECKPOINT_DIR = "checkpoints"
ACTIVATION_DIR = "activations"
ATTENTION_DIR = "attention"
INITIAL_CHECKPOINT = "initial.weights.h5"
STOP_FILE = "STOP"
TRAIN_LOG_FILE = "train.log"

# --- A sweep folder -------------------------------------------------------------------------------
SWEEP_FILE = "sweep.json"
SWEEP_LOG_FILE = "sweep.log"

MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def read_json_object(path: str | os.PathLike) -> dict:
    """The JSON object in ``path``, or ``{}`` when it is missing, unreadable or not an object
    (a file another process is writing is read again on the next look)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_manifest(folder: str | os.PathLike) -> dict:
    """A run folder's manifest as a plain dict, or ``{}`` (see :func:`read_json_object`); the
    checked reading is :func:`neurogenesis.io.recordings.read_recording`."""
    return read_json_object(Path(folder) / RUN_MANIFEST_NAME)


def read_sweep_summary(folder: str | os.PathLike) -> dict:
    """A sweep folder's ``sweep.json`` as a plain dict, or ``{}`` (see :func:`read_json_object`)."""
    return read_json_object(Path(folder) / SWEEP_FILE)


def manifest_status(path: str | os.PathLike) -> str | None:
    """The ``status`` of the run manifest at ``path`` (the file), or None when it cannot be read
    or is over :data:`MAX_MANIFEST_BYTES`."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    status = manifest.get("status") if isinstance(manifest, dict) else None
    return status if isinstance(status, str) else None


def read_sweep(path: str | os.PathLike) -> dict:
    """A sweep's summary, checked: a dict with a list of ``points``.

    Args:
        path: the sweep folder or its ``sweep.json``.

    Raises:
        InputError: no such file, not JSON, or no list of points.
    """
    path = Path(path)
    if path.is_dir():
        path = path / SWEEP_FILE
    try:
        sweep = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InputError(
            f"No sweep file at {str(path)!r}. Expected a sweep.json written by `neurogenesis "
            "demo` (data/sweeps/<scenario>/sweep.json). Rebuild the demo or pick another file."
        ) from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            f"{str(path)!r} is not a readable JSON sweep file ({error}). Expected the sweep.json "
            "of a demo scenario."
        ) from error
    if not isinstance(sweep, dict) or not isinstance(sweep.get("points"), list):
        raise InputError(
            f"{str(path)!r} has no list of 'points'. Expected a sweep.json with scenario, "
            "parameters, metric, goal and points."
        )
    return sweep


def replace_text(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` to ``path`` through ``.<name>.tmp`` beside it and a rename, so a reader
    polling the file (a manifest, ``sweep.json``) never sees half of it."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def stop_requested(folder: str | os.PathLike) -> bool:
    """Whether someone asked the run or sweep in ``folder`` to stop."""
    return (Path(folder) / STOP_FILE).exists()


def request_stop(folder: str | os.PathLike) -> None:
    """Asks the run or sweep in ``folder`` to stop (a recorder looks before every batch)."""
    Path(folder, STOP_FILE).touch()


def model_file(folder: str | os.PathLike) -> Path | None:
    """The run folder's ``model.keras`` when it is there, else None."""
    path = Path(folder) / MODEL_FILE
    return path if path.is_file() else None


def has_attention(folder: str | os.PathLike) -> bool:
    """Whether the run folder kept attention scores (its ``attention/`` folder exists)."""
    return (Path(folder) / ATTENTION_DIR).is_dir()

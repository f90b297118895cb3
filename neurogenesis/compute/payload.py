"""A model as bytes that travel to workers, loaded there by the same safe loader as here.

The cluster need not share a file system with this machine, so a job never sends a path: it
sends the file's bytes, after the same pre-scan local loading does (``io.models.scan_model_file``:
nothing in the file runs here). On the worker the bytes are written to a private temporary file
and loaded with ``io.models.load_model``, which scans them again before Keras reads them (the
worker trusts nothing it was sent). Code the operator trusted with ``--trust`` travels as the
names it was trusted under; the workers import it themselves (the cluster's nodes need it
installed, as they need neurogenesis).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ModelPayload", "payload_from_path", "payload_from_model", "load_payload"]


@dataclass(frozen=True)
class ModelPayload:
    """A model file's bytes and how to load them.

    Attributes:
        name: the file's name (its extension picks the reader).
        data: the file's bytes.
        digest: SHA-256 of ``data`` (workers keep one loaded model per digest and output).
        output: the model output the job explains (``graph.with_output``), or None.
        trusted: the ``--trust`` values the operator gave (module names or files).
        allow_lambda: whether the operator let Lambda layers load (``--unsafe-allow-lambda``).
    """

    name: str
    data: bytes = field(repr=False)
    digest: str
    output: str | None = None
    trusted: tuple[str, ...] = ()
    allow_lambda: bool = False


def _operator_settings() -> tuple[tuple[str, ...], bool]:
    from neurogenesis.io.models import lambda_layers_allowed, trusted_modules

    return tuple(trusted_modules().values()), lambda_layers_allowed()


def payload_from_path(path: str | os.PathLike[str], output: str | None = None) -> ModelPayload:
    """The bytes of a ``.keras``/``.h5`` file, after the pre-scan (refused files never leave).

    Raises:
        UnsafeModelError, InputError: as ``io.models.scan_model_file``.
    """
    from neurogenesis.io.models import scan_model_file

    scan_model_file(path)
    data = Path(path).read_bytes()
    trusted, allow_lambda = _operator_settings()
    name = Path(path).name
    if not name.lower().endswith((".keras", ".h5", ".hdf5")):
        from neurogenesis.io.models import model_file_kind

        name = "model.keras" if model_file_kind(path) == "keras" else "model.h5"
    return ModelPayload(name, data, hashlib.sha256(data).hexdigest(), output, trusted, allow_lambda)


def payload_from_model(model: Any, output: str | None = None) -> ModelPayload:
    """A model in memory (the Python API's), saved to a ``.keras`` archive and read back as
    bytes; the workers load it with the safe loader like any file."""
    with tempfile.TemporaryDirectory(prefix="neurogenesis-payload-") as folder:
        path = Path(folder) / f"{model.name or 'model'}.keras"
        model.save(path)
        return payload_from_path(path, output)


_LOADED: dict[tuple[str, str | None], Any] = {}
_LOCK = threading.Lock()


def load_payload(payload: ModelPayload) -> Any:
    """The model in ``payload``, loaded once per process (a worker serves many pieces of a job):
    written to a private temporary file, scanned and loaded by ``io.models.load_model``, then
    narrowed to ``payload.output``."""
    key = (payload.digest, payload.output)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        from neurogenesis.analysis.graph import with_output
        from neurogenesis.io import models

        if payload.allow_lambda:
            models.allow_lambda_layers(True)
        for value in payload.trusted:
            models.trust(value)
        if hashlib.sha256(payload.data).hexdigest() != payload.digest:
            from neurogenesis.errors import InputError

            raise InputError(f"The bytes of {payload.name} changed on their way to the worker.")
        with tempfile.TemporaryDirectory(prefix="neurogenesis-worker-") as folder:
            path = Path(folder) / Path(payload.name).name
            path.write_bytes(payload.data)
            model = with_output(models.load_model(path), payload.output)
        _LOADED.clear()  # one model per worker process: a new job's model replaces the last
        _LOADED[key] = model
        return model

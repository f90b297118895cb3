"""Shared test set-up: quiet TensorFlow, private cache and upload folders, the repository on sys.path."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SCRATCH = Path(tempfile.mkdtemp(prefix="neurogenesis-tests-"))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("NEUROGENESIS_CACHE_DIR", str(_SCRATCH / "cache"))
os.environ.setdefault("NEUROGENESIS_UPLOAD_DIR", str(_SCRATCH / "uploads"))
# UMAP's background numba compile (tens of seconds of CPU) is for users, not for the test servers.
os.environ.setdefault("NEUROGENESIS_NO_WARM_UP", "1")
# The landscape's "Compute the plane" button appears past an estimate timed on this machine; a
# loaded test machine must not turn the demos' small planes into a button (the full-size-model
# test sets the real limit).
os.environ.setdefault("NEUROGENESIS_CONFIRM_SECONDS", "100000")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

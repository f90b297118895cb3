"""How much room the server has, and the process settings that make a small container last.

Streamlit Community Cloud gives an app about 1 GB; TensorFlow alone takes half of it. The server
(``app.py``) calls :func:`tune_process` once: glibc's malloc keeps at most two arenas (by default
it makes up to eight per core, one per thread that allocates — every session's script thread and
TensorFlow's pools — and freed memory stays in them), and :func:`release_free_memory` after every
script run hands freed heap pages back to the system. :func:`small_server` says when optional
extras (UMAP's background compile) should wait until they are asked for.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from pathlib import Path

SMALL_SERVER_BYTES = 3 * 1024**3
"""Below this much memory the server is small: nothing optional is loaded ahead of use
(Community Cloud's containers get from about 0.7 to 2.7 GB)."""
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def memory_limit() -> int | None:
    """The memory this process may use, in bytes: the container's limit (cgroup v2
    ``memory.max``, v1 ``memory.limit_in_bytes``) when it has one, else the machine's memory
    (``MemTotal``); None when none can be read (not Linux)."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:  # v1 writes a huge number for "no limit"
            return int(text)
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def small_server() -> bool:
    """True where memory is scarce (Community Cloud): under :data:`SMALL_SERVER_BYTES`, or when
    ``NEUROGENESIS_SMALL_SERVER`` says so (``1``/``0`` overrides the measurement)."""
    said = os.environ.get("NEUROGENESIS_SMALL_SERVER", "").strip()
    if said in ("0", "1"):
        return said == "1"
    limit = memory_limit()
    return limit is not None and limit < SMALL_SERVER_BYTES


@functools.cache
def _libc():
    """glibc, or None elsewhere (macOS, musl): the malloc settings are then left alone."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
    except (OSError, AttributeError):
        return None
    return libc


def cache_entries(usual: int, small: int) -> int:
    """How many entries a cache keeps: ``small`` on a small server (each loaded model, built
    stack or landscape evaluator holds its TensorFlow graphs), else ``usual``."""
    return small if small_server() else usual


def tune_process() -> bool:
    """Keeps glibc's malloc to :data:`MALLOC_ARENAS` arenas (unless ``MALLOC_ARENA_MAX`` is
    set). Returns whether it did."""
    libc = _libc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS))


def release_free_memory() -> None:
    """Gives the heap's free pages back to the system (glibc's ``malloc_trim``); a no-op
    elsewhere."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)

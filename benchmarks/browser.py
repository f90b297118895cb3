"""What the app benchmarks share: the real server (``streamlit run app.py``), its memory read from
/proc, and browser sessions in their own processes that click at the same moment.

Uses the picture check's tour (tests/e2e/tour.py): the same waits ("the page finished": the run
is over, nothing stale, every plotly chart drawn) and the same Chromium flags. Linux only.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e import tour  # noqa: E402

MIB = 1024.0
WAIT_NOTES = (b"Another session is computing", b"Queued behind")
"""What a page says while it waits for a computation of another session (cached._keys)."""


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def peak_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    return _status_kib(pid, "VmHWM") / MIB


def rss_mib(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MiB."""
    return _status_kib(pid, "VmRSS") / MIB


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (the kernel's per-thread ``children`` lists)."""
    found: list[int] = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in listing.read_text().split()]
    return found


def tree_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and every process it started (the model-reading workers), as
    a container's memory limit counts it, in MiB."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, RuntimeError):  # ended, or a zombie: no memory
            total += rss_mib(current)
        todo += _children(current)
    return total


class TreeSampler:
    """Samples :func:`tree_rss_mib` every ``interval`` seconds in a thread; ``peak`` is the
    largest seen so far (VmHWM counts one process, not the workers it starts)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        import threading

        self.pid, self.interval, self.peak = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mib(self.pid))
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(5)
        return self.peak


def demo_labels() -> list[str]:
    """The bundled demos' names (models/*.keras)."""
    return sorted(path.stem for path in (ROOT / "models").glob("*.keras"))


def launch(playwright):
    return playwright.chromium.launch(executable_path=tour.CHROMIUM, args=tour.CHROMIUM_FLAGS)


def _session(url: str, demo: str, title: str, ready, go, results, seconds: float) -> None:
    """One browser session (its own Chromium): opens the app, picks ``demo``, says it is ready,
    waits for ``go``, opens page ``title`` and reports how long it took to finish."""
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_navigation_timeout(seconds * 1000)  # ten browsers start slowly
            wire = tour.Wire()
            told = []  # the page said it waits for another session or is queued

            def heard(payload) -> None:
                if isinstance(payload, bytes) and any(note in payload for note in WAIT_NOTES):
                    told.append(True)

            page.on("websocket", lambda socket: socket.on("framereceived", heard))
            tour.open_app(page, wire, url, seconds)
            tour.choose_model(page, wire, demo, seconds)
            ready.put(True)
            go.wait()
            told.clear()
            clicked = time.time()
            took, finished = tour.open_page(page, wire, title, seconds)
            served = wire.finished_at - clicked if wire.finished_at >= clicked else float("nan")
            results.put(
                {"seconds": took, "server": served, "finished": finished, "queued": bool(told)}
            )
            browser.close()
    except Exception as error:  # reported by the driver
        ready.put(False)
        results.put({"error": f"{type(error).__name__}: {error}"})


def simultaneous(url: str, demo: str, title: str, count: int, seconds: float = 600) -> list[dict]:
    """``count`` browser sessions open page ``title`` on ``demo`` at the same moment; each
    session's ``{"seconds", "server", "finished", "queued"}`` (or ``{"error"}``): until its page
    was drawn, and until the server had finished its script run."""
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_session, args=(url, demo, title, ready, go, results, seconds))
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=seconds)
    time.sleep(1.0)  # every session idle before the click
    go.set()
    found = [results.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return found

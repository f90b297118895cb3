"""Every figure as a file: interactive HTML (always), PNG, SVG and PDF (through kaleido).

Static images need kaleido and a Chrome or Chromium browser (Debian's ``chromium`` works; on
Streamlit Community Cloud, ``packages.txt`` installs it). Without one, :func:`figure_bytes` raises
:class:`~neurogenesis.errors.ExportUnavailableError` saying so, and HTML still works.

Each static export outside a session starts a browser of its own (seconds). Exporting many
figures, open :func:`export_session` around them: one browser (kaleido's sync server) then
renders them all.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import plotly.graph_objects as go

from neurogenesis.errors import ExportUnavailableError, InputError

__all__ = [
    "FIGURE_FORMATS",
    "STATIC_FORMATS",
    "export_session",
    "figure_bytes",
    "in_export_session",
    "write_figure",
    "static_export_available",
]

# Format -> MIME type, for downloads.
FIGURE_FORMATS = {
    "html": "text/html",
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}
DEFAULT_WIDTH = 1200
DEFAULT_SCALE = 2  # PNGs sharp enough for a slide or a paper
STATIC_FORMATS = ("png", "svg", "pdf")
_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# How long one export inside a session may take before the browser is given up on (kaleido's own
# per-image timeout is 90 s).
SESSION_EXPORT_TIMEOUT = 180.0
# kaleido's sync server is one per process and answers calls in turn; this keeps two threads'
# exports from taking each other's results.
_SESSION_LOCK = threading.RLock()
_session_depth = 0
_session_started_server = False
# plotly passes its HTTP headers as Kaleido options, which a running server cannot take (it was
# started with them): kaleido warns on every call.
_KOPTS_WARNING = "The kopts argument is ignored if using a server"


def _import_kaleido(fmt: str):
    try:
        import kaleido
    except ImportError as error:
        raise ExportUnavailableError(
            f"{fmt.upper()} export needs the kaleido package (pip install kaleido, or pip install "
            "-r requirements.txt) and a Chrome or Chromium browser. HTML export works without "
            "them."
        ) from error
    return kaleido


def _set_browser_path() -> None:
    if "BROWSER_PATH" not in os.environ:  # kaleido's own search misses Debian's chromium at times
        for candidate in _BROWSERS:
            if os.path.exists(candidate):
                os.environ["BROWSER_PATH"] = candidate
                break


def _no_browser(fmt: str, error: BaseException) -> ExportUnavailableError:
    first = str(error).splitlines()[0] if str(error) else ""
    return ExportUnavailableError(
        f"{fmt.upper()} export needs a Chrome or Chromium browser for kaleido, and none could "
        f"start ({type(error).__name__}: {first}). Install one (Debian: apt-get install "
        "chromium; elsewhere: plotly_get_chrome) or export HTML instead."
    )


def in_export_session() -> bool:
    """Whether static exports now go to the one browser of an :func:`export_session`."""
    return _session_depth > 0 and _server_running()


def _server_running() -> bool:
    try:
        import kaleido
    except ImportError:
        return False
    return bool(kaleido._global_server.is_running())


def _watched(call: Callable[[], bytes], fmt: str) -> bytes:
    """``call()`` on a worker thread, given up on when the session's browser dies or hangs.

    kaleido's sync server waits forever for an answer from its browser thread; when that thread
    died (a browser that could not start), the call would never return.
    """
    import kaleido

    done = threading.Event()
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error
        finally:
            done.set()

    server = getattr(kaleido._global_server, "_thread", None)
    threading.Thread(target=work, name="neurogenesis-export", daemon=True).start()
    waited = 0.0
    while not done.wait(0.05):
        waited += 0.05
        if server is not None and not server.is_alive():
            _stop_server()  # resets kaleido's server; the thread is gone, so this returns at once
            raise _no_browser(fmt, RuntimeError("the export session's browser stopped"))
        if waited > SESSION_EXPORT_TIMEOUT:
            raise _no_browser(fmt, TimeoutError("the export session's browser did not answer"))
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _stop_server() -> None:
    global _session_started_server
    import kaleido

    with contextlib.suppress(Exception):
        kaleido.stop_sync_server(silence_warnings=True)
    _session_started_server = False


@contextlib.contextmanager
def export_session() -> Iterator[bool]:
    """One browser for every static export inside the block (kaleido's sync server).

    Outside a session each PNG, SVG or PDF starts and stops a browser of its own; inside one, the
    first export starts it and the rest reuse it. Sessions nest; the outermost one stops the
    browser. HTML needs no browser and works the same inside and outside.

        >>> with export_session():
        ...     for name, figure in figures.items():
        ...         write_figure(figure, f"out/{name}.png")

    Yields:
        Whether static export is possible here (kaleido and a browser were found); when not,
        nothing is started and static exports raise
        :class:`~neurogenesis.errors.ExportUnavailableError` as they do outside a session.
    """
    global _session_depth, _session_started_server
    available = static_export_available()
    with _SESSION_LOCK:
        if available and _session_depth == 0 and not _server_running():
            import kaleido
            import plotly.io as pio

            _set_browser_path()
            options = {"headers": pio.defaults.headers} if pio.defaults.headers else {}
            for name in ("plotlyjs", "mathjax"):
                if getattr(pio.defaults, name, None):
                    options[name] = getattr(pio.defaults, name)
            kaleido.start_sync_server(silence_warnings=True, **options)
            _session_started_server = True
        _session_depth += 1
    try:
        yield available
    finally:
        with _SESSION_LOCK:
            _session_depth -= 1
            if _session_depth == 0 and _session_started_server:
                _stop_server()


def _static_image(figure: go.Figure, fmt: str, width: int | None, scale: float) -> bytes:
    _import_kaleido(fmt)
    _set_browser_path()
    height = figure.layout.height

    def render() -> bytes:
        return figure.to_image(
            format=fmt, width=width or DEFAULT_WIDTH, height=height or None, scale=scale
        )

    try:
        if in_export_session():
            with _SESSION_LOCK, warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_KOPTS_WARNING, category=UserWarning)
                return _watched(render, fmt)
        return render()
    except ExportUnavailableError:
        raise
    except Exception as error:  # kaleido raises several types when no browser can start
        raise _no_browser(fmt, error) from error


def figure_bytes(
    figure: go.Figure, fmt: str, *, width: int | None = None, scale: float = DEFAULT_SCALE
) -> bytes:
    """The figure as a file's bytes.

    Args:
        figure: any plotly figure.
        fmt: one of ``FIGURE_FORMATS``: ``'html'`` (interactive, self-contained, works offline),
            ``'png'``, ``'svg'`` or ``'pdf'``.
        width: image width in pixels (static formats); the figure's height is kept.
        scale: pixel density of PNGs.

    Raises:
        InputError: an unknown format.
        ExportUnavailableError: a static format on a machine without kaleido or a browser.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise InputError(f"Expected a figure format in {sorted(FIGURE_FORMATS)}. Received: {fmt!r}")
    if fmt == "html":
        return figure.to_html(include_plotlyjs=True, full_html=True).encode("utf-8")
    return _static_image(figure, fmt, width, scale)


def write_figure(figure: go.Figure, path: str | os.PathLike, *, width: int | None = None) -> Path:
    """Writes the figure to ``path``, in the format its extension names (.html, .png, .svg, .pdf).

    Raises:
        InputError: an extension that is not a figure format.
        ExportUnavailableError: see :func:`figure_bytes`.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise InputError(
            f"Expected a figure file ending in {', '.join('.' + f for f in FIGURE_FORMATS)}. "
            f"Received: '{path.name}'"
        )
    data = figure_bytes(figure, fmt, width=width)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def static_export_available() -> bool:
    """Whether PNG, SVG and PDF can be made here: kaleido is installed and a browser exists."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("kaleido") is None:
        return False
    if os.environ.get("BROWSER_PATH") and os.path.exists(os.environ["BROWSER_PATH"]):
        return True
    return any(os.path.exists(path) for path in _BROWSERS) or any(
        shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
    )

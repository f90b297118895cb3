"""Every figure as a file: interactive HTML (always), PNG, SVG and PDF (through kaleido).

Static images need kaleido and a Chrome or Chromium browser (Debian's ``chromium`` works; on
Streamlit Community Cloud, ``packages.txt`` installs it). Without one, :func:`figure_bytes` raises
:class:`~neurogenesis.errors.ExportUnavailableError` saying so, and HTML still works.
"""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go

from neurogenesis.errors import ExportUnavailableError, InputError

__all__ = ["FIGURE_FORMATS", "figure_bytes", "write_figure", "static_export_available"]

# Format -> MIME type, for downloads.
FIGURE_FORMATS = {
    "html": "text/html",
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}
DEFAULT_WIDTH = 1200
DEFAULT_SCALE = 2  # PNGs sharp enough for a slide or a paper
_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def _static_image(figure: go.Figure, fmt: str, width: int | None, scale: float) -> bytes:
    try:
        import kaleido  # noqa: F401  (imported to give a clear message when it is missing)
    except ImportError as error:
        raise ExportUnavailableError(
            f"{fmt.upper()} export needs the kaleido package (pip install kaleido). "
            "HTML export works without it."
        ) from error
    if "BROWSER_PATH" not in os.environ:  # kaleido's own search misses Debian's chromium at times
        for candidate in _BROWSERS:
            if os.path.exists(candidate):
                os.environ["BROWSER_PATH"] = candidate
                break
    height = figure.layout.height
    try:
        return figure.to_image(
            format=fmt, width=width or DEFAULT_WIDTH, height=height or None, scale=scale
        )
    except Exception as error:  # kaleido raises several types when no browser can start
        raise ExportUnavailableError(
            f"{fmt.upper()} export needs a Chrome or Chromium browser for kaleido, and none could "
            f"start ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
            "Install one (Debian: apt-get install chromium) or export HTML instead."
        ) from error


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

"""Figure export: HTML always, static images through kaleido when a browser exists."""

from __future__ import annotations

import shutil

import plotly.graph_objects as go
import pytest

from neurogenesis.errors import InputError
from neurogenesis.plotting.export import figure_bytes, write_figure


def _figure():
    return go.Figure(go.Bar(x=["conv", "dense"], y=[3, 5]), layout={"title": {"text": "costs"}})


def test_html_is_self_contained_and_interactive(tmp_path):
    page = figure_bytes(_figure(), "html").decode()
    assert page.startswith("<!doctype html>") and "Plotly.newPlot" in page
    assert '<script src="https://cdn.plot.ly' not in page  # works offline: plotly.js is inside
    assert len(page) > 1_000_000
    path = write_figure(_figure(), tmp_path / "deep" / "figure.html")
    assert len(path.read_bytes()) == len(figure_bytes(_figure(), "html"))  # ids differ per call


def test_unknown_formats_are_refused():
    with pytest.raises(InputError, match="Received: 'gif'"):
        figure_bytes(_figure(), "gif")
    with pytest.raises(InputError, match="Received: 'figure.jpg'"):
        write_figure(_figure(), "figure.jpg")


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("google-chrome")), reason="needs a browser"
)
def test_static_images_through_kaleido(tmp_path):
    svg = figure_bytes(_figure(), "svg").decode()
    assert "<svg" in svg and "costs" in svg
    png = write_figure(_figure(), tmp_path / "figure.png", width=400).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 400 * 2  # width x scale


# --- one browser for many exports (export_session) ---------------------------------------------

needs_browser = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("google-chrome")), reason="needs a browser"
)


def _server():
    import kaleido

    return kaleido._global_server


@needs_browser
def test_a_session_renders_every_image_with_one_browser(tmp_path):
    from neurogenesis.plotting.export import export_session, in_export_session

    outside = figure_bytes(_figure(), "png", width=400)
    assert not in_export_session() and not _server().is_running()
    with export_session() as available:
        assert available and in_export_session()
        thread = _server()._thread  # kaleido's one browser thread for the whole session
        with export_session():  # nested sessions share it
            first = write_figure(_figure(), tmp_path / "a.png", width=400).read_bytes()
        assert _server().is_running() and _server()._thread is thread
        svg = figure_bytes(_figure(), "svg").decode()
        pdf = figure_bytes(_figure(), "pdf")
        assert figure_bytes(_figure(), "html").startswith(b"<!doctype html>")
    assert not in_export_session() and not _server().is_running()  # stopped on the way out
    # The same picture as a browser of its own draws (PNGs carry no timestamps).
    assert first == outside
    assert "<svg" in svg and "costs" in svg
    assert pdf.startswith(b"%PDF")


def test_a_session_without_a_browser_starts_nothing_and_html_still_works(monkeypatch):
    from neurogenesis.plotting import export

    monkeypatch.setattr(export, "static_export_available", lambda: False)
    with export.export_session() as available:
        assert available is False and not export.in_export_session()
        assert figure_bytes(_figure(), "html").startswith(b"<!doctype html>")
    assert export._session_depth == 0


def test_missing_kaleido_says_how_to_install_it(monkeypatch):
    import sys

    from neurogenesis.errors import ExportUnavailableError

    monkeypatch.setitem(sys.modules, "kaleido", None)  # import kaleido -> ImportError
    for fmt in ("png", "svg", "pdf"):
        with pytest.raises(ExportUnavailableError, match=r"pip install kaleido") as error:
            figure_bytes(_figure(), fmt)
        assert fmt.upper() in str(error.value) and "HTML export works" in str(error.value)
    assert figure_bytes(_figure(), "html").startswith(b"<!doctype html>")


def test_a_dead_session_browser_is_an_error_not_a_hang(monkeypatch):
    """kaleido's sync server waits forever on a browser thread that died; the watch gives up."""
    import threading
    import time

    from neurogenesis.errors import ExportUnavailableError
    from neurogenesis.plotting import export

    pytest.importorskip("kaleido")
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    monkeypatch.setattr(_server(), "_thread", dead, raising=False)
    start = time.perf_counter()
    with pytest.raises(ExportUnavailableError, match="browser stopped"):
        export._watched(lambda: threading.Event().wait(60), "png")
    assert time.perf_counter() - start < 5

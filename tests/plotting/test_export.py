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

"""The attribution view under AppTest: the figure JSON the browser receives draws signed maps on a
diverging scale centred on zero and magnitudes from a black zero, in colours Streamlit keeps."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from neurogenesis.analysis import attribution as A
from neurogenesis.io.models import load_model
from neurogenesis.io.samples import load_samples
from neurogenesis.plotting.attribution import (
    MAGNITUDE_COLORSCALE,
    MAGNITUDE_TITLE,
    SIGNED_COLORSCALE,
    SIGNED_TITLE,
)
from tests.app.pages import open_page, values
from tests.conftest import ROOT

# Streamlit's chart component rewrites these strings anywhere in a figure, whatever the theme.
PLACEHOLDER = re.compile(r"#0000(?:0[1-9]|1[0-9]|20)\b", re.IGNORECASE)


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def _attribution_chart(at) -> tuple[dict, str]:
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        figure = json.loads(spec)
        if "attribution of" in (figure["layout"].get("title", {}).get("text") or ""):
            return figure, spec
    raise AssertionError("no attribution chart on the page")


def _maps(figure: dict) -> dict[str, dict]:
    return {t["name"]: t for t in figure["data"] if (t.get("meta") or {}).get("values")}


def _z(trace: dict) -> np.ndarray:
    """A heatmap's z as numbers, whether Plotly wrote lists or typed binary data."""
    rows = trace["z"]
    if isinstance(rows, dict):
        shape = [int(size) for size in str(rows.get("shape", "-1")).split(",")]
        return values(rows).astype(float).reshape(shape)
    return np.asarray([values(row) for row in rows], dtype=float)


def test_weather_series_signed_and_magnitude_as_the_browser_gets_them(app_argv):
    at = open_page(app_argv, "features.py", model="weather_lstm (demo)")
    figure, spec = _attribution_chart(at)
    assert PLACEHOLDER.findall(spec) == []
    maps = _maps(figure)
    assert set(maps) == {"Integrated gradients", "SmoothGrad"}
    ig, smooth = maps["Integrated gradients"], maps["SmoothGrad"]
    # Signed: diverging, centred on zero, symmetric, one scale for every signed panel.
    assert ig["meta"]["values"] == "signed" and ig["colorscale"] == SIGNED_COLORSCALE
    assert (ig["zmin"], ig["zmid"], ig["zmax"]) == (-1.0, 0.0, 1.0)
    assert SIGNED_TITLE in ig["colorbar"]["title"]["text"]
    # Magnitude: from zero, whose colour is Inferno's black.
    assert smooth["meta"]["values"] == "magnitude" and smooth["colorscale"] == MAGNITUDE_COLORSCALE
    assert smooth["zmin"] == 0.0 and smooth["colorscale"][0][1] == "rgb(0, 0, 4)"
    assert MAGNITUDE_TITLE in smooth["colorbar"]["title"]["text"]
    assert "each map ÷ its own max" in figure["layout"]["title"]["subtitle"]["text"]
    # The values: integrated gradients recomputed here, signed, divided by their max |value|.
    samples = load_samples(ROOT / "data/samples/weather_lstm.npz")
    model = load_model(ROOT / "models/weather_lstm.keras")
    info = A.attribution_info(model, samples.x[:1], "integrated_gradients")
    expected = info.attributions[0] / np.abs(info.attributions[0]).max()
    np.testing.assert_allclose(_z(ig), expected.T, rtol=1e-3, atol=1e-5)
    assert (_z(ig) < -0.05).any() and (_z(ig) > 0.05).any()  # both signs are drawn
    # SmoothGrad's settings reach the panel title and the caption (capped by the test's 4 steps).
    titles = [annotation["text"] for annotation in figure["layout"]["annotations"]]
    assert "SmoothGrad (4 × σ 10%)" in titles and titles[0] == "input"
    assert any("4 noisy copies, noise σ = 10%" in caption.value for caption in at.caption)


def test_shapes_image_maps_over_the_input(app_argv):
    at = open_page(app_argv, "features.py", model="shapes_cnn (demo)")
    figure, spec = _attribution_chart(at)
    assert PLACEHOLDER.findall(spec) == []
    maps = _maps(figure)
    assert [m["meta"]["values"] for m in maps.values()] == ["signed", "magnitude", "magnitude"]
    for trace in maps.values():
        assert trace["colorscale"] in (SIGNED_COLORSCALE, MAGNITUDE_COLORSCALE)
        assert "%{z" in trace["hovertemplate"]
    shown = [trace for trace in maps.values() if trace.get("showscale") is not False]
    assert all(trace["colorbar"]["title"]["text"] for trace in shown) and len(shown) == 2
    # The input: in colour first, and in greys under every map.
    assert figure["data"][0]["type"] == "image"
    greys = [t for t in figure["data"] if t.get("name") == "input (grey)"]
    assert len(greys) == 3 and all(t["colorscale"][0][1] == "rgb(0, 0, 0)" for t in greys)

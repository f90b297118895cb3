"""The features page on models of several inputs (issue 21 part 5): the two-input classifier
(image + meta) and a KerasHub BERT classifier (token ids, padding mask, segment ids), every tab,
the drawn values against the analysis."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurogenesis.analysis.attribution import (
    DEFAULT_IG_STEPS,
    attribution_info,
    token_attribution_info,
)
from neurogenesis.io.models import load_model
from neurogenesis.io.samples import load_samples
from tests.app.pages import open_page, rerun, values

TABS = ("Attribution", "Feature maps", "Filters", "Activation maximization", "Projector")


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def _no_errors(at) -> None:
    assert not at.exception, [exception.value for exception in at.exception]
    assert not at.error, [error.value for error in at.error]
    assert not at.warning, [warning.value for warning in at.warning]


def _open(app_argv, case):
    at = open_page(app_argv, "features.py", "--model", case[0], "--samples", case[1], "--no-demos")
    _no_errors(at)
    return at


def _every_tab(at) -> list[str]:
    """Opens every tab the page shows; returns the ones it shows."""
    shown = [tab for tab in TABS if not any(f"**{tab}**" in c.value for c in at.caption)]
    for tab in shown:
        at.session_state["features_tab"] = tab
        rerun(at)
        _no_errors(at)
    return shown


def _chart(at, title_part: str) -> dict:
    for chart in at.get("plotly_chart"):
        figure = json.loads(chart.proto.spec)
        if title_part in (figure["layout"].get("title", {}).get("text") or ""):
            return figure
    raise AssertionError(f"no chart titled with {title_part!r}")


def _z(trace: dict) -> np.ndarray:
    """A heatmap's z, or a bar chart's y (a feature vector's map), flat, as numbers."""
    rows = trace.get("z", trace.get("y"))
    if isinstance(rows, dict):
        return values(rows).astype(float)
    return np.concatenate([np.asarray(values(row), dtype=float).ravel() for row in rows])


def test_two_input_model_every_tab_and_the_meta_map(app_argv, multi_input_cases):
    case = multi_input_cases["two_input"]
    at = _open(app_argv, case)
    assert any(
        "it optimizes one image input, and this model takes 2" in c.value for c in at.caption
    )
    at.selectbox(key="features_input").select("meta")
    rerun(at)
    figure = _chart(at, "attribution of")
    ig = next(t for t in figure["data"] if t.get("name") == "Integrated gradients")
    info = attribution_info(
        load_model(case[0]), load_samples(case[1]).x[:1], "integrated_gradients",
        steps=DEFAULT_IG_STEPS,
    )  # fmt: skip
    meta = info.attributions["meta"][0]
    np.testing.assert_allclose(_z(ig), meta / np.abs(meta).max(), rtol=1e-3, atol=1e-5)
    # Grad-CAM maps the image only, and says so for the meta input.
    assert any("No map of 'meta' from Grad-CAM" in c.value for c in at.caption)
    assert _every_tab(at) == ["Attribution", "Feature maps", "Filters", "Projector"]


def test_bert_classifier_every_tab_and_its_tokens(app_argv, multi_input_cases):
    pytest.importorskip("keras_hub")
    case = multi_input_cases["bert_classifier"]
    at = _open(app_argv, case)
    figure = _chart(at, "per token")
    samples = load_samples(case[1])
    info = token_attribution_info(load_model(case[0]), samples.x[:1], "integrated_gradients")
    real = samples.input("padding_mask")[0].astype(bool)
    assert not real.all()
    trace = figure["data"][0]
    # Only the real tokens are drawn, with the analysis's scores.
    assert [int(p) for p in trace["x"]] == np.flatnonzero(real).tolist()
    np.testing.assert_allclose(_z(trace), info.scores[0][real], rtol=1e-4, atol=1e-8)
    assert _every_tab(at) == ["Attribution", "Feature maps", "Projector"]

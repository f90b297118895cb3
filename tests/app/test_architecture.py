"""The architecture page under AppTest, for every demo model."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from neurogenesis.workspace import DEMO_MODELS_DIR
from tests.conftest import ROOT

DEMO_MODELS = sorted(path.stem for path in DEMO_MODELS_DIR.glob("*.keras"))


def open_architecture(app_argv, *arguments) -> AppTest:
    app_argv(*arguments)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/architecture.py").run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


@pytest.mark.parametrize("name", DEMO_MODELS)
def test_every_demo_model_renders_with_exact_totals(app_argv, name):
    at = open_architecture(app_argv, "--model", DEMO_MODELS_DIR / f"{name}.keras", "--no-demos")
    assert at.title[0].value == "Architecture"
    table = at.dataframe[0].value
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Parameters"] == f"{int(table['parameters'].sum()):,}"
    card = json.loads((DEMO_MODELS_DIR / f"{name}.json").read_text())
    assert card["title"]  # the card exists for each demo
    assert (table["MACs"] >= 0).all() and table["MACs"].sum() > 0
    assert len(at.get("plotly_chart")) == 2  # the graph and the cost bars


def test_switching_the_cost_redraws(app_argv):
    at = open_architecture(app_argv, "--model", DEMO_MODELS_DIR / "digits_cnn.keras", "--no-demos")
    at.segmented_control(key="architecture_cost").set_value("num_params").run()
    assert not at.exception


def test_no_model_explains_instead_of_failing(app_argv):
    at = open_architecture(app_argv, "--no-demos")
    assert any("No model selected" in info.value for info in at.info)

"""Downloads in headless Chromium: one chart's PNG from its download control and the page's
bundle, both made on click, checked as files (PNG magic bytes, zip members, the CSV's numbers)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurogenesis.plotting.export import static_export_available
from tests.conftest import ROOT
from tests.e2e.test_browser import browser, running_app  # noqa: F401 (the shared browser fixture)

pytestmark = pytest.mark.e2e
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-exports")
    with running_app(folder, []) as base:
        yield base


def _tensorboard_scalars(folder: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return [
        (event.step, float(tensor_util.make_ndarray(event.tensor_proto)))
        for event in events.Tensors(tag)
    ]


def _download(page, button, timeout: int = 180_000):
    with page.expect_download(timeout=timeout) as download:
        button.click()
    return download.value


def test_training_chart_png_and_page_bundle(browser, demo_server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
    page.goto(f"{demo_server}/training", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Training dynamics").wait_for(timeout=90_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    assert page.locator("[data-testid='stException']").count() == 0

    # The chart's own control: a popover with one button per format.
    page.get_by_test_id("stPopoverButton").filter(has_text="Download").first.click()
    buttons = page.get_by_test_id("stDownloadButton")
    if static_export_available():
        png = _download(page, buttons.filter(has_text=re.compile(r"^PNG$")).first)
        assert png.suggested_filename == "training_curves.png"
        data = Path(png.path()).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    html = _download(page, buttons.filter(has_text=re.compile(r"^HTML")).first)
    assert html.suggested_filename == "training_curves.html"
    assert b"Plotly.newPlot" in Path(html.path()).read_bytes()
    page.keyboard.press("Escape")

    bundle = _download(page, buttons.filter(has_text="Download this page").first)
    assert bundle.suggested_filename == "neurogenesis_training_dynamics.zip"
    archive = zipfile.ZipFile(bundle.path())
    names = set(archive.namelist())
    expected = {"README.txt", "plotly.min.js", "training_curves.html", "training_curves.csv"}
    assert expected <= names
    if static_export_available():
        assert archive.read("training_curves.png").startswith(PNG_MAGIC)
    # Every logged point, as TensorBoard's own reader finds it in the demo run's event file.
    table = pd.read_csv(io.BytesIO(archive.read("training_curves.csv")))
    shown = table[(table["run"] == "digits_cnn/adam") & (table["tag"] == "validation/loss")]
    logged = _tensorboard_scalars(ROOT / "data/runs/digits_cnn/adam", "validation/loss")
    assert shown["step"].tolist() == [step for step, _ in logged]
    np.testing.assert_allclose(shown["value"], [value for _, value in logged], rtol=1e-6)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()

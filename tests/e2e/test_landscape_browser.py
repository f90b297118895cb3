"""The loss landscape and hyperparameter pages in headless Chromium on the bundled demos.

Set ``NEUROGENESIS_SCREENSHOTS=DIR`` to keep a screenshot of each view (the manual's pictures).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.test_browser import browser, running_app  # noqa: F401 (the shared browser fixture)

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("NEUROGENESIS_SCREENSHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-landscape")
    with running_app(folder, []) as base:
        yield base


def _choose_model(page, name: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=name).click()


def test_landscape_page_surface_contours_and_line(browser, demo_server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    page.goto(f"{demo_server}/landscape", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Loss landscape").wait_for(timeout=90_000)
    _choose_model(page, "digits_cnn (demo)")
    page.get_by_text("sharpness λ_max").first.wait_for(timeout=180_000)
    # The 3D surface is drawn with WebGL.
    page.locator(".js-plotly-plot .gl-container canvas").first.wait_for(timeout=60_000)
    page.get_by_text("random plane, filter-normalized").first.wait_for(timeout=60_000)
    _no_exception(page)
    _shot(page, "landscape_surface")

    page.get_by_role("tab", name="Contours").click()
    page.get_by_text("loss contours").first.wait_for(timeout=60_000)
    _no_exception(page)

    page.get_by_text("PCA of the path", exact=True).first.click()
    page.get_by_text("(trajectory PCA plane, 256 samples)").first.wait_for(timeout=180_000)
    page.get_by_text("of the path's variance").first.wait_for(timeout=60_000)
    _no_exception(page)
    _shot(page, "landscape_pca_contours")

    page.get_by_role("tab", name="Line").click()
    page.get_by_text("Along the line from").first.wait_for(timeout=120_000)
    _no_exception(page)
    page.close()


def test_hyperparameters_page_surface_and_parallel_coordinates(browser, demo_server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    page.goto(f"{demo_server}/hyperparameters", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Hyperparameters").wait_for(timeout=90_000)
    page.get_by_text("Best trial").first.wait_for(timeout=120_000)
    page.locator(".js-plotly-plot .gl-container canvas").first.wait_for(timeout=60_000)
    _no_exception(page)
    _shot(page, "hyperparameters_surface")
    page.get_by_role("tab", name="Parallel coordinates").click()
    page.get_by_text("brushing").first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot .parcoords").first.wait_for(timeout=60_000)
    _no_exception(page)
    page.get_by_role("tab", name="Importance").click()
    page.get_by_text("What drives val_accuracy").first.wait_for(timeout=60_000)
    _no_exception(page)
    page.close()

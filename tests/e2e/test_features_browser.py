"""The features and attention pages in headless Chromium on the shapes and text demos."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.e2e.test_browser import browser, running_app  # noqa: F401 (the shared browser fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def features_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-features")
    arguments = [
        "--model", ROOT / "models" / "shapes_cnn.keras",
        "--samples", ROOT / "data" / "samples" / "shapes_cnn.npz",
        "--model", ROOT / "models" / "sentiment_transformer.keras",
        "--samples", ROOT / "data" / "samples" / "sentiment_transformer.npz", "--no-demos",
    ]  # fmt: skip
    with running_app(folder, arguments, NEUROGENESIS_MAX_STEPS="8") as base:
        yield {"url": base, "folder": folder}


def test_features_page_draws_attribution_and_the_projector(browser, features_server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{features_server['url']}/features", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Features and representations").wait_for(timeout=90_000)
    # The one-row strip of samples and the maps (the full grid waits in a closed expander).
    page.locator(".js-plotly-plot:visible").nth(1).wait_for(timeout=120_000)
    page.get_by_text("completeness error").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    strip = page.locator(".js-plotly-plot:visible").first.bounding_box()
    assert strip["height"] < 320  # issue 19: a 48-thumbnail grid of ~1,000 px stood here
    browser_box = page.locator("[data-testid='stExpander']").filter(has_text="browse all").first
    assert browser_box.locator("details").get_attribute("open") is None  # closed by default
    # The shapes model has filters and activation maximization: every tab is offered.
    assert page.get_by_text("Not shown for this model").count() == 0

    page.get_by_role("tab", name="Projector").click()
    page.get_by_text("Nearest neighbours of").first.wait_for(timeout=120_000)
    # 500 points drawn with WebGL (Scattergl renders into a canvas, not SVG paths).
    page.locator(".js-plotly-plot .gl-container canvas").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0

    page.get_by_role("tab", name="Filters").click()
    page.get_by_text("Sorted by L2 norm").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_attention_page_draws_heads_and_the_head_view(browser, features_server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{features_server['url']}/attention", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Attention").wait_for(timeout=90_000)
    # The shapes model comes first and has no attention: the page says so.
    page.get_by_text("no keras.layers.MultiHeadAttention").first.wait_for(timeout=90_000)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="sentiment_transformer").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    page.get_by_text("attention_1, head 0").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Head view").click()
    page.get_by_text("queries (left) attend to keys (right)").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_debugging_page_confusion_click_and_attack(browser, features_server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{features_server['url']}/debugging", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Debugging").wait_for(timeout=90_000)
    page.get_by_text("What drove it").first.wait_for(timeout=120_000)
    assert page.locator("[data-testid='stException']").count() == 0

    page.get_by_role("tab", name="Adversarial").click()
    page.get_by_text("Accuracy under attack").first.wait_for(timeout=180_000)
    assert page.locator("[data-testid='stException']").count() == 0

    # A click on a cell of the confusion matrix lists that cell's samples.
    page.get_by_role("tab", name="Errors").click()
    chart = page.locator(".js-plotly-plot").filter(has_text="Confusion matrix").first
    chart.wait_for(timeout=120_000)
    chart.scroll_into_view_if_needed()
    area = chart.locator(".nsewdrag").first.bounding_box()  # the plot area: 5 x 5 cells
    # The top-left cell's centre: label and prediction are both the first class.
    page.mouse.click(area["x"] + area["width"] / 10, area["y"] + area["height"] / 10)
    page.get_by_text("Label circle, predicted circle").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()

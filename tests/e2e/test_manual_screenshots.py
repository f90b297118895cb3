"""Every page of the real app in headless Chromium, each on the demo model that suits it.

Without settings this is a smoke test of the whole app in a browser: each page draws its real
content with no exception. With ``NEUROGENESIS_SCREENSHOTS=DIR`` it also saves one screenshot per
page as ``DIR/<page>.png``; ``NEUROGENESIS_SCREENSHOTS=docs/manual`` refreshes the pictures of the
user manual (docs/manual.md).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_browser import browser, running_app  # noqa: F401 (the shared browser fixture)

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("NEUROGENESIS_SCREENSHOTS")
# Tall enough that a page's first views fit without scrolling: Streamlit scrolls its main area,
# not the document, so a "full page" screenshot would stop at the viewport.
VIEWPORT = {"width": 1400, "height": 2400}
TIMEOUT_MS = 180_000
MAX_SHOT_HEIGHT = 1800  # page pixels in one picture
MAX_SHOT_WIDTH = 1100  # wider pictures are scaled down (small PNGs in the repository)
# The status widget's running icons (one of them is a seasonal variant).
RUNNING = (
    '[data-testid^="stStatusWidgetRunning"], [data-testid="stStatusWidgetNewYearsIcon"], '
    '[data-stale="true"]'
)


def _close_all_blocks(page) -> None:
    """The transformer's graph with its blocks closed: the whole model in one picture."""
    main = page.get_by_test_id("stMain")
    # The graph's title is SVG text: its textContent, not innerText.
    title = main.locator(".js-plotly-plot .gtitle").first
    before = title.text_content()
    main.get_by_role("button", name="Close all").click()
    _changed(title, before)


def _wrong_crosses(page) -> None:
    """The shapes model's mistakes that it took for a cross: one row of the sample grid, and a
    failure explained."""
    main = page.get_by_test_id("stMain")
    # the filters live in the sample browser's expander, closed at first
    main.get_by_text("Filter the samples and browse all of them").first.click()
    count = main.get_by_text("samples match").first
    before = count.inner_text()
    main.get_by_test_id("stButtonGroup").get_by_text("wrong", exact=True).first.click()
    _changed(count, before)
    _settled(page)
    before = count.inner_text()
    main.get_by_test_id("stMultiSelect").filter(has_text="Prediction").first.click()
    page.get_by_role("option", name="cross", exact=True).click()
    page.keyboard.press("Escape")
    _changed(count, before)


def _pca_contours(page) -> None:
    """The digits run's own plane as contours: the training path from the first checkpoint to the
    trained weights (a 3D surface draws its axis titles with WebGL, out of the DOM's reach)."""
    main = page.get_by_test_id("stMain")
    main.get_by_role("tab", name="Contours").click()
    charts = main.locator(".js-plotly-plot")
    charts.get_by_text("loss contours").first.wait_for(timeout=TIMEOUT_MS)
    _settled(page)
    main.get_by_text("PCA of the path", exact=True).first.click()
    charts.get_by_text("(trajectory PCA plane").first.wait_for(timeout=TIMEOUT_MS)
    charts.get_by_text("of the path's variance").first.wait_for(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Visit:
    """One page: its file stem and title (the sidebar link, and the heading but on Home), the
    sidebar model it is shown with (None: the first demo), texts that say its real content is
    drawn, how many charts it draws, what to do before the screenshot and where the picture
    ends (a selector inside the main area)."""

    stem: str
    title: str
    model: str | None
    ready: tuple[str, ...]
    charts: int = 1
    webgl: bool = False
    prepare: Callable | None = None
    tab: str | None = None
    tab_ready: tuple[str, ...] = ()
    tab_charts: int = 0
    until: str = ".js-plotly-plot >> nth=0"
    sidebar: bool = False  # the picture shows the sidebar too
    shot: bool = True

    @property
    def heading(self) -> str:
        return "NeuroGenesis" if self.stem == "home" else self.title


VISITS = (
    Visit(
        "home",
        "Home",
        None,
        ("What each page answers", "Train a demo model live"),
        charts=0,
        until="[data-testid='stButton'] >> nth=0",
        sidebar=True,
    ),
    Visit(
        "architecture",
        "Architecture",
        "sentiment_transformer (demo)",
        ("Multiply-accumulates", "Drag to pan, scroll to zoom"),
        prepare=_close_all_blocks,
    ),
    Visit("training", "Training dynamics", None, ("points in the logs",)),
    Visit(
        "features",
        "Features and representations",
        "shapes_cnn (demo)",
        ("completeness error", "Sanity check"),
        charts=2,
        prepare=_wrong_crosses,
        until=".js-plotly-plot:visible >> nth=1",
    ),
    Visit(
        "attention",
        "Attention",
        "sentiment_transformer (demo)",
        ("attention_1, head 0",),
        tab="Head view",
        tab_ready=("queries (left) attend to keys (right)",),
    ),
    Visit(
        "debugging",
        "Debugging",
        "shapes_cnn (demo)",
        ("What drove it",),
        charts=2,
        prepare=_wrong_crosses,
        tab="Errors",
        tab_ready=("Click a cell to see its samples.",),
        tab_charts=2,
        until=".js-plotly-plot:visible >> nth=1",
    ),
    Visit(
        "landscape",
        "Loss landscape",
        "digits_cnn (demo)",
        ("sharpness λ_max", "random plane, filter-normalized"),
        webgl=True,
        prepare=_pca_contours,
    ),
    Visit("hyperparameters", "Hyperparameters", None, ("Best trial",), webgl=True),
    Visit("manual", "User manual", None, ("Loss landscape",), charts=0, shot=False),
)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-manual")
    with running_app(folder, [], NEUROGENESIS_LIVE_DIR=str(folder / "live")) as base:
        yield base


def _changed(locator, before: str) -> None:
    """Waits until the locator's text differs from ``before``: the rerun has drawn it anew."""
    from playwright.sync_api import expect

    expect(locator).not_to_have_text(before, timeout=TIMEOUT_MS)


def _settled(page) -> None:
    """Waits for the script run to end: no running icon and no stale element left."""
    page.wait_for_function(
        f"() => !document.querySelector({RUNNING!r})", polling=250, timeout=TIMEOUT_MS
    )


def _open(browser, base: str, visit: Visit):  # noqa: F811
    """Opens the home page, picks the visit's model there (cheap to rerun), then follows the
    sidebar link, so the page's first run is already on the right model."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(base + "/", wait_until="domcontentloaded")
    # A fresh server shows a skeleton first: wait for the real home page.
    page.get_by_role("heading", name="NeuroGenesis").wait_for(timeout=TIMEOUT_MS)
    sidebar = page.get_by_test_id("stSidebar")
    if visit.model is not None:
        sidebar.get_by_test_id("stSelectbox").first.click()
        page.get_by_role("option", name=visit.model).click()
        # The home page's model card names the chosen model's file: it has been rerun with it.
        name = visit.model.split(" (")[0]
        page.get_by_test_id("stMain").locator("code").get_by_text(name, exact=True).wait_for(
            timeout=TIMEOUT_MS
        )
        _settled(page)
    if visit.stem != "home":
        sidebar.get_by_test_id("stSidebarNavLink").filter(has_text=visit.title).first.click()
        page.wait_for_url(f"**/{visit.stem}", timeout=TIMEOUT_MS)
    return page


def _wait_for_content(page, visit: Visit) -> None:
    main = page.get_by_test_id("stMain")
    main.get_by_role("heading", name=visit.heading, exact=True).first.wait_for(timeout=TIMEOUT_MS)
    for text in visit.ready:
        main.get_by_text(text).filter(visible=True).first.wait_for(timeout=TIMEOUT_MS)
    if visit.charts:
        main.locator(".js-plotly-plot:visible").nth(visit.charts - 1).wait_for(timeout=TIMEOUT_MS)
    if visit.webgl:
        main.locator(".js-plotly-plot .gl-container canvas").first.wait_for(timeout=TIMEOUT_MS)
    _settled(page)
    if visit.prepare is not None:
        visit.prepare(page)
        _settled(page)
    if visit.tab is not None:
        main.get_by_role("tab", name=visit.tab).click()
        for text in visit.tab_ready:
            main.get_by_text(text).filter(visible=True).first.wait_for(timeout=TIMEOUT_MS)
        if visit.tab_charts:
            main.locator(".js-plotly-plot:visible").nth(visit.tab_charts - 1).wait_for(
                timeout=TIMEOUT_MS
            )
        _settled(page)


def _screenshot(page, visit: Visit, path: Path) -> None:
    """The page from its title down to the end of its main view, as a small PNG."""
    from PIL import Image

    main = page.get_by_test_id("stMain")
    title = main.get_by_role("heading", name=visit.heading, exact=True).first.bounding_box()
    end = main.locator(visit.until).first.bounding_box()
    content = page.get_by_test_id("stMainBlockContainer").bounding_box()
    sidebar = page.get_by_test_id("stSidebar").bounding_box()
    left = 0 if visit.sidebar else max(content["x"] - 16, sidebar["x"] + sidebar["width"] + 1)
    right = min(content["x"] + content["width"] + 16, VIEWPORT["width"])
    top = 0 if visit.sidebar else max(title["y"] - 24, 0)
    height = min(end["y"] + end["height"] + 24 - top, MAX_SHOT_HEIGHT)
    picture = page.screenshot(clip={"x": left, "y": top, "width": right - left, "height": height})
    image = Image.open(io.BytesIO(picture))
    if image.width > MAX_SHOT_WIDTH:
        size = (MAX_SHOT_WIDTH, round(image.height * MAX_SHOT_WIDTH / image.width))
        image = image.resize(size, Image.Resampling.LANCZOS)
    # A palette of 256 colours: a third of the bytes, and no visible change in a UI picture.
    image = image.convert("RGB").quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)


@pytest.mark.parametrize("visit", VISITS, ids=[visit.stem for visit in VISITS])
def test_page_renders_in_a_browser(browser, demo_app, visit):  # noqa: F811
    page = _open(browser, demo_app, visit)
    try:
        _wait_for_content(page, visit)
        assert page.locator("[data-testid='stException']").count() == 0
        if SHOTS and visit.shot:
            page.mouse.move(0, 0)  # no hover label in the picture
            page.wait_for_timeout(1_000)  # the content is there: let Plotly finish its drawing
            _screenshot(page, visit, Path(SHOTS) / f"{visit.stem}.png")
    finally:
        page.close()

"""Issue 23 in headless Chromium: a link copied from "Copy link to this view" opens the same view in
a new browser context (another user: no cookies, no session); an upload in one context is never
seen by another that runs at the same time (sidebar, pages, links)."""

from __future__ import annotations

import time

import pytest

from neurogenesis.testing import tiny_dense_model
from tests.e2e import tour
from tests.e2e.test_browser import browser, running_app  # noqa: F401 (the shared browser fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
WAIT = 300
DEMO = "digits_cnn"


@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("links")
    with running_app(folder, [], NEUROGENESIS_LIVE_DIR=str(folder / "live")) as base:
        yield {"url": base, "folder": folder}


def _context_page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    return context, context.new_page()


def _copied_link(page) -> str:
    page.locator('[data-testid="stSidebar"] [data-testid="stPopover"] button').filter(
        has_text="Copy link to this view"
    ).first.click()
    code = page.locator('[data-testid="stPopoverBody"] code').first
    code.wait_for(timeout=30_000)
    return " ".join(code.inner_text().split())


def _toggle_state(page, key: str) -> bool:
    return page.locator(f".st-key-{tour.class_key(key)} input[type='checkbox']").is_checked()


def test_a_copied_link_opens_the_same_view_in_a_new_browser_context(browser, demos):  # noqa: F811
    context, page = _context_page(browser)
    wire = tour.Wire()
    tour.open_app(page, wire, demos["url"], WAIT)
    tour.choose_model(page, wire, DEMO, WAIT)
    took, finished = tour.open_page(page, wire, "Training dynamics", WAIT)
    assert finished, f"the Training page did not finish in {took:.0f} s"
    clicked = time.time()
    page.locator(f".st-key-{tour.class_key('training_log_y')} label").first.click()
    tour.settle(page, wire, WAIT, clicked)
    assert _toggle_state(page, "training_log_y")
    clicked = time.time()
    page.locator(f".st-key-{tour.class_key('training_x_axis')} button").filter(
        has_text="epoch"
    ).first.click()
    tour.settle(page, wire, WAIT, clicked)
    chosen = dict(wire.figures)
    link = _copied_link(page)
    assert link.startswith(demos["url"]) and "w.training_log_y=true" in link, link

    other, fresh = _context_page(browser)
    try:
        again = tour.Wire()
        tour.open_app(fresh, again, link, WAIT)
        tour.settle(fresh, again, WAIT)
        title = fresh.locator('[data-testid="stMain"] h1').first.inner_text()
        assert "Training" in title
        assert _toggle_state(fresh, "training_log_y")
        assert again.figures.keys() >= {"training_chart"}
        assert again.figures["training_chart"]["data"] == chosen["training_chart"]["data"]
        assert again.figures["training_chart"]["layout"]["yaxis"].get("type") == "log"
        assert fresh.locator("[data-testid='stException']").count() == 0
    finally:
        other.close()
        context.close()


def test_an_upload_in_one_context_is_never_seen_in_another(browser, demos):  # noqa: F811
    folder = demos["folder"]
    tiny_dense_model().save(folder / "only_mine.keras")
    first, mine = _context_page(browser)
    second, theirs = _context_page(browser)
    try:
        wire, other_wire = tour.Wire(), tour.Wire()
        tour.open_app(mine, wire, demos["url"], WAIT)
        tour.open_app(theirs, other_wire, demos["url"], WAIT)
        mine.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(
            [str(folder / "only_mine.keras")]
        )
        # the other session keeps working meanwhile
        tour.open_page(theirs, other_wire, "Training dynamics", WAIT)
        mine.wait_for_function(  # the select shows its value in an input
            "() => (document.querySelector('[data-testid=stSidebar] input[aria-label=Model]')"
            " || {}).value === 'only_mine.keras (uploaded)'",
            timeout=WAIT * 1000,
        )
        tour.settle(mine, wire, WAIT)
        link = _copied_link(mine)
        assert "only_mine" in link

        theirs.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        options = [" ".join(o.split()) for o in theirs.get_by_role("option").all_inner_texts()]
        theirs.keyboard.press("Escape")
        assert options and not any("only_mine" in option for option in options), options
        tour.open_page(theirs, other_wire, "Home", WAIT)
        assert "only_mine" not in theirs.locator('[data-testid="stMain"]').inner_text()

        # the upload's link, opened by someone else: the model is not on offer there
        third, stranger = _context_page(browser)
        try:
            seen = tour.Wire()
            tour.open_app(stranger, seen, link, WAIT)
            tour.settle(stranger, seen, WAIT)
            note = stranger.locator('[data-testid="stAlert"]').filter(
                has_text="Parts of the link were left out"
            )
            assert note.count() == 1 and "only_mine" in note.first.inner_text()
            model = stranger.locator('[data-testid="stSidebar"] input[aria-label="Model"]')
            assert "(demo)" in model.first.input_value()
        finally:
            third.close()
    finally:
        first.close()
        second.close()

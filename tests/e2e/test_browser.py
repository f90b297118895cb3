"""The real app in headless Chromium: it starts, the home page renders, uploads work and hostile files are refused."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.testing import tiny_dense_model, write_csv_log
from tests.e2e import tour
from tests.e2e.tour import CHROMIUM, CHROMIUM_FLAGS

pytestmark = pytest.mark.e2e
LONG_LOG_POINTS = 6_000  # more than a trace draws (2,000), so the training chart downsamples


@contextlib.contextmanager
def running_app(folder: Path, app_arguments, **environment):
    """``streamlit run app.py -- app_arguments`` (tour.serve); a server that does not start fails
    the test with its log."""
    try:
        with tour.serve(folder, app_arguments, **environment) as base:
            yield base
    except RuntimeError as error:
        if str(error).startswith("the app did not start"):
            pytest.fail(str(error))
        raise


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI needs Debian's chromium for the browser tests; tasks.py test installs it"
            )
        pytest.skip(
            "Debian's chromium is not installed (python3 tasks.py test installs it where apt-get may)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    tiny_dense_model().save(folder / "tiny.keras")
    (folder / "logs").mkdir()
    write_csv_log(
        folder / "logs" / "baseline.csv", {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]}
    )
    steps = np.arange(LONG_LOG_POINTS)
    write_csv_log(folder / "logs" / "long.csv", {"loss": 2.0 / (1.0 + steps / 500.0)})
    with running_app(
        folder,
        ["--model", folder / "tiny.keras", "--logdir", folder / "logs", "--no-demos"],
        NEUROGENESIS_LIVE_DIR=str(folder / "live"),
    ) as base:
        yield {"url": base, "folder": folder}
    shutil.rmtree(folder / "uploads", ignore_errors=True)


def _open_home(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="domcontentloaded")
    # A fresh server shows a skeleton first: wait for real content.
    page.get_by_role("heading", name="NeuroGenesis").wait_for(timeout=60_000)
    page.get_by_test_id("stMetricLabel").filter(has_text="Parameters").first.wait_for(
        timeout=60_000
    )
    return page


def test_home_page_renders_the_model_and_runs(browser, server):
    page = _open_home(browser, server["url"])
    assert page.get_by_text("tiny_dense").first.is_visible()
    assert page.get_by_text("195", exact=True).first.is_visible()
    # st.dataframe draws on a canvas; its cells exist as hidden accessibility nodes.
    page.get_by_text("baseline.csv").first.wait_for(state="attached", timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_upload_a_log_and_a_hostile_model(browser, server):
    folder = server["folder"]
    write_csv_log(folder / "uploaded_run.csv", {"loss": [2.0, 1.0], "accuracy": [0.1, 0.6]})
    evil = folder / "evil.keras"
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": "evil",
            "layers": [
                {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "payload"}}
            ],
        },
    }
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", "{}")
    page = _open_home(browser, server["url"])
    file_input = page.locator("[data-testid='stSidebar'] input[type='file']")
    file_input.set_input_files([str(folder / "uploaded_run.csv")])
    page.get_by_text("uploaded_run.csv (uploaded)").first.wait_for(timeout=60_000)
    page.get_by_text("uploaded_run.csv", exact=True).first.wait_for(
        state="attached", timeout=60_000
    )
    file_input.set_input_files([str(evil)])
    page.get_by_text("Lambda").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_live_training_updates_without_a_reload(browser, server):
    page = _open_home(browser, server["url"])
    main = page.get_by_test_id("stMain")
    epochs = main.get_by_label("Epochs")
    epochs.fill("3")
    epochs.press("Enter")  # sets the number only: no run starts before the button
    page.wait_for_timeout(3_000)
    assert page.get_by_text("of 3").count() == 0
    main.get_by_role("button", name="Start training").click()
    # The same page, never reloaded, goes from the first epoch to the end of training.
    page.get_by_text("of 3").first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    page.get_by_text("· finished ·").first.wait_for(timeout=180_000)
    assert page.get_by_text("epoch 3 of 3").first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_architecture_page_renders(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server['url']}/architecture", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Architecture").wait_for(timeout=90_000)
    page.get_by_test_id("stMetricLabel").filter(has_text="Multiply-accumulates").first.wait_for(
        timeout=90_000
    )
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert page.get_by_text("176", exact=True).first.is_visible()  # tiny_dense: 8*16 + 16*3 MACs
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def _click_graph_node(page, name: str) -> None:
    """Clicks inside the box of the graph node named ``name``: the box is the shape
    ``node:<i>``, its name the first line of annotation ``text:<i>``; the click lands on the
    box's padding, where the node's (invisible) point takes it."""
    where = page.evaluate(
        """(name) => {
            const gd = [...document.querySelectorAll('.js-plotly-plot')].find(
                g => (g.layout.shapes || []).some(s => (s.name || '').startsWith('node:')));
            const text = gd.layout.annotations.find(a => (a.name || '').startsWith('text:')
                && a.text.split('<br>')[0].replace(/<[^>]+>/g, '') === name);
            if (!text) return null;
            const k = gd.layout.shapes.findIndex(s => s.name === 'node:' + text.name.slice(5));
            const box = gd.querySelector(`.shapelayer path[data-index="${k}"]`);
            box.scrollIntoView({block: 'center'});
            const r = box.getBoundingClientRect();
            return {x: r.left + 5, y: r.top + r.height * 0.75};
        }""",
        name,
    )
    assert where is not None, f"no graph node named {name!r}"
    page.mouse.move(where["x"], where["y"])
    page.wait_for_timeout(300)
    page.mouse.click(where["x"], where["y"])


def test_clicking_a_graph_node_shows_its_weights(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server['url']}/architecture", wait_until="domcontentloaded")
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    page.get_by_text("hidden · Dense · 144 parameters").first.wait_for(timeout=30_000)
    _click_graph_node(page, "probabilities")
    # The click reruns the page with that layer's details: 16*3 + 3 parameters, two histograms.
    page.get_by_text("probabilities · Dense · 51 parameters").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_training_page_draws_and_reads_a_dragged_range_at_full_detail(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.goto(f"{server['url']}/training", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Training dynamics").wait_for(timeout=90_000)
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=90_000)
    caption = page.get_by_text("points in the logs").first
    caption.wait_for(timeout=30_000)
    assert f"{LONG_LOG_POINTS + 6:,} points in the logs" in caption.inner_text()
    assert "Drag across a range" in caption.inner_text()
    # Drag across the middle of the plot: the page reads that range again at full detail.
    area = chart.locator(".nsewdrag").first.bounding_box()
    y = area["y"] + area["height"] / 2
    page.mouse.move(area["x"] + area["width"] * 0.4, y)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.5, y, steps=8)
    page.mouse.move(area["x"] + area["width"] * 0.6, y, steps=8)
    page.mouse.up()
    page.get_by_role("button", name="Show the whole run").wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("button", name="Show the whole run").click()
    page.get_by_role("button", name="Show the whole run").wait_for(state="detached", timeout=30_000)
    page.close()

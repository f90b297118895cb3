"""The features and attention pages in headless Chromium on the shapes and text demos."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.e2e.test_browser import _free_port, browser  # noqa: F401 (the shared browser fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def features_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e-features")
    port = _free_port()
    env = dict(
        os.environ,
        NEUROGENESIS_UPLOAD_DIR=str(folder / "uploads"),
        NEUROGENESIS_MAX_STEPS="8",
    )
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--", "--model", str(ROOT / "models" / "shapes_cnn.keras"),
        "--samples", str(ROOT / "data" / "samples" / "shapes_cnn.npz"),
        "--model", str(ROOT / "models" / "sentiment_transformer.keras"),
        "--samples", str(ROOT / "data" / "samples" / "sentiment_transformer.npz"), "--no-demos",
    ]  # fmt: skip
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the app did not start: " + (folder / "server.log").read_text()[-2000:])
    yield {"url": base, "folder": folder}
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_features_page_draws_attribution_and_the_projector(browser, features_server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{features_server['url']}/features", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Features and representations").wait_for(timeout=90_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=120_000)  # the grid and the maps
    page.get_by_text("completeness error").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0

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

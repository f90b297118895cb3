"""docs/demo.md, the class demo script: every link in it opens its view with exactly the settings
it names (the page, the sidebar's model and each widget value), with nothing left out."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.ui.pages import PAGES
from tests.conftest import ROOT

LINK = re.compile(r"\]\((http://localhost:8501/[^)\s]*)\)")
LINKS = LINK.findall((ROOT / "docs" / "demo.md").read_text())
PAGE_FILES = {"": "app_pages/home.py"} | {
    page.path.rsplit("/", 1)[-1].removesuffix(".py"): page.path for page in PAGES
}


def test_the_demo_has_ten_steps_each_a_link():
    assert len(LINKS) == 10
    assert all(urlsplit(link).path.strip("/") in PAGE_FILES for link in LINKS)


@pytest.mark.parametrize(
    "link", LINKS, ids=[urlsplit(link).path.strip("/") or "home" for link in LINKS]
)
def test_each_demo_link_opens_its_view(app_argv, link):
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    app_argv()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params.update(
        {key: values if len(values) > 1 else values[0] for key, values in query.items()}
    )
    at.switch_page(PAGE_FILES[parts.path.strip("/")])
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    assert not [info.value for info in at.info if "Parts of the link" in info.value]
    assert at.session_state["model_choice"] == query["model"][0]
    for name, values in query.items():
        if name.startswith("w."):
            assert at.session_state[name[2:]] == json.loads(values[0]), name

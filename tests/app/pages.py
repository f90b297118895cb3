"""What every page's AppTest does: open the app on a page (with a model chosen), rerun, read charts."""

from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def open_page(
    app_argv,
    page: str,
    *arguments,
    model: str | None = None,
    timeout: int = 180,
    session: dict | None = None,
) -> AppTest:
    """The app started with ``arguments``, ``model`` chosen in the sidebar, on ``app_pages/page``
    with the widget values in ``session`` (key -> value) set before the page first runs."""
    app_argv(*arguments)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    if model is not None:
        at.selectbox(key="model_choice").select(model).run()
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.switch_page(f"app_pages/{page}").run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def values(array) -> np.ndarray:
    """A trace's x or y as numbers, whether Plotly wrote a list or typed binary data."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)

"""The picture check (tests/e2e/test_pictures.py) on the series and autoencoder demos."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import browser  # noqa: F401 (the shared browser fixture)
from tests.e2e.test_pictures import (
    DEMOS,
    TOURED_HERE,
    _selected,
    assert_tells_the_truth,
    demo_server,  # noqa: F401 (this file's own server: a module-scoped fixture)
)

# A demo's whole tour computes every view once: minutes on two busy cores.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.mark.parametrize(
    "demo", _selected("NEUROGENESIS_PICTURE_DEMOS", [d for d in DEMOS if d not in TOURED_HERE])
)
def test_every_view_of_a_demo_tells_the_truth(browser, demo_server, demo):  # noqa: F811
    assert_tells_the_truth(browser, demo_server, demo)

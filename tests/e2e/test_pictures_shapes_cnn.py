"""The picture check (tests/e2e/pictures.py) on the shapes_cnn demo.

One file per demo: ``pytest -n 2 --dist loadfile`` runs a file on one worker, so five files let
the two workers share the five tours. The server (``demo_server``, tests/e2e/conftest.py) is
shared by the tours one worker runs.
"""

from __future__ import annotations

import pytest

from tests.e2e.pictures import MARKS, assert_tells_the_truth, selected
from tests.e2e.test_browser import browser  # noqa: F401 (the shared browser fixture)

pytestmark = MARKS


@pytest.mark.parametrize("demo", selected("NEUROGENESIS_PICTURE_DEMOS", ["shapes_cnn"]))
def test_every_view_of_a_demo_tells_the_truth(browser, demo_server, demo):  # noqa: F811
    assert_tells_the_truth(browser, demo_server, demo)

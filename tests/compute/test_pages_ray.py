"""The Debugging page's robustness curves on a real local Ray: offered when the server names a
cluster, computed there, and equal to the curves computed here."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.cached._keys import _store
from neurogenesis.compute import configure_cluster
from tests.app.pages import open_page, rerun
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
COUNT = 40


def test_debugging_robustness_curves_on_the_cluster_equal_the_local_ones(
    ray_target, app_argv, monkeypatch
):
    from neurogenesis.analysis import robustness
    from neurogenesis.compute import jobs
    from neurogenesis.io.models import load_model, training_setup
    from neurogenesis.io.samples import load_samples
    from neurogenesis.plotting.robustness import robustness_overview_table

    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")
    calls = []
    original = jobs.robustness_curves

    def recorded(*args, **kwargs):
        calls.append(kwargs["where"])
        return original(*args, **kwargs)

    monkeypatch.setattr(jobs, "robustness_curves", recorded)
    # The same curves computed earlier in this process (another page test) are remembered
    # under the same key, wherever they ran: forget them so that the cluster computes these.
    _store.clear()
    try:
        at = open_page(
            app_argv, "debugging.py", "--ray", "local", "--workers", "2",
            model="digits_cnn (demo)", timeout=600,
        )  # fmt: skip
        at.session_state["debugging_tab"] = "Robustness"
        rerun(at)
        at.slider(key="debugging_curve_count").set_value(COUNT)
        at.button(key="debugging_curves_button").click()
        rerun(at)
        radio = at.radio(key="debugging_compute")
        assert radio.value == "a Ray instance on this machine"
        assert [where.address for where in calls] == ["local"]
        shown = at.dataframe[-1].value
    finally:
        configure_cluster(None)
    path = ROOT / "models" / "digits_cnn.keras"
    samples = load_samples(ROOT / "data" / "samples" / "digits_cnn.npz")
    local = robustness.robustness_curves(
        load_model(path),
        samples.x[:COUNT],
        samples.y[:COUNT],
        value_range=robustness.set_range(samples.x),
        label_names=samples.label_names,
        loss=training_setup(path).loss,
        attacks=robustness.ATTACKS,
    )
    expected = robustness_overview_table(local)
    assert list(shown["corruption"]) == list(expected["corruption"])
    column = "accuracy averaged over the levels"
    np.testing.assert_allclose(shown[column].to_numpy(), expected[column].to_numpy(), atol=1e-6)

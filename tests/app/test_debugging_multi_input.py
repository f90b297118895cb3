"""The Debugging page on models of several inputs (issue 21): a two-input classifier (image and
meta) and a KerasHub BERT classifier (token ids, padding mask, segment ids). Every tab renders
or says why it does not apply; the values shown are the model's own."""

from __future__ import annotations

import numpy as np
import pytest

from tests.app.pages import open_page, rerun

TABS = ("Explain", "Perturbation", "Adversarial", "Robustness", "Errors", "Compare models")


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def _every_tab(at) -> dict[str, list[str]]:
    """Opens every tab (computing the robustness curves); returns each tab's notices."""
    said = {}
    for tab in TABS:
        at.session_state["debugging_tab"] = tab
        rerun(at)
        if tab == "Robustness":
            at.slider(key="debugging_curve_count").set_value(20)
            rerun(at)
            at.button(key="debugging_curves_button").click()
            rerun(at)
        assert not at.exception, (tab, [e.value for e in at.exception])
        assert not at.error, (tab, [e.value for e in at.error])
        said[tab] = [element.value for element in (*at.info, *at.warning)]
    return said


def test_every_debugging_tab_of_a_two_input_classifier(app_argv, multi_input_cases):
    model, samples = multi_input_cases["two_input"]
    at = open_page(app_argv, "debugging.py", "--model", model, "--samples", samples, "--no-demos")
    said = _every_tab(at)
    # The attack ran on the image (no notice that it does not apply).
    assert not said["Adversarial"], said["Adversarial"]
    assert not said["Perturbation"], said["Perturbation"]
    # The adversarial verdict quotes the model's own confidence on both inputs of the first
    # sample, the one chosen when the page opens.
    import keras

    arrays = np.load(samples)
    own = np.asarray(keras.saving.load_model(model)([arrays["image"], arrays["meta"]]))
    at.session_state["debugging_tab"] = "Adversarial"
    rerun(at)
    verdicts = [e.value for e in (*at.success, *at.warning) if "The model" in e.value]
    assert verdicts and f"{own[0].max():.1%}" in verdicts[0], (verdicts, own[0])


def test_every_debugging_tab_of_a_bert_classifier(app_argv, multi_input_cases):
    if "bert_classifier" not in multi_input_cases:
        pytest.skip("keras-hub is not installed")
    model, samples = multi_input_cases["bert_classifier"]
    at = open_page(app_argv, "debugging.py", "--model", model, "--samples", samples, "--no-demos")
    said = _every_tab(at)
    # Token ids have no gradient: one sentence says so instead of an attack.
    assert any("float" in text and "token_ids" in text for text in said["Adversarial"])

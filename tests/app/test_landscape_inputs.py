"""The loss landscape page on models of several inputs (issue 21 part 5): the two-input
classifier's plane, line and comparison are the model's own loss on both inputs; a chosen output
of a two-output model gets a loss of its own; a backbone says why it has no landscape."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.io.models import load_model
from neurogenesis.testing import tiny_branching_model, two_input_classifier
from tests.app.pages import charts, open_page, rerun, values

FEATURES_SENTENCE = "is features, not predictions of the labels"


def _z(trace) -> np.ndarray:
    z = trace["z"]
    if isinstance(z, dict):
        return values(z).reshape([int(n) for n in str(z["shape"]).split(",")]).astype(float)
    return np.asarray([values(row) if isinstance(row, dict) else row for row in z], dtype=float)


def surface_z(at) -> np.ndarray:
    """The first surface's heights (log10 of the loss: the page's default for the loss)."""
    trace = next(t for spec in charts(at) for t in spec["data"] if t["type"] == "surface")
    return _z(trace)


def _no_errors(at) -> None:
    assert not at.exception, [exception.value for exception in at.exception]
    assert not at.error, [error.value for error in at.error]


def _open(app_argv, *pairs):
    arguments = []
    for model, samples in pairs:
        arguments += ["--model", model, "--samples", samples]
    at = open_page(app_argv, "landscape.py", *arguments, "--no-demos")
    _no_errors(at)
    return at


def _crossentropy(model, data) -> float:
    probabilities = np.asarray(model([data["image"], data["meta"]], training=False), np.float64)
    return float(-np.mean(np.log(probabilities[np.arange(len(data["y"])), data["y"]])))


def test_two_input_plane_line_and_comparison_are_the_models_own_loss(
    app_argv, multi_input_cases, tmp_path
):
    """The plane's centre (log scale) is the crossentropy of the model's call on image and meta;
    the line from a second two-input model ends at both models' losses; the comparison draws the
    second model's plane around its own loss."""
    model_path, samples_path = multi_input_cases["two_input"]
    other_path = tmp_path / "other_two_input.keras"
    other = two_input_classifier()  # the same architecture (and seed): other weights by hand
    rng = np.random.default_rng(7)
    other.set_weights(
        [w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in other.get_weights()]
    )
    other.save(other_path)
    at = _open(app_argv, (model_path, samples_path), (other_path, samples_path))
    at.slider(key="landscape_resolution").set_value(5)
    rerun(at)
    _no_errors(at)
    data = dict(np.load(samples_path))
    expected = _crossentropy(load_model(model_path), data)
    z = surface_z(at)
    assert z.shape == (5, 5)
    assert 10 ** z[2, 2] == pytest.approx(expected, abs=1e-5)

    at.session_state["landscape_tab"] = "Line"
    rerun(at)
    _no_errors(at)
    line = next(s for s in charts(at) if "Along the line" in s["layout"]["title"]["text"])
    ends = next(t for t in line["data"] if t.get("mode") == "markers+text")
    np.testing.assert_allclose(
        values(ends["y"]).astype(float), [_crossentropy(other, data), expected], atol=1e-5
    )

    at.session_state["landscape_tab"] = "Compare models"
    rerun(at)
    _no_errors(at)
    spec = next(s for s in charts(at) if "on one scale" in s["layout"]["title"]["text"])
    mine, theirs = [_z(t) for t in spec["data"] if t["type"] == "surface"]
    assert 10 ** mine[2, 2] == pytest.approx(expected, abs=1e-5)
    assert 10 ** theirs[2, 2] == pytest.approx(_crossentropy(other, data), abs=1e-5)


def test_a_chosen_output_gets_its_own_loss(app_argv, tmp_path):
    """``head_2`` (one sigmoid unit) of a two-output model saved without a loss: binary
    crossentropy is offered, and the centre is the model's second output's loss on a and b."""
    import keras

    model = tiny_branching_model()
    model.save(tmp_path / "branching.keras")
    rng = np.random.default_rng(5)
    a = rng.normal(size=(12, 6)).astype("float32")
    b = rng.normal(size=(12, 4)).astype("float32")
    y = (a[:, 0] > 0).astype("int64")
    np.savez(tmp_path / "branching.npz", a=a, b=b, y=y)
    at = _open(app_argv, (tmp_path / "branching.keras", tmp_path / "branching.npz"))
    (output_key,) = [s.key for s in at.selectbox if s.key.startswith("model_output:")]
    at.selectbox(key=output_key).select("head_2")
    at.slider(key="landscape_resolution").set_value(5)
    rerun(at)
    _no_errors(at)
    assert at.selectbox(key="landscape_loss").value == "binary_crossentropy"
    probabilities = np.asarray(model([a, b], training=False)[1])
    expected = float(np.mean(keras.losses.binary_crossentropy(y[:, None], probabilities)))
    assert 10 ** surface_z(at)[2, 2] == pytest.approx(expected, abs=1e-5)


def test_a_backbone_says_why_it_has_no_landscape(app_argv, multi_input_cases):
    """A BERT backbone answers features: one sentence of information on either output, no error;
    its task model (a classifier head) draws a plane."""
    if "bert" not in multi_input_cases:
        pytest.skip("keras-hub is not installed")
    at = _open(app_argv, multi_input_cases["bert"])
    (said,) = [i.value for i in at.info if FEATURES_SENTENCE in i.value]
    assert said.startswith("This model's output (shaped (None, 16))")
    assert "a task model with a head" in said and not charts(at)
    (output_key,) = [s.key for s in at.selectbox if s.key.startswith("model_output:")]
    at.selectbox(key=output_key).select("sequence_output")
    rerun(at)
    _no_errors(at)
    # The sequence output: one vector per token (a sequence of any length).
    assert [i.value for i in at.info if "(shaped (None, None, 16))" in i.value]

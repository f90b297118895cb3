"""The loss landscape page under AppTest: every tab on the demos, values recomputed with Keras."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurogenesis.analysis.landscape import recorded_checkpoints
from neurogenesis.io.models import load_model
from tests.app.pages import charts, open_page, rerun, values
from tests.conftest import ROOT

DIGITS = ROOT / "models" / "digits_cnn.keras"
DIGITS_SAMPLES = ROOT / "data" / "samples" / "digits_cnn.npz"
DIGITS_RUN = ROOT / "data" / "runs" / "digits_cnn" / "adam"
PAGE_SAMPLES = 256  # the page's default sample count


def _metric(at, label: str) -> float:
    return float(next(m.value for m in at.metric if m.label.startswith(label)))


def _surface(at) -> dict:
    for spec in charts(at):
        for trace in spec["data"]:
            if trace["type"] in ("surface", "contour"):
                return trace
    raise AssertionError("no surface or contour drawn")


def _z(trace) -> np.ndarray:
    z = trace["z"]
    if isinstance(z, dict):
        return values(z).reshape([int(n) for n in str(z["shape"]).split(",")]).astype(float)
    return np.asarray([values(row) if isinstance(row, dict) else row for row in z], dtype=float)


def _keras_loss(model, x, y) -> float:
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy()
    return float(loss(y, model(x, training=False)))


@pytest.fixture(scope="module")
def digits():
    data = np.load(DIGITS_SAMPLES)
    return load_model(DIGITS), data["x"][:PAGE_SAMPLES], data["y"][:PAGE_SAMPLES]


def test_digits_surface_is_the_models_loss_and_every_tab_draws(app_argv, digits):
    model, x, y = digits
    at = open_page(app_argv, "landscape.py", model="digits_cnn (demo)")
    assert at.title[0].value == "Loss landscape"
    # The demo model is the 'adam' run's model: the page finds it by its weights.
    assert at.selectbox(key="landscape_weights").value == "run digits_cnn/adam"
    expected = _keras_loss(model, x, y)
    assert _metric(at, "loss at the trained weights") == pytest.approx(expected, rel=1e-3)
    surface = _surface(at)
    z = _z(surface)
    assert z.shape == (21, 21)
    # Log scale is on for the loss: the centre node is log10 of the model's own loss.
    assert z[10, 10] == pytest.approx(np.log10(expected), abs=1e-3)
    assert np.nanmin(z) == pytest.approx(np.log10(_metric(at, "lowest loss")), abs=1e-3)
    assert _metric(at, "sharpness") > 0
    for tab in ("Contours", "Line", "Sharpness", "Compare models"):
        at.session_state["landscape_tab"] = tab
        rerun(at)
        assert charts(at), tab


def test_pca_plane_draws_the_path_and_the_line_ends_are_the_checkpoints(app_argv, digits):
    model, x, y = digits
    at = open_page(app_argv, "landscape.py", model="digits_cnn (demo)")
    at.segmented_control(key="landscape_directions").set_value("pca")
    rerun(at)
    spec = charts(at)[0]
    assert "trajectory PCA plane" in spec["layout"]["title"]["text"]
    assert "of the path's variance" in json.dumps(spec["layout"])
    path = next(t for t in spec["data"] if t.get("name", "").startswith("training path"))
    run_model = load_model(DIGITS_RUN / "model.keras")
    checkpoints = recorded_checkpoints(run_model, str(DIGITS_RUN))
    assert len(values(path["x"])) == len(checkpoints)
    # The line from the initial weights: t = 0 is the initial checkpoint, t = 1 the trained model.
    at.session_state["landscape_tab"] = "Line"
    rerun(at)
    line = next(s for s in charts(at) if "Along the line" in s["layout"]["title"]["text"])
    ends = next(t for t in line["data"] if t.get("mode") == "markers+text")
    initial = load_model(DIGITS_RUN / "model.keras")
    initial.set_weights(checkpoints[0][1])
    np.testing.assert_allclose(
        values(ends["y"]).astype(float),
        [_keras_loss(initial, x, y), _keras_loss(run_model, x, y)],
        rtol=2e-3,
    )


def test_compare_models_share_one_scale(app_argv):
    at = open_page(app_argv, "landscape.py", model="digits_cnn (demo)")
    at.session_state["landscape_tab"] = "Compare models"
    rerun(at)
    # The default is another model: not the sidebar's file, which holds the adam run's weights
    # (the two drew identical surfaces), but another run of the same architecture.
    other = at.selectbox(key="landscape_compare_with")
    assert "digits_cnn (demo)" not in other.options and "run digits_cnn/adam" not in other.options
    assert other.value.startswith("run digits_cnn/")
    spec = next(s for s in charts(at) if "on one scale" in s["layout"]["title"]["text"])
    left, right = [_z(t) for t in spec["data"] if t["type"] == "surface"]
    assert [a["text"] for a in spec["layout"]["annotations"]] == [
        "run digits_cnn/adam",
        other.value,
    ]
    assert not np.allclose(left, right, equal_nan=True)
    at.selectbox(key="landscape_compare_with").select("run digits_cnn/sgd")
    rerun(at)
    spec = next(s for s in charts(at) if "on one scale" in s["layout"]["title"]["text"])
    surfaces = [t for t in spec["data"] if t["type"] == "surface"]
    assert len(surfaces) == 2
    assert surfaces[0]["cmin"] == surfaces[1]["cmin"] and surfaces[0]["cmax"] == surfaces[1]["cmax"]


def test_autoencoder_text_and_series_demos(app_argv):
    at = open_page(app_argv, "landscape.py", model="digits_vae (demo)")
    assert any("autoencoder" in caption.value for caption in at.caption)
    model = load_model(ROOT / "models" / "digits_vae.keras")
    x = np.load(ROOT / "data" / "samples" / "digits_vae.npz")["x"][:PAGE_SAMPLES].astype("float32")
    mse = float(np.mean((np.asarray(model(x, training=False)) - x) ** 2))
    assert _metric(at, "loss at the trained weights") == pytest.approx(mse, rel=1e-3)
    # Nothing else reconstructs digits (the digits classifiers' loss is another loss): one line
    # asks for a second model instead of comparing the autoencoder with itself.
    at.session_state["landscape_tab"] = "Compare models"
    rerun(at)
    assert any(i.value.startswith("Only these weights take these samples") for i in at.info)
    assert not [s for s in charts(at) if "on one scale" in s["layout"]["title"]["text"]]
    for name, other in (
        ("sentiment_transformer (demo)", None),
        ("weather_lstm (demo)", "run weather_lstm/lstm"),
    ):
        at.session_state["landscape_tab"] = "Compare models"
        at.selectbox(key="model_choice").select(name)
        rerun(at)
        if other is None:
            assert any(i.value.startswith("Only these weights") for i in at.info), name
        else:
            assert at.selectbox(key="landscape_compare_with").value == other
            assert at.selectbox(key="landscape_weights").value == "run weather_lstm/lstm_attention"
        at.session_state["landscape_tab"] = "Surface"
        rerun(at)
        assert _z(_surface(at)).shape == (21, 21), name
        assert not at.error, [e.value for e in at.error]


def test_settings_change_the_grid(app_argv):
    at = open_page(app_argv, "landscape.py", model="weather_lstm (demo)")
    at.slider(key="landscape_resolution").set_value(9)
    at.slider(key="landscape_span").set_value(0.5)
    rerun(at)
    trace = _surface(at)
    np.testing.assert_allclose(values(trace["x"]).astype(float), np.linspace(-0.5, 0.5, 9))
    at.segmented_control(key="landscape_directions").set_value("pca")
    at.selectbox(key="landscape_weights").select("the sidebar's model")
    rerun(at)
    assert any("needs a recorded run" in info.value for info in at.info)


def test_a_cluster_that_goes_away_is_said_and_the_landed_grid_is_kept(app_argv, monkeypatch):
    """A ClusterError mid-plane: one sentence on the page, and the points that had landed drawn
    (blank where missing) instead of losing them."""
    from neurogenesis import cached
    from neurogenesis.analysis.landscape import landscape_info
    from neurogenesis.compute import ClusterError

    data = np.load(DIGITS_SAMPLES)
    parts = []
    landscape_info(
        load_model(DIGITS), data["x"][:32], data["y"][:32], resolution=9, chunk_points=8,
        loss="sparse_categorical_crossentropy", on_partial=lambda info, f: parts.append(info),
    )  # fmt: skip
    partial = parts[1]
    landed = int(np.isfinite(partial.values[0]).sum())
    assert 0 < landed < 81
    message = "The Ray cluster at 10.0.0.1:6379 stopped answering (node lost); start it again."

    def lost(model, samples, options, run_dir, on_partial, target=None):
        on_partial(partial, landed / 81)
        raise ClusterError(message)

    monkeypatch.setattr(cached, "landscape", lost)
    at = open_page(
        app_argv, "landscape.py", model="digits_cnn (demo)", session={"landscape_resolution": 9}
    )
    assert [e.value for e in at.error] == [message]
    assert any(f"What had landed before: {landed} of 81 points" in c.value for c in at.caption)
    kept = charts(at)[-1]["data"][0]
    assert kept["type"] == "contour"

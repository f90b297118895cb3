"""Issue 24 under AppTest: a page's choices survive leaving it for two other pages and coming back,
with the same charts; after a change of the sidebar model a choice the new model lacks falls back
to the default and the page says so."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.pages import charts, open_page, rerun

AWAY = ("home.py", "manual.py")  # two other pages, cheap to draw


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "4")


def widget(at: AppTest, key: str):
    """The widget drawn under ``key`` (whatever its kind)."""
    found = [
        element
        for kind in ("selectbox", "slider", "multiselect", "segmented_control", "toggle", "radio")
        for element in at.get(kind)
        if element.key == key
    ]
    assert found, f"no widget {key!r} on the page"
    return found[0]


def away_and_back(at: AppTest, page: str) -> AppTest:
    """Visits the two other pages, checks the choices are really not drawn there, returns."""
    for other in AWAY:
        at.switch_page(f"app_pages/{other}")
        rerun(at)
    at.switch_page(f"app_pages/{page}")
    return rerun(at)


def round_trip(at: AppTest, page: str, choices: dict) -> None:
    """Sets ``choices`` (key -> value) one run at a time (a later widget may appear only after an
    earlier choice), then leaves and returns; the values and every chart must be the same."""
    for key, value in choices.items():
        widget(at, key).set_value(value)
        rerun(at)
    before = charts(at)
    assert before, "the page drew no chart to compare"
    for key, value in choices.items():
        assert widget(at, key).value == value, key
    away_and_back(at, page)
    for key, value in choices.items():
        assert widget(at, key).value == value, key
        assert at.session_state[key] == value
    assert charts(at) == before


def test_landscape_keeps_weights_plane_and_resolution(app_argv):
    at = open_page(
        app_argv,
        "landscape.py",
        model="digits_cnn (demo)",
        session={"landscape_resolution": 5, "landscape_samples": 64},
    )
    default = at.selectbox(key="landscape_weights").value
    assert default == "run digits_cnn/adam"
    options = at.selectbox(key="landscape_weights").options
    other = next(option for option in options if option not in (default, "the sidebar's model"))
    round_trip(
        at,
        "landscape.py",
        {"landscape_weights": other, "landscape_directions": "pca", "landscape_resolution": 7},
    )
    # A mere return is no model change: the page's own "new model" reset did not run.
    assert at.selectbox(key="landscape_weights").value == other


def test_training_keeps_runs_tab_and_smoothing(app_argv):
    at = open_page(app_argv, "training.py", model="weather_lstm (demo)", timeout=90)
    runs = at.multiselect(key="training_runs")
    chosen = runs.value[:1]
    assert chosen != runs.value
    round_trip(
        at,
        "training.py",
        {"training_runs": chosen, "training_smoothing": "none", "training_log_y": True},
    )
    at.session_state["training_tab"] = "Early stopping"
    rerun(at)
    away_and_back(at, "training.py")
    assert at.session_state["training_tab"] == "Early stopping"
    assert at.multiselect(key="training_runs").value == chosen


def test_hyperparameters_keeps_tab_colour_and_surface(app_argv):
    at = open_page(app_argv, "hyperparameters.py", model="digits_cnn (demo)")
    at.session_state["hyperparameters_tab"] = "Slices"
    rerun(at)
    round_trip(
        at,
        "hyperparameters.py",
        {"hyperparameters_color": "metric", "hyperparameters_method": "grid"},
    )
    assert at.session_state["hyperparameters_tab"] == "Slices"


def test_debugging_keeps_tab_and_slider(app_argv):
    at = open_page(app_argv, "debugging.py", model="digits_cnn (demo)")
    at.session_state["debugging_tab"] = "Perturbation"
    rerun(at)
    round_trip(at, "debugging.py", {"debugging_brightness": 0.3})
    assert at.session_state["debugging_tab"] == "Perturbation"


def test_features_keeps_tab_layer_and_count(app_argv):
    at = open_page(app_argv, "features.py", model="digits_cnn (demo)")
    at.session_state["features_tab"] = "Filters"
    rerun(at)
    layers = at.selectbox(key="features_filter_layer").options
    assert len(layers) > 1
    round_trip(
        at,
        "features.py",
        {"features_filter_layer": layers[-1], "features_filter_count": 3},
    )
    assert at.session_state["features_tab"] == "Filters"


def test_a_layer_the_new_model_lacks_falls_back_and_says_so(app_argv):
    at = open_page(app_argv, "features.py", model="digits_cnn (demo)")
    at.session_state["features_tab"] = "Feature maps"
    rerun(at)
    layers = at.selectbox(key="features_map_layer").options
    default = at.selectbox(key="features_map_layer").value
    chosen = next(layer for layer in layers if layer != default)
    at.selectbox(key="features_map_layer").set_value(chosen)
    rerun(at)
    away_and_back(at, "features.py")
    assert at.selectbox(key="features_map_layer").value == chosen

    at.selectbox(key="model_choice").select("weather_lstm (demo)")
    rerun(at)
    new_layers = at.selectbox(key="features_map_layer").options
    assert chosen not in new_layers
    shown = at.selectbox(key="features_map_layer").value
    assert shown in new_layers
    assert any(
        f"The layer {chosen} chosen before is not in this model" in caption.value
        for caption in at.caption
    )
    # The fallback is remembered like any choice: back on digits_cnn, its own default returns.
    at.selectbox(key="model_choice").select("digits_cnn (demo)")
    rerun(at)
    assert at.selectbox(key="features_map_layer").value in layers


def test_debugging_tabs_share_no_widget_key(app_argv):
    """Explain's SmoothGrad noise (0.1) and integrated-gradient steps (64) once shared their keys
    with Perturbation's noise and Adversarial's PGD steps: kept, they set the noise of the
    perturbed sample and broke the steps slider (64 > its maximum of 50)."""
    from neurogenesis.analysis.robustness import DEFAULT_PGD_STEPS

    at = open_page(app_argv, "debugging.py", model="digits_cnn (demo)")
    assert at.slider(key="debugging_noise").value == pytest.approx(0.1)
    assert at.slider(key="debugging_steps").value == 64
    at.session_state["debugging_tab"] = "Perturbation"
    rerun(at)
    assert at.slider(key="debugging_perturb_noise").value == 0.0
    at.session_state["debugging_tab"] = "Adversarial"
    rerun(at)
    assert at.slider(key="debugging_attack_steps").value == DEFAULT_PGD_STEPS


def test_a_shift_wider_than_the_new_images_is_clamped_and_said(app_argv):
    """A shift and a patch row chosen on shapes_cnn's 32×32 images are clamped into digits_cnn's
    8×8 range (a quarter of the side: 2; the last row: 7) with a caption each, and the perturbed
    prediction is the model's own prediction of the sample shifted by 2."""
    import numpy as np

    from neurogenesis.analysis import graph, robustness
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples
    from tests.app.pages import values
    from tests.conftest import ROOT

    at = open_page(app_argv, "debugging.py", model="shapes_cnn (demo)")
    at.session_state["debugging_tab"] = "Perturbation"
    rerun(at)
    at.slider(key="debugging_shift_down").set_value(32 // 4)
    at.slider(key="debugging_patch_top").set_value(30)
    rerun(at)
    at.selectbox(key="model_choice").select("digits_cnn (demo)")
    rerun(at)
    assert at.slider(key="debugging_shift_down").value == 8 // 4
    assert at.slider(key="debugging_patch_top").value == 8 - 1
    captions = [caption.value for caption in at.caption]
    assert "The shift 8 chosen before is outside this model's range (-2 to 2): now 2." in captions
    assert "The patch row 30 chosen before is outside this model's range (0 to 7): now 7." in (
        captions
    )
    model = load_model(ROOT / "models/digits_cnn.keras")
    samples = load_samples(ROOT / "data/samples/digits_cnn.npz")
    shifted = robustness.shift(
        samples.x[:1], (2.0, 0.0), value_range=robustness.value_range(samples.x)
    )
    expected = np.asarray(graph.predict(model, shifted))[0]
    perturbed = next(
        trace for spec in charts(at) for trace in spec["data"] if trace.get("name") == "perturbed"
    )
    np.testing.assert_allclose(np.sort(values(perturbed["x"])), np.sort(expected), atol=1e-5)


def test_sample_filters_belong_to_their_model(app_argv):
    """A label filter chosen on digits_cnn names digits_cnn's classes: on another model the
    sample browser starts unfiltered (label and correctness) and says so."""
    at = open_page(app_argv, "features.py", model="digits_cnn (demo)")
    at.multiselect(key="features_label").set_value([3])
    at.segmented_control(key="features_correct").set_value("wrong")
    rerun(at)
    assert at.multiselect(key="features_label").value == [3]
    away_and_back(at, "features.py")
    assert at.multiselect(key="features_label").value == [3]
    at.selectbox(key="model_choice").select("shapes_cnn (demo)")
    rerun(at)
    assert at.multiselect(key="features_label").value == []
    assert at.segmented_control(key="features_correct").value == "all"
    assert any(
        "sample filters chosen for another model or sample set are cleared" in caption.value
        for caption in at.caption
    )

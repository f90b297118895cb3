"""The training-dynamics page under AppTest: demo runs, every log format, a diverged run, a live run."""

from __future__ import annotations

import json
import shutil

from streamlit.testing.v1 import AppTest

from neurogenesis.testing import write_json_history
from tests.app.pages import charts, figure, open_page, rerun, values
from tests.conftest import ROOT

DEMO_RUNS = ROOT / "data" / "runs"


def open_training(app_argv, *arguments) -> AppTest:
    return open_page(app_argv, "training.py", *arguments, timeout=90)


def names(spec: dict) -> list[str]:
    return [trace.get("name") for trace in spec["data"]]


def test_demo_runs_compare_optimizers_and_group(app_argv):
    at = open_training(app_argv)
    assert at.title[0].value == "Training dynamics"
    runs = at.multiselect(key="training_runs")
    # The sidebar's model (digits_cnn, the first demo) brings its recorded runs, in its card's
    # order (the main run first).
    assert runs.value == [
        "digits_cnn/adam",
        "digits_cnn/sgd",
        "digits_cnn/rmsprop",
        "digits_cnn/adam_no_bn",
    ]
    spec = figure(at)
    assert spec["layout"]["yaxis"]["title"]["text"] == "loss"
    assert spec["layout"]["yaxis2"]["title"]["text"] == "accuracy"
    for run in runs.value:
        assert f"best {run} · validation" in names(spec)
    assert not at.error

    at.selectbox(key="training_group_by").set_value("optimizer")
    spec = figure(rerun(at))
    assert "optimizer=adam · train (min to max)" in names(spec)
    at.session_state["training_x_axis"] = "relative time"
    spec = figure(rerun(at))
    assert spec["layout"]["xaxis2"]["title"]["text"] == "time since the run started (s)"


def test_the_page_follows_the_sidebar_model(app_argv):
    # The issue: with weather_lstm chosen the page showed the four digits_cnn runs.
    at = open_page(app_argv, "training.py", model="weather_lstm (demo)", timeout=90)
    runs = at.multiselect(key="training_runs")
    assert runs.value == ["weather_lstm/lstm_attention", "weather_lstm/lstm"]  # its card's order
    assert runs.options[:2] == runs.value  # its runs head the list; the others stay on offer
    assert "digits_cnn/adam" in runs.options
    spec = figure(at)
    drawn = [name for name in names(spec) if name]
    assert "weather_lstm/lstm_attention" in drawn and "weather_lstm/lstm" in drawn
    assert not [name for name in drawn if "digits_cnn" in name]
    # Its panels: what training optimised (loss, mae), not the learning rate.
    assert at.multiselect(key="training_metrics").value == ["loss", "mae"]
    assert spec["layout"]["yaxis2"]["title"]["text"] == "mae"
    # A 12-epoch log starts unsmoothed: the drawn curve is the raw one.
    assert at.selectbox(key="training_smoothing").value == "none"
    line = next(t for t in spec["data"] if t.get("name") == "weather_lstm/lstm")
    assert "smoothed" not in line["hovertemplate"]
    assert not at.error

    # Layer health: no batch-normalization pair of another model (digits_cnn's) is shown.
    at.session_state["training_tab"] = "Layer health"
    titles = [chart["layout"]["title"]["text"] for chart in charts(rerun(at))]
    assert not [title for title in titles if "digits_cnn" in title], titles
    assert any("No pair of the chosen runs" in info.value for info in at.info)
    at.session_state["training_tab"] = "Curves"
    rerun(at)

    # The user's own pick lasts until the sidebar model changes.
    at.multiselect(key="training_runs").set_value(["weather_lstm/lstm"])
    assert rerun(at).multiselect(key="training_runs").value == ["weather_lstm/lstm"]
    at.selectbox(key="model_choice").select("shapes_cnn (demo)")
    assert rerun(at).multiselect(key="training_runs").value == ["shapes_cnn/adam"]


def test_a_model_without_recorded_runs_says_so(app_argv, app_inputs):
    at = open_training(
        app_argv, "--model", app_inputs["model"], "--logdir", app_inputs["logs"], "--no-demos"
    )
    captions = " ".join(caption.value for caption in at.caption)
    assert "is a recorded run of" in captions and "showing the first runs found" in captions


def test_every_log_format_and_a_diverged_run(app_argv, app_inputs, tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(DEMO_RUNS / "digits_cnn" / "keras_callbacks", logs / "keras")
    write_json_history(logs / "history.json", {"loss": [0.9, 0.6, 0.4], "val_loss": [1, 0.8, 0.7]})
    shutil.copy(app_inputs["logs"] / "diverged.csv", logs / "diverged.csv")
    at = open_training(app_argv, "--logdir", logs, "--no-demos")
    catalog = at.multiselect(key="training_runs").options
    # Keras's TensorBoard callback: the train and validation folders are one run.
    assert set(catalog) == {"keras", "keras/training.csv", "history.json", "diverged.csv"}
    at.multiselect(key="training_runs").set_value(list(catalog))
    spec = figure(rerun(at))
    drawn = names(spec)
    for run in catalog:
        assert run in drawn, run
    assert "diverged.csv · train: NaN/Inf" in drawn
    marks = next(t for t in spec["data"] if t.get("name") == "diverged.csv · train: NaN/Inf")
    assert values(marks["x"]).tolist() == [2]


def test_a_live_run_updates_in_a_fragment(app_argv, tmp_path):
    run = tmp_path / "logs" / "live_adam"
    shutil.copytree(DEMO_RUNS / "digits_cnn" / "adam", run)
    manifest = json.loads((run / "neurogenesis_run.json").read_text())
    manifest["status"] = "running"
    (run / "neurogenesis_run.json").write_text(json.dumps(manifest))
    at = open_training(app_argv, "--logdir", tmp_path / "logs", "--no-demos")
    captions = " ".join(caption.value for caption in at.caption)
    assert "Live: live_adam still training; last point arrived" in captions
    assert figure(at)["data"]


def test_no_logs_explains(app_argv, tmp_path):
    at = open_training(app_argv, "--no-demos")
    assert "No logs selected" in at.info[0].value
    assert not at.get("plotly_chart")


def test_zoomed_range_is_read_again(app_argv):
    at = open_training(app_argv)
    at.session_state["training_range"] = ("step", 2.0, 5.0)
    spec = figure(rerun(at))
    assert spec["layout"]["xaxis"]["range"] == [2.0, 5.0]
    line = next(t for t in spec["data"] if t.get("name") == "digits_cnn/adam")
    assert values(line["x"]).tolist() == [1, 2, 3, 4, 5, 6]  # one neighbour each side
    at.button(key="training_reset_range").click()
    spec = figure(rerun(at))
    assert "range" not in spec["layout"]["xaxis"] or spec["layout"]["xaxis"]["range"] is None


TAB_CHARTS = {
    "Early stopping": ["Early stopping on validation loss"],
    "Optimization": [
        "Learning rate",
        "Optimizers compared: loss",
        "Gradient norms: digits_cnn/adam",
        "Weights per layer: distance from initialization",
        "Do successive updates point the same way?",
        "conv_1/kernel: the 8 weights that moved most",
    ],
    "Layer health": [
        "activations/batch_norm_1: histogram per step",
        "Dead units (zero on at least 99% of the probe)",
        "at epoch 11",
        "BatchNormalization: digits_cnn/adam vs digits_cnn/adam_no_bn",
    ],
    "Dynamics": [
        "Pearson correlation between metrics",
        "Training trajectory: validation loss vs validation accuracy",
        "Convergence of validation loss",
    ],
}


def test_every_tab_draws_its_charts_for_the_demo_runs(app_argv):
    at = open_training(app_argv)
    for tab, expected in TAB_CHARTS.items():
        at.session_state["training_tab"] = tab
        rerun(at)
        titles = [
            figure(at, i)["layout"]["title"]["text"] for i in range(len(at.get("plotly_chart")))
        ]
        assert len(titles) == len(expected), (tab, titles)
        for title, start in zip(titles, expected, strict=True):
            assert start in title, (tab, title)
        assert not at.error, [e.value for e in at.error]


def test_tabs_explain_what_a_plain_csv_log_lacks(app_argv, app_inputs):
    at = open_training(app_argv, "--logdir", app_inputs["logs"], "--no-demos")
    at.session_state["training_tab"] = "Layer health"
    infos = " ".join(info.value for info in rerun(at).info)
    assert "logged histograms" in infos and "activation statistics" in infos
    at.session_state["training_tab"] = "Optimization"
    infos = " ".join(info.value for info in rerun(at).info)
    assert "checkpoints" in infos
    at.session_state["training_tab"] = "Early stopping"
    rerun(at)
    # diverged.csv: the report says where the NaN appeared instead of breaking.
    at.selectbox(key="training_es_run").set_value("diverged.csv")
    rerun(at)
    assert any("diverged" in item.value.lower() for item in at.markdown)


def test_every_demo_run_renders_in_every_tab(app_argv):
    at = open_training(app_argv, "--logdir", DEMO_RUNS, "--no-demos")
    catalog = at.multiselect(key="training_runs").options
    assert len(catalog) >= 9
    at.multiselect(key="training_runs").set_value(list(catalog))
    spec = figure(rerun(at))
    for run in catalog:
        assert run in names(spec), run
    for tab, run_key in (
        ("Early stopping", "training_es_run"),
        ("Optimization", "training_grad_run"),
        ("Dynamics", "training_dyn_run"),
    ):
        at.session_state["training_tab"] = tab
        rerun(at)
        for run in catalog:
            at.selectbox(key=run_key).set_value(run)
            rerun(at)
            assert at.get("plotly_chart"), (tab, run)
            assert not at.error, (tab, run, [e.value for e in at.error])
    at.session_state["training_tab"] = "Layer health"
    rerun(at)
    for run in at.selectbox(key="training_hist_run").options:
        at.selectbox(key="training_hist_run").set_value(run)
        rerun(at)
        assert not at.error, (run, [e.value for e in at.error])


def test_demo_stories_diverge_and_group_by_seed(app_argv):
    import numpy as np

    from neurogenesis.io.logs import find_runs

    at = open_training(app_argv)
    at.multiselect(key="training_runs").set_value(["digits_cnn/diverging", "digits_cnn/overfit"])
    spec = figure(rerun(at))
    (diverging,) = find_runs(DEMO_RUNS / "digits_cnn" / "diverging")
    first_nan = int(np.argmax(~np.isfinite(diverging.scalars["train/loss"].values)))
    marks = next(
        t for t in spec["data"] if t.get("name") == "digits_cnn/diverging · train: NaN/Inf"
    )
    assert values(marks["x"]).tolist() == [first_nan]
    assert not at.error

    seeds = [f"digits_cnn/{recipe}_seed{seed}" for recipe in ("adam", "sgd") for seed in (1, 2, 3)]
    at.multiselect(key="training_runs").set_value(seeds)
    rerun(at)
    at.selectbox(key="training_group_by").set_value("name without seed")
    drawn = names(figure(rerun(at)))
    assert "digits_cnn/adam · train (min to max)" in drawn
    assert "digits_cnn/sgd · train (min to max)" in drawn
    assert not at.error

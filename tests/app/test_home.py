"""The app shell and the home page under Streamlit's AppTest."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def test_home_shows_the_model_card_and_runs(app_inputs, app_argv):
    app_argv("--model", app_inputs["model"], "--logdir", app_inputs["logs"], "--no-demos")
    at = run_app()
    assert at.title[0].value == "NeuroGenesis"
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Parameters"] == f"{app_inputs['num_params']:,}"
    assert metrics["Layers"] == "2"
    assert any("tiny_dense" in markdown.value for markdown in at.markdown)
    table = at.dataframe[0].value
    assert sorted(table["run"]) == ["cut.csv", "diverged.csv", "good.csv"]
    diverged = table[table["run"] == "diverged.csv"].iloc[0]
    # Each metric once, training / validation side by side: short enough for its cell.
    assert diverged["last values (train / validation)"] == "loss nan (diverged) / 0.9"
    good = table[table["run"] == "good.csv"].iloc[0]
    assert good["last values (train / validation)"] == "loss 0.2 · accuracy 0.9"
    assert diverged["points"] == "3" and diverged["last step"] == "2"
    assert "source" not in table  # one source: its name adds nothing
    assert table[table["run"] == "cut.csv"].iloc[0]["problems"] == "1"
    assert any("problem(s) in" in expander.label for expander in at.expander)


def test_home_lists_what_a_tf_keras_file_needed_translated(app_argv):
    app_argv("--model", ROOT / "tests" / "data" / "legacy" / "layers.h5", "--no-demos")
    at = run_app()
    assert any(
        caption.value == "Translated from tf.keras 2.x to load in Keras 3 (8):"
        for caption in at.caption
    )
    shown = "\n".join(text.value for text in at.text)
    assert "DepthwiseConv2D 'depthwise': dropped groups=1, which Keras 3 does not take" in shown
    assert "LSTM 'lstm': dropped time_major=False, which Keras 3 does not take" in shown


def test_sidebar_selection_is_shared_through_session_state(app_inputs, app_argv, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "history.json").write_text('{"loss": [3.0, 2.0]}')
    app_argv(
        "--model",
        app_inputs["model"],
        "--logdir",
        app_inputs["logs"],
        "--logdir",
        other,
        "--no-demos",
    )
    at = run_app()
    assert at.session_state["model"].path == str(app_inputs["model"])
    assert [source.path for source in at.session_state["logs"]] == [
        str(app_inputs["logs"]),
        str(other),
    ]
    assert len(at.dataframe[0].value) == 4
    at.multiselect(key="logs_choice").unselect("logs (local)").run()
    assert not at.exception
    assert [source.path for source in at.session_state["logs"]] == [str(other)]
    assert at.dataframe[0].value["run"].tolist() == ["history.json"]


def test_missing_paths_are_warned_about_not_fatal(app_argv, tmp_path):
    app_argv("--logdir", tmp_path / "nope", "--no-demos")
    at = run_app()
    assert any("no such file or folder" in warning.value for warning in at.sidebar.warning)
    assert any("No model selected" in info.value for info in at.info)


def test_home_with_the_bundled_demos_renders(app_argv):
    app_argv()
    at = run_app()
    assert (
        at.session_state["model"].label == at.session_state["samples"].label
    )  # each demo with its samples
    models = at.selectbox(key="model_choice").options
    assert "shapes_cnn (demo)" in models and "sentiment_transformer (demo)" in models
    at.selectbox(key="model_choice").select("shapes_cnn (demo)").run()
    assert not at.exception
    assert at.session_state["samples"].label == "shapes_cnn"
    assert {source.label for source in at.session_state["logs"]} == {"demo runs", "demo sweeps"}
    runs = at.dataframe[0].value["run"].tolist()
    assert "digits_cnn/adam" in runs and "weather_lstm/lstm_attention" in runs


def test_the_sidebar_models_runs_come_first(app_argv):
    app_argv()
    at = run_app()
    at.selectbox(key="model_choice").select("weather_lstm (demo)").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["run"].tolist()[:2] == ["weather_lstm/lstm_attention", "weather_lstm/lstm"]
    assert table["model"].tolist()[:2] == ["weather_lstm"] * 2
    assert set(table["model"].tolist()[2:]) == {""}
    assert any("weather_lstm, the sidebar's model" in c.value for c in at.caption)
    # Thousands separators where numbers get long (the sweeps' points count steps).
    assert all("," in value or len(value) <= 3 for value in table["points"])


def test_broken_model_shows_an_error_not_a_traceback(app_argv, tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 cut short")
    app_argv("--model", broken, "--no-demos")
    at = run_app()
    assert any("truncated or damaged" in error.value for error in at.error)


def test_home_page_renders_without_importing_tensorflow(app_inputs):
    script = textwrap.dedent(
        f"""
        import sys
        sys.argv = ["app.py", "--model", {str(app_inputs["model"])!r}, "--logdir", {str(app_inputs["logs"])!r}, "--no-demos"]
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({APP!r}, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        assert at.metric, "no model card"
        leaked = sorted(name for name in ("tensorflow", "keras") if name in sys.modules)
        print("LEAKED", leaked)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "LEAKED []" in result.stdout


def test_live_training_from_the_home_page(app_argv, tmp_path, monkeypatch):
    from neurogenesis import live
    from tests.test_live import FAKE_TRAINER, fake_interpreter

    monkeypatch.setattr(live, "TRAINER_PYTHON", fake_interpreter(tmp_path, "python", FAKE_TRAINER))
    monkeypatch.setattr(live, "LIVE_DIR", tmp_path / "live")
    monkeypatch.setattr(live, "_PROCESSES", {})
    app_argv("--no-demos")
    at = run_app()
    at.number_input[0].set_value(3)
    at.button[0].click().run()
    assert not at.exception
    (run,) = at.session_state["live_runs"]
    assert run.epochs == 3 and run.run_dir.startswith(str(tmp_path / "live"))
    # The live run joins the sidebar's training logs, selected.
    assert [source.path for source in at.session_state["logs"]] == [run.run_dir]
    assert any(run.source().label in markdown.value for markdown in at.markdown)


def test_a_live_run_without_its_log_yet_is_starting_not_an_error(app_argv, tmp_path, monkeypatch):
    from neurogenesis import live
    from tests.test_live import FAKE_TRAINER, fake_interpreter

    monkeypatch.setattr(live, "TRAINER_PYTHON", fake_interpreter(tmp_path, "python", FAKE_TRAINER))
    monkeypatch.setattr(live, "LIVE_DIR", tmp_path / "live")
    monkeypatch.setattr(live, "_PROCESSES", {})
    app_argv("--no-demos")
    at = run_app()
    # Changing the epochs (what Enter in the box does) starts nothing: only the button does.
    at.number_input(key="live_epochs").set_value(150).run()
    assert "live_runs" not in at.session_state or not at.session_state["live_runs"]
    at.button(key="live_start").click().run()
    (run,) = at.session_state["live_runs"]
    try:
        # The stand-in trainer records a manifest but never a log: the run is starting.
        assert live.training_status(run) in ("starting", "running")
        assert not at.error, [error.value for error in at.error]
        captions = " ".join(caption.value for caption in at.caption)
        assert f"{run.source().label}: starting; its log has not been written yet." in captions
        # The training page says the same.
        at.switch_page("app_pages/training.py").run()
        assert not at.exception and not at.error, [error.value for error in at.error]
    finally:
        live.stop_training(run, grace_seconds=1)

"""Code beyond Keras in the app: only the server's command line trusts it (``--trust``), the
sidebar says when the chosen model runs it, and a --trust that cannot be imported is shown."""

from __future__ import annotations

import sys

from streamlit.testing.v1 import AppTest

from neurogenesis.io import models
from tests.conftest import ROOT

LAYERS = """
import keras


@keras.saving.register_keras_serializable(package="apptestlayers")
class Shift(keras.layers.Layer):
    def call(self, inputs):
        return inputs + 1.0
"""


def _app(app_argv, *arguments) -> AppTest:
    app_argv(*arguments)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def test_sidebar_says_the_model_runs_code_trusted_by_the_command_line(
    app_argv, tmp_path, monkeypatch
):
    import keras

    monkeypatch.setattr(models, "_TRUSTED", {})
    (tmp_path / "apptest_layers.py").write_text(LAYERS)
    shift = sys.modules[models.trust(tmp_path / "apptest_layers.py")].Shift
    keras.Sequential([keras.Input((3,)), shift(name="shift")]).save(tmp_path / "shifted.keras")
    monkeypatch.setattr(models, "_TRUSTED", {})  # the server trusts it from its command line

    at = _app(
        app_argv,
        "--model",
        tmp_path / "shifted.keras",
        "--trust",
        tmp_path / "apptest_layers.py",
        "--no-demos",
    )
    assert not at.error
    captions = [caption.value for caption in at.sidebar.caption]
    assert "Runs code from apptest_layers.py, trusted by whoever started this server." in captions


def test_a_trust_that_cannot_be_imported_is_shown(app_argv, tmp_path, monkeypatch):
    monkeypatch.setattr(models, "_TRUSTED", {})
    at = _app(app_argv, "--trust", tmp_path / "missing.py", "--no-demos")
    assert any("Expected an existing .py file to trust" in error.value for error in at.error)


def test_unsafe_allow_lambda_warns_on_every_page_and_loads_lambda_models(
    app_argv, tmp_path, monkeypatch
):
    import keras

    monkeypatch.setattr(models, "_LAMBDA_ALLOWED", False)
    keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t + 1.0)]).save(
        tmp_path / "plus_one.keras"
    )
    at = _app(
        app_argv, "--model", tmp_path / "plus_one.keras", "--no-demos", "--unsafe-allow-lambda"
    )
    assert models.lambda_layers_allowed()
    assert [warning.value for warning in at.main.warning][:1] == [
        "Started with --unsafe-allow-lambda: Lambda layers in model files, uploads included, run "
        "the Python code stored in them. Open only files you trust."
    ]
    assert (
        "Runs code from the file's own Lambda layers, trusted by whoever started this server."
        in [caption.value for caption in at.sidebar.caption]
    )
    at.switch_page("app_pages/architecture.py").run()
    assert not at.exception
    assert at.main.warning[0].value.startswith("Started with --unsafe-allow-lambda")

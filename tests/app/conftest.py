"""AppTest fixtures: a small model and logs on disk, and app arguments passed like `streamlit run app.py -- ...`."""

from __future__ import annotations

import sys

import pytest

from neurogenesis.testing import tiny_dense_model, write_csv_log


@pytest.fixture(scope="session")
def app_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app-inputs")
    model = tiny_dense_model()
    model.save(folder / "tiny.keras")
    logs = folder / "logs"
    logs.mkdir()
    write_csv_log(
        logs / "diverged.csv", {"loss": [1.0, 0.5, float("nan")], "val_loss": [1.2, 0.7, 0.9]}
    )
    write_csv_log(logs / "good.csv", {"loss": [1.0, 0.4, 0.2], "accuracy": [0.3, 0.7, 0.9]})
    (logs / "cut.csv").write_text("epoch,loss,accuracy\n0,1.0,0.5\n1,0.5,0.7\n2,0.4")
    return {"model": folder / "tiny.keras", "logs": logs, "num_params": model.count_params()}


@pytest.fixture
def app_argv(monkeypatch):
    def set_arguments(*arguments):
        monkeypatch.setattr(sys, "argv", ["app.py", *[str(argument) for argument in arguments]])

    return set_arguments


@pytest.fixture(scope="session")
def multi_input_cases(tmp_path_factory):
    """Models of several inputs saved with their sample sets (.npz named by input):
    ``{"two_input": (model, samples), "bert": ..., "bert_classifier": ...}`` (the KerasHub ones
    only where keras-hub is installed). Open one with ``app_argv("--model", m, "--samples", s)``
    (see test_big_models.py for the arguments the app takes)."""
    from neurogenesis.testing import write_multi_input_cases

    return write_multi_input_cases(tmp_path_factory.mktemp("multi-input"))

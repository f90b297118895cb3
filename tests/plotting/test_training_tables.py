"""The training page's tables (plotting.training.*_table): the values the page showed before."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from neurogenesis.analysis import layer_health as lh
from neurogenesis.plotting import training as pt


def _stats(frac_zero):
    frac_zero = np.asarray(frac_zero, dtype=np.float32)
    return {
        "mean": np.zeros_like(frac_zero),
        "std": np.ones_like(frac_zero),
        "frac_zero": frac_zero,
        "frac_saturated": np.zeros_like(frac_zero),
    }


def test_readable_table_writes_numbers_as_the_page_does():
    frame = pd.DataFrame(
        {"a": [None, np.nan, 3, 12345.678], "b": [True, 0.000123456, 1234.5, "text"]}, dtype=object
    )
    shown = pt.readable_table(frame)
    assert shown["a"].tolist() == ["—", "—", "3", "12,346"]
    assert shown["b"].tolist() == ["True", "0.0001235", "1,234.5", "text"]


def test_early_stopping_tables():
    report = SimpleNamespace(
        epochs=np.array([1, 2, 3]),
        train_values=np.array([0.9, 0.5, 0.4]),
        validation_values=None,
        monitored="val_loss",
        best_value=0.4,
        best_epoch=3,
        early_stopping=SimpleNamespace(stopped_epoch=None),
        epochs_saved=0,
        overfitting_onset=None,
        divergence_epoch=2,
    )
    table = pt.early_stopping_table(report)
    assert list(table.columns) == ["epoch", "train"]
    assert table["train"].tolist() == [0.9, 0.5, 0.4]
    runs = pt.early_stopping_runs_table({"adam": report, "sgd": report}, "loss", 5)
    assert list(runs.columns) == [
        "run",
        "monitored",
        "best loss",
        "best epoch",
        "stops after (patience 5)",
        "epochs saved",
        "overfitting from",
        "diverged at",
    ]
    assert runs["run"].tolist() == ["adam", "sgd"]
    assert runs.iloc[0]["diverged at"] == 2 and runs.iloc[0]["best loss"] == 0.4


def test_correlation_convergence_and_optimizer_tables():
    info = SimpleNamespace(names=("a", "b"), matrix=np.array([[1.0, -0.5], [-0.5, 1.0]]))
    table = pt.correlations_table(info)
    assert table.loc["a", "b"] == -0.5 and list(table.index) == ["a", "b"]
    fit = SimpleNamespace(
        epochs=np.array([0, 1]), values=np.array([2.0, 1.0]), fitted_values=np.array([1.9, 1.1])
    )
    table = pt.convergence_table(fit, "validation loss")
    assert table.to_dict("list") == {
        "epoch": [0, 1],
        "validation loss": [2.0, 1.0],
        "fitted": [1.9, 1.1],
    }
    comparison = SimpleNamespace(summary_rows=lambda: [{"run": "adam", "best loss": 0.1}])
    assert pt.optimizer_comparison_table(comparison).to_dict("list") == {
        "run": ["adam"],
        "best loss": [0.1],
    }


def test_dead_units_tables_and_the_layer_shown_first():
    info = lh.dead_unit_info(
        [(0, {"dense": _stats([1.0, 1.0, 0.0, 0.0]), "pool": _stats([1.0, 1.0, 1.0])})]
    )
    frame = pt.dead_units_table(info)
    assert frame.to_dict("records") == lh.dead_unit_rows(info)
    shown = pt.dead_units_text_table(info)
    assert shown.index.name == "layer" and list(shown.index) == list(info.layers)
    assert "utilization (share not zero)" in shown.columns
    assert shown.loc["dense", "share dead"] == "50%"
    assert shown.loc["dense", "utilization (share not zero)"] == "50%"
    # pool has more dead units, but passes dense's zeros on: dense is shown first.
    assert pt.most_dead_layer(info) == list(info.layers).index("dense")

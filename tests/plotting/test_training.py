"""The curves figure: styles per role, divergence marked, nothing silently dropped."""

from __future__ import annotations

import numpy as np

from neurogenesis.analysis.training import Curve, CurvesInfo
from neurogenesis.plotting.training import plot_curves


def _curve(run, role, values):
    values = np.asarray(values, dtype=float)
    return Curve(run, role, "loss", np.arange(values.size), values, np.full(values.size, np.nan))


def test_train_solid_validation_dashed_same_colour():
    info = CurvesInfo(
        "loss", (_curve("a", "train", [1, 0.5]), _curve("a", "validation", [1.1, 0.7])), None
    )
    figure = plot_curves(info)
    train, validation = figure.data
    assert train.line.dash == "solid" and validation.line.dash == "dash"
    assert train.line.color == validation.line.color
    assert list(train.y) == [1, 0.5]
    assert figure.layout.xaxis.title.text == "epoch" and figure.layout.yaxis.title.text == "loss"


def test_divergence_is_marked_where_it_happened():
    info = CurvesInfo("loss", (_curve("a", "train", [1.0, 0.5, np.inf, np.nan]),), None)
    figure = plot_curves(info)
    line, marker = figure.data
    assert np.isnan(line.y[2]) and np.isnan(line.y[3])
    assert list(marker.x) == [2] and marker.marker.symbol == "x"
    assert "step 2" in marker.name


def test_runs_get_distinct_colours():
    info = CurvesInfo("loss", (_curve("a", "train", [1, 0.5]), _curve("b", "train", [2, 1])), None)
    first, second = plot_curves(info).data
    assert first.line.color != second.line.color
    assert first.name == "a · train"

"""The sweep figure: parameters and compute against a knob, and the recorded metric."""

from __future__ import annotations

import pytest

from neurogenesis.analysis.sweeps import SweepInfo
from neurogenesis.plotting.sweeps import plot_sweep, sweep_table


def _sweep(**extra):
    return SweepInfo(
        name="digits_cnn",
        parameter="width",
        multipliers=(4, 8, 16, 32),
        num_params=(1_500, 3_890, 10_074, 30_000),
        macs=(50_000, 120_000, 309_248, 900_000),
        weight_bytes=(6_000, 15_560, 40_296, 120_000),
        activation_bytes=(1, 2, 3, 4),
        num_layers=(3, 3, 3, 3),
        **extra,
    )


def test_sizes_on_log_axes_with_hover_values():
    figure = plot_sweep(_sweep())
    params, macs = figure.data
    assert list(params.y) == [1_500, 3_890, 10_074, 30_000] and list(params.x) == [4, 8, 16, 32]
    assert list(macs.customdata) == [
        "50 k MACs per sample (50,000)",
        "120 k MACs per sample (120,000)",
        "309 k MACs per sample (309,248)",
        "900 k MACs per sample (900,000)",
    ]
    assert params.customdata[2] == "10.1 k parameters (10,074)"
    assert figure.layout.yaxis.type == "log" and figure.layout.xaxis.type == "log"  # 4 to 32: x8
    # Every axis titled; the legend above the plot, clear of the x axis's title below it.
    assert figure.layout.yaxis.title.text == "parameters"
    assert figure.layout.yaxis2.title.text == "MACs per sample"
    assert figure.layout.xaxis.title.text == "width"
    assert figure.layout.legend.y >= 1 and figure.layout.legend.yanchor == "bottom"


def test_metric_panel_when_the_sweep_recorded_one():
    figure = plot_sweep(
        _sweep(
            metric="val_accuracy",
            goal="max",
            metric_values=(0.81, 0.92, None, 0.97),
            best_learning_rates=(0.003, 0.003, None, 0.001),
        )
    )
    metric = figure.data[2]
    assert list(metric.y) == [0.81, 0.92, None, 0.97]
    assert metric.customdata[0] == " (learning rate 0.003)" and metric.customdata[2] == ""
    assert "higher is better" in figure.layout.yaxis3.title.text
    assert "best val_accuracy by width" in figure.layout.title.text


def test_table_holds_the_numbers_behind_the_chart():
    table = sweep_table(_sweep())
    assert list(table.columns) == [
        "width",
        "parameters",
        "MACs per sample",
        "weight bytes",
        "activation bytes per sample",
        "layers with weights",
    ]
    assert table["width"].tolist() == [4, 8, 16, 32]
    assert table["parameters"].tolist() == [1_500, 3_890, 10_074, 30_000]
    assert table["MACs per sample"].tolist()[2] == 309_248
    recorded = sweep_table(
        _sweep(
            metric="val_accuracy",
            goal="max",
            metric_values=(0.81, 0.92, None, 0.97),
            best_learning_rates=(0.003, 0.003, None, 0.001),
        )
    )
    assert recorded["best val_accuracy"].tolist()[:2] == [0.81, 0.92]
    assert recorded["learning rate"].tolist()[3] == 0.001
    with pytest.raises(TypeError, match="SweepInfo"):
        sweep_table({"name": "digits_cnn"})

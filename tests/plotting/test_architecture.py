"""Per-layer cost bars: the numbers drawn are the info's numbers."""

from __future__ import annotations

import pytest

from neurogenesis.analysis.architecture import ArchitectureInfo, LayerInfo
from neurogenesis.plotting.architecture import plot_layer_costs


def _info():
    layers = (
        LayerInfo("image", "InputLayer", (None, 4), 0, 0, 0, 16, 0, None),
        LayerInfo("hidden", "Dense", (None, 8), 40, 40, 32, 32, 160, "relu"),
        LayerInfo("out", "Dense", (None, 2), 18, 18, 16, 8, 72, "softmax"),
    )
    return ArchitectureInfo("m", "Functional", ((None, 4),), ((None, 2),), 58, 58, 48, layers)


def test_bars_show_each_layer_and_its_share():
    figure = plot_layer_costs(_info(), "macs")
    (bars,) = figure.data
    assert list(bars.x) == [32, 16]
    assert list(bars.y) == ["hidden (Dense)", "out (Dense)"]  # zero-cost input layer left out
    assert list(bars.text) == ["66.7%", "33.3%"]
    assert figure.layout.xaxis.title.text == "multiply-accumulates per sample"


def test_every_layer_when_asked_and_unknown_costs_refused():
    assert len(plot_layer_costs(_info(), "activation_bytes", skip_zero=False).data[0].x) == 3
    with pytest.raises(ValueError, match="Expected a cost"):
        plot_layer_costs(_info(), "flops")

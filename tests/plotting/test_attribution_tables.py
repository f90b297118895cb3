"""The attribution views' tables (plotting.attribution *_table): the values they showed before."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from neurogenesis.plotting import attribution as pa


def test_sanity_pointing_and_token_tables():
    sanity = SimpleNamespace(
        layers=("dense", "conv"), rank_correlation=np.array([[0.9, 0.7, 0.8], [0.1, 0.3, 0.2]])
    )
    assert pa.sanity_check_table(sanity).to_dict("list") == {
        "layers randomized": ["original", "dense", "conv"],
        "median rank correlation": [1.0, 0.8, 0.2],
    }
    assert pa.pointing_game_table({"Gradient": 0.5, "Grad-CAM": 0.75}).to_dict("list") == {
        "method": ["Gradient", "Grad-CAM"],
        "pointing game score": [0.5, 0.75],
    }
    info = SimpleNamespace(scores=np.array([[0.5, -0.25, 0.0]]))
    assert pa.token_attribution_table(info, ["good", "film"]).to_dict("list") == {
        "position": [0, 1, 2],
        "token": ["good", "film", ""],
        "attribution": [0.5, -0.25, 0.0],
    }


def test_attribution_table_one_row_per_position_and_method():
    info = SimpleNamespace(
        method="gradient",
        input_kind="series",
        maps=np.zeros((1, 3, 2)),
        attributions=np.arange(6.0).reshape(1, 3, 2),
        signed=True,
    )
    values, signed = pa.attribution_values(info, 0)
    table = pa.attribution_table({"gradient": info})
    assert list(table.columns) == ["method", "time step", "feature", "kind", "attribution"]
    assert len(table) == values.size
    assert table["attribution"].tolist() == values.ravel().tolist()
    assert set(table["kind"]) == {pa.SIGNED_TITLE if signed else pa.MAGNITUDE_TITLE}
    assert table.iloc[3][["time step", "feature"]].tolist() == [1, 1]

"""The attention page's tables (plotting.attention *_table): the values the page showed before."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from neurogenesis.plotting import attention as pa


def test_weights_table_one_row_per_head_query_and_key():
    values = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    table = pa.attention_weights_table(values, ["a", "b"], ["x", "y", "z"], layer="mha")
    assert list(table.columns) == [
        "layer",
        "head",
        "query position",
        "query",
        "key position",
        "key",
        "weight",
    ]
    assert len(table) == 12 and set(table["layer"]) == {"mha"}
    row = table.iloc[7]  # head 1, query 0, key 1
    assert (row["head"], row["query"], row["key"], row["weight"]) == (1, "a", "y", 7.0)
    both = pa.attention_layers_table({"one": values, "two": values[:, :1]}, ["a", "b"], list("xyz"))
    assert both["layer"].tolist() == ["one"] * 12 + ["two"] * 6
    one = pa.attention_head_table(values[1], ["a", "b"], list("xyz"), layer="mha")
    assert "head" not in one.columns and one["weight"].tolist() == values[1].ravel().tolist()
    chosen = pa.chosen_heads_table(values, ["a", "b"], list("xyz"), [1], layer="mha")
    assert set(chosen["head"]) == {1} and len(chosen) == 6
    assert len(pa.chosen_heads_table(values, ["a", "b"], list("xyz"), [])) == 12


def test_rollout_tables_and_shares():
    matrix = np.array([[0.5, 0.5], [0.0, 1.0]])
    assert pa.rollout_table(matrix, ["a", "b"]).loc["b", "b"] == 1.0
    assert pa.rollout_shares(matrix).tolist() == [0.25, 0.75]
    assert pa.rollout_output_table(matrix, ["a", "b"]).to_dict("list") == {
        "token": ["a", "b"],
        "share": [0.25, 0.75],
    }
    assert pa.rollout_shares(np.zeros((2, 2))).tolist() == [0.0, 0.0]


def test_head_statistics_importance_and_entropy_tables():
    stats = [
        SimpleNamespace(
            layer="mha",
            entropy=np.array([1.0, 2.0]),
            max_entropy=2.0,
            distance=np.array([0.5, 3.0]),
            first_token=np.array([0.1, 0.9]),
            max_attention=np.array([0.6, 0.95]),
        )
    ]
    table = pa.head_statistics_table(stats)
    assert table.to_dict("list") == {
        "layer": ["mha", "mha"],
        "head": [0, 1],
        "entropy / uniform": [0.5, 1.0],
        "mean distance": [0.5, 3.0],
        "to the first token": [0.1, 0.9],
        "peak weight": [0.6, 0.95],
    }
    importance = SimpleNamespace(ranking=lambda: [("mha", 1, 0.2), ("mha", 0, -0.01)])
    assert pa.head_importance_table(importance).to_dict("list") == {
        "layer": ["mha", "mha"],
        "head": [1, 0],
        "mean drop when removed": [0.2, -0.01],
    }
    evolution = SimpleNamespace(
        layers=("a", "b"), epochs=np.array([0, 1]), entropy=np.arange(8.0).reshape(2, 2, 2)
    )
    assert pa.entropy_labels(evolution) == ["a head 0", "a head 1", "b head 0", "b head 1"]
    entropy = pa.attention_entropy_table(evolution)
    assert entropy.index.name == "epoch" and entropy.loc[1, "b head 1"] == pytest.approx(7.0)

"""neurogenesis.analysis.hyperparameters: surfaces, importance, slices and parallel coordinates.

A grid surface is checked against sweep.json itself, a GP surface against the smooth function
its trials were drawn from, and importance against variance shares worked out by hand for an
additive function on a full grid.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from neurogenesis.analysis.hyperparameters import (
    axis_ticks,
    default_axes,
    importance_info,
    parallel_info,
    slice_info,
    surface_info,
    surface_problem,
)
from neurogenesis.errors import InputError
from neurogenesis.io.trials import read_trials, trials_from_records

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "data" / "sweeps" / "digits_cnn"


@pytest.fixture(scope="module")
def sweep():
    return read_trials(SWEEP), json.loads((SWEEP / "sweep.json").read_text())


def test_grid_surface_is_sweep_json_exactly(sweep):
    trials, summary = sweep
    info = surface_info(trials, "learning_rate", "width", "val_accuracy")
    assert info.method == "grid" and info.z_std is None
    np.testing.assert_array_equal(info.x_values, [0.0003, 0.001, 0.003])
    np.testing.assert_array_equal(info.y_values, [4, 8, 16, 32])
    assert info.x_log and info.y_log  # geometric sweeps: even steps in log
    for point in summary["points"]:
        i = list(info.x_values).index(point["params"]["learning_rate"])
        j = list(info.y_values).index(point["params"]["width"])
        assert info.z[j, i] == point["final"]["val_accuracy"]
    np.testing.assert_array_equal(info.counts, np.ones((4, 3), int))
    best = max(summary["points"], key=lambda p: p["final"]["val_accuracy"])
    assert info.best_name == best["run"]
    assert info.best_value == best["final"]["val_accuracy"]
    assert info.best_params == best["params"]
    # Best region by hand: within 5 % of the range of the best node.
    z = info.z
    tolerance = 0.05 * (z.max() - z.min())
    np.testing.assert_array_equal(info.region, z >= z.max() - tolerance)
    assert info.region[list(info.y_values).index(8), 2]
    assert len(info.points_z) == 12 and len(info.other_names) == 0
    assert pickle.loads(pickle.dumps(info)) == info
    assert default_axes(trials) == ("learning_rate", "width")


def test_grid_with_a_third_parameter_aggregates_best_or_mean():
    records = [
        {"a": a, "b": b, "c": c, "score": a + 10 * b + c}
        for a in (1.0, 2.0, 3.0)
        for b in (1.0, 2.0, 3.0)
        for c in (0.0, 0.5)
    ]
    trials = trials_from_records(records, parameters=["a", "b", "c"])
    best = surface_info(trials, "a", "b", "score")
    mean = surface_info(trials, "a", "b", "score", aggregate="mean")
    a, b = np.meshgrid([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(best.z, a + 10 * b + 0.5)
    np.testing.assert_array_equal(mean.z, a + 10 * b + 0.25)
    assert (best.counts == 2).all()
    loss = trials_from_records(
        [{**r, "val_loss": r["score"]} for r in records], parameters=["a", "b", "c"]
    )
    np.testing.assert_array_equal(surface_info(loss, "a", "b", "val_loss").z, a + 10 * b)


def _smooth(x, y):
    return np.sin(3 * x) + np.cos(2 * y)


def test_gp_surface_passes_near_trials_and_is_unsure_far_from_them():
    # Trials on nodes of an 11 x 11 grid over [0, 1]^2, all in the left half except the corners
    # that fix the grid's extent: the right half is far from the data.
    nodes = np.linspace(0, 1, 11)
    rng = np.random.default_rng(0)
    cells = {(0, 0), (10, 10), (0, 10), (10, 0)}
    while len(cells) < 30:
        cells.add((int(rng.integers(0, 5)), int(rng.integers(0, 11))))
    cells = sorted(cells)
    noise = rng.normal(0, 0.01, len(cells))
    records = [
        {"x": nodes[i], "y": nodes[j], "score": _smooth(nodes[i], nodes[j]) + e}
        for (i, j), e in zip(cells, noise, strict=True)
    ]
    trials = trials_from_records(records, parameters=["x", "y"])
    info = surface_info(trials, "x", "y", "score", resolution=11)
    assert info.method == "gp" and info.kernel and "Matern" in info.kernel
    np.testing.assert_allclose(info.x_values, nodes)
    at_trials = np.array([info.z[j, i] for i, j in cells])
    observed = np.array([r["score"] for r in records])
    assert np.max(np.abs(at_trials - observed)) < 0.1
    truth = _smooth(*np.meshgrid(nodes, nodes))
    assert np.max(np.abs(info.z[:, :5] - truth[:, :5])) < 0.15  # where the trials are
    std_at_trials = np.array([info.z_std[j, i] for i, j in cells])
    far = info.z_std[3:8, 7:10]  # the empty right half, away from the corner trials
    assert std_at_trials.max() < far.min()
    assert far.mean() > 3 * std_at_trials.mean()
    with pytest.raises(InputError, match="method='gp'"):
        surface_info(trials, "x", "y", "score", method="grid")


def test_gp_route_for_irregular_trials_with_log_and_categorical_axes():
    rng = np.random.default_rng(1)
    records = []
    for k in range(24):
        lr = 10 ** rng.uniform(-5, -1)
        opt = ["adam", "sgd", "rmsprop"][k % 3]
        records.append(
            {"lr": lr, "opt": opt, "val_accuracy": 1 - (np.log10(lr) + 3) ** 2 / 10, "run": k}
        )
    records.append({"lr": 1e-3, "opt": "sgd", "val_accuracy": None, "run": "dead"})
    trials = trials_from_records(records, parameters=["lr", "opt"])
    info = surface_info(trials, "lr", "opt", resolution=20)
    assert info.method == "gp" and info.x_log and not info.y_log
    assert info.y_categories == ("adam", "sgd", "rmsprop")
    np.testing.assert_array_equal(info.y_values, [0, 1, 2])  # one node per category
    assert info.z.shape == (3, 20)
    np.testing.assert_allclose(
        np.diff(np.log10(info.x_values)), np.diff(np.log10(info.x_values))[0]
    )
    assert list(info.other_names) == ["dead"] and list(info.other_states) == ["no value"]
    # The fitted optimum lies near lr = 1e-3, where the function peaks.
    j, i = np.unravel_index(np.argmax(info.z), info.z.shape)
    assert abs(np.log10(info.x_values[i]) + 3) < 0.5
    assert info.region[j, i]


def test_surface_refuses_what_it_cannot_draw(sweep):
    trials, _ = sweep
    with pytest.raises(InputError, match="learning_rate"):
        surface_info(trials, "lr", "width")
    with pytest.raises(InputError, match="val_accuracy"):
        surface_info(trials, "learning_rate", "width", "acc")
    with pytest.raises(InputError, match="method"):
        surface_info(trials, "learning_rate", "width", method="spline")
    assert "different" in surface_problem(trials, "width", "width")
    few = trials_from_records(
        [{"a": a, "b": b, "score": a * b} for a in (1, 2) for b in (1, 2, 3)],
        parameters=["a", "b"],
    )
    with pytest.raises(InputError, match="at least 3 distinct values of 'a'"):
        surface_info(few, "a", "b")
    tiny = trials_from_records(
        [{"a": a, "b": a, "score": a} for a in (1, 2, 3)], parameters=["a", "b"]
    )
    with pytest.raises(InputError, match="at least 4 completed trials"):
        surface_info(tiny, "a", "b")


def test_importance_recovers_variance_shares_of_an_additive_function():
    levels = [0.0, 1.0, 2.0, 3.0, 4.0]
    records = [
        {"a": a, "b": b, "c": c, "score": 3 * a + 1 * b + 0 * c}
        for a in levels
        for b in levels
        for c in levels
    ]
    trials = trials_from_records(records, parameters=["a", "b", "c"])
    info = importance_info(trials, "score", n_estimators=100)
    # Var(3a) : Var(b) : Var(0c) = 9 : 1 : 0 over a full grid.
    np.testing.assert_allclose(info.importance, [0.9, 0.1, 0.0], atol=0.04)
    assert info.interaction < 0.05
    assert list(info.order) == [0, 1, 2]
    assert info.permutation_mean[0] > info.permutation_mean[1] > info.permutation_mean[2]
    # The marginal of a is 3a plus a constant.
    slope = np.polyfit(info.marginal_values[0], info.marginal_means[0], 1)[0]
    assert slope == pytest.approx(3.0, rel=0.1)
    assert info.oob_r2 is not None and info.oob_r2 > 0.9
    assert importance_info(trials, "score", n_estimators=100) == info  # deterministic
    with pytest.raises(InputError, match="at least 5"):
        importance_info(trials_from_records(records[:3], parameters=["a", "b", "c"]))


def test_slices_and_parallel_coordinates_tables():
    records = [
        {"lr": lr, "act": act, "val_loss": lr * 100 + (act == "tanh")}
        for lr in (1e-4, 1e-3, 1e-2)
        for act in ("relu", "tanh")
    ]
    records.append({"lr": 1e-3, "act": "relu", "val_loss": None})
    trials = trials_from_records(records, parameters=["lr", "act"])
    slices = slice_info(trials)
    assert [p.parameter for p in slices.panels] == ["lr", "act"]
    lr_panel, act_panel = slices.panels
    assert lr_panel.log and act_panel.categories == ("relu", "tanh")
    np.testing.assert_allclose(lr_panel.x, [1e-4, 1e-4, 1e-3, 1e-3, 1e-2, 1e-2])
    np.testing.assert_array_equal(act_panel.x, [0, 1, 0, 1, 0, 1])
    assert slices.best_index == 0 and slices.best_value == pytest.approx(0.01)  # minimised
    table = parallel_info(trials)
    assert [a.name for a in table.axes] == ["lr", "act", "val_loss"]
    lr_axis = table.axes[0]
    np.testing.assert_allclose(lr_axis.values, np.log10([1e-4, 1e-4, 1e-3, 1e-3, 1e-2, 1e-2]))
    assert lr_axis.ticktext == ("0.0001", "0.001", "0.01")
    assert table.axes[1].ticktext == ("relu", "tanh")
    np.testing.assert_allclose(table.color, [r["val_loss"] for r in records[:6]])
    assert table.best_row == 0 and len(table.names) == 6


def test_axis_ticks_are_readable():
    assert axis_ticks(-4, -1, log=True)[1] == ("0.0001", "0.001", "0.01", "0.1")
    vals, text = axis_ticks(np.log10(3e-4), np.log10(3e-3), log=True)
    assert text == ("0.0005", "0.001", "0.002")
    np.testing.assert_allclose(10 ** np.array(vals), [5e-4, 1e-3, 2e-3])
    assert axis_ticks(0, 1, log=False) is None
    assert axis_ticks(0, 2, log=False, categories=("a", "b", "c"))[1] == ("a", "b", "c")


def test_log_axes_follow_how_values_are_spread():
    rng = np.random.default_rng(2)
    records = [
        {
            "lr": 10 ** rng.uniform(-4, -2),  # log-uniform, two decades
            "dropout": rng.uniform(0.005, 0.5),  # uniform, also a factor of ~100
            "units": [4, 8, 12, 16][k % 4],  # a factor of 4: linear
            "decay": 10.0 ** -(k % 5) if k % 5 else 1e-5,  # five decades: always log
            "score": float(k),
        }
        for k in range(40)
    ]
    trials = trials_from_records(records, parameters=["lr", "dropout", "units", "decay"])
    logs = {panel.parameter: panel.log for panel in slice_info(trials).panels}
    assert logs == {"lr": True, "dropout": False, "units": False, "decay": True}

"""neurogenesis.plotting.hyperparameters: the figures draw exactly what the infos hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from neurogenesis.analysis.hyperparameters import (
    importance_info,
    parallel_info,
    slice_info,
    surface_info,
)
from neurogenesis.errors import InputError
from neurogenesis.io.trials import read_trials, trials_from_records
from neurogenesis.plotting.hyperparameters import (
    plot_importance,
    plot_parallel_coordinates,
    plot_slices,
    plot_surface_3d,
    plot_surface_contour,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def grid():
    trials = read_trials(ROOT / "data" / "sweeps" / "digits_cnn")
    return trials, surface_info(trials, "learning_rate", "width")


@pytest.fixture(scope="module")
def irregular():
    rng = np.random.default_rng(0)
    records = []
    for k in range(20):
        lr, dropout = 10 ** rng.uniform(-4, -1), rng.uniform(0, 0.5)
        score = 0.9 - 0.05 * (np.log10(lr) + 2.5) ** 2 - 0.3 * (dropout - 0.2) ** 2
        records.append({"run": f"<b>t{k}</b>", "lr": lr, "dropout": dropout, "acc": score})
    records.append({"run": "broken", "lr": 0.05, "dropout": 0.1, "acc": None})
    trials = trials_from_records(records, parameters=["lr", "dropout"])
    return trials, surface_info(trials, "lr", "dropout", resolution=15)


def _by_name(figure, prefix):
    return [t for t in figure.data if (t.name or "").startswith(prefix)]


def test_surface_3d_of_a_grid(grid):
    _, info = grid
    figure = plot_surface_3d(info)
    surfaces = [t for t in figure.data if isinstance(t, go.Surface)]
    assert len(surfaces) == 1  # no uncertainty for observed values
    np.testing.assert_array_equal(surfaces[0].z, info.z)
    np.testing.assert_allclose(surfaces[0].x, np.log10(info.x_values))
    assert surfaces[0].contours.z.project.z
    (trials,) = _by_name(figure, "trials")
    assert len(trials.x) == 12
    np.testing.assert_array_equal(trials.z, info.points_z)
    (best,) = _by_name(figure, "best trial")
    assert best.marker.symbol == "diamond" and best.z[0] == info.best_value
    assert info.best_name in best.text[0]
    (region,) = _by_name(figure, "best region")
    assert len(region.x) == info.region.sum()
    # Log axes: ticks at the sweep's own values.
    assert list(figure.layout.scene.xaxis.ticktext) == ["0.0003", "0.001", "0.003"]
    assert list(figure.layout.scene.yaxis.ticktext) == ["4", "8", "16", "32"]


def test_surface_3d_of_a_gp_shows_uncertainty_and_failed_trials(irregular):
    _, info = irregular
    figure = plot_surface_3d(info, log_color=True)
    surfaces = [t for t in figure.data if isinstance(t, go.Surface)]
    assert len(surfaces) == 3
    np.testing.assert_allclose(surfaces[1].z, info.z + info.z_std)
    np.testing.assert_allclose(surfaces[2].z, info.z - info.z_std)
    np.testing.assert_allclose(surfaces[0].surfacecolor, np.log10(info.z))
    (failed,) = _by_name(figure, "failed")
    assert len(failed.x) == 1 and "broken" in failed.hovertext[0]
    (trials,) = _by_name(figure, "trials")
    assert "&lt;b&gt;t0&lt;/b&gt;" in trials.hovertext[0]  # names from files are escaped
    assert "0.001" in figure.layout.scene.xaxis.ticktext
    assert len(plot_surface_3d(info, show_uncertainty=False).data) == len(figure.data) - 2


def test_contour_panels_points_best_and_region(irregular, grid):
    _, info = irregular
    figure = plot_surface_contour(info)
    contours = [t for t in figure.data if isinstance(t, go.Contour)]
    np.testing.assert_array_equal(contours[0].z, info.z)
    assert any(c.contours.coloring == "lines" for c in contours)  # region outline
    np.testing.assert_array_equal(contours[-1].z, info.z_std)
    stars = [t for t in figure.data if isinstance(t, go.Scatter) and t.marker.symbol == "star"]
    assert len(stars) == 2 and stars[0].x[0] == pytest.approx(np.log10(info.best_x))
    _, grid_info = grid
    single = plot_surface_contour(grid_info)
    assert sum(isinstance(t, go.Contour) for t in single.data) == 2  # surface + region, no std
    assert list(single.layout.xaxis.ticktext) == ["0.0003", "0.001", "0.003"]


def test_parallel_coordinates_dimensions(irregular):
    trials, _ = irregular
    info = parallel_info(trials)
    figure = plot_parallel_coordinates(info)
    (parcoords,) = figure.data
    assert isinstance(parcoords, go.Parcoords)
    assert [d.label for d in parcoords.dimensions] == ["lr (log scale)", "dropout", "acc"]
    np.testing.assert_array_equal(parcoords.line.color, info.color)
    np.testing.assert_array_equal(parcoords.dimensions[0].values, info.axes[0].values)
    assert "0.001" in parcoords.dimensions[0].ticktext
    assert len(info.color) == 20


def test_slices_one_panel_per_parameter(irregular):
    trials, _ = irregular
    info = slice_info(trials)
    figure = plot_slices(info)
    points = [t for t in figure.data if t.name == "trials"]
    assert len(points) == 2
    np.testing.assert_array_equal(points[0].x, info.panels[0].x)
    np.testing.assert_array_equal(points[0].marker.color, info.panels[0].index)
    assert figure.layout.xaxis.type == "log"
    assert sum(1 for t in figure.data if t.marker.symbol == "star") == 2
    by_metric = plot_slices(info, color_by="metric")
    np.testing.assert_array_equal(by_metric.data[0].marker.color, info.panels[0].y)
    with pytest.raises(InputError, match="color_by"):
        plot_slices(info, color_by="size")


def test_importance_bars_sorted(grid):
    trials, _ = grid
    info = importance_info(trials, n_estimators=50)
    figure = plot_importance(info)
    shares = figure.data[0]
    assert shares.orientation == "h"
    assert shares.y[-1] == info.parameters[info.order[0]]  # the most important on top
    np.testing.assert_allclose(sorted(shares.x), sorted(info.importance))
    assert len(figure.data) == 2


def test_wrong_info_is_refused(grid):
    _, info = grid
    with pytest.raises(InputError, match="ParallelInfo"):
        plot_parallel_coordinates(info)


def _numbers(texts) -> np.ndarray:
    return np.array([float(text.replace(",", "")) for text in texts])


def test_parallel_ticks_land_on_the_values_the_trials_took(grid, irregular):
    trials, _ = grid
    figure = plot_parallel_coordinates(parallel_info(trials))
    learning_rate, width, metric = figure.data[0].dimensions
    assert learning_rate.label == "learning_rate (log scale)"
    # The sweep's own values, at their log10 positions (nice 1-2-5 ticks missed 3e-4 and 3e-3).
    np.testing.assert_allclose(learning_rate.tickvals, np.log10([3e-4, 1e-3, 3e-3]))
    assert list(learning_rate.ticktext) == ["0.0003", "0.001", "0.003"]
    np.testing.assert_allclose(width.tickvals, np.log10([4, 8, 16, 32]))
    assert list(width.ticktext) == ["4", "8", "16", "32"]
    # Every trial's value is a tick.
    for dimension in (learning_rate, width):
        assert set(np.round(dimension.values, 9)) <= set(np.round(dimension.tickvals, 9))
    assert metric.label == "val_accuracy" and metric.tickvals is None
    # The colour bar stands clear of the last axis's tick labels.
    assert figure.data[0].domain.x[1] <= 0.9 and figure.data[0].line.colorbar.x >= 0.98
    # A continuous search keeps nice ticks, read in the parameter's units.
    continuous = plot_parallel_coordinates(parallel_info(irregular[0])).data[0].dimensions[0]
    np.testing.assert_allclose(
        _numbers(continuous.ticktext), 10.0 ** np.asarray(continuous.tickvals), rtol=1e-9
    )
    assert len(continuous.ticktext) >= 3


def test_categorical_parallel_axis_ticks_only_the_categories_used():
    records = [
        {"run": f"r{k}", "optimizer": name, "units": units, "acc": 0.5 + 0.01 * k}
        for k, (name, units) in enumerate(
            [("adam", 64), ("sgd", 128), ("adam", 256), ("sgd", 64), ("adam", 128)]
        )
    ]
    trials = trials_from_records(records, parameters=["optimizer", "units"])
    dimensions = plot_parallel_coordinates(parallel_info(trials)).data[0].dimensions
    by_label = {d.label.split(" (")[0]: d for d in dimensions}
    optimizer = by_label["optimizer"]
    assert sorted(optimizer.ticktext) == ["adam", "sgd"]
    units = by_label["units"]
    expected = np.log10([64, 128, 256]) if "log" in units.label else [64, 128, 256]
    np.testing.assert_allclose(units.tickvals, expected)
    assert list(units.ticktext) == ["64", "128", "256"]


def test_slices_axes_are_titled_and_ticked_at_the_sweep(grid):
    trials, _ = grid
    figure = plot_slices(slice_info(trials))
    assert figure.layout.xaxis.title.text == "learning_rate (log scale)"
    assert figure.layout.xaxis.type == "log"
    np.testing.assert_allclose(figure.layout.xaxis.tickvals, [3e-4, 1e-3, 3e-3])
    assert list(figure.layout.xaxis.ticktext) == ["0.0003", "0.001", "0.003"]
    assert figure.layout.xaxis2.title.text == "width (log scale)"
    assert list(figure.layout.xaxis2.ticktext) == ["4", "8", "16", "32"]
    assert figure.layout.yaxis.title.text == "val_accuracy"


def test_log_colour_reads_in_the_metrics_units(irregular):
    _, info = irregular
    figure = plot_surface_3d(info, log_color=True)
    colorbar = figure.data[0].colorbar
    assert colorbar.title.text == "acc (log scale)"
    np.testing.assert_allclose(_numbers(colorbar.ticktext), 10.0 ** np.asarray(colorbar.tickvals))
    drawn = np.asarray(figure.data[0].surfacecolor)
    assert np.nanmin(drawn) <= min(colorbar.tickvals) and max(colorbar.tickvals) <= np.nanmax(drawn)
    assert len(colorbar.tickvals) >= 2


def test_importance_axes_are_titled(grid):
    figure = plot_importance(importance_info(grid[0], n_estimators=20))
    assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text == "hyperparameter"


def test_hover_reads_parameter_values_not_their_logarithms(grid):
    _, info = grid
    figure = plot_surface_3d(info)
    (surface,) = [t for t in figure.data if isinstance(t, go.Surface)]
    # Node [row 0, column 0]: the smallest width and learning rate, the values themselves.
    assert surface.text[0][0] == (
        f"learning_rate 0.0003<br>width 4<br>val_accuracy {info.z[0, 0]:.5g}"
    )
    assert "%{x" not in surface.hovertemplate
    (trials,) = _by_name(figure, "trials")
    first = trials.hovertext[0]
    assert "learning_rate = 0.0003" in first or "learning_rate = 0.001" in first
    assert "= -" not in " ".join(trials.hovertext)
    contour = plot_surface_contour(info).data[0]
    assert contour.text[0][0] == surface.text[0][0]


# --- Tables behind the figures -------------------------------------------------------------------


def test_surface_table_lists_every_node_x_fastest(grid, irregular):
    from neurogenesis.plotting.hyperparameters import surface_table

    trials, info = grid
    table = surface_table(info)
    assert list(table.columns) == ["learning_rate", "width", info.metric]
    assert len(table) == info.z.size
    # Row j * nx + i is (x_values[i], y_values[j]) with z[j, i] there; on a grid, the observed
    # value of the trial at that node.
    nx = len(info.x_values)
    row = table.iloc[1 * nx + 2]
    assert row["learning_rate"] == info.x_values[2] and row["width"] == info.y_values[1]
    assert row[info.metric] == info.z[1, 2]
    frame = trials.to_frame()
    at_node = frame[
        np.isclose(frame["learning_rate"], info.x_values[2])
        & np.isclose(frame["width"], info.y_values[1])
    ]
    assert row[info.metric] == pytest.approx(at_node[info.metric].max())
    _, gp = irregular
    gp_table = surface_table(gp)
    assert list(gp_table.columns) == ["lr", "dropout", "acc", "acc std"]
    np.testing.assert_array_equal(gp_table["acc std"], gp.z_std.ravel())
    with pytest.raises(InputError):
        surface_table("not an info")


def test_surface_table_names_categories(grid):
    import dataclasses

    from neurogenesis.plotting.hyperparameters import surface_table

    _, info = grid
    named = dataclasses.replace(
        info,
        y_values=np.arange(len(info.y_values), dtype=float),
        y_categories=tuple(f"w{k}" for k in range(len(info.y_values))),
    )
    assert surface_table(named)["width"].tolist()[:: len(info.x_values)] == list(named.y_categories)


def test_importance_table(irregular):
    from neurogenesis.plotting.hyperparameters import importance_table

    trials, _ = irregular
    info = importance_info(trials, "acc")
    table = importance_table(info)
    assert list(table.columns) == [
        "parameter",
        "importance",
        "permutation drop",
        "permutation drop std",
    ]
    assert table["parameter"].tolist() == ["lr", "dropout"]
    np.testing.assert_array_equal(table["importance"], info.importance)
    np.testing.assert_array_equal(table["permutation drop std"], info.permutation_std)

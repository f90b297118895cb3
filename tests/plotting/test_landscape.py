"""neurogenesis.plotting.landscape: the figures draw exactly what the infos hold.

Infos are built by hand (no model), so each test knows every value it should find in the figure.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from neurogenesis.analysis.landscape import InterpolationInfo, LandscapeInfo, SharpnessInfo
from neurogenesis.errors import InputError
from neurogenesis.plotting.landscape import (
    axis_titles,
    log_ticks,
    plot_interpolation,
    plot_landscape_3d,
    plot_landscape_comparison,
    plot_landscape_contour,
    plot_sharpness,
    plotted_values,
)

R = 5


def _plane(directions: str = "random", trajectory=None, scale: float = 1.0) -> LandscapeInfo:
    alphas = np.linspace(-1.0, 1.0, R)
    betas = np.linspace(-2.0, 2.0, R)
    loss = scale * (0.1 + alphas[:, None] ** 2 + 0.5 * betas[None, :] ** 2)  # loss[i, j]
    accuracy = 1.0 - loss / loss.max()
    trajectory = np.zeros((0, 2)) if trajectory is None else np.asarray(trajectory, float)
    return LandscapeInfo(
        directions=directions,
        metric_names=("loss", "accuracy"),
        loss_name="mse",
        alphas=alphas,
        betas=betas,
        values=np.stack([loss, accuracy]),
        direction_x=np.ones(4, np.float32),
        direction_y=np.ones(4, np.float32),
        trajectory=trajectory,
        trajectory_labels=tuple(f"epoch {k}" for k in range(len(trajectory))),
        trajectory_values=np.full((2, len(trajectory)), 0.7),
        explained_variance=np.array([0.8, 0.15]) if directions == "pca" else np.zeros(0),
        num_samples=32,
        seed=3 if directions == "random" else None,
        normalization="filter",
        bias_mode="zero",
        complete=True,
    )


def _traces(figure: go.Figure, kind) -> list:
    return [trace for trace in figure.data if isinstance(trace, kind)]


def test_surface_draws_values_transposed_for_plotly_with_the_trained_point():
    info = _plane()
    figure = plot_landscape_3d(info)
    (surface,) = _traces(figure, go.Surface)
    # Plotly's z[row][column] is (y, x): row j is beta_j, column i is alpha_i.
    np.testing.assert_allclose(np.asarray(surface.z), info.loss.T)
    np.testing.assert_allclose(surface.x, info.alphas)
    np.testing.assert_allclose(surface.y, info.betas)
    assert surface.contours.z.show and surface.contours.z.project.z
    (trained,) = [t for t in _traces(figure, go.Scatter3d) if t.name == "trained weights"]
    assert (trained.x[0], trained.y[0]) == (0.0, 0.0)
    assert trained.z[0] == pytest.approx(info.loss[2, 2]) == pytest.approx(0.1)
    assert "seed 3" in figure.layout.title.text
    assert figure.layout.scene.xaxis.title.text.startswith("α")


def test_log_scale_and_clip():
    info = _plane()
    logged = plotted_values(info, "loss", log_scale=True)
    np.testing.assert_allclose(logged, np.log10(info.loss))
    clipped = plotted_values(info, "loss", clip=1.0)
    assert clipped.max() == 1.0 and clipped[2, 2] == pytest.approx(0.1)
    figure = plot_landscape_3d(info, log_scale=True)
    np.testing.assert_allclose(np.asarray(figure.data[0].z), np.log10(info.loss).T)
    assert figure.layout.scene.zaxis.title.text == "loss (log scale)"
    # A metric with zeros has no logarithm there: blank, not invented.
    zeros = plotted_values(info, "accuracy", log_scale=True)
    assert info.metric("accuracy")[0, 0] == 0 and np.isnan(zeros[0, 0])
    assert np.isfinite(zeros[2, 2])


def test_the_path_lies_on_the_surface_and_on_the_contours():
    path = [(-1.0, -2.0), (-0.5, 1.0), (0.0, 0.0)]
    info = _plane("pca", trajectory=path)
    figure = plot_landscape_3d(info)
    (line,) = [t for t in _traces(figure, go.Scatter3d) if t.name.startswith("training path")]
    np.testing.assert_allclose(line.x, [-1.0, -0.5, 0.0])
    # Grid nodes: the surface value there exactly.
    np.testing.assert_allclose(line.z, [info.loss[0, 0], info.loss[1, 3], info.loss[2, 2]])
    assert "epoch 0" in line.hovertext[0] and "0.7" in line.hovertext[0]
    assert "80%" in figure.layout.scene.xaxis.title.text
    contour = plot_landscape_contour(info)
    (drawn,) = _traces(contour, go.Contour)
    np.testing.assert_allclose(np.asarray(drawn.z), info.loss.T)
    paths = [t for t in _traces(contour, go.Scatter) if t.name and t.name.startswith("training")]
    np.testing.assert_allclose(paths[0].y, [-2.0, 1.0, 0.0])
    (star,) = [t for t in _traces(contour, go.Scatter) if t.name == "trained weights"]
    assert star.marker.symbol == "star"
    no_path = plot_landscape_3d(info, show_trajectory=False)
    assert not [t for t in no_path.data if (t.name or "").startswith("training path")]


def test_between_grid_nodes_the_path_is_interpolated_bilinearly():
    info = _plane(trajectory=[(0.25, 0.5)])
    figure = plot_landscape_3d(info)
    (line,) = [t for t in figure.data if (t.name or "").startswith("training path")]
    # alpha 0.25 lies halfway between nodes 0 and 0.5; beta 0.5 halfway between 0 and 1.
    a, b = info.alphas, info.betas
    corners = [info.loss[i, j] for i in (2, 3) for j in (2, 3)]
    assert a[2] == 0 and a[3] == 0.5 and b[2] == 0 and b[3] == 1
    assert line.z[0] == pytest.approx(np.mean(corners))


def test_the_trained_point_is_measured_not_read_off_the_grid():
    import dataclasses

    info = dataclasses.replace(_plane("pca"), trained_values=np.array([0.05, 0.9]))
    figure = plot_landscape_3d(info)
    (trained,) = [t for t in figure.data if t.name == "trained weights"]
    assert trained.z[0] == pytest.approx(0.05)
    logged = plot_landscape_3d(info, log_scale=True)
    (trained,) = [t for t in logged.data if t.name == "trained weights"]
    assert trained.z[0] == pytest.approx(np.log10(0.05))


def test_comparison_shares_one_scale():
    small, large = _plane(), _plane(scale=10.0)
    figure = plot_landscape_comparison([small, large], ["A", "B"])
    surfaces = _traces(figure, go.Surface)
    assert len(surfaces) == 2
    low, high = float(small.loss.min()), float(large.loss.max())
    for surface in surfaces:
        assert (surface.cmin, surface.cmax) == pytest.approx((low, high))
    assert list(figure.layout.scene.zaxis.range) == pytest.approx([low, high])
    assert list(figure.layout.scene2.zaxis.range) == pytest.approx([low, high])
    assert [s.showscale for s in surfaces] == [False, True]
    titles = [a.text for a in figure.layout.annotations]
    assert titles == ["A", "B"]
    contours = plot_landscape_comparison([small, large], ["A", "B"], kind="contour")
    drawn = _traces(contours, go.Contour)
    assert [(c.zmin, c.zmax) for c in drawn] == [pytest.approx((low, high))] * 2
    with pytest.raises(InputError, match="one label per"):
        plot_landscape_comparison([small], ["A", "B"])
    with pytest.raises(InputError, match="kind"):
        plot_landscape_comparison([small], ["A"], kind="bars")


def test_interpolation_panels_and_ends():
    t = np.linspace(-0.5, 1.5, 9)
    values = np.stack([(t - 1.0) ** 2 + 0.1, np.clip(t, 0, 1)])
    info = InterpolationInfo(
        t=t,
        metric_names=("loss", "accuracy"),
        loss_name="mse",
        values=values,
        start_label="initial",
        end_label="trained",
        distance=2.5,
        num_samples=16,
    )
    figure = plot_interpolation(info, log_scale=True)
    curves = [trace for trace in figure.data if trace.mode == "lines"]
    assert [c.name for c in curves] == ["loss", "accuracy"]
    np.testing.assert_allclose(curves[0].y, values[0])
    ends = [trace for trace in figure.data if trace.mode == "markers+text"]
    np.testing.assert_allclose(ends[0].x, [0.0, 1.0])
    np.testing.assert_allclose(ends[0].y, [1.1, 0.1])
    assert list(ends[0].text) == ["initial", "trained"]
    assert figure.layout.yaxis.type == "log"
    assert "distance 2.5" in figure.layout.title.text
    only_loss = plot_interpolation(info, metrics=["loss"])
    assert len([t for t in only_loss.data if t.mode == "lines"]) == 1


def test_sharpness_and_titles_and_type_checks():
    info = SharpnessInfo(
        eigenvalue=12.5,
        estimates=np.array([3.0, 11.0, 12.4, 12.5]),
        iterations=4,
        converged=True,
        loss_name="mse",
        num_samples=8,
        num_parameters=10,
    )
    figure = plot_sharpness(info)
    # estimates[0] is the curvature along the random start vector (3.0 here, near 0 on the demos,
    # where it read as a made-up start): the curve begins at power iteration 1, estimates[1].
    assert list(figure.data[0].x) == [1, 2, 3]
    np.testing.assert_allclose(figure.data[0].y, info.estimates[1:])
    assert "12.5" in figure.layout.title.text and "converged" in figure.layout.title.text
    # Neither axis reaches back to a zero the power iteration never produced.
    assert list(figure.layout.xaxis.range) == [0.5, 3.5]
    low, high = figure.layout.yaxis.range
    assert 10.0 < low < 11.0 and 12.5 < high < 13.0
    assert "Hessian-vector products" in figure.layout.xaxis.title.text
    assert figure.layout.yaxis.title.text == "λ_max estimate (loss per weight unit²)"
    single = plot_sharpness(
        SharpnessInfo(
            eigenvalue=0.5,
            estimates=np.array([0.5]),
            iterations=1,
            converged=False,
            loss_name="mse",
            num_samples=8,
            num_parameters=10,
        )
    )
    assert list(single.data[0].x) == [0] and list(single.data[0].y) == [0.5]
    assert axis_titles(_plane())[0].startswith("α")
    with pytest.raises(InputError, match="LandscapeInfo"):
        plot_landscape_3d(info)
    with pytest.raises(InputError, match="Unknown metric"):
        plot_landscape_contour(_plane(), metric="f1")


def test_names_from_files_are_escaped():
    info = _plane(trajectory=[(0.0, 0.5)])
    info = type(info)(**{**info.__dict__, "trajectory_labels": ("<b>x</b>",)})
    figure = plot_landscape_contour(info)
    path = [t for t in figure.data if (t.name or "").startswith("training")][0]
    assert "<b>" not in path.hovertext[0] and "&lt;b&gt;" in path.hovertext[0]


def _numbers(texts) -> np.ndarray:
    return np.array([float(text.replace(",", "")) for text in texts])


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0286, 3.964, ["0.05", "0.1", "0.2", "0.5", "1", "2"]),
        (0.0005, 0.002, ["0.0005", "0.001", "0.002"]),
        (1000.0, 50000.0, ["1,000", "2,000", "5,000", "10,000", "20,000", "50,000"]),
        (1e-6, 1e3, ["1e-6", "1e-4", "1e-2", "1e0", "1e2"]),
        (0.041, 0.049, ["0.041", "0.043", "0.045", "0.047", "0.049"]),
        (0.1, 0.3, ["0.1", "0.2", "0.3"]),
    ],
)
def test_log_ticks_are_nice_values_in_data_units(low, high, expected):
    tickvals, ticktext = log_ticks(np.log10(low), np.log10(high))
    assert ticktext == expected
    # The text is the value whose log10 the tick sits at, and every tick lies in the range.
    np.testing.assert_allclose(_numbers(ticktext), 10.0 ** np.asarray(tickvals), rtol=1e-9)
    assert np.log10(low) - 1e-9 <= min(tickvals) and max(tickvals) <= np.log10(high) + 1e-9


def test_log_colour_bars_and_the_z_axis_read_in_loss_units():
    info = _plane(scale=0.3)  # loss from 0.03 to 0.93: log10 from -1.52 to -0.03
    low, high = np.log10(info.loss.min()), np.log10(info.loss.max())
    surface_figure = plot_landscape_3d(info, log_scale=True)
    (surface,) = _traces(surface_figure, go.Surface)
    contour_figure = plot_landscape_contour(info, log_scale=True)
    (contour,) = _traces(contour_figure, go.Contour)
    for axis in (surface.colorbar, contour.colorbar, surface_figure.layout.scene.zaxis):
        assert axis.title.text == "loss (log scale)"
        assert list(axis.ticktext) == ["0.05", "0.1", "0.2", "0.5"]
        np.testing.assert_allclose(_numbers(axis.ticktext), 10.0 ** np.asarray(axis.tickvals))
        assert low <= min(axis.tickvals) and max(axis.tickvals) <= high
    # Hover reads the measured loss, not its logarithm.
    assert surface.text[2][2] == contour.text[2][2] == "0.03"
    assert "%{text}" in surface.hovertemplate and "10^" not in surface.hovertemplate
    (star,) = [t for t in _traces(contour_figure, go.Scatter) if t.name == "trained weights"]
    assert "loss 0.03<" in star.hovertemplate
    # On a linear scale Plotly's own ticks are fine and the title has no "log".
    linear = _traces(plot_landscape_contour(info), go.Contour)[0]
    assert linear.colorbar.tickvals is None and linear.colorbar.title.text == "loss"


def test_a_log_comparison_shares_its_ticks():
    small, large = _plane(scale=0.3), _plane(scale=3.0)
    figure = plot_landscape_comparison([small, large], ["A", "B"], log_scale=True)
    (shown,) = [s for s in _traces(figure, go.Surface) if s.showscale]
    np.testing.assert_allclose(
        _numbers(shown.colorbar.ticktext), 10.0 ** np.asarray(shown.colorbar.tickvals)
    )
    assert _numbers(shown.colorbar.ticktext).min() >= small.loss.min()
    assert _numbers(shown.colorbar.ticktext).max() <= large.loss.max()
    assert list(figure.layout.scene.zaxis.ticktext) == list(figure.layout.scene2.zaxis.ticktext)


def test_the_lines_log_axis_is_ticked_at_1_2_5_in_full():
    t = np.linspace(0.0, 1.0, 11)
    info = InterpolationInfo(
        t=t,
        metric_names=("loss", "accuracy"),
        loss_name="mse",
        values=np.stack([0.03 * 100.0 ** (1 - t), t]),  # 3 down to 0.03
        start_label="initial",
        end_label="trained",
        distance=1.0,
        num_samples=16,
    )
    figure = plot_interpolation(info, log_scale=True)
    axis = figure.layout.yaxis
    assert axis.type == "log" and axis.title.text == "loss (log scale)"
    assert list(axis.ticktext) == ["0.05", "0.1", "0.2", "0.5", "1", "2"]
    np.testing.assert_allclose(_numbers(axis.ticktext), axis.tickvals)
    assert figure.layout.yaxis2.title.text == "accuracy" and figure.layout.yaxis2.type != "log"


def test_axis_titles_say_their_units():
    assert axis_titles(_plane()) == ("α (× direction 1)", "β (× direction 2)")
    assert (
        "random plane, filter-normalized (1 = each filter's own norm), seed 3"
        in plot_landscape_3d(_plane()).layout.title.text
    )
    assert axis_titles(_plane("pca"))[0] == "PC 1: weight distance (80% of the path's variance)"


def test_an_info_cached_before_a_module_reload_is_still_drawn():
    import dataclasses

    info = SharpnessInfo(
        eigenvalue=2.0,
        estimates=np.array([0.1, 1.9, 2.0]),
        iterations=3,
        converged=True,
        loss_name="mse",
        num_samples=8,
        num_parameters=10,
    )
    # Streamlit re-imports an edited module; the infos it cached keep the old class object.
    stale = dataclasses.make_dataclass(
        "SharpnessInfo", [(field.name, object) for field in dataclasses.fields(info)]
    )
    stale.__module__ = SharpnessInfo.__module__
    copy = stale(**{field.name: getattr(info, field.name) for field in dataclasses.fields(info)})
    assert not isinstance(copy, SharpnessInfo)
    np.testing.assert_allclose(plot_sharpness(copy).data[0].y, [1.9, 2.0])
    other = dataclasses.make_dataclass("OtherInfo", [("estimates", object)])
    with pytest.raises(InputError, match="SharpnessInfo"):
        plot_sharpness(other(estimates=info.estimates))


# --- Tables and files behind the figures -----------------------------------------------------


def test_grid_table_lists_every_node_alpha_first():
    from neurogenesis.plotting.landscape import comparison_table, grid_table

    info = _plane()
    table = grid_table(info)
    assert list(table.columns) == ["alpha", "beta", "loss", "accuracy"]
    assert len(table) == R * R
    # Row i * R + j is (alphas[i], betas[j]) with the loss there, recomputed from the formula.
    row = table.iloc[2 * R + 4]
    assert (row["alpha"], row["beta"]) == (0.0, 2.0)
    assert row["loss"] == pytest.approx(0.1 + 0.0 + 0.5 * 4.0)
    both = comparison_table([info, _plane(scale=2.0)], ["a", "b"])
    assert list(both["model"].unique()) == ["a", "b"] and len(both) == 2 * R * R
    np.testing.assert_allclose(both["loss"][R * R :], 2 * table["loss"])
    with pytest.raises(InputError):
        grid_table("not an info")


def test_interpolation_and_sharpness_tables():
    from neurogenesis.plotting.landscape import interpolation_table, sharpness_table

    t = np.linspace(0.0, 1.0, 3)
    line = InterpolationInfo(
        t=t,
        metric_names=("loss", "accuracy"),
        loss_name="mse",
        values=np.array([[1.0, 0.5, 0.1], [0.2, 0.6, 0.9]]),
        start_label="initial",
        end_label="trained",
        distance=1.0,
        num_samples=4,
    )
    table = interpolation_table(line)
    assert list(table.columns) == ["t", "loss", "accuracy"]
    assert table["loss"].tolist() == [1.0, 0.5, 0.1] and table["t"].tolist() == [0.0, 0.5, 1.0]
    sharp = SharpnessInfo(
        eigenvalue=12.5,
        estimates=np.array([3.0, 11.0, 12.5]),
        iterations=3,
        converged=True,
        loss_name="mse",
        num_samples=8,
        num_parameters=10,
    )
    table = sharpness_table(sharp)
    assert table["iteration"].tolist() == [0, 1, 2]
    assert table["estimate"].tolist() == [3.0, 11.0, 12.5]


def test_value_range_ignores_blanks_and_clips_at_the_upper_quartile():
    import dataclasses

    from neurogenesis.plotting.landscape import value_range

    info = _plane()
    loss = info.values[0]
    lowest, highest, clip = value_range(info, "loss")
    assert (lowest, highest) == (pytest.approx(loss.min()), pytest.approx(loss.max()))
    assert clip == pytest.approx(np.sort(loss.ravel())[18])  # 25 values: the 75% quantile
    values = info.values.copy()
    values[0, 0, 0] = np.nan
    values[0, 1, 1] = np.inf
    blanked = dataclasses.replace(info, values=values)
    assert value_range(blanked, "loss")[1] == pytest.approx(loss.max())
    nothing = dataclasses.replace(info, values=np.full_like(values, np.nan))
    assert value_range(nothing, "loss") is None


def test_the_npz_download_holds_the_plane_and_the_preview_draws_the_coarse_grid():
    import io

    from neurogenesis.plotting.landscape import landscape_npz, plot_landscape_preview

    info = _plane()
    arrays = np.load(io.BytesIO(landscape_npz(info)))
    np.testing.assert_allclose(arrays["loss"], info.values[0])
    np.testing.assert_allclose(arrays["alphas"], info.alphas)
    assert list(arrays["metric_names"]) == ["loss", "accuracy"]
    figure = plot_landscape_preview(info)
    contour = _traces(figure, go.Contour)[0]
    assert len(contour.x) <= R and len(contour.x) >= 2

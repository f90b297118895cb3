"""Debugging, Errors tab: where the model goes wrong (confusion, per-class numbers, confident
mistakes, calibration, slices) or, for a regression, how large its errors are and where."""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from app_pages.debugging_parts import SHOWN_SAMPLES, sample_grid, state, target, with_unit
from neurogenesis import cached
from neurogenesis.analysis.evaluation import CALIBRATION_STRATEGIES, DEFAULT_NUM_BINS
from neurogenesis.plotting.evaluation import (
    class_metrics_table,
    confusion_matrix_table,
    horizon_error_table,
    plot_class_metrics,
    plot_confusion_matrix,
    plot_horizon_error,
    plot_reliability_diagram,
    plot_residuals,
    plot_slices,
    reliability_diagram_table,
    residuals_table,
    slices_table,
)


def errors_view(model_source, samples_source, sample_set, predictions, kind):
    if predictions.task == "regression":
        regression_errors(model_source, samples_source, sample_set, predictions)
        return
    if predictions.labels is None or predictions.predicted is None:
        st.info(
            "Error analysis needs class predictions and labels; this model returns "
            f"{predictions.task} outputs"
            + (" and the set has no labels." if predictions.labels is None else ".")
        )
        return
    if predictions.own_labels:  # labels that are not the model's classes: nothing to compare
        st.info(predictions.note)
        return
    confusion = cached.confusion(model_source, samples_source)
    mistakes = cached.confident_mistakes(model_source, samples_source, SHOWN_SAMPLES)
    columns = st.columns([2, 2, 2, 3])  # the colour choice needs room for its three buttons
    columns[0].metric("Accuracy", f"{confusion.accuracy:.1%}")
    columns[1].metric("Macro F1", f"{confusion.macro_f1:.3f}")
    columns[2].metric("Mistakes", f"{mistakes.num_wrong:,} of {len(sample_set):,}")
    normalize = columns[3].segmented_control(
        "Colour by",
        ("true", "pred", None),
        default="true",
        format_func=lambda v: {"true": "by label", "pred": "by prediction", None: "count"}[v],
        key=state("normalize"),
        help="by label: each true class's row sums to 100% (the diagonal is recall); by "
        "prediction: each predicted class's column sums to 100% (the diagonal is precision); "
        "count: samples.",
    )
    event = ui.chart(
        plot_confusion_matrix(confusion, normalize=normalize),
        key=state("confusion"),
        data=confusion_matrix_table(confusion),
        on_select="rerun",
        selection_mode="points",
    )
    cell = _clicked_cell(event)
    if cell is not None:
        st.session_state[state("cell")] = cell
    true, predicted = st.session_state.get(state("cell"), (None, None))
    if true is not None and true < confusion.num_classes and predicted < confusion.num_classes:
        indices = confusion.indices(true, predicted)
        st.markdown(
            f"**Label {ui.class_name(predictions, true)}, predicted "
            f"{ui.class_name(predictions, predicted)}**: {len(indices):,} samples"
            + (f" (first {SHOWN_SAMPLES})" if len(indices) > SHOWN_SAMPLES else "")
        )
        sample_grid(sample_set, predictions, indices, kind, state("cell_grid"))
    else:
        st.caption("Click a cell to see its samples.")
    per_class = class_metrics_table(confusion)
    ui.chart(plot_class_metrics(confusion), key=state("class_metrics"), data=per_class)
    with st.expander("Per-class numbers"):
        st.dataframe(per_class, hide_index=True)
    st.markdown("**Most confident mistakes**")
    if mistakes.num_wrong == 0:
        st.success("No mistakes on this set.")
    else:
        sample_grid(sample_set, predictions, mistakes.indices, kind, state("mistakes_grid"))
    st.markdown("**Calibration**: is a 90% confidence right 90% of the time?")
    a, b = st.columns(2)
    bins = a.slider("Bins", 5, 30, DEFAULT_NUM_BINS, key=state("bins"))
    strategy = (
        b.segmented_control(
            "Bins of",
            CALIBRATION_STRATEGIES,
            default="uniform",
            format_func={"uniform": "equal width", "quantile": "equal count"}.get,
            key=state("strategy"),
        )
        or "uniform"
    )
    calibration = cached.calibration(model_source, samples_source, bins, strategy)
    ui.chart(
        plot_reliability_diagram(calibration),
        key=state("reliability"),
        data=reliability_diagram_table(calibration),
    )
    st.caption(
        f"Expected calibration error **{calibration.ece:.3f}** (the sample-weighted gap between "
        f"confidence and accuracy), worst bin {calibration.mce:.3f}, Brier score "
        f"{calibration.brier:.3f}."
    )
    slicing_view(model_source, samples_source)


def _clicked_cell(event) -> tuple[int, int] | None:
    points = ((event or {}).get("selection") or {}).get("points") or []
    for point in points:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            return int(data[0]), int(data[1])
    return None


def slicing_view(model_source, samples_source, unit: str = "") -> None:
    """Accuracy (or mean absolute error) per value of a metadata column of the sample set."""
    columns = cached.slice_columns(samples_source)
    st.markdown("**Slices**: " + ("by a metadata column of the sample set" if columns else ""))
    if not columns:
        st.caption(
            "This sample set has no per-sample metadata column (an array in the .npz with one "
            "value per sample, e.g. a source, a date or a flag) to slice by."
        )
        return
    note = ui.valid_choice(state("slice_by"), columns, "column")
    column = st.selectbox("Slice by", columns, key=state("slice_by"))
    ui.show_note(note)
    info = cached.slices(model_source, samples_source, column)
    ui.chart(
        plot_slices(info, group_label=column, unit=unit),
        key=state("slices"),
        data=slices_table(info, group_label=column),
    )
    worst = info.weakest()
    st.caption(
        f"Weakest slice: **{info.groups[worst]}** ({with_unit(info.values[worst], unit)} over "
        f"{int(info.counts[worst]):,} samples, overall {with_unit(info.overall, unit)})."
        + (
            " Bars are 95% Wilson intervals: slices whose bars overlap the overall line may differ by chance."
            if info.metric == "accuracy"
            else ""
        )
    )


def regression_errors(model_source, samples_source, sample_set, predictions) -> None:
    if predictions.labels is None:
        st.info("The sample set has no targets, so there are no residuals.")
        return
    # Error per month (or any metadata column) is drawn by the slices below.
    info = cached.residuals(model_source, samples_source)
    name, unit = target(sample_set)
    name = "target" if name == "output" else name
    columns = st.columns(4)
    columns[0].metric("MAE", with_unit(info.mae, unit))
    columns[1].metric("RMSE", with_unit(info.rmse, unit))
    columns[2].metric("R²", f"{info.r2:.3f}")
    columns[3].metric("Bias (mean residual)", with_unit(info.bias, unit, "+.3g"))
    ui.chart(
        plot_residuals(info, unit=unit),
        key=state("residuals"),
        data=lambda: residuals_table(info),
    )
    st.caption(f"Residual = true {name} − prediction: positive means the model predicted too low.")
    if len(info.horizon) > 1:
        ui.chart(
            plot_horizon_error(info, unit=unit),
            key=state("horizon"),
            data=horizon_error_table(info),
        )
    else:
        st.caption(
            "The model predicts one step, so there is no error by horizon (a model with one "
            "output per future step gets a curve of error against how far ahead it predicts)."
        )
    st.markdown("**Largest errors**")
    worst = cached.largest_errors(model_source, samples_source, SHOWN_SAMPLES)
    kind = "series" if ui.shown_input(sample_set).ndim == 3 else "array"
    sample_grid(sample_set, predictions, worst, kind, state("worst_grid"))
    slicing_view(model_source, samples_source, unit)

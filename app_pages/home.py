"""Home: what is loaded, and which page answers which question."""

from __future__ import annotations

import math
import time

import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached, live
from neurogenesis.analysis.architecture import shape_text
from neurogenesis.analysis.training import curves_info, split_tag
from neurogenesis.errors import InputError
from neurogenesis.plotting.training import plot_curves

# What each analysis page answers; `built` flips as pages land in app.py.
PAGE_GUIDE = [
    (
        "Architecture",
        "What is this network made of? Its graph with collapsible blocks, exact parameters, "
        "compute and memory per layer, a diff against another model, templates, a live builder "
        "and export to Keras code.",
        True,
    ),
    (
        "Training dynamics",
        "Did training go well? Curves for many runs, overfitting and early-stopping signals, layer health.",
        True,
    ),
    (
        "Features and representations",
        "What did it learn, and what does it look at? Filters, feature maps, activation "
        "maximization, seven attribution methods with a sanity check and the pointing game, and "
        "an embedding projector with no sample cap.",
        True,
    ),
    (
        "Attention",
        "Where does each attention head look, for a sample or your own text; which heads "
        "matter; rollout across layers; and how attention evolved over training.",
        True,
    ),
    (
        "Debugging",
        "Why does it fail, how fragile is it, and is the other model really better? "
        "Perturbations, adversarial examples, robustness curves, error analysis, A/B tests.",
        True,
    ),
    (
        "Loss landscape",
        "What does the loss look like around the trained weights, which way did training go, "
        "and how sharp is the minimum? Filter-normalized 3D surfaces, the training path on the "
        "PCA plane, lines between weights, and two models on one scale.",
        True,
    ),
    (
        "Hyperparameters",
        "Which settings matter, and where is the best region? 3D response surfaces with every "
        "trial on them (Gaussian-process surrogate for irregular searches), contours, parallel "
        "coordinates, slices, importance, and sweeps you start from the page.",
        True,
    ),
]
MAX_METRICS_SHOWN = 4
MAX_METRICS_IN_CELL = 2  # metrics in the runs table's last-values cell (train / validation each)
LIVE_REFRESH_SECONDS = 2
LIVE_RUNS_SHOWN = 3
ACTIVE = ("starting", "running", "stopping")


def _model_card() -> None:
    source = st.session_state.get("model")
    st.subheader("Model")
    if source is None:
        st.info(
            "No model selected. Upload a .keras or .h5 file in the sidebar, or start with `--model FILE`."
        )
        return
    try:
        card = cached.model_card(source)
    except InputError as error:
        st.error(str(error))
        return
    st.markdown(f"**{card.name}** · {card.model_class} · `{source.label}`")
    if source.description:
        st.caption(source.description)
    left, middle, right = st.columns(3)
    left.metric("Parameters", "unknown" if card.num_params is None else f"{card.num_params:,}")
    middle.metric("Layers", f"{card.num_layers}")
    right.metric("File size", f"{card.file_size / 1024:,.0f} KiB")
    inputs = ", ".join(shape_text(shape) for shape in card.input_shapes) or "unknown"
    st.text(f"Input: {inputs}\nOutput: {card.output_summary or 'unknown'}")
    st.caption(
        f"Saved with Keras {card.keras_version or 'unknown'} · {card.file_format} format · pre-scanned, loads with safe_mode"
    )


def _last_value(series) -> str:
    if series.num_points == 0:
        return "—"
    value = float(series.values[-1])
    return f"{value:.4g}" if math.isfinite(value) else f"{value} (diverged)"


def _rank(tag: str) -> tuple[int, int, str]:
    """The metrics a reader looks for first: losses, then accuracies, then the rest; learning
    rates and per-batch tags last."""
    lowered = tag.lower()
    secondary = int(
        "vs_iterations" in lowered or "learning_rate" in lowered or lowered.startswith("batch_")
    )
    for i, word in enumerate(("loss", "acc", "mae", "mse", "auc")):
        if word in lowered:
            return secondary, i, tag
    return secondary, 9, tag


def _pick_tags(tags: list[str]) -> list[str]:
    return sorted(tags, key=_rank)[:MAX_METRICS_SHOWN]


def _last_values(run) -> str:
    """The last values of a run's main metrics, short enough for one table cell: each metric
    once, its training and validation values side by side (``loss 0.0319 / 0.0406``)."""
    by_metric: dict[str, dict[str, str]] = {}
    for tag in run.scalars:
        role, metric = split_tag(tag, run.name)
        key = metric if role in ("train", "validation") else tag
        by_metric.setdefault(key, {})[role] = _last_value(run.scalars[tag])
    parts = []
    for metric in sorted(by_metric, key=_rank)[:MAX_METRICS_IN_CELL]:
        roles = by_metric[metric]
        if "train" in roles and "validation" in roles:
            parts.append(f"{metric} {roles['train']} / {roles['validation']}")
        elif "validation" in roles:
            parts.append(f"{metric} — / {roles['validation']}")
        else:
            parts.append(f"{metric} {next(iter(roles.values()))}")
    return " · ".join(parts)


def _runs() -> None:
    sources = st.session_state.get("logs", [])
    st.subheader("Training runs")
    if not sources:
        st.info(
            "No logs selected. Upload event files, a CSVLogger .csv or a JSON history, or start with `--logdir DIR`."
        )
        return
    rows = []
    damaged = []
    found = []
    for source in sources:
        try:
            runs = cached.runs(source)
        except InputError as error:
            if source.origin == "live" and live.folder_status(source.path) in ACTIVE:
                st.caption(f"{source.label}: starting; its log has not been written yet.")
            else:
                st.error(f"{source.label}: {error}")
            continue
        found.extend((source, run) for run in runs)
    model = st.session_state.get("model")
    mine = ui.model_runs(model, {f"{s.key}|{run.name}": [run.path] for s, run in found})
    order = {name: index for index, name in enumerate(mine)}
    # The sidebar model's own runs first, in its card's order, then the rest as found.
    found.sort(key=lambda pair: order.get(f"{pair[0].key}|{pair[1].name}", len(order)))
    for source, run in found:
        row = {"run": run.name, "source": source.label, "format": run.format}
        if model is not None:
            row["model"] = model.label if f"{source.key}|{run.name}" in mine else ""
        tags = _pick_tags(list(run.scalars))
        main = run.scalars[tags[0]] if tags else None
        row["last step"] = f"{main.last_step:,}" if main is not None else "—"
        row["points"] = f"{main.num_points:,}" if main is not None else "0"
        row["last values (train / validation)"] = _last_values(run)
        row["histograms"] = f"{len(run.histograms):,}"
        row["problems"] = f"{len(run.problems):,}"
        rows.append(row)
        if run.problems:
            damaged.append((source.label, run))
    if rows:
        frame = pd.DataFrame(rows)
        if frame["source"].nunique() == 1:
            frame = frame.drop(columns="source")  # one source: its name adds nothing
        if "model" in frame and not frame["model"].any():
            frame = frame.drop(columns="model")
        st.dataframe(
            frame.astype(str).replace({"None": "—", "nan": "—"}),
            hide_index=True,
            column_config={
                "run": st.column_config.TextColumn(width="medium"),
                "last values (train / validation)": st.column_config.TextColumn(
                    width="large",
                    help="The last value of the main metrics: training / validation.",
                ),
            },
            width="stretch",
        )
        if mine:
            st.caption(f"The runs of {model.label}, the sidebar's model, come first.")
    for label, run in damaged:
        with st.expander(f"{len(run.problems)} problem(s) in {label} / {run.name}"):
            table = pd.DataFrame([problem.to_dict() for problem in run.problems])
            st.dataframe(table.astype(str), hide_index=True, width="stretch")


def _samples() -> None:
    source = st.session_state.get("samples")
    st.subheader("Sample set")
    if source is None:
        st.info(
            "No sample set selected. Upload a .npz (x, y), images or a .txt file, or start with `--samples PATH`."
        )
        return
    try:
        samples = cached.samples(source)
    except InputError as error:
        st.error(str(error))
        return
    labels = "no labels" if samples.y is None else f"{len(set(samples.y.tolist()))} label value(s)"
    st.text(
        f"{samples.name}: {len(samples):,} {samples.kind} sample(s), each {shape_text(samples.x.shape[1:])}, {labels}"
    )


def _start_form() -> None:
    from neurogenesis.zoo import SCENARIO_NAMES, SCENARIOS

    # Plain widgets, not a form: Enter in the Epochs box only sets the number; only the button
    # starts a run.
    left, middle, right = st.columns([3, 2, 1], vertical_alignment="bottom")
    scenario = left.selectbox(
        "Scenario",
        SCENARIO_NAMES,
        format_func=lambda name: SCENARIOS[name].title,
        key="live_scenario",
    )
    epochs = middle.number_input(
        "Epochs", min_value=1, max_value=live.MAX_EPOCHS, value=10, key="live_epochs"
    )
    submitted = right.button("Start training", type="primary", key="live_start")
    if submitted:
        try:
            run = live.start_training(scenario, int(epochs))
        except InputError as error:
            st.error(str(error))
            return
        st.session_state.setdefault("live_runs", []).append(run)
        st.session_state.setdefault("select_next", []).append(run.source().key)
        st.rerun()


def _live_run(run: live.LiveRun) -> None:
    status = live.training_status(run)
    done = live.epochs_completed(run)
    header, button = st.columns([5, 1], vertical_alignment="center")
    header.markdown(f"**{run.source().label}** · {status} · epoch {done} of {run.epochs}")
    if status in ("starting", "running") and button.button("Stop", key=f"stop-{run.run_id}"):
        live.stop_training(run)
        status = "stopping"
    st.progress(min(done / run.epochs, 1.0))
    if status == "failed":
        st.error("The training process failed. Its last output:")
        st.code(live.training_log_tail(run) or "(no output)", language=None)
        return
    try:
        runs = cached.runs(run.source())
    except InputError:
        st.caption("Waiting for the first epoch…")
        return
    info = curves_info(runs, "loss")
    if not info.curves:
        st.caption("Waiting for the first epoch…")
        return
    ui.chart(
        plot_curves(info, title=f"loss of {run.scenario}, live"),
        key=f"live-{run.run_id}",
        name=f"live_{run.scenario}_loss",
        data=pd.DataFrame(
            [
                {"run": curve.run, "role": curve.role, "step": step, "loss": value}
                for curve in info.curves
                for step, value in zip(curve.steps, curve.values, strict=True)
            ]
        ),
    )
    if info.last_wall_time is None:
        return
    if status in ACTIVE:
        st.caption(f"Last point arrived {max(time.time() - info.last_wall_time, 0):,.0f} s ago.")
    else:  # a clock that no longer ticks would read wrong: say when, not how long ago
        clock = time.strftime("%H:%M:%S", time.localtime(info.last_wall_time))
        st.caption(f"Training {status}; its last point arrived at {clock}.")


def _live_runs(was_active: bool) -> None:
    runs = st.session_state.get("live_runs", [])[-LIVE_RUNS_SHOWN:][::-1]
    for run in runs:
        _live_run(run)
    if was_active and not any(live.training_status(run) in ACTIVE for run in runs):
        st.rerun()  # every run has ended: a full rerun stops the timer and refreshes the sidebar


def _live_training() -> None:
    st.subheader("Train a demo model live")
    st.caption(
        "Training runs in a background process and records everything the pages use; the curves "
        "below update by themselves. The run is added to the sidebar's training logs."
    )
    with st.container():  # whatever the form shows (an error), the fragment stays in place
        _start_form()
    runs = st.session_state.get("live_runs", [])
    if not runs:
        return
    active = any(live.training_status(run) in ACTIVE for run in runs[-LIVE_RUNS_SHOWN:])
    # In its own container, at a place that never moves: a fragment redraws where it was first
    # drawn, and a timer still pending from the previous full run would otherwise draw the
    # blocks a second time where they used to be.
    with st.container(key="live_runs_area"):
        st.fragment(run_every=LIVE_REFRESH_SECONDS if active else None)(_live_runs)(active)


ui.start_page("Home")
st.title("NeuroGenesis")
st.markdown(
    "See inside Keras models: the architecture, how training went, what the network learned, "
    "where its attention goes and why it fails. Pick a model, logs and samples in the sidebar."
)
model_column, samples_column = st.columns(2, gap="large")
with model_column:
    _model_card()
with samples_column:
    _samples()
# Each section in one container, so what the sections hold (an error that turns into a table)
# never shifts the live-training fragment below them.
with st.container(key="runs_area"):
    _runs()
with st.container(key="live_area"):
    _live_training()

st.subheader("What each page answers")
for title, question, built in PAGE_GUIDE:
    st.markdown(f"**{title}**{'' if built else ' (coming soon)'}: {question}")

ui.bundle_button()
with ui.how_to_read("Getting started"):
    st.markdown(
        "- **Parameters** are counted from the weights stored in the file, before TensorFlow is loaded.\n"
        "- **Training runs** lists every run found under the selected logs, with the last value of its main "
        "metrics. *Diverged* means the last value is NaN or infinite; *—* means the metric was not logged.\n"
        "- **Problems** are damage found while reading (a truncated or corrupt file, a restart where steps went "
        "back, repeated steps): the readable part is still shown, and the list says where reading stopped."
    )

"""Attention: where each head looks, for a sample or your own text, and how that evolved in training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import ui
from neurogenesis import cached
from neurogenesis.analysis.attention import attention_flow, attention_rollout
from neurogenesis.errors import InputError
from neurogenesis.io.samples import encode_text
from neurogenesis.plotting.attention import (
    plot_attention_evolution,
    plot_attention_head,
    plot_attention_heads,
    plot_entropy_over_epochs,
    plot_head_importance,
    plot_head_statistics,
    plot_head_view,
    plot_model_view,
    plot_rollout,
    plot_temporal_attention,
)

TABS = ("Heads", "Model view", "Head view", "Rollout", "Head statistics", "Importance", "Evolution")
PAD_WORDS = ("[PAD]", "<pad>", "")
SCALE_HELP = (
    "On: each head's colours run from 0 to its own largest weight, so a diffuse head (every "
    "weight near 1/length) shows its pattern instead of a blank square; hover gives the weights. "
    "Off: one shared 0–1 scale, so heads compare directly."
)
STATISTICS_SAMPLES = 256
IMPORTANCE_SAMPLES = 200


def _vocabulary(sample_set) -> list[str] | None:
    vocabulary = sample_set.extras.get("vocabulary") if sample_set is not None else None
    return [str(word) for word in vocabulary.reshape(-1)] if vocabulary is not None else None


def _words(ids, vocabulary) -> list[str]:
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if vocabulary is None:
        return [str(i) for i in ids]
    return [vocabulary[i] if 0 <= i < len(vocabulary) else f"#{i}" for i in ids]


def _sample_label(sample_set, index: int, vocabulary) -> str:
    text = sample_set.per_sample("text")
    if text is not None:
        return f"#{index}: {text[index]}"
    if vocabulary is not None:
        words = [w for w in _words(sample_set.x[index], vocabulary) if w not in PAD_WORDS]
        return f"#{index}: {' '.join(words)}"
    return f"#{index}"


def _real_length(words: list[str]) -> int:
    """Positions up to the last real token: padding at the end is left off the pictures."""
    real = [i for i, word in enumerate(words) if word not in PAD_WORDS]
    return (real[-1] + 1) if real else len(words)


def choose_input(key: str, sample_set, vocabulary, length: int, label: str, default: int = 0):
    """A sample, or (for token models with a vocabulary) text the user types; returns
    (x, words, sample index or None for typed text)."""
    own = False
    if vocabulary is not None:
        own = (
            st.segmented_control(
                f"{label}",
                ("a sample", "your own text"),
                default="a sample",
                key=f"{key}_source",
            )
            == "your own text"
        )
    if own:
        text = st.text_input("Text", "the acting was not good", key=f"{key}_text", max_chars=2000)
        try:
            ids, _ = encode_text(text, vocabulary, length)
        except InputError as error:
            st.warning(str(error))
            return None, None, None
        words = _words(ids[0], vocabulary)
        unknown = [w for w in text.lower().split() if w.strip(".,;:!?") not in vocabulary]
        if unknown:
            st.caption(
                f"Not in the model's vocabulary (read as [UNK]): {', '.join(sorted(set(unknown)))}"
            )
        return ids, words, None
    count = len(sample_set)
    index = st.selectbox(
        f"{label}: sample" if vocabulary is None else "Sample",
        list(range(count)),
        index=min(default, count - 1),
        format_func=lambda i: _sample_label(sample_set, i, vocabulary),
        key=f"{key}_sample",
    )
    x = np.asarray(sample_set.x[index : index + 1])
    words = _words(x[0], vocabulary) if vocabulary is not None else None
    return x, words, index


def prediction_text(prediction, sample_set, index) -> str | None:
    """What the model says about one input, as the sample lists say it: the predicted class and
    its probability, and for a sample its label (marked when they differ); None when the model
    does not classify."""
    if prediction.predicted is None:
        return None
    name = ui.class_name(prediction, prediction.predicted[0])
    text = f"Model's prediction: {name} (probability {prediction.confidence[0]:.2f})"
    labels = sample_set.y if index is not None else None
    if labels is not None and prediction.task in ("classification", "binary"):
        label = np.asarray(labels[index]).reshape(-1)
        label = int(label.argmax()) if label.size > 1 else int(np.rint(label[0]))
        text += f"; label {ui.class_name(prediction, label)}"
        if label != int(prediction.predicted[0]):
            text += " ✗"
    return text


def show_prediction(model_source, x, sample_set, index) -> None:
    try:
        prediction = cached.input_prediction(model_source, x, sample_set.label_names)
    except InputError as error:
        st.caption(f"No prediction: {error}")
        return
    if (text := prediction_text(prediction, sample_set, index)) is not None:
        st.markdown(text)


def weights_table(values, queries, keys, **columns) -> pd.DataFrame:
    """``(heads, queries, keys)`` attention weights, one row per head, query and key (what the
    charts draw); ``columns`` are constant columns put first (the layer)."""
    values = np.asarray(values, dtype=np.float64)
    heads, num_queries, num_keys = values.shape
    return pd.DataFrame(
        {
            **{name: [value] * values.size for name, value in columns.items()},
            "head": np.repeat(np.arange(heads), num_queries * num_keys),
            "query position": np.tile(np.repeat(np.arange(num_queries), num_keys), heads),
            "query": np.tile(np.repeat(np.asarray(queries, dtype=object), num_keys), heads),
            "key position": np.tile(np.arange(num_keys), heads * num_queries),
            "key": np.tile(np.asarray(keys, dtype=object), heads * num_queries),
            "weight": values.ravel(),
        }
    )


def token_labels(words, scores_shape) -> tuple[list[str], list[str]]:
    queries, keys = scores_shape[-2], scores_shape[-1]
    if words is not None and len(words) == keys:
        return (words if queries == keys else [f"q{i}" for i in range(queries)]), words
    return [f"q{i}" for i in range(queries)], [f"k{i}" for i in range(keys)]


def scale_choice(key: str) -> str:
    """The colour scale of attention heatmaps: each head's own max (the default) or shared 0–1."""
    own = st.toggle("Scale each head to its own max", value=True, key=key, help=SCALE_HELP)
    return "head" if own else "shared"


def heads_view(scores: dict, words, compare_scores, compare_words) -> None:
    layers = list(scores)
    scale = scale_choice("attention_heads_scale")
    left, middle, right = st.columns([2, 1, 2])
    layer = left.selectbox("Layer", layers, key="attention_layer")
    values = scores[layer][0]
    head = middle.selectbox("Head", list(range(values.shape[0])), key="attention_head")
    queries, keys = token_labels(words, values.shape)
    cut = _real_length(keys) if words is not None else len(keys)
    same = values.shape[1] == values.shape[2]
    rows = cut if same else len(queries)
    query = right.selectbox(
        "Query token",
        [None, *range(rows)],
        format_func=lambda q: "every token" if q is None else f"{q}: {queries[q]}",
        key="attention_query",
    )
    inputs = [(scores, words, "")] + (
        [(compare_scores, compare_words, " (second input)")] if compare_scores else []
    )
    matrices = []
    for these, labels, name in inputs:
        block = these[layer][0]
        q_labels, k_labels = token_labels(labels, block.shape)
        end = _real_length(k_labels) if labels is not None else len(k_labels)
        matrix = block[head, : (end if same else block.shape[1]), :end]
        matrices.append((matrix, q_labels, k_labels, end, name))
    # Two inputs side by side share one scale: on the head's own scale, the larger of the two
    # maxima; else 0-1. Each colour bar says which.
    pair_max = (
        max(float(np.max(m)) for m, *_ in matrices) or 1.0
        if len(matrices) == 2 and scale == "head"
        else None
    )
    columns = st.columns(2) if compare_scores is not None else [st.container()]
    for column, (matrix, q_labels, k_labels, end, name) in zip(columns, matrices, strict=False):
        with column:
            ui.chart(
                plot_attention_head(
                    matrix,
                    q_labels[: matrix.shape[0]],
                    k_labels[:end],
                    title=f"{layer}, head {head}{name}",
                    query_index=query if query is not None and query < matrix.shape[0] else None,
                    scale=scale,
                    zmax=pair_max,
                ),
                key=f"attention_head_chart{name}",
                data=weights_table(
                    matrix[None], q_labels[: matrix.shape[0]], k_labels[:end], layer=layer
                ).drop(columns="head"),
            )
    if len(matrices) == 2:
        st.caption(
            "Both inputs on one colour scale: "
            + (
                f"0 to {pair_max:.3g}, the larger of the two heads' maxima."
                if pair_max is not None
                else "the shared 0–1 scale."
            )
        )
    block = values[:, : (cut if same else values.shape[1]), :cut]
    ui.chart(
        plot_attention_heads(
            block, queries[: block.shape[1]], layer=layer, key_tokens=keys[:cut], scale=scale
        ),
        key="attention_heads_chart",
        data=weights_table(block, queries[: block.shape[1]], keys[:cut], layer=layer),
    )


def model_view(scores: dict, words) -> None:
    first = next(iter(scores.values()))
    queries, keys = token_labels(words, first.shape)
    cut = _real_length(keys) if words is not None else len(keys)
    same = first.shape[2] == first.shape[3]
    trimmed = {
        layer: values[0][
            :, : (cut if values.shape[2] == values.shape[3] else values.shape[2]), :cut
        ]
        for layer, values in scores.items()
    }
    layers = list(trimmed)

    def enlarge() -> None:
        event = st.session_state.get("attention_model_view") or {}
        points = (event.get("selection") or {}).get("points") or []
        data = points[0].get("customdata") if points else None
        if data is not None and len(data) >= 2:
            st.session_state["attention_layer"] = layers[int(data[0])]
            st.session_state["attention_head"] = int(data[1])
            st.session_state["attention_tab"] = "Heads"

    shown = queries[:cut] if same else queries

    def table() -> pd.DataFrame:
        return pd.concat(
            [
                weights_table(values, shown[: values.shape[1]], keys[:cut], layer=layer)
                for layer, values in trimmed.items()
            ],
            ignore_index=True,
        )

    scale = scale_choice("attention_model_scale")
    ui.chart(
        plot_model_view(trimmed, shown, key_tokens=keys[:cut], scale=scale),
        key="attention_model_view",
        data=table,
        on_select=enlarge,
        selection_mode="points",
    )
    st.caption(
        "Every layer (rows) and head (columns) for this input; hover a cell for weights, click it "
        "to open that head large in the Heads tab."
    )


def head_view(scores: dict, words) -> None:
    layers = list(scores)
    left, middle, right = st.columns([2, 2, 2])
    layer = left.selectbox("Layer", layers, key="attention_hv_layer")
    values = scores[layer][0]
    heads = middle.multiselect(
        "Heads",
        list(range(values.shape[0])),
        default=list(range(values.shape[0])),
        key="attention_hv_heads",
    )
    queries, keys = token_labels(words, values.shape)
    cut = _real_length(keys) if words is not None else len(keys)
    same = values.shape[1] == values.shape[2]
    rows = cut if same else values.shape[1]
    query = right.selectbox(
        "Query token",
        [None, *range(rows)],
        format_func=lambda q: "every token" if q is None else f"{q}: {queries[q]}",
        key="attention_hv_query",
    )
    table = weights_table(values[:, :rows, :cut], queries[:rows], keys[:cut], layer=layer)
    ui.chart(
        plot_head_view(
            values[:, :rows, :cut],
            queries[:rows],
            heads=heads or None,
            key_tokens=keys[:cut],
            query_index=query,
        ),
        key="attention_head_view",
        data=table[table["head"].isin(heads)] if heads else table,
    )


def rollout_view(scores: dict, words) -> None:
    square = {layer: v for layer, v in scores.items() if v.shape[2] == v.shape[3]}
    if not square:
        st.info(
            "Rollout follows self-attention through the layers; this model's attention is "
            "cross-attention (queries and keys differ), so there is no chain to follow."
        )
        return
    lengths = {v.shape[-1] for v in square.values()}
    if len(lengths) > 1:
        st.info("The attention layers attend over different lengths; rollout needs one length.")
        return
    method = (
        st.segmented_control(
            "Aggregation", ("rollout", "flow"), default="rollout", key="attention_aggregation"
        )
        or "rollout"
    )
    _, keys = token_labels(words, next(iter(square.values())).shape)
    cut = _real_length(keys) if words is not None else len(keys)
    # Padding is cut before aggregating, so no flow or rollout passes through it.
    trimmed = {layer: values[:, :, :cut, :cut] for layer, values in square.items()}
    if method == "flow":
        matrix = attention_flow(trimmed)[0]
        title = "Attention flow (maximum flow from each input token)"
    else:
        matrix = attention_rollout(trimmed)[0]
        title = "Attention rollout"
    ui.chart(
        plot_rollout(matrix, keys[:cut], title=title),
        key="attention_rollout_matrix",
        data=pd.DataFrame(matrix, index=keys[:cut], columns=keys[:cut]),
    )
    pooled = matrix.mean(axis=0)
    pooled = pooled / pooled.sum() if pooled.sum() > 0 else pooled
    ui.chart(
        plot_rollout(pooled, keys[:cut], title="What the averaged output draws on"),
        key="attention_rollout_output",
        data=pd.DataFrame({"token": keys[:cut], "share": pooled}),
    )
    st.caption(
        f"Through {len(square)} layers ({', '.join(square)}), heads averaged, the residual "
        "connection counted as half of each layer (Abnar & Zuidema 2020). Rollout multiplies the "
        "layers' matrices; flow takes, for each pair, the maximum flow through the layers, bounded "
        "by each path's weakest link. The bars average the rows (shares of the total), as a model "
        "that pools every position (the demo's global average) does."
    )


def statistics_view(model_source, samples_source) -> None:
    try:
        stats = cached.head_statistics(model_source, samples_source, STATISTICS_SAMPLES)
    except InputError as error:
        st.warning(str(error))
        return
    rows = []
    for item in stats:
        for head in range(len(item.entropy)):
            rows.append(
                {
                    "layer": item.layer,
                    "head": head,
                    "entropy / uniform": item.entropy[head] / max(item.max_entropy, 1e-12),
                    "mean distance": item.distance[head],
                    "to the first token": item.first_token[head],
                    "peak weight": item.max_attention[head],
                }
            )
    table = pd.DataFrame(rows)
    ui.chart(plot_head_statistics(stats), key="attention_statistics", data=table)
    st.dataframe(table, hide_index=True, key="attention_statistics_table")
    st.caption(
        f"Over the first {STATISTICS_SAMPLES} samples, padding left out. High entropy: a diffuse "
        "head; a small distance: a local or positional head; most weight on the first token: a "
        "'sink' head that parks attention there when it has nothing to do."
    )


def importance_view(model_source, samples_source) -> None:
    if not st.toggle("Remove one head at a time and measure the change", key="attention_ablate"):
        st.caption(
            f"Runs the first {IMPORTANCE_SAMPLES} samples once per head, on a copy of the model "
            "with that head's output removed."
        )
        return
    try:
        info = cached.head_importance(model_source, samples_source, IMPORTANCE_SAMPLES)
    except InputError as error:
        st.warning(str(error))
        return
    ranking = info.ranking()
    ui.chart(
        plot_head_importance(info),
        key="attention_importance",
        data=pd.DataFrame(ranking, columns=["layer", "head", "mean drop when removed"]),
    )
    top = ranking[:5]
    st.caption(
        "Most important heads (mean drop of the predicted class's output when removed): "
        + ", ".join(f"{layer} head {head} ({drop:+.3f})" for layer, head, drop in top)
    )


def evolution_view(vocabulary) -> None:
    runs = cached.attention_runs(st.session_state.get("logs", []))
    if not runs:
        st.info(
            "No recorded run with attention scores among the chosen training logs. Runs recorded "
            "with NeuroGenesis's RunRecorder keep them each epoch (the text demo's runs do)."
        )
        return
    names = [name for name, _ in runs]
    left, middle, right, far = st.columns(4)
    name = left.selectbox("Run", names, key="attention_run")
    try:
        info = cached.attention_evolution(dict(runs)[name])
    except InputError as error:
        st.warning(str(error))
        return
    layer = middle.selectbox("Layer", list(info.layers), key="attention_ev_layer")
    stack = info.scores[layer]
    head = right.selectbox("Head", list(range(stack.shape[2])), key="attention_ev_head")
    sample = far.selectbox("Probe sample", list(range(stack.shape[1])), key="attention_ev_sample")
    words = None
    if info.inputs.ndim == 2 and info.inputs.shape[0] > sample and vocabulary is not None:
        words = _words(info.inputs[sample], vocabulary)
    queries, keys = token_labels(words, stack.shape)
    cut = _real_length(keys) if words is not None else len(keys)
    same = stack.shape[3] == stack.shape[4]
    frames = [
        stack[e, sample, head, : (cut if same else stack.shape[3]), :cut]
        for e in range(len(info.epochs))
    ]
    scale = scale_choice("attention_evolution_scale")
    ui.chart(
        plot_attention_evolution(
            frames, info.epochs.tolist(), keys[:cut], title=f"{layer}, head {head}", scale=scale
        ),
        key="attention_evolution",
    )
    labels = [
        f"{layer_name} head {h}" for layer_name in info.layers for h in range(info.entropy.shape[2])
    ]
    entropy = info.entropy.reshape(len(info.epochs), -1)
    ui.chart(
        plot_entropy_over_epochs(entropy, info.epochs.tolist(), labels),
        key="attention_entropy",
        data=pd.DataFrame(entropy, index=pd.Index(info.epochs, name="epoch"), columns=labels),
    )
    for note in info.notes:
        st.caption(note)


# --- the page -----------------------------------------------------------------------------------

ui.start_page("Attention")
st.title("Attention")
st.caption(
    "Where does each head of each MultiHeadAttention layer look, for a sample or your own text; "
    "which heads matter; and how did that change while the model trained?"
)
model_source, samples_source = ui.chosen_model()
layers = ui.or_stop(lambda: cached.attention_layers(model_source))
if not layers:
    st.info(
        "This model has no keras.layers.MultiHeadAttention layer, so there is no attention to "
        "show. Choose the text demo (sentiment_transformer) or the weather demo, whose LSTM "
        "attends over its input window."
    )
    st.stop()
if samples_source is None:
    st.info("Choose a sample set for this model in the sidebar.")
    st.stop()
try:
    sample_set = cached.samples(samples_source)
except InputError as error:
    st.error(str(error))
    st.stop()
vocabulary = _vocabulary(sample_set)
length = int(np.asarray(sample_set.x).shape[1]) if np.asarray(sample_set.x).ndim >= 2 else 1
series = np.asarray(sample_set.x).ndim == 3 and vocabulary is None

with st.container(border=True):
    first, second = st.columns(2)
    with first:
        x, words, index = choose_input("attention_a", sample_set, vocabulary, length, "Input")
        if x is not None:
            show_prediction(model_source, x, sample_set, index)
    compare = second.toggle("Compare with a second input", key="attention_compare")
    x_b = words_b = None
    if compare:
        with second:
            x_b, words_b, index_b = choose_input(
                "attention_b", sample_set, vocabulary, length, "Second input", default=1
            )
            if x_b is not None:
                show_prediction(model_source, x_b, sample_set, index_b)
if x is None:
    st.stop()
try:
    scores = cached.attention_scores(model_source, x)
    scores_b = cached.attention_scores(model_source, x_b) if x_b is not None else None
except InputError as error:
    st.error(str(error))
    st.stop()

if series:
    layer = st.selectbox("Attention layer", layers, key="attention_temporal_layer")
    dates = sample_set.per_sample("dates")
    steps = scores[layer].shape[-1]
    time_labels = [f"t−{steps - 1 - i}" for i in range(steps)]
    weights = np.asarray(scores[layer][0])
    weights = weights[:, None, :] if weights.ndim == 2 else weights
    ui.chart(
        plot_temporal_attention(
            scores[layer][0],
            time_labels=time_labels,
            title=f"{layer}: attention over the input window"
            + (
                f" (window ending {dates[int(st.session_state.get('attention_a_sample', 0))]})"
                if dates is not None
                else ""
            ),
        ),
        key="attention_temporal",
        data=weights_table(
            weights, [f"q{i}" for i in range(weights.shape[1])], time_labels, layer=layer
        ),
    )
    st.caption(
        "Each head's weight on every time step of the input window, for the chosen sample: the "
        "model's forecast draws most on the steps with the tallest bars."
    )

tabs = dict(zip(TABS, st.tabs(TABS, key="attention_tab", on_change="rerun"), strict=True))
with tabs["Heads"]:
    if tabs["Heads"].open:
        heads_view(scores, words, scores_b, words_b)
with tabs["Model view"]:
    if tabs["Model view"].open:
        model_view(scores, words)
with tabs["Head view"]:
    if tabs["Head view"].open:
        head_view(scores, words)
with tabs["Rollout"]:
    if tabs["Rollout"].open:
        rollout_view(scores, words)
with tabs["Head statistics"]:
    if tabs["Head statistics"].open:
        statistics_view(model_source, samples_source)
with tabs["Importance"]:
    if tabs["Importance"].open:
        importance_view(model_source, samples_source)
with tabs["Evolution"]:
    if tabs["Evolution"].open:
        evolution_view(vocabulary)

ui.bundle_button()
with ui.how_to_read("Attention"):
    st.markdown(
        "**A head's matrix** has one row per query token (the position being computed) and one "
        "column per key token (the positions it reads); each row sums to 1. Padding gets no "
        "weight and is cut off the pictures.\n\n"
        "**Attention is not explanation** (Jain & Wallace 2019): a weight says how much a position "
        "was *mixed in*, not how much it *mattered* for the prediction. Different attention "
        "patterns can give the same output, and the value vectors, residual connections and the "
        "layers after attention change what a weight means. Use the features page's attribution "
        "for *why*, and the importance tab here to see which heads the prediction really needs.\n\n"
        "**Rollout** (Abnar & Zuidema 2020) follows attention through all layers: each layer's "
        "heads are averaged, the residual connection counts as half, and the layers' matrices "
        "are multiplied, so the result says how much each input token flows into each position "
        "at the top. It is closer to what the output sees than any single layer, and it still "
        "ignores the values and the feed-forward layers.\n\n"
        "**Head statistics**: a high entropy means a diffuse head (it averages); a small mean "
        "distance means a local or positional head (previous/next token); most weight on the first "
        "token marks a 'sink' head. **Importance** removes one head at a time (its share of the "
        "layer's output set to zero, on a copy) and measures the drop of the predicted class's "
        "probability; many heads can usually be removed with little change (Michel et al. 2019).\n\n"
        "**Evolution** replays the scores the RunRecorder kept for the probe samples at each epoch "
        "(the NeuroGenesis paper's Figure 8): heads usually start uniform (entropy near 1) and "
        "specialise as the model learns."
    )

"""The attention page on models of several inputs (KerasHub BERT backbone and classifier, fed
token_ids, padding_mask and segment_ids): every tab renders, the padding is left off, and the
heatmap drawn is the layer's own scores for the chosen sample."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurogenesis.analysis.attention import attention_rollout, attention_scores, real_tokens
from neurogenesis.io.models import load_model
from neurogenesis.io.samples import load_samples
from tests.app.pages import charts, open_page, rerun
from tests.app.test_attention import TABS, _heatmap_traces, _z

pytest.importorskip("keras_hub")


def _no_errors(at) -> None:
    assert not at.exception, [exception.value for exception in at.exception]
    assert not at.error, [error.value for error in at.error]


def _check_statistics(at, model, sample_set) -> None:
    """The table's entropy is each head's, by hand over the real tokens of every sample."""
    mask = sample_set.x["padding_mask"]
    assert any(
        f"({mask.sum():,} of {mask.size:,} token positions real)" in caption.value
        for caption in at.caption
    )
    table = next(
        frame.value for frame in at.dataframe if "entropy / uniform" in frame.value.columns
    )
    for layer, values in attention_scores(model, sample_set.x).items():
        lengths = mask.sum(axis=1)
        entropy = np.zeros(values.shape[1])
        for n, length in enumerate(lengths):
            block = values[n, :, :length, :length].astype(float)
            entropy += -(block * np.log(np.clip(block, 1e-30, None))).sum(axis=(1, 2))
        relative = entropy / lengths.sum() / np.log(lengths.mean())
        shown = table[table["layer"] == layer]["entropy / uniform"].to_numpy()
        np.testing.assert_allclose(shown, relative, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["bert", "bert_classifier"])
def test_bert_every_tab_and_the_heatmaps_are_the_layers_scores(app_argv, multi_input_cases, case):
    model_path, samples_path = multi_input_cases[case]
    at = open_page(
        app_argv, "attention.py", "--model", model_path, "--samples", samples_path, "--no-demos"
    )
    _no_errors(at)
    model = load_model(model_path)
    sample_set = load_samples(samples_path)
    x = sample_set.x[:1]
    scores = attention_scores(model, x)
    real = int(real_tokens(model, x)[0].sum())
    assert real < x["token_ids"].shape[1]  # the first sample is padded
    words = sample_set.words(x["token_ids"][0])[:real]
    layer = next(iter(scores))
    head, heads = charts(at)[:2]
    (single,) = _heatmap_traces(head)
    np.testing.assert_allclose(_z(single), scores[layer][0, 0, :real, :real], atol=1e-5)
    assert head["layout"]["xaxis"]["ticktext"] == words  # the padding is off the labels too
    # The small multiples: every head of the layer, each on its own scale.
    for index, trace in enumerate(_heatmap_traces(heads)):
        expected = scores[layer][0, index, :real, :real]
        np.testing.assert_allclose(_z(trace), expected / expected.max(), atol=1e-5)
    for tab in TABS[1:]:
        at.session_state["attention_tab"] = tab
        rerun(at)
        _no_errors(at)
        if tab in ("Model view", "Head view"):
            assert any(tab in json.dumps(spec["layout"].get("title", "")) for spec in charts(at))
        if tab == "Rollout":
            rollout = attention_rollout(scores, mask=real_tokens(model, x))[0, :real, :real]
            drawn = next(
                _z(trace)
                for spec in charts(at)
                if "Attention rollout" in json.dumps(spec.get("layout", {}).get("title", ""))
                for trace in _heatmap_traces(spec)
            )
            np.testing.assert_allclose(drawn, rollout, atol=1e-5)
        if tab == "Head statistics":
            _check_statistics(at, model, sample_set)
        if tab == "Importance":
            at.toggle(key="attention_ablate").set_value(True)
            rerun(at)
            _no_errors(at)
            assert any("Most important heads" in caption.value for caption in at.caption)
        if tab == "Evolution":
            assert any("No recorded run" in info.value for info in at.info)
    if case == "bert":  # a backbone of two outputs: the other one chosen, the same attention
        output = next(box for box in at.sidebar.selectbox if box.label == "Output")
        assert output.options == ["pooled_output", "sequence_output"]
        output.select("sequence_output")
        at.session_state["attention_tab"] = "Heads"
        rerun(at)
        _no_errors(at)
        (single,) = _heatmap_traces(charts(at)[0])
        np.testing.assert_allclose(_z(single), scores[layer][0, 0, :real, :real], atol=1e-5)
    # Typed text cannot feed a model of several inputs: said in one sentence, no crash.
    at.session_state["attention_tab"] = "Heads"
    at.segmented_control(key="attention_a_source").set_value("your own text")
    rerun(at)
    _no_errors(at)
    assert any("Typed text needs every input" in info.value for info in at.info)

"""``neurogenesis attention MODEL --data bert.npz``: a KerasHub BERT fed every input of the set
by name, the scores written equal to each TransformerEncoder's own with the padding mask."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis.io.models import load_model
from tests.analysis.test_attention_inputs import _encoder_scores
from tests.test_cli import run_cli

pytest.importorskip("keras_hub")


@pytest.mark.parametrize("output", [None, "sequence_output"])
def test_attention_on_a_bert_backbone_writes_each_encoders_scores(capsys, tmp_path, output):
    from neurogenesis.testing import bert_samples, tiny_bert

    model_path, data = tmp_path / "bert.keras", tmp_path / "bert.npz"
    tiny_bert().save(model_path)
    samples = bert_samples(5)
    np.savez(data, **samples)
    out, figure = tmp_path / "scores.npz", tmp_path / "view.html"
    extra = ["--output", output] if output else []
    code, _, err = run_cli(
        capsys, "attention", model_path, "--data", data, "--out", out, "--figure", figure, *extra
    )
    assert code == 0, err
    mask = samples["padding_mask"]
    assert f"{int(mask.sum())} of {mask.size} tokens real" in err
    backbone = load_model(model_path)
    inputs = {name: samples[name] for name in ("token_ids", "padding_mask", "segment_ids")}
    expected = _encoder_scores(backbone, inputs)
    written = np.load(out)
    assert sorted(written.files) == sorted(f"{name}/self_attention_layer" for name in expected)
    for name, reference in expected.items():
        np.testing.assert_allclose(written[f"{name}/self_attention_layer"], reference, atol=1e-5)
    html = figure.read_text()
    assert "[CLS]" in html and "[PAD]" not in html  # the first sentence, its padding left off

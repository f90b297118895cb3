"""The saliency and project verbs on models of several inputs: per-input arrays written by name
and read back against the analysis (issue 21 part 5)."""

from __future__ import annotations

import numpy as np
import pytest

from neurogenesis import cli
from neurogenesis.testing import write_multi_input_cases


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_multi_input_cases(tmp_path_factory.mktemp("multi-input-cli"))


def run_cli(capsys, *argv):
    code = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _loaded(case):
    from neurogenesis.io.models import load_model
    from neurogenesis.io.samples import load_samples

    return load_model(case[0]), load_samples(case[1])


@pytest.mark.parametrize("method", ["gradient", "gradcam"])
def test_saliency_writes_each_input_of_the_two_input_model(capsys, cases, tmp_path, method):
    from neurogenesis.analysis.attribution import attribution_info

    model_path, samples_path = cases["two_input"]
    out = tmp_path / "maps.npz"
    code, _, err = run_cli(
        capsys, "saliency", model_path, "--data", samples_path, "--method", method,
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    written = np.load(out)
    model, samples = _loaded(cases["two_input"])
    info = attribution_info(model, samples.x, method)
    np.testing.assert_array_equal(written["target"], info.target)
    for name, one in info.inputs.items():
        np.testing.assert_allclose(written[f"maps_{name}"], one.maps, rtol=1e-5, atol=1e-7)
        if one.attributions is not None:
            np.testing.assert_allclose(
                written[f"attributions_{name}"], one.attributions, rtol=1e-5, atol=1e-7
            )
    if method == "gradient":
        assert {"maps_image", "maps_meta", "attributions_image", "attributions_meta"} <= set(
            written.files
        )
    else:
        assert "maps_meta" not in written.files and written["maps_image"].shape == (32, 8, 8)


def test_saliency_and_project_on_the_bert_classifier(capsys, cases, tmp_path):
    pytest.importorskip("keras_hub")
    from neurogenesis.analysis.attribution import token_attribution_info
    from neurogenesis.analysis.embeddings import hidden_states

    model_path, samples_path = cases["bert_classifier"]
    out = tmp_path / "tokens.npz"
    code, _, err = run_cli(
        capsys, "saliency", model_path, "--data", samples_path, "--method", "gradient",
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    written = np.load(out)
    model, samples = _loaded(cases["bert_classifier"])
    info = token_attribution_info(model, samples.x, "gradient")
    np.testing.assert_allclose(written["attributions_token_ids"], info.scores, rtol=1e-5)
    np.testing.assert_array_equal(written["real"], samples.input("padding_mask").astype(bool))
    assert np.all(written["maps_token_ids"][~written["real"]] == 0)

    projected = tmp_path / "pca.npz"
    from neurogenesis.analysis.graph import graph_layers

    layer = next(p for p in graph_layers(model).paths() if p.endswith("transformer_layer_1"))
    code, _, err = run_cli(
        capsys, "project", model_path, "--data", samples_path, "--layer", layer,
        "--pooling", "mean", "--out", projected,
    )  # fmt: skip
    assert code == 0, err
    coords = np.load(projected)["coords"]
    features = hidden_states(model, samples.x, layer, pooling="mean").astype(np.float64)
    centred = features - features.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[:2].T
    for axis in range(2):  # PCA's sign is arbitrary
        assert abs(np.corrcoef(coords[:, axis], expected[:, axis])[0, 1]) > 0.999

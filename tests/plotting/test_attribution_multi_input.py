"""The attribution tables for one input of a model of several: the input's own kind decides."""

from __future__ import annotations

import numpy as np

from neurogenesis.analysis.attribution import attribution_info
from neurogenesis.plotting.attribution import top_attribution_table
from neurogenesis.testing import two_input_classifier, two_input_samples


def test_top_table_of_a_feature_vector_beside_an_image():
    samples = two_input_samples(2)
    info = attribution_info(
        two_input_classifier(), {k: samples[k] for k in ("image", "meta")}, "gradient"
    )
    meta = info.inputs["meta"]
    # The page shows the image as the sample; the meta input's table still lists its features.
    table = top_attribution_table(meta, "image", k=3)
    order = np.argsort(-np.abs(meta.attributions[0]), kind="stable")
    assert [p[0] for p in table["position"]] == order.tolist()
    np.testing.assert_allclose(table["attribution"], meta.attributions[0][order])
    image = top_attribution_table(info.inputs["image"], "image", k=1)
    pixel = np.abs(info.inputs["image"].attributions[0].sum(axis=-1))
    assert (image["row"][0], image["column"][0]) == np.unravel_index(pixel.argmax(), pixel.shape)

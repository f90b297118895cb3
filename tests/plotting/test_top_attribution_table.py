"""The table of what drove a prediction (the debugging page's Explain tab): the largest
attributions of sample 0, named as the user knows them, checked by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from neurogenesis.plotting.attribution import top_attribution_table


def test_image_positions_sum_a_pixels_channels_for_a_signed_method():
    attributions = np.zeros((1, 3, 4, 2))
    attributions[0, 2, 1] = [0.5, 0.3]  # 0.8 in all
    attributions[0, 0, 3] = [-0.6, 0.0]  # -0.6: second by size
    attributions[0, 1, 0] = [0.1, 0.0]
    info = SimpleNamespace(signed=True, input_kind="image", maps=None, attributions=attributions)
    table = top_attribution_table(info, "image", k=2)
    assert list(table.columns) == ["row", "column", "attribution", "share of |total|"]
    assert list(table["row"]) == [2, 0] and list(table["column"]) == [1, 3]
    np.testing.assert_allclose(table["attribution"], [0.8, -0.6])
    np.testing.assert_allclose(table["share of |total|"], [0.8 / 1.5, 0.6 / 1.5])


def test_series_names_features_and_magnitude_maps_say_map_value():
    maps = np.zeros((1, 3, 2))
    maps[0, 1, 1] = 2.0
    maps[0, 2, 0] = 1.0
    info = SimpleNamespace(signed=False, input_kind="series", maps=maps, attributions=None)
    table = top_attribution_table(info, "series", feature_names=["temp", "wind"], k=2)
    assert list(table.columns) == ["time step", "feature", "map value", "share of |total|"]
    assert list(table["time step"]) == [1, 2] and list(table["feature"]) == ["wind", "temp"]
    unnamed = top_attribution_table(info, "series", k=1)
    assert list(unnamed["feature"]) == ["feature 1"]


def test_text_leaves_padding_out_and_names_tokens():
    tokens = np.array([[5, 9, 7, 0, 0]])
    scores = np.array([[0.1, -0.7, 0.3, 5.0, 5.0]])  # padding scores never count
    info = SimpleNamespace(scores=scores, tokens=tokens)
    words = ["good", "not", "film", "[pad]", "[pad]"]
    table = top_attribution_table(info, "text", words=words, k=2)
    assert list(table.columns) == ["position", "token", "attribution", "share of |total|"]
    assert list(table["position"]) == [1, 2] and list(table["token"]) == ["not", "film"]
    np.testing.assert_allclose(table["share of |total|"], [0.7 / 1.1, 0.3 / 1.1])
    assert list(top_attribution_table(info, "text", k=1)["token"]) == ["#9"]

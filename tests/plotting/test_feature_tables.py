"""The features page's tables and colours (plotting.features / plotting.embeddings *_table): the
values the page and the sample browser showed before."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from neurogenesis.plotting import embeddings as pe
from neurogenesis.plotting import features as pf


def _classifier():
    return SimpleNamespace(
        task="classification",
        outputs=np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]),
        predicted=np.array([0, 1, 0]),
        confidence=np.array([0.9, 0.7, 0.6]),
        labels=np.array([0, 0, 1]),
        correct=np.array([True, False, False]),
        errors=None,
        label_names=("cat", "dog"),
        num_classes=2,
    )


def _regressor():
    return SimpleNamespace(
        task="regression",
        outputs=np.array([[1.5], [2.5]]),
        predicted=None,
        confidence=None,
        labels=np.array([1.0, 3.0]),
        correct=None,
        errors=np.array([0.5, 0.5]),
        label_names=None,
        num_classes=0,
    )


def test_class_names_and_the_sample_tables():
    predictions = _classifier()
    assert pf.class_name(predictions, 1) == "dog"
    assert pf.class_name(predictions, 5) == "5" and pf.class_name(predictions, None) == "–"
    table = pf.sample_table(predictions, [2, 0])
    assert table.to_dict("list") == {
        "sample": [2, 0],
        "label": ["dog", "cat"],
        "prediction": ["cat", "cat"],
        "confidence": [0.6, 0.9],
    }
    table = pf.sample_table(_regressor(), [1])
    assert table.to_dict("list") == {
        "sample": [1],
        "output": [2.5],
        "target": [3.0],
        "absolute error": [0.5],
    }
    texts = pf.sample_text_table(predictions, [1], ["a fine film"])
    assert texts.to_dict("list") == {
        "sample": [1],
        "text": ["a fine film"],
        "label": ["cat"],
        "prediction": ["dog"],
        "confidence": [0.7],
    }


def test_feature_map_filter_and_activation_tables():
    maps = SimpleNamespace(
        maps=np.zeros((2, 4, 4)),
        mean_activation=np.array([0.5, 0.0]),
        max_activation=np.array([1.0, 0.0]),
        fraction_zero=np.array([0.25, 1.0]),
    )
    assert pf.feature_maps_table(maps).to_dict("list") == {
        "channel": [0, 1],
        "mean activation": [0.5, 0.0],
        "max activation": [1.0, 0.0],
        "share zero": [0.25, 1.0],
    }
    filters = SimpleNamespace(order=np.array([2, 0, 1]), norms=np.array([3.0, 2.0, 1.0]))
    assert pf.filters_table(filters).to_dict("list") == {
        "filter": [2, 0, 1],
        "L2 norm": [3.0, 2.0, 1.0],
    }
    ascent = SimpleNamespace(objective=np.array([0.1, 0.4]), value_name="logit")
    assert pf.activation_maximization_table(ascent).to_dict("list") == {
        "step": [1, 2],
        "logit": [0.1, 0.4],
    }


def test_projection_colours_and_table():
    predictions = _classifier()
    colour, kind, names = pe.projection_colours("correctness", predictions)
    assert colour.tolist() == [1, 0, 0] and kind == "categorical" and names == ["wrong", "correct"]
    colour, kind, names = pe.projection_colours("confidence", predictions)
    assert kind == "continuous" and names is None
    clusters = SimpleNamespace(labels=np.array([1, 0, 1]), num_clusters=2)
    colour, kind, names = pe.projection_colours("cluster", predictions, clusters)
    assert names == ["cluster 0", "cluster 1"]
    info = SimpleNamespace(coords=np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]), method="pca")
    table = pe.projection_table(info, predictions, "cluster", colour, names)
    assert list(table.columns) == [
        "sample",
        "pca 1",
        "pca 2",
        "label",
        "prediction",
        "confidence",
        "cluster",
    ]
    assert table["pca 2"].tolist() == [1.0, 3.0, 5.0]
    assert table["cluster"].tolist() == ["cluster 1", "cluster 0", "cluster 1"]
    _, kind, _ = pe.projection_colours("label", _regressor())
    assert kind == "continuous"


def test_neighbour_similarity_and_autoencoder_tables():
    neighbours = SimpleNamespace(indices=np.array([4, 2]), distances=np.array([0.1, 0.2]))
    assert pe.neighbours_table(neighbours, ["#4", "#2"]).to_dict("list") == {
        "sample": [4, 2],
        "distance": [0.1, 0.2],
        "sample facts": ["#4", "#2"],
    }
    table = pe.similarity_table(np.array([[1.0, 0.5], [0.5, 1.0]]), ["a", "b"])
    assert table.loc["a", "b"] == 0.5
    reconstructions = SimpleNamespace(indices=np.array([2, 0]), errors=np.array([0.1, 0.2, 0.3]))
    assert pe.reconstructions_table(reconstructions).to_dict("list") == {
        "sample": [2, 0],
        "mean squared error": [0.3, 0.1],
    }
    grid = SimpleNamespace(
        images=np.zeros((2, 3, 4, 4)),
        first=np.array([-1.0, 0.0, 1.0]),
        second=np.array([-2.0, 2.0]),
        latent="z",
    )
    assert pe.latent_grid_table(grid).to_dict("list") == {
        "z[0]": [-1.0, 0.0, 1.0, -1.0, 0.0, 1.0],
        "z[1]": [-2.0, -2.0, -2.0, 2.0, 2.0, 2.0],
    }

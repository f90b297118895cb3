"""The embedding projector's computations, checked against independent ones.

UMAP compiles numba code on its first call (about 10 s for the exact-neighbour path used below
4,096 points); the one UMAP layout is made once per module by a fixture.
"""

from __future__ import annotations

import pickle

import keras
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.manifold import trustworthiness
from sklearn.metrics import adjusted_rand_score, silhouette_score

from neurogenesis.analysis import embeddings as E
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.io.models import load_model
from neurogenesis.io.samples import load_samples
from neurogenesis.testing import tiny_data, tiny_dense_model


@pytest.fixture(scope="module")
def blobs():
    x, y = make_blobs(n_samples=300, n_features=10, centers=3, cluster_std=1.0, random_state=3)
    return x.astype(np.float32), y


@pytest.fixture(scope="module")
def umap_layout(blobs):
    return E.projection_info(blobs[0], "umap", seed=0)


@pytest.fixture(scope="module")
def conv_model():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((5, 4, 2), name="image")
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dropout(0.5, name="drop")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def sentiment():
    return (
        load_model("models/sentiment_transformer.keras"),
        load_samples("data/samples/sentiment_transformer.npz"),
    )


def _knn_purity(coords: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Share of each point's k nearest layout neighbours with its label (slow, by hand)."""
    hits = 0
    for i in range(len(coords)):
        distances = np.linalg.norm(coords - coords[i], axis=1)
        distances[i] = np.inf
        hits += (labels[np.argsort(distances)[:k]] == labels[i]).sum()
    return hits / (len(coords) * k)


# --- hidden states ------------------------------------------------------------------------------


@pytest.mark.parametrize("pooling", ["auto", "mean", "max", "flatten", "first", "last"])
def test_hidden_states_equal_an_independent_model_pooled_by_hand(conv_model, pooling):
    x = np.random.default_rng(0).normal(size=(23, 5, 4, 2)).astype(np.float32)
    inner = keras.Model(conv_model.input, conv_model.get_layer("conv").output)
    maps = np.asarray(inner.predict(x, verbose=0))  # (23, 5, 4, 3)
    expected = {
        "auto": maps.mean(axis=(1, 2)),
        "mean": maps.mean(axis=(1, 2)),
        "max": maps.max(axis=(1, 2)),
        "flatten": maps.reshape(23, -1),
        "first": maps[:, 0, 0, :],
        "last": maps[:, -1, -1, :],
    }[pooling]
    states = E.hidden_states(conv_model, x, "conv", pooling=pooling, batch_size=5)
    assert states.dtype == np.float32
    np.testing.assert_allclose(states, expected, rtol=1e-5, atol=1e-6)


def test_hidden_states_of_a_loaded_sequential_model_equal_numpy(tmp_path):
    model = tiny_dense_model()
    path = tmp_path / "dense.keras"
    model.save(path)
    loaded = load_model(path)
    x, _ = tiny_data(num_samples=40)
    kernel, bias = (np.asarray(w) for w in loaded.get_layer("hidden").get_weights())
    expected = np.maximum(x @ kernel + bias, 0.0)
    np.testing.assert_allclose(
        E.hidden_states(loaded, x, "hidden", batch_size=16), expected, rtol=1e-5, atol=1e-6
    )
    assert E.default_layer(loaded) == "hidden"


def test_hidden_states_of_a_nested_encoder_equal_the_encoder():
    model = load_model("models/digits_vae.keras")
    x = load_samples("data/samples/digits_vae.npz").x[:50]
    expected = model.get_layer("encoder").predict(x.astype(np.float32), verbose=0)[0]
    states = E.hidden_states(model, x, "encoder/z_mean")
    np.testing.assert_allclose(states, expected, rtol=1e-5, atol=1e-6)
    assert E.default_layer(model) == "encoder/z_mean"


def test_layer_choices_and_default_layer(conv_model, sentiment):
    assert E.layer_choices(conv_model) == ["conv", "gap", "drop", "head"]
    # The dropout before the head passes values through; open on the pooling before it.
    assert E.default_layer(conv_model) == "gap"
    model, _ = sentiment
    choices = E.layer_choices(model)
    assert "token_embedding" in choices and "pool" in choices
    # Boolean padding masks and integer positions are no hidden states.
    assert "not_equal" not in choices and "cumsum" not in choices
    assert E.default_layer(model) == "pool"
    assert E.reason(model) is None and E.reason(model, "hidden_states") is None


def test_bad_pooling_and_wrong_shape_are_input_errors(conv_model):
    with pytest.raises(InputError, match="pooling"):
        E.hidden_states(conv_model, np.zeros((2, 5, 4, 2)), "conv", pooling="median")
    with pytest.raises(InputError, match="shape"):
        E.hidden_states(conv_model, np.zeros((2, 3, 3, 2)), "conv")


# --- text models ----------------------------------------------------------------------------------


# --- projections ----------------------------------------------------------------------------------


def test_pca_equals_the_svd_projection_up_to_sign(blobs):
    x = blobs[0].astype(np.float64)
    info = E.projection_info(x, "pca", dims=3)
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    expected = u[:, :3] * s[:3]
    signs = np.sign((info.coords * expected).sum(axis=0))
    np.testing.assert_allclose(info.coords * signs, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(info.explained_variance_ratio, s[:3] ** 2 / (s**2).sum(), rtol=1e-6)
    assert info.coords.dtype == np.float32 and info.num_points == 300 and info.num_features == 10
    # Fewer than 2,000 points: the score is sklearn's on every point.
    assert info.trustworthiness == pytest.approx(
        trustworthiness(x, info.coords, n_neighbors=10), abs=1e-6
    )
    assert info.trustworthiness_points == 300


def test_tsne_separates_blobs(blobs):
    x, y = blobs
    info = E.projection_info(x, "tsne", seed=0)
    assert info.coords.shape == (300, 2)
    assert info.trustworthiness > 0.9
    assert _knn_purity(info.coords, y) > 0.95
    assert info.param("perplexity") == 30.0 and info.param("init") == "pca"


def test_tsne_is_open_tsne_seeded_and_reports_progress(blobs):
    """Issue 19: sklearn's t-SNE took ~55 s for 360 points; openTSNE's Barnes-Hut is the same
    optimisation (250 exaggerated steps, then 500) in a fraction of the time."""
    x, y = blobs
    shares = []
    info = E.projection_info(x, "tsne", seed=0, progress=shares.append)
    again = E.projection_info(x, "tsne", seed=0)
    np.testing.assert_array_equal(info.coords, again.coords)  # deterministic
    assert info.param("implementation") == "openTSNE"
    assert info.param("negative_gradient_method") == "bh" and info.param("n_jobs") == 1
    assert info.param("max_iter") == 750 and info.param("early_exaggeration_iter") == 250
    assert _knn_purity(info.coords, y) > 0.95 and info.trustworthiness > 0.9
    assert shares[0] == 0.0 and shares[-1] == 1.0 and np.all(np.diff(shares) >= 0)
    assert len(shares) > 20  # every 25 steps, so a page's bar moves
    three = E.projection_info(x[:120], "tsne", dims=3, seed=0)
    assert three.coords.shape == (120, 3) and np.isfinite(three.coords).all()


def test_tsne_switches_to_fft_on_many_points_in_2d(blobs, monkeypatch):
    monkeypatch.setattr(E, "TSNE_FFT_ABOVE", 100)
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "2")
    assert E.projection_info(blobs[0][:150], "tsne").param("negative_gradient_method") == "fft"
    flat = E.projection_info(blobs[0][:100], "tsne")
    assert flat.param("negative_gradient_method") == "bh"
    three = E.projection_info(blobs[0][:150], "tsne", dims=3)  # FFT is 2-D only
    assert three.param("negative_gradient_method") == "bh"


def test_tsne_falls_back_to_sklearn_without_open_tsne(blobs, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "openTSNE", None)  # import openTSNE raises ImportError
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "1")
    info = E.projection_info(blobs[0][:60], "tsne", seed=0)
    assert info.param("implementation") == "sklearn"
    assert info.param("max_iter") == E.TSNE_MIN_ITERATIONS


def test_umap_numba_code_is_cached_on_disk(monkeypatch, tmp_path):
    import numba

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert E.numba_cache_dir() == str(tmp_path / "numba")
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert E.numba_cache_dir() == str(tmp_path / "neurogenesis" / "numba")

    def add(a, b):
        return a + b

    cached = E._caching(numba.njit)(add)
    plain = numba.njit(add)
    explicit = E._caching(numba.njit)(cache=False)(add)
    # A dispatcher made with cache=True keeps a FunctionCache; the default keeps a NullCache.
    assert type(cached._cache).__name__ == "FunctionCache"
    assert type(plain._cache).__name__ == "NullCache"
    assert type(explicit._cache).__name__ == "NullCache"
    assert cached(2, 3) == 5


def test_umap_separates_blobs(blobs, umap_layout):
    _, y = blobs
    assert umap_layout.coords.shape == (300, 2)
    assert umap_layout.trustworthiness > 0.9
    assert _knn_purity(umap_layout.coords, y) > 0.95
    assert umap_layout.param("n_neighbors") == 15 and umap_layout.param("parallel") is False


def test_small_sets_lower_the_parameters_and_say_so(blobs):
    x = blobs[0][:12]
    tsne = E.projection_info(x, "tsne", perplexity=30)
    assert tsne.param("perplexity") < 12 and "lowered" in tsne.notes[0]
    umap = E.projection_info(x[:6], "umap", n_neighbors=15)
    assert umap.param("n_neighbors") == 5 and "lowered" in umap.notes[0]
    assert np.isfinite(umap.coords).all()
    narrow = E.projection_info(x[:, :1], "pca")
    assert narrow.coords.shape == (12, 2) and (narrow.coords[:, 1] == 0).all()


def test_tsne_reduces_many_points_with_pca_first(blobs, monkeypatch):
    monkeypatch.setattr(E, "TSNE_PRE_REDUCE_ABOVE", 100)
    monkeypatch.setattr(E, "TSNE_PRE_REDUCE_DIMS", 4)
    monkeypatch.setenv("NEUROGENESIS_MAX_STEPS", "1")
    info = E.projection_info(blobs[0][:150], "tsne", seed=0)
    assert info.param("max_iter") == 2  # one early-exaggeration step and one more
    assert info.param("pca_pre_reduction") == 4
    assert any("PCA before t-SNE" in note for note in info.notes)


def test_projection_refuses_bad_input(blobs):
    x = blobs[0].copy()
    x[5, 2] = np.nan
    with pytest.raises(InputError, match="NaN"):
        E.projection_info(x, "pca")
    with pytest.raises(InputError, match="method"):
        E.projection_info(blobs[0], "isomap")
    with pytest.raises(InputError, match="dims"):
        E.projection_info(blobs[0], "pca", dims=4)
    with pytest.raises(InputError, match="at least 3"):
        E.projection_info(blobs[0][:2], "pca")


def test_infos_pickle_and_compare_by_value(blobs, umap_layout):
    clusters = E.cluster_info(blobs[0], num_clusters=3)
    for info in (umap_layout, clusters, E.nearest_neighbours(blobs[0], 0)):
        assert pickle.loads(pickle.dumps(info)) == info


def test_warm_up_returns_at_once_when_busy_or_not_needed():
    assert E.warm_up("pca") and E.warm_up("tsne")
    if not E.is_warm("umap"):
        with E._warm_lock:
            # Another thread is compiling: do not block the page.
            assert E.warm_up("umap", wait=False) is False


# --- clusters -------------------------------------------------------------------------------------


def test_kmeans_chooses_k_and_recovers_blobs(blobs):
    x, y = blobs
    info = E.cluster_info(x)
    assert info.num_clusters == 3
    assert dict(info.k_scores)[3] == max(score for _, score in info.k_scores)
    assert adjusted_rand_score(y, info.labels) > 0.9
    reference_score = silhouette_score(x, info.labels)
    assert info.silhouette == pytest.approx(reference_score, abs=1e-12)
    np.testing.assert_array_equal(info.sizes, np.bincount(info.labels))
    assert info.num_noise == 0
    reference = KMeans(3, n_init=4, random_state=0).fit_predict(x.astype(np.float64))
    assert adjusted_rand_score(reference, info.labels) == pytest.approx(1.0)


def test_hdbscan_recovers_blobs_and_leaves_noise_out_of_the_silhouette(blobs):
    x, y = blobs
    outliers = np.full((5, x.shape[1]), 40.0, dtype=np.float32) + np.arange(5)[:, None] * 9
    data = np.vstack([x, outliers])
    info = E.cluster_info(data, "hdbscan", min_cluster_size=20)
    assert info.num_clusters == 3
    kept = info.labels >= 0
    assert adjusted_rand_score(y, info.labels[:300]) > 0.9
    assert (info.labels[300:] == -1).all() and info.num_noise == int((~kept).sum())
    reference_score = silhouette_score(data[kept], info.labels[kept])
    assert info.silhouette == pytest.approx(reference_score, abs=1e-12)
    assert info.sizes.sum() + info.num_noise == len(data)


def test_one_cluster_has_no_silhouette(blobs):
    info = E.cluster_info(blobs[0], num_clusters=1)
    assert info.num_clusters == 1 and info.silhouette is None


# --- neighbours and similarities ----------------------------------------------------------------


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_nearest_neighbours_equal_a_brute_force_loop(blobs, metric):
    x = blobs[0].astype(np.float64)
    index, k = 17, 8
    distances = []
    for j in range(len(x)):
        if j == index:
            continue
        if metric == "cosine":
            d = 1 - x[index] @ x[j] / (np.linalg.norm(x[index]) * np.linalg.norm(x[j]))
        else:
            d = np.sqrt(((x[index] - x[j]) ** 2).sum())
        distances.append((d, j))
    distances.sort()
    info = E.nearest_neighbours(x, index, k=k, metric=metric)
    assert info.indices.tolist() == [j for _, j in distances[:k]]
    np.testing.assert_allclose(info.distances, [d for d, _ in distances[:k]], atol=1e-9)
    assert index not in info.indices


def test_similarity_matrix_by_hand():
    features = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
    cosine = E.similarity_matrix(features, [0, 1, 2, 3])
    expected = np.array(
        [[1, 0, -1, 0], [0, 1, 0, 0], [-1, 0, 1, 0], [0, 0, 0, 0]], dtype=np.float64
    )
    np.testing.assert_allclose(cosine, expected, atol=1e-12)
    distance = E.similarity_matrix(features, [0, 1, 2], metric="euclidean")
    np.testing.assert_allclose(
        distance, [[0, np.sqrt(5), 4], [np.sqrt(5), 0, np.sqrt(13)], [4, np.sqrt(13), 0]]
    )
    with pytest.raises(InputError, match="index"):
        E.similarity_matrix(features, [0, 9])


# --------------------------------------------------------------------------------------------
# Autoencoders


@pytest.fixture(scope="module")
def vae():
    from tests.conftest import ROOT

    model = load_model(ROOT / "models" / "digits_vae.keras")
    samples = load_samples(ROOT / "data" / "samples" / "digits_vae.npz")
    return model, samples


def test_vae_reconstructions_match_the_model_and_its_card(vae):
    """Issue 19: the VAE got no reconstructions on the features page."""
    model, samples = vae
    info = E.reconstruction_info(model, samples.x, order="worst", count=6)
    outputs = np.asarray(model(samples.x, training=False), dtype=np.float64)
    errors = ((outputs - samples.x) ** 2).reshape(len(outputs), -1).mean(axis=1)
    np.testing.assert_allclose(info.errors, errors, rtol=1e-5, atol=1e-7)
    assert info.mean_error == pytest.approx(0.0428, abs=5e-5)  # the card's reconstruction_mse
    assert info.indices.tolist() == np.argsort(-errors, kind="stable")[:6].tolist()
    np.testing.assert_allclose(info.outputs, outputs[info.indices], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(info.inputs, samples.x[info.indices])
    low = min(info.inputs.min(), info.outputs.min())
    assert info.value_range == (pytest.approx(low), pytest.approx(1.0))
    best = E.reconstruction_info(model, samples.x, order="best", count=3)
    assert errors[best.indices].max() <= errors[info.indices].min()
    given = E.reconstruction_info(model, samples.x, indices=[5, 2])
    assert given.order == "given" and given.indices.tolist() == [5, 2]
    assert pickle.loads(pickle.dumps(info)) == info
    with pytest.raises(InputError, match="order"):
        E.reconstruction_info(model, samples.x, order="random")


def test_vae_latent_grid_decodes_the_quantile_range_with_the_decoder(vae):
    model, samples = vae
    encoder, decoder, output = E.latent_parts(model)
    assert (encoder.name, decoder.name, output) == ("encoder", "decoder", 0)  # z_mean
    info = E.latent_grid_info(model, samples.x, size=5)
    z_mean = np.asarray(model.get_layer("encoder")(samples.x, training=False)[0])
    low, high = np.quantile(z_mean.astype(np.float64), [0.02, 0.98], axis=0)
    np.testing.assert_allclose(info.first, np.linspace(low[0], high[0], 5), rtol=1e-5)
    np.testing.assert_allclose(info.second, np.linspace(high[1], low[1], 5), rtol=1e-5)
    assert info.latent == "z_mean" and info.latent_dim == 2
    assert info.images.shape == (5, 5, 8, 8, 1)
    # Row 1, column 3 is the decoder's output at (first[3], second[1]).
    point = np.array([[info.first[3], info.second[1]]], dtype=np.float32)
    expected = np.asarray(model.get_layer("decoder")(point, training=False))[0]
    np.testing.assert_allclose(info.images[1, 3], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(info.encoded, z_mean, rtol=1e-5, atol=1e-6)


def test_only_autoencoders_with_sub_models_get_the_views():
    classifier = tiny_dense_model()
    assert "not an autoencoder" in E.reason(classifier, "reconstructions")
    with pytest.raises(UnsupportedModelError):
        E.reconstruction_info(classifier, tiny_data()[0])
    keras.utils.set_random_seed(0)
    flat = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(2), keras.layers.Dense(6, activation="sigmoid")]
    )
    assert E.reason(flat, "reconstructions") is None  # it rebuilds its input: reconstructions
    assert "no encoder and decoder" in E.reason(flat, "latent_grid")  # but no decoder to sample
    info = E.reconstruction_info(flat, np.random.default_rng(0).uniform(size=(10, 6)), count=3)
    assert info.indices.tolist() == [0, 1, 2] and info.outputs.shape == (3, 6)

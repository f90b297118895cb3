"""Sample sets: .npz, images, text; and only InputError for bad input."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from neurogenesis.errors import InputError
from neurogenesis.io.samples import SampleSet, load_samples


def test_npz_round_trip(tmp_path):
    x = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8, 1)
    y = np.array([3, 7])
    np.savez(tmp_path / "digits.npz", x=x, y=y, label_names=np.array([str(i) for i in range(10)]))
    samples = load_samples(tmp_path / "digits.npz")
    assert samples.kind == "image" and len(samples) == 2
    assert np.array_equal(samples.x, x) and np.array_equal(samples.y, y)
    assert samples.label_names == tuple(str(i) for i in range(10))


def test_npz_text_and_array_kinds(tmp_path):
    np.savez(tmp_path / "t.npz", x=np.array(["good film", "bad film"]), y=np.array([1, 0]))
    np.savez(tmp_path / "a.npz", x=np.zeros((5, 3), dtype="float32"))
    assert load_samples(tmp_path / "t.npz").kind == "text"
    array = load_samples(tmp_path / "a.npz")
    assert array.kind == "array" and array.y is None


def test_npz_with_objects_is_refused_without_unpickling(tmp_path):
    np.savez(tmp_path / "evil.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="unpickle"):
        load_samples(tmp_path / "evil.npz")


def test_npz_without_x_or_with_mismatched_y(tmp_path):
    np.savez(tmp_path / "no_x.npz", images=np.zeros((2, 2)))
    np.savez(tmp_path / "bad_y.npz", x=np.zeros((3, 2)), y=np.zeros(2))
    with pytest.raises(InputError, match=r"arrays 'x' and 'y'.*images"):
        load_samples(tmp_path / "no_x.npz")
    with pytest.raises(InputError, match="2 labels for 3 samples"):
        load_samples(tmp_path / "bad_y.npz")


def test_image_folder_with_class_folders(tmp_path):
    for label, shade in (("cat", 10), ("dog", 200)):
        (tmp_path / "pets" / label).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (6, 4), (shade, i, 0)).save(tmp_path / "pets" / label / f"{i}.png")
    Image.new("RGB", (3, 3)).save(tmp_path / "pets" / "dog" / "small.png")  # resized to 6x4
    samples = load_samples(tmp_path / "pets")
    assert samples.x.shape == (5, 4, 6, 3) and samples.x.dtype == np.uint8
    assert samples.label_names == ("cat", "dog")
    assert samples.y.tolist() == [0, 0, 1, 1, 1]
    assert samples.x[2, 0, 0].tolist() == [200, 0, 0]


def test_single_grayscale_image(tmp_path):
    Image.new("L", (5, 7), 42).save(tmp_path / "one.png")
    samples = load_samples(tmp_path / "one.png")
    assert samples.x.shape == (1, 7, 5, 1) and int(samples.x.max()) == 42


def test_text_lines_with_and_without_labels(tmp_path):
    (tmp_path / "plain.txt").write_text("a great movie\n\nnot good\n")
    (tmp_path / "labelled.txt").write_text("pos\ta great movie\nneg\tnot good\n")
    plain = load_samples(tmp_path / "plain.txt")
    assert plain.x.tolist() == ["a great movie", "not good"] and plain.y is None
    labelled = load_samples(tmp_path / "labelled.txt")
    assert labelled.label_names == ("neg", "pos") and labelled.y.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.npz", b"", "empty"),
        ("cut.npz", b"PK\x03\x04garbage", "truncated or damaged"),
        ("bad.png", b"\x89PNG\r\n\x1a\nnope", "not a readable image"),
        ("binary.txt", b"\x00\x01\x02", "binary"),
        ("model.pt", b"abc", r"Received: 'model\.pt'"),
    ],
)
def test_bad_files_say_what_they_are(tmp_path, name, content, match):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=match):
        load_samples(tmp_path / name)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="No such file"):
        load_samples(tmp_path / "nowhere.npz")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".npz", ".png", ".txt", ".jpg"]))
def test_any_bytes_give_samples_or_input_error(tmp_path, data, suffix):
    path = tmp_path / f"blob{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(InputError):
        load_samples(path)


def test_typed_text_is_encoded_like_the_demo_tokenizer():
    from neurogenesis.io.samples import encode_text
    from neurogenesis.zoo.sentiment import tokenize, vocabulary

    words = vocabulary()
    ids, read = encode_text("The acting was Good, really!", words, 16)
    np.testing.assert_array_equal(ids, tokenize(["the acting was good really"], words))
    assert read == ["the", "acting", "was", "good", "really"]
    with pytest.raises(InputError, match="Type"):
        encode_text("  ...  ", words, 16)
    with pytest.raises(InputError, match="vocabulary"):
        encode_text("hello", None, 16)


def test_vocabulary_feature_names_and_words_come_from_the_extras():
    x = np.array([[2, 0, 7]], dtype=np.int64)
    plain = SampleSet("t", "array", x, None, None, "t.npz")
    assert plain.vocabulary is None and plain.feature_names is None
    assert plain.words([2, 7]) == ["#2", "#7"]
    extras = {
        "vocabulary": np.array(["<pad>", "[UNK]", "good"]),
        "feature_names": np.array([["a", "b", "c"]]),  # any shape: read flat
    }
    worded = SampleSet("t", "array", x, None, None, "t.npz", extras)
    assert worded.vocabulary == ["<pad>", "[UNK]", "good"]
    assert worded.feature_names == ["a", "b", "c"]
    assert worded.words(x) == ["good", "<pad>", "#7"]  # an id past the vocabulary keeps its number


def test_resize_images_keeps_count_labels_and_mask_values(tmp_path):
    """Bilinear for the images (a constant image stays that constant), nearest for masks (labels
    stay labels); the .npz bytes read back equal."""
    from neurogenesis.io.samples import resize_images, samples_npz

    x = np.zeros((3, 10, 8, 3), dtype=np.uint8)
    x[0] = 200
    x[1, :, :4] = 255  # left half white: a ramp only near the edge after resizing
    masks = np.zeros((3, 10, 8), dtype=np.int64)
    masks[:, :5] = 7
    sample_set = SampleSet("s", "image", x, np.array([0, 1, 0]), ("a", "b"), "s", {"masks": masks})
    resized = resize_images(sample_set, (20, 16))
    assert resized.x.shape == (3, 20, 16, 3) and resized.x.dtype == np.uint8
    assert (resized.x[0] == 200).all() and (resized.x[2] == 0).all()
    assert resized.x[1, :, 0].min() == 255 and resized.x[1, :, -1].max() == 0
    assert set(np.unique(resized.extras["masks"])) == {0, 7}
    assert (resized.extras["masks"][:, :10] == 7).all() and (
        resized.extras["masks"][:, 10:] == 0
    ).all()
    np.testing.assert_array_equal(resized.y, sample_set.y)
    (tmp_path / "r.npz").write_bytes(samples_npz(resized))
    back = load_samples(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.x, resized.x)
    assert back.label_names == ("a", "b")
    np.testing.assert_array_equal(back.extras["masks"], resized.extras["masks"])


def test_npz_of_several_named_inputs_is_packed_and_written_back(tmp_path):
    """A .npz of arrays named after a model's inputs (no 'x') is one sample set of several
    inputs: indexed, sliced and counted by sample, each input readable by name, and written
    back to an equal set."""
    from neurogenesis.io.samples import input_arrays, load_samples, samples_npz

    ids = np.arange(24).reshape(4, 6)
    mask = ids % 5 != 0
    np.savez(
        tmp_path / "bert.npz",
        token_ids=ids,
        padding_mask=mask,
        y=np.array([0, 1, 1, 0]),
        vocabulary=np.array(["a", "b"]),
    )
    samples = load_samples(tmp_path / "bert.npz")
    assert samples.kind == "inputs" and len(samples) == 4
    assert set(samples.input_names) == {"token_ids", "padding_mask"}
    assert np.array_equal(samples.input("padding_mask"), mask)
    assert np.array_equal(samples.input(), ids)  # the token ids, when no name is given
    assert np.array_equal(samples.x[[3, 1]]["token_ids"], ids[[3, 1]])
    assert samples.vocabulary == ["a", "b"] and list(samples.y) == [0, 1, 1, 0]
    assert set(input_arrays(samples.x)) == {"token_ids", "padding_mask"}
    (tmp_path / "back.npz").write_bytes(samples_npz(samples))
    again = load_samples(tmp_path / "back.npz")
    assert np.array_equal(again.x, samples.x) and again.kind == "inputs"
    np.savez(tmp_path / "uneven.npz", a=np.zeros((3, 2)), b=np.zeros((2, 2)))
    with pytest.raises(InputError, match="one row per sample"):
        load_samples(tmp_path / "uneven.npz")

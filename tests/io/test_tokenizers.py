"""io.tokenizers: KerasHub preprocessors read from the archive and run without TensorFlow, checked
against published tokenizations, hand-worked merges, and KerasHub's own preprocessor."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from neurogenesis.errors import InputError
from neurogenesis.io.tokenizers import (
    SavedPreprocessor,
    bpe_merge,
    byte_to_unicode,
    read_preprocessor,
)

# google-research/bert, tokenization_test.py (test_wordpiece_tokenizer, test_full_tokenizer).
BERT_TEST_VOCABULARY = (
    "[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ",",
    "[PAD]", "[MASK]",
)  # fmt: skip


def wordpiece(vocabulary, length=8, **settings) -> SavedPreprocessor:
    return SavedPreprocessor(
        "BertTextClassifierPreprocessor",
        "BertTokenizer",
        sequence_length=length,
        outputs=("token_ids", "padding_mask", "segment_ids"),
        vocabulary=tuple(vocabulary),
        settings=settings,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("unwanted running", ["un", "##want", "##ed", "runn", "##ing"]),
        ("unwantedX running", ["[UNK]", "runn", "##ing"]),
        ("UNwant\u00e9d,running", ["un", "##want", "##ed", ",", "runn", "##ing"]),
    ],
)
def test_wordpiece_matches_berts_own_tests(text, expected):
    saved = wordpiece(BERT_TEST_VOCABULARY, lowercase=True, strip_accents=True)
    assert saved.tokenize(text) == expected


def test_unaffable_is_split_as_in_berts_docstring():
    saved = wordpiece(["[UNK]", "[CLS]", "[SEP]", "[PAD]", "un", "##aff", "##able"])
    assert saved.tokenize("unaffable") == ["un", "##aff", "##able"]


def test_basic_tokenization_matches_berts_tests():
    # test_basic_tokenizer_lower / _no_lower / test_chinese: every word a vocabulary entry.
    words = ["hello", "HeLLo", "how", "Are", "are", "yoU", "you", "!", "?", "ah", "zz"]
    vocabulary = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", *words, "\u535a", "\u63a8"]
    lower = wordpiece(vocabulary, lowercase=True, strip_accents=True)
    assert lower.tokenize(" \tHeLLo!how  \n Are yoU?  ") == ["hello", "!", "how", "are", "you", "?"]
    assert lower.tokenize("H\u00e9llo") == ["hello"]
    cased = wordpiece(vocabulary, lowercase=False, strip_accents=False)
    assert cased.tokenize(" \tHeLLo!how  \n Are yoU?  ") == ["HeLLo", "!", "how", "Are", "yoU", "?"]
    assert cased.tokenize("ah\u535a\u63a8zz") == ["ah", "\u535a", "\u63a8", "zz"]
    no_cjk = wordpiece(vocabulary, split_on_cjk=False)
    assert no_cjk.tokenize("ah\u535a\u63a8zz") == ["[UNK]"]


def test_too_long_words_are_unknown():
    saved = wordpiece(["[UNK]", "[CLS]", "[SEP]", "[PAD]", "a", "##a"])
    assert saved.tokenize("a" * 100) == ["a"] + ["##a"] * 99
    assert saved.tokenize("a" * 101) == ["[UNK]"]


def test_packing_follows_kerashubs_documented_layout():
    # BertTextClassifierPreprocessor: [CLS] tokens [SEP], padded with [PAD]; mask = not pad;
    # one segment of zeros; cut to sequence_length keeping [SEP] last.
    saved = wordpiece(BERT_TEST_VOCABULARY, length=6)
    packed = saved.encode("want runn")
    assert packed.tokens == ["[CLS]", "want", "runn", "[SEP]", "[PAD]", "[PAD]"]
    np.testing.assert_array_equal(packed.inputs["token_ids"], [[1, 3, 8, 2, 11, 11]])
    np.testing.assert_array_equal(packed.inputs["padding_mask"], [[1, 1, 1, 1, 0, 0]])
    np.testing.assert_array_equal(packed.inputs["segment_ids"], np.zeros((1, 6)))
    cut = saved.encode("want want want want want")
    assert cut.tokens == ["[CLS]", "want", "want", "want", "want", "[SEP]"]
    assert cut.inputs["padding_mask"].all()


def test_empty_and_long_text_are_refused():
    saved = wordpiece(BERT_TEST_VOCABULARY)
    with pytest.raises(InputError, match="Type a sentence"):
        saved.encode("   ")
    with pytest.raises(InputError, match="at most 2,000"):
        saved.encode("want " * 1000)


def test_byte_to_unicode_is_gpt2s_map():
    chars = byte_to_unicode()
    assert len(set(chars.values())) == 256
    assert chars[ord(" ")] == "\u0120" and chars[ord("\n")] == "\u010a" and chars[ord("a")] == "a"


def test_bpe_applies_merges_by_rank_worked_by_hand():
    # "lower" with merges (by rank) e r, l o, lo w, low er:
    # l o w e r -> (e r rank 0) l o w er -> (l o rank 1) lo w er -> (lo w) low er -> lower.
    merges = (("e", "r"), ("l", "o"), ("lo", "w"), ("low", "er"))
    assert bpe_merge("lower", merges) == ["lower"]
    # "lowest": no "er"; l o -> lo, lo w -> low; "e s t" stay apart.
    assert bpe_merge("lowest", merges) == ["low", "e", "s", "t"]
    # rank beats position: "ro" ranked before "ar" splits "aro" as a + ro.
    assert bpe_merge("aro", (("r", "o"), ("a", "r"))) == ["a", "ro"]


def roberta(length=8) -> SavedPreprocessor:
    vocabulary = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", *"abcdel!", "\u0120", "lo", "low"]
    vocabulary += ["\u0120lo", "\u0120low", "er", "lower", "'s", "\u0120!"]
    # Ġ+lo ranks before lo+w, so " low" gives Ġlo then Ġlow (the other order would leave Ġ, low).
    merges = (("l", "o"), ("\u0120", "lo"), ("\u0120lo", "w"), ("lo", "w"), ("e", "r"))
    merges += (("low", "er"), ("'", "s"), ("\u0120", "!"))
    return SavedPreprocessor(
        "RobertaTextClassifierPreprocessor",
        "RobertaTokenizer",
        sequence_length=length,
        outputs=("token_ids", "padding_mask"),
        vocabulary=tuple(vocabulary),
        settings={"unsplittable_tokens": ["<s>", "</s>", "<pad>", "<mask>"]},
        merges=merges,
    )


def test_bpe_tokenization_worked_by_hand():
    saved = roberta()
    # GPT-2 split: "lower", " low", " !", "'s" is its own piece; spaces become Ġ.
    assert saved.tokenize("lower low !") == ["lower", "\u0120low", "\u0120!"]
    assert saved.tokenize("low's") == ["low", "'s"]
    assert saved.tokenize("a<mask>b") == ["a", "<mask>", "b"]
    packed = saved.encode("lower low")
    assert packed.tokens == [
        "<s>",
        "lower",
        "\u0120low",
        "</s>",
        "<pad>",
        "<pad>",
        "<pad>",
        "<pad>",
    ]
    np.testing.assert_array_equal(packed.inputs["padding_mask"], [[1, 1, 1, 1, 0, 0, 0, 0]])
    assert set(packed.inputs) == {"token_ids", "padding_mask"}
    with pytest.raises(InputError, match="no token for 'z'"):
        saved.tokenize("z")


def _archive(path, config: dict, assets: dict[str, str]) -> None:
    import h5py

    weights = path.with_suffix(".h5")
    h5py.File(weights, "w").close()
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(weights, "model.weights.h5")
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0"}))
        archive.writestr("config.json", json.dumps(config))
        for name, text in assets.items():
            archive.writestr(f"assets/preprocessor/tokenizer/{name}", text)


def _task(preprocessor, tokenizer, **config):
    tokenizer_entry = {"class_name": tokenizer, "config": {"lowercase": True}}
    entry = {"class_name": preprocessor, "config": {"tokenizer": tokenizer_entry, **config}}
    return {"class_name": "BertTextClassifier", "config": {"preprocessor": entry}}


def test_reads_a_hand_written_archive(tmp_path):
    path = tmp_path / "m.keras"
    vocabulary = "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hi"]) + "\n"
    _archive(path, _task("BertTextClassifierPreprocessor", "BertTokenizer", sequence_length=4), {
        "vocabulary.txt": vocabulary
    })  # fmt: skip
    saved = read_preprocessor(path)
    assert saved.settings["lowercase"] is True and saved.sequence_length == 4
    np.testing.assert_array_equal(saved.encode("HI hi").inputs["token_ids"], [[2, 5, 5, 3]])


def test_sentencepiece_and_missing_assets_say_why(tmp_path):
    path = tmp_path / "sp.keras"
    _archive(path, _task("AlbertTextClassifierPreprocessor", "AlbertTokenizer"), {})
    saved = read_preprocessor(path)
    assert saved.reason == (
        "typed text needs tensorflow-text for this tokenizer (AlbertTokenizer: SentencePiece)"
    )
    with pytest.raises(InputError, match="SentencePiece"):
        saved.encode("hello")
    bare = tmp_path / "bare.keras"
    _archive(bare, _task("BertTextClassifierPreprocessor", "BertTokenizer", sequence_length=4), {})
    with pytest.raises(InputError, match="vocabulary.txt"):
        read_preprocessor(bare)
    none = tmp_path / "none.keras"
    _archive(none, {"class_name": "Functional", "config": {}}, {})
    assert read_preprocessor(none) is None


# --- against KerasHub ------------------------------------------------------------------------

TEXTS = (
    "The acting was NOT good!",
    "unaffable, the movie's plot... was great?",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u535a\u63a8 good",
    "  tabs\tand\nnew lines\u200b  and a very very very very very long film review indeed ",
    "[CLS] [MASK] plots",
)


@pytest.fixture(scope="module")
def bert_archive(tmp_path_factory):
    pytest.importorskip("keras_hub")
    from neurogenesis.testing import tiny_bert_text_classifier

    path = tmp_path_factory.mktemp("text") / "bert_text.keras"
    tiny_bert_text_classifier().save(path)
    return path


@pytest.mark.slow
def test_bert_archive_matches_kerashubs_preprocessor(bert_archive):
    from neurogenesis.io.models import load_model

    saved = read_preprocessor(bert_archive)
    assert saved.outputs == ("token_ids", "padding_mask", "segment_ids")
    model = load_model(bert_archive)
    for text in TEXTS:
        ours = saved.encode(text).inputs
        theirs = model.preprocessor([text])
        for name in saved.outputs:
            np.testing.assert_array_equal(ours[name], np.asarray(theirs[name]), err_msg=text)


@pytest.mark.slow
def test_roberta_archive_matches_kerashubs_preprocessor(tmp_path):
    keras_hub = pytest.importorskip("keras_hub")
    from neurogenesis.io.models import load_model

    # Every byte of the texts below as a token, a few merges: both paths split these texts alike.
    chars = byte_to_unicode()
    vocabulary = {token: i for i, token in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}
    for char in chars.values():
        vocabulary.setdefault(char, len(vocabulary))
    merges = ["t h", "\u0120 th", "\u0120th e", "e r", "l o", "lo w", "low er", "\u0120 low"]
    for merge in merges:
        vocabulary.setdefault(merge.replace(" ", ""), len(vocabulary))
    tokenizer = keras_hub.models.RobertaTokenizer(vocabulary=vocabulary, merges=merges)
    preprocessor = keras_hub.models.RobertaTextClassifierPreprocessor(tokenizer, sequence_length=16)
    backbone = keras_hub.models.RobertaBackbone(
        vocabulary_size=len(vocabulary), num_layers=1, num_heads=2, hidden_dim=8,
        intermediate_dim=16, max_sequence_length=16,
    )  # fmt: skip
    task = keras_hub.models.RobertaTextClassifier(backbone, 2, preprocessor=preprocessor)
    path = tmp_path / "roberta.keras"
    task.save(path)
    saved = read_preprocessor(path)
    model = load_model(path)
    for text in ("the lower the better", "lower  lower!", "it's low", "a <mask> word"):
        ours = saved.encode(text).inputs
        theirs = model.preprocessor([text])
        for name in ("token_ids", "padding_mask"):
            np.testing.assert_array_equal(ours[name], np.asarray(theirs[name]), err_msg=text)


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("tensorflow_text") is None,
    reason="tensorflow-text is not installed (2.21.0 fails to import against tensorflow-cpu "
    "2.21.0 here): its TensorFlow path of the preprocessor cannot be compared",
)
def test_kerashubs_tensorflow_path_matches(bert_archive):
    import tensorflow as tf

    from neurogenesis.io.models import load_model

    saved = read_preprocessor(bert_archive)
    model = load_model(bert_archive)
    traced = tf.function(lambda text: model.preprocessor(text))  # the tf_text graph path
    for text in TEXTS:
        theirs = traced(tf.constant([text]))
        np.testing.assert_array_equal(
            saved.encode(text).inputs["token_ids"], theirs["token_ids"].numpy(), err_msg=text
        )

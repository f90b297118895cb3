"""A task model's saved preprocessor, read and run without TensorFlow and without running code.

A KerasHub text classifier saved with its preprocessor keeps the preprocessor's settings in the
archive's ``config.json`` (the task's ``preprocessor`` entry and its ``tokenizer``) and the
tokenizer's files under ``assets/preprocessor/tokenizer/`` (``vocabulary.txt`` for WordPiece,
``vocabulary.json`` and ``merges.txt`` for byte-pair encoding). :func:`read_preprocessor` reads
those with zipfile and json; :class:`SavedPreprocessor` then turns typed text into the model's
inputs exactly as KerasHub's own preprocessor does:

* WordPiece (BERT, DistilBERT, ELECTRA, RoFormer): BERT's basic tokenization (accents stripped,
  split on whitespace, punctuation and CJK characters, lower-cased by case folding when the
  tokenizer says so), then greedy longest-match-first subwords marked with the suffix indicator;
  a word with no match, or longer than 100 bytes, is the out-of-vocabulary token;
* byte-level BPE (RoBERTa): GPT-2's pre-tokenization pattern, bytes mapped to printable
  characters, merges applied by rank;
* packing (``MultiSegmentPacker`` for one segment): start token, the tokens cut to fit, end
  token, padding to ``sequence_length``; ``padding_mask`` is ``token_ids != pad``, and
  ``segment_ids`` are 0.

SentencePiece tokenizers (ALBERT, DeBERTa-v3, F-Net, XLM-RoBERTa) are not reproduced: their
model file is a protobuf run by the ``sentencepiece`` library, so the reader says why instead.
"""

from __future__ import annotations

import io
import json
import os
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from neurogenesis.errors import InputError

__all__ = ["SavedPreprocessor", "TypedInputs", "read_preprocessor", "MAX_TYPED_CHARACTERS"]

MAX_TYPED_CHARACTERS = 2_000
MAX_ASSET_BYTES = 64 * 1024**2
# KerasHub (after tf_text.FastWordpieceTokenizer) reads a longer word as the unknown token.
MAX_BYTES_PER_WORD = 100

# The outputs of each text-classifier preprocessor reproduced here, in KerasHub's order.
PREPROCESSOR_OUTPUTS = {
    "BertTextClassifierPreprocessor": ("token_ids", "padding_mask", "segment_ids"),
    "DistilBertTextClassifierPreprocessor": ("token_ids", "padding_mask"),
    "RobertaTextClassifierPreprocessor": ("token_ids", "padding_mask"),
    "RoformerV2TextClassifierPreprocessor": ("token_ids", "segment_ids"),
}
# Tokenizer class -> (algorithm, start, end, pad, mask): the special tokens the class adds.
BERT_SPECIALS = ("[CLS]", "[SEP]", "[PAD]", "[MASK]")
TOKENIZERS = {
    "BertTokenizer": ("wordpiece", *BERT_SPECIALS),
    "DistilBertTokenizer": ("wordpiece", *BERT_SPECIALS),
    "ElectraTokenizer": ("wordpiece", *BERT_SPECIALS),
    "RoformerV2Tokenizer": ("wordpiece", *BERT_SPECIALS),
    "RobertaTokenizer": ("bpe", "<s>", "</s>", "<pad>", "<mask>"),
}
SENTENCEPIECE_TOKENIZERS = (
    "AlbertTokenizer",
    "DebertaV3Tokenizer",
    "FNetTokenizer",
    "XLMRobertaTokenizer",
    "SentencePieceTokenizer",
)

# BERT's basic tokenization, as KerasHub writes it (RE2's \s is ASCII whitespace only).
_WHITESPACE = r"[ \t\n\r\f]|\p{Cc}|\p{Cf}"
_PUNCTUATION = r"[!-/]|[:-@]|[\[-`]|[{-~]|[\p{P}]"
_CJK = (
    r"[\u4E00-\u9FFF]|[\u3400-\u4DBF]|[\U00020000-\U0002A6DF]|[\U0002A700-\U0002B73F]"
    r"|[\U0002B740-\U0002B81F]|[\U0002B820-\U0002CEAF]|[\uF900-\uFAFF]|[\U0002F800-\U0002FA1F]"
)
# GPT-2's pre-tokenization (github.com/openai/gpt-2, src/encoder.py).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# Code points that tf_text.case_fold_utf8 (NFKC_Casefold) drops: Default_Ignorable_Code_Point.
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class TypedInputs:
    """Typed text as the model's inputs.

    Attributes:
        inputs: One array of shape (1, sequence_length) per preprocessor output, named as the
            model's inputs (``token_ids``, ``padding_mask``, ``segment_ids``...).
        tokens: The token of every position (start, end and padding tokens included).
        tokenizer: Who tokenized it, for the caption under the tokens.
    """

    inputs: dict[str, np.ndarray]
    tokens: list[str]
    tokenizer: str


@dataclass(frozen=True, eq=False)
class SavedPreprocessor:
    """A saved KerasHub text-classifier preprocessor, read from the archive.

    Attributes:
        preprocessor: The preprocessor's class name.
        tokenizer: The tokenizer's class name.
        reason: Why typed text cannot be read without the model's own code (empty when it can).
        sequence_length: Length of every packed input.
        outputs: The input names the preprocessor produces.
        vocabulary: Tokens by id.
        settings: The tokenizer's saved config (lowercase, strip_accents, ...).
        merges: Byte-pair merge rules, highest priority first (BPE only).
    """

    preprocessor: str
    tokenizer: str
    reason: str = ""
    sequence_length: int = 0
    outputs: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)
    merges: tuple[tuple[str, str], ...] = ()

    @property
    def algorithm(self) -> str:
        return TOKENIZERS[self.tokenizer][0] if self.tokenizer in TOKENIZERS else ""

    @property
    def special_tokens(self) -> tuple[str, str, str, str]:
        """(start, end, pad, mask) tokens of the tokenizer class."""
        return TOKENIZERS[self.tokenizer][1:]

    def token_id(self, token: str) -> int:
        ids = _index(self.vocabulary)
        if token not in ids:
            raise InputError(
                f"The saved vocabulary of {self.tokenizer} has no token {token!r}, which the "
                "tokenizer needs; the archive's assets look damaged."
            )
        return ids[token]

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` (no start, end or padding tokens)."""
        if self.reason:
            raise InputError(self.reason)
        if self.algorithm == "wordpiece":
            return _wordpiece(text, self)
        return _bpe(text, self)

    def encode(self, text: str) -> TypedInputs:
        """``text`` packed as the model's inputs (see the module docstring).

        Raises:
            InputError: empty or too long text, or a preprocessor not reproduced here.
        """
        if self.reason:
            raise InputError(self.reason)
        text = _checked_text(text)
        start, end, pad, _ = self.special_tokens
        length = self.sequence_length
        tokens = [start, *self.tokenize(text)[: max(length - 2, 0)], end][:length]
        tokens += [pad] * (length - len(tokens))
        ids = np.array([[self.token_id(token) for token in tokens]], dtype=np.int32)
        arrays = {
            "token_ids": ids,
            "padding_mask": ids != self.token_id(pad),
            "segment_ids": np.zeros_like(ids),
        }
        inputs = {name: arrays[name] for name in self.outputs}
        return TypedInputs(inputs, tokens, f"{self.tokenizer} (read from the saved vocabulary)")


def _checked_text(text) -> str:
    text = str(text)
    if len(text) > MAX_TYPED_CHARACTERS:
        raise InputError(
            f"The text has {len(text):,} characters; at most {MAX_TYPED_CHARACTERS:,} are read."
        )
    if not text.strip():
        raise InputError("Type a sentence first.")
    return text


@lru_cache(maxsize=8)
def _index(vocabulary: tuple[str, ...]) -> dict[str, int]:
    """Token -> id, the last id of a repeated token winning, as in KerasHub."""
    return {token: i for i, token in enumerate(vocabulary)}


# --- WordPiece -------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _split_patterns(split_on_cjk: bool, special: tuple[str, ...]):
    import regex

    split = [_WHITESPACE, _PUNCTUATION] + ([_CJK] if split_on_cjk else [])
    keep = [_PUNCTUATION] + ([_CJK] if split_on_cjk else [])
    if special:
        words = "|".join(regex.escape(token) for token in special)
        split, keep = [words, *split], [words, *keep]
    return regex.compile("|".join(split)), regex.compile("|".join(keep))


def _casefold(text: str) -> str:
    """tf_text.case_fold_utf8: NFKC_Casefold, dropping default-ignorable code points."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in text if not any(lo <= ord(c) <= hi for lo, hi in _IGNORABLE))


def _pretokenize(text: str, settings: dict, special: tuple[str, ...]) -> list[str]:
    """BERT's basic tokenization: the words WordPiece then splits into subwords."""
    if settings.get("strip_accents", True):
        text = unicodedata.normalize("NFD", text)
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    if settings.get("split", True):
        split, keep = _split_patterns(bool(settings.get("split_on_cjk", True)), special)
        words, position = [], 0
        for match in split.finditer(text):
            if match.start() > position:
                words.append(text[position : match.start()])
            if keep.fullmatch(match.group()):
                words.append(match.group())
            position = match.end()
        if position < len(text):
            words.append(text[position:])
    else:
        words = [text]
    if settings.get("lowercase", False):
        words = [word if word in special else _casefold(word) for word in words]
    return words


def _wordpiece(text: str, saved: SavedPreprocessor) -> list[str]:
    settings = saved.settings
    suffix = settings.get("suffix_indicator", "##")
    unknown = settings.get("oov_token", "[UNK]")
    special: tuple[str, ...] = ()
    if settings.get("split", True) and settings.get("special_tokens_in_strings", False):
        extra = tuple(settings.get("special_tokens") or ())
        special = tuple(sorted(set(saved.special_tokens) | set(extra), key=lambda t: -len(t)))
    vocabulary = _index(saved.vocabulary)
    tokens: list[str] = []
    for word in _pretokenize(text, settings, special):
        if not word:
            continue
        if len(word.encode("utf-8")) > MAX_BYTES_PER_WORD:
            tokens.append(unknown)
            continue
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = (suffix if start else "") + word[start:end]
                if piece in vocabulary:
                    break
                end -= 1
            if end == start:  # nothing in the vocabulary matched: the whole word is unknown
                pieces = [unknown]
                break
            pieces.append(piece)
            start = end
        tokens.extend(pieces)
    return tokens


# --- byte-level BPE --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's map from bytes to printable characters (spaces and controls moved past 255)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:
            chars[byte] = chr(256 + extra)
            extra += 1
    return chars


@lru_cache(maxsize=8)
def _ranks(merges: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], int]:
    return {pair: rank for rank, pair in reversed(list(enumerate(merges)))}


def bpe_merge(word: str, merges: tuple[tuple[str, str], ...]) -> list[str]:
    """Byte-pair encoding of one pre-token: repeatedly merge the adjacent pair of lowest rank."""
    ranks = _ranks(merges)
    never = len(merges)
    parts = list(word)
    while len(parts) > 1:
        pairs = zip(parts, parts[1:], strict=False)
        rank = min(ranks.get(pair, never) for pair in pairs)
        if rank == never:
            break
        first, second = merges[rank]
        merged, i = [], 0
        while i < len(parts):
            if i < len(parts) - 1 and parts[i] == first and parts[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def _bpe(text: str, saved: SavedPreprocessor) -> list[str]:
    import regex

    settings = saved.settings
    if settings.get("add_prefix_space", False):
        text = " " + text
    special = tuple(settings.get("unsplittable_tokens") or saved.special_tokens)
    chunks = [text]
    if special:
        splitter = "(" + "|".join(regex.escape(t) for t in sorted(special, key=len)[::-1]) + ")"
        chunks = [chunk for chunk in regex.split(splitter, text) if chunk]
    chars = byte_to_unicode()
    vocabulary = _index(saved.vocabulary)
    tokens: list[str] = []
    for chunk in chunks:
        if chunk in special:
            tokens.append(chunk)
            continue
        for piece in regex.findall(GPT2_PATTERN, chunk):
            word = "".join(chars[byte] for byte in piece.encode("utf-8"))
            for token in bpe_merge(word, saved.merges):
                if token not in vocabulary:
                    raise InputError(
                        f"The model's vocabulary has no token for {token!r} (from {piece!r}); "
                        "a byte-level vocabulary holds all 256 bytes, so this one is incomplete."
                    )
                tokens.append(token)
    return tokens


# --- reading the archive ---------------------------------------------------------------------


def read_preprocessor(path: str | os.PathLike[str]) -> SavedPreprocessor | None:
    """The preprocessor saved in a ``.keras`` archive, or None when it holds none.

    Only zipfile and json run: the archive is checked as every model file is
    (``io.models.read_saved_parts``), then the tokenizer's settings and assets are read as data.

    Returns:
        The preprocessor; its ``reason`` says why typed text cannot be read when its tokenizer
        is not reproduced here.

    Raises:
        InputError: the archive is damaged or its tokenizer files are missing or malformed.
    """
    from neurogenesis.io.models import read_saved_parts

    parts = read_saved_parts(path)
    if parts.file_format != "keras":
        return None
    entry = (parts.config.get("config") or {}).get("preprocessor")
    if not isinstance(entry, dict):
        return None
    config = entry.get("config") or {}
    name = str(entry.get("class_name", ""))
    tokenizer_entry = config.get("tokenizer") if isinstance(config.get("tokenizer"), dict) else {}
    tokenizer = str(tokenizer_entry.get("class_name", ""))
    settings = dict(tokenizer_entry.get("config") or {})
    if tokenizer in SENTENCEPIECE_TOKENIZERS:
        reason = f"typed text needs tensorflow-text for this tokenizer ({tokenizer}: SentencePiece)"
        return SavedPreprocessor(name, tokenizer, reason=reason)
    if name not in PREPROCESSOR_OUTPUTS or tokenizer not in TOKENIZERS:
        reason = (
            f"typed text is read for KerasHub's text classifiers ({', '.join(PREPROCESSOR_OUTPUTS)})"
            f"; this model's preprocessor is {name or 'unnamed'} with {tokenizer or 'no'} tokenizer"
        )
        return SavedPreprocessor(name, tokenizer, reason=reason)
    length = config.get("sequence_length")
    if not isinstance(length, int) or length < 2:
        raise InputError(
            f"The saved {name} has sequence_length {length!r}; expected a whole number of at "
            "least 2 (a start and an end token)."
        )
    common = dict(
        preprocessor=name, tokenizer=tokenizer, sequence_length=length,
        outputs=PREPROCESSOR_OUTPUTS[name], settings=settings,
    )  # fmt: skip
    with zipfile.ZipFile(parts.path) as archive:
        if TOKENIZERS[tokenizer][0] == "wordpiece":
            text = _asset(archive, "vocabulary.txt", parts.path)
            vocabulary = tuple(line.rstrip() for line in io.StringIO(text, newline=None))
            saved = SavedPreprocessor(vocabulary=vocabulary, **common)
        else:
            vocabulary = _bpe_vocabulary(_asset(archive, "vocabulary.json", parts.path))
            lines = io.StringIO(_asset(archive, "merges.txt", parts.path), newline=None)
            merges = tuple(
                tuple(line.rstrip().split(" ")) for line in lines if "#version:" not in line
            )
            if any(len(merge) != 2 for merge in merges):
                raise InputError(
                    f"The saved merges.txt of {tokenizer} has a line that is not two tokens "
                    "separated by one space."
                )
            saved = SavedPreprocessor(vocabulary=vocabulary, merges=merges, **common)
    for token in saved.special_tokens[:3]:
        saved.token_id(token)
    return saved


def _asset(archive: zipfile.ZipFile, filename: str, display: str) -> str:
    """One tokenizer file of the archive, as text (the preprocessor's own first)."""
    name = f"assets/preprocessor/tokenizer/{filename}"
    names = archive.namelist()
    if name not in names:
        found = [n for n in names if n.startswith("assets/") and n.endswith(f"/{filename}")]
        if len(found) != 1:
            raise InputError(
                f"{display} saves a preprocessor but not its tokenizer's {filename} (looked for "
                f"{name}); save the model again with KerasHub so the assets are written."
            )
        name = found[0]
    if archive.getinfo(name).file_size > MAX_ASSET_BYTES:
        raise InputError(f"{name} in {display} is larger than {MAX_ASSET_BYTES:,} bytes.")
    with archive.open(name) as member:
        raw = member.read(MAX_ASSET_BYTES + 1)
    if len(raw) > MAX_ASSET_BYTES:
        raise InputError(f"{name} in {display} is larger than {MAX_ASSET_BYTES:,} bytes.")
    return raw.decode("utf-8", errors="replace")


def _bpe_vocabulary(text: str) -> tuple[str, ...]:
    try:
        mapping = json.loads(text)
    except ValueError as error:
        raise InputError(f"The saved vocabulary.json is not JSON: {error}.") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in mapping.items()
    ):
        raise InputError("The saved vocabulary.json should map tokens to ids (whole numbers).")
    vocabulary = [""] * (max(mapping.values(), default=-1) + 1)
    for token, index in mapping.items():
        vocabulary[index] = token
    return tuple(vocabulary)

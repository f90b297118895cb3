"""Sample sets: the inputs a page feeds through a model.

Three kinds, all read without TensorFlow:

* ``.npz`` archives with an ``x`` array and optionally ``y`` (labels) and ``label_names``
  (``np.load(allow_pickle=False)``: object arrays, which would unpickle, are refused); a model
  with several inputs reads a ``.npz`` whose arrays are named after its inputs (``token_ids``,
  ``padding_mask``, ``segment_ids``...) instead of ``x``: they are *packed* into one NumPy
  structured array (:func:`pack_inputs`, one field per input), so a set of several inputs is
  indexed, sliced and counted exactly like a one-input one, and ``analysis.graph`` unpacks it;
* images: one image file, or a folder of them; sub-folders name the classes, as in
  ``keras.utils.image_dataset_from_directory``;
* text: a ``.txt`` file with one sample per line, optionally ``label<TAB>text``.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurogenesis.errors import InputError

MAX_NPZ_BYTES = 2 * 1024**3
MAX_NPZ_MEMBERS = 64
MAX_IMAGE_FILES = 20_000
MAX_IMAGE_PIXELS = 40_000_000
MAX_TEXT_BYTES = 64 * 1024**2
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
TEXT_SUFFIXES = (".txt",)
SAMPLE_SUFFIXES = (".npz", *IMAGE_SUFFIXES, *TEXT_SUFFIXES)

__all__ = [
    "SampleSet",
    "load_samples",
    "input_arrays",
    "is_token_name",
    "mask_input_names",
    "pack_inputs",
    "padding_mask",
    "token_input_name",
    "resize_images",
    "samples_npz",
    "SAMPLE_SUFFIXES",
]

# Arrays of a .npz that are never model inputs: labels, names, and the extras pages read.
RESERVED_NAMES = frozenset(
    {"y", "label_names", "vocabulary", "feature_names", "text", "masks", "dates", "sample_weight"}
)


def pack_inputs(arrays) -> np.ndarray:
    """Several named input arrays (one sample per row each) as one structured array.

    The result has one field per input, ``result[name]`` equal to ``arrays[name]``; indexing,
    slicing and ``len`` act on samples, so sample sets of several inputs go through every
    ``x[indices]`` as one-input sets do.

    Raises:
        InputError: no arrays, or arrays with different numbers of samples.
    """
    arrays = {str(name): np.asarray(value) for name, value in dict(arrays).items()}
    if not arrays:
        raise InputError("Expected at least one input array.")
    counts = {name: (value.shape[0] if value.ndim else 0) for name, value in arrays.items()}
    if len(set(counts.values())) != 1:
        raise InputError(
            "Every input needs one row per sample; the arrays have "
            + ", ".join(f"'{name}' {count}" for name, count in counts.items())
            + " rows."
        )
    count = next(iter(counts.values()))
    if count == 0:
        raise InputError("The input arrays hold no samples.")
    dtype = np.dtype([(name, value.dtype, value.shape[1:]) for name, value in arrays.items()])
    packed = np.empty(count, dtype=dtype)
    for name, value in arrays.items():
        packed[name] = value
    return packed


def input_arrays(x) -> dict[str, np.ndarray] | None:
    """The named arrays of a packed set of several inputs (:func:`pack_inputs`), or None for a
    plain one-input array."""
    x = np.asarray(x)
    if x.dtype.names is None:
        return None
    return {name: x[name] for name in x.dtype.names}


def is_token_name(name: str) -> bool:
    """An input named like token ids (``token_ids``, ``ids``, ``input_ids``): the one naming rule
    every view that looks for a model's tokens among several inputs uses."""
    lowered = str(name).lower()
    return "token" in lowered or lowered in ("ids", "input_ids")


def token_input_name(names) -> str | None:
    """Which of several inputs holds the token ids: the first named like tokens
    (:func:`is_token_name`), else the first; None without names."""
    names = list(names or ())
    if not names:
        return None
    tokens = [n for n in names if is_token_name(n)]
    return tokens[0] if tokens else names[0]


def mask_input_names(names) -> list[str]:
    """The inputs that may be a padding mask, most likely first: those whose name holds
    ``mask``, one named ``padding_mask`` (KerasHub's) ahead of the others."""
    return sorted(
        (str(name) for name in names if "mask" in str(name).lower()),
        key=lambda name: "padding_mask" not in name.lower(),
    )


def padding_mask(x) -> np.ndarray | None:
    """The padding mask of samples of several inputs (packed, or a dict by input name): the
    input named ``padding_mask`` (else the first whose name holds ``mask``) when it is boolean or
    0/1 integers of the token ids' shape, as a boolean array, True for real tokens; None when
    the samples have no such input (text models mark padding with it, KerasHub's always)."""
    arrays = dict(x) if isinstance(x, dict) else input_arrays(x)
    if not arrays:
        return None
    tokens = arrays.get(token_input_name(arrays))
    for name in mask_input_names(arrays):
        mask = np.asarray(arrays[name])
        if tokens is None or mask.shape != np.shape(tokens) or mask is tokens:
            continue
        if mask.dtype == bool:
            return mask
        if mask.dtype.kind in "iu" and np.isin(mask, (0, 1)).all():
            return mask.astype(bool)
    return None


def _strings(values) -> list[str] | None:
    return [str(value) for value in values.reshape(-1)] if values is not None else None


@dataclass(frozen=True, eq=False)
class SampleSet:
    """Inputs (and labels when known) for a model.

    Attributes:
        name: what the user calls it (the file or folder name).
        kind: ``"array"``, ``"image"`` or ``"text"``.
        x: the inputs; images are ``uint8`` arrays of shape ``(n, height, width, channels)``, text
            is a 1-D array of ``str``; a set for a model of several inputs (kind ``"inputs"``) is
            a structured array with one field per input name (:func:`pack_inputs`).
        y: integer or float labels, one per sample, or ``None``.
        label_names: class names indexed by integer label, or ``None``.
        source: the path it was read from.
        extras: any other arrays of a ``.npz`` sample set, by name: per-sample ones (first axis as
            long as ``x``: ``masks`` of the objects, the raw ``text`` behind token ids, ``dates``)
            and set-wide ones (``vocabulary``: token id -> word, ``feature_names``).
    """

    name: str
    kind: str
    x: np.ndarray
    y: np.ndarray | None
    label_names: tuple[str, ...] | None
    source: str
    extras: dict = field(default_factory=dict)

    @property
    def input_names(self) -> tuple[str, ...] | None:
        """The names of the inputs of a set of several inputs, or None for a one-input set."""
        return self.x.dtype.names

    def input(self, name: str | None = None) -> np.ndarray:
        """One input's array: ``name``'s field of a set of several inputs (the token ids when
        no name is given: the first integer input named like tokens, else the first input), or
        ``x`` itself for a one-input set."""
        names = self.x.dtype.names
        if names is None:
            return self.x
        if name is None:
            name = token_input_name(names)
        if name not in names:
            raise InputError(f"Expected one of the inputs {names}. Received: {name!r}.")
        return self.x[name]

    def per_sample(self, name: str) -> np.ndarray | None:
        """The extra array ``name`` when it has one entry per sample, else None."""
        value = self.extras.get(name)
        if value is None or value.ndim == 0 or value.shape[0] != len(self):
            return None
        return value

    @property
    def vocabulary(self) -> list[str] | None:
        """The set's vocabulary (token id -> word) as strings, or None."""
        return _strings(self.extras.get("vocabulary"))

    @property
    def feature_names(self) -> list[str] | None:
        """The names of a tabular set's features as strings, or None."""
        return _strings(self.extras.get("feature_names"))

    def words(self, ids) -> list[str]:
        """Token ids as words from the vocabulary; ``#id`` for an id it lacks (or without one)."""
        vocabulary = self.vocabulary
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if vocabulary is None:
            return [f"#{int(i)}" for i in ids]
        return [vocabulary[i] if 0 <= i < len(vocabulary) else f"#{int(i)}" for i in ids]

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SampleSet):
            return NotImplemented
        return (
            (self.name, self.kind, self.label_names, self.source)
            == (other.name, other.kind, other.label_names, other.source)
            and np.array_equal(self.x, other.x)
            and (
                (self.y is None and other.y is None)
                or (self.y is not None and other.y is not None and np.array_equal(self.y, other.y))
            )
            and set(self.extras) == set(other.extras)
            and all(np.array_equal(self.extras[k], other.extras[k]) for k in self.extras)
        )

    __hash__ = None  # mutable arrays inside: compare by value, never hash


def load_samples(path: str | os.PathLike) -> SampleSet:
    """Reads a sample set from a ``.npz`` file, an image file or folder, or a ``.txt`` file.

    Args:
        path: the file or folder.

    Returns:
        The samples.

    Raises:
        InputError: the path is missing, of an unknown kind, damaged, or holds no samples.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"No such file or folder: '{path}'.")
    if path.is_dir():
        return _load_image_folder(path)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"The sample file '{path.name}' is empty (0 bytes).")
    if suffix == ".npz":
        return _load_npz(path)
    if suffix in IMAGE_SUFFIXES:
        image = _read_image(path)
        return SampleSet(path.stem, "image", image[None], None, None, str(path))
    if suffix in TEXT_SUFFIXES:
        return _load_text(path)
    raise InputError(
        f"Expected a sample set: a .npz file with 'x' and 'y', image files ({', '.join(IMAGE_SUFFIXES)}) "
        f"or a .txt file with one sample per line. Received: '{path.name}'"
    )


def _load_npz(path: Path) -> SampleSet:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_NPZ_MEMBERS:
                raise InputError(
                    f"'{path.name}' holds {len(members)} arrays; a sample set has at most {MAX_NPZ_MEMBERS}."
                )
            total = sum(member.file_size for member in members)
            if total > MAX_NPZ_BYTES:
                raise InputError(
                    f"'{path.name}' unpacks to {total / 1024**3:.1f} GiB; the limit for a sample set is "
                    f"{MAX_NPZ_BYTES / 1024**3:.0f} GiB."
                )
    except zipfile.BadZipFile as error:
        raise InputError(
            f"'{path.name}' is not a readable .npz archive (truncated or damaged: {error})."
        ) from None
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise InputError(
                f"'{path.name}' holds Python objects, which loading would unpickle (run code); "
                "save plain numeric or string arrays with np.savez."
            ) from None
        raise InputError(f"'{path.name}' could not be read as a .npz archive: {error}") from None
    except Exception as error:  # zlib, zipfile and numpy format errors for damaged members
        raise InputError(f"'{path.name}' is damaged: {type(error).__name__}: {error}") from None
    packed = None
    if "x" not in arrays:
        named = {k: v for k, v in arrays.items() if k not in RESERVED_NAMES and v.ndim >= 1}
        if len(named) < 2:
            found = ", ".join(sorted(arrays)) or "nothing"
            raise InputError(
                f"Expected a .npz file with arrays 'x' and 'y' (or, for a model of several "
                f"inputs, one array per input name). Received: '{path.name}' with {found}."
            )
        for name, value in named.items():
            if value.dtype.kind not in "biuf" + "U":
                raise InputError(
                    f"'{name}' in '{path.name}' has dtype {value.dtype}; expected numbers or strings."
                )
        packed = pack_inputs(named)
        arrays = {k: v for k, v in arrays.items() if k not in named}
        arrays["x"] = packed
    x = arrays["x"]
    if x.ndim == 0 or x.shape[0] == 0:
        raise InputError(f"'x' in '{path.name}' holds no samples (shape {x.shape}).")
    if packed is None and x.dtype.kind not in "biuf" + "U":
        raise InputError(f"'x' in '{path.name}' has dtype {x.dtype}; expected numbers or strings.")
    y = arrays.get("y")
    if y is not None:
        if y.ndim == 0 or y.shape[0] != x.shape[0]:
            raise InputError(
                f"'y' in '{path.name}' has {y.shape[0] if y.ndim else 0} labels for {x.shape[0]} samples; they must match."
            )
        if y.dtype.kind not in "biuf":
            raise InputError(f"'y' in '{path.name}' has dtype {y.dtype}; expected numeric labels.")
    names = arrays.get("label_names")
    label_names = tuple(str(name) for name in names.reshape(-1)) if names is not None else None
    if packed is not None:
        kind = "inputs"
    elif x.dtype.kind == "U":
        kind = "text"
    elif (x.ndim == 4 and x.shape[-1] in (1, 3, 4)) or (x.ndim == 3 and x.dtype == np.uint8):
        kind = "image"
    else:
        kind = "array"
    extras = {key: value for key, value in arrays.items() if key not in ("x", "y", "label_names")}
    return SampleSet(path.stem, kind, x, y, label_names, str(path), extras)


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode not in ("L", "RGB"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
                if image.mode == "RGBA":
                    image = image.convert("RGB")
            array = np.asarray(image, dtype=np.uint8)
    except Image.DecompressionBombError:
        raise InputError(
            f"'{path.name}' declares more than {MAX_IMAGE_PIXELS:,} pixels; refused as a possible decompression bomb."
        ) from None
    except Exception as error:  # PIL raises many types for damaged files
        raise InputError(
            f"'{path.name}' is not a readable image ({type(error).__name__}: {error})."
        ) from None
    return array[..., None] if array.ndim == 2 else array


def _load_image_folder(folder: Path) -> SampleSet:
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        if (folder / "saved_model.pb").exists():
            raise InputError(
                f"'{folder.name}' is a TensorFlow SavedModel folder, not a sample set."
            )
        raise InputError(f"No image files ({', '.join(IMAGE_SUFFIXES)}) found in '{folder}'.")
    if len(files) > MAX_IMAGE_FILES:
        raise InputError(
            f"'{folder.name}' holds {len(files):,} images; the limit is {MAX_IMAGE_FILES:,}."
        )
    classes = sorted({p.parent.relative_to(folder).as_posix() for p in files} - {"."})
    images = [_read_image(p) for p in files]
    height, width, channels = images[0].shape
    resized = []
    for image in images:
        if image.shape[:2] != (height, width) or image.shape[2] != channels:
            from PIL import Image

            converted = Image.fromarray(image.squeeze(-1) if image.shape[2] == 1 else image)
            converted = converted.convert("L" if channels == 1 else "RGB").resize((width, height))
            image = np.asarray(converted, dtype=np.uint8)
            image = image[..., None] if image.ndim == 2 else image
        resized.append(image)
    x = np.stack(resized)
    y = None
    if classes:
        index = {name: i for i, name in enumerate(classes)}
        y = np.array(
            [index.get(p.parent.relative_to(folder).as_posix(), -1) for p in files], dtype=np.int64
        )
    return SampleSet(folder.name, "image", x, y, tuple(classes) if classes else None, str(folder))


def _resize_one(image: np.ndarray, size: tuple[int, int], resample) -> np.ndarray:
    """One (H, W) or (H, W, C) array at ``size`` (height, width), channel by channel in PIL's
    float mode (``F``) so any dtype and range survives; cast back to the input's dtype."""
    from PIL import Image

    height, width = size
    channels = image[..., None] if image.ndim == 2 else image
    planes = [
        np.asarray(
            Image.fromarray(channels[..., c].astype(np.float32), mode="F").resize(
                (width, height), resample
            )
        )
        for c in range(channels.shape[-1])
    ]
    out = np.stack(planes, axis=-1)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    out = out.astype(image.dtype)
    return out[..., 0] if image.ndim == 2 else out


def resize_images(sample_set: SampleSet, size: tuple[int, int]) -> SampleSet:
    """The image set with every image resized to ``size`` (height, width): bilinear for the
    images, nearest for per-sample masks of the same height and width (so labels stay labels).

    The count, labels and names stay; a model with a fixed input size then takes photos of any
    size, as ``keras.utils.image_dataset_from_directory(image_size=...)`` would give it.

    Raises:
        InputError: the set holds no (N, H, W, C) images or the size is not two positive ints.
    """
    from PIL import Image

    height, width = (int(value) for value in size)
    if height < 1 or width < 1:
        raise InputError(f"Expected a positive height and width. Received: {tuple(size)}.")
    x = sample_set.x
    if x.ndim != 4:
        raise InputError(
            f"Only images (N, height, width, channels) can be resized. Received: {x.shape}."
        )
    old = x.shape[1:3]
    resized = np.stack([_resize_one(image, (height, width), Image.BILINEAR) for image in x])
    extras = dict(sample_set.extras)
    for name, value in sample_set.extras.items():
        if value.ndim >= 3 and value.shape[0] == len(x) and value.shape[1:3] == old:
            extras[name] = np.stack(
                [_resize_one(item, (height, width), Image.NEAREST) for item in value]
            )
    return SampleSet(
        sample_set.name,
        sample_set.kind,
        resized,
        sample_set.y,
        sample_set.label_names,
        sample_set.source,
        extras,
    )


def samples_npz(sample_set: SampleSet) -> bytes:
    """The set as the bytes of a ``.npz`` that :func:`load_samples` reads back equal (``x``,
    ``y``, ``label_names`` and the extras)."""
    import io

    inputs = input_arrays(sample_set.x)
    arrays = {**(inputs if inputs is not None else {"x": sample_set.x}), **sample_set.extras}
    if sample_set.y is not None:
        arrays["y"] = sample_set.y
    if sample_set.label_names is not None:
        arrays["label_names"] = np.array(sample_set.label_names, dtype=str)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _load_text(path: Path) -> SampleSet:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise InputError(
            f"'{path.name}' is {size / 1024**2:.0f} MiB; text sample files are limited to {MAX_TEXT_BYTES // 1024**2} MiB."
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InputError(f"'{path.name}' is binary, not text (it contains NUL bytes).")
    text = raw.decode("utf-8", errors="replace")
    lines = [line.rstrip("\r") for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise InputError(f"'{path.name}' holds no text lines.")
    labels = None
    label_names = None
    if all("\t" in line for line in lines):
        pairs = [line.split("\t", 1) for line in lines]
        label_names = tuple(sorted({label for label, _ in pairs}))
        index = {name: i for i, name in enumerate(label_names)}
        labels = np.array([index[label] for label, _ in pairs], dtype=np.int64)
        lines = [sample for _, sample in pairs]
    return SampleSet(path.stem, "text", np.array(lines, dtype=str), labels, label_names, str(path))


MAX_TYPED_CHARACTERS = 2_000
_PUNCTUATION = str.maketrans({character: " " for character in '.,;:!?"()[]{}'})


def encode_text(text: str, vocabulary, length: int) -> tuple[np.ndarray, list[str]]:
    """Token ids for text a user typed, the way the demo's tokenizer reads its corpus.

    Lower-cased words split on white space (punctuation dropped), each looked up in
    ``vocabulary`` (id -> word); unknown words become ``[UNK]`` (id 1 when the vocabulary has no
    such word), padded with 0 and cut to ``length``.

    Args:
        text: what the user typed.
        vocabulary: the sample set's words, indexed by token id.
        length: the model's sequence length.

    Returns:
        ``(ids (1, length) int32, the words as read)``.

    Raises:
        InputError: empty or too long text, or no vocabulary.
    """
    if vocabulary is None or len(vocabulary) == 0:
        raise InputError(
            "This sample set has no 'vocabulary' (token id -> word), so typed text cannot be "
            "turned into token ids; pick a sample instead."
        )
    text = str(text)
    if len(text) > MAX_TYPED_CHARACTERS:
        raise InputError(
            f"The text has {len(text):,} characters; at most {MAX_TYPED_CHARACTERS:,} are read."
        )
    words = text.lower().translate(_PUNCTUATION).split()
    if not words:
        raise InputError("Type a sentence first.")
    vocabulary = [str(word) for word in np.asarray(vocabulary).reshape(-1)]
    index = {word: i for i, word in enumerate(vocabulary)}
    unknown = index.get("[UNK]", 1)
    ids = np.zeros((1, int(length)), dtype=np.int32)
    kept = words[: int(length)]
    ids[0, : len(kept)] = [index.get(word, unknown) for word in kept]
    return ids, kept

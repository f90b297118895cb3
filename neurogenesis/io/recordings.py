"""Reading back what only :class:`neurogenesis.RunRecorder` writes into a run folder.

The scalars and histograms of a recorded run are standard TensorBoard event files, read by
:mod:`neurogenesis.io.logs` like any other log. Everything else lives next to them, in open formats,
and is read here without TensorFlow or Keras (json, numpy and h5py only):

=============================  ====================================================================
``neurogenesis_run.json``      the manifest: status, epochs, hyperparameters, the files below
``model.keras``                the model (architecture at the start, final weights at the end)
``checkpoints/*.weights.h5``   weights per epoch (``initial`` = before training), thinned
``activations/*.npz``          per-layer, per-unit statistics on the fixed probe batch
``attention/*.npz``            MultiHeadAttention scores on the first probe samples
``probe.npz``, ``samples.npz`` the probe batch and the small sample set (``x`` and ``y``)
=============================  ====================================================================

The manifest is untrusted input like any file: its size is capped, its types are checked, and
every file it names must lie inside the run folder. A file the manifest lists that is missing on
disk (a checkpoint thinned away between two reads, say) is left out, with a note.

A run whose status is ``"running"`` but whose ``updated`` time is old most likely ended with an
exception (Keras does not call ``on_train_end`` then) or was killed: treat it as unknown.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurogenesis.errors import InputError
from neurogenesis.io.run_folder import RUN_MANIFEST_NAME

__all__ = [
    "ACTIVATION_STATISTICS",
    "RUN_FORMAT",
    "RUN_FORMAT_VERSION",
    "RUN_MANIFEST_NAME",
    "RUN_STATUSES",
    "Recording",
    "is_recording",
    "load_activation_stats",
    "load_attention",
    "load_checkpoint_arrays",
    "read_recording",
]

RUN_FORMAT = "neurogenesis-run"
RUN_FORMAT_VERSION = 1
RUN_STATUSES = ("running", "finished", "stopped", "failed")
ACTIVATION_STATISTICS = ("mean", "std", "frac_zero", "frac_saturated")
VARIABLE_PATHS_ATTRIBUTE = "neurogenesis_variable_paths"
"""Root attribute of a recorder checkpoint: JSON ``[[dataset path, variable path], ...]`` in the
order Keras wrote the datasets."""

MAX_MANIFEST_BYTES = 16 * 1024**2
MAX_NPZ_MEMBERS = 10_000
MAX_NPZ_BYTES = 2 * 1024**3
MAX_MANIFEST_ENTRIES = 100_000
MAX_NOTE_CHARS = 2_000


@dataclass(frozen=True)
class Recording:
    """A run folder written by :class:`neurogenesis.RunRecorder`, as its manifest describes it.

    Attributes:
        path: Absolute path of the run folder.
        status: ``"running"``, ``"finished"``, ``"stopped"`` or ``"failed"``.
        epochs_completed: Epochs recorded so far.
        hyperparameters: The user's hyperparameters plus the optimizer's class and config.
        checkpoints: ``(epoch, absolute path)`` per weight checkpoint, by epoch; epoch -1 holds the
            weights before training.
        activation_files: ``(epoch, absolute path)`` per activation-statistics file.
        attention_files: ``(epoch, absolute path)`` per attention-scores file.
        model_file: Absolute path of ``model.keras``, or None.
        probe_file: Absolute path of ``probe.npz``, or None.
        samples_file: Absolute path of ``samples.npz``, or None.
        notes: What the recorder skipped or what went wrong, one sentence each.
        started: ISO 8601 time training started, or None.
        updated: ISO 8601 time the manifest was last written, or None.
        params: What Keras told the callbacks (``epochs``, ``steps``, ``verbose``).
        tags: ``{"train": [...], "validation": [...]}``, the epoch scalar tags written.
    """

    path: str
    status: str
    epochs_completed: int
    hyperparameters: dict
    checkpoints: tuple[tuple[int, str], ...]
    activation_files: tuple[tuple[int, str], ...]
    attention_files: tuple[tuple[int, str], ...]
    model_file: str | None
    probe_file: str | None
    samples_file: str | None
    notes: tuple[str, ...]
    started: str | None
    updated: str | None
    params: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)

    @property
    def checkpoint_labels(self) -> tuple[str, ...]:
        """Each checkpoint's label, oldest first: ``'initial'`` (before training) or ``'epoch N'``
        (counted from 1)."""
        return tuple(
            "initial" if epoch < 0 else f"epoch {epoch + 1}" for epoch, _ in self.checkpoints
        )


def is_recording(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding a recorder manifest (nothing is parsed)."""
    try:
        return (Path(path) / RUN_MANIFEST_NAME).is_file()
    except (OSError, TypeError, ValueError):
        return False


def read_recording(run_dir: str | os.PathLike) -> Recording:
    """Reads a run folder's ``neurogenesis_run.json``.

    Args:
        run_dir: The run folder (or the manifest file itself).

    Returns:
        The recording, with absolute paths to the files that exist.

    Raises:
        InputError: No manifest, or one that is too big, not JSON, or not a recorder manifest.
    """
    folder = _folder(run_dir)
    manifest = folder / RUN_MANIFEST_NAME
    display = f"'{manifest}'"
    try:
        with manifest.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise InputError(
            f"Expected a run folder recorded by RunRecorder, with {RUN_MANIFEST_NAME} inside. "
            f"Received: '{folder}', which has none."
        ) from None
    except OSError as error:
        raise InputError(
            f"{display} could not be read ({error.strerror or type(error).__name__})."
        ) from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InputError(
            f"{display} is larger than {MAX_MANIFEST_BYTES // 1024**2} MiB; a recorder manifest "
            "is a few kilobytes, so this is not one."
        )
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InputError(
            f"{display} is not valid JSON ({_short(str(error))}); it may be damaged."
        ) from None
    return _recording(folder, document, display)


def load_checkpoint_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads a ``.weights.h5`` checkpoint with h5py only (no Keras, no TensorFlow).

    A recorder checkpoint names its datasets by ``variable.path`` (``'dense/kernel'``); any other
    Keras weights file is keyed by the dataset's path in the file (``'layers/dense/vars/0'``).
    The file is first read in full by the same crash-isolated HDF5 pre-scan that model files get,
    which refuses links to other files.

    Args:
        path: The checkpoint file.

    Returns:
        Arrays by variable path, in the order Keras wrote them (model weights, then the
        optimizer's variables).

    Raises:
        InputError: The file is missing, not HDF5, damaged, or reaches outside itself.
    """
    file = _existing_file(path, "a .weights.h5 checkpoint")
    display = f"'{file.name}'"
    from neurogenesis.io.models import hdf5_facts  # the HDF5 pre-scan, in a worker process

    hdf5_facts(str(file), display, model_file=False)
    import h5py

    try:
        with h5py.File(file, "r", locking=False) as handle:
            datasets: list[str] = []
            handle.visititems(
                lambda name, item: datasets.append(name) if isinstance(item, h5py.Dataset) else None
            )
            names = _variable_names(handle.attrs.get(VARIABLE_PATHS_ATTRIBUTE), datasets)
            arrays = {}
            for dataset in sorted(datasets, key=lambda d: names[d][0]):
                arrays[names[dataset][1]] = np.asarray(handle[dataset][()])
    except InputError:
        raise
    except Exception as error:
        raise InputError(
            f"{display} is a truncated or damaged HDF5 file ({_short(str(error))})."
        ) from None
    return arrays


def load_activation_stats(path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """Reads an ``activations/epoch_XXXX.npz`` file.

    Args:
        path: The file.

    Returns:
        ``{layer name: {"mean", "std", "frac_zero", "frac_saturated"}}``, each a float32 array of
        shape ``(units,)``, layers in the model's order.

    Raises:
        InputError: Missing, damaged, or not activation statistics.
    """
    file = _existing_file(path, "an activation-statistics .npz file")
    arrays = _load_npz(file)
    layers: dict[str, dict[str, np.ndarray]] = {}
    for key, array in arrays.items():
        layer, _, statistic = key.rpartition("/")
        if not layer or statistic not in ACTIVATION_STATISTICS:
            raise InputError(
                f"Expected arrays named '<layer>/<statistic>' with a statistic among "
                f"{', '.join(ACTIVATION_STATISTICS)}. Received: '{file.name}' holding '{key}'."
            )
        if array.ndim != 1 or array.dtype.kind != "f":
            raise InputError(
                f"'{key}' in '{file.name}' has shape {array.shape} and dtype {array.dtype}; "
                "expected one float per unit."
            )
        layers.setdefault(layer, {})[statistic] = array.astype(np.float32, copy=False)
    for layer, statistics in layers.items():
        missing = [name for name in ACTIVATION_STATISTICS if name not in statistics]
        if missing:
            raise InputError(
                f"Layer '{layer}' in '{file.name}' lacks {', '.join(missing)}; the file is damaged."
            )
        if len({statistics[name].shape for name in ACTIVATION_STATISTICS}) != 1:
            raise InputError(
                f"The statistics of layer '{layer}' in '{file.name}' have different lengths; "
                "the file is damaged."
            )
    return {
        layer: {name: statistics[name] for name in ACTIVATION_STATISTICS}
        for layer, statistics in layers.items()
    }


def load_attention(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads an ``attention/epoch_XXXX.npz`` file.

    Args:
        path: The file.

    Returns:
        ``{layer name: scores}``, scores as float32 (stored as float16) of shape
        ``(batch, num_heads, query_length, key_length)`` (more axes for attention over several
        axes). A layer called more than once in a forward pass appears once per call, the later
        calls as ``'<layer>/call_<i>'``.

    Raises:
        InputError: Missing, damaged, or not attention scores.
    """
    file = _existing_file(path, "an attention-scores .npz file")
    arrays = _load_npz(file)
    scores = {}
    for key, array in arrays.items():
        if array.ndim < 4 or array.dtype.kind != "f":
            raise InputError(
                f"'{key}' in '{file.name}' has shape {array.shape} and dtype {array.dtype}; "
                "expected float attention scores of shape (batch, heads, query, key)."
            )
        scores[key] = array.astype(np.float32)
    return scores


# --------------------------------------------------------------------------------------------


def _folder(run_dir) -> Path:
    try:
        raw = os.fspath(run_dir)
    except TypeError:
        raise InputError(
            f"Expected the path of a recorded run folder. Received: {type(run_dir).__name__}."
        ) from None
    if isinstance(raw, bytes):
        raw = os.fsdecode(raw)
    if not raw or "\x00" in raw:
        raise InputError(f"Expected the path of a recorded run folder. Received: {raw!r}.")
    folder = Path(os.path.abspath(os.path.expanduser(raw)))
    if folder.name == RUN_MANIFEST_NAME and not folder.is_dir():
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(
            f"Expected a recorded run folder. Received: '{raw}', which "
            f"{'is a file' if folder.exists() else 'does not exist'}; check the path."
        )
    return folder


def _existing_file(path, what: str) -> Path:
    try:
        file = Path(os.path.abspath(os.fspath(path)))
    except TypeError:
        raise InputError(f"Expected the path of {what}. Received: {type(path).__name__}.") from None
    if not file.is_file():
        raise InputError(
            f"Expected {what}. Received: '{file}', which "
            f"{'is not a file' if file.exists() else 'does not exist'}; "
            "it may have been thinned away or the run folder moved."
        )
    return file


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_error(display: str, key: str, expected: str, value) -> InputError:
    shown = _short(repr(value), 60)
    return InputError(
        f"{display} is not a valid recorder manifest: '{key}' should be {expected}, not {shown}."
    )


def _recording(folder: Path, document, display: str) -> Recording:
    if not isinstance(document, dict):
        raise InputError(
            f"{display} is not a recorder manifest: expected a JSON object, "
            f"found a {type(document).__name__}."
        )
    if document.get("format") != RUN_FORMAT:
        raise InputError(
            f'{display} is not a recorder manifest: expected "format": "{RUN_FORMAT}", found '
            f"{_short(repr(document.get('format')), 60)}."
        )
    version = document.get("version")
    if not _is_int(version) or version < 1:
        raise _type_error(display, "version", "a positive integer", version)
    if version > RUN_FORMAT_VERSION:
        raise InputError(
            f"{display} was written by a newer NeuroGenesis (format version {version}; this one "
            f"reads up to {RUN_FORMAT_VERSION}); update NeuroGenesis to read it."
        )
    status = document.get("status")
    if status not in RUN_STATUSES:
        raise _type_error(display, "status", f"one of {', '.join(RUN_STATUSES)}", status)
    epochs = document.get("epochs_completed", 0)
    if not _is_int(epochs) or epochs < 0:
        raise _type_error(display, "epochs_completed", "a non-negative integer", epochs)
    notes = list(_strings(document.get("notes", []), display, "notes"))
    hyperparameters = _mapping(document.get("hyperparameters", {}), display, "hyperparameters")
    params = _mapping(document.get("params", {}), display, "params")
    tags_raw = _mapping(document.get("tags", {}), display, "tags")
    tags = {
        str(key): tuple(_strings(value, display, f"tags.{key}")) for key, value in tags_raw.items()
    }
    lists = {}
    for key, what in (
        ("checkpoints", "checkpoint"),
        ("activations", "activation-statistics file"),
        ("attention", "attention-scores file"),
    ):
        lists[key] = _epoch_files(folder, document.get(key, []), display, key, what, notes)
    files = {}
    for key in ("model_file", "probe_file", "samples_file"):
        value = document.get(key)
        if value is None:
            files[key] = None
            continue
        if not isinstance(value, str):
            raise _type_error(display, key, "a relative path or null", value)
        files[key] = _inside(folder, value, display, key)
        if not os.path.isfile(files[key]):
            notes.append(f"The manifest lists {key.replace('_', ' ')} '{value}', which is missing.")
            files[key] = None
    times = {}
    for key in ("started", "updated"):
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise _type_error(display, key, "an ISO 8601 time or null", value)
        times[key] = value
    return Recording(
        path=str(folder),
        status=status,
        epochs_completed=int(epochs),
        hyperparameters=hyperparameters,
        checkpoints=lists["checkpoints"],
        activation_files=lists["activations"],
        attention_files=lists["attention"],
        model_file=files["model_file"],
        probe_file=files["probe_file"],
        samples_file=files["samples_file"],
        notes=tuple(notes),
        started=times["started"],
        updated=times["updated"],
        params=params,
        tags=tags,
    )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _mapping(value, display: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise _type_error(display, key, "an object", value)
    return value


def _strings(value, display: str, key: str):
    if not isinstance(value, list) or len(value) > MAX_MANIFEST_ENTRIES:
        raise _type_error(display, key, "a list of strings", value)
    for item in value:
        if not isinstance(item, str):
            raise _type_error(display, key, "a list of strings", item)
        yield _short(item, MAX_NOTE_CHARS)


def _inside(folder: Path, relative: str, display: str, key: str) -> str:
    """The absolute path of a file the manifest names; refuses anything outside the run folder."""
    if not relative or "\x00" in relative or os.path.isabs(relative) or "\\" in relative:
        raise _type_error(display, key, "a path relative to the run folder", relative)
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InputError(
            f"{display} names '{_short(relative, 80)}' for '{key}', which is not a plain path "
            "inside the run folder; refused."
        )
    resolved = os.path.realpath(folder / relative)
    root = os.path.realpath(folder)
    if os.path.commonpath([resolved, root]) != root:
        raise InputError(
            f"{display} names '{_short(relative, 80)}' for '{key}', which leads outside the run "
            "folder (through a link); refused."
        )
    return str(folder / relative)


def _epoch_files(folder, entries, display, key, what, notes) -> tuple[tuple[int, str], ...]:
    if not isinstance(entries, list) or len(entries) > MAX_MANIFEST_ENTRIES:
        raise _type_error(display, key, 'a list of {"epoch", "file"} objects', entries)
    found: dict[int, str] = {}
    missing = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise _type_error(display, key, 'a list of {"epoch", "file"} objects', entry)
        epoch, file = entry.get("epoch"), entry.get("file")
        if not _is_int(epoch) or epoch < -1:
            raise _type_error(display, f"{key}[].epoch", "an integer >= -1", epoch)
        if not isinstance(file, str):
            raise _type_error(display, f"{key}[].file", "a relative path", file)
        path = _inside(folder, file, display, key)
        if os.path.isfile(path):
            found[epoch] = path
        else:
            missing.append(file)
    if missing:
        listed = ", ".join(f"'{name}'" for name in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        notes.append(
            f"The manifest lists {len(missing)} {what}{'s' if len(missing) != 1 else ''} that "
            f"{'are' if len(missing) != 1 else 'is'} missing ({listed}{more}); left out."
        )
    return tuple(sorted(found.items()))


_NUMBERED = re.compile(r"(\d+)")


def _natural_key(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in _NUMBERED.split(name))


def _variable_names(attribute, datasets: list[str]) -> dict[str, tuple[tuple, str]]:
    """{dataset path: (sort key, name)}: the recorder's variable paths where it wrote them."""
    order: dict[str, int] = {}
    names: dict[str, str] = {}
    if attribute is not None:
        try:
            text = attribute.decode("utf-8") if isinstance(attribute, bytes) else str(attribute)
            pairs = json.loads(text)
            for index, (dataset, variable) in enumerate(pairs):
                if isinstance(dataset, str) and dataset not in order:
                    order[dataset] = index
                    if isinstance(variable, str) and variable:
                        names[dataset] = variable
        except (ValueError, TypeError, UnicodeDecodeError):
            order, names = {}, {}
    if len(set(names.values())) != len(names):  # ambiguous: fall back to the paths in the file
        names = {}
    result = {}
    taken = set(names.values())
    for dataset in datasets:
        name = names.get(dataset)
        if name is None:
            name = dataset
            while name in taken:
                name += "_"
        taken.add(name)
        index = order.get(dataset)
        key = (0, index, ()) if index is not None else (1, 0, _natural_key(dataset))
        result[dataset] = (key, name)
    return result


def _load_npz(file: Path) -> dict[str, np.ndarray]:
    display = f"'{file.name}'"
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            if len(members) > MAX_NPZ_MEMBERS:
                raise InputError(f"{display} holds {len(members):,} arrays; too many to be ours.")
            total = sum(member.file_size for member in members)
            if total > MAX_NPZ_BYTES:
                raise InputError(
                    f"{display} unpacks to {total / 1024**3:.1f} GiB, more than the "
                    f"{MAX_NPZ_BYTES // 1024**3} GiB allowed."
                )
    except zipfile.BadZipFile as error:
        raise InputError(
            f"{display} is not a readable .npz archive (truncated or damaged: {error})."
        ) from None
    except OSError as error:
        raise InputError(
            f"{display} could not be read ({error.strerror or type(error).__name__})."
        ) from None
    try:
        with np.load(file, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise InputError(
                f"{display} holds Python objects, which loading would unpickle (run code); refused."
            ) from None
        raise InputError(f"{display} could not be read as a .npz archive: {error}") from None
    except Exception as error:  # zlib, zipfile and numpy format errors for damaged members
        raise InputError(f"{display} is damaged: {type(error).__name__}: {error}") from None

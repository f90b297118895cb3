"""What the user is looking at: models, logs and sample sets, from the demos, the command line or uploads.

A :class:`Source` names one thing by where it came from and where it lies. Its :attr:`Source.key`
is the identity pages keep in ``st.session_state``; its :meth:`Source.fingerprint` (sizes and
modification times) goes into every cache key, so a file that changes on disk, such as a log that
is still being written, is read again. Nothing here imports TensorFlow or Streamlit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from neurogenesis.errors import InputError
from neurogenesis.io import run_folder
from neurogenesis.io.samples import IMAGE_SUFFIXES, SAMPLE_SUFFIXES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_MODELS_DIR = PROJECT_ROOT / "models"
DEMO_DATA_DIR = PROJECT_ROOT / "data"
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
LOG_SUFFIXES = (".csv", ".json")
UPLOAD_DIR = Path(
    os.environ.get("NEUROGENESIS_UPLOAD_DIR", Path(tempfile.gettempdir()) / "neurogenesis-uploads")
)
MAX_FINGERPRINT_FILES = 20_000

KINDS = ("model", "logs", "samples")

__all__ = [
    "Source",
    "Workspace",
    "attention_runs",
    "demo_sweep",
    "demo_workspace",
    "holds_studies",
    "landscape_runs",
    "matching_models",
    "recorded_hyperparameters",
    "recorded_path",
    "model_metadata",
    "run_models",
    "safe_file_name",
    "twin_run",
    "workspace_from_paths",
    "save_upload",
    "trial_sources",
    "upload_kind",
]


@dataclass(frozen=True)
class Source:
    """One model file, log location or sample set.

    Attributes:
        kind: ``"model"``, ``"logs"`` or ``"samples"``.
        origin: ``"demo"``, ``"local"`` (a path given on the command line) or ``"upload"``.
        label: what the sidebar shows.
        path: absolute path of the file or folder.
        description: one line from the demo's metadata file, or empty.
        output: for a model of several outputs, the one the pages explain and score (see
            ``analysis.graph.output_names``); empty for the model's first (or only) output.
    """

    kind: str
    origin: str
    label: str
    path: str
    description: str = ""
    output: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.origin}:{self.path}"

    def fingerprint(self) -> str:
        """Sizes and modification times of everything under the path, hashed.

        Cheap (a directory walk, no reads), so pages call it on every rerun and a growing log is
        noticed at once.
        """
        path = Path(self.path)
        digest = hashlib.sha1()
        try:
            if path.is_dir():
                count = 0
                for root, dirs, files in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for name in sorted(files):
                        stat = os.stat(os.path.join(root, name))
                        digest.update(f"{root}/{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
                        count += 1
                        if count >= MAX_FINGERPRINT_FILES:
                            break
            else:
                stat = path.stat()
                digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        except OSError:
            digest.update(b"missing")
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Workspace:
    """Everything on offer in one session, demos first."""

    models: tuple[Source, ...] = ()
    logs: tuple[Source, ...] = ()
    samples: tuple[Source, ...] = ()
    problems: tuple[str, ...] = field(default=())

    def __add__(self, other: Workspace) -> Workspace:
        def merged(a: tuple[Source, ...], b: tuple[Source, ...]) -> tuple[Source, ...]:
            seen = {source.key for source in a}
            return a + tuple(source for source in b if source.key not in seen)

        return Workspace(
            merged(self.models, other.models),
            merged(self.logs, other.logs),
            merged(self.samples, other.samples),
            self.problems + other.problems,
        )

    def sources(self, kind: str) -> tuple[Source, ...]:
        return {"model": self.models, "logs": self.logs, "samples": self.samples}[kind]

    def find(self, key: str | None) -> Source | None:
        if not key:
            return None
        for source in (*self.models, *self.logs, *self.samples):
            if source.key == key:
                return source
        return None


def model_metadata(path: str | Path) -> dict:
    """A model's card (``name.json`` beside ``name.keras``: title, dataset, ``test_metric``, runs,
    ...), or ``{}`` when there is none or it cannot be read (at most 256 KiB are read)."""
    meta = Path(path).with_suffix(".json")
    try:
        if not meta.is_file() or meta.stat().st_size > 256 * 1024:
            return {}
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def demo_sweep(card: Mapping) -> str | None:
    """The ``sweep.json`` of a demo's width sweep, from its card (:func:`model_metadata`): the
    card's ``sweep`` folder, relative to the project (``data/sweeps/<name>``), when the card names
    its demo and the file is there; else None."""
    folder = card.get("sweep")
    if not isinstance(folder, str) or not card.get("name"):
        return None
    path = (PROJECT_ROOT / folder).resolve() / run_folder.SWEEP_FILE
    return str(path) if path.is_file() else None


def _describe(path: Path) -> str:
    """One line from a demo's metadata file (``name.json`` beside ``name.keras``), if any."""
    data = model_metadata(path)
    parts = [str(data[key]) for key in ("title", "dataset") if isinstance(data.get(key), str)]
    return " — ".join(parts)


def demo_workspace(models_dir: Path = DEMO_MODELS_DIR, data_dir: Path = DEMO_DATA_DIR) -> Workspace:
    """The bundled demos: ``models/*.keras``, the runs under ``data/runs``, the hyperparameter
    sweeps under ``data/sweeps`` and ``data/samples/*``."""
    models = tuple(
        Source("model", "demo", path.stem, str(path), _describe(path))
        for path in sorted(models_dir.glob("*"))
        if path.suffix.lower() in MODEL_SUFFIXES and path.is_file()
    )
    logs = tuple(
        Source("logs", "demo", label, str(folder))
        for label, folder in (
            ("demo runs", data_dir / "runs"),
            ("demo sweeps", data_dir / "sweeps"),
        )
        if folder.is_dir() and any(folder.iterdir())
    )
    samples_dir = data_dir / "samples"
    samples = (
        tuple(
            Source("samples", "demo", path.stem, str(path))
            for path in sorted(samples_dir.glob("*"))
            if (path.is_file() and path.suffix.lower() in SAMPLE_SUFFIXES) or path.is_dir()
        )
        if samples_dir.is_dir()
        else ()
    )
    return Workspace(models, logs, samples)


def workspace_from_paths(
    logdirs: Iterable[str | os.PathLike] = (),
    models: Iterable[str | os.PathLike] = (),
    samples: Iterable[str | os.PathLike] = (),
) -> Workspace:
    """Paths from the command line (``--logdir``, ``--model``, ``--samples``).

    A path that does not exist is not fatal: it is reported in :attr:`Workspace.problems` so the
    app still starts and says what was wrong.
    """
    found: dict[str, list[Source]] = {"model": [], "logs": [], "samples": []}
    problems = []
    for kind, paths in (("logs", logdirs), ("model", models), ("samples", samples)):
        for raw in paths:
            path = Path(raw).expanduser().resolve()
            if not path.exists():
                flag = {"logs": "--logdir", "model": "--model", "samples": "--samples"}[kind]
                problems.append(f"{flag} {raw}: no such file or folder.")
                continue
            found[kind].append(Source(kind, "local", path.name or str(path), str(path)))
    return Workspace(
        tuple(found["model"]), tuple(found["logs"]), tuple(found["samples"]), tuple(problems)
    )


def upload_kind(filename: str) -> str:
    """Which kind of source an uploaded file is, from its name.

    Raises:
        InputError: the name fits none of the kinds.
    """
    name = filename.lower()
    suffix = Path(name).suffix
    if suffix in MODEL_SUFFIXES:
        return "model"
    if "tfevents" in name or suffix in LOG_SUFFIXES:
        return "logs"
    if suffix in SAMPLE_SUFFIXES:
        return "samples"
    raise InputError(
        "Expected a model (.keras, .h5), a training log (events.out.tfevents.*, .csv, .json) or a sample set "
        f"(.npz, {', '.join(IMAGE_SUFFIXES)}, .txt). Received: '{filename}'"
    )


SAFE_NAME_LENGTH = 120


def safe_file_name(
    name: str,
    *,
    fallback: str = "upload",
    max_length: int | None = SAFE_NAME_LENGTH,
    strip_folders: bool = True,
) -> str:
    """``name`` made safe as one file name: letters, digits, ``.``, ``-`` and ``_`` only.

    Every run of other characters becomes one ``_``; leading and trailing ``.`` and ``_`` go, so
    the result is never hidden, never ``..`` and never empty.

    Args:
        name: an uploaded file's name, a chart title, a model's name...
        fallback: what an empty result becomes.
        max_length: the longest result (None: no limit).
        strip_folders: keep only the last part of a path (``/`` or ``\\``); False keeps every part,
            joined by ``_`` (a title such as "loss / accuracy").

    Returns:
        The safe name.
    """
    if strip_folders:
        name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or fallback
    return name if max_length is None else name[:max_length]


def save_upload(filename: str, data: bytes, upload_dir: Path | None = None) -> Source:
    """Stores an uploaded file under its content hash and returns its :class:`Source`.

    The file lands in ``<upload_dir>/<sha256>/``; only the session that uploaded it keeps its
    source (in ``st.session_state``), so no other user is offered it. The file's own name is
    sanitised and never used as a path component above that folder. Event files get a folder of
    their own, as TensorBoard expects a run to be a folder.

    Raises:
        InputError: the file is empty or of an unknown kind.
    """
    kind = upload_kind(filename)
    if not data:
        raise InputError(f"The uploaded file '{filename}' is empty (0 bytes).")
    digest = hashlib.sha256(data).hexdigest()
    folder = (upload_dir or UPLOAD_DIR) / digest[:32]
    name = safe_file_name(filename)
    if kind == "logs" and "tfevents" in name.lower():
        run_dir = folder / Path(name).stem.replace("events.out.tfevents.", "run-")[:60]
        target = run_dir / (
            name if name.startswith("events.out.tfevents") else f"events.out.tfevents.{name}"
        )
        path = run_dir
    else:
        target = folder / name
        path = target
    _write_once(target, data)
    return Source(kind, "upload", filename, str(path))


def _write_once(target: Path, data: bytes) -> None:
    """Writes ``data`` to ``target`` unless it is already there; atomically (no half files)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.stat().st_size != len(data):
        temporary = target.with_name(target.name + ".part")
        temporary.write_bytes(data)
        os.replace(temporary, target)


def fitted_samples(
    source: Source, sample_set, input_shape: tuple, upload_dir: Path | None = None
) -> tuple[Source, str | None]:
    """The sample set made to fit a model with a fixed image input: images of another height
    and width are resized to the model's (``io.samples.resize_images``), stored once under their
    content hash beside the uploads, and returned as a new :class:`Source` with a sentence
    saying so. Anything else (text, arrays, images of the right size, a model whose input size is
    not fixed) comes back as it was, with None.

    Args:
        source: the sample set's Source.
        sample_set: the set read from it (``io.samples.SampleSet``).
        input_shape: the model's first input shape without the batch axis.
        upload_dir: where to store the resized set (default :data:`UPLOAD_DIR`).
    """
    from neurogenesis.io.samples import resize_images, samples_npz

    x = sample_set.x
    shape = tuple(input_shape)
    if (
        sample_set.kind != "image"
        or x.ndim != 4
        or len(shape) != 3
        or not all(isinstance(d, int) and d > 0 for d in shape[:2])
        or tuple(x.shape[1:3]) == shape[:2]
    ):
        return source, None
    height, width = shape[:2]
    data = samples_npz(resize_images(sample_set, (height, width)))
    digest = hashlib.sha256(data).hexdigest()
    target = (
        (upload_dir or UPLOAD_DIR)
        / digest[:32]
        / safe_file_name(f"{Path(source.path).stem}-{height}x{width}.npz")
    )
    _write_once(target, data)
    note = (
        f"Resized from {x.shape[1]}×{x.shape[2]} to {height}×{width} to fit the model's input "
        f"({len(x)} images)."
    )
    return Source(source.kind, source.origin, source.label, str(target), source.description), note


TRIAL_SUFFIXES = (".csv", ".json", ".db", ".sqlite", ".sqlite3")


def save_file(filename: str, data: bytes, upload_dir: Path | None = None) -> str:
    """Stores an uploaded trials file (``TRIAL_SUFFIXES``) under its content hash, the way
    :func:`save_upload` stores models and logs, and returns its path.

    Raises:
        InputError: the file is empty or not a trials file by its name.
    """
    if Path(filename.lower()).suffix not in TRIAL_SUFFIXES:
        raise InputError(
            "Expected trials as a CSV file (one row per trial), a sweep.json or an Optuna "
            f"SQLite file ({', '.join(TRIAL_SUFFIXES)}). Received: '{filename}'"
        )
    if not data:
        raise InputError(f"The uploaded file '{filename}' is empty (0 bytes).")
    digest = hashlib.sha256(data).hexdigest()
    target = (upload_dir or UPLOAD_DIR) / digest[:32] / safe_file_name(filename)
    _write_once(target, data)
    return str(target)


# --- The catalogue: what the chosen logs and files hold besides their scalars ---------------------
# These know the run-folder format (io.run_folder, io.recordings) and take the readers they need
# as arguments, so the cache layer passes its cached readers and stays a layer of one-liners.


def holds_studies(path: str | os.PathLike) -> bool:
    """Whether the trials file at ``path`` is an Optuna SQLite storage by its name (``.db``,
    ``.sqlite``, ``.sqlite3``): one file that may hold several studies to choose from."""
    from neurogenesis.io.trials import SQLITE_SUFFIXES

    return Path(path).suffix.lower() in SQLITE_SUFFIXES


def _find_trial_sources(source: Source) -> list[str]:
    from neurogenesis.io.trials import find_trial_sources

    return find_trial_sources(source.path)


def trial_sources(
    sources: Iterable[Source],
    *,
    find: Callable[[Source], list[str]] = _find_trial_sources,
) -> dict[str, str]:
    """Label -> path of every set of trials under the log sources (sweep folders, HParams logs,
    trials files): a source that is one itself keeps its label, one inside it is labelled
    ``"<source label> / <path inside it>"`` ("demo sweeps / weather_lstm").

    Args:
        sources: log sources.
        find: ``find(source) -> paths`` (``io.trials.find_trial_sources`` of its path by default).
    """
    found: dict[str, str] = {}
    for source in sources:
        for path in find(source):
            relative = Path(path).relative_to(source.path) if path != source.path else Path()
            found[source.label if not relative.parts else f"{source.label} / {relative}"] = path
    return found


def _read_card(source: Source):
    from neurogenesis.io.models import scan_model_file

    return scan_model_file(source.path)


def _read_checkpoint_labels(run_dir: str) -> tuple[str, ...]:
    from neurogenesis.io.recordings import read_recording

    return read_recording(run_dir).checkpoint_labels


def recorded_hyperparameters(runs) -> dict[str, dict]:
    """Run name -> the hyperparameters its RunRecorder manifest holds (recorded runs only; a
    manifest that cannot be read is left out)."""
    from neurogenesis.io.recordings import read_recording

    found = {}
    for run in runs:
        if run.format != "neurogenesis":
            continue
        try:
            found[run.name] = dict(read_recording(run.path).hyperparameters)
        except InputError:
            continue
    return found


def recorded_path(runs) -> str | None:
    """The folder of the first of ``runs`` that the RunRecorder wrote (checkpoints, activation
    statistics), or None."""
    for run in runs:
        if run.format == "neurogenesis":
            return run.path
    return None


def run_models(
    sources: Iterable[Source],
    *,
    named_runs: Callable[[list[Source]], tuple[list, list[str], list[str]]],
    hyperparameters: Callable[[Source], dict[str, dict]],
) -> list[tuple[str, Source, dict]]:
    """``(run name, model Source, hyperparameters)`` of every recorded run of the log sources
    that saved its ``model.keras`` (the models a comparison can offer besides the sidebar's).

    Args:
        sources: log sources.
        named_runs: ``named_runs([source]) -> (runs, display names, errors)``.
        hyperparameters: ``hyperparameters(source) -> {run name: hyperparameters}``.
    """
    found = []
    for source in sources:
        parameters = hyperparameters(source)
        runs, names, _ = named_runs([source])
        for run, name in zip(runs, names, strict=False):
            path = run_folder.model_file(run.path) if run.format == "neurogenesis" else None
            if path is not None:
                model_source = Source("model", source.origin, name, str(path))
                found.append((name, model_source, parameters.get(run.name, {})))
    return found


def attention_runs(
    sources: Iterable[Source],
    *,
    named_runs: Callable[[list[Source]], tuple[list, list[str], list[str]]],
) -> list[tuple[str, str]]:
    """``(run name, folder)`` of the log sources' recorded runs that kept attention scores
    (``named_runs`` as in :func:`run_models`)."""
    runs, names, _ = named_runs(sources)
    return [
        (name, run.path)
        for run, name in zip(runs, names, strict=False)
        if getattr(run, "format", None) == "neurogenesis" and run_folder.has_attention(run.path)
    ]


def landscape_runs(
    runs_with_models: Iterable[tuple[str, Source, dict]],
    input_shape: tuple,
    *,
    model_card: Callable[[Source], object] = _read_card,
    checkpoint_labels: Callable[[str], tuple[str, ...]] = _read_checkpoint_labels,
) -> list[tuple[str, Source, str]]:
    """``(run name, model Source, run folder)`` of the runs (from :func:`run_models`) that saved
    weight checkpoints and whose model takes samples shaped ``input_shape`` (without the batch).

    Args:
        runs_with_models: what :func:`run_models` found.
        input_shape: the sample set's shape without the batch axis.
        model_card: a model file's pre-scan (``io.models.scan_model_file`` by default).
        checkpoint_labels: a run folder's checkpoint labels (``Recording.checkpoint_labels``).
    """
    found = []
    for name, model_source, _ in runs_with_models:
        run_dir = str(Path(model_source.path).parent)
        try:
            card = model_card(model_source)
        except InputError:
            continue
        shapes = card.input_shapes
        if len(shapes) != 1 or tuple(shapes[0][1:]) != tuple(input_shape):
            continue
        if checkpoint_labels(run_dir):
            found.append((name, model_source, run_dir))
    return found


def matching_models(
    model: Source,
    candidates: Iterable[Source],
    *,
    same_size: bool,
    same_output: Callable[[Source, Source], bool] | None = None,
    model_card: Callable[[Source], object] = _read_card,
) -> list[Source]:
    """The candidates (other files) that take the same inputs as ``model``, and with
    ``same_size`` also hold as many parameters (the same architecture, for a line between
    weights); read from the files without loading them.

    Args:
        model: the model the others must fit.
        candidates: model sources.
        same_size: also require as many parameters.
        same_output: ``same_output(model, other)``: also require it (None: no such check).
        model_card: a model file's pre-scan (``io.models.scan_model_file`` by default).
    """
    try:
        card = model_card(model)
    except InputError:
        return []
    found = []
    for source in candidates:
        if source.path == model.path:
            continue
        try:
            other = model_card(source)
        except InputError:
            continue
        if other.input_shapes == card.input_shapes and (
            not same_size or other.num_params == card.num_params
        ):
            if same_output is not None and not same_output(model, source):
                continue
            found.append(source)
    return found


def twin_run(
    model: Source,
    runs_with_models: Iterable[tuple[str, Source, object]],
    *,
    weights_digest: Callable[[Source], str],
    model_card: Callable[[Source], object] = _read_card,
) -> str | None:
    """The name of the run (``(name, model Source, ...)``, as :func:`run_models` or
    :func:`landscape_runs` give them) whose saved model holds the same weights as ``model``, or
    None; only models with as many parameters are loaded and hashed (``weights_digest``)."""
    try:
        card = model_card(model)
        candidates = [
            (name, source)
            for name, source, _ in runs_with_models
            if model_card(source).num_params == card.num_params
        ]
        if not candidates:
            return None
        mine = weights_digest(model)
        return next((name for name, source in candidates if weights_digest(source) == mine), None)
    except InputError:
        return None

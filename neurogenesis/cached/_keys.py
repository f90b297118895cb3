"""The cache layer's plumbing: a Source's key, the shared loaded resources, the remembered store.

Every cache key is an identity, never an object: :func:`key` turns a
:class:`~neurogenesis.workspace.Source` into ``(path, fingerprint)`` (its sizes and modification
times), so a file that changes is read again and one user's upload is never served for another's.
:func:`by_key` gives a cached function whose arguments are such keys its public face, which takes
Sources.
"""

from __future__ import annotations

import functools
import inspect

import streamlit as st

from neurogenesis.resources import cache_entries
from neurogenesis.workspace import Source

Key = tuple[str, ...]
"""``(path, fingerprint)``: what a cache key holds for a file or folder; a model answering one
of its several outputs adds the output's name: ``(path, fingerprint, output)``."""


def key(source: Source) -> Key:
    """The one identity a Source enters every cache key by: its path and its fingerprint (and
    the chosen output of a model of several)."""
    identity = (source.path, source.fingerprint())
    return (*identity, source.output) if source.output else identity


def folder_key(path: str) -> Key:
    """The identity of a file or folder known only by its path (a recorded run's folder)."""
    return key(Source("logs", "local", path, path, ""))


def by_key(function):
    """``function`` called with every :class:`Source` argument replaced by its :func:`key`.

    ``function`` is a ``st.cache_data`` / ``st.cache_resource`` function whose file arguments are
    keys; the result takes Sources (keys pass through unchanged, so cached functions call each
    other with keys). Plain arguments go into the cache key as they are given, positionally
    and with their defaults filled in.
    """
    signature = inspect.signature(function)

    @functools.wraps(function)
    def call(*args, **kwargs):
        args, kwargs = _bound(signature, [_keyed(value) for value in args], kwargs, _keyed)
        return function(*args, **kwargs)

    return call


def by_folder(function):
    """``function`` called with its first argument, a path, replaced by its :func:`folder_key`
    (a key passes through): the public face of a cached function of a file or folder known only
    by its path (a recorded run's folder, a sweep, a trials file)."""

    signature = inspect.signature(function)

    @functools.wraps(function)
    def call(path, *args, **kwargs):
        path = path if isinstance(path, tuple) else folder_key(path)
        args, kwargs = _bound(signature, [path, *args], kwargs)
        return function(*args, **kwargs)

    return call


def _bound(signature, args, kwargs, convert=lambda value: value) -> tuple[tuple, dict]:
    """Every argument in order, positional, defaults filled in: so ``f(a)``, ``f(a, b=1)`` and
    ``f(a, 1)`` (b defaulting to 1) make one cache key, as the hand-written wrappers did."""
    bound = signature.bind(*args, **{name: convert(value) for name, value in kwargs.items()})
    bound.apply_defaults()
    return bound.args, bound.kwargs


def _keyed(value):
    return key(value) if isinstance(value, Source) else value


_identity = key  # the name the wrappers written before by_key use


def _folder_fingerprint(path: str) -> str:
    return folder_key(path)[1]


@st.cache_resource(
    show_spinner="Loading the model (TensorFlow starts on first use)…",
    max_entries=cache_entries(4, 3),
)
def _model(path: str, fingerprint: str, output: str = ""):
    from neurogenesis.io.models import load_model

    if output:  # the loaded model (one copy, cached) answering only that output
        from neurogenesis.analysis.graph import with_output

        return with_output(_model(path, fingerprint), output)
    return load_model(path)


@st.cache_resource(show_spinner="Reading the logs…", max_entries=32)
def _runs(path: str, fingerprint: str):
    from neurogenesis.io.logs import find_runs

    return find_runs(path)


@st.cache_data(show_spinner="Reading the samples…", max_entries=16)
def _samples(path: str, fingerprint: str):
    from neurogenesis.io.samples import load_samples

    return load_samples(path)


def _source_keys(sources) -> tuple[tuple[str, str, str], ...]:
    return tuple((source.label, source.path, source.fingerprint()) for source in sources)


def _named(keys) -> tuple[list, list[str], list[str]]:
    """``analysis.training.named_runs`` of the log sources' runs, and each unreadable source's
    error."""
    from neurogenesis.analysis.training import named_runs
    from neurogenesis.errors import InputError

    found, errors = [], []
    for label, path, fingerprint in keys:
        try:
            found.append((label, _runs(path, fingerprint)))
        except InputError as error:
            errors.append(f"{label}: {error}")
    return (*named_runs(found), errors)


def _picked(keys, chosen: tuple[str, ...]) -> tuple[list, list[str]]:
    """``analysis.training.pick_runs``: the runs behind the chosen logical runs, and their
    display names, in the chosen order."""
    from neurogenesis.analysis.training import pick_runs

    runs, names, _ = _named(keys)
    return pick_runs(runs, names, chosen)


def _hashable(value):
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    return value


def _array_key(x) -> tuple:
    import hashlib

    import numpy as np

    x = np.ascontiguousarray(x)
    return (x.shape, str(x.dtype), hashlib.sha1(x.tobytes()).hexdigest())


# Long computations (attribution over many samples, activation maximization, t-SNE/UMAP, the
# loss landscape) report progress, which st.cache_data cannot pass through; they are remembered in
# a bounded, locked store shared by sessions instead. Keys are file identities and plain
# parameters, as everywhere.
#
# A class asks the same thing at once: a computation another session has started is waited for,
# not started again (its progress is shown), and at most COMPUTE_SLOTS computations run at a time
# (two cores are not shared by five TensorFlow graphs); the others say they are queued.


def _compute_slots() -> int:
    """How many long computations may run at once: NEUROGENESIS_COMPUTE_SLOTS, else one per two
    cores (TensorFlow uses every core for one computation)."""
    import os

    try:
        return max(1, int(os.environ.get("NEUROGENESIS_COMPUTE_SLOTS", "")))
    except ValueError:
        return max(1, (os.cpu_count() or 2) // 2)


class _Flight:
    """A computation under way: who waits for it reads its progress and, at the end, its value
    or its error."""

    def __init__(self) -> None:
        import threading

        self.done = threading.Event()
        self.fraction = 0.0
        self.value = None
        self.error: BaseException | None = None


class _Store:
    def __init__(self, max_entries: int) -> None:
        import threading
        from collections import OrderedDict

        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.max_entries = max_entries
        self.flights: dict = {}

    def get(self, key):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return True, self.entries[key]
        return False, None

    def put(self, key, value) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)

    def lead_or_follow(self, key) -> tuple[bool, _Flight | None]:
        """``(found, value)`` when remembered; else ``(False, flight)``: the flight of the
        session computing it, or None when nobody is (the caller may start it)."""
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return True, self.entries[key]
            return False, self.flights.get(key)


class _Slots:
    """At most ``count`` long computations at once, process-wide; a thread that holds a slot
    computes what it needs inside (a landscape's estimate) without asking again."""

    def __init__(self, count: int) -> None:
        import threading

        self.count = count
        self.condition = threading.Condition()
        self.running = 0
        self.queued = 0
        self.local = threading.local()

    def holding(self) -> bool:
        return getattr(self.local, "held", False)

    def acquire(self, notice) -> None:
        with self.condition:
            self.queued += 1
            try:
                while self.running >= self.count:
                    notice(
                        f"Queued behind {self.running + self.queued - 1} computation(s) of "
                        "other sessions; this one starts when one of them ends."
                    )
                    self.condition.wait(0.5)
            finally:
                self.queued -= 1
            self.running += 1
        self.local.held = True

    def release(self) -> None:
        self.local.held = False
        with self.condition:
            self.running -= 1
            self.condition.notify_all()


@st.cache_resource(show_spinner=False)
def _store(name: str) -> _Store:
    return _Store(max_entries=cache_entries(48, 16))


@st.cache_resource(show_spinner=False)
def _slots() -> _Slots:
    return _Slots(_compute_slots())


class _Notice:
    """A one-line note on the page while a computation waits (nothing outside a page run)."""

    def __init__(self) -> None:
        self.placeholder = None

    def __call__(self, text: str) -> None:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if get_script_run_ctx(suppress_warning=True) is None:
            return
        if self.placeholder is None:
            self.placeholder = st.empty()
        self.placeholder.info(text, icon=":material/hourglass_top:")

    def clear(self) -> None:
        if self.placeholder is not None:
            self.placeholder.empty()


def _remembered(name: str, key: tuple, compute, progress=None):
    """``compute(progress)``'s result, computed once per key (``progress(fraction)`` on a miss),
    once for every session: a session asking what another is computing waits for it (and sees
    its progress), and at most :func:`_compute_slots` computations run at once."""
    store, slots, notice = _store(name), _slots(), _Notice()
    try:
        while True:
            found, flight = store.lead_or_follow(key)
            if found:
                return flight
            if flight is not None:
                if _follow(flight, progress, notice):
                    return flight.value
                continue  # its session stopped it: this one computes it
            held = slots.holding()
            if not held:
                slots.acquire(notice)
            try:
                with store.lock:  # asked again: another session may have started or finished
                    if key in store.entries or key in store.flights:
                        continue
                    flight = store.flights[key] = _Flight()
                notice.clear()
                return _lead(store, key, flight, compute, progress)
            finally:
                if not held:
                    slots.release()
    finally:
        notice.clear()


def _lead(store: _Store, key, flight: _Flight, compute, progress):
    def report(fraction) -> None:
        flight.fraction = float(fraction)
        if progress is not None:
            progress(fraction)

    try:
        value = compute(report)
    except BaseException as error:
        flight.error = error
        raise
    else:
        flight.value = value
        store.put(key, value)
        return value
    finally:
        with store.lock:
            store.flights.pop(key, None)
        flight.done.set()


def _follow(flight: _Flight, progress, notice) -> bool:
    """Waits for another session's computation: True with its value, False when it was
    stopped (its session left or reran); its error, an input error, is raised here too."""
    while not flight.done.wait(0.25):
        done = f" ({flight.fraction:.0%} done)" if flight.fraction > 0 else ""
        notice(
            f"Another session is computing the same thing{done}; waiting for it instead of "
            "computing it twice."
        )
        if progress is not None:
            progress(flight.fraction)
    if flight.error is None:
        return True
    if isinstance(flight.error, Exception):
        raise flight.error
    return False  # Streamlit stopped the other session's run (StopException, RerunException)


def is_remembered(name: str, key_source: tuple) -> bool:
    """Whether a remembered computation is ready (the page shows PCA while UMAP computes)."""
    return _store(name).get(key_source)[0]


def model_object(source: Source):
    """The loaded model (an alias of :func:`model` for wrappers whose argument is named ``model``)."""
    return _model(*key(source))

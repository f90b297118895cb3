"""The recorder's TensorBoard summaries: scalars and histograms written by compiled functions,
as ``tf.summary`` writes them, and the histogram buckets TensorBoard draws."""

from __future__ import annotations

import functools
import time

import numpy as np

from neurogenesis.recording.arrays import as_float

__all__ = ["HISTOGRAM_BUCKETS", "BatchScalars", "SummaryQueue", "histogram_buckets"]

HISTOGRAM_BUCKETS = 30
"""TensorBoard's default bucket count (``tf.summary.histogram``)."""


class SummaryQueue:
    """Scalars and histograms of one step, written by one compiled function, not op by op.

    Each eager ``tf.summary`` call costs about half a millisecond; an epoch writes dozens. The
    function writes what ``tf.summary.scalar`` and ``tf.summary.histogram`` write (a float32
    scalar or a (k, 3) float64 tensor with TensorBoard's plugin metadata) through
    ``tf.summary.write``, which, unlike them, takes the tag as given (no name-scope prefix).
    TensorFlow keeps the writes in program order. Traced once per set of tags.
    """

    MAX_FUNCTIONS = 64

    def __init__(self, writer=None):
        self.writer = writer
        self.items: list[tuple[str, str, np.ndarray]] = []
        self.functions: dict = {}

    def clear(self) -> None:
        self.items = []

    def scalar(self, tag: str, value: float) -> None:
        self.items.append((tag, "scalar", np.float32(value)))

    def histogram(self, tag: str, buckets: np.ndarray) -> None:
        self.items.append((tag, "histogram", np.asarray(buckets, np.float64)))

    def write(self, step: int) -> None:
        items, self.items = self.items, []
        if not items or self.writer is None:
            return
        import tensorflow as tf

        key = tuple((tag, kind, value.shape) for tag, kind, value in items)
        function = self.functions.get(key)
        if function is None:
            if len(self.functions) >= self.MAX_FUNCTIONS:
                self.functions.clear()
            function = self.functions[key] = _summary_function(self.writer, key)
        function([value for _, _, value in items], tf.constant(step, tf.int64))


class BatchScalars:
    """Batch scalars, kept as numbers and written in one compiled call per epoch (or sooner).

    Keras only hands callbacks each batch's logs, so a batch costs a list append here; the
    buffer is written with the same ``tf.summary.scalar`` ops, step by step, when the epoch ends,
    when training ends, and at least every ``FLUSH_SECONDS`` for a live view of long epochs.
    """

    FLUSH_SECONDS = 5.0
    MAX_BUFFERED = 10_000

    def __init__(self, writer=None):
        self.writer = writer
        self.steps: list[int] = []
        self.rows: list[tuple[tuple[str, ...], list[float]]] = []
        self.functions: dict = {}
        self.flushed = time.monotonic()

    def add(self, step: int, logs: dict) -> None:
        numbers = {key: as_float(value) for key, value in logs.items()}
        tags = tuple(f"batch/{key}" for key, value in numbers.items() if value is not None)
        self.steps.append(step)
        self.rows.append((tags, [value for value in numbers.values() if value is not None]))
        if (
            len(self.steps) >= self.MAX_BUFFERED
            or time.monotonic() - self.flushed > self.FLUSH_SECONDS
        ):
            self.write()
            if self.writer is not None:
                self.writer.flush()

    def write(self) -> None:
        steps, rows = self.steps, self.rows
        self.steps, self.rows, self.flushed = [], [], time.monotonic()
        if self.writer is None or not steps:
            return
        import tensorflow as tf

        start = 0
        while start < len(rows):  # runs of batches with the same tags
            tags = rows[start][0]
            end = start
            while end < len(rows) and rows[end][0] == tags:
                end += 1
            if tags:
                function = self.functions.get(tags)
                if function is None:
                    function = self.functions[tags] = _batch_function(self.writer, tags)
                values = np.array([row[1] for row in rows[start:end]], dtype=np.float32)
                function(tf.constant(values), tf.constant(steps[start:end], tf.int64))
            start = end


def _batch_function(writer, tags: tuple[str, ...]):
    import tensorflow as tf

    metadata = _scalar_metadata()

    @tf.function
    def write(values, steps):
        with writer.as_default():
            for row in tf.range(tf.shape(steps)[0]):
                for column, tag in enumerate(tags):
                    tf.summary.write(tag, values[row, column], step=steps[row], metadata=metadata)

    return write


def _summary_function(writer, entries):
    import tensorflow as tf

    metadata = {"scalar": _scalar_metadata(), "histogram": _histogram_metadata()}

    @tf.function
    def write(values, step):
        with writer.as_default():
            for (tag, kind, _), value in zip(entries, values, strict=True):
                tf.summary.write(tag, value, step=step, metadata=metadata[kind])

    return write


@functools.cache
def _scalar_metadata():
    from tensorboard.plugins.scalar import metadata

    return metadata.create_summary_metadata(display_name=None, description=None)


@functools.cache
def _histogram_metadata():
    from tensorboard.plugins.histogram import metadata

    return metadata.create_summary_metadata(display_name=None, description=None)


def histogram_buckets(values, bucket_count: int = HISTOGRAM_BUCKETS) -> np.ndarray:
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    data = data[np.isfinite(data)] if not np.isfinite(data).all() else data
    if data.size == 0:
        return np.zeros((bucket_count, 3))
    low, high = float(data.min()), float(data.max())
    if high == low:
        buckets = np.zeros((bucket_count, 3))
        buckets[:, :2] = low
        buckets[-1, 2] = data.size
        return buckets
    width = (high - low) / bucket_count
    indices = np.minimum(np.floor((data - low) / width).astype(np.int64), bucket_count - 1)
    counts = np.bincount(indices, minlength=bucket_count).astype(np.float64)
    edges = np.linspace(low, high, bucket_count + 1)
    return np.stack([edges[:-1], edges[1:], counts], axis=1)

"""The recorder's checkpoints: which epochs to keep, and weights written fast in Keras's format.

``checkpoints/initial.weights.h5`` and ``checkpoints/epoch_XXXX.weights.h5`` are files that
``model.load_weights`` reads; :class:`CheckpointPlan` writes them with h5py directly, in the
layout Keras's own ``save_weights`` uses, and :func:`thin_checkpoints` keeps at most a given
number spread evenly over the epochs.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import keras
import numpy as np

from neurogenesis.io.recordings import VARIABLE_PATHS_ATTRIBUTE
from neurogenesis.recording.arrays import to_numpy

__all__ = ["CheckpointPlan", "VariableReader", "thin_checkpoints"]


def thin_checkpoints(epochs: list[int], max_count: int) -> list[int]:
    """Which checkpoint epochs to keep so that at most ``max_count`` remain, evenly spread.

    The initial weights (epoch -1), the first and the latest epoch are always kept; each other
    slot goes to the epoch nearest to one of ``max_count - 3`` points spread evenly between the
    first and the latest epoch (the earlier on a tie).

    Args:
        epochs: The epochs that have a checkpoint.
        max_count: Most checkpoints to keep, at least 3.

    Returns:
        The epochs to keep, ascending.
    """
    epochs = sorted(set(epochs))
    if len(epochs) <= max_count:
        return epochs
    trained = [e for e in epochs if e >= 0]
    protected = {e for e in epochs if e < 0}
    if trained:
        protected |= {trained[0], trained[-1]}
    budget = max_count - len(protected)
    candidates = [e for e in epochs if e not in protected]
    kept = set(protected)
    if budget > 0 and trained:
        first, last = trained[0], trained[-1]
        for i in range(1, budget + 1):
            if not candidates:
                break
            target = first + i * (last - first) / (budget + 1)
            best = min(candidates, key=lambda e: (abs(e - target), e))
            candidates.remove(best)
            kept.add(best)
    return sorted(kept)


class VariableReader:
    """The current values of many variables in one compiled call, not one eager read each."""

    def __init__(self, variables):
        self.variables = list(variables)
        self.key = tuple(id(v) for v in self.variables)
        self.function = None
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            self.function = tf.function(lambda: [tf.identity(v.value) for v in self.variables])

    def __call__(self) -> dict[int, np.ndarray]:
        if not self.variables:
            return {}
        if self.function is None:
            values = [to_numpy(v) for v in self.variables]
        else:
            values = [np.asarray(value) for value in self.function()]
        return {id(v): value for v, value in zip(self.variables, values, strict=True)}


class CheckpointPlan:
    """Which variable Keras's ``save_weights`` puts into which HDF5 dataset, worked out once."""

    def __init__(self, groups, counts):
        self.groups = groups  # [(group path, metadata, [(key, variable)])], or None: use Keras
        self.counts = counts

    @staticmethod
    def _counts(model) -> tuple[int, int]:
        optimizer = getattr(model, "optimizer", None)
        return len(model.weights), len(getattr(optimizer, "variables", None) or [])

    def matches(self, model) -> bool:
        return self.counts == self._counts(model)

    @classmethod
    def of(cls, model) -> CheckpointPlan:
        counts = cls._counts(model)
        try:
            groups = _record_save_state(model)
        except Exception:  # a private Keras API changed, or a layer saves computed arrays
            groups = None
        return cls(groups, counts)

    def write(self, path: Path, values: dict[int, np.ndarray]) -> None:
        import h5py

        paths = []
        with h5py.File(path, "w") as handle:
            for group_path, metadata, items in self.groups:
                if not metadata and not items:
                    continue  # Keras creates no empty group without metadata
                parent = handle.require_group(group_path) if group_path else handle
                group = parent.create_group("vars")
                for key, value in (metadata or {}).items():
                    group.attrs[key] = value
                for key, variable in items:
                    value = values.get(id(variable))
                    group[key] = to_numpy(variable) if value is None else value
                    paths.append([f"{group.name.lstrip('/')}/{key}", variable.path])
            handle.attrs[VARIABLE_PATHS_ATTRIBUTE] = json.dumps(paths)


def _record_save_state(model) -> list:
    """Replays Keras's weight-saving walk with a store that records instead of writing.

    Layers hand the store their variables; optimizers hand it ``variable.numpy()`` copies, which
    are matched back to ``optimizer.variables`` by index and checked value for value. Anything
    else cannot be replayed and raises.
    """
    from keras.src.saving import saving_lib

    optimizers = []
    optimizer = getattr(model, "optimizer", None)
    while optimizer is not None and optimizer not in optimizers:
        optimizers.append(optimizer)
        optimizer = getattr(optimizer, "inner_optimizer", None)

    class RecordingStore(saving_lib.H5IOStore):
        def __init__(self):
            super().__init__(io.BytesIO(), mode="w")
            self.groups: list = []

        def make(self, path, metadata=None):
            self.groups.append((path, dict(metadata) if metadata else None, []))
            return self

        def __setitem__(self, key, value):
            path, metadata, items = self.groups[-1]
            if not isinstance(value, keras.Variable):
                value = self._optimizer_variable(path, metadata, key, value)
            if value.dtype == "bfloat16":
                raise TypeError("bfloat16 variables are stored specially")
            items.append((key, value))

        def _optimizer_variable(self, path, metadata, key, value):
            name = (metadata or {}).get("name")
            for candidate in optimizers:
                if name == candidate.name and str(key).isdigit():
                    variables = candidate.variables
                    index = int(key)
                    if index < len(variables):
                        variable = variables[index]
                        array = np.asarray(value)
                        current = to_numpy(variable)
                        if (
                            array.shape == current.shape
                            and array.dtype == current.dtype
                            and np.array_equal(array, current, equal_nan=True)
                        ):
                            return variable
            raise TypeError(f"'{path}/vars/{key}' is not a variable")

    store = RecordingStore()
    try:
        saving_lib._save_state(
            model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set()
        )
    finally:
        store.h5_file.close()
    return store.groups

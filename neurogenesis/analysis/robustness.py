"""Robustness: how a model's accuracy holds up under corrupted and adversarial inputs.

Pure computation for the debugging page:

- Corruptions (pure numpy, deterministic given a seed), each ``f(x, strength, *, seed=0,
  value_range=None) -> x'`` on a batch, same shape and dtype, clipped to the sample set's value
  range (:func:`value_range`): image noise, blur, brightness, contrast, occlusion, rotation and
  shift; token masking and deletion for text models; noise and time shifts for series.
  :data:`CORRUPTIONS` lists them per input kind with the strength grids the curves use.
- Adversarial examples in the L-infinity ball: :func:`fgsm` (Goodfellow et al. 2015) and
  :func:`pgd` (Madry et al. 2018), which raise the cross-entropy of the true (or predicted) label,
  or the squared error of a regression model.
- :func:`robustness_curves`: accuracy (or mean absolute error) against strength for every
  corruption and attack, overall and per class, with a summary table.

The user's model is never changed; gradients go through :func:`graph.tap_model`.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurogenesis.analysis import graph
from neurogenesis.analysis.features import output_values, prediction_info
from neurogenesis.analysis.infos import ValueEquality
from neurogenesis.errors import InputError, UnsupportedModelError
from neurogenesis.io.samples import is_token_name, token_input_name

__all__ = [
    "REASON_VIEWS",
    "reason",
    "ATTACKS",
    "CORRUPTIONS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EPSILON_SHARES",
    "DEFAULT_PGD_STEPS",
    "DEFAULT_STEP_FACTOR",
    "CALENDAR_WORDS",
    "DROP_THRESHOLD",
    "FEATURE_EPSILON_UNIT",
    "MIDDLE_SEVERITY",
    "NUM_SEVERITIES",
    "STRENGTH_UNITS",
    "AdversarialInfo",
    "PERTURBATIONS",
    "PerturbationInfo",
    "RobustnessInfo",
    "default_fixed_features",
    "feature_range",
    "is_per_feature",
    "levels_text",
    "set_range",
    "strength_text",
    "blur",
    "brightness",
    "contrast",
    "delete_tokens",
    "fgsm",
    "gaussian_noise",
    "input_kind",
    "mask_tokens",
    "occlusion",
    "perturbation_info",
    "pgd",
    "random_occlusion",
    "replace_tokens",
    "robustness_curves",
    "rotation",
    "series_noise",
    "series_shift",
    "shift",
    "value_range",
]

ATTACKS = ("fgsm", "pgd")
DEFAULT_BATCH_SIZE = 256
DEFAULT_PGD_STEPS = 10
# PGD's step size is this times epsilon / steps (Madry et al. use 2.5), so the iterates can reach
# the ball's boundary from any starting point.
DEFAULT_STEP_FACTOR = 2.5
# Attack strengths for the curves, as shares of the value range (8/255 ~ 0.03 is the CIFAR norm).
DEFAULT_EPSILON_SHARES = (0.0, 0.01, 0.02, 0.04, 0.08, 0.16)
# The summary's "breaks at" is the first strength whose accuracy is below this share of clean.
DROP_THRESHOLD = 0.9
PAD_ID = 0
UNKNOWN_ID = 1
# Gaussian blur, rotation and shift interpolate linearly (order 1): cubic splines overshoot the
# value range at edges.
INTERPOLATION_ORDER = 1
TASKS = ("classification", "binary", "regression")


# ---------------------------------------------------------------------------------------------
# The input that is perturbed


def _default_input(x: np.ndarray) -> str:
    """Of a packed set of several inputs, the one perturbations and attacks change: the first
    float image input, else the first float input, else the token ids (for token corruptions)."""
    names = x.dtype.names
    floats = [name for name in names if x[name].dtype.kind == "f"]
    images = [name for name in floats if x[name].ndim == 4]
    if images or floats:
        return (images or floats)[0]
    return token_input_name(names)


def attacked_input(x: Any, name: str | None = None) -> tuple[str | None, np.ndarray]:
    """The input that perturbations, noise and attacks change, and its array: ``x`` itself
    (name ``None``) for a one-input set; of a packed set of several inputs
    (``io.samples.pack_inputs``) the input ``name``, by default the float image input, else the
    first float input, else the token ids. The other inputs (token ids, masks, other features)
    are held fixed.

    Raises:
        InputError: ``name`` is not one of the set's inputs, or names an input of a set of one.
    """
    x = np.asarray(x)
    names = x.dtype.names
    if names is None:
        if name:
            raise InputError(
                f"The samples are one unnamed input; expected no input name. Received: {name!r}."
            )
        return None, x
    chosen = name or _default_input(x)
    if chosen not in names:
        raise InputError(f"Expected one of the inputs {names}. Received: {chosen!r}.")
    return chosen, np.asarray(x[chosen])


def with_input(x: np.ndarray, name: str | None, values: np.ndarray) -> np.ndarray:
    """``x`` with input ``name``'s array replaced by ``values`` (a new packed array, as many
    samples as ``values``); ``values`` itself for a one-input set (``name`` None)."""
    if name is None:
        return values
    x = np.asarray(x)
    joined = np.empty(len(values), dtype=x.dtype)
    for field in x.dtype.names:
        joined[field] = values if field == name else x[field]
    return joined


# ---------------------------------------------------------------------------------------------
# Value range and clipping


def value_range(x: np.ndarray) -> tuple[float, float]:
    """The value range of a sample set: ``(0, 255)`` for uint8 data, else its min and max.

    Raises:
        InputError: an empty set or values that are not numbers.
    """
    x = attacked_input(x)[1]
    if x.size == 0 or x.dtype.kind not in "biuf":
        raise InputError(
            f"Expected a non-empty array of numbers. Received: {x.dtype} values of shape "
            f"{x.shape}. Choose a sample set with samples."
        )
    if x.dtype == np.uint8:
        return 0.0, 255.0
    finite = x[np.isfinite(x)] if x.dtype.kind == "f" else x
    if finite.size == 0:
        raise InputError("Expected finite values. Received: only NaN or Inf.")
    return float(finite.min()), float(finite.max())


def feature_range(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's observed ``(low, high)``: the min and max over every axis but the last.

    Raises:
        InputError: an empty set, values that are not numbers, or a feature with no finite value.
    """
    x = attacked_input(x)[1]
    value_range(x)  # the same checks
    values = x.astype(np.float64).reshape(-1, x.shape[-1])
    finite = np.isfinite(values)
    if not finite.any(axis=0).all():
        raise InputError(
            f"Expected finite values in every feature. Received: features "
            f"{np.flatnonzero(~finite.any(axis=0)).tolist()} with only NaN or Inf."
        )
    low = np.where(finite, values, np.inf).min(axis=0)
    high = np.where(finite, values, -np.inf).max(axis=0)
    return low, high


def set_range(x: np.ndarray) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """The bounds corruptions and attacks keep a sample set in.

    Series ``(N, T, F)`` and feature vectors ``(N, F)`` of floats: each feature's observed range
    (:func:`feature_range`), so a perturbation never pushes one feature into another's range
    (a 1.8-unit step on a cosine in [-1, 1]). Images, token ids and the rest: :func:`value_range`.
    A set of several inputs: the range of the input :func:`attacked_input` chooses.
    """
    x = attacked_input(x)[1]
    if x.ndim in (2, 3) and x.dtype.kind == "f":
        return feature_range(x)
    return value_range(x)


CALENDAR_WORDS = frozenset(
    {
        "calendar", "date", "day", "days", "dayofweek", "dayofyear", "doy", "dow", "holiday",
        "hour", "hours", "minute", "minutes", "month", "months", "quarter", "season", "second",
        "seconds", "time", "timestamp", "week", "weekday", "weekend", "year", "years", "sin",
        "cos",
    }
)  # fmt: skip
"""Words (split on anything but letters) that mark a calendar or clock feature: an attack on
weather cannot move the date, so these are left alone by default."""


def default_fixed_features(
    x: np.ndarray, feature_names: Sequence[str] | None = None
) -> tuple[int, ...]:
    """The features an attack or noise should leave alone unless the user says otherwise.

    A feature is fixed when its name reads as a calendar or clock feature (a word of
    :data:`CALENDAR_WORDS`: ``day_of_year_sin``, ``month``, ``hour``) or when its value never
    changes within a sample (series ``(N, T, F)``: a per-sample constant such as a station id) or
    over the whole set.

    Args:
        x: the sample set, features on the last axis.
        feature_names: one name per feature, if known.

    Returns:
        The fixed features' indices, ascending.
    """
    x = attacked_input(x)[1]
    count = x.shape[-1] if x.ndim else 0
    fixed = set()
    for index, name in enumerate(feature_names or ()):
        words = {word for word in re.split(r"[^a-z]+", str(name).lower()) if word}
        if index < count and words & CALENDAR_WORDS:
            fixed.add(index)
    if x.ndim >= 2 and x.size and x.dtype.kind in "biuf":
        values = x.astype(np.float64)
        if x.ndim == 3:
            constant = np.all(values.max(axis=1) == values.min(axis=1), axis=0)
        else:
            flat = values.reshape(-1, count)
            constant = flat.max(axis=0) == flat.min(axis=0)
        fixed.update(int(i) for i in np.flatnonzero(constant))
    return tuple(sorted(fixed))


def _fixed_mask(fixed_features: Sequence[int] | None, count: int) -> np.ndarray:
    """A boolean ``(count,)`` mask of the fixed features (checked)."""
    mask = np.zeros(count, dtype=bool)
    chosen = [int(f) for f in (fixed_features or ())]
    bad = [f for f in chosen if not 0 <= f < count]
    if bad:
        raise InputError(
            f"Expected fixed features between 0 and {count - 1}. Received: {bad}. Pass feature "
            "indices (the last axis)."
        )
    mask[chosen] = True
    return mask


def is_per_feature(bounds) -> bool:
    """Whether ``bounds`` (from :func:`set_range` or an info's ``value_range``) holds one
    ``(low, high)`` per feature rather than one pair for every value."""
    return np.ndim(bounds[0]) > 0


def _range(x: np.ndarray, bounds) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Checked clip bounds: two floats, or two ``(F,)`` arrays (one pair per feature, the last
    axis of ``x``)."""
    if bounds is None:
        return value_range(x)
    try:
        low, high = (np.asarray(b, dtype=np.float64) for b in bounds)
    except (TypeError, ValueError):
        raise InputError(
            f"Expected value_range as (low, high), two numbers or two arrays with one value per "
            f"feature. Received: {bounds!r}."
        ) from None
    if low.shape != high.shape or low.ndim > 1:
        raise InputError(
            f"Expected value_range low and high of one shape, numbers or (features,). Received: "
            f"{low.shape} and {high.shape}."
        )
    if not np.all(high >= low):
        raise InputError(f"Expected value_range low <= high. Received: ({low}, {high}).")
    if low.ndim == 1 and (x.ndim == 0 or low.shape[0] != x.shape[-1]):
        raise InputError(
            f"Expected one (low, high) per feature, {x.shape[-1] if x.ndim else 0} of them. "
            f"Received: {low.shape[0]}."
        )
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        low, high = np.maximum(low, float(info.min)), np.minimum(high, float(info.max))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def _stored(bounds) -> tuple[float, float] | np.ndarray:
    """Bounds as an info holds them: ``(low, high)``, or a ``(2, F)`` array per feature (infos
    compare arrays by value, tuples of arrays would not compare)."""
    return np.stack(bounds) if is_per_feature(bounds) else bounds


def _finish(values: np.ndarray, like: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """``values`` clipped to ``bounds`` in ``like``'s dtype (integers rounded)."""
    values = np.clip(values, *bounds)
    if like.dtype.kind in "iub":
        values = np.rint(values)
    return values.astype(like.dtype)


def _batch(x: np.ndarray, rank: int, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != rank:
        raise InputError(
            f"{name} expects a batch of rank {rank}. Received: an array of shape {x.shape}."
        )
    return x


# ---------------------------------------------------------------------------------------------
# Image corruptions: x is (N, H, W, C)


def gaussian_noise(
    x: np.ndarray,
    strength: float,
    *,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
    first_sample: int = 0,
) -> np.ndarray:
    """Adds Gaussian noise with standard deviation ``strength`` times the value range.
    ``first_sample``: the index of ``x[0]`` in the whole set (a shard's noise is then the noise
    its samples get when the set is corrupted at once)."""
    x = np.asarray(x)
    bounds = _range(x, value_range)
    rng = np.random.default_rng(seed)
    _skip_normals(rng, first_sample * math.prod(x.shape[1:]))
    noise = rng.normal(0.0, float(strength) * (bounds[1] - bounds[0]), size=x.shape)
    return _finish(x.astype(np.float64) + noise, x, bounds)


def blur(
    x: np.ndarray, strength: float, *, seed: int = 0, value_range: Sequence[float] | None = None
) -> np.ndarray:
    """Gaussian blur over height and width with sigma ``strength`` pixels (edges: nearest)."""
    from scipy import ndimage

    x = _batch(x, 4, "blur")
    bounds = _range(x, value_range)
    if strength <= 0:
        return _finish(x.astype(np.float64), x, bounds)
    blurred = ndimage.gaussian_filter(
        x.astype(np.float64), sigma=(0, float(strength), float(strength), 0), mode="nearest"
    )
    return _finish(blurred, x, bounds)


def brightness(
    x: np.ndarray, strength: float, *, seed: int = 0, value_range: Sequence[float] | None = None
) -> np.ndarray:
    """Adds ``strength`` times the value range to every value (negative darkens)."""
    x = np.asarray(x)
    bounds = _range(x, value_range)
    return _finish(x.astype(np.float64) + float(strength) * (bounds[1] - bounds[0]), x, bounds)


def contrast(
    x: np.ndarray, strength: float, *, seed: int = 0, value_range: Sequence[float] | None = None
) -> np.ndarray:
    """Lowers contrast: ``mean + (1 - strength) * (x - mean)`` per image and channel.

    ``strength`` 0 leaves the images, 1 makes each channel flat at its mean (as
    ``tf.image.adjust_contrast`` with factor ``1 - strength``); negative values raise contrast.
    """
    x = _batch(x, 4, "contrast")
    bounds = _range(x, value_range)
    values = x.astype(np.float64)
    mean = values.mean(axis=(1, 2), keepdims=True)
    return _finish(mean + (1.0 - float(strength)) * (values - mean), x, bounds)


def occlusion(
    x: np.ndarray,
    *,
    top: int,
    left: int,
    size: int | tuple[int, int],
    fill: float | None = None,
    value_range: Sequence[float] | None = None,
) -> np.ndarray:
    """Replaces the patch ``[top:top+h, left:left+w]`` of every image by ``fill``.

    ``fill`` defaults to the middle of the value range (grey); the patch is cut at the border.
    """
    x = _batch(x, 4, "occlusion")
    bounds = _range(x, value_range)
    height, width = (size, size) if np.isscalar(size) else tuple(size)
    if fill is None:
        fill = (bounds[0] + bounds[1]) / 2.0
    values = x.astype(np.float64)
    top, left = max(0, int(top)), max(0, int(left))
    values[:, top : top + int(height), left : left + int(width), :] = float(fill)
    return _finish(values, x, bounds)


def random_occlusion(
    x: np.ndarray,
    strength: float,
    *,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
    first_sample: int = 0,
    set_size: int | None = None,
) -> np.ndarray:
    """A grey square of side ``strength`` times the shorter image side, at a random place per
    image (Cutout, DeVries & Taylor 2017). ``x`` may be a shard of a set of ``set_size``
    samples starting at ``first_sample``: its squares are then those of its samples in the set."""
    x = _batch(x, 4, "random_occlusion")
    bounds = _range(x, value_range)
    side = int(round(float(strength) * min(x.shape[1], x.shape[2])))
    if side <= 0:
        return _finish(x.astype(np.float64), x, bounds)
    rng = np.random.default_rng(seed)
    total = len(x) if set_size is None else int(set_size)
    rows = slice(first_sample, first_sample + len(x))
    tops = rng.integers(0, x.shape[1] - side + 1, size=total)[rows]
    lefts = rng.integers(0, x.shape[2] - side + 1, size=total)[rows]
    values = x.astype(np.float64)
    fill = (bounds[0] + bounds[1]) / 2.0
    for i, (top, left) in enumerate(zip(tops, lefts, strict=True)):
        values[i, top : top + side, left : left + side, :] = fill
    return _finish(values, x, bounds)


def rotation(
    x: np.ndarray, strength: float, *, seed: int = 0, value_range: Sequence[float] | None = None
) -> np.ndarray:
    """Rotates every image by ``strength`` degrees counter-clockwise as displayed (90 degrees is
    ``np.rot90``), same size, edges filled with the nearest pixel."""
    from scipy import ndimage

    x = _batch(x, 4, "rotation")
    bounds = _range(x, value_range)
    rotated = ndimage.rotate(
        x.astype(np.float64),
        float(strength),
        axes=(2, 1),
        reshape=False,
        order=INTERPOLATION_ORDER,
        mode="nearest",
    )
    return _finish(rotated, x, bounds)


def shift(
    x: np.ndarray,
    strength: float | tuple[float, float],
    *,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
) -> np.ndarray:
    """Moves every image ``strength`` pixels down and right (or ``(down, right)``), edge-padded."""
    from scipy import ndimage

    x = _batch(x, 4, "shift")
    bounds = _range(x, value_range)
    down, right = (strength, strength) if np.isscalar(strength) else tuple(strength)
    moved = ndimage.shift(
        x.astype(np.float64),
        (0, float(down), float(right), 0),
        order=INTERPOLATION_ORDER,
        mode="nearest",
    )
    return _finish(moved, x, bounds)


# ---------------------------------------------------------------------------------------------
# Text corruptions: x is (N, T) token ids, 0 is padding


def _chosen_positions(x: np.ndarray, positions, seed: int) -> np.ndarray:
    """A boolean ``(N, T)`` mask of the non-padding tokens to change.

    A float in [0, 1] is a share of each sample's tokens chosen at random; an int or a sequence
    of ints names positions.
    """
    chosen = np.zeros(x.shape, dtype=bool)
    present = x != PAD_ID
    if isinstance(positions, (float, np.floating)):
        share = float(positions)
        if not 0.0 <= share <= 1.0:
            raise InputError(
                f"Expected a share of tokens between 0 and 1. Received: {share}. Pass an int or "
                "a list of ints for positions."
            )
        rng = np.random.default_rng(seed)
        for i in range(len(x)):
            where = np.flatnonzero(present[i])
            count = int(round(share * len(where)))
            if count:
                chosen[i, rng.choice(where, size=count, replace=False)] = True
        return chosen
    indices = np.atleast_1d(np.asarray(positions))
    if (
        indices.dtype.kind not in "iu"
        or indices.size
        and (indices.min() < -x.shape[1] or indices.max() >= x.shape[1])
    ):
        raise InputError(
            f"Expected token positions between 0 and {x.shape[1] - 1} or a share (a float). "
            f"Received: {positions!r}."
        )
    chosen[:, indices] = True
    return chosen & present


def mask_tokens(
    x: np.ndarray,
    positions: float | int | Sequence[int],
    *,
    mask_id: int = UNKNOWN_ID,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
) -> np.ndarray:
    """Replaces tokens by ``mask_id`` ([UNK]): a float is a random share of each sample's
    non-padding tokens, an int or ints are positions (padding is left alone)."""
    x = _batch(x, 2, "mask_tokens")
    out = x.copy()
    out[_chosen_positions(x, positions, seed)] = mask_id
    return out


def delete_tokens(
    x: np.ndarray,
    positions: float | int | Sequence[int],
    *,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
) -> np.ndarray:
    """Removes tokens (a float: a random share; ints: positions), shifting the rest left and
    padding with 0 at the end."""
    x = _batch(x, 2, "delete_tokens")
    return _shift_out(x, _chosen_positions(x, positions, seed))


def _shift_out(x: np.ndarray, chosen: np.ndarray, fill: int = PAD_ID) -> np.ndarray:
    """``x`` without the ``chosen`` positions, the rest shifted left and ``fill`` at the end."""
    out = np.full_like(x, fill)
    for i in range(len(x)):
        kept = x[i][~chosen[i]]
        out[i, : len(kept)] = kept
    return out


def replace_tokens(x: np.ndarray, position: int, token_id: int) -> np.ndarray:
    """Sets the token at ``position`` of every sample to ``token_id``."""
    x = _batch(x, 2, "replace_tokens")
    if not -x.shape[1] <= int(position) < x.shape[1]:
        raise InputError(
            f"Expected a position between 0 and {x.shape[1] - 1}. Received: {position}."
        )
    out = x.copy()
    out[:, int(position)] = token_id
    return out


# ---------------------------------------------------------------------------------------------
# Series corruptions: x is (N, T, F)


def series_noise(
    x: np.ndarray,
    strength: float,
    *,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
    reference: np.ndarray | None = None,
    fixed_features: Sequence[int] = (),
    scale: np.ndarray | None = None,
    first_sample: int = 0,
) -> np.ndarray:
    """Adds Gaussian noise with standard deviation ``strength`` times each feature's standard
    deviation (over samples and steps of ``reference``, by default ``x`` itself: pass the whole
    set when ``x`` is one sample, whose own spread says little; or that deviation itself,
    ``scale``, as :func:`noise_scale` gives it for a whole set that ``x`` is a shard of). ``fixed_features`` (calendar features:
    see :func:`default_fixed_features`) get no noise; with per-feature bounds each feature is
    clipped to its own range. ``first_sample``: as in :func:`gaussian_noise`."""
    x = _batch(x, 3, "series_noise")
    bounds = _range(x, set_range(x) if value_range is None else value_range)
    if scale is None:
        spread = x if reference is None else _batch(reference, 3, "series_noise's reference")
        scale = noise_scale(spread)
    scale = np.where(_fixed_mask(fixed_features, x.shape[-1]), 0.0, scale)
    rng = np.random.default_rng(seed)
    _skip_normals(rng, first_sample * math.prod(x.shape[1:]))
    noise = rng.normal(0.0, 1.0, size=x.shape) * (float(strength) * scale)
    return _finish(x.astype(np.float64) + noise, x, bounds)


def noise_scale(x: np.ndarray) -> np.ndarray:
    """``(1, 1, F)``: each feature's standard deviation over the samples and steps of a
    ``(N, T, F)`` set, the scale of :func:`series_noise`."""
    return np.asarray(x).astype(np.float64).std(axis=(0, 1), keepdims=True)


def _skip_normals(rng: np.random.Generator, count: int) -> None:
    from neurogenesis.analysis.attribution import skip_normals

    skip_normals(rng, count)


def series_shift(
    x: np.ndarray, strength: int, *, seed: int = 0, value_range: Sequence[float] | None = None
) -> np.ndarray:
    """Delays the series by ``strength`` steps (negative: advances), repeating the edge value:
    ``x'[t] = x[clip(t - k, 0, T - 1)]``."""
    x = _batch(x, 3, "series_shift")
    bounds = _range(x, set_range(x) if value_range is None else value_range)
    steps = int(round(float(strength)))
    source = np.clip(np.arange(x.shape[1]) - steps, 0, x.shape[1] - 1)
    return _finish(x[:, source, :].astype(np.float64), x, bounds)


CORRUPTIONS: dict[str, dict[str, tuple[Callable, tuple[float, ...]]]] = {
    "image": {
        "gaussian_noise": (gaussian_noise, (0.0, 0.02, 0.05, 0.1, 0.2, 0.3)),
        "blur": (blur, (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)),
        "brightness": (brightness, (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)),
        "contrast": (contrast, (0.0, 0.2, 0.4, 0.6, 0.8, 0.9)),
        "occlusion": (random_occlusion, (0.0, 0.125, 0.25, 0.375, 0.5, 0.625)),
        "rotation": (rotation, (0.0, 5.0, 10.0, 20.0, 30.0, 45.0)),
        "shift": (shift, (0.0, 0.5, 1.0, 2.0, 3.0, 4.0)),
    },
    "series": {
        "series_noise": (series_noise, (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)),
        "series_shift": (series_shift, (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)),
    },
    "text": {
        "mask_tokens": (mask_tokens, (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)),
        "delete_tokens": (delete_tokens, (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)),
    },
}
"""Corruptions per input kind: name -> (function, default strengths for the curves). Every
default grid is no change plus :data:`NUM_SEVERITIES` severity levels (as ImageNet-C's five), so
the summary compares corruptions at matched severities."""

NUM_SEVERITIES = 5
"""Severity levels of every default grid (after the unchanged level 0)."""
MIDDLE_SEVERITY = 3
"""The matched severity the summary reports beside the mean over all levels."""

STRENGTH_UNITS = {
    "gaussian_noise": "noise σ (% of the value range)",
    "blur": "blur σ (pixels)",
    "brightness": "brightness added (% of the value range)",
    "contrast": "contrast reduction (%)",
    "occlusion": "patch side (% of the image side)",
    "rotation": "rotation (degrees)",
    "shift": "shift down and right (pixels)",
    "series_noise": "noise σ (% of each feature's std)",
    "series_shift": "delay (time steps)",
    "mask_tokens": "tokens masked (% of the tokens)",
    "delete_tokens": "tokens deleted (% of the tokens)",
    "fgsm": "ε (input units)",
    "pgd": "ε (input units)",
}
"""What each curve's strength measures, ``"quantity (unit)"``; a unit starting with ``%`` means
the strengths are shares, shown as percentages."""
FEATURE_EPSILON_UNIT = "ε (% of each feature's range)"
"""The attacks' unit when the bounds are per feature (series, feature vectors)."""


def levels_text(values: Sequence[float], unit: str) -> str:
    """Several strengths with their unit said once: ``"2%, 5%, 10% of the value range"``,
    ``"5, 10, 20 degrees"``."""
    inside = unit[unit.rfind("(") + 1 : -1] if unit.endswith(")") and "(" in unit else unit
    if inside.startswith("%"):
        return ", ".join(f"{float(v) * 100:.3g}%" for v in values) + inside[1:]
    return (", ".join(f"{float(v):.3g}" for v in values) + f" {inside}").rstrip()


def strength_text(value: float, unit: str) -> str:
    """One strength with its unit: ``strength_text(0.05, STRENGTH_UNITS["gaussian_noise"])`` is
    ``"5% of the value range"``, ``strength_text(2, "blur σ (pixels)")`` is ``"2 pixels"``."""
    inside = unit[unit.rfind("(") + 1 : -1] if unit.endswith(")") and "(" in unit else unit
    if inside.startswith("%"):
        return f"{float(value) * 100:.3g}{inside}"
    return f"{float(value):.3g} {inside}".rstrip()


PERTURBATIONS = {
    "image": ("gaussian_noise", "blur", "brightness", "contrast", "occlusion", "rotation", "shift"),
    "series": ("series_noise", "series_shift"),
    "text": ("mask_tokens", "delete_tokens", "replace_tokens"),
}
"""What :func:`perturbation_info` can apply to one sample, per input kind (``occlusion`` takes
``top``, ``left``, ``size``; the token edits take ``positions`` or ``position`` and ``token_id``;
the others take ``strength``)."""


@dataclass(frozen=True, eq=False)
class PerturbationInfo(ValueEquality):
    """One sample before and after a chain of perturbations, and the model's outputs for both.

    Attributes:
        original: The sample, without a batch axis.
        perturbed: The perturbed sample, same shape and dtype, inside the set's value range.
        steps: ``(name, parameters)`` applied in order (no-ops dropped).
        task: ``"classification"``, ``"binary"`` or ``"regression"``.
        original_output: The model's output vector for the sample (class probabilities, or the
            regression values).
        perturbed_output: The same for the perturbed sample.
        original_prediction: Predicted class (None for regression).
        perturbed_prediction: Predicted class after the perturbation (None for regression).
        changed: A boolean mask of the values (or tokens) the perturbations changed.
        value_range: The bounds the perturbed values were clipped to (a ``(2, F)`` array when
            they are per feature).
    """

    original: np.ndarray
    perturbed: np.ndarray
    steps: tuple
    task: str
    original_output: np.ndarray
    perturbed_output: np.ndarray
    original_prediction: int | None
    perturbed_prediction: int | None
    changed: np.ndarray
    value_range: tuple[float, float] | np.ndarray

    @property
    def flipped(self) -> bool:
        """Whether the predicted class changed."""
        return self.original_prediction is not None and (
            self.original_prediction != self.perturbed_prediction
        )


def _is_noop(name: str, parameters: Mapping[str, Any]) -> bool:
    if name == "occlusion":
        return int(parameters.get("size", 0) or 0) <= 0
    if name in ("mask_tokens", "delete_tokens"):
        positions = parameters.get("positions", ())
        return positions is None or (not np.isscalar(positions) and len(positions) == 0)
    if name == "replace_tokens":
        return False
    strength = parameters.get("strength", 0.0)
    return np.isscalar(strength) and float(strength) == 0.0


def perturbation_info(
    model: Any,
    x: np.ndarray,
    index: int,
    steps: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
    loss: Any = None,
    task: str | None = None,
    input_name: str | None = None,
) -> PerturbationInfo:
    """Applies ``steps`` to sample ``index`` of the set ``x`` and runs the model on both.

    The value range (and the scale of series noise) come from the whole set, so one sample is
    perturbed as the robustness curves perturb every sample. A fixed ``seed`` keeps random noise
    the same while a slider moves, so what changes is the strength alone.

    Args:
        model: A Keras model with one input.
        x: The sample set, batch first.
        index: Which sample.
        steps: ``(name, parameters)`` pairs, applied in order; names from :data:`PERTURBATIONS`.
        seed: Seed of the random perturbations.
        value_range: Clip bounds; by default :func:`value_range` of ``x``.
        loss: the loss the model was trained with when it is not compiled, as in :func:`fgsm`.
        task: the task when the caller knows it from the set's labels (a ``Dense(1)`` logit head
            is binary by its 0/1 labels, which one sample alone does not show); default: found
            from the model and ``loss``.
        input_name: of a set of several inputs, the one perturbed (:func:`attacked_input`);
            the others are held fixed, except that deleting tokens deletes the same positions
            of every other input of one value per token (a padding mask, segment ids), so the
            tokens shifted left keep their own mask and segment and the freed end is padding
            (mask 0), as the tokenizer packs the shorter text.

    The outputs are class probabilities: the softmax of a classifier's logits when the model
    returns logits (KerasHub's classifiers), the sigmoid of a binary classifier's one logit.

    Raises:
        InputError: an unknown perturbation, one that does not fit the input kind, bad
            parameters, or an index outside the set.
    """
    packed = np.asarray(x)
    input_name, x = attacked_input(packed, input_name)
    if not -len(x) <= int(index) < len(x):
        raise InputError(f"Expected a sample index between 0 and {len(x) - 1}. Received: {index}.")
    bounds = _range(x, set_range(x) if value_range is None else value_range)
    kind = {4: "image", 3: "series", 2: "text" if x.dtype.kind in "iu" else None}.get(x.ndim)
    allowed = PERTURBATIONS.get(kind or "", ())
    sample = x[int(index) : int(index) + 1]
    fixed = packed[int(index) : int(index) + 1]
    # The other inputs as the perturbed sample is fed: per-token ones follow deleted tokens.
    after = fixed.copy()
    per_token = [
        field
        for field in (packed.dtype.names or ())
        if field != input_name and after[field].shape == sample.shape
    ]
    perturbed = sample
    applied = []
    for name, parameters in steps:
        parameters = dict(parameters)
        if name not in allowed:
            raise InputError(
                f"Expected a perturbation for {kind or 'this kind of'} input, one of "
                f"{', '.join(allowed) or 'none'}. Received: {name!r} for samples of shape "
                f"{x.shape[1:]}."
            )
        if _is_noop(name, parameters):
            continue
        try:
            # The page's occlusion is a patch at a chosen place, not the curves' random one.
            if name == "occlusion":
                perturbed = occlusion(perturbed, value_range=bounds, **parameters)
            elif name == "delete_tokens":
                chosen = _chosen_positions(
                    _batch(perturbed, 2, name), parameters.pop("positions"), seed
                )
                if parameters:
                    raise TypeError(f"unexpected parameters {sorted(parameters)}")
                perturbed = _shift_out(perturbed, chosen)
                for field in per_token:
                    after[field] = _shift_out(np.asarray(after[field]), chosen, 0)
            elif name == "mask_tokens":
                perturbed = mask_tokens(
                    perturbed, parameters.pop("positions"), seed=seed, **parameters
                )
            elif name == "replace_tokens":
                perturbed = replace_tokens(perturbed, **parameters)
            elif name == "series_noise":
                perturbed = series_noise(
                    perturbed, seed=seed, value_range=bounds, reference=x, **parameters
                )
            else:
                function = CORRUPTIONS[kind][name][0]
                perturbed = function(perturbed, seed=seed, value_range=bounds, **parameters)
        except TypeError as error:
            raise InputError(
                f"Expected the parameters of {name!r} (see PERTURBATIONS). Received: "
                f"{parameters!r} ({error})."
            ) from None
        applied.append((name, parameters))
    both = prediction_info(
        model,
        np.concatenate(
            [with_input(fixed, input_name, sample), with_input(after, input_name, perturbed)]
        ),
        None,
        loss=loss,
        task=task,
    )
    outputs = np.asarray(both.outputs, np.float64).reshape(2, -1)
    if both.task == "classification" and both.from_logits:
        outputs = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        outputs /= outputs.sum(axis=1, keepdims=True)
    predictions = (None, None) if both.predicted is None else tuple(int(v) for v in both.predicted)
    if both.task not in TASKS:
        raise UnsupportedModelError(
            f"Expected class scores or regression values from the model. Got: {both.task}."
        )
    return PerturbationInfo(
        original=sample[0],
        perturbed=perturbed[0],
        steps=tuple(applied),
        task=both.task,
        original_output=outputs[0],
        perturbed_output=outputs[1],
        original_prediction=predictions[0],
        perturbed_prediction=predictions[1],
        changed=perturbed[0] != sample[0],
        value_range=_stored(bounds),
    )


# ---------------------------------------------------------------------------------------------
# What a model supports


def input_kind(model: Any) -> str | None:
    """``"image"``, ``"series"``, ``"text"`` (integer token ids) or ``"tabular"``; ``None`` for
    models with several inputs, no graph, or inputs of another rank."""
    if not graph.supports(model):
        return None
    layers = graph.graph_layers(model)
    if len(layers.input_shapes) != 1:
        position = _default_position(model, layers)
        if position is None:
            return None
        shape, dtype = layers.input_shapes[position], layers.input_dtypes[position]
        if "int" in dtype:
            return "text" if len(shape) == 1 else None
        return {3: "image", 2: "series", 1: "tabular"}.get(len(shape))
    shape, dtype = layers.input_shapes[0], layers.input_dtypes[0]
    if "int" in dtype:
        return "text" if len(shape) == 1 else None
    return {3: "image", 2: "series", 1: "tabular"}.get(len(shape))


def _default_position(model: Any, layers) -> int | None:
    """Of a model of several inputs, the position of the input :func:`attacked_input` chooses by
    default (the float image, else the first float input, else the token ids), or None."""
    names = graph.input_names(model)
    dtypes = list(layers.input_dtypes)
    floats = [k for k, dtype in enumerate(dtypes) if "float" in dtype]
    images = [k for k in floats if len(layers.input_shapes[k]) == 3]
    if images or floats:
        return (images or floats)[0]
    tokens = [k for k, n in enumerate(names) if is_token_name(n)]
    return tokens[0] if tokens else None


def _reason(model: Any, *, attack: bool) -> str | None:
    if not graph.supports(model):
        return (
            f"'{getattr(model, 'name', model)}' is a subclassed model without a functional graph; "
            "build it with the functional API or as a Sequential model with an Input."
        )
    layers = graph.graph_layers(model)
    if len(layers.input_shapes) != 1:
        names = ", ".join(graph.input_names(model))
        if attack and not any("float" in dtype for dtype in layers.input_dtypes):
            return (
                f"FGSM and PGD move a float input along the loss gradient, and none of this "
                f"model's inputs ({names}) is a float: token ids and masks have no gradient."
            )
        if _default_position(model, layers) is None:
            return (
                f"None of this model's inputs ({names}) is an image, a series, a feature vector "
                "or token ids, which the corruptions here change."
            )
    if len(layers.output_shape) != 1:
        return (
            f"The model's output has shape {layers.output_shape} (an autoencoder?), not class "
            "scores or regression values, so there is no accuracy or error to track."
        )
    kind = input_kind(model)
    if kind is None:
        return (
            f"The model's input has shape {layers.input_shapes[0]} ({layers.input_dtypes[0]}); "
            "robustness checks here take images, series, feature vectors or token ids."
        )
    if attack and kind == "text":
        return (
            f"FGSM and PGD perturb inputs along their gradient, and this model takes "
            f"{layers.input_dtypes[0]} token ids, which have no gradient. Use the token "
            "corruptions (mask_tokens, delete_tokens) instead."
        )
    return None


REASON_VIEWS = ("curves", "attack")


def reason(model: Any, view: str = "curves") -> str | None:
    """Why a robustness check cannot run on ``model``, or ``None`` when it can.

    Args:
        model: a Keras model.
        view: ``"curves"``: :func:`robustness_curves` (several inputs, no class scores or
            regression values, no graph); ``"attack"``: :func:`fgsm` and :func:`pgd` (also no
            gradient to follow).

    Raises:
        InputError: ``view`` is not one of :data:`REASON_VIEWS`.
    """
    if view not in REASON_VIEWS:
        raise InputError(f"Expected a view in {REASON_VIEWS}. Received: {view!r}.")
    return _reason(model, attack=view == "attack")


# ---------------------------------------------------------------------------------------------
# Adversarial examples


@dataclass(frozen=True, eq=False)
class AdversarialInfo(ValueEquality):
    """Adversarial examples for a batch and what the model makes of them.

    Attributes:
        method: ``"fgsm"`` or ``"pgd"``.
        task: ``"classification"``, ``"binary"`` or ``"regression"``.
        x_adv: the adversarial inputs, the shape and dtype of ``x`` (uint8 stays uint8: rounded,
            clipped to 0..255 and still inside the epsilon ball).
        perturbation: ``x_adv - x`` as float64.
        clean_predictions / adversarial_predictions: ``(N,)`` predicted classes; for regression
            ``(N, K)`` the outputs.
        clean_probabilities / adversarial_probabilities: ``(N, K)`` the model's outputs.
        labels: ``(N,)`` the classes attacked (the given labels, else the clean predictions);
            for regression ``(N, K)`` the reference values (targets, else clean outputs).
        clean_accuracy / adversarial_accuracy: against ``labels``; ``None`` for regression.
        clean_error / adversarial_error: mean absolute error against ``labels`` for regression;
            ``None`` for classification.
        epsilon: the L-infinity radius, in the input's units: a float, or ``(F,)`` one per
            feature (the last axis) for per-feature bounds or fixed features (radius 0).
        steps: gradient steps (1 for FGSM).
        step_size: the size of each signed step (per feature when ``epsilon`` is).
        linf: the largest ``|perturbation|``.
        feature_linf: ``(F,)`` the largest ``|perturbation|`` of each feature when ``epsilon``
            is per feature, else ``None``.
        value_range: the bounds the inputs were kept in: ``(low, high)``, or a ``(2, F)`` array
            of each feature's low and high.
        target: the class a targeted attack pushed towards, else ``None``.
        score: ``"loss"`` (cross-entropy / squared error) or ``"logit"``.
        input_name: of a model of several inputs, the one attacked (``x_adv`` is its array; the
            others were held fixed); ``None`` for a one-input model.
    """

    method: str
    task: str
    x_adv: np.ndarray
    perturbation: np.ndarray
    clean_predictions: np.ndarray
    adversarial_predictions: np.ndarray
    clean_probabilities: np.ndarray
    adversarial_probabilities: np.ndarray
    labels: np.ndarray
    clean_accuracy: float | None
    adversarial_accuracy: float | None
    clean_error: float | None
    adversarial_error: float | None
    epsilon: float | np.ndarray
    steps: int
    step_size: float | np.ndarray
    linf: float
    feature_linf: np.ndarray | None
    value_range: tuple[float, float] | np.ndarray
    target: int | None
    score: str
    input_name: str | None = None

    def flipped(self) -> np.ndarray:
        """The samples whose predicted class the attack changed (none for a regression)."""
        if self.task == "regression":
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.clean_predictions != self.adversarial_predictions)


class _Attack:
    """The loss gradient of one model, compiled once (``tf.function``) and reused."""

    def __init__(self, model: Any, task: str, position: int = 0):
        import tensorflow as tf

        graph.quiet_retracing()
        self.task = task
        self.tapped = graph.tap_model(
            model, score="logit" if task in ("classification", "binary") else "probability"
        )
        tapped = self.tapped

        def gradient(x, others, reference, sign, mode):
            # mode 0: loss, 1: logit of the reference class, 2: raw output (regression fallback)
            with tf.GradientTape() as tape:
                tape.watch(x)
                # The attacked input at its place among the model's inputs, the others fixed.
                arrays = [*others[:position], x, *others[position:]]
                out = tf.cast(graph.call_tapped(tapped, *arrays)[0], tf.float32)
                out = tf.reshape(out, (tf.shape(out)[0], -1))
                if task == "classification":
                    labels = tf.cast(reference[:, 0], tf.int32)
                    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, out)
                    logit = tf.gather(out, labels, batch_dims=1)
                    value = tf.where(mode == 0, loss, -logit)
                elif task == "binary":
                    loss = tf.nn.sigmoid_cross_entropy_with_logits(reference, out)[:, 0]
                    logit = out[:, 0] * (1.0 - 2.0 * reference[:, 0])
                    value = tf.where(mode == 0, loss, logit)
                else:
                    error = tf.reduce_sum(tf.square(out - reference), axis=1)
                    value = tf.where(mode == 2, tf.reduce_sum(out, axis=1), error)
                total = tf.reduce_sum(sign * value)
            return value, tape.gradient(total, x)

        self._function = tf.function(gradient, reduce_retracing=True)

    def __call__(
        self, x: np.ndarray, reference: np.ndarray, sign: float, mode: int, others=()
    ) -> tuple[np.ndarray, np.ndarray]:
        """The score per sample and its gradient in ``x``; ``others``: the model's other inputs
        (in input order, the attacked one left out), held fixed."""
        import tensorflow as tf

        value, grad = self._function(
            tf.convert_to_tensor(x, dtype=tf.float32),
            tuple(tf.convert_to_tensor(array) for array in others),
            tf.convert_to_tensor(reference, dtype=tf.float32),
            tf.constant(sign, dtype=tf.float32),
            tf.constant(mode, dtype=tf.int32),
        )
        return np.asarray(value, dtype=np.float64), np.asarray(grad, dtype=np.float64)


_ATTACKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ATTACKS_LOCK = threading.Lock()


def _attack_for(model: Any, task: str, position: int = 0) -> _Attack:
    with _ATTACKS_LOCK:
        try:
            cache = _ATTACKS.setdefault(model, {})
        except TypeError:  # a model that cannot be weakly referenced
            cache = {}
        if (task, position) not in cache:
            cache[task, position] = _Attack(model, task, position)
        return cache[task, position]


def _prepare(model: Any, x: np.ndarray, y, loss: Any = None):
    """Checks the model and samples; returns (clean prediction info, task, reference).

    Labels that are not the model's classes (``PredictionInfo.own_labels``) cannot be attacked;
    the attack then pushes away from the clean predictions, as without labels."""
    reason = _reason(model, attack=True)
    if reason is not None:
        raise UnsupportedModelError(reason)
    x = np.asarray(x)
    graph.model_inputs(model, x)  # checks the shapes
    if x.dtype.names is None and x.dtype.kind not in "biuf":
        raise InputError(f"Expected numeric samples. Received: {x.dtype}.")
    clean = prediction_info(model, x, y, loss=loss)
    task = clean.task
    if task not in TASKS:
        raise UnsupportedModelError(f"Expected a classifier or a regression model. Got: {task}.")
    n = len(x)
    if task == "regression":
        reference = (
            clean.outputs
            if y is None
            else np.asarray(y, dtype=np.float64).reshape(n, clean.outputs.shape[1])
        )
    else:
        given = y is not None and not clean.own_labels
        reference = (clean.labels if given else clean.predicted).astype(np.float64)[:, None]
    return clean, task, reference


def _epsilon(
    epsilon, epsilon_share: float | None, bounds, fixed_features: Sequence[int] | None, x
) -> float | np.ndarray:
    """The L-infinity radius: a float, or ``(F,)`` per feature (per-feature bounds, an
    ``epsilon`` per feature, or fixed features, whose radius is 0)."""
    if (epsilon is None) == (epsilon_share is None):
        raise InputError(
            "Expected exactly one of epsilon (input units, e.g. 8 for 0..255 images) and "
            f"epsilon_share (a share of the value range). Received: epsilon={epsilon!r}, "
            f"epsilon_share={epsilon_share!r}."
        )
    if epsilon is not None:
        value = np.asarray(epsilon, dtype=np.float64)
    else:
        value = float(epsilon_share) * (np.asarray(bounds[1]) - np.asarray(bounds[0]))
    if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != x.shape[-1]):
        raise InputError(
            f"Expected epsilon as one number or one per feature ({x.shape[-1]}). Received: "
            f"shape {value.shape}."
        )
    if not np.all(value >= 0) or not np.all(np.isfinite(value)):
        raise InputError(f"Expected a finite epsilon >= 0. Received: {value}.")
    if fixed_features:
        value = np.where(_fixed_mask(fixed_features, x.shape[-1]), 0.0, value)
    return float(value) if value.ndim == 0 else value


def _project(
    candidate: np.ndarray, x: np.ndarray, epsilon: float, bounds: tuple[float, float]
) -> np.ndarray:
    return np.clip(np.clip(candidate, x - epsilon, x + epsilon), *bounds)


def _to_dtype(
    adv: np.ndarray, x: np.ndarray, epsilon: float, bounds: tuple[float, float]
) -> np.ndarray:
    """The adversarial batch in ``x``'s dtype; integer inputs are rounded inside the ball."""
    if x.dtype.kind not in "iub":
        return adv.astype(x.dtype)
    reach = np.floor(epsilon + 1e-9)
    rounded = np.clip(np.rint(adv), x - reach, x + reach)
    return np.clip(rounded, np.ceil(bounds[0]), np.floor(bounds[1])).astype(x.dtype)


def _sign(target: int | None) -> float:
    # Untargeted attacks climb the loss of the label; targeted ones descend that of the target.
    return 1.0 if target is None else -1.0


def _run_attack(
    method: str,
    model: Any,
    x: np.ndarray,
    y,
    *,
    epsilon: float | None,
    epsilon_share: float | None,
    steps: int,
    step_size: float | None,
    random_start: bool,
    step_factor: float = DEFAULT_STEP_FACTOR,
    seed: int,
    value_range: Sequence[float] | None,
    target: int | None,
    score: str,
    batch_size: int,
    fixed_features: Sequence[int] | None = None,
    loss: Any = None,
    input_name: str | None = None,
    first_sample: int = 0,
) -> AdversarialInfo:
    if score not in ("loss", "logit"):
        raise InputError(f"Expected score 'loss' or 'logit'. Received: {score!r}.")
    clean, task, reference = _prepare(model, x, y, loss)
    packed = np.asarray(x)
    input_name, x = attacked_input(packed, input_name)
    position, others = 0, []
    if input_name is not None:
        arrays = graph.model_inputs(model, packed)
        position = graph.input_names(model).index(input_name)
        if x.dtype.kind != "f":
            raise InputError(
                f"FGSM and PGD move a float input along its gradient; the input "
                f"{input_name!r} holds {x.dtype} values. Choose a float input."
            )
        others = arrays[:position] + arrays[position + 1 :]
    bounds = _range(x, set_range(x) if value_range is None else value_range)
    eps = _epsilon(epsilon, epsilon_share, bounds, fixed_features, x)
    if target is not None:
        if task == "regression":
            raise InputError("A target class only applies to classifiers; pass target=None.")
        if not 0 <= int(target) < max(clean.num_classes, 1):
            raise InputError(
                f"Expected a target class between 0 and {clean.num_classes - 1}. "
                f"Received: {target}."
            )
        reference = np.full_like(reference, float(target))
    if steps < 1:
        raise InputError(f"Expected at least one step. Received: {steps}.")
    if method == "fgsm":
        step = eps
    else:
        if not (np.isfinite(step_factor) and step_factor > 0):
            raise InputError(f"Expected a positive step_factor. Received: {step_factor!r}.")
        step = float(step_size) if step_size is not None else float(step_factor) * eps / steps
    attack = _attack_for(model, task, position)
    mode = 1 if score == "logit" else 0
    sign = _sign(target)
    rng = np.random.default_rng(seed)
    original = x.astype(np.float64)
    adv = original.copy()
    if random_start and np.any(eps > 0):
        # A shard of a set starts where its samples start in the whole set: each uniform value
        # takes one draw, so the draws of the samples before it are skipped.
        rng.bit_generator.advance(first_sample * math.prod(x.shape[1:]))
        adv = _project(adv + rng.uniform(-eps, eps, size=x.shape), original, eps, bounds)
    for start in range(0, len(x), batch_size):
        part = slice(start, start + batch_size)
        clean_part, current = original[part], adv[part]
        fixed = graph.take(others, part)
        for _ in range(steps):
            _, grad = attack(current, reference[part], sign, mode, fixed)
            if task == "regression":
                # At the reference itself the squared error has no gradient (y=None without a
                # random start): step along the output's own gradient instead.
                flat = np.abs(grad.reshape(len(grad), -1)).max(axis=1) == 0
                if flat.any():
                    _, raise_grad = attack(
                        current[flat], reference[part][flat], 1.0, 2, graph.take(fixed, flat)
                    )
                    grad[flat] = raise_grad
            current = _project(current + step * np.sign(grad), clean_part, eps, bounds)
        adv[part] = current
    x_adv = _to_dtype(adv, x, eps, bounds)
    adversarial = prediction_info(model, with_input(packed, input_name, x_adv), None, task=task)
    perturbation = x_adv.astype(np.float64) - original
    labels = reference[:, 0].astype(np.int64) if task != "regression" else reference
    if task == "regression":
        clean_acc = adv_acc = None
        clean_err = float(np.abs(clean.outputs - reference).mean())
        adv_err = float(np.abs(adversarial.outputs - reference).mean())
        clean_pred, adv_pred = clean.outputs, adversarial.outputs
    else:
        clean_err = adv_err = None
        clean_pred, adv_pred = clean.predicted, adversarial.predicted
        clean_acc = float(np.mean(clean_pred == labels))
        adv_acc = float(np.mean(adv_pred == labels))
    return AdversarialInfo(
        method=method,
        task=task,
        x_adv=x_adv,
        perturbation=perturbation,
        clean_predictions=clean_pred,
        adversarial_predictions=adv_pred,
        clean_probabilities=clean.outputs,
        adversarial_probabilities=adversarial.outputs,
        labels=labels,
        clean_accuracy=clean_acc,
        adversarial_accuracy=adv_acc,
        clean_error=clean_err,
        adversarial_error=adv_err,
        epsilon=eps,
        steps=int(steps),
        step_size=step,
        linf=float(np.abs(perturbation).max()) if perturbation.size else 0.0,
        feature_linf=(
            np.abs(perturbation).reshape(-1, x.shape[-1]).max(axis=0)
            if np.ndim(eps) and perturbation.size
            else None
        ),
        value_range=_stored(bounds),
        target=None if target is None else int(target),
        score=score,
        input_name=input_name,
    )


def fgsm(
    model: Any,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    epsilon: float | None = None,
    epsilon_share: float | None = None,
    value_range: Sequence[float] | None = None,
    target: int | None = None,
    score: str = "loss",
    batch_size: int = DEFAULT_BATCH_SIZE,
    fixed_features: Sequence[int] | None = None,
    loss: Any = None,
    input_name: str | None = None,
) -> AdversarialInfo:
    """Fast gradient sign method (Goodfellow et al. 2015): ``x + epsilon * sign(grad loss)``.

    Args:
        model: a classifier or regression model with one float input (images, series, vectors).
        x: samples ``(N, ...)`` as the sample set holds them (uint8 images stay uint8).
        y: labels (class indices, one-hot, or regression targets). Without labels the attack
            pushes away from the model's own clean prediction.
        epsilon: the L-infinity radius in the input's units (8 means 8 grey levels on 0..255
            images, 0.03 on 0..1 images), or ``(F,)`` one radius per feature (the last axis).
        epsilon_share: the radius as a share of the value range instead (8/255 ~ 0.031); with
            per-feature bounds, a share of each feature's range.
        value_range: the bounds inputs are kept in: ``(low, high)`` or two ``(F,)`` arrays, one
            pair per feature (:func:`set_range` gives those for series and feature vectors);
            default :func:`value_range` of ``x``.
        fixed_features: features (last-axis indices) the attack leaves exactly as they are
            (calendar features: :func:`default_fixed_features`).
        target: a class to push towards (targeted attack), else ``None``.
        score: ``"loss"``: the cross-entropy of the label (squared error for regression);
            ``"logit"``: the label's logit alone (lowered, or raised for a target).
        batch_size: samples per gradient call.
        loss: the loss the model was trained with when it is not compiled (a file's saved loss
            config): a binary cross-entropy on logits makes a one-unit linear output a binary
            classifier (see :func:`~neurogenesis.analysis.features.prediction_info`).
        input_name: of a packed set of several inputs, the float input attacked (default: see
            :func:`attacked_input`); the other inputs are fed unchanged. ``x_adv`` and
            ``perturbation`` are that input's.

    Returns:
        The adversarial batch and the model's accuracy on it.

    Raises:
        UnsupportedModelError: token-id inputs (no gradient), several inputs, non-vector outputs.
        InputError: bad epsilon, labels, target or samples.
    """
    return _run_attack(
        "fgsm",
        model,
        x,
        y,
        epsilon=epsilon,
        epsilon_share=epsilon_share,
        steps=1,
        step_size=None,
        random_start=False,
        seed=0,
        value_range=value_range,
        target=target,
        score=score,
        batch_size=batch_size,
        fixed_features=fixed_features,
        loss=loss,
        input_name=input_name,
    )


def pgd(
    model: Any,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    epsilon: float | None = None,
    epsilon_share: float | None = None,
    steps: int = DEFAULT_PGD_STEPS,
    step_size: float | None = None,
    step_factor: float = DEFAULT_STEP_FACTOR,
    random_start: bool = True,
    seed: int = 0,
    value_range: Sequence[float] | None = None,
    target: int | None = None,
    score: str = "loss",
    batch_size: int = DEFAULT_BATCH_SIZE,
    fixed_features: Sequence[int] | None = None,
    loss: Any = None,
    input_name: str | None = None,
    first_sample: int = 0,
) -> AdversarialInfo:
    """Projected gradient descent in the L-infinity ball (Madry et al. 2018).

    Starts at a uniform random point of the ball (``random_start``), then takes ``steps`` signed
    gradient steps of ``step_size`` (default ``step_factor * epsilon / steps``, per feature when
    epsilon is; Madry et al.'s 2.5 by default), projecting onto the
    epsilon ball around ``x`` and onto the value range after each. ``steps`` is lowered by
    ``$NEUROGENESIS_MAX_STEPS`` when set. ``first_sample``: the index of ``x[0]`` in the whole
    set (a shard's random start is then the one its samples get when the set is attacked at
    once). Arguments otherwise as :func:`fgsm`.

    Returns:
        The adversarial batch and the model's accuracy on it.

    Raises:
        UnsupportedModelError: token-id inputs (no gradient), several inputs, non-vector outputs.
        InputError: bad epsilon, steps, labels, target or samples.
    """
    return _run_attack(
        "pgd",
        model,
        x,
        y,
        epsilon=epsilon,
        epsilon_share=epsilon_share,
        steps=graph.capped_steps(steps) if steps >= 1 else steps,
        step_size=step_size,
        step_factor=step_factor,
        random_start=random_start,
        seed=seed,
        value_range=value_range,
        target=target,
        score=score,
        batch_size=batch_size,
        fixed_features=fixed_features,
        loss=loss,
        input_name=input_name,
        first_sample=first_sample,
    )


# ---------------------------------------------------------------------------------------------
# Curves


@dataclass(frozen=True, eq=False)
class RobustnessInfo(ValueEquality):
    """Accuracy (or error) against strength for each corruption and attack, in long form.

    Attributes:
        input_kind: ``"image"``, ``"series"``, ``"text"`` or ``"tabular"``.
        task: ``"classification"``, ``"binary"`` or ``"regression"``.
        metric: ``"accuracy"`` (higher is better) or ``"mean_absolute_error"`` (lower is better).
        clean: the metric on the unchanged samples.
        names: the curves, corruptions first then attacks.
        kinds: ``"corruption"`` or ``"attack"`` per curve.
        units: what each curve's strength measures.
        curve: ``(M,)`` the index into ``names`` of each point.
        strength: ``(M,)`` the strength of each point (epsilon in input units for attacks).
        value: ``(M,)`` the metric at each point.
        per_class: ``(M, K)`` accuracy per true class (NaN for classes without samples), or
            ``None`` (regression or ``per_class=False``).
        class_counts: ``(K,)`` samples per class, or ``None``.
        label_names: class names, or ``None``.
        value_range: the bounds every input was clipped to: ``(low, high)``, or a ``(2, F)``
            array of each feature's low and high.
    """

    input_kind: str
    task: str
    metric: str
    clean: float
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    units: tuple[str, ...]
    curve: np.ndarray
    strength: np.ndarray
    value: np.ndarray
    per_class: np.ndarray | None
    class_counts: np.ndarray | None
    label_names: tuple[str, ...] | None
    value_range: tuple[float, float] | np.ndarray

    def curve_values(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(strengths, values)`` of the curve ``name``."""
        if name not in self.names:
            raise InputError(f"Expected a curve in {self.names}. Received: {name!r}.")
        chosen = self.curve == self.names.index(name)
        return self.strength[chosen], self.value[chosen]

    def _quality(self, values: np.ndarray) -> np.ndarray:
        """The metric relative to clean: 1 is as good as clean, lower is worse."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.metric == "accuracy":
                return values / self.clean if self.clean > 0 else np.full(values.shape, np.nan)
            return np.where(values > 0, self.clean / values, 1.0)

    def severities(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(strengths, values)`` of the curve's severity levels 1..n: its strengths other
        than 0, weakest first (the default grids have :data:`NUM_SEVERITIES`)."""
        strengths, values = self.curve_values(name)
        order = np.argsort(np.abs(strengths), kind="stable")
        strengths, values = strengths[order], values[order]
        keep = strengths != 0
        return strengths[keep], values[keep]

    def summary_rows(self) -> list[dict]:
        """One row per curve, ranked at matched severities, worst first.

        Severity ``k`` is a curve's ``k``-th strength above 0; every default grid has
        :data:`NUM_SEVERITIES`, each stated in its unit, so corruptions are compared level for
        level (ImageNet-C's convention) rather than at whatever their strongest setting is.

        Keys: ``corruption``, ``kind``, ``unit`` (``info.units``), ``levels`` (every severity's
        strength with its unit), ``mean`` (the metric averaged over severities 1..n: the area
        under the metric-against-severity curve, per level; the ranking key), ``mean_change``
        (``mean - clean``: below 0 is worse for accuracy, above 0 for an error), ``middle``
        (severity :data:`MIDDLE_SEVERITY`'s strength with its unit, the middle level when there
        are fewer), ``at_middle`` (the metric there), ``breaks_at_strength`` and ``breaks_at``
        (the first strength whose metric is worse than :data:`DROP_THRESHOLD` of clean, as a
        number and with its unit; for errors clean / error < 0.9; ``None`` when never).
        """
        rows = []
        for name, kind, unit in zip(self.names, self.kinds, self.units, strict=True):
            strengths, values = self.severities(name)
            quality = self._quality(values)
            below = np.flatnonzero(quality < DROP_THRESHOLD)
            if len(strengths):
                middle = min(MIDDLE_SEVERITY, (len(strengths) + 1) // 2) - 1
                mean = float(np.mean(values))
                middle_text = strength_text(strengths[middle], unit)
                at_middle = float(values[middle])
            else:
                mean = at_middle = float("nan")
                middle_text = ""
            breaks = float(strengths[below[0]]) if len(below) else None
            rows.append(
                {
                    "corruption": name,
                    "kind": kind,
                    "unit": unit,
                    "levels": levels_text(strengths, unit),
                    "mean": mean,
                    "mean_change": mean - self.clean,
                    "middle": middle_text,
                    "at_middle": at_middle,
                    "breaks_at_strength": breaks,
                    "breaks_at": None if breaks is None else strength_text(breaks, unit),
                }
            )
        worse_is_lower = self.metric == "accuracy"
        keys = [row["mean"] for row in rows]
        keys = [(np.inf if worse_is_lower else -np.inf) if np.isnan(k) else k for k in keys]
        order = np.argsort(np.asarray(keys) if worse_is_lower else -np.asarray(keys), kind="stable")
        return [rows[i] for i in order]


def _score(task: str, outputs: np.ndarray, labels: np.ndarray, num_classes: int):
    """Per-sample correctness (classification) or absolute error (regression)."""
    if task == "regression":
        return np.abs(outputs - labels).mean(axis=1)
    if task == "binary":
        predicted = (outputs[:, 0] >= 0.5).astype(np.int64)
    else:
        predicted = outputs.argmax(axis=1)
    return (predicted == labels).astype(np.float64)


def robustness_curves(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    corruptions: Sequence[str] | None = None,
    strengths: Mapping[str, Sequence[float]] | None = None,
    attacks: Sequence[str] = ATTACKS,
    epsilons: Sequence[float] | None = None,
    per_class: bool = True,
    seed: int = 0,
    pgd_steps: int = DEFAULT_PGD_STEPS,
    value_range: Sequence[float] | None = None,
    label_names: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[float], None] | None = None,
    fixed_features: Sequence[int] = (),
    loss: Any = None,
    input_name: str | None = None,
    first_sample: int = 0,
    set_size: int | None = None,
    series_scale: np.ndarray | None = None,
) -> RobustnessInfo:
    """Accuracy (or mean absolute error) against strength for corruptions and attacks.

    Args:
        model: a classifier or regression model with one input.
        x: samples ``(N, ...)``; every corrupted input is clipped to their value range.
        y: labels (class indices, one-hot, or regression targets).
        corruptions: names from ``CORRUPTIONS[input kind]``; default all of that kind.
        strengths: per corruption (or attack) name, the strengths to try instead of the default.
        attacks: from :data:`ATTACKS`; skipped for token inputs (they have no gradient).
        epsilons: attack radii in input units; default :data:`DEFAULT_EPSILON_SHARES` of the
            range. With per-feature bounds (``value_range`` from :func:`set_range` for series
            and feature vectors) the radii are shares of each feature's range instead, default
            :data:`DEFAULT_EPSILON_SHARES`.
        per_class: also give accuracy per true class.
        seed: seeds the random corruptions and PGD's start.
        pgd_steps: PGD steps (lowered by ``$NEUROGENESIS_MAX_STEPS``).
        value_range: the bounds: ``(low, high)`` or one pair per feature (:func:`set_range`);
            default :func:`value_range` of ``x``.
        label_names: class names.
        batch_size: samples per model call.
        progress: called with the share done, 0..1.
        fixed_features: features (last axis) that series noise and the attacks leave alone
            (calendar features: :func:`default_fixed_features`).
        loss: the loss the model was trained with when it is not compiled, as in :func:`fgsm`.
        input_name: of a packed set of several inputs, the one corrupted and attacked (default:
            see :func:`attacked_input`: the float image, else a float input, else the token
            ids, corrupted but not attacked); the others are fed unchanged.
        first_sample, set_size, series_scale: for ``x`` a shard of a larger set, where it
            starts in the set, the set's size and the set's :func:`noise_scale` (series): the
            random corruptions and PGD's start are then those of its samples in the whole set
            (token edits excepted: their draws depend on every earlier sample's tokens).

    Returns:
        The curves.

    Raises:
        UnsupportedModelError: the model has several inputs or a non-vector output.
        InputError: unknown corruption or attack names, labels that do not fit or are not the
            model's classes.
    """
    reason = _reason(model, attack=False)
    if reason is not None:
        raise UnsupportedModelError(reason)
    if y is None:
        raise InputError("Expected labels to measure accuracy against. Received: None.")
    packed = np.asarray(x)
    clean_info = prediction_info(model, packed, y, label_names, loss=loss)
    input_name, x = attacked_input(packed, input_name)
    if input_name is None:
        kind = input_kind(model)
    else:
        ranks = {4: "image", 3: "series", 2: "tabular"}
        kind = "text" if x.dtype.kind in "iu" and x.ndim == 2 else ranks.get(x.ndim)
    bounds = _range(x, set_range(x) if value_range is None else value_range)
    task = clean_info.task
    if task not in TASKS:
        raise UnsupportedModelError(f"Expected a classifier or a regression model. Got: {task}.")
    if clean_info.own_labels:
        raise InputError(
            f"{clean_info.note} Robustness curves measure accuracy against the labels: choose a "
            "sample set labelled with this model's classes."
        )
    activation = graph.graph_layers(model).output_activation
    n = len(x)
    if task == "regression":
        labels = np.asarray(y, dtype=np.float64).reshape(n, -1)
    else:
        labels = clean_info.labels
    available = CORRUPTIONS.get(kind, {})
    names = list(available) if corruptions is None else list(corruptions)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise InputError(
            f"Expected corruptions for {kind} input from {tuple(available)}. Received: {unknown}."
        )
    attack_names = list(attacks) if kind != "text" else []
    unknown = [name for name in attack_names if name not in ATTACKS]
    if unknown:
        raise InputError(f"Expected attacks from {ATTACKS}. Received: {unknown}.")
    strengths = dict(strengths or {})
    per_feature = is_per_feature(bounds)
    if per_feature:
        default_eps = DEFAULT_EPSILON_SHARES
    else:
        default_eps = tuple(share * (bounds[1] - bounds[0]) for share in DEFAULT_EPSILON_SHARES)
    plan = [(name, "corruption", strengths.get(name, available[name][1])) for name in names]
    plan += [
        (name, "attack", strengths.get(name, epsilons or default_eps)) for name in attack_names
    ]
    classes = clean_info.num_classes if task != "regression" else 0
    counts = np.bincount(labels, minlength=classes) if classes and per_class else None
    clean_scores = _score(task, clean_info.outputs, labels, classes)
    total = sum(len(values) for _, _, values in plan) or 1
    done = 0
    curve, strength, value, per_class_rows = [], [], [], []
    for index, (name, curve_kind, values) in enumerate(plan):
        for level in values:
            level = float(level)
            if curve_kind == "attack":
                attack = fgsm if name == "fgsm" else pgd
                options = (
                    {"steps": pgd_steps, "seed": seed, "first_sample": first_sample}
                    if name == "pgd"
                    else {}
                )
                options["epsilon_share" if per_feature else "epsilon"] = level
                info = attack(
                    model,
                    packed,
                    y,
                    value_range=bounds,
                    batch_size=batch_size,
                    fixed_features=fixed_features,
                    loss=loss,
                    input_name=input_name,
                    **options,
                )
                outputs = info.adversarial_probabilities
            elif level == 0:
                outputs = clean_info.outputs
            else:
                function = available[name][0]
                extra: dict[str, Any] = {}
                if function is series_noise:
                    extra = {"fixed_features": fixed_features, "scale": series_scale}
                if function in (series_noise, gaussian_noise, random_occlusion):
                    extra["first_sample"] = first_sample
                if function is random_occlusion:
                    extra["set_size"] = set_size
                changed = function(x, level, seed=seed, value_range=bounds, **extra)
                joined = with_input(packed, input_name, changed)
                raw = graph.predict(model, joined, batch_size=batch_size)
                outputs = output_values(raw, task, activation)
            scores = _score(task, outputs, labels, classes)
            curve.append(index)
            strength.append(level)
            value.append(float(scores.mean()))
            if counts is not None:
                sums = np.bincount(labels, weights=scores, minlength=classes)
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_class_rows.append(np.where(counts > 0, sums / counts, np.nan))
            done += 1
            if progress is not None:
                progress(done / total)
    return RobustnessInfo(
        input_kind=kind,
        task=task,
        metric="mean_absolute_error" if task == "regression" else "accuracy",
        clean=float(clean_scores.mean()),
        names=tuple(name for name, _, _ in plan),
        kinds=tuple(curve_kind for _, curve_kind, _ in plan),
        units=tuple(
            FEATURE_EPSILON_UNIT if per_feature and part == "attack" else STRENGTH_UNITS[name]
            for name, part, _ in plan
        ),
        curve=np.asarray(curve, dtype=np.int64),
        strength=np.asarray(strength, dtype=np.float64),
        value=np.asarray(value, dtype=np.float64),
        per_class=np.asarray(per_class_rows) if counts is not None else None,
        class_counts=counts,
        label_names=clean_info.label_names,
        value_range=_stored(bounds),
    )

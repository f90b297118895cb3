"""Smoothing and downsampling of training curves: exact smoothing, fast drawing.

Three smoothers, all NaN-aware and all returning a float64 array the length of the input:

- :func:`tensorboard_ema`: TensorBoard's debiased exponential moving average, value for value the
  curve TensorBoard's scalar dashboard draws for the same smoothing weight.
- :func:`gaussian_smooth`: a Gaussian kernel, normalised over the finite points it covers.
- :func:`moving_average`: a centred running mean over the finite points in the window.

Two downsamplers for drawing long series (a 1,000,000-step run is ~25 MB of figure JSON):

- :func:`downsample`: MinMaxLTTB (Van Der Donckt et al. 2023, via ``tsdownsample``) on the finite
  points, always keeping the first and last point, the global minimum and maximum and (up to a
  cap) every NaN/Inf so the page can mark them.
- :func:`downsample_range`: the same for the points inside a zoomed x range, at full detail when
  few enough remain, plus one neighbour on each side so lines reach the edges of the view.

Both return sorted int64 indices into the original arrays, so callers pick ``x[idx]``, ``y[idx]``
(and the smoothed curve's ``s[idx]``) from the same positions.
"""

from __future__ import annotations

import math

import numpy as np

from neurogenesis.errors import InputError

__all__ = [
    "DEFAULT_MAX_POINTS",
    "SHORT_LOG_POINTS",
    "default_smoother",
    "downsample",
    "downsample_range",
    "gaussian_smooth",
    "moving_average",
    "tensorboard_ema",
]

DEFAULT_MAX_POINTS = 2000
_EXTRA_POINTS = 4  # first, last, global min, global max: added when the algorithm drops them
# Below this many points per curve every point is worth seeing as it is: smoothing a 12-epoch log
# with TensorBoard's 0.6 mostly shows the lag (a last value of 0.123 where the run reached 0.041).
SHORT_LOG_POINTS = 30


def default_smoother(num_points: int, smoother: str = "exponential") -> str:
    """The smoother a dashboard starts with for curves of at most ``num_points`` points:
    ``"none"`` for short logs (fewer than :data:`SHORT_LOG_POINTS`), else ``smoother``."""
    return "none" if int(num_points) < SHORT_LOG_POINTS else smoother


def _as_series(values: np.ndarray, name: str = "values") -> np.ndarray:
    """Return ``values`` as a 1-D float64 array, or raise InputError."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise InputError(
            f"Expected a 1-D series of {name}. Received an array of shape {arr.shape}."
        )
    return arr


# --------------------------------------------------------------------------------------------
# Smoothing
# --------------------------------------------------------------------------------------------


def tensorboard_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average ("Smoothing" slider of the scalars page).

    Reproduces ``classicSmoothing`` in TensorBoard's
    ``tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts`` (the same filter as the older
    ``vz_line_chart2`` dashboard) point for point:

    - ``weight`` that is not finite becomes 0; otherwise it is clipped to ``[0, 1]``.
    - A constant series (every value ``== values[0]``, which includes the empty series) comes back
      unchanged, to avoid floating-point noise (TensorBoard issue #786). A series starting with NaN
      is never constant, because NaN != NaN.
    - Otherwise ``last = 0``, and for each point: a non-finite value (NaN, +Inf, -Inf) is returned
      as it is and neither updates ``last`` nor counts; a finite value ``v`` does
      ``last = last * weight + (1 - weight) * v``, ``num_accum += 1`` and is returned as
      ``last / (1 - weight ** num_accum)``. The debias count is the number of finite points seen so
      far, not the index.
    - ``weight == 0`` gives the input back (``1 - 0 ** n == 1``).
    - ``weight == 1`` divides by 1 instead of 0 and so, exactly like TensorBoard, gives 0 at every
      finite point of a non-constant series (``last`` stays 0). TensorBoard's slider stops at
      0.999, where the debiased average is well defined: the first finite point comes back as
      itself and later points weigh the past by ``weight``.

    Args:
        values: 1-D series of values; NaN and Inf allowed.
        weight: smoothing weight in ``[0, 1]``, as on TensorBoard's slider (0.6 is its default).

    Returns:
        A float64 array of the same length: the smoothed series, non-finite values in place.

    Raises:
        InputError: if ``values`` is not one-dimensional.
    """
    arr = _as_series(values)
    weight = float(weight)
    if not math.isfinite(weight):
        weight = 0.0
    weight = min(max(weight, 0.0), 1.0)
    out = arr.copy()
    if arr.size == 0 or bool(np.all(arr == arr[0])):
        return out
    finite = np.isfinite(arr)
    v = arr[finite]
    if v.size == 0:
        return out
    if weight == 1.0:
        # last = last * 1 + 0 * v stays 0; TensorBoard divides by 1.
        out[finite] = 0.0
        return out
    from scipy.signal import lfilter

    # y[n] = (1 - w) * v[n] + w * y[n - 1], y[-1] = 0: the same two products and one sum per step
    # as TensorBoard's loop, run over the finite points only.
    last = lfilter([1.0 - weight], [1.0, -weight], v)
    debias = 1.0 - np.power(weight, np.arange(1, v.size + 1, dtype=np.float64))
    out[finite] = last / debias
    return out


def _normalised_convolve(arr: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve the finite points of ``arr`` with ``kernel``, renormalised by the weights present.

    Output ``i`` is centred like ``np.convolve(..., mode="same")``: it covers input points
    ``i - len(kernel) // 2 .. i + (len(kernel) - 1) // 2``. Points whose window holds no finite
    value are NaN; non-finite inputs are passed through unchanged.
    """
    finite = np.isfinite(arr)
    filled = np.where(finite, arr, 0.0)
    mask = finite.astype(np.float64)
    k = kernel.size
    start = (k - 1) // 2
    num = np.convolve(filled, kernel, mode="full")[start : start + arr.size]
    den = np.convolve(mask, kernel, mode="full")[start : start + arr.size]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    out[~finite] = arr[~finite]
    return out


def gaussian_smooth(values: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Gaussian smoothing that ignores NaN/Inf and does not sag at the edges.

    Normalised convolution: ``sum_j k(i - j) * v_j / sum_j k(i - j)`` over the finite ``v_j``
    within ``truncate * sigma`` points of ``i``, with ``k(d) = exp(-d**2 / (2 * sigma**2))``. Near
    the ends, and next to gaps, the kernel is renormalised over the points that exist, so a constant
    series stays constant everywhere. Positions are sample indices (the x spacing is ignored).

    Args:
        values: 1-D series; NaN and Inf allowed.
        sigma: standard deviation of the kernel in samples; 0 returns a copy.
        truncate: the kernel is cut at ``truncate * sigma`` samples on each side.

    Returns:
        A float64 array of the same length. Non-finite inputs are returned unchanged at their
        positions (as :func:`tensorboard_ema` does); a finite point with no finite neighbour in
        reach keeps its own value.

    Raises:
        InputError: if ``values`` is not 1-D, or ``sigma`` or ``truncate`` is negative or not
            finite.
    """
    arr = _as_series(values)
    sigma = float(sigma)
    if not math.isfinite(sigma) or sigma < 0:
        raise InputError(f"Expected sigma >= 0. Received: {sigma!r}")
    if not math.isfinite(truncate) or truncate <= 0:
        raise InputError(f"Expected truncate > 0. Received: {truncate!r}")
    if sigma == 0 or arr.size == 0:
        return arr.copy()
    radius = int(math.ceil(truncate * sigma))
    radius = max(0, min(radius, arr.size - 1))
    d = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (d / sigma) ** 2)
    return _normalised_convolve(arr, kernel)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred running mean over the finite points in each window.

    Output ``i`` is the mean of the finite values among input points
    ``i - window // 2 .. i + (window - 1) // 2`` (symmetric for odd windows; for even ones the
    extra point is on the left, as ``pandas.Series.rolling(window, center=True)``). Windows are cut
    at the ends of the series and averaged over what remains (like ``min_periods=1``).

    Args:
        values: 1-D series; NaN and Inf allowed.
        window: number of points per window, >= 1; 1 returns a copy.

    Returns:
        A float64 array of the same length. Non-finite inputs are returned unchanged at their
        positions.

    Raises:
        InputError: if ``values`` is not 1-D or ``window`` is not a positive integer.
    """
    arr = _as_series(values)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise InputError(f"Expected a whole number window >= 1. Received: {window!r}")
    if window == 1 or arr.size == 0:
        return arr.copy()
    return _normalised_convolve(arr, np.ones(int(window), dtype=np.float64))


# --------------------------------------------------------------------------------------------
# Downsampling
# --------------------------------------------------------------------------------------------


def _check_xy(x: np.ndarray | None, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_arr = _as_series(y, "y values")
    if x is None:
        x_arr = np.arange(y_arr.size, dtype=np.float64)
    else:
        x_arr = np.asarray(x)
        if x_arr.ndim != 1 or x_arr.size != y_arr.size:
            raise InputError(
                f"Expected x and y of the same length. Received {x_arr.shape} and {y_arr.shape}."
            )
        if not np.issubdtype(x_arr.dtype, np.number) or np.issubdtype(x_arr.dtype, np.bool_):
            raise InputError(f"Expected numeric x values. Received dtype {x_arr.dtype}.")
        if x_arr.size > 1 and bool(np.any(np.diff(x_arr) < 0)):
            raise InputError("Expected x sorted in increasing order. Sort the points by x first.")
    return x_arr, y_arr


def _spread(idx: np.ndarray, cap: int) -> np.ndarray:
    """At most ``cap`` entries of ``idx``, evenly spread, always the first and last."""
    if idx.size <= cap:
        return idx
    if cap <= 0:
        return idx[:0]
    pick = np.unique(np.linspace(0, idx.size - 1, cap).round().astype(np.int64))
    return idx[pick]


def _minmaxlttb(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """MinMaxLTTB indices into finite ``x``/``y`` (tsdownsample), sorted."""
    if y.size <= n_out:
        return np.arange(y.size, dtype=np.int64)
    from tsdownsample import MinMaxLTTBDownsampler

    if x.dtype.kind not in "iuf":
        x = x.astype(np.float64)
    idx = MinMaxLTTBDownsampler().downsample(
        np.ascontiguousarray(x), np.ascontiguousarray(y), n_out=n_out
    )
    return np.asarray(idx, dtype=np.int64)


def downsample(
    x: np.ndarray | None,
    y: np.ndarray,
    max_points: int = DEFAULT_MAX_POINTS,
    max_nonfinite: int | None = None,
) -> np.ndarray:
    """Indices of the points to draw for a long curve, keeping its shape and its extremes.

    The finite points are reduced with MinMaxLTTB (``tsdownsample.MinMaxLTTBDownsampler``): each
    bucket's min and max are preselected, then Largest-Triangle-Three-Buckets picks one point per
    bucket. Then, whatever the algorithm chose, the first and last points of the series and the
    (first) index of the global minimum and maximum of the finite values are added. Non-finite
    points (NaN, +Inf, -Inf: diverged steps) are all kept up to ``max_nonfinite`` (evenly spread
    beyond that) so that a page can mark them; they take their share of ``max_points``.

    Args:
        x: 1-D x values (steps, wall time), sorted increasing, or None for ``0..n-1``.
        y: 1-D y values, NaN and Inf allowed.
        max_points: the budget, >= 4. At most ``max_points + 4`` indices come back (the 4 are the
            first/last/min/max added when the algorithm dropped them). All indices come back when
            ``len(y) <= max_points``.
        max_nonfinite: most non-finite points kept; default ``max_points // 4``.

    Returns:
        Sorted, unique int64 indices into ``x`` and ``y``.

    Raises:
        InputError: if the arrays are not 1-D and of equal length, x is not sorted or numeric, or
            ``max_points < 4``.
    """
    x_arr, y_arr = _check_xy(x, y)
    max_points = int(max_points)
    if max_points < 4:
        raise InputError(f"Expected max_points >= 4. Received: {max_points}")
    n = y_arr.size
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    if max_nonfinite is None:
        max_nonfinite = max_points // 4
    finite = np.isfinite(y_arr)
    finite_idx = np.flatnonzero(finite)
    nonfinite_idx = _spread(np.flatnonzero(~finite), max(0, int(max_nonfinite)))
    budget = max(max_points - nonfinite_idx.size, 4)
    parts = [nonfinite_idx, np.array([0, n - 1], dtype=np.int64)]
    if finite_idx.size:
        fx, fy = x_arr[finite_idx], y_arr[finite_idx]
        parts.append(finite_idx[_minmaxlttb(fx, fy, budget)])
        parts.append(finite_idx[[int(np.argmin(fy)), int(np.argmax(fy))]])
    return np.unique(np.concatenate(parts)).astype(np.int64)


def downsample_range(
    x: np.ndarray | None,
    y: np.ndarray,
    x_min: float,
    x_max: float,
    max_points: int = DEFAULT_MAX_POINTS,
    max_nonfinite: int | None = None,
) -> np.ndarray:
    """Indices of the points to draw when the view is zoomed to ``[x_min, x_max]``.

    Takes every point with ``x_min <= x <= x_max`` plus the nearest point outside on each side (so
    lines run to the edges of the view), and downsamples them with :func:`downsample` only when
    more than ``max_points`` remain. Zooming in therefore shows full detail as soon as the view
    holds few enough points, instead of the overview's coarse pick.

    Args:
        x: 1-D x values sorted increasing, or None for ``0..n-1``.
        y: 1-D y values, NaN and Inf allowed.
        x_min: left edge of the view (inclusive); the ends may be given in either order.
        x_max: right edge of the view (inclusive).
        max_points: the budget, as for :func:`downsample`.
        max_nonfinite: as for :func:`downsample`.

    Returns:
        Sorted, unique int64 indices into the original ``x`` and ``y``; empty when the series is.

    Raises:
        InputError: as for :func:`downsample`, or if the range ends are not finite numbers.
    """
    x_arr, y_arr = _check_xy(x, y)
    lo_x, hi_x = float(x_min), float(x_max)
    if not (math.isfinite(lo_x) and math.isfinite(hi_x)):
        raise InputError(f"Expected a finite x range. Received: [{x_min!r}, {x_max!r}]")
    if lo_x > hi_x:
        lo_x, hi_x = hi_x, lo_x
    lo = int(np.searchsorted(x_arr, lo_x, side="left"))
    hi = int(np.searchsorted(x_arr, hi_x, side="right"))  # exclusive
    start, stop = max(lo - 1, 0), min(hi + 1, y_arr.size)
    if start >= stop:
        return np.arange(0, dtype=np.int64)
    sub = downsample(x_arr[start:stop], y_arr[start:stop], max_points, max_nonfinite)
    return sub + start

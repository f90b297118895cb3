"""Tests for neurogenesis.analysis.smoothing: exact smoothers and extreme-keeping downsampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurogenesis.analysis.smoothing import (
    downsample,
    downsample_range,
    gaussian_smooth,
    moving_average,
    tensorboard_ema,
)
from neurogenesis.errors import InputError


def tb_classic_smoothing(values, weight):
    """Line-by-line transcription of TensorBoard's ``classicSmoothing`` (data_transformer.ts)."""
    if not math.isfinite(weight):
        weight = 0.0
    weight = max(0.0, min(weight, 1.0))
    values = [float(v) for v in values]
    initial = values[0] if values else None
    if all(v == initial for v in values):  # isConstant; see TensorBoard #786
        return list(values)
    last = 0.0 if values else math.nan
    num_accum = 0
    out = []
    for next_val in values:
        if not math.isfinite(next_val):
            out.append(next_val)
        else:
            last = last * weight + (1 - weight) * next_val
            num_accum += 1
            debias_weight = 1 if weight == 1 else 1 - weight**num_accum
            out.append(last / debias_weight)
    return out


def _same(a, b, tol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
    fin = np.isfinite(a)
    np.testing.assert_array_equal(a[~fin & ~np.isnan(a)], b[~fin & ~np.isnan(b)])
    np.testing.assert_allclose(a[fin], b[fin], rtol=tol, atol=tol)


# ------------------------------------------------------------------ tensorboard_ema


def test_ema_three_points_by_hand():
    # w = 0.5: last 0.5 / 0.5 = 1; last 1.25 / 0.75; last 2.125 / 0.875.
    out = tensorboard_ema(np.array([1.0, 2.0, 3.0]), 0.5)
    np.testing.assert_allclose(out, [1.0, 1.25 / 0.75, 2.125 / 0.875], rtol=0, atol=1e-15)
    # w = 0.6 (TensorBoard's default), values 2, 4, 0.
    out = tensorboard_ema([2.0, 4.0, 0.0], 0.6)
    l1 = 0.4 * 2.0
    l2 = 0.6 * l1 + 0.4 * 4.0
    l3 = 0.6 * l2
    np.testing.assert_allclose(out, [l1 / 0.4, l2 / (1 - 0.36), l3 / (1 - 0.216)], atol=1e-15)


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99, 0.999, 1.0])
def test_ema_matches_tensorboard_loop_with_nan_and_inf(weight):
    rng = np.random.default_rng(42)
    y = np.cumsum(rng.normal(size=3000)) + 5.0
    bad = rng.choice(y.size, size=60, replace=False)
    y[bad[:20]] = np.nan
    y[bad[20:40]] = np.inf
    y[bad[40:]] = -np.inf
    y[0] = np.nan  # first value not finite: TB still starts from last = 0
    _same(tensorboard_ema(y, weight), tb_classic_smoothing(y, weight))


def test_ema_special_cases():
    y = np.array([3.0, 1.0, np.nan, 2.0, np.inf])
    _same(tensorboard_ema(y, 0.0), y)  # weight 0: identity
    _same(tensorboard_ema(y, 1.0), [0.0, 0.0, np.nan, 0.0, np.inf])  # as TensorBoard does
    _same(tensorboard_ema(y, float("nan")), y)  # non-finite weight -> 0
    _same(tensorboard_ema(y, 5.0), tb_classic_smoothing(y, 1.0))  # clipped
    const = np.full(5, 0.1)
    assert np.array_equal(tensorboard_ema(const, 0.9), const)  # isConstant: exactly unchanged
    assert tensorboard_ema(np.array([]), 0.6).shape == (0,)
    all_nan = np.array([np.nan, np.nan])
    assert np.isnan(tensorboard_ema(all_nan, 0.6)).all()
    first = tensorboard_ema(np.array([7.0, np.nan, 9.0]), 0.999)
    assert first[0] == pytest.approx(7.0)  # debiasing: the first finite point is itself
    with pytest.raises(InputError):
        tensorboard_ema(np.zeros((2, 2)), 0.5)


def test_ema_input_not_modified_and_float64():
    y = np.array([1, 2, 3], dtype=np.float32)
    out = tensorboard_ema(y, 0.5)
    assert out.dtype == np.float64
    assert y.tolist() == [1.0, 2.0, 3.0]


# ------------------------------------------------------------------ gaussian / moving average


def test_gaussian_by_hand_with_nan_and_edges():
    e2 = math.exp(-2.0)  # kernel weight at distance 2, sigma 1
    e05 = math.exp(-0.5)  # distance 1
    out = gaussian_smooth(np.array([1.0, np.nan, 3.0]), 1.0)
    assert out[0] == pytest.approx((1.0 + 3.0 * e2) / (1.0 + e2))
    assert np.isnan(out[1])  # non-finite passes through
    assert out[2] == pytest.approx((3.0 + 1.0 * e2) / (1.0 + e2))
    out = gaussian_smooth(np.array([0.0, 1.0, 0.0]), 1.0)
    assert out[1] == pytest.approx(1.0 / (1.0 + 2 * e05))
    assert out[0] == pytest.approx(e05 / (1.0 + e05 + e2))


def test_gaussian_constant_stays_constant_and_sigma_zero():
    y = np.full(50, 2.5)
    y[[3, 20]] = np.nan
    out = gaussian_smooth(y, 4.0)
    np.testing.assert_allclose(out[np.isfinite(y)], 2.5)
    np.testing.assert_array_equal(gaussian_smooth([1.0, 5.0], 0), [1.0, 5.0])
    with pytest.raises(InputError):
        gaussian_smooth([1.0], -1.0)


def test_moving_average_by_hand():
    np.testing.assert_allclose(moving_average([1.0, 2.0, 3.0, 4.0, 5.0], 3), [1.5, 2, 3, 4, 4.5])
    # even window: i - 1 .. i (pandas center=True convention)
    np.testing.assert_allclose(moving_average([1.0, 2.0, 3.0, 4.0], 2), [1.0, 1.5, 2.5, 3.5])
    out = moving_average(np.array([1.0, np.nan, 3.0, np.inf, 5.0]), 3)
    _same(out, [1.0, np.nan, 3.0, np.inf, 5.0])  # neighbours of 3 are non-finite -> mean of {3}
    out = moving_average(np.array([2.0, np.nan, 4.0, 6.0]), 3)
    _same(out, [2.0, np.nan, 5.0, 5.0])
    # window longer than the series: mean of everything finite
    np.testing.assert_allclose(moving_average([1.0, 2.0, 6.0], 9), [3.0, 3.0, 3.0])
    with pytest.raises(InputError):
        moving_average([1.0], 0)
    with pytest.raises(InputError):
        moving_average([1.0], 2.5)


# ------------------------------------------------------------------ downsampling


@pytest.fixture(scope="module")
def walk():
    rng = np.random.default_rng(7)
    y = np.cumsum(rng.normal(size=1_000_000))
    x = np.arange(y.size, dtype=np.int64) * 10
    return x, y


def test_downsample_million_point_walk(walk):
    x, y = walk
    idx = downsample(x, y, max_points=2000)
    assert idx.dtype == np.int64
    assert np.all(np.diff(idx) > 0)
    assert idx.size <= 2000 + 4
    assert idx.size >= 1500
    assert {0, y.size - 1, int(np.argmin(y)), int(np.argmax(y))} <= set(idx.tolist())
    assert y[idx].min() == y.min() and y[idx].max() == y.max()


def test_downsample_keeps_nonfinite_and_extremes(walk):
    x, y = walk
    y = y.copy()
    nan_at = [5, 123_456, 500_000, 999_999]
    y[nan_at] = np.nan
    y[[77_777]] = np.inf
    y[[888_888]] = -np.inf
    spike = 424_242
    y[spike] = np.nanmax(y) + 1e6  # a one-step spike must survive
    idx = downsample(x, y, max_points=1000)
    kept = set(idx.tolist())
    assert set(nan_at) | {77_777, 888_888, spike, 0, y.size - 1} <= kept
    finite = np.isfinite(y)
    assert int(np.flatnonzero(finite)[np.argmin(y[finite])]) in kept
    assert idx.size <= 1000 + 4


def test_downsample_caps_nonfinite():
    y = np.arange(10_000, dtype=float)
    y[::2] = np.nan  # 5,000 NaNs
    idx = downsample(None, y, max_points=400, max_nonfinite=100)
    assert np.isnan(y[idx]).sum() <= 100 + 1  # + the first point, always kept
    assert idx.size <= 400 + 4
    assert idx[-1] == 9999 and idx[0] == 0


def test_downsample_small_returns_all_and_validates():
    np.testing.assert_array_equal(downsample(None, np.arange(5.0), max_points=10), np.arange(5))
    assert downsample(None, np.array([]), 10).size == 0
    with pytest.raises(InputError):
        downsample(np.array([2, 1, 3]), np.zeros(3), max_points=4)
    with pytest.raises(InputError):
        downsample(np.arange(3), np.zeros(4))
    with pytest.raises(InputError):
        downsample(None, np.zeros(10), max_points=2)


def test_downsample_range_small_range_is_full_detail(walk):
    x, y = walk
    lo, hi = 300_000, 300_499  # 500 points
    idx = downsample_range(x, y, x[lo], x[hi], max_points=2000)
    np.testing.assert_array_equal(idx, np.arange(lo - 1, hi + 2))  # + one neighbour each side
    # ends in either order, and between sample positions
    idx2 = downsample_range(x, y, x[hi] + 5, x[lo] - 5, max_points=2000)
    np.testing.assert_array_equal(idx2, idx)


def test_downsample_range_large_range_is_downsampled(walk):
    x, y = walk
    lo, hi = 100_000, 600_000
    idx = downsample_range(x, y, x[lo], x[hi], max_points=1000)
    assert idx.size <= 1000 + 4
    assert idx[0] == lo - 1 and idx[-1] == hi + 1
    seg = y[lo - 1 : hi + 2]
    assert lo - 1 + int(np.argmax(seg)) in idx and lo - 1 + int(np.argmin(seg)) in idx


def test_downsample_range_edges():
    x = np.arange(10, dtype=float)
    y = np.arange(10, dtype=float)
    np.testing.assert_array_equal(downsample_range(x, y, -5, 1, 100), [0, 1, 2])
    np.testing.assert_array_equal(downsample_range(x, y, 20, 30, 100), [9])
    np.testing.assert_array_equal(downsample_range(x, y, 3.2, 3.7, 100), [3, 4])
    with pytest.raises(InputError):
        downsample_range(x, y, float("nan"), 3, 100)


def test_short_logs_start_unsmoothed():
    from neurogenesis.analysis.smoothing import SHORT_LOG_POINTS, default_smoother

    assert SHORT_LOG_POINTS == 30
    assert default_smoother(12) == "none"  # the demos' 12-epoch logs
    assert default_smoother(29) == "none" and default_smoother(0) == "none"
    assert default_smoother(30) == "exponential" and default_smoother(100_000) == "exponential"
    assert default_smoother(500, "gaussian") == "gaussian"

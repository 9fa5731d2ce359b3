"""Every numba kernel against its plain numpy twin (stumpy's naive.py pattern)."""

import warnings
from fractions import Fraction

import numba
import numpy as np
import pytest

from nnvec import _kernels as K
from nnvec import _numpy_kernels as N
from nnvec.engine import _kernel_inputs, _packed

SHAPES = [(1, 1), (1, 7), (3, 1), (10, 30), (7, 10), (64, 100), (128, 784)]
DTYPES = [np.float64, np.float32]


def tol(dtype):
    return dict(rtol=1e-15 if dtype == np.float64 else 1e-6,
                atol=1e-300 if dtype == np.float64 else 1e-38)


def data(shape, dtype, seed, scale=5.0):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) * scale).astype(dtype)
    z.flat[:: max(1, z.size // 4)] = 1000.0  # saturated inputs
    if z.size > 1:
        z.flat[1] = -1000.0
    return z


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_sigmoid_into(shape, dtype):
    z = data(shape, dtype, 0)
    got, want = np.empty_like(z), np.empty_like(z)
    K.sigmoid_into(z, got)
    N.sigmoid_into(z, want)
    np.testing.assert_allclose(got, want, **tol(dtype))
    assert np.all((got >= 0) & (got <= 1))


@numba.njit
def _each(f, x, out):
    for i in range(x.shape[0]):
        out[i] = f(x[i])


def test_the_kernels_exp_is_within_one_ulp_of_numpys():
    rng = np.random.default_rng(7)
    x = -np.concatenate([rng.random(200_000) * 760, rng.random(20_000) * 40,
                         rng.random(20_000) * 1e-6, np.arange(700, 760, 0.01),
                         [0.0, 5e-324, 1e-300, 708.39, 745.13, 745.14, 746.0, 1e308, np.inf]])
    got = np.empty_like(x)
    _each(K._exp_nonpositive, x, got)
    want = np.exp(x)
    assert np.all(np.abs(got - want) <= np.spacing(want))  # subnormals and 0 included
    assert got[-1] == 0.0 and got[-2] == 0.0 and got[np.argmax(x == 0.0)] == 1.0
    nan = np.full(1, np.nan)
    _each(K._exp_nonpositive, nan, nan)
    assert np.isnan(nan[0])


def test_the_kernels_float32_exp_is_within_one_ulp_of_float64s_rounded():
    rng = np.random.default_rng(8)
    x = -np.concatenate([rng.random(200_000) * 104, rng.random(20_000) * 20,
                         rng.random(20_000) * 1e-4, np.arange(86, 105, 0.001),
                         [0.0, 1e-45, 87.33, 87.34, 103.97, 103.98, 104.0, 200.0, 3e38,
                          np.inf]]).astype(np.float32)
    got = np.empty_like(x)
    _each(K._exp_nonpositive32, x, got)
    want = np.exp(x.astype(np.float64)).astype(np.float32)
    assert np.all(np.abs(got.astype(np.float64) - want) <= np.spacing(want))  # subnormals too
    assert got[-1] == 0.0 and got[-2] == 0.0 and got[np.argmax(x == 0.0)] == 1.0
    assert np.any((got > 0) & (got < np.finfo(np.float32).tiny))  # reaches the subnormals
    nan = np.full(1, np.nan, np.float32)
    _each(K._exp_nonpositive32, nan, nan)
    assert np.isnan(nan[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_kernel_at_the_extremes(dtype):
    z = np.array([0.0, -0.0, 1e-300, -1e-300, 36.0, -36.0, 709.0, -709.0, 745.5, -745.5, 1e4,
                  -1e4, np.finfo(dtype).max, -np.finfo(dtype).max, np.inf, -np.inf, np.nan],
                 dtype)[None, :]
    got, want = np.empty_like(z), np.empty_like(z)
    K.sigmoid_into(z, got)
    N.sigmoid_into(z, want)
    np.testing.assert_allclose(got, want, **tol(dtype))  # NaN where NaN
    assert got[0, 0] == 0.5 and got[0, -3] == 1.0 and got[0, -2] == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_inplace_add_bias_sigmoid(shape, dtype):
    z = data(shape, dtype, 1)  # (n_out, m): a column per example
    b = data((shape[0],), dtype, 2)
    z1, z2 = z.copy(), z.copy()
    a1, a2 = np.empty_like(z), np.empty_like(z)
    K.inplace_add_bias_sigmoid(z1, b, a1)
    N.inplace_add_bias_sigmoid(z2, b, a2)
    assert np.array_equal(z1, z2)  # one addition each: bit-identical
    assert np.array_equal(z1, z + b[:, None])  # the bias of row j on row j
    np.testing.assert_allclose(a1, a2, **tol(dtype))


@pytest.mark.parametrize("name", ["quadratic_delta_into", "cross_entropy_delta_into"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_output_deltas(name, shape, dtype):
    rng = np.random.default_rng(3)
    a = rng.random(shape).astype(dtype)
    a.flat[0] = 0.0
    a.flat[-1] = 1.0
    y = (rng.random(shape) < 0.2).astype(dtype)
    d1, d2 = np.empty_like(a), np.empty_like(a)
    getattr(K, name)(a, y, d1)
    getattr(N, name)(a, y, d2)
    np.testing.assert_allclose(d1, d2, **tol(dtype))


def test_quadratic_delta_value():
    a = np.array([[0.25, 0.75]])
    y = np.array([[0.0, 1.0]])
    d = np.empty_like(a)
    K.quadratic_delta_into(a, y, d)
    np.testing.assert_allclose(d, [[0.25 * 0.1875, -0.25 * 0.1875]], rtol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_inplace_sigmoid_prime_mul(shape, dtype):
    rng = np.random.default_rng(4)
    wtd = (rng.standard_normal(shape) * 3).astype(dtype)
    a = rng.random(shape).astype(dtype)
    w1, w2 = wtd.copy(), wtd.copy()
    K.inplace_sigmoid_prime_mul(w1, a)
    N.inplace_sigmoid_prime_mul(w2, a)
    np.testing.assert_allclose(w1, w2, **tol(dtype))


@pytest.mark.parametrize("decay", [1.0, 0.9995])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 10, 23520])
def test_inplace_sgd_update(n, dtype, decay):
    rng = np.random.default_rng(5)
    w = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    w1, w2 = w.copy(), w.copy()
    g_before = g.copy()
    K.inplace_sgd_update(w1, g, decay, 0.3)
    N.inplace_sgd_update(w2, g, decay, 0.3)
    np.testing.assert_allclose(w1, w2, rtol=1e-15 if dtype == np.float64 else 1e-6, atol=1e-7)
    np.testing.assert_allclose(w1, decay * w - 0.3 * g, rtol=1e-6, atol=1e-6)
    assert np.array_equal(g, g_before)


# ---- the fused epoch kernel's pieces, each against a numpy expression of the same math ----

BLOCK_SHAPES = [(1, 1, 3), (2, 2, 5), (4, 3, 7), (5, 4, 9), (6, 5, 16), (7, 7, 33),
                (10, 30, 784), (11, 10, 30), (33, 6, 20), (64, 3, 8)]  # (r, n_out, n_in)


# every dense-layer kernel and its 512-bit twin: both must pass every test of
# the kernel (where the CPU has no AVX-512 the twin is the same code: not
# compiled twice)
TWINS = pytest.mark.parametrize("twin", [
    "", pytest.param("_v512", marks=pytest.mark.skipif(
        not K.AVX512, reason="no AVX-512: the 512-bit twin is the same code"))])


def _fused_tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)


# The dense-layer kernels below are called as the training kernels call them:
# the output (or D) a block of a larger array, sliced in compiled code (numba
# types it 'A', where a view passed from Python with one row is 'C'), the
# inputs read-only. So they run the specialisation training compiles, not one
# more of their own (3-4 s of compiling each, in a cold run of the suite).
@numba.njit
def _forward_as_trained(kernel, A, rows, r, W, b, Out, i0, i1, j0, j1, last):
    kernel(A, rows, r, W, b, Out[i0:i1, j0:j1], last)


@numba.njit
def _update_as_trained(kernel, D, A, rows, r, W, b, decay, neg_step, P, own):
    # D's columns as a block of wider rows (a thread's neurons), as training passes them
    wider = np.zeros((D.shape[0], D.shape[1] + 3), D.dtype)
    wider[:, 2:D.shape[1] + 2] = D
    kernel(wider[:, 2:D.shape[1] + 2], A, rows, r, W, b, decay, neg_step, P, own)


def _read_only(a):
    a.setflags(write=False)
    return a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r, n_out, n_in", BLOCK_SHAPES + [(53, 14, 784), (100, 16, 784),
                                                           (12, 33, 100), (105, 70, 300),
                                                           (20, 130, 48), (7, 9, 17)])
def test_forward_layer_outer_matches_numpy_and_writes_only_its_block(r, n_out, n_in, dtype):
    # panels of OUTER_VECTORS vectors of neurons (the last one partial) and
    # blocks of 5 examples (then one at a time); Out a block of a wider array
    rng = np.random.default_rng(r * 100 + n_out)
    A = _read_only(rng.random((r + 7, n_in)).astype(dtype))
    rows = rng.permutation(r + 7)[:r]
    W = (rng.standard_normal((n_out, n_in)) * 2).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    wider = np.full((r + 2, n_out + 5), np.nan, dtype)
    scratch = np.empty(K.OUTER_MAX_IN * K.OUTER_VECTORS * 16, dtype)
    _forward_as_trained(K._forward_layer_outer, A, rows, r, W, b, wider, 1, r + 1, 2, n_out + 2,
                        scratch)
    z = A[rows].astype(np.float64) @ W.T.astype(np.float64) + b
    # each output is one chain of n_in + 1 roundings: within the a priori
    # bound of such a sum, (n_in + 1) u (|A| |W|^T + |b|), elementwise
    bound = (n_in + 1) * np.finfo(dtype).eps / 2 * (
        np.abs(A[rows]).astype(np.float64) @ np.abs(W.T).astype(np.float64) + np.abs(b))
    err = np.abs(wider[1:r + 1, 2:n_out + 2] - z)
    assert np.all(err <= bound), float(np.max(err / bound))
    wider[1:r + 1, 2:n_out + 2] = np.nan
    assert np.all(np.isnan(wider))  # nothing written outside the block


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r, n_out, n_in", BLOCK_SHAPES)
@TWINS
def test_forward_layer_matches_numpy(r, n_out, n_in, dtype, twin):
    rng = np.random.default_rng(r * 100 + n_out)
    A = _read_only(rng.random((r + 7, n_in)).astype(dtype))
    rows = rng.permutation(r + 7)[:r]
    W = (rng.standard_normal((n_out, n_in)) * 2).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    out = np.full((r, n_out), np.nan, dtype)
    # z; callers take sigmoids
    _forward_as_trained(getattr(K, "_forward_layer" + twin), A, rows, r, W, b, out, 0, r, 0, n_out,
                        dtype(0))
    getattr(K, "_inplace_sigmoid" + twin)(out, 0, r, 0, n_out)
    want = N.sigmoid_into  # the twin of the activation
    z = A[rows].astype(np.float64) @ W.T.astype(np.float64) + b
    expect = np.empty_like(z)
    want(z, expect)
    np.testing.assert_allclose(out, expect, **_fused_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r, n_out, n_in", [(1, 7, 784), (5, 4, 9), (10, 30, 784), (12, 5, 33)])
@TWINS
def test_forward_layer_rows_past_r_are_only_fetched(r, n_out, n_in, dtype, twin):
    # the fused kernel passes the input layer its rows and the next
    # mini-batch's first few: those must change no output, and no row of Out
    # past r may be written
    rng = np.random.default_rng(r + n_out)
    A = _read_only(rng.random((r + 9, n_in)).astype(dtype))
    rows = rng.permutation(r + 9)
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    outs = []
    for extra in (0, 1, 5):
        out = np.full((r + 3, n_out), np.nan, dtype)
        _forward_as_trained(getattr(K, "_forward_layer" + twin), A, rows[:r + extra], r, W, b, out,
                            0, r + 3, 0, n_out, dtype(0))
        assert np.all(np.isnan(out[r:])) and not np.any(np.isnan(out[:r]))
        outs.append(out[:r])
    assert all(np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("i0, i1, j0, j1", [(0, 7, 0, 30), (2, 5, 0, 30), (1, 6, 4, 22),
                                            (0, 7, 0, 1), (3, 3, 0, 30)])
@TWINS
def test_inplace_sigmoid_touches_only_its_block_and_matches_numpy(i0, i1, j0, j1, dtype, twin):
    # whole rows take a flat loop, a block of columns (a thread's neurons) a loop per row
    rng = np.random.default_rng(i0 + 10 * j0)
    z = (rng.standard_normal((7, 30)) * 30).astype(dtype)
    z[0, :3] = [-1e300 if dtype == np.float64 else -3e38, 800.0, 0.0]
    out = z.copy()
    getattr(K, "_inplace_sigmoid" + twin)(out, i0, i1, j0, j1)
    expect = z.copy()
    block = np.empty_like(z[i0:i1, j0:j1])
    N.sigmoid_into(z[i0:i1, j0:j1], block)
    expect[i0:i1, j0:j1] = block
    tol = dict(rtol=1e-15, atol=0) if dtype == np.float64 else dict(rtol=1e-6, atol=0)
    np.testing.assert_allclose(out, expect, **tol)
    outside = np.ones(z.shape, bool)
    outside[i0:i1, j0:j1] = False
    assert np.array_equal(out[outside], z[outside])


@pytest.mark.parametrize("decay", [1.0, 0.99])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r, n_out, n_in", BLOCK_SHAPES)
@TWINS
def test_update_layer_matches_numpy(r, n_out, n_in, dtype, decay, twin):
    rng = np.random.default_rng(r * 7 + n_in)
    D = rng.standard_normal((r, n_out)).astype(dtype)
    A = _read_only(rng.random((r + 3, n_in)).astype(dtype))
    rows = rng.permutation(r + 3)[:r]
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    W0, b0 = W.astype(np.float64), b.astype(np.float64)
    step = 0.3 / r
    D64, A64 = D.astype(np.float64), A[rows].astype(np.float64)
    _update_as_trained(getattr(K, "_update_layer" + twin), D, A, rows, r, W, b, decay, dtype(-step),
                       _update_scratch(dtype), True)
    np.testing.assert_allclose(W, decay * W0 - step * D64.T @ A64, **_fused_tol(dtype))
    np.testing.assert_allclose(b, b0 - step * D64.sum(axis=0), **_fused_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r, n_out, n_in", BLOCK_SHAPES)
@TWINS
def test_backward_delta_matches_numpy(r, n_out, n_in, dtype, twin):
    rng = np.random.default_rng(r + n_out + n_in)
    D = rng.standard_normal((r, n_out)).astype(dtype)
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    Aprev = rng.random((r, n_in)).astype(dtype)
    out = np.full((r, n_in), np.nan, dtype)
    getattr(K, "_backward_delta" + twin)(D, r, W, Aprev, out, dtype(0))
    expect = D.astype(np.float64) @ W.astype(np.float64)
    N.inplace_sigmoid_prime_mul(expect, Aprev.astype(np.float64))
    np.testing.assert_allclose(out, expect, **_fused_tol(dtype))


def _fma_chain(d, w):
    """sum_j d[j] w[j] as fma(d[j], w[j], s) from +0.0: each step exact, then rounded once."""
    return _fma_steps(0.0, d, w)


# Layers of SPLIT_MIN_WEIGHTS (8192) weights or more go in panels of 5 examples
# and two vectors of columns (8 float64 columns, 16 in the 512-bit twin), with
# leftover examples and columns; smaller ones in plain loops
@pytest.mark.parametrize("r, n_out, n_in", [(7, 4, 19), (12, 30, 10), (7, 100, 90), (11, 128, 70)])
@TWINS
def test_backward_delta_sums_each_term_in_order_with_one_rounding(r, n_out, n_in, twin):
    # The register panels and the plain loops for the leftovers must give
    # the same bits (a thread's share of the examples decides which one an
    # example meets): both are one fused multiply-add per term, in order of j.
    rng = np.random.default_rng(r * n_in)
    D = rng.standard_normal((r, n_out))
    W = rng.standard_normal((n_out, n_in))
    out = np.full((r, n_in), np.nan)
    # a(1 - a) = 1/4: exact
    getattr(K, "_backward_delta" + twin)(D, r, W, np.full((r, n_in), 0.5), out, 0.0)
    expect = np.array([[_fma_chain(D[i], W[:, k]) / 4 for k in range(n_in)] for i in range(r)])
    assert np.array_equal(out, expect)
    if r * n_out >= 90:  # the check can tell: a multiply and an add, rounded apart, differ
        rounded_twice = np.array([[sum((float(a) * float(b) for a, b in zip(D[i], W[:, k])), 0.0)
                                   / 4 for k in range(n_in)] for i in range(r)])
        assert not np.array_equal(out, rounded_twice)


def _update_scratch(dtype):
    return np.full((K.UPDATE_CHUNK, K.UPDATE_NEURONS), np.nan, dtype)


def _fma_steps(w, p, a):
    """fma(p[i], a[i], w) for each i in turn: each step exact, then rounded once."""
    for x, y in zip(p, a):
        w = float(Fraction(w) + Fraction(float(x)) * Fraction(float(y)))
    return w


# Register panels (from UPDATE_PANEL_MIN_M examples and UPDATE_PANEL_MIN_IN
# inputs): UPDATE_NEURONS (8 with AVX-512, else 6), its half, quarter and 1
# neurons (10 = 8 + 2 or 6 + 3 + 1; 15 = 8 + 4 + 2 + 1 or 6 + 6 + 3), two
# vectors of columns, one, single columns, and chunks of UPDATE_CHUNK and a
# part (float64); below (fewer inputs, fewer examples: UPDATE_PANEL_MIN_M is 2
# with AVX-512, else 50), 3 x 5 blocks of scalar multiply-adds, with leftover
# neurons and examples
@pytest.mark.parametrize("r, n_out, n_in", [(52, 10, 76), (50, 4, 66), (51, 15, 70), (7, 13, 80),
                                            (1, 9, 70), (45, 10, 23), (7, 13, 16), (1, 4, 5),
                                            (3, 7, 9)])
@TWINS
# own: a hidden layer's panels also ask for the weights ahead, for writing
@pytest.mark.parametrize("own", [False, True])
def test_update_layer_adds_each_example_in_order_with_one_rounding(r, n_out, n_in, twin, own):
    # Every weight, in a panel or in the loop for the leftover columns,
    # whichever thread's block holds its neuron, must meet the same chain:
    # one fused multiply-add per example, in order, from the weight itself.
    rng = np.random.default_rng(r + n_out * n_in)
    D = rng.standard_normal((r, n_out))
    A = _read_only(rng.random((r + 2, n_in)))
    rows = rng.permutation(r + 2)[:r]
    W = rng.standard_normal((n_out, n_in))
    W0 = W.copy()
    neg_step = -0.3 / r
    P = neg_step * D
    D0 = D.copy()
    _update_as_trained(getattr(K, "_update_layer" + twin), D, A, rows, r, W, np.zeros(n_out), 1.0,
                       neg_step, _update_scratch(np.float64), own)
    assert np.array_equal(D, D0)
    expect = np.array([[_fma_steps(W0[j, k], P[:, j], A[rows, k]) for k in range(n_in)]
                       for j in range(n_out)])
    assert np.array_equal(W, expect)
    if r >= 3:  # the check can tell: a multiply and an add, rounded apart, differ
        twice = W0.copy()
        for i in range(r):
            twice += np.outer(P[i], A[rows[i]])
        assert not np.array_equal(W, twice)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 5, 256, 257, 1000])
def test_forward_rows_fused_matches_numpy(n, dtype):
    rng = np.random.default_rng(n)
    sizes = [12, 9, 7, 4]
    X = rng.random((n, sizes[0])).astype(dtype)
    Ws = tuple((rng.standard_normal((o, i)) * 3).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:]))
    bs = tuple(rng.standard_normal(o).astype(dtype) for o in sizes[1:])
    out = np.full((n, sizes[-1]), np.nan, dtype)
    K.forward_rows_fused(*_kernel_inputs(X, sizes, dtype), np.array(sizes), _packed(Ws),
                         _packed(bs), out, np.zeros(1, dtype), 0, 1, np.zeros(8, np.int64))
    a = X.astype(np.float64)
    for W, b in zip(Ws, bs):
        z = a @ W.T.astype(np.float64) + b
        a = np.empty_like(z)
        N.sigmoid_into(z, a)
    np.testing.assert_allclose(out, a, **_fused_tol(dtype))


@pytest.mark.skipif(not K._X86, reason="the SSE control register is x86's")
def test_flush_subnormals_sets_the_threads_mode_and_restore_gives_it_back():
    half = np.float32(0.5)
    tiny = np.float32(1e-38)  # under float32's smallest normal number, 1.18e-38
    assert tiny * half == np.float32(5e-39)  # gradual underflow: a subnormal result
    mode = K.flush_subnormals()
    try:
        flushed = tiny * half  # numpy on this thread, in the fused kernels' mode
        read_as_zero = np.float32(5e-39) + np.float32(0.0)  # a subnormal input counts as 0
    finally:
        K.restore_fp_mode(mode)
    assert flushed == 0 and read_as_zero == 0
    assert tiny * half == np.float32(5e-39)  # the caller's mode is back
    assert K.flush_subnormals() == mode  # ... exactly as it was
    K.restore_fp_mode(mode)


@numba.njit(cache=False)
def _views_of_a_buffer(n):
    buf = np.empty(n)
    view = K._unowned(buf)
    for i in range(n):
        view[i] = i + 0.5
    # arrays of the same size allocated now would reuse the memory of a freed
    # buffer (without the _keep_alive below, s comes out -1000.0)
    total = 0.0
    for _ in range(20):
        other = np.full(n, -1.0)
        total += other[0]
    s = 0.0
    for i in range(n):
        s += view[i]
    K._keep_alive(buf)
    return s, total


def test_unowned_view_writes_through_and_its_buffer_stays_alive_to_the_last_use():
    n = 1000
    s, total = _views_of_a_buffer(n)
    assert total == -20.0
    assert s == sum(i + 0.5 for i in range(n))


@numba.njit(cache=False)
def _shaped(flat, n0, n1):
    a = K._as_2d(flat, n0, n1)
    a[n0 - 1, n1 - 1] = -7.0
    b = K._as_1d(a)
    return a.shape[0], a.shape[1], a.strides[0], a.strides[1], b.shape[0], b[b.shape[0] - 1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_as_2d_and_as_1d_are_views_of_the_same_memory_as_reshape(dtype):
    flat = np.arange(12, dtype=dtype)
    n0, n1, s0, s1, n, last = _shaped(flat, 3, 4)
    ref = flat.reshape(3, 4)
    assert (n0, n1) == ref.shape and (s0, s1) == ref.strides
    assert n == 12 and last == -7.0
    assert flat[11] == -7.0  # written through the view

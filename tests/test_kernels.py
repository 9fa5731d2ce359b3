"""Every numba kernel against its plain numpy twin (stumpy's naive.py pattern)."""

import warnings

import numpy as np
import pytest

from nnvec import _kernels as K
from nnvec import _numpy_kernels as N

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


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_inplace_add_bias_sigmoid(shape, dtype):
    z = data(shape, dtype, 1)
    b = data((shape[1],), dtype, 2)
    z1, z2 = z.copy(), z.copy()
    a1, a2 = np.empty_like(z), np.empty_like(z)
    K.inplace_add_bias_sigmoid(z1, b, a1)
    N.inplace_add_bias_sigmoid(z2, b, a2)
    assert np.array_equal(z1, z2)  # one addition each: bit-identical
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

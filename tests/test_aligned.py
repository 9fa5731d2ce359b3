"""Buffers on cache lines: the kernels' packed arrays, MNIST's images and check_X's copies."""

import numpy as np
import pytest

from nnvec import _validation as V
from nnvec._aligned import LINE_BYTES, aligned_copy, empty_aligned, zeros_aligned
from nnvec.engine import _inplace_unpack, _packed


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8])
@pytest.mark.parametrize("shape", [1, 7, (3, 5), (1000, 784), (0, 4)])
def test_empty_and_zeros_aligned_start_on_a_line(shape, dtype):
    for make in (empty_aligned, zeros_aligned):
        a = make(shape, dtype)
        assert a.shape == (shape if isinstance(shape, tuple) else (shape,))
        assert a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
        assert a.size == 0 or a.ctypes.data % LINE_BYTES == 0  # no data: any address
    assert not zeros_aligned(shape, dtype).any()


def test_align_must_be_a_multiple_of_the_item_size():
    with pytest.raises(ValueError, match="not a multiple"):
        empty_aligned(4, np.float64, align=12)


def test_aligned_copy_copies_only_when_needed():
    rng = np.random.default_rng(0)
    X = rng.random((50, 30))
    assert aligned_copy(X, np.float64) is X  # the caller's array, as it is
    for src, dtype in [(X, np.float32), (np.asfortranarray(X), np.float64), (X[:, ::2], np.float64),
                       ((X * 255).astype(np.uint8), np.float64), (X.tolist(), np.float64),
                       (X.astype(">f8"), np.float64)]:
        out = aligned_copy(src, dtype)
        assert out.ctypes.data % LINE_BYTES == 0 and out.flags.c_contiguous
        assert out.dtype == dtype
        assert np.array_equal(out, np.ascontiguousarray(src, dtype=dtype))
        assert not np.shares_memory(out, np.asarray(src))


def test_check_x_converts_into_an_aligned_copy():
    X = np.random.default_rng(1).random((20, 6))
    assert V.check_X(X, 6, np.float64) is X
    out = V.check_X(X, 6, np.float32)
    assert out.ctypes.data % LINE_BYTES == 0 and np.array_equal(out, X.astype(np.float32))


def test_packed_weights_start_on_a_line_and_unpack_to_the_same_values():
    rng = np.random.default_rng(2)
    ws = [rng.standard_normal((30, 784)), rng.standard_normal((10, 30))]
    flat = _packed(ws)
    assert flat.ctypes.data % LINE_BYTES == 0
    assert np.array_equal(flat, np.concatenate([w.ravel() for w in ws]))
    back = [np.zeros_like(w) for w in ws]
    _inplace_unpack(flat, back)
    assert all(np.array_equal(a, b) for a, b in zip(ws, back))


def test_mnist_images_start_on_a_line(mnist):
    for X, _ in mnist:
        assert X.ctypes.data % LINE_BYTES == 0

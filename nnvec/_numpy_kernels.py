"""Plain numpy twins of the kernels in ``nnvec._kernels``.

Same names, same signatures, same contract (write into the caller's arrays).
The ``engine="numpy"`` path runs these; the tests check every numba kernel
against its twin here.
"""

import numpy as np

from .activations import sigmoid


def sigmoid_into(z, out):
    """out = sigmoid(z)."""
    out[...] = sigmoid(z)


def inplace_add_bias_sigmoid(z, b, a):
    """z += b[:, None] (z is (n_out, m)); a = sigmoid(z)."""
    z += b[:, None]
    a[...] = sigmoid(z)


def quadratic_delta_into(a, y, delta):
    """delta = (a - y) * a * (1 - a)."""
    np.subtract(a, y, out=delta)
    delta *= a * (1 - a)


def cross_entropy_delta_into(a, y, delta):
    """delta = a - y."""
    np.subtract(a, y, out=delta)


def inplace_sigmoid_prime_mul(wtd, a):
    """wtd *= a * (1 - a)."""
    wtd *= a * (1 - a)


def inplace_sgd_update(w, nabla, decay, step):
    """w = decay * w - step * nabla."""
    if decay != 1.0:
        w *= decay
    w -= step * nabla


def encode_nonzero_into(images, indptr, steps, vals):
    """``SparseImages``' step encoding of uint8 rows; returns the number of entries."""
    n, n_features = images.shape
    flat = images.reshape(-1)
    # Positions in the flattened images: within a row a pixel's step is the
    # difference of positions; a row's first step is its column.
    idx = np.flatnonzero(flat)
    counts = np.count_nonzero(images, axis=1).astype(np.int64)
    gaps = np.empty(len(idx), np.int64)
    np.subtract(idx[1:], idx[:-1], out=gaps[1:])
    ends = np.cumsum(counts)
    firsts = (ends - counts)[counts > 0]
    gaps[firsts] = idx[firsts] % n_features
    # A gap over 255 gets (step 255, intensity 0) entries in front of it.
    wide = np.flatnonzero(gaps > 255)
    bridges = (gaps[wide] - 1) // 255
    gaps[wide] -= 255 * bridges
    at = np.repeat(wide, bridges)
    counts += np.bincount(np.searchsorted(ends, wide, side="right"), weights=bridges,
                          minlength=n).astype(np.int64)
    e = int(counts.sum())
    steps[:e] = np.insert(gaps.astype(np.uint8), at, 255)
    vals[:e] = np.insert(flat[idx], at, 0)
    indptr[0] = 0
    np.cumsum(counts, out=indptr[1:])
    return e

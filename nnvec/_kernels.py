"""Every numba-jitted kernel of nnvec, in one place.

Rules of this module: arrays and scalars in, results written into arrays the
caller owns; no validation, no globals, no allocation in the per-batch
kernels. Each kernel has a plain numpy twin of the same name and signature in
``nnvec._numpy_kernels``, which the tests compare it against and which the
``engine="numpy"`` path runs. Callers pass C-contiguous float32 or float64
arrays of matching dtype.

Every function here is a top-level ``def`` with its own name, so numba's
on-disk cache (``cache=True``) keys each one separately.
"""

import math

import numba

#: numba flags, set once. fastmath is off: the matrix engine must reproduce the
#: per-example reference to 1e-12, and the sigmoid relies on IEEE inf/0.
_JIT = dict(nogil=True, cache=True, fastmath=False)
jit = numba.njit(**_JIT)


@jit
def _sigmoid_scalar(z):
    # exp(-|z|) is in (0, 1]: no overflow for any finite z.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@jit
def sigmoid_into(z, out):
    """out[i, j] = sigmoid(z[i, j]) for 2-D ``z`` and ``out`` (may alias)."""
    n, k = z.shape
    for i in range(n):
        for j in range(k):
            out[i, j] = _sigmoid_scalar(z[i, j])


@jit
def inplace_add_bias_sigmoid(z, b, a):
    """Fused forward step: ``z += b`` (row-broadcast), then ``a = sigmoid(z)``.

    ``z`` is (m, n_out), ``b`` is (n_out,), ``a`` is (m, n_out). One pass over
    memory instead of two; ``z`` keeps the weighted inputs for backprop.
    """
    m, k = z.shape
    for i in range(m):
        for j in range(k):
            zz = z[i, j] + b[j]
            z[i, j] = zz
            a[i, j] = _sigmoid_scalar(zz)


@jit
def quadratic_delta_into(a, y, delta):
    """BP1, quadratic cost: ``delta = (a - y) * a * (1 - a)`` (sigma' from a)."""
    m, k = a.shape
    for i in range(m):
        for j in range(k):
            aa = a[i, j]
            delta[i, j] = (aa - y[i, j]) * (aa * (1 - aa))


@jit
def cross_entropy_delta_into(a, y, delta):
    """BP1, cross-entropy cost with sigmoid outputs: ``delta = a - y``."""
    m, k = a.shape
    for i in range(m):
        for j in range(k):
            delta[i, j] = a[i, j] - y[i, j]


@jit
def inplace_sigmoid_prime_mul(wtd, a):
    """BP2's Hadamard product: ``wtd *= a * (1 - a)``, ``wtd = delta^{l+1} W^{l+1}``."""
    m, k = wtd.shape
    for i in range(m):
        for j in range(k):
            aa = a[i, j]
            wtd[i, j] = wtd[i, j] * (aa * (1 - aa))


@jit
def inplace_sgd_update(w, nabla, decay, step):
    """``w = decay * w - step * nabla`` over flat 1-D views (weights or biases).

    ``decay = 1 - eta * lmbda / n`` (L2 weight decay; 1 for biases) and
    ``step = eta / m``, as in the book's update rule.
    """
    if decay == 1.0:
        for i in range(w.shape[0]):
            w[i] = w[i] - step * nabla[i]
    else:
        for i in range(w.shape[0]):
            w[i] = decay * w[i] - step * nabla[i]

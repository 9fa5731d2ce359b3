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

"""The sigmoid and its derivative in plain numpy.

These are the readable versions of the math. The per-example reference engine
uses them directly, and they are the twins every numba kernel in
``nnvec._kernels`` is tested against.
"""

import numpy as np


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, elementwise.

    Computed from ``exp(-|z|)``, which lies in (0, 1], so it never overflows
    and never warns for any finite ``z`` (the book's eta = 100 run drives
    ``|z|`` into the thousands).

    Parameters
    ----------
    z : ndarray of any shape, floating point

    Returns
    -------
    ndarray of the same shape and dtype as ``z``, values in [0, 1].
    """
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_prime(z):
    """Derivative of the sigmoid, ``sigmoid(z) * (1 - sigmoid(z))``."""
    s = sigmoid(z)
    return s * (1 - s)


def sigmoid_prime_from_a(a):
    """Derivative of the sigmoid given its output ``a = sigmoid(z)``.

    Backprop already holds every layer's activation, so this saves a second
    pass of exponentials over ``z``; it is bit-identical to
    ``sigmoid_prime(z)`` because both compute ``s * (1 - s)`` from the same
    ``s``.
    """
    return a * (1 - a)


"""Finite-difference gradient check (section 2.8's alternative to backprop)."""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _validation as V
from .activations import sigmoid


def _objective(net, X, Y, lmbda, n):
    """Summed cost over the batch, plus the L2 term matching the SGD update.

    The update ``w <- (1 - eta*lmbda/n) w - (eta/m) nabla_w`` is gradient
    descent (step eta/m) on ``sum_x C_x + (m*lmbda/(2n)) ||w||^2``.
    Computed with a plain float64 forward pass, independent of the engines.
    """
    a = X
    for b, w in zip(net.biases, net.weights):
        a = sigmoid(a @ w.astype(np.float64).T + b.astype(np.float64))
    c = net.cost.fn(a, Y)
    if lmbda:
        m = len(X)
        c += 0.5 * m * lmbda / n * sum(float(np.sum(w.astype(np.float64) ** 2))
                                        for w in net.weights)
    return c


def _rel_error(num, ana):
    denom = np.linalg.norm(num) + np.linalg.norm(ana)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(num - ana) / denom)


def gradient_check(net: Any, X: ArrayLike, Y: ArrayLike, eps: float = 1e-6, lmbda: float = 0.0,
                   n: int | None = None) -> float:
    """Compare backprop's gradient with central finite differences.

    Every weight and bias is perturbed by ``+-eps`` in turn and the change
    of the summed cost measured (two forward passes per parameter, which is
    why section 2.8 says backprop is so much faster).

    Parameters
    ----------
    net : Network, ReferenceNetwork or ColumnNetwork
        Its parameters are perturbed and restored exactly.
    X : ndarray of shape (m, n_in)
    Y : ndarray of shape (m, n_out) targets, or labels of shape (m,)
    eps : float, default 1e-6
    lmbda : float, default 0, L2 strength (book convention)
    n : int, optional, training-set size for the L2 term (default m)

    Returns
    -------
    float
        The largest relative error over the parameter arrays,
        ``||g_fd - g_bp|| / (||g_fd|| + ||g_bp||)`` per array. About 1e-9 or
        less when backprop is right (float64).

    Raises
    ------
    ValueError
        For bad shapes, labels or hyper-parameters.
    """
    Xv = V.check_X(X, net.sizes[0], np.float64)
    Yv, _ = V.check_targets(Y, len(Xv), net.sizes[-1], np.float64, name="Y")
    eps = V.check_positive_float(eps, "eps")
    lmbda = V.check_nonneg_float(lmbda, "lmbda")
    n = len(Xv) if n is None else V.check_positive_int(n, "n")
    nabla_b, nabla_w = net._backprop_batch(Xv.astype(net.dtype), Yv.astype(net.dtype))
    m = len(Xv)
    worst = 0.0
    for params, grads, decay in ((net.biases, nabla_b, False), (net.weights, nabla_w, True)):
        for p, g in zip(params, grads):
            g = np.asarray(g, dtype=np.float64).reshape(p.shape)
            if decay and lmbda:
                g = g + (m * lmbda / n) * p
            num = np.empty(p.shape, dtype=np.float64)
            flat = p.reshape(-1)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + eps
                c_plus = _objective(net, Xv, Yv, lmbda, n)
                flat[i] = old - eps
                c_minus = _objective(net, Xv, Yv, lmbda, n)
                flat[i] = old
                num.reshape(-1)[i] = (c_plus - c_minus) / (2 * eps)
            worst = max(worst, _rel_error(num, g))
    return worst

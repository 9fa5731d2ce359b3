"""Small shared test inputs (a plain module: both tests/ and benchmarks/
have a conftest.py, so helpers cannot be imported from ``conftest``)."""

import numpy as np


def random_problem(sizes, m, seed):
    """A small random classification batch: X in [0, 1), integer labels."""
    rng = np.random.default_rng(seed)
    X = rng.random((m, sizes[0]))
    y = rng.integers(0, sizes[-1], size=m)
    return X, y


def onehot(y, k):
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y

"""Data adapters: the book's lists of ``(x, y)`` pairs or ``(X, y)`` arrays,
validated once and turned into the rows layout every engine trains on."""

import numpy as np

from . import _validation as V


def is_book_pair_list(data, n_in):
    """True for the book's format: a sequence of (x, y) with x of shape (n_in, 1)."""
    try:
        first = data[0]
        x = np.asarray(first[0])
    except (TypeError, IndexError, KeyError):
        return False
    return len(first) == 2 and x.shape == (n_in, 1)


def as_arrays(data, name, n_in, n_out, dtype, sparse_ok=False):
    """Validated ``(X, Y, labels)`` from book-format or ``(X, y)`` data.

    Returns
    -------
    X : ndarray of shape (n_samples, n_in), C-contiguous, ``dtype`` (or the
        ``SparseImages`` given, with ``sparse_ok``)
    Y : ndarray of shape (n_samples, n_out), one-hot targets, ``dtype``
    labels : ndarray of shape (n_samples,), int64

    Raises
    ------
    ValueError, TypeError
        For empty data, wrong shapes or dtypes, NaN/inf, labels out of range.
    """
    if data is None:
        raise ValueError(f"{name} is None; pass (X, y) arrays or the book's list of (x, y)")
    if not isinstance(data, (list, tuple)):
        data = list(data)  # the book's zip objects
    if len(data) == 0:
        raise ValueError(f"{name} is empty; pass at least one sample")
    if is_book_pair_list(data, n_in):
        xs, ys = [], []
        for i, pair in enumerate(data):
            if len(pair) != 2:
                raise ValueError(f"{name}[{i}] is not an (x, y) pair")
            x = np.asarray(pair[0])
            if x.shape != (n_in, 1):
                raise ValueError(
                    f"{name}[{i}][0] has shape {x.shape}; the book's format needs "
                    f"column vectors of shape ({n_in}, 1)")
            xs.append(x[:, 0])
            yv = np.asarray(pair[1])
            ys.append(yv[:, 0] if yv.ndim == 2 and yv.shape[1] == 1 and yv.shape[0] > 1 else yv)
        X = V.check_X(np.asarray(xs), n_in, dtype, name=f"{name} inputs")
        Y, labels = V.check_targets(np.asarray(ys), len(X), n_out, dtype, name=f"{name} targets")
        return X, Y, labels
    if len(data) != 2:
        raise ValueError(
            f"{name} must be a pair (X, y) with X of shape (n_samples, {n_in}), or "
            f"the book's list of (x, y) with x of shape ({n_in}, 1)")
    X = V.check_X(data[0], n_in, dtype, name=f"{name} X", sparse_ok=sparse_ok)
    Y, labels = V.check_targets(data[1], len(X), n_out, dtype, name=f"{name} y")
    return X, Y, labels

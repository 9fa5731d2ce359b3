"""Checks at the edge, shared by the engines, the model files and the CLI.

Every public entry point validates its input here once, then converts it to
the dtype and layout the kernels want; nothing below this layer re-checks.
Each error names what was wrong and how to fix it.
"""

import numbers
import operator

import numpy as np

from ._aligned import aligned_copy
from .sparse import SparseImages

DTYPES = {"float64": np.float64, "float32": np.float32}
INITS = ("large", "default")


def check_sizes(sizes):
    """Return ``sizes`` as a tuple of ints, or raise if it is not a valid layer list."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(
            f"sizes must be a list of layer widths such as [784, 30, 10]; got {sizes!r}"
        )
    out = []
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"sizes must hold integers; got {s!r} in {list(sizes)!r}")
        out.append(int(s))
    if len(out) < 2:
        raise ValueError(
            f"sizes needs at least two layers (input and output), e.g. [784, 10]; got {out}"
        )
    if any(s <= 0 for s in out):
        raise ValueError(f"every layer width in sizes must be positive; got {out}")
    return tuple(out)


def check_dtype(dtype):
    """Return ``np.float64`` or ``np.float32`` for a dtype-like, else raise."""
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt == np.float64:
        return np.float64
    if dt == np.float32:
        return np.float32
    raise ValueError(f"dtype must be float64 or float32; got {dtype!r}")


def check_init(init):
    """Return a known initialisation name, else raise."""
    if init not in INITS:
        raise ValueError(
            f"init must be 'large' (chapter 1: N(0, 1) weights) or 'default' "
            f"(chapter 3: N(0, 1/n_in) weights); got {init!r}"
        )
    return init


def _check_int(value, name, minimum, what):
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a {what}; got {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a {what}; got {value!r}") from None
    if v < minimum:
        raise ValueError(f"{name} must be a {what} (>= {minimum}); got {v}")
    return v


def check_positive_int(value, name):
    """Return ``value`` as an int if it is an integer >= 1, else raise."""
    return _check_int(value, name, 1, "positive integer")


def check_nonneg_int(value, name):
    """Return ``value`` as an int if it is an integer >= 0, else raise."""
    return _check_int(value, name, 0, "non-negative integer")


def _as_real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {v}")
    return v


def check_positive_float(value, name):
    """Return ``value`` as a float if it is finite and > 0, else raise."""
    v = _as_real(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be positive; got {v}")
    return v


def check_nonneg_float(value, name):
    """Return ``value`` as a float if it is finite and >= 0, else raise."""
    v = _as_real(value, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0; got {v}")
    return v


def check_output_file(path, name):
    """Raise unless ``path`` can be written as a file (checked, not created).

    Why: the CLI checks every output path before it loads data or trains, so
    a typo costs a second, not a finished run.
    """
    import os
    from pathlib import Path

    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ValueError(f"{name} {path}: is a directory; give a file name")
    if not parent.is_dir():
        raise ValueError(f"{name} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ValueError(f"{name} {path}: not writable")
    return p


def check_output_dir(path, name):
    """Create ``path`` if needed and raise unless files can be written in it."""
    from pathlib import Path

    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".nnvec-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{name} {path}: cannot write there ({exc.strerror})") from None
    return p


def check_X(X, n_features, dtype, name="X", sparse_ok=False):
    """Validate a sample matrix and return a C-contiguous copy-if-needed in ``dtype``.

    The caller's array is never modified: a new array, starting on a cache
    line, is made whenever the dtype or layout differs (``_aligned.aligned_copy``),
    and the engines never write to their input.
    ``nnvec.SparseImages`` is returned as it is where the caller can train on
    it (``sparse_ok``), else as its dense array.

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        If ``X`` is not 2-D ``(n_samples, n_features)``, is empty, has the
        wrong width, or holds NaN or inf.
    """
    if isinstance(X, SparseImages):
        if len(X) == 0:
            raise ValueError(f"{name} is empty (0 samples); pass at least one sample")
        if X.n_features != n_features:
            raise ValueError(
                f"{name} has {X.n_features} features per sample but the network's input "
                f"layer has {n_features} (sizes[0])")
        return X if sparse_ok else X.toarray(dtype)
    arr = np.asarray(X)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be a numeric array; got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real; got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, {n_features}); got shape "
            f"{arr.shape}. For one sample use X.reshape(1, -1)."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 samples); pass at least one sample")
    if arr.shape[1] != n_features:
        hint = ""
        if arr.shape[0] == n_features:
            hint = " It looks transposed: nnvec takes samples as rows, so pass X.T."
        raise ValueError(
            f"{name} has {arr.shape[1]} features per sample but the network's input "
            f"layer has {n_features} (sizes[0]); got shape {arr.shape}.{hint}"
        )
    out = aligned_copy(arr, dtype)
    # One pass and no temporary: a sum is finite only if every term is (NaN
    # and inf carry through it); a sum that overflowed is looked at element
    # by element. np.all(np.isfinite(out)) took 6.5 ms for 10,000 float64
    # images against 4.0 ms (Intel Xeon), and predicting them 11.5 ms
    # against 10.5 (benchmarks/results/2026-11-29/check-x-nineteenth.txt).
    with np.errstate(over="ignore", invalid="ignore"):  # (what it finds is said below)
        total = np.add.reduce(out, axis=None)
    if not np.isfinite(total) and not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(
            f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]}); "
            "clean or impute the data before training"
        )
    return out


def check_targets(y, n_samples, n_classes, dtype, name="y"):
    """Validate labels and return ``(Y_onehot, labels)``.

    ``y`` may be integer labels of shape ``(n_samples,)`` in ``0..n_classes-1``
    or a one-hot matrix of shape ``(n_samples, n_classes)``.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_classes), ``dtype``, C-contiguous
    labels : ndarray of shape (n_samples,), int64

    Raises
    ------
    ValueError
        On a length mismatch, labels out of range, non-integer labels or a
        target matrix that is not one-hot.
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1 and n_classes != 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be labels of shape (n_samples,) or one-hot of shape "
            f"(n_samples, {n_classes}); got shape {arr.shape}"
        )
    if arr.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have different lengths: {n_samples} samples but "
            f"{arr.shape[0]} targets"
        )
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    if arr.ndim == 1:
        if np.issubdtype(arr.dtype, np.floating):
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValueError(
                    f"{name} labels must be whole numbers 0..{n_classes - 1}; "
                    "got non-integer values"
                )
        labels = arr.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            bad = labels[(labels < 0) | (labels >= n_classes)][0]
            raise ValueError(
                f"{name} has label {bad} outside 0..{n_classes - 1}; the output layer "
                f"has {n_classes} neurons, so labels must lie in that range"
            )
        Y = np.zeros((n_samples, n_classes), dtype=dtype)
        Y[np.arange(n_samples), labels] = 1
        return Y, labels
    if arr.shape[1] != n_classes:
        raise ValueError(
            f"one-hot {name} has {arr.shape[1]} columns but the output layer has "
            f"{n_classes} neurons; got shape {arr.shape}"
        )
    Y = np.ascontiguousarray(arr, dtype=dtype)
    if not np.all(np.isfinite(Y)):
        raise ValueError(f"{name} contains NaN or inf")
    return Y, np.argmax(Y, axis=1).astype(np.int64)

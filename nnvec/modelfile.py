"""Model files: numpy ``.npz`` (no pickle) with JSON metadata, written atomically.

Format (version 1): one ``.npz`` archive holding

- ``w0 .. w{L-1}``: weights, ``w{l}.shape == (sizes[l+1], sizes[l])``
- ``b0 .. b{L-1}``: biases, ``b{l}.shape == (sizes[l+1],)``
- ``nnvec_meta``: a 0-d unicode array with a JSON object: ``format``
  ("nnvec-model"), ``format_version``, ``sizes``, ``cost``, ``init``,
  ``dtype``, ``engine``, ``hyperparameters``, ``history``, ``nnvec_version``.

Written and read by ``nnvec._npz``: atomic (temp file, fsync, rename), and
every array header is checked against the metadata before data is read.
"""

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import _npz
from ._registry import make_network
from ._version import __version__
from .costs import COSTS, cost_name
from .history import History

FORMAT = "nnvec-model"
FORMAT_VERSION = 1
META_KEY = "nnvec_meta"
#: a network may not have more parameters than this (8 GB in float64)
MAX_PARAMS = 2**30
MAX_META_BYTES = _npz.MAX_META_BYTES


class ModelFileError(ValueError):
    """A file is not a readable nnvec model."""


def _npz_path(path):
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save(net: Any, path: str | os.PathLike) -> Path:
    """Write ``net`` to ``path`` (".npz" is appended if missing), atomically.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the network's cost has no registered name (it could not be loaded).
    """
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "nnvec_version": __version__,
        "sizes": list(net.sizes),
        "cost": cost_name(net.cost),
        "init": net.init,
        "dtype": np.dtype(net.dtype).name,
        "engine": net.engine,
        "hyperparameters": net.hyperparameters,
        "history": None if net.history is None else net.history.to_dict(),
    }
    return _npz.write_atomic(_npz_path(path), _npz.param_arrays(net.biases, net.weights),
                             meta, META_KEY)


def read(path):
    """Read and check a model file; return ``(meta, biases, weights)``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFileError
        If it is not an nnvec model, is corrupt or truncated, has a newer
        format version, or holds inconsistent shapes or non-finite values.
    """
    path = Path(path)
    if not path.is_file() and _npz_path(path).is_file():
        path = _npz_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")

    def expect(key, meta):
        shape = _npz.param_shapes(meta["sizes"]).get(key)
        return None if shape is None else (shape, meta["dtype"])

    meta, arrays = _npz.read_checked(path, META_KEY, ModelFileError, "an nnvec model",
                                     lambda meta: _check_meta(meta, path), expect)
    sizes = meta["sizes"]
    expected = set(_npz.param_shapes(sizes))
    if set(arrays) != expected:
        raise ModelFileError(
            f"{path}: arrays {sorted(arrays)} do not match sizes {sizes} "
            f"(expected {sorted(expected)})")
    biases, weights = _npz.unpack_params(arrays, len(sizes) - 1, path, ModelFileError)
    return meta, biases, weights


def check_network_meta(meta, path, error):
    """Check the network part of model or checkpoint metadata (sizes, cost, dtype)."""
    sizes = meta.get("sizes")
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and s > 0 for s in sizes)):
        raise error(f"{path}: invalid sizes {sizes!r} in metadata")
    if meta.get("cost") not in COSTS:
        raise error(f"{path}: unknown cost {meta.get('cost')!r}")
    if meta.get("dtype") not in ("float32", "float64"):
        raise error(f"{path}: unsupported dtype {meta.get('dtype')!r}")
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:
        raise error(f"{path}: sizes {sizes} claim {n_params} parameters, more "
                    f"than a model file may hold ({MAX_PARAMS})")


def _check_meta(meta, path):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an nnvec model (metadata format is not {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format version {version}, newer than this nnvec reads "
            f"({FORMAT_VERSION}); upgrade nnvec to load it")
    check_network_meta(meta, path, ModelFileError)


def load(path: str | os.PathLike, engine: str = "numba") -> Any:
    """Load a model saved with ``Network.save``.

    Parameters
    ----------
    path : path to the ``.npz`` file
    engine : {"numba", "numpy", "reference", "columns"}, default "numba"

    Returns
    -------
    Network (or the engine's class) with the saved parameters, cost, init,
    dtype, hyper-parameters and history.

    Raises
    ------
    FileNotFoundError, ModelFileError
        See ``read``.
    """
    meta, biases, weights = read(path)
    net = make_network(meta["sizes"], engine=engine, cost=meta["cost"],
                       init=meta.get("init", "large"), dtype=meta["dtype"])
    net._set_params((biases, weights))
    net.hyperparameters = meta.get("hyperparameters") or {}
    hist = meta.get("history")
    if isinstance(hist, dict):
        net.history = History.from_dict(hist)
    return net

"""Model files: numpy ``.npz`` (no pickle) with JSON metadata, written atomically.

Format (version 1): one ``.npz`` archive holding

- ``w0 .. w{L-1}``: weights, ``w{l}.shape == (sizes[l+1], sizes[l])``
- ``b0 .. b{L-1}``: biases, ``b{l}.shape == (sizes[l+1],)``
- ``nnvec_meta``: a 0-d unicode array with a JSON object: ``format``
  ("nnvec-model"), ``format_version``, ``sizes``, ``cost``, ``init``,
  ``dtype``, ``engine``, ``hyperparameters``, ``history``, ``nnvec_version``.

The file is written to a temporary file in the same directory, flushed,
fsynced and renamed over the target, so a crash never leaves a half-written
model and the previous file stays intact until the rename.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import __version__
from .costs import COSTS, cost_name

FORMAT = "nnvec-model"
FORMAT_VERSION = 1
META_KEY = "nnvec_meta"


class ModelFileError(ValueError):
    """A file is not a readable nnvec model."""


def _npz_path(path):
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save(net, path):
    """Write ``net`` to ``path`` (".npz" is appended if missing), atomically.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = _npz_path(path)
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
    arrays = {f"w{l}": w for l, w in enumerate(net.weights)}
    arrays.update({f"b{l}": b for l, b in enumerate(net.biases)})
    arrays[META_KEY] = np.array(json.dumps(meta))
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


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
    try:
        with np.load(path, allow_pickle=False) as z:
            if META_KEY not in z.files:
                raise ModelFileError(f"{path} is not an nnvec model (no {META_KEY} entry)")
            meta = json.loads(str(z[META_KEY][()]))
            arrays = {k: z[k] for k in z.files if k != META_KEY}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise ModelFileError(
            f"{path} is not a readable nnvec model (corrupt, truncated or another "
            f"format): {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an nnvec model (metadata format is not {FORMAT!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format version {version}, newer than this nnvec reads "
            f"({FORMAT_VERSION}); upgrade nnvec to load it")
    sizes = meta.get("sizes")
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and s > 0 for s in sizes)):
        raise ModelFileError(f"{path}: invalid sizes {sizes!r} in metadata")
    if meta.get("cost") not in COSTS:
        raise ModelFileError(f"{path}: unknown cost {meta.get('cost')!r}")
    if meta.get("dtype") not in ("float32", "float64"):
        raise ModelFileError(f"{path}: unsupported dtype {meta.get('dtype')!r}")
    n_layers = len(sizes) - 1
    expected = {f"w{l}" for l in range(n_layers)} | {f"b{l}" for l in range(n_layers)}
    if set(arrays) != expected:
        raise ModelFileError(
            f"{path}: arrays {sorted(arrays)} do not match sizes {sizes} "
            f"(expected {sorted(expected)})")
    weights, biases = [], []
    for l in range(n_layers):
        w, b = arrays[f"w{l}"], arrays[f"b{l}"]
        if w.shape != (sizes[l + 1], sizes[l]) or b.shape != (sizes[l + 1],):
            raise ModelFileError(
                f"{path}: layer {l} has weights {w.shape} and biases {b.shape}; sizes "
                f"{sizes} need {(sizes[l + 1], sizes[l])} and {(sizes[l + 1],)}")
        if w.dtype.name != meta["dtype"] or b.dtype.name != meta["dtype"]:
            raise ModelFileError(f"{path}: layer {l} arrays are not {meta['dtype']}")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise ModelFileError(f"{path}: layer {l} holds NaN or inf values")
        weights.append(np.ascontiguousarray(w))
        biases.append(np.ascontiguousarray(b))
    return meta, biases, weights


def load(path, engine="numba"):
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
    from ._base import History
    from .engines import make_network

    meta, biases, weights = read(path)
    net = make_network(meta["sizes"], engine=engine, cost=meta["cost"],
                       init=meta.get("init", "large"), dtype=meta["dtype"])
    for dst, src in zip(net.biases + net.weights, biases + weights):
        dst[...] = src
    net.hyperparameters = meta.get("hyperparameters") or {}
    hist = meta.get("history")
    if isinstance(hist, dict):
        fields = set(History.__dataclass_fields__)
        net.history = History(**{k: v for k, v in hist.items() if k in fields})
    return net

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
import zlib
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
    # Nothing is read or allocated on trust: every .npy header is checked
    # (against the metadata for the parameters) before its data is read, so a
    # crafted header cannot make numpy allocate terabytes.
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}
            if META_KEY not in names or len(names) != len(zf.namelist()):
                raise ModelFileError(f"{path} is not an nnvec model (no {META_KEY} entry)")
            shape, dtype = _check_header(zf, names[META_KEY], path)
            if shape != () or dtype.kind != "U" or dtype.itemsize > MAX_META_BYTES:
                raise ModelFileError(f"{path}: {META_KEY} is not a JSON string of at most "
                                     f"{MAX_META_BYTES} bytes")
            meta = json.loads(str(_read_array(zf, names[META_KEY])[()]))
            _check_meta(meta, path)
            arrays = {}
            for key, name in names.items():
                if key == META_KEY:
                    continue
                want = _expected_shape(key, meta["sizes"])
                if want is None:
                    raise ModelFileError(f"{path}: unexpected array {key!r} for sizes "
                                         f"{meta['sizes']}")

                def check(shape, dtype, key=key, want=want):
                    if shape != want or dtype != np.dtype(meta["dtype"]):
                        raise ModelFileError(
                            f"{path}: array {key!r} has shape {shape} and dtype {dtype}; "
                            f"sizes {meta['sizes']} and dtype {meta['dtype']} need "
                            f"{want} {meta['dtype']}")

                _check_header(zf, name, path, check)
                arrays[key] = _read_array(zf, name)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, TypeError,
            zlib.error, UnicodeDecodeError, NotImplementedError) as exc:
        raise ModelFileError(
            f"{path} is not a readable nnvec model (corrupt, truncated or another "
            f"format): {exc}") from None
    sizes = meta["sizes"]
    n_layers = len(sizes) - 1
    expected = {f"w{l}" for l in range(n_layers)} | {f"b{l}" for l in range(n_layers)}
    if set(arrays) != expected:
        raise ModelFileError(
            f"{path}: arrays {sorted(arrays)} do not match sizes {sizes} "
            f"(expected {sorted(expected)})")
    weights, biases = [], []
    for l in range(n_layers):
        w, b = arrays[f"w{l}"], arrays[f"b{l}"]
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise ModelFileError(f"{path}: layer {l} holds NaN or inf values")
        weights.append(np.ascontiguousarray(w))
        biases.append(np.ascontiguousarray(b))
    return meta, biases, weights


#: the metadata JSON may not be larger than this (a real one is a few kB)
MAX_META_BYTES = 16 * 2**20
#: nor may a network have more parameters than this (8 GB in float64)
MAX_PARAMS = 2**30


def _check_header(zf, name, path, check=None):
    """``(shape, dtype)`` of a member's .npy header, checked by ``check(shape,
    dtype)`` if given, then against the member's stored size."""
    info = zf.getinfo(name)
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ModelFileError(f"{path}: {name} has a .npy version {version} that nnvec "
                                 "does not write")
        offset = f.tell()
    if dtype.hasobject:
        raise ModelFileError(f"{path}: {name} holds Python objects (pickles are refused)")
    if check is not None:
        check(shape, dtype)
    nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if info.file_size != offset + nbytes:
        raise ModelFileError(
            f"{path}: {name} header promises {nbytes} bytes of data but the member holds "
            f"{info.file_size - offset}; the file is corrupt or edited")
    return shape, dtype


def _read_array(zf, name):
    with zf.open(name) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _expected_shape(key, sizes):
    if len(key) < 2 or key[0] not in "wb" or not key[1:].isdigit():
        return None
    l = int(key[1:])
    if l >= len(sizes) - 1:
        return None
    return (sizes[l + 1], sizes[l]) if key[0] == "w" else (sizes[l + 1],)


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
    sizes = meta.get("sizes")
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and s > 0 for s in sizes)):
        raise ModelFileError(f"{path}: invalid sizes {sizes!r} in metadata")
    if meta.get("cost") not in COSTS:
        raise ModelFileError(f"{path}: unknown cost {meta.get('cost')!r}")
    if meta.get("dtype") not in ("float32", "float64"):
        raise ModelFileError(f"{path}: unsupported dtype {meta.get('dtype')!r}")
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:
        raise ModelFileError(f"{path}: sizes {sizes} claim {n_params} parameters, more "
                             f"than a model file may hold ({MAX_PARAMS})")


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

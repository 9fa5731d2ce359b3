"""Safe ``.npz`` files: atomic writes, and reads that trust nothing.

Model files and checkpoints are both a numpy ``.npz`` archive of plain arrays
plus one 0-d unicode array holding JSON metadata. Writing goes to a temporary
file in the target's directory, which is flushed, fsynced and renamed over the
target, so a crash (even SIGKILL) leaves either the old file or the new one,
never half of one. Reading checks every ``.npy`` header (against the metadata,
through the caller's ``expect``) before any data is read, so a crafted header
cannot make numpy allocate terabytes, and pickles are refused.
"""

import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

#: the metadata JSON may not be larger than this (a real one is a few kB)
MAX_META_BYTES = 16 * 2**20


def write_atomic(path, arrays, meta, meta_key):
    """Write ``arrays`` (name -> ndarray) and ``meta`` (JSON-able) to ``path``."""
    path = Path(path)
    arrays = dict(arrays)
    arrays[meta_key] = np.array(json.dumps(meta))
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


def read_checked(path, meta_key, error, what, check_meta, expect):
    """Read ``(meta, arrays)`` from ``path``, checking before reading.

    ``check_meta(meta)`` raises ``error`` for bad metadata; ``expect(key,
    meta)`` gives the ``(shape, dtype)`` array ``key`` must have, or None if no
    such array belongs in the file. Anything unreadable becomes ``error``
    naming the file and ``what`` it should have been.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}
            if meta_key not in names or len(names) != len(zf.namelist()):
                raise error(f"{path} is not {what} (no {meta_key} entry)")
            shape, dtype = _check_header(zf, names[meta_key], path, error)
            if shape != () or dtype.kind != "U" or dtype.itemsize > MAX_META_BYTES:
                raise error(f"{path}: {meta_key} is not a JSON string of at most "
                            f"{MAX_META_BYTES} bytes")
            meta = json.loads(str(_read_array(zf, names[meta_key])[()]))
            check_meta(meta)
            arrays = {}
            for key, name in names.items():
                if key == meta_key:
                    continue
                want = expect(key, meta)
                if want is None:
                    raise error(f"{path}: unexpected array {key!r} in {what}")

                def check(shape, dtype, key=key, want=want):
                    if (shape, dtype) != (want[0], np.dtype(want[1])):
                        raise error(f"{path}: array {key!r} has shape {shape} and dtype "
                                    f"{dtype}; the metadata's sizes and dtype need {want[0]} "
                                    f"{np.dtype(want[1])}")

                _check_header(zf, name, path, error, check)
                arrays[key] = _read_array(zf, name)
    except error:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, TypeError,
            zlib.error, UnicodeDecodeError, NotImplementedError) as exc:
        raise error(f"{path} is not a readable {what.split(' ', 1)[-1]} (corrupt, truncated "
                    f"or another format): {exc}") from None
    return meta, arrays


def _check_header(zf, name, path, error, check=None):
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
            raise error(f"{path}: {name} has a .npy version {version} that nnvec does not write")
        offset = f.tell()
    if dtype.hasobject:
        raise error(f"{path}: {name} holds Python objects (pickles are refused)")
    if check is not None:
        check(shape, dtype)
    nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if info.file_size != offset + nbytes:
        raise error(f"{path}: {name} header promises {nbytes} bytes of data but the member "
                    f"holds {info.file_size - offset}; the file is corrupt or edited")
    return shape, dtype


def _read_array(zf, name):
    with zf.open(name) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def param_shapes(sizes):
    """``{"w0": (n1, n0), "b0": (n1,), ...}`` for a network of ``sizes``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"w{l}"] = (n_out, n_in)
        shapes[f"b{l}"] = (n_out,)
    return shapes


def param_arrays(biases, weights, prefix=""):
    """The archive entries for ``(biases, weights)``."""
    arrays = {f"{prefix}w{l}": w for l, w in enumerate(weights)}
    arrays.update({f"{prefix}b{l}": b for l, b in enumerate(biases)})
    return arrays


def unpack_params(arrays, n_layers, path, error, prefix=""):
    """``(biases, weights)`` from archive entries, each checked finite and contiguous."""
    biases, weights = [], []
    for l in range(n_layers):
        w, b = arrays[f"{prefix}w{l}"], arrays[f"{prefix}b{l}"]
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise error(f"{path}: layer {l} holds NaN or inf values")
        weights.append(np.ascontiguousarray(w))
        biases.append(np.ascontiguousarray(b))
    return biases, weights

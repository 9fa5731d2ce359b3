"""A disk cache of encoded data sets: a run after the first skips gzip and encoding.

Why: ``load_mnist(compact=True)`` inflates 55 MB of gzipped IDX images and
encodes them as ``SparseImages`` every time, about 0.2-0.3 s of the book's
3-second chapter-1 run on a 2-core machine. The encoded arrays (18 MB) load
from this cache in a few milliseconds. numba keeps the compiled kernels on
disk for the same reason.

Each entry is one ``.npz`` (``allow_pickle=False``) holding the arrays and a
JSON record of the source files it was made from (resolved path, size and
modification time in nanoseconds) and of the cache's format. An entry is
used only when that record matches the files as they are now; a changed,
moved or replaced file is read again. Entries are written atomically (a
temporary file, then a rename), and zip's CRC-32 is checked for every array
read back, so a crash or a damaged file costs a fresh read, never wrong
data. Anything that goes wrong with the cache (an unwritable directory, a
full disk, a damaged entry) is not an error: the data are read from the
source files as without it.

Where: ``$NNVEC_CACHE_DIR`` if set (set and empty: no cache), else
``$XDG_CACHE_HOME/nnvec``, else ``~/.cache/nnvec``.
"""

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

#: bumped whenever what an entry holds, or how it is encoded, changes
FORMAT = 1


def cache_dir():
    """The cache's directory (``Path``), or None when caching is off."""
    env = os.environ.get("NNVEC_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnvec"


def sources_record(paths):
    """What an entry records of its source files: resolved path, size, mtime (ns).

    Raises ``OSError`` (e.g. ``FileNotFoundError``) for a file that cannot be stat'ed.
    """
    record = []
    for p in paths:
        p = Path(p).resolve()
        st = p.stat()
        record.append([str(p), st.st_size, st.st_mtime_ns])
    return record


def _entry_path(directory, kind, record):
    digest = hashlib.sha256(json.dumps([kind, [r[0] for r in record]]).encode()).hexdigest()
    return directory / f"{kind}-{digest[:20]}.npz"


def load(kind, record, names):
    """The arrays ``names`` of the entry ``kind`` made from ``record``, or None.

    None when caching is off, there is no entry, or it does not match
    ``record`` and ``FORMAT``, or cannot be read whole (any damage).
    """
    directory = cache_dir()
    if directory is None:
        return None
    path = _entry_path(directory, kind, record)
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    if not isinstance(f, np.lib.npyio.NpzFile):  # a lone .npy array there: not an entry
        return None
    try:
        with f:
            meta = json.loads(bytes(f["meta"]).decode())
            if meta != {"format": FORMAT, "kind": kind, "sources": record}:
                return None
            return {name: f[name] for name in names}  # each read whole: CRC-32 checked
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError):
        return None


def store(kind, record, arrays):
    """Write the entry ``kind`` for ``record`` holding ``arrays`` (a dict), atomically.

    Returns whether it was written; failures (no cache, unwritable
    directory, full disk) leave no file behind and are not raised.
    """
    directory = cache_dir()
    if directory is None:
        return False
    meta = json.dumps({"format": FORMAT, "kind": kind, "sources": record}).encode()
    tmp = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".npz.tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            # no fsync: an entry cut short by a power loss fails its CRC and is read again
            np.savez(f, meta=np.frombuffer(meta, np.uint8), **arrays)
        os.replace(tmp, _entry_path(directory, kind, record))
        return True
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False

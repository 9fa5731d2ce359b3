"""MNIST in its original IDX format: reading, checking, the book's split.

The four gzipped IDX files ship in the repository's ``data/mnist``, so a
fresh clone trains offline. Every header is checked; any mismatch raises
``MNISTFormatError`` naming the file and what is wrong.
"""

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from . import _datacache
from ._aligned import aligned_copy
from .sparse import SparseImages

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
#: the book's split of the 60,000 training images
N_TRAINING = 50_000


#: an IDX payload larger than this is refused before reading (MNIST: 47 MB)
MAX_IDX_BYTES = 2**31


class MNISTFormatError(ValueError):
    """An IDX file is corrupt, truncated or not what it claims to be."""


def _open(path):
    path = Path(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"MNIST file not found: {path}") from None
    if f.read(2) == b"\x1f\x8b":
        f.seek(0)
        return gzip.GzipFile(fileobj=f, mode="rb"), f
    f.seek(0)
    return f, f


#: bytes of payload read at a time
PIECE_BYTES = 2**20


def _idx_pieces(path, header_size, payload_size):
    """An IDX file's header, then its payload in pieces, gzipped or not.

    A generator: yields the header (bytes), then views of one reused buffer
    of at most ``PIECE_BYTES`` each, every one a whole number of items.
    ``payload_size(header)`` gives ``(bytes, item_bytes, what)`` the header
    promises, e.g. ``(7840000, 784, "10000 images of 28x28")``, or raises; no
    more than that plus one byte is ever read or decompressed, so a crafted
    header or a gzip bomb costs nothing. A file that ends early or runs on
    raises ``MNISTFormatError`` after its last piece.
    """
    stream, raw = _open(path)
    try:
        with raw, stream:
            header = stream.read(header_size)
            if len(header) < header_size:
                raise MNISTFormatError(
                    f"{path}: {len(header)} bytes is too short for an IDX header "
                    f"({header_size} bytes)")
            want, item, what = payload_size(header)
            yield header
            # gzip's read(n) builds an n-byte bytes object: readinto one buffer instead
            buf = np.empty(max(1, min(want, max(item, PIECE_BYTES // item * item))), np.uint8)
            view = buf.data
            n_read = 0
            while n_read < want:
                size = min(len(buf), want - n_read)
                got = 0
                while got < size:
                    k = stream.readinto(view[got:size])
                    if not k:
                        break
                    got += k
                n_read += got
                if got < size:
                    break
                yield buf[:size]
            if n_read == want and stream.read(1):
                n_read += 1
    except (OSError, EOFError, zlib.error) as exc:
        raise MNISTFormatError(
            f"{path}: corrupt or truncated gzip data ({exc}); restore the file "
            "from a fresh checkout") from None
    if n_read != want:
        held = "more" if n_read > want else f"{header_size + n_read} bytes"
        raise MNISTFormatError(
            f"{path}: header says {what} ({header_size + want} bytes) but the file holds "
            f"{held}; it is truncated or corrupt")


def _read_idx(path, header_size, payload_size):
    """``(header, payload)`` of an IDX file: its pieces (``_idx_pieces``) in one array."""
    pieces = _idx_pieces(path, header_size, payload_size)
    header = next(pieces)
    payload = np.empty(payload_size(header)[0], np.uint8)
    o = 0
    for piece in pieces:
        payload[o:o + len(piece)] = piece
        o += len(piece)
    return header, payload


def _image_bytes(path):
    """``payload_size`` for ``_idx_pieces`` of an IDX3 image file."""
    def size(header):
        magic, n, rows, cols = struct.unpack(">IIII", header)
        if magic != IMAGE_MAGIC:
            hint = " (that is a label file)" if magic == LABEL_MAGIC else ""
            raise MNISTFormatError(
                f"{path}: magic number {magic}, expected {IMAGE_MAGIC} for IDX images{hint}")
        if rows == 0 or cols == 0:
            raise MNISTFormatError(f"{path}: image dimensions {rows}x{cols} must be positive")
        if n * rows * cols > MAX_IDX_BYTES:
            raise MNISTFormatError(f"{path}: header claims {n} images of {rows}x{cols}, more "
                                   f"than {MAX_IDX_BYTES} bytes; the file is corrupt")
        return n * rows * cols, rows * cols, f"{n} images of {rows}x{cols}"
    return size


def read_idx_images(path):
    """Read an IDX3 image file (gzipped or not).

    Returns
    -------
    ndarray of shape (n_images, rows, cols), uint8

    Raises
    ------
    MNISTFormatError
        Wrong magic number (not an image file), bad dimensions, or a file
        length that does not match its header (truncated or padded).
    """
    header, payload = _read_idx(path, 16, _image_bytes(path))
    _, n, rows, cols = struct.unpack(">IIII", header)
    return payload.reshape(n, rows, cols)


def read_idx_images_sparse(path):
    """Read an IDX3 image file as ``SparseImages`` (non-zero pixels only).

    The file is read and encoded a piece at a time, so its dense images are
    never held whole (47 MB for MNIST's training file).

    Returns
    -------
    SparseImages of shape (n_images, rows * cols)

    Raises
    ------
    MNISTFormatError
        As ``read_idx_images``.
    """
    pieces = _idx_pieces(path, 16, _image_bytes(path))
    header = next(pieces)
    _, n, rows, cols = struct.unpack(">IIII", header)
    parts = [SparseImages.from_dense(piece.reshape(-1, rows * cols)) for piece in pieces]
    return SparseImages._join(parts, rows * cols, 255.0)


def read_idx_labels(path):
    """Read an IDX1 label file (gzipped or not).

    Returns
    -------
    ndarray of shape (n_labels,), uint8

    Raises
    ------
    MNISTFormatError
        Wrong magic number, a length that does not match the header, or a
        label outside 0-9.
    """
    def size(header):
        magic, n = struct.unpack(">II", header)
        if magic != LABEL_MAGIC:
            hint = " (that is an image file)" if magic == IMAGE_MAGIC else ""
            raise MNISTFormatError(
                f"{path}: magic number {magic}, expected {LABEL_MAGIC} for IDX labels{hint}")
        if n > MAX_IDX_BYTES:
            raise MNISTFormatError(f"{path}: header claims {n} labels, more than "
                                   f"{MAX_IDX_BYTES}; the file is corrupt")
        return n, 1, f"{n} labels"

    _, payload = _read_idx(path, 8, size)
    labels = payload
    if labels.size and labels.max() > 9:
        raise MNISTFormatError(f"{path}: label {labels.max()} is not a digit 0-9")
    return labels


def _candidate_dirs():
    here = Path(__file__).resolve().parent
    dirs = []
    env = os.environ.get("NNVEC_DATA_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(here / "mnist_data")  # installed from a wheel or an sdist
    dirs.append(here.parent / "data" / "mnist")  # checkout or editable install
    dirs.append(Path.cwd() / "data" / "mnist")
    return dirs


def find_data_dir(data_dir=None):
    """The directory holding the four MNIST files.

    ``data_dir`` if given; else ``$NNVEC_DATA_DIR``; else the copy installed
    inside the package (``nnvec/mnist_data``, any regular install); else the
    repository's ``data/mnist`` (a checkout or an editable install); else
    ``./data/mnist``.

    Raises
    ------
    FileNotFoundError
        Listing every place looked at and which files were missing.
    """
    candidates = [Path(data_dir)] if data_dir is not None else _candidate_dirs()
    for d in candidates:
        if all((d / f).is_file() for f in FILES.values()):
            return d
    looked = "\n".join(
        f"  {d}: missing {', '.join(f for f in FILES.values() if not (d / f).is_file())}"
        for d in candidates)
    raise FileNotFoundError(
        "MNIST data not found. Looked in:\n" + looked +
        "\nPass data_dir=/path/to/mnist (or --data-dir), or set NNVEC_DATA_DIR, to a "
        "directory holding the four IDX .gz files.")


def _load_pair(images_path, labels_path, compact=False, cache=False):
    if compact and cache:
        images, labels = _load_compact_cached(images_path, labels_path)
    else:
        images = (read_idx_images_sparse if compact else read_idx_images)(images_path)
        labels = read_idx_labels(labels_path)
    if len(images) != len(labels):
        raise MNISTFormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the files do not belong together")
    return images, labels


_CACHED = ("indptr", "steps", "vals", "labels", "n_features")


def _plausible(indptr, steps, vals, labels, n_features):
    """Whether a cache entry's arrays have the form the encoder gives (cheap
    checks: the bytes themselves are the ones written, by their CRC-32)."""
    return (indptr.dtype == np.int64 and steps.dtype == vals.dtype == labels.dtype == np.uint8
            and indptr.ndim == steps.ndim == vals.ndim == labels.ndim == 1
            and n_features.dtype == np.int64 and n_features.ndim == 0 and n_features >= 1
            and len(indptr) >= 1 and indptr[0] == 0 and indptr[-1] == len(steps) == len(vals)
            and bool(np.all(np.diff(indptr) >= 0)))


def _load_compact_cached(images_path, labels_path):
    """``(SparseImages, labels)`` of an image and a label file, through ``_datacache``."""
    try:
        record = _datacache.sources_record([images_path, labels_path])
    except OSError:  # a missing file: the readers below say which
        record = None
    hit = _datacache.load("mnist-pair", record, _CACHED) if record else None
    if hit is not None and _plausible(**hit):
        images = SparseImages._trusted(hit["indptr"], hit["steps"], hit["vals"],
                                       int(hit["n_features"]), 255.0)
        return images, hit["labels"]
    images = read_idx_images_sparse(images_path)
    labels = read_idx_labels(labels_path)
    if record is not None:
        _datacache.store("mnist-pair", record, {
            "indptr": images.indptr, "steps": images.steps, "vals": images.vals,
            "labels": labels, "n_features": np.int64(images.n_features)})
    return images, labels


def load_mnist(data_dir: str | os.PathLike | None = None, dtype: DTypeLike = np.float64,
               compact: bool = False, cache: bool = True
               ) -> tuple[tuple[Any, np.ndarray], tuple[Any, np.ndarray],
                          tuple[Any, np.ndarray]]:
    """Load MNIST with the book's split.

    Parameters
    ----------
    data_dir : path, optional
        Directory with the four IDX ``.gz`` files; see ``find_data_dir``.
    dtype : float64 (default) or float32
    compact : bool, default False
        Give each ``X`` as ``nnvec.SparseImages`` (the non-zero pixels as
        stored, 28 MB for all three sets instead of 440 MB in float64; the
        same values, see ``nnvec.sparse``) instead of a float array; ``dtype``
        is then the one it turns into where it is made dense.
    cache : bool, default True
        With ``compact=True``, keep the encoded images on disk after the
        first load and read them from there while the files are unchanged
        (path, size and modification time; see ``nnvec._datacache``:
        ``$NNVEC_CACHE_DIR``, else ``~/.cache/nnvec``; ``NNVEC_CACHE_DIR=``
        turns it off): the same arrays, in milliseconds instead of the
        0.2-0.3 s of inflating and encoding. Not used for dense arrays.

    Returns
    -------
    (training, validation, test)
        Each a pair ``(X, y)``: ``X`` of shape (n_samples, 784), pixels
        scaled to [0, 1]; ``y`` int64 labels 0-9. Training is the first
        50,000 images of the training file, validation its last 10,000, test
        the 10,000 t10k images.

    Raises
    ------
    FileNotFoundError
        If the files cannot be found (the message lists where it looked).
    MNISTFormatError
        If a file is corrupt, truncated or mismatched.
    """
    d = find_data_dir(data_dir)
    tr_img, tr_lab = _load_pair(d / FILES["train_images"], d / FILES["train_labels"], compact,
                                cache)
    te_img, te_lab = _load_pair(d / FILES["test_images"], d / FILES["test_labels"], compact,
                                cache)
    if len(tr_img) <= N_TRAINING:
        raise MNISTFormatError(
            f"{d / FILES['train_images']} holds {len(tr_img)} images; the book's split "
            f"needs more than {N_TRAINING}")

    def prep(img, lab):
        if compact:  # already SparseImages
            return img, lab.astype(np.int64)
        X = aligned_copy(img.reshape(len(img), -1), dtype)  # a new array, on a cache line
        X /= 255.0
        return X, lab.astype(np.int64)

    training = prep(tr_img[:N_TRAINING], tr_lab[:N_TRAINING])
    validation = prep(tr_img[N_TRAINING:], tr_lab[N_TRAINING:])
    test = prep(te_img, te_lab)
    return training, validation, test


def vectorized_result(j, n=10):
    """A (n, 1) one-hot column with 1.0 in position ``j``."""
    e = np.zeros((n, 1))
    e[j] = 1.0
    return e


def to_book_format(X, y, one_hot=False):
    """The book's data layout: a list of ``(x, y)`` with ``x`` of shape (784, 1).

    ``one_hot=True`` gives ``y`` as a (10, 1) one-hot column (the book's
    training data); otherwise an int label (its validation and test data).
    """
    cols = [x.reshape(-1, 1) for x in np.asarray(X, dtype=np.float64)]
    if one_hot:
        return [(x, vectorized_result(int(l))) for x, l in zip(cols, y)]
    return [(x, int(l)) for x, l in zip(cols, y)]


def load_data_wrapper(data_dir=None):
    """``(training_data, validation_data, test_data)`` in the book's format.

    Training pairs are ``(x (784, 1), y one-hot (10, 1))``; validation and
    test pairs are ``(x (784, 1), int label)``, as ``mnist_loader`` gives them.
    """
    (X, y), va, te = load_mnist(data_dir)
    return (to_book_format(X, y, one_hot=True), to_book_format(*va), to_book_format(*te))

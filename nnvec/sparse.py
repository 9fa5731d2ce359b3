"""Images kept as their non-zero pixels: MNIST in a fifth of the memory.

81% of MNIST's pixels are 0. ``SparseImages`` keeps, for each image, only the
pixels that are not, as the file stores them (uint8 intensities 1-255), each
with the uint8 step from the previous one's column: 50,000 training images
take 15 MB instead of 314 MB as float64. The value a network sees is ``intensity / scale``, computed with the
same division as ``images.astype(dtype) / 255.0``, through a 256-entry table,
so the numbers are exactly those of the dense array.

The numba engine trains on it directly and skips the zero pixels: a product
with an input of 0 adds exactly 0 to a weighted input, and its weight
gradient is exactly 0, so skipping it changes only the order of the sums that
remain (checked against the per-example reference to 1e-12). Everything else
(other engines, ``np.asarray``) sees the dense float array.
"""

import numpy as np
from numpy.typing import DTypeLike

from ._kernels import encode_nonzero_into

__all__ = ["SparseImages"]

#: rows densified or scanned at a time, so no step needs memory proportional
#: to the whole data set in float64
BLOCK_ROWS = 1024


class SparseImages:
    """Images as rows of non-zero pixel intensities, 2 bytes per pixel kept.

    Build one with ``SparseImages.from_dense(uint8_images)`` or
    ``load_mnist(compact=True)``. Read-only: its arrays are never written.

    Each stored pixel is an intensity and a step: the pixel's column is the
    previous stored pixel's column (0 before the first) plus its step. A gap
    wider than 255 columns is bridged by entries of intensity 0 and step 255,
    which add exactly nothing to any sum.

    Parameters
    ----------
    indptr : ndarray of shape (n_samples + 1,), int64
        Row ``i``'s entries are ``steps[indptr[i]:indptr[i+1]]`` (and ``vals``).
    steps : ndarray of shape (n_entries,), uint8
    vals : ndarray of shape (n_entries,), uint8
        Intensities 0-255 (0 only for bridging entries).
    n_features : int
    scale : float, default 255.0
        The value of a pixel is ``intensity / scale``.

    Attributes
    ----------
    shape : (n_samples, n_features)
    nbytes : int, memory held

    Raises
    ------
    TypeError, ValueError
        If the arrays have the wrong dtypes or shapes, ``indptr`` is not
        non-decreasing from 0 to ``n_entries``, or a row's columns run past
        ``n_features`` or do not increase.
    """

    ndim = 2

    def __init__(self, indptr, steps, vals, n_features: int, scale: float = 255.0) -> None:
        indptr, steps, vals = (np.asarray(a) for a in (indptr, steps, vals))
        if indptr.dtype != np.int64 or steps.dtype != np.uint8 or vals.dtype != np.uint8:
            raise TypeError(
                "SparseImages needs indptr int64, steps uint8 and vals uint8; got "
                f"{indptr.dtype}, {steps.dtype}, {vals.dtype} (use SparseImages.from_dense)")
        if indptr.ndim != 1 or steps.ndim != 1 or vals.ndim != 1 or len(indptr) < 1:
            raise ValueError("indptr, steps and vals must be 1-D, indptr of length n_samples + 1")
        n_features = int(n_features)
        if n_features < 1:
            raise ValueError(f"n_features must be positive; got {n_features}")
        if len(steps) != len(vals) or indptr[0] != 0 or indptr[-1] != len(steps) \
                or np.any(np.diff(indptr) < 0):
            raise ValueError("indptr must rise from 0 to len(steps) == len(vals)")
        scale = float(scale)
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be finite and positive; got {scale}")
        self.indptr, self.steps, self.vals = indptr, steps, vals
        self.n_features = n_features
        self.scale = scale
        for s in range(0, len(self), BLOCK_ROWS):
            _, col, pos, first = self._entries(np.arange(s, min(len(self), s + BLOCK_ROWS)))
            if len(col) and int(col.max()) >= n_features:
                raise ValueError(f"a row's columns run to {int(col.max())}, past "
                                 f"{n_features} features")
            if np.any(~first & (steps[pos] == 0)):
                raise ValueError("a step of 0 after a row's first entry: columns must increase")
        for a in (indptr, steps, vals):
            a.flags.writeable = False

    @classmethod
    def from_dense(cls, images, scale: float = 255.0) -> "SparseImages":
        """Keep the non-zero pixels of ``images``.

        Parameters
        ----------
        images : ndarray of shape (n_samples, n_features) or (n_samples, rows, cols), uint8

        Raises
        ------
        TypeError
            If ``images`` is not uint8 (intensities as stored, not yet scaled).
        ValueError
            If it is not 2-D or 3-D, or has no samples.
        """
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"images must be uint8 intensities 0-255; got dtype {images.dtype}"
                            " (scaled floats stay dense: pass them to fit as they are)")
        if images.ndim not in (2, 3) or images.shape[0] == 0:
            raise ValueError("images must have shape (n_samples, n_features) or "
                             f"(n_samples, rows, cols) with n_samples >= 1; got {images.shape}")
        flat = np.ascontiguousarray(images.reshape(len(images), -1))
        n, n_features = flat.shape
        room = np.count_nonzero(flat) + n * (n_features // 255 + 1)
        indptr = np.empty(n + 1, np.int64)
        steps = np.empty(room, np.uint8)
        vals = np.empty(room, np.uint8)
        e = encode_nonzero_into(flat, indptr, steps, vals)
        # copies of the entries' length, so the room left over is freed
        return cls._trusted(indptr, steps[:e].copy(), vals[:e].copy(), n_features, scale)

    @classmethod
    def concatenate(cls, parts, n_features: int, scale: float = 255.0) -> "SparseImages":
        """The rows of ``parts`` one after another, in a new ``SparseImages``.

        Parameters
        ----------
        parts : sequence of SparseImages
            Each of ``n_features`` features and the same ``scale``; none is changed.
        n_features : int
        scale : float, default 255.0

        Raises
        ------
        TypeError
            If a part is not a ``SparseImages``.
        ValueError
            If a part has other features or another scale.
        """
        for part in parts:
            if not isinstance(part, SparseImages):
                raise TypeError(f"SparseImages.concatenate joins SparseImages; got "
                                f"{type(part).__name__} (use SparseImages.from_dense first)")
            if part.n_features != n_features or part.scale != float(scale):
                raise ValueError(f"cannot join {part!r} (scale {part.scale:g}) to rows of "
                                 f"{n_features} features, scale {float(scale):g}")
        return cls._join(list(parts), n_features, scale)

    @classmethod
    def _join(cls, parts, n_features, scale):
        """``concatenate``, emptying the list ``parts`` as it goes, so each part's
        memory is freed once copied (when nothing else holds it)."""
        indptr = np.zeros(sum(len(part) for part in parts) + 1, np.int64)
        n_entries = sum(len(part.steps) for part in parts)
        steps = np.empty(n_entries, np.uint8)
        vals = np.empty(n_entries, np.uint8)
        i = 0
        parts.reverse()
        while parts:
            part = parts.pop()
            e = indptr[i]
            indptr[i + 1:i + 1 + len(part)] = part.indptr[1:] + e
            steps[e:e + len(part.steps)] = part.steps
            vals[e:e + len(part.vals)] = part.vals
            i += len(part)
        return cls._trusted(indptr, steps, vals, n_features, scale)

    @classmethod
    def _trusted(cls, indptr, steps, vals, n_features, scale):
        """One made from arrays that are valid by construction: no checks."""
        self = cls.__new__(cls)
        self.indptr, self.steps, self.vals = indptr, steps, vals
        self.n_features, self.scale = int(n_features), float(scale)
        for a in (indptr, steps, vals):
            a.flags.writeable = False
        return self

    def _entries(self, idx):
        """``(row, column, position, is_first)`` of every entry of rows ``idx``, in order.

        ``row`` counts from 0 within ``idx``; ``position`` indexes ``steps``
        and ``vals``; ``is_first`` marks each row's first entry.
        """
        starts = self.indptr[idx]
        lengths = self.indptr[idx + 1] - starts
        begin = np.cumsum(lengths) - lengths  # where each row's entries start in the output
        total = int(lengths.sum())
        pos = np.repeat(starts - begin, lengths) + np.arange(total)
        col = np.cumsum(self.steps[pos], dtype=np.int64)
        if total:  # the running sum restarts at each row
            before = np.where(begin > 0, col[np.maximum(begin - 1, 0)], 0)
            col -= np.repeat(before, lengths)
        is_first = np.zeros(total, bool)
        is_first[begin[lengths > 0]] = True
        return np.repeat(np.arange(len(idx)), lengths), col, pos, is_first

    # ------------------------------------------------------------- as an array
    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.indptr) - 1, self.n_features)

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.steps.nbytes + self.vals.nbytes

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __repr__(self) -> str:
        n, f = self.shape
        return f"SparseImages({n} samples x {f} features, {self.nbytes / 1e6:.1f} MB)"

    def lut(self, dtype: DTypeLike = np.float64) -> np.ndarray:
        """``table[v]`` is the value of intensity ``v``: ``v / scale`` in ``dtype``.

        The same operation as ``images.astype(dtype) / scale`` element by
        element, so dense and sparse data hold identical numbers.
        """
        table = np.arange(256).astype(dtype)
        table /= self.scale
        return table

    def toarray(self, dtype: DTypeLike = np.float64, rows=None, out=None) -> np.ndarray:
        """The dense matrix (or the given ``rows`` of it), shape (n_rows, n_features).

        ``out``: an array of that shape and ``dtype`` to write into instead.
        """
        idx = np.arange(len(self)) if rows is None else np.asarray(rows)
        if out is None:
            out = np.zeros((len(idx), self.n_features), dtype)
        else:
            out[...] = 0
        table = self.lut(dtype)
        for s in range(0, len(idx), BLOCK_ROWS):
            row, col, pos, _ = self._entries(idx[s:s + BLOCK_ROWS])
            out[row + s, col] = table[self.vals[pos]]
        return out

    def __array__(self, dtype=None, copy=None):
        return self.toarray(np.float64 if dtype is None else dtype)

    def __getitem__(self, key) -> "SparseImages":
        """Rows: a slice, an integer array or a boolean mask (columns stay whole).

        A slice of consecutive rows shares this one's entries (like a numpy
        view); any other selection copies them.
        """
        if isinstance(key, tuple):
            raise IndexError("SparseImages selects rows only; use .toarray() for columns")
        if isinstance(key, slice) and key.step in (None, 1):
            # a run of rows is a run of entries: views of this one's
            # (read-only) entries, as numpy slices are views
            a, b, _ = key.indices(len(self))
            b = max(a, b)
            lo, hi = self.indptr[a], self.indptr[b]
            return SparseImages._trusted(self.indptr[a:b + 1] - lo, self.steps[lo:hi],
                                         self.vals[lo:hi], self.n_features, self.scale)
        idx = np.arange(len(self))[key]
        if idx.ndim != 1:
            raise IndexError("SparseImages selects rows: index with a slice or a 1-D array")
        lengths = self.indptr[idx + 1] - self.indptr[idx]
        indptr = np.zeros(len(idx) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pos = np.repeat(self.indptr[idx] - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseImages._trusted(indptr, self.steps[pos], self.vals[pos], self.n_features,
                                     self.scale)

    def hash_into(self, h, dtype: DTypeLike) -> None:
        """Feed ``h`` (a hashlib object) the dense ``dtype`` bytes, block by block.

        The same digest as hashing ``self.toarray(dtype)`` whole, without
        holding it: a checkpoint recognises the data however it is stored.
        """
        for s in range(0, len(self), BLOCK_ROWS):
            h.update(self.toarray(dtype, np.arange(s, min(len(self), s + BLOCK_ROWS))).data)

"""Arrays whose data starts on a cache line.

numpy aligns the data of a large array to 16 bytes (glibc's allocator), so
the rows of a float64 (n, 784) array, 6,272 bytes each, start 16 bytes into
a line, and every other 32-byte vector load the kernels make crosses two
lines. The kernels' own buffers (packed weights and biases, every layer's
outputs and deltas), the images ``load_mnist`` returns and the copies
``check_X`` has to make anyway start on a 64-byte line instead: one thread's
forward pass of a 784-input layer ran 7-11% faster on aligned inputs and
weights (``benchmarks/results/2026-11-28/alignment-eleventh.txt``). A
caller's array that needs no conversion is used where it is, never copied
for this.
"""

import numpy as np
from numpy.typing import DTypeLike

#: bytes per cache line (x86-64 and most ARM cores)
LINE_BYTES = 64


def empty_aligned(shape, dtype: DTypeLike, align: int = LINE_BYTES) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts at a multiple of ``align`` bytes.

    Parameters
    ----------
    shape : int or tuple of int
    dtype : numpy dtype
    align : int
        A multiple of the dtype's item size.

    Returns
    -------
    ndarray of ``shape`` and ``dtype``, a view into a slightly larger buffer.
    """
    dt = np.dtype(dtype)
    if align % dt.itemsize:
        raise ValueError(f"align={align} is not a multiple of {dt}'s {dt.itemsize} bytes")
    n = int(np.prod(shape))
    buf = np.empty(n + align // dt.itemsize, dt)
    start = (-buf.ctypes.data % align) // dt.itemsize
    return buf[start:start + n].reshape(shape)


def zeros_aligned(shape, dtype: DTypeLike, align: int = LINE_BYTES) -> np.ndarray:
    """Like ``empty_aligned``, filled with zeros."""
    out = empty_aligned(shape, dtype, align)
    out.fill(0)
    return out


def aligned_copy(arr, dtype: DTypeLike) -> np.ndarray:
    """``np.ascontiguousarray(arr, dtype)``, but a copy, when one is needed, starts on a line.

    Returns ``arr`` itself when it already is a C-contiguous ndarray of
    ``dtype`` (whatever its alignment: never a second copy of a caller's data).
    """
    if isinstance(arr, np.ndarray) and arr.dtype == np.dtype(dtype) and arr.flags.c_contiguous:
        return arr
    src = np.asarray(arr)
    out = empty_aligned(src.shape, dtype)
    np.copyto(out, src, casting="unsafe")
    return out

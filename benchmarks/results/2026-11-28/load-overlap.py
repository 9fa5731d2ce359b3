"""Tried in the sixteenth session, not kept: inflating and encoding MNIST's image
files (numpy's encoder) in a thread while the main thread imports nnvec and
sets numba up (its first kernel call).

    python benchmarks/results/2026-11-28/load-overlap.py seq|par|parsw [PIECE_BYTES]

seq: one after the other; par: side by side; parsw: side by side with the
interpreter switching threads every 0.1 ms. Prints each side's seconds, the
total and the peak resident memory (MB). Run from the repository root.
"""

import resource
import sys
import threading
import time
import zlib

T0 = time.perf_counter()

import numpy as np  # noqa: E402  (timed from the interpreter's start)

FILES = (("train-images-idx3-ubyte.gz", 16), ("t10k-images-idx3-ubyte.gz", 16))


def load(res, piece):
    """Inflate each image file a piece at a time and encode each piece."""
    t = time.perf_counter()
    from nnvec import _numpy_kernels as nk

    parts = []
    for name, header in FILES:
        with open("data/mnist/" + name, "rb") as f:
            raw = f.read()
        d = zlib.decompressobj(31)
        d.decompress(raw, header)
        while True:
            buf = d.decompress(d.unconsumed_tail, piece // 784 * 784)
            if not buf:
                break
            p = np.frombuffer(buf, np.uint8).reshape(-1, 784)
            room = np.count_nonzero(p) + len(p) * 4
            indptr = np.empty(len(p) + 1, np.int64)
            steps, vals = np.empty(room, np.uint8), np.empty(room, np.uint8)
            e = nk.encode_nonzero_into(p, indptr, steps, vals)
            parts.append((indptr, steps[:e].copy(), vals[:e].copy()))
    res["bg"] = time.perf_counter() - t


def main():
    mode = sys.argv[1]
    piece = int(sys.argv[2]) if len(sys.argv) > 2 else 2**21
    res = {}
    th = None
    if mode.startswith("par"):
        if mode == "parsw":
            sys.setswitchinterval(1e-4)
        th = threading.Thread(target=load, args=(res, piece))
        th.start()
    t = time.perf_counter()
    import nnvec  # noqa: F401
    from nnvec._kernels import encode_nonzero_into

    a = np.zeros((2, 784), np.uint8)
    ip, s, v = np.empty(3, np.int64), np.empty(2000, np.uint8), np.empty(2000, np.uint8)
    encode_nonzero_into(a, ip, s, v)  # numba's set-up on its first kernel
    res["main"] = time.perf_counter() - t
    if th is not None:
        th.join()
    else:
        load(res, piece)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(mode, piece, {k: round(x, 3) for k, x in res.items()}, "total",
          round(time.perf_counter() - T0, 3), "peak", peak)


if __name__ == "__main__":
    main()

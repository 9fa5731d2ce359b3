"""One thread's speed in the fused kernel's dense forward pass and update, against numpy's matmul.

    OPENBLAS_NUM_THREADS=1 python benchmarks/results/2026-11-28/kernel-rates.py

The input layer of [784, 30, 10] over one epoch's mini-batches (10,000 rows
of a 50,000-row float array, in a random order, as training reads them):
``_forward_layer`` alone, then forward and ``_update_layer`` together (the
update's rate is the difference). Useful FLOPs (2 per multiply-add) per
second, median of 7, beside a 2000 x 2000 matmul on one thread in the same run.
"""

import time

import numpy as np

from nnvec import _kernels as K
from nnvec._kernels import fjit


@fjit
def _epoch(A, perm, r, W, b, Out, D, P, zero, neg_step, update):
    for s in range(0, perm.shape[0] - r + 1, r):
        rows = perm[s:s + r]
        K._forward_layer(A, rows, r, W, b, Out, zero)
        if update:
            K._update_layer(D, A, rows, r, W, b, 1.0, neg_step, P)


def _median_seconds(f, *args, repeats=7):
    f(*args)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    for dt in (np.float64, np.float32):
        a = np.random.default_rng(0).random((2000, 2000)).astype(dt)
        peak = 2 * 2000 ** 3 / _median_seconds(np.matmul, a, a) / 1e9
        rng = np.random.default_rng(0)
        A = rng.random((50000, 784)).astype(dt)
        perm = rng.permutation(50000)[:10000]
        W = (rng.standard_normal((30, 784)) * 0.01).astype(dt)
        b = np.zeros(30, dt)
        P = np.empty((K.UPDATE_CHUNK, K.UPDATE_NEURONS), dt)
        flop = 2 * 10000 * 30 * 784 / 1e9
        print(f"{dt.__name__}: one-thread matmul {peak:.1f} GFLOP/s")
        for r in (10, 100, 1000):
            Out = np.empty((r, 30), dt)
            D = (rng.standard_normal((r, 30)) * 1e-3).astype(dt)
            args = (A, perm, r, W, b, Out, D, P, dt(0), dt(-1e-3))
            fwd = _median_seconds(_epoch, *args, False)
            both = _median_seconds(_epoch, *args, True)
            f_rate, u_rate = flop / fwd, flop / (both - fwd)
            print(f"  m = {r}: forward {f_rate:.1f} GFLOP/s ({f_rate / peak:.2f} of the matmul), "
                  f"update {u_rate:.1f} ({u_rate / peak:.2f})")


if __name__ == "__main__":
    main()

"""One thread's ``_forward_layer_outer`` at m = 100, old against new, alternated.

    python benchmarks/results/2026-11-29/outer-layer.py OLD

OLD: a directory holding an older ``nnvec`` package (imported as ``nnvec_old``
with ``benchmarks/ab_epochs.py``'s loader). For float32 and float64, 15 and 30
neurons of 784 inputs (a thread's half of [784, 30, 10]'s input layer, and
all of it), 100 rows in shuffled order of a 10,000-row array: microseconds
per call (transposition included), the median of 9 alternated rounds of 2,000
calls each, and the same with r = 0 (the transposition alone).
"""

import sys
import time

import numba
import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[2]))  # benchmarks/
from ab_epochs import load_old  # noqa: E402

import nnvec._kernels as new  # noqa: E402


def wrap(K):
    @numba.njit(fastmath=K.FASTMATH, nogil=True)
    def fwd(A, rows, r, W, b, Out, WTs):
        K._forward_layer_outer(A, rows, r, W, b, Out, WTs)
    return fwd


def main():
    old = load_old(sys.argv[1])._kernels
    fns = {"old": wrap(old), "new": wrap(new)}
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        A = rng.random((10000, 784)).astype(dt)
        rows = rng.permutation(10000)[:100].astype(np.int64)
        WTs = np.zeros(4096 * 64, dt)
        for n_out in (15, 30):
            W = rng.standard_normal((n_out, 784)).astype(dt)
            b = np.zeros(n_out, dt)
            outs = {k: np.zeros((100, n_out), dt) for k in fns}
            for r in (100, 0):
                ts = {k: [] for k in fns}
                for rnd in range(10):
                    for k, f in (fns.items() if rnd % 2 else reversed(fns.items())):
                        t = time.perf_counter()
                        for _ in range(2000):
                            f(A, rows, r, W, b, outs[k], WTs)
                        if rnd:
                            ts[k].append((time.perf_counter() - t) / 2000 * 1e6)
                same = np.array_equal(outs["old"], outs["new"])
                o, n = np.median(ts["old"]), np.median(ts["new"])
                print(f"{np.dtype(dt).name} n_out={n_out} r={r}: old {o:.2f} us, new {n:.2f} us, "
                      f"new / old {n / o:.3f}; outputs identical: {same}", flush=True)


if __name__ == "__main__":
    main()

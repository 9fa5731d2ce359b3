"""One thread's dense forward pass (``_forward_layer``) on input rows from
memory or from cache: the rows of a 50,000 x 784 array in shuffled order
("random"), in order ("seq"), or the same m rows again and again ("hot"),
GFLOP/s, medians of 7 interleaved rounds. 15 neurons is one thread's share
of [784, 30, 10]'s input layer.

    OPENBLAS_NUM_THREADS=1 python benchmarks/results/2026-11-28/rows-from-memory.py
"""

import time

import numpy as np

import nnvec._kernels as K
from nnvec._aligned import empty_aligned


def main():
    rng = np.random.default_rng(0)
    n = 50000
    for dtype in (np.float64, np.float32):
        X = empty_aligned((n, 784), dtype)
        X[:] = rng.random((n, 784))
        for n_out, m in [(15, 10), (15, 100), (15, 1000), (30, 10), (50, 100)]:
            W = empty_aligned((n_out, 784), dtype)
            W[:] = rng.standard_normal((n_out, 784)) * 0.1
            b, out, zero = np.zeros(n_out, dtype), np.empty((m, n_out), dtype), dtype(0)
            orders = {"random": rng.permutation(n)[:20000], "seq": np.arange(20000),
                      "hot": np.tile(np.arange(m), 20000 // m)}
            secs = {k: [] for k in orders}
            for _ in range(7):
                for k, perm in orders.items():
                    K._forward_layer(X, perm[:m], m, W, b, out, zero)
                    t = time.perf_counter()
                    for s in range(0, 20000, m):
                        K._forward_layer(X, perm[s:s + m], m, W, b, out, zero)
                    secs[k].append(time.perf_counter() - t)
            rate = {k: 2 * 784 * n_out * 20000 / np.median(v) / 1e9 for k, v in secs.items()}
            print(f"{np.dtype(dtype).name} {n_out} neurons, m = {m}: "
                  + "  ".join(f"{k} {v:.1f}" for k, v in rate.items())
                  + f"  (random / hot: {rate['random'] / rate['hot']:.2f})", flush=True)


if __name__ == "__main__":
    main()

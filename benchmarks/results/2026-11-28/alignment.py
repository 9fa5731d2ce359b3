"""One thread's dense forward pass (``_forward_layer``) on inputs and weights
that start on a 64-byte line or 16/32 bytes into one (numpy's own alignment
for large arrays is 16 bytes), interleaved, medians of 7.

    OPENBLAS_NUM_THREADS=1 python benchmarks/results/2026-11-28/alignment.py
"""

import time

import numpy as np

import nnvec._kernels as K


def offset_array(shape, offset, align=64):
    """A float64 array whose data starts ``offset`` bytes after a multiple of ``align``."""
    n = int(np.prod(shape))
    buf = np.zeros(n + 2 * align // 8)
    s = ((-buf.ctypes.data % align) + offset) // 8
    return buf[s:s + n].reshape(shape)


def main():
    rng = np.random.default_rng(0)
    perm = rng.permutation(10000)
    print("n_out m: GFLOP/s with X and W starting that many bytes after a 64-byte line")
    for n_out, m in [(30, 10), (30, 100), (150, 100), (500, 100)]:
        arrays, secs = {}, {}
        for offx in (0, 16, 32):
            for offw in (0, 16):
                X = offset_array((10000, 784), offx)
                X[:] = rng.random((10000, 784))
                W = offset_array((n_out, 784), offw)
                W[:] = rng.standard_normal((n_out, 784)) * 0.1
                arrays[offx, offw] = X, W
                secs[offx, offw] = []
        b, out = np.zeros(n_out), np.empty((m, n_out))
        for _ in range(7):
            for key, (X, W) in arrays.items():
                K._forward_layer(X, perm[:m], m, W, b, out, 0.0)
                t = time.perf_counter()
                for s in range(0, 10000, m):
                    K._forward_layer(X, perm[s:s + m], m, W, b, out, 0.0)
                secs[key].append(time.perf_counter() - t)
        rate = {k: 2 * 784 * n_out * 10000 / np.median(v) / 1e9 for k, v in secs.items()}
        print(f"{n_out} {m}: " + "  ".join(f"X+{k[0]} W+{k[1]}: {v:.1f}" for k, v in rate.items())
              + f"  (X+16 W+16) / (X+0 W+0) time: {rate[0, 0] / rate[16, 16]:.3f}", flush=True)


if __name__ == "__main__":
    main()

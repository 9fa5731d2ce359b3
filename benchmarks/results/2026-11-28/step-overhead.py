"""The fused kernel's fixed cost per mini-batch: epochs of networks too small to compute much.

    python benchmarks/results/2026-11-28/step-overhead.py M THREADS

50,000 random rows, [2, 2, 2] and [4, 4, 4, 4], seconds per epoch (median of 7)
divided by the mini-batches, and by the kernel's steps per mini-batch (2 L + 1).
"""

import sys

import numpy as np

import nnvec


def main():
    m, threads = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    for sizes in ([2, 2, 2], [4, 4, 4, 4]):
        X = rng.random((50000, sizes[0]))
        y = rng.integers(0, sizes[-1], 50000)
        net = nnvec.Network(sizes, seed=0, threads=threads)
        net.fit(X[:1000], y[:1000], epochs=1, batch_size=m, eta=3.0)
        secs = [net.fit(X, y, epochs=1, batch_size=m, eta=3.0).seconds[0] for _ in range(7)]
        per_batch = np.median(secs) / (50000 // m) * 1e9
        steps = 2 * (len(sizes) - 1) + 1
        print(f"{sizes} m={m} threads={threads}: {per_batch:.0f} ns per mini-batch, "
              f"{per_batch / steps:.0f} ns per step")


if __name__ == "__main__":
    main()

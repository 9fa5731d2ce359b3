"""Nanoseconds per mini-batch of a network too small to compute much: the fused
kernel's fixed cost per mini-batch (views of the flat buffers, loop control).

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-28/tiny-network.py [M]

[2, 2, 2] on 50,000 random rows, one thread, m = M (default 1): the median
of 20 epochs' seconds divided by the mini-batches. Run once per checkout,
alternating, to compare them.
"""

import sys

import numpy as np

import nnvec


def main():
    m = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rng = np.random.default_rng(0)
    X = rng.random((50000, 2))
    y = rng.integers(0, 2, 50000)
    net = nnvec.Network([2, 2, 2], seed=0, threads=1)
    net.fit(X[:1000], y[:1000], epochs=1, batch_size=m, eta=3.0)
    h = net.fit(X, y, epochs=20, batch_size=m, eta=3.0)
    print(f"{nnvec.__file__}: [2, 2, 2] m={m}, one thread: "
          f"{np.median(h.seconds) / (50000 // m) * 1e9:.0f} ns per mini-batch")


if __name__ == "__main__":
    main()

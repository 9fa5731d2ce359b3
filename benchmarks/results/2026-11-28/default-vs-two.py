"""The default thread choice against two fixed threads, epoch by epoch, on a quiet machine.

    python benchmarks/results/2026-11-28/default-vs-two.py REPEATS

The chapter-1 network ([784, 30, 10], ``SparseImages``, the bundled MNIST's
50,000 training images, m = 10): one network on two fixed threads and one on
the default (``threads=None``, the governor), one-epoch fits alternated.
Printed: median seconds per epoch of each and the median of the per-round
ratios default / two threads. With ``PYTHONPATH`` pointing at another
checkout it times that version.
"""

import sys
import time

import numpy as np

import nnvec


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    (X, y), _, _ = nnvec.load_mnist(compact=True)
    nets = {t: nnvec.Network([784, 30, 10], seed=1, threads=t) for t in (2, None)}
    for n in nets.values():
        n.fit(X, y, epochs=1, batch_size=10, eta=3.0)
    res = {t: [] for t in nets}
    for rep in range(reps):
        for t, n in (list(nets.items()) if rep % 2 else list(nets.items())[::-1]):
            t0 = time.perf_counter()
            n.fit(X, y, epochs=1, batch_size=10, eta=3.0)
            res[t].append(time.perf_counter() - t0)
    r = np.array(res[None]) / np.array(res[2])
    print(f"nnvec from {nnvec.__file__}, {reps} rounds: two threads {np.median(res[2]):.4f} s, "
          f"default {np.median(res[None]):.4f} s; default / two threads {np.median(r):.3f}")


if __name__ == "__main__":
    main()

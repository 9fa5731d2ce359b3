"""Seconds per epoch of 10,000 images on fixed thread counts across mini-batch sizes.

    python benchmarks/results/2026-11-29/m-scan.py

[784, 30, 10], float32 and float64, one and two threads, m = 100, 250, 500
and 1000, back to back: the median of 7 epochs after one untimed, in ms.
"""

import numpy as np

import nnvec


def main():
    (X, y), _, _ = nnvec.load_mnist()
    X, y = X[:10000], y[:10000]
    for dt in ("float32", "float64"):
        Xd = X.astype(dt)
        for threads in (1, 2):
            row = []
            for m in (100, 250, 500, 1000):
                net = nnvec.Network([784, 30, 10], seed=0, dtype=dt, threads=threads)
                net.fit(Xd, y, epochs=1, batch_size=m, eta=3.0)
                ts = [net.fit(Xd, y, epochs=1, batch_size=m, eta=3.0).seconds[0]
                      for _ in range(7)]
                row.append(f"m={m} {np.median(ts) * 1e3:.2f}")
            print(dt, "threads", threads, "; ".join(row), flush=True)


if __name__ == "__main__":
    main()

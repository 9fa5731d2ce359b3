"""Milliseconds per small fit (1,000 images, m = 100, two threads), fit after fit.

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-28/team-reuse.py

Run once per checkout, alternating, to compare a team started per fit with
one lent again (``nnvec._threads.borrow_team``). Needs the bundled MNIST
(``NNVEC_DATA_DIR`` if not found from the checkout).
"""

import time

import numpy as np

import nnvec


def main():
    tr, _, _ = nnvec.load_mnist()
    X, y = tr[0][:1000], tr[1][:1000]
    net = nnvec.Network([784, 30, 10], seed=0, threads=2)
    net.fit(X, y, epochs=1, batch_size=100, eta=3.0)
    res = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(50):
            net.fit(X, y, epochs=1, batch_size=100, eta=3.0)
        res.append((time.perf_counter() - t) / 50 * 1e3)
    print(f"{nnvec.__file__}: ms per 1,000-image fit, median of 5 x 50 fits {np.median(res):.2f}"
          f" {np.round(res, 2).tolist()}")


if __name__ == "__main__":
    main()

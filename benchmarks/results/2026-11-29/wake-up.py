"""A two-thread epoch of two mini-batches with and without an idle pause before it.

    cd /tmp && NNVEC_DATA_DIR=<repo>/data/mnist PYTHONPATH=<repo> \
        python <repo>/benchmarks/results/2026-11-29/wake-up.py

[784, 30, 10], m = 10, 20 images: the epoch time nnvec reports (``History.seconds``),
median, min and max of 9, on one and on two threads, back to back and after 0.3 s of
sleep (the bench harness's pause). What the pause adds on two threads is the helper
thread's wake-up.
"""

import time

import numpy as np

import nnvec

(X, y), _, _ = nnvec.load_mnist()
X, y = X[:20], y[:20]
for thr in (1, 2):
    net = nnvec.Network([784, 30, 10], seed=1, threads=thr)
    net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
    for pause in (0.0, 0.3):
        ts = []
        for _ in range(9):
            time.sleep(pause)
            h = net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
            ts.append(h.seconds[0] * 1e6)
        print(f"threads={thr} pause={pause}: epoch of 2 mini-batches, us: median "
              f"{np.median(ts):.0f}, min {min(ts):.0f}, max {max(ts):.0f}")

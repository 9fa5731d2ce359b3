"""Seconds of each of a fit's 4 epochs after an idle pause of 0.3 s (medians of 6 fits).

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-28/first-epochs.py

[784, 30, 10], 10,000 images, m = 1000, two threads: shows how much slower
a fit's first epochs run after the machine was idle.
"""
import time

import numpy as np

import nnvec

tr, _, _ = nnvec.load_mnist()
X, y = tr[0][:10000], tr[1][:10000]
net = nnvec.Network([784, 30, 10], seed=0, threads=2)
net.fit(X[:200], y[:200], epochs=1, batch_size=200, eta=3.0)
seconds = []
for _ in range(6):
    time.sleep(0.3)
    seconds.append(net.fit(X, y, epochs=4, batch_size=1000, eta=3.0).seconds)
print(nnvec.__file__, np.round(np.median(seconds, axis=0), 4))

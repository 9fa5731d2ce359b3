"""[784, 30, 10] float32 m = 1000, default threads, a 0.3 s pause before each fit: the governor's segments.

Each line: the epoch's seconds, then per segment threads:thousands of samples:us per sample.
"""

import time

import numpy as np

import nnvec
from nnvec import _threads
from nnvec.mnist import load_mnist

log = []
orig = _threads.ThreadGovernor.record


def rec(self, threads, n, s, m=1):
    orig(self, threads, n, s, m)
    log.append(f"{threads}:{n // 1000}:{s / n * 1e6:.1f}")


_threads.ThreadGovernor.record = rec
(trd, _, _) = load_mnist()
X, y = trd[0][:10000].astype(np.float32), trd[1][:10000]
net = nnvec.Network([784, 30, 10], seed=0, dtype=np.float32)
net.fit(X, y, epochs=1, batch_size=1000, eta=3.0)
for _i in range(8):
    time.sleep(0.3)
    log.clear()
    s = net.fit(X, y, epochs=1, batch_size=1000, eta=3.0).seconds[0]
    print(f"{s:.4f}", " ".join(log))

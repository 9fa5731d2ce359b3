"""[784, 30, 10] float32 at m = 1000: epochs right after another, or after a 0.3 s idle pause.

The default, one and two fixed threads, interleaved, 5 epochs of 10,000 images each per
setting; medians. The bench harness pauses 0.3 s (SETTLE_S) before every timed epoch.
"""

import time

import numpy as np

import nnvec
from nnvec.mnist import load_mnist

(trd, _, _) = load_mnist()
X, y = trd[0][:10000].astype(np.float32), trd[1][:10000]
nets = {t: nnvec.Network([784, 30, 10], seed=0, threads=t, dtype=np.float32) for t in (None, 1, 2)}
for n in nets.values():
    n.fit(X, y, epochs=1, batch_size=1000, eta=3.0)
for pause in (0.0, 0.3, 0.0, 0.3):
    ts = {t: [] for t in nets}
    for _ in range(5):
        for t, n in nets.items():
            time.sleep(pause)
            ts[t].append(n.fit(X, y, epochs=1, batch_size=1000, eta=3.0).seconds[0])
    print(f"pause {pause}:", {t: round(float(np.median(v)), 4) for t, v in ts.items()})

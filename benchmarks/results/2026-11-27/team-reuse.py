import sys
import time

import numpy as np

from nnvec import _threads, engine
from nnvec.engine import Network
from nnvec.mnist import load_mnist

log = []
orig = _threads.ThreadGovernor.record


def rec(self, threads, n, s, m=1):
    orig(self, threads, n, s, m)
    log.append((threads, n, s / n * 1e6))


_threads.ThreadGovernor.record = rec
if sys.argv[1] == "persistent":
    shared = _threads.Team(1)

    class Keep:
        def __init__(self, helpers=0):
            pass

        def run(self, *a):
            return shared.run(*a)

        def close(self):
            pass

    engine.Team = Keep
(X, y), _, _ = load_mnist()
X, y = X[:10000], y[:10000]
net = Network([784, 30, 10], seed=0, threads=2)
net.fit(X, y, epochs=1, batch_size=100, eta=3.0)
first, rest, ep = [], [], []
for _r in range(12):
    time.sleep(0.3)
    log.clear()
    t0 = time.perf_counter()
    net.fit(X, y, epochs=1, batch_size=100, eta=3.0)
    ep.append(time.perf_counter() - t0)
    first.append(log[0][2])
    rest.append(np.median([e[2] for e in log[1:]]))
print(
    sys.argv[1],
    "first segment us/sample",
    round(np.median(first), 2),
    "others",
    round(np.median(rest), 2),
    "epoch",
    round(np.median(ep), 4),
    "segments per fit",
    len(log),
)

import sys
import time

import numpy as np

from nnvec.engine import Network
from nnvec.mnist import load_mnist

compact = sys.argv[1] == "sparse"
m = int(sys.argv[2])
dt = sys.argv[3] if len(sys.argv) > 3 else "float64"
(X, y), _, _ = load_mnist(compact=compact, dtype=dt)
nets = {t: Network([784, 30, 10], seed=0, threads=t, dtype=dt) for t in (1, 2, None)}
ts = {t: [] for t in nets}
for _r in range(8):
    for t, net in nets.items():
        time.sleep(0.2)
        t0 = time.perf_counter()
        net.fit(X, y, epochs=1, batch_size=m, eta=3.0)
        ts[t].append(time.perf_counter() - t0)
for t in ts:
    print(t, f"{np.median(ts[t][1:]):.4f}", [round(v, 3) for v in ts[t]])

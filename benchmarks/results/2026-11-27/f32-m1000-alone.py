"""[784, 30, 10] float32 at m = 1000 alone: the default against one and two fixed threads.

Epochs of 10,000 images interleaved (default, threads=1, threads=2), 6 each,
after one warm-up epoch; prints the seconds and the default's governor.
"""

import numpy as np

import nnvec
from nnvec.mnist import load_mnist

(trd, _, _) = load_mnist()
X, y = trd[0][:10000].astype(np.float32), trd[1][:10000]
nets = {t: nnvec.Network([784, 30, 10], seed=0, threads=t, dtype=np.float32)
        for t in (None, 1, 2)}
for n in nets.values():
    n.fit(X, y, epochs=1, batch_size=1000, eta=3.0)
ts: dict = {t: [] for t in nets}
for _ in range(6):
    for t, n in nets.items():
        ts[t].append(n.fit(X, y, epochs=1, batch_size=1000, eta=3.0).seconds[0])
g = nets[None]._governor
print({t: [round(x, 4) for x in v] for t, v in ts.items()})
print(f"cur={g.current} sw={g.switches} pr={g.probes} ps={g.per_sample} gap={g.gap} "
      f"sec={g.seconds}")

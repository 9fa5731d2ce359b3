"""What one more segment boundary costs an epoch: a fixed count, the epoch cut into runs of S samples.

    python benchmarks/results/2026-11-29/segment-cost.py THREADS S1 S2 ...

[784, 30, 10] at m = 10 on 50,000 float64 rows, one-epoch fits alternated 12
times between the cuts, medians; each cut's extra time over the first (S1,
e.g. 50000: one run per epoch) divided by its extra boundaries.
"""
import statistics as st
import sys

import nnvec
from nnvec import _threads

threads, cuts = int(sys.argv[1]), [int(s) for s in sys.argv[2:]]
cut = [cuts[0]]


def plan(self, m, remaining):
    self.warm = 0
    return threads, min(remaining, cut[0])


_threads.ThreadGovernor.plan = plan  # every segment S samples on THREADS threads
_threads.ThreadGovernor.record = lambda self, *args, **kwargs: None  # nothing learnt
(X, y), _, _ = nnvec.load_mnist()
net = nnvec.Network([784, 30, 10], seed=1)
net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
res: dict = {c: [] for c in cuts}
for _ in range(12):
    for c in cuts:
        cut[0] = c
        res[c].append(net.fit(X, y, epochs=1, batch_size=10, eta=3.0).seconds[0])
base = st.median(res[cuts[0]])
for c in cuts:
    med, runs = st.median(res[c]), -(-len(y) // c)
    extra = (med - base) / max(1, runs - -(-len(y) // cuts[0]))
    print(f"{threads} threads, runs of {c:6d} samples ({runs:4d} per epoch): {med * 1e3:.2f} ms "
          f"per epoch, {extra * 1e6:.0f} us per extra boundary")

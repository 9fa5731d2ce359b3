"""The governor in `nnvec bench --busy`'s quiet scenario, m = 10: what each auto fit did.

Fits alternate auto, 1 and 2 fixed threads, as in the harness. Per auto fit: its seconds,
segments and seconds per thread count, the probe gaps at the end, and the first readings
(us per sample) on each count.
"""

import collections

import nnvec
from nnvec import _threads
from nnvec.bench import warm_up
from nnvec.mnist import load_mnist

log = []
orig = _threads.ThreadGovernor.record


def rec(self, threads, n, s, m=1, *a):
    orig(self, threads, n, s, m, *a)
    if self.adaptive:
        log.append((threads, n, s, self.current, dict(self.gap)))


_threads.ThreadGovernor.record = rec
(X, y), _, _ = load_mnist()
m = 10
nets = {t: nnvec.Network([784, 30, 10], seed=0, threads=t) for t in (None, 1, 2)}
for n in nets.values():
    warm_up(n, X, y, m)
for _r in range(5):
    for t, n in nets.items():
        log.clear()
        s = n.fit(X, y, epochs=1, batch_size=m, eta=3.0).seconds[0]
        if t is None:
            by = collections.defaultdict(float)
            cnt = collections.Counter()
            for th, _nn, ss, _cur, _gap in log:
                by[th] += ss
                cnt[th] += 1
            probes2 = [(round(ss / nn * 1e6, 2)) for th, nn, ss, cur, gap in log if th == 2][:8]
            probes1 = [(round(ss / nn * 1e6, 2)) for th, nn, ss, cur, gap in log if th == 1][:8]
            secs = {k: round(v, 3) for k, v in by.items()}
            print(
                f"auto {s:.3f}s segs={dict(cnt)} sec={secs} end gap={log[-1][4]}",
                f"us/sample 2t {probes2} 1t {probes1}",
            )
        else:
            print(f"fixed {t}: {s:.3f}")

"""A change of thread count's wake-up part in the same run as its segment, or a run of its own.

Three networks of one workload train in turn, one-epoch fits of 10,000
images after a 0.3 s pause each (as in ``nnvec bench --peers``): the
default with its governor timing the wake-up part inside one run
(``timed_inside``, what the engine does), the default with a governor that
runs it apart (the rule before), and two fixed threads. Medians, and the
median of the per-round ratios merged / apart.

    python benchmarks/results/2026-11-28/merge-ab.py DTYPE M [rounds]
"""

import sys
import time

import numpy as np

import nnvec
from nnvec import _threads, engine
from nnvec.mnist import load_mnist

dt, m = sys.argv[1], int(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 31
X = load_mnist(dtype=dt)[0][0][:10000]
y = load_mnist()[0][1][:10000]
nets = {k: nnvec.Network([784, 30, 10], seed=0, threads=t, dtype=dt)
        for k, t in (("merged", None), ("apart", None), ("two", 2))}
govs = {}
for k in ("merged", "apart"):
    gov = _threads.ThreadGovernor((1, 2), meter=_threads.LoadMeter.for_process())
    gov.timed_inside = k == "merged"
    govs[id(nets[k])] = gov
prepare = engine.Network._prepare_training


def prepare_own(self, X, Y, m):
    prepare(self, X, Y, m)
    if id(self) in govs:  # this network's own governor, kept across fits
        self._governor = govs[id(self)]


engine.Network._prepare_training = prepare_own
for net in nets.values():
    net.fit(X, y, epochs=1, batch_size=m, eta=3.0)
seconds: dict = {k: [] for k in nets}
for r in range(rounds):
    keys = list(nets)
    for k in keys[r % 3:] + keys[:r % 3]:
        time.sleep(0.3)
        seconds[k].append(nets[k].fit(X, y, epochs=1, batch_size=m, eta=3.0).seconds[0])
ratio = np.array(seconds["merged"]) / np.array(seconds["apart"])
print(f"{dt} m={m}, {rounds} rounds: "
      + "  ".join(f"{k} {np.median(v) * 1e3:.2f} ms" for k, v in seconds.items())
      + f"  merged / apart: median of the rounds' ratios {np.median(ratio):.3f}", flush=True)

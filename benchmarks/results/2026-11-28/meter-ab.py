"""The default's governor with and without its load meter, under load, in one process.

Two default networks (threads=None) of one shape train alternately under the
same load, each with its own governor: one with ``LoadMeter`` (no probe of
more threads while other processes leave no room), one without (the rules
before). Per scenario and m: medians of one-epoch fits and the mean of the
per-pair ratios (with / without), and what each governor did.

    python benchmarks/results/2026-11-28/meter-ab.py [pairs]
"""

import sys
import time

import numpy as np

import nnvec
from nnvec import _threads, bench, engine
from nnvec.mnist import load_mnist

pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 16
(X, y), _, _ = load_mnist()
X, y = X[:50000], y[:50000]
own = {}
prepare = engine.Network._prepare_training


def prepare_own(self, X, Y, m):
    prepare(self, X, Y, m)
    if self._governor is not None:  # this network's own governor, kept across fits
        self._governor = own.setdefault(id(self), self._governor_made)


engine.Network._prepare_training = prepare_own
print(f"# {time.strftime('%Y-%m-%d')}, sizes [784, 30, 10], 50,000-image epochs, {pairs} pairs "
      "alternated per row; with = LoadMeter, without = meter None (the rules before)")
for name, n_spin, rival in bench.BUSY_SCENARIOS:
    for m in (10, 100):
        nets = {}
        for meter in (True, False):
            net = nnvec.Network([784, 30, 10], seed=0)
            net._governor_made = _threads.ThreadGovernor(
                (1, 2), meter=_threads.LoadMeter.for_process() if meter else None)
            net.fit(X[:2000], y[:2000], epochs=1, batch_size=m, eta=3.0)
            nets[meter] = net
        procs = bench._start_load(n_spin, rival, [784, 30, 10], m)
        t = {True: [], False: []}
        try:
            for r in range(pairs):
                for meter in ((True, False) if r % 2 == 0 else (False, True)):
                    t[meter].append(nets[meter].fit(X, y, epochs=1, batch_size=m,
                                                    eta=3.0).seconds[0])
        finally:
            bench._stop_load(procs)
        ratio = np.array(t[True]) / np.array(t[False])
        g = {k: own[id(v)] for k, v in nets.items()}
        print(f"{name:22s} m={m:<4d} with {np.median(t[True]):.3f} without {np.median(t[False]):.3f}"
              f"  median ratio {np.median(t[True]) / np.median(t[False]):.3f}"
              f"  mean pair ratio {ratio.mean():.3f}  probes {g[True].probes}/{g[False].probes}"
              f"  skipped {g[True].skipped}  switches {g[True].switches}/{g[False].switches}",
              flush=True)

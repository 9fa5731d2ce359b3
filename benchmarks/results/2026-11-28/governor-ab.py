"""This checkout's thread governor against another version's, under load, in one process.

Two default networks (threads=None) of one shape train alternately under the
same load, each with its own governor: one of this checkout's
``ThreadGovernor``, one of the version in ``OLD`` (a copy of another
commit's ``nnvec`` package, imported under another name; only its governor
and load meter are used, the kernels are this checkout's). Per scenario and
m: medians of one-epoch fits of 50,000 images, the median of the per-pair
ratios (new / old), and what each governor did.

    python benchmarks/results/2026-11-28/governor-ab.py OLD [pairs]
"""

import importlib.util
import pathlib
import sys
import time

import numpy as np

import nnvec
from nnvec import _threads, bench, engine
from nnvec.mnist import load_mnist


def import_old(path):
    path = pathlib.Path(path)
    spec = importlib.util.spec_from_file_location(
        "nnvec_old", path / "__init__.py", submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["nnvec_old"] = module
    spec.loader.exec_module(module)
    return importlib.import_module("nnvec_old._threads")


old = import_old(sys.argv[1])
if not hasattr(old.ThreadGovernor((1, 2)), "warm"):  # before the eighteenth session
    class Before(old.ThreadGovernor):
        """The old governor as this engine calls it: never a marked wake-up part."""

        warm = 0

        def record(self, threads, n_samples, seconds, m=1, warm_s=None):
            super().record(threads, n_samples, seconds, m)

    old.ThreadGovernor = Before
pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 16
(X, y), _, _ = load_mnist()
own = {}
prepare = engine.Network._prepare_training


def prepare_own(self, X, Y, m):
    prepare(self, X, Y, m)
    if self._governor is not None:  # this network's own governor, kept across fits
        self._governor = own.setdefault(id(self), self._governor_made)


engine.Network._prepare_training = prepare_own
print(f"# {time.strftime('%Y-%m-%d')}, sizes [784, 30, 10], 50,000-image epochs, {pairs} pairs "
      f"alternated per row; new = this checkout's governor, old = {sys.argv[1]}'s")
for name, n_spin, rival in bench.BUSY_SCENARIOS:
    for m in (10, 100):
        nets = {}
        for version, module in (("new", _threads), ("old", old)):
            net = nnvec.Network([784, 30, 10], seed=0)
            net._governor_made = module.ThreadGovernor(
                (1, 2), meter=module.LoadMeter.for_process())
            net.fit(X[:2000], y[:2000], epochs=1, batch_size=m, eta=3.0)
            nets[version] = net
        procs = bench._start_load(n_spin, rival, [784, 30, 10], m)
        t: dict = {"new": [], "old": []}
        try:
            for r in range(pairs):
                for version in (("new", "old") if r % 2 == 0 else ("old", "new")):
                    t[version].append(nets[version].fit(X, y, epochs=1, batch_size=m,
                                                        eta=3.0).seconds[0])
        finally:
            bench._stop_load(procs)
        ratio = np.array(t["new"]) / np.array(t["old"])
        g = {k: own[id(v)] for k, v in nets.items()}
        print(f"{name:22s} m={m:<4d} new {np.median(t['new']):.4f} old {np.median(t['old']):.4f}"
              f"  median pair ratio {np.median(ratio):.3f}"
              f"  probes {g['new'].probes}/{g['old'].probes}"
              f"  switches {g['new'].switches}/{g['old'].switches}", flush=True)

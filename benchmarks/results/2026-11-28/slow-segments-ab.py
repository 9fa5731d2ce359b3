"""The governor's new rules against the old, in one process, fits alternated with fixed counts.

New: leave two threads after 2 slow segments in a row (or 1 clearly slow one), not after 1; a
switch to more threads resets their probe gap (before, it only ever doubled); and after a change
of thread count, the first third of a probe (the first mini-batch of a segment) is not judged.

Each auto variant has its own governor, kept across its fits like the shared one; the rule is
switched by setting _threads.SLOW_SEGMENTS before each fit. Scenarios as in nnvec bench --busy
(spinning processes). Prints medians of seconds per 50,000-image epoch, and auto / best fixed.
"""

import sys

import numpy as np

import nnvec
from nnvec import _threads, engine
from nnvec.bench import _start_load, _stop_load, warm_up
from nnvec.mnist import load_mnist

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 8
(X, y), _, _ = load_mnist()
sizes = [784, 30, 10]
govs = {}
variant = {"name": None}
real = engine.shared_governor


class Old(_threads.ThreadGovernor):
    """The rules before: a switch up leaves the winner's probe gap as it was; no segment is
    left unjudged after a change of thread count."""

    def plan(self, m, remaining):
        return self._plan(m, remaining) if self.adaptive else (self.current, remaining)

    def _switch(self, to, n_batches):
        keep = self.gap[to]
        super()._switch(to, n_batches)
        self.gap[to] = keep


def pick(choices, key):
    if variant["name"] is None:
        return real(choices, key)
    cls = Old if variant["name"] == "old" else _threads.ThreadGovernor
    return govs.setdefault((variant["name"], key), cls(choices))


engine.shared_governor = pick
for name, n_spin in (("quiet", 0), ("one core busy", 1), ("both cores busy", 2)):
    for m in (10, 100):
        nets = {
            "old": nnvec.Network(sizes, seed=0),
            "new": nnvec.Network(sizes, seed=0),
            1: nnvec.Network(sizes, seed=0, threads=1),
            2: nnvec.Network(sizes, seed=0, threads=2),
        }
        for k, net in nets.items():
            variant["name"] = k if k in ("old", "new") else None
            warm_up(net, X, y, m)
        procs = _start_load(n_spin, False, sizes, m)
        times = {k: [] for k in nets}
        try:
            for _ in range(repeats):
                for k, net in nets.items():
                    variant["name"] = k if k in ("old", "new") else None
                    _threads.SLOW_SEGMENTS = 1 if k == "old" else 2
                    times[k].append(net.fit(X, y, epochs=1, batch_size=m, eta=3.0).seconds[0])
        finally:
            _stop_load(procs)
        med = {k: float(np.median(v)) for k, v in times.items()}
        share = {
            v: sum(g.seconds[1] for (vv, _k), g in govs.items() if vv == v)
            / max(1e-9, sum(sum(g.seconds.values()) for (vv, _k), g in govs.items() if vv == v))
            for v in ("old", "new")
        }
        govs.clear()
        best = min(med[1], med[2])
        print(
            f"{name:16s} m={m:3d}: old {med['old']:.3f} new {med['new']:.3f} "
            f"1t {med[1]:.3f} 2t {med[2]:.3f}  old/best {med['old'] / best:.2f} "
            f"new/best {med['new'] / best:.2f}  one-thread share old {share['old']:.2f} "
            f"new {share['new']:.2f}",
            flush=True,
        )

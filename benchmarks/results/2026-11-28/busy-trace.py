"""Segment-by-segment trace of the default's governor under load (``nnvec bench --busy``'s loads).

    python benchmarks/results/2026-11-28/busy-trace.py M N_SPINNERS REPEATS

Each segment of the default's fits: P = a probe, w = a wake-up segment (not
judged), then threads:mini-batches:us per sample, and for one thread the
caller's CPU time / wall time (about 0.5: it shared its core with a spinner);
C = the governor's meter had said there is no room for more threads.
Fixed-count fits (1t, 2t) alternate with it.
"""

import subprocess
import sys
import time

import numpy as np

import nnvec
from nnvec import _threads
from nnvec.mnist import load_mnist

m, nspin, reps = (int(a) for a in sys.argv[1:4])
(X, y), _, _ = load_mnist()
X, y = X[:50000], y[:50000]
nets = {t: nnvec.Network([784, 30, 10], seed=0, threads=t) for t in (None, 1, 2)}
for net in nets.values():
    net.fit(X[:2000], y[:2000], epochs=1, batch_size=m, eta=3.0)
log = []
cpu = {"s": 0.0}
# each part of a run (a wake-up part and the rest share a run since the eighteenth session)
PART = "_record" if hasattr(_threads.ThreadGovernor, "_record") else "record"
run, record = _threads.Team.run, getattr(_threads.ThreadGovernor, PART)


def timed_run(self, fn, nthr, *args, **kw):
    c0 = time.thread_time()
    try:
        return run(self, fn, nthr, *args, **kw)
    finally:
        cpu["s"] = time.thread_time() - c0


def logged_record(self, threads, n, s, m=1):
    log.append((threads, n, s, cpu["s"], self.current, self.warming,
                getattr(self, "crowded", False)))
    return record(self, threads, n, s, m)


_threads.Team.run = timed_run
setattr(_threads.ThreadGovernor, PART, logged_record)


def segment(th, n, s, c, cur, warm, crowded):
    text = f"{'P' if th != cur else ''}{'w' if warm else ''}{th}:{n // m}b:{s / n * 1e6:.2f}"
    return text + (f"/{c / s:.2f}" if th == 1 else "") + ("C" if crowded else "")


procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(nspin)]
time.sleep(0.2)
times: dict = {t: [] for t in nets}
try:
    for r in range(reps):
        for t in (None, 1, 2) if r % 2 == 0 else (2, 1, None):
            log.clear()
            h = nets[t].fit(X, y, epochs=1, batch_size=m, eta=3.0)
            times[t].append(h.seconds[0])
            if t is None:
                print(f"rep {r} auto {h.seconds[0]:.3f}: " + " ".join(segment(*e) for e in log))
            else:
                print(f"rep {r} {t}t {h.seconds[0]:.3f}")
finally:
    for p in procs:
        p.kill()
for t, v in times.items():
    print(t or "auto", "median", round(float(np.median(v)), 3))

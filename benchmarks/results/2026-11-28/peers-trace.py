"""Segment-by-segment trace of nnvec's governor inside ``nnvec bench --peers``.

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-28/peers-trace.py M[,M...] DTYPE[,DTYPE...]

Runs ``bench.run_peers`` for [784, 30, 10] on 10,000 images, 5 repeats, and
prints each of nnvec's timed epochs (each after the bench's 0.3 s pause): its
seconds, then every segment: P = a probe, w = a wake-up segment (not judged),
threads:mini-batches:us per sample.
"""

import io
import sys

from nnvec import _threads, bench

log = []
# each part of a run (a wake-up part and the rest share a run since the eighteenth session)
PART = "_record" if hasattr(_threads.ThreadGovernor, "_record") else "record"
record = getattr(_threads.ThreadGovernor, PART)


def logged(self, threads, n, s, m=1):
    log.append((threads, n, s, self.current, self.warming))
    return record(self, threads, n, s, m)


setattr(_threads.ThreadGovernor, PART, logged)
time_epoch = bench.time_epoch


def traced(net, X, y, m, eta=3.0):
    log.clear()
    t = time_epoch(net, X, y, m, eta)
    if getattr(net, "_governor", None) is not None and len(X) == 10_000:
        print(f"{net.dtype.__name__ if hasattr(net.dtype, '__name__') else net.dtype} m={m} "
              f"{t * 1e3:.1f} ms: " + " ".join(
                  f"{'P' if th != cur else ''}{'w' if w else ''}{th}:{n // m}b:{s / n * 1e6:.2f}"
                  for th, n, s, cur, w in log), flush=True)
    return t


bench.time_epoch = traced
bench.run_peers([784, 30, 10], [int(x) for x in sys.argv[1].split(",")], sys.argv[2].split(","),
                5, n_samples=10_000, out=io.StringIO())

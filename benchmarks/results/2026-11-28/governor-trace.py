"""The thread governor's segments in epochs timed as ``nnvec bench`` times them.

    python benchmarks/results/2026-11-28/governor-trace.py DTYPE M REPEATS [N_SAMPLES]

[784, 30, 10], default threads; each epoch (``N_SAMPLES`` images, 10,000 by
default) after the harness's 0.3 s pause. One line per segment: W marks a
wake-up segment (trained, not judged), then the thread count, mini-batches,
microseconds per sample, and the governor's current count and probe gaps after it.
"""

import sys

import numpy as np

from nnvec import _threads
from nnvec.bench import time_epoch, warm_up
from nnvec.engine import Network
from nnvec.mnist import load_mnist


def main():
    dt, m, reps = np.dtype(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 10_000
    (X, y), _, _ = load_mnist()
    X, y = X[:n].astype(dt), y[:n]
    # each part of a run (a wake-up part and the rest share a run since the eighteenth session)
    part = "_record" if hasattr(_threads.ThreadGovernor, "_record") else "record"
    record = getattr(_threads.ThreadGovernor, part)
    log = []

    def logged(self, threads, n_samples, seconds, m=1):
        warming = self.warming
        record(self, threads, n_samples, seconds, m)
        log.append(f"  {'W' if warming else ' '} thr {threads} b {n_samples // m:3d} "
                   f"us/s {1e6 * seconds / max(n_samples, 1):6.2f} -> cur {self.current} "
                   f"gap1 {self.gap[1]:.3f} gap2 {self.gap[2]:.3f}")

    setattr(_threads.ThreadGovernor, part, logged)
    net = Network([784, 30, 10], seed=0, dtype=dt)
    warm_up(net, X, y, m)
    log.clear()
    for r in range(reps):
        t = time_epoch(net, X, y, m)
        print(f"rep {r}: {t:.4f}")
        print("\n".join(log))
        log.clear()


if __name__ == "__main__":
    main()

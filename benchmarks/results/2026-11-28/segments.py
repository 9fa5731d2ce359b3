"""What cutting an epoch into segments costs: the chapter-1 network's epoch
on two threads, whole and cut into segments of 512 and 128 mini-batches.

    python benchmarks/results/2026-11-28/segments.py REPEATS

[784, 30, 10] on ``SparseImages`` (the bundled MNIST's 50,000 training
images), m = 10, two threads. The three ways alternate, one epoch each;
printed: the median seconds per epoch of each and the median of its ratios
to the whole epoch of the same round. Run it with ``PYTHONPATH`` pointing at
another checkout to time that version.
"""

import sys
import time

import numpy as np

import nnvec
from nnvec import _threads


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    (X, y), _, _ = nnvec.load_mnist(compact=True)
    seg = {"n": 0}
    plan = _threads.ThreadGovernor.plan

    def cut(self, m, remaining):
        return (2, min(remaining, seg["n"] * m)) if seg["n"] else plan(self, m, remaining)

    _threads.ThreadGovernor.plan = cut
    net = nnvec.Network([784, 30, 10], seed=1, threads=2)
    net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
    res = {n: [] for n in (0, 512, 128)}
    for _ in range(reps):
        for n in res:
            seg["n"] = n
            t0 = time.perf_counter()
            net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
            res[n].append(time.perf_counter() - t0)
    whole = np.array(res[0])
    print(f"nnvec from {nnvec.__file__}; {reps} rounds")
    for n, v in res.items():
        what = f"segments of {n} mini-batches" if n else "whole epoch"
        extra = (np.median(v) - np.median(whole)) / max(1, -(-5000 // n) - 1) * 1e3 if n else 0.0
        print(f"{what:32s} {np.median(v):.4f} s  ratio {np.median(np.array(v) / whole):.3f}"
              + (f"  ({extra:.2f} ms per extra segment)" if n else ""))


if __name__ == "__main__":
    main()

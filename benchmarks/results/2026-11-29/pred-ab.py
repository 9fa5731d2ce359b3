"""Prediction of the 10,000 compact test images, two versions of nnvec alternated.

    python benchmarks/results/2026-11-29/pred-ab.py OLD_DIR

``OLD_DIR`` holds the old ``nnvec`` package (as for ``benchmarks/ab_epochs.py``).
Prints the median milliseconds of 41 calls each, the median of the per-pair
ratios new / old, and whether the outputs are the same bits.
"""

import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
import ab_epochs  # noqa: E402

import nnvec  # noqa: E402


def main():
    old = ab_epochs.load_old(sys.argv[1])
    _, _, (X, _) = nnvec.load_mnist(compact=True)
    data = {"new": X, "old": old.SparseImages(X.indptr, X.steps, X.vals, X.n_features, X.scale)}
    for threads in (None, 1):
        kw = {} if threads is None else {"threads": threads}
        nets = {"old": old.Network([784, 30, 10], seed=1, **kw),
                "new": nnvec.Network([784, 30, 10], seed=1, **kw)}
        for k in nets:
            nets[k].predict(data[k])
        t = {"old": [], "new": []}
        for i in range(41):
            for k in (("old", "new") if i % 2 else ("new", "old")):
                s = time.perf_counter()
                nets[k].predict(data[k])
                t[k].append(time.perf_counter() - s)
        o, n = np.array(t["old"]), np.array(t["new"])
        same = np.array_equal(nets["old"].predict_proba(data["old"]),
                              nets["new"].predict_proba(data["new"]))
        print(f"predict 10,000 compact test images, threads={threads or 'default'}: "
              f"old {np.median(o) * 1e3:.2f} ms, new {np.median(n) * 1e3:.2f} ms, new / old "
              f"(median of pairs) {np.median(n / o):.3f}; same outputs: {same}")


if __name__ == "__main__":
    main()

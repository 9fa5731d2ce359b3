"""Whole ``nnvec train --seed 1`` runs of two versions, alternated, each in a new process.

    python benchmarks/results/2026-11-29/whole-ab.py OLD_DIR N [nnvec train options]

``OLD_DIR`` holds the old ``nnvec`` package (put first on PYTHONPATH for its
runs); the new one is the installed one. One warm-up run each, then N pairs
in alternating order; prints each version's wall times, medians and the
median of the per-pair ratios new / old.
"""

import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

DATA = pathlib.Path(__file__).resolve().parents[3] / "data" / "mnist"


def main():
    old, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    envs = {"new": dict(os.environ),
            "old": dict(os.environ, PYTHONPATH=old, NNVEC_DATA_DIR=str(DATA))}
    cmd = [sys.executable, "-m", "nnvec", "train", "--seed", "1"] + extra
    # from a directory of its own: "python -m" puts the working directory first on
    # the path, where a checkout's nnvec/ would shadow either version
    cwd = tempfile.mkdtemp(prefix="whole-ab-")

    def run(name):
        t = time.perf_counter()
        subprocess.run(cmd, env=envs[name], capture_output=True, text=True, check=True,
                       cwd=cwd)
        return time.perf_counter() - t

    for name in envs:
        run(name)  # warm caches
    res = {"old": [], "new": []}
    for i in range(n):
        for name in (("old", "new") if i % 2 else ("new", "old")):
            res[name].append(run(name))
    o, nw = np.array(res["old"]), np.array(res["new"])
    label = " ".join(extra) or "defaults"
    print(f"{label}: old median {np.median(o):.3f} s {np.round(o, 2).tolist()}")
    print(f"{label}: new median {np.median(nw):.3f} s {np.round(nw, 2).tolist()}")
    print(f"new / old, median of pairs: {np.median(nw / o):.3f}")


if __name__ == "__main__":
    main()

"""The book's whole chapter-1 run against one epoch of its per-example loop.

Measures, in one session on one machine:

* ``nnvec train`` with its defaults ([784, 30, 10], 30 epochs of m=10,
  eta=3.0, an evaluation on the 10,000 test images after each), run as a new
  process: wall time (median of ``--runs`` runs, warm numba and data caches,
  and Python's bytecode of nnvec's modules written once, see ``main``) and peak
  resident memory (the child's ``ru_maxrss``);
* the same with the data cache off (``NNVEC_CACHE_DIR=``: the images
  inflated and encoded again each run, as before that cache);
* the same once on empty numba and data caches (first run after install);
* one 50,000-image epoch of the per-example reference (``ReferenceNetwork``,
  the book's algorithm), in a new process each time, median of ``--runs``.

    python benchmarks/chapter1_run.py --runs 3 --json out.json
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from nnvec.bench import machine_info

NNVEC = [sys.executable, "-m", "nnvec", "train", "--seed", "1"]


def run_cli(env):
    t = time.perf_counter()
    p = subprocess.Popen(NNVEC, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    out = p.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"nnvec train failed: {p.stderr.read()}")
    last = [line for line in out.splitlines() if line.startswith("Epoch 29")]
    return {"wall_s": wall, "max_rss_mb": usage.ru_maxrss / 1024, "last_epoch": last[-1]}


REFERENCE = """
import nnvec
(X, y), _, _ = nnvec.load_mnist()
net = nnvec.ReferenceNetwork([784, 30, 10], seed=1)
print(net.fit(X, y, epochs=1, batch_size=10, eta=3.0).seconds[0])
"""


def reference_epoch():
    # In its own process: a child's ru_maxrss starts from its parent's
    # resident size at fork, so this process stays small.
    out = subprocess.run([sys.executable, "-c", REFERENCE], capture_output=True, text=True,
                         check=True).stdout
    return float(out.split()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as data_cache:
        cold = run_cli(dict(env, NUMBA_CACHE_DIR=cache, NNVEC_CACHE_DIR=data_cache))
    # Make sure the default caches are warm, Python's bytecode of nnvec's
    # modules among them: an install has it after its first run (pip writes
    # it at install time for a regular install), but an environment with
    # PYTHONDONTWRITEBYTECODE set (this project's sandboxes set it) never
    # writes it, and every start then compiled nnvec's sources (0.03-0.06 s).
    run_cli({k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"})
    bytecode = os.path.exists(importlib.util.cache_from_source(
        os.path.join(os.path.dirname(importlib.util.find_spec("nnvec").origin), "_kernels.py")))
    # the encoded images' cache (nnvec._datacache) off: warm numba cache only
    no_data_cache = dict(env, NNVEC_CACHE_DIR="")
    warm, warm_nd, ref = [], [], []
    for _ in range(args.runs):  # interleaved
        warm.append(run_cli(env))
        warm_nd.append(run_cli(no_data_cache))
        ref.append(reference_epoch())
    # Both nnvec and the reference run in this interpreter's environment: a
    # core install (numpy and numba, the README's first command) or one with
    # the extras (scikit-learn brings scipy, which numba imports on its first
    # call: about 0.3 s more).
    extras = [name for name in ("scipy", "sklearn", "dask", "matplotlib")
              if importlib.util.find_spec(name) is not None]
    res = {
        "machine": machine_info(), "command": "python benchmarks/chapter1_run.py "
        + " ".join(sys.argv[1:]), "python": sys.executable, "extras_installed": extras,
        "nnvec_bytecode_cached": bytecode, "cold": cold, "warm": warm,
        "warm_no_data_cache": warm_nd, "reference_epoch_s": ref,
        "warm_wall_median_s": float(np.median([w["wall_s"] for w in warm])),
        "warm_no_data_cache_wall_median_s": float(np.median([w["wall_s"] for w in warm_nd])),
        "max_rss_mb": max(w["max_rss_mb"] for w in warm + warm_nd + [cold]),
        "reference_epoch_median_s": float(np.median(ref)),
    }
    res["whole_run_over_reference_epoch"] = (res["warm_wall_median_s"]
                                             / res["reference_epoch_median_s"])
    print(f"CPU: {res['machine']['cpu']}")
    print(f"Python: {sys.executable} (optional packages installed: {', '.join(extras) or 'none'})")
    print(f"Python bytecode of nnvec's modules: {'cached' if bytecode else 'not cached'}")
    print(f"nnvec train (whole chapter-1 run, warm cache): {res['warm_wall_median_s']:.2f} s "
          f"(median of {args.runs}; {[round(w['wall_s'], 2) for w in warm]})")
    print(f"nnvec train, warm numba cache, data cache off (NNVEC_CACHE_DIR=): "
          f"{res['warm_no_data_cache_wall_median_s']:.2f} s "
          f"({[round(w['wall_s'], 2) for w in warm_nd]}), / reference epoch "
          f"{res['warm_no_data_cache_wall_median_s'] / np.median(ref):.2f}")
    print(f"nnvec train, empty numba and data caches (first run after install): "
          f"{cold['wall_s']:.2f} s")
    print(f"one reference epoch (per-example, 50,000 images): "
          f"{res['reference_epoch_median_s']:.2f} s (median of {args.runs})")
    print(f"whole run / one reference epoch: {res['whole_run_over_reference_epoch']:.2f}")
    print(f"peak resident memory of nnvec train: {res['max_rss_mb']:.0f} MB "
          f"(per run, warm, data cache off, cold: "
          f"{[round(w['max_rss_mb']) for w in warm + warm_nd + [cold]]})")
    print(f"final accuracy: {warm[-1]['last_epoch']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

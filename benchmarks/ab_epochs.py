"""Two versions of nnvec, epoch against epoch, interleaved in one process.

On a noisy machine two separate runs of the same code can differ by 20-30%,
more than most changes are worth. This script imports a second copy of the
package (``--old``: a directory holding an ``nnvec`` package, e.g. a
``git worktree`` of an older commit) under another name, builds the same
network from the same seed in both, and alternates single epochs between them
(old-new, new-old, ...), so both see the same machine state. It prints the
median seconds per epoch of each and the median of the per-pair ratios
new / old, and how far apart the two networks' weights ended (0 when the
change keeps the arithmetic bit for bit).

    git worktree add /tmp/nnvec-old HEAD~1
    python benchmarks/ab_epochs.py --old /tmp/nnvec-old --sizes 784 1000 10 --m 100 \\
        --strategy batched --samples 10000 --pairs 7

The old copy gets its own numba cache (in its own ``__pycache__``), so the
first epoch of each may include compiling; the first pair is not counted.
"""

import argparse
import importlib
import pathlib
import shutil
import sys
import tempfile
import time

import numpy as np


def load_old(old_dir):
    """The package in ``old_dir/nnvec``, imported as ``nnvec_old``."""
    src = pathlib.Path(old_dir) / "nnvec"
    if not (src / "__init__.py").is_file():
        raise SystemExit(f"{src} is not an nnvec package (expected {src}/__init__.py)")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="nnvec-ab-"))
    shutil.copytree(src, tmp / "nnvec_old")  # relative imports only: any name works
    sys.path.insert(0, str(tmp))
    return importlib.import_module("nnvec_old")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="directory with the old nnvec package")
    ap.add_argument("--sizes", type=int, nargs="+", default=[784, 30, 10])
    ap.add_argument("--m", type=int, default=10)
    ap.add_argument("--strategy", default="auto", choices=["auto", "fused", "batched"])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--compact", action="store_true", help="train on SparseImages")
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--own-data", action="store_true",
                    help="each version trains on what its own load_mnist returns (the same "
                         "values; a change to the loader's arrays then counts)")
    ap.add_argument("--pause", type=float, default=0.0,
                    help="seconds to sleep before each epoch (the bench harness's SETTLE_S)")
    args = ap.parse_args(argv)

    import nnvec
    old = load_old(args.old)
    (X, y), _, _ = nnvec.load_mnist(dtype=args.dtype, compact=args.compact)
    X, y = X[:args.samples], y[:args.samples]
    data = {"new": X, "old": X}
    if args.compact:  # each version's own SparseImages class, same arrays
        data["old"] = old.SparseImages(X.indptr, X.steps, X.vals, X.n_features, X.scale)
    elif args.own_data:
        (Xo, _), _, _ = old.load_mnist(dtype=args.dtype)
        data["old"] = Xo[:args.samples]
        assert np.array_equal(data["old"], X)
    nets = {name: mod.Network(args.sizes, seed=1, strategy=args.strategy, threads=args.threads,
                              dtype=args.dtype)
            for name, mod in (("old", old), ("new", nnvec))}
    seconds = {"old": [], "new": []}
    for pair in range(args.pairs + 1):
        for name in (("old", "new") if pair % 2 else ("new", "old")):
            time.sleep(args.pause)
            hist = nets[name].fit(data[name], y, epochs=1, batch_size=args.m, eta=3.0)
            if pair:  # the first pair may include compiling
                seconds[name].append(hist.seconds[0])
    o, n = np.array(seconds["old"]), np.array(seconds["new"])
    diff = max(float(np.max(np.abs(a - b)))
               for a, b in zip(nets["old"].weights, nets["new"].weights))
    print(f"sizes={args.sizes} m={args.m} strategy={args.strategy} dtype={args.dtype} "
          f"compact={args.compact} samples={args.samples} pause={args.pause}"
          f"{' own-data' if args.own_data else ''}: seconds per epoch, median of "
          f"{args.pairs}: old {np.median(o):.4f}, new {np.median(n):.4f}; new / old "
          f"(median of per-pair ratios) {np.median(n / o):.3f}; max weight difference {diff:.2g}")


if __name__ == "__main__":
    main()

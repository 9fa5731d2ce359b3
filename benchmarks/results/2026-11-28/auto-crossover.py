"""Fused against batched, epoch against epoch in one process, for the shapes
where ``strategy="auto"`` may pick BLAS: seconds per epoch of 10,000 images,
medians of 5 (the first of 6 rounds not counted), float64, default threads.

    python benchmarks/results/2026-11-28/auto-crossover.py [--m 50 200 1000]
"""

import argparse

import numpy as np

import nnvec
from nnvec.engine import auto_strategy

SHAPES = ([784, 300, 10], [784, 1000, 10], [784, 500, 300, 10], [784, 100, 100, 10])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    args = ap.parse_args()
    (X, y), _, _ = nnvec.load_mnist()
    X, y = X[:10000], y[:10000]
    for sizes in ([args.sizes] if args.sizes else SHAPES):
        for m in args.m:
            nets = {s: nnvec.Network(sizes, seed=1, strategy=s) for s in ("fused", "batched")}
            secs = {s: [] for s in nets}
            for rnd in range(6):
                order = list(nets.items()) if rnd % 2 else list(nets.items())[::-1]
                for s, net in order:
                    h = net.fit(X, y, epochs=1, batch_size=m, eta=3.0)
                    if rnd:
                        secs[s].append(h.seconds[0])
            f, b = np.median(secs["fused"]), np.median(secs["batched"])
            print(f"{sizes} m={m}: fused {f:.3f} s, batched {b:.3f} s, fused/batched {f / b:.2f}, "
                  f"auto={auto_strategy(sizes, m)}", flush=True)


if __name__ == "__main__":
    main()

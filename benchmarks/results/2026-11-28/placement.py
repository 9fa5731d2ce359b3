"""Seconds of a one-epoch fit after an idle pause of 0.3 s, and of steady epochs.

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-28/placement.py [--threads 2]

[784, 30, 10], 10,000 images, m = 1000: the median of 12 one-epoch fits,
each after a 0.3 s sleep, then the median of a 4-epoch fit's last three
epochs. ``--threads`` as ``Network(threads=...)`` (default: the governor).
"""

import argparse
import time

import numpy as np

import nnvec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    tr, _, _ = nnvec.load_mnist()
    X, y = tr[0][:10000], tr[1][:10000]
    net = nnvec.Network([784, 30, 10], seed=0, threads=args.threads)
    net.fit(X[:2000], y[:2000], epochs=1, batch_size=1000, eta=3.0)
    after = []
    for _ in range(12):
        time.sleep(0.3)
        after.append(net.fit(X, y, epochs=1, batch_size=1000, eta=3.0).seconds[0])
    steady = net.fit(X, y, epochs=4, batch_size=1000, eta=3.0).seconds[1:]
    print(f"{nnvec.__file__} threads={args.threads}: after a pause {np.median(after):.4f} s, "
          f"steady {np.median(steady):.4f} s")


if __name__ == "__main__":
    main()

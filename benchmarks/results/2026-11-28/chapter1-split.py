"""Where a warm chapter-1 run's time goes, and its epochs on 1, 2 and the default threads.

Part 1 (a fresh process, as ``nnvec train`` is): importing nnvec, loading the
bundled MNIST as ``SparseImages`` (the first call into numba sets up its
registries here), then 30 epochs at m = 10, eta = 3 with evaluation on the
test set after each. Part 2: ``--rounds`` rounds of 8 epochs each with
``threads=None`` (the default), 1 and 2, the same data and evaluation.

    python benchmarks/results/2026-11-28/chapter1-split.py [--rounds 2]
"""

import time

t_start = time.perf_counter()

import argparse  # noqa: E402

import numpy as np  # noqa: E402

import nnvec  # noqa: E402

t_import = time.perf_counter()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    tr, _, te = nnvec.load_mnist(compact=True)
    t1 = time.perf_counter()
    net = nnvec.Network([784, 30, 10], seed=1)
    h = net.fit(*tr, epochs=30, batch_size=10, eta=3.0, validation_data=te)
    t2 = time.perf_counter()
    s = np.array(h.seconds)
    print(f"import nnvec {t_import - t_start:.2f} s, load_mnist(compact=True) {t1 - t0:.2f} s, "
          f"fit (30 epochs + evaluations) {t2 - t1:.2f} s: epochs {s.sum():.2f} s "
          f"(first {s[0]:.3f}, median {np.median(s):.3f}), the rest {t2 - t1 - s.sum():.2f} s")
    for rnd in range(args.rounds):
        for threads in (None, 1, 2):
            net = nnvec.Network([784, 30, 10], seed=1, threads=threads)
            t = time.perf_counter()
            h = net.fit(*tr, epochs=8, batch_size=10, eta=3.0, validation_data=te)
            t = time.perf_counter() - t
            print(f"round {rnd + 1}, threads={threads}: fit {t:.2f} s, seconds per epoch median "
                  f"{np.median(h.seconds):.3f}, min {min(h.seconds):.3f}", flush=True)


if __name__ == "__main__":
    main()

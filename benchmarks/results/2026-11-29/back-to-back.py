"""Issue 9's section 4 measured on back-to-back epochs, the way the matmul peak is.

    python benchmarks/results/2026-11-29/back-to-back.py

``nnvec bench`` sleeps 0.3 s before each timed epoch (so one engine's idle
thread pool settles before the next engine runs), and on this host that
pause costs the epoch after it its cached inputs. Training runs its epochs
back to back, and ``bench.matmul_peak`` times its products back to back too,
so here every epoch follows the one before without a pause. Default settings
(``threads="auto"``, ``strategy="auto"``), 10,000 dense MNIST images:

* the share of the float64 matmul peak (``bench.matmul_peak``, measured
  before and after; the larger) at the grid's six shapes, m = 10 and 100:
  useful FLOPs (``bench.epoch_flops``) over the median of 7 epochs after one
  untimed;
* float32 / float64 at [784, 30, 10], m = 1, 10, 100, 1000: four rounds of
  one untimed and three timed epochs of each (the other dtype's epochs take
  the inputs out of cache), the ratio of the medians of the 12.
"""

import numpy as np

import nnvec
from nnvec.bench import epoch_flops, matmul_peak

SHAPES = ([784, 30, 10], [784, 100, 10], [784, 300, 10], [784, 1000, 10],
          [784, 100, 100, 10], [784, 500, 300, 10])


def epoch(net, X, y, m):
    return net.fit(X, y, epochs=1, batch_size=m, eta=3.0).seconds[0]


def main():
    (X, y), _, _ = nnvec.load_mnist()
    X, y = X[:10000], y[:10000]
    X32 = X.astype(np.float32)
    peak0 = matmul_peak(np.float64)
    rows = []
    for sizes in SHAPES:
        for m in (10, 100):
            net = nnvec.Network(sizes, seed=0)
            epoch(net, X, y, m)
            t = float(np.median([epoch(net, X, y, m) for _ in range(7)]))
            rows.append((sizes, m, t, epoch_flops(sizes, len(X), m)[0] / t / 1e9))
    peak = max(peak0, matmul_peak(np.float64))
    print(f"float64 matmul peak {peak:.1f} GFLOP/s (before {peak0:.1f})")
    for sizes, m, t, gf in rows:
        print(f"{str(sizes):>22} m={m:<4} {t * 1e3:8.2f} ms {gf:6.1f} GFLOP/s {100 * gf / peak:4.0f}%",
              flush=True)
    sizes = [784, 30, 10]
    for m in (1, 10, 100, 1000):
        nets = {dt: nnvec.Network(sizes, seed=0, dtype=dt) for dt in ("float32", "float64")}
        data = {"float32": X32, "float64": X}
        for dt, net in nets.items():
            epoch(net, data[dt], y, m)
        ts = {dt: [] for dt in nets}
        for p in range(4):
            order = ("float32", "float64") if p % 2 else ("float64", "float32")
            for dt in order:
                epoch(nets[dt], data[dt], y, m)  # its inputs back in cache
                ts[dt] += [epoch(nets[dt], data[dt], y, m) for _ in range(3)]
        ratio = np.median(ts["float64"]) / np.median(ts["float32"])
        print(f"[784, 30, 10] m={m:<4} float64 {np.median(ts['float64']) * 1e3:7.2f} ms, float32 "
              f"{np.median(ts['float32']) * 1e3:7.2f} ms: float32 {ratio:.2f}x float64's speed",
              flush=True)


if __name__ == "__main__":
    main()

"""float64 and float32 epochs of [784, 30, 10] on a fixed thread count, alternated.

    python benchmarks/results/2026-11-29/threads-by-dtype.py M THREADS

10,000 float64 (or float32) rows, five rounds of one three-epoch fit per dtype
after a warm-up; the medians of the 15 epochs each, and their ratio.
"""
import statistics as st
import sys

import numpy as np

import nnvec

m, threads = int(sys.argv[1]), int(sys.argv[2])
(X, y), _, _ = nnvec.load_mnist()
X, y = X[:10000], y[:10000]
data = {"float64": X, "float32": X.astype(np.float32)}
nets = {d: nnvec.Network([784, 30, 10], seed=1, dtype=d, threads=threads) for d in data}
res: dict = {d: [] for d in nets}
for d, net in nets.items():
    net.fit(data[d], y, epochs=2, batch_size=m, eta=3.0)
for _ in range(5):
    for d, net in nets.items():
        res[d].extend(net.fit(data[d], y, epochs=3, batch_size=m, eta=3.0).seconds)
a, b = st.median(res["float64"]), st.median(res["float32"])
print(f"m={m}, {threads} thread(s): float64 {a * 1e3:.2f} ms, float32 {b * 1e3:.2f} ms per "
      f"10,000 images; float32 {a / b:.2f}x float64's speed")

"""The default thread choice against one and two fixed threads, fits alternated in one process.

    python benchmarks/results/2026-11-29/default-vs-fixed.py REPEATS SIZES M [compact]

e.g. ``... 9 784,30,10 1``: REPEATS rounds, each one two-epoch fit per setting (the
second epoch timed), on the first 20,000 training images as float64 rows (or all 50,000
as ``SparseImages`` with ``compact``); prints the medians and auto / the better fixed count.
"""
import statistics as st
import sys

import nnvec

reps, sizes, m = int(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")], int(sys.argv[3])
compact = len(sys.argv) > 4 and sys.argv[4] == "compact"
(X, y), _, _ = nnvec.load_mnist(compact=compact)
if not compact:
    X, y = X[:20000], y[:20000]
nets = {k: nnvec.Network(sizes, seed=1, threads=v) for k, v in [("auto", None), ("2", 2), ("1", 1)]}
res: dict = {k: [] for k in nets}
for net in nets.values():
    net.fit(X, y, epochs=1, batch_size=m, eta=0.5)  # compile, start the helpers
for _ in range(reps):
    for k, net in nets.items():
        res[k].append(net.fit(X, y, epochs=2, batch_size=m, eta=0.5).seconds[1])
best = min(st.median(res["1"]), st.median(res["2"]))
print(sizes, f"m={m}", "SparseImages" if compact else "float64 rows",
      " ".join(f"{k}: {st.median(v) * 1e3:.1f} ms" for k, v in res.items()),
      f"auto / best fixed {st.median(res['auto']) / best:.3f}")

"""Seconds numba spends compiling a first fit and a first predict (run with an empty NUMBA_CACHE_DIR).

rm -rf $C; NUMBA_CACHE_DIR=$C PYTHONPATH=<checkout> python compile-time.py fit_first
"""

import sys
import time

t0 = time.perf_counter()
import nnvec  # noqa: E402
from nnvec.mnist import load_mnist  # noqa: E402

t1 = time.perf_counter()
(X, y), (Xv, yv), _ = load_mnist(compact=True)
t2 = time.perf_counter()
net = nnvec.Network([784, 30, 10], seed=0)
if sys.argv[1] == "eval_first":
    net.predict(Xv[:100])
    t3 = time.perf_counter()
    net.fit(X[:100], y[:100], epochs=1, batch_size=10, eta=3.0)
    t4 = time.perf_counter()
    print(
        f"import {t1 - t0:.1f} load {t2 - t1:.1f} predict(compile) {t3 - t2:.1f} "
        f"fit(compile) {t4 - t3:.1f}"
    )
else:
    net.fit(X[:100], y[:100], epochs=1, batch_size=10, eta=3.0)
    t3 = time.perf_counter()
    net.predict(Xv[:100])
    t4 = time.perf_counter()
    print(
        f"import {t1 - t0:.1f} load {t2 - t1:.1f} fit(compile) {t3 - t2:.1f} "
        f"predict(compile) {t4 - t3:.1f}"
    )

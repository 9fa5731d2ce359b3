# The weight update w -= step * nabla (784,000 float64) on one thread, or split between two
# (a new thread, or a pool thread). python update-two-threads.py
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from nnvec import _kernels as K

n = 784 * 1000
w = np.random.rand(n)
nw = np.random.rand(n)


@numba.njit(nogil=True)
def part(w, nw, step, lo, hi):
    for i in range(lo, hi):
        w[i] = w[i] - step * nw[i]


part(w, nw, 0.0, 0, 10)


def two():
    th = threading.Thread(target=part, args=(w, nw, 0.0, n // 2, n))
    th.start()
    part(w, nw, 0.0, 0, n // 2)
    th.join()



pool = ThreadPoolExecutor(1)
pool.submit(lambda: 0).result()


def two_pool():
    f = pool.submit(part, w, nw, 0.0, n // 2, n)
    part(w, nw, 0.0, 0, n // 2)
    f.result()


def one():
    K.inplace_sgd_update(w, nw, 1.0, 0.0)


for f in (one, two, two_pool, one, two_pool):
    ts = []
    for _ in range(200):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    print(f.__name__, f"{np.median(ts) * 1e3:.3f} ms")

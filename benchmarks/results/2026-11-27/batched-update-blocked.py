# The batched strategy's gradient product and weight update: whole, or in row blocks so the
# gradient block is updated while in cache. python batched-update-blocked.py N_OUT (n_in 784, m 100)
import time

import numpy as np

from nnvec import _kernels as K

n_out, n_in, m = int(__import__("sys").argv[1]), 784, 100
W = np.random.rand(n_out, n_in)
D = np.random.rand(n_out, m)
x = np.random.rand(m, n_in)
NW = np.empty_like(W)
fw, fn = W.reshape(-1), NW.reshape(-1)


def full():
    np.matmul(D, x, out=NW)
    K.inplace_sgd_update(fw, fn, 1.0, 0.0)


def blocked(bs):
    def f():
        for r in range(0, n_out, bs):
            nb = NW[r : r + bs]
            np.matmul(D[r : r + bs], x, out=nb)
            K.inplace_sgd_update(W[r : r + bs].reshape(-1), nb.reshape(-1), 1.0, 0.0)

    f.__name__ = f"blocked{bs}"
    return f


def mmonly():
    np.matmul(D, x, out=NW)


fs = [full, mmonly, blocked(64), blocked(128), blocked(256), blocked(500)]
res = {f.__name__: [] for f in fs}
for _rep in range(15):
    for f in fs:
        t0 = time.perf_counter()
        for _ in range(10):
            f()
        res[f.__name__].append((time.perf_counter() - t0) / 10)
for k, v in res.items():
    print(k, f"{np.median(v) * 1e3:.3f} ms")

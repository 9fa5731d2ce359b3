import time

import numba
import numpy as np

from nnvec import _kernels as K
from nnvec.mnist import load_mnist

(Xs, y), _, _ = load_mnist(compact=True)
n = len(Xs)
perm = np.random.default_rng(0).permutation(n)
fj = numba.njit(nogil=True, fastmath=K.FASTMATH, error_model="numpy")


@fj
def u2(D, sp, rows, r, k0, k1, decay):
    indptr, steps, vals, lut, WT = sp
    n_out = D.shape[1]
    for i in range(r):
        src = rows[i]
        k = 0
        p = indptr[src]
        end = indptr[src + 1]
        Di = D[i]
        while p < end:
            kn = k + steps[p]
            if kn >= k0:
                break
            k = kn
            p += 1
        while p + 2 <= end:
            ka = k + steps[p]
            kb = ka + steps[p + 1]
            if kb >= k1:
                break
            xa = lut[vals[p]]
            xb = lut[vals[p + 1]]
            wa = WT[ka]
            wb = WT[kb]
            for j in range(n_out):
                d = Di[j]
                wa[j] += d * xa
                wb[j] += d * xb
            k = kb
            p += 2
        while p < end:
            k += steps[p]
            if k >= k1:
                break
            x = lut[vals[p]]
            w = WT[k]
            for j in range(n_out):
                w[j] += Di[j] * x
            p += 1


@fj
def u4(D, sp, rows, r, k0, k1, decay):
    indptr, steps, vals, lut, WT = sp
    n_out = D.shape[1]
    for i in range(r):
        src = rows[i]
        k = 0
        p = indptr[src]
        end = indptr[src + 1]
        Di = D[i]
        while p < end:
            kn = k + steps[p]
            if kn >= k0:
                break
            k = kn
            p += 1
        while p + 4 <= end:
            ka = k + steps[p]
            kb = ka + steps[p + 1]
            kc = kb + steps[p + 2]
            kd = kc + steps[p + 3]
            if kd >= k1:
                break
            xa = lut[vals[p]]
            xb = lut[vals[p + 1]]
            xc = lut[vals[p + 2]]
            xd = lut[vals[p + 3]]
            wa = WT[ka]
            wb = WT[kb]
            wc = WT[kc]
            wd = WT[kd]
            for j in range(n_out):
                d = Di[j]
                wa[j] += d * xa
                wb[j] += d * xb
                wc[j] += d * xc
                wd[j] += d * xd
            k = kd
            p += 4
        while p < end:
            k += steps[p]
            if k >= k1:
                break
            x = lut[vals[p]]
            w = WT[k]
            for j in range(n_out):
                w[j] += Di[j] * x
            p += 1


@fj
def ucur(D, sp, rows, r, k0, k1, decay):
    K._update_input_sparse(D, sp, rows, r, k0, k1, decay)


@numba.njit(nogil=True)
def epoch(f, D, sp, perm, m, k0, k1):
    for s in range(0, perm.shape[0], m):
        f(D, sp, perm[s : s + m], m, k0, k1, 1.0)


WT0 = np.zeros((784, 32))
WT0[:, :30] = np.random.rand(784, 30) * 0.01
D = np.random.rand(10, 30) * 1e-6
res = {}
outs = {}
for f in (ucur, u2, u4):
    for k0, k1 in ((0, 784), (300, 500)):
        WT = WT0.copy()
        sp = (Xs.indptr, Xs.steps, Xs.vals, Xs.lut(np.float64), WT)
        epoch(f, D, sp, perm[:1000], 10, k0, k1)
        outs[(f.__name__, k0)] = WT.copy()
for _rep in range(7):
    for f in (ucur, u2, u4):
        WT = WT0.copy()
        sp = (Xs.indptr, Xs.steps, Xs.vals, Xs.lut(np.float64), WT)
        order = np.arange(n)
        t0 = time.perf_counter()
        epoch(f, D, sp, order, 10, 0, 784)
        res.setdefault(f.__name__, []).append(time.perf_counter() - t0)
for k, v in res.items():
    print(k, f"{np.median(v):.4f} s {np.median(v) / Xs.vals.size * 1e9:.2f} ns/pixel")
for k0 in (0, 300):
    print(
        "same as current",
        k0,
        np.array_equal(outs[("u2", k0)], outs[("ucur", k0)]),
        np.array_equal(outs[("u4", k0)], outs[("ucur", k0)]),
    )

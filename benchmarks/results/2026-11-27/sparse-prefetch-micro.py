import time

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from nnvec import _kernels as K
from nnvec.mnist import load_mnist

(Xs, y), _, _ = load_mnist(compact=True)
n = len(Xs)
perm = np.random.default_rng(0).permutation(n)


@intrinsic
def _prefetch(typingctx, ary, i):
    def codegen(context, builder, sig, args):
        ptr = K._item_pointer(context, builder, sig.args[0], args[0], args[1])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [i8p], fnty=ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        )
        builder.call(
            fn,
            [
                builder.bitcast(ptr, i8p),
                ir.Constant(i32, 0),
                ir.Constant(i32, 3),
                ir.Constant(i32, 1),
            ],
        )
        return context.get_dummy_value()

    return types.none(ary, i), codegen


fj = numba.njit(nogil=True, fastmath=K.FASTMATH, error_model="numpy")


@fj
def fwd_pf(sp, rows, i0, i1, b, Out, zero, ahead):
    indptr, steps, vals, lut, WT = sp
    width = WT.shape[1]
    acc = np.empty(width, WT.dtype)
    for i in range(i0, i1):
        src = rows[i]
        if ahead and i + 1 < i1:
            q = indptr[rows[i + 1]]
            for c in range(0, 256, 64):
                _prefetch(steps, q + c)
                _prefetch(vals, q + c)
            if i + 2 < i1:
                _prefetch(indptr, rows[i + 2])
        for j in range(width):
            acc[j] = zero
        k = 0
        p = indptr[src]
        end = indptr[src + 1]
        while p + 4 <= end:
            k0 = k + steps[p]
            k1 = k0 + steps[p + 1]
            k2 = k1 + steps[p + 2]
            k = k2 + steps[p + 3]
            x0 = lut[vals[p]]
            x1 = lut[vals[p + 1]]
            x2 = lut[vals[p + 2]]
            x3 = lut[vals[p + 3]]
            w0 = WT[k0]
            w1 = WT[k1]
            w2 = WT[k2]
            w3 = WT[k]
            for j in range(width):
                acc[j] += (x0 * w0[j] + x1 * w1[j]) + (x2 * w2[j] + x3 * w3[j])
            p += 4
        while p < end:
            k += steps[p]
            x0 = lut[vals[p]]
            w0 = WT[k]
            for j in range(width):
                acc[j] += x0 * w0[j]
            p += 1
        for j in range(Out.shape[1]):
            Out[i, j] = acc[j] + b[j]


@numba.njit(nogil=True)
def epoch(sp, perm, m, b, Out, ahead):
    for s in range(0, perm.shape[0], m):
        fwd_pf(sp, perm[s : s + m], 0, m, b, Out, 0.0, ahead)


@numba.njit(nogil=True)
def epoch_all(sp, perm, m, b, Out, ahead):
    fwd_pf(sp, perm, 0, perm.shape[0], b, Out, 0.0, ahead)


WT = np.zeros((784, 32))
WT[:, :30] = np.random.rand(784, 30) * 0.01
sp = (Xs.indptr, Xs.steps, Xs.vals, Xs.lut(np.float64), WT)
b = np.zeros(30)
Out = np.empty((10, 30))
OutA = np.empty((n, 30))
res = {}
for _rep in range(7):
    for ahead in (False, True):
        for name, f, O in (("batches", epoch, Out), ("whole", epoch_all, OutA)):
            f(sp, perm, 10, b, O, ahead)
            t0 = time.perf_counter()
            f(sp, perm, 10, b, O, ahead)
            res.setdefault((name, ahead), []).append(time.perf_counter() - t0)
for k, v in res.items():
    print(k, f"{np.median(v):.4f} s {np.median(v) / Xs.vals.size * 1e9:.2f} ns/pixel")

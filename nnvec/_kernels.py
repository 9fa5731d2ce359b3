"""Every numba-jitted kernel of nnvec, in one place.

Rules of this module: arrays and scalars in, results written into arrays the
caller owns; no validation, no globals, and no allocation in the per-batch
kernels beyond a small scratch (a row of sums, a block of outputs). Each
elementwise kernel has a plain numpy twin of the same name and signature in
``nnvec._numpy_kernels``, which the tests compare it against and which the
``engine="numpy"`` path runs (the fused kernels are held to the per-example
reference instead). Callers pass C-contiguous float32 or float64
arrays of matching dtype.

Every function here is a top-level ``def`` with its own name, so numba's
on-disk cache (``cache=True``) keys each one separately.
"""

import platform
import sys

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

#: numba flags, set once. fastmath is off: the matrix engine must reproduce the
#: per-example reference to 1e-12, and the sigmoid relies on IEEE inf/0.
_JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")
jit = numba.njit(**_JIT)
#: the bodies of kernels compiled twice over (see ``_prefer_512_bit``)
_jit_inline = numba.njit(inline="always", **_JIT)


# ---- 512-bit vectors where the CPU has them ----
# LLVM's tuning for AVX-512 CPUs asks its vectoriser for 256-bit vectors
# ("prefer-256-bit"), so on such a CPU numba's loops ran in half the width
# that numpy's BLAS and the peers use. A function attribute lifts that for
# nnvec's kernels alone (other numba code in the process keeps LLVM's
# choice): a kernel that calls ``_prefer_512_bit()`` is compiled with
# "prefer-vector-width"="512", and the register panels compiled into it
# (``_update_panel``, ``_delta_panel``) take 512-bit vectors too. The dense
# layers' kernels have such ``_v512`` twins, and so have the two fused entry
# points (``train_epoch_fused_v512``, ``forward_rows_fused_v512``), which call
# only the twins. The engine runs them for networks with a large dense layer
# (``config.WIDE_MIN_WEIGHTS``), and the usual kernels for the others: the
# CPU clocks down while it runs 512-bit multiply-adds, and the chapter-1
# network on SparseImages (small dense layers, a sparse input layer in
# 256-bit code) ran 5-16% slower with them
# (benchmarks/results/2026-11-28/ab-512-bit-thirteenth.txt). A network
# compiles only the entry it runs. Where the CPU has no AVX-512 nothing is
# marked, and each twin is the same code as the usual kernel.


def _cpu_has_avx512():
    """Whether numba compiles for a CPU with AVX-512 (numba's own view: it
    honours ``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES``). numba keys its on-disk
    cache on the CPU's features too, so a kernel compiled for one kind of CPU
    is never loaded on the other."""
    from numba.core import codegen, config

    features = config.CPU_FEATURES  # type: ignore[attr-defined]
    if features is None:
        features = codegen.get_host_cpu_features()
    return "+avx512f" in features.split(",")


#: the CPU has AVX-512: the ``_v512`` kernels use it
AVX512 = _cpu_has_avx512()


class _Prefer512BitAttributes(ir.values.FunctionAttributes):
    def __bool__(self):  # llvmlite writes no attributes for an empty set
        return True

    def _to_list(self, ret_type):
        return super()._to_list(ret_type) + ['"prefer-vector-width"="512"']


def _mark_512_bit(builder):
    fn = builder.function
    old = fn.attributes
    if AVX512 and not isinstance(old, _Prefer512BitAttributes):
        marked = _Prefer512BitAttributes()
        set.update(marked, old)  # already checked by add()
        marked.alignstack = old.alignstack
        marked.personality = old.personality
        fn.attributes = marked


@intrinsic
def _prefer_512_bit(typingctx):
    """Compile the calling kernel for 512-bit vectors where the CPU has them (see above)."""
    def codegen(context, builder, sig, args):
        _mark_512_bit(builder)
        return context.get_dummy_value()
    return types.none(), codegen


@intrinsic
def _prefer_512_bit_if(typingctx, wide):
    """``_prefer_512_bit()`` if ``wide``, which must be a constant of the
    compiled code (the mark is made as it compiles, not as it runs)."""
    if not isinstance(wide, types.BooleanLiteral):
        return None

    def codegen(context, builder, sig, args):
        if wide.literal_value:
            _mark_512_bit(builder)
        return context.get_dummy_value()
    return types.none(wide), codegen


def _panel_bytes(builder):
    """Bytes per vector of a register panel compiled into the function
    ``builder`` builds: 64 in one marked by ``_prefer_512_bit``, else ``VEC_BYTES``."""
    return 64 if isinstance(builder.function.attributes, _Prefer512BitAttributes) else VEC_BYTES


# ---- the sigmoid: exp written out, so that loops of sigmoids vectorise ----
# libm's exp is a call LLVM cannot vectorise, and on machines without AVX-512
# numpy's exp is scalar too, so the batched strategy's rows of sigmoids were a
# large share of a mini-batch at wide layers. Written as arithmetic
# (Cody-Waite reduction x = n ln2 + r, a degree-13 Taylor polynomial for
# exp(r) on |r| <= ln2/2, 2^n made from its bits), a row of sigmoids runs in
# AVX2 vectors (the README gives the measured gain). Within 1 ulp of numpy's
# exp (tests/test_kernels.py); the sigmoid within 4.4e-16 relative.
# These helpers are compiled without fastmath, and keep their own flags when
# inlined into the fastmath kernels below: reassociation would undo both the
# rounding trick (t - MAGIC) and the two-part ln2.

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln2's leading bits: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer
_MAGIC_BITS = 0x4338000000000000  # its bits; t's bits minus these are that integer


@intrinsic
def _float_bits(typingctx, x):
    """The int64 with the bits of float64 ``x``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _bits_float(typingctx, i):
    """The float64 with the bits of int64 ``i``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@jit
def _exp_nonpositive(x):
    """exp(x) for x <= 0 in float64, branch-free; NaN gives NaN.

    Below -1020 * ln2 the result is made as (p * 2^(n+60)) * 2^-60, so it
    falls into the subnormals (and to 0 below about -745) as exp does.
    """
    if x < -746.0:
        x = -746.0
    t = x * _LOG2E + _MAGIC
    n = t - _MAGIC
    r = (x - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    k = _float_bits(t) - _MAGIC_BITS
    tiny = k < -1020
    scale = _bits_float((k + (1083 if tiny else 1023)) << 52)
    return (p * scale) * (8.673617379884035e-19 if tiny else 1.0)  # 2^-60


@intrinsic
def _float32_bits(typingctx, x):
    """The int32 with the bits of float32 ``x``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _bits_float32(typingctx, i):
    """The float32 with the bits of int32 ``i``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


_F = np.float32


@jit
def _exp_nonpositive32(x):
    """exp(x) for float32 x <= 0 in float32 arithmetic, branch-free; NaN gives NaN.

    ``_exp_nonpositive``'s method in float32's precision: a two-part ln2
    (its leading part exact in 9 bits), a degree-8 Taylor polynomial (its
    remainder under 3e-10 on |r| <= ln2/2), 2^n from its bits, and below
    -120 * ln2 the result made as (p * 2^(n+30)) * 2^-30, so it falls into
    the subnormals (and to 0 below about -103.97) as exp does. Within 1 ulp
    of float64's exp rounded to float32 (tests/test_kernels.py).
    """
    if x < _F(-104.0):
        x = _F(-104.0)
    t = x * _F(1.4426950408889634) + _F(12582912.0)
    n = t - _F(12582912.0)
    r = (x - n * _F(0.693359375)) - n * _F(-2.12194440e-4)
    p = _F(1.0 / 40320.0)
    p = p * r + _F(1.0 / 5040.0)
    p = p * r + _F(1.0 / 720.0)
    p = p * r + _F(1.0 / 120.0)
    p = p * r + _F(1.0 / 24.0)
    p = p * r + _F(1.0 / 6.0)
    p = p * r + _F(0.5)
    p = p * r + _F(1.0)
    p = p * r + _F(1.0)
    k = _float32_bits(t) - np.int32(0x4B400000)
    tiny = k < -120
    scale = _bits_float32((k + np.int32(157 if tiny else 127)) << np.int32(23))
    return (p * scale) * (_F(9.313225746154785e-10) if tiny else _F(1.0))  # 2^-30


def _sigmoid_scalar(z):
    """sigmoid(z) from e = exp(-|z|) in (0, 1]: no overflow for any finite z.

    A numba overload (a function of the argument's type): float64 uses
    ``_exp_nonpositive``, float32 ``_exp_nonpositive32`` and float32
    division, so a vector holds twice as many sigmoids. libm's ``expf`` was
    faster while the fused kernels took their sigmoids one by one (scalar
    code either way); in the vectorised passes they now run in, a polynomial
    is. Until 2026-11-29 float32 took the float64 path on the widened value
    and rounded its result; in float32 throughout, epochs of [784, 30, 10]
    alternated with that version took 0.956 (m = 10), 0.971 (100), 0.966
    (1000) and 0.969 (1) of the time, the chapter-1 network's on
    SparseImages 0.844, with the sigmoid within 3 ulp of numpy's float32 one
    (benchmarks/results/2026-11-29/sigmoid32-nineteenth.txt).
    """
    raise NotImplementedError("numba-only; see nnvec.activations.sigmoid")


@overload(_sigmoid_scalar, jit_options=dict(fastmath=False))
def _sigmoid_scalar_impl(z):
    if isinstance(z, types.Float) and z.bitwidth == 32:
        def sigmoid32(z):
            e = _exp_nonpositive32(-abs(z))
            s = _F(1.0) / (_F(1.0) + e)
            return s if z >= 0 else e * s
        return sigmoid32

    def sigmoid64(z):
        e = _exp_nonpositive(-abs(z))
        s = 1.0 / (1.0 + e)
        return s if z >= 0 else e * s
    return sigmoid64


@jit
def sigmoid_into(z, out):
    """out[i, j] = sigmoid(z[i, j]) for 2-D ``z`` and ``out`` (may alias)."""
    n, k = z.shape
    for i in range(n):
        for j in range(k):
            out[i, j] = _sigmoid_scalar(z[i, j])


@jit
def inplace_add_bias_sigmoid(z, b, a):
    """Fused forward step: ``z += b`` (``b[j]`` to row j), then ``a = sigmoid(z)``.

    ``z`` is (n_out, m), one column per example (the batched strategy's
    layout), ``b`` is (n_out,), ``a`` is (n_out, m). One pass over memory
    instead of two; ``z`` keeps the weighted inputs for backprop.
    """
    k, m = z.shape
    for j in range(k):
        bj = b[j]
        for i in range(m):
            zz = z[j, i] + bj
            z[j, i] = zz
            a[j, i] = _sigmoid_scalar(zz)


@jit
def quadratic_delta_into(a, y, delta):
    """BP1, quadratic cost: ``delta = (a - y) * a * (1 - a)`` (sigma' from a)."""
    m, k = a.shape
    for i in range(m):
        for j in range(k):
            aa = a[i, j]
            delta[i, j] = (aa - y[i, j]) * (aa * (1 - aa))


@jit
def cross_entropy_delta_into(a, y, delta):
    """BP1, cross-entropy cost with sigmoid outputs: ``delta = a - y``."""
    m, k = a.shape
    for i in range(m):
        for j in range(k):
            delta[i, j] = a[i, j] - y[i, j]


@jit
def inplace_sigmoid_prime_mul(wtd, a):
    """BP2's Hadamard product: ``wtd *= a * (1 - a)``, ``wtd = delta^{l+1} W^{l+1}``."""
    m, k = wtd.shape
    for i in range(m):
        for j in range(k):
            aa = a[i, j]
            wtd[i, j] = wtd[i, j] * (aa * (1 - aa))


@jit
def inplace_sgd_update(w, nabla, decay, step):
    """``w = decay * w - step * nabla`` over flat 1-D views (weights or biases).

    ``decay = 1 - eta * lmbda / n`` (L2 weight decay; 1 for biases) and
    ``step = eta / m``, as in the book's update rule.
    """
    if decay == 1.0:
        for i in range(w.shape[0]):
            w[i] = w[i] - step * nabla[i]
    else:
        for i in range(w.shape[0]):
            w[i] = decay * w[i] - step * nabla[i]


@jit
def encode_nonzero_into(images, indptr, steps, vals):
    """``SparseImages``' step encoding of the uint8 rows of ``images`` (n_samples, n_features).

    Writes each row's non-zero pixels as (step from the previous kept
    column, intensity), a gap over 255 columns bridged by (255, 0) entries,
    and ``indptr`` (n_samples + 1,) the rows' bounds; returns the number of
    entries. ``steps`` and ``vals`` (uint8) need room for every non-zero
    pixel plus ``n_features // 255 + 1`` bridges a row.
    """
    n, n_features = images.shape
    e = 0
    indptr[0] = 0
    for i in range(n):
        prev = 0
        for j in range(n_features):
            v = images[i, j]
            # a branch per pixel beats branch-free stores here: long runs of
            # zeros predict well (0.08 s against 0.13 s for MNIST's 60,000)
            if v != 0:
                gap = j - prev
                while gap > 255:
                    steps[e] = 255
                    vals[e] = 0
                    e += 1
                    gap -= 255
                steps[e] = gap
                vals[e] = v
                e += 1
                prev = j
        indptr[i + 1] = e
    return e


# --------------------------------------------------------------------------
# The whole-epoch kernel: every mini-batch of an epoch in one compiled call.
#
# At m = 10 the book's workload is five small matrix products per mini-batch;
# calling BLAS for each costs more in call overhead than it saves, and Python
# adds ~25 us per mini-batch. So the epoch runs here, as hand-written loops
# that reuse each weight load for several examples ("register blocking"), and
# fuse the gradient into the update: W += sum_i c_i a_i^T is accumulated into
# W directly, chunk by chunk of examples, never materialising nabla_w.
#
# These flags let LLVM vectorise the dot-product reductions ("reassoc": it
# only reorders sums, which the equivalence tests bound at 1e-12 against the
# reference in float64). Not fastmath=True: its "nnan"/"ninf" flags let LLVM
# assume NaN and inf away, and a diverging run must still produce them so
# that training stops with NonFiniteWeightsError.
# --------------------------------------------------------------------------

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_FAST = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
fjit = numba.njit(**_FAST)
#: for the layers between the epoch kernel and the loops that do the work
#: (_train_segment, _step_block, _forward/_backward/_update_block): numba
#: inlines them into their caller before compiling, instead of compiling each
#: as a function of its own. Each compiled level re-optimised every function
#: below it, so a first run (empty cache) spent 25-27 s compiling the training
#: kernel; inlined, 18-19 s (2-vCPU AMD EPYC), with the same bits and speed.
#: But numba deep-copies an inlined function's IR at each call site, at a
#: cost that grows with its size squared (every block's copy copies the
#: scope's variables): the levels above _train_segment are one function
#: (``_epoch_kernel``), which cut a first run's compiling from 26.5 to 19.6 s
#: (2-vCPU Intel Xeon).
_fjit_inline = numba.njit(inline="always", **_FAST)

#: bytes of each input row a forward block of five examples takes at a time:
#: five such pieces (16 KB) and a pair of weight rows' pieces (6 KB) stay in
#: the 32 KB L1 while every pair of weight rows passes; five whole float64
#: rows of 784 (31 KB) came from L2 again for every pair
FORWARD_K_BYTES = 3200
#: examples per chunk of the update's panels: a chunk of input rows stays in
#: L2 while every panel of weights passes over it (at [784, 30, 10], 20
#: float64 rows are 125 KB beside the weights' 188 KB in a 512 KB L2)
UPDATE_CHUNK = 20
#: the update runs in register panels from this many examples per
#: mini-batch and this many inputs per neuron on; below, in 3 x 5 blocks of
#: scalar multiply-adds (``_update_blocks``). With AVX2's panels of 6
#: neurons everywhere, epochs at m = 10 and on the chapter-1 run's 10 x 30
#: layer were 4-9% slower (``benchmarks/results/2026-11-28/ab-update-panels-tenth.txt``);
#: AVX-512's panels of 8 beat the blocks from m = 2 on ([784, 30, 10] at
#: m = 4 in 0.84 of the time, m = 10 0.92, [784, 1000, 10] at m = 10 0.83;
#: m = 1 1.00-1.03: ``benchmarks/results/2026-11-29/update-panels-small-m-twentyfirst.txt``)
UPDATE_PANEL_MIN_M = 2 if AVX512 else 50
UPDATE_PANEL_MIN_IN = 64
#: examples per chunk of the 3 x 5 blocks: a multiple of 5, so only a
#: mini-batch's last few examples take the one-example path (with 32, two in
#: every chunk did: 5-14% of the update at m >= 100)
CHUNK = 40
#: neurons per register panel of the update: 6 x 2 vectors of sums, plus
#: two vectors of inputs and a broadcast factor, fill AVX2's 16 registers;
#: AVX-512's 32 hold 8 x 2. A thread's block of neurons is cut into panels
#: of UPDATE_NEURONS, then at most one each of UPDATE_HALF, UPDATE_QUARTER
#: (where it differs) and 1 neurons; each panel streams the chunk's input
#: rows from L2 once, so fewer, fuller panels read less
UPDATE_NEURONS = 8 if AVX512 else 6
UPDATE_HALF = UPDATE_NEURONS // 2
UPDATE_QUARTER = max(1, UPDATE_HALF // 2)
#: the first panel of a chunk asks for the input row's line this many panels
#: (of two vectors) ahead: the rows come from L3 or memory, in random order
UPDATE_PREFETCH = 4
#: a hidden or output layer's update asks for the weights this many panels
#: on, for writing (``prefetchw``): the other threads read them since (BP2
#: split by examples), and each store waited for its line to be taken back.
#: At [784, 100, 100, 10], m = 10, two threads of the Intel Xeon with
#: AVX-512, the hidden layer's update took 8.7 instead of 16.6 ms an epoch;
#: the input layer's (only its thread reads its rows) ran slower with it
#: (benchmarks/results/2026-11-29/update-prefetchw-twentysecond.txt)
UPDATE_AHEAD_W = 2


@_jit_inline
def _inplace_sigmoid_body(Out, i0, i1, j0, j1):
    """Out[i, j] = sigmoid(Out[i, j]) for i0 <= i < i1, j0 <= j < j1.

    ``Out`` C-contiguous, so LLVM vectorises the inner loop: it runs from
    0 (written as ``range(j0, j1)`` it took 23 ns per float64 sigmoid
    against 3-5 ns: numba's check for negative indices stays in the loop).
    """
    n = Out.shape[1]
    if j0 == 0 and j1 == n:  # whole rows: one flat loop (a row of 30 is short for vectors)
        flat: np.ndarray = _as_1d(Out)[i0 * n:i1 * n]
        for k in range(flat.shape[0]):
            flat[k] = _sigmoid_scalar(flat[k])
        return
    for i in range(i0, i1):
        row = Out[i, j0:j1]
        for j in range(row.shape[0]):
            row[j] = _sigmoid_scalar(row[j])


@jit
def _inplace_sigmoid(Out, i0, i1, j0, j1):
    """``_inplace_sigmoid_body`` in the CPU's usual vector width."""
    _inplace_sigmoid_body(Out, i0, i1, j0, j1)


@jit
def _inplace_sigmoid_v512(Out, i0, i1, j0, j1):
    """``_inplace_sigmoid_body`` in 512-bit vectors, where the CPU has them (``_prefer_512_bit``)."""
    _prefer_512_bit()
    _inplace_sigmoid_body(Out, i0, i1, j0, j1)


@_fjit_inline
def _forward_layer_body(A, rows, r, W, b, Out, zero):
    """Out[i, j] = b[j] + W[j] . A[rows[i]] for i < r (z; the caller applies the sigmoid).

    ``rows`` maps batch position to a row of A: the epoch's permutation for
    the input layer (so inputs are read in place, never gathered), the
    identity for hidden layers. It may go on past ``r``: the rows after the
    r-th are not summed, only asked for into L2 while the last block is (the
    next mini-batch's first rows, which its forward pass found in memory).

    Register-blocked 2 neurons x 5 examples: each inner-loop step loads 2
    weights and 5 inputs for 10 multiply-adds (measured best at m = 10).
    Rows longer than ``FORWARD_K_BYTES`` are summed in that many pieces, each
    piece's sums added to Out in turn, so the five inputs' pieces stay in L1
    while all the weight rows pass (float64 rows of 784: two pieces). While
    a block is summed, the next block's input rows are asked for, into L2, a
    few lines before each pair of neurons: the input layer's rows come in
    shuffled order from memory (one thread's 15 float64 neurons ran at
    0.61-0.72 of their speed on cached rows without this, 0.74-0.82 with it:
    ``benchmarks/results/2026-11-28/rows-from-memory-eleventh.txt``).
    The sigmoids are not taken here: one by one inside the block they were
    scalar code, 15-35% of the layer's time; the callers take them in a
    vectorised pass over the C-contiguous outputs (``_inplace_sigmoid``).
    """
    n_out, n_in = W.shape
    nrows = rows.shape[0]  # r, or more: rows past r are only fetched ahead
    # pieces of k whose five input rows stay in L1 while the weight rows pass
    nkb = (n_in * VEC_BYTES // _vec_lanes(W) + FORWARD_K_BYTES - 1) // FORWARD_K_BYTES
    per_line = 2 * _vec_lanes(W)  # elements per 64-byte line
    npairs = max(1, n_out // 2)
    i = 0
    while i + 5 <= r:
        r0 = rows[i]
        r1 = rows[i + 1]
        r2 = rows[i + 2]
        r3 = rows[i + 3]
        r4 = rows[i + 4]
        # the next block's rows (the last row again where there are fewer)
        ahead = i + 5 < nrows
        last = nrows - 1
        p0 = A[rows[min(i + 5, last)]]
        p1 = A[rows[min(i + 6, last)]]
        p2 = A[rows[min(i + 7, last)]]
        p3 = A[rows[min(i + 8, last)]]
        p4 = A[rows[min(i + 9, last)]]
        for kb in range(nkb):
            k0 = kb * n_in // nkb
            k1 = (kb + 1) * n_in // nkb
            # row views: the inner loop then indexes 1-D arrays from 0, which
            # LLVM vectorises with the row pointers held in registers
            x0 = A[r0, k0:k1]
            x1 = A[r1, k0:k1]
            x2 = A[r2, k0:k1]
            x3 = A[r3, k0:k1]
            x4 = A[r4, k0:k1]
            # this piece of the next block's rows (scattered rows of the
            # input, from memory), asked for a few lines before each pair
            nlines = (k1 - k0 + per_line - 1) // per_line if ahead else 0
            l0 = 0
            pair = 0
            j = 0
            while j + 2 <= n_out:
                pair += 1
                l1 = nlines * pair // npairs
                for ln in range(l0, l1):
                    c = k0 + ln * per_line
                    _prefetch_l2(p0, c)
                    _prefetch_l2(p1, c)
                    _prefetch_l2(p2, c)
                    _prefetch_l2(p3, c)
                    _prefetch_l2(p4, c)
                l0 = l1
                wj = W[j, k0:k1]
                vj = W[j + 1, k0:k1]
                s0 = s1 = s2 = s3 = s4 = zero
                t0 = t1 = t2 = t3 = t4 = zero
                for k in range(k1 - k0):
                    w = wj[k]
                    v = vj[k]
                    a0 = x0[k]
                    a1 = x1[k]
                    a2 = x2[k]
                    a3 = x3[k]
                    a4 = x4[k]
                    s0 += w * a0
                    s1 += w * a1
                    s2 += w * a2
                    s3 += w * a3
                    s4 += w * a4
                    t0 += v * a0
                    t1 += v * a1
                    t2 += v * a2
                    t3 += v * a3
                    t4 += v * a4
                if kb == 0:
                    Out[i, j] = s0
                    Out[i + 1, j] = s1
                    Out[i + 2, j] = s2
                    Out[i + 3, j] = s3
                    Out[i + 4, j] = s4
                    Out[i, j + 1] = t0
                    Out[i + 1, j + 1] = t1
                    Out[i + 2, j + 1] = t2
                    Out[i + 3, j + 1] = t3
                    Out[i + 4, j + 1] = t4
                else:
                    Out[i, j] += s0
                    Out[i + 1, j] += s1
                    Out[i + 2, j] += s2
                    Out[i + 3, j] += s3
                    Out[i + 4, j] += s4
                    Out[i, j + 1] += t0
                    Out[i + 1, j + 1] += t1
                    Out[i + 2, j + 1] += t2
                    Out[i + 3, j + 1] += t3
                    Out[i + 4, j + 1] += t4
                j += 2
        j = 0
        while j + 2 <= n_out:
            for ii in range(i, i + 5):
                Out[ii, j] += b[j]
                Out[ii, j + 1] += b[j + 1]
            j += 2
        while j < n_out:
            for ii in range(i, i + 5):
                s0 = zero
                ri = rows[ii]
                for k in range(n_in):
                    s0 += W[j, k] * A[ri, k]
                Out[ii, j] = s0 + b[j]
            j += 1
        i += 5
    while i < r:  # leftover examples (all of them when m < 5): 2 neurons at a time
        ri = rows[i]
        # the next row (at m = 1, the next mini-batch's), asked for a few
        # lines before each pair as above
        p0 = A[rows[min(i + 1, nrows - 1)]]
        nlines = (n_in + per_line - 1) // per_line if i + 1 < nrows else 0
        l0 = 0
        pair = 0
        j = 0
        while j + 2 <= n_out:
            pair += 1
            l1 = nlines * pair // npairs
            for ln in range(l0, l1):
                _prefetch_l2(p0, ln * per_line)
            l0 = l1
            s0 = t0 = zero
            for k in range(n_in):
                a0 = A[ri, k]
                s0 += W[j, k] * a0
                t0 += W[j + 1, k] * a0
            Out[i, j] = s0 + b[j]
            Out[i, j + 1] = t0 + b[j + 1]
            j += 2
        while j < n_out:
            s0 = zero
            for k in range(n_in):
                s0 += W[j, k] * A[ri, k]
            Out[i, j] = s0 + b[j]
            j += 1
        i += 1


@fjit
def _forward_layer(A, rows, r, W, b, Out, zero):
    """``_forward_layer_body`` in the CPU's usual vector width."""
    _forward_layer_body(A, rows, r, W, b, Out, zero)


@fjit
def _forward_layer_v512(A, rows, r, W, b, Out, zero):
    """``_forward_layer_body`` in 512-bit vectors, where the CPU has them (``_prefer_512_bit``)."""
    _prefer_512_bit()
    _forward_layer_body(A, rows, r, W, b, Out, zero)


#: from this many examples per mini-batch on, the 512-bit kernels run a dense
#: forward pass in outer-product form (``_forward_layer_outer``); below, the
#: weights' transposition each mini-batch costs more than it saves
OUTER_MIN_M = 100
#: ... for layers of at least OUTER_MIN_IN inputs (with fewer, each panel's
#: stores, lane by lane, weigh on its short sums: [784, 100, 100, 10] at
#: m = 100 ran 1.05x slower with its 100-input layers in this form) and at
#: most OUTER_MAX_IN (the transposed panel, inputs x OUTER_VECTORS vectors,
#: is a thread's scratch)
OUTER_MIN_IN = 256
OUTER_MAX_IN = 4096
#: from this many examples per mini-batch on, a forward pass in outer-product
#: form is split between threads by examples rather than by neurons (each
#: thread then transposes every neuron's weights, not half of them): at
#: [784, 30, 10], m = 1000, epochs took 0.919 (float64) and 0.853 (float32)
#: the time; at m = 100, 1.114 (benchmarks/results/2026-11-28/
#: ab-outer-by-examples-fifteenth.txt) with the weights transposed element by
#: element. A layer of one panel of neurons (``OUTER_VECTORS`` vectors at
#: most) is split by examples from ``OUTER_MIN_M`` on: split by neurons, each
#: thread's half panel has half the vectors to multiply each broadcast input
#: into, and its loads, not its multiply-adds, set the pace (see
#: ``_step_plan``)
OUTER_SPLIT_MIN_M = 500
#: vectors of neurons in one panel of the outer-product form: with 5
#: examples, 20 vector sums of AVX-512's 32 registers
OUTER_VECTORS = 4


@fjit
def _forward_layer_outer(A, rows, r, W, b, Out, WTs):
    """``_forward_layer``'s result, in outer-product form, in 512-bit vectors.

    ``_forward_layer_body`` sums each output as a dot product along k, in
    vectors, and then adds each vector's lanes up: for every 5 examples and
    2 neurons, 10 such horizontal sums, which cost as much as a good part of
    the products (float32's, with 16 lanes, most). Here a panel of up to
    ``OUTER_VECTORS`` vectors of neurons is transposed into the thread's
    scratch ``WTs`` (inputs x neurons, so one input's weights for the panel
    are contiguous), and for 5 examples at a time each input's value is
    broadcast and multiplied into the panel's vectors (``_outer_panel``):
    no horizontal sums, and every output is one chain of fused multiply-adds
    in the order of k, from +0.0, whatever the panel or thread, and then the
    bias. Against ``_forward_layer_v512`` on one thread, 10,000 rows of a
    50,000-row array in shuffled order, with this transposition each
    mini-batch, [784, 30]: 1.18-1.85x the speed in float64 and 1.12-1.72x in
    float32 at m = 100 and 1000 (two runs); whole epochs:
    ``benchmarks/results/2026-11-28/ab-outer-forward-fourteenth.txt``.
    """
    _prefer_512_bit()  # first: the panels' width is read from the function's attribute
    n_out, n_in = W.shape
    lanes: int = _panel_lanes(W)
    width = OUTER_VECTORS * lanes
    WT = _as_2d(WTs[:n_in * width], n_in, width)
    for j in range(0, n_out, width):
        nvalid = min(width, n_out - j)
        nv = (nvalid + lanes - 1) // lanes
        for c in range(nv):
            _transpose_block(WT, W, j + c * lanes, c * lanes, min(lanes, nvalid - c * lanes))
        for k in range(n_in - n_in % lanes, n_in):
            for e in range(nvalid):
                WT[k, e] = W[j + e, k]
        i = 0
        # narrow panels take 10 examples at a time: each input's weights are
        # then loaded once for 10 or 20 multiply-adds, not 5 or 10 (every
        # example's value is a load too)
        if nv <= 2:
            while i + 10 <= r:
                if nv == 1:
                    _outer_panel(Out, WT, A, rows, i, j, nvalid, 10, 1)
                else:
                    _outer_panel(Out, WT, A, rows, i, j, nvalid, 10, 2)
                i += 10
        while i + 5 <= r:
            if nv == 1:
                _outer_panel(Out, WT, A, rows, i, j, nvalid, 5, 1)
            elif nv == 2:
                _outer_panel(Out, WT, A, rows, i, j, nvalid, 5, 2)
            elif nv == 3:
                _outer_panel(Out, WT, A, rows, i, j, nvalid, 5, 3)
            else:
                _outer_panel(Out, WT, A, rows, i, j, nvalid, 5, 4)
            i += 5
        while i < r:
            _outer_panel(Out, WT, A, rows, i, j, nvalid, 1, OUTER_VECTORS)
            i += 1
        for ii in range(r):
            for e in range(nvalid):
                Out[ii, j + e] += b[j + e]


@intrinsic
def _transpose_block(typingctx, WT, W, j, c0, nrows):
    """WT[k, c0 + e] = W[j + e, k] for e < ``nrows`` and every k below the
    largest multiple of the panel's lanes (``_panel_lanes``) in W's rows.

    Square tiles of one vector per row, transposed in registers: each tile's
    rows loaded as vectors, log2(lanes) rounds of two-vector shuffles, and
    its columns stored as vectors. The element-by-element loop it replaces
    was a fifth of ``_forward_layer_outer``'s time at m = 100 (15 neurons,
    float32). Rows of W from ``nrows`` on are not read (the tile's last row
    is loaded again in their place): WT's lanes from ``c0 + nrows`` to
    ``c0 + lanes`` then hold copies, and the caller never stores what is
    summed from them. Copies only: no bit of any result changes.
    """
    def codegen(context, builder, sig, args):
        WT, W, j, c0, nrows = args
        wtty, wty = sig.args[:2]
        i64, i32 = ir.IntType(64), ir.IntType(32)
        vty, align, _ = _panel_vector(context, builder, wty.dtype)
        n = vty.count
        n_in = cgutils.unpack_tuple(builder, context.make_array(wty)(context, builder, W).shape,
                                    2)[1]
        last = builder.sub(nrows, ir.Constant(i64, 1))
        src = [builder.add(j, builder.select(
            builder.icmp_signed("<", ir.Constant(i64, e), last), ir.Constant(i64, e), last))
            for e in range(n)]
        with cgutils.for_range(builder, builder.sdiv(n_in, ir.Constant(i64, n))) as loop:
            k0 = builder.mul(loop.index, ir.Constant(i64, n))
            v = [builder.load(builder.bitcast(
                _item_pointer_2d(context, builder, wty, W, src[e], k0), vty.as_pointer()),
                align=align) for e in range(n)]
            h = 1
            while h < n:
                lo = [lane if lane & h == 0 else n + lane - h for lane in range(n)]
                hi = [lane + h if lane & h == 0 else n + lane for lane in range(n)]
                for e in range(n):
                    if e & h == 0:
                        a, b = v[e], v[e + h]
                        v[e] = builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(i32, n), lo))
                        v[e + h] = builder.shuffle_vector(a, b,
                                                          ir.Constant(ir.VectorType(i32, n), hi))
                h *= 2
            for c in range(n):
                p = _item_pointer_2d(context, builder, wtty, WT,
                                     builder.add(k0, ir.Constant(i64, c)), c0)
                builder.store(v[c], builder.bitcast(p, vty.as_pointer()), align=align)
        return context.get_dummy_value()
    return types.none(WT, W, j, c0, nrows), codegen


@intrinsic
def _outer_panel(typingctx, Out, WT, A, rows, i, j, nvalid, ne, nv):
    """Out[i + e, j + c] = sum_k WT[k, c] * A[rows[i + e], k] for e < ``ne`` and
    c < ``nvalid`` (at most ``nv`` vectors), each a chain of fused
    multiply-adds in the order of k from +0.0.

    ``ne`` and ``nv`` are constants (numba literals): the ne * nv vector
    sums stay in registers while k walks WT's rows. Lanes past ``nvalid``
    are computed from whatever WT holds there and never stored. The rows of
    WT and A must be contiguous.
    """
    if not all(isinstance(x, types.IntegerLiteral) for x in (ne, nv)):
        return None
    ne_, nv_ = ne.literal_value, nv.literal_value

    def codegen(context, builder, sig, args):
        Out, WT, A, rows, i, j, nvalid = args[:7]
        oty, wty, aty, rty = sig.args[:4]
        i64 = ir.IntType(64)
        vty, align, fma = _panel_vector(context, builder, wty.dtype)
        n_in = cgutils.unpack_tuple(builder, context.make_array(wty)(context, builder, WT).shape,
                                    2)[0]
        src = [builder.load(_item_pointer(context, builder, rty, rows,
                                          builder.add(i, ir.Constant(i64, e))))
               for e in range(ne_)]
        # allocas: LLVM keeps them in registers (mem2reg)
        sums = [[cgutils.alloca_once_value(builder, ir.Constant(vty, None)) for _ in range(nv_)]
                for _ in range(ne_)]
        with cgutils.for_range(builder, n_in) as loop:
            k = loop.index
            w = [builder.load(builder.bitcast(
                _item_pointer_2d(context, builder, wty, WT, k, ir.Constant(i64, c * vty.count)),
                vty.as_pointer()), align=align) for c in range(nv_)]
            for e in range(ne_):
                a = _splat(builder, vty, builder.load(
                    _item_pointer_2d(context, builder, aty, A, src[e], k)))
                for c in range(nv_):
                    builder.store(builder.call(fma, [a, w[c], builder.load(sums[e][c])]),
                                  sums[e][c])
        for e in range(ne_):
            row = builder.add(i, ir.Constant(i64, e))
            for c in range(nv_):
                v = builder.load(sums[e][c])
                for lane in range(vty.count):
                    col = c * vty.count + lane
                    inside = builder.icmp_signed("<", ir.Constant(i64, col), nvalid)
                    with builder.if_then(inside, likely=True):
                        p = _item_pointer_2d(context, builder, oty, Out, row,
                                             builder.add(j, ir.Constant(i64, col)))
                        builder.store(builder.extract_element(v, ir.Constant(ir.IntType(32), lane)),
                                      p)
        return context.get_dummy_value()
    return types.none(Out, WT, A, rows, i, j, nvalid, ne, nv), codegen


@_fjit_inline
def _backward_delta_body(D, r, W, Aprev, Dprev, zero):
    """BP2: Dprev[i, k] = (sum_j D[i, j] W[j, k]) * a(1 - a), a = Aprev[i, k].

    For layers of ``SPLIT_MIN_WEIGHTS`` weights or more, five examples at a
    time, in register panels of two vectors of k (``_delta_panel``): W is
    read once per five examples, not once per example (a hidden-to-hidden W
    can be larger than L2: 1.2 MB at [784, 500, 300, 10], where BP2 on one
    example at a time, out of L3, took over a quarter of the epoch). A smaller W
    stays in cache anyway, and there the panels' leftover columns cost more
    than they saved ([784, 30, 10]'s 10 x 30: 2-3% of the epoch). Every sum,
    in a panel or in the loop for the leftover columns and examples, is the
    same chain ``fma(D[i, j], W[j, k], sum)`` from +0.0 in the order of j,
    so the blocking changes no bits.
    """
    n_out, n_in = W.shape
    i = 0
    if n_out * n_in >= SPLIT_MIN_WEIGHTS:
        width = 2 * _panel_lanes(W)
        while i + 5 <= r:
            k = 0
            while k + width <= n_in:
                _delta_panel(Dprev, D, W, i, k, 2)
                k += width
            if k < n_in:
                for ii in range(i, i + 5):
                    _delta_row(D, W, Dprev, ii, k, zero)
            _sigmoid_prime_rows(Dprev, Aprev, i, i + 5)
            i += 5
    while i < r:
        _delta_row(D, W, Dprev, i, 0, zero)
        _sigmoid_prime_rows(Dprev, Aprev, i, i + 1)
        i += 1


@fjit
def _backward_delta(D, r, W, Aprev, Dprev, zero):
    """``_backward_delta_body`` in the CPU's usual vector width."""
    _backward_delta_body(D, r, W, Aprev, Dprev, zero)


@fjit
def _backward_delta_v512(D, r, W, Aprev, Dprev, zero):
    """``_backward_delta_body`` in 512-bit vectors, where the CPU has them (``_prefer_512_bit``)."""
    _prefer_512_bit()
    _backward_delta_body(D, r, W, Aprev, Dprev, zero)


@_fjit_inline
def _sigmoid_prime_rows(Dprev, Aprev, i0, i1):
    """Dprev[i] *= a(1 - a), a = Aprev[i], for rows i0 <= i < i1."""
    for i in range(i0, i1):
        for k in range(Dprev.shape[1]):
            a = Aprev[i, k]
            Dprev[i, k] = Dprev[i, k] * (a * (1 - a))


@_fjit_inline
def _delta_row(D, W, Dprev, i, k0, zero):
    """Dprev[i, k] = sum_j D[i, j] W[j, k] for k >= k0, one j after another."""
    n_out, n_in = W.shape
    for k in range(k0, n_in):
        Dprev[i, k] = zero
    for j in range(n_out):
        d = D[i, j]
        for k in range(k0, n_in):
            Dprev[i, k] += d * W[j, k]


@_fjit_inline
def _update_layer_body(D, A, rows, r, W, b, decay, neg_step, P, own):
    """W = decay*W - step * D^T A[rows] and b -= step * sum_i D[i] (BP3, BP4 and SGD fused).

    ``neg_step = -eta/r`` is in W's dtype so float32 stays float32. Each
    weight takes the examples' terms one after another,
    ``W[j, k] = fma(p, A[rows[i], k], W[j, k])`` with ``p = neg_step * D[i, j]``,
    for i = 0 .. r-1 (tested against an exactly rounded chain). From
    ``UPDATE_PANEL_MIN_M`` examples and ``UPDATE_PANEL_MIN_IN`` inputs on, in
    register panels of ``UPDATE_NEURONS`` neurons x two vectors of k
    (``_update_panel``) that stay in registers while a chunk's examples
    stream past, so a weight is loaded and stored once per chunk; below, in
    3 x 5 blocks (``_update_blocks``), whose five terms LLVM chains the same
    way. Every weight meets the same chain in any panel, block, leftover
    loop or thread block: the result does not depend on how the neurons are
    split. ``P``: (UPDATE_CHUNK, UPDATE_NEURONS) scratch of this thread's
    own, for a panel's factors p (written to D in place instead, the rows of
    D that two threads' neurons share went back and forth between their
    caches: 10% slower at m = 10).
    """
    n_out, n_in = W.shape
    if decay != 1.0:
        for j in range(n_out):
            for k in range(n_in):
                W[j, k] = decay * W[j, k]
    for j in range(n_out):
        s = D[0, j] - D[0, j]
        for i in range(r):
            s += D[i, j]
        b[j] += neg_step * s
    if r < UPDATE_PANEL_MIN_M or n_in < UPDATE_PANEL_MIN_IN:
        _update_blocks(D, A, rows, r, W, neg_step)
        return
    for c0 in range(0, r, UPDATE_CHUNK):
        c1 = min(r, c0 + UPDATE_CHUNK)
        j = 0
        while j < n_out:
            left = n_out - j
            nn = (UPDATE_NEURONS if left >= UPDATE_NEURONS else UPDATE_HALF if left >= UPDATE_HALF
                  else UPDATE_QUARTER if left >= UPDATE_QUARTER else 1)
            for i in range(c1 - c0):
                for e in range(nn):
                    P[i, e] = neg_step * D[c0 + i, j + e]
            # the first panel of a chunk fetches its rows ahead (the rows of
            # A are scattered: one line per example and vector pair)
            first = j == 0
            if nn == UPDATE_NEURONS:
                _update_columns(W, P, A, rows[c0:c1], j, first, UPDATE_NEURONS, own)
            elif nn == UPDATE_HALF:
                _update_columns(W, P, A, rows[c0:c1], j, first, UPDATE_HALF, own)
            elif nn == UPDATE_QUARTER:
                _update_columns(W, P, A, rows[c0:c1], j, first, UPDATE_QUARTER, own)
            else:
                _update_columns(W, P, A, rows[c0:c1], j, first, 1, own)
            j += nn


@fjit
def _update_layer(D, A, rows, r, W, b, decay, neg_step, P, own):
    """``_update_layer_body`` in the CPU's usual vector width."""
    _update_layer_body(D, A, rows, r, W, b, decay, neg_step, P, own)


@fjit
def _update_layer_v512(D, A, rows, r, W, b, decay, neg_step, P, own):
    """``_update_layer_body`` in 512-bit vectors, where the CPU has them (``_prefer_512_bit``)."""
    _prefer_512_bit()
    _update_layer_body(D, A, rows, r, W, b, decay, neg_step, P, own)


@_fjit_inline
def _update_blocks(D, A, rows, r, W, neg_step):
    """The weights' part of ``_update_layer`` for small mini-batches and narrow
    layers: 3 neurons x 5 examples per pass over the weight rows, examples in
    chunks of ``CHUNK`` so a chunk's rows stay in cache while every weight
    row passes once (each step loads 5 inputs and updates 3 weights)."""
    n_out, n_in = W.shape
    for c0 in range(0, r, CHUNK):
        c1 = min(r, c0 + CHUNK)
        j = 0
        while j + 3 <= n_out:
            i = c0
            while i + 5 <= c1:
                r0 = rows[i]
                r1 = rows[i + 1]
                r2 = rows[i + 2]
                r3 = rows[i + 3]
                r4 = rows[i + 4]
                p0 = neg_step * D[i, j]
                p1 = neg_step * D[i + 1, j]
                p2 = neg_step * D[i + 2, j]
                p3 = neg_step * D[i + 3, j]
                p4 = neg_step * D[i + 4, j]
                q0 = neg_step * D[i, j + 1]
                q1 = neg_step * D[i + 1, j + 1]
                q2 = neg_step * D[i + 2, j + 1]
                q3 = neg_step * D[i + 3, j + 1]
                q4 = neg_step * D[i + 4, j + 1]
                u0 = neg_step * D[i, j + 2]
                u1 = neg_step * D[i + 1, j + 2]
                u2 = neg_step * D[i + 2, j + 2]
                u3 = neg_step * D[i + 3, j + 2]
                u4 = neg_step * D[i + 4, j + 2]
                for k in range(n_in):
                    a0 = A[r0, k]
                    a1 = A[r1, k]
                    a2 = A[r2, k]
                    a3 = A[r3, k]
                    a4 = A[r4, k]
                    W[j, k] += (p0 * a0 + p1 * a1) + (p2 * a2 + p3 * a3) + p4 * a4
                    W[j + 1, k] += (q0 * a0 + q1 * a1) + (q2 * a2 + q3 * a3) + q4 * a4
                    W[j + 2, k] += (u0 * a0 + u1 * a1) + (u2 * a2 + u3 * a3) + u4 * a4
                i += 5
            while i < c1:
                ri = rows[i]
                p0 = neg_step * D[i, j]
                q0 = neg_step * D[i, j + 1]
                u0 = neg_step * D[i, j + 2]
                for k in range(n_in):
                    a0 = A[ri, k]
                    W[j, k] += p0 * a0
                    W[j + 1, k] += q0 * a0
                    W[j + 2, k] += u0 * a0
                i += 1
            j += 3
        while j < n_out:
            for i in range(c0, c1):
                ri = rows[i]
                p0 = neg_step * D[i, j]
                for k in range(n_in):
                    W[j, k] += p0 * A[ri, k]
            j += 1


@_fjit_inline
def _update_columns(W, P, A, rows, j, first, nneur, own):
    """``nneur`` neurons from j, every column of W, the examples ``rows`` (see _update_layer)."""
    n_in = W.shape[1]
    n = rows.shape[0]
    lanes: int = _panel_lanes(W)
    k = 0
    while k + 2 * lanes <= n_in:
        if first:
            _update_panel(W, P, A, rows, n, j, k, nneur, 2, UPDATE_PREFETCH, own)
        else:
            _update_panel(W, P, A, rows, n, j, k, nneur, 2, 0, own)
        k += 2 * lanes
    if k + lanes <= n_in:
        _update_panel(W, P, A, rows, n, j, k, nneur, 1, 0, own)
        k += lanes
    if k < n_in:
        for e in range(nneur):
            for i in range(n):
                p = P[i, e]
                ri = rows[i]
                for kk in range(k, n_in):
                    W[j + e, kk] += p * A[ri, kk]


# ---- the input layer on SparseImages (nnvec.sparse): only non-zero pixels ----
# ``sp = (indptr, steps, vals, lut, WT)``: row i's entries are steps/vals[indptr[i]:
# indptr[i+1]]; an entry's column is the previous one's plus its step (from 0)
# and its value lut[vals]. WT is the input layer's weights transposed
# (n_in, n_out), so the weights one pixel meets form one contiguous row, and
# each pixel is a few vector multiply-adds over it (holding neurons' sums in
# scalar variables instead was slower: LLVM did not vectorise them). With
# several threads, the forward pass and the update both split WT's columns
# (the neurons; wide layers: the examples and WT's rows, see
# ``_sparse_blocks``): no two threads write one weight, and every value is
# computed by the same code for any thread count.

#: WT's rows are padded with zero columns to a multiple of this many bytes,
#: two vectors (``VEC_BYTES``): the forward pass sums whole panels of 2, 4, 8
#: or 12 vectors, with no scalar remainder. Each neuron's sum is the same
#: sequence of operations as without padding, so results are bit-identical.
SPARSE_ROW_BYTES = 64
#: bytes of the next example's steps and values the forward pass prefetches
#: (an MNIST digit has about 150 non-zero pixels)
SPARSE_PREFETCH = 256

# WT's layout. Logically WT is (n_in, width), width = n_out padded to
# SPARSE_ROW_BYTES, and the engine allocates it so. For layers whose columns
# threads split (``_sparse_by_columns``) training stores it in blocks of one
# line of columns instead, each block all n_in rows of those columns: a
# (n_blocks * n_in, line) view of the same memory (``_wt_view``), so each
# thread's columns lie in memory of their own. In rows of whole width each
# thread's columns were the first or second half of every row, and with both
# threads at work their updates ran at 17-25 cycles a pixel against 9-13
# with a whole array each (in other spells of the host the difference was
# small; benchmarks/results/2026-11-28/wt-blocks-twelfth.txt). One thread
# uses the blocks too, though it runs about 10% slower on them than on rows:
# with rows for one thread and blocks for two, each change of thread count
# moved the weights into the other layout, the governor's short probes of
# two threads read them slower than they run, and the default stayed on one
# thread. Wider layers, and prediction (split by examples), keep rows of
# whole width. Either way the logical element (k, j) is at
# ``WT[(j // S) * n_in + k, j % S]``, S = WT.shape[1] (``_wt_dims``); the
# weights are copied into WT at the start of each call and back at its end.


def wt_logical(WT, n_in):
    """A copy of ``WT``'s logical (n_in, width) matrix (for tests and checks)."""
    blocks = WT.shape[0] // n_in
    return WT.reshape(blocks, n_in, WT.shape[1]).transpose(1, 0, 2).reshape(n_in, -1).copy()


def inplace_set_wt(WT, M):
    """Store the logical (n_in, width) matrix ``M`` in ``WT``'s layout."""
    n_in, S = M.shape[0], WT.shape[1]
    WT.reshape(-1, n_in, S)[...] = M.reshape(n_in, -1, S).transpose(1, 0, 2)


# ---- the sparse input layer's sums, in vector registers ------------------
# Written as LLVM IR because numba cannot say it: a numba loop over a row of
# sums in memory (``acc[j] += x * WT[k, j]``) had LLVM check at every pixel
# that ``acc`` and the weight rows do not overlap, and kept the sums in
# memory, so each pixel's multiply-adds waited on the previous pixel's
# stores. Here a panel of up to 12 vectors of sums (the forward pass) or of
# deltas (the update) stays in registers for all of an example's pixels.
# Each sum is the same chain of fused multiply-adds, in pixel order, as the
# numba loops made: the results are bit-identical.

#: bytes per vector: AVX2's 32 (an AVX-512 or NEON machine splits or widens them)
VEC_BYTES = 32
# WT's blocks (``_wt_view``) are one line of SPARSE_ROW_BYTES, and the loops
# that address them (``_wt_places``) take each block to hold two vectors of
# VEC_BYTES (or one of 64 bytes: SPARSE_VEC_BYTES).
assert SPARSE_ROW_BYTES == 2 * VEC_BYTES
#: bytes per vector of the sparse input layer's register panels (its forward
#: sums, its update): 64 where the CPU has AVX-512, the kernels that hold
#: them compiled for 512-bit vectors (``_prefer_512_bit``). Each panel is
#: loaded once per pixel, and half as many loads of twice the width made the
#: forward sums 24% faster (float64, 8 vectors of 32 bytes against 4 of 64,
#: Intel Xeon); every lane's chain of fused multiply-adds is the same, so
#: the bits are too. The chapter-1 epoch (SparseImages, m = 10) took 0.90 of
#: the time on one thread, 0.91 in float32, 0.97 by default (two threads
#: split WT's columns: each has half the loads to make), prediction of the
#: 10,000 test images 0.93 (benchmarks/results/2026-11-29/sparse-512-nineteenth.txt).
SPARSE_VEC_BYTES = 64 if AVX512 else VEC_BYTES
# forward panels of 384, 256, 128 and 64 bytes, in vectors of SPARSE_VEC_BYTES
_PANEL_12 = 12 * VEC_BYTES // SPARSE_VEC_BYTES
_PANEL_8 = 8 * VEC_BYTES // SPARSE_VEC_BYTES
_PANEL_4 = 4 * VEC_BYTES // SPARSE_VEC_BYTES
_PANEL_2 = 2 * VEC_BYTES // SPARSE_VEC_BYTES




def _vector_type(context, dtype, nbytes=VEC_BYTES):
    return ir.VectorType(context.get_value_type(dtype), nbytes // (dtype.bitwidth // 8))


def _item_pointer_2d(context, builder, aryty, ary, i, j):
    arr = context.make_array(aryty)(context, builder, ary)
    return cgutils.get_item_pointer(context, builder, aryty, arr, [i, j], wraparound=False)


def _fma_function(builder, ty):
    """LLVM's fused multiply-add for ``ty``, a float or a vector of them."""
    if isinstance(ty, ir.VectorType):
        name = f"llvm.fma.v{ty.count}{ty.element.intrinsic_name}"
    else:
        name = f"llvm.fma.{ty.intrinsic_name}"
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3), name)


def _panel_vector(context, builder, dtype):
    """``(vector type, alignment, fma)`` of a register panel of ``dtype`` in the
    function being compiled (its width: ``_panel_bytes``)."""
    vty = _vector_type(context, dtype, _panel_bytes(builder))
    return vty, dtype.bitwidth // 8, _fma_function(builder, vty)


def _splat(builder, vty, x):
    """A vector of type ``vty`` with ``x`` in every lane."""
    v = builder.insert_element(ir.Constant(vty, ir.Undefined), x, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(
        v, ir.Constant(vty, ir.Undefined),
        ir.Constant(ir.VectorType(ir.IntType(32), vty.count), [0] * vty.count))


def _load_pixel(context, builder, pixels, p, k):
    """``(k + steps[p], lut[vals[p]])``; ``pixels``: the (type, value) of steps, vals, lut."""
    i64 = ir.IntType(64)
    (stepsty, steps), (valsty, vals), (lutty, lut) = pixels
    step = builder.load(_item_pointer(context, builder, stepsty, steps, p))
    v = builder.load(_item_pointer(context, builder, valsty, vals, p))
    x = builder.load(_item_pointer(context, builder, lutty, lut, builder.zext(v, i64)))
    return builder.add(k, builder.zext(step, i64)), x


@intrinsic
def _delta_panel(typingctx, Dprev, D, W, i, k, nvec):
    """Dprev[i + e, k:k + nvec*lanes] = sum_j D[i + e, j] * W[j, k:k + nvec*lanes],
    e = 0 .. 4 (BP2's sums for five examples and ``nvec`` vectors of columns).

    ``nvec`` is a constant (a numba literal): the 5 * nvec sums live in vector
    registers while the loop walks down W's rows. Each sum is
    ``fma(D[i + e, j], W[j, k], sum)`` from +0.0, j by j. The rows of Dprev
    and W must be contiguous (the kernels' packed layouts are).
    """
    if not isinstance(nvec, types.IntegerLiteral):
        return None
    nv = nvec.literal_value

    def codegen(context, builder, sig, args):
        Dprev, D, W, i, k = args[:5]
        dpty, dty, wty = sig.args[:3]
        i64 = ir.IntType(64)
        vty, align, fma = _panel_vector(context, builder, wty.dtype)
        n_out = cgutils.unpack_tuple(builder, context.make_array(wty)(context, builder, W).shape,
                                     2)[0]
        rows = [builder.add(i, ir.Constant(i64, e)) for e in range(5)]
        cols = [builder.add(k, ir.Constant(i64, c * vty.count)) for c in range(nv)]
        # allocas: LLVM keeps them in registers (mem2reg)
        sums = [[cgutils.alloca_once_value(builder, ir.Constant(vty, None)) for _ in range(nv)]
                for _ in range(5)]
        with cgutils.for_range(builder, n_out) as loop:
            j = loop.index
            w = [builder.load(builder.bitcast(_item_pointer_2d(context, builder, wty, W, j, col),
                                              vty.as_pointer()), align=align) for col in cols]
            for e in range(5):
                d = _splat(builder, vty,
                           builder.load(_item_pointer_2d(context, builder, dty, D, rows[e], j)))
                for c in range(nv):
                    builder.store(builder.call(fma, [d, w[c], builder.load(sums[e][c])]),
                                  sums[e][c])
        for e in range(5):
            for c in range(nv):
                p = builder.bitcast(_item_pointer_2d(context, builder, dpty, Dprev, rows[e],
                                                     cols[c]), vty.as_pointer())
                builder.store(builder.load(sums[e][c]), p, align=align)
        return context.get_dummy_value()
    return types.none(Dprev, D, W, i, k, nvec), codegen


def _emit_prefetch(builder, ptr, locality=3, write=False):
    """Ask for the cache line of ``ptr``, for reading (or with ``write``, to
    own it for writing): into every cache level (``locality`` 3), or into L2
    and below, leaving L1 alone (2)."""
    i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
    fn = builder.module.declare_intrinsic(
        "llvm.prefetch", [i8p], fnty=ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]))
    builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1 if write else 0),
                      ir.Constant(i32, locality), ir.Constant(i32, 1)])


@intrinsic
def _update_panel(typingctx, W, P, A, rows, n, j, k, nneur, nvec, ahead, own):
    """W[j + e, cols] = fma(P[i, e], A[rows[i], cols], W[j + e, cols]) for
    i = 0 .. n-1 in turn, e < nneur, cols = k .. k + nvec*lanes - 1.

    ``nneur``, ``nvec`` and ``ahead`` are constants (numba literals): the
    nneur * nvec vectors of weights stay in registers while the examples
    stream past; with ``ahead`` > 0 each example's row is also fetched that
    many panels ahead. With ``own`` (a run-time flag) the weights
    ``UPDATE_AHEAD_W`` panels on are asked for, for writing. The rows of W
    and A must be contiguous.
    """
    lits = (nneur, nvec, ahead)
    if not all(isinstance(x, types.IntegerLiteral) for x in lits):
        return None
    ne, nv, pf = (x.literal_value for x in lits)

    def codegen(context, builder, sig, args):
        W, P, A, rows, n, j, k = args[:7]
        wty, pty, aty, rty = sig.args[:4]
        i64 = ir.IntType(64)
        vty, align, fma = _panel_vector(context, builder, wty.dtype)
        neurons = [builder.add(j, ir.Constant(i64, e)) for e in range(ne)]
        cols = [builder.add(k, ir.Constant(i64, c * vty.count)) for c in range(nv)]
        wptr = [[builder.bitcast(_item_pointer_2d(context, builder, wty, W, row, col),
                                 vty.as_pointer()) for col in cols] for row in neurons]
        # allocas: LLVM keeps them in registers (mem2reg)
        sums = [[cgutils.alloca_once_value(builder, builder.load(p, align=align)) for p in row]
                for row in wptr]
        own = context.cast(builder, args[10], sig.args[10], types.boolean)
        with builder.if_then(own):
            # Ask for the weights of the panel UPDATE_AHEAD_W panels on
            # (within the row; the last column past its end) for writing,
            # ahead of their loads and stores.
            last = builder.sub(cgutils.unpack_tuple(
                builder, context.make_array(wty)(context, builder, W).shape)[1],
                ir.Constant(i64, 1))
            for row in neurons:
                for c in range(nv):
                    col = builder.add(k, ir.Constant(i64, (UPDATE_AHEAD_W * nv + c) * vty.count))
                    col = builder.select(builder.icmp_signed("<", col, last), col, last)
                    _emit_prefetch(builder, _item_pointer_2d(context, builder, wty, W, row, col),
                                   write=True)
        with cgutils.for_range(builder, n) as loop:
            i = loop.index
            ri = builder.load(_item_pointer(context, builder, rty, rows, i))
            a = [builder.load(builder.bitcast(_item_pointer_2d(context, builder, aty, A, ri, col),
                                              vty.as_pointer()), align=align) for col in cols]
            if pf:
                far = builder.add(k, ir.Constant(i64, pf * nv * vty.count))
                _emit_prefetch(builder, _item_pointer_2d(context, builder, aty, A, ri, far))
            for e in range(ne):
                p = _splat(builder, vty, builder.load(
                    _item_pointer_2d(context, builder, pty, P, i, ir.Constant(i64, e))))
                for c in range(nv):
                    builder.store(builder.call(fma, [p, a[c], builder.load(sums[e][c])]),
                                  sums[e][c])
        for e in range(ne):
            for c in range(nv):
                builder.store(builder.load(sums[e][c]), wptr[e][c], align=align)
        return context.get_dummy_value()
    return types.none(W, P, A, rows, n, j, k, nneur, nvec, ahead, own), codegen


def _wt_places(context, builder, wty, WT, j0, nv, vty, n_in):
    """Where the ``nv`` vectors of WT's logical columns from ``j0`` lie, in
    either layout (``_wt_view``): ``(one_block, near, far)``.

    ``one_block``: whether all of them lie in WT's first block of columns
    (always, in rows of whole width). ``near()`` (valid then) and ``far()``
    (in blocks of one line: ``j0`` a multiple of two vectors) emit, where
    they are called, ``(row0, stride, offsets)``: vector c of logical row k
    is at byte ``k * stride + offsets[c]`` from ``row0``. A caller emits its
    loop over pixels once for each (``_emit_both``): inside it one multiply
    per pixel, and the vectors' loads and stores at offsets fixed before it.
    A row and a column for each vector, or offsets divided out for every
    call (an integer division per vector), made epochs slower by 4-40%.
    """
    i64 = ir.IntType(64)
    arr = context.make_array(wty)(context, builder, WT)
    S = cgutils.unpack_tuple(builder, arr.shape, 2)[1]
    stride = cgutils.unpack_tuple(builder, arr.strides, 2)[0]
    data = builder.bitcast(arr.data, ir.IntType(8).as_pointer())
    item = 8 if isinstance(vty.element, ir.DoubleType) else 4
    vec_bytes = vty.count * item
    one_block = builder.icmp_signed("<=", builder.add(j0, ir.Constant(i64, nv * vty.count)), S)

    def near():
        base = builder.gep(data, [builder.mul(j0, ir.Constant(i64, item))], inbounds=True)
        return base, stride, [c * vec_bytes for c in range(nv)]

    def far():
        block = builder.mul(n_in, stride)  # bytes of one block of columns
        per = SPARSE_ROW_BYTES // vec_bytes  # vectors in a block
        q0 = builder.ashr(j0, ir.Constant(i64, (SPARSE_ROW_BYTES // item).bit_length() - 1))
        base = builder.gep(data, [builder.mul(q0, block)], inbounds=True)
        return base, stride, [builder.add(builder.mul(ir.Constant(i64, c // per), block),
                                          ir.Constant(i64, (c % per) * vec_bytes))
                              for c in range(nv)]

    return one_block, near, far


def _wt_vector(builder, places, k, c, vty):
    """Pointer to the vector of WT's logical row ``k`` at ``places``' column ``c``."""
    row0, stride, offsets = places
    row = builder.gep(row0, [builder.mul(k, stride)], inbounds=True)
    off = offsets[c]
    if isinstance(off, int):
        off = ir.Constant(ir.IntType(64), off)
    return builder.bitcast(builder.gep(row, [off], inbounds=True), vty.as_pointer())


def _emit_both(builder, where, emit):
    """``emit(places)`` for WT's vectors in one block (constant offsets), else in blocks."""
    one_block, near, far = where
    with builder.if_else(one_block) as (then, otherwise):
        with then:
            emit(near())
        with otherwise:
            emit(far())


@intrinsic
def _vec_lanes(typingctx, ary):
    """Elements of ``ary``'s dtype in one vector of ``VEC_BYTES``."""
    def codegen(context, builder, sig, args):
        return ir.Constant(ir.IntType(64), VEC_BYTES // (sig.args[0].dtype.bitwidth // 8))
    return types.int64(ary), codegen


@intrinsic
def _sparse_lanes(typingctx, ary):
    """Elements of ``ary``'s dtype in one vector of ``SPARSE_VEC_BYTES``."""
    def codegen(context, builder, sig, args):
        return ir.Constant(ir.IntType(64), SPARSE_VEC_BYTES // (sig.args[0].dtype.bitwidth // 8))
    return types.int64(ary), codegen


@intrinsic
def _panel_lanes(typingctx, ary):
    """Elements of ``ary``'s dtype in one vector of a register panel (``_panel_bytes``)."""
    def codegen(context, builder, sig, args):
        return ir.Constant(ir.IntType(64),
                           _panel_bytes(builder) // (sig.args[0].dtype.bitwidth // 8))
    return types.int64(ary), codegen


@intrinsic
def _sparse_panel_sums(typingctx, acc, WT, steps, vals, lut, p0, p1, j0, n_in, nvec):
    """acc[j] = sum over p0 <= p < p1 of lut[vals[p]] * WT[k_p, j] for the
    ``nvec`` vectors of columns from ``j0``, where k_p = steps[p0] + ... + steps[p]
    (WT's logical element (k, j), in either layout: see ``_wt_view``; ``n_in``
    its logical rows).

    ``nvec`` is a constant (a numba literal): the sums live in that many
    vector registers. Each sum is ``fma(x, w, sum)`` from +0.0, pixel by pixel.
    """
    if not isinstance(nvec, types.IntegerLiteral):
        return None
    nv = nvec.literal_value

    def codegen(context, builder, sig, args):
        acc, WT, p0, p1, j0, n_in = args[0], args[1], args[5], args[6], args[7], args[8]
        accty, wty = sig.args[:2]
        pixels = list(zip(sig.args[2:5], args[2:5]))
        i64 = ir.IntType(64)
        vty = _vector_type(context, accty.dtype, SPARSE_VEC_BYTES)
        align = accty.dtype.bitwidth // 8
        fma = _fma_function(builder, vty)
        where = _wt_places(context, builder, wty, WT, j0, nv, vty, n_in)
        # allocas: LLVM keeps them in registers (mem2reg)
        sums = [cgutils.alloca_once_value(builder, ir.Constant(vty, None)) for _ in range(nv)]
        k_slot = cgutils.alloca_once_value(builder, ir.Constant(i64, 0))

        def emit(places):
            with cgutils.for_range_slice(builder, p0, p1, ir.Constant(i64, 1)) as (p, _):
                k, x = _load_pixel(context, builder, pixels, p, builder.load(k_slot))
                builder.store(k, k_slot)
                xv = _splat(builder, vty, x)
                for c in range(nv):
                    w = builder.load(_wt_vector(builder, places, k, c, vty), align=align)
                    builder.store(builder.call(fma, [xv, w, builder.load(sums[c])]), sums[c])

        _emit_both(builder, where, emit)
        for c in range(nv):
            pa = builder.bitcast(_item_pointer(context, builder, accty, acc,
                                               builder.add(j0, ir.Constant(i64, c * vty.count))),
                                 vty.as_pointer())
            builder.store(builder.load(sums[c]), pa, align=align)
        return context.get_dummy_value()
    return types.none(acc, WT, steps, vals, lut, p0, p1, j0, n_in, nvec), codegen


#: widest WT rows (in vectors) summed in register panels (at most two passes
#: over an example's pixels). Every panel is a pass over the pixels: at 26
#: vectors ([784, 100, 10], 12 + 12 + 2) epochs were 3-7% slower than with
#: one pass of the loop below in three of four A/B runs; at 8 ([784, 30, 10])
#: 7-11% faster.
SPARSE_PANELS_MAX = 12


@fjit
def _sparse_row_sums_wide(acc, WT, steps, vals, lut, p0, p1, j0, j1, zero):
    """``_sparse_panel_sums`` over WT's columns j0 <= j < j1, for wide rows: one pass
    over the pixels, four weight rows per pass over the row of sums in memory (LLVM
    makes each sum the same chain of fused multiply-adds, so the bits agree).
    Wide layers keep WT in rows of whole width (``_wt_view``)."""
    a = acc[j0:j1]
    for j in range(a.shape[0]):
        a[j] = zero
    k = 0
    p = p0
    while p + 4 <= p1:
        k0 = k + steps[p]
        k1 = k0 + steps[p + 1]
        k2 = k1 + steps[p + 2]
        k = k2 + steps[p + 3]
        x0 = lut[vals[p]]
        x1 = lut[vals[p + 1]]
        x2 = lut[vals[p + 2]]
        x3 = lut[vals[p + 3]]
        w0 = WT[k0, j0:j1]
        w1 = WT[k1, j0:j1]
        w2 = WT[k2, j0:j1]
        w3 = WT[k, j0:j1]
        for j in range(a.shape[0]):
            a[j] += (x0 * w0[j] + x1 * w1[j]) + (x2 * w2[j] + x3 * w3[j])
        p += 4
    while p < p1:
        k += steps[p]
        x0 = lut[vals[p]]
        w0 = WT[k, j0:j1]
        for j in range(a.shape[0]):
            a[j] += x0 * w0[j]
        p += 1


@fjit
def _forward_input_sparse(sp, rows, i0, i1, j0, j1, b, Out, zero):
    """Out[i, j] = sigmoid(b[j] + sum_p lut[vals[p]] * WT[col_p, j]) for i0 <= i < i1
    and WT's columns j0 <= j < j1 (as ``_sparse_blocks`` gives them, or all).

    Each neuron's sum is computed the same way whichever columns a call takes.
    """
    _prefer_512_bit()  # where SPARSE_VEC_BYTES is 64
    indptr, steps, vals, lut, WT = sp
    # WT's rows are padded (SPARSE_ROW_BYTES) to a multiple of two vectors of
    # VEC_BYTES, so panels of 12, 8, 4 and 2 of them (6, 4, 2 and 1 of 64
    # bytes) cover them; the padding sums are not used.
    slanes: int = _sparse_lanes(WT)
    lanes: int = _vec_lanes(WT)
    n_in, width = _wt_dims(WT, Out.shape[1])
    wide = width > SPARSE_PANELS_MAX * lanes  # by the whole width: one path per network
    acc_buf = np.empty(width, WT.dtype)
    acc = _unowned(acc_buf)  # kept alive below
    for i in range(i0, i1):
        src = rows[i]
        # The examples come in shuffled order, so each one's pixels are a
        # cache miss: ask for the next example's (its first SPARSE_PREFETCH
        # entries) and where the one after starts while this one is summed.
        if i + 1 < i1:
            q = indptr[rows[i + 1]]
            for c in range(0, SPARSE_PREFETCH, 64):
                _prefetch(steps, q + c)
                _prefetch(vals, q + c)
            if i + 2 < i1:
                _prefetch(indptr, rows[i + 2])
        p0 = indptr[src]
        p1 = indptr[src + 1]
        if wide:
            _sparse_row_sums_wide(acc, WT, steps, vals, lut, p0, p1, j0, j1, zero)
        else:
            j = j0
            if j + _PANEL_12 * slanes <= j1:
                _sparse_panel_sums(acc, WT, steps, vals, lut, p0, p1, j, n_in, _PANEL_12)
                j += _PANEL_12 * slanes
            if j + _PANEL_8 * slanes <= j1:
                _sparse_panel_sums(acc, WT, steps, vals, lut, p0, p1, j, n_in, _PANEL_8)
                j += _PANEL_8 * slanes
            if j + _PANEL_4 * slanes <= j1:
                _sparse_panel_sums(acc, WT, steps, vals, lut, p0, p1, j, n_in, _PANEL_4)
                j += _PANEL_4 * slanes
            if j + _PANEL_2 * slanes <= j1:
                _sparse_panel_sums(acc, WT, steps, vals, lut, p0, p1, j, n_in, _PANEL_2)
        # views from j0: a loop over range(j0, ...) keeps numba's negative-index checks
        o = Out[i, j0:min(j1, Out.shape[1])]
        a = acc[j0:]
        bj = b[j0:]
        for j in range(o.shape[0]):
            o[j] = _sigmoid_scalar(a[j] + bj[j])
    _keep_alive(acc_buf)


@fjit
def _wt_view(WT, n_out):
    """WT (allocated (n_in, width)) in the layout training uses: blocks of one
    line of columns for layers whose columns threads split, else as it is."""
    S = WT.shape[1]
    if _sparse_by_columns(WT, n_out):
        S = SPARSE_ROW_BYTES // WT.itemsize
    return WT.reshape((WT.size // S, S))


@fjit
def _wt_dims(WT, n_out):
    """``(n_in, width)``: the logical shape of ``WT`` (see ``_wt_view``)."""
    S = WT.shape[1]
    width = (n_out + S - 1) // S * S
    return WT.shape[0] // (width // S), width


@fjit
def _sparse_by_columns(WT, n_out):
    """Whether ``_sparse_blocks`` splits WT's columns (else examples and rows)."""
    lanes: int = _vec_lanes(WT)
    return n_out <= SPARSE_UPDATE_VECTORS * lanes


@fjit
def _sparse_blocks(WT, n_out, r, nblk, t):
    """Thread block ``t`` of ``nblk`` of the sparse input layer:
    ``(i0, i1, k0, k1, j0, j1)``, its examples, WT's rows and WT's columns.

    Layers whose update holds a delta row in registers (at most
    ``SPARSE_UPDATE_VECTORS`` vectors) split WT's columns, in pairs of
    vectors (one cache line), for both the forward pass and the update: each
    thread reads and writes only its own columns, and with WT on whole lines
    (``_aligned.zeros_aligned``) in blocks of one line of columns
    (``_wt_view``) those lines stay in its own core's caches. Split by
    examples (forward) and rows (update) instead, every mini-batch moved the
    rows the other thread had just updated from core to core: two threads
    were no faster than one at [784, 30, 10], m = 10. Wider layers keep
    that split: their wide-row loops, run by both threads over every pixel
    for half the columns, were 13% slower per epoch at [784, 100, 10].
    """
    lanes: int = _vec_lanes(WT)
    n_in, width = _wt_dims(WT, n_out)
    if _sparse_by_columns(WT, n_out):
        pairs = width // (2 * lanes)
        return (r - r, r, n_in - n_in, n_in, _block_bound(pairs, nblk, t, 1) * 2 * lanes,
                _block_bound(pairs, nblk, t + 1, 1) * 2 * lanes)
    return (t * r // nblk, (t + 1) * r // nblk, _block_bound(n_in, nblk, t, 1),
            _block_bound(n_in, nblk, t + 1, 1), n_in - n_in, width)


@fjit
def _scale_input_delta(D, r, b, neg_step):
    """The input layer's bias step (BP3), then D *= neg_step for ``_update_input_sparse``."""
    for j in range(D.shape[1]):
        s = D[0, j] - D[0, j]
        for i in range(r):
            s += D[i, j]
        b[j] += neg_step * s
    for i in range(r):
        for j in range(D.shape[1]):
            D[i, j] = neg_step * D[i, j]


#: most vectors (of VEC_BYTES; half as many of SPARSE_VEC_BYTES = 64) of a
#: delta row the sparse update holds in registers (30 float64 neurons are 7
#: and a last one of 2); wider layers take the plain loop
SPARSE_UPDATE_VECTORS = 8
#: bytes of WT's rows the sparse update works on at a time (L1 is 32 KB on
#: the machines measured)
SPARSE_TILE_BYTES = 24 * 1024


@intrinsic
def _sparse_row_updates(typingctx, WT, D, steps, vals, lut, i, cursor, p1, k1, j0, j1, n_in):
    """WT[k, j] = fma(D[i, j], lut[vals[p]], WT[k, j]) for example i's pixels with
    k < k1 and the columns j0 <= j < j1 (j0 a multiple of the vector width).

    Resumes at entry ``cursor[i, 0]`` of the example's pixels, with the
    column of the entry before it in ``cursor[i, 1]``, and stops at ``p1``
    or at the first entry in a column k >= k1, storing where it stopped in
    ``cursor[i]`` for the next call. The deltas are held in (at most
    ``SPARSE_UPDATE_VECTORS``) vector registers (``SPARSE_VEC_BYTES``), the last padded with
    zeros: WT's padding columns get fma(0, x, 0) = 0 and stay zero. WT in
    blocks of one line of columns, as training stores these layers
    (``_wt_view``; ``n_in`` its logical rows); its element (k, j) is the
    logical one.
    """
    def codegen(context, builder, sig, args):
        WT, D, i, cursor, p1, k1, j0, j1, n_in = args[:2] + args[5:]
        wty, dty = sig.args[:2]
        curty = sig.args[6]
        pixels = list(zip(sig.args[2:5], args[2:5]))
        i64 = ir.IntType(64)
        vty = _vector_type(context, wty.dtype, SPARSE_VEC_BYTES)
        align = wty.dtype.bitwidth // 8
        fma = _fma_function(builder, vty)
        lanes = ir.Constant(i64, vty.count)
        nvec = builder.sdiv(builder.add(builder.sub(j1, j0), ir.Constant(i64, vty.count - 1)),
                            lanes)
        nmax = SPARSE_UPDATE_VECTORS * VEC_BYTES // SPARSE_VEC_BYTES  # vectors of vty
        cols = [builder.add(j0, ir.Constant(i64, c * vty.count))
                for c in range(nmax)]
        # WT in blocks (training's layout for these layers): one loop to compile
        _, _, far = _wt_places(context, builder, wty, WT, j0, nmax, vty, n_in)
        deltas = []
        for c in range(nmax):
            slot = cgutils.alloca_once_value(builder, ir.Constant(vty, None))
            whole = builder.icmp_signed("<=", builder.add(cols[c], lanes), j1)
            with builder.if_else(whole) as (full, part):
                with full:
                    pd = _item_pointer_2d(context, builder, dty, D, i, cols[c])
                    builder.store(builder.load(builder.bitcast(pd, vty.as_pointer()),
                                               align=align), slot)
                with part:  # the columns left, if any, lane by lane
                    for q in range(vty.count):
                        j = builder.add(cols[c], ir.Constant(i64, q))
                        with builder.if_then(builder.icmp_signed("<", j, j1)):
                            d = builder.load(_item_pointer_2d(context, builder, dty, D, i, j))
                            builder.store(builder.insert_element(
                                builder.load(slot), d, ir.Constant(ir.IntType(32), q)), slot)
            deltas.append(slot)
        p_at = _item_pointer_2d(context, builder, curty, cursor, i, ir.Constant(i64, 0))
        k_at = _item_pointer_2d(context, builder, curty, cursor, i, ir.Constant(i64, 1))
        p_slot = cgutils.alloca_once_value(builder, builder.load(p_at))
        k_slot = cgutils.alloca_once_value(builder, builder.load(k_at))

        def emit(places):
            head, body, work, done = (builder.append_basic_block(name) for name in
                                      ("head", "body", "work", "done"))
            builder.branch(head)
            builder.position_at_end(head)
            p = builder.load(p_slot)
            builder.cbranch(builder.icmp_signed("<", p, p1), body, done)
            builder.position_at_end(body)
            k, x = _load_pixel(context, builder, pixels, p, builder.load(k_slot))
            builder.cbranch(builder.icmp_signed(">=", k, k1), done, work)
            builder.position_at_end(work)
            builder.store(k, k_slot)
            xv = _splat(builder, vty, x)
            for c in range(nmax):
                with builder.if_then(builder.icmp_signed("<", ir.Constant(i64, c), nvec)):
                    pw = _wt_vector(builder, places, k, c, vty)
                    w = builder.load(pw, align=align)
                    builder.store(builder.call(fma, [builder.load(deltas[c]), xv, w]), pw,
                                  align=align)
            builder.store(builder.add(p, ir.Constant(i64, 1)), p_slot)
            builder.branch(head)
            builder.position_at_end(done)

        emit(far())
        builder.store(builder.load(p_slot), p_at)
        builder.store(builder.load(k_slot), k_at)
        return context.get_dummy_value()
    return types.none(WT, D, steps, vals, lut, i, cursor, p1, k1, j0, j1, n_in), codegen


@fjit
def _update_input_sparse(D, sp, rows, r, k0, k1, j0, j1, decay):
    """``_update_layer`` for the input layer on sparse rows: WT's rows k0 <= k < k1
    and columns j0 <= j < j1 only (as ``_sparse_blocks`` gives them).

    Each example adds ``D[i, j] * x_k`` (``D`` already scaled by ``-eta/r``)
    into row k of WT for its non-zero pixels; the other products are exactly 0.
    WT's padding columns stay zero. WT in training's layout (``_wt_view``):
    blocks of one line of columns for layers of up to SPARSE_UPDATE_VECTORS
    vectors, rows of whole width for wider ones.
    """
    _prefer_512_bit()  # where SPARSE_VEC_BYTES is 64
    indptr, steps, vals, lut, WT = sp
    n_out = D.shape[1]
    if min(j1, n_out) <= j0:
        return
    n_in, _ = _wt_dims(WT, n_out)
    # rows of the tile: by the bytes of WT's rows the columns occupy, padding included
    tile = max(1, SPARSE_TILE_BYTES // ((j1 - j0) * WT.itemsize))
    j1 = min(j1, n_out)  # WT's padding columns are not updated
    if decay != 1.0:
        S = WT.shape[1]
        j = j0
        while j < j1:  # a block of WT's layout at a time
            c0 = j % S
            c1 = min(S, c0 + j1 - j)
            q = (j // S) * n_in
            for k in range(k0, k1):
                w = WT[q + k, c0:c1]
                for c in range(w.shape[0]):
                    w[c] = decay * w[c]
            j += c1 - c0
    lanes: int = _vec_lanes(WT)
    if n_out > SPARSE_UPDATE_VECTORS * lanes:
        _update_input_sparse_wide(D, sp, rows, r, k0, k1, j0, j1)
        return
    # WT's rows a tile at a time, each example's pixels in the tile in turn:
    # a row that several examples of the mini-batch share stays in L1 between
    # them (one example's ~150 rows of 256 bytes did not). Every weight gets
    # its updates in the same order as example by example: the same bits.
    cursor_buf = np.empty((r, 2), np.int64)
    cursor = _unowned(cursor_buf)  # kept alive below
    for i in range(r):
        # Another thread wrote D (BP2): each example's deltas are a miss
        # from its core, which the loads at the start of every example's
        # first tile met one after another. Asked for together, they overlap.
        _prefetch(D[i], j0)
        _prefetch(D[i], j1 - 1)
    for i in range(r):
        p = indptr[rows[i]]
        k = 0
        while p < indptr[rows[i] + 1] and k + steps[p] < k0:  # to row k0
            k += steps[p]
            p += 1
        cursor[i, 0] = p
        cursor[i, 1] = k
    for ks in range(k0, k1, tile):
        ke = min(k1, ks + tile)
        for i in range(r):
            _sparse_row_updates(WT, D, steps, vals, lut, i, cursor, indptr[rows[i] + 1], ke,
                                j0, j1, n_in)
    _keep_alive(cursor_buf)


@fjit
def _update_input_sparse_wide(D, sp, rows, r, k0, k1, j0, j1):
    """``_update_input_sparse``'s updates for layers of over ``SPARSE_UPDATE_VECTORS`` vectors
    (WT in rows of whole width, ``_wt_view``)."""
    indptr, steps, vals, lut, WT = sp
    for i in range(r):
        src = rows[i]
        d = D[i, j0:j1]
        k = 0
        for p in range(indptr[src], indptr[src + 1]):
            k += steps[p]
            if k >= k1:
                break
            if k >= k0:
                x = lut[vals[p]]
                w = WT[k, j0:j1]
                for j in range(d.shape[0]):
                    w[j] += d[j] * x


@fjit
def _wt_copy(W, WT, into_wt):
    """WT = W.T in WT's layout (``_wt_view``) when ``into_wt``, else W = WT.T.

    WT's padding columns are neither read nor written.
    """
    n_out, n_in = W.shape
    S = WT.shape[1]
    for j in range(n_out):
        q = (j // S) * n_in
        c = j % S
        for k in range(n_in):
            if into_wt:
                WT[q + k, c] = W[j, k]
            else:
                W[j, k] = WT[q + k, c]


# ---- the network's arrays as three flat buffers ---------------------------
# The fused kernels take every layer's weights (and biases, activations,
# deltas) packed one after another in one 1-D array, with ``sizes`` saying
# where each layer's block starts, instead of a tuple of arrays per layer. A
# tuple's numba type includes its length, so each network depth would compile
# the kernels again (about 25 s each, per dtype, on a 2-core EPYC); flat buffers give one
# compiled kernel per dtype for every shape.


@fjit
def _weights_view(wflat, sizes, l):
    """Layer ``l``'s (sizes[l+1], sizes[l]) weights in ``wflat``."""
    o = 0
    for i in range(l):
        o += sizes[i + 1] * sizes[i]
    return _as_2d(wflat[o:o + sizes[l + 1] * sizes[l]], sizes[l + 1], sizes[l])


@fjit
def _layer_view(flat, sizes, l, m):
    """Layer ``l``'s (m, sizes[l+1]) block of ``flat``: biases (m=1), outputs or deltas."""
    o = 0
    for i in range(l):
        o += m * sizes[i + 1]
    return _as_2d(flat[o:o + m * sizes[l + 1]], m, sizes[l + 1])


@fjit
def _dense_block(l, X, rows, ident, sizes, aflat, m, t, nblk, align):
    """Layer ``l``'s neurons ``j0:j1`` for block ``t`` of ``nblk``, and its input rows.

    The input layer reads ``X`` in place through the epoch's permutation
    ``rows``; a hidden layer reads the previous layer's outputs in order.
    """
    n_out = sizes[l + 1]
    A = X if l == 0 else _layer_view(aflat, sizes, l - 1, m)
    return (_block_bound(n_out, nblk, t, align), _block_bound(n_out, nblk, t + 1, align), A,
            rows if l == 0 else ident)


@_fjit_inline
def _forward_block(l, by_examples, X, sp, sparse, rows, rows_ahead, ident, r, sizes, wflat,
                   bflat, aflat, m, t, nblk, zero, WTs, wide):
    """Block ``t`` of ``nblk`` of layer ``l``'s forward pass for a mini-batch of r examples.

    Dense layers split neurons, or with ``by_examples`` examples (at
    multiples of ``EXAMPLE_ALIGN``); the sparse input layer as ``_sparse_blocks`` says.
    ``rows_ahead``: ``rows`` and the next few rows of the epoch's permutation.
    """
    b = _layer_view(bflat, sizes, l, 1)[0]
    Out = _layer_view(aflat, sizes, l, m)
    if l == 0 and sparse:
        i0, i1, _, _, j0, j1 = _sparse_blocks(sp[4], sizes[1], r, nblk, t)
        _forward_input_sparse(sp, rows, i0, i1, j0, j1, b, Out, zero)
    else:
        if by_examples:
            j0, j1, A, Arows = _dense_block(l, X, rows, ident, sizes, aflat, m, t - t, 1, 1)
            i0 = _block_bound(r, nblk, t, EXAMPLE_ALIGN)
            i1 = _block_bound(r, nblk, t + 1, EXAMPLE_ALIGN)
        else:
            j0, j1, A, Arows = _dense_block(l, X, rows, ident, sizes, aflat, m, t, nblk,
                                            FORWARD_ALIGN)
            i0 = r - r
            i1 = r
        # one call site whichever way the layer is split: one compiled callee
        # for each vector width
        W = _weights_view(wflat, sizes, l)
        if wide:
            # by the mini-batch's size and the layer's inputs only, so every
            # output takes the same path for any thread count
            if _outer_form(r, W.shape[1]):
                _forward_layer_outer(A, Arows[i0:i1], i1 - i0, W[j0:j1], b[j0:j1],
                                     Out[i0:i1, j0:j1], WTs)
            else:
                # the input layer's rows go on into the next mini-batch's
                # (``rows_ahead``), for its forward pass to fetch them ahead
                _forward_layer_v512(A, rows_ahead if l == 0 and not by_examples else
                                    Arows[i0:i1], i1 - i0, W[j0:j1], b[j0:j1],
                                    Out[i0:i1, j0:j1], zero)
            _inplace_sigmoid_v512(Out, i0, i1, j0, j1)
        else:
            _forward_layer(A, rows_ahead if l == 0 and not by_examples else Arows[i0:i1],
                           i1 - i0, W[j0:j1], b[j0:j1], Out[i0:i1, j0:j1], zero)
            _inplace_sigmoid(Out, i0, i1, j0, j1)


@_fjit_inline
def _backward_block(Y, rows, r, sizes, wflat, aflat, dflat, m, cost_kind, t, nblk, zero, wide):
    """BP1 and then BP2 down to the first hidden layer, for block ``t`` of ``nblk`` of the examples.

    Every delta of the mini-batch, from the weights as they were in the
    forward pass: all of BP2 runs before any layer's update, which changes
    nothing (BP2 for layer l reads only W_l, and W_l changes only in its own
    update). Each example's deltas are computed alone, so any split gives
    the same bits.
    """
    L = len(sizes) - 1
    # the forward passes' example blocks: a thread's deltas need only the
    # outputs it computed itself since the last barrier
    i0 = _block_bound(r, nblk, t, EXAMPLE_ALIGN)
    i1 = _block_bound(r, nblk, t + 1, EXAMPLE_ALIGN)
    out = _layer_view(aflat, sizes, L - 1, m)
    dl = _layer_view(dflat, sizes, L - 1, m)
    for i in range(i0, i1):
        src = rows[i]
        for j in range(out.shape[1]):
            a = out[i, j]
            if cost_kind == 0:
                dl[i, j] = (a - Y[src, j]) * (a * (1 - a))
            else:
                dl[i, j] = a - Y[src, j]
    for l in range(L - 1, 0, -1):
        W = _weights_view(wflat, sizes, l)
        D = _layer_view(dflat, sizes, l, m)[i0:i1]
        Aprev = _layer_view(aflat, sizes, l - 1, m)[i0:i1]
        Dprev = _layer_view(dflat, sizes, l - 1, m)[i0:i1]
        if wide:
            _backward_delta_v512(D, i1 - i0, W, Aprev, Dprev, zero)
        else:
            _backward_delta(D, i1 - i0, W, Aprev, Dprev, zero)


@_fjit_inline
def _update_block(l, X, sp, sparse, rows, ident, r, sizes, wflat, bflat, aflat, dflat, m, t,
                  nblk, decay, neg_step, P, wide):
    """Block ``t`` of ``nblk`` of layer ``l``'s fused gradient step.

    Dense layers split neurons; the sparse input layer as ``_sparse_blocks`` says.
    ``P``: the thread's scratch for ``_update_layer``.
    """
    D = _layer_view(dflat, sizes, l, m)
    if l == 0 and sparse:
        _, _, k0, k1, j0, j1 = _sparse_blocks(sp[4], sizes[1], r, nblk, t)
        _update_input_sparse(D, sp, rows, r, k0, k1, j0, j1, decay)
    else:
        j0, j1, A, Arows = _dense_block(l, X, rows, ident, sizes, aflat, m, t, nblk, UPDATE_ALIGN)
        W = _weights_view(wflat, sizes, l)
        b = _layer_view(bflat, sizes, l, 1)[0, j0:j1]
        if wide:
            _update_layer_v512(D[:, j0:j1], A, Arows, r, W[j0:j1], b, decay, neg_step, P,
                               l > 0)
        else:
            _update_layer(D[:, j0:j1], A, Arows, r, W[j0:j1], b, decay, neg_step, P, l > 0)


#: a dense input layer is updated and run forward for the next mini-batch
#: in one pass over its weights (``_update_then_forward``), this many neurons
#: at a time, whose rows stay in L2 between the two (a thread's whole block
#: of a large layer did not: [784, 1000, 10] at m = 10 took 0.736x the time,
#: benchmarks/results/2026-11-29/update-then-forward-twentieth.txt)
FUSE_NEURONS = 64


@_fjit_inline
def _update_then_forward(X, rows, r, rows2, rows2_ahead, r2, sizes, wflat, bflat, aflat, dflat,
                         m, t, nblk, decay, neg_step, zero, P, WTs, wide):
    """Block ``t`` of ``nblk`` of the dense input layer's fused gradient step
    for this mini-batch (``rows``, r examples), and of its forward pass for
    the next one (``rows2``, r2 examples), FUSE_NEURONS neurons at a time:
    each piece's weight rows are read for the forward pass right after their
    update, while they are in cache, instead of once more from L3 or memory
    at the next mini-batch's start. The caller makes sure the next forward
    pass would be split by the same neurons. Each weight's chain and each
    output's sums are those of ``_update_block`` and ``_forward_block``, so
    the bits are too.
    """
    D = _layer_view(dflat, sizes, 0, m)
    Out = _layer_view(aflat, sizes, 0, m)
    W = _weights_view(wflat, sizes, 0)
    bv = _layer_view(bflat, sizes, 0, 1)[0]
    j0 = _block_bound(sizes[1], nblk, t, UPDATE_ALIGN)
    j1 = _block_bound(sizes[1], nblk, t + 1, UPDATE_ALIGN)
    # The input layer's update goes without the prefetch for writing. False
    # computed at run time: a literal False made numba compile _update_layer
    # a second time for it (3.5 s more for each training kernel's first run).
    own = r < 0
    for a in range(j0, j1, FUSE_NEURONS):
        e = min(j1, a + FUSE_NEURONS)
        if wide:
            _update_layer_v512(D[:, a:e], X, rows, r, W[a:e], bv[a:e], decay, neg_step, P, own)
            if _outer_form(r2, W.shape[1]):
                _forward_layer_outer(X, rows2, r2, W[a:e], bv[a:e], Out[0:r2, a:e], WTs)
            else:
                _forward_layer_v512(X, rows2_ahead, r2, W[a:e], bv[a:e], Out[0:r2, a:e], zero)
            _inplace_sigmoid_v512(Out, r2 - r2, r2, a, e)
        else:
            _update_layer(D[:, a:e], X, rows, r, W[a:e], bv[a:e], decay, neg_step, P, own)
            _forward_layer(X, rows2_ahead, r2, W[a:e], bv[a:e], Out[0:r2, a:e], zero)
            _inplace_sigmoid(Out, r2 - r2, r2, a, e)


@_fjit_inline
def _step_block(phase, by_examples, l, X, sp, sparse, Y, rows, rows_ahead, ident, r, sizes,
                wflat, bflat, aflat, dflat, m, cost_kind, t, nblk, decay, neg_step, zero, P, WTs,
                wide):
    """Block ``t`` of a mini-batch step: layer ``l``'s forward pass (``phase`` 0),
    every layer's deltas (1) or layer ``l``'s fused update (2); the dense
    layers' kernels in 512-bit vectors if ``wide`` (a constant: see
    ``train_epoch_fused_v512``)."""
    if phase == 0:
        _forward_block(l, by_examples, X, sp, sparse, rows, rows_ahead, ident, r, sizes, wflat,
                       bflat, aflat, m, t, nblk, zero, WTs, wide)
    elif phase == 1:
        _backward_block(Y, rows, r, sizes, wflat, aflat, dflat, m, cost_kind, t, nblk, zero,
                        wide)
    else:
        _update_block(l, X, sp, sparse, rows, ident, r, sizes, wflat, bflat, aflat, dflat, m, t,
                      nblk, decay, neg_step, P, wide)


#: a layer is split across threads only when it has at least this many
#: weights; smaller layers cost less than a parallel region's start-up (the
#: thresholds here were measured when every split step started one; not
#: re-measured since threads meet at barriers instead)
SPLIT_MIN_WEIGHTS = 8192
#: thread blocks of neurons start at multiples of these. The forward pass
#: works on 2 neurons at a time, so with its boundaries at multiples of 2
#: every neuron falls in the same pair, takes the same code path (and so gets
#: the same rounding) whatever the thread count: training is bit-identical
#: for any ``nthr``. The update gives every weight the same chain in any
#: block or leftover loop (``_update_layer_body``), so its blocks are the
#: forward pass's: each thread updates the weight rows it has just read, and
#: none moves to the other thread's cache and back each mini-batch (with
#: the update's blocks at multiples of 3, its own group, 100 neurons split
#: 50/50 and 48/52 and [784, 100, 10] at m = 10 took 1.07-1.08x the time:
#: benchmarks/results/2026-11-29/update-align-twentieth.txt).
FORWARD_ALIGN = 2
UPDATE_ALIGN = FORWARD_ALIGN
#: a layer is split only if every thread gets at least this many neurons
SPLIT_MIN_NEURONS = 6
#: from this many examples on, the steps not split by neurons (the forward
#: pass of small layers, and the deltas) are split by examples; below it the
#: other thread's pulling the small layers' weights into its cache (updated
#: by thread 0) cost more than it saved (but for the deltas of a network
#: whose BP2 reads SPLIT_MIN_WEIGHTS weights or more: see _step_plan). It was
#: 50 (measured with a parallel region per step); with barriers, on the Intel
#: Xeon with AVX-512 and [784, 30, 10] on two threads, 20 and 30 examples
#: took 0.94-0.96x the time split, 10 took 1.03-1.05x
#: (benchmarks/results/2026-11-29/split-examples-twentysecond.txt).
SPLIT_MIN_EXAMPLES = 20
#: example blocks of a dense forward pass start at multiples of its 5-example
#: register block, so every example takes the same code path for any ``nthr``
EXAMPLE_ALIGN = 5


@fjit
def _split_blocks(n_out, n_weights, nthr):
    """How many neuron blocks a layer is cut into: ``nthr`` if it is worth it, else 1."""
    if nthr > 1 and n_weights >= SPLIT_MIN_WEIGHTS and n_out >= SPLIT_MIN_NEURONS * nthr:
        return nthr
    return 1


@fjit
def _block_bound(n_out, nblk, t, align):
    """Start of block ``t`` of ``nblk`` over ``n_out`` items (``t == nblk`` gives ``n_out``)."""
    if t >= nblk:
        return n_out
    return (t * n_out // nblk) // align * align


# ---- threads that walk a segment together and meet at barriers ----
# A numba parallel region costs microseconds to start (an informal loop of
# empty regions on a 2-core EPYC: 8-17 us each, against 0.2-0.4 us for a spin
# barrier), and the fused kernel needed one or two per mini-batch: at m = 10
# about as much time as the work it split (the README gives the A/B).
# So each of a segment's threads (the caller's and helpers it starts, see
# nnvec._threads.Team) runs the whole segment, every thread walks the same
# steps, and they meet at a barrier wherever one step's output is another
# thread's input. Helper threads rather than a numba parallel region: after a
# region, OpenMP's idle threads keep spinning for milliseconds, and on a busy
# machine that spinning took a core from the training itself (measured: the
# default thread choice 1.2-1.8x slower than one thread under load, 0.98-1.06x
# with OpenMP's spinning off). Waiting threads here spin tens of microseconds,
# then sleep until woken.


def _item_pointer(context, builder, aryty, ary, idx):
    arr = context.make_array(aryty)(context, builder, ary)
    return cgutils.get_item_pointer(context, builder, aryty, arr, [idx], wraparound=False)


@intrinsic
def _unowned(typingctx, ary):
    """``ary`` as a view that holds no reference to its memory (NULL meminfo).

    numba counts references to every array it passes around, slices or
    reshapes: an atomic ``lock inc``/``lock dec`` on the array's meminfo each
    time, hundreds per mini-batch in the fused kernels (two thirds of the
    time of a [2, 2, 2] network's epoch at m = 1, a tenth of the chapter-1
    network's), and when two threads count the same array, its count's
    cache line moves between their cores every time. Views of an unowned
    array are unowned too, and numba skips a NULL meminfo. Only for arrays
    that something else keeps alive for as long as the view is used: the
    kernel's arguments (the caller holds them) or a buffer kept alive to the
    end of the function (``_keep_alive``).
    """
    if not isinstance(ary, types.Array):
        return None

    def codegen(context, builder, sig, args):
        arr = context.make_array(sig.args[0])(context, builder, args[0])
        arr.meminfo = cgutils.get_null_value(arr.meminfo.type)
        arr.parent = cgutils.get_null_value(arr.parent.type)
        return arr._getvalue()
    return ary(ary), codegen


def _contiguous_view(context, builder, srcty, src, retty, shape):
    """A C-contiguous ``retty`` array of ``shape`` (a list of int64 values) on
    ``src``'s memory, holding its own reference, as numba expects of a result."""
    from numba.np.arrayobj import populate_array  # numba's own, loaded by its first call
    arr = context.make_array(srcty)(context, builder, src)
    out = context.make_array(retty)(context, builder)
    itemsize = arr.itemsize
    strides = [itemsize]
    for n in reversed(shape[1:]):
        strides.insert(0, builder.mul(n, strides[0]))
    populate_array(out, data=arr.data, shape=cgutils.pack_array(builder, shape),
                   strides=cgutils.pack_array(builder, strides), itemsize=itemsize,
                   meminfo=arr.meminfo, parent=arr.parent)
    res = out._getvalue()
    context.nrt.incref(builder, retty, res)
    return res


@intrinsic
def _as_2d(typingctx, flat, n0, n1):
    """The C-contiguous 1-D ``flat`` (``n0 * n1`` elements, unchecked) as an
    (n0, n1) array on the same memory. ``reshape`` does the same through a
    call into numba's runtime that works out the strides of any layout: 10-20%
    of a small network's epoch, where every step takes views of the flat
    buffers."""
    if not (isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"):
        return None
    retty = flat.copy(ndim=2)

    def codegen(context, builder, sig, args):
        return _contiguous_view(context, builder, sig.args[0], args[0], retty, list(args[1:]))
    return retty(flat, types.int64, types.int64), codegen


@intrinsic
def _as_1d(typingctx, ary):
    """The C-contiguous ``ary`` as a 1-D array on the same memory (``_as_2d``'s inverse)."""
    if not (isinstance(ary, types.Array) and ary.layout == "C"):
        return None
    retty = ary.copy(ndim=1)

    def codegen(context, builder, sig, args):
        shape = cgutils.unpack_tuple(builder, context.make_array(sig.args[0])(
            context, builder, args[0]).shape)
        n = shape[0]
        for d in shape[1:]:
            n = builder.mul(n, d)
        return _contiguous_view(context, builder, sig.args[0], args[0], retty, [n])
    return retty(ary), codegen


@intrinsic
def _keep_alive(typingctx, ary):
    """Nothing: a use of ``ary`` that keeps it alive (numba frees an array
    after its last use) while ``_unowned`` views of it are in use."""
    def codegen(context, builder, sig, args):
        return context.get_dummy_value()
    return types.none(ary), codegen


@intrinsic
def _atomic_add(typingctx, ary, i, v):
    """ary[i] += v atomically (sequentially consistent); returns the old value."""
    def codegen(context, builder, sig, args):
        ptr = _item_pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")
    return types.int64(types.Array(types.int64, 1, "C"), types.int64, types.int64), codegen


@intrinsic
def _atomic_cas(typingctx, ary, i, old, new):
    """ary[i] = new if ary[i] == old, atomically; True if it was swapped."""
    def codegen(context, builder, sig, args):
        ptr = _item_pointer(context, builder, sig.args[0], args[0], args[1])
        res = builder.cmpxchg(ptr, args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(res, 1)
    return (types.boolean(types.Array(types.int64, 1, "C"), types.int64, types.int64,
                          types.int64), codegen)


@intrinsic
def _atomic_load(typingctx, ary, i):
    """ary[i], read with acquire ordering (later reads see what was written before it)."""
    def codegen(context, builder, sig, args):
        ptr = _item_pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "acquire", 8)
    return types.int64(types.Array(types.int64, 1, "C"), types.int64), codegen


@intrinsic
def _spin_pause(typingctx):
    """The CPU's spin-wait hint (x86 ``pause``; nothing elsewhere)."""
    def codegen(context, builder, sig, args):
        if "x86" in builder.module.triple:
            fn = builder.module.declare_intrinsic(
                "llvm.x86.sse2.pause", fnty=ir.FunctionType(ir.VoidType(), []))
            builder.call(fn, [])
        return context.get_dummy_value()
    return types.none(), codegen


_FUTEX = sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
_SYS_FUTEX = 202  # x86-64 Linux
_FUTEX_WAIT_PRIVATE = 128
_FUTEX_WAKE_PRIVATE = 129


def _syscall(builder, *args):
    i64 = ir.IntType(64)
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(i64, [i64], var_arg=True), "syscall")
    return builder.call(fn, [a if isinstance(a, ir.Value) else ir.Constant(i64, a) for a in args])


@intrinsic
def _sleep_while(typingctx, ary, i, expected):
    """Sleep while the low 32 bits of ary[i] equal ``expected``'s, at most 1 ms.

    Linux x86-64: a futex wait (``_wake_all`` wakes it at once). Elsewhere:
    ``sched_yield()``, after which the caller checks again.
    """
    def codegen(context, builder, sig, args):
        if _FUTEX:
            i64 = ir.IntType(64)
            ptr = _item_pointer(context, builder, sig.args[0], args[0], args[1])
            ts = cgutils.alloca_once(builder, ir.LiteralStructType([i64, i64]))
            builder.store(ir.Constant(ir.LiteralStructType([i64, i64]), [0, 1_000_000]), ts)
            _syscall(builder, _SYS_FUTEX, builder.ptrtoint(ptr, i64), _FUTEX_WAIT_PRIVATE,
                     builder.and_(args[2], ir.Constant(i64, 0xFFFFFFFF)),
                     builder.ptrtoint(ts, i64), 0, 0)
        else:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
            builder.call(fn, [])
        return context.get_dummy_value()
    return types.none(types.Array(types.int64, 1, "C"), types.int64, types.int64), codegen


@intrinsic
def _wake_all(typingctx, ary, i):
    """Wake every thread sleeping in ``_sleep_while`` on ary[i] (nothing elsewhere)."""
    def codegen(context, builder, sig, args):
        if _FUTEX:
            i64 = ir.IntType(64)
            ptr = _item_pointer(context, builder, sig.args[0], args[0], args[1])
            _syscall(builder, _SYS_FUTEX, builder.ptrtoint(ptr, i64), _FUTEX_WAKE_PRIVATE,
                     0x7FFFFFFF, 0, 0, 0)
        return context.get_dummy_value()
    return types.none(types.Array(types.int64, 1, "C"), types.int64), codegen


# ---- subnormal numbers: flushed to zero while the fused kernels run ----
# A float32 network trained hard (the book's eta = 3 at m = 1) drives some
# sigmoids below float32's smallest normal number (1.2e-38): after five such
# epochs 4-7% of the hidden activations were subnormal, every product with
# one took the CPU's slow path, and an epoch took 0.091 s against 0.054 s at
# the start (one thread, 10,000 images, Intel Xeon;
# benchmarks/results/2026-11-28/subnormals-fourteenth.txt). The fused
# kernels therefore run with the SSE control register's flush-to-zero and
# denormals-are-zero bits set, as a thread's floating-point mode, and the
# caller's mode comes back when they return (``_fp_mode_swap``): values that
# would be under 1.2e-38 (2.2e-308 in float64) count as 0.

#: MXCSR bits: flush-to-zero (15) and denormals-are-zero (6)
FLUSH_SUBNORMALS = 0x8040
_X86 = platform.machine() in ("x86_64", "AMD64", "i686", "x86")


@intrinsic
def _fp_mode_swap(typingctx, mode, set_bits):
    """``(old MXCSR)``; then MXCSR = ``mode`` if ``set_bits`` is 0, else old | ``mode``.

    x86 only (SSE's control register, per thread); elsewhere 0 and nothing changes.
    """
    def codegen(context, builder, sig, args):
        i32, i64 = ir.IntType(32), ir.IntType(64)
        if not _X86:
            return ir.Constant(i64, 0)
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p])
        st = builder.module.declare_intrinsic("llvm.x86.sse.stmxcsr", fnty=fnty)
        ld = builder.module.declare_intrinsic("llvm.x86.sse.ldmxcsr", fnty=fnty)
        slot = cgutils.alloca_once(builder, i32)
        builder.call(st, [builder.bitcast(slot, i8p)])
        old = builder.load(slot)
        mode = builder.trunc(args[0], i32)
        either = builder.icmp_unsigned("!=", args[1], ir.Constant(i64, 0))
        builder.store(builder.select(either, builder.or_(old, mode), mode), slot)
        builder.call(ld, [builder.bitcast(slot, i8p)])
        return builder.zext(old, i64)
    return types.int64(types.int64, types.int64), codegen


@fjit
def flush_subnormals():
    """Set this thread's flush-to-zero and denormals-are-zero modes; return the old mode."""
    return _fp_mode_swap(FLUSH_SUBNORMALS, 1)


@fjit
def restore_fp_mode(mode):
    """Put back this thread's mode as ``flush_subnormals`` returned it."""
    if _X86:
        _fp_mode_swap(mode, 0)


@intrinsic
def _cycles(typingctx):
    """The CPU's cycle counter (``rdtsc`` on x86; 0 where LLVM has none)."""
    def codegen(context, builder, sig, args):
        fn = builder.module.declare_intrinsic(
            "llvm.readcyclecounter", fnty=ir.FunctionType(ir.IntType(64), []))
        return builder.call(fn, [])
    return types.int64(), codegen


@intrinsic
def _prefetch(typingctx, ary, i):
    """Hint the CPU to fetch ``ary[i]``'s cache line (a no-op where it has no such hint).

    Only the address is computed: ``i`` may lie past the array's end.
    """
    def codegen(context, builder, sig, args):
        _emit_prefetch(builder, _item_pointer(context, builder, sig.args[0], args[0], args[1]))
        return context.get_dummy_value()
    return types.none(ary, i), codegen


@intrinsic
def _prefetch_l2(typingctx, ary, i):
    """Like ``_prefetch``, into L2 only: for lines needed after what L1 holds now."""
    def codegen(context, builder, sig, args):
        _emit_prefetch(builder, _item_pointer(context, builder, sig.args[0], args[0], args[1]), 2)
        return context.get_dummy_value()
    return types.none(ary, i), codegen


#: cycle-counter ticks a waiting thread spins (with the pause hint) before it
#: sleeps: about 50 us at 2.6 GHz, longer than a step's imbalance at small m.
#: Sleeping, not yielding, matters on a busy machine: a thread that yields
#: hands its core to the other process for a whole scheduler slice, while a
#: sleeper is woken the moment its partner arrives. Timed, not counted: a
#: pause takes 9 ns on the Intel Xeon measured, and the 2,000 pauses that
#: spun about 50 us on the AMD EPYC spun 18 us there (timed: 0.96-0.97 the
#: time per epoch on two threads at m = 100 and 1000, the chapter-1 epoch 0.99;
#: ``benchmarks/results/2026-11-28/ab-timed-spin-fourteenth.txt``).
SPIN_CYCLES = 130_000
#: pauses instead where there is no cycle counter (it reads 0)
SPIN_PAUSES = 2000
#: cycles (about 0.2 s) a thread waits for its partners to arrive before it
#: trains the segment alone: a partner that lost its core comes within a few
#: scheduler slices, so only a partner that never started gets there.
GATHER_CYCLES = 1 << 29
_GAVE_UP = 1 << 40  # added to the arrival count by a thread that trains alone
# sync: [0] barrier arrivals, [1] barrier round, [2] arrivals at the start,
# [3] threads asleep in a barrier, [4] threads asleep in _gather or waiting for
# the training team's start (_join_late) (all zero to start)


@fjit
def _wait_while(sync, idx, value, sleepers, i, t0):
    """One step of waiting for sync[idx] to change from ``value`` (the ``i``-th, since ``t0``)."""
    if (_cycles() - t0 < SPIN_CYCLES) if t0 != 0 else i < SPIN_PAUSES:
        _spin_pause()
        return
    _atomic_add(sync, sleepers, 1)  # before the check: a waker then sees a sleeper
    if _atomic_load(sync, idx) == value:
        _sleep_while(sync, idx, value)
    _atomic_add(sync, sleepers, -1)


#: the slot of a kernel's ``sync`` where each helper thread (``t >= 1`` as
#: called) counts itself finished with the kernel's arguments
DONE = 8
#: the slot of ``train_epoch_fused``'s ``sync`` that may hold, set by the
#: caller, how many samples from ``lo`` on are the run's wake-up part: the
#: kernel then reads the cycle counter where that part ends (``STAMPS``), so
#: the caller can time it apart from the rest of the same run (0: no mark)
MARK = 9
#: the slots where ``train_epoch_fused`` leaves cycle-counter readings: the
#: caller's entry into the kernel, the end of the marked part (``MARK``),
#: the end of the run (all 0 where there is no cycle counter)
STAMPS = (10, 11, 12)
#: the slot of ``train_epoch_fused``'s ``sync`` where thread 0 posts the
#: sample (plus 1) from which the whole team trains; up to it thread 0 has
#: trained alone while its helpers were on their way (``_join_late``)
START = 13
#: the slots of ``train_epoch_fused``'s ``sync`` that may hold, set by the
#: caller, a time limit: ``BUDGET`` cycle-counter ticks from the kernel's
#: entry, checked every ``PIECE`` mini-batches while a team of threads
#: trains (where they meet anyway, at a barrier). Past it, the team stops
#: there and thread 0 posts the sample (plus 1) it stopped at in
#: ``STOPPED`` (else it stays 0: the run reached ``hi``). 0 in either: no limit.
#: So the caller can plan long runs and still hear of a stall within
#: ``PIECE`` mini-batches (see ``_threads.ThreadGovernor``).
BUDGET = 14
PIECE = 15
STOPPED = 16
#: ``sync``'s length (see ``DONE``, ``MARK``, ``STAMPS``, ``START``, ``BUDGET``)
SYNC_SLOTS = 17


@fjit
def spin_until_done(sync, helpers):
    """Spin (``SPIN_CYCLES``) until ``helpers`` threads have counted themselves
    done in ``sync[DONE]``; whether they did.

    For a caller whose helpers are about to finish (``_threads.Team.run``):
    a kernel ends at a barrier, or on its last block of rows. Waiting on
    their futures instead cost a sleep and a wake-up of the caller, and the
    helpers' return to Python first: 50-70 us per run on the Xeon.
    """
    t0: int = _cycles()
    i = 0
    while _atomic_load(sync, DONE) < helpers:
        if (_cycles() - t0 >= SPIN_CYCLES) if t0 != 0 else i >= SPIN_PAUSES:
            return False
        _spin_pause()
        i += 1
    return True


@fjit
def _gather(sync, nthr):
    """Wait until all ``nthr`` threads of a segment have arrived.

    Returns 1 when they all have (the team runs), -1 for the one thread that
    gave up waiting and trains the whole segment alone, 0 for the others
    (they leave).
    """
    c = _atomic_add(sync, 2, 1) + 1
    if c >= _GAVE_UP:
        return 0
    if c == nthr:
        if _atomic_load(sync, 4) > 0:
            _wake_all(sync, 2)
        return 1
    t0 = _cycles()
    i = 0
    while True:
        c = _atomic_load(sync, 2)
        if c >= _GAVE_UP:
            return 0
        if c == nthr:
            return 1
        # without a cycle counter (it reads 0), count waits instead
        late = _cycles() - t0 > GATHER_CYCLES if t0 != 0 else i > GATHER_CYCLES >> 8
        if late and _atomic_cas(sync, 2, c, c + _GAVE_UP):
            return -1
        _wait_while(sync, 2, c, 4, i, t0)
        i += 1


@fjit
def _barrier(sync, nthr):
    """Wait until all ``nthr`` threads of the team reach it."""
    round_: int = _atomic_load(sync, 1)
    if _atomic_add(sync, 0, 1) == nthr - 1:  # the last to arrive opens the next round
        _atomic_add(sync, 0, -nthr)
        _atomic_add(sync, 1, 1)
        if _atomic_load(sync, 3) > 0:
            _wake_all(sync, 1)
        return
    i = 0
    t0: int = 0
    while _atomic_load(sync, 1) == round_:
        if i == 0:  # read the clock only when there is a wait to time
            t0 = _cycles()
        _wait_while(sync, 1, round_, 3, i, t0)
        i += 1


@fjit
def _join_team(sync, t, nthr):
    """``(leave, t, nthr)`` for thread ``t`` of a kernel run by ``nthr`` threads.

    ``_gather``'s verdict: leave when the team ran without this thread, and
    ``(t, nthr) = (0, 1)`` for the thread that gave up waiting and runs alone.
    """
    if nthr > 1:
        team = _gather(sync, nthr)
        if team == 0:
            return True, t, nthr
        if team == -1:
            return False, t - t, nthr - nthr + 1
    return False, t, nthr


@fjit
def _bp2_weights(sizes):
    """Weights of every layer but the first: what BP2 reads for each five examples."""
    h = 0
    for l in range(1, len(sizes) - 1):
        h += sizes[l] * sizes[l + 1]
    return h


@fjit
def _outer_form(r, n_in):
    """Whether the 512-bit kernels run a dense forward pass of ``r`` examples
    through ``n_in`` inputs in outer-product form (``_forward_layer_outer``):
    by these two only, so every output takes the same path for any thread
    count or split."""
    return r >= OUTER_MIN_M and OUTER_MIN_IN <= n_in <= OUTER_MAX_IN


@fjit
def _step_plan(s, L, sizes, r, nthr, ex_min, panel):
    """Step ``s`` of a mini-batch of ``r``: ``(phase, layer, blocks, by_examples)``.

    Steps: the L forward passes (s < L), every layer's deltas (s == L), then
    the L fused updates, output layer first. Steps not split by neurons (the
    forward passes of small layers, and the deltas) are split by examples
    from ``ex_min`` examples on (see ``_train_segment``). ``panel``: the
    neurons in one panel of ``_forward_layer_outer`` where the step's forward
    pass may take that form (the 512-bit kernels, a dense layer), else 0.
    """
    phase = 0 if s < L else (1 if s == L else 2)
    l = s if s < L else (L - 1 if s == L else 2 * L - s)
    by_examples = False
    if phase == 1:
        # By examples from ex_min on, or from two panels of five when BP2
        # reads a big layer (at [784, 500, 300, 10], m = 10, thread 0 spent
        # over a quarter of its cycles on BP2 while the other waited).
        big = _bp2_weights(sizes) >= SPLIT_MIN_WEIGHTS and r >= 2 * EXAMPLE_ALIGN
        nblk = nthr if nthr > 1 and (r >= ex_min or big) else 1
        by_examples = nblk > 1
    else:
        nblk = _split_blocks(sizes[l + 1], sizes[l + 1] * sizes[l], nthr)
        if phase == 0 and nthr > 1 and (
                (nblk == 1 and r >= ex_min)
                or (panel > 0 and _outer_form(r, sizes[l])
                    and (r >= OUTER_SPLIT_MIN_M or sizes[l + 1] <= panel))):
            # In outer-product form (``panel``: the 512-bit kernels, a dense
            # input layer) a large mini-batch's forward pass, or a layer of
            # one panel of neurons, is split by examples too: each thread then
            # reads only its own examples' input rows, and transposes the
            # whole layer's weights for them
            nblk = nthr
            by_examples = True
    return phase, l, nblk, by_examples


@_fjit_inline
def _train_segment(X, sp, sparse, Y, perm, m, sizes, wflat, bflat, aflat, dflat, eta, decay,
                   cost_kind, scal, ident, lo, hi, t, nthr, sync, wide):
    """Thread ``t`` of ``nthr``'s share of ``train_epoch_fused``'s mini-batches.

    Every thread walks every step; block ``t`` of a step split into ``nthr``
    blocks is this thread's, a step that is not split is thread 0's. The
    threads meet at a barrier before each step that is split or follows one,
    but where each thread reads only what it wrote itself: a step split by
    the same examples as the one before, and the sparse input layer split by
    columns (its forward pass, bias step and update).
    """
    n = Y.shape[0]
    L = len(sizes) - 1
    zero = scal[0]
    own_buf = np.empty_like(scal[:1])  # this thread's -eta/r, in the arrays' dtype
    P_buf = np.empty((UPDATE_CHUNK, UPDATE_NEURONS), scal.dtype)  # this thread's, for the update
    # this thread's transposed panel for _forward_layer_outer (only the part
    # a layer uses is ever touched)
    panel: int = OUTER_VECTORS * _panel_lanes(scal)  # neurons in one outer-form panel
    WTs_buf = np.empty(OUTER_MAX_IN * panel if wide else 1, scal.dtype)
    # kept alive below
    own: np.ndarray = _unowned(own_buf)
    P: np.ndarray = _unowned(P_buf)
    WTs: np.ndarray = _unowned(WTs_buf)
    # The sparse input layer split by WT's columns (layers of up to
    # SPARSE_UPDATE_VECTORS vectors, the chapter-1 network): each thread
    # reads and writes only its own columns of WT, of the layer's biases and
    # of its deltas, so the threads need not meet around that layer's update.
    # The small steps between (the other forward passes, the deltas) are then
    # split by examples from two blocks of EXAMPLE_ALIGN on, instead of
    # running on thread 0 while the other threads wait for it.
    by_columns = sparse and _sparse_by_columns(sp[4], sizes[1])
    ex_min = 2 * EXAMPLE_ALIGN if by_columns else SPLIT_MIN_EXAMPLES
    half = aflat.shape[0] // 2
    # A dense network's output layer, where its update is not split but the
    # next layer's is, is updated by thread 0 after its block of that next
    # step instead of before it, while the others are busy with theirs
    # rather than waiting for it at the barrier between (each layer's update
    # reads only its own weights and deltas and the outputs below it, so the
    # order of the updates changes no bits). In a two-layer network that
    # next step is the input layer's, whose update may run the next
    # mini-batch's forward pass too (_update_then_forward) and overwrite the
    # outputs the output layer's update reads: there the outputs alternate
    # between two buffers (``alternate``).
    alternate = False
    if not sparse and L == 2 and nthr > 1:
        _, _, nb_out, _ = _step_plan(L + 1, L, sizes, m, nthr, ex_min, panel if wide else 0)
        _, _, nb_in, _ = _step_plan(2 * L, L, sizes, m, nthr, ex_min, panel if wide else 0)
        _, _, nb_f, ex_f = _step_plan(0, L, sizes, m, nthr, ex_min, panel if wide else 0)
        alternate = nb_out == 1 and nb_in > 1 and nb_f == nb_in and not ex_f
    defer = False  # the output layer's update waits for thread 0's next block
    split_before = False  # the barrier after the transposes is the first meeting
    ex_before = False  # the step before was split by examples
    met = False  # the threads met since the deltas were computed
    fwd_done = False  # this mini-batch's input layer was run forward with the last update
    for start in range(lo, hi, m):
        r = min(m, n - start)
        rows = perm[start:start + r]
        rows_ahead = perm[start:min(n, start + r + EXAMPLE_ALIGN)]
        own[0] = -eta / r
        neg_step = own[0]
        # Outputs in two buffers, by turns, where the threads do not meet
        # between the input layer's update and the next mini-batch's forward
        # pass: a thread may then write the next outputs while another still
        # reads these (thread 0's update of the next layer). Elsewhere one
        # buffer, the smaller footprint in cache.
        par = (start // m) % 2 if by_columns or alternate else 0
        af = aflat[par * half:(par + 1) * half]
        af_next = aflat[(1 - par) * half:(2 - par) * half] if alternate else af
        # The mini-batch's targets, rows of Y in shuffled order, are cache
        # misses that BP1 waited for one example at a time: ask for them now,
        # during the forward pass.
        for i in range(r):
            _prefetch(Y[rows[i]], r - r)
        for s in range(2 * L + 1):
            phase, l, nblk, by_examples = _step_plan(
                s, L, sizes, r, nthr, ex_min, panel if wide and not (sparse and s == 0) else 0)
            if s == 2 * L and sparse:
                # a step of its own before the sparse input layer's update:
                # its bias step and D *= -eta/r, by the threads that update
                # its columns, else on thread 0 after all have met
                D0 = _layer_view(dflat, sizes, 0, m)
                b0 = _layer_view(bflat, sizes, 0, 1)[0]
                if by_columns:
                    if nthr > 1 and not met:
                        _barrier(sync, nthr)
                        met = True
                    if nblk == 1:  # on contiguous rows (a loop LLVM vectorises)
                        _scale_input_delta(D0, r, b0, neg_step)
                    elif t < nblk:
                        _, _, _, _, j0, j1 = _sparse_blocks(sp[4], sizes[1], r, nblk, t)
                        j1 = min(j1, sizes[1])
                        _scale_input_delta(D0[:, j0:j1], r, b0[j0:j1], neg_step)
                else:
                    if nthr > 1 and split_before:
                        _barrier(sync, nthr)
                    if t == 0:
                        _scale_input_delta(D0, r, b0, neg_step)
                split_before = False
            if s == L + 1 and nthr > 1 and not sparse and nblk == 1 and s < 2 * L:
                _, _, nb_next, _ = _step_plan(s + 1, L, sizes, r, nthr, ex_min,
                                              panel if wide else 0)
                # in a two-layer network only where the outputs alternate
                defer = nb_next > 1 and (L > 2 or alternate)
            if nthr > 1:
                if s == 0 and fwd_done:
                    pass  # nothing to do here: the barrier before the next step will do
                elif s == L + 1 and defer:
                    pass  # nothing runs here: the next step's barrier will do
                elif by_columns and (s == 0 or (s == 2 * L and met)):
                    # each thread's own columns of the input layer, its
                    # deltas complete since the threads last met
                    pass
                elif by_examples and ex_before:
                    # the same examples as the step before: each thread
                    # reads only the outputs it computed itself
                    pass
                elif nblk > 1 or split_before:
                    _barrier(sync, nthr)
                    met = s > L
            fuse = False
            nxt = start + m
            if s == 2 * L and not sparse and nxt < hi:
                r2 = min(m, n - nxt)
                _, _, nblk2, by_examples2 = _step_plan(0, L, sizes, r2, nthr, ex_min,
                                                       panel if wide else 0)
                fuse = nblk2 == nblk and not by_examples2
            if t < nblk:
                if s == 0 and fwd_done:
                    pass  # done with the last mini-batch's update (_update_then_forward)
                elif s == L + 1 and defer:
                    pass  # after thread 0's block of the next step
                elif fuse:
                    r2 = min(m, n - nxt)
                    _update_then_forward(X, rows, r, perm[nxt:nxt + r2],
                                         perm[nxt:min(n, nxt + r2 + EXAMPLE_ALIGN)], r2, sizes,
                                         wflat, bflat, af_next, dflat, m, t, nblk, decay,
                                         neg_step, zero, P, WTs, wide)
                else:
                    _step_block(phase, by_examples, l, X, sp, sparse, Y, rows, rows_ahead, ident,
                                r, sizes, wflat, bflat, af, dflat, m, cost_kind, t, nblk, decay,
                                neg_step, zero, P, WTs, wide)
            if s == L + 2 and defer:
                if t == 0:
                    # the output layer (dense, L >= 2), all of it on this
                    # thread (block 0 of 1, as variables: no new specialisations)
                    _update_block(L - 1, X, sp, sparse, rows, ident, r, sizes, wflat, bflat, af,
                                  dflat, m, t - t, t - t + 1, decay, neg_step, P, wide)
                defer = False
            if s == 2 * L:
                fwd_done = fuse
            split_before = nblk > 1
            ex_before = by_examples
            if s == L:
                met = False
    _keep_alive(own_buf)
    _keep_alive(P_buf)
    _keep_alive(WTs_buf)


def _epoch_kernel(wide):
    """The Python function of ``train_epoch_fused`` (``wide`` False) and of
    its 512-bit twin (True): ``wide`` is a constant of each one's compiled
    code, and it passes it on to the dense layers' kernels.

    One function compiled twice, where two jitted entries called one inlined
    body before: numba copied the whole training step's IR into each (see
    ``_fjit_inline``).
    """

    def train_epoch(X, sp, sparse, Y, perm, m, sizes, wflat, bflat, aflat, dflat, eta, lmbda,
                    cost_kind, scal, ident, lo, hi, t, nthr, sync):
        _prefer_512_bit_if(wide)
        # the caller holds every argument for the whole call: no counting (_unowned)
        X, Y, perm, sizes, wflat, bflat, aflat, dflat, scal, ident, sync = (
            _unowned(X), _unowned(Y), _unowned(perm), _unowned(sizes), _unowned(wflat),
            _unowned(bflat), _unowned(aflat), _unowned(dflat), _unowned(scal), _unowned(ident),
            _unowned(sync))
        sp = (_unowned(sp[0]), _unowned(sp[1]), _unowned(sp[2]), _unowned(sp[3]), _unowned(sp[4]))
        helper = t > 0
        if not helper:
            sync[STAMPS[0]] = _cycles()
        mark = sync[MARK]
        cut = lo + mark if 0 < mark and lo + mark < hi else -1  # the marked part's end, if any
        budget = sync[BUDGET]
        piece = sync[PIECE] * m
        if sparse:
            sp = (sp[0], sp[1], sp[2], sp[3], _wt_view(sp[4], sizes[1]))
        n = Y.shape[0]
        decay = 1.0 - eta * lmbda / n
        # Threads late at the start (_join_late): thread 0 trains alone
        # (``team`` 1) up to ``end``, looks for them, and so on: one call site
        # of the training step, so it is compiled once.
        start, end, team = _join_late(sizes, m, lo, hi, cut, t, nthr, sync)
        while start < hi:
            # A run: [start, end) on ``team`` threads.
            # The sparse input layer trains in WT (its weights transposed) from
            # the epoch's first segment to its last; between them W's block of
            # wflat is stale (the engine calls ``wt_into_weights`` if an epoch
            # stops early). Copied at every segment, each thread's columns of WT
            # also moved between the cores twice a segment (at [784, 30, 10],
            # m = 10, each extra segment cost 0.27-0.42 ms before, 0.06-0.34 ms
            # after; benchmarks/results/2026-11-28/segments-sixteenth.txt, a
            # noisy measurement).
            if t == 0:
                scal[0] = 0.0
                if sparse and start == 0:
                    _wt_copy(_weights_view(wflat, sizes, 0), sp[4], True)
            if team > 1:
                _barrier(sync, team)
            # In parts met at a barrier between them, as separate runs would
            # be (the same bits): the marked wake-up part up to ``cut``, and
            # on a team, pieces of ``PIECE`` mini-batches, after each of
            # which thread 0 looks at the time (``BUDGET``).
            a = start
            while a < end:
                b = cut if a < cut < end else end
                if team > 1 and 0 < piece < b - a:
                    b = a + piece
                _train_segment(X, sp, sparse, Y, perm, m, sizes, wflat, bflat, aflat, dflat, eta,
                               decay, cost_kind, scal, ident, a, b, t, team, sync, wide)
                if team > 1:
                    # posted before the barrier, so every thread reads it after
                    # (not at the marked part's end: the caller times the rest)
                    if (t == 0 and budget > 0 and b < end and b != cut
                            and _cycles() - sync[STAMPS[0]] >= budget):
                        _atomic_add(sync, STOPPED, b + 1)
                    _barrier(sync, team)
                    if _atomic_load(sync, STOPPED) != 0:
                        end = hi = b
                if t == 0:
                    sync[STAMPS[1] if b == cut else STAMPS[2]] = _cycles()
                a = b
            if t == 0 and sparse and end >= n:
                _wt_copy(_weights_view(wflat, sizes, 0), sp[4], False)
            start = end
            if team < nthr:
                end, team = _look_for_team(m, start, hi, cut, nthr, sync)
        if helper:
            _atomic_add(sync, DONE, 1)

    return train_epoch


#: samples (whole mini-batches, at least one) thread 0 trains alone between
#: two looks for its helpers, when they are late at a run's start
SOLO_SAMPLES = 64
#: cycles per sample and weight that size how long thread 0 waits, spinning,
#: for late helpers before it trains alone: half what its first
#: ``SOLO_SAMPLES`` alone would take at this rate (one thread on the Intel
#: Xeon: about 0.15 float64, 0.08 float32), and at least ``SPIN_CYCLES``.
#: A helper spins for four times that (two such pieces of training) before
#: it sleeps.
SOLO_CYCLES_PER_WEIGHT = 0.1


@fjit
def _solo_end(m, start, hi, cut):
    """The end of thread 0's next piece of training alone, from ``start``."""
    end = min(hi, start + max(1, SOLO_SAMPLES // m) * m)
    return cut if start < cut < end else end


@fjit
def _join_late(sizes, m, lo, hi, cut, t, nthr, sync):
    """``(start, end, team)``: thread ``t``'s first piece of training, [start, end) on ``team`` threads.

    Why: a helper thread woken after an idle spell (a pause between fits,
    the bench's pause between timed epochs) took 0.5-3 ms to come on the
    Intel Xeon's virtual CPUs, while thread 0 waited for it and then slept
    itself (a second wake-up): a two-thread epoch of two mini-batches took
    0.8-3.1 ms after a 0.3 s pause against 0.2 ms on one thread
    (``benchmarks/results/2026-11-29/wake-up.py``). Thread 0 now waits for
    its helpers only about as long as half its first mini-batches alone
    would take (``SOLO_CYCLES_PER_WEIGHT``); then it trains them alone and
    looks for the helpers between pieces (``_look_for_team``). When all
    have come it posts where the team starts (``START``) and they train the
    rest together; if they come after the last mini-batch, there is nothing
    left and they leave. The kernel gives the same bits for any thread count
    and cut of the epoch, so this changes none.
    """
    if nthr == 1:
        return lo, hi, nthr
    weights = 0
    for l in range(len(sizes) - 1):
        weights += sizes[l] * sizes[l + 1]
    piece = _solo_end(m, lo, hi, -1) - lo  # thread 0's first piece alone
    patience = max(SPIN_CYCLES, int(SOLO_CYCLES_PER_WEIGHT * piece * weights) // 2)
    arrived = _atomic_add(sync, 2, 1) + 1
    t0: int = _cycles()
    i = 0
    if t > 0:  # a helper: wait for thread 0's word, spinning while it may come soon
        while True:
            s = _atomic_load(sync, START)
            if s != 0:
                return s - 1, hi, nthr
            if t0 != 0 and _cycles() - t0 < 4 * patience:
                _spin_pause()
            else:
                _wait_while(sync, START, 0, 4, i, t0)
            i += 1
    while arrived < nthr and ((_cycles() - t0 < patience) if t0 != 0 else i < SPIN_PAUSES):
        _spin_pause()
        arrived = _atomic_load(sync, 2)
        i += 1
    if arrived < nthr:
        return lo, _solo_end(m, lo, hi, cut), 1
    _post_start(sync, lo, hi, nthr)
    return lo, hi, nthr


@fjit
def _look_for_team(m, start, hi, cut, nthr, sync):
    """``(end, team)`` of thread 0's next piece after training alone up to ``start``."""
    if _atomic_load(sync, 2) >= nthr or start >= hi:
        _post_start(sync, start, hi, nthr)
        return hi, nthr
    return _solo_end(m, start, hi, cut), 1


@fjit
def _post_start(sync, start, hi, nthr):
    """Thread 0 tells its helpers the team trains from ``start`` (nothing left if ``hi``)."""
    _atomic_add(sync, START, start + 1)
    if _atomic_load(sync, 4) > 0:
        _wake_all(sync, START)
    if start >= hi:
        # trained alone to the end: the helpers, still to come, touch nothing but sync
        _atomic_add(sync, DONE, nthr - 1)


@fjit
def wt_into_weights(wflat, sizes, WT):
    """The sparse input layer's weights from WT (``sp[4]`` of the fused
    kernels) into ``wflat``: for an epoch stopped between two segments."""
    _wt_copy(_weights_view(wflat, sizes, 0), _wt_view(WT, sizes[1]), False)


def _entry(py_func, name, doc):
    """``py_func`` jitted under ``name`` (numba's cache names its files by it)."""
    py_func.__name__ = py_func.__qualname__ = name
    py_func.__doc__ = doc
    return fjit(py_func)


train_epoch_fused = _entry(
    _epoch_kernel(False), "train_epoch_fused",
    """Train the mini-batches of ``m`` rows of ``X`` that start at ``lo, lo+m, ... < hi``.

    The epoch's order is ``perm``; a whole epoch is ``lo=0, hi=len(X)``, and
    calls over consecutive ranges (each a multiple of ``m`` long, but the
    last) give exactly the same result as one call, so an epoch can be run in
    segments with a different thread count for each. With ``sparse`` the
    input layer's weights live in ``WT`` from the call with ``lo == 0`` to
    the one that reaches ``len(X)``: in between, its block of ``wflat`` is
    stale, and ``wt_into_weights`` brings it up to date.

    ``X``: the (n, n_in) inputs, or with ``sparse`` a placeholder and the
    inputs are ``sp = (indptr, steps, vals, lut, WT)`` (see
    ``_forward_input_sparse``; ``WT`` is (n_in, n_out or more) scratch, zero
    beyond column n_out). ``Y``: (n, n_out) targets. ``sizes``: int64
    neurons per layer. ``wflat``/``bflat``: every layer's weights/biases, packed in layer order (see
    ``_weights_view``), updated in place. ``aflat``: scratch for every
    layer's (m, sizes[l+1]) outputs twice over (two halves, used by turns
    where the sparse input layer is split by columns or a two-layer dense
    network defers its output layer's update (``_train_segment``), else the first);
    ``dflat``: for their deltas, once. ``ident``: arange(m).
    ``cost_kind``: 0 quadratic, 1 cross-entropy. ``scal``: length-2 scratch
    in the arrays' dtype, so the scalars the inner loops use have the arrays'
    dtype.

    Threads: ``nthr`` threads each call this at once with their own ``t`` and
    one zeroed ``sync`` (int64, ``SYNC_SLOTS`` long; each thread called with
    ``t >= 1`` adds 1 to ``sync[DONE]`` as it returns); ``nthr = 1``, ``t = 0`` trains
    alone. With more than one, each large layer's neurons are split into
    ``nthr`` blocks (forward pass and fused update), one per thread, and from
    ``SPLIT_MIN_EXAMPLES`` examples on (ten, with a sparse input layer split
    by columns), the other forward passes and the deltas are split by
    examples (see ``_train_segment``). Every value is
    computed by the same code for any ``nthr`` (see ``FORWARD_ALIGN``,
    ``EXAMPLE_ALIGN``), so the result does not depend on the thread count,
    bit for bit; thread 0 trains the first mini-batches alone while its
    helpers are late (``_join_late``). A team may stop before ``hi`` on the
    caller's time limit (``BUDGET``), at the end of a piece: ``sync[STOPPED]``
    then says where, and the next call goes on from there.
    """)

train_epoch_fused_v512 = _entry(
    _epoch_kernel(True), "train_epoch_fused_v512",
    """``train_epoch_fused`` in 512-bit vectors where the CPU has them (``_prefer_512_bit``),
    for networks with a dense layer of ``config.WIDE_MIN_WEIGHTS`` weights or more (the
    engine chooses). Its sums of products round as 8-lane float64 vectors add them up,
    so its results differ from ``train_epoch_fused``'s in the last bits (both are held
    to the per-example reference); like it, it gives the same bits for any thread
    count and segmentation.""")


#: rows per block when a whole data set is pushed forward
FORWARD_BLOCK = 256


@_fjit_inline
def _forward_rows(X, sp, sparse, sizes, wflat, bflat, out, scal, t, nthr, sync, wide):
    """``forward_rows_fused``, with the dense layers' kernels in 512-bit vectors if ``wide``."""
    # the caller holds every argument for the whole call: no counting (_unowned)
    X, sizes, wflat, bflat, out, scal, sync = (
        _unowned(X), _unowned(sizes), _unowned(wflat), _unowned(bflat), _unowned(out),
        _unowned(scal), _unowned(sync))
    sp = (_unowned(sp[0]), _unowned(sp[1]), _unowned(sp[2]), _unowned(sp[3]), _unowned(sp[4]))
    n = out.shape[0]
    L = len(sizes) - 1
    zero = scal[0]
    if t == 0:
        if sparse:
            _wt_copy(_weights_view(wflat, sizes, 0), sp[4], True)
        _atomic_add(sync, 5, 1)  # WT is ready
        if _atomic_load(sync, 7) > 0:
            _wake_all(sync, 5)
    else:
        i = 0
        t0: int = _cycles()
        while _atomic_load(sync, 5) == 0:
            _wait_while(sync, 5, 0, 7, i, t0)
            i += 1
    n_blocks = (n + FORWARD_BLOCK - 1) // FORWARD_BLOCK
    while True:
        blk: int = _atomic_add(sync, 6, 1)
        if blk >= n_blocks:
            break
        s = blk * FORWARD_BLOCK
        r = min(n, s + FORWARD_BLOCK) - s
        rows = np.arange(s, s + r)
        ident = np.arange(r)
        a = X
        for l in range(L):
            nxt = np.empty((r, sizes[l + 1]), out.dtype)
            b = _layer_view(bflat, sizes, l, 1)[0]
            # The callees get the argument types train_epoch_fused gives them
            # (int64 bounds, a sliced output), so each is compiled once.
            if l == 0 and sparse:
                _forward_input_sparse(sp, rows, r - r, r, r - r,
                                      _wt_dims(sp[4], sizes[1])[1], b, nxt, zero)
            else:  # one call site for every layer: one inlined copy to compile
                W = _weights_view(wflat, sizes, l)
                arows = rows if l == 0 else ident
                if wide:
                    _forward_layer_v512(a, arows, r, W, b, nxt[:, 0:sizes[l + 1]], zero)
                    _inplace_sigmoid_v512(nxt, r - r, r, r - r, sizes[l + 1])
                else:
                    _forward_layer(a, arows, r, W, b, nxt[:, 0:sizes[l + 1]], zero)
                    _inplace_sigmoid(nxt, r - r, r, r - r, sizes[l + 1])
            a = nxt
        # An explicit copy: a slice assignment would compile numba's shape-mismatch
        # message formatting (seconds of compile time for an error that cannot occur).
        for i in range(r):
            for j in range(out.shape[1]):
                out[s + i, j] = a[i, j]
    if t > 0:
        _atomic_add(sync, DONE, 1)


@fjit
def forward_rows_fused(X, sp, sparse, sizes, wflat, bflat, out, scal, t, nthr, sync):
    """out = network output for every row (n_samples, n_out), in blocks of rows.

    ``X``, ``sp``, ``sparse``, ``sizes``, ``wflat``, ``bflat``, ``scal`` and
    the threads ``t``, ``nthr``, ``sync`` as in ``train_epoch_fused``
    (``sp[4]`` is filled here). Used for prediction and per-epoch evaluation
    on the numba path, so training never alternates between its threads and
    BLAS's threads (whose idle spinning halves the fused kernel's speed). Run
    by the same helper threads as training, not by numba's parallel loops: a
    parallel kernel took 6 s of a first run's compiling and started numba's
    own pool.

    The threads do not gather: thread 0 starts at once and each thread takes
    the next block not yet taken (``sync[6]``), so a helper that is late
    (its core busy with another process) only finds less left to do, and
    the result is the same whichever thread computes a block.
    """
    _forward_rows(X, sp, sparse, sizes, wflat, bflat, out, scal, t, nthr, sync, False)


@fjit
def forward_rows_fused_v512(X, sp, sparse, sizes, wflat, bflat, out, scal, t, nthr, sync):
    """``forward_rows_fused`` in 512-bit vectors (see ``train_epoch_fused_v512``)."""
    _prefer_512_bit()
    _forward_rows(X, sp, sparse, sizes, wflat, bflat, out, scal, t, nthr, sync, True)

"""The matrix engine: backprop over a whole mini-batch at once.

A mini-batch of m samples is gathered from the training set (samples as
rows) by an index permutation into an ``(m, n_in)`` buffer allocated once per
fit. In the batched strategy each layer is one matrix product, and the
layers' activations and deltas are kept as columns, ``(n_l, m)``, the book's
``X = [x1 ... xm]``; BP1 and BP2's Hadamard products and the sigmoid run as
fused numba kernels (``engine="numba"``) or their numpy twins
(``engine="numpy"``); the gradient ``nabla_w = Delta A^T`` is one more
product. The fused strategy runs the same equations as one compiled
whole-epoch kernel (``_kernels.train_epoch_fused``). No per-example Python
runs anywhere in training.

In columns, for layer l with ``A^0 = X^T`` (the mini-batch, one column per
sample)::

    Z^l = W^l A^{l-1} + b^l            A^l = sigma(Z^l)
    Delta^L = (A^L - Y) * sigma'(Z^L)                   (BP1, quadratic)
    Delta^l = (W^{l+1}.T Delta^{l+1}) * sigma'(Z^l)     (BP2)
    nabla_b^l = sum over columns of Delta^l             (BP3)
    nabla_w^l = Delta^l (A^{l-1}).T                     (BP4)
"""

import functools
import time
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
from numpy.typing import DTypeLike

from . import _kernels, _numpy_kernels
from . import _validation as V
from ._aligned import LINE_BYTES, empty_aligned, zeros_aligned
from ._registry import register
from ._threads import (
    Team,
    available_cores,
    borrow_team,
    budget_cycles,
    give_back_team,
    marked_seconds,
    note_cycle_rate,
    numba_pool_size,
    prediction_team,
    shared_governor,
)
from .config import (
    AUTO_BATCHED_LARGE_M,
    AUTO_BATCHED_LARGE_WEIGHTS,
    AUTO_BATCHED_MIN_M,
    AUTO_BATCHED_MIN_WEIGHTS,
    MULTI_MAX_BATCHES,
    WIDE_MIN_WEIGHTS,
)
from .costs import CrossEntropyCost, QuadraticCost
from .network import BaseNetwork
from .sparse import SparseImages

ENGINES = {"numba": _kernels, "numpy": _numpy_kernels}
#: "fused": the whole epoch in one numba call (hand-written loops, no BLAS);
#: "batched": a Python loop over mini-batches, numpy BLAS for the products and
#: numba (or numpy) for the elementwise work. "auto": see ``auto_strategy``.
STRATEGIES = ("auto", "fused", "batched")


def auto_strategy(sizes, m):
    """What ``strategy="auto"`` runs for a network of ``sizes`` at mini-batch size ``m``.

    "fused" (the whole-epoch kernel), except where BLAS's cache-blocked
    products outrun the kernel's register-blocked loops: mini-batches of at
    least ``AUTO_BATCHED_MIN_M`` (150) through hidden-to-hidden layers with at
    least ``AUTO_BATCHED_MIN_WEIGHTS`` (65,536) weights in all, and
    mini-batches of at least ``AUTO_BATCHED_LARGE_M`` (300) through networks
    of at least ``AUTO_BATCHED_LARGE_WEIGHTS`` (100,000) weights in all
    (measured with ``nnvec bench --grid``; see the README). A rule of shape
    and ``m`` only, never a timing, so a seed always gives the same weights.
    """
    hidden = sum(a * b for a, b in zip(sizes[1:-1], sizes[2:]))
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if m >= AUTO_BATCHED_MIN_M and hidden >= AUTO_BATCHED_MIN_WEIGHTS:
        return "batched"
    if m >= AUTO_BATCHED_LARGE_M and weights >= AUTO_BATCHED_LARGE_WEIGHTS:
        return "batched"
    return "fused"


def _kernel_inputs(X, sizes, dtype):
    """``(X, sp, sparse)`` for the fused kernels: dense rows, or ``SparseImages``.

    The unused half is a small placeholder of the same types, and ``X`` is
    passed as a read-only view (the kernels never write it), so writable,
    read-only (a memmap) and sparse inputs all share one compiled kernel.
    """
    n_in, n_out = sizes[0], sizes[1]
    if isinstance(X, SparseImages):
        per_row = _kernels.SPARSE_ROW_BYTES // np.dtype(dtype).itemsize
        width = -(-n_out // per_row) * per_row  # padding columns stay zero
        WT = zeros_aligned((n_in, width), dtype, _kernels.SPARSE_ROW_BYTES)  # rows on whole lines
        sp = (X.indptr, X.steps, X.vals, X.lut(dtype), WT)
        return _read_only(np.zeros((1, n_in), dtype)), sp, True
    index = tuple(_read_only(a) for a in
                  (np.zeros(1, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.uint8)))
    return _read_only(X), index + (np.zeros(256, dtype), np.empty((0, 0), dtype)), False


def _fused_kernels(sizes, sparse):
    """``(train_epoch, forward_rows)``: the fused kernels for a network of
    ``sizes`` (the sparse input layer, if ``sparse``, does not count).

    Their 512-bit twins (``train_epoch_fused_v512``, ``forward_rows_fused_v512``)
    where the CPU has AVX-512 and a dense layer has at least
    ``WIDE_MIN_WEIGHTS`` weights (see ``_kernels._prefer_512_bit``). A rule of
    the network's shape, never a timing, so a seed gives the same weights on
    a machine every time (on another kind of CPU they may differ in the last
    bits: vectors of another width sum in another order).
    """
    dense = range(1 if sparse else 0, len(sizes) - 1)
    if _kernels.AVX512 and any(sizes[l] * sizes[l + 1] >= WIDE_MIN_WEIGHTS for l in dense):
        return _kernels.train_epoch_fused_v512, _kernels.forward_rows_fused_v512
    return _kernels.train_epoch_fused, _kernels.forward_rows_fused


@functools.cache
def _flushing(kernel):
    """``kernel`` run with subnormal numbers flushed to zero on the calling
    thread, and the thread's floating-point mode put back after (see
    ``_kernels.flush_subnormals``): each thread of a team calls it."""
    def run(*args):
        mode = _kernels.flush_subnormals()
        try:
            return kernel(*args)
        finally:
            _kernels.restore_fp_mode(mode)
    return run


def _read_only(a):
    v = a.view()
    v.flags.writeable = False
    return v


def _packed(arrays):
    """The arrays' elements one after another in one new 1-D array (the kernels'
    layout), starting on a cache line."""
    flat = empty_aligned(sum(a.size for a in arrays), arrays[0].dtype)
    o = 0
    for a in arrays:
        flat[o:o + a.size] = a.reshape(-1)
        o += a.size
    return flat


def _inplace_unpack(flat, arrays):
    """Copy ``flat`` (as made by ``_packed``) back into ``arrays``."""
    o = 0
    for a in arrays:
        a.reshape(-1)[...] = flat[o:o + a.size]
        o += a.size


class _Buffers:
    """Every array one mini-batch step of the batched strategy needs, allocated once per fit.

    The input mini-batch ``x`` is (m, n_in), samples as rows, gathered from
    the caller's X; every layer's weighted inputs ``zs[l]``, activations
    ``acts[l]`` (layer l+1's) and ``deltas[l]`` are (n_l, m), one column per
    example (the book's X = [x1 ... xm]), and so are the targets ``y``. With
    columns, the forward product is ``W @ x.T`` (BLAS reads x transposed in
    place), which OpenBLAS runs faster than ``x @ W.T`` into rows for large
    layers (see the README for the measured whole-epoch gain).
    """

    def __init__(self, sizes, m, dtype, nabla=None):
        self.sizes, self.m, self.dtype = sizes, m, dtype
        self.x = np.empty((m, sizes[0]), dtype)
        self.y = np.empty((sizes[-1], m), dtype)
        self.acts = [np.empty((n, m), dtype) for n in sizes[1:]]
        self.zs = [np.empty((n, m), dtype) for n in sizes[1:]]
        self.deltas = [np.empty((n, m), dtype) for n in sizes[1:]]
        if nabla is None:
            nabla = ([np.empty(n, dtype) for n in sizes[1:]],
                     [np.empty((n_out, n_in), dtype)
                      for n_in, n_out in zip(sizes[:-1], sizes[1:])])
        self.nabla_b, self.nabla_w = nabla
        self.flat_nabla_w = [nw.reshape(-1) for nw in self.nabla_w]
        self.targets = None  # training: every sample's targets, (n_out, n_samples)
        self._short = None

    def rows(self, r):
        """Buffers for a mini-batch of ``r <= m`` examples (the last, short one).

        Their own contiguous arrays (made once, sharing ``nabla_*``): a
        column slice of the full ones would be strided, and BLAS would not
        write into it directly.
        """
        if r == self.m:
            return self
        if self._short is None or self._short.m != r:
            self._short = _Buffers(self.sizes, r, self.dtype, (self.nabla_b, self.nabla_w))
        return self._short


class Network(BaseNetwork):
    """A feedforward sigmoid network trained by mini-batch matrix backprop.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first, e.g. ``[784, 30, 10]``.
    cost : {"quadratic", "cross-entropy"}, a cost class or instance, default "quadratic"
    init : {"large", "default"}, default "large"
        "large": chapter 1's N(0, 1) weights and biases. "default": chapter
        3's N(0, 1/n_in) weights, N(0, 1) biases.
    seed : int, optional
        Seeds ``numpy.random.default_rng``, which draws the initial
        parameters and then shuffles every epoch.
    dtype : float64 (default) or float32
    engine : {"numba", "numpy"}, default "numba"
        Fused numba kernels, or their plain numpy twins (same math).
    strategy : {"auto", "fused", "batched"}, default "auto"
        How the numba engine walks an epoch. "fused": the whole epoch in one
        compiled call, hand-written register-blocked loops, no BLAS.
        "batched": a Python loop over mini-batches, numpy's BLAS for the
        matrix products, numba for the elementwise work. "auto": by network
        shape and mini-batch size (``auto_strategy``: batched for large
        hidden-to-hidden layers at m >= 150 and for networks of 100,000 weights
        or more at m >= 300, else fused; chosen by timing both),
        and batched for a user-defined cost, which the fused kernel cannot run.
    threads : int, optional
        Threads for the fused kernel and for prediction. Default (None):
        chosen while training, by measurement, between one thread and
        ``min(numba.get_num_threads(), cores available)``, so a busy machine
        does not stall the kernel; on Linux more threads are only tried
        while other processes leave cores free (``/proc/stat``; see
        ``nnvec._threads``). An int fixes the
        count; it may not exceed numba's pool (``NUMBA_NUM_THREADS``). The
        large layers' neurons are split across threads in blocks chosen so
        that training gives the same weights, bit for bit, for any count.
        Training with the batched strategy runs its products on numpy's BLAS
        threads (``OPENBLAS_NUM_THREADS``) instead.

    Attributes
    ----------
    weights : list of ndarray, ``weights[l].shape == (sizes[l+1], sizes[l])``
    biases : list of ndarray, ``biases[l].shape == (sizes[l+1],)``
    history : History or None, from the last ``fit``/``SGD``

    Raises
    ------
    ValueError, TypeError
        For invalid ``sizes``, ``dtype``, ``cost``, ``init``, ``seed`` or ``engine``.
    """

    def __init__(self, sizes: Sequence[int], *, cost: Any = "quadratic", init: str = "large",
                 seed: int | None = None, dtype: DTypeLike = np.float64, engine: str = "numba",
                 strategy: str = "auto", threads: int | None = None) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be 'numba' or 'numpy'; got {engine!r} "
                             "(the per-example engine is nnvec.reference.ReferenceNetwork)")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
        if strategy == "fused" and engine != "numba":
            raise ValueError("strategy='fused' is the numba whole-epoch kernel; use engine='numba'")
        if threads is not None:
            threads = V.check_positive_int(threads, "threads")
            if threads > numba_pool_size():
                raise ValueError(
                    f"threads={threads} exceeds numba's thread pool of "
                    f"{numba_pool_size()}; set NUMBA_NUM_THREADS={threads} "
                    "before Python starts, or pass a smaller threads")
        super().__init__(sizes, cost=cost, init=init, seed=seed, dtype=dtype)
        self._sparse_input = True
        self.engine = engine
        self.strategy = strategy
        self.threads = threads
        self._k = ENGINES[engine]
        self._buf: _Buffers | None = None
        self._fused: tuple | None = None
        self._governor: Any = None
        self._team: Team | None = None

    def __getstate__(self):
        # Live objects only: the kernel module is looked up again from the
        # engine name, and per-fit scratch is rebuilt by the next fit.
        state = self.__dict__.copy()
        for k in ("_k", "_buf", "_fused", "_governor", "_team"):
            state.pop(k, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._k = ENGINES[self.engine]
        self._buf = self._fused = self._governor = self._team = None

    def _checkpoint_settings(self):
        return dict(super()._checkpoint_settings(), strategy=self.strategy, threads=self.threads)

    def _max_threads(self):
        # numba's own count honours NUMBA_NUM_THREADS and numba.set_num_threads.
        if self.threads is not None:
            return self.threads
        return max(1, min(numba.get_num_threads(), available_cores()))

    def _thread_choices(self, m):
        """Candidate thread counts for the fused kernel at mini-batch size ``m``."""
        top = self._max_threads()
        if self.threads is not None:
            return (top,)
        splittable = any(_kernels._split_blocks(w.shape[0], w.size, top) > 1
                         for w in self.weights)
        if top == 1 or not splittable:
            return (1,)
        return (1, top)

    def _use_fused(self, m=1):
        """Whether training at mini-batch size ``m`` runs the fused kernel."""
        if self.engine != "numba" or self.cost not in (QuadraticCost, CrossEntropyCost):
            return False
        if self.strategy == "auto":
            return auto_strategy(self.sizes, m) == "fused"
        return self.strategy == "fused"

    def _forward_rows(self, X):
        if self.engine != "numba":
            return super()._forward_rows(X)
        out = np.empty((len(X), self.sizes[-1]), self.dtype)
        # The user's thread count, else every core: the threads take blocks
        # of rows as they come (forward_rows_fused), so a helper whose core is
        # busy costs little, and on a quiet machine two threads took 6.6 ms
        # for the 10,000 test images against 11.6 ms for one (2-vCPU EPYC).
        nthr = max(1, min(self._max_threads(), numba_pool_size(),
                          -(-len(X) // _kernels.FORWARD_BLOCK)))
        # the training team while fitting (evaluation), else the process's own
        team = self._team if self._team is not None else prediction_team()
        X, sp, sparse = _kernel_inputs(X, self.sizes, self.dtype)
        team.run(_flushing(_fused_kernels(self.sizes, sparse)[1]), nthr, X, sp, sparse,
                 np.array(self.sizes, np.int64), _packed(self.weights), _packed(self.biases),
                 out, np.zeros(1, self.dtype))
        return out

    # ------------------------------------------------------------ one batch
    def _output_delta(self, buf):
        a, y, delta = buf.acts[-1], buf.y, buf.deltas[-1]
        if self.cost is QuadraticCost:
            self._k.quadratic_delta_into(a, y, delta)
        elif self.cost is CrossEntropyCost:
            self._k.cross_entropy_delta_into(a, y, delta)
        else:  # a user-defined cost: its own numpy delta, on samples as rows
            delta.T[...] = self.cost.delta(buf.zs[-1].T, a.T, y.T)

    def _gradient(self, buf):
        """Forward and backward pass over ``buf.x``; fills ``buf.nabla_*`` (see ``_Buffers``)."""
        k = self._k
        x, acts, zs, deltas = buf.x, buf.acts, buf.zs, buf.deltas
        last = len(self.weights) - 1
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            np.matmul(w, x.T if l == 0 else acts[l - 1], out=zs[l])
            k.inplace_add_bias_sigmoid(zs[l], b, acts[l])
        self._output_delta(buf)
        for l in range(last, -1, -1):
            np.sum(deltas[l], axis=1, out=buf.nabla_b[l])                        # BP3
            np.matmul(deltas[l], x if l == 0 else acts[l - 1].T, out=buf.nabla_w[l])  # BP4
            if l > 0:                                                            # BP2
                np.matmul(self.weights[l].T, deltas[l], out=deltas[l - 1])
                k.inplace_sigmoid_prime_mul(deltas[l - 1], acts[l - 1])

    def _backprop_batch(self, X, Y):
        buf = _Buffers(self.sizes, len(X), self.dtype)
        buf.x[...] = X
        buf.y[...] = Y.T
        self._gradient(buf)
        return [nb.copy() for nb in buf.nabla_b], [nw.copy() for nw in buf.nabla_w]

    # ------------------------------------------------------------ training
    def _prepare_training(self, X, Y, m):
        m = min(m, len(X))
        if self._use_fused(m):
            rows = m * sum(self.sizes[1:])  # every layer's (m, n_l) outputs, packed
            # Outputs twice (with a sparse input layer split by columns, or
            # a two-layer dense network's deferred output-layer update, the
            # kernel alternates between two buffers; elsewhere it uses the
            # first: a few bytes per example and neuron, one rule to keep),
            # the second also on a cache line; deltas once.
            per_line = LINE_BYTES // np.dtype(self.dtype).itemsize
            outputs = 2 * (-(-rows // per_line) * per_line)
            self._fused = (np.array(self.sizes, np.int64), empty_aligned(outputs, self.dtype),
                           empty_aligned(rows, self.dtype), np.zeros(2, self.dtype),
                           0 if self.cost is QuadraticCost else 1, np.arange(m),
                           _kernel_inputs(X, self.sizes, self.dtype))
            choices = self._thread_choices(m)
            # What was learnt about this machine's load carries over to every
            # network of this shape in the process (see _threads.shared_governor).
            self._governor = shared_governor(
                choices, (self.sizes, m, np.dtype(self.dtype).str, id(self.cost)))
            self._team = borrow_team(max(choices) - 1)
        else:
            self._buf = _Buffers(self.sizes, m, self.dtype)
            # all the targets as columns, like the buffers, once per fit
            self._buf.targets = np.ascontiguousarray(Y.T)

    def _finish_training(self):
        self._buf = None
        self._fused = None
        if self._team is not None:
            give_back_team(self._team)
            self._team = None

    def _train_epoch(self, X, Y, perm, m, eta, lmbda):
        if self._fused is not None:
            sizes, aflat, dflat, scal, cost_kind, ident, (Xk, sp, sparse) = self._fused
            Yk = _read_only(Y)  # read-only like Xk: one compiled kernel for any caller's arrays
            wflat, bflat = _packed(self.weights), _packed(self.biases)
            gov = self._governor
            assert gov is not None and self._team is not None
            n = len(X)
            m = min(m, n)  # as in _prepare_training: the scratch holds min(m, n) rows
            kernel = _flushing(_fused_kernels(self.sizes, sparse)[0])
            lo = 0
            gov.begin()
            try:
                # The epoch in segments, each on the thread count the governor
                # picks; the kernel's result does not depend on the cut or count.
                while lo < n:
                    nthr, count = gov.plan(m, n - lo)
                    hi = min(n, lo + count)
                    warm = gov.warm  # samples of the segment that wake its threads up
                    # a team stops once it has taken far longer than planned
                    # (a load came), looking every MULTI_MAX_BATCHES mini-batches
                    budget = budget_cycles(gov.budget_s(nthr, hi - lo))
                    t0 = time.perf_counter()
                    sync = self._team.run(kernel, nthr, Xk, sp, sparse, Yk, perm,
                                          m, sizes, wflat, bflat, aflat, dflat, eta, lmbda,
                                          cost_kind, scal, ident, lo, hi, mark=warm,
                                          budget=budget, piece=MULTI_MAX_BATCHES if budget else 0)
                    seconds = time.perf_counter() - t0
                    if sync[_kernels.STOPPED]:
                        hi = int(sync[_kernels.STOPPED]) - 1
                    warm_s = marked_seconds(sync, seconds) if warm else None
                    if warm and warm_s is None:  # no cycle counter: wake-ups run apart
                        gov.timed_inside = False
                    if nthr > 1:
                        note_cycle_rate(sync, seconds)
                        gov.stoppable = budget_cycles(1.0) > 0
                    gov.record(nthr, hi - lo, seconds, m, warm_s)
                    lo = hi
            finally:
                if sparse and 0 < lo < n:  # stopped between segments: W is in WT
                    _kernels.wt_into_weights(wflat, sizes, sp[4])
                _inplace_unpack(wflat, self.weights)
                _inplace_unpack(bflat, self.biases)
            return
        k = self._k
        n = len(X)
        decay = 1.0 - eta * lmbda / n
        flat_w = [w.reshape(-1) for w in self.weights]
        full = self._buf
        assert full is not None and full.targets is not None
        targets = full.targets
        for start in range(0, n, m):
            idx = perm[start:start + m]
            buf = full.rows(len(idx))
            # mode="clip" avoids numpy's buffered copy for mode="raise"; the
            # indices come from a permutation of range(n), so none is clipped.
            if isinstance(X, SparseImages):
                X.toarray(self.dtype, idx, out=buf.x)
            else:
                np.take(X, idx, axis=0, out=buf.x, mode="clip")
            np.take(targets, idx, axis=1, out=buf.y, mode="clip")
            self._gradient(buf)
            step = eta / len(idx)
            for w, nw in zip(flat_w, buf.flat_nabla_w):
                k.inplace_sgd_update(w, nw, decay, step)
            for b, nb in zip(self.biases, buf.nabla_b):
                k.inplace_sgd_update(b, nb, 1.0, step)


register("numba", functools.partial(Network, engine="numba"))
register("numpy", functools.partial(Network, engine="numpy"))

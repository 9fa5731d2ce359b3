"""Two threads on the sparse input layer, each on half of WT's columns, by WT's layout.

    python benchmarks/results/2026-11-28/wt-blocks.py

[784, 30, 10] in float64 on MNIST's training images (``SparseImages``): each
thread runs the forward pass and then the update (``_forward_input_sparse``,
``_update_input_sparse``) on mini-batches of ten of the same 20,000 images in
shuffled order, thread 0 on columns 0-15, thread 1 on columns 16-31, at once.
WT as rows of whole width shared by both (each thread's columns half of
every 256-byte row), as two arrays of whole rows (one per thread: nothing
shared), and in blocks of one line (``_wt_view``, as training stores it). Cycles
(the time-stamp counter) per non-zero pixel, median of 3, three rounds.

Measured on 2272dac, whose update took WT in either layout; later the update
takes only the blocks training uses, so run this on a checkout of that
commit (``git worktree add /tmp/wt 2272dac``, then ``PYTHONPATH=/tmp/wt``).
"""

import threading
from pathlib import Path

import numpy as np

import nnvec
from nnvec import _kernels as K
from nnvec._aligned import zeros_aligned
from nnvec._kernels import fjit


@fjit
def _run(D, Out, sp, perm, r, j0, j1, cyc):
    b = np.zeros(32)
    for s in range(0, perm.shape[0] - r + 1, r):
        rows = perm[s:s + r]
        c0 = K._cycles()
        K._forward_input_sparse(sp, rows, 0, r, j0, j1, b, Out, 0.0)
        c1 = K._cycles()
        K._update_input_sparse(D, sp, rows, r, 0, 784, j0, j1, 1.0)
        c2 = K._cycles()
        cyc[0] += c1 - c0
        cyc[1] += c2 - c1


def main():
    if "emit(far())" in Path(K.__file__).read_text():
        raise SystemExit("this update takes WT in blocks only: run on a checkout of 2272dac")
    (S, _), _, _ = nnvec.load_mnist(compact=True)
    r = 10
    perm = np.random.default_rng(0).permutation(len(S))[:20000]
    npix = int(sum(S.indptr[i + 1] - S.indptr[i] for i in perm))
    lut = (np.arange(256) / 255.0).astype(np.float64)
    W = np.random.default_rng(1).random((30, 784)) * 1e-3

    def wt(blocks):
        WT = zeros_aligned((784, 32), np.float64, K.SPARSE_ROW_BYTES)
        view = K._wt_view(WT, 30) if blocks else WT
        K._wt_copy(W, view, True)
        return (S.indptr, S.steps, S.vals, lut, view)

    def both(sps):
        cycs = [np.zeros(2, np.int64) for _ in sps]
        threads = [threading.Thread(target=_run, args=(
            np.full((r, 30), 1e-6), np.empty((r, 30)), sp, perm, r, j0, j1, c))
            for sp, (j0, j1), c in zip(sps, ((0, 16), (16, 32)), cycs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return np.concatenate([c / npix for c in cycs])

    for rnd in range(3):
        rows, rows2, blocks = wt(False), wt(False), wt(True)
        for name, sps in (("rows, shared", [rows, rows]), ("rows, one array each", [rows, rows2]),
                          ("blocks of a line, shared", [blocks, blocks])):
            both(sps)
            x = np.median([both(sps) for _ in range(3)], axis=0)
            print(f"round {rnd + 1}, {name:25s} thread 0: forward {x[0]:5.1f}, update "
                  f"{x[1]:5.1f}; thread 1: forward {x[2]:5.1f}, update {x[3]:5.1f} cycles/pixel",
                  flush=True)


if __name__ == "__main__":
    main()

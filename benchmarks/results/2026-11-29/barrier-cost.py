"""Two threads meeting at nnvec's barrier (``_kernels._barrier``) with no work between.

    python benchmarks/results/2026-11-29/barrier-cost.py
"""
import threading
import time

import numpy as np
from numba import njit

from nnvec import _kernels


@njit(nogil=True, error_model="numpy")
def meet(sync, n, nthr):
    for _ in range(n):
        _kernels._barrier(sync, nthr)


meet(np.zeros(_kernels.SYNC_SLOTS, np.int64), 1, 1)  # compile
for n in (10_000, 100_000, 100_000):
    sync = np.zeros(_kernels.SYNC_SLOTS, np.int64)
    helper = threading.Thread(target=meet, args=(sync, n, 2))
    t = time.perf_counter()
    helper.start()
    meet(sync, n, 2)
    helper.join()
    print(f"{n} barriers of two threads: {(time.perf_counter() - t) / n * 1e9:.0f} ns each")

"""How long a new process spends loading (or compiling) nnvec's numba kernels.

Run twice: the first run on an empty cache compiles, the second loads::

    NUMBA_CACHE_DIR=$(mktemp -d) sh -c 'python benchmarks/jit_startup.py; python benchmarks/jit_startup.py'

It times the first call of each kernel path the chapter-1 run uses (the fused
epoch kernel and the fused forward pass, float64), minus the same call once
warm, so what remains is compilation or cache loading.
"""

import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402

import nnvec  # noqa: E402

t_import = time.perf_counter() - t0
X = np.random.default_rng(0).random((50, 784))
y = np.arange(50) % 10


def once():
    net = nnvec.Network([784, 30, 10], seed=0)
    t = time.perf_counter()
    net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
    net.predict(X)
    return time.perf_counter() - t


first = once()
warm = min(once() for _ in range(3))
print(f"import nnvec: {t_import:.3f} s; numba compile/load in this process: "
      f"{first - warm:.3f} s (first call {first:.3f} s, warm call {warm:.4f} s)")

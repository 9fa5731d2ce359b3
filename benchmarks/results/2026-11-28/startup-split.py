"""Where the chapter-1 run's time outside its epochs goes, each part in a new process.

    python benchmarks/results/2026-11-28/startup-split.py ROUNDS

Per round, each in its own interpreter: starting Python; ``import nnvec``;
numba's set-up on the first kernel call after that import (the data
encoder's, on two images), with scipy importable as installed and with it
blocked (numba imports scipy's BLAS bindings on its first compilation or
cache load if it can); ``load_mnist(compact=True)`` with the data cache warm
and off. Medians over rounds, seconds.
"""

import statistics
import subprocess
import sys

PARTS = {
    "python -c pass": "pass",
    "import nnvec": "import time; t = time.perf_counter(); import nnvec; print(time.perf_counter() - t)",
    "numba set-up on the first kernel (scipy as installed)": """
import time, numpy as np, nnvec
from nnvec._kernels import encode_nonzero_into as f
a = np.zeros((2, 784), np.uint8); ip = np.empty(3, np.int64); s = np.empty(2000, np.uint8)
t = time.perf_counter(); f(a, ip, s, s.copy()); print(time.perf_counter() - t)""",
    "numba set-up on the first kernel (scipy blocked)": """
import sys, time, numpy as np, nnvec
sys.modules['scipy'] = None
from nnvec._kernels import encode_nonzero_into as f
a = np.zeros((2, 784), np.uint8); ip = np.empty(3, np.int64); s = np.empty(2000, np.uint8)
t = time.perf_counter(); f(a, ip, s, s.copy()); print(time.perf_counter() - t)""",
    "load_mnist(compact=True), data cache warm": """
import time, nnvec
t = time.perf_counter(); nnvec.load_mnist(compact=True); print(time.perf_counter() - t)""",
    "load_mnist(compact=True, cache=False)": """
import time, nnvec
t = time.perf_counter(); nnvec.load_mnist(compact=True, cache=False); print(time.perf_counter() - t)""",
}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    res = {k: [] for k in PARTS}
    for _ in range(rounds):
        for name, code in PARTS.items():
            if code == "pass":
                import time
                t = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True)
                res[name].append(time.perf_counter() - t)
            else:
                out = subprocess.run([sys.executable, "-c", code], check=True,
                                     capture_output=True, text=True).stdout
                res[name].append(float(out.split()[-1]))
    for name, v in res.items():
        print(f"{name:55s} {statistics.median(v):.3f} s  ({min(v):.3f}-{max(v):.3f})")


if __name__ == "__main__":
    main()

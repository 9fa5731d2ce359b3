"""The thread governor's segments while other processes spin on the cores.

    python benchmarks/results/2026-11-28/governor-busy.py DTYPE M REPEATS N_SAMPLES N_SPIN

As ``governor-trace.py`` (one line per segment: W marks a wake-up segment,
then the thread count, mini-batches, microseconds per sample, the governor's
count and probe gaps after it), with ``N_SPIN`` processes running
``while True: pass`` meanwhile, as ``nnvec bench --busy`` starts them.
"""

import runpy
import subprocess
import sys
import time
from pathlib import Path


def main():
    n_spin = int(sys.argv[5])
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n_spin)]
    time.sleep(0.2)
    try:
        sys.argv = sys.argv[:5]
        runpy.run_path(str(Path(__file__).with_name("governor-trace.py")), run_name="__main__")
    finally:
        for p in procs:
            p.kill()


if __name__ == "__main__":
    main()

"""How long a bare two-thread meeting on nnvec's Team takes after an idle pause.

    python benchmarks/results/2026-11-28/wake.py

The kernel only gathers its two threads and meets them at one barrier: the
time is the helper's wake-up (and the caller's hand-over), no work.
"""

import time

import numba
import numpy as np

from nnvec import _kernels as K
from nnvec._threads import Team


@numba.njit(nogil=True)
def meet(x, t, nthr, sync):
    leave, t, nthr = K._join_team(sync, t, nthr)
    if leave:
        return
    if nthr > 1:
        K._barrier(sync, nthr)


def main():
    team = Team(1)
    x = np.zeros(1)
    team.run(meet, 2, x)
    team.run(meet, 1, x)
    for pause in (0.0, 0.001, 0.01, 0.1, 0.3):
        ts = []
        for _ in range(15):
            time.sleep(pause)
            t = time.perf_counter()
            team.run(meet, 2, x)
            ts.append(time.perf_counter() - t)
        print(f"pause {pause}: 2-thread meet median {np.median(ts) * 1e6:.0f} us, "
              f"max {max(ts) * 1e6:.0f} us")
    team.close()


if __name__ == "__main__":
    main()

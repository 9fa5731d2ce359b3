"""Microseconds per ``Team.run`` of a trivial kernel on two threads, and where they go.

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-28/team-run.py

The kernel only meets its helper (``_join_team``, one barrier) and, where the
checkout has it, counts the helper done (``sync[DONE]``). Runs back to back
and after idle gaps of 0.2 and 2 ms (300 each, medians); then one split of a
back-to-back run by the cycle counter: from the call to the caller's kernel,
the helper's arrival after it, and from the caller's kernel's end to the
return. Run once per checkout, alternating, to compare them.
"""

import time

import numba
import numpy as np

import nnvec
from nnvec import _kernels as K
from nnvec import _threads

DONE = getattr(K, "DONE", None)


@numba.njit(nogil=True)
def _meet(ts, t, nthr, sync):
    ts[t] = K._cycles()
    leave, t2, nthr2 = K._join_team(sync, t, nthr)
    if not leave and nthr2 > 1:
        K._barrier(sync, nthr2)
    ts[2 + t] = K._cycles()
    if DONE is not None and t > 0:
        K._atomic_add(sync, DONE, 1)


@numba.njit
def _cycles():
    return K._cycles()


def main():
    c0, t0 = _cycles(), time.perf_counter()
    time.sleep(0.2)
    ghz = (_cycles() - c0) / (time.perf_counter() - t0) / 1e9
    team = _threads.Team(1)
    ts = np.zeros(4, np.int64)
    _meet(ts, 0, 1, np.zeros(16, np.int64))
    print(f"{nnvec.__file__}:")
    for gap in (0.0, 0.0002, 0.002):
        took = []
        for _ in range(300):
            if gap:
                time.sleep(gap)
            t = time.perf_counter()
            team.run(_meet, 2, ts)
            took.append(time.perf_counter() - t)
        print(f"  gap {gap * 1e3:.1f} ms: Team.run on 2 threads, median {np.median(took) * 1e6:.0f} "
              f"us, 90th percentile {np.percentile(took, 90) * 1e6:.0f} us")
    rows = []
    for _ in range(300):
        a = _cycles()
        team.run(_meet, 2, ts)
        b = _cycles()
        rows.append([ts[0] - a, ts[1] - ts[0], b - ts[2]])
    r = np.median(np.array(rows), axis=0) / ghz / 1e3
    print(f"  back to back, us: call to the caller's kernel {r[0]:.1f}, helper arrives "
          f"{r[1]:.1f} after it, caller's kernel end to return {r[2]:.1f}")
    team.close()


if __name__ == "__main__":
    main()

"""Where a warm ``nnvec train --seed 1`` spends its time: seconds since the process started.

    python benchmarks/results/2026-11-29/run-timeline.py

Runs the command line's ``main`` in this process, with timestamps (from the
process's start time in ``/proc/self/stat``, Linux) after the imports, around
the data loading, the training's preparation (numba's set-up happens there, at
the first kernel call) and the first, second and last epochs.
"""
import functools
import os
import time


def since_start():
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")


marks = [("Python started (site imported)", since_start())]
import numpy  # noqa: E402,F401

marks.append(("numpy imported", since_start()))
import numba  # noqa: E402,F401

marks.append(("numba imported", since_start()))
import nnvec.cli as cli  # noqa: E402
from nnvec import engine, mnist  # noqa: E402

marks.append(("nnvec imported", since_start()))


def timed(owner, name, label, when=lambda: True):
    f = getattr(owner, name)

    @functools.wraps(f)
    def g(*args, **kwargs):
        on = when()
        if on:
            marks.append((f"{label} starts", since_start()))
        try:
            return f(*args, **kwargs)
        finally:
            if on:
                marks.append((f"{label} ends", since_start()))
    setattr(owner, name, g)


epochs = [0]


def counted():
    epochs[0] += 1
    return epochs[0] in (1, 2, 30)


timed(mnist, "load_mnist", "loading the data")
timed(engine.Network, "_prepare_training", "preparing the training (numba's set-up)")
timed(engine.Network, "_train_epoch", "an epoch (1st, 2nd, 30th)", counted)
cli.main(["train", "--seed", "1"])
marks.append(("main returned", since_start()))
for label, t in marks:
    print(f"{t:7.3f} s  {label}")

"""What a 0.3 s pause before a fit costs two fixed threads, and what undoes part of it.

One network on two fixed threads, one-epoch fits of 10,000 images, each
after: nothing (back to back), a 0.3 s sleep (as ``nnvec bench --peers``
pauses), the sleep then a pass over the inputs (``X.sum()``: the caches),
the sleep then 20 ms of this thread spinning (its core awake), or 0.3 s of
spinning instead of the sleep. Medians of the rounds, each round every mode
in turn.

    python benchmarks/results/2026-11-28/pause-cost.py DTYPE M [rounds]
"""

import sys
import time

import numpy as np

import nnvec
from nnvec.mnist import load_mnist

dt, m = sys.argv[1], int(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
X = load_mnist(dtype=dt)[0][0][:10000]
y = load_mnist()[0][1][:10000]
net = nnvec.Network([784, 30, 10], seed=0, threads=2, dtype=dt)
net.fit(X, y, epochs=1, batch_size=m, eta=3.0)


def spin(seconds):
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        pass


modes = {
    "back to back": lambda: None,
    "sleep": lambda: time.sleep(0.3),
    "sleep, touch X": lambda: (time.sleep(0.3), float(X.sum())),
    "sleep, spin 20 ms": lambda: (time.sleep(0.3), spin(0.02)),
    "spin 0.3 s": lambda: spin(0.3),
}
seconds: dict = {k: [] for k in modes}
for _ in range(rounds):
    for k, before in modes.items():
        before()
        seconds[k].append(net.fit(X, y, epochs=1, batch_size=m, eta=3.0).seconds[0])
print(f"{dt} m={m}, two threads, {rounds} rounds, ms per epoch: "
      + ", ".join(f"{k} {np.median(v) * 1e3:.2f}" for k, v in seconds.items()), flush=True)

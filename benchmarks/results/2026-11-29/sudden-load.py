"""A load that comes in the middle of a fit: two busy processes start DELAY seconds in.

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-29/sudden-load.py M DELAY

[784, 30, 10] on the 50,000 training images as float64 rows, default threads,
four epochs after a short warm-up fit; prints the epochs' seconds and the total.
"""
import subprocess
import sys
import threading
import time

import nnvec

m, delay = int(sys.argv[1]), float(sys.argv[2])
(X, y), _, _ = nnvec.load_mnist()
net = nnvec.Network([784, 30, 10], seed=1)
net.fit(X[:2000], y[:2000], epochs=1, batch_size=m, eta=3.0)  # compile, start the helpers
busy: list = []


def load():
    time.sleep(delay)
    busy.extend(subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2))


starter = threading.Thread(target=load)
starter.start()
t = time.perf_counter()
hist = net.fit(X, y, epochs=4, batch_size=m, eta=3.0)
total = time.perf_counter() - t
starter.join()
for p in busy:
    p.kill()
print(f"m={m}, load from {delay} s: epochs {[round(s, 3) for s in hist.seconds]}, "
      f"total {total:.2f} s")

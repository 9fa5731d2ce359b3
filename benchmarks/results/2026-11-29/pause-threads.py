"""What a 0.3 s pause before each epoch costs one thread, two, and the default.

    python benchmarks/results/2026-11-29/pause-threads.py

[784, 30, 10], float32, m = 1000, 10,000 images: the median of 15 epochs
(each a fit of one epoch) with no pause and with a 0.3 s sleep before each, in ms.
"""

import time

import numpy as np

import nnvec


def main():
    (X, y), _, _ = nnvec.load_mnist()
    X, y = X[:10000].astype("float32"), y[:10000]
    for threads in (1, 2, None):
        kw = {} if threads is None else {"threads": threads}
        net = nnvec.Network([784, 30, 10], seed=0, dtype="float32", **kw)
        net.fit(X, y, epochs=1, batch_size=1000, eta=3.0)
        res = {}
        for pause in (0.0, 0.3):
            ts = []
            for _ in range(15):
                time.sleep(pause)
                ts.append(net.fit(X, y, epochs=1, batch_size=1000, eta=3.0).seconds[0])
            res[pause] = np.median(ts) * 1e3
        print("threads", threads or "default",
              " ".join(f"pause {p}: {v:.2f} ms" for p, v in res.items()), flush=True)


if __name__ == "__main__":
    main()

"""Float32 epochs as a hard-trained network's activations underflow.

    PYTHONPATH=<checkout> python benchmarks/results/2026-11-28/subnormals.py

[784, 30, 10] in float32, one thread, m = 1, eta = 3 (the peers' timing
settings at m = 1), six one-epoch fits of 10,000 images in a row. After each:
the epoch's seconds, and the fraction of the hidden and output activations
(and of a(1 - a)) on 2,000 images, computed in numpy, that are subnormal
(non-zero, under float32's smallest normal number 1.18e-38).
"""

import numpy as np

import nnvec


def main():
    tr, _, _ = nnvec.load_mnist()
    X, y = tr[0][:10000].astype(np.float32), tr[1][:10000]
    net = nnvec.Network([784, 30, 10], seed=0, threads=1, dtype=np.float32)
    tiny = np.finfo(np.float32).tiny
    for epoch in range(6):
        seconds = net.fit(X, y, epochs=1, batch_size=1, eta=3.0).seconds[0]
        a = X[:2000].T
        fractions = []
        for w, b in zip(net.weights, net.biases):
            z = (w @ a + b[:, None]).astype(np.float64)
            a = (1 / (1 + np.exp(-z))).astype(np.float32)
            for v in (a, a * (1 - a)):
                fractions.append(float(np.mean((v != 0) & (np.abs(v) < tiny))))
        print(f"{nnvec.__file__} epoch {epoch}: {seconds:.4f} s; subnormal (a, a(1-a)) per layer "
              f"{np.round(fractions, 3).tolist()}")


if __name__ == "__main__":
    main()

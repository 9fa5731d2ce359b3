# Where an epoch of the batched strategy goes, step by step (m and sizes from argv; 10,000 random
# inputs; the engine's _gradient and update loop written out with a timer around each step).
# python benchmarks/results/2026-11-27/batched-steps.py "[784,300,10]" 100
import sys
import time
from collections import defaultdict

import numpy as np

from nnvec.engine import Network

sizes = eval(sys.argv[1])
m = int(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.random((10000, 784))
Y = np.eye(10)[rng.integers(0, 10, 10000)]
net = Network(sizes, strategy="batched")
net._prepare_training(X, Y, m)
T = defaultdict(float)
pc = time.perf_counter


def epoch(perm, eta=0.1):
    k = net._k
    n = len(X)
    full = net._buf
    targets = full.targets
    flat_w = [w.reshape(-1) for w in net.weights]
    for start in range(0, n, m):
        t0 = pc()
        idx = perm[start : start + m]
        buf = full.rows(len(idx))
        np.take(X, idx, axis=0, out=buf.x, mode="clip")
        np.take(targets, idx, axis=1, out=buf.y, mode="clip")
        t1 = pc()
        T["gather"] += t1 - t0
        x, acts, zs, deltas = buf.x, buf.acts, buf.zs, buf.deltas
        last = len(net.weights) - 1
        for l, (b, w) in enumerate(zip(net.biases, net.weights)):
            t0 = pc()
            np.matmul(w, x.T if l == 0 else acts[l - 1], out=zs[l])
            t1 = pc()
            T[f"fwd{l}"] += t1 - t0
            k.inplace_add_bias_sigmoid(zs[l], b, acts[l])
            t2 = pc()
            T[f"sig{l}"] += t2 - t1
        t0 = pc()
        net._output_delta(buf)
        T["out"] += pc() - t0
        for l in range(last, -1, -1):
            t0 = pc()
            np.sum(deltas[l], axis=1, out=buf.nabla_b[l])
            t1 = pc()
            T["bp3"] += t1 - t0
            np.matmul(deltas[l], x if l == 0 else acts[l - 1].T, out=buf.nabla_w[l])
            t2 = pc()
            T[f"nw{l}"] += t2 - t1
            if l > 0:
                np.matmul(net.weights[l].T, deltas[l], out=deltas[l - 1])
                t3 = pc()
                T[f"bp2mm{l}"] += t3 - t2
                k.inplace_sigmoid_prime_mul(deltas[l - 1], acts[l - 1])
                T[f"bp2p{l}"] += pc() - t3
        t0 = pc()
        step = eta / len(idx)
        for w, nw in zip(flat_w, buf.flat_nabla_w):
            k.inplace_sgd_update(w, nw, 1.0, step)
        for b, nb in zip(net.biases, buf.nabla_b):
            k.inplace_sgd_update(b, nb, 1.0, step)
        T["update"] += pc() - t0


for _r in range(4):
    T.clear()
    t0 = pc()
    epoch(rng.permutation(10000))
    tot = pc() - t0
print(f"epoch {tot:.4f} s; accounted {sum(T.values()):.4f}")
for k_, v in T.items():
    print(f"  {k_:8s} {v * 1e3:7.2f} ms {100 * v / tot:5.1f}%")

"""One training epoch per engine, grouped by workload.

Run: ``pytest benchmarks --benchmark-only`` (see benchmarks/README.md).

Each benchmark times training over ``BENCH_SAMPLES`` images (a fifth of the
book's 50,000-image epoch, so the per-example baseline stays affordable); the
``epoch_s`` in ``extra_info`` scales the median to a full epoch. JIT
compilation happens in an untimed warm-up call, and its time is recorded as
``warmup_s``. Groups are named by workload, so each table compares the
variants at one sizes/m directly.
"""

import time

import numpy as np
import pytest

from nnvec.bench import SETTLE_S, epoch_flops, make_variant, warm_up

BENCH_SAMPLES = 10_000
EPOCH = 50_000

WORKLOADS = [((784, 30, 10), 1), ((784, 30, 10), 10), ((784, 30, 10), 100),
             ((784, 30, 10), 1000), ((784, 100, 10), 10)]
VARIANTS = ["reference", "columns", "numpy", "numba", "numba-f32"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("sizes, m", WORKLOADS,
                         ids=[f"{'-'.join(map(str, s))}_m{m}" for s, m in WORKLOADS])
def test_epoch(benchmark, mnist_train, sizes, m, variant):
    data, y = mnist_train
    net = make_variant(variant, list(sizes))
    X = data[np.dtype(net.dtype).name][:BENCH_SAMPLES]
    yy = y[:BENCH_SAMPLES]
    benchmark.group = f"{list(sizes)} m={m}, {BENCH_SAMPLES} samples (1/5 epoch)"
    benchmark.extra_info["warmup_s"] = warm_up(net, X, yy, m)
    benchmark.extra_info["dtype"] = np.dtype(net.dtype).name

    def one_pass():
        net.fit(X, yy, epochs=1, batch_size=m, eta=3.0)

    # the pause lets other thread pools park first (see nnvec.bench.SETTLE_S)
    benchmark.pedantic(one_pass, setup=lambda: time.sleep(SETTLE_S), rounds=3, iterations=1,
                       warmup_rounds=0)
    if benchmark.stats is not None:  # None under --benchmark-disable
        med = benchmark.stats.stats.median
        flops, _, _ = epoch_flops(sizes, BENCH_SAMPLES, m)
        benchmark.extra_info["epoch_s"] = med * EPOCH / BENCH_SAMPLES
        benchmark.extra_info["gflops"] = flops / med / 1e9
    assert all(np.all(np.isfinite(w)) for w in net.weights)

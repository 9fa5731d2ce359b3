import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

import nnvec
from nnvec import _kernels, bench
from nnvec.bench import epoch_flops
from nnvec.cli import main


def test_flop_count_matches_perf_notes():
    # perf-notes: h=30, m=10 -> 4.79 GFLOP matmul + 0.24 update = 5.05 GFLOP
    total, matmul, update = epoch_flops([784, 30, 10], 50_000, 10)
    assert matmul == 50_000 * (4 * (784 * 30 + 30 * 10) + 2 * 30 * 10) == 4_794_000_000
    assert update == 5_000 * 2 * (784 * 30 + 30 + 30 * 10 + 10) == 238_600_000
    assert total == matmul + update
    assert epoch_flops([784, 30, 10], 50_000, 1000)[2] == 50 * 2 * 23_860


def test_every_cached_kernel_has_its_own_name():
    dispatchers = [v for v in vars(_kernels).values() if isinstance(v, numba.core.registry.CPUDispatcher)]
    assert len(dispatchers) >= 8
    names = [d.py_func.__qualname__ for d in dispatchers]
    assert len(names) == len(set(names))
    assert all(type(d._cache).__name__ == "FunctionCache" for d in dispatchers)  # cache=True


# The batched strategy's kernels: quick to compile. The fused kernels' cache
# is probed in a second process by the (slow) wheel-install test, after
# `nnvec train` has compiled them there.
CACHE_PROBE = r"""
import json, numpy as np, nnvec
from nnvec import _kernels as K
X = np.random.default_rng(0).random((40, 6))
y = np.arange(40) % 3
net = nnvec.Network([6, 5, 3], seed=0, strategy="batched")
net.fit(X, y, epochs=1, batch_size=7, eta=1.0)
kernels = (K.inplace_add_bias_sigmoid, K.inplace_sgd_update, K.quadratic_delta_into)
hits = sum(sum(d.stats.cache_hits.values()) for d in kernels)
misses = sum(sum(d.stats.cache_misses.values()) for d in kernels)
print(json.dumps({"hits": hits, "misses": misses, "w": net.weights[0].tolist()}))
"""


def test_a_second_process_hits_the_numba_cache(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))

    def probe():
        r = subprocess.run([sys.executable, "-c", CACHE_PROBE], env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    first = probe()
    second = probe()
    assert first["misses"] > 0  # compiled and written
    assert second["misses"] == 0 and second["hits"] >= 3  # loaded, nothing recompiled
    assert first["w"] == second["w"]  # the cached machine code computes the same thing


@pytest.mark.parametrize("strategy", ["fused", "batched"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_strategies_train_the_same_network(strategy, dtype):
    X = np.random.default_rng(0).random((53, 12))
    y = np.arange(53) % 4
    ref = nnvec.ReferenceNetwork([12, 9, 7, 4], seed=2, dtype=dtype)
    net = nnvec.Network([12, 9, 7, 4], seed=2, dtype=dtype, strategy=strategy)
    ref.fit(X, y, epochs=2, batch_size=5, eta=1.5, lmbda=0.5)
    net.fit(X, y, epochs=2, batch_size=5, eta=1.5, lmbda=0.5)
    tol = 1e-12 if dtype == "float64" else 2e-5
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


def test_strategy_validation():
    with pytest.raises(ValueError, match="strategy must be one of auto, fused, batched"):
        nnvec.Network([2, 2], strategy="fast")
    with pytest.raises(ValueError, match="use engine='numba'"):
        nnvec.Network([2, 2], engine="numpy", strategy="fused")


@pytest.mark.slow
def test_bench_command_prints_table_and_book_line(tmp_path, capsys):
    out_json = tmp_path / "b.json"
    rc = main(["bench", "--batch-sizes", "10", "--repeats", "1", "--samples", "500",
               "--json", str(out_json)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "FLOPs per epoch at m=10: 0.050 G (0.048 matmul + 0.002 update)" in out
    assert out.count(" 10 ") >= 6  # one row per variant
    assert "book: matrix ~2x faster than per-example; measured here (m=10): column-gather port" in out
    data = json.loads(out_json.read_text())
    variants = {r["variant"] for r in data["records"]}
    assert variants == {"reference", "columns", "numpy", "numba", "numba-f32", "numba-sparse"}
    ref = [r for r in data["records"] if r["variant"] == "reference"][0]
    assert ref["n_samples"] == 500 and ref["median_s"] == np.median(ref["seconds"])
    for r in data["records"]:  # each speedup is the reference's median over its own
        assert r["speedup"] == pytest.approx(ref["median_s"] / np.median(r["seconds"]), rel=1e-12)


def test_bench_rejects_bad_arguments(capsys):
    assert main(["bench", "--repeats", "0"]) == 2
    assert "--repeats must be a positive integer" in capsys.readouterr().err
    assert main(["bench", "--sizes", "100", "10", "--repeats", "1", "--samples", "50"]) == 2
    assert "sizes must start with 784" in capsys.readouterr().err


def test_bench_threads_runs_the_given_argv_in_a_child_not_replacing_the_caller(tmp_path, capsys,
                                                                              monkeypatch):
    from nnvec.cli import main

    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
        monkeypatch.delenv(k, raising=False)
    out = tmp_path / "b.json"
    argv = ["bench", "--threads", "1", "--batch-sizes", "50", "--samples", "500", "--repeats",
            "1", "--dtype", "float64", "--no-baselines", "--json", str(out)]
    assert main(argv) == 0  # returns here: this process was not replaced
    saved = json.loads(out.read_text())
    assert saved["machine"]["numba_threads"] == 1  # the child's pool
    assert saved["command"] == "nnvec " + " ".join(argv)


def test_auto_strategy_is_a_rule_of_shape_and_batch_size():
    from nnvec.config import AUTO_BATCHED_LARGE_M, AUTO_BATCHED_MIN_M
    from nnvec.engine import auto_strategy

    big = [784, 500, 300, 10]  # 150,000 + 3,000 hidden-to-hidden weights
    assert auto_strategy(big, 1000) == auto_strategy(big, AUTO_BATCHED_MIN_M) == "batched"
    assert auto_strategy(big, AUTO_BATCHED_MIN_M - 1) == auto_strategy(big, 100) == "fused"
    for sizes in ([784, 1000, 10], [784, 300, 10]):  # >= 100,000 weights
        assert auto_strategy(sizes, AUTO_BATCHED_LARGE_M) == "batched"
        assert auto_strategy(sizes, AUTO_BATCHED_LARGE_M - 1) == auto_strategy(sizes, 100) == "fused"
    for sizes in ([784, 30, 10], [784, 100, 10], [784, 100, 100, 10]):  # 23,820 to 89,400
        assert auto_strategy(sizes, 1000) == "fused"
    net = nnvec.Network(big)
    assert not net._use_fused(1000) and net._use_fused(100)
    assert nnvec.Network(big, strategy="fused")._use_fused(1000)


@pytest.mark.parametrize("sizes", [[9, 4], [9, 8, 7, 6, 3], [9, 13, 12, 11, 10, 3]])
def test_fused_kernel_trains_any_depth_like_the_reference(sizes):
    # The fused kernel takes the layers packed in flat buffers: every depth,
    # and a read-only input, run the same compiled code.
    rng = np.random.default_rng(4)
    X = rng.random((41, sizes[0]))
    X.flags.writeable = False
    y = rng.integers(0, sizes[-1], 41)
    ref = nnvec.ReferenceNetwork(sizes, seed=3)
    net = nnvec.Network(sizes, seed=3, strategy="fused")
    ref.fit(X, y, epochs=2, batch_size=6, eta=2.0, lmbda=0.3)
    net.fit(X, y, epochs=2, batch_size=6, eta=2.0, lmbda=0.3)
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(net.predict_proba(X), ref.predict_proba(X), rtol=1e-12,
                               atol=1e-13)


def test_one_compiled_kernel_per_dtype_for_every_depth_and_input():
    rng = np.random.default_rng(0)
    for sizes in ([8, 5, 3], [8, 6, 5, 3], [8, 7, 6, 5, 3]):
        for writeable in (True, False):
            X = rng.random((30, 8))
            X.flags.writeable = writeable
            net = nnvec.Network(sizes, seed=0, strategy="fused")
            net.fit(X, np.arange(30) % 3, epochs=1, batch_size=5, eta=1.0)
            net.predict(X)
    for kernel in (_kernels.train_epoch_fused, _kernels.forward_rows_fused,
                   _kernels.train_epoch_fused_v512, _kernels.forward_rows_fused_v512):
        f64 = [s for s in kernel.signatures if "float64" in str(s[0])]
        assert len(f64) <= 1, f64  # the 512-bit twins: only for networks that take them
    assert len(_kernels.train_epoch_fused.signatures) >= 1  # these small networks take it


def test_bench_grid_times_each_shape_and_reports_auto_against_the_best(tmp_path):
    import io

    from nnvec import bench
    from nnvec.plotting import plot_grid

    out = io.StringIO()
    shapes = ([784, 30, 10], [784, 20, 20, 10])
    result = bench.run_grid([10, 50], 1, n_samples=200, shapes=shapes, out=out)
    recs = result["records"]
    assert [(r["sizes"], r["m"]) for r in recs] == [(list(s), m) for s in shapes for m in (10, 50)]
    for r in recs:
        med = r["median_s"]
        assert set(med) == {"auto", "fused", "batched", "numpy"}
        assert med["auto"] == np.median(r["seconds"]["auto"])
        best = min(med["fused"], med["batched"], med["numpy"])
        assert r["auto_vs_best"] == pytest.approx(med["auto"] / best, rel=1e-12)
        assert r["flops_per_sample"] == bench.epoch_flops(r["sizes"], 1, 1)[1]
        assert r["auto_strategy"] == "fused"  # small hidden layers
    bench.report_grid(result, out)
    text = out.getvalue()
    assert "nnvec bench --grid: float64, seconds per epoch of 200 images" in text
    assert "[784, 20, 20, 10]      50" in text
    plot_grid(recs, tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 10_000


def test_bench_grid_refuses_sizes_and_busy(capsys):
    assert main(["bench", "--grid", "--sizes", "784", "30", "10"]) == 2
    assert "--grid times its own network shapes" in capsys.readouterr().err
    assert main(["bench", "--grid", "--busy"]) == 2
    assert "--grid and --busy are separate benchmarks" in capsys.readouterr().err
    assert main(["bench", "--grid", "--dtype", "float32"]) == 2
    assert "--grid times float64 only" in capsys.readouterr().err


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_balanced_order_puts_every_contender_after_every_other_equally_often(n):
    names = [f"v{i}" for i in range(n)]
    rows = n if n % 2 == 0 else 2 * n
    for start in (0, 3):  # any `rows` repeats in a row
        orders = [bench.balanced_order(names, r) for r in range(start, start + rows)]
        assert all(sorted(o) == names for o in orders)
        pairs = [(a, b) for o in orders for a, b in zip(o, o[1:])]
        expect = 1 if n % 2 == 0 else 2
        assert all(pairs.count((a, b)) == expect for a in names for b in names if a != b)
    assert bench.balanced_order({"nnvec": None, "jax": 1}, 1) == ["jax", "nnvec"]
    assert bench.balanced_order([], 3) == [] and bench.balanced_order(["a"], 2) == ["a"]


def test_512_bit_kernels_run_networks_with_a_large_dense_layer():
    from nnvec.config import WIDE_MIN_WEIGHTS
    from nnvec.engine import _fused_kernels

    narrow = (_kernels.train_epoch_fused, _kernels.forward_rows_fused)
    wide = (_kernels.train_epoch_fused_v512, _kernels.forward_rows_fused_v512)
    assert WIDE_MIN_WEIGHTS == 8192
    big = wide if _kernels.AVX512 else narrow
    assert _fused_kernels([784, 30, 10], sparse=False) == big  # 23,520 weights in layer 1
    assert _fused_kernels([784, 10, 11, 10], sparse=False) == narrow  # 7,840 at most
    assert _fused_kernels([784, 30, 10], sparse=True) == narrow  # the chapter-1 network
    assert _fused_kernels([784, 30, 300, 10], sparse=True) == big  # 9,000 in a dense layer


@pytest.mark.skipif(not _kernels.AVX512, reason="the outer-product forward pass is the 512-bit kernels'")
@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs numba's pool of 2 threads")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes, m", [([784, 30, 10], 100), ([784, 100, 10], 100),
                                      ([784, 30, 10], 500), ([784, 300, 100, 10], 500)])
def test_outer_product_forward_pass_trains_like_the_reference_on_any_thread_count(
        mnist, dtype, sizes, m):
    # m >= OUTER_MIN_M: the layers of 784 and 300 inputs run _forward_layer_outer;
    # two threads split their examples (50/50) at m = 100 where the layer is
    # one panel of neurons (30), their neurons (100) where it is more,
    # their examples 250/250 from OUTER_SPLIT_MIN_M on, and the 100-input
    # layer (plain form) by neurons; every output is the same chain either way.
    assert _kernels.OUTER_MIN_M <= 100 < _kernels.OUTER_SPLIT_MIN_M <= 500
    assert 30 <= _kernels.OUTER_VECTORS * 8 < 100  # one panel: 4 vectors of 8 or 16 lanes
    (X, y), _, _ = mnist
    X, y = X[:1000], y[:1000]
    ref = nnvec.ReferenceNetwork(sizes, seed=2)
    ref.fit(X, y, epochs=1, batch_size=m, eta=3.0)
    nets = [nnvec.Network(sizes, seed=2, dtype=dtype, threads=t) for t in (1, 2)]
    for net in nets:
        net.fit(X.astype(dtype), y, epochs=1, batch_size=m, eta=3.0)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for a, b in zip(ref.weights + ref.biases, nets[0].weights + nets[0].biases, strict=True):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)
    for a, b in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        assert np.array_equal(a, b)


def test_run_busy_times_each_setting_and_says_what_the_governor_did():
    import io

    out = io.StringIO()
    records = bench.run_busy([784, 10, 10], [10], repeats=1, n_samples=500, out=out,
                             scenarios=(("quiet", 0, False), ("one core busy", 1, False)))
    assert [r["scenario"] for r in records] == ["quiet", "one core busy"]
    for r in records:
        assert r["n_samples"] == 500 and r["m"] == 10
        assert set(r["median_s"]) >= {"auto", "1"}
        assert all(v > 0 for v in r["median_s"].values())
        best = min(v for k, v in r["median_s"].items() if k != "auto")
        assert r["auto_vs_best"] == pytest.approx(r["median_s"]["auto"] / best)
        for k in ("auto_switches", "auto_probes", "auto_skipped"):
            assert isinstance(r[k], int) and r[k] >= 0
    assert "auto / best fixed" in out.getvalue() and "skipped)" in out.getvalue()

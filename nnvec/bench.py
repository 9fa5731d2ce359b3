"""``nnvec bench``: the engines side by side, in one process, interleaved.

Also the building blocks of the pytest-benchmark files in ``benchmarks/``:
the variants, the FLOP count and the matmul-peak measurement, so both report
the same thing.
"""

import json
import os
import platform
import sys
import time

import numpy as np

from .config import SETTLE_S

#: variant name -> (engine, dtype, strategy); "reference" is the baseline.
VARIANTS = {
    "reference": ("reference", "float64", None),
    "columns": ("columns", "float64", None),
    "numpy": ("numpy", "float64", "batched"),
    "numba": ("numba", "float64", "auto"),
    "numba-f32": ("numba", "float32", "auto"),
    "numba-sparse": ("numba", "float64", "auto"),
}
#: variants that train on ``SparseImages`` (what ``nnvec train`` uses)
SPARSE_VARIANTS = ("numba-sparse",)
#: the two strategies "auto" chooses between, shown with --strategies
STRATEGY_VARIANTS = {
    "numba-fused": ("numba", "float64", "fused"),
    "numba-batched": ("numba", "float64", "batched"),
    "numba-f32-fused": ("numba", "float32", "fused"),
    "numba-f32-batched": ("numba", "float32", "batched"),
}
DESCRIPTIONS = {
    "reference": "per-example loop, the book's algorithm (baseline)",
    "columns": "matrix port, examples as columns, column-wise gather (the book's exercise)",
    "numpy": "nnvec, rows layout, plain numpy",
    "numba": "nnvec, numba (the fused whole-epoch kernel)",
    "numba-f32": "nnvec, numba, float32",
    "numba-sparse": "nnvec, numba, MNIST as SparseImages (zero pixels skipped; nnvec train)",
}


def make_variant(name, sizes, seed=0):
    """A fresh network of the named variant."""
    from .engines import make_network

    engine, dtype, strategy = {**VARIANTS, **STRATEGY_VARIANTS}[name]
    kwargs = {"strategy": strategy} if strategy else {}
    return make_network(sizes, engine=engine, seed=seed, dtype=dtype, **kwargs)


def epoch_flops(sizes, n_samples, m):
    """Floating-point operations of one SGD epoch, counted as in perf-notes.

    Per sample: forward ``2 n_in n_out`` per layer, BP4's gradient the same,
    BP2's ``delta W`` ``2 n_l n_{l+1}`` for every layer but the first. Per
    mini-batch: the update, 2 flops per parameter.
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    per_sample = sum(4 * a * b for a, b in pairs) + sum(2 * a * b for a, b in pairs[1:])
    n_params = sum(a * b + b for a, b in pairs)
    n_batches = -(-n_samples // m)
    matmul = per_sample * n_samples
    update = 2 * n_params * n_batches
    return matmul + update, matmul, update


def matmul_peak(dtype, n=2048, repeats=5):
    """This machine's large-matmul speed (GFLOP/s), numpy's BLAS, median of repeats."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n)).astype(dtype)
    b = rng.random((n, n)).astype(dtype)
    c = np.empty((n, n), dtype)
    np.matmul(a, b, out=c)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / np.median(times) / 1e9


def warm_up(net, X, y, m):
    """Compile (or load from cache) the variant's kernels; return the seconds it took."""
    t = time.perf_counter()
    net.fit(X[:200], y[:200], epochs=1, batch_size=min(m, 200), eta=3.0)
    return time.perf_counter() - t




def time_epoch(net, X, y, m, eta=3.0):
    """Seconds of one training epoch over ``X`` (shuffle and updates, no evaluation)."""
    time.sleep(SETTLE_S)
    hist = net.fit(X, y, epochs=1, batch_size=m, eta=eta)
    return hist.seconds[0]


def balanced_order(items, r):
    """The order of ``items`` for interleaved repeat ``r``: a Williams design.

    In a fixed order every contender runs right after the same neighbour,
    and a neighbour can leave the machine slower for a while: after the numpy
    variant's BLAS-heavy epoch the variant timed next ran 10-30% slower at
    [784, 500, 300, 10], 0.3 s pause or not (and PyTorch's threads left
    nnvec on one thread at m = 1000). Rotating the order does not help (each
    contender keeps its predecessor). Here, in any ``n`` repeats in a row
    (``2 n`` for an odd number ``n`` of items), every contender follows every
    other equally often within a repeat, so no neighbour's after-effect falls
    on one contender only, and the median drops it.
    """
    items = list(items)
    n = len(items)
    if n < 2:
        return items
    base, lo, hi = [0], 1, n - 1
    while len(base) < n:  # 0, 1, n-1, 2, n-2, ...
        base.append(lo)
        lo += 1
        if len(base) < n:
            base.append(hi)
            hi -= 1
    q = r % (n if n % 2 == 0 else 2 * n)
    row = [items[(b + q) % n] for b in base]
    return row if q < n else row[::-1]


def _blas_info():
    info = {}
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info = {"blas": blas.get("name"), "blas_version": blas.get("version")}
    except Exception:  # noqa: BLE001 - informational only
        pass
    return info


def machine_info():
    """What the numbers were measured on."""
    import numba

    from ._threads import numba_pool_size

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "numba": numba.__version__,
        "numba_threads": numba_pool_size(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                               "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                               "NUMBA_NUM_THREADS")},
        **_blas_info(),
    }


def run(sizes, batch_sizes, variants, repeats, n_samples=None, data_dir=None, out=sys.stdout,
        peaks=None):
    """Measure; return a dict of machine info, peaks and one record per (variant, m).

    ``peaks``: the matmul peaks (GFLOP/s per dtype name) if already measured.
    """
    from .mnist import load_mnist

    (X, y), _, _ = load_mnist(data_dir)
    if sizes[0] != X.shape[1] or sizes[-1] != 10:
        raise ValueError(f"bench trains on MNIST: sizes must start with 784 and end with 10; "
                         f"got {list(sizes)}")
    if n_samples is not None:
        X, y = X[:n_samples], y[:n_samples]
    n = len(X)
    data = {"float64": X, "float32": X.astype(np.float32)}
    if any(v in SPARSE_VARIANTS for v in variants):
        data["sparse"] = load_mnist(data_dir, compact=True)[0][0][:n]
    if peaks is None:
        peaks = measure_peaks(out)
    return _run(sizes, batch_sizes, variants, repeats, X, y, data, peaks)


def measure_peaks(out=sys.stdout):
    """The matmul peaks, float64 and float32 (GFLOP/s), printed."""
    peaks = {dt: matmul_peak(np.dtype(dt)) for dt in ("float64", "float32")}
    print(f"matmul peak (numpy BLAS, 2048^3, median of 5): float64 {peaks['float64']:.1f} "
          f"GFLOP/s, float32 {peaks['float32']:.1f} GFLOP/s", file=out)
    return peaks


def _run(sizes, batch_sizes, variants, repeats, X, y, data, peaks):
    """``run`` on loaded data."""
    from .progress import Progress

    n = len(X)

    records = []
    bar = Progress(len(batch_sizes) * repeats, "bench rounds")
    for m in batch_sizes:
        nets, compile_s = {}, {}
        times: dict = {v: [] for v in variants}
        inputs = {}
        for v in variants:
            nets[v] = make_variant(v, sizes)
            inputs[v] = data["sparse" if v in SPARSE_VARIANTS else nets[v].dtype.__name__]
            compile_s[v] = warm_up(nets[v], inputs[v], y, m)
        for r in range(repeats):  # interleaved, so drift hits every variant alike
            for v in balanced_order(variants, r):
                times[v].append(time_epoch(nets[v], inputs[v], y, m))
            bar.update(1, f"m={m}, repeat {r + 1}/{repeats}")
        flops, _, _ = epoch_flops(sizes, n, m)
        base = float(np.median(times["reference"])) if "reference" in times else None
        for v in variants:
            med = float(np.median(times[v]))
            dt = np.dtype(nets[v].dtype).name
            gflops = flops / med / 1e9
            records.append({
                "variant": v, "dtype": dt, "m": m, "sizes": list(sizes), "n_samples": n,
                "seconds": times[v], "median_s": med, "warmup_s": compile_s[v],
                "speedup": None if base is None else base / med,
                "gflops": gflops, "pct_peak": 100 * gflops / peaks[dt],
            })
    bar.close()
    return {"machine": machine_info(), "peaks_gflops": peaks, "records": records,
            "flops_per_epoch": {m: epoch_flops(sizes, n, m) for m in batch_sizes}}


def report(result, out=sys.stdout):
    """Print the table and the line on the book's claim."""
    recs = result["records"]
    sizes = recs[0]["sizes"]
    n = recs[0]["n_samples"]
    print(f"\nnnvec bench: sizes={sizes}, {n} samples per epoch, seconds per epoch = median of "
          f"{len(recs[0]['seconds'])} interleaved repeats", file=out)
    for m, (total, matmul, update) in result["flops_per_epoch"].items():
        print(f"  FLOPs per epoch at m={m}: {total / 1e9:.3f} G ({matmul / 1e9:.3f} matmul + "
              f"{update / 1e9:.3f} update)", file=out)
    head = (f"{'variant':<18} {'dtype':<8} {'m':>5} {'s/epoch':>9} {'speedup':>8} "
            f"{'GFLOP/s':>8} {'%peak':>6} {'warm-up s':>9}")
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in recs:
        sp = "" if r["speedup"] is None else f"{r['speedup']:.1f}x"
        print(f"{r['variant']:<18} {r['dtype']:<8} {r['m']:>5} {r['median_s']:>9.4f} {sp:>8} "
              f"{r['gflops']:>8.1f} {r['pct_peak']:>5.0f}% {r['warmup_s']:>9.2f}", file=out)
    book = [r for r in recs if r["m"] == 10 and r["speedup"] is not None]
    if book:
        parts = []
        for name, label in (("columns", "column-gather port"), ("numba", "nnvec"),
                            ("numba-f32", "nnvec"), ("numba-sparse", "nnvec sparse input")):
            for r in book:
                if r["variant"] == name:
                    suffix = "" if name == "columns" else f" ({r['dtype']})"
                    parts.append(f"{label} {r['speedup']:.1f}x{suffix}")
        print("\nbook: matrix ~2x faster than per-example; measured here (m=10): "
              + ", ".join(parts), file=out)


#: what competes with the timed training in ``nnvec bench --busy``: a name,
#: the number of spinning processes, and whether a second nnvec training runs
BUSY_SCENARIOS = (("quiet", 0, False), ("one core busy", 1, False),
                  ("both cores busy", 2, False), ("two nnvec trainings", 0, True))
_SPIN = "while True: pass"
_RIVAL = (
    "import numpy as np, nnvec\n"
    "rng = np.random.default_rng(1)\n"
    "X = rng.random((5000, {n_in})); y = rng.integers(0, {n_out}, 5000)\n"
    "net = nnvec.Network({sizes}, seed=1)\n"
    "while True:\n"
    "    net.fit(X, y, epochs=1, batch_size={m}, eta=3.0)\n")


def _start_load(n_spin, rival, sizes, m):
    import subprocess

    procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(n_spin)]
    if rival:
        code = _RIVAL.format(n_in=sizes[0], n_out=sizes[-1], sizes=list(sizes), m=m)
        procs.append(subprocess.Popen([sys.executable, "-c", code]))
    time.sleep(1.0 if rival else 0.2)  # let the rival compile (cache) and start training
    return procs


def _stop_load(procs):
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()


def _governor_counts(gov):
    """Switches, probes and probes skipped for want of room, so far (0 without a governor)."""
    return {k: 0 if gov is None else getattr(gov, k) for k in ("switches", "probes", "skipped")}


def run_busy(sizes, batch_sizes, repeats, n_samples=50_000, data_dir=None, out=sys.stdout,
             scenarios=BUSY_SCENARIOS):
    """Time the default thread choice against fixed counts under competing load.

    For each scenario (other processes spinning, or a second nnvec training
    running) and each mini-batch size, times one pass over ``n_samples``
    images with ``threads=None`` (the default) and every fixed count from 1
    to the cores available, interleaved, ``repeats`` times; medians, scaled
    to a 50,000-image epoch. Returns a list of records.
    """
    from ._threads import available_cores, numba_pool_size
    from .engine import Network
    from .mnist import load_mnist

    (X, y), _, _ = load_mnist(data_dir)
    X, y = X[:n_samples], y[:n_samples]
    scale = 50_000 / len(X)

    counts = list(range(1, min(available_cores(), numba_pool_size()) + 1))
    settings = [None] + counts
    from .progress import Progress

    records = []
    bar = Progress(len(scenarios) * len(batch_sizes), "busy scenarios")
    for name, n_spin, rival in scenarios:
        for m in batch_sizes:
            nets = {t: Network(list(sizes), seed=0, threads=t) for t in settings}
            for net in nets.values():  # compile or load kernels before any load starts
                warm_up(net, X, y, m)
            gov = nets[None]._governor
            before = _governor_counts(gov)
            procs = _start_load(n_spin, rival, sizes, m)
            try:
                times: dict = {t: [] for t in settings}
                for r in range(repeats):
                    for t in balanced_order(settings, r):
                        hist = nets[t].fit(X, y, epochs=1, batch_size=m, eta=3.0)
                        times[t].append(hist.seconds[0] * scale)
            finally:
                _stop_load(procs)
            med = {t: float(np.median(v)) for t, v in times.items()}
            best = min(med[t] for t in counts)
            counts_auto = {k: v - before[k] for k, v in _governor_counts(gov).items()}
            records.append({
                "scenario": name, "m": m, "sizes": list(sizes), "n_samples": len(X),
                "seconds": {str(t or "auto"): v for t, v in times.items()},
                "median_s": {str(t or "auto"): v for t, v in med.items()},
                "auto_vs_best": med[None] / best,
                # what the default's governor did in this scenario's timed fits
                **{f"auto_{k}": v for k, v in counts_auto.items()},
            })
            print(f"  {name}, m={m}: auto {med[None]:.3f} s/epoch, "
                  + ", ".join(f"{t} thread{'s' if t > 1 else ''} {med[t]:.3f}" for t in counts)
                  + f"; auto / best fixed = {med[None] / best:.2f} (auto: "
                  + ", ".join(f"{v} {k}" for k, v in counts_auto.items()) + ")",
                  file=out, flush=True)
            bar.update(1, f"{name}, m={m}")
    bar.close()
    return records


def report_busy(records, out=sys.stdout):
    """The ``--busy`` table: seconds per epoch per thread setting, and auto's ratio."""
    if not records:
        return
    keys = list(records[0]["median_s"])
    print(f"\nnnvec bench --busy: sizes={records[0]['sizes']}, seconds per 50,000-image epoch "
          f"(timed on {records[0]['n_samples']} images), median of "
          f"{len(records[0]['seconds']['auto'])} interleaved repeats", file=out)
    head = f"{'scenario':<22} {'m':>5} " + " ".join(f"{k:>9}" for k in keys) + f" {'auto/best':>10}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in records:
        print(f"{r['scenario']:<22} {r['m']:>5} "
              + " ".join(f"{r['median_s'][k]:>9.3f}" for k in keys)
              + f" {r['auto_vs_best']:>10.2f}", file=out)


def run_peers(sizes, batch_sizes, dtypes, repeats, n_samples=None, data_dir=None, out=None,
              mnist=None):
    """Time nnvec (default settings) beside every installed peer, interleaved.

    Returns one record per (dtype, m): medians per contender, the accuracy
    check, and ``lead`` = fastest peer's time / nnvec's time.
    """
    from . import peers
    from .engine import Network
    from .mnist import load_mnist
    from .progress import Progress

    names = peers.available()
    if not names:
        raise ImportError("nnvec bench --peers needs JAX or PyTorch: pip install 'nnvec[peers]'")
    (X, y), _, (X_test, y_test) = mnist if mnist is not None else load_mnist(data_dir)
    if n_samples is not None:
        X, y = X[:n_samples], y[:n_samples]
    n = len(X)
    Y = np.eye(sizes[-1])[y]
    records = []
    bar = Progress(len(dtypes) * len(batch_sizes), "peer workloads")
    for dt in dtypes:
        Xd, Yd = X.astype(dt), Y.astype(dt)
        for m in batch_sizes:
            if n % m:
                raise ValueError(f"--samples {n} is not a multiple of m={m}")
            contenders = {"nnvec": None}
            for name in names:
                if name == "torch":
                    for t in peers.torch_thread_choices():
                        contenders[f"torch-{t}t"] = peers.make_peer("torch", sizes, m, dt, t)
                else:
                    contenders[name] = peers.make_peer(name, sizes, m, dt)
            checks: dict = {}
            for key, peer in contenders.items():
                if peer is None:
                    continue
                peer.load(Xd, Yd)
                checks[key] = peers.check_accuracy(peer, sizes, m, dt, X, Y, X_test, y_test,
                                                   eta=peers.check_eta(m))
            net = Network(list(sizes), seed=0, dtype=dt)
            warm_up(net, Xd, y, m)
            times: dict = {k: [] for k in contenders}
            for r in range(repeats):
                for key in balanced_order(contenders, r):
                    peer = contenders[key]
                    if peer is None:
                        times[key].append(time_epoch(net, Xd, y, m))
                    else:
                        time.sleep(SETTLE_S)
                        times[key].append(peers.time_peer(peer, n))
            med = {k: float(np.median(v)) for k, v in times.items()}
            fastest = min((k for k in med if k != "nnvec"), key=lambda k: med[k])
            rec = {"sizes": list(sizes), "dtype": np.dtype(dt).name, "m": m, "n_samples": n,
                   "seconds": times, "median_s": med, "fastest_peer": fastest,
                   "lead": med[fastest] / med["nnvec"],
                   "accuracy": {k: {"nnvec": c[0], "peer": c[1], "max_weight_diff": c[2],
                                    "early_weight_diff": c[3],
                                    "same_computation": peers.agrees(c, dt)}
                                for k, c in checks.items()}}
            records.append(rec)
            if out is not None:
                print(f"  {np.dtype(dt).name} m={m}: nnvec {med['nnvec']:.3f} s, fastest peer "
                      f"{fastest} {med[fastest]:.3f} s: nnvec {rec['lead']:.2f}x faster",
                      file=out, flush=True)
            bar.update(1, f"{np.dtype(dt).name} m={m}")
    bar.close()
    return records


#: the network shapes ``nnvec bench --grid`` times, small to large
GRID_SHAPES = ([784, 30, 10], [784, 100, 10], [784, 300, 10], [784, 1000, 10],
               [784, 100, 100, 10], [784, 500, 300, 10])
#: nnvec's default, its two strategies, and the plain numpy (BLAS) engine
GRID_VARIANTS = ("numba", "numba-fused", "numba-batched", "numpy")
GRID_LABELS = {"numba": "auto", "numba-fused": "fused", "numba-batched": "batched",
               "numpy": "numpy"}


def run_grid(batch_sizes, repeats, n_samples=10_000, data_dir=None, with_peers=False,
             shapes=GRID_SHAPES, out=sys.stdout):
    """Time nnvec's strategies (and the peers, if asked) over a grid of network shapes.

    Every shape and mini-batch size gets its own interleaved ``run`` (float64;
    seconds are per epoch of ``n_samples`` images); with ``with_peers`` also
    ``run_peers``, whose interleaved nnvec-vs-peer ratio is kept as it is.
    Returns a dict of machine info, peaks and one record per (shape, m).
    """
    from .mnist import load_mnist
    from .progress import Progress

    mnist = load_mnist(data_dir)  # once for every shape
    (X, y), _, _ = mnist
    X, y = X[:n_samples], y[:n_samples]
    peaks = measure_peaks(out)
    records = []
    bar = Progress(len(shapes), "grid shapes")
    for sizes in shapes:
        res = _run(sizes, batch_sizes, list(GRID_VARIANTS), repeats, X, y, {"float64": X},
                   peaks)
        peer_recs = (run_peers(sizes, batch_sizes, ["float64"], repeats, n_samples, data_dir,
                               mnist=mnist) if with_peers else [])
        for m in batch_sizes:
            rs = {r["variant"]: r for r in res["records"] if r["m"] == m}
            med = {GRID_LABELS[v]: rs[v]["median_s"] for v in GRID_VARIANTS}
            best = min(med[k] for k in ("fused", "batched", "numpy"))
            rec = {"sizes": list(sizes), "m": m, "n_samples": rs["numba"]["n_samples"],
                   "flops_per_sample": epoch_flops(sizes, 1, 1)[1],
                   "seconds": {GRID_LABELS[v]: rs[v]["seconds"] for v in GRID_VARIANTS},
                   "median_s": med, "gflops": {GRID_LABELS[v]: rs[v]["gflops"]
                                               for v in GRID_VARIANTS},
                   "pct_peak": rs["numba"]["pct_peak"], "auto_vs_best": med["auto"] / best,
                   "auto_strategy": _auto_strategy(sizes, m)}
            for pr in peer_recs:
                if pr["m"] == m:
                    rec["peers"] = {"fastest": pr["fastest_peer"],
                                    "fastest_s": pr["median_s"][pr["fastest_peer"]],
                                    "nnvec_s": pr["median_s"]["nnvec"], "lead": pr["lead"],
                                    "median_s": pr["median_s"], "accuracy": pr["accuracy"]}
            records.append(rec)
            print(f"  {sizes} m={m}: auto ({rec['auto_strategy']}) {med['auto']:.3f} s, fused "
                  f"{med['fused']:.3f}, batched {med['batched']:.3f}, numpy {med['numpy']:.3f}; "
                  f"auto / best = {rec['auto_vs_best']:.2f}"
                  + (f"; fastest peer {rec['peers']['fastest']}: nnvec "
                     f"{rec['peers']['lead']:.2f}x faster" if "peers" in rec else ""),
                  file=out, flush=True)
        bar.update(1, str(sizes))
    bar.close()
    return {"machine": machine_info(), "peaks_gflops": peaks, "records": records}


def _auto_strategy(sizes, m):
    from .engine import auto_strategy

    return auto_strategy(sizes, m)


def report_grid(result, out=sys.stdout):
    """The ``--grid`` table: seconds per epoch per strategy, GFLOP/s, auto's ratio."""
    recs = result["records"]
    if not recs:
        return
    r0 = recs[0]
    peers = any("peers" in r for r in recs)
    print(f"\nnnvec bench --grid: float64, seconds per epoch of {r0['n_samples']} images, "
          f"median of {len(r0['seconds']['auto'])} interleaved repeats; matmul peak "
          f"{result['peaks_gflops']['float64']:.1f} GFLOP/s", file=out)
    head = (f"{'sizes':<20} {'m':>4} {'MFLOP/img':>9} {'auto':>13} {'fused':>7} {'batched':>7} "
            f"{'numpy':>7} {'auto/best':>9} {'GFLOP/s':>7} {'%peak':>5}"
            + (f"  {'fastest peer':<18} {'lead':>5}" if peers else ""))
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in recs:
        med = r["median_s"]
        auto = f"{med['auto']:.3f} ({r['auto_strategy'][0]})"
        line = (f"{str(r['sizes']):<20} {r['m']:>4} {r['flops_per_sample'] / 1e6:>9.2f} "
                f"{auto:>13} {med['fused']:>7.3f} {med['batched']:>7.3f} {med['numpy']:>7.3f} "
                f"{r['auto_vs_best']:>9.2f} {r['gflops']['auto']:>7.1f} {r['pct_peak']:>4.0f}%")
        if "peers" in r:
            p = r["peers"]
            line += (f"  {p['fastest'] + ' ' + format(p['fastest_s'], '.3f'):<18} "
                     f"{p['lead']:>4.2f}x{_check_mark(p['accuracy'])}")
        print(line, file=out)
    print("auto: (f)used or (b)atched, as nnvec chose; auto/best = auto's time / the fastest of "
          "fused, batched and numpy", file=out)
    if peers:
        print("lead = fastest peer's time / nnvec's, timed interleaved in --peers' own run; "
              + CHECK_LEGEND, file=out)


#: what the marks after a peer result mean
CHECK_LEGEND = ("* = a peer's test accuracy after the one-epoch check differs from nnvec's by "
                "more than 1 point while their weights after the first mini-batches agree "
                "(chaotic training); ! = those weights differ: not the same computation")


def _check_mark(accuracy):
    """'' (agrees), ' *' (accuracy differs, early weights agree) or ' !' (weights differ)."""
    from .peers import ACCURACY_TOLERANCE

    if any(a.get("same_computation") is False for a in accuracy.values()):
        return " !"
    if any(abs(a["peer"] - a["nnvec"]) > ACCURACY_TOLERANCE for a in accuracy.values()):
        return " *"
    return ""


def report_peers(records, out):
    """The ``--peers`` table: seconds per epoch, accuracy check, nnvec's lead."""
    from .peers import EARLY_BATCHES

    if not records:
        return
    keys = list(records[0]["median_s"])
    r0 = records[0]
    print(f"\nnnvec bench --peers: sizes={r0['sizes']}, seconds per epoch of {r0['n_samples']} "
          f"images, median of {len(r0['seconds']['nnvec'])} interleaved repeats", file=out)
    head = (f"{'dtype':<8} {'m':>5} " + " ".join(f"{k:>9}" for k in keys)
            + f" {'lead':>6}  accuracy after 1 epoch (nnvec / peers)")
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in records:
        acc = r["accuracy"]
        first = next(iter(acc.values()))["nnvec"] if acc else float("nan")
        accs = " ".join(f"{a['peer']:.4f}" for a in acc.values())
        early = max((a.get("early_weight_diff", float("nan")) for a in acc.values()),
                    default=float("nan"))
        print(f"{r['dtype']:<8} {r['m']:>5} " + " ".join(f"{r['median_s'][k]:>9.4f}" for k in keys)
              + f" {r['lead']:>5.2f}x  {first:.4f} / {accs}{_check_mark(acc)}"
              f"  (weights after {EARLY_BATCHES} mini-batches within {early:.1e})", file=out)
    print("lead = the fastest peer's time / nnvec's (above 1: nnvec is faster); " + CHECK_LEGEND,
          file=out)


def add_parser(sub):
    """Register the ``bench`` subcommand."""
    p = sub.add_parser("bench", help="time one training epoch per engine; speedups and %% of peak")
    p.add_argument("--sizes", type=int, nargs="+", default=None,
                   help="network shape (default 784 30 10; --grid times its own shapes)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                   help="mini-batch sizes (default 1 10 100 1000; with --grid 10 100)")
    p.add_argument("--dtype", nargs="+", choices=["float64", "float32"],
                   default=None, help="nnvec dtypes to time (default: both; --grid: float64)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved repeats; medians (default 5)")
    p.add_argument("--samples", type=int, default=None,
                   help="time epochs over the first N training images (default: all 50,000)")
    p.add_argument("--busy", action="store_true",
                   help="instead: the default thread choice vs fixed counts with other "
                        "processes competing for the cores (quiet, one busy, both busy, "
                        "two nnvec trainings)")
    p.add_argument("--peers", action="store_true",
                   help="instead: nnvec beside JAX and PyTorch implementations of the same "
                        "epoch (whichever is installed: the peers extra), accuracy-checked")
    p.add_argument("--grid", action="store_true",
                   help="instead: nnvec's strategies and numpy over a grid of network shapes "
                        "(float64, --samples default 10,000; with --peers, the peers too)")
    p.add_argument("--strategies", action="store_true",
                   help="also time the numba fused and batched strategies separately")
    p.add_argument("--no-baselines", action="store_true",
                   help="skip the reference and column variants (no speedups then)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS and numba threads (sets OPENBLAS/OMP/NUMBA_NUM_THREADS and re-runs)")
    p.add_argument("--json", default=None, metavar="FILE", help="write all timings as JSON")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="plot speedup vs mini-batch size")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=main, check=check_args)


def _rerun_with_threads(threads, argv):
    """Exit status of ``nnvec *argv`` run in a child with every pool sized to
    ``threads``, or None when this process already is that child."""
    import subprocess

    env = dict(os.environ)
    want = str(threads)
    if all(env.get(k) == want for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                         "NUMBA_NUM_THREADS")):
        return None
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[k] = want
    # Thread pools are sized when numpy and numba load, which has happened here;
    # a child process (not exec, which would replace a caller's process).
    return subprocess.run([sys.executable, "-m", "nnvec", *argv], env=env).returncode


def _run_mode(args, out, key, measure, report_fn):
    """Run one of the ``--peers``/``--busy`` benchmarks, print its table, keep its JSON."""
    t0 = time.perf_counter()
    records = measure()
    report_fn(records, out)
    print(f"(bench took {time.perf_counter() - t0:.0f} s)", file=out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_info(), "command": "nnvec " + " ".join(args.argv),
                       "date": time.strftime("%Y-%m-%d"), key: records}, f, indent=1)
        print(f"Wrote {args.json}", file=out)
    return 0


def _report_and_save(args, out, result, t0, report_fn):
    """Stamp ``result`` with the command and date, print its table, write ``--json``."""
    result["command"] = "nnvec " + " ".join(args.argv)
    result["date"] = time.strftime("%Y-%m-%d")
    report_fn(result, out)
    print(f"(bench took {time.perf_counter() - t0:.0f} s)", file=out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, default=str)
        print(f"Wrote {args.json}", file=out)


def _run_grid(args, out):
    t0 = time.perf_counter()
    result = run_grid(args.batch_sizes, args.repeats, args.samples or 10_000, args.data_dir,
                      args.peers, out=out)
    _report_and_save(args, out, result, t0, report_grid)
    if args.plot:
        from .plotting import plot_grid

        plot_grid(result["records"], args.plot)
        print(f"Wrote {args.plot}", file=out)
    return 0


def check_args(args):
    """Every check that needs no data or timing; raises ValueError/ImportError."""
    from . import _validation as V

    if args.peers:
        from .peers import available

        if not available():
            raise ImportError("--peers needs JAX or PyTorch installed: pip install 'nnvec[peers]'")
        if args.busy:
            raise ValueError("--peers and --busy are separate benchmarks; give one")
    if args.grid and args.busy:
        raise ValueError("--grid and --busy are separate benchmarks; give one")

    if args.grid and args.sizes is not None:
        raise ValueError("--grid times its own network shapes (nnvec.bench.GRID_SHAPES); "
                         "drop --sizes, or drop --grid to time one shape")
    if args.grid and args.dtype is not None:
        raise ValueError("--grid times float64 only; drop --dtype")
    if args.dtype is None:
        args.dtype = ["float64", "float32"]
    if args.sizes is None:
        args.sizes = [784, 30, 10]
    if args.batch_sizes is None:
        args.batch_sizes = [10, 100] if args.grid else [1, 10, 100, 1000]
    if args.threads is not None:
        V.check_positive_int(args.threads, "--threads")
    V.check_positive_int(args.repeats, "--repeats")
    for m in args.batch_sizes:
        V.check_positive_int(m, "--batch-sizes")
    if args.samples is not None:
        V.check_positive_int(args.samples, "--samples")
    if args.peers:  # the peers' epochs take whole mini-batches: refuse now, not minutes in
        n = args.samples or (10_000 if args.grid else 50_000)
        for m in args.batch_sizes:
            if n % m:
                raise ValueError(f"--peers times epochs of whole mini-batches: {n} samples is "
                                 f"not a multiple of m={m}; choose --samples accordingly")
    sizes = V.check_sizes(args.sizes)
    if sizes[0] != 784 or sizes[-1] != 10:
        raise ValueError(f"bench trains on MNIST: sizes must start with 784 and end with 10; "
                         f"got {list(sizes)}")
    if args.json:
        V.check_output_file(args.json, "--json")
    if args.plot:
        from .plotting import require_matplotlib

        V.check_output_file(args.plot, "--plot")
        require_matplotlib()  # a missing matplotlib should fail now, not after minutes of timing


def main(args, out=sys.stdout):
    """Run ``nnvec bench`` (arguments checked by ``check_args``); return the exit status."""
    if args.threads is not None:
        rc = _rerun_with_threads(args.threads, args.argv)
        if rc is not None:
            return rc
    if args.grid:
        return _run_grid(args, out)
    if args.peers:
        return _run_mode(args, out, "peers", lambda: run_peers(
            args.sizes, args.batch_sizes, args.dtype, args.repeats, args.samples,
            args.data_dir, out), report_peers)
    if args.busy:
        return _run_mode(args, out, "busy", lambda: run_busy(
            args.sizes, args.batch_sizes, args.repeats, args.samples or 50_000, args.data_dir,
            out), report_busy)
    variants = [] if args.no_baselines else ["reference", "columns"]
    if "float64" in args.dtype:
        variants += ["numpy", "numba", "numba-sparse"]
    if "float32" in args.dtype:
        variants += ["numba-f32"]
    if args.strategies:
        variants += [v for v in STRATEGY_VARIANTS
                     if STRATEGY_VARIANTS[v][1] in args.dtype]
    t0 = time.perf_counter()
    result = run(args.sizes, args.batch_sizes, variants, args.repeats, args.samples,
                 args.data_dir, out)
    _report_and_save(args, out, result, t0, report)
    if args.plot:
        from .plotting import plot_speedups

        speedups: dict = {}
        for r in result["records"]:
            if r["speedup"] is not None and r["variant"] != "reference":
                speedups.setdefault(f"{r['variant']}", []).append(r["speedup"])
        plot_speedups(args.batch_sizes, speedups, args.plot,
                      title=f"speedup over the per-example loop, {args.sizes}")
        print(f"Wrote {args.plot}", file=out)
    return 0

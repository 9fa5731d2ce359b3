"""Hyper-parameter sweeps: a grid of training runs, side by side.

Chapter 3 of the book is about choosing eta, lambda, the mini-batch size,
the epochs and the hidden layer; each choice is a few independent training
runs. ``sweep`` runs the grid's trials in parallel:

- ``workers=N`` (default: the core count): local worker processes
  (``concurrent.futures``, started with ``spawn``);
- ``scheduler="local"``: a ``dask.distributed.LocalCluster`` started for the
  run (the ``dask`` extra);
- ``scheduler="tcp://host:port"``: an existing Dask cluster.

Each trial trains on the training split (or its first ``subset`` images) and
is scored on the validation split; the test set is used once, by the parent,
to report the winner. Each worker process loads MNIST once (``_worker_data``
keeps it), not once per trial.

Threads: trials side by side must not oversubscribe the cores (two-thread
kernels on a shared core stall at every barrier). Local workers and the
LocalCluster's get ``NUMBA_NUM_THREADS`` (and the BLAS thread variables) set
to their share of the cores before numba starts in them, and each trial's
network is given that share. On an existing cluster nnvec cannot set the
environment; each trial then takes ``cores // tasks-per-worker`` threads.

The parent compiles (or loads) the kernels before any worker starts, so
workers only read numba's cache; nothing is compiled by several processes at
once.
"""

import contextlib
import itertools
import json
import multiprocessing
import os
import signal
import socket
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from . import _validation as V
from ._threads import available_cores, numba_pool_size
from .engine import Network
from .network import NonFiniteWeightsError

#: environment variables that size a process's thread pools
THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS")


def make_grid(*, hidden=(30,), eta=(3.0,), lmbda=(0.0,), batch_size=(10,), epochs=30,
              cost="quadratic", init="large", seeds=(0,)):
    """Every combination of the given values, as a list of trial dicts.

    Returns
    -------
    list of dict with keys ``id, hidden, eta, lmbda, batch_size, epochs, cost,
    init, seed``.
    """
    trials = []
    for i, (h, e, l, m, s) in enumerate(itertools.product(hidden, eta, lmbda, batch_size,
                                                          seeds)):
        trials.append({"id": i, "hidden": int(h), "eta": float(e), "lmbda": float(l),
                       "batch_size": int(m), "epochs": int(epochs), "cost": cost,
                       "init": init, "seed": int(s)})
    return trials


def check_grid(trials):
    """Build each trial's network once, so bad values fail before any work starts.

    Raises
    ------
    ValueError, TypeError
        Naming the bad value.
    """
    if not trials:
        raise ValueError("the grid is empty: give at least one value per option")
    for t in trials:
        Network([784, t["hidden"], 10], cost=t["cost"], init=t["init"], seed=t["seed"])
        V.check_positive_float(t["eta"], "eta")
        V.check_nonneg_float(t["lmbda"], "lmbda")
        V.check_positive_int(t["batch_size"], "batch_size")
        V.check_positive_int(t["epochs"], "epochs")


# ------------------------------------------------------------ in a worker
_DATA: dict = {}
_LOADS = [0]  # how many times this process has loaded MNIST (recorded per trial)


def _worker_data(data_dir, subset):
    """Training (first ``subset``) and validation splits, loaded once per process."""
    key = (data_dir, subset)
    if key not in _DATA:
        from .mnist import load_mnist

        (X, y), (X_val, y_val), _ = load_mnist(data_dir)
        if subset is not None:
            X, y = X[:subset], y[:subset]
        _DATA.clear()  # one data set per worker is plenty
        _DATA[key] = (X, y, X_val, y_val)
        _LOADS[0] += 1
    return _DATA[key]


def _where():
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _threads_here(threads):
    if threads is None:  # an existing Dask cluster: share by the worker's task slots
        try:
            from distributed import get_worker

            slots = get_worker().state.nthreads
        except (ImportError, ValueError, AttributeError):
            slots = 1
        threads = max(1, available_cores() // max(1, slots))
    threads = min(threads, numba_pool_size())
    # The whole machine to one trial: let the governor choose by measurement.
    return None if threads >= available_cores() else threads


def run_trial(trial, subset=None, data_dir=None, threads=None):
    """Train one trial; return its record (never raises for a failed run).

    Returns
    -------
    dict: the trial's parameters plus ``status`` ("ok", "diverged" or
    "crashed"), ``validation_accuracy`` (per epoch, fraction), ``best_epoch``,
    ``best_accuracy``, ``seconds`` (training), ``load_seconds``, ``worker``, ``threads`` and, when ok,
    ``params`` (the best epoch's biases and weights; not written to JSON).
    """
    t0 = time.perf_counter()
    rec = dict(trial, worker=_where(), status="ok", error=None, validation_accuracy=[],
               best_epoch=None, best_accuracy=None)
    try:
        X, y, X_val, y_val = _worker_data(data_dir, subset)
        rec["load_seconds"] = time.perf_counter() - t0  # 0 but for a worker's first trial
        t0 = time.perf_counter()
        rec["data_loads"] = _LOADS[0]
        rec["numba_pool"] = numba_pool_size()
        rec["threads"] = _threads_here(threads)
        rec["n_training"] = len(X)
        net = Network([X.shape[1], trial["hidden"], 10], cost=trial["cost"],
                      init=trial["init"], seed=trial["seed"], threads=rec["threads"])
        hist = net.fit(X, y, epochs=trial["epochs"], batch_size=trial["batch_size"],
                       eta=trial["eta"], lmbda=trial["lmbda"], validation_data=(X_val, y_val),
                       restore_best=True)
        acc = [a / hist.n_evaluation for a in hist.evaluation_accuracy]
        rec.update(validation_accuracy=acc, best_epoch=int(np.argmax(acc)),
                   best_accuracy=float(max(acc)), params=(net.biases, net.weights))
    except NonFiniteWeightsError as exc:
        rec.update(status="diverged", error=str(exc))
    except Exception as exc:  # a crashed trial is recorded; the sweep goes on
        rec.update(status="crashed", error=f"{type(exc).__name__}: {exc}",
                   traceback=traceback.format_exc(limit=5))
    rec["seconds"] = time.perf_counter() - t0
    return rec


# ------------------------------------------------------------ in the parent
def _warm_kernels(trials):
    """Compile (or load from cache) every kernel the trials need, here, first."""
    rng = np.random.default_rng(0)
    X = rng.random((40, 784))
    y = rng.integers(0, 10, 40)
    for cost in sorted({t["cost"] for t in trials}):
        for threads in sorted({1, min(2, numba_pool_size())}):
            net = Network([784, 16, 10], cost=cost, seed=0, threads=threads)
            net.fit(X, y, epochs=1, batch_size=10, eta=0.1, validation_data=(X, y))


@contextlib.contextmanager
def _thread_env(n):
    """Set the thread-pool variables in os.environ for processes started inside."""
    old = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: str(n) for k in THREAD_VARS})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _public(rec):
    return {k: v for k, v in rec.items() if k != "params"}


def _write_json(path, payload):
    """Atomically replace ``path`` (temp file in the same directory, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def rank(records):
    """Finished trials, best validation accuracy first (then faster first)."""
    ok = [r for r in records if r["status"] == "ok"]
    return sorted(ok, key=lambda r: (-r["best_accuracy"], r["seconds"]))


class SweepResult:
    """What a sweep produced: ``records`` (every trial, finished order),
    ``ranked`` (ok trials, best first), ``winner``, ``test_accuracy`` (the
    winner's, on the test set, measured once), ``interrupted``, ``seconds``."""

    def __init__(self, records, winner, test_accuracy, interrupted, seconds, setup):
        self.records = records
        self.ranked = rank(records)
        self.winner = winner
        self.test_accuracy = test_accuracy
        self.interrupted = interrupted
        self.seconds = seconds
        self.setup = setup

    def to_dict(self):
        return {"setup": self.setup, "seconds": self.seconds, "interrupted": self.interrupted,
                "winner": None if self.winner is None else self.winner["id"],
                "winner_test_accuracy": self.test_accuracy,
                "trials": [_public(r) for r in self.records]}


def sweep(trials, *, subset=None, workers=None, scheduler=None, data_dir=None, out_dir=None,
          progress=False, on_record=None):
    """Run every trial; return a ``SweepResult``.

    Parameters
    ----------
    trials : list of dict
        From ``make_grid``.
    subset : int, optional
        Train each trial on the first ``subset`` training images.
    workers : int, optional
        Worker processes (default: the core count); with
        ``scheduler="local"``, the LocalCluster's workers.
    scheduler : None, "local" or "tcp://host:port"
        None: local processes; "local": a Dask LocalCluster; an address: an
        existing Dask cluster.
    data_dir : path, optional
        MNIST directory (default: the bundled copy); must exist on workers.
    out_dir : path, optional
        Writes ``sweep.json`` after every finished trial (atomically), and
        ``sweep.png`` at the end when matplotlib is installed.
    progress : bool
        A progress bar (plain lines when stderr is not a terminal).
    on_record : callable, optional
        Called with each finished trial's record.

    Raises
    ------
    ValueError, TypeError
        Bad grid values or options, before anything runs.
    KeyboardInterrupt
        After writing every finished trial to ``sweep.json``.
    """
    check_grid(trials)
    if subset is not None and (not isinstance(subset, int) or subset < 1):
        raise ValueError(f"subset must be a positive number of images; got {subset!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int; got {workers!r}")
    if scheduler not in (None, "local") and not str(scheduler).startswith(("tcp://", "tls://")):
        raise ValueError(f"scheduler must be 'local' or an address such as "
                         f"tcp://host:8786; got {scheduler!r}")
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
    cores = available_cores()
    n_workers = workers or cores
    setup = {"scheduler": scheduler or "processes", "workers": n_workers, "subset": subset,
             "cores": cores, "n_trials": len(trials)}
    records: list = []
    t0 = time.perf_counter()

    def save():
        if out_dir is not None:
            res = SweepResult(records, None, None, False, time.perf_counter() - t0, setup)
            _write_json(out_dir / "sweep.json", res.to_dict())

    bar = None
    if progress:
        from .progress import Progress

        bar = Progress(len(trials), "trials")
    interrupted = False
    try:
        with _executor(scheduler, n_workers, cores, trials) as (submit, share):
            futures = [submit(t, subset, data_dir, share) for t in trials]
            for rec in _as_completed(futures, scheduler):
                records.append(rec)
                save()
                if on_record is not None:
                    on_record(rec)
                if bar is not None:
                    note = (f"best so far {max(r['best_accuracy'] for r in rank(records)):.4f}"
                            if rank(records) else "")
                    bar.update(1, note)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    ranked = rank(records)
    winner = ranked[0] if ranked else None
    # The test set is touched once, for the winner of a finished sweep only.
    test_acc = None if winner is None or interrupted else _test_accuracy(winner, data_dir)
    result = SweepResult(records, winner, test_acc, interrupted, time.perf_counter() - t0, setup)
    if out_dir is not None:
        _write_json(out_dir / "sweep.json", result.to_dict())
        if not interrupted:
            with contextlib.suppress(ImportError):
                plot_sweep(result, out_dir / "sweep.png")
    if interrupted:
        raise KeyboardInterrupt(result)
    return result


def _test_accuracy(winner, data_dir):
    from .mnist import load_mnist

    _, _, (X_test, y_test) = load_mnist(data_dir)
    biases, weights = winner["params"]
    net = Network([w.shape[1] for w in weights] + [weights[-1].shape[0]], cost=winner["cost"],
                  seed=0)
    net._set_params(([b.copy() for b in biases], [w.copy() for w in weights]))
    return net.accuracy(X_test, y_test)


@contextlib.contextmanager
def _executor(scheduler, n_workers, cores, trials):
    """Yield ``(submit, threads_per_trial)`` for the chosen machinery."""
    share = max(1, cores // n_workers)
    if scheduler is None:
        _warm_kernels(trials)
        ctx = multiprocessing.get_context("spawn")
        # Workers start inside _thread_env, so numba sizes its pool to the share.
        with _thread_env(share):
            pool = ctx.Pool(n_workers, initializer=_ignore_sigint)
        try:
            yield (lambda *a: pool.apply_async(run_trial, a)), share
        except BaseException:
            pool.terminate()  # Ctrl-C: running trials are dropped, finished ones kept
            raise
        else:
            pool.close()
        finally:
            pool.join()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("--scheduler needs Dask: pip install 'nnvec[dask]'") from None
    if scheduler == "local":
        _warm_kernels(trials)
        env = {k: str(share) for k in THREAD_VARS}
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, host="127.0.0.1", env=env) as cluster, \
                Client(cluster) as client:
            yield (lambda *a: client.submit(run_trial, *a, pure=False)), share
        return
    with Client(scheduler) as client:
        yield (lambda t, s, d, _share: client.submit(run_trial, t, s, d, None, pure=False)), None


def _ignore_sigint():
    # Ctrl-C in a terminal signals every process of the group: the parent
    # handles it (keeps finished trials, stops the pool); workers must not
    # turn it into failed trials.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _as_completed(futures, scheduler):
    if scheduler is None:
        pending = list(futures)
        while pending:
            done = [f for f in pending if f.ready()]
            if not done:
                pending[0].wait(0.05)
                continue
            for f in done:
                pending.remove(f)
                yield f.get()
    else:
        from distributed import as_completed

        for f in as_completed(futures):
            yield f.result()


def format_table(result, top=None):
    """The ranked table (ok trials, then diverged or crashed ones) as text."""
    lines = [f"{'rank':>4} {'hidden':>6} {'eta':>8} {'lmbda':>8} {'m':>4} {'seed':>4} "
             f"{'best val':>8} {'epoch':>5} {'seconds':>7}  worker"]
    for i, r in enumerate(result.ranked[:top] if top else result.ranked, 1):
        lines.append(f"{i:>4} {r['hidden']:>6} {r['eta']:>8g} {r['lmbda']:>8g} "
                     f"{r['batch_size']:>4} {r['seed']:>4} {r['best_accuracy']:>8.4f} "
                     f"{r['best_epoch']:>5} {r['seconds']:>7.1f}  {r['worker']}")
    for r in result.records:
        if r["status"] != "ok":
            lines.append(f"   - {r['hidden']:>6} {r['eta']:>8g} {r['lmbda']:>8g} "
                         f"{r['batch_size']:>4} {r['seed']:>4} {r['status']}: {r['error']}")
    return "\n".join(lines)


def plot_sweep(result, path):
    """Best validation accuracy over eta (x) and lambda (lines), one panel per hidden size."""
    from .plotting import new_figure

    hiddens = sorted({r["hidden"] for r in result.records})
    fig = new_figure((4.2 * len(hiddens), 3.6), 1, len(hiddens))
    axes = fig.axes
    for ax, h in zip(axes, hiddens):
        lmbdas = sorted({r["lmbda"] for r in result.records if r["hidden"] == h})
        for lm in lmbdas:
            pts: dict = {}
            for r in result.ranked:
                if r["hidden"] == h and r["lmbda"] == lm:
                    pts.setdefault(r["eta"], []).append(100 * r["best_accuracy"])
            if pts:
                etas = sorted(pts)
                ax.plot(etas, [np.mean(pts[e]) for e in etas], marker="o", label=f"lmbda={lm:g}")
        ax.set_xscale("log")
        ax.set_xlabel("eta")
        ax.set_title(f"hidden = {h}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("best validation accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# ------------------------------------------------------------ command line
def add_parser(sub):
    """Register the ``sweep`` subcommand."""
    p = sub.add_parser("sweep", help="hyper-parameter grid on validation accuracy, in parallel "
                                     "(local processes or a Dask cluster)")
    p.add_argument("--hidden", type=int, nargs="+", default=[30], help="hidden-layer widths")
    p.add_argument("--eta", type=float, nargs="+", default=[0.5, 3.0])
    p.add_argument("--lmbda", type=float, nargs="+", default=[0.0])
    p.add_argument("--batch-size", type=int, nargs="+", default=[10])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--cost", choices=["quadratic", "cross-entropy"], default="quadratic")
    p.add_argument("--init", choices=["large", "default"], default="large")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--subset", type=int, default=None, metavar="N",
                   help="train each trial on the first N training images (the book's quick "
                        "searches)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: the core count)")
    where.add_argument("--scheduler", default=None, metavar="local|tcp://HOST:PORT",
                       help="'local': start a Dask LocalCluster; an address: use that cluster")
    p.add_argument("--out", default="results/sweep", help="directory for sweep.json, sweep.png")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=main, check=check_args)


def _grid_from(args):
    return make_grid(hidden=args.hidden, eta=args.eta, lmbda=args.lmbda,
                     batch_size=args.batch_size, epochs=args.epochs, cost=args.cost,
                     init=args.init, seeds=args.seeds)


def check_args(args):
    """Every check that needs no training; raises ValueError/ImportError/FileNotFoundError."""
    check_grid(_grid_from(args))
    if args.subset is not None:
        V.check_positive_int(args.subset, "--subset")
    if args.workers is not None:
        V.check_positive_int(args.workers, "--workers")
    if args.scheduler is not None and args.scheduler != "local":
        if not args.scheduler.startswith(("tcp://", "tls://")):
            raise ValueError(f"--scheduler must be 'local' or tcp://HOST:PORT; "
                             f"got {args.scheduler!r}")
    if args.scheduler is not None:
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            raise ImportError("--scheduler needs Dask: pip install 'nnvec[dask]'")
    V.check_output_dir(args.out, "--out")
    from .mnist import find_data_dir

    find_data_dir(args.data_dir)


def main(args, out):
    """Run ``nnvec sweep`` (arguments checked by ``check_args``); return the exit status."""
    import sys

    trials = _grid_from(args)
    out_dir = Path(args.out)
    n_workers = args.workers or available_cores()
    where = {None: f"{n_workers} local worker process{'es' if n_workers > 1 else ''}",
             "local": f"a Dask LocalCluster of {n_workers} workers"}.get(
        args.scheduler, f"the Dask cluster at {args.scheduler}")
    print(f"nnvec sweep: {len(trials)} trials on {where}"
          f"{f', first {args.subset} training images' if args.subset else ''}; "
          f"scored on the 10,000 validation images", file=out, flush=True)
    try:
        result = sweep(trials, subset=args.subset, workers=args.workers,
                       scheduler=args.scheduler, data_dir=args.data_dir, out_dir=out_dir,
                       progress=True)
    except KeyboardInterrupt as exc:
        result = exc.args[0] if exc.args and isinstance(exc.args[0], SweepResult) else None
        n = 0 if result is None else len(result.records)
        print(f"\nInterrupted: {n} finished trials kept in {out_dir / 'sweep.json'}",
              file=sys.stderr)
        if result is not None and result.ranked:
            print(format_table(result), file=out)
        return 130
    print(format_table(result), file=out)
    if result.winner is not None:
        w = result.winner
        print(f"Winner: hidden={w['hidden']} eta={w['eta']:g} lmbda={w['lmbda']:g} "
              f"m={w['batch_size']} seed={w['seed']}: validation {w['best_accuracy']:.4f} "
              f"(epoch {w['best_epoch']}); test accuracy (measured once, now): "
              f"{result.test_accuracy:.4f}", file=out)
    else:
        print("No trial finished: see the errors above.", file=out)
    print(f"Sweep took {result.seconds:.1f} s; wrote {out_dir / 'sweep.json'}"
          f"{' and sweep.png' if (out_dir / 'sweep.png').exists() else ''}", file=out)
    return 0 if result.winner is not None else 1

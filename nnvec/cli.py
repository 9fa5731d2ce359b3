"""The ``nnvec`` command line: train, evaluate, bench, reproduce."""

import argparse
import gc
import sys
import time

import numpy as np

from .checkpoint import CheckpointError
from .mnist import MNISTFormatError
from .modelfile import ModelFileError
from .network import NonFiniteWeightsError
from .training import TrainingInterrupted


def _add_train_args(p):
    p.add_argument("--sizes", type=int, nargs="+", default=[784, 30, 10],
                   help="layer widths, input first (default: 784 30 10)")
    p.add_argument("--epochs", type=int, default=30, help="default: 30")
    p.add_argument("--batch-size", type=int, default=10, help="mini-batch size m (default: 10)")
    p.add_argument("--eta", type=float, default=3.0, help="learning rate (default: 3.0)")
    p.add_argument("--seed", type=int, default=None, help="seed for initialisation and shuffling")
    p.add_argument("--engine", choices=["numba", "numpy", "reference", "columns"],
                   default="numba", help="default: numba")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--cost", choices=["quadratic", "cross-entropy"], default="quadratic")
    p.add_argument("--init", choices=["large", "default"], default="large",
                   help="large: N(0,1) weights (chapter 1); default: N(0,1/n_in) (chapter 3)")
    p.add_argument("--lmbda", type=float, default=0.0, help="L2 regularisation (default: 0)")
    p.add_argument("--early-stopping", type=int, default=0, metavar="N",
                   help="stop after N epochs without a better validation accuracy")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for the numba engine (default: NUMBA_NUM_THREADS or all cores)")
    p.add_argument("--data-dir", default=None, help="directory with the MNIST IDX .gz files")
    p.add_argument("--save", default=None, metavar="MODEL", help="save the trained model (.npz)")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="plot test accuracy per epoch")
    p.add_argument("--checkpoint", default=None, metavar="FILE",
                   help="write the run's whole state to FILE after every epoch (atomically)")
    p.add_argument("--resume", default=None, metavar="FILE",
                   help="continue the run saved in FILE, with its settings (an option that "
                        "differs from them is an error); keeps checkpointing to FILE unless "
                        "--checkpoint says otherwise")


#: train options that define a run, and the checkpoint settings they are saved as
_RUN_SETTINGS = {"sizes": "sizes", "epochs": "epochs", "batch_size": "batch_size", "eta": "eta",
                 "seed": "network_seed", "engine": "engine", "dtype": "dtype", "cost": "cost",
                 "init": "init", "lmbda": "lmbda", "early_stopping": "early_stopping_n",
                 "threads": "threads"}
_UNSET = object()


def _explicit_train_options(argv):
    """The dests of the train options the user typed (not left at their defaults)."""
    p = argparse.ArgumentParser(add_help=False)
    _add_train_args(p)
    probe = argparse.Namespace(**{dest: _UNSET for dest in _RUN_SETTINGS})
    p.parse_known_args(argv[argv.index("train") + 1:], namespace=probe)
    return {dest for dest, v in vars(probe).items() if v is not _UNSET and dest in _RUN_SETTINGS}


def _apply_resume(args):
    """Take the run's settings from the ``--resume`` checkpoint; refuse typed differences."""
    from .checkpoint import CheckpointError, read

    meta, _ = read(args.resume)
    saved = meta["settings"]
    diffs = []
    for dest in sorted(_explicit_train_options(args.argv)):
        key = _RUN_SETTINGS[dest]
        if key in saved and getattr(args, dest) != saved[key]:
            flag = "--" + dest.replace("_", "-")
            diffs.append(f"{flag} {getattr(args, dest)} (the checkpoint has {saved[key]})")
    if diffs:
        raise CheckpointError(
            f"--resume {args.resume}: a resumed run keeps its settings, but "
            + "; ".join(diffs) + ". Drop these options, or start a new run without --resume.")
    for dest, key in _RUN_SETTINGS.items():
        if key in saved:
            setattr(args, dest, saved[key])
    if args.checkpoint is None:
        args.checkpoint = args.resume


def _build_parser(command=None):
    """The command line's parser; for ``command`` "train" or "evaluate", without
    the other commands' modules (bench, reproduce, sweep: 10-15 ms of imports
    that the book's run does not need)."""
    parser = argparse.ArgumentParser(
        prog="nnvec", description="Train Nielsen's networks on MNIST with matrix backprop.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train on the bundled MNIST (default: the book's chapter-1 run)")
    _add_train_args(p)
    p.set_defaults(func=_train, check=_check_train)
    p = sub.add_parser("evaluate", help="accuracy of a saved model on the MNIST test set")
    p.add_argument("model")
    p.add_argument("--validation", action="store_true", help="also report validation accuracy")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=_evaluate)
    if command in ("train", "evaluate"):
        return parser
    from . import bench, reproduce, sweep

    bench.add_parser(sub)
    reproduce.add_parser(sub)
    sweep.add_parser(sub)
    return parser


def _check_train(args):
    """Every check that needs no data: hyper-parameters, output paths, extras."""
    from . import _validation as V
    from .engines import make_network

    if args.resume:
        _apply_resume(args)
    V.check_positive_int(args.epochs, "--epochs")
    V.check_positive_int(args.batch_size, "--batch-size")
    V.check_positive_float(args.eta, "--eta")
    V.check_nonneg_float(args.lmbda, "--lmbda")
    V.check_nonneg_int(args.early_stopping, "--early-stopping")
    if args.threads is not None and args.engine != "numba":
        raise ValueError("--threads applies to --engine numba only")
    extra = {} if args.threads is None else {"threads": args.threads}
    make_network(args.sizes, engine=args.engine, seed=args.seed, dtype=args.dtype,
                 cost=args.cost, init=args.init, **extra)  # sizes, seed, threads
    if args.sizes[0] != 784 or args.sizes[-1] != 10:
        raise ValueError(f"--sizes {' '.join(map(str, args.sizes))}: MNIST needs 784 inputs "
                         "(28x28 pixels) first and 10 outputs (digits) last")
    if args.save:
        V.check_output_file(args.save, "--save")
    if args.checkpoint:
        V.check_output_file(args.checkpoint, "--checkpoint")
    if args.plot:
        from .plotting import require_matplotlib

        V.check_output_file(args.plot, "--plot")
        require_matplotlib()  # fail on a missing matplotlib before training, not after


def _train(args, out):
    from .engines import make_network
    from .mnist import load_mnist

    t_start = time.perf_counter()
    # compact: the images as stored, non-zero pixels only (nnvec.sparse), so
    # the run holds 28 MB of data instead of 440 MB of float64
    training, validation, test = load_mnist(args.data_dir, dtype=np.dtype(args.dtype),
                                            compact=True)
    if not args.early_stopping:
        del validation  # only early stopping watches it: do not hold it
    t_load = time.perf_counter() - t_start
    extra = {} if args.threads is None else {"threads": args.threads}
    net = make_network(args.sizes, engine=args.engine, seed=args.seed, dtype=args.dtype,
                       cost=args.cost, init=args.init, **extra)
    print(f"nnvec: {net!r}, engine={args.engine}, epochs={args.epochs}, "
          f"mini_batch_size={args.batch_size}, eta={args.eta:g}, lmbda={args.lmbda:g}, "
          f"seed={args.seed}; data loaded in {t_load:.2f} s", file=out)
    run = {"checkpoint": args.checkpoint, "resume": args.resume or False}
    if args.resume:
        print(f"Resuming the run saved in {args.resume}", file=out)
    try:
        if args.early_stopping:
            # Early stopping watches validation data; test data stays untouched until the end.
            hist = net.SGD(training, args.epochs, args.batch_size, args.eta, lmbda=args.lmbda,
                           evaluation_data=validation, monitor_evaluation_accuracy=True,
                           early_stopping_n=args.early_stopping, **run)
        else:
            hist = net.SGD(training, args.epochs, args.batch_size, args.eta, lmbda=args.lmbda,
                           test_data=test, **run)
    except TrainingInterrupted as exc:
        _interrupted(args, net, exc, out)
        return 130
    if args.early_stopping:
        test_counts = None
        final_test = net.evaluate(test)
    else:
        test_counts = hist.evaluation_accuracy
        final_test = test_counts[-1]
    total = time.perf_counter() - t_start
    n_test = len(test[0])
    sec = np.array(hist.seconds)
    print(f"Summary: {hist.epochs} epochs, training {sec.sum():.2f} s "
          f"(median {np.median(sec):.3f} s per epoch, first {sec[0]:.3f} s"
          f"{' incl. JIT compilation' if args.engine == 'numba' else ''}), "
          f"total wall time {total:.2f} s", file=out)
    if test_counts:
        best = int(np.argmax(test_counts))
        print(f"Best test accuracy: {test_counts[best]} / {n_test} = "
              f"{100 * test_counts[best] / n_test:.2f}% (epoch {best}); final: "
              f"{final_test} / {n_test} = {100 * final_test / n_test:.2f}%", file=out)
    else:
        print(f"Best validation accuracy: {max(hist.evaluation_accuracy)} / "
              f"{hist.n_evaluation} (epoch {hist.best_epoch}); test accuracy: "
              f"{final_test} / {n_test} = {100 * final_test / n_test:.2f}%", file=out)
    if args.save:
        path = net.save(args.save)
        print(f"Saved model to {path}", file=out)
    if args.plot:
        from .plotting import plot_learning_curves

        counts = test_counts or hist.evaluation_accuracy
        label = "test" if test_counts else "validation"
        plot_learning_curves({f"{args.engine} seed={args.seed}": [100 * c / (
            n_test if test_counts else hist.n_evaluation) for c in counts]},
            args.plot, title=f"nnvec {args.sizes} eta={args.eta:g} ({label} accuracy)")
        print(f"Wrote {args.plot}", file=out)
    return 0


def _interrupted(args, net, exc, out):
    """Ctrl-C: say where training stopped and keep what it had finished."""
    done = exc.epochs_completed
    print(f"Interrupted: {done} of {args.epochs} epochs completed; the network holds the "
          f"parameters after epoch {done - 1}" if done else
          "Interrupted before the first epoch completed; the network is as initialised",
          file=out)
    if args.checkpoint:
        print(f"Checkpoint {args.checkpoint} holds the same state; continue with: "
              f"nnvec train --resume {args.checkpoint}", file=out)
    if args.save:
        path = net.save(args.save)
        print(f"Saved model to {path}", file=out)


def _evaluate(args, out):
    from .mnist import load_mnist
    from .modelfile import load

    net = load(args.model)
    training, validation, test = load_mnist(args.data_dir, dtype=net.dtype, compact=True)
    n = net.evaluate(test)
    print(f"{args.model}: {net!r}", file=out)
    print(f"Test accuracy: {n} / {len(test[0])} = {100 * n / len(test[0]):.2f}%", file=out)
    if args.validation:
        v = net.evaluate(validation)
        print(f"Validation accuracy: {v} / {len(validation[0])} = "
              f"{100 * v / len(validation[0]):.2f}%", file=out)
    return 0


def run() -> int:
    """The ``nnvec`` command (and ``python -m nnvec``): ``main()``, then the process ends."""
    status = main()
    # Ending, the interpreter's last garbage collections walk every object
    # numba made (about 100,000): 0.4-0.5 s of a 6 s chapter-1 run on a
    # 2-vCPU EPYC. Frozen, they are left to the OS with the rest of the memory.
    gc.freeze()
    return status


def main(argv=None):
    """Run the command line; return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    args.argv = argv  # what was asked, for re-runs and for the records
    out = sys.stdout
    # 1. What the user typed: checked before any data is loaded or anything
    #    trains; a mistake is one line and exit status 2.
    check = getattr(args, "check", None)
    try:
        if check is not None:
            check(args)
    except (ValueError, TypeError, ImportError, FileNotFoundError) as exc:
        print(f"nnvec {args.command}: error: {exc}", file=sys.stderr)
        return 2
    # 2. The run. Missing or damaged data and model files are the user's to
    #    fix (one line, 2); a diverged run is a result (one line, 1); anything
    #    else is a bug in nnvec and keeps its traceback.
    try:
        return args.func(args, out)
    except (FileNotFoundError, MNISTFormatError, ModelFileError, CheckpointError) as exc:
        print(f"nnvec {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except NonFiniteWeightsError as exc:
        print(f"nnvec {args.command}: {exc}", file=sys.stderr)
        return 1

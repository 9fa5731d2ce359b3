"""The epoch loop, shared by ``fit`` and the book's ``SGD``.

``train`` validates the hyper-parameters, assembles the callbacks (what
happens around an epoch: monitoring, printed lines, early stopping and the
eta schedule, progress, checkpoints; see ``nnvec.callbacks``), optionally
resumes from a checkpoint, and runs epochs. The engines supply only
``_train_epoch`` (one epoch of mini-batches in a given order).

Ctrl-C: an epoch is a transaction. If SIGINT arrives while an epoch trains,
its parameters and the shuffling generator are put back to where the epoch
started; if it arrives while the epoch's results are recorded (monitoring,
callbacks, the checkpoint), that bookkeeping finishes first (it is bounded:
one forward pass per data set and one file write). Callbacks with an
``on_interrupt(net, hist)`` hook then run (the checkpoint writer saves the
restored state, so the file matches the network). Either way ``fit``/``SGD``
raise ``TrainingInterrupted`` (a ``KeyboardInterrupt``) with the network
holding the parameters of the last completed epoch and ``net.history``
matching them.
"""

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _validation as V
from . import checkpoint as ckpt
from .callbacks import EarlyStopping, EpochPrinter, Monitor
from .history import History

MONITORED = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training; the network holds the last completed epoch.

    Attributes
    ----------
    epochs_completed : int
    history : History, matching the network's parameters
    """

    def __init__(self, epochs_completed, history):
        super().__init__(f"training interrupted after {epochs_completed} completed epochs")
        self.epochs_completed = epochs_completed
        self.history = history


@dataclass
class Run:
    """What the loop and its callbacks share while training."""

    net: Any
    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray
    evaluation: tuple | None
    m: int
    eta: float
    lmbda: float
    epochs: int
    rng: np.random.Generator
    history: History
    settings: dict
    callbacks: list = field(default_factory=list)
    epoch: int = 0  #: epochs completed
    stop: bool = False  #: set by a callback to end training after this epoch
    completed: bool = False  #: the loop ended normally (not by an error or Ctrl-C)

    @property
    def n(self):
        return len(self.X)


class _SigintGuard:
    """Defers Ctrl-C while an epoch's results are recorded.

    Only in the main thread (the only one Python delivers signals to) and
    only when SIGINT has Python's default handler, so a caller's own handler
    is never replaced.
    """

    def __init__(self):
        self.active = (threading.current_thread() is threading.main_thread()
                       and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        self.pending = False

    def _record(self, signum, frame):
        self.pending = True

    @contextlib.contextmanager
    def deferred(self):
        if not self.active:
            yield
            return
        signal.signal(signal.SIGINT, self._record)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def train(net, X, Y, labels, *, epochs, m, eta, lmbda=0.0, evaluation=None, seed=None,
          early_stopping_n=0, restore_best=False, halve_eta=False, monitor=(),
          out=None, style="monitor", callbacks=(), progress=False, checkpoint=None,
          resume=False, batch_name="batch_size"):
    """Train ``net`` on validated rows; the one loop behind ``fit`` and ``SGD``.

    ``monitor``: names from ``MONITORED`` to record per epoch. ``out``: where
    the per-epoch lines go (None: nowhere), in ``style`` ("book" or
    "monitor"). ``checkpoint``: path written after every epoch. ``resume``:
    False, True (resume from ``checkpoint``) or the path of a checkpoint to
    resume from. Other parameters as in ``BaseNetwork.fit``.
    """
    epochs = V.check_positive_int(epochs, "epochs")
    m = V.check_positive_int(m, batch_name)
    eta = V.check_positive_float(eta, "eta")
    lmbda = V.check_nonneg_float(lmbda, "lmbda")
    early_stopping_n = V.check_nonneg_int(early_stopping_n, "early_stopping_n")
    if seed is not None:
        seed = V.check_nonneg_int(seed, "seed")
    stopping = bool(early_stopping_n or restore_best or halve_eta)
    if stopping and evaluation is None:
        raise ValueError(
            "early stopping, restore_best and halve_eta watch validation accuracy; "
            "pass validation_data (fit) or evaluation_data (SGD)")
    if halve_eta and not early_stopping_n:
        raise ValueError("halve_eta needs early_stopping_n >= 1: the number of epochs "
                         "without improvement before eta is halved")
    monitor = set(monitor)
    if not monitor <= set(MONITORED):
        raise ValueError(f"monitor names must be among {', '.join(MONITORED)}; "
                         f"got {sorted(monitor - set(MONITORED))}")
    if stopping:
        monitor.add("evaluation_accuracy")
    if evaluation is None:
        monitor -= {"evaluation_cost", "evaluation_accuracy"}
    resume_from = _resume_path(resume, checkpoint)
    if checkpoint is not None:
        V.check_output_file(checkpoint, "checkpoint")

    n = len(X)
    hist = History(n_training=n, n_evaluation=0 if evaluation is None else len(evaluation[0]))
    settings = {"epochs": epochs, "batch_size": m, "eta": eta, "lmbda": lmbda, "seed": seed,
                "early_stopping_n": early_stopping_n, "restore_best": bool(restore_best),
                "halve_eta": bool(halve_eta), "monitor": sorted(monitor)}
    rng = net._rng if seed is None else np.random.default_rng(seed)
    run = Run(net, X, Y, labels, evaluation, m, eta, lmbda, epochs, rng, hist, settings)
    if checkpoint is not None or resume_from is not None:
        run.settings = dict(settings, **net._checkpoint_settings(), **_data_settings(run))

    cbs: list = [Monitor(monitor)]
    if out is not None:
        cbs.append(EpochPrinter(style, out))
    cbs.extend(callbacks)
    if stopping:
        cbs.append(EarlyStopping(early_stopping_n, halve_eta=halve_eta,
                                 restore_best=restore_best, out=out))
    if progress:
        from .progress import Progress

        cbs.append(Progress(epochs, "epochs"))
    if checkpoint is not None:
        cbs.append(ckpt.CheckpointWriter(checkpoint))
    run.callbacks = cbs
    if resume_from is not None:
        ckpt.restore(resume_from, run, cbs)
    net.hyperparameters = {"epochs": epochs, "mini_batch_size": m, "eta": eta,
                           "lmbda": lmbda, "n_training": n,
                           "early_stopping_n": early_stopping_n}
    return _loop(run, cbs)


def _resume_path(resume, checkpoint):
    if resume is False or resume is None:
        return None
    if resume is True:
        if checkpoint is None:
            raise ValueError("resume=True continues from the checkpoint file; pass "
                             "checkpoint=PATH (or resume=PATH)")
        return checkpoint
    if isinstance(resume, (str, bytes)) or hasattr(resume, "__fspath__"):
        return resume
    raise TypeError(f"resume must be False, True or a checkpoint path; got {resume!r}")


def _data_settings(run):
    """What identifies the data a checkpoint was trained on."""
    dtype = run.net.dtype
    d = {"n_training": run.n, "training_sha256": ckpt.fingerprint(run.X, run.Y, dtype=dtype)}
    if run.evaluation is not None:
        d["n_evaluation"] = len(run.evaluation[0])
        d["evaluation_sha256"] = ckpt.fingerprint(*run.evaluation[:2], dtype=dtype)
    return d


def _loop(run, callbacks):
    net, hist, rng = run.net, run.history, run.rng
    guard = _SigintGuard()
    snapshot = None  # (params, rng state) at the start of the epoch in progress
    try:
        net._prepare_training(run.X, run.Y, run.m)
        for cb in callbacks:
            if hasattr(cb, "on_train_begin"):
                cb.on_train_begin(run)
        while run.epoch < run.epochs and not run.stop:
            epoch = run.epoch
            snapshot = (net._copy_params(), rng.bit_generator.state)
            t0 = time.perf_counter()
            perm = rng.permutation(run.n)
            # A diverging run overflows inside the epoch; _check_finite turns
            # that into one clear error naming the epoch instead of warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                net._train_epoch(run.X, run.Y, perm, run.m, run.eta, run.lmbda)
            seconds = time.perf_counter() - t0
            with guard.deferred():
                net._check_finite(epoch, run.eta)
                snapshot = None
                hist.seconds.append(seconds)
                hist.eta.append(run.eta)
                run.epoch += 1
                for cb in callbacks:
                    cb.on_epoch_end(net, epoch, hist)
            if guard.pending:
                raise KeyboardInterrupt
        run.completed = True
    except KeyboardInterrupt:
        with guard.deferred():  # a second Ctrl-C must not cut the rollback short
            if snapshot is not None:
                net._set_params(snapshot[0])
                rng.bit_generator.state = snapshot[1]
            net.history = hist
            for cb in callbacks:
                if hasattr(cb, "on_interrupt"):
                    cb.on_interrupt(net, hist)
        raise TrainingInterrupted(run.epoch, hist) from None
    finally:
        net._finish_training()
        for cb in callbacks:
            if hasattr(cb, "on_train_end"):
                cb.on_train_end(net, hist)
    net.history = hist
    return hist

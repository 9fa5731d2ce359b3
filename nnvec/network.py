"""Parameters and the forward pass, shared by every engine.

``BaseNetwork`` holds a network's parameters (one layout everywhere:
``weights[l].shape == (n_out, n_in)``, ``biases[l]`` one per neuron), draws
them, runs the forward pass, predicts, scores, and computes gradients. Its
``fit`` and ``SGD`` are front ends over the epoch loop in ``nnvec.training``.
The engines (``nnvec.engine.Network``, ``nnvec.reference.ReferenceNetwork``,
``nnvec.columns.ColumnNetwork``) subclass it and supply only how one epoch of
mini-batches is trained and how a mini-batch gradient is computed, so from one
seed they start from the same weights and see the same mini-batches in the
same order: the only difference between them is the one the book describes,
one example at a time versus the whole mini-batch matrix.
"""

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import _validation as V
from . import modelfile
from ._data import as_arrays
from .activations import sigmoid
from .costs import cost_name, get_cost
from .history import History, SGDResult
from .sparse import SparseImages
from .training import train

__all__ = ["BaseNetwork", "NonFiniteWeightsError", "init_params", "History"]


class NonFiniteWeightsError(FloatingPointError):
    """Training produced NaN or inf weights (the run diverged)."""


def init_params(sizes: Sequence[int], rng: np.random.Generator, init: str = "large",
                dtype: DTypeLike = np.float64) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Draw ``(biases, weights)`` for ``sizes`` from ``rng``.

    ``init="large"`` is chapter 1's N(0, 1) for weights and biases;
    ``init="default"`` is chapter 3's N(0, 1/n_in) weights (std
    ``1/sqrt(n_in)``) with N(0, 1) biases. Values are drawn in float64 (biases
    first, then weights, layer by layer) and then cast, so float32 and float64
    networks from one seed start from the same numbers.

    Returns
    -------
    biases : list of ndarray, ``biases[l].shape == (sizes[l+1],)``
    weights : list of ndarray, ``weights[l].shape == (sizes[l+1], sizes[l])``
    """
    biases = [rng.standard_normal(n_out).astype(dtype) for n_out in sizes[1:]]
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((n_out, n_in))
        if init == "default":
            w /= np.sqrt(n_in)
        weights.append(np.ascontiguousarray(w, dtype=dtype))
    return biases, weights


def _cost_label(cost):
    return getattr(cost, "name", None) or getattr(cost, "__name__", type(cost).__name__)


class BaseNetwork:
    """Parameters and the training loop shared by all engines (see module doc)."""

    #: engine name, for output and model files
    engine = "base"
    #: whether the engine trains and predicts on ``SparseImages`` as they are
    #: (else they are made dense at the edge)
    _sparse_input = False

    def __init__(self, sizes: Sequence[int], *, cost: Any = "quadratic", init: str = "large",
                 seed: int | None = None, dtype: DTypeLike = np.float64) -> None:
        self.sizes = V.check_sizes(sizes)
        self.num_layers = len(self.sizes)
        self.dtype = V.check_dtype(dtype)
        self.cost = get_cost(cost)
        self.init = V.check_init(init)
        if seed is not None:
            V.check_nonneg_int(seed, "seed")
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.biases, self.weights = init_params(self.sizes, self._rng, self.init, self.dtype)
        self.history: History | None = None
        self.hyperparameters: dict[str, Any] = {}

    def __repr__(self):
        return (f"{type(self).__name__}(sizes={list(self.sizes)}, cost={_cost_label(self.cost)!r}, "
                f"init={self.init!r}, dtype={np.dtype(self.dtype).name})")

    # --------------------------------------------------------------- forward
    def _forward_rows(self, X):
        """Output activations for validated rows ``X`` (n_samples, n_in)."""
        if isinstance(X, SparseImages):  # dense a block at a time
            return np.concatenate([
                self._forward_rows(X.toarray(self.dtype, np.arange(s, min(len(X), s + 4096))))
                for s in range(0, len(X), 4096)])
        a = X
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(a @ w.T + b)
        return a

    def feedforward(self, a: ArrayLike) -> np.ndarray:
        """Output of the network for one input or a batch.

        Parameters
        ----------
        a : ndarray of shape (n_in, 1), (n_in,) or (n_samples, n_in)
            A book column vector, a single sample, or samples as rows.

        Returns
        -------
        ndarray of shape (n_out, 1), (n_out,) or (n_samples, n_out), matching
        the input's form.

        Raises
        ------
        ValueError
            If the width does not match ``sizes[0]`` or ``a`` holds NaN/inf.
        """
        arr = np.asarray(a)
        n_in = self.sizes[0]
        if arr.ndim == 2 and arr.shape == (n_in, 1) and n_in != 1:
            return self._forward_rows(V.check_X(arr.T, n_in, self.dtype, "a")).T
        if arr.ndim == 1:
            return self._forward_rows(V.check_X(arr[None, :], n_in, self.dtype, "a"))[0]
        return self._forward_rows(V.check_X(arr, n_in, self.dtype, "a"))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Output activations, shape (n_samples, n_out); rows are samples."""
        return self._forward_rows(self._check_X(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted labels (argmax of the output layer), shape (n_samples,), int64."""
        return np.argmax(self.predict_proba(X), axis=1).astype(np.int64)

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float:
        """Fraction of samples whose predicted label equals ``y``."""
        Xv = self._check_X(X)
        _, labels = V.check_targets(y, len(Xv), self.sizes[-1], self.dtype)
        return float(np.mean(np.argmax(self._forward_rows(Xv), axis=1) == labels))

    def evaluate(self, test_data: Any) -> int:
        """Number of test inputs classified correctly, as in the book.

        ``test_data`` is the book's list of ``(x, label)`` or ``(X, y)`` arrays.
        """
        X, _, labels = self._as_arrays(test_data, "test_data")
        return self._count_correct(X, labels)

    def _count_correct(self, X, labels, outputs=None):
        a = self._forward_rows(X) if outputs is None else outputs
        return int(np.sum(np.argmax(a, axis=1) == labels))

    def _monitor(self, X, Y, labels, lmbda, want_cost, want_accuracy, costs, accuracies):
        """Append cost and/or accuracy on ``X``, from one forward pass."""
        if not (want_cost or want_accuracy):
            return
        a = self._forward_rows(X)
        if want_cost:
            costs.append(self._total_cost(X, Y, lmbda, outputs=a))
        if want_accuracy:
            accuracies.append(self._count_correct(X, labels, outputs=a))

    def total_cost(self, data: Any, lmbda: float = 0.0) -> float:
        """Mean cost over ``data`` plus the L2 term ``lmbda/(2n) * sum ||w||^2``."""
        X, Y, _ = self._as_arrays(data, "data")
        lmbda = V.check_nonneg_float(lmbda, "lmbda")
        return self._total_cost(X, Y, lmbda)

    def _total_cost(self, X, Y, lmbda, outputs=None):
        a = self._forward_rows(X) if outputs is None else outputs
        c = self.cost.fn(a, Y) / len(X)
        if lmbda:
            c += 0.5 * (lmbda / len(X)) * sum(float(np.sum(np.square(w, dtype=np.float64)))
                                              for w in self.weights)
        return c

    # -------------------------------------------------------------- gradient
    def backprop(self, x: ArrayLike, y: ArrayLike) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradient of one example's cost, the book's ``backprop(x, y)``.

        Parameters
        ----------
        x : ndarray of shape (n_in, 1)
        y : ndarray of shape (n_out, 1), the desired output (one-hot for MNIST)

        Returns
        -------
        (nabla_b, nabla_w) : lists shaped like ``(biases, weights)``
        """
        x = np.asarray(x)
        y = np.asarray(y)
        n_in, n_out = self.sizes[0], self.sizes[-1]
        if x.shape not in ((n_in, 1), (n_in,)):
            raise ValueError(f"x must have shape ({n_in}, 1); got {x.shape}")
        if y.shape not in ((n_out, 1), (n_out,)):
            raise ValueError(f"y must have shape ({n_out}, 1); got {y.shape}")
        X = V.check_X(x.reshape(1, n_in), n_in, self.dtype, "x")
        Y = V.check_X(y.reshape(1, n_out), n_out, self.dtype, "y")
        return self._backprop_batch(X, Y)

    def backprop_batch(self, X: ArrayLike,
                       Y: ArrayLike) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradient of the cost summed over a mini-batch.

        Parameters
        ----------
        X : ndarray of shape (m, n_in)
        Y : ndarray of shape (m, n_out), desired outputs (one-hot), or labels (m,)

        Returns
        -------
        (nabla_b, nabla_w) : lists shaped like ``(biases, weights)``; sums,
        not means, over the m examples (the book's convention).
        """
        Xv = V.check_X(X, self.sizes[0], self.dtype)
        Yv, _ = V.check_targets(Y, len(Xv), self.sizes[-1], self.dtype, name="Y")
        return self._backprop_batch(Xv, Yv)

    def update_mini_batch(self, X: ArrayLike, Y: ArrayLike, eta: float, lmbda: float = 0.0,
                          n: int | None = None) -> None:
        """One gradient-descent step on the mini-batch ``(X, Y)``.

        ``w <- (1 - eta*lmbda/n) w - (eta/m) nabla_w``; ``b <- b - (eta/m) nabla_b``.
        ``n`` (training-set size, for L2) defaults to ``m``.
        """
        Xv = V.check_X(X, self.sizes[0], self.dtype)
        Yv, _ = V.check_targets(Y, len(Xv), self.sizes[-1], self.dtype, name="Y")
        eta = V.check_positive_float(eta, "eta")
        lmbda = V.check_nonneg_float(lmbda, "lmbda")
        n = len(Xv) if n is None else V.check_positive_int(n, "n")
        nabla_b, nabla_w = self._backprop_batch(Xv, Yv)
        self._apply_update(nabla_b, nabla_w, eta, lmbda, n, len(Xv))

    def _apply_update(self, nabla_b, nabla_w, eta, lmbda, n, m):
        decay = 1.0 - eta * lmbda / n
        for w, nw in zip(self.weights, nabla_w):
            if decay != 1.0:
                w *= decay
            w -= (eta / m) * nw
        for b, nb in zip(self.biases, nabla_b):
            b -= (eta / m) * nb

    # ------------------------------------------------------- engine hooks
    def _backprop_batch(self, X, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _train_epoch(self, X, Y, perm, m, eta, lmbda):  # pragma: no cover - abstract
        raise NotImplementedError

    # -------------------------------------------------------------- training
    def _check_X(self, X, name="X"):
        return V.check_X(X, self.sizes[0], self.dtype, name, sparse_ok=self._sparse_input)

    def _as_arrays(self, data, name):
        return as_arrays(data, name, self.sizes[0], self.sizes[-1], self.dtype,
                         sparse_ok=self._sparse_input)

    def fit(self, X: ArrayLike, y: ArrayLike, *, epochs: int, batch_size: int, eta: float,
            lmbda: float = 0.0, validation_data: Any = None, seed: int | None = None,
            early_stopping_n: int = 0, restore_best: bool = False, halve_eta: bool = False,
            monitor_training: bool = False, verbose: bool = False, progress: bool = False,
            callbacks: Sequence[Any] = (), checkpoint: str | os.PathLike | None = None,
            resume: bool | str | os.PathLike = False) -> History:
        """Train on samples as rows; the array API.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or ``SparseImages``
        y : array-like of shape (n_samples,) integer labels in 0..n_out-1, or
            (n_samples, n_out) one-hot targets
        epochs : int >= 1
        batch_size : int >= 1, the mini-batch size m
        eta : float > 0, learning rate
        lmbda : float >= 0, L2 strength (book convention: decay ``1 - eta*lmbda/n``)
        validation_data : (X_val, y_val), optional; accuracy and cost are
            recorded per epoch
        seed : int, optional; seeds the shuffle (default: the network's own
            generator, so ``Network(seed=s)`` alone makes a run reproducible)
        early_stopping_n : int >= 0; stop after this many epochs without a new
            best validation accuracy (0: never). Needs ``validation_data``.
        restore_best : bool; on stopping or finishing, restore the weights of
            the best validation epoch
        halve_eta : bool; instead of stopping, halve eta after
            ``early_stopping_n`` epochs without improvement, and stop once eta
            falls below eta/128 (the book's schedule)
        monitor_training : bool; also record training cost and accuracy
        verbose : bool; print a line per epoch
        progress : bool; a progress bar per epoch on stderr when it is a
            terminal (tqdm, the ``progress`` extra), plain lines otherwise
        callbacks : sequence of objects with ``on_epoch_end(net, epoch, hist)``
            and optionally ``on_train_begin(run)`` and ``on_train_end(net,
            hist)`` (see ``nnvec.callbacks``): called after every epoch
            (history already updated), and at the start and the end, the end
            even when training stops with an error or Ctrl-C
        checkpoint : path, optional; after every epoch the whole state of the
            run (parameters, shuffling generator, epoch, eta, early stopping,
            history, settings) is written there atomically (``nnvec.checkpoint``)
        resume : bool or path; True continues the run saved in ``checkpoint``
            (a path: the run saved there). The network, hyper-parameters and
            data must be the checkpoint's; the result is bit-identical to a
            run never interrupted.

        Returns
        -------
        History

        Raises
        ------
        ValueError
            Wrong shapes, labels out of range, NaN/inf in X, mismatched lengths,
            empty data, non-positive epochs/batch_size/eta, negative lmbda,
            early stopping without validation data, an unwritable checkpoint
            path.
        TypeError
            Non-numeric data or hyper-parameters of the wrong type.
        FileNotFoundError, nnvec.checkpoint.CheckpointError
            When resuming: no such checkpoint, an unreadable one, or one whose
            settings or data differ (the message names each difference).
        NonFiniteWeightsError
            If the weights become NaN or inf; the message names the epoch.
        nnvec.training.TrainingInterrupted
            On Ctrl-C (a ``KeyboardInterrupt``): the network holds the
            parameters of the last completed epoch and ``history`` matches.
        """
        Xv = self._check_X(X)
        Y, labels = V.check_targets(y, len(Xv), self.sizes[-1], self.dtype)
        evaluation = None
        if validation_data is not None:
            evaluation = self._as_arrays(validation_data, "validation_data")
        monitor = []
        if evaluation is not None:
            monitor += ["evaluation_cost", "evaluation_accuracy"]
        if monitor_training:
            monitor += ["training_cost", "training_accuracy"]
        return train(self, Xv, Y, labels, epochs=epochs, m=batch_size, eta=eta, lmbda=lmbda,
                     evaluation=evaluation, seed=seed, early_stopping_n=early_stopping_n,
                     restore_best=restore_best, halve_eta=halve_eta, monitor=monitor,
                     out=sys.stdout if verbose else None, callbacks=callbacks,
                     progress=progress, checkpoint=checkpoint, resume=resume)

    def SGD(self, training_data: Any, epochs: int, mini_batch_size: int, eta: float,
            lmbda: float = 0.0, evaluation_data: Any = None,
            monitor_evaluation_cost: bool = False, monitor_evaluation_accuracy: bool = False,
            monitor_training_cost: bool = False, monitor_training_accuracy: bool = False,
            early_stopping_n: int = 0, test_data: Any = None, *,
            checkpoint: str | os.PathLike | None = None,
            resume: bool | str | os.PathLike = False) -> SGDResult:
        """Mini-batch stochastic gradient descent, with the book's signature.

        Accepts chapter 1's ``SGD(training_data, epochs, mini_batch_size, eta,
        test_data=None)`` and chapter 3's monitoring arguments. Data may be the
        book's lists of ``(x, y)`` or ``(X, y)`` arrays. With ``test_data``
        (chapter 1) it prints ``Epoch j: N / n_test`` after each epoch, else
        ``Epoch j complete``; with chapter 3's arguments, its block of
        monitored values. Never shuffles or modifies the caller's data.
        ``checkpoint`` and ``resume`` are as in ``fit``.

        Returns
        -------
        SGDResult
            A tuple ``(evaluation_cost, evaluation_accuracy, training_cost,
            training_accuracy)`` like the book's ``network2.SGD`` (unpack,
            index, slice, compare it as one); ``.history`` is the full
            ``History``, whose attributes (``seconds``, ``best_epoch`` ...)
            it also answers. With ``test_data`` the per-epoch test counts are
            in ``evaluation_accuracy``.

        Raises
        ------
        ValueError, TypeError, NonFiniteWeightsError, TrainingInterrupted
            As ``fit``.
        """
        X, Y, labels = self._as_arrays(training_data, "training_data")
        flags = (monitor_evaluation_cost, monitor_evaluation_accuracy,
                 monitor_training_cost, monitor_training_accuracy)
        chapter1 = evaluation_data is None and not any(flags)
        monitor = [name for name, on in zip(
            ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy"),
            flags) if on]
        if test_data is not None and evaluation_data is None:
            evaluation_data = test_data
            monitor.append("evaluation_accuracy")
        evaluation = None
        if evaluation_data is not None:
            evaluation = self._as_arrays(evaluation_data, "evaluation_data")
        return SGDResult(train(
            self, X, Y, labels, epochs=epochs, m=mini_batch_size, eta=eta, lmbda=lmbda,
            evaluation=evaluation, early_stopping_n=early_stopping_n, monitor=monitor,
            out=sys.stdout, style="book" if chapter1 else "monitor",
            checkpoint=checkpoint, resume=resume, batch_name="mini_batch_size"))

    def _checkpoint_settings(self):
        """What a checkpoint records about the network (and resuming must match)."""
        return {"engine": self.engine, "sizes": list(self.sizes), "cost": cost_name(self.cost),
                "init": self.init, "dtype": np.dtype(self.dtype).name, "network_seed": self.seed}

    def _check_finite(self, epoch, eta):
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise NonFiniteWeightsError(
                    f"training diverged: layer {l} weights or biases became NaN or inf "
                    f"during epoch {epoch} (eta={eta:g}); lower eta, or use "
                    "cost='cross-entropy' / init='default'")

    def _copy_params(self):
        return [b.copy() for b in self.biases], [w.copy() for w in self.weights]

    def _set_params(self, params):
        for dst, src in zip(self.biases + self.weights, params[0] + params[1]):
            dst[...] = src

    def _prepare_training(self, X, Y, m):
        """Hook: allocate per-fit buffers."""

    def _finish_training(self):
        """Hook: release per-fit buffers."""

    def save(self, path: str | os.PathLike) -> Path:
        """Save to ``path`` (``.npz``, no pickle, JSON metadata), atomically.

        See ``nnvec.modelfile`` for the format. Returns the path written.
        """
        return modelfile.save(self, path)

"""What every nnvec engine shares: parameters, initialisation, shuffling,
the epoch loop with monitoring and early stopping, evaluation and the book's
data formats.

The engines (``nnvec.engine.Network``, ``nnvec.reference.ReferenceNetwork``,
``nnvec.columns.ColumnNetwork``) subclass ``BaseNetwork`` and supply only how
one epoch of mini-batches is trained and how a mini-batch gradient is
computed, so from one seed they start from the same weights and see the same
mini-batches in the same order. The only difference between them is the one
the book describes: one example at a time versus the whole mini-batch matrix.
"""

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import _validation as V
from .activations import sigmoid
from .costs import get_cost


class NonFiniteWeightsError(FloatingPointError):
    """Training produced NaN or inf weights (the run diverged)."""


def init_params(sizes, rng, init="large", dtype=np.float64):
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


def minibatch_slices(n, m):
    """Start/stop pairs of the mini-batches of an epoch of ``n`` samples.

    The last mini-batch is shorter when ``m`` does not divide ``n``; its update
    uses its own size, as the book's ``eta/len(mini_batch)`` does.
    """
    return [(k, min(k + m, n)) for k in range(0, n, m)]


@dataclass
class History:
    """Per-epoch record of a training run.

    Unpacks like the book's chapter-3 ``SGD`` return value::

        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = net.SGD(...)

    Accuracies are counts of correct samples (as the book prints them);
    ``n_evaluation`` and ``n_training`` give the denominators.
    """

    evaluation_cost: list = field(default_factory=list)
    evaluation_accuracy: list = field(default_factory=list)
    training_cost: list = field(default_factory=list)
    training_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    eta: list = field(default_factory=list)
    n_evaluation: int = 0
    n_training: int = 0
    stopped_early: bool = False
    best_epoch: int | None = None

    def __iter__(self):
        yield self.evaluation_cost
        yield self.evaluation_accuracy
        yield self.training_cost
        yield self.training_accuracy

    @property
    def epochs(self):
        """Number of epochs trained."""
        return len(self.seconds)

    def to_dict(self):
        """Plain-JSON form, for model-file metadata."""
        return {
            "evaluation_cost": [float(v) for v in self.evaluation_cost],
            "evaluation_accuracy": [int(v) for v in self.evaluation_accuracy],
            "training_cost": [float(v) for v in self.training_cost],
            "training_accuracy": [int(v) for v in self.training_accuracy],
            "seconds": [float(v) for v in self.seconds],
            "eta": [float(v) for v in self.eta],
            "n_evaluation": int(self.n_evaluation),
            "n_training": int(self.n_training),
            "stopped_early": bool(self.stopped_early),
            "best_epoch": self.best_epoch,
        }


class SGDResult(tuple):
    """The book's ``SGD`` return value, a real 4-tuple of lists, plus ``history``.

    ``ec, ea, tc, ta = net.SGD(...)``, ``result[1][-1]``, ``result[:2]``,
    ``len(result) == 4`` and ``result == (ec, ea, tc, ta)`` all behave as
    with the book's tuple; other attributes come from the ``History``.
    """

    history: History

    def __new__(cls, history):
        self = super().__new__(cls, (history.evaluation_cost, history.evaluation_accuracy,
                                     history.training_cost, history.training_accuracy))
        self.history = history
        return self

    def __getattr__(self, name):
        if name == "history":  # not yet set (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.history, name)

    def __reduce__(self):
        return (SGDResult, (self.history,))


class EarlyStopping:
    """"No improvement in ``n`` epochs" on evaluation accuracy, with an
    optional learning-rate schedule.

    With ``halve_eta=False``: ``update`` returns ``"stop"`` once ``n`` epochs
    in a row have not beaten the best accuracy. With ``halve_eta=True`` (the
    book's suggested schedule) it returns ``"halve"`` instead and restarts the
    count, and ``"stop"`` once ``eta`` has been halved down below
    ``eta0 * min_eta_ratio`` (the book's eta/128). Otherwise ``"continue"``.
    """

    def __init__(self, n, *, halve_eta=False, min_eta_ratio=1 / 128):
        self.n = n
        self.halve_eta = halve_eta
        self.min_eta_ratio = min_eta_ratio
        self.best = None
        self.best_epoch = None
        self.since_best = 0
        self.halvings = 0

    def update(self, epoch, accuracy):
        """Record ``accuracy`` for ``epoch`` and say what to do next."""
        if self.best is None or accuracy > self.best:
            self.best, self.best_epoch, self.since_best = accuracy, epoch, 0
            return "continue"
        self.since_best += 1
        if self.n <= 0 or self.since_best < self.n:
            return "continue"
        if not self.halve_eta:
            return "stop"
        self.halvings += 1
        self.since_best = 0
        if 0.5**self.halvings < self.min_eta_ratio:
            return "stop"
        return "halve"


def _is_book_pair_list(data, n_in):
    """True for the book's format: a sequence of (x, y) with x of shape (n_in, 1)."""
    try:
        first = data[0]
        x = np.asarray(first[0])
    except (TypeError, IndexError, KeyError):
        return False
    return len(first) == 2 and x.shape == (n_in, 1)


def _cost_label(cost):
    return getattr(cost, "name", None) or getattr(cost, "__name__", type(cost).__name__)


class BaseNetwork:
    """Parameters and the training loop shared by all engines (see module doc)."""

    #: engine name, for output and model files
    engine = "base"

    def __init__(self, sizes, *, cost="quadratic", init="large", seed=None,
                 dtype=np.float64):
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
        self.history = None
        self.hyperparameters = {}

    def __repr__(self):
        return (f"{type(self).__name__}(sizes={list(self.sizes)}, cost={_cost_label(self.cost)!r}, "
                f"init={self.init!r}, dtype={np.dtype(self.dtype).name})")

    # ------------------------------------------------------------------ data
    def _as_arrays(self, data, name):
        """Turn book-format or ``(X, y)`` data into validated ``(X, Y, labels)``."""
        n_in, n_out = self.sizes[0], self.sizes[-1]
        if data is None:
            raise ValueError(f"{name} is None; pass (X, y) arrays or the book's list of (x, y)")
        if isinstance(data, (list, tuple)) and len(data) == 0:
            raise ValueError(f"{name} is empty; pass at least one sample")
        if not isinstance(data, (list, tuple)):
            data = list(data)  # the book's zip objects
            if not data:
                raise ValueError(f"{name} is empty; pass at least one sample")
        if _is_book_pair_list(data, n_in):
            xs, ys = [], []
            for i, pair in enumerate(data):
                if len(pair) != 2:
                    raise ValueError(f"{name}[{i}] is not an (x, y) pair")
                x = np.asarray(pair[0])
                if x.shape != (n_in, 1):
                    raise ValueError(
                        f"{name}[{i}][0] has shape {x.shape}; the book's format needs "
                        f"column vectors of shape ({n_in}, 1)")
                xs.append(x[:, 0])
                yv = np.asarray(pair[1])
                ys.append(yv[:, 0] if yv.ndim == 2 and yv.shape[1] == 1 and yv.shape[0] > 1
                          else yv)
            X = V.check_X(np.asarray(xs), n_in, self.dtype, name=f"{name} inputs")
            Y, labels = V.check_targets(np.asarray(ys), len(X), n_out, self.dtype, name=f"{name} targets")
            return X, Y, labels
        if len(data) != 2:
            raise ValueError(
                f"{name} must be a pair (X, y) with X of shape (n_samples, {n_in}), or "
                f"the book's list of (x, y) with x of shape ({n_in}, 1)")
        X = V.check_X(data[0], n_in, self.dtype, name=f"{name} X")
        Y, labels = V.check_targets(data[1], len(X), n_out, self.dtype, name=f"{name} y")
        return X, Y, labels

    # --------------------------------------------------------------- forward
    def _forward_rows(self, X):
        """Output activations for validated rows ``X`` (n_samples, n_in)."""
        a = X
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(a @ w.T + b)
        return a

    def feedforward(self, a):
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

    def predict_proba(self, X):
        """Output activations, shape (n_samples, n_out); rows are samples."""
        return self._forward_rows(V.check_X(X, self.sizes[0], self.dtype))

    def predict(self, X):
        """Predicted labels (argmax of the output layer), shape (n_samples,), int64."""
        return np.argmax(self.predict_proba(X), axis=1).astype(np.int64)

    def accuracy(self, X, y):
        """Fraction of samples whose predicted label equals ``y``."""
        Xv = V.check_X(X, self.sizes[0], self.dtype)
        _, labels = V.check_targets(y, len(Xv), self.sizes[-1], self.dtype)
        return float(np.mean(np.argmax(self._forward_rows(Xv), axis=1) == labels))

    def evaluate(self, test_data):
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

    def total_cost(self, data, lmbda=0.0):
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
    def backprop(self, x, y):
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

    def backprop_batch(self, X, Y):
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

    def update_mini_batch(self, X, Y, eta, lmbda=0.0, n=None):
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
    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0,
            evaluation_data=None, monitor_evaluation_cost=False,
            monitor_evaluation_accuracy=False, monitor_training_cost=False,
            monitor_training_accuracy=False, early_stopping_n=0, test_data=None):
        """Mini-batch stochastic gradient descent, with the book's signature.

        Accepts chapter 1's ``SGD(training_data, epochs, mini_batch_size, eta,
        test_data=None)`` and chapter 3's monitoring arguments. Data may be the
        book's lists of ``(x, y)`` or ``(X, y)`` arrays. With ``test_data``
        (chapter 1) it prints ``Epoch j: N / n_test`` after each epoch, else
        ``Epoch j complete``. Never shuffles or modifies the caller's data.

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
        ValueError, TypeError
            On bad data or hyper-parameters (see ``fit``).
        NonFiniteWeightsError
            If the weights become NaN or inf; the message names the epoch.
        """
        X, Y, labels = self._as_arrays(training_data, "training_data")
        chapter1 = evaluation_data is None and not (
            monitor_evaluation_cost or monitor_evaluation_accuracy
            or monitor_training_cost or monitor_training_accuracy)
        if test_data is not None and evaluation_data is None:
            evaluation_data = test_data
            monitor_evaluation_accuracy = True
        evaluation = None
        if evaluation_data is not None:
            evaluation = self._as_arrays(evaluation_data, "evaluation_data")
        return SGDResult(self._train(
            X, Y, labels, epochs=epochs, m=mini_batch_size, eta=eta, lmbda=lmbda,
            evaluation=evaluation, monitor=(monitor_evaluation_cost,
                                            monitor_evaluation_accuracy,
                                            monitor_training_cost,
                                            monitor_training_accuracy),
            early_stopping_n=early_stopping_n, rng=self._rng,
            out=sys.stdout, style="book" if chapter1 else "book3",
            batch_name="mini_batch_size"))

    def fit(self, X, y, *, epochs, batch_size, eta, lmbda=0.0, validation_data=None,
            seed=None, early_stopping_n=0, restore_best=False, halve_eta=False,
            monitor_training=False, verbose=False, progress=False, callbacks=()):
        """Train on samples as rows; the array API.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
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
            and optionally ``on_train_end(net, hist)``: called after every
            epoch (history already updated) and once at the end, even when
            training stops with an error

        Returns
        -------
        History

        Raises
        ------
        ValueError
            Wrong shapes, labels out of range, NaN/inf in X, mismatched lengths,
            empty data, non-positive epochs/batch_size/eta, negative lmbda,
            early stopping without validation data.
        TypeError
            Non-numeric data or hyper-parameters of the wrong type.
        NonFiniteWeightsError
            If the weights become NaN or inf; the message names the epoch.
        """
        Xv = V.check_X(X, self.sizes[0], self.dtype)
        Y, labels = V.check_targets(y, len(Xv), self.sizes[-1], self.dtype)
        evaluation = None
        if validation_data is not None:
            evaluation = self._as_arrays(validation_data, "validation_data")
        rng = self._rng if seed is None else np.random.default_rng(
            V.check_nonneg_int(seed, "seed"))
        return self._train(
            Xv, Y, labels, epochs=epochs, m=batch_size, eta=eta, lmbda=lmbda,
            evaluation=evaluation,
            monitor=(evaluation is not None, evaluation is not None,
                     monitor_training, monitor_training),
            early_stopping_n=early_stopping_n, restore_best=restore_best,
            halve_eta=halve_eta, rng=rng, out=sys.stdout if verbose else None,
            style="fit", batch_name="batch_size", callbacks=callbacks, progress=progress)

    def _train(self, X, Y, labels, *, epochs, m, eta, lmbda, evaluation, monitor,
               early_stopping_n, rng, out, style, batch_name, restore_best=False,
               halve_eta=False, callbacks=(), progress=False):
        epochs = V.check_positive_int(epochs, "epochs")
        m = V.check_positive_int(m, batch_name)
        eta = V.check_positive_float(eta, "eta")
        lmbda = V.check_nonneg_float(lmbda, "lmbda")
        early_stopping_n = V.check_nonneg_int(early_stopping_n, "early_stopping_n")
        mon_ec, mon_ea, mon_tc, mon_ta = monitor
        if (early_stopping_n or restore_best or halve_eta) and evaluation is None:
            raise ValueError(
                "early stopping, restore_best and halve_eta watch validation accuracy; "
                "pass validation_data (fit) or evaluation_data (SGD)")
        if halve_eta and not early_stopping_n:
            raise ValueError("halve_eta needs early_stopping_n >= 1: the number of epochs "
                             "without improvement before eta is halved")
        if early_stopping_n or restore_best or halve_eta:
            mon_ea = True
        n = len(X)
        hist = History(n_training=n, n_evaluation=0 if evaluation is None else len(evaluation[0]))
        stopper = EarlyStopping(early_stopping_n, halve_eta=halve_eta)
        best_params = None
        eta0 = eta
        self.hyperparameters = {"epochs": epochs, "mini_batch_size": m, "eta": eta0,
                                "lmbda": lmbda, "n_training": n,
                                "early_stopping_n": early_stopping_n}
        callbacks = list(callbacks)
        if progress:
            from .progress import Progress

            callbacks.append(Progress(epochs, "epochs"))
        self._prepare_training(X, Y, m)
        try:
            for epoch in range(epochs):
                t0 = time.perf_counter()
                perm = rng.permutation(n)
                # A diverging run overflows inside the epoch; _check_finite turns
                # that into one clear error naming the epoch instead of warnings.
                with np.errstate(over="ignore", invalid="ignore"):
                    self._train_epoch(X, Y, perm, m, eta, lmbda)
                seconds = time.perf_counter() - t0
                self._check_finite(epoch, eta)
                hist.seconds.append(seconds)
                hist.eta.append(eta)
                self._monitor(X, Y, labels, lmbda, mon_tc, mon_ta,
                              hist.training_cost, hist.training_accuracy)
                if evaluation is not None:
                    X_ev, Y_ev, labels_ev = evaluation
                    self._monitor(X_ev, Y_ev, labels_ev, lmbda, mon_ec, mon_ea,
                                  hist.evaluation_cost, hist.evaluation_accuracy)
                if out is not None:
                    self._print_epoch(out, style, epoch, hist, evaluation, n, seconds,
                                      (mon_ec, mon_ea, mon_tc, mon_ta))
                for cb in callbacks:
                    cb.on_epoch_end(self, epoch, hist)
                if mon_ea and evaluation is not None and (early_stopping_n or restore_best or halve_eta):
                    acc = hist.evaluation_accuracy[-1]
                    if stopper.best is None or acc > stopper.best:
                        best_params = self._copy_params() if restore_best else None
                    action = stopper.update(epoch, acc)
                    hist.best_epoch = stopper.best_epoch
                    if early_stopping_n and action == "stop":
                        hist.stopped_early = epoch + 1 < epochs
                        if out is not None:
                            print(f"Early stopping after epoch {epoch}: no improvement in "
                                  f"{early_stopping_n} epochs (best epoch {stopper.best_epoch})",
                                  file=out)
                        break
                    if early_stopping_n and action == "halve":
                        eta = eta / 2
                        if out is not None:
                            print(f"No improvement in {early_stopping_n} epochs: eta -> {eta:g}",
                                  file=out)
        finally:
            self._finish_training()
            for cb in callbacks:
                if hasattr(cb, "on_train_end"):
                    cb.on_train_end(self, hist)
        if restore_best and best_params is not None:
            self._set_params(best_params)
        self.history = hist
        return hist

    def _print_epoch(self, out, style, epoch, hist, evaluation, n, seconds, monitor):
        mon_ec, mon_ea, mon_tc, mon_ta = monitor
        if style == "book":
            if evaluation is None:
                print(f"Epoch {epoch} complete ({seconds:.3f} s)", file=out)
            else:
                print(f"Epoch {epoch}: {hist.evaluation_accuracy[-1]} / {hist.n_evaluation} "
                      f"({seconds:.3f} s)", file=out)
            return
        print(f"Epoch {epoch} training complete ({seconds:.3f} s)", file=out)
        if mon_tc:
            print(f"Cost on training data: {hist.training_cost[-1]}", file=out)
        if mon_ta:
            print(f"Accuracy on training data: {hist.training_accuracy[-1]} / {n}", file=out)
        if evaluation is not None and mon_ec:
            print(f"Cost on evaluation data: {hist.evaluation_cost[-1]}", file=out)
        if evaluation is not None and mon_ea:
            print(f"Accuracy on evaluation data: {hist.evaluation_accuracy[-1]} / "
                  f"{hist.n_evaluation}", file=out)

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

    def save(self, path):
        """Save to ``path`` (``.npz``, no pickle, JSON metadata), atomically.

        See ``nnvec.modelfile`` for the format. Returns the path written.
        """
        from .modelfile import save

        return save(self, path)

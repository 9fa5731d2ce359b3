"""``NetworkClassifier``: nnvec as a scikit-learn estimator.

Needs the ``sklearn`` extra. The estimator is a thin adapter: it validates
with scikit-learn's own helpers (so errors and attributes are the ones
scikit-learn users know), maps any labels to 0..k-1 through ``classes_``, and
trains an ``nnvec.Network`` (``network_``) with the book's SGD.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .engine import Network

_SEED_MAX = 2**31 - 1


class NetworkClassifier(ClassifierMixin, BaseEstimator):
    """A sigmoid feedforward network trained by mini-batch SGD (Nielsen's book).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (30,)
        Widths of the hidden layers; the input width is ``n_features`` and
        the output width the number of classes.
    epochs : int, default 30
    batch_size : int, default 10
        The mini-batch size m.
    eta : float, default 3.0
        Learning rate.
    lmbda : float, default 0.0
        L2 strength, book convention (weights decay by ``1 - eta*lmbda/n``).
    cost : {"quadratic", "cross-entropy"}, default "quadratic"
    init : {"large", "default"}, default "large"
        Chapter 1's N(0, 1) weights, or chapter 3's N(0, 1/n_in).
    dtype : {"float64", "float32"}, default "float64"
    early_stopping_n : int, default 0
        If > 0, hold out ``validation_fraction`` of the training data, stop
        after this many epochs without a better validation accuracy, and keep
        the weights of the best epoch.
    validation_fraction : float, default 0.1
        Share held out when ``early_stopping_n > 0`` (stratified by class
        when every class has at least two samples).
    random_state : int, RandomState or None, default None
        Seeds the initial weights, the shuffles and the validation split; an
        int makes ``fit`` deterministic.
    threads : int or None, default None
        Kernel threads; None chooses by measurement while training.
    engine : {"numba", "numpy"}, default "numba"
    verbose : bool, default False
        A progress bar per epoch (plain lines when stderr is not a terminal).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    network_ : nnvec.Network
        The trained network, output ``j`` standing for ``classes_[j]``.
    history_ : nnvec.History
        Per-epoch record of the last ``fit`` (or ``partial_fit``).
    n_iter_ : int
        Epochs run in total (``fit`` resets it).

    Notes
    -----
    The network's outputs are independent sigmoids, not a distribution.
    ``predict_proba`` divides each row by its sum so that it sums to 1 (a
    row whose outputs all underflow to 0 becomes uniform); ``predict`` is the
    class of the largest output, which is also the largest probability.
    """

    def __init__(self, hidden_layer_sizes=(30,), epochs=30, batch_size=10, eta=3.0,
                 lmbda=0.0, cost="quadratic", init="large", dtype="float64",
                 early_stopping_n=0, validation_fraction=0.1, random_state=None,
                 threads=None, engine="numba", verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.epochs = epochs
        self.batch_size = batch_size
        self.eta = eta
        self.lmbda = lmbda
        self.cost = cost
        self.init = init
        self.dtype = dtype
        self.early_stopping_n = early_stopping_n
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.threads = threads
        self.engine = engine
        self.verbose = verbose

    # ------------------------------------------------------------ helpers
    def _hidden(self):
        h = self.hidden_layer_sizes
        if _is_int(h):
            h = (h,)
        if isinstance(h, (str, bytes)) or not isinstance(h, (tuple, list, np.ndarray)) \
                or not all(_is_int(v) for v in h):
            raise TypeError(
                f"hidden_layer_sizes must be a tuple of positive ints such as (30,) or "
                f"(100, 30); got {self.hidden_layer_sizes!r}")
        return [int(v) for v in h]

    def _new_network(self, n_features, n_classes, seed):
        return Network([n_features, *self._hidden(), n_classes], cost=self.cost,
                       init=self.init, seed=seed, dtype=self.dtype, threads=self.threads,
                       engine=self.engine)

    def _encode(self, y):
        unknown = ~np.isin(y, self.classes_)
        if np.any(unknown):
            raise ValueError(
                f"y holds labels not in classes_: {np.unique(y[unknown])[:5].tolist()}; "
                f"the classes are {self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y)

    def _train(self, network, X, idx, epochs, seed):
        validation, restore = None, False
        if self.early_stopping_n:
            frac = self.validation_fraction
            if not (isinstance(frac, numbers.Real) and 0 < float(frac) < 1):
                raise ValueError(
                    f"validation_fraction must be a number in (0, 1); got {frac!r}")
            counts = np.bincount(idx, minlength=len(self.classes_))
            strat = idx if counts.min() >= 2 else None
            X, X_val, idx, idx_val = train_test_split(
                X, idx, test_size=frac, random_state=seed, stratify=strat)
            validation, restore = (X_val, idx_val), True
        return network.fit(
            X, idx, epochs=epochs, batch_size=self.batch_size, eta=self.eta,
            lmbda=self.lmbda, validation_data=validation, seed=seed,
            early_stopping_n=self.early_stopping_n, restore_best=restore,
            progress=bool(self.verbose))

    # ------------------------------------------------------------ fitting
    def fit(self, X, y):
        """Train a new network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), any labels (at least two classes)

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad shapes, NaN/inf, a single class, continuous targets, or bad
            hyper-parameters (named in the message).
        TypeError
            Hyper-parameters of the wrong type.
        nnvec.NonFiniteWeightsError
            If training diverges; the message names the epoch.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}); a classifier needs at least 2 classes")
        self._rng_ = check_random_state(self.random_state)
        seed = self._rng_.randint(_SEED_MAX)
        self.network_ = self._new_network(X.shape[1], len(self.classes_), seed)
        self.history_ = self._train(self.network_, X, idx, self.epochs, seed)
        self.n_iter_ = len(self.history_.seconds)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch of SGD on ``X``, ``y``, continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), required on the first call
            Every label that will ever appear.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            As ``fit``; also a first call without ``classes``, labels outside
            ``classes``, or a different number of features than before.
        """
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit "
                                 "(every label that will ever appear)")
            self.classes_ = np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"classes has 1 class ({self.classes_[0]!r}); "
                                 "a classifier needs at least 2 classes")
            self._rng_ = check_random_state(self.random_state)
            self.network_ = self._new_network(X.shape[1], len(self.classes_),
                                              self._rng_.randint(_SEED_MAX))
            self.n_iter_ = 0
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {np.unique(classes).tolist()} differ from the first "
                             f"call's {self.classes_.tolist()}")
        idx = self._encode(y)
        self.history_ = self._train(self.network_, X, idx, 1, self._rng_.randint(_SEED_MAX))
        self.n_iter_ += 1
        return self

    # ------------------------------------------------------------ predicting
    def _outputs(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self.network_.predict_proba(X)

    def predict_proba(self, X):
        """Class probabilities: the sigmoid outputs, each row divided by its sum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), rows summing to 1, columns
        in the order of ``classes_``
        """
        a = np.asarray(self._outputs(X), dtype=np.float64)
        total = a.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = a / total
        p[total[:, 0] == 0] = 1.0 / a.shape[1]
        return p

    def predict(self, X):
        """The class of the largest output for each row of ``X``.

        Returns
        -------
        ndarray of shape (n_samples,), labels from ``classes_``
        """
        a = self._outputs(X)  # checks fitted state first
        return self.classes_[np.argmax(a, axis=1)]


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)

"""Each bad input raises the documented error, and the caller's data is untouched."""

import warnings

import numpy as np
import pytest
from problems import random_problem

import nnvec


@pytest.fixture
def net():
    return nnvec.Network([4, 3, 2], seed=0)


@pytest.mark.parametrize("sizes, exc, msg", [
    ([784], ValueError, "at least two layers"),
    ([], ValueError, "at least two layers"),
    ([784, 0, 10], ValueError, "must be positive"),
    ([784, -3, 10], ValueError, "must be positive"),
    ([784, 2.5, 10], TypeError, "must hold integers"),
    ("784", TypeError, "list of layer widths"),
])
def test_bad_sizes(sizes, exc, msg):
    with pytest.raises(exc, match=msg):
        nnvec.Network(sizes)
    with pytest.raises(exc, match=msg):
        nnvec.ReferenceNetwork(sizes)


def test_bad_constructor_options():
    with pytest.raises(ValueError, match="dtype must be float64 or float32"):
        nnvec.Network([2, 2], dtype=np.int32)
    with pytest.raises(ValueError, match="engine must be 'numba' or 'numpy'"):
        nnvec.Network([2, 2], engine="torch")
    with pytest.raises(ValueError, match="init must be"):
        nnvec.Network([2, 2], init="xavier")
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer \(>= 0\); got -1"):
        nnvec.Network([2, 2], seed=-1)


def test_wrong_width(net):
    X, y = random_problem([5, 2], 6, 0)
    with pytest.raises(ValueError, match=r"X has 5 features per sample but the network's input layer has 4"):
        net.fit(X, y, epochs=1, batch_size=2, eta=1.0)


def test_transposed_input_hint(net):
    X = np.zeros((4, 7))
    with pytest.raises(ValueError, match="looks transposed"):
        net.predict(X)


def test_one_dimensional_X(net):
    with pytest.raises(ValueError, match=r"must be 2-D.*reshape\(1, -1\)"):
        net.fit(np.zeros(4), [0], epochs=1, batch_size=1, eta=1.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X(net, bad):
    X, y = random_problem([4, 2], 6, 0)
    X[3, 2] = bad
    with pytest.raises(ValueError, match=r"NaN or inf \(first at row 3, column 2\)"):
        net.fit(X, y, epochs=1, batch_size=2, eta=1.0)


@pytest.mark.parametrize("labels, msg", [
    ([0, 1, 2, 0, 1, 0], "label 2 outside 0..1"),
    ([0, 1, -1, 0, 1, 0], "label -1 outside 0..1"),
    ([0, 1, 0.5, 0, 1, 0], "whole numbers"),
])
def test_labels_out_of_range(net, labels, msg):
    X, _ = random_problem([4, 2], 6, 0)
    with pytest.raises(ValueError, match=msg):
        net.fit(X, np.array(labels), epochs=1, batch_size=2, eta=1.0)


def test_length_mismatch(net):
    X, y = random_problem([4, 2], 6, 0)
    with pytest.raises(ValueError, match="6 samples but 5 targets"):
        net.fit(X, y[:5], epochs=1, batch_size=2, eta=1.0)


def test_empty_data(net):
    with pytest.raises(ValueError, match="empty"):
        net.fit(np.zeros((0, 4)), np.zeros(0, int), epochs=1, batch_size=2, eta=1.0)
    with pytest.raises(ValueError, match="empty"):
        net.SGD([], 1, 10, 3.0)


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(epochs=0), ValueError, "epochs must be a positive integer"),
    (dict(epochs=1.5), TypeError, "epochs must be a positive integer"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    (dict(eta=0.0), ValueError, "eta must be positive"),
    (dict(eta=-1.0), ValueError, "eta must be positive"),
    (dict(eta=float("nan")), ValueError, "eta must be finite"),
    (dict(eta="3"), TypeError, "eta must be a number"),
    (dict(lmbda=-0.1), ValueError, "lmbda must be >= 0"),
])
def test_bad_hyperparameters(net, kw, exc, msg):
    X, y = random_problem([4, 2], 6, 0)
    args = dict(epochs=1, batch_size=2, eta=1.0)
    args.update(kw)
    with pytest.raises(exc, match=msg):
        net.fit(X, y, **args)


def test_sgd_names_book_argument(net):
    X, y = random_problem([4, 2], 6, 0)
    with pytest.raises(ValueError, match="mini_batch_size must be a positive integer"):
        net.SGD((X, y), 1, 0, 3.0)


def test_early_stopping_needs_validation(net):
    X, y = random_problem([4, 2], 6, 0)
    with pytest.raises(ValueError, match="pass validation_data"):
        net.fit(X, y, epochs=1, batch_size=2, eta=1.0, early_stopping_n=2)


def test_wrong_one_hot_width(net):
    X, _ = random_problem([4, 2], 6, 0)
    with pytest.raises(ValueError, match="one-hot y has 3 columns but the output layer has 2"):
        net.fit(X, np.eye(3)[[0, 1, 2, 0, 1, 2]], epochs=1, batch_size=2, eta=1.0)


@pytest.mark.parametrize("engine", ["numba", "numpy", "reference", "columns"])
def test_callers_arrays_are_never_modified(engine):
    from nnvec.engines import make_network

    X, y = random_problem([4, 3, 2], 9, 0)
    X32 = X.astype(np.float32)  # also a dtype the network converts
    Xc, yc, X32c = X.copy(), y.copy(), X32.copy()
    Xf = np.asfortranarray(X)
    book = [(x[:, None].copy(), np.eye(2)[[l]].T) for x, l in zip(X, y)]
    book_copy = [(a.copy(), b.copy()) for a, b in book]
    net = make_network([4, 3, 2], engine=engine, seed=0)
    net.fit(X, y, epochs=2, batch_size=4, eta=1.0, validation_data=(X32, y))
    net.fit(Xf, y, epochs=1, batch_size=4, eta=1.0)
    net.SGD(book, 2, 4, 1.0, test_data=(X, y))
    assert np.array_equal(X, Xc) and np.array_equal(y, yc) and np.array_equal(X32, X32c)
    assert np.array_equal(Xf, Xc)
    assert all(np.array_equal(a, c) and np.array_equal(b, d)
               for (a, b), (c, d) in zip(book, book_copy))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_finite_X_whose_sum_overflows_is_accepted(dtype):
    # check_X looks at one sum first; a sum that overflows is not a verdict
    from nnvec._validation import check_X

    big = np.finfo(dtype).max
    X = np.full((3, 4), big, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and says nothing about the overflow
        out = check_X(X, 4, dtype)
    assert np.array_equal(out, X)
    with np.errstate(over="ignore"):
        assert np.isinf(np.add.reduce(X, axis=None))
    X[2, 1] = np.nan  # ... and a NaN beside such values is still found
    with pytest.raises(ValueError, match=r"NaN or inf \(first at row 2, column 1\)"):
        check_X(X, 4, dtype)


def test_inf_and_minus_inf_together_in_X():
    from nnvec._validation import check_X

    X = np.zeros((5, 4))
    X[1, 3], X[4, 0] = np.inf, -np.inf  # their sum is NaN, not inf
    with pytest.raises(ValueError, match=r"NaN or inf \(first at row 1, column 3\)"):
        check_X(X, 4, np.float64)

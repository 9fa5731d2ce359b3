"""The per-example reference verifies the matrix engines."""

import numpy as np
import pytest
from problems import onehot, random_problem

import nnvec
from nnvec.engines import make_network

MATRIX_ENGINES = ["numba", "numpy", "columns"]


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


@pytest.mark.parametrize("engine", MATRIX_ENGINES)
@pytest.mark.parametrize("m", [1, 2, 7, 10])
@pytest.mark.parametrize("sizes", [[784, 30, 10], [20, 15, 10, 5]])
def test_backprop_batch_equals_sum_of_per_example_gradients(sizes, m, engine):
    net = make_network(sizes, engine=engine, seed=7)
    ref = nnvec.ReferenceNetwork(sizes, seed=7)
    X, y = random_problem(sizes, m, seed=m)
    Y = onehot(y, sizes[-1])
    nb, nw = net.backprop_batch(X, Y)
    # the oracle: the book's backprop, one example at a time, summed here
    sum_b = [np.zeros(b.shape) for b in ref.biases]
    sum_w = [np.zeros(w.shape) for w in ref.weights]
    for x, yy in zip(X, Y):
        db, dw = ref.backprop(x[:, None], yy[:, None])
        sum_b = [s + d for s, d in zip(sum_b, db)]
        sum_w = [s + d for s, d in zip(sum_w, dw)]
    for got, want in zip(nb + nw, sum_b + sum_w):
        assert got.shape == want.shape
        assert rel_err(got, want) <= 1e-12


@pytest.mark.parametrize("engine", MATRIX_ENGINES)
@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_same_weights_after_ten_mnist_minibatches(mnist, engine, cost):
    (X, y), _, _ = mnist
    X, y = X[:100], y[:100]  # 10 mini-batches of 10, one epoch
    ref = nnvec.ReferenceNetwork([784, 30, 10], seed=42, cost=cost)
    net = make_network([784, 30, 10], engine=engine, seed=42, cost=cost)
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        assert np.array_equal(a, b)  # same initialisation from one seed
    ref.fit(X, y, epochs=1, batch_size=10, eta=3.0)
    net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
    moved = np.max(np.abs(ref.weights[0] - nnvec.ReferenceNetwork([784, 30, 10], seed=42).weights[0]))
    assert moved > 1e-3  # training really happened
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        assert rel_err(b, a) <= 1e-12


@pytest.mark.parametrize("engine", MATRIX_ENGINES)
def test_same_weights_with_l2_and_partial_last_batch(engine):
    X, y = random_problem([12, 8, 4], 23, seed=0)  # 23 = 3 batches of 7 + one of 2
    ref = nnvec.ReferenceNetwork([12, 8, 4], seed=1)
    net = make_network([12, 8, 4], engine=engine, seed=1)
    ref.fit(X, y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    net.fit(X, y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        assert rel_err(b, a) <= 1e-12


@pytest.mark.parametrize("engine", MATRIX_ENGINES)
def test_same_accuracy_after_one_epoch_on_2000_images(mnist, engine):
    (X, y), _, (Xt, yt) = mnist
    ref = nnvec.ReferenceNetwork([784, 30, 10], seed=3)
    net = make_network([784, 30, 10], engine=engine, seed=3)
    ref.fit(X[:2000], y[:2000], epochs=1, batch_size=10, eta=3.0)
    net.fit(X[:2000], y[:2000], epochs=1, batch_size=10, eta=3.0)
    a_ref, a_net = ref.accuracy(Xt, yt), net.accuracy(Xt, yt)
    assert a_ref > 0.25  # it learned something (chance is 0.10)
    assert abs(a_ref - a_net) <= 0.002

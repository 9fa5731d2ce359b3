"""Finite differences verify the per-example engine (and the matrix engine)."""

import numpy as np
import pytest
from problems import random_problem

import nnvec
from nnvec.engines import make_network

NETS = [[4, 3], [5, 4, 3], [6, 5, 4, 3], [3, 7, 6, 5, 2]]
ENGINES = ["reference", "numpy", "numba", "columns"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("sizes", NETS)
def test_gradient_check_quadratic(sizes, engine):
    net = make_network(sizes, engine=engine, seed=len(sizes))
    X, y = random_problem(sizes, 6, seed=1)
    err = nnvec.gradient_check(net, X, y)
    assert err < 1e-6


@pytest.mark.parametrize("engine", ENGINES)
def test_gradient_check_cross_entropy_and_l2(engine):
    sizes = [6, 5, 4, 3]
    net = make_network(sizes, engine=engine, seed=3, cost="cross-entropy", init="default")
    X, y = random_problem(sizes, 5, seed=2)
    assert nnvec.gradient_check(net, X, y) < 1e-6
    assert nnvec.gradient_check(net, X, y, lmbda=5.0, n=20) < 1e-6


def test_gradient_check_catches_a_wrong_gradient():
    """The check must fail when backprop is wrong: break BP2 and look."""
    net = nnvec.ReferenceNetwork([5, 4, 3], seed=0)
    X, y = random_problem([5, 4, 3], 4, seed=0)
    good = net._backprop_batch

    def broken(X, Y):
        nb, nw = good(X, Y)
        nw[0] = nw[0] * 1.01
        return nb, nw

    net._backprop_batch = broken
    assert nnvec.gradient_check(net, X, y) > 1e-3


def test_gradient_check_restores_parameters():
    net = nnvec.Network([4, 3, 2], seed=0)
    before = [w.copy() for w in net.weights] + [b.copy() for b in net.biases]
    X, y = random_problem([4, 3, 2], 3, seed=0)
    nnvec.gradient_check(net, X, y)
    after = net.weights + net.biases
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("engine", ENGINES + ["numba-batched"])
def test_each_engines_own_l2_step_is_gradient_descent_on_the_regularised_cost(engine):
    """The engines' L2 update itself, not a term added by the check: one SGD
    step over one mini-batch must equal ``p - (eta/m) * grad`` of the summed
    cost plus ``(m*lmbda/(2n)) ||w||^2``, the gradient by finite differences.
    Replacing any engine's weight decay with a no-op fails this test."""
    from nnvec.gradcheck import _objective

    sizes, m, eta, lmbda = [6, 5, 3], 8, 0.5, 40.0
    X, y = random_problem(sizes, m, seed=4)
    Y = np.eye(3)[y]
    kw = {"strategy": "batched"} if engine == "numba-batched" else {}
    net = make_network(sizes, engine=engine.split("-")[0], seed=1, cost="cross-entropy",
                       init="default", **kw)
    expected = []
    for p in net.biases + net.weights:
        num = np.empty(p.shape)
        flat = p.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + 1e-6
            c_plus = _objective(net, X, Y, lmbda, m)
            flat[i] = old - 1e-6
            c_minus = _objective(net, X, Y, lmbda, m)
            flat[i] = old
            num.reshape(-1)[i] = (c_plus - c_minus) / 2e-6
        expected.append(p - (eta / m) * num)
    net.fit(X, y, epochs=1, batch_size=m, eta=eta, lmbda=lmbda)  # n = m: one step
    for got, want in zip(net.biases + net.weights, expected):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-8)

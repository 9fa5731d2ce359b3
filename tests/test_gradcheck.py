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

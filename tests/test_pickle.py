"""Networks move between processes: pickle, deepcopy, joblib, spawn.

(Model files stay .npz + JSON; pickling is for live objects.)"""

import copy
import multiprocessing
import pickle

import joblib
import numpy as np
import pytest
from problems import random_problem

import nnvec

ENGINES = {
    "numba": lambda: nnvec.Network([6, 5, 3], seed=0),
    "numba-f32": lambda: nnvec.Network([6, 5, 3], seed=0, dtype="float32"),
    "numpy": lambda: nnvec.Network([6, 5, 3], seed=0, engine="numpy"),
    "reference": lambda: nnvec.ReferenceNetwork([6, 5, 3], seed=0),
    "columns": lambda: nnvec.ColumnNetwork([6, 5, 3], seed=0),
}


def _pickle(net):
    return pickle.loads(pickle.dumps(net))


def _joblib(net, tmp_path):
    joblib.dump(net, tmp_path / "net.joblib")
    return joblib.load(tmp_path / "net.joblib")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fitted", [False, True])
@pytest.mark.parametrize("how", ["pickle", "deepcopy", "joblib"])
def test_round_trip_predicts_and_trains_bit_identically(engine, fitted, how, tmp_path):
    X, y = random_problem([6, 5, 3], 40, 1)
    net = ENGINES[engine]()
    if fitted:
        net.fit(X, y, epochs=2, batch_size=5, eta=1.0)
    twin = {"pickle": _pickle, "deepcopy": copy.deepcopy,
            "joblib": lambda n: _joblib(n, tmp_path)}[how](net)
    assert twin is not net and twin.weights[0] is not net.weights[0]
    assert np.array_equal(twin.predict_proba(X), net.predict_proba(X))
    # the copy carries the shuffling generator too: both continue identically
    net.fit(X, y, epochs=1, batch_size=5, eta=1.0)
    twin.fit(X, y, epochs=1, batch_size=5, eta=1.0)
    for a, b in zip(net.weights + net.biases, twin.weights + twin.biases):
        assert np.array_equal(a, b)


def _train_in_child(blob, X, y):
    net = pickle.loads(blob)
    net.fit(X, y, epochs=2, batch_size=5, eta=1.0)
    return pickle.dumps(net), net.predict(X)


def test_a_network_unpickled_in_a_spawned_process_trains_and_predicts():
    X, y = random_problem([6, 5, 3], 40, 2)
    net = nnvec.Network([6, 5, 3], seed=0)
    net.fit(X, y, epochs=1, batch_size=5, eta=1.0)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        blob, pred = pool.apply(_train_in_child, (pickle.dumps(net), X, y))
    child = pickle.loads(blob)
    net.fit(X, y, epochs=2, batch_size=5, eta=1.0)  # the same two epochs here
    assert np.array_equal(child.weights[0], net.weights[0])
    assert np.array_equal(pred, net.predict(X))

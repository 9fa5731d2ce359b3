import warnings

import numpy as np
import pytest
from problems import random_problem

import nnvec
from nnvec.engines import make_network


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_one_epoch_of_the_book_network_reaches_90_percent(mnist, engine):
    training, _, test = mnist
    net = nnvec.Network([784, 30, 10], seed=0, engine=engine)
    hist = net.fit(*training, epochs=1, batch_size=10, eta=3.0, validation_data=test)
    # the book's first epoch: 9,129 / 10,000
    assert hist.evaluation_accuracy[0] >= 9000
    assert net.accuracy(*test) == hist.evaluation_accuracy[0] / 10_000


def test_sgd_book_format_prints_book_lines(mnist, capsys):
    training, _, test = mnist
    from nnvec.mnist import to_book_format

    train_book = to_book_format(training[0][:1000], training[1][:1000], one_hot=True)
    test_book = to_book_format(test[0][:500], test[1][:500])
    net = nnvec.Network([784, 30, 10], seed=0)
    hist = net.SGD(train_book, 2, 10, 3.0, test_data=test_book)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Epoch 0: ") and " / 500 (" in lines[0]
    assert lines[1].startswith(f"Epoch 1: {hist.evaluation_accuracy[1]} / 500")
    ec, ea, tc, ta = hist  # unpacks like network2.SGD
    assert ea == hist.evaluation_accuracy and len(ea) == 2 and ec == [] and tc == []
    assert ea[1] == net.evaluate(test_book) > 100  # chance is 50
    net.SGD(train_book, 1, 10, 3.0)
    assert capsys.readouterr().out.startswith("Epoch 0 complete")


def test_book_arrays_and_book_lists_train_identically(mnist):
    training, _, _ = mnist
    from nnvec.mnist import to_book_format

    X, y = training[0][:300], training[1][:300]
    a = nnvec.Network([784, 20, 10], seed=5)
    b = nnvec.Network([784, 20, 10], seed=5)
    a.SGD((X, y), 1, 10, 3.0)
    b.SGD(to_book_format(X, y, one_hot=True), 1, 10, 3.0)
    assert all(np.array_equal(p, q) for p, q in zip(a.weights, b.weights))


@pytest.mark.parametrize("engine", ["numba", "numpy", "reference"])
def test_same_seed_same_run_other_seed_other_run(engine):
    X, y = random_problem([10, 6, 3], 50, 0)

    def run(seed):
        net = make_network([10, 6, 3], engine=engine, seed=seed)
        net.fit(X, y, epochs=3, batch_size=7, eta=1.0)
        return net.weights[0]

    assert np.array_equal(run(1), run(1))
    assert not np.allclose(run(1), run(2))


def test_fit_seed_controls_the_shuffle_only():
    X, y = random_problem([10, 6, 3], 50, 0)
    a = nnvec.Network([10, 6, 3], seed=1)
    b = nnvec.Network([10, 6, 3], seed=1)
    a.fit(X, y, epochs=2, batch_size=5, eta=1.0, seed=9)
    b.fit(X, y, epochs=2, batch_size=5, eta=1.0, seed=9)
    assert np.array_equal(a.weights[0], b.weights[0])


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_eta_100_saturates_without_warnings(mnist, engine):
    training, _, test = mnist
    net = nnvec.Network([784, 30, 10], seed=0, engine=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            net.fit(training[0][:5000], training[1][:5000], epochs=1, batch_size=10, eta=100.0)
            acc = net.accuracy(*test)
    assert acc < 0.3  # saturated, as in the book (982 / 10,000): a result, not an error
    assert all(np.all(np.isfinite(w)) for w in net.weights)


def test_nan_weights_stop_training_naming_the_epoch():
    X, y = random_problem([4, 3, 2], 20, 0)
    net = nnvec.Network([4, 3, 2], seed=0)
    net.weights[0][0, 0] = np.nan
    with pytest.raises(nnvec.NonFiniteWeightsError, match="during epoch 0"):
        net.fit(X, y, epochs=3, batch_size=5, eta=1.0)


def test_divergence_names_the_epoch_it_happened_in():
    # L2 decay 1 - eta*lmbda/n = -1e20 per mini-batch: weights overflow to
    # inf in the 16th mini-batch, i.e. during epoch 1 (10 mini-batches each).
    X, y = random_problem([4, 3, 2], 100, 0)
    net = nnvec.Network([4, 3, 2], seed=0)  # numba: no numpy overflow warnings on the way
    with pytest.raises(nnvec.NonFiniteWeightsError, match=r"layer 0 .* during epoch 1 "):
        net.fit(X, y, epochs=5, batch_size=10, eta=1.0, lmbda=1e20 * 100)


def test_float32_trains_and_stays_float32(mnist):
    training, _, test = mnist
    accs = []
    for dtype in ("float32", "float64"):
        net = nnvec.Network([784, 30, 10], seed=1, dtype=dtype)
        net.fit(training[0][:5000], training[1][:5000], epochs=1, batch_size=10, eta=3.0)
        assert all(p.dtype == np.dtype(dtype) for p in net.weights + net.biases)
        accs.append(net.accuracy(*test))
    assert accs[1] > 0.7
    assert abs(accs[0] - accs[1]) <= 0.005


def test_feedforward_shapes():
    net = nnvec.Network([4, 3, 2], seed=0)
    x = np.linspace(0, 1, 4)
    col = net.feedforward(x[:, None])
    assert col.shape == (2, 1)
    assert net.feedforward(x).shape == (2,)
    batch = net.feedforward(np.stack([x, x, x]))
    assert batch.shape == (3, 2)
    np.testing.assert_allclose(batch[1], col[:, 0], rtol=1e-15)
    ref = nnvec.ReferenceNetwork([4, 3, 2], seed=0)
    np.testing.assert_allclose(ref.feedforward(x[:, None]), col, rtol=1e-15)


def test_predict_and_accuracy_agree():
    X, y = random_problem([5, 4, 3], 30, 1)
    net = nnvec.Network([5, 4, 3], seed=0)
    net.fit(X, y, epochs=20, batch_size=5, eta=2.0)
    pred = net.predict(X)
    assert pred.dtype == np.int64 and pred.shape == (30,)
    assert net.accuracy(X, y) == np.mean(pred == y)
    assert net.evaluate((X, y)) == int(np.sum(pred == y))


def test_update_mini_batch_matches_reference():
    X, y = random_problem([6, 4, 3], 8, 2)
    a = nnvec.Network([6, 4, 3], seed=3)
    b = nnvec.ReferenceNetwork([6, 4, 3], seed=3)
    a.update_mini_batch(X, y, 0.7)
    b.update_mini_batch(X, y, 0.7)
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(p, q, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("strategy", ["fused", "batched"])
def test_batch_larger_than_the_data_is_one_full_batch(strategy):
    X, y = random_problem([6, 5, 3], 7, 0)
    ref = nnvec.ReferenceNetwork([6, 5, 3], seed=0)
    net = nnvec.Network([6, 5, 3], seed=0, strategy=strategy)
    ref.fit(X, y, epochs=2, batch_size=50, eta=1.0)
    net.fit(X, y, epochs=2, batch_size=50, eta=1.0)
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_a_user_defined_cost_class_trains_on_the_batched_path():
    class HalfQuadratic(nnvec.QuadraticCost):
        name = "half"

        @staticmethod
        def fn(a, y):
            return 0.5 * nnvec.QuadraticCost.fn(a, y)

        @staticmethod
        def delta(z, a, y):
            return 0.5 * nnvec.QuadraticCost.delta(z, a, y)

    X, y = random_problem([6, 5, 3], 20, 1)
    net = nnvec.Network([6, 5, 3], seed=0, cost=HalfQuadratic)
    ref = nnvec.ReferenceNetwork([6, 5, 3], seed=0, cost=HalfQuadratic)
    assert not net._use_fused()
    net.fit(X, y, epochs=2, batch_size=5, eta=1.0)
    ref.fit(X, y, epochs=2, batch_size=5, eta=1.0)
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    assert nnvec.gradient_check(net, X[:4], y[:4]) < 1e-6


def test_a_cost_instance_with_state_keeps_it():
    class ScaledQuadratic:
        """A cost whose instances hold a scale (state a class cannot carry)."""

        def __init__(self, scale):
            self.scale = scale

        def fn(self, a, y):
            return self.scale * nnvec.QuadraticCost.fn(a, y)

        def delta(self, z, a, y):
            return self.scale * nnvec.QuadraticCost.delta(z, a, y)

    X, y = random_problem([6, 5, 3], 20, 1)
    half = nnvec.Network([6, 5, 3], seed=0, cost=ScaledQuadratic(0.5))
    ref = nnvec.Network([6, 5, 3], seed=0, engine="numpy")
    half.fit(X, y, epochs=2, batch_size=5, eta=2.0)
    ref.fit(X, y, epochs=2, batch_size=5, eta=1.0)  # half the cost at twice the rate
    for a, b in zip(ref.weights + ref.biases, half.weights + half.biases):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_kernels_keep_nan_and_inf_semantics_and_divergence_is_caught():
    from nnvec import _kernels

    assert not {"nnan", "ninf", "fast"} & _kernels.FASTMATH
    X, y = random_problem([6, 5, 3], 50, 0)
    net = nnvec.Network([6, 5, 3], seed=0)
    assert net._use_fused()
    net.weights[1][...] = np.inf  # the fused kernel meets inf at once
    with pytest.raises(nnvec.NonFiniteWeightsError, match="during epoch 0"):
        net.fit(X, y, epochs=2, batch_size=5, eta=1.0)


def test_sgd_returns_the_books_tuple_of_four_lists():
    import pickle

    X, y = random_problem([6, 5, 3], 30, 0)
    data = [(x.reshape(-1, 1), np.eye(3)[k].reshape(-1, 1)) for x, k in zip(X, y)]
    ev = [(x.reshape(-1, 1), int(k)) for x, k in zip(X, y)]
    net = nnvec.Network([6, 5, 3], seed=0)
    res = net.SGD(data, 3, 5, 1.0, evaluation_data=ev, monitor_evaluation_accuracy=True,
                  monitor_training_cost=True)
    ec, ea, tc, ta = res
    assert isinstance(res, tuple) and len(res) == 4
    assert res == (ec, ea, tc, ta) == ([], ea, tc, [])
    assert res[1] is ea and res[:2] == ([], ea) and list(res)[2] is tc
    assert len(ea) == 3 and all(isinstance(c, int) for c in ea) and len(tc) == 3
    assert res.history.seconds == res.seconds and res.history.n_evaluation == 30
    back = pickle.loads(pickle.dumps(res))
    assert back == res and back.history.evaluation_accuracy == ea


def test_monitoring_runs_one_forward_pass_per_data_set_and_epoch(monkeypatch):
    X, y = random_problem([6, 5, 3], 30, 0)
    net = nnvec.Network([6, 5, 3], seed=0)
    calls = []
    real = net._forward_rows
    monkeypatch.setattr(net, "_forward_rows", lambda A: calls.append(len(A)) or real(A))
    hist = net.fit(X, y, epochs=2, batch_size=5, eta=1.0, validation_data=(X[:10], y[:10]),
                   monitor_training=True)
    assert calls == [30, 10, 30, 10]  # training, then validation, once each per epoch
    assert len(hist.evaluation_cost) == len(hist.training_accuracy) == 2
    assert hist.evaluation_accuracy[-1] == round(net.accuracy(X[:10], y[:10]) * 10)

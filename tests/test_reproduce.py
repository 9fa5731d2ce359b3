import json

import numpy as np
import pytest
from problems import random_problem

import nnvec
from nnvec.baselines import average_darkness
from nnvec.callbacks import EarlyStopping
from nnvec.cli import main


def test_average_darkness_matches_the_book_exactly(mnist):
    training, _, test = mnist
    assert average_darkness(training, test) == 2225  # the book: 2,225 / 10,000


def test_darkness_on_a_toy_problem():
    X = np.array([[0.0, 0.1], [0.9, 1.0], [0.0, 0.2], [1.0, 1.0]])
    y = np.array([0, 1, 0, 1])
    Xt = np.array([[0.05, 0.0], [0.8, 0.9], [0.3, 0.3]])
    assert average_darkness((X, y), (Xt, np.array([0, 1, 1]))) == 2


@pytest.mark.slow
def test_short_chapter1_run_lands_where_the_books_epoch_lines_do(mnist):
    # the book's transcript: 9,129 / 9,295 / 9,348 after epochs 0, 1, 2
    training, _, test = mnist
    net = nnvec.Network([784, 30, 10], seed=0)
    hist = net.SGD(training, 3, 10, 3.0, test_data=test)
    c = hist.evaluation_accuracy
    assert 8900 <= c[0] <= 9350
    assert 9100 <= c[2] <= 9500
    assert c[2] > c[0]


def test_early_stopping_rule_on_a_scripted_sequence():
    acc = [50, 60, 60, 61, 61, 61, 61, 70]
    stop = EarlyStopping(3)
    actions = []
    for e, a in enumerate(acc):
        actions.append(stop.update(e, a))
        if actions[-1] == "stop":
            break
    assert actions == ["continue"] * 6 + ["stop"]  # epochs 4, 5, 6 did not beat 61 (epoch 3)
    assert stop.best == 61 and stop.best_epoch == 3


def test_halving_schedule_on_a_scripted_sequence():
    stop = EarlyStopping(1, halve_eta=True, min_eta_ratio=1 / 4)
    actions = [stop.update(e, a) for e, a in enumerate([10, 9, 9, 11, 11, 11])]
    # epoch 1: first miss -> halve (1/2); 2: miss -> halve (1/4); 3: better; 4: miss -> 1/8 < 1/4
    assert actions[:5] == ["continue", "halve", "halve", "continue", "stop"]


class Scripted(nnvec.Network):
    """A network whose evaluation accuracy follows a script (training still runs)."""

    script = []

    def _count_correct(self, X, labels, outputs=None):
        self._calls = getattr(self, "_calls", 0) + 1
        return self.script[self._calls - 1]


def test_fit_stops_at_the_right_epoch_and_restores_the_best_weights():
    X, y = random_problem([5, 4, 3], 30, 0)
    net = Scripted([5, 4, 3], seed=0)
    net.script = [10, 12, 11, 12, 9, 30]
    snapshots = []
    orig = net._check_finite

    def spy(epoch, eta):
        snapshots.append(net.weights[0].copy())
        return orig(epoch, eta)

    net._check_finite = spy
    hist = net.fit(X, y, epochs=6, batch_size=5, eta=1.0, validation_data=(X, y),
                   early_stopping_n=3, restore_best=True)
    assert hist.evaluation_accuracy == [10, 12, 11, 12, 9]  # stopped after epoch 4
    assert hist.stopped_early and hist.best_epoch == 1 and hist.epochs == 5
    assert np.array_equal(net.weights[0], snapshots[1])  # weights of epoch 1 restored


def test_fit_halves_eta_then_stops():
    X, y = random_problem([5, 4, 3], 30, 0)
    net = Scripted([5, 4, 3], seed=0)
    net.script = [10, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]
    hist = net.fit(X, y, epochs=12, batch_size=5, eta=2.0, validation_data=(X, y),
                   early_stopping_n=1, halve_eta=True)
    # eta halves after every epoch without improvement until it would fall below 2/128
    assert hist.eta == [2.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625]
    assert hist.stopped_early


def test_chapter3_sgd_signature_returns_four_monitored_lists(mnist):
    training, validation, _ = mnist
    tr = (training[0][:1000], training[1][:1000])
    va = (validation[0][:500], validation[1][:500])
    net = nnvec.Network([784, 30, 10], seed=0, cost="cross-entropy", init="default")
    ec, ea, tc, ta = net.SGD(tr, 3, 10, 0.5, lmbda=5.0, evaluation_data=va,
                             monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                             monitor_training_cost=True, monitor_training_accuracy=True)
    assert len(ec) == len(ea) == len(tc) == len(ta) == 3
    assert ta[-1] > 700 and ea[-1] > 300  # of 1000 and 500
    assert tc[-1] < tc[0]
    assert ec[-1] == pytest.approx(net.total_cost(va, lmbda=5.0))


def test_l2_shrinks_weights():
    X, y = random_problem([8, 6, 3], 40, 0)
    a = nnvec.Network([8, 6, 3], seed=0)
    b = nnvec.Network([8, 6, 3], seed=0)
    a.fit(X, y, epochs=5, batch_size=4, eta=0.5)
    b.fit(X, y, epochs=5, batch_size=4, eta=0.5, lmbda=20.0)
    assert np.linalg.norm(b.weights[0]) < 0.8 * np.linalg.norm(a.weights[0])


def test_default_init_scales_weights_by_fan_in():
    big = nnvec.Network([784, 100, 10], seed=0, init="large")
    small = nnvec.Network([784, 100, 10], seed=0, init="default")
    assert np.std(big.weights[0]) == pytest.approx(1.0, rel=0.02)
    assert np.std(small.weights[0]) == pytest.approx(1 / np.sqrt(784), rel=0.02)
    assert np.array_equal(big.biases[0], small.biases[0])


@pytest.mark.slow
def test_reproduce_command_writes_table_json_and_curves(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rc = main(["reproduce", "--seeds", "0", "--epochs", "1", "--out", str(tmp_path),
               "--only", "784-10 (no hidden layer)", "784-30-10 eta=100"])
    out = capsys.readouterr().out
    assert rc == 0
    md = (tmp_path / "reproduce.md").read_text()
    assert "| average darkness | 2,225 / 10,000 | 2,225 | 2,225 / 10,000 | exact match |" in md
    assert "784-10 (no hidden layer) (best)" in md and "784-30-10 eta=100 (final)" in md
    data = json.loads((tmp_path / "reproduce.json").read_text())
    assert [r["experiment"]["key"] for r in data["results"]] == [
        "784-30-10 eta=100", "784-10 (no hidden layer)", "average darkness"]
    assert (tmp_path / "learning-curves.png").stat().st_size > 10_000
    assert "reproduce took" in out


def test_cli_chapter3_flags_save_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    model, png = tmp_path / "m.npz", tmp_path / "c.png"
    rc = main(["train", "--sizes", "784", "20", "10", "--epochs", "2", "--seed", "0",
               "--cost", "cross-entropy", "--init", "default", "--lmbda", "5.0", "--eta", "0.5",
               "--early-stopping", "5", "--save", str(model), "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "Accuracy on evaluation data:" in out and "test accuracy:" in out
    net = nnvec.load(model)
    assert net.cost is nnvec.CrossEntropyCost and net.init == "default"
    assert net.hyperparameters["lmbda"] == 5.0 and png.stat().st_size > 5_000

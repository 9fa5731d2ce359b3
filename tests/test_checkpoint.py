"""Checkpoints and resume (nnvec.checkpoint), and Ctrl-C during training.

The promise: a run stopped at any moment (an exception, SIGKILL, Ctrl-C) and
resumed from its checkpoint ends with the same weights, bit for bit, as the
same run never stopped; a checkpoint only resumes the run it belongs to.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from problems import random_problem

import nnvec
from nnvec import CheckpointError, TrainingInterrupted, make_network
from nnvec.engine import Network

ROOT = Path(__file__).resolve().parents[1]
SIZES = [8, 6, 3]


class Crash(Exception):
    pass


class CrashAt:
    """A callback that fails at the end of ``epoch``, before its checkpoint is written."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, epoch, hist):
        if epoch == self.epoch:
            raise Crash


def params(net):
    return net.biases + net.weights


def assert_same_params(a, b):
    for x, y in zip(params(a), params(b), strict=True):
        assert np.array_equal(x, y)


@pytest.fixture
def problem():
    X, y = random_problem(SIZES, 120, 0)
    X_val, y_val = random_problem(SIZES, 40, 1)
    return X, y, (X_val, y_val)


@pytest.mark.parametrize("engine", ["numba", "numpy", "reference", "columns"])
def test_resume_after_a_crash_ends_bit_identical_to_the_uninterrupted_run(tmp_path, problem,
                                                                         engine):
    X, y, val = problem
    # every piece of loop state in play: L2, the eta schedule, the best epoch's weights
    kw = dict(epochs=6, batch_size=7, eta=2.0, lmbda=0.5, validation_data=val,
              early_stopping_n=1, halve_eta=True, restore_best=True)
    full = make_network(SIZES, engine=engine, seed=3)
    h_full = full.fit(X, y, **kw)
    path = tmp_path / "run.ckpt"
    with pytest.raises(Crash):
        make_network(SIZES, engine=engine, seed=3).fit(X, y, checkpoint=path,
                                                       callbacks=[CrashAt(3)], **kw)
    X_before = X.copy()
    resumed = make_network(SIZES, engine=engine, seed=3)
    h = resumed.fit(X, y, checkpoint=path, resume=True, **kw)
    assert_same_params(resumed, full)
    assert h.epochs == h_full.epochs == 6
    assert h.evaluation_accuracy == h_full.evaluation_accuracy
    assert h.eta == h_full.eta and len(set(h.eta)) > 1  # the schedule did halve eta
    assert h.best_epoch == h_full.best_epoch
    assert h.seconds[:3] != h_full.seconds[:3]  # the first 3 epochs are the crashed run's
    assert np.array_equal(X, X_before)


def test_fit_with_its_own_seed_and_the_book_sgd_resume_too(tmp_path, problem):
    X, y, val = problem
    full = Network(SIZES, seed=1)
    full.fit(X, y, epochs=4, batch_size=5, eta=1.0, seed=11)
    path = tmp_path / "a.ckpt"
    with pytest.raises(Crash):
        Network(SIZES, seed=1).fit(X, y, epochs=4, batch_size=5, eta=1.0, seed=11,
                                   checkpoint=path, callbacks=[CrashAt(1)])
    again = Network(SIZES, seed=1)
    again.fit(X, y, epochs=4, batch_size=5, eta=1.0, seed=11, resume=path)
    assert_same_params(again, full)

    book = Network(SIZES, seed=2)
    res = book.SGD((X, y), 3, 5, 1.0, test_data=val)
    path = tmp_path / "b.ckpt"
    Network(SIZES, seed=2).SGD((X, y), 3, 5, 1.0, test_data=val, checkpoint=path)
    finished = Network(SIZES, seed=2)
    res2 = finished.SGD((X, y), 3, 5, 1.0, test_data=val, checkpoint=path, resume=True)
    assert_same_params(finished, book)  # a finished run resumes to its end, training nothing
    assert res2 == res


def test_the_checkpoint_is_rewritten_after_every_epoch(tmp_path, problem):
    X, y, _ = problem
    path = tmp_path / "c.ckpt"
    seen = []

    class Look:
        def on_epoch_end(self, net, epoch, hist):
            if path.exists():
                seen.append(nnvec.checkpoint.read(path)[0]["state"]["epoch"])

    Network(SIZES, seed=0).fit(X, y, epochs=3, batch_size=10, eta=1.0, checkpoint=path,
                               callbacks=[Look()])
    assert seen == [1, 2]  # the user's callback runs before this epoch's write
    meta, arrays = nnvec.checkpoint.read(path)
    assert meta["state"]["epoch"] == 3 and len(meta["history"]["seconds"]) == 3
    assert sorted(arrays) == ["b0", "b1", "w0", "w1"]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


@pytest.mark.parametrize("change, message", [
    (dict(eta=0.5), r"eta=0\.5 where the checkpoint has eta=1\.0"),
    (dict(batch_size=4), r"batch_size=4 where the checkpoint has batch_size=5"),
    (dict(epochs=9), r"epochs=9 where the checkpoint has epochs=3"),
    (dict(lmbda=0.1), r"lmbda=0\.1 where"),
    (dict(X_shift=1e-9), r"training data differ from the checkpoint's"),
    (dict(sizes=[8, 5, 3]), r"sizes=\[8, 5, 3\] where the checkpoint has sizes=\[8, 6, 3\]"),
    (dict(engine="reference"), r"engine='reference' where the checkpoint has engine='numba'"),
    (dict(dtype="float32"), r"dtype='float32' where the checkpoint has dtype='float64'"),
    (dict(cost="cross-entropy"), r"cost='cross-entropy' where"),
])
def test_resuming_with_other_settings_or_data_is_refused_naming_the_difference(
        tmp_path, problem, change, message):
    X, y, _ = problem
    path = tmp_path / "r.ckpt"
    kw = dict(epochs=3, batch_size=5, eta=1.0)
    Network(SIZES, seed=0).fit(X, y, checkpoint=path, **kw)
    before = path.read_bytes()
    net_kw = {k: change.pop(k) for k in ("sizes", "engine", "dtype", "cost") if k in change}
    if "X_shift" in change:
        X = X + change.pop("X_shift")
    kw.update(change)
    net = make_network(net_kw.pop("sizes", SIZES), seed=0, **net_kw)
    start = [p.copy() for p in params(net)]
    with pytest.raises(CheckpointError, match=message):
        net.fit(X, y, checkpoint=path, resume=True, **kw)
    assert path.read_bytes() == before  # refused before anything was trained or written
    for a, b in zip(params(net), start):
        assert np.array_equal(a, b)


def test_bad_checkpoints_and_resume_arguments(tmp_path, problem):
    X, y, _ = problem
    net = Network(SIZES, seed=0)
    kw = dict(epochs=1, batch_size=5, eta=1.0)
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        net.fit(X, y, resume=tmp_path / "missing.ckpt", **kw)
    with pytest.raises(ValueError, match="pass checkpoint=PATH"):
        net.fit(X, y, resume=True, **kw)
    with pytest.raises(TypeError, match="resume must be False, True or a checkpoint path"):
        net.fit(X, y, resume=3, **kw)
    with pytest.raises(ValueError, match="directory .* does not exist"):
        net.fit(X, y, checkpoint=tmp_path / "no" / "such.ckpt", **kw)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="not a readable nnvec checkpoint"):
        net.fit(X, y, resume=junk, **kw)
    model = net.save(tmp_path / "model.npz")
    with pytest.raises(CheckpointError, match="not an nnvec checkpoint"):
        net.fit(X, y, resume=model, **kw)
    good = tmp_path / "good.ckpt"
    Network(SIZES, seed=0).fit(X, y, checkpoint=good, **kw)
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(good.read_bytes()[:-200])
    with pytest.raises(CheckpointError):
        Network(SIZES, seed=0).fit(X, y, resume=cut, **kw)


# ----------------------------------------------------------------- Ctrl-C
class InterruptingNetwork(Network):
    """Sends itself SIGINT in the middle of epoch ``at`` (after the weights moved)."""

    at = 2

    def _train_epoch(self, X, Y, perm, m, eta, lmbda):
        super()._train_epoch(X, Y, perm, m, eta, lmbda)
        if len(self.history_so_far) == self.at:
            signal.raise_signal(signal.SIGINT)

    @property
    def history_so_far(self):
        return self._hist.seconds


def test_ctrl_c_while_an_epoch_trains_rolls_back_to_the_last_completed_epoch(tmp_path, problem):
    X, y, val = problem
    kw = dict(batch_size=5, eta=1.0, validation_data=val)
    two = Network(SIZES, seed=4)
    two.fit(X, y, epochs=2, **kw)
    full = Network(SIZES, seed=4)
    full.fit(X, y, epochs=5, **kw)

    net = InterruptingNetwork(SIZES, seed=4)

    class Keep:  # lets the network see how many epochs are done
        def on_train_begin(self, run):
            net._hist = run.history

        def on_epoch_end(self, *args):
            pass

    path = tmp_path / "i.ckpt"
    with pytest.raises(TrainingInterrupted) as info:
        net.fit(X, y, epochs=5, checkpoint=path, callbacks=[Keep()], **kw)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.epochs_completed == 2
    assert_same_params(net, two)  # epoch 2's half-done work is gone
    assert net.history.epochs == 2
    assert net.history.evaluation_accuracy == two.history.evaluation_accuracy
    assert nnvec.checkpoint.read(path)[0]["state"]["epoch"] == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # and the run goes on from there to the uninterrupted result
    again = Network(SIZES, seed=4)
    again.fit(X, y, epochs=5, checkpoint=path, resume=True, **kw)
    assert_same_params(again, full)


def test_ctrl_c_while_an_epoch_is_recorded_keeps_that_epoch(problem):
    X, y, _ = problem
    three = Network(SIZES, seed=4)
    three.fit(X, y, epochs=3, batch_size=5, eta=1.0)

    class CtrlC:
        def on_epoch_end(self, net, epoch, hist):
            if epoch == 2:
                signal.raise_signal(signal.SIGINT)

    net = Network(SIZES, seed=4)
    with pytest.raises(TrainingInterrupted) as info:
        net.fit(X, y, epochs=6, batch_size=5, eta=1.0, callbacks=[CtrlC()])
    assert info.value.epochs_completed == 3  # the bookkeeping finished, then it stopped
    assert_same_params(net, three)
    assert info.value.history.epochs == 3


# -------------------------------------------------------- real processes
SCRIPT = """
import sys
import numpy as np
import nnvec
path, epochs, resume, out = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
rng = np.random.default_rng(0)
X = rng.random((6000, 784))
y = rng.integers(0, 10, 6000)
net = nnvec.Network([784, 30, 10], seed=7)
net.fit(X, y, epochs=epochs, batch_size=10, eta=1.0, checkpoint=path, resume=resume)
np.savez(out, *net.weights, *net.biases)
"""


def _python(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", SCRIPT, *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path, proc, timeout=120):
    t0 = time.monotonic()
    while not Path(path).exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout
        time.sleep(0.005)


@pytest.mark.slow
def test_a_process_killed_with_sigkill_then_resumed_ends_bit_identical(tmp_path):
    epochs = 150  # about 10 ms each here: the kill lands well before the end
    ckpt, out = tmp_path / "k.ckpt", tmp_path / "out.npz"
    rng = np.random.default_rng()
    for round_ in range(2):  # kill the first run, then the resumed one
        if round_:
            seen = nnvec.checkpoint.read(ckpt)[0]["state"]["epoch"]
        proc = _python(ckpt, epochs, int(round_ > 0), out)
        _wait_for(ckpt, proc)
        if round_:  # wait for the resumed run to write a newer checkpoint
            while nnvec.checkpoint.read(ckpt)[0]["state"]["epoch"] == seen:
                assert proc.poll() is None
                time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.4))  # any moment: mid-epoch, mid-write ...
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL, "the run ended before it was killed"
        assert not out.exists()
    epoch = nnvec.checkpoint.read(ckpt)[0]["state"]["epoch"]
    assert 0 < epoch < epochs
    proc = _python(ckpt, epochs, 1, out)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    rng = np.random.default_rng(0)
    X = rng.random((6000, 784))
    y = rng.integers(0, 10, 6000)
    net = Network([784, 30, 10], seed=7)
    net.fit(X, y, epochs=epochs, batch_size=10, eta=1.0)
    with np.load(out) as f:
        got = [f[f"arr_{i}"] for i in range(4)]
    for a, b in zip(got, net.weights + net.biases, strict=True):
        assert np.array_equal(a, b)


def test_ctrl_c_in_the_first_epoch_still_leaves_a_checkpoint_to_resume(tmp_path, problem):
    X, y, _ = problem
    full = Network(SIZES, seed=4)
    full.fit(X, y, epochs=3, batch_size=5, eta=1.0)
    net = InterruptingNetwork(SIZES, seed=4)
    net.at = 0
    net._hist = nnvec.History()
    path = tmp_path / "first.ckpt"
    with pytest.raises(TrainingInterrupted) as info:
        net.fit(X, y, epochs=3, batch_size=5, eta=1.0, checkpoint=path)
    assert info.value.epochs_completed == 0
    assert_same_params(net, Network(SIZES, seed=4))  # as initialised
    assert nnvec.checkpoint.read(path)[0]["state"]["epoch"] == 0
    again = Network(SIZES, seed=4)
    again.fit(X, y, epochs=3, batch_size=5, eta=1.0, checkpoint=path, resume=True)
    assert_same_params(again, full)


# ------------------------------------------------------ the command line
def _nnvec(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "nnvec", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _model_params(path):
    meta, biases, weights = nnvec.modelfile.read(path)
    return meta, biases + weights


@pytest.mark.slow
def test_nnvec_train_ctrl_c_saves_and_exits_130_and_resume_finishes_the_same_run(tmp_path):
    common = ["train", "--epochs", "4", "--seed", "3", "--batch-size", "10"]
    whole = _nnvec(*common, "--save", tmp_path / "whole.npz")
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err

    ckpt, part = tmp_path / "run.ckpt", tmp_path / "part.npz"
    proc = _nnvec(*common, "--checkpoint", ckpt, "--save", part)
    _wait_for(ckpt, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    done = nnvec.checkpoint.read(ckpt)[0]["state"]["epoch"]
    assert 1 <= done < 4
    assert f"Interrupted: {done} of 4 epochs completed" in out
    assert f"nnvec train --resume {ckpt}" in out
    meta, saved = _model_params(part)  # --save holds the checkpoint's epochs
    _, arrays = nnvec.checkpoint.read(ckpt)
    n = len(saved) // 2
    for a, key in zip(saved, [f"b{l}" for l in range(n)] + [f"w{l}" for l in range(n)]):
        assert np.array_equal(a, arrays[key])
    assert len(meta["history"]["seconds"]) == done

    # typed settings that differ from the checkpoint's are refused, in a second
    refused = _nnvec("train", "--resume", ckpt, "--eta", "0.5", "--epochs", "4")
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 2
    assert "--eta 0.5 (the checkpoint has 3.0)" in err and "--epochs" not in err

    resumed = _nnvec("train", "--resume", ckpt, "--save", tmp_path / "resumed.npz")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"Epoch {done}:" in out and "Epoch 0:" not in out
    _, a = _model_params(tmp_path / "whole.npz")
    _, b = _model_params(tmp_path / "resumed.npz")
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)

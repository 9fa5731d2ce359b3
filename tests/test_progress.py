"""Progress: a bar on a terminal, plain lines otherwise; book lines unchanged."""

import io

import numpy as np
import pytest
from problems import random_problem

import nnvec
from nnvec.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_lines_when_not_a_terminal():
    buf = io.StringIO()
    with Progress(3, "trials", stream=buf) as p:
        for _ in range(3):
            p.update(1, "best 0.9")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in buf.getvalue()
    assert lines[0].startswith("trials: 1/3 (elapsed ") and "left; best 0.9)" in lines[0]
    assert lines[-1].startswith("trials: 3/3 ")


def test_a_bar_on_a_terminal():
    pytest.importorskip("tqdm")
    buf = FakeTerminal()
    with Progress(4, "epochs", stream=buf) as p:
        for _ in range(4):
            p.update(1)
    text = buf.getvalue()
    assert "\r" in text and "4/4" in text and "epochs" in text
    assert "about" not in text  # the bar, not the plain lines


def test_fit_progress_per_epoch_goes_to_stderr(capsys):
    X, y = random_problem([6, 5, 3], 30, 0)
    nnvec.Network([6, 5, 3], seed=0).fit(X, y, epochs=3, batch_size=5, eta=1.0,
                                          validation_data=(X, y), progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert [ln.split(" (")[0] for ln in err.splitlines()] == ["epochs: 1/3", "epochs: 2/3",
                                                             "epochs: 3/3"]
    assert "validation " in err


def test_callbacks_see_every_epoch_and_the_end():
    X, y = random_problem([6, 5, 3], 30, 0)
    seen = []

    class Recorder:
        def on_epoch_end(self, net, epoch, hist):
            seen.append((epoch, len(hist.seconds)))

        def on_train_end(self, net, hist):
            seen.append("end")

    nnvec.Network([6, 5, 3], seed=0).fit(X, y, epochs=3, batch_size=5, eta=1.0,
                                          callbacks=[Recorder()])
    assert seen == [(0, 1), (1, 2), (2, 3), "end"]


def test_the_books_epoch_lines_are_unchanged_by_progress(capsys):
    X, y = random_problem([6, 5, 3], 30, 0)
    data = [(x.reshape(-1, 1), np.eye(3)[k].reshape(-1, 1)) for x, k in zip(X, y)]
    test = [(x.reshape(-1, 1), int(k)) for x, k in zip(X, y)]
    nnvec.Network([6, 5, 3], seed=0).SGD(data, 2, 5, 1.0, test_data=test)
    out = capsys.readouterr().out.splitlines()
    assert [ln.split(" (")[0].rsplit(":", 1)[0] for ln in out] == ["Epoch 0", "Epoch 1"]
    assert all(ln.split(": ")[1].split(" (")[0].endswith(" / 30") for ln in out)


def test_estimator_verbose_reports_epochs(capsys):
    pytest.importorskip("sklearn")
    X, y = random_problem([6, 5, 3], 30, 0)
    nnvec.NetworkClassifier(epochs=2, verbose=True, random_state=0).fit(X, y)
    assert "epochs: 2/2" in capsys.readouterr().err


def test_reproduce_only_with_an_unknown_name_is_an_error(capsys):
    from nnvec.cli import main

    assert main(["reproduce", "--only", "784-30-10", "no-such-run"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'no-such-run'" in err and "784-30-10" in err

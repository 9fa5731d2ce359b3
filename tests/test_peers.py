"""The JAX and PyTorch peers of ``nnvec bench --peers`` compute nnvec's epoch.

They need the optional ``peers`` extra (JAX, PyTorch); each test is skipped
where its library is not installed (the default CI installs neither).
"""

import numpy as np
import pytest
from problems import onehot, random_problem

from nnvec import peers

SIZES = [12, 7, 4]


@pytest.mark.parametrize("name", ["jax", "torch"])
@pytest.mark.parametrize("m", [1, 5])
def test_a_peer_epoch_gives_nnvecs_weights_in_float64(name, m):
    pytest.importorskip(name)
    X, y = random_problem(SIZES, 60, 0)
    X_test, y_test = random_problem(SIZES, 30, 1)
    peer = peers.make_peer(name, SIZES, m, np.float64, threads=1)
    peer.load(X, onehot(y, SIZES[-1]))
    check = peers.check_accuracy(peer, SIZES, m, np.float64, X, onehot(y, SIZES[-1]), X_test,
                                 y_test, eta=2.0)
    acc, peer_acc, diff, early = check
    assert diff < 1e-12 and early < 1e-13  # same arithmetic up to summation order
    assert peer_acc == acc
    assert peers.agrees(check, np.float64)


@pytest.mark.parametrize("name", ["jax", "torch"])
def test_the_accuracy_check_catches_a_peer_that_computes_something_else(name):
    pytest.importorskip(name)
    X, y = random_problem(SIZES, 60, 0)
    peer = peers.make_peer(name, SIZES, 5, np.float64, threads=1)
    peer.load(X, onehot((y + 1) % SIZES[-1], SIZES[-1]))  # the wrong targets
    check = peers.check_accuracy(peer, SIZES, 5, np.float64, X, onehot(y, SIZES[-1]), X, y,
                                 eta=2.0)
    assert check[2] > 1e-3 and check[3] > 1e-3
    assert not peers.agrees(check, np.float64)


def test_unknown_peer_names_are_refused():
    with pytest.raises(ValueError, match="unknown peer 'tf'"):
        peers.make_peer("tf", SIZES, 10, np.float64)


def test_bench_peers_without_jax_or_torch_is_one_line_and_exit_2(monkeypatch, capsys):
    from nnvec.cli import main

    monkeypatch.setattr(peers, "available", lambda: [])
    assert main(["bench", "--peers"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'nnvec[peers]'" in err and len(err.strip().splitlines()) == 1


def test_run_peers_times_and_checks_each_installed_peer():
    if not peers.available():
        pytest.skip("needs JAX or PyTorch (the peers extra)")
    import io

    from nnvec import bench

    records = bench.run_peers([784, 30, 10], [10], ["float64"], 1, n_samples=200)
    (r,) = records
    assert "nnvec" in r["median_s"] and len(r["median_s"]) >= 2
    fastest = min((k for k in r["median_s"] if k != "nnvec"), key=r["median_s"].get)
    assert r["fastest_peer"] == fastest
    assert r["lead"] == pytest.approx(r["median_s"][fastest] / r["median_s"]["nnvec"])
    for check in r["accuracy"].values():
        assert check["same_computation"] and check["early_weight_diff"] < 1e-10
    out = io.StringIO()
    bench.report_peers(records, out)
    assert "weights after 10 mini-batches within" in out.getvalue()
    (row,) = [line for line in out.getvalue().splitlines() if line.startswith("float64")]
    assert " !" not in row and " *" not in row


def test_bench_peers_refuses_samples_that_split_a_mini_batch_before_timing(monkeypatch, capsys):
    from nnvec.cli import main

    monkeypatch.setattr(peers, "available", lambda: ["jax"])  # reach the check without JAX
    assert main(["bench", "--peers", "--samples", "995", "--batch-sizes", "10"]) == 2
    assert "995 samples is not a multiple of m=10" in capsys.readouterr().err
    assert main(["bench", "--grid", "--peers", "--batch-sizes", "10", "300"]) == 2
    assert "10000 samples is not a multiple of m=300" in capsys.readouterr().err

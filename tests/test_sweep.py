"""nnvec sweep: grids, parallel trials (processes, Dask), failures, interruption."""

import json
import os
import signal
import subprocess
import sys
import time

import numba
import pytest

from nnvec import sweep as S
from nnvec._threads import available_cores
from nnvec.cli import main


def test_the_grid_is_every_combination():
    trials = S.make_grid(hidden=[10, 30], eta=[0.1, 1.0, 3.0], lmbda=[0, 5], seeds=[0, 1],
                         epochs=4)
    assert len(trials) == 24
    assert len({(t["hidden"], t["eta"], t["lmbda"], t["seed"]) for t in trials}) == 24
    assert [t["id"] for t in trials] == list(range(24))


@pytest.mark.parametrize("kw, match", [({"eta": [0.0]}, "eta"), ({"lmbda": [-1.0]}, "lmbda"),
                                       ({"hidden": [0]}, "positive"),
                                       ({"batch_size": [0]}, "batch_size")])
def test_bad_grid_values_fail_before_anything_runs(kw, match):
    with pytest.raises(ValueError, match=match):
        S.sweep(S.make_grid(**kw), workers=1)


def test_a_trial_that_crashes_is_recorded(tmp_path):
    rec = S.run_trial(S.make_grid(epochs=1)[0], subset=100, data_dir=str(tmp_path))
    assert rec["status"] == "crashed" and "MNIST data not found" in rec["error"]


def test_local_processes_share_the_cores_and_load_data_once(tmp_path):
    trials = S.make_grid(hidden=[10], eta=[1.0, 3.0], lmbda=[0.0, 1e25], epochs=2)
    res = S.sweep(trials, subset=1000, workers=2, out_dir=tmp_path)
    assert len(res.records) == 4
    by_status = sorted(r["status"] for r in res.records)
    assert by_status == ["diverged", "diverged", "ok", "ok"]  # diverging: recorded, not fatal
    assert all("during epoch 0" in r["error"] for r in res.records if r["status"] == "diverged")
    share = max(1, available_cores() // 2)
    for r in res.records:
        assert r["numba_pool"] == min(share, numba.config.NUMBA_NUM_THREADS)
        assert r["data_loads"] == 1  # per worker process, however many trials it ran
    ok = res.ranked
    assert ok[0]["best_accuracy"] >= ok[1]["best_accuracy"] > 0.2
    assert len(ok[0]["validation_accuracy"]) == 2 and ok[0]["n_training"] == 1000
    assert 0.2 < res.test_accuracy <= 1.0
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert len(saved["trials"]) == 4 and saved["winner"] == res.winner["id"]
    assert saved["winner_test_accuracy"] == res.test_accuracy
    assert "params" not in saved["trials"][0]
    assert (tmp_path / "sweep.png").stat().st_size > 5000


def test_nnvec_sweep_on_a_dask_local_cluster(tmp_path, capsys):
    pytest.importorskip("distributed")
    rc = main(["sweep", "--hidden", "10", "20", "--eta", "0.5", "3.0", "--epochs", "2",
               "--subset", "1000", "--scheduler", "local", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Dask LocalCluster" in out and "Winner: " in out and "test accuracy" in out
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert len(saved["trials"]) == 4
    assert all(t["worker"].startswith("tcp://127.0.0.1") for t in saved["trials"])
    assert all(t["status"] == "ok" and t["n_training"] == 1000 for t in saved["trials"])
    assert saved["setup"]["scheduler"] == "local"


def test_sweep_checks_its_arguments_first(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["sweep", "--out", str(blocker / "sub"), "--epochs", "1"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["sweep", "--scheduler", "nowhere", "--epochs", "1",
                 "--out", str(tmp_path / "o")]) == 2
    assert "--scheduler" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_keeps_every_finished_trial(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "nnvec", "sweep", "--eta", "0.5", "1", "2", "3", "4", "5",
           "--seeds", "0", "1", "2", "3", "--epochs", "30", "--subset", "5000", "--workers", "2",
           "--out", str(out)]
    # Its own process group, signalled as a whole: what Ctrl-C in a terminal does.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if json.loads((out / "sweep.json").read_text())["trials"]:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stderr
    saved = json.loads((out / "sweep.json").read_text())
    assert 1 <= len(saved["trials"]) < 24 and saved["interrupted"] is True
    assert all(t["status"] == "ok" for t in saved["trials"])

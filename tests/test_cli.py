import subprocess
import sys

import pytest

from nnvec.cli import main


@pytest.mark.slow
def test_train_one_epoch_save_and_evaluate(tmp_path, capsys):
    model = tmp_path / "m.npz"
    rc = main(["train", "--epochs", "2", "--seed", "0", "--save", str(model)])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("nnvec: Network(sizes=[784, 30, 10]")
    assert lines[1].startswith("Epoch 0: ") and lines[1].split()[4] == "10000"
    assert int(lines[1].split()[2]) >= 9000
    assert lines[2].startswith("Epoch 1: ")
    assert "Best test accuracy:" in out and f"Saved model to {model}" in out
    final = int(lines[2].split()[2])
    rc = main(["evaluate", str(model), "--validation"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"Test accuracy: {final} / 10000" in out and "Validation accuracy:" in out


def test_bad_arguments_give_a_clear_error_and_status_2(capsys):
    assert main(["train", "--eta", "0", "--epochs", "1"]) == 2
    assert "eta must be positive" in capsys.readouterr().err
    assert main(["train", "--sizes", "784", "--epochs", "1"]) == 2
    assert "at least two layers" in capsys.readouterr().err
    assert main(["train", "--sizes", "100", "10", "--epochs", "1"]) == 2
    assert "MNIST needs 784 inputs" in capsys.readouterr().err


def test_output_paths_are_checked_before_anything_trains(tmp_path, capsys, monkeypatch):
    import nnvec.mnist

    def no_loading(*a, **k):
        raise AssertionError("data was loaded before the arguments were checked")

    monkeypatch.setattr(nnvec.mnist, "load_mnist", no_loading)
    missing = tmp_path / "no-such-dir"
    for argv, flag in ((["train", "--save", str(missing / "m.npz")], "--save"),
                       (["train", "--plot", str(tmp_path)], "--plot"),
                       (["train", "--checkpoint", str(missing / "c.ckpt")], "--checkpoint"),
                       (["train", "--resume", str(missing / "c.ckpt")], "checkpoint not found"),
                       (["bench", "--json", str(missing / "b.json")], "--json"),
                       (["bench", "--plot", str(missing / "b.png")], "--plot")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert flag in err and len(err.strip().splitlines()) == 1


def test_a_bug_inside_nnvec_is_not_disguised_as_a_user_error(monkeypatch):
    import nnvec.cli

    def broken(args, out):
        raise TypeError("internal bug")

    monkeypatch.setattr(nnvec.cli, "_evaluate", broken)
    with pytest.raises(TypeError, match="internal bug"):
        main(["evaluate", "whatever.npz"])


def test_threads_option(capsys):
    assert main(["train", "--threads", "0", "--epochs", "1"]) == 2
    assert "threads must be a positive integer" in capsys.readouterr().err
    assert main(["train", "--engine", "numpy", "--threads", "1", "--epochs", "1"]) == 2
    assert "--threads applies to --engine numba only" in capsys.readouterr().err


def test_missing_data_dir(tmp_path, capsys):
    assert main(["train", "--data-dir", str(tmp_path), "--epochs", "1"]) == 2
    assert "MNIST data not found" in capsys.readouterr().err


def test_evaluate_foreign_file(tmp_path, capsys):
    p = tmp_path / "x.npz"
    p.write_bytes(b"junk")
    assert main(["evaluate", str(p)]) == 2
    assert "not a readable nnvec model" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "nnvec", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train" in r.stdout


def test_plot_without_matplotlib_fails_before_training(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert main(["train", "--epochs", "1", "--plot", "x.png"]) == 2
    captured = capsys.readouterr()
    assert "pip install 'nnvec[plot]'" in captured.err
    assert "Epoch 0" not in captured.out  # nothing was trained first


def test_the_command_returns_mains_status_and_leaves_the_gc_frozen(monkeypatch, capsys):
    # run() is what `nnvec` and `python -m nnvec` call: main()'s exit status, and the
    # objects left frozen so the interpreter's exit does not garbage-collect them
    import gc

    from nnvec.cli import run

    monkeypatch.setattr(sys, "argv", ["nnvec", "train", "--eta", "-1"])
    try:
        assert run() == 2
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert "eta" in capsys.readouterr().err


def test_train_parses_without_importing_the_other_commands():
    # The book's run starts without bench, reproduce and sweep (10-15 ms of
    # imports at every start); every other command line still knows them all.
    code = ("import sys; from nnvec import cli; p = cli._build_parser('train'); "
            "a = p.parse_args(['train', '--epochs', '2']); "
            "print(a.epochs, sorted(m for m in ('nnvec.bench', 'nnvec.reproduce', "
            "'nnvec.sweep') if m in sys.modules)); "
            "p = cli._build_parser('bench'); print(sorted(m for m in ('nnvec.bench', "
            "'nnvec.reproduce', 'nnvec.sweep') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.splitlines() == ["2 []", "['nnvec.bench', 'nnvec.reproduce', 'nnvec.sweep']"]

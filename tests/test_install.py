"""A regular install (a wheel, not the checkout) trains offline on its own MNIST."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_venv_trains_from_an_unrelated_directory(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("needs git to copy the tracked files")
    # Build from a copy of the tracked files, so nothing of the checkout leaks in.
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(src)], check=True)
    (wheel,) = wheels.glob("nnvec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "nnvec/mnist_data/train-images-idx3-ubyte.gz" in names

    # A fresh venv: nnvec from the wheel only; numpy and numba seen through a
    # .pth line to this interpreter's site-packages (installs stay offline).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pathlib.Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                    "-q", str(wheel)], check=True)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NNVEC_DATA_DIR"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba-cache")
    r = subprocess.run([str(venv / "bin" / "nnvec"), "train", "--epochs", "1", "--seed", "0"],
                       cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Epoch 0: " in r.stdout
    where = subprocess.run([str(py), "-c", "import nnvec.mnist as m; print(m.find_data_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert "site-packages" in where.stdout and "mnist_data" in where.stdout

    # A second process loads the fused kernels that `nnvec train` compiled, for
    # another network shape and dense float64 input (train used SparseImages):
    # one compiled kernel serves them all, and the on-disk cache is used.
    again = subprocess.run([str(py), "-c", CACHED_KERNELS], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    stats = json.loads(again.stdout.strip().splitlines()[-1])
    assert stats == {"hits": 2, "misses": 0}


CACHED_KERNELS = r"""
import json, numpy as np, nnvec
from nnvec import _kernels as K
X = np.random.default_rng(0).random((40, 784))
# no layer of WIDE_MIN_WEIGHTS: the kernels `nnvec train` compiled, not their 512-bit twins
net = nnvec.Network([784, 10, 11, 10], seed=0, strategy="fused")
net.fit(X, np.arange(40) % 10, epochs=1, batch_size=7, eta=1.0)
net.predict(X)
kernels = (K.train_epoch_fused, K.forward_rows_fused)
print(json.dumps({"hits": sum(sum(d.stats.cache_hits.values()) for d in kernels),
                  "misses": sum(sum(d.stats.cache_misses.values()) for d in kernels)}))
"""

import json
import os

import numpy as np
import pytest
from problems import random_problem

import nnvec
from nnvec import _npz


@pytest.fixture
def trained():
    X, y = random_problem([6, 5, 3], 40, 0)
    net = nnvec.Network([6, 5, 3], seed=0, cost="cross-entropy", init="default")
    net.fit(X, y, epochs=3, batch_size=8, eta=0.5, lmbda=0.1, validation_data=(X, y))
    return net, X


@pytest.mark.parametrize("engine", ["numba", "numpy", "reference", "columns"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_is_bit_identical(tmp_path, trained, engine, dtype):
    net, X = trained
    if dtype == "float32":
        net = nnvec.Network([6, 5, 3], seed=1, dtype="float32")
    path = net.save(tmp_path / "model")
    assert path.name == "model.npz"
    back = nnvec.load(path, engine=engine)
    assert back.sizes == net.sizes and back.cost is net.cost and back.init == net.init
    assert back.dtype == net.dtype
    for a, b in zip(net.weights + net.biases, back.weights + back.biases):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    out_saved = net.feedforward(X.astype(dtype))
    out_loaded = back.feedforward(X.astype(dtype))
    if engine == "numba":  # same engine as the saved network: bit-identical
        assert np.array_equal(out_loaded, out_saved)
    else:  # another engine's forward pass rounds differently
        np.testing.assert_allclose(out_loaded, out_saved, rtol=1e-5 if dtype == "float32" else 1e-13)


def test_metadata_and_history(tmp_path, trained):
    net, _ = trained
    path = net.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["nnvec_meta"][()]))
        assert sorted(z.files) == ["b0", "b1", "nnvec_meta", "w0", "w1"]
    assert meta["format"] == "nnvec-model" and meta["format_version"] == 1
    assert meta["sizes"] == [6, 5, 3] and meta["cost"] == "cross-entropy"
    assert meta["hyperparameters"]["lmbda"] == 0.1
    back = nnvec.load(path)
    assert back.history.evaluation_accuracy == net.history.evaluation_accuracy
    assert len(back.history.seconds) == 3


def test_not_a_zip(tmp_path):
    p = tmp_path / "x.npz"
    p.write_bytes(b"hello, not a model")
    with pytest.raises(nnvec.ModelFileError, match="not a readable nnvec model"):
        nnvec.load(p)


def test_foreign_npz(tmp_path):
    p = tmp_path / "foreign.npz"
    np.savez(p, a=np.zeros(3))
    with pytest.raises(nnvec.ModelFileError, match="not an nnvec model"):
        nnvec.load(p)


def test_pickled_object_is_refused(tmp_path, trained):
    p = tmp_path / "evil.npz"
    np.savez(p, nnvec_meta=np.array([{"format": "nnvec-model"}], dtype=object))
    with pytest.raises(nnvec.ModelFileError, match="pickles are refused"):
        nnvec.load(p)


def test_truncated(tmp_path, trained):
    net, _ = trained
    p = net.save(tmp_path / "m.npz")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(nnvec.ModelFileError):
        nnvec.load(p)


def rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("nnvec_meta")[()]))
    for k, v in changes.items():
        if k in meta:
            meta[k] = v
        else:
            arrays[k] = v
    np.savez(path, nnvec_meta=np.array(json.dumps(meta)), **arrays)


def test_future_version(tmp_path, trained):
    p = trained[0].save(tmp_path / "m.npz")
    rewrite(p, format_version=2)
    with pytest.raises(nnvec.ModelFileError, match="format version 2, newer than this nnvec reads"):
        nnvec.load(p)


def test_inconsistent_shapes(tmp_path, trained):
    p = trained[0].save(tmp_path / "m.npz")
    rewrite(p, w1=np.zeros((3, 4)))
    with pytest.raises(nnvec.ModelFileError, match=r"'w1' has shape \(3, 4\).* need \(3, 5\)"):
        nnvec.load(p)


def test_non_finite_values(tmp_path, trained):
    p = trained[0].save(tmp_path / "m.npz")
    b = np.zeros(5)
    b[2] = np.nan
    rewrite(p, b0=b)
    with pytest.raises(nnvec.ModelFileError, match="layer 0 holds NaN or inf"):
        nnvec.load(p)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        nnvec.load(tmp_path / "nope.npz")


def test_crash_during_save_leaves_previous_file_intact(tmp_path, trained, monkeypatch):
    net, _ = trained
    p = net.save(tmp_path / "m.npz")
    before = p.read_bytes()
    other = nnvec.Network([6, 5, 3], seed=99)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash mid-write")

    monkeypatch.setattr(_npz.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        other.save(p)
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]  # no temp file left behind
    assert np.array_equal(nnvec.load(p).weights[0], net.weights[0])

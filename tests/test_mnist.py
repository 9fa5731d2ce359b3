import gzip
import struct

import numpy as np
import pytest

import nnvec
from nnvec.mnist import (
    MNISTFormatError,
    find_data_dir,
    load_data_wrapper,
    read_idx_images,
    read_idx_labels,
)


def write_images(path, images, magic=2051, extra=b"", compress=True):
    n, r, c = images.shape
    raw = struct.pack(">IIII", magic, n, r, c) + images.astype(np.uint8).tobytes() + extra
    path.write_bytes(gzip.compress(raw) if compress else raw)


def write_labels(path, labels, magic=2049, n=None, compress=True):
    raw = struct.pack(">II", magic, len(labels) if n is None else n) + bytes(labels)
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path, compress):
    imgs = np.arange(3 * 2 * 4, dtype=np.uint8).reshape(3, 2, 4)
    write_images(tmp_path / "i.gz", imgs, compress=compress)
    write_labels(tmp_path / "l.gz", [7, 0, 9], compress=compress)
    assert np.array_equal(read_idx_images(tmp_path / "i.gz"), imgs)
    assert read_idx_labels(tmp_path / "l.gz").tolist() == [7, 0, 9]


def test_wrong_magic(tmp_path):
    write_images(tmp_path / "i.gz", np.zeros((2, 2, 2)), magic=2049)
    with pytest.raises(MNISTFormatError, match=r"i.gz: magic number 2049, expected 2051.*label file"):
        read_idx_images(tmp_path / "i.gz")
    write_labels(tmp_path / "l.gz", [1, 2], magic=1234)
    with pytest.raises(MNISTFormatError, match="magic number 1234, expected 2049"):
        read_idx_labels(tmp_path / "l.gz")


def test_truncated_files(tmp_path):
    imgs = np.zeros((4, 3, 3), dtype=np.uint8)
    raw = struct.pack(">IIII", 2051, 4, 3, 3) + imgs.tobytes()
    (tmp_path / "i").write_bytes(raw[:-5])
    with pytest.raises(MNISTFormatError, match="header says 4 images of 3x3.*truncated"):
        read_idx_images(tmp_path / "i")
    write_labels(tmp_path / "l", [1, 2], n=5, compress=False)
    with pytest.raises(MNISTFormatError, match="header says 5 labels"):
        read_idx_labels(tmp_path / "l")
    (tmp_path / "h").write_bytes(b"\x00\x00\x08")
    with pytest.raises(MNISTFormatError, match="too short"):
        read_idx_images(tmp_path / "h")


def test_truncated_gzip_stream(tmp_path):
    data = gzip.compress(struct.pack(">II", 2049, 100) + bytes(100))
    (tmp_path / "l.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(MNISTFormatError, match="corrupt or truncated gzip"):
        read_idx_labels(tmp_path / "l.gz")


def test_label_out_of_range(tmp_path):
    write_labels(tmp_path / "l.gz", [1, 12])
    with pytest.raises(MNISTFormatError, match="label 12 is not a digit"):
        read_idx_labels(tmp_path / "l.gz")


def make_dir(tmp_path, n_train=50_003, n_train_labels=None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    write_images(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n_train, 2, 2)))
    write_labels(tmp_path / "train-labels-idx1-ubyte.gz",
                 list(rng.integers(0, 10, n_train_labels or n_train)))
    write_images(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (5, 2, 2)))
    write_labels(tmp_path / "t10k-labels-idx1-ubyte.gz", [1, 2, 3, 4, 5])
    return tmp_path


def test_count_mismatch(tmp_path):
    make_dir(tmp_path, n_train=50_003, n_train_labels=50_002)
    with pytest.raises(MNISTFormatError, match="50003 images but .* 50002 labels"):
        nnvec.load_mnist(tmp_path)


def test_split_on_a_small_directory(tmp_path):
    make_dir(tmp_path)
    (X, y), (Xv, yv), (Xt, yt) = nnvec.load_mnist(tmp_path)
    assert X.shape == (50_000, 4) and Xv.shape == (3, 4) and Xt.shape == (5, 4)
    assert yt.tolist() == [1, 2, 3, 4, 5]


def test_missing_directory_lists_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)Looked in:.*missing train-images"):
        find_data_dir(tmp_path)


def test_env_var_is_used(tmp_path, monkeypatch):
    make_dir(tmp_path)
    monkeypatch.setenv("NNVEC_DATA_DIR", str(tmp_path))
    assert find_data_dir() == tmp_path


def test_bundled_mnist_is_the_book_split(mnist):
    (X, y), (Xv, yv), (Xt, yt) = mnist
    assert X.shape == (50_000, 784) and Xv.shape == (10_000, 784) and Xt.shape == (10_000, 784)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    # the first labels of each part of the real MNIST files
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert yt[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y, minlength=10).sum() == 50_000
    assert np.bincount(yt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_book_format(mnist):
    tr, va, te = load_data_wrapper()
    assert len(tr) == 50_000 and len(va) == 10_000 and len(te) == 10_000
    x, y = tr[0]
    assert x.shape == (784, 1) and y.shape == (10, 1) and y[5, 0] == 1.0 and y.sum() == 1.0
    x, label = te[0]
    assert x.shape == (784, 1) and label == 7
    assert np.array_equal(x[:, 0], mnist[2][0][0])


@pytest.mark.parametrize("compress", [True, False])
def test_sparse_reading_in_pieces_matches_the_dense_reader(tmp_path, monkeypatch, compress):
    from nnvec import mnist
    from nnvec.mnist import read_idx_images_sparse

    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (23, 5, 7)).astype(np.uint8)
    imgs[rng.random(imgs.shape) < 0.7] = 0
    imgs[4] = 0                                    # an empty image
    write_images(tmp_path / "i", imgs, compress=compress)
    # pieces of 2 images (70 bytes rounds down to 35-byte images): 12 pieces,
    # the last one image
    monkeypatch.setattr(mnist, "PIECE_BYTES", 80)
    S = read_idx_images_sparse(tmp_path / "i")
    assert isinstance(S, nnvec.SparseImages) and S.shape == (23, 35)
    assert np.array_equal(S.toarray(), read_idx_images(tmp_path / "i").reshape(23, 35) / 255.0)
    # the same errors as the dense reader, after the pieces before them
    write_images(tmp_path / "more", imgs, extra=b"\x01", compress=compress)
    with pytest.raises(MNISTFormatError, match="holds more; it is truncated or corrupt"):
        read_idx_images_sparse(tmp_path / "more")
    raw = struct.pack(">IIII", 2051, 23, 5, 7) + imgs.tobytes()
    (tmp_path / "short").write_bytes(raw[:-40])
    with pytest.raises(MNISTFormatError, match="header says 23 images of 5x7.*truncated"):
        read_idx_images_sparse(tmp_path / "short")
    write_images(tmp_path / "none", np.zeros((0, 5, 7), np.uint8), compress=compress)
    assert read_idx_images_sparse(tmp_path / "none").shape == (0, 35)


def test_sparse_images_concatenate():
    rng = np.random.default_rng(4)
    a, b = (rng.integers(0, 3, (n, 6)).astype(np.uint8) for n in (4, 3))
    S = nnvec.SparseImages.concatenate([nnvec.SparseImages.from_dense(x) for x in (a, b)], 6)
    assert np.array_equal(S.toarray(), np.vstack([a, b]) / 255.0)
    assert nnvec.SparseImages.concatenate([], 6).shape == (0, 6)
    with pytest.raises(ValueError, match="cannot join"):
        nnvec.SparseImages.concatenate([nnvec.SparseImages.from_dense(a)], 7)
    with pytest.raises(TypeError, match="from_dense"):
        nnvec.SparseImages.concatenate([a], 6)


# ------------------------------------------------------------ the data cache
def _same_compact(a, b):
    for (Xa, ya), (Xb, yb) in zip(a, b):
        assert Xa.shape == Xb.shape and ya.dtype == yb.dtype == np.int64
        assert np.array_equal(ya, yb)
        for name in ("indptr", "steps", "vals"):
            assert np.array_equal(getattr(Xa, name), getattr(Xb, name)), name


def _no_reading(monkeypatch):
    def fail(*args):
        raise AssertionError("read the IDX file instead of the cache")
    monkeypatch.setattr("nnvec.mnist.read_idx_images_sparse", fail)


def test_cache_gives_the_same_arrays_without_reading_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("NNVEC_CACHE_DIR", str(tmp_path / "cache"))
    d = make_dir(tmp_path / "data")
    fresh = nnvec.load_mnist(d, compact=True, cache=False)
    assert not (tmp_path / "cache").exists()  # cache=False writes nothing
    first = nnvec.load_mnist(d, compact=True)
    assert len(list((tmp_path / "cache").glob("mnist-pair-*.npz"))) == 2
    _same_compact(first, fresh)
    _no_reading(monkeypatch)
    again = nnvec.load_mnist(d, compact=True)
    _same_compact(again, fresh)
    assert not again[0][0].steps.flags.writeable
    # a copy of the data elsewhere is another entry: read, not taken from this one's
    d2 = tmp_path / "copy"
    d2.mkdir()
    for f in d.iterdir():
        (d2 / f.name).write_bytes(f.read_bytes())
    with pytest.raises(AssertionError, match="instead of the cache"):
        nnvec.load_mnist(d2, compact=True)


def test_cache_reads_a_changed_file_again(tmp_path, monkeypatch):
    monkeypatch.setenv("NNVEC_CACHE_DIR", str(tmp_path / "cache"))
    d = make_dir(tmp_path / "data")
    nnvec.load_mnist(d, compact=True)
    rng = np.random.default_rng(1)
    new = rng.integers(0, 256, (5, 2, 2))
    write_images(d / "t10k-images-idx3-ubyte.gz", new)
    _, _, (Xt, _) = nnvec.load_mnist(d, compact=True)
    assert np.array_equal(np.asarray(Xt), new.reshape(5, 4) / 255.0)
    # a file turned bad is reported, not served from the cache
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b junk")
    with pytest.raises(MNISTFormatError, match="t10k-labels"):
        nnvec.load_mnist(d, compact=True)


def test_damaged_or_foreign_cache_entries_are_read_again(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("NNVEC_CACHE_DIR", str(cache))
    d = make_dir(tmp_path / "data")
    fresh = nnvec.load_mnist(d, compact=True, cache=False)
    nnvec.load_mnist(d, compact=True)
    big = max(cache.glob("mnist-pair-*.npz"), key=lambda p: p.stat().st_size)
    raw = bytearray(big.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one byte inside the arrays: its CRC-32 no longer matches
    big.write_bytes(bytes(raw))
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    big.write_bytes(big.read_bytes()[:1000])  # cut short
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    np.savez(big, meta=np.frombuffer(b'{"format": 0}', np.uint8))  # not an entry of ours
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    with open(big, "wb") as f:  # a lone array under the entry's name
        np.save(f, np.arange(3))
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    big.write_bytes(b"not a zip file at all")
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    # each time the entry was written again, whole: now it serves
    _no_reading(monkeypatch)
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    assert not list(cache.glob(".*tmp"))


def test_cache_off_or_unwritable_still_loads(tmp_path, monkeypatch):
    d = make_dir(tmp_path / "data")
    fresh = nnvec.load_mnist(d, compact=True, cache=False)
    monkeypatch.setenv("NNVEC_CACHE_DIR", "")
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("NNVEC_CACHE_DIR", str(blocker / "cache"))
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    monkeypatch.delenv("NNVEC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _same_compact(nnvec.load_mnist(d, compact=True), fresh)
    assert len(list((tmp_path / "xdg" / "nnvec").glob("mnist-pair-*.npz"))) == 2

"""SparseImages: the same numbers as the dense array, and the same training."""

import numba
import numpy as np
import pytest

import nnvec
from nnvec import _kernels as K
from nnvec import _numpy_kernels as N
from nnvec.checkpoint import fingerprint
from nnvec.engine import _kernel_inputs, _packed
from nnvec.sparse import SparseImages


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def awkward_images(n=40, n_features=784, seed=0):
    """Mostly-zero uint8 rows plus the edge cases of the step encoding."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (n, n_features)).astype(np.uint8)
    img[rng.random((n, n_features)) < 0.8] = 0
    img[0] = 0                                  # an empty row
    img[3] = 255                                # a full row
    if n_features > 600:
        img[1] = 0
        img[1, [0, 255, 511, 597, n_features - 1]] = [1, 2, 3, 4, 255]  # gaps 255, 256, 86, big
        img[2] = 0
        img[2, 600] = 9                         # first pixel past 510: two bridges
    return img


def dense(img, dtype):
    X = img.reshape(len(img), -1).astype(dtype)
    X /= 255.0
    return X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_toarray_holds_exactly_the_dense_values(dtype):
    img = awkward_images()
    S = SparseImages.from_dense(img)
    assert S.shape == img.shape and len(S) == len(img)
    assert np.array_equal(S.toarray(dtype), dense(img, dtype))
    assert np.array_equal(np.asarray(S), dense(img, np.float64))
    assert S.nbytes < img.nbytes  # smaller than the uint8 images themselves


def encode_by_loop(img):
    """The step encoding written the plain way, one pixel at a time."""
    indptr, steps, vals = [0], [], []
    for row in img.reshape(len(img), -1):
        prev = 0
        for col in np.flatnonzero(row):
            gap = int(col) - prev
            while gap > 255:
                steps.append(255)
                vals.append(0)
                gap -= 255
            steps.append(gap)
            vals.append(int(row[col]))
            prev = int(col)
        indptr.append(len(steps))
    return indptr, steps, vals


@pytest.mark.parametrize("n_features", [784, 1300, 3])
def test_encoding_matches_a_per_pixel_loop(n_features):
    img = awkward_images(60, n_features, seed=n_features)
    if n_features > 1200:
        img[4] = 0
        img[4, [7, 1200, 1210]] = [5, 6, 7]     # gap 1193 mid-row: four bridges
        img[5] = 0
        img[5, [3, 513, 1023]] = [1, 2, 3]      # gaps of exactly 510: one bridge, not two
    S = SparseImages.from_dense(img)
    indptr, steps, vals = encode_by_loop(img)
    assert S.indptr.tolist() == indptr
    assert S.steps.tolist() == steps and S.vals.tolist() == vals


@pytest.mark.parametrize("n_features", [784, 1300, 3])
def test_encoding_kernel_matches_its_numpy_twin(n_features):
    img = awkward_images(60, n_features, seed=n_features + 1)
    if n_features > 1200:
        img[7] = 0
        img[7, [300, 1299]] = [8, 9]            # the first pixel past 255, then 999 columns on
        img[8] = 0
        img[8, [3, 513, 1278]] = [1, 2, 3]      # gaps of exactly 510 and 765
    n = len(img)
    room = np.count_nonzero(img) + n * (n_features // 255 + 1)
    got = [(np.full(n + 1, -1, np.int64), np.zeros(room, np.uint8), np.zeros(room, np.uint8))
           for _ in range(2)]
    e_numba = K.encode_nonzero_into(img, *got[0])
    e_numpy = N.encode_nonzero_into(img, *got[1])
    indptr, steps, vals = encode_by_loop(img)
    assert e_numba == e_numpy == len(steps)
    for out in got:
        assert out[0].tolist() == indptr
        assert out[1][:len(steps)].tolist() == steps and out[2][:len(vals)].tolist() == vals
    # what from_dense builds without checking passes the checking constructor
    S = SparseImages.from_dense(img)
    assert np.array_equal(SparseImages(S.indptr, S.steps, S.vals, n_features).toarray(),
                          S.toarray())


def test_row_selection_matches_dense_indexing():
    img = awkward_images()
    S, X = SparseImages.from_dense(img), dense(img, np.float64)
    mask = np.arange(len(img)) % 3 == 0
    for key in (slice(5, 17), slice(-3, None), slice(9, 4), slice(None, None, -2),
                np.array([3, 1, 1, 0, 39]), mask):
        assert np.array_equal(S[key].toarray(), X[key])
    with pytest.raises(IndexError, match="rows"):
        S[:, 3]


def test_three_d_images_and_bad_input():
    img = awkward_images(10, 28 * 28).reshape(10, 28, 28)
    assert np.array_equal(SparseImages.from_dense(img).toarray(), dense(img, np.float64))
    with pytest.raises(TypeError, match="uint8"):
        SparseImages.from_dense(img / 255.0)
    with pytest.raises(ValueError, match="n_samples"):
        SparseImages.from_dense(np.zeros((0, 4), np.uint8))
    u8 = np.array([1, 2], np.uint8)
    with pytest.raises(TypeError, match="uint8"):
        SparseImages(np.array([0, 2]), u8.astype(np.uint16), u8, 4)
    with pytest.raises(ValueError, match="indptr"):
        SparseImages(np.array([0, 3]), u8, u8, 4)
    with pytest.raises(ValueError, match="past 4 features"):
        SparseImages(np.array([0, 2]), np.array([1, 3], np.uint8), u8, 4)
    with pytest.raises(ValueError, match="increase"):
        SparseImages(np.array([0, 2]), np.array([1, 0], np.uint8), u8, 4)


def test_its_arrays_are_read_only():
    S = SparseImages.from_dense(awkward_images())
    for a in (S.indptr, S.steps, S.vals):
        with pytest.raises(ValueError):
            a[0] = 1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_load_mnist_compact_is_the_dense_data(mnist, dtype):
    _, (Xv, yv), (Xt, yt) = nnvec.load_mnist(dtype=dtype)
    _, (Sv, yv2), (St, yt2) = nnvec.load_mnist(dtype=dtype, compact=True)
    assert isinstance(St, SparseImages) and St.shape == Xt.shape
    assert np.array_equal(St.toarray(dtype), Xt) and np.array_equal(yt, yt2)
    assert np.array_equal(Sv[:2000].toarray(dtype), Xv[:2000]) and np.array_equal(yv, yv2)


# --------------------------------------------------- training on SparseImages
@pytest.fixture(scope="module")
def sparse_mnist():
    return nnvec.load_mnist(compact=True)


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_same_weights_as_the_reference_after_ten_minibatches(mnist, sparse_mnist, cost):
    (X, y), _, _ = mnist
    (S, _), _, _ = sparse_mnist
    ref = nnvec.ReferenceNetwork([784, 30, 10], seed=42, cost=cost)
    net = nnvec.Network([784, 30, 10], seed=42, cost=cost)
    ref.fit(X[:100], y[:100], epochs=1, batch_size=10, eta=3.0)
    net.fit(S[:100], y[:100], epochs=1, batch_size=10, eta=3.0)
    start = nnvec.ReferenceNetwork([784, 30, 10], seed=42).weights[0]
    assert np.max(np.abs(net.weights[0] - start)) > 1e-3  # it trained
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        assert rel_err(b, a) <= 1e-12


@pytest.mark.parametrize("strategy", ["fused", "batched"])
def test_same_weights_with_l2_partial_batch_and_awkward_rows(strategy):
    img = awkward_images(23, 700, seed=1)
    y = np.arange(23) % 4
    ref = nnvec.ReferenceNetwork([700, 13, 4], seed=1)
    net = nnvec.Network([700, 13, 4], seed=1, strategy=strategy)
    ref.fit(dense(img, np.float64), y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    net.fit(SparseImages.from_dense(img), y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        assert rel_err(b, a) <= 1e-12


# hidden widths for the sparse update: float64 delta rows of a part vector,
# 1 + a part, 2, 7 + a part and 8 vectors held in registers, then 9 vectors
# and more (the plain loop); 700 inputs make several of its 24 KB tiles of WT's rows
@pytest.mark.parametrize("n_hidden", [3, 5, 8, 30, 32, 33, 70])
def test_sparse_update_widths_match_the_reference(n_hidden):
    img = awkward_images(23, 700, seed=2)
    y = np.arange(23) % 4
    sizes = [700, n_hidden, 4]
    ref = nnvec.ReferenceNetwork(sizes, seed=3)
    net = nnvec.Network(sizes, seed=3, strategy="fused")
    ref.fit(dense(img, np.float64), y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    net.fit(SparseImages.from_dense(img), y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    assert np.max(np.abs(net.weights[0] - nnvec.ReferenceNetwork(sizes, seed=3).weights[0])) > 1e-3
    for a, b in zip(ref.weights + ref.biases, net.weights + net.biases):
        assert rel_err(b, a) <= 1e-12


@pytest.mark.parametrize("n_hidden", [13, 30, 64, 70])
def test_sparse_update_float32_matches_the_dense_rows(n_hidden):
    # float32: 8 lanes, so 13 is 1 vector + a part, 30 is 3 + a part, 64 is 8, 70 the plain loop
    img = awkward_images(23, 700, seed=4)
    y = np.arange(23) % 4
    sizes = [700, n_hidden, 4]
    nets = [nnvec.Network(sizes, seed=5, strategy="fused", dtype="float32") for _ in range(2)]
    nets[0].fit(dense(img, np.float32), y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    nets[1].fit(SparseImages.from_dense(img), y, epochs=2, batch_size=7, eta=0.5, lmbda=2.0)
    for a, b in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        assert rel_err(b, a) <= 1e-5


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs numba's pool of 2 threads")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
# From m = 10 the steps between the input layer's forward pass and its update
# are split by examples (5 + 5; 23: 10 + 13, and a last mini-batch of 5 that
# is not), and the threads do not meet around the input layer's update.
@pytest.mark.parametrize("sizes, m", [([784, 30, 10], 7), ([784, 30, 10], 10),
                                      ([784, 30, 10], 23), ([784, 30, 20, 10], 10)])
def test_bit_identical_for_any_thread_count(sparse_mnist, dtype, sizes, m):
    (S, y), _, _ = sparse_mnist
    runs = []
    for threads in (1, 2, None):
        net = nnvec.Network(sizes, seed=0, threads=threads, dtype=dtype)
        net.fit(S[:1500], y[:1500], epochs=2, batch_size=m, eta=3.0, lmbda=1.0)
        runs.append(net.weights + net.biases)
    for other in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(runs[0], other))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs numba's pool of 2 threads")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n_hidden", [13, 30, 33, 70, 150])
def test_column_split_is_bit_identical_at_every_width(dtype, n_hidden):
    # two threads split WT's columns in pairs of vectors: panels, partial last
    # vectors and the wide rows' loops, each against one thread
    img = awkward_images(60, 700, seed=6)
    y = np.arange(60) % 4
    runs = []
    for threads in (1, 2):
        net = nnvec.Network([700, n_hidden, 4], seed=7, threads=threads, dtype=dtype,
                            strategy="fused")
        net.fit(SparseImages.from_dense(img), y, epochs=2, batch_size=6, eta=0.5, lmbda=1.0)
        runs.append(net.weights + net.biases)
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


@pytest.mark.parametrize("n_out", [13, 30])
def test_sparse_update_by_row_ranges_equals_the_whole(n_out):
    # the update of rows [0, a) and then [a, n_in) is the update of all rows,
    # bit for bit, for either column half (the cursors skip to row a)
    img = awkward_images(9, 700, seed=8)
    S = SparseImages.from_dense(img)
    rng = np.random.default_rng(8)
    D = rng.standard_normal((9, n_out))
    rows = np.array([4, 0, 8, 1, 3, 7, 2, 6, 5])
    _, sp, _ = _kernel_inputs(S, [700, n_out, 4], np.float64)
    width = sp[4].shape[1]
    sp = sp[:4] + (K._wt_view(sp[4], n_out),)  # training's layout: blocks of a line
    WT = sp[4]
    WT0 = rng.standard_normal((700, width))  # the logical matrix
    WT0[:, n_out:] = 0.0
    for j0, j1 in ((0, 16), (16, width)):
        K.inplace_set_wt(WT, WT0)
        K._update_input_sparse(D, sp, rows, 9, 0, 700, j0, j1, 0.99)
        whole = K.wt_logical(WT, 700)
        K.inplace_set_wt(WT, WT0)
        for k0, k1 in ((0, 300), (300, 555), (555, 700)):
            K._update_input_sparse(D, sp, rows, 9, k0, k1, j0, j1, 0.99)
        assert np.array_equal(K.wt_logical(WT, 700), whole)
        changed = whole != WT0
        assert changed[:, j0:min(j1, n_out)].any() == (j0 < n_out)  # 13: 16 columns in all
        assert not changed[:, :j0].any() and not changed[:, min(j1, n_out):].any()
    dense = img.astype(np.float64) / 255.0
    K.inplace_set_wt(WT, WT0)
    K._update_input_sparse(D, sp, rows, 9, 0, 700, 0, width, 1.0)
    expect = WT0[:, :n_out] + dense[rows].T @ D
    np.testing.assert_allclose(K.wt_logical(WT, 700)[:, :n_out], expect, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_out", [5, 30, 40, 70])
def test_wt_layouts_round_trip_and_give_threads_blocks_of_their_own(dtype, n_out):
    lanes = K.VEC_BYTES // np.dtype(dtype).itemsize
    line = K.SPARSE_ROW_BYTES // np.dtype(dtype).itemsize
    width = -(-n_out // line) * line
    W = np.random.default_rng(0).standard_normal((n_out, 50)).astype(dtype)
    WT = np.zeros((50, width), dtype)
    blocked = K._wt_view(WT, n_out)
    assert np.shares_memory(blocked, WT) and blocked.size == WT.size
    if n_out <= K.SPARSE_UPDATE_VECTORS * lanes:  # split by columns: a block per line
        assert blocked.shape == (width // line * 50, line)
    else:
        assert blocked.shape == (50, width)
    for view in (WT, blocked):  # rows of whole width (prediction), training's layout
        WT[...] = 0.0  # padding columns are zero, as the engine allocates WT
        K._wt_copy(W, view, True)
        M = K.wt_logical(view, 50)
        assert M.shape == (50, width)
        assert np.array_equal(M[:, :n_out], W.T) and not M[:, n_out:].any()
        assert K._wt_dims(view, n_out) == (50, width)
        back = np.zeros_like(W)
        K._wt_copy(back, view, False)
        assert np.array_equal(back, W)
        again = np.zeros_like(view)
        K.inplace_set_wt(again, M)
        assert np.array_equal(again, view)


def test_transposed_weights_start_on_a_cache_line():
    for dtype in (np.float64, np.float32):
        _, sp, _ = _kernel_inputs(SparseImages.from_dense(awkward_images(5, 50)), [50, 30, 4],
                                  dtype)
        WT = sp[4]
        assert WT.ctypes.data % K.SPARSE_ROW_BYTES == 0
        assert WT.flags.c_contiguous and (WT.shape[1] * WT.itemsize) % K.SPARSE_ROW_BYTES == 0
        assert not WT.any()


@pytest.mark.parametrize("engine", ["numba", "numpy", "reference"])
def test_predictions_equal_the_dense_ones(mnist, sparse_mnist, engine):
    _, _, (Xt, yt) = mnist
    _, _, (St, _) = sparse_mnist
    net = nnvec.make_network([784, 30, 10], engine=engine, seed=5)
    sel = slice(0, 600)
    np.testing.assert_allclose(net.predict_proba(St[sel]), net.predict_proba(Xt[sel]),
                               rtol=1e-12, atol=1e-14)
    assert net.evaluate((St[sel], yt[sel])) == net.evaluate((Xt[sel], yt[sel]))


# hidden widths whose padded rows take every register-panel split of the sparse
# forward pass (float64: 2, 4, 8, 8+2, 12 vectors; float32: 2, 4, 4+2, 8+2) and
# the wide rows' loop beyond SPARSE_PANELS_MAX
@pytest.mark.parametrize("n_hidden", [5, 13, 30, 37, 41, 70, 150])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_rows_fused_sparse_matches_numpy(dtype, n_hidden):
    img = awkward_images(300, 50, seed=3)
    rng = np.random.default_rng(3)
    sizes = [50, n_hidden, 4]
    Ws = tuple((rng.standard_normal((o, i)) * 3).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:]))
    bs = tuple(rng.standard_normal(o).astype(dtype) for o in sizes[1:])
    out = np.full((len(img), 4), np.nan, dtype)
    K.forward_rows_fused(*_kernel_inputs(SparseImages.from_dense(img), sizes, dtype),
                         np.array(sizes), _packed(Ws), _packed(bs), out, np.zeros(1, dtype),
                         0, 1, np.zeros(8, np.int64))
    a = dense(img, np.float64)
    for W, b in zip(Ws, bs):
        z = a @ W.T.astype(np.float64) + b
        a = np.empty_like(z)
        N.sigmoid_into(z, a)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(out, a, **tol)


def test_a_checkpoint_recognises_the_data_either_way():
    img = awkward_images()
    Y = np.eye(3)[np.arange(len(img)) % 3]
    assert fingerprint(SparseImages.from_dense(img), Y) == fingerprint(dense(img, np.float64), Y)
    assert fingerprint(SparseImages.from_dense(img), Y) != fingerprint(
        SparseImages.from_dense(img[::-1]), Y)


def test_width_mismatch_is_a_clear_error(sparse_mnist):
    _, _, (St, yt) = sparse_mnist
    net = nnvec.Network([100, 10, 10], seed=0)
    with pytest.raises(ValueError, match="784 features per sample .* 100"):
        net.fit(St, yt, epochs=1, batch_size=10, eta=1.0)

"""The same SGD epoch in JAX and in PyTorch, for ``nnvec bench --peers``.

What a user could pick instead of nnvec, each written the way that library is
fastest for this job, and doing the same arithmetic as nnvec's matrix engine
(quadratic cost, sigmoid layers, samples as rows, BP1-BP4, the book's update
``w -= (eta/m) nabla_w``, BP2 with the weights before the update):

- JAX: the whole epoch is one ``jax.jit`` function; ``lax.scan`` runs the
  mini-batches, each gathering its rows of ``X`` through the permutation.
- PyTorch: a Python loop over mini-batches under ``torch.no_grad()``, with
  hand-written backprop (autograd would only add work), ``index_select`` for
  the gather and in-place updates; timed on 1 thread and on all cores, the
  faster counts.

Both start from the same parameters and permutation as nnvec, and
``check_accuracy`` holds each to nnvec's weights and test accuracy after one
epoch (at ``check_eta(m)``), so a peer that computes something else cannot win.
Timing uses eta = 3 at every m, like ``nnvec bench``. They are optional
(the ``peers`` extra); whichever is installed is used.
"""

import os
import time

import numpy as np

PEERS = ("jax", "torch")


def available():
    """The peer names whose library can be imported here."""
    found = []
    for name in PEERS:
        try:
            __import__(name)
        except ImportError:
            continue
        found.append(name)
    return found


class JaxEpoch:
    """One SGD epoch of ``sizes`` in JAX: ``jit`` over the epoch, ``lax.scan`` over batches."""

    def __init__(self, sizes, m, dtype):
        import jax
        import jax.numpy as jnp
        from jax import lax

        if np.dtype(dtype) == np.float64:
            jax.config.update("jax_enable_x64", True)
        self.jnp, self.dtype, self.m = jnp, np.dtype(dtype), m
        n_layers = len(sizes) - 1

        def batch(carry, idx):
            ws, bs, X, Y, step = carry
            acts = [jnp.take(X, idx, axis=0)]
            for w, b in zip(ws, bs):
                acts.append(jax.nn.sigmoid(acts[-1] @ w.T + b))
            a = acts[-1]
            delta = (a - jnp.take(Y, idx, axis=0)) * a * (1 - a)  # BP1, quadratic cost
            new_ws, new_bs = list(ws), list(bs)
            for l in range(n_layers - 1, -1, -1):
                nabla_w = delta.T @ acts[l]  # BP4
                nabla_b = delta.sum(axis=0)  # BP3
                if l > 0:  # BP2, with this layer's weights before the update
                    delta = (delta @ ws[l]) * acts[l] * (1 - acts[l])
                new_ws[l] = ws[l] - step * nabla_w
                new_bs[l] = bs[l] - step * nabla_b
            return (tuple(new_ws), tuple(new_bs), X, Y, step), None

        def epoch(ws, bs, X, Y, batches, step):
            (ws, bs, _, _, _), _ = lax.scan(batch, (ws, bs, X, Y, step), batches)
            return ws, bs

        self._epoch = jax.jit(epoch, donate_argnums=(0, 1))
        self._block = jax.block_until_ready

    def load(self, X, Y):
        self.X = self.jnp.asarray(X, self.dtype)
        self.Y = self.jnp.asarray(Y, self.dtype)

    def set_params(self, biases, weights):
        self.ws = tuple(self.jnp.asarray(w, self.dtype) for w in weights)
        self.bs = tuple(self.jnp.asarray(b, self.dtype) for b in biases)

    def params(self):
        return [np.asarray(b) for b in self.bs], [np.asarray(w) for w in self.ws]

    def epoch(self, perm, eta):
        """Train one epoch in the order ``perm`` (its length a multiple of m)."""
        batches = self.jnp.asarray(perm.reshape(-1, self.m))
        step = self.jnp.asarray(eta / self.m, self.dtype)
        self.ws, self.bs = self._block(self._epoch(self.ws, self.bs, self.X, self.Y,
                                                   batches, step))


class TorchEpoch:
    """One SGD epoch of ``sizes`` in PyTorch (CPU): hand-written backprop, no autograd."""

    def __init__(self, sizes, m, dtype, threads=None):
        import torch

        self.torch, self.m = torch, m
        self.dtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
        self.threads = threads

    def load(self, X, Y):
        self.X = self.torch.from_numpy(np.ascontiguousarray(X)).to(self.dtype)
        self.Y = self.torch.from_numpy(np.ascontiguousarray(Y)).to(self.dtype)

    def set_params(self, biases, weights):
        t = self.torch
        self.ws = [t.tensor(np.asarray(w), dtype=self.dtype) for w in weights]
        self.bs = [t.tensor(np.asarray(b), dtype=self.dtype) for b in biases]

    def params(self):
        return [b.numpy().copy() for b in self.bs], [w.numpy().copy() for w in self.ws]

    def epoch(self, perm, eta):
        torch = self.torch
        before = torch.get_num_threads()
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        try:
            order = torch.from_numpy(perm)
            X, Y, ws, bs, m = self.X, self.Y, self.ws, self.bs, self.m
            n_layers = len(ws)
            with torch.no_grad():
                for k in range(0, len(perm), m):
                    idx = order[k:k + m]
                    acts = [X.index_select(0, idx)]
                    for w, b in zip(ws, bs):
                        acts.append(torch.sigmoid(torch.addmm(b, acts[-1], w.T)))
                    a = acts[-1]
                    delta = (a - Y.index_select(0, idx)) * a * (1 - a)
                    step = eta / len(idx)
                    for l in range(n_layers - 1, -1, -1):
                        nabla_w = delta.T @ acts[l]
                        nabla_b = delta.sum(0)
                        if l > 0:
                            delta = (delta @ ws[l]) * acts[l] * (1 - acts[l])
                        ws[l].sub_(nabla_w, alpha=step)
                        bs[l].sub_(nabla_b, alpha=step)
        finally:
            torch.set_num_threads(before)


def make_peer(name, sizes, m, dtype, threads=None):
    """A peer epoch object by name ("jax", "torch")."""
    if name == "jax":
        return JaxEpoch(sizes, m, dtype)
    if name == "torch":
        return TorchEpoch(sizes, m, dtype, threads)
    raise ValueError(f"unknown peer {name!r}; use one of {', '.join(PEERS)}")


def _accuracy(biases, weights, X, labels):
    a = X
    for b, w in zip(biases, weights):
        a = 1.0 / (1.0 + np.exp(-(a @ w.T + b)))
    return float(np.mean(np.argmax(a, axis=1) == labels))


def check_accuracy(peer, sizes, m, dtype, X, Y, X_test, y_test, eta=3.0, seed=0):
    """Train nnvec and ``peer`` from the same start and order; compare the results.

    Returns ``(nnvec_accuracy, peer_accuracy, max_abs_weight_difference,
    early_weight_difference)``: test accuracies and the largest parameter
    difference after one epoch, and the largest after the first
    ``EARLY_BATCHES`` mini-batches. The early difference is the sharper test:
    on networks where eta is large for their size, training is chaotic and
    rounding differences (1e-16) can grow into different networks, and
    different accuracies, within one epoch, while the first mini-batches still
    agree to rounding.
    """
    from .engine import Network

    def start():
        return Network(list(sizes), seed=seed, dtype=dtype)

    def nnvec_epoch(net, Xd, Yd, perm):
        net._prepare_training(Xd, Yd, m)
        try:
            net._train_epoch(Xd, Yd, perm, m, eta, 0.0)
        finally:
            net._finish_training()

    def difference(net):
        pb, pw = peer.params()
        return max(float(np.max(np.abs(a - b)))
                   for a, b in zip(pw + pb, net.weights + net.biases))

    Xd = np.ascontiguousarray(X, dtype)
    Yd = np.ascontiguousarray(Y, dtype)
    perm = np.random.default_rng(seed).permutation(len(X))
    k = min(len(X) // m, EARLY_BATCHES) * m
    early = start()
    peer.set_params(early.biases, early.weights)
    peer.epoch(perm[:k], eta)
    first = perm[:k]
    nnvec_epoch(early, Xd[first], Yd[first], np.arange(k))
    early_diff = difference(early)

    net = start()
    peer.set_params(net.biases, net.weights)
    peer.epoch(perm, eta)
    nnvec_epoch(net, Xd, Yd, perm)
    pb, pw = peer.params()
    return (_accuracy(net.biases, net.weights, X_test, y_test),
            _accuracy(pb, pw, X_test, y_test), difference(net), early_diff)


#: mini-batches after which ``check_accuracy`` compares weights a first time
EARLY_BATCHES = 10
#: ... and the largest difference it accepts there, per dtype: rounding only
EARLY_TOLERANCE = {"float64": 1e-10, "float32": 1e-3}


def agrees(check, dtype):
    """Whether a ``check_accuracy`` result shows the same computation.

    The weights after the first mini-batches must agree to rounding; the
    accuracy after one epoch is reported beside it (see ``check_accuracy``).
    """
    return check[3] <= EARLY_TOLERANCE[np.dtype(dtype).name]


def check_eta(m):
    """The learning rate of the accuracy check at mini-batch size ``m``.

    The book's eta = 3 at m = 10 is a step of 0.3 per example. With m = 1 and
    eta = 3 every example takes a step ten times as large, which is chaotic
    enough that rounding differences (1e-16) grow into different networks
    within an epoch; so below m = 10 the check keeps the per-example step.
    """
    return 3.0 * min(m, 10) / 10


def time_peer(peer, n, eta=3.0, seed=0):
    """Seconds of one epoch of ``n`` samples (a new permutation drawn inside, as nnvec does)."""
    t = time.perf_counter()
    peer.epoch(np.random.default_rng(seed).permutation(n), eta)
    return time.perf_counter() - t


def torch_thread_choices():
    """Thread counts to time PyTorch at: one, and every core this process may use."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return sorted({1, cores or 1})



#: a peer's test accuracy after one epoch must be within this of nnvec's
ACCURACY_TOLERANCE = 0.01

"""The per-example engine: the book's algorithm, one example at a time.

This is nnvec's correctness oracle and its speed baseline. Each mini-batch is
a Python loop over its examples; each example is a column vector pushed
forward and backpropagated on its own (equations BP1-BP4), its gradient added
to the running sums, and then the book's update
``w -= (eta/m) * nabla_w``, ``b -= (eta/m) * nabla_b`` is applied.

It is neither slowed down nor optimised beyond what the book describes. The
training data is held as a list of ``(n_in, 1)`` column views, as the book's
loader provides it, so the per-example cost is the book's cost.
"""

import numpy as np

from ._registry import register
from .activations import sigmoid, sigmoid_prime
from .network import BaseNetwork


class ReferenceNetwork(BaseNetwork):
    """Per-example SGD network (the book's ``network.py`` algorithm).

    Same constructor, parameter layout (``weights[l].shape == (n_out, n_in)``,
    ``biases[l].shape == (n_out,)``), initialisation and shuffling as
    ``nnvec.Network``, so both can be run from one seed and compared weight
    for weight.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first, e.g. ``[784, 30, 10]``.
    cost : str, cost class or instance, default "quadratic"
    init : {"large", "default"}, default "large"
    seed : int, optional
    dtype : float64 (default) or float32
    """

    engine = "reference"

    def _backprop_column(self, x, y):
        """(nabla_b, nabla_w) for one example; ``x`` (n_in, 1), ``y`` (n_out, 1)."""
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b[:, None]
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = self.cost.delta(zs[-1], activations[-1], y)  # BP1
        nabla_b[-1] = delta  # BP3
        nabla_w[-1] = np.dot(delta, activations[-2].T)  # BP4
        for l in range(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].T, delta) * sigmoid_prime(zs[-l])  # BP2
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)
        return nabla_b, nabla_w

    def _sum_gradients(self, pairs):
        nabla_b = [np.zeros((b.shape[0], 1), dtype=self.dtype) for b in self.biases]
        nabla_w = [np.zeros(w.shape, dtype=self.dtype) for w in self.weights]
        for x, y in pairs:
            delta_nabla_b, delta_nabla_w = self._backprop_column(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        return [nb[:, 0] for nb in nabla_b], nabla_w

    def _backprop_batch(self, X, Y):
        return self._sum_gradients((x[:, None], y[:, None]) for x, y in zip(X, Y))

    def _prepare_training(self, X, Y, m):
        # The book's data layout: one (n_in, 1) column per example.
        self._columns: list | None = [(x[:, None], y[:, None]) for x, y in zip(X, Y)]

    def _finish_training(self):
        self._columns = None

    def _train_epoch(self, X, Y, perm, m, eta, lmbda):
        columns = self._columns
        assert columns is not None, "_prepare_training runs first"
        n = len(columns)
        for k in range(0, n, m):
            mini_batch = [columns[i] for i in perm[k:k + m]]
            nabla_b, nabla_w = self._sum_gradients(mini_batch)
            self._apply_update(nabla_b, nabla_w, eta, lmbda, n, len(mini_batch))


register("reference", ReferenceNetwork)

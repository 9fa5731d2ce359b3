"""The straightforward matrix port of the book's chapter-2 problem.

Section 2's "fully matrix-based approach": the mini-batch is a matrix
``X = [x_1 ... x_m]`` whose *columns* are the examples, gathered column-wise
from the training set held as one ``(n_in, n_samples)`` array, pushed through
each layer with one matrix product, and backpropagated together. Plain numpy,
fresh arrays per step, as a first port would be written.

It is the variant that reproduces the book's "about a factor of two": the
strided column gather costs about as much as the arithmetic. nnvec keeps it
to show where that factor comes from; it is tested for equivalence like every
other engine. ``nnvec.Network`` is the fast engine.
"""

import numpy as np

from ._registry import register
from .activations import sigmoid, sigmoid_prime
from .network import BaseNetwork


class ColumnNetwork(BaseNetwork):
    """Matrix-based SGD with examples as columns (the book's exercise).

    Same constructor, initialisation, shuffling and parameter layout as
    ``nnvec.Network``; see that class for the parameters.
    """

    engine = "columns"

    def _gradient_columns(self, XT, YT):
        """Summed (nabla_b, nabla_w) for examples as columns: XT (n_in, m), YT (n_out, m).

        The reference's per-example backprop with the column vector x widened
        to the matrix X, line for line; kept as a separate copy so that the
        reference never pays for the extra sums a shared version would need.
        """
        activation = XT
        activations = [XT]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b[:, None]
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = self.cost.delta(zs[-1], activations[-1], YT)
        nabla_b[-1] = delta.sum(axis=1)
        nabla_w[-1] = np.dot(delta, activations[-2].T)
        for l in range(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].T, delta) * sigmoid_prime(zs[-l])
            nabla_b[-l] = delta.sum(axis=1)
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)
        return nabla_b, nabla_w

    def _backprop_batch(self, X, Y):
        return self._gradient_columns(X.T, Y.T)

    def _prepare_training(self, X, Y, m):
        # Training set as columns, as the book's exercise stacks it.
        self._XT: np.ndarray | None = np.ascontiguousarray(X.T)
        self._YT: np.ndarray | None = np.ascontiguousarray(Y.T)

    def _finish_training(self):
        self._XT = self._YT = None

    def _train_epoch(self, X, Y, perm, m, eta, lmbda):
        XT, YT = self._XT, self._YT
        assert XT is not None and YT is not None, "_prepare_training runs first"
        n = len(X)
        for k in range(0, n, m):
            idx = perm[k:k + m]
            nabla_b, nabla_w = self._gradient_columns(XT[:, idx], YT[:, idx])
            self._apply_update(nabla_b, nabla_w, eta, lmbda, n, len(idx))


register("columns", ColumnNetwork)

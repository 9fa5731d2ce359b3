"""Cost functions as small classes with ``fn`` and ``delta``, as in the book.

``fn(a, y)`` is the cost of one example (or the summed cost of a batch given
as arrays of matching shape); ``delta(z, a, y)`` is the output error
``delta^L = dC/dz^L`` of equation BP1. Both engines use these classes, so the
only difference between them is how they walk the mini-batch.
"""

import numpy as np

from .activations import sigmoid_prime_from_a


class QuadraticCost:
    """``C = 0.5 * ||a - y||^2``; chapter 1's cost."""

    name = "quadratic"

    @staticmethod
    def fn(a, y):
        """Summed quadratic cost over every element of ``a`` and ``y``."""
        diff = np.asarray(a, dtype=np.float64) - y
        return 0.5 * float(np.sum(diff * diff))

    @staticmethod
    def delta(z, a, y):
        """BP1 for the quadratic cost: ``(a - y) * sigma'(z)``.

        ``sigma'(z)`` is taken from ``a`` (``a * (1 - a)``), which equals it
        exactly because ``a = sigma(z)``.
        """
        return (a - y) * sigmoid_prime_from_a(a)


class CrossEntropyCost:
    """``C = -sum(y ln a + (1 - y) ln(1 - a))``; chapter 3's cost.

    Its BP1 delta is ``a - y``: the ``sigma'(z)`` factor cancels, which is
    why learning does not slow down when the output neurons saturate.
    """

    name = "cross-entropy"

    @staticmethod
    def fn(a, y):
        """Summed cross-entropy, safe at ``a == 0`` and ``a == 1``.

        Terms with ``y == 0`` (or ``1 - y == 0``) contribute exactly zero
        instead of ``0 * log(0) = nan``; a term whose log is ``-inf``
        (a confident wrong answer) becomes the largest finite float, as the
        book's ``nan_to_num`` does, and no warning is raised.
        """
        a = np.asarray(a, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        # The where() picks 0 for the masked terms; errstate only silences the
        # log(0) of the branch that is thrown away.
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(y != 0, -y * np.log(a), 0.0) + np.where(
                y != 1, -(1 - y) * np.log1p(-a), 0.0
            )
        return float(np.nan_to_num(np.sum(terms)))

    @staticmethod
    def delta(z, a, y):
        """BP1 for cross-entropy with sigmoid outputs: ``a - y``."""
        return a - y


#: name -> class table; ``Network(cost=...)`` accepts any of these names.
COSTS = {cls.name: cls for cls in (QuadraticCost, CrossEntropyCost)}
COSTS["cross_entropy"] = CrossEntropyCost
COSTS["crossentropy"] = CrossEntropyCost


def get_cost(cost):
    """Resolve ``cost`` (a name, a cost class or an instance) to the cost to use.

    Names and the built-in classes (or their instances, which hold no state)
    give the built-in class; any other instance is used as it is, so a cost
    with state (e.g. a weighting set in ``__init__``) keeps it.

    Raises
    ------
    ValueError
        If ``cost`` is a string that names no known cost.
    TypeError
        If ``cost`` is neither a string nor an object with ``fn`` and ``delta``.
    """
    if isinstance(cost, str):
        try:
            return COSTS[cost.lower()]
        except KeyError:
            raise ValueError(
                f"unknown cost {cost!r}; use one of 'quadratic', 'cross-entropy'"
            ) from None
    if isinstance(cost, type) and hasattr(cost, "fn") and hasattr(cost, "delta"):
        return cost
    if hasattr(cost, "fn") and hasattr(cost, "delta"):
        return type(cost) if type(cost) in COSTS.values() else cost
    raise TypeError(
        f"cost must be a name ('quadratic', 'cross-entropy'), a cost class or an "
        f"instance with fn(a, y) and delta(z, a, y); got {type(cost).__name__}"
    )


def cost_name(cost_cls):
    """The name a cost class is saved under in model files."""
    name = getattr(cost_cls, "name", None)
    if name in COSTS and COSTS[name] is cost_cls:
        return name
    label = getattr(cost_cls, "__name__", type(cost_cls).__name__)
    raise ValueError(
        f"cost {label} has no registered name, so a model file could "
        "not be loaded again; use QuadraticCost or CrossEntropyCost"
    )

"""Engine names -> constructors, so model files and checkpoints can rebuild a
network without importing the engines (which would make an import cycle).

Each engine module registers itself when it is imported; ``nnvec/__init__``
imports them all, and it runs before any ``nnvec.*`` module can be used.
"""

from collections.abc import Callable, Sequence
from typing import Any

_FACTORIES: dict[str, Callable[..., Any]] = {}


def register(name, factory):
    """Make ``make_network(sizes, engine=name, **kw)`` call ``factory(sizes, **kw)``."""
    _FACTORIES[name] = factory


def engine_names():
    """The registered engine names, in registration order."""
    return tuple(_FACTORIES)


def make_network(sizes: Sequence[int], *, engine: str = "numba", **kwargs: Any) -> Any:
    """Construct a network of the named engine.

    ``engine`` is "numba" or "numpy" (``nnvec.Network``), "reference" (the
    per-example ``ReferenceNetwork``) or "columns" (``ColumnNetwork``, the
    book's column-gather port). Other keyword arguments go to the constructor.

    Raises
    ------
    ValueError
        For an unknown engine name.
    """
    try:
        factory = _FACTORIES[engine]
    except (KeyError, TypeError):
        raise ValueError(f"unknown engine {engine!r}; use one of "
                         f"{', '.join(engine_names())}") from None
    return factory(sizes, **kwargs)

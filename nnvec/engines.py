"""One name for every engine, for the command line, benchmarks and model files."""

from .columns import ColumnNetwork
from .engine import Network
from .reference import ReferenceNetwork

#: every engine name make_network accepts
ENGINE_NAMES = ("numba", "numpy", "reference", "columns")


def make_network(sizes, *, engine="numba", **kwargs):
    """Construct a network of the named engine.

    ``engine`` is "numba" or "numpy" (``nnvec.Network``), "reference" (the
    per-example ``ReferenceNetwork``) or "columns" (``ColumnNetwork``, the
    book's column-gather port). Other keyword arguments go to the constructor.

    Raises
    ------
    ValueError
        For an unknown engine name.
    """
    if engine in ("numba", "numpy"):
        return Network(sizes, engine=engine, **kwargs)
    if engine == "reference":
        return ReferenceNetwork(sizes, **kwargs)
    if engine == "columns":
        return ColumnNetwork(sizes, **kwargs)
    raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINE_NAMES)}")

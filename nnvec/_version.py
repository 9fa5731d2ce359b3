"""The package version, in a module of its own so anything can import it."""

__version__ = "0.1.0"

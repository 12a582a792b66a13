"""Backends (being built, issue 13)."""
from symgraph.backends.python import CompiledFunction, compile  # noqa: A004

__all__ = ["CompiledFunction", "compile"]

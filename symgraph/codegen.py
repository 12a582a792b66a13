"""Old path of symgraph.backends (issue 13): a shim until symgraph/__init__.py imports the new path."""
from symgraph.backends import CompiledFunction, compile  # noqa: F401, A004

"""Old path of ``sg.compile`` (issue 13): a shim while symgraph/__init__.py imports it; the
registry is ``symgraph.backends``, the code generator ``symgraph.backends.python``."""
from symgraph.backends import CompiledFunction, compile  # noqa: F401

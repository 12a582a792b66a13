"""Old path of symgraph.display.formula (a shim while symgraph.rewrite imports it here)."""
from symgraph.display.formula import formula, printable  # noqa: F401

"""Old path of the rewrite rules (issue 13): a shim while codegen and tests import it."""
from symgraph.rewrite import *
from symgraph.rewrite import __all__  # noqa: F401

"""Old path of the rewrite rules (issue 13): a shim until codegen and the tests import symgraph.rewrite."""
from symgraph.rewrite import *  # noqa: F403
from symgraph.rewrite import __all__  # noqa: F401

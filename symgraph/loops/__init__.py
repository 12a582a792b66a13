"""Loops and branches as graph nodes: ``scan``, ``fori_loop``, ``while_loop``, ``cond``.

Semantics as JAX's ``lax``: the body is a Python function called once, on placeholders,
to build a body graph (in the loop's own graph, see ``body.py``); the loop is one node of
the outer graph, and ``grad`` of it is again a loop node (see ``scan.py``).

Imports (layering): ``symgraph.graph``, ``symgraph.ops``, ``symgraph.autodiff`` and
``symgraph.backends`` (the body is compiled once by the python backend); nothing below
imports this package.
"""

from symgraph.loops.cond import cond, while_loop
from symgraph.loops.scan import fori_loop, scan

__all__ = ["cond", "fori_loop", "scan", "while_loop"]

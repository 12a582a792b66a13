"""Rules that only compile runs (a backend's lowering), never ``sg.simplify``.

Owns ``RULES`` of the ``lower`` stage, as data, applied by :func:`symgraph.rewrite.lower`:

- ``scatter-add``: ``scatter(g) + b`` (the adjoint of ``x[1:]`` meeting another gradient)
  becomes ``scatter_add(b, g, index)``, the same value in one pass, which generated code
  writes as ``b[index] += g`` in ``b``'s buffer when ``b`` dies there (no zeros, no copy,
  no third array, as hand-written NumPy does it).

The other peephole of the old code generator, ``c1 * (c2 * x) -> (c1 * c2) * x``, is
``sg.simplify``'s own ``mul-consts`` (with ``mul-broadcast`` seeing through
``broadcast_to``): exact only where ``exact_product`` holds, or with ``assume_finite``.

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``patterns``.
"""

from __future__ import annotations

from symgraph.graph import Node
from symgraph.ops.shape import SCATTER, scatter_add
from symgraph.rewrite.patterns import Match, Rule, X, Y


def _scatter_add(m: Match) -> Node | None:
    """``add(scatter(g), b) -> scatter_add(b, g)`` where the three have one static shape
    and one floating dtype (``b`` is then the buffer the result may take over)."""
    node, b = m.node, m["Y"]
    a = node.inputs[0] if node.inputs[1] is b else node.inputs[1]
    if (a.opdef is not SCATTER or a is b or node.dtype.kind != "f" or None in node.shape
            or not a.shape == b.shape == node.shape or not a.dtype == b.dtype == node.dtype):
        return None
    return scatter_add(b, m["X"], a.attrs["index"])


RULES: list[Rule] = [
    Rule("scatter-add", "lower", ("add", ("scatter", X), Y), _scatter_add,
         "scatter(g) + b -> scatter_add(b, g) (b[index] += g where b dies)"),
]

"""How a rule's replacement enters the graph: built where the replaced node was made, and
fitted to its static shape and dtype.

Owns :class:`Provenance` and :func:`fit`. Provenance: a node built to replace node ``n``
gets ``n``'s derivative order, ``grad`` call, ``grad_of`` and name scope (built inside
``derivative_context(n.order, n.grad_call)`` when ``n.order > 0``, else as a user node),
so a simplified k-th derivative is still of order k and ``grad`` of it is of order k + 1.
A replacement that already existed keeps its own provenance, as interning always does.

Imports: ``symgraph.graph``, ``symgraph.context``, ``symgraph.errors``, ``symgraph.ops``
and the rewrite package's ``patterns`` and ``folding``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from symgraph import ops
from symgraph.context import SCOPE, derivative_context, user_context
from symgraph.errors import SymgraphError
from symgraph.graph import Node
from symgraph.ops.core import CONST, broadcast_shapes
from symgraph.rewrite.folding import fill
from symgraph.rewrite.patterns import Match, Rule


@contextlib.contextmanager
def _in_scope(scope: str) -> Iterator[None]:
    token = SCOPE.set(scope)
    try:
        yield
    finally:
        SCOPE.reset(token)


class Provenance:
    """Builds nodes as if made where the node they replace was made (order, call, scope).

    Contexts switch only when the provenance changes: nodes in id order come in runs."""

    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.key: tuple | None = None
        self.ctx: Any = None

    def use(self, node: Node) -> None:
        key = (node.order, node.grad_call, node.scope)
        if key != self.key:
            self.close()
            if node.order > 0:
                self.ctx = self.stack.enter_context(
                    derivative_context(node.order, node.grad_call))
            else:
                self.stack.enter_context(user_context())
            self.stack.enter_context(_in_scope(node.scope))
            self.key = key
        if self.ctx is not None:
            self.ctx.grad_of = node.grad_of

    def close(self) -> None:
        self.stack.close()
        self.stack = contextlib.ExitStack()
        self.key = self.ctx = None


def fit(node: Node, rep: Any, m: Match, rule: Rule) -> Node | None:
    """``rep`` with ``node``'s static shape and dtype (broadcast, or cast without loss),
    or None where that is impossible (the rule then does not apply)."""
    if rep is None or rep is node:
        return None
    if not isinstance(rep, Node) or rep.graph is not node.graph:
        raise SymgraphError(f"rewrite rule {rule.name!r} returned {rep!r}, not a node of the "
                            "same graph")
    if rep.shape != node.shape:
        if None in node.shape or broadcast_shapes(rep.shape, node.shape) != node.shape:
            return None
        if rep.opdef is CONST and rep.attrs["value"].size == 1:
            rep = fill(node, rep.attrs["value"].flat[0]) if rep.dtype == node.dtype else rep
        if rep.shape != node.shape:
            rep = ops.broadcast_to(rep, node.shape)
    elif None in node.shape and any(
        c.ndim > node.ndim or any(d != 1 for d in c.shape) for c in m.consts
    ):
        return None  # a dropped constant might have set the run-time shape
    if rep.dtype != node.dtype:
        if not np.can_cast(rep.dtype, node.dtype, "safe"):
            return None
        # Cast up only what the matched node read as it is (x of x*1) or a constant: a
        # replacement that computes in the narrower dtype (square(x) for float32 x of
        # x**2.0, a float64 power) rounds, overflows and underflows in it (inf at 1e20)
        if rep.opdef is not CONST and not any(rep is b for b in m.bound.values()):
            return None
        rep = ops.cast(rep, node.dtype)
    return rep

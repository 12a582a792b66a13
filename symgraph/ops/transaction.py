"""Building nodes by calling a user's function, all or nothing.

Owns: :class:`building`, used by the loops (``scan``, ``fori_loop``, ``while_loop``,
``cond``) and ``vmap``, which call a user's function on placeholders: a failed build
leaves the graph as it was (a derivative's builders have their own transaction in
``symgraph.autodiff``).

Imports: ``symgraph.context``, ``symgraph.graph``.
"""

from __future__ import annotations

from typing import Any

from symgraph.context import SCOPE
from symgraph.graph import Graph, SymgraphError, _NodeFields


class _Building(str):
    """The scope of the nodes built while a loop is built: equal to the scope around it,
    but recognisable by identity, so a failed build can tell its own nodes from those
    another thread built meanwhile."""


class building:
    """Call a user's function to build nodes (a loop's body, vmap's function), as ``with
    building(graph, who):``: if it fails, the nodes it appended to ``graph``
    (placeholders, the body's nodes) are forgotten, and a failure that is not a
    SymgraphError becomes one naming ``who``."""

    def __init__(self, graph: Graph, who: str, what: str = "building the loop's body"):
        self.graph, self.who, self.what = graph, who, what

    def __enter__(self) -> None:
        outer = SCOPE.get()
        self.own = not isinstance(outer, _Building)  # (a nested build shares the outer's)
        self.token = _Building(outer) if self.own else outer
        self.reset = SCOPE.set(self.token)
        self.first = len(self.graph)

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        SCOPE.reset(self.reset)
        token, graph = self.token, self.graph
        if exc is not None:
            graph._rollback(self.first, lambda n: n.scope is token)
        if self.own:  # the nodes kept get the plain scope back
            for n in graph._nodes[self.first:]:
                if n.scope is token:
                    _NodeFields.scope.__set__(n, str(token))
        if isinstance(exc, Exception) and not isinstance(exc, SymgraphError):
            raise SymgraphError(f"{self.who}: {self.what} failed: "
                                f"{type(exc).__name__}: {exc}") from exc

"""Graphs out of symgraph: ``to_networkx`` (and, later, JSON save/load).

Imports: ``symgraph.graph``, networkx.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from symgraph.graph import Node, ancestors


def _outputs(outputs: Node | Sequence[Node]) -> list[Node]:
    from symgraph.engine import _outputs as check

    return check(outputs, "symgraph")[0]


def to_networkx(outputs: Node | Sequence[Node]) -> nx.MultiDiGraph:
    """The ancestors of ``outputs`` as a ``networkx.MultiDiGraph`` keyed by ``node.id``.

    Node attributes: ``op``, ``shape``, ``dtype``, ``name``, ``order``, ``scope``,
    ``grad_call``, ``grad_of`` (an id or None) and ``label`` (the formula). One edge per
    argument from each input to its consumer, with attribute ``index`` (its position), so
    ``x*x`` has two edges.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x * x
    >>> G = sg.to_networkx(y)
    >>> G.number_of_edges(x.id, y.id), G.nodes[y.id]["op"]
    (2, 'multiply')
    """
    nodes = ancestors(_outputs(outputs))
    graph = nx.MultiDiGraph()
    for n in nodes:
        graph.add_node(
            n.id,
            op=n.op,
            shape=n.shape,
            dtype=str(n.dtype),
            name=n.name,
            order=n.order,
            scope=n.scope,
            grad_call=n.grad_call,
            grad_of=None if n.grad_of is None else n.grad_of.id,
        )
    for n in nodes:
        for index, inp in enumerate(n.inputs):
            graph.add_edge(inp.id, n.id, index=index)
    return graph


def save(outputs: Node | Sequence[Node], path: str) -> None:
    """Not written yet."""
    raise NotImplementedError


def load(path: str) -> list[Node]:
    """Not written yet."""
    raise NotImplementedError

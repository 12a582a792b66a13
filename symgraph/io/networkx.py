"""Graphs out of symgraph into networkx: ``to_networkx``.

Owns: the networkx view of a graph (one networkx node per symgraph node, keyed by id, with
its op name, shape, dtype and provenance; one edge per argument), loop bodies included
(their nodes live in the same graph; ``body_of`` says which loops hold them).

Imports: ``symgraph.context``, ``symgraph.graph``, ``symgraph.plan`` (its check of
``outputs``), ``symgraph.io.bodies``, networkx.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from symgraph.context import gc_paused
from symgraph.feeds import as_outputs as _outputs
from symgraph.graph import Node, ancestors
from symgraph.io.bodies import bodies_of


def to_networkx(outputs: Node | Sequence[Node]) -> nx.MultiDiGraph:
    """The ancestors of ``outputs`` as a ``networkx.MultiDiGraph`` keyed by ``node.id``.

    Node attributes: ``op``, ``shape``, ``dtype`` (its name), ``name``, ``order``,
    ``scope``, ``grad_call`` and ``grad_of`` (an id or None). One edge per
    argument from each input to its consumer, with attribute ``index`` (its position), so
    ``x*x`` has two.

    Loop bodies are included: a loop node (``scan``, ``cond``...) holds graphs whose nodes
    are not its ancestors; they are added with their edges, nested bodies too. Each node's
    ``body_of`` is a tuple of ``(loop id, attribute)`` pairs naming the bodies it belongs
    to (``()`` for a node outside every body; a constant can be in both), and ``role`` is
    a body placeholder's role (``"carry 0"``, ``"x 0"``, ``"closure 0"``; None else).
    No edge joins a loop node to its body: ``body_of`` does.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x * x
    >>> G = sg.to_networkx(y)
    >>> G.number_of_edges(x.id, y.id), G.nodes[y.id]["op"]
    (2, 'multiply')
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.fori_loop(0, 3, lambda i, c: sg.sin(c), x)
    >>> G = sg.to_networkx(y)
    >>> [(G.nodes[k]["op"], G.nodes[k]["role"]) for k in G if G.nodes[k]["body_of"]]
    [('var', 'carry 0'), ('var', 'x 0'), ('sin', None)]
    """
    nodes = ancestors(_outputs(outputs, "sg.to_networkx")[0])
    member: dict[int, list[tuple[int, str]]] = {}
    roles: dict[int, str] = {}
    every = {n.id: n for n in nodes}
    stack = [n for n in nodes if n.opdef.encode_attrs is not None]
    seen: set[int] = set()
    while stack:  # loops, then the loops inside their bodies
        loop = stack.pop()
        if loop.id in seen:
            continue
        seen.add(loop.id)
        for body in bodies_of(loop):
            for n in body.nodes:
                member.setdefault(n.id, []).append((loop.id, body.attr))
                every.setdefault(n.id, n)
                if n.opdef.encode_attrs is not None:
                    stack.append(n)
            for n, role in zip(body.inputs, body.roles):
                roles.setdefault(n.id, role)
    nodes = [every[i] for i in sorted(every)]
    graph = nx.MultiDiGraph()
    with gc_paused():  # every dict networkx makes here is kept: collections would only cost
        graph.add_nodes_from(
            (n.id, {"op": n.op, "shape": n.shape, "dtype": str(n.dtype), "name": n.name,
                    "order": n.order, "scope": n.scope, "grad_call": n.grad_call,
                    "grad_of": None if n.grad_of is None else n.grad_of.id,
                    "body_of": tuple(member.get(n.id, ())), "role": roles.get(n.id)})
            for n in nodes
        )
        graph.add_edges_from(
            (inp.id, n.id, {"index": index}) for n in nodes for index, inp in enumerate(n.inputs)
        )
    return graph

"""Graphs out of symgraph into networkx: ``to_networkx``.

Owns: the networkx view of a graph (one networkx node per symgraph node, keyed by id, with
its op name, shape, dtype and provenance; one edge per argument).

Imports: ``symgraph.context``, ``symgraph.graph``, ``symgraph.plan`` (its check of
``outputs``), networkx.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from symgraph.context import gc_paused
from symgraph.plan import as_outputs as _outputs
from symgraph.graph import Node, ancestors


def to_networkx(outputs: Node | Sequence[Node]) -> nx.MultiDiGraph:
    """The ancestors of ``outputs`` as a ``networkx.MultiDiGraph`` keyed by ``node.id``.

    Node attributes: ``op``, ``shape``, ``dtype`` (its name), ``name``, ``order``,
    ``scope``, ``grad_call`` and ``grad_of`` (an id or None). One edge per
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
    nodes = ancestors(_outputs(outputs, "sg.to_networkx")[0])
    graph = nx.MultiDiGraph()
    with gc_paused():  # every dict networkx makes here is kept: collections would only cost
        graph.add_nodes_from(
            (n.id, {"op": n.op, "shape": n.shape, "dtype": str(n.dtype), "name": n.name,
                    "order": n.order, "scope": n.scope, "grad_call": n.grad_call,
                    "grad_of": None if n.grad_of is None else n.grad_of.id})
            for n in nodes
        )
        graph.add_edges_from(
            (inp.id, n.id, {"index": index}) for n in nodes for index, inp in enumerate(n.inputs)
        )
    return graph

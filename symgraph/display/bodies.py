"""Loop bodies in pictures and text: what ``to_dot(..., bodies=True)``, ``sg.pprint`` and
``sg.debugprint`` show of the graphs a loop node holds.

Owns: drawing a body as a Graphviz cluster beside its loop node: placeholders
labelled by role, inner nodes coloured by their own derivative order, results marked,
dashed edges from the loop's inputs to the placeholders and from the results back to the
loop node, nested loops as nested clusters (titles and role names as
``symgraph.display.text`` writes them). Nodes are read through
``symgraph.io.bodies`` (the op's ``encode_attrs`` hook); nothing is added to the graph.

DOT names: a body node is ``<loop's DOT name>b<k>_n<id>`` (``n12b0_n5``), so a body
drawn for two loop nodes, or a loop nested in a body, stays apart and the DOT stays
byte-identical for the same graph.

Imports: ``symgraph.graph``, ``symgraph.io.bodies``, ``symgraph.display``'s formula, scene
and style modules, graphviz.
"""

from __future__ import annotations

from collections.abc import Callable

import graphviz

from symgraph.display.formula import render
from symgraph.display.scene import SHORT_FORMULA
from symgraph.display.style import (
    edge_attrs,
    esc,
    label,
    node_attrs,
    order_border,
    order_colours,
)
from symgraph.display.text import body_title, role_name, shape_text
from symgraph.graph import Node
from symgraph.io.bodies import HeldBody, bodies_of

# Loops inside bodies inside loops...: drawn this many levels deep.
BODY_DEPTH = 4
_LINK = {"style": "dashed", "color": "#888888", "arrowhead": "empty", "arrowsize": "0.5"}


def short_texts(body: HeldBody) -> dict[int, str]:
    """Short infix formulas of a body's nodes, its placeholders named by role."""
    short = {n.id: role_name(r) for n, r in zip(body.inputs, body.roles)}
    for n in body.nodes:
        if n.id in short:
            continue
        args = [short.get(i.id) for i in n.inputs]
        if any(a is None for a in args):
            continue
        text = render(n, args)
        if len(text) <= SHORT_FORMULA:
            short[n.id] = text
    return short


def draw_bodies(dot: graphviz.Digraph, loops: list[Node], name_of: Callable[[Node], str | None],
                budget: int) -> set[int]:
    """Draw the bodies of ``loops`` (whose DOT names ``name_of`` gives; ``None`` for a
    node not drawn) as clusters, at most ``budget`` body nodes in all. Returns the
    derivative orders drawn (for the legend)."""
    edges: list[tuple[str, str, dict]] = []
    orders: set[int] = set()
    left = [budget]
    for loop in loops:
        _draw(dot, loop, name_of, 0, left, edges, orders)
    for src, dst, attrs in edges:  # after the clusters: an edge inside one would pull its ends in
        dot.edge(src, dst, **attrs)
    return orders


def _draw(dot: graphviz.Digraph, loop: Node, name_of: Callable[[Node], str | None], depth: int,
          left: list[int], edges: list, orders: set[int]) -> None:
    lname = name_of(loop)
    if lname is None:
        return
    _, border = order_colours(loop.order)
    line, width = order_border(loop.order)
    for k, body in enumerate(bodies_of(loop)):
        prefix = f"{lname}b{k}_"
        names = {n.id: f"{prefix}n{n.id}" for n in body.nodes}
        dot.body.append(f"\tsubgraph cluster_{prefix} {{\n")
        dot.body.append(f"\t\tlabel=<<b>{esc(body_title(loop, body))}</b>> "
                        f"style=\"rounded,filled{'' if line == 'solid' else ',' + line}\" "
                        f"fillcolor=\"#fafafa\" color=\"{border}\" penwidth={width:g} "
                        "fontsize=10\n")
        if len(body.nodes) > left[0]:
            dot.node(f"{prefix}more", f"{len(body.nodes)} nodes not drawn\\n(raise max_nodes)",
                     shape="note", style="dashed", color="#777777", fontsize="10")
            dot.body.append("\t}\n")
            continue
        left[0] -= len(body.nodes)
        roles = dict(zip((n.id for n in body.inputs), body.roles))
        results: dict[int, list[str]] = {}
        for o, r in zip(body.outputs, body.out_roles):
            results.setdefault(o.id, []).append(role_name(r, result=True))
        short = short_texts(body)
        for n in body.nodes:
            orders.add(n.order)
            attrs = node_attrs(n, n.id in results, note=f", in {body_title(loop, body)}")
            tag = ", ".join(results.get(n.id, [])) or None
            if n.id in roles:
                small = " ".join(s for s in (tag and f"→ {tag}", shape_text(n.shape)
                                             if n.shape else "") if s)
                text = f"<<b>{esc(roles[n.id])}</b>" + (
                    f'<br/><font point-size="9" color="#444444">{esc(small)}</font>'
                    if small else "") + ">"
            else:
                text = label(n, short.get(n.id), None, None, tag)
            dot.node(names[n.id], text, **attrs)
            for i, inp in enumerate(n.inputs):
                edges.append((names[inp.id], names[n.id], edge_attrs(n, i)))
        if depth + 1 < BODY_DEPTH:
            for n in body.nodes:
                if n.opdef.encode_attrs is not None:
                    _draw(dot, n, lambda m: names.get(m.id), depth + 1, left, edges, orders)
        dot.body.append("\t}\n")
        # The loop's inputs feed the placeholders, aligned from the end (a cond's
        # predicate comes first and feeds no branch); the results go back to the loop.
        offset = len(loop.inputs) - len(body.inputs)
        for j, ph in enumerate(body.inputs):
            src = name_of(loop.inputs[offset + j]) if offset + j >= 0 else None
            if src is not None:
                edges.append((src, names[ph.id], dict(_LINK)))
        for o in dict.fromkeys(body.outputs):
            edges.append((names[o.id], lname, dict(_LINK)))

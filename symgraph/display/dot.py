"""Pictures of graphs: DOT (``to_dot``) and SVG (``to_svg``) of the outputs' ancestors.

Owns: the picture as a whole: clusters for name scopes (and collapsing them), edges in
argument order, provenance edges, the legend, the cap on big graphs and the cheaper layout
settings above ``FAST_LAYOUT`` nodes, and running Graphviz's ``dot``. How a node looks is
``symgraph.display.style``; which nodes, clusters and numbers are shown is
``symgraph.display.scene``. Drawing is pure: it appends no node to the user's graph.

Inputs are rounded boxes, constants plain boxes (their label is their value), operations
ellipses showing their formula while it is short (``w0*x0``, ``cos(sin(w))``) and their op
symbol otherwise; outputs have a double border and, when there are several, the tag
``out0``, ``out1``... that ``sg.pprint`` gives them. Edges carry their argument position
for non-commutative ops; inputs that only lend a shape are dotted; optional dashed
provenance edges go from a derivative node to the forward node it differentiates.

DOT node names are ``n<id>``, so the same graph gives byte-identical DOT. Big graphs are
capped (``max_nodes``), because Graphviz's layout time grows about quadratically on
derivative graphs; the picture says when the cap was hit.

Imports: ``symgraph.graph``, ``symgraph.engine`` (output checks), ``symgraph.display``'s
other modules, graphviz.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import graphviz

from symgraph.display.scene import annotations, scopes, select, short_formulas
from symgraph.display.style import (
    GRAD_COLOUR,
    edge_attrs,
    esc,
    label,
    node_attrs,
    order_colours,
    order_name,
    plain,
)
from symgraph.plan import as_outputs as _outputs
from symgraph.graph import Node, SymgraphError

Outputs = Node | Sequence[Node]

# Graphviz's dot lays out a derivative graph in roughly quadratic time (reverse-mode edges
# skip many ranks, and each skipped rank is a virtual node): 500 nodes take a few seconds.
MAX_NODES = 500
# Above this many drawn nodes, cheaper layout settings: few crossing-minimisation and
# network-simplex passes, straight edges.
FAST_LAYOUT = 150
_FAST = {"mclimit": "0.05", "nslimit": "0.02", "nslimit1": "0.02", "splines": "line"}
_NODE_LINE = re.compile(r"\t+[ns]\d+ \[")
# The legend names grads_of's y by its formula up to this length, else by op and id.
_LEGEND_FORMULA = 40
_INSTALL = (
    "Graphviz's 'dot' program is needed to draw SVG; install it with "
    "'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) "
    "or 'make setup', or use sg.to_dot(...) for the DOT source"
)


def to_dot(
    outputs: Outputs,
    feeds: Mapping[Any, Any] | None = None,
    *,
    grads_of: Node | None = None,
    collapse: bool = False,
    max_nodes: int = MAX_NODES,
    provenance_edges: bool = False,
    rankdir: str = "LR",
    legend: bool = True,
    title: str | None = None,
) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of the ancestors of ``outputs`` (a node or a list).

    - Nodes are coloured by derivative order (the user's graph, first derivative,
      second...; see ``symgraph.display.style``), shared nodes are drawn once
      and edges run in argument order, labelled with the position for non-commutative
      ops (``0``, ``1``), dotted for inputs that only lend a shape. A node shows its
      infix formula when that has at most ``SHORT_FORMULA`` (24) characters, else its op
      (pictures over 150 nodes show ops only); several outputs are tagged ``out0``...
      as in ``sg.pprint``.
    - ``feeds``: every node shows its value (``= 0.7311``), from one ``sg.evaluate``.
    - ``grads_of=y`` (a float scalar node; needs ``feeds``): every float node that ``y``
      depends on also shows ``grad`` dy/d(node), the value of ``sg.grad(y, nodes)``
      (computed on a scratch copy of y's ancestors: the graph gains no node).
    - Nodes built in ``sg.name_scope`` are drawn in (nested) clusters. A derivative node
      built outside any scope joins the scope of the node it differentiates, or, for a
      weight made outside the layers, the scope of the weight's first user (so the
      ``+`` adding the weight-decay term sits with its layer); an unscoped constant
      joins its users' scope when they all share one. ``collapse=True`` draws one box
      per scope and derivative order instead, with its node count, a scope's boxes
      side by side.
    - At most ``max_nodes`` nodes (default 500) are drawn, the nearest the outputs; the
      picture then says how many of how many and gives the nodes whose inputs were cut a
      dashed border. Above 150 drawn nodes, cheaper Graphviz settings (straight edges,
      fewer layout passes) keep ``dot`` to seconds.
    - ``provenance_edges=True`` adds dashed edges from each derivative node to the node it
      is the derivative of (``node.grad_of``). ``rankdir`` is Graphviz's layout direction
      (``"LR"`` or ``"TB"``); ``legend=False`` leaves out the colour legend; ``title``
      is a caption on top.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     dy = sg.grad(sg.sin(x), x)
    >>> dot = sg.to_dot(dy, feeds={x: 0.0})
    >>> "n0 [label=<<b>x</b><br/><font point-size=\\"10\\">= 0</font>>" in dot.source
    True
    >>> "order 1: 1st derivative" in dot.source
    True
    """
    outs, _ = _outputs(outputs, "sg.to_dot")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise SymgraphError(f"sg.to_dot: max_nodes must be an int >= 1, got {max_nodes!r}")
    if title is not None and not isinstance(title, str):
        raise SymgraphError(f"sg.to_dot: title must be a str, got {type(title).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise SymgraphError(f"sg.to_dot: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    drawn, total = select(outs, max_nodes)
    values, grads = annotations(drawn, feeds, grads_of)
    ids = {n.id for n in drawn}
    out_ids = {o.id for o in outs}
    notes = [title] if title else []
    if len(drawn) < total:
        notes.append(f"{len(drawn)} of {total} nodes drawn (max_nodes={max_nodes}): "
                     "those nearest the outputs")
    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica", "nodesep": "0.25",
                  "ranksep": "0.35"}
    if len(drawn) > FAST_LAYOUT:
        graph_attr.update(_FAST)
    if notes:  # an HTML-like label: a title is shown as written, whatever it holds
        graph_attr.update(label="<" + "<br/>".join(esc(n) for n in notes) + ">",
                          labelloc="t", fontsize="12")
    dot = graphviz.Digraph(
        "symgraph",
        graph_attr=graph_attr,
        node_attr={"fontname": "Helvetica", "fontsize": "11", "style": "filled",
                   "margin": "0.06,0.03", "height": "0.3"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6",
                   "color": "#555555"},
    )
    cut = {n.id for n in drawn if any(i.id not in ids for i in n.inputs)}
    clusters = scopes(drawn)
    # Big pictures keep the compact op symbols: wide labels on nodes with long edges
    # made dot ~5x slower on a 500-node derivative chain.
    short = short_formulas(drawn) if len(drawn) <= FAST_LAYOUT else {}
    # With several outputs, each is tagged out0, out1... as sg.pprint names them.
    # (Not when collapsed: most outputs are inside boxes there.)
    tags = ({o.id: f"out{k}" for k, o in reversed(list(enumerate(outs)))}
            if len(outs) > 1 and not collapse else {})
    labels = {n.id: label(n, short.get(n.id), values.get(n.id), grads.get(n.id),
                           tags.get(n.id)) for n in drawn}
    if collapse:
        box = _draw_collapsed(dot, drawn, clusters, labels, out_ids, cut)
    else:
        _draw_clustered(dot, drawn, clusters, labels, out_ids, cut)
        box = {}
    _draw_edges(dot, drawn, ids, box)
    if provenance_edges:
        for n in drawn:
            src, dst = box.get(n.id, f"n{n.id}"), None
            if n.grad_of is not None and n.grad_of.id in ids:
                dst = box.get(n.grad_of.id, f"n{n.grad_of.id}")
            if dst is not None and dst != src:
                dot.edge(src, dst, style="dashed", color="#999999", constraint="false",
                         arrowhead="empty")
    if len(drawn) < total:
        dot.node("more", f"… {total - len(drawn)} more nodes not drawn\\n"
                 "dashed border: some inputs not drawn\\n(raise max_nodes to draw them)",
                 shape="note", style="dashed", color="#777777", fontsize="10")
    if legend:
        _draw_legend(dot, sorted({n.order for n in drawn}), grads_of if grads else None)
    return dot


def _draw_clustered(dot: graphviz.Digraph, drawn: list[Node], scopes: dict[int, str],
                    labels: dict[int, str], out_ids: set[int], cut: set[int]) -> None:
    by_scope: dict[tuple[str, ...], list[Node]] = {}
    for n in drawn:
        path = tuple(scopes[n.id].split("/")) if scopes[n.id] else ()
        by_scope.setdefault(path, []).append(n)
    open_path: list[str] = []
    clusters = 0
    for path in sorted(by_scope):  # a scope sorts before the scopes nested in it
        common = 0
        while common < min(len(open_path), len(path)) and open_path[common] == path[common]:
            common += 1
        while len(open_path) > common:
            dot.body.append("\t}\n")
            open_path.pop()
        while len(open_path) < len(path):
            name = path[len(open_path)]
            open_path.append(name)
            dot.body.append(f"\tsubgraph cluster_{clusters} {{\n")
            dot.body.append(f"\t\tlabel=<<b>{esc(name)}</b>> style=\"rounded,dashed\" "
                            "color=\"#777777\" fontsize=10\n")
            clusters += 1
        for n in by_scope[path]:
            dot.node(f"n{n.id}", labels[n.id],
                     **node_attrs(n, n.id in out_ids, n.id in cut))
    dot.body.extend("\t}\n" for _ in open_path)


def _draw_collapsed(dot: graphviz.Digraph, drawn: list[Node], scopes: dict[int, str],
                    labels: dict[int, str], out_ids: set[int],
                    cut: set[int]) -> dict[int, str]:
    """One box per (scope, order); unscoped nodes drawn as usual. Returns node -> box."""
    groups: dict[tuple[str, int], list[Node]] = {}
    box: dict[int, str] = {}
    for n in drawn:
        if scopes[n.id]:
            groups.setdefault((scopes[n.id], n.order), []).append(n)
        else:
            dot.node(f"n{n.id}", labels[n.id],
                     **node_attrs(n, n.id in out_ids, n.id in cut))
    for (scope, order), members in groups.items():
        name = f"s{members[0].id}"
        fill, border = order_colours(order)
        count = f"{len(members)} node{'s' if len(members) > 1 else ''}"
        if order:
            count += f", order {order}"
        dot.node(name, f"<<b>{esc(scope)}</b><br/><font point-size=\"9\">{count}</font>>",
                 shape="box3d", fillcolor=fill, color=border,
                 peripheries="2" if any(m.id in out_ids for m in members) else "1",
                 tooltip=plain(f"scope {scope}: {count}"))
        for m in members:
            box[m.id] = name
    same: dict[str, list[str]] = {}
    for (scope, _), members in groups.items():
        same.setdefault(scope, []).append(f"s{members[0].id}")
    for names in same.values():
        if len(names) > 1:
            # A scope's forward and backward boxes side by side: the forward pass runs one
            # way, the backward pass comes back the other, as in the textbook figures.
            dot.body.append("\t{rank=same; " + " ".join(names) + "}\n")
    return box


def _draw_edges(dot: graphviz.Digraph, drawn: list[Node], ids: set[int],
                box: dict[int, str]) -> None:
    between: dict[tuple[str, str], int] = {}
    for n in drawn:
        for i, inp in enumerate(n.inputs):
            if inp.id not in ids:
                continue
            src, dst = box.get(inp.id), box.get(n.id)
            if src is None and dst is None:
                dot.edge(f"n{inp.id}", f"n{n.id}", **edge_attrs(n, i))
            else:
                key = (src or f"n{inp.id}", dst or f"n{n.id}")
                if key[0] != key[1]:
                    between[key] = between.get(key, 0) + 1
    for (src, dst), count in between.items():
        dot.edge(src, dst, label=f"×{count}" if count > 1 else None, penwidth="1.3")


def _draw_legend(dot: graphviz.Digraph, orders: list[int], grads_of: Node | None) -> None:
    """One HTML-table node, so its rows read order 0, 1, 2... whatever the rankdir (the
    nodes of a cluster would be reordered by the layout)."""
    rows = ['<tr><td border="0"><font point-size="10">legend</font></td></tr>']
    for k in orders:
        fill, border = order_colours(k)
        rows.append(f'<tr><td bgcolor="{fill}" color="{border}">{order_name(k)}</td></tr>')
    if grads_of is not None:
        text = grads_of.name or str(grads_of)
        if len(text) > _LEGEND_FORMULA:  # the node whose grad is 1 names it in the picture
            text = f"{grads_of.name or grads_of.op} #{grads_of.id} (grad 1)"
        rows.append(f'<tr><td border="0">= value<br/><font color="{GRAD_COLOUR}">'
                    f'grad = dy / d(node)<br/>y = {esc(text)}</font></td></tr>')
    # In an invisible cluster of its own: measured 5x faster dot on 500-node chains than
    # a free node (clusters are laid out apart from the rest).
    with dot.subgraph(name="cluster_legend") as key:
        key.attr(style="invis", margin="0")
        key.node("legend", '<<table border="1" style="rounded" color="#bbbbbb" cellborder="1" '
                 'cellspacing="4" cellpadding="3">' + "".join(rows) + "</table>>",
                 shape="plaintext", style="", fontsize="9", margin="0")


# --- SVG ---------------------------------------------------------------------------------------


def _run_dot(source: str, fmt: str, timeout: float, nodes: int) -> bytes:
    try:
        proc = subprocess.run(["dot", f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise SymgraphError(_INSTALL) from None
    except subprocess.TimeoutExpired:
        raise SymgraphError(
            f"Graphviz took more than {timeout:g} s to lay out {nodes} nodes; draw fewer with "
            "max_nodes=..., collapse=True, or allow more time with timeout=..."
        ) from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SymgraphError(f"Graphviz's dot failed: {message[-1] if message else 'no message'}")
    return proc.stdout


def to_svg(
    outputs: Outputs,
    path: str | os.PathLike | None = None,
    feeds: Mapping[Any, Any] | None = None,
    *,
    timeout: float = 60.0,
    **options: Any,
) -> str:
    """The picture of :func:`to_dot` as SVG text; also written to ``path`` if given.

    Takes the options of :func:`to_dot` (``grads_of``, ``collapse``, ``max_nodes``...).
    Needs Graphviz's ``dot`` program; a layout taking longer than ``timeout`` seconds is
    stopped with an error suggesting ``max_nodes`` or ``collapse``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * x
    >>> svg = sg.to_svg(y, feeds={x: 1.0})
    >>> svg.lstrip().startswith("<?xml") and "= 0.8415" in svg
    True
    """
    dot = to_dot(outputs, feeds, **options)
    nodes = sum(1 for line in dot.body if _NODE_LINE.match(line))
    svg = _run_dot(dot.source, "svg", timeout, nodes).decode("utf-8")
    if path is not None:
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(svg)
        except OSError as exc:
            raise SymgraphError(f"sg.to_svg could not write {os.fspath(path)!r}: {exc}") from None
    return svg

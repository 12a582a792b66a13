"""Pictures of graphs: DOT (``to_dot``) and SVG (``to_svg``) of the outputs' ancestors.

Owns: the picture as a whole: clusters for name scopes (and collapsing them), edges in
argument order, provenance edges, the legend, the cap on big graphs and the cheaper layout
settings above ``FAST_LAYOUT`` nodes, and running Graphviz's ``dot``. How a node looks is
``symgraph.display.style``; which nodes, clusters and numbers are shown is
``symgraph.display.scene``. Drawing is pure: it appends no node to the user's graph.

Inputs are rounded boxes, constants plain boxes (their label is their value), operations
ellipses showing their formula while it is short (``w0*x0``, ``cos(sin(w))``) and their op
symbol otherwise; outputs have a double border, their formula (wrapped, or cut with an
ellipsis) and a name: the user's (``labels=``), a derivative's (``df/dx``, see
``symgraph.display.names``) or the tag ``out0``, ``out1``... that ``sg.pprint`` gives them.
Edges carry their argument position for non-commutative ops; inputs that only lend a shape
are dotted; optional dashed provenance edges go from a derivative node to the forward node
it differentiates. ``clean=True`` draws ``sg.simplify`` of the outputs (made on a scratch
copy). ``Picture`` wraps a picture for Jupyter (``_repr_svg_``, ``_repr_mimebundle_``).

DOT node names are ``n<id>``, so the same graph gives byte-identical DOT. Big graphs are
capped (``max_nodes``), because Graphviz's layout time grows about quadratically on
derivative graphs; the picture says when the cap was hit.

Imports: ``symgraph.graph``, ``symgraph.plan`` (output checks), ``symgraph.display``'s
other modules, graphviz.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import graphviz

from symgraph.display.bodies import draw_bodies
from symgraph.display.formula import formula
from symgraph.display.names import output_names
from symgraph.display.scene import annotations, clean_view, scopes, select, short_formulas
from symgraph.display.style import (
    CUT_MARK,
    FONT,
    FORMULA_WIDTH,
    GRAD_COLOUR,
    edge_attrs,
    esc,
    label,
    legend_cell,
    node_attrs,
    order_border,
    order_colours,
    order_name,
    plain,
    wrap_formula,
)
from symgraph.graph import Graph, Node, SymgraphError
from symgraph.io.bodies import bodies_of
from symgraph.ops.core import CONST, VAR
from symgraph.feeds import as_outputs as _outputs

Outputs = Node | Sequence[Node]

# Graphviz's dot lays out a derivative graph in roughly quadratic time (reverse-mode edges
# skip many ranks, and each skipped rank is a virtual node): 500 nodes take a few seconds.
MAX_NODES = 500
# Above this many drawn nodes, cheaper layout settings: few crossing-minimisation and
# network-simplex passes, straight edges.
FAST_LAYOUT = 150
_FAST = {"mclimit": "0.05", "nslimit": "0.02", "nslimit1": "0.02", "splines": "line"}
_NODE_LINE = re.compile(r"\t+[ns]\d+(?:b\d+_n\d+)* \[")  # (body nodes: n12b0_n5)
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
    labels: Sequence[str | None] | Mapping[Any, str] | None = None,
    clean: bool = False,
    bodies: bool = False,
) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of the ancestors of ``outputs`` (a node or a list).

    - Nodes are coloured by derivative order (the user's graph, first derivative,
      second...; see ``symgraph.display.style``), shared nodes are drawn once
      and edges run in argument order, labelled with the position for non-commutative
      ops (``0``, ``1``), dotted for inputs that only lend a shape. A node shows its
      infix formula when that has at most ``SHORT_FORMULA`` (24) characters, else its op
      (pictures over 150 nodes show ops only); an output shows its formula however long
      (wrapped on up to three lines, then cut with ``…``).
    - Outputs are named: ``labels`` (a list with one str or None per output, or a dict
      keyed by output node or position; ``""`` shows no name) first; then an output that
      is ``sg.grad``, ``sg.jacobian`` or ``sg.hessian`` of another output (or of the node
      its derivative nodes point back to) with respect to a named input is called
      ``df/dx``, ``d²f/dx²``, ``d²f/dy dx``, the others ``f``, ``g``...; with no such
      relation, several outputs are tagged ``out0``... as in ``sg.pprint``. Each relation
      is checked by rebuilding the derivative on a scratch copy, never guessed.
    - ``clean=True`` draws ``sg.simplify`` of the outputs (value-preserving; computed on a
      scratch copy, so the graph gains no node): no seeds (``broadcast_to(1)``), batching
      remnants folded where simplify can, identity and ones constants shown by value
      (``eye(2)``, ``ones(3)``). Nodes are then numbered in the copy.
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
    - A loop or branch node (``scan``, ``cond``, ``while_loop``) is one 3-D box, coloured
      by its derivative order like any node (``grad`` of a scan is an order-1 scan).
      ``bodies=True`` also draws the graphs it holds, each a cluster titled ``scan body
      (40 steps)``, ``cond true branch``...: its placeholders are labelled by role
      (``carry 0``, ``x 0``, ``closure 0``), its results by what they become (``carry0'``,
      ``y0``), dashed edges run from the loop's inputs to the placeholders and from the
      results to the loop node, and loops inside a body (a derivative's body holds the
      loop's) are nested clusters, up to 4 levels. At most ``max_nodes`` body nodes in all.
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
    names = output_names(outs, labels)  # of the user's nodes, before any clean copy
    if clean:
        outs, feeds, grads_of = clean_view(outs, feeds, grads_of)
    drawn, total = select(outs, max_nodes)
    values, grads = annotations(drawn, feeds, grads_of)
    ids = {n.id for n in drawn}
    notes = [title] if title else []
    if len(drawn) < total:
        notes.append(f"{len(drawn)} of {total} nodes drawn (max_nodes={max_nodes}): "
                     "those nearest the outputs")
    graph_attr = {"rankdir": rankdir, "fontname": FONT, "nodesep": "0.25",
                  "ranksep": "0.35"}
    if len(drawn) > FAST_LAYOUT:
        graph_attr.update(_FAST)
    if notes:  # an HTML-like label: a title is shown as written, whatever it holds
        graph_attr.update(label="<" + "<br/>".join(esc(n) for n in notes) + ">",
                          labelloc="t", fontsize="12")
    # A wide side margin: Graphviz sizes text by hinted font metrics, up to ~5% narrower
    # than the text is drawn (DejaVu Sans at 10 points), and the excess runs out on the right.
    dot = graphviz.Digraph(
        "symgraph",
        graph_attr=graph_attr,
        node_attr={"fontname": FONT, "fontsize": "11", "style": "filled",
                   "margin": "0.11,0.03", "height": "0.3"},
        edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.6",
                   "color": "#555555"},
    )
    cut = {n.id for n in drawn if any(i.id not in ids for i in n.inputs)}
    clusters = scopes(drawn)
    # Big pictures keep the compact op symbols: wide labels on nodes with long edges
    # made dot ~5x slower on a 500-node derivative chain.
    short: dict[int, Any] = short_formulas(drawn) if len(drawn) <= FAST_LAYOUT else {}
    for o in outs:  # an output shows its formula however long: wrapped, or on one line
        if o.id not in short and o.inputs:
            text = formula(o, max_depth=12, max_chars=400)
            short[o.id] = (wrap_formula(text) if len(drawn) <= FAST_LAYOUT else
                           wrap_formula(text, FORMULA_WIDTH, 1))
    # The first name given to a node wins (an output listed twice). (Not when collapsed:
    # most outputs are inside boxes there.)
    tags = {} if collapse else {outs[k].id: names[k] for k in reversed(range(len(outs)))}
    texts = {n.id: label(n, short.get(n.id), values.get(n.id), grads.get(n.id),
                         tags.get(n.id), n.id in cut) for n in drawn}
    note = ", simplified copy (clean=True)" if clean else ""
    out_ids = {o.id for o in outs}
    if collapse:
        box = _draw_collapsed(dot, drawn, clusters, texts, out_ids, cut, note)
    else:
        _draw_clustered(dot, drawn, clusters, texts, out_ids, cut, note)
        box = {}
    _draw_edges(dot, drawn, ids, box)
    orders = {n.order for n in drawn}
    if bodies:
        loops = [n for n in drawn if n.opdef.encode_attrs is not None and n.id not in box]
        orders |= draw_bodies(dot, loops, lambda m: f"n{m.id}" if m.id in ids and
                              m.id not in box else None, max_nodes)
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
                 f"{CUT_MARK} before a label: some inputs not drawn\\n"
                 "(raise max_nodes to draw them)",
                 shape="note", style="dashed", color="#777777", fontsize="10")
    if legend:
        _draw_legend(dot, sorted(orders), grads_of if grads else None)
    return dot


def _draw_clustered(dot: graphviz.Digraph, drawn: list[Node], scopes: dict[int, str],
                    labels: dict[int, str], out_ids: set[int], cut: set[int],
                    note: str) -> None:
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
                     **node_attrs(n, n.id in out_ids, n.id in cut, note))
    dot.body.extend("\t}\n" for _ in open_path)


def _draw_collapsed(dot: graphviz.Digraph, drawn: list[Node], scopes: dict[int, str],
                    labels: dict[int, str], out_ids: set[int],
                    cut: set[int], note: str) -> dict[int, str]:
    """One box per (scope, order); unscoped nodes drawn as usual. Returns node -> box."""
    groups: dict[tuple[str, int], list[Node]] = {}
    box: dict[int, str] = {}
    for n in drawn:
        if scopes[n.id]:
            groups.setdefault((scopes[n.id], n.order), []).append(n)
        else:
            dot.node(f"n{n.id}", labels[n.id],
                     **node_attrs(n, n.id in out_ids, n.id in cut, note))
    for (scope, order), members in groups.items():
        name = f"s{members[0].id}"
        fill, border = order_colours(order)
        line, width = order_border(order)
        count = f"{len(members)} node{'s' if len(members) > 1 else ''}"
        if order:
            count += f", order {order}"
        dot.node(name, f"<<b>{esc(scope)}</b><br/><font point-size=\"9\">{count}</font>>",
                 shape="box3d", fillcolor=fill, color=border, penwidth=f"{width:g}",
                 style="filled" if line == "solid" else f"filled,{line}",
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
    rows.extend(legend_cell(k, order_name(k)) for k in orders)
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
                              capture_output=True, timeout=timeout, check=False)
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
    if path is not None and not isinstance(path, (str, os.PathLike)):
        # (open() takes an int as a file descriptor: it would write into it and close it)
        raise SymgraphError(f"sg.to_svg: path must be a str or os.PathLike, got "
                            f"{type(path).__name__}")
    dot = to_dot(outputs, feeds, **options)
    nodes = sum(1 for line in dot.body if _NODE_LINE.match(line))
    svg = _run_dot(dot.source, "svg", timeout, nodes).decode("utf-8")
    if path is not None:
        _write(path, svg)
    return svg


def _write(path: str | os.PathLike, svg: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(svg)
    except OSError as exc:
        raise SymgraphError(f"sg.to_svg could not write {os.fspath(path)!r}: {exc}") from None


# --- Jupyter -------------------------------------------------------------------------------------

# A Graph's picture draws at most this many nodes (a notebook's default graph grows cell by cell).
GRAPH_NODES = 150


def graph_outputs(graph: Graph) -> list[Node]:
    """The nodes of ``graph`` that no other node uses (a Graph's picture draws their
    ancestors). Left out: the internal placeholders that derivative builders substitute
    away, unnamed constants nothing uses (a ``grad`` seed that was multiplied away), and
    every node computed from a loop body's placeholders: the body's own (its loop node
    stands for them; ``bodies=True`` draws them) and what tracing and differentiating
    bodies left behind (no outer node can use a placeholder: it is never fed)."""
    nodes = graph.nodes
    used = {i.id for n in nodes for i in n.inputs}
    inside = {p.id for n in nodes if n.opdef.encode_attrs is not None
              for body in bodies_of(n) for p in body.inputs}
    for n in nodes:  # id order: inputs first
        if n.id not in inside and any(i.id in inside for i in n.inputs):
            inside.add(n.id)
    used |= inside
    return [n for n in nodes if n.id not in used
            and not (n.opdef is VAR and n not in graph.by_name(n.name))
            and not (n.opdef is CONST and not n.name)]


class Picture:
    """A picture that shows itself in Jupyter: ``sg.Picture([f, df], feeds={x: 1.0})`` as
    the last line of a cell, with the options of :func:`to_dot` and ``timeout`` of
    :func:`to_svg`. ``outputs`` may also be a ``sg.Graph``: its nodes are drawn (those no
    other node uses are the outputs; at most ``GRAPH_NODES`` nodes unless ``max_nodes``).

    The DOT source is made (and every option checked) at once; Graphviz runs when the
    picture is first shown. ``.dot`` is the ``graphviz.Digraph``, ``.svg()`` the SVG text,
    ``.save(path)`` writes it.

    >>> import symgraph as sg
    >>> with sg.Graph() as g:
    ...     x = sg.var("x")
    ...     f = sg.sin(x) * x
    ...     df = sg.grad(f, x)
    >>> p = sg.display.Picture([f, df])
    >>> p
    <symgraph.Picture of 2 outputs, 6 nodes>
    >>> "df/dx" in p.dot.source, sorted(p._repr_mimebundle_())
    (True, ['image/svg+xml', 'text/plain'])
    >>> sg.display.Picture(g).dot.source.count("peripheries=2")  # f, df
    2
    """

    def __init__(self, outputs: Outputs | Graph, feeds: Mapping[Any, Any] | None = None,
                 **options: Any):
        if isinstance(outputs, Graph):
            sinks = graph_outputs(outputs)
            if not sinks:
                raise SymgraphError(f"sg.Picture: {outputs!r} has no nodes to draw")
            options.setdefault("max_nodes", GRAPH_NODES)
            options.setdefault("labels", [""] * len(sinks))  # no out0...out41 tags
            outputs = sinks
        self._timeout = options.pop("timeout", 60.0)
        self.dot = to_dot(outputs, feeds, **options)
        self._outputs = 1 if isinstance(outputs, Node) else len(outputs)
        self._nodes = sum(1 for line in self.dot.body if _NODE_LINE.match(line))
        self._svg: str | None = None

    def svg(self) -> str:
        """The SVG text (Graphviz runs once, on first use)."""
        if self._svg is None:
            self._svg = _run_dot(self.dot.source, "svg", self._timeout, self._nodes).decode(
                "utf-8")
        return self._svg

    def save(self, path: str | os.PathLike) -> None:
        """Write the SVG to ``path``."""
        _write(path, self.svg())

    def __repr__(self) -> str:
        s = "s" if self._outputs > 1 else ""
        return f"<symgraph.Picture of {self._outputs} output{s}, {self._nodes} nodes>"

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_html_(self) -> str:
        return self.svg()  # inline SVG is HTML too

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """What Jupyter shows: the SVG, or, without Graphviz, the text saying how to get it
        (a notebook should still show the cell's other output)."""
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except SymgraphError as exc:
            return {"text/plain": f"{self!r}: {exc}"}


def graph_bundle(graph: Graph, include: Any = None, exclude: Any = None) -> dict[str, str]:
    """``Graph._repr_mimebundle_``: the picture of the graph's nodes (an empty graph: its
    repr)."""
    if not graph_outputs(graph):
        return {"text/plain": repr(graph)}
    return Picture(graph)._repr_mimebundle_(include, exclude)

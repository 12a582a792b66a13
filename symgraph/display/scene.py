"""What a picture shows: which nodes, in which clusters, with which values and gradients.

Owns: the choice of drawn nodes under ``max_nodes`` (those nearest the outputs), the
cluster each node is drawn in (name scopes, with derivative nodes and constants placed
beside what they belong to), the short formulas nodes may show, and the numbers on nodes:
values from one ``evaluate`` of the user's graph, gradients (``grads_of``) from ``grad`` on
a scratch copy of ``y``'s ancestors, so drawing never adds a node to the user's graph. Also
the scratch copies themselves (``scratch_copy``: same ops, orders, scopes, provenance) and
the clean view (``clean_view``: ``sg.simplify`` run on such a copy).

Imports: ``symgraph.graph``, ``symgraph.context`` (build context, to copy provenance),
``symgraph.ops.core`` (op records, node copies), ``symgraph.autodiff`` (grad),
``symgraph.rewrite`` (simplify), ``symgraph.plan`` (feed keys), ``symgraph.backends.numpy``
(evaluate), ``symgraph.display``'s formula and text modules. A loop's bodies are copied through its
op's ``encode_attrs``/``decode_attrs`` hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from symgraph.autodiff import grad_of_every_node
from symgraph.backends.numpy import evaluate
from symgraph.context import BUILD_CONTEXT, SCOPE, USER_CONTEXT, _BuildContext
from symgraph.display.formula import render
from symgraph.display.text import format_value
from symgraph.graph import Graph, Node, SymgraphError, ancestors
from symgraph.ops.core import CONST, VAR, const, make, placeholder
from symgraph.feeds import resolve_feeds
from symgraph.rewrite import simplify

# A node whose infix formula is at most this long shows it (``w0*x0``, ``cos(sin(w))``)
# instead of its op symbol: a learner sees which subexpression each node computes.
SHORT_FORMULA = 24


def select(outs: list[Node], max_nodes: int) -> tuple[list[Node], int]:
    """The nodes to draw (at most ``max_nodes``, the nearest the outputs) and the total."""
    every = ancestors(outs)
    if len(every) <= max_nodes:
        return every, len(every)
    chosen: dict[int, Node] = {}
    frontier = list(dict.fromkeys(outs))
    while frontier and len(chosen) < max_nodes:  # breadth-first from the outputs
        nxt = []
        for n in frontier:
            if len(chosen) >= max_nodes:
                break
            if n.id not in chosen:
                chosen[n.id] = n
                nxt.extend(i for i in n.inputs if i.id not in chosen)
        frontier = nxt
    return [chosen[i] for i in sorted(chosen)], len(every)


def annotations(drawn: list[Node], feeds: Any, grads_of: Any) -> tuple[dict, dict]:
    """Value text and gradient text per drawn node id. Appends no node to the graph."""
    if feeds is None:
        if grads_of is not None:
            raise SymgraphError(
                "sg.to_dot: grads_of needs feeds, since gradients are shown as numbers; "
                "pass feeds={input: value, ...}"
            )
        return {}, {}
    if not isinstance(feeds, Mapping):
        raise SymgraphError(f"sg.to_dot: feeds must be a dict, got {type(feeds).__name__}")
    y = None if grads_of is None else check_grads_of(grads_of, drawn[0].graph)
    values = evaluate(drawn, feeds)  # also checks every feed, before gradients() uses them
    shown = {n.id: format_value(v) for n, v in zip(drawn, values)}
    if y is None:
        return shown, {}
    below = {n.id for n in ancestors([y])}
    forward = [n for n in drawn if n.id in below and n.dtype.kind == "f"]
    grads = gradients(y, forward, feeds) if forward else []
    return shown, {n.id: format_value(v) for n, v in zip(forward, grads)}


def scratch_copy(roots: list[Node], copy: dict[int, Node] | None = None) -> dict[int, Node]:
    """A copy of the ancestors of ``roots`` in a new graph, by original id (``copy``, if
    given, is extended in its graph). Each node is rebuilt from its op record, inputs and
    attributes, with its derivative order, ``grad`` call, scope and ``grad_of`` (when that
    is copied too), so the copy computes what the original does, ``grad`` and
    ``sg.simplify`` there apply the same rules, and interning there gives back a copied
    node exactly when the original graph held that node."""
    copy = {} if copy is None else copy
    scratch = next(iter(copy.values())).graph if copy else Graph()
    with scratch:  # an op without inputs is made in the default graph
        for n in ancestors(roots):
            if n.id in copy:
                continue
            ctx = USER_CONTEXT
            if n.order:
                ctx = _BuildContext(n.order, n.grad_call)
                ctx.grad_of = None if n.grad_of is None else copy.get(n.grad_of.id)
            tokens = BUILD_CONTEXT.set(ctx), SCOPE.set(n.scope)
            try:
                if n.opdef is VAR:  # fed by node, so its name need not be findable
                    copy[n.id] = placeholder(scratch, n.shape, n.dtype, n.name)
                elif n.opdef is CONST:
                    copy[n.id] = const(n.attrs["value"], name=n.name, graph=scratch)
                elif n.opdef.encode_attrs is not None:  # a loop: its bodies are copied too
                    copy[n.id] = make(n.opdef, [copy[i.id] for i in n.inputs],
                                      _copied_bodies(n, copy))
                else:
                    copy[n.id] = make(n.opdef, [copy[i.id] for i in n.inputs], n.attrs)
            finally:
                SCOPE.reset(tokens[1])
                BUILD_CONTEXT.reset(tokens[0])
    return copy


def _copied_bodies(n: Node, copy: dict[int, Node]) -> dict:
    """The attributes of the loop ``n`` with its bodies copied into ``copy``'s graph (a
    ``grad`` there builds the derivative bodies there, not in the user's graph)."""
    plain, bodies = n.opdef.encode_attrs(n.attrs)
    moved = {}
    for key, (inputs, outputs, meta) in bodies.items():
        scratch_copy([*inputs, *outputs], copy)
        moved[key] = ([copy[i.id] for i in inputs], [copy[o.id] for o in outputs], meta)
    return n.opdef.decode_attrs(plain, moved)


def _copied_feeds(feeds: Mapping[Any, Any], graph: Graph, copy: dict[int, Node]) -> dict:
    """``feeds`` keyed by the copies of the nodes they feed (a feed the copy does not need
    is left out)."""
    fed = {}
    for node, value in resolve_feeds(feeds, graph, "sg.to_dot"):
        if node.id in copy:
            fed[copy[node.id]] = value
    return fed


def gradients(y: Node, wrt: list[Node], feeds: Mapping[Any, Any]) -> list[np.ndarray]:
    """The values of ``sg.grad(y, wrt)`` at ``feeds`` (keyed as ``sg.evaluate`` takes them,
    already checked), computed on a scratch copy of ``y``'s ancestors: the user's graph
    gains no node."""
    copy = scratch_copy([y])
    grads = grad_of_every_node(copy[y.id], [copy[n.id] for n in wrt])
    return evaluate(grads, _copied_feeds(feeds, y.graph, copy))


def clean_view(outs: list[Node], feeds: Any, grads_of: Any) -> tuple[list[Node], Any, Any]:
    """The outputs, feeds and ``grads_of`` of the clean view: ``sg.simplify`` of the outputs
    (and of ``grads_of``, so their shared nodes stay shared), run on a scratch copy because
    simplify appends its nodes to the graph it works on. ``simplify`` is value-preserving,
    so the numbers drawn are those of the user's graph."""
    graph = outs[0].graph
    y = check_grads_of(grads_of, graph) if grads_of is not None else None
    roots = outs + ([y] if y is not None else [])
    # The nodes derivative nodes point back to are copied too: they place them in clusters.
    every = ancestors(roots)
    copy = scratch_copy([*{n.grad_of.id: n.grad_of for n in every
                           if n.grad_of is not None}.values(),
                         *roots])
    simple = simplify([copy[n.id] for n in roots])
    if feeds is not None and isinstance(feeds, Mapping):
        kept = {n.id for n in ancestors(simple)}
        feeds = _copied_feeds(feeds, graph, copy)
        for node in feeds:
            if node.opdef is not VAR and node.id not in kept:
                raise SymgraphError(
                    f"sg.to_dot: clean=True simplified away the fed node {node.op} (#{node.id} "
                    "of the copy); feed inputs only, or draw without clean=True"
                )
    return simple[:len(outs)], feeds, (simple[-1] if y is not None else None)


def check_grads_of(y: Any, graph: Any) -> Node:
    if not isinstance(y, Node):
        raise SymgraphError(f"sg.to_dot: grads_of must be a symgraph node, got {type(y).__name__}")
    if y.graph is not graph:
        raise SymgraphError("sg.to_dot: grads_of is a node of another graph than the outputs")
    if y.shape != () or y.dtype.kind != "f":
        raise SymgraphError(
            f"sg.to_dot: grads_of must be a float scalar node (shape ()), but {y.op} node "
            f"#{y.id} has shape {y.shape} and dtype {y.dtype}; pass e.g. the loss, or y.sum()"
        )
    return y


def scopes(drawn: list[Node]) -> dict[int, str]:
    """The scope (cluster) each drawn node is drawn in, by id."""
    memo: dict[int, str] = {}
    home = _homes(drawn)
    scopes = {n.id: _effective_scope(n, memo, home) for n in drawn}
    _place_constants(drawn, scopes)
    return scopes


def _homes(drawn: list[Node]) -> dict[int, str]:
    """For each unscoped drawn node, the scope of its first (lowest id) scoped consumer of
    the same order: a weight built outside any scope belongs to the layer that uses it."""
    home: dict[int, str] = {}
    for n in drawn:  # in id order, so the first consumer wins
        if n.scope:
            for i in n.inputs:
                if not i.scope and i.order == n.order:
                    home.setdefault(i.id, n.scope)
    return home


def _effective_scope(n: Node, memo: dict[int, str], home: Mapping[int, str] | None = None
                     ) -> str:
    """The node's scope; a derivative node built outside any scope takes the scope of
    the forward node it differentiates, so a layer's backward pass sits with the layer.
    When that forward node has no scope either (a weight made outside the layers), the
    derivative node goes to ``home[forward.id]`` (see :func:`_homes`): the weight's final
    gradient (the ``+`` adding the weight-decay term) then sits with its layer."""
    chain = []
    while n.id not in memo:
        if n.scope or n.grad_of is None:
            memo[n.id] = n.scope
            break
        chain.append(n)
        n = n.grad_of
    if not chain:
        return memo[n.id]
    scope = memo[n.id]
    if not scope and n.grad_of is None and home:
        scope = home.get(n.id, "")
    for m in chain:
        memo[m.id] = scope
    return scope


def _place_constants(drawn: list[Node], scopes: dict[int, str]) -> None:
    """An unscoped constant whose drawn consumers all sit in one scope joins that scope
    (constants are interned, so a derivative's ``1`` may be grad_of some far-away node)."""
    users: dict[int, set[str]] = {}
    for n in drawn:
        for i in n.inputs:
            if i.opdef is CONST and i.id in scopes and not scopes[i.id]:
                users.setdefault(i.id, set()).add(scopes[n.id])
    for cid, where in users.items():
        if len(where) == 1 and "" not in where:
            scopes[cid] = where.pop()


def short_formulas(drawn: list[Node]) -> dict[int, str]:
    """Infix formula (as ``str(node)``) of each drawn node whose formula is at most
    ``SHORT_FORMULA`` characters. Built bottom-up from the inputs' short formulas, so each
    node costs a few characters' work even on a 100,000-node chain."""
    short: dict[int, str] = {}
    for n in drawn:  # id order: inputs come first
        args = [short.get(i.id) for i in n.inputs]
        if any(a is None for a in args):
            continue  # an input's formula is long (or not drawn), so this one is too
        text = render(n, args)
        if len(text) <= SHORT_FORMULA:
            short[n.id] = text
    return short


# --- how a node looks ------------------------------------------------------------------------



"""Vectorizing a graph over a batch axis (symbolic vmap), for Jacobians and Hessians.

Owns: :func:`vectorize`, :func:`substitute` and the public :func:`vmap`. Given result
nodes that depend on ``placeholder`` nodes, they rebuild every node between them with
each op's ``batch`` rule, as if each placeholder had an extra leading axis holding its
batched value. A Jacobian is then one reverse pass for a placeholder cotangent,
vectorized over the rows of an identity matrix: its graph is O(gradient graph), not one
gradient graph per output element. (The loops' batch rules, ``symgraph.loops.rewrite``,
vmap a loop's body with :func:`substitute`.)

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from symgraph.graph import (
    BUILD_CONTEXT, Node, SymgraphError, ancestors, derivative_context, get_default_graph,
)
from symgraph.ops import broadcast_to, expand_dims, getitem, stack, transpose
from symgraph.ops.core import describe, make, operands, placeholder
from symgraph.ops.transaction import building


def vectorize(results: list[Node], placeholder: Node, batched_value: Node) -> list[Node] | None:
    """``results`` with ``placeholder`` replaced by ``batched_value`` (shape
    ``(B, *placeholder.shape)``); each result gains the leading axis ``B``.

    Returns ``None`` when an op on the way has no batch rule (the caller then falls back
    to building one graph per batch entry).
    """
    outputs, _ = substitute(results, {placeholder: batched_value})
    return outputs


def substitute(results: list[Node], batched: dict[Node, Node], unroll: bool = False
               ) -> tuple[list[Node] | None, Node | None]:
    """``results`` with each placeholder replaced by its batched value (all with the same
    leading axis ``B``); also the first node whose op has no batch rule, if any. The
    loops' batch rules vmap a body with it. ``unroll=True`` (``sg.vmap``'s) applies a node
    with no rule for its batched inputs to each entry and stacks the results instead.

    >>> import symgraph as sg
    >>> from symgraph.ops.core import placeholder
    >>> with sg.Graph() as g:
    ...     p = placeholder(g, (), "float64", "entry")
    ...     (y,), culprit = substitute([sg.sin(p) * 2], {p: sg.const([0.0, 1.0])})
    >>> y.shape, culprit
    ((2,), None)
    """
    size = next(iter(batched.values())).shape[0]
    new: dict[int, Node] = {p.id: v for p, v in batched.items()}
    for node in ancestors(results):
        if node in batched:
            continue
        flags = tuple(inp.id in new for inp in node.inputs)
        if not any(flags):
            continue
        rule = node.opdef.batch
        args = [new.get(i.id, i) for i in node.inputs]
        if node.order == BUILD_CONTEXT.get().order:
            out = _batched(node, args, flags, size, unroll)
        else:  # the batched node is a derivative of the order the node is (vmap of a grad)
            with derivative_context(node.order, node.grad_call):
                out = _batched(node, args, flags, size, unroll)
        if out is None:
            return None, node
        if out.shape == node.shape:
            continue  # the rule found the result independent of the batch (e.g. a count)
        if out.shape != (size, *node.shape):
            return None, node
        new[node.id] = out
    outputs = []
    for r in results:
        if r.id in new:
            outputs.append(new[r.id])
        else:  # does not depend on the placeholder: the same for every batch entry
            outputs.append(broadcast_to(expand_dims(r, 0), (size, *r.shape)))
    return outputs, None


def _batched(node: Node, args: list[Node], flags: tuple[bool, ...], size: int | None,
             unroll: bool) -> Node | None:
    """``node`` over the batched ``args`` (``flags``: which are): its op's batch rule, or
    with ``unroll``, where the op has no rule for these flags, the op applied to each
    entry and the results stacked (exact, at ``size`` nodes instead of one)."""
    rule = node.opdef.batch
    out = None if rule is None else rule(node, args, flags)
    if out is not None or not unroll or size is None:
        return out
    entries = [make(node.opdef, [getitem(a, j) if f else a for a, f in zip(args, flags)],
                    node.attrs) for j in range(size)]
    return stack(entries) if all(e.shape == node.shape for e in entries) else None


def vmap(fn: Callable[..., Any], in_axes: int | None | Sequence[int | None] = 0,
         out_axes: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``fn`` mapped over an axis of its arguments, as ``jax.vmap``: a function of nodes that
    builds the batched graph.

    ``fn`` is called once, on placeholders shaped like one entry of the batch; the graph it
    builds is then vectorized with each op's batch rule (no Python loop over the batch, no
    copy of the graph per entry). ``in_axes`` gives the batch axis of each argument (``None``:
    not batched, the same for every entry); ``fn`` returns a node or a list/tuple of nodes,
    whose batch axis is put at ``out_axes`` (one int for all, or one per result). A node whose op has no batch rule for its
    batched arguments (a ``while_loop``, whose trip count may differ per entry; a
    ``define_op`` not declared elementwise; a convolution whose image and kernel both vary)
    is applied to each entry and the results stacked: exact, at one node per entry.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     xs, w = sg.var("xs", shape=(4, 3)), sg.var("w", shape=(3,))
    ...     per_row = sg.vmap(lambda x, w: sg.sum(x * w) ** 2, in_axes=(0, None))(xs, w)
    >>> per_row.shape
    (4,)
    >>> sg.evaluate(per_row, {xs: np.ones((4, 3)), w: [1.0, 2.0, 3.0]}).tolist()
    [36.0, 36.0, 36.0, 36.0]
    """
    if not callable(fn):
        raise SymgraphError(f"sg.vmap needs a function of nodes, got {type(fn).__name__}")

    many = isinstance(out_axes, (list, tuple))
    if not all(isinstance(a, int) and not isinstance(a, bool)
               for a in (out_axes if many else [out_axes])):
        raise SymgraphError(f"sg.vmap: out_axes must be an int (where each result's batch "
                            f"axis goes) or a list of them, one per result; got {out_axes!r}")

    def batched(*args: Any, **keywords: Any) -> Any:
        if keywords:
            raise SymgraphError(f"sg.vmap: pass the arguments by position (in_axes follows "
                                f"them); got {', '.join(keywords)} by name")
        for k, a in enumerate(args):
            if isinstance(a, (list, tuple)) and any(isinstance(i, Node) for i in a):
                raise SymgraphError(f"sg.vmap: argument {k} is a {type(a).__name__} of nodes; "
                                    "vmap maps nodes (no pytrees): pass them as arguments of "
                                    "their own, or sg.stack them")
        axes = [in_axes] * len(args) if not isinstance(in_axes, (list, tuple)) else list(in_axes)
        if len(axes) != len(args):
            raise SymgraphError(
                f"sg.vmap: in_axes has {len(axes)} entries for {len(args)} arguments")
        given = [a for a in args if isinstance(a, Node)]
        if any(a.graph is not given[0].graph for a in given):
            raise SymgraphError("sg.vmap: the arguments belong to different graphs; build "
                                "them in one graph")
        graph = given[0].graph if given else get_default_graph()
        # (the transposes to the mapped axis too: a function that fails leaves none)
        with building(graph, "sg.vmap", "calling the function"):
            nodes = operands(args, "sg.vmap") if args else []
            moved, size = [], None
            for k, (x, axis) in enumerate(zip(nodes, axes)):
                if axis is None:
                    moved.append(None)
                    continue
                if not x.shape or not isinstance(axis, int) or not -x.ndim <= axis < x.ndim:
                    raise SymgraphError(f"sg.vmap: argument {k} ({describe(x)}) has no axis "
                                        f"{axis!r} to map over")
                axis %= x.ndim
                if x.shape[axis] is None or (size is not None and x.shape[axis] != size):
                    raise SymgraphError(
                        f"sg.vmap: the mapped axes must have one static size; argument {k} "
                        f"({describe(x)}) has {x.shape[axis]}"
                        + (f", another has {size}" if size is not None else ""))
                size = x.shape[axis]
                order = (axis, *[a for a in range(x.ndim) if a != axis])
                moved.append(x if axis == 0 else transpose(x, order))
            if size is None:
                raise SymgraphError("sg.vmap: no argument is mapped (every in_axes is None)")
            stand_ins = [x if m is None else _entry(m) for x, m in zip(nodes, moved)]
            out = fn(*stand_ins)
            single = isinstance(out, Node)
            outs = list(out) if isinstance(out, (list, tuple)) else [out]
            if not all(isinstance(o, Node) for o in outs):
                raise SymgraphError("sg.vmap: the function must return a node or a list of nodes")
            subs = {p: m for p, m in zip(stand_ins, moved) if m is not None}
            results, culprit = substitute(outs, subs, unroll=True)
            if results is None:
                raise SymgraphError(
                    f"sg.vmap: the op {culprit.op!r} of {describe(culprit)} cannot be applied "
                    "to one entry of the batch at a time; map with a Python loop and sg.stack")
            axes = list(out_axes) if many else [out_axes] * len(results)
            if len(axes) != len(results):
                raise SymgraphError(f"sg.vmap: out_axes has {len(axes)} entries for "
                                    f"{len(results)} results")
            results = [r if a == 0 else moveaxis_front(r, a) for r, a in zip(results, axes)]
        # (outside the function's guard: these are vmap's own, not the function's)
        return results[0] if single else list(results) if isinstance(out, list) else tuple(
            results) if type(out) is tuple else type(out)(*results)

    return batched


_ENTRY = object()  # the interning key's tag: no op's name can equal it


def _entry(mapped: Node) -> Node:
    """The placeholder of one entry of ``mapped`` (batch axis first): one per node mapped,
    interned, so the function's nodes on it are interned too and mapping the same function
    again adds no node."""
    return mapped.graph._kept((_ENTRY, mapped.id), lambda: placeholder(
        mapped.graph, mapped.shape[1:], mapped.dtype, "vmap_entry"))


def moveaxis_front(x: Node, axis: int) -> Node:
    """``x`` with its leading axis moved to ``axis``."""
    if not -x.ndim <= axis < x.ndim:
        raise SymgraphError(f"sg.vmap: out_axes {axis} is out of range for {describe(x)}")
    axis %= x.ndim
    order = [*range(1, x.ndim)]
    order.insert(axis, 0)
    return transpose(x, tuple(order))

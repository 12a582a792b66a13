"""Rules of shapes: broadcasts, sums, transposes and reshapes that add nothing.

Owns the ``canonicalize`` rules ``sum-to-same``, ``broadcast-same``, ``sum-scalar``,
``sum-broadcast``, ``transpose-transpose`` and ``reshape-reshape``, as data, and
:func:`shape_root` (when two nodes of ``None`` dimensions have one run-time shape).

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``patterns``.
"""

from __future__ import annotations

import math

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.shape import batch_elementwise
from symgraph.rewrite.patterns import Match, Rule, X


def shape_root(node: Node) -> Node:
    """A node with ``node``'s run-time shape, followed down as far as that is certain:
    through elementwise ops whose other inputs are constants of all-1 dims, and through
    ``broadcast_to``/``sum_to`` to the node lending their shape. Two nodes of equal static
    shape with one root have one run-time shape, even with ``None`` dimensions.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     t = sg.var("t", shape=(None,))
    ...     a, b = 1 - sg.square(sg.tanh(t)), sg.broadcast_to(1.0, sg.tanh(t))
    >>> shape_root(a) is shape_root(b) is t
    True
    """
    for _ in range(10_000):  # a bounded walk down one chain, no recursion
        ins = node.inputs
        if node.op in ("broadcast_to", "sum_to") and len(ins) == 2:
            node = ins[1]
            continue
        if not ins or node.opdef.batch is not batch_elementwise:
            break
        full = [i for i in ins if i.shape == node.shape]
        if len({i.id for i in full}) != 1 or any(
                i.shape != node.shape and not (i.op == "const" and i.ndim <= node.ndim
                                               and all(d == 1 for d in i.shape)) for i in ins):
            break
        node = full[0]
    return node


def same_runtime_shape(a: Node, b: Node) -> bool:
    """Whether ``a`` and ``b`` certainly have one shape when run (see :func:`shape_root`)."""
    return a.shape == b.shape and (None not in a.shape or shape_root(a) is shape_root(b))


def _same_shape_input(m: Match) -> Node | None:
    """``sum_to(x, like)`` or ``broadcast_to(x, like)`` of an ``x`` that has the shape
    already (statically, or from the same root at run time) is ``x``."""
    node = m.node
    x = node.inputs[0]
    if x.dtype != node.dtype or not same_runtime_shape(x, node):
        return None
    return x


def _sum_scalar(m: Match) -> Node | None:
    node = m.node
    x = node.inputs[0]
    # (not where the sum widens the dtype: a bool or int32 scalar sums to an int64)
    return x if x.shape == () and node.shape == () and x.dtype == node.dtype else None


def _sum_broadcast(m: Match) -> Node | None:
    """``sum(broadcast_to(x, S)) = sum(x) * (size(S) / size(x))`` over all axes."""
    node, b = m.node, m.node.inputs[0]
    x = b.inputs[0]
    if node.attrs["axis"] is not None or None in b.shape or None in x.shape:
        return None
    copies = int(np.prod(b.shape)) // max(int(np.prod(x.shape)), 1)
    if copies == 0:
        return None  # an empty sum is 0, but sum(x) * 0 is NaN where x holds inf
    with np.errstate(over="ignore"):  # 90000 copies is inf in float16
        held = float(np.asarray(copies, dtype=node.dtype)) if node.dtype.kind == "f" else copies
    if held != copies:
        return None  # (and float32 rounds counts above 2**24)
    total = ops.sum(x) * ops.const(copies, dtype=node.dtype, graph=node.graph)
    return ops.reshape(total, node.shape) if node.attrs["keepdims"] else total


def _one_element_or_ring(m: Match) -> bool:
    """``sum(broadcast_to(x, S)) == sum(x) * copies`` on every input when ``x`` has one
    element (``k`` copies of ``v`` overflow together with ``k*v``) or wraps as integers;
    otherwise the sum is reassociated: ``[[1e308], [-1e308]]`` broadcast to (2, 2) sums
    to inf in NumPy's order, ``sum(x)*2`` to 0."""
    x = m["X"]
    return m.node.dtype.kind in "iub" or (None not in x.shape and math.prod(x.shape) == 1)


def _transpose_transpose(m: Match) -> Node:
    inner = m.node.inputs[0]
    outer_axes, inner_axes = m.node.attrs["axes"], inner.attrs["axes"]
    return ops.transpose(m["X"], tuple(inner_axes[a] for a in outer_axes))


def _reshape_reshape(m: Match) -> Node | None:
    node = m.node
    if len(node.inputs) != 1 or len(node.inputs[0].inputs) != 1 or None in node.shape:
        return None
    return ops.reshape(node.inputs[0].inputs[0], node.shape)


RULES: list[Rule] = [
    Rule("sum-to-same", "canonicalize", None, _same_shape_input,
         "sum_to(x, like) -> x (same run-time shape)", roots=("sum_to",),
         when=lambda n: n.inputs[0].shape == n.shape),
    Rule("broadcast-same", "canonicalize", None, _same_shape_input,
         "broadcast_to(x, like) -> x (same run-time shape)", roots=("broadcast_to",),
         when=lambda n: n.inputs[0].shape == n.shape),
    # (NumPy's sum of -0.0 is 0.0)
    Rule("sum-scalar", "canonicalize", ("sum", X), _sum_scalar, "sum of a scalar -> itself",
         exact=lambda m: m.node.dtype.kind != "f"),
    Rule("sum-broadcast", "canonicalize", ("sum", ("broadcast_to", X)), _sum_broadcast,
         "sum(broadcast_to(x, S)) -> sum(x) * copies", exact=_one_element_or_ring),
    Rule("transpose-transpose", "canonicalize", ("transpose", ("transpose", X)),
         _transpose_transpose, "two transposes -> one (or none)"),
    Rule("reshape-reshape", "canonicalize", ("reshape", ("reshape", X)), _reshape_reshape,
         "two reshapes -> one (or none)"),
]

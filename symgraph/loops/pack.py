"""The results of a loop or branch node: one packed array, read by one node per result.

A loop computes several arrays at once (final carries, stacked outputs, saved carries).
Its node's value is all of them flattened side by side (:class:`~symgraph.loops.body.Layout`,
as ``ops/factor.py`` packs a decomposition's factors); ``loop_part`` reads one result out.
Its derivative is ``loop_place``: the result's cotangent placed in a pack of zeros. A
loop's vjp rule takes its cotangent apart again (:func:`split`) and, where it is a sum of
``loop_place`` nodes, uses their inputs directly: results that receive no cotangent
cost nothing in the reverse sweep.

Imports: ``symgraph.graph``, ``symgraph.ops``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.arithmetic import ADD
from symgraph.ops.core import Op, is_const, make, operatorname, register
from symgraph.ops.shape import reshape


def _part_impl(pack: np.ndarray, *, start: int, shape: tuple, dtype: str) -> np.ndarray:
    return pack[start:start + math.prod(shape)].reshape(shape).astype(dtype, copy=False)


def _place_impl(g: np.ndarray, *, start: int, total: int, dtype: str) -> np.ndarray:
    out = np.zeros(total, dtype)
    out[start:start + np.size(g)] = np.ravel(g)
    return out


def part(pack: Node, start: int, shape: tuple, dtype: Any) -> Node:
    """The result stored at ``start`` of ``pack``, of ``shape`` and ``dtype``."""
    return make(PART, [pack], {"start": start, "shape": tuple(shape),
                               "dtype": np.dtype(dtype).str})


def place(g: Node, start: int, total: int, dtype: Any) -> Node:
    """A pack of ``total`` zeros with ``g`` (flattened) at ``start``."""
    return make(PLACE, [g], {"start": start, "total": total, "dtype": np.dtype(dtype).str})


PART = register(Op(
    name="loop_part", impl=_part_impl, latex=operatorname("loop_part"),
    shape=lambda inputs, attrs: attrs["shape"],
    dtype=lambda inputs, attrs: np.dtype(attrs["dtype"]),
    vjp=(lambda g, out: place(g, out.attrs["start"], out.inputs[0].shape[0],
                              out.inputs[0].dtype),),
    jvp=(lambda t, out: make(PART, [t], out.attrs),),
    show_attrs=("start",), doc="one result of a loop or branch node (read from its pack)",
))

PLACE = register(Op(
    name="loop_place", impl=_place_impl, latex=operatorname("loop_place"),
    shape=lambda inputs, attrs: (attrs["total"],),
    dtype=lambda inputs, attrs: np.dtype(attrs["dtype"]),
    vjp=(lambda g, out: part(g, out.attrs["start"], out.inputs[0].shape,
                             out.inputs[0].dtype),),
    jvp=(lambda t, out: make(PLACE, [t], out.attrs),),
    show_attrs=("start",), doc="a result's cotangent placed in a loop's pack of zeros",
))


def split(g: Node, starts: list[int], parts: list[tuple[tuple, np.dtype]]) -> list[Node | None]:
    """The cotangent of each result of a pack from the pack's cotangent ``g`` (``None``
    for a result that gets none). A sum of ``loop_place`` nodes is read term by term;
    anything else is sliced."""
    terms, stack = [], [g]
    while stack:
        n = stack.pop()
        if n.opdef is ADD and all(i.shape == n.shape for i in n.inputs):
            stack.extend(n.inputs)
        else:
            terms.append(n)
    out: list[Node | None] = [None] * len(parts)
    at = {s: k for k, s in enumerate(starts)}
    for term in terms:
        if is_const(term, 0):
            continue
        k = at.get(term.attrs.get("start")) if term.opdef is PLACE else None
        pieces = ([(k, term.inputs[0])] if k is not None and term.inputs[0].shape == parts[k][0]
                  else [(j, part(term, s, shape, dtype))
                        for j, (s, (shape, dtype)) in enumerate(zip(starts, parts))])
        for j, piece in pieces:
            if piece.dtype != parts[j][1]:
                from symgraph.ops import cast
                piece = cast(piece, parts[j][1])
            out[j] = piece if out[j] is None else out[j] + piece
    return out


def reshape_to(x: Node, shape: tuple) -> Node:
    return x if x.shape == shape else reshape(x, shape)

"""Constant values for the rewrites: fills, folds of two constants, and when a product of
constants reassociates exactly.

Owns :func:`fill` (a constant of a node's shape that costs no memory), :func:`fold_binary`
and :func:`small_values`. The folding rule itself (``fold``, ``fill_value``,
``FOLD_LIMIT``) and ``exact_product`` are ``symgraph.ops.folding``'s, the ones the
derivative builders and the plan use (re-exported here and by ``symgraph.rewrite``).

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations


import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.core import FOLD_LIMIT, Op, exact_product, fill_value, fold  # noqa: F401

__all__ = ["exact_product", "fill", "fold_binary", "small_values"]


def fill(node: Node, number: float) -> Node:
    """A constant of ``node``'s shape and dtype filled with ``number`` (no memory), or
    a broadcast of the scalar when the shape is only known at run time."""
    if None in node.shape:
        return ops.broadcast_to(ops.const(number, dtype=node.dtype, graph=node.graph), node)
    value = np.broadcast_to(np.asarray(number, dtype=node.dtype), node.shape)
    return ops.const(value, graph=node.graph)


def fold_binary(op: Op, a: Node, b: Node, dtype: np.dtype | None = None) -> Node | None:
    """The elementwise ``op`` of two constants, folded now (exact NumPy promotion of their
    dtypes, or both cast to ``dtype``, the dtype the graph computes ``op`` in: a uint8
    16*16 folded in uint8 is 0, in float64 256); None where the folded constant would be
    large (it is not materialised)."""
    va, vb = a.attrs["value"], b.attrs["value"]
    if dtype is not None:
        va, vb = _cast(va, dtype), _cast(vb, dtype)
    value = fold(op, [va, vb], {}, np.broadcast_shapes(va.shape, vb.shape), elementwise=True)
    if value is None:
        return None
    return ops.const(_cast(value, np.result_type(va.dtype, vb.dtype)), graph=a.graph)


def _cast(value: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``value`` in ``dtype``, a fill cast as its one element (no copy of the whole)."""
    if value.dtype == dtype:
        return value
    first = fill_value(value)
    return value.astype(dtype) if first is None else np.broadcast_to(
        first.astype(dtype), value.shape)


def small_values(values: list[np.ndarray]) -> list[np.ndarray] | None:
    """Constants' values, a fill as its one element; None if one is large."""
    values = [v if fill_value(v) is None else fill_value(v) for v in values]
    return None if any(v.size > FOLD_LIMIT for v in values) else values

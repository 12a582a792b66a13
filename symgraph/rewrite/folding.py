"""Constant values for the rewrites: fills, folds of two constants, and when a product of
constants reassociates exactly.

Owns :func:`fill` (a constant of a node's shape that costs no memory), :func:`fold_binary`,
:func:`small_values` and :func:`exact_product` (re-exported by
``symgraph.rewrite``). The folding rule itself (``fold``, ``fill_value``,
``FOLD_LIMIT``) is ``symgraph.ops.core``'s, the one the derivative builders and the plan
use.

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.core import FOLD_LIMIT, Op, fill_value, fold

__all__ = ["exact_product", "fill", "fold_binary", "small_values"]


def fill(node: Node, number: float) -> Node:
    """A constant of ``node``'s shape and dtype filled with ``number`` (no memory), or
    a broadcast of the scalar when the shape is only known at run time."""
    if None in node.shape:
        return ops.broadcast_to(ops.const(number, dtype=node.dtype, graph=node.graph), node)
    value = np.broadcast_to(np.asarray(number, dtype=node.dtype), node.shape)
    return ops.const(value, graph=node.graph)


def fold_binary(op: Op, a: Node, b: Node) -> Node | None:
    """The elementwise ``op`` of two constants, folded now (exact NumPy promotion of their
    dtypes); None where the folded constant would be large (it is not materialised)."""
    va, vb = a.attrs["value"], b.attrs["value"]
    value = fold(op, [va, vb], {}, np.broadcast_shapes(va.shape, vb.shape), elementwise=True)
    if value is None:
        return None
    dtype = np.result_type(a.dtype, b.dtype)
    if value.dtype != dtype:  # cast the one element of a fill, not the whole of it
        first = fill_value(value)
        value = value.astype(dtype) if first is None else np.broadcast_to(
            first.astype(dtype), value.shape)
    return ops.const(value, graph=a.graph)


def small_values(values: list[np.ndarray]) -> list[np.ndarray] | None:
    """Constants' values, a fill as its one element; None if one is large."""
    values = [v if fill_value(v) is None else fill_value(v) for v in values]
    return None if any(v.size > FOLD_LIMIT for v in values) else values


def exact_product(c: Any, d: Any) -> bool:
    """Whether ``c*(d*x) == (c*d)*x`` for every ``x`` (NaN, inf, -0.0 included, up to
    rounding): both factors of magnitude >= 1 with a finite product (the two sides then
    overflow together), or both <= 1 with a normal product (they underflow together).
    ``1e-200*(1e-200*x)`` against ``0*x``, or ``1e300*(1e-300*x)``, show why not others.

    >>> exact_product(2.0, 3.0), exact_product(0.5, 0.25), exact_product(4.0, 0.5)
    (True, True, False)
    """
    c, d = np.abs(np.asarray(c, dtype=np.float64)), np.abs(np.asarray(d, dtype=np.float64))
    with np.errstate(all="ignore"):
        p = c * d
        return bool((np.all(c >= 1) and np.all(d >= 1) and np.all(np.isfinite(p)))
                    or (np.all(c <= 1) and np.all(d <= 1)
                        and np.all(p >= np.finfo(np.float64).tiny)))

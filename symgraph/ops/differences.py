"""Finite differences: ``diff``, NumPy's (``n`` times along ``axis``, with ``prepend`` and
``append``), and the NaN-ignoring sums ``nansum`` and ``nanmean``.

All are written with other ops (slices, ``subtract``, ``where``, ``sum``), so their
derivatives are those ops', to any order: ``diff``'s is the difference's adjoint, and a
``nansum`` gives its NaN elements a zero cotangent (an op before it whose derivative is
NaN there still makes that element's gradient NaN, as in JAX: ``nansum(x * x)``).

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, reduce, rounding,
shape and sorting modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import const, describe, follows_numpy, operands
from symgraph.ops.elementwise import NOT_EQUAL, apply, cast, where
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.rounding import isnan
from symgraph.ops.shape import concatenate
from symgraph.ops.sorting import one_axis

__all__ = ["diff", "nanmean", "nansum"]


@follows_numpy(np.diff)
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Node:
    """The ``n``-th difference along ``axis``, ``a[1:] - a[:-1]`` applied ``n`` times, as
    ``numpy.diff`` (``prepend``/``append``: values joined to ``a`` along ``axis`` first, a
    scalar standing for a slice of length 1; booleans give ``a[1:] != a[:-1]``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(4,))
    ...     d = sg.diff(x ** 2)
    >>> sg.evaluate(d, {x: [0.0, 1.0, 2.0, 3.0]}).tolist()
    [1.0, 3.0, 5.0]
    >>> sg.evaluate(sg.diff(x, n=2, prepend=0.0), {x: [1.0, 2.0, 4.0, 8.0]}).tolist()
    [0.0, 1.0, 2.0]
    """
    (x,) = operands([a], "diff")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise SymgraphError(f"diff of {describe(x)}: n={n!r} must be an int >= 0")
    if x.ndim == 0:
        raise ShapeError(f"diff of {describe(x)}: a scalar has no axis to difference along; "
                         "give an array")
    k = one_axis(x, axis, "diff")
    if n == 0:
        return x
    parts = [x]
    if prepend is not None:
        parts.insert(0, _edge(prepend, x, k, "prepend"))
    if append is not None:
        parts.append(_edge(append, x, k, "append"))
    if len(parts) > 1:
        x = concatenate(parts, axis=k)
    lead = (slice(None),) * k
    for _ in range(n):
        later, earlier = x[(*lead, slice(1, None))], x[(*lead, slice(None, -1))]
        x = apply(NOT_EQUAL, later, earlier) if x.dtype == np.bool_ else later - earlier
    return x


def _edge(value: Any, x: Node, axis: int, what: str) -> Node:
    """``prepend``/``append`` as a node to join to ``x`` along ``axis``: a scalar is
    broadcast to ``x``'s shape with length 1 along ``axis``, as NumPy does. A number is
    an array of its own dtype, as NumPy's ``asanyarray`` makes it (``prepend=0`` of float32
    values gives float64, as in NumPy), not a weak scalar."""
    node = value if isinstance(value, Node) else const(np.asarray(value), graph=x.graph)
    if node.ndim == 0:
        first = x[(*(slice(None),) * axis, slice(0, 1))]  # (its runtime shape, if unknown)
        return broadcast_to(node, first)
    if node.ndim != x.ndim:
        raise ShapeError(f"diff of {describe(x)}: {what} has {node.ndim} axes, the array "
                         f"{x.ndim}; give a scalar or an array of as many axes")
    return node


@follows_numpy(np.nansum)
def nansum(a: Any, axis: Any = None, keepdims: bool = False) -> Node:
    """Sum over ``axis`` with NaN counted as zero, as ``numpy.nansum`` (a slice of NaN
    sums to 0); its NaN elements get a zero cotangent.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     total = sg.nansum(v * 2.0)
    >>> float(sg.evaluate(total, {v: [1.0, float("nan"), 2.0]}))
    6.0
    >>> sg.evaluate(sg.grad(total, v), {v: [1.0, float("nan"), 2.0]}).tolist()
    [2.0, 0.0, 2.0]
    """
    (x,) = operands([a], "nansum")
    if x.dtype.kind != "f":  # nothing is NaN
        return reduce_sum(x, axis, keepdims)
    return reduce_sum(where(isnan(x), 0.0, x), axis, keepdims)


@follows_numpy(np.nanmean)
def nanmean(a: Any, axis: Any = None, keepdims: bool = False) -> Node:
    """Mean over ``axis`` of the elements that are not NaN, as ``numpy.nanmean`` (NaN for
    a slice of NaN only).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> float(sg.evaluate(sg.nanmean(v), {v: [1.0, float("nan"), 2.0]}))
    1.5
    """
    (x,) = operands([a], "nanmean")
    if x.dtype.kind != "f":
        x = cast(x, np.float64)  # as NumPy: the mean of integers is a float64
    kept = reduce_sum(cast(~isnan(x), x.dtype), axis, keepdims)
    return nansum(x, axis, keepdims) / kept

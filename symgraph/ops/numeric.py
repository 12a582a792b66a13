"""Numerical helpers from NumPy: ``cross trapezoid interp searchsorted select``.

``searchsorted`` is a declared op (its integer result passes no gradient; every backend
runs NumPy's or ``jax.numpy``'s ``searchsorted``); the others are written with ops, as
NumPy computes them, so their derivatives are the ops' own: ``interp`` is
differentiable in ``x`` (the slope of its segment) and in ``fp`` (the two values it
interpolates), ``select`` passes each entry's gradient to the choice it took.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, gather, layout,
shape, reduce, rounding, differences and sorting modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case, Op, const, describe, follows_numpy, make, operands, operatorname, register,
)
from symgraph.ops.differences import diff
from symgraph.ops.elementwise import cast, equal, where
from symgraph.ops.gather import take
from symgraph.ops.layout import moveaxis
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.rounding import clip, isnan
from symgraph.ops.shape import reshape, stack
from symgraph.ops.sorting import one_axis

__all__ = ["cross", "interp", "searchsorted", "select", "trapezoid"]

INTP = np.dtype(np.intp)

def _batch_searchsorted(node: Node, args: list, batched: tuple) -> Node | None:
    """vmap: the values batched (each a lookup of its own), the sorted array not: the same
    op, the batch axis one more axis of the values. A batch of sorted arrays: no rule."""
    if batched[0]:
        return None
    return make(node.opdef, args, node.attrs)


SEARCHSORTED = register(Op(
    name="searchsorted", array_api="searchsorted",
    impl=lambda a, v, *, side: np.asarray(np.searchsorted(a, v, side=side), dtype=INTP),
    shape=lambda inputs, attrs: inputs[1].shape, dtype=lambda inputs, attrs: INTP,
    vjp=(None, None), jvp=(None, None),  # integer-valued, piecewise constant
    show_attrs=("side",), latex=operatorname("searchsorted"), batch=_batch_searchsorted,
))
_SORTED = np.array([-1.0, 0.0, 0.0, 2.5])  # a tie, for the two sides
_SORTED_EDGES = np.array([-np.inf, -1.0, 0.0, 0.0, np.inf])
SEARCHSORTED.cases = [
    Case(lambda v, side=side, a=a: searchsorted(a, v, side), [values], order=0,
         ref=lambda v, side=side, a=a: np.searchsorted(a, v, side=side))
    for side in ("left", "right")
    for a, values in ((_SORTED_EDGES, np.array([[-2.0, -1.0, 0.0], [1.0, np.inf, np.nan]])),
                      (_SORTED, ((3,), -2.0, 3.0)))
]


@follows_numpy(np.searchsorted)
def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Node:
    """The indices (int64) where the values ``v`` would be inserted into the sorted 1-D
    ``a`` to keep it sorted, as ``numpy.searchsorted`` (``side="left"``: before equal
    elements, ``"right"``: after; NaN sorts last). No gradient flows through it.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     i = sg.searchsorted([1.0, 2.0, 3.0], v, side="right")
    >>> sg.evaluate(i, {v: [0.5, 2.0, 9.0]}).tolist()
    [0, 2, 3]
    """
    graph = v.graph if isinstance(v, Node) else None
    sorted_, values = operands([a, v], "searchsorted", graph=graph)
    if sorter is not None:
        raise SymgraphError(f"searchsorted into {describe(sorted_)}: sorter= is not supported; "
                            "sort the array first (sg.sort, or sg.take(a, sorter))")
    if side not in ("left", "right"):
        raise SymgraphError(f"searchsorted into {describe(sorted_)}: side={side!r} must be "
                            "'left' or 'right'")
    if sorted_.ndim != 1:
        raise ShapeError(f"searchsorted into {describe(sorted_)}: the sorted array must be 1-D "
                         f"(it has {sorted_.ndim} axes)")
    return make(SEARCHSORTED, [sorted_, values], {"side": side})


@follows_numpy(np.interp)
def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Node:
    """The piecewise-linear interpolant through the points ``(xp, fp)`` at ``x``, as
    ``numpy.interp`` (float64; ``xp`` increasing; ``left``/``right``, by default ``fp[0]``
    and ``fp[-1]``, outside ``[xp[0], xp[-1]]``; NaN at NaN). NumPy's arithmetic step by
    step: ``slope * (x - xp[j]) + fp[j]``, ``fp[j]`` itself at a sample point. Its
    derivative in ``x`` is the segment's slope (0 outside; at a sample point the slope of
    the segment starting there, as JAX's, or 0 where that ``fp[j]`` is 0), in ``fp`` the
    weights of the two values interpolated; ``xp`` may be a node too. ``period`` is not
    supported.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, fp = sg.var("x"), sg.var("fp", shape=(3,))
    ...     y = sg.interp(x, [0.0, 1.0, 3.0], fp)
    >>> feed = {x: 2.0, fp: [0.0, 10.0, 30.0]}
    >>> float(sg.evaluate(y, feed)), float(sg.evaluate(sg.grad(y, x), feed))
    (20.0, 10.0)
    >>> sg.evaluate(sg.grad(y, fp), feed).tolist()
    [0.0, 0.5, 0.5]
    """
    graph = next((n.graph for n in (x, xp, fp) if isinstance(n, Node)), None)
    x, xp, fp = (cast(n, np.float64) for n in operands([x, xp, fp], "interp", graph=graph))
    if period is not None:
        raise SymgraphError(f"interp of {describe(x)}: period= is not supported; reduce x "
                            "modulo the period (sg.mod) and extend xp, fp by one period")
    if xp.ndim != 1 or fp.ndim != 1:
        raise ShapeError(f"interp of {describe(x)}: xp {describe(xp)} and fp {describe(fp)} "
                         "must be 1-D")
    n = xp.shape[0]
    if n is None or fp.shape[0] != n:
        raise ShapeError(f"interp of {describe(x)}: xp {describe(xp)} and fp {describe(fp)} "
                         "must have the same length, known when the graph is built")
    if n == 0:
        raise ShapeError(f"interp of {describe(x)}: xp is empty; give at least one point")
    first, last = fp[0], fp[n - 1]
    low = first if left is None else left
    high = last if right is None else right
    if n == 1:  # NumPy's own branch: its NaN is fp[0]
        return where(x < xp[0], low, where(x > xp[0], high, first))
    j = searchsorted(xp, x, "right") - 1
    k = clip(j, 0, n - 2)
    x0, x1, f0, f1 = take(xp, k), take(xp, k + 1), take(fp, k), take(fp, k + 1)
    slope = (f1 - f0) / (x1 - x0)
    inside = slope * (x - x0) + f0
    # NumPy's rescue of a NaN (an infinite value): from the other end, then the flat value
    other = slope * (x - x1) + f1
    other = where(isnan(other) & equal(f0, f1), f0, other)
    # at a sample point NumPy's value is fp[j] itself; slope * 0 + fp[j] is the same number
    # (and passes the slope on as the derivative, as JAX's) but where fp[j] is a zero (-0.0
    # + 0.0 is 0.0) or the slope is not finite (inf * 0)
    knot = equal(x, x0) & (isnan(inside) | equal(f0, 0))
    value = where(knot, f0, where(isnan(inside), other, inside))
    value = where(j >= n - 1, where(x > xp[n - 1], high, last), value)
    return where(isnan(x), x, where(j < 0, low, value))


@follows_numpy(np.cross)
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Node:
    """Cross products of 3-vectors along ``axisa``/``axisb`` (the other axes broadcast),
    placed along ``axisc`` (``axis`` sets all three), as ``numpy.cross``: ``(a1 b2 - a2 b1,
    a2 b0 - a0 b2, a0 b1 - a1 b0)``. 2-vectors (deprecated in NumPy 2) are not supported.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     u, v = sg.var("u", shape=(3,)), sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.cross(u, v), {u: [1.0, 0.0, 0.0], v: [0.0, 1.0, 0.0]}).tolist()
    [0.0, 0.0, 1.0]
    """
    a, b = operands([a, b], "cross")
    if axis is not None:
        axisa = axisb = axisc = axis
    parts = []
    for node, along, name in ((a, axisa, "a"), (b, axisb, "b")):
        if node.ndim == 0:
            raise ShapeError(f"cross of {describe(a)} and {describe(b)}: {name} is a scalar; "
                             "give vectors of length 3")
        k = one_axis(node, along, "cross")
        if node.shape[k] != 3:
            raise ShapeError(f"cross of {describe(a)} and {describe(b)}: {name} has length "
                             f"{node.shape[k]} along axis {along}; only 3-vectors are supported")
        node = moveaxis(node, k, -1)
        parts.append([node[..., i] for i in range(3)])
    (a0, a1, a2), (b0, b1, b2) = parts
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(c, -1, one_axis(c, axisc, "cross"))


@follows_numpy(np.trapezoid)
def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Node:
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, as
    ``numpy.trapezoid``: ``sum(d * (y[1:] + y[:-1]) / 2)``, ``d`` the spacing ``dx`` or
    ``diff(x)`` (``x`` 1-D along ``axis``, or of ``y``'s shape).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     y = sg.var("y", shape=(3,))
    >>> float(sg.evaluate(sg.trapezoid(y, x=[0.0, 1.0, 3.0]), {y: [0.0, 2.0, 2.0]}))
    5.0
    """
    (values,) = operands([y], "trapezoid")
    if values.ndim == 0:
        raise ShapeError(f"trapezoid of {describe(values)}: a scalar has no axis to integrate "
                         "along; give an array")
    k = one_axis(values, axis, "trapezoid")
    if x is None:
        d = dx
    else:
        (xs,) = operands([x], "trapezoid", graph=values.graph)
        if xs.ndim == 1:
            d = reshape(diff(xs), tuple(-1 if i == k else 1 for i in range(values.ndim)))
        elif xs.ndim == values.ndim:
            d = diff(xs, axis=k)
        else:
            raise ShapeError(f"trapezoid of {describe(values)}: x {describe(xs)} must be 1-D "
                             "or have as many axes as y")
    lead = (slice(None),) * k
    later, earlier = values[(*lead, slice(1, None))], values[(*lead, slice(None, -1))]
    return reduce_sum(d * (later + earlier) / 2.0, k)


def _stand_in(value: Any) -> Any:
    """What NumPy's select gives result_type for a choice: a Python number as it is (weak),
    an array, a node by its dtype."""
    if type(value) in (int, float, complex):
        return value
    if isinstance(value, Node):
        return np.zeros((1,) * value.ndim, value.dtype)
    return np.asarray(value)


@follows_numpy(np.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Node:
    """Each entry from the first choice whose condition holds there, else ``default``, as
    ``numpy.select`` (boolean conditions; everything broadcast; NumPy's result dtype). The
    gradient goes to the choice taken.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = sg.select([x < 0, x > 1], [-x, x * x], default=0.5)
    >>> sg.evaluate(y, {x: [-2.0, 0.5, 3.0]}).tolist()
    [2.0, 0.5, 9.0]
    """
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)):
        raise SymgraphError("select: condlist and choicelist must be lists (of conditions "
                            "and of choices)")
    if len(condlist) != len(choicelist):
        raise SymgraphError(f"select: {len(condlist)} conditions for {len(choicelist)} "
                            "choices; give one condition per choice")
    if not condlist:
        raise SymgraphError("select needs at least one condition and choice")
    graph = next((n.graph for n in (*condlist, *choicelist, default) if isinstance(n, Node)),
                 None)
    dtype = np.result_type(*map(_stand_in, choicelist), _stand_in(default))
    conditions = operands(list(condlist), "select", graph=graph)
    for i, c in enumerate(conditions):
        if c.dtype != np.bool_:
            raise SymgraphError(f"select: invalid entry {i} in condlist: {describe(c)} is "
                                f"{c.dtype}, not boolean; compare it (x > 0) first")
    choices = [cast(c, dtype) for c in operands(list(choicelist), "select", graph=graph)]
    result = default if isinstance(default, Node) else const(np.asarray(default), graph=graph)
    result = cast(result, dtype)
    for cond, choice in zip(reversed(conditions), reversed(choices)):
        result = where(cond, choice, result)
    return result

"""Evenly spaced values and coordinate grids: NumPy's ``linspace logspace geomspace
meshgrid``.

With Python numbers and arrays the result is NumPy's own array, a constant. Ends that are
nodes (``jnp.linspace`` of traced values) give NumPy's arithmetic step by step, written
with ops, so the values are NumPy's and differentiable in both ends: ``linspace`` is
``start + i * step`` (``(i / div) * delta`` where a step is 0, NumPy's branch for a
denormal span), the last value ``stop`` itself; ``logspace`` is ``base ** linspace``;
``geomspace`` goes through ``log10`` and ``logspace`` with both ends exact. ``num`` is an
int: the length is static.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, creation, elementwise, functions,
arithmetic, explog, reduce, rounding, shape, layout and logical modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError
from symgraph.ops.arithmetic import power
from symgraph.ops.core import _brief, broadcast_rule, const, follows_numpy, operands
from symgraph.ops.creation import (
    FLOAT64, count_arg, dtype_arg, flag_arg, graph_of, is_int, numpy_constant, numpy_value,
)
from symgraph.ops.elementwise import cast, equal, where
from symgraph.ops.explog import log10
from symgraph.ops.functions import sign
from symgraph.ops.layout import moveaxis, ravel
from symgraph.ops.logical import any as any_of
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.reduce import zeros_like as _zeros_like
from symgraph.ops.rounding import floor
from symgraph.ops.shape import reshape

__all__ = ["geomspace", "linspace", "logspace", "meshgrid"]


# --- evenly spaced ------------------------------------------------------------------------------


def _ends(start: Any, stop: Any, who: str) -> tuple[Node, Node]:
    """The two ends as nodes of one graph: Python numbers take the other end's dtype (NumPy
    2's weak scalars), arrays keep theirs."""
    a, b = operands([start, stop], who, graph=graph_of(start, stop))
    return a, b


def _spaced(a: Node, b: Node, num: int, endpoint: bool, dt: np.dtype) -> tuple[Node, Any]:
    """NumPy's linspace of the nodes ``a``, ``b`` (already of dtype ``dt``) along a new
    first axis, before the moveaxis and the integer floor: ``y = i * step`` (``(i / div)
    * delta`` if a step is 0: a denormal span), ``+ start``, the last value ``stop``."""
    delta = b - a
    lead = max(delta.ndim, a.ndim, b.ndim)
    i = const(np.arange(num, dtype=dt).reshape(-1, *(1,) * lead), graph=a.graph)
    div = num - 1 if endpoint else num
    if div > 0:
        step = delta / div
        if step.ndim:  # NumPy takes the denormal branch for all if any step is 0
            zero = any_of(equal(step, 0))
        else:
            zero = equal(step, 0)
        y = where(zero, (i / div) * delta, i * step)
    else:  # 0 or 1 values: no step (NumPy's NaN), the one value is 0 * delta + start
        step = np.nan
        y = i * delta
    y = y + a
    if endpoint and num > 1:
        last = np.zeros((num,) + (1,) * (y.ndim - 1), bool)
        last[-1] = True
        y = where(const(last, graph=a.graph), b, y)
    return y, step


def _axis_arg(axis: Any, who: str) -> int:
    """The new axis of the values: an int (an array would reach NumPy's ``axis != 0``)."""
    if not is_int(axis):
        raise SymgraphError(f"{who}: axis must be an int, got {_brief(repr(axis))}")
    return int(axis)


def _finish(y: Node, axis: Any, dtype: np.dtype | None, who: str) -> Node:
    if _axis_arg(axis, who) != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None and dtype.kind in "iu" and y.dtype.kind == "f":
        y = floor(y)  # NumPy floors before an integer cast (-0.5 gives -1, not 0)
    return y if dtype is None else cast(y, dtype)


@follows_numpy(np.linspace)
def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless
    ``endpoint=False``), as ``numpy.linspace``; ``retstep=True`` also gives the step.
    Array ends give one sequence per element along a new ``axis``. Ends may be nodes (as
    ``jnp.linspace`` of traced values): the values are NumPy's arithmetic on them, and
    differentiable in both ends. ``num`` is an int (the length is static).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a")
    ...     y = sg.linspace(a, 1.0, 5)
    >>> sg.evaluate(y, {a: 0.0}).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> float(sg.evaluate(sg.grad(y[1], a), {a: 0.0}))
    0.75
    """
    who = "sg.linspace"
    axis = _axis_arg(axis, who)
    num = count_arg(num, "num", who)
    if num < 0:
        raise SymgraphError(f"{who}: num={num} must be >= 0")
    endpoint, retstep = flag_arg(endpoint, "endpoint", who), flag_arg(retstep, "retstep", who)
    dtype = dtype_arg(dtype, who)
    if not (isinstance(start, Node) or isinstance(stop, Node)):
        values, step = numpy_value(who, lambda: np.linspace(start, stop, num, endpoint, True,
                                                            dtype, axis))
        found = numpy_constant(who, lambda: values)
        return (found, numpy_constant(who, lambda: step)) if retstep else found
    a, b = _ends(start, stop, who)
    dt = np.result_type(a.dtype, b.dtype)
    dt = dt if dt.kind == "f" else FLOAT64  # NumPy computes integer ends in float64
    y, step = _spaced(cast(a, dt), cast(b, dt), num, endpoint, dt)
    y = _finish(y, axis, dtype, who)
    if not retstep:
        return y
    return y, (step if isinstance(step, Node) else const(np.float64(step), graph=a.graph))


def _scalar_base(base: Any, who: str) -> Any:
    if isinstance(base, Node) and base.ndim == 0:
        return base
    if isinstance(base, (int, float, np.integer, np.floating)) and not isinstance(
            base, (bool, np.bool_)):
        return base
    raise SymgraphError(f"{who}: base must be a number or a scalar node, got "
                        f"{_brief(repr(base))}; for one base per sequence write "
                        "base ** sg.linspace(start, stop, num, axis=...)")


@follows_numpy(np.logspace)
def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             base: Any = 10.0, dtype: Any = None, axis: int = 0) -> Node:
    """``base ** linspace(start, stop, num)``, as ``numpy.logspace``; node ends (and a
    scalar node ``base``) give a differentiable result.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.evaluate(sg.logspace(0, 2, 3), {}))
    [  1.  10. 100.]
    """
    who = "sg.logspace"
    axis = _axis_arg(axis, who)
    base = _scalar_base(base, who)
    if not any(isinstance(v, Node) for v in (start, stop, base)):
        dtype = dtype_arg(dtype, who)
        return numpy_constant(who, lambda: np.logspace(start, stop, num, endpoint, base,
                                                       dtype, axis))
    if not (isinstance(start, Node) or isinstance(stop, Node)):
        start = numpy_constant(who, lambda: np.asarray(start), graph=base.graph)
    y = linspace(start, stop, num, endpoint, axis=axis)
    result = power(base, y)
    dtype = dtype_arg(dtype, who)
    return result if dtype is None else cast(result, dtype)


@follows_numpy(np.geomspace)
def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
              dtype: Any = None, axis: int = 0) -> Node:
    """``num`` values from ``start`` to ``stop`` in geometric progression, as
    ``numpy.geomspace`` (both ends of one sign; float64 unless ``dtype``: NumPy's rule).
    Node ends give NumPy's arithmetic (through ``log10`` and ``logspace``, the ends
    exactly ``start`` and ``stop``), differentiable; where an end is 0 the values are NaN
    (NumPy raises ValueError, which a value known only at run time cannot).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a")
    >>> sg.evaluate(sg.geomspace(a, 8.0, 4), {a: 1.0}).tolist()
    [1.0, 2.0, 4.0, 8.0]
    """
    who = "sg.geomspace"
    axis = _axis_arg(axis, who)
    num = count_arg(num, "num", who)
    endpoint = flag_arg(endpoint, "endpoint", who)
    dtype = dtype_arg(dtype, who)
    if not (isinstance(start, Node) or isinstance(stop, Node)):
        return numpy_constant(who, lambda: np.geomspace(start, stop, num, endpoint, dtype,
                                                        axis))
    if num < 0:
        raise SymgraphError(f"{who}: num={num} must be >= 0")
    a, b = _ends(start, stop, who)
    # NumPy's dtype: result_type(start, stop, float(num), zeros((), dtype))
    dt = np.result_type(a.dtype, b.dtype, 1.0, np.zeros((), FLOAT64 if dtype is None else dtype))
    a, b = cast(a, dt), cast(b, dt)
    zero = equal(a, 0) | equal(b, 0)
    out_sign = sign(a)
    a, b = a / out_sign, b / out_sign  # rotated to positive, rotated back below
    y = logspace(log10(a), log10(b), num, endpoint, base=10.0, dtype=dt)
    if num > 0:  # the ends exactly (exp(log(x)) is not always x)
        ends = np.zeros((num,) + (1,) * (y.ndim - 1), bool)
        ends[0] = True
        y = where(const(ends, graph=a.graph), a, y)
        if num > 1 and endpoint:
            ends[:] = False
            ends[-1] = True
            y = where(const(ends, graph=a.graph), b, y)
    y = y * out_sign
    y = where(zero, np.nan, y)  # NumPy: "Geometric sequence cannot include zero"
    return _finish(y, axis, dtype, who)


# --- grids -------------------------------------------------------------------------------------


@follows_numpy(np.meshgrid)
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False,
             indexing: str = "xy") -> tuple[Node, ...]:
    """Coordinate arrays from coordinate vectors, as ``numpy.meshgrid``: each input
    flattened and broadcast against the others, ``indexing="xy"`` (Cartesian: the first
    two axes swapped) or ``"ij"`` (matrix), ``sparse=True`` leaving them unbroadcast;
    ``copy`` has no effect (nodes are immutable). A tuple of nodes.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x", shape=(3,)), sg.var("y", shape=(2,))
    ...     X, Y = sg.meshgrid(x, y)
    >>> X.shape, sg.meshgrid(x, y, indexing="ij", sparse=True)[1].shape
    ((2, 3), (1, 2))
    """
    who = "sg.meshgrid"
    if not isinstance(indexing, str) or indexing not in ("xy", "ij"):
        raise SymgraphError(f"{who}: indexing={_brief(repr(indexing))} must be 'xy' or 'ij'")
    sparse = flag_arg(sparse, "sparse", who)
    flag_arg(copy, "copy", who)
    if not xi:
        return ()
    graph = graph_of(*xi)
    nodes = [x if isinstance(x, Node) else numpy_constant(who, lambda x=x: np.asarray(x),
                                                          graph=graph) for x in xi]
    nodes = operands(nodes, who, graph=graph)  # (one graph)
    ndim = len(nodes)
    shapes = [[1] * ndim for _ in nodes]
    for i in range(ndim):
        shapes[i][i] = -1
    if indexing == "xy" and ndim > 1:
        shapes[0][0], shapes[0][1], shapes[1][0], shapes[1][1] = 1, -1, -1, 1
    out = [reshape(ravel(n), tuple(s)) for n, s in zip(nodes, shapes)]
    if sparse:
        return tuple(out)
    if any(None in n.shape for n in out):  # a length known when fed: the grid's too
        grid = out[0]
        for n in out[1:]:
            grid = _zeros_like(grid) + _zeros_like(n)  # (only its shape is read)
        return tuple(broadcast_to(n, grid) for n in out)
    shape = broadcast_rule(tuple(out), {})
    return tuple(broadcast_to(n, shape) for n in out)


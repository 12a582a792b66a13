"""Polynomials as NumPy evaluates them: ``polyval`` (Horner's scheme) and ``vander`` (the
powers of a vector, by running products).

Written with ops, step for step as NumPy computes them (``y = y * x + p[i]`` from
``y = zeros_like(x)``, so an infinite ``x`` gives NaN as in NumPy; the columns of
``vander`` a running product of ``x``), so values and dtypes are NumPy's and both are
differentiable in every argument, to any order.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, creation, arrangement, elementwise,
reduce, shape, layout and sorting modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arrangement import as_nodes
from symgraph.ops.core import describe, follows_numpy
from symgraph.ops.creation import count_arg, flag_arg, numpy_constant, ones_like
from symgraph.ops.elementwise import cast
from symgraph.ops.layout import flip
from symgraph.ops.reduce import zeros_like
from symgraph.ops.shape import concatenate, expand_dims
from symgraph.ops.sorting import cumprod

__all__ = ["polyval", "vander"]


@follows_numpy(np.polyval)
def polyval(p: Any, x: Any) -> Node:
    """The polynomial with coefficients ``p`` (highest power first, a 1-D array of known
    length) at ``x``, as ``numpy.polyval``: Horner's ``y = y * x + p[i]`` from zeros of
    ``x``'s shape and dtype. Differentiable in ``p`` and ``x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.polyval([3.0, 0.0, 1.0], x)
    >>> float(sg.evaluate(y, {x: 2.0})), float(sg.evaluate(sg.grad(y, x), {x: 2.0}))
    (13.0, 12.0)
    """
    if not isinstance(p, Node) and not isinstance(x, Node):
        return numpy_constant("polyval", lambda: np.polyval(p, x))
    coefficients, at = as_nodes([p, x], "polyval")
    if coefficients.ndim != 1 or coefficients.shape[0] is None:
        raise ShapeError(f"polyval: the coefficients {describe(coefficients)} must be 1-D, "
                         "their number known when the graph is built")
    y = zeros_like(at)
    for i in range(coefficients.shape[0]):
        y = y * at + coefficients[i]
    return y


@follows_numpy(np.vander)
def vander(x: Any, N: int | None = None, increasing: bool = False) -> Node:
    """The Vandermonde matrix of the vector ``x``: columns ``x**(N-1), ..., x, 1`` (the
    other way round with ``increasing=True``; ``N`` defaults to ``len(x)``), as
    ``numpy.vander``, whose dtype is at least int64 (float32 gives float64). The powers are
    running products, as NumPy's, so differentiable.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.vander(v, 3), {v: [2.0, 3.0]}).tolist()
    [[4.0, 2.0, 1.0], [9.0, 3.0, 1.0]]
    """
    increasing = flag_arg(increasing, "increasing", "vander")
    (v,) = as_nodes([x], "vander")
    if v.ndim != 1:
        raise ShapeError(f"vander of {describe(v)}: x must be 1-D (NumPy's rule)")
    if N is None:
        if v.shape[0] is None:
            raise SymgraphError(f"vander of {describe(v)}: its length is known only when "
                                "fed; give N, the number of columns")
        n = v.shape[0]
    else:
        n = count_arg(N, "N", "vander")
        if n < 0:
            raise SymgraphError(f"vander: N={n} must be >= 0")
    v = cast(v, np.promote_types(v.dtype, np.int_))
    column = expand_dims(v, 1)
    if n == 0:
        return zeros_like(column)[:, :0]
    parts = [ones_like(column)]
    if n > 1:  # x, x*x, (x*x)*x, ...: NumPy's multiply.accumulate of x repeated
        repeated = column * numpy_constant("vander", lambda: np.ones((1, n - 1), v.dtype),
                                           graph=v.graph)
        parts.append(cumprod(repeated, axis=1))
    powers = concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    return powers if increasing else flip(powers, 1)

"""The Array API's and NumPy 2's names for what symgraph already computes.

Plain aliases (the same function under a second name): ``acos asin atan atan2 acosh
asinh atanh`` (``arccos``...), ``pow`` (``power``), ``concat`` (``concatenate``),
``absolute`` (``abs``), ``amax amin`` (``max min``), ``around`` (``round``),
``true_divide`` (``divide``), ``permute_dims`` (``transpose``). Small compositions with
NumPy 2's semantics: ``matrix_transpose fabs positive cumulative_sum cumulative_prod
vecdot matvec vecmat isinf isposinf isneginf signbit``. Their derivatives are their parts' own.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, functions,
arithmetic, linalg, reduce, shape, layout, sorting, statistics, rounding, trig and
moremath modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arithmetic import divide, power
from symgraph.ops.core import const, describe, follows_numpy, operands
from symgraph.ops.elementwise import cast, equal, not_equal
from symgraph.ops.functions import abs as absolute
from symgraph.ops.layout import squeeze, swapaxes
from symgraph.ops.linalg import matmul
from symgraph.ops.moremath import copysign
from symgraph.ops.reduce import max as amax
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.reduce import zeros_like
from symgraph.ops.rounding import round as around
from symgraph.ops.shape import concatenate as concat
from symgraph.ops.shape import expand_dims, transpose
from symgraph.ops.sorting import cumprod, cumsum, one_axis
from symgraph.ops.statistics import min as amin
from symgraph.ops.trig import arccos as acos
from symgraph.ops.trig import arccosh as acosh
from symgraph.ops.trig import arcsin as asin
from symgraph.ops.trig import arcsinh as asinh
from symgraph.ops.trig import arctan as atan
from symgraph.ops.trig import arctan2 as atan2
from symgraph.ops.trig import arctanh as atanh

__all__ = ["absolute", "acos", "acosh", "amax", "amin", "around", "asin", "asinh", "atan",
           "atan2", "atanh", "concat", "cumulative_prod", "cumulative_sum", "fabs", "isinf",
           "isneginf", "isposinf", "matrix_transpose", "matvec", "permute_dims", "positive",
           "pow", "signbit", "true_divide", "vecdot", "vecmat"]

pow = power  # noqa: A001 - the Array API's name
true_divide = divide
permute_dims = transpose  # numpy.permute_dims is numpy.transpose


@follows_numpy(np.matrix_transpose)
def matrix_transpose(x: Any) -> Node:
    """The last two axes of ``x`` swapped (a stack of matrices transposed), as
    ``numpy.matrix_transpose`` and ``x.mT``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     t = sg.var("t", shape=(5, 2, 3))
    >>> sg.matrix_transpose(t).shape
    (5, 3, 2)
    """
    (x,) = operands([x], "matrix_transpose")
    if x.ndim < 2:
        raise ShapeError(f"matrix_transpose of {describe(x)}: it has {x.ndim} axes, a matrix "
                         "needs 2 or more; use sg.transpose for other arrays")
    return swapaxes(x, -1, -2)


def _fabs_dtype(dtype: np.dtype) -> np.dtype:
    # integers and booleans in float64, as every float function of them (ops.core.inexact)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


@follows_numpy(np.fabs)
def fabs(x: Any) -> Node:
    """Elementwise absolute value as a float, as ``numpy.fabs`` (of integers float64, as
    every float function of them: NumPy gives float16 for int8); its derivative is
    ``abs``'s (0 at 0).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     i = sg.var("i", dtype="int64")
    ...     y = sg.fabs(i)
    >>> y.dtype.name, float(sg.evaluate(y, {i: -3}))
    ('float64', 3.0)
    """
    (x,) = operands([x], "fabs")
    return absolute(cast(x, _fabs_dtype(x.dtype)))


@follows_numpy(np.positive)
def positive(x: Any) -> Node:
    """``+x``: the node itself, as ``numpy.positive`` gives a copy of its values (booleans
    refused, as NumPy does).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> sg.positive(x) is x
    True
    """
    (x,) = operands([x], "positive")
    if x.dtype == np.bool_:
        raise SymgraphError(f"positive of the boolean node {describe(x)}: NumPy defines no "
                            "+x for booleans; use sg.cast(x, 'int64') for numbers")
    return x


def _cumulative(x: Any, axis: int | None, dtype: Any, include_initial: bool, name: str,
                scan: Any, initial: int) -> Node:
    (x,) = operands([x], name)
    if not isinstance(include_initial, (bool, np.bool_)):
        raise SymgraphError(f"{name} of {describe(x)}: include_initial must be True or "
                            f"False, got {include_initial!r}")
    if x.ndim == 0:
        raise ShapeError(f"{name} of {describe(x)}: a scalar has no axis to accumulate "
                         "along; give an array")
    if axis is None:
        if x.ndim > 1:
            raise ShapeError(f"{name} of {describe(x)}: it has {x.ndim} axes, so axis= is "
                             "required (NumPy 2's rule; sg.cumsum flattens)")
        axis = 0
    k = one_axis(x, axis, name)
    out = scan(x, k, dtype)
    if not include_initial:
        return out
    shape = tuple(1 if i == k else d for i, d in enumerate(out.shape))
    if None not in shape:
        start = const(np.full(shape, initial, out.dtype), graph=out.graph)
    else:  # sizes known when fed: the first slice's shape
        start = zeros_like(out[(*(slice(None),) * k, slice(0, 1))])
        if initial:
            start = start + const(initial, dtype=out.dtype, graph=out.graph)
    return concat([start, out], axis=k)


def _if_numpy_has(name: str) -> tuple:
    """NumPy's function ``name``, if this NumPy has it (cumulative_sum: NumPy 2.1 on)."""
    function = getattr(np, name, None)
    return () if function is None else (function,)


@follows_numpy(*_if_numpy_has("cumulative_sum"))
def cumulative_sum(x: Any, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Node:
    """Running sums along ``axis``, as NumPy 2's ``numpy.cumulative_sum``: ``axis`` may be
    left out only for a vector (``sg.cumsum`` flattens instead), ``include_initial=True``
    starts with 0 (one more element along ``axis``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.cumulative_sum(v, include_initial=True), {v: [1.0, 2.0, 3.0]}).tolist()
    [0.0, 1.0, 3.0, 6.0]
    """
    return _cumulative(x, axis, dtype, include_initial, "cumulative_sum", cumsum, 0)


@follows_numpy(*_if_numpy_has("cumulative_prod"))
def cumulative_prod(x: Any, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Node:
    """Running products along ``axis``, as NumPy 2's ``numpy.cumulative_prod``
    (``include_initial=True`` starts with 1).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.cumulative_prod(v, include_initial=True), {v: [2.0, 3.0, 4.0]}).tolist()
    [1.0, 2.0, 6.0, 24.0]
    """
    return _cumulative(x, axis, dtype, include_initial, "cumulative_prod", cumprod, 1)


@follows_numpy(*_if_numpy_has("vecdot"))
def vecdot(x1: Any, x2: Any, axis: int = -1) -> Node:
    """The dot products of vectors along ``axis`` (the others broadcast), as NumPy 2's
    ``numpy.vecdot`` of real arrays: ``sum(x1 * x2, axis)`` in their common dtype.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 3)), sg.var("b", shape=(3,))
    >>> feed = {a: [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], b: [1.0, 1.0, 2.0]}
    >>> sg.evaluate(sg.vecdot(a, b), feed).tolist()
    [9.0, 1.0]
    """
    a, b = operands([x1, x2], "vecdot")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"vecdot of {describe(a)} and {describe(b)}: both must have at "
                         "least one axis (the vectors')")
    product = a * b
    k = one_axis(product, axis, "vecdot")
    for x in (a, b):
        along = x.ndim - product.ndim + k
        if along < 0 or x.shape[along] != product.shape[k]:
            raise ShapeError(f"vecdot of {describe(a)} and {describe(b)}: axis {axis} must be "
                             "an axis of both, of the same length (NumPy does not broadcast it)")
    return reduce_sum(product, k, dtype=product.dtype)  # (NumPy keeps int8 . int8 int8)


@follows_numpy(*_if_numpy_has("matvec"))
def matvec(x1: Any, x2: Any) -> Node:
    """Matrix-vector products over stacks, as NumPy 2.2's ``numpy.matvec``: ``x1`` of
    shape ``(..., m, n)`` times ``x2`` of shape ``(..., n)`` gives ``(..., m)``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m, v = sg.var("m", shape=(4, 2, 3)), sg.var("v", shape=(3,))
    >>> sg.matvec(m, v).shape
    (4, 2)
    """
    a, b = operands([x1, x2], "matvec")
    if a.ndim < 2 or b.ndim < 1:
        raise ShapeError(f"matvec of {describe(a)} and {describe(b)}: give a stack of "
                         "matrices (2 or more axes) and of vectors (1 or more)")
    return squeeze(matmul(a, expand_dims(b, -1)), -1)


@follows_numpy(*_if_numpy_has("vecmat"))
def vecmat(x1: Any, x2: Any) -> Node:
    """Vector-matrix products over stacks, as NumPy 2.2's ``numpy.vecmat`` of real arrays:
    ``x1`` of shape ``(..., n)`` times ``x2`` of shape ``(..., n, m)`` gives ``(..., m)``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v, m = sg.var("v", shape=(2,)), sg.var("m", shape=(2, 3))
    >>> sg.vecmat(v, m).shape
    (3,)
    """
    a, b = operands([x1, x2], "vecmat")
    if a.ndim < 1 or b.ndim < 2:
        raise ShapeError(f"vecmat of {describe(a)} and {describe(b)}: give a stack of "
                         "vectors (1 or more axes) and of matrices (2 or more)")
    return squeeze(matmul(expand_dims(a, -2), b), -2)


def _never(x: Node) -> Node:
    """False everywhere in ``x``'s shape (an integer is never infinite nor negative-signed
    where unsigned): ``x != x``, which no integer is."""
    return not_equal(x, x)


@follows_numpy(np.isinf)
def isinf(x: Any) -> Node:
    """Elementwise test for +-inf, a boolean node, as ``numpy.isinf``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.isinf(v), {v: [1.0, float("-inf"), float("nan")]}).tolist()
    [False, True, False]
    """
    (x,) = operands([x], "isinf")
    return equal(absolute(x), np.inf) if x.dtype.kind == "f" else _never(x)


@follows_numpy(np.isposinf)
def isposinf(x: Any) -> Node:
    """Elementwise test for +inf, a boolean node, as ``numpy.isposinf``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.isposinf(v), {v: [float("inf"), float("-inf")]}).tolist()
    [True, False]
    """
    (x,) = operands([x], "isposinf")
    return equal(x, np.inf) if x.dtype.kind == "f" else _never(x)


@follows_numpy(np.isneginf)
def isneginf(x: Any) -> Node:
    """Elementwise test for -inf, a boolean node, as ``numpy.isneginf``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.isneginf(v), {v: [float("inf"), float("-inf")]}).tolist()
    [False, True]
    """
    (x,) = operands([x], "isneginf")
    return equal(x, -np.inf) if x.dtype.kind == "f" else _never(x)


@follows_numpy(np.signbit)
def signbit(x: Any) -> Node:
    """Elementwise test of the sign bit, as ``numpy.signbit``: True for ``-0.0`` and a
    negative NaN too.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.signbit(v), {v: [-0.0, 0.0, -2.0]}).tolist()
    [True, False, True]
    """
    (x,) = operands([x], "signbit")
    if x.dtype.kind == "f":
        return copysign(1.0, x) < 0
    return x < 0 if x.dtype.kind == "i" else _never(x)


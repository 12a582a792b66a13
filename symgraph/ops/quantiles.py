"""Descriptive statistics beyond the moments: ``ptp count_nonzero average median nanmedian
quantile percentile cov corrcoef``.

Each is written with other ops as NumPy computes it, so values match NumPy's (to the bit
where NumPy's arithmetic is followed step by step: ``quantile``'s two-sided lerp,
``median``'s mean of the middle pair, ``cov``'s product by ``1/(n - ddof)``) and the
derivatives are the ops' own, to any order: ``median`` and ``quantile`` differentiate
through ``sort`` (the gradient goes to the elements the value was read from), ``ptp``
through ``max`` and ``min``. ``quantile``/``percentile`` take ``method="linear"`` only and
a constant ``q`` (its indices are fixed when the graph is built), along one axis or all.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, arithmetic, elementwise,
functions, gather, reduce, statistics, shape, layout, sorting, contract, linalg and
rounding modules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.contract import diagonal
from symgraph.ops.core import const, describe, follows_numpy, operands
from symgraph.ops.arithmetic import maximum
from symgraph.ops.elementwise import cast, equal, not_equal, where
from symgraph.ops.gather import take_along_axis
from symgraph.ops.functions import sqrt
from symgraph.ops.layout import ravel
from symgraph.ops.linalg import matmul
from symgraph.ops.reduce import max as reduce_max
from symgraph.ops.reduce import broadcast_to, mean
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.rounding import clip, isnan
from symgraph.ops.shape import concatenate, expand_dims, reshape, stack, transpose
from symgraph.ops.sorting import one_axis, sort
from symgraph.ops.statistics import min as reduce_min

__all__ = ["average", "corrcoef", "count_nonzero", "cov", "median", "nanmedian", "percentile",
           "ptp", "quantile"]

Axis = Any


@follows_numpy(np.ptp)
def ptp(a: Any, axis: Axis = None, keepdims: bool = False) -> Node:
    """The range ``max - min`` over ``axis``, as ``numpy.ptp`` (integers stay integers);
    the gradient goes to the first maximal element (+1) and the first minimal one (-1).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> float(sg.evaluate(sg.ptp(v), {v: [2.0, -1.0, 5.0]}))
    6.0
    """
    (x,) = operands([a], "ptp")
    if x.dtype == np.bool_:
        raise SymgraphError(f"ptp of the boolean node {describe(x)}: NumPy has no "
                            "subtraction of booleans; cast it to a number dtype first")
    return reduce_max(x, axis, keepdims) - reduce_min(x, axis, keepdims)


@follows_numpy(np.count_nonzero)
def count_nonzero(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Node:
    """How many elements are not zero over ``axis`` (NaN counts), an int64 node, as
    ``numpy.count_nonzero``; no gradient flows.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> int(sg.evaluate(sg.count_nonzero(v), {v: [0.0, -0.0, 2.0, float("nan")]}))
    2
    """
    (x,) = operands([a], "count_nonzero")
    return reduce_sum(cast(not_equal(x, 0), np.intp), axis, keepdims)


@follows_numpy(np.average)
def average(a: Any, axis: Axis = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False) -> Node | tuple[Node, Node]:
    """The (weighted) mean over ``axis``, ``sum(a * w) / sum(w)``, as ``numpy.average``:
    ``weights`` of ``a``'s shape, or 1-D along an int ``axis``; ``returned=True`` also
    gives the sum of the weights (the count without weights), broadcast to the result's
    shape. Where the weights sum to 0 the result is NaN or inf (NumPy raises
    ZeroDivisionError, which a graph cannot before it runs).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v, w = sg.var("v", shape=(3,)), sg.var("w", shape=(3,))
    ...     avg, total = sg.average(v, weights=w, returned=True)
    >>> [float(t) for t in sg.evaluate([avg, total], {v: [0.0, 1.0, 2.0], w: [1.0, 2.0, 3.0]})]
    [1.3333333333333333, 6.0]
    """
    (x,) = operands([a], "average")
    if not isinstance(returned, (bool, np.bool_)):
        raise SymgraphError(f"average of {describe(x)}: returned must be True or False, "
                            f"got {returned!r}")
    if weights is None:
        avg = mean(x, axis, keepdims)
        if not returned:
            return avg
        if None in x.shape:
            raise ShapeError(f"average of {describe(x)}: returned=True needs its shape known "
                             "when the graph is built (the count is a constant)")
        count = math.prod(x.shape) / max(math.prod(avg.shape), 1)
        return avg, const(np.full(avg.shape, count, avg.dtype), graph=avg.graph)
    (w,) = operands([weights], "average", graph=x.graph)
    # NumPy's result dtype: integers and booleans average in (at least) float64
    extra = ("f8",) if x.dtype.kind in "iub" else ()
    dtype = np.result_type(x.dtype, w.dtype, *extra)
    if w.shape != x.shape:
        if axis is None:
            raise ShapeError(f"average of {describe(x)}: the weights {describe(w)} have "
                             "another shape, so axis= must say which axis they run along")
        if w.ndim != 1 or not isinstance(axis, (int, np.integer)):
            raise ShapeError(f"average of {describe(x)}: weights of another shape must be 1-D "
                             f"along one int axis; got {describe(w)} with axis={axis!r}")
        k = one_axis(x, axis, "average")
        if w.shape[0] != x.shape[k]:
            raise ShapeError(f"average of {describe(x)}: {w.shape[0]} weights for an axis of "
                             f"length {x.shape[k]}; give one weight per element along axis {axis}")
        w = reshape(w, tuple(-1 if i == k else 1 for i in range(x.ndim)))
    w = cast(w, dtype)
    total = reduce_sum(w, axis, keepdims)
    avg = reduce_sum(cast(x, dtype) * w, axis, keepdims) / total
    if not returned:
        return avg
    return avg, (total if total.shape == avg.shape else broadcast_to(total, avg))


def _sorted_along(a: Any, axis: Any, who: str) -> tuple[Node, int, Node]:
    """``a`` sorted along ``axis`` (flattened for None), that axis, and ``a`` itself; the
    axis length must be known when the graph is built (the indices read are constants)."""
    (x,) = operands([a], who)
    if x.dtype == np.bool_:
        raise SymgraphError(f"{who} of the boolean node {describe(x)}: NumPy has no "
                            "subtraction of booleans; cast it to a number dtype first")
    if isinstance(axis, (tuple, list)):
        raise SymgraphError(f"{who} of {describe(x)}: axis={axis!r}: one axis or None (all) "
                            "is supported; move the axes together and reshape first")
    flat = ravel(x) if axis is None else x
    k = 0 if axis is None else one_axis(x, axis, who)
    n = flat.shape[k]
    if n is None:
        raise ShapeError(f"{who} of {describe(x)}: the length of axis {k} is known only when "
                         "fed; the indices it reads are fixed when the graph is built")
    if n == 0:
        raise ShapeError(f"{who} of {describe(x)}: the axis is empty; NumPy gives NaN with a "
                         "warning, symgraph refuses: give at least one element")
    return sort(flat, k), k, x


def _at(s: Node, k: int, i: int | slice) -> Node:
    return s[(*(slice(None),) * k, i)]


def _nan_where_nan(s: Node, k: int, value: Node) -> Node:
    """NaN where a slice of ``s`` (sorted: a NaN sorts last) holds a NaN, as NumPy."""
    if s.dtype.kind != "f":
        return value
    return where(isnan(_at(s, k, -1)), np.nan, value)


@follows_numpy(np.median)
def median(a: Any, axis: int | None = None, keepdims: bool = False) -> Node:
    """The median over ``axis`` (all by default), as ``numpy.median``: the middle element,
    or the mean of the middle two; NaN for a slice holding a NaN. The gradient goes to the
    middle element(s) of the sorted slice.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    ...     m = sg.median(v)
    >>> feed = {v: [4.0, 1.0, 3.0, 2.0]}
    >>> float(sg.evaluate(m, feed)), sg.evaluate(sg.grad(m, v), feed).tolist()
    (2.5, [0.0, 0.0, 0.5, 0.5])
    """
    s, k, x = _sorted_along(a, axis, "median")
    n = s.shape[k]
    middle = slice(n // 2, n // 2 + 1) if n % 2 else slice(n // 2 - 1, n // 2 + 1)
    return _keep(_nan_where_nan(s, k, mean(_at(s, k, middle), k)), x, axis, k, keepdims)


@follows_numpy(np.nanmedian)
def nanmedian(a: Any, axis: int | None = None, keepdims: bool = False) -> Node:
    """The median over ``axis`` of the elements that are not NaN, as ``numpy.nanmedian``
    (NaN for a slice of NaN only): the middle two of each slice's sorted values, found
    when the graph runs (how many are NaN is known only then). The gradient goes to them.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> nan = float("nan")
    >>> sg.evaluate(sg.nanmedian(m, axis=1), {m: [[3.0, nan, 1.0], [nan, nan, nan]]}).tolist()
    [2.0, nan]
    """
    s, k, x = _sorted_along(a, axis, "nanmedian")
    if s.dtype.kind != "f":  # nothing is NaN
        return median(a, axis, keepdims)
    flat = ravel(x) if axis is None else x
    valid = reduce_sum(cast(~isnan(flat), np.intp), k, keepdims=True)
    low = maximum((valid - 1) // 2, 0)
    high = valid // 2
    a_value, b_value = take_along_axis(s, low, k), take_along_axis(s, high, k)
    # a slice's median: its middle value (odd count), the mean of its middle two (even)
    value = where(equal(low, high), a_value, (a_value + b_value) / 2)
    value = where(valid > 0, value, np.nan)[(*(slice(None),) * k, 0)]
    return _keep(value, x, axis, k, keepdims)


def _keep(value: Node, x: Node, axis: Any, k: int, keepdims: bool) -> Node:
    if not keepdims:
        return value
    if axis is None:  # every axis kept, as length 1
        return reshape(value, (1,) * x.ndim)
    return expand_dims(value, k)


def _quantiles(q: Any, who: str, scale: float) -> tuple[np.ndarray, bool]:
    """The constant ``q`` as a float64 array in [0, 1], and whether it was a Python number
    (NumPy's weak ``q``: the result keeps a float32 input's dtype)."""
    if isinstance(q, Node):
        raise SymgraphError(f"{who}: q={describe(q)} is a node; give q as a number or an "
                            "array (the indices it reads are fixed when the graph is built)")
    weak = type(q) in (int, float)  # NumPy's test: np.float64 is not weak
    try:
        values = np.asarray(q, dtype=np.float64)
    except (TypeError, ValueError):
        raise SymgraphError(f"{who}: q={q!r} is not a number or an array of numbers") from None
    if scale != 1:
        values = np.true_divide(values, scale)  # as NumPy's percentile
    if not ((values >= 0) & (values <= 1)).all():
        top = "100" if scale != 1 else "1"
        raise SymgraphError(f"{who}: q={q!r} must be between 0 and {top}")
    return values, weak


def _lerp_at(s: Node, k: int, n: int, q: float, weak: bool) -> Node:
    """NumPy's linear quantile ``q`` of the sorted ``s`` along ``k``, step by step: the
    virtual index ``(n - 1) q``, its neighbours (the last element past the end), and
    ``_lerp``: ``a + (b - a) t`` below t = 0.5, ``b - (b - a)(1 - t)`` from it."""
    virtual = (n - 1) * np.float64(q)
    below = math.floor(virtual)
    if virtual >= n - 1:
        below = upper = -1
    else:
        upper = below + 1
    t = virtual - below
    lower_value, upper_value = _at(s, k, below), _at(s, k, upper)
    diff = upper_value - lower_value
    gamma = float(t) if weak else const(np.float64(t), graph=s.graph)
    if t >= 0.5:
        return upper_value - diff * (1 - gamma)
    return lower_value + diff * gamma


def _quantile(a: Any, q: Any, axis: Any, method: str, keepdims: bool, who: str,
              scale: float) -> Node:
    if method != "linear":
        raise SymgraphError(f"{who}: method={method!r} is not supported; symgraph computes "
                            "NumPy's default, method='linear'")
    values, weak = _quantiles(q, who, scale)
    s, k, x = _sorted_along(a, axis, who)
    n = s.shape[k]
    results = [_nan_where_nan(s, k, _lerp_at(s, k, n, float(v), weak)) for v in values.ravel()]
    return assemble(results, values, x, axis, k, keepdims)


def assemble(results: list[Node], values: np.ndarray, x: Node, axis: Any, k: int,
             keepdims: bool) -> Node:
    """The quantiles ``results`` (one per element of ``q``'s ``values``, each reduced
    along axis ``k`` of ``x``) in NumPy's layout: ``q``'s axes first, then the others."""
    if values.ndim == 0:
        return _keep(results[0], x, axis, k, keepdims)
    stacked = stack(results, axis=0)
    out = reshape(stacked, (*values.shape, *stacked.shape[1:]))
    if not keepdims:
        return out
    if axis is None:
        return reshape(out, (*values.shape, *(1,) * x.ndim))
    return expand_dims(out, values.ndim + k)


@follows_numpy(np.quantile)
def quantile(a: Any, q: Any, axis: int | None = None, method: str = "linear",
             keepdims: bool = False) -> Node:
    """The ``q``-th quantile(s) over ``axis``, as ``numpy.quantile`` with its default
    ``method="linear"`` (the only one supported): ``q`` a number or an array in [0, 1]
    (an array puts its axes first). NaN for a slice holding a NaN; the gradient goes to the
    two sorted elements each value interpolates.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(5,))
    >>> sg.evaluate(sg.quantile(v, [0.25, 0.5, 1.0]), {v: [5.0, 1.0, 4.0, 2.0, 3.0]}).tolist()
    [2.0, 3.0, 5.0]
    """
    return _quantile(a, q, axis, method, keepdims, "quantile", 1)


@follows_numpy(np.percentile)
def percentile(a: Any, q: Any, axis: int | None = None, method: str = "linear",
               keepdims: bool = False) -> Node:
    """The ``q``-th percentile(s) over ``axis``: ``quantile(a, q / 100)``, as
    ``numpy.percentile`` (``method="linear"`` only).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(5,))
    >>> float(sg.evaluate(sg.percentile(v, 30), {v: [0.0, 1.0, 2.0, 3.0, 4.0]}))
    1.2
    """
    return _quantile(a, q, axis, method, keepdims, "percentile", 100)


def _variables(m: Any, rowvar: bool, who: str, graph: Any = None) -> Node:
    """``m`` as a float matrix with one variable a row (NumPy's ``array(m, ndmin=2)``)."""
    (x,) = operands([m], who, graph=graph)
    if x.ndim > 2:
        raise ShapeError(f"{who} of {describe(x)}: it has {x.ndim} axes; give a vector or a "
                         "matrix of variables and observations")
    x = cast(x, np.result_type(x.dtype, np.float64))
    if x.ndim < 2:
        x = reshape(x, (1, -1))
    elif not rowvar and x.shape[0] != 1:
        x = transpose(x)
    return x


@follows_numpy(np.cov)
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False,
        ddof: int | None = None) -> Node:
    """The covariance matrix of the variables in the rows of ``m`` (columns, with
    ``rowvar=False``), and of ``y``'s too, as ``numpy.cov``: normalized by ``n - 1``
    (``bias=True``: ``n``; ``ddof`` overrides both); a single variable gives a scalar.
    ``fweights``, ``aweights`` and ``dtype`` are not supported.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> sg.evaluate(sg.cov(m), {m: [[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]}).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    for flag, name in ((rowvar, "rowvar"), (bias, "bias")):
        if not isinstance(flag, (bool, np.bool_)):
            raise SymgraphError(f"cov: {name} must be True or False, got {flag!r}")
    if ddof is not None and (isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer))):
        raise SymgraphError(f"cov: ddof must be an int or None, got {ddof!r}")
    x = _variables(m, rowvar, "cov")
    if y is not None:
        other = _variables(y, rowvar, "cov", graph=x.graph)
        if other.shape[1] != x.shape[1]:
            raise ShapeError(f"cov of {describe(x)} and {describe(other)}: they hold "
                             f"{x.shape[1]} and {other.shape[1]} observations; give as many")
        x = concatenate([x, cast(other, np.result_type(x.dtype, other.dtype))], axis=0)
    n = x.shape[1]
    if n is None:
        raise ShapeError(f"cov of {describe(x)}: the number of observations is known only "
                         "when fed; give it a static shape")
    if ddof is None:
        ddof = 0 if bias else 1
    factor = max(n - ddof, 0)  # (NumPy warns and divides by 0 below 0)
    centred = x - mean(x, axis=1, keepdims=True)
    # NumPy multiplies by 1/fact rather than dividing (the same bits here)
    c = matmul(centred, transpose(centred)) * (np.inf if factor == 0 else 1.0 / factor)
    return c[0, 0] if c.shape == (1, 1) else c


@follows_numpy(np.corrcoef)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True) -> Node:
    """Pearson correlation coefficients of the variables (rows of ``x``; columns with
    ``rowvar=False``), as ``numpy.corrcoef``: ``cov`` divided by the standard deviations
    on both sides, clipped to [-1, 1].

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> sg.evaluate(sg.corrcoef(m), {m: [[0.0, 1.0, 2.0], [0.0, 2.0, 4.5]]}).round(4).tolist()
    [[1.0, 0.9979], [0.9979, 1.0]]
    """
    c = cov(x, y, rowvar)
    if c.ndim == 0:  # one variable: c / c, as NumPy (1, or NaN for a constant one)
        return c / c
    stddev = sqrt(diagonal(c))
    c = c / expand_dims(stddev, 1)
    c = c / expand_dims(stddev, 0)
    return clip(c, -1, 1)

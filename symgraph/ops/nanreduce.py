"""NumPy's NaN-ignoring reductions beyond sums: ``nanmax nanmin nanprod nancumsum
nancumprod nanvar nanstd nanargmax nanargmin nanquantile nanpercentile``.

Each is written with other ops (``where``, ``isnan``, the plain reductions), as
``jax.numpy`` writes them, so its derivatives are those ops', to any order: a NaN element
gets a zero cotangent, and a slice of NaN only gives NumPy's value (NaN for ``nanmax``,
``nanmin``, ``nanvar`` and ``nanstd``; 1 for ``nanprod``) with a zero gradient. Integer
and boolean inputs hold no NaN: the reductions of them are the plain ones (``nanvar`` and
``nanstd`` of integers are float64, as in NumPy).

``nanargmax``/``nanargmin`` of a slice of NaN only give -1, as ``jax.numpy``'s (NumPy
raises ValueError "All-NaN slice encountered", which a value known only when the graph
runs cannot): test ``i < 0``. ``nanquantile`` reads, in each slice sorted (NaN last), the
two values NumPy's linear method interpolates among the slice's non-NaN count, known when
the graph runs; its arithmetic is NumPy's, and the gradient goes to those two values.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, arithmetic, elementwise, functions,
logical, reduce, rounding, sorting, statistics, gather, layout, quantiles and differences
modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError
from symgraph.ops.arithmetic import maximum
from symgraph.ops.core import _brief, follows_numpy, operands
from symgraph.ops.differences import nanmean
from symgraph.ops.elementwise import cast, where
from symgraph.ops.functions import sqrt
from symgraph.ops.gather import take_along_axis
from symgraph.ops.layout import ravel
from symgraph.ops.logical import all as all_of
from symgraph.ops.quantiles import _quantile, _quantiles, _sorted_along, assemble
from symgraph.ops.reduce import max as reduce_max
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.rounding import floor, isnan
from symgraph.ops.sorting import cumprod, cumsum
from symgraph.ops.statistics import argmax, argmin
from symgraph.ops.statistics import min as reduce_min
from symgraph.ops.statistics import prod, std, variance

__all__ = ["nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmin",
           "nanpercentile", "nanprod", "nanquantile", "nanstd", "nanvar"]

Axis = Any


def _float(a: Any, name: str) -> Node | None:
    """The operand if it is a float node (which may hold NaN), else None."""
    (x,) = operands([a], name)
    return x if x.dtype.kind in "fc" else None


def _nan_as(a: Any, fill: float, name: str) -> Any:
    """``a`` with its NaN elements replaced by ``fill`` (an integer ``a`` as it is)."""
    x = _float(a, name)
    return a if x is None else where(isnan(x), fill, x)


def _extreme(a: Any, axis: Axis, keepdims: bool, name: str, reduce: Any,
             fill: float) -> Node:
    x = _float(a, name)
    if x is None:
        return reduce(a, axis, keepdims)
    nan = isnan(x)
    found = reduce(where(nan, fill, x), axis, keepdims)
    # a slice of NaN only: NaN, as NumPy gives (with its warning)
    return where(all_of(nan, axis, keepdims), np.nan, found)


@follows_numpy(np.nanmax)
def nanmax(a: Any, axis: Axis = None, keepdims: bool = False) -> Node:
    """Maximum over ``axis`` ignoring NaN, as ``numpy.nanmax`` (NaN for a slice of NaN
    only); the gradient goes to the first maximal element that is not NaN.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     top = sg.nanmax(v)
    >>> feed = {v: [1.0, float("nan"), 3.0]}
    >>> float(sg.evaluate(top, feed)), sg.evaluate(sg.grad(top, v), feed).tolist()
    (3.0, [0.0, 0.0, 1.0])
    """
    return _extreme(a, axis, keepdims, "nanmax", reduce_max, -np.inf)


@follows_numpy(np.nanmin)
def nanmin(a: Any, axis: Axis = None, keepdims: bool = False) -> Node:
    """Minimum over ``axis`` ignoring NaN, as ``numpy.nanmin`` (NaN for a slice of NaN
    only); the gradient goes to the first minimal element that is not NaN.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> nan = float("nan")
    >>> sg.evaluate(sg.nanmin(m, axis=1), {m: [[nan, 2.0], [nan, nan]]}).tolist()
    [2.0, nan]
    """
    return _extreme(a, axis, keepdims, "nanmin", reduce_min, np.inf)


@follows_numpy(np.nanprod)
def nanprod(a: Any, axis: Axis = None, keepdims: bool = False) -> Node:
    """Product over ``axis`` with NaN counted as one, as ``numpy.nanprod``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> float(sg.evaluate(sg.nanprod(v), {v: [2.0, float("nan"), 3.0]}))
    6.0
    """
    return prod(_nan_as(a, 1.0, "nanprod"), axis, keepdims)


@follows_numpy(np.nancumsum)
def nancumsum(a: Any, axis: int | None = None) -> Node:
    """Running sums along ``axis`` (``None``: of the flattened input) with NaN counted as
    zero, as ``numpy.nancumsum``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.nancumsum(v), {v: [1.0, float("nan"), 2.0]}).tolist()
    [1.0, 1.0, 3.0]
    """
    return cumsum(_nan_as(a, 0.0, "nancumsum"), axis)


@follows_numpy(np.nancumprod)
def nancumprod(a: Any, axis: int | None = None) -> Node:
    """Running products along ``axis`` (``None``: of the flattened input) with NaN counted
    as one, as ``numpy.nancumprod``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.nancumprod(v), {v: [2.0, float("nan"), 3.0]}).tolist()
    [2.0, 2.0, 6.0]
    """
    return cumprod(_nan_as(a, 1.0, "nancumprod"), axis)


@follows_numpy(np.nanvar)
def nanvar(a: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Node:
    """Variance over ``axis`` of the elements that are not NaN, ``sum((x - mean)^2) /
    (n - ddof)``, as ``numpy.nanvar`` (NaN where ``n - ddof <= 0``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> float(sg.evaluate(sg.nanvar(v), {v: [1.0, float("nan"), 3.0, 5.0]}))
    2.6666666666666665
    """
    x = _float(a, "nanvar")
    if x is None:
        return variance(cast(a, np.float64), axis, keepdims, ddof)
    nan = isnan(x)
    centred = where(nan, 0.0, x - nanmean(x, axis, keepdims=True))
    kept = reduce_sum(cast(~nan, x.dtype), axis, keepdims) - ddof
    enough = kept > 0
    # where(enough, ...) twice: the division by a count of zero never runs into the value
    return where(enough, reduce_sum(centred * centred, axis, keepdims) / where(enough, kept, 1.0),
                 np.nan)


@follows_numpy(np.nanstd)
def nanstd(a: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Node:
    """Standard deviation over ``axis`` of the elements that are not NaN, as
    ``numpy.nanstd``. Like ``sg.std``, its gradient is 0 (rather than NaN) where the kept
    elements of a slice are equal.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> float(sg.evaluate(sg.nanstd(v), {v: [1.0, float("nan"), 3.0]}))
    1.0
    """
    x = _float(a, "nanstd")
    if x is None:
        return std(cast(a, np.float64), axis, keepdims, ddof)
    v = nanvar(x, axis, keepdims, ddof)
    positive = v > 0
    # sqrt's derivative is infinite at 0: that branch reads v itself (0 there, or NaN)
    return where(positive, sqrt(where(positive, v, 1.0)), v)


def _nanarg(a: Any, axis: int | None, keepdims: bool, name: str, arg: Any,
            fill: float) -> Node:
    x = _float(a, name)
    if x is None:
        return arg(a, axis, keepdims)
    nan = isnan(x)
    found = arg(where(nan, fill, x), axis, keepdims)  # NumPy's: NaN replaced by -+inf
    # a slice of NaN only: -1, jax.numpy's answer (NumPy raises when it runs)
    return where(all_of(nan, axis, keepdims), -1, found)


@follows_numpy(np.nanargmax)
def nanargmax(a: Any, axis: int | None = None, *, keepdims: bool = False) -> Node:
    """The index (int64) of the first maximum over ``axis``, NaN ignored, as
    ``numpy.nanargmax``; a slice of NaN only gives -1, as ``jax.numpy.nanargmax`` (NumPy
    raises ValueError when it meets one, which a graph cannot before it runs).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> nan = float("nan")
    >>> sg.evaluate(sg.nanargmax(m, axis=1), {m: [[1.0, nan, 3.0], [nan, nan, nan]]}).tolist()
    [2, -1]
    """
    return _nanarg(a, axis, keepdims, "nanargmax", argmax, -np.inf)


@follows_numpy(np.nanargmin)
def nanargmin(a: Any, axis: int | None = None, *, keepdims: bool = False) -> Node:
    """The index (int64) of the first minimum over ``axis``, NaN ignored, as
    ``numpy.nanargmin``; a slice of NaN only gives -1 (see :func:`nanargmax`).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> int(sg.evaluate(sg.nanargmin(v), {v: [float("nan"), 2.0, -1.0]}))
    2
    """
    return _nanarg(a, axis, keepdims, "nanargmin", argmin, np.inf)


def _nanquantile(a: Any, q: Any, axis: Any, method: str, keepdims: bool, who: str,
                 scale: float) -> Node:
    if not isinstance(method, str) or method != "linear":
        raise SymgraphError(f"{who}: method={_brief(repr(method))} is not supported; symgraph "
                            "computes NumPy's default, method='linear'")
    if not isinstance(keepdims, (bool, np.bool_)):
        raise SymgraphError(f"{who}: keepdims must be True or False, got "
                            f"{_brief(repr(keepdims))}")
    keepdims = bool(keepdims)
    values, weak = _quantiles(q, who, scale)
    s, k, x = _sorted_along(a, axis, who)
    if s.dtype.kind != "f":  # nothing is NaN
        return _quantile(a, q, axis, method, keepdims, who, scale)
    flat = ravel(x) if axis is None else x
    count = cast(reduce_sum(cast(~isnan(flat), np.intp), k, keepdims=True), np.float64)
    last = count - 1  # of the slice's non-NaN values (NaN sorts last)
    results = []
    for v in values.ravel():
        # NumPy's linear method on the c non-NaN values: the virtual index (c - 1) q, its
        # floor and the next; both the last one from c - 1 on, where its gamma is
        # virtual - (-1), NumPy's index -1
        virtual = last * float(v)
        below = floor(virtual)
        top = virtual >= last
        gamma = virtual - where(top, -1.0, below)
        low_at = cast(maximum(where(top, last, below), 0), np.intp)
        high_at = cast(maximum(where(top, last, below + 1), 0), np.intp)
        low, high = take_along_axis(s, low_at, k), take_along_axis(s, high_at, k)
        diff = high - low
        if weak:  # a Python q: gamma is a Python float, weak beside float32 values
            t, rest = cast(gamma, s.dtype), cast(1 - gamma, s.dtype)
        else:
            t, rest = gamma, 1 - gamma
        value = where(gamma >= 0.5, high - diff * rest, low + diff * t)  # NumPy's _lerp
        value = where(count > 0, value, np.nan)  # a slice of NaN only
        results.append(value[(*(slice(None),) * k, 0)])
    return assemble(results, values, x, axis, k, keepdims)


@follows_numpy(np.nanquantile)
def nanquantile(a: Any, q: Any, axis: int | None = None, method: str = "linear",
                keepdims: bool = False) -> Node:
    """The ``q``-th quantile(s) over ``axis`` of the values that are not NaN, as
    ``numpy.nanquantile`` with its default ``method="linear"`` (the only one supported;
    ``q`` a constant in [0, 1]): NaN for a slice of NaN only. The gradient goes to the two
    values each result interpolates.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> nan = float("nan")
    >>> sg.evaluate(sg.nanquantile(m, 0.5, axis=1), {m: [[1.0, nan, 3.0], [nan] * 3]}).tolist()
    [2.0, nan]
    """
    return _nanquantile(a, q, axis, method, keepdims, "nanquantile", 1)


@follows_numpy(np.nanpercentile)
def nanpercentile(a: Any, q: Any, axis: int | None = None, method: str = "linear",
                  keepdims: bool = False) -> Node:
    """``nanquantile(a, q / 100)``, as ``numpy.nanpercentile`` (``method="linear"``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> float(sg.evaluate(sg.nanpercentile(v, 25), {v: [0.0, float("nan"), 2.0, 4.0]}))
    1.0
    """
    return _nanquantile(a, q, axis, method, keepdims, "nanpercentile", 100)

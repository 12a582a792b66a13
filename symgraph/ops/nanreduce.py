"""NumPy's NaN-ignoring reductions beyond sums: ``nanmax nanmin nanprod nancumsum
nancumprod nanvar nanstd``.

Each is written with other ops (``where``, ``isnan``, the plain reductions), as
``jax.numpy`` writes them, so its derivatives are those ops', to any order: a NaN element
gets a zero cotangent, and a slice of NaN only gives NumPy's value (NaN for ``nanmax``,
``nanmin``, ``nanvar`` and ``nanstd``; 1 for ``nanprod``) with a zero gradient. Integer
and boolean inputs hold no NaN: the reductions of them are the plain ones (``nanvar`` and
``nanstd`` of integers are float64, as in NumPy).

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, functions, logical,
reduce, rounding, sorting, statistics and differences modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.core import follows_numpy, operands
from symgraph.ops.differences import nanmean
from symgraph.ops.elementwise import cast, where
from symgraph.ops.functions import sqrt
from symgraph.ops.logical import all as all_of
from symgraph.ops.reduce import max as reduce_max
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.rounding import isnan
from symgraph.ops.sorting import cumprod, cumsum
from symgraph.ops.statistics import min as reduce_min
from symgraph.ops.statistics import prod, std, variance

__all__ = ["nancumprod", "nancumsum", "nanmax", "nanmin", "nanprod", "nanstd", "nanvar"]

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

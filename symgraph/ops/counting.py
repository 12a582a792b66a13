"""NumPy's functions whose result's length depends on the values: ``nonzero flatnonzero
argwhere unique bincount`` in ``jax.numpy``'s static form, and ``histogram``.

A node's shape is fixed when the graph is built, and how many entries are nonzero, unique
or how large the largest value is is known only when it runs. So, as ``jax.numpy`` does
under ``jit``, these take the length as an argument: ``nonzero(x, size=k)`` gives the first
``k`` indices padded with ``fill_value``, ``unique(x, size=k)`` the first ``k`` sorted
distinct values, ``bincount(x, length=n)`` ``n`` bins; without it they raise
:class:`SymgraphError` saying so and what to write. ``histogram`` needs nothing more: its
number of bins is given (``bins=10``), its range, if not given, is the values' minimum and
maximum, computed when the graph runs.

All are written with ops (a stable ``argsort`` puts the positions found first, in order;
equality with ``arange`` counts), so every backend runs them; ``unique``'s values and
``histogram``'s edges are differentiable (through ``sort``, ``min`` and ``max``), and so
are the weighted counts in the weights.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, creation, spacing, arrangement,
arithmetic, elementwise, reduce, statistics, sorting, gather, layout, shape, rounding,
differences and numeric modules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arrangement import as_nodes
from symgraph.ops.arithmetic import maximum
from symgraph.ops.core import _brief, const, describe, follows_numpy, is_const, operands
from symgraph.ops.creation import count_arg, flag_arg, is_int, numpy_constant, numpy_value
from symgraph.ops.differences import diff
from symgraph.ops.elementwise import cast, equal, not_equal, where
from symgraph.ops.gather import take
from symgraph.ops.layout import ravel
from symgraph.ops.numeric import searchsorted
from symgraph.ops.reduce import max as reduce_max
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.rounding import floor_divide, isfinite, isnan, mod
from symgraph.ops.shape import concatenate, expand_dims, stack
from symgraph.ops.sorting import argsort, sort
from symgraph.ops.spacing import linspace
from symgraph.ops.statistics import min as reduce_min

__all__ = ["argwhere", "bincount", "flatnonzero", "histogram", "nonzero", "unique"]

INTP = np.dtype(np.intp)


def _size(size: Any, x: Node, who: str, instead: str, name: str = "size") -> int:
    """The static length ``size=`` (required: the count is known only when the graph runs)."""
    if size is None:
        raise SymgraphError(
            f"sg.{who} of {describe(x)}: its length depends on the values, known only when "
            "the graph runs, and a node's shape is fixed when it is built; give the length, "
            f"as jax.numpy does under jit: {instead}")
    k = count_arg(size, name, f"sg.{who}")
    if k < 0:
        raise SymgraphError(f"sg.{who}: {name}={k} must be >= 0")
    return _not_too_long(k, name, who)


_LONGEST = int(np.iinfo(INTP).max)  # NumPy's largest dimension


def _not_too_long(k: int, name: str, who: str) -> int:
    """A length ``k`` NumPy can make an array of (past it, NumPy raises ValueError)."""
    if k > _LONGEST:
        raise SymgraphError(f"sg.{who}: {name}={k} is more than the largest length NumPy "
                            f"allows ({_LONGEST}); give a smaller {name}")
    return k


def _static_size(x: Node, who: str) -> int:
    if None in x.shape:
        raise ShapeError(f"sg.{who} of {describe(x)}: its shape must be known when the graph "
                         "is built (the positions are read from a fixed layout)")
    return math.prod(x.shape)


def _first(positions: Node, n: int, k: int) -> Node:
    """The first ``k`` of the ``n`` ``positions`` (zeros after the ``n``th)."""
    if k <= n:
        return positions[:k]
    padding = const(np.zeros(k - n, positions.dtype), graph=positions.graph)
    return concatenate([positions, padding], axis=0)


def _found_first(found: Node) -> Node:
    """The positions where the 1-D boolean ``found`` holds, in order, then the others (a
    stable argsort of ``not found``)."""
    return argsort(cast(~found, np.int8), axis=0, kind="stable")


def _valid(k: int, count: Node) -> Node:
    """Which of ``k`` slots hold a result: the first ``count``."""
    return const(np.arange(k, dtype=INTP), graph=count.graph) < count


# --- nonzero -----------------------------------------------------------------------------------


def nonzero(a: Any, *, size: int | None = None, fill_value: Any = None) -> tuple[Node, ...]:
    """The indices of the nonzero elements (NaN counts), one int64 node per axis, as
    ``jnp.nonzero(a, size=k)``: the first ``size`` in C order, padded with ``fill_value``
    (0 by default; one per axis as a tuple). ``size`` is required: how many there are is
    known only when the graph runs (``numpy.nonzero``'s own length).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    ...     rows, cols = sg.nonzero(m, size=3, fill_value=-1)
    >>> sg.evaluate([rows, cols], {m: [[0.0, 5.0], [7.0, 0.0]]})
    [array([ 0,  1, -1]), array([ 1,  0, -1])]
    """
    (x,) = as_nodes([a], "nonzero")
    if x.ndim == 0:
        raise ShapeError(f"sg.nonzero of the scalar {describe(x)}: NumPy refuses 0-d arrays; "
                         "use sg.atleast_1d(x) first")
    k = _size(size, x, "nonzero", "sg.nonzero(x, size=k, fill_value=...): the first k indices, "
              "padded; or keep a mask, x != 0, for sg.where")
    n = _static_size(x, "nonzero")
    fills = fill_value if isinstance(fill_value, (tuple, list)) else (fill_value,) * x.ndim
    if len(fills) != x.ndim or not all(f is None or is_int(f) for f in fills):
        raise SymgraphError(f"sg.nonzero of {describe(x)}: fill_value={_brief(repr(fill_value))}"
                            f" must be an int or a tuple of {x.ndim} ints, one per axis")
    fills = [0 if f is None else int(f) for f in fills]
    if n == 0:  # nothing found: padding only
        return tuple(numpy_constant("sg.nonzero", lambda f=f: np.full(k, f, INTP),
                                    graph=x.graph) for f in fills)
    found = not_equal(ravel(x), 0)
    flat = _first(_found_first(found), n, k)
    valid = _valid(k, reduce_sum(cast(found, INTP)))
    out = []
    stride = n
    for d, fill in zip(x.shape, fills):  # the flat position unravelled, axis by axis
        stride //= d
        out.append(where(valid, mod(floor_divide(flat, stride), d), fill))
    return tuple(out)


def flatnonzero(a: Any, *, size: int | None = None, fill_value: Any = None) -> Node:
    """The indices of the nonzero elements of the flattened ``a``, as
    ``jnp.flatnonzero(a, size=k)`` (see :func:`nonzero`; ``size`` is required).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> sg.evaluate(sg.flatnonzero(v, size=3), {v: [0.0, 2.0, 0.0, 3.0]}).tolist()
    [1, 3, 0]
    """
    (x,) = as_nodes([a], "flatnonzero")
    _size(size, x, "flatnonzero", "sg.flatnonzero(x, size=k, fill_value=...): the first k "
          "indices, padded")
    return nonzero(ravel(x), size=size, fill_value=fill_value)[0]


def argwhere(a: Any, *, size: int | None = None, fill_value: Any = None) -> Node:
    """The indices of the nonzero elements, one row each (shape ``(size, a.ndim)``), as
    ``jnp.argwhere(a, size=k)`` (see :func:`nonzero`; ``size`` is required).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.argwhere(m, size=2), {m: [[0.0, 1.0], [1.0, 0.0]]}).tolist()
    [[0, 1], [1, 0]]
    """
    (x,) = as_nodes([a], "argwhere")
    _size(size, x, "argwhere", "sg.argwhere(x, size=k, fill_value=...): the first k rows, "
          "padded")
    if x.ndim == 0:  # NumPy's: as a 1-D array, then no columns
        return argwhere(expand_dims(x, 0), size=size, fill_value=fill_value)[:, :0]
    return stack(list(nonzero(x, size=size, fill_value=fill_value)), axis=1)


# --- unique ------------------------------------------------------------------------------------


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           size: int | None = None, fill_value: Any = None) -> Node | tuple[Node, Node]:
    """The sorted distinct values of the flattened ``ar``, as ``jnp.unique(ar, size=k)``:
    the first ``size`` of them, padded with ``fill_value`` (the smallest value by default);
    ``return_counts=True`` also gives how often each occurs (0 for padding). NaNs count as
    one value (``equal_nan=True``, NumPy's default). ``size`` is required: how many values
    are distinct is known only when the graph runs. ``return_index``, ``return_inverse``
    and ``axis`` are not supported.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(5,))
    ...     values, counts = sg.unique(v, return_counts=True, size=4, fill_value=0.0)
    >>> sg.evaluate([values, counts], {v: [3.0, 1.0, 3.0, 2.0, 1.0]})
    [array([1., 2., 3., 0.]), array([2, 1, 2, 0])]
    """
    (x,) = as_nodes([ar], "unique")
    for name, flag in (("return_index", return_index), ("return_inverse", return_inverse)):
        if flag_arg(flag, name, "sg.unique"):
            raise SymgraphError(f"sg.unique of {describe(x)}: {name}=True is not supported; "
                                "sort with sg.argsort and compare neighbours instead")
    return_counts = flag_arg(return_counts, "return_counts", "sg.unique")
    equal_nan = flag_arg(equal_nan, "equal_nan", "sg.unique")
    if axis is not None:
        raise SymgraphError(f"sg.unique of {describe(x)}: axis={axis!r} is not supported; "
                            "the flattened values are (axis=None)")
    k = _size(size, x, "unique", "sg.unique(x, size=k, fill_value=...): the first k sorted "
              "values, padded")
    n = _static_size(x, "unique")
    if n == 0:
        if fill_value is None:
            raise SymgraphError(f"sg.unique of the empty {describe(x)}: give fill_value, "
                                "there is no smallest value to pad with")
        values = numpy_constant("sg.unique", lambda: np.full(k, fill_value, x.dtype),
                                graph=x.graph)
        return (values, numpy_constant("sg.unique", lambda: np.zeros(k, INTP),
                                       graph=x.graph)) if return_counts else values
    s = sort(ravel(x), axis=0)
    new = not_equal(s[1:], s[:-1])
    if equal_nan and s.dtype.kind == "f":  # NaN sorts last: a run of NaN is one value
        new = new & ~(isnan(s[1:]) & isnan(s[:-1]))
    first = concatenate([const(np.ones(1, bool), graph=x.graph), new], axis=0)
    order = _found_first(first)
    starts = _first(order, n, k)
    count = reduce_sum(cast(first, INTP))
    valid = _valid(k, count)
    fill = s[0] if fill_value is None else operands([s, fill_value], "sg.unique")[1]
    values = where(valid, take(s, starts), cast(fill, s.dtype))
    if not return_counts:
        return values
    # a value's count: where the next one starts (n after the last) minus where it starts
    after = _first(concatenate([order, const(np.array([n], INTP), graph=x.graph)])[1:], n, k)
    ends = where(_valid(k, count - 1), after, n)
    return values, where(valid, ends - starts, 0)


# --- counts ------------------------------------------------------------------------------------


def bincount(x: Any, weights: Any = None, minlength: int = 0, *,
             length: int | None = None) -> Node:
    """How often each of ``0, 1, ..., length - 1`` occurs in the 1-D integer ``x`` (the
    sum of the ``weights`` there, float64, if given), as ``jnp.bincount(x, length=n)``:
    values past the last bin are not counted, negative ones count as 0 (JAX's rule; NumPy
    raises). ``length`` is required for a node (its default, ``max(x) + 1``, is known only
    when the graph runs; ``minlength`` then has no effect). Differentiable in ``weights``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     i = sg.var("i", shape=(4,), dtype="int64")
    >>> sg.evaluate(sg.bincount(i, length=4), {i: [0, 2, 2, 7]}).tolist()
    [1, 0, 2, 0]
    """
    minlength = count_arg(minlength, "minlength", "sg.bincount")
    if not any(isinstance(v, Node) for v in (x, weights)) and length is None:
        data = numpy_value("sg.bincount", lambda: np.asarray(x))
        if data.dtype.kind not in "iub":
            raise SymgraphError(f"sg.bincount: x must hold integers, got {data.dtype}")
        return numpy_constant("sg.bincount", lambda: np.bincount(data, weights, minlength))
    # x as a node (in the weights' graph if only they are one)
    values = as_nodes([x, *[w for w in (weights,) if isinstance(w, Node)]], "bincount")[0]
    if values.ndim != 1 or values.dtype.kind not in "iub":
        raise SymgraphError(f"sg.bincount of {describe(values)}: x must be a 1-D array of "
                            "integers (NumPy's rule); cast with sg.cast(x, 'int64')")
    n = _size(length, values, "bincount", "sg.bincount(x, length=n): counts of 0..n-1",
              "length")
    if minlength < 0:
        raise SymgraphError(f"sg.bincount: minlength={minlength} must be >= 0")
    bins = const(np.arange(n, dtype=INTP)[None, :], graph=values.graph)
    hits = equal(expand_dims(maximum(cast(values, INTP), 0), 1), bins)  # JAX: clip(x, 0)
    if weights is None:
        return reduce_sum(cast(hits, INTP), axis=0)
    (w,) = as_nodes([values, weights], "bincount")[1:]
    if w.shape != values.shape:
        raise ShapeError(f"sg.bincount: the weights {describe(w)} must have x's shape "
                         f"{values.shape}")
    # where, not a product: a NaN or inf weight stays in its own bin
    return reduce_sum(where(hits, expand_dims(cast(w, np.float64), 1), 0.0), axis=0)


@follows_numpy(np.histogram)
def histogram(a: Any, bins: Any = 10, range: Any = None,  # noqa: A002 - NumPy's name
              density: Any = None, weights: Any = None) -> tuple[Node, Node]:
    """The counts of the values of ``a`` (flattened) in ``bins`` and the bins' edges, as
    ``numpy.histogram``: ``bins`` an int (equal bins over ``range``, by default the values'
    minimum and maximum, found when the graph runs) or the edges (increasing); each bin
    holds ``[left, right)``, the last ``[left, right]``; values outside are not counted.
    ``weights`` sums them instead (in their dtype); ``density=True`` divides by the total
    and the bins' widths. A range that is not finite (NaN or inf in ``a``) gives NaN edges
    and no counts, where NumPy raises. The edges are differentiable in ``a``, the counts
    in ``weights``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(5,))
    ...     counts, edges = sg.histogram(v, bins=2)
    >>> sg.evaluate([counts, edges], {v: [0.0, 1.0, 1.0, 3.0, 4.0]})
    [array([3, 2]), array([0., 2., 4.])]
    """
    if not any(isinstance(v, Node) for v in (a, bins, weights, range)):
        hist, edges = numpy_value("sg.histogram", lambda: np.histogram(a, bins, range, density,
                                                                         weights))
        return numpy_constant("sg.histogram", lambda: hist), numpy_constant(
            "sg.histogram", lambda: edges)
    if isinstance(range, Node):
        raise SymgraphError(f"sg.histogram: range is the node {describe(range)}; it must be a "
                            "pair of Python numbers (the bins' edges are fixed when the graph "
                            "is built), or leave it out for the values' minimum and maximum")
    nodes = as_nodes([a, *[v for v in (bins, weights) if isinstance(v, Node)]], "histogram")
    data = nodes[0]  # (named in the messages: the user's a, not its ravel)
    who = f"sg.histogram of {describe(data)}"
    if isinstance(bins, str):
        raise SymgraphError(f"{who}: bins={bins!r} (NumPy's estimators) is not supported; "
                            "give the number of bins or the edges")
    if weights is not None:  # (checked before flattening: NumPy's rule)
        (w,) = as_nodes([data, weights], "histogram")[1:]
        if w.ndim != data.ndim or any(p is not None and q is not None and p != q
                                      for p, q in zip(w.shape, data.shape)):
            raise ShapeError(f"{who}: the weights {describe(w)} must have a's shape "
                             f"{data.shape} (NumPy's rule)")
    if density is not None:
        density = flag_arg(density, "density", "sg.histogram")
    x = ravel(data)
    edges = _edges(x, bins, range, who)
    first, last = edges[0], edges[-1]
    count = edges.shape[0] - 1
    inside = (x >= first) & (x <= last)
    # bin i holds edges[i] <= x < edges[i + 1]; the last includes its right edge
    index = where(equal(x, last), count - 1, searchsorted(edges, x, "right") - 1)
    hits = equal(expand_dims(index, 1), const(np.arange(count)[None, :], graph=x.graph))
    hits = hits & expand_dims(inside, 1)
    if weights is None:
        hist = reduce_sum(cast(hits, INTP), axis=0)
    else:
        w = ravel(w)
        total = reduce_sum(where(hits, expand_dims(cast(w, np.float64), 1), 0.0), axis=0)
        hist = cast(total, w.dtype)  # NumPy accumulates in float64, then casts
    if density:
        hist = cast(hist, np.float64)
        hist = hist / cast(diff(edges), np.float64) / reduce_sum(hist)
    return hist, edges


def _edges(x: Node, bins: Any, span: Any, who: str) -> Node:
    """The bins' edges: NumPy's ``linspace`` over the range for an int, else the edges (and
    ``range`` is ignored, as NumPy ignores it then)."""
    if isinstance(bins, Node) or not isinstance(bins, (int, np.integer)):
        (edges,) = as_nodes([x, bins], "histogram")[1:]
        if edges.ndim != 1 or edges.shape[0] is None or edges.shape[0] < 2:
            raise ShapeError(f"{who}: the edges {describe(edges)} must be 1-D, 2 or more, "
                             "their number known when the graph is built")
        if is_const(edges) and np.any(np.diff(edges.attrs["value"]) < 0):
            raise SymgraphError(f"{who}: the edges must increase monotonically")
        return edges
    count = int(bins)
    if count < 1:
        raise SymgraphError(f"{who}: bins={count} must be positive")
    _not_too_long(count, "bins", "histogram")
    if span is not None:
        if isinstance(span, Node) or not isinstance(span, (tuple, list, np.ndarray)) \
                or len(span) != 2:
            raise SymgraphError(f"{who}: range must be a pair of Python numbers (lower, "
                                f"upper), got {_brief(repr(span))}")
        lo, hi = span
        if not all(isinstance(v, (int, float, np.integer, np.floating))
                   and not isinstance(v, (bool, np.bool_)) for v in (lo, hi)):
            raise SymgraphError(f"{who}: range must be two numbers, got {_brief(repr(span))}")
        if lo > hi or not (np.isfinite(lo) and np.isfinite(hi)):
            raise SymgraphError(f"{who}: range={span!r} must be finite with min <= max")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        dtype = np.result_type(lo, hi, x.dtype)  # (Python numbers are weak)
        dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        return numpy_constant(who, lambda: np.linspace(lo, hi, count + 1, dtype=dtype),
                              graph=x.graph)
    if x.shape[0] == 0:
        return numpy_constant(who, lambda: np.linspace(0, 1, count + 1), graph=x.graph)
    lo, hi = reduce_min(x), reduce_max(x)
    same = equal(lo, hi)
    lo, hi = where(same, lo - 0.5, lo), where(same, hi + 0.5, hi)
    dtype = lo.dtype if lo.dtype.kind == "f" else np.dtype(np.float64)
    edges = linspace(lo, hi, count + 1, dtype=dtype)
    return where(isfinite(lo) & isfinite(hi), edges, np.nan)

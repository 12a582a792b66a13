"""NumPy's helpers that edit arrays by position: ``append delete insert diagflat ediff1d``.

Written with symgraph's joins, slices and gathers, as NumPy composes them, so their
derivatives are those ops'. ``delete`` and ``insert`` take static positions (ints, slices,
lists or boolean masks known when the graph is built): NumPy itself works out, on the
positions alone, where each element of the result comes from, and the node is then
gathered in that order (a slice where the order is a run).

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, creation, arrangement, elementwise,
shape, layout, gather, reduce, contract and sorting modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arrangement import as_nodes
from symgraph.ops.contract import diag
from symgraph.ops.core import _brief, describe, follows_numpy, operands
from symgraph.ops.creation import numpy_constant, numpy_value
from symgraph.ops.elementwise import cast
from symgraph.ops.gather import take
from symgraph.ops.layout import ravel
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.shape import concatenate, expand_dims, getitem, transpose
from symgraph.ops.sorting import one_axis

__all__ = ["append", "delete", "diagflat", "ediff1d", "insert"]


def _gathered(x: Node, source: np.ndarray, axis: int) -> Node:
    """``x``'s elements at the static positions ``source`` along ``axis``: a slice where
    they run in order (``x`` itself where they are all of it), a gather otherwise."""
    n = x.shape[axis]
    if source.size and np.array_equal(source, np.arange(source[0], source[0] + source.size)):
        if source[0] == 0 and source.size == n:
            return x
        return getitem(x, (slice(None),) * axis + (slice(int(source[0]),
                                                         int(source[0]) + source.size),))
    return take(x, source.astype(np.intp), axis=axis)


def _flat_axis(x: Node, axis: Any, who: str) -> tuple[Node, int]:
    """NumPy's ``axis=None``: the flattened node along axis 0."""
    if axis is None:
        return ravel(x), 0
    return x, one_axis(x, axis, who)


def _static_length(x: Node, axis: int, who: str) -> int:
    n = x.shape[axis]
    if n is None:
        raise ShapeError(f"{who} of {describe(x)}: the length of axis {axis} is known only "
                         "when fed; the positions are worked out when the graph is built")
    return n


def _static_positions(obj: Any, who: str, x: Node) -> Any:
    if isinstance(obj, Node) or (isinstance(obj, (list, tuple))
                                 and any(isinstance(o, Node) for o in obj)):
        raise SymgraphError(f"{who} of {describe(x)}: the positions are a node; give them as "
                            "ints, a slice, a list or a boolean mask known when the graph is "
                            "built (the result's shape depends on them), or use sg.where")
    return obj


@follows_numpy(np.append)
def append(arr: Any, values: Any, axis: int | None = None) -> Node:
    """``values`` joined after ``arr``, as ``numpy.append``: both flattened for
    ``axis=None``, else joined along ``axis`` (same number of axes).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.append(v, [3.0, 4.0]), {v: [1.0, 2.0]}).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    x, y = as_nodes([arr, values], "append")
    if axis is None:
        return concatenate([ravel(x), ravel(y)], axis=0)
    return concatenate([x, y], axis=axis)


@follows_numpy(np.delete)
def delete(arr: Any, obj: Any, axis: int | None = None) -> Node:
    """``arr`` without the entries at ``obj`` along ``axis`` (of the flattened ``arr`` for
    ``axis=None``), as ``numpy.delete``: ``obj`` an int, a slice, a list of ints or a
    boolean mask, all known when the graph is built.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> sg.evaluate(sg.delete(v, [0, 2]), {v: [1.0, 2.0, 3.0, 4.0]}).tolist()
    [2.0, 4.0]
    """
    (x,) = as_nodes([arr], "delete")
    obj = _static_positions(obj, "delete", x)
    x, k = _flat_axis(x, axis, "delete")
    n = _static_length(x, k, "delete")
    kept = numpy_value(f"delete of {describe(x)}", lambda: np.delete(np.arange(n), obj))
    return _gathered(x, np.asarray(kept), k)


@follows_numpy(np.insert)
def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> Node:
    """``values`` inserted before the positions ``obj`` along ``axis`` (of the flattened
    ``arr`` for ``axis=None``), as ``numpy.insert``: ``obj`` an int, a slice, a list of
    ints or a boolean mask (a NumPy array: its True positions) known when the graph is built; the values are cast to ``arr``'s dtype and
    broadcast as NumPy broadcasts them. Differentiable in ``arr`` and ``values``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v, s = sg.var("v", shape=(3,)), sg.var("s")
    >>> sg.evaluate(sg.insert(v, [1, 3], s), {v: [1.0, 2.0, 3.0], s: 0.5}).tolist()
    [1.0, 0.5, 2.0, 3.0, 0.5]
    """
    (x,) = as_nodes([arr], "insert")
    obj = _static_positions(obj, "insert", x)
    who = f"insert into {describe(x)}"
    if axis is None and x.ndim != 1:
        x = ravel(x)
    k = x.ndim - 1 if axis is None else one_axis(x, axis, "insert")
    n = _static_length(x, k, "insert")
    if isinstance(obj, (bool, np.bool_)) or (isinstance(obj, (list, tuple)) and any(
            isinstance(o, (bool, np.bool_)) for o in obj)):  # (NumPy: AttributeError)
        raise SymgraphError(f"{who}: obj={_brief(repr(obj))} holds booleans; give the "
                            "positions as ints, or a boolean mask as a NumPy array of the "
                            f"axis' length {n} (np.array(mask): its True positions)")
    if isinstance(obj, np.ndarray) and obj.dtype == np.bool_:  # NumPy's mask: its Trues
        if obj.shape != (n,):
            raise SymgraphError(f"{who}: the boolean mask obj has shape {obj.shape}; it must "
                                f"be 1-D of the axis' length {n}")
        obj = np.flatnonzero(obj)
    indices = numpy_value(who, lambda: np.arange(*obj.indices(n)) if isinstance(obj, slice)
                          else np.asarray(obj))
    if isinstance(values, Node):
        v = cast(operands([x, values], "insert")[1], x.dtype)
    else:  # NumPy's array(values, dtype=arr.dtype)
        v = numpy_constant(who, lambda: np.asarray(values).astype(x.dtype), graph=x.graph)
    if indices.size == 1:  # NumPy's single position: values shaped as a block
        v = expand_dims(v, tuple(range(x.ndim - v.ndim))) if v.ndim < x.ndim else v
        if indices.ndim == 0:
            v = transpose(v, _moved_to(v.ndim, k))  # np.moveaxis(values, 0, axis)
        count = v.shape[k]
        if count is None:
            raise ShapeError(f"{who}: the number of values inserted must be known when the "
                             "graph is built")
    else:
        count = indices.size
    block = tuple(count if i == k else d for i, d in enumerate(x.shape))
    if None in block:
        raise ShapeError(f"{who}: its shape must be known when the graph is built")
    v = broadcast_to(v, block)
    # where each element of the result comes from: NumPy's insert of the values' positions
    # (after the n elements of arr) into arr's positions
    source = numpy_value(who, lambda: np.insert(np.arange(n), obj, n + np.arange(count)))
    return _gathered(concatenate([x, v], axis=k), np.asarray(source), k)


def _moved_to(ndim: int, k: int) -> tuple[int, ...]:
    """The transpose that moves axis 0 to position ``k`` (``np.moveaxis(a, 0, k)``)."""
    order = list(range(1, ndim))
    order.insert(k, 0)
    return tuple(order)


# --- one dimension -----------------------------------------------------------------------------


@follows_numpy(np.diagflat)
def diagflat(v: Any, k: int = 0) -> Node:
    """The flattened ``v`` on diagonal ``k`` of a square matrix of zeros, as
    ``numpy.diagflat``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(1, 2))
    >>> sg.evaluate(sg.diagflat(m), {m: [[1.0, 2.0]]}).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    (x,) = as_nodes([v], "diagflat")
    return diag(ravel(x), k)


@follows_numpy(np.ediff1d)
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Node:
    """The differences of the flattened ``ary`` (``ary[1:] - ary[:-1]``), with ``to_begin``
    and ``to_end`` (flattened) joined before and after, as ``numpy.ediff1d``: in ``ary``'s
    dtype, so the joined values must be of its kind or a narrower one.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.ediff1d(v, to_begin=0.0), {v: [1.0, 4.0, 9.0]}).tolist()
    [0.0, 3.0, 5.0]
    """
    (x,) = as_nodes([ary], "ediff1d")
    x = ravel(x)
    if x.dtype == np.bool_:
        raise SymgraphError(f"ediff1d of the boolean node {describe(x)}: NumPy has no "
                            "subtraction of booleans; cast it to a number dtype first")
    parts = [x[1:] - x[:-1]]
    for name, extra, before in (("to_begin", to_begin, True), ("to_end", to_end, False)):
        if extra is None:
            continue
        e = as_nodes([x, extra], "ediff1d")[1]
        if not np.can_cast(e.dtype, x.dtype, casting="same_kind"):
            raise SymgraphError(f"ediff1d of {describe(x)}: {name} is {e.dtype}, which does "
                                f"not cast to {x.dtype} (same kind); cast it first")
        e = cast(ravel(e), x.dtype)
        parts.insert(0, e) if before else parts.append(e)
    return concatenate(parts, axis=0) if len(parts) > 1 else parts[0]

"""NumPy's helpers that rearrange arrays: ``atleast_1d atleast_2d atleast_3d column_stack
dstack hsplit vsplit dsplit broadcast_arrays fliplr flipud rot90 rollaxis``.

Each is NumPy's own composition of reshapes, slices, joins and transposes, written with
symgraph's, so the derivatives are those ops' (a slice's gradient scatters back, a join's
splits). Arguments that are not nodes become constants as NumPy's ``asanyarray`` makes them
(``[1.0, 2.0]`` is float64). ``append delete insert diagflat ediff1d``:
``symgraph.ops.editing``.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, creation, reduce, shape, layout
and sorting modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import _brief, broadcast_rule, describe, follows_numpy, operands
from symgraph.ops.creation import graph_of, is_int, numpy_constant
from symgraph.ops.layout import flip, split
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.reduce import zeros_like as _zeros_like
from symgraph.ops.shape import concatenate, expand_dims, reshape, transpose
from symgraph.ops.sorting import one_axis

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays", "column_stack",
           "dsplit", "dstack", "fliplr", "flipud", "hsplit", "rollaxis", "rot90", "vsplit"]


def as_nodes(values: Any, who: str) -> list[Node]:
    """``values`` as nodes of one graph: data as NumPy's ``asanyarray`` makes it (a Python
    float is float64, not weak: NumPy's layout functions convert their arguments first)."""
    values = list(values)
    graph = graph_of(*values)
    nodes = [v if isinstance(v, Node) else
             numpy_constant(who, lambda v=v: np.asanyarray(v), graph=graph) for v in values]
    return operands(nodes, who, graph=graph)  # (raises for two graphs)


def _sequence(tup: Any, who: str) -> list[Node]:
    """The arrays a joining function takes: a list or tuple of them, at least one."""
    if isinstance(tup, (Node, str, bytes, dict)) or not hasattr(tup, "__iter__"):
        raise SymgraphError(f"{who} takes a sequence of arrays, got {type(tup).__name__}; "
                            f"write {who}([a, b])")
    nodes = as_nodes(tup, who)
    if not nodes:
        raise SymgraphError(f"{who} needs at least one array")
    return nodes


def _one_or_tuple(nodes: list[Node]) -> Node | tuple[Node, ...]:
    return nodes[0] if len(nodes) == 1 else tuple(nodes)


# --- at least n axes ---------------------------------------------------------------------------


def _at_least(x: Node, ndim: int) -> Node:
    if x.ndim >= ndim:
        return x
    if ndim == 3 and x.ndim == 1:  # NumPy's (n,) -> (1, n, 1)
        return expand_dims(x, (0, 2))
    if ndim == 3 and x.ndim == 2:  # (m, n) -> (m, n, 1)
        return expand_dims(x, 2)
    return expand_dims(x, tuple(range(ndim - x.ndim)))  # leading axes of length 1


@follows_numpy(np.atleast_1d)
def atleast_1d(*arys: Any) -> Node | tuple[Node, ...]:
    """Each input with at least one axis (a scalar becomes shape ``(1,)``), as
    ``numpy.atleast_1d``: one node for one input, a tuple for several.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> sg.atleast_1d(x).shape
    (1,)
    """
    return _one_or_tuple([_at_least(x, 1) for x in as_nodes(arys, "atleast_1d")])


@follows_numpy(np.atleast_2d)
def atleast_2d(*arys: Any) -> Node | tuple[Node, ...]:
    """Each input with at least two axes (``(n,)`` becomes ``(1, n)``), as
    ``numpy.atleast_2d``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.atleast_2d(v).shape
    (1, 3)
    """
    return _one_or_tuple([_at_least(x, 2) for x in as_nodes(arys, "atleast_2d")])


@follows_numpy(np.atleast_3d)
def atleast_3d(*arys: Any) -> Node | tuple[Node, ...]:
    """Each input with at least three axes, as ``numpy.atleast_3d``: ``(n,)`` becomes
    ``(1, n, 1)`` and ``(m, n)`` becomes ``(m, n, 1)``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.atleast_3d(v).shape
    (1, 3, 1)
    """
    return _one_or_tuple([_at_least(x, 3) for x in as_nodes(arys, "atleast_3d")])


# --- joining and splitting ---------------------------------------------------------------------


@follows_numpy(np.column_stack)
def column_stack(tup: Any) -> Node:
    """1-D (and 0-d) inputs as columns, 2-D ones as they are, joined along axis 1, as
    ``numpy.column_stack``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(3,)), sg.var("b", shape=(3, 2))
    >>> sg.column_stack([a, b]).shape
    (3, 3)
    """
    nodes = [reshape(x, (-1, 1)) if x.ndim < 2 else x for x in _sequence(tup, "column_stack")]
    return concatenate(nodes, axis=1)


@follows_numpy(np.dstack)
def dstack(tup: Any) -> Node:
    """The inputs, each with at least three axes (:func:`atleast_3d`), joined along axis 2
    (depth), as ``numpy.dstack``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 3)), sg.var("b", shape=(2, 3))
    >>> sg.dstack([a, b]).shape
    (2, 3, 2)
    """
    return concatenate([_at_least(x, 3) for x in _sequence(tup, "dstack")], axis=2)


def _split_along(ary: Any, sections: Any, axis: int | None, least: int,
                 who: str) -> list[Node]:
    """``split`` along ``axis`` (None: 1, or 0 for a vector) of an array of ``least`` or
    more axes."""
    (x,) = as_nodes([ary], who)
    if x.ndim < least:
        raise ShapeError(f"{who} of {describe(x)}: it has {x.ndim} axes; {who} works on "
                         f"arrays of {least} or more (NumPy's rule)")
    if axis is None:
        axis = 1 if x.ndim > 1 else 0
    return split(x, sections, axis=axis)


@follows_numpy(np.hsplit)
def hsplit(ary: Any, indices_or_sections: Any) -> list[Node]:
    """``split`` along axis 1 (axis 0 of a 1-D input), as ``numpy.hsplit``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 4))
    >>> [p.shape for p in sg.hsplit(m, 2)]
    [(2, 2), (2, 2)]
    """
    return _split_along(ary, indices_or_sections, None, 1, "hsplit")


@follows_numpy(np.vsplit)
def vsplit(ary: Any, indices_or_sections: Any) -> list[Node]:
    """``split`` along axis 0 of an array of 2 or more axes, as ``numpy.vsplit``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(4, 2))
    >>> [p.shape for p in sg.vsplit(m, [1])]
    [(1, 2), (3, 2)]
    """
    return _split_along(ary, indices_or_sections, 0, 2, "vsplit")


@follows_numpy(np.dsplit)
def dsplit(ary: Any, indices_or_sections: Any) -> list[Node]:
    """``split`` along axis 2 of an array of 3 or more axes, as ``numpy.dsplit``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     t = sg.var("t", shape=(1, 2, 4))
    >>> [p.shape for p in sg.dsplit(t, 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    return _split_along(ary, indices_or_sections, 2, 3, "dsplit")


@follows_numpy(np.broadcast_arrays)
def broadcast_arrays(*args: Any) -> tuple[Node, ...]:
    """The inputs broadcast against each other, as ``numpy.broadcast_arrays`` (a tuple);
    a length known only when fed is taken at run time.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(3, 1)), sg.var("b", shape=(4,))
    >>> [n.shape for n in sg.broadcast_arrays(a, b)]
    [(3, 4), (3, 4)]
    """
    if not args:
        return ()
    nodes = as_nodes(args, "broadcast_arrays")
    shape = broadcast_rule(tuple(nodes), {})  # (raises for shapes that do not broadcast)
    if None not in shape:
        return tuple(broadcast_to(x, shape) for x in nodes)
    like = nodes[0]
    for x in nodes[1:]:  # a node of the broadcast (run-time) shape: only its shape is read
        like = _zeros_like(like) + _zeros_like(x)
    return tuple(broadcast_to(x, like) for x in nodes)


# --- flips, rotations, axes --------------------------------------------------------------------


@follows_numpy(np.fliplr)
def fliplr(m: Any) -> Node:
    """``m`` with its columns (axis 1) reversed, as ``numpy.fliplr`` (2 or more axes).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(1, 3))
    >>> sg.evaluate(sg.fliplr(m), {m: [[1.0, 2.0, 3.0]]}).tolist()
    [[3.0, 2.0, 1.0]]
    """
    (x,) = as_nodes([m], "fliplr")
    if x.ndim < 2:
        raise ShapeError(f"fliplr of {describe(x)}: the input must have 2 or more axes; use "
                         "sg.flip(x) for a vector")
    return flip(x, 1)


@follows_numpy(np.flipud)
def flipud(m: Any) -> Node:
    """``m`` with its rows (axis 0) reversed, as ``numpy.flipud`` (1 or more axes).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.flipud(v), {v: [1.0, 2.0, 3.0]}).tolist()
    [3.0, 2.0, 1.0]
    """
    (x,) = as_nodes([m], "flipud")
    if x.ndim < 1:
        raise ShapeError(f"flipud of {describe(x)}: a scalar has no axis to flip")
    return flip(x, 0)


@follows_numpy(np.rot90)
def rot90(m: Any, k: int = 1, axes: tuple = (0, 1)) -> Node:
    """``m`` rotated by ``k`` quarter turns in the plane of ``axes`` (from the first axis
    towards the second), as ``numpy.rot90``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.rot90(m), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[2.0, 4.0], [1.0, 3.0]]
    """
    (x,) = as_nodes([m], "rot90")
    who = f"rot90 of {describe(x)}"
    if not is_int(k):
        raise SymgraphError(f"{who}: k must be an int (quarter turns), got {_brief(repr(k))}")
    if isinstance(axes, (str, bytes)) or not hasattr(axes, "__iter__"):
        raise SymgraphError(f"{who}: axes must be a pair of ints, got {_brief(repr(axes))}")
    axes = tuple(axes)
    if len(axes) != 2 or not all(is_int(a) for a in axes):
        raise SymgraphError(f"{who}: axes must be two ints, got {_brief(repr(axes))}")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == x.ndim:
        raise ShapeError(f"{who}: the axes {axes} must be different")
    if not all(-x.ndim <= a < x.ndim for a in axes):
        raise ShapeError(f"{who}: the axes {axes} are out of range for {x.ndim} axes")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, axes[0]), axes[1])
    order = list(range(x.ndim))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return transpose(flip(x, axes[1]), tuple(order))
    return flip(transpose(x, tuple(order)), axes[1])


@follows_numpy(np.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Node:
    """Axis ``axis`` moved to lie before position ``start``, as ``numpy.rollaxis``
    (``sg.moveaxis`` says the same more plainly).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     t = sg.var("t", shape=(2, 3, 4))
    >>> sg.rollaxis(t, 2).shape, sg.rollaxis(t, 0, 3).shape
    ((4, 2, 3), (3, 4, 2))
    """
    (x,) = as_nodes([a], "rollaxis")
    n = x.ndim
    k = one_axis(x, axis, "rollaxis")
    if not is_int(start) or not -n <= start < n + 1:
        raise ShapeError(f"rollaxis of {describe(x)}: start={_brief(repr(start))} must be an "
                         f"int with {-n} <= start < {n + 1}")
    start = int(start) + (n if start < 0 else 0)
    if k < start:
        start -= 1
    if k == start:
        return x
    order = [i for i in range(n) if i != k]
    order.insert(start, k)
    return transpose(x, tuple(order))

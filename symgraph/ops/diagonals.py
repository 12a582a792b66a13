"""Triangles and diagonals: ``tril triu diagonal diag trace`` (exported by ``contract``).

Each is linear: ``tril``'s adjoint is ``tril``, ``diagonal``'s is the embedding op
``diag`` (zeros with a diagonal filled in; ``sg.diag`` of a vector is that op) and
``diag``'s is ``diagonal``; ``trace``'s is the embedding of the cotangent broadcast
along the diagonal.

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules (``layout``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case,
    Op,
    describe,
    first_dtype,
    follows_numpy,
    latex_function,
    make,
    operands,
    operatorname,
    register,
    same_shape,
)
from symgraph.ops.layout import axes_in_order
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.shape import expand_dims

__all__ = ["diag", "diagonal", "trace", "tril", "triu"]


def _on(*shapes: tuple) -> list:
    """A test case's inputs: uniform samples in [-1, 1] of each shape."""
    return [(shape, -1.0, 1.0) for shape in shapes]


# --- tril and triu ------------------------------------------------------------------------------


def _triangle(name: str, fn: Any, cases: list) -> Op:
    """tril/triu: a mask, so its own adjoint; it acts on the last two axes, so a leading
    batch axis changes nothing."""
    op = Op(name=name, array_api=name, latex=operatorname(name),
            impl=lambda x, *, k: fn(x, k), shape=same_shape, dtype=first_dtype,
            show_attrs=("k",), defaults={"k": 0},
            vjp=(lambda g, out: make(op, [g], out.attrs),),
            jvp=(lambda t, out: make(op, [t], out.attrs),),
            batch=lambda node, args, b: make(op, args, node.attrs), cases=cases)
    return register(op)


TRIL = _triangle("tril", np.tril, [
    Case(lambda x: tril(x), _on((3, 3)), ref=np.tril),
    Case(lambda x: tril(x, 1), _on((2, 3, 4)), ref=lambda x: np.tril(x, 1)),
    Case(lambda x: tril(x), _on((3,)), ref=np.tril)])
TRIU = _triangle("triu", np.triu, [
    Case(lambda x: triu(x), _on((3, 3)), ref=np.triu),
    Case(lambda x: triu(x, -1), _on((3, 4)), ref=lambda x: np.triu(x, -1))])


def _triangle_of(op: Op, x: Any, k: int) -> Node:
    (x,) = operands([x], op.name)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise SymgraphError(f"{op.name} of {describe(x)}: k must be an int, got {k!r}")
    if x.ndim == 0:
        raise ShapeError(f"{op.name} of {describe(x)}: needs at least 1 dimension")
    if x.ndim == 1:  # NumPy's: the vector repeated as the rows of a square matrix
        if x.shape[0] is None:
            raise ShapeError(f"{op.name} of the vector {describe(x)} needs its static length")
        x = broadcast_to(x, (x.shape[0], x.shape[0]))
    return make(op, [x], {"k": int(k)})


@follows_numpy(np.tril)
def tril(x: Any, k: int = 0) -> Node:
    """``x`` with the elements above the ``k``-th diagonal zeroed (of the last two axes),
    as ``numpy.tril``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.tril(m), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[1.0, 0.0], [3.0, 4.0]]
    """
    return _triangle_of(TRIL, x, k)


@follows_numpy(np.triu)
def triu(x: Any, k: int = 0) -> Node:
    """``x`` with the elements below the ``k``-th diagonal zeroed (of the last two axes),
    as ``numpy.triu``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.triu(m), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[1.0, 2.0], [0.0, 4.0]]
    """
    return _triangle_of(TRIU, x, k)


# --- diagonal, its adjoint diag (the embedding), trace -----------------------------------------


def _diag_len(n1: int | None, n2: int | None, k: int) -> int | None:
    if n1 is None or n2 is None:
        return None
    return max(0, min(n1 - max(-k, 0), n2 - max(k, 0)))


def _diagonal_shape(inputs: tuple, attrs: dict) -> tuple:
    x, a1, a2 = inputs[0], attrs["axis1"], attrs["axis2"]
    rest = tuple(d for i, d in enumerate(x.shape) if i not in (a1, a2))
    return rest + (_diag_len(x.shape[a1], x.shape[a2], attrs["offset"]),)


def _with_axes(rest: list, a1: int, n1: Any, a2: int, n2: Any) -> tuple:
    """``rest`` with the sizes ``n1``, ``n2`` inserted at the result positions a1, a2."""
    shape = list(rest)
    for pos, n in sorted(((a1, n1), (a2, n2))):
        shape.insert(pos, n)
    return tuple(shape)


def _square(n: int | None, m: int | None, k: int) -> int | None:
    """A size left unknown in ``diag``: the square matrix whose k-th diagonal has m."""
    return n if n is not None else None if m is None else m + abs(k)


def _diag_shape(inputs: tuple, attrs: dict) -> tuple:
    if len(inputs) > 1:
        return inputs[1].shape
    g, k = inputs[0], attrs["k"]
    n1, n2 = (_square(n, g.shape[-1], k) for n in attrs["size"])
    return _with_axes(g.shape[:-1], attrs["axis1"], n1, attrs["axis2"], n2)


def _diag_impl(g: np.ndarray, ref: np.ndarray | None = None, *, k: int, axis1: int,
               axis2: int, size: tuple) -> np.ndarray:
    """Zeros with ``g``'s last axis placed on the k-th diagonal of axes (axis1, axis2)."""
    m = g.shape[-1]
    if ref is not None:
        n1, n2 = np.shape(ref)[axis1], np.shape(ref)[axis2]
    else:
        n1, n2 = (_square(n, m, k) for n in size)
    if _diag_len(n1, n2, k) != m:
        raise ValueError(f"a diagonal of {m} elements does not fit the k={k} diagonal of an "
                         f"{n1}x{n2} matrix")
    out = np.zeros(_with_axes(g.shape[:-1], axis1, n1, axis2, n2), dtype=g.dtype)
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes land in out
    i = np.arange(m)
    view[..., i + max(-k, 0), i + max(k, 0)] = g
    return out


def _batch_pair(node: Node, args: list, batched: tuple) -> Node | None:
    """vmap of diagonal, diag and trace: the same axis pair, one further right."""
    if len(args) > 1:
        return None  # a runtime shape (diag's ref) has no batch axis
    attrs = node.attrs
    return make(node.opdef, args, dict(attrs, axis1=attrs["axis1"] + 1, axis2=attrs["axis2"] + 1))


def _diag_into(g: Node, x: Node, k: int, axis1: int, axis2: int) -> Node:
    """``g`` (the diagonal as its last axis) placed on the diagonal of zeros shaped as x."""
    ref = [x] if None in (x.shape[axis1], x.shape[axis2]) else []
    return make(DIAG, [g, *ref], {"k": k, "axis1": axis1, "axis2": axis2,
                                  "size": (x.shape[axis1], x.shape[axis2])})


def _embed(t: Node) -> Node:
    """``t`` with its last axis spread on the diagonal of two new last axes."""
    return make(DIAG, [t], {"k": 0, "axis1": t.ndim - 1, "axis2": t.ndim,
                            "size": (t.shape[-1], t.shape[-1])})


DIAGONAL = register(Op(
    name="diagonal", array_api="diagonal", latex=operatorname("diagonal"),
    impl=lambda x, *, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2),
    shape=_diagonal_shape, dtype=first_dtype,
    show_attrs=("offset", "axis1", "axis2"), defaults={"offset": 0, "axis1": 0, "axis2": 1},
    vjp=(lambda g, out: _diag_into(g, out.inputs[0], out.attrs["offset"], out.attrs["axis1"],
                                   out.attrs["axis2"]),),
    jvp=(lambda t, out: make(DIAGONAL, [t], out.attrs),),
    batch=_batch_pair,
    cases=[Case(lambda x: diagonal(x), _on((3, 3)), ref=np.diagonal),
           Case(lambda x: diagonal(x, 1, axis1=2, axis2=0), _on((2, 3, 4)),
                ref=lambda x: np.diagonal(x, 1, 2, 0))],
))
DIAG = register(Op(
    name="diag", latex=operatorname("diag"),
    impl=_diag_impl, shape=_diag_shape, dtype=first_dtype, shape_only=(1,),
    show_attrs=("k", "axis1", "axis2"), defaults={"k": 0, "axis1": 0, "axis2": 1},
    vjp=(lambda g, out: make(DIAGONAL, [g], {"offset": out.attrs["k"], "axis1": out.attrs["axis1"],
                                             "axis2": out.attrs["axis2"]}), None),
    jvp=(lambda t, out: make(DIAG, [t, *out.inputs[1:]], out.attrs), None),
    batch=_batch_pair,
    cases=[Case(lambda v: diag(v), _on((3,)), ref=np.diag),
           Case(lambda v: diag(v, -1), _on((2,)), ref=lambda v: np.diag(v, -1))],
))


@functools.lru_cache(maxsize=64)
def _sum_dtype_of(dtype: np.dtype) -> np.dtype:
    return np.sum(np.zeros(1, dtype)).dtype  # NumPy's: small ints and bools widen


def _trace_vjp(g: Node, out: Node) -> Node:
    x, k, a1, a2 = out.inputs[0], out.attrs["offset"], out.attrs["axis1"], out.attrs["axis2"]
    m = _diag_len(x.shape[a1], x.shape[a2], k)
    like: Any = g.shape + (m,)
    if None in like:  # unknown sizes: the diagonal itself lends its runtime shape
        like = make(DIAGONAL, [x], out.attrs)
    return _diag_into(broadcast_to(expand_dims(g, -1), like), x, k, a1, a2)


TRACE = register(Op(
    name="trace", array_api="trace", latex=latex_function(r"\mathrm{{tr}}"),
    impl=lambda x, *, offset, axis1, axis2: np.trace(x, offset, axis1, axis2),
    shape=lambda inputs, attrs: _diagonal_shape(inputs, attrs)[:-1],
    dtype=lambda inputs, attrs: _sum_dtype_of(inputs[0].dtype),
    show_attrs=("offset", "axis1", "axis2"), defaults={"offset": 0, "axis1": 0, "axis2": 1},
    vjp=(_trace_vjp,),
    jvp=(lambda t, out: make(TRACE, [t], out.attrs),),
    batch=_batch_pair,
    cases=[Case(lambda x: trace(x), _on((3, 3)), ref=np.trace),
           Case(lambda x: trace(x, 1), _on((3, 4)), ref=lambda x: np.trace(x, 1)),
           Case(lambda x: trace(x, -1, axis1=1, axis2=2), _on((2, 3, 4)),
                ref=lambda x: np.trace(x, -1, 1, 2))],
))


def _diagonal_args(name: str, x: Any, offset: Any, axis1: Any, axis2: Any) -> tuple:
    (x,) = operands([x], name)
    who = lambda: f"{name} of {describe(x)}"
    if x.ndim < 2:
        raise ShapeError(f"{who()}: needs at least 2 dimensions")
    if not isinstance(offset, (int, np.integer)) or isinstance(offset, bool):
        raise SymgraphError(f"{who()}: offset must be an int, got {offset!r}")
    (a1,) = axes_in_order(axis1, x.ndim, who)
    (a2,) = axes_in_order(axis2, x.ndim, who)
    if a1 == a2:
        raise ShapeError(f"{who()}: axis1 and axis2 are both {a1}; name two different axes")
    return x, {"offset": int(offset), "axis1": a1, "axis2": a2}


@follows_numpy(np.diagonal)
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """The ``offset``-th diagonal of the axes ``axis1``, ``axis2`` (as the last axis of
    the result), as ``numpy.diagonal``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.diagonal(m), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [1.0, 4.0]
    """
    x, attrs = _diagonal_args("diagonal", x, offset, axis1, axis2)
    return make(DIAGONAL, [x], attrs)


@follows_numpy(np.trace)
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """The sum along the ``offset``-th diagonal, as ``numpy.trace``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> float(sg.evaluate(sg.trace(m), {m: [[1.0, 2.0], [3.0, 4.0]]}))
    5.0
    """
    x, attrs = _diagonal_args("trace", x, offset, axis1, axis2)
    return make(TRACE, [x], attrs)


@follows_numpy(np.diag)
def diag(v: Any, k: int = 0) -> Node:
    """As ``numpy.diag``: a 1-D ``v`` becomes the ``k``-th diagonal of a square matrix of
    zeros; of a 2-D ``v`` the ``k``-th diagonal is taken.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.diag(v), {v: [1.0, 2.0]}).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    (v,) = operands([v], "diag")
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ShapeError(f"diag of {describe(v)}: the input must be 1-D (to build a matrix) "
                         "or 2-D (to take a diagonal); use sg.diagonal for more axes")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise SymgraphError(f"diag of {describe(v)}: k must be an int, got {k!r}")
    n = _square(None, v.shape[0], int(k))
    return make(DIAG, [v], {"k": int(k), "axis1": 0, "axis2": 1, "size": (n, n)})

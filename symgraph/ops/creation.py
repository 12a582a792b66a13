"""Arrays made from a shape or from another array: NumPy's ``zeros ones empty full eye
identity tri arange zeros_like ones_like full_like empty_like asarray array``.

Each gives NumPy's values, dtype (float64 by default, ``dtype=`` otherwise) and shape. With
Python numbers and arrays only, the result is a constant (``sg.const`` of NumPy's own
array; the fills ``zeros``/``ones``/``full`` stored as a zero-stride view, taking no
memory). Where an argument is a node, the result is written with ops, as ``jax.numpy``
writes it, so it is differentiable: ``full(shape, node)`` broadcasts the node, ``asarray``
of a list holding nodes stacks them; ``*_like`` of a node whose shape is known only when
fed take that shape at run time. A shape is static: a length that is a node raises, as it
does under ``jax.jit``. Evenly spaced values and grids: ``symgraph.ops.spacing``.

``empty`` and ``empty_like`` give zeros: a node's value is never uninitialized memory.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, layout, reduce and
shape modules.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from symgraph.graph import Graph, Node, SymgraphError
from symgraph.ops.core import _brief, _check_dtype, const, describe, follows_numpy, operands
from symgraph.ops.elementwise import cast
from symgraph.ops.layout import is_int
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.reduce import zeros_like as _zeros_like
from symgraph.ops.shape import expand_dims, stack

__all__ = ["arange", "array", "asarray", "empty", "empty_like", "eye", "full", "full_like",
           "identity", "ones", "ones_like", "tri", "zeros", "zeros_like"]

FLOAT64 = np.dtype(np.float64)
_NUMPY_ERRORS = (TypeError, ValueError, OverflowError, MemoryError, IndexError)


# --- checks shared by the functions -------------------------------------------------------------


def static_shape(shape: Any, who: str) -> tuple[int, ...]:
    """``shape`` (an int or a sequence of ints >= 0) as a tuple; a node or anything else
    raises, saying what to write."""
    if isinstance(shape, Node) or (isinstance(shape, (tuple, list))
                                   and any(isinstance(d, Node) for d in shape)):
        raise SymgraphError(f"{who}: the shape holds a node; a shape is Python ints, fixed when "
                            "the graph is built (as under jax.jit): for the run-time shape of a "
                            "node x write sg.zeros_like(x), sg.full_like(x, value) or "
                            "sg.broadcast_to(value, x)")
    dims = (shape,) if is_int(shape) else shape
    if isinstance(dims, (str, bytes, dict)) or not isinstance(dims, (tuple, list, range)):
        raise SymgraphError(f"{who}: shape must be an int or a tuple of ints, got "
                            f"{_brief(repr(shape))}; e.g. (2, 3)")
    for d in dims:
        if not is_int(d) or d < 0:
            raise SymgraphError(f"{who}: shape {_brief(repr(shape))} has {_brief(repr(d))}; "
                                "dimensions are ints >= 0")
    return tuple(int(d) for d in dims)


def dtype_arg(dtype: Any, who: str) -> np.dtype | None:
    """``dtype`` checked (None stays None: the function's own rule)."""
    return None if dtype is None else _check_dtype(dtype, who)


def count_arg(value: Any, what: str, who: str) -> int:
    """A static count (``num``, ``N``, ``k``): an int, not a node."""
    if isinstance(value, Node):
        raise SymgraphError(f"{who}: {what} is the node {describe(value)}; it must be a Python "
                            "int, known when the graph is built (the result's shape depends on "
                            "it), as jax.numpy requires under jit")
    if not is_int(value):
        raise SymgraphError(f"{who}: {what} must be an int, got {_brief(repr(value))}")
    return int(value)


def numpy_value(who: str, build: Callable[[], Any]) -> Any:
    """What NumPy's ``build()`` gives; NumPy's refusal (a negative size, NaN bounds, an
    array too large) raises :class:`SymgraphError` naming ``who``."""
    try:
        with np.errstate(all="ignore"):
            return build()
    except _NUMPY_ERRORS as exc:
        raise SymgraphError(f"{who}: NumPy refuses the arguments ({type(exc).__name__}: "
                            f"{_brief(str(exc), 120)}); check them") from None


def numpy_constant(who: str, build: Callable[[], Any], graph: Graph | None = None) -> Node:
    """The constant NumPy's ``build()`` gives (see :func:`numpy_value`)."""
    value = numpy_value(who, lambda: np.asarray(build()))
    _check_dtype(value.dtype, who)  # complex, strings and objects have no symgraph dtype
    return const(value, graph=graph)


def graph_of(*values: Any) -> Graph | None:
    """The graph of the first node among ``values`` (None: the default graph)."""
    return next((v.graph for v in values if isinstance(v, Node)), None)


def _has_node(values: Any) -> bool:
    """Whether ``values`` is a node or a (nested) list or tuple holding one."""
    if isinstance(values, Node):
        return True
    return isinstance(values, (list, tuple)) and any(_has_node(v) for v in values)


def flag_arg(value: Any, name: str, who: str) -> bool:
    """A yes/no option: True or False (NumPy's bools too), anything else raises."""
    if not isinstance(value, (bool, np.bool_)):
        raise SymgraphError(f"{who}: {name} must be True or False, got {_brief(repr(value))}")
    return bool(value)


# --- from a shape ----------------------------------------------------------------------------


def _fill_fits(fill: Any, dtype: np.dtype | None, who: str) -> None:
    """A Python int fill must fit an integer ``dtype``: NumPy raises OverflowError (a cast
    would wrap silently, 300 giving 44 in int8). Floats are truncated, as NumPy's."""
    if type(fill) is int and dtype is not None and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not info.min <= fill <= info.max:
            raise SymgraphError(f"{who}: the fill value {_brief(repr(fill))} does not fit "
                                f"{dtype} ({info.min} to {info.max}); give a value in that "
                                "range or a wider dtype")


def _filled(shape: Any, fill: Any, dtype: Any, who: str, graph: Graph | None = None) -> Node:
    shape = static_shape(shape, who)
    dtype = dtype_arg(dtype, who)
    _fill_fits(fill, dtype, who)
    if isinstance(fill, Node):  # jnp.full of a traced value: the value broadcast
        return broadcast_to(fill if dtype is None else cast(fill, dtype), shape)
    # np.full: the fill as an array of dtype (cast unsafely, as NumPy's copyto), broadcast
    # as a zero-stride view (zeros((10**6,)) takes no memory)
    return numpy_constant(who, lambda: np.broadcast_to(
        np.asarray(fill).astype(dtype, copy=False) if dtype is not None else np.asarray(fill),
        shape), graph=graph)


def zeros(shape: Any, dtype: Any = float) -> Node:
    """A constant of zeros of ``shape`` (an int or a tuple of ints), float64 unless
    ``dtype`` says otherwise, as ``numpy.zeros``; it takes no memory however large.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     z = sg.zeros((2, 3), dtype="int32")
    >>> z.shape, z.dtype.name, float(sg.evaluate(z.sum(), {}))
    ((2, 3), 'int32', 0.0)
    """
    return _filled(shape, 0, FLOAT64 if dtype is None else dtype, "sg.zeros")


def ones(shape: Any, dtype: Any = float) -> Node:
    """A constant of ones of ``shape``, float64 unless ``dtype`` says otherwise, as
    ``numpy.ones``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.evaluate(sg.ones(3), {}))
    [1. 1. 1.]
    """
    return _filled(shape, 1, FLOAT64 if dtype is None else dtype, "sg.ones")


def empty(shape: Any, dtype: Any = float) -> Node:
    """``numpy.empty``'s shape and dtype, filled with zeros: a node's value is never
    uninitialized memory, so ``empty`` is ``zeros``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.evaluate(sg.empty((2,)), {}))
    [0. 0.]
    """
    return _filled(shape, 0, FLOAT64 if dtype is None else dtype, "sg.empty")


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Node:
    """``fill_value`` broadcast to ``shape``, as ``numpy.full``: its dtype is the fill's
    (an int fill gives int64) unless ``dtype`` is given. A node fill is broadcast, as
    ``jnp.full`` does with a traced value, and the gradient sums back into it.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     s = sg.var("s")
    ...     f = sg.full((2, 2), s)
    >>> float(sg.evaluate(sg.grad(f.sum(), s), {s: 1.5})), sg.full(2, 7).dtype.name
    (4.0, 'int64')
    """
    return _filled(shape, fill_value, dtype, "sg.full")


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = float) -> Node:
    """The ``N`` x ``M`` constant with ones on diagonal ``k``, as ``numpy.eye``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.evaluate(sg.eye(2, 3, k=1), {}))
    [[0. 1. 0.]
     [0. 0. 1.]]
    """
    return _banded(np.eye, N, M, k, dtype, "sg.eye")


def _banded(make_array: Callable[..., np.ndarray], N: Any, M: Any, k: Any, dtype: Any,
            who: str) -> Node:
    """The constant ``make_array(N, M, k, dtype)`` (``np.eye``, ``np.tri``), arguments
    checked (static ints; a dtype symgraph has, float64 for None)."""
    n = count_arg(N, "N", who)
    m = None if M is None else count_arg(M, "M", who)
    diagonal = count_arg(k, "k", who)
    kind = _check_dtype(FLOAT64 if dtype is None else dtype, who)
    return numpy_constant(who, lambda: make_array(n, m, diagonal, kind))


def identity(n: int, dtype: Any = None) -> Node:
    """The ``n`` x ``n`` identity matrix (float64 by default), as ``numpy.identity``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.identity(3, dtype="int8").dtype)
    int8
    """
    size = count_arg(n, "n", "sg.identity")
    dtype = _check_dtype(FLOAT64 if dtype is None else dtype, "sg.identity")
    return numpy_constant("sg.identity", lambda: np.identity(size, dtype))


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = float) -> Node:
    """The ``N`` x ``M`` constant with ones at and below diagonal ``k``, as ``numpy.tri``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.evaluate(sg.tri(3, dtype="int64"), {}))
    [[1 0 0]
     [1 1 0]
     [1 1 1]]
    """
    return _banded(np.tri, N, M, k, dtype, "sg.tri")


def arange(start: Any = None, stop: Any = None, step: Any = None, dtype: Any = None) -> Node:
    """The constant ``numpy.arange(start, stop, step, dtype=dtype)``: evenly spaced values
    in ``[start, stop)`` (one argument is ``stop``), int64 for ints, float64 for floats.
    The bounds are Python numbers: the length must be known when the graph is built, as
    under ``jax.jit``; for a node's run-time length write ``sg.cumsum(sg.ones_like(v)) - 1``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.evaluate(sg.arange(1, 2, 0.25), {}))
    [1.   1.25 1.5  1.75]
    """
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, Node):
            raise SymgraphError(
                f"sg.arange: {name} is the node {describe(value)}; the length of an arange "
                "must be static (known when the graph is built, as jax.numpy requires under "
                "jit): give Python numbers, or write start + step * sg.arange(n) with a node "
                "start and step, or sg.linspace(start, stop, num) with node ends")
    dtype = dtype_arg(dtype, "sg.arange")
    if start is None and stop is None:
        raise SymgraphError("sg.arange: give stop (sg.arange(stop), sg.arange(start, stop) "
                            "or sg.arange(start, stop, step))")
    # arange(n) is arange(0, n), and so is arange(stop=n), as NumPy's
    bounds = (0, start if stop is None else stop) if start is None or stop is None else (
        start, stop)
    bounds += () if step is None else (step,)
    for value in bounds:
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(
                value, (bool, np.bool_)):
            raise SymgraphError(f"sg.arange: the bounds and step must be real numbers, got "
                                f"{_brief(repr(value))}")
    if step is not None and step == 0:  # (NumPy: ZeroDivisionError)
        raise SymgraphError(f"sg.arange: step={step!r} is zero; give a step that is not zero")
    return numpy_constant("sg.arange", lambda: np.arange(*bounds, dtype=dtype))


# --- like another array ------------------------------------------------------------------------


def _filled_like(a: Any, fill: Any, dtype: Any, shape: Any, who: str) -> Node:
    if not isinstance(a, Node):  # data: NumPy's own constant
        if isinstance(fill, Node):
            base = numpy_value(who, lambda: np.zeros_like(a, dtype=dtype, shape=shape))
            return _filled(base.shape, fill, _check_dtype(base.dtype, who), who)
        return numpy_constant(who, lambda: np.full_like(a, fill, dtype=dtype, shape=shape))
    dtype = a.dtype if dtype is None else _check_dtype(dtype, who)
    if shape is not None:
        return _filled(shape, fill, dtype, who, a.graph)
    if isinstance(fill, Node):  # the fill, of a's dtype, broadcast to a's (run-time) shape
        if fill.graph is not a.graph:
            operands([a, fill], who)  # raises: two graphs
        return broadcast_to(cast(fill, dtype), a if None in a.shape else a.shape)
    if None not in a.shape:
        return _filled(a.shape, fill, dtype, who, a.graph)
    _fill_fits(fill, dtype, who)
    value = numpy_constant(who, lambda: np.asarray(fill).astype(dtype), graph=a.graph)
    return broadcast_to(value, a)  # the shape a has when fed


@follows_numpy(np.zeros_like)
def zeros_like(a: Any, dtype: Any = None, shape: Any = None) -> Node:
    """Zeros of ``a``'s shape and dtype (or ``dtype``, ``shape``), as ``numpy.zeros_like``;
    a node's shape known only when fed is taken at run time. No memory for static shapes.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, None))
    >>> sg.zeros_like(m).shape, sg.zeros_like(m, dtype="int8", shape=3).dtype.name
    ((2, None), 'int8')
    """
    if isinstance(a, Node) and dtype is None and shape is None:
        return _zeros_like(a)
    return _filled_like(a, 0, dtype, shape, "sg.zeros_like")


@follows_numpy(np.ones_like)
def ones_like(a: Any, dtype: Any = None, shape: Any = None) -> Node:
    """Ones of ``a``'s shape and dtype (or ``dtype``, ``shape``), as ``numpy.ones_like``;
    a node's shape known only when fed is taken at run time.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(None, 2))
    ...     o = sg.ones_like(m, dtype="int32")
    >>> o.shape, sg.evaluate(o, {m: [[1.0, 2.0]]}).tolist()
    ((None, 2), [[1, 1]])
    """
    return _filled_like(a, 1, dtype, shape, "sg.ones_like")


@follows_numpy(np.full_like)
def full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Node:
    """``fill_value`` in ``a``'s shape and dtype (or ``dtype``, ``shape``), as
    ``numpy.full_like`` (the fill cast to the dtype: ``full_like(int_node, 2.7)`` holds
    2). A node fill is broadcast (``jnp.full_like`` of a traced value): differentiable.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v, s = sg.var("v", shape=(3,)), sg.var("s")
    >>> sg.evaluate(sg.full_like(v, s), {s: 2.5}).tolist()
    [2.5, 2.5, 2.5]
    """
    return _filled_like(a, fill_value, dtype, shape, "sg.full_like")


@follows_numpy(np.empty_like)
def empty_like(prototype: Any, dtype: Any = None, shape: Any = None) -> Node:
    """Zeros of ``prototype``'s shape and dtype, as ``numpy.empty_like`` would allocate
    (a node's value is never uninitialized memory: ``empty_like`` is ``zeros_like``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.empty_like(v), {v: [1.0, 2.0]}).tolist()
    [0.0, 0.0]
    """
    if isinstance(prototype, Node) and dtype is None and shape is None:
        return _zeros_like(prototype)
    return _filled_like(prototype, 0, dtype, shape, "sg.empty_like")


def asarray(a: Any, dtype: Any = None) -> Node:
    """``a`` as a node, as ``jnp.asarray``: a node itself (cast to ``dtype`` if given),
    data as a constant (NumPy's ``asarray``), and a list holding nodes stacked.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     v = sg.asarray([x, 2.0, x * x])
    >>> sg.asarray(x) is x, sg.evaluate(v, {x: 3.0}).tolist()
    (True, [3.0, 2.0, 9.0])
    """
    return _as_node(a, dtype, "sg.asarray")


def array(object: Any, dtype: Any = None, *, copy: bool = True,  # noqa: A002 - NumPy's
          ndmin: int = 0) -> Node:
    """``object`` as a node, as ``numpy.array`` (``copy`` has no effect: nodes are
    immutable); ``ndmin`` prepends axes of length 1. See :func:`asarray`.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(sg.array([1, 2], ndmin=3).shape)
    (1, 1, 2)
    """
    ndmin = count_arg(ndmin, "ndmin", "sg.array")
    flag_arg(copy, "copy", "sg.array")
    node = _as_node(object, dtype, "sg.array")
    if node.ndim >= ndmin:
        return node
    return expand_dims(node, tuple(range(ndmin - node.ndim)))


def _as_node(a: Any, dtype: Any, who: str) -> Node:
    dtype = dtype_arg(dtype, who)
    if isinstance(a, Node):
        return a if dtype is None else cast(a, dtype)
    if _has_node(a):  # jnp.asarray of a list of traced values: stacked
        graph = graph_of(*_nodes_in(a))
        # Python numbers beside nodes are weak (they take the nodes' dtype), as in jnp
        parts = [_as_node(v, None, who) if _has_node(v) else
                 v if type(v) in (int, float) else
                 numpy_constant(who, lambda v=v: np.asarray(v), graph=graph) for v in a]
        if not parts:
            raise SymgraphError(f"{who}: an empty list has no node")
        joined = stack(operands(parts, who, graph=graph), axis=0)
        return joined if dtype is None else cast(joined, dtype)
    return numpy_constant(who, lambda: np.asarray(a, dtype=dtype))


def _nodes_in(values: Any) -> list[Node]:
    if isinstance(values, Node):
        return [values]
    return [n for v in values if _has_node(v) for n in _nodes_in(v)]

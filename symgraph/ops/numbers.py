"""Comparing numbers and taking them apart: NumPy's ``isclose allclose array_equal``,
``real imag conj conjugate`` of real nodes, ``ldexp divmod gcd lcm``, ``digitize`` and
``vdot``.

``ldexp``, ``gcd`` and ``lcm`` are declared ops: each is NumPy's ufunc (every backend runs
NumPy's or ``jax.numpy``'s function of that name), because no composition gives their
values (``x * 2.0**n`` overflows where ``ldexp`` does not; a gcd needs a loop whose length
depends on the values). ``ldexp``'s derivative in ``x`` is ``ldexp(1, n)``; ``n``,
``gcd`` and ``lcm`` are integers and pass none. The others are compositions, as NumPy
writes them: ``isclose`` is ``|a - b| <= atol + rtol |b|`` (with ``isfinite(b)``, or
``a == b``), ``divmod`` is ``(floor_divide, mod)``, ``digitize`` a ``searchsorted``.
symgraph has no complex dtype: ``real`` is the node itself, ``imag`` its zeros, ``conj``
the node, and complex data is refused, saying so.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, creation, arrangement, elementwise,
logical, functions, rounding, linalg, layout, reduce and numeric modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arrangement import as_nodes
from symgraph.ops.core import (
    Case, const, describe, first_dtype, follows_numpy, operands, promote,
)
from symgraph.ops.creation import flag_arg, graph_of, numpy_constant, numpy_value, ones_like
from symgraph.ops.elementwise import (
    apply, binary, cast, equal, greater_equal, less_equal, where,
)
from symgraph.ops.functions import abs as absolute
from symgraph.ops.layout import flip, ravel
from symgraph.ops.linalg import dot
from symgraph.ops.logical import all as all_of
from symgraph.ops.numeric import searchsorted
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.reduce import zeros_like
from symgraph.ops.rounding import floor_divide, isfinite, isnan, mod

__all__ = ["allclose", "array_equal", "conj", "conjugate", "digitize", "divmod", "gcd",
           "imag", "isclose", "lcm", "ldexp", "real", "vdot"]


# --- the ops -----------------------------------------------------------------------------------

_INTS = (np.array([[12, -18, 0], [7, 0, -100]], np.int64), np.array([8, 27, -5], np.int64))


def _integer_op(name: str, forward: Any) -> Any:
    return binary(name, forward, vjp=None, jvp=None, dtype=promote,  # integers: no gradient
                  cases=lambda build: [Case(build, list(_INTS), order=0),
                                       Case(build, [((2, 3), "int", 50), ((3,), "int", 30)],
                                            order=0)])


GCD = _integer_op("gcd", np.gcd)
LCM = _integer_op("lcm", np.lcm)


def _ldexp_d(g: Node, out: Node) -> Node:
    x, n = out.inputs  # d/dx x * 2**n = 2**n, as ldexp(1, n) (no overflow of 2**n alone)
    return g * apply(LDEXP, const(1.0, dtype=x.dtype, graph=x.graph), n)


LDEXP = binary(
    "ldexp", np.ldexp, vjp=(_ldexp_d, None), jvp=(_ldexp_d, None), dtype=first_dtype,
    cases=lambda build: [
        Case(build, [((2, 3), -2.0, 2.0), ((3,), "int", 5)]),
        Case(build, [np.array([1e-300, -3.0, 0.5, -0.0, np.inf, np.nan]),
                     np.array([1100, -2, 3, 7, 1, 0])], order=0),
    ],
)


def _integers(x1: Any, x2: Any, who: str) -> tuple[Node, Node]:
    a, b = operands([x1, x2], who, graph=graph_of(x1, x2))
    for n in (a, b):
        if n.dtype.kind not in "iu":
            raise SymgraphError(f"{who} of {describe(n)}: it is {n.dtype}; {who} is defined "
                                "for integers only (NumPy's ufunc has no other loop): cast "
                                "with sg.cast(x, 'int64')")
    if np.result_type(a.dtype, b.dtype).kind not in "iu":
        raise SymgraphError(f"{who} of {a.dtype} and {b.dtype}: NumPy has no integer type "
                            "holding both; cast one of them")
    return a, b


@follows_numpy(np.gcd)
def gcd(x1: Any, x2: Any) -> Node:
    """The greatest common divisor of the integers ``|x1|`` and ``|x2|``, elementwise, as
    ``numpy.gcd`` (``gcd(0, 0)`` is 0).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(3,), dtype="int64")
    >>> sg.evaluate(sg.gcd(a, 12), {a: [8, -18, 0]}).tolist()
    [4, 6, 12]
    """
    return apply(GCD, *_integers(x1, x2, "gcd"))


@follows_numpy(np.lcm)
def lcm(x1: Any, x2: Any) -> Node:
    """The least common multiple of the integers ``|x1|`` and ``|x2|``, elementwise, as
    ``numpy.lcm``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(3,), dtype="int64")
    >>> sg.evaluate(sg.lcm(a, 4), {a: [6, -3, 0]}).tolist()
    [12, 12, 0]
    """
    return apply(LCM, *_integers(x1, x2, "lcm"))


@follows_numpy(np.ldexp)
def ldexp(x1: Any, x2: Any) -> Node:
    """``x1 * 2**x2`` with an integer ``x2``, elementwise and exact (no overflow of
    ``2**x2`` on the way), as ``numpy.ldexp``; integer ``x1`` computes in float64 (as
    every float function of integers: see the README); a Python int ``x2`` is an int64
    constant. The derivative in ``x1`` is ``2**x2``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, n = sg.var("x"), sg.var("n", dtype="int32")
    >>> float(sg.evaluate(sg.ldexp(x, n), {x: 1e-300, n: 1100}))
    1.3582985290493859e+31
    """
    if type(x2) is int:  # a Python int exponent: an int64 constant (NumPy's and jnp's)
        if not _INT64.min <= x2 <= _INT64.max:
            raise SymgraphError(f"ldexp: the exponent {x2} does not fit int64; give an "
                                "exponent in int64's range")
        x2 = np.int64(x2)
    x, n = operands([x1, x2], "ldexp", graph=graph_of(x1, x2))
    if n.dtype.kind not in "iu":
        raise SymgraphError(f"ldexp of {describe(x)}: the exponent {describe(n)} is {n.dtype};"
                            " it must be an integer (NumPy's rule): sg.cast(n, 'int64')")
    if x.dtype.kind != "f":
        x = cast(x, np.float64)
    return apply(LDEXP, x, n)


_INT64 = np.iinfo(np.int64)


@follows_numpy(np.divmod)
def divmod(x1: Any, x2: Any) -> tuple[Node, Node]:  # noqa: A001 - NumPy's name
    """``(x1 // x2, x1 % x2)``, as ``numpy.divmod`` (NumPy's floor division and modulo,
    the remainder of the divisor's sign).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     q, r = sg.divmod(x, 3.0)
    >>> [float(v) for v in sg.evaluate([q, r], {x: -7.0})]
    [-3.0, 2.0]
    """
    return floor_divide(x1, x2), mod(x1, x2)


# --- closeness ---------------------------------------------------------------------------------


def _tolerance(value: Any, name: str, graph: Any) -> Any:
    if type(value) in (int, float) or isinstance(value, Node):
        return value  # a Python number is weak (float32 stays float32), as NumPy's
    return numpy_constant(f"isclose: {name}", lambda: np.asanyarray(value), graph=graph)


@follows_numpy(np.isclose)
def isclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08,
            equal_nan: bool = False) -> Node:
    """Where ``a`` and ``b`` are equal within ``atol + rtol * |b|`` (or exactly equal: two
    infinities of one sign), a boolean node, as ``numpy.isclose`` (not symmetric: ``b`` is
    the reference); NaN is close to nothing unless ``equal_nan=True``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.isclose(v, [1.0, 2.0, float("inf")]), {v: [1.0 + 1e-9, 2.1,
    ...                                                          float("inf")]}).tolist()
    [True, False, True]
    """
    equal_nan = flag_arg(equal_nan, "equal_nan", "isclose")
    graph = graph_of(a, b, rtol, atol)
    if graph is None:  # data only: NumPy's answer
        return numpy_constant("isclose", lambda: np.isclose(a, b, rtol, atol, equal_nan))
    x, y = operands([a, b], "isclose", graph=graph)
    rtol, atol = _tolerance(rtol, "rtol", graph), _tolerance(atol, "atol", graph)
    y = cast(y, np.result_type(y.dtype, 1.0))  # no abs(MIN_INT) overflow, NumPy's reason
    close = less_equal(absolute(x - y), atol + rtol * absolute(y)) & isfinite(y) | equal(x, y)
    if equal_nan:
        close = close | (isnan(x) & isnan(y))
    return close


@follows_numpy(np.allclose)
def allclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08,
             equal_nan: bool = False) -> Node:
    """Whether ``isclose(a, b, rtol, atol, equal_nan)`` holds everywhere: a boolean scalar
    node (NumPy's ``allclose`` gives a Python bool; evaluate it for one).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> bool(sg.evaluate(sg.allclose(v, [1.0, 2.0]), {v: [1.0, 2.0 + 1e-12]}))
    True
    """
    return all_of(isclose(a, b, rtol, atol, equal_nan))


@follows_numpy(np.array_equal)
def array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> Node:
    """Whether ``a1`` and ``a2`` have the same shape and elements, a boolean scalar node,
    as ``numpy.array_equal`` (NaN equal to NaN with ``equal_nan=True``). The shapes are
    compared when the graph is built, so they must be known then.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> [bool(sg.evaluate(sg.array_equal(v, w), {v: [1.0, 2.0]})) for w in ([1, 2], [1])]
    [True, False]
    """
    equal_nan = flag_arg(equal_nan, "equal_nan", "array_equal")
    x, y = as_nodes([a1, a2], "array_equal")
    if None in x.shape or None in y.shape:
        raise ShapeError(f"array_equal of {describe(x)} and {describe(y)}: a shape is known "
                         "only when fed; the shapes are compared when the graph is built")
    if x.shape != y.shape:
        return numpy_constant("array_equal", lambda: np.False_, graph=x.graph)
    same = equal(x, y)
    if equal_nan and x.dtype.kind == "f" and y.dtype.kind == "f":
        same = same | (isnan(x) & isnan(y))
    return all_of(same)


# --- real and complex parts ------------------------------------------------------------------


def _real_node(val: Any, who: str) -> Node:
    """``val`` as a node of a real dtype; complex data is refused, saying why."""
    if not isinstance(val, Node):
        data = numpy_value(who, lambda: np.asanyarray(val))
        if data.dtype.kind == "c":
            raise SymgraphError(f"{who}: {val!r} is complex; symgraph has no complex dtypes: "
                                "keep the real and imaginary parts as two real nodes")
        return numpy_constant(who, lambda: data)
    return val


@follows_numpy(np.real)
def real(val: Any) -> Node:
    """The real part, as ``numpy.real``: a node is real (symgraph has no complex dtypes),
    so the node itself.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> sg.real(x) is x
    True
    """
    return _real_node(val, "real")


@follows_numpy(np.imag)
def imag(val: Any) -> Node:
    """The imaginary part, as ``numpy.imag``: zeros of the node's shape and dtype (every
    node is real).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.imag(v), {v: [1.0, -2.0]}).tolist()
    [0.0, 0.0]
    """
    return zeros_like(_real_node(val, "imag"))


@follows_numpy(np.conjugate)
def conj(x: Any) -> Node:
    """The complex conjugate, as ``numpy.conj``: of a real node, the node itself (booleans
    as int8, NumPy's dtype for them).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> sg.conj(x) is x
    True
    """
    node = _real_node(x, "conj")
    return cast(node, np.int8) if node.dtype == np.bool_ else node


conjugate = conj  # NumPy's second name of the ufunc


# --- bins and dot products ---------------------------------------------------------------------


@follows_numpy(np.digitize)
def digitize(x: Any, bins: Any, right: bool = False) -> Node:
    """The index of the bin each value of ``x`` falls in (int64), as ``numpy.digitize``:
    ``bins[i-1] <= x < bins[i]`` for increasing bins (``bins[i-1] < x <= bins[i]`` with
    ``right=True``; decreasing bins count from the other end). A ``searchsorted``,
    so no gradient flows. Bins given as a node may be increasing or decreasing, chosen
    when it runs, as jax.numpy's (their being monotonic is not checked: bins that are not
    give meaningless indices, where NumPy raises).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> sg.evaluate(sg.digitize(v, [0.0, 1.0, 2.5]), {v: [-1.0, 0.0, 1.5, 9.0]}).tolist()
    [0, 1, 2, 3]
    """
    right = flag_arg(right, "right", "digitize")
    if not isinstance(x, Node) and not isinstance(bins, Node):
        return numpy_constant("digitize", lambda: np.digitize(x, bins, right))
    side = "left" if right else "right"  # (NumPy's arguments of searchsorted are swapped)
    if isinstance(bins, Node):
        if bins.ndim != 1:
            raise ShapeError(f"digitize: the bins {describe(bins)} must be 1-D")
        return _digitize_either_way(bins, x, side)
    edges = numpy_value("digitize", lambda: np.asarray(bins))
    if edges.ndim != 1:
        raise ShapeError(f"digitize of {describe(x)}: the bins must be 1-D, got shape "
                         f"{edges.shape}")
    numpy_value("digitize", lambda: np.digitize(np.zeros(0), edges))  # monotonic, or raises
    if edges.size > 1 and edges[0] > edges[-1]:  # decreasing: reversed, counted from the end
        return edges.size - searchsorted(edges[::-1].copy(), x, side)
    return searchsorted(edges, x, side)


def _digitize_either_way(bins: Node, x: Any, side: str) -> Node:
    """``digitize`` into the bins of a node, increasing or decreasing (as jax.numpy's under
    jit, the direction is chosen when it runs: ``bins[-1] >= bins[0]``, or all of them
    increasing if their number is known only then); decreasing bins are reversed and
    counted from the end."""
    n = bins.shape[0]
    if n is not None and n < 2:  # (no bin or one: either way)
        return searchsorted(bins, x, side)
    up = searchsorted(bins, x, side)
    count = n if n is not None else reduce_sum(ones_like(bins, dtype=np.int64))
    down = count - searchsorted(flip(bins), x, side)
    increasing = (greater_equal(bins[-1], bins[0]) if n is not None
                  else all_of(greater_equal(bins[1:], bins[:-1])))
    return where(increasing, up, down)


@follows_numpy(np.vdot)
def vdot(a: Any, b: Any) -> Node:
    """The dot product of the flattened ``a`` and ``b`` (as many elements each), as
    ``numpy.vdot`` of real arrays: a scalar node.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> float(sg.evaluate(sg.vdot(m, m), {m: [[1.0, 2.0], [3.0, 4.0]]}))
    30.0
    """
    x, y = as_nodes([a, b], "vdot")
    if x.size is not None and y.size is not None and x.size != y.size:
        raise ShapeError(f"vdot of {describe(x)} and {describe(y)}: {x.size} and {y.size} "
                         "elements; give as many")
    return dot(ravel(x), ravel(y))

"""Boolean logic, as NumPy's (any nonzero value is true, NaN included): the elementwise
``logical_and logical_or logical_xor logical_not``, which the operators ``& | ^ ~`` of
boolean nodes build (NumPy's bitwise operators on booleans are these), and the
reductions ``all`` and ``any``. Their values are boolean, so no gradient flows through
them; they serve conditions (``sg.while_loop(lambda s: sg.any(err > tol), ...)``) and
masks (``sg.where((x > 0) & (x < 1), x, 0)``).

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, reduce and statistics
modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import Case, Op, boolean, describe, follows_numpy, operands, register
from symgraph.ops.elementwise import apply, binary, unary
from symgraph.ops.reduce import _reduction_cases
from symgraph.ops.statistics import _reduction, _show

__all__ = ["all", "any", "logical_and", "logical_not", "logical_or", "logical_xor"]

Axis = Any  # int, tuple of ints, or None

# --- elementwise ----------------------------------------------------------------------------

# every pairing of true and false, as zeros of both signs, NaN and infinities
_LEFT = np.array([[0.0, -0.0, 1.0, np.nan, 0.0, -np.inf], [2.0, 0.0, np.inf, -1.0, np.nan, 0.5]])
_RIGHT = np.array([[0.0, 3.0, -0.0, 0.0, np.nan, 1.0], [0.0, -2.0, 1.0, np.nan, 0.0, -0.0]])


def _logical_pair(name: str, forward: Any) -> Op:
    # (a boolean value: nothing to differentiate)
    return binary(name, forward, vjp=None, jvp=None, dtype=boolean, cases=lambda build: [
        Case(build, [_LEFT, _RIGHT], order=0),
        Case(build, [_LEFT, np.array([0.0, 1.0, np.nan, 0.0, -0.0, 5.0])], order=0),
        # booleans, as the operators give them: comparisons' results
        Case(lambda a, b: build(a > 0, b < 0.5), [((2, 3), -1.0, 1.0), ((3,), 0.0, 1.0)],
             ref=lambda a, b: forward(a > 0, b < 0.5), order=0)])


LOGICAL_AND = _logical_pair("logical_and", np.logical_and)
LOGICAL_OR = _logical_pair("logical_or", np.logical_or)
LOGICAL_XOR = _logical_pair("logical_xor", np.logical_xor)
LOGICAL_NOT = unary("logical_not", np.logical_not, None, dtype=boolean, order=0)
LOGICAL_NOT.cases.append(Case(lambda x: logical_not(x), [_LEFT], order=0))


def logical_and(a: Any, b: Any) -> Node:
    """Elementwise ``a and b`` (nonzero is true), a boolean node, as ``numpy.logical_and``;
    ``a & b`` of boolean nodes.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     inside = (x > 0) & (x < 1)
    >>> str(inside), sg.evaluate(inside, {x: [-0.5, 0.5, 1.5]}).tolist()
    ('logical_and(x > 0, x < 1)', [False, True, False])
    """
    return apply(LOGICAL_AND, a, b)


def logical_or(a: Any, b: Any) -> Node:
    """Elementwise ``a or b`` (nonzero is true), a boolean node, as ``numpy.logical_or``;
    ``a | b`` of boolean nodes.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate((x < 0) | (x > 1), {x: [-0.5, 0.5, 1.5]}).tolist()
    [True, False, True]
    """
    return apply(LOGICAL_OR, a, b)


def logical_xor(a: Any, b: Any) -> Node:
    """Elementwise ``a != b`` as truth values, a boolean node, as ``numpy.logical_xor``;
    ``a ^ b`` of boolean nodes.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate((x > 0) ^ (x > 1), {x: [-0.5, 0.5, 1.5]}).tolist()
    [False, True, False]
    """
    return apply(LOGICAL_XOR, a, b)


def logical_not(x: Any) -> Node:
    """Elementwise ``not x`` (zero is false), a boolean node, as ``numpy.logical_not``;
    ``~x`` of a boolean node.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate(~(x > 0), {x: [-0.5, 0.0, 1.5]}).tolist()
    [True, True, False]
    """
    return apply(LOGICAL_NOT, x)


def boolean_operator(symbol: str, *values: Any) -> Node:
    """Python's ``& | ^ ~`` of nodes: NumPy's bitwise operators, which on booleans are
    the logical ops above. Integer bits are refused (symgraph has no bitwise ops), and so
    are booleans mixed with numbers, where NumPy's answer would be an integer."""
    # checked before any constant is made: a refused call leaves the graph as it was
    # (a loop: this module's all() is the reduction)
    for value in values:
        dtype = value.dtype if isinstance(value, Node) else np.asarray(value).dtype
        if dtype == np.bool_:
            continue
        what = describe(value) if isinstance(value, Node) else repr(value)
        raise SymgraphError(
            f"{symbol} of {what} (dtype {dtype}): symgraph's {symbol} is logic on booleans "
            "(comparisons, sg.isnan...); for 0/1 values write a * b or 1 - a, for a "
            "condition compare first (x != 0)")
    return apply(_OF_OPERATOR[symbol], *operands(values, symbol))


_OF_OPERATOR = {"&": LOGICAL_AND, "|": LOGICAL_OR, "^": LOGICAL_XOR, "~": LOGICAL_NOT}


# --- reductions ------------------------------------------------------------------------------


# zeros of both signs, NaN (nonzero, so true) and infinities, in rows all-true and not
_TRUTHS = np.array([[1.0, np.nan, -np.inf, 2.0], [0.0, -0.0, 3.0, np.inf]])


def _logical(name: str, forward: Any) -> Op:
    op = register(Op(
        **_show(name), array_api=name,
        impl=lambda x, *, axis, keepdims: forward(x, axis=axis, keepdims=keepdims),
        dtype=boolean, vjp=None, jvp=None,  # a boolean value: nothing to differentiate
    ))
    build = (lambda x, a, k: _reduction(op, x, a, k))
    op.cases = [Case(c.build, c.inputs, c.ref, order=0)
                for c in _reduction_cases(build, forward)] + [
        Case(lambda x, a=a: _reduction(op, x, a, False), [_TRUTHS], order=0,
             ref=lambda x, a=a: forward(x, axis=a)) for a in (None, 0, 1)]
    return op


ALL = _logical("all", np.all)
ANY = _logical("any", np.any)


@follows_numpy(np.all)
def all(x: Any, axis: Axis = None, keepdims: bool = False) -> Node:  # noqa: A001
    """Whether every element over ``axis`` (all axes by default) is nonzero, a boolean
    node, as ``numpy.all``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    ...     ok = sg.all(m > 0, axis=1)
    >>> sg.evaluate(ok, {m: [[1.0, 2.0], [3.0, -1.0]]}).tolist()
    [True, False]
    """
    return _reduction(ALL, x, axis, keepdims)


@follows_numpy(np.any)
def any(x: Any, axis: Axis = None, keepdims: bool = False) -> Node:  # noqa: A001
    """Whether some element over ``axis`` (all axes by default) is nonzero, a boolean
    node, as ``numpy.any``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> bool(sg.evaluate(sg.any(v > 2), {v: [1.0, 5.0, 0.0]}))
    True
    """
    return _reduction(ANY, x, axis, keepdims)

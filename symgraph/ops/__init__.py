"""The op registry and every op constructor.

Owns: the families of ops (``elementwise``, ``reduce``, ``shape``, ``linalg``, ``nn``),
one module each, and :func:`define_op` for users' own ops. Importing this package
registers every op and wires ``Node``'s operators to the constructors.

Imports: ``symgraph.graph`` and its own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from symgraph import graph as _graph
from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import (
    OPS,
    Case,
    Op,
    broadcast_rule,
    const,
    inexact,
    make,
    operands,
    register,
    var,
)
from symgraph.ops.elementwise import (
    abs, add, cast, cos, divide, exp, expm1, greater, greater_equal, less, less_equal, log, log1p,
    maximum, minimum, multiply, negative, power, relu, sigmoid, sign, sin, softplus, sqrt,
    square, stop_gradient, subtract, tan, tanh, where,
)
from symgraph.ops.linalg import dot, matmul
from symgraph.ops.nn import log_softmax, logsumexp, softmax
from symgraph.ops.reduce import broadcast_to, max, mean, sum, sum_to, zeros_like
from symgraph.ops.shape import batch_elementwise, concatenate, expand_dims, getitem, reshape, stack, transpose


def define_op(
    name: str,
    forward: Callable[..., Any],
    vjp: Sequence[Callable[..., Node | None] | None] | None = None,
    jvp: Sequence[Callable[..., Node | None] | None] | None = None,
    shape: Callable[[tuple, dict], tuple] | None = None,
    dtype: Callable[[tuple, dict], Any] | None = None,
    cases: list[Case] | None = None,
) -> Callable[..., Node]:
    """Declare a new op in one place and get its constructor.

    ``forward(*arrays)`` computes it with NumPy; ``vjp`` has one rule per input,
    ``rule(g, out)`` returning that input's share of the cotangent ``g`` as symgraph nodes
    (``out`` is the op's node: ``out.inputs`` are its arguments), so the derivative is
    differentiable again; ``jvp`` likewise for forward mode, ``rule(t, out)``. Shapes
    default to NumPy broadcasting and the dtype to float promotion.

    >>> import numpy as np, symgraph as sg
    >>> cube = sg.define_op(
    ...     "cube_example", lambda x: x ** 3,
    ...     vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])],
    ...     jvp=[lambda t, out: t * 3 * sg.square(out.inputs[0])])
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     dy = sg.grad(cube(x), x)
    >>> float(sg.evaluate(dy, {x: 2.0}))
    12.0
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise SymgraphError(f"sg.define_op: the name must be an identifier string, got {name!r}")
    if not callable(forward):
        raise SymgraphError(f"sg.define_op({name!r}): forward must be a function of arrays")
    op = register(Op(
        name=name,
        impl=forward,
        shape=shape or broadcast_rule,
        dtype=dtype or inexact,
        vjp=tuple(vjp) if vjp is not None else None,
        jvp=tuple(jvp) if jvp is not None else None,
        cases=list(cases or []),
        batch=batch_elementwise if shape is None else None,
    ))

    def constructor(*args: Any) -> Node:
        return make(op, operands(args, name))

    constructor.__name__ = name
    constructor.__doc__ = f"The user-declared op {name!r}."
    constructor.op = op  # type: ignore[attr-defined]
    return constructor


def _formula(node: Node) -> str:
    from symgraph.formula import formula

    return formula(node)


def _render_svg(node: Node) -> str:
    from symgraph.render import to_svg

    return to_svg(node)


class _Operators:
    """What ``Node``'s operator methods call (kept here so graph.py imports no ops)."""

    add = staticmethod(add)
    subtract = staticmethod(subtract)
    multiply = staticmethod(multiply)
    divide = staticmethod(divide)
    power = staticmethod(power)
    matmul = staticmethod(matmul)
    negative = staticmethod(negative)
    less = staticmethod(less)
    less_equal = staticmethod(less_equal)
    greater = staticmethod(greater)
    greater_equal = staticmethod(greater_equal)
    getitem = staticmethod(getitem)
    transpose = staticmethod(transpose)
    sum = staticmethod(sum)
    mean = staticmethod(mean)
    max = staticmethod(max)
    reshape = staticmethod(reshape)
    formula = staticmethod(_formula)
    render_svg = staticmethod(_render_svg)


_graph._OPS = _Operators

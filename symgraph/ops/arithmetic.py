"""Arithmetic: ``+ - * / **``, unary minus, ``maximum`` and ``minimum``.

Each op is declared once (forward, derivative rules with their math, display, cases)
through ``symgraph.ops.elementwise``'s helpers.

Imports: ``symgraph.graph``, ``symgraph.ops.core``, ``symgraph.ops.shape``,
``symgraph.ops.elementwise``, ``symgraph.ops.folding`` (a constant exponent's fill) and
``symgraph.ops.functions`` (``log`` in power's rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.errors import ValueRefused
from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import (
    FLOAT64_RULES,
    Case,
    Op,
    const,
    describe,
    first_dtype,
    inexact,
    promote,
    register,
    same_shape,
)
from symgraph.ops.elementwise import (
    PREC_ADD,
    PREC_MUL,
    PREC_NEG,
    PREC_POW,
    _binary_cases,
    _cases,
    apply,
    binary,
    cast,
    where,
)
from symgraph.ops.folding import fill_value
from symgraph.ops.functions import log
from symgraph.ops.shape import batch_elementwise

ArrayLike = Any  # a Node, a Python number or an array


ADD = binary(
    "add", np.add,
    vjp=(lambda g, out: g, lambda g, out: g),  # d(a+b)/da = d(a+b)/db = 1
    jvp=(lambda t, out: t, lambda t, out: t),
    infix="+", prec=PREC_ADD, cases=_binary_cases,
)
SUBTRACT = binary(
    "subtract", np.subtract,
    vjp=(lambda g, out: g, lambda g, out: -g),  # d(a-b)/da = 1, d(a-b)/db = -1
    jvp=(lambda t, out: t, lambda t, out: -t),
    infix="-", prec=PREC_ADD, cases=_binary_cases,
)


def _multiply_vjp_second(g: Node, out: Node) -> Node:
    """d(ab)/db = a, as a*g; for a*a as g*a, the same node as the first contribution."""
    a, b = out.inputs
    return g * a if a is b else a * g


MULTIPLY = binary(
    "multiply", np.multiply,
    # d(ab)/da = b, d(ab)/db = a; for a*a both contributions are the one node g*a
    vjp=(lambda g, out: g * out.inputs[1], _multiply_vjp_second),
    jvp=(lambda t, out: t * out.inputs[1], _multiply_vjp_second),
    infix="*", prec=PREC_MUL, cases=_binary_cases,
)
DIVIDE = binary(
    "divide", np.true_divide,
    # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(a/b)/b
    vjp=(lambda g, out: g / out.inputs[1], lambda g, out: -(g * out) / out.inputs[1]),
    jvp=(lambda t, out: t / out.inputs[1], lambda t, out: -(t * out) / out.inputs[1]),
    infix="/", prec=PREC_MUL, dtype=inexact, latex=r"\frac{{{0}}}{{{1}}}", latex_atom=True,
    cases=lambda build: _binary_cases(build, low2=0.5, high2=2.0),
)


def _power_vjp_base(g: Node, out: Node) -> Node | None:
    """d(a^b)/da = b a^(b-1), and 0 where b = 0 (not 0 * 0^-1 = nan at a = 0).

    Where a = b = 0 the exponent b-1 is replaced by 0, so b a^0 = 0; a ``where`` masking
    the result instead would leave a nan that comes back as 0 * inf in the next
    derivative. Elsewhere the exponent stays b-1, so derivatives in b are exact, b = 0
    included. A constant b is folded: no guard when it has no zero (``3*x**2`` as
    before), no gradient when it is all zeros. An integer b is taken in the result's float
    dtype first: b-1 in its own would wrap (uint8 0 - 1 is 255, and 0 * x**255 is nan for
    |x| > 16; int8 -128 - 1 is 127).
    """
    base, exponent = out.inputs
    if exponent.dtype.kind not in "fc":
        if out.dtype.kind not in "fc":
            return None  # an integer power: integers carry no derivative
        exponent = (const(exponent.attrs["value"].astype(out.dtype), graph=out.graph)
                    if exponent.op == "const" else cast(exponent, out.dtype))
    if exponent.op != "const":
        lowered = exponent - 1
        safe = where(base, lowered, where(exponent, lowered, 0))
        return g * (exponent * base ** safe)
    value = exponent.attrs["value"]
    zero = value == 0
    if zero.all():
        return None
    if zero.any():
        safe = const(np.where(zero, 0, value - 1).astype(value.dtype), graph=out.graph)
        return g * (exponent * base ** safe)
    return g * (exponent * base ** (exponent - 1))


def _power_vjp_exponent(g: Node, out: Node) -> Node:
    """d(a^b)/db = a^b log(a), and 0 where a = 0 (a^b = 0 there for b > 0): log of a safe
    a (1 where a = 0), as JAX does, so the next derivative meets no 0 * inf either."""
    base, _ = out.inputs
    if base.op == "const":
        value = base.attrs["value"]
        if (value == 0).any():
            base = const(np.where(value == 0, 1, value).astype(value.dtype), graph=out.graph)
        return g * (out * log(base))
    return g * (out * log(where(base, base, 1)))


_INT8 = np.dtype(np.int8)


def _power_dtype(inputs: tuple, attrs: dict) -> np.dtype:
    """NumPy 2's dtype of ``np.power``: the operands' promotion, so an integer power stays
    an integer (exact, wrapping on overflow as NumPy's does) and ``int ** float`` is a
    float; two booleans compute in int8 (NumPy's power has no boolean loop).

    NumPy raises at run time for an integer to a negative integer power; a constant such
    exponent raises here instead, when the node is built (every construction of a power
    comes through this rule, rewrites' included).
    """
    dtype = promote(inputs, attrs)
    if dtype.kind not in "biu":  # a float power (nearly all): nothing to check
        return dtype
    if dtype.kind == "b":
        return _INT8
    base, exponent = inputs
    if exponent.op == "const" and exponent.dtype.kind == "i":
        value = exponent.attrs["value"]
        first = fill_value(value)
        if bool(first < 0) if first is not None else bool((value < 0).any()):
            raise SymgraphError(
                f"{describe(base)} ** {describe(exponent)}: an integer to a negative integer "
                f"power is not an integer, and NumPy refuses it (dtype {dtype}); cast the base "
                "to float first, sg.cast(base, 'float64') ** exponent (or write the base as a "
                "float, 2.0 ** k)"
            )
    return dtype


def _integer_cases(build: Any) -> list[Case]:
    """Integer powers (exact, wrapping as NumPy's: 39**12 overflows int64, int8 wraps at
    100**3) and integer exponents of floats, of integers fed at run time or fixed."""
    int8 = np.array([[-7, 5, 100], [0, 1, -128]], dtype=np.int8)
    return [
        Case(build, [((2, 3), "int", 40), ((3,), "int", 13)], order=0),
        Case(lambda a: build(a, 3), [int8], ref=lambda a: np.power(a, 3), order=0),
        Case(lambda a: build(2, a), [np.array([0, 1, 62, 63, 64, 65])],
             ref=lambda a: np.power(2, a), order=0),
        Case(build, [((2, 3), 0.5, 2.0), ((3,), "int", 5)]),
        Case(build, [((2, 3), "int", 5), ((3,), 0.5, 2.0)]),
    ]


FLOAT64_RULES.add(_power_dtype)  # (make's shortcut for float64 operands)

NEGATIVE_POWER = ("an integer to a negative integer power is not allowed (NumPy raises "
                  "ValueError); cast the base to float, sg.cast(base, 'float64') ** exponent")


def _power_impl(a: Any, b: Any) -> Any:
    try:
        return np.power(a, b)
    except ValueError:  # NumPy's only ValueError here: integers to a negative power
        raise ValueRefused(NEGATIVE_POWER) from None


POWER = binary(
    "power", _power_impl,
    vjp=(_power_vjp_base, _power_vjp_exponent),
    jvp=(lambda t, out: _power_vjp_base(t, out), lambda t, out: _power_vjp_exponent(t, out)),
    infix="**", prec=PREC_POW, dtype=_power_dtype, latex="{0:base}^{{{1}}}", parse=True,
    cases=lambda build: _binary_cases(build, 0.5, 2.0, -1.5, 2.5)
    + [Case(lambda a: build(a, 3), [((2,), -2.0, 2.0)], ref=lambda a: a**3)]
    + _integer_cases(build),
)


def _ties_to_first(out: Node) -> Node:
    a, b = out.inputs
    return a >= b if out.op == "maximum" else a <= b


MAXIMUM = binary(
    "maximum", np.maximum,
    # the gradient goes to the first argument where the two are equal
    vjp=(lambda g, out: where(_ties_to_first(out), g, 0),
         lambda g, out: where(_ties_to_first(out), 0, g)),
    jvp=(lambda t, out: where(_ties_to_first(out), t, 0),
         lambda t, out: where(_ties_to_first(out), 0, t)),
    cases=lambda build: _binary_cases(build, order=1), parse=True,
)
MINIMUM = binary(
    "minimum", np.minimum,
    vjp=MAXIMUM.vjp, jvp=MAXIMUM.jvp,
    cases=lambda build: _binary_cases(build, order=1), parse=True,
)

# a+b == b+a and a*b == b*a; maximum and minimum too, but for the sign of a zero on a tie
# (NumPy returns the second operand): a rewrite that swaps them checks that per match
ADD.commutative = MULTIPLY.commutative = MAXIMUM.commutative = MINIMUM.commutative = True


NEGATIVE = register(Op(
    name="negative", impl=np.negative, shape=same_shape, dtype=first_dtype,
    vjp=(lambda g, out: -g,), jvp=(lambda t, out: -t,),  # d(-x)/dx = -1
    batch=batch_elementwise, array_api="negative",
    infix="-", prec=PREC_NEG,
))
NEGATIVE.cases = _cases(lambda x: -x)


def add(a: ArrayLike, b: ArrayLike) -> Node:
    """``a + b`` with NumPy broadcasting.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = sg.add(x, 1.0)
    >>> y.shape, str(y)
    ((3,), 'x + 1')
    """
    return apply(ADD, a, b)


def subtract(a: ArrayLike, b: ArrayLike) -> Node:
    """``a - b`` with NumPy broadcasting.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x"), sg.var("y")
    >>> str(sg.subtract(x, y - 1))
    'x - (y - 1)'
    """
    return apply(SUBTRACT, a, b)


def multiply(a: ArrayLike, b: ArrayLike) -> Node:
    """``a * b`` (elementwise) with NumPy broadcasting.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", dtype="float32")
    ...     y = sg.multiply(x, 2.0)
    >>> y.dtype.name
    'float32'
    """
    return apply(MULTIPLY, a, b)


def divide(a: ArrayLike, b: ArrayLike) -> Node:
    """``a / b`` (true division) with NumPy broadcasting.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.divide(1, 1 + sg.exp(-x)))
    '1/(1 + exp(-x))'
    """
    return apply(DIVIDE, a, b)


def power(a: ArrayLike, b: ArrayLike) -> Node:
    """``a ** b``; its derivative in ``b`` is ``a**b * log(a)`` (``a > 0``, and 0 at
    ``a = 0``); in ``a`` it is ``b * a**(b-1)`` (0 where ``b = 0``, even at ``a = 0``).

    Dtypes are ``np.power``'s (NumPy 2): an integer to an integer power is an integer,
    exact and wrapping on overflow as NumPy's (a Python int takes the other operand's
    dtype: ``int8_node ** 2`` is int8); ``int ** float`` is a float; two booleans give
    int8 (``np.power``, not the ``bool_array ** 2`` shortcut of NumPy's operator, which is
    ``np.square``). Integers have no derivative.

    An integer to a negative integer power has no integer value, and NumPy raises. A
    constant exponent is checked when the node is built (``SymgraphError``: cast the base
    to float). An exponent that is a node is checked on its values when the graph runs:
    ``sg.evaluate`` and every backend raise ``SymgraphError`` naming the node (jax, which
    cannot raise inside ``jit``, right after the call; ``jnp.power`` alone would give 0),
    so no backend returns a number NumPy would refuse. Building such powers keeps
    ``2 ** k`` exact for an integer ``k``; an unsigned or boolean exponent is never
    negative.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     i = sg.var("i", shape=(1,), dtype="int64")
    >>> str(sg.power(x, 3))
    'x**3'
    >>> y = i ** 2
    >>> y.dtype.name, sg.evaluate(y, {i: [123456789]}).tolist()
    ('int64', [15241578750190521])
    >>> try:
    ...     i ** -1
    ... except sg.SymgraphError as e:
    ...     print(str(e)[:40])
    'i' (shape (1,)) ** '-1' (shape ()): an
    """
    return apply(POWER, a, b)


def maximum(a: ArrayLike, b: ArrayLike) -> Node:
    """Elementwise maximum; where ``a == b`` the gradient goes to ``a``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.maximum(x, 0))
    'maximum(x, 0)'
    """
    return apply(MAXIMUM, a, b)


def minimum(a: ArrayLike, b: ArrayLike) -> Node:
    """Elementwise minimum; where ``a == b`` the gradient goes to ``a``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.minimum(x, 1))
    'minimum(x, 1)'
    """
    return apply(MINIMUM, a, b)


def negative(x: ArrayLike) -> Node:
    """``-x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.negative(x + 1))
    '-(x + 1)'
    """
    return apply(NEGATIVE, x)

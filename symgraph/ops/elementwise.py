"""Elementwise ops: arithmetic, comparisons, ``where`` and the unary functions.

Each op is declared once: forward (a NumPy ufunc), derivative, shape rule (NumPy
broadcasting), dtype rule, display and test cases. A unary op gives its local derivative
``d(x, y)`` (``y`` is the op's own output node, reused as in Fig. 6.10 of Goodfellow et
al.); ``vjp = g * d`` and ``jvp = t * d`` follow. Broadcasting in derivatives is undone
by the ``grad`` driver, so no rule here cares about shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError, _build_context
from symgraph.ops.core import (
    FLOAT64,
    Case,
    Op,
    _brief,
    _check_dtype,
    boolean,
    broadcast_rule,
    const,
    describe,
    first_dtype,
    inexact,
    is_const,
    latex_function,
    make,
    operands,
    operatorname,
    promote,
    register,
    same_shape,
)
from symgraph.ops.shape import batch_elementwise

ArrayLike = Any  # a Node, a Python number or an array


def apply(op: Op, *args: ArrayLike) -> Node:
    """Build ``op(*args)``; inside a derivative builder, skip trivial identities and fold
    constants, so derivative graphs hold no ``x*1``, ``x+0`` or ``2-1`` nodes."""
    inputs = args
    for n in args:  # float64 nodes, nearly every call, need no conversion or cast
        if type(n) is not Node or n.dtype is not FLOAT64:
            inputs = float_inputs(op, operands(args, op.name))
            break
    if _build_context.get().simplify:  # in_derivative(), inlined: runs for every node
        for n in inputs:
            if n.op == "const":  # identities and folding need a constant operand
                return _simplified(op, inputs)
    return make(op, inputs)


def _simplified(op: Op, inputs: Sequence[Node]) -> Node:
    shortcut = _identity(op.name, inputs)
    if shortcut is not None:
        return shortcut
    if _all_small_consts(inputs):
        node = make(op, inputs)
        return const(_fold(op, inputs), dtype=node.dtype, graph=node.graph)
    return make(op, inputs)


def _all_small_consts(inputs: Sequence[Node]) -> bool:
    for n in inputs:  # a plain loop: this runs for every derivative node
        if n.op != "const" or n.attrs["value"].size > 256:
            return False
    return True


# NumPy raises for these on booleans (``-True``, ``True - False``, ``sign(True)``).
_NO_BOOLEANS = {"negative": "-x", "subtract": "a - b", "sign": "sign(x)"}


def float_inputs(op: Op, inputs: list[Node]) -> list[Node]:
    """The inputs of ``op``, cast to float64 where its dtype rule promises float64.

    NumPy computes ``sin(bool)`` in float16 and ``int8 / int8`` in float32, but the
    ``inexact`` rule declares float64 (and a node's dtype must be what it computes), so
    the cast is made explicit in the graph. Booleans where NumPy has no arithmetic raise.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     flag = sg.var("flag", dtype="bool")
    ...     y = sg.tanh(flag)
    >>> str(y), y.dtype.name, sg.evaluate(y, {flag: True}).dtype.name
    ('tanh(cast(flag, dtype=<f8))', 'float64', 'float64')
    """
    if op.dtype is inexact and not any(n.dtype.kind in "fc" for n in inputs):
        return [cast(n, FLOAT64) for n in inputs]
    if op.name in _NO_BOOLEANS and all(n.dtype == np.bool_ for n in inputs):
        raise SymgraphError(
            f"{_NO_BOOLEANS[op.name]} is not defined for the boolean node "
            f"{describe(inputs[0])}; use sg.where(cond, 1.0, 0.0) or sg.cast(x, 'float64') "
            "for numbers"
        )
    return inputs


def _fold(op: Op, inputs: Sequence[Node]) -> np.ndarray:
    with np.errstate(all="ignore"):
        return op.impl(*[n.attrs["value"] for n in inputs])


def _identity(name: str, inputs: Sequence[Node]) -> Node | None:
    """``x*1 -> x``, ``1*x -> x``, ``x+0``, ``0+x``, ``x-0``, ``x/1``, ``x**1``: only when
    the kept operand already has the result's shape and dtype."""
    if len(inputs) != 2:
        return None
    a, b = inputs
    if name == "multiply":
        keep = a if is_const(b, 1) else b if is_const(a, 1) else None
    elif name == "add":
        keep = a if is_const(b, 0) else b if is_const(a, 0) else None
    elif name in ("subtract",):
        keep = a if is_const(b, 0) else None
    elif name in ("divide", "power"):
        keep = a if is_const(b, 1) else None
    else:
        keep = None
    if keep is None:
        return None
    other = b if keep is a else a
    if broadcast_rule((keep, other), {}) == keep.shape and promote((keep, other), {}) == keep.dtype:
        return keep
    return None


def _cases(build: Any, low: float = -2.0, high: float = 2.0, order: int = 2, ref: Any = None):
    """The standard cases of a unary op: a scalar and a matrix."""
    return [
        Case(build, [((), low, high)], ref, order),
        Case(build, [((2, 3), low, high)], ref, order),
    ]


def _binary_cases(build: Any, low: float = -2.0, high: float = 2.0, low2: float | None = None,
                  high2: float | None = None, order: int = 2, ref: Any = None):
    """Scalar-scalar, matrix-matrix and two broadcasting cases."""
    b = ((low if low2 is None else low2), (high if high2 is None else high2))
    return [
        Case(build, [((), low, high), ((), *b)], ref, order),
        Case(build, [((2, 3), low, high), ((2, 3), *b)], ref, order),
        Case(build, [((2, 3), low, high), ((3,), *b)], ref, order),
        Case(build, [((), low, high), ((2, 1), *b)], ref, order),
    ]


def unary(name: str, forward: Any, d: Any, low: float = -2.0, high: float = 2.0,
          dtype: Any = inexact, order: int = 2, ref: Any = None, latex: Any = None,
          latex_atom: bool = False, parse: bool = True) -> Op:
    """Declare a unary elementwise op from its local derivative ``d(x, y) = dy/dx``
    (its array-API name is its own where NumPy's function of that name is its forward)."""
    op = Op(
        name=name,
        impl=forward,
        shape=same_shape,
        dtype=dtype,
        vjp=None if d is None else (lambda g, out: g * d(out.inputs[0], out),),
        jvp=None if d is None else (lambda t, out: t * d(out.inputs[0], out),),
        batch=batch_elementwise,
        array_api=name if getattr(np, name, None) is forward else None,
        latex=latex or operatorname(name), latex_atom=latex_atom, parse=parse,
    )
    op.cases = _cases(lambda x: apply(op, x), low, high, order, ref)
    return register(op)


def binary(name: str, forward: Any, vjp: Any, jvp: Any, infix: str | None = None,
           prec: int = 100, dtype: Any = promote, cases: Any = None, array_api: str | None = None,
           latex: Any = None, latex_atom: bool = False, parse: bool = False) -> Op:
    """Declare a binary elementwise op (NumPy broadcasting); infix ops print as ``a + b``."""
    op = Op(name=name, impl=forward, shape=broadcast_rule, dtype=dtype, vjp=vjp, jvp=jvp,
            infix=infix, prec=prec, batch=batch_elementwise, array_api=array_api or name,
            latex=latex or (None if infix else operatorname(name)), latex_atom=latex_atom,
            parse=parse)
    op.cases = cases(lambda a, b: apply(op, a, b)) if cases else []
    return register(op)


# Precedences for infix printing (higher binds tighter).
PREC_COMPARE, PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW = 5, 10, 20, 30, 40

# --- arithmetic --------------------------------------------------------------------------------

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
    before), no gradient when it is all zeros.
    """
    base, exponent = out.inputs
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


POWER = binary(
    "power", lambda a, b: np.power(a, b),
    vjp=(_power_vjp_base, _power_vjp_exponent),
    jvp=(lambda t, out: _power_vjp_base(t, out), lambda t, out: _power_vjp_exponent(t, out)),
    infix="**", prec=PREC_POW, dtype=inexact, latex="{0:base}^{{{1}}}", parse=True,
    cases=lambda build: _binary_cases(build, 0.5, 2.0, -1.5, 2.5)
    + [Case(lambda a: build(a, 3), [((2,), -2.0, 2.0)], ref=lambda a: a**3)],
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


def _compare(name: str, forward: Any, symbol: str) -> Op:
    # No gradient flows through a comparison: its output is boolean.
    return binary(name, forward, vjp=None, jvp=None, infix=symbol, prec=PREC_COMPARE,
                  dtype=boolean,
                  cases=lambda build: [Case(build, [((2, 3), -1.0, 1.0), ((3,), -1.0, 1.0)],
                                            order=0)])


LESS = _compare("less", np.less, "<")
LESS_EQUAL = _compare("less_equal", np.less_equal, "<=")
GREATER = _compare("greater", np.greater, ">")
GREATER_EQUAL = _compare("greater_equal", np.greater_equal, ">=")


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

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.power(x, 3))
    'x**3'
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


def less(a: ArrayLike, b: ArrayLike) -> Node:
    """``a < b`` as a boolean node (for ``where``; no gradient flows through it)."""
    return apply(LESS, a, b)


def less_equal(a: ArrayLike, b: ArrayLike) -> Node:
    """``a <= b`` as a boolean node (for ``where``; no gradient flows through it)."""
    return apply(LESS_EQUAL, a, b)


def greater(a: ArrayLike, b: ArrayLike) -> Node:
    """``a > b`` as a boolean node (for ``where``; no gradient flows through it)."""
    return apply(GREATER, a, b)


def greater_equal(a: ArrayLike, b: ArrayLike) -> Node:
    """``a >= b`` as a boolean node (for ``where``; no gradient flows through it)."""
    return apply(GREATER_EQUAL, a, b)


# --- where ---------------------------------------------------------------------------------


def _where_dtype(inputs: tuple, attrs: dict) -> np.dtype:
    return promote(inputs[1:], attrs)


WHERE = register(
    Op(
        name="where",
        impl=np.where,
        shape=broadcast_rule,
        dtype=_where_dtype,
        # d where(c, a, b)/da = [c], d/db = [not c]; nothing flows to the condition
        vjp=(None, lambda g, out: where(out.inputs[0], g, 0),
             lambda g, out: where(out.inputs[0], 0, g)),
        jvp=(None, lambda t, out: where(out.inputs[0], t, 0),
             lambda t, out: where(out.inputs[0], 0, t)),
        batch=batch_elementwise,
        array_api="where",
        latex=operatorname("where"),
    )
)
WHERE.cases = [
    Case(lambda a, b: where(a > b, a * b, b), [((2, 3), -2.0, 2.0), ((3,), -2.0, 2.0)],
         ref=lambda a, b: np.where(a > b, a * b, b)),
    Case(lambda a: where(a > 0.5, a, a * a), [((), -2.0, 2.0)],
         ref=lambda a: np.where(a > 0.5, a, a * a)),
]


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Node:
    """``a`` where ``condition`` holds, else ``b`` (NumPy's ``where``, broadcast).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.where(x > 0, x, 0.1 * x)   # leaky ReLU
    >>> float(sg.evaluate(y, {x: -2.0}))
    -0.2
    """
    cond = operands([condition], "where")[0]
    # numbers take the other branch's dtype
    a_node, b_node = operands([a, b], "where", graph=cond.graph)
    if cond.dtype != np.bool_:
        cond = apply(NOT_EQUAL, cond, 0)
    inputs = [cond, a_node, b_node]
    return make(WHERE, inputs)


NOT_EQUAL = _compare("not_equal", np.not_equal, "!=")


# --- unary functions --------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of -|x| never overflows; both branches are exact in their half.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.result_type(x, 0.5))


NEGATIVE = register(Op(
    name="negative", impl=np.negative, shape=same_shape, dtype=first_dtype,
    vjp=(lambda g, out: -g,), jvp=(lambda t, out: -t,),  # d(-x)/dx = -1
    batch=batch_elementwise, array_api="negative",
    infix="-", prec=PREC_NEG,
))
NEGATIVE.cases = _cases(lambda x: -x)
EXP = unary("exp", np.exp, lambda x, y: y, latex=latex_function(r"\exp"))  # d/dx exp(x) = exp(x)
LOG = unary(  # d/dx log(x) = 1/x
    "log", np.log, lambda x, y: 1 / x, low=0.2, high=3.0, latex=latex_function(r"\log"),
)
SIN = unary(  # d/dx sin(x) = cos(x)
    "sin", np.sin, lambda x, y: cos(x), latex=latex_function(r"\sin"),
)
COS = unary(  # d/dx cos(x) = -sin(x)
    "cos", np.cos, lambda x, y: -sin(x), latex=latex_function(r"\cos"),
)
TAN = unary(  # 1 + tan^2
    "tan", np.tan, lambda x, y: 1 + square(y), low=-1.2, high=1.2, latex=latex_function(r"\tan"),
)
TANH = unary(  # d/dx tanh(x) = 1 - tanh(x)^2
    "tanh", np.tanh, lambda x, y: 1 - square(y), latex=latex_function(r"\tanh"),
)
SIGMOID = unary(  # d/dx s(x) = s(x) (1 - s(x))
    "sigmoid", _sigmoid, lambda x, y: y * (1 - y), low=-4.0, high=4.0,
    ref=lambda x: 1 / (1 + np.exp(-x)), latex=latex_function(r"\sigma"),
)
RELU = unary(  # relu'(x) = [x > 0], so relu'(0) = 0
    "relu", lambda x: np.maximum(x, 0), lambda x, y: where(x > 0, 1, 0), order=1,
    ref=lambda x: x * (x > 0),
)
SOFTPLUS = unary(  # d/dx log(1 + e^x) = sigmoid(x)
    "softplus", lambda x: np.logaddexp(0, x), lambda x, y: sigmoid(x), low=-4.0, high=4.0,
    ref=lambda x: np.log1p(np.exp(x)),
)
SQRT = unary("sqrt", np.sqrt, lambda x, y: 0.5 / y, low=0.2, high=3.0,
             latex=r"\sqrt{{{0}}}", latex_atom=True)  # 1/(2 sqrt(x))
SIGN = unary("sign", np.sign, None, dtype=first_dtype, order=0)  # piecewise constant
ABS = unary("abs", np.abs, lambda x, y: sign(x), dtype=first_dtype, order=1,
            latex=r"\left|{0}\right|", latex_atom=True)  # abs'(0) = 0
SQUARE = unary("square", np.square, lambda x, y: 2 * x,  # 2x
               dtype=lambda inputs, attrs: np.dtype("int8") if inputs[0].dtype == np.bool_
               else inputs[0].dtype,  # as NumPy: square(bool) is int8
               latex="{0:base}^{{2}}")
LOG1P = unary("log1p", np.log1p, lambda x, y: 1 / (1 + x), low=-0.5, high=2.0)
EXPM1 = unary("expm1", np.expm1, lambda x, y: y + 1)  # d/dx (e^x - 1) = e^x
STOP_GRADIENT = unary("stop_gradient", lambda x: x, None, dtype=first_dtype, order=0)


def _cast_dtype(inputs: tuple, attrs: dict) -> np.dtype:
    return np.dtype(attrs["dtype"])


def _cast_vjp(g: Node, out: Node) -> Node | None:
    """Between float dtypes the identity, in another precision; to or from an integer or
    boolean dtype piecewise constant, so nothing flows (as in JAX and PyTorch)."""
    source = out.inputs[0].dtype
    return cast(g, source) if out.dtype.kind in "fc" and source.kind in "fc" else None


def _cast_jvp(t: Node, out: Node) -> Node | None:
    source = out.inputs[0].dtype
    return cast(t, out.dtype) if out.dtype.kind in "fc" and source.kind in "fc" else None


CAST = register(Op(
    name="cast", impl=lambda x, *, dtype: np.asarray(x).astype(dtype), shape=same_shape,
    dtype=_cast_dtype, show_attrs=("dtype",), batch=batch_elementwise,
    latex=operatorname("cast"),
    vjp=(_cast_vjp,), jvp=(_cast_jvp,),
))
CAST.cases = _cases(lambda x: cast(cast(x, "float32"), "float64"), order=0,
                    ref=lambda x: x.astype(np.float32).astype(np.float64))


def cast(x: ArrayLike, dtype: Any) -> Node:
    """``x`` converted to ``dtype`` (``numpy.ndarray.astype``). No derivative flows
    through a cast to or from an integer or boolean dtype (it is piecewise constant).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> sg.cast(x, "float32").dtype.name
    'float32'
    """
    (x,) = operands([x], "cast")
    dtype = _check_dtype(dtype, f"cast of {describe(x)}")
    if dtype == x.dtype:
        return x
    return make(CAST, [x], {"dtype": dtype.str})


def negative(x: ArrayLike) -> Node:
    """``-x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.negative(x + 1))
    '-(x + 1)'
    """
    return apply(NEGATIVE, x)


def exp(x: ArrayLike) -> Node:
    """Elementwise ``e**x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.exp(x), {x: 0.0}))
    1.0
    """
    return apply(EXP, x)


def log(x: ArrayLike) -> Node:
    """Elementwise natural logarithm.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.log(x), {x: 1.0}))
    0.0
    """
    return apply(LOG, x)


def sin(x: ArrayLike) -> Node:
    """Elementwise sine.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     w = sg.var("w")
    >>> str(sg.sin(sg.sin(w)))
    'sin(sin(w))'
    """
    return apply(SIN, x)


def cos(x: ArrayLike) -> Node:
    """Elementwise cosine.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.cos(x), {x: 0.0}))
    1.0
    """
    return apply(COS, x)


def tan(x: ArrayLike) -> Node:
    """Elementwise tangent.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.tan(x), {x: 0.0}))
    0.0
    """
    return apply(TAN, x)


def tanh(x: ArrayLike) -> Node:
    """Elementwise hyperbolic tangent.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.grad(sg.tanh(x), x))
    '1 - square(tanh(x))'
    """
    return apply(TANH, x)


def sigmoid(x: ArrayLike) -> Node:
    """Elementwise logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.sigmoid(x), {x: 0.0}))
    0.5
    """
    return apply(SIGMOID, x)


def relu(x: ArrayLike) -> Node:
    """Elementwise ``max(x, 0)``; its derivative at 0 is 0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.grad(sg.relu(x), x), {x: 0.0}))
    0.0
    """
    return apply(RELU, x)


def softplus(x: ArrayLike) -> Node:
    """Elementwise ``log(1 + exp(x))``, stable for large ``|x|``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.softplus(x), {x: 1000.0}))
    1000.0
    """
    return apply(SOFTPLUS, x)


def sqrt(x: ArrayLike) -> Node:
    """Elementwise square root.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.sqrt(x), {x: 4.0}))
    2.0
    """
    return apply(SQRT, x)


def abs(x: ArrayLike) -> Node:  # noqa: A001 - NumPy's name
    """Elementwise absolute value; its derivative at 0 is 0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.grad(sg.abs(x), x), {x: -3.0}))
    -1.0
    """
    return apply(ABS, x)


def sign(x: ArrayLike) -> Node:
    """Elementwise sign (-1, 0 or 1); its derivative is 0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.sign(x), {x: -3.0}))
    -1.0
    """
    return apply(SIGN, x)


def square(x: ArrayLike) -> Node:
    """Elementwise ``x**2``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.grad(sg.square(x), x))
    '2*x'
    """
    return apply(SQUARE, x)


def log1p(x: ArrayLike) -> Node:
    """Elementwise ``log(1 + x)``, accurate for small ``x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.log1p(x), {x: 1e-20}))
    1e-20
    """
    return apply(LOG1P, x)


def expm1(x: ArrayLike) -> Node:
    """Elementwise ``exp(x) - 1``, accurate for small ``x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.expm1(x), {x: 1e-20}))
    1e-20
    """
    return apply(EXPM1, x)


def stop_gradient(x: ArrayLike) -> Node:
    """``x`` itself, but no gradient flows through it (to its input).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x * sg.stop_gradient(x)
    >>> float(sg.evaluate(sg.grad(y, x), {x: 3.0}))   # only the first factor counts
    3.0
    """
    return apply(STOP_GRADIENT, x)

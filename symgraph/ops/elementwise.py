"""Elementwise ops: how they are declared and built, and the ops the others build on.

Owns: :func:`apply` (every elementwise node is built through it: dtype promotion, and
inside a derivative builder the exact identities ``x*1``, ``x+0`` and constant folding),
the declaration helpers :func:`unary` and :func:`binary` with their standard test cases,
the comparisons (``less less_equal greater greater_equal equal not_equal``), ``where``
and ``cast``. The arithmetic ops live in ``symgraph.ops.arithmetic``, the unary functions
in ``symgraph.ops.functions``.

Each op is declared once: forward (a NumPy ufunc), derivative, shape rule (NumPy
broadcasting), dtype rule, display and test cases. A unary op gives its local derivative
``d(x, y)`` (``y`` is the op's own output node, reused as in Fig. 6.10 of Goodfellow et
al.); ``vjp = g * d`` and ``jvp = t * d`` follow. Broadcasting in derivatives is undone
by the ``grad`` driver, so no rule here cares about shapes.

Convention for op families calling each other: a family imports the constructors of the
families below it (elementwise <- functions <- arithmetic); rules that need a family
above use ``Node``'s operators (``-g``, ``g * y``), bound when ``symgraph.ops`` loads.

Imports: ``symgraph.graph``, ``symgraph.ops.core``, ``symgraph.ops.shape``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgraph.graph import BUILD_CONTEXT, Node, SymgraphError
from symgraph.ops.core import (
    FLOAT64,
    FOLD_LIMIT,
    Case,
    Op,
    _check_dtype,
    boolean,
    broadcast_rule,
    const,
    describe,
    exact_product,
    fold,
    follows_numpy,
    inexact,
    is_const,
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
    if BUILD_CONTEXT.get().simplify:  # in_derivative(), inlined: runs for every node
        for n in inputs:
            if n.op == "const":  # identities and folding need a constant operand
                return _simplified(op, inputs)
    return make(op, inputs)


def _simplified(op: Op, inputs: Sequence[Node]) -> Node:
    shortcut = _identity(op.name, inputs)
    if shortcut is not None:
        return shortcut
    if op.name == "multiply":
        scaled = _scale_scaled(op, inputs)
        if scaled is not None:
            return scaled
    if _all_small_consts(inputs):
        node = make(op, inputs)
        # (not compactly: a small fill folds to an array, printed [2, 2] as before)
        value = fold(op, [n.attrs["value"] for n in inputs], {}, node.shape, elementwise=False)
        return node if value is None else const(value, dtype=node.dtype, graph=node.graph)
    return make(op, inputs)


def _scale_scaled(op: Op, inputs: Sequence[Node]) -> Node | None:
    """``c*(d*x) -> (c*d)*x`` (either order of either product), so the derivative of
    ``x**3`` twice is ``6*x``, not ``3*(2*x)``: only where reassociating is exact (integers
    wrap alike; floats as ``ops.folding.exact_product`` says) and the result keeps
    the product's shape and dtype."""
    a, b = inputs
    c, inner = (a, b) if a.op == "const" else (b, a)
    if c.op != "const" or inner.op != "multiply" or c.attrs["value"].size > FOLD_LIMIT:
        return None
    d, x = inner.inputs
    if x.op == "const":
        d, x = x, d
    if d.op != "const" or x.op == "const" or d.attrs["value"].size > FOLD_LIMIT:
        return None
    cv, dv = c.attrs["value"], d.attrs["value"]
    # folded in the dtype both products compute in (a narrower inner product, uint8(16)*x
    # read by a float64 one, wraps or rounds first; uint8 16*16 folded in uint8 is 0)
    dtype = promote((a, b), {})
    if inner.dtype != dtype or dtype.kind not in "iuf":
        return None
    if dtype.kind == "f" and not exact_product(cv, dv, dtype):
        return None
    if c.dtype != dtype:
        c = const(cv, dtype=dtype, graph=c.graph)
    if d.dtype != dtype:
        d = const(dv, dtype=dtype, graph=d.graph)
    cd = _simplified(op, [c, d])
    if cd.op != "const":
        return None
    node = make(op, [cd, x])
    if node.shape != broadcast_rule((a, b), {}) or node.dtype != promote((a, b), {}):
        return None
    return node


def _all_small_consts(inputs: Sequence[Node]) -> bool:
    for n in inputs:  # a plain loop: this runs for every derivative node
        if n.op != "const" or n.attrs["value"].size > FOLD_LIMIT:
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
    for n in inputs:
        if n.dtype is not FLOAT64:
            break
    else:  # float64 throughout (nearly always): nothing to cast or refuse
        return inputs
    if op.dtype is inexact and not any(n.dtype.kind in "fc" for n in inputs):
        return [cast(n, FLOAT64) for n in inputs]
    if op.name in _NO_BOOLEANS and all(n.dtype == np.bool_ for n in inputs):
        raise SymgraphError(
            f"{_NO_BOOLEANS[op.name]} is not defined for the boolean node "
            f"{describe(inputs[0])}; use sg.where(cond, 1.0, 0.0) or sg.cast(x, 'float64') "
            "for numbers"
        )
    return inputs


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


def _constant(g: Node) -> bool:
    """Whether ``g`` is a constant, or one broadcast to a static shape (a sum's cotangent)."""
    if g.op == "broadcast_to" and None not in g.shape:
        g = g.inputs[0]
    return g.op == "const"


def unary(name: str, forward: Any, d: Any, low: float = -2.0, high: float = 2.0,
          dtype: Any = inexact, order: int = 2, ref: Any = None, latex: Any = None,
          latex_atom: bool = False, parse: bool = True, scale: float | None = None) -> Op:
    """Declare a unary elementwise op from its local derivative ``d(x, y) = dy/dx``
    (its array-API name is its own where NumPy's function of that name is its forward;
    ``d=None``: no derivative). ``scale=k`` instead of ``d`` says the derivative is
    ``k*x``: the rule is then ``(k*g)*x`` for a constant cotangent, which folds into one
    constant (``LAM * square(W)`` has the gradient ``(2*LAM)*W``, one pass over ``W``, as
    a hand-written step computes it), and ``g*(k*x)`` otherwise."""
    if scale is not None:
        def rule(g: Node, out: Node) -> Node:  # g: a cotangent or a tangent
            x = out.inputs[0]
            return (scale * g) * x if _constant(g) else g * (scale * x)
    elif d is not None:
        def rule(g: Node, out: Node) -> Node:
            return g * d(out.inputs[0], out)
    else:
        rule = None
    op = Op(
        name=name,
        impl=forward,
        shape=same_shape,
        dtype=dtype,
        vjp=None if rule is None else (rule,),
        jvp=None if rule is None else (rule,),
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


# --- comparisons -----------------------------------------------------------------------------

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


@follows_numpy(np.where)
def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Node:
    """``a`` where ``condition`` holds, else ``b`` (NumPy's ``where``, broadcast).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.where(x > 0, x, 0.1 * x)   # leaky ReLU
    >>> float(sg.evaluate(y, {x: -2.0}))
    -0.2
    """
    # a condition given as an array goes to the graph of the branches' nodes, if any
    graph = next((v.graph for v in (condition, a, b) if isinstance(v, Node)), None)
    cond = operands([condition], "where", graph=graph)[0]
    # numbers take the other branch's dtype
    a_node, b_node = operands([a, b], "where", graph=cond.graph)
    if cond.dtype != np.bool_:
        cond = apply(NOT_EQUAL, cond, 0)
    inputs = [cond, a_node, b_node]
    return make(WHERE, inputs)


NOT_EQUAL = _compare("not_equal", np.not_equal, "!=")
EQUAL = _compare("equal", np.equal, "==")


def equal(a: ArrayLike, b: ArrayLike) -> Node:
    """``a == b`` elementwise as a boolean node (NumPy's ``equal``; a node's own ``==``
    compares identity); no gradient flows through it."""
    return apply(EQUAL, a, b)


def not_equal(a: ArrayLike, b: ArrayLike) -> Node:
    """``a != b`` elementwise as a boolean node (NumPy's ``not_equal``; NaN differs from
    everything); no gradient flows through it."""
    return apply(NOT_EQUAL, a, b)

# --- cast ------------------------------------------------------------------------------------

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


@follows_numpy(np.astype)
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
    dtype = _check_dtype(dtype, lambda: f"cast of {describe(x)}")
    if dtype == x.dtype:
        return x
    return make(CAST, [x], {"dtype": dtype.str})


def in_dtype(build: Callable[[Node], Node], x: ArrayLike, dtype: Any) -> Node:
    """``build(x)`` with NumPy's ``dtype=`` of a reduction (``np.sum(x, dtype=...)``): ``x``
    cast to it first, as NumPy accumulates in it, and the result too (the sum of int32
    would otherwise widen to int64, where NumPy's stays int32, wrapping as it does).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     i = sg.var("i", shape=(3,), dtype="int8")
    >>> sg.sum(i, dtype="int16").dtype.name
    'int16'
    """
    out = build(cast(x, dtype))
    return out if out.dtype == np.dtype(dtype) else cast(out, dtype)

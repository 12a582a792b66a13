"""Rules of arithmetic: identities, signs, constants gathered, like terms.

Owns the ``canonicalize`` rules from ``add-zero`` to ``sub-neg-first`` and the declaration
of ``collect-terms`` (its engine is ``symgraph.rewrite.terms``), as data, with their
replacement functions and exactness tests: ``x*0 -> 0``, ``x - x -> 0``, ``x/x -> 1``,
``exp(log x) -> x`` and like terms of opposite signs hold for finite values only; integer
arithmetic (modulo 2**bits) is a ring, so there they are exact.

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``patterns``,
``folding`` and ``rules_shapes``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.arithmetic import ADD, MULTIPLY, NEGATIVE, SUBTRACT
from symgraph.ops.core import CONST, fold
from symgraph.rewrite.folding import exact_product, fill, fold_binary, small_values
from symgraph.rewrite.patterns import MINUS_ONE, ONE, ZERO, C, D, Match, Rule, X, Y, instantiate
from symgraph.rewrite.rules_shapes import same_runtime_shape


def _keep(kept: Node, m: Match) -> Node | None:
    """``kept`` in place of the matched node, when the dropped operands cannot change the
    run-time shape (static shapes, or dropped constants with every dimension 1)."""
    node = m.node
    if kept.shape != node.shape:
        return None
    if None in node.shape and any(
        c.ndim > node.ndim or any(d != 1 for d in c.shape) for c in m.consts
    ):
        return None
    return kept


def _zeros(m: Match, like: Node) -> Node | None:
    """Zeros of the matched node's (broadcast) shape: ``like`` lends a run-time shape."""
    node = m.node
    if None not in node.shape:
        return fill(node, 0)
    if like.shape == node.shape and _keep(like, m) is not None:
        return ops.zeros_like(like) if like.dtype == node.dtype else None
    return None


def _mul_zero(m: Match) -> Node | None:
    return _zeros(m, m["X"])


def _sub_self(m: Match) -> Node | None:
    return _zeros(m, m["X"])


def _div_self(m: Match) -> Node | None:
    node, x = m.node, m["X"]
    if None not in node.shape:
        return fill(node, 1)
    return ops.broadcast_to(ops.const(1, dtype=node.dtype, graph=node.graph), x) \
        if x.shape == node.shape else None


def _pow_zero(m: Match) -> Node | None:
    node = m.node
    return fill(node, 1) if None not in node.shape else None


def _times(c: Node | None, x: Node) -> Node | None:
    return None if c is None else ops.multiply(c, x)


def _fold(op, m: Match, c: Node, d: Node) -> Node | None:
    """``c op d`` folded in the dtype the matched node computes in, where its inner ops
    compute in that dtype too; None elsewhere. A narrower inner op (``uint8(16)*x`` read
    by a float64 product, ``1e20*x`` in float32 before a float64 scale) wraps, rounds or
    overflows before the promotion: its constants folded in the wider dtype (or in
    their own: ``uint8(16)*uint8(16)`` is 0) would change values."""
    node, x = m.node, m.bound.get("X")
    if any(i.dtype != node.dtype for i in node.inputs if i.opdef is not CONST and i is not x):
        return None
    return fold_binary(op, c, d, node.dtype)


def _mul_consts(m: Match) -> Node | None:
    return _times(_fold(MULTIPLY, m, m["C"], m["D"]), m["X"])


def _add_consts(m: Match) -> Node | None:
    c = _fold(ADD, m, m["C"], m["D"])
    return None if c is None else ops.add(c, m["X"])


def _add_like_terms(m: Match) -> Node | None:
    return _times(_fold(ADD, m, m["C"], m["D"]), m["X"])


def _sub_like_terms(m: Match) -> Node | None:
    return _times(_fold(SUBTRACT, m, m["C"], m["D"]), m["X"])


def _add_like_term(m: Match) -> Node | None:
    c = m["C"]
    one = ops.const(1, dtype=c.dtype, graph=c.graph)
    return _times(_fold(ADD, m, c, one), m["X"])


def _neg_mul_const(m: Match) -> Node | None:
    """``-(c*x) -> (-c)*x`` with ``c`` negated in the product's dtype (a uint8 3 negated in
    its own is 253; an int8 -128 is -128)."""
    c, product = m["C"], m.node.inputs[0]
    value = c.attrs["value"]
    if value.dtype != product.dtype:
        value = np.asarray(value, dtype=product.dtype)  # as the product promotes it
    folded = fold(NEGATIVE, [value], {}, value.shape, elementwise=True)
    return None if folded is None else _times(ops.const(folded, graph=c.graph), m["X"])


def _sign_moved(template: tuple) -> Callable[[Match], Node | None]:
    """The template's replacement, unless a negated input of the node wraps in a
    narrower integer dtype before the node promotes it (``-uint8(3)`` is 253: ``x + -u``
    is not ``x - u`` for a float64 ``x``). Float negation is exact, as is integer
    negation in the node's own dtype (a ring)."""
    def replace(m: Match) -> Node | None:
        node = m.node
        for i in node.inputs:
            if i.opdef is NEGATIVE and i.dtype != node.dtype and i.dtype.kind != "f":
                return None
        return instantiate(template, m)
    return replace


def _mul_broadcast(m: Match) -> Node | None:
    """``broadcast_to(c, like) * y -> c * y`` where ``y`` already has the product's
    run-time shape (so the broadcast adds nothing)."""
    node, y = m.node, m["Y"]
    b = node.inputs[0] if node.inputs[1] is y else node.inputs[1]
    # the product's run-time shape is y's when b's is (b, y and the product share a
    # static shape)
    if y.shape != node.shape or y.dtype != node.dtype or not same_runtime_shape(b, y):
        return None
    return ops.multiply(m["C"], y)


# --- exactness: where a rule keeps every value (NaN, inf and -0.0 included) -------------------


def _ring(m: Match) -> bool:
    """Integer arithmetic (modulo 2**bits) is a ring: x*0 == 0, x - x == 0, and sums
    reassociate, exactly; floats do not (inf*0 is NaN, -(0.0) is -0.0)."""
    return m.node.dtype.kind in "iu"


def _zero_sign(negative: bool) -> Callable[[Match], bool]:
    """``x + c -> x`` is exact when every zero ``c`` is -0.0 (``x + -0.0`` is ``x``, while
    ``-0.0 + 0.0`` is 0.0); ``x - c -> x`` when ``c`` is 0.0, ``c - x -> -x`` when -0.0."""
    def exact(m: Match) -> bool:
        if m.node.dtype.kind != "f":
            return True  # integers have one zero
        # an integer or boolean zero promotes to +0.0 (-0.0 + 0 is 0.0)
        values = small_values([c.attrs["value"] for c in m.consts])
        return values is not None and all(
            np.all(np.signbit(np.asarray(v, dtype=np.float64)) == negative) for v in values)
    return exact


def _scale_exact(m: Match) -> bool:
    values = small_values([m.value("C"), m.value("D")])
    return _ring(m) or (values is not None and exact_product(*values, m.node.dtype))


def _same_sign(sign: float, *names: str) -> Callable[[Match], bool]:
    """``c*x + d*x -> (c+d)*x`` is exact when ``c`` and ``d`` have one strict sign and a
    finite sum: no cancellation, and both sides overflow, underflow and meet inf and -0.0
    alike (``x - 2*x`` at inf is NaN, ``-1*x`` is -inf). ``sign`` is +1 for a sum and -1
    for ``c*x - d*x``; with one name, ``x + c*x`` (``c`` against 1)."""
    def exact(m: Match) -> bool:
        values = small_values([m.value(n) for n in names])
        if _ring(m):
            return True
        if values is None:
            return False
        c, d = values if len(values) == 2 else (np.ones(()), values[0])
        # the sum as the folded coefficient will hold it: in the node's dtype (3e38 + 3e38
        # is finite in float64, inf in float32)
        dtype = m.node.dtype
        c, d = np.asarray(c, dtype=dtype), sign * np.asarray(d, dtype=dtype)
        with np.errstate(all="ignore"):
            return bool(np.all(np.isfinite(c + d)) and (
                (np.all(c > 0) and np.all(d > 0)) or (np.all(c < 0) and np.all(d < 0))))
    return exact


RULES: list[Rule] = [
    Rule("add-zero", "canonicalize", ("add", X, ZERO), lambda m: _keep(m["X"], m), "x+0 -> x",
         exact=_zero_sign(negative=True)),
    Rule("sub-zero", "canonicalize", ("subtract", X, ZERO), lambda m: _keep(m["X"], m),
         "x-0 -> x", exact=_zero_sign(negative=False)),
    Rule("zero-sub", "canonicalize", ("subtract", ZERO, X), ("negative", X), "0-x -> -x",
         exact=_zero_sign(negative=True)),
    Rule("mul-one", "canonicalize", ("multiply", X, ONE), lambda m: _keep(m["X"], m),
         "x*1 -> x"),
    Rule("mul-zero", "canonicalize", ("multiply", X, ZERO), _mul_zero,
         "x*0 -> zeros of the broadcast shape", exact=_ring),
    Rule("mul-minus-one", "canonicalize", ("multiply", X, MINUS_ONE), ("negative", X),
         "x*-1 -> -x"),
    Rule("div-one", "canonicalize", ("divide", X, ONE), lambda m: _keep(m["X"], m), "x/1 -> x"),
    Rule("pow-one", "canonicalize", ("power", X, ONE), lambda m: _keep(m["X"], m), "x**1 -> x"),
    Rule("pow-zero", "canonicalize", ("power", X, ZERO), _pow_zero, "x**0 -> ones"),
    Rule("neg-neg", "canonicalize", ("negative", ("negative", X)), X, "--x -> x"),
    Rule("sub-self", "canonicalize", ("subtract", X, X), _sub_self, "x-x -> zeros",
         exact=_ring),
    Rule("div-self", "canonicalize", ("divide", X, X), _div_self, "x/x -> ones", exact=False),
    Rule("add-neg", "canonicalize", ("add", X, ("negative", Y)),
         _sign_moved(("subtract", X, Y)),
         "x + -y -> x-y"),
    Rule("sub-neg", "canonicalize", ("subtract", X, ("negative", Y)),
         _sign_moved(("add", X, Y)),
         "x - -y -> x+y"),
    Rule("neg-sub", "canonicalize", ("negative", ("subtract", X, Y)), ("subtract", Y, X),
         "-(x-y) -> y-x", exact=_ring),
    Rule("neg-mul-const", "canonicalize", ("negative", ("multiply", C, X)), _neg_mul_const,
         "-(c*x) -> (-c)*x"),
    Rule("exp-log", "canonicalize", ("exp", ("log", X)), X, "exp(log x) -> x (x > 0)",
         exact=False),
    Rule("log-exp", "canonicalize", ("log", ("exp", X)), X,
         "log(exp x) -> x (exp x finite and > 0)", exact=False),
    Rule("add-self", "canonicalize", ("add", X, X), ("multiply", 2, X), "x+x -> 2*x"),
    Rule("mul-self", "canonicalize", ("multiply", X, X), ("square", X), "x*x -> square(x)"),
    Rule("mul-consts", "canonicalize", ("multiply", C, ("multiply", D, X)), _mul_consts,
         "c*(d*x) -> (c*d)*x", exact=_scale_exact),
    Rule("add-consts", "canonicalize", ("add", C, ("add", D, X)), _add_consts,
         "c+(d+x) -> (c+d)+x", exact=_ring),
    Rule("add-like-terms", "canonicalize", ("add", ("multiply", C, X), ("multiply", D, X)),
         _add_like_terms, "c*x + d*x -> (c+d)*x", exact=_same_sign(1, "C", "D")),
    Rule("sub-like-terms", "canonicalize", ("subtract", ("multiply", C, X), ("multiply", D, X)),
         _sub_like_terms, "c*x - d*x -> (c-d)*x", exact=_same_sign(-1, "C", "D")),
    Rule("add-like-term", "canonicalize", ("add", X, ("multiply", C, X)), _add_like_term,
         "x + c*x -> (1+c)*x", exact=_same_sign(1, "C")),
    Rule("mul-broadcast", "canonicalize", ("multiply", ("broadcast_to", C, X), Y),
         _mul_broadcast, "broadcast_to(c, like)*y -> c*y (y of the same run-time shape)"),
    Rule("mul-neg", "canonicalize", ("multiply", X, ("negative", Y)),
         _sign_moved(("negative", ("multiply", X, Y))),
         "x * -y -> -(x*y) (signs move out, to print)"),
    Rule("sub-neg-first", "canonicalize", ("subtract", ("negative", X), Y),
         _sign_moved(("negative", ("add", X, Y))), "-x - y -> -(x+y)", exact=_ring),
    # Polynomial algebra: exact for real numbers, not for floats (x - x is NaN at inf,
    # Horner form overflows elsewhere). The engine runs it over whole regions.
    Rule("collect-terms", "canonicalize", None, None,
         "sums of products -> a polynomial in Horner form, like terms collected "
         "(without assume_finite: collect-like-terms, where exact)",
         roots=("add", "subtract", "negative", "multiply", "square", "power", "divide"),
         region=True, exact=False),
]

# The exact half of collect-terms (symgraph.rewrite.like_terms): like terms of one sum,
# collected where that keeps every value, so it runs without assume_finite too (after the
# polynomial pass with it). Not in RULES: the engine runs it wherever collect-terms is.
LIKE_TERMS = Rule("collect-like-terms", "canonicalize", None, None,
                  "like terms of a sum collected where exact: a + b + a -> 2*a + b",
                  roots=("add", "subtract"), region=True)

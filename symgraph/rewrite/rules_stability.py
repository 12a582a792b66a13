"""Rules that compute the same function better: stabler (``stabilize``) or cheaper
(``specialize``).

Owns those two stages' rules, as data: ``log(1 + exp x) -> softplus(x)``,
``log(1+x) -> log1p(x)``, ``log(softmax x) -> log_softmax(x)``..., and ``x**2 ->
square(x)``, ``x**0.5 -> sqrt(x)``, ``x**-1 -> 1/x``. Where the unstable form overflows to
inf (or to log(0)), or rounds away a small term (``log(1 + 1e-20)`` is 0), the stable one
changes the value: those rules are not exact (they run with ``assume_finite=True`` only).

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``patterns``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.arithmetic import ADD
from symgraph.ops.core import make
from symgraph.rewrite.patterns import HALF, MINUS_ONE, ONE, TWO, Match, Rule, X

# ops whose result is never -0.0 (NumPy's maximum(-0.0, 0) is 0.0, exp(-inf) is 0.0)
_NO_NEGATIVE_ZERO = frozenset({"exp", "square", "abs", "sigmoid", "softplus", "relu", "cos"})
# ...relu only where NumPy's maximum returns its second operand on a tie: in float16 it
# returns the first, so relu(-0.0) is -0.0 there
_TIES_TO_SECOND = (np.dtype("float32"), np.dtype("float64"))


def _signed(f: Callable[[Node], Node], m: Match) -> Node:
    """``f(x)`` for ``log1p``/``expm1``, ``+ 0.0`` where ``x`` may be -0.0: ``log1p(-0.0)`` is
    -0.0 but ``log(1 + -0.0)`` is 0.0 (assume_finite drops the ``+ 0``). Built with
    ``make``: a derivative builder would skip the ``+ 0`` as an identity."""
    x = m["X"]
    out = f(x)
    if out.dtype.kind != "f" or (x.op in _NO_NEGATIVE_ZERO and not (
            x.op == "relu" and x.dtype not in _TIES_TO_SECOND)):
        return out
    return make(ADD, [out, ops.const(0.0, dtype=out.dtype, graph=out.graph)])


def _log_softmax(m: Match) -> Node:
    return ops.log_softmax(m["X"], axis=m.node.inputs[0].attrs["axis"])


def _logsumexp(m: Match) -> Node:
    s = m.node.inputs[0]
    return ops.logsumexp(m["X"], axis=s.attrs["axis"], keepdims=s.attrs["keepdims"])


RULES: list[Rule] = [
    # stabilize: the same function, computed without overflow or cancellation. Where the
    # unstable form overflows to inf (or to log(0)), the value changes: not exact. So do
    # log1p and expm1 where 1 + x rounds away x: log(1 + 1e-20) is 0, log1p(1e-20) is
    # 1e-20, and a division downstream turns that into 0 against 1e155.
    Rule("softplus", "stabilize", ("log", ("add", ONE, ("exp", X))), ("softplus", X),
         "log(1 + exp x) -> softplus(x)", exact=False),
    Rule("log1p-exp", "stabilize", ("log1p", ("exp", X)), ("softplus", X),
         "log1p(exp x) -> softplus(x)", exact=False),
    Rule("log1p", "stabilize", ("log", ("add", ONE, X)), lambda m: _signed(ops.log1p, m),
         "log(1+x) -> log1p(x) (+ 0 where x may be -0.0)", exact=False),
    Rule("expm1", "stabilize", ("subtract", ("exp", X), ONE), lambda m: _signed(ops.expm1, m),
         "exp(x)-1 -> expm1(x) (+ 0 where x may be -0.0)", exact=False),
    Rule("log-sigmoid", "stabilize", ("log", ("sigmoid", X)),
         ("negative", ("softplus", ("negative", X))), "log(sigmoid x) -> -softplus(-x)",
         exact=False),
    Rule("log-one-minus-sigmoid", "stabilize", ("log", ("subtract", ONE, ("sigmoid", X))),
         ("negative", ("softplus", X)), "log(1 - sigmoid x) -> -softplus(x)", exact=False),
    Rule("log-softmax", "stabilize", ("log", ("softmax", X)), _log_softmax,
         "log(softmax x) -> log_softmax(x)", exact=False),
    Rule("logsumexp", "stabilize", ("log", ("sum", ("exp", X))), _logsumexp,
         "log(sum(exp x)) -> logsumexp(x)", exact=False),
    # specialize: cheaper ops for the same value.
    Rule("pow-two", "specialize", ("power", X, TWO), ("square", X), "x**2 -> square(x)"),
    # (NumPy's power takes sqrt's path in float32/float64 only: in float16 it is C's pow,
    # (-0.0)**0.5 = 0.0 and (-inf)**0.5 = inf where sqrt gives -0.0 and NaN)
    Rule("pow-half", "specialize", ("power", X, HALF), ("sqrt", X), "x**0.5 -> sqrt(x)",
         exact=lambda m: m.node.dtype in (np.dtype("float32"), np.dtype("float64"))),
    Rule("pow-minus-one", "specialize", ("power", X, MINUS_ONE), ("divide", 1, X),
         "x**-1 -> 1/x"),
]

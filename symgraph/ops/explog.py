"""Exponentials and logarithms in other bases and forms: ``log2 log10 exp2 logaddexp``.

(``expm1`` and ``log1p`` live with the other unary functions, ``symgraph.ops.functions``.)
NumPy's functions and values; each derivative is written with symgraph ops, its math in a
comment beside it, so it differentiates again.

Imports: ``symgraph.graph``, ``symgraph.ops.core``, ``symgraph.ops.elementwise`` and
``symgraph.ops.functions``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.core import inexact
from symgraph.ops.elementwise import _binary_cases, apply, binary, unary
from symgraph.ops.functions import sigmoid

__all__ = ["exp2", "log2", "log10", "logaddexp"]

ArrayLike = Any  # a Node, a Python number or an array

_LN2 = math.log(2.0)

LOG2 = unary(  # 1/(x ln 2)
    "log2", np.log2, lambda x, y: (1 / _LN2) / x, low=0.2, high=3.0,
    latex=r"\log_2\left({args}{attrs}\right)",
)
LOG10 = unary(  # 1/(x ln 10)
    "log10", np.log10, lambda x, y: (1 / math.log(10.0)) / x, low=0.2, high=3.0,
    latex=r"\log_{{10}}\left({args}{attrs}\right)",
)
# 2^x ln 2. Written \operatorname{exp2}: as "2^{x}" it would not be parenthesised as the
# base of another power (the LaTeX printer only does that for "{0:base}" templates).
EXP2 = unary("exp2", np.exp2, lambda x, y: y * _LN2)

# d/da log(e^a + e^b) = e^a/(e^a + e^b) = sigmoid(a - b): bounded, no exp that overflows
# (logaddexp(1000, 0) has gradient (1, 0)), and sigmoid's own derivative s(1-s) is too.
LOGADDEXP = binary(
    "logaddexp", np.logaddexp,
    vjp=(lambda g, out: g * sigmoid(out.inputs[0] - out.inputs[1]),
         lambda g, out: g * sigmoid(out.inputs[1] - out.inputs[0])),
    jvp=(lambda t, out: t * sigmoid(out.inputs[0] - out.inputs[1]),
         lambda t, out: t * sigmoid(out.inputs[1] - out.inputs[0])),
    dtype=inexact, parse=True, cases=_binary_cases,
)


def log2(x: ArrayLike) -> Node:
    """Elementwise base-2 logarithm.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.log2(x), {x: 8.0}))
    3.0
    """
    return apply(LOG2, x)


def log10(x: ArrayLike) -> Node:
    """Elementwise base-10 logarithm.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.log10(x), {x: 1000.0}))
    3.0
    """
    return apply(LOG10, x)


def exp2(x: ArrayLike) -> Node:
    """Elementwise ``2**x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.exp2(x), {x: 10.0}))
    1024.0
    """
    return apply(EXP2, x)


def logaddexp(a: ArrayLike, b: ArrayLike) -> Node:
    """Elementwise ``log(exp(a) + exp(b))``, without overflow (NumPy's ``logaddexp``).

    Its derivative in ``a`` is ``sigmoid(a - b)`` (in ``b``, ``sigmoid(b - a)``), which
    stays finite and exact for large arguments.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a"), sg.var("b")
    ...     y = sg.logaddexp(a, b)
    >>> float(sg.evaluate(y, {a: 1000.0, b: 1000.0}))   # 1000 + log 2, no overflow
    1000.6931471805599
    >>> [float(v) for v in sg.evaluate(sg.grad(y, [a, b]), {a: 1000.0, b: 0.0})]
    [1.0, 0.0]
    """
    return apply(LOGADDEXP, a, b)

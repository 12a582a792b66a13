"""Trigonometric and hyperbolic functions and their inverses: ``arcsin arccos arctan arctan2 sinh cosh arcsinh arccosh arctanh hypot``.

NumPy's functions and values (NaN outside a domain, as ``np.arcsin(2)``). Each derivative
is written with symgraph ops, its math in a comment beside it, so it differentiates again.

Imports: ``symgraph.graph``, ``symgraph.ops.core``, ``symgraph.ops.elementwise`` and
``symgraph.ops.functions``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.core import inexact, latex_function
from symgraph.ops.elementwise import _binary_cases, apply, binary, unary, where
from symgraph.ops.functions import sqrt, square

__all__ = [
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "cosh",
    "hypot",
    "sinh",
]

ArrayLike = Any  # a Node, a Python number or an array

ARCSIN = unary(  # 1/sqrt(1 - x^2)
    "arcsin", np.arcsin, lambda x, y: 1 / sqrt(1 - square(x)), low=-0.9, high=0.9,
    latex=latex_function(r"\arcsin"),
)
ARCCOS = unary(  # -1/sqrt(1 - x^2)
    "arccos", np.arccos, lambda x, y: -1 / sqrt(1 - square(x)), low=-0.9, high=0.9,
    latex=latex_function(r"\arccos"),
)
ARCTAN = unary(  # 1/(1 + x^2)
    "arctan", np.arctan, lambda x, y: 1 / (1 + square(x)), latex=latex_function(r"\arctan"),
)
SINH = unary("sinh", np.sinh, lambda x, y: cosh(x), latex=latex_function(r"\sinh"))  # cosh x
COSH = unary("cosh", np.cosh, lambda x, y: sinh(x), latex=latex_function(r"\cosh"))  # sinh x
# TeX has no \arsinh (and so on): those three get \operatorname.
ARCSINH = unary("arcsinh", np.arcsinh, lambda x, y: 1 / sqrt(square(x) + 1))  # 1/sqrt(x^2+1)
ARCCOSH = unary(  # 1/sqrt(x^2 - 1), for x > 1
    "arccosh", np.arccosh, lambda x, y: 1 / sqrt(square(x) - 1), low=1.2, high=3.0,
)
ARCTANH = unary(  # 1/(1 - x^2), for |x| < 1
    "arctanh", np.arctanh, lambda x, y: 1 / (1 - square(x)), low=-0.8, high=0.8,
)


def _radius2(out: Node) -> Node:
    a, b = out.inputs
    return square(a) + square(b)  # one node for both inputs' rules (interned)


ARCTAN2 = binary(  # d/dy atan2(y, x) = x/(x^2+y^2), d/dx = -y/(x^2+y^2)
    "arctan2", np.arctan2,
    vjp=(lambda g, out: g * out.inputs[1] / _radius2(out),
         lambda g, out: -(g * out.inputs[0]) / _radius2(out)),
    jvp=(lambda t, out: t * out.inputs[1] / _radius2(out),
         lambda t, out: -(t * out.inputs[0]) / _radius2(out)),
    dtype=inexact, parse=True,
    # x > 0 keeps the cases off the branch cut (x < 0, y = 0) and the origin
    cases=lambda build: _binary_cases(build, -2.0, 2.0, 0.5, 2.0),
)


def _safe_hypot(out: Node) -> Node:
    """hypot, with 1 where it is 0: there x/hypot is 0/1 = 0, as in JAX (no 0/0)."""
    return where(out, out, 1)


HYPOT = binary(  # d/dx hypot(x, y) = x/hypot(x, y), and 0 at (0, 0)
    "hypot", np.hypot,
    vjp=(lambda g, out: g * out.inputs[0] / _safe_hypot(out),
         lambda g, out: g * out.inputs[1] / _safe_hypot(out)),
    jvp=(lambda t, out: t * out.inputs[0] / _safe_hypot(out),
         lambda t, out: t * out.inputs[1] / _safe_hypot(out)),
    dtype=inexact, parse=True,
    cases=lambda build: _binary_cases(build, -2.0, 2.0, 0.5, 2.0),
)


def arcsin(x: ArrayLike) -> Node:
    """Elementwise inverse sine (NaN outside [-1, 1], as NumPy).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.grad(sg.arcsin(x), x), {x: 0.0}))
    1.0
    """
    return apply(ARCSIN, x)


def arccos(x: ArrayLike) -> Node:
    """Elementwise inverse cosine (NaN outside [-1, 1], as NumPy).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.arccos(x), {x: 1.0}))
    0.0
    """
    return apply(ARCCOS, x)


def arctan(x: ArrayLike) -> Node:
    """Elementwise inverse tangent.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.grad(sg.arctan(x), x), {x: 1.0}))
    0.5
    """
    return apply(ARCTAN, x)


def arctan2(y: ArrayLike, x: ArrayLike) -> Node:
    """Elementwise angle of the point ``(x, y)``, in ``[-pi, pi]`` (NumPy's ``arctan2``).

    Its derivative is ``(x, -y) / (x**2 + y**2)`` (undefined, NaN, at the origin).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     y, x = sg.var("y"), sg.var("x")
    >>> [float(v) for v in sg.evaluate(sg.grad(sg.arctan2(y, x), [y, x]), {y: 1.0, x: 1.0})]
    [0.5, -0.5]
    """
    return apply(ARCTAN2, y, x)


def sinh(x: ArrayLike) -> Node:
    """Elementwise hyperbolic sine.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> str(sg.grad(sg.sinh(x), x))
    'cosh(x)'
    """
    return apply(SINH, x)


def cosh(x: ArrayLike) -> Node:
    """Elementwise hyperbolic cosine.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.cosh(x), {x: 0.0}))
    1.0
    """
    return apply(COSH, x)


def arcsinh(x: ArrayLike) -> Node:
    """Elementwise inverse hyperbolic sine.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.arcsinh(x), {x: 0.0}))
    0.0
    """
    return apply(ARCSINH, x)


def arccosh(x: ArrayLike) -> Node:
    """Elementwise inverse hyperbolic cosine (NaN below 1, as NumPy).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.arccosh(x), {x: 1.0}))
    0.0
    """
    return apply(ARCCOSH, x)


def arctanh(x: ArrayLike) -> Node:
    """Elementwise inverse hyperbolic tangent (+-inf at +-1, NaN beyond).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.grad(sg.arctanh(x), x), {x: 0.0}))
    1.0
    """
    return apply(ARCTANH, x)


def hypot(x: ArrayLike, y: ArrayLike) -> Node:
    """Elementwise ``sqrt(x**2 + y**2)`` without overflow (NumPy's ``hypot``).

    Its derivative is ``(x, y) / hypot(x, y)``, taken as 0 at the origin (as JAX does)
    rather than 0/0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x"), sg.var("y")
    ...     r = sg.hypot(x, y)
    >>> float(sg.evaluate(r, {x: 3.0, y: 4.0}))
    5.0
    >>> [float(v) for v in sg.evaluate(sg.grad(r, [x, y]), {x: 0.0, y: 0.0})]
    [0.0, 0.0]
    """
    return apply(HYPOT, x, y)

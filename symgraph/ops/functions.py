"""The unary functions: ``exp log sin cos tan tanh sigmoid relu softplus sqrt sign abs
square log1p expm1 stop_gradient``.

Each is declared once by its local derivative ``d(x, y)`` (``y`` the op's own output),
its math in a comment beside it, through ``symgraph.ops.elementwise.unary``.

Imports: ``symgraph.graph``, ``symgraph.ops.core``, ``symgraph.ops.elementwise``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.core import first_dtype, latex_function
from symgraph.ops.elementwise import apply, unary, where

ArrayLike = Any  # a Node, a Python number or an array

def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of -|x| never overflows; both branches are exact in their half.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.result_type(x, 0.5))



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
SQUARE = unary("square", np.square, None, scale=2,  # 2x
               dtype=lambda inputs, attrs: np.dtype("int8") if inputs[0].dtype == np.bool_
               else inputs[0].dtype,  # as NumPy: square(bool) is int8
               latex="{0:base}^{{2}}")
LOG1P = unary("log1p", np.log1p, lambda x, y: 1 / (1 + x), low=-0.5, high=2.0)
EXPM1 = unary("expm1", np.expm1, lambda x, y: y + 1)  # d/dx (e^x - 1) = e^x
STOP_GRADIENT = unary("stop_gradient", lambda x: x, None, dtype=first_dtype, order=0)


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

"""Special functions: ``erf``, the error function (Gaussian CDFs, the exact GELU).

NumPy has no ``erf``, and SciPy is not a dependency: the forward is the C library's
``erf`` (Python's ``math.erf``, within an ulp), element by element
through ``np.frompyfunc``: libm's values, about 90 ns an element on arrays (np.tanh: 1.3).
Compiled code calls the same function on scalars (``python``, ``numba``); the ``jax``
backend runs XLA's ``erf`` (equal to rounding). The derivative ``2/sqrt(pi) exp(-x^2)`` is
made of ops, so it differentiates again.

Imports: ``symgraph.graph``, ``symgraph.ops.core``, ``symgraph.ops.elementwise``,
``symgraph.ops.functions``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.core import Case
from symgraph.ops.elementwise import apply, unary
from symgraph.ops.functions import exp, square

__all__ = ["erf"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERF_OBJECTS = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    # (the op's inputs are floats: the graph casts integers first, as for np.sin)
    x = np.asarray(x)
    return np.asarray(_ERF_OBJECTS(x), dtype=x.dtype)


ERF = unary(  # d/dx erf(x) = 2/sqrt(pi) exp(-x^2)
    "erf", _erf, lambda x, y: _TWO_OVER_SQRT_PI * exp(-square(x)),
)
ERF.cases.append(Case(lambda x: erf(x), [np.array(
    [[np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300], [6.0, -6.0, 1e300, 0.5, -3.5, 27.0]])],
    ref=lambda x: np.array([[math.erf(v) for v in row] for row in x]), order=0))


def erf(x: Any) -> Node:
    """Elementwise error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt`` (as
    ``scipy.special.erf``); its derivative is ``2/sqrt(pi) * exp(-x^2)``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.erf(x)
    >>> round(float(sg.evaluate(y, {x: 1.0})), 6), float(sg.evaluate(sg.grad(y, x), {x: 0.0}))
    (0.842701, 1.1283791670955126)
    """
    return apply(ERF, x)

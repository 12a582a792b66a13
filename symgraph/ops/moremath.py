"""More of NumPy's elementwise math: ``cbrt copysign fmod logaddexp2 trunc rint deg2rad
rad2deg`` (declared ops) and ``fmax fmin degrees radians remainder heaviside reciprocal
sinc float_power`` (written with ops).

An op is declared where writing it with other ops would change a value: ``cbrt`` as a
power is not ``np.cbrt`` to the last bit, ``deg2rad`` of float32 multiplies by NumPy's own
float32 constant, ``copysign`` keeps the sign of a zero and of a NaN. Each such op's
forward is NumPy's ufunc, so every backend runs NumPy's (or ``jax.numpy``'s) function of
the same name; its derivative is written with ops, its math beside it. The others are
compositions, as NumPy writes them (``sinc`` is NumPy's ``sin(y)/y`` of ``y = pi *
where(x == 0, 1e-20, x)``), so their derivatives are the ops' own.

Derivatives: ``trunc`` and ``rint`` pass none (piecewise constant, as ``floor``);
``copysign(a, b)`` passes ``sign(a) * copysign(1, b)`` to ``a`` and nothing to ``b``;
``fmax``/``fmin`` send the gradient as ``maximum``/``minimum`` do (the first operand on a
tie) and to the operand that is not NaN; ``fmod(a, b)`` gives ``1`` and ``-trunc(a/b)``.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, functions,
arithmetic and rounding modules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError
from symgraph.ops.arithmetic import maximum, minimum, power
from symgraph.ops.core import Case, describe, follows_numpy, inexact, operands, promote
from symgraph.ops.elementwise import _binary_cases, apply, binary, cast, equal, unary, where
from symgraph.ops.functions import sigmoid, sign, sin, square
from symgraph.ops.rounding import _EDGES, _flat, _flat_cases, _numpy_dtype, _quiet, isnan, mod

__all__ = ["cbrt", "copysign", "deg2rad", "degrees", "float_power", "fmax", "fmin", "fmod",
           "heaviside", "logaddexp2", "rad2deg", "radians", "reciprocal", "remainder", "rint",
           "sinc", "trunc"]

ArrayLike = Any  # a Node, a Python number or an array

_LN2 = math.log(2.0)
# NaN, infinities, signed zeros, halves, and a row for the cube root's negatives
_SPECIALS = np.concatenate([_EDGES, [[-8.0, 27.0, -1e-300, 3.0, -0.125, 1e-310]]])


def _with_specials(op: Any, ref: Any = None) -> Any:
    """``op``'s cases plus one on NaN, infinities and signed zeros (values only)."""
    op.cases.append(Case(lambda x: apply(op, x), [_SPECIALS], ref, order=0))
    return op


CBRT = _with_specials(unary(  # d/dx cbrt(x) = 1 / (3 cbrt(x)^2)
    "cbrt", np.cbrt, lambda x, y: 1 / (3 * square(y)), low=0.2, high=3.0,
    latex=r"\sqrt[3]{{{0}}}", latex_atom=True,
))
_RADIAN = math.pi / 180.0
DEG2RAD = _with_specials(unary("deg2rad", np.deg2rad, lambda x, y: _RADIAN))  # pi/180
RAD2DEG = _with_specials(unary("rad2deg", np.rad2deg, lambda x, y: 1 / _RADIAN))  # 180/pi
TRUNC = _flat("trunc", np.trunc, _numpy_dtype(np.trunc))  # piecewise constant
RINT = _flat("rint", np.rint, _numpy_dtype(np.rint))  # halves to even, as np.round
TRUNC.cases = _flat_cases(lambda x: trunc(x))
RINT.cases = _flat_cases(lambda x: rint(x))


def _edge_case(build: Any, ref: Any) -> list[Case]:
    return [Case(build, [_EDGES, _EDGES[::-1, ::-1]], ref, order=0)]


COPYSIGN = binary(  # d/da copysign(a, b) = sign(a) * copysign(1, b); nothing flows to b
    "copysign", np.copysign,
    vjp=(lambda g, out: g * (sign(out.inputs[0]) * copysign(1.0, out.inputs[1])), None),
    jvp=(lambda t, out: t * (sign(out.inputs[0]) * copysign(1.0, out.inputs[1])), None),
    dtype=inexact, parse=True,
    # a kept away from 0 (where sign jumps); b of either sign
    cases=lambda build: _binary_cases(build, 0.5, 2.0, -2.0, 2.0)
    + [Case(build, [((2, 3), -2.0, -0.5), ((3,), -2.0, 2.0)])]
    + _edge_case(build, np.copysign),
)
LOGADDEXP2 = binary(  # d/da log2(2^a + 2^b) = sigmoid((a - b) ln 2)
    "logaddexp2", np.logaddexp2,
    vjp=(lambda g, out: g * sigmoid((out.inputs[0] - out.inputs[1]) * _LN2),
         lambda g, out: g * sigmoid((out.inputs[1] - out.inputs[0]) * _LN2)),
    jvp=(lambda t, out: t * sigmoid((out.inputs[0] - out.inputs[1]) * _LN2),
         lambda t, out: t * sigmoid((out.inputs[1] - out.inputs[0]) * _LN2)),
    dtype=inexact, parse=True,
    cases=lambda build: _binary_cases(build) + _edge_case(build, _quiet(np.logaddexp2)),
)


def _fmod_d_divisor(t: Node, out: Node) -> Node:
    a, b = out.inputs  # fmod(a, b) = a - trunc(a/b) b
    return -(t * trunc(a / b))


FMOD = binary(
    "fmod", _quiet(np.fmod), vjp=(lambda g, out: g, _fmod_d_divisor),
    jvp=(lambda t, out: t, _fmod_d_divisor), array_api="fmod", parse=True,
    dtype=lambda inputs, attrs: np.dtype(np.int8) if all(
        n.dtype == np.bool_ for n in inputs) else promote(inputs, attrs),
    # a/b kept between two integers (trunc 2, -2, -2, 0): no jump in reach
    cases=lambda build: [
        Case(build, [((), 2.2, 2.8), ((), 0.95, 1.05)]),
        Case(build, [((2, 3), -2.8, -2.2), ((2, 3), 0.95, 1.05)]),
        Case(build, [((2, 3), 2.2, 2.8), ((3,), -1.05, -0.95)]),
        Case(build, [((), 0.2, 0.8), ((2, 1), 1.5, 2.0)]),
        *_edge_case(build, _quiet(np.fmod)),
        Case(build, [np.array([7, -7, 7, 0, 5]), np.array([2, 2, -2, 3, 0])],
             _quiet(np.fmod), order=0),  # integers: the sign of the dividend; x fmod 0 is 0
    ],
)


def cbrt(x: ArrayLike) -> Node:
    """Elementwise cube root, as ``numpy.cbrt`` (real for negative ``x``; the derivative
    ``1 / (3 cbrt(x)^2)`` is inf at 0).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.cbrt(x)
    >>> float(sg.evaluate(y, {x: -27.0})), float(sg.evaluate(sg.grad(y, x), {x: 8.0}))
    (-3.0, 0.08333333333333333)
    """
    return apply(CBRT, x)


def copysign(x1: ArrayLike, x2: ArrayLike) -> Node:
    """``|x1|`` with the sign (bit) of ``x2``, as ``numpy.copysign`` (``-0.0`` and a
    negative NaN count as negative). Its derivative is ``sign(x1) * copysign(1, x2)`` for
    ``x1`` (0 at ``x1 = 0``, as ``abs``'s) and 0 for ``x2``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a"), sg.var("b")
    >>> float(sg.evaluate(sg.copysign(a, b), {a: 2.0, b: -0.0}))
    -2.0
    """
    return apply(COPYSIGN, x1, x2)


def fmod(x1: ArrayLike, x2: ArrayLike) -> Node:
    """Elementwise remainder of ``x1 / x2`` with the sign of the dividend ``x1``, as
    ``numpy.fmod`` (C's ``fmod``; ``sg.mod``/``sg.remainder`` take the divisor's sign).
    Derivatives away from the jumps: 1 for ``x1``, ``-trunc(x1 / x2)`` for ``x2``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a"), sg.var("b")
    >>> float(sg.evaluate(sg.fmod(a, b), {a: -5.0, b: 3.0}))
    -2.0
    """
    return apply(FMOD, x1, x2)


def logaddexp2(x1: ArrayLike, x2: ArrayLike) -> Node:
    """Elementwise ``log2(2**x1 + 2**x2)`` without overflow, as ``numpy.logaddexp2``; its
    derivative in ``x1`` is ``sigmoid((x1 - x2) ln 2)``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a"), sg.var("b")
    >>> float(sg.evaluate(sg.logaddexp2(a, b), {a: 3.0, b: 3.0}))
    4.0
    """
    return apply(LOGADDEXP2, x1, x2)


def trunc(x: ArrayLike) -> Node:
    """Elementwise rounding toward zero, as ``numpy.trunc`` (integers stay integers); no
    gradient flows.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.trunc(x), {x: -2.7}))
    -2.0
    """
    return apply(TRUNC, x)


def rint(x: ArrayLike) -> Node:
    """Elementwise rounding to the nearest integer, halves to even, as ``numpy.rint``; no
    gradient flows.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.rint(x), {x: 2.5}))
    2.0
    """
    return apply(RINT, x)


def deg2rad(x: ArrayLike) -> Node:
    """Degrees to radians, ``x * pi/180``, as ``numpy.deg2rad`` (its float32 constant too).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.deg2rad(x), {x: 180.0}))
    3.141592653589793
    """
    return apply(DEG2RAD, x)


def rad2deg(x: ArrayLike) -> Node:
    """Radians to degrees, ``x * 180/pi``, as ``numpy.rad2deg``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.rad2deg(x), {x: 3.141592653589793}))
    180.0
    """
    return apply(RAD2DEG, x)


radians = follows_numpy(np.radians)(deg2rad)  # numpy.radians: deg2rad's older name
degrees = follows_numpy(np.degrees)(rad2deg)
remainder = mod  # numpy.remainder is numpy.mod


def _ignoring_nan(x1: ArrayLike, x2: ArrayLike, name: str, extreme: Any) -> Node:
    a, b = operands([x1, x2], name)
    # (not an op with np.fmax's forward: NumPy's fmax returns the first zero of a tie in
    # short arrays and the second in long ones; maximum's, always the second, is the rule)
    return where(isnan(b), a, where(isnan(a), b, extreme(a, b)))


@follows_numpy(np.fmax)
def fmax(x1: ArrayLike, x2: ArrayLike) -> Node:
    """Elementwise maximum ignoring NaN (NaN only where both are), as ``numpy.fmax``; of
    a tie of zeros, the second (``maximum``'s rule: NumPy's ``fmax`` gives the first in
    short arrays). The gradient goes to the larger operand, to ``x1`` on a tie (as
    ``maximum``'s), and to the one that is not NaN.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a"), sg.var("b")
    ...     y = sg.fmax(a, b)
    >>> feed = {a: float("nan"), b: 2.0}
    >>> float(sg.evaluate(y, feed)), [float(v) for v in sg.evaluate(sg.grad(y, [a, b]), feed)]
    (2.0, [0.0, 1.0])
    """
    return _ignoring_nan(x1, x2, "fmax", maximum)


@follows_numpy(np.fmin)
def fmin(x1: ArrayLike, x2: ArrayLike) -> Node:
    """Elementwise minimum ignoring NaN, as ``numpy.fmin``; ties and the gradient as
    ``fmax``'s.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a"), sg.var("b")
    >>> float(sg.evaluate(sg.fmin(a, b), {a: 1.0, b: float("nan")}))
    1.0
    """
    return _ignoring_nan(x1, x2, "fmin", minimum)


@follows_numpy(np.heaviside)
def heaviside(x1: ArrayLike, x2: ArrayLike) -> Node:
    """The step function, as ``numpy.heaviside``: 0 where ``x1 < 0``, ``x2`` where ``x1 ==
    0`` (either sign of zero), 1 where ``x1 > 0``, NaN where ``x1`` is NaN. No gradient
    flows to ``x1`` (as ``floor``'s); ``x2`` gets it where ``x1`` is 0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate(sg.heaviside(x, 0.5), {x: [-2.0, 0.0, 3.0]}).tolist()
    [0.0, 0.5, 1.0]
    """
    x, h = operands([x1, x2], "heaviside")
    dtype = np.heaviside(np.zeros(0, x.dtype), np.zeros(0, h.dtype)).dtype
    x, h = cast(x, dtype), cast(h, dtype)
    return where(x > 0, 1.0, where(x < 0, 0.0, where(isnan(x), np.nan, h)))


@follows_numpy(np.reciprocal)
def reciprocal(x: ArrayLike) -> Node:
    """Elementwise ``1 / x``, as ``numpy.reciprocal`` of floats. Integers are refused:
    NumPy's integer reciprocal truncates (``reciprocal(2)`` is 0) and is undefined at 0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.reciprocal(x), {x: 4.0}))
    0.25
    """
    (x,) = operands([x], "reciprocal")
    if x.dtype.kind not in "fc":
        raise SymgraphError(
            f"reciprocal of the {x.dtype} node {describe(x)}: NumPy's reciprocal of "
            "integers truncates (reciprocal(2) is 0); cast it to a float dtype first "
            "(sg.cast(x, 'float64'))")
    return 1.0 / x


@follows_numpy(np.sinc)
def sinc(x: ArrayLike) -> Node:
    """The normalized sinc ``sin(pi x) / (pi x)`` (1 at 0), as ``numpy.sinc`` writes it:
    ``sin(y) / y`` with ``y = pi * where(x == 0, 1e-20, x)``. Its derivative is that
    composition's, 0 at ``x = 0`` (as are the higher ones there).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sinc(x)
    >>> float(sg.evaluate(y, {x: 0.0})), float(sg.evaluate(sg.grad(y, x), {x: 0.0}))
    (1.0, 0.0)
    """
    (x,) = operands([x], "sinc")
    if x.dtype.kind not in "fc":
        x = cast(x, np.float64)  # as numpy.sinc: where(x == 0, 1e-20, x) is float64
    y = math.pi * where(equal(x, 0), 1.0e-20, x)
    return sin(y) / y


@follows_numpy(np.float_power)
def float_power(x1: ArrayLike, x2: ArrayLike) -> Node:
    """``x1 ** x2`` computed in float64 whatever the inputs' dtypes, as
    ``numpy.float_power`` (a negative base to a fractional power is NaN).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", dtype="int32")
    ...     y = sg.float_power(a, -1)
    >>> y.dtype.name, float(sg.evaluate(y, {a: 4}))
    ('float64', 0.25)
    """
    a, b = operands([x1, x2], "float_power")
    return power(cast(a, np.float64), cast(b, np.float64))

"""Reductions beyond sum/mean/max: ``min prod variance std argmax argmin``.

NumPy's signatures (``axis=None``, ``keepdims=False``; ``ddof`` for ``variance`` and
``std``; NumPy's ``var`` is ``variance`` here, since ``sg.var`` makes inputs). The
derivative rules:

- ``min``: to the first minimal element of each slice (as ``max``: the mask of ``-x``'s
  first maximum);
- ``prod``: the product of the other elements, from exclusive running products from both
  ends (``symgraph.ops.sorting``'s ``cumprod`` and ``shift``): no division by ``x``, so
  it is right, to every order, with any number of zeros;
- ``variance``: ``2 (x - mean) / (n - ddof)``;
- ``std``: ``(x - mean) / ((n - ddof) std)``, and 0 where ``std`` is 0 (a constant
  slice, where ``std`` has a kink: 0 is a subgradient). JAX gives NaN there;
- both divide by ``max(n - ddof, 0)``, as NumPy's value does: from ``ddof >= n`` on the
  value is inf (NaN for a constant slice), and so is the derivative (or NaN);
- ``argmax``/``argmin``: integer-valued (int64), so no gradient.

Imports: ``symgraph.graph``, ``symgraph.ops``' core, elementwise, arithmetic, shape,
reduce and sorting modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arithmetic import maximum, negative
from symgraph.ops.core import (
    CONST,
    Case,
    Op,
    const,
    describe,
    first_dtype,
    flag,
    follows_numpy,
    latex_function,
    make,
    normalize_axes,
    operands,
    operatorname,
    register,
)
from symgraph.ops.elementwise import NOT_EQUAL, apply, in_dtype, where
from symgraph.ops.reduce import (
    FIRST_MAX_MASK,
    _batch_reduction,
    _count,
    _reduced_shape,
    _reduction_cases,
    mean,
    restore_reduced,
)
from symgraph.ops.reduce import (
    sum as reduce_sum,
)
from symgraph.ops.shape import reshape
from symgraph.ops.sorting import (
    CUMPROD,
    INT64,
    _scan,
    accumulating_dtype,
    batch_along,
    one_axis,
    shift,
)

__all__ = ["argmax", "argmin", "min", "prod", "std", "variance"]

Axis = Any  # int, tuple of ints, or None


def _reduction(op: Op, x: Any, axis: Axis, keepdims: bool, nonempty: bool = False,
               **attrs: Any) -> Node:
    (x,) = operands([x], op.name)
    axes = normalize_axes(axis, x.ndim, lambda: f"{op.name} of {describe(x)}")
    if axes is not None and len(axes) == x.ndim:
        axes = None
    if nonempty:
        _check_nonempty(op.name, x, range(x.ndim) if axes is None else axes)
    keep = flag(f"sg.{op.name}", keepdims=keepdims)
    return make(op, [x], {"axis": axes, "keepdims": keep, **attrs})


def _check_nonempty(who: str, x: Node, axes: Any) -> None:
    if any(x.shape[a] == 0 for a in axes):
        raise ShapeError(f"{who} of {describe(x)}: a reduced axis has length 0, so there is "
                         "no element to choose; reduce over axes that have elements")


def _jvp(rule: Any) -> Any:
    """The jvp of a reduction whose local derivative ``rule(out)`` has ``x``'s shape."""
    return lambda t, out: reduce_sum(t * rule(out), out.attrs["axis"], out.attrs["keepdims"])


def _vjp(rule: Any) -> Any:
    return lambda g, out: restore_reduced(g, out) * rule(out)


def _all_axes(out: Node) -> tuple:
    axes = out.attrs["axis"]
    return tuple(range(out.inputs[0].ndim)) if axes is None else axes


def _show(name: str, latex: str | None = None) -> dict:
    return {"name": name, "latex": latex or operatorname(name), "shape": _reduced_shape,
            "show_attrs": ("axis", "keepdims"), "batch": _batch_reduction}


# --- min -------------------------------------------------------------------------------------


def _first_min(out: Node) -> Node:
    # the first minimum of x is the first maximum of -x (NaN included: both pick the
    # first NaN, whose value the min is)
    return make(FIRST_MAX_MASK, [negative(out.inputs[0])], {"axis": out.attrs["axis"]})


MIN = register(Op(
    **_show("min", latex_function(r"\min")), array_api="min",
    impl=lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
    dtype=first_dtype, vjp=(_vjp(_first_min),), jvp=(_jvp(_first_min),), parse=True,
))
MIN.cases = _reduction_cases(lambda x, a, k: min(x, a, k), np.min)


@follows_numpy(np.min, np.amin)
def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Node:
    """Minimum over ``axis``, as ``numpy.min``; the gradient goes to the first minimal
    element.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     dv = sg.grad(sg.min(v), v)
    >>> sg.evaluate(dv, {v: [1.0, 5.0, 1.0]}).tolist()
    [1.0, 0.0, 0.0]
    """
    return _reduction(MIN, x, axis, keepdims, nonempty=True)


# --- prod ------------------------------------------------------------------------------------


def _others(x: Node, axes: tuple) -> Node | None:
    """The product of the other elements of each element's reduced slice.

    Over axes (a, *rest): the product of the other rows along a (each row's product over
    rest) times the product of the others within the element's own row.
    """
    if not axes:
        return None
    a, rest = axes[0], axes[1:]
    rows = prod(x, rest, keepdims=True) if rest else x
    before = shift(_scan(CUMPROD, rows, a, False), 1, a, fill=1.0)
    after = shift(_scan(CUMPROD, rows, a, True), -1, a, fill=1.0)
    inner = _others(x, rest)
    return before * after if inner is None else before * after * inner


def _prod_vjp(g: Node, out: Node) -> Node:
    others = _others(out.inputs[0], _all_axes(out))
    spread = restore_reduced(g, out)
    return spread if others is None else spread * others


def _prod_jvp(t: Node, out: Node) -> Node:
    others = _others(out.inputs[0], _all_axes(out))
    return reduce_sum(t if others is None else t * others, out.attrs["axis"],
                      out.attrs["keepdims"])


_ZEROS = [np.array([[0.5, -1.2, 1.5], [0.7, 0.0, -0.9]]),  # a zero in one row
          np.array([[0.0, -1.2, 0.0], [0.7, 0.0, -0.9]]),  # two in one row
          np.array([[0.0, 0.0], [0.0, 0.0]])]
PROD = register(Op(
    **_show("prod"), array_api="prod",
    impl=lambda x, *, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    dtype=accumulating_dtype(np.prod), vjp=(_prod_vjp,), jvp=(_prod_jvp,), parse=True,
))
PROD.cases = _reduction_cases(lambda x, a, k: prod(x, a, k), np.prod) + [
    Case(lambda x, axis=axis: prod(x, axis), [value], ref=lambda x, axis=axis: np.prod(x, axis))
    for value in _ZEROS for axis in (None, 1)]


@follows_numpy(np.prod)
def prod(x: Any, axis: Axis = None, keepdims: bool = False, dtype: Any = None) -> Node:
    """Product over ``axis`` (all axes by default), as ``numpy.prod``. The gradient is the
    product of the other elements (no division), right to every order with zeros in ``x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     dv = sg.grad(sg.prod(v), v)
    >>> sg.evaluate(dv, {v: [2.0, 0.0, 3.0]}).tolist()
    [0.0, 6.0, 0.0]
    """
    if dtype is not None:
        return in_dtype(lambda v: _reduction(PROD, v, axis, keepdims), x, dtype)
    return _reduction(PROD, x, axis, keepdims)


# --- variance and std ------------------------------------------------------------------------


def _centered(out: Node) -> Node:
    # x - mean, corrected by the mean of the residuals (the corrected two-pass algorithm;
    # Chan, Golub and LeVeque 1983): a rounded mean of equal values leaves residuals of
    # one sign (std 5.6e-17 for six equal values), so x - mean over that std would be
    # +-1/n everywhere, not 0; the correction makes them exactly 0, and changes nothing
    # in exact arithmetic (the derivative is the same projection)
    x, axis = out.inputs[0], out.attrs["axis"]
    residual = x - mean(x, axis, keepdims=True)
    return residual - mean(residual, axis, keepdims=True)


def _dof(out: Node) -> Node:
    # NumPy divides by max(n - ddof, 0), and so does the derivative: past n - ddof = 0 the
    # value is inf (NaN for a constant slice), and a slope through the negative count
    # would be finite there
    count, ddof = _count(out), out.attrs["ddof"]
    if count.opdef is not CONST:  # (a dimension known only when fed)
        return maximum(count - ddof, 0)
    if count.attrs["value"] - ddof <= 0:
        return const(0, dtype=count.dtype, graph=count.graph)
    return count - ddof


def _dvariance(out: Node) -> Node:
    return 2 * _centered(out) / _dof(out)  # d/dx_i sum((x - m)^2) / (n - ddof)


def _dstd(out: Node) -> Node:
    # d std = (x - m) / ((n - ddof) std); where std is 0 (a constant slice), 0. The
    # divisor is made safe too, so no later derivative divides by zero (0 * inf = nan).
    # ``!= 0`` rather than ``> 0``: a NaN std keeps its NaN gradient.
    s = restore_reduced(out, out)
    nonzero = apply(NOT_EQUAL, s, 0)
    return where(nonzero, _centered(out) / (_dof(out) * where(nonzero, s, 1)), 0)


def _float_dtype(inputs: tuple, attrs: dict) -> np.dtype:
    return np.result_type(inputs[0].dtype, 0.5)


def _moment_cases(build: Any, numpy_fn: Any) -> list:
    return _reduction_cases(lambda x, a, k: build(x, a, k, 0), numpy_fn) + [
        Case(lambda x: build(x, 1, False, 1), [((2, 3), -1.0, 1.0)],
             ref=lambda x: numpy_fn(x, axis=1, ddof=1))]


VARIANCE = register(Op(
    **_show("variance", operatorname("Var")), array_api="var",
    impl=lambda x, *, axis, keepdims, ddof: np.var(x, axis=axis, keepdims=keepdims, ddof=ddof),
    dtype=_float_dtype, vjp=(_vjp(_dvariance),), jvp=(_jvp(_dvariance),),
))
VARIANCE.cases = _moment_cases(lambda x, a, k, d: variance(x, a, k, d), np.var)
STD = register(Op(
    **_show("std"), array_api="std",
    impl=lambda x, *, axis, keepdims, ddof: np.std(x, axis=axis, keepdims=keepdims, ddof=ddof),
    dtype=_float_dtype, vjp=(_vjp(_dstd),), jvp=(_jvp(_dstd),),
))
STD.cases = _moment_cases(lambda x, a, k, d: std(x, a, k, d), np.std)
for _op in (VARIANCE, STD):
    _op.show_attrs, _op.defaults = ("axis", "keepdims", "ddof"), {"ddof": 0}


def _ddof(who: str, x: Any, ddof: Any) -> float | int:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise SymgraphError(f"{who}: ddof must be a number (the degrees of freedom "
                            f"subtracted from the count), got {ddof!r}")
    return int(ddof) if float(ddof).is_integer() else float(ddof)


@follows_numpy(np.var)
def variance(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Node:
    """Variance over ``axis``, ``sum((x - mean)^2) / max(n - ddof, 0)``, as ``numpy.var``
    (named ``variance`` because ``sg.var`` makes inputs): inf from ``ddof >= n`` on, NaN
    where the slice is constant there (0 / 0).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> float(sg.evaluate(sg.variance(v, ddof=1), {v: [1.0, 2.0, 3.0, 4.0]}))
    1.6666666666666667
    """
    return _reduction(VARIANCE, x, axis, keepdims, ddof=_ddof("variance", x, ddof))


@follows_numpy(np.std)
def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Node:
    """Standard deviation over ``axis``, as ``numpy.std``. Its gradient is 0 (rather than
    NaN) where a slice is constant: ``std`` has a kink there, and 0 is a subgradient.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    ...     dv = sg.grad(sg.std(v), v)
    >>> sg.evaluate([sg.std(v), dv], {v: [1.0, 3.0]})
    [array(1.), array([-0.5,  0.5])]
    >>> sg.evaluate(dv, {v: [2.0, 2.0]}).tolist()
    [0.0, 0.0]
    """
    return _reduction(STD, x, axis, keepdims, ddof=_ddof("std", x, ddof))


# --- argmax and argmin -----------------------------------------------------------------------


def _arg_shape(inputs: tuple, attrs: dict) -> tuple:
    x, a = inputs[0], attrs["axis"]
    if attrs["keepdims"]:
        return x.shape[:a] + (1,) + x.shape[a + 1:]
    return x.shape[:a] + x.shape[a + 1:]


def _arg_op(name: str, fn: Any) -> Op:
    op = register(Op(
        name=name, latex=operatorname(name), array_api=name,
        impl=lambda x, *, axis, keepdims: np.asarray(fn(x, axis=axis, keepdims=keepdims),
                                                     dtype=INT64),
        shape=_arg_shape, dtype=lambda inputs, attrs: INT64,
        vjp=(None,), jvp=(None,),  # integer-valued, piecewise constant: no gradient
        show_attrs=("axis", "keepdims"), batch=batch_along,
    ))
    op.cases = [Case(lambda x, a=a, k=k: _arg(op, x, a, k), [((2, 3), -1.0, 1.0)], order=0,
                     ref=lambda x, a=a, k=k: fn(x, axis=a, keepdims=k))
                for a, k in ((None, False), (0, False), (-1, True), (None, True))]
    return op


def _arg(op: Op, x: Any, axis: int | None, keepdims: bool) -> Node:
    (x,) = operands([x], op.name)
    keepdims = flag(f"sg.{op.name}", keepdims=keepdims)
    if axis is None and x.ndim != 1:  # NumPy's flat index: of the flattened x
        _check_nonempty(op.name, x, range(x.ndim))
        flat = make(op, [reshape(x, (-1,))], {"axis": 0, "keepdims": False})
        return reshape(flat, (1,) * x.ndim) if keepdims else flat
    a = one_axis(x, 0 if axis is None else axis, op.name)
    _check_nonempty(op.name, x, (a,))
    return make(op, [x], {"axis": a, "keepdims": keepdims})


ARGMAX = _arg_op("argmax", np.argmax)
ARGMIN = _arg_op("argmin", np.argmin)


@follows_numpy(np.argmax)
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Node:
    """Index (int64) of the first maximum along ``axis`` (``None``: in the flattened
    ``x``), as ``numpy.argmax``. No gradient flows through it.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.argmax(m, axis=1), {m: [[1.0, 2.0], [4.0, 3.0]]}).tolist()
    [1, 0]
    """
    return _arg(ARGMAX, x, axis, keepdims)


@follows_numpy(np.argmin)
def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Node:
    """Index (int64) of the first minimum along ``axis`` (``None``: in the flattened
    ``x``), as ``numpy.argmin``. No gradient flows through it.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> int(sg.evaluate(sg.argmin(m), {m: [[1.0, 2.0], [0.0, 3.0]]}))
    2
    """
    return _arg(ARGMIN, x, axis, keepdims)

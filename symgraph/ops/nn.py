"""Numerically stable softmax family: ``softmax``, ``log_softmax``, ``logsumexp``.

Each subtracts the maximum before exponentiating, so large inputs never overflow. Over an
empty axis, ``logsumexp`` is -inf (the log of an empty sum, as ``scipy.special.logsumexp``
and JAX) and ``softmax``/``log_softmax`` are empty.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.core import (
    Case, Op, describe, inexact, make, normalize_axes, operands, operatorname, register,
    flag,
)
from symgraph.ops.elementwise import float_inputs
from symgraph.ops.functions import exp
from symgraph.ops.reduce import _batch_reduction, restore_reduced, sum as reduce_sum


def empty_axis(shape: tuple, axis: Any) -> bool:
    """Whether an axis reduced over (``axis``: a tuple, None for all) has length 0."""
    return any(shape[a] == 0 for a in (range(len(shape)) if axis is None else axis))


def _top(x: np.ndarray, axis: Any) -> np.ndarray:
    """The max over ``axis`` (kept), -inf over an empty axis, where np.max has no element:
    -inf is the max's identity, so logsumexp of nothing is log(0) = -inf (as scipy's and
    JAX's), and softmax of nothing is empty."""
    if empty_axis(x.shape, axis):
        return np.full(np.sum(x, axis=axis, keepdims=True).shape, -np.inf, dtype=x.dtype)
    return np.max(x, axis=axis, keepdims=True)


def _shifted(x: np.ndarray, axis: Any) -> np.ndarray:
    top = _top(x, axis)
    return x - np.where(np.isfinite(top), top, 0)


def _logsumexp(x: np.ndarray, *, axis: Any, keepdims: bool) -> np.ndarray:
    top = _top(x, axis)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x: np.ndarray, *, axis: Any) -> np.ndarray:
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, *, axis: Any) -> np.ndarray:
    s = _shifted(x, axis)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _ref_logsumexp(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis))


def _along(t: Node, out: Node) -> Node:
    return reduce_sum(t, axis=out.attrs["axis"], keepdims=True)


def _last_axis(node: Node) -> tuple:
    return (node.inputs[0].ndim - 1,)


LOGSUMEXP = register(Op(
    name="logsumexp", latex=operatorname("logsumexp"),
    impl=_logsumexp, dtype=inexact,
    shape=lambda inputs, attrs: tuple(
        1 if (attrs["axis"] is None or i in attrs["axis"]) else d
        for i, d in enumerate(inputs[0].shape)
        if attrs["keepdims"] or not (attrs["axis"] is None or i in attrs["axis"])),
    # d logsumexp(x)/dx = softmax(x)
    vjp=(lambda g, out: restore_reduced(g, out) * softmax(out.inputs[0], out.attrs["axis"]),),
    jvp=(lambda t, out: reduce_sum(t * softmax(out.inputs[0], out.attrs["axis"]),
                                   out.attrs["axis"], out.attrs["keepdims"]),),
    show_attrs=("axis", "keepdims"), defaults={"axis": _last_axis},
    batch=_batch_reduction,
    cases=[Case(lambda x: logsumexp(x), [((2, 3), -3.0, 3.0)], ref=_ref_logsumexp),
           Case(lambda x: logsumexp(x, axis=0), [((2, 3), -3.0, 3.0)],
                ref=lambda x: _ref_logsumexp(x, 0)),
           Case(lambda x: logsumexp(x, axis=None), [((4,), -3.0, 3.0)],
                ref=lambda x: _ref_logsumexp(x, None))],
))
SOFTMAX = register(Op(
    name="softmax", latex=operatorname("softmax"),
    impl=_softmax, dtype=inexact, shape=lambda inputs, attrs: inputs[0].shape,
    # d softmax: y * (g - sum(g * y))
    vjp=(lambda g, out: out * (g - _along(g * out, out)),),
    jvp=(lambda t, out: out * (t - _along(t * out, out)),),
    show_attrs=("axis",), defaults={"axis": _last_axis}, batch=_batch_reduction,
    cases=[Case(lambda x: softmax(x), [((2, 3), -3.0, 3.0)],
                ref=lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
           Case(lambda x: softmax(x, axis=0) * x, [((3, 2), -3.0, 3.0)],
                ref=lambda x: x * np.exp(x) / np.exp(x).sum(0, keepdims=True))],
))
LOG_SOFTMAX = register(Op(
    name="log_softmax", latex=operatorname("log_softmax"),
    impl=_log_softmax, dtype=inexact,
    shape=lambda inputs, attrs: inputs[0].shape,
    # d log_softmax: g - softmax(x) * sum(g), with softmax(x) = exp(out) (as JAX does): one
    # exp of values <= 0 that the forward pass already made, instead of a second softmax
    vjp=(lambda g, out: g - exp(out) * _along(g, out),),
    jvp=(lambda t, out: t - _along(exp(out) * t, out),),
    show_attrs=("axis",), defaults={"axis": _last_axis}, batch=_batch_reduction,
    cases=[Case(lambda x: log_softmax(x) * x, [((2, 3), -3.0, 3.0)],
                ref=lambda x: x * (x - np.log(np.exp(x).sum(-1, keepdims=True))))],
))


def _axes(x: Node, axis: Any, who: str) -> Any:
    axes = normalize_axes(axis, x.ndim, lambda: f"{who} of {describe(x)}")
    return None if axes is not None and len(axes) == x.ndim else axes


def logsumexp(x: Any, axis: Any = -1, keepdims: bool = False) -> Node:
    """``log(sum(exp(x), axis))``, computed without overflow.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> round(float(sg.evaluate(sg.logsumexp(v), {v: [1000.0, 1000.0]})), 4)
    1000.6931
    """
    (x,) = float_inputs(LOGSUMEXP, operands([x], "logsumexp"))
    keep = flag("sg.logsumexp", keepdims=keepdims)
    return make(LOGSUMEXP, [x], {"axis": _axes(x, axis, "logsumexp"), "keepdims": keep})


def softmax(x: Any, axis: Any = -1) -> Node:
    """``exp(x) / sum(exp(x), axis)``, computed without overflow.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.softmax(v), {v: [0.0, 0.0]}).tolist()
    [0.5, 0.5]
    """
    (x,) = float_inputs(SOFTMAX, operands([x], "softmax"))
    return make(SOFTMAX, [x], {"axis": _axes(x, axis, "softmax")})


def log_softmax(x: Any, axis: Any = -1) -> Node:
    """``x - logsumexp(x, axis)``: log-probabilities, computed without overflow.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.log_softmax(v), {v: [1000.0, 1000.0]}).round(4).tolist()
    [-0.6931, -0.6931]
    """
    (x,) = float_inputs(LOG_SOFTMAX, operands([x], "log_softmax"))
    return make(LOG_SOFTMAX, [x], {"axis": _axes(x, axis, "log_softmax")})

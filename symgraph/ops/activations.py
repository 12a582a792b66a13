"""More of ``jax.nn``, for ``sg.nn``: ``relu6 hard_tanh hard_sigmoid hard_silu celu mish
soft_sign squareplus glu log1mexp standardize logmeanexp one_hot``.

Each is ``jax.nn``'s formula written with ops (same signatures and defaults), so values
are JAX's (to rounding) and derivatives are the ops' own, to any order, with JAX's
conventions where JAX defines them: ``relu6``'s derivative is 0 at 0 and at 6 (JAX's
custom rule), ``celu``'s is 1 at 0, ``log1mexp``'s is ``1 / expm1(x)`` (inf at 0), and
no NaN leaks from a branch ``where`` did not take. (``selu``, ``swish`` and ``hard_swish``
sit with ``elu`` and ``silu`` in ``symgraph.nn``.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, elementwise, functions,
arithmetic, reduce, rounding, layout, shape and nn modules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arithmetic import maximum, minimum
from symgraph.ops.core import const, describe, normalize_axes, operands
from symgraph.ops.elementwise import cast, equal, where
from symgraph.ops.functions import abs as absolute
from symgraph.ops.functions import exp, expm1, log, log1p, sigmoid, softplus, sqrt, square
from symgraph.ops.functions import stop_gradient, tanh
from symgraph.ops.layout import split
from symgraph.ops.nn import logsumexp
from symgraph.ops.reduce import mean as reduce_mean
from symgraph.ops.rounding import clip
from symgraph.ops.shape import expand_dims

__all__ = ["celu", "glu", "hard_sigmoid", "hard_silu", "hard_tanh", "log1mexp", "logmeanexp",
           "mish", "one_hot", "relu6", "soft_sign", "squareplus", "standardize"]

_LN2 = math.log(2.0)


def _float(x: Any, who: str) -> Node:
    (x,) = operands([x], who)
    return x if x.dtype.kind == "f" else cast(x, np.float64)


def relu6(x: Any) -> Node:
    """``min(max(x, 0), 6)``, as ``jax.nn.relu6``; its derivative is 1 strictly between
    0 and 6 and 0 elsewhere, at 0 and 6 included (JAX's rule).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(4,))
    ...     y = sg.nn.relu6(x)
    >>> feed = {x: [-1.0, 0.0, 3.0, 6.0]}
    >>> sg.evaluate(y, feed).tolist(), sg.evaluate(sg.grad(y.sum(), x), feed).tolist()
    ([0.0, 0.0, 3.0, 6.0], [0.0, 0.0, 1.0, 0.0])
    """
    x = _float(x, "relu6")
    inside = (x > 0) & (x < 6)
    return where(inside, x, stop_gradient(minimum(maximum(x, 0.0), 6.0)))


def hard_tanh(x: Any) -> Node:
    """``x`` clipped to [-1, 1] as ``jax.nn.hard_tanh`` writes it (``where(x > 1, 1,
    where(x < -1, -1, x))``: the derivative is 1 on [-1, 1], bounds included).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate(sg.nn.hard_tanh(x), {x: [-3.0, 0.5, 2.0]}).tolist()
    [-1.0, 0.5, 1.0]
    """
    x = _float(x, "hard_tanh")
    return where(x > 1, 1.0, where(x < -1, -1.0, x))


def hard_sigmoid(x: Any) -> Node:
    """``relu6(x + 3) / 6``, as ``jax.nn.hard_sigmoid``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.nn.hard_sigmoid(x), {x: 0.0}))
    0.5
    """
    return relu6(_float(x, "hard_sigmoid") + 3.0) / 6.0


def hard_silu(x: Any) -> Node:
    """``x * hard_sigmoid(x)`` (hard swish), as ``jax.nn.hard_silu``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.nn.hard_silu(x), {x: 1.0}))
    0.6666666666666666
    """
    x = _float(x, "hard_silu")
    return x * hard_sigmoid(x)


def celu(x: Any, alpha: Any = 1.0) -> Node:
    """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``, as ``jax.nn.celu``; its
    derivative at 0 is 1 (the positive part's is 0 there, the negative part's 1).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = sg.nn.celu(x, alpha=2.0)
    >>> sg.evaluate(sg.grad(y.sum(), x), {x: [-2.0, 0.0, 3.0]}).round(6).tolist()
    [0.367879, 1.0, 1.0]
    """
    x = _float(x, "celu")
    # where(x > 0, x, 0) is max(x, 0) (NaN reaches the sum through the other part), and
    # passes nothing at 0, where minimum's tie passes the 1
    return where(x > 0, x, 0.0) + alpha * expm1(minimum(x, 0.0) / alpha)


def mish(x: Any) -> Node:
    """``x * tanh(softplus(x))``, as ``jax.nn.mish``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> round(float(sg.evaluate(sg.nn.mish(x), {x: 1.0})), 6)
    0.865098
    """
    x = _float(x, "mish")
    return x * tanh(softplus(x))


def soft_sign(x: Any) -> Node:
    """``x / (|x| + 1)``, as ``jax.nn.soft_sign``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.nn.soft_sign(x), {x: -3.0}))
    -0.75
    """
    x = _float(x, "soft_sign")
    return x / (absolute(x) + 1)


def squareplus(x: Any, b: Any = 4) -> Node:
    """``(x + sqrt(x^2 + b)) / 2``, a smooth relu, as ``jax.nn.squareplus``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.nn.squareplus(x), {x: 0.0}))
    1.0
    """
    x = _float(x, "squareplus")
    return (x + sqrt(square(x) + b)) / 2


def glu(x: Any, axis: int = -1) -> Node:
    """The gated linear unit: ``x`` cut in two halves ``a, b`` along ``axis``, ``a *
    sigmoid(b)``, as ``jax.nn.glu``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2, 4))
    >>> sg.nn.glu(x).shape
    (2, 2)
    """
    x = _float(x, "glu")
    if x.ndim == 0:
        raise ShapeError(f"glu of {describe(x)}: a scalar has no axis to cut in two")
    (k,) = normalize_axes(axis, x.ndim, lambda: f"glu of {describe(x)}")
    if x.shape[k] is None or x.shape[k] % 2:
        raise ShapeError(f"glu of {describe(x)}: axis {axis} has length {x.shape[k]}; it must "
                         "be even (and known when the graph is built) to cut in two halves")
    first, second = split(x, 2, k)
    return first * sigmoid(second)


def log1mexp(x: Any) -> Node:
    """``log(1 - exp(-x))`` for ``x >= 0``, stable, as ``jax.nn.log1mexp``: ``log(-expm1(
    -x))`` below ``log 2``, ``log1p(-exp(-x))`` from it. Its derivative ``1 / expm1(x)``
    (inf at 0); each branch reads ``x`` only where it is taken, so no NaN leaks.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.nn.log1mexp(x)
    >>> [round(float(v), 6) for v in sg.evaluate([y, sg.grad(y, x)], {x: 1.0})]
    [-0.458675, 0.581977]
    """
    x = _float(x, "log1mexp")
    small = x < _LN2
    near = where(small, x, 1.0)  # (1.0 and 0.5: values either branch takes safely)
    far = where(small, 0.5, x)
    return where(small, log(-expm1(-near)), log1p(-exp(-far)))


def _no_where(where_: Any, who: str) -> None:
    if where_ is not None:
        raise SymgraphError(f"sg.nn.{who}: where= is not supported; mask the input with "
                            "sg.where first")


def standardize(x: Any, axis: Any = -1, mean: Any = None, variance: Any = None,
                epsilon: Any = 1e-5, where: Any = None, *, algorithm: str = "fast") -> Node:
    """``(x - mean) / sqrt(variance + epsilon)`` over ``axis``, as ``jax.nn.standardize``:
    the mean and variance of ``x`` unless given; ``algorithm="fast"`` takes the variance as
    ``mean(x^2) - mean^2`` clipped at 0, ``"stable"`` as ``mean((x - mean)^2)``.
    ``where=`` is not supported.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(4,))
    ...     y = sg.nn.standardize(x, epsilon=0.0)
    >>> sg.evaluate(y, {x: [1.0, 2.0, 3.0, 4.0]}).round(4).tolist()
    [-1.3416, -0.4472, 0.4472, 1.3416]
    """
    _no_where(where, "standardize")
    if algorithm not in ("fast", "stable"):
        raise SymgraphError(f"sg.nn.standardize: algorithm={algorithm!r} must be 'fast' or "
                            "'stable'")
    x = _float(x, "standardize")
    if mean is None:
        mean = reduce_mean(x, axis, keepdims=True)
    if variance is None:
        if algorithm == "stable":
            variance = reduce_mean(square(x - mean), axis, keepdims=True)
        else:
            variance = clip(reduce_mean(square(x), axis, keepdims=True) - square(mean), 0.0,
                            None)
    return (x - mean) * (1 / sqrt(variance + epsilon))


def logmeanexp(x: Any, axis: Any = None, where: Any = None, keepdims: bool = False) -> Node:
    """``log(mean(exp(x), axis))`` without overflow, ``logsumexp(x, axis) - log(n)``, as
    ``jax.nn.logmeanexp`` (``where=`` not supported).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2,))
    >>> float(sg.evaluate(sg.nn.logmeanexp(x), {x: [1000.0, 1000.0]}))
    1000.0
    """
    _no_where(where, "logmeanexp")
    x = _float(x, "logmeanexp")
    axes = normalize_axes(axis, x.ndim, lambda: f"sg.nn.logmeanexp of {describe(x)}")
    axes = tuple(range(x.ndim)) if axes is None else axes
    sizes = [x.shape[a] for a in axes]
    if None in sizes:
        raise ShapeError(f"sg.nn.logmeanexp of {describe(x)}: the reduced axes' lengths must "
                         "be known when the graph is built")
    lse = logsumexp(x, axes if axes else None, keepdims) if axes else x
    return lse - const(math.log(math.prod(sizes)), dtype=lse.dtype, graph=lse.graph)


def one_hot(x: Any, num_classes: int, *, dtype: Any = None, axis: int = -1) -> Node:
    """``x == arange(num_classes)`` along a new ``axis``, as ``jax.nn.one_hot`` (float64
    by default): an index outside ``[0, num_classes)``, negative ones included, gives a
    row of zeros (``sg.one_hot`` counts negative indices from the end, as NumPy's
    indexing). No gradient flows.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     i = sg.var("i", shape=(3,), dtype="int64")
    >>> sg.evaluate(sg.nn.one_hot(i, 3), {i: [2, -1, 0]}).tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    (x,) = operands([x], "one_hot")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 0:
        raise SymgraphError(f"sg.nn.one_hot of {describe(x)}: num_classes={num_classes!r} "
                            "must be an int >= 0")
    (k,) = normalize_axes(axis, x.ndim + 1, lambda: f"sg.nn.one_hot of {describe(x)}")
    shape = [1] * (x.ndim + 1)
    shape[k] = num_classes
    classes = const(np.arange(num_classes).reshape(shape), graph=x.graph)
    return cast(equal(expand_dims(x, k), classes), np.float64 if dtype is None else dtype)

"""``sg.nn``: neural-network ops under one name, as ``torch.nn.functional``.

``conv2d max_pool2d avg_pool2d``, ``relu sigmoid softplus softmax log_softmax
logsumexp`` (also at the top level), and the activations ``gelu silu swish elu selu
leaky_relu log_sigmoid`` here and ``relu6 hard_tanh hard_sigmoid hard_silu hard_swish celu
mish soft_sign squareplus glu log1mexp standardize logmeanexp one_hot`` from
``symgraph.ops.activations``, written with ops as ``jax.nn`` writes them (same signatures
and defaults), so their derivatives are the ops' own, to any order. A small convolutional
layer and its gradient:

>>> import numpy as np, symgraph as sg
>>> with sg.Graph():
...     x = sg.var("x", shape=(None, 1, 8, 8))        # a batch of 8x8 images
...     w = sg.var("w", shape=(4, 1, 3, 3))           # four 3x3 filters
...     h = sg.nn.max_pool2d(sg.nn.relu(sg.nn.conv2d(x, w, padding=1)), 2)
...     loss = sg.sum(sg.nn.logsumexp(h.reshape((-1, 64))))
...     dw = sg.grad(loss, w)
>>> h.shape, dw.shape
((None, 4, 4, 4), (4, 1, 3, 3))
>>> rng = np.random.default_rng(0)
>>> value = sg.evaluate(dw, {x: rng.normal(size=(2, 1, 8, 8)), w: rng.normal(size=(4, 1, 3, 3))})
>>> value.shape
(4, 1, 3, 3)

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

import math
from typing import Any

from symgraph.graph import Node
from symgraph.ops import (
    avg_pool2d, conv2d, erf, expm1, log_softmax, logsumexp, max_pool2d, operands, relu,
    sigmoid, softmax, softplus, tanh, where,
)
from symgraph.ops.activations import (
    celu, glu, hard_sigmoid, hard_silu, hard_tanh, log1mexp, logmeanexp, mish, one_hot, relu6,
    soft_sign, squareplus, standardize,
)

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "relu", "sigmoid", "softplus", "softmax",
           "log_softmax", "logsumexp", "gelu", "silu", "elu", "leaky_relu", "log_sigmoid",
           "selu", "swish", "relu6", "hard_tanh", "hard_sigmoid", "hard_silu", "hard_swish",
           "celu", "mish", "soft_sign", "squareplus", "glu", "log1mexp", "standardize",
           "logmeanexp", "one_hot"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: Any, approximate: bool = True) -> Node:
    """The Gaussian error linear unit ``x * Phi(x)``, as ``jax.nn.gelu``: by default its tanh
    approximation ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``; ``approximate=False``
    is exact, ``x/2 (1 + erf(x / sqrt(2)))`` (PyTorch's default).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> [round(float(sg.evaluate(sg.nn.gelu(x, a), {x: 1.0})), 6) for a in (True, False)]
    [0.841192, 0.841345]
    """
    (x,) = operands([x], "gelu")
    if approximate:
        return x * (0.5 * (1.0 + tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))))
    return x * (0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0)))))


def silu(x: Any) -> Node:
    """``x * sigmoid(x)`` (swish), as ``jax.nn.silu``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> round(float(sg.evaluate(sg.nn.silu(x), {x: 1.0})), 6)
    0.731059
    """
    (x,) = operands([x], "silu")
    return x * sigmoid(x)


def elu(x: Any, alpha: float = 1.0) -> Node:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``, as ``jax.nn.elu``: the
    exponential reads ``min(x, 0)``, so a large ``x`` gives no inf in the other branch (and
    no NaN in the gradient).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = sg.nn.elu(x)
    >>> sg.evaluate(sg.grad(y.sum(), x), {x: [-1.0, 2.0, 1000.0]}).round(6).tolist()
    [0.367879, 1.0, 1.0]
    """
    (x,) = operands([x], "elu")
    positive = x > 0
    return where(positive, x, alpha * expm1(where(positive, 0.0, x)))


def leaky_relu(x: Any, negative_slope: float = 1e-2) -> Node:
    """``x`` where ``x >= 0``, else ``negative_slope * x``, as ``jax.nn.leaky_relu``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2,))
    >>> sg.evaluate(sg.nn.leaky_relu(x), {x: [-2.0, 3.0]}).tolist()
    [-0.02, 3.0]
    """
    (x,) = operands([x], "leaky_relu")
    return where(x >= 0, x, negative_slope * x)


def log_sigmoid(x: Any) -> Node:
    """``log(sigmoid(x))`` as ``-softplus(-x)``, as ``jax.nn.log_sigmoid``: finite where
    ``sigmoid(x)`` underflows to 0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.nn.log_sigmoid(x), {x: -800.0}))
    -800.0
    """
    (x,) = operands([x], "log_sigmoid")
    return -softplus(-x)


swish = silu  # jax.nn.swish is jax.nn.silu
hard_swish = hard_silu  # jax.nn.hard_swish is jax.nn.hard_silu

# SELU's constants, as jax.nn.selu writes them (float64 reads them to the last bit)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Node:
    """The scaled exponential linear unit ``scale * elu(x, alpha)`` with JAX's constants
    (alpha 1.6733, scale 1.0507), as ``jax.nn.selu``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2,))
    >>> sg.evaluate(sg.nn.selu(x), {x: [-1.0, 1.0]}).round(6).tolist()
    [-1.111331, 1.050701]
    """
    (x,) = operands([x], "selu")
    return _SELU_SCALE * elu(x, _SELU_ALPHA)

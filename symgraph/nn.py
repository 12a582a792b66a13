"""``sg.nn``: neural-network ops under one name, as ``torch.nn.functional``.

``conv2d max_pool2d avg_pool2d``, and ``relu sigmoid softplus softmax log_softmax
logsumexp`` (also at the top level). A small convolutional layer and its gradient:

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

Imports: ``symgraph.ops``.
"""

from __future__ import annotations

from symgraph.ops import (
    avg_pool2d, conv2d, log_softmax, logsumexp, max_pool2d, relu, sigmoid, softmax, softplus,
)

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "relu", "sigmoid", "softplus", "softmax",
           "log_softmax", "logsumexp"]

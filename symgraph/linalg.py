"""``sg.linalg``: NumPy's ``np.linalg`` names for symgraph nodes.

``inv solve det slogdet cholesky eigh svd qr norm`` with NumPy's signatures (and
``solve_triangular`` with SciPy's and JAX's), batched over leading axes, differentiable to
any order (``eigh``/``svd`` where the spectrum is distinct). ``slogdet``, ``eigh``, ``svd``
and ``qr`` return named tuples of nodes, as NumPy does. The ops live in
``symgraph.ops.factor``, ``symgraph.ops.spectral`` and ``symgraph.ops.triangular``; their
docstrings give the derivative rules and how several results share one decomposition.

The negative log-density of a Gaussian ``N(0, K)`` through ``cholesky`` and ``solve``,
and its gradient with respect to ``K`` (``cholesky`` reads K's lower triangle, so the
gradient sits there: ``G = (K^-1 - K^-1 y y^T K^-1) / 2`` with each entry below the
diagonal standing for two):

>>> import numpy as np, symgraph as sg
>>> with sg.Graph():
...     K, y = sg.var("K", shape=(2, 2)), sg.var("y", shape=(2,))
...     L = sg.linalg.cholesky(K)
...     z = sg.linalg.solve(L, y)                          # L^-1 y
...     log_det = 2 * sg.sum(sg.log(sg.sum(L * np.eye(2), axis=-1)))
...     nll = 0.5 * sg.sum(z * z) + 0.5 * log_det + np.log(2 * np.pi)
...     dK = sg.grad(nll, K)
>>> K_, y_ = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([1.0, -1.0])
>>> value, grad = sg.evaluate([nll, dK], {K: K_, y: y_})
>>> round(float(value), 6)
3.260542
>>> G = (np.linalg.inv(K_) - np.outer(*[np.linalg.solve(K_, y_)] * 2)) / 2
>>> np.allclose(grad, np.tril(G + G.T, -1) + np.diag(np.diag(G)))   # folded
True
>>> grad.round(6).tolist()
[[-0.081633, 0.0], [0.938776, -0.44898]]

Imports: ``symgraph.ops``.
"""

from __future__ import annotations

from symgraph.ops.factor import cholesky, det, inv, slogdet, solve
from symgraph.ops.spectral import eigh, norm, qr, svd
from symgraph.ops.triangular import solve_triangular

__all__ = ["cholesky", "det", "eigh", "inv", "norm", "qr", "slogdet", "solve",
           "solve_triangular", "svd"]

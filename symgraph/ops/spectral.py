"""Decompositions and norms: ``eigh svd qr norm``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

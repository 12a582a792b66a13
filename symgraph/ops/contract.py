"""Products and diagonals: ``tril triu diag diagonal trace outer inner tensordot einsum kron``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

"""Exponentials and logarithms in other bases and forms: ``log2 log10 exp2 logaddexp``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

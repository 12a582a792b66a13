"""Trigonometric and hyperbolic functions and their inverses: ``arcsin arccos arctan arctan2 sinh cosh arcsinh arccosh arctanh hypot``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

"""Reductions beyond sum/mean/max: ``min prod variance std argmax argmin``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

"""Piecewise functions: ``clip floor ceil round mod`` and the tests ``isnan isfinite``, with ``nan_to_num``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

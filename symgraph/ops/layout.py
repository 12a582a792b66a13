"""Shape ops: ``squeeze ravel swapaxes moveaxis repeat tile split pad flip roll vstack hstack``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

"""Gathering and scattering by integer index: ``x[idx]``, ``take``, ``take_along_axis``, ``one_hot``.

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

"""Convolution and pooling: ``conv2d max_pool2d avg_pool2d`` (NCHW, OIHW, as PyTorch).

(Being written: issue 14.)

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

__all__: list[str] = []

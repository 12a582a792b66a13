"""``sg.nn``: neural-network ops under one name, as ``torch.nn.functional``.

``conv2d max_pool2d avg_pool2d``, and ``relu sigmoid softplus softmax log_softmax
logsumexp`` (also at the top level).

Imports: ``symgraph.ops``.
"""

from __future__ import annotations

__all__: list[str] = []

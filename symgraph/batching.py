"""Vectorizing a graph over a batch axis (symbolic vmap), for Jacobians and Hessians.

Owns: :func:`vectorize`. Given result nodes that depend on a ``placeholder`` node, it
rebuilds every node between them with each op's ``batch`` rule, as if the placeholder
had an extra leading axis holding ``batched_value``. A Jacobian is then one reverse pass
for a placeholder cotangent, vectorized over the rows of an identity matrix: its graph
is O(gradient graph), not one gradient graph per output element.

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from symgraph.graph import Node, ancestors
from symgraph.ops import broadcast_to, expand_dims


def vectorize(results: list[Node], placeholder: Node, batched_value: Node) -> list[Node] | None:
    """``results`` with ``placeholder`` replaced by ``batched_value`` (shape
    ``(B, *placeholder.shape)``); each result gains the leading axis ``B``.

    Returns ``None`` when an op on the way has no batch rule (the caller then falls back
    to building one graph per batch entry).
    """
    size = batched_value.shape[0]
    new: dict[int, Node] = {placeholder.id: batched_value}
    for node in ancestors(results):
        if node.id == placeholder.id:
            continue
        batched = tuple(inp.id in new for inp in node.inputs)
        if not any(batched):
            continue
        rule = node.opdef.batch
        out = rule(node, [new.get(i.id, i) for i in node.inputs], batched) if rule else None
        if out is None:
            return None
        if out.shape == node.shape:
            continue  # the rule found the result independent of the batch (e.g. a count)
        if out.shape != (size, *node.shape):
            return None
        new[node.id] = out
    outputs = []
    for r in results:
        if r.id in new:
            outputs.append(new[r.id])
        else:  # does not depend on the placeholder: the same for every batch entry
            outputs.append(broadcast_to(expand_dims(r, 0), (size, *r.shape)))
    return outputs

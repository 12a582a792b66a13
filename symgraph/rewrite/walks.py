"""The walks the rewrite engine takes over a graph: iterative (no recursion, so chains of
100,000 nodes are fine) and bounded where they only need to count.

Owns :func:`size_upto`, :func:`ops_below`, :func:`fresh_over_clean` and :func:`unsettled`.

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from collections.abc import Sequence

from symgraph.graph import Node
from symgraph.ops.core import CONST, VAR


def size_upto(outputs: Sequence[Node], limit: int) -> int:
    """How many ancestors ``outputs`` have, counting stops past ``limit``."""
    seen: set[int] = set()
    stack = list(outputs)
    while stack and len(seen) <= limit:
        node = stack.pop()
        if node.id not in seen:
            seen.add(node.id)
            stack.extend(node.inputs)  # (seen ones are skipped when popped: cheaper)
    return len(seen)


def ops_below(outputs: Sequence[Node], limit: int) -> bool:
    """Whether ``outputs`` stand on fewer than ``limit`` operation nodes (not inputs,
    not constants); the walk stops at the ``limit``-th (a large graph compared with a
    small one costs the small one's size)."""
    if limit <= 0:
        return False
    seen: set[int] = set()
    stack = list(outputs)
    count = 0
    while stack:
        node = stack.pop()
        if node.id not in seen:
            seen.add(node.id)
            if node.opdef is not VAR and node.opdef is not CONST:
                count += 1
                if count >= limit:
                    return False
            stack.extend(i for i in node.inputs if i.id not in seen)
    return True


def fresh_over_clean(outputs: Sequence[Node], clean: set[int], limit: int) -> bool:
    """Whether ``outputs`` have more than ``limit`` ancestors not in ``clean`` and reach
    down into ``clean`` (a graph built on what an earlier simplify returned)."""
    if not clean:  # nothing simplified yet in this graph and mode: no walk
        return False
    seen: set[int] = set()
    stack = [o for o in outputs if o.id not in clean]
    reached = False
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        if len(seen) > limit and reached:
            return True
        for i in node.inputs:
            if i.id in clean:
                reached = True
            elif i.id not in seen:
                stack.append(i)
    return reached and len(seen) > limit


def unsettled(outputs: Sequence[Node], settled: set[int], clean: set[int]) -> list[Node]:
    """The ancestors of ``outputs`` that are neither settled nor clean, in id order
    (iterative; the walk stops at settled and clean nodes, whose subtrees are too)."""
    seen: dict[int, Node] = {}
    stack = [o for o in outputs if o.id not in settled and o.id not in clean]
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen[node.id] = node
        for i in node.inputs:
            if i.id not in seen and i.id not in settled and i.id not in clean:
                stack.append(i)
    return [seen[i] for i in sorted(seen)]

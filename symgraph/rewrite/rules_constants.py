"""Rules of one node per value: merging equal nodes, folding ops of constants.

Owns the rules ``merge-const``, ``merge-commuted`` (stage ``merge``) and ``fold-const``
(``canonicalize``), as data, with their replacement functions. Constants are folded
compactly: a fill (a zero-stride array) with fills gives a fill, and a large result is
never materialised (the rule declines).

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``patterns``.
"""

from __future__ import annotations

import hashlib

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.core import FOLD_LIMIT, OPS, attr_key, fill_value, fold
from symgraph.ops.shape import batch_elementwise
from symgraph.rewrite.patterns import ANY_OP, Match, Rule

# Ops whose value on fills is a fill: elementwise, or moving elements only.
_FILL_MOVES = frozenset({"broadcast_to", "reshape", "transpose", "expand_dims"})


def _fold_const(m: Match) -> Node | None:
    """An op of constants -> the constant evaluate would compute (same impl, same dtype:
    no cast that evaluate would not make); fills stay fills, large results are left."""
    node = m.node
    if not node.inputs or any(i.op != "const" for i in node.inputs) or None in node.shape:
        return None
    values = [i.attrs["value"] for i in node.inputs]
    builtin = OPS.get(node.op) is node.opdef
    if builtin and node.op in _FILL_MOVES and fill_value(values[0]) is not None:
        value = np.broadcast_to(fill_value(values[0]), node.shape)  # a fill moved: a fill
    else:  # (None where the op fails on these constants: it fails at run time then)
        value = fold(node.opdef, values, node.attrs, node.shape,
                     builtin and node.opdef.batch is batch_elementwise)
    if value is None or value.shape != node.shape or value.dtype != node.dtype:
        return None
    return ops.const(value, graph=node.graph)


def _merge_const(m: Match) -> Node | None:
    """Equal large constants (not interned, to keep hashing cheap) become one; fills are
    interned already, and a stored array is hashed in place (no copy)."""
    node, seen = m.node, m.state.setdefault("merge-const", {})
    value = node.attrs["value"]
    if node.name or value.size <= FOLD_LIMIT or not any(value.strides):
        return None
    data = value.data if value.flags.c_contiguous else value.tobytes()
    key = (value.dtype.str, value.shape, hashlib.blake2b(data, digest_size=16).digest())
    first = seen.setdefault(key, node)
    return first if first is not node and np.array_equal(
        first.attrs["value"], value, equal_nan=value.dtype.kind == "f") else None


def _merge_commuted(m: Match) -> Node | None:
    """``b + a`` becomes an existing ``a + b`` built earlier (no node is made)."""
    return _commuted_earlier(m.node)


def _commuted_earlier(node: Node) -> Node | None:
    if len(node.inputs) != 2 or node.inputs[0] is node.inputs[1]:
        return None
    a, b = node.inputs
    # The interning key of ops.core.make: (op, *input ids, *attrs).
    key = (node.op, b.id, a.id, *attr_key(node.attrs)) if node.attrs else (node.op, b.id, a.id)
    other = node.graph._lookup(key)
    return other if other is not None and other.id < node.id else None


def _commutes(m: Match) -> bool:
    """a+b and a*b equal b+a and b*a; maximum and minimum return their second operand on a
    tie, so ``maximum(0.0, -0.0)`` is -0.0 and ``maximum(-0.0, 0.0)`` is 0.0."""
    return m.node.op in ("add", "multiply") or m.node.dtype.kind != "f"


RULES: list[Rule] = [
    # merge: one node per value (interning already shares equal small subexpressions).
    Rule("merge-const", "merge", None, _merge_const, "equal large constants", roots=("const",),
         when=lambda n: n.attrs["value"].size > FOLD_LIMIT),
    Rule("merge-commuted", "merge", None, _merge_commuted, "b+a -> an existing a+b",
         roots=tuple(sorted(name for name, op in OPS.items() if op.commutative)),
         # the whole test, cheaper than a match on the ~99% of nodes where it fails
         when=lambda n: _commuted_earlier(n) is not None, exact=_commutes),
    # canonicalize: fewer, simpler nodes with the same values.
    Rule("fold-const", "canonicalize", None, _fold_const, "an op of constants -> a constant",
         roots=(ANY_OP,),
         when=lambda n: bool(n.inputs) and all(i.op == "const" for i in n.inputs),
         when_by_ops=True),
]

"""``collect-like-terms``: like terms of a sum collected, exactly (the default simplify).

Owns :func:`eligible` (which nodes make up a sum: ``+``, ``-``, negation and scaling by a
constant) and :func:`linear_plan` (a sum's terms, the exactness test, and the rebuilt sum,
each distinct term once: ``cos(s) - s*sin(s) + cos(s) -> 2*cos(s) - s*sin(s)``).
``symgraph.rewrite.terms.collect_pass`` runs it over whole sums (``linear=True``), so a sum
whose inner parts other nodes also need is not duplicated.

Exactness (every value kept, NaN, inf and -0.0 included, up to rounding). Each term's
coefficients have one strict sign and a finite sum (``x + 2*x -> 3*x``; ``x - x`` is NaN
at inf): the rule of ``add-like-terms``. Moving terms across a sum reassociates it, which
floats keep up to rounding except where a partial sum overflows in one order and not in
the other (``(1e308 - 1e308) + 1e308`` against ``2e308 - 1e308``): so at most one distinct
term may be unbounded; the others must be bounded by their op (``sin``, ``cos``, ``tanh``,
``sigmoid``: ``|y| <= 1``, products of such) with a small total, where no order can
overflow. The sign of zero survives a reordered sum (the result is -0.0 only when every
term is) but not a negated one (``-(a - b)`` is -0.0 where ``b - a`` is 0.0), so a sum
may be negated, scaled or subtracted only as a whole term, never distributed over.

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``folding``.
"""

from __future__ import annotations

import math

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.arithmetic import ADD, MULTIPLY, NEGATIVE, SUBTRACT
from symgraph.ops.core import CONST, make
from symgraph.ops.functions import COS, SIGMOID, SIN, SQUARE, TANH
from symgraph.rewrite.folding import exact_product

__all__ = ["eligible", "linear_plan"]

_SUM_OPS = frozenset({ADD, SUBTRACT, NEGATIVE, MULTIPLY})
_UNIT = frozenset({SIN, COS, TANH, SIGMOID})  # |y| <= 1 (NaN stays NaN in any order)
# The bounded terms' total: far below overflow (2**1023) in any order, and small enough
# that a reordered sum rounds as the original does (its error is eps times this).
BOUND_LIMIT = 2.0**20
_BOUND_DEPTH = 8  # how deep the bound of a term is looked for (products of products)


def _scalar(node: Node, like: Node) -> float | None:
    """The one finite nonzero value of a constant usable as ``like``'s coefficient."""
    if node.opdef is not CONST or node.dtype != like.dtype or node.ndim > like.ndim:
        return None
    value = node.attrs["value"]
    if value.size == 0 or (value.size > 1 and any(value.strides)):
        return None
    c = float(value.flat[0])
    return c if c != 0.0 and math.isfinite(c) else None


def _finite_in(value: float, dtype: np.dtype) -> bool:
    """Whether ``value`` stays finite as a constant of ``dtype``."""
    with np.errstate(all="ignore"):
        return math.isfinite(value) and bool(np.isfinite(np.asarray(value, dtype=dtype)))


def eligible(n: Node) -> bool:
    """A node of a sum: ``+``, ``-``, negation, or a product with one scalar constant, of
    float nodes of one static shape (a scalar constant may stand for a term)."""
    if n.opdef not in _SUM_OPS or n.dtype.kind != "f" or None in n.shape:
        return False
    consts = 0
    for inp in n.inputs:
        if inp.opdef is CONST:
            if _scalar(inp, n) is None:
                return False
            consts += 1
        elif inp.shape != n.shape or inp.dtype != n.dtype:
            return False
    return consts == 1 if n.opdef is MULTIPLY else consts < len(n.inputs)


def _bound(node: Node, depth: int = 0) -> float:
    """An upper bound of ``|node|`` from its op alone (inf where none is known)."""
    op = node.opdef
    if op in _UNIT:
        return 1.0
    if depth >= _BOUND_DEPTH:
        return math.inf
    if op is MULTIPLY:
        a, b = _bound(node.inputs[0], depth + 1), _bound(node.inputs[1], depth + 1)
        # 0*x is 0 or NaN, bounded by 0 (0*inf would be a NaN bound, which every later
        # comparison passes: the check of the bounded terms' total would be off)
        return 0.0 if a == 0.0 or b == 0.0 else a * b
    if op is SQUARE:
        return _bound(node.inputs[0], depth + 1) ** 2
    if op is NEGATIVE:
        return _bound(node.inputs[0], depth + 1)
    if op is CONST and node.attrs["value"].size == 1:
        value = abs(float(node.attrs["value"].flat[0]))
        return math.inf if math.isnan(value) else value  # (a NaN bound would pass every test)
    return math.inf


def _terms(root: Node, inside: set[int], exact: bool,
           scales: list[tuple[float, float]]) -> list[tuple[Node, float]] | None:
    """The terms of the sum at ``root`` as ``(node, coefficient)``, walking the nodes in
    ``inside``; None where ``exact`` forbids (a sum negated or scaled). ``scales`` gets
    the products of constants made, to be checked (costly) only if terms are collected."""
    out: list[tuple[Node, float]] = []
    stack: list[tuple[Node, float]] = [(root, 1.0)]
    while stack:
        node, scale = stack.pop()
        op = node.opdef
        if node.id not in inside:
            out.append((node, scale))
        elif op is ADD or op is SUBTRACT:
            if scale != 1.0 and exact:  # -(a - b) is -0.0 where b - a is 0.0
                return None
            # The sub-sum's terms carry its scale (c*(a - b) = c*a - c*b): dropping it
            # turned x + 3*(x - y) into 2*x - y under assume_finite.
            a, b = node.inputs
            stack.append((b, -scale if op is SUBTRACT else scale))
            stack.append((a, scale))
        elif op is NEGATIVE:
            stack.append((node.inputs[0], -scale))
        else:  # a product with one scalar constant
            c, x = node.inputs if node.inputs[0].opdef is CONST else node.inputs[::-1]
            value = _scalar(c, node)
            if value is None:
                return None
            if exact and abs(scale) != 1.0:
                scales.append((scale, value))
            if exact and x.id in inside and x.opdef in (ADD, SUBTRACT):
                return None  # c*(a - b) is not c*a - c*b at -0.0
            stack.append((x, scale * value))
    return out


class LinearPlan:
    """A sum's distinct terms ``(node, coefficient)``, in the order they first appear,
    rebuilt as ``c1*t1 + c2*t2 - ...`` (``cost``: the op nodes that takes)."""

    def __init__(self, groups: list[tuple[Node, float]]):
        self.groups = groups
        self.cost = len(groups) - 1 + sum(1 for _, c in groups if abs(c) != 1.0)
        if all(c < 0 for _, c in groups) and groups[0][1] == -1.0:
            self.cost += 1  # the first term negated

    def build(self, root: Node, new: dict[int, Node]) -> Node:
        graph, dtype = root.graph, root.dtype

        def term(node: Node, c: float) -> Node:
            x = new.get(node.id, node)
            if node.opdef is CONST:  # the constant terms, summed
                return ops.const(c * float(node.attrs["value"].flat[0]), dtype=dtype,
                                 graph=graph)
            return x if c == 1.0 else make(MULTIPLY, [ops.const(c, dtype=dtype, graph=graph), x])

        # positive terms first (a - b, not -b + a); a negative total keeps its sign per term
        order = sorted(self.groups, key=lambda g: g[1] < 0)
        first, c0 = order[0]
        out = term(first, c0) if c0 > 0 or c0 != -1.0 else make(
            NEGATIVE, [new.get(first.id, first)])
        for node, c in order[1:]:
            out = make(ADD if c > 0 else SUBTRACT, [out, term(node, abs(c))])
        return out


def linear_plan(root: Node, inside: set[int], region_size: int,
                exact: bool = True) -> LinearPlan | None:
    """The plan collecting the like terms of the sum at ``root`` (``inside``: the ids of
    the nodes that make up the sum), or None when nothing is collected, it would not be
    smaller, or (``exact``) it would not be exact (see the module's docstring); without
    ``exact`` (assume_finite) only terms cancelling to zero are left to collect-terms."""
    scales: list[tuple[float, float]] = []
    terms = _terms(root, inside, exact, scales)
    if terms is None:
        return None
    groups: dict[int | None, list] = {}
    for node, c in terms:
        key = None if node.opdef is CONST else node.id  # None: the constants
        if node.opdef is CONST and float(node.attrs["value"].flat[0]) == 0.0 and exact:
            return None  # x + 0.0 is not x at -0.0: add-zero's business
        groups.setdefault(key, [node, []])[1].append(
            c * float(node.attrs["value"].flat[0]) if key is None else c)
    if len(groups) == len(terms) or len(groups) < 2:
        return None  # no like terms (or only one term: a scaling, mul-consts' business)
    unbounded, total, kept = 0, 0.0, []
    for key, (node, cs) in groups.items():
        try:
            s = math.fsum(cs)
        except OverflowError:  # (1e308 + 1e308: the sum is not finite, no rule of ours)
            return None
        # finite as the rebuilt coefficient holds it, in the sum's dtype (float32: 6e38 is inf)
        if not _finite_in(s, root.dtype) or s == 0.0 or (
                exact and not (all(c > 0 for c in cs) or all(c < 0 for c in cs))):
            return None
        bound = abs(s) if key is None else _bound(node)
        if math.isinf(bound):
            unbounded += 1
        else:
            total += sum(abs(c) for c in cs) * (1.0 if key is None else bound)
        kept.append((node, s if key is not None else s / float(node.attrs["value"].flat[0])))
    # (float16 overflows at 65504: there the bound is its largest number / 64)
    limit = min(BOUND_LIMIT, float(np.finfo(root.dtype).max) / 64)
    if exact and (unbounded > 1 or total > limit
                  or not all(exact_product(c, d, root.dtype) for c, d in scales)):
        return None
    plan = LinearPlan(kept)
    # fewer terms at no more nodes: 2*cos(s) - s*sin(s) for cos(s) - s*sin(s) + cos(s)
    return plan if plan.cost <= region_size else None

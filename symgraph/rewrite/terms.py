"""``collect-terms``: sums of products as polynomials, rebuilt in Horner form.

Owns :func:`collect_pass`, which the engine (``symgraph.rewrite.driver``) runs as the
region rule ``collect-terms``, and the Horner plans; the polynomials themselves
(``{monomial: coefficient}``, their arithmetic) are ``symgraph.rewrite.polynomials``'.
A plan reads a polynomial whose monomials are indices of a table of sorted tuples of
``(atom id, power)`` (``polynomials.Monomials``, one per graph and thread).

It is polynomial algebra: exact for real numbers, not for floats (``x - x`` is NaN at
inf, Horner form overflows elsewhere), so the engine runs it only with ``assume_finite``.
Where ``sin(x)`` and ``cos(x)`` are both atoms of a polynomial, ``sin(x)**2 + cos(x)**2 = 1``
gives it a normal form with fewer terms (``symgraph.rewrite.trig_terms``).
It gives up on sums of more than ``MAX_TERMS`` terms or ``MAX_FACTORS`` factors (an atom
to its consumers then). Ops are told apart by their records (``n.opdef is POWER``).

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``folding``,
``like_terms``, ``polynomials`` and ``trig_terms``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from symgraph import ops
from symgraph.graph import Node, ancestors
from symgraph.ops.arithmetic import ADD, DIVIDE, MULTIPLY, NEGATIVE, POWER, SUBTRACT
from symgraph.ops.core import CONST, make
from symgraph.ops.functions import SQUARE
from symgraph.rewrite import like_terms, trig_terms
from symgraph.rewrite.folding import fill
from symgraph.rewrite.polynomials import MAX_TERMS, Monomials, combine

MAX_POWER = 16  # x**k with a constant integer k <= this is expanded as a product

_POLY_OPS = frozenset({ADD, SUBTRACT, NEGATIVE, MULTIPLY, SQUARE, POWER, DIVIDE})
_ATOM = object()  # the tag of a plan's step that is an atom (a node of the graph)
# the graph's cache entry holding the ids of the nodes Horner plans built (never stale:
# nodes never change)
_PLANNED = ("collect-terms", "planned")
_MONOMIALS = "collect-terms.monomials"  # graph.cache, with a thread's id: its Monomials
# the tasks of a Horner plan's explicit stack
_BUILD, _TERM, _TOTAL, _SCALE, _FMA = range(5)


def collect_pass(outputs: list[Node], clean: set[int], done: set[int],
                 enter: Callable[[Node], None], rebuild: Callable[[Node, tuple], Node],
                 replaced: Callable[[Node, Node], None],
                 linear: bool = False, exact: bool = True) -> tuple[list[Node], bool]:
    """Rebuild each maximal sum of products from its polynomial, where that is smaller.

    A node is *absorbed* when it is a polynomial op of static shape whose inputs share
    its shape and dtype (or are scalar constants); a *root* is absorbed but needed by
    something else (an output, a non-polynomial consumer). Each root's polynomial over
    its atoms (every other node; other roots count as atoms, so shared nodes stay
    shared) is rebuilt in Horner form if that has fewer nodes than the root's region.

    Regions made only of ``clean`` nodes (an earlier simplify's results) or ``done`` ones
    (an earlier collect pass's) are settled: only fresh sums of products, and the clean
    ones they reach down into, are collected; ``done`` gets this pass's results. The
    callbacks: ``enter(n)`` before building nodes that replace ``n`` (its provenance),
    ``rebuild(n, inputs)`` (``n`` over new inputs), ``replaced(n, new)`` (a root
    collected). Returns the new outputs and whether anything changed.

    ``linear=True`` is ``collect-like-terms`` (``symgraph.rewrite.like_terms``): only
    sums and scalings are absorbed, products are atoms, and a root is rebuilt only where
    collecting its like terms is exact (or, ``exact=False``, assume_finite's). The nodes
    a Horner plan built are settled for it too (kept in the graph's cache): sums of
    distinct monomials hold no like terms, so the like-terms pass that follows a
    collect-terms pass does not walk its results again.
    """
    is_eligible = like_terms.eligible if linear else _eligible
    planned: set[int] = outputs[0].graph.cache.setdefault(_PLANNED, set())
    # like terms of fresh sums only: the walk stops at settled nodes (atoms to it), so a
    # pass costs the new nodes, not the graph (it runs in every simplify)
    settled = _Either(clean, done, planned) if linear else frozenset()
    # (a plain set when it is one: a run's first collect pass has done nothing yet)
    old = settled if linear else _Either(clean, done) if done else clean
    nodes = ancestors(outputs, stop=settled)
    needed = {o.id for o in outputs}
    eligible: set[int] = set()
    reach: set[int] = set()
    if not old:  # nothing settled (a raw graph): no reach to follow
        eligible = {n.id for n in nodes if is_eligible(n)}
    for n in reversed(nodes if old else ()):
        if (n.id not in old or n.id in reach) and is_eligible(n):
            eligible.add(n.id)
            for i in n.inputs:
                reach.add(i.id)
    for n in nodes:
        if n.id not in eligible:
            for i in n.inputs:
                needed.add(i.id)
    # each absorbed node's polynomial (symgraph.rewrite.polynomials) with its count of
    # factors (a bound, for sums); the monomials are indices of the graph's table
    polys: dict[int, Any] = {}
    # the graph's table of monomials (its atoms are the graph's nodes, so it holds from
    # one pass to the next: a derivative's products were mostly met by the one before);
    # one per thread, which grows it without a lock
    table = outputs[0].graph.cache.setdefault((_MONOMIALS, threading.get_ident()),
                                              Monomials())
    own, absorbed = table.poly, polys.get
    trig: dict[int, tuple] = {}  # sin(x), cos(x): (x's id, whether sin) for the normal form
    for n in nodes:
        if n.id not in eligible:
            where = None if linear else trig_terms.side(n)
            if where is not None:
                trig[n.id] = where
            continue
        if linear:  # a sum's terms are read off its nodes (like_terms): no polynomial
            polys[n.id] = {}
            continue
        args = []
        for i in n.inputs:
            found = absorbed(i.id)
            args.append(found if found is not None and i.id not in needed else own(i))
        found = combine(n, args, table)
        if found is None:  # too large: n stays as it is, an atom to its consumers
            needed.update(i.id for i in n.inputs)
        else:
            polys[n.id] = found
    plans: dict[int, Any] = {}
    demanded: set[int] = set()
    for n in nodes:
        if linear and n.id in polys and n.id in needed:
            inside = _region(n, polys, needed)
            found = like_terms.linear_plan(n, inside, len(inside), exact)
            if found is not None:
                plans[n.id] = found
            else:
                _mark_region(n, polys, needed, demanded)
        elif n.id in polys and n.id in needed:
            poly = polys[n.id][0]
            plan = None
            if trig:  # sin(x)**2 + cos(x)**2 = 1: the normal form with fewer terms
                reduced = trig_terms.normal_form(poly, table, trig, MAX_TERMS)
                if reduced is not poly:
                    poly, plan = reduced, _Plan(reduced, table)
            # Horner form still adds every term once: a plan costs at least
            # len(poly) - 1 nodes, so a region no larger is not worth planning
            size = _region_size(n, polys, needed, len(poly))
            plan = (plan or _Plan(poly, table)) if size >= len(poly) else None
            if plan is not None and plan.cost < _region_size(n, polys, needed,
                                                             plan.cost + 1):
                plans[n.id] = plan
            else:
                _mark_region(n, polys, needed, demanded)
    new: dict[int, Node] = {}
    changed = False
    for n in nodes:
        if n.id in polys and n.id not in needed and n.id not in demanded:
            continue  # absorbed into a rebuilt root
        plan = plans.get(n.id)
        cur = n
        if plan is not None:
            enter(n)
            cur = plan.build(n, new) if linear else plan.build(n, new, planned)
            if cur is not n:
                replaced(n, cur)
        elif n.inputs:
            ins = tuple(new.get(i.id, i) for i in n.inputs)
            if any(a is not b for a, b in zip(ins, n.inputs)):
                enter(n)
                cur = rebuild(n, ins)
        changed = changed or cur is not n
        new[n.id] = cur
    result = [new[o.id] for o in outputs]
    done.update(n.id for n in ancestors(result, stop=settled or done))
    return result, changed


class _Either:
    """Membership in any of a few sets (without building their union)."""

    __slots__ = ("sets",)

    def __init__(self, *sets: set[int]):
        self.sets = sets

    def __contains__(self, key: int) -> bool:
        for s in self.sets:
            if key in s:
                return True
        return False

    def __bool__(self) -> bool:
        return True


def _scalar_const(node: Node, like: Node) -> bool:
    """A constant usable as a coefficient of ``like``: one value, same dtype, no new axes."""
    if node.opdef is not CONST or node.dtype != like.dtype or node.ndim > like.ndim:
        return False
    value = node.attrs["value"]
    return value.size == 1 or (value.size > 0 and not any(value.strides))


def _eligible(n: Node) -> bool:
    if n.opdef not in _POLY_OPS or n.dtype.kind != "f" or None in n.shape:
        return False
    dtype, shape = n.dtype, n.shape
    for inp in n.inputs:  # (dtypes are mostly one object: identity first)
        if (inp.dtype is not dtype and inp.dtype != dtype) or (
                inp.shape != shape and not _scalar_const(inp, n)):
            return False
    if n.opdef is POWER:
        e = n.inputs[1]
        if not _scalar_const(e, n):
            return False
        k = float(e.attrs["value"].flat[0])
        return k.is_integer() and 0 <= k <= MAX_POWER
    if n.opdef is DIVIDE:
        d = n.inputs[1]
        return _scalar_const(d, n) and float(d.attrs["value"].flat[0]) != 0.0
    return True


def _absorbed(i: Node, polys: dict, needed: set) -> bool:
    return i.id in polys and i.id not in needed


def _region_size(root: Node, polys: dict, needed: set, limit: int) -> int:
    """How many nodes the root's polynomial stands for (counting stops at ``limit``)."""
    seen = {root.id}
    stack = [root]
    while stack and len(seen) < limit:
        for i in stack.pop().inputs:
            if i.id not in seen and _absorbed(i, polys, needed):
                seen.add(i.id)
                stack.append(i)
    return len(seen)


def _region(root: Node, polys: dict, needed: set) -> set[int]:
    """The ids of the root and the absorbed nodes under it."""
    seen = {root.id}
    stack = [root]
    while stack:
        for i in stack.pop().inputs:
            if i.id not in seen and _absorbed(i, polys, needed):
                seen.add(i.id)
                stack.append(i)
    return seen


def _mark_region(root: Node, polys: dict, needed: set, demanded: set) -> None:
    """The absorbed nodes under a root that is kept as it is must be kept too."""
    stack = [root]
    while stack:
        for i in stack.pop().inputs:
            if i.id not in demanded and _absorbed(i, polys, needed):
                demanded.add(i.id)
                stack.append(i)


class _Plan:
    """A polynomial as a list of binary steps in Horner form (shared by value).

    ``P = a**k * Q + R`` with ``a`` the atom in most terms; a common coefficient is
    factored out; signs travel as flags, so ``-`` costs a ``subtract``, not a node. Built
    with an explicit stack: polynomials of hundreds of terms do not recurse. The
    polynomial's monomials are indices of ``table`` (``symgraph.rewrite.polynomials``);
    its steps name atoms by node id.
    """

    def __init__(self, poly: dict, table: Monomials):
        self.steps: list[tuple] = []
        self.index: dict[tuple, int] = {}
        self.cost = 0
        self.poly = poly
        self.table = table
        # zero and constant polynomials become filled constants, which cost no node
        self.top = self._horner(poly) if poly and set(poly) != {0} else None

    def _step(self, *key: Any) -> int:
        ref = self.index.get(key)
        if ref is None:
            ref = self.index[key] = len(self.steps)
            self.steps.append(key)
            if key[0] is not _ATOM and key[0] is not CONST:
                self.cost += 1
        return ref

    def _power(self, atom: int, e: int) -> int:
        a = self._step(_ATOM, atom)
        if e == 1:
            return a
        if e == 2:
            return self._step(SQUARE, a)
        return self._step(POWER, a, self._step(CONST, float(e)))

    def _monomial(self, index: int, c: float) -> tuple[int, bool]:
        m = self.table.monomial(index)
        if not m:
            return self._step(CONST, abs(c)), c < 0
        ref = self._power(*m[0])
        for atom, e in m[1:]:
            ref = self._step(MULTIPLY, ref, self._power(atom, e))
        if abs(c) != 1.0:
            ref = self._step(MULTIPLY, self._step(CONST, abs(c)), ref)
        return ref, c < 0

    def _sum(self, a: tuple[int, bool], b: tuple[int, bool]) -> tuple[int, bool]:
        (p, neg_p), (q, neg_q) = a, b
        if neg_p == neg_q:
            return self._step(ADD, p, q), neg_p
        if neg_q:
            return self._step(SUBTRACT, p, q), False
        return self._step(SUBTRACT, q, p), False

    def _horner(self, poly: dict) -> int:
        if len(poly) == 1:  # one term: a sign goes into its coefficient (-6*x, not -(6*x))
            ((m, c),) = poly.items()
            if abs(c) != 1.0 and self.table.monomial(m):
                ref, _ = self._monomial(m, 1.0)
                return self._step(MULTIPLY, self._step(CONST, c), ref)
        results: list[tuple[int, bool]] = []
        tasks: list[tuple] = [(_BUILD, poly)]
        while tasks:
            task = tasks.pop()
            if task[0] == _BUILD:
                self._split(task[1], tasks, results)
            elif task[0] == _TERM:
                results.append(self._monomial(task[1], task[2]))
            elif task[0] == _TOTAL:
                parts = results[-task[1]:]
                del results[-task[1]:]
                total = parts[0]
                for part in parts[1:]:
                    total = self._sum(total, part)
                results.append(total)
            elif task[0] == _SCALE:
                ref, neg = results.pop()
                results.append((self._step(MULTIPLY, self._step(CONST, task[1]), ref), neg))
            else:  # _FMA: a**k * Q (+ R)
                rest = results.pop() if task[3] else None
                ref, neg = results.pop()
                prod = (self._step(MULTIPLY, self._power(task[1], task[2]), ref), neg)
                results.append(self._sum(prod, rest) if rest is not None else prod)
        ref, neg = results.pop()
        return self._step(NEGATIVE, ref) if neg else ref

    def _split(self, p: dict, tasks: list, results: list) -> None:
        if len(p) == 1:
            ((m, c),) = p.items()
            results.append(self._monomial(m, c))
            return
        c0 = abs(next(iter(p.values())))
        if c0 != 1.0 and all(abs(c) == c0 for c in p.values()):
            tasks.append((_SCALE, c0))
            tasks.append((_BUILD, {m: c / c0 for m, c in p.items()}))
            return
        counts: dict[int, int] = {}
        lowest: dict[int, int] = {}  # each atom's lowest power in p
        powered: set[int] = set()  # atoms with a power above 1 in p
        unpacked = self.table.monomial  # (an index's tuple of (atom id, power))
        for m in p:
            for atom, e in unpacked(m):
                if atom in counts:
                    counts[atom] += 1
                    if e < lowest[atom]:
                        lowest[atom] = e
                else:
                    counts[atom] = 1
                    lowest[atom] = e
                if e > 1:
                    powered.add(atom)
        most = max(counts.values(), default=0)
        if most < 2:  # no atom shared by two terms: a plain sum
            items = sorted(p.items(), key=lambda item: unpacked(item[0]))
            tasks.append((_TOTAL, len(items)))
            tasks.extend((_TERM, m, c) for m, c in reversed(items))
            return
        # the atom in most terms, of those of degree one if one is in two terms: factoring
        # a power's lowest first splits the other powers' terms over every branch
        linear = [(-n, a) for a, n in counts.items() if n >= 2 and a not in powered]
        atom = min(linear)[1] if linear else min(a for a, n in counts.items() if n == most)
        k = lowest[atom]
        intern = self.table.intern
        q: dict = {}
        r: dict = {}
        for m, c in p.items():
            t = unpacked(m)
            for j, (a, e) in enumerate(t):
                if a == atom:  # t is sorted by atom: lower this one power in place
                    q[intern((*t[:j], (a, e - k), *t[j + 1:]) if e > k
                             else (*t[:j], *t[j + 1:]))] = c
                    break
            else:
                r[m] = c
        tasks.append((_FMA, atom, k, bool(r)))
        if r:
            tasks.append((_BUILD, r))
        tasks.append((_BUILD, q))

    def build(self, root: Node, new: dict[int, Node], made: set[int] | None = None) -> Node:
        """The plan as nodes of ``root``'s graph, atoms replaced as ``new`` says (the ids
        of the nodes its steps give go in ``made``)."""
        if self.top is None:
            return fill(root, self.poly.get(0, 0.0))
        graph, dtype = root.graph, root.dtype
        built: list[Any] = []
        for key in self.steps:
            op = key[0]
            if op is _ATOM:
                built.append(new[key[1]])
            elif op is CONST:
                built.append(ops.const(key[1], dtype=dtype, graph=graph))
            else:
                args = [built[a] for a in key[1:]]
                # make, not the public op: the inputs share a float dtype and the plan
                # holds no x*1 or constant-only step, so the op's conversions would be idle
                node = make(op, args)
                if op.commutative and args[0] is not args[1]:
                    # the older of a+b and b+a, as the merge stage would choose: otherwise
                    # merge replaces it and every stage runs once more
                    other = graph._lookup((op.name, args[1].id, args[0].id))
                    if other is not None and other.id < node.id:
                        node = other
                if made is not None:
                    made.add(node.id)
                built.append(node)
        out = built[self.top]
        if out.shape != root.shape:  # a constant polynomial
            out = fill(root, float(out.attrs["value"])) if out.opdef is CONST else \
                ops.broadcast_to(out, root.shape)
        return out

"""The normal form of sines and cosines in ``collect-terms``: ``sin(x)**2 + cos(x)**2 = 1``.

Owns :func:`side` (whether a node is ``sin(x)`` or ``cos(x)``, and of which ``x``),
:func:`normal_form` and :func:`pythagoras`, on the polynomials of
``symgraph.rewrite.polynomials`` (``{monomial: coefficient}``, a monomial the index of a
sorted tuple of ``(atom id, power)`` in the pass's :class:`Monomials`). Where both
``sin(x)`` and ``cos(x)`` are atoms of a polynomial, every ``sin(x)**e`` (or every
``cos(x)**e``) with ``e >= 2`` is lowered by the identity, whichever leaves fewer terms:
the chain rule's towers of sines and cosines shrink by a third (``d^8/dw^8
sin(sin(sin w))``: 80 terms, 53 with ``sin**2`` lowered).

Real algebra, like the rest of ``collect-terms`` (the engine runs it with
``assume_finite`` only): exact for finite ``x`` and NaN in NaN out, but its rounding is
absolute, of the terms' size (``1 - cos(x)**2`` is 0 at a tiny ``x``, not ``x**2``).

Imports: ``symgraph.graph``, ``symgraph.ops`` and the rewrite package's ``polynomials``.
"""

from __future__ import annotations

import math

from symgraph.graph import Node
from symgraph.ops.functions import COS, SIN
from symgraph.rewrite.polynomials import Monomials, Poly

__all__ = ["normal_form", "pythagoras", "side"]


def side(node: Node) -> tuple[int, bool] | None:
    """``(x's id, True)`` for ``sin(x)``, ``(x's id, False)`` for ``cos(x)``, else None.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     side(sg.sin(x)) == (x.id, True), side(sg.cos(x)) == (x.id, False), side(x)
    (True, True, None)
    """
    if node.opdef is SIN or node.opdef is COS:
        return node.inputs[0].id, node.opdef is SIN
    return None


def normal_form(poly: Poly, table: Monomials, sides: dict[int, tuple[int, bool]],
                max_terms: int) -> Poly:
    """``poly`` (its monomials in ``table``) with ``sin(x)**2 = 1 - cos(x)**2`` applied
    wherever both ``sin(x)`` and ``cos(x)`` are its atoms (``sides``: atom id ->
    :func:`side`), or the other way round, whichever has fewer terms (lowering ``sin``
    on a tie; either, if it has as many terms as ``poly``); ``poly`` itself when neither
    has, or both would pass ``4 * max_terms`` (a lowering whose terms pass the best
    form's on the way is given up).

    >>> table = Monomials()
    >>> s, c = 1, 2  # atoms: sin(x), cos(x)
    >>> p = table.pack({((s, 2),): 3.0, ((c, 2),): 3.0, (): -2.0})
    >>> table.unpack(normal_form(p, table, {s: (0, True), c: (0, False)}, 9))
    {(): 1.0}
    """
    found: dict[int, dict[bool, int]] = {}
    squared: set[int] = set()  # atoms with a power >= 2: lowering others changes nothing
    monomial = table.monomial
    for m in poly:
        for atom, e in monomial(m):
            where = sides.get(atom)
            if where is not None:
                found.setdefault(where[0], {})[where[1]] = atom
                if e >= 2:
                    squared.add(atom)
    pairs = [(f[True], f[False]) for f in found.values() if len(f) == 2]
    best, size = poly, len(poly) + 1  # a lowered form with as many terms is preferred
    for lower_sin in (True, False):
        reduced: Poly | None = poly
        for sin, cos in pairs:
            a, b = (sin, cos) if lower_sin else (cos, sin)
            if a not in squared:  # (lowering another pair leaves a's powers as they are)
                continue
            # given up once it has more terms than the best form so far (cos after sin)
            reduced = pythagoras(reduced, table, a, b, min(4 * max_terms, size))
            if reduced is None:
                break
        # fewer terms decide, not a cheaper Horner plan: a plan costs more than the lowering
        if reduced is not None and reduced != poly and len(reduced) < size:
            best, size = reduced, len(reduced)
    return best


def pythagoras(poly: Poly, table: Monomials, a: int, b: int, limit: int) -> Poly | None:
    """``poly`` (its monomials in ``table``) with every ``a**e`` (``e >= 2``) lowered to
    ``a**(e % 2)`` by ``a**2 = 1 - b**2`` (``a``, ``b``: atom ids); None when that makes
    more than ``limit`` terms.

    >>> table = Monomials()
    >>> p = table.pack({((1, 3), (2, 1)): 2.0})  # 2*s**3*c = 2*s*c - 2*s*c**3
    >>> table.unpack(pythagoras(p, table, 1, 2, 9))
    {((1, 1), (2, 1)): 2.0, ((1, 1), (2, 3)): -2.0}
    """
    out: Poly = {}
    get = out.get
    monomial, intern = table.monomial, table.intern
    for m, c in poly.items():
        t = monomial(m)
        for j, (atom, e) in enumerate(t):
            if atom == a:
                break
        else:
            e = 0
        if e < 2:
            out[m] = get(m, 0.0) + c
            continue
        # a**e = a**(e % 2) * (1 - b**2)**h, by the binomial theorem
        h = e // 2
        rest = (*t[:j], (a, 1), *t[j + 1:]) if e % 2 else (*t[:j], *t[j + 1:])
        for i in range(h + 1):
            mono = intern(_times(rest, b, 2 * i)) if i else intern(rest)
            out[mono] = get(mono, 0.0) + (-c if i % 2 else c) * math.comb(h, i)
        if len(out) > limit:
            return None
    return {m: c for m, c in out.items() if c != 0.0}


def _times(m: tuple, atom: int, e: int) -> tuple:
    """The monomial ``m`` times ``atom**e`` (kept sorted by atom)."""
    for k, (x, f) in enumerate(m):
        if x == atom:
            return (*m[:k], (x, f + e), *m[k + 1:])
        if x > atom:
            return (*m[:k], (atom, e), *m[k:])
    return (*m, (atom, e))

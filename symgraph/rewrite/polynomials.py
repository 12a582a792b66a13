"""The polynomials of ``collect-terms``, their monomials interned as small ints.

Owns :class:`Monomials` (a table of monomials, each a sorted tuple of ``(atom id,
power)`` kept once and named by its index) and :func:`combine` (the polynomial of a node
from its inputs'), with the arithmetic under it; ``symgraph.rewrite.terms`` walks the
graph and plans.

A polynomial is a dict ``{monomial: coefficient}`` whose keys are the table's indices:
a small int hashes and compares faster than a tuple of pairs, and the product of two
monomials is merged once per graph and then looked up (the polynomials of W2b's raw 8th
derivative, 3,726 nodes, took about half the time of tuple keys). Unlike powers packed
into the bits of one int, an index stays small however many atoms a pass meets (a sum
of products of 3,000 variables is no slower than with tuples) and a power has no bound.

Each polynomial travels with its count of atom factors (the sum over its monomials of
how many atoms each holds), which ``MAX_FACTORS`` limits, or a bound on it: a product's
is added up from the table; a sum's is bounded by its terms' (in W2b nine terms in ten
merge, and keeping the exact count cost more than counting again the few sums whose
bound passes the limit).

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from symgraph.graph import Node
from symgraph.ops.arithmetic import ADD, DIVIDE, MULTIPLY, NEGATIVE, SUBTRACT
from symgraph.ops.core import CONST
from symgraph.ops.functions import SQUARE

MAX_TERMS = 400  # a sum of products larger than this is left as it is (an atom)
MAX_FACTORS = 400  # nor one whose monomials hold more atom factors than this, in total

Poly = dict  # {monomial (an index of the pass's Monomials): coefficient (float)}


class Monomials:
    """The monomials collect passes met, each a sorted tuple of ``(atom id, power)``
    named by its index (0 is the constant monomial ``()``); products are kept. Atoms are
    named by node id, so a graph keeps one table (per thread) from pass to pass.

    >>> table = Monomials()
    >>> (x, _), (y, _) = table.atom(7), table.atom(3)  # the atoms with node ids 7 and 3
    >>> (mx,), (my,) = x, y
    >>> table.unpack({table.times(table.times(mx, mx), my): 5.0})  # x**2 * y
    {((3, 1), (7, 2)): 5.0}
    """

    __slots__ = ("table", "index", "sizes", "products", "polys")

    def __init__(self) -> None:
        self.table: list[tuple] = [()]  # index -> monomial
        self.index: dict[tuple, int] = {(): 0}  # monomial -> index
        self.sizes: list[int] = [0]  # index -> how many atoms the monomial holds
        self.products: dict[int, int] = {}  # (i << 32 | j), i <= j -> the product's index
        self.polys: dict[int, tuple] = {}  # node id -> (the node, its own polynomial)

    def intern(self, m: tuple) -> int:
        """The index of the monomial ``m`` (a sorted tuple of ``(atom id, power)``)."""
        found = self.index.get(m)
        if found is None:
            found = self.index[m] = len(self.table)
            self.table.append(m)
            self.sizes.append(len(m))
        return found

    def atom(self, node_id: int) -> tuple[Poly, int]:
        """The polynomial of the atom with id ``node_id`` and its factor count (1)."""
        return {self.intern(((node_id, 1),)): 1.0}, 1

    def poly(self, node: Node) -> tuple[Poly, int]:
        """``node`` as a polynomial of its own (a constant, or an atom) and its factors
        (one dict per node: :func:`combine` never changes its arguments)."""
        known = self.polys.get(node.id)
        if known is not None and known[0] is node:  # (an id a failed grad freed is reused)
            return known[1]
        value = node.attrs.get("value") if node.opdef is CONST else None
        if value is not None and value.size > 0 and not any(value.strides):
            c = float(value.flat[0])
            found = ({0: c} if c != 0.0 else {}), 0
        else:
            found = self.atom(node.id)
        self.polys[node.id] = (node, found)
        return found

    def times(self, i: int, j: int) -> int:
        """The index of the product of the monomials ``i`` and ``j``."""
        key = i << 32 | j if i <= j else j << 32 | i
        found = self.products.get(key)
        if found is None:
            found = self.products[key] = self.intern(_merge(self.table[i], self.table[j]))
        return found

    def monomial(self, m: int) -> tuple:
        """The monomial of index ``m``: a sorted tuple of ``(atom id, power)``."""
        return self.table[m]

    def factors(self, p: Poly) -> int:
        """How many atom factors the monomials of ``p`` hold, in total."""
        return sum(map(self.sizes.__getitem__, p))

    def pack(self, p: dict) -> Poly:
        """A polynomial whose monomials are tuples, with their indices instead (the
        inverse of :meth:`unpack`)."""
        return {self.intern(m): c for m, c in p.items()}

    def unpack(self, p: Poly) -> dict:
        """``p`` with its monomials as sorted tuples of ``(atom id, power)``, in order."""
        table = self.table
        return {table[m]: c for m, c in p.items()}


def _merge(a: tuple, b: tuple) -> tuple:
    """The product of two monomials: their sorted tuples merged, powers of one atom added."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return a
    if len(b) == 1:  # the common case: times one atom's power
        atom, e = b[0]
        for k, (x, f) in enumerate(a):
            if x == atom:
                return (*a[:k], (x, f + e), *a[k + 1:])
            if x > atom:
                return (*a[:k], b[0], *a[k:])
        return (*a, b[0])
    out = []
    i = j = 0
    na, nb = len(a), len(b)
    while i < na and j < nb:
        x, f = a[i]
        y, g = b[j]
        if x == y:
            out.append((x, f + g))
            i += 1
            j += 1
        elif x < y:
            out.append(a[i])
            i += 1
        else:
            out.append(b[j])
            j += 1
    return (*out, *a[i:], *b[j:])


def combine(n: Node, args: list[tuple[Poly, int]], table: Monomials
            ) -> tuple[Poly, int] | None:
    """The polynomial of ``n`` and its count of atom factors (or a bound on it, at most
    ``MAX_FACTORS``), from its inputs' (None when it would be too large: more than
    ``MAX_TERMS`` terms or ``MAX_FACTORS`` factors)."""
    op = n.opdef
    p, fp = args[0]
    if op is ADD or op is SUBTRACT:
        q, fq = args[1]
        out = _add(p, q) if op is ADD else _subtract(p, q)
        f = fp + fq  # at most: counted exactly past MAX_FACTORS, a rare case
        if f > MAX_FACTORS:
            f = table.factors(out)
    elif op is NEGATIVE:
        out, f = {m: -c for m, c in p.items()}, fp
    elif op is DIVIDE:
        out, f = _scale(p, 1.0 / float(n.inputs[1].attrs["value"].flat[0])), fp
    else:
        if op is MULTIPLY or op is SQUARE:
            out = _mul(p, args[-1][0], table)
        else:  # power with a small integer exponent
            out = {0: 1.0}
            for _ in range(int(n.inputs[1].attrs["value"].flat[0])):
                out = _mul(out, p, table)
                if out is None:
                    break
        if out is None or len(out) > MAX_TERMS:
            return None
        f = table.factors(out)
    if len(out) > MAX_TERMS or f > MAX_FACTORS:
        return None  # too large to pay off: a long product chain would cost O(n^2)
    return out, f


def _add(p: Poly, q: Poly) -> Poly:
    out = dict(p)
    get = out.get
    for m, c in q.items():
        s = get(m, 0.0) + c
        if s == 0.0:
            out.pop(m, None)
        else:
            out[m] = s
    return out


def _subtract(p: Poly, q: Poly) -> Poly:
    out = dict(p)
    get = out.get
    for m, c in q.items():
        s = get(m, 0.0) - c
        if s == 0.0:
            out.pop(m, None)
        else:
            out[m] = s
    return out


def _mul(p: Poly, q: Poly, table: Monomials) -> Poly | None:
    if len(p) * len(q) > 4 * MAX_TERMS:
        return None
    times, products = table.times, table.products
    if len(q) == 1 or len(p) == 1:  # times one term: the products stay distinct
        one, many = (q, p) if len(q) == 1 else (p, q)
        ((m2, c2),) = one.items()
        if c2 == 0.0:
            return {}
        out = {}
        if m2 == 0:  # times a number
            for m1, c1 in many.items():
                c = c1 * c2
                if c != 0.0:  # (an underflow)
                    out[m1] = c
            return out
        # (the table's memo read here: a method call per product cost more than the read)
        for m1, c1 in many.items():
            c = c1 * c2
            if c != 0.0:
                m = products.get(m1 << 32 | m2 if m1 <= m2 else m2 << 32 | m1)
                out[times(m1, m2) if m is None else m] = c
        return out
    out = {}
    get = out.get
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            m = products.get(m1 << 32 | m2 if m1 <= m2 else m2 << 32 | m1)
            if m is None:
                m = times(m1, m2)
            out[m] = get(m, 0.0) + c1 * c2
    return {m: c for m, c in out.items() if c != 0.0}


def _scale(p: Poly, s: float) -> Poly:
    return {m: c * s for m, c in p.items()} if s != 0.0 else {}

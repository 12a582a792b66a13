"""The polynomials of ``collect-terms``, with each monomial's powers packed in one int.

Owns :class:`Atoms` (one pass's numbering of its atoms: the packing and unpacking of
monomials) and :func:`combine` (the polynomial of a node from its inputs'), with the
arithmetic under it; ``symgraph.rewrite.terms`` walks the graph and plans.

A polynomial is a dict ``{monomial: coefficient}``. Here a monomial is an int in which
the atom numbered ``j`` (the ``j``-th a pass met) has its power in bits ``16j .. 16j+15``:
a product of monomials is the sum of their ints, and an int hashes faster than a tuple
of pairs (the polynomials of W2b's raw 8th derivative, 3,726 nodes, took 2.5x less time
than with tuples). A power must stay below ``2**15`` (a product reaching it is given
up: the node stays an atom), so a sum never carries into the next atom's bits. At a
root, :meth:`Atoms.unpack` gives the form the normal form and the Horner plans read:
monomials as sorted tuples of ``(atom id, power)``.

Each polynomial travels with its count of atom factors (the sum over its monomials of
how many atoms each holds), which ``MAX_FACTORS`` limits, or a bound on it: a product's
is added up from a per-pass memo of each monomial's count; a sum's is bounded by its
terms' (in W2b nine terms in ten merge, and keeping the exact count cost more than
counting again the few sums whose bound passes the limit).

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from symgraph.graph import Node
from symgraph.ops.arithmetic import ADD, DIVIDE, MULTIPLY, NEGATIVE, SUBTRACT
from symgraph.ops.core import CONST
from symgraph.ops.functions import SQUARE

MAX_TERMS = 400  # a sum of products larger than this is left as it is (an atom)
MAX_FACTORS = 400  # nor one whose monomials hold more atom factors than this, in total
BITS = 16  # bits per atom in a monomial (a power below 2**(BITS - 1))
MASK = (1 << BITS) - 1

Poly = dict  # {monomial (int): coefficient (float)}


class Atoms:
    """The atoms one collect pass met, numbered as met: packs and unpacks monomials.

    >>> atoms = Atoms()
    >>> (x, _), (y, _) = atoms.number(7), atoms.number(3)  # node ids 7 and 3
    >>> atoms.unpack({2 * next(iter(x)) + next(iter(y)): 5.0})  # x**2 * y
    {((3, 1), (7, 2)): 5.0}
    """

    __slots__ = ("index", "ids", "high", "low", "unpacked", "polys", "counts")

    def __init__(self) -> None:
        self.index: dict[int, int] = {}  # node id -> its number
        self.ids: list[int] = []  # number -> node id
        self.high = 0  # the top bit of every atom's field: a power reaching it is given up
        self.low = 0  # the bottom bit of every atom's field (for counting factors)
        self.unpacked: dict[int, tuple] = {}
        self.polys: dict[int, tuple[Poly, int]] = {}  # node id -> its own polynomial
        self.counts = _Count(self)  # monomial -> how many atoms it holds

    def number(self, node_id: int) -> tuple[Poly, int]:
        """The polynomial of the atom with id ``node_id`` and its factor count (1)."""
        j = self.index.get(node_id)
        if j is None:
            j = self.index[node_id] = len(self.ids)
            self.ids.append(node_id)
            self.high |= 1 << (BITS * j + BITS - 1)
            self.low |= 1 << (BITS * j)
        return {1 << (BITS * j): 1.0}, 1

    def poly(self, node: Node) -> tuple[Poly, int]:
        """``node`` as a polynomial of its own (a constant, or an atom) and its factors
        (one dict per node: :func:`combine` never changes its arguments)."""
        found = self.polys.get(node.id)
        if found is None:
            value = node.attrs.get("value") if node.opdef is CONST else None
            if value is not None and value.size > 0 and not any(value.strides):
                c = float(value.flat[0])
                found = ({0: c} if c != 0.0 else {}), 0
            else:
                found = self.number(node.id)
            self.polys[node.id] = found
        return found

    def factors(self, p: Poly) -> int:
        """How many atom factors the monomials of ``p`` hold, in total."""
        return sum(map(self.counts.__getitem__, p))

    def pack(self, p: dict) -> Poly:
        """A polynomial in the unpacked form (monomials as tuples of ``(atom id, power)``)
        packed, its atoms numbered as met (the inverse of :meth:`unpack`)."""
        out: Poly = {}
        for m, c in p.items():
            packed = 0
            for atom, e in m:
                packed += e * next(iter(self.number(atom)[0]))
            out[packed] = c
        return out

    def unpack(self, p: Poly) -> dict:
        """``p`` with its monomials as sorted tuples of ``(atom id, power)``, in order."""
        return {self.monomial(m): c for m, c in p.items()}

    def monomial(self, m: int) -> tuple:
        """The monomial ``m`` as a sorted tuple of ``(atom id, power)`` (kept)."""
        found = self.unpacked.get(m)
        if found is None:
            ids = self.ids
            pairs = []
            x = m
            if len(ids) <= 16:  # few atoms: field by field, small ints
                j = 0
                while x:
                    e = x & MASK
                    if e:
                        pairs.append((ids[j], e))
                    x >>= BITS
                    j += 1
            else:  # many: from one lowest set bit to the next
                while x:
                    shift = BITS * (((x & -x).bit_length() - 1) // BITS)
                    e = (x >> shift) & MASK
                    x ^= e << shift
                    pairs.append((ids[shift // BITS], e))
            pairs.sort()
            found = self.unpacked[m] = tuple(pairs)
        return found


class _Count(dict):
    """How many atoms a monomial holds, counted once per monomial (a missing key is
    counted: each 16-bit field folded onto its bottom bit, the shifts adding up to 15 so
    that no bit of the next field reaches it, then the fields not zero counted)."""

    __slots__ = ("atoms",)

    def __init__(self, atoms: Atoms):
        super().__init__()
        self.atoms = atoms

    def __missing__(self, m: int) -> int:
        x = m | (m >> 8)
        x |= x >> 4
        x |= x >> 2
        x |= x >> 1
        found = self[m] = (x & self.atoms.low).bit_count()
        return found


def combine(n: Node, args: list[tuple[Poly, int]], atoms: Atoms) -> tuple[Poly, int] | None:
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
            f = atoms.factors(out)
    elif op is NEGATIVE:
        out, f = {m: -c for m, c in p.items()}, fp
    elif op is DIVIDE:
        out, f = _scale(p, 1.0 / float(n.inputs[1].attrs["value"].flat[0])), fp
    else:
        if op is MULTIPLY or op is SQUARE:
            out = _mul(p, args[-1][0], atoms.high)
        else:  # power with a small integer exponent
            out = {0: 1.0}
            for _ in range(int(n.inputs[1].attrs["value"].flat[0])):
                out = _mul(out, p, atoms.high)
                if out is None:
                    break
        if out is None or len(out) > MAX_TERMS:
            return None
        f = atoms.factors(out)
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


def _mul(p: Poly, q: Poly, high: int) -> Poly | None:
    if len(p) * len(q) > 4 * MAX_TERMS:
        return None
    if len(q) == 1 or len(p) == 1:  # times one term: the products stay distinct
        one, many = (q, p) if len(q) == 1 else (p, q)
        ((m2, c2),) = one.items()
        if c2 == 0.0:
            return {}
        out = {}
        for m1, c1 in many.items():
            c = c1 * c2
            if c != 0.0:  # (an underflow)
                out[m1 + m2] = c
    else:
        out = {}
        get = out.get
        for m1, c1 in p.items():
            for m2, c2 in q.items():
                m = m1 + m2
                out[m] = get(m, 0.0) + c1 * c2
        out = {m: c for m, c in out.items() if c != 0.0}
    if reduce(or_, out, 0) & high:
        return None  # a power reached 2**15: given up (the node stays an atom)
    return out


def _scale(p: Poly, s: float) -> Poly:
    return {m: c * s for m, c in p.items()} if s != 0.0 else {}

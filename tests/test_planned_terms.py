"""collect-terms' Horner plans and the like-terms pass after them: the nodes a plan built
are settled for like-terms (sums of distinct monomials), and later simplifies, exact or
not, still collect like terms of sums built over them; values checked by evaluation."""

from __future__ import annotations

import math

import symgraph as sg
from chains import op_count
from symgraph.rewrite.terms import _PLANNED


def _poly(x: float) -> float:
    return x * (x + 2.0) + x * (x + 3.0)


def test_a_plan_marks_its_nodes_and_keeps_the_value():
    with sg.Graph() as g:
        x = sg.var("x")
        p = sg.simplify(x * (x + 2) + x * (x + 3), assume_finite=True)
        planned = g.cache.get(_PLANNED, set())
        ops = [n for n in sg.ancestors([p]) if n.op not in ("var", "const")]
        assert len(ops) == 3 and all(n.id in planned for n in ops)  # x*(2*x + 5)
        for x0 in (-2.5, 0.0, 0.7, 3.0):
            assert math.isclose(float(sg.evaluate(p, {x: x0})), _poly(x0), rel_tol=1e-12)


def test_like_terms_over_planned_sums_are_still_collected():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        p = sg.simplify(x * (x + 2) + x * (x + 3), assume_finite=True)
        for finite in (False, True):
            # 3*p + 3*sin(y) (uncollected: five adds over p and sin(y), 9 op nodes)
            t = sg.sin(y)
            s = sg.simplify(p + t + p + t + p + t, assume_finite=finite)
            assert op_count(s) <= op_count(p) + 4, (finite, sg.pprint(s))
            for x0, y0 in ((0.7, -1.1), (-2.5, 0.3)):
                got = float(sg.evaluate(s, {x: x0, y: y0}))
                assert math.isclose(got, 3 * _poly(x0) + 3 * math.sin(y0), rel_tol=1e-12)


# --- the interned monomials of symgraph.rewrite.polynomials -----------------------------------


def test_interned_monomials_multiply_unpack_and_count_their_factors():
    from symgraph.rewrite.polynomials import Monomials

    table = Monomials()
    want = {((7, 3), (40, 1)): 2.0, ((12, 1), (40, 2), (300, 5)): -1.5, (): 4.0,
            ((300, 70000),): 0.5}  # (any power: nothing is packed into bits)
    p = table.pack(want)
    assert table.unpack(p) == want and list(p)[2] == 0  # 0: the constant monomial
    assert table.factors(p) == sum(map(len, want)) == 6
    (x,), (y,) = table.atom(40)[0], table.atom(7)[0]
    xy = table.times(x, y)
    assert table.times(y, x) == xy and table.monomial(xy) == ((7, 1), (40, 1))
    assert table.monomial(table.times(xy, table.pack({((7, 2), (300, 1)): 1.0}).popitem()[0])) \
        == ((7, 3), (40, 1), (300, 1))
    assert table.times(xy, 0) == xy  # times the constant monomial
    many = Monomials()  # a pass meeting thousands of atoms: indices stay small ints
    units = [next(iter(many.atom(i)[0])) for i in range(3000)]
    m = many.times(many.times(units[2999], units[0]), units[2999])
    assert m < 4000 and many.monomial(m) == ((0, 1), (2999, 2))


def test_a_huge_power_is_collected_exactly():
    # x**16 squared 12 times is x**65536, x's power times y's in one monomial: the value
    # at x = +-1, y = 2 is 4 (were the powers mixed up, y**2 would make it 6)
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        p = x**16
        for _ in range(12):
            p = sg.square(p)
        e = sg.simplify(p * y + y, assume_finite=True)
        for x0 in (1.0, -1.0):
            assert float(sg.evaluate(e, {x: x0, y: 2.0})) == 4.0
        small = sg.simplify(sg.square(x**16) * y + y * x**32, assume_finite=True)
        assert op_count(small) <= 3  # x**32 * y, then 2*: collected
        assert float(sg.evaluate(small, {x: -1.0, y: 2.0})) == 4.0


def test_each_polynomial_carries_its_count_of_factors_and_the_limit_is_exact():
    # the count MAX_FACTORS limits, kept along (products: exact, from the table; sums: at
    # most their terms' count, counted again past the limit), never below the unpacked
    # monomials' lengths added up, and exact for products
    import random

    from symgraph.rewrite.polynomials import MAX_FACTORS, Monomials, combine

    rng = random.Random(7)
    with sg.Graph():
        xs = [sg.var(f"x{i}") for i in range(5)]
        for _ in range(30):
            table = Monomials()
            nodes = list(xs)
            polys = {x.id: table.poly(x) for x in xs}
            for _ in range(25):
                a, b = rng.choice(nodes), rng.choice(nodes)
                n = rng.choice([a + b, a - b, a * b, -a, a - a, sg.square(a)])
                if n.id in polys:
                    continue
                found = combine(n, [polys[i.id] for i in n.inputs], table)
                if found is None:
                    continue
                p, f = found
                exact = sum(map(len, table.unpack(p)))
                assert exact <= f <= MAX_FACTORS, sg.pprint(n)
                if n.op in ("multiply", "square"):
                    assert f == exact, sg.pprint(n)
                polys[n.id] = found
                nodes.append(n)
        # at the limit the exact count decides: 2*p (300 factors, its bound 600) is kept,
        # p + q (500 factors) is given up
        table = Monomials()
        i = [x.id for x in xs]
        p = table.pack({((i[0], k), (i[1], 1), (i[2], 1), (i[3], 1), (i[4], 1)): 1.0
                        for k in range(1, 61)})  # 60 terms of 5 atoms
        q = table.pack({((i[0], 1), (i[1], k), (i[2], 1), (i[3], 1), (i[4], 1)): 1.0
                        for k in range(2, 42)})  # 40 more
        assert table.factors(p) == 300 and table.factors(q) == 200
        s = xs[0] + xs[1]  # (an add node: only its op counts here)
        assert combine(s, [(p, 300), (p, 300)], table)[1] == 300
        assert combine(s, [(p, 300), (q, 200)], table) is None


def test_a_single_terms_sign_goes_into_its_coefficient():
    # -3*x*x*2 and -(3*exp(s))*(2*s) are one monomial each: the constants fold into one
    # signed coefficient, with no negation node (-6*square(x), not -(6*square(x)))
    with sg.Graph():
        x, s = sg.var("x"), sg.var("s")
        cases = [(-3 * x * x * 2, lambda x0, s0: -6 * x0 * x0, 2),
                 (-(3 * sg.exp(s)) * (2 * s), lambda x0, s0: -6 * s0 * math.exp(s0), 3)]
        for e, want, nodes in cases:
            p = sg.simplify(e, assume_finite=True)
            assert op_count(p) == nodes, sg.pprint(p)
            assert not any(n.op == "negative" for n in sg.ancestors([p])), sg.pprint(p)
            for x0, s0 in ((0.7, -1.1), (-2.5, 0.3)):
                got = float(sg.evaluate(p, {x: x0, s: s0}))
                assert math.isclose(got, want(x0, s0), rel_tol=1e-12)

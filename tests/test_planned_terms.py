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

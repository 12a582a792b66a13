"""W2b (issue 18): collect-terms' normal form of sines and cosines (``sin(x)**2 + cos(x)**2
= 1``, assume_finite only) and the Horner plan that takes degree-one atoms first keep the
derivative tower of sin(sin(sin(w))) small, after each grad or once at the end; values are
checked against Taylor-series arithmetic and closed forms, never against another system."""

from __future__ import annotations

import math

import numpy as np

import symgraph as sg
from chains import op_count, tower_derivative
from symgraph.rewrite.polynomials import Monomials
from symgraph.rewrite.terms import _Plan
from symgraph.rewrite.trig_terms import pythagoras

# op nodes of the k-th derivative, simplified with assume_finite after each grad
# (k = 1..8; 208 at k = 8 before the normal form, SymPy's expanded polynomial: 407 ops)
TOWER = [7, 16, 25, 39, 50, 67, 85, 114]


def _close(got: float, want: float, k: int) -> bool:
    # the terms' coefficients reach ~3e4 at k = 8: rounding is absolute, of their size
    return math.isclose(got, want, rel_tol=1e-10, abs_tol=1e-12 * 10.0 ** k)


def test_jet_reference_matches_closed_forms():
    # the reference itself, against hand-derived first and second derivatives
    for w0 in (0.5, -1.3, 2.9):
        s1, c1 = math.sin(w0), math.cos(w0)
        s2, c2 = math.sin(s1), math.cos(s1)
        s3, c3 = math.sin(s2), math.cos(s2)
        assert math.isclose(tower_derivative(1, w0), c3 * c2 * c1, rel_tol=1e-14)
        d2 = -s3 * (c2 * c1) ** 2 + c3 * (-s2 * c1 * c1 - c2 * s1)
        assert math.isclose(tower_derivative(2, w0), d2, rel_tol=1e-13)


def test_w2b_tower_after_each_grad():
    with sg.Graph():
        w = sg.var("w")
        d = sg.sin(sg.sin(sg.sin(w)))
        counts = []
        for k in range(1, 9):
            d = sg.simplify(sg.grad(d, w), assume_finite=True)
            counts.append(op_count(d))
            for w0 in (0.5, -1.3, 2.9):
                assert _close(float(sg.evaluate(d, {w: w0})), tower_derivative(k, w0), k), (k, w0)
    assert counts == TOWER


def test_w2b_tower_once_at_the_end_is_as_small():
    with sg.Graph():
        w = sg.var("w")
        d = sg.sin(sg.sin(sg.sin(w)))
        for k in range(1, 9):
            d = sg.grad(d, w)
        assert op_count(d) > 3000  # the raw 8th derivative: the collect limit must let it in
        s = sg.simplify(d, assume_finite=True)
        assert op_count(s) <= TOWER[-1]
        for w0 in (0.5, -1.3, 2.9):
            assert _close(float(sg.evaluate(s, {w: w0})), tower_derivative(8, w0), 8), w0


def test_pythagoras_only_with_assume_finite():
    with sg.Graph():
        x = sg.var("x")
        e = 3 * sg.sin(x) ** 2 + 3 * sg.cos(x) ** 2 - 2
        z = sg.simplify(e, assume_finite=True)
        assert op_count(z) == 0 and float(sg.evaluate(z, {x: 0.7})) == 1.0
        y = sg.simplify(e)  # the default keeps every value: sin(inf)**2 + ... is NaN
        assert op_count(y) >= 4
        assert math.isnan(float(sg.evaluate(y, {x: math.inf})))
        assert math.isclose(float(sg.evaluate(y, {x: 0.7})), 1.0, rel_tol=1e-15)


def test_trig_normal_form_keeps_values():
    rng = np.random.default_rng(18)
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        sx, cx, sy, cy = sg.sin(x), sg.cos(x), sg.sin(y), sg.cos(y)
        e = (5 * sx ** 2 * cy ** 3 - 2 * sx * cx ** 3 * sy + 7 * cx ** 2 * sy ** 2 * cy
             + sx ** 4 - 3 * cy ** 2 * sx ** 2 + cx * cy)
        z, trace = sg.simplify(e, trace=True, assume_finite=True)
        assert trace.fired("collect-terms") and op_count(z) < op_count(e)
        for _ in range(20):
            feeds = {x: rng.uniform(-4, 4), y: rng.uniform(-4, 4)}
            a, b = float(sg.evaluate(z, feeds)), float(sg.evaluate(e, feeds))
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-13), (feeds, a, b)


def test_pythagoras_lowers_every_power():
    # atoms 1 = sin(x), 2 = cos(x): s**5*c + 2*s**2 -> s*c*(1 - c**2)**2 + 2*(1 - c**2)
    table = Monomials()  # (monomials as indices: the form collect-terms computes in)
    poly = table.pack({((1, 5), (2, 1)): 1.0, ((1, 2),): 2.0})
    got = table.unpack(pythagoras(poly, table, 1, 2, 100))
    assert got == {((1, 1), (2, 1)): 1.0, ((1, 1), (2, 3)): -2.0, ((1, 1), (2, 5)): 1.0,
                   (): 2.0, ((2, 2),): -2.0}
    for s in (0.3, -0.8):  # the same polynomial where s**2 + c**2 = 1
        c = math.sqrt(1 - s * s)
        want = s ** 5 * c + 2 * s ** 2
        assert math.isclose(s * c - 2 * s * c ** 3 + s * c ** 5 + 2 - 2 * c * c, want,
                            rel_tol=1e-14)


def test_horner_takes_degree_one_atoms_first():
    # s*(a**2 + a**4 + a**6) + a**2 + a**4 + 1: s first, then one Horner form in a**2 per
    # branch (7 nodes); a first (in most terms) splits s's terms at every power (8)
    poly = {((1, 1), (2, 2)): 1.0, ((1, 1), (2, 4)): 1.0, ((1, 1), (2, 6)): 1.0,
            ((2, 2),): 1.0, ((2, 4),): 1.0, (): 1.0}
    table = Monomials()
    assert _Plan(table.pack(poly), table).cost == 7


def test_random_sin_cos_polynomials_keep_values():
    # the normal form on sums of products of sines and cosines of two variables and of
    # sin(x + y): values within the rounding of the terms' sizes, at 10 points each
    rng = np.random.default_rng(2026)
    for _ in range(25):
        with sg.Graph():
            x, y = sg.var("x"), sg.var("y")
            atoms = [sg.sin(x), sg.cos(x), sg.sin(y), sg.cos(y), sg.sin(x + y), sg.cos(x + y)]
            e, size = None, 0.0
            for _ in range(int(rng.integers(2, 9))):
                c = float(rng.integers(-9, 10)) or 1.0
                term = c * atoms[int(rng.integers(6))]
                for _ in range(int(rng.integers(0, 5))):
                    term = term * atoms[int(rng.integers(6))]
                e = term if e is None else e + term
                size += abs(c)
            z = sg.simplify(e, assume_finite=True)
            for _ in range(10):
                feeds = {x: rng.uniform(-5, 5), y: rng.uniform(-5, 5)}
                a, b = float(sg.evaluate(z, feeds)), float(sg.evaluate(e, feeds))
                assert abs(a - b) <= 1e-14 * size * 8, (str(e), str(z), feeds, a, b)


def test_sin_cubed_derivatives_against_closed_forms():
    # sin(x)**3 = (3 sin(x) - sin(3x))/4, whose k-th derivative is a closed form
    def closed(k: int, x0: float) -> float:
        return (3 * math.sin(x0 + k * math.pi / 2)
                - 3.0 ** k * math.sin(3 * x0 + k * math.pi / 2)) / 4
    with sg.Graph():
        x = sg.var("x")
        d = sg.sin(x) ** 3
        for k in range(1, 7):
            d = sg.simplify(sg.grad(d, x), assume_finite=True)
            for x0 in (0.3, -2.2, 5.0):
                assert math.isclose(float(sg.evaluate(d, {x: x0})), closed(k, x0),
                                    rel_tol=1e-12, abs_tol=1e-12 * 3.0 ** k), (k, x0)
        # sin(x)*(546 - 729*square(sin(x))); 8 nodes without the normal form
        assert op_count(d) == 5, str(d)

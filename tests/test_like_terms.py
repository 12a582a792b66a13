"""Tidy formulas (issue 18): the grad builder folds c*(d*x) where exact, and the default
sg.simplify collects like terms that are not adjacent, where that keeps every value
(NaN, inf and -0.0 included), as symgraph.rewrite.like_terms says."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e308, 1e5, -1e5, 0.5, -2.0]


def _same_everywhere(y, z, xs, values=SPECIAL):
    """``z`` gives what ``y`` gives at every pair of special values."""
    for a in values:
        for b in values:
            feeds = dict(zip(xs, [a, b]))
            assert_same_values(sg.evaluate(z, feeds), sg.evaluate(y, feeds), what=f"{a, b}")


def test_second_derivative_of_s_sin_s_has_two_terms():
    with sg.Graph():
        s = sg.var("s")
        d2 = sg.grad(sg.grad(s * sg.sin(s), s), s)
        assert str(d2) == "cos(s) - s*sin(s) + cos(s)"  # as the chain rule builds it
        z, trace = sg.simplify(d2, trace=True)
        assert str(z) == "2*cos(s) - s*sin(s)"
        assert trace.fired("collect-like-terms")
        assert str(sg.simplify(d2, assume_finite=True)) == "2*cos(s) - s*sin(s)"
        for v in (0.3, -1.7, 4.0):
            assert float(sg.evaluate(z, {s: v})) == pytest.approx(
                2 * np.cos(v) - v * np.sin(v), rel=1e-14)
        _same_everywhere(d2, z, [s, s])
        f = sg.compile(d2, [s])  # compile simplifies: the same values
        for v in SPECIAL:
            assert_same_values(f(v), sg.evaluate(d2, {s: v}), what=str(v))


@pytest.mark.parametrize("build, want", [
    (lambda x, y: sg.sin(x) + y + sg.sin(x), "2*sin(x) + y"),
    (lambda x, y: sg.tanh(x) - y + 3 * sg.tanh(x) + 0.5, "4*tanh(x) + 0.5 - y"),
    (lambda x, y: -sg.cos(x) - y - sg.cos(x), "-2*cos(x) - y"),
    (lambda x, y: y * sg.sin(x) - sg.cos(x) + y * sg.sin(x), "2*(y*sin(x)) - cos(x)"),
])
def test_non_adjacent_like_terms_are_collected_exactly(build, want):
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        e = build(x, y)
        z = sg.simplify(e)
        assert str(z) == want
        _same_everywhere(e, z, [x, y])


@pytest.mark.parametrize("build, why", [
    # two unbounded terms: at x = 1e308, y = -1e308 the sum is 1e308, 2*x + y is inf
    (lambda x, y: x + y + x, "overflow"),
    # x - x is NaN at inf, not 0
    (lambda x, y: x + sg.cos(y) - x, "opposite signs"),
    # sin(x) - (y - sin(x)) is -0.0 at x = y = -0.0, 2*sin(x) - y is 0.0
    (lambda x, y: sg.sin(x) - (y - sg.sin(x)), "a negated sum"),
])
def test_like_terms_are_left_where_collecting_changes_a_value(build, why):
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        e = build(x, y)
        z, trace = sg.simplify(e, trace=True)
        assert not trace.fired("collect-like-terms"), why
        _same_everywhere(e, z, [x, y])


def test_the_overflow_that_forbids_two_unbounded_terms():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        e = x + y + x
        feeds = {x: 1e308, y: -1e308}
        assert float(sg.evaluate(e, feeds)) == 1e308
        assert float(sg.evaluate(2 * x + y, feeds)) == np.inf
        assert float(sg.evaluate(sg.simplify(e), feeds)) == 1e308
        assert str(sg.simplify(e, assume_finite=True)) in ("2*x + y", "y + 2*x")


def test_a_shared_inner_sum_is_not_duplicated():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        inner = sg.sin(x) + y
        e = inner + sg.sin(x)
        out = [sg.simplify(e), inner]
        both = sg.simplify([e, sg.exp(inner)])
        assert str(both[0]) == "sin(x) + y + sin(x)"  # inner is needed by exp too
        assert str(out[0]) == "2*sin(x) + y"


def test_grad_builder_folds_constant_factors():
    with sg.Graph():
        x = sg.var("x")
        d1 = sg.grad(x**3, x)
        d2 = sg.grad(d1, x)
        assert (str(d1), str(d2)) == ("3*x**2", "6*x")  # was 3*2*x
        d3 = sg.grad(sg.grad(2 * sg.sin(x) ** 2, x), x)
        assert "2*2" not in str(d3) and "4*" in str(d3)
        for v in (0.7, -1.3):
            assert float(sg.evaluate(d2, {x: v})) == pytest.approx(6 * v, rel=1e-15)
            assert float(sg.evaluate(d3, {x: v})) == pytest.approx(4 * np.cos(2 * v), rel=1e-12)
        sg.check_grad(d1, [x], {x: 0.4}, order=2)


def test_grad_builder_keeps_a_product_that_would_underflow():
    # 1e-200 * (1e-200 * x) is not (1e-200 * 1e-200) * x = 0 * x: left as built
    from symgraph.ops.arithmetic import MULTIPLY
    from symgraph.ops.elementwise import _scale_scaled

    with sg.Graph():
        x = sg.var("x")
        inner = 1e-200 * x
        c = sg.const(1e-200)
        assert _scale_scaled(MULTIPLY, [c, inner]) is None
        assert str(_scale_scaled(MULTIPLY, [sg.const(2.0), 3.0 * x])) == "6*x"

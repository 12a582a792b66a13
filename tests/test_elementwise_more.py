"""The elementwise ops of issue 14 (trig, explog, rounding): values against NumPy on NaN,
inf and signed zeros, compile equal to evaluate there (gradients included), the gradient
conventions at the edges (clip at its bounds, nan_to_num at inf, hypot at the origin,
logaddexp far out), third derivatives against their analytic values, dtypes, LaTeX and
errors. The registry test (test_ops.py) checks every op's cases to second order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

EDGES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.7,
                  1e5, -1e5, 1e300])
UNARY = ["arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
         "log2", "log10", "exp2", "floor", "ceil", "round", "isnan", "isfinite", "nan_to_num"]
BINARY = ["arctan2", "hypot", "logaddexp", "mod"]


def _numpy(name, *values):
    with np.errstate(all="ignore"):
        return getattr(np, name)(*values)


def _grad_target(y):
    """A float scalar whose gradient passes through ``y`` (a boolean only gates ``1.0``)."""
    return sg.sum(y * y) if y.dtype.kind == "f" else sg.sum(sg.where(y, 1.0, 0.0))


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_equal_numpy_and_compile_equals_evaluate_on_nan_and_inf(name):
    with sg.Graph():
        x = sg.var("x", shape=EDGES.shape)
        y = getattr(sg, name)(x)
        outputs = [y, sg.grad(_grad_target(y), x)]
        evaluated = sg.evaluate(outputs, {x: EDGES})
        compiled = sg.compile(outputs, [x])(EDGES)
    assert_same_values(evaluated[0], _numpy(name, EDGES), rtol=0, atol=0, what=name)
    for c, e in zip(compiled, evaluated):
        assert_same_values(c, e, what=name)


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_equal_numpy_and_compile_equals_evaluate_on_nan_and_inf(name):
    a, b = (v.ravel() for v in np.meshgrid(EDGES, EDGES))  # every pair of edge values
    with sg.Graph():
        x, z = sg.var("x", shape=a.shape), sg.var("z", shape=b.shape)
        y = getattr(sg, name)(x, z)
        outputs = [y, *sg.grad(sg.sum(y * y), [x, z])]
        evaluated = sg.evaluate(outputs, {x: a, z: b})
        compiled = sg.compile(outputs, [x, z])(a, b)
    assert_same_values(evaluated[0], _numpy(name, a, b), rtol=0, atol=0, what=name)
    for c, e in zip(compiled, evaluated):
        assert_same_values(c, e, what=name)


def _third(build, point):
    """The third derivative of ``build(x)`` in ``x`` (a scalar), evaluated at ``point``."""
    with sg.Graph():
        x = sg.var("x")
        d = build(x)
        for _ in range(3):
            d = sg.grad(d, x)
        return float(sg.evaluate(d, {x: point}))


LN2, LN10 = math.log(2), math.log(10)
THIRD = {  # f''' by hand
    "arcsin": (lambda x: sg.arcsin(x), lambda x: (1 + 2 * x**2) / (1 - x**2) ** 2.5),
    "arccos": (lambda x: sg.arccos(x), lambda x: -(1 + 2 * x**2) / (1 - x**2) ** 2.5),
    "arctan": (lambda x: sg.arctan(x), lambda x: (6 * x**2 - 2) / (1 + x**2) ** 3),
    "sinh": (lambda x: sg.sinh(x), math.cosh),
    "cosh": (lambda x: sg.cosh(x), math.sinh),
    "arcsinh": (lambda x: sg.arcsinh(x), lambda x: (2 * x**2 - 1) / (1 + x**2) ** 2.5),
    "arctanh": (lambda x: sg.arctanh(x), lambda x: (2 + 6 * x**2) / (1 - x**2) ** 3),
    "log2": (lambda x: sg.log2(x), lambda x: 2 / (x**3 * LN2)),
    "log10": (lambda x: sg.log10(x), lambda x: 2 / (x**3 * LN10)),
    "exp2": (lambda x: sg.exp2(x), lambda x: LN2**3 * 2**x),
}


@pytest.mark.parametrize("name", sorted(THIRD))
@pytest.mark.parametrize("point", [0.3, 0.7])
def test_third_derivatives_equal_the_analytic_ones(name, point):
    build, exact = THIRD[name]
    assert _third(build, point) == pytest.approx(exact(point), rel=1e-12)


def test_third_derivative_of_arccosh():
    exact = (2 * 1.5**2 + 1) / (1.5**2 - 1) ** 2.5
    assert _third(sg.arccosh, 1.5) == pytest.approx(exact, rel=1e-12)


def test_third_derivatives_of_the_binary_ops():
    y0, x0 = 0.8, -1.3
    r2 = x0**2 + y0**2
    s = 1 / (1 + math.exp(-(x0 - y0)))
    cases = [  # d^3/dx^3 with the other argument held at y0
        (lambda x: sg.hypot(x, y0), -3 * x0 * y0**2 / r2**2.5),
        (lambda x: sg.arctan2(x, y0), (6 * y0 * x0**2 - 2 * y0**3) / r2**3),
        (lambda x: sg.logaddexp(x, y0), s * (1 - s) * (1 - 2 * s)),
        (lambda x: sg.mod(x, y0), 0.0),
    ]
    for build, exact in cases:
        assert _third(build, x0) == pytest.approx(exact, rel=1e-12, abs=1e-15)
    # a mixed one: d^3 hypot / dx^2 dy = y (2x^2 - y^2) / r^5
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        d = sg.grad(sg.grad(sg.grad(sg.hypot(x, y), x), x), y)
        got = float(sg.evaluate(d, {x: x0, y: y0}))
    assert got == pytest.approx(y0 * (2 * x0**2 - y0**2) / r2**2.5, rel=1e-12)


def test_order_two_of_a_composite_against_finite_differences():
    with sg.Graph():
        x, z = sg.var("x", shape=(3,)), sg.var("z", shape=(3,))
        y = sg.sum(sg.arctan2(sg.sinh(x), z) * sg.logaddexp(x, sg.log10(z))
                   + sg.hypot(sg.arcsinh(x), z) * sg.clip(x, -0.5, 0.5) + sg.mod(x * 3, z))
        feeds = {x: [0.21, -0.13, 0.37], z: [0.9, 1.3, 1.7]}
        for order in (1, 2, 3):
            assert sg.check_grad(y, [x, z], feeds, order=order) < 1e-5


# --- the gradient at the edges ------------------------------------------------------------


def test_clip_sends_the_gradient_to_x_at_the_bounds_and_to_the_bound_outside():
    values = np.array([-1.0, 1.0, 0.3, -2.0, 5.0])  # at lo, at hi, inside, below, above
    with sg.Graph():
        x, lo, hi = sg.var("x", shape=(5,)), sg.var("lo"), sg.var("hi")
        for bounds, feeds in [((lo, hi), {lo: -1.0, hi: 1.0}), ((-1.0, 1.0), {})]:
            y = sg.clip(x, *bounds)
            feeds = {x: values, **feeds}
            wrt = [x] + [b for b in bounds if isinstance(b, sg.Node)]
            grads = sg.evaluate(sg.grad(sg.sum(y * [1.0, 2.0, 3.0, 4.0, 5.0]), wrt), feeds)
            np.testing.assert_array_equal(sg.evaluate(y, feeds), [-1, 1, 0.3, -1, 1])
            np.testing.assert_array_equal(grads[0], [1, 2, 3, 0, 0])
            if len(grads) == 3:
                assert grads[1:] == [4.0, 5.0]  # lo holds the 4th value, hi the 5th
            second = sg.evaluate(sg.hessian(sg.sum(y * y), x), feeds)
            np.testing.assert_array_equal(second, np.diag([2.0, 2, 2, 0, 0]))


def test_clip_with_crossed_bounds_gives_the_upper_bound_everywhere_as_numpy():
    with sg.Graph():
        x, lo, hi = sg.var("x", shape=(3,)), sg.var("lo"), sg.var("hi")
        y = sg.clip(x, lo, hi)
        feeds = {x: [-5.0, 1.5, 9.0], lo: 2.0, hi: 1.0}
        value, *grads = sg.evaluate([y, *sg.grad(sg.sum(y), [x, lo, hi])], feeds)
    np.testing.assert_array_equal(value, np.clip([-5.0, 1.5, 9.0], 2.0, 1.0))
    np.testing.assert_array_equal(grads[0], [0, 0, 0])
    assert (float(grads[1]), float(grads[2])) == (0.0, 3.0)


def test_clip_with_an_open_side_is_maximum_or_minimum():
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        feeds = {x: [-2.0, 0.5, 3.0]}
        assert sg.clip(x, None, None) is x
        assert sg.clip(x, 0.0, None).op == "maximum" and sg.clip(x, None, 1.0).op == "minimum"
        for lo, hi in [(0.0, None), (None, 1.0)]:
            y = sg.clip(x, lo, hi)
            np.testing.assert_array_equal(sg.evaluate(y, feeds), np.clip(feeds[x], lo, hi))
        at_bound = sg.evaluate(sg.grad(sg.sum(sg.clip(x, 0.5, None)), x), feeds)
    np.testing.assert_array_equal(at_bound, [0, 1, 1])  # the tie goes to x, as in clip


def test_nan_to_num_passes_the_gradient_only_where_x_is_finite():
    values = np.array([1.5, np.nan, np.inf, -np.inf, -0.0])
    with sg.Graph():
        x = sg.var("x", shape=(5,))
        y = sg.nan_to_num(x, nan=-1.0, posinf=7.0)
        g = sg.grad(sg.sum(y * y), x)
        h = sg.hessian(sg.sum(y * y), x)
        value, grad, hess = sg.evaluate([y, g, h], {x: values})
    finfo = np.finfo(np.float64)
    np.testing.assert_array_equal(value, [1.5, -1.0, 7.0, -finfo.max, -0.0])
    np.testing.assert_array_equal(grad, [3.0, 0, 0, 0, -0.0])
    np.testing.assert_array_equal(hess, np.diag([2.0, 0, 0, 0, 2]))


def test_hypot_gradient_at_the_origin_is_zero_not_nan():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        r = sg.hypot(x, y)
        g = sg.grad(r, [x, y])
        h = sg.hessian(sg.hypot(x, 2.0 * x), x)
        at_origin = sg.evaluate([*g, h], {x: 0.0, y: 0.0})
        on_axis = sg.evaluate(g, {x: 0.0, y: -3.0})
        big = sg.evaluate(g, {x: 3e200, y: 4e200})  # x**2 would overflow
    # no NaN, as in JAX; the second derivative of sqrt(5)|x| there is the finite d(x/1)/dx
    # terms of the rule, 1 + 2*2 (the true one does not exist)
    assert [float(v) for v in at_origin] == [0.0, 0.0, 5.0]
    assert [float(v) for v in on_axis] == [0.0, -1.0]
    assert [float(v) for v in big] == pytest.approx([0.6, 0.8], rel=1e-15)


def test_logaddexp_gradient_is_stable_far_out():
    with sg.Graph():
        a, b = sg.var("a"), sg.var("b")
        y = sg.logaddexp(a, b)
        g = sg.grad(y, [a, b])
        h = sg.hessian(y, a)
        cases = {(1000.0, 0.0): [1.0, 0.0, 0.0], (-1000.0, -1000.0): [0.5, 0.5, 0.25],
                 (-np.inf, 0.0): [0.0, 1.0, 0.0], (800.0, -800.0): [1.0, 0.0, 0.0]}
        for (va, vb), want in cases.items():
            got = [float(v) for v in sg.evaluate([*g, h], {a: va, b: vb})]
            assert got == want, (va, vb)


@pytest.mark.parametrize("x0, y0, want", [(-7.0, 3.0, 3.0), (7.0, -3.0, 3.0), (7.0, 3.0, -2.0),
                                          (-7.5, -2.0, -3.0)])
def test_mod_derivative_is_numpys_away_from_the_jumps(x0, y0, want):
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        r = sg.mod(x, y)
        gx, gy = sg.evaluate(sg.grad(r, [x, y]), {x: x0, y: y0})
        assert sg.check_grad(r, [x, y], {x: x0, y: y0}, order=2) < 1e-6
    assert (float(gx), float(gy)) == (1.0, want) == (1.0, -math.floor(x0 / y0))


@pytest.mark.parametrize("name", ["floor", "ceil", "round"])
def test_floor_ceil_round_pass_a_zero_gradient(name):
    assert sg.OPS[name].vjp == (None,) and sg.OPS[name].jvp == (None,)  # declared
    values = np.array([1.2, -0.4, 2.6])
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        y = sg.sum(getattr(sg, name)(x) * x)  # d/dx (f(x) x) = f(x), since f' = 0
        grad, tangent = sg.evaluate([sg.grad(y, x), sg.jvp(y, x, np.ones(3))], {x: values})
    np.testing.assert_array_equal(grad, getattr(np, name)(values))
    assert float(tangent) == getattr(np, name)(values).sum()


@pytest.mark.parametrize("name", ["isnan", "isfinite"])
def test_the_boolean_tests_pass_no_gradient(name):
    assert sg.OPS[name].vjp == (None,) and sg.OPS[name].jvp == (None,)
    values = np.array([1.0, np.nan, np.inf])
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        test = getattr(sg, name)(x)
        assert test.dtype == np.bool_
        y = sg.sum(sg.where(test, 2.0 * x, x))  # the gradient flows through the branches
        grad, tangent = sg.evaluate([sg.grad(y, x), sg.jvp(y, x, np.ones(3))], {x: values})
    expected = np.where(getattr(np, name)(values), 2.0, 1.0)
    np.testing.assert_array_equal(grad, expected)
    assert float(tangent) == expected.sum()


# --- dtypes, display, errors -----------------------------------------------------------------


def test_dtypes_follow_numpy():
    with sg.Graph():
        i = sg.var("i", shape=(2,), dtype="int64")
        f = sg.var("f", shape=(2,), dtype="float32")
        nodes = {
            "isnan": sg.isnan(f), "isfinite": sg.isfinite(i), "floor": sg.floor(i),
            "round": sg.round(f, 1), "mod": sg.mod(i, 3), "log2": sg.log2(i),
            "clip": sg.clip(i, 0, 5), "nan_to_num": sg.nan_to_num(f), "hypot": sg.hypot(f, 2.0),
            "arctan2": sg.arctan2(i, i),
        }
        feeds = {i: np.array([-3, 7]), f: np.array([1.25, np.inf], dtype=np.float32)}
        got = dict(zip(nodes, sg.evaluate(list(nodes.values()), feeds)))
    with np.errstate(invalid="ignore"):  # log2(-3) is NaN
        expected = {
            "isnan": np.isnan(feeds[f]), "isfinite": np.isfinite(feeds[i]),
            "floor": np.floor(feeds[i]), "round": np.round(feeds[f], 1), "mod": np.mod(feeds[i], 3),
            "log2": np.log2(feeds[i].astype(np.float64)), "clip": np.clip(feeds[i], 0, 5),
            "nan_to_num": np.nan_to_num(feeds[f]), "hypot": np.hypot(feeds[f], np.float32(2.0)),
            "arctan2": np.arctan2(feeds[i], feeds[i]),
        }
    for name, node in nodes.items():
        want = np.asarray(expected[name])
        assert node.dtype == want.dtype == got[name].dtype, name
        np.testing.assert_array_equal(got[name], want, err_msg=name)


def test_latex_uses_tex_commands():
    with sg.Graph():
        x = sg.var("x")
        assert sg.latex(sg.arcsin(x)) == r"\arcsin\left(x\right)"
        assert sg.latex(sg.cosh(x)) == r"\cosh\left(x\right)"
        assert sg.latex(sg.floor(x)) == r"\left\lfloor x \right\rfloor"
        assert sg.latex(sg.ceil(x + 1)) == r"\left\lceil x + 1 \right\rceil"
        assert sg.latex(sg.square(sg.floor(x))) == r"{\left\lfloor x \right\rfloor}^{2}"
        assert sg.latex(sg.log10(x)) == r"\log_{10}\left(x\right)"
        assert sg.latex(sg.log2(x)) == r"\log_2\left(x\right)"
        assert sg.latex(sg.arctanh(x)) == r"\operatorname{arctanh}\left(x\right)"
        assert sg.latex(sg.round(x, 2)) == r"\operatorname{round}\left(x, decimals=2\right)"


def test_text_shows_attributes_that_are_not_the_default():
    with sg.Graph():
        x = sg.var("x")
        assert str(sg.round(x)) == "round(x)"
        assert str(sg.round(x, -1)) == "round(x, decimals=-1)"
        assert str(sg.nan_to_num(x)) == "nan_to_num(x)"
        assert str(sg.nan_to_num(x, nan=1, neginf=-5)) == "nan_to_num(x, nan=1.0, neginf=-5.0)"
        assert str(sg.clip(x, 0, 1)) == "clip(x, 0, 1)"


def test_bad_arguments_raise_naming_the_node():
    with sg.Graph():
        x = sg.var("speed", shape=(3,))
        with pytest.raises(sg.SymgraphError, match=r"round of 'speed'.*decimals=1.5"):
            sg.round(x, 1.5)
        with pytest.raises(sg.SymgraphError, match=r"nan_to_num of 'speed'.*nan='zero'"):
            sg.nan_to_num(x, nan="zero")
        with pytest.raises(sg.SymgraphError, match=r"posinf=True"):
            sg.nan_to_num(x, posinf=True)
        with pytest.raises(sg.ShapeError, match="speed"):
            sg.clip(x, sg.var("lo", shape=(2,)), 1.0)
        with pytest.raises(sg.ShapeError, match="speed"):
            sg.hypot(x, sg.var("other", shape=(4,)))


def test_the_cli_language_calls_the_new_functions():
    from symgraph.parse import FUNCTIONS

    for name in ["arcsin", "sinh", "log2", "exp2", "floor", "round", "nan_to_num", "arctan2",
                 "hypot", "logaddexp", "mod"]:
        assert name in FUNCTIONS, name
    assert "isnan" not in FUNCTIONS and "clip" not in FUNCTIONS  # boolean / three arguments


def test_clip_takes_numpy_2_1s_min_and_max_keywords():
    """x.clip(max=1.0) and np.clip(x, min=, max=) were refused with an unrelated reason."""
    with sg.Graph():
        x = sg.var("x", shape=(4,))
        v = np.array([-2.0, 0.25, 0.75, 3.0])
        for got, want in ((x.clip(max=0.5), np.clip(v, None, 0.5)),
                          (np.clip(x, min=0.0, max=0.5), np.clip(v, 0.0, 0.5)),
                          (sg.clip(x, min=0.0), np.clip(v, 0.0, None))):
            np.testing.assert_array_equal(sg.evaluate(got, {x: v}), want)
        g = sg.evaluate(sg.grad(sg.sum(x.clip(min=0.0, max=0.5)), x), {x: v})
        np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 0.0])

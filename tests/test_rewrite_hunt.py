"""Defects found by a differential hunt over the default sg.simplify, compile and the
printed formulas: each test failed before its fix. Default rewrites keep every value of
the graph as built (NaN, inf, -0.0, overflow, in the graph's own dtype)."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg


def _same_at(y, x, values, dtype):
    z = sg.simplify(y)
    f = sg.compile(y, [x])
    for v in values:
        want = sg.evaluate(y, {x: np.asarray(v, dtype=dtype)})
        assert_same_values(sg.evaluate(z, {x: np.asarray(v, dtype=dtype)}), want,
                           rtol=1e-6, what=f"simplify {y} -> {z} at {v}")
        assert_same_values(f(np.asarray(v, dtype=dtype)), want, rtol=1e-6,
                           what=f"compile {y} at {v}")


# --- coefficients folded in the graph's dtype: float32/float16 overflow and underflow ------


@pytest.mark.parametrize("dtype, build", [
    ("float32", lambda x, c: c(3e38) * x + c(3e38) * x),   # add-like-terms: 6e38 is inf
    ("float32", lambda x, c: c(3e38) * x - c(-3e38) * x),  # sub-like-terms
    ("float32", lambda x, c: c(1e20) * (c(1e20) * x)),     # mul-consts: 1e40 is inf
    ("float32", lambda x, c: c(1e-23) * (c(1e-23) * x)),   # mul-consts: 1e-46 is 0
    ("float16", lambda x, c: c(40000) * x + c(40000) * x),
    ("float32", lambda x, c: c(3e38) * x + sg.sin(x) + c(3e38) * x),  # collect-like-terms
])
def test_constant_coefficients_are_checked_in_the_graphs_dtype(dtype, build):
    with sg.Graph():
        x = sg.var("x", dtype=dtype)
        y = build(x, lambda v: np.asarray(v, dtype=dtype)[()])
        assert y.dtype == np.dtype(dtype)
        _same_at(y, x, [0.0, -0.0, 0.5, 1e-30, 1.0, np.inf, np.nan], dtype)


def test_bounded_terms_of_a_float16_sum_stay_below_its_overflow():
    """3*(30000*sin x) overflows float16 (65504) where the sum as built does not."""
    with sg.Graph():
        x, u = sg.var("x", dtype="float16"), sg.var("u", dtype="float16")
        c = np.float16(30000)
        y = c * sg.sin(x) + u + c * sg.sin(x) + c * sg.sin(x)
        z = sg.simplify(y)
        feeds = {x: np.float16(np.pi / 2), u: np.float16(-65504)}
        assert_same_values(sg.evaluate(z, feeds), sg.evaluate(y, feeds), rtol=1e-2)


# --- printed formulas mean what the graph computes: str(node) parses back to its values ----


def _round_trip(node, names, points):
    """``parse_expression(str(node))`` gives ``node``'s values at ``points``."""
    from symgraph.parse import parse_expression
    parsed = parse_expression(str(node), dict(names))
    for at in points:
        feeds = {names[k]: v for k, v in zip(sorted(names), at)}
        assert_same_values(sg.evaluate(parsed, feeds), sg.evaluate(node, feeds), rtol=0,
                           atol=0, what=f"{node} at {at}")


@pytest.mark.parametrize("number, text", [
    (1 / 3, "x + 0.3333333333333333"), (1234567.5, "x + 1234567.5"), (0.1, "x + 0.1"),
    (-0.0, "x - 0.0"), (2.0 ** -1074, "x + 5e-324"), (1e300, "x + 1e+300")])
def test_constants_print_as_the_number_they_hold(number, text):
    with sg.Graph():
        x = sg.var("x")
        y = sg.add(x, sg.const(number))
        assert str(y) == text
        _round_trip(y, {"x": x}, [(-0.0,), (0.0,), (2.0,), (1e-300,)])


def test_float32_constants_print_their_shortest_float32_text():
    with sg.Graph():
        x = sg.var("x", dtype="float32")
        assert str(x * np.float32(0.1)) == "x*0.1"
        assert str(x + np.float32(1 / 3)) == "x + 0.33333334"


def test_negative_zero_keeps_its_sign_in_text():
    with sg.Graph():
        x = sg.var("x")
        for y in (x * -0.0, -0.0 - x, sg.sin(sg.const(-0.0)) + x, sg.maximum(x, -0.0)):
            _round_trip(y, {"x": x}, [(0.0,), (-0.0,), (1.0,), (np.inf,)])


def test_right_nested_sums_and_products_keep_their_brackets():
    """x*(y*0) is 0 at x=1e308, y=1e200 where (x*y)*0 is NaN; x + (y + z) is finite at
    1e308, 1e308, -1e308 where (x + y) + z is inf."""
    with sg.Graph():
        x, y, z = sg.var("x"), sg.var("y"), sg.var("z")
        names = {"x": x, "y": y, "z": z}
        at = [(1e308, 1e200, -1e308), (1e308, 1e308, -1e308), (np.inf, -np.inf, 1.0),
              (-0.0, 0.0, -0.0), (1.0, 2.0, 3.0)]
        for node, text in [(x * (y * 0.0), "x*(y*0)"), (x + (y + z), "x + (y + z)"),
                           (x + (y - z), "x + (y - z)"), (x * (y / z), "x*(y/z)"),
                           (x - (y - z), "x - (y - z)"), (x / (y * z), "x/(y*z)"),
                           (x * y * z, "x*y*z"), (x + y - z, "x + y - z"),
                           (-(x ** 2), "-x**2"), ((-x) ** 2, "(-x)**2"),
                           (x ** (y ** z), "x**y**z"), ((x ** y) ** z, "(x**y)**z"),
                           (x * -(y * z), "-x*(y*z)"), (-(x * y), "-(x*y)")]:
            assert str(node) == text
            _round_trip(node, names, at)


# --- constants of a narrower dtype than the product or sum they meet ----------------------


@pytest.mark.parametrize("dtype, build", [
    ("float64", lambda x, c: -(c(3, "uint8") * x)),          # neg-mul-const: -3 is 253 in uint8
    ("float32", lambda x, c: -(c(-128, "int8") * x)),        # ... and 128 is -128 in int8
    ("float64", lambda x, c: c(16, "uint8") * (c(16, "uint8") * x)),  # mul-consts: 256 is 0
    ("int64", lambda x, c: c(100, "int8") + (c(100, "int8") + x)),    # add-consts: 200 is -56
    ("int64", lambda x, c: c(100, "int8") * x + c(100, "int8") * x),  # add-like-terms
    ("int64", lambda x, c: x + c(127, "int8") * x),                   # add-like-term
    ("int64", lambda x, c: c(100, "int8") * x - c(-100, "int8") * x),  # sub-like-terms
    # the inner product rounds (overflows) in float32 before the float64 one
    ("float32", lambda x, c: c(1e20, "float64") * (c(1e20, "float32") * x)),
    ("float32", lambda x, c: c(2.0, "float64") * x + c(3e38, "float32") * x),
])
def test_constants_fold_in_the_dtype_the_graph_computes_in(dtype, build):
    with sg.Graph():
        x = sg.var("x", dtype=dtype)
        y = build(x, lambda v, t: sg.const(np.asarray(v, dtype=t)))
        values = [0, 1, -1, 2, 3, 1000] if dtype == "int64" else \
            [0.0, -0.0, 1.0, 2.0, 10.0, 1e20, np.inf, np.nan]
        _same_at(y, x, values, dtype)


# --- sum(broadcast_to(x, S)) -> sum(x)*copies reassociates the sum ------------------------


def test_sum_of_a_broadcast_keeps_overflow_where_the_sum_reassociates():
    """[[1e308], [-1e308]] broadcast to (2, 2) sums as 1e308 + 1e308 + ... = inf in
    NumPy's order; sum(x)*2 is 0.0. Only a one-element x (or integers) is exact."""
    with sg.Graph():
        x = sg.var("x", shape=(2, 1))
        y = sg.sum(sg.broadcast_to(x, (2, 2)))
        v = np.array([[1e308], [-1e308]])
        assert_same_values(sg.evaluate(sg.simplify(y), {x: v}), sg.evaluate(y, {x: v}))
        assert_same_values(sg.compile(y, [x])(v), sg.evaluate(y, {x: v}))
        s = sg.var("s")
        one = sg.sum(sg.broadcast_to(s, (3,)))
        assert sg.simplify(one).op != "sum" or sg.simplify(one).inputs[0] is s  # still folds
        assert sg.simplify(sg.sum(sg.broadcast_to(x, (2, 2))), assume_finite=True).op == \
            "multiply"


def test_sum_of_a_float16_broadcast_declines_a_copies_count_it_cannot_hold():
    with sg.Graph():
        x = sg.var("x", dtype="float16")
        y = sg.sum(sg.broadcast_to(x, (300, 300)))  # 90000 copies: inf in float16
        for v in (0.0, 1e-4):
            feeds = {x: np.float16(v)}
            assert_same_values(sg.evaluate(sg.simplify(y), feeds), sg.evaluate(y, feeds),
                               rtol=1e-2)


def test_assume_finite_documents_that_regrouping_can_overflow_at_finite_points():
    """The documented limit of assume_finite (not a default): factoring x*y + x*z
    overflows where every value of the original graph is finite."""
    with sg.Graph():
        x, y, z = sg.var("x"), sg.var("y"), sg.var("z")
        e = x * y + x * z
        f = sg.simplify(e, assume_finite=True)
        feeds = {x: 0.5, y: 1e308, z: 1e308}
        assert float(sg.evaluate(e, feeds)) == 1e308
        assert np.isinf(sg.evaluate(f, feeds))
        assert_same_values(sg.evaluate(sg.simplify(e), feeds), sg.evaluate(e, feeds))


def test_a_zero_times_unbounded_term_does_not_switch_off_the_like_terms_bound():
    """0*v had the bound 0*inf = NaN, and a NaN total passed every check: the large
    bounded terms 1e20*sin(w) were then collected and the sum reassociated (32768.0
    became 0.0). Without the 0*v term the sum is left alone."""
    with sg.Graph():
        w, u, v = sg.var("w"), sg.var("u"), sg.var("v")
        s = sg.sin(w)
        e = 1e20 * s + u + 0.0 * v + 1e20 * s + 1e20 * s
        feeds = {w: 1.521078652048839, u: -2.9962929929174024e+20, v: 1.0}
        assert float(sg.evaluate(e, feeds)) == 32768.0
        assert_same_values(sg.evaluate(sg.simplify(e), feeds), sg.evaluate(e, feeds))
        assert_same_values(sg.compile(e, [w, u, v])(*feeds.values()), sg.evaluate(e, feeds))


def test_a_nan_constant_factor_does_not_switch_off_the_like_terms_bound():
    with sg.Graph():
        w, u, v = sg.var("w"), sg.var("u"), sg.var("v")
        s = sg.sin(w)
        e = 1e20 * s + u + sg.const(np.nan) * sg.sin(v) + 1e20 * s + 1e20 * s
        assert "3e+20" not in str(sg.simplify(e))


# --- a replacement computed in a narrower dtype than the node it replaces ---------------


@pytest.mark.parametrize("build", [
    lambda x, c: x ** c(2.0),     # pow-two: square in float32 overflows at 1e20 (1e40 in f64)
    lambda x, c: x ** c(-1.0),    # pow-minus-one: 1/x in float32 is inf at 1e-40
    lambda x, c: x ** c(0.5),     # pow-half: sqrt in float32 rounds to float32
    lambda x, c: sg.log(c(1.0) + x),  # log1p in float32
])
def test_a_float32_input_under_a_float64_op_is_not_rewritten_into_float32(build):
    with sg.Graph():
        x = sg.var("x", dtype="float32")
        y = build(x, lambda v: sg.const(np.float64(v)))
        assert y.dtype == np.float64
        z, f = sg.simplify(y), sg.compile(y, [x])
        for v in (1e20, 1e-40, 3.0, 0.1, -0.0, np.inf):
            want = sg.evaluate(y, {x: np.float32(v)})
            assert_same_values(sg.evaluate(z, {x: np.float32(v)}), want, rtol=1e-12,
                               atol=0, what=f"{y} -> {z} at {v}")
            assert_same_values(f(np.float32(v)), want, rtol=1e-12, atol=0, what=f"{v}")


# --- a negation in a narrower integer dtype wraps before the promotion --------------------


@pytest.mark.parametrize("build", [
    lambda x, u, k, i: x + (-u),       # add-neg: -uint8(3) is 253, x + 253 is not x - 3
    lambda x, u, k, i: x - (-u),       # sub-neg
    lambda x, u, k, i: x * (-u),       # mul-neg
    lambda x, u, k, i: -u - x,         # sub-neg-first
    lambda x, u, k, i: i + (-k),       # -int8(-128) is -128
    lambda x, u, k, i: -k - i,
    lambda x, u, k, i: (0 - u) + x,    # zero-sub then add-neg
])
def test_a_negation_that_wraps_is_not_moved_across_a_promotion(build):
    with sg.Graph():
        x, i = sg.var("x"), sg.var("i", dtype="int64")
        u, k = sg.var("u", dtype="uint8"), sg.var("k", dtype="int8")
        y = build(x, u, k, i)
        feeds = {x: 10.0, u: np.uint8(3), k: np.int8(-128), i: 5}
        want = sg.evaluate(y, feeds)
        assert_same_values(sg.evaluate(sg.simplify(y), feeds), want, what=str(y))
        assert_same_values(sg.compile(y, [x, u, k, i])(*feeds.values()), want, what=str(y))


def test_a_negation_that_wraps_prints_where_it_is():
    """str(x + -u) was "x - u": 263 as the graph computes it (-uint8(3) is 253), 7 as
    it reads."""
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        u, i = sg.var("u", dtype="uint8"), sg.var("i", dtype="int64")
        assert [str(x + (-u)), str(x - (-u)), str(x * (-u)), str(x / (-u))] == [
            "x + -u", "x - -u", "x*-u", "x/-u"]
        assert [str(x + (-y)), str(x * (-y)), str(i + (-i))] == ["x - y", "-x*y", "i - i"]


@pytest.mark.parametrize("build, at", [
    (lambda x: x + sg.const(np.int64(0)), -0.0),   # add-zero: an integer 0 is +0.0
    (lambda x: x + sg.const(False), -0.0),
    (lambda x: sg.const(np.int8(0)) - x, 0.0),     # zero-sub: 0 - 0.0 is 0.0, -0.0 is not
])
def test_an_integer_zero_added_to_a_float_is_plus_zero(build, at):
    with sg.Graph():
        x = sg.var("x")
        y = build(x)
        want = sg.evaluate(y, {x: at})
        assert_same_values(sg.evaluate(sg.simplify(y), {x: at}), want, what=str(y))
        assert_same_values(sg.compile(y, [x])(at), want, what=str(y))
        assert str(sg.simplify(x - sg.const(np.int64(0)))) == "x"  # x - (+0) stays exact


# --- NumPy sums small integers in int64: the rewrites must not sum them in their own -----


@pytest.mark.parametrize("dtype, value", [("int8", -128), ("uint8", 128), ("int16", 30000)])
def test_sums_of_small_integers_are_not_rewritten_into_their_narrow_dtype(dtype, value):
    """np.sum of int8 is int64: sum(broadcast_to(k, (3,))) is -384 in evaluate, and
    k*3 (sum-broadcast, then sum-scalar) wrapped to -128 in int8."""
    with sg.Graph():
        k = sg.var("k", dtype=dtype)
        for y in (sg.sum(sg.broadcast_to(k, (3,))), sg.sum(k) * np.asarray(100, dtype)):
            feeds = {k: np.asarray(value, dtype=dtype)}
            want = sg.evaluate(y, feeds)
            np.testing.assert_array_equal(sg.evaluate(sg.simplify(y), feeds), want)
            np.testing.assert_array_equal(sg.compile(y, [k])(feeds[k]), want)


def test_float16_x_to_the_half_keeps_powers_zero_and_infinity():
    """NumPy computes x**0.5 as sqrt only in float32/float64; in float16 it is C's pow:
    (-0.0)**0.5 is 0.0 and (-inf)**0.5 is inf, where sqrt gives -0.0 and NaN."""
    with sg.Graph():
        x = sg.var("x", dtype="float16")
        y = x ** np.float16(0.5)
        for v in (-0.0, -np.inf, 4.0):
            feeds = {x: np.float16(v)}
            want = sg.evaluate(y, feeds)
            assert_same_values(sg.evaluate(sg.simplify(y), feeds), want, what=str(v))
            assert_same_values(sg.compile(y, [x])(np.float16(v)), want, what=str(v))


def test_a_sum_of_small_integers_declares_the_dtype_numpy_sums_in():
    with sg.Graph():
        for dtype, want in [("int8", "int64"), ("uint8", "uint64"), ("int32", "int64"),
                            ("bool", "int64"), ("float16", "float16"), ("int64", "int64")]:
            k = sg.var(f"k_{dtype}", dtype=dtype, shape=(3,))
            assert sg.sum(k).dtype == np.dtype(want)
            value = np.ones(3, dtype=dtype)
            assert sg.evaluate(sg.sum(k), {k: value}).dtype == np.dtype(want)


def test_a_fill_of_negative_zeros_does_not_print_as_zeros():
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        assert str(x * np.full(3, -0.0)) == "x*full(3, -0.0)"
        assert str(x * np.zeros(3)) == "x*zeros(3)"
        assert str(x + sg.const(np.broadcast_to(-0.0, (2, 3)))) == "x + full((2, 3), -0.0)"
        assert str(x * np.array([0.0, -0.0, 0.0])) == "x*[0, -0.0, 0]"


def _random_formula(rng, xs, depth):
    """A random scalar formula of + - * / **, unary minus, calls and awkward constants."""
    if depth <= 0 or rng.random() < 0.2:
        if rng.random() < 0.3:
            return sg.const(float(rng.choice([0.0, -0.0, 1.0, -1.0, 0.5, 1 / 3, 0.1, -1.5, 1e300,
                                               1e-300, 1234567.5, 2.0 ** -1074])))
        return xs[rng.integers(len(xs))]
    a = lambda: _random_formula(rng, xs, depth - 1)  # noqa: E731
    pick = rng.integers(13)
    return [lambda: a() + a(), lambda: a() - a(), lambda: a() * a(), lambda: a() / a(),
            lambda: a() ** a(), lambda: -a(), lambda: sg.exp(a()), lambda: sg.sin(a()),
            lambda: sg.sqrt(a()), lambda: sg.maximum(a(), a()), lambda: a() * (a() * a()),
            lambda: a() - (a() - a()), lambda: a() + (a() + a())][pick]()


def test_printed_formulas_parse_back_to_the_same_values():
    """str(node), read by the CLI's parser, computes what the node computes, bit for bit
    (NaN, inf and -0.0 included), before and after simplify."""
    from symgraph.parse import parse_expression
    rng = np.random.default_rng(7)
    points = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.0, np.inf, -np.inf, np.nan, 1e308, 1e-310,
              1e200, -1e200]
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        for _ in range(120):
            e = _random_formula(rng, [x, y], int(rng.integers(1, 5)))
            for node in (e, sg.simplify(e)):
                # (folded constants may be inf or NaN, which print as those names)
                parsed = parse_expression(str(node), {"x": x, "y": y, "inf": sg.const(np.inf),
                                                      "nan": sg.const(np.nan)})
                for _ in range(6):
                    feeds = {x: rng.choice(points), y: rng.choice(points)}
                    assert_same_values(sg.evaluate(parsed, feeds), sg.evaluate(node, feeds),
                                       rtol=0, atol=0, what=f"{node} at {feeds}")


# --- interning (the sharing of equal nodes) tells -0.0 from 0.0 in attributes ----------


def test_nodes_differing_only_by_a_negative_zero_attribute_are_not_shared():
    """nan_to_num(x, nan=-0.0) was the node nan_to_num(x, nan=0.0) built before it
    (-0.0 == 0.0 and hash alike): 0.0 at NaN where NumPy gives -0.0; so was a pad with
    constant_values=-0.0. Its text showed no nan= either (equal to the default 0.0)."""
    with sg.Graph():
        x, v = sg.var("x"), sg.var("v", shape=(2,))
        a, b = sg.nan_to_num(x, nan=0.0), sg.nan_to_num(x, nan=-0.0)
        assert a is not b
        assert np.signbit(sg.evaluate(b, {x: np.nan}))
        assert str(b) == "nan_to_num(x, nan=-0.0)" and str(a) == "nan_to_num(x)"
        p, q = sg.pad(v, 1, constant_values=0.0), sg.pad(v, 1, constant_values=-0.0)
        assert p is not q
        assert np.signbit(sg.evaluate(q, {v: [1.0, 2.0]}))[0]
        assert sg.nan_to_num(x, nan=0.0) is a  # equal attributes still share


def test_log1p_keeps_the_plus_zero_over_a_float16_relu():
    """NumPy's float16 maximum returns its first operand on a tie: relu(-0.0) is -0.0 in
    float16 (0.0 in float32/64), so log(1 + relu(x)) -> log1p(relu(x)) needs its + 0."""
    with sg.Graph():
        for dtype in ("float16", "float32", "float64"):
            x = sg.var(f"x_{dtype}", dtype=dtype)
            y = sg.log(1 + sg.relu(x))
            feeds = {x: np.asarray(-0.0, dtype=dtype)}
            want = sg.evaluate(y, feeds)
            assert_same_values(sg.evaluate(sg.simplify(y), feeds), want, what=dtype)
            assert_same_values(sg.compile(y, [x])(feeds[x]), want, what=dtype)


def test_log1p_and_expm1_are_opt_in():
    """log(1 + 1e-20) is 0 where log1p(1e-20) is 1e-20: better rounding, but another
    number, and a division downstream makes it 0 against 1e155. By default compile keeps
    what evaluate computes; assume_finite=True asks for the stabler forms."""
    with sg.Graph():
        x = sg.var("x")
        y = sg.sqrt(sg.log(x + 1)) / sg.sin(sg.sin(x))
        z = sg.exp(x) - 1
        for point in (1e-310, 1e-20, 0.5, -0.0):
            want = sg.evaluate([y, z], {x: point})
            assert_same_values(sg.compile([y, z], [x])(point), want, what=str(point))
        assert str(sg.simplify(sg.log(1 + x))) == "log(x + 1)"  # the node y made
        assert str(sg.simplify(sg.log(1 + x), assume_finite=True)) == "log1p(x)"
        assert str(sg.simplify(z, assume_finite=True)) == "expm1(x)"


def test_mod_of_two_booleans_is_declared_int8_as_numpy_computes_it():
    with sg.Graph():
        a, b = sg.var("a", (2,), dtype="bool"), sg.var("b", (2,), dtype="bool")
        m = sg.mod(a, b)
        assert m.dtype == np.mod(np.bool_(True), np.bool_(True)).dtype == np.int8
        got = sg.compile(m, [a, b])(np.array([True, False]), np.array([True, True]))
        assert got.dtype == np.int8 and got.tolist() == [0, 0]

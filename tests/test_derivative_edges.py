"""Derivatives at the edges (issue 12): casts to integers, powers at zero, repeated
Jacobians and Hessians, rules that return the wrong thing, ops declared without rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgraph as sg

# --- casts to integer or boolean dtypes are piecewise constant ---------------------------------


def test_cast_to_integer_passes_no_gradient(graph):
    v = sg.var("v", shape=(3,))
    y = sg.cast(v, "int64") * v
    d = sg.grad(sg.sum(y), v)
    t = sg.jvp(y, v, [1.0, 1.0, 1.0])
    feeds = {v: [1.5, 2.5, 3.5]}
    # d/dv (floor(v) * v) = floor(v): only the second factor carries a gradient
    assert sg.evaluate(d, feeds).tolist() == [1.0, 2.0, 3.0]
    assert sg.evaluate(t, feeds).tolist() == [1.0, 2.0, 3.0]


def test_cast_to_bool_passes_no_gradient(graph):
    v = sg.var("v", shape=(3,))
    y = sg.sum(sg.cast(v, "bool") * v * v)
    feeds = {v: [0.0, 2.5, -1.0]}
    assert sg.evaluate(sg.grad(y, v), feeds).tolist() == [0.0, 5.0, -2.0]
    assert float(sg.evaluate(sg.jvp(y, v, [1.0, 1.0, 1.0]), feeds)) == 3.0


def test_cast_back_to_float_after_an_integer_cast_still_passes_nothing(graph):
    v = sg.var("v", shape=(2,))
    y = sg.sum(sg.cast(sg.cast(v, "int32"), "float64") * sg.sin(v))
    d = sg.grad(y, v)
    vv = np.array([1.5, -2.5])
    np.testing.assert_allclose(sg.evaluate(d, {v: vv}), np.trunc(vv) * np.cos(vv), rtol=1e-15)
    # no cast of a cotangent to an integer dtype is built on the way
    assert not any(n.op == "cast" and n.dtype.kind in "iub" and n.order > 0
                   for n in sg.ancestors([d]))


def test_casts_between_float_dtypes_still_pass_the_gradient(graph):
    v = sg.var("v", shape=(3,))
    y = sg.sum(sg.cast(v, "float32") ** 3)
    d = sg.grad(y, v)
    assert d.dtype == np.float64
    np.testing.assert_allclose(sg.evaluate(d, {v: [1.0, -2.0, 0.5]}), [3.0, 12.0, 0.75],
                               rtol=1e-6)
    assert sg.check_grad(y, v, {v: [1.0, -2.0, 0.5]}, order=2) < 2e-2


# --- power at zero --------------------------------------------------------------------------


def _analytic(p: float, k: int, x: float) -> float:
    """d^k/dx^k x**p = p (p-1) ... (p-k+1) x**(p-k); 0 where the coefficient is 0."""
    coefficient = math.prod(p - j for j in range(k))
    return 0.0 if coefficient == 0 else coefficient * x ** (p - k)


POINTS = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (0.5, 0.7), (0.5, 2.0),
          (-1.0, 0.8), (-1.0, -1.3), (2.0, -1.5), (3.0, 1.7)]


@pytest.mark.parametrize("p, at", POINTS)
@pytest.mark.parametrize("exponent_is_input", [False, True])
def test_derivatives_of_power_in_the_base_to_third_order(p, at, exponent_is_input):
    with sg.Graph():
        x = sg.var("x")
        e = sg.var("p") if exponent_is_input else p
        y = x ** e
        feeds = {x: at, e: p} if exponent_is_input else {x: at}
        d = y
        for k in (1, 2, 3):
            d = sg.grad(d, x)
            assert float(sg.evaluate(d, feeds)) == pytest.approx(_analytic(p, k, at), rel=1e-12), k
            # forward mode over the (k-1)-th derivative agrees
            before = y if k == 1 else sg.grad(y, x) if k == 2 else sg.grad(sg.grad(y, x), x)
            t = sg.jvp(before, x, 1.0)
            assert float(sg.evaluate(t, feeds)) == pytest.approx(_analytic(p, k, at), rel=1e-12)


def test_derivative_of_power_in_a_zero_exponent_at_zero(graph):
    x, p = sg.var("x"), sg.var("p")
    feeds = {x: 0.0, p: 0.0}
    assert float(sg.evaluate(sg.grad(x ** p, x), feeds)) == 0.0
    assert float(sg.evaluate(sg.jvp(x ** p, x, 1.0), feeds)) == 0.0
    # an array exponent holding a zero: its entry has derivative 0, the others theirs
    v = sg.var("v", shape=(3,))
    d = sg.grad(sg.sum(v ** sg.const([0.0, 1.0, 2.0])), v)
    assert sg.evaluate(d, {v: [0.0, 0.0, 3.0]}).tolist() == [0.0, 1.0, 6.0]


def test_derivatives_of_power_in_the_exponent_at_a_zero_base(graph):
    x, p = sg.var("x"), sg.var("p")
    feeds = {x: 0.0, p: 2.0}
    d1 = sg.grad(x ** p, p)
    d2 = sg.grad(d1, p)
    d3 = sg.grad(d2, p)
    # 0**p is 0 for p > 0: every derivative in p is 0
    assert sg.evaluate([d1, d2, d3], feeds) == [0.0, 0.0, 0.0]
    assert float(sg.evaluate(sg.jvp(x ** p, p, 1.0), feeds)) == 0.0
    # d/dx (x**p log x) = p x**(p-1) log x + x**(p-1) -> 0 at x = 0 for p = 2
    assert float(sg.evaluate(sg.grad(d1, x), feeds)) == 0.0
    y = sg.var("y")
    zero_base = sg.const(0.0) ** y
    assert float(sg.evaluate(sg.grad(zero_base, y), {y: 1.5})) == 0.0
    assert float(sg.evaluate(sg.jvp(zero_base, y, 1.0), {y: 1.5})) == 0.0


@pytest.mark.parametrize("order", [1, 2, 3])
def test_power_still_matches_finite_differences_away_from_zero(graph, order):
    x, p = sg.var("x", shape=(4,)), sg.var("p", shape=(4,))
    feeds = {x: [0.3, 1.2, 2.5, 0.9], p: [-1.5, 0.0, 0.5, 2.7]}
    assert sg.check_grad(sg.sum(x ** p), [x, p], feeds, order=order) < 1e-5
    assert sg.check_grad(sg.sum(sg.const(1.7) ** p), p, feeds, order=order) < 1e-5
    assert sg.check_grad(sg.sum(x ** sg.const([0.0, 1.0, 2.0, -0.5])), x, feeds,
                         order=order) < 1e-5


def test_constant_exponents_keep_small_derivative_graphs(graph):
    x = sg.var("x")
    for expr, text, size in [(x ** 2, "2*x", 3), (x ** 3, "3*x**2", 5),
                             (x ** 0.5, "0.5*x**(-0.5)", 5), (x ** 1.0, "x**0", 3),
                             (sg.const(2.0) ** x, "2**x*0.6931471805599453", 5)]:
        d = sg.grad(expr, x)
        assert (str(d), len(sg.ancestors([d]))) == (text, size)
    assert str(sg.grad(sg.grad(x ** 3, x), x)) == "6*x"
    zero = sg.grad(x ** 0.0, x)  # a zero exponent passes no gradient: no 0*x**-1 node
    assert zero.op == "const" and float(sg.evaluate(zero)) == 0.0


# --- repeated calls add no nodes ------------------------------------------------------------


def _same(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(i, j) for i, j in zip(a, b))
    return a is b


def test_repeated_derivative_calls_return_the_same_nodes_and_add_none(graph):
    x = sg.var("x", shape=(3,))
    w = sg.var("w", shape=(2,))
    y = sg.sum(sg.sin(x) * x ** 2) * w[0]
    v = sg.exp(x) * x[0] + sg.sum(w)
    builders = {
        "grad": lambda: sg.grad(y, [x, w]),
        "jacobian": lambda: sg.jacobian(v, x),
        "jacobian-list": lambda: sg.jacobian(v, [x, w]),
        "hessian": lambda: sg.hessian(y, x),
        "hvp": lambda: sg.hvp(y, x, [1.0, 0.0, 2.0]),
        "jvp": lambda: sg.jvp(v, [x, w], [np.arange(3.0), [1.0, 1.0]]),
    }
    for name, build in builders.items():
        first = build()
        size = len(graph)
        assert _same(build(), first), name
        assert len(graph) == size, f"{name} added {len(graph) - size} nodes when called again"
    # a Newton-like loop does not grow the graph either
    size = len(graph)
    for _ in range(5):
        sg.hessian(y, x)
        sg.jacobian(sg.grad(y, x), x)
    assert len(graph) == size
    H = sg.hessian(y, x)
    xv = np.array([0.3, -1.0, 2.0])
    assert sg.check_grad(sg.sum(sg.grad(y, x) * sg.const([1.0, 2.0, 3.0])), x,
                         {x: xv, w: [1.5, 0.0]}) < 1e-6
    np.testing.assert_allclose(
        sg.evaluate(H, {x: xv, w: [1.5, 0.0]}),
        1.5 * np.diag(2 * np.sin(xv) + 4 * xv * np.cos(xv) - xv ** 2 * np.sin(xv)), atol=1e-12)


def test_repeated_calls_with_large_shapes_and_directions_add_no_nodes(graph):
    """Constants over 256 elements are not interned by value: the identity of a Jacobian
    with 20 outputs (400 elements) and a direction of 300 elements must still be reused."""
    x = sg.var("x", shape=(300,))
    y = sg.sum(sg.sin(x[:20]) * x[1:21] ** 2)
    v = sg.exp(x[:20]) * x[0]
    direction = np.linspace(-1.0, 1.0, 300)
    for build in (lambda: sg.hessian(y, x), lambda: sg.jacobian(v, x),
                  lambda: sg.jvp(v, x, direction), lambda: sg.hvp(y, x, direction.copy())):
        first = build()
        size = len(graph)
        assert build() is first and len(graph) == size
    # a different direction is a different constant, not the cached one
    other = sg.jvp(v, x, direction[::-1].copy())
    xv = np.linspace(0.5, 1.5, 300)
    t = sg.evaluate(other, {x: xv})
    np.testing.assert_allclose(t, np.exp(xv[:20]) * (direction[::-1][:20] * xv[0] + direction[-1]),
                               rtol=1e-12)


# --- rules that return the wrong thing ------------------------------------------------------


def test_rules_returning_something_else_than_a_node_raise():
    with sg.Graph():
        foreign = sg.const(1.0)
    wrong = {
        "array": lambda g, out: np.ones(3),
        "float": lambda g, out: 2.0,
        "foreign": lambda g, out: foreign,
    }
    for kind, rule in wrong.items():
        op = sg.define_op(f"edges_returns_{kind}", np.sin, vjp=[rule], jvp=[rule])
        with sg.Graph() as g:
            x = sg.var("x", shape=(3,))
            y = sg.sum(op(x))
            size = len(g)
            for build, mode in [(lambda: sg.grad(y, x), "vjp"),
                                (lambda: sg.jvp(y, x, np.ones(3)), "jvp")]:
                with pytest.raises(sg.SymgraphError) as info:
                    build()
                message = str(info.value)
                assert f"edges_returns_{kind}" in message and mode in message, message
                assert "input 0" in message and "must return" in message, message
                assert len(g) == size  # rolled back


# --- ops declared without derivative rules --------------------------------------------------


def test_define_op_without_rules_refuses_to_differentiate(graph):
    bare = sg.define_op("edges_no_rules", np.sin)
    half = sg.define_op("edges_vjp_only", np.sin, vjp=[lambda g, out: g * sg.cos(out.inputs[0])])
    x = sg.var("x")
    b, h = bare(sg.sin(x)), half(x)
    z = sg.sin(b) * x
    for build in (lambda: sg.grad(b, x), lambda: sg.jvp(b, x, 1.0), lambda: sg.jvp(h, x, 1.0),
                  lambda: sg.hvp(z, x, 1.0)):
        size = len(graph)
        with pytest.raises(sg.SymgraphError, match=r"'edges_(no_rules|vjp_only)'.*input 0"):
            build()
        assert len(graph) == size
    assert float(sg.evaluate(sg.grad(half(x), x), {x: 0.0})) == 1.0
    # forward evaluation and derivatives that do not pass through it still work
    y = bare(sg.stop_gradient(x)) * x
    assert float(sg.evaluate(sg.grad(y, x), {x: 1.0})) == pytest.approx(math.sin(1.0))


def test_explicit_none_rule_means_no_gradient(graph):
    flat = sg.define_op("edges_no_gradient", np.round, vjp=[None], jvp=[None])
    x = sg.var("x")
    y = flat(x) * x
    assert float(sg.evaluate(sg.grad(y, x), {x: 2.4})) == 2.0
    assert float(sg.evaluate(sg.jvp(y, x, 1.0), {x: 2.4})) == 2.0


def test_rule_lists_must_cover_every_input(graph):
    short = sg.define_op("edges_short_rules", np.add, vjp=[lambda g, out: g])
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match="edges_short_rules.*2 inputs.*1 vjp rule"):
        short(x, x)


def test_builtin_ops_without_gradient_still_give_zero(graph):
    x = sg.var("x", shape=(3,))
    xv = np.array([-1.5, 0.0, 2.5])
    # y = flat(x) * x with a piecewise constant flat: dy/dx = flat(x)
    cases = [(sg.sign(x), np.sign(xv)), (sg.stop_gradient(x), xv),
             (sg.cast(x > 0, "float64"), (xv > 0) * 1.0),
             (sg.where(x > 0, 1.0, 0.0), (xv > 0) * 1.0),
             (sg.cast(sg.cast(x, "int64"), "float64"), np.trunc(xv))]
    for flat, expected in cases:
        y = flat * x
        d, t = sg.evaluate([sg.grad(sg.sum(y), x), sg.jvp(y, x, np.ones(3))], {x: xv})
        assert d.tolist() == expected.tolist() == t.tolist(), str(y)


def test_define_op_takes_an_implementation_per_backend():
    """The contract's impls= (a user op's own jax/numba/dask function) is kept on the op and
    checked when declared; the dask backend runs it (tests/test_backend_dask.py too)."""
    dask_array = pytest.importorskip("dask.array")
    calls = []

    def blocked(x):
        calls.append(1)
        return 3 * x

    op = sg.define_op("triple_impls_example", lambda x: 3 * x,
                      vjp=[lambda g, out: 3 * g], impls={"dask": blocked})
    assert op.op.impls == {"dask": blocked}
    with pytest.raises(sg.SymgraphError, match="impls must map backend names to functions"):
        sg.define_op("bad_impls_example", lambda x: x, impls={"jax": 3})
    with sg.Graph():
        x = sg.var("x", shape=(4,))
        f = sg.compile(op(x), [x], backend="dask")
        out = f(dask_array.from_array(np.arange(4.0), chunks=2)).compute()
    np.testing.assert_array_equal(out, [0.0, 3.0, 6.0, 9.0])
    assert calls


def test_a_numba_implementation_is_compiled_and_called_by_the_numba_backend():
    """define_op(impls={"numba": fn}): fn (njit-able; numbers for scalars, arrays else)
    computes the op on the numba backend, and its result is checked as everywhere."""
    numba = pytest.importorskip("numba")
    import math

    cube = sg.define_op("numba_impl_cube", lambda x: np.negative(x) * 0,  # not used: see fn
                        vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])],
                        elementwise=True, impls={"numba": lambda x: x ** 3})
    shifted = sg.define_op("numba_impl_sin", np.sin, elementwise=True,
                           impls={"numba": numba.njit(lambda x: math.sin(x) + 0.0)})
    wrong = sg.define_op("numba_impl_wrong", lambda x: 2 * x, elementwise=True,
                         impls={"numba": lambda x: np.sum(x)})
    with sg.Graph():
        v, s = sg.var("v", shape=(3,)), sg.var("s")
        f = sg.compile([cube(v), sg.grad(cube(s) * 2, s), shifted(s)], [v, s], backend="numba")
        got = f(np.array([1.0, -2.0, 0.5]), 2.0)
        np.testing.assert_allclose(got[0], [1.0, -8.0, 0.125], rtol=0)  # fn's, not forward's
        assert float(got[1]) == 24.0 and float(got[2]) == math.sin(2.0)
        with pytest.raises(sg.ShapeError, match="'numba_impl_wrong'.*returned shape \\(\\)"):
            sg.compile(wrong(v) + v, [v], backend="numba")(np.ones(3))
        with pytest.raises(sg.SymgraphError, match="cannot run the op 'numba_impl_wrong'"):
            sg.compile(wrong(v), [v], backend="jax")


def test_a_jax_implementation_returning_another_shape_raises_naming_the_op():
    pytest.importorskip("jax")
    import jax.numpy as jnp

    summed = sg.define_op("jax_impl_wrong", lambda x: 2 * x, elementwise=True,
                          impls={"jax": lambda x: jnp.sum(2 * x)})
    with sg.Graph():
        v = sg.var("v", shape=(3,))
        f = sg.compile(summed(v) + v, [v], backend="jax")
        with pytest.raises(sg.ShapeError, match="'jax_impl_wrong'.*returned shape \\(\\).*"
                                                "declares \\(3,\\)"):
            f(np.ones(3))  # (it broadcast silently to [3, 3, 3] + v before)

"""grad, jvp, jacobian, hessian and hvp: named workloads, graph structure, higher orders."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import symgraph as sg
from chains import nested


# --- the two named examples -------------------------------------------------------------------


def test_cs231n_sigmoid_neuron(graph):
    w = sg.var("w", shape=(3,))
    x = sg.var("x", shape=(2,))
    f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    dw, dx = sg.grad(f, [w, x])
    fv, dwv, dxv = sg.evaluate([f, dw, dx], {w: [2, -3, -3], x: [-1, -2]})
    assert fv == pytest.approx(0.7310585786300049, abs=1e-15)
    np.testing.assert_allclose(
        dwv, [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185], rtol=1e-14)
    np.testing.assert_allclose(dxv, [0.3932238664829637, -0.5898357997244456], rtol=1e-14)


def test_cs231n_add_node_passes_its_gradient_through(graph):
    """Why dw2 carries a '1 *' factor: the add's local gradient is 1, so dw2 IS d(sum)."""
    w0, x0, w1, x1, w2 = (sg.var(n) for n in ("w0", "x0", "w1", "x1", "w2"))
    q = w0 * x0 + w1 * x1 + w2
    f = sg.sigmoid(q)
    dq, dw2 = sg.grad(f, [q, w2])
    assert dw2 is dq
    assert str(dq) == "sigmoid(w0*x0 + w1*x1 + w2)*(1 - sigmoid(w0*x0 + w1*x1 + w2))"
    value = sg.evaluate(dq, {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    assert value == pytest.approx(0.19661193324148185, rel=1e-14)


def test_fig_6_10_chain_reuses_forward_nodes(graph):
    """z = f(f(f(w))) with f = sin: dz/dw = f'(y) f'(x) f'(w) reuses x and y (Fig. 6.10)."""
    w = sg.var("w")
    x = sg.sin(w)
    y = sg.sin(x)
    z = sg.sin(y)
    before = len(graph)
    dz = sg.grad(z, w)
    new = [n for n in graph.nodes if n.id >= before]
    assert sorted(n.op for n in new) == ["const", "cos", "cos", "cos", "multiply", "multiply"]
    uses = {inp for n in new for inp in n.inputs}
    assert x in uses and y in uses and w in uses  # no recomputation of x or y
    assert sg.evaluate(dz, {w: 0.5}) == pytest.approx(
        math.cos(math.sin(math.sin(0.5))) * math.cos(math.sin(0.5)) * math.cos(0.5), rel=1e-15)


# --- graph semantics --------------------------------------------------------------------------


def test_fan_out_contributions_are_summed(graph):
    x = sg.var("x")
    assert sg.evaluate(sg.grad(x * x, x), {x: 3.0}) == 6.0
    assert sg.evaluate(sg.grad(sg.sin(x) + sg.sin(x), x), {x: 0.3}) == pytest.approx(
        2 * math.cos(0.3))
    assert sg.evaluate(sg.grad(x * x * x, x), {x: 2.0}) == 12.0


def test_square_by_multiply_builds_one_product_for_both_factors(graph):
    # d(u*u)/du: the two contributions g*u are one node, summed with itself
    x = sg.var("x")
    u = sg.sin(x)
    g = sg.grad(sg.exp(-(u * u)), x)
    assert sg.pprint(g) == "t1 = sin(x)\nt2 = -exp(-(t1*t1))*t1\nout = (t2 + t2)*cos(x)"
    want = -2 * math.sin(0.3) * math.exp(-math.sin(0.3) ** 2) * math.cos(0.3)
    assert sg.evaluate(g, {x: 0.3}) == pytest.approx(want, rel=1e-15)
    t = sg.jvp(u * u, x, 1.0)  # forward mode shares the product the same way
    assert sg.pprint(t) == "t1 = cos(x)*sin(x)\nout = t1 + t1"
    assert sg.evaluate(t, {x: 0.3}) == pytest.approx(2 * math.sin(0.3) * math.cos(0.3))


def test_disconnected_input_gets_zeros_of_its_shape(graph):
    x = sg.var("x")
    m = sg.var("m", shape=(2, 3))
    dx, dm = sg.grad(sg.sin(x), [x, m])
    value = sg.evaluate(dm, {})  # needs no feed at all
    assert value.shape == (2, 3) and not value.any()
    assert dm.shape == (2, 3)


def test_gradient_with_respect_to_intermediate_nodes(graph):
    x = sg.var("x")
    h = x * x
    y = sg.sin(h) + h
    dh, dx = sg.grad(y, [h, x])
    vh, vx = sg.evaluate([dh, dx], {x: 1.5})
    assert vh == pytest.approx(math.cos(2.25) + 1)
    assert vx == pytest.approx((math.cos(2.25) + 1) * 3.0)


def test_stop_gradient_blocks(graph):
    x = sg.var("x")
    y = sg.stop_gradient(x * x) * x
    assert sg.evaluate(sg.grad(y, x), {x: 3.0}) == 9.0
    assert sg.evaluate(sg.grad(sg.stop_gradient(x), x), {x: 3.0}) == 0.0


def test_grad_of_non_scalar_points_to_jacobian(graph):
    v = sg.var("v", shape=(3,))
    with pytest.raises(sg.SymgraphError, match=r"jacobian.*\.sum\(\)"):
        sg.grad(v * 2, v)


def test_broadcasting_is_undone_in_gradients(graph, rng):
    a = sg.var("a", shape=(4, 3))
    b = sg.var("b", shape=(3,))
    c = sg.var("c")
    y = sg.sum((a * b + c) ** 2)
    da, db, dc = sg.grad(y, [a, b, c])
    assert (da.shape, db.shape, dc.shape) == ((4, 3), (3,), ())
    av, bv, cv = rng.standard_normal((4, 3)), rng.standard_normal(3), 0.7
    r = 2 * (av * bv + cv)
    got = sg.evaluate([da, db, dc], {a: av, b: bv, c: cv})
    np.testing.assert_allclose(got[0], r * bv)
    np.testing.assert_allclose(got[1], (r * av).sum(0))
    np.testing.assert_allclose(got[2], r.sum())


def test_unknown_dimensions_get_gradients_of_the_fed_shape(graph, rng):
    x = sg.var("x", shape=(None, 3))
    b = sg.var("b", shape=(3,))
    y = sg.mean(sg.tanh(x * b)) + sg.sum(x[:, 0])
    dx, db = sg.grad(y, [x, b])
    xv, bv = rng.standard_normal((5, 3)), rng.standard_normal(3)
    gx, gb = sg.evaluate([dx, db], {x: xv, b: bv})
    t = np.tanh(xv * bv)
    expected_x = (1 - t**2) * bv / xv.size
    expected_x[:, 0] += 1
    np.testing.assert_allclose(gx, expected_x)
    np.testing.assert_allclose(gb, ((1 - t**2) * xv).sum(0) / xv.size)
    assert sg.check_grad(y, [x, b], {x: xv, b: bv}, order=2) < 1e-6


def test_matmul_gradients_match_numpy(graph, rng):
    W = sg.var("W", shape=(3, 4))
    v = sg.var("v", shape=(4,))
    y = sg.sum(sg.tanh(W @ v))
    dW, dv = sg.grad(y, [W, v])
    Wv, vv = rng.standard_normal((3, 4)), rng.standard_normal(4)
    g = 1 - np.tanh(Wv @ vv) ** 2
    got = sg.evaluate([dW, dv], {W: Wv, v: vv})
    np.testing.assert_allclose(got[0], np.outer(g, vv))
    np.testing.assert_allclose(got[1], Wv.T @ g)


# --- higher orders ----------------------------------------------------------------------------


def _taylor(kind: str, u: list[float], n: int) -> list[float]:
    """Taylor coefficients of sin(u(t)) or tanh(u(t)) from those of u: an oracle that
    shares nothing with symgraph (series recurrences of y' = f'(u) u')."""
    if kind == "sin":
        s, c = [math.sin(u[0])], [math.cos(u[0])]
        for k in range(1, n + 1):
            s.append(sum(j * u[j] * c[k - j] for j in range(1, k + 1)) / k)
            c.append(-sum(j * u[j] * s[k - j] for j in range(1, k + 1)) / k)
        return s
    y = [math.tanh(u[0])]
    for k in range(1, n + 1):  # tanh' = (1 - tanh^2) u'
        w = [(1.0 if m == 0 else 0.0) - sum(y[i] * y[m - i] for i in range(m + 1))
             for m in range(k)]
        y.append(sum(j * u[j] * w[k - j] for j in range(1, k + 1)) / k)
    return y


@pytest.mark.parametrize("kind,depth", [("tanh", 1), ("sin", 3)])
def test_third_to_fifth_derivatives_are_exact(graph, kind, depth):
    w = sg.var("w")
    z = nested(sg.tanh if kind == "tanh" else sg.sin, w, depth)
    derivatives = [z]
    for _ in range(5):
        derivatives.append(sg.grad(derivatives[-1], w))
    values = sg.evaluate(derivatives, {w: 0.5})
    series = [0.5, 1.0] + [0.0] * 5
    for _ in range(depth):
        series = _taylor(kind, series, 5)
    for k in range(1, 6):
        assert derivatives[k].order == k
        assert values[k] == pytest.approx(series[k] * math.factorial(k), rel=1e-12), k


def test_jacobian_values_and_shape(graph):
    x = sg.var("x", shape=(3,))
    y = sg.stack([x[0] * x[1], sg.sin(x[2]), x[0] + x[2]])
    J = sg.jacobian(y, x)
    assert J.shape == (3, 3)
    got = sg.evaluate(J, {x: [1.0, 2.0, 0.5]})
    np.testing.assert_allclose(got, [[2, 1, 0], [0, 0, math.cos(0.5)], [1, 0, 1]])
    M = sg.var("M", shape=(2, 2))
    assert sg.jacobian(M * 2, M).shape == (2, 2, 2, 2)


def _rosenbrock(x, n):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1))


def test_hessian_of_rosenbrock_is_analytic_and_symmetric(graph):
    n = 6
    x = sg.var("x", shape=(n,))
    H = sg.hessian(_rosenbrock(x, n), x)
    xv = 0.5 + 0.1 * np.arange(n)
    got = sg.evaluate(H, {x: xv})
    expected = np.zeros((n, n))
    for i in range(n - 1):
        expected[i, i] += 1200 * xv[i] ** 2 - 400 * xv[i + 1] + 2
        expected[i + 1, i + 1] += 200
        expected[i, i + 1] = expected[i + 1, i] = -400 * xv[i]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert H.order == 2


def test_hvp_and_jvp_agree_with_matrices(graph, rng):
    n = 5
    x = sg.var("x", shape=(n,))
    y = _rosenbrock(x, n) + sg.sum(sg.sin(x) * x[0])
    v = rng.standard_normal(n)
    Hv, H = sg.hvp(y, x, v), sg.hessian(y, x)
    g = sg.grad(y, x)
    Jg = sg.jvp(g, x, v)
    xv = rng.standard_normal(n)
    hv, hm, jg = sg.evaluate([Hv, H, Jg], {x: xv})
    np.testing.assert_allclose(hv, hm @ v, rtol=1e-10)
    np.testing.assert_allclose(jg, hm @ v, rtol=1e-10)
    np.testing.assert_allclose(hm, hm.T, rtol=1e-12)


def test_hvp_does_not_form_the_hessian(graph):
    n = 200
    x = sg.var("x", shape=(n,))
    y = sg.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    before = len(graph)
    g = sg.grad(y, x)
    grad_nodes = len(graph) - before
    before = len(graph)
    Hv = sg.hvp(y, x, np.ones(n))
    hvp_nodes = len(graph) - before
    assert hvp_nodes < 4 * grad_nodes + 20  # O(graph), not O(n * graph)
    assert Hv.shape == (n,)
    value = sg.evaluate(Hv, {x: np.full(n, 0.5)})
    assert np.isfinite(value).all()


# --- robustness -------------------------------------------------------------------------------


def test_hundred_thousand_node_chain_needs_no_recursion(graph):
    limit = sys.getrecursionlimit()
    w = sg.var("w")
    z = nested(sg.sin, w, 100_000)
    dz = sg.grad(z, w)
    value = sg.evaluate(dz, {w: 0.5})
    f = sg.compile(dz, [w])
    assert f(0.5) == value
    assert np.isfinite(value) and 0 < value < 1
    shallow = sg.sin(sg.sin(w))
    assert str(shallow) == "sin(sin(w))"
    assert sg.to_networkx(dz).number_of_nodes() == len(sg.ancestors([dz]))
    assert sys.getrecursionlimit() == limit


def test_a_failed_grad_leaves_the_graph_unchanged(graph):
    def broken(g, out):
        raise RuntimeError("broken rule")

    bad = sg.define_op("test_broken_rule", np.sin, vjp=[broken])
    x = sg.var("x")
    y = sg.exp(bad(sg.cos(x)) * 2)
    before = len(graph)
    with pytest.raises(sg.SymgraphError, match="broken rule"):
        sg.grad(y, x)
    assert len(graph) == before
    assert sg.evaluate(sg.grad(sg.cos(x), x), {x: 0.0}) == 0.0  # graph still usable


def test_integer_inputs_cannot_be_differentiated(graph):
    i = sg.var("i", dtype="int64")
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match="int64.*float"):
        sg.grad(x * i, i)
    assert sg.evaluate(sg.grad(x * i, x), {x: 1.0, i: 3}) == 3.0


def test_comparisons_pass_no_gradient(graph):
    x = sg.var("x")
    y = sg.where(x > 0, x * x, -x)
    assert sg.evaluate(sg.grad(y, x), {x: 2.0}) == 4.0
    assert sg.evaluate(sg.grad(y, x), {x: -2.0}) == -1.0


def test_subgradient_conventions(graph):
    x = sg.var("x")
    v = sg.var("v", shape=(4,))
    assert sg.evaluate(sg.grad(sg.relu(x), x), {x: 0.0}) == 0.0
    assert sg.evaluate(sg.grad(sg.abs(x), x), {x: 0.0}) == 0.0
    got = sg.evaluate(sg.grad(sg.max(v), v), {v: [1.0, 3.0, 3.0, 2.0]})
    assert got.tolist() == [0.0, 1.0, 0.0, 0.0]


def test_float32_gradients_stay_float32(graph):
    x = sg.var("x", shape=(3,), dtype="float32")
    y = sg.sum(sg.sin(x) * 2.0)
    dx = sg.grad(y, x)
    assert dx.dtype == np.float32
    assert sg.evaluate(dx, {x: [0.0, 1.0, 2.0]}).dtype == np.float32


def test_jvp_validates_directions(graph):
    x = sg.var("x", shape=(3,))
    with pytest.raises(sg.ShapeError, match="direction"):
        sg.jvp(x * 2, x, [1.0, 2.0])


def test_hessian_graph_does_not_grow_with_the_dimension(graph):
    """A batched Hessian is O(forward graph), not O(n x forward graph)."""
    sizes = {}
    for n in (10, 400):
        x = sg.var(f"x{n}", shape=(n,))
        y = sg.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        before = len(graph)
        H = sg.hessian(y, x)
        sizes[n] = len(graph) - before
        xv = np.linspace(-1, 1, n)
        value = sg.evaluate(H, {x: xv})
        assert np.allclose(value, value.T)
        assert value[0, 0] == pytest.approx(1200 * xv[0] ** 2 - 400 * xv[1] + 2)
    assert abs(sizes[400] - sizes[10]) <= 2 and sizes[400] < 200  # shared constants differ


def test_jacobian_placeholders_never_clash_with_user_names(graph):
    cotangent = sg.var("cotangent", shape=(2,))
    J = sg.jacobian(cotangent * 3, cotangent)
    assert sg.evaluate(J, {"cotangent": [1.0, 2.0]}).tolist() == [[3, 0], [0, 3]]


def test_hessian_of_a_list_gives_blocks_like_jax_hessian():
    """H[i][j] = d2 y / dxs[i] dxs[j], shapes xs[i].shape + xs[j].shape; equal to the
    blocks of the Hessian of the same function of one stacked vector."""
    rng = np.random.default_rng(0)
    W0, b0 = rng.normal(size=(2, 3)), rng.normal(size=(2,))
    x0 = rng.normal(size=(3,))
    with sg.Graph():
        W, b = sg.var("W", shape=(2, 3)), sg.var("b", shape=(2,))
        y = sg.sum(sg.tanh(W @ x0 + b) ** 2)
        blocks = sg.hessian(y, [W, b])
        n = len(W.graph)
        assert sg.hessian(y, [W, b]) == blocks and len(W.graph) == n  # nothing new
        values = [[sg.evaluate(h, {W: W0, b: b0}) for h in row] for row in blocks]
        theta = sg.var("theta", shape=(8,))
        flat = sg.sum(sg.tanh(sg.reshape(theta[:6], (2, 3)) @ x0 + theta[6:]) ** 2)
        full = sg.evaluate(sg.hessian(flat, theta), {theta: np.concatenate([W0.ravel(), b0])})
    assert [[v.shape for v in row] for row in values] == [
        [(2, 3, 2, 3), (2, 3, 2)], [(2, 2, 3), (2, 2)]]
    np.testing.assert_allclose(values[0][0].reshape(6, 6), full[:6, :6], rtol=1e-12)
    np.testing.assert_allclose(values[0][1].reshape(6, 2), full[:6, 6:], rtol=1e-12)
    np.testing.assert_allclose(values[1][0].reshape(2, 6), full[6:, :6], rtol=1e-12)
    np.testing.assert_allclose(values[1][1], full[6:, 6:], rtol=1e-12)
    np.testing.assert_allclose(values[0][1].reshape(6, 2), values[1][0].reshape(2, 6).T)


def test_jacobian_of_a_list_gives_one_block_per_input():
    with sg.Graph():
        a, b = sg.var("a", shape=(2,)), sg.var("b")
        y = sg.stack([a[0] * b, a[1] + b * b, a[0] * a[1]])
        Ja, Jb = sg.jacobian(y, [a, b])
        va, vb = sg.evaluate([Ja, Jb], {a: [2.0, 3.0], b: 5.0})
    np.testing.assert_array_equal(va, [[5.0, 0.0], [0.0, 1.0], [3.0, 2.0]])
    np.testing.assert_array_equal(vb, [2.0, 10.0, 0.0])


def test_hessian_needs_a_scalar():
    with sg.Graph():
        x = sg.var("x", shape=(2,))
        with pytest.raises(sg.SymgraphError, match="scalar y"):
            sg.hessian(x * x, x)


def test_vjp_is_the_seeded_reverse_mode():
    rng = np.random.default_rng(1)
    a0, ct0, ct1 = rng.normal(size=(3, 2)), rng.normal(size=(2, 2)), rng.normal()
    with sg.Graph() as g:
        a = sg.var("a", shape=(3, 2))
        y0, y1 = sg.tanh(a.T @ a), sg.sum(a * a)
        va = sg.vjp([y0, y1], a, [ct0, ct1])
        n = len(g)
        assert sg.vjp([y0, y1], a, [ct0, ct1]) is va and len(g) == n  # nothing new
        J0, J1 = sg.jacobian(y0, a), sg.grad(y1, a)
        got, j0, j1 = sg.evaluate([va, J0, J1], {a: a0})
        assert va.order == 1
    np.testing.assert_allclose(got, np.tensordot(ct0, j0, axes=2) + ct1 * j1, rtol=1e-12)
    with sg.Graph():
        x = sg.var("x", shape=(2,))
        with pytest.raises(sg.ShapeError, match="shape"):
            sg.vjp(x * 2, x, [1.0, 2.0, 3.0])
        with pytest.raises(sg.SymgraphError, match="one cotangent per y"):
            sg.vjp([x, x], x, [[1.0, 2.0]])


def test_grad_of_a_python_function_points_to_building_the_node():
    with sg.Graph():
        x = sg.var("x")
        with pytest.raises(sg.SymgraphError, match="not Python functions.*sg.grad\\(y, x\\)"):
            sg.grad(lambda t: t * t, x)


def test_vmap_builds_the_batched_graph_once():
    rng = np.random.default_rng(2)
    xs0, w0 = rng.normal(size=(5, 3)), rng.normal(size=(3,))
    with sg.Graph() as g:
        xs, w = sg.var("xs", shape=(5, 3)), sg.var("w", shape=(3,))
        calls = []

        def loss(x, w):
            calls.append(1)
            return sg.tanh(sg.sum(x * w)) ** 2

        per = sg.vmap(loss, in_axes=(0, None))(xs, w)
        cols = sg.vmap(lambda c: sg.sum(c * c), in_axes=1)(xs)
        grads = sg.vmap(lambda x: sg.grad(loss(x, w), x))(xs)  # per-example gradients
        pv, cv, gv = sg.evaluate([per, cols, grads], {xs: xs0, w: w0})
        assert calls == [1, 1] and per.shape == (5,) and grads.shape == (5, 3)
        with pytest.raises(sg.SymgraphError, match="no axis 2"):
            sg.vmap(loss, in_axes=2)(xs, w)
    np.testing.assert_allclose(pv, np.tanh(xs0 @ w0) ** 2, rtol=1e-13)
    np.testing.assert_allclose(cv, (xs0 ** 2).sum(0), rtol=1e-13)
    t = np.tanh(xs0 @ w0)
    np.testing.assert_allclose(gv, (2 * t * (1 - t * t))[:, None] * w0, rtol=1e-12)


def test_a_shared_constant_is_refused_as_wrt_and_a_named_one_is_its_own():
    """sg.const(2.0) is the graph's one node of the value 2, which x**2 uses too: grad with
    respect to it gave x + x**2 log(x) for d(c*x + x**2)/dc (12.89 at x = 3, not 3)."""
    with sg.Graph() as g:
        x = sg.var("x")
        c = sg.const(2.0)
        y = c * x + x ** 2
        n = len(g)
        for call in (lambda: sg.grad(y, c), lambda: sg.grad(y, [x, c]),
                     lambda: sg.jacobian(y, c), lambda: sg.hessian(y, c),
                     lambda: sg.jvp(y, c, 1.0), lambda: sg.vjp(y, c, 1.0)):
            with pytest.raises(sg.SymgraphError, match="constant '2'.*name="):
                call()
        assert len(g) == n
        named = sg.const(2.0, name="c")  # a node of its own: only its own use counts
        y2 = named * x + x ** 2
        assert float(sg.evaluate(sg.grad(y2, named), {x: 3.0})) == 3.0
        # a constant y does not use gets a zero, as any wrt y does not depend on
        assert float(sg.evaluate(sg.grad(sg.sin(x), sg.const(7.0)), {x: 3.0})) == 0.0


def test_vjp_with_a_cotangent_that_depends_on_xs_differentiates_only_y():
    """sg.vjp(sin(w), w, cos(w)) is cos(w) * cos(w), as jax.vjp's function gives; it was
    the gradient of sum(sin(w) * cos(w)), which differentiates the cotangent too. Its own
    gradient goes through the cotangent, as JAX's does."""
    with sg.Graph():
        w = sg.var("w", shape=(3,))
        wv = np.array([0.3, -1.1, 0.8])
        g = sg.vjp(sg.sin(w), w, sg.cos(w))
        np.testing.assert_allclose(sg.evaluate(g, {w: wv}), np.cos(wv) ** 2, rtol=1e-14)
        d = sg.evaluate(sg.grad(sg.sum(g), w), {w: wv})
        np.testing.assert_allclose(d, -2 * np.cos(wv) * np.sin(wv), rtol=1e-12)
        assert sg.vjp(sg.sin(w), w, sg.cos(w)) is g  # asked again: the same node
        two = sg.vjp([sg.sin(w), w * w], w, [sg.cos(w), w])  # two ys, seeds of xs
        np.testing.assert_allclose(sg.evaluate(two, {w: wv}), np.cos(wv) ** 2 + 2 * wv * wv,
                                   rtol=1e-14)


@pytest.mark.parametrize("case", [
    lambda x, X, w: (sg.hvp, sg.sum(_cube_no_jvp(x)), x, np.ones(3)),
    lambda x, X, w: (sg.vjp, sg.sin(_cube_no_vjp(x)), x, np.ones(3)),
    lambda x, X, w: (sg.hessian, sg.sum(X ** 2), X),
    lambda x, X, w: (sg.hessian, sg.sum(X @ w), [w, X]),
    lambda x, X, w: (sg.jacobian, sg.sin(w), [w, X]),
])
def test_a_failed_derivative_call_leaves_the_graph_as_it_was(case):
    """hvp is jvp of grad, hessian jacobian of grad: each part kept its nodes when a later
    one failed; the None-dimension refusals named an internal reshape."""
    with sg.Graph() as g:
        x, X, w = sg.var("x", shape=(3,)), sg.var("X", shape=(None, 3)), sg.var("w", shape=(3,))
        function, *args = case(x, X, w)
        before = len(g)
        with pytest.raises(sg.SymgraphError) as info:
            function(*args)
        assert len(g) == before, str(info.value)
        assert "reshape" not in str(info.value) and "sum_to" not in str(info.value)


_cube_no_jvp = sg.define_op("autodiff_cube_no_jvp", lambda x: x ** 3, elementwise=True,
                            vjp=[lambda g, out: g * 3 * out / out.inputs[0]])
_cube_no_vjp = sg.define_op("autodiff_cube_no_vjp", lambda x: x ** 3, elementwise=True)


def test_vmap_refuses_what_it_cannot_map_saying_what_it_is():
    with sg.Graph():
        A, X = sg.var("A", shape=(4, 3)), sg.var("X", shape=(None, 3))
        for call, words in (
                (lambda: sg.vmap(lambda a, b: a * b)(A, b=A), "by position.*got b by name"),
                (lambda: sg.vmap(lambda a: a * 2, out_axes=None), "out_axes must be an int"),
                (lambda: sg.vmap(lambda ab: ab[0] * ab[1])((A, A)), "tuple of nodes"),
                (lambda: sg.vmap(sg.sum)(X), r"'X' \(shape \(None, 3\)\)\) has None$"),
                (lambda: sg.hvp(sg.sin(A), A, np.ones((4, 3))), "sg.hvp needs a scalar y")):
            with pytest.raises(sg.SymgraphError, match=words):
                call()


def test_vmap_out_axes_one_per_result_as_jax():
    x = np.arange(24.0).reshape(2, 3, 4)
    with sg.Graph():
        X = sg.var("X", shape=(2, 3, 4))
        a, b = sg.vmap(lambda r: (r * 2, sg.sum(r, axis=0)), out_axes=(1, -1))(X)
        got = sg.evaluate([a, b], {X: x})
        np.testing.assert_array_equal(got[0], np.moveaxis(x * 2, 0, 1))
        np.testing.assert_array_equal(got[1], np.moveaxis(x.sum(axis=1), 0, -1))
        with pytest.raises(sg.SymgraphError, match="out_axes has 3 entries for 2 results"):
            sg.vmap(lambda r: (r, r), out_axes=[0, 1, 2])(X)


def test_vmap_of_the_same_function_again_adds_no_node():
    """Each call made a new entry placeholder, so a new copy of the function's nodes on it:
    100 calls left 400 dead nodes."""
    with sg.Graph() as g:
        x, b = sg.var("x", shape=(3, 2)), sg.var("b")
        f = lambda r: sg.sum(sg.sin(r) * b)  # noqa: E731
        out = sg.vmap(f)(x)
        before = len(g)
        for _ in range(5):
            assert sg.vmap(f)(x) is out
            assert sg.vmap(lambda r: sg.sum(sg.sin(r) * b))(x) is out  # a new lambda, too
        assert len(g) == before
        other = sg.vmap(lambda r: sg.max(r))(x)  # another function over the same x
        xv = np.arange(6.0).reshape(3, 2)
        np.testing.assert_allclose(sg.evaluate([out, other], {x: xv, b: 2.0}),
                                   [np.sin(xv).sum(1) * 2, xv.max(1)])

"""Wrong derivative values found by comparing symgraph with JAX and finite differences
(third derivatives, every backend, rewrites at higher orders); each test pins one defect."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg


@pytest.mark.parametrize("build, expected", [
    (lambda x, y: x + 3.0 * (x - y), lambda x, y: 4 * x - 3 * y),
    (lambda x, y: x - (y - 2.0 * x), lambda x, y: 3 * x - y),
    (lambda x, y: x + 0.5 * (x + y) - y, lambda x, y: 1.5 * x - 0.5 * y),
])
def test_assume_finite_like_terms_keep_the_scale_of_a_scaled_sum(build, expected):
    """collect-like-terms (assume_finite) read the terms of c*(a - b) as a - b."""
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        e = build(x, y)
        simplified = sg.simplify(e, assume_finite=True)
        f = sg.compile(e, [x, y], assume_finite=True)
        for a, b in [(2.0, 3.0), (-1.5, 0.25)]:
            want = expected(a, b)
            assert float(sg.evaluate(simplified, {x: a, y: b})) == pytest.approx(want, rel=1e-14)
            assert float(f(a, b)) == pytest.approx(want, rel=1e-14)


def test_assume_finite_simplify_of_a_gradient_and_hessian_keeps_the_gradient():
    """The chain rule builds ones + fill(c)*(1 - square(tanh(u))) (c a folded constant):
    simplified with assume_finite next to the Hessian it became 2 - square(tanh(u)) (a
    random graph's gradient off by 2.07 under compile(..., assume_finite=True))."""
    rng = np.random.default_rng(14)
    with sg.Graph():
        x0, x1 = sg.var("x0", shape=(2, 3)), sg.var("x1", shape=(2, 3))
        t1 = -2 + (sg.mean(1.9 * sg.tanh(x1)) + 2) * sg.const([[0.5], [0.75]])
        u = -2 + (sg.mean(1.9 * sg.tanh(x0)) + 2) * 0.5 - t1  # shape (2, 1)
        p = 0.5 + 0.5 * np.arange(40.0).reshape(2, 4, 5) / 40
        y = sg.sum(u) + sg.sum(sg.mean(sg.tanh(u)) * sg.const(p)) * 0.5
        g, h = sg.grad(y, x0), sg.hessian(y, x0)
        feeds = {x0: rng.uniform(-2, 2, (2, 3)), x1: rng.uniform(-2, 2, (2, 3))}
        a, b = feeds[x0], feeds[x1]
        uu = -2 + (np.mean(1.9 * np.tanh(a)) + 2) * 0.5 - (
            -2 + (np.mean(1.9 * np.tanh(b)) + 2) * np.array([[0.5], [0.75]]))
        du = 1 + 0.5 * p.sum() * (1 - np.tanh(uu) ** 2) / uu.size  # d y / d u
        analytic = du.sum() * 0.5 * 1.9 * (1 - np.tanh(a) ** 2) / a.size
        np.testing.assert_allclose(sg.evaluate(g, feeds), analytic, rtol=1e-12)
        simplified = sg.simplify([g, h], assume_finite=True)
        np.testing.assert_allclose(sg.evaluate(simplified[0], feeds), analytic, rtol=1e-12)
        compiled = sg.compile([g, h], [x0, x1], assume_finite=True)(a, b)
        np.testing.assert_allclose(compiled[0], analytic, rtol=1e-12)


def test_jvp_with_a_node_twice_adds_both_directions():
    """jvp(y, [x, x], [v1, v2]) used v2 only: it must be J v1 + J v2 (grad gives J twice)."""
    with sg.Graph():
        x = sg.var("x", shape=(2,))
        y = sg.sum(x ** 3)
        t = sg.jvp(y, [x, x], [[1.0, 0.0], [0.0, 1.0]])
        assert float(sg.evaluate(t, {x: [0.3, 0.7]})) == pytest.approx(3 * 0.09 + 3 * 0.49)


def test_jvp_with_an_input_and_its_descendant_is_the_jacobian_product():
    """With x and h = sin(x) both in the list, the direction of x must still flow through
    h (the Jacobian's block for x is the total derivative); the seed of h replaced it."""
    with sg.Graph():
        x = sg.var("x", shape=(2,))
        h = sg.sin(x)
        y = sg.sum(h * h) + sg.sum(x ** 3)
        feeds = {x: np.array([0.3, 0.7])}
        a = feeds[x]
        dx = 2 * np.sin(a) * np.cos(a) + 3 * a ** 2  # total: through h and directly
        dh = 2 * np.sin(a)
        jx, jh = sg.evaluate(sg.jacobian(y, [x, h]), feeds)
        np.testing.assert_allclose(jx, dx, rtol=1e-14)
        np.testing.assert_allclose(jh, dh, rtol=1e-14)
        vx, vh = np.array([1.0, -2.0]), np.array([0.5, 3.0])
        for wrt, vs in (([x, h], [vx, vh]), ([h, x], [vh, vx])):
            t = sg.jvp(y, wrt, vs)
            assert float(sg.evaluate(t, feeds)) == pytest.approx(dx @ vx + dh @ vh, rel=1e-14)


def test_assume_finite_compile_of_a_scan_gradient_read_by_two_equal_loops():
    """While simplifying, a gradient scan was rebuilt into an equal (interned) scan that had
    readers of its own; the scan pruned for the first one's readers was then reused for
    the other's, whose loop_part read past the end of the pack: compile(...,
    assume_finite=True) raised 'cannot reshape array of size 0' (a random loop program)."""
    rng = np.random.default_rng(0)
    with sg.Graph():
        x, w = sg.var("x", shape=(2, 3)), sg.var("w", shape=(3,))
        xs = sg.const(rng.uniform(-1, 1, (3, 2, 3)))

        def body(c, xi):
            t1, t3 = sg.tanh(c), sg.tanh(w)
            t2 = 0.475 * t1
            t4 = sg.broadcast_to(0 + 1.9 * t3, (2, 3))
            t5 = sg.clip(0 + t2, -2 + (sg.mean(-1.5 + 0.475 * t3) + 2) * 0.5,
                         1 + (sg.mean(1.5 + t2) - 1) * 0.5)
            t6 = sg.sum(sg.abs(-2 + (sg.mean(0 + 1.9 * t1) + 2) * 0.5))
            s = sg.sum(t5) * 0.5 + t6 * 0.333333 + t6 * 0.25 + sg.sum(t4 + t4) * 0.2
            return 0.5 * sg.tanh(c + 0.3 * s), s

        c, ys = sg.scan(body, x, xs)
        y = sg.sum(c ** 2) + sg.sum(ys)
        gw = sg.grad(y, w)
        feeds = {x: rng.uniform(-1, 1, (2, 3)), w: rng.uniform(-1, 1, (3,))}
        sg.check_grad(y, w, feeds)  # the evaluated gradient is right (finite differences)
        expected = sg.evaluate(gw, feeds)
        got = sg.compile([y, gw], [x, w], assume_finite=True)(feeds[x], feeds[w])[1]
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        simplified = sg.simplify([y, gw], assume_finite=True)[1]
        np.testing.assert_allclose(sg.evaluate(simplified, feeds), expected, rtol=1e-12)

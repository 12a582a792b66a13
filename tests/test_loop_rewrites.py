"""Rewrites inside loop bodies, hoisting, and vmap of loops (issue 15).

``sg.simplify`` (and compile's rewrites) reach a scan/cond/while_loop body: constant
folding, CSE and the algebra apply to its results, unread inputs are dropped and a scan's
closure-only work is hoisted out (computed once). Simplified loops give the values and the
first and second derivatives of the loops they replace and of finite differences.
``sg.vmap`` goes through scan and cond, so ``sg.jacobian``/``sg.hessian`` of a loop are one
batched reverse pass (before the batch rules they were built one reverse pass per row).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from loopcases import rk4_step
from symgraph.loops import cond, fori_loop, scan, while_loop
from symgraph.rewrite.trace import op_count


def loop_node(result: sg.Node) -> sg.Node:
    """The loop node a result (a ``loop_part``) reads."""
    (node,) = result.inputs
    assert node.op in ("scan", "cond", "while_loop")
    return node


def body_ops(result: sg.Node) -> int:
    node = loop_node(result)
    body = node.attrs.get("body") or node.attrs["true"]
    return op_count(body.outputs)


def central(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Finite-difference derivative of f (array -> array) at x: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=float)
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(f(x)) + x.shape)


def hoist_problem():
    """``c + sin(w + 0*x)*(x*1) + 0*x + sin(w + 0*x)`` scanned over xs, w a closure: once
    ``0*x`` folds (``assume_finite``), ``sin(w)`` depends on the closure only."""
    w, xs = sg.var("w"), sg.var("xs", shape=(5,))

    def step(c, x):
        s = sg.sin(w + 0 * x)
        return c + s * (x * 1) + 0 * x + s, c * x
    total, ys = scan(step, sg.const(0.25), xs)
    return w, xs, total, ys


def test_simplify_hoists_closure_work_and_folds_the_body(rng):
    with sg.Graph():
        w, xs, total, ys = hoist_problem()
        feeds = {w: 0.7, xs: rng.normal(size=5)}
        before = body_ops(total)
        # (simplified with ys, which it would drop when unread: see the pruning test)
        exact, _ = sg.simplify([total, ys])
        finite, _ = sg.simplify([total, ys], assume_finite=True)
        node = loop_node(finite)
        # with 0*x folded (only where values are assumed finite: 0*inf is NaN), sin(w) is
        # computed once, outside: an input of the loop, no sin left in the body
        assert any(i.op == "sin" for i in node.inputs)
        body = node.attrs["body"]
        assert "sin" not in [n.op for n in sg.ancestors(body.outputs)]
        assert len([n for n in sg.ancestors(body.carry_out) if n.op == "multiply"]) == 1
        # the exact rules fold x*1 only; sin(w + 0*x) stays in the body
        assert all(i.op != "sin" for i in loop_node(exact).inputs)
        assert body_ops(finite) < body_ops(exact) < before
        assert before - body_ops(exact) == 1 and body_ops(finite) == 4  # c + s*x + s, c*x
        want = sg.evaluate(total, feeds)
        x, s = feeds[xs], np.sin(0.7)
        c = 0.25
        for v in x:
            c = c + s * v + 0 * v + s
        np.testing.assert_allclose(want, c, rtol=1e-13)
        for simplified in (exact, finite):
            np.testing.assert_allclose(sg.evaluate(simplified, feeds), want, rtol=1e-13)
            np.testing.assert_allclose(sg.compile(simplified, [w, xs])(0.7, x), want,
                                       rtol=1e-13)


def test_exact_simplify_keeps_nan_and_inf_in_the_body():
    with sg.Graph():
        w, xs, total, _ = hoist_problem()
        simplified = sg.simplify(total)
        feeds = {w: 0.7, xs: np.array([1.0, np.inf, 2.0, 3.0, 4.0])}
        got, want = sg.evaluate(simplified, feeds), sg.evaluate(total, feeds)
        assert np.isnan(want) and np.isnan(got)  # 0*inf is NaN in both
        compiled = sg.compile(total, [w, xs])
        assert np.isnan(compiled(0.7, feeds[xs]))


def test_gradients_of_simplified_loops_equal_the_loop_and_finite_differences(rng):
    with sg.Graph():
        w, xs, total, ys = hoist_problem()
        loss = total * sg.sum(ys)
        x = rng.normal(size=5)
        feeds = {w: 0.7, xs: x}
        for simplified in (sg.simplify(loss), sg.simplify(loss, assume_finite=True)):
            g, g_ref = sg.grad(simplified, [w, xs]), sg.grad(loss, [w, xs])
            for got, want in zip(sg.evaluate(g, feeds), sg.evaluate(g_ref, feeds)):
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
            fd_w = central(lambda v: sg.evaluate(loss, {w: v, xs: x}), np.array(0.7))
            np.testing.assert_allclose(sg.evaluate(g[0], feeds), fd_w, rtol=1e-7)
            fd_x = central(lambda v: sg.evaluate(loss, {w: 0.7, xs: v}), x)
            np.testing.assert_allclose(sg.evaluate(g[1], feeds), fd_x, rtol=1e-6, atol=1e-8)
            # second order: d/dw of dloss/dxs, through the gradient's own reverse scan
            h = sg.grad(sg.sum(g[1] * sg.const(np.arange(1.0, 6.0))), w)
            h_ref = sg.grad(sg.sum(g_ref[1] * sg.const(np.arange(1.0, 6.0))), w)
            np.testing.assert_allclose(sg.evaluate(h, feeds), sg.evaluate(h_ref, feeds),
                                       rtol=1e-10)
            first = sg.sum(sg.grad(loss, xs) * np.arange(1.0, 6.0))
            fd_h = central(lambda v: sg.evaluate(first, {w: v, xs: x}), np.array(0.7))
            np.testing.assert_allclose(sg.evaluate(h, feeds), fd_h, rtol=1e-6)


def test_derived_bodies_are_simplified_where_they_appear(rng):
    with sg.Graph():
        w, xs, total, _ = hoist_problem()
        grad_w = sg.grad(total, w)
        back = [n for n in sg.ancestors([grad_w]) if n.op == "scan"
                and n.attrs["body"].label.endswith("_grad")]
        assert back
        before = sum(op_count(n.attrs["body"].outputs) for n in back)
        simplified = sg.simplify(grad_w)
        after_nodes = [n for n in sg.ancestors([simplified]) if n.op == "scan"
                       and n.attrs["body"].label.endswith("_grad")]
        assert after_nodes and all(n not in back for n in after_nodes)
        after = sum(op_count(n.attrs["body"].outputs) for n in after_nodes)
        assert after < before
        feeds = {w: 0.3, xs: rng.normal(size=5)}
        np.testing.assert_allclose(sg.evaluate(simplified, feeds), sg.evaluate(grad_w, feeds),
                                   rtol=1e-12)


def test_unread_inputs_and_closures_are_dropped():
    with sg.Graph():
        a, b, xs = sg.var("a"), sg.var("b"), sg.var("xs", shape=(4,))
        # the body reads b and x only through (b*0)*x: b*0 is a closure (an outer node),
        # which folds to the constant 0 with assume_finite; the constant goes into the
        # body, where 0*x folds too
        final, _ = scan(lambda c, x: (c * a + b * 0 * x, None), sg.const(1.0), xs)
        node = loop_node(final)
        assert xs in node.inputs and a in node.inputs and b not in node.inputs
        s = sg.simplify(final, assume_finite=True)
        new = loop_node(s)
        assert b not in new.inputs and xs not in new.inputs and a in new.inputs
        assert new.attrs["body"].xs == [] and len(new.attrs["body"].closures) == 1
        feeds = {a: 1.5, b: 2.0, xs: np.zeros(4)}
        assert sg.evaluate(s, feeds) == pytest.approx(1.5 ** 4, rel=1e-14)
        assert sg.evaluate(sg.grad(s, a), feeds) == pytest.approx(4 * 1.5 ** 3, rel=1e-13)


def test_a_zero_step_scan_hoists_nothing():
    with sg.Graph():
        w, xs = sg.var("w"), sg.var("xs", shape=(0,))
        # log(w + x*0) depends on the closure only once x*0 folds
        final, _ = scan(lambda c, x: (c + sg.log(w + x * 0), None), sg.const(2.0), xs)
        s = sg.simplify(final, assume_finite=True)
        assert all(i.op != "log" for i in loop_node(s).inputs)  # log(w) would run unasked
        assert "log" in [n.op for n in sg.ancestors(loop_node(s).attrs["body"].outputs)]
        assert sg.evaluate(s, {w: -1.0, xs: np.zeros(0)}) == 2.0
        ys = sg.var("ys", shape=(3,))  # with steps to run, it moves out
        final, _ = scan(lambda c, x: (c + sg.log(w + x * 0), None), sg.const(2.0), ys)
        s = sg.simplify(final, assume_finite=True)
        assert [i.op for i in loop_node(s).inputs] == ["const", "log"]
        assert sg.evaluate(s, {w: 2.0, ys: np.ones(3)}) == pytest.approx(2 + 3 * np.log(2.0))


def test_simplify_is_idempotent_and_builds_each_body_once():
    with sg.Graph() as g:
        w, xs, total, _ = hoist_problem()
        first = sg.simplify(total)
        size = len(g)
        assert sg.simplify(total) is first  # the rewritten body is kept on the body
        assert sg.simplify(first) is first
        assert len(g) == size


def test_cond_and_while_loop_bodies_are_simplified_without_hoisting():
    with sg.Graph():
        x, w, u = sg.var("x"), sg.var("w"), sg.var("u")
        y = cond(x > 0, lambda v: sg.sqrt(v) * 1 + sg.exp(w + v * 0) + u * 0,
                 lambda v: -v * 1, x)
        s = sg.simplify(y, assume_finite=True)
        node = loop_node(s)
        # u*0 (a closure) folded to 0, bound into the branch and dropped; exp(w) depends
        # on the closure w only, but stays in the branch (it runs only when chosen)
        assert node.inputs == (node.inputs[0], x, w)
        assert "exp" in [n.op for n in sg.ancestors(node.attrs["true"].outputs)]
        assert body_ops(s) < body_ops(y)
        for v in (4.0, -3.0):
            feeds = {x: v, w: 0.5, u: 7.0}
            np.testing.assert_allclose(sg.evaluate(s, feeds), sg.evaluate(y, feeds), rtol=1e-14)
            np.testing.assert_allclose(sg.evaluate(sg.grad(s, [x, w]), feeds),
                                       sg.evaluate(sg.grad(y, [x, w]), feeds), rtol=1e-14)
        z = while_loop(lambda c: c < 100 + u * 0, lambda c: c * x * 1, sg.const(1.0))
        sz = sg.simplify(z, assume_finite=True)
        assert u not in loop_node(sz).inputs
        assert sg.evaluate(sz, {x: 3.0, u: 1.0}) == sg.evaluate(z, {x: 3.0, u: 1.0}) == 243.0


def rk4_pendulum(theta0: sg.Node, omega0: sg.Node, g_over_l: sg.Node, h: float = 0.05,
                 steps: int = 40):
    """The pendulum theta'' = -(g/l) sin(theta), integrated with RK4 in a fori_loop."""
    def step(i, c):
        return rk4_step(c, lambda th, om: -g_over_l * sg.sin(th), h)
    return fori_loop(0, steps, step, (theta0, omega0))


def test_jacobian_and_hessian_of_an_rk4_pendulum_equal_finite_differences():
    with sg.Graph():
        p, gl = sg.var("p", shape=(2,)), sg.var("gl")
        th, om = rk4_pendulum(p[0], p[1], gl)
        y = sg.stack([th, om])
        J = sg.jacobian(y, p)
        # one batched reverse scan (the vmapped gradient body), not one pass per row
        labels = [n.attrs["body"].label for n in sg.ancestors([J]) if n.op == "scan"]
        assert any(lab.endswith("_grad_vmap") for lab in labels)
        assert len(labels) == 2
        p0 = np.array([0.9, -0.3])

        def final(v, g=9.81):
            return sg.evaluate(y, {p: v, gl: g})
        Jv = sg.evaluate(J, {p: p0, gl: 9.81})
        assert Jv.shape == (2, 2)
        np.testing.assert_allclose(Jv, central(final, p0), rtol=1e-7, atol=1e-9)
        # a check that can fail: the Jacobian of the flow is not the identity here
        # the flow preserves area (RK4 to its O(h^4) error): det J = 1
        assert abs(np.linalg.det(Jv) - 1.0) < 1e-4 and abs(Jv[0, 1]) > 0.1
        energy = 0.5 * om ** 2 - gl * sg.cos(th)
        H = sg.hessian(energy, p)
        G = sg.grad(energy, p)
        Hv = sg.evaluate(H, {p: p0, gl: 9.81})
        Hfd = central(lambda v: sg.evaluate(G, {p: v, gl: 9.81}), p0)
        np.testing.assert_allclose(Hv, Hfd, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(Hv, Hv.T, rtol=1e-10)
        s = th * om
        Hs = sg.evaluate(sg.hessian(s, p), {p: p0, gl: 9.81})
        fd2 = central(lambda v: central(lambda u: sg.evaluate(s, {p: u, gl: 9.81}), v,
                                        eps=1e-4), p0, eps=1e-4)
        np.testing.assert_allclose(Hs, fd2, rtol=1e-4, atol=1e-6)
        # compile (which rewrites the bodies) equals evaluate
        f = sg.compile([J, H], [p, gl])
        got = f(p0, 9.81)
        np.testing.assert_allclose(got[0], Jv, rtol=1e-12)
        np.testing.assert_allclose(got[1], Hv, rtol=1e-12)
        # the Jacobian with respect to the closure g/l as well (a scalar column)
        dg = sg.evaluate(sg.jacobian(y, gl), {p: p0, gl: 9.81})
        np.testing.assert_allclose(dg, central(lambda v: final(p0, float(v)), np.array(9.81)),
                                   rtol=1e-6)


def test_vmap_of_a_scan_equals_a_loop_over_the_batch(rng):
    with sg.Graph():
        w, xs, c0 = sg.var("w", shape=(3,)), sg.var("xs", shape=(4, 6, 3)), sg.var("c0")

        def run(xseq, c):
            final, ys = scan(lambda c, x: (c * 0.9 + sg.sum(sg.sin(x * w)), c * 2), c, xseq)
            return final, ys
        batched = sg.vmap(run, in_axes=(0, None))(xs, c0)  # c0 unbatched: becomes batched
        one = [run(xs[b], c0) for b in range(4)]
        feeds = {w: rng.normal(size=3), xs: rng.normal(size=(4, 6, 3)), c0: 0.5}
        got = sg.evaluate(list(batched), feeds)
        for b in range(4):
            want = sg.evaluate(list(one[b]), feeds)
            np.testing.assert_allclose(got[0][b], want[0], rtol=1e-13)
            np.testing.assert_allclose(got[1][b], want[1], rtol=1e-13)
        assert got[1].shape == (4, 6)
        # a batched closure, time axis second
        per_w = sg.vmap(lambda wv: scan(lambda c, x: (c + sg.sum(x * wv), c), c0, xs[0])[1],
                        in_axes=0)(sg.var("W", shape=(5, 3)))
        assert per_w.shape == (5, 6)


def test_vmap_of_cond(rng):
    with sg.Graph():
        x, flag = sg.var("x", shape=(5,)), sg.var("flag")
        out = sg.vmap(lambda v: cond(flag > 0, sg.exp, lambda u: u * u, v), in_axes=0)(x)
        xv = rng.normal(size=5)
        np.testing.assert_allclose(sg.evaluate(out, {x: xv, flag: 1.0}), np.exp(xv), rtol=1e-14)
        np.testing.assert_allclose(sg.evaluate(out, {x: xv, flag: -1.0}), xv * xv, rtol=1e-14)
        y = sg.stack([cond(x[k] > 0, sg.exp, lambda u: u * u, x[k]) for k in range(2)])
        J = sg.evaluate(sg.jacobian(y, x), {x: np.array([1.0, -2.0, 0, 0, 0])})
        np.testing.assert_allclose(J[:, :2], np.diag([np.e, -4.0]), rtol=1e-14)


def batched_predicate_case():
    """vmap of a cond whose predicate is per entry: two results, a closure (w) and an
    unbatched operand (c), an integer predicate, and a branch that is NaN where not taken."""
    x, w, c = sg.var("x", shape=(6,)), sg.var("w"), sg.var("c")

    def per_entry(v):
        return cond(sg.cast(v > 0, "int64"), lambda a, b: (sg.sqrt(a) * w, a + b),
                    lambda a, b: (sg.exp(a) * b, a * a), v, c)

    first, second = sg.vmap(per_entry, in_axes=0)(x)
    y = sg.sum(first) + sg.sum(second * second)
    return x, w, c, first, second, y


def test_vmap_of_cond_with_a_batched_predicate_picks_each_entry_branch(rng):
    with sg.Graph():
        x, w, c, first, second, y = batched_predicate_case()
        xv = np.array([1.5, -0.5, 2.0, -2.0, 0.0, 0.25])
        wv, cv = 0.7, -1.3
        feeds = {x: xv, w: wv, c: cv}
        pos = xv > 0
        safe = np.where(pos, xv, 1.0)
        want1 = np.where(pos, np.sqrt(safe) * wv, np.exp(xv) * cv)
        want2 = np.where(pos, xv + cv, xv * xv)
        got1, got2 = sg.evaluate([first, second], feeds)
        np.testing.assert_allclose(got1, want1, rtol=1e-15)
        np.testing.assert_allclose(got2, want2, rtol=1e-15)
        # each entry's gradient is its own branch's (no NaN from sqrt of a negative entry)
        gx, gw, gc = sg.evaluate(sg.grad(y, [x, w, c]), feeds)
        want_gx = np.where(pos, wv / (2 * np.sqrt(safe)) + 2 * (xv + cv),
                           np.exp(xv) * cv + 4 * xv ** 3)
        np.testing.assert_allclose(gx, want_gx, rtol=1e-14)
        assert gw == pytest.approx(np.sum(np.sqrt(safe)[pos]), rel=1e-14)
        assert gc == pytest.approx(np.sum(np.exp(xv)[~pos]) + 2 * np.sum((xv + cv)[pos]),
                                   rel=1e-14)
        # second order: the Hessian's diagonal, against the analytic one
        H = sg.evaluate(sg.hessian(y, x), feeds)
        want_h = np.where(pos, -wv / (4 * safe ** 1.5) + 2, np.exp(xv) * cv + 12 * xv ** 2)
        np.testing.assert_allclose(np.diag(H), want_h, rtol=1e-13)
        np.testing.assert_array_equal(H - np.diag(np.diag(H)), 0.0)


def test_vmap_of_cond_with_a_batched_predicate_and_branches_of_closures_only():
    with sg.Graph():
        x, c = sg.var("x", shape=(4, 3)), sg.var("c")
        z = sg.vmap(lambda row: cond(sg.sum(row) > 0, lambda: c * 2.0, lambda: c - 1.0),
                    in_axes=0)(x)
        xv = np.arange(12.0).reshape(4, 3) - 5.0
        pos = xv.sum(axis=1) > 0
        np.testing.assert_array_equal(sg.evaluate(z, {x: xv, c: 3.0}), np.where(pos, 6.0, 2.0))
        assert float(sg.evaluate(sg.grad(sg.sum(z), c), {x: xv, c: 3.0})) == 2 * 2 + 2


@pytest.mark.parametrize("backend", [b for b, ok in sg.backends().items() if ok])
def test_vmap_of_cond_with_a_batched_predicate_compiles_on_every_backend(backend):
    with sg.Graph():
        x, w, c, first, second, y = batched_predicate_case()
        outputs = [first, second, *sg.grad(y, [x, w, c])]
        feeds = {x: np.array([1.5, -0.5, 2.0, -2.0, 0.0, np.nan]), w: 0.7, c: -1.3}
        want = sg.evaluate(outputs, feeds)
        got = sg.compile(outputs, [x, w, c], backend=backend)(*feeds.values())
        for g, e in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), e, rtol=1e-14)


def scans_of(outputs) -> list[sg.Node]:
    return [n for n in sg.ancestors(outputs) if n.op == "scan"]


def test_results_nobody_reads_are_dropped(rng):
    with sg.Graph():
        a, xs = sg.var("a"), sg.var("xs", shape=(4,))

        def step(c, x):
            p, q, r = c
            return (p * a + x, q + p, r * 2), (p * x, q)
        (p, q, r), (y0, y1) = scan(step, (sg.const(1.0), sg.const(0.0), sg.const(3.0)), xs)
        feeds = {a: 1.3, xs: rng.normal(size=4)}
        (node,) = scans_of([q])
        assert node.attrs["save"] and node.shape == (3 + 2 * 4 + 3 * 4,)
        # q needs p (its update reads p), not r; no per-step output, no saved carry
        s = sg.simplify(q)
        (new,) = scans_of([s])
        body = new.attrs["body"]
        assert (len(body.carries), len(body.ys), new.attrs["save"]) == (2, 0, False)
        assert new.shape == (2,) and sg.const(3.0) not in new.inputs
        two = sg.simplify([sg.sum(y0), r])
        (new,) = scans_of(two)
        body = new.attrs["body"]
        assert (len(body.carries), len(body.ys), new.shape) == (2, 1, (6,))  # p, r; y0
        for got, want in ((s, q), (two[0], sg.sum(y0)), (two[1], r)):
            np.testing.assert_allclose(sg.evaluate(got, feeds), sg.evaluate(want, feeds),
                                       rtol=1e-14)
        # compile prunes too, and the gradient of a pruned loop (which saves nothing) is
        # the gradient of the loop
        f = sg.compile([q, sg.grad(q, a)], [a, xs])
        q_dq = sg.evaluate([q, sg.grad(q, a)], feeds)
        np.testing.assert_allclose(f(1.3, feeds[xs]), q_dq, rtol=1e-13)
        for got, want in zip(sg.evaluate(sg.grad(s, [a, xs]), feeds),
                             sg.evaluate(sg.grad(q, [a, xs]), feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
        # the reverse sweep does not carry the cotangent of r, which nothing needs
        gs = sg.simplify(sg.grad(q, a))
        back = [n for n in scans_of([gs]) if n.attrs["body"].label.endswith("_grad")]
        before = [n for n in scans_of([sg.grad(q, a)])
                  if n.attrs["body"].label.endswith("_grad")]
        assert back[0].shape[0] < before[0].shape[0]
        np.testing.assert_allclose(sg.evaluate(gs, feeds), q_dq[1], rtol=1e-13)


def test_cond_results_nobody_reads_are_dropped():
    with sg.Graph():
        x, w = sg.var("x"), sg.var("w")
        first, second = cond(x > 0, lambda v: (sg.sqrt(v), sg.exp(v * w)),
                             lambda v: (-v, v * w), x)
        s = sg.simplify(first * 2)
        node = loop_node(s.inputs[0])
        assert node.shape == (1,) and w not in node.inputs  # w was read by `second` only
        for v in (4.0, -3.0):
            assert sg.evaluate(s, {x: v, w: 0.5}) == sg.evaluate(first * 2, {x: v, w: 0.5})


def test_a_trace_shows_the_body_rewritten():
    with sg.Graph():
        w, xs, total, ys = hoist_problem()
        (s, _), trace = sg.simplify([total, ys], trace=True, assume_finite=True)
        assert trace.counts().get("rewrite-inner") == 1
        (step,) = [st for st in trace.steps if st.rule == "rewrite-inner"]
        assert step.before is loop_node(total) and step.after is loop_node(s)


def test_jacobian_of_a_cond_goes_through_the_batched_cond(rng):
    with sg.Graph():
        x, flag = sg.var("x", shape=(3,)), sg.var("flag")
        y = cond(flag > 0, lambda v: sg.sin(v) * v[0], lambda v: v ** 3, x)
        J = sg.jacobian(y, x)
        assert any(n.op == "cond" and n.attrs["true"].label.endswith("_vmap")
                   for n in sg.ancestors([J]))
        xv = rng.normal(size=3)
        for f in (1.0, -1.0):
            got = sg.evaluate(J, {x: xv, flag: f})
            want = central(lambda v: sg.evaluate(y, {x: v, flag: f}), xv)
            np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)

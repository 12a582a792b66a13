"""Work a branch or loop body makes from outer nodes stays in its body (JAX's semantics):
a branch not taken, or a loop of no step, computes none of it. Hoisted out, it ran
unconditionally: its derivative met the untaken branch's zero cotangent as 0 * NaN (NaN
gradients), and its errors (a singular ``inv``, ``check_finite``) raised for work never
meant to run. A scan of at least one step still computes such work once, outside."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg

BACKENDS = [b for b, ok in sg.backends().items() if ok and b != "auto"]


def _values(outs, inputs, feeds, backend):
    f = sg.compile(outs, inputs, backend=backend)
    got = f(*feeds)
    if backend == "dask":
        import dask
        got = dask.compute(*got, scheduler="sync")
    return [float(np.asarray(g)) for g in got]


@pytest.mark.parametrize("backend", ["evaluate", *BACKENDS])
def test_a_branch_of_outer_nodes_differentiates_as_jax(backend):
    with sg.Graph():
        x = sg.var("x")
        y = sg.cond(x > 0, lambda: sg.log(x), lambda: sg.sqrt(-x))
        dy = sg.grad(y, x)
        outs = [y, dy, sg.grad(dy, x)]
        for point, want in ((2.0, [np.log(2.0), 0.5, -0.25]), (-4.0, [2.0, -0.25, -1 / 32])):
            got = ([float(v) for v in sg.evaluate(outs, {x: point})] if backend == "evaluate"
                   else _values(outs, [x], [point], backend))
            np.testing.assert_allclose(got, want, rtol=1e-12)  # NaN before: 0 * sqrt'(-2)


def test_an_operand_branch_and_a_branch_inside_a_scan():
    with sg.Graph():
        x, t = sg.var("x"), sg.var("t", shape=(3,))
        y = sg.cond(x > 0, lambda u: u * sg.log(x), lambda u: u * sg.sqrt(-x), x)
        assert float(sg.evaluate(sg.grad(y, x), {x: 2.0})) == pytest.approx(np.log(2) + 1)
        c = sg.var("c")

        def step(acc, ti):
            return acc + sg.cond(ti > 0, lambda: c * sg.log(ti), lambda: c * sg.sqrt(-ti)), None

        total, _ = sg.scan(step, sg.const(0.0), t)
        g = sg.evaluate(sg.grad(total, t), {t: [4.0, -1.0, -0.0], c: 2.0})
        # d/dt of 2 log t at 4 is 0.5; of 2 sqrt(-t) at -1 is -1; at -0.0 sqrt'(0) is -inf
        np.testing.assert_allclose(g[:2], [0.5, -1.0])
        assert g[2] == -np.inf


def test_a_branch_not_taken_raises_nothing_and_check_finite_ignores_it():
    with sg.Graph():
        A = sg.var("A", shape=(2, 2))
        ok = sg.abs(sg.linalg.det(A)) > 1e-12
        y = sg.cond(ok, lambda: sg.linalg.inv(A).sum(), lambda: sg.const(0.0))
        assert float(sg.evaluate(y, {A: np.zeros((2, 2))})) == 0.0  # inv(A) raised before
        assert float(sg.evaluate(y, {A: np.eye(2) * 2})) == 1.0
        x = sg.var("x")
        z = sg.cond(x > 0, lambda: sg.log(x), lambda: sg.sqrt(-x))
        assert float(sg.evaluate(z, {x: 2.0}, check_finite=True)) == pytest.approx(np.log(2))
        w = sg.while_loop(lambda v: v < 0, lambda v: v + sg.linalg.inv(A).sum(), x)
        assert float(sg.evaluate(w, {x: 1.0, A: np.zeros((2, 2))})) == 1.0  # no step runs


@pytest.mark.parametrize("backend", ["evaluate", *BACKENDS])
def test_a_scan_of_no_step_computes_nothing_of_its_body(backend):
    with sg.Graph():
        w, x = sg.var("w"), sg.var("x")
        c, _ = sg.scan(lambda c, t: (c + sg.sqrt(w), None), x, length=0)
        outs = [c, sg.grad(c, w), sg.grad(c, x)]
        got = ([float(v) for v in sg.evaluate(outs, {w: -1.0, x: 2.0})] if backend == "evaluate"
               else _values(outs, [w, x], [-1.0, 2.0], backend))
        assert got == [2.0, 0.0, 1.0]  # (jax.grad gives 0.0 for w; NaN before)
        A = sg.var("A", shape=(2, 2))
        c2, _ = sg.scan(lambda c, t: (c + sg.linalg.inv(A).sum(), None), x, length=0)
        assert float(sg.evaluate(c2, {A: np.zeros((2, 2)), x: 1.0})) == 1.0


def test_a_scan_of_steps_still_computes_outer_work_once_outside():
    with sg.Graph():
        w, x = sg.var("w"), sg.var("x")
        c, _ = sg.scan(lambda c, t: (c * sg.exp(w), None), x, length=3)
        body = c.inputs[0].attrs["body"] if c.op != "scan" else c.attrs["body"]
        inside = {n.op for n in sg.ancestors(body.carry_out)}
        assert "exp" not in inside  # hoisted: one exp, not three
        assert float(sg.evaluate(sg.grad(c, w), {w: 0.5, x: 2.0})) == pytest.approx(
            3 * 2.0 * np.exp(1.5))


@pytest.mark.parametrize("loop", ["scan", "fori_loop", "cond"])
def test_jacobian_and_hessian_through_a_loop_asked_again_add_no_nodes(loop):
    """API.md: asked again with the same arguments, the same nodes and none added (a loop's
    batching made new placeholders, so a new batched loop, at every call)."""
    with sg.Graph() as g:
        xs, a = sg.var("xs", shape=(3,)), sg.var("a")
        if loop == "scan":
            c, ys = sg.scan(lambda c, t: (c * t, c * t), a, xs)
        elif loop == "fori_loop":
            c = sg.fori_loop(0, 3, lambda i, c: c * xs[0] + xs, xs * a)
            ys = c
        else:
            c = sg.cond(a > 0, lambda: sg.sum(xs * xs) * a, lambda: sg.sum(sg.sin(xs)))
            ys = c * xs
        J, H = sg.jacobian(ys, xs), sg.hessian(sg.sum(c), xs)
        both = sg.jacobian(ys, [xs, a])
        before = len(g)
        for _ in range(3):
            assert sg.jacobian(ys, xs) is J and sg.hessian(sg.sum(c), xs) is H
            assert all(p is q for p, q in zip(sg.jacobian(ys, [xs, a]), both))
        assert len(g) == before
        feeds = {xs: np.array([0.5, -1.0, 2.0]), a: 1.5}
        j = sg.evaluate(J, feeds)
        h = 1e-6
        for k in range(3):  # the kept Jacobian is still right: central differences
            e = np.eye(3)[k] * h
            plus = sg.evaluate(ys, {xs: feeds[xs] + e, a: 1.5})
            minus = sg.evaluate(ys, {xs: feeds[xs] - e, a: 1.5})
            np.testing.assert_allclose(j[..., k], (plus - minus) / (2 * h), rtol=1e-6, atol=1e-8)

"""Loops and branches (issue 15): scan, fori_loop, cond, while_loop as one node each, with
symbol-to-symbol derivatives checked against the same computation unrolled in symgraph
and against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from loopcases import rk4_step
from symgraph.loops import cond, fori_loop, scan, while_loop

T_RNN, H, D = 6, 3, 2


def rnn_cell(h, x, W, U, b):
    return sg.tanh(W @ h + U @ x + b)


def rnn_problem(rng):
    values = {
        "W": rng.normal(scale=0.5, size=(H, H)), "U": rng.normal(scale=0.5, size=(H, D)),
        "b": rng.normal(scale=0.1, size=(H,)), "h0": rng.normal(scale=0.5, size=(H,)),
        "xs": rng.normal(size=(T_RNN, D)), "v": rng.normal(size=(H,)),
        "target": rng.normal(size=(T_RNN,)),
    }
    nodes = {k: sg.var(k, shape=v.shape) for k, v in values.items()}
    return nodes, values


def rnn_loss_scan(n):
    def step(h, x):
        h2 = rnn_cell(h, x, n["W"], n["U"], n["b"])
        return h2, h2 @ n["v"]
    _, outs = scan(step, n["h0"], n["xs"])
    return sg.sum((outs - n["target"]) ** 2)


def rnn_loss_unrolled(n):
    h, outs = n["h0"], []
    for t in range(T_RNN):
        h = rnn_cell(h, n["xs"][t], n["W"], n["U"], n["b"])
        outs.append(h @ n["v"])
    return sg.sum((sg.stack(outs) - n["target"]) ** 2)


def test_rnn_gradients_equal_unrolled_and_finite_differences(rng):
    with sg.Graph() as g:
        n, values = rnn_problem(rng)
        feeds = {n[k]: v for k, v in values.items()}
        wrt = [n["W"], n["U"], n["b"], n["h0"], n["xs"]]
        loss, ref = rnn_loss_scan(n), rnn_loss_unrolled(n)
        np.testing.assert_allclose(sg.evaluate(loss, feeds), sg.evaluate(ref, feeds), rtol=1e-12)
        grads, refs = sg.grad(loss, wrt), sg.grad(ref, wrt)
        for got, want in zip(sg.evaluate(grads, feeds), sg.evaluate(refs, feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        assert sg.check_grad(loss, wrt, feeds) < 1e-6
        # the gradient is one reverse scan: the graph does not hold T copies of the cell
        assert sg.stats(grads)["by_op"].get("tanh", 0) == 0
        assert sg.grad(loss, wrt) == grads  # asked again: the same nodes, none added
        assert len(g) == len(g.nodes)


def test_rnn_hvp_and_second_order(rng):
    with sg.Graph():
        n, values = rnn_problem(rng)
        feeds = {n[k]: v for k, v in values.items()}
        loss, ref = rnn_loss_scan(n), rnn_loss_unrolled(n)
        direction = rng.normal(size=(H, H))
        hv, hv_ref = sg.hvp(loss, n["W"], direction), sg.hvp(ref, n["W"], direction)
        np.testing.assert_allclose(sg.evaluate(hv, feeds), sg.evaluate(hv_ref, feeds),
                                   rtol=1e-9, atol=1e-12)
        # grad of grad (reverse over reverse) and the Hessian block of b
        gb = sg.grad(loss, n["b"])
        gg = sg.grad(sg.sum(gb * values["v"]), n["W"])
        gg_ref = sg.grad(sg.sum(sg.grad(ref, n["b"]) * values["v"]), n["W"])
        np.testing.assert_allclose(sg.evaluate(gg, feeds), sg.evaluate(gg_ref, feeds),
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sg.evaluate(sg.hessian(loss, n["b"]), feeds),
                                   sg.evaluate(sg.hessian(ref, n["b"]), feeds),
                                   rtol=1e-9, atol=1e-12)
        assert sg.check_grad(loss, [n["b"], n["h0"]], feeds, order=2) < 1e-5


def test_rnn_trained_by_backprop_through_time(rng):
    with sg.Graph():
        n, values = rnn_problem(rng)
        params = [n["W"], n["U"], n["b"]]
        loss, ref = rnn_loss_scan(n), rnn_loss_unrolled(n)
        order = [n[k] for k in values]
        step = sg.compile([loss, *sg.grad(loss, params)], order)
        step_ref = sg.compile([ref, *sg.grad(ref, params)], order)
        vals, vals_ref = dict(values), dict(values)
        losses = []
        for _ in range(30):
            out = step(*[vals[k] for k in values])
            out_ref = step_ref(*[vals_ref[k] for k in values])
            np.testing.assert_allclose(out[0], out_ref[0], rtol=1e-9)
            losses.append(float(out[0]))
            for k, gk, gr in zip(("W", "U", "b"), out[1:], out_ref[1:]):
                vals[k] = vals[k] - 0.05 * gk
                vals_ref[k] = vals_ref[k] - 0.05 * gr
        assert losses[-1] < 0.5 * losses[0]


def rk4_pendulum(state, p, dt):
    return rk4_step(state, lambda th, om: -p[0] * sg.sin(th) - p[1] * om, dt)


def test_pendulum_rk4_sensitivities_first_and_second_order():
    steps, dt = 40, 0.05
    with sg.Graph():
        p, th0, om0 = sg.var("p", shape=(2,)), sg.var("th0"), sg.var("om0")
        feeds = {p: [9.81, 0.3], th0: 1.0, om0: -0.5}
        th, om = fori_loop(0, steps, lambda i, s: rk4_pendulum(s, p, dt), (th0, om0))
        assert isinstance(th, sg.Node)
        state = (th0, om0)
        for _ in range(steps):
            state = rk4_pendulum(state, p, dt)
        th_ref = state[0]
        np.testing.assert_allclose(sg.evaluate(th, feeds), sg.evaluate(th_ref, feeds), rtol=1e-12)
        wrt = [p, th0, om0]
        for got, want in zip(sg.evaluate(sg.grad(th, wrt), feeds),
                             sg.evaluate(sg.grad(th_ref, wrt), feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-10)
        H, H_ref = sg.hessian(th, p), sg.hessian(th_ref, p)
        np.testing.assert_allclose(sg.evaluate(H, feeds), sg.evaluate(H_ref, feeds), rtol=1e-9)
        d2 = sg.grad(sg.grad(th, th0), om0)
        d2_ref = sg.grad(sg.grad(th_ref, th0), om0)
        np.testing.assert_allclose(sg.evaluate(d2, feeds), sg.evaluate(d2_ref, feeds), rtol=1e-9)
        jv = sg.jvp(om, p, [1.0, -2.0])
        np.testing.assert_allclose(sg.evaluate(jv, feeds),
                                   sg.evaluate(sg.jvp(state[1], p, [1.0, -2.0]), feeds),
                                   rtol=1e-10)
        assert sg.check_grad(th, wrt, feeds, order=2) < 1e-5
        for backend in ("python", "numpy"):
            f = sg.compile([th, *sg.grad(th, wrt)], [p, th0, om0], backend=backend)
            for got, want in zip(f(*feeds.values()), sg.evaluate([th, *sg.grad(th, wrt)], feeds)):
                np.testing.assert_allclose(got, want, rtol=1e-12)


def test_ten_thousand_steps_stay_one_node():
    steps, dt = 10_000, 0.001
    with sg.Graph() as g:
        p, th0, om0 = sg.var("p", shape=(2,)), sg.var("th0"), sg.var("om0")
        th, _ = fori_loop(0, steps, lambda i, s: rk4_pendulum(s, p, dt), (th0, om0))
        grads = sg.grad(th, [p, th0, om0])
        f = sg.compile([th, *grads], [p, th0, om0])
        out = f([9.81, 0.3], 1.0, 0.0)
        assert np.all(np.isfinite(np.concatenate([np.ravel(o) for o in out])))
        want = sg.evaluate([th, *grads], {p: [9.81, 0.3], th0: 1.0, om0: 0.0})
        for got, ref in zip(out, want):
            np.testing.assert_allclose(got, ref, rtol=1e-12)
        # the outer graph does not grow with the steps: a few hundred nodes in all
        assert sg.stats([th, *grads])["nodes"] < 60
        assert len(g) < 1000
        assert sg.stats([th, *grads])["by_op"]["scan"] == 2
    # a reference: the same number of steps, finite differences of the forward value
    with sg.Graph():
        p, th0, om0 = sg.var("p", shape=(2,)), sg.var("th0"), sg.var("om0")
        th, _ = fori_loop(0, steps, lambda i, s: rk4_pendulum(s, p, dt), (th0, om0))
        eps = 1e-6
        up = sg.evaluate(th, {p: [9.81, 0.3], th0: 1.0 + eps, om0: 0.0})
        down = sg.evaluate(th, {p: [9.81, 0.3], th0: 1.0 - eps, om0: 0.0})
        np.testing.assert_allclose(out[2], (up - down) / (2 * eps), rtol=1e-6)


def test_cond_runs_only_the_chosen_branch_and_its_gradient():
    with sg.Graph():
        x, w = sg.var("x"), sg.var("w")
        # log(x) would be NaN for x < 0 (and its gradient 1/x NaN-free but wrong): not run
        y = cond(x > 0, lambda v: sg.log(v) * w, lambda v: v * v * w, x)
        gx, gw = sg.grad(y, [x, w])
        with np.errstate(all="raise"):
            vals = sg.evaluate([y, gx, gw], {x: -3.0, w: 2.0}, check_finite=True)
        np.testing.assert_allclose(vals, [18.0, -12.0, 9.0])
        vals = sg.evaluate([y, gx, gw], {x: 2.0, w: 2.0})
        np.testing.assert_allclose(vals, [2 * np.log(2.0), 1.0, np.log(2.0)])
        for at in (-3.0, 2.0):
            assert sg.check_grad(y, [x, w], {x: at, w: 2.0}, order=2) < 1e-6
        f = sg.compile([y, gx], [x, w])
        np.testing.assert_allclose(f(-3.0, 2.0), [18.0, -12.0])
        # a tuple of operands and of results
        a, b = cond(x > 0, lambda u, v: (u + v, u * v), lambda u, v: (u - v, v), x, w)
        np.testing.assert_allclose(sg.evaluate([a, b], {x: -1.0, w: 5.0}), [-6.0, 5.0])
        np.testing.assert_allclose(sg.evaluate(sg.jvp(b, x, 1.0), {x: 3.0, w: 5.0}), 5.0)


def test_cond_rejects_mismatched_branches():
    with sg.Graph():
        x = sg.var("x", shape=(2,))
        with pytest.raises(sg.SymgraphError, match="branches return different shapes"):
            cond(x[0] > 0, lambda v: v, lambda v: v.sum(), x)
        with pytest.raises(sg.SymgraphError, match="pred must be a boolean scalar"):
            cond(x, lambda v: v, lambda v: v, x)


def test_while_loop_forward_and_its_gradient_error():
    with sg.Graph():
        x = sg.var("x")
        y, k = while_loop(lambda c: c[0] < 100.0, lambda c: (c[0] * x, c[1] + 1),
                          (sg.const(1.0), sg.const(0, dtype="int64")))
        assert sg.evaluate([y, k], {x: 3.0}) == [243.0, 5]
        assert sg.evaluate(y, {x: 10.0}) == 100.0
        with pytest.raises(sg.SymgraphError, match="scan or sg.fori_loop"):
            sg.grad(y, x)
        z = x * x  # a gradient that does not pass through the loop still works
        assert float(sg.evaluate(sg.grad(z + sg.stop_gradient(y), x), {x: 3.0})) == 6.0
        assert sg.compile(y, [x])(3.0) == 243.0


def test_scan_structures_and_errors():
    with sg.Graph():
        xs = sg.var("xs", shape=(4, 2))
        (s, c), ys = scan(lambda carry, x: ((carry[0] + x.sum(), carry[1] * 2.0),
                                            (x[0], carry[0])),
                          (sg.const(0.0), sg.const(1.0)), xs)
        value = np.arange(8.0).reshape(4, 2)
        assert isinstance(ys, tuple) and len(ys) == 2
        got = sg.evaluate([s, c, ys[0], ys[1]], {xs: value})
        assert got[0] == 28.0 and got[1] == 16.0
        assert got[2].tolist() == [0.0, 2.0, 4.0, 6.0]
        assert got[3].tolist() == [0.0, 1.0, 6.0, 15.0]
        _, counts = scan(lambda c, _: (c + 1.0, c), sg.const(0.0), length=3)
        assert sg.evaluate(counts, {}).tolist() == [0.0, 1.0, 2.0]
        with pytest.raises(sg.SymgraphError, match="carry 0 enters the body"):
            scan(lambda c, x: (x, c), sg.const(0.0), xs)
        with pytest.raises(sg.SymgraphError, match="returns 2 carries for 1"):
            scan(lambda c, x: ((c, c), x), sg.const(0.0), xs)
        with pytest.raises(sg.SymgraphError, match="returns 1 carries for 2"):
            while_loop(lambda c: c[0] < 1.0, lambda c: (c[0],), (sg.const(0.0), sg.const(0.0)))
        with pytest.raises(sg.SymgraphError, match="lengths differ"):
            scan(lambda c, x: (c, x), sg.const(0.0), xs, length=3)
        with pytest.raises(sg.SymgraphError, match="static bounds"):
            fori_loop(0, sg.var("n"), lambda i, c: c, sg.const(0.0))


def test_checkpointed_scan_equals_plain_scan_to_second_order(rng):
    with sg.Graph():
        n, values = rnn_problem(rng)
        feeds = {n[k]: v for k, v in values.items()}

        def step(h, x):
            h2 = rnn_cell(h, x, n["W"], n["U"], n["b"])
            return h2, h2 @ n["v"]
        for k in (2, 4):  # 6 steps: 3 segments of 2; 1 segment of 4 and a tail of 2
            _, outs = scan(step, n["h0"], n["xs"], checkpoint=k)
            loss = sg.sum((outs - n["target"]) ** 2)
            ref = rnn_loss_unrolled(n)
            wrt = [n["W"], n["b"], n["h0"], n["xs"]]
            np.testing.assert_allclose(sg.evaluate(loss, feeds), sg.evaluate(ref, feeds),
                                       rtol=1e-12)
            for got, want in zip(sg.evaluate(sg.grad(loss, wrt), feeds),
                                 sg.evaluate(sg.grad(ref, wrt), feeds)):
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
            hv = sg.hvp(loss, n["b"], values["v"])
            np.testing.assert_allclose(sg.evaluate(hv, feeds),
                                       sg.evaluate(sg.hvp(ref, n["b"], values["v"]), feeds),
                                       rtol=1e-9, atol=1e-12)
        with pytest.raises(sg.SymgraphError, match="checkpoint must be an int"):
            scan(step, n["h0"], n["xs"], checkpoint=0)


def test_checkpoint_cuts_the_peak_memory_of_the_gradient():
    import tracemalloc
    steps, size = 4000, 256

    def peak(checkpoint):
        with sg.Graph():
            x0, a = sg.var("x0", shape=(size,)), sg.var("a")
            final, _ = scan(lambda c, _: (sg.tanh(a * c) + 0.1, None), x0, length=steps,
                            checkpoint=checkpoint)
            g = sg.grad(sg.sum(final), [x0, a])
            feeds = {x0: np.linspace(-1, 1, size), a: 0.9}
            sg.evaluate(g, feeds)  # compiles the bodies
            tracemalloc.start()
            value = sg.evaluate(g, feeds)
            top = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return top, value
    plain, v1 = peak(None)
    checked, v2 = peak(100)
    for got, want in zip(v2, v1):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert plain > steps * size * 8  # one carry per step kept
    assert checked < plain / 5


def test_closures_over_related_outer_nodes_int_carries_and_float32():
    xs = np.array([0.5, -0.2, 0.1])
    with sg.Graph():
        W, h0 = sg.var("W", shape=(2, 2)), sg.var("h0", shape=(2,))
        W2 = W * 2.0  # W and a node made from it are both closed over: no double count
        (h, k), ks = scan(lambda c, x: ((sg.tanh(W @ c[0] + W2 @ c[0] * x), c[1] + 1), c[1]),
                          (h0, sg.const(0, dtype="int64")), sg.const(xs))
        hh = h0
        for x in xs:
            hh = sg.tanh(W @ hh + W2 @ hh * x)
        feeds = {W: np.array([[0.3, -0.2], [0.5, 0.1]]), h0: np.array([0.4, -0.6])}
        got = sg.evaluate([h.sum(), k, ks], feeds)
        assert got[1] == 3 and got[2].tolist() == [0, 1, 2] and got[2].dtype == np.int64
        np.testing.assert_allclose(got[0], sg.evaluate(hh.sum(), feeds), rtol=1e-14)
        for got, want in zip(sg.evaluate(sg.grad(h.sum(), [W, h0]), feeds),
                             sg.evaluate(sg.grad(hh.sum(), [W, h0]), feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
        a = sg.var("a", dtype="float32")
        c32, _ = scan(lambda c, _: (c * a, None), sg.const(1.0, dtype="float32"), length=4)
        value, slope = sg.evaluate([c32, sg.grad(c32, a)], {a: 2.0})
        assert c32.dtype == np.float32 and value.dtype == slope.dtype == np.float32
        assert (float(value), float(slope)) == (16.0, 32.0)


@pytest.mark.parametrize("backend", [None, "python", "numpy", "numba", "jax", "dask"])
def test_an_integer_carry_past_2_to_53_in_a_float_pack_raises_instead_of_rounding(backend):
    """An int64 carry beside a float64 one shares the loop's float64 pack: exact below
    2**53; past it every backend raises instead of returning a rounded integer."""
    pytest.importorskip({"numba": "numba", "jax": "jax", "dask": "dask"}.get(backend, "numpy"))
    with sg.Graph():
        x, n0 = sg.var("x"), sg.var("n", dtype="int64")
        (f, n), _ = sg.scan(lambda c, _: ((c[0] * 2.0, c[1] * 3), c[0]), (x, n0), length=3)

        def run(start):
            if backend is None:
                return sg.evaluate([f, n], {x: 1.0, n0: start})
            out = sg.compile([f, n], [x, n0], backend=backend)(1.0, start)
            if backend == "dask":
                import dask
                out = dask.compute(*out)
            return [np.asarray(v) for v in out]

        value, count = run(5)
        assert float(value) == 8.0 and int(count) == 135 and count.dtype == np.int64
        with pytest.raises(sg.SymgraphError, match="2\\*\\*53"):
            run(2**52 + 1)  # 27 * (2**52 + 1) is not a float64

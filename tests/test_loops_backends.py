"""Loops and branches on the jax and dask backends (issue 15 with issue 17): ``scan`` as
``lax.scan``, ``cond`` as ``lax.cond``, ``while_loop`` as ``lax.while_loop`` on jax, one lazy
task per loop on dask; value, gradient, second order (hvp) and jvp compiled equal
``sg.evaluate`` in float64, the packed results too (forward and reverse scans).

Oracle: sg.evaluate of the same outputs (the loop run step by step by the python-compiled
body); the pendulum's gradient also against central finite differences of evaluate.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import symgraph as sg
from loopcases import rk4_step
from symgraph.loops import cond, fori_loop, scan, while_loop
from symgraph.loops.scan import SCAN, results
from symgraph.ops.core import make

jax = pytest.importorskip("jax")
dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
from dask.callbacks import Callback

BACKENDS = ["jax", "dask"]
# evaluate silences floating-point warnings; dask's own functions may warn on NaN
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


class NoCompute(Callback):
    """Fails any dask computation started while it is active (the call must stay lazy)."""

    def _start(self, dsk):
        raise AssertionError("something computed a dask array while the graph was built")


def run(outs, inputs, values, backend, **options):
    """``outs`` compiled on ``backend`` and called at ``values``, as NumPy arrays (dask: the
    call computes nothing; the result is computed after)."""
    f = sg.compile(outs, inputs, backend=backend, **options)
    if backend == "dask":
        with NoCompute():
            lazy = f(*values)
        assert all(isinstance(v, da.Array) for v in lazy)
        return [np.asarray(v) for v in dask.compute(*lazy, scheduler="sync")]
    return [np.asarray(v) for v in f(*values)]


def same_as_evaluate(outs, inputs, values, backend, rtol=1e-10, atol=1e-12):
    got = run(outs, inputs, values, backend)
    want = sg.evaluate(outs, dict(zip(inputs, values)))
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, (k, g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"output {k} on {backend}")
    return got


# --- an RK4 pendulum as fori_loop ---------------------------------------------------------------


def pendulum_step(state, g, c, dt):
    """One RK4 step of th'' = -g sin(th) - c th' (scalar closures g, c)."""
    return rk4_step(state, lambda th, om: -g * sg.sin(th) - c * om, dt)


def pendulum(steps, checkpoint=None):
    g, c, th0, om0 = sg.var("g"), sg.var("c"), sg.var("th0"), sg.var("om0")
    th, om = fori_loop(0, steps, lambda i, s: pendulum_step(s, g, c, 0.01), (th0, om0),
                       checkpoint=checkpoint)
    return [g, c, th0, om0], th * th + 0.5 * om


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("checkpoint", [None, 7])
def test_rk4_pendulum_value_gradient_hvp_and_jvp_equal_evaluate(graph, backend, checkpoint):
    inputs, loss = pendulum(40, checkpoint)
    grads = sg.grad(loss, inputs)
    second = sg.grad(grads[2], inputs)  # a scan of the reverse scan: second order
    th0 = inputs[2]
    at = [9.81, 0.3, 1.0, -0.5]
    # (compiled apart: together their bodies pass the jax backend's scalar-steps guard,
    # which the second order of the checkpointed loop passes alone: 1264 steps)
    if checkpoint is None or backend != "jax":
        same_as_evaluate(second, inputs, at, backend)
        same_as_evaluate([sg.hvp(loss, th0, 0.7)], inputs, at, backend)
    got = same_as_evaluate([loss, *grads, sg.jvp(loss, th0, -1.3)], inputs, at, backend)
    # and the gradient is the loss's: central differences of evaluate
    for k in range(4):
        h = 1e-6
        up, down = list(at), list(at)
        up[k] += h
        down[k] -= h
        fd = (sg.evaluate(loss, dict(zip(inputs, up)))
              - sg.evaluate(loss, dict(zip(inputs, down)))) / (2 * h)
        np.testing.assert_allclose(got[1 + k], fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got[-1], -1.3 * got[3], rtol=1e-12)  # jvp = grad . v


# --- an RNN with closures (weights) ----------------------------------------------------------------


def rnn(rng, T=6, H=3, D=2):
    values = {"W": rng.normal(scale=0.5, size=(H, H)), "U": rng.normal(scale=0.5, size=(H, D)),
              "b": rng.normal(scale=0.1, size=(H,)), "h0": rng.normal(scale=0.5, size=(H,)),
              "xs": rng.normal(size=(T, D)), "v": rng.normal(size=(H,))}
    n = {k: sg.var(k, shape=v.shape) for k, v in values.items()}

    def step(h, x):
        h2 = sg.tanh(n["W"] @ h + n["U"] @ x + n["b"])
        return h2, h2 @ n["v"]
    last, outs = scan(step, n["h0"], n["xs"])
    loss = sg.sum(outs ** 2) + sg.sum(last)
    return list(n.values()), list(values.values()), loss, last, outs


@pytest.mark.parametrize("backend", BACKENDS)
def test_rnn_value_gradient_hvp_and_jvp_equal_evaluate(graph, backend, rng):
    nodes, values, loss, last, outs = rnn(rng)
    W, U, b, h0, xs, _ = nodes
    grads = sg.grad(loss, [W, U, b, h0, xs])
    direction = rng.normal(size=(3, 3))
    hvp = sg.hvp(loss, W, direction)
    jvp = sg.jvp(loss, b, np.ones(3))
    got = same_as_evaluate([loss, last, outs, *grads, hvp, jvp], nodes, values, backend)
    assert got[2].shape == (6,) and np.all(np.isfinite(got[3]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_packed_value_of_forward_and_reverse_scans_equals_evaluate(graph, backend, rng):
    """The loop node's own value: final carries, stacked ys, saved carries (each step at
    its index, also when the scan runs backwards)."""
    a, xs = sg.var("a", shape=(2,)), sg.var("xs", shape=(5, 2))
    (c, _), _ = scan(lambda c, x: ((c[0] * a + x, c[1] + 1.0), (c[0] @ x, c[1])),
                      (sg.const(np.ones(2)), sg.const(0.0)), xs)
    forward = c.inputs[0]
    assert forward.opdef is SCAN and forward.attrs["save"]
    backward = make(SCAN, forward.inputs, {**forward.attrs, "reverse": True})
    unsaved = make(SCAN, forward.inputs, {**forward.attrs, "save": False, "reverse": True})
    outs = [forward, backward, unsaved, *results(backward)]
    got = same_as_evaluate(outs, [a, xs], [rng.normal(size=2), rng.normal(size=(5, 2))],
                           backend, rtol=1e-13, atol=1e-14)
    # the reverse scan's step counter k is its steps left: saved carries read 4, 3, ..., 0
    saved_k = got[3 + 5]  # (results: c, k, ys0, ys1, saved c, saved k)
    assert saved_k.tolist() == [4.0, 3.0, 2.0, 1.0, 0.0]
    assert got[1].shape == (2 + 1 + 5 + 5 + 5 * 2 + 5,)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_scan_of_zero_steps_and_one_without_xs(graph, backend):
    x = sg.var("x")
    c0, ys0 = scan(lambda c, _: (c * x, c + 1.0), x, length=0)
    c3, ys3 = scan(lambda c, _: (c * x, c + 1.0), x, length=3)
    same_as_evaluate([c0, ys0, c3, ys3, sg.grad(c3, x)], [x], [1.5], backend)


# --- cond and while_loop --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_branch_not_taken_leaks_no_nan_into_value_or_gradients(graph, backend):
    x = sg.var("x")
    y = cond(x > 0, lambda v: sg.sqrt(v) * sg.log(v), lambda v: -v * v, x)
    g = sg.grad(y, x)
    h = sg.grad(g, x)
    j = sg.jvp(y, x, 2.0)
    for at in (-4.0, 4.0):
        got = same_as_evaluate([y, g, h, j], [x], [at], backend)
        assert np.all(np.isfinite(got)), (at, got)
    got = run([y, g], [x], [-4.0], backend)
    assert [float(v) for v in got] == [-16.0, 8.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cond_inside_a_scan_with_closures(graph, backend, rng):
    w, xs = sg.var("w", shape=(3,)), sg.var("xs", shape=(8, 3))

    def step(c, x):
        s = sg.sum(x * w)
        c2 = cond(s > 0, lambda c, s: c + sg.log(s), lambda c, s: c * 0.5 - s, c, s)
        return c2, s
    final, ys = scan(step, sg.const(1.0), xs)
    loss = final + sg.sum(ys * ys)
    gw = sg.grad(loss, w)
    values = [rng.normal(size=3), rng.normal(size=(8, 3))]
    got = same_as_evaluate([final, ys, loss, gw, sg.hvp(loss, w, np.ones(3))], [w, xs],
                           values, backend)
    assert np.all(np.isfinite(got[3]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_loop_runs_as_many_steps_as_its_test_asks(graph, backend):
    x, v = sg.var("x"), sg.var("v", shape=(2,))
    n, y = while_loop(lambda s: s[1] < 100, lambda s: (s[0] + 1.0, s[1] * x + sg.sum(v)),
                      (sg.const(0.0), sg.const(1.0)))
    for at in (3.0, 1.5):
        got = same_as_evaluate([n, y], [x, v], [at, np.array([0.25, 0.25])], backend)
        assert got[1] >= 100
    assert [float(t) for t in run([n, y], [x, v], [3.0, np.zeros(2)], backend)] == [5.0, 243.0]


@pytest.mark.parametrize("backend", ["python", "numba", *BACKENDS])
def test_a_while_loop_until_every_entry_converged(graph, backend):
    """A vector state loops while sg.any of it is off (JAX's ``jnp.any`` in a cond_fun):
    Newton's steps for the square roots of v, each entry to within 1e-12."""
    v = sg.var("v", shape=(3,))
    n, r = while_loop(lambda s: sg.any(abs(s[1] * s[1] - v) > 1e-12 * v),
                      lambda s: (s[0] + 1.0, 0.5 * (s[1] + v / s[1])), (sg.const(0.0), v))
    at = np.array([2.0, 9.0, 1e4])
    steps, roots = same_as_evaluate([n, r], [v], [at], backend)
    np.testing.assert_allclose(roots, np.sqrt(at), rtol=1e-12)
    assert 3 <= steps <= 20


# --- backend specifics ------------------------------------------------------------------------


def test_jax_runs_each_loop_as_one_lax_loop_and_its_body_once(graph):
    """The lowered program holds one while (scan's loop) and one conditional, whatever the
    number of steps; a loop of 3000 steps of a scalar body compiles (the scalar-steps
    guard counts the body once), a body of more scalar steps than the guard allows raises."""
    inputs, loss = pendulum(3000)
    f = sg.compile([loss, *sg.grad(loss, inputs)], inputs, backend="jax")
    with jax.enable_x64(True):
        text = f.jitted.lower(*[np.float64(v) for v in (9.81, 0.3, 1.0, -0.5)]).as_text()
    assert text.count("stablehlo.while") == 2  # the forward scan and the reverse one
    got = [float(v) for v in f(9.81, 0.3, 1.0, -0.5)]
    want = [float(v) for v in sg.evaluate([loss, *sg.grad(loss, inputs)],
                                          dict(zip(inputs, (9.81, 0.3, 1.0, -0.5))))]
    np.testing.assert_allclose(got, want, rtol=1e-9)

    x = sg.var("x")

    def long_body(i, c):
        for _ in range(1100):
            c = sg.sin(c)
        return c
    with pytest.raises(sg.SymgraphError, match=r"scalar steps.*python"):
        sg.compile(fori_loop(0, 2, long_body, x), [x], backend="jax")


def test_jax_a_bad_index_inside_a_body_raises_after_the_call(graph):
    w, idx = sg.var("w", shape=(4,)), sg.var("idx", shape=(3,), dtype="int64")
    total, _ = scan(lambda c, i: (c + w[i], c), sg.const(0.0), idx)
    f = sg.compile(total, [w, idx], backend="jax")
    assert float(f(np.arange(4.0), np.array([0, 3, -1]))) == 6.0
    with pytest.raises(sg.SymgraphError):
        sg.evaluate(total, {w: np.arange(4.0), idx: np.array([0, 9, 1])})
    with pytest.raises(sg.SymgraphError, match="out of range"):
        f(np.arange(4.0), np.array([0, 9, 1]))


def test_dask_takes_dask_inputs_lazily_and_its_loop_tasks_pickle(graph, rng):
    nodes, values, loss, _, _ = rnn(rng)
    grads = sg.grad(loss, nodes[:3])
    f = sg.compile([loss, *grads], nodes, backend="dask")
    with NoCompute():
        lazy = f(*[da.from_array(v, chunks=2) for v in values])
    got = dask.compute(*lazy, scheduler="threads")
    want = sg.evaluate([loss, *grads], dict(zip(nodes, values)))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    # a distributed worker receives the tasks pickled: the bodies travel as JSON
    import cloudpickle
    graph_ = dict(lazy[0].__dask_graph__())
    again = pickle.loads(cloudpickle.dumps(graph_))
    assert set(again) == set(graph_)


def _blocked_scan(rng):
    w, h0 = sg.var("w", shape=(400,)), sg.var("h0", shape=(400,))
    xs = sg.var("xs", shape=(5, 400))

    def step(h, x):
        h2 = sg.tanh(w * h + x)
        return h2, sg.sum(h2 * h)
    last, ys = scan(step, h0, xs)
    loss = sg.sum(last * last) + sg.sum(ys)
    outs = [loss, last, ys, *sg.grad(loss, [w, h0, xs]), sg.hvp(loss, w, np.ones(400))]
    values = [rng.normal(size=400), rng.normal(size=400), rng.normal(size=(5, 400))]
    return outs, [w, h0, xs], values


@pytest.mark.parametrize("max_steps", [256, 3])
def test_dask_a_scan_over_blocked_data_runs_block_by_block(graph, rng, monkeypatch, max_steps):
    """Inputs of several blocks: the body runs per step on the blocks (the final carry keeps
    the input's 4 blocks, no task gathers it), equal to evaluate; past BLOCKED_MAX_STEPS
    steps the scan is one task (one block), equal too."""
    from symgraph.loops import lower
    monkeypatch.setattr(lower, "BLOCKED_MAX_STEPS", max_steps)
    outs, inputs, values = _blocked_scan(rng)
    f = sg.compile(outs, inputs, backend="dask", chunks=100)
    with NoCompute():
        lazy = f(*values)
    assert lazy[1].numblocks == ((4,) if max_steps >= 5 else (1,))
    got = dask.compute(*lazy, scheduler="sync")
    want = sg.evaluate(outs, dict(zip(inputs, values)))
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)

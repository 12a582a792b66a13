"""The scan driver (symgraph/loops/steps.py): its bookkeeping (slices read, outputs and saved
carries written in place into the packed value, parts of another dtype copied in) gives
the values of a plain Python loop, forward and reversed, for scalar, vector and integer
carries and outputs."""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest

import symgraph as sg
from symgraph.loops.steps import run_steps


def test_mixed_carries_and_outputs_equal_a_python_loop(rng):
    T = 7
    xs_v = rng.normal(size=T)
    ws_v = rng.normal(size=(T, 2))
    with sg.Graph():
        xs, ws = sg.var("xs", shape=(T,)), sg.var("ws", shape=(T, 2))
        a = sg.var("a")

        def f(carry, x):
            s, n, v = carry
            s2 = s * a + x[0]
            v2 = v * 0.5 + x[1] * s
            return (s2, n + 1, v2), (s2 * s2, n, v2)

        (s, n, v), (ys, ns, vs) = sg.scan(f, (sg.const(0.3), sg.const(np.int64(2)),
                                             sg.const(np.ones(2))), (xs, ws))
        feeds = {xs: xs_v, ws: ws_v, a: 0.9}
        outs = [s, n, v, ys, ns, vs]
        got = sg.evaluate(outs, feeds)
        compiled = sg.compile(outs, [xs, ws, a])(xs_v, ws_v, 0.9)
    s_, n_, v_ = 0.3, 2, np.ones(2)
    want_ys, want_ns, want_vs = [], [], []
    for t in range(T):
        s2 = s_ * 0.9 + xs_v[t]
        v2 = v_ * 0.5 + ws_v[t] * s_
        s_, n_, v_ = s2, n_ + 1, v2
        want_ys.append(s2 * s2)
        want_ns.append(n_ - 1)
        want_vs.append(v2)
    want = [s_, n_, v_, want_ys, want_ns, np.array(want_vs)]
    for values in (got, compiled):
        for g, w in zip(values, want):
            np.testing.assert_allclose(g, w, rtol=1e-14)
    assert np.asarray(got[1]).dtype == np.int64 and np.asarray(got[4]).dtype == np.int64


def test_reverse_steps_save_the_carry_each_step_started_from():
    xs = np.array([1.0, 2.0, 4.0])
    ys, saved = [np.empty(3)], [np.empty(3)]
    final = run_steps(lambda c, x: [c * 10 + x, c - x], 3, [0.0], [xs], [],
                      [((), np.dtype("f8"))], ys, saved, reverse=True)
    # steps t = 2, 1, 0: carries 0 -> 4 -> 42 -> 421
    assert final == [421.0]
    assert saved[0].tolist() == [42.0, 4.0, 0.0]
    assert ys[0].tolist() == [41.0, 2.0, -4.0]


def test_strided_and_broadcast_inputs_are_read_step_by_step():
    base = np.arange(12.0)
    for xs in (base[::3], base[::-1][:4], np.broadcast_to(np.float64(2.5), (4,))):
        ys = [np.empty(4)]
        run_steps(lambda c, x: [c, x * 2], 4, [0.0], [xs], [], [((), np.dtype("f8"))], ys, [],
                  reverse=False)
        assert ys[0].tolist() == (xs * 2).tolist()


def test_a_compiled_gradient_runs_each_loop_once_per_call(monkeypatch):
    """The outer function reads the loop's results as scalars written into later
    statements; the packed array must live until then (a read after its ``del`` raised
    NameError inside the fast path, whose rerun ran the forward loop a second time)."""
    scan_module = importlib.import_module("symgraph.loops.scan")
    runs = []

    def counting(*args, **kwargs):
        runs.append(args[1])
        return run_steps(*args, **kwargs)

    with sg.Graph():
        k, c, th0, om0 = sg.var("k"), sg.var("c"), sg.var("th0"), sg.var("om0")

        def step(i, s):
            th, om = s
            return th + 0.01 * om, om - 0.01 * (k * sg.sin(th) + c * om)

        th, om = sg.fori_loop(0, 50, step, (th0, om0))
        loss = th + 0.5 * om
        f = sg.compile([loss, *sg.grad(loss, [k, c, th0, om0])], [k, c, th0, om0])
        want = sg.evaluate([loss, *sg.grad(loss, [k, c, th0, om0])],
                           {k: 9.81, c: 0.3, th0: 1.0, om0: 0.0})
    monkeypatch.setattr(scan_module, "run_steps", counting)
    got = f(9.81, 0.3, 1.0, 0.0)
    assert runs == [50, 50]  # the forward loop, then the reverse one
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_no_array_is_read_after_its_del():
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        a = sg.exp(x)
        y = (a[0] + 1.0) * sg.sum(a * a)
        f = sg.compile(y, [x])
    lines = f.source.splitlines()
    for n, line in enumerate(lines):
        if line.strip().startswith("del "):
            name = line.split()[1]
            later = [ln for ln in lines[n + 1:] if re.search(rf"\b{name}\b", ln)]
            assert not later, f"{name} read after its del: {later}"
    xv = np.array([0.1, 0.2, 0.3])
    assert float(f(xv)) == pytest.approx((np.exp(0.1) + 1.0) * np.sum(np.exp(xv) ** 2), rel=1e-14)

"""The ``dask`` backend's fusion of elementwise steps (``symgraph.backends.dask_fuse``): a
run of elementwise steps is one blockwise layer, not one per step; the values equal
``sg.evaluate`` (NaN and inf too) with inputs split into several blocks, with several
outputs read off one layer, with broadcasting, and where a step reads both a group and a
reduction of it (which must not join that group: the group would wait for itself)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.backends.dask_fuse import groups
from symgraph.backends.dask_ops import block_function
from symgraph.plan import Plan

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def layers(arrays) -> int:
    """The layers of the dask graph behind ``arrays`` (one per step unless fused)."""
    from dask.highlevelgraph import HighLevelGraph
    return len(HighLevelGraph.merge(*[a.dask for a in arrays]).layers)


def same(got, want) -> None:
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))  # NaN == NaN here


def test_a_deep_scalar_chain_and_its_gradient_are_a_few_layers(graph):
    # 3,000 steps built 3,000 dask layers: dask's graph work grew faster than linearly
    # (about 45 s to build and compute); fused, the chain is one layer
    x = sg.var("x")
    y = x
    for _ in range(1000):
        y = sg.sin(y) * 0.999 + 0.001
    outs = [y, sg.grad(y, x)]
    f = sg.compile(outs, [x], backend="dask")
    for point in (0.3, -2.0, np.inf, np.nan):
        got = f(point)
        assert layers(got) <= 10  # of 6,000 steps (the input and constants are layers too)
        for g, w in zip(dask.compute(*got), sg.evaluate(outs, {x: point})):
            same(g, w)


def test_blocked_arrays_broadcasting_and_several_outputs_equal_evaluate(graph):
    X, b, s = sg.var("X", shape=(60, 8)), sg.var("b", shape=(8,)), sg.var("s")
    t = sg.tanh(X * s + b)  # read by two reductions: an output of its group
    u = sg.exp(-t * t) / (1.0 + t)
    y = sg.sum(t) + sg.sum(u * X)
    outs = [y, u, *sg.grad(y, [X, b, s])]
    f = sg.compile(outs, [X, b, s], backend="dask")
    rng = np.random.default_rng(0)
    Xv, bv = rng.normal(size=(60, 8)), rng.normal(size=8)
    Xv[3, 2], Xv[7, 1], bv[5] = np.nan, np.inf, -np.inf
    got = f(da.from_array(Xv, chunks=(16, 4)), da.from_array(bv, chunks=4), 0.7)
    assert got[1].chunks == ((16, 16, 16, 12), (4, 4))
    for g, w in zip(dask.compute(*got), sg.evaluate(outs, {X: Xv, b: bv, s: 0.7})):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, equal_nan=True)
    # every elementwise step of X's shape runs in one layer (22 of the plan's 27 steps)
    plan = f.plan
    elementwise = {s: None for s in plan.steps if block_function(plan.nodes[s]) is not None}
    assert [len(g.steps) for g in groups(plan, elementwise)] == [22]


def test_a_step_reading_a_group_and_a_reduction_of_it_stays_outside_the_group(graph):
    X = sg.var("X", shape=(12,))
    a = sg.sin(X) * 2.0
    c = sg.sum(a)  # computed after a's group starts: whatever reads it cannot join
    y = a * c + sg.cos(a)
    plan = Plan([y], frozenset({X.id}))
    elementwise = {s: None for s in plan.steps if plan.nodes[s].op != "sum"}
    found = groups(plan, elementwise)
    position = {s: t for t, s in enumerate(plan.steps)}
    for g in found:  # everything a group reads from outside is ready at its first step
        assert all(position.get(j, -1) < g.first for j in g.inputs)
    slot = {n.id: k for k, n in enumerate(plan.nodes)}
    home = next(g for g in found if slot[a.id] in g.steps)
    reader = next(k for k in plan.steps if plan.nodes[k].op == "multiply"
                  and plan.nodes[k].inputs[1] is c)
    assert reader not in home.steps and slot[a.id] in home.outputs
    Xv = np.linspace(-3, 3, 12)
    got = sg.compile(y, [X], backend="dask")(da.from_array(Xv, chunks=5)).compute()
    # (to rounding: dask sums block by block)
    np.testing.assert_allclose(got, sg.evaluate(y, {X: Xv}), rtol=1e-13)


def test_fused_values_equal_the_unfused_steps_at_every_special_value(graph):
    x, z = sg.var("x", shape=(9,)), sg.var("z", shape=(9,))
    y = sg.where(x > z, sg.log(x) * z, sg.sqrt(z) - x) / (x - z) + sg.maximum(x, -z)
    outs = [y, *sg.grad(sg.sum(y), [x, z])]
    specials = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 1e308, 5e-324])
    xv, zv = specials, specials[::-1].copy()
    f = sg.compile(outs, [x, z], backend="dask")
    got = dask.compute(*f(da.from_array(xv, chunks=4), da.from_array(zv, chunks=4)))
    for g, w in zip(got, sg.evaluate(outs, {x: xv, z: zv})):
        same(g, w)

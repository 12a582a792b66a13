"""The evaluator: feeds, plans, errors, freeing, compile, threads; and check_grad."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import symgraph as sg
from threads import run_while_building


def test_only_ancestors_are_computed_and_fed(graph):
    x, y = sg.var("x"), sg.var("y")
    a = sg.sin(x)
    b = sg.exp(y)
    assert sg.evaluate(a, {x: 0.0}) == 0.0  # y needs no feed
    assert sg.evaluate([a, b], {x: 0.0, y: 0.0}) == [0.0, 1.0]


def test_feeds_by_name(graph):
    x = sg.var("x")
    assert sg.evaluate(x * 2, {"x": 4}) == 8.0
    with pytest.raises(sg.MissingFeedError, match="no node named 'z'"):
        sg.evaluate(x * 2, {"z": 1.0})
    sg.var("x")
    with pytest.raises(sg.SymgraphError, match="2 nodes are named 'x'"):
        sg.evaluate(x * 2, {"x": 1.0})


def test_feeding_an_intermediate_node_cuts_its_ancestors(graph):
    x = sg.var("x")
    h = sg.exp(x)
    y = h * 3
    assert sg.evaluate(y, {h: 2.0}) == 6.0  # x is not needed
    # and gradients can be evaluated at a chosen intermediate value
    dy = sg.grad(sg.sin(h), x)  # cos(h) * h: exp's derivative reuses the node h itself
    assert sg.evaluate(dy, {h: 2.0}) == pytest.approx(np.cos(2.0) * 2.0)


def test_missing_feeds_are_all_named(graph):
    a, b, c = sg.var("a"), sg.var("b"), sg.var("c")
    with pytest.raises(sg.MissingFeedError) as info:
        sg.evaluate(a + b * c, {b: 1.0})
    message = str(info.value)
    assert "'a'" in message and "'c'" in message and "'b'" not in message
    assert {n.name for n in info.value.missing} == {"a", "c"}


def test_wrong_shape_names_input_expected_and_got(graph):
    W = sg.var("W", shape=(3, None))
    with pytest.raises(sg.ShapeError, match=r"'W'.*shape \(3,\), expected \(3, \?\)"):
        sg.evaluate(W * 2, {W: np.ones(3)})
    assert sg.evaluate(W * 2, {W: np.ones((3, 5))}).shape == (3, 5)


@pytest.mark.parametrize("value", ["abc", None, object(), [[1, 2], [3]], {"a": 1}])
def test_non_numeric_feeds_are_rejected(graph, value):
    x = sg.var("x", shape=(2,))
    with pytest.raises(sg.SymgraphError, match="'x'"):
        sg.evaluate(x * 2, {x: value})


def test_float_feed_into_integer_input_is_rejected(graph):
    i = sg.var("i", dtype="int64")
    with pytest.raises(sg.SymgraphError, match="'i'.*int64"):
        sg.evaluate(i * 2, {i: 1.5})
    assert sg.evaluate(i * 2, {i: 3}) == 6


def test_numpy_errors_inside_ops_name_the_node(graph):
    A = sg.var("A", shape=(2, None))
    B = sg.var("B", shape=(None, 2))
    with pytest.raises(sg.SymgraphError, match=r"A @ B.*matmul"):
        sg.evaluate(A @ B, {A: np.ones((2, 3)), B: np.ones((4, 2))})


def test_nan_and_inf_propagate_and_check_finite_names_the_node(graph):
    x = sg.var("x")
    y = sg.exp(sg.log(x) * 2) + 1
    assert np.isnan(sg.evaluate(y, {x: -1.0}))
    with pytest.raises(sg.SymgraphError, match=r"'log\(x\)'.*nan"):
        sg.evaluate(y, {x: -1.0}, check_finite=True)
    with pytest.raises(sg.SymgraphError, match="'x'.*inf"):
        sg.evaluate(y, {x: np.inf}, check_finite=True)
    assert sg.evaluate(y, {x: 2.0}, check_finite=True) == pytest.approx(5.0)


def test_results_are_arrays_and_outputs_may_repeat(graph):
    x = sg.var("x")
    a, b = sg.evaluate([x, x], {x: 2})
    assert isinstance(a, np.ndarray) and a.shape == () and a.dtype == np.float64
    assert a == b == 2.0
    c = sg.evaluate(sg.const(np.arange(3.0)), {})
    assert c.tolist() == [0.0, 1.0, 2.0]


class _Tracked(np.ndarray):
    """An array whose lifetime a test can watch through a weak reference."""


def test_intermediate_values_are_freed_after_last_use(graph):
    import weakref

    refs: list = []
    alive_at_probe: list = []

    def track(x):
        out = np.array(x).view(_Tracked)
        refs.append(weakref.ref(out))
        return out

    def probe(x):
        gc.collect()
        alive_at_probe.append([r() is not None for r in refs])
        return x

    tracked = sg.define_op("test_tracked", track, vjp=[lambda g, out: g])
    probing = sg.define_op("test_probe", probe, vjp=[lambda g, out: g])
    x = sg.var("x", shape=(1000,))
    a = tracked(x)          # last used by sin(a)
    b = tracked(sg.sin(a))  # last used by the probe
    y = sg.sum(probing(b))
    sg.evaluate(y, {x: np.ones(1000)})
    assert alive_at_probe == [[False, True]]  # a was freed before the probe ran
    gc.collect()
    assert [r() for r in refs] == [None, None]  # nothing kept after evaluate returns


def test_compile_matches_evaluate_and_checks_arguments(graph, rng):
    W = sg.var("W", shape=(3, 4))
    v = sg.var("v", shape=(4,))
    loss = sg.sum(sg.tanh(W @ v) ** 2)
    dW, dv = sg.grad(loss, [W, v])
    f = sg.compile([loss, dW, dv], [W, v])
    Wv, vv = rng.standard_normal((3, 4)), rng.standard_normal(4)
    for got, expected in zip(f(Wv, vv), sg.evaluate([loss, dW, dv], {W: Wv, v: vv})):
        np.testing.assert_allclose(got, expected, rtol=1e-14)
    with pytest.raises(sg.SymgraphError, match="takes 2"):
        f(Wv)
    with pytest.raises(sg.ShapeError, match="'v'"):
        f(Wv, np.ones(5))
    with pytest.raises(sg.MissingFeedError, match="'v'"):
        sg.compile(loss, [W])


def test_threads_evaluate_and_compile_while_another_builds(graph, rng):
    x = sg.var("x", shape=(8,))
    y = sg.sum(sg.sin(x) * x)
    dy = sg.grad(y, x)
    xv = rng.standard_normal(8)
    expected = sg.evaluate(dy, {x: xv})

    def reader() -> None:
        f = sg.compile(dy, [x])
        for _ in range(300):
            np.testing.assert_allclose(f(xv), expected)
            np.testing.assert_allclose(sg.evaluate(dy, {x: xv}), expected)

    def builder(stop: threading.Event) -> None:
        z = x
        while not stop.is_set():
            z = sg.tanh(z * 1.01)
            sg.grad(sg.sum(z), x)

    errors = run_while_building(reader, 3, builder)
    assert not errors, errors[0]
    ids = [n.id for n in graph.nodes]
    assert ids == list(range(len(ids)))


# --- check_grad -------------------------------------------------------------------------------


def test_check_grad_passes_correct_rules_and_reports_per_input(graph):
    x, y = sg.var("x"), sg.var("y", shape=(2,))
    f = sg.sum(sg.sin(x * y) / (1 + y * y))
    error = sg.check_grad(f, [x, y], {x: 0.3, y: [1.0, -2.0]}, order=3)
    assert error < 1e-5
    assert set(error.per_input) == {"x", "y"}


def test_check_grad_catches_a_wrong_first_derivative(graph):
    wrong = sg.define_op("test_wrong_sin", np.sin, vjp=[lambda g, out: g * sg.sin(out.inputs[0])])
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match="respect to x does not match"):
        sg.check_grad(wrong(x) * 2, x, {x: 0.7})


def test_a_failed_check_grad_leaves_the_graph_as_it_was(graph):
    wrong = sg.define_op("test_wrong_cube", lambda x: x**3, elementwise=True,
                         vjp=[lambda g, out: g * 2 * out.inputs[0]])
    x = sg.var("x", shape=(3,))
    y, z = sg.sum(wrong(x)), sg.sum(sg.exp(x))
    before = len(graph)
    with pytest.raises(sg.SymgraphError, match="does not match"):
        sg.check_grad(y, x, {x: np.array([0.5, 1.0, 2.0])})
    assert len(graph) == before
    # at exp(800) differences say nothing: the message says so, not "check the rules"
    with pytest.raises(sg.SymgraphError, match="not finite near them along x.*another point"):
        sg.check_grad(z, x, {x: np.full(3, 800.0)})
    assert len(graph) == before


def test_check_grad_catches_a_wrong_second_derivative(graph):
    # First derivative right, but written through stop_gradient: its own derivative is lost.
    frozen = sg.define_op(
        "test_frozen_square", np.square,
        vjp=[lambda g, out: g * 2 * sg.stop_gradient(out.inputs[0])],
    )
    x = sg.var("x")
    assert sg.check_grad(frozen(x), x, {x: 0.7}, order=1) < 1e-6
    with pytest.raises(sg.SymgraphError, match="order-2 derivative"):
        sg.check_grad(frozen(x), x, {x: 0.7}, order=2)


def test_check_grad_with_respect_to_an_intermediate_node(graph):
    x = sg.var("x")
    h = sg.exp(x)
    f = sg.sin(h) * h
    assert sg.check_grad(f, [h, x], {x: 0.2}, order=2) < 1e-5

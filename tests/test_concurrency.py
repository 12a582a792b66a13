"""Threads sharing one graph: evaluators, compilers and builders at the same time.

The contract (API.md): evaluating and compiling are safe from several threads, also while
another thread builds nodes or calls ``grad`` on the same graph. Every result is checked
against NumPy, ids must stay unique and dense, interning must still give one node per
expression. A short switch interval makes the interpreter interleave threads often.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

import symgraph as sg

BUDGET = 4.0  # seconds of hammering per test


@pytest.fixture(autouse=True)
def _interleave_often():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _run(workers: list, budget: float = BUDGET) -> list[BaseException]:
    """Run each ``worker(stop_event)`` in its own thread; return what they raised."""
    stop, errors = threading.Event(), []

    def wrap(fn):
        def run():
            try:
                fn(stop)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
                stop.set()
        return run

    threads = [threading.Thread(target=wrap(w), daemon=True) for w in workers]
    for t in threads:
        t.start()
    time.sleep(budget)
    stop.set()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a worker hung"
    return errors


def _check_graph_consistent(g: sg.Graph) -> None:
    nodes = g.nodes
    assert [n.id for n in nodes] == list(range(len(nodes))), "ids are not unique and dense"
    for n in nodes:
        assert all(i.id < n.id for i in n.inputs), "a node uses a later node"
    keys = [(n.op, tuple(i.id for i in n.inputs), repr(sorted(n.attrs.items())))
            for n in nodes if n.op not in ("var", "const")]
    assert len(keys) == len(set(keys)), "an expression was built twice (interning raced)"


def test_evaluate_and_compile_while_another_thread_builds_and_differentiates():
    g = sg.Graph()
    with g:
        w = sg.var("w", shape=(3,))
        x = sg.var("x", shape=(2,))
        f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
        dw, dx = sg.grad(f, [w, x])

    def expected(wv, xv):
        s = 1 / (1 + np.exp(-(wv[0] * xv[0] + wv[1] * xv[1] + wv[2])))
        return s, s * (1 - s) * np.array([xv[0], xv[1], 1.0]), s * (1 - s) * wv[:2]

    counts = {"evaluate": 0, "compile": 0, "build": 0}

    def evaluator(stop):
        rng = np.random.default_rng(threading.get_ident() % 2**32)
        while not stop.is_set():
            wv, xv = rng.standard_normal(3), rng.standard_normal(2)
            got = sg.evaluate([f, dw, dx], {w: wv, "x": xv})
            for a, b in zip(got, expected(wv, xv)):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
            counts["evaluate"] += 1

    def compiler(stop):
        rng = np.random.default_rng(7)
        while not stop.is_set():
            fn = sg.compile([f, dw, dx], [w, x])
            wv, xv = rng.standard_normal(3), rng.standard_normal(2)
            for a, b in zip(fn(wv, xv), expected(wv, xv)):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
            counts["compile"] += 1

    def builder(stop):
        k = 0
        while not stop.is_set():
            k += 1
            with g:  # the default graph is per thread (a contextvar)
                h = sg.tanh(w * (0.001 * k)).sum() * x.sum()
                d2 = sg.grad(sg.grad(h, x).sum(), w)  # a second-order derivative
                wv, xv = np.arange(3.0), np.array([1.0, 2.0])
                a = 0.001 * k
                want = 2.0 * a * (1 - np.tanh(a * wv) ** 2)  # x has 2 elements
                np.testing.assert_allclose(sg.evaluate(d2, {w: wv, x: xv}), want, rtol=1e-12)
            counts["build"] += 1

    errors = _run([evaluator, evaluator, compiler, builder])
    assert not errors, errors[0]
    assert min(counts.values()) > 5, counts
    _check_graph_consistent(g)


def test_many_threads_differentiating_at_once():
    """Concurrent grad calls: each gets its own call id and a correct result."""
    g = sg.Graph()
    with g:
        x = sg.var("x", shape=(4,))
        base = sg.sum(sg.sin(x) * x)
    results: dict[int, list] = {}

    def worker(stop):
        k = 0
        mine = threading.get_ident()
        while not stop.is_set() and k < 200:
            k += 1
            y = base * float(k % 7 + 1)
            d = sg.grad(y, x)
            hv = sg.hvp(y, x, np.ones(4))
            xv = np.linspace(-1, 1, 4)
            dv, hvv = sg.evaluate([d, hv], {x: xv})
            c = k % 7 + 1
            np.testing.assert_allclose(dv, c * (np.cos(xv) * xv + np.sin(xv)), rtol=1e-12)
            np.testing.assert_allclose(hvv, c * (2 * np.cos(xv) - xv * np.sin(xv)), rtol=1e-12)
            results.setdefault(mine, []).append(d.grad_call)

    errors = _run([worker] * 4, budget=2.0)
    assert not errors, errors[0]
    assert sum(len(v) for v in results.values()) > 20
    _check_graph_consistent(g)


def test_failed_grad_in_one_thread_does_not_hurt_others():
    """A grad that fails rolls back only when nothing else was built meanwhile; either way
    the graph stays consistent and the other threads' results are right."""
    def broken(g, out):
        raise RuntimeError("deliberately broken rule")

    bad = sg.define_op("concurrency_broken", np.cos, vjp=[broken])
    g = sg.Graph()
    with g:
        x = sg.var("x")
        y_bad = bad(x) * x
    failures = []

    def failing(stop):
        while not stop.is_set():
            with pytest.raises(sg.SymgraphError, match="deliberately broken"):
                sg.grad(y_bad, x)
            failures.append(1)

    def working(stop):
        k = 0
        while not stop.is_set():
            k += 1
            y = sg.exp(x * (k % 5 + 1.0))
            d = sg.grad(y, x)
            c = k % 5 + 1.0
            assert float(sg.evaluate(d, {x: 0.5})) == pytest.approx(c * np.exp(0.5 * c))

    errors = _run([failing, working, working], budget=2.0)
    assert not errors, errors[0]
    assert failures
    _check_graph_consistent(g)


def test_failed_op_calls_never_drop_another_threads_nodes():
    """Op calls that fail (a constant of the wrong shape, made then forgotten) in two
    threads while two others build in the same graph: every node a builder holds stays in
    the graph at its id with the right value, and the graph stays consistent."""
    g = sg.Graph()
    with g:
        x = sg.var("x", shape=(3,))
        y = sg.var("y", shape=(4,))
    kept: list = []
    failures = []

    def failing(stop):
        k, me = 0, threading.get_ident() % 1000  # constants no other thread makes
        while not stop.is_set():
            k += 1
            with g:
                with pytest.raises(sg.ShapeError):
                    x + np.full(4, -1.0 - k - 1e4 * me)
                with pytest.raises(sg.ShapeError):
                    sg.concatenate([x, np.full((2, 2), -1.0 - k - 1e4 * me)])
            failures.append(1)

    def building(stop):
        k, mine = 0, []
        while not stop.is_set():
            k += 1
            with g:
                z = sg.tanh(y * (0.001 * k)) + np.full(4, 0.5)
            got = sg.evaluate(z, {y: np.arange(4.0)})
            np.testing.assert_allclose(got, np.tanh(np.arange(4.0) * 0.001 * k) + 0.5)
            mine.append((k, z))
        kept.extend(mine)

    errors = _run([failing, failing, building, building], budget=2.0)
    assert not errors, errors[0]
    assert failures and kept
    _check_graph_consistent(g)
    nodes = g.nodes
    for k, z in kept:
        assert all(nodes[n.id] is n for n in sg.ancestors([z])), "a builder's node was dropped"
    k, z = kept[-1]
    np.testing.assert_allclose(sg.evaluate(z, {y: np.ones(4)}), np.tanh(0.001 * k) + 0.5)

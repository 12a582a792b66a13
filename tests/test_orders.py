"""Derivative orders never depend on unrelated earlier work, and `with graph:` is per thread.

A node reached again takes the lowest of its orders (../shared/API.md, "Derivatives").
"""

import threading

import numpy as np
import pytest

import symgraph as sg


def _op_orders(outputs):
    """{formula: order} of every op node (not inputs or constants) the outputs need."""
    return {(n.op, str(n)): n.order for n in sg.ancestors(outputs) if n.op not in ("var", "const")}


def _f_and_derivatives(x):
    f = 2 * x**3
    d1 = sg.grad(f, x)
    return [f, d1, sg.grad(d1, x)]


def _unrelated_higher_derivatives():
    z = sg.var("z")
    t = z**4
    for _ in range(3):
        t = sg.grad(t, z)
    w = sg.var("w", shape=(2,))
    y = sg.sum(w**3) * 4
    for _ in range(3):
        y = sg.sum(sg.grad(y, w))


def test_orders_of_f_and_its_derivatives_ignore_earlier_derivatives():
    with sg.Graph():
        fresh = _op_orders(_f_and_derivatives(sg.var("x")))
    with sg.Graph():
        _unrelated_higher_derivatives()
        outs = _f_and_derivatives(sg.var("x"))
        after = _op_orders(outs)
        assert [o.order for o in outs] == [0, 1, 2]
        by_order = sg.stats(outs)["by_order"]
    assert after == fresh
    assert set(fresh.values()) == {0, 1, 2}
    with sg.Graph():
        assert sg.stats(_f_and_derivatives(sg.var("x")))["by_order"] == by_order


def test_hessian_orders_ignore_earlier_derivatives():
    def hess():
        v = sg.var("v", shape=(2,))
        return sg.hessian(sg.sum(sg.sin(v) * v**3), v)

    with sg.Graph():
        fresh = _op_orders([hess()])
    with sg.Graph():
        _unrelated_higher_derivatives()
        h = hess()
        after = _op_orders([h])
        assert h.order == 2
    assert after == fresh
    assert max(fresh.values()) == 2


def test_a_derivative_constant_reached_by_a_user_expression_becomes_order_zero():
    with sg.Graph():
        x = sg.var("x")
        d3 = sg.grad(sg.grad(sg.grad(x**4, x), x), x)  # 24*x: a constant 24 of order 3
        (c,) = [n for n in sg.ancestors([d3]) if n.op == "const" and n.attrs["value"] == 24]
        assert c.order == 3
        y = x * 24  # the user's own 24 is that node
        assert y.inputs[1] is c and c.order == 0 and y.order == 0
        assert float(sg.evaluate(d3, {x: 2.0})) == 48.0


def test_with_graph_in_two_threads_at_once():
    """Each thread restores its own default graph (the tokens used to be shared)."""
    g = sg.Graph()
    barrier = threading.Barrier(2)
    errors, seen = [], {}

    def worker(name, first):
        try:
            before = sg.get_default_graph()
            with g:
                barrier.wait()
                if first:  # leave while the other thread is still inside
                    barrier.wait()
                else:
                    barrier.wait()
                    barrier.wait()
                sg.var(name)
            if first:
                barrier.wait()
            seen[name] = sg.get_default_graph() is before and before is not g
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(n, n == "a")) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert seen == {"a": True, "b": True}
    assert {n.name for n in g.nodes} == {"a", "b"}


def test_nested_with_restores_each_level():
    outer, inner = sg.Graph(), sg.Graph()
    with outer:
        with inner:
            assert sg.get_default_graph() is inner
        assert sg.get_default_graph() is outer
        with pytest.raises(sg.SymgraphError, match="without a matching"):
            sg.Graph().__exit__(None, None, None)
    np.testing.assert_equal(sg.get_default_graph() is outer, False)


def test_const_goes_to_the_graph_it_is_given_even_an_empty_one():
    empty = sg.Graph()
    with sg.Graph() as other:
        c = sg.const(1.5, graph=empty)
    assert c.graph is empty and len(other) == 0 and len(empty) == 1


def test_vmap_of_a_derivative_keeps_its_order():
    """Per-example gradients and Hessians (vmap of grad, of hessian) are derivatives of
    orders 1 and 2, as without vmap; they came out as order 0, drawn as user nodes."""
    with sg.Graph():
        X, w = sg.var("X", shape=(4, 3)), sg.var("w", shape=(3,))
        one = sg.grad(sg.sum(sg.sin(X[0] * w)), w)
        per_example = sg.vmap(lambda x: sg.grad(sg.sum(sg.sin(x * w)), w))(X)
        hessians = sg.vmap(lambda x: sg.hessian(sg.sum(sg.sin(x * w)), w))(X)
        assert one.order == per_example.order == 1 and hessians.order == 2
        assert max(sg.stats(per_example)["by_order"]) == 1
        assert max(sg.stats(hessians)["by_order"]) == 2
        xv, wv = np.arange(12.0).reshape(4, 3) / 7, np.array([0.3, -0.2, 0.5])
        got = sg.evaluate(per_example, {X: xv, w: wv})
        np.testing.assert_allclose(got, np.cos(xv * wv) * xv, rtol=1e-14)

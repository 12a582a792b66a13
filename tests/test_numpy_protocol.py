"""NumPy's functions called on nodes build nodes: np.sin(x), np.float64(2) * x, np.sum(v).

What NumPy cannot do with a symbol (out=, np.add.reduce, a ufunc symgraph has no op for,
np.asarray) raises a SymgraphError naming the node, never NumPy's TypeError.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg

A = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]])


def test_ufuncs_build_the_op_of_the_same_numpy_function():
    with sg.Graph():
        x, v = sg.var("x"), sg.var("v", (2, 3))
        assert np.sin(x) is sg.sin(x) and np.abs(x) is sg.abs(x)  # np.abs is np.absolute
        assert np.mod(x, 2.0) is sg.mod(x, 2.0) and np.float64(2) * x is 2 * x
        outs = [np.exp(v), np.maximum(v, 0.0), np.ones(3) + v, np.arctan2(v, 2.0),
                np.greater(v, 0.0), np.power(np.abs(v), 1.5), np.negative(v)]
        got = sg.evaluate(outs, {v: A})
    want = [np.exp(A), np.maximum(A, 0.0), np.ones(3) + A, np.arctan2(A, 2.0), A > 0,
            np.abs(A) ** 1.5, -A]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_numpy_reductions_and_shape_functions_call_the_node_methods():
    with sg.Graph():
        v = sg.var("v", (2, 3))
        outs = [np.sum(v), np.mean(v, 0), np.max(v), np.min(v, axis=1, keepdims=True),
                np.prod(v), np.std(v), np.var(v, ddof=1), np.argmax(v), np.cumsum(v, 1),
                np.clip(v, 0, 1), np.reshape(v, (3, 2)), np.sum(v, dtype="float32")]
        got = sg.evaluate(outs, {v: A})
        grad = sg.evaluate(sg.grad(np.sum(np.sin(v)), v), {v: A})
    want = [np.sum(A), np.mean(A, 0), np.max(A), np.min(A, axis=1, keepdims=True), np.prod(A),
            np.std(A), np.var(A, ddof=1), np.argmax(A), np.cumsum(A, 1), np.clip(A, 0, 1),
            np.reshape(A, (3, 2)), np.sum(A, dtype="float32")]
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype and np.array_equal(g, w)
    np.testing.assert_allclose(grad, np.cos(A))


@pytest.mark.parametrize("call, part", [
    (lambda x, v: np.add.reduce(v), "np.add.reduce cannot take the symbolic node 'v'"),
    (lambda x, v: np.cbrt(x), "np.cbrt cannot take the symbolic node 'x' (shape ()); symgraph has no op"),
    (lambda x, v: np.sin(x, where=True), "call sg.sin(...) without where"),
    (lambda x, v: np.sum(v, out=np.zeros(())), "the node 'v' takes no out="),
    (lambda x, v: np.reshape(v, 6, order="F"), "takes no order='F'"),
    (lambda x, v: np.asarray(x), "'x' is a symbol, not an array"),
])
def test_what_numpy_cannot_do_with_a_symbol_says_so(call, part):
    with sg.Graph() as graph:
        x, v = sg.var("x"), sg.var("v", (2, 3))
        before = len(graph)
        with pytest.raises(sg.SymgraphError) as error:
            call(x, v)
        assert part in str(error.value) and len(graph) == before

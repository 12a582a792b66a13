"""NumPy's functions called on nodes build nodes: np.sin(x), np.float64(2) * x, np.sum(v).

What NumPy cannot do with a symbol (out=, np.add.reduce, a ufunc symgraph has no op for,
np.asarray) raises a SymgraphError naming the node, never NumPy's TypeError.
"""

from __future__ import annotations

import io

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
                np.greater(v, 0.0), np.power(np.abs(v), 1.5), np.negative(v),
                np.not_equal(v, A[0, 0])]  # (an op without a constructor: AttributeError)
        got = sg.evaluate(outs, {v: A})
    want = [np.exp(A), np.maximum(A, 0.0), np.ones(3) + A, np.arctan2(A, 2.0), A > 0,
            np.abs(A) ** 1.5, -A, A != A[0, 0]]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)


def test_numpy_reductions_and_shape_functions_call_the_node_methods():
    with sg.Graph():
        v = sg.var("v", (2, 3))
        outs = [np.sum(v), np.mean(v, 0), np.max(v), np.min(v, axis=1, keepdims=True),
                np.prod(v), np.std(v), np.var(v, ddof=1), np.argmax(v), np.cumsum(v, 1),
                np.clip(v, 0, 1), np.reshape(v, (3, 2)), np.sum(v, dtype="float32"),
                np.all(v > 0, axis=1), np.any(v > 2), (v < 0).any(0, keepdims=True),
                v.all(), sg.all(v - v), np.amax(v, axis=0), np.amin(v), np.around(v, 1)]
        got = sg.evaluate(outs, {v: A})
        grad = sg.evaluate(sg.grad(np.sum(np.sin(v)), v), {v: A})
    want = [np.sum(A), np.mean(A, 0), np.max(A), np.min(A, axis=1, keepdims=True), np.prod(A),
            np.std(A), np.var(A, ddof=1), np.argmax(A), np.cumsum(A, 1), np.clip(A, 0, 1),
            np.reshape(A, (3, 2)), np.sum(A, dtype="float32"), np.all(A > 0, axis=1),
            np.any(A > 2), (A < 0).any(0, keepdims=True), A.all(), np.all(A - A),
            np.amax(A, axis=0), np.amin(A), np.around(A, 1)]
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype and np.array_equal(g, w)
    np.testing.assert_allclose(grad, np.cos(A))


def test_ndarray_methods_and_numpy_functions_of_a_node_equal_numpy():
    M = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4], [2.2, 0.1, 0.9]])
    with sg.Graph():
        v, m = sg.var("v", (2, 3)), sg.var("m", (3, 3))
        outs = [v.transpose(), v.transpose(1, 0), v.transpose((1, 0)), v.mT, v.flatten(),
                v.swapaxes(0, 1), v.repeat(2, axis=1), m.diagonal(1), m.trace(), v.dot(m),
                v.round(1), v.sort(0), v.argsort(), v.take([2, 0], axis=1),
                np.transpose(v), np.ravel(v), np.trace(m), np.diagonal(m, -1), np.sort(v),
                np.argsort(v, kind="stable"), np.round(v, 1), np.swapaxes(v, 0, 1),
                np.repeat(v, 2), np.take(v, [1, 4]), np.reshape(v, shape=(3, 2)),
                np.dot(v, M), np.squeeze(v[:1])]
        got = sg.evaluate(outs, {v: A, m: M})
        # the derivative of the whole lot, against NumPy's value of the same sum's gradient
        total = sum(sg.sum(o) for o in outs if o.dtype.kind == "f" and o.op != "round")
        grads = sg.evaluate(sg.grad(total, [v, m]), {v: A, m: M})
    want = [A.transpose(), A.transpose(1, 0), A.transpose((1, 0)), A.mT, A.flatten(),
            A.swapaxes(0, 1), A.repeat(2, axis=1), M.diagonal(1), M.trace(), A.dot(M),
            A.round(1), np.sort(A, 0), np.argsort(A, kind="stable"), A.take([2, 0], axis=1),
            np.transpose(A), np.ravel(A), np.trace(M), np.diagonal(M, -1), np.sort(A),
            np.argsort(A, kind="stable"), np.round(A, 1), np.swapaxes(A, 0, 1), np.repeat(A, 2),
            np.take(A, [1, 4]), np.reshape(A, (3, 2)), np.dot(A, M), np.squeeze(A[:1])]
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype and np.array_equal(g, w)
    assert (v.size, v.ndim, np.shape(v), np.ndim(v), np.size(v)) == (6, 2, (2, 3), 2, 6)
    # d/dv and d/dm of that sum, by finite differences of NumPy's own functions
    def numpy_total(a, b):
        parts = [a.T, a.T, a.T, a.mT, a.flatten(), a.swapaxes(0, 1), a.repeat(2, axis=1),
                 b.diagonal(1), b.trace(), a @ b, np.sort(a, 0), a.take([2, 0], axis=1),
                 a.T, a.ravel(), b.trace(), b.diagonal(-1), np.sort(a), a.swapaxes(0, 1),
                 a.repeat(2), a.take([1, 4]), a.reshape(3, 2), a @ M, a[:1].squeeze()]
        return sum(np.sum(p) for p in parts)
    for k, (x0, other) in enumerate([(A, M), (M, A)]):
        fd = np.zeros_like(x0)
        for idx in np.ndindex(x0.shape):
            e = np.zeros_like(x0)
            e[idx] = 1e-6
            up, down = ((x0 + e, other), (x0 - e, other)) if k == 0 else \
                ((other, x0 + e), (other, x0 - e))
            fd[idx] = (numpy_total(*up) - numpy_total(*down)) / 2e-6
        np.testing.assert_allclose(grads[k], fd, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("call, part", [
    (lambda x, v: np.linalg.pinv(v), "numpy.linalg.pinv does not build symgraph nodes (called "
     "on the node 'v'); symgraph has no sg.linalg.pinv"),
    (lambda x, v: np.save(io.BytesIO(), v), "sg.save is symgraph's, not declared to be NumPy's"),
    (lambda x, v: np.convolve(v, v), "symgraph has no sg.convolve"),
    (lambda x, v: np.take(v, [0], mode="fill"), "mode='fill' is not one of NumPy's"),
    (lambda x, v: np.argsort(v, order="f"), "takes no sort order='f'"),
    (lambda x, v: v.sort(kind="bogus"), "sorts with no kind='bogus'"),
    (lambda x, v: x.mT, "mT swaps the last two"),
    (lambda x, v: np.round(v, 1, np.zeros((2, 3))), "pass NumPy's arguments of ndarray.round"),
    (lambda x, v: np.add.reduce(v), "np.add.reduce cannot take the symbolic node 'v'"),
    (lambda x, v: np.spacing(x), "np.spacing cannot take the symbolic node 'x' (shape ()); symgraph has no op"),
    (lambda x, v: np.sin(x, where=True), "call sg.sin(...) without where"),
    (lambda x, v: np.sum(v, out=np.zeros(())), "the node 'v' takes no out="),
    (lambda x, v: np.reshape(v, 6, order="F"), "reshape of 'v' (shape (2, 3)): order='F' is "
     "not supported, nodes are read in C (row-major) order; leave order out, or for NumPy's "
     "order='F' write sg.reshape(x.T, shape[::-1]).T"),
    (lambda x, v: sg.reshape(v, (3, 2), order="F"), "order='F' is not supported"),
    (lambda x, v: v.reshape(3, 2, order="A"), "reshape of 'v' (shape (2, 3)): order='A'"),
    # sg.ravel raised Python's TypeError for order=
    (lambda x, v: sg.ravel(v, order="F"), "ravel of 'v' (shape (2, 3)): order='F' is not "
     "supported, nodes are read in C (row-major) order; leave order out, or for NumPy's "
     "order='F' write sg.ravel(x.T)"),
    (lambda x, v: np.ravel(v, order="K"), "ravel of 'v' (shape (2, 3)): order='K'"),
    (lambda x, v: v.flatten("F"), "write sg.ravel(x.T)"),
    (lambda x, v: np.asarray(x), "'x' is a symbol, not an array"),
])
def test_what_numpy_cannot_do_with_a_symbol_says_so(call, part):
    with sg.Graph() as graph:
        x, v = sg.var("x"), sg.var("v", (2, 3))
        before = len(graph)
        with pytest.raises(sg.SymgraphError) as error:
            call(x, v)
        assert part in str(error.value) and len(graph) == before


def test_sorts_take_numpys_stable_keyword():
    ties = np.array([[2.0, 1.0, 2.0, 1.0], [0.5, 0.5, -1.0, 0.5]])
    with sg.Graph():
        v = sg.var("v", (2, 4))
        outs = [np.sort(v, stable=True), np.argsort(v, stable=True), v.argsort(stable=False),
                np.sort(v, axis=0, stable=None)]
        got = sg.evaluate(outs, {v: ties})
        with pytest.raises(sg.SymgraphError, match="stable='yes'"):
            np.sort(v, stable="yes")
    want = [np.sort(ties, stable=True), np.argsort(ties, stable=True),
            np.argsort(ties, stable=True), np.sort(ties, axis=0)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)

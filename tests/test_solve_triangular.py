"""sg.linalg.solve_triangular: SciPy's and JAX's signature and values (against a
substitution written here), the gradient confined to the triangle read, second
derivatives and jvp against finite differences, every backend, and refusals."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg

L = sg.linalg


def substitute(a, b, lower, unit):
    """Forward/back substitution of one matrix ``a`` (the oracle: no LAPACK)."""
    n = a.shape[0]
    x = np.array(b, dtype=float)
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        done = list(range(i)) if lower else list(range(i + 1, n))
        x[i] = x[i] - a[i, done] @ x[done]
        if not unit:
            x[i] = x[i] / a[i, i]
    return x


def reference(a, b, trans, lower, unit):
    if trans in (1, "T", 2, "C"):
        a, lower = a.T, not lower
    return substitute(a, b, lower, unit)


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("trans", [0, "T", 2])
@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize("b_shape", [(4,), (4, 3)])
def test_values_match_substitution_reading_one_triangle(lower, trans, unit, b_shape, graph, rng):
    A = rng.normal(size=(4, 4)) + 4 * np.eye(4)
    B = rng.normal(size=b_shape)
    a, b = sg.var("a", shape=(4, 4)), sg.var("b", shape=b_shape)
    x = L.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    got = sg.evaluate(x, {a: A, b: B})
    np.testing.assert_allclose(got, reference(A, B, trans, lower, unit), rtol=1e-12, atol=1e-13)
    junk = A + 100 * (np.triu(np.ones((4, 4)), 1) if lower else np.tril(np.ones((4, 4)), -1))
    if unit:
        junk = junk + 50 * np.eye(4)
    np.testing.assert_allclose(sg.evaluate(x, {a: junk, b: B}), got, rtol=1e-12, atol=1e-13)


def test_a_batch_of_matrices_broadcasts_as_solve(graph, rng):
    A = rng.normal(size=(2, 3, 3)) + 3 * np.eye(3)
    B = rng.normal(size=(3, 2))
    a, b = sg.var("a", shape=(2, 3, 3)), sg.var("b", shape=(3, 2))
    x = L.solve_triangular(a, b, lower=True)
    got = sg.evaluate(x, {a: A, b: B})
    assert got.shape == (2, 3, 2)
    for i in range(2):
        np.testing.assert_allclose(got[i], substitute(A[i], B, True, False), rtol=1e-12)


@pytest.mark.parametrize("lower,unit", [(True, False), (False, True)])
def test_gradient_lies_in_the_triangle_read_and_checks_to_second_order(lower, unit, graph, rng):
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    B = rng.normal(size=(3, 2))
    a, b = sg.var("a", shape=(3, 3)), sg.var("b", shape=(3, 2))
    x = L.solve_triangular(a, b, lower=lower, unit_diagonal=unit, trans=1)
    y = sg.sum(sg.sin(x))
    ga = sg.evaluate(sg.grad(y, a), {a: A, b: B})
    read = np.tril(np.ones((3, 3)), -1 if unit else 0)
    read = read if lower else read.T
    assert np.all(ga[read == 0] == 0) and np.all(ga[read == 1] != 0)
    feeds = {a: A, b: B}
    for order in (1, 2):
        assert sg.check_grad(y, [a, b], feeds, order=order) < 1e-5


def test_jvp_matches_finite_differences(graph, rng):
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    B, T = rng.normal(size=3), rng.normal(size=(3, 3))
    a, b = sg.var("a", shape=(3, 3)), sg.var("b", shape=(3,))
    x = L.solve_triangular(a, b, lower=True)
    t = sg.var("t", shape=(3, 3))
    got = sg.evaluate(sg.jvp(x, a, t), {a: A, b: B, t: T})
    h = 1e-6
    fd = (substitute(A + h * T, B, True, False) - substitute(A - h * T, B, True, False)) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("backend", ["python", "numpy", "numba", "jax", "dask"])
def test_every_backend_equals_evaluate(backend, rng):
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    B = rng.normal(size=(3, 2))
    with sg.Graph():
        a, b = sg.var("a", shape=(3, 3)), sg.var("b", shape=(3, 2))
        x = L.solve_triangular(a, b, lower=True)
        outs = [x, sg.grad(sg.sum(x * x), a)]
        want = sg.evaluate(outs, {a: A, b: B})
        got = sg.compile(outs, [a, b], backend=backend)(A, B)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, atol=1e-14)


def test_refusals_and_a_zero_on_the_diagonal(graph):
    a, b = sg.var("a", shape=(2, 2)), sg.var("b", shape=(2,))
    with pytest.raises(sg.SymgraphError, match="trans='X' is not one of"):
        L.solve_triangular(a, b, trans="X")
    with pytest.raises(sg.ShapeError, match="solve_triangular of 'v'.*needs a matrix"):
        L.solve_triangular(sg.var("v", shape=(2,)), b)
    with pytest.raises(sg.ShapeError, match="solve_triangular.*needs square"):
        L.solve_triangular(sg.var("r", shape=(2, 3)), b)
    x = L.solve_triangular(a, b, lower=True)
    with pytest.raises(sg.SymgraphError, match="singular"):
        sg.evaluate(x, {a: [[1.0, 0.0], [2.0, 0.0]], b: [1.0, 1.0]})
    unit = L.solve_triangular(a, b, lower=True, unit_diagonal=True)  # the zero is not read
    np.testing.assert_allclose(sg.evaluate(unit, {a: [[0.0, 9.0], [2.0, 0.0]], b: [1.0, 1.0]}),
                               [1.0, -1.0])

"""sg.linalg beyond the registry's cases: NumPy's semantics and signatures, analytic
derivatives, the shared decomposition node, NaN/inf input, and every refusal."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops import factor, spectral

L = sg.linalg
NAMES = ["cholesky", "det", "eigh", "inv", "norm", "qr", "slogdet", "solve",
         "solve_triangular", "svd"]


def spd(rng, *shape):
    a = rng.uniform(-1, 1, shape)
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(shape[-1])


def both(outputs, inputs, values):
    """evaluate and compile (python backend) of the same outputs, checked equal."""
    got = sg.evaluate(outputs, dict(zip(inputs, values)))
    compiled = sg.compile(outputs, inputs)(*values)
    for e, c in zip(got if isinstance(got, list) else [got],
                    compiled if isinstance(compiled, list) else [compiled]):
        np.testing.assert_allclose(c, e, rtol=1e-12, atol=1e-14)
    return got


def test_the_namespace_holds_the_ten_names_and_the_top_level_none():
    assert sorted(L.__all__) == NAMES
    assert all(callable(getattr(L, n)) for n in NAMES)
    assert factor.__all__ == [] and spectral.__all__ == []
    assert not any(hasattr(sg, n) for n in ["cholesky", "eigh", "slogdet", "svd", "qr", "inv"])


# --- NumPy's semantics -----------------------------------------------------------------------


@pytest.mark.parametrize("a_shape,b_shape", [
    ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (3, 4)),
    ((3, 3), (2, 3, 2)), ((2, 1, 3, 3), (4, 3, 1)),
])
def test_solve_shapes_and_values_follow_numpy_2(a_shape, b_shape, graph, rng):
    A, B = spd(rng, *a_shape), rng.normal(size=b_shape)
    a, b = sg.var("a", shape=a_shape), sg.var("b", shape=b_shape)
    x = L.solve(a, b)
    expected = np.linalg.solve(A, B)
    assert x.shape == expected.shape
    np.testing.assert_allclose(both(x, [a, b], [A, B]), expected, rtol=1e-12)
    assert sg.check_grad(sg.sum(x * x), [a, b], {a: A, b: B}, order=2) < 1e-6


def test_solve_takes_a_2d_b_as_matrices_as_numpy_2_does(graph):
    # NumPy 2: b of shape (2, 3) against a (2, 3, 3) is one (M=2, K=3) matrix: no fit
    a, b = sg.var("a", shape=(2, 3, 3)), sg.var("b", shape=(2, 3))
    with pytest.raises(ValueError):
        np.linalg.solve(np.ones((2, 3, 3)), np.ones((2, 3)))
    with pytest.raises(sg.ShapeError, match="'b'.*matrix"):
        L.solve(a, b)
    with pytest.raises(sg.ShapeError, match="scalar"):
        L.solve(sg.var("c", shape=(3, 3)), 1.0)


def test_results_are_numpys_named_tuples_of_nodes(graph):
    a = sg.var("a", shape=(3, 2))
    u, s, vh = L.svd(a)
    assert L.svd(a).S is s and (u.shape, s.shape, vh.shape) == ((3, 3), (2,), (2, 2))
    assert L.svd(a, full_matrices=False).U.shape == (3, 2)
    assert isinstance(L.svd(a, compute_uv=False), sg.Node)
    q, r = L.qr(a)
    assert (q.shape, r.shape) == ((3, 2), (2, 2)) and L.qr(a, "r") is r
    sq = sg.var("sq", shape=(2, 3, 3))
    w, v = L.eigh(sq)
    assert L.eigh(sq).eigenvalues is w and L.eigh(sq).eigenvectors is v
    assert (w.shape, v.shape) == ((2, 3), (2, 3, 3))
    assert L.slogdet(sq).logabsdet.shape == (2,) and L.slogdet(sq).sign.shape == (2,)


def test_one_decomposition_node_feeds_every_result_and_derivative(graph):
    a = sg.var("a", shape=(3, 3))
    w, v = L.eigh(a)
    u, s, vh = L.svd(a)
    assert w.inputs[1] is v.inputs[1] and w.inputs[1].op == "eigh"
    assert u.inputs[1] is s.inputs[1] is vh.inputs[1]
    d = sg.grad(sg.sum(v * v * w) + sg.sum(u * u * s), a)
    by_op = sg.stats(d)["by_op"]
    assert by_op["eigh"] == 1 and by_op["svd"] == 1  # LAPACK runs once per decomposition


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_and_cholesky_read_one_triangle_as_numpy_does(uplo, graph, rng):
    A = rng.uniform(-0.5, 0.5, (3, 3)) + np.diag([0.0, 6.0, 12.0]) + 4 * np.eye(3)
    a = sg.var("a", shape=(3, 3))
    w, v = L.eigh(a, uplo)
    chol = L.cholesky(a, upper=uplo == "U")
    ew, ev = np.linalg.eigh(A, uplo)
    got_w, got_v, got_c = both([w, v, chol], [a], [A])
    np.testing.assert_allclose(got_w, ew, rtol=1e-12)
    np.testing.assert_allclose(got_v ** 2, ev ** 2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_c, np.linalg.cholesky(A, upper=uplo == "U"), rtol=1e-12)
    # the unread triangle gets exactly zero gradient
    unread = np.triu(np.ones((3, 3)), 1) if uplo == "L" else np.tril(np.ones((3, 3)), -1)
    for y in [sg.sum(w * w), sg.sum(chol * chol), sg.sum((v * w) @ v.T * v)]:
        assert np.all(sg.evaluate(sg.grad(y, a), {a: A})[unread == 1] == 0)
        assert sg.check_grad(y, a, {a: A}, order=2) < 1e-6


@pytest.mark.parametrize("shape", [(4,), (2, 3), (3, 2, 2)])
@pytest.mark.parametrize("ord_axis", [
    (None, None), (2, -1), (1, -1), (np.inf, 0), (-np.inf, -1), (3, -1), (0.5, 0), (-1.5, -1),
    ("fro", (-2, -1)), ("nuc", (-2, -1)), ("nuc", (-1, -2)), (2, (-2, -1)), (-2, (-1, -2)),
    (1, (-2, -1)), (1, (-1, -2)), (-1, (-2, -1)), (np.inf, (-2, -1)), (np.inf, (-1, -2)),
    (-np.inf, (-2, -1)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm_matches_numpy_and_finite_differences(shape, ord_axis, keepdims, graph, rng):
    ord, axis = ord_axis
    if isinstance(axis, tuple) and len(shape) < 2:
        return
    X = rng.uniform(0.2, 1.0, shape) * rng.choice([-1, 1], shape)  # away from |x| = 0
    X[..., 0] *= 1.7  # distinct magnitudes and sums: no ties for max/min
    x = sg.var("x", shape=shape)
    y = L.norm(x, ord, axis, keepdims)
    expected = np.linalg.norm(X, ord, axis, keepdims)
    got = both(y, [x], [X])
    assert got.shape == expected.shape == y.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    order = 1 if ord in (1, -1, np.inf, -np.inf) else 2  # piecewise linear in x
    assert sg.check_grad(sg.sum(y), x, {x: X}, order=order) < 1e-6


def test_norm_gradient_at_zero_is_zero_and_nan_inf_propagate(graph):
    x = sg.var("x", shape=(3,))
    n = L.norm(x)
    g = sg.grad(n, x)
    assert both(g, [x], [np.zeros(3)]).tolist() == [0.0, 0.0, 0.0]
    assert both(n, [x], [np.array([1.0, np.inf, 2.0])]) == np.inf
    assert np.isnan(both(n, [x], [np.array([1.0, np.nan, 2.0])]))


def test_norm_refuses_what_numpy_refuses(graph):
    x, m = sg.var("x", shape=(3,)), sg.var("m", shape=(2, 2, 2))
    with pytest.raises(sg.SymgraphError, match="ord=0 is not supported for vectors"):
        L.norm(x, 0)
    with pytest.raises(sg.SymgraphError, match="'fro' is not supported for vectors"):
        L.norm(x, "fro")
    with pytest.raises(sg.SymgraphError, match="ord=3 is not a matrix norm"):
        L.norm(m, 3, axis=(0, 1))
    with pytest.raises(sg.ShapeError, match="1-D or 2-D"):
        L.norm(m, 2)
    with pytest.raises(sg.ShapeError, match="names 3 axes"):
        L.norm(m, axis=(0, 1, 2))
    with pytest.raises(sg.ShapeError, match="repeats"):
        L.norm(m, axis=(1, 1))
    with pytest.raises(sg.SymgraphError, match="not a norm order"):
        L.norm(x, [2])
    assert L.norm(sg.var("i", shape=(2,), dtype="int64")).dtype == np.float64


# --- analytic derivatives --------------------------------------------------------------------


def test_second_derivative_of_log_det_is_minus_inverse_products(graph, rng):
    """d^2 log|det A| / dA_ij dA_kl = -(A^-1)_li (A^-1)_jk, for a non-symmetric A."""
    A = rng.uniform(-1, 1, (3, 3)) + np.diag([3.0, -3.0, 3.0])  # negative determinant
    a = sg.var("a", shape=(3, 3))
    sign, logdet = L.slogdet(a)
    H, G, s = sg.evaluate([sg.hessian(logdet, a), sg.grad(logdet, a), sign], {a: A})
    Ai = np.linalg.inv(A)
    assert s == -1.0
    np.testing.assert_allclose(G, Ai.T, rtol=1e-12)
    np.testing.assert_allclose(H, -np.einsum("li,jk->ijkl", Ai, Ai), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sg.evaluate(sg.grad(L.det(a), a), {a: A}),
                               np.linalg.det(A) * Ai.T, rtol=1e-12)
    assert np.all(sg.evaluate(sg.grad(sign * 1.0, a), {a: A}) == 0)  # sign passes none


def test_inverse_jacobian_is_minus_inverse_products(graph, rng):
    A = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
    a = sg.var("a", shape=(3, 3))
    J = sg.evaluate(sg.jacobian(L.inv(a), a), {a: A})
    Ai = np.linalg.inv(A)
    np.testing.assert_allclose(J, -np.einsum("ik,lj->ijkl", Ai, Ai), rtol=1e-10, atol=1e-12)


def test_eigenvalue_gradient_is_finite_at_repeated_eigenvalues(graph):
    a = sg.var("a", shape=(3, 3))
    w, _ = L.eigh(a)
    g = sg.grad(sg.sum(w * w), a)  # d tr(A^2) = 2A (its lower triangle folded)
    A = np.diag([2.0, 2.0, 5.0])
    np.testing.assert_allclose(both(g, [a], [A]), 2 * A, rtol=1e-12)


def test_svd_and_qr_reconstruct_and_their_gradients_check(graph, rng):
    for shape in [(3, 2), (2, 3), (2, 3, 3)]:
        with sg.Graph():
            A = rng.uniform(-1, 1, shape)
            a = sg.var("a", shape=shape)
            u, s, vh = L.svd(a, full_matrices=False)
            rebuilt = u @ (s[..., None] * vh)
            np.testing.assert_allclose(both(rebuilt, [a], [A]), A, rtol=1e-10, atol=1e-12)
            y = sg.sum(sg.sin(u @ vh)) + sg.sum(s ** 3)
            assert sg.check_grad(y, a, {a: A}, order=2) < 1e-5
            if shape[-2] >= shape[-1]:
                q, r = L.qr(a)
                np.testing.assert_allclose(both(q @ r, [a], [A]), A, rtol=1e-10, atol=1e-12)
                assert sg.check_grad(sg.sum(sg.sin(q)) + sg.sum(r * r * r), a, {a: A},
                                     order=2) < 1e-5


def test_gaussian_log_likelihood_through_cholesky_matches_direct_formula(graph, rng):
    K0, Y = spd(rng, 4, 4), rng.normal(size=4)
    k, y = sg.var("k", shape=(4, 4)), sg.var("y", shape=(4,))
    chol = L.cholesky(k)
    alpha = L.solve(chol, y)
    via_chol = 0.5 * sg.sum(alpha * alpha) + sg.sum(sg.log(sg.sum(chol * np.eye(4), -1)))
    direct = 0.5 * sg.sum(y * L.solve(k, y)) + 0.5 * L.slogdet(k).logabsdet
    h1, h2 = sg.evaluate([sg.hessian(via_chol, y), sg.hessian(direct, y)], {k: K0, y: Y})
    np.testing.assert_allclose(h1, np.linalg.inv(K0), rtol=1e-10)
    np.testing.assert_allclose(h2, np.linalg.inv(K0), rtol=1e-10)
    # symmetric directions: both functions agree on symmetric K, so do their derivatives
    D = rng.normal(size=(4, 4))
    D = D + D.T
    t1, t2 = sg.evaluate([sg.jvp(via_chol, k, D), sg.jvp(direct, k, D)], {k: K0, y: Y})
    np.testing.assert_allclose(t1, t2, rtol=1e-10)


# --- errors at evaluation, NaN and inf --------------------------------------------------------


@pytest.mark.parametrize("build", [L.inv, lambda a: L.solve(a, np.ones(3)),
                                   lambda a: sg.grad(sg.sum(L.slogdet(a).logabsdet), a)])
def test_a_singular_matrix_raises_naming_the_node_in_evaluate_and_compile(build, graph):
    a = sg.var("a", shape=(2, 3, 3))
    y = build(a)
    A = np.stack([np.eye(3), np.ones((3, 3))])
    with pytest.raises(sg.SymgraphError, match=r"(inv|solve).*batch entry \(1,\)\) is singular"):
        sg.evaluate(y, {a: A})
    with pytest.raises(sg.SymgraphError, match=r"(inv|solve).*is singular"):
        sg.compile(y, [a])(A)


def test_cholesky_of_a_matrix_not_positive_definite_raises(graph):
    a = sg.var("a", shape=(2, 2))
    with pytest.raises(sg.SymgraphError, match=r"cholesky\(a\).*not positive definite"):
        sg.evaluate(L.cholesky(a), {a: [[1.0, 2.0], [2.0, 1.0]]})


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_matrix_holding_nan_or_inf_gives_nan_only_for_that_matrix(bad, graph, rng):
    a = sg.var("a", shape=(2, 3, 3))
    A = spd(rng, 2, 3, 3)
    A[1, 0, 2] = bad
    w, v = L.eigh(a)
    u, s, vh = L.svd(a)
    q, r = L.qr(a)
    outs = [L.inv(a), L.solve(a, np.ones(3)), L.det(a), *L.slogdet(a), L.cholesky(a),
            w, v, u, s, vh, q, r]
    values = both(outs, [a], [A])
    for node, value in zip(outs, values):
        assert np.all(np.isnan(value[1])), node
        assert np.all(np.isfinite(value[0])), node
    ok = [np.linalg.inv(A[0]), np.linalg.eigh(A[0])[0], np.linalg.svd(A[0])[1]]
    for got, expected in zip([values[0][0], values[6][0], values[9][0]], ok):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# --- dtypes and refusals ---------------------------------------------------------------------


def test_float32_stays_float32_and_integers_become_float64(graph, rng):
    a = sg.var("a", shape=(3, 3), dtype="float32")
    outs = [L.inv(a), L.det(a), L.cholesky(a), *L.eigh(a), *L.svd(a), *L.qr(a), L.norm(a)]
    A = spd(rng, 3, 3).astype(np.float32)
    values = sg.evaluate(outs, {a: A})
    assert all(o.dtype == np.float32 and v.dtype == np.float32 for o, v in zip(outs, values))
    i = sg.var("i", shape=(2, 2), dtype="int64")
    assert L.inv(i).dtype == np.float64
    assert sg.evaluate(L.det(i), {i: [[2, 0], [0, 3]]}) == pytest.approx(6.0)


def test_refusals_name_the_node_and_say_what_to_do(graph):
    v, m = sg.var("v", shape=(3,)), sg.var("m", shape=(2, 3))
    with pytest.raises(sg.ShapeError, match=r"inv of 'v'.*at least 2-D"):
        L.inv(v)
    with pytest.raises(sg.ShapeError, match=r"det of 'm'.*square"):
        L.det(m)
    with pytest.raises(sg.ShapeError, match="must be known"):
        L.cholesky(sg.var("u", shape=(None, None)))
    with pytest.raises(sg.SymgraphError, match="float16.*cast"):
        L.inv(sg.var("h", shape=(2, 2), dtype="float16"))
    with pytest.raises(sg.SymgraphError, match="UPLO must be 'L' or 'U'"):
        L.eigh(sg.var("s", shape=(2, 2)), "X")
    with pytest.raises(sg.SymgraphError, match="hermitian=True is not supported"):
        L.svd(m, hermitian=True)
    with pytest.raises(sg.SymgraphError, match="mode='complete' is not supported"):
        L.qr(m.T, "complete")
    with pytest.raises(sg.SymgraphError, match="mode='raw' is not supported"):
        L.qr(m, "raw")
    assert L.qr(m, "complete").Q.shape == (2, 2)  # m <= n: complete is reduced


def test_derivatives_that_do_not_exist_raise_naming_the_op(graph):
    tall, wide = sg.var("tall", shape=(3, 2)), sg.var("wide", shape=(2, 3))
    u, s, vh = L.svd(tall)  # full_matrices=True: U is 3x3, its third column is arbitrary
    with pytest.raises(sg.SymgraphError, match=r"extra singular vectors in U.*full_matrices=False"):
        sg.grad(sg.sum(u), tall)
    with pytest.raises(sg.SymgraphError, match=r"extra singular vectors in Vh"):
        sg.jvp(sg.sum(L.svd(wide)[2]), wide, np.ones((2, 3)))
    # the singular values and the square factor of the same full SVD are differentiable
    T = np.array([[3.0, 0.2], [0.1, 1.5], [0.3, -0.2]])
    assert sg.check_grad(sg.sum(s * s) + sg.sum(vh * vh * s), tall, {tall: T}, order=2) < 1e-6
    with pytest.raises(sg.SymgraphError, match=r"derivative of qr.*m >= n"):
        sg.grad(sg.sum(L.qr(wide).R), wide)
    # the forward pass of a wide qr works
    W = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 4.0]])
    q, r = sg.evaluate(list(L.qr(wide)), {wide: W})
    np.testing.assert_allclose(q @ r, W, atol=1e-12)


def test_save_load_and_vmap_keep_the_linalg_ops(graph, rng, tmp_path):
    a, b = sg.var("a", shape=(3, 3)), sg.var("b", shape=(3,))
    w, _ = L.eigh(a)
    u, _, _ = L.svd(a[:, :2], full_matrices=False)
    y = (sg.sum(L.solve(a, b)) + sg.sum(w) + sg.sum(u * u) + sg.sum(L.norm(a, axis=0))
         + L.slogdet(a).logabsdet + sg.sum(L.qr(a).Q ** 2) + sg.sum(L.cholesky(a)))
    d = sg.grad(y, a)
    A, B = spd(rng, 3, 3), rng.normal(size=3)
    expected = sg.evaluate([y, d], {a: A, b: B})
    sg.save([y, d], tmp_path / "linalg.json")
    for e, got in zip(expected, sg.evaluate(sg.load(tmp_path / "linalg.json"), {"a": A, "b": B})):
        np.testing.assert_allclose(got, e, rtol=1e-12)
    bs, stack = sg.var("bs", shape=(4, 3)), sg.var("stack", shape=(2, 3, 3))
    X = sg.vmap(lambda v: L.solve(a, v))(bs)  # b batched alone: still vectors, not a matrix
    W = sg.vmap(lambda m: L.eigh(m).eigenvalues)(stack)
    Bs, S = rng.normal(size=(4, 3)), spd(rng, 2, 3, 3)
    np.testing.assert_allclose(sg.evaluate(X, {a: A, bs: Bs}), np.linalg.solve(A, Bs.T).T)
    np.testing.assert_allclose(sg.evaluate(W, {stack: S}), np.linalg.eigh(S)[0], rtol=1e-12)

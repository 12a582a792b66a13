"""A user's op is batched by broadcasting (vmap, Jacobians, dask blocks) only when it is
declared ``elementwise=True``: an op that keeps its input's shape without being elementwise
(``x - x.mean()``) gave wrong numbers under vmap and on dask when that was assumed."""

import numpy as np
import pytest
import symgraph as sg

V = np.array([[1.0, 2.0, 3.0, 10.0], [0.0, 0.0, 0.0, 4.0]])
CENTERED = V - V.mean(axis=1, keepdims=True)  # NumPy, row by row


def _center():
    # linear, so its own rules use it again (as a user writes them)
    center = sg.define_op("batching_test_center", lambda x: x - x.mean(),
                          vjp=[lambda g, out: center(g)], jvp=[lambda t, out: center(t)])
    return center


CENTER = _center()
CUBE = sg.define_op("batching_test_cube", lambda x: x ** 3, elementwise=True,
                    vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])],
                    jvp=[lambda t, out: t * 3 * sg.square(out.inputs[0])])


def test_vmap_applies_a_shape_keeping_op_to_each_entry_instead_of_mixing_the_batch():
    """No batch rule: vmap applies the op to each row and stacks (each row centred on its
    own mean), never to the whole batch at once."""
    with sg.Graph():
        X = sg.var("X", shape=(2, 4))
        y = sg.vmap(CENTER)(X)
        rows = sg.stack([CENTER(X[i]) for i in range(2)])
        assert y is rows  # the same nodes a loop by hand builds (interned)
        np.testing.assert_allclose(sg.evaluate(y, {X: V}), CENTERED, rtol=1e-15)
        dy = sg.grad(sg.sum(y * y), X)
        np.testing.assert_allclose(sg.evaluate(dy, {X: V}), 2 * CENTERED, rtol=1e-15)


def test_jacobian_and_hessian_through_it_are_right():
    x0 = V[0] + np.array([0.0, 0.5, -0.25, 1.0])
    with sg.Graph():
        x = sg.var("x", shape=(4,))
        w = sg.const([1.0, -2.0, 0.5, 3.0])
        J = sg.evaluate(sg.jacobian(CENTER(x * w), x), {x: x0})
        H = sg.evaluate(sg.hessian(sg.sum(CENTER(x * x) ** 2), x), {x: x0})
    P = np.eye(4) - 0.25  # the centring matrix
    np.testing.assert_allclose(J, P * np.array([1.0, -2.0, 0.5, 3.0]), atol=1e-15)
    # y = |P (x*x)|^2: H = 4 diag(P x^2) + 8 diag(x) P diag(x)  (P symmetric, idempotent)
    want = 4 * np.diag(P @ (x0 * x0)) + 8 * np.diag(x0) @ P @ np.diag(x0)
    np.testing.assert_allclose(H, want, rtol=1e-13, atol=1e-12)


def test_an_elementwise_op_is_batched_by_vmap():
    with sg.Graph():
        X = sg.var("X", shape=(2, 4))
        y = sg.vmap(lambda r: sg.sum(CUBE(r)))(X)
        dy = sg.grad(sg.sum(y), X)
        got = sg.evaluate([y, dy], {X: V})
    np.testing.assert_allclose(got[0], (V ** 3).sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(got[1], 3 * V ** 2, rtol=1e-15)


def test_dask_runs_a_non_elementwise_op_on_whole_arrays():
    pytest.importorskip("dask")
    with sg.Graph():
        x = sg.var("x", shape=(4,))
        f = sg.compile([CENTER(x), CUBE(x)], [x], backend="dask", chunks=2)
        got = [np.asarray(r.compute()) for r in f(V[0])]
    np.testing.assert_allclose(got[0], CENTERED[0], rtol=1e-15)  # before: [-0.5, 0.5, ...]
    np.testing.assert_allclose(got[1], V[0] ** 3, rtol=1e-15)


def test_define_op_refuses_elementwise_with_a_shape_rule_or_a_non_bool():
    with pytest.raises(sg.SymgraphError, match="leave out shape="):
        sg.define_op("batching_test_bad", np.sin, elementwise=True,
                     shape=lambda ins, attrs: ins[0].shape)
    with pytest.raises(sg.SymgraphError, match="elementwise must be True or False"):
        sg.define_op("batching_test_bad2", np.sin, elementwise="yes")

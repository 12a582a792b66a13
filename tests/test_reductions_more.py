"""min prod variance std argmax argmin (ops/statistics.py) and sort argsort cumsum cumprod
(ops/sorting.py): values and dtypes against NumPy, derivatives against closed forms (zeros
in prod and cumprod, a constant slice in std, ties in min and sort), NaN and inf through
compile and evaluate, the vmap rules of the integer-valued ops, and the errors. The
registry cases (tests/test_ops.py) add finite-difference checks to second order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import symgraph as sg
from symgraph.batching import vectorize

# Ties within rows and columns, so "first" is tested too.
X = np.array([[0.3, -1.2, 0.3, 2.0], [1.5, 0.7, -0.4, 0.7], [-0.2, -0.2, 0.9, -3.1]])
WEIRD = np.array([[0.3, np.nan, -0.0, 2.0], [np.inf, 0.7, 0.0, -np.inf],
                  [-0.2, 1.0, np.nan, np.nan]])


def _eval(build, value, **kw):
    with sg.Graph(), np.errstate(all="ignore"):  # NaN and inf warn as in NumPy
        x = sg.var("x", shape=np.shape(value))
        y = build(x, **kw)
        return y, sg.evaluate(y, {x: value})


# --- values and dtypes ------------------------------------------------------------------------


@pytest.mark.parametrize("fn,ref", [(sg.min, np.min), (sg.prod, np.prod),
                                    (sg.variance, np.var), (sg.std, np.std)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(fn, ref, axis, keepdims):
    for value in (X, WEIRD):
        y, got = _eval(fn, value, axis=axis, keepdims=keepdims)
        with np.errstate(all="ignore"):
            expected = ref(value, axis=axis, keepdims=keepdims)
        assert got.shape == y.shape == expected.shape and got.dtype == y.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("fn,ref", [(sg.variance, np.var), (sg.std, np.std)])
@pytest.mark.parametrize("ddof", [1, 2, 0.5])
def test_ddof_matches_numpy(fn, ref, ddof):
    _, got = _eval(fn, X, axis=1, ddof=ddof)
    np.testing.assert_allclose(got, ref(X, axis=1, ddof=ddof), rtol=1e-14)


@pytest.mark.parametrize("fn,ref", [
    (sg.argmax, np.argmax), (sg.argmin, np.argmin),
    (sg.sort, lambda v, axis: np.sort(v, axis=axis, kind="stable")),
    (sg.argsort, lambda v, axis: np.argsort(v, axis=axis, kind="stable")),
    (sg.cumsum, np.cumsum), (sg.cumprod, np.cumprod)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_axis_ops_match_numpy(fn, ref, axis):
    for value in (X, WEIRD, X[0]):
        if axis in (1, -1) and value.ndim == 1:
            continue
        y, got = _eval(fn, value, axis=axis)
        with np.errstate(all="ignore"):
            expected = ref(value, axis=axis)
        assert got.shape == y.shape == expected.shape and got.dtype == y.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("fn", [sg.argmax, sg.argmin])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_arg_keepdims_matches_numpy(fn, axis):
    ref = getattr(np, fn.__name__)
    for value in (X, WEIRD, X[0], np.float64(2.5)):
        if axis == 0 and value.ndim == 0 or axis == -1 and value.ndim == 0:
            continue
        y, got = _eval(fn, value, axis=axis, keepdims=True)
        expected = ref(value, axis=axis, keepdims=True)
        assert got.shape == y.shape == expected.shape and y.dtype == np.int64
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", ["int32", "bool", "float32", "int64"])
@pytest.mark.parametrize("name", ["min", "prod", "variance", "std", "argmax", "argmin",
                                  "sort", "argsort", "cumsum", "cumprod"])
def test_dtypes_follow_numpy(name, dtype):
    ref = {"variance": np.var, "sort": np.sort, "argsort": np.argsort}.get(name) or \
        getattr(np, name)
    value = np.array([[1, 0, 3], [2, 2, 1]]).astype(dtype)
    with sg.Graph():
        x = sg.var("x", shape=(2, 3), dtype=dtype)
        y = getattr(sg, name)(x, axis=1)
        got = sg.evaluate(y, {x: value})
    expected = ref(value, axis=1)
    assert y.dtype == got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("build", [sg.min, sg.prod, sg.std, sg.variance,
                                   lambda v: sg.sum(sg.sort(v) * v), lambda v: sg.sum(sg.cumprod(v)),
                                   lambda v: sg.sum(sg.cumsum(v) * v)])
def test_float32_gradients_stay_float32(build):
    with sg.Graph():
        x = sg.var("x", shape=(3,), dtype="float32")
        g = sg.grad(build(x), x)
        h = sg.hessian(build(x), x)
        values = sg.evaluate([g, h], {x: np.array([1.0, 0.0, 2.0], dtype=np.float32)})
    assert g.dtype == h.dtype == np.float32 and all(v.dtype == np.float32 for v in values)


# --- min ----------------------------------------------------------------------------------------


def test_min_gradient_goes_to_the_first_minimum():
    with sg.Graph():
        v = sg.var("v", shape=(4,))
        m = sg.var("m", shape=X.shape)
        dv = sg.grad(sg.min(v), v)
        rows = sg.grad(sg.sum(sg.min(m, axis=1) * np.array([1.0, 2.0, 3.0])), m)
        cols = sg.grad(sg.sum(sg.min(m, axis=0, keepdims=True)), m)
        got = sg.evaluate([dv, rows, cols], {v: [1.0, 5.0, 1.0, 3.0], m: X})
        with_nan = sg.evaluate(dv, {v: [1.0, np.nan, 0.0, np.nan]})
    assert got[0].tolist() == [1.0, 0.0, 0.0, 0.0]
    expected_rows = np.zeros_like(X)
    expected_rows[[0, 1, 2], np.argmin(X, axis=1)] = [1.0, 2.0, 3.0]
    expected_cols = np.zeros_like(X)
    expected_cols[np.argmin(X, axis=0), range(4)] = 1.0
    np.testing.assert_array_equal(got[1], expected_rows)
    np.testing.assert_array_equal(got[2], expected_cols)
    assert with_nan.tolist() == [0.0, 1.0, 0.0, 0.0]  # the min is the first NaN


# --- prod -------------------------------------------------------------------------------------


def _others(v, skip):
    return np.prod(np.delete(v, list(skip)))


@pytest.mark.parametrize("v", [[2.0, 3.0, 5.0, 7.0], [2.0, 0.0, 5.0, 7.0],
                               [0.0, 3.0, 0.0, 7.0], [0.0, 0.0, 0.0, 7.0]],
                         ids=["no zero", "one zero", "two zeros", "three zeros"])
def test_prod_gradient_and_hessian_with_zeros(v):
    v = np.array(v)
    with sg.Graph():
        x = sg.var("x", shape=(4,))
        g = sg.grad(sg.prod(x), x)
        h = sg.hessian(sg.prod(x), x)
        h_rows = sg.grad(g[1], x)
        got_g, got_h, got_row = sg.evaluate([g, h, h_rows], {x: v})
        third = sg.check_grad(sg.prod(x), x, {x: v}, order=3)
    np.testing.assert_array_equal(got_g, [_others(v, [k]) for k in range(4)])
    expected_h = np.array([[0.0 if k == l else _others(v, {k, l}) for l in range(4)]
                           for k in range(4)])
    np.testing.assert_array_equal(got_h, expected_h)
    np.testing.assert_array_equal(got_row, expected_h[1])
    assert third < 1e-6


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_prod_gradient_over_axes_with_zeros(axis):
    value = np.array([[0.0, 2.0, 3.0], [4.0, 0.0, 0.0], [1.5, -2.0, 0.5]])
    with sg.Graph():
        x = sg.var("x", shape=(3, 3))
        g = sg.grad(sg.sum(sg.prod(x, axis=axis)), x)
        got = sg.evaluate(g, {x: value})
        # (with three zeros in one slice the Hessian is 0 and the central differences'
        # O(h^2) error is all they measure: two zeros here)
        two_zeros = np.array([[0.0, 2.0, 3.0], [4.0, 0.0, 1.0], [1.5, -2.0, -0.5]])
        second = sg.check_grad(sg.prod(x, axis=axis), x, {x: two_zeros}, order=2)
    expected = np.zeros_like(value)
    for i, j in itertools.product(range(3), range(3)):  # the others in (i, j)'s slice
        if axis == 0:
            expected[i, j] = np.prod(np.delete(value[:, j], i))
        elif axis == 1:
            expected[i, j] = np.prod(np.delete(value[i], j))
        else:
            expected[i, j] = np.prod(np.delete(value.ravel(), 3 * i + j))
    np.testing.assert_array_equal(got, expected)
    assert second < 1e-6


# --- variance and std ----------------------------------------------------------------------------


def test_variance_and_std_gradients_are_the_closed_forms():
    value = np.array([[1.0, 2.0, 4.0, 8.0], [0.5, -0.5, 1.5, 2.5]])
    with sg.Graph():
        x = sg.var("x", shape=value.shape)
        dv = sg.grad(sg.sum(sg.variance(x, axis=1, ddof=1)), x)
        ds = sg.grad(sg.sum(sg.std(x, axis=1)), x)
        got_v, got_s = sg.evaluate([dv, ds], {x: value})
    centered = value - value.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(got_v, 2 * centered / 3, rtol=1e-14)
    np.testing.assert_allclose(got_s, centered / (4 * value.std(axis=1, keepdims=True)),
                               rtol=1e-14)


def test_std_at_zero_variance_has_gradient_zero_not_nan():
    value = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 6.0]])  # the first row is constant
    with sg.Graph():
        x = sg.var("x", shape=(2, 3))
        v = sg.var("v", shape=(3,))
        g = sg.grad(sg.sum(sg.std(x, axis=1, ddof=1)), x)
        h = sg.hessian(sg.std(v), v)
        got_g, got_h = sg.evaluate([g, h], {x: value, v: value[0]})
        with_nan = sg.evaluate(sg.grad(sg.std(v), v), {v: [1.0, np.nan, 2.0]})
        second = sg.check_grad(sg.std(v), v, {v: value[1]}, order=2)
    row = value[1] - value[1].mean()
    np.testing.assert_array_equal(got_g[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(got_g[1], row / (2 * value[1].std(ddof=1)), rtol=1e-14)
    np.testing.assert_array_equal(got_h, np.zeros((3, 3)))  # no NaN from 0/0 anywhere
    assert np.isnan(with_nan).all()  # a NaN input still gives NaN, not a silent 0
    assert second < 1e-6


def test_std_of_equal_values_whose_mean_rounds_has_gradient_zero():
    value = np.full(6, 0.95 * np.tanh(0.54784675))
    assert np.std(value) > 0  # the rounded mean differs from the values: std 5.6e-17
    with sg.Graph():
        x = sg.var("x", shape=(6,))
        grads = [sg.grad(sg.std(x), x), sg.grad(sg.variance(x, ddof=1), x)]
        got = sg.evaluate(grads, {x: value})
    # x - mean alone would give -1/6 at each (a shift would change std): the corrected
    # residuals are exactly 0
    np.testing.assert_array_equal(got, np.zeros((2, 6)))


# --- argmax, argmin, argsort: integers, no gradient --------------------------------------------


@pytest.mark.parametrize("name", ["argmax", "argmin", "argsort"])
def test_integer_ops_pass_no_gradient(name):
    assert sg.OPS[name].vjp_rules(1) == (None,) and sg.OPS[name].jvp_rule(0) is None
    with sg.Graph():
        x = sg.var("x", shape=X.shape)
        index = sg.cast(getattr(sg, name)(x, axis=1), "float64")
        index = index if index.ndim == 2 else sg.expand_dims(index, 1)
        g = sg.grad(sg.sum(x * index), x)  # only the direct path: d/dx (x * c) = c
        got, expected = sg.evaluate([g, index], {x: X})
    np.testing.assert_array_equal(got, np.broadcast_to(expected, X.shape))


# --- sort -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_sort_gradient_is_the_inverse_permutation(axis, rng):
    value, weights = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    flat = axis is None
    with sg.Graph():
        x = sg.var("x", shape=(3, 4))
        y = sg.sort(x, axis=axis)
        g = sg.grad(sg.sum(y * (weights.ravel() if flat else weights)), x)
        got = sg.evaluate(g, {x: value})
    expected = np.zeros(value.size if flat else value.shape)
    order = np.argsort(value.ravel() if flat else value, axis=-1 if flat else axis)
    np.put_along_axis(expected, order, weights.ravel() if flat else weights, axis=0 if flat else axis)
    np.testing.assert_array_equal(got, expected.reshape(value.shape))


def test_sort_ties_take_input_order():
    with sg.Graph():
        v = sg.var("v", shape=(4,))
        s = sg.sort(v)
        rows = sg.evaluate([sg.grad(s[k], v) for k in range(4)], {v: [3.0, 1.0, 3.0, 1.0]})
    assert [r.tolist() for r in rows] == [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 0, 1, 0]]


# --- cumsum and cumprod --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumsum_gradient_is_the_reverse_cumsum(axis, rng):
    value = rng.standard_normal((3, 4))
    weights = rng.standard_normal(value.size if axis is None else value.shape)
    with sg.Graph():
        x = sg.var("x", shape=(3, 4))
        g = sg.grad(sg.sum(sg.cumsum(x, axis=axis) * weights), x)
        got = sg.evaluate(g, {x: value})
    a = 0 if axis is None else axis
    expected = np.flip(np.cumsum(np.flip(weights, a), axis=a), a).reshape(value.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def _cumprod_jacobian(v):
    n = len(v)
    return np.array([[_others(v[: i + 1], [k]) if k <= i else 0.0 for k in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize("v", [[2.0, 3.0, 5.0, 7.0], [2.0, 0.0, 5.0, 7.0],
                               [0.0, 3.0, 0.0, 7.0], [3.0, 2.0, 5.0, 0.0]],
                         ids=["no zero", "one zero", "two zeros", "zero last"])
def test_cumprod_derivatives_with_zeros(v):
    v, w = np.array(v), np.array([1.0, -2.0, 0.5, 3.0])
    hessian = np.array([[sum(w[i] * _others(v[: i + 1], {k, l}) for i in range(max(k, l), 4))
                         if k != l else 0.0 for l in range(4)] for k in range(4)])
    with sg.Graph():
        x = sg.var("x", shape=(4,))
        y = sg.cumprod(x)
        rev = sg.cumprod(x[::-1])[::-1]  # the reverse scan, through the public op
        got_j, got_h, got_r = sg.evaluate(
            [sg.jacobian(y, x), sg.hessian(sg.sum(y * w), x), sg.jacobian(rev, x)], {x: v})
        tangent = sg.evaluate(sg.jvp(y, x, w), {x: v})
        third = sg.check_grad(y, x, {x: v}, order=3)
    np.testing.assert_array_equal(got_j, _cumprod_jacobian(v))
    np.testing.assert_array_equal(got_h, hessian)
    np.testing.assert_array_equal(got_r, _cumprod_jacobian(v[::-1])[::-1, ::-1])
    np.testing.assert_array_equal(tangent, _cumprod_jacobian(v) @ w)
    assert third < 1e-6


def test_cumprod_gradient_along_a_long_axis(rng):
    value = rng.uniform(0.9, 1.1, size=(2, 60))
    value[0, 17] = 0.0
    weights = rng.standard_normal((2, 60))
    with sg.Graph():
        x = sg.var("x", shape=(2, 60))
        got = sg.evaluate(sg.grad(sg.sum(sg.cumprod(x, axis=1) * weights), x), {x: value})
    expected = np.stack([_cumprod_jacobian(r).T @ w for r, w in zip(value, weights)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


# --- compile == evaluate, NaN and inf included -----------------------------------------------------

BUILDS = {
    "min": lambda x: sg.min(x, axis=1), "prod": lambda x: sg.prod(x, axis=0),
    "variance": lambda x: sg.variance(x, axis=1, ddof=1), "std": lambda x: sg.std(x),
    "argmax": lambda x: sg.argmax(x, axis=1), "argmin": lambda x: sg.argmin(x),
    "sort": lambda x: sg.sort(x, axis=1), "argsort": lambda x: sg.argsort(x, axis=0),
    "cumsum": lambda x: sg.cumsum(x, axis=1), "cumprod": lambda x: sg.cumprod(x),
}


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_compile_equals_evaluate_with_nan_and_inf(name):
    with sg.Graph():
        x = sg.var("x", shape=WEIRD.shape)
        y = BUILDS[name](x)
        outputs = [y]
        if y.dtype.kind == "f":
            outputs += [sg.grad(sg.sum(y * y), x), sg.grad(sg.sum(sg.sin(y)), x)]
        f = sg.compile(outputs, [x])
        for value in (WEIRD, X):
            with np.errstate(all="ignore"):
                compiled = f(value)
                evaluated = sg.evaluate(outputs, {x: value})
            for c, e in zip(compiled, evaluated):
                assert c.dtype == e.dtype and c.shape == e.shape
                np.testing.assert_array_equal(c, e)
                np.testing.assert_array_equal(np.signbit(c), np.signbit(e))


# --- vmap rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda x: sg.argmax(x), lambda x: sg.argmax(x, axis=1, keepdims=True),
    lambda x: sg.argmin(x, axis=0), lambda x: sg.argmin(x, keepdims=True),
    lambda x: sg.argsort(x, axis=0), lambda x: sg.sort(x), lambda x: sg.cumsum(x),
    lambda x: sg.cumprod(x, axis=0), lambda x: sg.min(x, axis=1), lambda x: sg.prod(x),
    lambda x: sg.std(x, axis=0, ddof=1), lambda x: sg.variance(x, keepdims=True)])
def test_batch_rules_equal_one_evaluation_per_entry(build, rng):
    batch = rng.standard_normal((4, 3, 4))
    with sg.Graph():
        x = sg.var("x", shape=(3, 4))
        y = build(x)
        (batched,) = vectorize([y], x, sg.const(batch))
        got = sg.evaluate(batched, {})
        expected = np.stack([sg.evaluate(y, {x: entry}) for entry in batch])
    assert got.dtype == y.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-14)


# --- errors and display --------------------------------------------------------------------------


def test_user_mistakes_raise_errors_naming_the_node():
    with sg.Graph():
        x = sg.var("x", shape=(2, 3))
        empty = sg.var("empty", shape=(0, 3))
        unknown = sg.var("unknown", shape=(None,))
        assert sg.min(empty, axis=1).shape == (0,)  # nothing reduced over an empty axis
        cases = [(lambda: sg.min(empty), "min of 'empty'"),
                 (lambda: sg.argmax(empty, axis=0), "argmax of 'empty'"),
                 (lambda: sg.argmin(empty), "argmin of 'empty'"),
                 (lambda: sg.argmax(x, axis=(0, 1)), "axis must be an int"),
                 (lambda: sg.sort(x, axis=2), "axis 2 is out of range"),
                 (lambda: sg.cumsum(x, axis=1.0), "axis must be an int"),
                 (lambda: sg.sort(sg.var("s")), "out of range"),
                 (lambda: sg.std(x, ddof="1"), "ddof must be a number")]
        for build, text in cases:
            with pytest.raises(sg.SymgraphError, match=text):
                build()
        y = sg.min(unknown)  # empty only at run time: NumPy's error, naming the node
        for run in (lambda: sg.evaluate(y, {unknown: np.zeros(0)}),
                    lambda: sg.compile([y], [unknown])(np.zeros(0))):
            with pytest.raises(sg.SymgraphError, match="min"):
                run()


def test_display_hides_default_attributes():
    with sg.Graph():
        m = sg.var("m", shape=(2, 3))
        v = sg.var("v", shape=(3,))
        texts = [str(n) for n in (sg.sort(m), sg.sort(m, axis=0), sg.std(m), sg.cumsum(v),
                                  sg.variance(m, axis=1, ddof=1), sg.argmin(v))]
    assert texts == ["sort(m)", "sort(m, axis=0)", "std(m)", "cumsum(v, axis=0)",
                     "variance(m, axis=1, ddof=1)", "argmin(v, axis=0)"]

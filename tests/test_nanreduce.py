"""sg.nanmax nanmin nanprod nancumsum nancumprod nanvar nanstd against NumPy's (values,
shapes, dtypes, a slice of NaN only), their derivatives to second order by finite
differences and at NaN elements, every backend equal to evaluate with NaN in the data."""

import warnings

import numpy as np
import pytest

import symgraph as sg
from test_differences import assert_backend_equals_evaluate

RNG = np.random.default_rng(5)
A = RNG.normal(size=(3, 5))
A[0, 1] = np.nan
A[0, 4] = np.inf
A[1, 3] = np.nan
A[2] = np.nan  # a row of NaN only: NaN for max, min, var, std; 1 for prod

CASES = [
    ("nanmax", lambda a: sg.nanmax(a), np.nanmax),
    ("nanmax axis 1", lambda a: sg.nanmax(a, axis=1), lambda a: np.nanmax(a, axis=1)),
    ("nanmin axis 0 keepdims", lambda a: sg.nanmin(a, axis=0, keepdims=True),
     lambda a: np.nanmin(a, axis=0, keepdims=True)),
    ("nanmin axis 1", lambda a: sg.nanmin(a, axis=1), lambda a: np.nanmin(a, axis=1)),
    ("nanprod axis 1", lambda a: sg.nanprod(a, axis=1), lambda a: np.nanprod(a, axis=1)),
    ("nanprod", lambda a: sg.nanprod(a[1]), lambda a: np.nanprod(a[1])),
    ("nancumsum", lambda a: sg.nancumsum(a), np.nancumsum),
    ("nancumsum axis 1", lambda a: sg.nancumsum(a, axis=1), lambda a: np.nancumsum(a, 1)),
    ("nancumprod axis 0", lambda a: sg.nancumprod(a, axis=0), lambda a: np.nancumprod(a, 0)),
    ("nanvar axis 1", lambda a: sg.nanvar(a[1:], axis=1), lambda a: np.nanvar(a[1:], axis=1)),
    ("nanvar ddof keepdims", lambda a: sg.nanvar(a[1:], axis=1, keepdims=True, ddof=1),
     lambda a: np.nanvar(a[1:], axis=1, keepdims=True, ddof=1)),
    ("nanvar ddof 4", lambda a: sg.nanvar(a[1:], axis=1, ddof=4),
     lambda a: np.nanvar(a[1:], axis=1, ddof=4)),  # 4 kept elements: n - ddof = 0 is NaN
    ("nanvar all", lambda a: sg.nanvar(a[1]), lambda a: np.nanvar(a[1])),
    ("nanstd axis 1", lambda a: sg.nanstd(a[1:], axis=1), lambda a: np.nanstd(a[1:], axis=1)),
    ("nanstd ddof", lambda a: sg.nanstd(a[1:], axis=1, ddof=1),
     lambda a: np.nanstd(a[1:], axis=1, ddof=1)),
]


@pytest.mark.parametrize("name,build,numpy", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, build, numpy):
    with sg.Graph():
        a = sg.var("a", shape=A.shape)
        got = sg.evaluate(build(a), {a: A})
    with warnings.catch_warnings():  # NumPy warns of a slice of NaN only
        warnings.simplefilter("ignore")
        want = numpy(A)
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-13, equal_nan=True)


def test_integers_and_float32_as_numpy():
    ints = RNG.integers(-5, 5, size=(2, 4))
    small = A.astype(np.float32)
    with sg.Graph():
        i = sg.var("i", shape=(2, 4), dtype="int64")
        f = sg.var("f", shape=A.shape, dtype="float32")
        outs = [sg.nanmax(i, axis=0), sg.nanmin(i), sg.nanprod(i, axis=1), sg.nancumsum(i),
                sg.nanvar(i, axis=1), sg.nanstd(i), sg.nanmax(f, axis=1), sg.nanvar(f[1])]
        got = sg.evaluate(outs, {i: ints, f: small})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [np.nanmax(ints, axis=0), np.nanmin(ints), np.nanprod(ints, axis=1),
                np.nancumsum(ints), np.nanvar(ints, axis=1), np.nanstd(ints),
                np.nanmax(small, axis=1), np.nanvar(small[1])]
    for g, w in zip(got, want):
        assert g.dtype == np.asarray(w).dtype, (g.dtype, np.asarray(w).dtype)
        np.testing.assert_allclose(g, w, rtol=1e-6, equal_nan=True)


def test_derivatives_to_second_order():
    finite = RNG.normal(size=(3, 4))
    with sg.Graph():
        a = sg.var("a", shape=finite.shape)
        y = (sg.sum(sg.nanmax(a, axis=1) * sg.nanmin(a, axis=0)[:3]) + sg.nanprod(a[0])
             + sg.sum(sg.sin(sg.nancumsum(a, axis=1)) * sg.nancumprod(a, axis=0))
             + sg.sum(sg.nanvar(a, axis=0, ddof=1)) + sg.nanstd(a) ** 3)
        assert sg.check_grad(y, [a], {a: finite}, order=2) < 1e-6


def test_nan_elements_get_a_zero_gradient_the_others_the_plain_ones():
    v = np.array([0.5, np.nan, 2.0, -1.0, np.nan])
    kept = ~np.isnan(v)
    with sg.Graph():
        x = sg.var("x", shape=(5,))
        w = sg.var("w", shape=(3,))
        pairs = [(sg.nanmax, sg.max), (sg.nanmin, sg.min), (sg.nanprod, sg.prod),
                 (sg.nanvar, sg.variance), (sg.nanstd, sg.std)]
        for nan_version, plain in pairs:
            got = sg.evaluate(sg.grad(nan_version(x), x), {x: v})
            want = sg.evaluate(sg.grad(plain(w), w), {w: v[kept]})
            assert np.all(got[~kept] == 0.0), nan_version
            np.testing.assert_allclose(got[kept], want, rtol=1e-13)
        # a running sum counts a NaN as 0: the others' gradient is cumsum's with zeros there
        zeroed = sg.var("zeroed", shape=(5,))
        got = sg.evaluate(sg.grad(sg.sum(sg.nancumsum(x) ** 2), x), {x: v})
        want = sg.evaluate(sg.grad(sg.sum(sg.cumsum(zeroed) ** 2), zeroed),
                           {zeroed: np.nan_to_num(v)})
        np.testing.assert_array_equal(got, np.where(kept, want, 0.0))
        # a slice of NaN only: NaN value, zero gradient; equal kept values: std's gradient 0
        for f in (sg.nanmax, sg.nanmin, sg.nanvar, sg.nanstd):
            value, grad = sg.evaluate([f(x), sg.grad(f(x), x)], {x: np.full(5, np.nan)})
            assert np.isnan(value) and np.all(grad == 0.0), f
        grad = sg.evaluate(sg.grad(sg.nanstd(x), x), {x: [2.0, np.nan, 2.0, 2.0, 2.0]})
        assert np.all(grad == 0.0)


@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_backends_equal_evaluate(backend):
    assert_backend_equals_evaluate(backend, CASES, A)

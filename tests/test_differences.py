"""sg.diff, sg.nansum and sg.nanmean against NumPy's (values, shapes, dtypes), their
derivatives to second order by finite differences, every backend equal to evaluate with
NaN in the data, and the refusals."""

import warnings

import numpy as np
import pytest

import symgraph as sg

RNG = np.random.default_rng(3)
A = RNG.normal(size=(3, 5))
A[1, 2] = np.nan
A[2] = np.nan  # a row of NaN only: nansum 0, nanmean NaN

CASES = [
    ("diff", lambda a: sg.diff(a), lambda a: np.diff(a)),
    ("diff n=2 axis 0", lambda a: sg.diff(a, 2, axis=0), lambda a: np.diff(a, 2, axis=0)),
    ("diff prepend append", lambda a: sg.diff(a, 3, prepend=1.0, append=np.ones((3, 2))),
     lambda a: np.diff(a, 3, prepend=1.0, append=np.ones((3, 2)))),
    ("diff n=0", lambda a: sg.diff(a, 0), lambda a: np.diff(a, 0)),
    ("nansum axis", lambda a: sg.nansum(a, axis=1), lambda a: np.nansum(a, axis=1)),
    ("nansum", lambda a: sg.nansum(a), lambda a: np.nansum(a)),
    ("nanmean keepdims", lambda a: sg.nanmean(a, axis=1, keepdims=True),
     lambda a: np.nanmean(a, axis=1, keepdims=True)),
    ("nanmean", lambda a: sg.nanmean(a), lambda a: np.nanmean(a)),
]


@pytest.mark.parametrize("name,build,numpy", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpy(name, build, numpy):
    with sg.Graph():
        a = sg.var("a", shape=A.shape)
        got = sg.evaluate(build(a), {a: A})
    with warnings.catch_warnings():  # NumPy warns of the mean of a NaN row
        warnings.simplefilter("ignore")
        want = numpy(A)
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-14, equal_nan=True)


def test_booleans_and_integers_as_numpy():
    flags = RNG.random((2, 4)) > 0.5
    ints = RNG.integers(-5, 5, size=(2, 4))
    with sg.Graph():
        b = sg.var("b", shape=(None, 4), dtype="bool")
        i = sg.var("i", shape=(2, 4), dtype="int64")
        got = sg.evaluate([sg.diff(b, prepend=False), sg.diff(i, axis=0), sg.nanmean(i)],
                          {b: flags, i: ints})
    want = [np.diff(flags, prepend=False), np.diff(ints, axis=0), np.nanmean(ints)]
    for g, w in zip(got, want):
        assert g.dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(g, w)


def test_derivatives_to_second_order():
    finite = np.where(np.isnan(A), 0.3, A)
    with sg.Graph():
        a = sg.var("a", shape=A.shape)
        y = (sg.sum(sg.sin(sg.diff(a, 2, prepend=0.5, append=a[:, :1]))) + sg.nanmean(a * a)
             + sg.sum(sg.nansum(sg.exp(a), axis=0) ** 2))
        assert sg.check_grad(y, [a], {a: finite}, order=2) < 1e-6
        # a NaN element's cotangent from nansum is 0
        g = sg.evaluate(sg.grad(sg.nansum(a * 2.0), a), {a: A})
    np.testing.assert_array_equal(g, np.where(np.isnan(A), 0.0, 2.0))


def assert_backend_equals_evaluate(backend, cases, data):
    """Every case's output on ``backend`` is evaluate's, NaN and -0.0 included."""
    with sg.Graph():
        a = sg.var("a", shape=data.shape)
        outs = [build(a) for _, build, _ in cases]
        want = sg.evaluate(outs, {a: data})
        got = sg.compile(outs, [a], backend=backend)(data)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w)


@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_backends_equal_evaluate(backend):
    assert_backend_equals_evaluate(backend, CASES, A)


@pytest.mark.parametrize("call,part", [
    (lambda a, s: sg.diff(s), "a scalar has no axis"),
    (lambda a, s: sg.diff(a, -1), "n=-1 must be an int >= 0"),
    (lambda a, s: sg.diff(a, 1.5), "must be an int"),
    (lambda a, s: sg.diff(a, axis=2), "axis"),
    (lambda a, s: sg.diff(a, prepend=np.ones(3)), "prepend has 1 axes"),
])
def test_refusals_say_why(call, part):
    with sg.Graph():
        a, s = sg.var("a", shape=A.shape), sg.var("s")
        with pytest.raises(sg.SymgraphError, match=part):
            call(a, s)

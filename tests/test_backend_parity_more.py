"""Backends against ``sg.evaluate`` (and evaluate against NumPy) where QA found them apart:
``var``/``std`` with ``ddof >= n``, zero-size arrays on dask, and softmax and logsumexp over
an empty axis. Values are compared with ``assert_same_values``: NaN where evaluate has NaN,
the same infinities, the same sign of zero, the rest to rounding."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

BACKENDS = [name for name, ok in sg.backends().items() if ok and name != "auto"]


def _computed(f, feeds: list, backend: str) -> list:
    got = f(*feeds)
    got = got if isinstance(got, list) else [got]
    if backend == "dask":
        import dask
        got = list(dask.compute(*got, scheduler="sync"))
    return [np.asarray(g) for g in got]


def assert_every_backend_evaluates(outs: list, inputs: list, feeds: list, **options) -> list:
    """Each available backend's values of ``outs`` equal ``sg.evaluate``'s; returns those."""
    want = sg.evaluate(outs, dict(zip(inputs, feeds)))
    for backend in BACKENDS:
        f = sg.compile(outs, inputs, backend=backend, **options)
        for k, (got, w) in enumerate(zip(_computed(f, feeds, backend), want)):
            assert_same_values(got, w, rtol=1e-6, atol=1e-7, what=f"{backend}: output {k}")
    return want


# --- var and std with ddof >= n: NumPy divides by max(n - ddof, 0) -----------------------------

_DATA = np.array([[1.0, 2.5, -3.0, 4.0, 0.5], [2.0, 2.0, 2.0, 2.0, 2.0]])  # the second constant


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("ddof", [0, 4, 5, 6, 5.5])
def test_var_and_std_with_any_ddof_equal_numpy_on_every_backend(graph, dtype, ddof):
    x = sg.var("x", shape=(2, 5), dtype=dtype)
    outs = [x.var(axis=1, ddof=ddof), x.std(axis=1, ddof=ddof),
            sg.variance(x, axis=1, keepdims=True, ddof=ddof), sg.std(x, axis=-1, ddof=ddof),
            sg.variance(x[:, :1], ddof=ddof)]
    value = _DATA.astype(dtype)
    want = assert_every_backend_evaluates(outs, [x], [value])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if ddof >= 5 else _nothing():
        numpy = [np.var(value, axis=1, ddof=ddof), np.std(value, axis=1, ddof=ddof),
                 np.var(value, axis=1, keepdims=True, ddof=ddof),
                 np.std(value, axis=-1, ddof=ddof), np.var(value[:, :1], ddof=ddof)]
    for got, w in zip(want, numpy):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(w))
        np.testing.assert_allclose(got, w, rtol=1e-6, equal_nan=True)
    if ddof >= 5:  # the case QA found: inf for the varying row, NaN (0 / 0) for the constant
        np.testing.assert_array_equal(want[0], [np.inf, np.nan])
        np.testing.assert_array_equal(want[1], [np.inf, np.nan])


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_var_with_ddof_past_n_over_all_axes_and_an_unknown_dimension(graph):
    x = sg.var("x", shape=(None, 3))
    outs = [x.var(ddof=6), x.std(ddof=7), x.var(axis=0, ddof=2), x.std(axis=0, ddof=1)]
    value = np.array([[1.0, 2.0, 3.0], [4.0, 2.0, 7.0]])
    want = assert_every_backend_evaluates(outs, [x], [value])
    np.testing.assert_array_equal(want[0], np.inf)
    np.testing.assert_array_equal(want[2], [np.inf, np.nan, np.inf])


@pytest.mark.parametrize("ddof", [0, 4, 5, 6])
def test_var_and_std_gradients_with_any_ddof_agree_on_every_backend(graph, ddof):
    x = sg.var("x", shape=(2, 5))
    loss = sg.sum(x.var(axis=1, ddof=ddof) * sg.const([1.0, 2.0])) + sg.sum(
        x.std(axis=1, ddof=ddof))
    outs = [sg.grad(loss, x), sg.hvp(loss, x, sg.const(np.ones((2, 5))))]
    want = assert_every_backend_evaluates(outs, [x], [_DATA])
    if ddof < 5:  # a finite slope, as finite differences see it
        np.testing.assert_allclose(want[0][0], 2 * (_DATA[0] - _DATA[0].mean()) / (5 - ddof)
                                   + (_DATA[0] - _DATA[0].mean()) / ((5 - ddof) * np.std(
                                       _DATA[0], ddof=ddof)), rtol=1e-12)
        np.testing.assert_array_equal(want[0][1], 0.0)  # a constant slice: 0 (subgradient)
    else:  # the value is inf (NaN) for every x: so is its slope, never a finite number
        assert not np.isfinite(want[0]).any()

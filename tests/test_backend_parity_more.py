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


# --- zero-size arrays: dask made empty results through blocked algorithms that fail on them ----


@pytest.mark.parametrize("shape", [(0, 3), (None, 3)])
def test_softmax_family_of_an_empty_batch_equals_evaluate_on_every_backend(graph, shape):
    x = sg.var("x", shape=shape)
    outs = [sg.softmax(x, axis=1), sg.logsumexp(x, axis=1), sg.log_softmax(x, axis=1),
            sg.logsumexp(x, axis=1, keepdims=True),
            sg.grad(sg.sum(sg.logsumexp(x, axis=1)), x),
            sg.grad(sg.sum(sg.softmax(x, axis=1) ** 2), x)]
    want = assert_every_backend_evaluates(outs, [x], [np.zeros((0, 3))])
    assert [w.shape for w in want] == [(0, 3), (0,), (0, 3), (0, 1), (0, 3), (0, 3)]


@pytest.mark.parametrize("shape", [(0, 3), (None, 3)])
def test_softmax_family_over_an_empty_axis_is_empty_and_logsumexp_minus_inf(graph, shape):
    # as JAX (jax.nn) and scipy.special.logsumexp: the log of an empty sum is -inf
    x = sg.var("x", shape=shape)
    outs = [sg.softmax(x, axis=0), sg.log_softmax(x, axis=0), sg.logsumexp(x, axis=0),
            sg.logsumexp(x, axis=None), sg.grad(sg.sum(sg.logsumexp(x, axis=0)), x),
            sg.grad(sg.sum(sg.softmax(x, axis=0) ** 2), x)]
    want = assert_every_backend_evaluates(outs, [x], [np.zeros((0, 3))])
    assert [w.shape for w in want] == [(0, 3), (0, 3), (3,), (), (0, 3), (0, 3)]
    np.testing.assert_array_equal(want[2], [-np.inf] * 3)
    assert want[3] == -np.inf
    jax = pytest.importorskip("jax")
    np.testing.assert_array_equal(want[2], jax.nn.logsumexp(np.zeros((0, 3)), axis=0))


def test_softmax_family_of_a_non_empty_array_is_unchanged(graph):
    x = sg.var("x", shape=(2, 3))
    value = np.array([[1000.0, 1000.0, -np.inf], [np.nan, 0.0, 1.0]])
    want = assert_every_backend_evaluates(
        [sg.softmax(x), sg.logsumexp(x, axis=0), sg.log_softmax(x, axis=0)], [x], [value])
    np.testing.assert_allclose(want[0][0], [0.5, 0.5, 0.0])
    assert np.isnan(want[0][1]).all()


@pytest.mark.parametrize("shape", [(0, 2), (None, 2), (2, 0)])
def test_pad_of_an_empty_array_is_the_padding_on_every_backend(graph, shape):
    x = sg.var("x", shape=shape)
    widths, values = ((1, 2), (1, 1)), ((1.0, 2.0), (3.0, 4.0))
    outs = [sg.pad(x, widths, constant_values=values), sg.pad(x, ((0, 0), (2, 1))),
            sg.grad(sg.sum(sg.pad(x, 1) * 2.0), x)]
    value = np.zeros(tuple(0 if d is None else d for d in shape))
    want = assert_every_backend_evaluates(outs, [x], [value])
    # np.pad writes axis after axis: the later axis's values in the corners
    np.testing.assert_array_equal(want[0], np.pad(value, widths, constant_values=values))
    if shape[0] != 2:
        np.testing.assert_array_equal(want[0], [[3, 1, 1, 4], [3, 2, 2, 4], [3, 2, 2, 4]])
    assert want[2].shape == value.shape


@pytest.mark.parametrize("shape", [(0, 3), (None, 3), (3, None)])
def test_tile_and_its_gradient_of_an_empty_array_on_every_backend(graph, shape):
    # dask's reshape of the gradient's two empty blocks (one per copy) raised a TypeError
    x = sg.var("x", shape=shape)
    outs = [sg.tile(x, (2, 2)), sg.grad(sg.sum(sg.tile(x, (2, 1)) ** 2), x),
            sg.grad(sg.sum(sg.tile(x, (2, 2)) * 3.0), x)]
    value = np.zeros(tuple(0 if d is None else d for d in shape))
    want = assert_every_backend_evaluates(outs, [x], [value])
    assert want[0].shape == tuple(2 * d for d in value.shape)
    assert want[1].shape == want[2].shape == value.shape


def test_max_over_the_non_empty_axis_of_an_empty_array_is_empty_as_numpys(graph):
    x = sg.var("x", shape=(0, 3))
    want = assert_every_backend_evaluates(
        [sg.max(x, axis=1), x.max(axis=1, keepdims=True), sg.grad(sg.sum(sg.max(x, axis=1)), x)],
        [x], [np.zeros((0, 3))])
    assert [w.shape for w in want] == [(0,), (0, 1), (0, 3)]
    with pytest.raises(sg.ShapeError, match=r"max of 'x'.*a reduced axis has length 0"):
        sg.max(x, axis=0)
    with pytest.raises(sg.ShapeError, match=r"max of 'x'.*a reduced axis has length 0"):
        sg.max(x)


# --- round: NumPy's own algorithm (rint(x * 10**d) / 10**d), wrapping casts --------------------

@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int64", "float32", "float64"])
@pytest.mark.parametrize("decimals", [-400, -20, -3, -1, 0, 1, 2, 17, 300, 400])
def test_round_equals_numpy_on_every_backend(graph, dtype, decimals):
    """jax saturated int8 127 rounded to tens (NumPy wraps: -126) and returned x for 400
    decimals (NumPy: NaN, 10**400 being inf)."""
    info = np.iinfo(dtype) if dtype[0] in "iu" else np.finfo(dtype)
    values = np.array([0, 1, 5, 15, 25, 35, 127, 99, info.max, info.min, 2.675, -0.125,
                       123.456, 1e-5], dtype=np.float64)
    if dtype[0] in "iu":
        values = values[(values >= info.min) & (values <= info.max)].round().astype(dtype)
    else:
        values = values.astype(dtype)
    x = sg.var("x", shape=values.shape, dtype=dtype)
    y = sg.round(x, decimals)
    with np.errstate(all="ignore"):
        expected = np.round(values, decimals)
    want = assert_every_backend_evaluates([y], [x], [values])
    np.testing.assert_array_equal(want[0], expected)
    assert want[0].dtype == expected.dtype


def test_moments_of_a_broadcast_overflow_as_numpy_on_every_backend(graph):
    """XLA took mean(broadcast_to(x)) for x: the largest float's mean over three copies is
    inf in NumPy (the sum overflows), and its variance inf, not 0."""
    x = sg.var("x")
    b = sg.broadcast_to(x, (3,))
    outs = [sg.mean(b), sg.variance(b), sg.std(b), sg.mean(b * 2.0)]
    big = np.finfo(np.float64).max
    for point in (big, 1.5, -big):
        want = assert_every_backend_evaluates(outs, [x], [np.float64(point)])
        with np.errstate(all="ignore"):
            numpy = [np.mean(np.full(3, point)), np.var(np.full(3, point)),
                     np.std(np.full(3, point)), np.mean(np.full(3, point) * 2.0)]
        for w, n in zip(want, numpy):
            np.testing.assert_array_equal(w, n)

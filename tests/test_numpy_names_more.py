"""More of the NumPy / jax.numpy names users reach for: the layout helpers
(symgraph.ops.arrangement, symgraph.ops.editing), comparing and taking numbers apart
(symgraph.ops.numbers, symgraph.ops.polynomials), the NaN-ignoring arg-reductions and
quantiles (symgraph.ops.nanreduce) and the functions whose length depends on the values
(symgraph.ops.counting: jax.numpy's size= forms, histogram).

Values, dtypes and shapes against NumPy (or jax.numpy, for the size= forms) on float64,
float32 and integer inputs with NaN, inf and signed zeros; derivatives to second order by
finite differences and in forward mode; every backend equal to evaluate; the refusals."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

BACKENDS = ["python", "numpy", "numba", "jax", "dask"]
rng = np.random.default_rng(11)
T = rng.normal(size=(2, 3, 4))
M = rng.normal(size=(3, 4))
V = rng.normal(size=4)
I32 = rng.integers(-9, 9, size=(3, 4)).astype(np.int32)
F32 = M.astype(np.float32)
SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -2.5, 0.5, 1.5, 3.0, 1e300])


def assert_numpy_equal(got, want, exact=True):
    got, want = np.asarray(got), np.asarray(want)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    if exact or want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
        if want.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def _on_nodes(call, *arrays):
    """``call`` of nodes fed ``arrays``: the values, as a list."""
    with sg.Graph():
        nodes = [sg.var(f"x{k}", shape=a.shape, dtype=a.dtype) for k, a in enumerate(arrays)]
        out = call(sg, *nodes)
        parts = list(out) if isinstance(out, (tuple, list)) else [out]
        assert all(isinstance(p, sg.Node) for p in parts)
        return sg.evaluate(parts, dict(zip(nodes, arrays)))


def _numpy(call, *arrays):
    with np.errstate(all="ignore"):
        out = call(np, *arrays)
    return list(out) if isinstance(out, (tuple, list)) else [out]


# --- layout helpers ------------------------------------------------------------------------------

LAYOUT = [
    ("atleast_1d", lambda m, x: m.atleast_1d(x), [np.array(2.5)]),
    ("atleast_1d-many", lambda m, x, y: m.atleast_1d(x, y), [np.array(2.5), M]),
    ("atleast_2d", lambda m, x: m.atleast_2d(x), [V]),
    ("atleast_2d-scalar", lambda m, x: m.atleast_2d(x), [np.array(1, np.int32)]),
    ("atleast_3d-vector", lambda m, x: m.atleast_3d(x), [V]),
    ("atleast_3d-matrix", lambda m, x: m.atleast_3d(x), [F32]),
    ("atleast_3d-3d", lambda m, x: m.atleast_3d(x), [T]),
    ("column_stack", lambda m, x, y: m.column_stack([x, y, x]), [V, M.T]),
    ("column_stack-int", lambda m, x: m.column_stack((x, x)), [I32[0]]),
    ("dstack", lambda m, x, y: m.dstack([x, y]), [V, V]),
    ("dstack-matrix", lambda m, x: m.dstack([x, x, x]), [F32]),
    ("hsplit", lambda m, x: m.hsplit(x, 2), [M]),
    ("hsplit-vector", lambda m, x: m.hsplit(x, [1, 3]), [V]),
    ("vsplit", lambda m, x: m.vsplit(x, [1]), [M]),
    ("dsplit", lambda m, x: m.dsplit(x, 2), [T]),
    ("broadcast_arrays", lambda m, x, y: m.broadcast_arrays(x, y), [M[:, :1], V]),
    ("broadcast_arrays-int-float", lambda m, x, y: m.broadcast_arrays(x, y), [I32, V]),
    ("fliplr", lambda m, x: m.fliplr(x), [T]),
    ("flipud", lambda m, x: m.flipud(x), [I32]),
    ("append", lambda m, x, y: m.append(x, y), [M, V]),
    ("append-axis", lambda m, x, y: m.append(x, y, axis=1), [M, M]),
    ("append-int-float", lambda m, x: m.append(x, 1.5), [I32]),
    ("diagflat", lambda m, x: m.diagflat(x, 1), [M[:2, :2]]),
    ("diagflat-int", lambda m, x: m.diagflat(x, -2), [I32[0]]),
    ("ediff1d", lambda m, x: m.ediff1d(x, to_end=[1, 2], to_begin=-3.0), [M]),
    ("ediff1d-int", lambda m, x: m.ediff1d(x), [I32]),
    ("ediff1d-specials", lambda m, x: m.ediff1d(x), [SPECIAL]),
    ("vdot", lambda m, x, y: m.vdot(x, y), [M, M.T]),
    ("vdot-int", lambda m, x, y: m.vdot(x, y), [I32, I32]),
    ("polyval", lambda m, p, x: m.polyval(p, x), [V, M]),
    ("polyval-specials", lambda m, p, x: m.polyval(p, x), [V[:3], SPECIAL]),
    ("polyval-int", lambda m, p, x: m.polyval(p, x), [I32[0], I32]),
    ("vander", lambda m, x: m.vander(x), [V]),
    ("vander-N", lambda m, x: m.vander(x, 2, increasing=True), [SPECIAL]),
    ("vander-float32", lambda m, x: m.vander(x, 3), [F32[0]]),
    ("vander-int", lambda m, x: m.vander(x, 5), [I32[1]]),
    ("vander-0", lambda m, x: m.vander(x, 0), [V]),
]


@pytest.mark.parametrize("call, arrays", [pytest.param(c, a, id=n) for n, c, a in LAYOUT])
def test_layout_helpers_equal_numpy(call, arrays):
    got, want = _on_nodes(call, *arrays), _numpy(call, *arrays)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_numpy_equal(g, w, exact=False)


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 5])
@pytest.mark.parametrize("axes", [(0, 1), (1, 0), (2, 0), (-1, 1)])
def test_rot90_equals_numpy(k, axes):
    (got,) = _on_nodes(lambda m, x: m.rot90(x, k, axes), T)
    assert_numpy_equal(got, np.rot90(T, k, axes))


@pytest.mark.parametrize("axis", [-3, -1, 0, 2])
@pytest.mark.parametrize("start", [-3, 0, 1, 3])
def test_rollaxis_equals_numpy(axis, start):
    (got,) = _on_nodes(lambda m, x: m.rollaxis(x, axis, start), T)
    assert_numpy_equal(got, np.rollaxis(T, axis, start))


@pytest.mark.parametrize("obj", [0, -1, [0, 2], slice(1, 3), [True, False, True, False], [],
                                 [3, 3], np.array([1])])
@pytest.mark.parametrize("axis", [None, 1, -1])
def test_delete_equals_numpy(obj, axis):
    for x in (M, I32):
        try:
            want = np.delete(x, obj, axis=axis)
        except (ValueError, IndexError):  # (a mask of another length): refused alike
            with pytest.raises(sg.SymgraphError, match="NumPy refuses"):
                _on_nodes(lambda m, a: m.delete(a, obj, axis=axis), x)
            continue
        (got,) = _on_nodes(lambda m, a: m.delete(a, obj, axis=axis), x)
        assert_numpy_equal(got, want)


@pytest.mark.parametrize("obj", [0, -1, 2, [1], [0, 2], [2, 0, 2], slice(0, 3, 2), 3])
@pytest.mark.parametrize("values", [7.5, [[1.0], [2.0], [3.0]], np.array([-0.0, 2.0])])
@pytest.mark.parametrize("axis", [None, 1, 0])
def test_insert_equals_numpy(obj, values, axis):
    x = M[:, :3]
    try:
        want = np.insert(x, obj, values, axis=axis)
    except (ValueError, IndexError):
        with pytest.raises(sg.SymgraphError):
            _on_nodes(lambda m, a: m.insert(a, obj, values, axis=axis), x)
        return
    (got,) = _on_nodes(lambda m, a: m.insert(a, obj, values, axis=axis), x)
    assert_numpy_equal(got, want)


def test_insert_of_node_values_casts_them_to_the_arrays_dtype():
    (got,) = _on_nodes(lambda m, a, v: m.insert(a, [1, 3], v, axis=1), I32, np.array([2.7]))
    assert_numpy_equal(got, np.insert(I32, [1, 3], np.array([2.7]), axis=1))
    (got,) = _on_nodes(lambda m, a, v: m.insert(a, 1, v, axis=0), M, V)
    assert_numpy_equal(got, np.insert(M, 1, V, axis=0))


# --- numbers --------------------------------------------------------------------------------------

OTHER = np.array([1.0, -0.0, np.nan, 0.0, -0.0, 1.5, -2.5, 0.5 + 1e-9, 3.1, 1e300 * (1 + 1e-6)])
NUMBERS = [
    ("isclose", lambda m, a, b: m.isclose(a, b), [SPECIAL, OTHER]),
    ("isclose-equal_nan", lambda m, a, b: m.isclose(a, b, 1e-3, 0.0, True), [SPECIAL, OTHER]),
    ("isclose-float32", lambda m, a, b: m.isclose(a, b), [F32, F32 + np.float32(1e-6)]),
    ("isclose-int", lambda m, a, b: m.isclose(a, b, atol=1.0), [I32, I32[::-1]]),
    ("isclose-int-float", lambda m, a, b: m.isclose(a, b), [I32, I32.astype(float) + 1e-9]),
    ("allclose", lambda m, a, b: m.allclose(a, b), [M, M + 1e-10]),
    ("allclose-nan", lambda m, a, b: m.allclose(a, b, equal_nan=True), [SPECIAL, SPECIAL]),
    ("array_equal", lambda m, a, b: m.array_equal(a, b), [SPECIAL, SPECIAL]),
    ("array_equal-nan", lambda m, a, b: m.array_equal(a, b, equal_nan=True), [SPECIAL, SPECIAL]),
    ("array_equal-shapes", lambda m, a, b: m.array_equal(a, b), [M, M[:2]]),
    ("array_equal-int", lambda m, a, b: m.array_equal(a, b, equal_nan=True), [I32, I32]),
    ("real", lambda m, a: m.real(a), [SPECIAL]),
    ("imag", lambda m, a: m.imag(a), [F32]),
    ("imag-int", lambda m, a: m.imag(a), [I32]),
    ("conj", lambda m, a: m.conj(a), [SPECIAL]),
    ("conjugate-bool", lambda m, a: m.conjugate(a), [M > 0]),
    ("ldexp", lambda m, a, n: m.ldexp(a, n), [SPECIAL, np.arange(-5, 5)]),
    ("ldexp-far", lambda m, a, n: m.ldexp(a, n), [np.array([1e-300, 1e300, 3.0]),
                                                  np.array([1100, -2000, -1074])]),
    ("ldexp-float32", lambda m, a, n: m.ldexp(a, n), [F32, I32]),
    ("ldexp-int", lambda m, a, n: m.ldexp(a, n), [I32, I32 % 5]),
    ("divmod", lambda m, a, b: m.divmod(a, b), [SPECIAL, OTHER]),
    ("divmod-int", lambda m, a, b: m.divmod(a, b), [I32, I32[::-1] % 4 + 1]),
    ("gcd", lambda m, a, b: m.gcd(a, b), [I32, I32[::-1]]),
    ("lcm", lambda m, a, b: m.lcm(a, b), [I32, I32[::-1]]),
    ("gcd-int64", lambda m, a, b: m.gcd(a, b), [np.array([12, -18, 0, 7]),
                                                  np.array([8, 27, 0, 0])]),
    ("digitize", lambda m, x: m.digitize(x, [-1.0, 0.0, 1.5]), [SPECIAL]),
    ("digitize-right", lambda m, x: m.digitize(x, [-1.0, 0.0, 0.0, 1.5], right=True), [SPECIAL]),
    ("digitize-decreasing", lambda m, x: m.digitize(x, [3.0, 0.5, -1.0]), [SPECIAL]),
    ("digitize-node-bins", lambda m, x, b: m.digitize(x, b), [SPECIAL, np.array([-1.0, 0.5, 2.0])]),
    ("digitize-int", lambda m, x: m.digitize(x, [0, 2, 4]), [I32]),
]


@pytest.mark.parametrize("call, arrays", [pytest.param(c, a, id=n) for n, c, a in NUMBERS])
def test_numbers_equal_numpy(call, arrays):
    got, want = _on_nodes(call, *arrays), _numpy(call, *arrays)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_numpy_equal(g, w)


def test_numpys_ufuncs_of_nodes_build_these():
    with sg.Graph():
        i, j = sg.var("i", shape=(3,), dtype="int64"), sg.var("j", shape=(3,), dtype="int64")
        x = sg.var("x", shape=(3,))
        built = [np.gcd(i, j), np.lcm(i, 4), np.ldexp(x, j), *np.divmod(x, 2.0), np.conj(x),
                 np.real(x), np.imag(x)]
        assert all(isinstance(n, sg.Node) for n in built)
        assert np.conj(x) is x and divmod(x, 2.0)[0] is built[3]
        feed = {i: [12, -8, 0], j: [18, 6, 5], x: [1.5, -0.0, np.inf]}
        got = sg.evaluate(built, feed)
    values = [np.array(v) for v in feed.values()]
    with np.errstate(all="ignore"):
        want = [np.gcd(values[0], values[1]), np.lcm(values[0], 4),
                np.ldexp(values[2], values[1]), *np.divmod(values[2], 2.0), values[2],
                values[2], np.zeros(3)]
    for g, w in zip(got, want):
        assert_numpy_equal(g, w)


# --- NaN-ignoring arg-reductions and quantiles ----------------------------------------------------

NANS = rng.normal(size=(4, 5, 3))
NANS[0, 1, :] = np.nan
NANS[1, :, 2] = np.nan
NANS[2, 3, 1] = np.nan
NANS[2, 0, 0] = np.inf
NANS[3, 2, :] = -np.inf


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("q", [0.5, [0.0, 0.3, 1.0], 0.999, np.float64(0.25), [[0.1], [0.9]]])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_nanquantile_is_numpys_to_the_bit(dtype, q, axis):
    x = NANS.astype(dtype)
    for keepdims in (False, True):
        (got,) = _on_nodes(lambda m, a: m.nanquantile(a, q, axis=axis, keepdims=keepdims), x)
        with _quiet():  # (NumPy warns of its all-NaN slices)
            want = np.nanquantile(x, q, axis=axis, keepdims=keepdims)
        assert_numpy_equal(got, want)


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def test_nanpercentile_and_integers():
    (got,) = _on_nodes(lambda m, a: m.nanpercentile(a, [10, 90], axis=1), NANS)
    with _quiet():
        assert_numpy_equal(got, np.nanpercentile(NANS, [10, 90], axis=1))
    (got,) = _on_nodes(lambda m, a: m.nanquantile(a, 0.3, axis=1), I32)
    assert_numpy_equal(got, np.nanquantile(I32, 0.3, axis=1))


@pytest.mark.parametrize("axis", [None, 0, 1, 2])
def test_nanargmax_and_nanargmin_are_numpys_and_minus_one_for_a_slice_of_nan(axis):
    for ours, theirs, fill in (("nanargmax", np.nanargmax, -np.inf),
                               ("nanargmin", np.nanargmin, np.inf)):
        for keepdims in (False, True):
            (got,) = _on_nodes(lambda m, a: getattr(m, ours)(a, axis, keepdims=keepdims), NANS)
            nan = np.isnan(NANS)
            if nan.all(axis=axis).any():  # NumPy raises; symgraph's -1 is jax.numpy's
                with pytest.raises(ValueError, match="All-NaN slice"):
                    theirs(NANS, axis=axis)
                plain = np.argmax if ours == "nanargmax" else np.argmin
                want = np.where(nan.all(axis=axis, keepdims=keepdims), -1,
                                plain(np.where(nan, fill, NANS), axis=axis, keepdims=keepdims))
            else:
                want = theirs(NANS, axis=axis, keepdims=keepdims)
            assert_numpy_equal(got, want)
    (got,) = _on_nodes(lambda m, a: m.nanargmax(a, axis=1), I32)
    assert_numpy_equal(got, np.nanargmax(I32, axis=1))


# --- lengths that depend on the values ------------------------------------------------------------

MASKED = np.array([[0.0, 2.0, np.nan, 0.0], [-0.0, 0.0, 1.0, 3.0], [0.0, 0.0, 0.0, 5.0]])


@pytest.mark.parametrize("size", [0, 3, 5, 12, 15])
def test_nonzero_with_a_size_is_jax_numpys_and_numpys_when_the_size_fits(size):
    jnp = pytest.importorskip("jax.numpy")
    for fill in (None, -1, (7, 8)):
        got = _on_nodes(lambda m, a: m.nonzero(a, size=size, fill_value=fill), MASKED)
        with _x64():
            want = jnp.nonzero(MASKED, size=size, fill_value=fill)
        for g, w in zip(got, want):
            assert_numpy_equal(g, np.asarray(w, np.intp))
        flat = 3 if isinstance(fill, tuple) else fill
        (got,) = _on_nodes(lambda m, a: m.flatnonzero(a, size=size, fill_value=flat), MASKED)
        with _x64():
            assert_numpy_equal(got, np.asarray(jnp.flatnonzero(MASKED, size=size,
                                                               fill_value=flat), np.intp))
        (got,) = _on_nodes(lambda m, a: m.argwhere(a, size=size, fill_value=fill), MASKED)
        with _x64():
            assert_numpy_equal(got, np.asarray(jnp.argwhere(MASKED, size=size,
                                                            fill_value=fill), np.intp))
    count = np.count_nonzero(MASKED)
    got = _on_nodes(lambda m, a: m.nonzero(a, size=count), MASKED)
    for g, w in zip(got, np.nonzero(MASKED)):
        assert_numpy_equal(g, w)
    (got,) = _on_nodes(lambda m, a: m.argwhere(a, size=count), MASKED)
    assert_numpy_equal(got, np.argwhere(MASKED))


def _x64():
    """jax.numpy's int64 and float64 (its default is 32 bits), for the reference values."""
    import jax
    return jax.enable_x64(True)


UNIQUE = np.array([3.0, 1.0, np.nan, 3.0, 2.0, np.nan, 1.0, -2.5, 3.0])


@pytest.mark.parametrize("size", [1, 4, 6, 9, 12])
@pytest.mark.parametrize("equal_nan", [True, False])
def test_unique_with_a_size_is_jax_numpys(size, equal_nan):
    jnp = pytest.importorskip("jax.numpy")
    for fill in (None, 9.5):
        got = _on_nodes(lambda m, a: m.unique(a, return_counts=True, size=size,
                                              fill_value=fill, equal_nan=equal_nan), UNIQUE)
        with _x64():
            want = jnp.unique(UNIQUE, return_counts=True, size=size, fill_value=fill,
                              equal_nan=equal_nan)
        assert_numpy_equal(got[0], np.asarray(want[0]))
        assert_numpy_equal(got[1], np.asarray(want[1], np.intp))
    values, counts = np.unique(UNIQUE, return_counts=True, equal_nan=equal_nan)
    got = _on_nodes(lambda m, a: m.unique(a, return_counts=True, size=values.size,
                                          equal_nan=equal_nan), UNIQUE)
    assert_numpy_equal(got[0], values)
    assert_numpy_equal(got[1], counts)
    (got,) = _on_nodes(lambda m, a: m.unique(a, size=4), I32)
    assert_numpy_equal(got, np.unique(I32)[:4])


@pytest.mark.parametrize("length", [1, 3, 6, 9])
def test_bincount_with_a_length_is_jax_numpys(length):
    jnp = pytest.importorskip("jax.numpy")
    x = np.array([0, 2, 2, 5, 1, -3, 8])
    w = np.array([1.0, np.nan, 2.0, 3.0, np.inf, 4.0, 0.5])
    got = _on_nodes(lambda m, a, b: [m.bincount(a, length=length),
                                     m.bincount(a, b, length=length)], x, w)
    with _x64():
        assert_numpy_equal(got[0], np.asarray(jnp.bincount(x, length=length), np.intp))
        assert_numpy_equal(got[1], np.asarray(jnp.bincount(x, w, length=length)))
    x = np.abs(x)  # NumPy's own, where the length is max(x) + 1
    got = _on_nodes(lambda m, a, b: [m.bincount(a, length=9), m.bincount(a, b, 3, length=9)],
                    x, w.astype(np.float32))
    assert_numpy_equal(got[0], np.bincount(x))
    assert_numpy_equal(got[1], np.bincount(x, w.astype(np.float32), 3))


HIST = rng.normal(size=30)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
@pytest.mark.parametrize("bins", [1, 4, 10, [-2.0, -0.5, 0.0, 0.0, 1.0, 2.5]])
@pytest.mark.parametrize("span", [None, (-1, 1), (0.5, 0.5)])
def test_histogram_is_numpys(dtype, bins, span):
    a = (HIST * 3 if dtype == "int64" else HIST).astype(dtype)
    weights = rng.random(30).astype(np.float32)
    if not isinstance(bins, int) and span is not None:
        return  # (NumPy takes range with edges too; symgraph asks for one or the other)
    for density in (None, True):
        for w in (None, weights):
            got = _on_nodes(lambda m, x: m.histogram(x, bins, span, density, w), a)
            with _quiet():  # (a density of no counts: 0/0)
                want = np.histogram(a, bins, span, density, w)
            assert_numpy_equal(got[1], want[1])
            assert got[0].dtype == want[0].dtype
            np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    got = _on_nodes(lambda m, x: m.histogram(np.asarray(a), bins, span)[0] + x * 0, a[:1])
    np.testing.assert_array_equal(got[0], np.histogram(a, bins, span)[0])


def test_histogram_of_a_constant_or_nan_slice():
    got = _on_nodes(lambda m, x: m.histogram(x, 4), np.full(5, 2.0))
    for g, w in zip(got, np.histogram(np.full(5, 2.0), 4)):
        assert_numpy_equal(g, w)
    counts, edges = _on_nodes(lambda m, x: m.histogram(x, 3), np.array([1.0, np.nan]))
    assert counts.tolist() == [0, 0, 0] and np.isnan(edges).all()  # NumPy raises


# --- derivatives ---------------------------------------------------------------------------------

P = np.array([0.3, 1.7, -0.8, 2.2])
Q = np.array([1.1, -0.6, 0.4, 1.3])
DIFFERENTIABLE = {  # name: build of two vectors of 4
    "atleast_3d": lambda x, z: sg.atleast_3d(sg.outer(x, z)) * 2.0,
    "column_stack": lambda x, z: sg.column_stack([x, sg.outer(z, x)]),
    "dstack": lambda x, z: sg.dstack([x * z, x]),
    "hsplit": lambda x, z: sg.hsplit(sg.outer(x, z), 2)[1]
    * sg.vsplit(sg.outer(z, x), [1])[1][0, :2],
    "dsplit": lambda x, z: sg.dsplit(sg.reshape(x * z, (1, 1, 4)), [1])[1],
    "broadcast_arrays": lambda x, z: sg.broadcast_arrays(x[:, None], z)[0]
    * sg.broadcast_arrays(x[:, None], z)[1],
    "fliplr-flipud": lambda x, z: sg.fliplr(sg.outer(x, z)) + sg.flipud(sg.outer(z, x)),
    "rot90": lambda x, z: sg.rot90(sg.outer(x, z * z), 3),
    "rollaxis": lambda x, z: sg.rollaxis(sg.reshape(sg.outer(x, z), (2, 2, 4)), 2, 1),
    "append": lambda x, z: sg.append(x, z * x),
    "delete": lambda x, z: sg.delete(sg.outer(x, z), [0, 2], axis=1),
    "insert": lambda x, z: sg.insert(x * x, [1, 1, 3], z[:3]),
    "insert-block": lambda x, z: sg.insert(sg.outer(x, z), 2, z, axis=0),
    "diagflat": lambda x, z: sg.diagflat(x * z, 1),
    "ediff1d": lambda x, z: sg.ediff1d(x * z, to_begin=z[:1], to_end=x[:2]),
    "vdot": lambda x, z: sg.vdot(sg.outer(x, z), sg.outer(z, z)),
    "polyval": lambda x, z: sg.polyval(x, z),
    "vander": lambda x, z: sg.vander(x * z, 5),
    "ldexp": lambda x, z: sg.ldexp(x * z, sg.const(np.array([2, -1, 0, 3]))),
    "divmod": lambda x, z: sg.divmod(x * x, z)[1],
    "nanquantile": lambda x, z: sg.nanquantile(sg.outer(x, z), [0.2, 0.7], axis=1),
    "nanpercentile": lambda x, z: sg.nanpercentile(x * z, 40),
    "unique": lambda x, z: sg.unique(x * z, size=3),
    "histogram-edges": lambda x, z: sg.histogram(x * z, 3)[1],
    "histogram-weights": lambda x, z: sg.histogram(x, [-1.0, 0.0, 1.0, 3.0], weights=z * z)[0],
    "bincount-weights": lambda x, z: sg.bincount(sg.const(np.array([0, 2, 2, 1])), z * x,
                                                 length=3),
}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_derivatives_to_second_order(name):
    with sg.Graph():
        x, z = sg.var("x", shape=(4,)), sg.var("z", shape=(4,))
        y = sg.sum(sg.sin(DIFFERENTIABLE[name](x, z)))
        assert sg.check_grad(y, [x, z], {x: P, z: Q}, order=2) < 1e-5


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_forward_mode_matches_finite_differences(name):
    v, w, h = np.array([0.3, -0.5, 0.2, 0.7]), np.array([-0.4, 0.1, 0.6, 0.2]), 1e-6
    with sg.Graph():
        x, z = sg.var("x", shape=(4,)), sg.var("z", shape=(4,))
        y = DIFFERENTIABLE[name](x, z)
        tangent = sg.evaluate(sg.jvp(y, [x, z], [v, w]), {x: P, z: Q})
        ahead, behind = (sg.evaluate(y, {x: P + s * h * v, z: Q + s * h * w}) for s in (1, -1))
    np.testing.assert_allclose(tangent, (ahead - behind) / (2 * h), rtol=1e-6, atol=1e-7)


# --- backends ------------------------------------------------------------------------------------

def _outputs(x, z, i):
    outs = [build(x, z) for build in DIFFERENTIABLE.values()]
    outs += [sg.grad(sg.sum(build(x, z)), x) for build in DIFFERENTIABLE.values()]
    outs += [sg.isclose(x, z, equal_nan=True), sg.allclose(x, z), sg.array_equal(x, z),
             sg.gcd(i, i[::-1]), sg.lcm(i, 3), sg.ldexp(x, i), sg.digitize(x, [-1.0, 0.5, 2.0]),
             sg.nanargmax(x), sg.nanargmin(sg.outer(x, z), axis=0), sg.imag(x),
             *sg.nonzero(sg.outer(x, z) > 0, size=5), sg.argwhere(x > 0, size=3),
             *sg.unique(sg.floor(x), return_counts=True, size=3), sg.bincount(i, length=4),
             *sg.histogram(x, 3), sg.vander(i, 3)]
    return outs


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_equals_evaluate(backend):
    if not sg.backends().get(backend):
        pytest.skip(f"{backend} is not installed")
    ints = np.array([3, 0, 2, 6])
    with sg.Graph():
        x, z = sg.var("x", shape=(4,)), sg.var("z", shape=(4,))
        i = sg.var("i", shape=(4,), dtype="int64")
        outs = _outputs(x, z, i)
        f = sg.compile(outs, [x, z, i], backend=backend)
        for at in ((P, Q, ints), (np.array([np.nan, -0.0, np.inf, 1.0]), Q, ints)):
            want = sg.evaluate(outs, dict(zip((x, z, i), at)))
            got = f(*at)
            for k, (g, w) in enumerate(zip(got, want)):
                assert_same_values(np.asarray(g), w, rtol=1e-12, atol=1e-15,
                                   what=f"output {k} at {at}")


# --- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, part", [
    (lambda v, m, i, s: sg.nonzero(v), "sg.nonzero of 'v' .shape .4,..: its length depends on "
     "the values, known only when the graph runs.*give the length, as jax.numpy does under "
     "jit: sg.nonzero.x, size=k, fill_value=...."),
    (lambda v, m, i, s: sg.flatnonzero(m), "sg.flatnonzero of 'm'.*sg.flatnonzero.x, size=k"),
    (lambda v, m, i, s: sg.argwhere(m), "sg.argwhere of 'm'.*sg.argwhere.x, size=k"),
    (lambda v, m, i, s: sg.unique(v), "sg.unique of 'v'.*sg.unique.x, size=k, fill_value"),
    (lambda v, m, i, s: sg.bincount(i), "sg.bincount of 'i'.*sg.bincount.x, length=n."),
    (lambda v, m, i, s: sg.nonzero(s, size=2), "NumPy refuses 0-d arrays; use sg.atleast_1d"),
    (lambda v, m, i, s: sg.nonzero(v, size=2, fill_value=(1, 2)), "a tuple of 1 ints"),
    (lambda v, m, i, s: sg.nonzero(v, size=-1), "size=-1 must be >= 0"),
    (lambda v, m, i, s: sg.nonzero(v, size=s), "size is the node 's'"),
    (lambda v, m, i, s: sg.unique(v, return_index=True, size=2), "return_index=True is not"),
    (lambda v, m, i, s: sg.unique(m, axis=0, size=2), "axis=0 is not supported"),
    (lambda v, m, i, s: sg.bincount(v, length=3), "x must be a 1-D array of integers"),
    (lambda v, m, i, s: sg.bincount(i, v[:2], length=3), "must have x's shape"),
    (lambda v, m, i, s: sg.histogram(v, "auto"), "bins='auto' .NumPy's estimators. is not"),
    (lambda v, m, i, s: sg.histogram(v, 0), "bins=0 must be positive"),
    (lambda v, m, i, s: sg.histogram(v, 3, range=(2, 1)), "must be finite with min <= max"),
    (lambda v, m, i, s: sg.histogram(v, [2.0, 1.0]), "the edges must increase"),
    (lambda v, m, i, s: sg.gcd(v, i), "gcd of 'v'.*float64; gcd is defined for integers only"),
    (lambda v, m, i, s: sg.lcm(i, 1.5), "lcm of.*integers only"),
    (lambda v, m, i, s: sg.ldexp(v, v), "the exponent 'v'.* must be an integer"),
    (lambda v, m, i, s: sg.real(1 + 2j), "real: .1.2j. is complex; symgraph has no complex"),
    (lambda v, m, i, s: sg.imag([1j]), "imag: .*complex"),
    (lambda v, m, i, s: sg.isclose(v, v, equal_nan=None), "equal_nan must be True or False"),
    (lambda v, m, i, s: sg.digitize(v, [3.0, 1.0, 2.0]), "digitize: NumPy refuses"),
    (lambda v, m, i, s: sg.digitize(v, m), "the bins .* must be 1-D"),
    (lambda v, m, i, s: sg.vdot(v, m), "4 and 12 elements"),
    (lambda v, m, i, s: sg.polyval(m, v), "the coefficients 'm' .* must be 1-D"),
    (lambda v, m, i, s: sg.vander(m), "x must be 1-D"),
    (lambda v, m, i, s: sg.vander(v, -1), "N=-1 must be >= 0"),
    (lambda v, m, i, s: sg.fliplr(v), "the input must have 2 or more axes"),
    (lambda v, m, i, s: sg.flipud(s), "a scalar has no axis"),
    (lambda v, m, i, s: sg.vsplit(v, 2), "vsplit of 'v'.*it has 1 axes; vsplit works on arrays "
     "of 2 or more"),
    (lambda v, m, i, s: sg.dsplit(m, 2), "dsplit works on arrays of 3 or more"),
    (lambda v, m, i, s: sg.hsplit(m, 5), "do not divide into 5 equal sections"),
    (lambda v, m, i, s: sg.rot90(m, axes=(1, 1)), "must be different"),
    (lambda v, m, i, s: sg.rot90(m, 1.5), "k must be an int"),
    (lambda v, m, i, s: sg.rollaxis(m, 0, 5), "start=5 must be an int with -2 <= start < 3"),
    (lambda v, m, i, s: sg.delete(v, i), "the positions are a node"),
    (lambda v, m, i, s: sg.delete(v, 9), "NumPy refuses"),
    (lambda v, m, i, s: sg.insert(v, [s], 1.0), "the positions are a node"),
    (lambda v, m, i, s: sg.insert(v, 9, 1.0), "NumPy refuses"),
    (lambda v, m, i, s: sg.insert(m, [0, 1], [1.0, 2.0, 3.0], axis=0), "cannot broadcast"),
    (lambda v, m, i, s: sg.ediff1d(v > 0), "no subtraction of booleans"),
    (lambda v, m, i, s: sg.ediff1d(i, to_begin=0.5), "does not cast to int64"),
    (lambda v, m, i, s: sg.column_stack(v), "column_stack takes a sequence of arrays"),
    (lambda v, m, i, s: sg.dstack([]), "dstack needs at least one array"),
    (lambda v, m, i, s: sg.nanquantile(v, 0.5, method="nearest"), "method='nearest' is not"),
    (lambda v, m, i, s: sg.nanquantile(v, s), "q=.* is a node"),
    (lambda v, m, i, s: sg.nanpercentile(v, 120), "q=120 must be between 0 and 100"),
    # options NumPy would meet with a bare exception
    (lambda v, m, i, s: sg.insert(v, True, 1.0), "insert into 'v'.*obj=True holds booleans"),
    (lambda v, m, i, s: sg.insert(v, [True, False, True, False], 1.0), "holds booleans"),
    (lambda v, m, i, s: sg.insert(v, np.array([True, False]), 1.0), "the boolean mask obj "
     "has shape .2,.; it must be 1-D of the axis' length 4"),
    (lambda v, m, i, s: sg.histogram(v, range=()), "sg.histogram of 'v'.*range must be a pair"),
    (lambda v, m, i, s: sg.histogram(v, range="a"), "range must be a pair"),
    (lambda v, m, i, s: sg.histogram(v, range=v), "sg.histogram: range is the node 'v'"),
    (lambda v, m, i, s: sg.histogram(v, range=(0, "1")), "range must be two numbers"),
    (lambda v, m, i, s: sg.histogram(v, bins=10**20), "sg.histogram: bins=10+ is more than "
     "the largest length"),
    (lambda v, m, i, s: sg.histogram(m, weights=np.ones((4, 3))), "sg.histogram of 'm' .shape .3, 4..: "
     "the weights .* must have a's shape"),
    (lambda v, m, i, s: sg.histogram(v, [0.0, 1.0], weights=m), "must have a's shape"),
    (lambda v, m, i, s: sg.nonzero(v, size=10**20), "sg.nonzero: size=10+ is more than"),
    (lambda v, m, i, s: sg.flatnonzero(v, size=10**20), "sg.flatnonzero: size=10+ is more"),
    (lambda v, m, i, s: sg.argwhere(v, size=10**20), "sg.argwhere: size=10+ is more"),
    (lambda v, m, i, s: sg.unique(v, size=10**20), "sg.unique: size=10+ is more than"),
    (lambda v, m, i, s: sg.bincount(i, length=10**20), "sg.bincount: length=10+ is more"),
    (lambda v, m, i, s: sg.nanquantile(m, 0.5, method=np.ones((2, 2))),
     "(?s)method=.* is not supported"),
    (lambda v, m, i, s: sg.nanquantile(m, 0.5, keepdims=np.ones((2, 2))), "nanquantile: "
     "keepdims must be True or False"),
])
def test_refusals_say_why_and_leave_the_graph_as_it_was(call, part):
    with sg.Graph() as g:
        v, m = sg.var("v", shape=(4,)), sg.var("m", shape=(3, 4))
        i, s = sg.var("i", shape=(4,), dtype="int64"), sg.var("s")
        v > 0, v[:2]  # noqa: B018 - the nodes the calls build on exist before
        before = len(g)
        with pytest.raises(sg.SymgraphError, match=part):
            call(v, m, i, s)
        assert len(g) == before


def test_array_equal_compares_shapes_when_the_graph_is_built():
    with sg.Graph() as g:
        v, n = sg.var("v", shape=(4,)), sg.var("n", shape=(None,))
        before = len(g)
        with pytest.raises(sg.ShapeError, match="a shape is known only when fed"):
            sg.array_equal(v, n)
        assert len(g) == before
        assert sg.array_equal(v, v[:2]).op == "const"  # (a constant False)


def test_numpys_data_dependent_functions_point_to_symgraphs():
    with sg.Graph():
        v = sg.var("v", shape=(3,))
        for call, name in ((np.nonzero, "nonzero"), (np.unique, "unique"),
                           (np.argwhere, "argwhere"), (np.flatnonzero, "flatnonzero")):
            with pytest.raises(sg.SymgraphError, match=f"sg.{name} is symgraph's, not declared "
                               "to be NumPy's: call it as its docstring says"):
                call(v)
        counts, edges = np.histogram(v, 2)  # a static number of bins: NumPy's function follows
        assert isinstance(counts, sg.Node) and edges.shape == (3,)


@pytest.mark.parametrize("call", [
    lambda a, b, s, t, J: sg.vdot(a, b),
    lambda a, b, s, t, J: sg.append(a, b),
    lambda a, b, s, t, J: sg.column_stack([a, b]),
    lambda a, b, s, t, J: sg.dstack([a, b]),
    lambda a, b, s, t, J: sg.ediff1d(a, to_end=b),
    lambda a, b, s, t, J: sg.polyval(a, b),
    lambda a, b, s, t, J: sg.geomspace(s, t, 3),
    lambda a, b, s, t, J: sg.histogram(a, weights=b),
    lambda a, b, s, t, J: sg.histogram(a, bins=b),
    lambda a, b, s, t, J: sg.bincount(J, a, length=3),
], ids=["vdot", "append", "column_stack", "dstack", "ediff1d", "polyval", "geomspace",
        "histogram-weights", "histogram-bins", "bincount"])
def test_a_call_given_nodes_of_two_graphs_leaves_both_as_they_were(call):
    # (a cast or reshape of each operand, in its own graph, came before the check)
    g, h = sg.Graph(), sg.Graph()
    with g:
        a, s = sg.var("a", shape=(3,)), sg.var("s")
    with h:
        b, t = sg.var("b", shape=(3,)), sg.var("t")
        J = sg.var("J", shape=(3,), dtype="int64")
    n, m = len(g), len(h)
    with pytest.raises(sg.SymgraphError):
        call(a, b, s, t, J)
    assert (len(g), len(h)) == (n, m)


@pytest.mark.parametrize("length", [4, None])
@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("edges", [[-1.0, 0.0, 0.0, 1.5], [1.5, 0.0, 0.0, -1.0],
                                   [2.0, 2.0, 2.0, 2.0]], ids=["up", "down", "flat"])
def test_digitize_into_node_bins_either_way(edges, right, length):
    # (the direction is chosen when it runs, as jax.numpy's under jit)
    with sg.Graph():
        x, b = sg.var("x", shape=SPECIAL.shape), sg.var("b", shape=(length,))
        out = sg.digitize(x, b, right=right)
    want = np.digitize(SPECIAL, edges, right=right)
    assert_numpy_equal(sg.evaluate(out, {x: SPECIAL, b: np.array(edges)}), want)
    for backend in ("numpy", "jax"):
        if sg.backends().get(backend):
            got = sg.compile([out], [x, b], backend=backend)(SPECIAL, np.array(edges))[0]
            np.testing.assert_array_equal(np.asarray(got), want)


def test_insert_takes_a_boolean_mask_as_numpy_does():
    A = np.array([1.0, 2.0, 3.0, 4.0])
    B = np.arange(8.0).reshape(2, 4)
    with sg.Graph():
        v, m = sg.var("v", shape=(4,)), sg.var("m", shape=(2, 4))
        for mask in ([True, False, True, False], [False, True, False, False], [False] * 4):
            mask = np.array(mask)
            assert_numpy_equal(sg.evaluate(sg.insert(v, mask, 9.5), {v: A}),
                               np.insert(A, mask, 9.5))
            assert_numpy_equal(sg.evaluate(sg.insert(m, mask, 7.0, axis=1), {m: B}),
                               np.insert(B, mask, 7.0, axis=1))


def test_histogram_ignores_range_beside_edges_as_numpy_does():
    A = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    want = np.histogram(A, bins=[0, 2, 5], range=(0, 5))
    with sg.Graph():
        v = sg.var("v", shape=(5,))
        got = sg.evaluate(list(sg.histogram(v, bins=[0, 2, 5], range=(0, 5))), {v: A})
        b = sg.var("b", shape=(3,))
        by_node = sg.evaluate(list(sg.histogram(v, bins=b, range=(0, 5))),
                              {v: A, b: [0.0, 2.0, 5.0]})
    for g, w in zip(got, want):
        assert_numpy_equal(g, w)
    assert_numpy_equal(by_node[0], want[0])


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int8", "int16", "int64"])
@pytest.mark.parametrize("n", [2, -1, 0, 1100])
def test_ldexp_takes_a_python_int_exponent(dtype, n):
    # as NumPy and jnp do: an integer constant; integers compute in float64 (the README's
    # rule for float functions of integers, where NumPy gives float16 for int8)
    X = np.array([1.5, -3.0, 0.0, 7.0]).astype(dtype)
    with np.errstate(over="ignore"):
        want = np.ldexp(X if X.dtype.kind == "f" else X.astype(np.float64), n)
    with sg.Graph():
        x = sg.var("x", shape=(4,), dtype=dtype)
        out = sg.ldexp(x, n)
    assert_numpy_equal(sg.evaluate(out, {x: X}), want)
    for backend in ("numpy", "jax"):
        if sg.backends().get(backend):
            got = np.asarray(sg.compile([out], [x], backend=backend)(X)[0])
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)

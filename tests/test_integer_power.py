"""``**`` of integers follows NumPy 2's ``np.power``: integer powers stay integers, exact
and wrapping on overflow as NumPy's (they were float64: 123456789**2 lost its last digit,
and ``(i**2) % 10`` gave 0 for 1); Python numbers are weak; booleans as NumPy; and every
backend gives ``evaluate``'s numbers and dtype. A negative integer exponent of an integer
base is refused when constant (at build) and raises ``SymgraphError`` naming the node on
every backend when it is a node's value (NumPy raises ``ValueError``; jnp.power gave 0).

Oracle: NumPy's ``np.power`` on the same arrays, compared exactly (``assert_array_equal``
and the dtype); the backends against ``sg.evaluate`` the same way (floats to rounding).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import symgraph as sg
from symgraph.loops import scan

# NumPy's oracle warns where it overflows or meets 0**-x and (-2.0)**0.5, as evaluate would
# not (it silences them, as NumPy's results are still the reference)
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in power:RuntimeWarning")

INTS = ["int8", "uint8", "int32", "int64"]
BACKENDS = [b for b in ("python", "numpy", "numba", "jax", "dask") if sg.backends()[b]]

# non-negative exponents in every dtype (bool: 0 and 1), bases with signs and wrapping
_BASES = {"bool": [True, False, True, False], "int8": [-7, 5, 100, -128],
          "uint8": [0, 3, 200, 255], "int32": [-3, 46341, 7, 0],
          "int64": [123456789, -3, 2, 0], "float32": [1.5, -2.0, 0.0, 3.25],
          "float64": [1.5, -2.0, 0.0, 3.25]}
_EXPONENTS = {"bool": [True, False, False, True], "int8": [2, 0, 3, 127],
              "uint8": [1, 200, 0, 8], "int32": [2, 1, 31, 0], "int64": [2, 40, 63, 0],
              "float32": [0.5, 2.0, 3.0, 1.0], "float64": [0.5, 2.0, 3.0, 1.0]}


def _array(values, dtype: str) -> np.ndarray:
    return np.array(values, dtype=dtype)


def _same(got, want) -> None:
    """Exactly NumPy's (or evaluate's) array: dtype, shape and values (floats to rounding)."""
    got, want = np.asarray(got), np.asarray(want)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype.itemsize < 8 else 1e-13)
    else:
        np.testing.assert_array_equal(got, want)


def _run(backend: str, outputs, inputs, values):
    f = sg.compile(outputs, inputs, backend=backend)
    got = f(*values)
    if backend == "dask":
        import dask
        got = dask.compute(*got) if isinstance(got, list) else got.compute()
    return got


def _every_backend_equals_evaluate(outputs, inputs, values) -> None:
    want = sg.evaluate(outputs, dict(zip(inputs, values)))
    for backend in BACKENDS:
        got = _run(backend, outputs, inputs, values)
        if isinstance(outputs, list):
            for g, w in zip(got, want):
                _same(g, w)
        else:
            _same(got, want)


# --- dtypes and values against NumPy ----------------------------------------------------------


def test_the_reported_case(graph):
    i = sg.var("i", shape=(1,), dtype="int64")
    assert (i ** 2).dtype == np.int64
    assert sg.evaluate(i ** 2, {i: [123456789]}).tolist() == [15241578750190521]
    assert sg.evaluate((i ** 2) % 10, {i: [123456789]}).tolist() == [1]


@pytest.mark.parametrize("a_dtype, b_dtype", list(itertools.product(_BASES, _EXPONENTS)))
def test_node_to_node_matches_numpy(graph, a_dtype, b_dtype):
    a, b = _array(_BASES[a_dtype], a_dtype), _array(_EXPONENTS[b_dtype], b_dtype)
    x = sg.var("a", shape=(4,), dtype=a_dtype)
    e = sg.var("b", shape=(4,), dtype=b_dtype)
    y = x ** e
    want = np.power(a, b)
    assert y.dtype == want.dtype
    _same(sg.evaluate(y, {x: a, e: b}), want)
    if a_dtype in INTS + ["bool"] and b_dtype in INTS + ["bool"]:
        _every_backend_equals_evaluate(y, [x, e], [a, b])


@pytest.mark.parametrize("dtype", INTS + ["bool"])
@pytest.mark.parametrize("number", [0, 1, 2, 3, 7, 0.5, 2.0, True])
def test_python_numbers_are_weak(graph, dtype, number):
    a = _array(_BASES[dtype], dtype)
    x = sg.var("x", shape=(4,), dtype=dtype)
    y, want = x ** number, np.power(a, number)  # (np.power: a ** 2 of a bool array is square's)
    assert y.dtype == want.dtype, (dtype, number)
    _same(sg.evaluate(y, {x: a}), want)
    if isinstance(number, int) and not isinstance(number, bool) and dtype != "bool":
        r = number ** x  # 0 ** x, 2 ** x: the number takes x's dtype
        want_r = np.power(number, a.clip(0))
        assert r.dtype == want_r.dtype == np.dtype(dtype)
        _same(sg.evaluate(r, {x: a.clip(0)}), want_r)


@pytest.mark.parametrize("dtype", INTS + ["bool"])
def test_scalars_with_python_numbers_on_every_backend(graph, dtype):
    """A scalar takes the python backend's scalar statements (``math.pow``, ``math.sqrt``
    where the result is a float64) and numba's tape where it can."""
    i = sg.var("i", dtype=dtype)
    value = np.asarray(True if dtype == "bool" else 3, dtype)
    outs = [i ** n for n in (0, 1, 2, 3, 0.5, 2.0, True)]
    if dtype != "bool":
        outs += [n ** i for n in (0, 1, 2, 3)]
    with np.errstate(all="ignore"):
        want = [np.power(value, n) for n in (0, 1, 2, 3, 0.5, 2.0, True)]
        want += [np.power(n, value) for n in (0, 1, 2, 3)] if dtype != "bool" else []
    got = sg.evaluate(outs, {i: value})
    for o, g, w in zip(outs, got, want):
        assert o.dtype == w.dtype
        _same(g, w)
    _every_backend_equals_evaluate(outs, [i], [value])


@pytest.mark.parametrize("dtype", INTS)
def test_zero_and_one_exponents_and_zero_bases_stay_integers(graph, dtype):
    a = _array([0, 1, 2, 100], dtype)
    x = sg.var("x", shape=(4,), dtype=dtype)
    outs = [x ** 0, x ** 1, 0 ** x, 1 ** x]
    assert [o.dtype for o in outs] == [np.dtype(dtype)] * 4
    got = sg.evaluate(outs, {x: a})
    for g, want in zip(got, [np.power(a, 0), np.power(a, 1), np.power(0, a), np.power(1, a)]):
        _same(g, want)
    _every_backend_equals_evaluate(outs, [x], [a])


def test_two_booleans_compute_in_int8_as_numpy(graph):
    a, b = np.array([True, False, True, False]), np.array([True, True, False, False])
    x, e = sg.var("x", shape=(4,), dtype="bool"), sg.var("e", shape=(4,), dtype="bool")
    assert (x ** e).dtype == np.power(a, b).dtype == np.int8
    _same(sg.evaluate(x ** e, {x: a, e: b}), np.power(a, b))
    _every_backend_equals_evaluate(x ** e, [x, e], [a, b])


@pytest.mark.parametrize("a_dtype, b_dtype", [("int8", "float32"), ("int64", "float32"),
                                              ("uint8", "float64"), ("float32", "int8"),
                                              ("float32", "int64"), ("float64", "uint8"),
                                              ("bool", "float32"), ("float32", "bool")])
def test_mixed_with_floats_promotes_as_numpy_on_every_backend(graph, a_dtype, b_dtype):
    a, b = _array(_BASES[a_dtype], a_dtype), _array(_EXPONENTS[b_dtype], b_dtype)
    x, e = sg.var("a", shape=(4,), dtype=a_dtype), sg.var("b", shape=(4,), dtype=b_dtype)
    want = np.power(a, b)
    assert (x ** e).dtype == want.dtype
    _same(sg.evaluate(x ** e, {x: a, e: b}), want)
    _every_backend_equals_evaluate(x ** e, [x, e], [a, b])


# --- overflow wraps as NumPy's ------------------------------------------------------------------


@pytest.mark.parametrize("dtype, base, exponent", [
    ("int64", [2, 3, -1, 7, 123456789], [63, 63, 63, 63, 5]),
    ("int64", [2, 3, 2, 3, 5], [62, 64, 64, 65, 1000]),  # jnp.power stopped after 6 bits
    ("int8", [100, -7, 2, -2, 3], [3, 5, 7, 7, 100]),
    ("uint8", [200, 3, 2, 255, 16], [2, 9, 8, 3, 2]),
    ("int32", [46341, 3, 2, -3, 10], [2, 21, 31, 33, 10]),
])
def test_overflow_wraps_as_numpy_on_every_backend(graph, dtype, base, exponent):
    a, b = _array(base, dtype), _array(exponent, dtype)
    x, e = sg.var("a", shape=a.shape, dtype=dtype), sg.var("b", shape=b.shape, dtype=dtype)
    with np.errstate(all="ignore"):
        want = np.power(a, b)
    _same(sg.evaluate(x ** e, {x: a, e: b}), want)
    _every_backend_equals_evaluate(x ** e, [x, e], [a, b])
    # a constant exponent too (its own lowering on some backends: integer_pow in jax)
    k = int(b[0])
    y = x ** k
    _same(sg.evaluate(y, {x: a}), np.power(a, np.array(k, dtype)))
    _every_backend_equals_evaluate(y, [x], [a])


def test_scalar_integer_powers_on_every_backend(graph):
    """Scalars take other paths (the python backend's scalar statements, numba's tape)."""
    i, k, x = sg.var("i", dtype="int64"), sg.var("k", dtype="int64"), sg.var("x")
    outs = [i ** k, (i ** 2) % 10, sg.cast(i ** 3, "float64") * x, x ** k, 2 ** k]
    values = [np.int64(123456789), np.int64(2), 1.5]
    want = sg.evaluate(outs, dict(zip([i, k, x], values)))
    assert [w.tolist() for w in want[:2]] == [15241578750190521, 1]
    assert [o.dtype for o in outs] == [np.dtype("int64")] * 2 + [np.dtype("float64")] * 2 + [
        np.dtype("int64")]
    _every_backend_equals_evaluate(outs, [i, k, x], values)


# --- rewrites and folding keep integers exact ---------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda i: i ** 2, lambda i: i ** 0, lambda i: i ** 1, lambda i: (i ** 2) ** 3,
    lambda i: i ** 2 * i ** 3, lambda i: (i ** 2) % 10, lambda i: i ** 2 - i * i,
], ids=["square", "zero", "one", "nested", "product", "mod", "difference"])
def test_rewrites_keep_integer_dtypes_and_values(graph, build):
    i = sg.var("i", shape=(4,), dtype="int64")
    a = np.array([123456789, -3, 2, 3037000500])  # the last squares past int64's max
    y = build(i)
    assert y.dtype == np.int64
    with np.errstate(all="ignore"):
        want = np.asarray(build(a))
    _same(sg.evaluate(y, {i: a}), want)
    simple = sg.simplify(y)
    assert simple.dtype == np.int64
    _same(sg.evaluate(simple, {i: a}), want)
    _same(sg.compile(y, [i], assume_finite=True)(a), want)
    _every_backend_equals_evaluate(y, [i], [a])


def test_constant_powers_fold_exactly(graph):
    x = sg.var("x", dtype="int64")
    c = sg.const(np.int64(123456789)) ** 2 + x
    f = sg.compile(c, [x])
    assert f(np.int64(0)).tolist() == 15241578750190521 and f(np.int64(0)).dtype == np.int64
    _every_backend_equals_evaluate(c, [x], [np.int64(1)])


# --- negative exponents -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64"])
@pytest.mark.parametrize("exponent", [-1, np.array([1, -2]), -3])
def test_a_constant_negative_exponent_is_refused_when_built(graph, dtype, exponent):
    i = sg.var("i", shape=(2,), dtype=dtype)
    with pytest.raises(sg.SymgraphError, match=r"'i'.*negative integer.*cast the base to float"):
        i ** exponent
    with pytest.raises(sg.SymgraphError, match=r"'i'.*negative integer"):
        sg.power(i, sg.const(np.asarray(exponent, dtype=dtype)))
    assert (sg.cast(i, "float64") ** exponent).dtype == np.float64  # what the message says


def test_a_negative_number_for_an_unsigned_base_does_not_fit(graph):
    u = sg.var("u", shape=(2,), dtype="uint8")
    with pytest.raises(sg.SymgraphError, match="not fit uint8"):
        u ** -1  # NumPy 2: OverflowError, Python integer -1 out of bounds for uint8


@pytest.mark.parametrize("backend", ["evaluate", *BACKENDS])
@pytest.mark.parametrize("shape", [(), (3,)])
def test_a_negative_exponent_value_raises_naming_the_node_on_every_backend(graph, backend, shape):
    a, k = sg.var("a", shape=shape, dtype="int64"), sg.var("k", shape=shape, dtype="int64")
    y = sg.cast(a ** k, "float64") + 1.0  # inside a float graph too
    base, bad = np.full(shape, 2, np.int64), np.full(shape, -1, np.int64)
    with pytest.raises(ValueError, match="negative integer powers"):
        np.power(base, bad)  # NumPy's oracle: it raises
    # every backend's message says what to do (dask's names NumPy's ValueError)
    wanted = "cast the base to float" if backend != "dask" else ""
    with pytest.raises(sg.SymgraphError, match=rf"a\*\*k.*'power'.*negative integer power"
                                               rf".*{wanted}"):
        if backend == "evaluate":
            sg.evaluate(y, {a: base, k: bad})
        else:
            _run(backend, y, [a, k], [base, bad])
    good = np.full(shape, 3, np.int64)  # the same compiled function runs non-negative ones
    if backend != "evaluate":
        _same(_run(backend, y, [a, k], [base, good]), np.power(base, good) + 1.0)


def test_jax_checks_a_negative_exponent_only_where_one_is_possible(graph):
    """Unsigned and boolean exponents are never negative; an empty result raises nowhere
    (NumPy's loop never runs)."""
    if "jax" not in BACKENDS:
        pytest.skip("jax is not installed")
    a = sg.var("a", shape=(None,), dtype="int64")
    k = sg.var("k", shape=(1,), dtype="int64")
    empty = np.zeros(0, np.int64)
    assert np.power(empty, np.array([-1])).shape == (0,)
    _same(sg.evaluate(a ** k, {a: empty, k: [-1]}), empty)
    _same(_run("jax", a ** k, [a, k], [empty, [-1]]), empty)
    u = sg.var("u", shape=(2,), dtype="uint8")
    f = sg.compile(a ** u, [a, u], backend="jax")
    _same(f(np.array([3, 5]), np.array([2, 200], np.uint8)),
          np.power(np.array([3, 5]), np.array([2, 200], np.uint8)))


# --- derivatives ----------------------------------------------------------------------------


def test_gradients_flow_around_integer_powers(graph):
    x, i = sg.var("x"), sg.var("i", dtype="int64")
    y = x ** (i ** 2) + sg.cast(i ** 3, "float64") * x
    g = sg.grad(y, x)
    h = sg.grad(g, x)
    feeds = {x: 1.5, i: np.int64(2)}
    assert float(sg.evaluate(g, feeds)) == pytest.approx(4 * 1.5 ** 3 + 8)
    assert float(sg.evaluate(h, feeds)) == pytest.approx(12 * 1.5 ** 2)
    assert sg.check_grad(y, x, feeds, order=2) < 1e-6
    _every_backend_equals_evaluate([g, h], [x, i], [1.5, np.int64(2)])
    with pytest.raises(sg.SymgraphError, match="only float nodes have derivatives"):
        sg.grad(sg.cast(i ** 2, "float64"), i)


@pytest.mark.parametrize("dtype, k, at", [("uint8", 0, 20.0), ("int8", -128, 1.5),
                                          ("int8", 0, 0.0), ("uint8", 200, 1.001),
                                          ("int64", 3, -2.0)])
def test_derivative_in_a_float_base_of_an_integer_exponent_does_not_wrap(graph, dtype, k, at):
    """d(x**k)/dx = k x**(k-1): k-1 in uint8 was 255 at k = 0 (0 * x**255 = nan at
    x = 20), in int8 127 at k = -128."""
    x, e = sg.var("x"), sg.var("k", dtype=dtype)
    g = sg.grad(x ** e, x)
    want = 0.0 if k == 0 else k * at ** (k - 1)
    assert float(sg.evaluate(g, {x: at, e: np.asarray(k, dtype)})) == pytest.approx(want)
    _every_backend_equals_evaluate(g, [x, e], [at, np.asarray(k, dtype)])
    # a constant integer exponent as well
    gc = sg.grad(x ** sg.const(np.asarray(k, dtype)), x)
    assert float(sg.evaluate(gc, {x: at})) == pytest.approx(want)


def test_float_power_derivatives_are_as_before(graph):
    x = sg.var("x")
    assert str(sg.grad(x ** 3, x)) == "3*x**2"
    assert (x ** 3).dtype == np.float64 and (sg.var("f", dtype="float32") ** 2).dtype == np.float32


# --- loops and saved graphs -------------------------------------------------------------------


def test_integer_powers_in_a_loop_body_on_every_backend(graph):
    k = sg.var("k", dtype="int64")
    c, ys = scan(lambda c, _: (c * 3 + k ** 2, c ** 2), sg.const(np.int64(1)), length=5)
    want_c, want_ys = 1, []
    for _ in range(5):
        want_c, y = want_c * 3 + 49, want_c ** 2
        want_ys.append(y)
    got = sg.evaluate([c, ys], {k: np.int64(7)})
    assert got[0].tolist() == want_c and got[1].tolist() == want_ys
    assert got[0].dtype == got[1].dtype == np.int64
    _every_backend_equals_evaluate([c, ys], [k], [np.int64(7)])


def test_save_and_load_keep_an_integer_power(graph, tmp_path):
    i = sg.var("i", shape=(2,), dtype="int8")
    path = tmp_path / "power.json"
    sg.save([i ** 3], path)
    json.loads(path.read_text())  # plain JSON
    (y,) = sg.load(path)
    assert y.dtype == np.int8
    a = np.array([100, -7], np.int8)
    _same(sg.evaluate(y, {"i": a}), np.power(a, 3))

"""Backends against ``sg.evaluate`` where NumPy's answer hangs on a detail: the sign of a
zero, NaN against a number, the dtype. Each test is a defect found by feeding the op cases
special values (-0.0, NaN, inf) on every backend; the oracle is ``sg.evaluate`` compared
with ``assert_same_values`` (NaN where it has NaN, the same infinities, the same sign of
zero, the rest to rounding)."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg
from symgraph.ops.gather import add_at
from symgraph.ops.reduce import sum_to

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::RuntimeWarning")


def _jax_values(outs, inputs, feeds):
    pytest.importorskip("jax")
    f = sg.compile(outs, inputs, backend="jax")
    return [np.asarray(v) for v in f(*feeds)]


def test_jax_sign_of_negative_zero_is_zero(graph):
    # np.sign(-0.0) is 0.0; jnp.sign(-0.0) is -0.0 (it shows in abs's gradient, 2|x| sign(x))
    x = sg.var("x", shape=(3,))
    k = sg.var("k", shape=(3,), dtype="int64")
    outs = [sg.sign(x), sg.grad(sg.sum(sg.abs(x) ** 2.0), x), sg.sign(k)]
    feeds = [np.array([-0.0, 0.0, np.nan]), np.array([-2, 0, 3])]
    want = sg.evaluate(outs, dict(zip([x, k], feeds)))
    for got, w in zip(_jax_values(outs, [x, k], feeds), want):
        assert_same_values(got, w)


def test_jax_mod_gives_a_zero_the_divisors_sign(graph):
    # NumPy's mod is Python's %: a zero result takes the divisor's sign; jnp.mod gave the
    # dividend's (mod(-1.0, 1.0) was -0.0, mod(1.0, -1.0) 0.0)
    x, y = sg.var("x", shape=(9,)), sg.var("y", shape=(9,))
    i, j = sg.var("i", shape=(3,), dtype="int64"), sg.var("j", shape=(3,), dtype="int64")
    outs = [sg.mod(x, y), sg.mod(i, j)]
    feeds = [np.array([0.0, -0.0, -1.0, 1.0, 3.0, -0.0, 0.0, np.nan, 2.5]),
             np.array([-3.7, 0.5, 1.0, -1.0, -1.0, np.inf, -np.inf, 1.0, -np.inf]),
             np.array([-4, 4, 5]), np.array([2, -2, 3])]
    want = sg.evaluate(outs, dict(zip([x, y, i, j], feeds)))
    for got, w in zip(_jax_values(outs, [x, y, i, j], feeds), want):
        assert_same_values(got, w)


# Sums NumPy starts at 0.0, so their zero is 0.0 even where every term is -0.0; XLA reduces
# one element to itself (a size-1 axis, a contraction of length 1, a one-element
# scatter-add into zeros), which kept -0.0.
_SUMS = {
    "sum over a size-1 axis": ((1, 3), lambda x: sg.sum(x, axis=0)),
    "sum of one element": ((1,), lambda x: sg.sum(x)),
    "mean over a size-1 axis": ((3, 1), lambda x: sg.mean(x, axis=1)),
    "sum_to over a size-1 leading axis": ((1, 1, 3), lambda x: sum_to(x, (1, 3))),
    "avg_pool2d of 1x1 windows": ((1, 1, 2, 2), lambda x: sg.nn.avg_pool2d(x, 1)),
    "trace of a 1x1 matrix": ((1, 1), lambda x: sg.trace(x)),
    "matmul, k = 1": ((2, 1), lambda x: x @ sg.const(np.ones((1, 2)))),
    "matmul, k = 2": ((2,), lambda x: x @ sg.const(np.ones((2, 2)))),
    "batched matmul, k = 1": ((2, 2, 1), lambda x: x @ sg.const(np.ones((1, 3)))),
    "tensordot, k = 1": ((1,), lambda x: sg.tensordot(x, sg.const(np.ones((1, 2))), 1)),
    "tensordot, one term": ((1,), lambda x: sg.tensordot(x, sg.const(np.ones(1)), 1)),
    "add_at into zeros": ((1,), lambda x: add_at(x, sg.const(np.zeros(2)), [sg.const(
        np.array([1]))], (("array", 0),))),
    "scatter_add outside its index": ((3,), lambda x: sg.grad(
        sg.sum(x[1:] * x[1:]) + sg.sum(x * sg.stop_gradient(x)), x)),
    "scatter_add, an integer index": ((2, 2), lambda x: sg.grad(
        sg.sum(x[:, 0] * x[:, 0]) + sg.sum(x * sg.stop_gradient(x)), x)),
}


@pytest.mark.parametrize("name", list(_SUMS))
def test_jax_sums_of_negative_zeros_are_zero_as_numpys(graph, name):
    shape, build = _SUMS[name]
    x = sg.var("x", shape=shape)
    y = build(x)
    v = np.full(shape, -0.0)
    want = sg.evaluate(y, {x: v})
    assert_same_values(_jax_values([y], [x], [v])[0], want, what=name)


@pytest.mark.parametrize("reverse", [False, True])
def test_jax_cumsum_keeps_a_prefix_of_negative_zeros(graph, reverse):
    # np.cumsum's first sum is the first element: -0.0, -0.0 + -0.0... stay -0.0 until a
    # term that is not -0.0; XLA's running sum starts at 0.0
    x = sg.var("x", shape=(2, 4))
    y = sg.cumsum(x[:, ::-1] if reverse else x, axis=1)
    outs = [y, sg.cumsum(x), sg.grad(sg.sum(y * sg.stop_gradient(x)), x)]
    v = np.array([[-0.0, -0.0, 1.0, -1.0], [-0.0, 0.0, -0.0, -0.0]])
    want = sg.evaluate(outs, {x: v})
    for k, (got, w) in enumerate(zip(_jax_values(outs, [x], [v]), want)):
        assert_same_values(got, w, what=f"output {k}")


@pytest.mark.parametrize("repeats", [1, 2, (1, 0, 2)])
def test_jax_repeats_gradient_sums_runs_as_numpy(graph, repeats):
    # repeat_sum is np.sum of runs (0.0 start) for an int, np.add.reduceat (first element
    # start: a run of -0.0 is -0.0) for a tuple; XLA's scatter-add did neither
    x = sg.var("x", shape=(3, 2))
    n = 3 * repeats if isinstance(repeats, int) else sum(repeats)
    w = sg.var("w", shape=(n, 2))
    g = sg.grad(sg.sum(sg.repeat(x, repeats, axis=0) * w), x)
    for wv in (np.full((n, 2), -0.0), np.where(np.arange(2 * n).reshape(n, 2) % 3, -0.0, 0.0)):
        feeds = [np.ones((3, 2)), wv]
        want = sg.evaluate(g, dict(zip([x, w], feeds)))
        assert_same_values(_jax_values([g], [x, w], feeds)[0], want, what=str(wv.tolist()))


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint8", "uint32", "int64",
                                   "float32"])
@pytest.mark.parametrize("shape", [(), (3,)])
@pytest.mark.parametrize("backend", ["python", "numpy", "numba", "jax", "dask"])
def test_sum_has_numpys_dtype_on_every_backend(graph, dtype, shape, backend):
    # np.sum widens bools and narrow integers to the platform's integer; sum declared the
    # input's dtype (uint8 summing to 301 in a uint8 node), and compile's rewrite of the sum
    # of a scalar to the scalar returned an int32 (or a bool) where evaluate gave int64
    if backend not in ("python", "numpy"):
        pytest.importorskip(backend)
    x = sg.var("x", shape=shape, dtype=dtype)
    y = sg.sum(x)
    v = np.full(shape, 100 if dtype != "bool" else True, dtype=dtype)  # (3 x 100: past int8)
    want = sg.evaluate(y, {x: v})
    assert y.dtype == want.dtype == np.sum(v).dtype
    got = sg.compile(y, [x], backend=backend)(v)
    got = got.compute() if backend == "dask" else np.asarray(got)
    assert_same_values(got, want)


def test_jax_maximum_minimum_and_clip_break_ties_of_signed_zeros_as_numpy(graph):
    # NumPy: maximum and minimum give the second operand on a tie, and so does clip with
    # arrays of bounds, but clip with two scalar bounds keeps x; XLA orders -0.0 below 0.0
    # (minimum(-0.0, 0.0) was -0.0, clip(-0.0, 0.0, 2.0) 0.0)
    vals = [-0.0, 0.0, np.nan, -1.0, 1.0, np.inf]
    grid = np.array(np.meshgrid(vals, vals, vals)).reshape(3, -1)
    x, lo, hi = (sg.var(n, shape=(grid.shape[1],)) for n in ("x", "lo", "hi"))
    outs = [sg.maximum(x, lo), sg.minimum(x, lo), sg.clip(x, lo, hi), sg.clip(x, 0.0, 2.0),
            sg.maximum(x, 0.0), sg.minimum(0.0, x)]
    want = sg.evaluate(outs, dict(zip([x, lo, hi], grid)))
    for k, (got, w) in enumerate(zip(_jax_values(outs, [x, lo, hi], list(grid)), want)):
        assert_same_values(got, w, what=f"output {k}")


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64"])
def test_jax_accumulates_integers_in_the_result_dtype(graph, dtype):
    # jnp.mean/var/std of integers ran in float32 (2.8333335 for 17/6) and jnp.cumsum and
    # cumprod of uint8 and int8 wrapped around in 8 bits, even under x64
    x = sg.var("x", shape=(6,), dtype=dtype)
    outs = [sg.mean(x), sg.variance(x), sg.std(x), sg.cumsum(x), sg.cumprod(x)]
    v = np.array([1, 2, 0, 3, 4, 7] if dtype != "bool" else [1, 1, 0, 1, 1, 1]).astype(dtype)
    v = v * np.array(100 if dtype == "uint8" else 1, dtype)  # 100 + 200...: past 8 bits
    want = sg.evaluate(outs, {x: v})
    for k, (got, w) in enumerate(zip(_jax_values(outs, [x], [v]), want)):
        assert_same_values(got, w, rtol=1e-15, what=f"output {k} ({outs[k].op})")


@pytest.mark.parametrize("vector", [True, False])
def test_jax_solve_with_nan_in_b_gives_nan_and_does_not_call_the_matrix_singular(graph, vector):
    # one NaN in b spreads over its whole solution (a vector, or a column of a matrix b);
    # the singularity check counted only b's own NaN entries, and raised "singular"
    a = sg.var("a", shape=(3, 3))
    b = sg.var("b", shape=(3,) if vector else (3, 2))
    y = sg.linalg.solve(a, b)
    av = np.eye(3) * 2.0 + 0.1
    bv = np.array([0.5, np.nan, -1.0]) if vector else np.array([[0.5, 1.0], [np.nan, 2.0],
                                                                  [-1.0, np.inf]])
    want = sg.evaluate(y, {a: av, b: bv})
    assert_same_values(_jax_values([y], [a, b], [av, bv])[0], want)


@pytest.mark.parametrize("dtype", ["bool", "int32", "uint8"])
def test_dask_matmul_of_integers_and_booleans_keeps_numpys_dtype(graph, dtype):
    # dask's matmul of int32, uint8 or bool arrays is int64/uint64; NumPy's keeps the dtype
    # (int32 wrapping, bool as or-of-ands), which evaluate returns
    da = pytest.importorskip("dask.array")
    a, b = sg.var("a", shape=(2, 3), dtype=dtype), sg.var("b", shape=(3, 2), dtype=dtype)
    y = a @ b
    rng = np.random.default_rng(0)
    av, bv = (rng.integers(0, 2 if dtype == "bool" else 100, size=s).astype(dtype)
              for s in ((2, 3), (3, 2)))
    want = sg.evaluate(y, {a: av, b: bv})
    got = sg.compile(y, [a, b], backend="dask", chunks=2)(av, bv)
    assert isinstance(got, da.Array) and got.dtype == want.dtype
    assert_same_values(got.compute(scheduler="sync"), want)


def test_jax_rounds_booleans_and_integers_to_negative_decimals_as_numpy(graph):
    # jnp.round refused both when the call traced (after compile had accepted the graph)
    i = sg.var("i", shape=(5,), dtype="int32")
    b = sg.var("b", shape=(2,), dtype="bool")
    outs = [sg.round(i, -1), sg.round(i, -2), sg.round(b), sg.round(i)]
    feeds = [np.array([15, -25, 35, 45, 149], np.int32), np.array([True, False])]
    want = sg.evaluate(outs, dict(zip([i, b], feeds)))
    for k, (got, w) in enumerate(zip(_jax_values(outs, [i, b], feeds), want)):
        assert_same_values(got, w, what=f"output {k}")


_XLA_ALGEBRA = {  # what XLA's simplifier would rewrite, and where that changes the value
    "log(exp(a)) -> a": lambda a, b: sg.log(sg.exp(a)),
    "log2(exp2(a)) -> a": lambda a, b: sg.log2(sg.exp2(a)),
    "log(exp2(a)) -> a ln 2": lambda a, b: sg.log(sg.exp2(a)),
    "log10(exp(a)) -> a / ln 10": lambda a, b: sg.log10(sg.exp(a)),
    "pow(exp2(a), b) -> exp2(a*b)": lambda a, b: sg.exp2(a) ** b,
    "sqrt(a*a) -> |a|": lambda a, b: sg.sqrt(a * a),
    "exp(a)*exp(b) -> exp(a+b)": lambda a, b: sg.exp(a) * sg.exp(b),
    "exp(a)/exp(b) -> exp(a-b)": lambda a, b: sg.exp(a) / sg.exp(b),
    "pow(exp(a), b) -> exp(a*b)": lambda a, b: sg.exp(a) ** b,
    "log(pow(a, b)) -> b*log|a|": lambda a, b: sg.log(a ** b),
    "(a*c)*d -> a*(c*d)": lambda a, b: (a * 1e300) * 1e10,
    "(a+c)-c -> a": lambda a, b: (a + 1e300) - 1e300,
    "a + 0.0 -> a (after log(1+a) -> log1p(a) + 0.0)": lambda a, b: sg.log(1.0 + a),
    "a**0.5 is NumPy's sqrt": lambda a, b: a ** 0.5,
    "a**p, p = 0.5 fed": lambda a, b: a ** b[0],
}


@pytest.mark.parametrize("name", list(_XLA_ALGEBRA))
def test_jax_values_survive_xlas_algebraic_simplifier(graph, name):
    v = np.array([-0.0, 0.0, np.inf, -np.inf, np.nan, 1e300, -1e5, 2.0, 1e-200, -2.0, 400.0,
                  -400.0, 710.0])
    grid_a, grid_b = (g.ravel() for g in np.meshgrid(v, v))
    if "fed" in name:
        grid_b = np.full_like(grid_b, 0.5)
    a, b = sg.var("a", shape=grid_a.shape), sg.var("b", shape=grid_a.shape)
    y = _XLA_ALGEBRA[name](a, b)
    want = sg.evaluate(y, {a: grid_a, b: grid_b})
    assert_same_values(_jax_values([y], [a, b], [grid_a, grid_b])[0], want, what=name)


def test_jax_adding_a_scattered_gradient_keeps_numpys_zero(graph):
    # the gradient of a[:, 0] * a[:, 1] is scatter(g0) + scatter(g1): 0.0 + -0.0 is 0.0 in
    # NumPy; XLA folded the pad's 0.0 away and kept -0.0
    a = sg.var("a", shape=(3, 2))
    p = a[:, 0] * a[:, 1]
    y = sg.grad(sg.sum(p * p), a)
    v = np.array([[-0.0, -0.5], [-0.0, 0.5], [1.0, -1.0]])
    want = sg.evaluate(y, {a: v})
    assert_same_values(_jax_values([y], [a], [v])[0], want)



@pytest.mark.parametrize("subscripts, shapes, feeds", [
    # a view: NumPy keeps the diagonal's -0.0 (jnp gave 0.0)
    ("ii->i", [(2, 2)], [[[-0.0, 1.0], [2.0, -0.0]]]),
    # products accumulated into 0.0: NumPy's zero is 0.0 (jnp kept -0.0)
    ("i,j->ij", [(2,), (2,)], [[-0.0, 1.0], [1.0, 2.0]]),
    ("ij,ij->ij", [(1, 2), (1, 2)], [[[-0.0, 1.0]], [[1.0, 1.0]]]),
    ("ij->i", [(2, 1)], [[[-0.0], [-0.0]]]),
    ("ij,jk,kl->il", [(1, 1), (1, 1), (1, 1)], [[[-0.0]], [[1.0]], [[2.0]]]),
    ("ji->ij", [(2, 2)], [[[-0.0, 1.0], [np.nan, -0.0]]]),
])
def test_jax_einsum_zeros_are_numpys(graph, subscripts, shapes, feeds):
    xs = [sg.var(f"x{k}", shape=s) for k, s in enumerate(shapes)]
    y = sg.einsum(subscripts, *xs)
    feeds = [np.asarray(f, dtype=float) for f in feeds]
    want = sg.evaluate(y, dict(zip(xs, feeds)))
    assert_same_values(_jax_values([y], xs, feeds)[0], want, what=subscripts)

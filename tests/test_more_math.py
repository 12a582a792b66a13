"""NumPy's elementwise math beyond the basics (symgraph.ops.moremath) and the Array API /
NumPy 2 names (symgraph.ops.aliases): values, dtypes and the sign of zeros against NumPy on
NaN, inf, -0.0, float32 and integers; derivatives to second order by finite differences;
forward mode; every backend equal to evaluate; and the refusals with their messages."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

SPECIAL = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, -2.5, 0.5, 1.5, -8.0, 1e300, 3.0])
OTHER = np.array([1.0, -0.0, np.nan, 0.0, -0.0, np.nan, -2.0, 0.7, 3.0, -1e300, np.inf])
with np.errstate(over="ignore"):
    SPECIAL32 = SPECIAL.astype(np.float32)  # 1e300 is inf
INTS = np.array([-7, -1, 0, 1, 2, 5, 9], np.int32)
INTS2 = np.array([2, 3, 3, -2, 5, -1, 4], np.int32)

UNARY = {  # name: (symgraph, NumPy)
    "cbrt": (sg.cbrt, np.cbrt), "deg2rad": (sg.deg2rad, np.deg2rad),
    "rad2deg": (sg.rad2deg, np.rad2deg), "degrees": (sg.degrees, np.degrees),
    "radians": (sg.radians, np.radians), "trunc": (sg.trunc, np.trunc),
    "rint": (sg.rint, np.rint), "sinc": (sg.sinc, np.sinc), "fabs": (sg.fabs, np.fabs),
    "absolute": (sg.absolute, np.absolute), "positive": (sg.positive, np.positive),
    "isinf": (sg.isinf, np.isinf), "isposinf": (sg.isposinf, np.isposinf),
    "isneginf": (sg.isneginf, np.isneginf), "signbit": (sg.signbit, np.signbit),
    "acos": (sg.acos, np.acos), "asin": (sg.asin, np.asin), "atan": (sg.atan, np.atan),
    "acosh": (sg.acosh, np.acosh), "asinh": (sg.asinh, np.asinh), "atanh": (sg.atanh, np.atanh),
    "around": (sg.around, np.around), "reciprocal": (sg.reciprocal, np.reciprocal),
}
BINARY = {
    "copysign": (sg.copysign, np.copysign), "fmax": (sg.fmax, np.fmax),
    "fmin": (sg.fmin, np.fmin), "fmod": (sg.fmod, np.fmod),
    "remainder": (sg.remainder, np.remainder), "heaviside": (sg.heaviside, np.heaviside),
    "logaddexp2": (sg.logaddexp2, np.logaddexp2), "float_power": (sg.float_power, np.float_power),
    "pow": (sg.pow, np.pow), "true_divide": (sg.true_divide, np.true_divide),
    "atan2": (sg.atan2, np.atan2), "equal": (sg.equal, np.equal),
    "not_equal": (sg.not_equal, np.not_equal), "less": (sg.less, np.less),
    "less_equal": (sg.less_equal, np.less_equal), "greater": (sg.greater, np.greater),
    "greater_equal": (sg.greater_equal, np.greater_equal),
}
NO_INTEGERS = {"reciprocal"}  # refused below: NumPy's integer reciprocal truncates


def _second_zero_of_a_tie(f):
    """NumPy's ``f`` (fmax, fmin) with maximum's rule for a tie of zeros, the second: NumPy's
    own gives the second in its SIMD loop and the first in its scalar loop (short arrays, and
    the last elements of long ones)."""
    def reference(a, b):
        want = f(a, b)
        a, b = np.broadcast_arrays(a, b)
        return np.where((a == b) & (a == 0), b, want).astype(want.dtype)
    return reference


BINARY["fmax"] = (sg.fmax, _second_zero_of_a_tie(np.fmax))
BINARY["fmin"] = (sg.fmin, _second_zero_of_a_tie(np.fmin))


def assert_numpy_equal(got, want):
    """Bit for bit: dtype, shape, NaN where NumPy has it, the sign of every zero."""
    want = np.asarray(want)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def _numpy(f, *values):
    with np.errstate(all="ignore"):
        return f(*values)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("values", [SPECIAL, SPECIAL32, INTS],
                         ids=["float64", "float32", "int32"])
def test_unary_values_and_dtypes_are_numpys(name, values):
    ours, theirs = UNARY[name]
    if name in NO_INTEGERS and values.dtype.kind == "i":
        pytest.skip("refused: test_refusals_say_why")
    with sg.Graph():
        x = sg.var("x", shape=values.shape, dtype=values.dtype)
        y = ours(x)
        got = sg.evaluate(y, {x: values})
    assert y.dtype == got.dtype
    assert_numpy_equal(got, _numpy(theirs, values))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("values", [(SPECIAL, OTHER), (SPECIAL32, 2.5),
                                    (INTS, INTS2), (INTS, 0.5)],
                         ids=["float64", "float32-python-number", "int32", "int32-and-float"])
def test_binary_values_and_dtypes_are_numpys(name, values):
    ours, theirs = BINARY[name]
    a, b = values
    if name in ("pow", "float_power") and a.dtype.kind == "i" and np.ndim(b):
        b = np.abs(b)  # an integer to a negative integer power is refused (as NumPy)
    with sg.Graph():
        x = sg.var("x", shape=a.shape, dtype=a.dtype)
        if np.ndim(b):
            z = sg.var("z", shape=b.shape, dtype=b.dtype)
            y, feeds = ours(x, z), {x: a, z: b}
        else:
            y, feeds = ours(x, b), {x: a}
        got = sg.evaluate(y, feeds)
    assert y.dtype == got.dtype
    assert_numpy_equal(got, _numpy(theirs, a, b))


def test_fmax_and_fmin_ignore_nan_and_take_the_second_zero_of_a_tie():
    a_values = np.resize([-0.0, 0.0, np.nan, np.nan, 1.0, -3.0], 20)
    b_values = np.resize([0.0, -0.0, 1.0, np.nan, np.nan, 2.0], 20)
    tie = a_values == b_values
    with sg.Graph():
        a, b = sg.var("a", shape=(20,)), sg.var("b", shape=(20,))
        for ours, theirs in ((sg.fmax, np.fmax), (sg.fmin, np.fmin)):
            got = sg.evaluate(ours(a, b), {a: a_values, b: b_values})
            np.testing.assert_array_equal(got, theirs(a_values, b_values))  # NaN ignored
            np.testing.assert_array_equal(np.signbit(got[tie]), np.signbit(b_values[tie]))


# --- derivatives ---------------------------------------------------------------------------

P = np.array([0.3, 1.7, -0.8, 2.2])  # generic points: off every kink, jump and zero
Q = np.array([1.1, -0.6, 0.4, 1.3])
DIFFERENTIABLE = {  # name: (build of x and z, points)
    "cbrt": (lambda x, z: sg.cbrt(x), P), "deg2rad": (lambda x, z: sg.deg2rad(x) ** 2, P),
    "rad2deg": (lambda x, z: sg.rad2deg(x / 90), P), "sinc": (lambda x, z: sg.sinc(x), P),
    "fabs": (lambda x, z: sg.fabs(x) * x, P), "reciprocal": (lambda x, z: sg.reciprocal(x), P),
    "copysign": (lambda x, z: sg.copysign(x * x * x, z), P),
    "fmax": (lambda x, z: sg.fmax(x, z) ** 2, P), "fmin": (lambda x, z: sg.fmin(x, z) ** 3, P),
    "fmod": (lambda x, z: sg.fmod(x * x, z) ** 2, P),
    "logaddexp2": (lambda x, z: sg.logaddexp2(x, z), P),
    "float_power": (lambda x, z: sg.float_power(sg.abs(x), z), P),
    "heaviside-h0": (lambda x, z: sg.heaviside(sg.trunc(x), z) * z, P),
    "acos": (lambda x, z: sg.acos(x / 3), P), "atan2": (lambda x, z: sg.atan2(x, z), P),
    "matrix_transpose": (lambda x, z: sg.matrix_transpose(sg.outer(x, z)) @ x, P),
    "cumulative_sum": (lambda x, z: sg.cumulative_sum(x * z, include_initial=True) ** 2, P),
    "cumulative_prod": (lambda x, z: sg.cumulative_prod(x * z, include_initial=True), P),
    "vecdot": (lambda x, z: sg.vecdot(sg.outer(x, z), x * z), P),
    "matvec": (lambda x, z: sg.matvec(sg.outer(x, z), sg.sin(x)), P),
    "vecmat": (lambda x, z: sg.vecmat(sg.sin(x), sg.outer(x, z)), P),
}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_first_and_second_derivatives_match_finite_differences(name):
    build, at = DIFFERENTIABLE[name]
    with sg.Graph():
        x, z = sg.var("x", shape=(4,)), sg.var("z", shape=(4,))
        y = sg.sum(sg.sin(build(x, z)))  # a curved outer function: second order checked
        assert sg.check_grad(y, [x, z], {x: at, z: Q}, order=2) < 1e-5


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_forward_mode_matches_finite_differences(name):
    build, at = DIFFERENTIABLE[name]
    v, w, h = np.array([0.3, -0.5, 0.2, 0.7]), np.array([-0.4, 0.1, 0.6, 0.2]), 1e-6
    with sg.Graph():
        x, z = sg.var("x", shape=(4,)), sg.var("z", shape=(4,))
        y = build(x, z)
        tangent = sg.evaluate(sg.jvp(y, [x, z], [v, w]), {x: at, z: Q})
        ahead, behind = (sg.evaluate(y, {x: at + s * h * v, z: Q + s * h * w}) for s in (1, -1))
    np.testing.assert_allclose(tangent, (ahead - behind) / (2 * h), rtol=1e-6, atol=1e-7)


def test_piecewise_constant_ones_pass_zero_and_the_special_points_their_conventions():
    with sg.Graph():
        x, h = sg.var("x", shape=(4,)), sg.var("h")
        at = {x: [-1.5, 0.0, 2.5, 3.7], h: 0.5}
        for y in (sg.trunc(x), sg.rint(x), sg.heaviside(x, h)):
            assert sg.evaluate(sg.grad(sg.sum(y), x), at).tolist() == [0.0] * 4
        # heaviside passes h0's gradient where x is 0 (either sign), nothing elsewhere
        assert float(sg.evaluate(sg.grad(sg.sum(sg.heaviside(x, h)), h), at)) == 1.0
        # sinc: 0 at 0; cbrt: inf at 0 (as 1 / (3 cbrt(0)^2)); copysign: sign(x1) * s(x2)
        s = sg.var("s")
        assert float(sg.evaluate(sg.grad(sg.sinc(s), s), {s: 0.0})) == 0.0
        assert float(sg.evaluate(sg.grad(sg.cbrt(s), s), {s: 0.0})) == np.inf
        d = sg.grad(sg.copysign(s, h), [s, h])
        assert [float(v) for v in sg.evaluate(d, {s: -2.0, h: -0.0})] == [1.0, 0.0]
        # fmax/fmin: to the operand that is not NaN, to the first on a tie
        a, b = sg.var("a", shape=(3,)), sg.var("b", shape=(3,))
        feed = {a: [np.nan, 1.0, 2.0], b: [1.0, np.nan, 2.0]}
        for f in (sg.fmax, sg.fmin):
            ga, gb = sg.evaluate(sg.grad(sg.sum(f(a, b)), [a, b]), feed)
            assert ga.tolist() == [0.0, 1.0, 1.0] and gb.tolist() == [1.0, 0.0, 0.0]


# --- backends ------------------------------------------------------------------------------

def _all_outputs(x, z):
    outs = [ours(x) for name, (ours, _) in UNARY.items() if name not in NO_INTEGERS]
    outs += [sg.reciprocal(x), *(ours(x, z) for ours, _ in BINARY.values())]
    outs += [sg.grad(sg.sum(build(x, z)), x) for build, _ in DIFFERENTIABLE.values()
             if build(x, z).ndim == 1]
    return outs


@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_compiled_equals_evaluate_nan_inf_and_zeros_included(backend):
    if not sg.backends().get(backend):
        pytest.skip(f"{backend} is not installed")
    with sg.Graph():
        x, z = sg.var("x", shape=SPECIAL.shape), sg.var("z", shape=OTHER.shape)
        outs = _all_outputs(x, z)
        want = sg.evaluate(outs, {x: SPECIAL, z: OTHER})
        got = sg.compile(outs, [x, z], backend=backend)(SPECIAL, OTHER)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same_values(g, w, rtol=1e-12, atol=0, what=f"output {i}")


@pytest.mark.parametrize("backend", ["python", "numba", "jax"])
def test_scalar_graphs_compiled_equal_evaluate(backend):
    """Scalar graphs take other paths (numba's tape, Python's math forms)."""
    if not sg.backends().get(backend):
        pytest.skip(f"{backend} is not installed")
    with sg.Graph():
        x, z = sg.var("x"), sg.var("z")
        outs = [ours(x) for name, (ours, _) in UNARY.items() if name not in NO_INTEGERS]
        outs += [ours(x, z) for ours, _ in BINARY.values()]
        f = sg.compile(outs, [x, z], backend=backend)
        for a, b in zip(SPECIAL, OTHER):
            want = sg.evaluate(outs, {x: a, z: b})
            for i, (g, w) in enumerate(zip(f(a, b), want)):
                assert_same_values(g, w, rtol=1e-12, atol=0, what=f"output {i} at {a}, {b}")


# --- the aliases and NumPy 2's functions ------------------------------------------------------

def test_aliases_are_the_functions_they_name():
    assert sg.acos is sg.arccos and sg.atan2 is sg.arctan2 and sg.pow is sg.power
    assert sg.concat is sg.concatenate and sg.amax is sg.max and sg.amin is sg.min
    assert sg.around is sg.round and sg.true_divide is sg.divide and sg.absolute is sg.abs
    assert sg.permute_dims is sg.transpose and sg.remainder is sg.mod


@pytest.mark.parametrize("name", ["fmax", "fmin", "heaviside", "float_power", "isinf", "signbit",
                                  "fabs", "positive", "degrees", "radians", "reciprocal",
                                  "vecdot", "matvec", "vecmat", "cbrt", "copysign", "equal"])
def test_numpys_ufunc_of_a_node_builds_symgraphs_function(name):
    values = [np.array([[1.5, -0.0], [np.nan, -2.0]]), np.array([0.5, np.nan])]
    if name == "vecmat":  # a vector times a matrix
        values = values[::-1]
    ufunc = getattr(np, name)
    with sg.Graph():
        nodes = [sg.var(f"x{k}", shape=v.shape) for k, v in enumerate(values)][:ufunc.nin]
        y = ufunc(*nodes)
        assert isinstance(y, sg.Node)
        got = sg.evaluate(y, dict(zip(nodes, values)))
    assert_numpy_equal(got, _numpy(ufunc, *values[:ufunc.nin]))


T = np.arange(24.0).reshape(2, 3, 4) - 11.5


@pytest.mark.parametrize("ours, theirs", [
    (lambda t: sg.permute_dims(t, (2, 0, 1)), lambda t: np.permute_dims(t, (2, 0, 1))),
    (sg.matrix_transpose, np.matrix_transpose),
    (lambda t: sg.cumulative_sum(t, axis=1), lambda t: np.cumulative_sum(t, axis=1)),
    (lambda t: sg.cumulative_sum(t, axis=-1, include_initial=True),
     lambda t: np.cumulative_sum(t, axis=-1, include_initial=True)),
    (lambda t: sg.cumulative_prod(t[0, 0], include_initial=True),
     lambda t: np.cumulative_prod(t[0, 0], include_initial=True)),
    (lambda t: sg.cumulative_sum(sg.cast(t, "int32"), axis=0),
     lambda t: np.cumulative_sum(t.astype(np.int32), axis=0)),
    (lambda t: sg.cumulative_sum(sg.cast(t, "int32"), axis=0, dtype="int32"),
     lambda t: np.cumulative_sum(t.astype(np.int32), axis=0, dtype=np.int32)),
    (lambda t: sg.vecdot(t, t[0]), lambda t: np.vecdot(t, t[0])),
    (lambda t: sg.vecdot(t, t[:, :, :1], axis=1), lambda t: np.vecdot(t, t[:, :, :1], axis=1)),
    (lambda t: sg.vecdot(sg.cast(t, "int32"), sg.cast(t, "int32")),
     lambda t: np.vecdot(t.astype(np.int32), t.astype(np.int32))),
    (lambda t: sg.matvec(t, t[0, 0]), lambda t: np.matvec(t, t[0, 0])),
    (lambda t: sg.vecmat(t[1, :, 0], t), lambda t: np.vecmat(t[1, :, 0], t)),
], ids=["permute_dims", "matrix_transpose", "cumulative_sum", "cumulative_sum-initial",
        "cumulative_prod-initial", "cumulative_sum-int32", "cumulative_sum-dtype", "vecdot",
        "vecdot-axis", "vecdot-int32", "matvec", "vecmat"])
def test_array_api_functions_equal_numpy(ours, theirs):
    with sg.Graph():
        t = sg.var("t", shape=T.shape)
        got = sg.evaluate(ours(t), {t: T})
    want = theirs(T)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_cumulative_sum_with_a_size_known_when_fed():
    with sg.Graph():
        m = sg.var("m", shape=(None, 3))
        y = sg.cumulative_prod(m, axis=0, include_initial=True)
        got = sg.evaluate(y, {m: T[0].T})
    np.testing.assert_array_equal(got, np.cumulative_prod(T[0].T, axis=0, include_initial=True))


@pytest.mark.parametrize("call, part", [
    (lambda v, m, i, b: sg.reciprocal(i), "NumPy's reciprocal of integers truncates"),
    (lambda v, m, i, b: sg.positive(b), "positive of the boolean node 'b'"),
    (lambda v, m, i, b: sg.matrix_transpose(v),
     "matrix_transpose of 'v' .shape .3,..: it has 1 axes"),
    (lambda v, m, i, b: sg.cumulative_sum(m), "it has 2 axes, so axis= is required"),
    (lambda v, m, i, b: sg.cumulative_prod(v[0]), "a scalar has no axis"),
    (lambda v, m, i, b: sg.cumulative_sum(v, include_initial="yes"), "must be True or False"),
    (lambda v, m, i, b: sg.cumulative_sum(m, axis=2), "axis"),
    (lambda v, m, i, b: sg.vecdot(v[0], v), "both must have at least one axis"),
    (lambda v, m, i, b: sg.vecdot(m, v[:2], axis=0), "axis 0 must be an axis of both"),
    (lambda v, m, i, b: sg.matvec(v, v), "give a stack of matrices"),
    (lambda v, m, i, b: sg.vecmat(v, v), "give a stack of vectors"),
])
def test_refusals_say_why_and_leave_the_graph_as_it_was(call, part):
    with sg.Graph() as g:
        v, m = sg.var("v", shape=(3,)), sg.var("m", shape=(3, 2))
        i, b = sg.var("i", dtype="int32"), sg.var("b", dtype="bool")
        v[0], v[:2]  # the nodes the calls index with exist before
        before = len(g)
        with pytest.raises(sg.SymgraphError, match=part):
            call(v, m, i, b)
        assert len(g) == before

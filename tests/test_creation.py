"""NumPy's array creation as symgraph functions (symgraph.ops.creation, symgraph.ops.spacing):
zeros ones empty full eye identity tri arange, the *_like functions, asarray and array,
linspace logspace geomspace and meshgrid.

Against NumPy bit for bit (value, dtype, shape, NaN, inf, the sign of zero) for constants and
for nodes; node fills and node ends differentiated to second order by finite differences and
in forward mode; every backend equal to evaluate; and the refusals with their messages,
leaving the graph as it was."""

from __future__ import annotations

import numpy as np
import pytest
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg

BACKENDS = ["python", "numpy", "numba", "jax", "dask"]


def assert_numpy_equal(got, want):
    """Bit for bit: dtype, shape, NaN where NumPy has it, the sign of every zero."""
    got, want = np.asarray(got), np.asarray(want)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def _numpy(f):
    with np.errstate(all="ignore"):
        return f()


# --- constants -------------------------------------------------------------------------------

CONSTANTS = [
    (lambda m: m.zeros((2, 3)), "zeros"),
    (lambda m: m.zeros(4, dtype="int32"), "zeros-int32"),
    (lambda m: m.zeros(()), "zeros-scalar"),
    (lambda m: m.ones((2,), dtype=np.float32), "ones-float32"),
    (lambda m: m.ones([0, 3]), "ones-empty"),
    (lambda m: m.full((2, 3), 1.5), "full"),
    (lambda m: m.full(3, 7), "full-int"),
    (lambda m: m.full((2, 2), True), "full-bool"),
    (lambda m: m.full((2, 3), [1, 2, 3], np.float32), "full-row"),
    (lambda m: m.full(3, 2.7, int), "full-cast"),
    (lambda m: m.full(2, -0.0), "full-negative-zero"),
    (lambda m: m.full(2, np.nan, np.float32), "full-nan"),
    (lambda m: m.eye(3), "eye"),
    (lambda m: m.eye(2, 4, k=1, dtype=np.int8), "eye-int8"),
    (lambda m: m.eye(3, k=-5), "eye-far"),
    (lambda m: m.identity(3), "identity"),
    (lambda m: m.identity(2, dtype=bool), "identity-bool"),
    (lambda m: m.tri(3), "tri"),
    (lambda m: m.tri(2, 4, k=1, dtype=np.int32), "tri-int32"),
    (lambda m: m.arange(5), "arange"),
    (lambda m: m.arange(1.5), "arange-float"),
    (lambda m: m.arange(2, 9, 3), "arange-step"),
    (lambda m: m.arange(0, 1, 0.1), "arange-tenths"),
    (lambda m: m.arange(5, dtype=np.float32), "arange-float32"),
    (lambda m: m.arange(10, 2, -3), "arange-down"),
    (lambda m: m.arange(np.int32(4)), "arange-int32"),
    (lambda m: m.linspace(0, 1, 5), "linspace"),
    (lambda m: m.linspace(2, 3, 4, endpoint=False), "linspace-open"),
    (lambda m: m.linspace([0, 1], [2, 3], 3, axis=1), "linspace-arrays"),
    (lambda m: m.linspace(0, 10, 4, dtype=int), "linspace-int"),
    (lambda m: m.logspace(0, 2, 3), "logspace"),
    (lambda m: m.logspace(0, 1, 4, base=2), "logspace-base"),
    (lambda m: m.geomspace(1, 1000, 4), "geomspace"),
    (lambda m: m.geomspace(-1, -8, 4, dtype=np.float32), "geomspace-negative"),
    (lambda m: m.asarray([[1, 2], [3, 4]], dtype=np.float32), "asarray"),
    (lambda m: m.array(2.5, ndmin=2), "array-ndmin"),
    (lambda m: m.zeros_like(np.ones((2, 3), np.int8)), "zeros_like-data"),
    (lambda m: m.ones_like([1.5, 2.5], dtype=int), "ones_like-data"),
    (lambda m: m.full_like(np.ones(3, np.float32), 2.5), "full_like-data"),
    (lambda m: m.full_like(np.ones(3), 9, shape=(2, 2)), "full_like-shape"),
]


@pytest.mark.parametrize("call", [c for c, _ in CONSTANTS], ids=[i for _, i in CONSTANTS])
def test_constants_are_numpys_arrays(call):
    with sg.Graph():
        node = call(sg)
        assert isinstance(node, sg.Node) and node.shape == np.shape(call(np))
        got = sg.evaluate(node, {})
    assert_numpy_equal(got, _numpy(lambda: call(np)))


def test_empty_is_zeros_of_numpys_shape_and_dtype():
    with sg.Graph():
        got = sg.evaluate([sg.empty((2, 3)), sg.empty(4, dtype="int16"),
                           sg.empty_like(np.ones(2, np.float32))], {})
    assert_numpy_equal(got[0], np.zeros((2, 3)))
    assert_numpy_equal(got[1], np.zeros(4, np.int16))
    assert_numpy_equal(got[2], np.zeros(2, np.float32))


def test_a_large_fill_takes_no_memory():
    with sg.Graph():
        z = sg.zeros((10**5, 10**4))
        assert not any(z.attrs["value"].strides)
        assert float(sg.evaluate(sg.ones((10**4, 10**4), "int8")[3, 4], {})) == 1


def test_scan_starts_from_zeros_as_a_jax_user_writes_it():
    """The first name a JAX user reaches for: the initial carry of a scan."""
    with sg.Graph():
        xs = sg.var("xs", shape=(4, 2))
        total, partial = sg.scan(lambda c, x: (c + x, c), sg.zeros((2,)), xs)
        values = np.arange(8.0).reshape(4, 2)
        got = sg.evaluate([total, partial, sg.grad(sg.sum(total * total), xs)], {xs: values})
    np.testing.assert_array_equal(got[0], values.sum(0))
    np.testing.assert_array_equal(got[1], np.cumsum(values, 0) - values)
    np.testing.assert_array_equal(got[2], np.broadcast_to(2 * values.sum(0), (4, 2)))


# --- like a node -----------------------------------------------------------------------------

def test_like_functions_of_nodes_take_shape_and_dtype_at_run_time():
    value = np.arange(6.0).reshape(3, 2)
    with sg.Graph():
        m = sg.var("m", shape=(None, 2))
        i = sg.var("i", shape=(3,), dtype="int32")
        s = sg.var("s")
        made = {
            "zeros_like": (sg.zeros_like(m), np.zeros_like(value)),
            "zeros_like-dtype": (sg.zeros_like(m, dtype="int8"), np.zeros_like(value, np.int8)),
            "ones_like": (sg.ones_like(m), np.ones_like(value)),
            "ones_like-shape": (sg.ones_like(m, shape=(1, 4)), np.ones((1, 4))),
            "full_like": (sg.full_like(m, 2.5), np.full_like(value, 2.5)),
            "full_like-node": (sg.full_like(m, s), np.full_like(value, -1.5)),
            "full_like-int": (sg.full_like(i, 2.7), np.full_like(np.ones(3, np.int32), 2.7)),
            "full_like-int-node": (sg.full_like(i, s), np.full(3, -1, np.int32)),
            "empty_like": (sg.empty_like(m, dtype=bool), np.zeros((3, 2), bool)),
        }
        assert made["zeros_like"][0].shape == (None, 2) and made["ones_like"][0].shape == (None, 2)
        got = sg.evaluate([n for n, _ in made.values()], {m: value, s: -1.5, i: [1, 2, 3]})
    for (name, (_, want)), g in zip(made.items(), got):
        assert_numpy_equal(g, want), name


def test_full_and_full_like_broadcast_a_node_fill_and_differentiate_into_it():
    with sg.Graph():
        s, v = sg.var("s"), sg.var("v", shape=(3,))
        f = sg.full((2, 3), v)
        g = sg.full_like(sg.var("m", shape=(2, 3)), s, dtype="float32")
        assert f.shape == (2, 3) and g.dtype == np.float32
        y = sg.sum(sg.sin(f * sg.full((2, 1), s)))
        assert sg.check_grad(y, [s, v], {s: 0.7, v: [0.1, -0.4, 1.2]}, order=2) < 1e-6
        tangent = sg.evaluate(sg.jvp(f, v, [1.0, 2.0, 3.0]), {v: [0.0, 0.0, 0.0]})
    np.testing.assert_array_equal(tangent, [[1.0, 2.0, 3.0]] * 2)


def test_asarray_and_array_of_nodes():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y", dtype="float32")
        assert sg.asarray(x) is x and sg.array(x) is x
        assert sg.asarray(x, dtype="float32").dtype == np.float32
        v = sg.asarray([x, 2.0, x * x])
        w = sg.asarray([[x, 1.0], [0.5, x]])
        assert sg.asarray([y, 2.0]).dtype == np.float32  # Python numbers are weak, as jnp's
        assert sg.array(v, ndmin=3).shape == (1, 1, 3)
        got = sg.evaluate([v, w, sg.grad(sg.sum(w * w) + sg.sum(v), x)], {x: 3.0})
    np.testing.assert_array_equal(got[0], [3.0, 2.0, 9.0])
    np.testing.assert_array_equal(got[1], [[3.0, 1.0], [0.5, 3.0]])
    assert float(got[2]) == 4 * 3.0 + 1 + 2 * 3.0


# --- evenly spaced, with node ends ------------------------------------------------------------

ENDS = [(0.5, -1.5), (0.0, 5e-324), (-0.0, 0.0), (np.inf, np.inf), (0.0, np.inf),
        (np.nan, 1.0), (1.0, 1.0), (-3.0, 7.0), (2.0, -0.0)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("start, stop", ENDS)
def test_linspace_of_node_ends_is_numpys_arithmetic(start, stop, dtype):
    a, b = np.array(start, dtype), np.array(stop, dtype)
    with sg.Graph():
        x, y = sg.var("x", dtype=dtype), sg.var("y", dtype=dtype)
        for num in (0, 1, 2, 5):
            for endpoint in (True, False):
                node = sg.linspace(x, y, num, endpoint=endpoint)
                got = sg.evaluate(node, {x: a, y: b})
                assert_numpy_equal(got, _numpy(lambda: np.linspace(a, b, num, endpoint)))
        out, step = sg.linspace(x, y, 4, retstep=True)
        want, want_step = _numpy(lambda: np.linspace(a, b, 4, retstep=True))
        assert_numpy_equal(sg.evaluate(step, {x: a, y: b}), want_step)
        ints = sg.evaluate(sg.linspace(x, 7.0, 6, dtype="int32"), {x: -3.0}) if (
            dtype == "float64") else None
    if ints is not None:
        assert_numpy_equal(ints, np.linspace(-3.0, 7.0, 6, dtype=np.int32))


def test_linspace_with_array_ends_along_an_axis():
    starts, stops = np.array([[0.0, 1.0], [2.0, -1.0]]), np.array([4.0, -0.5])
    with sg.Graph():
        a = sg.var("a", shape=(2, 2))
        b = sg.var("b", shape=(2,))
        for axis in (0, 1, -1):
            got = sg.evaluate(sg.linspace(a, b, 3, axis=axis), {a: starts, b: stops})
            assert_numpy_equal(got, np.linspace(starts, stops, 3, axis=axis))
        got = sg.evaluate(sg.linspace(a, 1, 3), {a: starts})  # an int end: float64
        assert_numpy_equal(got, np.linspace(starts, 1, 3))


@pytest.mark.parametrize("start, stop", [(0.0, 2.0), (-1.0, 0.5), (3.0, 3.0), (np.nan, 1.0)])
def test_logspace_of_node_ends(start, stop):
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y", dtype="float32")
        for base in (10.0, 2, 0.5):
            got = sg.evaluate(sg.logspace(x, stop, 5, base=base), {x: start})
            assert_numpy_equal(got, np.logspace(start, stop, 5, base=base))
        got = sg.evaluate(sg.logspace(y, stop, 4, endpoint=False), {y: start})
        assert_numpy_equal(got, np.logspace(np.float32(start), stop, 4, endpoint=False))
        b = sg.var("b")
        got = sg.evaluate(sg.logspace(start, stop, 3, base=b), {b: 3.0})
        assert_numpy_equal(got, np.logspace(start, stop, 3, base=3.0))


@pytest.mark.parametrize("start, stop", [(1.0, 1000.0), (-1.0, -8.0), (2.0, 2.0), (1e-3, 1e3),
                                         (8.0, 1.0), (-1.0, 8.0), (np.inf, 1.0)])
def test_geomspace_of_node_ends(start, stop):
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y", dtype="float32")
        for num, endpoint in ((5, True), (4, False), (1, True), (0, True)):
            got = sg.evaluate(sg.geomspace(x, stop, num, endpoint), {x: start})
            assert_numpy_equal(got, _numpy(lambda: np.geomspace(start, stop, num, endpoint)))
        got = sg.evaluate(sg.geomspace(y, np.float32(stop), 3), {y: start})  # NumPy: float64
        assert_numpy_equal(got, _numpy(lambda: np.geomspace(np.float32(start),
                                                            np.float32(stop), 3)))
        got = sg.evaluate(sg.geomspace(y, np.float32(stop), 3, dtype="float32"), {y: start})
        assert_numpy_equal(got, _numpy(lambda: np.geomspace(np.float32(start), np.float32(stop),
                                                            3, dtype=np.float32)))


def test_geomspace_through_zero_is_nan_where_numpy_raises():
    with sg.Graph():
        x = sg.var("x")
        got = sg.evaluate(sg.geomspace(x, 10.0, 3), {x: 0.0})
    assert np.isnan(got).all()
    with pytest.raises(ValueError):
        np.geomspace(0.0, 10.0, 3)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid_of_nodes(indexing, sparse):
    values = [np.array([1.0, 2.0, 3.0]), np.array([[-1.0, 0.5]]), np.array([7.0])]
    with sg.Graph():
        nodes = [sg.var(f"x{k}", shape=v.shape) for k, v in enumerate(values)]
        for count in (1, 2, 3):
            grids = sg.meshgrid(*nodes[:count], indexing=indexing, sparse=sparse)
            assert isinstance(grids, tuple) and len(grids) == count
            got = sg.evaluate(list(grids), dict(zip(nodes, values)))
            want = np.meshgrid(*values[:count], indexing=indexing, sparse=sparse)
            for g, w in zip(got, want):
                assert_numpy_equal(g, w)
        assert sg.meshgrid() == ()


def test_meshgrid_of_a_length_known_when_fed():
    with sg.Graph():
        x, y = sg.var("x", shape=(None,)), sg.var("y", shape=(2,))
        X, Y = sg.meshgrid(x, y)
        assert X.shape == (2, None) == Y.shape
        got = sg.evaluate([X, Y], {x: [1.0, 2.0, 3.0], y: [5.0, 6.0]})
    for g, w in zip(got, np.meshgrid([1.0, 2.0, 3.0], [5.0, 6.0])):
        assert_numpy_equal(g, w)


# --- derivatives -----------------------------------------------------------------------------

DIFFERENTIABLE = {  # name: build of the scalars a, b and the vector v
    "linspace": lambda a, b, v: sg.linspace(a, b, 5),
    "linspace-open-axis": lambda a, b, v: sg.linspace(v, b, 3, endpoint=False, axis=1),
    "linspace-step": lambda a, b, v: sg.linspace(a, v, 4, retstep=True)[1] * a,
    "logspace": lambda a, b, v: sg.logspace(a, b, 4, base=b + 2.0),
    "geomspace": lambda a, b, v: sg.geomspace(a + 2.0, b * b + 0.5, 5),
    "geomspace-negative": lambda a, b, v: sg.geomspace(-a - 2.0, -b * b - 0.5, 3),
    "full": lambda a, b, v: sg.full((2, 3), v) * sg.full((2, 1), a),
    "full_like": lambda a, b, v: sg.full_like(v, b * a) + sg.ones_like(v) * v,
    "asarray": lambda a, b, v: sg.asarray([a, a * b, v[0]]),
    "meshgrid": lambda a, b, v: sg.meshgrid(v, sg.asarray([a, b]))[0]
    * sg.meshgrid(v, sg.asarray([a, b]))[1],
}
A, B, V = 0.3, 0.8, np.array([0.4, -1.1, 0.9])


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_derivatives_to_second_order(name):
    with sg.Graph():
        a, b, v = sg.var("a"), sg.var("b"), sg.var("v", shape=(3,))
        y = sg.sum(sg.sin(DIFFERENTIABLE[name](a, b, v)))
        assert sg.check_grad(y, [a, b, v], {a: A, b: B, v: V}, order=2) < 1e-5


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_forward_mode_matches_finite_differences(name):
    da, db, dv, h = 0.7, -0.3, np.array([0.2, 0.5, -0.4]), 1e-6
    with sg.Graph():
        a, b, v = sg.var("a"), sg.var("b"), sg.var("v", shape=(3,))
        y = DIFFERENTIABLE[name](a, b, v)
        tangent = sg.evaluate(sg.jvp(y, [a, b, v], [da, db, dv]), {a: A, b: B, v: V})
        ahead, behind = (sg.evaluate(y, {a: A + s * h * da, b: B + s * h * db, v: V + s * h * dv})
                         for s in (1, -1))
    np.testing.assert_allclose(tangent, (ahead - behind) / (2 * h), rtol=1e-6, atol=1e-7)


def test_linspace_gradient_is_the_weights_of_the_ends():
    with sg.Graph():
        a, b = sg.var("a"), sg.var("b")
        y = sg.linspace(a, b, 5)
        grads = sg.evaluate(sg.jacobian(y, [a, b]), {a: 0.0, b: 1.0})
    np.testing.assert_allclose(grads[0], [1.0, 0.75, 0.5, 0.25, 0.0])
    np.testing.assert_allclose(grads[1], [0.0, 0.25, 0.5, 0.75, 1.0])


# --- backends --------------------------------------------------------------------------------

def _outputs(a, b, v):
    outs = [build(a, b, v) for build in DIFFERENTIABLE.values()]
    outs += [sg.grad(sg.sum(build(a, b, v)), a) for build in DIFFERENTIABLE.values()]
    outs += [sg.zeros((2, 3)) + a, sg.eye(3) * b, sg.arange(4) * a, sg.tri(3, dtype=int),
             # (b is finite at every point: a cast of inf or NaN to an integer is undefined)
             sg.linspace(-3.0, b * 5.0, 4, dtype="int32"), sg.zeros_like(v, dtype="int8"),
             sg.linspace(a, b, 3) * sg.identity(3)]
    return outs


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_equals_evaluate(backend):
    if not sg.backends().get(backend):
        pytest.skip(f"{backend} is not installed")
    with sg.Graph():
        a, b, v = sg.var("a"), sg.var("b"), sg.var("v", shape=(3,))
        outs = _outputs(a, b, v)
        f = sg.compile(outs, [a, b, v], backend=backend)
        points = [(A, B, V), (np.inf, 1.0, -V), (-0.0, 0.0, V * 0)]
        if backend != "jax":  # (XLA on CPU flushes subnormal numbers to zero)
            points.append((0.0, 5e-324, V))
        for at in points:
            want = sg.evaluate(outs, dict(zip((a, b, v), at)))
            got = f(*at)
            for i, (g, w) in enumerate(zip(got, want)):
                assert_same_values(np.asarray(g), w, rtol=1e-12, atol=0,
                                   what=f"output {i} at {at}")


def test_numpys_functions_of_nodes_build_these():
    with sg.Graph():
        v, s = sg.var("v", shape=(3,)), sg.var("s")
        assert np.zeros_like(v, dtype=np.int8).dtype == np.int8
        built = [np.ones_like(v), np.full_like(v, s), np.empty_like(v, shape=(2,)),
                 np.linspace(s, 1.0, 4), np.logspace(0.0, s, 3), np.geomspace(s, 8.0, 4),
                 *np.meshgrid(v, v[:2])]
        assert all(isinstance(n, sg.Node) for n in built)
        got = sg.evaluate(built, {v: [1.0, 2.0, 3.0], s: 0.5})
    want = [np.ones(3), np.full(3, 0.5), np.zeros(2), np.linspace(0.5, 1.0, 4),
            np.logspace(0.0, 0.5, 3), np.geomspace(0.5, 8.0, 4),
            *np.meshgrid([1.0, 2.0, 3.0], [1.0, 2.0])]
    for g, w in zip(got, want):
        assert_numpy_equal(g, w)


# --- refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, part", [
    (lambda v, s: sg.zeros(v), "sg.zeros: the shape holds a node; a shape is Python ints"),
    (lambda v, s: sg.ones((2, s)), "sg.ones: the shape holds a node"),
    (lambda v, s: sg.zeros((2, -1)), "sg.zeros: shape .2, -1. has -1; dimensions are ints >= 0"),
    (lambda v, s: sg.zeros((2, None)), "has None"),
    (lambda v, s: sg.zeros("ab"), "shape must be an int or a tuple of ints"),
    (lambda v, s: sg.zeros(2.0), "shape must be an int or a tuple of ints"),
    (lambda v, s: sg.zeros(3, dtype=complex), "dtype complex128 is not supported"),
    (lambda v, s: sg.full((2,), 1, dtype="nonsense"), "is not a NumPy dtype"),
    (lambda v, s: sg.full((2,), [1, 2, 3]), "sg.full: NumPy refuses the arguments"),
    (lambda v, s: sg.full(10**30, 1.0), "sg.full: NumPy refuses the arguments"),
    (lambda v, s: sg.full((2,), 1j), "dtype complex128 is not supported"),
    (lambda v, s: sg.eye(2.5), "sg.eye: N must be an int"),
    (lambda v, s: sg.eye(s), "sg.eye: N is the node 's'.* must be a Python int"),
    (lambda v, s: sg.eye(-1), "sg.eye: NumPy refuses the arguments"),
    (lambda v, s: sg.identity(3, dtype="U3"), "is not supported"),
    (lambda v, s: sg.tri(3, k=0.5), "sg.tri: k must be an int"),
    (lambda v, s: sg.arange(s), "sg.arange: start is the node 's'.*the length of an arange "
     "must be static"),
    (lambda v, s: sg.arange(0, 5, v[0]), "step is the node"),
    (lambda v, s: sg.arange(float("nan")), "sg.arange: NumPy refuses"),
    (lambda v, s: sg.arange("3"), "the bounds and step must be real numbers"),
    (lambda v, s: sg.linspace(s, 1.0, num=s), "num is the node 's'"),
    (lambda v, s: sg.linspace(s, 1.0, num=-1), "num=-1 must be >= 0"),
    (lambda v, s: sg.linspace(s, 1.0, endpoint="no"), "endpoint must be True or False"),
    (lambda v, s: sg.linspace(s, 1.0, axis=1.5), "axis must be an int"),
    (lambda v, s: sg.linspace(s, v, 3, axis=3), "axis"),
    (lambda v, s: sg.logspace(s, 1.0, base=[2.0, 3.0]), "base must be a number or a scalar"),
    (lambda v, s: sg.geomspace(s, 1.0, 2.5), "num must be an int"),
    (lambda v, s: sg.meshgrid(v, indexing="xx"), "indexing='xx' must be 'xy' or 'ij'"),
    (lambda v, s: sg.meshgrid(v, sparse=1), "sparse must be True or False"),
    (lambda v, s: sg.asarray(1 + 2j), "sg.asarray: dtype complex128 is not supported"),
    (lambda v, s: sg.asarray("abc"), "sg.asarray: dtype <U3 is not supported"),
    (lambda v, s: sg.asarray([[1.0], [1.0, 2.0]]), "sg.asarray: NumPy refuses"),
    (lambda v, s: sg.array(v, ndmin=-1.0), "ndmin must be an int"),
    (lambda v, s: sg.full_like(v, 1.0, shape=(None,)), "has None"),
    (lambda v, s: sg.ones_like(v, dtype="c8"), "is not supported"),
    (lambda v, s: sg.full_like(v, [1.0, 2.0]), "cannot broadcast|NumPy refuses"),
    # a Python int fill out of an integer dtype's range (NumPy: OverflowError; no wrapping)
    (lambda v, s: sg.full(2, 300, dtype="int8"), "sg.full: the fill value 300 does not fit "
     "int8 .-128 to 127."),
    (lambda v, s: sg.full(2, -1, dtype="uint8"), "the fill value -1 does not fit uint8"),
    (lambda v, s: sg.arange(0, 5, 0), "sg.arange: step=0 is zero"),
    (lambda v, s: sg.arange(1.0, 2.0, 0.0), "sg.arange: step=0.0 is zero"),
    (lambda v, s: sg.arange(), "sg.arange: give stop"),
    (lambda v, s: sg.linspace(s, v, 3, axis=np.ones((2, 2))), "sg.linspace: axis must be an "
     "int"),
    (lambda v, s: sg.linspace(0.0, 1.0, 3, axis=np.ones((2, 2))), "sg.linspace: axis must"),
    (lambda v, s: sg.logspace(s, 1.0, 3, axis=[0]), "sg.logspace: axis must be an int"),
    (lambda v, s: sg.geomspace(s, 1.0, 3, axis=None), "sg.geomspace: axis must be an int"),
    (lambda v, s: sg.meshgrid(v, v, indexing=np.ones((2, 2))),
     "(?s)sg.meshgrid: indexing=.* must be 'xy' or 'ij'"),
    (lambda v, s: sg.full((), 2**70, dtype=int), "the fill value .* does not fit int64"),
    (lambda v, s: sg.full_like(v, 300, dtype="int8"), "sg.full_like: the fill value 300 "
     "does not fit int8"),
])
def test_refusals_say_why_and_leave_the_graph_as_it_was(call, part):
    with sg.Graph() as g:
        v, s = sg.var("v", shape=(3,)), sg.var("s")
        v[0]  # noqa: B018 - the node the calls index with exists before
        before = len(g)
        with pytest.raises(sg.SymgraphError, match=part):
            call(v, s)
        assert len(g) == before


def test_full_casts_fills_as_numpy():
    # float fills into integer dtypes are truncated; int fills in range are kept exactly
    with sg.Graph():
        i8 = sg.var("i8", shape=(2,), dtype="int8")
        for got, want in [
                (sg.full(2, 2.7, dtype="int8"), np.full(2, 2.7, dtype="int8")),
                (sg.full(2, -2.7, dtype="uint16"), _numpy(lambda: np.full(2, -2.7, "uint16"))),
                (sg.full(2, 127, dtype="int8"), np.full(2, 127, dtype="int8")),
                (sg.full(2, -128, dtype="int8"), np.full(2, -128, dtype="int8")),
                (sg.full(2, 255, dtype="uint8"), np.full(2, 255, dtype="uint8")),
                (sg.full(2, np.int64(300), dtype="int8"), np.full(2, np.int64(300), "int8")),
                (sg.full_like(i8, 2.7), np.full_like(np.zeros(2, "int8"), 2.7)),
                (sg.full_like(i8, -128), np.full_like(np.zeros(2, "int8"), -128))]:
            assert_numpy_equal(sg.evaluate(got, {i8: [0, 0]}), want)


@pytest.mark.parametrize("shape", [(2,), (None,)])
def test_full_like_refuses_an_int_fill_out_of_the_nodes_dtype(shape):
    with sg.Graph() as g:
        i8 = sg.var("i8", shape=shape, dtype="int8")
        with pytest.raises(sg.SymgraphError, match="sg.full_like: the fill value 300 does "
                           "not fit int8"):
            sg.full_like(i8, 300)
        assert len(g) == 1


def test_arange_takes_stop_by_keyword_as_numpy_does():
    with sg.Graph():
        for kw in (dict(stop=5), dict(stop=2.5), dict(stop=7, step=3), dict(stop=4, dtype="int8"),
                   dict(start=1, stop=4)):
            assert_numpy_equal(sg.evaluate(sg.arange(**kw), {}), np.arange(**kw))

"""x.at[index].set/add/get, as JAX's: values against NumPy's in-place updates (-0.0 and NaN
outside the index kept), derivatives to second order by finite differences, every backend
equal to evaluate, vmap, and the refusals (a repeated index in set, values that lose their
kind or do not fit) leaving the graph as it was."""

import numpy as np
import pytest

import symgraph as sg

X = np.array([1.0, -0.0, np.nan, 4.0, np.inf])
M = np.arange(12.0).reshape(3, 4) - 5.0
V = np.array([10.0, -20.0])


def _numpy(array, update):
    out = array.copy()
    update(out)
    return out


def _setitem(array, index, value):
    return _numpy(array, lambda a: a.__setitem__(index, value))


def _add_at(array, index, value):
    return _numpy(array, lambda a: np.add.at(a, index, value))


CASES = [  # (the update of x (5,) or m (3, 4), NumPy's in-place version)
    ("slice set", lambda x, m, v: x.at[1:3].set(0.5), lambda: _setitem(X, slice(1, 3), 0.5)),
    ("int add", lambda x, m, v: x.at[-1].add(v[0]), lambda: _setitem(X, -1, X[-1] + V[0])),
    ("repeats add", lambda x, m, v: x.at[[0, 3, 0]].add(2.0),
     lambda: _add_at(X, [0, 3, 0], 2.0)),
    ("array set", lambda x, m, v: x.at[[3, 0]].set(v), lambda: _setitem(X, [3, 0], V)),
    ("row add", lambda x, m, v: m.at[1, 1:3].add(v),
     lambda: _setitem(M, (1, slice(1, 3)), M[1, 1:3] + V)),
    ("column set", lambda x, m, v: m.at[:, [0, -1]].set(v[1]),
     lambda: _setitem(M, (slice(None), [0, -1]), V[1])),
    ("pairs add", lambda x, m, v: m.at[[0, 2], [1, 3]].add(v),
     lambda: _add_at(M, ([0, 2], [1, 3]), V)),
    ("pairs set", lambda x, m, v: m.at[[0, 2], [1, -1]].set(v),
     lambda: _setitem(M, ([0, 2], [1, -1]), V)),
    ("get", lambda x, m, v: m.at[2, ::2].get(), lambda: M[2, ::2]),
]


def _inputs():
    return sg.var("x", shape=(5,)), sg.var("m", shape=(3, 4)), sg.var("v", shape=(2,))


@pytest.mark.parametrize("name,build,numpy", CASES, ids=[c[0] for c in CASES])
def test_values_equal_numpys_in_place_update(name, build, numpy):
    with sg.Graph():
        x, m, v = _inputs()
        got = sg.evaluate(build(x, m, v), {x: X, m: M, v: V})
    want = numpy()
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))  # -0.0 kept where not updated


def test_derivatives_to_second_order():
    with sg.Graph():
        m, v = sg.var("m", shape=(3, 4)), sg.var("v", shape=(2,))
        y = sg.sum(sg.sin(m.at[[0, 2], [1, 3]].set(v * v)) + m.at[1].add(m[0] * 2.0) ** 2
                   + m.at[[1, 1], 2].add(v[0] * v[1]) ** 3)
        at = {m: M * 0.1, v: V * 0.01}
        assert sg.check_grad(y, [m, v], at, order=2) < 1e-6
        # d/dv of the set entries: the cotangent there, nothing from the entries replaced
        g = sg.evaluate(sg.grad(sg.sum(m.at[[0, 2], [1, 3]].set(v) * 3.0), [m, v]), at)
        np.testing.assert_array_equal(g[1], [3.0, 3.0])
        assert g[0][0, 1] == g[0][2, 3] == 0.0 and g[0][0, 0] == 3.0


@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_backends_equal_evaluate(backend):
    with sg.Graph():
        x, m, v = _inputs()
        outs = [build(x, m, v) for _, build, _ in CASES]
        want = sg.evaluate(outs, {x: X, m: M, v: V})
        got = sg.compile(outs, [x, m, v], backend=backend)(X, M, V)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w)


def test_vmap_maps_the_updates_of_each_row():
    with sg.Graph():
        xs = sg.var("xs", shape=(5, 4))
        y = sg.vmap(lambda r: r.at[[1, 1]].add(r[0]).at[2:].set(r[1]), in_axes=0)(xs)
        rows = np.random.default_rng(0).normal(size=(5, 4))
        want = rows.copy()
        want[:, 1] += 2 * rows[:, 0]
        want[:, 2:] = rows[:, 1:2]
        np.testing.assert_allclose(sg.evaluate(y, {xs: rows}), want, rtol=1e-15)


@pytest.mark.parametrize("call,part", [
    (lambda x, i, j: x.at[[0, 0]].set(1.0), "names an element more than once"),
    (lambda x, i, j: x.at[[0, -5]].set(1.0), "names an element more than once"),
    (lambda x, i, j: x.at[j].set(1.0), "cannot be checked for repeats"),
    (lambda x, i, j: x.at[1:3].set(np.ones(3)), "does not broadcast to the indexed part"),
    (lambda x, i, j: i.at[0].set(1.5), "would lose their kind"),
    (lambda x, i, j: x.at[7].add(1.0), "out of bounds"),
])
def test_refused_updates_say_why_and_leave_the_graph(call, part):
    with sg.Graph() as graph:
        x = sg.var("x", shape=(5,))
        i, j = sg.var("i", shape=(3,), dtype="int64"), sg.var("j", dtype="int64")
        before = len(graph)
        with pytest.raises(sg.SymgraphError, match=part):
            call(x, i, j)
        assert len(graph) == before


def test_a_dimension_known_only_when_fed():
    with sg.Graph():
        x = sg.var("x", shape=(None, 3))
        y = x.at[:, [0, 2]].add(x[:, 1:2] * 2.0).at[0].set(-1.0)
        rows = np.arange(6.0).reshape(2, 3)
        want = rows.copy()
        want[:, [0, 2]] += 2.0 * rows[:, 1:2]
        want[0] = -1.0
        assert y.shape == (None, 3)
        np.testing.assert_array_equal(sg.evaluate(y, {x: rows}), want)
        assert sg.check_grad(sg.sum(sg.sin(y)), [x], {x: rows * 0.1}, order=2) < 1e-6


# --- the other updates JAX has: subtract multiply divide power min max apply -------------------
# (repeats applied one after another, as JAX on a CPU: x * y1 * y2, in the part's order; the
# data has -0.0, NaN and inf where nothing is written, and -0.0 where a slice writes)

D = np.array([[-0.0, 0.3, np.nan, 2.0, -1.5], [0.7, -2.2, 1.1, 4.0, 0.25],
              [np.inf, 1.3, -0.9, 0.6, 3.0], [-0.4, 0.9, 2.5, -3.1, 0.8]])
R = np.array([1.7, -0.6, 2.9])  # values for three updates (repeats multiply in order)

JAX_CASES = [  # (ours, JAX's)
    ("slice multiply", lambda d, r: d.at[1:3, ::2].multiply(-2.5),
     lambda d, r: d.at[1:3, ::2].multiply(-2.5)),
    ("int row multiply, -0.0 written", lambda d, r: d.at[0].multiply(r[0]),
     lambda d, r: d.at[0].multiply(r[0])),
    ("repeats multiply", lambda d, r: d.at[[1, 3, 1], 4].multiply(r),
     lambda d, r: d.at[np.array([1, 3, 1]), 4].multiply(r)),
    ("triple repeat, rows", lambda d, r: d.at[[1, 1, 1]].multiply(r[:, None]),
     lambda d, r: d.at[np.array([1, 1, 1])].multiply(r[:, None])),
    ("repeats divide", lambda d, r: d.at[:, [1, 1, 3]].divide(r),
     lambda d, r: d.at[:, np.array([1, 1, 3])].divide(r)),
    ("repeats power", lambda d, r: d.at[[3, 3], [1, 1]].power(r[:2] ** 2),
     lambda d, r: d.at[np.array([3, 3]), np.array([1, 1])].power(r[:2] ** 2)),
    ("min", lambda d, r: d.at[[1, 2, 1]].min(0.5), lambda d, r: d.at[np.array([1, 2, 1])].min(0.5)),
    ("max", lambda d, r: d.at[2, [4, 4, 0]].max(r), lambda d, r: d.at[2, np.array([4, 4, 0])].max(r)),
    ("apply, repeats twice", lambda d, r: d.at[[1, 3, 1], 1:3].apply(sg.sin),
     lambda d, r: d.at[np.array([1, 3, 1]), 1:3].apply(_jnp().sin)),
    ("subtract", lambda d, r: d.at[-1, ::2].subtract(r[:1]),
     lambda d, r: d.at[-1, ::2].subtract(r[:1])),
    ("repeats subtract", lambda d, r: d.at[[1, -3, 1]].subtract(r[:, None]),
     lambda d, r: d.at[np.array([1, -3, 1])].subtract(r[:, None])),
    ("unique pairs divide", lambda d, r: d.at[[0, 2], [1, 3]].divide(r[:2]),
     lambda d, r: d.at[np.array([0, 2]), np.array([1, 3])].divide(r[:2])),
]


def _jnp():
    import jax.numpy as jnp
    return jnp


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # to the bit: the same operations in order
    keep = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[keep]), np.signbit(want[keep]))


@pytest.mark.parametrize("name,ours,theirs", JAX_CASES, ids=[c[0] for c in JAX_CASES])
def test_updates_equal_jaxs(name, ours, theirs):
    jax = pytest.importorskip("jax")
    with sg.Graph():
        d, r = sg.var("d", shape=(4, 5)), sg.var("r", shape=(3,))
        got = sg.evaluate(ours(d, r), {d: D, r: R})
    with jax.enable_x64(True):
        want = theirs(_jnp().asarray(D), _jnp().asarray(R))
    _same(got, want)


def test_repeats_apply_in_the_order_of_the_index():
    # (x * 3) * 1.1 and (x * 1.1) * 3 round differently for some x: the order is the index's
    xs = np.random.default_rng(5).normal(size=64)
    with sg.Graph():
        x = sg.var("x", shape=(64,))
        y = x.at[np.repeat(np.arange(64), 2)].multiply(sg.const(np.tile([3.0, 1.1], 64)))
        got = sg.evaluate(y, {x: xs})
    np.testing.assert_array_equal(got, (xs * 3.0) * 1.1)
    assert not np.array_equal(got, xs * (3.0 * 1.1))  # (the data tells the orders apart)


@pytest.mark.parametrize("backend", ["python", "numba", "jax", "dask"])
def test_other_updates_on_backends_equal_evaluate(backend):
    with sg.Graph():
        d, r = sg.var("d", shape=(4, 5)), sg.var("r", shape=(3,))
        outs = [ours(d, r) for _, ours, _ in JAX_CASES]
        want = sg.evaluate(outs, {d: D, r: R})
        got = sg.compile(outs, [d, r], backend=backend)(D, R)
        if backend == "dask":
            import dask
            got = dask.compute(*got, scheduler="sync")
    for g, w in zip(got, want):
        _same(g, w)


def test_other_updates_derivatives_to_second_order():
    with sg.Graph():
        m, v = sg.var("m", shape=(3, 4)), sg.var("v", shape=(3,))
        y = sg.sum(m.at[[0, 2, 0], 1].multiply(v) ** 2 + sg.sin(m.at[1:, 2].divide(v[:2]))
                   + m.at[[1, 1], [3, 3]].power(v[:2] * 0.5)
                   + m.at[[0, 0]].apply(sg.tanh) * 1.5 + m.at[2].min(v[2]) * m.at[0].max(0.1)
                   - m.at[[2, 2], 0].subtract(v[:2]) ** 2)
        at = {m: np.abs(M) * 0.1 + 0.3, v: np.array([0.6, 1.3, 0.45])}
        assert sg.check_grad(y, [m, v], at, order=2) < 1e-6
        # d/dv of m.at[[0, 0]].multiply(v[:2]): m[0] * v[1] and m[0] * v[0]
        g = sg.evaluate(sg.grad(sg.sum(m.at[[0, 0]].multiply(v[:2, None])), v), at)
        row = at[m][0].sum()
        np.testing.assert_allclose(g, [row * at[v][1], row * at[v][0], 0.0], rtol=1e-13)


def test_an_int_array_divided_is_a_float_as_jnp_divide():
    with sg.Graph():
        k = sg.var("k", shape=(3,), dtype="int64")
        y = k.at[[1, 1]].divide(2)
        assert y.dtype == np.float64
        np.testing.assert_array_equal(sg.evaluate(y, {k: [3, 8, 5]}), [3.0, 2.0, 5.0])
        z = k.at[0].multiply(3).at[2].max(7)
        assert z.dtype == np.int64
        np.testing.assert_array_equal(sg.evaluate(z, {k: [3, 8, 5]}), [9, 8, 7])


@pytest.mark.parametrize("call,error,part", [
    (lambda x, i, z: x.at[0].mul(2.0), AttributeError, "has no update 'mul'; the updates are "
     "get, set, add, subtract, multiply, divide, power, min, max, apply; any other is "
     "x.at[i].set(f(x[i], y))"),
    (lambda x, i, z: x.at[0].multiply(2.0, mode="drop"), sg.SymgraphError,
     "the option mode='drop' is not supported"),
    (lambda x, i, z: x.at[i].multiply(2.0), sg.SymgraphError,
     "an index node cannot be checked for repeats"),
    (lambda x, i, z: z.at[[0, 0]].max(2.0), sg.SymgraphError,
     "repeats an element of 'z' (shape (None,)), whose shape is known only when fed"),
    (lambda x, i, z: x.at[1].apply(2.0), sg.SymgraphError, "2.0 is not a function"),
    (lambda x, i, z: x.at[1:3].multiply(np.ones(3)), sg.ShapeError,
     "does not broadcast to the indexed part"),
])
def test_other_updates_refused_say_why_and_leave_the_graph(call, error, part):
    with sg.Graph() as graph:
        x, i = sg.var("x", shape=(5,)), sg.var("i", dtype="int64")
        z = sg.var("z", shape=(None,))
        before = len(graph)
        with pytest.raises(error) as raised:
            call(x, i, z)
        assert isinstance(raised.value, sg.SymgraphError) and part in str(raised.value)
        assert len(graph) == before
        assert not hasattr(x.at[0], "mul") and hasattr(x.at[0], "multiply")


def test_other_updates_with_an_unknown_dimension_and_jax_options():
    with sg.Graph():
        x = sg.var("x", shape=(None, 3))
        y = x.at[:, [0, 2]].multiply(2.0, unique_indices=True).at[0].apply(sg.exp)
        rows = np.arange(6.0).reshape(2, 3)
        want = rows.copy()
        want[:, [0, 2]] *= 2.0
        want[0] = np.exp(want[0])
        np.testing.assert_array_equal(sg.evaluate(y, {x: rows}), want)

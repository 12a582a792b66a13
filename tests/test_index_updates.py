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

"""What JAX and PyTensor users try first (issue 18): compiled functions called by input
name and pickled, feeding by name after a notebook cell ran again, a user's op whose
forward breaks its shape rule, and which dtype conversions a feed may make."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import symgraph as sg

BACKENDS = ["python", "numpy"]


def _model():
    x, w = sg.var("x"), sg.var("w", shape=(3,))
    y = sg.sum(sg.sin(x) * w * w)
    return x, w, [y, sg.grad(y, x), sg.grad(y, w)]


def _want(x, w):
    w = np.asarray(w)
    return [np.sin(x) * (w * w).sum(), np.cos(x) * (w * w).sum(), 2 * np.sin(x) * w]


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_functions_take_arguments_by_name(backend):
    with sg.Graph():
        x, w, outs = _model()
        f = sg.compile(outs, [x, w], backend=backend)
        wv = [1.0, -2.0, 0.5]
        for got in (f(0.3, wv), f(x=0.3, w=wv), f(w=wv, x=0.3), f(0.3, w=wv)):
            for g, want in zip(got, _want(0.3, wv)):
                np.testing.assert_allclose(g, want, rtol=1e-14)
        for call, words in ((lambda: f(0.3, v=wv), "no input is named 'v'"),
                            (lambda: f(0.3, wv, x=0.3), "given twice"),
                            (lambda: f(x=0.3), "no value for 'w'")):
            with pytest.raises(sg.SymgraphError, match=words):
                call()
        with pytest.raises(sg.ShapeError):
            f(x=0.3, w=[1.0, 2.0])  # by name, the values are checked as by position


def test_inputs_sharing_a_name_are_given_by_position():
    with sg.Graph():
        a, b = sg.var("t"), sg.var("t")
        f = sg.compile(a - b, [a, b])
        assert float(f(3.0, 1.0)) == 2.0
        with pytest.raises(sg.SymgraphError, match="several inputs are named 't'"):
            f(t=1.0)
        # evaluate by the shared name reaches one of them; the other is named in the error
        with pytest.raises(sg.MissingFeedError, match="several inputs are named 't' and the "
                                                      "name reached another.*by its node"):
            sg.evaluate(a - b, {"t": 1.0})
        # check_grad keeps one entry per input, although both are named t
        r = sg.check_grad(sg.sin(a) * b, [a, b], {a: 0.3, b: 2.0})
        assert sorted(r.per_input) == ["t", f"t (node #{b.id})"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_functions_pickle_as_their_graph(backend):
    with sg.Graph():
        x, w, outs = _model()
        f = sg.compile(outs, [x, w], backend=backend, python_scalars=True)
    data = pickle.dumps(f)
    assert b"def _entry" not in data and b"symgraph" in data  # the graph's JSON, no code
    g = pickle.loads(data)
    assert isinstance(g, sg.CompiledFunction)
    assert [n.name for n in g.inputs] == ["x", "w"] and g.inputs[0].graph is not x.graph
    wv = [0.5, 1.5, -1.0]
    for got, want, before in zip(g(x=1.1, w=wv), _want(1.1, wv), f(1.1, wv)):
        np.testing.assert_allclose(got, want, rtol=1e-14)
        assert type(got) is type(before)  # python_scalars kept: a float, not a 0-d array
    assert pickle.loads(pickle.dumps(g))(1.1, wv)[0] == g(1.1, wv)[0]


def _computed(values):
    return [np.asarray(v.compute() if hasattr(v, "compute") else v) for v in values]


@pytest.mark.parametrize("backend,options", [
    ("numba", {}), ("auto", {}), ("jax", {}), ("dask", {"chunks": 2}),
    ("jax", {"shardings": "by node"}),
])
def test_every_backend_takes_names_and_pickles_as_its_graph(backend, options):
    """numba's, jax's and dask's functions too (keywords and pickling were python's and
    numpy's only); an input may even be named ``self``. A jax ``shardings`` keyed by a
    node comes back keyed by the loaded graph's node."""
    if backend in ("numba", "jax", "dask") and not sg.backends()[backend]:
        pytest.skip(f"{backend} is not installed")
    with sg.Graph():
        s, t = sg.var("self"), sg.var("t", shape=(4,))
        outs = [sg.sum(sg.sin(s) * t * t), sg.grad(sg.sum(sg.sin(s) * t * t), t)]
        if options.get("shardings") == "by node":
            from jax.sharding import PartitionSpec
            options = {"shardings": {t: PartitionSpec()}}
        f = sg.compile(outs, [s, t], backend=backend, **options)
        tv = np.array([1.0, -2.0, 0.5, 3.0])
        want = [np.sin(0.3) * (tv * tv).sum(), 2 * np.sin(0.3) * tv]
        for got in (f(0.3, tv), f(self=0.3, t=tv), f(0.3, t=tv)):
            for g, w in zip(_computed(got), want):
                np.testing.assert_allclose(g, w, rtol=1e-14)
        with pytest.raises(sg.SymgraphError, match="no value for 't'"):
            f(self=0.3)
    data = pickle.dumps(f)
    assert b"def " not in data and b"symgraph" in data  # the graph's JSON, no code
    g = pickle.loads(data)
    assert [n.name for n in g.inputs] == ["self", "t"] and g.inputs[0].graph is not s.graph
    for got, w in zip(_computed(g(self=0.3, t=tv)), want):
        np.testing.assert_allclose(got, w, rtol=1e-14)


def test_the_numba_tape_takes_names_and_pickles():
    if not sg.backends()["numba"]:
        pytest.skip("numba is not installed")
    with sg.Graph():
        s, t = sg.var("self"), sg.var("t")
        f = sg.compile([sg.sin(s) * t, sg.grad(sg.sin(s) * t, s)], [s, t], backend="numba")
    assert f.backend == "numba"  # the tape itself, not the python fallback
    want = [np.sin(0.3) * 2.0, np.cos(0.3) * 2.0]
    for got in (f(0.3, 2.0), f(t=2.0, self=0.3), pickle.loads(pickle.dumps(f))(0.3, t=2.0)):
        np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-15)
    with pytest.raises(sg.SymgraphError, match="no input is named 'u'"):
        f(0.3, u=2.0)


def test_a_jax_function_given_a_mesh_refuses_to_pickle_saying_why():
    if not sg.backends()["jax"]:
        pytest.skip("jax is not installed")
    import jax
    from jax.sharding import Mesh

    with sg.Graph():
        x = sg.var("x", shape=(4,))
        f = sg.compile(x * 2, [x], backend="jax", mesh=Mesh(np.array(jax.devices()[:1]), ("b",)))
    with pytest.raises(sg.SymgraphError, match="mesh=.*cannot be pickled.*sg.save"):
        pickle.dumps(f)


def test_feeding_by_name_after_a_cell_ran_again():
    with sg.Graph():
        x = old = sg.var("x")    # the cell, first run
        x = sg.var("x")          # the same cell, run again: the newest input wins
        y = x * 2 + 1
        assert float(sg.evaluate(y, {"x": 3.0})) == 7.0
        assert float(sg.compile(y, ["x"])(3.0)) == 7.0
        # an output built on the older input: the name is ambiguous (no silent choice)
        with pytest.raises(sg.SymgraphError, match="the outputs do not use the newest"):
            sg.evaluate(old * 2, {"x": 3.0})
        assert float(sg.evaluate(old * 2, {old: 3.0})) == 6.0


# two inputs, no shape rule: symgraph assumes broadcasting, np.outer does not
OUTER = sg.define_op("outer_without_shape_rule", lambda a, b: np.outer(a, b))
DOUBLE = sg.define_op("double_keeps_its_shape", lambda v: 2 * v)


@pytest.mark.parametrize("run", ["evaluate", "python", "numpy"])
def test_a_user_op_returning_another_shape_raises_naming_it(run):
    with sg.Graph():
        a, b = sg.var("a", shape=(3,)), sg.var("b", shape=(3,))
        y = OUTER(a, b)
        assert y.shape == (3,)
        with pytest.raises(sg.ShapeError, match=r"'outer_without_shape_rule'.*returned shape "
                           r"\(3, 3\), but its shape rule declares \(3,\)"):
            if run == "evaluate":
                sg.evaluate(y, {a: [1.0, 2.0, 3.0], b: [1.0, 2.0, 3.0]})
            else:
                sg.compile(y, [a, b], backend=run)([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        # a user's op that keeps its declared shape runs as before
        f = (lambda v: sg.evaluate(DOUBLE(a), {a: v})) if run == "evaluate" else \
            sg.compile(DOUBLE(a), [a], backend=run)
        np.testing.assert_array_equal(f([1.0, 2.0, 3.0]), [2.0, 4.0, 6.0])


def test_float64_into_float32_rounds_and_kind_changes_raise():
    with sg.Graph():
        x = sg.var("x", shape=(2,), dtype="float32")
        i = sg.var("i", shape=(2,), dtype="int32")
        y = x * 1
        got = sg.evaluate(y, {x: np.array([0.1, 1e30])})
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.array([0.1, 1e30], dtype=np.float32))
        with pytest.raises(sg.SymgraphError, match="does not fit float32"):
            sg.evaluate(y, {x: np.array([0.1, 1e300])})  # would become inf
        with pytest.raises(sg.SymgraphError, match="without losing its kind"):
            sg.evaluate(i + 1, {i: np.array([1.5, 2.0])})  # float -> int: refused
        with pytest.raises(sg.SymgraphError, match="without losing its kind"):
            sg.compile(i + 1, [i])(np.array([1.0, 2.0]))
        assert sg.evaluate(i + 1, {i: np.array([1, 2], dtype=np.int64)}).dtype == np.int32

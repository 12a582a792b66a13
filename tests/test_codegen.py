"""sg.compile: generated code equals the evaluator, on random graphs, edge values, big
graphs and many threads; caching, inspectable source, argument errors, safety of names."""

from __future__ import annotations

import math
import pickle
import random
import threading

import numpy as np
import pytest

import symgraph as sg
from chains import nested
from symgraph.backends import base, python as codegen
from symgraph.backends.python_forms import add_at, scatter_into
from threads import run_while_building


def _same(got, expected):
    """compile's results against evaluate's: dtype, shape and value (NaN equal to NaN)."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert isinstance(g, np.ndarray)
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14, equal_nan=True)


# --- random graphs ------------------------------------------------------------------------------

_UNARY = [sg.sin, sg.cos, sg.tanh, sg.sigmoid, sg.softplus, sg.exp, sg.square, sg.abs,
          sg.relu, lambda a: sg.log(1.5 + sg.square(a)), lambda a: sg.sqrt(1 + a * a)]
_BINARY = [sg.add, sg.subtract, sg.multiply, sg.maximum, sg.minimum,
           lambda a, b: a / (2 + sg.square(b)), lambda a, b: sg.where(a > b, a, b * 0.5)]


def _random_graph(rng: random.Random, inputs: list, size: int):
    pool = list(inputs)
    for _ in range(size):
        if rng.random() < 0.5:
            pool.append(rng.choice(_UNARY)(rng.choice(pool[-6:])))
        else:
            pool.append(rng.choice(_BINARY)(rng.choice(pool[-6:]), rng.choice(pool)))
    return sg.sum(pool[-1]) + sg.sum(pool[-2])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_random_graphs_and_their_gradients_equal_evaluate(seed, shape):
    rng = random.Random(seed)
    with sg.Graph():
        xs = [sg.var(f"x{k}", shape=shape) for k in range(3)]
        y = _random_graph(rng, xs, 40)
        outputs = [y, *sg.grad(y, xs)]
        f = sg.compile(outputs, xs)
        values = [np.random.default_rng(seed).uniform(-2, 2, shape) for _ in xs]
        _same(f(*values), sg.evaluate(outputs, dict(zip(xs, values))))
    if shape == ():  # all scalar: plain floats and math, no NumPy call
        assert "_sin(" in f.source or "_tanh(" in f.source or "_exp(" in f.source
        assert "_np_" not in f.source and "_errstate" not in f.source


def test_mixed_scalars_and_tensors_and_float32(rng):
    with sg.Graph():
        a = sg.var("a")
        v = sg.var("v", shape=(4,), dtype="float32")
        n = sg.var("n", shape=(), dtype="int64")
        y = sg.sum(sg.tanh(v * a) * 2.0) + sg.sin(a) * a + sg.cast(n, "float64")
        h = sg.tanh(v) * 3.0  # stays float32 although a Python float joins it
        outputs = [y, h, *sg.grad(y, [a, v])]
        f = sg.compile(outputs, [a, v, n])
        vals = [0.7, rng.standard_normal(4).astype(np.float32), 3]
        got = f(*vals)
        _same(got, sg.evaluate(outputs, dict(zip([a, v, n], vals))))
    assert got[1].dtype == np.float32 and got[3].dtype == np.float32


# --- the scalar fast path at the edges ----------------------------------------------------------


@pytest.mark.parametrize("build,value", [
    (lambda x: sg.log(x), -1.0),  # math.log raises, NumPy gives nan
    (lambda x: sg.log(x), 0.0),  # -inf
    (lambda x: 1.0 / x, 0.0),  # ZeroDivisionError vs inf
    (lambda x: x / x, 0.0),  # nan
    (lambda x: -1.0 / x, -0.0),  # inf with the sign of zero
    (lambda x: sg.exp(x), 1000.0),  # OverflowError vs inf
    (lambda x: sg.sqrt(x), -1.0),
    (lambda x: x ** (1.0 / 3.0), -8.0),  # math.pow raises, NumPy nan
    (lambda x: x ** -1.0, 0.0),
    (lambda x: sg.sin(x), math.inf),
    (lambda x: sg.tan(x), -math.inf),
    (lambda x: sg.log1p(x), -2.0),
    (lambda x: sg.expm1(x), 1e3),
    (lambda x: sg.maximum(x, 1.0) + sg.minimum(2.0, x), math.nan),
    (lambda x: sg.relu(x) + sg.sign(x) + sg.abs(x), math.nan),
    (lambda x: sg.sigmoid(x) + sg.softplus(x), math.nan),
    (lambda x: sg.sigmoid(x) * sg.softplus(x), math.inf),
    (lambda x: sg.sigmoid(x) + sg.softplus(x), -math.inf),
    (lambda x: sg.softplus(x), 0.0),
    (lambda x: sg.where(x > 0, x, x * 0.5), math.nan),
])
def test_scalar_edge_values_equal_evaluate(build, value):
    with sg.Graph():
        x = sg.var("x")
        y = build(x)
        outputs = [y, sg.grad(y, x)]
        f = sg.compile(outputs, [x])
        expected = sg.evaluate(outputs, {x: value})
        got = f(value)
    _same(got, expected)
    assert "_np_" not in f.source  # this was the Python-float code, with its rerun
    floats = sg.compile(outputs, [x], python_scalars=True)(value)
    assert all(type(v) is float for v in floats)
    np.testing.assert_array_equal(floats, [float(e) for e in expected])


def test_cs231n_neuron_with_five_scalar_inputs():
    with sg.Graph():
        w0, w1, w2, x0, x1 = ins = [sg.var(n) for n in ("w0", "w1", "w2", "x0", "x1")]
        f = sg.sigmoid(w0 * x0 + w1 * x1 + w2)
        fn = sg.compile([f, *sg.grad(f, ins)], ins, python_scalars=True)
        got = fn(2.0, -3.0, -3.0, -1.0, -2.0)
    expected = [0.7310585786300049, -0.19661193324148185, -0.3932238664829637,
                0.19661193324148185, 0.3932238664829637, -0.5898357997244456]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert "_np_" not in fn.source and "_exp(" in fn.source


def test_fast_path_results_are_exact_where_numpy_is_ieee():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        z = (x * y - x / y) * (x + y)
        f = sg.compile(z, [x, y], python_scalars=True)
        assert f(3.0, 7.0) == (3.0 * 7.0 - 3.0 / 7.0) * (3.0 + 7.0)
        assert type(f(3.0, 7.0)) is float
        g = sg.compile(z, [x, y])
        assert isinstance(g(3.0, 7.0), np.ndarray) and g(3.0, 7.0).shape == ()


# --- caching and source -------------------------------------------------------------------------


def _neuron(scale: float):
    w = sg.var("w", shape=(3,))
    x = sg.var("x", shape=(2,))
    f = sg.sigmoid(scale * (w[0] * x[0] + w[1] * x[1] + w[2]))
    return [f, *sg.grad(f, [w, x])], [w, x]


def test_same_structure_shares_the_code_object_and_same_call_the_function():
    values = [np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])]
    with sg.Graph():
        outs1, ins1 = _neuron(1.5)
        f1 = sg.compile(outs1, ins1)
        assert sg.compile(outs1, ins1) is f1
        assert sg.compile(outs1, ["w", "x"]) is not None
        r1 = f1(*values)
    with sg.Graph():
        outs2, ins2 = _neuron(0.25)  # same structure, another constant
        f2 = sg.compile(outs2, ins2)
        r2 = f2(*values)
        _same(r2, sg.evaluate(outs2, dict(zip(ins2, values))))
    assert f2 is not f1 and f2.__code__ is f1.__code__ and f2.source == f1.source
    assert not np.allclose(r1[0], r2[0])  # each function sees its own constant


def test_source_is_inspectable_and_reuses_buffers(rng):
    with sg.Graph():
        x = sg.var("x", shape=(50,))
        h = sg.tanh(x * 2.0)
        y = sg.exp(h) * h + h
        f = sg.compile([sg.sum(y), sg.grad(sg.sum(y), x)], [x])
        xv = rng.standard_normal(50)
        _same(f(xv), sg.evaluate([sg.sum(y), sg.grad(sg.sum(y), x)], {x: xv}))
    src = f.source
    assert src.startswith("def _entry(x0=_M, /, *_e, **_k):")
    assert "_np_tanh(" in src and "out=" in src and "del v" in src
    assert f.inputs == (x,) and len(f.outputs) == 2
    compile(src, "<check>", "exec")  # the text is the code that runs


def test_buffers_seen_through_a_view_are_not_overwritten(rng):
    with sg.Graph():
        x = sg.var("x", shape=(2, 3))
        a = sg.exp(x) * 2.0
        view = sg.reshape(a, (3, 2)).T  # a view of a's array
        b = sg.sin(a) + 1.0  # a dies here: only its view lives on
        c = b * b
        y = view * 3.0 + c
        outputs = [y, a[0], view]
        f = sg.compile(outputs, [x])
        xv = rng.standard_normal((2, 3))
        _same(f(xv), sg.evaluate(outputs, {x: xv}))


def test_large_graphs_are_split_into_chunks(monkeypatch, rng):
    monkeypatch.setattr(codegen, "_CHUNK", 7)
    with sg.Graph():
        x = sg.var("x", shape=(4,))
        s = sg.var("s")
        z, acc = x, s
        for k in range(12):
            z = sg.tanh(z * s + k)
            acc = sg.sin(acc) + sg.sum(z) * 0.1
        y = acc + sg.sum(z * x)
        outputs = [y, z, x, *sg.grad(y, [x, s])]
        f = sg.compile(outputs, [x, s])
        xv = rng.standard_normal(4)
        _same(f(xv, 0.3), sg.evaluate(outputs, {x: xv, s: 0.3}))
        _same(f(xv, math.inf), sg.evaluate(outputs, {x: xv, s: math.inf}))
    assert "def _chunk3(R):" in f.source and "R[" in f.source


def test_hundred_thousand_node_chain_compiles():
    with sg.Graph():
        w = sg.var("w")
        z = nested(sg.sin, w, 100_000)
        f = sg.compile(z, [w])
        assert float(f(0.5)) == pytest.approx(float(sg.evaluate(z, {w: 0.5})), rel=1e-12)
    # one function: CPython compiles and runs it faster than chunks passing values in a list
    assert "def _chunk" not in f.source and f.source.count("_sin(") == 100_000


# --- inputs, errors, fallbacks -------------------------------------------------------------------


def test_argument_errors_name_the_input(rng):
    with sg.Graph():
        W = sg.var("W", shape=(3, 4))
        s = sg.var("s")
        y = sg.sum(W) * s
        f = sg.compile(y, [W, s])
        with pytest.raises(sg.SymgraphError, match="takes 2 arrays"):
            f(np.ones((3, 4)))
        with pytest.raises(sg.SymgraphError, match="takes 2 arrays"):
            f(np.ones((3, 4)), 1.0, 2.0)
        with pytest.raises(sg.ShapeError, match="'W'"):
            f(np.ones((4, 3)), 1.0)
        with pytest.raises(sg.ShapeError, match="'s'"):
            f(np.ones((3, 4)), [1.0, 2.0])
        with pytest.raises(sg.SymgraphError, match="'s'.*not numbers"):
            f(np.ones((3, 4)), "one")
        assert float(f(np.ones((3, 4)), 2)) == 24.0  # ints convert as in evaluate
        assert float(f(np.ones((3, 4), dtype=int), True)) == 12.0
        with pytest.raises(sg.MissingFeedError, match="'s'"):
            sg.compile(y, [W])
        with pytest.raises(sg.SymgraphError, match="listed twice"):
            sg.compile(y, [W, s, W])
        with pytest.raises(sg.MissingFeedError, match="no node named 'nope'"):
            sg.compile(y, [W, "nope"])
        with pytest.raises(sg.SymgraphError, match="not a symgraph node"):
            sg.compile([y, 3.0], [W, s])


def test_runtime_shape_error_names_the_node():
    with sg.Graph():
        a = sg.var("a", shape=(None,))
        b = sg.var("b", shape=(None,))
        y = sg.tanh(a) + b
        f = sg.compile(y, [a, b])
        np.testing.assert_allclose(f(np.zeros(3), np.ones(3)), np.ones(3))
        with pytest.raises(sg.SymgraphError, match="op 'add'"):
            f(np.zeros(3), np.ones(4))


def test_inputs_may_be_intermediate_nodes_and_outputs_constants():
    with sg.Graph():
        x = sg.var("x")
        h = sg.sin(x) * 2.0
        y = h * h + 1.0
        f = sg.compile([y, h, sg.const(7.0)], [h])
        got = f(3.0)
        assert [float(v) for v in got] == [10.0, 3.0, 7.0]
        g = sg.compile(sg.const(np.arange(3.0)) * 2.0, [])
        np.testing.assert_array_equal(g(), [0.0, 2.0, 4.0])


def test_user_ops_are_called_through_their_impl():
    calls = []

    def forward(x):
        calls.append(1)
        return x ** 3

    cube = sg.define_op("codegen_test_cube", forward,
                        vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])])
    with sg.Graph():
        x = sg.var("x")
        v = sg.var("v", shape=(2,))
        outputs = [cube(x), sg.grad(cube(x) * 2.0, x), sg.sum(cube(v))]
        f = sg.compile(outputs, [x, v])
        got = f(2.0, np.array([1.0, 2.0]))
    assert [float(g) for g in got] == [8.0, 24.0, 9.0]
    assert "_op" in f.source and "codegen_test_cube" not in f.source and calls


def test_trust_input_and_use_math_options():
    with sg.Graph():
        x = sg.var("x")
        y = sg.sin(x) * sg.exp(x)
        fast = sg.compile(y, [x], trust_input=True, python_scalars=True)
        exact = sg.compile(y, [x], use_math=False)
        assert "_in0" not in fast.source and "_np_sin" in exact.source
        assert fast(0.5) == pytest.approx(math.sin(0.5) * math.exp(0.5), rel=1e-15)
        assert float(exact(0.5)) == float(sg.evaluate(y, {x: 0.5}))


def test_trust_input_takes_arguments_by_position_only_and_still_pickles():
    with sg.Graph():
        x, w = sg.var("x"), sg.var("w")
        y = sg.log(x) * w
        fast = sg.compile(y, [x, w], trust_input=True, python_scalars=True)
        assert fast(2.0, 3.0) == pytest.approx(3.0 * math.log(2.0), rel=1e-15)
        assert math.isnan(fast(-1.0, 3.0))  # math raised; the interpreter's NaN, as evaluate
        with pytest.raises(TypeError):
            fast(2.0)
        with pytest.raises(TypeError):
            fast(x=2.0, w=3.0)
        again = pickle.loads(pickle.dumps(fast))
        assert again(2.0, 3.0) == fast(2.0, 3.0)
        assert sg.compile(y, [x, w])(w=3.0, x=2.0) == pytest.approx(3.0 * math.log(2.0))


# --- safety ---------------------------------------------------------------------------------------


def test_names_and_constant_values_never_become_source():
    evil = "__import__('os').system('x')"
    with sg.Graph():
        x = sg.var(evil)
        c = sg.const(np.array([123.456, 7.5]), name=evil + "2")
        y = sg.sum(sg.sin(x) * c) + 98765.4321 * x
        with sg.name_scope("__import__"):
            z = y * y
        f = sg.compile([z, sg.grad(z, x)], [evil])
        got = f(0.3)
        _same(got, sg.evaluate([z, sg.grad(z, x)], {x: 0.3}))
    for text in (evil, "__import__", "'os'", "123.456", "98765", "system("):
        assert text not in f.source


# --- threads ----------------------------------------------------------------------------------------


def test_threads_compile_and_call_while_another_builds(rng):
    with sg.Graph() as graph:
        x = sg.var("x", shape=(6,))
        s = sg.var("s")
        y = sg.sum(sg.tanh(x * s)) + sg.sin(s)
        outputs = [y, *sg.grad(y, [x, s])]
    xv = rng.standard_normal(6)
    expected = sg.evaluate(outputs, {x: xv, s: 0.4})

    def caller() -> None:
        for k in range(40):
            f = sg.compile(outputs, [x, s], python_scalars=k % 2 == 0)
            _same([np.asarray(v) for v in f(xv, 0.4)], expected)

    def builder(stop: threading.Event) -> None:
        with graph:
            z = x
            while not stop.is_set():
                z = sg.sin(z * 1.01)
                sg.compile(sg.grad(sg.sum(z), x), [x])

    assert run_while_building(caller, 3, builder) == []


# --- speed work: calls, buffers, big graphs -------------------------------------------------------


def test_entry_takes_one_parameter_per_input_and_checks_arity():
    with sg.Graph():
        a, b = sg.var("a"), sg.var("b")
        f = sg.compile(a * b + sg.sigmoid(a), [a, b], python_scalars=True)
        g = sg.compile(sg.const(2.0) * 3.0, [])
        trusted = sg.compile(a * b + sg.sigmoid(a), [a, b], trust_input=True)
    assert f.source.startswith("def _entry(x0=_M, x1=_M, /, *_e, **_k):")
    assert trusted.source.startswith("def _entry(x0, x1, /):")
    assert f(2.0, 3.0) == pytest.approx(6.0 + 1.0 / (1.0 + math.exp(-2.0)), rel=1e-15)
    for args in [(), (1.0,), (1.0, 2.0, 3.0)]:
        with pytest.raises(sg.SymgraphError, match=f"takes 2 arrays .*got {len(args)}"):
            f(*args)
    assert float(g()) == 6.0
    with pytest.raises(sg.SymgraphError, match="takes 0 arrays"):
        g(1.0)


@pytest.mark.parametrize("value", [-800.0, -710.0, -30.0, -1e-300, 0.0, 30.0, 800.0])
def test_sigmoid_like_hand_code_matches_evaluate_at_both_tails(value):
    # exp(-x) overflows below -709: the rerun then gives NumPy's value
    with sg.Graph():
        x = sg.var("x")
        y = sg.sigmoid(x)
        outputs = [y, sg.grad(y, x)]
        f = sg.compile(outputs, [x], python_scalars=True)
        expected = [float(e) for e in sg.evaluate(outputs, {x: value})]
    assert "_exp(-" in f.source and "_np_" not in f.source
    np.testing.assert_allclose(f(value), expected, rtol=4e-16, atol=0)


def test_chunk_values_share_list_slots_once_dead(monkeypatch):
    monkeypatch.setattr(codegen, "_CHUNK", 5)
    with sg.Graph():
        x = sg.var("x")
        z = x
        for k in range(60):  # a chain: one value crosses from each chunk to the next
            z = sg.sin(z) * 0.9 + k * 1e-3
        f = sg.compile(z, [x], python_scalars=True)
        assert f(0.7) == pytest.approx(float(sg.evaluate(z, {x: 0.7})), rel=1e-14)
    size = int(f.source.split("R = [None] * ")[1].split("\n")[0])
    writes = [line for line in f.source.splitlines() if line.strip().startswith("R[")]
    assert f.source.count("def _chunk") > 20 and len(writes) > 20 and size <= 2


def test_scatter_into_dying_gradient_is_an_in_place_add(rng):
    with sg.Graph():
        x, v = sg.var("x", shape=(9,)), sg.var("v", shape=(9,))
        a, b = x[1:], x[:-1]
        f = (100 * sg.square(a - sg.square(b)) + sg.square(1 - b)).sum()
        outputs = [sg.hvp(f, x, v), sg.grad(f, x)]
        fn = sg.compile(outputs, [x, v])
        xv, vv = rng.standard_normal(9), rng.standard_normal(9)
        keep = xv.copy(), vv.copy()
        got = fn(xv, vv)
        _same(got, sg.evaluate(outputs, {x: xv, v: vv}))
        _same(fn(xv, vv), got)  # buffers are per call
    # analytic HVP of Rosenbrock (tridiagonal Hessian)
    xl, xr, vl, vr = xv[:-1], xv[1:], vv[:-1], vv[1:]
    hv = np.zeros(9)
    hv[:-1] = (1200 * xl * xl - 400 * xr + 2) * vl - 400 * xl * vr
    hv[1:] += 200 * vr - 400 * xl * vl
    np.testing.assert_allclose(got[0], hv, rtol=1e-12, atol=1e-12)
    assert all((k == w).all() for k, w in zip(keep, (xv, vv)))  # inputs untouched
    def called(impl):
        return [k for k, p in fn.__globals__.items() if getattr(p, "func", None) is impl
                and f"{k}(" in fn.source]

    # per output: one scatter makes the buffer (zeros only outside its slice), the other
    # one is added into it in place
    assert len(called(add_at)) == 2
    assert len(called(scatter_into)) == 2


def test_scatter_add_keeps_a_buffer_that_is_an_output_or_viewed(rng):
    with sg.Graph():
        x = sg.var("x", shape=(5,))
        g = sg.exp(x) * 2.0
        y = (x[1:] * 3.0).sum() + (g * x).sum()
        d = sg.grad(y, x)
        outputs = [d, g, sg.reshape(g, (5, 1))]  # g is an output and is viewed
        fn = sg.compile(outputs, [x])
        xv = rng.standard_normal(5)
        _same(fn(xv), sg.evaluate(outputs, {x: xv}))


def test_constant_factors_are_multiplied_once(rng):
    with sg.Graph():
        w = sg.var("w", shape=(300, 300))
        y = 1e-4 * sg.square(w).sum() + sg.sin(w).sum()
        d = sg.grad(y, w)
        # square's derivative is written (2*g)*w: the 2 folds into the constant cotangent
        # 1e-4, one multiply (as a hand-written 2*lam*W), with no assume_finite needed
        fn = sg.compile([y, d], [w], assume_finite=True)
        exact = sg.compile([y, d], [w])
        wv = rng.standard_normal((300, 300))
        keep = wv.copy()
        got = fn(wv)
        np.testing.assert_allclose(got[1], 2e-4 * wv + np.cos(wv), rtol=1e-13, atol=1e-15)
        _same(got, sg.evaluate([y, d], {w: wv}))
        _same(exact(wv), sg.evaluate([y, d], {w: wv}))
        # and 2e-4 * w stays finite at w = 1e308, where 1e-4 * (2 * w) overflowed
        wv[0, 0] = 1e308
        for dw in (sg.evaluate(d, {w: wv}), exact(wv)[1], fn(wv)[1]):
            assert dw[0, 0] == pytest.approx(2e304 + np.cos(1e308))
        # factors the user wrote apart are merged only when assume_finite promises no
        # overflow: 1e-4 * (3 * w) is inf at w = 1e308, 3e-4 * w is not
        z = 1e-4 * (3.0 * w)
        merged, kept = sg.compile(z, [w], assume_finite=True), sg.compile(z, [w])
        assert np.isinf(sg.evaluate(z, {w: wv})[0, 0]) and np.isinf(kept(wv)[0, 0])
        assert merged(wv)[0, 0] == pytest.approx(3e304)
    for f, products in ((fn, 1), (exact, 1), (merged, 1), (kept, 2)):
        assert f.source.count("_np_multiply(") == products and "_np_broadcast_to" not in f.source
    assert fn.__globals__[fn.source.split("_np_multiply(")[1].split(",")[0]] == \
        pytest.approx(2e-4, rel=1e-15)
    wv[0, 0] = keep[0, 0]
    assert (keep == wv).all()


def test_compile_leaves_the_garbage_collector_as_it_found_it():
    import gc
    with sg.Graph():
        x = sg.var("x")
        assert gc.isenabled()
        sg.compile(sg.sin(x), [x])
        assert gc.isenabled()
        gc.disable()
        try:
            sg.compile(sg.cos(x), [x])
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_graphs_up_to_the_threshold_are_simplified_bigger_ones_not(monkeypatch):
    with sg.Graph():
        x = sg.var("x")
        y = sg.log(1 + x) * 1.0 + 0.0 * sg.sin(x)
        small = sg.compile(y, [x], assume_finite=True)  # (0*sin(x) is NaN at inf)
        monkeypatch.setattr(base, "SIMPLIFY_MAX_NODES", 3)
        big = sg.compile(y, [x], python_scalars=True, assume_finite=True)
    assert "_log1p(" in small.source and "_sin(" not in small.source
    assert "_sin(" in big.source
    assert float(small(1e-10)) == pytest.approx(1e-10, rel=1e-9) == big(1e-10)

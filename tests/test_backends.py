"""The plan every backend runs, the backend registry behind sg.compile, the numpy backend,
compile's lowering rules (scatter_add) and the one constant-folding rule (issue 13)."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import symgraph as sg
from symgraph.backends import BACKENDS, backends
from symgraph.backends.base import LOWERING
from symgraph.backends.numpy import NumpyBackend
from symgraph.backends.python_forms import add_at
from symgraph.ops.arithmetic import ADD, SUBTRACT
from symgraph.ops.core import CONST, FOLD_LIMIT, Op, fold, inexact, same_shape
from symgraph.ops.functions import SIN
from symgraph.ops.shape import SCATTER_ADD, scatter_add
from symgraph.feeds import as_outputs
from symgraph.plan import Needed, Plan, plan_for, walk

ROOT = pathlib.Path(sg.__file__).parent


def _ops_of(nodes):
    return {n.opdef for n in sg.ancestors(list(nodes))}


# --- the plan ------------------------------------------------------------------------------------


def test_plan_schedule_presets_and_liveness(graph):
    x, y = sg.var("x"), sg.var("y")
    a = sg.sin(x)  # read by b and c
    b = a * y
    c = a + b
    out = c * 2.0
    p = Plan([out, b], frozenset({x.id, y.id}))
    order = [n.id for n in p.nodes]
    assert order == sorted(order) and [p.nodes[s] for s in p.outputs] == [out, b]
    step = {p.nodes[s]: t for t, s in enumerate(p.steps)}
    assert list(step) == [a, b, c, out]  # id order, fed and constant nodes not steps
    assert [(p.nodes[s].opdef, v.item()) for s, v in p.preset] == [(CONST, 2.0)]
    slot = p.slot
    assert p.readers[slot[a.id]] == [step[b], step[c]]  # read twice: dies after c
    assert p.readers[slot[b.id]] == [step[c]]
    frees = {t: {p.nodes[s] for s in f} for t, f in enumerate(p.frees)}
    assert a in frees[step[c]] and x in frees[step[a]] and y in frees[step[b]]
    assert all(b not in f and out not in f for f in frees.values())  # outputs live on
    assert p.args[slot[c.id]] == [slot[a.id], slot[b.id]] and p.args[slot[x.id]] == []


def test_plan_stops_at_fed_nodes_and_names_every_missing_input(graph):
    x, y, z = sg.var("x"), sg.var("y"), sg.var("z")
    h = sg.exp(x) * y
    out = h + z
    p = Plan([out], frozenset({h.id, z.id}))
    assert x not in p.nodes and y not in p.nodes and len(p.steps) == 1
    with pytest.raises(sg.MissingFeedError, match="'x'.*'z'|'z'.*'x'") as info:
        Plan([out], frozenset({y.id}))
    assert {n.name for n in info.value.missing} == {"x", "z"}


def test_plan_folds_constant_steps_once_for_compiled_code(graph):
    x = sg.var("x", shape=(3,))
    small = sg.const(np.arange(3.0)) * 2.0  # folded
    big = sg.const(np.arange(FOLD_LIMIT + 1.0)) + 1.0  # too large: computed by each call
    fill = sg.exp(sg.const(np.broadcast_to(0.0, (1 << 20, 1 << 20))))  # a fill: compact
    calls = []
    twice = sg.define_op("plan_test_twice", lambda v: calls.append(1) or v * 2,
                         vjp=[lambda g, out: 2 * g])
    user = twice(sg.const(np.ones(3)))  # a user's op may be impure: never folded
    outs = [x * small, sg.sum(big), fill, x + user]
    folded = Plan(outs, frozenset({x.id}), fold=True)
    plain = Plan(outs, frozenset({x.id}))
    preset = {folded.nodes[s]: v for s, v in folded.preset}
    np.testing.assert_array_equal(preset[small], [0.0, 2.0, 4.0])
    assert not preset[small].flags.writeable  # shared by every call
    assert big not in preset and user not in preset and not calls
    assert preset[fill].strides == (0, 0) and preset[fill][5, 7] == 1.0
    assert len(folded.steps) == len(plain.steps) - 2
    assert {plain.nodes[s] for s in plain.steps} >= {small, fill, big, user}


def assert_same_plan(one: Plan, other: Plan, more: tuple[str, ...] = ()) -> None:
    """Every field of two plans equal: the lists, the presets' values and the arrays (with
    their dtypes); ``more`` names further fields (a list, else an array) to compare."""
    assert one.nodes == other.nodes
    for name in ("steps", "outputs", "args", "readers", "frees", "slot"):
        assert getattr(one, name) == getattr(other, name), name
    assert [(s, float(v)) for s, v in one.preset] == [(s, float(v)) for s, v in other.preset]
    arrays = ("step_array", "step_args", "step_start", "read_count", "reader_start",
              "reader_steps", "last_read")
    for name in arrays + more:
        a, b = getattr(one, name), getattr(other, name)
        if isinstance(a, list):
            assert a == b, name
            continue
        np.testing.assert_array_equal(a, b, name)
        assert a.dtype == b.dtype, name


@pytest.mark.parametrize("seed", range(6))
def test_small_plans_worked_out_in_python_equal_the_array_plan(graph, monkeypatch, seed):
    # A random DAG with constants (some folded), a value read twice by one step, fed
    # intermediate nodes and several outputs: every field of the two plans must agree.
    rng = np.random.default_rng(seed)
    xs = [sg.var(f"x{i}") for i in range(3)]
    pool = [*xs, sg.const(2.0), sg.const(0.5) * 3.0]
    for _ in range(40):
        a, b = (pool[int(i)] for i in rng.integers(0, len(pool), 2))
        pool.append([a * b, a + a, sg.sin(a) - b, a / (b * b + 1.0)][int(rng.integers(4))])
    outs = [pool[-1], pool[-7], pool[20]]
    fed = frozenset({xs[0].id, xs[1].id, xs[2].id, pool[12].id})
    for fold in (False, True):
        small = Plan(outs, fed, fold=fold)
        monkeypatch.setattr("symgraph.plan.SMALL_PLAN", 0)
        big = Plan(outs, fed, fold=fold)
        monkeypatch.undo()
        assert len(small.steps) > 5
        assert_same_plan(small, big, ("ids",))


def test_a_plan_on_what_the_walk_read_equals_one_reading_the_nodes(graph):
    # Past 4096 nodes, the walk to the needed nodes keeps the inputs it read and the nodes'
    # ops (a Needed list), and the plan is built on those instead of reading every node
    # again: each field must equal that of a plan of the bare list. Constants fold, steps
    # read a value twice, intermediate nodes are fed (the walk read none of their inputs).
    rng = np.random.default_rng(5)
    xs = [sg.var(f"x{i}") for i in range(3)]
    pool = [*xs, sg.const(2.0), sg.const(0.5) * 3.0]
    for _ in range(5000):  # (one operand recent: most nodes are needed)
        a, b = pool[-1 - int(rng.integers(0, 4))], pool[int(rng.integers(0, len(pool)))]
        pool.append([a * b, a + a, sg.sin(a) - b, a / (b * b + 1.0)][int(rng.integers(4))])
    outs = [pool[-1], pool[-7], pool[2000]]
    fed = frozenset({*(x.id for x in xs), pool[1500].id, pool[-40].id})
    needed, missing = walk(outs, fed)
    assert isinstance(needed, Needed) and needed.reads and len(needed) > 4096 and not missing
    assert [needed.ops[k] for k in needed.op_of.tolist()] == [n.opdef for n in needed]
    for fold in (False, True):
        read, bare = Plan(outs, fed, fold, nodes=needed), Plan(outs, fed, fold, list(needed))
        assert len(read.steps) > 4000
        assert type(read.nodes) is list  # (the plan keeps not the walk's reads)
        assert_same_plan(read, bare, ("ops", "ids", "op_of"))
    assert len(Plan(outs, fed, True).preset) > len(Plan(outs, fed).preset)  # some folded
    for keep in (True, False):  # (not kept: the nodes are rewritten before a plan)
        found, missing = walk(outs, fed - {xs[1].id}, keep)
        assert missing == [xs[1]] and isinstance(found, Needed) is keep
    assert walk(outs, fed, keep=False)[0] == needed


def test_a_large_plan_of_constants_folds_to_no_steps(graph):
    x = sg.var("x")
    c = sg.const(1.0)
    for _ in range(300):  # (past SMALL_PLAN: the array plan)
        c = sg.sin(c) + 1.0
    p = Plan([c, x], frozenset({x.id}), fold=True)
    assert p.steps == [] and len(p.preset) == len(p.nodes) - 1 and p.frees == []
    assert p.read_count.sum() == 0 and p.last_read.max() == -1
    want = sg.evaluate(c, {})
    for backend in ("python", "numba"):
        got = sg.compile([c, x], [x], backend=backend)(2.0)
        assert float(got[0]) == float(want) and float(got[1]) == 2.0


def test_plan_is_cached_per_outputs_and_feeds(graph):
    x = sg.var("x")
    y = sg.sin(x)
    assert plan_for([y], frozenset({x.id})) is plan_for([y], frozenset({x.id}))
    assert plan_for([y], frozenset({y.id})) is not plan_for([y], frozenset({x.id}))


def test_as_outputs_checks_what_it_is_given(graph):
    x = sg.var("x")
    assert as_outputs((x, x), "who") == ([x, x], False)
    for bad, text in [([], "non-empty"), ([x, 1.0], "not a symgraph node"), (3, "non-empty")]:
        with pytest.raises(sg.SymgraphError, match=f"who: .*{text}"):
            as_outputs(bad, "who")


# --- the registry -----------------------------------------------------------------------------


def test_backends_lists_what_can_run_here():
    """Every backend of the contract; make test installs every optional engine, so each
    can run here (a missing one is reported False, never raised)."""
    assert set(BACKENDS) == {"python", "numpy", "numba", "jax", "dask", "auto"}
    assert backends() == {name: True for name in BACKENDS}


def test_unknown_backend_names_it_and_lists_the_known_ones(graph):
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match=r"no backend 'jaxx'.*'python', 'numpy'"):
        sg.compile(sg.sin(x), [x], backend="jaxx")


def test_a_missing_dependency_names_the_pip_extra(graph, monkeypatch):
    class Absent(NumpyBackend):
        name, extra = "absent", "absent"

        def available(self) -> bool:
            return False

    monkeypatch.setitem(BACKENDS, "absent", Absent())
    assert backends()["absent"] is False
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match=r'pip install "symgraph\[absent\]"'):
        sg.compile(sg.sin(x), [x], backend="absent")


def test_an_op_the_backend_cannot_run_is_named_at_compile_time(graph, monkeypatch):
    class NoSine(NumpyBackend):
        name = "nosine"

        def supports(self, op: Op) -> bool:
            return op is not SIN

    monkeypatch.setitem(BACKENDS, "nosine", NoSine())
    x = sg.var("x")
    assert float(sg.compile(x * x, [x], backend="nosine")(3.0)) == 9.0
    with pytest.raises(sg.SymgraphError, match=r"backend 'nosine' cannot run the op 'sin'"):
        sg.compile(sg.cos(x) + sg.sin(x), [x], backend="nosine")


def test_unknown_options_are_named_with_the_backends_options(graph):
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match=r"'numpy' takes no option 'use_math'.*"
                                               r"trust_input, python_scalars, assume_finite"):
        sg.compile(sg.sin(x), [x], backend="numpy", use_math=False)
    with pytest.raises(sg.SymgraphError, match="'python' takes no option 'fast'"):
        sg.compile(sg.sin(x), [x], fast=True)


# --- the numpy backend ------------------------------------------------------------------------


def test_numpy_backend_returns_what_evaluate_does_with_the_same_checks(graph, rng):
    W, s = sg.var("W", shape=(3, 4)), sg.var("s")
    y = sg.sum(sg.tanh(W * s)) + sg.sin(s) * s
    outs = [y, *sg.grad(y, [W, s])]
    f = sg.compile(outs, [W, s], backend="numpy")
    assert isinstance(f, sg.CompiledFunction) and f is sg.compile(outs, [W, s], backend="numpy")
    assert f is not sg.compile(outs, [W, s])
    Wv = rng.standard_normal((3, 4))
    for got, want in zip(f(Wv, 0.3), sg.evaluate(outs, {W: Wv, s: 0.3})):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-13)
    assert f.inputs == (W, s) and f.outputs == tuple(outs) and "tanh(" in f.source
    with pytest.raises(sg.SymgraphError, match="takes 2 arrays"):
        f(Wv)
    with pytest.raises(sg.ShapeError, match="'W'"):
        f(np.ones((4, 3)), 1.0)
    with pytest.raises(sg.SymgraphError, match="'s'.*not numbers"):
        f(Wv, "one")
    g = sg.compile(y, [W, s], backend="numpy", python_scalars=True, trust_input=True)
    assert type(g(Wv, 0.3)) is float and g(Wv, 0.3) == pytest.approx(float(f(Wv, 0.3)[0]))


def test_numpy_backend_keeps_nan_and_inf_unless_assume_finite(graph):
    x = sg.var("x")
    y = x * 0 + 1
    f = sg.compile(y, [x], backend="numpy")
    g = sg.compile(y, [x], backend="numpy", assume_finite=True)
    assert np.isnan(f(np.inf)) and float(g(np.inf)) == 1.0
    with pytest.raises(sg.SymgraphError, match=r"op 'add'"):
        sg.compile(sg.var("a", shape=(None,)) + sg.var("b", shape=(None,)), ["a", "b"],
                   backend="numpy")(np.ones(2), np.ones(3))


def test_an_op_with_an_array_api_name_runs_as_that_numpy_function(graph):
    calls = []

    def slow_arctan(v):
        calls.append(1)
        return np.arctan(v)

    op = sg.OPS.get("backends_test_arctan") or sg.ops.core.register(Op(
        name="backends_test_arctan", impl=slow_arctan, shape=same_shape, dtype=inexact,
        array_api="arctan"))
    x = sg.var("x", shape=(3,))
    y = sg.ops.core.make(op, [x])
    for backend in ("python", "numpy"):
        f = sg.compile(y, [x], backend=backend)
        np.testing.assert_allclose(f(np.array([0.0, 1.0, -2.0])), np.arctan([0.0, 1.0, -2.0]))
    assert np.arctan in sg.compile(y, [x]).__globals__.values()
    assert not calls  # neither backend called the impl: the array-API function ran
    assert float(sg.evaluate(sg.sum(y), {x: np.ones(3)})) == pytest.approx(3 * np.pi / 4)


# --- compile's lowering: scatter_add -------------------------------------------------------------


def test_scatter_add_is_scatter_plus_b_on_every_value(graph):
    b, g = sg.var("b", shape=(6,)), sg.var("g", shape=(4,))
    index = b[1:5].attrs["index"]
    fused = scatter_add(b, g, index)
    plain = sg.ops.shape.scatter(g, index, b) + b
    bv = np.array([-0.0, np.nan, np.inf, -0.0, 1.0, -0.0])
    gv = np.array([-0.0, 1.0, -np.inf, 2.0])
    want = sg.evaluate(plain, {b: bv, g: gv})
    for got in (sg.evaluate(fused, {b: bv, g: gv}),
                sg.compile(fused, [b, g])(bv, gv), sg.compile(fused, [b, g], backend="numpy")(bv, gv)):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # 0.0 + -0.0 is 0.0
    assert sg.check_grad(sg.sum(sg.sin(fused)), [b, g], {b: np.arange(6.0), g: np.ones(4)},
                         order=2) < 1e-6
    with pytest.raises(sg.ShapeError, match="does not fit"):
        scatter_add(b, sg.var("h", shape=(3,)), index)


@pytest.mark.parametrize("scan_limit", [100_000, 0])  # the graph's ops scanned, or a walk
def test_lowering_runs_in_compile_and_not_in_simplify(graph, rng, monkeypatch, scan_limit):
    monkeypatch.setattr("symgraph.rewrite.driver.SCAN_LIMIT", scan_limit)
    x = sg.var("x", shape=(8,))
    y = sg.sum(sg.square(x[1:])) + sg.sum(sg.sin(x))
    d = sg.grad(y, x)
    assert SCATTER_ADD not in _ops_of([sg.simplify(d)])  # pictures do not change
    f = sg.compile([y, d], [x])
    assert SCATTER_ADD in _ops_of(f.computed)
    in_place = [k for k, v in f.__globals__.items() if getattr(v, "func", None) is add_at
                and f"{k}(" in f.source]
    assert len(in_place) == 1  # b[index] += g in cos(x)'s dying buffer
    xv = rng.standard_normal(8)
    want = np.cos(xv)
    want[1:] += 2 * xv[1:]
    np.testing.assert_allclose(f(xv)[1], want, rtol=1e-14)


def test_lowering_is_not_tried_where_a_pattern_names_an_op_that_is_not_there(graph):
    from symgraph.rewrite import driver

    x = sg.var("x", shape=(8,))
    plain = sg.sum(sg.sin(x)) + x[0]  # an add, but no scatter: scatter-add cannot match
    assert not driver._could_lower([plain], LOWERING)
    assert driver._could_lower([sg.grad(sg.sum(sg.square(x[1:])) + plain, x)], LOWERING)


# --- one folding rule ---------------------------------------------------------------------------


def test_fold_is_compact_for_fills_and_declines_what_is_large_or_fails():
    huge = np.broadcast_to(2.0, (1 << 20, 1 << 20))
    value = fold(ADD, [huge, np.asarray(1.0)], {}, huge.shape, elementwise=True)
    assert value.strides == (0, 0) and value[3, 4] == 3.0
    assert fold(ADD, [huge, np.asarray(1.0)], {}, huge.shape, elementwise=False) is None
    big = np.arange(FOLD_LIMIT + 1.0)
    assert fold(ADD, [big, big], {}, big.shape, elementwise=True) is None
    np.testing.assert_array_equal(fold(ADD, [big[:3], big[:3]], {}, (3,), True), [0, 2, 4])
    broken = Op(name="broken", impl=lambda v: 1 / 0, shape=same_shape, dtype=inexact)
    assert fold(broken, [np.ones(2)], {}, (2,), elementwise=True) is None


def test_derivative_builders_fold_through_the_same_rule(graph, monkeypatch):
    # d/dx x**3 builds 3 * x**(3 - 1): the exponent is folded while building, by ops.core.fold
    seen = []

    def counted(*args, **kwargs):
        seen.append(args[0])
        return fold(*args, **kwargs)

    monkeypatch.setattr(sg.ops.elementwise, "fold", counted)
    x = sg.var("x", shape=(2,))
    dy = sg.grad(sg.sum(x ** 3.0), x)
    ops = _ops_of([dy])
    assert SUBTRACT in seen and SUBTRACT not in ops
    assert any(n.opdef is CONST and n.attrs["value"].tolist() == 2.0
               for n in sg.ancestors([dy]))
    np.testing.assert_allclose(sg.evaluate(dy, {x: [1.0, 2.0]}), [3.0, 12.0])


def test_plan_and_backends_name_no_op_by_string():
    names = set(sg.OPS)
    files = [ROOT / "plan.py", *sorted((ROOT / "backends").glob("*.py"))]
    found = [(f.name, node.lineno, node.value) for f in files
             for node in ast.walk(ast.parse(f.read_text()))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and node.value in names]
    assert found == []


@pytest.mark.parametrize("backend", ["python", "numpy", "numba"])
def test_a_result_a_rewrite_made_an_input_is_a_new_array(graph, backend):
    """x * 1.0 is rewritten to x: the result was the caller's array itself, so writing into
    it changed the input (evaluate gives a new array there)."""
    if not sg.backends()[backend]:
        pytest.skip(f"{backend} is not installed")
    x = sg.var("x", shape=(3,))
    s = sg.var("s")
    for python_scalars in (False, True):
        f = sg.compile([x * 1.0, s * 1.0, sg.sin(x)], [x, s], backend=backend,
                       python_scalars=python_scalars)
        a, b = np.array([1.0, -0.0, np.nan]), np.array(2.0)
        got = f(a, b)
        np.testing.assert_array_equal(got[0], a)
        assert np.signbit(got[0][1]) and not np.shares_memory(got[0], a)
        got[0] += 10.0
        np.testing.assert_array_equal(a, [1.0, -0.0, np.nan])
        if python_scalars:
            assert type(got[1]) is float and got[1] == 2.0
        else:
            assert not np.shares_memory(got[1], b) and float(got[1]) == 2.0

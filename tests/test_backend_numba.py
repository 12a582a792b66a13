"""The numba backend (issue 16): scalar graphs on a tape run by one Numba-compiled
interpreter, other graphs by the python backend; backend="auto".

Oracle: sg.evaluate of the same outputs (NumPy op by op), compared as compile must equal
evaluate (NaN where it has NaN, the same infinities and signs of zero, the rest to
rounding); hand-written loops for the chains; finite differences through sg.check_grad.
"""

from __future__ import annotations

import itertools
import math
import random
import subprocess
import sys

import numpy as np
import pytest
from chains import nested
from opcases import all_cases, case_inputs, case_outputs
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg
from symgraph.backends import BACKENDS, numba_tape
from symgraph.ops.core import make

pytest.importorskip("numba")

CASES = all_cases()
_cube = sg.define_op("numba_test_cube", lambda a: a ** 3,
                     vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])])
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.7, 0.999,
            1.5, 710.0, -745.5, 1e300, 5e-324]


@pytest.mark.parametrize(("name", "i", "case"), CASES, ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_every_op_case_equals_evaluate_value_and_gradient(name, i, case, rng):
    # array cases run through the python backend (f.backend says so), scalar ones on the tape
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        outs = case_outputs(case, nodes)
        f = sg.compile(outs, nodes, backend="numba")
        assert f.backend in ("numba", "python")
        for got, want in zip(f(*values), sg.evaluate(outs, dict(zip(nodes, values)))):
            assert_same_values(got, want, what=f"{name}-{i}")


def _scalar_graphs():
    """(op, build) for every op the tape runs: each op's cases built on scalar inputs,
    plus the ops whose cases are all arrays or other dtypes."""
    seen = {}
    for name, _, case in CASES:
        op = sg.OPS[name]
        if op not in numba_tape.SUPPORTED or any(
                isinstance(spec, np.ndarray) and spec.dtype.kind != "f" for spec in case.inputs):
            continue
        seen.setdefault(op, []).append((len(case.inputs), case.build))
    extra = {
        sg.OPS["cast"]: [(1, lambda x: sg.cast(x > 0.5, "float64")),
                         (1, lambda x: sg.cast(sg.cast(x, "bool"), "float64"))],
        sg.OPS["first_max_mask"]: [(1, lambda x: make(sg.OPS["first_max_mask"], [x],
                                                      {"axis": None}) * x)],
        sg.OPS["where"]: [(3, lambda c, a, b: sg.where(c > a, a, b))],
        sg.OPS["isnan"]: [(1, lambda x: sg.where(sg.isnan(x), 1.0, x))],
        sg.OPS["isfinite"]: [(1, lambda x: sg.where(sg.isfinite(x), x, 2.0))],
    }
    for op, builds in extra.items():
        seen.setdefault(op, []).extend(builds)
    return seen


def _grid(arity: int) -> list[tuple]:
    if arity == 1:
        return [(v,) for v in SPECIALS]
    some = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -1.5, 2.0, -3.0]
    return list(itertools.product(some, repeat=arity))


def test_every_tape_op_equals_evaluate_on_nan_inf_and_signed_zeros():
    covered = set()
    for op, builds in _scalar_graphs().items():
        for arity, build in builds:
            with sg.Graph():
                xs = [sg.var(f"x{k}") for k in range(arity)]
                try:
                    y = build(*xs)
                except sg.SymgraphError:
                    continue  # a reduction case over an axis a scalar lacks
                if isinstance(y, (list, tuple)) or y.shape != ():
                    continue
                outs = [y, *sg.grad(y, xs)] if y.dtype.kind == "f" else [y]
                f = sg.compile(outs, xs, backend="numba")
                if f.backend != "numba":
                    continue
                covered.add(op)
                for point in _grid(arity):
                    want = sg.evaluate(outs, dict(zip(xs, point)))
                    for k, (got, w) in enumerate(zip(f(*point), want)):
                        assert_same_values(got, w, what=f"{op.name} output {k} at {point}")
    assert {op.name for op in numba_tape.SUPPORTED - covered} == set()


def test_the_tape_follows_numpy_where_math_differs():
    # maximum/minimum's tie (second operand) and NaN, power at 0.5 (sqrt: NaN at -inf),
    # the sum of -0.0, mod's sign, logaddexp at equal infinities, sigmoid's far tail
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        outs = [sg.maximum(x, y), sg.minimum(x, y), x ** y, sg.sum(x), sg.mod(x, y),
                sg.logaddexp(x, y), sg.sigmoid(x), sg.softplus(x), sg.sign(x), sg.relu(x)]
        f = sg.compile(outs, [x, y], backend="numba")
        assert f.backend == "numba"
        for a, b in [(0.0, -0.0), (-0.0, 0.0), (np.nan, 1.0), (-np.inf, 0.5), (-0.0, 0.5),
                     (-0.0, 3.0), (-7.0, 3.0), (7.0, -3.0), (np.inf, np.inf), (-800.0, 0.0),
                     (1.0, np.inf), (-1.0, np.inf), (5.0, 0.0)]:
            for k, (got, want) in enumerate(zip(f(a, b), sg.evaluate(outs, {x: a, y: b}))):
                assert_same_values(got, want, what=f"output {k} at {a, b}")


def test_fused_rows_equal_the_two_steps_they_replace(graph):
    # a step read only by the next one is written into its row (either operand order);
    # one read twice, kept as an output, or on the left of a subtraction is not
    patterns = [lambda a, b, c: c + a * b, lambda a, b, c: b * -a, lambda a, b, c: -(a * c),
                lambda a, b, c: c - sg.square(b), lambda a, b, c: sg.square(b) - c,
                lambda a, b, c: c * (b * a), lambda a, b, c: sg.cos(a) * b,
                lambda a, b, c: b * sg.sin(c), lambda a, b, c: (a * b) + (a * b) * c]
    xs, outs = [], []
    for k, pattern in enumerate(patterns):
        a, b, c = sg.var(f"a{k}"), sg.var(f"b{k}"), sg.var(f"c{k}")
        xs += [a, b, c]
        outs.append(pattern(a, b, c))
    kept = xs[0] * xs[2]
    outs += [-kept, kept]
    f = sg.compile(outs, xs, backend="numba")
    assert f.backend == "numba"
    fused = [line for line in f.source.splitlines() if line.count("(") == 2 and "input" not in line]
    assert len(fused) >= 6 and f.tape.shape[0] == len(f._plan.steps) - len(fused)
    values = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0]
    for point in itertools.product(values, repeat=3):
        want = sg.evaluate(outs, dict(zip(xs, point * len(patterns))))
        for k, (got, w) in enumerate(zip(f(*(point * len(patterns))), want)):
            assert_same_values(got, w, what=f"output {k} at {point}")


def _random_dag(n_ops: int, seed: int = 0) -> tuple[list, sg.Node]:
    """A W5-like DAG of scalar ops over 10 inputs (the benchmark's kinds)."""
    rng = random.Random(seed)
    xs = [sg.var(f"x{i}") for i in range(10)]
    pool, values = list(range(10)), list(xs)
    for k in range(n_ops):
        kind = rng.randrange(5)
        slot = rng.randrange(10)
        u = values[pool[slot]]
        other = values[rng.randrange(max(0, len(values) - 16), len(values))]
        node = [u + other, u * other, sg.sin(u), sg.exp(-(u * u)), sg.tanh(u)][kind]
        pool[slot] = len(values)
        values.append(node)
    y = values[-10]
    for node in values[-9:]:
        y = y + node
    return xs, y


def test_random_dag_gradient_equals_evaluate_and_finite_differences():
    point = [math.sin(1.0 + 0.7 * i) for i in range(10)]
    with sg.Graph():
        xs, y = _random_dag(1000)
        grads = sg.grad(y, xs)
        f = sg.compile([y, *grads], xs, backend="numba")
        assert f.backend == "numba"
        steps = f.tape.shape[0]
        assert steps > 2000 and f.work_size < steps / 2  # slots reused after their last reader
        want = sg.evaluate([y, *grads], dict(zip(xs, point)))
        for got, w in zip(f(*point), want):
            assert_same_values(got, w)
        g = sg.compile(grads, xs, backend="numba", python_scalars=True, trust_input=True)
        assert g(*point) == pytest.approx([float(v) for v in want[1:]], rel=1e-12)
        assert sg.check_grad(y, xs, dict(zip(xs, point))) < 1e-6


def test_deep_chain_runs_without_recursion_in_a_few_slots():
    depth = 100_000
    with sg.Graph():
        w = sg.var("w")
        z = nested(sg.sin, w, depth)
        f = sg.compile(z, [w], backend="numba", python_scalars=True)
        assert f.backend == "numba" and f.tape.shape[0] == depth
        assert f.work_size <= 3  # one value live at a time: the chain reuses one slot
        v = 0.5
        for _ in range(depth):
            v = math.sin(v)
        assert f(0.5) == pytest.approx(v, rel=1e-12)
        dz = sg.grad(z, w)
        h = sg.compile(dz, [w], backend="numba", python_scalars=True)
        # each level's cos(w_k) * g is one fused row: 2 rows a level, not 3
        assert h.tape.shape[0] <= 2 * depth and h.work_size <= depth + 3
        d, v = 1.0, 0.5
        for _ in range(depth):
            d *= math.cos(v)
            v = math.sin(v)
        assert h(0.5) == pytest.approx(d, rel=1e-9)


def test_call_contract_checks_feeds_and_returns_arrays(graph):
    x, n, b = sg.var("x"), sg.var("n", dtype="int64"), sg.var("b", dtype="bool")
    unused = sg.var("u")
    outs = [x * n, x > 1.0, sg.where(b, x, 2.0)]
    f = sg.compile(outs, [x, n, b, unused], backend="numba")
    assert f.backend == "numba" and isinstance(f, sg.CompiledFunction)
    assert f is sg.compile(outs, [x, n, b, unused], backend="numba")
    got = f(1.5, 3, False, 0.0)
    assert [(r.shape, r.dtype) for r in got] == [((), np.float64), ((), np.bool_), ((), np.float64)]
    assert [r.item() for r in got] == [4.5, True, 2.0]
    assert [r.item() for r in f(np.float64(-2.0), np.int8(2), np.bool_(True), 1)] == [-4.0,
                                                                                      False, -2.0]
    with pytest.raises(sg.SymgraphError, match="takes 4 arrays"):
        f(1.0, 2)
    with pytest.raises(sg.SymgraphError, match="'x' is given twice, by position and by name"):
        f(1.0, 2, True, x=0.0)
    with pytest.raises(sg.SymgraphError, match="'n'.*cannot become int64"):
        f(1.0, 2.5, True, 0.0)
    with pytest.raises(sg.ShapeError, match="'x'"):
        f([1.0, 2.0], 2, True, 0.0)
    with pytest.raises(sg.SymgraphError, match="'u'"):
        f(1.0, 2, True, "zero")  # an unused input is still checked
    single = sg.compile(x * x, [x], backend="numba", python_scalars=True)
    assert single(3.0) == 9.0 and type(single(3.0)) is float
    assert float(sg.compile(x * x, [x], backend="numba")(3.0)) == 9.0
    assert "multiply" in f.source and "return" in f.source


def test_array_graphs_run_on_the_python_backend_and_user_ops_are_refused(graph):
    v = sg.var("v", shape=(3,))
    y = sg.sum(sg.sin(v) * v)
    f = sg.compile([y, sg.grad(y, v)], [v], backend="numba")
    assert f.backend == "python"
    for got, want in zip(f(np.arange(3.0)), sg.evaluate([y, sg.grad(y, v)], {v: np.arange(3.0)})):
        assert_same_values(got, want)
    x = sg.var("x")
    assert sg.compile(sg.cast(x, "float32") * 2, [x], backend="numba").backend == "python"
    assert sg.compile(sg.where(x > 0, 1, 0), [x], backend="numba").backend == "python"
    with pytest.raises(sg.SymgraphError, match=r"backend 'numba' cannot run the op "
                                               r"'numba_test_cube'"):
        sg.compile(_cube(x) + 1, [x], backend="numba")
    assert float(sg.compile(_cube(x), [x], backend="auto")(2.0)) == 8.0


# The ops the tape runs (numba_tape's docstring lists them); any other op runs through the
# python backend, and every built-in op is accepted.
TAPE_OPS = {
    "abs", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "cast", "ceil", "clip", "cos", "cosh", "divide", "erf", "exp", "exp2", "expm1",
    "first_max_mask", "floor", "floor_divide", "greater", "greater_equal", "hypot", "isfinite",
    "isnan", "less", "less_equal", "log", "log10", "log1p", "log2", "logaddexp", "logical_and",
    "logical_not", "logical_or", "logical_xor", "max", "maximum", "mean", "min", "minimum",
    "mod", "multiply", "negative", "not_equal", "power", "relu", "sigmoid", "sign", "sin",
    "sinh", "softplus", "sqrt", "square", "stop_gradient", "subtract", "sum", "tan", "tanh",
    "where"}


def test_every_builtin_op_is_accepted_and_the_tape_set_is_documented():
    from opcases import BUILTIN_OP_NAMES

    lacking = {n for n in BUILTIN_OP_NAMES if not BACKENDS["numba"].supports(sg.OPS[n])}
    # ops off the tape run through the python backend, the loop ops included
    assert lacking == set()
    assert {op.name for op in numba_tape.SUPPORTED} == TAPE_OPS
    documented = " ".join(numba_tape.__doc__.split())
    assert [n for n in sorted(TAPE_OPS) if f"``{n}``" not in documented] == []


def test_auto_picks_numba_for_large_scalar_graphs_only(graph):
    x = sg.var("x")
    small = sg.compile(sg.sin(x) * x, [x], backend="auto")
    assert small.backend == "python"
    z = x
    for _ in range(numba_tape.AUTO_MIN_STEPS):
        z = sg.sin(z) + 0.5
    big = sg.compile(z, [x], backend="auto", use_math=False, python_scalars=True)
    assert big.backend == "numba"
    assert big(0.3) == pytest.approx(float(sg.evaluate(z, {x: 0.3})), rel=1e-12)
    v = sg.var("v", shape=(2,))
    w = v
    for _ in range(numba_tape.AUTO_MIN_STEPS):
        w = sg.sin(w)
    assert sg.compile(w, [v], backend="auto").backend == "python"


def test_a_missing_numba_names_the_pip_extra(graph, monkeypatch):
    monkeypatch.setitem(numba_tape._numba, "ok", False)
    assert sg.backends()["numba"] is False
    x = sg.var("x")
    with pytest.raises(sg.SymgraphError, match=r'pip install "symgraph\[numba\]"'):
        sg.compile(sg.sin(x), [x], backend="numba")
    z = x
    for _ in range(numba_tape.AUTO_MIN_STEPS):
        z = sg.sin(z)
    assert sg.compile(z, [x], backend="auto").backend == "python"


def test_import_symgraph_does_not_import_numba():
    # available() imports numba itself; the compiled interpreter loads only for a tape
    code = ("import sys, symgraph as sg\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numba'))\n"
            "x = sg.var('x', shape=(2,))\n"
            "f = sg.compile(sg.sin(x), [x], backend='numba')\n"  # array graph: python
            "print(f.backend, 'symgraph.backends.numba_vm' in sys.modules)\n"
            "f = sg.compile(sg.sin(x[0]), [x[0]], backend='numba')\n"
            "print(f.backend, 'symgraph.backends.numba_vm' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split("\n")[:3] == ["[]", "python False", "numba True"]

"""Differential fuzzing: random graphs built from every op in the registry.

A graph is a *program*: a few input shapes and a list of steps, each step one declared
``Case`` of some op (``sg.OPS[name].cases``) applied to nodes picked from the pool built so
far. Every pick is squashed smoothly into the case's input domain (log and sqrt see positive
values, tan stays inside (-pi/2, pi/2)) and fitted to the case's input shape (as is,
broadcast, or a mean spread by a fixed pattern). Because a program is plain lists of small
integers, hypothesis shrinks a failure to the fewest, simplest ops.

Each graph is checked against finite differences (``sg.check_grad`` of order 1 and 2) and
against itself: ``jvp == jacobian @ v``, ``hvp == hessian @ v``, the Hessian symmetric,
``compile`` equal to ``evaluate``. Points near a kink (relu, abs, maximum, max, a
comparison feeding ``where``) are rejected, since finite differences are meaningless there.

``compile`` is also checked against ``evaluate`` where the values are not nice: *raw*
graphs (no squashing: log meets negative numbers, divide meets zero) with the patterns
the rewrite rules look for mixed in (``PROBES``: ``x*0``, ``exp(log x)``, ``c*(d*x)``...),
fed NaN, +-inf, +-0.0 and +-1e5 among ordinary numbers, their gradients included: the
same NaN, the same infinities, the same sign of zero, the rest to rounding.

Runs: the "ci" profile (60 graphs per property, derandomized, a few seconds) by default;
``SYMGRAPH_FUZZ=long`` (``make fuzz``) selects the "long" profile: 6000 graphs per
property, 24,000 in all (3 min 15 s measured).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.ops.core import broadcast_shapes
from opcases import BUILTIN_OP_NAMES, all_cases
from test_compile_matches_evaluate import assert_same_values

_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_QUIET)
settings.register_profile("long", max_examples=6000, deadline=None,
                          suppress_health_check=_QUIET)
# Applied per test (not load_profile) so other test files keep hypothesis' defaults.
PROFILE = settings.get_profile(os.environ.get("SYMGRAPH_FUZZ", "ci"))
MAX_STEPS = 8 if os.environ.get("SYMGRAPH_FUZZ") == "long" else 5  # bigger graphs by hand

# Every declared case of every builtin op; new ops join the fuzzer the moment they declare cases.
CASES = [(name, i, case) for name, i, case in all_cases()
         if all(isinstance(spec, tuple) and len(spec) == 3 for spec in case.inputs)]
SHAPES = [(), (3,), (2, 3)]
# Ops whose value or derivative jumps where two arguments meet (or an argument is 0).
PAIR_KINKS = {"maximum", "minimum", "less", "less_equal", "greater", "greater_equal",
              "not_equal"}
ZERO_KINKS = {"relu", "abs", "sign"}
SPREAD_KINKS = {"max", "first_max_mask", "min", "sort", "argsort", "argmax", "argmin", "max_pool2d"}
KINK_GAP = 2e-3  # finite-difference steps move kink arguments by far less than this
MAX_VALUE = 1e4
NO_FD = {"stop_gradient"}  # its symbolic derivative differs from finite differences by design


def _has_floats(case: sg.Case) -> bool:
    return any(not (isinstance(spec, np.ndarray) or spec[1] == "int") for spec in case.inputs)


def test_fuzz_covers_every_op_with_cases():
    """(An op of integers only, gcd or lcm, has no place in the fuzzer's float programs.)"""
    with_cases = {name for name in BUILTIN_OP_NAMES
                  if any(_has_floats(case) for case in sg.OPS[name].cases)}
    assert {name for name, _, _ in CASES} == with_cases


@dataclass
class Program:
    inputs: list[tuple]
    steps: list[tuple[int, list[int], int]]
    seed: int

    def __repr__(self) -> str:  # what hypothesis prints for a failing (shrunk) graph
        ops = [f"{CASES[c][0]}[{CASES[c][1]}](picks={p}, squash={s})" if c < len(CASES)
               else f"probe[{c - len(CASES)}](picks={p})" for c, p, s in self.steps]
        return f"Program(inputs={self.inputs}, steps={ops}, seed={self.seed})"


programs = st.builds(
    Program,
    inputs=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3),
    steps=st.lists(st.tuples(st.integers(0, len(CASES) - 1),
                             st.lists(st.integers(0, 15), min_size=2, max_size=2),
                             st.integers(0, 2)),
                   min_size=1, max_size=MAX_STEPS),
    seed=st.integers(0, 2**16),
)


def _squash(p: sg.Node, low: float, high: float, kind: int) -> sg.Node:
    """A smooth map of any real number into (low, high)."""
    mid, half = (low + high) / 2, 0.95 * (high - low) / 2
    if kind == 0:
        return mid + half * sg.tanh(p)
    if kind == 1:
        return (mid - half) + 2 * half * sg.sigmoid(p)
    return mid + half * sg.sin(p)


def _fit(u: sg.Node, shape: tuple, low: float, seed: int) -> sg.Node:
    """``u`` (with values in (low, high)) as a node of ``shape``, values still in range."""
    if u.shape == shape:
        return u
    if broadcast_shapes(u.shape, shape) == shape:
        return sg.broadcast_to(u, shape)
    # A convex mix of low and the mean, spread by a fixed pattern so elements differ.
    # (evenly spaced, so the elements are far apart for max and comparisons)
    size = int(np.prod(shape))
    pattern = 0.5 + 0.5 * np.random.default_rng(seed).permutation(size).reshape(shape) / size
    return low + (sg.mean(u) - low) * sg.const(pattern)


def build(program: Program) -> tuple[list[sg.Node], list[sg.Node]]:
    """The program's inputs and its step results (call inside a graph)."""
    xs = [sg.var(f"x{k}", shape=s) for k, s in enumerate(program.inputs)]
    pool = list(xs)
    results = []
    for n, (c, picks, kind) in enumerate(program.steps):
        _, _, case = CASES[c]
        args = []
        for k, (shape, low, high) in enumerate(case.inputs):
            picked = pool[picks[k % len(picks)] % len(pool)]
            args.append(_fit(_squash(picked, low, high, kind), shape, low, n * 7 + k))
        out = case.build(*args)
        pool.append(out)
        results.append(out)
    return xs, results


def _kink_distance(node: sg.Node, args: list[np.ndarray], value: np.ndarray) -> float:
    """How far the node's arguments are from a point where it is not smooth.

    Exact coincidences (``maximum(x, x)``, ``relu(x - x)``) are structural, not accidental,
    and smooth in the perturbation, so they do not count.
    """
    def nearest(diff: np.ndarray) -> float:
        diff = np.abs(np.asarray(diff, dtype=np.float64)).ravel()
        diff = diff[diff > 0]
        return float(diff.min()) if diff.size else np.inf

    if node.op in ZERO_KINKS:
        return nearest(args[0])
    if node.op in PAIR_KINKS:
        return nearest(np.subtract(args[0], args[1], dtype=np.float64))
    if node.op in SPREAD_KINKS:
        flat = np.asarray(args[0], dtype=np.float64).ravel()
        return nearest(flat[:, None] - flat[None, :])
    return np.inf


def _smooth(y: sg.Node, feeds: dict) -> bool:
    """Whether every forward value is finite, moderate and away from kinks."""
    forward = sg.ancestors([y])
    values = dict(zip((n.id for n in forward), sg.evaluate(forward, feeds)))
    for n in forward:
        v = values[n.id]
        if v.dtype.kind == "f" and not (np.all(np.isfinite(v)) and np.all(np.abs(v) < MAX_VALUE)):
            return False
        if _kink_distance(n, [values[i.id] for i in n.inputs], v) <= KINK_GAP:
            return False
    return True


def _objective(xs: list[sg.Node], results: list[sg.Node]) -> sg.Node:
    """A scalar that depends on every float step result (weighted, so none cancels)."""
    floats = [r for r in results if r.dtype.kind == "f"]
    if not floats:
        return sg.sum(sg.sin(xs[0]))
    y = sg.sum(floats[0])
    for k, r in enumerate(floats[1:], start=2):
        y = y + sg.sum(r) * (1.0 / k)
    return y


def _contract(jac: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.tensordot(jac, v, axes=v.ndim) if v.ndim else jac * v


def check_derivatives(program: Program) -> bool:
    """Every derivative of the program's graph against finite differences and against the
    others; False (nothing checked) if the random point is not smooth."""
    rng = np.random.default_rng(program.seed)
    with sg.Graph() as g:
        xs, results = build(program)
        y = _objective(xs, results)
        feeds = {x: rng.uniform(-2.0, 2.0, size=x.shape) for x in xs}
        if not _smooth(y, feeds):
            return False

        # A float32 node on the way (a cast case) limits every comparison to its precision.
        single = any(n.dtype.kind == "f" and n.dtype.itemsize < 8 for n in sg.ancestors([y]))
        fd_rtol, rtol = (3e-2, 1e-4) if single else (1e-4, 1e-9)

        # 1. first and second derivatives against finite differences
        # (stop_gradient hides a dependence on purpose: only the cross-checks apply)
        if not any(n.op in NO_FD for n in sg.ancestors([y])):
            sg.check_grad(y, xs, feeds, order=1, rtol=fd_rtol, seed=program.seed)
            if not single:
                # Second differences of a function rounded to float32 are mostly rounding
                # noise (a 4% miss found by the long run); the exact cross-checks below
                # (Hessian symmetry, hvp, jvp) still cover second order there.
                sg.check_grad(y, xs, feeds, order=2, rtol=fd_rtol, seed=program.seed)

        # 2. forward mode against the Jacobian, for the last float result (any shape)
        target = next((r for r in reversed(results) if r.dtype.kind == "f"), y)
        vs = [rng.standard_normal(x.shape) for x in xs]
        jacobians = sg.jacobian(target, xs)
        tangent = sg.jvp(target, xs, vs)

        # 3. Hessian: symmetric, and its product with v equals hvp
        x0 = xs[0]
        v0 = rng.standard_normal(x0.shape)
        hessian = sg.hessian(y, x0)
        hv = sg.hvp(y, x0, v0)

        before = len(g)
        t_val, h_val, hv_val, *j_vals = sg.evaluate([tangent, hessian, hv, *jacobians], feeds)
        assert len(g) == before  # evaluating builds nothing

    expected = sum(_contract(j, v) for j, v in zip(j_vals, vs))
    assert t_val.shape == target.shape
    np.testing.assert_allclose(t_val, expected, rtol=rtol, atol=rtol / 10)

    n = v0.size
    square = h_val.reshape(n, n)
    scale = max(1.0, float(np.abs(square).max()))
    np.testing.assert_allclose(square, square.T, rtol=0, atol=rtol / 10 * scale)
    np.testing.assert_allclose(hv_val.ravel(), square @ v0.ravel(),
                               rtol=rtol, atol=rtol / 10 * scale)
    return True


@PROFILE
@given(program=programs)
def test_random_graph_derivatives_agree(program: Program):
    assume(check_derivatives(program))


@pytest.mark.parametrize("c", range(len(CASES)), ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_every_case_inside_a_small_graph(c):
    """Each declared case once, fed by a squashed shared input and feeding another op, so
    every op goes through every check whatever hypothesis happens to draw."""
    # cos follows the op: the Hessian is then not trivially zero for linear ops
    follow = next(k for k, (name, _, _) in enumerate(CASES) if name == "cos")
    checked = [check_derivatives(Program([(2, 3), ()], [(c, [0, 1], c % 3), (follow, [2, 0], 0)],
                                         seed)) for seed in range(4)]
    assert any(checked), "no smooth point found in 4 tries"


def _objective_and_gradient(program: Program) -> tuple[list, list, dict]:
    """In the current graph: the program's inputs, [objective, *its gradient], random feeds."""
    rng = np.random.default_rng(program.seed)
    xs, results = build(program)
    y = _objective(xs, results)
    feeds = {x: rng.uniform(-2.0, 2.0, size=x.shape) for x in xs}
    return xs, [y, *sg.grad(y, xs)], feeds


@PROFILE
@given(program=programs)
def test_random_graph_compile_equals_evaluate(program: Program):
    """``sg.compile`` (rewrites + generated code) computes what ``sg.evaluate`` does."""
    with sg.Graph():
        xs, outputs, feeds = _objective_and_gradient(program)
        f = sg.compile(outputs, xs)
        compiled = f(*[feeds[x] for x in xs])
        evaluated = sg.evaluate(outputs, feeds)
    for c, e in zip(compiled, evaluated):
        assert np.shape(c) == np.shape(e)
        np.testing.assert_allclose(c, e, rtol=1e-10, atol=1e-12)


@PROFILE
@given(program=programs)
def test_random_graph_simplify_keeps_values(program: Program):
    """``sg.simplify`` of a random graph and its gradient computes the same numbers."""
    with sg.Graph():
        _, outputs, feeds = _objective_and_gradient(program)
        got = sg.evaluate(sg.simplify(outputs), feeds)
        expected = sg.evaluate(outputs, feeds)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rule", ["vjp", "jvp"])
def test_the_fuzz_checks_fail_on_a_wrong_registry_rule(rule, monkeypatch):
    """The whole pipeline, on a program using sin, with sin's rule made 1% wrong."""
    sin = sg.OPS["sin"]
    right = getattr(sin, rule)[0]
    monkeypatch.setattr(sin, rule, (lambda g, out: right(g, out) * 1.01,))
    c = next(k for k, (name, _, _) in enumerate(CASES) if name == "sin")
    with pytest.raises((sg.SymgraphError, AssertionError)):
        check_derivatives(Program([(2, 3)], [(c, [0, 0], 0)], seed=1))


def test_the_fuzzer_catches_a_wrong_rule():
    """The checks above are not vacuous: a deliberately wrong derivative fails them."""
    bad = sg.define_op("fuzz_wrong_sin", np.sin,
                       vjp=[lambda g, out: g * sg.cos(out.inputs[0]) * 1.01],
                       jvp=[lambda t, out: t * sg.cos(out.inputs[0])])
    with sg.Graph():
        x = sg.var("x", shape=(3,))
        y = sg.sum(bad(sg.tanh(x)))
        with pytest.raises(sg.SymgraphError, match="x"):
            sg.check_grad(y, x, {x: [0.1, 0.2, 0.3]})
        # forward and reverse mode disagree, which the jvp == J v check sees
        t, j = sg.evaluate([sg.jvp(y, x, np.ones(3)), sg.jacobian(y, x)], {x: [0.1, 0.2, 0.3]})
    assert abs(float(t) - float(j.sum())) > 1e-3


# --- compile against evaluate on NaN, inf and +-0.0 ---------------------------------------------

# What the rewrite rules and the code generator's peepholes look for, on raw nodes: a random
# graph meets each rule (exact or not) with NaN, inf and -0.0 flowing in.
PROBES = [
    lambda a, b: a * 0.0, lambda a, b: a + 0.0, lambda a, b: a - 0.0, lambda a, b: -0.0 - a,
    lambda a, b: 0.0 - a, lambda a, b: a * 1.0, lambda a, b: a * -1.0, lambda a, b: a / 1.0,
    lambda a, b: a ** 1.0, lambda a, b: a ** 0.0, lambda a, b: a ** 2.0, lambda a, b: a ** 0.5,
    lambda a, b: a ** -1.0, lambda a, b: a ** b, lambda a, b: sg.exp(sg.log(a)),
    lambda a, b: sg.log(sg.exp(a)), lambda a, b: sg.log(1.0 + sg.exp(a)),
    lambda a, b: sg.log1p(sg.exp(a)), lambda a, b: sg.log(sg.sigmoid(a)),
    lambda a, b: sg.log(1.0 + a), lambda a, b: sg.exp(a) - 1.0,
    lambda a, b: sg.log(sg.softmax(a)) if a.ndim else sg.log(sg.sum(sg.exp(a))),
    lambda a, b: sg.log(1.0 - sg.sigmoid(a)), lambda a, b: a - a, lambda a, b: a / a,
    lambda a, b: a + a, lambda a, b: a * a, lambda a, b: 2.0 * (3.0 * a),
    lambda a, b: 0.5 * (0.25 * a), lambda a, b: 1e200 * (1e-200 * a),
    lambda a, b: 2.0 + (3.0 + a), lambda a, b: 2.0 * a + 3.0 * a, lambda a, b: 2.0 * a - 3.0 * a,
    lambda a, b: a + 3.0 * a, lambda a, b: a + -b, lambda a, b: a - -b, lambda a, b: -(a - b),
    lambda a, b: -a - b, lambda a, b: a * -b, lambda a, b: -(3.0 * a), lambda a, b: sg.negative(-a),
    lambda a, b: (a + b) * (b + a), lambda a, b: sg.maximum(a, b) - sg.maximum(b, a),
    lambda a, b: sg.minimum(b, a) + sg.minimum(a, b), lambda a, b: sg.relu(a),
    lambda a, b: sg.sum(a) * 1.0, lambda a, b: sg.mean(a), lambda a, b: a * b - a * b,
    lambda a, b: (a + b) * (a - b) - a * a + b * b,
]
# +-1e5 makes exp overflow and underflow; 1e-300 is a number that 1 + x rounds away (the
# log1p/expm1 rewrites are opt-in for that). Not fed: a huge number (cos(6e200) rounded one
# way or another is any number in [-1, 1]).
SPECIAL_VALUES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e5, -1e5, 1e-300]

raw_programs = st.builds(
    Program,
    inputs=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3),
    steps=st.lists(st.tuples(st.integers(0, len(CASES) + len(PROBES) - 1),
                             st.lists(st.integers(0, 15), min_size=2, max_size=2),
                             st.just(0)),
                   min_size=1, max_size=MAX_STEPS),
    seed=st.integers(0, 2**16),
)


def build_raw(program: Program) -> tuple[list[sg.Node], list[sg.Node]]:
    """The program's inputs and step results, nothing squashed into a domain."""
    xs = [sg.var(f"x{k}", shape=s) for k, s in enumerate(program.inputs)]
    pool, results = list(xs), []
    for n, (c, picks, _) in enumerate(program.steps):
        picked = [pool[p % len(pool)] for p in picks]
        picked = [p if p.dtype.kind == "f" else sg.cast(p, "float64") for p in picked]
        if c < len(CASES):
            specs = CASES[c][2].inputs
            out = CASES[c][2].build(*[_fit(picked[k % 2], shape, low, n * 7 + k)
                                      for k, (shape, low, _) in enumerate(specs)])
        else:
            a, b = picked
            if broadcast_shapes(a.shape, b.shape) is None:
                b = _fit(b, a.shape, 0.0, n)
            out = PROBES[c - len(CASES)](a, b)
        pool.append(out)
        results.append(out)
    return xs, results


def _special_feed(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Ordinary numbers, about half of them replaced by one of ``SPECIAL_VALUES``."""
    values = rng.uniform(-3.0, 3.0, size=shape)
    special = rng.random(shape) < 0.5
    picks = np.asarray(SPECIAL_VALUES)[rng.integers(len(SPECIAL_VALUES), size=shape)]
    return np.where(special, picks, values)


@PROFILE
@given(program=raw_programs)
def test_random_graph_compile_equals_evaluate_on_nan_inf_and_signed_zero(program: Program):
    """Every step result and the objective's gradient, compiled with the default flags,
    give what evaluate gives, NaN, inf and the sign of zero included."""
    rng = np.random.default_rng(program.seed)
    with sg.Graph():
        xs, results = build_raw(program)
        floats = [r for r in results if r.dtype.kind == "f"]
        outputs = results + (sg.grad(_objective(xs, floats), xs) if floats else [])
        f = sg.compile(outputs, xs)
        for _ in range(3):
            feeds = {x: _special_feed(rng, x.shape) for x in xs}
            try:
                expected = sg.evaluate(outputs, feeds)
            except sg.SymgraphError:
                with pytest.raises(sg.SymgraphError):
                    f(*[feeds[x] for x in xs])
                continue
            got = f(*[feeds[x] for x in xs])
            # "To rounding" is relative to the magnitudes the graph computes with: a sum
            # that cancels to 0 in one order and to an ulp of 1e5 in another (the exact
            # like-term collection reorders sums) is rounding, not a wrong number.
            scale = max([1.0] + [float(np.abs(v[np.isfinite(v)]).max()) for v in expected
                                 if v.dtype.kind == "f" and np.isfinite(v).any()])
            for k, (c, e) in enumerate(zip(got, expected)):
                assert_same_values(c, e, atol=1e-12 * scale, what=f"output {k} ({outputs[k].op})")

"""The numba tape's row order and its SINCOS row (``symgraph.backends.numba_order``).

Oracle: sg.evaluate of the same outputs (NumPy op by op), compared as compile must equal
evaluate (NaN where it has NaN, the same infinities and signs of zero); math.sin/math.cos
for the chains; the tape's own rows for what was merged and in what order.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from chains import nested
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg
from symgraph.backends import numba_tape

pytest.importorskip("numba")

SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.0, -3.7, 1e300, 5e-324, 1e22]


def _ops(f) -> list[int]:
    return f.tape[:, 0].tolist()


def _check(f, outs, xs, points) -> None:
    for point in points:
        want = sg.evaluate(outs, dict(zip(xs, point)))
        for k, (got, w) in enumerate(zip(f(*point), want)):
            assert_same_values(got, w, what=f"output {k} at {point}")


def test_sin_and_cos_of_one_operand_are_one_row_equal_to_evaluate_at_specials():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        u = x * y
        outs = [sg.sin(u) + y, sg.cos(u) * x]
        f = sg.compile(outs, [x, y], backend="numba")
        assert f.backend == "numba"
        assert _ops(f).count(numba_tape.SINCOS) == 1 and numba_tape.SIN not in _ops(f)
        assert "= sin(w" in f.source and "), cos(w" in f.source  # both on one line
        # sin and cos of +-inf and NaN are NaN, as NumPy has them; signed zeros kept
        _check(f, outs, [x, y], itertools.product(SPECIALS, repeat=2))
        got = f(np.inf, 1.0)
        assert np.isnan(got[0]) and np.isnan(got[1])


def test_sincos_with_both_values_outputs_and_one_never_read_again():
    with sg.Graph():
        x = sg.var("x")
        s, c = sg.sin(x), sg.cos(x)
        # both outputs: two slots, neither freed; then the cosine alone as output, its
        # sine read by nothing but the output sum; then the sine alone kept; then a
        # cosine made before the sine of its operand (the sine's row computes it first)
        for outs in ([s, c], [c, s + 1.0], [s, c * 0.0 + 2.0], [sg.cos(x * 2.0) * s,
                                                                   sg.sin(x * 2.0)]):
            f = sg.compile(outs, [x], backend="numba")
            assert f.backend == "numba" and numba_tape.SINCOS in _ops(f)
            _check(f, outs, [x], [[v] for v in SPECIALS])
        f = sg.compile([s, c], [x], backend="numba", python_scalars=True)
        assert f(0.3) == [math.sin(0.3), math.cos(0.3)]


def test_sincos_outputs_reuse_slots_freed_at_their_row_and_never_each_other():
    # a chain of sin(cos(..)) pairs over one operand: each row's operand dies at it, so
    # one of its outputs takes the operand's slot; the other must not be that slot
    depth = 200
    with sg.Graph():
        w = sg.var("w")
        z = nested(lambda u: sg.sin(u) * sg.cos(u), w, depth)
        f = sg.compile(z, [w], backend="numba", python_scalars=True)
        rows = f.tape
        sc = rows[rows[:, 0] == numba_tape.SINCOS]
        assert len(sc) == depth and (sc[:, 1] != sc[:, 4]).all()
        assert f.work_size <= 6  # slots reused: a few live at once, not 2 per level
        v = 0.7
        for _ in range(depth):
            v = math.sin(v) * math.cos(v)
        assert f(0.7) == v
        g = sg.grad(z, w)
        h = sg.compile([g], [w], backend="numba")
        _check(h, [g], [w], [[0.7], [np.nan], [np.inf], [-0.0], [1e300]])


def test_gradient_of_a_sine_chain_uses_sincos_rows_and_equals_the_hand_loop():
    depth = 2000
    with sg.Graph():
        w = sg.var("w")
        z = nested(sg.sin, w, depth)
        dz = sg.grad(z, w)
        f = sg.compile(dz, [w], backend="numba", python_scalars=True)
        assert _ops(f).count(numba_tape.SINCOS) >= depth - 1
        d, v = 1.0, 0.5
        for _ in range(depth):
            d *= math.cos(v)
            v = math.sin(v)
        assert f(0.5) == pytest.approx(d, rel=1e-12)
        g = sg.compile([dz], [w], backend="numba")
        _check(g, [dz], [w], [[0.5], [np.nan], [np.inf], [-np.inf], [0.0]])


def _dag(n_ops: int, seed: int):
    rng = random.Random(seed)
    xs = [sg.var(f"x{i}") for i in range(6)]
    values = list(xs)
    for _ in range(n_ops):
        u = values[rng.randrange(max(0, len(values) - 8), len(values))]
        v = values[rng.randrange(len(values))]
        values.append([u + v, u * v, u - v, sg.sin(u), sg.cos(u), sg.exp(-(u * u)),
                       sg.tanh(u), v - u * u, -u * v][rng.randrange(9)])
    return xs, values[-6:]


@pytest.mark.parametrize("seed", range(4))
def test_reordered_rows_of_random_graphs_and_gradients_equal_evaluate(seed):
    # the rows run alike opcodes together, in an order of their own: same values
    rng = np.random.default_rng(seed)
    with sg.Graph():
        xs, ys = _dag(400, seed)
        total = ys[0]
        for y in ys[1:]:
            total = total + y
        outs = [*ys, *sg.grad(total, xs)]
        f = sg.compile(outs, xs, backend="numba")
        assert f.backend == "numba"
        points = [rng.uniform(-2, 2, 6).tolist() for _ in range(3)]
        points.append([np.nan, np.inf, -0.0, 0.0, 1.0, -1.0])
        _check(f, outs, xs, points)
        # rows with one opcode follow each other: fewer switches than in the plan's order
        plan = f._plan
        ops = np.array(_ops(f))
        steps = np.array([numba_tape.step_code(plan.nodes[s]) for s in plan.steps])
        assert (ops[1:] != ops[:-1]).sum() < 0.8 * (steps[1:] != steps[:-1]).sum()


def test_source_lists_every_row_once_in_the_order_run():
    with sg.Graph():
        x, y = sg.var("x"), sg.var("y")
        outs = [sg.cos(x) * y + sg.sin(x), x * y + y, -(x * y)]
        f = sg.compile(outs, [x, y], backend="numba")
        body = [line for line in f.source.splitlines()
                if "input" not in line and not line.startswith("return")]
        assert len(body) == f.tape.shape[0]
        outs_written = [int(line.split(" = ")[0].split(",")[0][1:]) for line in body]
        assert outs_written == f.tape[:, 1].tolist()
        _check(f, outs, [x, y], itertools.product(SPECIALS[:6], repeat=2))

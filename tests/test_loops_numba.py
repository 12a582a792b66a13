"""Loops and branches on the numba backend (issue 15 on issue 16's tape): every loop
compiles, and equals sg.evaluate (NaN, inf and signed zeros included).

Oracle: sg.evaluate of the same outputs (the loop run step by step by the python-compiled
body), the same computation unrolled in symgraph, and finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from loopcases import rk4_step
from test_compile_matches_evaluate import assert_same_values

import symgraph as sg
from symgraph.loops import cond, fori_loop, scan, while_loop

pytest.importorskip("numba")

SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300]


def pendulum_step(state, g, c, dt):
    """One RK4 step of th'' = -g sin(th) - c th' (scalar closures g, c)."""
    return rk4_step(state, lambda th, om: -g * sg.sin(th) - c * om, dt)


def same_as_evaluate(outs, inputs, values, rtol=1e-9, atol=1e-12, native=None, **options):
    """Compile ``outs`` on numba, call it at ``values`` and compare with sg.evaluate;
    ``native``: whether the loops must run on the tape (else through the python backend)."""
    f = sg.compile(outs, inputs, backend="numba", **options)
    if native is not None:
        assert f.backend == ("numba" if native else "python")
    got = f(*values)
    want = sg.evaluate(outs, dict(zip(inputs, values)))
    for k, (a, b) in enumerate(zip(got, want)):
        assert_same_values(a, b, rtol=rtol, atol=atol, what=f"output {k} at {values}")
    return f, got


def pendulum(steps, dt=0.01, checkpoint=None, inputs=None):
    g, c, th0, om0 = inputs or (sg.var("g"), sg.var("c"), sg.var("th0"), sg.var("om0"))
    th, om = fori_loop(0, steps, lambda i, s: pendulum_step(s, g, c, dt), (th0, om0),
                       checkpoint=checkpoint)
    return [g, c, th0, om0], th, om


def test_rk4_pendulum_value_gradient_and_second_order_equal_evaluate(graph):
    inputs, th, om = pendulum(50)
    loss = th * th + 0.5 * om
    grads = sg.grad(loss, inputs)
    second = sg.grad(grads[2], inputs)  # d/d(all) of dloss/dth0: a scan of a reverse scan
    outs = [loss, th, om, *grads, *second]
    at = [9.81, 0.3, 1.0, -0.5]
    f, got = same_as_evaluate(outs, inputs, at, native=True)
    assert "loop_down" in f.source and "loop_up" in f.source  # the reverse sweep counts down
    # the loop unrolled in symgraph, and finite differences, agree with both
    state = tuple(inputs[2:])
    for _ in range(50):
        state = pendulum_step(state, inputs[0], inputs[1], 0.01)
    ref = state[0] * state[0] + 0.5 * state[1]
    want = sg.evaluate([ref, *sg.grad(ref, inputs)], dict(zip(inputs, at)))
    for a, b in zip([got[0], *got[3:7]], want):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    assert sg.check_grad(loss, inputs, dict(zip(inputs, at)), order=2) < 1e-5


@pytest.mark.parametrize("special", SPECIALS)
def test_nan_inf_and_signed_zero_inputs_flow_through_the_loop_as_in_evaluate(graph, special):
    inputs, th, om = pendulum(5)
    outs = [th, om, *sg.grad(th, inputs)]
    for k in range(4):
        at = [9.81, 0.3, 1.0, -0.5]
        at[k] = special
        same_as_evaluate(outs, inputs, at, native=True)


def test_scan_over_xs_with_stacked_outputs_and_its_reverse_gradient(graph):
    a, xs = sg.var("a"), sg.var("xs", shape=(7,))
    total, ys = scan(lambda c, x: (sg.sin(c) * a + x, c * x), sg.const(0.25), xs)
    loss = total + sg.sum(ys * ys)
    outs = [total, ys, loss, *sg.grad(loss, [a, xs])]
    rng = np.random.default_rng(7)
    values = [1.3, rng.normal(size=7)]
    same_as_evaluate(outs, [a, xs], values, native=False)  # sum(ys * ys): an array op
    bad = values[1].copy()
    bad[3] = np.nan
    same_as_evaluate(outs, [a, xs], [1.3, bad])
    # the same with the sum of squares as a second scan: every node on the tape
    squares, _ = scan(lambda c, y: (c + y * y, None), sg.const(0.0), ys)
    loss = total + squares
    outs = [total, ys, loss, *sg.grad(loss, [a, xs]), *sg.grad(sg.grad(loss, a), [a, xs])]
    for v in (values, [1.3, bad], [np.inf, values[1]], [-0.0, -0.0 * values[1]]):
        f, got = same_as_evaluate(outs, [a, xs], v, native=True)
        assert got[1].shape == (7,) and got[4].shape == (7,)
    # a loop of one step and of none
    for n in (0, 1):
        y = fori_loop(0, n, lambda i, c: c * a + i, a)
        same_as_evaluate([y, sg.grad(y, a)], [a], [1.5], native=True)


def test_carries_that_swap_and_python_scalars(graph):
    a, b = sg.var("a"), sg.var("b")
    (p, q), ys = scan(lambda c, _: ((c[1], c[0] * a), c[0] - c[1]), (a, b), length=5)
    outs = [p, q, ys, *sg.grad(p + q, [a, b])]
    same_as_evaluate(outs, [a, b], [1.5, -2.0], native=True)
    f = sg.compile([p, q], [a, b], backend="numba", python_scalars=True, trust_input=True)
    assert f(1.5, -2.0) == [float(v) for v in sg.evaluate([p, q], {a: 1.5, b: -2.0})]


@pytest.mark.parametrize("checkpoint", [1, 4, 7])
def test_checkpointed_loops_equal_evaluate_and_the_plain_loop(graph, checkpoint):
    inputs, th, _ = pendulum(30, checkpoint=checkpoint)
    grads = sg.grad(th, inputs)
    at = [9.81, 0.3, 1.0, -0.5]
    _, got = same_as_evaluate([th, *grads], inputs, at, native=True)
    _, plain, _ = pendulum(30, inputs=inputs)
    want = sg.evaluate([plain, *sg.grad(plain, inputs)], dict(zip(inputs, at)))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_cond_and_while_loop_run_on_the_tape(graph):
    x = sg.var("x")
    y = cond(x > 0, sg.sqrt, lambda v: -v, x)
    z = while_loop(lambda c: c < 100, lambda c: c * (1.5 + x * x), sg.const(1.0))
    outs = [y, sg.grad(y, x), z]
    for v in (-4.0, 4.0, 0.0, -0.0, 1e-300):
        same_as_evaluate(outs, [x], [v], native=True)
    for v in (np.nan, np.inf, -np.inf):  # (the while loop would not end at NaN)
        same_as_evaluate([y, sg.grad(y, x)], [x], [v], native=True)
    # the branch that is not taken does not run: its log of a negative is never computed
    w = cond(x > 0, sg.log, lambda v: v * v, x)
    f, _ = same_as_evaluate([w, sg.grad(w, x)], [x], [-2.0], native=True)


def test_a_cond_inside_a_scan_and_a_while_loop_that_swaps(graph):
    x = sg.var("x")
    # a piecewise step inside a loop, differentiated through the loop
    h = fori_loop(0, 20, lambda i, c: cond(c > 1.0, lambda v: v * 0.5,
                                           lambda v: v * x + 0.1, c), x)
    (a, b) = while_loop(lambda c: c[0] < 50.0, lambda c: (c[1] + c[0], c[0]), (x, x * 0.5))
    outs = [h, sg.grad(h, x), a, b]
    for v in (0.9, 1.3, 2.5):  # (at 0 the while loop would not end, in evaluate too)
        same_as_evaluate(outs, [x], [v], native=True)
    same_as_evaluate([h, sg.grad(h, x)], [x], [np.nan], native=True)


def test_a_loop_over_array_carries_runs_and_equals_evaluate(graph, rng):
    W, h0 = sg.var("W", shape=(3, 3)), sg.var("h0", shape=(3,))
    h, _ = scan(lambda h, _: (sg.tanh(W @ h), None), h0, length=4)
    loss = sg.sum(h * h)
    same_as_evaluate([loss, *sg.grad(loss, [W, h0])], [W, h0],
                     [rng.normal(size=(3, 3)), rng.normal(size=3)])


def test_loops_the_tape_cannot_hold_run_through_python_and_equal_evaluate(graph):
    x, p, k = sg.var("x"), sg.var("p", shape=(2,)), sg.var("k", dtype="int64")
    # an integer carry (integer arithmetic is NumPy's), a float32 carry, an array closure
    n, _ = scan(lambda c, _: (c * k + 3, None), k, length=4)
    h, _ = scan(lambda c, _: (c * sg.cast(x, "float32"), None), sg.cast(x, "float32"),
                length=3)
    z = fori_loop(0, 4, lambda i, c: c * p[0] + p[1], x)
    for outs, inputs, values in (
            ([sg.cast(n, "float64") * x], [x, k], [2.0, 3]),
            ([sg.cast(h, "float64"), sg.grad(sg.cast(h, "float64"), x)], [x], [1.5]),
            ([z, sg.grad(z, x)], [x, p], [0.5, np.array([1.5, -2.0])])):
        same_as_evaluate(outs, inputs, values, native=False)


def test_a_boolean_carry_and_a_where_in_the_body_run_on_the_tape(graph):
    x = sg.var("x")
    (v, flag), ys = scan(lambda c, _: ((sg.where(c[1], c[0] * x, c[0] - 1.0), c[0] < 3.0),
                                       c[0]), (x, x > 0), length=6)
    outs = [v, flag, ys, sg.grad(v, x)]
    for at in (0.7, -0.7, np.nan, np.inf, -0.0):
        f, got = same_as_evaluate(outs, [x], [at], native=True)
        assert got[1].dtype == bool
    # a body holding both zeros keeps them apart (the signs reach the stacked output)
    _, zeros = scan(lambda c, _: (c + 1.0, sg.where(c > 1.5, 0.0, -0.0) * 1.0), x, length=4)
    f, got = same_as_evaluate([zeros], [x], [0.0], native=True)
    assert np.signbit(got[0]).tolist() == [True, True, False, False]


def test_auto_counts_a_loops_body_once_per_step(graph):
    """backend="auto" picks the tape for a loop that runs many steps a call, though its
    outer graph is a handful of nodes, and python for a short loop."""
    from symgraph.backends.numba_tape import AUTO_MIN_STEPS
    inputs, th, om = pendulum(AUTO_MIN_STEPS)  # ~30 body steps, AUTO_MIN_STEPS times
    outs = [th, *sg.grad(th, inputs)]
    f = sg.compile(outs, inputs, backend="auto")
    assert f.backend == "numba"
    values = [9.81, 0.1, 0.5, 0.0]
    want = sg.evaluate(outs, dict(zip(inputs, values)))
    for a, b in zip(f(*values), want):
        assert_same_values(a, b, rtol=1e-12, atol=1e-14, what="auto")
    x = inputs[2]
    assert sg.compile([fori_loop(0, 3, lambda i, c: c * 2.0, x)], [x], backend="auto").backend \
        == "python"


# --- new carries written in place, sin and cos of one value one row --------------------------


def same_everywhere(outs, inputs, values, native=True):
    """numba equals sg.evaluate (same_as_evaluate) and the python backend, at ``values``."""
    f, got = same_as_evaluate(outs, inputs, values, rtol=1e-12, atol=1e-14, native=native)
    py = sg.compile(outs, inputs, backend="python")(*values)
    for k, (a, b) in enumerate(zip(got, py)):
        assert_same_values(a, b, rtol=1e-12, atol=1e-14, what=f"python, output {k}")
    return f, got


def loop_bodies(f):
    """Each loop's rows (op names) from its first row to its loop row, in the tape's order."""
    rows = [line.split(": ", 1)[1] for line in f.source.splitlines() if ": w" in line]
    parsed = [(text.split(" = ")[1].split("(")[0], int(text.rstrip(")").rsplit(", ", 1)[1]))
              for text in rows]
    return [[op for op, _ in parsed[c:t + 1]] for t, (op, c) in enumerate(parsed)
            if op in ("loop_up", "loop_down")]


def test_an_rk4_steps_new_state_is_written_in_place_forward_and_backward(graph):
    inputs, th, om = pendulum(20)
    loss = th * th + 0.5 * om
    outs = [loss, th, om, *sg.grad(loss, inputs)]
    for at in ([9.81, 0.3, 1.0, -0.5], [9.81, 0.3, -0.0, 0.0], [9.81, np.inf, 1.0, 0.5],
               [np.nan, 0.3, 1.0, 0.5], [-9.81, 0.3, 1e300, -1e300]):
        f, _ = same_everywhere(outs, inputs, at)
    forward, backward = loop_bodies(f)
    # no copy row in either body: each new carry is written by the row computing it
    assert "copy" not in forward and "copy" not in backward, f.source
    assert forward.count("store") == 2 and backward.count("load") == 2
    # the reverse body recomputes each stage's sine and needs its cosine: one row each
    assert backward.count("sincos") == 4 and "cos_mul" not in backward, f.source


CARRY_BODIES = {
    # (c0, c1) -> (new c0, new c1), ys (the per-step result)
    "swap": lambda c, a: ((c[1], c[0]), c[0] - c[1]),
    "swap_computed": lambda c, a: ((c[1] * a, c[0] + a), c[1]),
    "pass_through": lambda c, a: ((c[0], sg.sin(c[0]) * c[1] + a), c[0] * c[1]),
    "same_new_value": lambda c, a: ((c[0] * c[1] + a, c[0] * c[1] + a), c[0]),
    # the new c0 is read after it is made, by a step also reading the old c0
    "read_after": lambda c, a: (((c[0] + a), (c[0] + a) * c[0] + c[1]), c[1]),
    "copy_reads_other": lambda c, a: ((sg.sin(c[0]) * a, c[0]), c[0] + c[1]),
    "ys_old_carry": lambda c, a: ((c[0] * a, c[1] + c[0]), c[0]),
    "ys_new_carry": lambda c, a: ((c[0] * a + c[1], c[1] - c[0]), c[0] * a + c[1]),
    "constant_and_closure": lambda c, a: ((sg.const(0.5), a), c[0] * c[1] + a),
    "closure_then_swap": lambda c, a: ((a * c[1], c[0]), c[0] * c[1]),
}


@pytest.mark.parametrize("name", sorted(CARRY_BODIES))
def test_carries_in_place_or_copied_equal_evaluate_and_python(graph, name):
    a, x0, x1 = sg.var("a"), sg.var("x0"), sg.var("x1")
    step = CARRY_BODIES[name]
    (p, q), ys = scan(lambda c, _: step(c, a), (x0, x1 * 1.0), length=6)
    sines, _ = scan(lambda c, y: (c + sg.sin(y), None), sg.const(0.0), ys)
    loss = p * 1.5 + q + sines
    outs = [p, q, ys, *sg.grad(loss, [a, x0, x1])]
    for at in ([0.7, 1.3, -0.4], [1.1, -0.0, 0.0], [np.nan, 1.0, 2.0], [0.9, np.inf, -1.0]):
        same_everywhere(outs, [a, x0, x1], at)
    # the same body in a while loop (no saved carries; the test reads the carries)
    (u, v, n) = while_loop(lambda c: sg.maximum(c[2] - 5.0, c[0] * c[0] + c[1] * c[1] - 50.0) < 0.0,
                           lambda c: (*step(c[:2], a)[0], c[2] + 1.0), (x0, x1, sg.const(0.0)))
    for at in ([0.7, 1.3, -0.4], [1.1, -0.0, 0.5], [np.nan, 1.0, 0.5]):
        same_everywhere([u, v, n], [a, x0, x1], at)


def test_a_carry_read_after_its_new_value_is_made_keeps_its_copy(graph):
    """(c0 + a, (c0 + a) * c0 + c1): the new c0 is read by another step (so it is not
    moved last) that also reads the old c0: writing it in place would be wrong."""
    a, x0, x1 = sg.var("a"), sg.var("x0"), sg.var("x1")
    (p, q), _ = scan(lambda c, _: (((c[0] + a), (c[0] + a) * c[0] + c[1]), None), (x0, x1),
                     length=4)
    f, got = same_everywhere([p, q], [a, x0, x1], [0.5, 1.0, 2.0])
    c0, c1 = 1.0, 2.0
    for _ in range(4):
        c0, c1 = c0 + 0.5, (c0 + 0.5) * c0 + c1
    assert got[0] == c0 and got[1] == c1


def test_nested_and_checkpointed_loops_write_carries_in_place(graph):
    x, y = sg.var("x"), sg.var("y")
    def inner(c):
        return fori_loop(0, 3, lambda j, d: (d[1] * x, d[0] + sg.sin(d[1])), c)

    outer = fori_loop(0, 5, lambda i, c: inner((c[0] * 0.5 + y, c[1])), (x, y))
    loss = outer[0] + outer[1] * outer[1]
    outs = [*outer, *sg.grad(loss, [x, y])]
    for at in ([0.4, -0.3], [0.0, -0.0], [np.inf, 0.3], [0.4, np.nan]):
        f, _ = same_everywhere(outs, [x, y], at)
    inputs, th, _ = pendulum(12, checkpoint=4)
    outs = [th, *sg.grad(th, inputs)]
    f, got = same_everywhere(outs, inputs, [9.81, 0.3, 1.0, -0.5])
    _, plain, _ = pendulum(12, inputs=inputs)
    want = sg.evaluate([plain, *sg.grad(plain, inputs)],
                       dict(zip(inputs, [9.81, 0.3, 1.0, -0.5])))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # the innermost bodies (scalars only) copy nothing
    assert any(body.count("loop_up") + body.count("loop_down") == 1 and "copy" not in body
               for body in loop_bodies(f)), f.source


@pytest.mark.parametrize("special", SPECIALS + [np.pi, -np.pi / 2])
def test_sin_and_cos_of_one_value_in_a_body_are_one_row(graph, special):
    a, xs = sg.var("a"), sg.var("xs", shape=(5,))
    total, ys = scan(lambda c, x: (sg.sin(c + x) * a + sg.cos(c + x), sg.cos(x) - sg.sin(x)),
                     sg.const(0.25), xs)
    squares, _ = scan(lambda c, y: (c + y * y, None), sg.const(0.0), ys)
    loss = total + squares
    outs = [total, ys, loss, *sg.grad(loss, [a, xs])]
    values = np.array([0.3, -1.2, 2.0, 0.0, 5.5])
    values[1] = special
    for at in ([1.3, values], [special, values[::-1].copy()]):
        f, _ = same_everywhere(outs, [a, xs], at)
    assert "sincos" in f.source


def test_in_place_leaves_rows_that_read_the_old_carry_and_bodies_that_jump():
    from symgraph.backends.numba_carries import in_place
    from symgraph.backends.numba_tape import ADD, LOOP_UP, MUL, STORE

    rows = [(MUL, 5, 1, 2, 0), (ADD, 6, 1, 1, 0)]  # w5 = w1 * w2 (new w1), w6 = w1 + w1
    assert in_place(rows, 0, [1, 2], [5, 6], [1, 1]) == [5, 2]  # w1 is read after w5
    assert rows == [(MUL, 5, 1, 2, 0), (ADD, 2, 1, 1, 0)]
    rows = [(MUL, 5, 1, 2, 0), (STORE, 9, 3, 1, 1)]  # the step's result is the old w1
    assert in_place(rows, 0, [1], [5], [1]) == [5]
    rows = [(MUL, 5, 1, 2, 0), (STORE, 9, 3, 5, 1)]  # ... or the new one: read in place
    assert in_place(rows, 0, [1], [5], [1]) == [1] and rows[1] == (STORE, 9, 3, 1, 1)
    rows = [(MUL, 5, 1, 2, 0), (LOOP_UP, 3, 3, 4, 0)]  # a nested loop: row order is not time
    assert in_place(rows, 0, [1], [5], [1]) == [5] and rows[0] == (MUL, 5, 1, 2, 0)


def test_carries_last_moves_a_new_carry_without_breaking_a_fused_pair():
    from symgraph.backends.numba_carries import carries_last
    from symgraph.backends.numba_tape import ADD, MUL, SUB

    one = lambda *v: np.array(v, np.int32)  # noqa: E731
    # slot 0 the carry, 1 a closure: 2 = 0 * 1, 3 = 1 - 2 (one mul_sub row), 4 = 0 + 3 the
    # new carry, 5 = 0 + 1 a step's result
    codes, lens, args = one(MUL, SUB, ADD, ADD), one(2, 2, 2, 2), one(0, 1, 1, 2, 0, 3, 0, 1)
    last, count = one(-1, -1, 1, 2, -1, -1), one(3, 3, 1, 1, 0, 0)
    out = carries_last(codes, lens, args, one(2, 3, 4, 5), one(-1, -1, -1, -1), last, count, [4])
    assert out[3].tolist() == [2, 3, 5, 4]  # the add alone moves: mul and sub stay one row
    assert out[0].tolist() == [MUL, SUB, ADD, ADD] and out[5][[2, 3]].tolist() == [1, 3]
    # a row fused into the new carry's row moves with it: 2 = 0 * 1, 3 = 2 * 1 the new
    # carry (one mul_mul row), 4 = 0 + 1
    out = carries_last(one(MUL, MUL, ADD), one(2, 2, 2), one(0, 1, 2, 1, 0, 1), one(2, 3, 4),
                       one(-1, -1, -1), one(-1, -1, 1, -1, -1), one(2, 3, 1, 0, 0), [3])
    assert out[3].tolist() == [4, 2, 3] and out[2].tolist() == [0, 1, 0, 1, 2, 1]


def test_bodies_without_a_step_swap_or_pass_their_carries(graph):
    a, b = sg.var("a"), sg.var("b")
    (p, q), _ = scan(lambda c, _: ((c[1], c[0]), None), (a, b), length=3)
    r = fori_loop(0, 4, lambda i, c: c, a)
    outs = [p, q, r, *sg.grad(p * 2.0 + q + r * r, [a, b])]
    _, got = same_everywhere(outs, [a, b], [1.5, -2.0])
    assert [float(v) for v in got] == [-2.0, 1.5, 1.5, 4.0, 2.0]

"""The python backend's speed work (issue 16) changes no value: late array steps, arrays
freed after a scalar reads them, the argument checks' fast path, scatter and scatter_add
written in one pass each. Every result equals evaluate to the bit (NaN, inf, -0.0)."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import symgraph as sg
from symgraph.backends.python_forms import add_at, pieces, scatter_into
from symgraph.backends.python_schedule import sink


def _bits(got, want):
    """Equal to the bit: dtype, shape, NaN places, signs of zeros, every value (a NaN's
    sign is NumPy's loops' choice: not compared)."""
    got, want = np.asarray(got), np.asarray(want)
    assert (got.dtype, got.shape) == (want.dtype, want.shape)
    assert np.array_equal(got, want, equal_nan=True)
    number = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[number]), np.signbit(want[number]))


def _mlp(rng, lam=1e-4):
    """A two-layer net with weight decay; its loss and gradients, inputs and values."""
    shapes = {"W1": (12, 8), "b1": (8,), "W2": (8, 3), "X": (5, 12), "Y": (5, 3)}
    ins = {n: sg.var(n, shape=s) for n, s in shapes.items()}
    W1, b1, W2, X, Y = ins.values()
    h = sg.tanh(X @ W1 + b1)
    loss = sg.sum(sg.square(h @ W2 - Y)) + lam * (sg.sum(sg.square(W1)) + sg.sum(sg.square(W2)))
    outs = [loss, *sg.grad(loss, [W1, b1, W2])]
    values = [rng.standard_normal(s) for s in shapes.values()]
    return outs, list(ins.values()), values


def test_weight_decay_terms_run_after_the_backward_matmuls(graph, rng):
    outs, ins, values = _mlp(rng)
    f = sg.compile(outs, ins)
    for got, want in zip(f(*values), sg.evaluate(outs, dict(zip(ins, values)))):
        _bits(got, want)
    lines = [line.strip() for line in f.source.splitlines()]
    matmuls = [k for k, line in enumerate(lines) if "_np_matmul(" in line]
    # 2*W1 (W1 is x0) is computed after the last matmul: it does not live through them
    decay = next(k for k, line in enumerate(lines) if "_np_multiply(" in line and "x0)" in line
                 and "square" not in line)
    assert decay > matmuls[-1]
    # sum(square(W)) of the loss frees its square before the next statement
    square = next(k for k, line in enumerate(lines) if "_np_square(x0)" in line)
    name = lines[square].split(" = ")[0]
    assert lines[square + 2] == f"del {name}"


def test_sink_keeps_operands_before_readers_and_moves_only_what_it_may():
    # slots 0, 1 inputs; 2 = a(0), 3 = b(2): late (inputs only, read by one step);
    # 4 = c(1), 5 = d(4): not movable; 6 = e(3, 5), 7 = f(4): outputs nobody reads
    args = [[], [], [0], [2], [1], [4], [3, 5], [4]]
    steps = [2, 3, 4, 5, 6, 7]
    readers = [[0], [2], [1], [4], [3, 5], [4], [], []]
    movable = [False, False, True, True, False, False, True, True]
    kept = [True, True] + [False] * 6
    order, new = sink(steps, args, readers, movable, kept)
    at = {s: t for t, s in enumerate(order)}
    assert sorted(order) == steps
    for s in steps:
        assert all(at[i] < at[s] for i in args[s] if i in at)
    # a and b just before e, their one reader; f right after c, so c's value dies there
    assert order == [4, 7, 5, 2, 3, 6]
    assert new[4] == [1, 2] and new[2] == [4] and new[3] == [5] and new[0] == [3]
    # nothing to move: the plan's order
    assert sink(steps, args, readers, [False] * 8, kept)[0] == steps


def test_fast_argument_checks_stay_complete(graph):
    x = sg.var("x", shape=(3,))
    k = sg.var("k", shape=(), dtype="int64")
    y = sg.exp(x) * k
    f = sg.compile([y], [x, k])
    want = sg.evaluate([y], {x: np.arange(3.0), k: 2})[0]
    for good in (np.arange(3.0), [0.0, 1.0, 2.0], np.arange(3, dtype=np.float32),
                 np.arange(6.0)[::2] / np.array([1.0, 2.0, 2.0]) * np.array([1, 1, 1]),
                 np.arange(3.0).astype(">f8"), np.arange(3)):
        _bits(f(good, 2)[0], want)
    with pytest.raises(sg.ShapeError, match="x"):
        f(np.zeros(4), 2)
    with pytest.raises(sg.ShapeError, match="x"):
        f(np.zeros((3, 1)), 2)
    with pytest.raises(sg.SymgraphError, match="x"):
        f(np.array(["a", "b", "c"]), 2)
    with pytest.raises(sg.SymgraphError, match="k"):
        f(np.zeros(3), 2.5)  # float -> int64 would round
    with pytest.raises(sg.SymgraphError, match="k"):
        f(np.zeros(3), 2**64)


def test_strided_and_read_only_arrays_pass_the_fast_path_unchanged(graph):
    x = sg.var("x", shape=(4,))
    y = sg.sin(x) + x
    f = sg.compile([y], [x])
    base = np.linspace(-1.0, 1.0, 8)
    view = base[::2]
    view.setflags(write=False)
    keep = base.copy()
    _bits(f(view)[0], sg.evaluate([y], {x: view})[0])
    assert np.array_equal(base, keep)


def _specials(rng, n):
    v = rng.standard_normal(n)
    v[::3] = -0.0
    v[1::5] = np.nan
    v[2::7] = np.inf
    return v


@pytest.mark.parametrize("cut", [slice(1, None), slice(None, -1), slice(2, 5),
                                 slice(None, None, 2)])
def test_scatter_add_in_place_keeps_signed_zeros_and_specials(graph, rng, cut):
    x = sg.var("x", shape=(9,))
    part = x[cut]
    b = sg.exp(x) * -0.0  # -0.0 where exp(x) is finite: the rest of b must become 0.0
    d = sg.grad(sg.sum(sg.square(part)), x) + b
    f = sg.compile([d], [x])
    in_place = [v for v in f.__globals__.values() if getattr(v, "func", None) is add_at]
    assert len(in_place) == 1
    for v in (rng.standard_normal(9), _specials(rng, 9), np.full(9, -0.0)):
        _bits(f(v)[0], sg.evaluate([d], {x: v})[0])


def test_scatter_writes_zeros_only_around_its_slice(graph, rng):
    x = sg.var("x", shape=(4, 5))
    d = sg.grad(sg.sum(sg.tanh(x[1:3])), x)
    f = sg.compile([d], [x])
    assert any(getattr(v, "func", None) is scatter_into for v in f.__globals__.values())
    for v in (rng.standard_normal((4, 5)), _specials(rng, 20).reshape(4, 5)):
        _bits(f(v)[0], sg.evaluate([d], {x: v})[0])
    assert pieces((4, 5), (slice(1, 3),)) == [(slice(0, 1),), (slice(3, 4),)]
    assert pieces((4, 5), (slice(None), slice(0, 5))) == []
    assert pieces((4, 5), (slice(1, 3), slice(1, 2))) is None
    assert pieces((4, 5), (1,)) is None


def test_assume_finite_scatter_add_is_still_the_sum(graph, rng):
    x = sg.var("x", shape=(6,))
    d = sg.grad(sg.sum(sg.square(x[1:])), x) + sg.cos(x)
    f = sg.compile([d], [x], assume_finite=True)
    v = rng.standard_normal(6)
    want = np.cos(v)
    want[1:] += 2 * v[1:]
    np.testing.assert_allclose(f(v)[0], want, rtol=1e-15)


def test_outputs_are_fresh_arrays_per_call_and_per_thread(graph, rng):
    outs, ins, values = _mlp(rng)
    f = sg.compile(outs, ins)
    first = f(*values)
    second = f(*values)
    for a, b in zip(first, second):
        assert a is not b and not np.shares_memory(a, b)
        _bits(a, b)
    want = [np.array(w) for w in first]
    errors: list = []

    def worker():
        for _ in range(20):
            got = f(*values)
            if not all(np.array_equal(g, w) for g, w in zip(got, want)):
                errors.append(got)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# --- runs of elementwise steps, block by block ------------------------------------------------


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 8 numbers from arrays of 16 on: the loop, its last short block and its
    buffers run on small arrays."""
    from symgraph.backends import python_blocks

    monkeypatch.setattr(python_blocks, "_BLOCK", 8)
    monkeypatch.setattr(python_blocks, "_MIN_SIZE", 16)


_UNARY = [sg.sin, sg.exp, sg.tanh, sg.square, sg.relu, sg.abs, sg.sigmoid,
          lambda a: sg.log(a * a + 0.5), lambda a: -a, lambda a: a * 2.0]
_BINARY = [sg.add, sg.subtract, sg.multiply, sg.maximum, sg.minimum, sg.divide,
           lambda a, b: a * 0.5 - b]


def _chain(rng, inputs, size, shape):
    pool = list(inputs)
    const = sg.const(np.full(shape, -0.0))
    pool.append(const * inputs[0])
    for _ in range(size):
        if rng.random() < 0.5:
            pool.append(_UNARY[rng.integers(len(_UNARY))](pool[rng.integers(len(pool))]))
        else:
            a, b = (pool[k] for k in rng.integers(len(pool), size=2))
            pool.append(_BINARY[rng.integers(len(_BINARY))](a, b))
    # outputs: the last value, one from the middle, and a sum reading the run's values
    return [pool[-1], pool[len(pool) // 2], sg.sum(pool[-2] * pool[-3])]


@pytest.mark.parametrize("shape", [(37,), (9, 5), (16,), (6, 2, 3)])
def test_blocked_runs_equal_evaluate_to_the_bit(graph, rng, small_blocks, shape):
    x, y = sg.var("x", shape=shape), sg.var("y", shape=shape)
    seen = 0
    for trial in range(12):
        outs = _chain(rng, [x, y], 14, shape)
        f = sg.compile(outs, [x, y])
        seen += "for _lo in" in f.source
        for xv, yv in ((rng.standard_normal(shape), rng.standard_normal(shape)),
                       (_specials(rng, math.prod(shape)).reshape(shape),
                        _specials(rng, math.prod(shape)).reshape(shape)[::-1].copy())):
            got = f(xv, yv)
            for g, w in zip(got, sg.evaluate(outs, {x: xv, y: yv})):
                _bits(g, w)
            again = f(xv, yv)  # buffers are per call: the first results are untouched
            for g, a in zip(got, again):
                _bits(g, a)
                assert not np.shares_memory(g, a)
    assert seen >= 8  # the runs were really written as loops


def test_blocked_run_writes_into_a_dying_array_and_frees_what_it_read(graph, rng,
                                                                       small_blocks):
    x, w = sg.var("x", shape=(20, 3)), sg.var("w", shape=(3, 3))
    m = x @ w  # a new array, dying in the run
    y = sg.tanh(m) * 2.0 + sg.square(x) - m
    f = sg.compile([y], [x, w])
    assert "for _lo in" in f.source
    xv, wv = rng.standard_normal((20, 3)), rng.standard_normal((3, 3))
    _bits(f(xv, wv)[0], sg.evaluate([y], {x: xv, w: wv})[0])
    lines = [line.strip() for line in f.source.splitlines()]
    loop = lines.index(next(line for line in lines if line.startswith("for _lo")))
    assert any(line.startswith("del ") and "_lo" not in line for line in lines[loop:])


def test_blocked_runs_stay_per_thread(graph, rng, small_blocks):
    x = sg.var("x", shape=(50,))
    y = sg.exp(sg.sin(x) * 0.5) - sg.square(x) * sg.tanh(x)
    f = sg.compile([y], [x])
    assert "for _lo in" in f.source
    values = [rng.standard_normal(50) for _ in range(4)]
    wants = [sg.evaluate([y], {x: v})[0] for v in values]
    errors: list = []

    def worker(k):
        for _ in range(200):
            if not np.array_equal(f(values[k])[0], wants[k]):
                errors.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_blocked_hvp_of_rosenbrock_equals_evaluate_and_the_analytic_product(graph, rng,
                                                                            small_blocks):
    n = 41
    x, v = sg.var("x", shape=(n,)), sg.var("v", shape=(n,))
    a, b = x[1:], x[:-1]
    f = (100 * sg.square(a - sg.square(b)) + sg.square(1 - b)).sum()
    outs = [sg.hvp(f, x, v), sg.grad(f, x)]
    fn = sg.compile(outs, [x, v])
    assert "for _lo in" in fn.source and "_u" in fn.source  # constant fills as 0-d values
    assert "_sb" in fn.source  # the run writes 200*(...) in the scatter's buffer
    assert "_ai" in fn.source  # and adds the other term into it, block by block
    # mirrored (x[i] - x[i+1]**2): the scatter's numbers would come a block after the
    # scatter_add's, which then stays after the run
    mirrored = (100 * sg.square(b - sg.square(a)) + sg.square(1 - a)).sum()
    outs_m = [sg.hvp(mirrored, x, v), sg.grad(mirrored, x)]
    fm = sg.compile(outs_m, [x, v])
    assert "_sb" in fm.source and "_ai" not in fm.source
    for xv, vv in ((rng.standard_normal(n), rng.standard_normal(n)),
                   (_specials(rng, n), _specials(rng, n)[::-1].copy())):
        for got, want in zip(fm(xv, vv), sg.evaluate(outs_m, {x: xv, v: vv})):
            _bits(got, want)
    xv, vv = rng.standard_normal(n), rng.standard_normal(n)
    for got, want in zip(fn(xv, vv), sg.evaluate(outs, {x: xv, v: vv})):
        _bits(got, want)
    xl, xr, vl, vr = xv[:-1], xv[1:], vv[:-1], vv[1:]
    hv = np.zeros(n)
    hv[:-1] = (1200 * xl * xl - 400 * xr + 2) * vl - 400 * xl * vr
    hv[1:] += 200 * vr - 400 * xl * vl
    np.testing.assert_allclose(fn(xv, vv)[0], hv, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cut", [(slice(None), slice(1, None)), (slice(2, 18),)])
def test_blocked_run_written_into_a_scatter_of_a_slice(graph, rng, small_blocks, cut):
    x = sg.var("x", shape=(20, 6))
    part = x[cut]
    y = sg.sum(sg.exp(sg.tanh(part) * 0.5 - part * part))
    d = sg.grad(y, x)
    f = sg.compile([d, y], [x])
    assert "for _lo in" in f.source and "_sb" in f.source
    for v in (rng.standard_normal((20, 6)), _specials(rng, 120).reshape(20, 6)):
        for got, want in zip(f(v), sg.evaluate([d, y], {x: v})):
            _bits(got, want)


@pytest.mark.parametrize("shape, first, second", [
    ((40,), (slice(1, None),), (slice(None, -1),)),
    ((40,), (slice(None, -1),), (slice(1, None),)),
    ((40,), (slice(3, 30),), (slice(2, 29),)),
    ((12, 4), (slice(1, None),), (slice(None, -1),)),
    ((12, 4), (slice(None), slice(1, None)), (slice(None), slice(None, -1))),
])
def test_scatter_add_of_a_run_value_done_block_by_block(graph, rng, small_blocks, shape,
                                                         first, second):
    x = sg.var("x", shape=shape)
    a, b = x[first], x[second]
    f = sg.sum(sg.square(a - sg.square(b)) * 3.0 + sg.tanh(b) * a)
    outs = [sg.grad(f, x), f]
    fn = sg.compile(outs, [x])
    assert "for _lo in" in fn.source
    for v in (rng.standard_normal(shape), _specials(rng, math.prod(shape)).reshape(shape),
              np.full(shape, -0.0)):
        for got, want in zip(fn(v), sg.evaluate(outs, {x: v})):
            _bits(got, want)



@pytest.mark.parametrize("write, add, fused", [
    ((slice(1, None),), (slice(None, -1),), True),  # each number written a block earlier
    ((slice(None, -1),), (slice(1, None),), False),  # it would be written a block later
    ((slice(2, 30),), (slice(2, 30),), True),
])
def test_scatter_add_joins_the_run_only_where_its_numbers_are_written_first(
        graph, rng, small_blocks, write, add, fused):
    from symgraph.ops.shape import scatter, scatter_add

    x = sg.var("x", shape=(41,))
    part = x[write]
    m = sg.exp(part) * 2.0 - part
    buffer = scatter(m * 3.0, part.attrs["index"], x)  # the run writes it
    y = scatter_add(buffer, sg.tanh(m) + m, x[add].attrs["index"])  # later in the run
    fn = sg.compile([y], [x])
    assert "_sb" in fn.source and ("_ai" in fn.source) == fused
    for v in (rng.standard_normal(41), _specials(rng, 41), np.full(41, -0.0)):
        _bits(fn(v)[0], sg.evaluate([y], {x: v})[0])

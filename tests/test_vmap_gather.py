"""sg.vmap through the gathers when their indices are batched (``vmap(lambda x, i: x[i])``):
``gather``, ``take``, ``take_along_axis``, ``one_hot``-like reads and ``add_at`` (the
gathers' derivative), for every mix of batched arguments, against a Python loop of
sg.evaluate over the batch; derivatives through the batched graph and of each entry;
and the backends against sg.evaluate."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.gather import add_at
from symgraph.ops.shape import _ALL

B = 3  # the batch size


def _take(mode):
    return lambda x, i: sg.take(x, i, axis=0, mode=mode)


# name: (x's entry shape, [(an index's entry shape, low, high)], function of x and indices).
# Indices are drawn from [low, high): negative ones, and repeats in most of them.
CASES = {
    "x[i]": ((5, 3), [((4,), -5, 5)], lambda x, i: x[i]),
    "x[i] 2-d": ((5, 3), [((2, 3), -5, 5)], lambda x, i: x[i]),
    "x[k] 0-d": ((5, 3), [((), -5, 5)], lambda x, k: x[k]),
    "x[i, j]": ((5, 4), [((3,), -5, 5), ((3,), -4, 4)], lambda x, i, j: x[i, j]),
    "x[i, j] broadcast": ((5, 4), [((3, 1), -5, 5), ((2,), -4, 4)], lambda x, i, j: x[i, j]),
    "x[k, i]": ((5, 4), [((), -5, 5), ((3,), -4, 4)], lambda x, k, i: x[k, i]),
    "x[:, i]": ((3, 5, 2), [((4,), -5, 5)], lambda x, i: x[:, i]),
    "x[::-1, i]": ((3, 5), [((2, 2), -5, 5)], lambda x, i: x[::-1, i]),
    "x[..., i]": ((2, 3, 5), [((4,), -5, 5)], lambda x, i: x[..., i]),
    "x[i, :, j]": ((4, 3, 5), [((2,), -4, 4), ((2,), -5, 5)], lambda x, i, j: x[i, :, j]),
    "x[i, :, j] ranks": ((4, 3, 5), [((2, 1), -4, 4), ((3,), -5, 5)],
                         lambda x, i, j: x[i, :, j]),
    "x[0, i]": ((3, 5), [((4,), -5, 5)], lambda x, i: x[0, i]),
    "x[i, :, -1]": ((4, 3, 5), [((2,), -4, 4)], lambda x, i: x[i, :, -1]),
    "x[:, 0, :, i]": ((2, 3, 4, 5), [((2,), -5, 5)], lambda x, i: x[:, 0, :, i]),
    "x[i, None]": ((5, 3), [((4,), -5, 5)], lambda x, i: x[i, None]),
    "x[None, :, i]": ((3, 5), [((2, 2), -5, 5)], lambda x, i: x[None, :, i]),
    "x[:, None, i]": ((3, 5), [((2,), -5, 5)], lambda x, i: x[:, None, i]),
    "x[i, None, j]": ((4, 5), [((3,), -4, 4), ((3,), -5, 5)], lambda x, i, j: x[i, None, j]),
    "x[i][:, j]": ((5, 4), [((3,), -5, 5), ((2,), -4, 4)], lambda x, i, j: x[i][:, j]),
    "x[i] repeated": ((4, 2), [((6,), 0, 2)], lambda x, i: x[i]),
    "take": ((2, 3), [((4,), -6, 6)], lambda x, i: sg.take(x, i)),
    "take axis=1": ((2, 5), [((2, 2), -5, 5)], lambda x, i: sg.take(x, i, axis=1)),
    "take wrap": ((5, 2), [((4,), -12, 12)], _take("wrap")),
    "take clip": ((5, 2), [((4,), -12, 12)], _take("clip")),
    "take_along_axis 0": ((4, 3), [((2, 3), -4, 4)],
                          lambda x, i: sg.take_along_axis(x, i, axis=0)),
    "take_along_axis 1": ((4, 3), [((4, 2), -3, 3)],
                          lambda x, i: sg.take_along_axis(x, i, axis=1)),
    "take_along_axis -1 broadcast": ((4, 3), [((1, 5), -3, 3)],
                                     lambda x, i: sg.take_along_axis(x, i, axis=-1)),
    "take_along_axis None": ((2, 3), [((4,), -6, 6)],
                             lambda x, i: sg.take_along_axis(x, i, axis=None)),
    "take_along_axis 3-d": ((2, 4, 3), [((2, 2, 3), -4, 4)],
                            lambda x, i: sg.take_along_axis(x, i, axis=1)),
    "eye[i] * x": ((5,), [((3,), -5, 5)], lambda x, i: sg.const(np.eye(5))[i] * x),
    "one_hot(i) * x": ((5,), [((3,), -5, 5)], lambda x, i: sg.one_hot(i, 5) * x),
    "labels' log-likelihood": ((4, 3), [((4, 1), 0, 3)],
                               lambda z, y: sg.take_along_axis(sg.nn.log_softmax(z), y, axis=-1)),
}


def _flags(case):
    """Every mix of batched arguments (x first), but none batched."""
    return [f for f in itertools.product([False, True], repeat=1 + len(CASES[case][1]))
            if any(f)]


def _values(rng, case, flags):
    xshape, specs, _ = CASES[case]
    x = rng.standard_normal((B, *xshape) if flags[0] else xshape)
    idx = [rng.integers(low, high, size=(B, *shape) if b else shape)
           for (shape, low, high), b in zip(specs, flags[1:])]
    return [x, *idx]


def _inputs(values):
    return [sg.var(f"a{k}", shape=np.shape(v), dtype="float64" if k == 0 else "int64")
            for k, v in enumerate(values)]


def _mapped(fn, nodes, flags):
    return sg.vmap(fn, in_axes=tuple(0 if b else None for b in flags))(*nodes)


def _per_entry(fn, values, flags, extra=None):
    """fn's value at each entry of the batch, by sg.evaluate of the unbatched graph, stacked
    (``extra(out, x) -> node`` in place of fn's value: a derivative)."""
    entry = [v[0] if b else v for v, b in zip(values, flags)]
    nodes = _inputs(entry)
    out = fn(*nodes)
    if extra is not None:
        out = extra(out, nodes[0])
    rows = [sg.evaluate(out, {n: v[k] if b else v for n, v, b in zip(nodes, values, flags)})
            for k in range(B)]
    return np.stack(rows)


@pytest.mark.parametrize("case", list(CASES))
def test_vmap_of_a_gather_equals_a_loop_over_the_batch(graph, rng, case):
    fn = CASES[case][2]
    for flags in _flags(case):
        values = _values(rng, case, flags)
        nodes = _inputs(values)
        out = _mapped(fn, nodes, flags)
        got = sg.evaluate(out, dict(zip(nodes, values)))
        want = _per_entry(fn, values, flags)
        assert out.shape == want.shape, flags
        np.testing.assert_array_equal(got, want, err_msg=f"{case}, batched {flags}")


@pytest.mark.parametrize("case", list(CASES))
def test_gradients_through_the_batched_gather_and_of_each_entry(graph, rng, case):
    """The derivative of the batched graph (add_at of the batched gather), and vmap of each
    entry's derivative (add_at batched: g always, the indices and ``like`` or not)."""
    fn = CASES[case][2]
    for flags in _flags(case):
        values = _values(rng, case, flags)
        nodes = _inputs(values)
        feeds = dict(zip(nodes, values))
        out = _mapped(fn, nodes, flags)
        r = rng.standard_normal(out.shape)
        dx = sg.evaluate(sg.grad(sg.sum(out * r), nodes[0]), feeds)
        # each entry's derivative, with its own r
        entry = [v[0] if b else v for v, b in zip(values, flags)]
        enodes = _inputs(entry)
        rk = sg.var("r", shape=out.shape[1:])
        de = sg.grad(sg.sum(fn(*enodes) * rk), enodes[0])
        per = np.stack([sg.evaluate(de, {rk: r[k], **{n: v[k] if b else v for n, v, b in zip(
            enodes, values, flags)}}) for k in range(B)])
        want = per if flags[0] else per.sum(0)
        np.testing.assert_allclose(dx, want, rtol=1e-13, atol=1e-15,
                                   err_msg=f"{case}, batched {flags}")

        for smooth in (False, True):  # g the same for each row, or its own
            def loss(x, *i):
                y = fn(x, *i)
                return sg.grad(sg.sum(sg.sin(y) if smooth else y), x)

            got = sg.evaluate(_mapped(loss, nodes, flags), feeds)
            np.testing.assert_allclose(got, _per_entry(loss, values, flags), rtol=1e-13,
                                       atol=1e-15, err_msg=f"{case}, batched {flags}")


@pytest.mark.parametrize("case", ["x[i]", "x[i, :, j]", "x[0, i]", "x[:, None, i]",
                                  "x[i, None, j]", "take_along_axis 1", "take wrap"])
def test_second_order_derivatives_of_the_batched_gather(graph, rng, case):
    fn = CASES[case][2]
    for flags in _flags(case):
        values = _values(rng, case, flags)
        nodes = _inputs(values)
        y = sg.sum(sg.sin(_mapped(fn, nodes, flags)) ** 2)
        assert sg.check_grad(y, nodes[0], dict(zip(nodes, values)), order=2) < 1e-6


@pytest.mark.parametrize("case", ["x[i]", "x[i, :, j]", "x[None, :, i]", "x[k, i]",
                                  "take_along_axis 0", "take clip", "eye[i] * x"])
@pytest.mark.parametrize("backend", ["python", "numpy", "numba", "jax", "dask"])
def test_backends_run_the_batched_gathers_as_evaluate_does(graph, rng, case, backend):
    fn = CASES[case][2]
    for flags in [(True,) * (1 + len(CASES[case][1])), (False,) + (True,) * len(CASES[case][1])]:
        values = _values(rng, case, flags)
        nodes = _inputs(values)
        out = _mapped(fn, nodes, flags)
        dx = sg.grad(sg.sum(sg.sin(out)), nodes[0])
        per = _mapped(lambda x, *i: sg.grad(sg.sum(sg.sin(fn(x, *i))), x), nodes, flags)
        same = _mapped(lambda x, *i: sg.grad(sg.sum(fn(x, *i)), x), nodes, flags)  # one g
        outputs = [out, dx, per, same]
        want = sg.evaluate(outputs, dict(zip(nodes, values)))
        got = sg.compile(outputs, nodes, backend=backend)(*values)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-14, atol=1e-15,
                                       err_msg=f"{case}, batched {flags}")


# --- add_at, the gathers' derivative --------------------------------------------------------

ADD_AT_CASES = {  # name: (like's shape, index, [(index entry shape, low, high)], g's shape)
    "rows": ((4, 2), (("array", 0), _ALL), [((6,), -4, 4)], (6, 2)),
    "columns": ((2, 4), (_ALL, ("array", 0)), [((3, 2), -4, 4)], (2, 3, 2)),
    "apart": ((3, 2, 4), (("array", 0), _ALL, ("array", 1)), [((5,), -3, 3), ((5,), -4, 4)],
              (5, 2)),
    "int and array": ((3, 4), (1, ("array", 0)), [((5,), -4, 4)], (5,)),
    "new axis": ((2, 4), (_ALL, None, ("array", 0)), [((3,), -4, 4)], (2, 1, 3)),
}


@pytest.mark.parametrize("case", list(ADD_AT_CASES))
def test_vmap_of_add_at_adds_repeated_indices_for_every_mix(graph, rng, case):
    shape, index, specs, gshape = ADD_AT_CASES[case]
    for flags in itertools.product([False, True], repeat=2 + len(specs)):
        if not any(flags):
            continue
        g = rng.standard_normal((B, *gshape) if flags[0] else gshape)
        like = np.zeros((B, *shape) if flags[1] else shape)
        idx = [rng.integers(low, high, size=(B, *s) if b else s)  # (repeats: 6 of 4, 5 of 3)
               for (s, low, high), b in zip(specs, flags[2:])]
        values = [g, like, *idx]
        nodes = [sg.var(f"a{k}", shape=np.shape(v), dtype="int64" if k > 1 else "float64")
                 for k, v in enumerate(values)]
        out = _mapped(lambda g, like, *i: add_at(g, like, i, index), nodes, flags)
        got = sg.evaluate(out, dict(zip(nodes, values)))
        want = np.zeros((B, *shape))
        for k in range(B):
            rows = [a[k] if b else a for a, b in zip(idx, flags[2:])]
            key = tuple(rows[item[1]] if isinstance(item, tuple) and item[0] == "array" else
                        slice(None) if item == _ALL else item for item in index)
            np.add.at(want[k], key, g[k] if flags[0] else g)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15,
                                   err_msg=f"{case}, batched {flags}")


def test_batched_repeated_indices_add_up(graph):
    x = sg.var("x", shape=(4,))
    i = sg.var("i", shape=(B, 5), dtype="int64")
    per_row = sg.vmap(lambda i: sg.grad(sg.sum(x[i] * np.arange(1.0, 6.0)), x), in_axes=0)(i)
    got = sg.evaluate(per_row, {x: np.ones(4), i: [[1, 1, 1, -3, 0], [3, 3, -1, -1, 2],
                                                   [0, 0, 0, 0, 0]]})
    assert got.tolist() == [[5.0, 10.0, 0.0, 0.0], [0.0, 0.0, 5.0, 10.0], [15.0, 0.0, 0.0, 0.0]]
    # the same through x.at[i].add
    v = sg.var("v", shape=(B, 5))
    added = sg.vmap(lambda i, v: x.at[i].add(v))(i, v)
    got = sg.evaluate(added, {x: np.zeros(4), i: [[1, 1, 1, -3, 0]] * 3, v: np.ones((B, 5))})
    assert got.tolist() == [[1.0, 4.0, 0.0, 0.0]] * 3


def test_a_batched_gather_stays_one_node(graph):
    """No loop over the batch: the batched graph has one gather, and an unbatched x is read
    as it is (not broadcast along the batch)."""
    x = sg.var("x", shape=(5, 3))
    i = sg.var("i", shape=(B, 4), dtype="int64")
    for fn in (lambda i: x[i], lambda i: x[i, 0], lambda i: sg.take_along_axis(x, i[:, None], 0)):
        out = sg.vmap(fn)(i)
        gathers = [n for n in sg.ancestors([out]) if n.op in ("gather", "take_along_axis")]
        (source,) = {n.inputs[0] for n in gathers}
        assert len(gathers) == 1 and (source is x or source.inputs == (x,)
                                      and source.shape == (1, 5, 3))  # (take_along's axis)


def test_unknown_dims_and_indices_out_of_range(graph, rng):
    x = sg.var("x", shape=(B, None, 2))
    i = sg.var("i", shape=(B, None), dtype="int64")
    y = sg.vmap(lambda x, i: x[i])(x, i)
    dx = sg.grad(sg.sum(y ** 2), x)
    along = sg.vmap(lambda x, i: sg.take_along_axis(x, i[:, None], axis=0))(x, i)
    xv, iv = rng.standard_normal((B, 4, 2)), rng.integers(-4, 4, (B, 6))
    got, dgot, agot = sg.evaluate([y, dx, along], {x: xv, i: iv})
    np.testing.assert_array_equal(got, np.stack([xv[k][iv[k]] for k in range(B)]))
    want = np.zeros_like(xv)
    for k in range(B):
        np.add.at(want[k], iv[k], 2 * xv[k][iv[k]])
    np.testing.assert_allclose(dgot, want, rtol=1e-15)
    np.testing.assert_array_equal(
        agot, np.stack([np.take_along_axis(xv[k], iv[k][:, None], 0) for k in range(B)]))
    with pytest.raises(sg.SymgraphError, match="index 4 is out of range"):
        sg.evaluate(y, {x: xv, i: np.where(iv == iv[1, 0], 4, iv)})


def test_nested_vmap_and_jacobians_of_a_batched_gather(graph, rng):
    """vmap of a vmapped gather (its iotas shift again), and the Jacobian and Hessian of one
    (their own vmap batches the cotangent: add_at with g batched, the indices too)."""
    X = sg.var("X", shape=(2, 3, 5, 4))
    I = sg.var("I", shape=(2, 3, 6), dtype="int64")
    J = sg.var("J", shape=(3, 6), dtype="int64")
    y = sg.vmap(sg.vmap(lambda x, i, j: x[i, j]), in_axes=(0, 0, None))(X, I, J)
    along = sg.vmap(sg.vmap(lambda x, i: sg.take_along_axis(x, i[:, None], axis=0),
                            in_axes=(None, 0)), in_axes=(0, 0))(X[:, 0], I)
    xv, iv, jv = rng.standard_normal((2, 3, 5, 4)), rng.integers(-5, 5, (2, 3, 6)), rng.integers(
        -4, 4, (3, 6))
    got, got_along = sg.evaluate([y, along], {X: xv, I: iv, J: jv})
    np.testing.assert_array_equal(got, [[xv[a, b][iv[a, b], jv[b]] for b in range(3)]
                                        for a in range(2)])
    np.testing.assert_array_equal(got_along, [[np.take_along_axis(xv[a, 0], iv[a, b][:, None], 0)
                                               for b in range(3)] for a in range(2)])

    x, i = sg.var("x", shape=(5,)), sg.var("i", shape=(3, 4), dtype="int64")
    xv, iv = rng.standard_normal(5), rng.integers(-5, 5, (3, 4))
    jac = sg.evaluate(sg.jacobian(sg.vmap(lambda i: x[i] ** 2)(i), x), {x: xv, i: iv})
    want = np.zeros((3, 4, 5))
    for a, b in np.ndindex(3, 4):
        want[a, b, iv[a, b]] += 2 * xv[iv[a, b]]
    np.testing.assert_array_equal(jac, want)
    z = sg.sum(sg.vmap(lambda i: sg.sin(x[i]) ** 2)(i))
    hess = sg.evaluate(sg.hessian(z, x), {x: xv, i: iv})
    counts = np.bincount(iv.ravel() % 5, minlength=5)
    np.testing.assert_allclose(hess, np.diag(2 * np.cos(2 * xv) * counts), rtol=1e-13, atol=1e-15)

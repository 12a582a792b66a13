"""Every op in the registry: forward against NumPy, first and second derivatives against
finite differences, forward mode against reverse mode, on each op's declared cases."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from opcases import BUILTIN_OP_NAMES, all_cases, case_inputs

BUILTIN_OPS = {name: sg.OPS[name] for name in BUILTIN_OP_NAMES}
CASES = all_cases()
IDS = [f"{name}-{i}" for name, i, _ in CASES]

# Ops without cases of their own, and where they are exercised instead.
TESTED_ELSEWHERE = {
    "var": "every test",
    "const": "every test",
    "scatter": "the derivative of getitem (getitem cases, order 2)",
    "first_max_mask": "the derivative of max (max cases)",
    "count": "mean of inputs with unknown dimensions (test_autodiff)",
    # loops (symgraph.loops): their bodies are Python functions traced once, and they have
    # no batch rule nor jax/numba/dask forms yet, so the generic harness does not fit
    "scan": "test_loops (RNN, RK4 pendulum, checkpointing: to second order)",
    "loop_part": "every loop result in test_loops",
    "loop_place": "every loop gradient in test_loops",
    "cond": "test_loops (cond values, gradients, jvp)",
    "while_loop": "test_loops (while_loop values and its grad error)",
}


def test_every_op_has_cases():
    without = {name for name, op in BUILTIN_OPS.items() if not op.cases}
    assert without - set(TESTED_ELSEWHERE) == set(), "declare Case(...)s for these ops"


@pytest.mark.parametrize("name,i,case", CASES, ids=IDS)
def test_forward_matches_numpy(name, i, case, rng):
    op = sg.OPS[name]
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        y = case.build(*nodes)
        got = sg.evaluate(y, dict(zip(nodes, values)))
    reference = case.ref or op.impl
    expected = np.asarray(reference(*values))
    assert got.shape == expected.shape == y.shape
    assert got.dtype == y.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,i,case", [c for c in CASES if c[2].order >= 1],
                         ids=[f"{n}-{i}" for n, i, c in CASES if c.order >= 1])
def test_derivatives_match_finite_differences(name, i, case, rng):
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        y = case.build(*nodes)
        feeds = dict(zip(nodes, values))
        for order in range(1, case.order + 1):
            error = sg.check_grad(y, nodes, feeds, order=order)
            assert error < 1e-5, (name, order, error.per_input)


@pytest.mark.parametrize("name,i,case", [c for c in CASES if c[2].order >= 1],
                         ids=[f"{n}-{i}" for n, i, c in CASES if c.order >= 1])
def test_forward_mode_equals_reverse_mode(name, i, case, rng):
    """jvp(y, x, v) == J v, and J is the stack of reverse-mode gradients."""
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        y = case.build(*nodes)
        directions = [rng.standard_normal(v.shape) for v in values]
        tangent = sg.jvp(y, nodes, directions)
        jacobians = sg.jacobian(y, nodes)
        feeds = dict(zip(nodes, values))
        t_val, *j_vals = sg.evaluate([tangent, *jacobians], feeds)
    expected = sum(
        np.tensordot(j, d, axes=d.ndim) if d.ndim else j * d for j, d in zip(j_vals, directions)
    )
    assert t_val.shape == y.shape
    np.testing.assert_allclose(t_val, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,i,case", CASES, ids=IDS)
def test_compile_equals_evaluate(name, i, case, rng):
    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        y = case.build(*nodes)
        outputs = [y]
        if case.order >= 1:
            outputs += sg.grad(sg.sum(y * y), nodes)
        f = sg.compile(outputs, nodes)
        got = f(*values)
        expected = sg.evaluate(outputs, dict(zip(nodes, values)))
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["sin", "tanh", "exp", "multiply", "add", "matmul"])
def test_float32_stays_float32(name, rng):
    op = sg.OPS[name]
    case = op.cases[0]
    with sg.Graph():
        nodes = [sg.var(f"a{k}", shape=spec[0], dtype="float32") for k, spec in enumerate(case.inputs)]
        y = case.build(*nodes)
        g = sg.grad(sg.sum(y), nodes)
        values = [rng.uniform(spec[1], spec[2], spec[0]).astype(np.float32) for spec in case.inputs]
        out = sg.evaluate([y, *g], dict(zip(nodes, values)))
    assert y.dtype == np.float32
    assert all(o.dtype == np.float32 for o in out)


@pytest.mark.parametrize("name,i,case", [c for c in CASES if c[2].order >= 1],
                         ids=[f"{n}-{i}" for n, i, c in CASES if c.order >= 1])
def test_batch_rules_give_the_jacobian_of_one_pass_per_row(name, i, case, rng):
    """The vmap path (one reverse pass over a batch axis) equals one pass per output row,
    for the op itself and for its derivative (so Hessians vectorize too)."""
    from symgraph.jacobians import _batched_jacobian, _unrolled_jacobian

    with sg.Graph():
        nodes, values = case_inputs(case, rng)
        y = case.build(*nodes)
        targets = [y, sg.grad(sg.sum(y * y), nodes[0])]
        feeds = dict(zip(nodes, values))
        for target in targets:
            if target.shape == ():
                continue
            batched = _batched_jacobian(target, nodes)
            assert batched is not None, f"{name}: a node on the way has no batch rule"
            unrolled = _unrolled_jacobian(target, nodes)
            for b, u in zip(sg.evaluate(batched, feeds), sg.evaluate(unrolled, feeds)):
                np.testing.assert_allclose(b, u, rtol=1e-12, atol=1e-14)

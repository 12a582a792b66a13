"""sg.vmap over every op's registry cases: each combination of batched arguments equals a
Python loop over the entries, and every built-in op has a batch rule for it (a node is
applied entry by entry only where the op cannot do better, listed below)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import symgraph as sg
from symgraph.batching import substitute
from symgraph.ops.core import placeholder
from opcases import all_cases, case_inputs

CASES = all_cases()
B = 3
# (op, batched flags) that sg.vmap applies per entry and stacks: a convolution whose
# image and kernel both vary along the batch would need grouped convolutions
UNROLLED = {("conv2d", (True, True)), ("conv2d_input_grad", (True, True)),
            ("conv2d_weight_grad", (True, True))}


def _batched_values(values: list, flags: tuple, rng: np.random.Generator) -> list:
    """Each batched input's B entries (floats varied, integers kept valid: repeated)."""
    out = []
    for v, batched in zip(values, flags):
        v = np.asarray(v)
        if not batched:
            out.append(v)
        elif v.dtype.kind == "f":
            out.append(np.stack([v * (1 + 0.1 * j) + 0.01 * j * rng.uniform(size=v.shape)
                                 for j in range(B)]).astype(v.dtype))
        else:  # indices: each entry its own valid permutation of the values
            out.append(np.stack([np.roll(v, j) for j in range(B)]))
    return out


def _as_list(y) -> list:
    return list(y) if isinstance(y, (list, tuple)) else [y]


@pytest.mark.parametrize("name,i,case", CASES, ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_vmap_of_every_op_equals_a_loop_over_entries(name, i, case, rng):
    combos = [f for f in itertools.product((True, False), repeat=len(case.inputs)) if any(f)]
    for flags in combos:
        with sg.Graph() as graph:
            _, values = case_inputs(case, rng)
            batched = _batched_values(values, flags, rng)
            ins = [sg.var(f"b{k}", shape=v.shape, dtype=v.dtype) for k, v in enumerate(batched)]
            axes = [0 if f else None for f in flags]
            out = _as_list(sg.vmap(case.build, in_axes=axes)(*ins))
            got = sg.evaluate(out, dict(zip(ins, batched)))
            for j in range(B):
                entry = [v[j] if f else v for v, f in zip(batched, flags)]
                want = sg.evaluate(_as_list(case.build(*[sg.const(v) for v in entry])), {})
                for g, w in zip(got, want):
                    assert g.shape == (B, *w.shape) and g.dtype == w.dtype, (name, flags)
                    np.testing.assert_allclose(g[j], w, rtol=1e-12, atol=1e-14,
                                               err_msg=f"{name} batched {flags}, entry {j}")
            # the op's own rule did it (no per-entry unrolling), where one is expected
            stand_ins = [placeholder(graph, v.shape[1:] if f else v.shape, v.dtype, "e")
                         for v, f in zip(batched, flags)]
            entry_out = _as_list(case.build(*stand_ins))
            subs = {p: x for p, x, f in zip(stand_ins, ins, flags) if f}
            _, culprit = substitute(entry_out, subs)
            if culprit is not None:
                assert (culprit.op, _flags_of(culprit, subs)) in UNROLLED, (
                    f"{name}: {culprit.op} has no batch rule for these batched inputs")


def _flags_of(node, subs) -> tuple:
    """Which inputs of ``node`` depend on a batched placeholder."""
    return tuple(any(a is p for a in sg.ancestors([i]) for p in subs) for i in node.inputs)


def test_vmap_unrolls_a_while_loop_per_entry():
    """A while_loop (a different trip count per entry) has no batch rule: vmap runs it
    for each entry and stacks the results."""
    with sg.Graph():
        xs = sg.var("xs", shape=(4,))
        halve = sg.vmap(lambda x: sg.while_loop(lambda v: v > 1.0, lambda v: v / 2.0, x))
        y = halve(xs)
        values = np.array([0.5, 3.0, 17.0, 100.0])
        want = [v / 2.0 ** max(0, int(np.ceil(np.log2(v)))) if v > 1 else v for v in values]
        np.testing.assert_allclose(sg.evaluate(y, {xs: values}), want)
        for backend in ("python", "numpy"):
            np.testing.assert_array_equal(sg.compile([y], [xs], backend=backend)(values)[0],
                                          sg.evaluate(y, {xs: values}))


def test_vmap_of_matmul_both_batched_and_its_gradients():
    """The canonical vmap: a matrix product of each entry's pair, with its derivatives."""
    rng = np.random.default_rng(1)
    with sg.Graph():
        A, X, v = sg.var("A", shape=(5, 2, 3)), sg.var("X", shape=(5, 3, 4)), sg.var("v", shape=(5, 3))
        y = sg.vmap(lambda a, x, u: sg.sum(sg.tanh(a @ x) * (a @ u)[:, None]))(A, X, v)
        a, x, u = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 3, 4)), rng.normal(size=(5, 3))
        want = [np.sum(np.tanh(a[j] @ x[j]) * (a[j] @ u[j])[:, None]) for j in range(5)]
        feeds = {A: a, X: x, v: u}
        np.testing.assert_allclose(sg.evaluate(y, feeds), want, rtol=1e-13)
        assert sg.check_grad(sg.sum(y * y), [A, X, v], feeds, order=2) < 1e-6


def test_a_failed_vmap_leaves_every_graph_as_it_was():
    g, h = sg.Graph(), sg.Graph()
    with g:
        a, m, k = sg.var("a", shape=(3,)), sg.var("m", shape=(4, 3)), sg.var("k", shape=(5, 2))
    with h:
        b = sg.var("b", shape=(3,))
    sizes = len(g), len(h)
    calls = [(lambda: sg.vmap(lambda p, q: p * q)(a, b), "different graphs"),
             (lambda: sg.vmap(lambda r: r[7], in_axes=1)(m), "out of bounds"),
             (lambda: sg.vmap(lambda p, q: p, in_axes=(1, 1))(m, k), "one static size")]
    for call, words in calls:
        with pytest.raises(sg.SymgraphError, match=words):
            call()
        assert (len(g), len(h)) == sizes


def test_vmap_of_a_ravel_over_an_unknown_dim():
    v = np.arange(12.0).reshape(4, 3)
    with sg.Graph():
        m = sg.var("m", shape=(4, None))
        flat = sg.vmap(sg.ravel)(m)
        column = sg.vmap(lambda r: sg.reshape(r, (-1, 1)))(m)
        got = sg.evaluate([flat, column], {m: v})
    np.testing.assert_array_equal(got[0], v)
    np.testing.assert_array_equal(got[1], v[..., None])

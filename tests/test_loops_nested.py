"""Loops nested a hundred deep: whatever builds, rewrites, differentiates, vmaps or
compiles a body does so for the loops inside it from within its own call, so the Python
stack grows with the nesting (never with a graph's size). 80 nested loops passed Python's
recursion limit, and vmap of nested conds with a batched predicate doubled its work per
level (a body vmapped once as each side of the select)."""

import math
import time

import numpy as np
import pytest

import symgraph as sg

DEPTH = 100


def _nested(kind: str, x, depth: int):
    """``sin(x)`` inside ``depth`` loops of ``kind``, each of one step (or branch)."""
    def build(v, d):
        if d == 0:
            return sg.sin(v)
        if kind == "fori":
            return sg.fori_loop(0, 1, lambda i, c: build(c, d - 1), v)
        if kind == "scan":
            return sg.scan(lambda c, _: (build(c, d - 1), c), v, length=1)[0]
        return sg.cond(v > -10.0, lambda: build(v, d - 1), lambda: sg.cos(v))
    return build(x, depth)


@pytest.mark.parametrize("kind", ["fori", "scan", "cond"])
def test_loops_nested_a_hundred_deep_evaluate_differentiate_and_compile(kind):
    want = [math.sin(0.5), math.cos(0.5), -math.sin(0.5)]
    with sg.Graph():
        x = sg.var("x")
        y = _nested(kind, x, DEPTH)
        d1 = sg.grad(y, x)
        np.testing.assert_allclose(sg.evaluate([y, d1], {x: 0.5}), want[:2], rtol=1e-15)
        np.testing.assert_allclose(sg.evaluate(sg.jvp(y, x, 1.0), {x: 0.5}), want[1],
                                   rtol=1e-15)
        for backend in ("python", "numpy", "numba"):
            if backend == "numba":
                pytest.importorskip("numba")
            got = sg.compile([y, d1], [x], backend=backend)(0.5)
            np.testing.assert_array_equal(np.asarray(got, dtype=float),
                                          sg.evaluate([y, d1], {x: 0.5}))
        assert float(sg.evaluate(sg.simplify(y), {x: 0.5})) == want[0]
    # a second derivative nests each level's forward loops in its gradient body: its
    # bodies grow with the square of the depth (numba's compile time with its cube)
    with sg.Graph():
        x = sg.var("x")
        d2 = sg.grad(sg.grad(_nested(kind, x, 30), x), x)
        np.testing.assert_allclose(sg.evaluate(d2, {x: 0.5}), want[2], rtol=1e-15)
        assert sg.compile([d2], [x], backend="python")(0.5)[0] == sg.evaluate(d2, {x: 0.5})


def test_vmap_of_nested_conds_with_a_batched_predicate_is_linear_in_the_depth():
    """Each cond runs both branches for the batch and picks: 2**depth vmaps of the inner
    body before (depth 15 took minutes), one per body now."""
    with sg.Graph() as g:
        xs = sg.var("xs", shape=(4,))
        start = time.perf_counter()
        y = sg.vmap(lambda v: _nested("cond", v, 40))(xs)
        g_y = sg.grad(sg.sum(y), xs)
        assert time.perf_counter() - start < 30  # (exponential work would take forever)
        assert len(g) < 40 * 200  # nodes grow linearly with the depth
        values = np.array([-20.0, -1.0, 0.5, 3.0])
        # a branch per entry: -20 takes the outer cond's false branch, cos
        want = np.where(values > -10, np.sin(values), np.cos(values))
        dwant = np.where(values > -10, np.cos(values), -np.sin(values))
        got = sg.evaluate([y, g_y], {xs: values})
        np.testing.assert_allclose(got[0], want, rtol=1e-15)
        np.testing.assert_allclose(got[1], dwant, rtol=1e-15)


def test_saving_bodies_nested_deeper_than_the_format_holds_says_so(tmp_path):
    with sg.Graph():
        x = sg.var("x")
        y = _nested("fori", x, 40)
        with pytest.raises(sg.SymgraphError, match="nested more than 32 levels"):
            sg.save(y, tmp_path / "deep.json")

"""Tests of the benchmark harness: the references are right, the generator matches
WORKLOADS.md, failures are reported (not hidden), symgraph's cases give correct values.

Run: .venv/bin/python -m pytest benchmarks/test_benchmarks.py benchmarks/*.py -q
"""

from __future__ import annotations

import builtins
import dis
import inspect
import math
from typing import Any

import numpy as np
import pytest

from benchmarks import (common, w1_neuron, w2_chain, w3_mlp, w4_hessian, w5_dag, w5a_floor,
                        w6_loops)


def test_w1_hand_matches_the_reference_values() -> None:
    assert w1_neuron.hand(*w1_neuron.POINT) == pytest.approx(w1_neuron.WANT, rel=1e-14)


def test_w2_taylor_reference_matches_finite_differences() -> None:
    def z(w: float) -> float:
        return math.sin(math.sin(math.sin(w)))

    d = w2_chain.taylor_derivatives(0.5, 3, 3)
    h = 1e-3
    assert d[0] == pytest.approx(z(0.5), rel=1e-14)
    assert d[1] == pytest.approx((z(0.5 + h) - z(0.5 - h)) / (2 * h), rel=1e-6)
    assert d[2] == pytest.approx((z(0.5 + h) - 2 * z(0.5) + z(0.5 - h)) / h**2, rel=1e-5)
    assert d[1] == pytest.approx(w2_chain.hand(0.5, 3), rel=1e-14)


def test_w2_symgraph_cases_give_the_reference_values() -> None:
    res = w2_chain.symgraph_chain(100)
    assert res["status"] == "ok" and res["value"] == pytest.approx(w2_chain.hand(0.5, 100))
    assert res["nodes"] > 0
    want = w2_chain.taylor_derivatives(0.5, 3, 4)
    assert w2_chain.symgraph_order(4)["value"] == pytest.approx(want[4], rel=1e-10)


def test_w2_nary_count_is_sympys_unit_on_hand_checked_graphs() -> None:
    import symgraph as sg

    with sg.Graph():
        x, y, z = sg.var("x"), sg.var("y"), sg.var("z")
        s, p = sg.sin(x), x * y
        cases = [  # (graph, its SymPy form counted by hand, nodes)
            (x * y * z, "Mul(x, y, z)", 1),
            (x + y + z, "Add(x, y, z)", 1),
            (x - y, "Add(x, Mul(-1, y))", 2),
            (x - 3 * y, "Add(x, Mul(-3, y))", 2),
            (x - y * z, "Add(x, Mul(-1, y, z))", 2),
            (-(x * y) * 2, "Mul(-2, x, y)", 1),
            (-(x + y), "Mul(-1, Add(x, y))", 2),
            (s * s * y, "Mul(Pow(sin(x), 2), y)", 3),
            (x * x, "Pow(x, 2)", 1),
            (x - x * x, "Add(x, Mul(-1, Pow(x, 2)))", 3),
            (sg.square(x) + 1, "Add(Pow(x, 2), 1)", 2),
            (x / y, "Mul(x, Pow(y, -1))", 2),
            (x / 2, "Mul(1/2, x)", 1),
            (x / 2 * x, "Mul(1/2, Pow(x, 2))", 2),
            (y - 2 * sg.sin(x), "Add(y, Mul(-2, sin(x)))", 3),
            (y - sg.sin(x), "Add(y, Mul(-1, sin(x)))", 3),
            (sg.sin(x) / (y * z), "Mul(sin(x), Pow(y, -1), Pow(z, -1))", 4),
            ((p + z) * (z - p), "Mul(Add(p, z), Add(z, Mul(-1, x, y))), p = Mul(x, y)", 5),
            (sg.sin(p) * p + p, "Add(Mul(sin(p), p), p), p = Mul(x, y)", 4),
            (sg.cos(x + y) + (x + y) * 3 + 1, "Add(cos(a), Mul(3, a), 1), a = Add(x, y)", 4),
        ]
        for graph, form, want in cases:
            assert w2_chain.nary_nodes(graph) == want, form
        # the two-input count of the same graphs is the op count
        assert sum(1 for n in sg.ancestors([x - 3 * x * y]) if n.op not in ("var", "const")) == 3


def test_w2b_simplified_tower_counts_in_both_units() -> None:
    # issue 18: the 8th derivative simplified (assume_finite) after each grad and once at
    # the end; SymPy's own counts in its run: 104 (n-ary), 407 (two-input ops)
    import symgraph as sg

    want = w2_chain.taylor_derivatives(0.5, 3, 8)[8]
    for each in (True, False):
        with sg.Graph():
            w = sg.var("w")
            d = sg.sin(sg.sin(sg.sin(w)))
            for _ in range(8):
                d = sg.grad(d, w)
                d = sg.simplify(d, assume_finite=True) if each else d
            d = d if each else sg.simplify(d, assume_finite=True)
            ops = sum(1 for n in sg.ancestors([d]) if n.op not in ("var", "const"))
            assert (ops, w2_chain.nary_nodes(d)) == (114, 93), each
            assert float(sg.evaluate(d, {w: 0.5})) == pytest.approx(want, rel=1e-10)


def test_w2_nary_count_matches_sympys_own_count() -> None:
    sp = pytest.importorskip("sympy")  # only in benchmarks/.venv-peers
    import symgraph as sg

    def forms(lib: Any, x: Any, y: Any) -> list:
        sin, cos = lib.sin, lib.cos
        return [x * y * sin(x) - cos(y), -(x * (sin(x) + cos(y))), (x + y) ** 2 - 3 * x / y,
                sin(x * y) - x * y + 2, sin(x) / (x * y) + cos(y) / 3]

    with sg.Graph():
        mine = forms(sg, sg.var("x"), sg.var("y"))
        theirs = forms(sp, *sp.symbols("x y"))
        for a, b in zip(mine, theirs):
            assert w2_chain.nary_nodes(a) == w2_chain._dag_size(b), str(b)


def test_w3_hand_backprop_matches_finite_differences() -> None:
    params, X, Y = w3_mlp.data()
    out = w3_mlp.hand(*params, X, Y)
    rng = np.random.default_rng(1)
    for k in range(6):  # one random entry of each of the six gradients
        idx = tuple(int(rng.integers(0, s)) for s in params[k].shape)
        h = 1e-6
        plus = [p.copy() for p in params]
        minus = [p.copy() for p in params]
        plus[k][idx] += h
        minus[k][idx] -= h
        fd = (w3_mlp.hand(*plus, X, Y)[0] - w3_mlp.hand(*minus, X, Y)[0]) / (2 * h)
        assert out[k + 1][idx] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_w4_analytic_hessian_gradient_and_hvp_agree() -> None:
    x = 0.5 + 0.1 * np.arange(10)
    H = np.array(w4_hessian.hessian_hand(x.tolist()))
    h = 1e-6
    fd = np.array([(w4_hessian.grad_np(x + h * e) - w4_hessian.grad_np(x - h * e)) / (2 * h)
                   for e in np.eye(10)])
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-6)
    v = np.random.default_rng(0).normal(size=10)
    np.testing.assert_allclose(w4_hessian.hvp_np(x, v), H @ v, rtol=1e-12)


def test_w5_generator_matches_workloads_md() -> None:
    assert w5_dag.live_and_depth(w5_dag.generate(1000)) == (974, 165)
    assert w5_dag.live_and_depth(w5_dag.generate(10000)) == (9978, 1528)


def test_w5_hand_sweep_matches_finite_differences() -> None:
    ops = w5_dag.generate(1000)

    def y(x: list[float]) -> float:
        return float(w5_dag.build_forward(None, x, ops, math.exp, math.sin, math.tanh))

    g = w5_dag.hand_grad(ops, w5_dag.POINT)
    h = 1e-6
    for i in (0, 4, 9):
        xp, xm = list(w5_dag.POINT), list(w5_dag.POINT)
        xp[i] += h
        xm[i] -= h
        assert g[i] == pytest.approx((y(xp) - y(xm)) / (2 * h), rel=1e-5, abs=1e-8)


def test_w5_symgraph_build_is_a_small_multiple_of_the_forward() -> None:
    res = w5_dag.symgraph_case(1000, compile_too=False)
    assert res["status"] == "ok" and res["fwd"] >= 974  # every live op (gauss is 3 nodes)
    assert 1.0 < res["size"] / res["fwd"] < 10.0


def test_w6_hand_adjoint_matches_finite_differences() -> None:
    want = w6_loops.hand(100, *w6_loops.POINT)
    h = 1e-6
    for i in range(4):
        plus, minus = list(w6_loops.POINT), list(w6_loops.POINT)
        plus[i] += h
        minus[i] -= h
        fd = (w6_loops.hand(100, *plus)[0] - w6_loops.hand(100, *minus)[0]) / (2 * h)
        assert want[i + 1] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_w6_symgraph_loop_and_unrolled_give_the_reference_values() -> None:
    want = w6_loops.hand(100, *w6_loops.POINT)
    assert common.check(w6_loops.symgraph_case(100)["value"], want, rtol=1e-12) == "ok"
    assert common.check(w6_loops.symgraph_case(100, checkpoint=10)["value"], want,
                        rtol=1e-12) == "ok"
    assert common.check(w6_loops.symgraph_case(30, unrolled=True)["value"],
                        w6_loops.hand(30, *w6_loops.POINT), rtol=1e-12) == "ok"


def test_w6_checkpoint_cuts_the_peak_memory() -> None:
    plain, ckpt = w6_loops.peak_memory(2000, None), w6_loops.peak_memory(2000, 40)
    assert ckpt["peak"] < 0.5 * plain["peak"]
    assert common.check(ckpt["value"], plain["value"], rtol=1e-12) == "ok"


def test_check_reports_wrong_values() -> None:
    assert common.check([1.0, 2.0], [1.0, 2.0 + 1e-12]) == "ok"
    assert common.check([1.0, 2.1], [1.0, 2.0]).startswith("WRONG VALUE")
    assert common.check([1.0], [1.0, 2.0]).startswith("WRONG VALUE")


def test_isolated_reports_timeouts_errors_and_results() -> None:
    assert common.isolated("w2_chain", "hand_chain", [3], 60.0)["value"] == \
        pytest.approx(w2_chain.hand(0.5, 3))
    assert common.isolated("w2_chain", "hand_chain", [3], 0.001)["status"].startswith("timeout")
    assert common.isolated("w2_chain", "no_such_function", [], 60.0)["status"].startswith("error")


def test_missing_peer_is_not_installed() -> None:
    assert common.peer("no_such_peer_module_xyz") is None
    assert common.missing("W1", "W1a", "X", "build").status == "not installed"


def test_table_marks_unmet_targets_and_wrong_values() -> None:
    from benchmarks import run

    rows = [common.Row("W1", "W1b", "symgraph", "call", 1e-6, ratio=3.0, ref="hand",
                       target="<= 2x hand", met=False),
            common.Row("W1", "W1b", "peer", "call", 1e-6, status="WRONG VALUE (1)")]
    text = run.table(rows)
    assert "3.00x hand" in text and "**NO**" in text and "**WRONG VALUE (1)**" in text


def test_w5a_floor_makes_the_nodes_grad_makes_with_the_right_values() -> None:
    m = w5a_floor.measure(2000)  # (both gradients are checked against hand_grad inside)
    assert m["floor nodes"] == m["grad nodes"] > 2000
    assert m["grad"] > 0 and m["floor"] > 0 and m["_add alone"] > 0


def _global_names(code: Any) -> set[str]:
    """Names a code object and the functions nested in it read as globals."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            names |= _global_names(const)
    return names


@pytest.mark.parametrize("module", [w1_neuron, w2_chain, w3_mlp, w4_hessian, w5_dag, w5a_floor,
                                    w6_loops],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_runner_reads_only_names_that_exist(module: Any) -> None:
    """A peer's runner only runs where the peer is installed: a misspelt name (W1's CasADi
    and PyTensor rows read SymEngine's ``se`` and SymPy's ``sp``) would otherwise surface
    only as an error row of a full ``make bench``."""
    for name, fn in vars(module).items():
        if inspect.isfunction(fn) and fn.__module__ == module.__name__:
            unknown = {n for n in _global_names(fn.__code__)
                       if n not in vars(module) and not hasattr(builtins, n)}
            assert not unknown, f"{module.__name__}.{name} reads undefined {sorted(unknown)}"

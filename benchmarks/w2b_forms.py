"""W2b by simplification mode: the k-th derivative of sin(sin(sin(w))), k = 1..8, simplified
after each grad or once at the end, by default (every value kept) or with assume_finite.

Prints, per mode and order, the op nodes among the derivative's ancestors (W2b's count),
the same graph's nodes in SymPy's unit (:func:`benchmarks.w2_chain.nary_nodes`, n-ary
sums and products) and the build time (median of ``--repeat`` fresh graphs), and checks
each value against :func:`benchmarks.w2_chain.taylor_derivatives`. symgraph only, no
peers::

    python benchmarks/w2b_forms.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import time
from typing import Any

from benchmarks.w2_chain import W0, nary_nodes, taylor_derivatives

ORDERS = range(1, 9)
# (where simplify runs, its mode, assume_finite, after each grad)
MODES = [("after each grad", "default", False, True),
         ("after each grad", "assume_finite", True, True),
         ("once at the end", "default", False, False),
         ("once at the end", "assume_finite", True, False)]


def tower(k: int, assume_finite: bool, each: bool) -> tuple[float, int, float, int]:
    """Build the k-th derivative in a fresh graph: (seconds, op nodes, value at W0, nodes
    in SymPy's unit)."""
    import symgraph as sg

    gc.collect()  # earlier towers' graphs are garbage cycles: not this build's cost
    graph = sg.Graph()
    with graph:
        w = sg.var("w")
        start = time.perf_counter()
        d: Any = sg.sin(sg.sin(sg.sin(w)))
        for _ in range(k):
            d = sg.grad(d, w)
            if each:
                d = sg.simplify(d, assume_finite=assume_finite)
        if not each:
            d = sg.simplify(d, assume_finite=assume_finite)
        seconds = time.perf_counter() - start
        nodes = sum(1 for n in sg.ancestors([d]) if n.op not in ("var", "const"))
        return seconds, nodes, float(sg.evaluate(d, {w: W0})), nary_nodes(d)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    want = taylor_derivatives(W0, 3, max(ORDERS))
    print("| simplified | mode | " + " | ".join(f"k={k}" for k in ORDERS) + " |")
    print("|---|---|" + "---|" * len(ORDERS))
    for where, mode, finite, each in MODES:
        nodes, nary, times = [], [], []
        for k in ORDERS:
            runs = [tower(k, finite, each) for _ in range(args.repeat)]
            seconds, count, value = statistics.median(r[0] for r in runs), runs[0][1], runs[0][2]
            ok = math.isclose(value, want[k], rel_tol=1e-10)
            nodes.append(f"{count}" + ("" if ok else " WRONG"))
            nary.append(f"{runs[0][3]}")
            times.append(f"{seconds * 1e3:.1f}")
        print(f"| {where} | {mode} nodes | " + " | ".join(nodes) + " |")
        print(f"| {where} | {mode} nodes, SymPy's unit | " + " | ".join(nary) + " |")
        print(f"| {where} | {mode} build ms | " + " | ".join(times) + " |")


if __name__ == "__main__":
    main()

"""Where W5a's build time goes, and the least it could be with symgraph's node model.

Run by hand (the full run takes about 10 s)::

    .venv/bin/python -m benchmarks.w5a_floor [N]

For the W5 DAG of N ops (default 10^5) it prints:

1. ``sg.grad(y, xs)``: the real build.
2. The *floor*: the same reverse sweep written out by hand for W5's six ops, making the
   same interned nodes straight through ``Graph._add`` (no op layer, no rule calls, no
   shape, dtype or identity checks). No derivative builder that makes one symgraph node
   per derivative operation can be faster in CPython.
3. ``Graph._add`` alone, called once for each node that ``sg.grad`` made.

Both gradients are checked against the hand-written reverse sweep of ``w5_dag``.
Uses symgraph internals on purpose: it is a measurement, not an example.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

import symgraph as sg
from benchmarks.w5_dag import POINT, build_forward, generate, hand_grad
from symgraph.graph import ancestors, derivative_context
from symgraph.ops.core import FLOAT64, const


def floor_sweep(graph: sg.Graph, y: sg.Node, xs: list[sg.Node]) -> list[sg.Node]:
    """dy/dxs for a W5 graph: sg.grad's nodes, made with nothing but Graph._add."""
    ops = sg.OPS
    mul, add, neg, cos, square, sub = (ops[k] for k in (
        "multiply", "add", "negative", "cos", "square", "subtract"))
    interned, add_node = graph._interned, graph._add

    one = const(1.0, graph=graph)

    def make(op: Any, *inputs: sg.Node) -> sg.Node:
        if op is mul and inputs[0] is one:  # as grad, no 1*x nodes
            return inputs[1]
        if op is mul and inputs[1] is one:
            return inputs[0]
        key = (op.name, *[n.id for n in inputs])
        node = interned.get(key)
        return add_node(key, op, inputs, {}, (), FLOAT64) if node is None else node

    with derivative_context(1, graph._new_grad_call()) as ctx:
        cotangents = {y.id: [one]}
        found = {x.id: const(0.0, graph=graph) for x in xs}  # for an x that y ignores
        for n in reversed(ancestors([y])):
            parts = cotangents.pop(n.id, None)
            if parts is None:
                continue
            ctx.grad_of = n
            g = parts[0]
            for p in parts[1:]:
                g = make(add, g, p)
            if n.id in found:
                found[n.id] = g
            a = n.inputs[0] if n.inputs else None
            if n.op == "add":
                shares = [(a, g), (n.inputs[1], g)]
            elif n.op == "multiply":
                b = n.inputs[1]
                shares = [(a, make(mul, g, a))] * 2 if a is b else [
                    (a, make(mul, g, b)), (b, make(mul, a, g))]
            elif n.op == "sin":
                shares = [(a, make(mul, g, make(cos, a)))]
            elif n.op == "exp":
                shares = [(a, make(mul, g, n))]
            elif n.op == "negative":
                shares = [(a, make(neg, g))]
            elif n.op == "tanh":
                shares = [(a, make(mul, g, make(sub, one, make(square, n))))]
            else:
                shares = []
            for inp, share in shares:
                cotangents.setdefault(inp.id, []).append(share)
        return [found[x.id] for x in xs]


def _add_alone(count: int) -> float:
    """Seconds of ``count`` calls of Graph._add with fresh keys (in a derivative context)."""
    with sg.Graph() as graph:
        a, b = sg.var("a"), sg.var("b")
        op, inputs = sg.OPS["multiply"], (a, b)
        keys = [("multiply", i, -1) for i in range(count)]
        with derivative_context(1, graph._new_grad_call()):
            start = time.perf_counter()
            for key in keys:
                graph._add(key, op, inputs, {}, (), FLOAT64)
            return time.perf_counter() - start


def measure(n_ops: int) -> dict[str, float]:
    """The three times, and the node counts, for the W5 DAG of ``n_ops`` ops."""
    ops = generate(n_ops)
    want = hand_grad(ops, POINT)
    out: dict[str, float] = {}
    for label in ("grad", "floor"):
        with sg.Graph() as graph:
            xs = [sg.var(f"x{i}") for i in range(10)]
            y = build_forward(sg, xs, ops, sg.exp, sg.sin, sg.tanh)
            before = len(graph)
            start = time.perf_counter()
            grads = sg.grad(y, xs) if label == "grad" else floor_sweep(graph, y, xs)
            out[label] = time.perf_counter() - start
            out[f"{label} nodes"] = len(graph) - before
            got = sg.evaluate(grads, dict(zip(xs, POINT)))
            np.testing.assert_allclose(np.array(got, dtype=float), want, rtol=1e-9)
    out["_add alone"] = _add_alone(int(out["grad nodes"]))
    return out


def main(argv: list[str]) -> None:
    n_ops = int(float(argv[0])) if argv else 100_000
    m = measure(n_ops)
    nodes = m["grad nodes"]
    print(f"W5 N={n_ops}: sg.grad makes {nodes:.0f} nodes (the floor sweep {m['floor nodes']:.0f})")
    for label in ("grad", "floor", "_add alone"):
        print(f"  {label:<11} {m[label]:6.3f} s   {m[label] / nodes * 1e9:5.0f} ns per node made")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Turning an op's declared test cases into graphs and feeds (shared by the test files)."""

from __future__ import annotations

import numpy as np

import symgraph as sg


def case_inputs(case: sg.Case, rng: np.random.Generator) -> tuple[list, list]:
    """Fresh input nodes and sample values for ``case`` (call inside a graph)."""
    nodes, values = [], []
    for k, spec in enumerate(case.inputs):
        if isinstance(spec, np.ndarray):
            shape, value = spec.shape, spec
        else:
            shape, low, high = spec
            value = rng.uniform(low, high, size=shape)
        nodes.append(sg.var(f"a{k}", shape=shape))
        values.append(np.asarray(value, dtype=np.float64))
    return nodes, values


def all_cases() -> list[tuple[str, int, sg.Case]]:
    return [(name, i, case) for name, op in sorted(sg.OPS.items())
            for i, case in enumerate(op.cases)]

"""Turning an op's declared test cases into graphs and feeds (shared by the test files)."""

from __future__ import annotations

import numpy as np

import symgraph as sg

# The ops symgraph itself declares. conftest.py imports this module first, before any test
# module declares ops of its own with sg.define_op at import time.
BUILTIN_OP_NAMES = frozenset(sg.OPS)


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
    return [(name, i, case) for name in sorted(BUILTIN_OP_NAMES)
            for i, case in enumerate(sg.OPS[name].cases)]

"""Turning an op's declared test cases into graphs and feeds (shared by the test files).

An input spec is ``(shape, low, high)`` (floats drawn uniformly), a NumPy array (a fixed
value, of its own dtype: an integer array makes an integer input), or
``(shape, "int", high)`` (integers drawn from ``[0, high)``). Integer inputs have no
derivative, so :func:`all_cases` turns each case that has them into two: the indices
fixed as constants (every check, derivatives included, on the float inputs), and the
indices as integer inputs fed at run time (``order=0``: forward and compile checks).
"""

from __future__ import annotations

import zlib

import numpy as np

import symgraph as sg
from symgraph.plan import builtin

# The ops symgraph itself declares (conftest.py imports this module first, but a test module
# declaring ops of its own with sg.define_op at import time must not add them here either).
BUILTIN_OP_NAMES = frozenset(name for name, op in sg.OPS.items() if builtin(op))


def _is_int(spec) -> bool:
    if isinstance(spec, np.ndarray):
        return spec.dtype.kind in "iu"
    return len(spec) == 3 and isinstance(spec[1], str) and spec[1] == "int"


def case_inputs(case: sg.Case, rng: np.random.Generator) -> tuple[list, list]:
    """Fresh input nodes and sample values for ``case`` (call inside a graph)."""
    nodes, values = [], []
    for k, spec in enumerate(case.inputs):
        if isinstance(spec, np.ndarray):
            shape = spec.shape
            value = spec if _is_int(spec) else np.asarray(spec, dtype=np.float64)
        elif _is_int(spec):
            shape, _, high = spec
            value = rng.integers(0, high, size=shape)
        else:
            shape, low, high = spec
            value = np.asarray(rng.uniform(low, high, size=shape), dtype=np.float64)
        nodes.append(sg.var(f"a{k}", shape=shape, dtype=value.dtype))
        values.append(value)
    return nodes, values


def _split(name: str, i: int, case: sg.Case) -> list[tuple]:
    """The variants of a case with integer inputs (see the module's docstring)."""
    rng = np.random.default_rng(zlib.crc32(f"{name}-{i}".encode()))
    ints = {k: spec if isinstance(spec, np.ndarray) else rng.integers(0, spec[2], size=spec[0])
            for k, spec in enumerate(case.inputs) if _is_int(spec)}
    floats = [spec for k, spec in enumerate(case.inputs) if k not in ints]
    reference = case.ref or sg.OPS[name].impl

    def merged(values: tuple, fixed: dict) -> list:
        it = iter(values)
        return [fixed[k] if k in fixed else next(it) for k in range(len(case.inputs))]

    fed = sg.Case(case.build, [ints.get(k, spec) for k, spec in enumerate(case.inputs)],
                  ref=reference, order=0)
    variants = [(name, f"{i}-fed", fed)]
    if floats:
        baked = sg.Case(
            lambda *xs: case.build(*merged(xs, {k: sg.const(v) for k, v in ints.items()})),
            floats, ref=lambda *vs: reference(*merged(vs, ints)), order=case.order)
        variants.insert(0, (name, i, baked))
    return variants


def all_cases() -> list[tuple[str, int | str, sg.Case]]:
    out = []
    for name in sorted(BUILTIN_OP_NAMES):
        for i, case in enumerate(sg.OPS[name].cases):
            if any(_is_int(spec) for spec in case.inputs):
                out += _split(name, i, case)
            else:
                out.append((name, i, case))
    return out


def case_outputs(case: sg.Case, nodes: list) -> list:
    """What a backend's registry test compiles for ``case``: its result(s), and for a
    differentiable case the gradient of their squared sum with respect to the float inputs."""
    y = case.build(*nodes)
    outs = list(y) if isinstance(y, (list, tuple)) else [y]
    floats = [n for n in nodes if n.dtype.kind == "f"]
    if case.order >= 1 and floats and all(o.dtype.kind == "f" for o in outs):
        outs += sg.grad(sum(sg.sum(o * o) for o in outs), floats)
    return outs


def with_specials(values: list) -> list:
    """The values with NaN, inf and -inf put into each float input of at least 3 entries."""
    out = []
    for v in values:
        v = np.array(v)
        if v.dtype.kind == "f" and v.size >= 3:
            v.flat[0], v.flat[1], v.flat[-1] = np.nan, np.inf, -np.inf
        out.append(v)
    return out


def with_negative_zeros(values: list) -> list:
    """The values with every float entry -0.0: where NumPy's result is a zero, its sign
    (0.0 + -0.0 is 0.0, a sum starts at 0.0, np.sign(-0.0) is 0.0) must be a backend's."""
    return [np.full_like(v, -0.0) if np.asarray(v).dtype.kind == "f" else v for v in values]

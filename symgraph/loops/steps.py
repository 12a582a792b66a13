"""The per-step driver of a scan: the Python ``for`` loop that calls a compiled body.

A scan of T steps spends, besides the body itself, a few Python operations per step on
bookkeeping (pick the step's slices, store the saved carries and the outputs, split the
body's results). :func:`run_steps` keeps that lean: one generated loop per arity (number
of carries, scanned inputs, closures, outputs; direction; whether carries are saved),
the body's results unpacked into locals, the steps of a float64 vector read as Python
floats through a memoryview (a NumPy scalar would slow the body's arithmetic down), saved
carries and outputs written into preallocated arrays (8 bytes per float64: the reverse
sweep's memory is one carry per step, no more). The values are the body's, bit for bit:
only the bookkeeping changes. The loop's source is built here from counts alone, never
from user text.

Imports: ``numpy`` only (the body is compiled by ``body.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_F64 = np.dtype("float64")


@functools.lru_cache(maxsize=256)
def _loop(m: int, p: int, q: int, r: int, save: bool, reverse: bool) -> Callable[..., Any]:
    """``drive(run, T, C, X, W, Y, S)``: ``C`` the start carries, ``X`` per-step
    sequences, ``W`` closures, ``Y`` and ``S`` preallocated per-step stores (outputs,
    saved carries) written in place; returns the final carries."""
    cs = [f"c{k}" for k in range(m)]
    xs = [f"x{k}" for k in range(p)]
    ws = [f"w{k}" for k in range(q)]
    ys = [f"y{k}" for k in range(r)]
    lines = ["def drive(run, T, C, X, W, Y, S):"]
    for names, src in ((cs, "C"), (xs, "X"), (ws, "W"), ([n.upper() for n in ys], "Y"),
                       ([f"S{k}" for k in range(m)] if save else [], "S")):
        if names:
            lines.append(f"    {', '.join(names)}, = {src}")
    steps = "range(T - 1, -1, -1)" if reverse else "range(T)"
    lines.append(f"    for t in {steps}:")
    lines += [f"        S{k}[t] = c{k}" for k in range(m) if save]
    call = f"run({', '.join([*cs, *[x + '[t]' for x in xs], *ws])})"
    targets = [*cs, *ys]
    lines.append(f"        {', '.join(targets)}, = {call}" if targets else f"        {call}")
    lines += [f"        Y{k}[t] = y{k}" for k in range(r)]
    lines.append(f"    return [{', '.join(cs)}]")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<symgraph scan driver {m},{p},{q},{r}>", "exec"),  # noqa: S102
         namespace)
    return namespace["drive"]


def _per_step(x: Any, shape: tuple, dtype: np.dtype) -> Any:
    """The steps' slices of a scanned input: a float64 vector as a memoryview, whose items
    are Python floats (``x[t]`` would be a NumPy scalar, slower in the body's arithmetic)
    and which copies nothing."""
    if shape == () and dtype == _F64 and isinstance(x, np.ndarray) and x.ndim == 1 \
            and x.dtype == _F64:
        return memoryview(x)
    return x


def run_steps(run: Callable[..., Sequence[Any]], length: int, carries: list[Any],
              xs: Sequence[Any], ws: list[Any], x_types: list[tuple[tuple, np.dtype]],
              ys: list[Any], saved: list[Any], reverse: bool) -> list[Any]:
    """Run ``length`` steps of ``run(*carries, *x_t, *ws) -> [*carries, *y_t]``, writing
    ``y_t`` into ``ys[k][t]`` and (when ``saved`` holds one store per carry) the carries
    each step started from into ``saved[k][t]``; return the final carries. ``x_types``:
    the per-step shape and dtype of each x.

    >>> ys, saved = [np.empty(3)], [np.empty(3)]
    >>> final = run_steps(lambda c, x: [c + x, c], 3, [0.0], [np.ones(3)], [],
    ...                   [((), np.dtype("f8"))], ys, saved, reverse=False)
    >>> final, ys[0].tolist(), saved[0].tolist()
    ([3.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    """
    drive = _loop(len(carries), len(xs), len(ws), len(ys), bool(saved), reverse)
    seqs = [_per_step(x, s, d) for x, (s, d) in zip(xs, x_types)]
    return drive(run, length, carries, seqs, ws, ys, saved)


def packed_stores(layout: Any, first: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A loop's packed value, uninitialised, and a store for each of its parts from
    ``first`` on (shaped ``(T, ...)``): a view of the packed value where the part has the
    pack's dtype, so steps write their results in place (no stacking copy, no second
    copy in memory), else an array of its own to copy in with :func:`fill`."""
    out = np.empty(layout.total, layout.dtype)
    stores = [out[start:start + size].reshape(shape) if dtype == layout.dtype
              else np.empty(shape, dtype)
              for start, size, (shape, dtype) in list(zip(layout.starts, layout.sizes,
                                                          layout.parts))[first:]]
    return out, stores


def fill(out: np.ndarray, layout: Any, values: list[Any], first: int = 0) -> np.ndarray:
    """Copy ``values`` (parts ``first``...) into the packed ``out``, skipping views of it."""
    for value, start, size in zip(values, layout.starts[first:], layout.sizes[first:]):
        if not (isinstance(value, np.ndarray) and value.base is out):
            out[start:start + size] = np.ravel(value)
    return out

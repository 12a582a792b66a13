"""The per-step driver of a scan: the Python ``for`` loop that calls a compiled body.

A scan of T steps spends, besides the body itself, a few Python operations per step on
bookkeeping (pick the step's slices, store the saved carries and the outputs, split the
body's results). :func:`run_steps` keeps that lean: one generated loop per arity (number
of carries, scanned inputs, closures, outputs; direction; whether carries are saved),
the body's results unpacked into locals, and float64 scalars kept as Python floats in
preallocated lists (scanned inputs read once with ``tolist``; saved carries and outputs
stacked into arrays at the end), since indexing or storing into a NumPy array costs more
than the arithmetic of a small body. The values are the body's, bit for bit: only the
containers change. The loop's source is built here from counts alone, never from user
text.

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


def _store(length: int, shape: tuple, dtype: np.dtype) -> Any:
    """Where a per-step value of ``shape`` goes: a list for float64 scalars, else an array."""
    if shape == () and dtype == _F64:
        return [0.0] * length
    return np.empty((length, *shape), dtype)


def _stacked(store: Any, length: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
    if isinstance(store, list):
        return np.array(store, dtype=dtype).reshape((length, *shape))
    return store


def _per_step(x: Any, shape: tuple, dtype: np.dtype) -> Any:
    """The steps' slices of a scanned input: Python floats for a float64 vector."""
    if shape == () and dtype == _F64 and isinstance(x, np.ndarray) and x.ndim == 1 \
            and x.dtype == _F64:
        return x.tolist()
    return x


def run_steps(run: Callable[..., Sequence[Any]], length: int, carries: list[Any],
              xs: Sequence[Any], ws: list[Any], x_types: list[tuple[tuple, np.dtype]],
              y_types: list[tuple[tuple, np.dtype]], c_types: list[tuple[tuple, np.dtype]],
              reverse: bool, save: bool) -> tuple[list[Any], list[np.ndarray], list[np.ndarray]]:
    """Run ``length`` steps of ``run(*carries, *x_t, *ws) -> [*carries, *ys]``; return the
    final carries, the stacked outputs and (when ``save``) the stacked carries each step
    started from (``*_types``: the per-step shape and dtype of each x, y and carry).

    >>> final, ys, saved = run_steps(lambda c, x: [c + x, c], 3, [0.0], [np.ones(3)], [],
    ...                              [((), np.dtype("f8"))], [((), np.dtype("f8"))],
    ...                              [((), np.dtype("f8"))], reverse=False, save=True)
    >>> final, ys[0].tolist(), saved[0].tolist()
    ([3.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    """
    m, r = len(carries), len(y_types)
    drive = _loop(m, len(xs), len(ws), r, save, reverse)
    seqs = [_per_step(x, s, d) for x, (s, d) in zip(xs, x_types)]
    ys = [_store(length, s, d) for s, d in y_types]
    saved = [_store(length, s, d) for s, d in c_types] if save else []
    final = drive(run, length, carries, seqs, ws, ys, saved)
    return (final, [_stacked(y, length, s, d) for y, (s, d) in zip(ys, y_types)],
            [_stacked(c, length, s, d) for c, (s, d) in zip(saved, c_types)])

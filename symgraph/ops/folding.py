"""The one constant-folding rule of symgraph, and when a product of constants is exact.

Owns: :func:`fold` (used by the derivative builders, the rewrite rules and the plan of
compiled code), :func:`fill_value`, :func:`exact_product` and :func:`exact_cast` (a
constant's conversion to its dtype). ``symgraph.ops.core``
re-exports them.

Imports: NumPy only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# --- constant folding ------------------------------------------------------------------------
# The one folding rule, used by the derivative builders (ops.elementwise.apply), the
# rewrite rules and the plan of compiled code: results of at most FOLD_LIMIT elements
# (a larger constant would bloat the graph or the compiled function), computed from
# inputs of at most FOLD_INPUT_LIMIT (a sum over a huge fill would take hours); an
# elementwise op of fills (zero-stride arrays) is a fill of any size, computed once.
FOLD_LIMIT = 256
FOLD_INPUT_LIMIT = 1 << 16


def fill_value(value: np.ndarray) -> np.ndarray | None:
    """The one element of a constant stored as a fill (0-d, or zero strides) as a 0-d
    array, or None for any other array (read without expanding the fill)."""
    if value.ndim == 0:
        return value
    if value.size and not any(value.strides):
        return np.asarray(value[(0,) * value.ndim])
    return None


def fold(op: Any, values: Sequence[np.ndarray], attrs: dict, shape: tuple,
         elementwise: bool) -> np.ndarray | None:
    """``op`` of constant arrays ``values``, computed now and compactly; None where it is
    not folded: a result of more than ``FOLD_LIMIT`` elements or an input of more than
    ``FOLD_INPUT_LIMIT`` (unless ``elementwise`` and every input is a fill: then the
    result is a fill, whatever its size), or an op that raises (it then fails at run
    time, where evaluate reports it). Floating-point warnings are silenced, as evaluate
    silences them.

    >>> import symgraph as sg
    >>> v = fold(sg.OPS["add"], [np.broadcast_to(1.0, (1 << 20, 1 << 20)), np.asarray(2.0)],
    ...          {}, (1 << 20, 1 << 20), elementwise=True)
    >>> float(v[5, 7]), v.strides
    (3.0, (0, 0))
    """
    firsts = [fill_value(v) for v in values] if elementwise else [None]
    try:
        with np.errstate(all="ignore"):
            if None not in firsts:
                return np.broadcast_to(np.asarray(op.impl(*firsts, **attrs)), shape)
            if (None in shape or math.prod(shape) > FOLD_LIMIT
                    or any(v.size > FOLD_INPUT_LIMIT for v in values)):
                return None
            return np.asarray(op.impl(*values, **attrs))
    except Exception:  # noqa: BLE001 - an op failing on these constants waits for run time
        return None


def exact_product(c: Any, d: Any, dtype: Any = None) -> bool:
    """Whether ``c*(d*x) == (c*d)*x`` for every ``x`` (NaN, inf, -0.0 included, up to
    rounding): both factors of magnitude >= 1 with a finite product (the two sides then
    overflow together), or both <= 1 with a normal product (they underflow together).
    ``1e-200*(1e-200*x)`` against ``0*x``, or ``1e300*(1e-300*x)``, show why not others.
    Finite and normal in ``dtype``, the float type the product is computed in (default:
    the constants' own, float64 for Python numbers): ``1e20*1e20`` is inf in float32.

    >>> exact_product(2.0, 3.0), exact_product(0.5, 0.25), exact_product(4.0, 0.5)
    (True, True, False)
    >>> exact_product(np.float32(1e20), np.float32(1e20))
    False
    """
    if dtype is None:
        dtype = np.result_type(np.asarray(c), np.asarray(d))
    info = np.finfo(dtype if np.dtype(dtype).kind == "f" else np.float64)
    c, d = np.abs(np.asarray(c, dtype=np.float64)), np.abs(np.asarray(d, dtype=np.float64))
    with np.errstate(all="ignore"):
        p = c * d
        return bool((np.all(c >= 1) and np.all(d >= 1) and np.all(np.isfinite(p))
                     and np.all(np.isfinite(p.astype(info.dtype))))
                    or (np.all(c <= 1) and np.all(d <= 1)
                        and np.all(p >= info.tiny)))


def exact_cast(raw: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``raw`` as ``dtype`` if every value survives (floats may round, but a finite value
    may not become inf); else ValueError. ``astype`` alone makes 1.5 an int 1 and wraps
    300 round to an int8 44.

    >>> exact_cast(np.array([1.0, 2.0]), np.dtype("int64")).tolist()
    [1, 2]
    """
    with np.errstate(all="ignore"):
        array = raw.astype(dtype)
        if raw.dtype.kind in "biuf" and not np.array_equal(array, raw, equal_nan=True) and (
                dtype.kind != "f" or not (np.isfinite(array) | ~np.isfinite(raw)).all()):
            raise ValueError(f"its values do not fit {dtype} (give values that fit, or "
                             "another dtype)")
    return array

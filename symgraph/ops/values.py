"""Constant values: how they are told apart (interning keys) and how they read (labels).

Owns: the interning keys of constants and of op attributes (a float ``-0.0`` is told from
``0.0``, which compares and hashes equal to it) and the text of numbers and constants
(``format_number``: the shortest text that reads back as the same number; ``const_label``).

Imports: the standard library and NumPy only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def attr_key(attrs: dict) -> Any:
    """The attributes' part of an interning key: their items, with a float -0.0 told from
    0.0 (equal and hashed alike, so ``nan_to_num(x, nan=-0.0)`` would be the node
    ``nan_to_num(x, nan=0.0)``, which gives 0.0 where NumPy gives -0.0).

    >>> attr_key({"nan": 0.0}) == attr_key({"nan": -0.0})
    False
    """
    items = attrs.items()
    for _, value in items:
        # (make runs this for every node with attributes: ints, bools, None and tuples of
        # ints, nearly all of them, are passed without a call)
        if value.__class__ not in _NO_ZERO_SIGN and _has_negative_zero(value):
            return tuple((k, _signed_zero_key(v)) for k, v in items)
    return items


_NO_ZERO_SIGN = frozenset({int, bool, type(None), str})


def _has_negative_zero(value: Any) -> bool:
    kind = type(value)
    if kind is tuple:
        for v in value:
            if v.__class__ is not int and _has_negative_zero(v):
                return True
        return False
    if kind is float or (kind not in _NO_ZERO_SIGN and isinstance(value, np.floating)):
        return value == 0 and math.copysign(1.0, value) < 0
    return False


def _signed_zero_key(value: Any) -> Any:
    if type(value) is tuple:
        return tuple(_signed_zero_key(v) for v in value)
    return ("-0.0",) if _has_negative_zero(value) else value


def format_number(v: Any) -> str:
    """A number as text that reads back as the same number: integral floats as integers
    (``2``, not ``2.0``), others at their shortest exact text in their own precision
    (``0.3333333333333333``, ``0.1`` for float32's 0.1), ``-0.0`` with its sign.

    >>> [format_number(v) for v in (2.0, 1 / 3, np.float32(0.1), -0.0)]
    ['2', '0.3333333333333333', '0.1', '-0.0']
    """
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    if not np.isfinite(f):  # int(nan) would raise while printing
        return str(f)
    if f == 0.0 and np.signbit(f):
        return "-0.0"  # int(-0.0) is 0: the sign would be lost
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    # NumPy's str of its own scalar type is the shortest text that rounds back to it
    return str(v) if isinstance(v, (np.float16, np.float32)) else repr(f)


def const_label(node: Any) -> str:
    """How a constant prints: ``2``, ``0.5``, ``[1, 2]``, ``zeros(3, 4)``, or its name."""
    if node.name:
        return node.name
    value = node.attrs["value"]
    if value.ndim == 0:
        return format_number(value[()])
    if value.size and not any(value.strides):
        return fill_label(value.flat[0], value.shape)
    if value.size <= 4 and value.ndim == 1:
        return "[" + ", ".join(format_number(v) for v in value) + "]"
    return f"const{value.shape}"


def fill_label(fill: Any, shape: tuple) -> str:
    """How an array of one repeated number reads, as NumPy makes it.

    >>> fill_label(0.0, (2, 3)), fill_label(1, (3,)), fill_label(2.5, (3,))
    ('zeros(2, 3)', 'ones(3)', 'full(3, 2.5)')
    """
    dims = ", ".join(map(str, shape))
    if fill == 0 and not np.signbit(fill):  # -0.0: full(3, -0.0)
        return f"zeros({dims})"
    if fill == 1:
        return f"ones({dims})"
    shown = shape[0] if len(shape) == 1 else shape  # NumPy's full(3, 2)
    return f"full({shown}, {format_number(fill)})"


def const_key(value: np.ndarray) -> tuple | None:
    if not value.ndim:  # a number: the fill key below, without NumPy's flat iterator
        return ("const", value.dtype.str, (), "fill", value.tobytes())
    if value.size and not any(value.strides):  # a broadcast fill: zeros(shape), ones(shape)
        return ("const", value.dtype.str, value.shape, "fill", value.flat[0].tobytes())
    if value.size <= 256:
        return ("const", value.dtype.str, value.shape, value.tobytes())
    return None  # large constants are not interned: hashing them would cost more than sharing

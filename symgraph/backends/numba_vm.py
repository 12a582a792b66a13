"""The ``numba`` backend's one interpreter: :func:`run` executes any tape.

Owns :func:`run`, the only Numba-compiled function of symgraph. A tape (made by
``symgraph.backends.numba_tape``) is an ``int32`` array of rows ``(opcode, out, a, b,
c)`` over a ``float64`` work vector: row ``t`` reads ``w[a]``, ``w[b]`` (and ``w[c]``
for ``where``) and writes ``w[out]``. Unused operand columns hold a valid slot (0), so
every row reads ``w[a]`` and ``w[b]`` unconditionally: no branch before the dispatch.

Compiled once per installation (``cache=True``: the machine code is kept beside this file,
or in Numba's cache directory), with ``error_model="numpy"`` so ``1/0``, ``log(-1)`` and
``exp(1000)`` give inf and NaN as NumPy does, and ``nogil=True`` so calls from several
threads run at once. No graph is ever compiled natively: straight-line Numba code
compiles superlinearly in its length.

Every scalar form follows NumPy's own loop (the same rules as the ``python`` backend's
templates in ``symgraph.backends.python_forms``): ``maximum`` returns its first operand
when it is NaN or greater, else the second (so a tie of 0.0 and -0.0 gives the second),
``sum`` of a scalar is ``x + 0.0``, ``power`` at exponent 0.5 is ``sqrt``, ``softplus``
and ``logaddexp`` branch as ``npy_logaddexp``, ``mod`` as ``npy_divmod``.

Imports: ``numba``, ``numpy``, ``symgraph.backends.numba_tape`` (the opcodes). Imported
only when the ``numba`` backend compiles a tape, never by ``import symgraph``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from symgraph.backends.numba_tape import (
    ABS,
    ACOS,
    ACOSH,
    ADD,
    ADD0,
    ASIN,
    ASINH,
    ATAN,
    ATAN2,
    ATANH,
    CEIL,
    CLIP,
    COPY,
    COS,
    COSH,
    DIV,
    EQ_ONE,
    EXP,
    EXP2,
    EXPM1,
    FLOOR,
    GE,
    GT,
    HYPOT,
    ISFINITE,
    ISNAN,
    LE,
    LOG,
    LOG1P,
    LOG2,
    LOG10,
    LOGADDEXP,
    LT,
    MAX2,
    MIN2,
    MOD,
    MUL,
    NE,
    NEG,
    POW,
    RELU,
    SIGMOID,
    SIGN,
    SIN,
    SINH,
    SOFTPLUS,
    SQRT,
    SQUARE,
    SUB,
    TAN,
    TANH,
    TOBOOL,
    WHERE,
)

_LN2 = math.log(2.0)


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _logaddexp(x: float, y: float) -> float:
    # npy_logaddexp: equal operands (inf included) first, then the larger one plus log1p
    if x == y:
        return x + _LN2
    d = x - y
    if d > 0.0:
        return x + math.log1p(math.exp(-d))
    if d <= 0.0:
        return y + math.log1p(math.exp(d))
    return d  # NaN


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _mod(a: float, b: float) -> float:
    # npy_divmod's remainder: fmod, moved to the divisor's sign; a zero takes b's sign
    m = np.fmod(a, b)
    if b == 0.0:
        return m
    if m != 0.0:
        if (b < 0.0) != (m < 0.0):
            m += b
    else:
        m = math.copysign(0.0, b)
    return m


@njit("void(int32[:, ::1], float64[::1])", cache=True, error_model="numpy", nogil=True)
def run(code: np.ndarray, w: np.ndarray) -> None:  # pragma: no cover - runs natively
    """Execute the tape ``code`` on the work vector ``w`` (inputs and constants preset)."""
    for t in range(code.shape[0]):
        op = code[t, 0]
        x = w[code[t, 2]]
        y = w[code[t, 3]]
        # the most frequent opcodes of derivative graphs first
        if op == ADD:
            r = x + y
        elif op == MUL:
            r = x * y
        elif op == SUB:
            r = x - y
        elif op == NEG:
            r = -x
        elif op == DIV:
            r = x / y
        elif op == SQUARE:
            r = x * x
        elif op == SIN:
            r = math.sin(x)
        elif op == COS:
            r = math.cos(x)
        elif op == EXP:
            r = math.exp(x)
        elif op == LOG:
            r = math.log(x)
        elif op == TANH:
            r = math.tanh(x)
        elif op == SQRT:
            r = math.sqrt(x)
        elif op == COPY:
            r = x
        elif op == ADD0:
            r = x + 0.0
        elif op == POW:
            r = math.sqrt(x) if y == 0.5 else x ** y
        elif op == WHERE:
            r = y if x != 0.0 else w[code[t, 4]]
        elif op == MAX2:
            r = x if x > y or math.isnan(x) else y
        elif op == MIN2:
            r = x if x < y or math.isnan(x) else y
        elif op == RELU:
            r = x if x > 0.0 or math.isnan(x) else 0.0
        elif op == SIGMOID:
            e = math.exp(-abs(x))
            r = 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)
        elif op == SOFTPLUS:
            r = _logaddexp(0.0, x)
        elif op == ABS:
            r = abs(x)
        elif op == SIGN:
            r = 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else x
        elif op == LT:
            r = 1.0 if x < y else 0.0
        elif op == LE:
            r = 1.0 if x <= y else 0.0
        elif op == GT:
            r = 1.0 if x > y else 0.0
        elif op == GE:
            r = 1.0 if x >= y else 0.0
        elif op == NE:
            r = 1.0 if x != y else 0.0
        elif op == TOBOOL:
            r = 1.0 if x != 0.0 else 0.0
        elif op == ISNAN:
            r = 1.0 if math.isnan(x) else 0.0
        elif op == ISFINITE:
            r = 1.0 if x - x == 0.0 else 0.0
        elif op == EQ_ONE:
            r = 1.0
        elif op == TAN:
            r = math.tan(x)
        elif op == LOG1P:
            r = math.log1p(x)
        elif op == EXPM1:
            r = math.expm1(x)
        elif op == ASIN:
            r = math.asin(x)
        elif op == ACOS:
            r = math.acos(x)
        elif op == ATAN:
            r = math.atan(x)
        elif op == SINH:
            r = math.sinh(x)
        elif op == COSH:
            r = math.cosh(x)
        elif op == ASINH:
            r = math.asinh(x)
        elif op == ACOSH:
            r = math.acosh(x)
        elif op == ATANH:
            r = math.atanh(x)
        elif op == LOG2:
            r = math.log2(x)
        elif op == LOG10:
            r = math.log10(x)
        elif op == EXP2:
            r = 2.0 ** x
        elif op == ATAN2:
            r = math.atan2(x, y)
        elif op == HYPOT:
            r = math.hypot(x, y)
        elif op == LOGADDEXP:
            r = _logaddexp(x, y)
        elif op == FLOOR:
            r = np.floor(x)
        elif op == CEIL:
            r = np.ceil(x)
        elif op == MOD:
            r = _mod(x, y)
        elif op == CLIP:  # NumPy's clip loop: NaN-propagating, a tie keeps the first
            c = w[code[t, 4]]
            r = x if x >= y or math.isnan(x) else y
            r = r if r <= c or math.isnan(r) else c
        else:  # no tape holds another opcode (numba_tape.lower makes them all)
            r = np.nan
        w[code[t, 1]] = r

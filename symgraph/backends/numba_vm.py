"""The ``numba`` backend's interpreter: :func:`run` executes any tape, :func:`run_loops`
any tape with loops.

Owns :func:`run`, :func:`run_loops` and :func:`allocate` (the tape's slots), with
``numba_order.schedule`` the only Numba-compiled functions of symgraph; the scalar forms
are written once (:func:`_apply`,
inlined into both interpreters). A tape (made by ``symgraph.backends.numba_tape``) is an
``int32`` array of rows ``(opcode, out, a, b, c)`` over a ``float64`` work vector: row
``t`` reads ``w[a]``, ``w[b]`` (and ``w[c]`` for ``where``) and writes ``w[out]``. Unused
operand columns hold a valid slot (0), so every row reads ``w[a]`` and ``w[b]``
unconditionally: no branch before the dispatch. A tape with loops
(``symgraph.backends.numba_loops``) adds rows that move regions by a counter and jump
back; :func:`run_loops` is a ``while`` over the rows for them (``run`` stays a plain
``for``: its graphs never jump).

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
    AND,
    ASIN,
    ASINH,
    ATAN,
    ATAN2,
    ATANH,
    CEIL,
    CLIP,
    COPY,
    COPYN,
    COS,
    COS_MUL,
    COSH,
    DIV,
    EQ_ONE,
    ERF,
    EXP,
    EXP2,
    EXPM1,
    FLOOR,
    FLOOR_DIVIDE,
    GE,
    GT,
    HYPOT,
    ISFINITE,
    ISNAN,
    JUMP,
    JUMP_IFNOT,
    LE,
    LOAD,
    LOG,
    LOG1P,
    LOG2,
    LOG10,
    LOGADDEXP,
    LOOP_DOWN,
    LOOP_UP,
    LT,
    MAX2,
    MIN2,
    MOD,
    MUL,
    MUL_ADD,
    MUL_MUL,
    MUL_NEG,
    MUL_SUB,
    NE,
    NEG,
    NEG_MUL,
    NOT,
    OR,
    POW,
    RELU,
    SIGMOID,
    SIGN,
    SIN,
    SIN_MUL,
    SINCOS,
    SINH,
    SOFTPLUS,
    SQ_SUB,
    SQRT,
    SQUARE,
    STORE,
    SUB,
    TAN,
    TANH,
    TOBOOL,
    WHERE,
    XOR,
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


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _floor_divide(a: float, b: float) -> float:
    # npy_divmod's quotient: (a - fmod(a, b)) / b, one less where the remainder moves to
    # b's sign, snapped to an integer; x // 0 is x / 0; a zero takes the sign of a / b
    if b == 0.0:
        return a / b
    m = np.fmod(a, b)
    d = (a - m) / b
    if m != 0.0 and (b < 0.0) != (m < 0.0):
        d -= 1.0
    if d == 0.0:
        return math.copysign(0.0, a / b)
    f = np.floor(d)
    if d - f > 0.5:
        f += 1.0
    return f


@njit("Tuple((int32[:, ::1], int64, boolean[::1]))(int32[::1], int32[::1], int32[::1], "
      "int32[::1], int32[::1], int32[::1], int32[::1], int64, int32[:, ::1], int32[::1])",
      cache=True, nogil=True)
def allocate(codes: np.ndarray, lens: np.ndarray, flat: np.ndarray, steps: np.ndarray,
             slot_of: np.ndarray, last: np.ndarray, count: np.ndarray, size: int,
             fused: np.ndarray, second: np.ndarray) -> tuple:  # pragma: no cover - native
    """The tape's rows from the steps' opcodes and operands (``flat``, ``lens`` per step,
    as plan slots): each value takes a work slot freed by a value read for the last time
    (``last``) at or before its step (CasADi's live-variable reuse), so the work vector
    holds only what is live at once; ``slot_of`` (plan slot -> work slot, inputs and
    constants preset) is filled in. A step read only by the next one (``count``) and not
    kept is fused into it where ``fused[producer, consumer]`` has an opcode. A step with
    a ``second`` output (a plan slot, else -1: ``SINCOS``) takes a slot for it too, in
    column ``c``. Returns the rows, the work vector's length and which steps were fused
    into the row before."""
    n = codes.shape[0]
    start = np.zeros(n + 1, np.int64)  # the values dying at each step, bucketed
    for i in range(last.shape[0]):
        if last[i] >= 0:
            start[last[i] + 1] += 1
    for t in range(n):
        start[t + 1] += start[t]
    dying = np.empty(start[n], np.int32)
    fill = start[:n].copy()
    for i in range(last.shape[0]):
        if last[i] >= 0:
            dying[fill[last[i]]] = i
            fill[last[i]] += 1
    free = np.empty(slot_of.shape[0] + 1, np.int32)
    top = 0
    rows = np.zeros((n, 5), np.int32)
    merged = np.zeros(n, np.bool_)
    r = 0
    k = 0  # where step t's operands start in flat
    prev = -1  # the previous row's opcode while it may take this step in
    for t in range(n):
        for j in range(start[t], start[t + 1]):
            free[top] = slot_of[dying[j]]
            top += 1
        if top > 0:
            top -= 1
            out = free[top]
        else:
            out = size
            size += 1
        slot_of[steps[t]] = out
        code = codes[t]
        m = lens[t]
        if second[t] >= 0:  # after out: the two outputs never share a slot
            if top > 0:
                top -= 1
                rows[r, 4] = free[top]
            else:
                rows[r, 4] = size
                size += 1
            slot_of[second[t]] = rows[r, 4]
        if prev >= 0 and fused[prev, code] >= 0:
            p = steps[t - 1]
            first = flat[k] == p
            uses = 0
            for j in range(k, k + m):
                if flat[j] == p:
                    uses += 1
            if count[p] == 1 and last[p] >= 0 and uses == 1 and not (code == SUB and first):
                other = 0
                if m > 1:
                    other = slot_of[flat[k + 1]] if first else slot_of[flat[k]]
                rows[r - 1, 0] = fused[prev, code]
                rows[r - 1, 1] = out
                if prev == MUL:  # a binary producer: its two operands, then the other
                    rows[r - 1, 4] = other
                else:
                    rows[r - 1, 3] = other
                merged[t] = True
                prev = -1
                k += m
                continue
        rows[r, 0] = code
        rows[r, 1] = out
        for j in range(m):
            rows[r, 2 + j] = slot_of[flat[k + j]]
        r += 1
        prev = code
        k += m
    return rows[:r].copy(), size, merged


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _apply(op: int, x: float, y: float, w: np.ndarray, code: np.ndarray,
           t: int) -> float:  # pragma: no cover - runs natively
    """The value of row ``t`` (opcode ``op``, operands ``x``, ``y`` read already): inlined
    into both interpreters, so they share one copy of every scalar form."""
    # the most frequent opcodes of derivative graphs first
    if op == ADD:
        r = x + y
    elif op == MUL:
        r = x * y
    elif op == MUL_ADD:
        r = x * y + w[code[t, 4]]
    elif op == SUB:
        r = x - y
    elif op == NEG_MUL:
        r = -x * y
    elif op == MUL_NEG:
        r = -(x * y)
    elif op == MUL_MUL:
        r = x * y * w[code[t, 4]]
    elif op == MUL_SUB:  # c - a*b (a product read as the second operand of a difference)
        r = w[code[t, 4]] - x * y
    elif op == SQ_SUB:
        r = y - x * x
    elif op == COS_MUL:
        r = math.cos(x) * y
    elif op == SINCOS:  # x is read: c may be a's slot
        w[code[t, 4]] = math.cos(x)
        r = math.sin(x)
    elif op == SIN_MUL:
        r = math.sin(x) * y
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
    # the later, rarer opcodes last: each test above runs for every row of the ops below
    elif op == FLOOR_DIVIDE:
        r = _floor_divide(x, y)
    elif op == AND:  # NumPy's logic: any nonzero value is true, NaN included
        r = 1.0 if x != 0.0 and y != 0.0 else 0.0
    elif op == OR:
        r = 1.0 if x != 0.0 or y != 0.0 else 0.0
    elif op == XOR:
        r = 1.0 if (x != 0.0) != (y != 0.0) else 0.0
    elif op == NOT:
        r = 1.0 if x == 0.0 else 0.0
    elif op == ERF:
        r = math.erf(x)
    else:  # no tape holds another opcode (numba_tape.lower makes them all)
        r = np.nan
    return r


@njit("void(int32[:, ::1], float64[::1])", cache=True, error_model="numpy", nogil=True)
def run(code: np.ndarray, w: np.ndarray) -> None:  # pragma: no cover - runs natively
    """Execute the tape ``code`` on the work vector ``w`` (inputs and constants preset)."""
    for t in range(code.shape[0]):
        w[code[t, 1]] = _apply(code[t, 0], w[code[t, 2]], w[code[t, 3]], w, code, t)


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _loop_row(op: int, x: float, w: np.ndarray, out: np.uint32, b: np.uint32,
              c: int) -> int:  # pragma: no cover - runs natively
    """Run the loop row ``op`` (not ``COPYN``; ``x`` is ``w[a]``): the row to jump to, or
    -1 for the next one."""
    if op == LOAD:  # w[out:out+c] = step x's slice of the stack at b
        at = np.uint64(b) + np.uint64(x) * np.uint64(c)
        for j in range(np.uint64(c)):
            w[np.uint64(out) + j] = w[at + j]
    elif op == STORE:  # step x's slice of the stack at out = w[b:b+c]
        at = np.uint64(out) + np.uint64(x) * np.uint64(c)
        for j in range(np.uint64(c)):
            w[at + j] = w[np.uint64(b) + j]
    elif op == LOOP_UP:
        w[out] = x + 1.0
        if x + 1.0 < w[b]:
            return c
    elif op == LOOP_DOWN:
        w[out] = x - 1.0
        if x - 1.0 >= w[b]:
            return c
    elif op == JUMP:
        return c
    elif op == JUMP_IFNOT:  # (a branch's or a while loop's test: x is 0.0 or 1.0)
        if x == 0.0:
            return c
    return -1


@njit(cache=True, error_model="numpy", nogil=True)
def run_loops(code: np.ndarray, w: np.ndarray) -> None:  # pragma: no cover - runs natively
    """Execute a tape with loops (``numba_loops``' rows: ``LOAD``/``STORE`` of a step's
    slice by the counter in ``w[a]``, ``COPYN`` of a region, ``LOOP_UP``/``LOOP_DOWN``:
    count and jump back to row ``c`` while steps are left; ``JUMP`` to row ``c``, and
    ``JUMP_IFNOT`` there when ``w[a]`` is false).

    Why it is written so (a loop's rows run ``T`` times, and the dispatch is most of a
    row's cost): slots are read through an unsigned view of the tape (a slot is never
    negative: no wrap-around test per index), and the scalar rows come first, the loop
    rows after them (the frequent rows fall through, one taken jump less each), a
    scalar's ``LOAD`` or ``STORE`` before the other loop rows."""
    slots = code.view(np.uint32)
    t = 0
    n = code.shape[0]
    while t < n:
        r = np.uint64(t)
        op = code[r, 0]
        x = w[slots[r, 2]]
        if op < LOAD:
            w[slots[r, 1]] = _apply(op, x, w[slots[r, 3]], w, slots, r)
            t += 1
            continue
        out, b, c = slots[r, 1], slots[r, 3], code[r, 4]
        if c == 1 and op <= STORE:  # a scalar's LOAD or STORE (most are), without a loop
            if op == LOAD:
                w[out] = w[np.uint64(b) + np.uint64(x)]
            else:
                w[np.uint64(out) + np.uint64(x)] = w[b]
            t += 1
            continue
        if op == COPYN:
            a = slots[r, 2]
            for j in range(np.uint64(c)):
                w[np.uint64(out) + j] = w[np.uint64(a) + j]
            t += 1
            continue
        jump = _loop_row(op, x, w, out, b, c)
        t = t + 1 if jump < 0 else jump

"""A loop body's new carries written straight into the carries' slots, not copied there.

Owns :func:`carries_last` (a scalar body's rows-to-be reordered so that each new carry is
computed last) and :func:`in_place` (a body's rows rewritten so that the row computing a
new carry writes it into its carry's slot).

Why: a loop body's rows run once per step, and each row costs a dispatch of the tape's
interpreter (most of a row's time). A step that ends with one ``carry = copy(new)`` row
per carry pays those rows ``T`` times; the row computing ``new`` can write the carry's
slot itself when no later row of the step reads the old carry. Computing the new carries
last (they are read by no other step, else they stay where they are) makes that the
common case: an RK4 step reads its state up to its last stage.

What stays a copy: a carry passed through (``c' = c``: no row at all), a carry whose new
value is another carry, a closure, a step's input or a constant (a swap ``(a, b) -> (b,
a)`` goes through temporaries, in ``numba_loops``), a carry another carry's copy reads,
a carry read after its new value is made, an array carry, and every carry of a body
holding rows other than scalar ones and ``STORE`` (a nested loop, a branch: their rows
jump, so "later" is not the row order).

Imports: ``numpy``, ``symgraph.backends.numba_tape`` (the opcodes).
"""

from __future__ import annotations

import numpy as np

from symgraph.backends.numba_tape import (
    CLIP,
    LOAD,
    MUL_ADD,
    MUL_MUL,
    MUL_SUB,
    SINCOS,
    STORE,
    SUB,
    WHERE,
    _FUSED,
)

# scalar rows that read their column c (SINCOS writes it; the others leave it 0)
_READS_C = frozenset({MUL_ADD, MUL_MUL, MUL_SUB, WHERE, CLIP})


def carries_last(codes: np.ndarray, lens: np.ndarray, args: np.ndarray, writes: np.ndarray,
                 second: np.ndarray, last: np.ndarray, count: np.ndarray,
                 carries: list[int]) -> tuple:
    """``numba_order.schedule``'s rows-to-be (opcodes, operand counts, operands flat, the
    written plan slots, ``second`` outputs, per slot its last reader by position) with the
    rows computing the plan slots ``carries`` moved to the end, each with the row before
    it when ``numba_vm.allocate`` would fuse the two into one row. A row moves only if no
    other step reads its value (``count``) and it writes one value.

    >>> import numpy as np
    >>> from symgraph.backends.numba_tape import ADD, MUL
    >>> one = lambda *v: np.array(v, np.int32)
    >>> # slot 3 = 0 * 1 (the new carry), slot 4 = 0 + 2 (a step's result), 0 the carry
    >>> out = carries_last(one(MUL, ADD), one(2, 2), one(0, 1, 0, 2), one(3, 4),
    ...                    one(-1, -1), one(1, 0, 1, -1, -1), one(2, 1, 1, 0, 0), [3])
    >>> out[3].tolist(), out[2].tolist(), out[5].tolist()
    ([4, 3], [0, 2, 0, 1], [1, 1, 0, -1, -1])
    """
    n = len(codes)
    start = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=start[1:])
    merged = _merged(codes, start, args, writes, last, count)
    position = {v: i for i, v in enumerate(writes.tolist())}
    moved: list[int] = []
    for v in dict.fromkeys(carries):
        i = position.get(v)
        if i is None or i in moved or count[v] or second[i] >= 0:
            continue
        moved += [i - 1, i] if merged[i] else [i]
    if not moved:
        return codes, lens, args, writes, second, last
    gone = set(moved)
    order = np.array([i for i in range(n) if i not in gone] + moved, np.int64)
    flat = np.concatenate([args[start[i]:start[i + 1]] for i in order])
    lens = lens[order]
    new_last = np.full(len(last), -1, last.dtype)
    np.maximum.at(new_last, flat, np.repeat(np.arange(n, dtype=last.dtype), lens))
    new_last[last < 0] = -1  # outputs, carries, closures and constants never die
    return codes[order], lens, flat, writes[order], second[order], new_last


def _merged(codes: np.ndarray, start: np.ndarray, args: np.ndarray, writes: np.ndarray,
            last: np.ndarray, count: np.ndarray) -> list[bool]:
    """Per row-to-be, whether ``numba_vm.allocate`` fuses the row before into it (its
    test, in the same order: a row that took one in takes no other)."""
    merged = [False] * len(codes)
    for t in range(1, len(codes)):
        p, mine = writes[t - 1], args[start[t]:start[t + 1]].tolist()
        merged[t] = not merged[t - 1] and _FUSED[codes[t - 1], codes[t]] >= 0 and \
            count[p] == 1 and last[p] >= 0 and mine.count(p) == 1 and \
            not (codes[t] == SUB and mine[0] == p)
    return merged


def _reads(row: tuple) -> tuple:
    """The slots a scalar row or a ``STORE`` reads."""
    op, _, a, b, c = row
    if op == STORE:
        return (a, *range(b, b + c))
    return (a, b, c) if op in _READS_C else (a, b)


def in_place(rows: list, first: int, carries: list[int], news: list[int],
             sizes: list[int]) -> list[int]:
    """Rewrite the body's rows ``rows[first:]`` (its scalar rows, then the ``STORE`` of
    its per-step results) so that each new carry it can (see the module's docstring) is
    written into its carry's slot; the new carries' slots after that (a carry's own slot
    where it is in place: no copy left).

    >>> from symgraph.backends.numba_tape import ADD, MUL
    >>> rows = [(MUL, 5, 1, 2, 0), (ADD, 6, 5, 1, 0)]  # w5 = w1 * w2, w6 = w5 + w1
    >>> in_place(rows, 0, [1, 2], [6, 5], [1, 1])  # carries w1, w2 -> w6, w5
    [1, 2]
    >>> rows == [(MUL, 2, 1, 2, 0), (ADD, 1, 2, 1, 0)]  # w2 = w1 * w2, w1 = w2 + w1
    True
    """
    body = rows[first:]
    if any(op >= LOAD and op != STORE for op, *_ in body):
        return news
    news = list(news)
    spans = [(c, c + size) for c, size in zip(carries, sizes)]
    for k, (carry, size) in enumerate(zip(carries, sizes)):
        new = news[k]
        if size != 1 or any(lo <= new < hi for lo, hi in spans) or any(
                j != k and r <= carry < r + sizes[j] for j, r in enumerate(news)):
            continue
        made = [t for t, (op, out, _, _, c) in enumerate(body)
                if op != STORE and (out == new or op == SINCOS and c == new)]
        if not made:
            continue  # a closure, a step's input or a constant: copied
        p = made[-1]
        later = body[p + 1:]
        if any(carry in _reads(row) for row in later) or any(
                op == STORE and b <= new < b + c and (b, c) != (new, 1)
                for op, _, _, b, c in later):
            continue
        op, out, a, b, c = body[p]
        body[p] = (op, carry, a, b, c) if out == new else (op, out, a, b, carry)
        for t, row in enumerate(later, p + 1):
            op, out, a, b, c = row
            body[t] = (op, out, carry if a == new else a, carry if b == new else b,
                       carry if c == new and op in _READS_C else c)
        news = [carry if r == new else r for r in news]
    rows[first:] = body
    return news

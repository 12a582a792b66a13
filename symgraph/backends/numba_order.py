"""The order of a straight tape's rows: :func:`schedule` merges and reorders a plan's steps
before ``numba_vm.allocate`` gives them work slots.

Owns :func:`schedule` (Numba-compiled once per installation, ``cache=True``, as
``numba_vm``'s functions: lowering stays about a microsecond a step). Why an order at all:
the interpreter spends most of a random graph's time in its dispatch (one indirect jump a
row, mispredicted whenever the opcode changes; on a W5 gradient the same rows with one
opcode throughout run ~3x faster). Any topological order computes the same values, so the
steps are listed by a list scheduler (Kahn's algorithm) that keeps to the current opcode
while a row of it is ready, else switches to the opcode with the most rows ready; one
stack per opcode, so a value's readers tend to follow it soon (the work vector stays
small). Before that, steps are merged into rows:

- a step read by one other step only (and not an output) goes right before it when the
  pair has a fused opcode (``fused[producer, consumer]``, ``numba_tape._FUSE``):
  ``allocate`` fuses such adjacent pairs into one row, wherever the graph put them;
- ``cos(x)`` joins a ``sin(x)`` of the same ``x`` as one ``SINCOS`` row writing both values
  (a gradient of ``sin`` reads ``cos`` of its argument): the cosine is computed beside the
  sine, off the chain of later rows that wait for it.

Imports: ``numba``, ``numpy``, ``symgraph.backends.numba_tape`` (the opcodes). Imported
only when a tape is lowered.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from symgraph.backends.numba_tape import COS, SIN, SINCOS, SUB


@njit(cache=True, nogil=True)
def schedule(codes: np.ndarray, start: np.ndarray, flat: np.ndarray, steps: np.ndarray,
             count: np.ndarray, last: np.ndarray, reader_start: np.ndarray,
             reader_steps: np.ndarray, fused: np.ndarray) -> tuple:  # pragma: no cover
    """The plan's steps merged and reordered (see the module's docstring).

    ``codes`` are the steps' opcodes, step ``t`` reads the plan slots ``flat[start[t]:
    start[t + 1]]`` and writes ``steps[t]``; ``count`` and ``last`` are per plan slot its
    readers and its last reader (-1: an output, never freed), ``reader_steps[
    reader_start[v]:reader_start[v + 1]]`` the steps reading slot ``v`` (``Plan``'s
    arrays). Returns, per row-to-be in the new order: ``order`` (the step numbers),
    opcodes (``SINCOS`` for a sine that takes a cosine in), operand counts, the operands
    flat, the written plan slots, ``second`` (the plan slot of a ``SINCOS``'s cosine, else
    -1), and per plan slot its last reader by position in the new order (-1 kept where
    ``last`` has it)."""
    n = codes.shape[0]
    nslots = count.shape[0]
    kinds = fused.shape[0]
    made_by = np.full(nslots, -1, np.int32)
    for t in range(n):
        made_by[steps[t]] = t
    unit = np.arange(n).astype(np.int32)  # the step whose row computes step t
    code = codes.copy()  # per row: its opcode once merged
    second = np.full(n, -1, np.int32)
    cosine = np.full(n, -1, np.int32)  # the cos step a SINCOS row takes in
    sine = np.full(nslots, -1, np.int32)  # x -> a step computing sin(x)
    for t in range(n):
        if codes[t] == SIN and sine[flat[start[t]]] < 0:
            sine[flat[start[t]]] = t
    for t in range(n):
        if codes[t] == COS:
            s = sine[flat[start[t]]]
            if s >= 0 and second[s] < 0:
                second[s] = steps[t]
                cosine[s] = t
                code[s] = SINCOS
                unit[t] = s
    inner = np.full(n, -1, np.int32)  # the step fused into step t's row
    for c in range(n):
        if unit[c] != c or code[c] != codes[c]:
            continue
        k, m = start[c], start[c + 1] - start[c]
        for j in range(m):
            v = flat[k + j]
            p = made_by[v]
            if p < 0 or unit[p] != p or code[p] != codes[p] or inner[p] >= 0:
                continue
            if count[v] != 1 or last[v] < 0 or fused[codes[p], codes[c]] < 0:
                continue
            if codes[c] == SUB and j == 0:  # only c - a*b has a fused form
                continue
            uses = 0
            for i in range(k, k + m):
                if flat[i] == v:
                    uses += 1
            if uses == 1:
                inner[c] = p
                unit[p] = c
                code[c] = fused[codes[p], codes[c]]
                break
    # a row waits for each value it reads that another row makes, once per reading step
    # (the plan's readers list each step once per value it reads)
    waiting = np.zeros(n, np.int32)
    for t in range(n):
        u = unit[t]
        for i in range(start[t], start[t + 1]):
            p = made_by[flat[i]]
            if p < 0 or unit[p] == u:
                continue
            again = False
            for j in range(start[t], i):
                if flat[j] == flat[i]:
                    again = True
            if not again:
                waiting[u] += 1
    # Kahn's algorithm, a stack of ready rows per opcode
    top = np.full(kinds, -1, np.int32)
    ready = np.zeros(kinds, np.int32)
    below = np.empty(n, np.int32)
    for u in range(n):
        if unit[u] == u and waiting[u] == 0:
            below[u] = top[code[u]]
            top[code[u]] = u
            ready[code[u]] += 1
    order = np.empty(n, np.int32)
    r = 0
    now = 0
    while True:
        if ready[now] == 0:
            most = 0
            for kind in range(kinds):
                if ready[kind] > most:
                    most, now = ready[kind], kind
            if most == 0:
                break
        u = top[now]
        top[now] = below[u]
        ready[now] -= 1
        if inner[u] >= 0:
            order[r] = inner[u]
            r += 1
        order[r] = u
        r += 1
        for member in (np.int32(u), cosine[u]):
            if member < 0:
                continue
            value = steps[member]
            for i in range(reader_start[value], reader_start[value + 1]):
                v = unit[reader_steps[i]]
                if v == u:
                    continue
                waiting[v] -= 1
                if waiting[v] == 0:
                    below[v] = top[code[v]]
                    top[code[v]] = v
                    ready[code[v]] += 1
    merged = 0
    for t in range(n):
        if second[t] >= 0:
            merged += 1
    if r != n - merged:  # a cycle: a bug of the merges above, never a graph's
        raise RuntimeError("numba_order.schedule: some steps were never ready")
    order = order[:r].copy()
    new_codes = np.empty(r, np.int32)
    lens = np.empty(r, np.int32)
    out = np.empty(r, np.int32)
    seconds = np.empty(r, np.int32)
    size = 0
    for i in range(r):
        t = order[i]
        new_codes[i] = SINCOS if second[t] >= 0 else codes[t]
        lens[i] = start[t + 1] - start[t]
        out[i] = steps[t]
        seconds[i] = second[t]
        size += lens[i]
    args = np.empty(size, np.int32)
    new_last = np.full(nslots, -1, np.int32)
    k = 0
    for i in range(r):
        t = order[i]
        for j in range(start[t], start[t + 1]):
            args[k] = flat[j]
            new_last[flat[j]] = i
            k += 1
    for v in range(nslots):
        if last[v] < 0:
            new_last[v] = -1
    return order, new_codes, lens, args, out, seconds, new_last

"""The numba backend's loops: a plan holding ``scan``, ``cond`` or ``while_loop`` nodes
lowered to one tape, each body's rows written once between its counter's start and a
jump back (a branch: a jump over the body not taken).

Owns :func:`lower_loops` (plan -> :class:`~symgraph.backends.numba_tape.Tape`, or None when
something is not for the tape). The tape is run by ``numba_vm.run_loops``.

The work vector: every value has a region of its size (a scalar one slot), none reused
(outside their bodies these graphs are small), but in a body of scalars only, lowered as
``numba_tape.lower`` lowers a graph (``numba_order.schedule``: pairs fused into one row,
``sin`` and ``cos`` of one value one ``SINCOS`` row; temporaries reused), its new carries
computed last and written into the carries' slots where no later row reads the old
value (``numba_carries``: the body runs ``T`` times, every row saved counts; a new carry
that cannot be is copied in after the body). A body's values are written again at
every step in the same places. A scan's value (its pack: the final carries, the stacked
per-step results, the saved carries) is one region; the carries live in its first slots
during the loop, and a part of the pack (``loop_part``) is a view into it, no row. Per
step: ``STORE`` of the carries the step starts from (when the scan saves them), ``LOAD``
of each per-step input's slice into a register, the body's rows (placeholders bound to
the carries, the registers and the closures' regions), ``STORE`` of each per-step
result, the new carries not in place copied in, ``LOOP_UP``/``LOOP_DOWN`` (a reverse
scan counts down). A body holding a scan (a checkpointed loop) nests the same way. A ``cond`` is
``JUMP_IFNOT`` its test to the false body's rows, the true body's, a ``JUMP`` past them,
each copying its results into the pack; a ``while_loop`` its test's rows, ``JUMP_IFNOT``
out, the body's rows, the carries copied in, a ``JUMP`` back.

Loop nodes are recognised without importing ``symgraph.loops`` (it sits above the
backends): a scan holds a body (the ``Body`` protocol: ``carries``, ``xs``, ``closures``,
``carry_out``, ``ys``) with ``length``, ``reverse`` and ``save`` attributes, a branch
two (``true``, ``false``), a while loop two (``test``, ``body``); the pack each makes is
checked against the node's own shape; a part reads a loop's pack with ``start`` and
``shape`` attributes. An elementwise op of arrays (``Op.batch`` is the elementwise rule:
sums of cotangents in the second order) is a loop over the elements. Anything else that
is not a scalar step (reductions and other array ops, a body of them) sends the whole
graph to the python backend, as before.

Imports: ``numpy``, ``symgraph.graph``, ``symgraph.ops``, ``symgraph.plan``,
``symgraph.backends.base``, ``numba_tape`` and ``numba_carries`` (``numba_order`` and
``numba_vm``, which import Numba, when a body is lowered).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph.backends.base import prepare
from symgraph.backends.numba_carries import carries_last, in_place
from symgraph.backends.numba_tape import (
    COPY,
    COPYN,
    JUMP,
    JUMP_IFNOT,
    LOAD,
    LOOP_DOWN,
    LOOP_UP,
    STORE,
    _FUSED,
    Tape,
    step_code,
)
from symgraph.graph import ancestors
from symgraph.ops.shape import batch_elementwise
from symgraph.plan import Plan

_BODY = ("carries", "xs", "closures", "carry_out", "ys")
_F64, _BOOL = np.dtype("float64"), np.dtype("bool")
_EXACT = 2.0 ** 53  # integers the float64 work vector holds exactly


def scan_body(node: Any) -> Any:
    """The body of ``node`` if it is a scan (see the module's docstring), else None."""
    attrs = node.attrs
    body = attrs.get("body")
    if body is None or not all(hasattr(body, k) for k in _BODY):
        return None
    return body if all(k in attrs for k in ("length", "reverse", "save")) else None


def executed_steps(plan: Plan, enough: int) -> int:
    """About how many steps one call of ``plan`` runs, counting up to ``enough``: a scan's
    body once per step, a branch's larger body, a while loop's body as ``enough`` (its
    count is known only when it runs); bodies inside bodies alike.

    >>> import symgraph as sg
    >>> from symgraph.plan import Plan
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.fori_loop(0, 100, lambda i, c: sg.sin(c) * 2.0, x)
    ...     executed_steps(Plan([y], frozenset({x.id})), 10**6) > 100
    True
    """
    total = 0
    for s in plan.steps:
        total += _node_steps(plan.nodes[s], enough)
        if total >= enough:
            break
    return total


def _node_steps(node: Any, enough: int) -> int:
    body = scan_body(node)
    if body is not None:
        return node.attrs["length"] * _body_steps(body, enough)
    branches = _bodies(node, "true", "false")
    if branches is not None:
        return 1 + max(_body_steps(b, enough) for b in branches)
    if _bodies(node, "test", "body") is not None:
        return enough
    return 1


def _body_steps(body: Any, enough: int) -> int:
    inputs = {n.id for n in [*body.carries, *body.xs, *body.closures]}
    return sum(_node_steps(n, enough) for n in ancestors([*body.carry_out, *body.ys])
               if n.id not in inputs and n.inputs)


def _bodies(node: Any, first: str, second: str) -> tuple[Any, Any] | None:
    """The two bodies ``node`` holds under ``first`` and ``second`` (a branch's ``true``
    and ``false``, a while loop's ``test`` and ``body``), or None."""
    pair = node.attrs.get(first), node.attrs.get(second)
    if any(b is None or not all(hasattr(b, k) for k in _BODY) for b in pair):
        return None
    return pair


class _Element:
    """``node`` seen as one element: its op, dtype and inputs' dtypes, shape ``()``."""

    def __init__(self, node: Any):
        self.opdef, self.dtype, self.attrs, self.shape = node.opdef, node.dtype, node.attrs, ()
        self.inputs = [_Element(i) if i.shape else i for i in node.inputs]


def _size(shape: tuple) -> int | None:
    return None if None in shape else math.prod(shape)


class _Emitter:
    """Rows and the work vector's initial values, built as the plans are walked."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, int]] = []
        self.init: list[float] = []
        self.numbers: dict[str, int] = {}

    def alloc(self, size: int) -> int:
        base = len(self.init)
        self.init.extend([0.0] * size)
        return base

    def number(self, value: float) -> int:
        """A slot holding ``value`` (a loop's bound, a body's constant)."""
        key = value.hex()  # (-0.0 is not 0.0 here)
        if key not in self.numbers:
            self.numbers[key] = self.alloc(1)
            self.init[self.numbers[key]] = value
        return self.numbers[key]

    def row(self, op: int, out: int, a: int = 0, b: int = 0, c: int = 0) -> None:
        self.rows.append((op, out, a, b, c))

    def copy(self, dst: int, src: int, size: int) -> None:
        if size == 1:
            self.row(COPY, dst, src)
        elif size > 1:
            self.row(COPYN, dst, src, 0, size)

    def plan(self, plan: Plan, bound: dict[int, int], late: int = 0) -> list[int] | None:
        """Rows computing ``plan``'s steps, its fed nodes at the regions ``bound`` gives
        (node id -> base), a scalar plan's first ``late`` outputs last; the base of every
        slot, or None if a step is not for the tape."""
        nodes = plan.nodes
        fused = self.scalars(plan, bound, late)
        if fused is not None:
            return fused
        base = [-1] * len(nodes)
        for s, node in enumerate(nodes):
            if node.id in plan.fed:
                if node.id not in bound:
                    return None
                base[s] = bound[node.id]
        for s, value in plan.preset:
            array = np.asarray(value)
            if array.dtype.kind not in "biuf" or array.shape != nodes[s].shape or (
                    array.dtype.kind in "iu" and array.size and np.abs(array).max() > _EXACT):
                return None
            base[s] = self.alloc(array.size)
            self.init[base[s]:base[s] + array.size] = array.astype(np.float64).ravel().tolist()
        args = plan.args
        packs: set[int] = set()  # the slots of loop nodes (their parts are views)
        for s in plan.steps:
            node, ins = nodes[s], args[s]
            body, branches, looped = scan_body(node), _bodies(node, "true", "false"), \
                _bodies(node, "test", "body")
            if body is not None:
                at = self.scan(node, body, [base[i] for i in ins])
            elif branches is not None:
                at = self.cond(node, *branches, [base[i] for i in ins])
            elif looped is not None and "length" not in node.attrs:
                at = self.while_loop(node, *looped, [base[i] for i in ins])
            elif "start" in node.attrs and "shape" in node.attrs and len(ins) == 1 and \
                    ins[0] in packs:
                at = self.part(node, nodes[ins[0]], base[ins[0]])
            elif node.shape == () and all(i.shape == () for i in node.inputs):
                code = step_code(node)
                at = None if code is None else self.alloc(1)
                if at is not None:
                    self.row(code, at, *[base[i] for i in ins])
            elif node.opdef.batch is batch_elementwise:
                at = self.elementwise(node, [base[i] for i in ins])
            else:
                at = None
            if at is None:
                return None
            base[s] = at
            if body is not None or branches is not None or looped is not None:
                packs.add(s)
        return base

    def body(self, body: Any, bound: dict[int, int], late: int = 0) -> list[int] | None:
        """The rows of ``body`` (simplified and lowered as compile does the outer graph)
        with its placeholders at ``bound``, its first ``late`` results (new carries)
        computed last; the bases of its results."""
        outs = body.outputs
        if not outs:
            return []
        computed, needed = prepare(outs, body.inputs, False)
        inner = Plan(computed, frozenset(bound), fold=True, nodes=needed)
        at = self.plan(inner, bound, late)
        return None if at is None else [at[s] for s in inner.outputs]

    def update(self, creg: list[int], news: list[int], sizes: list[int]) -> None:
        """Copy the new carries ``news`` into the carries ``creg`` (all at once: a new
        value that is a carry another copy writes, as in a swap, goes through a temporary
        first; a carry already in place, or passed through, is not copied)."""
        moves = [(c, r, size) for c, r, size in zip(creg, news, sizes) if r != c and size]
        if any(r < c + size and c < r + size for _, r, _ in moves for c, _, size in moves):
            temps = [self.alloc(size) for _, _, size in moves]
            for t, (_, r, size) in zip(temps, moves):
                self.copy(t, r, size)
            moves = [(c, t, size) for t, (c, _, size) in zip(temps, moves)]
        for c, r, size in moves:
            self.copy(c, r, size)

    def jump(self, op: int, test: int = 0) -> int:
        """A jump row whose target is set later (:meth:`land`); its row number."""
        self.row(op, 0, test, 0, -1)
        return len(self.rows) - 1

    def land(self, jump: int) -> None:
        """Point the jump row ``jump`` at the next row."""
        op, out, a, b, _ = self.rows[jump]
        self.rows[jump] = (op, out, a, b, len(self.rows))

    def cond(self, node: Any, true: Any, false: Any, ins: list[int]) -> int | None:
        """A branch: the test, then one body's rows or the other's, each copying its
        results into the pack (only the chosen body runs, as in evaluate)."""
        n, q = len(true.carries), len(true.closures)
        sizes = [_size(o.shape) for o in true.carry_out]
        if None in sizes or len(ins) != 1 + n + q or len(false.carries) != n or \
                len(false.closures) != q or node.shape != (sum(sizes),):
            return None
        pack = self.alloc(sum(sizes))
        other = self.jump(JUMP_IFNOT, ins[0])
        done = -1
        for body in (true, false):
            bound = {ph.id: ins[1 + k] for k, ph in enumerate(body.carries)}
            bound.update({ph.id: ins[1 + n + j] for j, ph in enumerate(body.closures)})
            results = self.body(body, bound)
            if results is None or len(results) != len(sizes):
                return None
            for k, (r, size) in enumerate(zip(results, sizes)):
                self.copy(pack + sum(sizes[:k]), r, size)
            if body is true:
                done = self.jump(JUMP)
                self.land(other)
        self.land(done)
        return pack

    def while_loop(self, node: Any, test: Any, body: Any, ins: list[int]) -> int | None:
        """A loop run while its test holds: the test's rows, a jump out when false, the
        body's rows and its carries copied in, a jump back."""
        m, q = len(body.carries), len(body.closures)
        sizes = [_size(c.shape) for c in body.carries]
        if None in sizes or len(ins) != m + q or len(test.carries) != m or \
                len(test.closures) != q or len(test.carry_out) != 1 or \
                len(body.carry_out) != m or node.shape != (sum(sizes),):
            return None
        pack = self.alloc(sum(sizes))
        creg = [pack + sum(sizes[:k]) for k in range(m)]
        for k in range(m):
            self.copy(creg[k], ins[k], sizes[k])
        top = len(self.rows)
        found = []
        for b in (test, body):
            bound = {ph.id: creg[k] for k, ph in enumerate(b.carries)}
            bound.update({ph.id: ins[m + j] for j, ph in enumerate(b.closures)})
            first = len(self.rows)
            results = self.body(b, bound, m if b is body else 0)
            if results is None:
                return None
            found.append(results)
            if b is test:
                out = self.jump(JUMP_IFNOT, results[0])
        self.update(creg, in_place(self.rows, first, creg, found[1], sizes), sizes)
        self.row(JUMP, 0, 0, 0, top)
        self.land(out)
        return pack

    def scalars(self, plan: Plan, bound: dict[int, int], late: int = 0) -> list[int] | None:
        """A plan of scalars only (a loop's body, mostly) as ``numba_tape.lower`` makes
        its rows (``numba_order.schedule``: pairs fused into one row, ``sin`` and ``cos``
        of one value one ``SINCOS`` row; temporaries reused), the first ``late`` outputs
        (a body's new carries) computed last (``numba_carries.carries_last``); the base of
        every slot, or None for a plan holding anything else."""
        nodes = plan.nodes
        if any(n.shape != () for n in nodes) or any(
                np.asarray(v).dtype.kind not in "biuf" for _, v in plan.preset):
            return None
        codes = np.array([step_code(nodes[s]) for s in plan.steps] or [0], dtype=object)
        if any(c is None for c in codes):
            return None
        from symgraph.backends.numba_order import schedule
        from symgraph.backends.numba_vm import allocate

        slot_of = np.full(len(nodes), -1, dtype=np.int32)
        where: list[int] = []  # local slot -> base
        for s, node in enumerate(nodes):
            if node.id in plan.fed:
                if node.id not in bound:
                    return None
                slot_of[s] = len(where)
                where.append(bound[node.id])
        for s, value in plan.preset:
            slot_of[s] = len(where)
            where.append(self.number(float(value)))
        codes = codes[:len(plan.steps)].astype(np.int32)
        # outputs, and what outlives a step (carries, closures, constants), never die
        last = plan.last_read.copy()
        last[plan.outputs] = -1
        last[slot_of >= 0] = -1
        _, codes, lens, args, writes, second, last = schedule(
            codes, plan.step_start, plan.step_args, plan.step_array, plan.read_count, last,
            plan.reader_start, plan.reader_steps, _FUSED)
        codes, lens, args, writes, second, last = carries_last(
            codes, lens, args, writes, second, last, plan.read_count, plan.outputs[:late])
        code, size, _ = allocate(codes, lens, args, writes, slot_of, last, plan.read_count,
                                 len(where), _FUSED, second)
        temps = self.alloc(size - len(where))
        mapping = np.array([*where, *range(temps, temps + size - len(where))], dtype=np.int64)
        code[:, 1:] = mapping[code[:, 1:]]
        self.rows.extend(map(tuple, code.tolist()))
        return [int(mapping[k]) if k >= 0 else -1 for k in slot_of.tolist()]

    def elementwise(self, node: Any, ins: list[int]) -> int | None:
        """An elementwise op of arrays of its shape (or scalars) as a loop over the
        elements: one row of the scalar form, between loads and a store."""
        n = _size(node.shape)
        code = step_code(_Element(node))
        if n is None or code is None or any(
                i.shape not in ((), node.shape) for i in node.inputs):
            return None
        out = self.alloc(n)
        if n == 0:
            return out
        count = self.alloc(1)
        self.row(COPY, count, self.number(0.0))
        top = len(self.rows)
        regs = []
        for i, at in zip(node.inputs, ins):
            if i.shape == ():
                regs.append(at)
            else:
                regs.append(self.alloc(1))
                self.row(LOAD, regs[-1], count, at, 1)
        value = self.alloc(1)
        self.row(code, value, *regs)
        self.row(STORE, out, count, value, 1)
        self.row(LOOP_UP, count, count, self.number(float(n)), top)
        return out

    def part(self, node: Any, pack: Any, at: int) -> int | None:
        start, size = node.attrs["start"], _size(node.shape)
        if not isinstance(start, int) or size is None or start + size > pack.shape[0]:
            return None
        return at + start

    def scan(self, node: Any, body: Any, ins: list[int]) -> int | None:
        """The rows of a scan; the base of its pack."""
        T, reverse, save = node.attrs["length"], node.attrs["reverse"], node.attrs["save"]
        carries, xs, closures = body.carries, body.xs, body.closures
        m, p = len(carries), len(xs)
        sizes = [_size(n.shape) for n in [*carries, *xs, *body.ys]]
        if None in sizes or len(ins) != m + p + len(closures) or len(body.carry_out) != m \
                or not isinstance(T, int):
            return None
        cs, xsz, ysz = sizes[:m], sizes[m:m + p], sizes[m + p:]
        total = sum(cs) + T * sum(ysz) + (T * sum(cs) if save else 0)
        if node.shape != (total,):  # the scan's own layout, as this lowering reads it
            return None
        pack = self.alloc(total)
        creg = [pack + sum(cs[:k]) for k in range(m)]
        ys = [pack + sum(cs) + T * sum(ysz[:k]) for k in range(len(ysz))]
        saved = [pack + sum(cs) + T * sum(ysz) + T * sum(cs[:k]) for k in range(m)]
        for k in range(m):
            self.copy(creg[k], ins[k], cs[k])
        if T == 0:
            return pack
        count = self.alloc(1)
        self.row(COPY, count, self.number(float(T - 1 if reverse else 0)))
        top = len(self.rows)
        for k in range(m) if save else ():
            if cs[k]:
                self.row(STORE, saved[k], count, creg[k], cs[k])
        bound = {ph.id: creg[k] for k, ph in enumerate(carries)}
        for j, ph in enumerate(xs):
            bound[ph.id] = self.alloc(xsz[j])
            if xsz[j]:
                self.row(LOAD, bound[ph.id], count, ins[m + j], xsz[j])
        bound.update({ph.id: ins[m + p + j] for j, ph in enumerate(closures)})
        first = len(self.rows)
        results = self.body(body, bound, m)
        if results is None:
            return None
        for k, size in enumerate(ysz):
            if size:
                self.row(STORE, ys[k], count, results[m + k], size)
        self.update(creg, in_place(self.rows, first, creg, results[:m], cs), cs)
        self.row(LOOP_DOWN if reverse else LOOP_UP, count, count,
                 self.number(0.0 if reverse else float(T)), top)
        return pack


def lower_loops(plan: Plan, inputs: list[Any]) -> Tape | None:
    """The tape of ``plan`` holding loops (inputs in the function's argument order), or
    None when a node is not for the tape (see the module's docstring)."""
    if not any(scan_body(n) is not None or _bodies(n, "true", "false") is not None
               or _bodies(n, "test", "body") is not None
               for n in map(plan.nodes.__getitem__, plan.steps)):
        return None
    emit = _Emitter()
    bound, in_slots, in_sizes = {}, [], []
    for node in inputs:
        size = _size(node.shape)
        if size is None or node.dtype.kind not in "biuf":
            return None
        bound[node.id] = emit.alloc(size)
        in_slots.append(bound[node.id])
        in_sizes.append(size)
    nodes = plan.nodes
    for s in plan.outputs:
        if nodes[s].dtype not in (_F64, _BOOL) or _size(nodes[s].shape) is None:
            return None
    constants = len(emit.init)
    base = emit.plan(plan, bound)
    if base is None:
        return None
    code = np.array(emit.rows, dtype=np.int32).reshape(-1, 5)
    outs = [base[s] for s in plan.outputs]
    return Tape(code, np.array(emit.init), in_slots, outs,
                [nodes[s].dtype == _BOOL for s in plan.outputs], constants, [],
                in_sizes=in_sizes, out_shapes=[nodes[s].shape for s in plan.outputs],
                loops=True)

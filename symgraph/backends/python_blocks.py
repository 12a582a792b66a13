"""Runs of elementwise array steps that the ``python`` backend computes block by block.

Owns :class:`Blocks`, a mixin of the builder in ``symgraph.backends.python`` (whose
state it reads: ``nodes``, ``args``, ``kind``, ``role``, ``forms``, ``uses``...). NumPy
runs each step over whole arrays: a chain of ten ufuncs over 10^5 floats streams 800 KB
arrays through the caches ten times. A run of such steps of one shape (1-D or more, cut
along the first axis) is written as one loop over blocks of about ``_BLOCK`` numbers,
each step writing into a block-sized buffer (reused once its value is dead), so the
chain's values stay in cache; values read after the run are written into whole arrays
(new on every call). Each number is computed by the same ufunc from the same operands:
the results are those of the whole-array steps, to the bit.

Steps between the run's steps that read none of its values are written before the run,
the others after it. A run's value that only a ``scatter`` of a slice reads is written
straight into the scatter's buffer (zeros around the slice): the scatter is then done;
a ``scatter_add`` of a run's value into that buffer is added block by block, where every
number it adds to is written first (in an earlier block, or earlier in the same one).

Imports: ``numpy``, ``symgraph.plan`` (builtin), ``symgraph.backends.python_forms``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from symgraph.backends.python_forms import scatter_buffer
from symgraph.plan import builtin

_BLOCK = 1 << 14  # numbers per block: a few blocks of float64 stay in a core's L2
_MIN_SIZE = 1 << 16  # smaller arrays stay in cache anyway: the loop would only cost
_MIN_STEPS = 3
_MAX_SKIP = 64  # steps between two of a run's (bounds the search: graphs of 10^5 steps)
_F64 = np.dtype("float64")


class Blocks:
    """Finds the runs (``plan_blocks``) and writes one (``block_lines``)."""

    def plan_blocks(self) -> None:
        """Sets ``blocks`` (first step number of a run -> its steps) and reorders
        ``steps`` so that each run is contiguous; ``uses`` and ``position`` follow."""
        self.blocks: dict[int, list[int]] = {}
        self.in_block: set[int] = set()
        if getattr(self, "multi", False) or "A" not in self.kind:
            return
        steps, args = self.steps, self.args
        order: list[int] = []
        runs: list[list[int]] = []
        # each step's shape if it may be in a run (a run's members are arrays of its shape)
        alone = [self._block_shape(s) for s in steps]
        t = 0
        while t < len(steps):
            shape = alone[t]
            if shape is None:
                order.append(steps[t])
                t += 1
                continue
            # between the run's steps: steps that read none of its values (or of the
            # steps put after it) go before it, the others after it
            members, inside, waiting = [steps[t]], {steps[t]}, set()
            before: list[int] = []
            later: list[int] = []
            end = u = t + 1  # (end: after the last member)
            while u < len(steps) and u - end < _MAX_SKIP:
                s = steps[u]
                reads = args[s]
                if alone[u] == shape and waiting.isdisjoint(reads):
                    members.append(s)
                    inside.add(s)
                    end = u + 1
                elif not (inside.isdisjoint(reads) and waiting.isdisjoint(reads)):
                    waiting.add(s)
                u += 1
            if len(members) >= _MIN_STEPS:
                for s in steps[t:end]:
                    if s not in inside:
                        (later if s in waiting else before).append(s)
                order += before + members + later
                runs.append(members)
                t = end
            else:
                order.append(steps[t])
                t += 1
        if not runs:
            return
        if order != list(steps):
            self.steps = order
            readers: list[list[int]] = [[] for _ in self.nodes]
            for t, s in enumerate(order):
                for i in dict.fromkeys(args[s]):
                    readers[i].append(t)
            self.uses = readers
            self.position = {s: t for t, s in enumerate(order)}
        self.into: dict[int, int] = {}  # a run's value -> the scatter it is written in
        for members in runs:
            self.blocks[self.position[members[0]]] = members
            self.in_block.update(members)
            for s in members:
                r = self._scatter_of(s)
                if r is not None:
                    self.into[s] = r
                    self.in_block.add(r)  # (done by the run: it is not written again)
        self.added: dict[int, int] = {}  # a run's value -> the scatter_add it is added by
        for members in runs:
            for s in members:
                q = self._added_by(s, members)
                if q is not None:
                    self.added[s] = q
                    self.in_block.add(q)

    def _added_by(self, s: int, members: list[int]) -> int | None:
        """The ``scatter_add(b, s)`` that adds run value ``s`` (read by it alone) into the
        buffer ``b`` of a scatter the run writes (read by it alone), where the run may do it
        block by block: both indices are slices of step 1 along the first axis and each
        number of ``b`` is written in an earlier block, or earlier in the same block."""
        uses = self.uses[s]
        if s in self.is_out or len(uses) != 1:
            return None
        q = self.steps[uses[0]]
        if q not in self.adds or q in self.in_block or self.args[q][1] != s:
            return None
        r = self.args[q][0]
        writer = next((m for m, into in self.into.items() if into == r), None)
        if (writer not in members or r in self.is_out or len(self.uses[r]) != 1
                or members.index(writer) > members.index(s)):
            return None
        shape = self.nodes[q].shape
        a = _first_axis_start(self.scatters[r][0], shape)
        c = _first_axis_start(self.adds[q][0], shape)
        return q if a is not None and c is not None and a >= c else None

    def _scatter_of(self, s: int) -> int | None:
        """The step scattering ``s`` (a run's value it alone reads, into its index, a
        slice), whose buffer the run may write ``s`` in: ``out[index]`` is ``s``."""
        uses = self.uses[s]
        if s in self.is_out or len(uses) != 1:
            return None
        r = self.steps[uses[0]]
        if r not in self.scatters or r in self.in_block:
            return None
        index, _ = self.scatters[r]
        node = self.nodes[r]
        view = np.broadcast_to(np.zeros((), node.dtype), node.shape)[index]
        return r if view.shape == self.nodes[s].shape else None

    def _block_shape(self, s: int) -> tuple | None:
        """The shape of step ``s`` if it may be in a run: a builtin elementwise ufunc
        writing float64 with out=, whose operands are arrays of its shape (a run's members
        are) or 0-d values that are not computed scalars."""
        node = self.nodes[s]
        template, pre, numpy_, out_ok = self.forms[s][:4]
        if (self.kind[s] != "A" or self.role[s] != "step" or not out_ok or not numpy_
                or pre is not None or not builtin(node.opdef) or node.dtype != _F64
                or not node.shape or None in node.shape or not template.endswith(")")
                or math.prod(node.shape) < _MIN_SIZE or node.shape[0] < 4):
            return None
        for i in self.args[s]:
            other = self.nodes[i]
            if self.kind[i] == "A" and other.shape == node.shape:
                continue
            if self.role[i] == "preset" and other.shape == ():
                continue
            return None
        return node.shape

    def _filled(self, i: int) -> bool:
        """Whether slot ``i`` is a constant fill (a broadcast of one number, as the plan
        folds ``full``): its blocks are its number as a 0-d array of its dtype."""
        if self.role[i] != "preset":
            return False
        value = self.globals[f"_c{i}"]
        if not isinstance(value, np.ndarray) or any(value.strides):
            return False
        self.globals[f"_u{i}"] = np.array(value.flat[0], dtype=value.dtype)
        return True

    def block_lines(self, t: int) -> list[str]:
        """The loop of the run starting at step number ``t``."""
        members = self.blocks[t]
        inside = set(members)
        nodes, uses, names = self.nodes, self.uses, self.names
        shape = nodes[members[0]].shape
        row = math.prod(shape[1:])
        rows = max(1, _BLOCK // row)
        n = shape[0]
        last = self.position[members[-1]]
        tag = f"{t}"
        self.globals[f"_bs{tag}"] = (rows, *shape[1:])
        self.globals[f"_fs{tag}"] = shape
        self.globals[f"_lo{tag}"] = tuple(range(0, n, rows))
        head: list[str] = []
        body: list[str] = []
        chunk: dict[int, str] = {}  # an outside array or a whole result -> its block view
        buffer: dict[int, str] = {}  # a member read only in the run -> its block buffer
        free: list[str] = []
        count = 0
        local_names: list[str] = []
        dead: list[str] = []  # views in a scatter's buffer, nobody reads after the run
        after: list[str] = []  # scatter_adds done by the run: their -0.0 outside the index
        for s in members:
            p = self.position[s]
            ins = self.args[s]
            ops = []
            raw_ok = self.forms[s][4]
            for i in ins:
                if i in buffer:
                    ops.append(buffer[i])
                elif i in chunk:
                    ops.append(chunk[i])
                elif self.kind[i] == "A" and nodes[i].shape and self._filled(i):
                    ops.append(f"_u{i}")  # a constant fill: its one number as a 0-d array
                elif self.kind[i] == "A" and nodes[i].shape:
                    chunk[i] = f"_o{i}"
                    body.append(f"_o{i} = {names[i]}[_lo:_hi]")
                    local_names.append(f"_o{i}")
                    ops.append(chunk[i])
                elif self.kind[i] == "F" and not raw_ok:
                    ops.append(f"_f64({names[i]})")
                elif self.kind[i] == "B":
                    ops.append(f"_np_bool({names[i]})")
                else:
                    ops.append(names[i])
            # operands read for the last time here give their buffers back first: an
            # elementwise ufunc may write over its own operand
            for i in dict.fromkeys(ins):
                if i in buffer and uses[i][-1] == p:
                    free.append(buffer[i])
            if s in self.added:  # a block buffer, added into the scatter's buffer
                q = self.added[s]
                r = self.args[q][0]
                target = free.pop() if free else None
                if target is None:
                    target = f"_b{tag}_{count}"
                    count += 1
                    head.append(f"{target} = _np_empty(_bs{tag})")
                    local_names.append(target)
                self.globals[f"_ai{q}"] = self.adds[q][0]
                head.append(f"_a{q} = {names[r]}[_ai{q}]")
                expr = self.forms[s][0].format(*ops)
                body += [f"{expr[:-1]}, out={target})", f"_w{q} = _a{q}[_lo:_hi]",
                         f"_np_add(_w{q}, {target}, out=_w{q})"]
                local_names += [f"_a{q}", f"_w{q}"]
                free.append(target)
                rest = self.adds[q][1]
                if rest:
                    self.globals[f"_ar{q}"] = rest
                    after.append(f"for _piece in _ar{q}:")
                    after.append(f"    _np_add({names[r]}[_piece], 0.0, out={names[r]}[_piece])")
                after += [f"{names[q]} = {names[r]}", f"del {names[r]}"]
                continue
            if s in self.is_out or not uses[s] or uses[s][-1] > last:
                # a whole array: an outside one that dies here, else a new one
                dying = [i for i in ins if i in chunk and i not in inside]
                reuse = self._buffer(p, nodes[s], dying) if dying else None
                if s in self.into:  # in the buffer of the scatter that reads it
                    r = self.into[s]
                    index, rest = self.scatters[r]
                    self.globals[f"_sb{r}"] = functools.partial(
                        scatter_buffer, nodes[r].shape, nodes[r].dtype, rest)
                    self.globals[f"_si{r}"] = index
                    head += [f"{names[r]} = _sb{r}()", f"{names[s]} = {names[r]}[_si{r}]"]
                    dead.append(names[s])
                if reuse is not None and s not in self.into:
                    head.append(f"{names[s]} = {names[reuse]}")
                    target = chunk[s] = chunk[reuse]
                else:
                    if s not in self.into:
                        head.append(f"{names[s]} = _np_empty(_fs{tag})")
                    target = chunk[s] = f"_w{s}"
                    body.append(f"_w{s} = {names[s]}[_lo:_hi]")
                    local_names.append(f"_w{s}")
            else:
                if free:
                    target = free.pop()
                else:
                    target = f"_b{tag}_{count}"
                    count += 1
                    head.append(f"{target} = _np_empty(_bs{tag})")
                    local_names.append(target)
                buffer[s] = target
            expr = self.forms[s][0].format(*ops)
            body.append(f"{expr[:-1]}, out={target})")
        shorten = [f"_b{tag}_{k}" for k in range(count)]
        lines = head + [f"for _lo in _lo{tag}:", f"    _hi = _lo + {rows}"]
        if n % rows and shorten:  # the last block is shorter: so are the buffers
            lines.append(f"    if _hi > {n}:")
            lines += [f"        {b} = {b}[:{n % rows}]" for b in shorten]
        lines += ["    " + line for line in body]
        lines.append(f"del {', '.join(dict.fromkeys(local_names + dead))}")
        lines += after
        # arrays made before the run and read for the last time in it
        for i in chunk:
            if (i not in inside and self.role[i] == "step" and i not in self.is_out
                    and uses[i][-1] <= last):
                lines.append(f"del {names[i]}")
        return lines



def _first_axis_start(index: tuple, shape: tuple) -> int | None:
    """Where ``index`` starts along the first axis, if it is a slice of step 1 there and
    takes the other axes whole (else None).

    >>> _first_axis_start((slice(1, None),), (5,)), _first_axis_start((slice(None), 0), (5, 2))
    (1, None)
    """
    if not index or not isinstance(index[0], slice) or len(index) > len(shape):
        return None
    if any(i != slice(None) for i in index[1:]):
        return None
    start, _, step = index[0].indices(shape[0])
    return start if step == 1 else None

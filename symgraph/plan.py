"""The plan: what to compute for some outputs when some nodes are fed, for every backend.

Owns: :class:`Plan` (what ``evaluate``, ``compile`` and the display are given is checked
by ``symgraph.feeds``): the needed nodes (the outputs' ancestors, none past a fed node,
found by :func:`walk`, which keeps what it read of them for the plan; an unfed input
raises :class:`MissingFeedError`), their schedule in id order (which is
topological), the constants preset before a call (and, for compiled code, the steps of
constants folded once), and last-use liveness: which steps read each value, so which
values die after which step. Every backend runs a plan; none works these out again.

A feed may name any node, not only an input: its value replaces the node and the
node's ancestors are not computed (as TensorFlow 1.x allows).

Imports: ``symgraph.graph``, ``symgraph.errors``, ``symgraph.context``, ``symgraph.ops``.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import symgraph.ops  # noqa: F401 - registers every built-in op before _BUILTIN is taken
from symgraph.context import gc_paused
from symgraph.errors import MissingFeedError
from symgraph.graph import Node, _ancestors_in
from symgraph.ops.core import CONST, OPS, VAR, Op, describe, fold
from symgraph.ops.shape import batch_elementwise

Outputs = Node | Sequence[Node]
_PLAN_CACHE_SIZE = 256
# symgraph's own ops: only these are folded at compile time (a user's op may be impure)
_BUILTIN = frozenset(OPS.values())


def builtin(op: Op) -> bool:
    """Whether ``op`` is one of symgraph's own ops (not declared by a user)."""
    return op in _BUILTIN


def needed_nodes(outputs: list[Node], fed: frozenset[int], complaint: str,
                 keep: bool = True) -> list[Node]:
    """The ancestors of ``outputs`` (none past a fed node), in id order; an input among
    them that is not fed raises :class:`MissingFeedError` with ``complaint``, a format
    string of ``{names}``, ``{is_}`` (is/are) and ``{it}`` (it/them). ``keep``: see
    :func:`walk`.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x"), sg.var("y")
    ...     z = x * y
    >>> [n.op for n in needed_nodes([z], frozenset({x.id, y.id}), "")]
    ['var', 'var', 'multiply']
    """
    nodes, missing = walk(outputs, fed, keep)
    if missing:
        one = len(missing) == 1
        message = complaint.format(names=", ".join(describe(n) for n in missing),
                                   is_="is" if one else "are", it="it" if one else "them")
        shared = sorted({n.name for n in missing if n.name is not None  # fed for another
                         and any(m.id in fed for m in n.graph.by_name(n.name))})
        raise MissingFeedError(message + "".join(
            f"; several inputs are named {name!r} and the name reached another of them: "
            "feed each by its node ({node: value})" for name in shared[:1]), missing)
    return nodes


class Needed(list):
    """The needed nodes (a list, in id order) as :func:`walk` found them, with what it read
    of them for a :class:`Plan` not to read again (each read of a node costs a cache miss
    at 10^5 nodes): ``fed``, ``reads`` (see ``symgraph.graph._ancestors_in``; empty unless
    the walk passed down every id), ``ops`` and ``op_of`` (see :class:`Plan`)."""

    __slots__ = ("fed", "op_of", "ops", "reads")


def walk(outputs: list[Node], fed: frozenset[int],
         keep: bool = True) -> tuple[list[Node], list[Node]]:
    """The ancestors of ``outputs`` (of one graph; none past a fed node), in id order, and
    the unfed inputs among them; with ``keep``, past :data:`SMALL_PLAN` nodes, as a
    :class:`Needed` list (keeping costs ~1/4 more than the walk: not for nodes not planned).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x"), sg.var("y")
    >>> [[n.name for n in found] for found in walk([x * y], frozenset({x.id}))]
    [['x', 'y', None], ['y']]
    """
    if not outputs:
        return [], []
    reads: list = []
    nodes = _ancestors_in(outputs[0].graph, list(outputs), fed, reads if keep else None)
    if len(nodes) <= SMALL_PLAN or not keep:
        return nodes, [n for n in nodes if n.opdef is VAR and n.id not in fed]
    needed = Needed(nodes)
    needed.reads, needed.fed = reads, fed
    needed.ops, needed.op_of = _op_kinds(nodes)
    var = needed.ops.index(VAR) if VAR in needed.ops else -1
    return needed, [nodes[s] for s in np.flatnonzero(needed.op_of == var).tolist()
                    if nodes[s].id not in fed]


def _op_kinds(nodes: list[Node]) -> tuple[list[Op], np.ndarray]:
    """The distinct ops of ``nodes`` (first seen first) and per node its op's index there."""
    opdefs = list(map(_OPDEF, nodes))
    index = {op: k for k, op in enumerate(dict.fromkeys(opdefs))}
    return list(index), np.fromiter(map(index.__getitem__, opdefs), np.int32, len(nodes))


FEED_COMPLAINT = "no value was fed for {names}; add {it} to feeds (keyed by the node or its name)"


class Plan:
    """What to compute for ``outputs`` when the nodes whose ids are in ``fed`` are given.

    - ``nodes``: the needed nodes in id order; a value's *slot* is its index there
      (``slot`` maps node ids to slots); ``outputs`` holds the outputs' slots.
    - ``preset``: ``(slot, value)`` of the constants, set before a call. With
      ``fold=True`` a step of symgraph's own ops whose inputs are all preset is computed
      now (compactly, by :func:`symgraph.ops.core.fold`) and preset too.
    - ``steps``: the slots computed by a call, in order (step ``t`` computes
      ``steps[t]``); ``args[s]``: the slots step ``s`` reads (empty for fed and preset
      slots).
    - liveness: ``readers[s]`` lists the step numbers reading slot ``s`` (sorted, each
      once), so ``s`` is dead after ``readers[s][-1]``; ``frees[t]`` lists the slots
      that die after step ``t`` (outputs never do).
    - the same as arrays, for backends that lower in bulk: ``step_array`` (the steps),
      ``step_start``/``step_args`` (step ``t`` reads ``step_args[step_start[t]:
      step_start[t + 1]]``), ``last_read`` (per slot, the last step reading it, -1 if
      none) and ``read_count`` (per slot, how many steps read it).
    - ``ops``: the distinct ops of the nodes (first seen first); ``op_of[s]``: the index
      there of slot ``s``'s op (an int32 array: backends pick per op, in bulk).
    - ``lowered``: a backend's own form of this plan (the interpreter's steps), kept
      with it.

    Built in bulk (NumPy over the nodes' ids and inputs, read once each): ``slot``,
    ``args``, ``readers`` and ``frees`` are made from the arrays when first asked for.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * 2.0
    >>> p = Plan([y], frozenset({x.id}))
    >>> [n.op for n in p.nodes], p.steps, p.readers, p.frees
    (['var', 'sin', 'const', 'multiply'], [1, 3], [[0], [1], [1], []], [[0], [1, 2]])
    """

    __slots__ = ("_args", "_frees", "_readers", "_slot", "_steps", "fed", "ids", "last_read",
                 "lowered", "nodes", "op_of", "ops", "outputs", "preset", "read_count",
                 "reader_start", "reader_steps", "step_args", "step_array", "step_start")

    def __init__(self, outputs: list[Node], fed: frozenset[int], fold: bool = False,
                 nodes: list[Node] | None = None, complaint: str = FEED_COMPLAINT):
        if nodes is None:
            nodes = needed_nodes(outputs, fed, complaint)
        self._frees: list[list[int]] | None = None
        self.lowered: dict[str, Any] = {}
        if len(nodes) <= SMALL_PLAN:
            self._plan_in_python(nodes, outputs, fed, fold)
            return
        n = len(nodes)
        ids, lens, flat_ids, owner = _read_inputs(nodes, fed)
        flat = _slots_of(ids, flat_ids)
        is_fed = np.isin(ids, np.fromiter(fed, np.int64, len(fed))) if fed else \
            np.zeros(n, bool)
        if isinstance(nodes, Needed):
            self.ops, self.op_of = nodes.ops, nodes.op_of
        else:
            self.ops, self.op_of = _op_kinds(nodes)
        is_const = (self.op_of == self.ops.index(CONST) if CONST in self.ops else
                    np.zeros(n, bool)) & ~is_fed
        preset: dict[int, Any] = {int(s): nodes[s].attrs["value"]
                                  for s in np.flatnonzero(is_const).tolist()}
        ready = is_const.copy()
        if fold and preset:
            _fold_all(nodes, flat, owner, lens, ready, ~is_fed & ~is_const & (lens > 0), preset)
        steps = np.flatnonzero(~is_fed & ~ready)
        # (a plain list: a Needed list holds its walk's reads, ~20 bytes a node)
        self.nodes, self.fed, self.ids = list(nodes), fed, ids
        self.outputs = _slots_of(ids, np.array([o.id for o in outputs], np.int64)).tolist()
        self.preset = sorted(preset.items(), key=_FIRST)
        self._steps: list[int] | None = None  # (a list when asked for: see steps)
        # the steps' operands (CSR), and who reads what, each reader once per value
        is_step = np.zeros(n, bool)
        is_step[steps] = True
        args, counts = flat[is_step[owner]], lens[steps]  # (in step order)
        self.step_args = args.astype(np.int32)
        self.step_start = np.zeros(len(steps) + 1, np.int64)
        np.cumsum(counts, out=self.step_start[1:])
        # (the pairs (value, reading step) sorted, each once: each value's readers in
        # order; one int64 key per pair, as np.sort is 3x faster than a stable argsort)
        shift = len(steps).bit_length()
        key = np.sort(args << shift | np.repeat(np.arange(len(steps)), counts))
        once = np.ones(len(key), bool)
        once[1:] = key[1:] != key[:-1]
        key = key[once]
        src, by = key >> shift, key & ((1 << shift) - 1)
        self.read_count = np.bincount(src, minlength=n).astype(np.int32)
        self.reader_start = np.zeros(n + 1, np.int64)
        np.cumsum(self.read_count, out=self.reader_start[1:])
        self.reader_steps = by.astype(np.int32)
        last = np.full(n, -1, np.int32)
        read = self.read_count > 0
        last[read] = self.reader_steps[self.reader_start[1:][read] - 1]
        self.last_read = last
        self.step_array = steps.astype(np.int32)
        self._slot: dict[int, int] | None = None
        self._args: list[list[int]] | None = None
        self._readers: list[list[int]] | None = None

    def _plan_in_python(self, nodes: list[Node], outputs: list[Node], fed: frozenset[int],
                        fold: bool) -> None:
        """The same plan as the arrays give, worked out with Python lists and dicts (a
        small graph: NumPy's cost per call would dominate); the arrays are made from these
        lists if a backend asks for them (``__getattr__``)."""
        slot = {node.id: s for s, node in enumerate(nodes)}
        preset: dict[int, Any] = {}
        args: list[list[int]] = [[] for _ in nodes]
        readers: list[list[int]] = [[] for _ in nodes]
        steps: list[int] = []
        for s, node in enumerate(nodes):
            if node.id in fed:
                continue
            if node.opdef is CONST:
                preset[s] = node.attrs["value"]
                continue
            ins = [slot[i.id] for i in node.inputs]
            if fold and ins and _fold(node, ins, preset, s):
                continue
            for i in dict.fromkeys(ins):
                readers[i].append(len(steps))
            steps.append(s)
            args[s] = ins
        self.nodes, self.fed, self._steps = nodes, fed, steps
        self.outputs = [slot[o.id] for o in outputs]
        self.preset = sorted(preset.items(), key=_FIRST)
        self._slot, self._args, self._readers = slot, args, readers

    def __getattr__(self, name: str) -> Any:
        # Only reached for an unset slot: the arrays of a plan made by _plan_in_python.
        if name not in _ARRAYS or self._args is None:
            raise AttributeError(name)
        if name in ("ops", "op_of"):  # (compile asks for these alone)
            self.ops, self.op_of = _op_kinds(self.nodes)
            return object.__getattribute__(self, name)
        nodes, steps, args, readers = self.nodes, self.steps, self._args, self._readers
        self.ids = np.fromiter(map(_ID, nodes), np.int64, len(nodes))
        self.step_array = np.array(steps, np.int32)
        self.step_args = np.array([i for s in steps for i in args[s]], np.int32)
        self.step_start = np.cumsum([0, *(len(args[s]) for s in steps)], dtype=np.int64)
        self.read_count = np.array(list(map(len, readers)), np.int32)
        self.reader_start = np.cumsum([0, *self.read_count.tolist()], dtype=np.int64)
        self.reader_steps = np.array([t for r in readers for t in r], np.int32)
        self.last_read = np.array([r[-1] if r else -1 for r in readers], np.int32)
        return object.__getattribute__(self, name)

    def listing(self) -> str:
        """The plan as text, one step a line (the ``source`` of backends that run the plan
        as it is).

        >>> import symgraph as sg
        >>> with sg.Graph():
        ...     x = sg.var("x")
        ...     print(Plan([sg.sin(x) * x], frozenset({x.id})).listing(), end="")
        v1 = sin(v0)
        v2 = multiply(v1, v0)
        return v2
        """
        nodes, args = self.nodes, self.args
        lines = [f"v{s} = {nodes[s].opdef.name}({', '.join(f'v{i}' for i in args[s])})"
                 for s in self.steps]
        return "\n".join([*lines, f"return {', '.join(f'v{s}' for s in self.outputs)}"]) + "\n"

    @property
    def steps(self) -> list[int]:
        """The slots computed by a call, in order (a list made of ``step_array`` when first
        asked for: backends that lower in bulk never ask)."""
        if self._steps is None:
            self._steps = self.step_array.tolist()
        return self._steps

    @property
    def slot(self) -> dict[int, int]:
        """Node id -> slot."""
        if self._slot is None:
            self._slot = dict(zip(self.ids.tolist(), range(len(self.nodes))))
        return self._slot

    @property
    def args(self) -> list[list[int]]:
        """Per slot, the slots its step reads (empty for fed and preset slots)."""
        if self._args is None:
            args: list[list[int]] = [[] for _ in self.nodes]
            flat, start = self.step_args.tolist(), self.step_start.tolist()
            for t, s in enumerate(self.steps):
                args[s] = flat[start[t]:start[t + 1]]
            self._args = args
        return self._args

    @property
    def readers(self) -> list[list[int]]:
        """Per slot, the step numbers reading it (sorted, each once)."""
        if self._readers is None:
            by, start = self.reader_steps.tolist(), self.reader_start.tolist()
            self._readers = [by[a:b] for a, b in zip(start, start[1:])]
        return self._readers

    @property
    def frees(self) -> list[list[int]]:
        """Per step, the slots read for the last time there (not outputs)."""
        if self._frees is None and len(self.nodes) <= SMALL_PLAN:
            last_reader = {s: r[-1] for s, r in enumerate(self.readers) if r}
            for s in self.outputs:
                last_reader.pop(s, None)
            self._frees = [[] for _ in self.steps]
            for s, t in last_reader.items():
                self._frees[t].append(s)
        if self._frees is None:
            last = self.last_read.copy()
            last[self.outputs] = -1
            dying = np.flatnonzero(last >= 0)
            order = dying[np.argsort(last[dying], kind="stable")]
            bounds = np.searchsorted(last[order], np.arange(len(self.steps) + 1)).tolist()
            flat = order.tolist()
            self._frees = [flat[a:b] for a, b in zip(bounds, bounds[1:])]
        return self._frees


def _slots_of(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The slots (indices into the sorted ``ids``) of the node ids ``wanted``; an id not
    among them (an input of a fed node) gets some slot, never read."""
    n = len(ids)
    if n and ids[-1] < 4 * n + 4096:  # dense ids: a table beats a binary search
        table = np.zeros(int(ids[-1]) + 1, np.int64)
        table[ids] = np.arange(n)
        return table[np.minimum(wanted, ids[-1])]
    return np.minimum(np.searchsorted(ids, wanted), max(n - 1, 0))


def _read_inputs(nodes: list[Node], fed: frozenset[int]) -> tuple[np.ndarray, ...]:
    """The nodes' ids, their numbers of inputs, their inputs' ids flat, and per input the
    slot of the node reading it: from :func:`walk`'s reads (a walk that stopped at no node
    fed here: it read no inputs of those), else read from the nodes."""
    n = len(nodes)
    if isinstance(nodes, Needed) and nodes.reads and nodes.fed <= fed:
        marks, seen, backwards = nodes.reads  # (nodes from the highest id down)
        lens = np.fromiter(map(len, reversed(seen)), np.int64, n)
        owner = np.repeat(np.arange(n), lens)
        ends = np.cumsum(lens)
        # input k of slot s is backwards[len(backwards) - ends[s] + k]
        at = np.arange(len(backwards)) + (len(backwards) - 2 * ends + lens)[owner]
        return (np.flatnonzero(np.frombuffer(marks, np.uint8)), lens,
                np.fromiter(backwards, np.int64, len(backwards))[at], owner)
    ids = np.fromiter(map(_ID, nodes), np.int64, n)
    ins = list(map(_INPUTS, nodes))
    lens = np.fromiter(map(len, ins), np.int64, n)
    flat_ids = np.fromiter(map(_ID, itertools.chain.from_iterable(ins)), np.int64,
                           int(lens.sum()))
    return ids, lens, flat_ids, np.repeat(np.arange(n), lens)


# Up to this many nodes a plan is worked out in Python (_plan_in_python): a NumPy call
# costs ~1.5 us, and the array plan makes ~40 of them.
SMALL_PLAN = 256
_ARRAYS = frozenset({"ids", "step_array", "step_args", "step_start", "read_count",
                     "reader_start", "reader_steps", "last_read", "ops", "op_of"})
_ID, _INPUTS, _OPDEF = (operator.attrgetter(k) for k in ("id", "inputs", "opdef"))
_FIRST = operator.itemgetter(0)


def _fold_all(nodes: list[Node], flat: np.ndarray, owner: np.ndarray, lens: np.ndarray,
              ready: np.ndarray, candidate: np.ndarray, preset: dict[int, Any]) -> None:
    """Fold (see :func:`_fold`) every candidate step whose inputs are all ready, in slot
    order, as those inputs become ready: a worklist over the readers of what was folded,
    so only the constant part of the graph is visited in Python."""
    waiting = np.bincount(owner[~ready[flat]], minlength=len(nodes))
    todo = np.flatnonzero(candidate & (waiting == 0)).tolist()
    if not todo:
        return
    order = np.argsort(flat, kind="stable")
    readers_of, start = owner[order].tolist(), np.searchsorted(
        flat[order], np.arange(len(nodes) + 1)).tolist()
    starts = np.concatenate([[0], np.cumsum(lens)]).tolist()
    waiting_list, is_candidate = waiting.tolist(), candidate.tolist()
    heapq.heapify(todo)
    flat_list = None
    while todo:
        s = heapq.heappop(todo)
        if flat_list is None:
            flat_list = flat.tolist()
        if not _fold(nodes[s], flat_list[starts[s]:starts[s + 1]], preset, s):
            continue
        ready[s] = True
        for r in readers_of[start[s]:start[s + 1]]:
            waiting_list[r] -= 1
            if waiting_list[r] == 0 and is_candidate[r]:
                heapq.heappush(todo, r)


def _fold(node: Node, ins: list[int], preset: dict[int, Any], s: int) -> bool:
    """Preset ``node``, an op of preset values only, with its value now (symgraph's own
    ops only, and only where :func:`fold` gives exactly the node's shape and dtype)."""
    for i in ins:  # (the cheap test first, as a loop: most steps read a step)
        if i not in preset:
            return False
    op = node.opdef
    if op not in _BUILTIN or None in node.shape:
        return False
    value = fold(op, [preset[i] for i in ins], node.attrs, node.shape,
                 op.batch is batch_elementwise)
    if value is None or value.shape != node.shape or value.dtype != node.dtype:
        return False  # (then it runs at call time, and fails there as evaluate would)
    if value.flags.writeable:
        value.setflags(write=False)  # shared by every call
    preset[s] = value
    return True


def plan_for(outputs: list[Node], fed: frozenset[int]) -> Plan:
    """The plan of ``outputs`` given ``fed``, kept in the graph's cache (evaluate and the
    reruns of compiled code ask for the same plans again and again)."""
    graph = outputs[0].graph
    key = ("plan", tuple(n.id for n in outputs), fed)
    plan = graph.cache.get(key)
    if plan is None:
        with gc_paused():  # a plan of 10^5 steps allocates as many lists, all kept
            plan = Plan(outputs, fed)
        if len(graph.cache) > _PLAN_CACHE_SIZE:
            graph.cache.clear()
        graph.cache[key] = plan
    return plan

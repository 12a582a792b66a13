"""The ``dask`` backend's fusion of elementwise steps: steps of one shape that run block by
block become one ``blockwise`` task per block, so dask builds and schedules one layer
where it would make one per step (its graph work grows faster than the number of layers:
a chain of 3,000 scalar steps took dask 45 s as 3,000 layers).

Owns :func:`groups` (which steps of a plan fuse: plain Python over the plan) and
:func:`fused` (the function of dask arrays computing one group). A group's steps run, per
block, the same NumPy functions as the unfused steps would (``dask_ops.block_function``),
with floating-point warnings silenced, so the values are the same.

A step joins the group of one of its operands when it has that group's shape and each of
its other operands is in the group or computed before the group's first step; the group
then runs at its first step's place (everything it reads from outside is ready there, so
no group waits for a step that waits for it). Its outputs are the steps read outside it
or asked for; the others never become dask arrays.

Imports: ``numpy``, ``symgraph.plan``, ``symgraph.backends.dask_ops``.
"""

from __future__ import annotations

import functools
import operator
import uuid
from typing import Any

import numpy as np

from symgraph.backends.dask_ops import array_module, step_failed, step_name
from symgraph.plan import Plan


class Group:
    """Steps computed together: ``steps`` (slots, in the plan's order), ``shape`` (every
    step's), ``first`` (the first step's number), ``inputs`` (the slots read from outside,
    in the order first read) and ``outputs`` (the steps read outside or asked for)."""

    __slots__ = ("first", "inputs", "outputs", "shape", "steps")

    def __init__(self, shape: tuple, first: int):
        self.shape, self.first = shape, first
        self.steps: list[int] = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []


def groups(plan: Plan, blockwise: dict[int, Any]) -> list[Group]:
    """The groups of two or more steps of ``plan`` among the slots ``blockwise`` holds
    (those whose step runs block by block), each with its inputs and outputs.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sum(sg.exp(sg.sin(x) * 2.0))
    >>> plan = Plan([y], frozenset({x.id}))
    >>> steps = {s: None for s in plan.steps if plan.nodes[s].op != "sum"}
    >>> [[plan.nodes[s].op for s in g.steps] for g in groups(plan, steps)]
    [['sin', 'multiply', 'exp']]
    """
    nodes, args = plan.nodes, plan.args
    position = {s: t for t, s in enumerate(plan.steps)}
    group_of: dict[int, Group] = {}
    found: list[Group] = []
    for t, s in enumerate(plan.steps):
        if s not in blockwise:
            continue
        shape, ins, home = nodes[s].shape, args[s], None
        for i in ins:
            g = group_of.get(i)
            if g is not None and g.shape == shape and all(
                    group_of.get(j) is g or position.get(j, -1) < g.first for j in ins):
                home = g
                break
        if home is None:
            home = Group(shape, t)
            found.append(home)
        home.steps.append(s)
        group_of[s] = home
    kept = [g for g in found if len(g.steps) > 1]
    for s in [s for g in found if len(g.steps) == 1 for s in g.steps]:
        del group_of[s]
    outputs: dict[int, None] = dict.fromkeys(s for s in plan.outputs if s in group_of)
    for s in plan.steps:
        mine = group_of.get(s)
        outputs.update((j, None) for j in args[s] if j in group_of and group_of[j] is not mine)
    for g in kept:
        members = set(g.steps)
        g.inputs = list(dict.fromkeys(j for s in g.steps for j in args[s] if j not in members))
        g.outputs = [s for s in g.steps if s in outputs]
    return kept


def fused(group: Group, plan: Plan, blockwise: dict[int, Any]) -> Any:
    """The function of the dask arrays of ``group.inputs`` giving the tuple of its outputs'
    dask arrays, each block computed by one call running the group's steps on blocks."""
    local = {j: k for k, j in enumerate(group.inputs)}
    program = []
    for s in group.steps:
        program.append((blockwise[s], tuple(local[j] for j in plan.args[s]),
                         step_name(plan.nodes[s])))
        local[s] = len(local)
    outs = tuple(local[s] for s in group.outputs)
    # each block read for the last time by a step is dropped after it (outputs kept)
    last = {k: p for p, (_, ins, _) in enumerate(program) for k in ins}
    drops: list[list[int]] = [[] for _ in program]
    for k, p in last.items():
        if k not in outs:
            drops[p].append(k)
    run = Steps(tuple(zip(program, map(tuple, drops))), outs)
    dtypes = tuple(plan.nodes[s].dtype for s in group.outputs)
    return functools.partial(_apply, run, dtypes, len(group.shape))


class Steps:
    """A group's steps as one function of blocks, giving one block of each output (a step
    that raises, an integer to a negative power, names its node as an unfused one). Dask
    names a layer by a token of its function: this one is made once (tokenizing the steps
    themselves, NumPy functions and all, took 1 s for 9,000 steps at every call)."""

    __slots__ = ("outs", "program", "token")

    def __init__(self, program: tuple, outs: tuple):
        self.program, self.outs, self.token = program, outs, uuid.uuid4().hex

    def __call__(self, *blocks: Any) -> Any:
        env = list(blocks)
        with np.errstate(all="ignore"):
            for (function, ins, what), drops in self.program:
                args = [env[k] for k in ins]
                try:
                    env.append(function(*args))
                except Exception as exc:  # noqa: BLE001 - a failure names its step's node
                    raise step_failed(what, args, exc) from None
                for k in drops:
                    env[k] = None
        outs = self.outs
        return env[outs[0]] if len(outs) == 1 else tuple(env[k] for k in outs)

    def __dask_tokenize__(self) -> tuple:
        return ("symgraph-fused-steps", self.token)


def _apply(run: Any, dtypes: tuple, ndim: int, *args: Any) -> tuple:
    """The outputs' dask arrays: one blockwise layer (dask aligns the inputs' chunks and
    broadcasts them, right-aligned, as for one elementwise step); several outputs are
    read off its blocks (tuples) by one light layer each."""
    da = array_module()
    arrays = [da.asarray(a) for a in args]
    index = tuple(range(ndim))[::-1]
    pairs = [p for a in arrays for p in (a, index[ndim - a.ndim:])]
    if len(dtypes) == 1:
        return (da.blockwise(run, index, *pairs, dtype=dtypes[0],
                             meta=np.empty((0,) * ndim, dtype=dtypes[0])),)
    packed = da.blockwise(run, index, *pairs, dtype=object,
                          meta=np.empty((0,) * ndim, dtype=object))
    return tuple(packed.map_blocks(operator.itemgetter(k), dtype=d,
                                   meta=np.empty((0,) * ndim, dtype=d))
                 for k, d in enumerate(dtypes))

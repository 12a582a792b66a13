"""The ``dask`` backend: a plan built into a lazy dask array graph, computed block by block.

Owns: :class:`DaskBackend`, its compiled function :class:`Lazy`, the inputs' conversion
(NumPy inputs split by ``chunks``; dask arrays checked by shape and dtype only: reading
them would compute them) and the constants (fills stay ``da.full``). A call turns each
step of the plan into a dask array; nothing is computed (``dask.compute`` or a
``distributed.Client`` does that later). How one step runs (``symgraph.backends.dask_ops``):

- an op's own lowering (``Op.lowerings["dask"]``, ``make(node)`` returning a function of
  dask arrays): the loops and branches (``symgraph.loops.lower``) run as one task on
  whole arrays, their bodies by the python backend (only the chosen branch of a ``cond``
  runs, a ``while_loop`` runs as many steps as it needs), but a ``scan`` fed blocked data
  runs its body through this backend once per step, block by block; their results are
  lazy slices of the loop's packed value;
- a built-in op whose value has no elements (a zero-length dimension) is an empty array
  of its shape and dtype, made without the op: dask's blocked algorithms trip over
  zero-length blocks;
- an override keyed by the op record, for the ops that create shapes or whose NumPy
  forward would make one big block (``broadcast_to``, ``reshape``, ``scatter``,
  ``scatter_add``, ``first_max_mask``), or where dask's function answers otherwise than
  NumPy (``variance``/``std`` past ``ddof = n``, ``pad`` of an empty array);
- a user op's own ``impls={"dask": fn}``;
- an elementwise op (a user's too, when declared ``elementwise=True``) runs its NumPy
  forward block by block;
- a symgraph op whose NumPy function stays lazy on dask arrays (``DISPATCH``: NumPy hands
  ``np.sum``, ``np.matmul``... to dask) is called on the dask arrays; any other op
  (sorting, gathers, decompositions, a user's op not declared elementwise) runs its NumPy
  forward on whole arrays, as one task (correct, not blocked).

``dask`` is imported only when this backend is used (``import symgraph`` never imports it).

Imports: ``symgraph.graph``, ``symgraph.errors``, ``symgraph.ops``, ``symgraph.plan``,
``symgraph.backends.base``, ``symgraph.backends.dask_ops``, ``symgraph.backends.dask_fuse``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from symgraph.backends.base import Backend, Request, arguments
from symgraph.backends.dask_fuse import fused, groups
from symgraph.backends.dask_ops import NAME, array_module, block_function, lower
from symgraph.backends.recipe import pickled
from symgraph.errors import ShapeError, SymgraphError
from symgraph.graph import Node
from symgraph.ops.core import describe, fill_value
from symgraph.feeds import convert_feed


class DaskBackend(Backend):
    """Lazy dask arrays (see the module's docstring). Options: ``chunks`` (how NumPy inputs
    are split: ``"auto"``, an int, a tuple, or a dict from input nodes or names to one of
    those) and ``assume_finite`` (see :func:`symgraph.compile`)."""

    name = NAME
    extra = NAME
    options: ClassVar[dict[str, Any]] = {"chunks": "auto", "assume_finite": False}

    def available(self) -> bool:
        return array_module() is not None

    def normalize(self, options: dict[str, Any]) -> dict[str, Any]:
        chunks = options.get("chunks", "auto")
        return {"chunks": _frozen(chunks), "assume_finite": bool(options.get("assume_finite"))}

    def compile(self, request: Request, **options: Any) -> Lazy:
        return Lazy(request, options["chunks"])


def _frozen(chunks: Any) -> Any:
    """``chunks`` in a hashable form (compile caches by its options)."""
    if isinstance(chunks, dict):
        return tuple(("dict", k, _frozen(v)) for k, v in chunks.items())
    if isinstance(chunks, list):
        return tuple(_frozen(v) for v in chunks)
    if isinstance(chunks, tuple):
        return tuple(_frozen(v) for v in chunks)
    if isinstance(chunks, (str, int, np.integer)) and not isinstance(chunks, bool):
        return chunks
    raise SymgraphError(
        f"sg.compile(backend='dask'): chunks={chunks!r} is not a chunk size; give 'auto', an "
        "int, a tuple per dimension, or a dict from inputs to one of those")


class Lazy:
    """A compiled function of the ``dask`` backend (see :class:`CompiledFunction`): it takes
    NumPy or dask arrays and returns dask arrays, computing nothing."""

    def __init__(self, request: Request, chunks: Any):
        self.inputs = tuple(request.inputs)
        self.outputs = tuple(request.outputs)
        self.computed = tuple(request.computed)
        self.plan, self.single = request.plan, request.single
        self.chunks = _chunks_per_input(chunks, self.inputs)
        plan = self.plan
        blockwise = {s: f for s in plan.steps
                     if (f := block_function(plan.nodes[s])) is not None}
        starts = {g.steps[0]: g for g in groups(plan, blockwise)}
        fused_away = {s for g in starts.values() for s in g.steps[1:]}
        # (slots written, function of the input values, input slots, slots dying there,
        # node): a step writes its slot; a group of fused steps, run at its first step,
        # writes its outputs; its other steps only free what dies there
        self.program = []
        for s, frees in zip(plan.steps, plan.frees):
            node, group = plan.nodes[s], starts.get(s)
            if group is not None:
                entry = (tuple(group.outputs), fused(group, plan, blockwise), group.inputs)
            elif s in fused_away:
                entry = ((), None, ())
            else:
                entry = (s, lower(node), plan.args[s])
            self.program.append((*entry, frees, node))
        self._preset: list | None = None

    @property
    def source(self) -> str:
        return self.plan.listing()

    __reduce__ = pickled  # the graph's JSON, compiled again when unpickled

    def __call__(self, /, *arrays: Any, **names: Any) -> Any:
        results = self.values(*arguments(self.inputs, arrays, names))
        outs = [results[s] for s in self.plan.outputs]
        return outs[0] if self.single else outs

    def values(self, *arrays: Any, keep: bool = False) -> list:
        """The dask array of every slot of the plan for these inputs (with ``keep`` the
        intermediates too: a test reads their chunks)."""
        arrays = arguments(self.inputs, arrays, {})
        plan = self.plan
        values: list[Any] = [None] * len(plan.nodes)
        if self._preset is None:
            self._preset = [(s, _constant(v, plan.nodes[s])) for s, v in plan.preset]
        for s, value in self._preset:
            values[s] = value
        for node, value, chunks in zip(self.inputs, arrays, self.chunks):
            s = plan.slot.get(node.id)
            if s is not None:
                values[s] = _feed(node, value, chunks)
        for out, function, ins, frees, node in self.program:
            args = [values[i] for i in ins]
            try:
                if isinstance(out, int):
                    values[out] = _declared(function(*args), node)
                elif function is not None:
                    for s, value in zip(out, function(*args)):
                        values[s] = _declared(value, plan.nodes[s])
            except SymgraphError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure names its node
                shapes = ", ".join(str(getattr(a, "shape", ())) for a in args)
                what = "" if isinstance(out, int) else " and the elementwise steps after it"
                raise SymgraphError(
                    f"building {describe(node)} (op '{node.opdef.name}', node #{node.id}){what} "
                    f"with dask failed for inputs of shapes ({shapes}): {type(exc).__name__}: "
                    f"{exc}; check the shapes of the arrays passed") from None
            if not keep:
                for i in frees:
                    values[i] = None
        return values


def _declared(value: Any, node: Node) -> Any:
    """``value`` in ``node``'s dtype (NumPy's): dask's own functions promote on their own
    (its matmul of int32 or bool arrays is int64); lazy, a no-op when the dtypes agree."""
    dtype = getattr(value, "dtype", None)
    return value if dtype is None or dtype == node.dtype else value.astype(node.dtype)


def _chunks_per_input(chunks: Any, inputs: tuple) -> list:
    """The chunk spec of each input (a dict of chunks names inputs by node or name)."""
    if not (isinstance(chunks, tuple) and chunks and isinstance(chunks[0], tuple)
            and chunks[0][:1] == ("dict",)):
        return [chunks] * len(inputs)
    given = {}
    for _, key, spec in chunks:
        matches = [n for n in inputs if n is key or (isinstance(key, str) and n.name == key)]
        if not matches:
            raise SymgraphError(f"sg.compile(backend='dask'): chunks names {key!r}, which is not "
                                "among the inputs; key chunks by input nodes or their names")
        given[matches[0].id] = spec
    return [given.get(n.id, "auto") for n in inputs]


def _feed(node: Node, value: Any, chunks: Any) -> Any:
    """An input as a dask array of the node's dtype: a dask array is checked by its shape
    and dtype only (reading it would compute it); anything else as evaluate converts it,
    then split into ``chunks``."""
    da = array_module()
    if isinstance(value, da.Array):
        expected = node.shape
        if value.ndim != len(expected) or any(
                e is not None and not math.isnan(g) and e != g
                for e, g in zip(expected, value.shape)):
            shown = tuple("?" if e is None else e for e in expected)
            raise ShapeError(f"compiled function: the dask array fed for {describe(node)} has "
                             f"shape {value.shape}, expected {shown}".replace("'?'", "?"))
        if value.dtype == node.dtype:
            return value
        if not np.can_cast(value.dtype, node.dtype, casting="safe"):
            # A narrowing conversion is checked by value for NumPy inputs; a dask array's
            # values are not known until it is computed, so it must be converted first.
            raise SymgraphError(
                f"compiled function: the dask array fed for {describe(node)} has dtype "
                f"{value.dtype}, which does not safely become {node.dtype}; convert it first "
                f"(x.astype({str(node.dtype)!r}))")
        return value.astype(node.dtype)
    array = convert_feed(node, value, "compiled function")
    try:
        if isinstance(chunks, tuple) and len(chunks) != array.ndim:
            raise ValueError(f"{len(chunks)} sizes for {array.ndim} dimensions")
        return da.from_array(array, chunks=chunks)
    except (ValueError, TypeError, ArithmeticError) as exc:  # (chunks=0: ZeroDivisionError)
        raise SymgraphError(f"compiled function: chunks={chunks!r} do not fit the input "
                            f"{describe(node)} ({exc}); give chunks per input, a dict from "
                            "inputs to their chunks") from None


def _constant(value: np.ndarray, node: Node) -> Any:
    """A constant as a dask array; a fill (zero strides) stays a fill, split into blocks of
    at most dask's chunk size instead of one block as large as its shape."""
    da = array_module()
    one = fill_value(value)
    if one is not None and value.ndim:
        return da.full(value.shape, one, dtype=value.dtype, chunks="auto")
    return da.from_array(np.asarray(value), chunks="auto")

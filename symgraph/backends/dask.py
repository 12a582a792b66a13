"""The ``dask`` backend: a plan built into a lazy dask array graph, computed block by block.

Owns: :class:`DaskBackend` and its compiled function :class:`Lazy`. A call turns each
step of the plan into a dask array (nothing is computed: ``dask.compute`` or a
``distributed.Client`` does that later), in one of four ways:

- an override keyed by the op record, for the ops that create shapes or whose NumPy
  forward would make one big block (``broadcast_to``, ``reshape``, ``scatter``,
  ``scatter_add``, ``first_max_mask``; constants become ``da.full`` fills);
- a user op's own ``impls={"dask": fn}``;
- an elementwise op runs its NumPy forward block by block (``dask.array``'s
  ``elemwise``, which aligns chunks and broadcasts);
- a symgraph op whose forward is known to stay lazy on dask arrays (``DISPATCH``: NumPy
  dispatches ``np.sum``, ``np.matmul``... to dask) calls it on the dask arrays; any other
  symgraph op (sorting, decompositions, gathers) runs its NumPy forward on the whole
  array as one task (correct, not blocked).

``dask`` is imported only when this backend is used (``import symgraph`` never imports it).

Imports: ``symgraph.graph``, ``symgraph.errors``, ``symgraph.ops``, ``symgraph.plan``,
``symgraph.backends.base``, ``symgraph.backends.numpy``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import numpy as np

from symgraph.backends.base import Backend, Request
from symgraph.backends.numpy import array_function
from symgraph.errors import ShapeError, SymgraphError
from symgraph.graph import Node
from symgraph.ops.contract import TENSORDOT
from symgraph.ops.conv import AVG_POOL2D, CONV2D_WEIGHT_GRAD, MAX_POOL2D, WINDOWS2D
from symgraph.ops.core import Op, describe, fill_value
from symgraph.ops.diagonals import DIAGONAL, TRACE, TRIL, TRIU
from symgraph.ops.layout import PAD, ROLL, TILE
from symgraph.ops.linalg import MATMUL
from symgraph.ops.nn import LOG_SOFTMAX, LOGSUMEXP, SOFTMAX
from symgraph.ops.reduce import BROADCAST_TO, COUNT, FIRST_MAX_MASK, MAX, MEAN, SUM, SUM_TO
from symgraph.ops.shape import (
    CONCATENATE,
    EXPAND_DIMS,
    GETITEM,
    RESHAPE,
    SCATTER,
    SCATTER_ADD,
    STACK,
    TRANSPOSE,
    batch_elementwise,
    numpy_index,
)
from symgraph.ops.sorting import CUMPROD, CUMSUM
from symgraph.ops.spectral import (
    EIGH_VALUES,
    EIGH_VECTORS,
    NORM,
    QR_Q,
    QR_R,
    SVD_S,
    SVD_U,
    SVD_VH,
)
from symgraph.ops.statistics import MIN, PROD, STD, VARIANCE
from symgraph.plan import builtin, convert_feed

# This backend's key in a user op's ``impls`` and the pip extra it needs.
NAME = "dask"


@functools.cache
def _dask() -> Any:
    """``dask.array``, imported on first use (None when dask is not installed)."""
    try:
        import dask.array as da
    except ImportError:
        return None
    return da


def user_impl(op: Op) -> Any:
    """A user op's own dask implementation (``define_op(..., impls={"dask": fn})``)."""
    impls = getattr(op, "impls", None)
    return impls.get(NAME) if isinstance(impls, dict) else None


class DaskBackend(Backend):
    """Lazy dask arrays (see the module's docstring). Options: ``chunks`` (how NumPy inputs
    are split: ``"auto"``, an int, a tuple, or a dict from input nodes or names to one of
    those) and ``assume_finite`` (see :func:`symgraph.compile`)."""

    name = NAME
    extra = NAME
    options: ClassVar[dict[str, Any]] = {"chunks": "auto", "assume_finite": False}

    def available(self) -> bool:
        return _dask() is not None

    def supports(self, op: Op) -> bool:
        # symgraph's own ops all run (blocked or as one task); a user's op needs its
        # dask function, or must be elementwise so that its forward runs per block
        return builtin(op) or user_impl(op) is not None or op.batch is batch_elementwise

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
        # (slot, function of the input values, input slots, slots dying there, node)
        self.program = [(s, _lower(plan.nodes[s]), plan.args[s], frees, plan.nodes[s])
                        for s, frees in zip(plan.steps, plan.frees)]
        self._preset: list | None = None

    @property
    def source(self) -> str:
        plan = self.plan
        lines = [f"v{s} = {plan.nodes[s].opdef.name}({', '.join(f'v{i}' for i in plan.args[s])})"
                 for s in plan.steps]
        return "\n".join([*lines, f"return {', '.join(f'v{s}' for s in plan.outputs)}"]) + "\n"

    def __call__(self, *arrays: Any) -> Any:
        results = self.values(*arrays)
        outs = [results[s] for s in self.plan.outputs]
        return outs[0] if self.single else outs

    def values(self, *arrays: Any, keep: bool = False) -> list:
        """The dask array of every slot of the plan for these inputs (with ``keep`` the
        intermediates too: a test reads their chunks)."""
        if len(arrays) != len(self.inputs):
            names = ", ".join(describe(n) for n in self.inputs) or "none"
            raise SymgraphError(
                f"this compiled function takes {len(self.inputs)} arrays (inputs: {names}), "
                f"got {len(arrays)}; pass one array per input, in the order given to sg.compile")
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
                values[out] = function(*args)
            except SymgraphError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure names its node
                shapes = ", ".join(str(getattr(a, "shape", ())) for a in args)
                raise SymgraphError(
                    f"building {describe(node)} (op '{node.opdef.name}', node #{node.id}) with "
                    f"dask failed for inputs of shapes ({shapes}): {type(exc).__name__}: {exc}; "
                    "check the shapes of the arrays passed") from None
            if not keep:
                for i in frees:
                    values[i] = None
        return values


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
    da = _dask()
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
    except (ValueError, TypeError) as exc:
        raise SymgraphError(f"compiled function: chunks={chunks!r} do not fit the input "
                            f"{describe(node)} ({exc}); give chunks per input, a dict from "
                            "inputs to their chunks") from None


def chunk_limit() -> int:
    """The largest block in bytes that this backend makes (dask's ``array.chunk-size``)."""
    import dask
    from dask.utils import parse_bytes
    return parse_bytes(dask.config.get("array.chunk-size"))


def _constant(value: np.ndarray, node: Node) -> Any:
    """A constant as a dask array; a fill (zero strides) stays a fill, split into blocks of
    at most dask's chunk size instead of one block as large as its shape."""
    da = _dask()
    one = fill_value(value)
    if one is not None and value.ndim:
        return da.full(value.shape, one, dtype=value.dtype, chunks="auto")
    return da.from_array(np.asarray(value), chunks="auto")


# --- how a step runs -------------------------------------------------------------------------


def _lower(node: Node) -> Any:
    """The function of dask arrays computing ``node`` (see the module's docstring)."""
    op, attrs = node.opdef, node.attrs
    override = OVERRIDES.get(op)
    if override is not None:
        return functools.partial(override, node)
    own = user_impl(op)
    if own is not None:
        return own
    function = _numpy_function(op, attrs)
    if op.batch is batch_elementwise:
        return functools.partial(_blockwise, functools.partial(_quiet, function), node.dtype)
    if op in DISPATCH:
        return functools.partial(_dispatch, function, node)
    return functools.partial(_one_block, functools.partial(_quiet, function), node)


def _numpy_function(op: Op, attrs: dict) -> Any:
    function = array_function(op, attrs)
    if function is not None:
        return function
    return functools.partial(op.impl, **attrs) if attrs else op.impl


def _quiet(function: Any, *args: Any) -> Any:
    """``function`` of NumPy blocks with floating-point warnings silenced, as evaluate does."""
    with np.errstate(all="ignore"):
        return function(*args)


def _blockwise(function: Any, dtype: np.dtype, *args: Any) -> Any:
    """An elementwise op, block by block (dask aligns the chunks and broadcasts, as its
    ``elemwise`` does; the result's type is given, so the op is never called on empty
    probe arrays: a user's forward runs once per block)."""
    da = _dask()
    arrays = [da.asarray(a) for a in args]
    ndim = max(a.ndim for a in arrays)
    index = tuple(range(ndim))[::-1]
    pairs = [p for a in arrays for p in (a, index[ndim - a.ndim:])]
    return da.blockwise(function, index, *pairs, dtype=dtype,
                        meta=np.empty((0,) * ndim, dtype=dtype))


def _dispatch(function: Any, node: Node, *args: Any) -> Any:
    """An op whose NumPy function dask implements lazily (``np.sum`` on a dask array is
    ``da.sum``); a shape-only input lends its shape as a zero-stride NumPy stand-in."""
    da = _dask()
    args = _shapes_only(node, args)
    with np.errstate(all="ignore"):
        result = function(*args)
    return result if isinstance(result, da.Array) else da.asarray(result)


def _shapes_only(node: Node, args: tuple) -> tuple:
    """The arguments, each shape-only input replaced by a NumPy array of its shape and dtype
    taking no memory: the op reads only its shape, and must not wait for its values."""
    shape_only = node.opdef.shape_only
    if not shape_only:
        return args
    return tuple(np.broadcast_to(np.zeros((), dtype=a.dtype), a.shape) if i in shape_only
                 else a for i, a in enumerate(args))


def _one_block(function: Any, node: Node, *args: Any) -> Any:
    """``node``'s NumPy forward on its whole inputs, as one task (ops without a blocked form:
    sorting, decompositions, gathers)."""
    import dask
    da = _dask()
    shape = tuple(np.nan if d is None else d for d in node.shape)
    task = dask.delayed(function, pure=True)(*_shapes_only(node, args))
    return da.from_delayed(task, shape, dtype=node.dtype)


# --- chunk-aware overrides, keyed by the op record -------------------------------------------


def broadcast(x: Any, shape: tuple, like: Any = None) -> Any:
    """``x`` broadcast to ``shape``, the new and stretched axes split into blocks of at most
    dask's chunk size, or as the array ``like`` is split (``da.broadcast_to`` alone makes
    each new axis one block: a scalar broadcast to a large shape would be one block as
    large as the result)."""
    from dask.array.core import normalize_chunks
    da = _dask()
    x = da.asarray(x)
    lead = len(shape) - x.ndim
    spec = tuple(x.chunks[k - lead] if k >= lead and x.shape[k - lead] == d
                 else like.chunks[k] if like is not None and like.shape[k] == d else "auto"
                 for k, d in enumerate(shape))
    chunks = normalize_chunks(spec, shape, dtype=x.dtype, limit=chunk_limit())
    return da.broadcast_to(x, shape, chunks=chunks)


def _broadcast_to(node: Node, x: Any, ref: Any = None) -> Any:
    # split as the array whose shape it takes, so that the ops joining the two need no
    # rechunking (ref lends its shape and chunks only: nothing waits for its values)
    if ref is not None:
        return broadcast(x, tuple(ref.shape), ref)
    return broadcast(x, node.attrs["shape"])


def _reshape(node: Node, x: Any, ref: Any = None) -> Any:
    da = _dask()
    shape = tuple(ref.shape) if ref is not None else node.attrs["shape"]
    limit = chunk_limit()
    try:
        return da.reshape(x, shape, limit=limit)
    except NotImplementedError:
        # dask reshapes only by merging or evenly splitting axes: (2, 3) -> (3, 2) goes
        # through one axis (a merge, then a split)
        return da.reshape(da.reshape(x, (-1,), limit=limit), shape, limit=limit)


def _assign(out: Any, where: tuple, value: Any) -> Any:
    """``out[where] = value`` as NumPy does it: ``value`` broadcast to the part (leading
    unit axes dropped), and new axes (``None``) in ``where`` left out (dask's item
    assignment does neither)."""
    part = out[where].shape
    while value.ndim > len(part) and value.shape[0] == 1:
        value = value[0]
    if value.shape != part:
        value = broadcast(value, part)
    if any(k is None for k in where):
        consumed = sum(k is not None and k is not Ellipsis for k in where)
        dim, drop = 0, []  # the part's axes that the Nones made
        for k in where:
            if k is None:
                drop.append(dim)
            dim += out.ndim - consumed if k is Ellipsis else not isinstance(k, (int, np.integer))
        value = value.reshape(tuple(d for i, d in enumerate(value.shape) if i not in drop))
        where = tuple(k for k in where if k is not None)
    out[where] = value
    return out


def _scatter(node: Node, g: Any, ref: Any = None) -> Any:
    shape = tuple(ref.shape) if ref is not None else node.attrs["shape"]
    out = _dask().zeros(shape, dtype=g.dtype, chunks="auto")
    return _assign(out, numpy_index(node.attrs["index"]), g)


def _scatter_add(node: Node, b: Any, g: Any) -> Any:
    # as the op's impl: b + g inside the index, b + 0.0 elsewhere (-0.0 becomes 0.0)
    where = numpy_index(node.attrs["index"])
    return _assign(np.add(b, 0.0), where, b[where] + g)


def _first_max_mask(node: Node, x: Any) -> Any:
    """1 at the first maximal element (NumPy's argmax: a NaN is maximal) of each reduced
    slice: the smallest C-order position, over the reduced axes, where ``x`` equals the
    slice's max, found by a min over those positions, all block by block."""
    da = _dask()
    axes = tuple(range(x.ndim)) if node.attrs["axis"] is None else node.attrs["axis"]
    top = da.max(x, axis=axes, keepdims=True)
    hit = (x == top) | (x != x)  # noqa: PLR0124 - where the max is NaN, the NaNs are maximal
    position = da.zeros((), dtype=np.int64)
    stride = 1
    for a in reversed(axes):
        step = da.arange(x.shape[a], chunks=(x.chunks[a],), dtype=np.int64) * stride
        position = position + step.reshape((-1,) + (1,) * (x.ndim - 1 - a))
        stride *= x.shape[a]
    marked = da.where(hit, position, stride)
    first = da.min(marked, axis=axes, keepdims=True)
    return (marked == first).astype(x.dtype)


OVERRIDES: dict[Op, Any] = {
    BROADCAST_TO: _broadcast_to, RESHAPE: _reshape, SCATTER: _scatter,
    SCATTER_ADD: _scatter_add, FIRST_MAX_MASK: _first_max_mask,
}
# symgraph ops whose NumPy function stays lazy on dask arrays (NumPy dispatches it to dask);
# tests/test_backend_dask.py builds every case of these over dask arrays with computing
# forbidden. The other non-elementwise ops run as one task (see _one_block).
DISPATCH: frozenset[Op] = frozenset({
    SUM, MEAN, MAX, MIN, PROD, COUNT, STD, VARIANCE, SUM_TO, CUMSUM, CUMPROD, LOGSUMEXP, SOFTMAX,
    LOG_SOFTMAX, NORM, MATMUL, TENSORDOT, TRANSPOSE, EXPAND_DIMS, GETITEM, CONCATENATE, STACK,
    PAD, ROLL, TILE, DIAGONAL, TRACE, TRIL, TRIU, WINDOWS2D, AVG_POOL2D, MAX_POOL2D,
    CONV2D_WEIGHT_GRAD,
    # the factors' parts: slices of the one packed result (the decomposition is one task)
    EIGH_VALUES, EIGH_VECTORS, SVD_S, SVD_U, SVD_VH, QR_Q, QR_R,
})

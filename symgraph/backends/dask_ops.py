"""How the ``dask`` backend runs one step: the choice of a step's function of dask arrays
(:func:`lower`; an empty result made without its op), the chunk-aware overrides keyed by
the op record (``OVERRIDES``), the ops whose NumPy function stays lazy on dask arrays
(``DISPATCH``), block-by-block elementwise ops and the one-task fallback. See
``symgraph.backends.dask``.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.plan``, ``symgraph.backends.numpy``;
``dask`` only inside functions.
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any

import numpy as np

from symgraph.backends.base import ResultShapeError, check_dtype, check_shape
from symgraph.backends.numpy import numpy_function
from symgraph.errors import SymgraphError, ValueRefused
from symgraph.graph import Node
from symgraph.ops.contract import TENSORDOT
from symgraph.ops.conv import AVG_POOL2D, CONV2D_WEIGHT_GRAD, MAX_POOL2D, WINDOWS2D
from symgraph.ops.core import Op, describe
from symgraph.ops.diagonals import DIAGONAL, TRACE, TRIL, TRIU
from symgraph.ops.layout import PAD, ROLL, TILE
from symgraph.ops.linalg import MATMUL
from symgraph.ops.logical import ALL, ANY
from symgraph.ops.nn import LOG_SOFTMAX, LOGSUMEXP, SOFTMAX
from symgraph.ops.numeric import SEARCHSORTED
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
from symgraph.plan import builtin

# This backend's key in a user op's ``impls``.
NAME = "dask"


@functools.cache
def array_module() -> Any:
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


def chunk_limit() -> int:
    """The largest block in bytes that this backend makes (dask's ``array.chunk-size``)."""
    import dask
    from dask.utils import parse_bytes
    return parse_bytes(dask.config.get("array.chunk-size"))


# --- how a step runs -------------------------------------------------------------------------


def lower(node: Node) -> Any:
    """The function of dask arrays computing ``node`` (see the module's docstring); a
    built-in op's empty result is made without it (:func:`_unless_empty`)."""
    function = _lower(node)
    return functools.partial(_unless_empty, function, node) if builtin(node.opdef) else function


def _unless_empty(function: Any, node: Node, *args: Any) -> Any:
    """``function(*args)``, or, where ``node``'s value has no elements, an empty array of its
    shape and dtype: the value evaluate gives, with nothing to compute. Dask's blocked
    algorithms trip over zero-length blocks (its max of a (0, 3) block inside softmax
    raised NumPy's ValueError at compute time, its reshape of two empty blocks a
    TypeError)."""
    shape = node.shape
    if None in shape and any(0 in getattr(a, "shape", ()) for a in args):
        shape = _runtime_shape(node, args)  # (an empty input: the result may be empty)
    if 0 in shape and None not in shape:
        return array_module().zeros(shape, dtype=node.dtype)
    return function(*args)


def _lower(node: Node) -> Any:
    op, attrs = node.opdef, node.attrs
    make = op.lowerings.get(NAME)  # an op's own lowering (the loops: symgraph.loops.lower)
    if make is not None:
        return make(node)
    override = OVERRIDES.get(op)
    if override is not None:
        return functools.partial(override, node)
    own = user_impl(op)
    if own is not None:
        return own
    function = numpy_function(op, attrs)
    if not builtin(op):  # a user's forward: its result is checked, as evaluate checks it
        function = functools.partial(
            _checked_block if op.batch is batch_elementwise else _checked, function,
            _Seen(node))
    if op.batch is batch_elementwise:
        return functools.partial(_blockwise, _task(function, node), node.dtype)
    if op in DISPATCH:
        return functools.partial(_dispatch, function, node)
    return functools.partial(_one_block, _task(function, node), node)


def block_function(node: Node) -> Any:
    """The NumPy function that ``lower`` runs block by block for ``node`` (one of symgraph's
    elementwise ops of a known shape, with no lowering of its own), else None: such steps
    may be fused (``symgraph.backends.dask_fuse``)."""
    op = node.opdef
    if (op.batch is not batch_elementwise or NAME in op.lowerings or op in OVERRIDES
            or not builtin(op) or None in node.shape):
        return None
    return numpy_function(op, node.attrs)


def _quiet(function: Any, what: str, *args: Any) -> Any:
    """``function`` of NumPy blocks with floating-point warnings silenced, as evaluate does;
    a failure (it happens when dask computes the task) raises SymgraphError naming ``what``,
    the node (a string: dask tokenizes the task's arguments)."""
    try:
        with np.errstate(all="ignore"):
            return function(*args)
    except SymgraphError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure names its node
        raise step_failed(what, args, exc) from None


def step_failed(what: str, args: Any, exc: Exception) -> SymgraphError:
    """The error of a step (``what`` names its node: :func:`step_name`) whose function
    raised on blocks ``args`` (an integer to a negative integer power, say)."""
    if isinstance(exc, ValueRefused):  # its message already says what to do
        return SymgraphError(f"computing {what} with dask failed: {exc}")
    shapes = ", ".join(str(np.shape(a)) for a in args)
    return SymgraphError(f"computing {what} with dask failed for blocks of shapes ({shapes}): "
                         f"{type(exc).__name__}: {exc}; check the values fed")


def step_name(node: Node) -> str:
    """How a dask task names its node (a string: dask tokenizes the task's arguments)."""
    return f"{describe(node)} (op '{node.opdef.name}', node #{node.id})"


class _Seen:
    """What the result checks read of a node (its op's name, id, formula, shape, dtype),
    without the node: a task's function is tokenized by dask and pickled by
    ``dask.distributed``, and a node (its whole graph) is neither."""

    def __init__(self, node: Node):
        self.opdef = _OpName(node.opdef.name)
        self.op, self.name, self.id = node.op, node.name, node.id
        self.shape, self.dtype, self.text = node.shape, node.dtype, str(node)

    def __str__(self) -> str:
        return self.text

    def __dask_tokenize__(self) -> tuple:
        return ("symgraph-node", self.op, self.id, self.text, self.shape, str(self.dtype))


class _OpName:
    def __init__(self, name: str):
        self.name = name


def _checked(function: Any, node: Node, *args: Any) -> Any:
    return check_shape(node, function(*args))


def _checked_block(function: Any, node: Node, *blocks: Any) -> Any:
    """A user's elementwise forward on one block of each input: the result must have the
    blocks' broadcast shape (and the node's dtype)."""
    result = function(*blocks)
    want = np.broadcast_shapes(*(np.shape(b) for b in blocks))
    if np.shape(result) != want:
        raise ResultShapeError(
            f"the op '{node.opdef.name}' ({describe(node)}, node #{node.id}) returned shape "
            f"{np.shape(result)} for blocks of shape {want}; an op declared elementwise "
            "must return its inputs' broadcast shape (or declare sg.define_op"
            f"({node.opdef.name!r}, ..., shape=rule) without elementwise=True)")
    return check_dtype(node, result)


def _task(function: Any, node: Node) -> Any:
    """``function`` as run in a dask task for ``node`` (see :func:`_quiet`)."""
    return functools.partial(_quiet, function, step_name(node))


def _blockwise(function: Any, dtype: np.dtype, *args: Any) -> Any:
    """An elementwise op, block by block (dask aligns the chunks and broadcasts, as its
    ``elemwise`` does; the result's type is given, so the op is never called on empty
    probe arrays: a user's forward runs once per block)."""
    da = array_module()
    arrays = [da.asarray(a) for a in args]
    ndim = max(a.ndim for a in arrays)
    index = tuple(range(ndim))[::-1]
    pairs = [p for a in arrays for p in (a, index[ndim - a.ndim:])]
    return da.blockwise(function, index, *pairs, dtype=dtype,
                        meta=np.empty((0,) * ndim, dtype=dtype))


def _dispatch(function: Any, node: Node, *args: Any) -> Any:
    """An op whose NumPy function dask implements lazily (``np.sum`` on a dask array is
    ``da.sum``); a shape-only input lends its shape as a zero-stride NumPy stand-in."""
    da = array_module()
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


def one_task(node: Node, function: Any) -> Any:
    """The function of dask arrays that runs ``function`` (of NumPy arrays, giving
    ``node``'s value) on the whole arrays as one task, floating-point warnings silenced."""
    return functools.partial(_one_block, _task(function, node), node)


def _one_block(function: Any, node: Node, *args: Any) -> Any:
    """``node``'s NumPy forward on its whole inputs, as one task (ops without a blocked form:
    sorting, decompositions, gathers)."""
    import dask
    da = array_module()
    shape = node.shape if None not in node.shape else _runtime_shape(node, args)
    task = dask.delayed(function, pure=True)(*_shapes_only(node, args))
    return da.from_delayed(task, tuple(np.nan if d is None else d for d in shape),
                           dtype=node.dtype)


class _Sized:
    """A node seen with the shape its value has in this call (for the op's shape rule)."""

    __slots__ = ("_node", "shape")

    def __init__(self, node: Node, shape: tuple):
        self._node, self.shape = node, shape

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def _runtime_shape(node: Node, args: tuple) -> tuple:
    """``node``'s shape given its inputs' shapes in this call, by the op's own shape rule
    (a dimension it leaves unknown stays unknown: dask then treats it as such)."""
    sized = tuple(_Sized(i, tuple(None if math.isnan(d) else int(d) for d in a.shape))
                  for i, a in zip(node.inputs, args))
    try:
        shape = tuple(node.opdef.shape(sized, node.attrs))
    except Exception:  # noqa: BLE001 - a rule that needs more than shapes: unknown it stays
        shape = node.shape
    for i in node.opdef.shape_only:  # the dims a shape-only input lends (right-aligned)
        ref = sized[i].shape if i < len(sized) else ()
        lead = len(shape) - len(ref)
        shape = tuple(ref[k - lead] if d is None and k >= lead else d
                      for k, d in enumerate(shape))
    return shape


# --- chunk-aware overrides, keyed by the op record -------------------------------------------


def broadcast(x: Any, shape: tuple, like: Any = None) -> Any:
    """``x`` broadcast to ``shape``, the new and stretched axes split into blocks of at most
    dask's chunk size, or as the array ``like`` is split (``da.broadcast_to`` alone makes
    each new axis one block: a scalar broadcast to a large shape would be one block as
    large as the result)."""
    from dask.array.core import normalize_chunks
    da = array_module()
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
    da = array_module()
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
    out = array_module().zeros(shape, dtype=g.dtype, chunks="auto")
    return _assign(out, numpy_index(node.attrs["index"]), g)


def _scatter_add(node: Node, b: Any, g: Any) -> Any:
    # as the op's impl: b + g inside the index, b + 0.0 elsewhere (-0.0 becomes 0.0)
    where = numpy_index(node.attrs["index"])
    return _assign(np.add(b, 0.0), where, b[where] + g)


def _first_max_mask(node: Node, x: Any) -> Any:
    """1 at the first maximal element (NumPy's argmax: a NaN is maximal) of each reduced
    slice: the smallest C-order position, over the reduced axes, where ``x`` equals the
    slice's max, found by a min over those positions, all block by block."""
    da = array_module()
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


def _cumsum(node: Node, x: Any) -> Any:
    """np.cumsum block by block, each block's running sums plus the blocks' before. The
    carry starts at -0.0, addition's exact identity (dask's 0.0 made a run of -0.0 in a
    later block 0.0, where NumPy's running sum stays -0.0)."""
    da = array_module()
    axis, reverse = node.attrs["axis"], node.attrs["reverse"]
    start = -0.0 if node.dtype.kind == "f" else 0
    if reverse:
        x = da.flip(x, axis)
    out = da.reductions.cumreduction(np.cumsum, operator.add, start, x, axis=axis,
                                     dtype=node.dtype)
    return da.flip(out, axis) if reverse else out


def _pad(node: Node, x: Any) -> Any:
    """np.pad's constant mode (NumPy dispatches it to dask's); of an array with a
    zero-length axis, the padding alone, joined axis after axis as np.pad writes it (the
    later axes' values in the corners): dask's pad divides by the empty axis's block size."""
    widths, values = node.attrs["pad_width"], node.attrs["constant_values"]
    if 0 not in x.shape:
        with np.errstate(all="ignore"):
            return np.pad(x, widths, mode="constant", constant_values=values)
    da = array_module()
    for axis, (sizes, fills) in enumerate(zip(widths, values)):
        parts = [x]
        for end, (size, fill) in enumerate(zip(sizes, fills)):
            if size:
                shape = x.shape[:axis] + (size,) + x.shape[axis + 1:]
                block = da.full(shape, fill, dtype=node.dtype)
                parts = [block, *parts] if end == 0 else [*parts, block]
        x = da.concatenate(parts, axis=axis) if len(parts) > 1 else x
    return x


def _moment(node: Node, x: Any) -> Any:
    """np.var/np.std block by block, as NumPy computes them (``_var``): the mean, the
    squares of the deviations from it, their sum over ``max(n - ddof, 0)`` (inf from
    ``ddof >= n`` on; dask's own var divides by ``n - ddof``, NaN past it, and sums raw
    powers, inf - inf where the squares overflow). With ``n`` known only when computed,
    one task."""
    axis, keepdims, ddof = (node.attrs[k] for k in ("axis", "keepdims", "ddof"))
    n = math.prod(x.shape[a] for a in (range(x.ndim) if axis is None else axis))
    if math.isnan(n):
        return _one_block(_task(numpy_function(node.opdef, node.attrs), node), node, x)
    with np.errstate(all="ignore"):
        deviation = x - x.mean(axis=axis, keepdims=True)
        var = (deviation * deviation).sum(axis=axis, keepdims=keepdims) / max(n - ddof, 0)
        return array_module().sqrt(var) if node.opdef is STD else var


def _searchsorted(node: Node, a: Any, v: Any) -> Any:
    """``searchsorted`` block by block of the values, each block against the whole sorted
    array (one block: it is 1-D, and every block of ``v`` reads all of it)."""
    da = array_module()
    side = node.attrs["side"]
    v = da.asarray(v)
    index = tuple(range(1, v.ndim + 1))

    def block(values: np.ndarray, sorted_: np.ndarray) -> np.ndarray:
        return np.asarray(np.searchsorted(sorted_, values, side=side), dtype=node.dtype)

    return da.blockwise(block, index, v, index, da.asarray(a).rechunk(-1), (0,),
                        concatenate=True, dtype=node.dtype,
                        meta=np.empty((0,) * v.ndim, dtype=node.dtype))


OVERRIDES: dict[Op, Any] = {
    BROADCAST_TO: _broadcast_to, RESHAPE: _reshape, SCATTER: _scatter,
    SCATTER_ADD: _scatter_add, FIRST_MAX_MASK: _first_max_mask, CUMSUM: _cumsum,
    VARIANCE: _moment, STD: _moment, PAD: _pad, SEARCHSORTED: _searchsorted,
}
# symgraph ops whose NumPy function stays lazy on dask arrays (NumPy dispatches it to dask);
# tests/test_backend_dask.py builds every case of these over dask arrays with computing
# forbidden. The other non-elementwise ops run as one task (see _one_block).
DISPATCH: frozenset[Op] = frozenset({
    SUM, MEAN, MAX, MIN, PROD, ALL, ANY, COUNT, STD, VARIANCE, SUM_TO, CUMSUM, CUMPROD,
    LOGSUMEXP, SOFTMAX, LOG_SOFTMAX, NORM, MATMUL, TENSORDOT, TRANSPOSE, EXPAND_DIMS, GETITEM,
    CONCATENATE, STACK, PAD, ROLL, TILE, DIAGONAL, TRACE, TRIL, TRIU, WINDOWS2D, AVG_POOL2D,
    MAX_POOL2D, CONV2D_WEIGHT_GRAD,
    # the factors' parts: slices of the one packed result (the decomposition is one task)
    EIGH_VALUES, EIGH_VECTORS, SVD_S, SVD_U, SVD_VH, QR_Q, QR_R,
})

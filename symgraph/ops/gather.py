"""Gathering and scattering by integer index: ``x[idx]``, ``take``, ``take_along_axis``,
``one_hot``.

``gather`` is NumPy's integer-array ("advanced") indexing, mixed with ints, slices and
``None`` as NumPy allows; ``take`` and ``x[idx]`` make it. Its derivative is
``add_at`` (``np.add.at`` on zeros: repeated indices add up), whose derivative is
``gather`` again, so every order is exact. An index is an input of the node: a constant
for a NumPy array, or an integer node fed at run time. Each is checked against its axis
when the node runs, so an out-of-range index raises an error naming the node (NumPy's
negative indices count from the end).

The vmap rules are in ``symgraph.ops.gather_batch``.

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules (``gather_batch`` among them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.graph import Graph, Node, ShapeError, SymgraphError, get_default_graph
from symgraph.ops.core import (
    FLOAT64, Case, Op, _brief, broadcast_shapes, const, describe, first_dtype, make,
    follows_numpy,
    normalize_axes, operands, operatorname, register,
)
from symgraph.ops.elementwise import cast
from symgraph.ops.gather_batch import (
    _adjacent, batch_add_at, batch_gather, batch_take_along,
)
from symgraph.ops.nn import log_softmax
from symgraph.ops.rounding import clip, mod
from symgraph.ops.shape import _ALL, _canonical_index, reshape

__all__ = ["take", "take_along_axis", "one_hot"]

# (a gather's ``index`` attribute: see symgraph.ops.gather_batch, which owns its helpers
# and the vmap rules)


def _index_shape(xshape: tuple, index: tuple, idx_shapes: list) -> tuple:
    """NumPy's result shape of ``x[index]``, computed without arrays (dims may be None)."""
    bshape: tuple | None = ()
    out: list = []
    axis = 0
    for item in index:
        if item is None:
            out.append(1)
            continue
        n = xshape[axis]
        axis += 1
        if isinstance(item, tuple) and item[0] == "slice":
            out.append(None if n is None else len(range(*slice(*item[1:]).indices(n))))
            continue
        if isinstance(item, tuple):
            if item[0] == "array":
                part = idx_shapes[item[1]]
            else:
                p, r = item[1:]
                part = (1,) * p + (n,) + (1,) * (r - p - 1)
            bshape = broadcast_shapes(bshape, part)
            if bshape is None:
                raise ShapeError(f"the index arrays of shapes {tuple(idx_shapes)} do not "
                                 "broadcast together; give them one shape")
        if not out or out[-1] is not _HERE:
            out.append(_HERE)  # where the broadcast index dims go, if the items are adjacent
    if _adjacent(index):
        here = out.index(_HERE)
        return tuple(d for d in out[:here] if d is not _HERE) + bshape + tuple(
            d for d in out[here:] if d is not _HERE)
    return bshape + tuple(d for d in out if d is not _HERE)


_HERE = object()


def _numpy_key(index: tuple, idx: tuple, shape: tuple) -> tuple:
    """The NumPy index for an array of ``shape``; each index array is range-checked."""
    return index_key(index, idx, shape, lambda a, n, axis: check_range(a, n, f"axis {axis}"))


def index_key(index: tuple, idx: tuple, shape: tuple,
              checked: Callable[[Any, int, int], Any]) -> tuple:
    """The index (NumPy's advanced indexing, for an array of ``shape``) that a gather's
    ``index`` attribute describes, its arrays taken from ``idx``; ``checked(a, n, axis)``
    returns index array ``a`` of an axis of length ``n`` after checking it (the numpy
    forward raises, the jax backend records a flag).

    >>> index_key((("slice", 1, None, None),), (), (4,), lambda a, n, axis: a)
    (slice(1, None, None),)
    """
    key: list = []
    axis = 0
    for item in index:
        if item is None:
            key.append(None)
            continue
        n = shape[axis]
        if isinstance(item, tuple):
            if item[0] == "slice":
                key.append(slice(*item[1:]))
            elif item[0] == "array":
                key.append(checked(idx[item[1]], n, axis))
            else:
                p, r = item[1:]
                key.append(np.arange(n).reshape((1,) * p + (n,) + (1,) * (r - p - 1)))
        else:
            key.append(item)
        axis += 1
    return tuple(key)


def check_range(a: np.ndarray, n: int, where: str) -> np.ndarray:
    """``a``, after checking that its indices lie in ``[-n, n)``: an IndexError saying the
    axis, the index and the valid range otherwise (``np.add.at``'s message names none)."""
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise IndexError(f"the index array has dtype {a.dtype}; indices must be integers")
    if a.size:
        low, high = a.min(), a.max()
        if low < -n or high >= n:
            bad = high if high >= n else low
            raise IndexError(f"index {bad} is out of range for {where} of size {n}; indices "
                             f"must lie in [{-n}, {n})")
    return a


# --- gather and add_at ----------------------------------------------------------------------


def _gather_impl(x: np.ndarray, *idx: np.ndarray, index: tuple) -> np.ndarray:
    return x[_numpy_key(index, idx, np.shape(x))]


GATHER = register(Op(
    name="gather", latex=operatorname("gather"),
    impl=_gather_impl, dtype=first_dtype,
    shape=lambda inputs, attrs: _index_shape(inputs[0].shape, attrs["index"],
                                             [n.shape for n in inputs[1:]]),
    # the rules of the indices are None (a tuple shorter than the inputs): integers
    vjp=(lambda g, out: add_at(g, out.inputs[0], out.inputs[1:], out.attrs["index"]),),
    jvp=(lambda t, out: make(GATHER, [t, *out.inputs[1:]], out.attrs),),
    batch=batch_gather,
))


def _add_at_impl(g: np.ndarray, ref: np.ndarray, *idx: np.ndarray, index: tuple,
                 shape: tuple) -> np.ndarray:
    # unknown dims come from ref, right-aligned (a batched node has one more leading axis)
    ref_shape = np.shape(ref)
    lead = len(shape) - len(ref_shape)
    target = tuple(ref_shape[k - lead] if d is None else d for k, d in enumerate(shape))
    out = np.zeros(target, dtype=g.dtype)
    np.add.at(out, _numpy_key(index, idx, target), g)
    return out


ADD_AT = register(Op(
    name="add_at", latex=operatorname("add_at"),
    impl=_add_at_impl, dtype=first_dtype, shape_only=(1,),
    shape=lambda inputs, attrs: attrs["shape"],
    vjp=(lambda g, out: make(GATHER, [g, *out.inputs[2:]], {"index": out.attrs["index"]}),),
    jvp=(lambda t, out: make(ADD_AT, [t, *out.inputs[1:]], out.attrs),),
    batch=batch_add_at,
))


def add_at(g: Node, like: Node, idx: Any, index: tuple) -> Node:
    """Zeros of ``like``'s (runtime) shape with ``g`` added at ``index`` (repeated indices
    add up): the adjoint of ``gather``. ``like`` only lends its shape."""
    return make(ADD_AT, [g, like, *idx], {"index": index, "shape": like.shape})


def _index_node(value: Any, graph: Graph, who: str) -> Node:
    """An index as an integer node: a constant for an array (or list), the node itself."""
    if isinstance(value, Node):
        if value.dtype.kind not in "iu":
            raise SymgraphError(
                f"{who}: the index {describe(value)} has dtype {value.dtype}; index with an "
                "integer node (sg.var(name, shape, dtype='int64'), or sg.cast(i, 'int64'))")
        if value.graph is not graph:
            raise SymgraphError(f"{who}: the index {describe(value)} belongs to another graph")
        return value
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged lists, not numbers
        raise SymgraphError(f"{who}: the index {_brief(repr(value))} is not a rectangular "
                            f"integer array ({exc})") from None
    if array.dtype.kind == "b":
        raise SymgraphError(f"{who}: boolean index arrays are not supported; use sg.where")
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise SymgraphError(f"{who}: the index {_brief(repr(value))} is not an integer array")
    return const(array.astype(np.int64 if array.dtype.kind == "f" else array.dtype),
                 graph=graph)


def gather(x: Any, index: Any) -> Node:
    """``x[index]`` where ``index`` holds integer arrays or integer nodes (NumPy's advanced
    indexing, mixed with ints, slices, ``None`` and ``...``); ``x[idx]`` calls this.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     table = sg.var("table", shape=(4, 2))
    ...     rows = table[np.array([3, 0, 3])]
    >>> rows.shape, sg.evaluate(rows, {table: np.arange(8.0).reshape(4, 2)})[:, 0].tolist()
    ((3, 2), [6.0, 0.0, 6.0])
    """
    (x,) = operands([x], "gather")
    who = f"indexing {describe(x)}"
    items = _without_masks(list(index) if isinstance(index, tuple) else [index], x, who)
    arrays = [i for i, item in enumerate(items)
              if isinstance(item, (Node, np.ndarray, list))]
    nodes = [_index_node(items[i], x.graph, who) for i in arrays]
    for i in arrays:
        items[i] = 0  # a stand-in, checked and canonicalised with the rest
    canonical = list(_canonical_index(tuple(items), who))
    for k, i in enumerate(arrays):
        canonical[i] = ("array", k)
    canonical = _explicit(canonical, x, who)
    _check_static(canonical, x, nodes, who)
    return make(GATHER, [x, *nodes], {"index": canonical})


def _mask(item: Any) -> np.ndarray | None:
    """``item`` as a boolean NumPy array, if it is a constant mask (an array or list)."""
    if isinstance(item, np.ndarray) and item.dtype.kind == "b":
        return item
    if isinstance(item, list):
        try:
            array = np.asarray(item)
        except (ValueError, TypeError):
            return None  # (a ragged list: _index_node names it)
        return array if array.dtype.kind == "b" else None
    return None


def _without_masks(items: list, x: Node, who: str) -> list:
    """``items`` with each constant boolean mask replaced by the integer arrays of its True
    positions, ``np.nonzero(mask)``: NumPy's ``x[mask]`` is exactly ``x[mask.nonzero()]``.
    The axes a mask covers must have its shape (NumPy's IndexError otherwise), and must be
    known: on a size known only when fed, the True positions would not say the length."""
    if not any(_mask(item) is not None for item in items):
        return items

    def axes(item: Any) -> int:  # how many axes of x an index item uses
        mask = _mask(item)
        return mask.ndim if mask is not None else 0 if item is None or item is Ellipsis else 1

    out: list = []
    for pos, item in enumerate(items):
        mask = _mask(item)
        if mask is None:
            out.append(item)
            continue
        if mask.ndim == 0:
            raise SymgraphError(f"{who}: a 0-d boolean index (x[True]) is not supported; use "
                                "x[None] for a new axis, or sg.where")
        if any(i is Ellipsis for i in items[:pos]):  # counted from the end
            start = x.ndim - sum(axes(i) for i in items[pos:])
        else:
            start = sum(axes(i) for i in items[:pos])
        covered = x.shape[start:start + mask.ndim] if start >= 0 else ()
        if len(covered) != mask.ndim or None in covered or tuple(covered) != mask.shape:
            raise SymgraphError(
                f"{who}: the boolean index of shape {mask.shape} does not match the axes "
                f"{start}..{start + mask.ndim - 1} it covers (sizes {tuple(covered)}); give a "
                "mask of exactly their (known) shape, or use sg.where to keep the shape")
        out.extend(np.nonzero(mask))
    return out


def _explicit(items: list, x: Node, who: str) -> tuple:
    """The index with ``...`` expanded and trailing full slices added: one item per axis."""
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    if used > x.ndim:
        raise ShapeError(f"{who}: {used} indices for {x.ndim} dimensions")
    fill = [_ALL] * (x.ndim - used)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        if Ellipsis in items[at + 1:]:
            raise SymgraphError(f"{who}: an index can only have a single ellipsis ('...')")
        return tuple(items[:at] + fill + items[at + 1:])
    return tuple(items + fill)


def _check_static(index: tuple, x: Node, nodes: list, who: str) -> None:
    """Ints and constant index arrays against the axes they index, when both are known."""
    axis = 0
    for item in index:
        if item is None:
            continue
        n = x.shape[axis]
        if n is not None and isinstance(item, (int, tuple)) and not (
                isinstance(item, tuple) and item[0] == "slice"):
            if isinstance(item, int):
                value = np.asarray(item)
            elif nodes[item[1]].op == "const":
                value = nodes[item[1]].attrs["value"]
            else:
                value = None
            if value is not None:
                try:
                    check_range(value, n, f"axis {axis}")
                except IndexError as exc:
                    raise ShapeError(f"{who}: {exc}") from None
        axis += 1


@follows_numpy(np.take)
def take(x: Any, indices: Any, axis: int | None = None, mode: str = "raise") -> Node:
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened ``x`` by
    default), as ``numpy.take``; ``indices`` a NumPy array, an int or an integer node.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    ...     cols = sg.take(m, np.array([2, 2, 0]), axis=1)
    >>> sg.evaluate(cols, {m: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}).tolist()
    [[3.0, 3.0, 1.0], [6.0, 6.0, 4.0]]
    """
    (x,) = operands([x], "take")
    source = reshape(x, (-1,)) if axis is None else x
    (along,) = normalize_axes(0 if axis is None else axis, source.ndim,
                              lambda: f"take of {describe(x)}")
    n = source.shape[along]
    if mode != "raise":
        indices = _moded(indices, n, mode, x)
    if not isinstance(indices, Node) and n is not None:
        # a constant index is checked here, so the message names x, not the flattening
        where = f"the flattened {describe(x)}" if axis is None else f"axis {along} of {describe(x)}"
        try:
            bad = np.asarray(indices)
        except (ValueError, TypeError):
            bad = np.zeros(0)  # (a ragged list: gather names it)
        if bad.dtype.kind in "iu" and bad.size and (bad.min() < -n or bad.max() >= n):
            worst = bad.max() if bad.max() >= n else bad.min()
            raise ShapeError(f"sg.take: index {worst} is out of range for {where} (size {n}); "
                             f"indices must lie in [{-n}, {n})")
    return source[(slice(None),) * along + (indices,)]


def _moded(indices: Any, n: int | None, mode: Any, x: Node) -> Any:
    """``numpy.take``'s ``mode``: ``"wrap"`` takes indices modulo ``n``, ``"clip"`` into
    ``[0, n - 1]`` (negative ones to 0, as NumPy does)."""
    if mode not in ("wrap", "clip"):
        raise SymgraphError(f"sg.take of {describe(x)}: mode={mode!r} is not one of NumPy's "
                            "'raise', 'wrap', 'clip'")
    if n is None:
        raise SymgraphError(f"sg.take of {describe(x)}: mode={mode!r} needs the size of the "
                            "axis taken from; give it in sg.var(..., shape=...)")
    if isinstance(indices, Node):
        return mod(indices, n) if mode == "wrap" else clip(indices, 0, n - 1)
    try:
        array = np.asarray(indices)
    except (ValueError, TypeError):
        return indices  # (ragged: gather names it)
    if array.dtype.kind not in "iu":
        return indices
    return np.mod(array, n) if mode == "wrap" else np.clip(array, 0, n - 1)


def _take_along_impl(x: np.ndarray, idx: np.ndarray, *, axis: int) -> np.ndarray:
    return np.take_along_axis(x, check_range(idx, np.shape(x)[axis], f"axis {axis}"), axis)


def _take_along_shape(inputs: tuple, attrs: dict) -> tuple:
    x, idx = inputs
    axis = attrs["axis"]
    return _index_shape(x.shape, _along_index(x.ndim, axis), [idx.shape])


def _along_index(ndim: int, axis: int) -> tuple:
    """take_along_axis as a gather index: aranges on the other axes, the indices on ``axis``."""
    return tuple(("array", 0) if d == axis else ("iota", d, ndim) for d in range(ndim))


TAKE_ALONG_AXIS = register(Op(
    # (no array_api name: jax.numpy's take_along_axis clamps out-of-range indices silently)
    name="take_along_axis", latex=operatorname("take_along_axis"),
    impl=_take_along_impl, shape=_take_along_shape, dtype=first_dtype, show_attrs=("axis",),
    vjp=(lambda g, out: add_at(g, out.inputs[0], out.inputs[1:],
                               _along_index(out.ndim, out.attrs["axis"])),),
    jvp=(lambda t, out: make(TAKE_ALONG_AXIS, [t, out.inputs[1]], out.attrs),),
    batch=batch_take_along,
))


@follows_numpy(np.take_along_axis)
def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Node:
    """Pick from ``x`` along ``axis`` at ``indices`` of the same rank (the other axes
    broadcast), as ``numpy.take_along_axis`` (the last axis by default, as in NumPy 2.3+):
    the way to read the log-probability of each example's integer label.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     logp = sg.var("logp", shape=(2, 3))
    ...     labels = sg.var("labels", shape=(2, 1), dtype="int64")
    ...     picked = sg.take_along_axis(logp, labels, axis=1)
    >>> sg.evaluate(picked, {logp: [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]],
    ...                      labels: [[2], [0]]}).tolist()
    [[0.7], [0.5]]
    """
    (x,) = operands([x], "take_along_axis")
    who = f"take_along_axis of {describe(x)}"
    idx = _index_node(indices, x.graph, who)
    if axis is None:
        if idx.ndim != 1:
            raise ShapeError(f"{who}: with axis=None the indices must be 1-D, got "
                             f"{describe(idx)}")
        x, axis = reshape(x, (-1,)), 0
    if idx.ndim != x.ndim:
        raise ShapeError(f"{who}: the indices {describe(idx)} must have as many dimensions "
                         f"as x ({x.ndim}); add length-1 axes (idx[:, None])")
    (axis,) = normalize_axes(axis, x.ndim, lambda: who)
    if idx.op == "const" and x.shape[axis] is not None:
        try:
            check_range(idx.attrs["value"], x.shape[axis], f"axis {axis}")
        except IndexError as exc:
            raise ShapeError(f"{who}: {exc}") from None
    return make(TAKE_ALONG_AXIS, [x, idx], {"axis": axis})


# --- one_hot ----------------------------------------------------------------------------------


def _one_hot_impl(idx: np.ndarray, *, n: int) -> np.ndarray:
    idx = check_range(idx, n, "one_hot's classes")
    return (idx[..., None] % n == np.arange(n)).astype(np.float64)


ONE_HOT = register(Op(
    name="one_hot", latex=operatorname("one_hot"),
    impl=_one_hot_impl, shape=lambda inputs, attrs: (*inputs[0].shape, attrs["n"]),
    dtype=lambda inputs, attrs: FLOAT64, show_attrs=("n",),
    vjp=(None,), jvp=(None,),  # piecewise constant in the (integer) indices
    batch=lambda node, args, b: make(ONE_HOT, args, node.attrs),
))


def one_hot(indices: Any, n: int, dtype: Any = None) -> Node:
    """Rows of the ``n``-by-``n`` identity at integer ``indices`` (float64, or ``dtype``;
    shape ``indices.shape + (n,)``): ``np.eye(n)[indices]``, negative indices included.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     labels = sg.var("labels", shape=(3,), dtype="int64")
    ...     y = sg.one_hot(labels, 3)
    >>> sg.evaluate(y, {labels: [2, 0, -1]}).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise SymgraphError(f"one_hot: the number of classes n must be an int >= 1, got {n!r}")
    graph = indices.graph if isinstance(indices, Node) else get_default_graph()
    idx = _index_node(indices, graph, "one_hot")
    if idx.op == "const":
        try:
            check_range(idx.attrs["value"], int(n), "one_hot's classes")
        except IndexError as exc:
            raise ShapeError(f"one_hot: {exc}") from None
    rows = make(ONE_HOT, [idx], {"n": int(n)})
    return rows if dtype is None else cast(rows, dtype)


# --- test cases (repeated and negative indices on purpose) ------------------------------------

_ROWS, _COLS = np.array([0, 2, 2, -1]), np.array([1, -1, 1, 0])
GATHER.cases = [
    Case(lambda x, i: x[i] * x[i], [((3,), -1.0, 1.0), ((5,), "int", 3)],
         ref=lambda x, i: x[i] ** 2),
    Case(lambda x, i: x[i], [((4, 3), -1.0, 1.0), np.array([[0, -1], [3, 0]])],
         ref=lambda x, i: x[i]),
    Case(lambda x, i: x[:, i], [((3, 4), -1.0, 1.0), _COLS], ref=lambda x, i: x[:, i]),
    Case(lambda x, r, c: x[r, c], [((3, 4), -1.0, 1.0), _ROWS, _COLS], ref=lambda x, r, c: x[r, c]),
    # apart (an int counts as an array): NumPy puts the index dims first
    Case(lambda x, i: x[i, :, 1] * x[0, :, i], [((3, 2, 4), -1.0, 1.0), np.array([[2, 0], [0, 1]])],
         ref=lambda x, i: x[i, :, 1] * x[0, :, i]),
    Case(lambda x, i: take(x, i), [((2, 3), -1.0, 1.0), np.array([5, 0, -6, 5])],
         ref=lambda x, i: np.take(x, i)),
    Case(lambda x, i: take(x, i, axis=1) ** 2, [((2, 3), -1.0, 1.0), ((2, 2), "int", 3)],
         ref=lambda x, i: np.take(x, i, axis=1) ** 2),
]
ADD_AT.cases = [
    Case(lambda g, i: add_at(g, const(np.zeros((3, 2))), [i], (("array", 0), _ALL)),
         [((4, 2), -1.0, 1.0), np.array([2, 0, 2, -1])],
         ref=lambda g, i: _ref_add_at((3, 2), (i,), g)),
    Case(lambda g: add_at(g, const(np.zeros((2, 3))), [const(_COLS[:3])],
                               (_ALL, ("array", 0))) ** 2,
         [((2, 3), -1.0, 1.0)],
         ref=lambda g: _ref_add_at((2, 3), (slice(None), _COLS[:3]), g) ** 2),
]
TAKE_ALONG_AXIS.cases = [
    Case(lambda x, i: take_along_axis(x, i, axis=1), [((3, 4), -1.0, 1.0), ((3, 2), "int", 4)],
         ref=lambda x, i: np.take_along_axis(x, i, 1)),
    # the other axes broadcast; negative indices
    Case(lambda x, i: take_along_axis(x, i, axis=0), [((3, 4), -1.0, 1.0),
                                                      np.array([[2, -1, 0, 0]])],
         ref=lambda x, i: np.take_along_axis(x, i, 0)),
    Case(lambda x, i: take_along_axis(x, i, axis=None), [((2, 3), -1.0, 1.0),
                                                         np.array([5, 1, 1])],
         ref=lambda x, i: np.take_along_axis(x, i, None)),
    # the log-likelihood of integer labels, as a classifier's loss reads it
    Case(lambda z, y: take_along_axis(log_softmax(z), y, axis=-1), [((4, 3), -2.0, 2.0),
                                                                    ((4, 1), "int", 3)],
         ref=lambda z, y: np.take_along_axis(z - np.log(np.exp(z).sum(-1, keepdims=True)), y, -1)),
]
ONE_HOT.cases = [
    Case(lambda x, i: x * one_hot(i, 3), [((4, 3), -1.0, 1.0), np.array([0, 2, -1, 2])],
         ref=lambda x, i: x * np.eye(3)[i]),
    Case(lambda i: one_hot(i, 4), [((2, 3), "int", 4)], ref=lambda i: np.eye(4)[i], order=0),
]


def _ref_add_at(shape: tuple, key: tuple, g: np.ndarray) -> np.ndarray:
    out = np.zeros(shape)
    np.add.at(out, key, g)
    return out

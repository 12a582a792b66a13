"""Shape ops: ``squeeze ravel swapaxes moveaxis repeat tile split pad flip roll vstack hstack``.

Most are existing ops under a NumPy name, so their derivatives are those ops' (``ravel``
and ``squeeze`` are ``reshape``, ``swapaxes`` and ``moveaxis`` are ``transpose``, ``flip``
is a reversed slice, ``split`` is slices, ``vstack``/``hstack`` are ``concatenate``, and
``pad`` in the modes that copy the array's own elements is slices joined by
``concatenate``). Four are ops of their own, each linear, with its adjoint written with
symgraph ops: ``repeat`` (adjoint ``repeat_sum``, which sums each run of repeats),
``tile`` (adjoint: reshape, then sum over the copies), constant-mode ``pad`` (adjoint:
the slice that drops the padding) and ``roll`` (adjoint: roll back).

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case, Op, _brief, describe, first_dtype, follows_numpy, lazy_text, make, normalize_axes,
    operands, operatorname, register,
)
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.shape import concatenate, expand_dims, getitem, reshape, row_major, transpose

__all__ = ["flip", "hstack", "moveaxis", "pad", "ravel", "repeat", "roll", "split", "squeeze",
           "swapaxes", "tile", "vstack"]


def is_int(value: Any) -> bool:
    """An int that is not a bool (a length, a count, an axis)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def axes_in_order(axis: Any, ndim: int, who: str | Callable[[], str]) -> tuple[int, ...]:
    """``axis`` (an int or a sequence of ints) as non-negative ints, in the order given."""
    axes = (axis,) if is_int(axis) else axis
    if isinstance(axes, (str, bytes, Node)) or not hasattr(axes, "__iter__"):
        raise ShapeError(f"{lazy_text(who)}: axis must be an int or a tuple of ints, "
                         f"got {_brief(repr(axis))}")
    axes = tuple(axes)
    normalize_axes(axes, ndim, who)  # range, type and repeat checks
    return tuple(int(a) % ndim for a in axes)


def _along(axis: int, item: Any) -> tuple:
    """The index that applies ``item`` (a slice or an int) to ``axis`` only."""
    return (slice(None),) * axis + (item,)


# --- expressed with existing ops ----------------------------------------------------------------


@follows_numpy(np.ravel)
def ravel(x: Any, order: str = "C") -> Node:
    """``x`` flattened to 1-D in C order, as ``numpy.ravel`` (a ``reshape``); ``order``
    other than 'C' raises, naming the transpose that gives NumPy's 'F' order.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> sg.ravel(m).shape, sg.ravel(m.T).shape  # (the second: NumPy's order="F")
    ((6,), (6,))
    """
    (x,) = operands([x], "ravel")
    row_major("ravel", x, order, "sg.ravel(x.T)")
    return reshape(x, (-1,))


@follows_numpy(np.squeeze)
def squeeze(x: Any, axis: int | tuple | None = None) -> Node:
    """``x`` without its length-1 axes (those in ``axis``), as ``numpy.squeeze``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     c = sg.var("c", shape=(3, 1))
    >>> sg.squeeze(c).shape
    (3,)
    """
    (x,) = operands([x], "squeeze")
    who = lambda: f"squeeze of {describe(x)}"
    if axis is None:
        if None in x.shape:
            raise ShapeError(f"{who()}: an axis of unknown size may or may not have length "
                             "1; name the axes to remove with axis=")
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = normalize_axes(axis, x.ndim, who)
        for a in axes:
            if x.shape[a] != 1:
                size = "unknown size" if x.shape[a] is None else f"size {x.shape[a]}"
                raise ShapeError(f"{who()}: axis {a} has {size}; only axes of static "
                                 "length 1 can be squeezed")
    if not axes:
        return x
    if None not in x.shape:
        return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))
    # unknown sizes elsewhere: taking element 0 of each length-1 axis drops it
    return getitem(x, tuple(0 if i in axes else slice(None) for i in range(x.ndim)))


@follows_numpy(np.swapaxes)
def swapaxes(x: Any, axis1: int, axis2: int) -> Node:
    """``x`` with two axes interchanged, as ``numpy.swapaxes`` (a ``transpose``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     t = sg.var("t", shape=(2, 3, 4))
    >>> sg.swapaxes(t, 0, 2).shape
    (4, 3, 2)
    """
    (x,) = operands([x], "swapaxes")
    (a,) = axes_in_order(axis1, x.ndim, lambda: f"swapaxes of {describe(x)}")
    (b,) = axes_in_order(axis2, x.ndim, lambda: f"swapaxes of {describe(x)}")
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, tuple(perm))


@follows_numpy(np.moveaxis)
def moveaxis(x: Any, source: int | tuple, destination: int | tuple) -> Node:
    """``x`` with axes moved to new positions, the others in order, as ``numpy.moveaxis``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     t = sg.var("t", shape=(2, 3, 4))
    >>> sg.moveaxis(t, 0, -1).shape
    (3, 4, 2)
    """
    (x,) = operands([x], "moveaxis")
    who = lambda: f"moveaxis of {describe(x)}"
    src, dst = axes_in_order(source, x.ndim, who), axes_in_order(destination, x.ndim, who)
    if len(src) != len(dst):
        raise ShapeError(f"{who()}: source {source!r} and destination {destination!r} must "
                         "name as many axes")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


@follows_numpy(np.flip)
def flip(x: Any, axis: int | tuple | None = None) -> Node:
    """``x`` with the order of elements reversed along ``axis`` (all axes by default), as
    ``numpy.flip``: a reversed slice, so its derivative is a reversed slice too.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.flip(v), {v: [1.0, 2.0, 3.0]}).tolist()
    [3.0, 2.0, 1.0]
    """
    (x,) = operands([x], "flip")
    axes = normalize_axes(axis, x.ndim, lambda: f"flip of {describe(x)}")
    axes = range(x.ndim) if axes is None else axes
    if not axes:
        return x
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(max(axes) + 1)))


@follows_numpy(np.split)
def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Node]:
    """``x`` cut along ``axis`` into equal sections (an int) or at the given indices, as
    ``numpy.split``; returns a list of slices of ``x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(6,))
    >>> [p.shape for p in sg.split(v, 3)], [p.shape for p in sg.split(v, [1, 4])]
    ([(2,), (2,), (2,)], [(1,), (3,), (2,)])
    """
    (x,) = operands([x], "split")
    who = lambda: f"split of {describe(x)}"
    if x.ndim == 0:
        raise ShapeError(f"{who()}: a 0-d node has no axis to split")
    (ax,) = axes_in_order(axis, x.ndim, who)
    n = x.shape[ax]
    if is_int(indices_or_sections):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ShapeError(f"{who()}: the number of sections must be positive, got {sections}")
        if n is None:
            raise ShapeError(f"{who()}: axis {ax} has unknown size, so it cannot be cut into "
                             "equal sections; give split indices instead")
        if n % sections:
            raise ShapeError(f"{who()}: {n} elements along axis {ax} do not divide into "
                             f"{sections} equal sections")
        if sections == 1:
            return [x]
        step = n // sections
        cuts = [k * step for k in range(1, sections)]
    else:
        items = indices_or_sections
        if isinstance(items, (str, bytes, Node)) or not hasattr(items, "__iter__") \
                or not all(is_int(i) for i in items):
            raise SymgraphError(f"{who()}: indices_or_sections must be an int or a sequence "
                                f"of ints, got {_brief(repr(indices_or_sections))}")
        cuts = [int(i) for i in items]
    bounds = [0, *cuts, None]  # Python slicing, as NumPy's split does
    return [getitem(x, _along(ax, slice(start, stop))) for start, stop in pairwise(bounds)]


def _join_list(tup: Any, who: str) -> list[Node]:
    if isinstance(tup, (Node, str, bytes)) or not hasattr(tup, "__iter__"):
        raise SymgraphError(f"{who} takes a sequence of nodes, got {type(tup).__name__}; "
                            f"write sg.{who}([a, b])")
    nodes = operands(list(tup), who)
    if not nodes:
        raise SymgraphError(f"{who} needs at least one node")
    return nodes


@follows_numpy(np.vstack)
def vstack(tup: Any) -> Node:
    """Stack nodes row-wise (1-D ones become rows), as ``numpy.vstack``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(3,)), sg.var("b", shape=(2, 3))
    >>> sg.vstack([a, b]).shape
    (3, 3)
    """
    nodes = [reshape(n, (1, 1)) if n.ndim == 0 else expand_dims(n, 0) if n.ndim == 1 else n
             for n in _join_list(tup, "vstack")]
    return concatenate(nodes, axis=0)


@follows_numpy(np.hstack)
def hstack(tup: Any) -> Node:
    """Stack nodes column-wise (along axis 1, or 0 for 1-D), as ``numpy.hstack``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 1)), sg.var("b", shape=(2, 3))
    >>> sg.hstack([a, b]).shape
    (2, 4)
    """
    nodes = [reshape(n, (1,)) if n.ndim == 0 else n for n in _join_list(tup, "hstack")]
    return concatenate(nodes, axis=0 if nodes[0].ndim == 1 else 1)


# --- repeat and its adjoint, repeat_sum --------------------------------------------------------


def _repeat_shape(inputs: tuple, attrs: dict) -> tuple:
    x, reps, axis = inputs[0], attrs["repeats"], attrs["axis"]
    n = x.shape[axis]
    size = sum(reps) if isinstance(reps, tuple) else None if n is None else n * reps
    return x.shape[:axis] + (size,) + x.shape[axis + 1:]


def _repeat_sum_shape(inputs: tuple, attrs: dict) -> tuple:
    g, reps, axis = inputs[0], attrs["repeats"], attrs["axis"]
    size = attrs["length"]
    if size is None and reps and g.shape[axis] is not None:
        size = g.shape[axis] // reps
    return g.shape[:axis] + (size,) + g.shape[axis + 1:]


def _repeat_sum(g: np.ndarray, *, repeats: int | tuple, axis: int, length: int | None) -> Any:
    """The sum of each run of ``repeats`` along ``axis``: the adjoint of ``np.repeat``."""
    if isinstance(repeats, int):
        if repeats:
            runs = g.shape[:axis] + (-1, repeats) + g.shape[axis + 1:]
            return np.sum(g.reshape(runs), axis=axis + 1)
        if length is None:
            raise ValueError("the derivative of repeat with 0 repeats needs the size of the "
                             "repeated axis; give the input a static shape")
        return np.zeros(g.shape[:axis] + (length,) + g.shape[axis + 1:], dtype=g.dtype)
    reps = np.asarray(repeats)
    out = np.zeros(g.shape[:axis] + (len(reps),) + g.shape[axis + 1:], dtype=g.dtype)
    nonzero = reps > 0  # reduceat gives g[start] for an empty run: those stay 0
    if nonzero.any():
        starts = (np.cumsum(reps) - reps)[nonzero]
        out[_along(axis, nonzero)] = np.add.reduceat(g, starts, axis=axis)
    return out


def _shift_axis(node: Node, args: list, batched: tuple) -> Node:
    """vmap of an op acting on one axis: the same op one axis further right."""
    return make(node.opdef, args, dict(node.attrs, axis=node.attrs["axis"] + 1))


REPEAT = register(Op(
    name="repeat", array_api="repeat", latex=operatorname("repeat"),
    impl=lambda x, *, repeats, axis: np.repeat(x, repeats, axis=axis),
    shape=_repeat_shape, dtype=first_dtype, show_attrs=("repeats", "axis"),
    vjp=(lambda g, out: make(REPEAT_SUM, [g], dict(out.attrs,
                                                   length=out.inputs[0].shape[out.attrs["axis"]])),),
    jvp=(lambda t, out: make(REPEAT, [t], out.attrs),),
    batch=_shift_axis,
    cases=[Case(lambda x: repeat(x, 2, axis=1), [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.repeat(x, 2, axis=1)),
           Case(lambda x: repeat(x, [2, 0, 1], axis=0), [((3, 2), -1.0, 1.0)],
                ref=lambda x: np.repeat(x, [2, 0, 1], axis=0)),
           Case(lambda x: repeat(x, 2), [((2, 2), -1.0, 1.0)], ref=lambda x: np.repeat(x, 2))],
))
REPEAT_SUM = register(Op(
    name="repeat_sum", latex=operatorname("repeat_sum"),
    impl=_repeat_sum, shape=_repeat_sum_shape, dtype=first_dtype,
    show_attrs=("repeats", "axis"),
    vjp=(lambda g, out: make(REPEAT, [g], {"repeats": out.attrs["repeats"],
                                           "axis": out.attrs["axis"]}),),
    jvp=(lambda t, out: make(REPEAT_SUM, [t], out.attrs),),
    batch=_shift_axis,
    cases=[Case(lambda g: make(REPEAT_SUM, [g], {"repeats": (1, 0, 2), "axis": 1, "length": 3}),
                [((2, 3), -1.0, 1.0)],
                ref=lambda g: np.stack([g[:, 0], 0 * g[:, 0], g[:, 1] + g[:, 2]], axis=1)),
           Case(lambda g: make(REPEAT_SUM, [g], {"repeats": 2, "axis": 0, "length": 2}),
                [((4, 2), -1.0, 1.0)], ref=lambda g: g[0::2] + g[1::2])],
))


@follows_numpy(np.repeat)
def repeat(x: Any, repeats: int | Any, axis: int | None = None) -> Node:
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (of the flattened
    ``x`` by default), as ``numpy.repeat``; ``repeats`` is an int or one int per element.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.repeat(v, [1, 2]), {v: [5.0, 7.0]}).tolist()
    [5.0, 7.0, 7.0]
    """
    (x,) = operands([x], "repeat")
    if axis is None:
        x, axis = ravel(x), 0
    who = lambda: f"repeat of {describe(x)}"
    if x.ndim == 0:
        raise ShapeError(f"{who()}: a 0-d node has no axis {axis}; leave axis=None")
    (ax,) = axes_in_order(axis, x.ndim, who)
    if isinstance(repeats, Node):
        raise SymgraphError(f"{who()}: repeats must be static ints, not the node "
                            f"{describe(repeats)}")
    try:
        reps = np.asarray(repeats)
    except (ValueError, TypeError, OverflowError):  # ragged or not numbers
        reps = np.asarray(0.5)  # refused just below, with the message naming the argument
    if reps.size == 0:
        reps = reps.astype(np.int64)  # [] is float64 to NumPy
    if reps.dtype.kind not in "iu" or reps.ndim > 1 or (reps < 0).any():
        raise SymgraphError(f"{who()}: repeats must be an int >= 0 or a 1-D sequence of them, "
                            f"got {_brief(repr(repeats))}")
    if reps.ndim == 1 and len(reps) != 1:
        if x.shape[ax] is not None and len(reps) != x.shape[ax]:
            raise ShapeError(f"{who()}: {len(reps)} repeats for {x.shape[ax]} elements along "
                             f"axis {ax}; give one per element, or one int")
        counts: int | tuple = tuple(int(r) for r in reps)
    else:
        counts = int(reps.reshape(-1)[0])
    return make(REPEAT, [x], {"repeats": counts, "axis": ax})


# --- tile ---------------------------------------------------------------------------------------


def _tile_vjp(g: Node, out: Node) -> Node:
    """Sum over the copies: ``g`` as (copies, size) pairs of axes, the copy axes summed."""
    x, reps = out.inputs[0], out.attrs["reps"]
    sizes = [-1 if d is None else d for d in x.shape]
    if sizes.count(-1) > 1:
        raise SymgraphError(f"the derivative of tile of {describe(x)} needs all but one of its "
                            "dimensions; give it a static shape")
    pairs = tuple(v for r, s in zip(reps, sizes) for v in (r, s))
    return reduce_sum(reshape(g, pairs), axis=tuple(range(0, 2 * len(reps), 2)))


TILE = register(Op(
    name="tile", array_api="tile", latex=operatorname("tile"),
    impl=lambda x, *, reps: np.tile(x, reps),
    shape=lambda inputs, attrs: tuple(None if d is None else d * r
                                      for d, r in zip(inputs[0].shape, attrs["reps"])),
    dtype=first_dtype, show_attrs=("reps",),
    vjp=(_tile_vjp,),
    jvp=(lambda t, out: make(TILE, [t], out.attrs),),
    batch=lambda node, args, b: make(TILE, args, {"reps": (1, *node.attrs["reps"])}),
    cases=[Case(lambda x: tile(x, (2, 1)), [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.tile(x, (2, 1))),
           Case(lambda x: tile(x, (2, 2)), [((3,), -1.0, 1.0)], ref=lambda x: np.tile(x, (2, 2)))],
))


@follows_numpy(np.tile)
def tile(x: Any, reps: int | tuple) -> Node:
    """``x`` repeated ``reps`` times along each axis, as ``numpy.tile``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.tile(v, 2), {v: [1.0, 2.0]}).tolist()
    [1.0, 2.0, 1.0, 2.0]
    """
    (x,) = operands([x], "tile")
    items = (reps,) if is_int(reps) else reps
    if isinstance(items, (str, bytes, Node)) or not hasattr(items, "__iter__") \
            or not all(is_int(r) and r >= 0 for r in items):
        raise SymgraphError(f"tile of {describe(x)}: reps must be an int >= 0 or a tuple of "
                            f"them, got {_brief(repr(reps))}")
    counts = tuple(int(r) for r in items)
    if len(counts) > x.ndim:
        x = expand_dims(x, tuple(range(len(counts) - x.ndim)))
    counts = (1,) * (x.ndim - len(counts)) + counts
    if all(r == 1 for r in counts):
        return x
    return make(TILE, [x], {"reps": counts})


# --- pad ----------------------------------------------------------------------------------------


def _pad_vjp(g: Node, out: Node) -> Node:
    return getitem(g, tuple(slice(b, -a if a else None) for b, a in out.attrs["pad_width"]))


PAD = register(Op(
    name="pad", array_api="pad", latex=operatorname("pad"),
    impl=lambda x, *, pad_width, constant_values: np.pad(
        x, pad_width, mode="constant", constant_values=constant_values),
    shape=lambda inputs, attrs: tuple(None if d is None else d + b + a for d, (b, a)
                                      in zip(inputs[0].shape, attrs["pad_width"])),
    dtype=first_dtype, show_attrs=("pad_width", "constant_values"),
    defaults={"constant_values": lambda node: ((0, 0),) * node.ndim},
    vjp=(_pad_vjp,),
    # the padding is constant: its tangent is 0
    jvp=(lambda t, out: make(PAD, [t], dict(out.attrs, constant_values=((0, 0),) * t.ndim)),),
    batch=lambda node, args, b: make(PAD, args, {
        "pad_width": ((0, 0), *node.attrs["pad_width"]),
        "constant_values": ((0, 0), *node.attrs["constant_values"])}),
    cases=[Case(lambda x: pad(x, ((1, 0), (2, 1)), constant_values=0.5), [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=0.5)),
           Case(lambda x: pad(x, 1), [((3,), -1.0, 1.0)], ref=lambda x: np.pad(x, 1))],
))

_COPY_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pairs(value: Any, ndim: int, who: Callable[[], str], what: str, kinds: str) -> tuple:
    """NumPy's broadcasting of a pad argument to one (before, after) pair per axis."""
    if isinstance(value, Node):
        raise SymgraphError(f"{who()}: {what} must be static numbers, not the node "
                            f"{describe(value)}")
    try:
        array = np.asarray(value)
        if array.dtype.kind not in kinds:
            raise ValueError(f"dtype {array.dtype}")
        pairs = np.broadcast_to(array, (ndim, 2))
    except (ValueError, TypeError) as exc:
        raise SymgraphError(f"{who()}: {what} {_brief(repr(value))} does not give a (before, "
                            f"after) pair for each of {ndim} axes ({exc})") from None
    return tuple((p[0].item(), p[1].item()) for p in pairs)


@follows_numpy(np.pad)
def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Node:
    """``x`` padded along each axis, as ``numpy.pad``: ``pad_width`` is an int, a
    ``(before, after)`` pair, or one pair per axis. Modes: ``"constant"`` (with
    ``constant_values``), and ``"edge"``, ``"reflect"``, ``"symmetric"`` and ``"wrap"``
    (slices of ``x`` joined by ``concatenate``; they need static sizes along padded axes).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    >>> sg.evaluate(sg.pad(v, (1, 2)), {v: [5.0, 7.0]}).tolist()
    [0.0, 5.0, 7.0, 0.0, 0.0]
    """
    (x,) = operands([x], "pad")
    who = lambda: f"pad of {describe(x)}"
    widths = _pairs(pad_width, x.ndim, who, "pad_width", "iu")
    if any(w < 0 for pair in widths for w in pair):
        raise ShapeError(f"{who()}: pad_width {_brief(repr(pad_width))} has a negative width")
    if mode == "constant":
        values = _pairs(constant_values, x.ndim, who, "constant_values", "biuf")
        if x.dtype.kind in "iu":  # (NumPy raises OverflowError; a cast would wrap silently)
            info = np.iinfo(x.dtype)
            for v in (v for pair in values for v in pair):
                if not info.min <= v <= info.max:
                    raise SymgraphError(f"{who()}: constant_values {v!r} does not fit "
                                        f"{x.dtype} ({info.min} to {info.max})")
        if not any(w for pair in widths for w in pair):
            return x
        return make(PAD, [x], {"pad_width": widths, "constant_values": values})
    if mode not in _COPY_MODES:
        raise SymgraphError(f"{who()}: mode {mode!r} is not supported; the modes are "
                            f"'constant', {', '.join(map(repr, _COPY_MODES))}")
    if not (isinstance(constant_values, (int, float)) and constant_values == 0):
        raise SymgraphError(f"{who()}: constant_values applies to mode 'constant' only, "
                            f"not {mode!r}")
    for axis, (before, after) in enumerate(widths):
        if before or after:
            x = _pad_axis(x, axis, before, after, mode, who)
    return x


def _runs(x: Node, axis: int, source: list) -> list[Node]:
    """Slices of ``x`` along ``axis`` that give the elements ``source`` in order."""
    pieces, i = [], 0
    while i < len(source):
        first, j = source[i], i + 1
        step = source[j] - first if j < len(source) else 1
        if step in (-1, 0, 1):
            while j < len(source) and source[j] - source[j - 1] == step:
                j += 1
        else:
            step = 1
        count = j - i
        if step == 0:
            piece = repeat(getitem(x, _along(axis, slice(first, first + 1))), count, axis)
        elif step == 1:
            piece = getitem(x, _along(axis, slice(first, first + count)))
        else:
            stop = first - count
            piece = getitem(x, _along(axis, slice(first, None if stop < 0 else stop, -1)))
        pieces.append(piece)
        i = j
    return pieces


def _pad_axis(x: Node, axis: int, before: int, after: int, mode: str,
              who: Callable[[], str]) -> Node:
    """One axis of a copying pad mode: where each output element comes from is NumPy's
    pad of ``arange(n)``; each run of consecutive (or reversed, or equal) sources before
    and after ``x`` becomes one slice of ``x``, and the slices are joined."""
    n = x.shape[axis]
    if not n:
        raise ShapeError(f"{who()}: mode {mode!r} needs a static, non-zero size along axis "
                         f"{axis}, which is {n}")
    source = np.pad(np.arange(n), (before, after), mode=mode).tolist()
    pieces = [*_runs(x, axis, source[:before]), x, *_runs(x, axis, source[before + n:])]
    return concatenate(pieces, axis)


# --- roll ---------------------------------------------------------------------------------------


ROLL = register(Op(
    name="roll", array_api="roll", latex=operatorname("roll"),
    impl=lambda x, *, shift, axis: np.roll(x, shift, axis),
    shape=lambda inputs, attrs: inputs[0].shape, dtype=first_dtype,
    show_attrs=("shift", "axis"),
    vjp=(lambda g, out: make(ROLL, [g], dict(out.attrs,
                                             shift=tuple(-s for s in out.attrs["shift"]))),),
    jvp=(lambda t, out: make(ROLL, [t], out.attrs),),
    batch=lambda node, args, b: make(ROLL, args, dict(
        node.attrs, axis=tuple(a + 1 for a in node.attrs["axis"]))),
    cases=[Case(lambda x: roll(x, 1, axis=1), [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.roll(x, 1, axis=1)),
           Case(lambda x: roll(x, (1, -4), axis=(0, 1)), [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.roll(x, (1, -4), axis=(0, 1))),
           Case(lambda x: roll(x, 4), [((2, 3), -1.0, 1.0)], ref=lambda x: np.roll(x, 4))],
))


@follows_numpy(np.roll)
def roll(x: Any, shift: int | tuple, axis: int | tuple | None = None) -> Node:
    """``x`` shifted cyclically by ``shift`` along ``axis`` (of the flattened ``x`` by
    default), as ``numpy.roll``; elements that leave one end come back at the other.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.roll(v, 1), {v: [1.0, 2.0, 3.0]}).tolist()
    [3.0, 1.0, 2.0]
    """
    (x,) = operands([x], "roll")
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x)
    who = lambda: f"roll of {describe(x)}"
    shifts = (shift,) if is_int(shift) else shift
    if isinstance(shifts, (str, bytes, Node)) or not hasattr(shifts, "__iter__") \
            or not all(is_int(s) for s in shifts):
        raise SymgraphError(f"{who()}: shift must be an int or a tuple of ints, "
                            f"got {_brief(repr(shift))}")
    axes = (axis,) if is_int(axis) else axis
    if isinstance(axes, (str, bytes, Node)) or not hasattr(axes, "__iter__"):
        raise ShapeError(f"{who()}: axis must be an int or a tuple of ints, got {axis!r}")
    shifts, axes = tuple(shifts), tuple(axes)
    if len(shifts) == 1:
        shifts *= len(axes)
    elif len(axes) == 1:
        axes *= len(shifts)
    if len(shifts) != len(axes):
        raise ShapeError(f"{who()}: {len(shifts)} shifts for {len(axes)} axes; give one "
                         "shift per axis, or one for all")
    total: dict[int, int] = {}
    for s, a in zip(shifts, axes):  # NumPy adds the shifts of a repeated axis
        (a,) = axes_in_order(a, x.ndim, who)
        total[a] = total.get(a, 0) + int(s)
    total = {a: s for a, s in sorted(total.items()) if s}
    if not total:
        return x
    return make(ROLL, [x], {"shift": tuple(total.values()), "axis": tuple(total)})

"""Ops that move elements without computing: indexing, reshaping, transposing, joining.

All are linear, so each derivative is another op of this family (``getitem`` and
``scatter`` are each other's adjoints, ``concatenate`` is undone by slicing, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case,
    Op,
    _brief,
    describe,
    first_dtype,
    follows_numpy,
    make,
    normalize_axes,
    lazy_text,
    operands,
    operatorname,
    promote,
    register,
    tex_escape,
)

# Unknown dimensions are stood in for by this size while a static shape is worked out.
_UNKNOWN = 1_000_003


def _probe(shape: tuple) -> np.ndarray:
    """A zero-memory array of ``shape`` (unknown dimensions replaced by a stand-in)."""
    return np.broadcast_to(np.int8(0), tuple(_UNKNOWN if d is None else d for d in shape))


def _unprobe(shape: tuple) -> tuple:
    return tuple(None if d > _UNKNOWN // 2 else d for d in shape)


# --- vmap helpers ------------------------------------------------------------------------------

_ALL = ("slice", None, None, None)


def batched_to_rank(a: Node, rank: int) -> Node:
    """A batched node ``(B, *s)`` with length-1 axes after the batch axis, so that ``s``
    reaches ``rank`` dimensions and broadcasting aligns it like the unbatched ``s``."""
    missing = rank - (a.ndim - 1)
    return a if missing <= 0 else expand_dims(a, tuple(range(1, 1 + missing)))


def batch_elementwise(node: Node, args: list, batched: tuple) -> Node:
    """The vmap rule of every elementwise op: align ranks, then broadcasting does the rest."""
    fixed = [batched_to_rank(a, node.ndim) if b else a for a, b in zip(args, batched)]
    return make(node.opdef, fixed, node.attrs)


def shift_axes(axes: tuple | None, ndim: int) -> tuple:
    """Axes of an unbatched node, as axes of its batched version (``None``: all of them)."""
    return tuple(range(1, ndim + 1)) if axes is None else tuple(a + 1 for a in axes)


def batch_size(args: list, batched: tuple) -> int | None:
    return next(a.shape[0] for a, b in zip(args, batched) if b)


def _batch_all(args: list, batched: tuple) -> list:
    """Every argument batched: unbatched ones are broadcast along a new leading axis."""
    from symgraph.ops.reduce import broadcast_to

    size = batch_size(args, batched)
    return [a if b else broadcast_to(expand_dims(a, 0), (size, *a.shape))
            for a, b in zip(args, batched)]


def _static(node: Node) -> bool:
    return len(node.inputs) == 1 or not node.opdef.shape_only


# --- expand_dims ------------------------------------------------------------------------------


def _expand_shape(inputs: tuple, attrs: dict) -> tuple:
    shape = list(inputs[0].shape)
    for a in attrs["axis"]:
        shape.insert(a, 1)
    return tuple(shape)


EXPAND_DIMS = register(Op(
    name="expand_dims", array_api="expand_dims", latex=operatorname("expand_dims"),
    impl=lambda x, *, axis: np.expand_dims(x, axis),
    shape=_expand_shape, dtype=first_dtype, show_attrs=("axis",),
    vjp=(lambda g, out: _sum_axes(g, out.attrs["axis"]),),  # summing a length-1 axis drops it
    jvp=(lambda t, out: expand_dims(t, out.attrs["axis"]),),
    batch=lambda node, args, b: make(EXPAND_DIMS, args, {"axis": shift_axes(node.attrs["axis"], 0)}),
    cases=[Case(lambda x: expand_dims(x, (0, 2)), [((2, 3), -1.0, 1.0)],
                ref=lambda x: x[None, :, None, :])],
))


def _sum_axes(g: Node, axes: tuple) -> Node:
    from symgraph.ops.reduce import sum as reduce_sum

    return reduce_sum(g, axis=axes)


@follows_numpy(np.expand_dims)
def expand_dims(x: Any, axis: int | tuple) -> Node:
    """Insert length-1 axes at the positions ``axis`` of the result, as NumPy does.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.expand_dims(v, 0).shape
    (1, 3)
    """
    (x,) = operands([x], "expand_dims")
    if not isinstance(axis, (int, np.integer, tuple, list)):
        raise ShapeError(f"expand_dims of {describe(x)}: axis must be an int or a tuple of "
                         f"ints, got {_brief(repr(axis))}")
    axes = normalize_axes(axis, x.ndim + (1 if isinstance(axis, (int, np.integer)) else len(axis)),
                          lambda: f"expand_dims of {describe(x)}")
    return make(EXPAND_DIMS, [x], {"axis": axes})


# --- reshape ----------------------------------------------------------------------------------


def _reshape_shape(inputs: tuple, attrs: dict) -> tuple:
    if len(inputs) > 1:
        return inputs[1].shape
    x, target = inputs[0], attrs["shape"]
    known = None not in x.shape
    size = int(np.prod(x.shape)) if known else None
    if -1 in target:
        rest = int(np.prod([d for d in target if d != -1]))
        if size is None:
            return tuple(None if d == -1 else d for d in target)
        if rest == 0 or size % rest:
            raise ShapeError(f"cannot reshape {describe(x)} to {target}")
        return tuple(size // rest if d == -1 else d for d in target)
    if size is not None and size != int(np.prod(target)):
        raise ShapeError(f"cannot reshape {describe(x)} ({size} elements) to {target}")
    return target


def _target(node: Node) -> tuple:
    """The shape a reshape asked for: its result's, or where a dim is known only when it
    runs, the shape given with its -1 (which each entry of a batch then works out)."""
    return node.attrs["shape"] if None in node.shape else node.shape


def _reshape_impl(x: np.ndarray, ref: np.ndarray | None = None, *, shape: tuple) -> Any:
    return np.reshape(x, shape if ref is None else np.shape(ref))


RESHAPE = register(Op(
    name="reshape", array_api="reshape", latex=operatorname("reshape"),
    impl=_reshape_impl, shape=_reshape_shape, dtype=first_dtype,
    vjp=(lambda g, out: reshape(g, out.inputs[0]), None),
    jvp=(lambda t, out: reshape(t, out), None),
    batch=lambda node, args, b: reshape(args[0], (args[0].shape[0], *_target(node)))
    if _static(node) else None,
    shape_only=(1,), show_attrs=("shape",),
    cases=[Case(lambda x: reshape(x, (3, -1)), [((2, 3), -1.0, 1.0)],
                ref=lambda x: x.reshape(3, 2))],
))


def row_major(who: str, x: Node, order: Any, fortran: str) -> None:
    """Refuse an ``order`` other than NumPy's default 'C': a node's elements have no memory
    layout, its values are read in C (row-major) order; NumPy's order='F' result is a
    transpose away (``fortran``, which the message shows)."""
    if order not in (None, "C"):
        raise SymgraphError(
            f"{who} of {describe(x)}: order={order!r} is not supported, nodes are read in C "
            f"(row-major) order; leave order out, or for NumPy's order='F' write {fortran}")


@follows_numpy(np.reshape)
def reshape(x: Any, shape: Any, order: str = "C") -> Node:
    """``x`` with a new shape (one dimension may be -1), or the runtime shape of a node;
    ``order`` is NumPy's default 'C' only (see :func:`row_major`).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> sg.reshape(m, (-1,)).shape
    (6,)
    """
    (x,) = operands([x], "reshape")
    row_major("reshape", x, order, "sg.reshape(x.T, shape[::-1]).T")
    if isinstance(shape, Node):
        if shape.shape == x.shape and None not in x.shape:
            return x
        ref = [shape] if None in shape.shape else []
        return make(RESHAPE, [x, *ref], {"shape": shape.shape})
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        if any(not isinstance(d, (int, np.integer)) or isinstance(d, (bool, np.bool_))
               for d in shape):  # (int(3.0) would pass a float, int(True) a bool)
            raise TypeError
        target = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise SymgraphError(f"reshape of {describe(x)}: shape {shape!r} is not a tuple of ints")
    if target.count(-1) > 1 or any(d < -1 for d in target):
        raise ShapeError(f"reshape of {describe(x)}: shape {target} may have one -1 at most")
    if target == x.shape:
        return x
    return make(RESHAPE, [x], {"shape": target})


# --- transpose --------------------------------------------------------------------------------


def is_plain_transpose(node: Node) -> bool:
    """``x.T`` (all axes reversed), which math writes as a superscript."""
    axes = node.attrs.get("axes")
    return axes is None or tuple(axes) == tuple(range(len(node.shape) - 1, -1, -1))


def _transpose_latex(node: Node) -> str:
    return "{0:base}^{{\\top}}" if is_plain_transpose(node) else operatorname("transpose")

TRANSPOSE = register(Op(
    name="transpose", array_api="transpose", latex=_transpose_latex,
    impl=lambda x, *, axes: np.transpose(x, axes),
    shape=lambda inputs, attrs: tuple(inputs[0].shape[a] for a in attrs["axes"]),
    dtype=first_dtype, show_attrs=("axes",),
    vjp=(lambda g, out: transpose(g, tuple(np.argsort(out.attrs["axes"]).tolist())),),
    jvp=(lambda t, out: transpose(t, out.attrs["axes"]),),
    batch=lambda node, args, b: transpose(args[0], (0, *shift_axes(node.attrs["axes"], 0))),
    cases=[Case(lambda x: x.T, [((2, 3), -1.0, 1.0)], ref=lambda x: x.T),
           Case(lambda x: transpose(x, (1, 2, 0)), [((2, 3, 2), -1.0, 1.0)],
                ref=lambda x: x.transpose(1, 2, 0))],
))


@follows_numpy(np.transpose)
def transpose(x: Any, axes: tuple | None = None) -> Node:
    """Permute the axes (reverse them by default), as ``numpy.transpose``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> sg.transpose(m).shape, m.T.shape
    ((3, 2), (3, 2))
    """
    (x,) = operands([x], "transpose")
    if axes is not None and (isinstance(axes, (str, bytes)) or not hasattr(axes, "__iter__")
                             or not all(isinstance(a, (int, np.integer)) for a in axes)):
        raise ShapeError(
            f"transpose of {describe(x)}: axes must be a tuple of ints, got {_brief(repr(axes))}"
        )
    perm = tuple(range(x.ndim))[::-1] if axes is None else tuple(int(a) % max(x.ndim, 1) for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"transpose of {describe(x)}: {axes!r} is not a permutation of its axes")
    if perm == tuple(range(x.ndim)):
        return x
    return make(TRANSPOSE, [x], {"axes": perm})


def swap_last_axes(x: Node) -> Node:
    """Transpose of the last two axes (the matrix transpose of a batch)."""
    perm = list(range(x.ndim))
    perm[-2:] = perm[-2:][::-1]
    return transpose(x, tuple(perm))


# --- getitem and its adjoint, scatter ----------------------------------------------------------


def _canonical_index(index: Any, who: str | Callable[[], str]) -> tuple:
    """A hashable form of a basic NumPy index: ints, slices, None and Ellipsis."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise SymgraphError(f"{lazy_text(who)}: boolean indices are not supported; use sg.where")
        if isinstance(item, (int, np.integer)):
            out.append(int(item))
        elif isinstance(item, slice):
            parts = (item.start, item.stop, item.step)
            if any(p is not None and not isinstance(p, (int, np.integer)) for p in parts):
                raise SymgraphError(f"{lazy_text(who)}: slice bounds must be ints, got {item!r}")
            if item.step == 0:
                raise SymgraphError(f"{lazy_text(who)}: slice step cannot be zero")
            out.append(("slice", *(None if p is None else int(p) for p in parts)))
        elif item is None:
            out.append(None)
        elif item is Ellipsis:
            out.append(...)
        else:
            raise SymgraphError(
                f"{lazy_text(who)}: index {item!r} is not supported; symgraph indexes with ints, "
                "slices, None and ..."
            )
    return tuple(out)


def numpy_index(canonical: tuple) -> tuple:
    """The NumPy index for a canonical index."""
    return tuple(slice(*i[1:]) if isinstance(i, tuple) else i for i in canonical)


def _getitem_shape(inputs: tuple, attrs: dict) -> tuple:
    x = inputs[0]
    try:
        return _unprobe(_probe(x.shape)[numpy_index(attrs["index"])].shape)
    except IndexError as exc:
        raise ShapeError(f"index {format_index(attrs['index'])} does not fit {describe(x)}: {exc}")


def format_index(canonical: tuple) -> str:
    """``[1:3, 0]``-style text of a canonical index."""
    def one(i: Any) -> str:
        if i is None:
            return "None"
        if i is Ellipsis:
            return "..."
        if isinstance(i, tuple):
            start, stop, step = i[1:]
            text = f"{'' if start is None else start}:{'' if stop is None else stop}"
            return text + ("" if step is None else f":{step}")
        return str(i)

    return "[" + ", ".join(one(i) for i in canonical) + "]"


def _getitem_latex(node: Node) -> str:
    """``x_{0}``: the index as a subscript (its text escaped, and braces doubled for format)."""
    text = tex_escape(format_index(node.attrs["index"])[1:-1])
    return "{0:atom}_{{" + text.replace("{", "{{").replace("}", "}}") + "}}"


GETITEM = register(Op(
    name="getitem", latex=_getitem_latex, latex_atom=True,
    impl=lambda x, *, index: x[numpy_index(index)],
    shape=_getitem_shape, dtype=first_dtype,
    vjp=(lambda g, out: scatter(g, out.attrs["index"], out.inputs[0]),),
    jvp=(lambda t, out: make(GETITEM, [t], out.attrs),),
    batch=lambda node, args, b: make(GETITEM, args, {"index": (_ALL, *node.attrs["index"])}),
    prec=50,
    cases=[Case(lambda x: x[0], [((3,), -1.0, 1.0)], ref=lambda x: x[0]),
           Case(lambda x: x[1:, ::2], [((3, 4), -1.0, 1.0)], ref=lambda x: x[1:, ::2]),
           Case(lambda x: x[:, 0] * x[:, 1], [((3, 2), -1.0, 1.0)],
                ref=lambda x: x[:, 0] * x[:, 1])],
))


def _scatter_impl(g: np.ndarray, ref: np.ndarray | None = None, *, index: tuple,
                  shape: tuple) -> np.ndarray:
    out = np.zeros(shape if ref is None else np.shape(ref), dtype=g.dtype)
    out[numpy_index(index)] = g
    return out


SCATTER = register(Op(
    name="scatter", latex=operatorname("scatter"),
    impl=_scatter_impl,
    shape=lambda inputs, attrs: inputs[1].shape if len(inputs) > 1 else attrs["shape"],
    dtype=first_dtype, shape_only=(1,), show_attrs=("index", "shape"),
    vjp=(lambda g, out: make(GETITEM, [g], {"index": out.attrs["index"]}), None),
    jvp=(lambda t, out: make(SCATTER, [t, *out.inputs[1:]], out.attrs), None),
    batch=lambda node, args, b: make(SCATTER, args[:1], {
        "index": (_ALL, *node.attrs["index"]), "shape": (args[0].shape[0], *node.shape)})
    if _static(node) else None,
))


def getitem(x: Any, index: Any) -> Node:
    """NumPy indexing: ``x[0]``, ``x[1:3]``, ``x[:, 0]``, ``x[None]``, ``x[..., -1]``; an
    integer array, list or integer node in the index gathers (``x[idx]``, ``x[:, idx]``,
    ``x[rows, cols]``: see ``symgraph.ops.gather``), and so does a constant boolean mask
    (``x[np.array([True, False, True])]``, NumPy's ``x[mask.nonzero()]``).

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     w = sg.var("w", shape=(3,))
    >>> str(w[0] * 2), w[1:].shape, w[np.array([2, 2])].shape
    ('w[0]*2', (2,), (2,))
    """
    (x,) = operands([x], "getitem")
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(item, (Node, np.ndarray, list)) for item in items):
        from symgraph.ops.gather import gather  # (gather builds on this module)

        return gather(x, index)
    canonical = _canonical_index(index, lambda: f"indexing {describe(x)}")
    return make(GETITEM, [x], {"index": canonical})


def scatter(g: Node, index: tuple, like: Node) -> Node:
    """Zeros of ``like``'s shape with ``g`` placed at ``index``: the adjoint of indexing."""
    ref = [like] if None in like.shape else []
    return make(SCATTER, [g, *ref], {"index": index, "shape": like.shape})


# scatter_add(b, g) is scatter(g) + b in one pass; compile's lowering makes it (see
# symgraph.rewrite.rules_lowering), and generated code adds g into b's buffer where b dies.
def _scatter_add_impl(b: np.ndarray, g: np.ndarray, *, index: tuple) -> np.ndarray:
    where = numpy_index(index)
    inside = b[where] + g  # g + b, as scatter(g) + b adds there
    out = np.add(b, 0.0)  # 0.0 + b elsewhere: -0.0 becomes 0.0, as in scatter(g) + b
    out[where] = inside
    return out


def _scatter_add_shape(inputs: tuple, attrs: dict) -> tuple:
    b, g = inputs
    part = _unprobe(_probe(b.shape)[numpy_index(attrs["index"])].shape)
    if len(g.shape) > len(part) or any(
            d not in (1, e) and None not in (d, e) for d, e in zip(g.shape[::-1], part[::-1])):
        raise ShapeError(f"scatter_add: {describe(g)} does not fit {describe(b)}"
                         f"{format_index(attrs['index'])} (shape {part})")
    return b.shape


SCATTER_ADD = register(Op(
    name="scatter_add", latex=operatorname("scatter_add"),
    impl=_scatter_add_impl, shape=_scatter_add_shape, dtype=promote, show_attrs=("index",),
    vjp=(lambda g, out: g, lambda g, out: make(GETITEM, [g], {"index": out.attrs["index"]})),
    jvp=(lambda t, out: t, lambda t, out: scatter(t, out.attrs["index"], out)),
    batch=lambda node, args, b: make(SCATTER_ADD, _batch_all(args, b), {
        "index": (_ALL, *node.attrs["index"])}),
    cases=[Case(lambda b, g: scatter_add(b, g, _canonical_index(slice(1, None), "")),
                [((4,), -1.0, 1.0), ((3,), -1.0, 1.0)],
                ref=lambda b, g: b + np.concatenate([[0.0], g])),
           Case(lambda b, g: scatter_add(b, g, _canonical_index((slice(None), 0), "")),
                [((2, 3), -1.0, 1.0), ((2,), -1.0, 1.0)],
                ref=lambda b, g: b + np.stack([g, 0 * g, 0 * g], axis=1))],
))


def scatter_add(b: Node, g: Node, index: tuple) -> Node:
    """``b`` with ``g`` added at ``index`` (a canonical index, as ``getitem`` keeps it):
    the value of ``scatter(g, index, b) + b``, NaN, inf and -0.0 included.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     b, g = sg.var("b", shape=(3,)), sg.var("g", shape=(2,))
    ...     y = scatter_add(b, g, b[1:].attrs["index"])
    >>> sg.evaluate(y, {b: [1.0, 2.0, 3.0], g: [10.0, 20.0]}).tolist()
    [1.0, 12.0, 23.0]
    """
    return make(SCATTER_ADD, [b, g], {"index": index})


# --- concatenate and stack --------------------------------------------------------------------


def _join_shape(inputs: tuple, attrs: dict, stacking: bool) -> tuple:
    axis, first = attrs["axis"], inputs[0]
    for other in inputs[1:]:
        dims_fit = other.ndim == first.ndim and all(
            a == b or a is None or b is None or (i == axis and not stacking)
            for i, (a, b) in enumerate(zip(first.shape, other.shape))
        )
        if not dims_fit:
            what = "stack" if stacking else "concatenate"
            raise ShapeError(
                f"cannot {what} {describe(first)} and {describe(other)} along axis {axis}"
            )
    if stacking:
        return first.shape[:axis] + (len(inputs),) + first.shape[axis:]
    sizes = [n.shape[axis] for n in inputs]
    total = None if None in sizes else int(np.sum(sizes))
    return first.shape[:axis] + (total,) + first.shape[axis + 1 :]


def _concat_vjp(g: Node, out: Node, i: int) -> Node:
    axis = out.attrs["axis"]
    sizes = [n.shape[axis] for n in out.inputs]
    if None in sizes:
        raise SymgraphError(
            f"the derivative of concatenate along axis {axis} needs the sizes of its inputs "
            "along that axis; give those inputs a static shape"
        )
    start = int(np.sum(sizes[:i]))
    index = (("slice", None, None, None),) * axis + (("slice", start, start + sizes[i], None),)
    return make(GETITEM, [g], {"index": index})


CONCATENATE = register(Op(
    name="concatenate", array_api="concatenate", latex=operatorname("concatenate"),
    impl=lambda *xs, axis: np.concatenate(xs, axis=axis),
    shape=lambda inputs, attrs: _join_shape(inputs, attrs, stacking=False), dtype=promote,
    vjp=_concat_vjp,
    jvp=lambda t, out, i: _join_tangent(t, out, i, stacking=False),
    batch=lambda node, args, b: make(CONCATENATE, _batch_all(args, b),
                                     {"axis": node.attrs["axis"] + 1}),
    show_attrs=("axis",), defaults={"axis": 0},
    cases=[Case(lambda a, b: concatenate([a, b], axis=1), [((2, 1), -1.0, 1.0), ((2, 3), -1.0, 1.0)],
                ref=lambda a, b: np.concatenate([a, b], axis=1))],
))


def _stack_vjp(g: Node, out: Node, i: int) -> Node:
    axis = out.attrs["axis"]
    return make(GETITEM, [g], {"index": (("slice", None, None, None),) * axis + (i,)})


STACK = register(Op(
    name="stack", array_api="stack", latex=operatorname("stack"),
    impl=lambda *xs, axis: np.stack(xs, axis=axis),
    shape=lambda inputs, attrs: _join_shape(inputs, attrs, stacking=True), dtype=promote,
    vjp=_stack_vjp,
    jvp=lambda t, out, i: _join_tangent(t, out, i, stacking=True),
    batch=lambda node, args, b: make(STACK, _batch_all(args, b), {"axis": node.attrs["axis"] + 1}),
    show_attrs=("axis",), defaults={"axis": 0},
    cases=[Case(lambda a, b: stack([a, b], axis=1), [((3,), -1.0, 1.0), ((3,), -1.0, 1.0)],
                ref=lambda a, b: np.stack([a, b], axis=1))],
))


def _join_tangent(t: Node, out: Node, i: int, stacking: bool) -> Node:
    """Input i's tangent placed in its block of the joined output, zeros elsewhere."""
    from symgraph.ops.reduce import zeros_like

    pieces = [t if j == i else zeros_like(n) for j, n in enumerate(out.inputs)]
    return make(STACK if stacking else CONCATENATE, pieces, out.attrs)


def _join(op: Op, xs: Any, axis: int) -> Node:
    if isinstance(xs, (Node, str, bytes)) or not hasattr(xs, "__iter__"):
        raise SymgraphError(
            f"{op.name} takes a list of nodes, got {type(xs).__name__}; write "
            f"sg.{op.name}([a, b])"
        )
    nodes = operands(list(xs), op.name)
    if not nodes:
        raise SymgraphError(f"{op.name} needs at least one node")
    if axis is None and op is CONCATENATE:  # NumPy's axis=None: flattened first
        nodes, axis = [reshape(n, (-1,)) for n in nodes], 0
    if not isinstance(axis, (int, np.integer)):
        raise ShapeError(f"{op.name}: axis {axis!r} is not an int")
    ndim = nodes[0].ndim + (1 if op is STACK else 0)
    (ax,) = normalize_axes(axis, ndim, op.name)
    return make(op, nodes, {"axis": ax})


@follows_numpy(np.concatenate)
def concatenate(xs: Any, axis: int = 0, dtype: Any = None) -> Node:
    """Join nodes along an existing axis, as ``numpy.concatenate`` (``dtype``: of the
    result, each array cast to it first).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2,)), sg.var("b", shape=(3,))
    >>> sg.concatenate([a, b]).shape
    (5,)
    """
    joined = _join(CONCATENATE, xs, axis)
    if dtype is None:
        return joined
    from symgraph.ops.elementwise import cast  # (elementwise builds on this module)
    try:
        castable = np.can_cast(joined.dtype, np.dtype(dtype), "same_kind")  # NumPy's casting
    except TypeError:
        castable = True  # (not a dtype: cast names it)
    if not castable:
        raise SymgraphError(f"concatenate: dtype={np.dtype(dtype)} cannot hold "
                            f"{joined.dtype} values (NumPy casts same_kind only); cast first")
    return cast(joined, dtype)


@follows_numpy(np.stack)
def stack(xs: Any, axis: int = 0) -> Node:
    """Join nodes of one shape along a new axis, as ``numpy.stack``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x0, x1 = sg.var("x0"), sg.var("x1")
    >>> sg.stack([x0, x1]).shape
    (2,)
    """
    return _join(STACK, xs, axis)

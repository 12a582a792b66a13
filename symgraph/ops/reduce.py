"""Reductions (``sum``, ``mean``, ``max``) and the two ops that are each other's
derivative: ``broadcast_to`` and ``sum_to``.

``broadcast_to`` and ``sum_to`` take an optional second input, ``ref``, used only for
its runtime shape: derivatives of inputs whose shape has unknown (``None``) dimensions
use it, so the gradient of a ``(None, 3)`` input has the fed shape.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError
from symgraph.ops.core import (
    Case,
    Op,
    _brief,
    broadcast_shapes,
    const,
    describe,
    first_dtype,
    flag,
    follows_numpy,
    latex_function,
    make,
    normalize_axes,
    operands,
    operatorname,
    register,
)
from symgraph.ops.elementwise import in_dtype
from symgraph.ops.shape import _static, batched_to_rank, expand_dims, shift_axes

Axis = Any  # int, tuple of ints, or None


# --- broadcast_to / sum_to -------------------------------------------------------------------


def _target(inputs: tuple, attrs: dict) -> tuple:
    return inputs[1].shape if len(inputs) > 1 else attrs["shape"]


def _broadcast_to_shape(inputs: tuple, attrs: dict) -> tuple:
    target = _target(inputs, attrs)
    if len(target) < inputs[0].ndim or broadcast_shapes(inputs[0].shape, target) is None:
        raise ShapeError(f"cannot broadcast {describe(inputs[0])} to shape {target}")
    return target


def _sum_to_shape(inputs: tuple, attrs: dict) -> tuple:
    target = _target(inputs, attrs)
    if len(target) > inputs[0].ndim or broadcast_shapes(inputs[0].shape, target) is None:
        raise ShapeError(f"cannot sum {describe(inputs[0])} down to shape {target}")
    return target


def _broadcast_to_impl(x: np.ndarray, ref: np.ndarray | None = None, *, shape: tuple) -> Any:
    return np.broadcast_to(x, shape if ref is None else np.shape(ref))


def _sum_to_impl(x: np.ndarray, ref: np.ndarray | None = None, *, shape: tuple) -> Any:
    target = shape if ref is None else np.shape(ref)
    lead = x.ndim - len(target)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(target) if d == 1 and x.shape[lead + i] != 1
    )
    out = np.sum(x, axis=axes, keepdims=True) if axes else x
    return out.reshape(target)


BROADCAST_TO = register(Op(
    name="broadcast_to", array_api="broadcast_to", latex=operatorname("broadcast_to"),
    impl=_broadcast_to_impl, shape=_broadcast_to_shape, dtype=first_dtype,
    vjp=(lambda g, out: sum_to(g, out.inputs[0]), None),  # adjoint of copying is summing
    jvp=(lambda t, out: broadcast_to(t, out), None),
    batch=lambda node, args, b: broadcast_to(batched_to_rank(args[0], node.ndim),
                                             (args[0].shape[0], *node.shape))
    if _static(node) else None,
    shape_only=(1,), show_attrs=("shape",),
    cases=[Case(lambda x: broadcast_to(x, (2, 3)), [((3,), -1.0, 1.0)],
                ref=lambda x: np.broadcast_to(x, (2, 3)))],
))
SUM_TO = register(Op(
    name="sum_to", latex=operatorname("sum_to"),
    impl=_sum_to_impl, shape=_sum_to_shape, dtype=first_dtype,
    vjp=(lambda g, out: broadcast_to(g, out.inputs[0]), None),
    jvp=(lambda t, out: sum_to(t, out), None),
    batch=lambda node, args, b: _batch_sum_to(node, args[0]) if _static(node) else None,
    shape_only=(1,), show_attrs=("shape",),
    cases=[Case(lambda x: sum_to(x, (2, 1)), [((2, 3), -1.0, 1.0)],
                ref=lambda x: x.sum(axis=1, keepdims=True))],
))


def _batch_sum_to(node: Node, x: Node) -> Node:
    lead = x.ndim - 1 - node.ndim  # leading axes that sum_to drops, after the batch axis
    if lead > 0:
        x = sum(x, axis=tuple(range(1, 1 + lead)))
    return sum_to(x, (x.shape[0], *node.shape))


def _batch_reduction(node: Node, args: list, batched: tuple) -> Node:
    attrs = dict(node.attrs, axis=shift_axes(node.attrs["axis"], node.inputs[0].ndim))
    return make(node.opdef, args, attrs)


def _shape_of(like: Any) -> tuple[tuple, list[Node]]:
    """A static target shape, plus ``like`` itself as ``ref`` if the shape is not static."""
    if isinstance(like, Node):
        return like.shape, ([like] if None in like.shape else [])
    if isinstance(like, (int, np.integer)):
        like = (like,)
    if isinstance(like, (str, bytes)) or not hasattr(like, "__iter__"):
        raise ShapeError(
            f"the target shape must be a tuple of ints or a node, got {_brief(repr(like))}"
        )
    shape = tuple(like)
    if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in shape):
        raise ShapeError(f"the target shape {_brief(repr(like))} must hold ints >= 0")
    return tuple(int(d) for d in shape), []


@follows_numpy(np.broadcast_to)
def broadcast_to(x: Any, like: Any) -> Node:
    """``x`` broadcast to a shape, or to the (runtime) shape of the node ``like``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     b = sg.var("b", shape=(3,))
    >>> sg.broadcast_to(b, (2, 3)).shape
    (2, 3)
    """
    (x,) = operands([x], "broadcast_to")
    shape, ref = _shape_of(like)
    if x.shape == shape and not ref:
        return x
    return make(BROADCAST_TO, [x, *ref], {"shape": shape})


def sum_to(x: Any, like: Any) -> Node:
    """``x`` summed over broadcast dimensions down to a shape (or ``like``'s shape).

    This undoes broadcasting: it is the derivative of ``broadcast_to``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> sg.sum_to(m, (3,)).shape
    (3,)
    """
    (x,) = operands([x], "sum_to")
    shape, ref = _shape_of(like)
    if x.shape == shape and not ref:
        return x
    return make(SUM_TO, [x, *ref], {"shape": shape})


def zeros_like(x: Node) -> Node:
    """Zeros of ``x``'s (runtime) shape and dtype; no memory for static shapes (the
    derivative builders' own; ``sg.zeros_like``, ``symgraph.ops.creation``'s, also takes
    NumPy's ``dtype`` and ``shape``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, None))
    >>> sg.zeros_like(m).shape
    (2, None)
    """
    (x,) = operands([x], "zeros_like")
    zero = const(0, dtype=x.dtype, graph=x.graph)
    if None not in x.shape:
        return const(np.broadcast_to(zero.attrs["value"], x.shape), graph=x.graph)
    return broadcast_to(zero, x)


# --- reductions ---------------------------------------------------------------------------------


def _reduced_shape(inputs: tuple, attrs: dict) -> tuple:
    x, axes, keep = inputs[0], attrs["axis"], attrs["keepdims"]
    if axes is None:
        axes = tuple(range(x.ndim))
    if keep:
        return tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def _sum_dtype(inputs: tuple, attrs: dict) -> np.dtype:
    """The dtype ``np.sum`` gives, which the impl computes: booleans and integers narrower
    than 64 bits sum in int64 (uint64), as ``prod``, ``cumsum`` and ``trace`` declare."""
    return _numpy_sum_dtype(inputs[0].dtype)


@functools.lru_cache(maxsize=64)
def _numpy_sum_dtype(dtype: np.dtype) -> np.dtype:
    return np.sum(np.zeros(1, dtype)).dtype


def restore_reduced(g: Node, out: Node) -> Node:
    """The cotangent of a reduction spread back over the reduced input's shape."""
    x, axes = out.inputs[0], out.attrs["axis"]
    if not out.attrs["keepdims"] and axes is not None:
        g = expand_dims(g, axes)
    return broadcast_to(g, x)


def _count(out: Node) -> Any:
    """How many elements each output of a reduction summarises."""
    x, axes = out.inputs[0], out.attrs["axis"]
    dims = [x.shape[a] for a in (range(x.ndim) if axes is None else axes)]
    if None in dims:
        return make(COUNT, [x], {"axis": axes})
    return const(int(np.prod(dims)), dtype=x.dtype, graph=x.graph)


def _reduction_cases(build: Any, numpy_fn: Any) -> list:
    def case(axis: Any, keepdims: bool, shape: tuple) -> Case:
        return Case(lambda x: build(x, axis, keepdims), [(shape, -1.0, 1.0)],
                    ref=lambda x: numpy_fn(x, axis=axis, keepdims=keepdims))

    return [case(None, False, (2, 3)), case(1, False, (2, 3)), case(0, True, (2, 3)),
            case((0, 2), False, (2, 3, 2))]


SUM = register(Op(
    name="sum", array_api="sum", latex=operatorname("sum"),
    impl=lambda x, *, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    shape=_reduced_shape, dtype=_sum_dtype,
    vjp=(restore_reduced,),  # d sum(x)/dx_i = 1
    jvp=(lambda t, out: sum(t, out.attrs["axis"], out.attrs["keepdims"]),),
    show_attrs=("axis", "keepdims"), batch=_batch_reduction, parse=True,
))
SUM.cases = _reduction_cases(lambda x, a, k: sum(x, a, k), np.sum)
MEAN = register(Op(
    name="mean", array_api="mean", latex=operatorname("mean"),
    impl=lambda x, *, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    shape=_reduced_shape, dtype=lambda inputs, attrs: np.result_type(inputs[0].dtype, 0.5),
    vjp=(lambda g, out: restore_reduced(g, out) / _count(out),),  # d mean(x)/dx_i = 1/n
    jvp=(lambda t, out: mean(t, out.attrs["axis"], out.attrs["keepdims"]),),
    show_attrs=("axis", "keepdims"), batch=_batch_reduction, parse=True,
))
MEAN.cases = _reduction_cases(lambda x, a, k: mean(x, a, k), np.mean)


def _first_max_mask(x: np.ndarray, *, axis: tuple | None) -> np.ndarray:
    """1 at the first maximal element of each reduced slice, 0 elsewhere."""
    axes = tuple(range(x.ndim)) if axis is None else axis
    keep = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, keep + list(axes))
    # (the slice's size, not -1: that is ambiguous for an empty array)
    flat = moved.reshape(moved.shape[: len(keep)] + (int(np.prod(moved.shape[len(keep):])),))
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, np.argmax(flat, axis=-1)[..., None], 1, axis=-1)
    return np.transpose(mask.reshape(moved.shape), np.argsort(keep + list(axes)))


FIRST_MAX_MASK = register(Op(
    name="first_max_mask", latex=operatorname("first_max_mask"),
    impl=_first_max_mask, shape=lambda i, a: i[0].shape,
    dtype=first_dtype, show_attrs=("axis",),  # piecewise constant: no derivative
    batch=_batch_reduction,
))
MAX = register(Op(
    name="max", array_api="max", latex=latex_function(r"\max"),
    impl=lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    shape=_reduced_shape, dtype=first_dtype,
    # the gradient goes to the first maximal element
    vjp=(lambda g, out: restore_reduced(g, out) * make(FIRST_MAX_MASK, [out.inputs[0]],
                                                {"axis": out.attrs["axis"]}),),
    jvp=(lambda t, out: sum(t * make(FIRST_MAX_MASK, [out.inputs[0]], {"axis": out.attrs["axis"]}),
                            out.attrs["axis"], out.attrs["keepdims"]),),
    show_attrs=("axis", "keepdims"), batch=_batch_reduction, parse=True,
))
MAX.cases = _reduction_cases(lambda x, a, k: max(x, a, k), np.max)
COUNT = register(Op(
    name="count", latex=operatorname("count"),
    impl=lambda x, *, axis: np.asarray(
        np.prod([x.shape[a] for a in (range(x.ndim) if axis is None else axis)]), dtype=x.dtype),
    shape=lambda inputs, attrs: (), dtype=first_dtype, shape_only=(0,), show_attrs=("axis",),
    batch=_batch_reduction,  # the count is the same for every batch entry: not batched
))


def _reduce(op: Op, x: Any, axis: Axis, keepdims: bool) -> Node:
    (x,) = operands([x], op.name)
    axes = normalize_axes(axis, x.ndim, lambda: f"{op.name} of {describe(x)}")
    if axes is not None and len(axes) == x.ndim:
        axes = None
    # (as np.max: an empty slice has no maximum; slices of an empty array along a non-empty
    # axis are none, and their maxima an empty array)
    if op is MAX and any(x.shape[a] == 0 for a in (range(x.ndim) if axes is None else axes)):
        raise ShapeError(f"max of {describe(x)}: a reduced axis has length 0, so there is no "
                         "maximum; reduce over axes that have elements")
    keep = flag(f"sg.{op.name}", keepdims=keepdims)
    return make(op, [x], {"axis": axes, "keepdims": keep})


@follows_numpy(np.sum)
def sum(x: Any, axis: Axis = None, keepdims: bool = False,  # noqa: A001
        dtype: Any = None) -> Node:
    """Sum over ``axis`` (all axes by default), as ``numpy.sum``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> sg.sum(m, axis=0).shape, sg.sum(m).shape
    ((3,), ())

    ``dtype``: NumPy's, the sum computed and given in it.
    """
    if dtype is not None:
        return in_dtype(lambda v: _reduce(SUM, v, axis, keepdims), x, dtype)
    return _reduce(SUM, x, axis, keepdims)


@follows_numpy(np.mean)
def mean(x: Any, axis: Axis = None, keepdims: bool = False, dtype: Any = None) -> Node:
    """Mean over ``axis`` (all axes by default), as ``numpy.mean``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(4,))
    >>> float(sg.evaluate(sg.mean(v), {v: [1, 2, 3, 6]}))
    3.0

    ``dtype``: NumPy's, the mean computed and given in it.
    """
    if dtype is not None:
        return in_dtype(lambda v: _reduce(MEAN, v, axis, keepdims), x, dtype)
    return _reduce(MEAN, x, axis, keepdims)


@follows_numpy(np.max, np.amax)
def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Node:  # noqa: A001
    """Maximum over ``axis``; the gradient goes to the first maximal element.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     dv = sg.grad(sg.max(v), v)
    >>> sg.evaluate(dv, {v: [5.0, 1.0, 5.0]}).tolist()
    [1.0, 0.0, 0.0]
    """
    return _reduce(MAX, x, axis, keepdims)

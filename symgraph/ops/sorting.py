"""Order along an axis: ``sort argsort cumsum cumprod``.

Each works along one axis; ``axis=None`` flattens first, as NumPy does (the node is then
the op of ``reshape(x, (-1,))``). Ties sort stably (NumPy's ``kind="stable"``, the
array API's default), so ``sort``'s gradient goes to the tied elements in input order.

Three private ops carry the derivatives, each differentiable again by the others:

- ``permute(x, idx, axis, inverse)`` (op ``permute_along``): ``take_along_axis(x, idx)``
  by a permutation ``idx`` (``inverse``: the scatter ``out[idx] = x``); each is the
  other's adjoint. ``sort``'s derivative is ``permute(g, argsort(x), inverse=True)``.
- ``shift(x, by, axis, fill)`` (op ``shift_along``): ``out[k] = x[k - by]``, the vacated
  places ``fill``; its adjoint is the opposite shift with fill 0.
- ``linear_scan(a, b, axis, reverse)``: the recurrence ``h[k] = a[k] h[k-1] + b[k]``
  (``reverse``: ``h[k] = a[k] h[k+1] + b[k]``; ``a`` of the first element in scan order is
  unused). ``cumprod``'s derivative is one, so it needs no division by ``x`` and is right
  where ``x`` has zeros; the derivatives of a scan are scans and shifts again, so every
  order is exact. ``cumsum``'s derivative is ``cumsum`` reversed (the ``reverse`` attribute
  of the ``cumsum`` and ``cumprod`` nodes, which the public functions leave False).

Imports: ``symgraph.graph``, ``symgraph.ops.core`` and ``symgraph.ops.shape``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case,
    Op,
    describe,
    first_dtype,
    follows_numpy,
    make,
    normalize_axes,
    operands,
    operatorname,
    promote,
    register,
    same_shape,
)
from symgraph.ops.elementwise import in_dtype
from symgraph.ops.shape import _batch_all, reshape

__all__ = ["argsort", "cumprod", "cumsum", "sort"]

INT64 = np.dtype("int64")


# --- shared helpers ------------------------------------------------------------------------


def one_axis(x: Node, axis: Any, who: str) -> int:
    """``axis`` as one non-negative int of ``x`` (ops along a single axis)."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise ShapeError(f"{who} of {describe(x)}: axis must be an int (or None to flatten), "
                         f"got {axis!r}")
    (a,) = normalize_axes(axis, x.ndim, lambda: f"{who} of {describe(x)}")
    return a


def _along(x: Any, axis: Any, who: str) -> tuple[Node, int]:
    """The node and axis an op works along: ``axis=None`` flattens ``x`` (as NumPy)."""
    (x,) = operands([x], who)
    if axis is None:
        return (x if x.ndim == 1 else reshape(x, (-1,))), 0
    return x, one_axis(x, axis, who)


def batch_along(node: Node, args: list, batched: tuple) -> Node | None:
    """The vmap rule of an op along one axis (``axis`` attr): the axis moves up by one."""
    if len(args) > 1:
        if any(None in a.shape for a, b in zip(args, batched) if not b):
            return None  # an unbatched operand of unknown shape cannot be broadcast
        args = _batch_all(args, batched)
    return make(node.opdef, args, dict(node.attrs, axis=node.attrs["axis"] + 1))


@functools.lru_cache(maxsize=64)
def _numpy_dtype(fn: Any, dtype: np.dtype) -> np.dtype:
    return fn(np.ones(1, dtype=dtype)).dtype  # NumPy's own promotion (bool, int32 -> int64)


def accumulating_dtype(fn: Any) -> Any:
    """A dtype rule: the dtype NumPy's ``fn`` (``np.cumsum``, ``np.prod``) gives."""
    return lambda inputs, attrs: _numpy_dtype(fn, inputs[0].dtype)


def _moved(x: np.ndarray, axis: int, reverse: bool) -> np.ndarray:
    """A view of ``x`` with ``axis`` first, in scan order."""
    view = np.moveaxis(np.asarray(x), axis, 0)
    return view[::-1] if reverse else view


def _last_axis(node: Node) -> int:
    return node.inputs[0].ndim - 1


# --- shift -------------------------------------------------------------------------------


def _shift_impl(x: np.ndarray, *, axis: int, by: int, fill: float) -> np.ndarray:
    x = np.asarray(x)
    out = np.full_like(x, fill)
    n = x.shape[axis]
    if abs(by) < n:
        src = [slice(None)] * x.ndim
        dst = [slice(None)] * x.ndim
        src[axis], dst[axis] = (slice(0, n - by), slice(by, n)) if by >= 0 else \
            (slice(-by, n), slice(0, n + by))
        out[tuple(dst)] = x[tuple(src)]
    return out


def shift(x: Node, by: int, axis: int, fill: float = 0.0) -> Node:
    """``out[k] = x[k - by]`` along ``axis``; the ``|by|`` vacated places hold ``fill``."""
    return make(SHIFT, [x], {"axis": axis, "by": int(by), "fill": float(fill)})


SHIFT = register(Op(
    name="shift_along", latex=operatorname("shift_along"),
    impl=_shift_impl, shape=same_shape, dtype=first_dtype,
    # linear in x (the fill is a constant): the adjoint moves back, filling zeros
    vjp=(lambda g, out: shift(g, -out.attrs["by"], out.attrs["axis"]),),
    jvp=(lambda t, out: shift(t, out.attrs["by"], out.attrs["axis"]),),
    show_attrs=("axis", "by", "fill"), batch=batch_along,
    cases=[Case(lambda x: shift(x, 1, 1, fill=1.0) * x, [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.concatenate([np.ones((2, 1)), x[:, :-1]], axis=1) * x),
           Case(lambda x: shift(x, -2, 0) * x, [((3, 2), -1.0, 1.0)],
                ref=lambda x: np.concatenate([x[2:], np.zeros((2, 2))]) * x)],
))


# --- linear_scan ---------------------------------------------------------------------------


def _scan_impl(a: np.ndarray, b: np.ndarray, *, axis: int, reverse: bool) -> np.ndarray:
    # One step per element, in order: a doubling scheme (log n steps) would form products
    # of a's alone, which overflow to inf (and inf * 0 = nan) where the recurrence is finite.
    out = np.empty(np.shape(b), dtype=np.result_type(a, b))
    av, bv, hv = (_moved(v, axis, reverse) for v in (a, b, out))
    for k in range(hv.shape[0]):
        hv[k] = bv[k] if k == 0 else av[k] * hv[k - 1] + bv[k]
    return out


def _scan_shape(inputs: tuple, attrs: dict) -> tuple:
    a, b = inputs
    if a.shape != b.shape:
        raise ShapeError(f"linear_scan: {describe(a)} and {describe(b)} must have one shape")
    return b.shape


def linear_scan(a: Node, b: Node, axis: int, reverse: bool = False) -> Node:
    """``h[k] = a[k] h[k-1] + b[k]`` along ``axis`` (``reverse``: from the end)."""
    return make(LINEAR_SCAN, [a, b], {"axis": axis, "reverse": bool(reverse)})


def _later(out: Node) -> int:
    """The shift that brings each element's successor in scan order to its place."""
    return 1 if out.attrs["reverse"] else -1


def _scan_vjp_b(g: Node, out: Node) -> Node:
    # h = M b with M[k, i] = prod(a[i+1..k]); M^T g is the scan the other way, with each
    # element's coefficient taken from its successor
    a, axis = out.inputs[0], out.attrs["axis"]
    return linear_scan(shift(a, _later(out), axis), g, axis, not out.attrs["reverse"])


def _scan_previous(out: Node) -> Node:
    """h of each element's predecessor in scan order (0 for the first)."""
    return shift(out, -_later(out), out.attrs["axis"])


LINEAR_SCAN = register(Op(
    name="linear_scan", latex=operatorname("linear_scan"),
    impl=_scan_impl, shape=_scan_shape, dtype=promote,
    # dh[k]/da[m] = h[m-1] * prod(a[m+1..k]): the b-adjoint times the previous h
    vjp=(lambda g, out: _scan_previous(out) * _scan_vjp_b(g, out), _scan_vjp_b),
    jvp=(lambda t, out: linear_scan(out.inputs[0], t * _scan_previous(out), out.attrs["axis"],
                                    out.attrs["reverse"]),
         lambda t, out: linear_scan(out.inputs[0], t, out.attrs["axis"], out.attrs["reverse"])),
    show_attrs=("axis", "reverse"), batch=batch_along,
))


def _scan_reference(a: np.ndarray, b: np.ndarray, axis: int, reverse: bool) -> np.ndarray:
    a, b = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
    out = np.zeros_like(b)
    n = b.shape[-1]
    for k in range(n):  # the closed form: sum_i b[i] prod(a[i+1..k])
        for i in range(n):
            if (i <= k) if not reverse else (i >= k):
                span = range(i + 1, k + 1) if not reverse else range(k, i)
                out[..., k] += b[..., i] * np.prod([a[..., j] for j in span], axis=0)
    return np.moveaxis(out, -1, axis)


_WITH_ZEROS = np.array([[0.5, 0.0, -1.5, 2.0], [0.0, 1.2, 0.0, -0.7]])
LINEAR_SCAN.cases = [
    Case(lambda a, b: linear_scan(a, b, 1), [((2, 4), -1.5, 1.5), ((2, 4), -1.0, 1.0)],
         ref=lambda a, b: _scan_reference(a, b, 1, False)),
    Case(lambda a, b: linear_scan(a, b, 0, reverse=True) * a,
         [((3, 2), -1.5, 1.5), ((3, 2), -1.0, 1.0)],
         ref=lambda a, b: _scan_reference(a, b, 0, True) * a),
    Case(lambda a, b: linear_scan(a, b, 1, reverse=True), [_WITH_ZEROS, ((2, 4), -1.0, 1.0)],
         ref=lambda a, b: _scan_reference(a, b, 1, True)),
]


# --- permute -------------------------------------------------------------------------------


def _permute_impl(x: np.ndarray, idx: np.ndarray, *, axis: int, inverse: bool) -> np.ndarray:
    x, idx = np.asarray(x), np.asarray(idx)
    if not inverse:
        return np.take_along_axis(x, idx, axis=axis)
    out = np.zeros(np.broadcast_shapes(x.shape, idx.shape), dtype=x.dtype)
    np.put_along_axis(out, idx, x, axis=axis)
    return out


def _permute_shape(inputs: tuple, attrs: dict) -> tuple:
    x, idx = inputs
    if x.shape != idx.shape or idx.dtype.kind not in "iu":
        raise ShapeError(f"permute_along: {describe(idx)} must be integers of the shape of "
                         f"{describe(x)}")
    return x.shape


def permute(x: Node, idx: Node, axis: int, inverse: bool = False) -> Node:
    """``take_along_axis(x, idx, axis)`` for a permutation ``idx`` along ``axis``;
    ``inverse``: the scatter ``out[idx] = x``, which undoes it (each is the other's
    adjoint)."""
    return make(PERMUTE, [x, idx], {"axis": axis, "inverse": bool(inverse)})


PERMUTE = register(Op(
    name="permute_along", latex=operatorname("permute_along"),
    impl=_permute_impl, shape=_permute_shape, dtype=first_dtype,
    vjp=(lambda g, out: permute(g, out.inputs[1], out.attrs["axis"], not out.attrs["inverse"]),
         None),
    jvp=(lambda t, out: permute(t, out.inputs[1], out.attrs["axis"], out.attrs["inverse"]),
         None),
    show_attrs=("axis", "inverse"), batch=batch_along,
))


# --- sort and argsort ------------------------------------------------------------------------


def _order(out: Node) -> Node:
    """The stable argsort of a sort node's input: where each sorted element came from."""
    return make(ARGSORT, [out.inputs[0]], {"axis": out.attrs["axis"]})


ARGSORT = register(Op(
    name="argsort", latex=operatorname("argsort"),
    impl=lambda x, *, axis: np.argsort(x, axis=axis, kind="stable").astype(INT64, copy=False),
    shape=same_shape, dtype=lambda inputs, attrs: INT64,
    vjp=(None,), jvp=(None,),  # integer-valued, piecewise constant: no gradient
    show_attrs=("axis",), defaults={"axis": _last_axis}, batch=batch_along,
    cases=[Case(lambda x: argsort(x), [((2, 3), -1.0, 1.0)], order=0,
                ref=lambda x: np.argsort(x, kind="stable")),
           Case(lambda x: argsort(x, axis=None), [((2, 3), -1.0, 1.0)], order=0,
                ref=lambda x: np.argsort(x, axis=None, kind="stable"))],
))
SORT = register(Op(
    name="sort", latex=operatorname("sort"),
    impl=lambda x, *, axis: np.sort(x, axis=axis, kind="stable"),
    shape=same_shape, dtype=first_dtype,
    # sort(x) = x[argsort(x)]: the cotangent goes back to where each element came from
    vjp=(lambda g, out: permute(g, _order(out), out.attrs["axis"], inverse=True),),
    jvp=(lambda t, out: permute(t, _order(out), out.attrs["axis"]),),
    show_attrs=("axis",), defaults={"axis": _last_axis}, batch=batch_along,
    cases=[Case(lambda x: sort(x), [((2, 3), -1.0, 1.0)], ref=np.sort),
           Case(lambda x: sort(x, axis=0) * x, [((3, 2), -1.0, 1.0)],
                ref=lambda x: np.sort(x, axis=0) * x),
           Case(lambda x: sort(x, axis=None), [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.sort(x, axis=None))],
))
PERMUTE.cases = [  # x * x in sorted order of x, and scattered back
    Case(lambda x: permute(x * x, argsort(x), 1) * x, [((2, 3), -1.0, 1.0)],
         ref=lambda x: np.take_along_axis(x * x, np.argsort(x), 1) * x),
    Case(lambda x: permute(x * x, argsort(x, 0), 0, inverse=True) * x, [((3, 2), -1.0, 1.0)],
         ref=lambda x: _permute_impl(x * x, np.argsort(x, 0), axis=0, inverse=True) * x),
]


def sort_options(who: str, kind: Any, stable: Any) -> None:
    """NumPy's ``kind`` (one of its names) and ``stable`` of a sort: symgraph's sort is
    stable, which each allows, so they only have to be NumPy's."""
    if kind not in (None, "quicksort", "mergesort", "heapsort", "stable"):
        raise SymgraphError(f"{who} sorts with no kind={kind!r}: NumPy's kinds are quicksort, "
                            "mergesort, heapsort and stable")
    if stable not in (None, True, False):
        raise SymgraphError(f"{who} sorts with stable={stable!r}: NumPy's stable is True, "
                            "False or None")


@follows_numpy(np.sort)
def sort(x: Any, axis: int | None = -1, kind: str | None = None, *,
         stable: bool | None = None) -> Node:
    """``x`` sorted along ``axis`` (``None``: flattened), as ``numpy.sort``; NaN last.

    The gradient goes back to where each element came from (ties in input order).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     dv = sg.grad(sg.sort(v)[0], v)      # the gradient of the smallest
    >>> sg.evaluate([sg.sort(v), dv], {v: [3.0, 1.0, 2.0]})
    [array([1., 2., 3.]), array([0., 1., 0.])]
    """
    sort_options("sg.sort", kind, stable)
    x, a = _along(x, axis, "sort")
    return make(SORT, [x], {"axis": a})


@follows_numpy(np.argsort)
def argsort(x: Any, axis: int | None = -1, kind: str | None = None, *,
            stable: bool | None = None) -> Node:
    """Indices (int64) that sort ``x`` along ``axis`` (``None``: flattened), as
    ``numpy.argsort(x, axis, kind="stable")``: ties keep their input order. No gradient
    flows through it.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> sg.evaluate(sg.argsort(v), {v: [3.0, 1.0, 2.0]}).tolist()
    [1, 2, 0]
    """
    sort_options("sg.argsort", kind, stable)
    x, a = _along(x, axis, "argsort")
    return make(ARGSORT, [x], {"axis": a})


# --- cumsum and cumprod ----------------------------------------------------------------------


def _cumsum_impl(x: np.ndarray, *, axis: int, reverse: bool) -> np.ndarray:
    if not reverse:
        return np.cumsum(x, axis=axis)
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


def _cumprod_impl(x: np.ndarray, *, axis: int, reverse: bool) -> np.ndarray:
    if not reverse:
        return np.cumprod(x, axis=axis)
    return np.flip(np.cumprod(np.flip(x, axis), axis=axis), axis)


def _scan(op: Op, x: Node, axis: int, reverse: bool) -> Node:
    return make(op, [x], {"axis": axis, "reverse": bool(reverse)})


def _cumprod_before(out: Node) -> Node:
    """Each element's exclusive product: of the elements before it in scan order."""
    return shift(out, -_later(out), out.attrs["axis"], fill=1.0)


def _cumprod_vjp(g: Node, out: Node) -> Node:
    # dy[i]/dx[k] = prod(x[..k-1]) * prod(x[k+1..i]) for i >= k: the exclusive product
    # times the scan back over g with coefficients x[k+1]: no x in a denominator
    x, axis = out.inputs[0], out.attrs["axis"]
    after = linear_scan(shift(x, _later(out), axis), g, axis, not out.attrs["reverse"])
    return _cumprod_before(out) * after


CUMSUM = register(Op(
    name="cumsum", latex=operatorname("cumsum"),
    impl=_cumsum_impl, shape=same_shape, dtype=accumulating_dtype(np.cumsum),
    # y[i] = sum(x[..i]): the adjoint sums the cotangent from the other end
    vjp=(lambda g, out: _scan(CUMSUM, g, out.attrs["axis"], not out.attrs["reverse"]),),
    jvp=(lambda t, out: _scan(CUMSUM, t, out.attrs["axis"], out.attrs["reverse"]),),
    show_attrs=("axis", "reverse"), batch=batch_along,
    cases=[Case(lambda x: cumsum(x), [((2, 3), -1.0, 1.0)], ref=np.cumsum),
           Case(lambda x: cumsum(x, axis=1) * x, [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.cumsum(x, axis=1) * x),
           Case(lambda x: _scan(CUMSUM, x, 0, True) * x, [((3, 2), -1.0, 1.0)],
                ref=lambda x: np.cumsum(x[::-1], axis=0)[::-1] * x)],
))
CUMPROD = register(Op(
    name="cumprod", latex=operatorname("cumprod"),
    impl=_cumprod_impl, shape=same_shape, dtype=accumulating_dtype(np.cumprod),
    vjp=(_cumprod_vjp,),
    jvp=(lambda t, out: linear_scan(out.inputs[0], t * _cumprod_before(out), out.attrs["axis"],
                                    out.attrs["reverse"]),),
    show_attrs=("axis", "reverse"), batch=batch_along,
    cases=[Case(lambda x: cumprod(x, axis=1), [((2, 3), -1.5, 1.5)],
                ref=lambda x: np.cumprod(x, axis=1)),
           Case(lambda x: cumprod(x), [((2, 3), -1.5, 1.5)], ref=np.cumprod),
           Case(lambda x: cumprod(x, axis=1), [_WITH_ZEROS], ref=lambda x: np.cumprod(x, 1)),
           Case(lambda x: _scan(CUMPROD, x, 1, True), [_WITH_ZEROS],
                ref=lambda x: np.cumprod(x[:, ::-1], axis=1)[:, ::-1]),
           Case(lambda x: cumprod(x, axis=0) * x, [((3, 2), -1.5, 1.5)],
                ref=lambda x: np.cumprod(x, axis=0) * x)],
))


@follows_numpy(np.cumsum)
def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Node:
    """Running sums along ``axis`` (``None``: of the flattened ``x``), as ``numpy.cumsum``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    >>> sg.evaluate(sg.cumsum(m, axis=1), {m: [[1.0, 2.0], [3.0, 4.0]]}).tolist()
    [[1.0, 3.0], [3.0, 7.0]]
    """
    if dtype is not None:
        return in_dtype(lambda v: cumsum(v, axis), x, dtype)
    x, a = _along(x, axis, "cumsum")
    return _scan(CUMSUM, x, a, False)


@follows_numpy(np.cumprod)
def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Node:
    """Running products along ``axis`` (``None``: of the flattened ``x``), as
    ``numpy.cumprod``. The derivatives divide by nothing: they are right, to every order,
    where ``x`` has zeros.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    ...     dv = sg.grad(sg.cumprod(v)[2], v)
    >>> sg.evaluate(dv, {v: [2.0, 0.0, 3.0]}).tolist()
    [0.0, 6.0, 0.0]
    """
    if dtype is not None:
        return in_dtype(lambda v: cumprod(v, axis), x, dtype)
    x, a = _along(x, axis, "cumprod")
    return _scan(CUMPROD, x, a, False)

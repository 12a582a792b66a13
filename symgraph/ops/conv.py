"""Convolution and pooling: ``conv2d max_pool2d avg_pool2d`` (NCHW, OIHW, as PyTorch).

The forward passes read the image through NumPy's strided windows
(``sliding_window_view``: no copy) and contract them with ``tensordot``; nothing loops
over pixels. The derivatives are ops of this family, so they differentiate again:
``conv2d``'s input gradient is a transposed convolution (``conv2d_input_grad``) and its
weight gradient a correlation of the input with the cotangent (``conv2d_weight_grad``);
the three are bilinear and each one's derivatives are the other two. Pooling goes
through ``windows2d`` (the windows as axes) and its adjoint ``window_sum2d`` (adding
windows back into an image); ``max_pool2d`` sends the gradient to the first maximum of
each window (row-major), as ``sg.max`` does.

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case, Op, describe, inexact, make, operands, operatorname, promote, register,
)
from symgraph.ops.elementwise import float_inputs
from symgraph.ops.reduce import FIRST_MAX_MASK, broadcast_to, sum as reduce_sum
from symgraph.ops.shape import expand_dims, reshape, transpose

__all__ = ["conv2d", "max_pool2d", "avg_pool2d"]

Pair = tuple  # (int, int)


def _pair(value: Any, what: str, who: str, low: int) -> Pair:
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       and v >= low for v in pair)):
        raise SymgraphError(f"{who}: {what} must be an int >= {low} or a pair of them, got "
                            f"{value!r}")
    return int(pair[0]), int(pair[1])


def _out_size(n: int | None, k: int | None, s: int, p: int) -> int | None:
    return None if n is None or k is None else (n + 2 * p - k) // s + 1


# --- NumPy kernels ------------------------------------------------------------------------------


def _windows(x: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """The (kh, kw) windows of the last two axes, every stride-th: a view
    ``(..., Ho, Wo, kh, kw)``."""
    view = sliding_window_view(x, kernel, axis=(-2, -1))
    return view[..., :: stride[0], :: stride[1], :, :]


def _window_sum(cols: np.ndarray, size: Pair, stride: Pair) -> np.ndarray:
    """The adjoint of ``_windows``: each window added back where it was read, into an
    image of ``size``. One vectorized add per kernel offset (not per pixel)."""
    *lead, ho, wo, kh, kw = cols.shape
    out = np.zeros((*lead, *size), dtype=cols.dtype)
    sh, sw = stride
    for i in range(kh):
        for j in range(kw):
            out[..., i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw] += cols[..., i, j]
    return out


def _pad(x: np.ndarray, padding: Pair) -> np.ndarray:
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x


def _conv2d_impl(x: np.ndarray, w: np.ndarray, *, stride: Pair, padding: Pair) -> np.ndarray:
    cols = _windows(_pad(x, padding), w.shape[2:], stride)  # (N, C, Ho, Wo, kh, kw)
    out = np.tensordot(cols, w, axes=((1, 4, 5), (1, 2, 3)))  # (N, Ho, Wo, O)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def _input_grad_impl(g: np.ndarray, w: np.ndarray, *, size: Pair, stride: Pair,
                     padding: Pair) -> np.ndarray:
    cols = np.tensordot(g, w, axes=((1,), (0,)))  # (N, Ho, Wo, C, kh, kw)
    (ph, pw), (h, wd) = padding, size
    image = _window_sum(cols.transpose(0, 3, 1, 2, 4, 5), (h + 2 * ph, wd + 2 * pw), stride)
    return np.ascontiguousarray(image[:, :, ph: ph + h, pw: pw + wd])


def _weight_grad_impl(x: np.ndarray, g: np.ndarray, *, kernel: Pair, stride: Pair,
                      padding: Pair) -> np.ndarray:
    cols = _windows(_pad(x, padding), kernel, stride)  # (N, C, Ho, Wo, kh, kw)
    return np.tensordot(g, cols, axes=((0, 2, 3), (0, 2, 3)))  # (O, C, kh, kw)


# --- direct loops: the references the test cases compare with ------------------------------------


def _loop_conv2d(x: np.ndarray, w: np.ndarray, stride: Pair = (1, 1),
                 padding: Pair = (0, 0)) -> np.ndarray:
    xp = _pad(x, padding)
    (sh, sw), (kh, kw) = stride, w.shape[2:]
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            for i in range(ho):
                for j in range(wo):
                    out[n, o, i, j] = np.sum(xp[n, :, i * sh: i * sh + kh, j * sw: j * sw + kw]
                                             * w[o])
    return out


def _loop_input_grad(g: np.ndarray, w: np.ndarray, size: Pair, stride: Pair = (1, 1),
                     padding: Pair = (0, 0)) -> np.ndarray:
    (sh, sw), (ph, pw), (kh, kw) = stride, padding, w.shape[2:]
    out = np.zeros((g.shape[0], w.shape[1], size[0] + 2 * ph, size[1] + 2 * pw))
    for n in range(g.shape[0]):
        for o in range(g.shape[1]):
            for i in range(g.shape[2]):
                for j in range(g.shape[3]):
                    out[n, :, i * sh: i * sh + kh, j * sw: j * sw + kw] += g[n, o, i, j] * w[o]
    return out[:, :, ph: ph + size[0], pw: pw + size[1]]


def _loop_weight_grad(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair = (1, 1),
                      padding: Pair = (0, 0)) -> np.ndarray:
    xp, (sh, sw), (kh, kw) = _pad(x, padding), stride, kernel
    out = np.zeros((g.shape[1], x.shape[1], kh, kw))
    for n in range(g.shape[0]):
        for o in range(g.shape[1]):
            for i in range(g.shape[2]):
                for j in range(g.shape[3]):
                    out[o] += g[n, o, i, j] * xp[n, :, i * sh: i * sh + kh, j * sw: j * sw + kw]
    return out


def _loop_window_sum(cols: np.ndarray, size: Pair, stride: Pair) -> np.ndarray:
    out = np.zeros((*cols.shape[:-4], *size))
    kh, kw = cols.shape[-2:]
    for i in range(cols.shape[-4]):
        for j in range(cols.shape[-3]):
            out[..., i * stride[0]: i * stride[0] + kh, j * stride[1]: j * stride[1] + kw] += (
                cols[..., i, j, :, :])
    return out


def _loop_windows(x: np.ndarray, k: Pair, s: Pair) -> np.ndarray:
    ho, wo = (x.shape[-2] - k[0]) // s[0] + 1, (x.shape[-1] - k[1]) // s[1] + 1
    out = np.zeros((*x.shape[:-2], ho, wo, *k))
    for i in range(ho):
        for j in range(wo):
            out[..., i, j, :, :] = x[..., i * s[0]: i * s[0] + k[0], j * s[1]: j * s[1] + k[1]]
    return out


# --- conv2d and its two derivative ops ---------------------------------------------------------


def _conv_attrs(out: Node) -> dict:
    return {"stride": out.attrs["stride"], "padding": out.attrs["padding"]}


def _conv2d_shape(inputs: tuple, attrs: dict) -> tuple:
    x, w = inputs
    (sh, sw), (ph, pw) = attrs["stride"], attrs["padding"]
    return (x.shape[0], w.shape[0], _out_size(x.shape[2], w.shape[2], sh, ph),
            _out_size(x.shape[3], w.shape[3], sw, pw))


def _merge(a: Node, axis: int) -> Node | None:
    """A batched node ``(B, *s)`` with B merged into its axis ``axis`` (B-major), so an op
    of fixed rank can take it; None if that needs two unknown dimensions."""
    perm = list(range(1, a.ndim))
    perm.insert(axis, 0)
    shape = [-1 if d is None else d for d in a.shape[1:]]
    size = a.shape[0]
    shape[axis] = -1 if shape[axis] == -1 or size is None else size * shape[axis]
    return None if shape.count(-1) > 1 else reshape(transpose(a, tuple(perm)), tuple(shape))


def _split(y: Node, axis: int, size: int | None, width: int | None) -> Node | None:
    """The inverse of ``_merge`` on a result: its axis ``axis`` (``size * width`` long)
    split in two, the batch part moved to the front."""
    shape = [-1 if d is None else d for d in y.shape]
    shape[axis: axis + 1] = [-1 if size is None else size, -1 if width is None else width]
    if shape.count(-1) > 1:
        return None
    perm = list(range(y.ndim + 1))
    perm.insert(0, perm.pop(axis))
    return transpose(reshape(y, tuple(shape)), tuple(perm))


def _batch_bilinear(axes: tuple) -> Any:
    """The vmap rule of a bilinear op of fixed rank: the batched argument's batch axis is
    merged into one of its axes (``axes[i][0]``), which the op carries through to the
    result's axis ``axes[i][1]``, where it is split off again."""
    def rule(node: Node, args: list, batched: tuple) -> Node | None:
        if all(batched):
            return None  # (derivatives are linear in the batched cotangent: never both)
        i = batched.index(True)
        into, out_axis = axes[i]
        merged = _merge(args[i], into)
        if merged is None:
            return None
        new = list(args)
        new[i] = merged
        y = make(node.opdef, new, node.attrs)
        return _split(y, out_axis, args[i].shape[0], node.inputs[i].shape[into])
    return rule


def _channels(a: Node, b: Node, da: int, db: int, who: str) -> None:
    if a.shape[da] is not None and b.shape[db] is not None and a.shape[da] != b.shape[db]:
        raise ShapeError(f"{who}: {describe(a)} and {describe(b)} disagree on the channels "
                         f"({a.shape[da]} against {b.shape[db]})")


def _conv2d_shape(inputs: tuple, attrs: dict) -> tuple:
    x, w = inputs
    _channels(x, w, 1, 1, "conv2d")
    (sh, sw), (ph, pw) = attrs["stride"], attrs["padding"]
    return (x.shape[0], w.shape[0], _out_size(x.shape[2], w.shape[2], sh, ph),
            _out_size(x.shape[3], w.shape[3], sw, pw))


def _input_grad_shape(inputs: tuple, attrs: dict) -> tuple:
    g, w = inputs
    _channels(g, w, 1, 0, "conv2d_input_grad")
    return (g.shape[0], w.shape[1], *attrs["size"])


def _weight_grad_shape(inputs: tuple, attrs: dict) -> tuple:
    x, g = inputs
    return (g.shape[1], x.shape[1], *attrs["kernel"])


def input_grad(g: Node, w: Node, size: Pair, attrs: dict) -> Node:
    return make(CONV2D_INPUT_GRAD, [g, w], {"size": size, **attrs})


def weight_grad(x: Node, g: Node, kernel: Pair, attrs: dict) -> Node:
    return make(CONV2D_WEIGHT_GRAD, [x, g], {"kernel": kernel, **attrs})


def _conv(x: Node, w: Node, attrs: dict) -> Node:
    return make(CONV2D, [x, w], attrs)


# <g, conv2d(x, w)> = <input_grad(g, w), x> = <weight_grad(x, g), w>: each op's vjps are
# the other two, with the roles of the arguments read off this identity.
CONV2D = register(Op(
    name="conv2d", latex=operatorname("conv2d"),
    impl=_conv2d_impl, shape=_conv2d_shape, dtype=promote,
    vjp=(lambda g, out: input_grad(g, out.inputs[1], out.inputs[0].shape[2:], _conv_attrs(out)),
         lambda g, out: weight_grad(out.inputs[0], g, out.inputs[1].shape[2:], _conv_attrs(out))),
    jvp=(lambda t, out: _conv(t, out.inputs[1], out.attrs),
         lambda t, out: _conv(out.inputs[0], t, out.attrs)),
    show_attrs=("stride", "padding"), defaults={"stride": (1, 1), "padding": (0, 0)},
    batch=_batch_bilinear(((0, 0), (0, 1))),
    cases=[Case(lambda x, w: conv2d(x, w), [((1, 2, 5, 5), -1.0, 1.0), ((3, 2, 3, 3), -1.0, 1.0)],
                ref=_loop_conv2d),
           Case(lambda x, w: conv2d(x, w, stride=(2, 1), padding=(1, 0)),
                [((2, 1, 5, 4), -1.0, 1.0), ((2, 1, 3, 2), -1.0, 1.0)],
                ref=lambda x, w: _loop_conv2d(x, w, (2, 1), (1, 0))),
           # (6 - 3) % 2: the last row and column of x are read by no window
           Case(lambda x, w: conv2d(x, w, stride=2), [((1, 1, 6, 6), -1.0, 1.0),
                                                      ((2, 1, 3, 3), -1.0, 1.0)],
                ref=lambda x, w: _loop_conv2d(x, w, (2, 2)))],
))
CONV2D_INPUT_GRAD = register(Op(
    name="conv2d_input_grad", latex=operatorname("conv2d_input_grad"),
    impl=_input_grad_impl, shape=_input_grad_shape, dtype=promote,
    vjp=(lambda c, out: _conv(c, out.inputs[1], _conv_attrs(out)),
         lambda c, out: weight_grad(c, out.inputs[0], out.inputs[1].shape[2:], _conv_attrs(out))),
    jvp=(lambda t, out: make(CONV2D_INPUT_GRAD, [t, out.inputs[1]], out.attrs),
         lambda t, out: make(CONV2D_INPUT_GRAD, [out.inputs[0], t], out.attrs)),
    show_attrs=("size", "stride", "padding"), defaults={"stride": (1, 1), "padding": (0, 0)},
    batch=_batch_bilinear(((0, 0), (1, 1))),
    cases=[Case(lambda g, w: input_grad(g, w, (6, 5), {"stride": (2, 1), "padding": (1, 0)}),
                [((2, 2, 3, 4), -1.0, 1.0), ((2, 3, 3, 2), -1.0, 1.0)],
                ref=lambda g, w: _loop_input_grad(g, w, (6, 5), (2, 1), (1, 0)))],
))
CONV2D_WEIGHT_GRAD = register(Op(
    name="conv2d_weight_grad", latex=operatorname("conv2d_weight_grad"),
    impl=_weight_grad_impl, shape=_weight_grad_shape, dtype=promote,
    vjp=(lambda c, out: input_grad(out.inputs[1], c, out.inputs[0].shape[2:], _conv_attrs(out)),
         lambda c, out: _conv(out.inputs[0], c, _conv_attrs(out))),
    jvp=(lambda t, out: make(CONV2D_WEIGHT_GRAD, [t, out.inputs[1]], out.attrs),
         lambda t, out: make(CONV2D_WEIGHT_GRAD, [out.inputs[0], t], out.attrs)),
    show_attrs=("kernel", "stride", "padding"), defaults={"stride": (1, 1), "padding": (0, 0)},
    batch=_batch_bilinear(((1, 1), (1, 0))),
    cases=[Case(lambda x, g: weight_grad(x, g, (3, 2), {"stride": (2, 1), "padding": (1, 0)}),
                [((2, 3, 6, 5), -1.0, 1.0), ((2, 2, 3, 4), -1.0, 1.0)],
                ref=lambda x, g: _loop_weight_grad(x, g, (3, 2), (2, 1), (1, 0)))],
))


def conv2d(x: Any, w: Any, stride: int | Pair = 1, padding: int | Pair = 0) -> Node:
    """2-D cross-correlation of images ``x`` (N, C, H, W) with filters ``w`` (O, C, kh, kw),
    as PyTorch's ``F.conv2d`` (no bias: add one, ``+ b[:, None, None]``); ``stride`` and
    ``padding`` (zeros on every side) are ints or (height, width) pairs. The result is
    (N, O, Ho, Wo) with ``Ho = (H + 2*padding - kh) // stride + 1``. H and W must be
    static; N may be None.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(None, 1, 4, 4))
    ...     w = sg.var("w", shape=(2, 1, 3, 3))
    ...     y = sg.nn.conv2d(x, w, padding=1)
    >>> y.shape
    (None, 2, 4, 4)
    >>> out = sg.evaluate(y, {x: np.ones((1, 1, 4, 4)), w: np.ones((2, 1, 3, 3))})
    >>> out[0, 0].tolist()[0]   # a corner window holds 4 ones, an edge window 6
    [4.0, 6.0, 6.0, 4.0]
    """
    who = "conv2d"
    x, w = float_inputs(CONV2D, operands([x, w], who))  # (ints become float64)
    for node, what in ((x, "the input (N, C, H, W)"), (w, "the weights (O, C, kh, kw)")):
        if node.ndim != 4:
            raise ShapeError(f"{who}: {describe(node)} must be 4-D: {what}")
    if None in x.shape[2:] or None in w.shape[2:]:
        raise ShapeError(f"{who}: the height and width of {describe(x)} and the kernel size "
                         f"of {describe(w)} must be static (only N and the channels may be None)")
    attrs = {"stride": _pair(stride, "stride", who, 1), "padding": _pair(padding, "padding", who, 0)}
    for d in (0, 1):
        if _out_size(x.shape[2 + d], w.shape[2 + d], attrs["stride"][d], attrs["padding"][d]) < 1:
            raise ShapeError(f"{who}: the kernel of {describe(w)} is larger than the padded "
                             f"image {describe(x)}")
    return make(CONV2D, [x, w], attrs)


# --- pooling ----------------------------------------------------------------------------------


def _pool_shape(inputs: tuple, attrs: dict) -> tuple:
    x, (kh, kw), (sh, sw) = inputs[0], attrs["kernel"], attrs["stride"]
    return (*x.shape[:-2], _out_size(x.shape[-2], kh, sh, 0), _out_size(x.shape[-1], kw, sw, 0))


def _pool_attrs(out: Node) -> dict:
    return {"kernel": out.attrs["kernel"], "stride": out.attrs["stride"]}


def windows(x: Node, attrs: dict) -> Node:
    return make(WINDOWS2D, [x], attrs)


def window_sum(cols: Node, size: Pair, stride: Pair) -> Node:
    return make(WINDOW_SUM2D, [cols], {"size": size, "stride": stride})


def _same_op(node: Node, args: list, batched: tuple) -> Node:
    return make(node.opdef, args, node.attrs)  # (ops over the last axes: leading ones are free)


def _spread(g: Node, out: Node) -> Node:
    """A pooled cotangent ``(..., Ho, Wo)`` copied to every element of its window."""
    x = out.inputs[0]
    shape = (*out.shape, *out.attrs["kernel"])
    return broadcast_to(expand_dims(g, (-2, -1)), shape if None not in shape
                        else windows(x, _pool_attrs(out)))


def _max_mask(out: Node) -> Node:
    cols = windows(out.inputs[0], _pool_attrs(out))
    return make(FIRST_MAX_MASK, [cols], {"axis": (cols.ndim - 2, cols.ndim - 1)})


WINDOWS2D = register(Op(
    name="windows2d", latex=operatorname("windows2d"),
    impl=lambda x, *, kernel, stride: _windows(x, kernel, stride),
    shape=lambda inputs, attrs: (*_pool_shape(inputs, attrs), *attrs["kernel"]),
    dtype=lambda inputs, attrs: inputs[0].dtype, show_attrs=("kernel", "stride"),
    vjp=(lambda g, out: window_sum(g, out.inputs[0].shape[-2:], out.attrs["stride"]),),
    jvp=(lambda t, out: windows(t, out.attrs),),
    batch=_same_op,
    cases=[Case(lambda x: windows(x, {"kernel": (2, 3), "stride": (1, 2)}),
                [((2, 4, 5), -1.0, 1.0)],
                ref=lambda x: _loop_windows(x, (2, 3), (1, 2)))],
))
WINDOW_SUM2D = register(Op(
    name="window_sum2d", latex=operatorname("window_sum2d"),
    impl=lambda cols, *, size, stride: _window_sum(cols, size, stride),
    shape=lambda inputs, attrs: (*inputs[0].shape[:-4], *attrs["size"]),
    dtype=lambda inputs, attrs: inputs[0].dtype, show_attrs=("size", "stride"),
    vjp=(lambda g, out: windows(g, {"kernel": out.inputs[0].shape[-2:],
                                    "stride": out.attrs["stride"]}),),
    jvp=(lambda t, out: make(WINDOW_SUM2D, [t], out.attrs),),
    batch=_same_op,
    # (overlapping windows of a 4x5 image, stride (1, 2), added back)
    cases=[Case(lambda c: window_sum(c, (4, 5), (1, 2)), [((2, 3, 2, 2, 3), -1.0, 1.0)],
                ref=lambda c: _loop_window_sum(c, (4, 5), (1, 2)))],
))
# a stride equal to the kernel size (the default) is not printed
_POOL_DEFAULTS = {"stride": lambda node: node.attrs["kernel"]}
MAX_POOL2D = register(Op(
    name="max_pool2d", latex=operatorname("max_pool2d"),
    impl=lambda x, *, kernel, stride: np.max(_windows(x, kernel, stride), axis=(-2, -1)),
    shape=_pool_shape, dtype=lambda inputs, attrs: inputs[0].dtype,
    # the gradient goes to the first maximum of each window (the mask has no derivative)
    vjp=(lambda g, out: window_sum(_max_mask(out) * _spread(g, out),
                                   out.inputs[0].shape[-2:], out.attrs["stride"]),),
    jvp=(lambda t, out: reduce_sum(_max_mask(out) * windows(t, _pool_attrs(out)), (-2, -1)),),
    show_attrs=("kernel", "stride"), defaults=_POOL_DEFAULTS, batch=_same_op,
    cases=[Case(lambda x: max_pool2d(x, 2), [((1, 2, 4, 5), -1.0, 1.0)],
                ref=lambda x: _loop_windows(x, (2, 2), (2, 2)).max(axis=(-2, -1))),
           # overlapping windows: an element may be the maximum of several
           Case(lambda x: max_pool2d(x, (2, 3), stride=1), [((2, 3, 4), -1.0, 1.0)],
                ref=lambda x: _loop_windows(x, (2, 3), (1, 1)).max(axis=(-2, -1)))],
))
AVG_POOL2D = register(Op(
    name="avg_pool2d", latex=operatorname("avg_pool2d"),
    impl=lambda x, *, kernel, stride: np.mean(_windows(x, kernel, stride), axis=(-2, -1)),
    shape=_pool_shape, dtype=inexact,
    vjp=(lambda g, out: window_sum(_spread(g, out) / float(np.prod(out.attrs["kernel"])),
                                   out.inputs[0].shape[-2:], out.attrs["stride"]),),
    jvp=(lambda t, out: make(AVG_POOL2D, [t], out.attrs),),
    show_attrs=("kernel", "stride"), defaults=_POOL_DEFAULTS, batch=_same_op,
    cases=[Case(lambda x: avg_pool2d(x, 2) ** 2, [((1, 2, 4, 5), -1.0, 1.0)],
                ref=lambda x: _loop_windows(x, (2, 2), (2, 2)).mean(axis=(-2, -1)) ** 2),
           Case(lambda x: avg_pool2d(x, (3, 2), stride=(1, 2)), [((2, 4, 4), -1.0, 1.0)],
                ref=lambda x: _loop_windows(x, (3, 2), (1, 2)).mean(axis=(-2, -1)))],
))


def _pool(op: Op, x: Any, kernel: int | Pair, stride: int | Pair | None) -> Node:
    who = op.name
    (x,) = operands([x], who)
    if op is AVG_POOL2D:
        (x,) = float_inputs(op, [x])  # (the mean of integers is float64, as in NumPy)
    if x.ndim < 2 or None in x.shape[-2:]:
        raise ShapeError(f"{who}: {describe(x)} must have static height and width as its last "
                         "two axes (N, C, H, W or C, H, W)")
    k = _pair(kernel, "the kernel size", who, 1)
    attrs = {"kernel": k, "stride": k if stride is None else _pair(stride, "stride", who, 1)}
    if k[0] > x.shape[-2] or k[1] > x.shape[-1]:
        raise ShapeError(f"{who}: the window {k} is larger than the image {describe(x)}")
    return make(op, [x], attrs)


def max_pool2d(x: Any, k: int | Pair, stride: int | Pair | None = None) -> Node:
    """The maximum of each ``k`` by ``k`` window (or ``k = (kh, kw)``) of the last two axes
    (N, C, H, W or C, H, W), windows ``stride`` apart (``k`` by default, as PyTorch), without
    padding; rows and columns that fill no window are left out. The gradient goes to the
    first maximum of each window (row-major), as ``sg.max`` does.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(1, 1, 2, 4))
    ...     y = sg.nn.max_pool2d(x, 2)
    ...     dx = sg.grad(sg.sum(y), x)
    >>> image = np.array([[[[1.0, 2.0, 5.0, 5.0], [0.0, 2.0, 5.0, 1.0]]]])
    >>> sg.evaluate(y, {x: image}).tolist(), sg.evaluate(dx, {x: image})[0, 0].tolist()
    ([[[[2.0, 5.0]]]], [[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    """
    return _pool(MAX_POOL2D, x, k, stride)


def avg_pool2d(x: Any, k: int | Pair, stride: int | Pair | None = None) -> Node:
    """The mean of each ``k`` by ``k`` window (or ``k = (kh, kw)``) of the last two axes,
    windows ``stride`` apart (``k`` by default), without padding, as PyTorch's
    ``F.avg_pool2d``.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(1, 2, 4))
    >>> sg.evaluate(sg.nn.avg_pool2d(x, 2), {x: np.arange(8.0).reshape(1, 2, 4)}).tolist()
    [[[2.5, 4.5]]]
    """
    return _pool(AVG_POOL2D, x, k, stride)

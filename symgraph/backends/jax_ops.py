"""How the ``jax`` backend computes each op: ``jax.numpy``/``jax.lax`` functions.

Owns :func:`lowering` and :func:`lowering_of` (the function of JAX arrays that computes a
node; an op's own ``Op.lowerings["jax"]`` first) and the table
``OVERRIDES``, keyed by the op record (never by an op's name), for the ops whose NumPy
array-API function is not enough: shape-only inputs, scatters and gathers, the private
derivative ops, softmax and friends, windows and convolutions, and the ops where jnp
answers otherwise than NumPy in a detail (``symgraph.backends.jax_parity``: signs of zero,
ties, accumulator dtypes). Every other op with an
``array_api`` name is ``getattr(jnp, name)(*arrays, **attrs)``; jax.numpy takes the same
keywords as NumPy for every such op of symgraph (the registry test checks them all).

An override is ``fn(node, checks, *arrays)``; ``checks`` collects ``(node, flag)``: a
traced boolean that is true where an index is out of range (JAX cannot raise inside
``jit``; the compiled function raises after the call, naming the node, as evaluate does).

Imported only by ``symgraph.backends.jax``, when the jax backend is used: it imports jax.

Imports: jax, ``symgraph.ops``, ``symgraph.backends.jax_parity``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from symgraph.backends import jax_parity as parity
from symgraph.backends.base import check_shape
from symgraph.graph import Node
from symgraph.ops import (
    arithmetic,
    contract,
    conv,
    diagonals,
    factor,
    gather,
    layout,
    linalg,
    nn,
    numbers,
    reduce,
    rounding,
    shape,
    sorting,
    special,
    spectral,
    statistics,
)
from symgraph.ops import elementwise as ew
from symgraph.ops import functions as fn
from symgraph.ops.core import Op
from symgraph.ops.shape import numpy_index

Lowered = Callable[..., Any]
_HIGHEST = lax.Precision.HIGHEST  # (the float32 matmuls of a GPU default to TF32 otherwise)
# (out-of-range indices raise after the call: see the module docstring)
_CLIP = lax.GatherScatterMode.CLIP


def _out_of_range(where: str, n: int) -> str:
    return f"an index is out of range for {where} of size {n}; indices must lie in [{-n}, {n})"


def _range_flag(a: Any, n: int) -> Any:
    return jnp.any((a < -n) | (a >= n))


def _key(node: Node, checks: list, index: tuple, idx: tuple, shape: tuple) -> tuple:
    """JAX's index for an array of ``shape`` (``gather.index_key``); each index array's
    range check goes to ``checks``."""
    def checked(a: Any, n: int, axis: int) -> Any:
        checks.append((node, _range_flag(a, n), _out_of_range(f"axis {axis}", n)))
        return a
    return gather.index_key(index, idx, shape, checked)


def _gather(node: Node, checks: list, x: Any, *idx: Any) -> Any:
    return x[_key(node, checks, node.attrs["index"], idx, x.shape)]


def _add_at(node: Node, checks: list, g: Any, ref: Any, *idx: Any) -> Any:
    shape_, ref_shape = node.attrs["shape"], ref.shape
    lead = len(shape_) - len(ref_shape)
    target = tuple(ref_shape[k - lead] if d is None else d for k, d in enumerate(shape_))
    key = _key(node, checks, node.attrs["index"], idx, target)
    return jnp.zeros(target, g.dtype).at[key].add(g)


def _pad_widths(index: tuple, shape: tuple) -> list | None:
    """``index`` (canonical) as the widths of a zero padding of ``shape``, where it holds
    only unit-step slices: then scatter is a pad, which XLA fuses with its neighbours
    (a scatter, a dynamic-update-slice, makes a pass of its own)."""
    where = numpy_index(index)
    if len(where) > len(shape) or not all(isinstance(i, slice) for i in where):
        return None
    widths = []
    for k, n in enumerate(shape):
        start, stop, step = (where[k] if k < len(where) else slice(None)).indices(n)
        if step != 1:
            return None
        stop = max(stop, start)
        widths.append((start, n - stop))
    return widths


def _pad_into(g: Any, widths: list, target: tuple) -> Any:
    inner = tuple(n - lo - hi for n, (lo, hi) in zip(target, widths))
    return jnp.pad(jnp.broadcast_to(g, inner), widths)


def _scatter(node: Node, checks: list, g: Any, ref: Any = None) -> Any:
    target = node.attrs["shape"] if ref is None else ref.shape
    widths = _pad_widths(node.attrs["index"], target)
    if widths is not None:
        return _pad_into(g, widths, target)
    return jnp.zeros(target, g.dtype).at[numpy_index(node.attrs["index"])].set(g)


def _scatter_add(node: Node, checks: list, b: Any, g: Any) -> Any:
    widths = _pad_widths(node.attrs["index"], b.shape)
    if widths is not None:  # b + g inside, b + 0.0 outside: exactly b + pad(g)
        padded = _pad_into(g, widths, b.shape)
        # the same sum either way (addition commutes bit for bit); XLA's CPU loop is faster
        # with the pad that starts at the front as the first addend (measured on the W4b
        # Hessian-vector product, n = 1e5: 250 us with it second, 190 us first, as JAX's)
        r = padded + b if not any(lo for lo, _ in widths) else b + padded
        if not jnp.issubdtype(r.dtype, jnp.inexact):
            return r
        # XLA folds the border's 0.0 + b to b, keeping a -0.0 that NumPy's 0.0 + -0.0 makes
        # 0.0: the border slabs are made +0.0 afterwards, in place (an exact add or a
        # select over the whole array doubled the W4b Hessian-vector product's time)
        for k, (lo, hi) in enumerate(widths):
            for part in (slice(0, lo) if lo else None, slice(r.shape[k] - hi, None) if hi
                         else None):
                if part is not None:
                    slab = (slice(None),) * k + (part,)
                    r = r.at[slab].set(parity.plus_zero(r[slab]))
        return r
    where = numpy_index(node.attrs["index"])
    # as scatter(g) + b: b + g inside, b + 0.0 outside (-0.0 becomes 0.0)
    # (XLA folds b + 0.0 to b, and b[where] + g to g where it knows b[where] is a 0.0)
    return parity.plus_zero(b).at[where].set(parity.add_exact(b[where], g))


def _take_along(node: Node, checks: list, x: Any, idx: Any) -> Any:
    axis = node.attrs["axis"]
    checks.append((node, _range_flag(idx, x.shape[axis]),
                   _out_of_range(f"axis {axis}", x.shape[axis])))
    return jnp.take_along_axis(x, idx, axis=axis, mode=_CLIP)


def _one_hot(node: Node, checks: list, idx: Any) -> Any:
    n = node.attrs["n"]
    checks.append((node, _range_flag(idx, n), _out_of_range("one_hot's classes", n)))
    # (the barrier: see _first_max_mask)
    return lax.optimization_barrier((idx[..., None] % n == jnp.arange(n)).astype(node.dtype))


def _sum_to(node: Node, checks: list, x: Any, ref: Any = None) -> Any:
    target = node.attrs["shape"] if ref is None else ref.shape
    lead = x.ndim - len(target)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(target) if d == 1 and x.shape[lead + i] != 1)
    if not axes:
        return x.reshape(target)  # (as the NumPy impl: no sum, -0.0 kept)
    return parity.plus_zero(jnp.sum(x, axis=axes, keepdims=True).reshape(target))


def _first_max_mask(node: Node, checks: list, x: Any) -> Any:
    axis = node.attrs["axis"]
    axes = tuple(range(x.ndim)) if axis is None else tuple(axis)
    keep = [a for a in range(x.ndim) if a not in axes]
    moved = jnp.transpose(x, keep + list(axes))
    flat = moved.reshape(moved.shape[: len(keep)] + (math.prod(moved.shape[len(keep):]),))
    mask = (jnp.argmax(flat, axis=-1)[..., None] == jnp.arange(flat.shape[-1])).astype(x.dtype)
    # the barrier: XLA rewrites g * convert(mask) as select(mask, g, 0), which makes
    # NaN * 0 zero where NumPy (and evaluate) give NaN
    return lax.optimization_barrier(
        jnp.transpose(mask.reshape(moved.shape), np.argsort(keep + list(axes))))


def _top(x: Any, axis: Any) -> Any:
    # -inf over an empty axis, as the NumPy impl (nn._top): jnp.max refuses it
    initial = -jnp.inf if nn.empty_axis(x.shape, axis) else None
    return jnp.max(x, axis=axis, keepdims=True, initial=initial)


def _shifted(x: Any, axis: Any) -> Any:
    top = _top(x, axis)
    return x - jnp.where(jnp.isfinite(top), top, 0)


def _logsumexp(node: Node, checks: list, x: Any) -> Any:
    axis, keepdims = node.attrs["axis"], node.attrs["keepdims"]
    top = _top(x, axis)
    top = jnp.where(jnp.isfinite(top), top, 0)
    out = jnp.log(jnp.sum(jnp.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else jnp.squeeze(out, axis=axis)


def _softmax(node: Node, checks: list, x: Any) -> Any:
    e = jnp.exp(_shifted(x, node.attrs["axis"]))
    return e / jnp.sum(e, axis=node.attrs["axis"], keepdims=True)


def _log_softmax(node: Node, checks: list, x: Any) -> Any:
    s = _shifted(x, node.attrs["axis"])
    return s - jnp.log(jnp.sum(jnp.exp(s), axis=node.attrs["axis"], keepdims=True))


def _sigmoid(node: Node, checks: list, x: Any) -> Any:
    e = jnp.exp(-jnp.abs(x))  # as the NumPy impl: exact in each half
    return jnp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _flip_scan(f: Callable) -> Lowered:
    def run(node: Node, checks: list, x: Any) -> Any:
        axis = node.attrs["axis"]
        if not node.attrs["reverse"]:
            return f(x, axis=axis)
        return jnp.flip(f(jnp.flip(x, axis), axis=axis), axis)
    return run


def _linear_scan(node: Node, checks: list, a: Any, b: Any) -> Any:
    """h[k] = a[k] h[k-1] + b[k], one step per element, as the NumPy impl (lax.scan)."""
    axis, reverse = node.attrs["axis"], node.attrs["reverse"]
    dtype = jnp.result_type(a, b)
    a, b = jnp.broadcast_to(a, b.shape).astype(dtype), b.astype(dtype)
    av, bv = (jnp.moveaxis(v, axis, 0) for v in (a, b))
    if reverse:
        av, bv = av[::-1], bv[::-1]
    if bv.shape[0] == 0:
        return b

    def step(h: Any, ab: tuple) -> tuple:
        h = ab[0] * h + ab[1]
        return h, h
    _, rest = lax.scan(step, bv[0], (av[1:], bv[1:]))
    out = jnp.concatenate([bv[:1], rest])
    return jnp.moveaxis(out[::-1] if reverse else out, 0, axis)


def _permute(node: Node, checks: list, x: Any, idx: Any) -> Any:
    axis = node.attrs["axis"]
    if not node.attrs["inverse"]:
        return jnp.take_along_axis(x, idx, axis=axis, mode=_CLIP)
    out = jnp.zeros(jnp.broadcast_shapes(x.shape, idx.shape), x.dtype)
    return jnp.put_along_axis(out, idx, x, axis=axis, inplace=False)


def _shift(node: Node, checks: list, x: Any) -> Any:
    axis, by, fill = node.attrs["axis"], node.attrs["by"], node.attrs["fill"]
    out = jnp.full_like(x, fill)
    n = x.shape[axis]
    if abs(by) >= n:
        return out
    src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    src[axis], dst[axis] = ((slice(0, n - by), slice(by, n)) if by >= 0
                            else (slice(-by, n), slice(0, n + by)))
    return out.at[tuple(dst)].set(x[tuple(src)])


def _repeat(node: Node, checks: list, x: Any) -> Any:
    repeats, axis = node.attrs["repeats"], node.attrs["axis"]
    if isinstance(repeats, int):
        return jnp.repeat(x, repeats, axis=axis)
    return jnp.repeat(x, np.asarray(repeats), axis=axis, total_repeat_length=sum(repeats))


def _diag(node: Node, checks: list, g: Any, ref: Any = None) -> Any:
    k, axis1, axis2 = node.attrs["k"], node.attrs["axis1"], node.attrs["axis2"]
    m = g.shape[-1]
    if ref is not None:
        n1, n2 = ref.shape[axis1], ref.shape[axis2]
    else:
        n1, n2 = (diagonals._square(n, m, k) for n in node.attrs["size"])
    out = jnp.zeros((*g.shape[:-1], n1, n2), g.dtype)
    i = np.arange(m)
    out = out.at[..., i + max(-k, 0), i + max(k, 0)].set(g)
    return jnp.moveaxis(out, (-2, -1), (axis1, axis2))


def _windows(x: Any, kernel: tuple, stride: tuple) -> Any:
    """The (kh, kw) windows of the last two axes, every stride-th: ``(..., Ho, Wo, kh, kw)``."""
    (kh, kw), (sh, sw) = kernel, stride
    ho, wo = (x.shape[-2] - kh) // sh + 1, (x.shape[-1] - kw) // sw + 1
    rows = [jnp.stack([x[..., i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw]
                       for j in range(kw)], -1) for i in range(kh)]
    return jnp.stack(rows, -2)


def _window_sum(cols: Any, size: tuple, stride: tuple) -> Any:
    # (into zeros as the NumPy impl: 0.0 + -0.0 is 0.0, where XLA's add into a known zero
    # keeps a lone -0.0)
    return parity.plus_zero(_window_add(cols, size, stride))


def _window_add(cols: Any, size: tuple, stride: tuple) -> Any:
    *lead, ho, wo, kh, kw = cols.shape
    out = jnp.zeros((*lead, *size), cols.dtype)
    sh, sw = stride
    for i in range(kh):
        for j in range(kw):
            out = out.at[..., i: i + sh * (ho - 1) + 1: sh,
                         j: j + sw * (wo - 1) + 1: sw].add(cols[..., i, j])
    return out


def _pad(x: Any, padding: tuple) -> Any:
    ph, pw = padding
    return jnp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x


def _conv2d(node: Node, checks: list, x: Any, w: Any) -> Any:
    # windows and a tensordot, as the NumPy impl: XLA's CPU convolution drops NaN and inf
    # of some windows (measured: finite outputs beside a NaN weight), evaluate keeps them
    cols = _windows(_pad(x, node.attrs["padding"]), w.shape[2:], node.attrs["stride"])
    out = jnp.tensordot(cols, w, axes=((1, 4, 5), (1, 2, 3)), precision=_HIGHEST)
    return out.transpose(0, 3, 1, 2)


def _conv_input_grad(node: Node, checks: list, g: Any, w: Any) -> Any:
    cols = jnp.tensordot(g, w, axes=((1,), (0,)), precision=_HIGHEST)  # (N, Ho, Wo, C, kh, kw)
    (ph, pw), (h, wd) = node.attrs["padding"], node.attrs["size"]
    image = _window_sum(cols.transpose(0, 3, 1, 2, 4, 5), (h + 2 * ph, wd + 2 * pw),
                        node.attrs["stride"])
    return image[:, :, ph: ph + h, pw: pw + wd]


def _conv_weight_grad(node: Node, checks: list, x: Any, g: Any) -> Any:
    cols = _windows(_pad(x, node.attrs["padding"]), node.attrs["kernel"], node.attrs["stride"])
    return jnp.tensordot(g, cols, axes=((0, 2, 3), (0, 2, 3)), precision=_HIGHEST)


def _pool(reduce_: Callable) -> Lowered:
    def run(node: Node, checks: list, x: Any) -> Any:
        return reduce_(_windows(x, node.attrs["kernel"], node.attrs["stride"]), axis=(-2, -1))
    return run


def _guarded(f: Callable, a: Any) -> tuple[Any, Any]:
    """``f(a)`` with each matrix of the batch holding NaN or inf replaced by the identity
    (then spoiled to NaN by :func:`_spoil`), as evaluate's LAPACK guard; and the mask of
    the finite matrices."""
    ok = jnp.all(jnp.isfinite(a), axis=(-2, -1))
    return f(jnp.where(ok[..., None, None], a, jnp.eye(*a.shape[-2:], dtype=a.dtype))), ok


def _spoil(r: Any, ok: Any, core: int) -> Any:
    return jnp.where(ok[(..., *[None] * core)], r, jnp.nan)


def _pack(factors: Callable[..., tuple]) -> Lowered:
    """A decomposition's hidden op: every factor flattened, side by side, as the NumPy
    impl packs them (the result ops slice the pack with their own impl)."""
    def run(node: Node, checks: list, a: Any) -> Any:
        batch = a.shape[:-2]
        parts, ok = _guarded(lambda m: factors(m, **node.attrs), a)
        return _spoil(jnp.concatenate([jnp.reshape(f, (*batch, -1)) for f in parts], -1), ok, 1)
    return run


_SINGULAR = "the matrix is singular, so it has no inverse; give an invertible matrix"
_NOT_PD = ("the matrix is not positive definite; cholesky needs a symmetric positive-definite "
           "matrix")


def _invertible(f: Callable) -> Lowered:
    """inv or solve: a finite matrix whose result is not finite was singular (LU met a zero
    pivot), where evaluate raises: the call raises after computing."""
    def run(node: Node, checks: list, a: Any, *rest: Any) -> Any:
        core = 1 if node.attrs.get("vector") else 2
        r, ok = _guarded(lambda m: f(node, m, *rest), a)
        fine = jnp.isfinite(r) | _spoilt(rest, r, core)
        fine = jnp.all(fine, axis=tuple(range(-core, 0)))
        checks.append((node, jnp.any(ok & ~fine), _SINGULAR))
        return _spoil(r, ok, core)
    return run


def _spoilt(rest: tuple, r: Any, core: int) -> Any:
    """Where the result may be non-finite without a singular matrix: each solution whose
    ``b`` (solve) holds NaN or inf anywhere (a column of a matrix ``b``, all of a vector
    one: the substitutions spread it over the whole solution); nowhere for inv."""
    if not rest:
        return jnp.zeros(r.shape, bool)
    b = jnp.broadcast_to(rest[0], r.shape)
    return jnp.broadcast_to(~jnp.all(jnp.isfinite(b), axis=-core, keepdims=True), r.shape)


def _solve(node: Node, a: Any, b: Any) -> Any:
    if node.attrs["vector"]:
        return jnp.linalg.solve(a, b[..., None])[..., 0]
    return jnp.linalg.solve(a, b)


def _cholesky(node: Node, checks: list, a: Any) -> Any:
    low, ok = _guarded(lambda m: jnp.linalg.cholesky(m, symmetrize_input=False), a)
    checks.append((node, jnp.any(ok & jnp.any(jnp.isnan(low), axis=(-2, -1))), _NOT_PD))
    return _spoil(low, ok, 2)


def _det(f: Callable) -> Lowered:
    def run(node: Node, checks: list, a: Any) -> Any:
        r, ok = _guarded(f, a)
        return _spoil(r, ok, 0)
    return run


def _slice_impl(op: Op) -> Lowered:
    """A result op of a decomposition: its impl only slices and reshapes its pack."""
    return lambda node, checks, *arrays: op.impl(*arrays, **node.attrs)


_SHAPE_OF = {  # op -> jnp function of (x, shape) for the ops with a shape-only input
    reduce.BROADCAST_TO: jnp.broadcast_to, shape.RESHAPE: jnp.reshape}


def _shaped(f: Callable) -> Lowered:
    return lambda node, checks, x, ref=None: f(x, node.attrs["shape"] if ref is None
                                               else ref.shape)


OVERRIDES: dict[Op, Lowered] = {
    gather.GATHER: _gather, gather.ADD_AT: parity.summed(_add_at),
    gather.TAKE_ALONG_AXIS: _take_along,
    gather.ONE_HOT: _one_hot, shape.SCATTER: _scatter, shape.SCATTER_ADD: _scatter_add,
    shape.GETITEM: lambda node, checks, x: x[numpy_index(node.attrs["index"])],
    shape.CONCATENATE: lambda node, checks, *xs: jnp.concatenate(xs, node.attrs["axis"]),
    shape.STACK: lambda node, checks, *xs: jnp.stack(xs, node.attrs["axis"]),
    **{op: _shaped(f) for op, f in _SHAPE_OF.items()},
    reduce.SUM_TO: _sum_to, conv.FIRST_MAX_MASK: _first_max_mask,
    reduce.COUNT: lambda node, checks, x: jnp.asarray(math.prod(
        x.shape[a] for a in (range(x.ndim) if node.attrs["axis"] is None
                             else node.attrs["axis"])), node.dtype),
    ew.CAST: lambda node, checks, x: x.astype(node.attrs["dtype"]),
    fn.STOP_GRADIENT: lambda node, checks, x: x,  # the graph already holds the derivative
    fn.RELU: lambda node, checks, x: jnp.maximum(x, 0),
    fn.SIGMOID: _sigmoid, fn.SIGN: parity.sign, rounding.MOD: parity.mod,
    rounding.FLOOR_DIVIDE: parity.floor_divide, special.ERF: lambda node, checks, x: lax.erf(x),
    rounding.CLIP: parity.clip,
    arithmetic.MAXIMUM: parity.maximum, arithmetic.MINIMUM: parity.minimum,
    arithmetic.POWER: parity.power,
    fn.SOFTPLUS: lambda node, checks, x: jnp.logaddexp(0.0, x),
    # the exponent back to an integer (the backend promotes an elementwise op's inputs to
    # their common dtype, float64 here; its values are exact there)
    numbers.LDEXP: lambda node, checks, x, n: jnp.ldexp(x, n.astype(jnp.int64)),
    nn.SOFTMAX: _softmax, nn.LOG_SOFTMAX: _log_softmax, nn.LOGSUMEXP: _logsumexp,
    rounding.ROUND: parity.round_,
    sorting.SORT: lambda node, checks, x: jnp.sort(x, axis=node.attrs["axis"], stable=True),
    sorting.ARGSORT: lambda node, checks, x: jnp.argsort(x, axis=node.attrs["axis"],
                                                          stable=True),
    sorting.CUMSUM: parity.widened(_flip_scan(parity.cumsum)),
    sorting.CUMPROD: parity.widened(_flip_scan(jnp.cumprod)),
    sorting.LINEAR_SCAN: _linear_scan, sorting.PERMUTE: _permute, sorting.SHIFT: _shift,
    diagonals.DIAG: _diag, layout.REPEAT_SUM: parity.repeat_sum,
    contract.EINSUM: parity.einsum,
    conv.CONV2D: _conv2d, conv.CONV2D_INPUT_GRAD: _conv_input_grad,
    conv.CONV2D_WEIGHT_GRAD: _conv_weight_grad,
    conv.WINDOWS2D: lambda node, checks, x: _windows(x, node.attrs["kernel"],
                                                     node.attrs["stride"]),
    conv.WINDOW_SUM2D: lambda node, checks, c: _window_sum(c, node.attrs["size"],
                                                           node.attrs["stride"]),
    conv.MAX_POOL2D: _pool(jnp.max), conv.AVG_POOL2D: parity.summed(_pool(jnp.mean)),
    layout.REPEAT: _repeat,
    factor.INV: _invertible(lambda node, m: jnp.linalg.inv(m)),
    factor.SOLVE: _invertible(_solve), factor.CHOLESKY: _cholesky,
    factor.DET: _det(jnp.linalg.det),
    factor.SLOGDET_SIGN: _det(lambda m: jnp.linalg.slogdet(m)[0]),
    factor.SLOGDET_LOGABSDET: _det(lambda m: jnp.linalg.slogdet(m)[1]),
    spectral.EIGH: _pack(lambda m, UPLO: jnp.linalg.eigh(m, UPLO, symmetrize_input=False)),
    spectral.SVD: _pack(lambda m, full_matrices: jnp.linalg.svd(m, full_matrices)),
    spectral.QR: _pack(lambda m: tuple(jnp.linalg.qr(m))),
    spectral.NORM: lambda node, checks, x: jnp.sqrt(jnp.sum(x * x, axis=node.attrs["axis"],
                                                            keepdims=node.attrs["keepdims"])),
    **{op: _slice_impl(op) for op in (spectral.EIGH_VALUES, spectral.EIGH_VECTORS,
                                      spectral.SVD_U, spectral.SVD_S, spectral.SVD_VH,
                                      spectral.QR_Q, spectral.QR_R)},
    linalg.MATMUL: parity.summed(lambda node, checks, a, b: jnp.matmul(a, b,
                                                                       precision=_HIGHEST)),
    contract.TENSORDOT: parity.tensordot,
    reduce.SUM: parity.summed(lambda node, checks, x: jnp.sum(x, **node.attrs)),
    reduce.MEAN: parity.summed(parity.widened(
        lambda node, checks, x: jnp.mean(x, **node.attrs))),
    statistics.VARIANCE: parity.widened(parity.moment(jnp.var)),
    statistics.STD: parity.widened(parity.moment(jnp.std)),
    diagonals.TRACE: parity.summed(lambda node, checks, x: jnp.trace(x, **node.attrs)),
}


def lowering_of(node: Node) -> Lowered | None:
    """The function ``fn(node, checks, *arrays)`` computing ``node``: its op's own lowering
    made for it (``Op.lowerings["jax"]``: the loops, see ``symgraph.loops.lower``), else
    :func:`lowering`."""
    make = node.opdef.lowerings.get("jax")
    return make(node) if make is not None else lowering(node.opdef)


def _declared(node: Node, value: Any) -> Any:
    """A user op's JAX result, checked against the node's shape rule when traced (as
    every backend checks a user op's result) and given the node's dtype."""
    value = jnp.asarray(value)
    return check_shape(node, value if value.dtype == node.dtype else value.astype(node.dtype))


def lowering(op: Op) -> Lowered | None:
    """The function ``fn(node, checks, *arrays)`` computing ``op`` in JAX, or None."""
    found = OVERRIDES.get(op)
    if found is not None:
        return found
    own = op.impls.get("jax")  # a user op's own function of JAX arrays (define_op's impls)
    if own is not None:
        return lambda node, checks, *arrays: _declared(node, own(*arrays, **node.attrs))
    if op.array_api is None or op.shape_only:
        return None
    function = getattr(jnp, op.array_api, None)
    if function is None:
        return None
    return lambda node, checks, *arrays: function(*arrays, **node.attrs)

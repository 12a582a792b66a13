"""Where ``jax.numpy`` under ``jit`` answers otherwise than NumPy (and so than
``sg.evaluate``) in a detail: the sign of a zero, a tie of 0.0 and -0.0, the dtype a sum
accumulates in. Each lowering here gives NumPy's answer; ``symgraph.backends.jax_ops`` puts
them in its table. The cases (tests/test_backend_parity_hunt.py): XLA reduces one element to
itself and folds ``x + 0.0`` to ``x`` (NumPy's sums start at 0.0, so their zero is never
-0.0), orders -0.0 below 0.0 in max and min, starts running sums at 0.0; jnp.sign(-0.0)
and jnp.mod's zeros keep the dividend's sign, jnp.floor_divide's zero quotients lose theirs
and its x // 0 is not x / 0 (nor 0 for integers); jnp takes the mean of int32 in float32;
jnp.power of integers stops after 6 bits of the exponent and gives 0 for a negative one
(NumPy raises), and computes int64 ** float32 in float32 (tests/test_integer_power.py).
jnp.var and jnp.std give NaN, not NumPy's inf, from ddof >= n on.

Imported only by ``symgraph.backends.jax_ops``, when the jax backend is used: it imports jax.

XLA's algebraic simplifier also rewrites some expressions to others that are equal in real
numbers but not in floating point: ``log(exp(a)) -> a`` (-1e5 for log(exp(-1e5)), which is
-inf), ``sqrt(a*a) -> |a|`` (1e300 for inf), ``exp(a)*exp(b) -> exp(a+b)``, ``exp(a)/exp(b)
-> exp(a-b)``, ``pow(exp(a), b) -> exp(a*b)``, ``log(pow(a, b)) -> b*log|a|``, and with
constants ``a + 0.0 -> a``, ``(a*c)*d -> a*(c*d)`` (an overflow: NaN for 0*inf),
``(a+c)-c -> a``. :func:`opaque` says which step inputs to hide from it (an
``optimization_barrier``, only on those pairs: a barrier also stops fusion), and the
backend's program hides every float constant (the plan's presets) the same way.

Imports: jax, NumPy, ``symgraph.graph``, ``symgraph.ops``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from symgraph.graph import Node
from symgraph.ops import arithmetic as ar
from symgraph.ops import explog
from symgraph.ops import functions as fn
from symgraph.ops import reduce, statistics

Lowered = Callable[..., Any]
_HIGHEST = lax.Precision.HIGHEST  # (as jax_ops: no TF32 on a GPU)


def plus_zero(r: Any) -> Any:
    """``r`` with -0.0 made 0.0. XLA folds ``r + 0.0`` to ``r`` (and a sum over one element
    to that element), so the NumPy idiom does not survive ``jit``; a select does."""
    if not jnp.issubdtype(r.dtype, jnp.inexact):
        return r
    return jnp.where(r == 0, jnp.zeros_like(r), r)


def summed(f: Lowered) -> Lowered:
    """``f``, a sum NumPy starts at 0.0 (np.sum, np.mean, matmul, np.add.at into zeros),
    whose zero is therefore never -0.0; XLA's sum of one element (a size-1 axis, a
    contraction of length 1, a scatter-add into zeros) is that element, -0.0 kept."""
    return lambda node, checks, *arrays: plus_zero(f(node, checks, *arrays))


def widened(f: Lowered) -> Lowered:
    """``f`` on integer and boolean inputs converted to the node's dtype first, as NumPy
    accumulates them (np.mean of int32 in float64, np.cumsum of uint8 in uint64); jnp
    took the mean in float32 and ran the cumsum in uint8 (wrapping) even under x64."""
    def run(node: Node, checks: list, *arrays: Any) -> Any:
        return f(node, checks, *[a if jnp.issubdtype(a.dtype, jnp.inexact)
                                 else a.astype(node.dtype) for a in arrays])
    return run


def moment(f: Callable[..., Any]) -> Lowered:
    """``f`` (jnp.var or jnp.std) dividing by NumPy's ``max(n - ddof, 0)``: from
    ``ddof >= n`` on NumPy's value is inf, or NaN where the sum of squares is 0 (0 / 0) or
    NaN; jnp gives NaN for every ``n - ddof <= 0``. ``n`` is static under ``jit``."""
    def run(node: Node, checks: list, x: Any) -> Any:
        axis, keepdims, ddof = (node.attrs[k] for k in ("axis", "keepdims", "ddof"))
        n = math.prod(x.shape[a] for a in (range(x.ndim) if axis is None else axis))
        if n - ddof > 0:
            return f(x, axis=axis, keepdims=keepdims, ddof=ddof)
        # the sum of squares itself: divided by n - (n - 1) = 1, exactly
        squares = jnp.var(x, axis=axis, keepdims=keepdims, ddof=max(n - 1, 0))
        return jnp.where(squares > 0, jnp.inf, jnp.nan).astype(squares.dtype)
    return run


def tensordot(node: Node, checks: list, a: Any, b: Any) -> Any:
    r = jnp.tensordot(a, b, node.attrs["axes"], precision=_HIGHEST)
    # np.tensordot is np.dot of two matrices, a BLAS gemm starting at 0.0, except a 1 x 1
    # result of one term: that is the product itself (ddot of one element), -0.0 kept
    return r if r.size == 1 and a.size * b.size == 1 else plus_zero(r)


def add_exact(a: Any, b: Any) -> Any:
    """``a + b`` with IEEE's zero: -0.0 only where both are -0.0. XLA folds an addend it
    knows is 0.0 (a pad's border, a scatter into zeros) away, keeping the other's -0.0."""
    s = a + b
    if not jnp.issubdtype(s.dtype, jnp.inexact):
        return s
    both = jnp.signbit(a) & jnp.signbit(b)
    return jnp.where(s == 0, jnp.where(both, -jnp.zeros_like(s), jnp.zeros_like(s)), s)


def sign(node: Node, checks: list, x: Any) -> Any:
    return plus_zero(jnp.sign(x))  # np.sign(-0.0) is 0.0, jnp.sign(-0.0) is -0.0


def mod(node: Node, checks: list, x: Any, y: Any) -> Any:
    r = jnp.mod(x, y)
    if not jnp.issubdtype(r.dtype, jnp.floating):
        return r
    # NumPy's zero takes the divisor's sign (np.mod(-1.0, 1.0) is 0.0), JAX's the dividend's
    return jnp.where(r == 0, jnp.copysign(jnp.zeros_like(r), y), r)


def floor_divide(node: Node, checks: list, x: Any, y: Any) -> Any:
    if not jnp.issubdtype(jnp.result_type(x, y), jnp.floating):
        # NumPy's integer x // 0 is 0; XLA's division by zero gives -1 (all ones)
        q = jnp.floor_divide(x, y)
        return jnp.where(y == 0, jnp.zeros_like(q), q)
    # npy_divmod's quotient, step by step (jnp's differs in the sign of zero quotients and
    # at x // 0, which NumPy takes to be x / 0): (x - fmod(x, y)) / y, one less where the
    # remainder moves to y's sign, snapped to an integer; a zero takes the sign of x / y
    m = jnp.fmod(x, y)
    d = (x - m) / y
    d = jnp.where((m != 0) & ((y < 0) != (m < 0)), d - 1, d)
    f = jnp.floor(d)
    f = jnp.where(d - f > 0.5, f + 1, f)
    ratio = x / y
    f = jnp.where(d == 0, jnp.copysign(jnp.zeros_like(f), ratio), f)
    return jnp.where(y == 0, ratio, f)


# NumPy's maximum and minimum give the second operand on a tie (maximum(0.0, -0.0) is -0.0);
# XLA's max and min order -0.0 below 0.0. NaN spreads either way.
def maximum(node: Node, checks: list, a: Any, b: Any) -> Any:
    return jnp.where((a > b) | (a != a), a, b)


def minimum(node: Node, checks: list, a: Any, b: Any) -> Any:
    return jnp.where((a < b) | (a != a), a, b)


def clip(node: Node, checks: list, x: Any, lo: Any, hi: Any) -> Any:
    if lo.ndim or hi.ndim:  # np.clip's loop over arrays of bounds: minimum(maximum(x, lo), hi)
        return minimum(node, checks, maximum(node, checks, x, lo), hi)
    # its loop for two scalar bounds keeps x on a tie (np.clip(-0.0, 0.0, 1.0) is -0.0)
    low = jnp.where((x < lo) | (lo != lo), lo, x)
    return jnp.where((low > hi) | (hi != hi), hi, low)


def negative_zero(x: Any) -> Any:
    """1 where ``x`` is -0.0, else 0 (int32)."""
    return ((x == 0) & jnp.signbit(x)).astype(jnp.int32)


def cumsum(x: Any, axis: int) -> Any:
    """np.cumsum: its first sum is the first element, so a prefix of -0.0 sums to -0.0
    (XLA's running sum starts at 0.0)."""
    r = jnp.cumsum(x, axis=axis)
    if not jnp.issubdtype(r.dtype, jnp.inexact):
        return r
    prefix = lax.cummin(negative_zero(x), axis=axis % x.ndim) > 0
    return jnp.where(prefix, -jnp.zeros_like(r), r)


def repeat_sum(node: Node, checks: list, g: Any) -> Any:
    """The sum of each run of ``repeats`` along ``axis`` (the adjoint of repeat), with the
    NumPy impl's zeros: np.sum's (0.0) for an int, np.add.reduceat's for a tuple (it starts
    at the run's first element: a run of -0.0 sums to -0.0)."""
    repeats, axis, length = node.attrs["repeats"], node.attrs["axis"], node.attrs["length"]
    if isinstance(repeats, int):
        if not repeats:
            return jnp.zeros(g.shape[:axis] + (length,) + g.shape[axis + 1:], g.dtype)
        runs = g.shape[:axis] + (-1, repeats) + g.shape[axis + 1:]
        return plus_zero(jnp.sum(g.reshape(runs), axis=axis + 1))
    ids = np.repeat(np.arange(len(repeats)), repeats)
    moved = jnp.moveaxis(g, axis, 0)
    out = plus_zero(jnp.zeros((len(repeats), *moved.shape[1:]), g.dtype).at[ids].add(moved))
    if jnp.issubdtype(g.dtype, jnp.inexact):
        count = jnp.zeros(out.shape, jnp.int32).at[ids].add(negative_zero(moved))
        reps = np.asarray(repeats).reshape((-1,) + (1,) * (out.ndim - 1))
        out = jnp.where((count == reps) & (reps > 0), -jnp.zeros_like(out), out)
    return jnp.moveaxis(out, 0, axis)


def round_(node: Node, checks: list, x: Any) -> Any:
    """np.round as NumPy computes it (PyArray_Round): ``rint(x * f) / f`` with ``f =
    10**decimals`` (inf past float64's range: NaN then, as NumPy gives), ``rint(x / f) * f``
    with ``f = 10**-decimals`` for negative decimals; integers in float64, cast back
    wrapping as NumPy's cast does (XLA's float-to-int8 saturates: through int64). Booleans
    in the node's float dtype. (jnp.round refuses some of these, and returns x for
    decimals past 308.)"""
    decimals = node.attrs.get("decimals", 0)
    if x.dtype == jnp.bool_:
        x = x.astype(node.dtype)
    integer = jnp.issubdtype(x.dtype, jnp.integer)
    if decimals >= 0 and integer:
        return x
    try:
        f = 10.0 ** abs(decimals)
    except OverflowError:
        f = math.inf
    # (dividing by a whole array of f behind a barrier: XLA divides by a broadcast
    # scalar as a product by its reciprocal, one ulp off, which rint can take across a
    # half or the product past the largest float)
    def divided(a: Any) -> Any:
        return a / hidden(jnp.full(a.shape, f, a.dtype))

    if decimals >= 0:
        return divided(jnp.rint(x * f))
    if not integer:
        return jnp.rint(divided(x)) * f
    y = jnp.rint(divided(x.astype(jnp.float64))) * f
    if f == math.inf:  # every value NaN: NumPy's cast of NaN on this machine
        with np.errstate(all="ignore"):
            return jnp.full(x.shape, np.array(np.nan).astype(x.dtype))
    if np.dtype(x.dtype).itemsize < 8:
        y = y.astype(jnp.int64)
    return y.astype(x.dtype)


def power(node: Node, checks: list, a: Any, b: Any) -> Any:
    """np.power with one exponent (a 0-d array) of 0.5 is np.sqrt (NumPy's fast path:
    (-inf)**0.5 is NaN, (-0.0)**0.5 is -0.0); XLA's pow follows C (inf, 0.0). An integer
    power is :func:`integer_power`'s."""
    if node.dtype.kind in "iu":
        return integer_power(node, checks, a, b)
    # in the node's dtype, as NumPy computes: jnp computes int64 ** float32 and float32 **
    # int64 in float32 (NumPy in float64). An integer exponent stays one (jnp's pow of it).
    if a.dtype != node.dtype:
        a = a.astype(node.dtype)
    if b.dtype != node.dtype and jnp.issubdtype(b.dtype, jnp.floating):
        b = b.astype(node.dtype)
    r = jnp.power(a, b)
    if b.ndim or not jnp.issubdtype(r.dtype, jnp.floating):
        return r
    return jnp.where(b == 0.5, jnp.sqrt(a.astype(r.dtype)), r)


def integer_power(node: Node, checks: list, a: Any, b: Any) -> Any:
    """np.power of integers, in the node's dtype as NumPy computes it (uint8 ** int8 in
    int16): binary exponentiation over every bit of the exponent, so that the result wraps
    exactly as NumPy's does. jnp.power stops after 6 bits (2**64 is 1 there, 0 in NumPy)
    and gives 0 or garbage for a negative exponent, where NumPy raises: a negative
    exponent is a run-time check, raised after the call as evaluate raises it."""
    dtype = np.dtype(node.dtype)
    shape = jnp.broadcast_shapes(a.shape, b.shape)
    if jnp.issubdtype(b.dtype, jnp.signedinteger):  # (an empty result raises nowhere)
        checks.append((node, jnp.any(jnp.broadcast_to(b < 0, shape)), ar.NEGATIVE_POWER))
    a, b = a.astype(dtype), b.astype(dtype)
    acc = jnp.ones(shape, dtype)
    # a signed exponent's top bit is set only where it is negative (checked above)
    for _ in range(8 * dtype.itemsize - (dtype.kind == "i")):
        acc = jnp.where((b & 1) != 0, acc * a, acc)
        a = a * a
        b = b >> 1
    return acc


# consumer op -> the producer ops of an input that XLA would fold into it (see the docstring)
# (exp2 and log2/log10 reach XLA as exp and log with a factor: log2(exp2(a)) folds too)
_LOGS_OF = (fn.EXP, explog.EXP2, ar.POWER)
_FOLDS = {fn.LOG: _LOGS_OF, explog.LOG2: _LOGS_OF, explog.LOG10: _LOGS_OF,
          ar.POWER: (fn.EXP, explog.EXP2), fn.SQRT: (fn.SQUARE, ar.MULTIPLY)}
_BOTH_EXP = (ar.MULTIPLY, ar.DIVIDE)  # exp(a)*exp(b), exp(a)/exp(b): both operands exp


# the mean (and moments) of a broadcast: XLA takes mean(broadcast(x)) for x, which is not
# NumPy's (x + x + x) / 3 where the sum overflows (the largest float's mean is inf)
_OF_BROADCAST = (reduce.MEAN, statistics.VARIANCE, statistics.STD)


def opaque(node: Node) -> tuple[int, ...]:
    """The positions of ``node``'s inputs that must reach XLA behind a barrier, lest its
    algebraic simplifier fold them into ``node`` with another value."""
    ins = node.inputs
    if node.opdef in _OF_BROADCAST:
        return (0,) if ins and ins[0].opdef is reduce.BROADCAST_TO else ()
    if node.opdef in _BOTH_EXP:
        return (0,) if len(ins) == 2 and all(i.opdef is fn.EXP for i in ins) else ()
    producers = _FOLDS.get(node.opdef)
    if not producers or not ins or ins[0].opdef not in producers:
        return ()
    first = ins[0]
    if first.opdef is ar.MULTIPLY and first.inputs[0] is not first.inputs[1]:
        return ()  # sqrt(a*b): only sqrt(a*a) becomes |a|
    return (0,)


def hidden(value: Any) -> Any:
    """``value`` behind an ``optimization_barrier``: XLA's simplifier cannot look in."""
    return lax.optimization_barrier(value)


def einsum(node: Node, checks: list, *xs: Any) -> Any:
    """np.einsum's zeros: with one operand and no summed index its result is a view of
    the selected elements (-0.0 kept; jnp.einsum gave 0.0 for the diagonal of ii->i);
    otherwise it accumulates into zeros, 0.0 + ... (jnp.einsum kept the -0.0 of i,j->ij).
    (Where NaN or inf meet, NumPy's loop sums an index out of one operand first or not
    depending on its strides; jnp always does: see the hunt's report.)"""
    subscripts = node.attrs["subscripts"]
    lhs, result = subscripts.split("->")
    if len(xs) == 1 and set(lhs) <= set(result):
        return jnp.broadcast_to(_selected(xs[0], lhs, list(result)), node.shape)
    return plus_zero(jnp.einsum(subscripts, *xs, precision=_HIGHEST))


def _selected(x: Any, term: str, letters: list) -> Any:
    """``x`` (indexed by ``term``) with its axes in the order of ``letters``; a repeated
    letter takes the diagonal by a gather, which moves values without arithmetic."""
    unique = list(dict.fromkeys(term))
    if len(unique) < len(term):
        index = []
        for k, c in enumerate(term):
            shape = [1] * len(unique)
            shape[unique.index(c)] = x.shape[k]
            index.append(jnp.arange(x.shape[k]).reshape(shape))
        x = x[tuple(index)]
    return jnp.transpose(x, [unique.index(c) for c in letters])

"""Dense linear algebra by factorization: ``inv solve det slogdet cholesky`` (``sg.linalg``).

NumPy's ``np.linalg`` semantics: a matrix is the last two axes, leading axes are a batch
(broadcast between ``a`` and ``b`` in ``solve``, where ``b`` is a vector only when it is
1-D, as NumPy 2 decides). Users reach these names as ``sg.linalg.*`` (symgraph/linalg.py),
not at the top level, so ``__all__`` is empty.

Derivatives (Giles 2008, "Collected matrix derivative results for forward and reverse mode
AD"; Murray 2016, "Differentiation of the Cholesky decomposition") are written with symgraph
ops, so they differentiate again. No rule forms an inverse: each applies ``A^-1`` or
``A^-T`` with ``solve``. With ``G`` the cotangent of the result and ``T`` a tangent of ``A``:

- ``X = solve(A, B)``: ``B̄ = solve(A^T, G)``, ``Ā = -B̄ X^T``; ``dX = solve(A, dB - dA X)``.
- ``X = inv(A)``: ``Ā = -X^T G X^T``; ``dX = -X dA X``.
- ``det``: ``Ā = G det(A) A^-T``; ``d det = det(A) tr(A^-1 dA)``.
- ``slogdet``: ``logabsdet`` has ``Ā = G A^-T``; ``sign`` is piecewise constant (no derivative).
- ``L = cholesky(A)``: ``Ā = fold(L^-T Φ(L^T G) L^-1)``; ``dL = L Φ(L^-1 dS L^-T)``, with
  ``Φ`` the lower triangle with the diagonal halved.

At a singular matrix ``solve`` and ``inv`` raise at evaluation (a ``SymgraphError`` naming
the node), and so do the derivatives of ``det`` and ``slogdet``, which apply ``A^-T``.
``cholesky`` (like ``eigh``) reads one triangle of ``a``, as NumPy does; its derivative
agrees: the other triangle gets zero, and an entry below the diagonal stands for both
symmetric entries (``fold``). A matrix holding NaN or inf gives NaN for that matrix of the
batch, never what LAPACK makes of it (``eigh`` of a NaN matrix returns finite eigenvalues,
``svd`` raises).

The helpers at the top (transposes, triangles, the NaN guard ``lapack``, operand checks) and
the machinery of decompositions with several results (``decomposition``, ``result_op``) serve
``spectral.py`` too.

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case,
    Op,
    broadcast_shapes,
    const,
    describe,
    follows_numpy,
    inexact,
    latex_function,
    make,
    operands,
    operatorname,
    register,
)
from symgraph.ops.elementwise import cast
from symgraph.ops.reduce import broadcast_to, sum as reduce_sum
from symgraph.ops.shape import (
    batched_to_rank, concatenate, expand_dims, reshape, swap_last_axes,
)

__all__: list[str] = []  # exported as sg.linalg.* by symgraph/linalg.py

# --- helpers (shared with spectral.py) -------------------------------------------------------


def mT(x: Node) -> Node:
    """The matrix transpose of a batch (the last two axes swapped)."""
    return swap_last_axes(x)


def eye(n: int, like: Node) -> Node:
    return const(np.eye(n, dtype=like.dtype), graph=like.graph)


def mask(n: int, like: Node, k: int = -1, upper: bool = False) -> Node:
    """Ones on and below diagonal ``k`` (above ``-k`` if ``upper``), zeros elsewhere."""
    lower = np.tril(np.ones((n, n), dtype=like.dtype), k)
    return const(lower.T if upper else lower, graph=like.graph)


def diagonal_of(m: Node) -> Node:
    return reduce_sum(m * eye(m.shape[-1], m), axis=-1)


def trace_of(m: Node) -> Node:
    return reduce_sum(m * eye(m.shape[-1], m), axis=(-2, -1))


def fold(m: Node, uplo: str = "L") -> Node:
    """The gradient with respect to the triangle ``uplo`` of ``a`` of a function of the
    symmetric matrix that triangle stands for, given the gradient ``m`` with respect to that
    symmetric matrix: an entry off the diagonal stands for two."""
    n = m.shape[-1]
    return (m + mT(m)) * mask(n, m, -1, uplo == "U") + m * eye(n, m)


def from_triangle(t: Node, uplo: str = "L") -> Node:
    """The symmetric matrix that the triangle ``uplo`` of ``t`` stands for (``fold``'s
    adjoint: the tangent of that matrix when ``a`` moves along ``t``)."""
    n, upper = t.shape[-1], uplo == "U"
    strict = t * mask(n, t, -1, upper)
    return strict + mT(strict) + t * eye(n, t)


def outer(u: Node, v: Node) -> Node:
    return expand_dims(u, -1) * expand_dims(v, -2)


def matvec(m: Node, x: Node) -> Node:
    return reduce_sum(m * expand_dims(x, -2), axis=-1)


def lapack(f: Callable[[np.ndarray], Any], a: np.ndarray, cores: tuple[int, ...]) -> Any:
    """``f(a)``, except that each matrix of the batch ``a`` holding NaN or inf gives NaN in
    every result (``cores``: each result's number of axes after the batch). LAPACK's answer
    for such a matrix is arbitrary; the finite matrices are computed as usual."""
    ok = np.isfinite(a).all(axis=(-2, -1))
    if ok.all():
        return f(a)
    safe = np.where(ok[..., None, None], a, np.eye(*a.shape[-2:], dtype=a.dtype))
    results = f(safe)
    single = not isinstance(results, tuple)
    spoiled = tuple(
        np.where(ok[(..., *[None] * core)], r, np.nan).astype(np.result_type(r, np.float16))
        for r, core in zip((results,) if single else results, cores))
    return spoiled[0] if single else spoiled


def _singular(a: np.ndarray) -> np.linalg.LinAlgError:
    where = ""
    if a.ndim > 2:  # det uses the same LU: exactly zero where the solve met a zero pivot
        bad = np.argwhere(np.linalg.det(a) == 0)
        if len(bad):
            where = f" (batch entry {tuple(int(i) for i in bad[0])})"
    return np.linalg.LinAlgError(
        f"the matrix{where} is singular, so it has no inverse; give an invertible matrix")


def _invertible(f: Callable[..., np.ndarray], a: np.ndarray, *rest: np.ndarray) -> np.ndarray:
    try:
        return f(a, *rest)
    except np.linalg.LinAlgError:
        raise _singular(a) from None


def matrix_operand(x: Any, who: str, square: bool = True) -> Node:
    """``x`` as a float matrix node (a batch of them), checked for ``sg.linalg.<who>``."""
    (x,) = operands([x], who)
    if x.dtype.kind not in "fc":
        x = cast(x, np.float64)  # as np.linalg does
    if x.dtype == np.float16:
        raise SymgraphError(f"sg.linalg.{who} of {describe(x)}: LAPACK has no float16; "
                            "cast it to float32 first (sg.cast(x, 'float32'))")
    if x.ndim < 2:
        raise ShapeError(f"sg.linalg.{who} of {describe(x)}: needs a matrix (at least 2-D; "
                         "the last two axes are the matrix, leading axes a batch)")
    m, n = x.shape[-2:]
    if m is None or n is None:
        raise ShapeError(f"sg.linalg.{who} of {describe(x)}: the matrix sizes (last two axes) "
                         "must be known; give them in sg.var(..., shape=...)")
    if square and m != n:
        raise ShapeError(f"sg.linalg.{who} of {describe(x)}: needs square matrices (..., n, n)")
    return x


def batch_leading(node: Node, args: list, batched: tuple) -> Node:
    """vmap rule of an op that already maps over leading axes: the batch is one more."""
    return make(node.opdef, args, node.attrs)


def _spd(a: np.ndarray) -> np.ndarray:
    """NumPy side of the cases' well-conditioned SPD matrices ``a a^T + 3 I``."""
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(a.shape[-1])


def spd(a: Node) -> Node:
    return a @ mT(a) + 3 * np.eye(a.shape[-1])


# --- decompositions with several results (eigh, svd, qr: see spectral.py's docstring) ---------

Cores = Callable[[int, int, dict], list[tuple]]  # (m, n, attrs) -> each factor's matrix shape


def decomposition(name: str, factors: Callable[..., tuple], cores: Cores) -> Op:
    """The hidden op whose value is every factor of ``a``, each flattened, side by side."""
    def impl(a: np.ndarray, **attrs: Any) -> np.ndarray:
        def packed(m: np.ndarray) -> np.ndarray:
            batch = m.shape[:-2]
            return np.concatenate([np.reshape(f, (*batch, -1)) for f in factors(m, **attrs)], -1)
        return lapack(packed, a, (1,))

    def shape(inputs: tuple, attrs: dict) -> tuple:
        a = inputs[0]
        size = sum(math.prod(c) for c in cores(*a.shape[-2:], attrs))
        return (*a.shape[:-2], size)

    def pieces(out: Node) -> list[tuple[Node, slice, Op]]:
        """Each factor's node, where it lies in the pack, and its op."""
        parts, start = [], 0
        for op in FACTORS[name]:
            node = make(op, [out.inputs[0], out], out.attrs)
            size = math.prod(node.shape[out.ndim - 1:])
            parts.append((node, slice(start, start + size), op))
            start += size
        return parts

    def vjp(g: Node, out: Node) -> Node:  # each factor's share of g, through its own rule
        shares = [op.vjp[0](reshape(g[..., at], node), node) for node, at, op in pieces(out)]
        return functools.reduce(operator.add, shares)

    def jvp(t: Node, out: Node) -> Node:
        """The factors' tangents, packed as the factors are. Forward mode makes the tangent of
        every node on the way, used or not, so an undefined one (the extra vectors of a full
        SVD) is NaN here rather than an error; the results' own rules raise if it is used."""
        parts = []
        for node, at, op in pieces(out):
            try:
                part = op.jvp[0](t, node)
            except SymgraphError:
                part = broadcast_to(const(np.nan, dtype=node.dtype, graph=node.graph), node)
            size = at.stop - at.start
            parts.append(reshape(part, out[..., at] if None in out.shape else
                                 (*out.shape[:-1], size)))
        return concatenate(parts, axis=-1)

    FACTORS[name] = []
    return register(Op(name=name, impl=impl, shape=shape, dtype=inexact, batch=batch_leading,
                       vjp=(vjp,), jvp=(jvp,), latex=operatorname(name), cases=[]))


# The result ops of each decomposition, in order: the pack differentiates through their rules
# (it is the value of all of them), while their own rules for the pack input are None.
FACTORS: dict[str, list[Op]] = {}


def result_op(name: str, pack: Op, cores: Cores, i: int, vjp: Any, jvp: Any,
              latex: str, show: tuple = ()) -> Op:
    """Result ``i`` of the decomposition ``pack``: an op of ``(a, packed)``, rules for ``a``.

    The attribute ``reduced=True`` (used by the SVD's rules) keeps only the first
    ``min(m, n)`` columns (result 0) or rows (otherwise) of a factor stored full.
    """
    def core(m: int, n: int, attrs: dict) -> tuple:
        shape = cores(m, n, attrs)[i]
        if not attrs.get("reduced"):
            return shape
        k = min(m, n)
        return (shape[0], k) if i == 0 else (k, shape[1])

    def impl(a: np.ndarray, packed: np.ndarray, **attrs: Any) -> np.ndarray:
        m, n = a.shape[-2:]
        shapes = cores(m, n, attrs)
        start = sum(math.prod(c) for c in shapes[:i])
        part = packed[..., start:start + math.prod(shapes[i])]
        part = part.reshape(packed.shape[:-1] + shapes[i])
        if not attrs.get("reduced"):
            return part
        rows, cols = core(m, n, attrs)
        return part[..., :rows, :cols]

    def batch(node: Node, args: list, batched: tuple) -> Node:
        packed = make(pack, args[:1], pack_attrs(node.attrs))
        return make(node.opdef, [args[0], packed], node.attrs)

    op = register(Op(
        name=name, impl=impl, dtype=inexact, vjp=(vjp, None), jvp=(jvp, None), batch=batch,
        shape=lambda inputs, attrs: inputs[0].shape[:-2] + core(*inputs[0].shape[-2:], attrs),
        latex=latex, show_attrs=show))
    FACTORS[pack.name].append(op)
    return op


def pack_attrs(attrs: dict) -> dict:
    return {k: v for k, v in attrs.items() if k != "reduced"}


def siblings(out: Node, *ops: Op) -> list[Node]:
    """The sibling results of ``out`` (the same nodes, by interning)."""
    return [make(op, out.inputs, out.attrs) for op in ops]


# --- inv ---------------------------------------------------------------------------------------


INV = register(Op(
    name="inv", impl=lambda a: lapack(lambda m: _invertible(np.linalg.inv, m), a, (2,)),
    shape=lambda inputs, attrs: inputs[0].shape, dtype=inexact,
    vjp=(lambda g, out: -(mT(out) @ g @ mT(out)),),
    jvp=(lambda t, out: -(out @ t @ out),),
    batch=batch_leading, latex="{0:base}^{{-1}}",
    cases=[Case(lambda a: inv(a + 3 * np.eye(3)), [((3, 3), -1.0, 1.0)],
                ref=lambda a: np.linalg.inv(a + 3 * np.eye(3))),
           Case(lambda a: inv(spd(a)), [((2, 3, 3), -1.0, 1.0)],
                ref=lambda a: np.linalg.inv(_spd(a)))],
))


@follows_numpy(np.linalg.inv)
def inv(a: Any) -> Node:
    """The inverse of each square matrix of ``a``, as ``np.linalg.inv``; a singular matrix
    raises at evaluation.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(2, 2))
    >>> sg.evaluate(sg.linalg.inv(a), {a: [[2.0, 0.0], [0.0, 4.0]]}).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return make(INV, [matrix_operand(a, "inv")])


# --- solve -------------------------------------------------------------------------------------


def _solve_impl(a: np.ndarray, b: np.ndarray, *, vector: bool) -> np.ndarray:
    if vector:  # a batch of vectors (..., n): NumPy 2 takes only a 1-D b as a vector
        return lapack(lambda m: _invertible(np.linalg.solve, m, b[..., None])[..., 0], a, (1,))
    return lapack(lambda m: _invertible(np.linalg.solve, m, b), a, (2,))


def _solve_shape(inputs: tuple, attrs: dict) -> tuple:
    a, b = inputs
    n, vector = a.shape[-1], attrs["vector"]
    rows = b.shape[-1] if vector else b.shape[-2]
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-1] if vector else b.shape[:-2])
    if (rows is not None and rows != n) or batch is None:
        what = "vector (n,)" if vector else "matrix (..., n, k)"
        raise ShapeError(f"sg.linalg.solve of {describe(a)} and {describe(b)}: b must be a "
                         f"{what} fitting a (..., n, n), with batch axes that broadcast")
    return batch + ((n,) if vector else (n, b.shape[-1]))


def solve_(a: Node, b: Node, vector: bool) -> Node:
    """``solve`` where ``b`` is a batch of vectors (``vector``) or of matrices."""
    return make(SOLVE, [a, b], {"vector": vector})


def _solve_vjp_a(g: Node, out: Node) -> Node:
    vector = out.attrs["vector"]
    gb = solve_(mT(out.inputs[0]), g, vector)  # the same node as b's rule makes
    return -outer(gb, out) if vector else -(gb @ mT(out))


def _solve_jvp_a(t: Node, out: Node) -> Node:
    vector = out.attrs["vector"]
    return -solve_(out.inputs[0], matvec(t, out) if vector else t @ out, vector)


def _batch_solve(node: Node, args: list, batched: tuple) -> Node:
    a, b = args
    vector = node.attrs["vector"]
    rank = node.ndim - (1 if vector else 2)  # the result's batch axes
    if batched[0]:
        a = batched_to_rank(a, rank + 2)
    if batched[1]:
        b = batched_to_rank(b, rank + (1 if vector else 2))
    return solve_(a, b, vector)


SOLVE = register(Op(
    name="solve", impl=_solve_impl, shape=_solve_shape, dtype=inexact,
    vjp=(_solve_vjp_a, lambda g, out: solve_(mT(out.inputs[0]), g, out.attrs["vector"])),
    jvp=(_solve_jvp_a, lambda t, out: solve_(out.inputs[0], t, out.attrs["vector"])),
    batch=_batch_solve, latex=operatorname("solve"),
    cases=[Case(lambda a, b: solve(a + 3 * np.eye(3), b), [((3, 3), -1.0, 1.0), ((3,), -1.0, 1.0)],
                ref=lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b)),
           Case(lambda a, b: solve(a + 3 * np.eye(3), b),
                [((3, 3), -1.0, 1.0), ((3, 2), -1.0, 1.0)],
                ref=lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b)),
           Case(lambda a, b: solve(spd(a), b), [((2, 3, 3), -1.0, 1.0), ((3,), -1.0, 1.0)],
                ref=lambda a, b: np.linalg.solve(_spd(a), b)),
           Case(lambda a, b: solve(spd(a), b), [((3, 3), -1.0, 1.0), ((2, 3, 2), -1.0, 1.0)],
                ref=lambda a, b: np.linalg.solve(_spd(a), b))],
))


@follows_numpy(np.linalg.solve)
def solve(a: Any, b: Any) -> Node:
    """The solution ``x`` of ``a @ x = b``, as ``np.linalg.solve``: ``b`` is a vector
    ``(n,)`` or a batch of matrices ``(..., n, k)`` (NumPy 2's rule), batches broadcast. A
    singular ``a`` raises at evaluation. Its gradient solves with ``a^T``: no inverse.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(2, 2)), sg.var("b", shape=(2,))
    ...     x = sg.linalg.solve(a, b)
    >>> sg.evaluate(x, {a: [[2.0, 1.0], [1.0, 3.0]], b: [3.0, 5.0]}).round(12).tolist()
    [0.8, 1.4]
    """
    a = matrix_operand(a, "solve")
    (b,) = operands([b], "solve", graph=a.graph)
    if b.dtype.kind not in "fc":
        b = cast(b, np.float64)
    if b.ndim == 0:
        raise ShapeError(f"sg.linalg.solve: b {describe(b)} is a scalar; give a vector (n,) "
                         "or matrices (..., n, k)")
    return solve_(a, b, b.ndim == 1)


# --- det and slogdet ---------------------------------------------------------------------------


def inverse_transpose(a: Node) -> Node:
    """``A^-T``, by ``solve`` against the identity (the gradient of log|det A|)."""
    return solve_(mT(a), eye(a.shape[-1], a), False)


def _batch_shape(inputs: tuple, attrs: dict) -> tuple:
    return inputs[0].shape[:-2]


def _det_cases(build: Callable[[Node], Node], ref: Callable[[np.ndarray], Any]) -> list[Case]:
    # a diagonal with a negative entry: a negative determinant too
    shift = np.diag([3.0, 3.0, -3.0])
    return [Case(lambda a: build(a + shift), [((3, 3), -1.0, 1.0)], ref=lambda a: ref(a + shift)),
            Case(lambda a: build(a + 3 * np.eye(2)), [((2, 2, 2), -1.0, 1.0)],
                 ref=lambda a: ref(a + 3 * np.eye(2)))]


DET = register(Op(
    name="det", impl=lambda a: lapack(np.linalg.det, a, (0,)), shape=_batch_shape, dtype=inexact,
    vjp=(lambda g, out: expand_dims(g * out, (-2, -1)) * inverse_transpose(out.inputs[0]),),
    jvp=(lambda t, out: out * trace_of(solve_(out.inputs[0], t, False)),),
    batch=batch_leading, latex=latex_function(r"\det"),
    cases=_det_cases(lambda a: det(a), np.linalg.det),
))


@follows_numpy(np.linalg.det)
def det(a: Any) -> Node:
    """The determinant of each square matrix of ``a``, as ``np.linalg.det``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(2, 2))
    ...     g = sg.grad(sg.linalg.det(a), a)      # det(a) a^-T: the cofactors
    >>> sg.evaluate(g, {a: [[1.0, 2.0], [3.0, 4.0]]}).round(12).tolist()
    [[4.0, -3.0], [-2.0, 1.0]]
    """
    return make(DET, [matrix_operand(a, "det")])


SLOGDET_SIGN = register(Op(
    name="slogdet_sign", impl=lambda a: lapack(lambda m: np.linalg.slogdet(m)[0], a, (0,)),
    shape=_batch_shape, dtype=inexact, batch=batch_leading,  # piecewise constant: no rules
    latex=r"\operatorname{{sign}}\det\left({0}\right)",
    cases=_det_cases(lambda a: slogdet(a).sign * a[..., 0, 0],
                     lambda a: np.linalg.slogdet(a)[0] * a[..., 0, 0]),
))
SLOGDET_LOGABSDET = register(Op(
    name="slogdet_logabsdet", impl=lambda a: lapack(lambda m: np.linalg.slogdet(m)[1], a, (0,)),
    shape=_batch_shape, dtype=inexact, batch=batch_leading,
    vjp=(lambda g, out: expand_dims(g, (-2, -1)) * inverse_transpose(out.inputs[0]),),
    jvp=(lambda t, out: trace_of(solve_(out.inputs[0], t, False)),),
    latex=r"\log\left|\det\left({0}\right)\right|",
    cases=_det_cases(lambda a: slogdet(a).logabsdet, lambda a: np.linalg.slogdet(a)[1]),
))


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)``, as NumPy's ``SlogdetResult``."""

    sign: Node
    logabsdet: Node


@follows_numpy(np.linalg.slogdet)
def slogdet(a: Any) -> SlogdetResult:
    """``(sign, logabsdet)`` of each square matrix of ``a``, as ``np.linalg.slogdet``:
    ``det = sign * exp(logabsdet)`` without overflow. The gradient of ``logabsdet`` is
    ``a^-T`` (by ``solve``); ``sign`` passes no gradient.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(2, 2))
    ...     sign, logdet = sg.linalg.slogdet(a)
    >>> sg.evaluate([sign, logdet], {a: [[0.0, 2.0], [1.0, 0.0]]})[0].item()
    -1.0
    """
    a = matrix_operand(a, "slogdet")
    return SlogdetResult(make(SLOGDET_SIGN, [a]), make(SLOGDET_LOGABSDET, [a]))


# --- cholesky ----------------------------------------------------------------------------------


def _cholesky_impl(a: np.ndarray) -> np.ndarray:
    def lower(m: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                "the matrix is not positive definite; cholesky needs a symmetric positive-"
                "definite matrix (it reads the lower triangle)") from None
    return lapack(lower, a, (2,))


def _phi(n: int, like: Node) -> Node:
    """Murray's Φ as a mask: the lower triangle, the diagonal halved."""
    return const(np.tril(np.ones((n, n), like.dtype), -1) + 0.5 * np.eye(n, dtype=like.dtype),
                 graph=like.graph)


def _cholesky_vjp(g: Node, out: Node) -> Node:
    n = out.shape[-1]
    z = solve_(mT(out), (mT(out) @ g) * _phi(n, out), False)  # L^-T Φ(L^T G)
    return fold(mT(solve_(mT(out), mT(z), False)))          # ... L^-1, folded


def _cholesky_jvp(t: Node, out: Node) -> Node:
    z = solve_(out, from_triangle(t), False)  # L^-1 dS
    return out @ (mT(solve_(out, mT(z), False)) * _phi(out.shape[-1], out))


CHOLESKY = register(Op(
    name="cholesky", impl=_cholesky_impl, shape=lambda inputs, attrs: inputs[0].shape,
    dtype=inexact, vjp=(_cholesky_vjp,), jvp=(_cholesky_jvp,), batch=batch_leading,
    latex=operatorname("cholesky"),
    cases=[Case(lambda a: cholesky(spd(a)), [((3, 3), -1.0, 1.0)],
                ref=lambda a: np.linalg.cholesky(_spd(a))),
           Case(lambda a: cholesky(spd(a)), [((2, 3, 3), -1.0, 1.0)],
                ref=lambda a: np.linalg.cholesky(_spd(a))),
           # not symmetric: only the lower triangle counts, as in NumPy
           Case(lambda a: cholesky(a + 4 * np.eye(3)), [((3, 3), -1.0, 1.0)],
                ref=lambda a: np.linalg.cholesky(a + 4 * np.eye(3)))],
))


@follows_numpy(np.linalg.cholesky)
def cholesky(a: Any, /, *, upper: bool = False) -> Node:
    """The Cholesky factor ``L`` (lower triangular, ``a = L L^T``) of each symmetric
    positive-definite matrix of ``a``, as ``np.linalg.cholesky``: only the lower triangle of
    ``a`` is read (the upper one with ``upper=True``, which returns ``L^T``). A matrix that is
    not positive definite raises at evaluation.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(2, 2))
    >>> sg.evaluate(sg.linalg.cholesky(a), {a: [[4.0, 2.0], [2.0, 5.0]]}).tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    a = matrix_operand(a, "cholesky")
    if upper:  # the upper triangle of a is the lower one of a^T
        return mT(make(CHOLESKY, [mT(a)]))
    return make(CHOLESKY, [a])

"""Decompositions and norms: ``eigh svd qr norm`` (``sg.linalg``).

Users reach these names as ``sg.linalg.*`` (symgraph/linalg.py), so ``__all__`` is empty.

**Several results, one node each.** A node has one value, but ``eigh`` gives ``(w, v)``,
``svd`` ``(U, S, Vh)`` and ``qr`` ``(Q, R)``. Each decomposition is a hidden op (``eigh``,
``svd``, ``qr``) whose value is every factor, flattened and packed along one last axis; each
result is an op of its own (``eigh_values``, ``eigh_vectors``, ``svd_u``, ``svd_s``,
``svd_vh``, ``qr_q``, ``qr_r``) with two inputs, ``a`` and that packed node, whose forward
rule only cuts its factor out of the pack (``decomposition`` and ``result_op`` in
factor.py). So

- LAPACK runs once per evaluation, however many results and derivatives use it (interning
  makes ``eigh(a)`` one node, and every rule asks for its siblings by the same inputs);
- each result has its own derivative rules, all for input ``a``; none flows to the pack
  (its rule is ``None``; the pack's own rules, for whoever differentiates it directly, run
  each result's rule on its part). Reverse mode adds the results' shares, so the first derivative
  of the eigenvalues alone never meets the ``1/(λj - λi)`` of the eigenvectors' rule, and
  stays finite at repeated eigenvalues (higher ones go through the eigenvectors).

Derivatives (Giles 2008; Townsend 2016 for the SVD; Walter and Lehmann 2018, Liao et al.
2019 for QR), written with symgraph ops so they differentiate again, with ``F_ij =
1/(λj - λi)`` (``1/(s_j² - s_i²)`` for the SVD) off the diagonal and 0 on it:

- ``eigh``: ``Ā = fold(V (diag(w̄) + F∘(V^T V̄)) V^T)``; valid where the eigenvalues are
  distinct (the eigenvalues' own share everywhere). ``eigh`` reads the triangle ``UPLO``
  of ``a``, as NumPy does, and ``fold`` gives the other triangle zero.
- ``svd``: ``Ā = U [diag(s̄) + (F∘(J - J^T)) S + S (F∘(K - K^T))] V^T`` (``J = U^T Ū``,
  ``K = V^T V̄``), plus ``(I - UU^T) Ū S^-1 V^T`` for tall and ``U S^-1 V̄^T (I - VV^T)``
  for wide matrices; valid where the singular values are distinct and, for ``U`` and
  ``Vh`` of non-square matrices, non-zero. With ``full_matrices=True`` the extra columns of
  ``U`` (rows of ``Vh``) of a non-square matrix are not unique, so they have no derivative:
  asking for one raises (``full_matrices=False`` has it).
- ``qr`` (reduced, full-rank square or tall): ``Ā = (Q̄ + Q copyltu(M)) R^-T`` with
  ``M = R R̄^T - Q̄^T Q``; a wide matrix's ``qr`` has no derivative here (it raises).
- ``norm`` (2-norm and Frobenius): ``x̄ = ḡ x / ‖x‖``, 0 at ``x = 0`` (a subgradient).
  Other orders are built from ``abs``, ``sum``, ``max`` and ``svd``.

Imports: ``symgraph.graph`` and ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case, Op, const, describe, inexact, make, normalize_axes, operands, operatorname, register,
    flag, follows_numpy,
)
from symgraph.ops.elementwise import cast, where
from symgraph.ops.factor import (
    decomposition, diagonal_of, eye, fold, from_triangle, mask, matrix_operand, mT, pack_attrs,
    result_op, siblings, solve_,
)
from symgraph.ops.functions import abs as absolute
from symgraph.ops.reduce import (
    _batch_reduction, _reduced_shape, max as reduce_max, restore_reduced, sum as reduce_sum,
)
from symgraph.ops.shape import expand_dims, transpose

__all__: list[str] = []  # exported as sg.linalg.* by symgraph/linalg.py

def _gaps(w: Node) -> Node:
    """``F``: ``1/(w_j - w_i)`` off the diagonal, 0 on it (no division by zero there)."""
    n = w.shape[-1]
    off = const(1 - np.eye(n, dtype=w.dtype), graph=w.graph)
    return off / (expand_dims(w, -2) - expand_dims(w, -1) + eye(n, w))


# For the cases: a symmetric matrix with well separated eigenvalues, and functions of the
# factors that do not depend on the signs of the vectors (each for nodes and for arrays).


def _t(x: Any) -> Any:
    return mT(x) if isinstance(x, Node) else np.swapaxes(x, -1, -2)


def _distinct(a: Any) -> Any:
    return a + _t(a) + np.diag(6.0 * np.arange(a.shape[-1]))


def _rebuilt(parts: tuple) -> Any:
    w, v = parts
    return (v * w[..., None, :]) @ _t(v) * v  # (V diag(w) V^T) * V


def _polar(parts: tuple) -> Any:
    u, _, vh = parts
    return u @ vh


def _first_pair(parts: tuple) -> Any:
    u, _, vh = parts
    return u[..., :, :1] * vh[..., :1, :]


def _np_packed(parts: tuple) -> np.ndarray:
    return np.concatenate([np.ravel(f) for f in parts])


# --- eigh --------------------------------------------------------------------------------------


def _eigh_cores(m: int, n: int, attrs: dict) -> list[tuple]:
    return [(n,), (n, n)]


def _eigh_vjp_w(g: Node, out: Node) -> Node:
    (v,) = siblings(out, EIGH_VECTORS)
    return fold((v * expand_dims(g, -2)) @ mT(v), out.attrs["UPLO"])  # V diag(g) V^T


def _eigh_vjp_v(g: Node, out: Node) -> Node:
    w, v = siblings(out, EIGH_VALUES, EIGH_VECTORS)
    return fold(v @ (_gaps(w) * (mT(v) @ g)) @ mT(v), out.attrs["UPLO"])


def _eigh_rotated(t: Node, out: Node) -> Node:
    """``V^T dS V``, ``dS`` the symmetric tangent the triangle of ``t`` stands for."""
    (v,) = siblings(out, EIGH_VECTORS)
    return mT(v) @ from_triangle(t, out.attrs["UPLO"]) @ v


EIGH = decomposition("eigh", lambda m, UPLO: np.linalg.eigh(m, UPLO), _eigh_cores)
EIGH_VALUES = result_op("eigh_values", EIGH, _eigh_cores, 0, _eigh_vjp_w,
                        lambda t, out: diagonal_of(_eigh_rotated(t, out)),
                        r"\lambda\left({0}\right)")
EIGH_VECTORS = result_op(
    "eigh_vectors", EIGH, _eigh_cores, 1, _eigh_vjp_v,
    lambda t, out: siblings(out, EIGH_VECTORS)[0] @ (
        _gaps(siblings(out, EIGH_VALUES)[0]) * _eigh_rotated(t, out)),
    r"\operatorname{{eigvecs}}\left({0}\right)")


class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)``, as NumPy's ``EighResult``."""

    eigenvalues: Node
    eigenvectors: Node


@follows_numpy(np.linalg.eigh)
def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix of
    ``a``, as ``np.linalg.eigh``, which reads the triangle ``UPLO`` ("L" or "U"). The
    eigenvectors' derivative needs distinct eigenvalues; the eigenvalues' does not.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(2, 2))
    ...     w, v = sg.linalg.eigh(a)
    >>> sg.evaluate(w, {a: [[2.0, 1.0], [1.0, 2.0]]}).round(12).tolist()
    [1.0, 3.0]
    """
    a = matrix_operand(a, "eigh")
    if UPLO not in ("L", "U"):
        raise SymgraphError(f"sg.linalg.eigh of {describe(a)}: UPLO must be 'L' or 'U', "
                            f"got {UPLO!r}")
    attrs = {"UPLO": UPLO}
    packed = make(EIGH, [a], attrs)
    return EighResult(make(EIGH_VALUES, [a, packed], attrs), make(EIGH_VECTORS, [a, packed], attrs))


def _eigh_cases(build: Callable[..., Node], ref: Callable[..., Any]) -> list[Case]:
    return [Case(lambda a: build(_distinct(a)), [(shape, -0.5, 0.5)],
                 ref=lambda a: ref(_distinct(a))) for shape in ((3, 3), (2, 3, 3))]


EIGH.cases = [Case(lambda a: eigh(_distinct(a))[0].inputs[1], [((3, 3), -0.5, 0.5)],
                   ref=lambda a: _np_packed(np.linalg.eigh(_distinct(a))))]
EIGH_VALUES.cases = _eigh_cases(lambda a: eigh(a)[0], lambda a: np.linalg.eigh(a)[0]) + [
    # not symmetric: only the triangle UPLO counts
    Case(lambda a: eigh(a + np.diag([0.0, 6.0, 12.0]), "U")[0], [((3, 3), -0.5, 0.5)],
         ref=lambda a: np.linalg.eigh(a + np.diag([0.0, 6.0, 12.0]), "U")[0])]
# eigenvectors up to sign: v * v and v diag(w) v^T do not depend on the signs
EIGH_VECTORS.cases = _eigh_cases(lambda a: eigh(a)[1] * eigh(a)[1],
                                 lambda a: np.linalg.eigh(a)[1] ** 2) + [
    Case(lambda a: _rebuilt(eigh(a + np.diag([0.0, 6.0, 12.0]))), [((3, 3), -0.5, 0.5)],
         ref=lambda a: _rebuilt(np.linalg.eigh(a + np.diag([0.0, 6.0, 12.0]))))]


# --- svd ---------------------------------------------------------------------------------------


def _svd_cores(m: int, n: int, attrs: dict) -> list[tuple]:
    k = min(m, n)
    if attrs["full_matrices"]:
        return [(m, m), (k,), (n, n)]
    return [(m, k), (k,), (k, n)]


def _svd_parts(out: Node, who: str | None = None) -> tuple[Node, Node, Node, int, int]:
    """Reduced ``U, s, Vh`` and ``m, n``. ``who`` names the factor whose rule runs: the extra
    singular vectors (``full_matrices=True`` on a non-square matrix) have no derivative, so
    its rule raises; the rules themselves use the reduced views, which have one."""
    a, packed = out.inputs
    m, n = a.shape[-2:]
    if out.attrs["full_matrices"] and not out.attrs.get("reduced") and (
            who == "U" and m > n or who == "Vh" and n > m):
        raise SymgraphError(
            f"sg.linalg.svd(full_matrices=True) of {describe(a)}: the extra singular vectors "
            f"in {who} of a non-square matrix are not unique, so they have no derivative; use "
            "full_matrices=False")
    plain = pack_attrs(out.attrs)
    view = {**plain, "reduced": True} if plain["full_matrices"] else plain
    u, vh = make(SVD_U, [a, packed], view), make(SVD_VH, [a, packed], view)
    return u, make(SVD_S, [a, packed], plain), vh, m, n


def _svd_gaps(s: Node) -> Node:
    return _gaps(s * s)  # 1/(s_j^2 - s_i^2)


def _svd_vjp_s(g: Node, out: Node) -> Node:
    u, _, vh, _, _ = _svd_parts(out)
    return (u * expand_dims(g, -2)) @ vh  # U diag(g) Vh


def _svd_vjp_u(g: Node, out: Node) -> Node:
    u, s, vh, m, n = _svd_parts(out, "U")
    j = mT(u) @ g
    left = u @ ((_svd_gaps(s) * (j - mT(j))) * expand_dims(s, -2))
    if m > n:  # the part of g outside U's columns
        left = left + (g - u @ j) / expand_dims(s, -2)
    return left @ vh


def _svd_vjp_vh(g: Node, out: Node) -> Node:
    u, s, vh, m, n = _svd_parts(out, "Vh")
    k = vh @ mT(g)  # V^T (the cotangent of V)
    right = (expand_dims(s, -1) * (_svd_gaps(s) * (k - mT(k)))) @ vh
    if n > m:
        right = right + (g - (g @ mT(vh)) @ vh) / expand_dims(s, -1)
    return u @ right


def _svd_rotated(t: Node, out: Node, who: str | None = None) -> tuple:
    u, s, vh, m, n = _svd_parts(out, who)
    return u, s, vh, m, n, mT(u) @ t @ mT(vh)  # dS = U^T dA V


def _svd_jvp_u(t: Node, out: Node) -> Node:
    u, s, vh, m, n, ds = _svd_rotated(t, out, "U")
    du = u @ (_svd_gaps(s) * (ds * expand_dims(s, -2) + expand_dims(s, -1) * mT(ds)))
    if m > n:
        du = du + (t @ mT(vh) - u @ ds) / expand_dims(s, -2)
    return du


def _svd_jvp_vh(t: Node, out: Node) -> Node:
    u, s, vh, m, n, ds = _svd_rotated(t, out, "Vh")
    sym = expand_dims(s, -1) * ds + mT(ds) * expand_dims(s, -2)  # S dS + dS^T S
    dvh = -((_svd_gaps(s) * sym) @ vh)
    if n > m:
        dvh = dvh + (mT(u) @ t - ds @ vh) / expand_dims(s, -1)
    return dvh


SVD = decomposition("svd", lambda m, full_matrices: np.linalg.svd(m, full_matrices),
                     _svd_cores)
SVD_U = result_op("svd_u", SVD, _svd_cores, 0, _svd_vjp_u, _svd_jvp_u,
                  r"\operatorname{{svd}}_{{U}}\left({0}\right)", ("full_matrices", "reduced"))
SVD_S = result_op("svd_s", SVD, _svd_cores, 1, _svd_vjp_s,
                  lambda t, out: diagonal_of(_svd_rotated(t, out)[-1]),
                  r"\sigma\left({0}\right)", ("full_matrices",))
SVD_VH = result_op("svd_vh", SVD, _svd_cores, 2, _svd_vjp_vh, _svd_jvp_vh,
                   r"\operatorname{{svd}}_{{V^{{\top}}}}\left({0}\right)",
                   ("full_matrices", "reduced"))


class SVDResult(NamedTuple):
    """``(U, S, Vh)``, as NumPy's ``SVDResult``."""

    U: Node
    S: Node
    Vh: Node


@follows_numpy(np.linalg.svd)
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> SVDResult | Node:
    """``a = U @ (S[..., None] * Vh)`` for each matrix of ``a``, as ``np.linalg.svd``
    (singular values descending); ``compute_uv=False`` gives ``S`` alone. Derivatives need
    distinct singular values (non-zero, for ``U`` and ``Vh`` of non-square matrices); the
    extra vectors of ``full_matrices=True`` on a non-square matrix have none.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(3, 2))
    ...     s = sg.linalg.svd(a, compute_uv=False)
    >>> sg.evaluate(s, {a: [[3.0, 0.0], [0.0, -2.0], [0.0, 0.0]]}).tolist()
    [3.0, 2.0]
    """
    a = matrix_operand(a, "svd", square=False)
    if hermitian:
        raise SymgraphError(f"sg.linalg.svd of {describe(a)}: hermitian=True is not supported; "
                            "use sg.linalg.eigh for symmetric matrices")
    m, n = a.shape[-2:]
    full = flag("sg.linalg.svd", full_matrices=full_matrices)
    attrs = {"full_matrices": full and flag("sg.linalg.svd", compute_uv=compute_uv) and m != n}
    packed = make(SVD, [a], attrs)
    if not compute_uv:
        return make(SVD_S, [a, packed], attrs)
    return SVDResult(*(make(op, [a, packed], attrs) for op in (SVD_U, SVD_S, SVD_VH)))


_TALL = np.array([[3.0, 0.0], [0.0, 1.5], [0.0, 0.0]])  # separates the singular values


def _svd_case(build: Callable[..., Node], ref: Callable[..., Any], shape: tuple,
              shift: np.ndarray) -> Case:
    return Case(lambda a: build(a + shift), [(shape, -0.5, 0.5)], ref=lambda a: ref(a + shift))


def _np_svd(a: np.ndarray, full: bool = False) -> Any:
    return np.linalg.svd(a, full_matrices=full)


SVD.cases = [Case(lambda a: svd(a + _TALL, False)[0].inputs[1], [((3, 2), -0.5, 0.5)],
                  ref=lambda a: _np_packed(_np_svd(a + _TALL)))]
SVD_S.cases = [
    _svd_case(lambda a: svd(a, compute_uv=False), lambda a: _np_svd(a)[1], (3, 2), _TALL),
    _svd_case(lambda a: svd(a, compute_uv=False), lambda a: _np_svd(a)[1], (2, 3), _TALL.T),
    _svd_case(lambda a: svd(a)[1], lambda a: _np_svd(a)[1], (2, 3, 3),
              np.diag([4.0, 2.0, 0.5]))]
# singular vectors up to sign: u * u, vh * vh and u @ vh (the polar factor) do not depend on it
SVD_U.cases = [
    _svd_case(lambda a: svd(a, False)[0] ** 2, lambda a: _np_svd(a)[0] ** 2, (3, 2), _TALL),
    _svd_case(lambda a: svd(a)[0] ** 2, lambda a: _np_svd(a, True)[0] ** 2, (2, 3), _TALL.T),
    _svd_case(lambda a: _polar(svd(a)), lambda a: _polar(_np_svd(a)), (3, 3),
              np.diag([4.0, 2.0, 1.0]))]
SVD_VH.cases = [
    _svd_case(lambda a: svd(a, False)[2] ** 2, lambda a: _np_svd(a)[2] ** 2, (2, 3), _TALL.T),
    _svd_case(lambda a: svd(a)[2] ** 2, lambda a: _np_svd(a, True)[2] ** 2, (3, 2), _TALL),
    _svd_case(lambda a: _first_pair(svd(a, False)), lambda a: _first_pair(_np_svd(a)),
              (2, 3, 2), _TALL)]


# --- qr ----------------------------------------------------------------------------------------


def _qr_cores(m: int, n: int, attrs: dict) -> list[tuple]:
    k = min(m, n)
    return [(m, k), (k, n)]


def _qr_parts(out: Node) -> list[Node]:
    m, n = out.inputs[0].shape[-2:]
    if m < n:
        raise SymgraphError(f"sg.linalg.qr of {describe(out.inputs[0])}: the derivative of qr "
                            "is implemented for square and tall matrices (m >= n) only; "
                            "differentiate the qr of the transpose, or split the columns")
    return siblings(out, QR_Q, QR_R)


def _times_r_inverse_t(x: Node, r: Node) -> Node:
    return mT(solve_(r, mT(x), False))  # x R^-T


def _qr_vjp_q(g: Node, out: Node) -> Node:
    q, r = _qr_parts(out)
    return _times_r_inverse_t(g + q @ from_triangle(-(mT(g) @ q)), r)


def _qr_vjp_r(g: Node, out: Node) -> Node:
    q, r = _qr_parts(out)
    return _times_r_inverse_t(q @ from_triangle(r @ mT(g)), r)


def _qr_tangent(t: Node, out: Node) -> tuple[Node, Node, Node, Node, Node]:
    """``Q, R, X = dA R^-1, C = Q^T X`` and the skew ``Ω`` of ``C``'s strict lower part."""
    q, r = _qr_parts(out)
    x = mT(solve_(mT(r), mT(t), False))
    c = mT(q) @ x
    low = c * mask(c.shape[-1], c)
    return q, r, x, c, low - mT(low)


QR = decomposition("qr", lambda m: tuple(np.linalg.qr(m)), _qr_cores)


def _qr_jvp_q(t: Node, out: Node) -> Node:
    q, _, x, c, omega = _qr_tangent(t, out)
    return q @ (omega - c) + x  # dQ = Q (Ω - C) + X


def _qr_jvp_r(t: Node, out: Node) -> Node:
    _, r, _, c, omega = _qr_tangent(t, out)
    return (c - omega) @ r  # dR = (C - Ω) R


QR_Q = result_op("qr_q", QR, _qr_cores, 0, _qr_vjp_q, _qr_jvp_q,
                 r"\operatorname{{qr}}_{{Q}}\left({0}\right)")
QR_R = result_op("qr_r", QR, _qr_cores, 1, _qr_vjp_r, _qr_jvp_r,
                 r"\operatorname{{qr}}_{{R}}\left({0}\right)")


class QRResult(NamedTuple):
    """``(Q, R)``, as NumPy's ``QRResult``."""

    Q: Node
    R: Node


@follows_numpy(np.linalg.qr)
def qr(a: Any, mode: str = "reduced") -> QRResult | Node:
    """``a = Q @ R`` (orthonormal columns, upper triangular) for each matrix of ``a``, as
    ``np.linalg.qr``: ``mode="reduced"`` gives ``(Q, R)``, ``"r"`` gives ``R`` alone
    (``"complete"`` only where it equals reduced, m <= n). Differentiable for full-rank
    square and tall matrices.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a = sg.var("a", shape=(2, 2))
    ...     q, r = sg.linalg.qr(a)
    >>> abs(sg.evaluate(r, {a: [[3.0, 1.0], [4.0, 2.0]]})).round(12).tolist()
    [[5.0, 2.2], [0.0, 0.4]]
    """
    a = matrix_operand(a, "qr", square=False)
    m, n = a.shape[-2:]
    if mode not in ("reduced", "r") and not (mode == "complete" and m <= n):
        raise SymgraphError(
            f"sg.linalg.qr of {describe(a)}: mode={mode!r} is not supported; use 'reduced' "
            "or 'r' ('complete' of a tall matrix adds columns of Q that are not unique)")
    packed = make(QR, [a])
    q, r = make(QR_Q, [a, packed]), make(QR_R, [a, packed])
    return r if mode == "r" else QRResult(q, r)


_QR_SHIFT = np.array([[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]])  # full rank, R's diagonal away from 0
QR.cases = [Case(lambda a: qr(a + _QR_SHIFT).Q.inputs[1], [((3, 2), -0.5, 0.5)],
                 ref=lambda a: _np_packed(np.linalg.qr(a + _QR_SHIFT)))]
QR_Q.cases = [Case(lambda a: qr(a + _QR_SHIFT).Q, [((3, 2), -0.5, 0.5)],
                   ref=lambda a: np.linalg.qr(a + _QR_SHIFT).Q),
              Case(lambda a: qr(a + 2 * np.eye(3)).Q, [((2, 3, 3), -0.5, 0.5)],
                   ref=lambda a: np.linalg.qr(a + 2 * np.eye(3)).Q)]
QR_R.cases = [Case(lambda a: qr(a + _QR_SHIFT, "r"), [((3, 2), -0.5, 0.5)],
                   ref=lambda a: np.linalg.qr(a + _QR_SHIFT, "r")),
              Case(lambda a: qr(a + 2 * np.eye(3)).R, [((2, 3, 3), -0.5, 0.5)],
                   ref=lambda a: np.linalg.qr(a + 2 * np.eye(3)).R)]


# --- norm --------------------------------------------------------------------------------------


def _nonzero(n: Node) -> Node:
    return where(n > 0, n, 1)  # x / norm is then 0 at x = 0: a subgradient


NORM = register(Op(
    name="norm",
    impl=lambda x, *, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)),
    shape=_reduced_shape, dtype=inexact,
    vjp=(lambda g, out: restore_reduced(g / _nonzero(out), out) * out.inputs[0],),
    jvp=(lambda t, out: reduce_sum(t * out.inputs[0], out.attrs["axis"], out.attrs["keepdims"])
         / _nonzero(out),),
    show_attrs=("axis", "keepdims"), batch=_batch_reduction,
    latex=lambda node: r"\left\lVert {0} \right\rVert" if node.attrs["axis"] is None
    else operatorname("norm"),
    cases=[Case(lambda x: norm(x), [((4,), -1.0, 1.0)], ref=np.linalg.norm),
           Case(lambda x: norm(x), [((2, 3), -1.0, 1.0)], ref=np.linalg.norm),
           Case(lambda x: norm(x, axis=1), [((2, 3), -1.0, 1.0)],
                ref=lambda x: np.linalg.norm(x, axis=1)),
           Case(lambda x: norm(x, axis=0, keepdims=True), [((3, 2), -1.0, 1.0)],
                ref=lambda x: np.linalg.norm(x, axis=0, keepdims=True)),
           Case(lambda x: norm(x, "fro", axis=(2, 1)), [((2, 3, 2), -1.0, 1.0)],
                ref=lambda x: np.linalg.norm(x, "fro", axis=(2, 1)))],
))


def _euclid(x: Node, axes: tuple | None, keepdims: bool) -> Node:
    axes = None if axes is None or len(axes) == x.ndim else tuple(sorted(axes))
    keep = flag("sg.linalg.norm", keepdims=keepdims)
    return make(NORM, [x], {"axis": axes, "keepdims": keep})


def _vector_norm(x: Node, ord: Any, axis: int, keepdims: bool) -> Node:
    if ord is None or ord == 2:
        return _euclid(x, (axis,), keepdims)
    a = absolute(x)
    if ord == np.inf:
        return reduce_max(a, axis, keepdims)
    if ord == -np.inf:
        return -reduce_max(-a, axis, keepdims)
    if ord == 1:
        return reduce_sum(a, axis, keepdims)
    return reduce_sum(a ** ord, axis, keepdims) ** (1 / ord)


def _matrix_norm(x: Node, ord: Any, row: int, col: int, keepdims: bool) -> Node:
    if ord is None or ord == "fro":
        return _euclid(x, (row, col), keepdims)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(x.ndim) if i not in (row, col)]
        s = svd(transpose(x, (*rest, row, col)), compute_uv=False)
        out = (reduce_sum(s, -1) if ord == "nuc" else
               reduce_max(s, -1) if ord == 2 else -reduce_max(-s, -1))
    else:  # 1, -1: the largest (smallest) column sum of |x|; inf, -inf: the same for rows
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = reduce_sum(absolute(x), summed)
        over -= 1 if over > summed else 0  # the summed axis is gone
        out = reduce_max(sums, over) if ord in (1, np.inf) else -reduce_max(-sums, over)
    return expand_dims(out, tuple(sorted((row, col)))) if keepdims else out


@follows_numpy(np.linalg.norm)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Node:
    """Vector and matrix norms, as ``np.linalg.norm``: vector ``ord`` None/2, 1, inf,
    -inf or any other non-zero number; matrix ``ord`` None/"fro", "nuc", 1, -1, 2, -2, inf,
    -inf. The 2-norm's gradient ``x / norm`` is 0 at ``x = 0`` (a subgradient).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(2,))
    ...     n = sg.linalg.norm(v)
    ...     g = sg.grad(n, v)
    >>> sg.evaluate(g, {v: [3.0, 4.0]}).round(12).tolist()
    [0.6, 0.8]
    """
    (x,) = operands([x], "norm")
    if x.dtype.kind not in "fc":
        x = cast(x, np.float64)  # as NumPy's norm does
    who = lambda: f"sg.linalg.norm of {describe(x)}"
    if axis is None:
        if ord is None:
            return _euclid(x, None, keepdims)
        if x.ndim not in (1, 2):
            raise ShapeError(f"{who()}: with ord={ord!r} and axis=None it must be 1-D or 2-D "
                             "(as in NumPy); give axis")
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    normalize_axes(axes, x.ndim, who)  # checks type, range and repeats (axis=1.0 raises)
    axes = tuple(int(a) % x.ndim for a in axes)
    number = isinstance(ord, (int, float, np.integer, np.floating))
    if ord is not None and not number and not isinstance(ord, str):
        raise SymgraphError(f"{who()}: ord={ord!r} is not a norm order")
    if len(axes) == 1:
        if not (ord is None or number) or ord == 0 or (number and math.isnan(ord)):
            raise SymgraphError(f"{who()}: ord={ord!r} is not supported for vectors; use None, "
                                "2, 1, inf, -inf or another non-zero number")
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        if ord not in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
            raise SymgraphError(f"{who()}: ord={ord!r} is not a matrix norm; use None, 'fro', "
                                "'nuc', 1, -1, 2, -2, inf or -inf")
        return _matrix_norm(x, ord, *axes, keepdims)
    raise ShapeError(f"{who()}: axis={axis!r} names {len(axes)} axes; give one (a vector "
                     "norm) or two (a matrix norm)")

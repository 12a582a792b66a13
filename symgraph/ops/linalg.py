"""Matrix products: ``matmul`` (the ``@`` operator) and ``dot``, with NumPy semantics
(1-D operands are vectors, leading dimensions are a broadcast batch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import (
    Case,
    Op,
    broadcast_shapes,
    describe,
    follows_numpy,
    make,
    operands,
    promote,
    register,
)
from symgraph.ops.arithmetic import multiply
from symgraph.ops.elementwise import PREC_MUL
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.ops.layout import squeeze
from symgraph.ops.shape import batched_to_rank, expand_dims, swap_last_axes


def _matmul_shape(inputs: tuple, attrs: dict) -> tuple:
    a, b = inputs

    def fail(why: str) -> ShapeError:
        return ShapeError(f"cannot matmul {describe(a)} @ {describe(b)}: {why}")

    if a.ndim == 0 or b.ndim == 0:
        raise fail("matmul needs at least 1-D operands; use * for scalars")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a is not None and k_b is not None and k_a != k_b:
        raise fail(f"the inner dimensions {k_a} and {k_b} differ")
    if a.ndim == 1 and b.ndim == 1:
        return ()
    if b.ndim == 1:
        return a.shape[:-1]
    if a.ndim == 1:
        return b.shape[:-2] + b.shape[-1:]
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if batch is None:
        raise fail("the batch dimensions do not broadcast")
    return batch + (a.shape[-2], b.shape[-1])


def _vjp_a(g: Node, out: Node) -> Node:
    a, b = out.inputs
    if b.ndim == 1:  # (..., n, k) @ (k,): d/da = g[..., :, None] * b
        return expand_dims(g, -1) * b if a.ndim > 1 else g * b
    if a.ndim == 1:  # (k,) @ (..., k, m): d/da_k = sum_m g_m b_km
        return matmul(b, g) if b.ndim == 2 else reduce_sum(b * expand_dims(g, -2), axis=-1)
    return matmul(g, swap_last_axes(b))  # dA = G B^T


def _vjp_b(g: Node, out: Node) -> Node:
    a, b = out.inputs
    if a.ndim == 1:  # (k,) @ (..., k, m): d/db = a[:, None] * g[..., None, :]
        return expand_dims(a, -1) * expand_dims(g, -2) if b.ndim > 1 else g * a
    if b.ndim == 1:  # (..., n, k) @ (k,): d/db_k = sum_n g_n a_nk
        return matmul(g, a) if a.ndim == 2 else expand_dims(g, -1) * a
    return matmul(swap_last_axes(a), g)  # dB = A^T G


def _batch_matmul(node: Node, args: list, batched: tuple) -> Node | None:
    """vmap of matmul: the batch axis first in each batched operand and in the result."""
    (a, b), (A, B) = args, node.inputs
    if batched == (True, False):
        if (A.ndim == 1 and B.ndim <= 2) or (A.ndim >= 2 and B.ndim <= A.ndim):
            return matmul(a, b)
    elif batched == (False, True):
        if B.ndim >= 2 and (A.ndim == 1 or A.ndim <= B.ndim):
            return matmul(a, b)
        if B.ndim == 1 and A.ndim <= 2:  # (B, k) against A: rows of A @ b_i
            return matmul(b, A if A.ndim == 1 else swap_last_axes(A))
    # otherwise a vector becomes a one-row (or one-column) matrix, squeezed away again as
    # NumPy does, and a batched operand's stack axes are aligned past its batch axis, so
    # the batch axis meets the other's broadcast (or batch) axis, not one of its stack axes
    rank = max(A.ndim, B.ndim, 2)
    rows = expand_dims(a, 1 if batched[0] else 0) if A.ndim == 1 else a
    cols = expand_dims(b, -1) if B.ndim == 1 else b
    out = matmul(batched_to_rank(rows, rank) if batched[0] else rows,
                 batched_to_rank(cols, rank) if batched[1] else cols)
    drop = (-2,) * (A.ndim == 1) + (-1,) * (B.ndim == 1)
    return squeeze(out, tuple(out.ndim + d for d in drop)) if drop else out


MATMUL = register(Op(
    name="matmul", array_api="matmul",
    impl=np.matmul, shape=_matmul_shape, dtype=promote,
    vjp=(_vjp_a, _vjp_b),
    jvp=(lambda t, out: matmul(t, out.inputs[1]), lambda t, out: matmul(out.inputs[0], t)),
    infix="@", prec=PREC_MUL, batch=_batch_matmul,
    cases=[
        Case(lambda a, b: a @ b, [((2, 3), -1.0, 1.0), ((3, 4), -1.0, 1.0)]),
        Case(lambda a, b: a @ b, [((2, 3), -1.0, 1.0), ((3,), -1.0, 1.0)]),
        Case(lambda a, b: a @ b, [((3,), -1.0, 1.0), ((3, 2), -1.0, 1.0)]),
        Case(lambda a, b: a @ b, [((3,), -1.0, 1.0), ((3,), -1.0, 1.0)]),
        Case(lambda a, b: a @ b, [((2, 2, 3), -1.0, 1.0), ((3, 2), -1.0, 1.0)]),
        Case(lambda a, b: a @ b, [((3,), -1.0, 1.0), ((2, 3, 2), -1.0, 1.0)]),
    ],
))


def matmul(a: Any, b: Any) -> Node:
    """Matrix product ``a @ b`` with NumPy semantics (vectors and batches).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     W, x = sg.var("W", shape=(3, 4)), sg.var("x", shape=(4,))
    >>> (W @ x).shape
    (3,)
    """
    return make(MATMUL, operands([a, b], "matmul"))


@follows_numpy(np.dot)
def dot(a: Any, b: Any) -> Node:
    """``numpy.dot`` for scalars, vectors and matrices (``matmul`` for 1-D and 2-D).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     u, v = sg.var("u", shape=(3,)), sg.var("v", shape=(3,))
    >>> sg.dot(u, v).shape
    ()
    """
    a, b = operands([a, b], "dot")
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.ndim > 2 or b.ndim > 2:
        raise SymgraphError(
            f"dot of {describe(a)} and {describe(b)}: operands above 2-D are ambiguous; "
            "use sg.matmul (batched) or reshape first"
        )
    return matmul(a, b)

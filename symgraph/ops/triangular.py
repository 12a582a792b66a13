"""``sg.linalg.solve_triangular``: ``a x = b`` with ``a`` triangular, as SciPy's and JAX's
``solve_triangular`` (``lower``, ``trans``, ``unit_diagonal``), batched as ``solve``.

Only the triangle that ``lower`` names is read, the other is ignored (LAPACK's ``trtrs``
does so), and with ``unit_diagonal`` the diagonal is taken as ones and not read either; so
the gradient with respect to ``a`` lies in the triangle read. The solve is ``solve`` of
that triangle: values agree with a triangular substitution to rounding, a zero on the
diagonal raises at evaluation as ``solve`` does (SciPy raises too; JAX gives inf), and
every derivative comes from ``solve``'s rules. NumPy, the one numerical runtime
dependency, has no triangular solver of its own.

Imports: ``symgraph.ops``' lower modules.
"""

from __future__ import annotations

from typing import Any

from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import describe
from symgraph.ops.factor import eye, mask, matrix_operand, mT, solve

__all__: list[str] = []  # exported as sg.linalg.solve_triangular by symgraph/linalg.py

_TRANS = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}


def solve_triangular(a: Any, b: Any, trans: int | str = 0, lower: bool = False,
                     unit_diagonal: bool = False) -> Node:
    """The solution ``x`` of ``a @ x = b`` (``a.T @ x = b`` with ``trans=1`` or ``"T"``)
    for a triangular ``a``, as ``scipy.linalg.solve_triangular`` and
    ``jax.scipy.linalg.solve_triangular``: the upper triangle of ``a`` is read unless
    ``lower=True``; ``unit_diagonal=True`` takes the diagonal as ones. ``b`` is a vector
    ``(n,)`` or a batch of matrices ``(..., n, k)``, as in ``sg.linalg.solve``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     L, b = sg.var("L", shape=(2, 2)), sg.var("b", shape=(2,))
    ...     x = sg.linalg.solve_triangular(L, b, lower=True)
    >>> sg.evaluate(x, {L: [[2.0, 99.0], [1.0, 4.0]], b: [2.0, 9.0]}).round(12).tolist()
    [1.0, 2.0]
    """
    if trans not in _TRANS or isinstance(trans, bool):
        raise SymgraphError(f"sg.linalg.solve_triangular: trans={trans!r} is not one of 0, 1, "
                            "2, 'N', 'T', 'C' (a real matrix: 'C' is 'T')")
    a = matrix_operand(a, "solve_triangular")
    n = a.shape[-1]
    if unit_diagonal:  # the strict triangle, and ones where the diagonal was
        triangle = a * mask(n, a, -1, upper=not lower) + eye(n, a)
    else:
        triangle = a * mask(n, a, 0, upper=not lower)
    try:
        return solve(mT(triangle) if _TRANS[trans] else triangle, b)
    except SymgraphError as exc:
        raise type(exc)(f"sg.linalg.solve_triangular of {describe(a)}: {exc}") from None

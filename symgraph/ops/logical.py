"""The boolean reductions ``all`` and ``any``: whether every (some) element of each slice is
nonzero, as NumPy's (NaN is nonzero). Their value is boolean, so no gradient flows
through them; they serve conditions (``sg.while_loop(lambda s: sg.any(err > tol), ...)``)
and masks.

Imports: ``symgraph.graph`` and ``symgraph.ops``' core, reduce and statistics modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node
from symgraph.ops.core import Case, Op, boolean, register
from symgraph.ops.reduce import _reduction_cases
from symgraph.ops.statistics import _reduction, _show

__all__ = ["all", "any"]

Axis = Any  # int, tuple of ints, or None

# zeros of both signs, NaN (nonzero, so true) and infinities, in rows all-true and not
_TRUTHS = np.array([[1.0, np.nan, -np.inf, 2.0], [0.0, -0.0, 3.0, np.inf]])


def _logical(name: str, forward: Any) -> Op:
    op = register(Op(
        **_show(name), array_api=name,
        impl=lambda x, *, axis, keepdims: forward(x, axis=axis, keepdims=keepdims),
        dtype=boolean, vjp=None, jvp=None,  # a boolean value: nothing to differentiate
    ))
    build = (lambda x, a, k: _reduction(op, x, a, k))
    op.cases = [Case(c.build, c.inputs, c.ref, order=0)
                for c in _reduction_cases(build, forward)] + [
        Case(lambda x, a=a: _reduction(op, x, a, False), [_TRUTHS], order=0,
             ref=lambda x, a=a: forward(x, axis=a)) for a in (None, 0, 1)]
    return op


ALL = _logical("all", np.all)
ANY = _logical("any", np.any)


def all(x: Any, axis: Axis = None, keepdims: bool = False) -> Node:  # noqa: A001
    """Whether every element over ``axis`` (all axes by default) is nonzero, a boolean
    node, as ``numpy.all``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 2))
    ...     ok = sg.all(m > 0, axis=1)
    >>> sg.evaluate(ok, {m: [[1.0, 2.0], [3.0, -1.0]]}).tolist()
    [True, False]
    """
    return _reduction(ALL, x, axis, keepdims)


def any(x: Any, axis: Axis = None, keepdims: bool = False) -> Node:  # noqa: A001
    """Whether some element over ``axis`` (all axes by default) is nonzero, a boolean
    node, as ``numpy.any``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     v = sg.var("v", shape=(3,))
    >>> bool(sg.evaluate(sg.any(v > 2), {v: [1.0, 5.0, 0.0]}))
    True
    """
    return _reduction(ANY, x, axis, keepdims)

"""NumPy's ufuncs called on nodes: ``np.sin(x)`` builds ``sg.sin(x)``.

Owns: the map from a NumPy ufunc to the op that names it as its NumPy function
(``Op.array_api``: ``np.abs`` is ``np.absolute``, so it reaches ``sg.abs``; ``np.mod`` is
``np.remainder``, ``sg.mod``), made from the registry when first asked, the ufuncs
written with other ops (``np.fmax`` builds ``sg.fmax``: ``@follows_numpy(np.fmax)`` on it), and the error for a
ufunc or a ufunc method (``np.add.reduce``, ``out=``) that has no op. NumPy's bitwise
ufuncs (``mask | node`` calls ``np.bitwise_or``) are Python's ``& | ^ ~`` of nodes:
logic on booleans (``symgraph.ops.logical``).

Imports: NumPy, ``symgraph.graph`` and the registry of ``symgraph.ops.core``; inside
:func:`array_ufunc`, ``symgraph.ops`` and its ``logical`` module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.array_methods import UFUNC_FOLLOWERS
from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import OPS, Op, describe

_BY_UFUNC: dict[np.ufunc, Op] = {}
_OPERATOR_OF = {np.bitwise_and: "&", np.bitwise_or: "|", np.bitwise_xor: "^", np.invert: "~"}


def _op_of(ufunc: np.ufunc) -> Op | None:
    if not _BY_UFUNC:  # once: the registry is complete when a node exists to be called on
        for op in OPS.values():
            function = getattr(np, op.array_api, None) if op.array_api else None
            if isinstance(function, np.ufunc) and not op.shape_only:
                _BY_UFUNC.setdefault(function, op)
    return _BY_UFUNC.get(ufunc)


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Node:
    """``ufunc(*inputs)`` as the node of its op, for ``Node.__array_ufunc__``.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     print(np.sin(x) is sg.sin(x), np.abs(x), np.float64(2) * x)
    True abs(x) 2*x
    """
    from symgraph import ops  # the public constructors (this module is one of their parts)
    from symgraph.ops.logical import boolean_operator

    symbol = _OPERATOR_OF.get(ufunc)
    if symbol is not None and method == "__call__" and not kwargs:
        return boolean_operator(symbol, *inputs)
    composed = UFUNC_FOLLOWERS.get(ufunc)  # (declared with @follows_numpy on its function)
    if composed is not None and method == "__call__" and not kwargs:
        return composed(*inputs)
    op = _op_of(ufunc)
    node = next(i for i in inputs if isinstance(i, Node))
    if method != "__call__" or kwargs or op is None:
        call = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if method != "__call__":
            hint = "use symgraph's reductions (sg.sum, sg.prod, sg.cumsum, sg.max...)"
        elif op is not None:
            hint = f"call sg.{op.name}(...) without {', '.join(sorted(kwargs))}"
        else:
            hint = ("symgraph has no op for it: build it from sg functions, or sg.evaluate "
                    "the node first and call NumPy on its value")
        raise SymgraphError(f"{call} cannot take the symbolic node {describe(node)}; {hint}")
    public = getattr(ops, op.name, None)
    if public is None:  # an op without a constructor of its own (not_equal): elementwise
        from symgraph.ops.elementwise import apply
        return apply(op, *inputs)
    return public(*inputs)

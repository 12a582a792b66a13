"""Building all or nothing: a public call that fails leaves the graph as it was.

Owns: the guard that a node's methods (:func:`all_or_nothing`) and Python operators
(:func:`operator_method`, with :data:`OPERATORS`) wear. A call notes the length of its
graph; if it raises, ``Graph._undo`` forgets the nodes this thread appended since (an
operand made a constant, a cast or a reshape before a check that failed). On success it
costs reading the length: no lock, no context variable. The public functions
(``sg.add``...) wear the same guard, from ``symgraph.ops.transaction``.

Imports: the standard library only (a node is duck-typed here: ``.graph``, whose
``_nodes`` and ``_undo`` are ``symgraph.graph.Graph``'s).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

Method = TypeVar("Method", bound=Callable[..., Any])

# Filled by symgraph.ops at import: what each Python operator of a node calls
# (``operator.add`` -> ``sg.add``, ``divmod`` -> both floor_divide and mod).
OPERATORS: dict[Callable[..., Any], Callable[..., Any]] = {}


def all_or_nothing(method: Method) -> Method:
    """``method`` of a node, building all or nothing: if it raises, the nodes it appended to
    the node's graph (by this thread) are forgotten.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph() as g:
    ...     x = sg.var("x", shape=(3,))
    ...     try:
    ...         x.sum(axis=1, dtype="float32")   # casts, then finds no axis 1
    ...     except sg.ShapeError:
    ...         pass
    >>> len(g)   # no cast left behind
    1
    """
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        graph = self.graph
        mark = len(graph._nodes)
        try:  # (without arguments, as x.sum() and x.T, a plain call: 100 ns faster)
            return method(self, *args, **kwargs) if args or kwargs else method(self)
        except BaseException:
            graph._undo(mark)
            raise
    return call  # type: ignore[return-value]


def operator_method(python: Callable[..., Any], swap: bool = False,
                    unary: bool = False) -> Callable[..., Any]:
    """A node's method for the Python operator ``python`` (``operator.add`` for ``+``;
    with the operands swapped for the reflected one, ``__radd__``): it calls what
    :data:`OPERATORS` holds for it, all or nothing. The guard is written out here rather
    than wrapped around a method: a second call frame would add ~50 ns to every operator,
    and derivative rules use operators for most nodes they build (~15 ns as it is)."""
    if unary:
        def method(self: Any) -> Any:
            graph = self.graph
            mark = len(graph._nodes)
            try:
                return OPERATORS[python](self)
            except BaseException:
                graph._undo(mark)
                raise
    elif swap:
        def method(self: Any, other: Any) -> Any:
            graph = self.graph
            mark = len(graph._nodes)
            try:
                return OPERATORS[python](other, self)
            except BaseException:
                graph._undo(mark)
                raise
    else:
        def method(self: Any, other: Any) -> Any:
            graph = self.graph
            mark = len(graph._nodes)
            try:
                return OPERATORS[python](self, other)
            except BaseException:
                graph._undo(mark)
                raise
    name = python.__name__.strip("_")
    method.__name__ = method.__qualname__ = f"__{'r' if swap else ''}{name}__"
    return method

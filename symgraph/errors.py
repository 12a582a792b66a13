"""The errors symgraph raises for a user's mistake.

Owns: :class:`SymgraphError` and its subclasses. Every message names the node or input
concerned and says what to do.

Imports: the standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SymgraphError(Exception):
    """Every mistake a user can make raises this (or a subclass).

    >>> import symgraph as sg
    >>> issubclass(sg.ShapeError, sg.SymgraphError)
    True
    """


class ShapeError(SymgraphError, ValueError):
    """Shapes that do not fit: found while building, or when a feed is checked."""


class ValueRefused(ValueError):
    """Raised by an op's NumPy forward for values it has no result for, with a message
    that says what to do; the backend running the op names the node before it and raises
    :class:`SymgraphError` (internal: users never catch this one).

    >>> str(ValueRefused("cast the base to float"))
    'cast the base to float'
    """


class MissingFeedError(SymgraphError, KeyError):
    """An input needed by the requested outputs was not fed.

    ``missing`` lists every such input node.
    """

    def __init__(self, message: str, missing: Sequence[Any] = ()):
        super().__init__(message)
        self.missing = tuple(missing)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])

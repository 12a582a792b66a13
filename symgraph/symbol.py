"""What a node refuses to be: mutable, true or false, a number, an array, a pickle.

Owns: :class:`Symbol`, the base of ``symgraph.graph.Node`` that turns each Python protocol a
symbol cannot honour (``setattr``, ``bool``, ``float``, ``np.asarray``, ``pickle``,
``f"{x:.3f}"``...) into a ``SymgraphError`` that names the node and says what to do, and
makes copies the node itself (nodes are immutable, like tuples).

Imports: the standard library and ``symgraph.errors`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from symgraph.errors import SymgraphError


class _ImmutableError(SymgraphError, AttributeError):
    """Setting an attribute of a node (an AttributeError too, as Python users expect)."""


def short(node: Any) -> str:
    """A short label for error messages that cannot afford a full formula.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     print(short(sg.var("x")), short(sg.sin(sg.var("y"))))
    'x' #2 (sin, shape ())
    """
    if node.name:
        return repr(node.name)
    return f"#{node.id} ({node.op}, shape {node.shape})"


class Symbol:
    """The protocols a node refuses, each with a message that says what to do instead.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> try:
    ...     bool(x > 0)
    ... except sg.SymgraphError as e:
    ...     print(str(e)[:48])
    the node #2 (greater, shape ()) is a symbol and
    """

    __slots__ = ()

    def __setattr__(self, key: str, value: Any, verb: str = "set") -> None:
        raise _ImmutableError(
            f"symgraph nodes are immutable (tried to {verb} {key!r} of {short(self)}); "
            "build a new node instead (sg.where, sg.concatenate)"
        )

    def __delattr__(self, key: str) -> None:  # (del node.name emptied the slot)
        self.__setattr__(key, None, "delete")

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__setattr__(f"[{key!r}]", value)

    def __copy__(self) -> Any:  # immutable: a copy is the node itself (a tuple's way)
        return self

    def __deepcopy__(self, memo: Any) -> Any:
        return self

    def __reduce__(self) -> Any:
        raise SymgraphError(f"the node {short(self)} cannot be pickled (it is part of its "
                            "graph); write the graph with sg.save(outputs, path)")

    def __bool__(self) -> bool:
        raise SymgraphError(
            f"the node {short(self)} is a symbol and has no truth value; "
            "use sg.where(cond, a, b) for a choice inside the graph, or sg.evaluate it first "
            "(to combine conditions write (x > 0) & (x < 1), not `and`/`or`/`not` or a "
            "chained 0 < x < 1, which ask for a truth value)"
        )

    def __iter__(self) -> Iterator[Any]:
        if not self.shape or self.shape[0] is None:
            raise SymgraphError(
                f"cannot iterate over the node {short(self)} of shape {self.shape}; "
                "index it (x[0]) instead"
            )
        return (self[i] for i in range(self.shape[0]))

    def __len__(self) -> int:
        if not self.shape or self.shape[0] is None:
            raise SymgraphError(
                f"the node {short(self)} of shape {self.shape} has no static length"
            )
        return self.shape[0]

    def __float__(self, *_: Any) -> float:
        raise SymgraphError(
            f"the node {short(self)} is a symbol, not a number; use sg.evaluate(node, feeds)"
        )

    __int__ = __float__
    __index__ = __float__
    __complex__ = __round__ = __float__  # (round(node, 2) too: sg.round is the node's)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        # np.asarray(node) would otherwise make a 0-d object array holding the symbol
        raise SymgraphError(
            f"the node {short(self)} is a symbol, not an array; "
            "use sg.evaluate(node, feeds) for its value, or sg.const(array) to put an array "
            "into the graph"
        )

    def __format__(self, spec: str) -> str:
        try:
            return format(str(self), spec)
        except ValueError:  # f"{node:.3f}": a number's format
            self.__float__()
            raise


# Python's shifts (% // divmod & | ^ ~ are NumPy's, on Node) say what to write, instead of
# Python's bare "TypeError: unsupported operand type(s) for <<: 'Node' and 'int'".
def _refuse(symbol: str, hint: str) -> Any:
    def refused(self: Any, *other: Any) -> Any:
        raise SymgraphError(f"symgraph nodes have no {symbol} ({short(self)}); {hint}")
    return refused


for _name in ("lshift", "rlshift", "rshift", "rrshift"):
    setattr(Symbol, f"__{_name}__", _refuse("shifts << >>", "multiply by a power of 2"))

"""What :func:`symgraph.simplify` did: the :class:`Trace` of which rule replaced which node.

Owns :class:`Step`, :class:`Trace` and how they label nodes (``#id`` and the node's
formula, shortened; ``str(node)``, which the top-level package points at the display).

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from symgraph.graph import Node, ancestors
from symgraph.ops.core import CONST, VAR

_SHOWN_STEPS = 200
_LABEL_CHARS = 60


@dataclass(frozen=True)
class Step:
    """One rewrite: ``rule`` (its name) of ``stage`` replaced ``before`` by ``after``."""

    rule: str
    stage: str
    before: Node
    after: Node

    def __str__(self) -> str:
        return f"{self.stage:<12} {self.rule:<20} {label(self.before)}  ->  {label(self.after)}"


def label(node: Node) -> str:
    """``#id formula``, the formula cut at 60 characters (a trace line, an error)."""
    text = str(node)
    if len(text) > _LABEL_CHARS:
        text = text[:_LABEL_CHARS - 1] + "…"
    return f"#{node.id} {text}"


def op_count(outputs: Sequence[Node]) -> int:
    """How many operation nodes (not inputs, not constants) ``outputs`` stand on."""
    return sum(1 for n in ancestors(outputs) if n.opdef is not VAR and n.opdef is not CONST)


class Trace:
    """What :func:`simplify` did: ``steps`` (each a :class:`Step`), the outputs ``before``
    and ``after`` (lists, to draw side by side with ``sg.to_svg``), their operation-node
    counts, the number of passes and the time taken. ``str`` shows it; ``counts()`` tells
    how often each rule fired.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y, t = sg.simplify(sg.exp(sg.log(x)) * 1, trace=True, assume_finite=True)
    >>> y is x, t.counts()
    (True, {'exp-log': 1, 'mul-one': 1})
    >>> print(t)  # doctest: +ELLIPSIS
    simplify: 3 -> 0 operation nodes, 2 rewrites in ... passes (...)
    canonicalize exp-log              #2 exp(log(x))  ->  #0 x
    canonicalize mul-one              #5 x*1  ->  #0 x
    """

    def __init__(self, before: list[Node]):
        self.before = list(before)
        self.after: list[Node] = []
        self.steps: list[Step] = []
        self.passes = 0
        self.seconds = 0.0
        self.nodes_before = op_count(before)
        self.nodes_after = 0

    def counts(self) -> dict[str, int]:
        """How many times each rule fired, in order of first firing."""
        out: dict[str, int] = {}
        for s in self.steps:
            out[s.rule] = out.get(s.rule, 0) + 1
        return out

    def fired(self, rule: str) -> bool:
        """Whether the rule named ``rule`` replaced at least one node."""
        return any(s.rule == rule for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __str__(self) -> str:
        head = (f"simplify: {self.nodes_before} -> {self.nodes_after} operation nodes, "
                f"{len(self.steps)} rewrites in {self.passes} passes "
                f"({self.seconds * 1e3:.1f} ms)")
        lines = [head] + [str(s) for s in self.steps[:_SHOWN_STEPS]]
        if len(self.steps) > _SHOWN_STEPS:
            lines.append(f"... {len(self.steps) - _SHOWN_STEPS} more (see trace.steps)")
        return "\n".join(lines)

    __repr__ = __str__

"""The names a picture gives its outputs: ``f``, ``df/dx``, ``d²f/dx²``.

Owns: reading the user's ``labels=`` (a list, one per output, or a dict keyed by output
node or position), finding which output is a derivative of which (``grad``, ``jacobian``
or ``hessian`` of another output, or of the node the derivative nodes point back to, with
respect to a named input), and writing the names in Leibniz's notation. A relation is
never guessed: each candidate is rebuilt by ``grad``/``jacobian``/``hessian`` on a scratch
copy of the graph, where interning gives back the very same node only if the output was
built that way. Drawing stays pure: the user's graph gains no node.

Outputs with neither a label nor a derivation keep the tags ``sg.pprint`` gives them
(``out0``, ``out1``...); once some output is named as a derivative, the other unnamed
outputs get letters (``f``, ``g``...) instead, so ``f`` and ``df/dx`` read together.

Imports: ``symgraph.graph``, ``symgraph.ops.core`` (op records), ``symgraph.autodiff``,
``symgraph.jacobians``, ``symgraph.display``'s formula and scene modules.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from typing import Any

from symgraph.autodiff import grad
from symgraph.jacobians import hessian, jacobian
from symgraph.display.formula import printable
from symgraph.display.scene import scratch_copy
from symgraph.graph import Node, SymgraphError, ancestors
from symgraph.ops.core import VAR

# Above this many ancestors, outputs are not examined (each check runs a grad on a copy).
NAME_LIMIT = 5000
# At most this many named inputs and back-pointed nodes are tried per output.
MAX_TRIES = 16
_LETTERS = ("f", "g", "h", "u", "v", "p", "q", "r")
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_WORD = re.compile(r"\w+")


def given_labels(outs: list[Node], labels: Any) -> dict[int, str]:
    """The user's labels by output position (``""`` hides an output's tag)."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        given = {}
        for key, text in labels.items():
            if isinstance(key, Node):
                where = [k for k, o in enumerate(outs) if o is key]
                if not where:
                    raise SymgraphError(f"sg.to_dot: labels names the node {key.op} #{key.id}, "
                                        "which is not one of the outputs; key labels by output")
                given[where[0]] = text
            elif isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(outs):
                given[key] = text
            else:
                raise SymgraphError(f"sg.to_dot: labels has the key {key!r}; use an output node "
                                    f"or a position 0..{len(outs) - 1}")
    elif isinstance(labels, Sequence) and not isinstance(labels, str):
        if len(labels) != len(outs):
            raise SymgraphError(f"sg.to_dot: {len(labels)} labels for {len(outs)} outputs; give "
                                "one per output (None to name it from how it was built)")
        given = {k: text for k, text in enumerate(labels) if text is not None}
    else:
        raise SymgraphError(f"sg.to_dot: labels must be a list (one per output) or a dict, got "
                            f"{type(labels).__name__}")
    for k, text in given.items():
        if not isinstance(text, str):
            raise SymgraphError(f"sg.to_dot: the label of output {k} must be a str, got "
                                f"{type(text).__name__}")
    return given


def output_names(outs: list[Node], labels: Any = None) -> dict[int, str]:
    """The tag of each output, by position: the user's label, else a derivative's name,
    else ``out<k>`` (several outputs) or nothing (one output, ``""``).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     f = sg.sin(x) * x
    ...     df = sg.grad(f, x)
    ...     d2f = sg.grad(df, x)
    >>> output_names([f, df, d2f])
    {0: 'f', 1: 'df/dx', 2: 'd²f/dx²'}
    """
    given = given_labels(outs, labels)
    finder = _Derivations(outs) if len(ancestors(outs)) <= NAME_LIMIT else None
    relation: dict[int, tuple[Node, list[Node]]] = {}
    if finder is not None:
        for k, o in enumerate(outs):
            if k not in given and o.order > 0:
                found = finder.derive(o, given)
                if found is not None:
                    relation[k] = found
    taken = {n.name for n in ancestors(outs) if n.name} | set(given.values())
    letters = (c for c in _LETTERS if c not in taken)
    base: dict[int, str] = {}  # node id -> name of a node other names derive from

    def name_of(node: Node) -> str:
        if node.id not in base:
            k = next((k for k, o in enumerate(outs) if o is node and k in given), None)
            base[node.id] = (given[k] if k is not None and given[k] else
                             node.name or next(letters, "y"))
        return base[node.id]

    names: dict[int, str] = {}
    for k, o in enumerate(outs):
        if k in given:
            names[k] = given[k]
        elif k in relation:
            root, wrt = relation[k]
            names[k] = leibniz(name_of(root), [printable(v.name) for v in wrt])
        elif relation:
            names[k] = name_of(o)
        else:
            names[k] = f"out{k}" if len(outs) > 1 else ""
    return names


def leibniz(base: str, wrt: list[str]) -> str:
    """``d²f/dx²`` for ``wrt = [x, x]``; ``d²f/dy dx`` for ``[x, y]`` (x first).

    >>> leibniz("f", ["x"]), leibniz("loss", ["x", "x", "y"]), leibniz("f+g", ["w"])
    ('df/dx', 'd³loss/dy dx²', 'd(f+g)/dw')
    """
    k = len(wrt)
    power = str(k).translate(_SUPERSCRIPT) if k > 1 else ""
    if not _WORD.fullmatch(base):
        base = f"({base})"
    groups: list[list] = []  # the last derivative taken is written first
    for v in reversed(wrt):
        if groups and groups[-1][0] == v:
            groups[-1][1] += 1
        else:
            groups.append([v, 1])
    below = " ".join(f"d{v}" + (str(p).translate(_SUPERSCRIPT) if p > 1 else "")
                     for v, p in groups)
    return f"d{power}{base}/{below}"


class _Derivations:
    """Which output is ``grad``/``jacobian``/``hessian`` of which node, checked by
    rebuilding it on one scratch copy (made when first needed)."""

    def __init__(self, outs: list[Node]):
        self.outs = outs
        self.copy: dict[int, Node] | None = None
        self.memo: dict[int, tuple[Node, list[Node]] | None] = {}

    def derive(self, o: Node, given: dict[int, str]) -> tuple[Node, list[Node]] | None:
        """(root, [x1, x2...]): ``o`` is the derivative of ``root`` w.r.t. x1, then x2..."""
        if o.id in self.memo:
            return self.memo[o.id]
        self.memo[o.id] = None  # (no cycles, but a failed search is not repeated)
        for p, wrt in self._relations(o):
            labelled = any(q is p and k in given for k, q in enumerate(self.outs))
            below = None if labelled or p.order == 0 else self.derive(p, given)
            self.memo[o.id] = (below[0], below[1] + wrt) if below else (p, wrt)
            return self.memo[o.id]
        return None

    def _candidates(self, o: Node) -> list[Node]:
        """Lower-order outputs (nearest order first); the node built just before o's
        ``grad`` call (``y = ...; sg.grad(y, x)``); then the nodes that o's derivative
        nodes point back to (``grad_of``), latest first: the y of the call is often there."""
        # (Of o's order too: a derivative may be a node built before, e.g. d/db of
        # cos(a)*b is the cos(a) that the first derivative made.)
        outs = sorted((p for p in self.outs if p.order <= o.order and p is not o),
                      key=lambda p: (-p.order, -p.id))
        below = ancestors([o])
        back = sorted({n.grad_of.id: n.grad_of for n in below
                       if n.grad_of is not None and n.grad_of is not o}.items(),
                      reverse=True)
        first = min((n.id for n in below if n.grad_call == o.grad_call), default=None)
        before = []
        if first is not None:
            nodes = o.graph.nodes
            k = bisect.bisect_left(nodes, first, key=lambda n: n.id)
            # (grad makes its seed constant first: the y is the op node before it)
            before = [n for n in nodes[max(0, k - 4):k][::-1] if n.order <= o.order
                      and n.inputs]
        seen: set[int] = set()
        found = []
        for p in [*outs, *before[:1], *(p for _, p in back)]:
            if p.id not in seen and p.dtype.kind in "fc":
                seen.add(p.id)
                found.append(p)
        return found[:MAX_TRIES]

    def _relations(self, o: Node):
        for p in self._candidates(o):
            inputs = [n for n in ancestors([p]) if n.opdef is VAR and n.name
                      and n.dtype.kind in "fc" and n in n.graph.by_name(n.name)]
            for v in inputs[:MAX_TRIES]:
                if p.shape == () and o.shape == v.shape and self._is(o, grad, p, v):
                    yield p, [v]
                elif (p.shape == () and v.shape and o.shape == v.shape * 2
                      and self._is(o, hessian, p, v)):
                    yield p, [v, v]
                elif p.shape and o.shape == p.shape + v.shape and self._is(o, jacobian, p, v):
                    yield p, [v]

    def _is(self, o: Node, derivative: Any, p: Node, v: Node) -> bool:
        if self.copy is None:
            extra = [p for q in self.outs for p in self._candidates(q)]
            self.copy = scratch_copy([*self.outs, *extra])
        if p.id not in self.copy:  # a node found below an output: copied on demand
            scratch_copy([p], self.copy)
        copy = self.copy
        if p.id not in copy or v.id not in copy:
            return False
        try:
            return derivative(copy[p.id], copy[v.id]) is copy[o.id]
        except SymgraphError:  # a rule that cannot run on the copy: no name, no error
            return False

"""The rule declaration and its pattern language.

Owns: :class:`Rule` (one declaration: name, stage, pattern, replacement, exactness), the
stages, the pattern language (nested tuples ``("multiply", X, ONE)`` with the wildcards
:class:`Var` and :class:`Const`), :class:`Match`, pattern compilation and matching. The
rules themselves are data in the ``rules_*`` modules; the engine that applies them is
``symgraph.rewrite.driver``.

A pattern is an op name followed by one pattern per input. ``X``, ``Y`` match any node
(the same name twice must be the same node: ``("subtract", X, X)``); ``Const(1)`` matches
a constant whose every element is 1, ``C``/``D`` any constant. Inputs of an op declared
``commutative`` (add, multiply, maximum, minimum) match in either order. A replacement
is a template in the same syntax (built with the public op constructors, so new nodes are
interned and their shapes and dtypes checked) or a function of the :class:`Match` that
returns a node, or ``None`` to decline. The engine keeps the node's static shape and
dtype: it broadcasts or casts (losslessly) a smaller or narrower result, and drops a
replacement that cannot be fitted.

Exactness: each rule declares whether it keeps every value, NaN, inf and the sign of
zero included, up to rounding (``exact=True``, the default: ``x*1 -> x``,
``log(1+x) -> log1p(x)``, which only rounds better); ``exact=False`` marks algebra that
holds for finite numbers only (``x*0 -> 0`` is NaN at inf), run only with
``assume_finite=True``; ``exact`` may also be a test of the :class:`Match` (``x + c -> x``
is exact when ``c`` is -0.0).

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.core import CONST, OPS, Op, is_const

# The stages, in the order they take turns. ``lower`` holds rules that only compile runs
# (see ``symgraph.rewrite.lower``); the stages without rules are skipped.
STAGES = ("merge", "canonicalize", "stabilize", "specialize", "lower")
ANY_OP = "*"  # the root of a rule without a pattern that looks at nodes of every op


@dataclass(frozen=True)
class Var:
    """A wildcard matching any node; the same name must match the same node.

    >>> from symgraph.rewrite import X, match
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x - x
    >>> [m["X"] is x for m in match(("subtract", X, X), y)]
    [True]
    """

    name: str


@dataclass(frozen=True)
class Const:
    """A wildcard matching a constant node whose every element equals ``number`` (any
    constant when ``number`` is None); ``name`` binds it for the replacement.

    >>> from symgraph.rewrite import ONE, X, match
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> len(list(match(("multiply", X, ONE), 1 * x)))   # either input order
    1
    """

    number: float | None = None
    name: str | None = None


X, Y = Var("X"), Var("Y")
C, D = Const(name="C"), Const(name="D")
ZERO, ONE, TWO, HALF, MINUS_ONE = Const(0), Const(1), Const(2), Const(0.5), Const(-1)

Pattern = Any  # tuple | Var | Const
Template = Any  # tuple | Var | Const | number


class Match:
    """What a pattern bound: ``m.node`` (the matched node), ``m["X"]`` (a bound node),
    ``m.value("C")`` (a bound constant's array), ``m.consts`` (every constant matched) and
    ``m.state`` (a dict the engine keeps for one pass, for rules that compare nodes)."""

    __slots__ = ("bound", "consts", "node", "state")

    def __init__(self, node: Node, bound: dict[str, Node], consts: tuple[Node, ...],
                 state: dict | None = None):
        self.node, self.bound, self.consts = node, bound, consts
        self.state = state if state is not None else {}

    def __getitem__(self, name: str) -> Node:
        return self.bound[name]

    def value(self, name: str) -> np.ndarray:
        return self.bound[name].attrs["value"]


def match(pattern: Pattern, node: Node) -> Iterator[Match]:
    """Every way ``pattern`` matches ``node`` (recursion follows the small pattern only).

    >>> from symgraph.rewrite import C, X, match
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> [float(m.value("C")) for m in match(("multiply", C, X), x * 3)]
    [3.0]
    """
    for bound, consts in compile_pattern(pattern)(node, {}, ()):
        yield Match(node, bound, consts)


Matcher = Callable[[Node, dict, tuple], list]
_COMPILED: dict[Any, Matcher] = {}


def compile_pattern(pattern: Pattern) -> Matcher:
    """``pattern`` as a function ``(node, bound, consts) -> [(bound, consts), ...]``, one
    entry per way it matches: the pattern's structure is decided once, not on each node
    (closures, built bottom-up; patterns are a few levels deep).

    >>> from symgraph.rewrite import X, compile_pattern
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x - x
    >>> [b["X"] is x for b, _ in compile_pattern(("subtract", X, X))(y, {}, ())]
    [True]
    """
    found = _COMPILED.get(pattern)
    if found is None:
        found = _COMPILED[pattern] = _compile(pattern)
    return found


def op_named(name: str) -> Op:
    """The declared op a pattern or template names (a misspelt name fails at import)."""
    found = OPS.get(name)
    if found is None:
        raise ValueError(f"a rewrite pattern names the op {name!r}, which is not declared")
    return found


def _compile(p: Pattern) -> Matcher:
    # Lists, not generators: most matches fail at the first level, and cheaply.
    if isinstance(p, Var):
        name = p.name

        def var(node: Node, bound: dict, consts: tuple) -> list:
            prev = bound.get(name)
            if prev is None:
                return [({**bound, name: node}, consts)]
            return [(bound, consts)] if prev is node else []
        return var
    if isinstance(p, Const):
        number, cname = p.number, p.name

        def const(node: Node, bound: dict, consts: tuple) -> list:
            if node.opdef is not CONST or (number is not None and not is_const(node, number)):
                return []
            if cname is None:
                return [(bound, consts + (node,))]
            if bound.get(cname, node) is node:
                return [({**bound, cname: node}, consts + (node,))]
            return []
        return const
    opdef, parts = op_named(p[0]), tuple(compile_pattern(a) for a in p[1:])
    arity, swap = len(parts), opdef.commutative

    def apply(node: Node, bound: dict, consts: tuple) -> list:
        ins = node.inputs
        if node.opdef is not opdef or len(ins) != arity:
            return []
        found = _match_all(parts, ins, bound, consts)
        if swap and ins[0] is not ins[1]:
            found += _match_all(parts, ins[::-1], bound, consts)
        return found
    return apply


def _match_all(parts: tuple, nodes: tuple, bound: dict, consts: tuple) -> list[tuple]:
    partial = [(bound, consts)]
    for f, node in zip(parts, nodes):
        partial = [r for b, c in partial for r in f(node, b, c)]
        if not partial:
            break
    return partial


def instantiate(template: Template, m: Match) -> Any:
    """Build a template with the public op constructors (numbers take the other
    operand's dtype, as in any expression)."""
    if isinstance(template, (Var, Const)):
        return m[template.name]
    if not isinstance(template, tuple):
        return template
    args = [instantiate(t, m) for t in template[1:]]
    return getattr(ops, template[0])(*args)


@dataclass(frozen=True)
class Rule:
    """One rewrite: ``pattern`` (or None: the rule looks at every node of ``roots``)
    replaced by ``replace`` (a template or a function of the :class:`Match`).

    ``region`` marks the one rule the engine runs over whole sums of products
    (``collect-terms``) instead of node by node. ``exact``: True (the value is kept on
    every input, NaN, inf and -0.0 included, up to rounding), False (only for finite
    values: run with ``assume_finite=True`` only), or a test of the :class:`Match` (exact
    where it returns True).

    >>> from symgraph.rewrite import RULES
    >>> rule = next(r for r in RULES if r.name == "mul-one")
    >>> rule.stage, rule.roots
    ('canonicalize', ('multiply',))
    """

    name: str
    stage: str
    pattern: Pattern | None
    replace: Template | Callable[[Match], Node | None] | None
    doc: str = ""
    roots: tuple[str, ...] = ()
    region: bool = False
    # For rules without a pattern: a cheap test of the node before ``replace`` is called.
    when: Callable[[Node], bool] | None = None
    # Whether ``when`` looks only at the node's op and its inputs' ops (and constants'
    # values): the engine then asks it once per signature, not on every node.
    when_by_ops: bool = False
    exact: bool | Callable[[Match], bool] = True

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"rule {self.name!r}: stage {self.stage!r} is not one of {STAGES}")
        if not self.roots and isinstance(self.pattern, tuple):
            object.__setattr__(self, "roots", (self.pattern[0],))
        # What the inputs must be, one level down (an op, a Const, or None for anything):
        # most nodes fail this cheap test.
        needs = None
        if isinstance(self.pattern, tuple):
            needs = tuple(op_named(a[0]) if isinstance(a, tuple) else a if isinstance(a, Const)
                          else None for a in self.pattern[1:])
        object.__setattr__(self, "_needs", needs)
        object.__setattr__(self, "matcher", compile_pattern(self.pattern)
                           if self.pattern is not None else None)
        # ("subtract", X, X): the two inputs must be one node
        same = (isinstance(self.pattern, tuple) and len(self.pattern) == 3
                and isinstance(self.pattern[1], Var) and self.pattern[1] == self.pattern[2])
        object.__setattr__(self, "_same", same)

    def could_match(self, node: Node) -> bool:
        """A quick necessary condition for :meth:`rewrite` to find anything: the ops of
        the inputs, and the value of a constant the pattern names (``ONE``)."""
        needs = self._needs  # type: ignore[attr-defined]
        if needs is None:
            return self.when is None or self.when(node)
        inputs = node.inputs
        if len(inputs) != len(needs):
            return False
        if len(needs) == 1:
            return _fits(needs[0], inputs[0])
        if self._same:  # type: ignore[attr-defined]
            return inputs[0] is inputs[1]
        if len(needs) > 2:
            return all(_fits(n, i) for n, i in zip(needs, inputs))
        (a, b), (i, j) = needs, inputs
        if _fits(a, i) and _fits(b, j):
            return True
        return node.opdef.commutative and _fits(a, j) and _fits(b, i)

    def rewrite(self, node: Node, state: dict | None = None) -> Iterator[tuple[Node | None, Match]]:
        """Each candidate replacement of ``node`` (None where the rule declines)."""
        if self.pattern is None:
            m = Match(node, {}, (), state)
            yield self.replace(m), m
            return
        for bound, consts in self.matcher(node, {}, ()):  # type: ignore[attr-defined]
            m = Match(node, bound, consts, state)
            if callable(self.replace):
                yield self.replace(m), m
            else:
                yield instantiate(self.replace, m), m


def _fits(need: Op | Const | None, node: Node) -> bool:
    """Whether ``node`` can be what one input of a pattern asks for, looking at it alone."""
    if need is None:
        return True
    if isinstance(need, Const):
        return node.opdef is CONST and (need.number is None or is_const(node, need.number))
    return node.opdef is need


def const_numbers(rules: Any) -> frozenset[float]:
    """The numbers that the patterns of ``rules`` ask constants to be (``ONE`` -> 1).

    >>> from symgraph.rewrite import RULES
    >>> sorted(const_numbers(RULES))
    [-1.0, 0.0, 0.5, 1.0, 2.0]
    """
    out: set[float] = set()
    stack = [r.pattern for r in rules if r.pattern is not None]
    while stack:
        p = stack.pop()
        if isinstance(p, Const) and p.number is not None:
            out.add(float(p.number))
        elif isinstance(p, tuple):
            stack.extend(p[1:])
    return frozenset(out)

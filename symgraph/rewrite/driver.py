"""Graph rewrites: ``sg.simplify`` returns equivalent, smaller nodes in the same graph.

Owns: the engine that applies the rules of ``symgraph.rewrite_rules`` to a fixpoint, the
``collect-terms`` rule (sums of products as polynomials, rebuilt in Horner form), and the
:class:`Trace` of which rule replaced which node.

How it runs (PyTensor's staged rewriting, made small). The stages ``merge``,
``canonicalize``, ``stabilize`` and ``specialize`` take turns; each repeats passes until
one changes nothing, and the cycle stops once every stage is clean. ``merge`` runs inside
``canonicalize``'s passes (its rules first on each node): a pass of its own would rebuild
everything above each merged node once more, and the grad of a simplified node always
has some ``b*a`` to merge into an existing ``a*b``. A pass goes over the
outputs' ancestors in id order (a topological order: no recursion, so chains of 100,000
nodes are fine), rebuilds a node whose inputs were replaced, then tries the stage's rules
on it until none fires. Replacements are built with the public op constructors (Horner
steps with ``ops.core.make``, as they would call it), so they are interned (equal
subexpressions stay one node) and their shapes and dtypes checked.
The graph is append-only: replaced nodes stay in it, unreferenced by the results.

Cost. A node is *settled* in a stage once no rule of the stage fires on it and its inputs
are settled, so everything under a settled node is too: a pass walks only the unsettled
nodes, and one over an unchanged graph costs nothing. Only the nodes whose inputs were
replaced are rebuilt, once each. A replacement with new nodes inside (a template's inner
nodes) is settled at once, so no later pass rebuilds everything above it again. Which
rules can match a node is decided once per signature (its op, its inputs' ops and which
of the patterns' numbers a constant input is: ``x*1`` and ``x*3`` differ), in tables
kept across calls; patterns are compiled to closures once, and a rule whose match fails
costs only that failed match.
Nodes that an earlier ``simplify`` returned are remembered (in ``graph.cache``) as
fixpoints and not looked at again: simplifying after each of repeated ``grad`` calls
costs about the new nodes only (and a collect pass, likewise, looks only at sums with
a node built since the last one). On graphs of more than ``COLLECT_LIMIT`` nodes the
stages are *fused*: one sweep tries every stage's rules on each node, in stage order
(its inputs are by then done in every stage), which halves the rebuilding there; a
canonical rule of a node then sees its inputs already stabilized (``exp(log(1 + x))``
stays ``exp(log1p(x))`` there, while the staged run gives ``1 + x``).

``collect-terms`` runs in canonicalize's passes: after the local rules, except on more
than ``COLLECT_FIRST`` new nodes built over an earlier simplify's result (the grad of a
simplified node), where it goes first and the local rules see the smaller collected
graph (W2b with assume_finite: 37 -> 17 ms for eight orders, the same 208 nodes).

``collect-terms`` is polynomial algebra: exact for real numbers, not for floats (``x - x``
is NaN at inf, Horner form overflows elsewhere), so it runs only with ``assume_finite``.
It gives up on sums of more than ``MAX_TERMS``
terms or ``MAX_FACTORS`` factors, it does not run on graphs of more than
``COLLECT_LIMIT`` nodes (too slow there), and if it leaves the graph larger than it was
(it can duplicate a subexpression that another consumer still needs), the result of the
local rules alone is returned instead.

Exactness. By default only the rules declared exact run (``Rule.exact``): every value is
kept, NaN, inf and the sign of zero included, up to rounding, so ``sg.compile`` (which
simplifies) returns what ``sg.evaluate`` does on every input. ``assume_finite=True`` adds
the algebra of real numbers (``x*0 -> 0``, ``x - x -> 0``, ``x/x -> 1``, ``exp(log x) ->
x``, like terms collected, overflow-free stabilizations), PyTensor's default: right while
every value in the graph is finite, wrong (an inf or NaN vanishes, -0.0 becomes 0.0)
otherwise. The two modes keep separate records of the nodes they returned.

Provenance: a node built to replace node ``n`` gets ``n``'s derivative order, ``grad``
call, ``grad_of`` and name scope (built inside ``graph.derivative_context(n.order,
n.grad_call)`` when ``n.order > 0``, else as a user node), so a simplified k-th
derivative is still of order k and ``grad`` of it is of order k + 1. A replacement that
already existed keeps its own provenance, as interning always does.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.rewrite_rules``,
``symgraph.display.formula`` (a trace's labels).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph import graph as _graph
from symgraph import ops
from symgraph.display.formula import formula
from symgraph.graph import Node, SymgraphError, ancestors, derivative_context, user_context
from symgraph.ops.core import OPS, broadcast_shapes, is_const, make
from symgraph.rewrite.patterns import (RULES, STAGES, Match, Rule, const_numbers, fill,
                                    instantiate)

__all__ = ["simplify", "Trace", "Step"]

MAX_PASSES = 20  # per stage visit; a stage that never settles is a rule bug
MAX_STAGE_VISITS = 40
MAX_LOCAL = 32  # rules fired on one node within one pass
MAX_DEPTH = 8  # nesting of replacements settled at once (deeper: the next pass does it)
MAX_TERMS = 400  # a sum of products larger than this is left as it is (an atom)
COLLECT_LIMIT = 3000  # graphs (ancestors of the outputs) larger than this: no collect-terms
MAX_FACTORS = 400  # nor one whose monomials hold more atom factors than this, in total
MAX_POWER = 16  # x**k with a constant integer k <= this is expanded as a product
COLLECT_FIRST = 64  # more new (not yet simplified) nodes than this: collect terms first
_SHOWN_STEPS = 200
# graph.cache key of the ids of nodes that simplify returned (fixpoints of RULES); the
# key with _FINITE appended: those that simplify(..., assume_finite=True) returned
_CLEAN_KEY = "symgraph.rewrite.clean"
_FINITE = ".assume_finite"
_FUSED = "all stages"  # the one pseudo-stage of a fused rewriter
_MERGED = "merge+canonicalize"  # the first pseudo-stage of a staged rewriter
_ANY = [({}, ())]  # what a rule without a pattern "matched": nothing bound


# --- the trace ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One rewrite: ``rule`` (its name) of ``stage`` replaced ``before`` by ``after``."""

    rule: str
    stage: str
    before: Node
    after: Node

    def __str__(self) -> str:
        return f"{self.stage:<12} {self.rule:<20} {_label(self.before)}  ->  {_label(self.after)}"


def _label(node: Node) -> str:
    return f"#{node.id} {formula(node, max_depth=6, max_chars=60)}"


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
        self.nodes_before = _op_count(before)
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


def _op_count(outputs: Sequence[Node]) -> int:
    return sum(1 for n in ancestors(outputs) if n.op not in ("var", "const"))


# --- the public function --------------------------------------------------------------------------


def simplify(outputs: Any, trace: bool = False, assume_finite: bool = False) -> Any:
    """Equivalent, simplified nodes for ``outputs``, in the same graph.

    ``outputs`` is a node, or a list or tuple of nodes; the result has the same structure.
    Values are unchanged on every input, NaN, inf and -0.0 included, up to rounding; so
    are every output's static shape and dtype. ``assume_finite=True`` also applies the
    algebra of real numbers (``x*0 -> 0``, ``x - x -> 0``, ``x/x -> 1``, ``exp(log x) ->
    x``, like terms collected, ``log(1 + exp x) -> softplus(x)``): exact only while every
    value in the graph is finite (``x*0`` is NaN at ``x = inf``, the rewrite gives 0). With
    ``trace=True`` the result is ``(result, trace)``: a :class:`Trace` of every rewrite.
    The rules, their stages and which need ``assume_finite``:
    ``symgraph.rewrite_rules.rules_table()``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,), dtype="float32")
    ...     e = 2 * (3 * x) + x * 0 + sg.log(1 + sg.exp(-x))
    ...     y, z = sg.simplify(e), sg.simplify(e, assume_finite=True)
    >>> str(y), str(z), z.shape, z.dtype.name
    ('6*x + x*0 + log1p(exp(-x))', '6*x + softplus(-x)', (3,), 'float32')
    """
    nodes, kind = _as_outputs(outputs)
    record = Trace(nodes) if trace else None
    start = time.perf_counter()
    # Collecting terms is polynomial algebra: worth it on derivative towers, too slow on
    # graphs of many thousand nodes (a known limit), where only the local rules run.
    # the graph's size bounds the outputs' ancestors: most calls need no walk to decide
    small = (len(nodes[0].graph) <= COLLECT_LIMIT
             or _size_upto(nodes, COLLECT_LIMIT) <= COLLECT_LIMIT)
    # Every node a rewrite builds stays alive, so collector runs would only cost time.
    with _graph.gc_paused():
        rewriter = _Rewriter(record, collect=small, fused=not small,
                             assume_finite=assume_finite)
        try:
            result = rewriter.run(nodes)
        finally:
            rewriter.provenance.close()
        if rewriter.collected and _op_count(result) > _op_count(nodes):
            # Collecting terms can duplicate subexpressions that other consumers still need
            # (a known weakness on wide random DAGs): then keep only the local rules' work.
            if record is not None:
                record.steps.clear()
            rewriter = _Rewriter(record, collect=False, assume_finite=assume_finite)
            try:
                result = rewriter.run(nodes)
            finally:
                rewriter.provenance.close()
    if record is not None:
        record.after = list(result)
        record.passes = rewriter.passes
        record.seconds = time.perf_counter() - start
        record.nodes_after = _op_count(result)
    shaped: Any = result[0] if kind is Node else kind(result)
    return (shaped, record) if trace else shaped


def _size_upto(outputs: Sequence[Node], limit: int) -> int:
    """How many ancestors ``outputs`` have, counting stops past ``limit``."""
    seen: set[int] = set()
    stack = list(outputs)
    while stack and len(seen) <= limit:
        node = stack.pop()
        if node.id not in seen:
            seen.add(node.id)
            stack.extend(i for i in node.inputs if i.id not in seen)
    return len(seen)


def _fresh_over_clean(outputs: Sequence[Node], clean: set[int], limit: int) -> bool:
    """Whether ``outputs`` have more than ``limit`` ancestors not in ``clean`` and reach
    down into ``clean`` (a graph built on what an earlier simplify returned)."""
    seen: set[int] = set()
    stack = [o for o in outputs if o.id not in clean]
    reached = False
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        if len(seen) > limit and reached:
            return True
        for i in node.inputs:
            if i.id in clean:
                reached = True
            elif i.id not in seen:
                stack.append(i)
    return reached and len(seen) > limit


def _as_outputs(outputs: Any) -> tuple[list[Node], type]:
    if isinstance(outputs, Node):
        return [outputs], Node
    if isinstance(outputs, (list, tuple)) and outputs:
        for o in outputs:
            if not isinstance(o, Node):
                raise SymgraphError(f"sg.simplify: outputs hold {o!r}, which is not a node; "
                                    "pass a node or a list of nodes")
        if any(o.graph is not outputs[0].graph for o in outputs):
            raise SymgraphError("sg.simplify: the outputs belong to different graphs; "
                                "simplify the nodes of each graph separately")
        return list(outputs), type(outputs)
    raise SymgraphError(f"sg.simplify: outputs must be a node or a non-empty list of nodes, "
                        f"got {type(outputs).__name__}")


# --- provenance -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _in_scope(scope: str) -> Iterator[None]:
    token = _graph._scope.set(scope)
    try:
        yield
    finally:
        _graph._scope.reset(token)


class _Provenance:
    """Builds nodes as if made where the node they replace was made (order, call, scope).

    Contexts switch only when the provenance changes: nodes in id order come in runs."""

    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.key: tuple | None = None
        self.ctx: Any = None

    def use(self, node: Node) -> None:
        key = (node.order, node.grad_call, node.scope)
        if key != self.key:
            self.close()
            if node.order > 0:
                self.ctx = self.stack.enter_context(
                    derivative_context(node.order, node.grad_call))
            else:
                self.stack.enter_context(user_context())
            self.stack.enter_context(_in_scope(node.scope))
            self.key = key
        if self.ctx is not None:
            self.ctx.grad_of = node.grad_of

    def close(self) -> None:
        self.stack.close()
        self.stack = contextlib.ExitStack()
        self.key = self.ctx = None


def _unsettled(outputs: Sequence[Node], settled: set[int], clean: set[int]) -> list[Node]:
    """The ancestors of ``outputs`` that are neither settled nor clean, in id order
    (iterative; the walk stops at settled and clean nodes, whose subtrees are too)."""
    seen: dict[int, Node] = {}
    stack = [o for o in outputs if o.id not in settled and o.id not in clean]
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen[node.id] = node
        for i in node.inputs:
            if i.id not in seen and i.id not in settled and i.id not in clean:
                stack.append(i)
    return [seen[i] for i in sorted(seen)]


# --- the engine -----------------------------------------------------------------------------------


class _Tables:
    """Which rules to try on which op, per stage, and the candidate lists per signature:
    built once per rule set and kept (most simplify calls use ``RULES``; building the
    signatures anew each call cost as much as simplifying a small derivative)."""

    def __init__(self, rules: Sequence[Rule], collect: bool, fused: bool,
                 assume_finite: bool = False):
        # without assume_finite, inexact rules are left out and conditional ones checked
        rules = [r for r in rules if assume_finite or r.exact is not False]
        self.signatures: dict[tuple, list[Rule]] = {}
        # the constants a signature tells apart: the numbers the patterns name
        self.numbers = sorted(const_numbers(rules))
        self.by_stage: dict[str, dict[str, list[Rule]]] = {s: {} for s in STAGES}
        self.collect: dict[str, Rule] = {}
        for rule in rules:
            if rule.region:
                if collect:
                    self.collect[rule.stage] = rule
                continue
            for root in rule.roots:
                self.by_stage[rule.stage].setdefault(root, []).append(rule)
        for table in self.by_stage.values():  # rules for any op come last, for every op
            anywhere = table.get("*", [])
            for op, listed in table.items():
                if op != "*":
                    listed.extend(anywhere)
        if fused:  # every stage's rules on each node in one sweep (large graphs)
            self.stages = self._join(STAGES, _FUSED)
        else:
            # merge's rules run in canonicalize's passes, first on each node: a separate
            # merge pass would rebuild everything above each merged node once more
            self.stages = self._join(("merge", "canonicalize"), _MERGED) + STAGES[2:]

    def _join(self, stages: tuple[str, ...], name: str) -> tuple[str, ...]:
        """One pseudo-stage ``name`` trying the rules of ``stages`` on each node, in order."""
        ops_seen = {op for s in stages for op in self.by_stage[s]}
        self.by_stage[name] = {op: [r for s in stages for r in self.by_stage[s].get(
            op, self.by_stage[s].get("*", []))] for op in ops_seen}
        collect = [self.collect.pop(s) for s in stages if s in self.collect]
        if collect:
            self.collect[name] = collect[0]
        return (name,)


_TABLES: dict[tuple, tuple[Sequence[Rule], _Tables]] = {}


def _tables(rules: Sequence[Rule], collect: bool, fused: bool,
            assume_finite: bool = False) -> _Tables:
    key = (tuple(id(r) for r in rules), collect, fused, assume_finite)
    found = _TABLES.get(key)
    # the rules are kept with their tables, so their ids cannot be reused by others
    if found is None or list(found[0]) != list(rules):
        if len(_TABLES) > 64:  # callers passing ever new rule lists: no unbounded growth
            _TABLES.clear()
        found = _TABLES[key] = (list(rules), _Tables(rules, collect, fused, assume_finite))
    return found[1]


class _Rewriter:
    def __init__(self, record: Trace | None, rules: Sequence[Rule] = RULES,
                 collect: bool = True, fused: bool = False, assume_finite: bool = False):
        self.record = record
        self.provenance = _Provenance()
        self.passes = 0
        # (collect-terms is inexact: without assume_finite, collect changes nothing)
        self.default_rules = rules is RULES and (collect or not assume_finite)
        self.clean_key = _CLEAN_KEY + (_FINITE if assume_finite else "")
        self.check_exact = not assume_finite  # a conditionally exact rule asks per match
        self.clean: set[int] = set()
        tables = _tables(rules, collect, fused, assume_finite)
        self.signatures, self.numbers = tables.signatures, tables.numbers
        self.by_stage, self.collect, self.stages = tables.by_stage, tables.collect, tables.stages
        self.settled: dict[str, set[int]] = {s: set() for s in self.stages}
        self.const_keys: dict[int, tuple] = {}
        self.collected = False  # whether collect-terms replaced anything
        # ids of the nodes a collect pass of this run returned: fixpoints of collect-terms,
        # so a later collect pass looks only at what local rules built since
        self.collect_done: set[int] = set()

    def run(self, outputs: list[Node]) -> list[Node]:
        # Nodes an earlier simplify returned are fixpoints of every rule: they are not looked
        # at again, so simplifying between repeated grads costs only the new nodes.
        if self.default_rules:
            self.clean = outputs[0].graph.cache.setdefault(self.clean_key, set())
        result = self._run(outputs)
        if self.default_rules:
            self.clean.update(n.id for n in ancestors(result, stop=self.clean))
        return result

    def _run(self, outputs: list[Node]) -> list[Node]:
        clean, visits, stages = 0, 0, self.stages
        # Many new nodes over an earlier simplify's result (grad of a simplified node):
        # terms are collected before the local rules run, which then see the smaller
        # collected graph (their sign and constant moves inside the chain rule's sums of
        # products would only be redone by collecting). Elsewhere the local rules go
        # first: a small expression's trace names them (x*1 -> x by mul-one), and on wide
        # random DAGs collecting first can leave larger graphs.
        first = bool(self.collect) and _fresh_over_clean(outputs, self.clean, COLLECT_FIRST)
        while clean < len(stages):
            if visits >= MAX_STAGE_VISITS:
                raise SymgraphError("sg.simplify did not settle; a rewrite rule undoes another")
            stage = stages[visits % len(stages)]
            visits += 1
            changed_any = False
            collected = False
            for _ in range(MAX_PASSES):
                changed = False
                if first and stage in self.collect and not collected:
                    outputs, changed = self._collect_pass(outputs, self.collect[stage])
                    collected = True
                outputs, local = self._local_pass(outputs, stage)
                # collecting is idempotent: after a collect pass, only a local change can
                # give it more to do
                if stage in self.collect and (local or not collected) and not first:
                    outputs, changed = self._collect_pass(outputs, self.collect[stage])
                    collected = True
                elif local:
                    collected = False
                if not (changed or local):
                    break
                changed_any = True
            # a stage that changed things ran until a pass changed nothing: it is clean now
            clean = 1 if changed_any else clean + 1
        return outputs

    def _note(self, rule: Rule, before: Node, after: Node) -> None:
        if self.record is not None:
            self.record.steps.append(Step(rule.name, rule.stage, before, after))

    def _rebuild(self, node: Node, inputs: tuple[Node, ...]) -> Node:
        new = make(node.opdef, inputs, node.attrs)
        if new.shape != node.shape or new.dtype != node.dtype:
            raise SymgraphError(
                f"sg.simplify: rebuilding node #{node.id} ({node.op}) changed its shape or "
                f"dtype from {node.shape} {node.dtype} to {new.shape} {new.dtype}; a rewrite "
                "rule is wrong (please report it)")
        return new

    def _local_pass(self, outputs: list[Node], stage: str) -> tuple[list[Node], bool]:
        self.passes += 1
        return self._settle(outputs, stage, {}, None, 0)

    def _settle(self, outputs: list[Node], stage: str, state: dict, origin: Node | None,
                depth: int) -> tuple[list[Node], bool]:
        """One bottom-up pass over the nodes of ``outputs`` not yet settled in ``stage``.

        Invariant: a node is *settled* (a fixpoint of the stage) only when its inputs are
        settled or clean, so the whole subtree under it is; the walk stops at settled
        nodes and a pass over an unchanged graph costs only the new nodes. Only replaced
        nodes go in ``repl``: a node none of whose inputs changed is not rebuilt.
        """
        rules = self.by_stage[stage]
        anywhere = rules.get("*", [])
        settled, clean = self.settled[stage], self.clean
        repl: dict[int, Node] = {}
        changed = False
        for n in _unsettled(outputs, settled, clean):
            cur = n
            if repl:
                for i in n.inputs:
                    if i.id in repl:
                        self.provenance.use(n if origin is None else origin)
                        cur = self._rebuild(n, tuple(repl.get(i.id, i) for i in n.inputs))
                        break
                if cur is not n and (cur.id in settled or cur.id in clean):
                    repl[n.id] = cur
                    changed = True
                    continue
            done = True
            if self._candidates(cur, stage, rules, anywhere):
                cur, done = self._fire(cur, n if origin is None else origin, rules, anywhere,
                                       state, stage, depth)
            if done and cur.id not in clean:
                for i in cur.inputs:  # settled only above settled (or clean) inputs
                    if i.id not in settled and i.id not in clean:
                        break
                else:
                    settled.add(cur.id)
            if cur is not n:
                repl[n.id] = cur
                changed = True
        return [repl.get(o.id, o) for o in outputs], changed

    def _candidates(self, node: Node, stage: str, rules: dict, anywhere: list) -> list[Rule]:
        """The stage's rules whose pattern can match ``node``, by the ops of its inputs and
        the values of its constant inputs: what ``could_match`` decides depends on nothing
        else, so it is asked once per signature (rules with a ``when`` test are kept; it
        runs on each node)."""
        ins = node.inputs
        if len(ins) == 2:
            a, b = ins
            key = (stage, node.op, a.op if a.op != "const" else self._const_key(a),
                   b.op if b.op != "const" else self._const_key(b), a is b)
        else:
            key = (stage, node.op, *[i.op if i.op != "const" else self._const_key(i)
                                     for i in ins])
        found = self.signatures.get(key)
        if found is None:
            found = self.signatures[key] = [
                r for r in rules.get(node.op, anywhere)
                if (r.pattern is None and not r.when_by_ops) or r.could_match(node)]
        return found

    def _const_key(self, node: Node) -> tuple:
        """A constant's part of a signature: which number of the patterns' it is, if any."""
        key = self.const_keys.get(node.id)
        if key is None:
            number = next((v for v in self.numbers if is_const(node, v)), None)
            key = self.const_keys[node.id] = ("const", number)
        return key

    def _fire(self, cur: Node, origin: Node, rules: dict, anywhere: list, state: dict,
              stage: str, depth: int) -> tuple[Node, bool]:
        """Apply the stage's rules to ``cur`` until none fires (the node's own fixpoint);
        the flag says whether it got there. A replacement with new nodes inside (a
        template's inner nodes) is settled at once, bottom-up, so no later pass has to
        rebuild everything above it again."""
        settled, clean = self.settled[stage], self.clean
        for _ in range(MAX_LOCAL):
            for rule in self._candidates(cur, stage, rules, anywhere):
                if rule.when is not None and not rule.when_by_ops and not rule.when(cur):
                    continue
                # the rule's matcher directly (not Rule.rewrite's generator): most
                # candidates fail, and a failure should cost only the match
                found = rule.matcher(cur, {}, ()) if rule.pattern is not None else _ANY
                if not found:
                    continue
                replacement = None
                self.provenance.use(origin)
                exact = rule.exact if self.check_exact and rule.exact is not True else None
                try:
                    for bound, consts in found:
                        m = Match(cur, bound, consts, state)
                        if exact is not None and not exact(m):
                            continue  # a value changes here: only with assume_finite
                        candidate = (rule.replace(m) if callable(rule.replace)
                                     else instantiate(rule.replace, m))
                        replacement = _fit(cur, candidate, m, rule)
                        if replacement is not None:
                            break
                except SymgraphError:
                    raise
                except Exception as exc:  # noqa: BLE001 - MemoryError, a rule's bug: name the node
                    raise SymgraphError(
                        f"sg.simplify: rule {rule.name!r} failed on node #{cur.id} "
                        f"({_label(cur)}): {type(exc).__name__}: {exc}; simplify without "
                        "this node, or report the rule") from None
                if replacement is not None:
                    self._note(rule, cur, replacement)
                    cur = replacement
                    if cur.id in settled or cur.id in clean:
                        return cur, True
                    if depth < MAX_DEPTH and any(
                            i.id not in settled and i.id not in clean for i in cur.inputs):
                        (cur,), _ = self._settle([cur], stage, state, origin, depth + 1)
                        return cur, cur.id in settled
                    break
            else:
                return cur, True
        return cur, False

    # --- collect-terms: a region rule --------------------------------------------------------

    def _collect_pass(self, outputs: list[Node], rule: Rule) -> tuple[list[Node], bool]:
        """Rebuild each maximal sum of products from its polynomial, where that is smaller.

        A node is *absorbed* when it is a polynomial op of static shape whose inputs share
        its shape and dtype (or are scalar constants); a *root* is absorbed but needed by
        something else (an output, a non-polynomial consumer). Each root's polynomial over
        its atoms (every other node; other roots count as atoms, so shared nodes stay
        shared) is rebuilt in Horner form if that has fewer nodes than the root's region.
        """
        self.passes += 1
        nodes = ancestors(outputs)
        needed = {o.id for o in outputs}
        eligible: set[int] = set()
        # Regions made only of clean nodes were settled by an earlier simplify: only fresh
        # sums of products, and the clean ones they reach down into, are collected.
        clean, done = self.clean, self.collect_done
        reach: set[int] = set()
        for n in reversed(nodes):
            if ((n.id not in clean and n.id not in done) or n.id in reach) and _eligible(n):
                eligible.add(n.id)
                reach.update(i.id for i in n.inputs)
        for n in nodes:
            if n.id not in eligible:
                needed.update(i.id for i in n.inputs)
        polys: dict[int, dict] = {}
        for n in nodes:
            if n.id not in eligible:
                continue
            args = [polys[i.id] if i.id in polys and i.id not in needed else _atom_poly(i)
                    for i in n.inputs]
            p = _combine(n, args)
            if p is None:  # too large: n stays as it is, an atom to its consumers
                needed.update(i.id for i in n.inputs)
            else:
                polys[n.id] = p
        plans: dict[int, _Plan] = {}
        demanded: set[int] = set()
        for n in nodes:
            if n.id in polys and n.id in needed:
                poly = polys[n.id]
                # Horner form still adds every term once: a plan costs at least
                # len(poly) - 1 nodes, so a region no larger is not worth planning
                size = _region_size(n, polys, needed, len(poly))
                plan = _Plan(poly) if size >= len(poly) else None
                if plan is not None and plan.cost < _region_size(n, polys, needed,
                                                                 plan.cost + 1):
                    plans[n.id] = plan
                else:
                    _mark_region(n, polys, needed, demanded)
        new: dict[int, Node] = {}
        changed = False
        for n in nodes:
            if n.id in polys and n.id not in needed and n.id not in demanded:
                continue  # absorbed into a rebuilt root
            plan = plans.get(n.id)
            cur = n
            if plan is not None:
                self.provenance.use(n)
                cur = plan.build(n, new)
                if cur is not n:
                    self._note(rule, n, cur)
                    self.collected = True
            elif n.inputs:
                ins = tuple(new[i.id] for i in n.inputs)
                if any(a is not b for a, b in zip(ins, n.inputs)):
                    self.provenance.use(n)
                    cur = self._rebuild(n, ins)
            changed = changed or cur is not n
            new[n.id] = cur
        result = [new[o.id] for o in outputs]
        done.update(n.id for n in ancestors(result, stop=done))
        return result, changed


def _fit(node: Node, rep: Any, m: Match, rule: Rule) -> Node | None:
    """``rep`` with ``node``'s static shape and dtype (broadcast, or cast without loss),
    or None where that is impossible (the rule then does not apply)."""
    if rep is None or rep is node:
        return None
    if not isinstance(rep, Node) or rep.graph is not node.graph:
        raise SymgraphError(f"rewrite rule {rule.name!r} returned {rep!r}, not a node of the "
                            "same graph")
    if rep.shape != node.shape:
        if None in node.shape or broadcast_shapes(rep.shape, node.shape) != node.shape:
            return None
        if rep.op == "const" and rep.attrs["value"].size == 1:
            rep = fill(node, rep.attrs["value"].flat[0]) if rep.dtype == node.dtype else rep
        if rep.shape != node.shape:
            rep = ops.broadcast_to(rep, node.shape)
    elif None in node.shape and any(
        c.ndim > node.ndim or any(d != 1 for d in c.shape) for c in m.consts
    ):
        return None  # a dropped constant might have set the run-time shape
    if rep.dtype != node.dtype:
        if not np.can_cast(rep.dtype, node.dtype, "safe"):
            return None
        rep = ops.cast(rep, node.dtype)
    return rep


# --- polynomials: {monomial: coefficient}, a monomial a sorted tuple of (atom id, power) ----------

_POLY_OPS = frozenset({"add", "subtract", "negative", "multiply", "square", "power", "divide"})


def _scalar_const(node: Node, like: Node) -> bool:
    """A constant usable as a coefficient of ``like``: one value, same dtype, no new axes."""
    if node.op != "const" or node.dtype != like.dtype or node.ndim > like.ndim:
        return False
    value = node.attrs["value"]
    return value.size == 1 or (value.size > 0 and not any(value.strides))


def _eligible(n: Node) -> bool:
    if n.op not in _POLY_OPS or n.dtype.kind != "f" or None in n.shape:
        return False
    for inp in n.inputs:
        if inp.dtype != n.dtype or (inp.shape != n.shape and not _scalar_const(inp, n)):
            return False
    if n.op == "power":
        e = n.inputs[1]
        if not _scalar_const(e, n):
            return False
        k = float(e.attrs["value"].flat[0])
        return k.is_integer() and 0 <= k <= MAX_POWER
    if n.op == "divide":
        d = n.inputs[1]
        return _scalar_const(d, n) and float(d.attrs["value"].flat[0]) != 0.0
    return True


def _atom_poly(node: Node) -> dict:
    if node.op == "const" and node.attrs["value"].size > 0 and not any(node.attrs["value"].strides):
        c = float(node.attrs["value"].flat[0])
        return {(): c} if c != 0.0 else {}
    return {((node.id, 1),): 1.0}


def _add(p: dict, q: dict, sign: float = 1.0) -> dict:
    out = dict(p)
    for m, c in q.items():
        s = out.get(m, 0.0) + sign * c
        if s == 0.0:
            out.pop(m, None)
        else:
            out[m] = s
    return out


def _mono_mul(a: tuple, b: tuple) -> tuple:
    if not a:
        return b
    if not b:
        return a
    if len(b) == 1:  # the common case: times one atom's power
        atom, e = b[0]
        for k, (x, f) in enumerate(a):
            if x == atom:
                return (*a[:k], (x, f + e), *a[k + 1:])
            if x > atom:
                return (*a[:k], b[0], *a[k:])
        return (*a, b[0])
    powers = dict(a)
    for atom, e in b:
        powers[atom] = powers.get(atom, 0) + e
    return tuple(sorted(powers.items()))


def _mul(p: dict, q: dict) -> dict | None:
    if len(p) * len(q) > 4 * MAX_TERMS:
        return None
    if len(q) == 1 or len(p) == 1:  # times one term: the products stay distinct
        one, many = (q, p) if len(q) == 1 else (p, q)
        ((m2, c2),) = one.items()
        out = {_mono_mul(m1, m2): c1 * c2 for m1, c1 in many.items()}
        return {m: c for m, c in out.items() if c != 0.0}
    out: dict = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            m = _mono_mul(m1, m2)
            out[m] = out.get(m, 0.0) + c1 * c2
    return {m: c for m, c in out.items() if c != 0.0}


def _scale(p: dict, s: float) -> dict:
    return {m: c * s for m, c in p.items()} if s != 0.0 else {}


def _combine(n: Node, args: list[dict]) -> dict | None:
    """The polynomial of ``n`` from its inputs' (None when it would be too large)."""
    op = n.op
    if op == "add":
        p = _add(args[0], args[1])
    elif op == "subtract":
        p = _add(args[0], args[1], -1.0)
    elif op == "negative":
        p = _scale(args[0], -1.0)
    elif op in ("multiply", "square"):
        p = _mul(args[0], args[-1])
    elif op == "divide":
        p = _scale(args[0], 1.0 / float(n.inputs[1].attrs["value"].flat[0]))
    else:  # power with a small integer exponent
        p = {(): 1.0}
        for _ in range(int(n.inputs[1].attrs["value"].flat[0])):
            p = _mul(p, args[0])
            if p is None:
                break
    if p is None or len(p) > MAX_TERMS or sum(map(len, p)) > MAX_FACTORS:
        return None  # too large to pay off: a long product chain would cost O(n^2)
    return p


def _absorbed(i: Node, polys: dict, needed: set) -> bool:
    return i.id in polys and i.id not in needed


def _region_size(root: Node, polys: dict, needed: set, limit: int) -> int:
    """How many nodes the root's polynomial stands for (counting stops at ``limit``)."""
    seen = {root.id}
    stack = [root]
    while stack and len(seen) < limit:
        for i in stack.pop().inputs:
            if i.id not in seen and _absorbed(i, polys, needed):
                seen.add(i.id)
                stack.append(i)
    return len(seen)


def _mark_region(root: Node, polys: dict, needed: set, demanded: set) -> None:
    """The absorbed nodes under a root that is kept as it is must be kept too."""
    stack = [root]
    while stack:
        for i in stack.pop().inputs:
            if i.id not in demanded and _absorbed(i, polys, needed):
                demanded.add(i.id)
                stack.append(i)


class _Plan:
    """A polynomial as a list of binary steps in Horner form (shared by value).

    ``P = a**k * Q + R`` with ``a`` the atom in most terms; a common coefficient is
    factored out; signs travel as flags, so ``-`` costs a ``subtract``, not a node. Built
    with an explicit stack: polynomials of hundreds of terms do not recurse.
    """

    def __init__(self, poly: dict):
        self.steps: list[tuple] = []
        self.index: dict[tuple, int] = {}
        self.cost = 0
        self.poly = poly
        # zero and constant polynomials become filled constants, which cost no node
        self.top = self._horner(poly) if poly and set(poly) != {()} else None

    def _step(self, *key: Any) -> int:
        ref = self.index.get(key)
        if ref is None:
            ref = self.index[key] = len(self.steps)
            self.steps.append(key)
            if key[0] not in ("atom", "const"):
                self.cost += 1
        return ref

    def _power(self, atom: int, e: int) -> int:
        a = self._step("atom", atom)
        if e == 1:
            return a
        if e == 2:
            return self._step("square", a)
        return self._step("power", a, self._step("const", float(e)))

    def _monomial(self, m: tuple, c: float) -> tuple[int, bool]:
        if not m:
            return self._step("const", abs(c)), c < 0
        ref = self._power(*m[0])
        for atom, e in m[1:]:
            ref = self._step("multiply", ref, self._power(atom, e))
        if abs(c) != 1.0:
            ref = self._step("multiply", self._step("const", abs(c)), ref)
        return ref, c < 0

    def _sum(self, a: tuple[int, bool], b: tuple[int, bool]) -> tuple[int, bool]:
        (p, neg_p), (q, neg_q) = a, b
        if neg_p == neg_q:
            return self._step("add", p, q), neg_p
        if neg_q:
            return self._step("subtract", p, q), False
        return self._step("subtract", q, p), False

    def _horner(self, poly: dict) -> int:
        results: list[tuple[int, bool]] = []
        tasks: list[tuple] = [("build", poly)]
        while tasks:
            task = tasks.pop()
            if task[0] == "build":
                self._split(task[1], tasks, results)
            elif task[0] == "term":
                results.append(self._monomial(task[1], task[2]))
            elif task[0] == "sum":
                parts = results[-task[1]:]
                del results[-task[1]:]
                total = parts[0]
                for part in parts[1:]:
                    total = self._sum(total, part)
                results.append(total)
            elif task[0] == "scale":
                ref, neg = results.pop()
                results.append((self._step("multiply", self._step("const", task[1]), ref), neg))
            else:  # "fma": a**k * Q (+ R)
                rest = results.pop() if task[3] else None
                ref, neg = results.pop()
                prod = (self._step("multiply", self._power(task[1], task[2]), ref), neg)
                results.append(self._sum(prod, rest) if rest is not None else prod)
        ref, neg = results.pop()
        return self._step("negative", ref) if neg else ref

    def _split(self, p: dict, tasks: list, results: list) -> None:
        if len(p) == 1:
            ((m, c),) = p.items()
            results.append(self._monomial(m, c))
            return
        c0 = abs(next(iter(p.values())))
        if c0 != 1.0 and all(abs(c) == c0 for c in p.values()):
            tasks.append(("scale", c0))
            tasks.append(("build", {m: c / c0 for m, c in p.items()}))
            return
        counts: dict[int, int] = {}
        lowest: dict[int, int] = {}  # each atom's lowest power in p
        for m in p:
            for atom, e in m:
                if atom in counts:
                    counts[atom] += 1
                    if e < lowest[atom]:
                        lowest[atom] = e
                else:
                    counts[atom] = 1
                    lowest[atom] = e
        most = max(counts.values(), default=0)
        if most < 2:  # no atom shared by two terms: a plain sum
            items = sorted(p.items())
            tasks.append(("sum", len(items)))
            tasks.extend(("term", m, c) for m, c in reversed(items))
            return
        atom = min(a for a, n in counts.items() if n == most)  # the lowest id on a tie
        k = lowest[atom]
        q: dict = {}
        r: dict = {}
        for m, c in p.items():
            for j, (a, e) in enumerate(m):
                if a == atom:  # m is sorted by atom: lower this one power in place
                    q[(*m[:j], (a, e - k), *m[j + 1:]) if e > k else (*m[:j], *m[j + 1:])] = c
                    break
            else:
                r[m] = c
        tasks.append(("fma", atom, k, bool(r)))
        if r:
            tasks.append(("build", r))
        tasks.append(("build", q))

    def build(self, root: Node, new: dict[int, Node]) -> Node:
        """The plan as nodes of ``root``'s graph, atoms replaced as ``new`` says."""
        if self.top is None:
            return fill(root, self.poly.get((), 0.0))
        graph, dtype = root.graph, root.dtype
        built: list[Any] = []
        for key in self.steps:
            op = key[0]
            if op == "atom":
                built.append(new[key[1]])
            elif op == "const":
                built.append(ops.const(key[1], dtype=dtype, graph=graph))
            else:
                args = [built[a] for a in key[1:]]
                # make, not the public op: the inputs share a float dtype and the plan
                # holds no x*1 or constant-only step, so the op's conversions would be idle
                node = make(OPS[op], args)
                if op in ("add", "multiply") and args[0] is not args[1]:
                    # the older of a+b and b+a, as the merge stage would choose: otherwise
                    # merge replaces it and every stage runs once more
                    other = graph._lookup((op, args[1].id, args[0].id))
                    if other is not None and other.id < node.id:
                        node = other
                built.append(node)
        out = built[self.top]
        if out.shape != root.shape:  # a constant polynomial
            out = fill(root, float(out.attrs["value"])) if out.op == "const" else \
                ops.broadcast_to(out, root.shape)
        return out

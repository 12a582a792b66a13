"""The staged fixpoint engine: ``sg.simplify`` (and :func:`lower`, what compile runs).

Owns :func:`simplify`, :func:`lower` and the rewriter that applies a rule set to a
fixpoint: stage by stage, node by node, with ``collect-terms`` (``symgraph.rewrite.terms``)
run over whole regions.

How it runs (PyTensor's staged rewriting, made small). The stages take turns (see
``symgraph.rewrite.tables``); each repeats passes until one changes nothing, and the cycle
stops once every stage is clean. A pass goes over the outputs' ancestors in id order (a
topological order: no recursion, so chains of 100,000 nodes are fine), rebuilds a node
whose inputs were replaced, then tries the stage's rules on it until none fires.
Replacements are built with the public op constructors, so they are interned (equal
subexpressions stay one node) and their shapes and dtypes checked; they are built where
the replaced node was made (``symgraph.rewrite.replace``). The graph is append-only:
replaced nodes stay in it, unreferenced by the results.

Cost. A node is *settled* in a stage once no rule of the stage fires on it and its inputs
are settled: a pass walks only the unsettled nodes (``symgraph.rewrite.walks``). A
replacement with new nodes inside is settled at once, so no later pass rebuilds
everything above it again. A rule whose match fails costs only that failed match. Nodes
that an earlier ``simplify`` returned are remembered (in ``graph.cache``) as fixpoints and
not looked at again: simplifying after each of repeated ``grad`` calls costs about the
new nodes only. On graphs of more than ``COLLECT_LIMIT`` nodes the stages are *fused* into
one sweep and terms are not collected (too slow there); a canonical rule then sees its
inputs already stabilized (``exp(log(1 + x))`` stays ``exp(log1p(x))``, not ``1 + x``).

``collect-terms`` runs in canonicalize's passes, after the local rules, except on more
than ``COLLECT_FIRST`` (with ``assume_finite``: ``COLLECT_FIRST_FINITE``) new nodes
built over an earlier simplify's result (the grad of a simplified node): there it goes
first and the local rules see the smaller collected graph. If it leaves the graph
larger than it was (it can duplicate a subexpression that another consumer still
needs), the result of the local rules alone is returned instead.
The polynomial pass runs only with ``assume_finite``; its exact half, ``collect-like-terms``
(like terms of one sum, ``symgraph.rewrite.like_terms``), runs after it in every mode.

Graphs inside nodes. An op that holds graphs of its own in its attributes (a loop's
body) declares ``Op.rewrite_inner``; a pass hands it the node and a function applying
this run's rules, mode and record to a list of nodes, and the hook builds the new node
(``symgraph.loops.rewrite`` does it for the loops: the rewrite package knows no loop).

Exactness. By default only the rules declared exact run (``Rule.exact``): every value is
kept, NaN, inf and the sign of zero included, up to rounding, so ``sg.compile`` (which
simplifies) returns what ``sg.evaluate`` does on every input. ``assume_finite=True`` adds
the algebra of real numbers, PyTensor's default: right while every value in the graph is
finite, wrong (an inf or NaN vanishes, -0.0 becomes 0.0) otherwise, and only up to the
range of regrouped arithmetic (``simplify``'s example). The two modes keep separate
records of the nodes they returned.

Imports: ``symgraph.graph``, ``symgraph.context``, ``symgraph.errors``, ``symgraph.ops`` and
the rewrite package's modules (not autodiff, plan, backends or display).
"""

from __future__ import annotations

import operator
import time
from collections.abc import Sequence
from typing import Any

from symgraph.context import gc_paused
from symgraph.errors import SymgraphError
from symgraph.graph import Node, ancestors
from symgraph.ops.core import CONST, VAR, flag, is_const, make
from symgraph.rewrite.patterns import Match, Rule, instantiate
from symgraph.rewrite.replace import Provenance, fit
from symgraph.rewrite.rules import RULES
from symgraph.rewrite.rules_algebra import LIKE_TERMS
from symgraph.rewrite.tables import tables
from symgraph.rewrite.terms import collect_pass
from symgraph.rewrite.trace import Step, Trace, label, op_count
from symgraph.rewrite.walks import fresh_over_clean, ops_below, size_upto, unsettled

__all__ = ["lower", "simplify"]

MAX_PASSES = 20  # per stage visit; a stage that never settles is a rule bug
MAX_STAGE_VISITS = 40
MAX_LOCAL = 32  # rules fired on one node within one pass
MAX_DEPTH = 8  # nesting of replacements settled at once (deeper: the next pass does it)
COLLECT_LIMIT = 4000  # graphs (ancestors of the outputs) larger than this: no collect-terms
# (collecting costs 3-6x the fused sweep on long chains; 4000 takes the raw 8th derivative
# of sin(sin(sin w)), 3,753 nodes, so W2b collects once at the end as after each grad)
COLLECT_FIRST = 64  # more new (not yet simplified) nodes than this: collect terms first
# the same with assume_finite, where the polynomial pass redoes what the local rules would
# (W2b after each grad, k = 2..5: 20-40 new nodes; collecting first took 20% off)
COLLECT_FIRST_FINITE = 8
SCAN_LIMIT = 100_000  # lower's pre-check scans a graph's ops up to this size (_could_lower)
COLLECT_FIRST_RAW = 1000  # with assume_finite, a graph this large: collect terms first too
# graph.cache key of the ids of nodes that simplify returned (fixpoints of RULES); the
# key with _FINITE appended: those that simplify(..., assume_finite=True) returned
_CLEAN_KEY = "symgraph.rewrite.clean"
_FINITE = ".assume_finite"
_CONST_KEYS = "symgraph.rewrite.const_keys"  # graph.cache: a constant's signature part
_ANY = [({}, ())]  # what a rule without a pattern "matched": nothing bound


def simplify(outputs: Any, trace: bool = False, assume_finite: bool = False) -> Any:
    """Equivalent, simplified nodes for ``outputs``, in the same graph.

    ``outputs`` is a node, or a list or tuple of nodes; the result has the same structure.
    Values are unchanged on every input, NaN, inf and -0.0 included, up to rounding; so
    are every output's static shape and dtype. ``assume_finite=True`` also applies the
    algebra of real numbers (``x*0 -> 0``, ``x - x -> 0``, ``x/x -> 1``, ``exp(log x) ->
    x``, like terms collected, ``log(1 + exp x) -> softplus(x)``) and the stabler forms that
    round better, so give other numbers (``log(1 + x) -> log1p(x)``): exact only while every
    value in the graph is finite (``x*0`` is NaN at ``x = inf``, the rewrite gives 0), and
    only up to the overflow and rounding of regrouped sums and products (``x*y + x*z ->
    x*(y + z)`` overflows at x = 0.5, y = z = 1e308, where the original is 1e308). With
    ``trace=True`` the result is ``(result, trace)``: a :class:`Trace` of every rewrite.
    The rules, their stages and which need ``assume_finite``:
    ``symgraph.rewrite.rules_table()``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,), dtype="float32")
    ...     e = 2 * (3 * x) + x * 0 + sg.log(1 + sg.exp(-x))
    ...     y, z = sg.simplify(e), sg.simplify(e, assume_finite=True)
    >>> str(y), str(z), z.shape, z.dtype.name
    ('6*x + x*0 + log(1 + exp(-x))', '6*x + softplus(-x)', (3,), 'float32')
    """
    return _simplify(outputs, RULES, (), trace, assume_finite, "sg.simplify")


def lower(outputs: Any, rules: Sequence[Rule], *, trace: bool = False,
          assume_finite: bool = False) -> Any:
    """:func:`simplify` with ``rules`` added to ``RULES``: the entry point for rules that
    only compile runs (a backend's lowering), in any stage, ``lower`` (after
    ``specialize``) included. The nodes it returns are remembered per rule set, apart
    from simplify's. The canonical rules still run after ``lower``'s, so a lowering that
    one of them undoes never settles (a SymgraphError).

    >>> import symgraph as sg
    >>> from symgraph.rewrite import Rule, X
    >>> cube = [Rule("cube", "lower", ("multiply", X, ("square", X)), ("power", X, 3),
    ...              "x*square(x) -> x**3")]
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y, t = lower(x * x * x * 1, cube, trace=True)
    >>> str(y), t.counts()
    ('x**3', {'mul-self': 1, 'mul-one': 1, 'cube': 1})
    """
    who = "symgraph.rewrite.lower"
    if not trace:
        # Most graphs give the lowering rules nothing to match: then lower's fixpoint is
        # simplify's, whose fixpoints are remembered (a simplified graph costs a walk),
        # instead of every rule run again over nodes simplify has settled.
        settled = _simplify(outputs, RULES, (), False, assume_finite, who)
        if not _could_lower(_as_outputs(settled, who)[0], rules):
            return settled
    return _simplify(outputs, [*RULES, *rules], tuple(rules), trace, assume_finite, who)


def _could_lower(nodes: list[Node], rules: Sequence[Rule]) -> bool:
    """Whether a pattern of ``rules`` matches a node of ``nodes``' graph (the rule may
    still decline it: then ``lower`` runs in full, as it would without this check)."""
    # First the ops present, gathered in C: a rule whose pattern names an op that is not
    # there cannot match. The whole graph's ops cost ~10x less than a walk of the outputs'
    # ancestors, unless the graph is much larger than them (a small function compiled
    # from a large notebook graph): past SCAN_LIMIT nodes the walk is taken.
    graph = nodes[0].graph
    below = ancestors(nodes) if len(graph) > SCAN_LIMIT else None
    present = set(map(_OP, graph.nodes if below is None else below))
    by_op: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.pattern is None:
            return True
        if _heads(rule.pattern) <= present:
            by_op.setdefault(rule.pattern[0], []).append(rule)
    return bool(by_op) and any(
        rule.could_match(n) and any(True for _ in rule.matcher(n, {}, ()))
        for n in (ancestors(nodes) if below is None else below) if n.op in by_op
        for rule in by_op[n.op])


def _heads(pattern: Any) -> set[str]:
    """The op names a pattern's nodes carry (``("add", ("scatter", X), Y)``: add, scatter)."""
    if not isinstance(pattern, tuple):
        return set()
    return {pattern[0]}.union(*map(_heads, pattern[1:]))


_OP = operator.attrgetter("op")


def _simplify(outputs: Any, rules: Sequence[Rule], extra: tuple[Rule, ...], trace: bool,
              assume_finite: bool, who: str) -> Any:
    nodes, kind = _as_outputs(outputs, who)
    trace, assume_finite = flag(who, trace=trace), flag(who, assume_finite=assume_finite)
    record = Trace(nodes) if trace else None
    start = time.perf_counter()
    # Collecting terms is polynomial algebra: worth it on derivative towers, too slow on
    # graphs of many thousand nodes (a known limit), where only the local rules run.
    # the graph's size bounds the outputs' ancestors: most calls need no walk to decide
    size = None if len(nodes[0].graph) <= COLLECT_LIMIT else size_upto(nodes, COLLECT_LIMIT)
    small = size is None or size <= COLLECT_LIMIT
    key: Any = _CLEAN_KEY + (_FINITE if assume_finite else "")
    if extra:  # fixpoints of these rules too: a record of their own
        key = (key, extra)

    def inner(body_nodes: list[Node]) -> list[Node]:
        # the graphs an op holds (loop bodies) get the same rules, mode and record
        return _simplify(body_nodes, rules, extra, False, assume_finite, who)

    # Every node a rewrite builds stays alive, so collector runs would only cost time.
    with gc_paused():
        result, rewriter = _rewrite(nodes, rules, record, key, small, assume_finite, inner,
                                    size)
        if rewriter.collected and ops_below(nodes, op_count(result)
                                            if rewriter.result_ops is None
                                            else rewriter.result_ops):
            # Collecting terms can duplicate subexpressions that other consumers still need
            # (a known weakness on wide random DAGs): then keep only the local rules' work.
            if record is not None:
                record.steps.clear()
            result, rewriter = _rewrite(nodes, rules, record, key, None, assume_finite,
                                        inner)
    if record is not None:
        record.after = list(result)
        record.passes = rewriter.passes
        record.seconds = time.perf_counter() - start
        record.nodes_after = op_count(result)
    shaped: Any = result[0] if kind is Node else kind(result)
    return (shaped, record) if trace else shaped


def _rewrite(nodes: list[Node], rules: Sequence[Rule], record: Trace | None, key: Any,
             small: bool | None, assume_finite: bool, inner: Any = None,
             size: int | None = None) -> tuple[list[Node], _Rewriter]:
    """One run: staged with collect-terms (``small``), fused without it (not ``small``),
    or staged without it (``None``: the fallback). ``inner`` rewrites the graphs that
    nodes hold (``Op.rewrite_inner``), ``key`` naming the rule set for their caches;
    ``size``, if known, is :func:`size_upto` of ``nodes`` up to ``COLLECT_LIMIT``."""
    collect = bool(small)
    # (collect-terms is inexact: without assume_finite, collect changes nothing; with it,
    # a run without collect-terms returns no fixpoint of the whole rule set)
    remember = key if collect or not assume_finite else None
    rewriter = _Rewriter(record, rules, collect=collect, fused=small is False,
                         assume_finite=assume_finite, clean_key=remember)
    rewriter.inner_rewrite, rewriter.inner_key = inner, key
    rewriter.size = size
    try:
        return rewriter.run(nodes), rewriter
    finally:
        rewriter.provenance.close()


def _consumers(outputs: list[Node]) -> dict[int, list[Node]]:
    """The nodes reading each node (by id), among the ancestors of ``outputs``."""
    found: dict[int, list[Node]] = {}
    for node in ancestors(outputs):
        for i in set(node.inputs):
            found.setdefault(i.id, []).append(node)
    return found


def _as_outputs(outputs: Any, who: str) -> tuple[list[Node], type]:
    if isinstance(outputs, Node):
        return [outputs], Node
    if isinstance(outputs, (list, tuple)) and outputs:
        for o in outputs:
            if not isinstance(o, Node):
                raise SymgraphError(f"{who}: outputs hold {o!r}, which is not a node; "
                                    "pass a node or a list of nodes")
        if any(o.graph is not outputs[0].graph for o in outputs):
            raise SymgraphError(f"{who}: the outputs belong to different graphs; "
                                "simplify the nodes of each graph separately")
        return list(outputs), type(outputs)
    raise SymgraphError(f"{who}: outputs must be a node or a non-empty list of nodes, "
                        f"got {type(outputs).__name__}")


class _Rewriter:
    """One run of a rule set over some outputs: the stages' passes, the settled nodes of
    each stage, and (``clean_key``) the record of earlier results it reads and extends."""

    def __init__(self, record: Trace | None, rules: Sequence[Rule] = RULES,
                 collect: bool = True, fused: bool = False, assume_finite: bool = False,
                 clean_key: Any = None):
        self.record = record
        self.provenance = Provenance()
        self.passes = 0
        self.clean_key = clean_key
        self.check_exact = not assume_finite  # a conditionally exact rule asks per match
        self.clean: set[int] = set()
        found = tables(rules, collect, fused, assume_finite)
        self.signatures, self.numbers = found.signatures, found.numbers
        self.by_stage, self.collect, self.stages = found.by_stage, found.collect, found.stages
        self.settled: dict[str, set[int]] = {s: set() for s in self.stages}
        self.const_keys: dict[int, tuple] = {}
        self.collected = False  # whether collect-terms replaced anything
        # ids of the nodes a collect pass of this run returned: fixpoints of collect-terms,
        # so a later collect pass looks only at what local rules built since
        self.collect_done: dict[str, set[int]] = {}
        # Op.rewrite_inner: how the graphs a node holds are rewritten (None: they are not),
        # and each such node's result, asked once per run
        self.inner_rewrite: Any = None
        self.inner_key: Any = None
        self.inner: dict[int, Node] = {}
        self.size: int | None = None  # the outputs' ancestors, counted up to COLLECT_LIMIT
        self.result_ops: int | None = None  # the result's operation nodes, if counted

    def run(self, outputs: list[Node]) -> list[Node]:
        # Nodes an earlier simplify returned are fixpoints of every rule: they are not looked
        # at again, so simplifying between repeated grads costs only the new nodes.
        graph = outputs[0].graph
        if self.clean_key is not None:
            self.clean = graph.cache.setdefault(self.clean_key, set())
        # which of the patterns' numbers a constant is: kept with the graph (its nodes
        # never change), not asked again in each run
        self.const_keys = graph.cache.setdefault((_CONST_KEYS, tuple(self.numbers)), {})
        result = self._run(outputs)
        if self.clean_key is not None:
            if self.collected:  # simplify compares the result's size: one walk for both
                below = ancestors(result)
                self.result_ops = sum(
                    1 for n in below if n.opdef is not VAR and n.opdef is not CONST)
            else:
                below = ancestors(result, stop=self.clean)
            self.clean.update(n.id for n in below)
        return result

    def _run(self, outputs: list[Node]) -> list[Node]:
        clean, visits, stages = 0, 0, self.stages
        # Many new nodes over an earlier simplify's result (grad of a simplified node):
        # terms are collected before the local rules run, which then see the smaller
        # collected graph (their sign and constant moves inside the chain rule's sums of
        # products would only be redone by collecting). Elsewhere the local rules go
        # first: a small expression's trace names them (x*1 -> x by mul-one), and on wide
        # random DAGs collecting first can leave larger graphs.
        # So, too, on a large raw graph with assume_finite (an 8th derivative simplified
        # once at the end): the polynomial pass shrinks it before the local rules walk it.
        first = bool(self.collect) and (
            fresh_over_clean(outputs, self.clean,
                             COLLECT_FIRST if self.check_exact else COLLECT_FIRST_FINITE)
            or (not self.check_exact and len(outputs[0].graph) > COLLECT_FIRST_RAW and (
                self.size if self.size is not None
                else size_upto(outputs, COLLECT_FIRST_RAW)) > COLLECT_FIRST_RAW))
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
        # readers of a node with graphs inside that its hook replaced (it may change the
        # node's layout then): taken as they are, not rebuilt
        forced: dict[int, Node] = {}
        consumers: dict[int, list[Node]] | None = None
        order = unsettled(outputs, settled, clean)
        if not anywhere and not any(n.op in rules or n.opdef.rewrite_inner is not None
                                    for n in order):
            # no rule of the stage for any of them (specialize over a Horner form): each
            # settles as it is, bottom-up, as the loop below would find
            settled.update(n.id for n in order)
            return list(outputs), False
        for n in order:
            cur = n
            if n.id in forced:
                cur = forced[n.id]
            elif repl:
                for i in n.inputs:
                    if i.id in repl:
                        self.provenance.use(n if origin is None else origin)
                        cur = self._rebuild(n, tuple(repl.get(i.id, i) for i in n.inputs))
                        break
                if cur is not n and (cur.id in settled or cur.id in clean):
                    repl[n.id] = cur
                    changed = True
                    continue
            if cur.opdef.rewrite_inner is not None and self.inner_rewrite is not None:
                readers = None  # known only in a whole pass, for a node that is no output
                if origin is None and cur.id not in self.inner and all(
                        o.id != n.id for o in outputs):
                    if consumers is None:
                        consumers = _consumers(outputs)
                    readers = consumers.get(n.id, [])
                cur, moved = self._rewrite_inner(cur, readers, stage)
                forced.update(moved)
            done = True
            # (no rule of the stage for this op: no signature to look up)
            if (anywhere or cur.op in rules) and (
                    first := self._candidates(cur, stage, rules, anywhere)):
                cur, done = self._fire(cur, n if origin is None else origin, rules, anywhere,
                                       state, stage, depth, first)
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

    def _rewrite_inner(self, node: Node, readers: list[Node] | None, stage: str
                       ) -> tuple[Node, dict[int, Node]]:
        """``node`` with the graphs it holds rewritten (a loop's body: see
        ``Op.rewrite_inner``), once per run, and the replacements of its ``readers`` (by
        id) when the hook changed what the node computes; the op's hook builds them."""
        found = self.inner.get(node.id)
        if found is not None:
            return found, {}
        try:
            result = node.opdef.rewrite_inner(node, self.inner_rewrite, self.inner_key, readers)
        except SymgraphError:
            raise
        except Exception as exc:  # noqa: BLE001 - a hook's bug: name the node
            raise SymgraphError(
                f"sg.simplify: rewriting inside node #{node.id} ({label(node)}) failed: "
                f"{type(exc).__name__}: {exc}; please report it") from exc
        moved: dict[int, Node] = {}
        if isinstance(result, dict):
            found = result.get(node, node)
            moved = {r.id: result[r] for r in readers or () if r in result}
            # either every reader is replaced (the node may compute something else) or
            # none (it computes the same)
            whole = readers is not None and len(moved) == len(readers)
            bad = [r for r in readers or () if r in result and (
                result[r].shape != r.shape or result[r].dtype != r.dtype)]
            if bad or not (whole or not moved):
                raise SymgraphError(
                    f"sg.simplify: rewriting inside node #{node.id} ({node.op}) replaced "
                    "some of its readers, or changed their shape or dtype; the op's "
                    "rewrite_inner is wrong (please report it)")
        else:
            found = node if result is None else result
        if not moved and (found.shape != node.shape or found.dtype != node.dtype):
            raise SymgraphError(
                f"sg.simplify: rewriting inside node #{node.id} ({node.op}) changed its "
                f"shape or dtype from {node.shape} {node.dtype} to {found.shape} "
                f"{found.dtype}; the op's rewrite_inner is wrong (please report it)")
        # A loop pruned for these readers replaces ``node`` for them only: other readers of
        # an equal (interned) loop would read the pruned pack at their old positions.
        if not moved:
            self.inner[node.id] = found
        self.inner[found.id] = found
        if found is not node and self.record is not None:  # a trace shows the loop changed
            self.record.steps.append(Step("rewrite-inner", stage, node, found))
        return found, moved

    def _candidates(self, node: Node, stage: str, rules: dict, anywhere: list) -> list[Rule]:
        """The stage's rules whose pattern can match ``node``, by the ops of its inputs and
        the values of its constant inputs: what ``could_match`` decides depends on nothing
        else, so it is asked once per signature (rules with a ``when`` test are kept; it
        runs on each node)."""
        ins = node.inputs
        if len(ins) == 2:
            a, b = ins
            key = (stage, node.op, a.op if a.opdef is not CONST else self._const_key(a),
                   b.op if b.opdef is not CONST else self._const_key(b), a is b)
        else:
            key = (stage, node.op, *[i.op if i.opdef is not CONST else self._const_key(i)
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
            value = node.attrs["value"]
            if value.size and (value.ndim == 0 or not any(value.strides)):
                x = value.item(0)  # one number (is_const's test, without a call per number)
                number = next((v for v in self.numbers if x == v), None)
            else:
                number = next((v for v in self.numbers if is_const(node, v)), None)
            key = self.const_keys[node.id] = (CONST, number)
        return key

    def _fire(self, cur: Node, origin: Node, rules: dict, anywhere: list, state: dict,
              stage: str, depth: int, first: list[Rule] | None = None) -> tuple[Node, bool]:
        """Apply the stage's rules to ``cur`` until none fires (the node's own fixpoint);
        the flag says whether it got there. A replacement with new nodes inside (a
        template's inner nodes) is settled at once, bottom-up, so no later pass has to
        rebuild everything above it again."""
        settled, clean = self.settled[stage], self.clean
        for _ in range(MAX_LOCAL):
            # (the first node's candidates: as the pass found them)
            candidates = first if first is not None else self._candidates(
                cur, stage, rules, anywhere)
            first = None
            for rule in candidates:
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
                        replacement = fit(cur, candidate, m, rule)
                        if replacement is not None:
                            break
                except SymgraphError:
                    # the replacement cannot be built for these operands (-x of a boolean
                    # for x*-1): the rule does not apply here, the node stays as it is
                    replacement = None
                except Exception as exc:  # noqa: BLE001 - MemoryError, a rule's bug: name the node
                    raise SymgraphError(
                        f"sg.simplify: rule {rule.name!r} failed on node #{cur.id} "
                        f"({label(cur)}): {type(exc).__name__}: {exc}; simplify without "
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

    def _collect_pass(self, outputs: list[Node], rules: tuple[Rule, ...]
                      ) -> tuple[list[Node], bool]:
        """A pass of each region rule, ``collect-terms`` and ``collect-like-terms`` (see
        ``symgraph.rewrite.terms``)."""
        self.passes += 1
        changed = False
        # the polynomial pass only with assume_finite; the exact like-terms pass always
        passes = [(r, False) for r in rules if not self.check_exact or r.exact is not False]
        for rule, linear in [*passes, (LIKE_TERMS, True)]:
            def replaced(before: Node, after: Node, rule: Rule = rule) -> None:
                self._note(rule, before, after)
                self.collected = True
            outputs, did = collect_pass(
                outputs, self.clean, self.collect_done.setdefault(rule.name, set()),
                self.provenance.use, self._rebuild, replaced, linear=linear,
                exact=self.check_exact)
            changed = changed or did
        return outputs, changed

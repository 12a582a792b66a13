"""Which rules the engine tries on which node: per stage, per op, per signature.

Owns :class:`Tables` and :func:`tables`, which keeps one per rule set (most simplify
calls use ``RULES``; building the tables anew each call cost as much as simplifying a
small derivative). Which rules can match a node is decided once per *signature* (its op,
its inputs' ops and which of the patterns' numbers a constant input is: ``x*1`` and
``x*3`` differ), in ``Tables.signatures``, kept across calls.

Stages: ``merge``'s rules run inside ``canonicalize``'s passes, first on each node (a pass
of its own would rebuild everything above each merged node once more); on large graphs
the engine *fuses* every stage into one sweep (``fused=True``). Stages without rules are
left out.

Imports: the rewrite package's ``patterns``.
"""

from __future__ import annotations

from collections.abc import Sequence

from symgraph.rewrite.patterns import ANY_OP, STAGES, Rule, const_numbers

FUSED = "all stages"  # the one pseudo-stage of a fused rewriter
MERGED = "merge+canonicalize"  # the first pseudo-stage of a staged rewriter


class Tables:
    """The rules of each stage by root op (``by_stage``), the region rules of each stage
    (``collect``, in order), the stages in the order they take turns (``stages``), the numbers a
    signature tells apart (``numbers``) and the candidates per signature (``signatures``,
    filled in by the engine)."""

    def __init__(self, rules: Sequence[Rule], collect: bool, fused: bool,
                 assume_finite: bool = False):
        # without assume_finite, inexact rules are left out and conditional ones checked
        # (a region rule stays: without assume_finite the engine runs its exact half)
        rules = [r for r in rules if assume_finite or r.exact is not False or r.region]
        self.signatures: dict[tuple, list[Rule]] = {}
        # the constants a signature tells apart: the numbers the patterns name
        self.numbers = sorted(const_numbers(rules))
        self.by_stage: dict[str, dict[str, list[Rule]]] = {s: {} for s in STAGES}
        self.collect: dict[str, tuple[Rule, ...]] = {}
        for rule in rules:
            if rule.region:
                if collect:
                    self.collect[rule.stage] = (*self.collect.get(rule.stage, ()), rule)
                continue
            for root in rule.roots:
                self.by_stage[rule.stage].setdefault(root, []).append(rule)
        for table in self.by_stage.values():  # rules for any op come last, for every op
            anywhere = table.get(ANY_OP, [])
            for op, listed in table.items():
                if op != ANY_OP:
                    listed.extend(anywhere)
        if fused:  # every stage's rules on each node in one sweep (large graphs)
            self.stages = self._join(STAGES, FUSED)
        else:
            # merge's rules run in canonicalize's passes, first on each node: a separate
            # merge pass would rebuild everything above each merged node once more
            rest = tuple(s for s in STAGES[2:] if self.by_stage[s] or s in self.collect)
            self.stages = self._join(STAGES[:2], MERGED) + rest

    def _join(self, stages: tuple[str, ...], name: str) -> tuple[str, ...]:
        """One pseudo-stage ``name`` trying the rules of ``stages`` on each node, in order."""
        ops_seen = {op for s in stages for op in self.by_stage[s]}
        self.by_stage[name] = {op: [r for s in stages for r in self.by_stage[s].get(
            op, self.by_stage[s].get(ANY_OP, []))] for op in ops_seen}
        collect = [r for s in stages for r in self.collect.pop(s, ())]
        if collect:
            self.collect[name] = tuple(collect)
        return (name,)


_TABLES: dict[tuple, tuple[Sequence[Rule], Tables]] = {}


def tables(rules: Sequence[Rule], collect: bool, fused: bool,
           assume_finite: bool = False) -> Tables:
    """The tables of ``rules`` (built once per rule set and mode, then kept)."""
    key = (tuple(id(r) for r in rules), collect, fused, assume_finite)
    found = _TABLES.get(key)
    # the rules are kept with their tables, so their ids cannot be reused by others
    if found is None or list(found[0]) != list(rules):
        if len(_TABLES) > 64:  # callers passing ever new rule lists: no unbounded growth
            _TABLES.clear()
        found = _TABLES[key] = (list(rules), Tables(rules, collect, fused, assume_finite))
    return found[1]

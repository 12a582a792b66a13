"""The rule table of :func:`symgraph.simplify`: every family's rules, in one list.

Owns ``RULES`` (the order matters within a stage and an op: rules are tried in it) and
:func:`rules_table`. The families, each a module of rules as data: ``rules_constants``
(merge, fold), ``rules_algebra``, ``rules_shapes``, ``rules_stability`` (stabilize,
specialize). Rules that only compile runs are not here: see ``symgraph.rewrite.lower``.

Imports: the rewrite package's ``patterns`` and ``rules_*`` modules.
"""

from __future__ import annotations

from symgraph.rewrite import rules_algebra, rules_constants, rules_shapes, rules_stability
from symgraph.rewrite.patterns import Rule

# A list, not a tuple: a test may swap a rule in place (the engine notices: its tables
# are keyed by the rules themselves).
RULES: list[Rule] = [*rules_constants.RULES, *rules_algebra.RULES, *rules_shapes.RULES,
                     *rules_stability.RULES]


def rules_table() -> str:
    """The rules as text, one per line: stage, name, what it does.

    >>> from symgraph.rewrite import rules_table
    >>> print(rules_table().splitlines()[0])
    merge         merge-const            equal large constants
    """
    return "\n".join(f"{r.stage:<13} {r.name:<22} {r.doc}" + (
        "" if r.exact is True else "  [assume_finite]" if r.exact is False
        else "  [exact where shown safe, else assume_finite]") for r in RULES)

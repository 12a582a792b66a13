"""Graph rewrites: ``sg.simplify`` and the rule machinery (being split out of rewrite.py).

Imports: ``symgraph.graph``, ``symgraph.context``, ``symgraph.errors`` and ``symgraph.ops``.
"""

from symgraph.rewrite.driver import Step, Trace, simplify
from symgraph.rewrite.patterns import (C, D, HALF, MINUS_ONE, ONE, RULES, STAGES, TWO, ZERO, Const,
                                    Match, Rule, Var, X, Y, compile_pattern, exact_product,
                                    fill, fill_value, fold_values, match, rules_table)

__all__ = ["simplify", "Trace", "Step", "Rule", "Match", "Var", "Const", "X", "Y", "C", "D",
           "ZERO", "ONE", "TWO", "HALF", "MINUS_ONE", "RULES", "STAGES", "match",
           "compile_pattern", "rules_table", "fill", "fill_value", "fold_values",
           "exact_product"]

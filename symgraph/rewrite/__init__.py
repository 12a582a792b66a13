"""Graph rewrites: ``sg.simplify`` returns equivalent, smaller nodes in the same graph.

Owns nothing but the re-exports below. Its modules, each saying what it owns:
``driver`` (the staged fixpoint engine: :func:`simplify`, :func:`lower`), ``tables``
(which rules meet which node), ``walks`` (the engine's graph walks), ``replace``
(provenance and fitting of replacements), ``terms`` (``collect-terms``: polynomial
algebra in Horner form; ``polynomials``, its polynomials over interned monomials;
``trig_terms``, its normal form of sines and cosines),
``like_terms`` (its exact half, ``collect-like-terms``, which runs by default),
``trace`` (:class:`Trace`, :class:`Step`), ``patterns`` (:class:`Rule` and the pattern
language), ``folding`` (constant values: fills, folds of
two constants), and the rules as data: ``rules`` (the table ``RULES``, :func:`rules_table`),
``rules_constants``, ``rules_algebra``, ``rules_shapes``, ``rules_stability`` (and
``rules_lowering``, below). Only the ``rules*`` modules name ops by string.

Rules that only compile runs (a backend's lowering) live in a module of their own,
``symgraph/rewrite/rules_lowering.py``, as a list of :class:`Rule` in any stage (``lower``
runs after ``specialize``), and are applied with :func:`lower`, which runs them together
with ``RULES``; ``sg.simplify`` never sees them::

    # symgraph/rewrite/rules_lowering.py
    from symgraph.rewrite.patterns import Rule, X
    RULES = [Rule("name", "lower", ("op", X), replacement, "what it does")]

    # the compiler
    from symgraph.rewrite import lower
    from symgraph.rewrite.rules_lowering import RULES as LOWERING
    nodes = lower(outputs, LOWERING, assume_finite=assume_finite)

Imports: ``symgraph.graph``, ``symgraph.context``, ``symgraph.errors`` and ``symgraph.ops``
(not autodiff, plan, backends or display); within the package, each module names its own.
"""

from symgraph.rewrite.driver import lower, simplify
from symgraph.rewrite.folding import exact_product, fill
from symgraph.rewrite.patterns import (
    HALF,
    MINUS_ONE,
    ONE,
    STAGES,
    TWO,
    ZERO,
    C,
    Const,
    D,
    Match,
    Rule,
    Var,
    X,
    Y,
    compile_pattern,
    match,
)
from symgraph.rewrite.rules import RULES, rules_table
from symgraph.rewrite.trace import Step, Trace

__all__ = [
    "HALF",
    "MINUS_ONE",
    "ONE",
    "RULES",
    "STAGES",
    "TWO",
    "ZERO",
    "C",
    "Const",
    "D",
    "Match",
    "Rule",
    "Step",
    "Trace",
    "Var",
    "X",
    "Y",
    "compile_pattern",
    "exact_product",
    "fill",
    "lower",
    "match",
    "rules_table",
    "simplify",
]

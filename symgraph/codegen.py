"""Compilation of graphs to Python functions (for now: the evaluator's prepared plan)."""

from __future__ import annotations

from symgraph.engine import CompiledFunction, compile

__all__ = ["CompiledFunction", "compile"]

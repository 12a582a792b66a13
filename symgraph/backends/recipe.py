"""Pickling a compiled function: its :class:`Recipe`, the graph as JSON, never code.

Owns: :class:`Recipe` (what was compiled: outputs, inputs, whether one output, the
backend and its options) and how it is compiled again when unpickled.

Imports: ``symgraph.graph``, ``symgraph.io`` (the JSON format), and its own package's
``compile`` when a pickle is loaded.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any

from symgraph.graph import Node, SymgraphError
from symgraph.io.json import load, save


class Recipe:
    """How to make a compiled function again: what was compiled (outputs, inputs, whether
    one output, the backend and its options). Pickling a compiled function pickles this:
    the graph as ``symgraph.io``'s JSON (never code), compiled again when unpickled; the
    function itself is its attribute ``_entry``."""

    def __init__(self, outputs: Sequence[Node], inputs: Sequence[Node], single: bool,
                 backend: str, options: dict[str, Any]):
        self.outputs, self.inputs, self.single = tuple(outputs), tuple(inputs), single
        self.backend, self.options = backend, dict(options)
        self._entry: Any = None

    def __reduce__(self) -> tuple:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "graph.json")
            save([*self.outputs, *self.inputs], path)
            with open(path, encoding="utf-8") as f:
                text = f.read()
        ends = [*self.outputs, *self.inputs]
        options = {k: _positions(v, ends, k) for k, v in self.options.items()}
        return (_recompiled, (text, len(self.outputs), self.single, self.backend, options))


class _Position(tuple):
    """A node in a pickled option (a jax ``shardings`` key): its place among the
    outputs and inputs, the graph's JSON lists them in that order."""


def _positions(value: Any, ends: list[Node], option: str) -> Any:
    """``value`` with each node key of a dict written as its :class:`_Position`."""
    if isinstance(value, dict) and any(isinstance(k, Node) for k in value):
        at = {n.id: k for k, n in enumerate(ends)}
        return {(_Position((at[k.id],)) if isinstance(k, Node) else k): v
                for k, v in value.items()}
    if option == "mesh" and value is not None:
        raise SymgraphError("this compiled function was given mesh=, which holds devices that "
                            "cannot be pickled; pickle the graph (sg.save) and compile it again")
    return value


def _recompiled(text: str, n_outputs: int, single: bool, backend: str,
                options: dict[str, Any]) -> Recipe:
    """The :class:`Recipe` of the function compiled again from a pickled graph."""
    from symgraph.backends import compile as compile_  # (the package imports this module)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "graph.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        nodes = load(path)
    outputs, inputs = nodes[:n_outputs], nodes[n_outputs:]
    options = {k: {(nodes[p[0]] if isinstance(p, _Position) else p): v for p, v in value.items()}
               if isinstance(value, dict) else value for k, value in options.items()}
    fn = compile_(outputs[0] if single else outputs, inputs, backend=backend, **options)
    recipe = getattr(fn, "recipe", None)
    if recipe is None:
        recipe = Recipe(outputs, inputs, single, backend, options)
        recipe._entry = fn
    return recipe


def pickled(function: Any) -> tuple:
    """``__reduce__`` of a compiled function that has a ``recipe``: the recipe's (the
    graph's JSON), its ``_entry`` the function compiled again."""
    return (getattr, (function.recipe, "_entry"))

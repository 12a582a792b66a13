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

from symgraph.graph import Node
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
        return (_recompiled, (text, len(self.outputs), self.single, self.backend, self.options))


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
    fn = compile_(outputs[0] if single else outputs, inputs, backend=backend, **options)
    recipe = getattr(fn, "recipe", None)
    if recipe is None:
        recipe = Recipe(outputs, inputs, single, backend, options)
        recipe._entry = fn
    return recipe

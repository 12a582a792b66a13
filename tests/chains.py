"""Test helper: deep chains, the graphs that must never hit Python's recursion limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def nested(f: Callable[[Any], Any], x: Any, depth: int) -> Any:
    """``f(f(...f(x)))``, ``depth`` times (``nested(sg.sin, w, 3)`` is sin(sin(sin(w))))."""
    for _ in range(depth):
        x = f(x)
    return x

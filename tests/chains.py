"""Test helpers: deep chains (the graphs that must never hit Python's recursion limit) and
the W2b tower sin(sin(sin(w))) with its derivatives by Taylor-series arithmetic."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def nested(f: Callable[[Any], Any], x: Any, depth: int) -> Any:
    """``f(f(...f(x)))``, ``depth`` times (``nested(sg.sin, w, 3)`` is sin(sin(sin(w))))."""
    for _ in range(depth):
        x = f(x)
    return x


def tower_derivative(k: int, w0: float = 0.5) -> float:
    """The k-th derivative of sin(sin(sin(w))) at w0, by Taylor-series arithmetic.

    >>> round(tower_derivative(1, 0.0), 12)  # cos(0)**3
    1.0
    """
    u = [w0, 1.0] + [0.0] * (k - 1)
    for _ in range(3):
        s, c = [math.sin(u[0])] + [0.0] * k, [math.cos(u[0])] + [0.0] * k
        for n in range(1, k + 1):
            s[n] = sum(j * u[j] * c[n - j] for j in range(1, n + 1)) / n
            c[n] = -sum(j * u[j] * s[n - j] for j in range(1, n + 1)) / n
        u = s
    return u[k] * math.factorial(k)


def op_count(node: Any) -> int:
    """Operation nodes among ``node``'s ancestors (inputs and constants not counted)."""
    import symgraph as sg
    return sum(1 for n in sg.ancestors([node]) if n.op not in ("var", "const"))

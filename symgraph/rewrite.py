"""Graph rewrites (placeholder until the compiler work lands)."""

from __future__ import annotations

from typing import Any


def simplify(outputs: Any, **options: Any) -> Any:
    """Not written yet."""
    raise NotImplementedError

"""DOT/SVG drawing of graphs (placeholder until the rendering work lands)."""

from __future__ import annotations

from typing import Any


def to_dot(outputs: Any, feeds: Any = None, **options: Any) -> Any:
    """Not written yet."""
    raise NotImplementedError("to_dot is being written")


def to_svg(outputs: Any, path: Any = None, feeds: Any = None, **options: Any) -> str:
    """Not written yet."""
    raise NotImplementedError("to_svg is being written")

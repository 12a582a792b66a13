"""Text views of graphs (placeholder until the printing work lands)."""

from __future__ import annotations

from typing import Any


def pprint(outputs: Any) -> str:
    """Not written yet."""
    raise NotImplementedError


def debugprint(outputs: Any) -> str:
    """Not written yet."""
    raise NotImplementedError


def latex(node: Any) -> str:
    """Not written yet."""
    raise NotImplementedError


def stats(outputs: Any) -> dict:
    """Not written yet."""
    raise NotImplementedError

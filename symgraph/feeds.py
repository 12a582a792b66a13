"""What ``evaluate``, ``compile`` and the display are given, checked: the outputs
(:func:`as_outputs`), a feed's key (:func:`resolve`: a node, or a name) and its value
(:func:`convert_feed`: an array of the node's dtype and shape, every value kept).

Imports: ``numpy``, ``symgraph.errors``, ``symgraph.graph``, ``symgraph.ops``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.errors import MissingFeedError, ShapeError, SymgraphError
from symgraph.graph import Node, ancestors
from symgraph.ops.core import VAR, describe


def as_outputs(outputs: Any, who: str) -> tuple[list[Node], bool]:
    """``outputs`` (a node, or a non-empty list or tuple of nodes of one graph) as a list,
    and whether it was a single node; anything else raises naming ``who``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> as_outputs(x, "sg.evaluate") == ([x], True)
    True
    """
    if isinstance(outputs, Node):
        return [outputs], True
    if isinstance(outputs, (list, tuple)) and outputs:
        for o in outputs:
            if not isinstance(o, Node):
                raise SymgraphError(f"{who}: outputs hold {o!r}, which is not a symgraph node")
        graph = outputs[0].graph
        if any(o.graph is not graph for o in outputs):
            raise SymgraphError(f"{who}: the outputs belong to different graphs")
        return list(outputs), False
    raise SymgraphError(f"{who}: outputs must be a node or a non-empty list of nodes")


def resolve(key: Any, graph: Any, who: str, outputs: Sequence[Node] | None = None) -> Node:
    """The node of ``graph`` that a feed's key (a node, or a name) stands for.

    A name several inputs carry (a notebook cell making ``sg.var("x")`` run again) stands
    for the newest of them; given ``outputs``, only if they use it (an output built on an
    older one would otherwise miss its feed): else the name is ambiguous and raises."""
    if isinstance(key, Node):
        if key.graph is not graph:
            raise SymgraphError(f"{who}: the feed for {describe(key)} is a node of another graph")
        return key
    if isinstance(key, str):
        found = graph.by_name(key)
        if not found:
            raise MissingFeedError(f"{who}: the graph has no node named {key!r} to feed")
        if len(found) > 1:
            # Re-running a notebook cell makes sg.var("x") again: the newest input of the
            # name wins, so feeding by name keeps working (other named nodes never do)
            newest = max((n for n in found if n.opdef is VAR), key=lambda n: n.id,
                         default=None)
            if newest is None or (outputs is not None and newest.id not in {
                    n.id for n in ancestors(list(outputs))}):
                raise SymgraphError(
                    f"{who}: {len(found)} nodes are named {key!r}"
                    + ("" if newest is None else " and the outputs do not use the newest")
                    + "; feed by node instead of by name")
            return newest
        return found[0]
    raise SymgraphError(f"{who}: feeds are keyed by nodes or names, got {key!r}")


def resolve_feeds(feeds: Any, graph: Any, who: str,
                  outputs: Sequence[Node] | None = None) -> list[tuple[Node, Any]]:
    """``feeds`` (a dict) as (node, value) pairs, each key resolved by :func:`resolve`; a
    node fed twice (by node and by name) raises rather than one value silently winning."""
    pairs: dict[int, tuple[Node, Any, Any]] = {}
    for key, value in feeds.items():
        node = resolve(key, graph, who, outputs)
        if node.id in pairs:
            how = ["by node" if isinstance(k, Node) else f"by the name {k!r}"
                   for k in (pairs[node.id][2], key)]
            raise SymgraphError(f"{who}: {describe(node)} is fed twice ({how[0]} and "
                                f"{how[1]}); give each input one value")
        pairs[node.id] = (node, value, key)
    return [(node, value) for node, value, _ in pairs.values()]


def convert_feed(node: Node, value: Any, who: str) -> np.ndarray:
    """``value`` as an array of ``node``'s dtype, checked against its static shape.

    A conversion must keep every value: integers that do not fit (``2**64 - 1`` for an
    int64 input, ``-1`` for a uint8 one) and finite floats that would become inf raise
    instead of wrapping round. This is the one check ``sg.evaluate`` and compiled
    functions share.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     i = sg.var("i", shape=(2,), dtype="uint8")
    >>> convert_feed(i, [1, 255], "sg.evaluate").tolist()
    [1, 255]
    >>> try:
    ...     convert_feed(i, [1, -1], "sg.evaluate")
    ... except sg.SymgraphError as e:
    ...     print(str(e).split("; ")[0])
    sg.evaluate: the value fed for 'i' (shape (2,)) holds -1, which does not fit uint8 (0 to 255)
    """
    if isinstance(value, Node):
        raise SymgraphError(f"{who}: the feed for {describe(node)} is a node; feed numbers")
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):  # (asarray drops it)
        raise SymgraphError(f"{who}: the value fed for {describe(node)} is a masked array with "
                            "masked entries; feed value.filled(...) or the values to use")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise SymgraphError(
            f"{who}: the value fed for {describe(node)} is not a rectangular array of numbers "
            f"({exc})"
        ) from None
    if array.dtype.kind not in "biuf":
        big = _too_big_int(array)
        if big is not None:
            raise SymgraphError(
                f"{who}: the value fed for {describe(node)} holds {big}, which does not fit "
                f"{node.dtype} (nor any NumPy integer type); feed values in its range"
            )
        raise SymgraphError(
            f"{who}: the value fed for {describe(node)} has dtype {array.dtype}, not numbers; "
            "feed ints, floats or bools"
        )
    expected = node.shape
    if len(array.shape) != len(expected) or any(
        e is not None and e != g for e, g in zip(expected, array.shape)
    ):
        shown = tuple("?" if e is None else e for e in expected)
        raise ShapeError(
            f"{who}: the value fed for {describe(node)} has shape {array.shape}, expected "
            f"{shown}".replace("'?'", "?")
        )
    if array.dtype != node.dtype:
        # Integer to integer is judged by value below (NumPy refuses int64 -> uint8 by
        # kind, though [1, 2] fits); other kinds must not change (float -> int rounds).
        integers = array.dtype.kind in "iu" and node.dtype.kind in "iu"
        if not integers and not np.can_cast(array.dtype, node.dtype, casting="same_kind"):
            raise SymgraphError(
                f"{who}: the value fed for {describe(node)} has dtype {array.dtype}, which "
                f"cannot become {node.dtype} without losing its kind; convert it first"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below
            converted = array.astype(node.dtype)
        if not np.can_cast(array.dtype, node.dtype, casting="safe"):
            _check_fits(node, array, converted, who)
        array = converted
    return array


def _too_big_int(array: np.ndarray) -> int | None:
    """The first Python int of an object array that no NumPy integer type holds."""
    if array.dtype.kind != "O" or not all(isinstance(v, int) for v in array.flat):
        return None
    return next((v for v in array.flat if not -(2**63) <= v < 2**64), None)


def _check_fits(node: Node, array: np.ndarray, converted: np.ndarray, who: str) -> None:
    """A narrowing conversion kept every value: no integer wrapped round (``astype``
    makes 2**64 - 1 into -1), no finite float became inf."""
    if array.size == 0:
        return
    bad: Any = None
    if node.dtype.kind in "iu":
        info = np.iinfo(node.dtype)
        low, high = array.min(), array.max()
        bad = low if low < info.min else high if high > info.max else None
        limits = f"{info.min} to {info.max}"
    else:
        overflow = np.isinf(converted) & np.isfinite(array)
        if overflow.any():
            bad = array[overflow].flat[0]
        limits = f"its largest is {np.finfo(node.dtype).max:g}"
    if bad is not None:
        raise SymgraphError(
            f"{who}: the value fed for {describe(node)} holds {bad}, which does not fit "
            f"{node.dtype} ({limits}); feed values in that range or give the input a "
            "wider dtype"
        )

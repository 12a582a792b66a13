"""Functional index updates, as JAX's: ``x.at[index].set(y)``, ``.add(y)`` and ``.get()``.

A node never changes, so ``x.at[i].set(y)`` is a new node: ``x`` with ``y`` (broadcast to
``x[i]``'s shape, in ``x``'s dtype) in place of ``x[i]``. Built from the ops indexing
already has, so derivatives, batching and every backend come with them:

- ``set``: ``where(mask, scatter(y), x)``, ``mask`` true at ``index``;
- ``add``: ``where(mask, x + scatter(y), x)``: ``x[i] + y`` inside, ``x`` exactly outside
  (-0.0 included). An integer-array index adds every repeat, as ``np.add.at`` and JAX.

``set`` with an integer-array index takes constant indices without repeats (which value
a repeat would keep is undefined in JAX; NumPy keeps the last): a repeat or an index
node raises, and ``add`` is the update to use there. Values that would lose their kind
in ``x``'s dtype (floats into integers, numbers into booleans) raise too.

Imports: ``symgraph.graph``, ``symgraph.ops``' core, elementwise, reduce, shape, gather and
transaction modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.core import CONST, as_node, const, describe
from symgraph.ops.elementwise import NOT_EQUAL, apply, cast, where
from symgraph.ops.gather import GATHER, add_at
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.shape import GETITEM, scatter
from symgraph.ops.transaction import building

__all__ = ["IndexUpdates"]


class IndexUpdates:
    """``x.at``: index it (``x.at[1:, idx]``) for the updates of that part of ``x``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(4,))
    ...     y = x.at[1:3].set(0.0).at[[0, 0]].add(5.0)
    >>> sg.evaluate(y, {x: [1.0, 2.0, 3.0, 4.0]}).tolist()
    [11.0, 0.0, 0.0, 4.0]
    """

    __slots__ = ("node",)

    def __init__(self, node: Node):
        self.node = node

    def __getitem__(self, index: Any) -> IndexUpdate:
        return IndexUpdate(self.node, index)


class IndexUpdate:
    """``x.at[index]``: ``.set(y)``, ``.add(y)``, ``.get()`` (see the module's docstring)."""

    __slots__ = ("node", "index")

    def __init__(self, node: Node, index: Any):
        self.node, self.index = node, index

    def get(self) -> Node:
        """``x[index]``."""
        return self.node[self.index]

    def set(self, values: Any) -> Node:
        """``x`` with ``values`` at ``index`` (broadcast to ``x[index]``'s shape)."""
        return _update(self.node, self.index, values, adding=False)

    def add(self, values: Any) -> Node:
        """``x`` with ``values`` added at ``index`` (every repeat of an integer index adds)."""
        return _update(self.node, self.index, values, adding=True)


def _update(x: Node, index: Any, values: Any, adding: bool) -> Node:
    who = f"{describe(x)}.at[...].{'add' if adding else 'set'}"
    with building(x.graph, who, "building the update"):  # a refused update adds no node
        part = x[index]
        y = _values(values, x, part, who)
        true = broadcast_to(const(True, graph=x.graph), part)  # (part's runtime shape)
        if part.opdef is GETITEM:  # slices, ints, None, ...: each element once
            mask = scatter(true, part.attrs["index"], x)
            placed = scatter(y, part.attrs["index"], x)
        elif part.opdef is GATHER:
            idx, spec = list(part.inputs[1:]), part.attrs["index"]
            if not adding:
                _check_unrepeated(idx, spec, x, who)
            placed = add_at(y, x, idx, spec)
            # (not `!=`: a node's == and != are Python's identity tests)
            mask = apply(NOT_EQUAL, add_at(cast(true, x.dtype), x, idx, spec), 0)
        else:  # x[()] of a 0-d x is x itself
            return y if not adding else x + y
        return where(mask, x + placed if adding else placed, x)


def _values(values: Any, x: Node, part: Node, who: str) -> Node:
    """The update's values as a node of ``x``'s dtype and ``part``'s shape."""
    y = values if isinstance(values, Node) else as_node(values, x)
    if y.dtype != x.dtype:
        loses = (x.dtype.kind == "b" and y.dtype.kind != "b") or (
            x.dtype.kind in "iu" and y.dtype.kind not in "biu")
        if loses:
            raise SymgraphError(
                f"{who}: the values ({describe(y)}, dtype {y.dtype}) would lose their kind "
                f"in the node's dtype {x.dtype}; cast them yourself (sg.cast) if you mean it")
        y = cast(y, x.dtype)
    if y.shape != part.shape or None in part.shape:
        try:
            y = broadcast_to(y, part)
        except ShapeError:
            raise ShapeError(
                f"{who}: the values have shape {y.shape}, which does not broadcast to the "
                f"indexed part's shape {part.shape}") from None
    return y


def _check_unrepeated(idx: list[Node], spec: Any, x: Node, who: str) -> None:
    """``set`` through integer arrays: constant ones that name each element once."""
    if any(n.opdef is not CONST for n in idx):
        raise SymgraphError(
            f"{who}: set through an index node cannot be checked for repeats (which value a "
            "repeated index keeps is undefined); use .add, or a constant index array")
    arrays = np.broadcast_arrays(*[n.attrs["value"] for n in idx])
    flat = np.stack([a.ravel() for a in arrays]) if arrays else np.zeros((0, 0))
    positions = [x.shape[a] for a in _indexed_axes(spec, len(arrays))]
    wrapped = [np.where(row < 0, row + n, row) if n is not None else row
               for row, n in zip(flat, positions)]
    if len(np.unique(np.stack(wrapped), axis=1).T) != flat.shape[1]:
        raise SymgraphError(f"{who}: the index names an element more than once; set keeps "
                            "one value per element: use .add, or an index without repeats")


def _indexed_axes(spec: tuple, count: int) -> list[int]:
    """The axis of ``x`` each of the ``count`` integer arrays indexes, from the gather's
    canonical index (one item per axis of ``x``, ``None`` for a new axis, the arrays as
    ``("array", k)``)."""
    axes, axis = [0] * count, 0
    for item in spec:
        if item is None:
            continue
        if isinstance(item, tuple) and item[0] == "array":
            axes[item[1]] = axis
        axis += 1
    return axes

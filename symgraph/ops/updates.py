"""Functional index updates, as JAX's: ``x.at[index].set(y)``, ``.add(y)``, ``.get()``, and
``.subtract .multiply .divide .power .min .max .apply``.

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

The others are JAX's too, each built from ``set`` (:func:`_combine`):

- ``subtract``, ``multiply``, ``min``, ``max`` (NumPy's ``minimum``/``maximum``),
  ``apply(f)``: ``x[index]`` combined with the values (or ``f(x[index])``). A constant
  index that names an element more than once applies one repeat after another, in the
  order of the indexed part's elements, as JAX does on a CPU (``x * y1 * y2``): one
  ``set`` per round of distinct elements, on the flattened ``x`` (its shape static);
- ``divide``, ``power``: JAX's ``x / p`` and ``x ** p``, ``p`` being ones with the values
  multiplied in at ``index`` (so ``x / 1`` and ``x ** 1``, exactly ``x``, elsewhere; an
  integer ``x`` divided is a float, as ``jnp.divide``).

Through an integer-array index the values arrive by a scatter that adds into zeros, so a
value of -0.0 written there becomes 0.0 (JAX and NumPy keep -0.0); slices and ints keep it.

An index node (its values known only when fed) cannot be checked for repeats: those
updates raise, except ``add``; JAX's keyword options are taken where they change nothing
(``indices_are_sorted``, ``unique_indices``, ``wrap_negative_indices=True``) and refused
otherwise (``mode``: an index out of range raises, naming the node, when it runs).

Imports: ``symgraph.graph``, ``symgraph.ops``' core, arithmetic, elementwise, reduce, shape,
gather and transaction modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops.arithmetic import maximum, minimum
from symgraph.ops.core import CONST, as_node, const, describe
from symgraph.ops.elementwise import NOT_EQUAL, apply, cast, where
from symgraph.ops.gather import GATHER, add_at
from symgraph.ops.reduce import broadcast_to
from symgraph.ops.shape import GETITEM, reshape, scatter
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


_UPDATES = ("get", "set", "add", "subtract", "multiply", "divide", "power", "min", "max",
            "apply")
# JAX's keyword options and the values that change nothing here (the others raise)
_HARMLESS = {"indices_are_sorted": (True, False), "unique_indices": (True, False),
             "mode": (None,), "wrap_negative_indices": (True,), "out_sharding": (None,),
             "fill_value": (None,)}


class NoSuchUpdate(SymgraphError, AttributeError):
    """An update ``x.at[index]`` does not have (an AttributeError too, as Python expects)."""


class IndexUpdate:
    """``x.at[index]``: ``.set(y)``, ``.add(y)``, ``.get()``, ``.multiply(y)``... (see the
    module's docstring).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = x.at[[0, 2, 0]].multiply(sg.const([2.0, 5.0, 3.0])).at[1].max(10.0)
    >>> sg.evaluate(y, {x: [1.0, 2.0, 3.0]}).tolist()
    [6.0, 10.0, 15.0]
    """

    __slots__ = ("node", "index")

    def __init__(self, node: Node, index: Any):
        self.node, self.index = node, index

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # (Python's own probes: copy, pickle)
            raise AttributeError(name)
        raise NoSuchUpdate(
            f"{describe(self.node)}.at[...] has no update {name!r}; the updates are "
            f"{', '.join(_UPDATES)}; any other is x.at[i].set(f(x[i], y)) (with an index "
            "that names each element once)")

    def get(self, **options: Any) -> Node:
        """``x[index]``."""
        _options(self.node, "get", options)
        return self.node[self.index]

    def set(self, values: Any, **options: Any) -> Node:
        """``x`` with ``values`` at ``index`` (broadcast to ``x[index]``'s shape)."""
        _options(self.node, "set", options)
        return _update(self.node, self.index, values, adding=False)

    def add(self, values: Any, **options: Any) -> Node:
        """``x`` with ``values`` added at ``index`` (every repeat of an integer index adds)."""
        _options(self.node, "add", options)
        return _update(self.node, self.index, values, adding=True)

    def subtract(self, values: Any, **options: Any) -> Node:
        """``x`` with ``values`` subtracted at ``index`` (each repeat in turn)."""
        return self._combine("subtract", values, lambda old, y: old - y, options)

    def multiply(self, values: Any, **options: Any) -> Node:
        """``x`` times ``values`` at ``index`` (each repeat in turn: ``x * y1 * y2``)."""
        return self._combine("multiply", values, lambda old, y: old * y, options)

    def min(self, values: Any, **options: Any) -> Node:
        """``x`` at ``index`` replaced by NumPy's ``minimum`` of it and ``values``."""
        return self._combine("min", values, minimum, options)

    def max(self, values: Any, **options: Any) -> Node:
        """``x`` at ``index`` replaced by NumPy's ``maximum`` of it and ``values``."""
        return self._combine("max", values, maximum, options)

    def apply(self, func: Callable[[Node], Any], **options: Any) -> Node:
        """``x`` with ``func`` (a function of nodes, elementwise) applied at ``index``, once
        per repeat."""
        if not callable(func):
            raise SymgraphError(f"{describe(self.node)}.at[...].apply: {func!r} is not a "
                                "function; give a function of nodes, e.g. sg.sin")
        return self._combine("apply", None, lambda old, y: func(old), options)

    def divide(self, values: Any, **options: Any) -> Node:
        """``x / p`` (JAX's), ``p`` being ones with ``values`` multiplied in at ``index``."""
        return self.node / self._factor("divide", values, options)

    def power(self, values: Any, **options: Any) -> Node:
        """``x ** p`` (JAX's), ``p`` being ones with ``values`` multiplied in at ``index``."""
        return self.node ** self._factor("power", values, options)

    def _combine(self, name: str, values: Any, fn: Callable[[Node, Node], Node],
                 options: dict) -> Node:
        _options(self.node, name, options)
        return _combine(self.node, self.index, values, fn, f"{describe(self.node)}.at[...]."
                        f"{name}")

    def _factor(self, name: str, values: Any, options: dict) -> Node:
        _options(self.node, name, options)
        x = self.node
        ones = broadcast_to(const(1, dtype=x.dtype, graph=x.graph), x)
        return _combine(ones, self.index, values, lambda old, y: old * y,
                        f"{describe(x)}.at[...].{name}")


def _options(x: Node, name: str, options: dict) -> None:
    for key, value in options.items():
        if key not in _HARMLESS or not any(value is v or value == v for v in _HARMLESS[key]):
            raise SymgraphError(
                f"{describe(x)}.at[...].{name}: the option {key}={value!r} is not supported "
                "(an index out of range raises, naming the node, when it runs); leave it out")


def _combine(x: Node, index: Any, values: Any, fn: Callable[[Node, Node], Node],
             who: str) -> Node:
    """``x`` with ``fn(x[index], values)`` at ``index`` (``values`` None: ``fn`` ignores
    them); a repeated constant index applies ``fn`` once per repeat, in order."""
    with building(x.graph, who, "building the update"):  # a refused update adds no node
        part = x[index]
        y = None if values is None else _values(values, x, part, who)
        if part.opdef is GATHER:
            positions = _positions(x, part, who)
            if positions is not None:
                return _in_rounds(x, positions, y, fn, who)
        if part.opdef not in (GETITEM, GATHER):  # x[()] of a 0-d x is x itself
            return _values(fn(x, y), x, x, who)
        return _update(x, index, _values(fn(part, y), x, part, who), adding=False)


def _positions(x: Node, part: Node, who: str) -> np.ndarray | None:
    """The flat position in ``x`` of each element of ``part`` (a gather) if one repeats,
    else None (then ``set`` does it at once). Needs constant indices and ``x``'s shape."""
    idx = part.inputs[1:]
    if any(n.opdef is not CONST for n in idx):
        raise SymgraphError(
            f"{who}: an index node cannot be checked for repeats (each repeat would apply "
            "once more); use a constant index array, or .add")
    if _unrepeated(idx, part, x):
        return None
    if None in x.shape:
        raise SymgraphError(f"{who}: the index repeats an element of {describe(x)}, whose "
                            "shape is known only when fed; repeats are applied on a static "
                            "shape (or give an index that names each element once)")
    # the gather's own NumPy forward on the positions (x's size in int64, made only for a
    # repeating index): its indexing rules and negative indices, as when it runs
    ids = np.arange(int(np.prod(x.shape)), dtype=np.int64).reshape(x.shape)
    return np.asarray(part.opdef.impl(ids, *[n.attrs["value"] for n in idx],
                                      **part.attrs)).ravel()


def _unrepeated(idx: tuple, part: Node, x: Node) -> bool:
    try:
        _check_unrepeated(list(idx), part.attrs["index"], x, "")
    except SymgraphError:
        return False
    return True


def _in_rounds(x: Node, positions: np.ndarray, y: Node | None,
               fn: Callable[[Node, Node], Node], who: str) -> Node:
    """``fn`` at ``positions`` of the flattened ``x``, one repeat after another: round k
    updates the elements at their k-th occurrence (distinct within a round), with the
    values of those occurrences, in the order of the indexed part."""
    order = np.argsort(positions, kind="stable")
    first = np.r_[True, positions[order][1:] != positions[order][:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts
    flat = reshape(x, (-1,))
    values = None if y is None else reshape(y, (-1,))
    for k in range(int(rank.max()) + 1):
        chosen = np.nonzero(rank == k)[0]
        at = positions[chosen]
        old = flat[at]
        new = fn(old, None if values is None else values[chosen])
        flat = _update(flat, at, _values(new, flat, old, who), adding=False)
    return reshape(flat, x.shape)


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

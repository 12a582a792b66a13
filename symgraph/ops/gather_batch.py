"""The vmap rules of the gathers: ``gather``, ``add_at`` (its adjoint) and
``take_along_axis``, for every mix of batched arguments (see ``symgraph.batching``), and
the index helpers they share with ``symgraph.ops.gather``.

Each rule stays one node of its op (no loop over the batch). A gather index batched along
with ``x`` picks each row from its own ``x``: an arange over ``x``'s batch axis joins the
index arrays (the ``("iota", 0, r + 1)`` item). A batched index of an unbatched ``x`` needs
none: the rows read the same ``x``, which is not copied per row. The batch axis of a
batched index array goes first in the broadcast index dims; NumPy puts these dims first
when the advanced items are apart, in their place when side by side, and a transpose then
puts the batch axis first (:func:`batched_index` works out where it lands).

Imports: ``symgraph.graph`` and ``symgraph.ops``' core and shape modules (``gather``
imports this module, not the other way: the rules make ``node.opdef``).
"""

from __future__ import annotations

from typing import Any

from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import describe, make
from symgraph.ops.shape import _ALL, batch_size, batched_to_rank, expand_dims, transpose

# A gather index is a tuple with one item per axis of x (plus ``None`` for new axes): an
# int, ("slice", start, stop, step), None, ("array", k) for the index input k, or
# ("iota", p, r): arange over that axis, placed at position p of a rank-r index (what
# take_along_axis pairs with its indices, sized at run time so unknown dims work).


def _advanced(item: Any) -> bool:
    return isinstance(item, int) or (isinstance(item, tuple) and item[0] != "slice")


def _adjacent(index: tuple) -> bool:
    """Whether the advanced items are side by side (NumPy then keeps their place)."""
    where = [k for k, item in enumerate(index) if _advanced(item)]
    return not where or where[-1] - where[0] == len(where) - 1


def _rank(index: tuple, idx: tuple) -> int:
    """How many dims the broadcast index arrays give the result."""
    ranks = [idx[item[1]].ndim if item[0] == "array" else item[2]
             for item in index if isinstance(item, tuple) and item[0] != "slice"]
    return max(ranks, default=0)


def _layout(index: tuple, labels: list, block: list) -> list:
    """The axes of ``x[index]``'s result, each named: a slice's or a ``None``'s by its label
    in ``labels``, the broadcast index dims by ``block``, placed as NumPy does (in place of
    the advanced items when they are side by side, first otherwise)."""
    rest = [label for item, label in zip(index, labels) if not _advanced(item)]
    where = [k for k, item in enumerate(index) if _advanced(item)]
    at = where[0] if where and _adjacent(index) else 0  # (all before it are slices, Nones)
    return rest[:at] + block + rest[at:]


def batched_index(index: tuple, idx: tuple, x_batched: bool, idx_batched: tuple
                  ) -> tuple[tuple, tuple]:
    """The index of a gather from ``x`` batched or not, its index inputs (unbatched:
    ``idx``) batched where ``idx_batched`` says, each then brought by ``batched_to_rank``
    to the rank of the index dims plus one; and the order of the new result's axes that
    gives ``(B, *result)``, as ``transpose`` takes it.

    ``x[:, i]`` of an unbatched ``x``, ``i`` batched: the batch axis lands after the slice.

    >>> import numpy as np
    >>> batched_index((("slice", None, None, None), ("array", 0)), (np.zeros(2),), False,
    ...               (True,))
    ((('slice', None, None, None), ('array', 0)), (1, 0, 2))
    """
    labels = list(range(len(index)))
    block: list = [("index", d) for d in range(_rank(index, idx))]
    before = _layout(index, labels, block)
    if any(idx_batched):
        # the batch axis leads the broadcast index dims; an iota keeps its place from the end
        items = tuple(("iota", item[1] + 1, item[2] + 1)
                      if isinstance(item, tuple) and item[0] == "iota" else item
                      for item in index)
        if x_batched:  # each row picks from its own x
            new = (("iota", 0, len(block) + 1), *items)
            after = _layout(new, [None, *labels], ["batch", *block])
        else:  # every row reads the one x
            new, after = items, _layout(items, labels, ["batch", *block])
    else:  # the indices are the same for every row: x's batch axis is sliced whole
        new = (_ALL, *index)
        after = _layout(new, ["batch", *labels], block)
    return new, tuple(after.index(d) for d in ["batch", *before])


def _moved(out: Node, order: tuple) -> Node:
    return out if order == tuple(range(len(order))) else transpose(out, order)


def batch_gather(node: Node, args: list, batched: tuple) -> Node:
    """The vmap rule of ``gather``: one gather of the batched arguments."""
    index, idx = node.attrs["index"], tuple(node.inputs[1:])
    rank = _rank(index, idx)
    new, order = batched_index(index, idx, batched[0], batched[1:])
    inputs = [batched_to_rank(a, rank) if b else a for a, b in zip(args[1:], batched[1:])]
    return _moved(make(node.opdef, [args[0], *inputs], {"index": new}), order)


def batch_add_at(node: Node, args: list, batched: tuple) -> Node:
    """The vmap rule of ``add_at``: one ``add_at`` into zeros of ``(B, *shape)`` at the
    index :func:`batch_gather` would read them by (its target always batched), ``g``'s axes
    put where that gather's result has them."""
    index, idx = node.attrs["index"], tuple(node.inputs[2:])
    size = batch_size(args, batched)
    if size is None and not batched[1]:
        # (the zeros' leading size would come from nowhere: like's shape has no batch axis)
        raise SymgraphError(f"vmap of {describe(node)}: the batch size must be known; give "
                            "the mapped axis a static size")
    rank = _rank(index, idx)
    new, order = batched_index(index, idx, True, batched[2:])
    g, width = args[0], len(order) - 1  # (width: the rank of the gathered part)
    if batched[0]:
        g = batched_to_rank(g, width)
    else:  # the same g for every row: a length-1 batch axis, as add.at broadcasts g
        g = expand_dims(g, tuple(range(width + 1 - g.ndim)))
    inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
    inputs = [batched_to_rank(a, rank) if b else a for a, b in zip(args[2:], batched[2:])]
    return make(node.opdef, [_moved(g, inverse), args[1], *inputs],
                {"index": new, "shape": (size, *node.attrs["shape"])})


def batch_take_along(node: Node, args: list, batched: tuple) -> Node:
    """The vmap rule of ``take_along_axis``: its axes other than ``axis`` broadcast, so
    the unbatched argument gains a length-1 batch axis (an unbatched x is not copied)."""
    x, idx = (a if b else expand_dims(a, 0) for a, b in zip(args, batched))
    return make(node.opdef, [x, idx], {"axis": node.attrs["axis"] + 1})

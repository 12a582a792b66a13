"""vmap of loops: the batch rules of ``scan`` and ``cond`` (``Op.batch``).

``sg.vmap``, and so ``sg.jacobian``/``sg.hessian`` (a reverse pass vmapped over the rows of
an identity), go through a loop as one batched loop, as JAX does. A scan whose inputs carry
a batch axis becomes a scan whose body is the vmapped body
(``symgraph.batching.substitute``): a carry is batched if its initial value is, or if its
update reads anything batched (to a fixpoint, as JAX's scan batching rule); batched
per-step inputs are scanned along their second axis; the loop's results come back as
``(B, pack)`` rows, one unbatched pack per batch entry. A ``cond`` with an unbatched
predicate becomes a ``cond`` of the two vmapped branches; with a batched predicate both
branches run and ``where`` picks each entry's result (JAX's ``select``).

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.batching``, ``symgraph.loops``'
body and pack modules (and, when called, ``scan``'s layout: ``scan.py`` names these rules
in its op record).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from symgraph.batching import substitute
from symgraph.graph import Node, ancestors
from symgraph.loops.body import Body, Layout
from symgraph.loops.pack import part
from symgraph.ops import (broadcast_to, cast, concatenate, const, expand_dims, reshape,
                          stop_gradient, transpose, where)
from symgraph.ops.core import make, placeholder


def _reaching(outputs: Sequence[Node], batched: set[int]) -> list[bool]:
    """Which of ``outputs`` depend on a node whose id is in ``batched``."""
    dependent = set(batched)
    for n in ancestors(list(outputs)) if outputs else []:
        if n.id not in dependent and any(i.id in dependent for i in n.inputs):
            dependent.add(n.id)
    return [o.id in dependent for o in outputs]


def _entry(ph: Node, size: int) -> Node:
    return placeholder(ph.graph, (size, *ph.shape), ph.dtype, "vmap_entry")


def _spread(x: Node, size: int) -> Node:
    """``x`` the same for each of ``size`` batch entries."""
    return broadcast_to(expand_dims(x, 0), (size, *x.shape))


def _to_rows(piece: Node, batched: bool, size: int, time_first: bool, dtype: Any) -> Node:
    """A result of the batched loop as ``(size, n)`` rows of the unbatched pack:
    ``time_first`` pieces are ``(T, size, ...)`` (stacked per step) when batched."""
    if not batched:
        piece = _spread(piece, size)
    elif time_first:
        piece = transpose(piece, (1, 0, *range(2, piece.ndim)))
    flat = piece if piece.ndim == 2 else reshape(piece, (size, math.prod(piece.shape[1:])))
    return cast(flat, dtype) if flat.dtype != dtype else flat


def _vmapped(body: Body, flags: list[bool], size: int) -> tuple[list[Node], list[Node]] | None:
    """The body's inputs with the flagged ones replaced by batched placeholders, and its
    results vmapped over them (each with the leading batch axis), or ``None``."""
    new_inputs = [_entry(ph, size) if f else ph for ph, f in zip(body.inputs, flags)]
    subs = {ph: e for ph, e, f in zip(body.inputs, new_inputs, flags) if f}
    if not subs:
        return None
    outs, _ = substitute(body.outputs, subs)
    return None if outs is None else (new_inputs, outs)


def batch_scan(node: Node, args: list[Node], flags: tuple[bool, ...]) -> Node | None:
    """``Op.batch`` of ``scan``: a scan of the vmapped body (see the module docstring);
    the result is the ``(B, pack)`` rows of the packs each batch entry would give."""
    from symgraph.loops.scan import layout, results

    body, T, save = node.attrs["body"], node.attrs["length"], node.attrs["save"]
    m, p = len(body.carries), len(body.xs)
    size = next(a.shape[0] for a, f in zip(args, flags) if f)
    carry_flags = list(flags[:m])
    while True:  # a carry is batched once its update reads anything batched
        marks = [*carry_flags, *flags[m:]]
        reach = _reaching(body.carry_out, {ph.id for ph, f in zip(body.inputs, marks) if f})
        grown = [a or b for a, b in zip(carry_flags, reach)]
        if grown == carry_flags:
            break
        carry_flags = grown
    marks = [*carry_flags, *flags[m:]]
    found = _vmapped(body, marks, size)
    if found is None:
        return None
    new_inputs, outs = found
    carry_out = [o if f else c for o, c, f in zip(outs[:m], body.carry_out, carry_flags)]
    new_body = Body(new_inputs[:m], new_inputs[m:m + p], new_inputs[m + p:], carry_out,
                    outs[m:], body.label + "_vmap")
    init = [a if f else (_spread(a, size) if c else a)
            for a, f, c in zip(args[:m], flags[:m], carry_flags)]
    xs = [transpose(a, (1, 0, *range(2, a.ndim))) if f else a
          for a, f in zip(args[m:m + p], flags[m:m + p])]
    loop = make(node.opdef, [*init, *xs, *args[m + p:]], {**node.attrs, "body": new_body})
    pieces = results(loop)
    dtype = layout(body, T, save).dtype
    kinds = [*[(f, False) for f in carry_flags], *[(True, True)] * len(body.ys),
             *([(f, True) for f in carry_flags] if save else [])]
    rows = [_to_rows(piece, f, size, time_first, dtype)
            for piece, (f, time_first) in zip(pieces, kinds)]
    return concatenate(rows, axis=1) if len(rows) > 1 else rows[0]


def batch_cond(node: Node, args: list[Node], flags: tuple[bool, ...]) -> Node | None:
    """``Op.batch`` of ``cond``: with an unbatched predicate, a ``cond`` of the vmapped
    branches. With a batched predicate each entry takes its own branch, as JAX's
    ``select``: both branches run for the whole batch (each as a ``cond`` whose
    predicate is the constant True) and ``where`` picks each entry's rows, so the
    gradient of an entry is its own branch's gradient."""
    size = next(a.shape[0] for a, f in zip(args, flags) if f)
    true, false = node.attrs["true"], node.attrs["false"]
    if not flags[0]:
        return _branches_rows(node, args, flags, true, false, size)
    pred = args[0] if args[0].dtype == bool else cast(args[0], bool)
    chosen = const(True, graph=pred.graph)
    rows = []
    for branch, taken in ((true, True), (false, False)):
        # Each branch reads every operand per entry through where(pred, a,
        # stop_gradient(a)) (or the mirror image): the same values, but the branch's
        # derivative reaches an entry only where the branch is taken (where's derivative
        # selects, so a NaN derivative of a branch not taken, sqrt at a negative entry, is
        # dropped rather than multiplied by 0).
        operands = []
        for a, batched in zip(args[1:], flags[1:]):
            a = a if batched else _spread(a, size)
            mask = reshape(pred, (size,) + (1,) * (a.ndim - 1))
            fixed = stop_gradient(a)
            operands.append(where(mask, a, fixed) if taken else where(mask, fixed, a))
        rows.append(_branches_rows(node, [chosen, *operands], (False, *[True] * len(operands)),
                                   branch, branch, size))
    if None in rows:
        return None
    return where(expand_dims(pred, 1), rows[0], rows[1])


def _branches_rows(node: Node, args: list[Node], flags: tuple[bool, ...], true: Body,
                   false: Body, size: int) -> Node | None:
    """The ``(B, pack)`` rows of ``cond(args[0], true, false, *args[1:])`` (an unbatched
    predicate) with the flagged operands batched; with none flagged, one unbatched
    ``cond`` spread over the batch."""
    dtype = Layout([(o.shape, o.dtype) for o in true.carry_out], true.label).dtype
    if not any(flags[1:]):
        same = make(node.opdef, args, {"true": true, "false": false})
        return _to_rows(same, False, size, False, dtype)
    made: list[Body] = []
    for branch in (true, false):
        if branch is true and made:  # (a batched predicate's: one branch on both sides;
            made.append(made[0])     # vmapping it twice doubled the work per nested cond)
            continue
        found = _vmapped(branch, list(flags[1:]), size)
        if found is None:
            return None
        ins, outs = found
        n_ops = len(branch.carries)
        made.append(Body(ins[:n_ops], [], ins[n_ops:], outs, [], branch.label + "_vmap"))
    new = make(node.opdef, args, {"true": made[0], "false": made[1]})
    lay = Layout([(o.shape, o.dtype) for o in made[0].carry_out], true.label)
    pieces = [part(new, s, sh, d) for s, (sh, d) in zip(lay.starts, lay.parts)]
    rows = [_to_rows(piece, True, size, False, dtype) for piece in pieces]
    return concatenate(rows, axis=1) if len(rows) > 1 else rows[0]

"""The results of a loop or branch node: one packed array, read by one node per result.

A loop computes several arrays at once (final carries, stacked outputs, saved carries).
Its node's value is all of them flattened side by side (:class:`~symgraph.loops.body.Layout`,
as ``ops/factor.py`` packs a decomposition's factors); ``loop_part`` reads one result out.
Its derivative is ``loop_place``: the result's cotangent placed in a pack of zeros. A
loop's vjp rule takes its cotangent apart again (:func:`split`) and, where it is a sum of
``loop_place`` nodes, uses their inputs directly: results that receive no cotangent
cost nothing in the reverse sweep.

Also owns a loop's bodies as plain data (:func:`body_codec`): the ``encode_attrs`` and
``decode_attrs`` hooks of the loop ops, through which ``sg.save``/``sg.load``,
``sg.to_networkx`` and pictures (layers that may not import this package) read and
rebuild the :class:`~symgraph.loops.body.Body` a loop node holds.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.loops.body``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError
from symgraph.loops import lower
from symgraph.loops.body import Body, check_carries, check_exact_integers
from symgraph.ops.arithmetic import ADD
from symgraph.ops.core import Op, full, is_const, make, operatorname, register
from symgraph.ops.elementwise import cast
from symgraph.ops.shape import concatenate, reshape


def _part_impl(pack: np.ndarray, *, start: int, shape: tuple, dtype: str) -> np.ndarray:
    piece = pack[start:start + math.prod(shape)].reshape(shape)
    if pack.dtype.kind == "f" and np.dtype(dtype).kind in "iu" and piece.size:
        check_exact_integers(piece)
    return piece.astype(dtype, copy=False)


def _place_impl(g: np.ndarray, *, start: int, total: int, dtype: str) -> np.ndarray:
    out = np.zeros(total, dtype)
    out[start:start + np.size(g)] = np.ravel(g)
    return out


def part(pack: Node, start: int, shape: tuple, dtype: Any) -> Node:
    """The result stored at ``start`` of ``pack``, of ``shape`` and ``dtype``."""
    return make(PART, [pack], {"start": start, "shape": tuple(shape),
                               "dtype": np.dtype(dtype).str})


def place(g: Node, start: int, total: int, dtype: Any) -> Node:
    """A pack of ``total`` zeros with ``g`` (flattened) at ``start``."""
    return make(PLACE, [g], {"start": start, "total": total, "dtype": np.dtype(dtype).str})


def _part_batch(rows: Node, *, start: int, shape: tuple, dtype: str) -> Node:
    """vmap of ``part``: the result read out of each row ``(B, total)`` of packs."""
    size = math.prod(shape)
    piece = reshape(rows[:, start:start + size], (rows.shape[0], *shape))
    return piece if piece.dtype == np.dtype(dtype) else cast(piece, dtype)


def _place_batch(g: Node, *, start: int, total: int, dtype: str) -> Node:
    """vmap of ``place``: each row ``g[b]`` placed in a pack of zeros, ``(B, total)``."""
    rows, size = g.shape[0], math.prod(g.shape[1:])
    flat = reshape(g, (rows, size))
    flat = flat if flat.dtype == np.dtype(dtype) else cast(flat, dtype)
    pieces = [full((rows, start), 0, dtype, g.graph), flat,
              full((rows, total - start - size), 0, dtype, g.graph)]
    return concatenate([p for p in pieces if p.shape[1]], axis=1)


PART = register(Op(
    name="loop_part", impl=_part_impl, latex=operatorname("loop_part"),
    shape=lambda inputs, attrs: attrs["shape"],
    dtype=lambda inputs, attrs: np.dtype(attrs["dtype"]),
    vjp=(lambda g, out: place(g, out.attrs["start"], out.inputs[0].shape[0],
                              out.inputs[0].dtype),),
    jvp=(lambda t, out: make(PART, [t], out.attrs),),
    batch=lambda node, args, flags: _part_batch(args[0], **node.attrs),
    show_attrs=("start",), doc="one result of a loop or branch node (read from its pack)",
    lowerings={"jax": lower.jax_part, "dask": lower.dask_part},  # loops/lower.py
))

PLACE = register(Op(
    name="loop_place", impl=_place_impl, latex=operatorname("loop_place"),
    shape=lambda inputs, attrs: (attrs["total"],),
    dtype=lambda inputs, attrs: np.dtype(attrs["dtype"]),
    vjp=(lambda g, out: part(g, out.attrs["start"], out.inputs[0].shape,
                             out.inputs[0].dtype),),
    jvp=(lambda t, out: make(PLACE, [t], out.attrs),),
    batch=lambda node, args, flags: _place_batch(args[0], **node.attrs),
    show_attrs=("start",), doc="a result's cotangent placed in a loop's pack of zeros",
    lowerings={"jax": lower.jax_place, "dask": lower.dask_place},  # loops/lower.py
))


def split(g: Node, starts: list[int], parts: list[tuple[tuple, np.dtype]]) -> list[Node | None]:
    """The cotangent of each result of a pack from the pack's cotangent ``g`` (``None``
    for a result that gets none). A sum of ``loop_place`` nodes is read term by term;
    anything else is sliced."""
    terms, stack = [], [g]
    while stack:
        n = stack.pop()
        if n.opdef is ADD and all(i.shape == n.shape for i in n.inputs):
            stack.extend(n.inputs)
        else:
            terms.append(n)
    out: list[Node | None] = [None] * len(parts)
    at = {s: k for k, s in enumerate(starts)}
    for term in terms:
        if is_const(term, 0):
            continue
        k = at.get(term.attrs.get("start")) if term.opdef is PLACE else None
        pieces = ([(k, term.inputs[0])] if k is not None and term.inputs[0].shape == parts[k][0]
                  else [(j, part(term, s, shape, dtype))
                        for j, (s, (shape, dtype)) in enumerate(zip(starts, parts))])
        for j, piece in pieces:
            if piece.dtype != parts[j][1]:
                from symgraph.ops import cast
                piece = cast(piece, parts[j][1])
            out[j] = piece if out[j] is None else out[j] + piece
    return out


def reshape_to(x: Node, shape: tuple) -> Node:
    return x if x.shape == shape else reshape(x, shape)


# --- a loop's bodies as plain data ----------------------------------------------------------

GROUPS_IN = ("carries", "xs", "closures")
GROUPS_OUT = ("carry_out", "ys")


Encode = Callable[[dict], tuple[dict, dict]]
Decode = Callable[[dict, dict], dict]


def body_codec(*names: str, roles: dict[str, dict[str, str]] | None = None,
               carried: tuple[str, ...] = ("body",)) -> tuple[Encode, Decode]:
    """The ``encode_attrs`` and ``decode_attrs`` of a loop op whose attributes ``names``
    hold bodies: each body as ``(inputs, outputs, meta)``, ``meta`` its label and how many
    of its inputs are carries, xs and closures and of its outputs carries and ys, and
    (``roles``, per attribute) what pictures call a group (``{"carries": "operand"}``
    saves ``"carries_role": "operand"``). Decoding checks that the bodies ``carried``
    (a loop's step, ``body``) return their carries' shapes and dtypes."""
    def encode(attrs: dict) -> tuple[dict, dict]:
        plain = {k: v for k, v in attrs.items() if k not in names}
        bodies = {}
        for name in names:
            b = attrs[name]
            meta = {"label": b.label, **{g: len(getattr(b, g)) for g in GROUPS_IN + GROUPS_OUT}}
            meta.update({f"{g}_role": r for g, r in (roles or {}).get(name, {}).items()})
            bodies[name] = (b.inputs, b.outputs, meta)
        return plain, bodies

    def decode(plain: dict, bodies: dict) -> dict:
        attrs = dict(plain)
        for flag in ("reverse", "save"):  # ("no" would be true, and run the loop backwards)
            if flag in attrs and type(attrs[flag]) is not bool:
                raise SymgraphError(f"the loop's {flag} must be true or false, got "
                                    f"{attrs[flag]!r}")
        for name in names:
            if name not in bodies:
                raise SymgraphError(f"the loop has no body {name!r}")
            inputs, outputs, meta = bodies[name]
            counts = [meta.get(g) for g in GROUPS_IN + GROUPS_OUT]
            if not all(type(c) is int and c >= 0 for c in counts) or \
                    sum(counts[:3]) != len(inputs) or sum(counts[3:]) != len(outputs) or \
                    not isinstance(meta.get("label"), str):
                raise SymgraphError(f"body {name!r}: its label and group sizes {counts} do "
                                    f"not fit its {len(inputs)} inputs and {len(outputs)} "
                                    "outputs")
            m, p, _, r, _ = counts
            body = Body(list(inputs[:m]), list(inputs[m:m + p]), list(inputs[m + p:]),
                        list(outputs[:r]), list(outputs[r:]), meta["label"])
            if name in carried:  # (a file's body must keep its carries' shapes, as traced)
                check_carries(body, f"the loop's {name}")
            attrs[name] = body
        return attrs
    return encode, decode

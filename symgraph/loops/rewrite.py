"""Rewrites inside loop bodies: folding, CSE, hoisting, dropping what nobody reads.

Owns ``rewrite_scan``, ``rewrite_cond`` and ``rewrite_while``, the ``Op.rewrite_inner``
hooks the loop ops declare in their op records (``scan.py``, ``cond.py``): through them
``sg.simplify`` and compile's rewrites reach a loop's body. (The loops' batch rules are in
``batch.py``.)

What a hook does with a loop node, given a function applying the driver's rules (same
mode, same record of fixpoints) to a list of nodes:

- results nobody reads are dropped, when the driver passes the node's readers (every
  ``loop_part`` of it under the outputs): a scan's unread per-step outputs, its saved
  carries (``save`` off: a forward-only loop keeps no history) and carries that no kept
  result needs; a cond's unread results. The hook then returns the new node and each
  reader's replacement (the pack's layout changes);
- constants the node feeds (a closure that folded to a constant; a per-step input that
  is one number throughout, as a loss's cotangent ``1`` often is) are bound into the
  body;
- the body's results are rewritten (constant folding, CSE, the exact algebra; with
  ``assume_finite`` the rest); per-step inputs and closures no longer read are dropped;
- for a scan of at least one step, work that depends on the closures only (not on a
  carry or a per-step input) is *hoisted*: an outer node, computed once, read by the body
  as a new closure (``body.close_over`` finds it, as it finds the user's closures when a
  body is traced). A cond's branches and a while loop's body hoist nothing: they may not
  run, and hoisted work would then run unasked.

Each rewritten body is built once per body and rule set (kept on the body), so repeated
``simplify`` and ``compile`` calls cost a look-up; gradient and tangent bodies are bodies
of loop nodes like any other and are rewritten where they appear.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.loops``' body and pack modules
(and, when called, ``scan``'s layout: ``scan.py`` names these hooks in its op record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgraph.graph import Node, ancestors
from symgraph.loops.body import Body, Layout, close_over
from symgraph.loops.pack import PART, part
from symgraph.ops.core import CONST, full, make

Rewrite = Callable[[list[Node]], list[Node]]


def rebuild(outputs: Sequence[Node], mapping: dict[Node, Node]) -> list[Node]:
    """``outputs`` with each key of ``mapping`` replaced by its value (nodes rebuilt with
    the same ops and attributes, so interned: nothing is built twice)."""
    if not mapping:
        return list(outputs)
    new: dict[int, Node] = {k.id: v for k, v in mapping.items()}
    stop = set(new)
    for node in ancestors(list(outputs), stop=stop):
        if node.id in new or not node.inputs:
            continue
        args = [new.get(i.id, i) for i in node.inputs]
        if any(a is not i for a, i in zip(args, node.inputs)):
            new[node.id] = make(node.opdef, args, node.attrs)
    return [new.get(o.id, o) for o in outputs]


def _reads(outputs: Sequence[Node], inputs: Sequence[Node]) -> list[bool]:
    """Which of ``inputs`` (placeholders) ``outputs`` read."""
    seen = {n.id for n in ancestors(list(outputs))} if outputs else set()
    return [n.id in seen for n in inputs]


# --- rewriting inside --------------------------------------------------------------------


class _Rewritten:
    """A body rewritten: the new body, which per-step inputs it keeps (by position), and
    its closures as expressions of the old body's closure placeholders (the recipe each
    loop node fills in with its own closure inputs)."""

    def __init__(self, body: Body, keep_xs: list[int], recipe: list[Node]):
        self.body, self.keep_xs, self.recipe = body, keep_xs, recipe


def _rewrite_body(body: Body, rewrite: Rewrite, key: Any, hoist: bool) -> _Rewritten | None:
    """``body`` with its results rewritten, unread inputs dropped and (``hoist``) its
    closure-only work moved out; ``None`` when nothing changes. Built once per key."""
    def build() -> _Rewritten | None:
        outs = body.outputs
        if not outs:
            return None
        new = rewrite(outs)
        keep_xs = [k for k, used in enumerate(_reads(new, body.xs)) if used]
        xs = [body.xs[k] for k in keep_xs]
        if hoist:  # the old closures stay their own placeholders: only new work moves
            held, new = close_over([*body.carries, *xs], new, keep=body.closures)
            recipe, closures = list(held), list(held.values())
        else:
            used = _reads(new, body.closures)
            recipe = closures = [w for w, u in zip(body.closures, used) if u]
        if (all(a is b for a, b in zip(new, outs)) and len(xs) == len(body.xs)
                and closures == body.closures):
            return None
        m = len(body.carries)
        return _Rewritten(Body(list(body.carries), xs, closures, new[:m], new[m:], body.label),
                          keep_xs, recipe)
    return body.derived(("rewrite", key, hoist), build)


def _bind_constants(node: Node, body: Body, first: int, offset: int = 0) -> Body:
    """``body`` with its inputs from position ``first`` on that the node feeds constants
    (a closure that is a constant, a per-step input that is one number throughout, as
    the cotangent ``1`` of a loss often is) replaced by those constants in its results:
    the rewrite then folds them, and drops the placeholders, now unread. Input ``k`` of
    the body is input ``k + offset`` of the node (a cond's first input is its predicate)."""
    m, p = len(body.carries), len(body.xs)
    bound: list[tuple[int, Node]] = []
    for k in range(first, len(body.inputs)):
        given, ph = node.inputs[k + offset], body.inputs[k]
        if given.opdef is not CONST:
            continue
        value = given.attrs["value"]
        if k >= m + p:
            bound.append((k, given))
        elif k >= m and value.size and not any(value.strides):  # the same at every step
            bound.append((k, full(ph.shape, value.flat[0], ph.dtype, ph.graph)))
    if not bound:
        return body

    def build() -> Body:
        outs = rebuild(body.outputs, {body.inputs[k]: c for k, c in bound})
        n = len(body.carry_out)
        return Body(list(body.carries), list(body.xs), list(body.closures), outs[:n],
                    outs[n:], body.label)
    return body.derived(("bind", tuple(bound)), build)


def _read_results(readers: Sequence[Node] | None, lay: Layout) -> set[int] | None:
    """Which results of a pack of layout ``lay`` its ``readers`` read (by position), or
    ``None`` unless every reader is a ``loop_part`` reading one whole result."""
    if not readers or len(set(lay.starts)) != len(lay.starts):
        return None  # (zero-size results share a start: positions are ambiguous)
    at = {s: k for k, s in enumerate(lay.starts)}
    wanted = set()
    for r in readers:
        k = at.get(r.attrs.get("start")) if r.opdef is PART else None
        if k is None or tuple(r.attrs["shape"]) != lay.parts[k][0] or \
                np.dtype(r.attrs["dtype"]) != lay.parts[k][1]:
            return None
        wanted.add(k)
    return wanted


def _prune_scan(node: Node, readers: Sequence[Node] | None) -> tuple[Node, list] | None:
    """The scan ``node`` without the results its readers do not read: per-step outputs
    dropped, the saved carries not kept (``save`` off), carries dropped that neither a
    reader nor a kept result needs; and where each old result went (``None``: dropped)."""
    from symgraph.loops.scan import layout

    body, T, save = node.attrs["body"], node.attrs["length"], node.attrs["save"]
    wanted = _read_results(readers, layout(body, T, save))
    if wanted is None:
        return None
    m, r = len(body.carries), len(body.ys)
    keep_y = [m + j in wanted for j in range(r)]
    read_saved = [save and m + r + k in wanted for k in range(m)]
    keep_c = [k in wanted or read_saved[k] for k in range(m)]
    while True:  # a carry that a kept result reads stays
        outs = [*[o for o, k in zip(body.carry_out, keep_c) if k],
                *[y for y, k in zip(body.ys, keep_y) if k]]
        grown = [a or b for a, b in zip(keep_c, _reads(outs, body.carries))]
        if grown == keep_c:
            break
        keep_c = grown
    new_save = any(read_saved)
    if all(keep_c) and all(keep_y) and new_save == save:
        return None
    kc = [k for k in range(m) if keep_c[k]]
    ky = [j for j in range(r) if keep_y[j]]

    def build() -> Body:
        return Body([body.carries[k] for k in kc], list(body.xs), list(body.closures),
                    [body.carry_out[k] for k in kc], [body.ys[j] for j in ky], body.label)
    pruned = body.derived(("prune", tuple(kc), tuple(ky)), build)
    new = make(node.opdef, [*[node.inputs[k] for k in kc], *node.inputs[m:]],
               {**node.attrs, "body": pruned, "save": new_save})
    mc, mr = len(kc), len(ky)
    where: list[int | None] = [kc.index(k) if keep_c[k] else None for k in range(m)]
    where += [mc + ky.index(j) if keep_y[j] else None for j in range(r)]
    if save:
        where += [mc + mr + kc.index(k) if new_save and keep_c[k] else None for k in range(m)]
    return new, where


def _moved_readers(node: Node, new: Node, readers: Sequence[Node], where: list,
                   lay: Layout, new_lay: Layout) -> dict[Node, Node]:
    """``{node: new}`` and each reader (a ``loop_part`` of ``node``) as the same result
    read out of ``new`` (whose results are ``where`` the old ones went)."""
    at = {s: k for k, s in enumerate(lay.starts)}
    moved: dict[Node, Node] = {node: new}
    for r in readers:
        k = where[at[r.attrs["start"]]]
        shape, dtype = new_lay.parts[k]
        moved[r] = part(new, new_lay.starts[k], shape, dtype)
    return moved


def rewrite_scan(node: Node, rewrite: Rewrite, key: Any,
                 readers: Sequence[Node] | None = None) -> Node | dict[Node, Node] | None:
    """``Op.rewrite_inner`` of ``scan``: the node running its body rewritten (see the
    module docstring), or ``None`` when the body is already a fixpoint. Given the
    node's ``readers``, results none of them reads are dropped first: then the new node
    and each reader's replacement, as a dict.

    >>> import symgraph as sg
    >>> from symgraph.loops import fori_loop
    >>> with sg.Graph():
    ...     w = sg.var("w")
    ...     y = fori_loop(0, 3, lambda i, c: c + sg.sin(w) * 1, sg.const(0.0))
    ...     s = sg.simplify(y)
    >>> [str(n) for n in s.inputs[0].inputs]   # the index is unread; sin(w) runs once
    ['0', 'sin(w)']
    """
    pruned = _prune_scan(node, readers)
    if pruned is None:
        return _rewrite_scan(node, rewrite, key)
    from symgraph.loops.scan import layout

    new, where = pruned
    again = _rewrite_scan(new, rewrite, key)
    new = new if again is None else again
    attrs = node.attrs
    return _moved_readers(node, new, readers or [], where,
                          layout(attrs["body"], attrs["length"], attrs["save"]),
                          layout(new.attrs["body"], new.attrs["length"], new.attrs["save"]))


def _rewrite_scan(node: Node, rewrite: Rewrite, key: Any) -> Node | None:
    """The scan ``node`` with its body rewritten, the same results in the same layout."""
    body, attrs = node.attrs["body"], node.attrs
    body = _bind_constants(node, body, len(body.carries))
    found = _rewrite_body(body, rewrite, key, hoist=attrs["length"] >= 1)
    if found is None:
        return None
    m, p = len(body.carries), len(body.xs)
    init, xs, ws = node.inputs[:m], node.inputs[m:m + p], node.inputs[m + p:]
    closures = rebuild(found.recipe, dict(zip(body.closures, ws)))
    return make(node.opdef, [*init, *[xs[k] for k in found.keep_xs], *closures],
                {**attrs, "body": found.body})


def _rewrite_pair(bodies: tuple[Body, Body], rewrite: Rewrite, key: Any
                  ) -> tuple[Body, Body, list[int]] | None:
    """Two bodies sharing one list of closures (a cond's branches, a while loop's test and
    body) rewritten, no hoisting; the closures either still reads (by position)."""
    first, second = bodies

    def build() -> tuple[Body, Body, list[int]] | None:
        news = [rewrite(b.carry_out) if b.carry_out else [] for b in bodies]
        used = [a or b for a, b in zip(_reads(news[0], first.closures),
                                       _reads(news[1], second.closures))]
        keep = [k for k, u in enumerate(used) if u]
        if len(keep) == len(used) and all(
                a is b for new, body in zip(news, bodies) for a, b in zip(new, body.carry_out)):
            return None
        made = [Body(list(b.carries), [], [b.closures[k] for k in keep], new, [], b.label)
                for b, new in zip(bodies, news)]
        return made[0], made[1], keep
    return first.derived(("rewrite-pair", key, second), build)


def _cond_layout(body: Body) -> Layout:
    return Layout([(o.shape, o.dtype) for o in body.carry_out], f"{body.label} results")


def rewrite_cond(node: Node, rewrite: Rewrite, key: Any,
                 readers: Sequence[Node] | None = None) -> Node | dict[Node, Node] | None:
    """``Op.rewrite_inner`` of ``cond``: both branches rewritten, closures neither reads
    dropped (nothing is hoisted: a branch that is not chosen must not run). Given the
    node's ``readers``, results none of them reads are dropped first (then a dict of
    the new node and each reader's replacement)."""
    true = node.attrs["true"]
    lay = _cond_layout(true)
    wanted = _read_results(readers, lay)
    if wanted is None or len(wanted) == len(lay.parts):
        return _rewrite_cond(node, rewrite, key)
    keep = sorted(wanted)

    def pruned(b: Body) -> Body:
        return b.derived(("prune", tuple(keep)), lambda: Body(
            list(b.carries), [], list(b.closures), [b.carry_out[k] for k in keep], [],
            b.label))
    new = make(node.opdef, node.inputs, {"true": pruned(true),
                                         "false": pruned(node.attrs["false"])})
    again = _rewrite_cond(new, rewrite, key)
    new = new if again is None else again
    where = [keep.index(k) if k in wanted else None for k in range(len(lay.parts))]
    return _moved_readers(node, new, readers or [], where, lay,
                          _cond_layout(new.attrs["true"]))


def _rewrite_cond(node: Node, rewrite: Rewrite, key: Any) -> Node | None:
    """The cond ``node`` with its branches rewritten, the same results."""
    true, false = node.attrs["true"], node.attrs["false"]
    n_ops = len(true.carries)
    true, false = (_bind_constants(node, b, n_ops, offset=1) for b in (true, false))
    found = _rewrite_pair((true, false), rewrite, key)
    if found is None:
        return None
    t, f, keep = found
    ws = node.inputs[1 + n_ops:]
    return make(node.opdef, [*node.inputs[:1 + n_ops], *[ws[k] for k in keep]],
                {"true": t, "false": f})


def rewrite_while(node: Node, rewrite: Rewrite, key: Any,
                  readers: Sequence[Node] | None = None) -> Node | None:
    """``Op.rewrite_inner`` of ``while_loop``: its test and body rewritten, closures
    neither reads dropped (nothing hoisted: the body may run no step)."""
    test, body = node.attrs["test"], node.attrs["body"]
    test, body = (_bind_constants(node, b, len(b.carries)) for b in (test, body))
    found = _rewrite_pair((test, body), rewrite, key)
    if found is None:
        return None
    t, b, keep = found
    m = len(body.carries)
    ws = node.inputs[m:]
    return make(node.opdef, [*node.inputs[:m], *[ws[k] for k in keep]], {"test": t, "body": b})

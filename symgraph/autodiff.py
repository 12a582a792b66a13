"""Symbol-to-symbol derivatives: ``grad``, ``vjp`` (reverse mode) and ``jvp`` (forward).

Owns: the drivers that walk a graph and call each op's derivative rules (``jacobian``,
``hessian`` and ``hvp``, built from them, are ``symgraph.jacobians``'). They build
nodes and never compute numbers (Goodfellow et al., 6.5.5). What every rule would
otherwise repeat lives here, once: undoing broadcasting (``sum_to`` to the input's
shape), casting to the input's dtype, summing the contributions of several consumers,
zeros for disconnected inputs, checking a rule's result shape, provenance (order, call,
``grad_of``), and rolling back a call that fails half-way.

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

import functools
import hashlib
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.graph import Node, ShapeError, SymgraphError, ancestors, derivative_context
from symgraph.ops import add, broadcast_to, cast, const, sum_to, zeros_like
from symgraph.ops.core import CONST, describe, make, placeholder
from symgraph.ops.transaction import all_or_nothing

_whole = functools.partial(all_or_nothing, whole=True)  # (Graph._undo: derivatives)
from symgraph.ops.values import const_key
from symgraph.ops.reduce import sum as reduce_sum

Wrt = Node | Sequence[Node]


def _as_list(wrt: Any, who: str) -> tuple[list[Node], bool]:
    if isinstance(wrt, Node):
        return [wrt], True
    if isinstance(wrt, (list, tuple)):
        nodes = list(wrt)
        if not nodes:
            raise SymgraphError(f"{who}: wrt is empty; pass a node or a non-empty list of nodes")
        for n in nodes:
            if not isinstance(n, Node):
                raise SymgraphError(f"{who}: wrt holds {n!r}, which is not a symgraph node")
        return nodes, False
    raise SymgraphError(f"{who}: wrt must be a node or a list of nodes, got {type(wrt).__name__}")


def _check_target(y: Any, wrt: list[Node], who: str, constants: bool = False) -> None:
    """Refuse a ``y`` or ``wrt`` that has no derivative (``constants``: a shared constant
    node counts as one, for the pictures' gradient of every node)."""
    if callable(y) and not isinstance(y, Node):
        raise SymgraphError(
            f"{who} differentiates nodes, not Python functions (it is not jax.grad): build "
            f"y = f(x) from sg.var inputs, then call {who}(y, x)"
        )
    if not isinstance(y, Node):
        raise SymgraphError(f"{who}: y must be a symgraph node, got {type(y).__name__}")
    for n in wrt:
        if n.graph is not y.graph:
            raise SymgraphError(
                f"{who}: {describe(n)} belongs to another graph than {describe(y)}; "
                "differentiate within one sg.Graph"
            )
        if not constants and _shared_constant(n) and n in ancestors([y]):
            raise SymgraphError(
                f"{who}: cannot differentiate with respect to the constant {describe(n)}: a "
                "graph holds one node per small constant value, shared by every use of that "
                "value (the 2 of x**2 too), so the derivative would count them all; make it "
                "an input, sg.var(...), or a constant of its own, sg.const(value, name=...)"
            )
        if n.dtype.kind not in "fc":
            raise SymgraphError(
                f"{who}: cannot differentiate with respect to {describe(n)} of dtype {n.dtype}; "
                "only float nodes have derivatives (declare it with dtype='float64')"
            )
    if y.dtype.kind not in "fc":
        raise SymgraphError(
            f"{who}: {describe(y)} has dtype {y.dtype}, which has no derivative; "
            "differentiate a float expression"
        )


def _shared_constant(n: Node) -> bool:
    """Whether ``n`` is the graph's interned node of a constant value (what sg.const and
    every Python number in an expression give for that value); named and large constants
    are nodes of their own."""
    if n.opdef is not CONST or n.name is not None:
        return False
    key = const_key(n.attrs["value"])
    return key is not None and n.graph._lookup(key) is n


def _next_order(nodes: list[Node]) -> int:
    return 1 + max(map(_order, nodes))


_order = operator.attrgetter("order")


def _total(parts: list[Node]) -> Node:
    total = parts[0]
    for p in parts[1:]:
        total = add(total, p)
    return total


def _fit(c: Node, target: Node, consumer: Node, i: int) -> Node:
    """Input ``i``'s contribution in ``target``'s shape and dtype (undo broadcasting)."""
    if c.shape != target.shape or (None in target.shape and len(consumer.inputs) > 1):
        try:
            c = sum_to(c, target)
        except ShapeError:
            raise SymgraphError(
                f"the derivative rule of '{consumer.op}' gave shape {c.shape} for its input {i}, "
                f"{describe(target)}; a rule must return the input's shape or one that "
                "broadcasts to it"
            ) from None
    if c.dtype != target.dtype:
        c = cast(c, target.dtype)
    return c


def _bad_result(value: Any, node: Node, i: int, kind: str) -> SymgraphError:
    """A rule gave something other than None or a node of its node's graph."""
    what = "a node of another graph" if isinstance(value, Node) else f"a {type(value).__name__}"
    return SymgraphError(
        f"the {kind} rule of '{node.op}' for its input {i} ({describe(node.inputs[i])}) "
        f"returned {what}; a {kind} rule must return a symgraph node built from its arguments "
        "with sg ops (wrap numbers and arrays with sg.const(value, graph=out.graph)), or None "
        "when no derivative flows to that input"
    )


class _Transaction:
    """Undo the nodes a derivative builder appended if it fails half-way."""

    def __init__(self, graph: Any, who: str):
        self.graph, self.who = graph, who
        self.call = graph._new_grad_call()
        self.first = len(graph)

    def fail(self, exc: Exception, node: Node | None = None) -> SymgraphError:
        """Roll back; ``node`` is the one whose rules ran when a non-symgraph error came."""
        # this thread's nodes from the start on, those of the derivative calls it made
        # (a loop's body derivatives) too, unless another thread built meanwhile: it may
        # have found and used one of them (Graph._undo)
        self.graph._undo(self.first, whole=True)
        if isinstance(exc, SymgraphError):
            return exc
        at = "" if node is None else f" in the derivative rules of '{node.op}' ({describe(node)})"
        return SymgraphError(f"{self.who} failed{at}: {type(exc).__name__}: {exc}")


def grad(y: Node, wrt: Wrt) -> Node | list[Node]:
    """The gradient of the scalar ``y`` with respect to ``wrt``, as new nodes of y's graph.

    ``wrt`` is a node or a list of nodes (inputs or any intermediate node); the result has
    the same structure and shapes. A node ``y`` does not depend on gets zeros. Nothing is
    computed: evaluate the result with :func:`symgraph.evaluate`. ``grad`` of a gradient
    gives higher derivatives.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x ** 3
    ...     d1 = sg.grad(y, x)
    ...     d2 = sg.grad(d1, x)
    >>> float(sg.evaluate(d1, {x: 2.0})), float(sg.evaluate(d2, {x: 2.0}))
    (12.0, 12.0)
    """
    return _grad(y, wrt)


def grad_of_every_node(y: Node, wrt: list[Node]) -> list[Node]:
    """:func:`grad` that also takes the graph's shared constant nodes in ``wrt``: the
    derivative with respect to one sums over every use of its value, which is what a
    picture of that one node shows."""
    return _grad(y, wrt, constants=True)


def _grad(y: Node, wrt: Wrt, constants: bool = False) -> Node | list[Node]:
    nodes, single = _as_list(wrt, "sg.grad")
    _check_target(y, nodes, "sg.grad", constants)
    if y.shape != ():
        raise SymgraphError(
            f"sg.grad needs a scalar y, but {describe(y)} has shape {y.shape}; "
            "use sg.jacobian(y, x) for every derivative, or differentiate y.sum()"
        )
    results = _reverse(y, nodes, "sg.grad")
    return results[0] if single else results


@_whole  # (a failed call leaves the graph as it was)
def vjp(ys: Node | Sequence[Node], xs: Wrt, cotangents: Any) -> Node | list[Node]:
    """Reverse mode with a seed: ``sum_i cotangents[i] . d ys[i] / d xs``, as
    ``tf.gradients(ys, xs, grad_ys=cotangents)`` or the function ``jax.vjp`` returns.

    ``ys`` is a node or a list of nodes of any shapes, ``cotangents`` one array-like or node
    per ``y`` of its shape; the result has the structure and shapes of ``xs``. Built as the
    gradient of ``sum(y * cotangent)``: no Jacobian is formed.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2,))
    ...     g = sg.vjp(x * x, x, [1.0, 10.0])
    >>> sg.evaluate(g, {x: [3.0, 4.0]}).tolist()
    [6.0, 80.0]
    """
    outs = [ys] if isinstance(ys, Node) else list(ys) if isinstance(ys, (list, tuple)) else None
    if not outs:
        raise SymgraphError(f"sg.vjp: ys must be a node or a non-empty list of nodes, got {ys!r}")
    seeds = [cotangents] if isinstance(ys, Node) else cotangents
    if not isinstance(seeds, (list, tuple)) or len(seeds) != len(outs):
        raise SymgraphError(f"sg.vjp: give one cotangent per y ({len(outs)} ys)")
    nodes, single = _as_list(xs, "sg.vjp")
    for y in outs:
        _check_target(y, nodes, "sg.vjp")
    directions = [_direction(seed, y, "sg.vjp") for y, seed in zip(outs, seeds)]
    graph = outs[0].graph
    tx = _Transaction(graph, "sg.vjp")
    try:
        # <y, cotangent> belongs to y's order (as jacobian's), so its gradient is of the next.
        # A cotangent that is a node (not a constant) is a placeholder for the reverse pass,
        # put in afterwards: the gradient of <y, v(x)> would differentiate v too.
        seeded: dict[Node, Node] = {}
        wrt_ids = {n.id for n in nodes}
        with derivative_context(_next_order(ancestors(outs)) - 1, tx.call):
            total = None
            for y, v in zip(outs, directions):
                tangent = _as_tangent(v, y)
                if tangent.opdef is not CONST and any(
                        a.id in wrt_ids for a in ancestors([tangent])):
                    seed = _cotangent_of(y, tangent)
                    seeded[seed] = tangent
                    tangent = seed
                term = reduce_sum(y * tangent)
                total = term if total is None else total + term
        results = _reverse(total, nodes, "sg.vjp")
        if seeded:
            results = _put_in(results, seeded)
    except Exception as exc:
        raise tx.fail(exc) from exc
    return results[0] if single else results


def _cotangent_of(y: Node, stands_for: Node | None = None) -> Node:
    """The placeholder cotangent of ``y`` with which ``jacobian`` (and ``vjp``, for the node
    ``stands_for``) seeds the reverse pass: interned, so a repeated call builds the same
    nodes; one per ``y`` and what it stands for."""
    key = (_INTERNED, "cotangent", y.id, None if stands_for is None else stands_for.id)
    return y.graph._kept(key, lambda: placeholder(y.graph, y.shape, y.dtype, "cotangent"))


def _put_in(results: list[Node], values: dict[Node, Node]) -> list[Node]:
    """``results`` with each placeholder of ``values`` replaced by its value: the nodes
    between are made again on it, each at the order of the node it stands for."""
    made = {p.id: v for p, v in values.items()}
    for node in ancestors(results):  # (in id order: topological)
        if node.id in made or not any(i.id in made for i in node.inputs):
            continue
        with derivative_context(node.order, node.grad_call):
            made[node.id] = make(node.opdef, [made.get(i.id, i) for i in node.inputs],
                                 node.attrs)
    return [made.get(r.id, r) for r in results]


def _reverse(y: Node, wrt: list[Node], who: str) -> list[Node]:
    graph = y.graph
    forward = ancestors([y])
    order = _next_order(forward)
    wrt_ids = {n.id for n in wrt}
    # Only nodes on a differentiable path from some wrt node to y get a cotangent; their
    # rules are looked up here, once, and the walk below visits only them. (No tuple per
    # node: the collector runs here, and 10^5 new tuples cost 0.3 s of its passes.)
    rules_of: dict[int, tuple] = {}
    path: list[Node] = []
    by_op: dict[Any, tuple] = {}  # each op's rules, asked once (for the arity seen last)
    for n in forward:
        inputs = n.inputs
        if not inputs and n.id not in wrt_ids:
            continue
        rules = by_op.get(n.opdef)
        if rules is None or len(rules) != len(inputs):
            rules = by_op[n.opdef] = n.opdef.vjp_rules(len(inputs))
        if n.id not in wrt_ids:
            for inp, rule in zip(inputs, rules):
                if rule is not None and inp.id in rules_of:
                    break
            else:
                continue
        rules_of[n.id] = rules
        path.append(n)
    tx = _Transaction(graph, who)
    found: dict[int, Node] = {}
    n = None  # the node whose rules run, named if one raises
    try:
        with derivative_context(order, tx.call) as ctx:
            ctx.grad_of = y
            # A node's cotangent: its one contribution, or the list of several (most nodes
            # have one consumer: no list for them).
            cotangents: dict[int, Any] = {y.id: const(1, dtype=y.dtype, graph=graph)}
            for n in reversed(path):
                nid = n.id
                g = cotangents.pop(nid, None)
                if g is None:
                    continue
                ctx.grad_of = n
                if type(g) is list:
                    g = _total(g)
                if nid in wrt_ids:
                    found[nid] = g
                rules = rules_of[nid]
                for i, inp in enumerate(n.inputs):
                    rule = rules[i]
                    iid = inp.id
                    if rule is None or iid not in rules_of:
                        continue
                    contribution = rule(g, n)
                    if type(contribution) is not Node or contribution.graph is not graph:
                        if contribution is None:
                            continue
                        raise _bad_result(contribution, n, i, "vjp")
                    if (contribution.shape != inp.shape or None in inp.shape
                            or contribution.dtype is not inp.dtype):
                        contribution = _fit(contribution, inp, n, i)
                    earlier = cotangents.get(iid)
                    if earlier is None:
                        cotangents[iid] = contribution
                    elif type(earlier) is list:
                        earlier.append(contribution)
                    else:
                        cotangents[iid] = [earlier, contribution]
            ctx.grad_of = None
            n = None
            return [found[x.id] if x.id in found else zeros_like(x) for x in wrt]
    except Exception as exc:
        raise tx.fail(exc, n) from exc


def _direction(v: Any, x: Node, who: str) -> Node | np.ndarray:
    """The direction ``v`` for ``x``, checked, as a node or an array (builds nothing)."""
    if isinstance(v, Node):
        if v.graph is not x.graph:
            raise SymgraphError(f"{who}: the direction for {describe(x)} belongs to another graph")
        shape = v.shape
    else:
        if v is None:  # np.asarray(None, float) would quietly be nan
            raise SymgraphError(f"{who}: the direction for {describe(x)} is None; give numbers")
        try:
            # (not asarray(v, x.dtype) at once: it parses "1.5" and makes None nan)
            array = np.asarray(v)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"it has dtype {array.dtype}, not numbers")
            v = array.astype(x.dtype)
        except (ValueError, TypeError, OverflowError) as exc:
            raise SymgraphError(
                f"{who}: the direction for {describe(x)} is not a rectangular array of "
                f"numbers ({exc})"
            ) from None
        shape = v.shape
    if shape != x.shape:
        raise ShapeError(
            f"{who}: the direction has shape {shape} but {describe(x)} has shape "
            f"{x.shape}; give one of the same shape"
        )
    return v


_INTERNED = object()  # graph-interning keys of the constants below


def _as_tangent(v: Node | np.ndarray, x: Node) -> Node:
    """The direction as a node; equal arrays give the same node, so calling ``jvp`` again
    with the same direction adds no nodes (``const`` interns only small arrays)."""
    if isinstance(v, Node):
        return v
    graph = x.graph
    if v.size <= 256 or not any(v.strides):
        return const(v, graph=graph)
    digest = hashlib.blake2b(np.ascontiguousarray(v).data, digest_size=16).digest()
    key = (_INTERNED, "direction", v.dtype.str, v.shape, digest)
    found = graph._lookup(key)
    if found is not None and np.array_equal(found.attrs["value"], v, equal_nan=True):
        return found
    node = const(v, graph=graph)
    graph._alias(key, node)
    return node


@_whole  # (a failed call leaves the graph as it was)
def jvp(y: Node, x: Wrt, v: Any) -> Node:
    """Forward mode: the directional derivative of ``y`` at ``x`` along ``v``.

    Its shape is ``y.shape``; ``x`` may be a list of nodes with a list of directions.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2,))
    ...     y = x * x                       # Jacobian diag(2x)
    ...     t = sg.jvp(y, x, [1.0, 0.0])
    >>> sg.evaluate(t, {x: [3.0, 4.0]}).tolist()
    [6.0, 0.0]
    """
    xs, single = _as_list(x, "sg.jvp")
    if not single and not isinstance(v, (list, tuple)):
        raise SymgraphError(f"sg.jvp: x is a list of {len(xs)} nodes, so v must be a list of "
                            "as many directions")
    vs = [v] if single else list(v)
    if len(vs) != len(xs):
        raise SymgraphError(f"sg.jvp: {len(xs)} nodes in x but {len(vs)} directions in v")
    _check_target(y, xs, "sg.jvp")
    directions = [_direction(d, n, "sg.jvp") for n, d in zip(xs, vs)]
    forward = ancestors([y])
    tx = _Transaction(y.graph, "sg.jvp")
    try:
        with derivative_context(_next_order(forward), tx.call) as ctx:
            # made inside the transaction, so a failure takes the direction constants too.
            # A direction is added to what flows into its node, not put in its place: with
            # x and h = f(x) both in the list (or x twice), the result is J @ v for the J
            # that jacobian gives, whose block for x is the total derivative through h.
            seeds: dict[int, list[Node]] = {}
            for x, d in zip(xs, directions):
                seeds.setdefault(x.id, []).append(_as_tangent(d, x))
            tangents: dict[int, Node] = {}
            graph = y.graph
            n = None  # the node whose rules run, named if one raises
            for n in forward:
                seeded = seeds.get(n.id)
                if seeded is not None and len(seeded) == 1 and not any(
                        inp.id in tangents for inp in n.inputs):
                    tangents[n.id] = seeded[0]
                    continue
                ctx.grad_of = n
                parts = []
                for i, inp in enumerate(n.inputs):
                    t = tangents.get(inp.id)
                    rule = n.opdef.jvp_rule(i) if t is not None else None
                    if rule is None:
                        continue
                    contribution = rule(t, n)
                    if type(contribution) is not Node or contribution.graph is not graph:
                        if contribution is None:
                            continue
                        raise _bad_result(contribution, n, i, "jvp")
                    parts.append(contribution)
                if seeded is not None:
                    parts.extend(seeded)
                if parts:
                    total = _total(parts)
                    if total.shape != n.shape or None in n.shape:
                        total = broadcast_to(total, n)
                    tangents[n.id] = cast(total, n.dtype) if total.dtype != n.dtype else total
            n = None
            result = tangents.get(y.id)
            return zeros_like(y) if result is None else result
    except Exception as exc:
        raise tx.fail(exc, n) from exc

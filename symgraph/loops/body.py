"""Bodies of loops and branches: a Python function traced once into graph nodes.

Owns :class:`Body` (placeholders in, nodes out), :func:`trace` (call the user's function
once on placeholders), the packing of a loop's several results into one array
(:class:`Layout`) and the derived bodies that derivatives need (:meth:`Body.gradient`,
:meth:`Body.tangent`), each built once and kept on the body.

Design: a body lives in the SAME graph as the loop node, with placeholder inputs
(``ops.core.placeholder``: inputs that are never fed by name). Its nodes are not ancestors
of the loop node (the node holds the body in its attributes), so ``grad``, ``evaluate`` and
pictures of the outer graph never walk them, and the outer graph grows by one body per
loop (and one per derivative of it), never with the number of steps. A body may use outer
nodes directly (closures, as JAX users write them): :func:`trace` finds every node the
body reads that does not depend on a placeholder (constants aside), makes it an input of
the loop node (so gradients flow to it, and loop-invariant work is computed once, outside
the loop), and rebuilds the body on a placeholder standing for it.

Imports: ``symgraph.context``, ``symgraph.graph``, ``symgraph.ops``, ``symgraph.autodiff``,
``symgraph.backends``.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgraph.autodiff import jvp as sg_jvp
from symgraph.autodiff import vjp as sg_vjp
from symgraph.context import build_context, derivative_context
from symgraph.errors import ValueRefused
from symgraph.graph import Graph, Node, SymgraphError, ancestors
from symgraph.ops import add
from symgraph.ops.core import CONST, as_node, describe, make, placeholder

FLOAT = "fc"


class Body:
    """A traced body: ``carries``, ``xs`` and ``closures`` are its placeholder inputs (in
    that order, the loop node's order too), ``carry_out`` and ``ys`` its result nodes.
    Hashable by identity, so a loop node interns on the body it runs."""

    def __init__(self, carries: list[Node], xs: list[Node], closures: list[Node],
                 carry_out: list[Node], ys: list[Node], label: str):
        self.carries, self.xs, self.closures = carries, xs, closures
        self.carry_out, self.ys, self.label = carry_out, ys, label
        self._runner: Callable[..., list] | None = None
        self._derived: dict[Any, Body] = {}
        self._lock = threading.RLock()

    @property
    def inputs(self) -> list[Node]:
        return [*self.carries, *self.xs, *self.closures]

    @property
    def outputs(self) -> list[Node]:
        return [*self.carry_out, *self.ys]

    def __repr__(self) -> str:
        return f"<symgraph loop body {self.label!r}: {len(self.outputs)} results>"

    def runner(self) -> Callable[..., list]:
        """The body compiled once by the python backend: ``f(*inputs) -> list`` of results.
        Float64 scalars go in and come out as Python floats (``python_scalars``)."""
        if self._runner is None:
            with self._lock:
                if self._runner is None:
                    from symgraph.backends import compile as sg_compile
                    make_room()
                    outs = self.outputs
                    if not outs:
                        self._runner = lambda *args: []
                    else:
                        self._runner = sg_compile(outs, self.inputs, trust_input=True,
                                                  python_scalars=True)
        return self._runner

    def derived(self, key: Any, build: Callable[[], Any]) -> Any:
        """The derived body ``key`` (a gradient or tangent body, or the body rewritten),
        built once."""
        found = self._derived.get(key)
        if found is None:
            with self._lock:
                found = self._derived.get(key)
                if found is None:
                    make_room()
                    found = self._derived[key] = build()
        return found


def make_room(frames: int = 500) -> None:
    """At least ``frames`` more Python frames below the recursion limit, raised if need be.

    Whatever builds, rewrites or compiles a body does so for the loops nested in it from
    within its own call, a dozen frames a level: the depth grows with how deeply loops
    nest (never with the size of a graph, whose walks are iterative), and 80 nested loops
    passed Python's default limit of 1000. The limit is only ever raised.
    """
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    if sys.getrecursionlimit() < depth + frames:
        sys.setrecursionlimit(depth + 2 * frames)


def is_float(node: Node) -> bool:
    return node.dtype.kind in FLOAT


def as_scalar_input(value: Any, node: Node) -> Any:
    """``value`` as the compiled body takes it (a Python float for a float64 scalar)."""
    if node.shape == () and node.dtype == np.float64:
        return float(value)
    return np.asarray(value, dtype=node.dtype)


# --- tracing the user's function ---------------------------------------------------------------


def flatten(tree: Any, who: str, what: str, graph: Graph | None = None) -> tuple[list[Node], Any]:
    """A node or a tuple/list of nodes (numbers become constants) as a list, and how to
    rebuild the structure (``None`` for one node, else the sequence type and length)."""
    if isinstance(tree, (tuple, list)):
        nodes = [_leaf(v, who, what, graph) for v in tree]
        return nodes, (type(tree), len(tree))
    return [_leaf(tree, who, what, graph)], None


def _leaf(value: Any, who: str, what: str, graph: Graph | None) -> Node:
    if isinstance(value, Node):
        return value
    if isinstance(value, (bool, int, float, np.ndarray, np.number)):
        return as_node(value, graph=graph)
    raise SymgraphError(f"{who}: the {what} holds {value!r} ({type(value).__name__}); give a "
                        "node, a number, or a tuple/list of them")


def unflatten(nodes: Sequence[Node], structure: Any) -> Any:
    if structure is None:
        return nodes[0]
    kind, _ = structure
    return kind(nodes) if kind in (tuple, list) else tuple(nodes)


def trace(fn: Callable[..., Any], graph: Graph, args: list[tuple[list[Node], Any]],
          split: Callable[[Any], tuple[Any, Any]], who: str,
          hoist: bool = True) -> tuple[Body, list[Node], Any, Any]:
    """Call ``fn`` once on placeholders shaped like ``args`` (each a list of example nodes
    with its structure) and return the body, the outer nodes it closes over, and the
    structures of the two result groups that ``split`` separates ``fn``'s result into
    (the carry and the per-step output; ``None`` structure and no nodes for an absent group).
    The first argument group is the carry, the second (if any) the per-step input.

    What ``fn`` computes from outer nodes alone is done once, outside the loop, with
    ``hoist`` (a scan of at least one step: the same values, the same derivatives); without
    it (a branch, which may not run; a loop that may run no step) it stays in the body, so
    that nothing of a branch not taken runs, and its derivative, which may be NaN where the
    branch is not meant to run, never meets the zero cotangent of that branch (0 * NaN)."""
    groups: list[list[Node]] = []
    call_args = []
    with graph:
        for k, (examples, structure) in enumerate(args):
            phs = [placeholder(graph, n.shape, n.dtype, f"{who}_in{k}_{j}")
                   for j, n in enumerate(examples)]
            groups.append(phs)
            call_args.append(unflatten(phs, structure) if phs or structure else None)
        made_from = None if hoist else len(graph)  # the nodes fn makes: ids from here on
        try:
            result = fn(*call_args)
        except SymgraphError as exc:
            raise SymgraphError(f"{who}: building the body failed: {exc}") from exc
        first, second = split(result)
        outs1, struct1 = flatten(first, who, "body's carry result", graph)
        outs2, struct2 = ([], None) if second is None else flatten(
            second, who, "body's per-step result", graph)
    for n in [*outs1, *outs2]:
        if n.graph is not graph:
            raise SymgraphError(f"{who}: the body returned {describe(n)}, a node of another "
                                "graph; build the body from its arguments and nodes of the "
                                "loop's graph")
    inputs = [p for g in groups for p in g]
    closures, rebuilt = close_over(inputs, [*outs1, *outs2], made_from=made_from)
    carries = groups[0]
    xs = groups[1] if len(groups) > 1 else []
    ph_closures = list(closures.values())
    body = Body(carries, xs, ph_closures, rebuilt[:len(outs1)], rebuilt[len(outs1):], who)
    return body, list(closures), struct1, struct2


def close_over(inputs: list[Node], outputs: list[Node], keep: Sequence[Node] = (),
               made_from: int | None = None) -> tuple[dict[Node, Node], list[Node]]:
    """The outer nodes ``outputs`` read without depending on ``inputs`` (constants aside),
    each mapped to a new placeholder (the nodes of ``keep`` to themselves: placeholders
    already), and ``outputs`` rebuilt on those placeholders. Nodes of id ``made_from`` on
    (made by the body's function) count as the body's even where they read outer nodes
    only: they are rebuilt inside, on placeholders of the outer nodes they read."""
    graph = outputs[0].graph if outputs else None
    if graph is None:
        return {}, []
    stop = {n.id for n in inputs}
    dependent: set[int] = set(stop)
    closures: dict[Node, Node] = {}
    kept = set(keep)

    def hold(n: Node) -> None:
        if n.opdef is not CONST and n not in closures:
            closures[n] = n if n in kept else placeholder(graph, n.shape, n.dtype, "closure")

    # nodes an earlier body made and rebuilt inside (the originals stay in the graph, and
    # interning hands them to a later body that builds the same expression: it is that
    # body's own work too, never an outer value)
    moved: dict[int, Node] = graph.cache.setdefault(("loops", "moved into a body"), {})
    for node in ancestors(outputs, stop=stop):
        if node.id in dependent:
            continue
        made = made_from is not None and node.opdef is not CONST and (
            node.id >= made_from or moved.get(node.id) is node)
        if not made and not any(i.id in dependent for i in node.inputs):
            continue
        if made:
            moved[node.id] = node
        dependent.add(node.id)
        for i in node.inputs:
            if i.id not in dependent:
                hold(i)
    for o in outputs:
        if o.id not in dependent:
            hold(o)
    if not closures:
        return closures, list(outputs)
    new: dict[int, Node] = {n.id: p for n, p in closures.items() if p is not n}
    for node in ancestors(outputs, stop=stop | set(new)):
        if node.id in new or node.id not in dependent or node.id in stop:
            continue
        args = [new.get(i.id, i) for i in node.inputs]
        if any(a is not i for a, i in zip(args, node.inputs)):
            new[node.id] = make(node.opdef, args, node.attrs)
    return closures, [new.get(o.id, o) for o in outputs]


# --- packing several results into one array -------------------------------------------------------


class Layout:
    """Where each result of a loop lies in its packed value: results flattened, side by
    side, in the pack's dtype (NumPy's promotion of theirs)."""

    def __init__(self, parts: list[tuple[tuple, np.dtype]], who: str):
        for shape, _ in parts:
            if None in shape:
                raise SymgraphError(f"{who}: every carry, input and result needs a static "
                                    f"shape, got {shape}; give sg.var(..., shape=...) sizes")
        self.parts = parts
        self.sizes = [math.prod(s) for s, _ in parts]
        self.starts = [sum(self.sizes[:k]) for k in range(len(parts))]
        self.total = sum(self.sizes)
        self.dtype = np.result_type(*[d for _, d in parts]) if parts else np.dtype("float64")

    def pack(self, values: list[Any]) -> np.ndarray:
        out = np.empty(self.total, self.dtype)
        for v, start, size in zip(values, self.starts, self.sizes):
            out[start:start + size] = np.ravel(v)
        return out

    def key(self) -> tuple:
        return tuple((s, d.str) for s, d in self.parts)


def check_exact_integers(piece: np.ndarray) -> np.ndarray:
    """An integer result packed beside float ones travels as a float: exact only below
    2**(mantissa bits + 1) (2**53 for float64). Past that it may have been rounded, so
    raise rather than return a wrong integer (the jax and dask lowerings of ``loop_part``
    check the same bound)."""
    if np.nanmax(np.abs(piece)) >= exact_integer_limit(piece.dtype):
        raise ValueRefused(inexact_integer_message(piece.dtype))
    return piece


def exact_integer_limit(dtype: Any) -> float:
    """The first integer a float ``dtype`` may not hold exactly (2**53 for float64)."""
    return 2.0 ** (np.finfo(dtype).nmant + 1)


def inexact_integer_message(dtype: Any) -> str:
    bits = np.finfo(dtype).nmant + 1
    return (f"an integer result of a loop reached 2**{bits}, beyond which the loop's "
            f"{np.dtype(dtype)} pack (shared with its float results) no longer holds integers "
            "exactly; keep integer carries below that bound, or cast them to float in the body")


# --- derived bodies ---------------------------------------------------------------------------------


def _ph(like: Node, name: str) -> Node:
    return placeholder(like.graph, like.shape, like.dtype, name)


def _seed_ph(like: Node, name: str) -> Node:
    """A seed (cotangent or tangent) placeholder of a derived body, one order below the
    derivative being built: ``vjp``/``jvp`` give their nodes one order more than their
    inputs', so the body's derivative nodes get the order of the loop that runs them (a
    gradient loop's body is drawn as order 1, not 2)."""
    ctx = build_context()
    with derivative_context(max(ctx.order - 1, 0), ctx.grad_call):
        return _ph(like, name)


def gradient_body(body: Body, ybar: tuple[bool, ...], cbar: tuple[bool, ...]) -> Body:
    """The body of the reverse sweep (see ``scan.py``): carries ``(ā for float carries,
    w̄ accumulators for float closures)``, per-step inputs ``(c_t for every carry, x_t,
    Ȳ_t where ``ybar``, C̄_t where ``cbar``)``, the forward closures; results ``(ā', w̄')``
    and ``x̄_t`` for every float x."""
    def build() -> Body:
        fc = [c for c in body.carries if is_float(c)]
        fw = [w for w in body.closures if is_float(w)]
        fx = [x for x in body.xs if is_float(x)]
        outs = [o for o, c in zip(body.carry_out, body.carries) if is_float(c)]
        abar = [_seed_ph(c, "carry_cotangent") for c in fc]
        wacc = [_seed_ph(w, "closure_cotangent_sum") for w in fw]
        ys = [y for y, k in zip(body.ys, ybar) if k]
        ybar_ph = [_seed_ph(y, "output_cotangent") for y in ys]
        cbar_ph = [_seed_ph(c, "saved_carry_cotangent") for c, k in zip(fc, cbar) if k]
        wrt = [*fc, *fx, *fw]
        ys_all, cots = [*outs, *ys], [*abar, *ybar_ph]
        if wrt and ys_all:
            grads = sg_vjp(ys_all, wrt, cots)
        else:
            grads = [_zero(n) for n in wrt]
        cgrads, xgrads, wgrads = grads[:len(fc)], grads[len(fc):len(fc) + len(fx)], \
            grads[len(fc) + len(fx):]
        it = iter(cbar_ph)
        new_a = [add(g, next(it)) if k else g for g, k in zip(cgrads, cbar)]
        new_w = [add(a, g) for a, g in zip(wacc, wgrads)]
        return Body([*abar, *wacc], [*body.carries, *body.xs, *ybar_ph, *cbar_ph],
                    list(body.closures), new_a + new_w, list(xgrads), body.label + "_grad")
    return body.derived(("grad", ybar, cbar), build)


def tangent_body(body: Body, where: str, k: int) -> Body:
    """The body of the forward-mode scan for a tangent of input ``k`` of group ``where``
    (``"carry"``, ``"x"``, ``"closure"``): carries ``(c, ċ for float carries)``, inputs
    ``(x, ẋ_k if an x)``, closures ``(w, ẇ_k if a closure)``; results ``(c', ċ', y, ẏ for
    float ys)``."""
    def build() -> Body:
        fc = [c for c in body.carries if is_float(c)]
        cdot = [_seed_ph(c, "carry_tangent") for c in fc]
        xdot = [_seed_ph(body.xs[k], "input_tangent")] if where == "x" else []
        wdot = [_seed_ph(body.closures[k], "closure_tangent")] if where == "closure" else []
        wrt = [*fc, *([body.xs[k]] if xdot else []), *([body.closures[k]] if wdot else [])]
        dirs = [*cdot, *xdot, *wdot]
        tangents = []
        for o in [*body.carry_out, *body.ys]:
            if not is_float(o):
                tangents.append(None)
            elif wrt:
                tangents.append(sg_jvp(o, wrt, dirs))
            else:
                tangents.append(_zero(o))
        m = len(body.carry_out)
        ct = [t for t, c in zip(tangents[:m], body.carries) if is_float(c)]
        yt = [t for t in tangents[m:] if t is not None]
        return Body([*body.carries, *cdot], [*body.xs, *xdot], [*body.closures, *wdot],
                    [*body.carry_out, *ct], [*body.ys, *yt], body.label + "_tangent")
    return body.derived(("tangent", where, k), build)


def _zero(like: Node) -> Node:
    from symgraph.ops import zeros_like
    return zeros_like(like)


def check_carries(body: Body, who: str) -> None:
    """Raise unless ``body`` returns as many carries as it takes, each of the same shape
    and dtype (a loop's carry keeps its type from step to step)."""
    if len(body.carry_out) != len(body.carries):
        raise SymgraphError(f"{who}: the body returns {len(body.carry_out)} carries for "
                            f"{len(body.carries)} in init; return the carry's structure")
    for k, (c, o) in enumerate(zip(body.carries, body.carry_out)):
        if c.shape != o.shape or c.dtype != o.dtype:
            raise SymgraphError(
                f"{who}: carry {k} enters the body with shape {c.shape} and dtype {c.dtype} "
                f"but the body returns {describe(o)} of dtype {o.dtype}; a carry keeps its "
                "shape and dtype (cast or broadcast it in the body)")

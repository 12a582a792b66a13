"""``scan`` and ``fori_loop``: a loop as one node whose body is a graph (JAX's ``lax``).

The node ``scan(init..., xs..., closures...)`` (attributes: the traced ``body``, the
``length``, ``reverse``, ``save``) computes, step by step, ``c_{t+1}, y_t = body(c_t, x_t,
w)``; its value packs the final carries, the stacked ``y_t`` and, when ``save``, the
stacked carries ``c_0 .. c_{T-1}`` each step started from (the reverse sweep reads them:
memory of one carry per step). ``sg.evaluate`` and compiled code run it as a Python ``for``
loop over the body compiled once by the python backend, never unrolled.

Derivatives (symbol to symbol, so they differentiate again):

- vjp: a REVERSE scan whose body is the body's vjp (:func:`~symgraph.loops.body.gradient_body`)
  over the saved carries: carry ``ā`` (the cotangent of ``c_{t+1}``) and the running sums of
  the closures' cotangents; per step it reads ``c_t``, ``x_t``, ``Ȳ_t`` and ``C̄_t`` (the
  cotangent of the saved carry, present in second order) and emits ``x̄_t``. Its final
  carry is the cotangent of ``init`` and of the closures. A scan built without ``save``
  (the derivative scans are: forward-only use keeps no history) is differentiated through
  a twin that saves, which recomputes its forward sweep once.
- jvp: a forward scan carrying ``(c, ċ)`` (:func:`~symgraph.loops.body.tangent_body`), one
  per input that has a tangent (the driver asks per input; tangents add up).

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.loops.body``, ``symgraph.loops.pack``,
``symgraph.loops.rewrite``, ``symgraph.loops.batch``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError, get_default_graph
from symgraph.loops import lower
from symgraph.loops.body import (
    Body,
    Layout,
    as_scalar_input,
    check_carries,
    flatten,
    gradient_body,
    is_float,
    tangent_body,
    trace,
    unflatten,
)
from symgraph.loops.pack import body_codec, part, split
from symgraph.loops.batch import batch_scan
from symgraph.loops.rewrite import rewrite_scan
from symgraph.loops.steps import fill, packed_stores, run_steps
from symgraph.ops import concatenate, ravel, reshape, zeros_like
from symgraph.ops.core import Op, const, describe, full, make, operatorname, register
from symgraph.ops.transaction import building


def layout(body: Body, length: int, save: bool) -> Layout:
    parts = [(c.shape, c.dtype) for c in body.carries]
    parts += [((length, *y.shape), y.dtype) for y in body.ys]
    if save:
        parts += [((length, *c.shape), c.dtype) for c in body.carries]
    return Layout(parts, f"scan body {body.label!r}")


def _impl(*arrays: Any, body: Body, length: int, reverse: bool, save: bool) -> np.ndarray:
    m, p = len(body.carries), len(body.xs)
    carries = [as_scalar_input(a, ph) for a, ph in zip(arrays[:m], body.carries)]
    ws = [as_scalar_input(a, ph) for a, ph in zip(arrays[m + p:], body.closures)]
    lay = layout(body, length, save)
    out, stores = packed_stores(lay, m)  # ys and saved carries written in place
    r = len(body.ys)
    final = run_steps(body.runner(), length, carries, arrays[m:m + p], ws,
                      [(x.shape, x.dtype) for x in body.xs], stores[:r], stores[r:], reverse)
    return fill(out, lay, [*final, *stores])


def _shape(inputs: tuple, attrs: dict) -> tuple:
    return (layout(attrs["body"], attrs["length"], attrs["save"]).total,)


def _dtype(inputs: tuple, attrs: dict) -> np.dtype:
    return layout(attrs["body"], attrs["length"], attrs["save"]).dtype


def results(node: Node) -> list[Node]:
    """One node per result of the scan ``node``: final carries, stacked ys, saved carries."""
    lay = layout(node.attrs["body"], node.attrs["length"], node.attrs["save"])
    return [part(node, s, shape, dtype) for s, (shape, dtype) in zip(lay.starts, lay.parts)]


# --- derivatives --------------------------------------------------------------------------------

_memo = threading.local()


def _memoized(key: tuple, build: Callable[[], list]) -> list:
    """The driver asks a rule once per input with the same cotangent: build once. A memo
    whose nodes a failed ``grad`` rolled back is not reused."""
    last = getattr(_memo, "last", None)
    if last is not None and last[0] == key and all(
            n is None or (n.id < len(n.graph._nodes) and n.graph._nodes[n.id] is n)
            for n in last[1]):
        return last[1]
    value = build()
    _memo.last = (key, value, key)  # (key holds the nodes, so their ids stay theirs)
    return value


def _vjp(g: Node, out: Node, i: int) -> Node | None:
    return _memoized(("vjp", out, g), lambda: _build_vjp(g, out))[i]


def _build_vjp(g: Node, out: Node) -> list[Node | None]:
    body, T, reverse, save = (out.attrs[k] for k in ("body", "length", "reverse", "save"))
    m, p, q, r = len(body.carries), len(body.xs), len(body.closures), len(body.ys)
    lay = layout(body, T, save)
    cots = split(g, lay.starts, lay.parts)
    ct, ybar, cbar = cots[:m], cots[m:m + r], cots[m + r:] if save else [None] * m
    fwd = out if save else make(SCAN, out.inputs, {**out.attrs, "save": True})
    res = results(fwd)
    saved = res[m + r:]
    fc = [k for k in range(m) if is_float(body.carries[k])]
    fw = [k for k in range(q) if is_float(body.closures[k])]
    fx = [k for k in range(p) if is_float(body.xs[k])]
    ymask = tuple(ybar[k] is not None and is_float(body.ys[k]) for k in range(r))
    cmask = tuple(cbar[k] is not None for k in fc)
    gb = gradient_body(body, ymask, cmask)
    init, xs, ws = out.inputs[:m], out.inputs[m:m + p], out.inputs[m + p:]
    start = [ct[k] if ct[k] is not None else zeros_like(init[k]) for k in fc]
    start += [zeros_like(ws[k]) for k in fw]
    per_step = [*saved, *xs, *[y for y, k in zip(ybar, ymask) if k],
                *[cbar[k] for k, keep in zip(fc, cmask) if keep]]
    back = make(SCAN, [*start, *per_step, *ws],
                {"body": gb, "length": T, "reverse": not reverse, "save": False})
    parts = results(back)
    grads: list[Node | None] = [None] * (m + p + q)
    for j, k in enumerate(fc):
        grads[k] = parts[j]
    for j, k in enumerate(fw):
        grads[m + p + k] = parts[len(fc) + j]
    for j, k in enumerate(fx):
        grads[m + k] = parts[len(fc) + len(fw) + j]
    return grads


def _jvp(t: Node, out: Node, i: int) -> Node | None:
    body, T, save = out.attrs["body"], out.attrs["length"], out.attrs["save"]
    m, p, r = len(body.carries), len(body.xs), len(body.ys)
    where, k = ("carry", i) if i < m else ("x", i - m) if i < m + p else ("closure", i - m - p)
    ph = body.carries[k] if where == "carry" else body.xs[k] if where == "x" else body.closures[k]
    if not is_float(ph):
        return None
    tb = tangent_body(body, where, k)
    init, xs, ws = list(out.inputs[:m]), list(out.inputs[m:m + p]), list(out.inputs[m + p:])
    fc = [j for j in range(m) if is_float(body.carries[j])]
    cdot = [t if (where == "carry" and j == k) else zeros_like(init[j]) for j in fc]
    node = make(SCAN, [*init, *cdot, *xs, *([t] if where == "x" else []), *ws,
                       *([t] if where == "closure" else [])],
                {"body": tb, "length": T, "reverse": out.attrs["reverse"], "save": save})
    res = results(node)
    nc = len(tb.carries)
    fy = [j for j in range(r) if is_float(body.ys[j])]
    lay = layout(body, T, save)
    pieces: list[Node] = []
    tangent_of_carry = dict(zip(fc, res[m:nc]))
    tangent_of_y = dict(zip(fy, res[nc + r:nc + r + len(fy)]))
    saved_tangent = dict(zip(fc, res[nc + len(tb.ys) + m:])) if save else {}
    wanted = [*[tangent_of_carry.get(j) for j in range(m)], *[tangent_of_y.get(j) for j in range(r)],
              *([saved_tangent.get(j) for j in range(m)] if save else [])]
    for piece, (shape, dtype) in zip(wanted, lay.parts):
        if piece is None:
            piece = full(shape, 0, dtype, out.graph)
        pieces.append(ravel(piece))
    packed = concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]
    return packed


_encode, _decode = body_codec("body")  # save/load, to_networkx, pictures

SCAN = register(Op(
    name="scan", latex=operatorname("scan"),
    impl=_impl, shape=_shape, dtype=_dtype, vjp=_vjp, jvp=_jvp,
    show_attrs=("length", "reverse"), doc="a loop: the body graph run once per step",
    encode_attrs=_encode, decode_attrs=_decode,
    rewrite_inner=rewrite_scan, batch=batch_scan,  # loops/rewrite.py, loops/batch.py
    lowerings={"jax": lower.jax_scan, "dask": lower.dask_scan},  # loops/lower.py
))


# --- the public functions -------------------------------------------------------------------------


def _graph_of(nodes: list[Node]) -> Any:
    return nodes[0].graph if nodes else get_default_graph()


def scan(f: Callable[..., Any], init: Any, xs: Any = None, length: int | None = None,
         checkpoint: int | None = None) -> Any:
    """A loop as one node (``jax.lax.scan``): ``f(carry, x) -> (carry, y)`` is called once,
    on placeholders, to build the body; returns ``(final_carry, ys)``, ``ys`` stacked on a
    new leading axis. ``carry``, ``x`` and ``y`` may be a node or a tuple/list of nodes;
    ``xs`` is scanned along its leading axis (``length`` steps when ``xs`` is None). The
    body may use outer nodes (closures): they become inputs of the loop, and gradients
    reach them. ``grad`` of the result is a reverse scan over the carries saved at each
    step (memory: one carry per step). With ``checkpoint=K`` the loop is a scan over
    segments of ``K`` steps whose body is a scan of ``K`` steps: the reverse sweep then
    keeps every ``K``-th carry and recomputes each segment's carries from it (memory
    ``T/K + K`` carries, one more forward sweep in time).

    >>> import numpy as np, symgraph as sg
    >>> from symgraph.loops import scan
    >>> with sg.Graph():
    ...     a, xs = sg.var("a"), sg.var("xs", shape=(3,))
    ...     total, ys = scan(lambda c, x: (c * a + x, c), sg.const(0.0), xs)
    ...     da = sg.grad(total, a)
    >>> [sg.evaluate(n, {a: 2.0, xs: [1.0, 1.0, 1.0]}).tolist() for n in (total, ys, da)]
    [7.0, [0.0, 1.0, 3.0], 5.0]
    """
    who = "sg.scan"
    if not callable(f):
        raise SymgraphError(f"{who}: f must be a function f(carry, x) -> (carry, y)")
    carries, cstruct = flatten(init, who, "init")
    xs_nodes, xstruct = ([], None) if xs is None else flatten(xs, who, "xs")
    graph = _graph_of(carries + xs_nodes)
    with building(graph, who):
        for n in xs_nodes:
            if not n.shape or n.shape[0] is None:
                raise SymgraphError(f"{who}: xs holds {describe(n)}, which has no static leading "
                                    "axis to scan over; give it shape (length, ...)")
        lengths = {n.shape[0] for n in xs_nodes}
        if length is not None:
            lengths.add(length)
        if len(lengths) != 1:
            raise SymgraphError(f"{who}: " + ("give xs or length" if not lengths else
                                f"the scanned lengths differ ({sorted(lengths)}); give xs of one "
                                "leading length, equal to length"))
        (T,) = lengths
        if not isinstance(T, (int, np.integer)) or T < 0:
            raise SymgraphError(f"{who}: length must be an int >= 0, got {T!r}")
        if checkpoint is not None:
            if not isinstance(checkpoint, (int, np.integer)) or checkpoint < 1:
                raise SymgraphError(f"{who}: checkpoint must be an int >= 1 (steps between "
                                    f"stored carries), got {checkpoint!r}")
            if 1 < checkpoint < T:
                return _checkpointed(f, init, xs_nodes, xstruct, int(T), int(checkpoint))
        slices = [_Slice(n) for n in xs_nodes]

        def split_result(result: Any) -> tuple[Any, Any]:
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise SymgraphError(f"{who}: f must return a pair (carry, y), got {result!r}")
            return result[0], result[1]

        groups = [(carries, cstruct), (slices, xstruct if xs is not None else ())]
        body, closures, _, ystruct = trace(
            lambda c, x: f(c, None if xs is None else x), graph, groups, split_result, who,
            hoist=T > 0)  # (no step: nothing of the body may run)
        check_carries(body, who)
        node = make(SCAN, [*carries, *xs_nodes, *closures],
                    {"body": body, "length": int(T), "reverse": False, "save": True})
        res = results(node)
        m = len(carries)
        final = unflatten(res[:m], cstruct)
        ys = unflatten(res[m:m + len(body.ys)], ystruct) if body.ys else None
        return final, ys


def _checkpointed(f: Callable[..., Any], init: Any, xs_nodes: list[Node], xstruct: Any,
                  T: int, K: int) -> Any:
    """``scan`` of ``T`` steps as a scan over ``T // K`` segments whose body scans ``K``
    steps, then a plain scan of the ``T % K`` steps left."""
    segments, head = T // K, (T // K) * K
    seg_xs = [reshape(x[:head], (segments, K, *x.shape[1:])) for x in xs_nodes]

    def segment(c: Any, xseg: Any) -> Any:
        return scan(f, c, xseg if xs_nodes else None, length=K)

    carry, ys = scan(segment, init, unflatten(seg_xs, xstruct) if xs_nodes else None,
                     length=segments)
    ys_nodes, ystruct = ([], None) if ys is None else flatten(ys, "sg.scan", "ys")
    ys_nodes = [reshape(y, (head, *y.shape[2:])) for y in ys_nodes]
    if head < T:
        tail_xs = [x[head:] for x in xs_nodes]
        carry, tail = scan(f, carry, unflatten(tail_xs, xstruct) if xs_nodes else None,
                           length=T - head)
        if ys is not None:
            ys_nodes = [concatenate([y, t], axis=0)
                        for y, t in zip(ys_nodes, flatten(tail, "sg.scan", "ys")[0])]
    return carry, None if ys is None else unflatten(ys_nodes, ystruct)


class _Slice:
    """Shape and dtype of one step's slice of an ``xs`` node (what a placeholder copies)."""

    def __init__(self, n: Node):
        self.shape, self.dtype = n.shape[1:], n.dtype


def fori_loop(lower: int, upper: int, body: Callable[[Node, Any], Any], init: Any,
              checkpoint: int | None = None) -> Any:
    """``body(i, carry) -> carry`` for ``i`` in ``range(lower, upper)`` (static bounds),
    as ``jax.lax.fori_loop``: a scan over the indices (``i`` a float64 node; cast it for
    indexing), so it differentiates like one (``checkpoint`` as in :func:`scan`).

    >>> import symgraph as sg
    >>> from symgraph.loops import fori_loop
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = fori_loop(0, 3, lambda i, c: c * x + i, sg.const(1.0))
    >>> float(sg.evaluate(y, {x: 2.0})), float(sg.evaluate(sg.grad(y, x), {x: 2.0}))
    (12.0, 13.0)
    """
    for name, v in (("lower", lower), ("upper", upper)):
        if isinstance(v, Node) or not isinstance(v, (int, np.integer)):
            raise SymgraphError(f"sg.fori_loop: {name} must be a Python int (static bounds, "
                                f"got {v!r}); for a bound known only at run time use "
                                "sg.while_loop (no gradient)")
    if not callable(body):
        raise SymgraphError("sg.fori_loop: body must be a function body(i, carry) -> carry")
    if max(abs(int(lower)), abs(int(upper))) > 2**53:  # i is float64: exact up to 2**53
        raise SymgraphError(
            f"sg.fori_loop: the bounds {lower}, {upper} pass 2**53, where float64, the index's "
            "dtype, no longer holds every integer; loop over range(0, upper - lower) and add "
            "lower inside the body (as an int64 constant)")
    n = max(int(upper) - int(lower), 0)
    carries, _ = flatten(init, "sg.fori_loop", "init")
    graph = _graph_of(carries)
    with building(graph, "sg.fori_loop"):
        index = const(np.arange(lower, lower + n, dtype=np.float64), graph=graph)
        final, _ = scan(lambda c, i: (body(i, c), None), init, index, checkpoint=checkpoint)
        return final

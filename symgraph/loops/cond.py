"""``cond`` and ``while_loop``: a branch and an unbounded loop as one node each (JAX's ``lax``).

``cond(pred, ...)`` is a node of ``(pred, operands..., closures...)`` holding both branch
bodies; at evaluation only the chosen branch runs (the other may divide by zero or take
the log of a negative number: nothing of it is computed). Its vjp is again a ``cond``, of
the two branches' vjp bodies, and its jvp a ``cond`` of their jvp bodies: the gradient
is the chosen branch's gradient.

``while_loop(cond_fun, body_fun, init)`` runs until ``cond_fun`` is false; it has no
derivative (its number of steps is not known when the graph is built): ``grad`` through
it raises a SymgraphError pointing to ``scan``/``fori_loop``, when ``grad`` is called.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.autodiff``, ``symgraph.loops``' body,
pack, rewrite and batch modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.autodiff import jvp as sg_jvp
from symgraph.autodiff import vjp as sg_vjp
from symgraph.graph import Node, SymgraphError, get_default_graph
from symgraph.loops import lower
from symgraph.loops.body import (
    Body,
    Layout,
    as_scalar_input,
    check_carries,
    flatten,
    is_float,
    trace,
    unflatten,
)
from symgraph.loops.pack import body_codec, part, split
from symgraph.loops.batch import batch_cond
from symgraph.loops.rewrite import rewrite_cond, rewrite_while
from symgraph.ops import zeros_like
from symgraph.ops.core import Op, describe, make, operatorname, placeholder, register
from symgraph.ops.transaction import building


def _traced(fns: list[Callable[..., Any]], examples: list[Node], structure: Any,
            spread: bool, who: str) -> tuple[list[Body], list[Node], Any]:
    """Each function traced on placeholders like ``examples`` (passed as one argument, or
    spread into several) into a body whose results are its ``carry_out``; the bodies share
    one list of closures (the union of theirs)."""
    graph = examples[0].graph if examples else get_default_graph()
    # (nothing hoisted out: a branch may not run, nor a while loop's body)
    traced = [trace((lambda a, fn=fn: fn(*a)) if spread else fn,
                    graph, [(examples, structure)], lambda r: (r, None), who, hoist=False)
              for fn in fns]
    union: list[Node] = []
    for _, closures, _, _ in traced:
        union += [c for c in closures if c not in union]
    bodies = []
    for body, closures, _, _ in traced:
        mine = dict(zip(closures, body.closures))
        phs = [mine[c] if c in mine else placeholder(graph, c.shape, c.dtype, "closure")
               for c in union]
        bodies.append(Body(body.carries, [], phs, body.carry_out, [], body.label))
    return bodies, union, traced[0][2]


def _layout(body: Body) -> Layout:
    return Layout([(o.shape, o.dtype) for o in body.carry_out], f"{body.label} results")


def _results(node: Node, body: Body) -> list[Node]:
    lay = _layout(body)
    return [part(node, s, sh, d) for s, (sh, d) in zip(lay.starts, lay.parts)]


# --- cond ------------------------------------------------------------------------------------


def _cond_impl(pred: Any, *arrays: Any, true: Body, false: Body) -> np.ndarray:
    body = true if bool(pred) else false
    args = [as_scalar_input(a, ph) for a, ph in zip(arrays, body.inputs)]
    return _layout(body).pack(body.runner()(*args))


def _branch_vjp(body: Body, ymask: tuple[bool, ...]) -> Body:
    def build() -> Body:
        ins = [n for n in body.inputs if is_float(n)]
        outs = [o for o, k in zip(body.carry_out, ymask) if k]
        cots = [placeholder(o.graph, o.shape, o.dtype, "output_cotangent") for o in outs]
        grads = sg_vjp(outs, ins, cots) if outs and ins else [zeros_like(n) for n in ins]
        return Body([*body.carries, *cots], [], body.closures, list(grads), [],
                    body.label + "_grad")
    return body.derived(("cond-grad", ymask), build)


def _branch_jvp(body: Body, i: int) -> Body:
    def build() -> Body:
        x = body.inputs[i]
        dot = placeholder(x.graph, x.shape, x.dtype, "input_tangent")
        outs = [sg_jvp(o, x, dot) if is_float(o) else zeros_like(o) for o in body.carry_out]
        return Body([*body.carries, dot], [], body.closures, outs, [], body.label + "_tangent")
    return body.derived(("cond-tangent", i), build)


def _cond_vjp(g: Node, out: Node, i: int) -> Node | None:
    if i == 0:
        return None
    true, false = out.attrs["true"], out.attrs["false"]
    lay = _layout(true)
    cots = split(g, lay.starts, lay.parts)
    ymask = tuple(c is not None and is_float(o) for c, o in zip(cots, true.carry_out))
    bodies = [_branch_vjp(b, ymask) for b in (true, false)]
    n_ops = len(true.carries)
    node = make(COND, [out.inputs[0], *out.inputs[1:1 + n_ops],
                       *[c for c, k in zip(cots, ymask) if k], *out.inputs[1 + n_ops:]],
                {"true": bodies[0], "false": bodies[1]})
    floats = [k for k, n in enumerate(true.inputs) if is_float(n)]
    if i - 1 not in floats:
        return None
    return _results(node, bodies[0])[floats.index(i - 1)]


def _cond_jvp(t: Node, out: Node, i: int) -> Node | None:
    if i == 0 or not is_float(out.inputs[i]):
        return None
    true, false = out.attrs["true"], out.attrs["false"]
    n_ops = len(true.carries)
    bodies = [_branch_jvp(b, i - 1) for b in (true, false)]
    return make(COND, [out.inputs[0], *out.inputs[1:1 + n_ops], t, *out.inputs[1 + n_ops:]],
                {"true": bodies[0], "false": bodies[1]})


_BRANCH = {"carries": "operand", "carry_out": "result"}
_encode_cond, _decode_cond = body_codec(  # save/load, to_networkx, pictures
    "true", "false", roles={"true": _BRANCH, "false": _BRANCH}, carried=())

COND = register(Op(
    name="cond", latex=operatorname("cond"),
    impl=_cond_impl,
    shape=lambda inputs, attrs: (_layout(attrs["true"]).total,),
    dtype=lambda inputs, attrs: _layout(attrs["true"]).dtype,
    vjp=_cond_vjp, jvp=_cond_jvp, doc="a branch: only the chosen body runs",
    rewrite_inner=rewrite_cond, batch=batch_cond,  # loops/rewrite.py, loops/batch.py
    encode_attrs=_encode_cond, decode_attrs=_decode_cond,
    lowerings={"jax": lower.jax_cond, "dask": lower.dask_whole},  # loops/lower.py
))


def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any],
         *operands: Any) -> Any:
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``, as ``jax.lax.cond``:
    one node; only the chosen branch runs, and the gradient is that branch's gradient (so a
    branch that would give NaN where it is not chosen does not spoil it). Both branches
    return the same structure of shapes and dtypes; they may use outer nodes (closures).

    >>> import symgraph as sg
    >>> from symgraph.loops import cond
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = cond(x > 0, sg.sqrt, lambda v: -v, x)
    >>> float(sg.evaluate(y, {x: -4.0})), float(sg.evaluate(sg.grad(y, x), {x: -4.0}))
    (4.0, -1.0)
    """
    who = "sg.cond"
    if not (callable(true_fn) and callable(false_fn)):
        raise SymgraphError(f"{who}: true_fn and false_fn must be functions of the operands")
    if not isinstance(pred, Node):
        raise SymgraphError(f"{who}: pred must be a boolean scalar node, got {pred!r}; for a "
                            "Python bool choose the branch in Python")
    if pred.shape != () or pred.dtype.kind not in "biu":
        raise SymgraphError(f"{who}: pred must be a boolean scalar node, got {describe(pred)} "
                            f"of dtype {pred.dtype}; compare to make one (x > 0)")
    nodes, _ = flatten(list(operands), who, "operands", pred.graph)
    with building(pred.graph, who):
        bodies, closures, out_struct = _traced([true_fn, false_fn], nodes,
                                               (tuple, len(nodes)), True, who)
        t, f = bodies
        if len(t.carry_out) != len(f.carry_out) or any(
                a.shape != b.shape or a.dtype != b.dtype for a, b in zip(t.carry_out, f.carry_out)):
            raise SymgraphError(f"{who}: the branches return different shapes or dtypes "
                                f"({[(o.shape, str(o.dtype)) for o in t.carry_out]} and "
                                f"{[(o.shape, str(o.dtype)) for o in f.carry_out]}); make them "
                                "agree (cast or broadcast in the branch)")
        node = make(COND, [pred, *nodes, *closures], {"true": t, "false": f})
        return unflatten(_results(node, t), out_struct)


# --- while_loop --------------------------------------------------------------------------------


def _while_impl(*arrays: Any, test: Body, body: Body) -> np.ndarray:
    m = len(body.carries)
    carries = [as_scalar_input(a, ph) for a, ph in zip(arrays[:m], body.carries)]
    ws = [as_scalar_input(a, ph) for a, ph in zip(arrays[m:], body.closures)]
    check, step = test.runner(), body.runner()
    while bool(check(*carries, *ws)[0]):
        carries = step(*carries, *ws)
    return _layout(body).pack(carries)


def _no_derivative(*args: Any) -> None:
    raise SymgraphError(
        "sg.while_loop has no derivative (its number of steps is known only when it runs); "
        "for a gradient write the loop with sg.scan or sg.fori_loop (static length)")


_encode_while, _decode_while = body_codec(  # save/load, to_networkx, pictures
    "test", "body", roles={"test": {"carry_out": "test"}})

WHILE = register(Op(
    name="while_loop", latex=operatorname("while_loop"),
    impl=_while_impl,
    shape=lambda inputs, attrs: (_layout(attrs["body"]).total,),
    dtype=lambda inputs, attrs: _layout(attrs["body"]).dtype,
    vjp=_no_derivative, jvp=_no_derivative, doc="a loop run while its test holds",
    rewrite_inner=rewrite_while,  # loops/rewrite.py
    encode_attrs=_encode_while, decode_attrs=_decode_while,
    lowerings={"jax": lower.jax_while, "dask": lower.dask_whole},  # loops/lower.py
))


def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], init: Any) -> Any:
    """``while cond_fun(carry): carry = body_fun(carry)``, as ``jax.lax.while_loop``: one node,
    forward only (``sg.grad`` through it raises, pointing to ``scan``/``fori_loop``).

    >>> import symgraph as sg
    >>> from symgraph.loops import while_loop
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = while_loop(lambda c: c < 100, lambda c: c * x, sg.const(1.0))
    >>> float(sg.evaluate(y, {x: 3.0}))
    243.0
    """
    who = "sg.while_loop"
    if not (callable(cond_fun) and callable(body_fun)):
        raise SymgraphError(f"{who}: cond_fun and body_fun must be functions of the carry")
    nodes, structure = flatten(init, who, "init")
    with building(nodes[0].graph if nodes else get_default_graph(), who):
        (test, body), closures, _ = _traced([cond_fun, body_fun], nodes, structure, False, who)
        if len(test.carry_out) != 1 or test.carry_out[0].shape != () or (
                test.carry_out[0].dtype != np.bool_):
            got = ", ".join(f"{describe(o)} of dtype {o.dtype}" for o in test.carry_out)
            raise SymgraphError(f"{who}: cond_fun must return one boolean scalar node, got "
                                f"{got or 'nothing'}; compare to make one (c < 10)")
        check_carries(body, who)
        node = make(WHILE, [*nodes, *closures], {"test": test, "body": body})
        return unflatten(_results(node, body), structure)

"""Checking derivative graphs against finite differences, for users and for our tests.

Owns: :func:`check_grad`. The stored derivative graph of order k is compared along
random directions (HIPS autograd's ``check_grads`` idea): the (k-1)-th derivative,
contracted with random directions, is a scalar function F of the inputs; its symbolic
gradient dotted with a random direction d must equal the central difference
``(F(x + h d) - F(x - h d)) / 2h``. A wrong rule fails with probability one.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.autodiff``, ``symgraph.plan`` (feeds)
and ``symgraph.backends.numpy`` (evaluate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from symgraph.autodiff import grad
from symgraph.backends.numpy import evaluate
from symgraph.graph import Node, SymgraphError, ancestors
from symgraph.ops import const, multiply
from symgraph.ops.core import describe
from symgraph.ops.reduce import sum as reduce_sum
from symgraph.feeds import convert_feed, resolve_feeds


class GradCheck(float):
    """The worst relative error (a float), with ``per_input``: name -> worst error."""

    per_input: dict[str, float]


def _contract(parts: Sequence[Node], directions: Sequence[np.ndarray]) -> Node:
    total = None
    for part, d in zip(parts, directions):
        term = reduce_sum(multiply(part, const(d.astype(part.dtype), graph=part.graph)))
        total = term if total is None else total + term
    return total


def _label(node: Node) -> str:
    return node.name if node.name else describe(node)


def check_grad(
    y: Node,
    wrt: Node | Sequence[Node],
    feeds: Mapping[Any, Any],
    order: int = 1,
    rtol: float | None = None,
    seed: int = 0,
) -> GradCheck:
    """Compare the derivative graph of ``order`` with finite differences.

    ``wrt`` may hold inputs or intermediate nodes (those are fed their computed value and
    perturbed). Returns the worst relative error; ``result.per_input`` has it per input.
    Raises :class:`SymgraphError` naming the input whose derivative does not match.
    A non-scalar ``y`` is checked through a random projection ``sum(y * r)``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = sg.sum(sg.tanh(x) ** 2)
    >>> err = sg.check_grad(y, x, {x: [0.1, -0.5, 2.0]}, order=2)
    >>> err < 1e-6
    True

    A check that raises leaves the graph as it was (the derivative nodes it built go).
    """
    mark = len(y.graph) if isinstance(y, Node) else None
    try:
        return _check_grad(y, wrt, feeds, order, rtol, seed)
    except BaseException:
        if mark is not None:
            y.graph._undo(mark)
        raise


def _check_grad(y: Any, wrt: Any, feeds: Mapping[Any, Any], order: Any, rtol: Any,
                seed: Any) -> GradCheck:
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 1:
        raise SymgraphError(f"sg.check_grad: order must be an int >= 1, got {order!r}")
    if rtol is not None and (not isinstance(rtol, (int, float, np.floating))
                             or isinstance(rtol, bool) or not rtol > 0):
        raise SymgraphError(f"sg.check_grad: rtol must be a number > 0 (or None), got {rtol!r}")
    if not isinstance(y, Node):
        raise SymgraphError("sg.check_grad: y must be a symgraph node")
    if not isinstance(wrt, (Node, list, tuple)):
        raise SymgraphError(
            f"sg.check_grad: wrt must be a node or a list of nodes, got {type(wrt).__name__}"
        )
    nodes = [wrt] if isinstance(wrt, Node) else list(wrt)
    if not nodes:
        raise SymgraphError("sg.check_grad: wrt is empty")
    if not all(isinstance(n, Node) for n in nodes):
        kinds = ", ".join(type(n).__name__ for n in nodes)
        raise SymgraphError(f"sg.check_grad: wrt holds something that is not a node ({kinds})")
    if not isinstance(feeds, Mapping):
        raise SymgraphError(f"sg.check_grad: feeds must be a dict, got {type(feeds).__name__}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise SymgraphError(f"sg.check_grad: seed must be an int >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    graph = y.graph
    base: dict[int, np.ndarray] = {}
    node_of: dict[int, Node] = {}
    for node, value in resolve_feeds(feeds, graph, "sg.check_grad"):
        base[node.id] = convert_feed(node, value, "sg.check_grad")
        node_of[node.id] = node
    given = dict(base)  # the user's feeds; intermediate wrt nodes are added one at a time
    for n in nodes:  # an intermediate wrt node is fed its own value, then perturbed
        if n.id not in base:
            base[n.id] = np.asarray(evaluate(n, {node_of[i]: v for i, v in given.items()}))
            node_of[n.id] = n

    def run(output: Node | list[Node], values: dict[int, np.ndarray]) -> Any:
        return evaluate(output, {node_of[i]: v for i, v in values.items()})

    scalar = y
    if y.shape != ():
        projection = rng.standard_normal(np.shape(run(y, base)))
        scalar = _contract([y], [projection])
    for _ in range(order - 1):
        directions = [rng.standard_normal(base[n.id].shape) for n in nodes]
        scalar = _contract(grad(scalar, nodes), directions)
    derivative = grad(scalar, nodes)
    analytic = run(derivative, base)

    # A float32 node anywhere on the way (a cast inside a float64 graph) limits the
    # precision of the differences as much as float32 inputs do.
    tight = all(n.dtype.kind not in "fc" or n.dtype.itemsize >= 8
                for n in ancestors([scalar, *nodes]))
    tolerance = rtol if rtol is not None else (1e-5 if tight else 2e-2)
    step_scale = 6e-6 if tight else 3e-3
    errors: dict[str, float] = {}
    for n, a in zip(nodes, analytic):
        x0 = base[n.id]
        d = rng.standard_normal(x0.shape)
        h = step_scale * max(1.0, float(np.max(np.abs(x0))) if x0.size else 1.0)
        # Only this node is overridden: others downstream of it are recomputed from it.
        plus, minus = dict(given), dict(given)
        plus[n.id] = (x0 + h * d).astype(x0.dtype)
        minus[n.id] = (x0 - h * d).astype(x0.dtype)
        numeric = (float(run(scalar, plus)) - float(run(scalar, minus))) / (2 * h)
        exact = float(np.sum(np.asarray(a, dtype=np.float64) * d))
        scale = max(abs(exact), abs(numeric), 1e-3 if tight else 1e-1)
        error = abs(exact - numeric) / scale
        label = _label(n)
        if label in errors:  # two inputs of one name: each keeps its entry
            label = f"{label} (node #{n.id})"
        errors[label] = error
        if not np.isfinite(numeric):  # (a finite difference of non-finite values of y)
            raise SymgraphError(
                f"sg.check_grad: at these feeds y is not finite near them along {_label(n)} "
                f"(symbolic derivative {exact:.10g}, numeric {numeric:.10g}): it overflows or "
                "is undefined there, so differences say nothing; check at another point")
        if not error <= tolerance:  # also catches NaN
            raise SymgraphError(
                f"sg.check_grad: the order-{order} derivative with respect to {_label(n)} "
                f"does not match finite differences: symbolic {exact:.10g} vs numeric "
                f"{numeric:.10g} along a random direction (relative error {error:.3g} > "
                f"{tolerance:g}); check the derivative rules of the ops between {_label(n)} "
                "and y, or a point where y is not differentiable"
            )
    result = GradCheck(max(errors.values()))
    result.per_input = errors
    return result

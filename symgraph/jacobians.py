"""Derivatives built from the reverse and forward passes: ``jacobian`` (one reverse pass
vectorized over the rows of an identity, as JAX's ``vmap`` of a ``vjp``; one pass per
row for ops without a batch rule), ``hessian`` (the Jacobian of the gradient) and
``hvp`` (forward over reverse: the ``jvp`` of the gradient). Each builds all or nothing.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.batching`` and
``symgraph.autodiff``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.autodiff import (
    _INTERNED,
    Wrt,
    _as_list,
    _check_target,
    _cotangent_of,
    _direction,
    _next_order,
    _reverse,
    _Transaction,
    _whole,
    grad,
    jvp,
)
from symgraph.batching import vectorize
from symgraph.graph import Node, SymgraphError, ancestors, derivative_context
from symgraph.ops import const, reshape, stack, zeros_like
from symgraph.ops.core import describe
from symgraph.ops.reduce import sum as reduce_sum


@_whole  # (a failed call leaves the graph as it was)
def jacobian(y: Node, x: Wrt) -> Node | list[Node]:
    """All first derivatives: shape ``y.shape + x.shape`` (a list for a list ``x``).

    Built as one reverse pass vectorized over the rows of an identity matrix (a batch
    axis, as JAX's ``vmap`` of a ``vjp``), so the graph does not grow with ``y.size``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2,))
    ...     J = sg.jacobian(sg.stack([x[0] * x[1], x[0] + x[1]]), x)
    >>> sg.evaluate(J, {x: [2.0, 3.0]}).tolist()
    [[3.0, 2.0], [1.0, 1.0]]
    """
    xs, single = _as_list(x, "sg.jacobian")
    _check_target(y, xs, "sg.jacobian")
    if y.shape == ():
        out = _reverse(y, xs, "sg.jacobian")
        return out[0] if single else out
    _static_shapes(xs, "sg.jacobian")
    if None in y.shape:
        raise SymgraphError(
            f"sg.jacobian needs a static shape for {describe(y)}; give its inputs static shapes"
        )
    # (every node is interned by its inputs, but a loop's batching makes new placeholders,
    # so a repeated call would build a new batched loop: the answer is kept)
    key = ("jacobian", y.id, y.order, tuple(n.id for n in xs))
    kept = y.graph.cache.get(key)
    if kept is not None and kept[0] is y and all(a is b for a, b in zip(kept[1], xs)) and all(
            r.graph is y.graph for r in kept[2]):
        results = kept[2]  # (the same nodes, not forgotten: ids of forgotten ones come again)
    else:
        results = _batched_jacobian(y, xs)
        if results is None:
            results = _unrolled_jacobian(y, xs)
        y.graph.cache[key] = (y, tuple(xs), results)
    return results[0] if single else list(results)


def _static_shapes(xs: list[Node], who: str) -> None:
    """A Jacobian's shape is ``y.shape + x.shape``: every ``x`` needs a static shape."""
    for x in xs:
        if None in x.shape:
            raise SymgraphError(
                f"{who}: {describe(x)} has a dimension known only when fed, and the result's "
                "shape holds it twice over; give it a static shape (sg.var(..., shape=...)), "
                "or take sg.grad of a scalar (or sg.vjp, sg.jvp, sg.hvp), which need none")


def _batched_jacobian(y: Node, xs: list[Node]) -> list[Node] | None:
    """J as the vmap of the vector-Jacobian product over the rows of the identity."""
    if any(None in n.shape for n in xs):
        return None
    graph, order = y.graph, _next_order(ancestors([y]))
    size = int(np.prod(y.shape))
    tx = _Transaction(graph, "sg.jacobian")
    try:
        # The placeholder cotangent and <y, cotangent> belong to y's order: their
        # gradient is then of the next order, like any other derivative of y. Both it and
        # the identity are interned (a rollback forgets them), so a repeated call builds
        # the very same nodes: everything else is interned by its inputs.
        with derivative_context(order - 1, tx.call):
            cotangent = _cotangent_of(y)
            projected = reduce_sum(y * cotangent)
        vjps = _reverse(projected, xs, "sg.jacobian")
        with derivative_context(order, tx.call):
            # (interned under a key: const interns by value only up to 256 elements)
            rows = graph._kept((_INTERNED, "identity", y.shape, y.dtype.str), lambda: const(
                np.eye(size, dtype=y.dtype).reshape((size, *y.shape)), graph=graph))
            batched = vectorize(vjps, cotangent, rows)
            if batched is None:
                return None
            return [reshape(b, y.shape + xj.shape) for b, xj in zip(batched, xs)]
    except Exception as exc:
        raise tx.fail(exc) from exc


def _unrolled_jacobian(y: Node, xs: list[Node]) -> list[Node]:
    """J as one reverse pass per element of y (for ops without a batch rule)."""
    size = int(np.prod(y.shape))
    flat = reshape(y, (size,))
    rows = [_reverse(flat[i], xs, "sg.jacobian") for i in range(size)]
    results = []
    tx = _Transaction(y.graph, "sg.jacobian")
    with derivative_context(_next_order(ancestors([y])), tx.call):
        for j, xj in enumerate(xs):
            if size == 0:
                results.append(zeros_like(const(np.zeros(y.shape + xj.shape, xj.dtype),
                                                graph=y.graph)))
            else:
                results.append(reshape(stack([r[j] for r in rows]), y.shape + xj.shape))
    return results


@_whole  # (grad, then jacobian: the first is undone if the second fails)
def hessian(y: Node, x: Wrt) -> Node | list[list[Node]]:
    """All second derivatives of the scalar ``y``: shape ``x.shape + x.shape``.

    For a list of nodes (weights and biases), a list of lists of blocks ``H[i][j]`` of
    shape ``xs[i].shape + xs[j].shape``, as ``jax.hessian`` gives for a tuple of arguments.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, b = sg.var("x", shape=(2,)), sg.var("b")
    ...     H = sg.hessian(x[0] ** 2 * x[1], x)
    ...     blocks = sg.hessian(sg.sum(x * x) * b, [x, b])
    >>> sg.evaluate(H, {x: [1.0, 2.0]}).tolist()
    [[4.0, 2.0], [2.0, 0.0]]
    >>> [[sg.evaluate(h, {x: [1.0, 2.0], b: 3.0}).tolist() for h in row] for row in blocks]
    [[[[6.0, 0.0], [0.0, 6.0]], [2.0, 4.0]], [[2.0, 4.0], 0.0]]
    """
    xs, single = _as_list(x, "sg.hessian")
    _check_target(y, xs, "sg.hessian")
    _static_shapes(xs, "sg.hessian")
    if y.shape != ():
        raise SymgraphError(
            f"sg.hessian needs a scalar y, got {describe(y)}; sum it first (y.sum()) or take "
            "sg.jacobian of its gradient"
        )
    grads = grad(y, xs)
    rows = [jacobian(g, xs) for g in grads]
    return rows[0][0] if single else rows


@_whole  # (grad, then jvp: the first is undone if the second fails)
def hvp(y: Node, x: Node, v: Any) -> Node:
    """Hessian-vector product ``H(y) @ v``, shape ``x.shape``, without forming ``H``.

    Built as forward mode over reverse mode (the ``jvp`` of the gradient along ``v``):
    a small constant times the cost of a gradient.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2,))
    ...     Hv = sg.hvp(x[0] ** 2 * x[1], x, [1.0, 0.0])
    >>> sg.evaluate(Hv, {x: [1.0, 2.0]}).tolist()
    [4.0, 2.0]
    """
    if not isinstance(x, Node):
        raise SymgraphError("sg.hvp: x must be one node")
    _check_target(y, [x], "sg.hvp")
    if y.shape != ():
        raise SymgraphError(f"sg.hvp needs a scalar y, got {describe(y)}; sum it first "
                            "(y.sum())")
    _direction(v, x, "sg.hvp")  # before the gradient is built, so a bad v builds nothing
    return jvp(grad(y, x), x, v)

"""How loops and branches run on the ``jax`` and ``dask`` backends (their ``Op.lowerings``).

jax: ``scan`` is ``lax.scan`` (``reverse`` too), ``cond`` is ``lax.cond``, ``while_loop``
is ``lax.while_loop``; each body is lowered by the jax backend's own lowering of a graph
(:func:`symgraph.backends.jax.traceable`), traced once, so XLA compiles a body once
whatever the number of steps. The value is packed as the numpy impl packs it (final
carries, stacked ys, saved carries; see ``scan.py``), so ``loop_part`` reads it alike.
Run-time checks of a body (an index out of range, a singular matrix) cannot raise inside
a trace: each step's flags come out of the loop (stacked per step, or or-ed into the
carry) and the compiled function raises after the call, naming the body's node.

dask: a loop runs as one task on whole arrays, by the op's own numpy impl (the body
compiled by the python backend): exactly ``sg.evaluate``'s numbers, lazy until computed,
and only the chosen branch of a ``cond`` runs. The task carries each body as a
:class:`Portable` (shapes, dtypes and the compiled body, which pickles as its graph's
JSON), never the traced body itself. A ``scan`` fed an array of several blocks (data split
across workers) instead runs its body lowered by the dask backend once per step, block by
block (at most ``BLOCKED_MAX_STEPS`` steps: the dask graph grows with the steps), so no
task gathers the whole array. ``loop_part``/``loop_place`` are lazy slices and pads.

Imports: ``symgraph.graph``, ``symgraph.loops.body``, ``symgraph.backends`` (inside
functions); jax and dask only inside functions.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.errors import ValueRefused
from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import describe
from symgraph.loops.body import (
    Body,
    check_exact_integers,
    exact_integer_limit,
    inexact_integer_message,
)

# --- jax ---------------------------------------------------------------------------------------


def _program(body: Body) -> Any:
    from symgraph.backends.jax import traceable
    return traceable(body.outputs, body.inputs)


def _typed(values: Any, like: list[Node]) -> list:
    """``values`` as arrays of exactly ``like``'s dtypes (not weakly typed: a loop's carry
    keeps its type from step to step)."""
    import jax.numpy as jnp
    return [jnp.asarray(v, dtype=n.dtype) for v, n in zip(values, like)]


def _packed(dtype: Any, values: list) -> Any:
    """``values`` flattened side by side in the pack's ``dtype`` (as ``Layout.pack``)."""
    import jax.numpy as jnp
    if not values:
        return jnp.zeros((0,), dtype)
    return jnp.concatenate([jnp.ravel(v).astype(dtype) for v in values])


def _flags(inner: list) -> Any:
    import jax.numpy as jnp
    return jnp.stack([f for _, f, _ in inner]) if inner else jnp.zeros((0,), bool)


def _checks_of(program: Any, arrays: list) -> list[tuple[Node, str]]:
    """The run-time checks ``program`` makes on ``arrays`` (an abstract trace: no work)."""
    import jax
    inner: list = []
    jax.eval_shape(lambda *a: program(inner, *a), *arrays)
    return [(n, why) for n, _, why in inner]


def jax_scan(node: Node) -> Callable[..., Any]:
    """``lax.scan`` of the body; the stacked ys and saved carries as the numpy impl packs
    them (step ``t`` at index ``t``, also when ``reverse``)."""
    body, length = node.attrs["body"], node.attrs["length"]
    reverse, save = node.attrs["reverse"], node.attrs["save"]
    program = _program(body)
    m, p = len(body.carries), len(body.xs)

    def run(node: Node, checks: list, *arrays: Any) -> Any:
        from jax import lax
        init = _typed(arrays[:m], body.carries)
        xs, ws = list(arrays[m:m + p]), list(arrays[m + p:])
        found: list = []

        def step(carry: list, x: list) -> tuple:
            inner: list = []
            outs = program(inner, *carry, *x, *ws)
            found[:] = [(n, why) for n, _, why in inner]
            new = _typed(outs[:m], body.carries)
            return new, (_typed(outs[m:], body.ys), list(carry) if save else [],
                         _flags(inner))

        final, (ys, saved, flags) = lax.scan(step, init, xs, length=length, reverse=reverse)
        for k, (n, why) in enumerate(found):
            checks.append((n, flags[:, k].any(), why))
        return _packed(node.dtype, [*final, *ys, *saved])

    run.scalar_steps = program.scalar_steps  # type: ignore[attr-defined]
    return run


def jax_cond(node: Node) -> Callable[..., Any]:
    """``lax.cond``: only the chosen branch runs (XLA's conditional), so a branch that
    would give NaN where it is not chosen spoils neither the value nor the gradient."""
    programs = [_program(node.attrs["true"]), _program(node.attrs["false"])]
    body = node.attrs["true"]

    def run(node: Node, checks: list, pred: Any, *arrays: Any) -> Any:
        import jax.numpy as jnp
        from jax import lax
        args = _typed(arrays, body.inputs)
        found = [_checks_of(p, args) for p in programs]
        counts = [len(f) for f in found]

        def branch(k: int) -> Callable[..., tuple]:
            def taken(*a: Any) -> tuple:
                inner: list = []
                outs = programs[k](inner, *a)
                # (both branches return every check's flag: the other's stay false)
                other = [jnp.zeros((), bool)] * counts[1 - k]
                mine = [f for _, f, _ in inner]
                flags = mine + other if k == 0 else other + mine
                return _packed(node.dtype, outs), (jnp.stack(flags) if flags
                                            else jnp.zeros((0,), bool))
            return taken

        out, flags = lax.cond(jnp.asarray(pred).astype(bool), branch(0), branch(1), *args)
        for k, (n, why) in enumerate([*found[0], *found[1]]):
            checks.append((n, flags[k], why))
        return out

    run.scalar_steps = sum(p.scalar_steps for p in programs)  # type: ignore[attr-defined]
    return run


def jax_while(node: Node) -> Callable[..., Any]:
    """``lax.while_loop``; the body's (and test's) check flags are or-ed into the carry."""
    test, body = node.attrs["test"], node.attrs["body"]
    tests, steps = _program(test), _program(body)
    m = len(body.carries)

    def run(node: Node, checks: list, *arrays: Any) -> Any:
        import jax.numpy as jnp
        from jax import lax
        init, ws = _typed(arrays[:m], body.carries), list(arrays[m:])
        by_test = _checks_of(tests, [*init, *ws])
        by_step = _checks_of(steps, [*init, *ws])

        def holds(state: tuple) -> Any:
            return jnp.asarray(tests([], *state[0], *ws)[0]).astype(bool)

        def flags_of(carry: list) -> Any:
            inner: list = []
            tests(inner, *carry, *ws)
            return _flags(inner)

        def step(state: tuple) -> tuple:
            carry, seen = state
            inner: list = []
            outs = steps(inner, *carry, *ws)
            now = jnp.concatenate([flags_of(carry) if by_test else _flags([]), _flags(inner)])
            return _typed(outs, body.carries), seen | now

        none = jnp.zeros((len(by_test) + len(by_step),), bool)
        final, seen = lax.while_loop(holds, step, (init, none))
        if by_test:  # the test that ended the loop ran on the final carry
            seen = seen | jnp.concatenate([flags_of(final), jnp.zeros((len(by_step),), bool)])
        for k, (n, why) in enumerate([*by_test, *by_step]):
            checks.append((n, seen[k], why))
        return _packed(node.dtype, final)

    run.scalar_steps = tests.scalar_steps + steps.scalar_steps  # type: ignore[attr-defined]
    return run


def jax_part(node: Node) -> Callable[..., Any]:
    start, shape, dtype = node.attrs["start"], node.attrs["shape"], node.attrs["dtype"]
    size = math.prod(shape)
    lossy = np.dtype(node.inputs[0].dtype).kind == "f" and np.dtype(dtype).kind in "iu"

    def run(node: Node, checks: list, pack: Any) -> Any:
        import jax.numpy as jnp
        piece = pack[start:start + size].reshape(shape)
        if lossy and size:  # as body.check_exact_integers: no rounded integer comes out
            limit = exact_integer_limit(pack.dtype)
            checks.append((node, jnp.any(jnp.abs(piece) >= limit),
                           inexact_integer_message(pack.dtype)))
        return piece.astype(dtype)
    return run


def jax_place(node: Node) -> Callable[..., Any]:
    start, total, dtype = node.attrs["start"], node.attrs["total"], node.attrs["dtype"]

    def run(node: Node, checks: list, g: Any) -> Any:
        import jax.numpy as jnp
        flat = jnp.ravel(g).astype(dtype)
        return jnp.pad(flat, (start, total - start - flat.shape[0]))
    return run


# --- dask --------------------------------------------------------------------------------------

# A scan over blocked inputs runs step by step up to this many steps (each step adds the
# body's tasks to the dask graph; past it, one task on whole arrays).
BLOCKED_MAX_STEPS = 256


class _Like:
    """A node's shape and dtype (what the impls read of a body's placeholders)."""

    def __init__(self, node: Node):
        self.shape, self.dtype = node.shape, node.dtype


class Portable:
    """A body as a dask task carries it: the shapes and dtypes of its inputs and results
    and its runner compiled by the python backend (which pickles as its graph's JSON), so
    that the loop op's numpy impl runs it on a worker as it runs the traced body."""

    def __init__(self, body: Body):
        self.carries, self.xs = [_Like(n) for n in body.carries], [_Like(n) for n in body.xs]
        self.closures = [_Like(n) for n in body.closures]
        self.carry_out, self.ys = [_Like(n) for n in body.carry_out], [_Like(n) for n in body.ys]
        self.label = body.label
        self._run = body.runner()
        self._token = uuid.uuid4().hex  # (dask names tasks by it instead of pickling the body)

    @property
    def inputs(self) -> list[_Like]:
        return [*self.carries, *self.xs, *self.closures]

    def runner(self) -> Callable[..., list]:
        return self._run

    def __dask_tokenize__(self) -> str:
        return self._token


def dask_whole(node: Node) -> Callable[..., Any]:
    """The loop ``node`` as one dask task on whole arrays: its op's numpy impl, each body
    carried as a :class:`Portable`."""
    from symgraph.backends.dask_ops import one_task
    attrs = {k: Portable(v) if isinstance(v, Body) else v for k, v in node.attrs.items()}
    return one_task(node, functools.partial(node.opdef.impl, **attrs))


def dask_scan(node: Node) -> Callable[..., Any]:
    """A scan on dask arrays: one task (:func:`dask_whole`), or, when an input has several
    blocks, the body lowered by the dask backend run once per step (lazy, block by block),
    packed as the numpy impl packs it."""
    whole = dask_whole(node)
    body, length = node.attrs["body"], node.attrs["length"]
    reverse, save = node.attrs["reverse"], node.attrs["save"]
    m, p = len(body.carries), len(body.xs)

    def run(*arrays: Any) -> Any:
        import dask.array as da
        blocked = any(math.prod(getattr(a, "numblocks", ())) > 1 for a in arrays)
        if not blocked or length > BLOCKED_MAX_STEPS or not body.outputs:
            return whole(*arrays)
        from symgraph.backends import compile as sg_compile
        step = sg_compile(body.outputs, body.inputs, backend="dask")
        carries, xs, ws = list(arrays[:m]), arrays[m:m + p], list(arrays[m + p:])
        ys: list[list] = [[None] * length for _ in body.ys]
        saved: list[list] = [[None] * length for _ in body.carries] if save else []
        for t in (range(length - 1, -1, -1) if reverse else range(length)):
            for k, c in enumerate(carries) if save else ():
                saved[k][t] = c
            outs = step(*carries, *[x[t] for x in xs], *ws)
            carries = outs[:m]
            for k, y in enumerate(outs[m:]):
                ys[k][t] = y
        stacked = [da.stack(s) if length else da.zeros((0, *n.shape), n.dtype)
                   for s, n in zip([*ys, *saved], [*body.ys, *body.carries])]
        parts = [da.ravel(da.asarray(v)).astype(node.dtype) for v in [*carries, *stacked]]
        return da.concatenate(parts) if parts else da.zeros((0,), node.dtype)
    return run


def _exact(what: str, block: np.ndarray) -> np.ndarray:
    try:
        return check_exact_integers(block)
    except ValueRefused as exc:  # raised when dask computes: name the node
        raise SymgraphError(f"computing {what} with dask failed: {exc}") from None


def dask_part(node: Node) -> Callable[..., Any]:
    start, shape, dtype = node.attrs["start"], node.attrs["shape"], node.attrs["dtype"]
    size = math.prod(shape)
    what = f"{describe(node)} (op '{node.op}', node #{node.id})"  # (a string: dask pickles)

    lossy = np.dtype(node.inputs[0].dtype).kind == "f" and np.dtype(dtype).kind in "iu"

    def run(pack: Any) -> Any:
        piece = pack[start:start + size]
        piece = piece.reshape(shape) if len(shape) != 1 else piece
        if lossy and size:  # as body.check_exact_integers, block by block when computed
            piece = piece.map_blocks(functools.partial(_exact, what), dtype=piece.dtype)
        return piece.astype(dtype)
    return run


def dask_place(node: Node) -> Callable[..., Any]:
    start, total, dtype = node.attrs["start"], node.attrs["total"], node.attrs["dtype"]

    def run(g: Any) -> Any:
        import dask.array as da
        flat = da.ravel(da.asarray(g)).astype(dtype)
        size = int(flat.shape[0])
        return da.concatenate([da.zeros((start,), dtype), flat,
                               da.zeros((total - start - size,), dtype)])
    return run

"""The ``jax`` backend: the plan lowered to ``jax.numpy``/``jax.lax`` calls, run by ``jax.jit``.

Owns :class:`JaxBackend` and :class:`JaxFunction`. The compiled function traces the plan
once per input shapes/dtypes (``jax.jit`` caches the traces): each step calls its op's JAX
function (``symgraph.backends.jax_ops``), constants are the plan's presets (float ones
behind an ``optimization_barrier``, as are the few inputs XLA's algebraic simplifier would
fold with another value: ``symgraph.backends.jax_parity``). Derivatives
are symgraph's own nodes (``sg.grad`` made them), never ``jax.grad``, so the values are
``sg.evaluate``'s to rounding and higher orders stay symbolic.

- dtypes: JAX's 64-bit mode is switched on only inside symgraph's trace and call (the
  thread-local ``jax.enable_x64`` context), never globally, so a float64 graph stays
  float64 and the caller's ``jax.config.jax_enable_x64`` is left as it was. Matrix
  products ask for ``Precision.HIGHEST`` (a GPU's float32 default is TF32).
- inputs: NumPy arrays (checked and converted as ``sg.evaluate`` does) or JAX arrays
  (converted to the input's declared dtype, kept where they are: a ``NamedSharding``
  input runs sharded); outputs are JAX arrays.
- ``shardings={node or name: PartitionSpec or Sharding}`` for inputs and outputs: a
  ``PartitionSpec`` is placed on ``mesh`` (default: every device of ``jax.devices()`` on
  one axis named ``"batch"``); ``jit``'s ``in_shardings``/``out_shardings``. A spec naming
  an axis the mesh lacks, or a dimension that does not divide into its shards (checked at
  compile time where static, else at the call), raises SymgraphError naming the node
  (``symgraph.backends.jax_sharding``).
- run-time errors: JAX cannot raise inside ``jit``; each gather of fed indices, each
  ``inv``/``solve`` and ``cholesky`` carries a flag (an index out of range, a singular or
  not positive-definite matrix), and the call raises after computing, naming the node, as
  evaluate does (reading the flags waits for the result: only graphs with such ops).
- scalar graphs: XLA's compile time grows fast with the number of tiny ops (a chain of
  10^4 scalar steps: 21 s); more than ``MAX_SCALAR_STEPS`` (1000) scalar steps raise,
  naming the ``python`` and ``numba`` backends (``backend="auto"`` never picks jax).
- loops and branches: each declares its lowering with its op (``Op.lowerings["jax"]``,
  ``make(node)`` returning a step function ``fn(node, checks, *arrays)``, see
  ``symgraph.loops.lower``): ``lax.scan``, ``lax.cond``, ``lax.while_loop``, whose body
  is this backend's own lowering of the body graph (:func:`traceable`, a plain function of
  JAX arrays, no ``jit``). A body's scalar steps count once toward ``MAX_SCALAR_STEPS``
  (XLA compiles a loop's body once, whatever its number of steps).
- a user's op without its own ``impls={"jax": fn}`` raises at compile time, naming the op
  (with one, that function runs).

Imports: ``symgraph.backends.base``, ``symgraph.plan``; jax only when used.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np

from symgraph.backends.base import Backend, Request, arguments, check_supported, prepare
from symgraph.backends.recipe import pickled
from symgraph.errors import SymgraphError
from symgraph.graph import Node
from symgraph.ops.core import Op, describe, promote
from symgraph.ops.shape import batch_elementwise
from symgraph.feeds import convert_feed
from symgraph.plan import Plan

# More scalar steps than this and XLA's compile passes a second (measured here, compile and
# first call of a chain of scalar steps: 1000 steps 1.0 s, 2000 3.4 s, 4000 8.1 s; W2a's
# 10^4: 21 s); such graphs belong to "python" or "numba", which start at once.
MAX_SCALAR_STEPS = 1000


@functools.cache
def _jax_modules() -> tuple[Any, Any] | None:
    try:
        import jax

        from symgraph.backends import jax_ops
    except ImportError:
        return None
    return jax, jax_ops


def _modules() -> tuple[Any, Any]:
    found = _jax_modules()
    if found is None:
        raise SymgraphError('the jax backend needs jax; run: pip install "symgraph[jax]"')
    return found


class JaxBackend(Backend):
    """``backend="jax"``: XLA through ``jax.jit`` (CPU, GPU, TPU, sharded arrays). Options:
    ``shardings`` (a dict of input/output nodes or names to ``PartitionSpec`` or
    ``jax.sharding.Sharding``), ``mesh`` (the ``jax.sharding.Mesh`` a ``PartitionSpec`` is
    placed on; by default every device of ``jax.devices()`` on one axis named ``"batch"``,
    so ``PartitionSpec("batch")`` splits the leading dimension across all devices, which
    it must divide by) and ``assume_finite`` (see :func:`symgraph.compile`)."""

    name = "jax"
    extra = "jax"
    options: ClassVar[dict[str, Any]] = {"shardings": None, "mesh": None, "assume_finite": False}

    def available(self) -> bool:
        return _jax_modules() is not None

    def supports(self, op: Op) -> bool:
        return "jax" in op.lowerings or _modules()[1].lowering(op) is not None

    def normalize(self, options: dict[str, Any]) -> dict[str, Any]:
        shardings = options.get("shardings") or {}
        if not isinstance(shardings, dict):
            raise SymgraphError("sg.compile: shardings must be a dict of input or output nodes "
                                "(or names) to PartitionSpec or Sharding objects")
        # hashable (the compile cache's key): nodes by id, names as given
        pairs = tuple(sorted(((k.id if isinstance(k, Node) else k, v)
                              for k, v in shardings.items()), key=lambda p: repr(p[0])))
        return {"shardings": pairs or None, "mesh": options.get("mesh"),
                "assume_finite": bool(options.get("assume_finite", False))}

    def compile(self, request: Request, **options: Any) -> JaxFunction:
        return JaxFunction(request, options["shardings"] or (), options["mesh"])


class Program:
    """A plan as a plain, traceable function of JAX arrays (no ``jit``):
    ``program(checks, *arrays)`` returns the list of the outputs' values, one array per
    input of ``inputs``; each run-time check appends ``(node, flag, why)`` to ``checks``.
    ``scalar_steps``: its scalar steps, those of the loops' bodies in it counted once."""

    def __init__(self, plan: Plan, inputs: tuple):
        ops = _modules()[1]
        self.plan, self.inputs = plan, inputs
        self.steps = [(s, ops.lowering_of(plan.nodes[s]), plan.args[s], plan.nodes[s])
                      for s in plan.steps]
        # the inputs XLA would fold into their step with another value (jax_parity)
        self.opaque = {s: ops.parity.opaque(plan.nodes[s]) for s in plan.steps}
        self.promoted = {s: _promotion(plan.nodes[s]) for s in plan.steps}
        self.scalar_steps = sum(1 for s, *_ in self.steps if plan.nodes[s].shape == ()) + sum(
            getattr(f, "scalar_steps", 0) for _, f, _, _ in self.steps)

    def __call__(self, checks: list, *arrays: Any) -> list:
        import jax.numpy as jnp
        plan = self.plan
        values: list[Any] = [None] * len(plan.nodes)
        hidden = _modules()[1].parity.hidden
        for s, value in plan.preset:
            values[s] = jnp.asarray(value, dtype=plan.nodes[s].dtype)
            if values[s].dtype.kind == "f":  # (XLA's algebra with constants: x + 0.0 -> x)
                values[s] = hidden(values[s])
        for node, array in zip(self.inputs, arrays):
            s = plan.slot.get(node.id)
            if s is not None:
                values[s] = array
        for s, function, args, node in self.steps:
            arrays = [values[i] for i in args]
            for k in self.opaque[s]:
                arrays[k] = hidden(arrays[k])
            for k, dtype in self.promoted[s]:
                arrays[k] = arrays[k].astype(dtype)
            try:
                out = function(node, checks, *arrays)
            except SymgraphError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure names its node
                raise SymgraphError(
                    f"the jax backend could not lower {describe(node)} (op "
                    f"'{node.opdef.name}', node #{node.id}): {type(exc).__name__}: {exc}"
                ) from None
            # jnp's promotion may differ from the node's declared dtype (NumPy's)
            values[s] = out if out.dtype == node.dtype else out.astype(node.dtype)
        return [values[s] for s in plan.outputs]


def _promotion(node: Node) -> tuple:
    """``(argument position, dtype)`` for each input that NumPy converts before computing
    ``node``, an elementwise op or one whose dtype is its inputs' promotion (``matmul``,
    ``concatenate``, ``einsum``...): NumPy computes int64 + float32 or int64 @ float32 in
    float64 (their ``result_type``), jnp in float32, which loses 123456789's last digits.
    Booleans (a ``where``'s condition) and inputs that lend only their shape are left."""
    op = node.opdef
    if len(node.inputs) < 2 or not (op.batch is batch_elementwise or op.dtype is promote):
        return ()
    values = [k for k, i in enumerate(node.inputs)
              if i.dtype.kind != "b" and k not in op.shape_only]
    numeric = {node.inputs[k].dtype for k in values}
    if len(numeric) < 2:
        return ()
    common = np.result_type(*numeric)
    return tuple((k, common) for k in values if node.inputs[k].dtype != common)


def traceable(outputs: list[Node], inputs: list[Node]) -> Program:
    """``outputs`` as a function of ``inputs`` lowered as this backend lowers a plan (the
    same rewriting, planning and op functions), for a loop's body: call it inside a JAX
    trace (``lax.scan``'s step). Built once per outputs and inputs (kept in the graph's
    cache); an op the backend cannot run raises here, at compile time.

    >>> import jax, symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     program = traceable([x * 2.0], [x])
    >>> with jax.enable_x64(True):  # (float64, as the backend traces)
    ...     [float(v) for v in program([], 3.0)]
    [6.0]
    """
    graph = (outputs or inputs)[0].graph
    key = ("jax-traceable", tuple(n.id for n in outputs), tuple(n.id for n in inputs))
    found = graph.cache.get(key)
    if found is None:
        computed, needed = prepare(list(outputs), list(inputs), False)
        plan = Plan(computed, frozenset(n.id for n in inputs), fold=True, nodes=needed)
        check_supported(JaxBackend(), plan)
        found = graph.cache[key] = Program(plan, tuple(inputs))
    return found


class JaxFunction:
    """A compiled function of the ``jax`` backend (see :class:`symgraph.CompiledFunction`):
    ``f(*arrays)`` returns JAX arrays; ``f.source`` is the lowered program's text,
    ``f.jitted`` the ``jax.jit`` function of JAX arrays (outputs, range flags)."""

    def __init__(self, request: Request, shardings: tuple, mesh: Any):
        jax, _ = _modules()
        plan = self.plan = request.plan
        self.program = Program(plan, tuple(request.inputs))
        scalars = self.program.scalar_steps
        if scalars > MAX_SCALAR_STEPS:
            raise SymgraphError(
                f"sg.compile: the graph has {scalars} scalar steps, more than the jax backend "
                f"takes ({MAX_SCALAR_STEPS}: XLA's compile time grows to tens of seconds); "
                'compile it with backend="python" or backend="numba"')
        self.inputs = tuple(request.inputs)
        self.outputs = tuple(request.outputs)
        self.computed = tuple(request.computed)
        self.single = request.single
        in_sh, out_sh = self._shardings(dict(shardings), mesh)
        self.placed = (in_sh, out_sh)
        self.jitted = jax.jit(self._trace, in_shardings=in_sh,
                              out_shardings=None if out_sh is None else (out_sh, None))

    def _shardings(self, asked: dict, mesh: Any) -> tuple[Any, Any]:
        """``jit``'s in/out shardings from ``asked`` (keys: node ids or names)."""
        if not asked:
            return None, None
        from symgraph.backends import jax_sharding
        return jax_sharding.placed(asked, mesh, self.inputs, self.outputs)

    @property
    def source(self) -> str:
        return self.plan.listing()

    def _trace(self, *arrays: Any) -> tuple:
        """The plan in JAX, traced once per input shapes/dtypes (under x64); matrix products
        at full precision (set here, in the trace, not around each call: it costs a call
        about 1.5 us)."""
        import jax
        import jax.numpy as jnp
        checks: list = []
        with jax.default_matmul_precision("highest"):
            outputs = tuple(self.program(checks, *arrays))
        flags = jnp.stack([flag for _, flag, _ in checks]) if checks else None
        self._checks = [(node, where) for node, _, where in checks]
        return outputs, flags

    def _feed(self, node: Node, value: Any, jax: Any) -> Any:
        if isinstance(value, jax.Array):
            if value.shape == node.shape and value.dtype == node.dtype:
                return value  # (the common case, checked first: a call costs microseconds)
            shape = node.shape
            if len(value.shape) != len(shape) or any(
                    e is not None and e != g for e, g in zip(shape, value.shape)):
                return convert_feed(node, np.asarray(value), "compiled function")  # raises
            if value.dtype != node.dtype:
                if not np.can_cast(value.dtype, node.dtype, casting="safe"):
                    # (a narrowing or a change of kind: checked value by value, on the host)
                    return convert_feed(node, np.asarray(value), "compiled function")
                value = value.astype(node.dtype)
            return value
        return convert_feed(node, value, "compiled function")

    def _sharding_error(self, exc: Exception, fed: list) -> SymgraphError | None:
        """The input or output whose shape does not fit its sharding, named (JAX's error
        names neither); None when no sharding was asked for, or none is to blame."""
        in_sh, out_sh = self.placed
        if in_sh is None:
            return None
        jax = _modules()[0]

        from symgraph.backends import jax_sharding
        placed = [("input", n, s, np.shape(v)) for n, s, v in zip(self.inputs, in_sh, fed)
                  if s is not None]
        if any(s is not None for s in out_sh):
            try:  # (the outputs' shapes for these inputs, traced on this error's path only)
                shapes = [o.shape for o in jax.eval_shape(self._trace, *fed)[0]]
            except Exception:  # noqa: BLE001 - then the inputs alone are looked at
                shapes = []
            placed += [("output", n, s, shape) for n, s, shape in zip(self.outputs, out_sh,
                                                                      shapes) if s is not None]
        return jax_sharding.explain(exc, placed)

    __reduce__ = pickled  # the graph's JSON, compiled again when unpickled

    def __call__(self, /, *arrays: Any, **names: Any) -> Any:
        jax = _modules()[0]
        arrays = arguments(self.inputs, arrays, names)
        with jax.enable_x64(True):
            fed = [self._feed(n, v, jax) for n, v in zip(self.inputs, arrays)]
            try:
                outputs, flags = self.jitted(*fed)
            except ValueError as exc:  # (JAX's IndivisibleError is one)
                error = self._sharding_error(exc, fed)
                if error is None:
                    raise
                raise error from None
        if flags is not None and bool(np.any(np.asarray(flags))):
            node, why = self._checks[int(np.argmax(np.asarray(flags)))]
            raise SymgraphError(f"computing {describe(node)} (op '{node.opdef.name}', node "
                                f"#{node.id}) failed: {why}")
        return outputs[0] if self.single else list(outputs)

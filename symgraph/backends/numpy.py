"""The ``numpy`` backend: the interpreter. ``sg.evaluate`` runs on it.

Owns: :func:`evaluate`, :func:`run` (one call of a plan: each step calls its op's NumPy
function on earlier values, then drops the values that died there) and
:class:`NumpyBackend`, whose compiled function runs the plan with the same argument
checks as generated code.

An op runs as its array-API function of NumPy when it has one and no attributes
(``np.tanh``), else as its ``impl``.

Imports: ``symgraph.graph``, ``symgraph.errors``, ``symgraph.ops``, ``symgraph.plan``,
``symgraph.backends.base``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from symgraph.backends.base import (
    Backend, Request, ResultShapeError, arguments, check_shape,
)
from symgraph.backends.recipe import Recipe, pickled
from symgraph.errors import SymgraphError, ValueRefused
from symgraph.graph import Node
from symgraph.ops.core import Op, describe, flag
from symgraph.feeds import as_outputs, convert_feed, resolve_feeds
from symgraph.plan import Outputs, Plan, builtin, plan_for

_F64 = np.dtype("float64")


def array_function(op: Op, attrs: dict) -> Any:
    """NumPy's array-API function of ``op`` (``np.tanh``, ``np.power``) where it is called
    with the arrays alone (no attributes, no shape-only inputs), else None."""
    if op.array_api is None or attrs or op.shape_only:
        return None
    return getattr(np, op.array_api, None)


def numpy_function(op: Op, attrs: dict) -> Any:
    """The NumPy function computing ``op`` with ``attrs``: its array-API function, else its
    ``impl`` (with the attributes bound)."""
    function = array_function(op, attrs)
    if function is not None:
        return function
    return functools.partial(op.impl, **attrs) if attrs else op.impl


def _program(plan: Plan, impls: dict | None = None) -> list[tuple]:
    """The interpreter's steps of ``plan`` (built once, kept with the plan):
    (slot, function, input slots, slots that die after it, node). ``impls``: user ops'
    functions to call instead of their forward (not kept: the numba backend's slow path)."""
    program = None if impls else plan.lowered.get("numpy")
    if program is None:
        nodes, args, frees = plan.nodes, plan.args, plan.frees
        cache: dict[tuple, Any] = {}
        program = []
        for t, s in enumerate(plan.steps):
            node = nodes[s]
            op, attrs = node.opdef, node.attrs
            key = (id(op), id(attrs)) if attrs else (id(op),)
            function = cache.get(key)
            if function is None:
                function = cache[key] = numpy_function(op, attrs)
            if impls and op in impls:
                function = functools.partial(impls[op], **attrs) if attrs else impls[op]
            if not builtin(op):  # a user's op: its result is checked against its shape
                function = functools.partial(_checked, function, node)
            program.append((s, function, args[s], frees[t], node))
        if not impls:
            plan.lowered["numpy"] = program
    return program


def run(plan: Plan, fed_values: dict[int, Any], check_finite: bool = False,
        impls: dict | None = None) -> list:
    """One call of ``plan``: its outputs as arrays, from the values of the fed nodes (by id);
    ``impls``: user ops' functions to call instead of their forward."""
    values: list[Any] = [None] * len(plan.nodes)
    for s, value in plan.preset:
        values[s] = value
    slot = plan.slot
    for nid, value in fed_values.items():
        s = slot.get(nid)
        if s is not None:
            values[s] = value
    nodes = plan.nodes
    if check_finite:
        for s, value in enumerate(values):
            if value is not None:
                _check_finite(nodes[s], value)
    with np.errstate(all="ignore"):
        for out, function, ins, frees, node in _program(plan, impls):
            try:
                result = function(*[values[i] for i in ins])
            except ResultShapeError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure names its node
                raise _op_error(node, [values[i] for i in ins], exc) from None
            values[out] = result
            if check_finite:
                _check_finite(node, result)
            for i in frees:
                values[i] = None
    return [np.asarray(values[i]) for i in plan.outputs]


def _checked(function: Any, node: Node, *args: Any) -> Any:
    return check_shape(node, function(*args))


def _op_error(node: Node, args: list, exc: Exception) -> SymgraphError:
    if not isinstance(exc, ValueRefused) and array_function(node.opdef, node.attrs):
        try:  # NumPy's function failed: the op's own forward may say why, and what to do
            node.opdef.impl(*args)
        except ValueRefused as refused:
            exc = refused
        except Exception:  # noqa: BLE001, S110 - NumPy's own message is then the best
            pass
    if isinstance(exc, ValueRefused):  # its message already says what to do
        return SymgraphError(
            f"computing {describe(node)} (op '{node.opdef.name}', node #{node.id}) failed: {exc}")
    shapes = ", ".join(str(np.shape(a)) for a in args)
    return SymgraphError(
        f"computing {describe(node)} (op '{node.opdef.name}', node #{node.id}) failed for "
        f"inputs of shapes ({shapes}): {type(exc).__name__}: {exc}; check the shapes of the "
        "values fed"
    )


def _check_finite(node: Node, value: Any) -> None:
    array = np.asarray(value)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = "nan" if np.any(np.isnan(array)) else "inf"
        raise SymgraphError(
            f"{describe(node)} (op '{node.opdef.name}', node #{node.id}) produced {bad}; "
            "look at this node's inputs (check_finite=True stops at the first such node)"
        )


def evaluate(outputs: Outputs, feeds: Mapping[Any, Any] | None = None,
             check_finite: bool = False) -> np.ndarray | list[np.ndarray]:
    """Compute ``outputs`` (a node or a list of nodes) from ``feeds``.

    ``feeds`` maps input nodes (or their names) to array-likes; it may also map an
    intermediate node, whose value is then used instead of computing it. Only the
    ancestors of ``outputs`` are computed, so only the inputs they need must be fed.
    With ``check_finite=True`` the first node whose value is not finite raises.

    Names: where several inputs share a name (a notebook cell making ``sg.var("x")`` run
    again), a feed by that name goes to the newest of them, if the outputs use it (else
    the name is ambiguous and raises: feed by node). Dtypes: a value is converted
    to its input's dtype when that keeps its kind: float64 fed to a float32 input is
    rounded to float32 (a finite value too large for float32 raises, it would become
    inf), ints and bools go into float inputs, ints into other ints where every value
    fits; a float fed to an integer input, or any value fed to a bool input that is not
    bool, raises (convert it first). A user's op (``sg.define_op``) whose forward returns
    another shape than its shape rule declares raises, naming the op.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * x
    ...     dy = sg.grad(y, x)
    >>> [round(float(v), 4) for v in sg.evaluate([y, dy], {"x": 1.0})]
    [0.8415, 1.3818]
    """
    nodes, single = as_outputs(outputs, "sg.evaluate")
    check_finite = flag("sg.evaluate", check_finite=check_finite)
    if feeds is None:
        feeds = {}
    if not isinstance(feeds, Mapping):
        raise SymgraphError(f"sg.evaluate: feeds must be a dict, got {type(feeds).__name__}")
    graph = nodes[0].graph
    values: dict[int, np.ndarray] = {}
    for node, value in resolve_feeds(feeds, graph, "sg.evaluate", nodes):
        values[node.id] = convert_feed(node, value, "sg.evaluate")
    results = run(plan_for(nodes, frozenset(values)), values, check_finite)
    return results[0] if single else results


class NumpyBackend(Backend):
    """The interpreter as a compiled function: the plan run step by step, with the same
    argument checks as generated code. Options: ``trust_input``, ``python_scalars``,
    ``assume_finite`` (see :func:`symgraph.compile`)."""

    name = "numpy"
    options: ClassVar[dict[str, Any]] = {"trust_input": False, "python_scalars": False,
                                         "assume_finite": False}

    def compile(self, request: Request, **options: Any) -> Interpreted:
        fn = Interpreted(request, options["trust_input"], options["python_scalars"])
        fn.recipe = Recipe(request.outputs, request.inputs, request.single, self.name, options)
        fn.recipe._entry = fn
        return fn


class Interpreted:
    """A compiled function of the ``numpy`` backend (see :class:`CompiledFunction`);
    ``source`` lists its steps, one per line, ``v3 = sin(v1)``."""

    def __init__(self, request: Request, trust: bool, python_scalars: bool):
        self.inputs = tuple(request.inputs)
        self.outputs = tuple(request.outputs)
        self.computed = tuple(request.computed)
        self.plan, self.single, self.trust = request.plan, request.single, trust
        self.floats = [python_scalars and n.shape == () and n.dtype == _F64
                       for n in request.computed]
        # outputs a rewrite made inputs (x * 1.0 -> x): copied, so that writing into a
        # result never changes the caller's input (evaluate gives new arrays there)
        fed = {n.id for n in self.inputs}
        self.copies = [k for k, (n, asked) in enumerate(zip(self.computed, self.outputs))
                       if n.id in fed and n is not asked and not self.floats[k]]
        self.ids = [n.id for n in self.inputs]
        _program(self.plan)  # built now, not at the first call

    @property
    def source(self) -> str:
        return self.plan.listing()

    __reduce__ = pickled  # the graph's JSON, compiled again when unpickled

    def __call__(self, /, *arrays: Any, **names: Any) -> Any:
        arrays = arguments(self.inputs, arrays, names)
        if self.trust:
            fed = dict(zip(self.ids, arrays))
        else:
            fed = {n.id: convert_feed(n, v, "compiled function")
                   for n, v in zip(self.inputs, arrays)}
        results = run(self.plan, fed)
        results = [float(r) if f else r for r, f in zip(results, self.floats)]
        for k in self.copies:
            results[k] = np.array(results[k])
        return results[0] if self.single else results

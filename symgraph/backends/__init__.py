"""Backends: where a graph runs. ``sg.compile``, ``sg.backends`` and the registry.

Owns: :func:`compile` (checks the outputs, inputs, backend and options, then lowers the
outputs once for every backend with ``symgraph.backends.base.prepare`` and hands the
resulting plan to the backend), the registry ``BACKENDS``, :func:`backends` and
:class:`CompiledFunction`. The backends: ``python`` (generated Python/NumPy source, the
default; ``symgraph.backends.python``) and ``numpy`` (the interpreter ``sg.evaluate``
uses; ``symgraph.backends.numpy``). A new backend is a :class:`Backend` subclass added to
``BACKENDS``.

Imports: ``symgraph.graph``, ``symgraph.errors``, ``symgraph.plan`` and the backend modules.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from symgraph.backends.base import Backend, Request, check_supported, prepare
from symgraph.backends.dask import DaskBackend
from symgraph.backends.jax import JaxBackend
from symgraph.backends.numba_tape import AutoBackend, NumbaBackend
from symgraph.backends.numpy import NumpyBackend
from symgraph.backends.python import PythonBackend
from symgraph.backends.recipe import Recipe
from symgraph.errors import SymgraphError
from symgraph.graph import Node
from symgraph.ops.core import flag
from symgraph.feeds import as_outputs, resolve
from symgraph.plan import Plan

__all__ = ["BACKENDS", "Backend", "CompiledFunction", "backends", "compile"]

BACKENDS: dict[str, Backend] = {b.name: b for b in (PythonBackend(), NumpyBackend())}
BACKENDS[DaskBackend.name] = DaskBackend()
BACKENDS[JaxBackend.name] = JaxBackend()
BACKENDS[NumbaBackend.name] = NumbaBackend()
BACKENDS[AutoBackend.name] = AutoBackend()


@runtime_checkable
class CompiledFunction(Protocol):
    """What :func:`compile` returns: a function ``f(*arrays)`` with ``f.source`` (the
    generated code, or the interpreter's schedule), ``f.inputs`` and ``f.outputs`` (the
    nodes asked for; ``f.computed`` holds the rewritten nodes it computes).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     f = sg.compile(sg.sin(x) * x, [x])
    >>> isinstance(f, sg.CompiledFunction), f.inputs == (x,)
    (True, True)
    """

    source: str
    inputs: tuple
    outputs: tuple

    def __call__(self, *arrays: Any) -> Any: ...


def backends() -> dict[str, bool]:
    """Each backend's name, and whether it can run here (its optional dependency imports).

    >>> backends()["python"], backends()["numpy"]
    (True, True)
    """
    return {name: b.available() for name, b in BACKENDS.items()}


def compile(outputs: Node | Sequence[Node], inputs: Any, *,
            backend: str = "python", **options: Any) -> CompiledFunction:
    """A function ``f(*arrays)`` computing ``outputs`` from ``inputs`` (nodes or names, in
    that order); it returns what :func:`evaluate` would (a list for a list of outputs).

    The outputs are simplified first (``sg.simplify``'s rules, and compile's own lowering
    rules). ``backend`` chooses what runs them (``sg.backends()`` lists the names):
    ``"python"``, the default, generates Python source specialised on static shapes and
    dtypes (see ``f.source``); ``"numpy"`` interprets the plan as :func:`evaluate` does;
    ``"numba"`` runs scalar float64 graphs on a tape machine compiled once (other graphs go
    to ``"python"``; ``f.backend`` says which ran); ``"auto"`` picks ``"numba"`` for scalar
    graphs that run at least ``numba_tape.AUTO_MIN_STEPS`` steps a call (a loop's body
    counted once per step) when Numba is installed,
    ``"python"`` otherwise; ``"jax"`` traces the plan with ``jax.numpy`` under ``jax.jit``
    (CPU, GPU, TPU; ``shardings={node: PartitionSpec(...)}``, on ``mesh=`` or by default a
    mesh of every device on one axis named ``"batch"``: ``PartitionSpec("batch")`` splits
    a leading dimension, which must divide by the number of devices); ``"dask"`` returns lazy
    dask arrays (``chunks="auto"`` splits NumPy inputs, or an int, a tuple, or a dict by
    input). The engines of ``numba``, ``jax`` and ``dask`` are optional extras
    (``pip install "symgraph[jax]"``...), imported only when used.
    The function is cached: compiling the same outputs and inputs again returns the same
    function, and graphs of the same structure share one code object. Calls are
    thread-safe. Options (each backend names those it takes):

    - ``trust_input=True``: the arrays are used as given, unchecked (the caller promises
      the inputs' dtypes and shapes, Python floats for float64 scalars, and one argument
      per input, by position: the ``python`` backend's function is then a plain
      positional one, and a wrong count is Python's ``TypeError``).
    - ``python_scalars=True``: float64 scalar outputs are Python floats, not 0-d arrays.
    - ``use_math=False`` (python): scalar functions use NumPy instead of ``math`` (slower;
      results equal :func:`evaluate` to the bit, where ``math`` may differ in the last
      digit).

    By default ``f`` returns what :func:`evaluate` does on every input, NaN, inf and -0.0
    included (to rounding). ``assume_finite=True`` promises that every value in the graph
    is finite: the outputs are simplified with ``sg.simplify(..., assume_finite=True)``
    (``x*0 -> 0``, ``x - x -> 0``, ``x/x -> 1``, ``exp(log x) -> x``, like terms
    collected), which may give fewer steps; where an inf or NaN does occur, ``f`` may then
    differ from :func:`evaluate` (``x*0`` gives 0 at ``x = inf``)::

        >>> import symgraph as sg
        >>> with sg.Graph():
        ...     x = sg.var("x")
        ...     f, g = sg.compile(x * 0 + 1, [x]), sg.compile(x * 0 + 1, [x], assume_finite=True)
        >>> float(f(float("inf"))), float(g(float("inf")))
        (nan, 1.0)

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x * x
    ...     f = sg.compile([y, sg.grad(y, x)], [x])
    ...     h = sg.compile([y, sg.grad(y, x)], [x], backend="numpy")
    >>> [float(v) for v in f(3.0)], [float(v) for v in h(3.0)]
    ([9.0, 6.0], [9.0, 6.0])
    >>> print(f.source.splitlines()[-1].strip())
    return [_asarray(v1), _asarray(v3)]
    """
    chosen = _backend(backend)
    nodes, single = as_outputs(outputs, "sg.compile")
    graph = nodes[0].graph
    if isinstance(inputs, (Node, str)):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise SymgraphError("sg.compile: inputs must be a list of nodes (or of their names)")
    ins = [resolve(k, graph, "sg.compile") for k in inputs]
    if len({n.id for n in ins}) != len(ins):
        raise SymgraphError("sg.compile: an input is listed twice; list each input once")
    unknown = [k for k in options if k not in chosen.options]
    if unknown:
        raise SymgraphError(
            f"sg.compile: the backend {chosen.name!r} takes no option {unknown[0]!r}; its "
            f"options: {', '.join(chosen.options) or 'none'}")
    for k, v in options.items():  # ("no" would be true: trust_input="no" skips the checks)
        if isinstance(chosen.options[k], bool):
            options[k] = flag("sg.compile", **{k: v})
    values = chosen.normalize(options)
    key = ("compile", chosen.name, tuple(n.id for n in nodes), single,
           tuple(n.id for n in ins), tuple(values.items()))
    fn = graph.cache.get(key)
    if fn is None:
        # The cyclic GC would walk the whole graph again and again while the backend
        # allocates its lists (40% of the compile time at 4e5 nodes); any cycles made
        # here are collected by the next collection after it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            computed, needed = prepare(nodes, ins, bool(values.get("assume_finite")))
            plan = Plan(computed, frozenset(n.id for n in ins), fold=True, nodes=needed)
            check_supported(chosen, plan)
            fn = chosen.compile(Request(nodes, computed, ins, single, plan), **values)
        finally:
            if collecting:
                gc.enable()
        if getattr(fn, "recipe", None) is None:  # how to pickle it: the graph, these options
            fn.recipe = Recipe(nodes, ins, single, chosen.name, options)
            fn.recipe._entry = fn
        graph.cache[key] = fn
    return fn


def _backend(name: Any) -> Backend:
    """The registered backend ``name``, available here."""
    chosen = BACKENDS.get(name) if isinstance(name, str) else None
    if chosen is None:
        raise SymgraphError(
            f"sg.compile: there is no backend {name!r}; the backends are "
            f"{', '.join(repr(n) for n in BACKENDS)}")
    if not chosen.available():
        raise SymgraphError(
            f"sg.compile: the backend {chosen.name!r} needs an optional dependency that is "
            f"not installed here; run: pip install \"symgraph[{chosen.extra}]\"")
    return chosen

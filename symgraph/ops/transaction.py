"""Building nodes all or nothing: a failed call leaves the graph as it was.

Owns: :func:`all_or_nothing` and :func:`guard_public`, which make the public op
constructors (``sg.add``, ``sg.linalg.solve``, ``sg.nn.conv2d``, a ``define_op``
constructor...) forget the nodes a failed call made (an operand made a constant, a cast or
a reshape before a check that failed), as ``Node``'s operators and methods do
(``symgraph.undo``); and :class:`building`, used by the loops
(``scan``, ``fori_loop``, ``while_loop``, ``cond``) and ``vmap``, which call a user's
function on placeholders (a derivative's builders have their own transaction in
``symgraph.autodiff``).

The constructors are guarded where users reach them (the public namespaces), not where
they are defined: derivative rules (inside grad's own transaction) and the rewrites call
the module's functions by the thousand and pay nothing for it.

Imports: ``symgraph.array_methods`` (the NumPy functions' followers), ``symgraph.context``,
``symgraph.graph``.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable
from typing import Any, TypeVar

from symgraph.array_methods import _FOLLOWERS, UFUNC_FOLLOWERS
from symgraph.context import SCOPE
from symgraph.graph import Graph, Node, SymgraphError, _NodeFields, get_default_graph

Function = TypeVar("Function", bound=Callable[..., Any])


def all_or_nothing(function: Function, whole: bool = False) -> Function:
    """``function``, an op constructor, building all or nothing: if it raises, the nodes it
    appended (by this thread) to the graphs of its node arguments (the default graph if it
    has none; a call given nodes of two graphs may build in both before it fails) are
    forgotten. On success it costs finding that graph and its length,
    and a call: about 50 ns for a function of ``(x)`` or ``(a, b)``, the elementwise ops
    (which get a wrapper of that signature), 150 ns for the others.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph() as g:
    ...     x = sg.var("x", shape=(3,))
    ...     try:
    ...         sg.add(x, np.ones(4))
    ...     except sg.ShapeError:
    ...         pass
    >>> len(g)   # no constant ones(4) left behind
    1

    ``whole``: undo only if no other thread built in the graph meanwhile (``Graph._undo``;
    for the derivative builders).
    """
    params = inspect.signature(function).parameters.values()
    names = tuple(p.name for p in params
                  if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty)
    if names == ("x",) and len(params) == 1 and not whole:
        def call(x: Any) -> Any:  # (a fixed signature: a third of the cost of *args)
            if type(x) is not Node:
                return _guarded(function, whole, (x,), {})
            graph = x.graph
            mark = len(graph._nodes)
            try:
                return function(x)
            except BaseException:
                graph._undo(mark)
                raise
    elif names == ("a", "b") and len(params) == 2 and not whole:
        def call(a: Any, b: Any) -> Any:  # type: ignore[misc]
            if type(a) is not Node or (type(b) is not Node and isinstance(b, (list, tuple))) \
                    or (type(b) is Node and b.graph is not a.graph):
                return _guarded(function, whole, (a, b), {})
            graph = a.graph
            mark = len(graph._nodes)
            try:
                return function(a, b)
            except BaseException:
                graph._undo(mark)
                raise
    else:
        def call(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return _guarded(function, whole, args, kwargs)
    return functools.update_wrapper(call, function)  # type: ignore[return-value]


def _guarded(function: Callable[..., Any], whole: bool, args: tuple, kwargs: dict) -> Any:
    """``function(*args, **kwargs)``, forgetting on failure the nodes it appended to each
    graph a call's nodes can go to (:func:`_graphs_of_call`)."""
    graphs = _graphs_of_call(args, kwargs)
    if len(graphs) == 1:  # (nearly every call)
        graph = graphs[0]
        mark = len(graph._nodes)
        try:
            return function(*args, **kwargs)
        except BaseException:
            graph._undo(mark, whole)
            raise
    marks = [len(graph._nodes) for graph in graphs]
    try:
        return function(*args, **kwargs)
    except BaseException:
        for graph, mark in zip(graphs, marks):
            graph._undo(mark, whole)
        raise


def _graphs_of_call(args: tuple, kwargs: dict) -> list[Graph]:
    """The graphs a call's nodes can go to: those of its node arguments (in a list or
    tuple, as ``concatenate``'s, too), the first one's (as the constructors' ``operands``
    choose it) first, or the default graph if there is none. A call given nodes of two
    graphs fails, but may have built in both first (a cast or a reshape of each operand
    before the check that found them apart)."""
    graphs: list[Graph] = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, Node):
            if value.graph not in graphs:
                graphs.append(value.graph)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Node) and item.graph not in graphs:
                    graphs.append(item.graph)
    return graphs or [get_default_graph()]


def guard_public(*namespaces: types.ModuleType) -> None:
    """Make each op constructor that the ``namespaces`` export (their ``__all__``: the
    functions of ``symgraph.ops`` and ``symgraph.nn``) :func:`all_or_nothing`, there and as
    the follower of a NumPy function (``np.where`` of a node calls ``sg.where``). A
    function exported twice (``sg.relu``, ``sg.nn.relu``) stays one object; the unguarded
    one keeps its module's name and gives the guarded one as ``.public``."""
    guarded: dict[Any, Any] = {}
    for namespace in namespaces:
        for name in namespace.__all__:
            function = getattr(namespace, name)
            module = getattr(function, "__module__", "") or ""
            if isinstance(function, types.FunctionType) and (
                    module.startswith("symgraph.ops") or module == "symgraph.nn"):
                if function not in guarded:
                    guarded[function] = all_or_nothing(function)
                setattr(namespace, name, guarded[function])
    for function, public in guarded.items():
        if getattr(sys.modules[function.__module__], function.__name__, None) is not public:
            # pickled by reference as symgraph.ops.functions.sin.public (its own name
            # gives the unguarded function; a name in the package, `symgraph.sin`, would
            # have doctest collect its docstring there too)
            public.__qualname__ = f"{function.__qualname__}.public"
            function.public = public  # type: ignore[attr-defined]
    for table in (_FOLLOWERS, UFUNC_FOLLOWERS):
        for numpy_function, follower in list(table.items()):
            table[numpy_function] = guarded.get(follower, follower)


class _Building(str):
    """The scope of the nodes built while a loop is built: equal to the scope around it,
    but recognisable by identity, so a failed build can tell its own nodes from those
    another thread built meanwhile."""


class building:
    """Call a user's function to build nodes (a loop's body, vmap's function), as ``with
    building(graph, who):``: if it fails, the nodes it appended to ``graph``
    (placeholders, the body's nodes) are forgotten, and a failure that is not a
    SymgraphError becomes one naming ``who``."""

    def __init__(self, graph: Graph, who: str, what: str = "building the loop's body"):
        self.graph, self.who, self.what = graph, who, what

    def __enter__(self) -> None:
        outer = SCOPE.get()
        self.own = not isinstance(outer, _Building)  # (a nested build shares the outer's)
        self.token = _Building(outer) if self.own else outer
        self.reset = SCOPE.set(self.token)
        self.first = len(self.graph)

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        SCOPE.reset(self.reset)
        token, graph = self.token, self.graph
        if exc is not None:
            graph._rollback(self.first, lambda n: n.scope is token)
        if self.own:  # the nodes kept get the plain scope back
            for n in graph._nodes[self.first:]:
                if n.scope is token:
                    _NodeFields.scope.__set__(n, str(token))
        if isinstance(exc, Exception) and not isinstance(exc, SymgraphError):
            raise SymgraphError(f"{self.who}: {self.what} failed: "
                                f"{type(exc).__name__}: {exc}") from exc

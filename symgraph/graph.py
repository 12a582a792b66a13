"""Nodes, graphs, errors and iterative graph walks.

Owns: the data model. A :class:`Graph` is append-only: a node can only use nodes that
already exist, so node ids (creation order) are a topological order. Walks therefore
never recurse: they sort by id. Nodes are *interned*: asking for a node with the same op,
inputs and attributes returns the existing one, so equal subexpressions are one node and
``grad`` reuses forward nodes (Goodfellow et al., Fig. 6.10). The one exception to
append-only: a call that fails forgets the nodes it appended (``Graph._undo`` and
``Graph._rollback``), so a failed call leaves the graph as it was.

Imports: the standard library, NumPy, ``symgraph.errors``, ``symgraph.symbol`` (what a
node refuses to do), ``symgraph.undo`` (the guard of a node's methods and operators),
``symgraph.array_methods`` (a node's NumPy methods) and ``symgraph.context`` (whose
build-context helpers it re-exports to the node makers). The operator methods of
:class:`Node` (``+``, ``@``, ``x[0]``...) call the op constructors through
``symgraph.undo.OPERATORS`` and ``_OPS``, which ``symgraph.ops`` fills in when it is
imported (so this module does not import ops).
"""

from __future__ import annotations

import contextvars
import itertools
import operator
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from symgraph.array_methods import ArrayMethods
from symgraph.context import (  # noqa: F401 - re-exported: the build context of node makers
    BUILD_CONTEXT,
    SCOPE,
    build_context,
    derivative_context,
    gc_paused,
    _THREADS,
    name_scope,
    this_thread,
    user_context,
)
from symgraph.errors import MissingFeedError, ShapeError, SymgraphError
from symgraph.symbol import Symbol, short as _short
from symgraph.undo import all_or_nothing, operator_method as _method

__all__ = ["SymgraphError", "ShapeError", "MissingFeedError", "Graph", "Node", "name_scope",
           "get_default_graph", "ancestors"]


# Filled by symgraph.ops at import: the namespace that holds array_ufunc, sum, reshape, ...
_OPS: Any = None


class DISPLAY:
    """How a node shows itself (``str``, ``repr``, Jupyter's SVG): set by the top-level
    ``symgraph`` package to ``symgraph.display``'s functions, which sit above this module;
    until then a short label."""

    @staticmethod
    def formula(node: Node) -> str:
        return _short(node)

    @staticmethod
    def svg(node: Node) -> str:
        raise SymgraphError("pictures need the symgraph package: import symgraph")

    @staticmethod
    def graph_bundle(graph: Graph, include: Any = None, exclude: Any = None) -> dict:
        return {"text/plain": repr(graph)}


_default_graph: contextvars.ContextVar[Graph | None] = contextvars.ContextVar(
    "symgraph_default_graph", default=None
)
# The tokens of the ``with graph:`` blocks open in this context, innermost last.
_scope_tokens: contextvars.ContextVar[tuple[tuple[Graph, contextvars.Token], ...]] = contextvars.ContextVar(
    "symgraph_graph_tokens", default=()
)
_root_graph: Graph | None = None
_root_lock = threading.Lock()


def get_default_graph() -> Graph:
    """The graph that ``sg.var`` and ``sg.const`` add to.

    Inside ``with g:`` it is ``g``; elsewhere it is one process-wide graph.

    >>> import symgraph as sg
    >>> g = sg.Graph()
    >>> with g:
    ...     sg.get_default_graph() is g
    True
    """
    graph = _default_graph.get()
    if graph is not None:
        return graph
    global _root_graph
    with _root_lock:
        if _root_graph is None:
            _root_graph = Graph()
        return _root_graph


class _NodeFields:
    """The storage of a node. ``Graph._add`` fills a fresh one in with plain attribute
    stores, then turns it into an immutable ``Node`` (4x faster than setting each slot
    through ``object.__setattr__``, which matters at 10^5 nodes per ``grad``)."""

    __slots__ = ("op", "inputs", "attrs", "shape", "dtype", "name", "order", "id", "graph",
                 "scope", "grad_call", "grad_of", "opdef", "__weakref__")


class Node(_NodeFields, ArrayMethods, Symbol):
    """One operation in a graph: an immutable symbol, never a value.

    Attributes: ``op`` (str), ``inputs`` (tuple of Nodes), ``attrs`` (dict of the op's
    static parameters, read-only by convention), ``shape`` (tuple; ``None`` for a
    dimension known only when fed), ``dtype`` (numpy dtype), ``name`` (str or None),
    ``order`` (0 for nodes the user built, k for nodes made by a k-th ``grad``),
    ``id`` (unique in its graph, increasing in creation order), ``graph``, ``scope``,
    and provenance for derivative nodes: ``grad_call`` (which ``grad`` call built it) and
    ``grad_of`` (the forward node whose derivative rule built it).

    Nodes hash by identity and ``==`` is not overloaded, so they can be dict keys.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * 2
    >>> y.op, y.shape, str(y)
    ('multiply', (), 'sin(x)*2')
    """

    __slots__ = ()  # the fields live in _NodeFields

    # --- operators: op constructors, called all or nothing (symgraph.undo) -----------------
    @all_or_nothing
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Node:
        # np.sin(x) builds sg.sin(x); np.float64(2) * x arrives here as np.multiply
        return _OPS.array_ufunc(ufunc, method, inputs, kwargs)

    __add__, __radd__ = _method(operator.add), _method(operator.add, swap=True)
    __sub__, __rsub__ = _method(operator.sub), _method(operator.sub, swap=True)
    __mul__, __rmul__ = _method(operator.mul), _method(operator.mul, swap=True)
    __truediv__, __rtruediv__ = _method(operator.truediv), _method(operator.truediv, swap=True)
    __pow__, __rpow__ = _method(operator.pow), _method(operator.pow, swap=True)
    __matmul__, __rmatmul__ = _method(operator.matmul), _method(operator.matmul, swap=True)
    # NumPy's mod (the sign of the divisor), floor_divide (its partner) and both at once
    __mod__, __rmod__ = _method(operator.mod), _method(operator.mod, swap=True)
    __floordiv__ = _method(operator.floordiv)
    __rfloordiv__ = _method(operator.floordiv, swap=True)
    __divmod__, __rdivmod__ = _method(divmod), _method(divmod, swap=True)
    # & | ^ ~ are NumPy's bitwise operators: logic, on booleans (else an error saying so)
    __and__, __rand__ = _method(operator.and_), _method(operator.and_, swap=True)
    __or__, __ror__ = _method(operator.or_), _method(operator.or_, swap=True)
    __xor__, __rxor__ = _method(operator.xor), _method(operator.xor, swap=True)
    __invert__ = _method(operator.invert, unary=True)
    __lt__, __le__ = _method(operator.lt), _method(operator.le)
    __gt__, __ge__ = _method(operator.gt), _method(operator.ge)
    __neg__ = _method(operator.neg, unary=True)
    __abs__ = _method(operator.abs, unary=True)
    __getitem__ = _method(operator.getitem)

    def __pos__(self) -> Node:
        return self

    # --- display ----------------------------------------------------------------------------
    def __str__(self) -> str:
        return DISPLAY.formula(self)

    def __repr__(self) -> str:
        return DISPLAY.formula(self)

    def _repr_svg_(self) -> str:
        return DISPLAY.svg(self)

_set_order = _NodeFields.order.__set__  # (nodes refuse setattr; only _reach lowers an order)
_set_graph = _NodeFields.graph.__set__  # (only Graph._drop: an undone node's graph is _UNDONE)


class _Undone:
    """The graph of a forgotten node: one that a failed call built, which its graph then
    forgot (``Graph._drop``), but that is still held: found meanwhile by another thread
    building an equal subexpression, or kept from the failed call. Any use of it raises,
    saying why: such a node is never built on, nor evaluated by an id now another's."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # (what introspection asks of any object: copy, doctest)
            raise AttributeError(name)
        raise SymgraphError(
            "this node was built by a call that failed, and its graph forgot it (it was "
            "found meanwhile by another thread building an equal subexpression, or kept "
            "from the failed call); build it again")


_UNDONE = _Undone()


class Graph:
    """An append-only graph of interned nodes.

    ``with g:`` makes ``g`` the default graph of the block (a ``contextvars`` scope, so
    threads and async tasks each see their own). Creating nodes is thread-safe.

    >>> import symgraph as sg
    >>> g = sg.Graph()
    >>> with g:
    ...     x = sg.var("x")
    ...     y = sg.sin(x) + sg.sin(x)   # sin(x) is built once
    >>> len(g), y.inputs[0] is y.inputs[1]
    (3, True)
    """

    _counter = itertools.count()

    def __init__(self, name: str | None = None):
        self.name = name
        self.uid = next(Graph._counter)
        self._interned: dict[tuple, Node] = {}
        self._nodes: list[Node] = []
        self._by_name: dict[str, list[Node]] = {}
        self._lock = threading.Lock()  # never taken twice by one thread: no RLock needed
        self._grad_calls = itertools.count(1)
        # The last run of nodes one thread appended: from id _run_start on, all by thread
        # _run_thread (None: unknown). A failed call undoes only its nodes in it
        # (Graph._undo): nodes carry no thread, so building costs no memory for this.
        self._run_start, self._run_thread = 0, None
        # Weak references to forgotten nodes still alive (held by a traceback, or by another
        # thread that found one just before): while any is, a new node's inputs are checked.
        self._undone: set[weakref.ref] = set()
        # Caches keyed by node ids; nodes never change, so entries never go stale.
        self.cache: dict[Any, Any] = {}

    # --- default-graph scope ------------------------------------------------------------
    # The tokens that undo ``with g:`` live in the caller's context, not on the graph: two
    # threads entering the same graph at once must each restore their own default.
    def __enter__(self) -> Graph:
        _scope_tokens.set((*_scope_tokens.get(), (self, _default_graph.set(self))))
        return self

    def __exit__(self, *exc: Any) -> None:
        tokens = _scope_tokens.get()
        if not tokens or tokens[-1][0] is not self:
            raise SymgraphError(
                f"{self!r}: __exit__ without a matching `with` block in this thread; "
                "enter and leave a graph with `with graph:`"
            )
        _scope_tokens.set(tokens[:-1])
        _default_graph.reset(tokens[-1][1])

    def __reduce__(self) -> Any:  # (pickle and deepcopy; the lock and ops would not go)
        raise SymgraphError("an sg.Graph cannot be pickled or copied; write it with "
                            "sg.save(outputs, path) and read it back with sg.load(path)")

    # --- inspection -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def nodes(self) -> tuple[Node, ...]:
        """All nodes in creation (= topological) order."""
        with self._lock:
            return tuple(self._nodes)

    def by_name(self, name: str) -> list[Node]:
        """The nodes (usually one input) carrying ``name``."""
        with self._lock:
            return list(self._by_name.get(name, ()))

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<symgraph.Graph{label} with {len(self._nodes)} nodes>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """What Jupyter shows for a graph: a picture of its nodes (capped)."""
        return DISPLAY.graph_bundle(self, include, exclude)

    # --- construction (used by the op constructors; not public) ----------------------------
    def _new_grad_call(self) -> int:
        return next(self._grad_calls)

    def _lookup(self, key: tuple) -> Node | None:
        """The interned node of ``key``, if any, reached again (see :meth:`_reach`)."""
        found = self._interned.get(key)
        if found is not None and found.order and BUILD_CONTEXT.get().order < found.order:
            self._reach(found)
        return found

    def _reach(self, node: Node) -> Node:
        """``node``, built before and reached again now: it takes the lowest of its orders.

        A constant or subexpression first built by an unrelated third derivative keeps
        order 3 otherwise, and every later first derivative that shares it would be drawn
        as a third derivative: orders would depend on the graph's history.
        """
        order = BUILD_CONTEXT.get().order
        if order < node.order:
            with self._lock:
                if order < node.order:
                    _set_order(node, order)
        return node

    def _alias(self, key: tuple, node: Node) -> Node:
        """Intern ``node`` under a second key as well (forgotten with it on rollback);
        returns the node interned there (another thread's, if it came first)."""
        with self._lock:
            return self._interned.setdefault(key, node)

    def _kept(self, key: tuple, build: Callable[[], Node]) -> Node:
        """The node interned under ``key`` (an internal key: a derivative's seed, vmap's
        entry placeholder), made by ``build()`` the first time, so a repeated call that
        asks for it builds the same nodes on it."""
        found = self._lookup(key)
        return found if found is not None else self._alias(key, build())

    def _add(self, key: tuple | None, opdef: Any, inputs: tuple[Node, ...],
             attrs: dict[str, Any], shape: tuple, dtype: np.dtype, name: str | None = None,
             findable: bool = True) -> Node:
        """Append a node, or return the interned one with the same ``key``.

        A ``findable`` name can be used to feed the node by name; internal placeholders
        are not findable, so they never clash with a user's names.
        """
        ctx = BUILD_CONTEXT.get()
        node = _NodeFields()  # filled outside the lock; only its id needs the lock
        node.op = opdef.name
        node.opdef = opdef
        node.inputs = inputs
        node.attrs = attrs
        node.shape = shape
        node.dtype = dtype
        node.name = name
        node.order = ctx.order
        node.graph = self
        node.scope = SCOPE.get()
        node.grad_call = ctx.grad_call
        node.grad_of = ctx.grad_of
        thread = ctx.thread
        if thread is None:  # the user context: ask (this_thread(), inlined: once per node)
            thread = _THREADS.__dict__
        nodes = self._nodes
        lock = self._lock
        lock.acquire()  # not ``with``: acquire/release is 2.5x cheaper, once per node
        try:
            if self._undone:  # (rarely: only while a forgotten node is alive, refuse it)
                for n in inputs:
                    if n.graph is not self:
                        n.graph._nodes  # raises, saying why  # noqa: B018
            node.id = len(nodes)
            node.__class__ = Node  # complete before another thread can find it
            if key is not None:  # one hash and probe, for the lookup and the insert
                existing = self._interned.setdefault(key, node)
                if existing is not node:
                    if ctx.order < existing.order:
                        _set_order(existing, ctx.order)
                    return existing
            nodes.append(node)
            if thread is not self._run_thread:  # another thread's turn: a new run
                self._run_start, self._run_thread = node.id, thread
            if name is not None and findable:
                self._by_name.setdefault(name, []).append(node)
            return node
        finally:
            lock.release()

    def _undo(self, mark: int, whole: bool = False) -> None:
        """Forget the nodes this thread appended from id ``mark`` on: a public op call that
        failed after making some (a constant from an operand, a cast, a reshape) leaves the
        graph as it was. ``mark`` is ``len(graph)`` when the call began. If another thread
        appended nodes since, only this thread's nodes after the last of those go (ids stay
        dense: a node of another thread is never dropped, nor one it could have used); with
        ``whole`` (a derivative, whose many common nodes another thread building meanwhile
        may well have found and used), none go then."""
        if len(self._nodes) <= mark:  # (a call that failed before building anything: most)
            return
        with self._lock:
            if self._run_thread is this_thread() and (not whole or self._run_start <= mark):
                self._drop(max(mark, self._run_start))

    def _rollback(self, first_id: int, ours: Callable[[Node], bool]) -> None:
        """Forget the nodes a failed call (a ``grad``, a loop's build) appended from
        ``first_id`` on, if ``ours`` holds for each (else another thread built some too)."""
        with self._lock:
            if all(map(ours, self._nodes[first_id:])):
                self._drop(first_id)
            # else another thread built nodes meanwhile; keep the graph consistent

    def _drop(self, first_id: int) -> None:
        """Forget the nodes from ``first_id`` on (with the lock held). Each gets the graph
        ``_UNDONE``: another thread that found one through interning just before (and holds
        it, not yet built on) gets an error on using it, not a node whose id is another's."""
        dropped = self._nodes[first_id:]
        if not dropped:
            return
        del self._nodes[first_id:]
        forget = self._undone.discard
        for n in dropped:
            _set_graph(n, _UNDONE)
            self._undone.add(weakref.ref(n, forget))
        doomed = {id(n) for n in dropped}
        for key in [k for k, v in self._interned.items() if id(v) in doomed]:
            del self._interned[key]
        for name, nodes in list(self._by_name.items()):
            kept = [n for n in nodes if id(n) not in doomed]
            if kept:
                self._by_name[name] = kept
            else:
                del self._by_name[name]
        if self._run_start >= first_id:  # node first_id - 1 is another run's: whose, unknown
            self._run_start, self._run_thread = first_id, None


def ancestors(outputs: Iterable[Node], stop: frozenset[int] | set[int] = frozenset()) -> list[Node]:
    """All ancestors of ``outputs`` (themselves included), sorted by id (topological).

    Iterative; walks through no node whose id is in ``stop`` (those are kept, their
    inputs are not visited). The outputs must belong to one graph.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * x
    >>> [n.op for n in sg.ancestors([y])]
    ['var', 'sin', 'multiply']
    """
    if isinstance(outputs, Node):
        outputs = [outputs]
    if isinstance(outputs, (str, bytes)) or not hasattr(outputs, "__iter__"):
        raise SymgraphError(f"sg.ancestors needs a list of nodes, got {type(outputs).__name__}")
    stack = list(outputs)
    for n in stack:
        if not isinstance(n, Node):
            raise SymgraphError(f"sg.ancestors: a {type(n).__name__} is not a symgraph node")
    if not stack:
        return []
    graph = stack[0].graph
    for n in stack:
        if n.graph is not graph:
            raise SymgraphError(
                f"sg.ancestors: {_short(stack[0])} and {_short(n)} belong to different graphs; "
                "ask for the ancestors of each graph's nodes separately"
            )
    return _ancestors_in(graph, stack, stop)


def _ancestors_in(graph: Graph, stack: list[Node], stop: frozenset[int] | set[int],
                  reads: list | None = None) -> list[Node]:
    """``ancestors`` within one graph: ids index the graph, so marks in a bytearray replace
    a dict and the result is read off in id order. Depth first (a stack: a queue ran 1.7x
    slower) while few nodes are found; past a sixteenth of the ids below the outputs, one
    pass down the ids marking inputs (ids are topological) finishes 1.5-2x faster.

    Given ``reads`` (a list), that pass keeps what it read, which the plan needs: ``reads``
    becomes ``[marks, inputs, ids]``: per found node, highest id first, its ``inputs``
    (``()`` if in ``stop``), and their ids flat (at 10^5 nodes each costs a cache miss)."""
    stack = list(dict.fromkeys(stack))
    top = max(n.id for n in stack)
    marks = bytearray(1 + top)
    found = list(stack)
    for n in stack:
        marks[n.id] = 1
    budget = max(4096, len(marks) // 16)
    pop, push, keep = stack.pop, stack.append, found.append
    while stack and len(found) < budget:
        node = pop()
        if stop and node.id in stop:
            continue
        for inp in node.inputs:
            if not marks[inp.id]:
                marks[inp.id] = 1
                push(inp)
                keep(inp)
    with graph._lock:
        below = graph._nodes[:top + 1]
    if stack:  # most of the graph below the outputs: one pass down the ids
        _mark_down(below, marks, sorted(i for i in stop if i <= top), reads)
        return list(itertools.compress(below, marks))
    if 16 * len(found) < len(marks):  # a small part of a big graph: sort what was found
        return sorted(found, key=_by_id)
    return list(itertools.compress(below, marks))


def _mark_down(below: list[Node], marks: bytearray, cuts: list[int], reads: list | None) -> None:
    """Mark the inputs of each marked node of ``below`` (indexed by id) but of ``cuts``
    (sorted ids), highest id first, one loop per run between two cuts (no test per node)."""
    seen: list = []
    ids: list[int] = []
    hold, note, high = seen.append, ids.append, len(below)
    for cut in [*reversed(cuts), -1]:
        if reads is None:
            for i in range(high - 1, cut, -1):
                if marks[i]:
                    for inp in below[i].inputs:
                        marks[inp.id] = 1
        else:
            for i in range(high - 1, cut, -1):
                if marks[i]:
                    ins = below[i].inputs
                    hold(ins)
                    for inp in ins:
                        j = inp.id
                        marks[j] = 1
                        note(j)
            if cut >= 0 and marks[cut]:
                hold(())
        high = cut
    if reads is not None:
        reads[:] = [marks, seen, ids]


def _by_id(node: Node) -> int:
    return node.id

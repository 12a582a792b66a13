"""What nodes built right now are: the build context, name scopes, the collector pause.

Owns: the ``contextvars`` that say whether nodes being built are the user's (order 0) or
part of a ``grad`` call (its order, call number and ``grad_of``), the current name scope,
and :func:`gc_paused`. Each thread and async task sees its own values.

Imports: the standard library and ``symgraph.errors``.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import threading
from collections.abc import Iterator
from typing import Any

from symgraph.errors import SymgraphError


_THREADS = threading.local()


def this_thread() -> dict:
    """A token of the calling thread: its own ``__dict__`` of a ``threading.local`` (one
    object per thread, alive while held; compared by identity). Faster to get and compare
    than ``threading.get_ident()``, and ``Graph._add`` asks once per node built."""
    return _THREADS.__dict__


class _BuildContext:
    """What nodes built right now are: user nodes (order 0) or part of a ``grad`` call."""

    __slots__ = ("order", "grad_call", "grad_of", "simplify", "thread")

    def __init__(self, order: int = 0, grad_call: int | None = None):
        self.order = order
        self.grad_call = grad_call
        self.grad_of: Any = None  # a Node
        # Inside a derivative builder, trivial identities (x*1, x+0) are not materialised.
        self.simplify = grad_call is not None
        # The thread building in this context (as this_thread() names it), which
        # Graph._add records: known once for a derivative's context (one thread builds it);
        # None for the user context that every thread shares (each node then asks).
        self.thread = this_thread() if grad_call is not None else None


USER_CONTEXT = _BuildContext()
BUILD_CONTEXT: contextvars.ContextVar[_BuildContext] = contextvars.ContextVar(
    "symgraph_build_context", default=USER_CONTEXT
)
SCOPE: contextvars.ContextVar[str] = contextvars.ContextVar("symgraph_scope", default="")


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[str]:
    """Nodes built inside carry the scope (``"layer1"``, nested ``"net/layer1"``).

    The renderer draws each scope as a cluster.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     with sg.name_scope("layer1"):
    ...         h = sg.tanh(x)
    >>> h.scope
    'layer1'
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise SymgraphError(
            f"name_scope needs a non-empty name without '/', got {name!r}; nest scopes instead"
        )
    outer = SCOPE.get()
    full = f"{outer}/{name}" if outer else name
    token = SCOPE.set(full)
    try:
        yield full
    finally:
        SCOPE.reset(token)


def build_context() -> _BuildContext:
    """The current build context (internal: used by op constructors and autodiff)."""
    return BUILD_CONTEXT.get()


class derivative_context:
    """Nodes built inside are derivative nodes of ``order`` made by ``grad_call``
    (with the garbage collector paused: a derivative is built in one big batch).

    A class, not a ``contextlib`` generator: 1.1 instead of 2.3 us a use, once per
    ``grad`` (a small one takes 50 us).
    """

    __slots__ = ("ctx", "token")

    def __init__(self, order: int, grad_call: int):
        self.ctx = _BuildContext(order, grad_call)

    def __enter__(self) -> _BuildContext:
        self.token = BUILD_CONTEXT.set(self.ctx)
        try:
            _pause_gc()
        except BaseException:
            BUILD_CONTEXT.reset(self.token)
            raise
        return self.ctx

    def __exit__(self, *exc: Any) -> None:
        try:
            _resume_gc()
        finally:
            BUILD_CONTEXT.reset(self.token)


_gc_lock = threading.Lock()
_gc_pauses = 0  # how many threads are inside gc_paused()
_gc_resume = False  # whether the collector was on when the first of them entered


class gc_paused:
    """Pause Python's cyclic garbage collector while a big batch of nodes is built or run.

    Every node built is alive (its graph holds it), so the collections that the many new
    objects trigger find nothing and only cost time: about half the time of building a
    node on a 10^5-node ``grad``. The collector is resumed when the last thread leaves, and
    is left off if the user had turned it off.

    Before it resumes, the objects made meanwhile are moved to the oldest generation (a
    ``gc.freeze()``/``gc.unfreeze()`` pair, which splices lists: O(1)). Otherwise the first
    young collection after resuming would walk every one of them, all alive: 0.2 s after
    a 10^5-node ``grad``. Garbage cycles among them wait for the next full collection.
    This is skipped if the program uses ``gc.freeze`` itself.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """

    __slots__ = ()

    def __enter__(self) -> None:
        _pause_gc()

    def __exit__(self, *exc: Any) -> None:
        _resume_gc()


def _pause_gc() -> None:
    global _gc_pauses, _gc_resume
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pauses += 1


def _resume_gc() -> None:
    global _gc_pauses
    with _gc_lock:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_resume:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@contextlib.contextmanager
def user_context() -> Iterator[None]:
    """Nodes built inside are plain user nodes (order 0), even within a ``grad``."""
    token = BUILD_CONTEXT.set(USER_CONTEXT)
    try:
        yield
    finally:
        BUILD_CONTEXT.reset(token)

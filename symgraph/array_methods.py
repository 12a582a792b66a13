"""The NumPy methods and properties of a node (``x.sum()``, ``x.T``, ``x.reshape(2, 3)``...),
and NumPy's functions of nodes (``np.where(x > 0, x, 0.0)``, ``np.linalg.norm(v)``).

Owns: :class:`ArrayMethods`, the mixin of ``symgraph.graph.Node`` whose methods have
``numpy.ndarray``'s names and signatures and build nodes: reductions (``sum mean max min
prod all any var std argmax argmin cumsum cumprod``, which also take the ``dtype``/``out``/
``order`` that NumPy's functions pass on, so ``np.sum(x)`` works), layout (``reshape
ravel flatten squeeze transpose swapaxes repeat diagonal trace``, ``T``, ``mT``), and
``dot clip round sort argsort take astype``; ``ndim`` and ``size``. And NumPy's functions
of a node (NEP 18's ``__array_function__``): those methods with the node first, else the
symgraph function declared with :func:`follows_numpy` to follow that NumPy function (the
declaration sits on each function in ``symgraph.ops``; :data:`_FOLLOWERS` is what the
declarations fill in; :data:`UFUNC_FOLLOWERS` for the ufuncs no op names, which
``Node.__array_ufunc__`` reads), with NumPy's arguments matched to its own and any it
lacks refused.

Every one of them builds all or nothing (``symgraph.undo``): a call that fails leaves the
graph as it was.

Imports: the standard library, NumPy, ``symgraph.errors``, ``symgraph.symbol`` and
``symgraph.undo``.
The methods call the op constructors through :data:`OPS`, which ``symgraph.ops`` fills in
when it is imported (so this module does not import ops).
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from symgraph.errors import SymgraphError
from symgraph.symbol import short
from symgraph.undo import all_or_nothing

# Filled by symgraph.ops at import: the namespace that holds sum, reshape, cast, ...
OPS: Any = None
_UNSET: Any = object()  # a keyword not given (None means an open side)

Axis = int | Sequence[int] | None


class ArrayMethods:
    """``numpy.ndarray``'s methods on a node; each returns a new node.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(2, 3))
    ...     y = x.transpose().dot(x).trace()
    >>> y.shape, x.size, x.mT.shape
    ((), 6, (3, 2))
    """

    __slots__ = ()
    shape: tuple

    @property
    def T(self) -> Any:
        """The transpose (all axes reversed), as ``numpy.ndarray.T``."""
        return OPS.transpose(self)

    @property
    def mT(self) -> Any:
        """The last two axes swapped (a stack of matrices transposed), as ``ndarray.mT``."""
        if len(self.shape) < 2:
            raise SymgraphError(f"{short(self)}.mT: the node has {len(self.shape)} axes; "
                                "mT swaps the last two, so it needs at least two")
        return OPS.swapaxes(self, -2, -1)

    @property
    def at(self) -> Any:
        """Functional index updates, as JAX's: ``x.at[i].set(y)``, ``x.at[i].add(y)``,
        ``x.at[i].get()`` (new nodes: see ``symgraph.ops.updates``)."""
        return OPS.index_updates(self)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int | None:
        """Number of elements (``None`` when a dimension is known only when fed)."""
        return None if None in self.shape else math.prod(self.shape)

    # The reductions take NumPy's pass-through options too, so np.sum(x) and np.mean(x, 0)
    # (which call x.sum(axis=..., dtype=None, out=None)) work on a node: see _options.
    def sum(self, axis: Axis = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Sum over ``axis`` (all axes by default), as ``numpy.sum``."""
        dtype = numpy.pop("dtype", None)  # (the function computes in it)
        return OPS.sum(_options(self, numpy), axis=axis, keepdims=keepdims, dtype=dtype)

    def mean(self, axis: Axis = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Mean over ``axis`` (all axes by default), as ``numpy.mean``."""
        dtype = numpy.pop("dtype", None)  # (the function computes in it)
        return OPS.mean(_options(self, numpy), axis=axis, keepdims=keepdims, dtype=dtype)

    def max(self, axis: Axis = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Maximum over ``axis``; its gradient goes to the first maximal element."""
        return OPS.max(_options(self, numpy), axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Minimum over ``axis``; its gradient goes to the first minimal element."""
        return OPS.min(_options(self, numpy), axis=axis, keepdims=keepdims)

    def prod(self, axis: Axis = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Product over ``axis``, as ``numpy.prod`` (its gradient is right with zeros)."""
        dtype = numpy.pop("dtype", None)  # (the function computes in it)
        return OPS.prod(_options(self, numpy), axis=axis, keepdims=keepdims, dtype=dtype)

    def all(self, axis: Axis = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Whether every element over ``axis`` is nonzero (a boolean), as ``numpy.all``."""
        return OPS.all(_options(self, numpy), axis=axis, keepdims=keepdims)

    def any(self, axis: Axis = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Whether some element over ``axis`` is nonzero (a boolean), as ``numpy.any``."""
        return OPS.any(_options(self, numpy), axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0,
            **numpy: Any) -> Any:
        """Variance over ``axis``, as ``numpy.var`` (the function is ``sg.variance``)."""
        return OPS.variance(_options(self, numpy), axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0,
            **numpy: Any) -> Any:
        """Standard deviation over ``axis``, as ``numpy.std``."""
        return OPS.std(_options(self, numpy), axis=axis, keepdims=keepdims, ddof=ddof)

    def argmax(self, axis: int | None = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Index of the first maximum (int64), as ``numpy.argmax``."""
        return OPS.argmax(_options(self, numpy), axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False, **numpy: Any) -> Any:
        """Index of the first minimum (int64), as ``numpy.argmin``."""
        return OPS.argmin(_options(self, numpy), axis=axis, keepdims=keepdims)

    def cumsum(self, axis: int | None = None, **numpy: Any) -> Any:
        """Cumulative sum, as ``numpy.cumsum`` (``axis=None`` flattens)."""
        dtype = numpy.pop("dtype", None)  # (the function computes in it)
        return OPS.cumsum(_options(self, numpy), axis=axis, dtype=dtype)

    def cumprod(self, axis: int | None = None, **numpy: Any) -> Any:
        """Cumulative product, as ``numpy.cumprod`` (``axis=None`` flattens)."""
        dtype = numpy.pop("dtype", None)  # (the function computes in it)
        return OPS.cumprod(_options(self, numpy), axis=axis, dtype=dtype)

    def reshape(self, *shape: Any, **numpy: Any) -> Any:
        """Reshape (one dimension may be -1), as ``numpy.reshape`` (``shape=`` too, as
        ``np.reshape(x, shape=...)`` passes it)."""
        if not shape and "shape" in numpy:
            shape = (numpy.pop("shape"),)
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        order = numpy.pop("order", "C")  # (sg.reshape's refusal names the transpose)
        return OPS.reshape(_options(self, numpy), shape, order=order)

    def ravel(self, order: str = "C") -> Any:
        """The flattened node, as ``numpy.ravel`` (C order only: ``sg.ravel``)."""
        return OPS.ravel(self, order=order)

    def flatten(self, order: str = "C") -> Any:
        """The flattened node, as ``numpy.ndarray.flatten`` (nodes are immutable: a copy
        and a view are the same thing; C order only)."""
        return OPS.ravel(self, order=order)

    def squeeze(self, axis: Axis = None) -> Any:
        """Length-1 axes removed, as ``numpy.squeeze``."""
        return OPS.squeeze(self, axis=axis)

    def transpose(self, *axes: Any) -> Any:
        """Axes permuted, as ``numpy.ndarray.transpose``: ``x.transpose()`` reverses them,
        ``x.transpose(1, 0, 2)`` and ``x.transpose((1, 0, 2))`` permute."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return OPS.transpose(self, tuple(axes) if axes else None)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        """Two axes exchanged, as ``numpy.swapaxes``."""
        return OPS.swapaxes(self, axis1, axis2)

    def repeat(self, repeats: Any, axis: int | None = None) -> Any:
        """Each element repeated, as ``numpy.repeat`` (``axis=None`` flattens)."""
        return OPS.repeat(self, repeats, axis=axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        """The diagonal, as ``numpy.diagonal``."""
        return OPS.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, **numpy: Any) -> Any:
        """Sum of the diagonal, as ``numpy.trace``."""
        return OPS.trace(_options(self, numpy), offset, axis1, axis2)

    def dot(self, b: Any, **numpy: Any) -> Any:
        """The dot product with ``b``, as ``numpy.dot``."""
        return OPS.dot(_options(self, numpy), b)

    def clip(self, a_min: Any = None, a_max: Any = None, *, min: Any = _UNSET,  # noqa: A002
             max: Any = _UNSET, **numpy: Any) -> Any:  # noqa: A002 - NumPy's names
        """Values limited to ``[a_min, a_max]``, as ``numpy.clip`` (or ``min=``, ``max=``)."""
        if min is _UNSET and max is _UNSET:
            return OPS.clip(_options(self, numpy), a_min, a_max)
        bounds = {k: v for k, v in zip(("a_min", "a_max"), (a_min, a_max)) if v is not None}
        return OPS.clip(_options(self, numpy), **bounds,  # (clip refuses a mix)
                        min=None if min is _UNSET else min, max=None if max is _UNSET else max)

    def round(self, decimals: int = 0, **numpy: Any) -> Any:
        """Rounded to ``decimals`` (half to even), as ``numpy.round``."""
        return OPS.round(_options(self, numpy), decimals)

    def sort(self, axis: int | None = -1, kind: str | None = None, order: None = None, *,
             stable: bool | None = None) -> Any:
        """Sorted along ``axis``, as ``numpy.sort`` (a new node: nodes are immutable; every
        ``kind`` and ``stable`` gives the same values)."""
        _sort_order(self, order)
        return OPS.sort(self, axis, kind, stable=stable)

    def argsort(self, axis: int | None = -1, kind: str | None = None,
                order: None = None, *, stable: bool | None = None) -> Any:
        """The indices that sort along ``axis`` (int64), as ``numpy.argsort``. Ties keep
        their order (a stable sort, which every ``kind`` and ``stable`` of NumPy's
        allows)."""
        _sort_order(self, order)
        return OPS.argsort(self, axis, kind, stable=stable)

    def take(self, indices: Any, axis: int | None = None, mode: str = "raise",
             **numpy: Any) -> Any:
        """Elements at ``indices`` along ``axis``, as ``numpy.take`` (an index out of
        range raises when evaluated: NumPy's ``mode="raise"``)."""
        return OPS.take(_options(self, numpy), indices, axis=axis, mode=mode)

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        """The node converted to ``dtype`` (``sg.cast``; no gradient through integer casts;
        ``copy`` has no effect: nodes are immutable)."""
        return OPS.cast(self, dtype)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """NumPy's functions of a node (NEP 18). With the node first, ``np.trace(x)``,
        ``np.sort(x, 0)``, ``np.sum(x)``, ``np.shape(x)``... call the node's method or
        attribute of that name (NumPy's own fallback for many of them); any other call of a
        NumPy function that a symgraph function declares it follows (:func:`follows_numpy`)
        calls that function, with NumPy's arguments matched to its own
        (``np.where(c, x, 0)``, ``np.concatenate([x, np.ones(3)])``); other functions, and
        arguments it does not take, raise an error that says what to call instead."""
        name = getattr(func, "__name__", "")
        found = getattr(type(self), name, None) if name in _NUMPY_NAMED else None
        if func.__module__ == "numpy" and found is not None and args and args[0] is self:
            if not callable(found):  # a property or field: np.shape(x), np.ndim(x)
                if len(args) == 1 and not kwargs:
                    return getattr(self, name)
            else:
                try:  # NumPy's signature, which ours may not take all of
                    inspect.signature(found).bind(self, *args[1:], **kwargs)
                except TypeError as exc:
                    raise SymgraphError(
                        f"numpy.{name} of the node {short(self)}: {exc}; pass NumPy's "
                        f"arguments of ndarray.{name}") from None
                return found(self, *args[1:], **kwargs)
        follower = _FOLLOWERS.get(func)
        if follower is not None:
            return _call_follower(func, follower, self, args, kwargs)
        raise SymgraphError(
            f"{func.__module__}.{name} does not build symgraph nodes (called on the node "
            f"{short(self)}); {_instead(func.__module__, name)}, or sg.evaluate for values")


def _guard_methods(cls: type) -> None:
    """Every method of ``cls`` that builds nodes (the public ones, ``T``, ``mT`` and
    ``__array_function__``) made :func:`all_or_nothing`, so none added later is missed."""
    for name, member in list(vars(cls).items()):
        if isinstance(member, property) and name in ("T", "mT"):
            setattr(cls, name, property(all_or_nothing(member.fget), doc=member.__doc__))
        elif callable(member) and (not name.startswith("_") or name == "__array_function__"):
            setattr(cls, name, all_or_nothing(member))


_guard_methods(ArrayMethods)


def _instead(module: str, name: str) -> str:
    """What to call instead of NumPy's ``module.name``, which no symgraph function follows:
    a function of that name (looked up in the imported package, which sits above this
    module) is not declared to be NumPy's, so users are sent to its own documentation."""
    package_name, where = (("symgraph.linalg", "sg.linalg") if module == "numpy.linalg"
                           else ("symgraph", "sg"))
    package = sys.modules.get(package_name)
    if package is not None and callable(getattr(package, name, None)):
        return (f"{where}.{name} is symgraph's, not declared to be NumPy's: call it as its "
                f"docstring says (help({where}.{name}))")
    return f"symgraph has no {where}.{name}: build it from symgraph's functions"


# What NumPy's functions may reach on a node: these methods and the data attributes.
_NUMPY_NAMED = frozenset({k for k in vars(ArrayMethods) if not k.startswith("_")} | {"shape"})


# --- symgraph's functions that follow NumPy's ---------------------------------------------------

Function = TypeVar("Function", bound=Callable[..., Any])
# NumPy's function -> the symgraph function that follows it, filled in by @follows_numpy as
# symgraph.ops is imported (each declaration sits on its function: no table of names here)
_FOLLOWERS: dict[Callable[..., Any], Callable[..., Any]] = {}
# NumPy's ufuncs that no op names (symgraph writes them with other ops: np.fmax of a node
# calls sg.fmax), declared with @follows_numpy too; Node.__array_ufunc__ reads them
UFUNC_FOLLOWERS: dict[np.ufunc, Callable[..., Any]] = {}
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_SPREAD = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
_signature = functools.cache(inspect.signature)  # (NumPy's and ours never change)


def follows_numpy(*functions: Callable[..., Any]) -> Callable[[Function], Function]:
    """Declare that the decorated function is NumPy's ``functions`` for nodes (the same
    values, shapes and dtypes for every argument it accepts), so that NumPy's function of a
    node calls it (NEP 18). Declare it only after checking that on values.

    NumPy's arguments are matched to the function's by name; a positional parameter whose
    name NumPy does not use stands for NumPy's parameter at its position (our ``x`` for
    NumPy's ``a``). An argument the function lacks is refused unless it is NumPy's default
    (``out=None``), and the function's own checks refuse values it does not support (a pad
    ``mode``, a norm ``ord``): nothing given to NumPy is dropped.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = np.concatenate([np.where(x > 0, x, 0.0), np.ones(2)])
    >>> y.shape, sg.evaluate(y, {x: [-1.0, 2.0, 3.0]}).tolist()
    ((5,), [0.0, 2.0, 3.0, 1.0, 1.0])
    """
    def declare(function: Function) -> Function:
        tables = [UFUNC_FOLLOWERS if isinstance(f, np.ufunc) else _FOLLOWERS for f in functions]
        for numpy_function, table in zip(functions, tables):
            if table.get(numpy_function, function) is not function:
                raise SymgraphError(f"{_numpy_name(numpy_function)} is already followed by "
                                    f"{table[numpy_function].__name__}; declare one")
        for numpy_function, table in zip(functions, tables):  # (all checked: all or none)
            table[numpy_function] = function
        function.follows_numpy = functions  # type: ignore[attr-defined]
        return function
    return declare


def _numpy_name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__name__}"


def _public_name(follower: Callable[..., Any]) -> str:
    """How users call ``follower``: ``sg.NAME`` or ``sg.linalg.NAME``."""
    name = follower.__name__
    package = sys.modules.get("symgraph")
    return f"sg.{name}" if getattr(package, name, None) is follower else f"sg.linalg.{name}"


@functools.cache
def _matching(func: Callable[..., Any], follower: Callable[..., Any]) -> dict[str, str | None]:
    """NumPy's parameter -> the follower's that takes its value (None: it has none)."""
    theirs = list(_signature(func).parameters.values())
    ours = list(_signature(follower).parameters.values())
    their_names, our_names = {p.name for p in theirs}, {p.name for p in ours}
    match: dict[str, str | None] = {}
    for i, p in enumerate(theirs):
        if p.name in our_names:
            match[p.name] = p.name
        elif (p.kind in _POSITIONAL and i < len(ours) and ours[i].kind in _POSITIONAL
              and ours[i].name not in their_names):
            match[p.name] = ours[i].name  # NumPy's a is our x
        else:
            match[p.name] = None
    return match


def _is_default(value: Any, default: Any) -> bool:
    """Whether ``value`` is NumPy's ``default`` (an array never is: it is not compared)."""
    return value is default or (
        type(value) is type(default) and isinstance(value, (str, int, float)) and value == default)


def _call_follower(func: Callable[..., Any], follower: Callable[..., Any], node: Any,
                   args: tuple, kwargs: dict) -> Any:
    """``follower`` called with NumPy's ``args`` and ``kwargs``, each given to the follower's
    parameter of NumPy's meaning; an argument it cannot take raises, naming it."""
    who = f"{_numpy_name(func)} of the node {short(node)}"
    public = _public_name(follower)
    theirs = _signature(func)
    try:
        bound = theirs.bind(*args, **kwargs)
    except TypeError as exc:
        raise SymgraphError(f"{who}: {exc}; pass the arguments NumPy takes") from None
    match, ours = _matching(func, follower), _signature(follower).parameters
    values: dict[str, Any] = {}
    spread: tuple = ()  # einsum's *operands, whose subscripts come first
    refused = []
    for name, value in bound.arguments.items():
        kind, target = theirs.parameters[name].kind, match[name]
        if kind is inspect.Parameter.VAR_POSITIONAL:
            spread = value if target is not None else ()
            refused += [f"*{name}={_brief(value)}"] if target is None and value else []
        elif kind is inspect.Parameter.VAR_KEYWORD:  # (pad's constant_values=, clip's casting=)
            for key, given in value.items():  # only to a parameter no named one stands for
                if key in ours and ours[key].kind not in _SPREAD and key not in match.values():
                    values[key] = given
                else:
                    refused.append(f"{key}={_brief(given)}")
        elif target is not None:
            values[target] = value
        elif not _is_default(value, theirs.parameters[name].default):
            refused.append(f"{name}={_brief(value)}")
    if refused:
        raise SymgraphError(f"{who}: {public} takes no {', '.join(refused)}; leave it out, or "
                            "call NumPy on the values that sg.evaluate gives")
    call = []
    for p in ours.values():  # positional while they come in order, by keyword after
        if p.kind not in _POSITIONAL or p.name not in values:
            break
        call.append(values.pop(p.name))
    call += spread
    missing = [p.name for p in list(ours.values())[len(call):]
               if p.kind not in _SPREAD and p.default is p.empty and p.name not in values]
    if missing:  # said with NumPy's names
        wanted = ", ".join(next((k for k, v in match.items() if v == m), m) for m in missing)
        raise SymgraphError(f"{who}: {public} follows {func.__name__}{theirs} only with "
                            f"{wanted} given; pass {wanted}")
    return follower(*call, **values)


def _brief(value: Any, limit: int = 40) -> str:
    text = " ".join(repr(value).split())  # an array's repr on one line
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sort_order(node: Any, order: Any) -> None:
    """NumPy's ``order`` of a sort: field names of a structured array (a node has none)."""
    if order is not None:
        raise SymgraphError(f"the node {short(node)} takes no sort order={order!r}: it has "
                            "no named fields; leave it out")


def _options(node: Any, numpy: dict) -> Any:
    """``node`` with the NumPy options that NumPy's functions pass on (``np.sum(x)`` calls
    ``x.sum(axis=None, dtype=None, out=None)``): ``dtype`` casts first, as NumPy computes
    in it; ``out`` (nodes are immutable), a non-C ``order`` or any other option raises."""
    dtype = numpy.pop("dtype", None)
    bad = {k: v for k, v in numpy.items() if not (
        (k in ("out", "copy") and v is None) or (k == "order" and v in (None, "C")))}
    if bad:
        raise SymgraphError(
            f"the node {short(node)} takes no "
            f"{', '.join(f'{k}={v!r}' for k, v in bad.items())}: nodes are immutable and "
            "row-major; leave it out (for where=, use sg.where)")
    return node if dtype is None else OPS.cast(node, dtype)

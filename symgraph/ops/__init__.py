"""The op registry and every op constructor.

Owns: the families of ops (``elementwise``, ``reduce``, ``shape``, ``linalg``, ``nn``),
one module each, and :func:`define_op` for users' own ops. Importing this package
registers every op, wires ``Node``'s operators to the constructors, and (through each
function's ``@follows_numpy``) tells ``Node.__array_function__`` which NumPy functions of a
node build which symgraph function's nodes.

Imports: ``symgraph.graph`` and its own modules.
"""

from __future__ import annotations

import builtins as _builtins
import operator as _operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgraph import array_methods as _array_methods
from symgraph import graph as _graph
from symgraph import undo as _undo
from symgraph.graph import Node, ShapeError, SymgraphError
from symgraph.ops import layout as _layout
# all and any are public as sg.all/sg.any only: here they would shadow the builtins
from symgraph.ops import logical as _logical
from symgraph.ops import rounding as _rounding
from symgraph.ops import sorting as _sorting
from symgraph.ops import statistics as _statistics
from symgraph.ops import ufuncs as _ufuncs
from symgraph.ops import updates as _updates
from symgraph.ops.transaction import all_or_nothing
from symgraph.ops.core import (
    OPS,
    Case,
    Op,
    broadcast_rule,
    const,
    _brief,
    _check_dtype,
    describe,
    inexact,
    make,
    operands,
    register,
    var,
)
from symgraph.ops.arithmetic import (
    add, divide, maximum, minimum, multiply, negative, power, subtract,
)
from symgraph.ops.elementwise import (
    cast, equal, greater, greater_equal, less, less_equal, not_equal, where,
)
from symgraph.ops.functions import (
    abs, cos, exp, expm1, log, log1p, relu, sigmoid, sign, sin, softplus, sqrt, square,
    stop_gradient, tan, tanh,
)
from symgraph.ops.linalg import dot, matmul
from symgraph.ops.nn import log_softmax, logsumexp, softmax
from symgraph.ops.reduce import broadcast_to, max, mean, sum, sum_to
from symgraph.ops.shape import batch_elementwise, concatenate, expand_dims, getitem, reshape, stack, transpose

# The families of the wider op surface (issue 14).
from symgraph.ops.contract import (
    diag, diagonal, einsum, inner, kron, outer, tensordot, trace, tril, triu,
)
from symgraph.ops.conv import avg_pool2d, conv2d, max_pool2d
from symgraph.ops.differences import diff, nanmean, nansum
from symgraph.ops.explog import exp2, log10, log2, logaddexp
from symgraph.ops.gather import one_hot, take, take_along_axis
from symgraph.ops.logical import logical_and, logical_not, logical_or, logical_xor
from symgraph.ops.moremath import (
    cbrt, copysign, deg2rad, degrees, float_power, fmax, fmin, fmod, heaviside, logaddexp2,
    rad2deg, radians, reciprocal, remainder, rint, sinc, trunc,
)
from symgraph.ops.quantiles import (
    average, corrcoef, count_nonzero, cov, median, nanmedian, percentile, ptp, quantile,
)
from symgraph.ops.numeric import cross, interp, searchsorted, select, trapezoid
# NumPy's array creation and spacing (zeros_like with NumPy's dtype= and shape=)
from symgraph.ops.creation import (
    arange, array, asarray, empty, empty_like, eye, full, full_like, identity, ones, ones_like,
    tri, zeros, zeros_like,
)
from symgraph.ops.spacing import geomspace, linspace, logspace, meshgrid
from symgraph.ops.arrangement import (
    atleast_1d, atleast_2d, atleast_3d, broadcast_arrays, column_stack, dsplit, dstack, fliplr,
    flipud, hsplit, rollaxis, rot90, vsplit,
)
from symgraph.ops.editing import append, delete, diagflat, ediff1d, insert
from symgraph.ops.numbers import (
    allclose, array_equal, conj, conjugate, digitize, divmod, gcd, imag, isclose, lcm, ldexp,
    real, vdot,
)
from symgraph.ops.polynomials import polyval, vander
from symgraph.ops.counting import (
    argwhere, bincount, flatnonzero, histogram, nonzero, unique,
)
from symgraph.ops.aliases import (
    absolute, acos, acosh, amax, amin, around, asin, asinh, atan, atan2, atanh, concat,
    cumulative_prod, cumulative_sum, fabs, isinf, isneginf, isposinf, matrix_transpose, matvec,
    permute_dims, positive, pow, signbit, true_divide, vecdot, vecmat,
)
from symgraph.ops.nanreduce import (
    nanargmax, nanargmin, nancumprod, nancumsum, nanmax, nanmin, nanpercentile, nanprod,
    nanquantile, nanstd, nanvar,
)
from symgraph.ops.layout import (
    flip, hstack, moveaxis, pad, ravel, repeat, roll, split, squeeze, swapaxes, tile, vstack,
)
from symgraph.ops.rounding import (
    ceil, clip, floor, floor_divide, isfinite, isnan, mod, nan_to_num, round,
)
from symgraph.ops.sorting import argsort, cumprod, cumsum, sort
from symgraph.ops.special import erf
from symgraph.ops.statistics import argmax, argmin, min, prod, std, variance
from symgraph.ops.trig import (
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cosh, hypot, sinh,
)
# factor and spectral are registered here and public under sg.linalg only.
from symgraph.ops import factor as _factor  # noqa: F401
from symgraph.ops import spectral as _spectral  # noqa: F401


def define_op(
    name: str,
    forward: Callable[..., Any],
    vjp: Sequence[Callable[..., Node | None] | None] | None = None,
    jvp: Sequence[Callable[..., Node | None] | None] | None = None,
    shape: Callable[[tuple, dict], tuple] | None = None,
    dtype: Callable[[tuple, dict], Any] | None = None,
    cases: list[Case] | None = None,
    impls: dict[str, Callable[..., Any]] | None = None,
    elementwise: bool = False,
) -> Callable[..., Node]:
    """Declare a new op in one place and get its constructor.

    ``forward(*arrays)`` computes it with NumPy; ``vjp`` has one rule per input,
    ``rule(g, out)`` returning that input's share of the cotangent ``g`` as symgraph nodes
    (``out`` is the op's node: ``out.inputs`` are its arguments), so the derivative is
    differentiable again; ``jvp`` likewise for forward mode, ``rule(t, out)``. Shapes
    default to NumPy broadcasting and the dtype to float promotion.

    ``elementwise=True`` declares that ``forward`` acts element by element (each output
    element depends on the input elements at the same broadcast position only, like
    ``np.sin`` or ``np.add``): ``sg.vmap`` and Jacobians then batch it by broadcasting, and
    ``dask`` runs it block by block. It takes the broadcast shape, so no ``shape`` rule.
    Without it, vmap of the op raises (a Jacobian builds one row at a time), and ``dask``
    runs ``forward`` on the whole arrays as one task: an op like ``x - x.mean()`` keeps its
    input's shape but is not elementwise, and batching it by broadcasting would be wrong.

    A rule (or an entry) ``None`` means no derivative flows to that input: it gets zero,
    as through ``sg.stop_gradient``. Without ``vjp`` (or ``jvp``) the op has no rules at
    all: ``sg.grad`` (or ``sg.jvp``, ``sg.hvp``) through it raises
    :class:`SymgraphError` naming the op and the input, rather than giving a silent
    zero. The lists must have one entry per input the op is called with.

    ``impls`` gives the op's implementation for a backend, by name: ``{"jax": fn}`` (a
    function of JAX arrays, traced into the jitted function), ``{"numba": fn}`` (an
    ``@njit``-able function of NumPy arrays or, for scalars, numbers; Numba compiles it and
    the graph runs as the ``python`` backend's code calling it), ``{"dask": fn}`` (a
    function of dask arrays). Every backend checks its result against the shape rule.
    Without one, ``python`` and ``numpy`` use ``forward``, ``dask`` runs ``forward`` block
    by block when the op is declared elementwise (on whole arrays, as one task,
    otherwise), and ``jax``/``numba`` refuse the op at compile time, naming it.

    >>> import numpy as np, symgraph as sg
    >>> cube = sg.define_op(
    ...     "cube_example", lambda x: x ** 3, elementwise=True,
    ...     vjp=[lambda g, out: g * 3 * sg.square(out.inputs[0])],
    ...     jvp=[lambda t, out: t * 3 * sg.square(out.inputs[0])])
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     dy = sg.grad(cube(x), x)
    >>> float(sg.evaluate(dy, {x: 2.0}))
    12.0
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise SymgraphError(f"sg.define_op: the name must be an identifier string, got {name!r}")
    if not callable(forward):
        raise SymgraphError(f"sg.define_op({name!r}): forward must be a function of arrays")
    vjp_rules, jvp_rules = _rule_list(name, "vjp", vjp), _rule_list(name, "jvp", jvp)
    if impls is not None and (not isinstance(impls, dict) or not all(
            isinstance(k, str) and callable(f) for k, f in impls.items())):
        raise SymgraphError(f"sg.define_op({name!r}): impls must map backend names to "
                            f"functions, e.g. {{'jax': fn}}; got {impls!r}")
    unknown = sorted(set(impls or ()) - set(_IMPL_BACKENDS))
    if unknown:  # a misspelt backend would be ignored, and the op refused at compile time
        raise SymgraphError(f"sg.define_op({name!r}): impls names the backend {unknown[0]!r}; "
                            f"give implementations for {', '.join(map(repr, _IMPL_BACKENDS))} "
                            "(python and numpy run forward)")
    for kind, rule in (("shape", shape), ("dtype", dtype)):
        if rule is not None and not callable(rule):
            raise SymgraphError(f"sg.define_op({name!r}): {kind} must be a function "
                                f"(inputs, attrs) -> {kind}, got {type(rule).__name__}")
    if not isinstance(elementwise, bool):
        raise SymgraphError(f"sg.define_op({name!r}): elementwise must be True or False, "
                            f"got {elementwise!r}")
    if elementwise and shape is not None:
        raise SymgraphError(f"sg.define_op({name!r}): an elementwise op has the broadcast "
                            "shape of its inputs: leave out shape=, or elementwise=True if the op "
                            "has a shape of its own")
    if cases is not None and (not isinstance(cases, (list, tuple))
                              or not all(isinstance(c, Case) for c in cases)):
        raise SymgraphError(f"sg.define_op({name!r}): cases must be a list of sg.Case, "
                            f"got {_brief(repr(cases))}")
    op = register(Op(
        name=name,
        impl=forward,
        shape=broadcast_rule if shape is None else _checked_rule(name, "shape", shape),
        dtype=inexact if dtype is None else _checked_rule(name, "dtype", dtype),
        # Op's own None means "nothing flows" (comparisons, sign): an op declared without
        # rules gets one that refuses instead, when a derivative reaches it.
        vjp=_missing(name, "vjp") if vjp_rules is None else vjp_rules,
        jvp=_missing(name, "jvp") if jvp_rules is None else jvp_rules,
        cases=list(cases or []),
        # only a declared elementwise op is batched by broadcasting (vmap, Jacobians, dask
        # blocks): a shape-keeping op such as x - x.mean() would give wrong numbers
        batch=batch_elementwise if elementwise else None,
        impls=dict(impls or {}),
    ))

    def constructor(*args: Any) -> Node:
        if not args and (shape is None or dtype is None):
            raise SymgraphError(f"the op '{name}' was called with no inputs; its default "
                                "shape and dtype rules follow the inputs: pass at least one")
        for kind, rules in (("vjp", vjp_rules), ("jvp", jvp_rules)):
            if rules is not None and len(rules) != len(args):
                raise SymgraphError(
                    f"the op '{name}' was called with {len(args)} inputs but declares "
                    f"{len(rules)} {kind} rule{'s' if len(rules) != 1 else ''}; give "
                    "sg.define_op one rule per input (None where no derivative flows)"
                )
        return make(op, operands(args, name))

    constructor.__name__ = name
    constructor.__doc__ = f"The user-declared op {name!r}."
    guarded = all_or_nothing(constructor)  # a failed call (its shape rule) adds no constant
    guarded.op = op  # type: ignore[attr-defined]
    return guarded


_IMPL_BACKENDS = ("jax", "numba", "dask")  # the backends a user's op may bring code for


def _checked_rule(name: str, kind: str, rule: Callable[[tuple, dict], Any]) -> Callable:
    """A user's shape or dtype rule whose failure or junk answer raises SymgraphError
    naming the op, before any node is made from it."""
    def checked(inputs: tuple, attrs: dict) -> Any:
        def who() -> str:
            shown = ", ".join(describe(n) for n in inputs) or "no inputs"
            return f"the {kind} rule of the op '{name}' (for {_brief(shown, 200)})"
        try:
            got = rule(inputs, attrs)
        except SymgraphError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in the user's rule names the op
            raise SymgraphError(f"{who()} raised {type(exc).__name__}: {exc}; fix the rule "
                                f"given to sg.define_op({name!r}, ..., {kind}=...)") from None
        if kind == "dtype":
            return _check_dtype(got, who)
        if not isinstance(got, (tuple, list)) or not all(
                d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                              and d >= 0) for d in got):
            raise ShapeError(f"{who()} returned {_brief(repr(got))}; a shape rule returns a "
                             "tuple of non-negative ints (None for a size known when fed)")
        return tuple(None if d is None else int(d) for d in got)
    return checked


def _rule_list(name: str, kind: str, rules: Any) -> tuple | None:
    if rules is None:
        return None
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise SymgraphError(f"sg.define_op({name!r}): {kind} must be a list of rules, one per "
                            f"input, got {type(rules).__name__}")
    for i, rule in enumerate(rules):
        if rule is not None and not callable(rule):
            raise SymgraphError(f"sg.define_op({name!r}): {kind} rule {i} is a "
                                f"{type(rule).__name__}; give a function (g, out) or None")
    return tuple(rules)


def _missing(name: str, kind: str) -> Callable[..., Node]:
    """A rule for every input (Op's ``rule(g, out, i)`` form) that raises when called."""
    def refuse(cotangent: Node, out: Node, i: int) -> Node:
        raise SymgraphError(
            f"the op '{name}' has no {kind} rule, so the derivative cannot pass to its input "
            f"{i} ({describe(out.inputs[i])}); declare sg.define_op({name!r}, ..., "
            f"{kind}=[...]) with one rule per input (None where no derivative flows)"
        )
    return refuse


class _Operators:
    """What ``Node``'s methods call (kept here so graph.py imports no ops); its Python
    operators call what ``symgraph.undo.OPERATORS`` holds, filled below."""

    transpose = staticmethod(transpose)
    sum = staticmethod(sum)
    mean = staticmethod(mean)
    max = staticmethod(max)
    reshape = staticmethod(reshape)
    # the NumPy methods users reach for (x.min(), x.std(), x.astype(...)), issue 14/18
    min = staticmethod(_statistics.min)
    prod = staticmethod(_statistics.prod)
    all = staticmethod(_logical.all)
    any = staticmethod(_logical.any)
    index_updates = staticmethod(_updates.IndexUpdates)
    variance = staticmethod(_statistics.variance)
    std = staticmethod(_statistics.std)
    argmax = staticmethod(_statistics.argmax)
    argmin = staticmethod(_statistics.argmin)
    cumsum = staticmethod(_sorting.cumsum)
    cumprod = staticmethod(_sorting.cumprod)
    ravel = staticmethod(_layout.ravel)
    squeeze = staticmethod(_layout.squeeze)
    swapaxes = staticmethod(_layout.swapaxes)
    repeat = staticmethod(_layout.repeat)
    diagonal = staticmethod(diagonal)
    trace = staticmethod(trace)
    dot = staticmethod(dot)
    round = staticmethod(_rounding.round)
    sort = staticmethod(_sorting.sort)
    argsort = staticmethod(_sorting.argsort)
    take = staticmethod(take)
    clip = staticmethod(_rounding.clip)
    cast = staticmethod(cast)
    array_ufunc = staticmethod(_ufuncs.array_ufunc)


_graph._OPS = _array_methods.OPS = _Operators
_undo.OPERATORS.update({  # what Python's operators of a node call (symgraph.undo)
    _operator.add: add, _operator.sub: subtract, _operator.mul: multiply,
    _operator.truediv: divide, _operator.pow: power, _operator.matmul: matmul,
    _operator.mod: _rounding.mod, _operator.floordiv: _rounding.floor_divide,
    _builtins.divmod: divmod,  # (sg.divmod: NumPy's floor_divide and mod)
    _operator.and_: lambda a, b: _logical.boolean_operator("&", a, b),
    _operator.or_: lambda a, b: _logical.boolean_operator("|", a, b),
    _operator.xor: lambda a, b: _logical.boolean_operator("^", a, b),
    _operator.invert: lambda a: _logical.boolean_operator("~", a),
    _operator.lt: less, _operator.le: less_equal, _operator.gt: greater,
    _operator.ge: greater_equal, _operator.neg: negative, _operator.abs: abs,
    _operator.getitem: getitem,
})

"""Piecewise functions: ``clip floor ceil round mod floor_divide`` and the tests ``isnan
isfinite``, with ``nan_to_num``.

(``sign`` lives with the other unary functions, ``symgraph.ops.functions``.) NumPy's
functions, values and dtypes. The piecewise-constant ones (``floor ceil round
floor_divide`` and the boolean tests) pass no gradient: their rules are declared
``(None,)``, so a derivative through them is zero, not an error. ``mod``, ``clip`` and
``nan_to_num`` are piecewise linear; their rules are written with symgraph ops (``where``
masks), so they differentiate again (to zero, away from the jumps).

Imports: ``symgraph.graph``, ``symgraph.ops.core``, ``symgraph.ops.elementwise`` and
``symgraph.ops.arithmetic`` (``minimum``/``maximum`` for a one-sided ``clip``).
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np

from symgraph.graph import Node, SymgraphError
from symgraph.ops.arithmetic import maximum, minimum
from symgraph.ops.core import (
    Case,
    Op,
    boolean,
    broadcast_rule,
    describe,
    first_dtype,
    follows_numpy,
    make,
    operands,
    operatorname,
    promote,
    register,
    same_shape,
)
from symgraph.ops.elementwise import apply, binary, where
from symgraph.ops.shape import batch_elementwise

__all__ = ["ceil", "clip", "floor", "floor_divide", "isfinite", "isnan", "mod", "nan_to_num",
           "round"]

ArrayLike = Any  # a Node, a Python number or an array


def _numpy_dtype(forward: Any) -> Any:
    """The dtype rule "what NumPy's ``forward`` returns for this input dtype" (``floor``
    keeps integers in NumPy 2 and ``round(bool)`` is float16), so the declared dtype is
    always the computed one."""
    @functools.lru_cache(maxsize=64)
    def of(dtype: np.dtype) -> np.dtype:
        return forward(np.zeros(0, dtype)).dtype

    return lambda inputs, attrs: of(inputs[0].dtype)


def _flat(name: str, forward: Any, dtype: Any, latex: str | None = None,
          latex_atom: bool = False, parse: bool = True, attrs: tuple = ()) -> Op:
    """A piecewise-constant elementwise op: its derivative is zero where it exists (and
    undefined at the jumps), so no gradient flows."""
    return register(Op(
        name=name, impl=forward, shape=same_shape, dtype=dtype,
        vjp=(None,), jvp=(None,), batch=batch_elementwise,
        array_api=name if getattr(np, name, None) is forward else None,
        latex=latex or operatorname(name), latex_atom=latex_atom, parse=parse,
        show_attrs=attrs,
    ))


# Values with NaN, infinities, signed zeros and halves (NumPy rounds halves to even).
_EDGES = np.array([[np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5],
                   [1.5, 2.5, -0.5, -1.5, -2.7, 1e300]])


def _flat_cases(build: Any, ref: Any = None) -> list[Case]:
    # Tuple cases stay clear of the jumps (the fuzzer squashes values into their range).
    return [Case(build, [((), 1.1, 1.9)], ref, order=0),
            Case(build, [((2, 3), -1.9, -1.1)], ref, order=0),
            Case(build, [_EDGES], ref, order=0)]


FLOOR = _flat("floor", np.floor, _numpy_dtype(np.floor),
              latex=r"\left\lfloor {0} \right\rfloor", latex_atom=True)
CEIL = _flat("ceil", np.ceil, _numpy_dtype(np.ceil),
             latex=r"\left\lceil {0} \right\rceil", latex_atom=True)
ROUND = _flat("round", lambda x, *, decimals=0: np.round(x, decimals),
              _numpy_dtype(np.round), attrs=("decimals",))
ROUND.defaults = {"decimals": 0}
ISNAN = _flat("isnan", np.isnan, boolean, parse=False)  # a boolean: no derivative to take
ISFINITE = _flat("isfinite", np.isfinite, boolean, parse=False)
FLOOR.cases = _flat_cases(lambda x: floor(x))
CEIL.cases = _flat_cases(lambda x: ceil(x))
ROUND.cases = _flat_cases(lambda x: round(x)) + [
    Case(lambda x: round(x, 1), [_EDGES * 0.1 + 0.01], lambda x: np.round(x, 1), order=0),
    Case(lambda x: round(x, -2), [_EDGES * 100], lambda x: np.round(x, -2), order=0),
]
ISNAN.cases = _flat_cases(lambda x: isnan(x))
ISFINITE.cases = _flat_cases(lambda x: isfinite(x))


# mod(x, y) = x - y * (x // y), exactly as NumPy computes both (npy_divmod): d/dx = 1,
# d/dy = -(x // y), away from the jumps. (Not floor(x / y): where x / y rounds up to an
# integer, 1 // 0.1 is 9 and floor(1 / 0.1) is 10; the slope must be the branch's whose
# value mod gives, 1 - 9 y.)
def _mod_d_divisor(t: Node, out: Node) -> Node:
    x, y = out.inputs
    return -(t * floor_divide(x, y))


def _quiet(forward: Any) -> Any:
    def quiet(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # x mod 0 and x // 0 (NaN, inf; 0 for integers) are quiet, as evaluated
        with np.errstate(invalid="ignore", divide="ignore"):
            return forward(x, y)
    return quiet


def _no_boolean_loop(inputs: tuple, attrs: dict) -> np.dtype:
    # np.mod and np.floor_divide have no boolean loop: two booleans compute in int8
    if all(n.dtype == np.bool_ for n in inputs):
        return np.dtype(np.int8)
    return promote(inputs, attrs)


MOD = binary(
    "mod", np.mod, vjp=(lambda g, out: g, _mod_d_divisor), dtype=_no_boolean_loop,
    jvp=(lambda t, out: t, _mod_d_divisor), parse=True,
    # each case keeps x/y between two integers (floor 2, -3, -3, 0): no jump in reach
    cases=lambda build: [
        Case(build, [((), 2.2, 2.8), ((), 0.95, 1.05)]),
        Case(build, [((2, 3), -2.8, -2.2), ((2, 3), 0.95, 1.05)]),
        Case(build, [((2, 3), 2.2, 2.8), ((3,), -1.05, -0.95)]),
        Case(build, [((), 0.2, 0.8), ((2, 1), 1.5, 2.0)]),
        Case(build, [_EDGES, _EDGES[::-1, ::-1]], _quiet(np.mod), order=0),  # NaN, inf, 0
    ],
)


# x // y is piecewise constant: no gradient flows (as floor's, and JAX's).
FLOOR_DIVIDE = binary(
    "floor_divide", np.floor_divide, vjp=(None, None), jvp=(None, None),
    dtype=_no_boolean_loop, parse=True, latex_atom=True,
    latex=r"\left\lfloor \frac{{{0}}}{{{1}}} \right\rfloor",
    cases=lambda build: [
        Case(build, [((), 2.2, 2.8), ((), 0.95, 1.05)]),
        Case(build, [((2, 3), -2.8, -2.2), ((3,), -1.05, -0.95)]),
        # 1 // 0.1 is 9 (1 - 9 * 0.1 is the remainder), where floor(1 / 0.1) is 10
        Case(build, [np.array([1.0, -1.0, 0.3, 7.0]), np.array([0.1, 0.1, 0.1, 0.7])],
             order=0),
        Case(build, [_EDGES, _EDGES[::-1, ::-1]], _quiet(np.floor_divide), order=0),
        Case(build, [np.array([7, -7, 7, 0, 5]), np.array([2, 2, -2, 3, 0])],
             _quiet(np.floor_divide), order=0),  # integers stay integers; x // 0 is 0
    ],
)


# clip(x, lo, hi) is NumPy's minimum(maximum(x, lo), hi); the gradient goes where that
# composition sends it: to x where lo <= x <= hi (x at a bound included, as in JAX), to lo
# where x < lo <= hi, to hi where x > hi or the bounds cross (lo > hi: the value is hi).
def _clip_x(g: Node, out: Node) -> Node:
    x, lo, hi = out.inputs
    return where(x >= lo, where(x <= hi, g, 0), 0)


def _clip_lo(g: Node, out: Node) -> Node:
    x, lo, hi = out.inputs
    return where(x < lo, where(lo <= hi, g, 0), 0)


def _clip_hi(g: Node, out: Node) -> Node:
    x, lo, hi = out.inputs
    return where(x >= lo, where(x > hi, g, 0), where(lo <= hi, 0, g))


_X = np.array([[-3.0, -0.5, 0.2], [0.7, 2.5, 1.2]])  # below, inside and above the bounds
CLIP = register(Op(
    name="clip", impl=np.clip, shape=broadcast_rule, dtype=promote,
    vjp=(_clip_x, _clip_lo, _clip_hi), jvp=(_clip_x, _clip_lo, _clip_hi),
    batch=batch_elementwise, array_api="clip", latex=operatorname("clip"),
))
CLIP.cases = [  # x inside, below and above the bounds (tuple cases never cross them)
    Case(lambda x, lo, hi: clip(x, lo, hi), [((2, 3), -0.5, 0.5), ((), -2.0, -1.0),
                                             ((), 1.0, 2.0)]),
    Case(lambda x, lo, hi: clip(x, lo, hi), [((2, 3), -3.0, -2.5), ((3,), -2.0, -1.0),
                                             ((2, 1), 1.0, 2.0)]),
    Case(lambda x, lo, hi: clip(x, lo, hi), [((), 2.5, 3.0), ((), -2.0, -1.0),
                                             ((2, 3), 1.0, 2.0)]),
    Case(lambda x, lo, hi: clip(x, lo, hi), [_X, ((3,), -1.5, -1.0), ((2, 1), 1.5, 2.0)]),
    Case(lambda x: clip(x, -1.0, 1.0), [_X], lambda x: np.clip(x, -1.0, 1.0)),  # constants
    Case(lambda x, hi: clip(x, 1.0, hi), [_X, ((), -0.5, 0.5)],  # crossed: all hi
         lambda x, hi: np.clip(x, 1.0, hi)),
]


# nan_to_num: the identity where x is finite, a constant elsewhere.
NAN_TO_NUM = register(Op(
    name="nan_to_num",
    impl=lambda x, *, nan=0.0, posinf=None, neginf=None: np.nan_to_num(
        x, nan=nan, posinf=posinf, neginf=neginf),
    shape=same_shape, dtype=first_dtype,
    vjp=(lambda g, out: where(isfinite(out.inputs[0]), g, 0),),
    jvp=(lambda t, out: where(isfinite(out.inputs[0]), t, 0),),
    batch=batch_elementwise, array_api="nan_to_num", latex=operatorname("nan_to_num"),
    show_attrs=("nan", "posinf", "neginf"), defaults={"nan": 0.0}, parse=True,
))
NAN_TO_NUM.cases = [
    Case(lambda x: nan_to_num(x), [((), -2.0, 2.0)]),
    Case(lambda x: nan_to_num(x), [((2, 3), -2.0, 2.0)]),
    Case(lambda x: nan_to_num(x), [_EDGES], order=0),
    Case(lambda x: nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0), [_EDGES],
         lambda x: np.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0), order=0),
]


def _number(value: Any, what: str, x: Node, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    raise SymgraphError(
        f"nan_to_num of {describe(x)}: {what}={value!r} is not a real number; give a float"
        + (" or None" if allow_none else "")
    )


def floor(x: ArrayLike) -> Node:
    """Elementwise floor (NumPy's ``floor``: integers stay integers); no gradient flows.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.floor(x)
    >>> float(sg.evaluate(y, {x: -1.5})), float(sg.evaluate(sg.grad(y, x), {x: 0.3}))
    (-2.0, 0.0)
    """
    return apply(FLOOR, x)


def ceil(x: ArrayLike) -> Node:
    """Elementwise ceiling; no gradient flows.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> float(sg.evaluate(sg.ceil(x), {x: -1.5}))
    -1.0
    """
    return apply(CEIL, x)


@follows_numpy(np.round, np.around)
def round(x: ArrayLike, decimals: int = 0) -> Node:
    """Elementwise rounding to ``decimals`` places (NumPy's ``round``: halves to even,
    negative ``decimals`` round to tens, hundreds...); no gradient flows.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate(sg.round(x), {x: [0.5, 1.5, 2.5]}).tolist()
    [0.0, 2.0, 2.0]
    >>> str(sg.round(x, 2))
    'round(x, decimals=2)'
    """
    (node,) = operands([x], "round")
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, (bool, np.bool_)):
        raise SymgraphError(
            f"round of {describe(node)}: decimals={decimals!r} must be an int (places "
            "after the point; negative for tens, hundreds...)"
        )
    return make(ROUND, [node], {"decimals": int(decimals)})


def mod(x: ArrayLike, y: ArrayLike) -> Node:
    """Elementwise remainder of ``x / y`` with the sign of ``y`` (NumPy's ``mod``, Python's
    ``%``). Away from its jumps its derivative is 1 in ``x`` and ``-(x // y)`` in ``y``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x"), sg.var("y")
    ...     r = sg.mod(x, y)
    >>> float(sg.evaluate(r, {x: -7.0, y: 3.0}))
    2.0
    >>> [float(v) for v in sg.evaluate(sg.grad(r, [x, y]), {x: -7.0, y: 3.0})]
    [1.0, 3.0]
    """
    return apply(MOD, x, y)


def floor_divide(x: ArrayLike, y: ArrayLike) -> Node:
    """Elementwise ``x // y`` (NumPy's ``floor_divide``, Python's ``//``: the floor of the
    exact quotient, the partner of ``x % y``; integers stay integers); no gradient flows.
    It is not always ``floor(x / y)``: ``1.0 // 0.1`` is 9.0, as the remainder ``1.0 % 0.1``
    is 0.0999..., while ``1.0 / 0.1`` rounds to 10.0.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x"), sg.var("y")
    ...     q = x // y
    >>> float(sg.evaluate(q, {x: -7.0, y: 2.0})), float(sg.evaluate(q, {x: 1.0, y: 0.1}))
    (-4.0, 9.0)
    >>> str(q), float(sg.evaluate(sg.grad(q, x), {x: -7.0, y: 2.0}))
    ('floor_divide(x, y)', 0.0)
    """
    return apply(FLOOR_DIVIDE, x, y)


class _NotGiven:
    """A bound ``clip`` was not given (NumPy's ``<no value>``: ``None`` is an open side)."""

    def __repr__(self) -> str:
        return "<no value>"


NOT_GIVEN: Any = _NotGiven()


@follows_numpy(np.clip)
def clip(x: ArrayLike, a_min: ArrayLike = NOT_GIVEN, a_max: ArrayLike = NOT_GIVEN, *,
         min: ArrayLike = NOT_GIVEN, max: ArrayLike = NOT_GIVEN  # noqa: A002 - NumPy's names
         ) -> Node:
    """``x`` limited to ``[a_min, a_max]`` (NumPy's ``clip``: ``minimum(maximum(x, a_min),
    a_max)``, so where ``a_min > a_max`` the result is ``a_max``). The bounds may be
    numbers, arrays or nodes; ``None`` leaves that side open (the node is then
    ``maximum(x, a_min)`` or ``minimum(x, a_max)``; both ``None``: ``x`` itself).

    The gradient flows to ``x`` where ``a_min <= x <= a_max`` (also where ``x`` equals a
    bound, as in JAX), otherwise to the bound that holds the value.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = sg.clip(x, 0.0, 1.0)
    >>> sg.evaluate(y, {x: [-1.0, 0.5, 3.0]}).tolist()
    [0.0, 0.5, 1.0]
    >>> sg.evaluate(sg.grad(y.sum(), x), {x: [0.0, 0.5, 1.0]}).tolist()   # bounds included
    [1.0, 1.0, 1.0]

    ``min=`` and ``max=`` are NumPy 2.1's names of the bounds (then one may be left out).
    """
    if min is not NOT_GIVEN or max is not NOT_GIVEN:
        if a_min is not NOT_GIVEN or a_max is not NOT_GIVEN:
            raise SymgraphError("clip: give the bounds as a_min, a_max or as min=, max=, not "
                                "both (NumPy 2.1 refuses the mix too)")
        a_min = None if min is NOT_GIVEN else min
        a_max = None if max is NOT_GIVEN else max
    elif a_min is NOT_GIVEN or a_max is NOT_GIVEN:
        raise SymgraphError("clip: give both bounds, a_min and a_max (None for an open side), "
                            "or min= and/or max=, as NumPy does")
    if a_min is None and a_max is None:
        return operands([x], "clip")[0]
    if a_min is None:
        return minimum(x, a_max)
    if a_max is None:
        return maximum(x, a_min)
    return apply(CLIP, x, a_min, a_max)


def isnan(x: ArrayLike) -> Node:
    """Elementwise test for NaN, a boolean node (no gradient flows through it).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate(sg.isnan(x), {x: [1.0, float("nan"), float("inf")]}).tolist()
    [False, True, False]
    """
    return apply(ISNAN, x)


def isfinite(x: ArrayLike) -> Node:
    """Elementwise test for a finite value (not NaN or +-inf), a boolean node.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    >>> sg.evaluate(sg.isfinite(x), {x: [1.0, float("nan"), float("-inf")]}).tolist()
    [True, False, False]
    """
    return apply(ISFINITE, x)


@follows_numpy(np.nan_to_num)
def nan_to_num(x: ArrayLike, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Node:
    """``x`` with NaN replaced by ``nan`` and +-inf by ``posinf``/``neginf`` (default: the
    largest finite numbers of ``x``'s dtype), as NumPy's ``nan_to_num``. The gradient is 1
    where ``x`` is finite and 0 where it was replaced.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x", shape=(3,))
    ...     y = sg.nan_to_num(x, posinf=9.0)
    >>> sg.evaluate(y, {x: [1.0, float("nan"), float("inf")]}).tolist()
    [1.0, 0.0, 9.0]
    >>> sg.evaluate(sg.grad(y.sum(), x), {x: [1.0, float("nan"), float("inf")]}).tolist()
    [1.0, 0.0, 0.0]
    """
    (node,) = operands([x], "nan_to_num")
    attrs = {"nan": _number(nan, "nan", node, False),
             "posinf": _number(posinf, "posinf", node, True),
             "neginf": _number(neginf, "neginf", node, True)}
    return make(NAN_TO_NUM, [node], attrs)

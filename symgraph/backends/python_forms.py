"""How the ``python`` backend writes one step: its statement templates and their choice.

Owns the override tables, keyed by the op record (never by an op's name): scalar float64
statements (IEEE arithmetic, ``math``), comparisons, NumPy calls with static attributes,
the ops whose result never shares memory with an input; and :class:`Forms`, the mixin of
``symgraph.backends.python``'s builder that picks a step's *form*. An op without an entry
is lowered generically: its array-API function of NumPy (``np.tanh``) when it takes no
attributes, else its ``impl``.

``scatter`` of a slice writes zeros only around it (:func:`scatter_into`); ``scatter_add``
adds into a view of its dying buffer (:func:`add_at`).

A form is ``(template, pre-statement, calls NumPy?, accepts out=?, takes Python floats
as they are (NumPy) or makes ints floats (Python)?, result is a new array?)``; ``{0}``,
``{1}``... in a template are the operands.

Imports: ``symgraph.ops``, ``symgraph.plan``, ``symgraph.backends.numpy`` (array_function).
"""

from __future__ import annotations

import builtins
import functools
import math
from typing import Any

import numpy as np

from symgraph.backends.numpy import array_function
from symgraph.ops.arithmetic import (
    ADD,
    DIVIDE,
    MAXIMUM,
    MINIMUM,
    MULTIPLY,
    NEGATIVE,
    POWER,
    SUBTRACT,
)
from symgraph.ops.elementwise import (
    CAST,
    GREATER,
    GREATER_EQUAL,
    LESS,
    LESS_EQUAL,
    NOT_EQUAL,
    WHERE,
)
from symgraph.ops.functions import (
    ABS,
    COS,
    EXP,
    EXPM1,
    LOG,
    LOG1P,
    RELU,
    SIGMOID,
    SIGN,
    SIN,
    SOFTPLUS,
    SQRT,
    SQUARE,
    STOP_GRADIENT,
    TAN,
    TANH,
)
from symgraph.ops.nn import LOG_SOFTMAX, LOGSUMEXP, SOFTMAX
from symgraph.ops.reduce import BROADCAST_TO, FIRST_MAX_MASK, MAX, MEAN, SUM, SUM_TO
from symgraph.ops.shape import (
    CONCATENATE,
    EXPAND_DIMS,
    GETITEM,
    RESHAPE,
    SCATTER,
    SCATTER_ADD,
    STACK,
    TRANSPOSE,
    numpy_index,
)
from symgraph.ops.special import ERF
from symgraph.plan import builtin

_F64 = np.dtype("float64")

# Scalar float64 statements. IEEE arithmetic equals NumPy's.
SCALAR = {
    ADD: "{0} + {1}",
    SUBTRACT: "{0} - {1}",
    MULTIPLY: "{0} * {1}",
    DIVIDE: "{0} / {1}",  # x/0 raises ZeroDivisionError: the rerun gives NumPy's inf/nan
    NEGATIVE: "-{0}",
    SQUARE: "{0} * {0}",
    ABS: "abs({0})",
    # NaN in either operand wins, and a tie gives the second operand (maximum(0.0, -0.0)
    # is -0.0), as in NumPy's maximum/minimum loops; relu is maximum(x, 0)
    MAXIMUM: "{0} if {0} > {1} or {0} != {0} else {1}",
    MINIMUM: "{0} if {0} < {1} or {0} != {0} else {1}",
    RELU: "{0} if {0} > 0.0 or {0} != {0} else 0.0",
    SIGN: "1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0 if {0} == 0.0 else {0}",
    STOP_GRADIENT: "{0}",
    SUM: "{0} + 0.0",  # NumPy's sums start at 0.0: the sum of -0.0 is 0.0
    MEAN: "{0} + 0.0",
    MAX: "{0}",
}
# Python's math: it raises (ValueError, OverflowError) where NumPy returns nan or inf, and
# the rerun then gives NumPy's value. Off with use_math=False.
MATH = {
    EXP: "_exp({0})", LOG: "_log({0})", SIN: "_sin({0})", COS: "_cos({0})", TAN: "_tan({0})",
    TANH: "_tanh({0})", SQRT: "_sqrt({0})", LOG1P: "_log1p({0})", EXPM1: "_expm1({0})",
    # NumPy's power is sqrt at 0.5 (nan at -inf, -0.0 at -0.0: C's pow gives inf, 0.0);
    # a constant exponent gets the one branch it needs (see Forms._power)
    POWER: "_sqrt({0}) if {1} == 0.5 else _pow({0}, {1})",
    # NumPy's logaddexp(0, x), branch for branch
    SOFTPLUS: "_LN2 if {0} == 0.0 else _log1p(_exp({0})) if {0} < 0.0 else "
              "{0} + _log1p(_exp(-{0})) if {0} > 0.0 else {0}",
    # as hand-written code: exp(-x) overflows (OverflowError) only for x < -709, where
    # the rerun gives NumPy's value; elsewhere it is within an ulp of NumPy's rule
    SIGMOID: "1.0 / (1.0 + _exp(-{0}))",
    ERF: "_erf({0})",  # the op's own function on scalars: it never raises
}
COMPARE = {LESS: "{0} < {1}", LESS_EQUAL: "{0} <= {1}", GREATER: "{0} > {1}",
           GREATER_EQUAL: "{0} >= {1}", NOT_EQUAL: "{0} != {1}"}
_REDUCTIONS = frozenset({SUM, MEAN, MAX})  # of a scalar: the scalar (see SCALAR)
# Tensor statements for ops whose impl is a lambda; their results are new arrays.
TENSOR = {RELU: "_np_maximum({0}, 0.0)", SOFTPLUS: "_np_logaddexp(0.0, {0})"}
# Ops with static attributes written as a call; {k} is the attribute (a global).
TENSOR_ATTR = {GETITEM: ("{0}[{k}]", lambda a: numpy_index(a["index"])),
               TRANSPOSE: ("_np_transpose({0}, {k})", lambda a: a["axes"]),
               EXPAND_DIMS: ("_np_expand_dims({0}, {k})", lambda a: a["axis"]),
               RESHAPE: ("_np_reshape({0}, {k})", lambda a: a["shape"]),
               BROADCAST_TO: ("_np_broadcast_to({0}, {k})", lambda a: a["shape"])}
_DIRECT = frozenset({SUM, SUM_TO, TRANSPOSE})  # see Forms._direct_call
# Ops whose result never shares memory with an input (besides ufuncs), so an input that
# dies at them may later be overwritten with out=. (scatter_add takes over its first
# input's buffer only where that input dies at it.)
NO_ALIAS = frozenset({SUM, MEAN, MAX, WHERE, SIGMOID, SOFTMAX, LOG_SOFTMAX, LOGSUMEXP, POWER,
                      RELU, SOFTPLUS, CAST, CONCATENATE, STACK, SCATTER, FIRST_MAX_MASK,
                      SCATTER_ADD})
GLOBALS = {
    "_exp": math.exp, "_log": math.log, "_sin": math.sin, "_cos": math.cos, "_tan": math.tan,
    "_tanh": math.tanh, "_sqrt": math.sqrt, "_log1p": math.log1p, "_expm1": math.expm1,
    "_pow": math.pow, "_erf": math.erf, "_LN2": math.log(2.0), "_asarray": np.asarray,
    "_copy": np.array,
    "_ndarray": np.ndarray,
    "_f64": np.float64, "_np_bool": np.bool_, "_np_empty": np.empty, "_errstate": np.errstate,
    "_np_maximum": np.maximum,
    "_np_logaddexp": np.logaddexp, "_np_transpose": np.transpose,
    "_np_expand_dims": np.expand_dims, "_np_reshape": np.reshape,
    "_np_broadcast_to": np.broadcast_to, "_np_add_reduce": np.add.reduce,
    "__builtins__": builtins,
}


def add_at(target: np.ndarray, value: Any, *, index: Any, basic: bool, rest: Any) -> np.ndarray:
    """``scatter_add`` in ``target``'s own buffer (``target`` dies here): ``b[index] += g``.

    ``rest`` says how -0.0 of ``b`` outside ``index`` becomes 0.0 as in ``scatter(g) + b``
    (``b + 0.0``): None (assume_finite: it stays), the basic indices of the rest (see
    :func:`pieces`), or a mask of it. A ``basic`` index (slices, integers) is a view of
    ``b``: the sum is written into it in one pass; another index is summed beside.

    >>> b = np.array([-0.0, 1.0, -0.0])
    >>> add_at(b, np.array([2.0, -0.0]), index=(slice(1, None),), basic=True,
    ...        rest=[(slice(0, 1),)]).tolist()
    [0.0, 3.0, -0.0]
    """
    view = target[index] if basic else None
    if isinstance(view, np.ndarray):
        np.add(view, value, out=view)  # (in place: the same b + g, -0.0 included)
    elif basic or rest is None:
        target[index] += value
    else:  # (a copy: b + g beside, b + 0.0 around it, then b + g back in index)
        inside = target[index] + value
        np.add(target, 0.0, out=target, where=rest)
        target[index] = inside
        return target
    if isinstance(rest, list):
        for piece in rest:
            part = target[piece]
            np.add(part, 0.0, out=part)
    elif rest is not None:
        np.add(target, 0.0, out=target, where=rest)
    return target


def scatter_into(g: np.ndarray, *, index: Any, shape: tuple, rest: list) -> np.ndarray:
    """``scatter(g)``: zeros where ``rest`` (the basic indices around ``index``), ``g`` in
    ``index``, written once each (not zeros everywhere first).

    >>> scatter_into(np.array([1.0, 2.0]), index=(slice(1, 3),), shape=(4,),
    ...              rest=pieces((4,), (slice(1, 3),))).tolist()
    [0.0, 1.0, 2.0, 0.0]
    """
    out = scatter_buffer(shape, g.dtype, rest)
    out[index] = g
    return out


def scatter_buffer(shape: tuple, dtype: np.dtype, rest: list) -> np.ndarray:
    """A new array of zeros in ``rest`` only: a scatter's, whose index is then written.

    >>> scatter_buffer((3,), np.dtype("float64"), [(slice(0, 1),)])[:1].tolist()
    [0.0]
    """
    out = np.empty(shape, dtype=dtype)
    for piece in rest:
        out[piece] = 0.0
    return out


def pieces(shape: tuple, index: tuple) -> list[tuple] | None:
    """Basic indices covering what ``index`` leaves of an array of ``shape``, where it is
    one slice of step 1 along one axis (else None).

    >>> pieces((5, 3), (slice(1, None),)), pieces((4,), (slice(None, None, 2),))
    ([(slice(0, 1, None),)], None)
    """
    if len(index) > len(shape) or not all(isinstance(i, slice) for i in index):
        return None
    cut = [a for a, i in enumerate(index) if i != slice(None)]
    if len(cut) > 1:
        return None
    if not cut:
        return []
    a = cut[0]
    start, stop, step = index[a].indices(shape[a])
    if step != 1:
        return None
    stop = max(stop, start)
    lead = (slice(None),) * a
    return [lead + (part,) for part in (slice(0, start), slice(stop, shape[a]))
            if part.stop > part.start]


# the ops whose form looks at the schedule (whether an operand is read for the last time
# at this step): the only forms worked out again when the steps are reordered
BY_POSITION = frozenset({SCATTER_ADD})


class Forms:
    """The choice of a step's form (mixed into the builder, whose state it reads: ``nodes``,
    ``args``, ``kind``, ``role``, ``uses``, ``forms``, ``globals``...)."""

    def _global(self, obj: Any, key: Any) -> str:
        """The name under which the code sees ``obj`` (one name per ``key``)."""
        name = self._named.get(key)
        if name is None:
            name = self._named[key] = f"_op{len(self._named)}"
            self.globals[name] = obj
        return name

    def _form(self, s: int) -> tuple[str, str | None, bool, bool, bool, bool]:
        """How step ``s`` is written (see the module's docstring)."""
        node = self.nodes[s]
        op = node.opdef
        kinds = [self.kind[i] for i in self.args[s]]
        if self.kind[s] == "F" and "A" not in kinds and "B" not in kinds:
            fast = self._scalar_forms.get(op)  # the common case of big scalar graphs
            if fast is not None:
                return fast if op is not POWER else self._power(s, fast)
        if self.kind[s] == "B":
            return COMPARE[op], None, False, False, False, False
        # integer and boolean scalars join as floats, as NumPy converts them
        if self.kind[s] == "F" and all(k == "F" or (i.shape == () and i.dtype.kind in "biu")
                                       for k, i in zip(kinds, node.inputs)):
            if op in SCALAR and (op not in _REDUCTIONS or node.inputs[0].shape == ()):
                return SCALAR[op], None, False, False, True, False
            if self.use_math and op in MATH:
                form = MATH[op], None, False, False, True, False
                return form if op is not POWER else self._power(s, form)
        if (op is WHERE and node.shape == ()
                and node.inputs[1].dtype == node.inputs[2].dtype == node.dtype):
            return "{1} if {0} else {2}", None, False, False, False, False
        args = ", ".join(f"{{{j}}}" for j in range(len(node.inputs)))
        all_f64 = all(i.dtype == _F64 for i in node.inputs)
        if op in TENSOR:
            return TENSOR[op], None, True, True, all_f64, True
        if op in _DIRECT and len(node.inputs) == 1:
            direct = self._direct_call(s)
            if direct is not None:
                return direct, None, True, False, False, op is not TRANSPOSE
        if op in TENSOR_ATTR and len(node.inputs) == 1:
            template, attr = TENSOR_ATTR[op]
            self.globals[f"_k{s}"] = attr(node.attrs)
            return template.replace("{k}", f"_k{s}"), None, True, False, False, False
        if op is SCATTER_ADD:
            return self._scatter_add(s)
        if op is SCATTER and len(node.inputs) == 1 and None not in node.shape:
            index = numpy_index(node.attrs["index"])
            rest = pieces(node.shape, index)
            if rest is not None:  # zeros only around index, then g in index
                fname = self._global(functools.partial(
                    scatter_into, index=index, shape=node.shape, rest=rest), ("attrs", s))
                self.scatters[s] = index, rest  # (a run of steps may write g in place)
                return f"{fname}({args})", None, True, False, False, True
        function = array_function(op, node.attrs)
        mine = builtin(op)
        if function is None:
            function = self.impls.get(op, op.impl)
            if node.attrs or not isinstance(function, np.ufunc):
                function = functools.partial(function, **node.attrs) if node.attrs else function
                fname = self._global(function, ("attrs", s) if node.attrs
                                     else ("impl", id(function)))
                fresh = mine and op is SCATTER and len(node.inputs) == 1  # zeros, then g in them
                return f"{fname}({args})", None, True, False, False, fresh
        if isinstance(function, np.ufunc):
            np_name = getattr(function, "__name__", "")
            if mine and np_name.isidentifier() and getattr(np, np_name, None) is function:
                fname = f"_np_{np_name}"
                self.globals[fname] = function
            else:
                fname = self._global(function, ("ufunc", id(function)))
            elementwise = function.signature is None
            return f"{fname}({args})", None, True, elementwise, all_f64, mine
        fname = self._global(function, ("impl", id(function)))
        return f"{fname}({args})", None, True, False, False, False

    def _power(self, s: int, form: tuple) -> tuple:
        """``x**c`` with a constant ``c``: the one branch of the template it needs."""
        e = self.args[s][1]
        if self.role[e] != "preset":
            return form
        return ("_sqrt({0})" if self.globals[f"_c{e}"] == 0.5 else "_pow({0}, {1})", *form[1:])

    def _direct_call(self, s: int) -> str | None:
        """``sum``, ``sum_to`` and ``transpose`` of a static-shape array as the NumPy call
        their impl ends in (what ``np.sum`` calls after a few microseconds of checks):
        these are most of the small steps of a layer's backward pass."""
        node = self.nodes[s]
        x = node.inputs[0]
        if not x.shape or None in x.shape or None in node.shape:
            return None  # a 0-d value may be a Python float; unknown sizes: the impl decides
        if node.opdef is TRANSPOSE:
            self.globals[f"_k{s}"] = node.attrs["axes"]
            return f"{{0}}.transpose(_k{s})"
        if x.dtype.kind not in "fc":
            return None  # np.sum's promotion of integers and booleans stays with the impl
        if node.opdef is SUM:
            self.globals[f"_k{s}"] = node.attrs["axis"]
            return f"_np_add_reduce({{0}}, _k{s}, keepdims={bool(node.attrs['keepdims'])})"
        target = node.shape  # sum_to: the summed axes follow from the two static shapes
        lead = x.ndim - len(target)
        axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(target)
                                          if d == 1 and x.shape[lead + i] != 1)
        if not axes:
            return None
        self.globals[f"_k{s}"] = axes
        if axes == tuple(range(lead)):
            return f"_np_add_reduce({{0}}, _k{s})"
        self.globals[f"_s{s}"] = target
        return f"_np_add_reduce({{0}}, _k{s}, keepdims=True).reshape(_s{s})"

    def _scatter_add(self, s: int) -> tuple:
        """``b[index] += g`` in ``b``'s buffer where ``b`` dies here and nothing views it
        (without assume_finite, with ``b + 0.0`` outside ``index``: -0.0 becomes 0.0 as
        in ``scatter(g) + b``); elsewhere a new array, by the op's impl."""
        node = self.nodes[s]
        b, g = self.args[s]
        index = numpy_index(node.attrs["index"])
        t = self.position[s]  # its step number
        if (b != g and self.kind[s] == "A" and node.dtype.kind == "f" and None not in node.shape
                and self._exclusive(b, t)):
            rest = pieces(node.shape, index)
            if rest is None:  # the rest as a mask
                rest = np.ones(node.shape, dtype=bool)
                rest[index] = False
            basic = all(i is None or i is Ellipsis or isinstance(i, (slice, int))
                        for i in index)
            fname = self._global(functools.partial(
                add_at, index=index, basic=basic, rest=None if self.assume_finite else rest),
                ("in place", s))
            if isinstance(rest, list):  # (a run of steps may add g in place, block by block)
                self.adds[s] = index, None if self.assume_finite else rest
        else:
            fname = self._global(functools.partial(node.opdef.impl, **node.attrs), ("attrs", s))
        return f"{fname}({{0}}, {{1}})", None, True, False, False, True

    def _exclusive(self, i: int, t: int) -> bool:
        """Whether step ``i``'s array is new, not an output, never viewed, and read for
        the last time by step number ``t``: its reader may keep it as its own."""
        return (self.role[i] == "step" and self.forms[i][5] and i not in self.is_out
                and self.uses[i][-1] == t
                and all(self._no_alias(self.steps[u]) for u in self.uses[i]))

    def _no_alias(self, s: int) -> bool:
        """Whether step ``s``'s result never shares memory with its inputs."""
        op = self.nodes[s].opdef
        return op in NO_ALIAS or (isinstance(op.impl, np.ufunc) and builtin(op))

"""The ``numba`` backend: a plan lowered to a tape that one compiled interpreter runs.

Owns the opcodes, :func:`lower` (plan -> :class:`Tape`), :class:`NumbaBackend`,
:class:`TapeFunction` (its compiled functions) and :class:`AutoBackend` (``backend="auto"``).

CasADi's ``SXFunction`` design: each step of the plan becomes one row ``(opcode, out, a,
b, c)`` of an ``int32`` array over a ``float64`` work vector; a slot is reused once its
value is dead (the plan's liveness, ``plan.readers``), so the work vector holds only the
values live at once (3 slots for a chain of 10^5 sines). A step read only by one other
is fused into its row where a fused opcode exists (``c + a*b``, ``-a * b``,
``cos(a) * b``...: the same roundings, one dispatch less), ``sin(a)`` and ``cos(a)`` are one
row, and the rows run alike opcodes together (``symgraph.backends.numba_order``: the
dispatch is the interpreter's main cost). Inputs and constants are
preset in the work vector (one copy of a template per call); booleans are 0.0/1.0. The
tape runs in :func:`symgraph.backends.numba_vm.run`, compiled by Numba once per
installation: no graph is compiled natively, so lowering costs about a microsecond per step.

What runs on the tape: graphs whose every needed node is a scalar of a real dtype, whose
steps are float64, or boolean (comparisons, ``isnan``, ``isfinite``, ``where``, casts,
``maximum``...) or integer selections (``where``, ``maximum``, ``minimum``, ``max``,
``min``, ``stop_gradient``: integer arithmetic could differ from NumPy's), with float64 or
boolean outputs. The tape's ops: ``add`` ``subtract`` ``multiply`` ``divide`` ``negative``
``square`` ``sqrt`` ``power`` ``exp`` ``expm1`` ``exp2`` ``log`` ``log1p`` ``log2``
``log10`` ``logaddexp`` ``sin`` ``cos`` ``tan`` ``arcsin`` ``arccos`` ``arctan``
``arctan2`` ``hypot`` ``sinh`` ``cosh`` ``tanh`` ``arcsinh`` ``arccosh`` ``arctanh``
``sigmoid`` ``relu`` ``softplus`` ``abs`` ``sign`` ``floor`` ``ceil`` ``mod``
``floor_divide`` ``clip`` ``maximum`` ``minimum`` ``where`` ``less`` ``less_equal``
``greater`` ``greater_equal`` ``not_equal`` ``logical_and`` ``logical_or`` ``logical_xor``
``logical_not`` ``erf`` ``isnan`` ``isfinite`` ``cast`` ``stop_gradient``, and of a scalar
``sum`` ``mean`` ``max`` ``min`` ``first_max_mask``. Loops too: a graph of ``scan``,
``cond`` and ``while_loop`` nodes (a ``fori_loop``, its gradient's reverse scan, a
checkpointed scan, a branch in a loop) whose bodies are such scalar graphs runs on the
tape with loop and jump rows (``symgraph.backends.numba_loops``, run by
``numba_vm.run_loops``). Any other graph (array nodes, other dtypes) is compiled whole by
the ``python`` backend instead, as the contract allows ("numba may run array ops through
NumPy outside its native tape"); the compiled function's ``backend`` says which ran it
(``"numba"`` or ``"python"``). The loop ops are symgraph's own ops, declared above the
plan (:func:`own`); an op declared by a user (``sg.define_op``) has no Numba form:
compiling it raises at compile time, naming the op.

Imports: ``numpy``, ``symgraph.errors``, ``symgraph.graph``, ``symgraph.ops``,
``symgraph.plan``, ``symgraph.backends.base``, ``symgraph.backends.python``,
``symgraph.backends.numba_loops`` (when a plan is not all scalars); Numba only through
``symgraph.backends.numba_vm`` and ``numba_order``, imported when a tape is compiled.
"""

from __future__ import annotations

import importlib
import itertools
import math
import operator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from symgraph.backends.base import Backend, Request, arguments
from symgraph.backends.python import PythonBackend
from symgraph.backends.recipe import pickled
from symgraph.errors import SymgraphError
from symgraph.ops import arithmetic as ar
from symgraph.ops import elementwise as el
from symgraph.ops import explog as ex
from symgraph.ops import functions as fn
from symgraph.ops import logical as lo
from symgraph.ops import reduce as rd
from symgraph.ops import rounding as ro
from symgraph.ops import special as sp
from symgraph.ops import statistics as st
from symgraph.ops import trig as tr
from symgraph.ops.core import Op, describe
from symgraph.feeds import convert_feed
from symgraph.plan import Plan, builtin

# The opcodes (numba_vm.run tests them in this order of frequency).
(ADD, MUL, SUB, NEG, DIV, SQUARE, SIN, COS, EXP, LOG, TANH, SQRT, COPY, ADD0, POW, WHERE,
 MAX2, MIN2, RELU, SIGMOID, SOFTPLUS, ABS, SIGN, LT, LE, GT, GE, NE, TOBOOL, ISNAN, ISFINITE,
 EQ_ONE, TAN, LOG1P, EXPM1, ASIN, ACOS, ATAN, SINH, COSH, ASINH, ACOSH, ATANH, LOG2, LOG10,
 EXP2, ATAN2, HYPOT, LOGADDEXP, FLOOR, CEIL, MOD, CLIP,
 # fused pairs (a step read only by the next one, written into it): each computes exactly
 # what its two rows would (no fused multiply-add: Numba does not contract without fastmath)
 MUL_ADD, NEG_MUL, MUL_NEG, SQ_SUB, COS_MUL, MUL_MUL, SIN_MUL, MUL_SUB,
 # sin(a) into the row's out, cos(a) into its slot c (numba_order merges the two steps)
 SINCOS,
 # later scalar ops: here, so that the opcodes above keep their numbers (numba_order's
 # cached machine code holds SIN, COS, SINCOS and SUB, and Numba keys its cache on
 # numba_order.py alone, not on this table), yet below LOAD (see the loops' opcodes)
 FLOOR_DIVIDE, AND, OR, XOR, NOT, ERF,
 # loops (numba_loops; run by numba_vm.run_loops only, which tests op >= LOAD for them)
 LOAD, STORE, COPYN, LOOP_UP, LOOP_DOWN, JUMP, JUMP_IFNOT) = range(75)
# (producer, consumer) -> fused opcode; the producer's operands come first in the row
_FUSE = {(MUL, ADD): MUL_ADD, (NEG, MUL): NEG_MUL, (MUL, NEG): MUL_NEG, (SQUARE, SUB): SQ_SUB,
         (MUL, SUB): MUL_SUB,
         (COS, MUL): COS_MUL, (MUL, MUL): MUL_MUL, (SIN, MUL): SIN_MUL}
_FUSED = np.full((LOAD, LOAD), -1, dtype=np.int32)  # the same as a table, every opcode
for (_p, _c), _f in _FUSE.items():
    _FUSED[_p, _c] = _f

# float64 steps: op -> opcode. Reductions of a scalar are the scalar (sum and mean add
# 0.0: NumPy's sums start there, so the sum of -0.0 is 0.0); the mask of max's gradient
# of a scalar is 1.
FLOAT: dict[Op, int] = {
    ar.ADD: ADD, ar.MULTIPLY: MUL, ar.SUBTRACT: SUB, ar.NEGATIVE: NEG, ar.DIVIDE: DIV,
    fn.SQUARE: SQUARE, fn.SIN: SIN, fn.COS: COS, fn.EXP: EXP, fn.LOG: LOG, fn.TANH: TANH,
    fn.SQRT: SQRT, fn.STOP_GRADIENT: COPY, el.CAST: COPY, rd.MAX: COPY, st.MIN: COPY,
    rd.SUM: ADD0, rd.MEAN: ADD0, ar.POWER: POW, el.WHERE: WHERE, ar.MAXIMUM: MAX2,
    ar.MINIMUM: MIN2, fn.RELU: RELU, fn.SIGMOID: SIGMOID, fn.SOFTPLUS: SOFTPLUS, fn.ABS: ABS,
    fn.SIGN: SIGN, rd.FIRST_MAX_MASK: EQ_ONE, fn.TAN: TAN, fn.LOG1P: LOG1P, fn.EXPM1: EXPM1,
    tr.ARCSIN: ASIN, tr.ARCCOS: ACOS, tr.ARCTAN: ATAN, tr.SINH: SINH, tr.COSH: COSH,
    tr.ARCSINH: ASINH, tr.ARCCOSH: ACOSH, tr.ARCTANH: ATANH, ex.LOG2: LOG2, ex.LOG10: LOG10,
    ex.EXP2: EXP2, tr.ARCTAN2: ATAN2, tr.HYPOT: HYPOT, ex.LOGADDEXP: LOGADDEXP,
    ro.FLOOR: FLOOR, ro.CEIL: CEIL, ro.MOD: MOD, ro.CLIP: CLIP, ro.FLOOR_DIVIDE: FLOOR_DIVIDE,
    sp.ERF: ERF,
}
_COMPARE = {el.LESS: LT, el.LESS_EQUAL: LE, el.GREATER: GT, el.GREATER_EQUAL: GE,
            el.NOT_EQUAL: NE}
# boolean steps: comparisons, tests, casts, and selections of 0/1 values
_BOOLEAN = {**_COMPARE, ro.ISNAN: ISNAN, ro.ISFINITE: ISFINITE, el.CAST: TOBOOL,
            lo.LOGICAL_AND: AND, lo.LOGICAL_OR: OR, lo.LOGICAL_XOR: XOR, lo.LOGICAL_NOT: NOT,
            el.WHERE: WHERE, fn.STOP_GRADIENT: COPY, ar.MAXIMUM: MAX2, ar.MINIMUM: MIN2,
            rd.MAX: COPY, st.MIN: COPY}
# integer steps: only selections, which keep a value as NumPy would convert it to float64
_INTEGER = {el.WHERE: WHERE, fn.STOP_GRADIENT: COPY, ar.MAXIMUM: MAX2, ar.MINIMUM: MIN2,
            rd.MAX: COPY, st.MIN: COPY}
SUPPORTED: frozenset[Op] = frozenset(FLOAT) | frozenset(_BOOLEAN)
_F64 = np.dtype("float64")
_OPDEF, _DTYPE, _SHAPE = (operator.attrgetter(k) for k in ("opdef", "dtype", "shape"))
_BOOL = np.dtype("bool")
_REAL = frozenset("biuf")


@dataclass
class Tape:
    """A lowered plan: ``code`` (rows ``(opcode, out, a, b, c)``), ``template`` (the
    work vector before a call: constants set), ``inputs`` (per argument, its work slot or
    -1 when no output needs it), ``outputs`` (work slots), ``booleans`` (per output,
    whether it is a boolean) and ``merged`` (the positions in ``order``, the plan's steps
    in the order of the rows, fused into the row before; ``second``: per position, the
    plan slot of a ``SINCOS`` row's cosine, else -1)."""

    code: np.ndarray
    template: np.ndarray
    inputs: list[int]
    outputs: list[int]
    booleans: list[bool]
    constants: int
    merged: list[int]
    # a tape with loops (numba_loops): arrays in and out, run by numba_vm.run_loops
    in_sizes: list[int] | None = None
    out_shapes: list[tuple] | None = None
    loops: bool = False
    order: np.ndarray | None = None
    second: np.ndarray | None = None
    # a straight tape: only the first ``preset`` slots are read before a row writes them
    preset: int | None = None


def _other_opcode(node: Any) -> int | None:
    """The opcode of a boolean or integer scalar step, or None."""
    dtype = node.dtype
    if dtype == _BOOL:
        code = _BOOLEAN.get(node.opdef)
        # a comparison of two integers is exact in NumPy, not after conversion to float64
        if code is not None and node.opdef in _COMPARE and np.result_type(
                *[i.dtype for i in node.inputs]) not in (_F64, _BOOL):
            return None
        return code
    return _INTEGER.get(node.opdef) if dtype.kind in "iu" else None


def _opcode(node: Any) -> int | None:
    """The opcode of a step that is not a float64 scalar, or None."""
    return _other_opcode(node) if node.shape == () else None


def step_code(node: Any) -> int | None:
    """The opcode of a scalar step, or None."""
    if node.dtype is _F64 and node.shape == ():
        return FLOAT.get(node.opdef)
    return _opcode(node)


def lower(plan: Plan, inputs: list[Any]) -> Tape | None:
    """The tape of ``plan`` (inputs in the function's argument order), or None when a node
    is not a scalar the tape can hold (see the module's docstring).

    Bulk work: Python lists each step's opcode and operands once; the rows' order and
    merges (``numba_order.schedule``), the slot allocation and the fusion of pairs
    (``numba_vm.allocate``) run natively over those arrays."""
    nodes = plan.nodes
    slot_of = np.full(len(nodes), -1, dtype=np.int32)
    template: list[float] = []
    for s, value in plan.preset:
        node = nodes[s]
        if node.shape != () or node.dtype.kind not in _REAL:
            return None
        slot_of[s] = len(template)
        template.append(float(value))
    in_slots = []
    ids = plan.ids
    for node in inputs:
        s = int(np.searchsorted(ids, node.id))
        if s == len(ids) or ids[s] != node.id:
            in_slots.append(-1)
            continue
        if node.shape != () or node.dtype.kind not in _REAL:
            return None
        slot_of[s] = len(template)
        in_slots.append(len(template))
        template.append(0.0)
    booleans = []
    for s in plan.outputs:
        dtype = nodes[s].dtype
        if nodes[s].shape != () or dtype not in (_F64, _BOOL):
            return None
        booleans.append(dtype == _BOOL)
    # each step's opcode, in bulk: float64 scalars by table (over the plan's distinct
    # ops), the others one by one
    table = np.array([FLOAT.get(op, -1) for op in plan.ops], np.int32)
    codes = table[plan.op_of[plan.step_array]]
    # (list.count compares by identity first: C speed where every node is a float64 scalar)
    if not (list(map(_DTYPE, nodes)).count(_F64) == len(nodes)
            and list(map(_SHAPE, nodes)).count(()) == len(nodes)):
        step_nodes = list(map(nodes.__getitem__, plan.steps))
        plain = np.fromiter(map(operator.is_, map(_DTYPE, step_nodes),
                                itertools.repeat(_F64)), bool, len(step_nodes))
        plain &= np.fromiter(map(operator.eq, map(_SHAPE, step_nodes), itertools.repeat(())),
                             bool, len(step_nodes))
        for t in np.flatnonzero(~plain).tolist():
            code = _opcode(step_nodes[t])
            codes[t] = -1 if code is None else code
    if (codes < 0).any():
        return None
    from symgraph.backends.numba_order import schedule  # the graph runs on the tape: Numba
    from symgraph.backends.numba_vm import allocate

    # the plan's liveness: the step reading each value last (outputs never die)
    last = plan.last_read.copy()
    last[plan.outputs] = -1
    order, codes, lens, args, writes, second, last = schedule(
        codes, plan.step_start, plan.step_args, plan.step_array, plan.read_count, last,
        plan.reader_start, plan.reader_steps, _FUSED)
    code, size, merged = allocate(codes, lens, args, writes, slot_of, last, plan.read_count,
                                  len(template), _FUSED, second)
    work = np.zeros(size)
    work[:len(template)] = template
    return Tape(code, work, in_slots, slot_of[plan.outputs].tolist(), booleans,
                len(plan.preset), np.flatnonzero(merged).tolist(), order=order,
                second=second, preset=len(template))


_numba: dict[str, bool] = {}


def own(op: Op) -> bool:
    """Whether ``op`` is one of symgraph's own ops declared above the plan (the loop ops,
    registered in ``symgraph.loops`` after the plan took the set of built-in ops): they
    declare per-backend lowerings with the op (``Op.lowerings``), which a user's
    ``define_op`` never does (it brings ``impls``)."""
    return bool(op.lowerings)


class NumbaBackend(Backend):
    """Scalar float64 graphs (and scans of them) on a tape run by one Numba-compiled
    interpreter; other graphs by the ``python`` backend (see the module's docstring).
    Options: ``trust_input``, ``python_scalars``, ``assume_finite`` (see
    :func:`symgraph.compile`)."""

    name = "numba"
    extra = "numba"
    options: ClassVar[dict[str, Any]] = {"trust_input": False, "python_scalars": False,
                                         "assume_finite": False}

    def available(self) -> bool:
        if "ok" not in _numba:
            try:
                importlib.import_module("numba")
                _numba["ok"] = True
            except Exception:  # noqa: BLE001 - a broken install is an absent one
                _numba["ok"] = False
        return _numba["ok"]

    def supports(self, op: Op) -> bool:
        # a user's op runs here only with its own Numba function (define_op's impls; the
        # contract: raise at compile time otherwise); the loop ops are symgraph's own,
        # registered above the plan (so not ``builtin``)
        return builtin(op) or own(op) or "numba" in op.impls

    def compile(self, request: Request, **options: Any) -> Any:
        users = {op: jitted(op.impls["numba"]) for op in {request.plan.nodes[s].opdef
                                                         for s in request.plan.steps}
                 if "numba" in op.impls}
        if users:  # the python backend's code, calling the user's jitted functions
            request.impls = users
            return _python(request, options)
        tape = lower(request.plan, request.inputs)
        if tape is None:
            from symgraph.backends.numba_loops import lower_loops
            tape = lower_loops(request.plan, request.inputs)
        if tape is None:
            return _python(request, options)
        return TapeFunction(request, tape, options["trust_input"], options["python_scalars"])


class AutoBackend(Backend):
    """``backend="auto"``: the numba tape for scalar graphs that run at least
    :data:`AUTO_MIN_STEPS` steps a call (a loop's body counts once per step) when Numba is
    installed, the ``python`` backend otherwise;
    the compiled function's ``backend`` names the choice. Options: the ``python``
    backend's (``use_math`` applies only when it is chosen)."""

    name = "auto"
    options: ClassVar[dict[str, Any]] = PythonBackend.options

    def compile(self, request: Request, **options: Any) -> Any:
        plan = request.plan
        if len(plan.steps) < AUTO_MIN_STEPS:
            from symgraph.backends.numba_loops import executed_steps
            if executed_steps(plan, AUTO_MIN_STEPS) < AUTO_MIN_STEPS:
                return _python(request, options)
        if NumbaBackend().available():
            tape = lower(plan, request.inputs)
            if tape is None:
                from symgraph.backends.numba_loops import lower_loops
                tape = lower_loops(plan, request.inputs)
            if tape is not None:
                return TapeFunction(request, tape, options["trust_input"],
                                    options["python_scalars"])
        return _python(request, options)


# Measured on W5-like gradients (10 inputs and outputs, checks on): a tape call costs
# about 5 us plus 5-20 ns a row, a python-backend call 1-2 us plus 40-60 ns a step, so the
# tape is as fast at ~350 steps, 3x faster at 10^3 and beyond, and lowers 2-3x faster
# than the python backend generates code; below the threshold python also spares the
# one-time Numba import (~0.5 s).
AUTO_MIN_STEPS = 400


def jitted(function: Any) -> Any:
    """A user's ``@njit``-able ``function`` compiled by Numba (as given if it already is),
    called with NumPy's 0-d arrays as scalars (Numba's ``math`` functions take no 0-d
    array) and the op's attributes as keywords."""
    import numba

    compiled = function if isinstance(function, numba.core.dispatcher.Dispatcher) \
        else numba.njit(function)

    def call(*args: Any, **attrs: Any) -> Any:
        return compiled(*[a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a
                          for a in args], **attrs)
    return call


def _python(request: Request, options: dict[str, Any]) -> Any:
    """The python backend's function for ``request``, marked as such."""
    python = PythonBackend()
    function = python.compile(request, **python.normalize(options))
    function.backend = "python"
    function.recipe = None  # pickled as asked (numba or auto; sg.compile gives the recipe)
    return function


class TapeFunction:
    """A compiled function of the ``numba`` backend (see
    :class:`symgraph.CompiledFunction`): ``f(*arrays)`` copies the template, sets the
    inputs, runs the tape and returns the outputs as 0-d arrays (``python_scalars``:
    float64 ones as floats). ``tape`` is the instruction array, ``work_size`` the length of
    the work vector, ``backend`` is ``"numba"``; ``source`` lists the instructions."""

    backend = "numba"

    def __init__(self, request: Request, tape: Tape, trust: bool, python_scalars: bool):
        from symgraph.backends import numba_vm  # imports Numba, compiled or cached

        run = numba_vm.run_loops if tape.loops else numba_vm.run
        self._run = run
        self.inputs = tuple(request.inputs)
        self.outputs = tuple(request.outputs)
        self.computed = tuple(request.computed)
        self.tape, self._template = tape.code, tape.template
        # a call sets the preset slots only (the rest of a large work vector is written
        # before it is read: copying it all costs ~1% of a 10^5-row call)
        head = tape.preset if tape.preset else len(tape.template)
        self._head, self._size = tape.template[:head].copy(), len(tape.template)
        self.work_size = len(tape.template)
        self._plan, self._tape_info, self._single, self._trust = request.plan, tape, \
            request.single, trust
        self._feeds = [(k, s, node, node.dtype == _F64)
                       for k, (s, node) in enumerate(zip(tape.inputs, self.inputs))]
        self._set = [(k, s) for k, s in enumerate(tape.inputs) if s >= 0]
        self._outs = np.array(tape.outputs, dtype=np.intp)
        self._floats = python_scalars and not any(tape.booleans)
        self._kinds = [(b, python_scalars and not b) for b in tape.booleans]
        self._arrays = tape.loops and (any(n != 1 for n in tape.in_sizes or ()) or any(
            shape != () for shape in tape.out_shapes or ()))
        run(tape.code[:0], tape.template.copy())  # load the machine code now, not at a call

    __reduce__ = pickled  # the graph's JSON, compiled again when unpickled

    def __call__(self, /, *arrays: Any, **named: Any) -> Any:
        if len(arrays) != len(self.inputs) or named:
            arrays = arguments(self.inputs, arrays, named)
        if self._arrays:
            return self._call_arrays(arrays)
        work = np.empty(self._size)
        work[:len(self._head)] = self._head
        if self._trust:
            for k, s in self._set:
                work[s] = arrays[k]
        else:
            for k, s, node, f64 in self._feeds:
                value = arrays[k]
                if not (f64 and type(value) is float):
                    value = convert_feed(node, value, "compiled function")
                if s >= 0:
                    work[s] = value
        self._run(self.tape, work)
        values = work[self._outs].tolist()
        if self._floats:
            return values[0] if self._single else values
        results = [np.asarray(v != 0.0) if b else v if f else np.asarray(v)
                   for v, (b, f) in zip(values, self._kinds)]
        return results[0] if self._single else results

    def _call_arrays(self, arrays: tuple) -> Any:
        """A call of a tape whose inputs or outputs are arrays (regions of the work vector)."""
        info = self._tape_info
        work = self._template.copy()
        for k, (s, size, node) in enumerate(zip(info.inputs, info.in_sizes, self.inputs)):
            value = arrays[k]
            if not self._trust:
                value = convert_feed(node, value, "compiled function")
            work[s:s + size] = np.ravel(value)
        self._run(self.tape, work)
        results = []
        for s, shape, (b, f) in zip(info.outputs, info.out_shapes, self._kinds):
            value = work[s:s + math.prod(shape)].reshape(shape)
            results.append(value != 0.0 if b else float(value) if f and shape == ()
                           else value.copy())
        return results[0] if self._single else results

    @property
    def source(self) -> str:
        """The tape, one instruction a line (``w3 = sin(w1)``), after the preset slots."""
        plan, info = self._plan, self._tape_info
        if info.loops:
            return _rows_text(self.tape, info)
        lines = [f"w{s} = input {describe(n)}" for s, n in zip(info.inputs, self.inputs)
                 if s >= 0]
        lines += [f"w{k} = {v!r}" for k, v in enumerate(info.template[:info.constants].tolist())]
        merged = set(info.merged)
        rows = iter(self.tape.tolist())
        order = range(len(plan.steps)) if info.order is None else info.order.tolist()
        second = [-1] * len(order) if info.second is None else info.second.tolist()
        for t, step in enumerate(order):
            if t + 1 in merged:
                continue  # written inside the next step's row
            _, out, *operands = next(rows)
            node = plan.nodes[plan.steps[step]]
            if second[t] >= 0:  # sin and cos of one operand: one row
                other = plan.nodes[second[t]].opdef.name
                lines.append(f"w{out}, w{operands[2]} = {node.opdef.name}(w{operands[0]}), "
                             f"{other}(w{operands[0]})")
                continue
            if t in merged:  # the previous step's text, then this step's other operand
                inner = plan.nodes[plan.steps[order[t - 1]]]
                k = len(inner.inputs)
                text = f"{inner.opdef.name}({', '.join(f'w{i}' for i in operands[:k])})"
                rest = [f"w{i}" for i in operands[k:k + len(node.inputs) - 1]]
                args = [text, *rest] if node.inputs[0].id == inner.id else [*rest, text]
            else:
                args = [f"w{i}" for i in operands[:len(node.inputs)]]
            lines.append(f"w{out} = {node.opdef.name}({', '.join(args)})")
        return "\n".join([*lines, f"return {', '.join(f'w{s}' for s in info.outputs)}"]) + "\n"


_NAMES = {v: k.lower() for k, v in globals().items() if k.isupper() and isinstance(v, int)
          and not k.startswith("_") and k not in ("AUTO_MIN_STEPS",)}


def _rows_text(code: np.ndarray, info: Tape) -> str:
    """A tape with loops, one row a line (``w3 = sin(w1, w0)``: every operand column)."""
    lines = [f"w{s} = input {k}" for k, s in enumerate(info.inputs)]
    for t, (op, out, a, b, c) in enumerate(code.tolist()):
        lines.append(f"{t}: w{out} = {_NAMES.get(op, op)}(w{a}, w{b}, {c})")
    return "\n".join([*lines, f"return {', '.join(f'w{s}' for s in info.outputs)}"]) + "\n"

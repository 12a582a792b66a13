"""The ``python`` backend (the default): a plan becomes straight-line Python source.

Owns: :class:`PythonBackend` and the generated functions. Each step of the plan (see
``symgraph.plan``; its steps are the rewritten outputs' ancestors in id order, constant
steps already folded) becomes one Python statement over local variables:

- *scalar* float64 nodes (shape ``()``) are plain Python floats in locals ``r0, r1...``
  reused once their value is dead (``r1 = x0 * x1``, ``r1 = _sin(r1)`` with
  ``math.sin``; outputs keep names like ``v12``). Where Python raises and NumPy would
  not (``log(-1)``, ``exp(1000)``, ``1/0``), the call is run again by the ``numpy``
  backend's interpreter, so NaN and inf come out as :func:`symgraph.evaluate` gives
  them (the same rerun names the node of a real error);
- *tensor* nodes call NumPy (``v5 = _np_add(v3, v4)``); a dead array made by an earlier
  ufunc, of the same shape and dtype and never viewed by another op, receives the result
  (``out=``); other arrays are deleted after their last use; ``scatter_add`` (made by
  compile's lowering rules) adds into its first operand's buffer where that dies;
- any other op (a user's op) is called generically, ``op.impl(*args, **attrs)``;
- a scalar used once is written into its reader (``v7 = _exp(-(v5 * v5))``).

Which statement an op gets is chosen in ``symgraph.backends.python_forms`` (tables keyed
by the op record). Every step computes what :func:`symgraph.evaluate` does, NaN, inf and
-0.0 included (to rounding): the scalar templates follow NumPy's rules (``maximum``
returns its second operand on a tie, ``sum(-0.0)`` is 0.0, ``x**0.5`` is ``sqrt``).

Liveness is the plan's: a value's readers (``plan.readers``) decide when its register or
list slot is reused, when an array is deleted, and which array may take a result. The
order is the plan's, except that array steps of inputs and constants alone run just
before their first reader, and array outputs as soon as their operands are ready
(``symgraph.backends.python_schedule``); a scalar that reads the last of an array is a
statement of its own, so the array is deleted at once. A run of elementwise steps over
large arrays of one shape is one loop over blocks that stay in cache
(``symgraph.backends.python_blocks``).

The argument checks are those of :func:`symgraph.evaluate` (``convert_feed``), skipped
only for what they would return unchanged: a Python float for a float64 scalar input,
an ndarray of the input's dtype and static shape for an array input.

Security: the source text is built from internal names only (``v12``, ``_c3``,
``_np_add``, ``_op2``) and integers derived from the graph's structure; constants,
impls, indices and shapes reach the code through its globals dict, never as text, and a
node's name is never written. So equal structures give equal source, and the compiled
code object is shared between them. One function holds up to ``_CHUNK`` statements
(CPython compiles and runs one long function faster than many small ones: values stay in
fast locals); beyond that, functions of ``_CHUNK`` statements pass live values through a
per-call list ``R``, whose indices are reused once their value is dead, so floats are
recycled while still in cache. The entry function has one parameter per input (no
``*args`` tuple): calls cost what a hand-written function's do.

Imports: ``symgraph.graph``, ``symgraph.errors``, ``symgraph.ops``, ``symgraph.plan``,
``symgraph.backends.base``, ``symgraph.backends.numpy``, ``symgraph.backends.python_forms``,
``symgraph.backends.python_schedule``, ``symgraph.backends.python_blocks``,
``symgraph.backends.recipe``.
"""

from __future__ import annotations

import bisect
import builtins
import functools
import re
import threading
from collections import Counter, OrderedDict
from types import CodeType
from typing import Any, ClassVar

import numpy as np

from symgraph.backends.base import Backend, Request, by_name, check_shape
from symgraph.backends.numpy import run
from symgraph.backends.python_blocks import Blocks
from symgraph.backends.python_forms import (BY_POSITION, COMPARE, GLOBALS, MATH, SCALAR,
                                            TENSOR_ATTR, Forms)
from symgraph.backends.python_schedule import sink
from symgraph.backends.recipe import Recipe, pickled
from symgraph.errors import SymgraphError
from symgraph.graph import Node
from symgraph.ops.core import describe
from symgraph.feeds import convert_feed
from symgraph.plan import builtin, plan_for

_CHUNK = 1 << 21  # statements per generated function (chunks only past 2 million)
_OPERAND = re.compile(r"\{(\d+)\}")
_CODE_CACHE_SIZE = 256  # code objects shared by graphs of the same structure
_CODE_CACHE_MAX_CHARS = 1 << 20
_INLINE_DEPTH = 12  # nesting of scalar expressions (CPython's parser has limits)
_F64 = np.dtype("float64")
_BOOL = np.dtype("bool")
_MISSING = GLOBALS["_M"] = object()  # the default of every parameter: not passed
_code_cache: OrderedDict[str, CodeType] = OrderedDict()
_code_lock = threading.Lock()


class PythonBackend(Backend):
    """Generated Python/NumPy source, specialised on static shapes and dtypes.

    Options: ``trust_input`` (arrays used as given, unchecked, by position only),
    ``python_scalars`` (float64 scalar outputs as Python floats), ``use_math`` (scalar
    functions from ``math``; False: NumPy's, equal to evaluate to the bit),
    ``assume_finite`` (see :func:`symgraph.compile`)."""

    name = "python"
    options: ClassVar[dict[str, Any]] = {"trust_input": False, "python_scalars": False,
                                         "use_math": True, "assume_finite": False}

    def compile(self, request: Request, **options: Any) -> Any:
        return _Builder(request, **options).build()


class _Builder(Forms, Blocks):
    """Names and emits the code of one compiled function, from its plan."""

    def __init__(self, request: Request, trust_input: bool, python_scalars: bool,
                 use_math: bool, assume_finite: bool):
        plan = request.plan
        self.outputs, self.computed = request.outputs, request.computed
        self.single, self.inputs = request.single, request.inputs
        self.trust, self.python_scalars, self.use_math = trust_input, python_scalars, use_math
        self.assume_finite = assume_finite
        self.impls = request.impls
        self.fed = plan.fed
        self.nodes, self.slot, self.args, self.steps = plan.nodes, plan.slot, plan.args, plan.steps
        self.uses = plan.readers  # step numbers reading each slot: the plan's liveness
        self.is_out = set(plan.outputs)
        self.input_pos = {self.slot[n.id]: k for k, n in enumerate(self.inputs)
                          if n.id in self.slot}
        self.globals: dict[str, Any] = dict(GLOBALS)
        self._named: dict[Any, str] = {}
        self._scalar_forms = {op: (t, None, False, False, True, False)
                              for op, t in SCALAR.items()}
        if use_math:
            self._scalar_forms.update((op, (t, None, False, False, True, False))
                                      for op, t in MATH.items())
        self.kind: list[str] = []  # F: Python float, B: Python bool, A: NumPy value
        self.role: list[str] = []  # in (fed), preset (a constant, maybe folded), step
        preset = dict(plan.preset)
        fed, kind, role, args = self.fed, self.kind, self.role, self.args
        for s, node in enumerate(self.nodes):
            dtype = node.dtype  # (float64 is one dtype object: "is" saves NumPy's __eq__)
            k = "F" if node.shape == () and (dtype is _F64 or dtype == _F64) else "A"
            if node.id in fed:
                role.append("in")
            elif s in preset:
                role.append("preset")
                value = preset[s]
                if node.shape == () and dtype == _BOOL:
                    k = "B"
                self.globals[f"_c{s}"] = float(value) if k == "F" else (
                    bool(value) if k == "B" else value)
            else:
                role.append("step")
                if (node.opdef in COMPARE and node.shape == () and dtype == _BOOL
                        and all(kind[i] == "F" for i in args[s])):
                    k = "B"
            kind.append(k)
        if "A" in kind and len(self.steps) <= _CHUNK:
            # array steps of inputs and constants alone run just before their first
            # reader (a weight decay's 2*lam*W after the backward matmuls, not before)
            self.steps, self.uses = sink(
                self.steps, args, self.uses, [k == "A" and r == "step" for k, r in
                                              zip(kind, role)], [r != "step" for r in role])
        self.position = {s: t for t, s in enumerate(self.steps)}

    # --- emitting -------------------------------------------------------------------------
    def _form(self, s: int) -> tuple:
        """A user's op is called generically, ``f(args)``: its result is checked against
        its declared shape (symgraph's own ops are tested against theirs)."""
        form = super()._form(s)
        node = self.nodes[s]
        if builtin(node.opdef):
            return form
        self.globals[f"_shape{s}"] = functools.partial(check_shape, node)
        return (f"_shape{s}({form[0]})", *form[1:])

    def build(self) -> Any:
        nodes, steps = self.nodes, self.steps
        self.forms: dict[int, tuple] = {}
        self.scatters: dict[int, tuple] = {}
        self.adds: dict[int, tuple] = {}
        for s in steps:  # (in order: a form may look at its operands' forms)
            self.forms[s] = self._form(s)
        self.numpy = any(f[2] and self.nodes[s].opdef not in TENSOR_ATTR
                         for s, f in self.forms.items())
        chunks = [steps[k:k + _CHUNK] for k in range(0, len(steps), _CHUNK)]
        self.multi = len(chunks) > 1
        self.plan_blocks()
        if self.steps is not steps:  # (reordered: forms that look at positions again)
            steps = self.steps
            chunks = [steps]
            for s in steps:
                if nodes[s].opdef in BY_POSITION:
                    self.adds.pop(s, None)
                    self.forms[s] = self._form(s)
        self.names = [self._name(i) for i in range(len(nodes))]
        self.arrays = "A" in self.kind  # (big scalar graphs skip the arrays' bookkeeping)
        # per template, whether operand j appears exactly once in it (it may then be
        # written in place, as an R read or a whole inlined expression)
        self.once = {t: {int(j): n == 1 for j, n in Counter(
            _OPERAND.findall(t)).items()} for t in {f[0] for f in self.forms.values()}}
        if self.multi:
            self._allocate_r(chunks)
            parts = [self._chunk(c, chunk) for c, chunk in enumerate(chunks)]
        else:
            parts = []
            self.body = self._lines(steps, 0) if steps else []
        parts.append(self._entry())
        source = "\n".join(parts) + "\n"
        self.globals["_slow"] = functools.partial(
            _rerun, tuple(self.computed), self.fed, tuple(self.inputs), self.single,
            self.python_scalars, self.impls)
        recipe = Recipe(self.outputs, self.inputs, self.single, "python", {
            "trust_input": self.trust, "python_scalars": self.python_scalars,
            "use_math": self.use_math, "assume_finite": self.assume_finite})
        self.globals["_arity"] = functools.partial(_arity, tuple(self.inputs), recipe)
        for k, node in enumerate(self.inputs):
            self.globals[f"_in{k}"] = functools.partial(
                _scalar_feed if node.shape == () and node.dtype == _F64 else _feed, node)
        exec(_code(source), self.globals)  # noqa: S102 - our own source, see the docstring
        entry = self.globals["_entry"]
        entry.__doc__ = (f"symgraph compiled function: {len(self.inputs)} inputs, "
                         f"{len(self.outputs)} outputs, {len(steps)} steps (see .source)")
        entry.source = source
        entry.inputs = tuple(self.inputs)
        entry.outputs = tuple(self.outputs)
        entry.computed = tuple(self.computed)
        fn = recipe._entry = Compiled(entry)
        fn.recipe = recipe
        return fn

    def _allocate_r(self, chunks: list[list[int]]) -> None:
        """An index of the per-call list R for each value read by a later chunk (inputs
        are defined in chunk -1, outputs read after the last one). An index is reused by
        a value defined after the last chunk that read its previous value: R stays as
        short as the values live at once, and overwriting frees the dead float, which
        the next one reuses (memory stays in cache: 2x faster calls at 1e5 nodes)."""
        chunk_of = {s: t // _CHUNK for t, s in enumerate(self.steps)}
        self.rindex: dict[int, int] = {}
        self.last_chunk: dict[int, int] = {}
        release: dict[int, list[int]] = {}  # chunk -> indices free after it
        free: list[int] = []
        done = -2  # releases of chunks up to this one are in free
        size = 0
        values = [s for s, role in enumerate(self.role) if role == "in"]
        values += [s for s in self.steps]
        for s in values:
            d = chunk_of.get(s, -1)
            uses = self.uses[s]  # sorted
            last = len(chunks) if s in self.is_out else uses[-1] // _CHUNK if uses else d
            if last <= d:
                continue
            while done < d - 1:
                done += 1
                free.extend(release.pop(done, ()))
            if free:
                index = free.pop()
            else:
                index, size = size, size + 1
            self.rindex[s] = index
            self.last_chunk[s] = last
            release.setdefault(last, []).append(index)
        self.rsize = size

    def _name(self, i: int) -> str:
        if self.role[i] == "preset":
            return f"_c{i}"
        if self.role[i] == "in" and not self.multi:
            return f"x{self.input_pos[i]}"
        return f"v{i}"

    def _lines(self, chunk: list[int], first: int, imported: dict | None = None) -> list[str]:
        """The statements of ``chunk`` (steps numbered from ``first``). In a chunk
        function, a scalar read once from R is read in place (``_sin(R[4])``), other
        scalars are read into a local just before their first reader, arrays are listed
        in ``imported`` (read into locals first), and a result only later chunks read
        goes straight to R (fewer statements: CPython compiles faster).

        Scalars live in registers ``r0, r1...``, reused once their value is dead: a
        function has few locals (no EXTENDED_ARG, small frames) and dead floats are
        freed at once, so the next ones reuse memory that is still in cache."""
        nodes, kind, lines, names, uses = self.nodes, self.kind, [], self.names, self.uses
        last = first + len(chunk) - 1
        defined = set(chunk)
        multi, role, arrays = self.multi, self.role, self.arrays
        once = self.once
        local: dict[int, str] = {}  # scalar slot -> its register
        free: list[str] = []
        count = 0
        # scalars written into their one reader, with the registers their text reads:
        # a register is free once its value is dead and no pending text reads it
        pending: dict[int, tuple[str, int, list[str], list[int]]] = {}
        holds: dict[str, int] = {}
        dead: set[str] = set()

        def last_use(i: int) -> int:
            return uses[i][bisect.bisect_right(uses[i], last) - 1]

        def read_once(i: int) -> bool:  # by one step of this chunk
            return bisect.bisect_right(uses[i], last) - bisect.bisect_left(uses[i], first) == 1

        for t, s in enumerate(chunk, first):
            if s in self.in_block:  # (a run of elementwise steps, written as one loop)
                if t in self.blocks:
                    lines += self.block_lines(t)
                continue
            node = nodes[s]
            template, pre, numpy, out_ok, raw_ok, _ = self.forms[s]
            ins = self.args[s]
            ops = []
            depth = 0
            inherited: list[str] = []  # held by the pending texts this one takes in
            arrays_read: list[int] = []  # arrays its text reads (its own, its pending texts')
            reads: list[str] = []
            for j, i in enumerate(ins):
                if i in pending:
                    inner, d, held, arrays_held = pending.pop(i)
                    arrays_read += arrays_held
                    expr, depth = f"({inner})", max(depth, d)
                    inherited += held
                elif i in local:
                    expr = local[i]
                    reads.append(expr)
                elif multi and i not in defined and role[i] != "preset":
                    if kind[i] == "A":
                        imported[i] = None
                        expr = names[i]
                    elif pre is None and once[template].get(j) and read_once(i):
                        expr = f"R[{self.rindex[i]}]"
                    else:  # read into a register just before its first reader
                        if free:
                            expr = free.pop()
                        else:
                            expr, count = f"r{count}", count + 1
                        local[i] = expr
                        reads.append(expr)
                        lines.append(f"{expr} = R[{self.rindex[i]}]")
                else:
                    expr = names[i]
                if numpy and kind[i] == "F" and not raw_ok:
                    expr = f"_f64({expr})"
                elif numpy and kind[i] == "B":
                    expr = f"_np_bool({expr})"
                elif not numpy and raw_ok and kind[i] != "F":
                    expr = f"float({expr})"
                ops.append(expr)
            for i in dict.fromkeys(ins):
                if i in local and last_use(i) == t:
                    dead.add(local.pop(i))
            # operands read for the last time here (within this function)
            # (only arrays matter: they get deleted or overwritten with out=)
            dying = [i for i in dict.fromkeys(ins) if kind[i] == "A" and last_use(i) == t
                     ] if arrays else ()
            expr = template.format(*ops)
            if numpy and kind[s] == "F":
                expr = f"float({expr})"  # F values are Python floats, not NumPy's
            if out_ok and kind[s] == "A":
                target = self._buffer(t, node, dying)
                if target is not None:
                    expr = f"{expr[:-1]}, out={self._name(target)})"
            # (inputs stay: the rerun after an exception needs them)
            def deleted(i: int) -> bool:
                return bool(nodes[i].shape) and role[i] != "preset" and (
                    multi or (role[i] == "step" and i not in self.is_out))
            dels = [i for i in dying if deleted(i)]
            arrays_read += [i for i in ins if kind[i] == "A" and deleted(i)]
            # a step that frees an array is a statement of its own: in its reader's text
            # the array would live on to the end of the call
            # (and an array it reads must live until its reader, where the text is written)
            if (depth < _INLINE_DEPTH and len(uses[s]) == 1 and not dels
                    and self._inline(s, last)
                    and all(last_use(i) >= uses[s][0] for i in arrays_read)):
                for reg in reads:
                    holds[reg] = holds.get(reg, 0) + 1
                pending[s] = (expr, depth + 1, inherited + reads, arrays_read)
                continue
            if pre:
                lines.append(pre.format(*ops))
            for reg in inherited:
                holds[reg] -= 1
            # the statement reads its registers before it writes its target
            for reg in dict.fromkeys(inherited + reads):
                if reg in dead and not holds.get(reg):
                    dead.discard(reg)
                    free.append(reg)
            after = bisect.bisect_right(uses[s], t)
            read_here = after < len(uses[s]) and uses[s][after] <= last
            if kind[s] != "A" and read_here and (multi or s not in self.is_out):
                if free:
                    target = free.pop()
                else:
                    target, count = f"r{count}", count + 1
                local[s] = target
            else:
                target = names[s]
            if multi and s in self.rindex:
                if read_here:
                    lines.append(f"R[{self.rindex[s]}] = {target} = {expr}")
                else:  # no reader in this chunk
                    lines.append(f"R[{self.rindex[s]}] = {expr}")
            else:
                lines.append(f"{target} = {expr}")
            lines += [f"del {self._name(i)}" for i in dels]
        return lines

    def _inline(self, s: int, last: int) -> bool:
        """Whether scalar step ``s`` is best written inside its only reader, as in
        ``v7 = _exp(-(v5 * v5))``: saves a store and a load, and compile time."""
        uses = self.uses[s]
        if (self.kind[s] == "A" or len(uses) != 1 or uses[0] > last or s in self.is_out
                or self.forms[s][1] is not None or (self.multi and s in self.rindex)):
            return False
        reader = self.steps[uses[0]]
        template, pre = self.forms[reader][:2]
        ins = self.args[reader]
        places = [j for j, i in enumerate(ins) if i == s]
        return pre is None and len(places) == 1 and self.once[template].get(places[0], False)

    def _buffer(self, t: int, node: Node, dying: list[int]) -> int | None:
        """A dying operand whose array can hold this step's result: made by a ufunc step,
        not an output, of the result's static shape and dtype, read only by ops whose
        results are new arrays (so no view of it survives), for the last time here."""
        if node.dtype.kind != "f" or not node.shape or None in node.shape:
            return None
        for i in dying:
            other = self.nodes[i]
            if (self.role[i] == "step" and self.forms[i][5] and i not in self.is_out
                    and other.shape == node.shape and other.dtype == node.dtype
                    and self.uses[i][-1] == t
                    and all(self._no_alias(self.steps[u]) for u in self.uses[i])):
                return i
        return None

    def _chunk(self, c: int, chunk: list[int]) -> str:
        """One chunk as a function of R: read what earlier chunks left, write what later
        chunks (or the caller) need, clear arrays nobody reads any more."""
        imported: dict[int, None] = {}
        lines = self._lines(chunk, c * _CHUNK, imported)
        head = [f"v{i} = R[{self.rindex[i]}]" for i in imported]  # the arrays
        clear = [f"R[{self.rindex[i]}] = None" for i in imported
                 if self.last_chunk[i] == c and self.kind[i] == "A" and self.nodes[i].shape]
        body = head + lines + clear
        return "\n".join([f"def _chunk{c}(R):", *("    " + line for line in body)])

    def _entry(self) -> str:
        n = len(self.inputs)
        xs = [f"x{k}" for k in range(n)]
        # Named parameters (no *args tuple to unpack): a missing argument is the sentinel
        # _M in the last one, extra ones land in _e; both cost two checks per call.
        # (_k: arguments by name, f(x=1.0)). trust_input promises the arguments too: a
        # plain positional signature, whose call costs 37 ns less (Python's TypeError
        # for a wrong count; no arguments by name).
        if self.trust:
            lines = [f"def _entry({', '.join([*xs, '/'])}):" if n else "def _entry():"]
        elif n:
            lines = [f"def _entry({'=_M, '.join(xs)}=_M, /, *_e, **_k):",
                     f"    if _e or _k or x{n - 1} is _M:",
                     f"        return _arity(({', '.join(xs)},) + _e, _k)"]
        else:
            lines = ["def _entry(*_e, **_k):", "    if _e or _k:",
                     "        return _arity(_e, _k)"]
        if not self.trust:
            for k, node in enumerate(self.inputs):
                if node.shape == () and node.dtype == _F64:
                    lines.append(f"    if type(x{k}) is not float:")
                    lines.append(f"        x{k} = _in{k}(x{k})")
                elif node.shape is not None and None not in node.shape:
                    # an array of the input's dtype and shape is used as it is, as the
                    # full check (_in) would return it; anything else gets that check
                    self.globals[f"_dt{k}"], self.globals[f"_sh{k}"] = node.dtype, node.shape
                    lines.append(f"    if type(x{k}) is not _ndarray or x{k}.dtype is not "
                                 f"_dt{k} or x{k}.shape != _sh{k}:")
                    lines.append(f"        x{k} = _in{k}(x{k})")
                else:
                    lines.append(f"    x{k} = _in{k}(x{k})")
        if self.multi:
            body = [f"R = [None] * {self.rsize}"]
            body += [f"R[{self.rindex[i]}] = x{self.input_pos[i]}"
                     for i in range(len(self.nodes)) if self.role[i] == "in" and i in self.rindex]
            body += [f"_chunk{c}(R)" for c in range(-(-len(self.steps) // _CHUNK))]
        else:
            body = self.body
        if not body:
            body = ["pass"]
        if self.numpy:
            body = ["with _errstate(all='ignore'):", *("    " + line for line in body)]
        lines += ["    try:", *("        " + line for line in body),
                  "    except Exception:",
                  f"        return _slow({', '.join(xs)})"]
        results = []
        for node, asked in zip(self.computed, self.outputs):
            i = self.slot[node.id]
            value = f"R[{self.rindex[i]}]" if self.multi and self.role[i] != "preset" \
                else self._name(i)
            if self.python_scalars and self.kind[i] == "F":
                pass  # a Python float
            elif self.role[i] == "in" and node is not asked:
                # a rewrite made an input the result (x * 1.0 -> x): a new array, as
                # evaluate's, so that writing into it leaves the caller's input alone
                value = f"_copy({value})"
            else:
                value = f"_asarray({value})"
            results.append(value)
        lines.append(f"    return {results[0]}" if self.single
                     else f"    return [{', '.join(results)}]")
        return "\n".join(lines)


class Compiled(functools.partial):
    """A generated function as ``sg.compile`` returns it: called as the function itself
    (a C-level partial, no Python frame more), its attributes (``source``, ``inputs``,
    ``__code__``...) read through to it, pickled as its :class:`symgraph.backends.recipe.Recipe`
    (the graph's JSON, compiled again when loaded; never code)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.func, name)

    __reduce__ = pickled


def _code(source: str) -> CodeType:
    """The code object of ``source``, shared by every graph of the same structure."""
    with _code_lock:
        code = _code_cache.get(source)
        if code is not None:
            _code_cache.move_to_end(source)
            return code
    code = builtins.compile(source, "<symgraph compiled>", "exec")
    if len(source) > _CODE_CACHE_MAX_CHARS:
        return code  # a one-off giant: keeping it would hold much memory for little gain
    with _code_lock:
        code = _code_cache.setdefault(source, code)
        if len(_code_cache) > _CODE_CACHE_SIZE:
            _code_cache.popitem(last=False)
    return code




def _feed(node: Node, value: Any) -> np.ndarray:
    return convert_feed(node, value, "compiled function")


def _scalar_feed(node: Node, value: Any) -> float:
    return float(convert_feed(node, value, "compiled function"))


def _rerun(outputs: tuple, fed: frozenset, inputs: tuple, single: bool,
           python_scalars: bool, impls: dict, *values: Any) -> Any:
    """The interpreter's answer, when the generated code raised: NumPy's nan and inf
    where ``math`` or ``/`` raised, or an error naming the node that failed (the user
    ops' functions the code calls, ``impls``, are called here too)."""
    feeds = {n.id: convert_feed(n, v, "compiled function") for n, v in zip(inputs, values)}
    results = run(plan_for(list(outputs), fed), feeds, impls=impls)
    if python_scalars:  # as the generated code returns them
        results = [float(r) if n.shape == () and n.dtype == _F64 else r
                   for r, n in zip(results, outputs)]
    return results[0] if single else results


def _arity(inputs: tuple, recipe: Recipe, args: tuple, names: dict) -> Any:
    """A call with arguments by name (``f(x=1.0)``) or of the wrong number."""
    args = tuple(a for a in args if a is not _MISSING)
    if names:
        return recipe._entry(*by_name(inputs, args, names))
    listed = ", ".join(describe(n) for n in inputs) or "none"
    raise SymgraphError(
        f"this compiled function takes {len(inputs)} arrays (inputs: {listed}), got "
        f"{len(args)}; pass one array per input, in the order given to sg.compile, or "
        "by name")

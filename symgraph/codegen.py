"""Code generation: :func:`compile` turns the needed subgraph into straight-line Python.

Owns: ``sg.compile`` and the generated functions. The outputs are first simplified
(``sg.simplify``); their ancestors (in id order, which is topological) then become one
Python statement each, over local variables:

- *scalar* float64 nodes (shape ``()``) are plain Python floats: ``v3 = v1 * v2``,
  ``v4 = _sin(v3)`` (``math.sin``). Where Python raises and NumPy would not (``log(-1)``,
  ``exp(1000)``, ``1/0``), the call is run again by the interpreter of
  :mod:`symgraph.engine` with the ops' own NumPy rules, so NaN and inf come out as
  :func:`symgraph.evaluate` gives them (the same rerun names the node of a real error);
- *tensor* nodes call NumPy (``v5 = _np_add(v3, v4)``); a dead array made by an earlier
  ufunc, of the same shape and dtype and never viewed by another op, receives the result
  (``out=``); other arrays are deleted after their last use;
- any other op (a user's op) is called generically, ``op.impl(*args, **attrs)``;
- steps whose inputs are all constants are computed once, at compile time; a scalar used
  once is written into its reader (``v7 = _exp(-(v5 * v5))``).

Security: the source text is built from internal names only (``v12``, ``_c3``,
``_np_add``, ``_op2``) and integers derived from the graph's structure; constants,
impls, indices and shapes reach the code through its globals dict, never as text, and a
node's name is never written. So equal structures give equal source, and the compiled
code object is shared between them. Large graphs are split into functions of ``_CHUNK``
statements that pass live values through a per-call list ``R`` (CPython compiles one
huge function slowly).

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.engine``; ``symgraph.rewrite``
when compiling (late, as it imports much of the package).
"""

from __future__ import annotations

import bisect
import builtins
import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from types import CodeType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from symgraph.engine import _outputs, _plan, _resolve, convert_feed
from symgraph.graph import MissingFeedError, Node, SymgraphError, ancestors
from symgraph.ops.core import OPS, describe
from symgraph.ops.shape import numpy_index

__all__ = ["CompiledFunction", "compile"]

_CHUNK = 1000  # statements per generated function
_CODE_CACHE_SIZE = 256  # code objects shared by graphs of the same structure
_CODE_CACHE_MAX_CHARS = 1 << 20
_FOLD_MAX_SIZE = 1 << 16  # constant steps are computed at compile time up to this size
_INLINE_DEPTH = 12  # nesting of scalar expressions (CPython's parser has limits)
# sg.simplify currently takes time quadratic in the length of a chain of products
# (collect-terms: 30 s for a 30,000-node chain, 1.2 s for a 1,000-node random DAG), so
# bigger graphs are compiled as built, to compile in seconds. Raise once that is linear.
_SIMPLIFY_MAX_NODES = 1000
_F64 = np.dtype("float64")
_BOOL = np.dtype("bool")
_BUILTIN = dict(OPS)  # symgraph's own ops (users' ops are registered after this import)

# Scalar float64 statements; {0}, {1}... are operands. IEEE arithmetic equals NumPy's.
_SCALAR = {
    "add": "{0} + {1}",
    "subtract": "{0} - {1}",
    "multiply": "{0} * {1}",
    "divide": "{0} / {1}",  # x/0 raises ZeroDivisionError: the rerun gives NumPy's inf/nan
    "negative": "-{0}",
    "square": "{0} * {0}",
    "abs": "abs({0})",
    # NaN in either operand wins, as in NumPy's maximum/minimum loops
    "maximum": "{0} if {0} >= {1} or {0} != {0} else {1}",
    "minimum": "{0} if {0} <= {1} or {0} != {0} else {1}",
    "relu": "{0} if {0} >= 0.0 or {0} != {0} else 0.0",
    "sign": "1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0 if {0} == 0.0 else {0}",
    "stop_gradient": "{0}",
    "sum": "{0}",
    "mean": "{0}",
    "max": "{0}",
}
# Python's math: it raises (ValueError, OverflowError) where NumPy returns nan or inf, and
# the rerun then gives NumPy's value. Off with use_math=False.
_MATH = {
    "exp": "_exp({0})", "log": "_log({0})", "sin": "_sin({0})", "cos": "_cos({0})",
    "tan": "_tan({0})", "tanh": "_tanh({0})", "sqrt": "_sqrt({0})", "log1p": "_log1p({0})",
    "expm1": "_expm1({0})", "power": "_pow({0}, {1})",
    # NumPy's logaddexp(0, x), branch for branch
    "softplus": "_LN2 if {0} == 0.0 else _log1p(_exp({0})) if {0} < 0.0 else "
                "{0} + _log1p(_exp(-{0})) if {0} > 0.0 else {0}",
    # the NumPy rule: t = exp(-|x|), then 1/(1+t) or t/(1+t)
    "sigmoid": "1.0 / (1.0 + t) if {0} >= 0.0 else t / (1.0 + t)",
}
_PRE = {"sigmoid": "t = _exp(-abs({0}))"}
_COMPARE = {"less": "{0} < {1}", "less_equal": "{0} <= {1}", "greater": "{0} > {1}",
            "greater_equal": "{0} >= {1}", "not_equal": "{0} != {1}"}
# Tensor statements for ops whose impl is a lambda; their results are new arrays.
_TENSOR = {"power": "_np_power({0}, {1})", "relu": "_np_maximum({0}, 0.0)",
           "softplus": "_np_logaddexp(0.0, {0})"}
# Ops with static attributes written as a call; {k} is the attribute (a global).
_TENSOR_ATTR = {"getitem": ("{0}[{k}]", lambda a: numpy_index(a["index"])),
                "transpose": ("_np_transpose({0}, {k})", lambda a: a["axes"]),
                "expand_dims": ("_np_expand_dims({0}, {k})", lambda a: a["axis"]),
                "reshape": ("_np_reshape({0}, {k})", lambda a: a["shape"]),
                "broadcast_to": ("_np_broadcast_to({0}, {k})", lambda a: a["shape"])}
# Ops whose result never shares memory with an input (besides ufuncs), so an input that
# dies at them may later be overwritten with out=.
_NO_ALIAS = {"sum", "mean", "max", "where", "sigmoid", "softmax", "log_softmax", "logsumexp",
             "power", "relu", "softplus", "cast", "concatenate", "stack", "scatter",
             "first_max_mask"}
_GLOBALS = {
    "_exp": math.exp, "_log": math.log, "_sin": math.sin, "_cos": math.cos, "_tan": math.tan,
    "_tanh": math.tanh, "_sqrt": math.sqrt, "_log1p": math.log1p, "_expm1": math.expm1,
    "_pow": math.pow, "_LN2": math.log(2.0), "_asarray": np.asarray, "_f64": np.float64,
    "_np_bool": np.bool_, "_errstate": np.errstate, "_np_power": np.power,
    "_np_maximum": np.maximum, "_np_logaddexp": np.logaddexp,
    "_np_transpose": np.transpose, "_np_expand_dims": np.expand_dims,
    "_np_reshape": np.reshape, "_np_broadcast_to": np.broadcast_to,
    "__builtins__": builtins,
}
_code_cache: OrderedDict[str, CodeType] = OrderedDict()
_code_lock = threading.Lock()


@runtime_checkable
class CompiledFunction(Protocol):
    """What :func:`compile` returns: a plain Python function ``f(*arrays)`` with
    ``f.source`` (the generated code), ``f.inputs`` and ``f.outputs`` (the nodes asked
    for; ``f.computed`` holds the simplified nodes the code computes).

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


def compile(outputs: Node | Sequence[Node], inputs: Any, *, trust_input: bool = False,  # noqa: A001
            python_scalars: bool = False, use_math: bool = True) -> CompiledFunction:
    """A function ``f(*arrays)`` computing ``outputs`` from ``inputs`` (nodes or names, in
    that order); it returns what :func:`evaluate` would (a list for a list of outputs).

    The outputs are simplified first (``sg.simplify``). The function is generated Python
    source, specialised on static shapes and dtypes (see ``f.source``), and cached:
    compiling the same outputs and inputs again returns the same function, and graphs of
    the same structure share one code object. Calls are thread-safe. For the fastest
    calls:

    - ``trust_input=True``: the arrays are used as given, unchecked (the caller promises
      the inputs' dtypes and shapes; Python floats for float64 scalars).
    - ``python_scalars=True``: float64 scalar outputs are Python floats, not 0-d arrays.
    - ``use_math=False``: scalar functions use NumPy instead of ``math`` (slower; results
      equal :func:`evaluate` to the bit, where ``math`` may differ in the last digit).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x * x
    ...     f = sg.compile([y, sg.grad(y, x)], [x])
    >>> [float(v) for v in f(3.0)]
    [9.0, 6.0]
    >>> print(f.source.splitlines()[-1].strip())
    return [_asarray(v1), _asarray(v3)]
    """
    nodes, single = _outputs(outputs, "sg.compile")
    graph = nodes[0].graph
    if isinstance(inputs, (Node, str)):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise SymgraphError("sg.compile: inputs must be a list of nodes (or of their names)")
    ins = [_resolve(k, graph, "sg.compile") for k in inputs]
    if len({n.id for n in ins}) != len(ins):
        raise SymgraphError("sg.compile: an input is listed twice; list each input once")
    options = (bool(trust_input), bool(python_scalars), bool(use_math))
    key = ("codegen", tuple(n.id for n in nodes), single, tuple(n.id for n in ins), options)
    fn = graph.cache.get(key)
    if fn is None:
        computed, needed = _prepare(nodes, ins)
        fn = _Builder(nodes, computed, needed, single, ins, *options).build()
        graph.cache[key] = fn
    return fn


def _prepare(outputs: list[Node], inputs: list[Node]) -> tuple[list[Node], list[Node]]:
    """The nodes to compute (the simplified outputs, checked first: evaluate's errors)
    and their ancestors."""
    fed = frozenset(n.id for n in inputs)
    needed = ancestors(outputs, stop=fed)
    missing = [n for n in needed if n.op == "var" and n.id not in fed]
    if missing:
        names = ", ".join(describe(n) for n in missing)
        raise MissingFeedError(
            f"sg.compile: {names} {'is' if len(missing) == 1 else 'are'} needed but not "
            f"among the inputs; add {'it' if len(missing) == 1 else 'them'} to inputs",
            missing)
    if len(needed) > _SIMPLIFY_MAX_NODES:
        return list(outputs), needed  # see _SIMPLIFY_MAX_NODES
    from symgraph.rewrite import simplify  # imported late: rewrite imports much of symgraph

    try:
        simplified = simplify(list(outputs))
    except NotImplementedError:  # rewrites not available: compile the graph as built
        return list(outputs), needed
    # A rewrite may see through an intermediate node listed as an input (feeding it
    # replaces its ancestors): then the simplified graph would need unfed inputs.
    after = ancestors(simplified, stop=fed)
    if any(n.op == "var" and n.id not in fed for n in after):
        return list(outputs), needed
    return list(simplified), after


class _Builder:
    """Plans, names and emits the code of one compiled function."""

    def __init__(self, outputs: list[Node], computed: list[Node], nodes: list[Node],
                 single: bool, inputs: list[Node], trust: bool, python_scalars: bool,
                 use_math: bool):
        self.outputs, self.computed, self.single, self.inputs = outputs, computed, single, inputs
        self.trust, self.python_scalars, self.use_math = trust, python_scalars, use_math
        self.fed = frozenset(n.id for n in inputs)
        self.nodes = nodes  # the ancestors of computed, in id order
        self.slot = {n.id: i for i, n in enumerate(nodes)}
        self.input_pos = {self.slot[n.id]: k for k, n in enumerate(inputs) if n.id in self.slot}
        self.globals: dict[str, Any] = dict(_GLOBALS)
        self._named: dict[Any, str] = {}
        self.kind: list[str] = []  # F: Python float, B: Python bool, A: NumPy value
        self.role: list[str] = []  # in, const, step
        self.steps: list[int] = []  # slots of computed nodes, in order
        self.folded: list[np.ndarray] = []
        slot = self.slot
        # the operands' slots of every node (read by every pass below)
        self.args = [[] if node.id in self.fed else [slot[i.id] for i in node.inputs]
                     for node in nodes]
        for s, node in enumerate(nodes):
            self._classify(s, node)

    # --- planning ---------------------------------------------------------------------------
    def _classify(self, s: int, node: Node) -> None:
        scalar_f64 = node.shape == () and node.dtype == _F64
        kind = "F" if scalar_f64 else "A"
        if node.id in self.fed:
            self.role.append("in")
        elif node.op == "const" or self._fold(s, node):
            self.role.append("const")
            value = node.attrs["value"] if node.op == "const" else self.folded.pop()
            if node.shape == () and node.dtype == _BOOL:
                kind = "B"
            self.globals[f"_c{s}"] = float(value) if kind == "F" else (
                bool(value) if kind == "B" else value)
        else:
            self.role.append("step")
            self.steps.append(s)
            if (node.shape == () and node.dtype == _BOOL and node.op in _COMPARE
                    and self._builtin(node)
                    and all(self.kind[i] == "F" for i in self.args[s])):
                kind = "B"
        self.kind.append(kind)

    def _fold(self, s: int, node: Node) -> bool:
        """Compute a step of constants now (symgraph's own ops only: a user's may be
        impure), keeping its value in ``self.folded``."""
        if not node.inputs or not self._builtin(node) or None in node.shape:
            return False
        if any(self.role[i] != "const" for i in self.args[s]):
            return False
        if math.prod(node.shape) > _FOLD_MAX_SIZE:
            return False
        args = [self.globals[f"_c{i}"] for i in self.args[s]]
        try:
            with np.errstate(all="ignore"):
                value = np.asarray(node.opdef.impl(*[np.asarray(a, dtype=i.dtype) for a, i in
                                                     zip(args, node.inputs)], **node.attrs))
        except Exception:  # noqa: BLE001 - then it fails at call time, as evaluate would
            return False
        if value.shape != node.shape or value.dtype != node.dtype:
            return False
        if value.flags.writeable:
            value.setflags(write=False)  # shared by every call
        self.folded.append(value)
        return True

    @staticmethod
    def _builtin(node: Node) -> bool:
        return _BUILTIN.get(node.op) is node.opdef

    def _global(self, obj: Any, key: Any) -> str:
        """The name under which the code sees ``obj`` (one name per ``key``)."""
        name = self._named.get(key)
        if name is None:
            name = self._named[key] = f"_op{len(self._named)}"
            self.globals[name] = obj
        return name

    def _form(self, s: int) -> tuple[str, str | None, bool, bool, bool, bool]:
        """How step ``s`` is written: (template, pre-statement, calls NumPy?, accepts
        out=?, takes Python floats as they are (NumPy) or makes ints floats (Python)?,
        result is a new array?)."""
        node = self.nodes[s]
        name, builtin = node.op, self._builtin(node)
        kinds = [self.kind[i] for i in self.args[s]]
        if builtin and self.kind[s] == "B":
            return _COMPARE[name], None, False, False, False, False
        if builtin and self.kind[s] == "F":
            # integer and boolean scalars join as floats, as NumPy converts them
            if all(k == "F" or (i.shape == () and i.dtype.kind in "biu")
                   for k, i in zip(kinds, node.inputs)):
                if name in _SCALAR and (name not in ("sum", "mean", "max")
                                        or node.inputs[0].shape == ()):
                    return _SCALAR[name], None, False, False, True, False
                if self.use_math and name in _MATH:
                    return _MATH[name], _PRE.get(name), False, False, True, False
        if (builtin and name == "where" and node.shape == ()
                and node.inputs[1].dtype == node.inputs[2].dtype == node.dtype):
            return "{1} if {0} else {2}", None, False, False, False, False
        impl = node.opdef.impl
        args = ", ".join(f"{{{j}}}" for j in range(len(node.inputs)))
        all_f64 = all(i.dtype == _F64 for i in node.inputs)
        if builtin and name in _TENSOR:
            return _TENSOR[name], None, True, True, all_f64, True
        if builtin and name in _TENSOR_ATTR and len(node.inputs) == 1:
            template, attr = _TENSOR_ATTR[name]
            self.globals[f"_k{s}"] = attr(node.attrs)
            return template.replace("{k}", f"_k{s}"), None, True, False, False, False
        if isinstance(impl, np.ufunc) and not node.attrs:
            np_name = getattr(impl, "__name__", "")
            if builtin and np_name.isidentifier() and getattr(np, np_name, None) is impl:
                fname = f"_np_{np_name}"
                self.globals[fname] = impl
            else:
                fname = self._global(impl, ("ufunc", id(impl)))
            elementwise = impl.signature is None
            return f"{fname}({args})", None, True, elementwise, all_f64, builtin
        if node.attrs:
            fname = self._global(functools.partial(impl, **node.attrs), ("attrs", s))
        else:
            fname = self._global(impl, ("impl", id(impl)))
        return f"{fname}({args})", None, True, False, False, False

    def _no_alias(self, s: int) -> bool:
        """Whether step ``s``'s result never shares memory with its inputs."""
        node = self.nodes[s]
        if not self._builtin(node):
            return False
        return node.op in _NO_ALIAS or isinstance(node.opdef.impl, np.ufunc)

    # --- emitting -------------------------------------------------------------------------
    def build(self) -> CompiledFunction:
        nodes, steps = self.nodes, self.steps
        self.forms = {s: self._form(s) for s in steps}
        self.is_out = {self.slot[n.id] for n in self.computed}
        self.uses: list[list[int]] = [[] for _ in nodes]  # step numbers reading each slot
        for t, s in enumerate(steps):
            for i in dict.fromkeys(self.args[s]):
                self.uses[i].append(t)
        self.numpy = any(f[2] and self.nodes[s].op not in _TENSOR_ATTR
                         for s, f in self.forms.items())
        chunks = [steps[k:k + _CHUNK] for k in range(0, len(steps), _CHUNK)]
        self.multi = len(chunks) > 1
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
            self.python_scalars)
        self.globals["_arity"] = functools.partial(_bad_arity, tuple(self.inputs))
        for k, node in enumerate(self.inputs):
            self.globals[f"_in{k}"] = functools.partial(
                _scalar_feed if node.shape == () and node.dtype == _F64 else _feed, node)
        exec(_code(source), self.globals)  # noqa: S102 - our own source, see the docstring
        fn = self.globals["_entry"]
        fn.__doc__ = (f"symgraph compiled function: {len(self.inputs)} inputs, "
                      f"{len(self.outputs)} outputs, {len(steps)} steps (see .source)")
        fn.source = source
        fn.inputs = tuple(self.inputs)
        fn.outputs = tuple(self.outputs)
        fn.computed = tuple(self.computed)
        return fn

    def _allocate_r(self, chunks: list[list[int]]) -> None:
        """An index of the per-call list R for each value read by a later chunk (inputs
        are defined in chunk -1, outputs read after the last one)."""
        chunk_of = {s: t // _CHUNK for t, s in enumerate(self.steps)}
        self.rindex: dict[int, int] = {}
        self.last_chunk: dict[int, int] = {}
        for s, role in enumerate(self.role):
            if role == "const":
                continue
            d = chunk_of.get(s, -1)
            last = len(chunks) if s in self.is_out else max(
                (t // _CHUNK for t in self.uses[s]), default=d)
            if last > d:
                self.rindex[s] = len(self.rindex)
                self.last_chunk[s] = last

    def _name(self, i: int) -> str:
        if self.role[i] == "const":
            return f"_c{i}"
        if self.role[i] == "in" and not self.multi:
            return f"x{self.input_pos[i]}"
        return f"v{i}"

    def _lines(self, chunk: list[int], first: int, imported: dict | None = None) -> list[str]:
        """The statements of ``chunk`` (steps numbered from ``first``). In a chunk
        function, a scalar read once from R is read in place (``_sin(R[4])``), others
        are listed in ``imported`` (read into locals first), and a result only later
        chunks read goes straight to R (fewer statements: CPython compiles faster)."""
        nodes, kind, lines = self.nodes, self.kind, []
        last = first + len(chunk) - 1
        defined = set(chunk)
        readers: dict[int, int] = {}
        for s in chunk:
            for i in dict.fromkeys(self.args[s]):
                readers[i] = readers.get(i, 0) + 1
        pending: dict[int, tuple[str, int]] = {}  # scalars written into their one reader
        for t, s in enumerate(chunk, first):
            node = nodes[s]
            template, pre, numpy, out_ok, raw_ok, _ = self.forms[s]
            ins = self.args[s]
            ops = []
            depth = 0
            for j, i in enumerate(ins):
                if i in pending:
                    inner, d = pending.pop(i)
                    expr, depth = f"({inner})", max(depth, d)
                elif imported is not None and i not in defined and self.role[i] != "const":
                    if (kind[i] != "A" and readers[i] == 1 and pre is None
                            and template.count(f"{{{j}}}") == 1):
                        expr = f"R[{self.rindex[i]}]"
                    else:
                        imported[i] = None
                        expr = self._name(i)
                else:
                    expr = self._name(i)
                if numpy and kind[i] == "F" and not raw_ok:
                    expr = f"_f64({expr})"
                elif numpy and kind[i] == "B":
                    expr = f"_np_bool({expr})"
                elif not numpy and raw_ok and kind[i] != "F":
                    expr = f"float({expr})"
                ops.append(expr)
            # operands read for the last time here (within this function)
            dying = [i for i in dict.fromkeys(ins)
                     if self.uses[i][bisect.bisect_right(self.uses[i], last) - 1] == t]
            expr = template.format(*ops)
            if numpy and kind[s] == "F":
                expr = f"float({expr})"  # F values are Python floats, not NumPy's
            if out_ok and kind[s] == "A":
                target = self._buffer(t, node, dying)
                if target is not None:
                    expr = f"{expr[:-1]}, out={self._name(target)})"
            if depth < _INLINE_DEPTH and self._inline(s, last):
                pending[s] = (expr, depth + 1)
                continue
            if pre:
                lines.append(pre.format(*ops))
            if self.multi and s in self.rindex:
                after = bisect.bisect_right(self.uses[s], t)
                if after < len(self.uses[s]) and self.uses[s][after] <= last:
                    lines.append(f"v{s} = {expr}")
                    lines.append(f"R[{self.rindex[s]}] = v{s}")
                else:  # no reader in this chunk
                    lines.append(f"R[{self.rindex[s]}] = {expr}")
            else:
                lines.append(f"v{s} = {expr}")
            for i in dying:
                # inputs stay: the rerun after an exception needs them
                if (kind[i] == "A" and nodes[i].shape and (self.multi or (
                        self.role[i] == "step" and i not in self.is_out))
                        and self.role[i] != "const"):
                    lines.append(f"del {self._name(i)}")
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
        return pre is None and len(places) == 1 and template.count(f"{{{places[0]}}}") == 1

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
        head = [f"v{i} = R[{self.rindex[i]}]" for i in imported]
        # (arrays are never read in place, so all of them are in imported)
        clear = [f"R[{self.rindex[i]}] = None" for i in imported
                 if self.last_chunk[i] == c and self.kind[i] == "A" and self.nodes[i].shape]
        body = head + lines + clear
        return "\n".join([f"def _chunk{c}(R):", *("    " + line for line in body)])

    def _entry(self) -> str:
        n = len(self.inputs)
        xs = [f"x{k}" for k in range(n)]
        lines = [f"def _entry(*a):", f"    if len(a) != {n}:", "        return _arity(a)"]
        if n:
            lines.append(f"    {', '.join(xs)}{',' if n == 1 else ''} = a")
        if not self.trust:
            for k, node in enumerate(self.inputs):
                if node.shape == () and node.dtype == _F64:
                    lines.append(f"    if type(x{k}) is not float:")
                    lines.append(f"        x{k} = _in{k}(x{k})")
                else:
                    lines.append(f"    x{k} = _in{k}(x{k})")
        if self.multi:
            body = [f"R = [None] * {len(self.rindex)}"]
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
        for node in self.computed:
            i = self.slot[node.id]
            value = f"R[{self.rindex[i]}]" if self.multi and self.role[i] != "const" \
                else self._name(i)
            if not (self.python_scalars and self.kind[i] == "F"):
                value = f"_asarray({value})"
            results.append(value)
        lines.append(f"    return {results[0]}" if self.single
                     else f"    return [{', '.join(results)}]")
        return "\n".join(lines)


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
           python_scalars: bool, *values: Any) -> Any:
    """The interpreter's answer, when the generated code raised: NumPy's nan and inf
    where ``math`` or ``/`` raised, or an error naming the node that failed."""
    feeds = {n.id: convert_feed(n, v, "compiled function") for n, v in zip(inputs, values)}
    results = _plan(list(outputs), fed).run(feeds)
    if python_scalars:  # as the generated code returns them
        results = [float(r) if n.shape == () and n.dtype == _F64 else r
                   for r, n in zip(results, outputs)]
    return results[0] if single else results


def _bad_arity(inputs: tuple, args: tuple) -> None:
    names = ", ".join(describe(n) for n in inputs) or "none"
    raise SymgraphError(
        f"this compiled function takes {len(inputs)} arrays (inputs: {names}), got "
        f"{len(args)}; pass one array per input, in the order given to sg.compile")

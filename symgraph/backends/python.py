"""Code generation: :func:`compile` turns the needed subgraph into straight-line Python.

Owns: ``sg.compile`` and the generated functions. The outputs are first simplified
(``sg.simplify``); their ancestors (in id order, which is topological) then become one
Python statement each, over local variables:

- *scalar* float64 nodes (shape ``()``) are plain Python floats in locals ``r0, r1...``
  reused once their value is dead (``r1 = x0 * x1``, ``r1 = _sin(r1)`` with
  ``math.sin``; outputs keep names like ``v12``). Where Python raises and NumPy would
  not (``log(-1)``, ``exp(1000)``, ``1/0``), the call is run again by the interpreter of
  :mod:`symgraph.engine` with the ops' own NumPy rules, so NaN and inf come out as
  :func:`symgraph.evaluate` gives them (the same rerun names the node of a real error);
- *tensor* nodes call NumPy (``v5 = _np_add(v3, v4)``); a dead array made by an earlier
  ufunc, of the same shape and dtype and never viewed by another op, receives the result
  (``out=``); other arrays are deleted after their last use;
- any other op (a user's op) is called generically, ``op.impl(*args, **attrs)``;
- steps whose inputs are all constants are computed once, at compile time; a scalar used
  once is written into its reader (``v7 = _exp(-(v5 * v5))``);
- two peepholes that hand-written NumPy does: ``add(scatter(g), b)`` (the adjoint of
  ``x[1:]`` meeting another gradient) is ``b[index] += g`` in ``b``'s dying buffer, and
  ``c1 * (c2 * x)`` with constant scalars (maybe broadcast) is ``(c1 * c2) * x`` (or
  ``x``'s own dying buffer when the factor is 1, as for the gradient of a sum).

Every step computes what :func:`symgraph.evaluate` does, NaN, inf and -0.0 included (to
rounding): the scalar templates follow NumPy's rules (``maximum`` returns its second
operand on a tie, ``sum(-0.0)`` is 0.0, ``x**0.5`` is ``sqrt``), ``c1 * (c2 * x)`` is
merged only where both sides overflow and underflow together, and ``b[index] += g`` turns
-0.0 outside ``index`` into 0.0 as ``0.0 + b`` does. ``assume_finite=True`` lifts these
(and simplifies with it). Constant steps are folded compactly (a fill with fills gives a
fill, whatever its size; other results only up to ``_FOLD_MAX_SIZE`` elements).

Security: the source text is built from internal names only (``v12``, ``_c3``,
``_np_add``, ``_op2``) and integers derived from the graph's structure; constants,
impls, indices and shapes reach the code through its globals dict, never as text, and a
node's name is never written. So equal structures give equal source, and the compiled
code object is shared between them. One function holds up to ``_CHUNK`` statements:
CPython 3.11 compiles and runs one function of 4*10^5 statements faster than a thousand
small ones (W5 at 10^5 ops: compile 4.4 s instead of 4.9 s, a call 86 instead of ~140
ns per op, less memory), because values stay in fast locals. Beyond that, functions of
``_CHUNK`` statements pass live values through a per-call list ``R``, whose indices are
reused once their value is dead, so floats are recycled while still in cache. The entry
function has one parameter per input (no ``*args`` tuple): calls cost what a
hand-written function's do.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.engine``,
``symgraph.rewrite_rules`` (compact constant folding); ``symgraph.rewrite`` when compiling
(late, as it imports much of the package).
"""

from __future__ import annotations

import bisect
import builtins
import functools
import gc
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from types import CodeType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from symgraph.backends.numpy import run
from symgraph.plan import as_outputs as _outputs, convert_feed, needed_nodes, plan_for, resolve as _resolve
from symgraph.graph import Node, SymgraphError, ancestors
from symgraph.ops.core import OPS, describe
from symgraph.ops.shape import batch_elementwise, numpy_index
from symgraph.rewrite_rules import exact_product, fill_value, fold_values

__all__ = ["CompiledFunction", "compile"]

_CHUNK = 1 << 21  # statements per generated function (chunks only past 2 million)
_OPERAND = re.compile(r"\{(\d+)\}")
_CODE_CACHE_SIZE = 256  # code objects shared by graphs of the same structure
_CODE_CACHE_MAX_CHARS = 1 << 20
_FOLD_MAX_SIZE = 1 << 16  # constant steps are computed at compile time up to this size
_INLINE_DEPTH = 12  # nesting of scalar expressions (CPython's parser has limits)
# sg.simplify costs about 15 µs per node on W5's random DAG (0.6 s for 4.2e4 nodes, 11%
# fewer nodes) and less on chains (W2a depth 1e4, 3e4 nodes: whole compile 0.5 s).
# Bigger graphs are compiled as built: W5 at 1e5 ops (4.2e5 nodes) would spend 6 s in it,
# beyond its 5 s compile target (measured 2026-11-23).
_SIMPLIFY_MAX_NODES = 50_000
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
    # NaN in either operand wins, and a tie gives the second operand (maximum(0.0, -0.0)
    # is -0.0), as in NumPy's maximum/minimum loops; relu is maximum(x, 0)
    "maximum": "{0} if {0} > {1} or {0} != {0} else {1}",
    "minimum": "{0} if {0} < {1} or {0} != {0} else {1}",
    "relu": "{0} if {0} > 0.0 or {0} != {0} else 0.0",
    "sign": "1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0 if {0} == 0.0 else {0}",
    "stop_gradient": "{0}",
    "sum": "{0} + 0.0",  # NumPy's sums start at 0.0: the sum of -0.0 is 0.0
    "mean": "{0} + 0.0",
    "max": "{0}",
}
# Python's math: it raises (ValueError, OverflowError) where NumPy returns nan or inf, and
# the rerun then gives NumPy's value. Off with use_math=False.
_MATH = {
    "exp": "_exp({0})", "log": "_log({0})", "sin": "_sin({0})", "cos": "_cos({0})",
    "tan": "_tan({0})", "tanh": "_tanh({0})", "sqrt": "_sqrt({0})", "log1p": "_log1p({0})",
    # NumPy's power is sqrt at 0.5 (nan at -inf, -0.0 at -0.0: C's pow gives inf, 0.0);
    # a constant exponent gets the one branch it needs (see _Builder._power)
    "expm1": "_expm1({0})", "power": "_sqrt({0}) if {1} == 0.5 else _pow({0}, {1})",
    # NumPy's logaddexp(0, x), branch for branch
    "softplus": "_LN2 if {0} == 0.0 else _log1p(_exp({0})) if {0} < 0.0 else "
                "{0} + _log1p(_exp(-{0})) if {0} > 0.0 else {0}",
    # as hand-written code: exp(-x) overflows (OverflowError) only for x < -709, where
    # the rerun gives NumPy's value; elsewhere it is within an ulp of NumPy's rule
    "sigmoid": "1.0 / (1.0 + _exp(-{0}))",
}
_PRE: dict[str, str] = {}  # a statement some templates need first (none at present)
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
    "_np_add_reduce": np.add.reduce,
    "__builtins__": builtins,
}
_MISSING = _GLOBALS["_M"] = object()  # the default of every parameter: not passed
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
            python_scalars: bool = False, use_math: bool = True,
            assume_finite: bool = False) -> CompiledFunction:
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

    By default ``f`` returns what :func:`evaluate` does on every input, NaN, inf and -0.0
    included (to rounding). ``assume_finite=True`` promises that every value in the graph
    is finite: the outputs are simplified with ``sg.simplify(..., assume_finite=True)``
    (``x*0 -> 0``, ``x - x -> 0``, ``x/x -> 1``, ``exp(log x) -> x``, like terms
    collected), which may give fewer steps; where an inf or NaN does occur, ``f`` may then
    differ from :func:`evaluate` (``x*0`` gives 0 at ``x = inf``)::

        >>> import symgraph as sg
        >>> with sg.Graph():
        ...     x = sg.var("x")
        ...     f, g = sg.compile(x * 0 + 1, [x]), sg.compile(x * 0 + 1, [x], assume_finite=True)
        >>> float(f(float("inf"))), float(g(float("inf")))
        (nan, 1.0)

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
    options = (bool(trust_input), bool(python_scalars), bool(use_math), bool(assume_finite))
    key = ("codegen", tuple(n.id for n in nodes), single, tuple(n.id for n in ins), options)
    fn = graph.cache.get(key)
    if fn is None:
        # The cyclic GC would walk the whole graph again and again while the builder
        # allocates its lists (40% of the compile time at 4e5 nodes); any cycles made
        # here are collected by the next collection after it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            computed, needed = _prepare(nodes, ins, bool(assume_finite))
            fn = _Builder(nodes, computed, needed, single, ins, *options).build()
        finally:
            if collecting:
                gc.enable()
        graph.cache[key] = fn
    return fn


def _prepare(outputs: list[Node], inputs: list[Node],
             assume_finite: bool = False) -> tuple[list[Node], list[Node]]:
    """The nodes to compute (the simplified outputs, checked first: evaluate's errors)
    and their ancestors."""
    fed = frozenset(n.id for n in inputs)
    needed = needed_nodes(outputs, fed, "sg.compile: {names} {is_} needed but not among the "
                          "inputs; add {it} to inputs")
    if len(needed) > _SIMPLIFY_MAX_NODES:
        return list(outputs), needed  # see _SIMPLIFY_MAX_NODES
    from symgraph.rewrite import simplify  # imported late: rewrite imports much of symgraph

    try:
        simplified = simplify(list(outputs), assume_finite=assume_finite)
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
                 use_math: bool, assume_finite: bool = False):
        self.outputs, self.computed, self.single, self.inputs = outputs, computed, single, inputs
        self.trust, self.python_scalars, self.use_math = trust, python_scalars, use_math
        self.assume_finite = assume_finite
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
        self._scalar_forms = {name: (t, None, False, False, True, False)
                              for name, t in _SCALAR.items()}
        if use_math:
            self._scalar_forms.update((name, (t, _PRE.get(name), False, False, True, False))
                                      for name, t in _MATH.items())
        slot = self.slot
        # the operands' slots of every node (read by every pass below)
        self.args = [[] if node.id in self.fed else [slot[i.id] for i in node.inputs]
                     for node in nodes]
        for s, node in enumerate(nodes):
            self._classify(s, node)

    # --- planning ---------------------------------------------------------------------------
    def _classify(self, s: int, node: Node) -> None:
        dtype = node.dtype  # (float64 is one dtype object: "is" saves NumPy's __eq__)
        scalar_f64 = node.shape == () and (dtype is _F64 or dtype == _F64)
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
            if (node.op in _COMPARE and node.shape == () and node.dtype == _BOOL
                    and self._builtin(node)
                    and all(self.kind[i] == "F" for i in self.args[s])):
                kind = "B"
        self.kind.append(kind)

    def _fold(self, s: int, node: Node) -> bool:
        """Compute a step of constants now (symgraph's own ops only: a user's may be
        impure), keeping its value in ``self.folded``."""
        role = self.role
        # (the cheap test first, as a loop: most steps read a step)
        for i in self.args[s]:
            if role[i] != "const":
                return False
        if not node.inputs:
            return False
        if not self._builtin(node) or None in node.shape:
            return False
        args = [np.asarray(self.globals[f"_c{i}"], dtype=n.dtype)
                for i, n in zip(self.args[s], node.inputs)]
        try:  # (an elementwise op of fills is a fill; other large results wait for calls)
            value = fold_values(lambda *a: node.opdef.impl(*a, **node.attrs), args,
                                node.shape, node.opdef.batch is batch_elementwise,
                                limit=_FOLD_MAX_SIZE)
        except Exception:  # noqa: BLE001 - then it fails at call time, as evaluate would
            return False
        if value is None or value.shape != node.shape or value.dtype != node.dtype:
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
        if builtin and self.kind[s] == "F" and "A" not in kinds and "B" not in kinds:
            fast = self._scalar_forms.get(name)  # the common case of big scalar graphs
            if fast is not None:
                return fast if name != "power" else self._power(s, fast)
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
                    form = _MATH[name], _PRE.get(name), False, False, True, False
                    return form if name != "power" else self._power(s, form)
        if (builtin and name == "where" and node.shape == ()
                and node.inputs[1].dtype == node.inputs[2].dtype == node.dtype):
            return "{1} if {0} else {2}", None, False, False, False, False
        impl = node.opdef.impl
        args = ", ".join(f"{{{j}}}" for j in range(len(node.inputs)))
        all_f64 = all(i.dtype == _F64 for i in node.inputs)
        if builtin and name in _TENSOR:
            return _TENSOR[name], None, True, True, all_f64, True
        if builtin and name in ("sum", "sum_to", "transpose") and len(node.inputs) == 1:
            direct = self._direct_call(s)
            if direct is not None:
                return direct, None, True, False, False, name != "transpose"
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
        if builtin and name == "scatter" and len(node.inputs) == 1:  # zeros, then g in them
            fname = self._global(functools.partial(impl, **node.attrs), ("attrs", s))
            return f"{fname}({args})", None, True, False, False, True
        if node.attrs:
            fname = self._global(functools.partial(impl, **node.attrs), ("attrs", s))
        else:
            fname = self._global(impl, ("impl", id(impl)))
        return f"{fname}({args})", None, True, False, False, False

    def _power(self, s: int, form: tuple) -> tuple:
        """``x**c`` with a constant ``c``: the one branch of the template it needs."""
        e = self.args[s][1]
        if self.role[e] != "const":
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
        if node.op == "transpose":
            self.globals[f"_k{s}"] = node.attrs["axes"]
            return f"{{0}}.transpose(_k{s})"
        if x.dtype.kind not in "fc":
            return None  # np.sum's promotion of integers and booleans stays with the impl
        if node.op == "sum":
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
        self.skip: set[int] = set()  # steps written into their reader
        self._fuse_scatter_adds()
        self._fuse_scalings()
        self.numpy = any(f[2] and self.nodes[s].op not in _TENSOR_ATTR
                         for s, f in self.forms.items())
        chunks = [steps[k:k + _CHUNK] for k in range(0, len(steps), _CHUNK)]
        self.multi = len(chunks) > 1
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

    def _fuse_scatter_adds(self) -> None:
        """``add(scatter(g), b)`` becomes ``b[index] += g`` where ``b`` is a dying array
        nobody views: the adjoint of ``x[1:]`` and ``x[:-1]`` in one buffer (no zeros,
        no copy, no third array), as hand-written NumPy does it. (Without assume_finite,
        ``b`` gets ``+= 0.0`` too, outside ``index``: ``0.0 + -0.0`` is 0.0.)"""
        nodes, role, uses, steps = self.nodes, self.role, self.uses, self.steps
        for t, s in enumerate(steps):
            node = nodes[s]
            if (node.op != "add" or not self._builtin(node) or self.kind[s] != "A"
                    or node.dtype.kind != "f" or None in node.shape):
                continue
            for a, b in (self.args[s], self.args[s][::-1]):
                scatter, other = nodes[a], nodes[b]
                if (a != b and role[a] == role[b] == "step" and scatter.op == "scatter"
                        and self._builtin(scatter) and len(scatter.inputs) == 1
                        and uses[a] == [t] and a not in self.is_out and b not in self.is_out
                        and scatter.shape == other.shape == node.shape
                        and scatter.dtype == other.dtype == node.dtype
                        and self.forms[b][5] and uses[b][-1] == t and self.args[a][0] != b
                        and all(self._no_alias(steps[u]) for u in uses[b])):
                    break
            else:
                continue
            g = self.args[a][0]
            index = numpy_index(scatter.attrs["index"])
            fname = self._global(functools.partial(
                _add_at, index=index, signed_zeros=not self.assume_finite), ("add_at", s))
            self.forms[s] = (f"{fname}({{0}}, {{1}})", None, True, False, False, True)
            self.args[s] = [b, g]
            self.skip.add(a)
            t_a = steps.index(a, 0, t)
            uses[g].remove(t_a)
            bisect.insort(uses[g], t)
            uses[g][:] = list(dict.fromkeys(uses[g]))  # g may already be read by the add
            uses[a].clear()

    def _factor(self, i: int, shape: tuple) -> float | None:
        """The value of operand ``i`` if it is a float64 constant scalar, or one broadcast
        to an array no bigger than ``shape``."""
        node = self.nodes[i]
        if node.dtype != _F64 or None in node.shape or len(node.shape) > len(shape) or any(
                d not in (1, e) for d, e in zip(node.shape[::-1], shape[::-1])):
            return None
        if self.role[i] == "const":  # a scalar, or an array of one value (folded ones)
            value = self.globals[f"_c{i}"]
            if node.shape == ():
                return value
            first = fill_value(value)  # a fill is read without expanding it
            if first is not None or value.size > _FOLD_MAX_SIZE:
                return None if first is None else float(first)
            first = value.flat[0] if value.size else math.nan
            return float(first) if (value == first).all() else None
        if self.role[i] == "step" and node.op == "broadcast_to" and self._builtin(node):
            return self._factor(self.args[i][0], ())
        return None

    def _fuse_scalings(self) -> None:
        """``c1 * (c2 * x)`` (constant scalars, possibly broadcast, as in the gradient of
        ``lam * sum(w ** 2)``) becomes ``(c1 * c2) * x``: one pass over ``x``, not two.
        (The result may round differently from evaluate's in the last bit.) Only where
        both sides overflow and underflow together (``exact_product``), unless
        ``assume_finite``: ``1e300 * (1e-300 * x)`` is not ``1.0 * x`` at ``x = 1e300``."""
        nodes, uses, steps = self.nodes, self.uses, self.steps
        rewritten: set[int] = set()  # (their args are no longer the node's inputs)
        for t, s in enumerate(steps):
            node = nodes[s]
            if (node.op != "multiply" or not self._builtin(node) or self.kind[s] != "A"
                    or node.dtype != _F64 or None in node.shape or s in self.skip):
                continue
            found = None
            for p, q in (self.args[s], self.args[s][::-1]):
                c1 = self._factor(p, node.shape)
                inner = nodes[q]
                if (c1 is None or q in self.skip or inner.shape != node.shape
                        or inner.dtype != _F64 or self.kind[q] != "A"):
                    continue
                if (self.role[q] == "step" and inner.op == "multiply" and self._builtin(inner)
                        and q not in self.is_out and uses[q] == [t] and q not in rewritten):
                    for a, x in (self.args[q], self.args[q][::-1]):
                        c2 = self._factor(a, node.shape)
                        if (c2 is not None and nodes[x].shape == node.shape
                                and (self.assume_finite or exact_product(c1, c2))
                                and nodes[x].dtype == _F64 and self.kind[x] == "A"):
                            found = p, q, x, float(c1) * float(c2)
                            break
                if found is None and self.role[p] == "step":  # a broadcast scalar
                    found = p, None, q, float(c1)
                if found:
                    break
            if found is None:
                continue
            p, q, x, factor = found
            t_q = steps.index(q, 0, t) if q is not None else None
            for i in dict.fromkeys(self.args[s]):
                uses[i].remove(t)
            if q is not None:
                for i in dict.fromkeys(self.args[q]):
                    uses[i].remove(t_q)
                self.skip.add(q)
            self.args[s] = [x]
            rewritten.add(s)
            bisect.insort(uses[x], t)
            if factor == 1.0 and self._exclusive(x, t):  # its buffer is the result
                self.forms[s] = ("{0}", None, True, False, False, True)
            else:
                self.globals[f"_k{s}"] = factor
                self.forms[s] = (f"_np_multiply(_k{s}, {{0}})", None, True, True, True, True)
                self.globals["_np_multiply"] = np.multiply
            for i in (p, *(self.args[q] if q is not None else ())):
                if not uses[i] and self.role[i] == "step" and i not in self.is_out:
                    self.skip.add(i)  # a broadcast_to nobody reads any more

    def _exclusive(self, i: int, t: int) -> bool:
        """Whether step ``i``'s array is new, not an output, never viewed, and read for
        the last time by step number ``t``: its reader may keep it as its own."""
        return (self.role[i] == "step" and self.forms[i][5] and i not in self.is_out
                and self.uses[i][-1] == t
                and all(self._no_alias(self.steps[u]) for u in self.uses[i]))

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
        if self.role[i] == "const":
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
        readers: dict[int, int] = {}
        skip, multi, role, arrays = self.skip, self.multi, self.role, self.arrays
        once = self.once
        for s in chunk:
            if s not in skip:
                for i in dict.fromkeys(self.args[s]):
                    readers[i] = readers.get(i, 0) + 1
        local: dict[int, str] = {}  # scalar slot -> its register
        free: list[str] = []
        count = 0
        # scalars written into their one reader, with the registers their text reads:
        # a register is free once its value is dead and no pending text reads it
        pending: dict[int, tuple[str, int, list[str]]] = {}
        holds: dict[str, int] = {}
        dead: set[str] = set()

        def last_use(i: int) -> int:
            return uses[i][bisect.bisect_right(uses[i], last) - 1]

        for t, s in enumerate(chunk, first):
            if s in skip:
                continue
            node = nodes[s]
            template, pre, numpy, out_ok, raw_ok, _ = self.forms[s]
            ins = self.args[s]
            ops = []
            depth = 0
            inherited: list[str] = []  # held by the pending texts this one takes in
            reads: list[str] = []
            for j, i in enumerate(ins):
                if i in pending:
                    inner, d, held = pending.pop(i)
                    expr, depth = f"({inner})", max(depth, d)
                    inherited += held
                elif i in local:
                    expr = local[i]
                    reads.append(expr)
                elif multi and i not in defined and role[i] != "const":
                    if kind[i] == "A":
                        imported[i] = None
                        expr = names[i]
                    elif readers[i] == 1 and pre is None and once[template].get(j):
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
            if depth < _INLINE_DEPTH and len(uses[s]) == 1 and self._inline(s, last):
                for reg in reads:
                    holds[reg] = holds.get(reg, 0) + 1
                pending[s] = (expr, depth + 1, inherited + reads)
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
            for i in dying:
                # inputs stay: the rerun after an exception needs them
                if (kind[i] == "A" and nodes[i].shape and (multi or (
                        role[i] == "step" and i not in self.is_out))
                        and role[i] != "const"):
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
        if n:
            lines = [f"def _entry({'=_M, '.join(xs)}=_M, /, *_e):",
                     f"    if _e or x{n - 1} is _M:",
                     f"        return _arity(({', '.join(xs)},) + _e)"]
        else:
            lines = ["def _entry(*_e):", "    if _e:", "        return _arity(_e)"]
        if not self.trust:
            for k, node in enumerate(self.inputs):
                if node.shape == () and node.dtype == _F64:
                    lines.append(f"    if type(x{k}) is not float:")
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


def _add_at(target: np.ndarray, value: Any, *, index: Any, signed_zeros: bool) -> np.ndarray:
    if not signed_zeros:
        target[index] += value
        return target
    # scatter(g) + b, exactly: b + 0.0 outside index (-0.0 becomes 0.0), b + g inside it
    inside = target[index] + value
    np.add(target, 0.0, out=target)
    target[index] = inside
    return target


def _feed(node: Node, value: Any) -> np.ndarray:
    return convert_feed(node, value, "compiled function")


def _scalar_feed(node: Node, value: Any) -> float:
    return float(convert_feed(node, value, "compiled function"))


def _rerun(outputs: tuple, fed: frozenset, inputs: tuple, single: bool,
           python_scalars: bool, *values: Any) -> Any:
    """The interpreter's answer, when the generated code raised: NumPy's nan and inf
    where ``math`` or ``/`` raised, or an error naming the node that failed."""
    feeds = {n.id: convert_feed(n, v, "compiled function") for n, v in zip(inputs, values)}
    results = run(plan_for(list(outputs), fed), feeds)
    if python_scalars:  # as the generated code returns them
        results = [float(r) if n.shape == () and n.dtype == _F64 else r
                   for r, n in zip(results, outputs)]
    return results[0] if single else results


def _bad_arity(inputs: tuple, args: tuple) -> None:
    args = tuple(a for a in args if a is not _MISSING)
    names = ", ".join(describe(n) for n in inputs) or "none"
    raise SymgraphError(
        f"this compiled function takes {len(inputs)} arrays (inputs: {names}), got "
        f"{len(args)}; pass one array per input, in the order given to sg.compile")

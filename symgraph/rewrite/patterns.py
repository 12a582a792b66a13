"""The rewrite rules of :func:`symgraph.simplify`, as data, and their pattern language.

Owns: :class:`Rule` (one declaration: name, stage, pattern, replacement), the pattern
language (nested tuples ``("multiply", X, ONE)`` with the wildcards :class:`Var` and
:class:`Const`), and the table ``RULES``. The engine that applies them to a fixpoint,
the polynomial ``collect-terms`` rule and the trace live in ``symgraph.rewrite``.

A pattern is an op name followed by one pattern per input. ``X``, ``Y`` match any node
(the same name twice must be the same node: ``("subtract", X, X)``); ``Const(1)`` matches
a constant whose every element is 1, ``C``/``D`` any constant. Inputs of ``add``,
``multiply``, ``maximum`` and ``minimum`` match in either order. A replacement is a
template in the same syntax (built with the public op constructors, so new nodes are
interned and their shapes and dtypes checked) or a function of the :class:`Match` that
returns a node, or ``None`` to decline.

Every replacement keeps the node's static shape and dtype: the engine broadcasts or
casts (losslessly) a result that is smaller or narrower, and drops it otherwise.

Each rule declares whether it is *exact*: the same value on every input, NaN, inf and
the sign of zero included, up to rounding (``x*1 -> x``, ``x + -y -> x - y``, constant
folding; ``log(1+x) -> log1p(x)``, which only rounds better). ``exact=False`` marks
algebra that holds for finite numbers only (``x*0 -> 0`` is NaN at inf, ``x - x -> 0``,
``exp(log x) -> x`` at ``x < 0``, ``log(1 + exp x) -> softplus(x)`` where ``exp``
overflows, ``-(x - y) -> y - x`` at ``x == y``: -0.0 against 0.0): ``sg.simplify`` runs
those only with ``assume_finite=True``. ``exact`` may also be a test of the
:class:`Match` (``x + c -> x`` is exact when ``c`` is -0.0, since ``-0.0 + 0.0`` is 0.0).
Constants are folded compactly: a fill (a zero-stride array) with fills gives a fill,
and a large result is never materialised (the rule declines).

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph import ops
from symgraph.graph import Node
from symgraph.ops.core import OPS, is_const, make
from symgraph.ops.shape import batch_elementwise

STAGES = ("merge", "canonicalize", "stabilize", "specialize")
# Ops whose two inputs may be swapped (NumPy's add and multiply are commutative).
COMMUTATIVE = frozenset({"add", "multiply", "maximum", "minimum"})
# Constants folded only when the result is small (large ones would bloat the graph), and
# only from inputs this small (a sum over a huge fill would take hours); fills excepted.
FOLD_LIMIT = 256
FOLD_INPUT_LIMIT = 1 << 16
# Ops whose value on fills is a fill: elementwise, or moving elements only.
_FILL_MOVES = frozenset({"broadcast_to", "reshape", "transpose", "expand_dims"})


# --- the pattern language ---------------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    """A wildcard matching any node; the same name must match the same node.

    >>> from symgraph.rewrite_rules import X, match
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x - x
    >>> [m["X"] is x for m in match(("subtract", X, X), y)]
    [True]
    """

    name: str


@dataclass(frozen=True)
class Const:
    """A wildcard matching a constant node whose every element equals ``number`` (any
    constant when ``number`` is None); ``name`` binds it for the replacement.

    >>> from symgraph.rewrite_rules import ONE, X, match
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> len(list(match(("multiply", X, ONE), 1 * x)))   # either input order
    1
    """

    number: float | None = None
    name: str | None = None


X, Y = Var("X"), Var("Y")
C, D = Const(name="C"), Const(name="D")
ZERO, ONE, TWO, HALF, MINUS_ONE = Const(0), Const(1), Const(2), Const(0.5), Const(-1)

Pattern = Any  # tuple | Var | Const
Template = Any  # tuple | Var | Const | number


class Match:
    """What a pattern bound: ``m.node`` (the matched node), ``m["X"]`` (a bound node),
    ``m.value("C")`` (a bound constant's array), ``m.consts`` (every constant matched) and
    ``m.state`` (a dict the engine keeps for one pass, for rules that compare nodes)."""

    __slots__ = ("node", "bound", "consts", "state")

    def __init__(self, node: Node, bound: dict[str, Node], consts: tuple[Node, ...],
                 state: dict | None = None):
        self.node, self.bound, self.consts = node, bound, consts
        self.state = state if state is not None else {}

    def __getitem__(self, name: str) -> Node:
        return self.bound[name]

    def value(self, name: str) -> np.ndarray:
        return self.bound[name].attrs["value"]


def match(pattern: Pattern, node: Node) -> Iterator[Match]:
    """Every way ``pattern`` matches ``node`` (recursion follows the small pattern only).

    >>> from symgraph.rewrite_rules import C, X, match
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    >>> [float(m.value("C")) for m in match(("multiply", C, X), x * 3)]
    [3.0]
    """
    for bound, consts in compile_pattern(pattern)(node, {}, ()):
        yield Match(node, bound, consts)


Matcher = Callable[[Node, dict, tuple], list]
_COMPILED: dict[Any, Matcher] = {}


def compile_pattern(pattern: Pattern) -> Matcher:
    """``pattern`` as a function ``(node, bound, consts) -> [(bound, consts), ...]``, one
    entry per way it matches: the pattern's structure is decided once, not on each node
    (closures, built bottom-up; patterns are a few levels deep).

    >>> from symgraph.rewrite_rules import X, compile_pattern
    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x - x
    >>> [b["X"] is x for b, _ in compile_pattern(("subtract", X, X))(y, {}, ())]
    [True]
    """
    found = _COMPILED.get(pattern)
    if found is None:
        found = _COMPILED[pattern] = _compile(pattern)
    return found


def _compile(p: Pattern) -> Matcher:
    # Lists, not generators: most matches fail at the first level, and cheaply.
    if isinstance(p, Var):
        name = p.name

        def var(node: Node, bound: dict, consts: tuple) -> list:
            prev = bound.get(name)
            if prev is None:
                return [({**bound, name: node}, consts)]
            return [(bound, consts)] if prev is node else []
        return var
    if isinstance(p, Const):
        number, cname = p.number, p.name

        def const(node: Node, bound: dict, consts: tuple) -> list:
            if node.op != "const" or (number is not None and not is_const(node, number)):
                return []
            if cname is None:
                return [(bound, consts + (node,))]
            if bound.get(cname, node) is node:
                return [({**bound, cname: node}, consts + (node,))]
            return []
        return const
    op, parts = p[0], tuple(compile_pattern(a) for a in p[1:])
    arity, swap = len(parts), p[0] in COMMUTATIVE

    def apply(node: Node, bound: dict, consts: tuple) -> list:
        ins = node.inputs
        if node.op != op or len(ins) != arity:
            return []
        found = _match_all(parts, ins, bound, consts)
        if swap and ins[0] is not ins[1]:
            found += _match_all(parts, ins[::-1], bound, consts)
        return found
    return apply


def _match_all(parts: tuple, nodes: tuple, bound: dict, consts: tuple) -> list[tuple]:
    partial = [(bound, consts)]
    for f, node in zip(parts, nodes):
        partial = [r for b, c in partial for r in f(node, b, c)]
        if not partial:
            break
    return partial


def instantiate(template: Template, m: Match) -> Any:
    """Build a template with the public op constructors (numbers take the other
    operand's dtype, as in any expression)."""
    if isinstance(template, (Var, Const)):
        return m[template.name]
    if not isinstance(template, tuple):
        return template
    args = [instantiate(t, m) for t in template[1:]]
    return getattr(ops, template[0])(*args)


@dataclass(frozen=True)
class Rule:
    """One rewrite: ``pattern`` (or None: the rule looks at every node of ``roots``)
    replaced by ``replace`` (a template or a function of the :class:`Match`).

    ``region`` marks the one rule the engine runs over whole sums of products
    (``collect-terms``) instead of node by node. ``exact``: True (the value is kept on
    every input, NaN, inf and -0.0 included, up to rounding), False (only for finite
    values: run with ``assume_finite=True`` only), or a test of the :class:`Match` (exact
    where it returns True).

    >>> from symgraph.rewrite_rules import RULES
    >>> rule = next(r for r in RULES if r.name == "mul-one")
    >>> rule.stage, rule.roots
    ('canonicalize', ('multiply',))
    """

    name: str
    stage: str
    pattern: Pattern | None
    replace: Template | Callable[[Match], Node | None] | None
    doc: str = ""
    roots: tuple[str, ...] = ()
    region: bool = False
    # For rules without a pattern: a cheap test of the node before ``replace`` is called.
    when: Callable[[Node], bool] | None = None
    # Whether ``when`` looks only at the node's op and its inputs' ops (and constants'
    # values): the engine then asks it once per signature, not on every node.
    when_by_ops: bool = False
    exact: bool | Callable[[Match], bool] = True

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"rule {self.name!r}: stage {self.stage!r} is not one of {STAGES}")
        if not self.roots and isinstance(self.pattern, tuple):
            object.__setattr__(self, "roots", (self.pattern[0],))
        # What the inputs must be, one level down: most nodes fail this cheap test.
        needs = None
        if isinstance(self.pattern, tuple):
            needs = tuple(a[0] if isinstance(a, tuple) else a if isinstance(a, Const)
                          else None for a in self.pattern[1:])
        object.__setattr__(self, "_needs", needs)
        object.__setattr__(self, "matcher", compile_pattern(self.pattern)
                           if self.pattern is not None else None)
        # ("subtract", X, X): the two inputs must be one node
        same = (isinstance(self.pattern, tuple) and len(self.pattern) == 3
                and isinstance(self.pattern[1], Var) and self.pattern[1] == self.pattern[2])
        object.__setattr__(self, "_same", same)

    def could_match(self, node: Node) -> bool:
        """A quick necessary condition for :meth:`rewrite` to find anything: the ops of
        the inputs, and the value of a constant the pattern names (``ONE``)."""
        needs = self._needs  # type: ignore[attr-defined]
        if needs is None:
            return self.when is None or self.when(node)
        inputs = node.inputs
        if len(inputs) != len(needs):
            return False
        if len(needs) == 1:
            return _fits(needs[0], inputs[0])
        if self._same:  # type: ignore[attr-defined]
            return inputs[0] is inputs[1]
        if len(needs) > 2:
            return all(_fits(n, i) for n, i in zip(needs, inputs))
        (a, b), (i, j) = needs, inputs
        if _fits(a, i) and _fits(b, j):
            return True
        return node.op in COMMUTATIVE and _fits(a, j) and _fits(b, i)

    def rewrite(self, node: Node, state: dict | None = None) -> Iterator[tuple[Node | None, Match]]:
        """Each candidate replacement of ``node`` (None where the rule declines)."""
        if self.pattern is None:
            m = Match(node, {}, (), state)
            yield self.replace(m), m
            return
        for bound, consts in self.matcher(node, {}, ()):  # type: ignore[attr-defined]
            m = Match(node, bound, consts, state)
            if callable(self.replace):
                yield self.replace(m), m
            else:
                yield instantiate(self.replace, m), m


def _fits(need: Any, node: Node) -> bool:
    """Whether ``node`` can be what one input of a pattern asks for, looking at it alone."""
    if need is None:
        return True
    if isinstance(need, Const):
        return node.op == "const" and (need.number is None or is_const(node, need.number))
    return node.op == need


def const_numbers(rules: Any = None) -> frozenset[float]:
    """The numbers that the patterns of ``rules`` (``RULES`` by default) ask constants to
    be (``ONE`` -> 1).

    >>> sorted(const_numbers())
    [-1.0, 0.0, 0.5, 1.0, 2.0]
    """
    out: set[float] = set()
    stack = [r.pattern for r in (RULES if rules is None else rules) if r.pattern is not None]
    while stack:
        p = stack.pop()
        if isinstance(p, Const) and p.number is not None:
            out.add(float(p.number))
        elif isinstance(p, tuple):
            stack.extend(p[1:])
    return frozenset(out)


# --- helpers the rules share ----------------------------------------------------------------------


def fill(node: Node, number: float) -> Node:
    """A constant of ``node``'s shape and dtype filled with ``number`` (no memory), or
    a broadcast of the scalar when the shape is only known at run time."""
    if None in node.shape:
        return ops.broadcast_to(ops.const(number, dtype=node.dtype, graph=node.graph), node)
    value = np.broadcast_to(np.asarray(number, dtype=node.dtype), node.shape)
    return ops.const(value, graph=node.graph)


def fill_value(value: np.ndarray) -> np.ndarray | None:
    """The one element of a constant stored as a fill (0-d, or zero strides) as a 0-d
    array, or None for any other array (read without expanding the fill)."""
    if value.ndim == 0:
        return value
    if value.size and not any(value.strides):
        return np.asarray(value[(0,) * value.ndim])
    return None


def fold_values(fn: Callable[..., Any], values: list[np.ndarray], shape: tuple,
                elementwise: bool = True, limit: int = FOLD_LIMIT) -> np.ndarray | None:
    """``fn`` of constant arrays, computed compactly: an elementwise ``fn`` of fills is
    computed once and broadcast (a fill again, whatever its size); otherwise only results
    of at most ``limit`` elements, from inputs of at most ``FOLD_INPUT_LIMIT``. None: not
    folded (too large); errors propagate.

    >>> v = fold_values(np.add, [np.broadcast_to(1.0, (1 << 20, 1 << 20)), np.asarray(2.0)],
    ...                 (1 << 20, 1 << 20))
    >>> float(v[5, 7]), v.strides
    (3.0, (0, 0))
    """
    firsts = [fill_value(v) for v in values] if elementwise else [None]
    with np.errstate(all="ignore"):
        if None not in firsts:
            return np.broadcast_to(np.asarray(fn(*firsts)), shape)
        if math.prod(shape) > limit or any(v.size > FOLD_INPUT_LIMIT for v in values):
            return None
        return np.asarray(fn(*values))


def _value_op(ufunc: Any, a: Node, b: Node) -> Node | None:
    """``ufunc`` of two constants, folded now (exact NumPy promotion of their dtypes);
    None where the folded constant would be large (it is not materialised)."""
    va, vb = a.attrs["value"], b.attrs["value"]
    value = fold_values(ufunc, [va, vb], np.broadcast_shapes(va.shape, vb.shape))
    if value is None:
        return None
    dtype = np.result_type(a.dtype, b.dtype)
    if value.dtype != dtype:  # cast the one element of a fill, not the whole of it
        first = fill_value(value)
        value = value.astype(dtype) if first is None else np.broadcast_to(
            first.astype(dtype), value.shape)
    return ops.const(value, graph=a.graph)


def shape_root(node: Node) -> Node:
    """A node with ``node``'s run-time shape, followed down as far as that is certain:
    through elementwise ops whose other inputs are constants of all-1 dims, and through
    ``broadcast_to``/``sum_to`` to the node lending their shape. Two nodes of equal static
    shape with one root have one run-time shape, even with ``None`` dimensions.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     t = sg.var("t", shape=(None,))
    ...     a, b = 1 - sg.square(sg.tanh(t)), sg.broadcast_to(1.0, sg.tanh(t))
    >>> shape_root(a) is shape_root(b) is t
    True
    """
    for _ in range(10_000):  # a bounded walk down one chain, no recursion
        ins = node.inputs
        if node.op in ("broadcast_to", "sum_to") and len(ins) == 2:
            node = ins[1]
            continue
        if not ins or node.opdef.batch is not batch_elementwise:
            break
        full = [i for i in ins if i.shape == node.shape]
        if len({i.id for i in full}) != 1 or any(
                i.shape != node.shape and not (i.op == "const" and i.ndim <= node.ndim
                                               and all(d == 1 for d in i.shape)) for i in ins):
            break
        node = full[0]
    return node


def _same_runtime_shape(a: Node, b: Node) -> bool:
    return a.shape == b.shape and (None not in a.shape or shape_root(a) is shape_root(b))


def _mul_broadcast(m: Match) -> Node | None:
    """``broadcast_to(c, like) * y -> c * y`` where ``y`` already has the product's
    run-time shape (so the broadcast adds nothing)."""
    node, y = m.node, m["Y"]
    b = node.inputs[0] if node.inputs[1] is y else node.inputs[1]
    # the product's run-time shape is y's when b's is (b, y and the product share a
    # static shape)
    if y.shape != node.shape or y.dtype != node.dtype or not _same_runtime_shape(b, y):
        return None
    return ops.multiply(m["C"], y)


def _same_shape_input(m: Match) -> Node | None:
    """``sum_to(x, like)`` or ``broadcast_to(x, like)`` of an ``x`` that has the shape
    already (statically, or from the same root at run time) is ``x``."""
    node = m.node
    x = node.inputs[0]
    if x.dtype != node.dtype or not _same_runtime_shape(x, node):
        return None
    return x


def _fold_const(m: Match) -> Node | None:
    """An op of constants -> the constant evaluate would compute (same impl, same dtype:
    no cast that evaluate would not make); fills stay fills, large results are left."""
    node = m.node
    if not node.inputs or any(i.op != "const" for i in node.inputs) or None in node.shape:
        return None
    values = [i.attrs["value"] for i in node.inputs]
    builtin = OPS.get(node.op) is node.opdef
    if builtin and node.op in _FILL_MOVES and fill_value(values[0]) is not None:
        value = np.broadcast_to(fill_value(values[0]), node.shape)  # a fill moved: a fill
    else:
        try:
            value = fold_values(lambda *a: node.opdef.impl(*a, **node.attrs), values,
                                node.shape, builtin and node.opdef.batch is batch_elementwise)
        except Exception:  # noqa: BLE001 - an op failing on these constants waits for run time
            return None
    if value is None or value.shape != node.shape or value.dtype != node.dtype:
        return None
    return ops.const(value, graph=node.graph)


def _merge_const(m: Match) -> Node | None:
    """Equal large constants (not interned, to keep hashing cheap) become one; fills are
    interned already, and a stored array is hashed in place (no copy)."""
    node, seen = m.node, m.state.setdefault("merge-const", {})
    value = node.attrs["value"]
    if node.name or value.size <= FOLD_LIMIT or not any(value.strides):
        return None
    data = value.data if value.flags.c_contiguous else value.tobytes()
    key = (value.dtype.str, value.shape, hashlib.blake2b(data, digest_size=16).digest())
    first = seen.setdefault(key, node)
    return first if first is not node and np.array_equal(
        first.attrs["value"], value, equal_nan=value.dtype.kind == "f") else None


def _merge_commuted(m: Match) -> Node | None:
    """``b + a`` becomes an existing ``a + b`` built earlier (no node is made)."""
    return _commuted_earlier(m.node)


def _commuted_earlier(node: Node) -> Node | None:
    if len(node.inputs) != 2 or node.inputs[0] is node.inputs[1]:
        return None
    a, b = node.inputs
    # The interning key of ops.core.make: (op, *input ids, *attrs).
    key = (node.op, b.id, a.id, *node.attrs.items()) if node.attrs else (node.op, b.id, a.id)
    other = node.graph._lookup(key)
    return other if other is not None and other.id < node.id else None


def _keep(kept: Node, m: Match) -> Node | None:
    """``kept`` in place of the matched node, when the dropped operands cannot change the
    run-time shape (static shapes, or dropped constants with every dimension 1)."""
    node = m.node
    if kept.shape != node.shape:
        return None
    if None in node.shape and any(
        c.ndim > node.ndim or any(d != 1 for d in c.shape) for c in m.consts
    ):
        return None
    return kept


def _zeros(m: Match, like: Node) -> Node | None:
    """Zeros of the matched node's (broadcast) shape: ``like`` lends a run-time shape."""
    node = m.node
    if None not in node.shape:
        return fill(node, 0)
    if like.shape == node.shape and _keep(like, m) is not None:
        return ops.zeros_like(like) if like.dtype == node.dtype else None
    return None


def _mul_zero(m: Match) -> Node | None:
    return _zeros(m, m["X"])


def _sub_self(m: Match) -> Node | None:
    return _zeros(m, m["X"])


def _div_self(m: Match) -> Node | None:
    node, x = m.node, m["X"]
    if None not in node.shape:
        return fill(node, 1)
    return ops.broadcast_to(ops.const(1, dtype=node.dtype, graph=node.graph), x) \
        if x.shape == node.shape else None


def _pow_zero(m: Match) -> Node | None:
    node = m.node
    return fill(node, 1) if None not in node.shape else None


def _times(c: Node | None, x: Node) -> Node | None:
    return None if c is None else ops.multiply(c, x)


def _mul_consts(m: Match) -> Node | None:
    return _times(_value_op(np.multiply, m["C"], m["D"]), m["X"])


def _add_consts(m: Match) -> Node | None:
    c = _value_op(np.add, m["C"], m["D"])
    return None if c is None else ops.add(c, m["X"])


def _add_like_terms(m: Match) -> Node | None:
    return _times(_value_op(np.add, m["C"], m["D"]), m["X"])


def _sub_like_terms(m: Match) -> Node | None:
    return _times(_value_op(np.subtract, m["C"], m["D"]), m["X"])


def _add_like_term(m: Match) -> Node | None:
    c = m["C"]
    one = ops.const(1, dtype=c.dtype, graph=c.graph)
    return _times(_value_op(np.add, c, one), m["X"])


def _neg_mul_const(m: Match) -> Node | None:
    c = m["C"]
    value = c.attrs["value"]
    folded = fold_values(np.negative, [value], value.shape)
    return None if folded is None else _times(ops.const(folded, graph=c.graph), m["X"])


# ops whose result is never -0.0 (NumPy's maximum(-0.0, 0) is 0.0, exp(-inf) is 0.0)
_NO_NEGATIVE_ZERO = frozenset({"exp", "square", "abs", "sigmoid", "softplus", "relu", "cos"})


def _signed(f: Callable[[Node], Node], m: Match) -> Node:
    """``f(x)`` for ``log1p``/``expm1``, ``+ 0.0`` where ``x`` may be -0.0: ``log1p(-0.0)`` is
    -0.0 but ``log(1 + -0.0)`` is 0.0 (assume_finite drops the ``+ 0``). Built with
    ``make``: a derivative builder would skip the ``+ 0`` as an identity."""
    x = m["X"]
    out = f(x)
    if x.op in _NO_NEGATIVE_ZERO or out.dtype.kind != "f":
        return out
    return make(OPS["add"], [out, ops.const(0.0, dtype=out.dtype, graph=out.graph)])


def _sum_scalar(m: Match) -> Node | None:
    node = m.node
    x = node.inputs[0]
    return x if x.shape == () and node.shape == () else None


def _sum_broadcast(m: Match) -> Node | None:
    """``sum(broadcast_to(x, S)) = sum(x) * (size(S) / size(x))`` over all axes."""
    node, b = m.node, m.node.inputs[0]
    x = b.inputs[0]
    if node.attrs["axis"] is not None or None in b.shape or None in x.shape:
        return None
    copies = int(np.prod(b.shape)) // max(int(np.prod(x.shape)), 1)
    if copies == 0:
        return None  # an empty sum is 0, but sum(x) * 0 is NaN where x holds inf
    total = ops.sum(x) * ops.const(copies, dtype=node.dtype, graph=node.graph)
    return ops.reshape(total, node.shape) if node.attrs["keepdims"] else total


def _transpose_transpose(m: Match) -> Node:
    inner = m.node.inputs[0]
    outer_axes, inner_axes = m.node.attrs["axes"], inner.attrs["axes"]
    return ops.transpose(m["X"], tuple(inner_axes[a] for a in outer_axes))


def _reshape_reshape(m: Match) -> Node | None:
    node = m.node
    if len(node.inputs) != 1 or len(node.inputs[0].inputs) != 1 or None in node.shape:
        return None
    return ops.reshape(node.inputs[0].inputs[0], node.shape)


def _log_softmax(m: Match) -> Node:
    return ops.log_softmax(m["X"], axis=m.node.inputs[0].attrs["axis"])


def _logsumexp(m: Match) -> Node:
    s = m.node.inputs[0]
    return ops.logsumexp(m["X"], axis=s.attrs["axis"], keepdims=s.attrs["keepdims"])


# --- exactness: where a rule keeps every value (NaN, inf and -0.0 included) -------------------


def _ring(m: Match) -> bool:
    """Integer arithmetic (modulo 2**bits) is a ring: x*0 == 0, x - x == 0, and sums
    reassociate, exactly; floats do not (inf*0 is NaN, -(0.0) is -0.0)."""
    return m.node.dtype.kind in "iu"


def _zero_sign(negative: bool) -> Callable[[Match], bool]:
    """``x + c -> x`` is exact when every zero ``c`` is -0.0 (``x + -0.0`` is ``x``, while
    ``-0.0 + 0.0`` is 0.0); ``x - c -> x`` when ``c`` is 0.0, ``c - x -> -x`` when -0.0."""
    def exact(m: Match) -> bool:
        values = _small([c.attrs["value"] for c in m.consts if c.dtype.kind == "f"])
        return values is not None and all(np.all(np.signbit(v) == negative) for v in values)
    return exact


def _small(values: list[np.ndarray]) -> list[np.ndarray] | None:
    """Constants' values, a fill as its one element; None if one is large."""
    values = [v if fill_value(v) is None else fill_value(v) for v in values]
    return None if any(v.size > FOLD_LIMIT for v in values) else values


def exact_product(c: Any, d: Any) -> bool:
    """Whether ``c*(d*x) == (c*d)*x`` for every ``x`` (NaN, inf, -0.0 included, up to
    rounding): both factors of magnitude >= 1 with a finite product (the two sides then
    overflow together), or both <= 1 with a normal product (they underflow together).
    ``1e-200*(1e-200*x)`` against ``0*x``, or ``1e300*(1e-300*x)``, show why not others.

    >>> exact_product(2.0, 3.0), exact_product(0.5, 0.25), exact_product(4.0, 0.5)
    (True, True, False)
    """
    c, d = np.abs(np.asarray(c, dtype=np.float64)), np.abs(np.asarray(d, dtype=np.float64))
    with np.errstate(all="ignore"):
        p = c * d
        return bool((np.all(c >= 1) and np.all(d >= 1) and np.all(np.isfinite(p)))
                    or (np.all(c <= 1) and np.all(d <= 1)
                        and np.all(p >= np.finfo(np.float64).tiny)))


def _scale_exact(m: Match) -> bool:
    values = _small([m.value("C"), m.value("D")])
    return _ring(m) or (values is not None and exact_product(*values))


def _same_sign(sign: float, *names: str) -> Callable[[Match], bool]:
    """``c*x + d*x -> (c+d)*x`` is exact when ``c`` and ``d`` have one strict sign and a
    finite sum: no cancellation, and both sides overflow, underflow and meet inf and -0.0
    alike (``x - 2*x`` at inf is NaN, ``-1*x`` is -inf). ``sign`` is +1 for a sum and -1
    for ``c*x - d*x``; with one name, ``x + c*x`` (``c`` against 1)."""
    def exact(m: Match) -> bool:
        values = _small([m.value(n) for n in names])
        if _ring(m):
            return True
        if values is None:
            return False
        c, d = values if len(values) == 2 else (np.ones(()), values[0])
        d = sign * np.asarray(d, dtype=np.float64)
        with np.errstate(all="ignore"):
            return bool(np.all(np.isfinite(c + d)) and (
                (np.all(c > 0) and np.all(d > 0)) or (np.all(c < 0) and np.all(d < 0))))
    return exact


def _commutes(m: Match) -> bool:
    """a+b and a*b equal b+a and b*a; maximum and minimum return their second operand on a
    tie, so ``maximum(0.0, -0.0)`` is -0.0 and ``maximum(-0.0, 0.0)`` is 0.0."""
    return m.node.op in ("add", "multiply") or m.node.dtype.kind != "f"


# --- the table ------------------------------------------------------------------------------------

RULES: list[Rule] = [
    # merge: one node per value (interning already shares equal small subexpressions).
    Rule("merge-const", "merge", None, _merge_const, "equal large constants", roots=("const",),
         when=lambda n: n.attrs["value"].size > FOLD_LIMIT),
    Rule("merge-commuted", "merge", None, _merge_commuted, "b+a -> an existing a+b",
         roots=tuple(sorted(COMMUTATIVE)),
         # the whole test, cheaper than a match on the ~99% of nodes where it fails
         when=lambda n: _commuted_earlier(n) is not None, exact=_commutes),
    # canonicalize: fewer, simpler nodes with the same values.
    Rule("fold-const", "canonicalize", None, _fold_const, "an op of constants -> a constant",
         roots=("*",), when=lambda n: bool(n.inputs) and all(i.op == "const" for i in n.inputs),
         when_by_ops=True),
    Rule("add-zero", "canonicalize", ("add", X, ZERO), lambda m: _keep(m["X"], m), "x+0 -> x",
         exact=_zero_sign(negative=True)),
    Rule("sub-zero", "canonicalize", ("subtract", X, ZERO), lambda m: _keep(m["X"], m),
         "x-0 -> x", exact=_zero_sign(negative=False)),
    Rule("zero-sub", "canonicalize", ("subtract", ZERO, X), ("negative", X), "0-x -> -x",
         exact=_zero_sign(negative=True)),
    Rule("mul-one", "canonicalize", ("multiply", X, ONE), lambda m: _keep(m["X"], m),
         "x*1 -> x"),
    Rule("mul-zero", "canonicalize", ("multiply", X, ZERO), _mul_zero,
         "x*0 -> zeros of the broadcast shape", exact=_ring),
    Rule("mul-minus-one", "canonicalize", ("multiply", X, MINUS_ONE), ("negative", X),
         "x*-1 -> -x"),
    Rule("div-one", "canonicalize", ("divide", X, ONE), lambda m: _keep(m["X"], m), "x/1 -> x"),
    Rule("pow-one", "canonicalize", ("power", X, ONE), lambda m: _keep(m["X"], m), "x**1 -> x"),
    Rule("pow-zero", "canonicalize", ("power", X, ZERO), _pow_zero, "x**0 -> ones"),
    Rule("neg-neg", "canonicalize", ("negative", ("negative", X)), X, "--x -> x"),
    Rule("sub-self", "canonicalize", ("subtract", X, X), _sub_self, "x-x -> zeros",
         exact=_ring),
    Rule("div-self", "canonicalize", ("divide", X, X), _div_self, "x/x -> ones", exact=False),
    Rule("add-neg", "canonicalize", ("add", X, ("negative", Y)), ("subtract", X, Y),
         "x + -y -> x-y"),
    Rule("sub-neg", "canonicalize", ("subtract", X, ("negative", Y)), ("add", X, Y),
         "x - -y -> x+y"),
    Rule("neg-sub", "canonicalize", ("negative", ("subtract", X, Y)), ("subtract", Y, X),
         "-(x-y) -> y-x", exact=_ring),
    Rule("neg-mul-const", "canonicalize", ("negative", ("multiply", C, X)), _neg_mul_const,
         "-(c*x) -> (-c)*x"),
    Rule("exp-log", "canonicalize", ("exp", ("log", X)), X, "exp(log x) -> x (x > 0)",
         exact=False),
    Rule("log-exp", "canonicalize", ("log", ("exp", X)), X,
         "log(exp x) -> x (exp x finite and > 0)", exact=False),
    Rule("add-self", "canonicalize", ("add", X, X), ("multiply", 2, X), "x+x -> 2*x"),
    Rule("mul-self", "canonicalize", ("multiply", X, X), ("square", X), "x*x -> square(x)"),
    Rule("mul-consts", "canonicalize", ("multiply", C, ("multiply", D, X)), _mul_consts,
         "c*(d*x) -> (c*d)*x", exact=_scale_exact),
    Rule("add-consts", "canonicalize", ("add", C, ("add", D, X)), _add_consts,
         "c+(d+x) -> (c+d)+x", exact=_ring),
    Rule("add-like-terms", "canonicalize", ("add", ("multiply", C, X), ("multiply", D, X)),
         _add_like_terms, "c*x + d*x -> (c+d)*x", exact=_same_sign(1, "C", "D")),
    Rule("sub-like-terms", "canonicalize", ("subtract", ("multiply", C, X), ("multiply", D, X)),
         _sub_like_terms, "c*x - d*x -> (c-d)*x", exact=_same_sign(-1, "C", "D")),
    Rule("add-like-term", "canonicalize", ("add", X, ("multiply", C, X)), _add_like_term,
         "x + c*x -> (1+c)*x", exact=_same_sign(1, "C")),
    Rule("mul-broadcast", "canonicalize", ("multiply", ("broadcast_to", C, X), Y),
         _mul_broadcast, "broadcast_to(c, like)*y -> c*y (y of the same run-time shape)"),
    Rule("sum-to-same", "canonicalize", None, _same_shape_input,
         "sum_to(x, like) -> x (same run-time shape)", roots=("sum_to",),
         when=lambda n: n.inputs[0].shape == n.shape),
    Rule("broadcast-same", "canonicalize", None, _same_shape_input,
         "broadcast_to(x, like) -> x (same run-time shape)", roots=("broadcast_to",),
         when=lambda n: n.inputs[0].shape == n.shape),
    Rule("mul-neg", "canonicalize", ("multiply", X, ("negative", Y)),
         ("negative", ("multiply", X, Y)), "x * -y -> -(x*y) (signs move out, to print)"),
    Rule("sub-neg-first", "canonicalize", ("subtract", ("negative", X), Y),
         ("negative", ("add", X, Y)), "-x - y -> -(x+y)", exact=_ring),
    # (NumPy's sum of -0.0 is 0.0)
    Rule("sum-scalar", "canonicalize", ("sum", X), _sum_scalar, "sum of a scalar -> itself",
         exact=lambda m: m.node.dtype.kind != "f"),
    Rule("sum-broadcast", "canonicalize", ("sum", ("broadcast_to", X)), _sum_broadcast,
         "sum(broadcast_to(x, S)) -> sum(x) * copies"),
    Rule("transpose-transpose", "canonicalize", ("transpose", ("transpose", X)),
         _transpose_transpose, "two transposes -> one (or none)"),
    Rule("reshape-reshape", "canonicalize", ("reshape", ("reshape", X)), _reshape_reshape,
         "two reshapes -> one (or none)"),
    Rule("collect-terms", "canonicalize", None, None,
         "sums of products -> a polynomial in Horner form, like terms collected",
         roots=("add", "subtract", "negative", "multiply", "square", "power", "divide"),
         region=True, exact=False),
    # stabilize: the same function, computed without overflow or cancellation. Where the
    # unstable form overflows to inf (or to log(0)), the value changes: not exact.
    Rule("softplus", "stabilize", ("log", ("add", ONE, ("exp", X))), ("softplus", X),
         "log(1 + exp x) -> softplus(x)", exact=False),
    Rule("log1p-exp", "stabilize", ("log1p", ("exp", X)), ("softplus", X),
         "log1p(exp x) -> softplus(x)", exact=False),
    Rule("log1p", "stabilize", ("log", ("add", ONE, X)), lambda m: _signed(ops.log1p, m),
         "log(1+x) -> log1p(x) (+ 0 where x may be -0.0)"),
    Rule("expm1", "stabilize", ("subtract", ("exp", X), ONE), lambda m: _signed(ops.expm1, m),
         "exp(x)-1 -> expm1(x) (+ 0 where x may be -0.0)"),
    Rule("log-sigmoid", "stabilize", ("log", ("sigmoid", X)),
         ("negative", ("softplus", ("negative", X))), "log(sigmoid x) -> -softplus(-x)",
         exact=False),
    Rule("log-one-minus-sigmoid", "stabilize", ("log", ("subtract", ONE, ("sigmoid", X))),
         ("negative", ("softplus", X)), "log(1 - sigmoid x) -> -softplus(x)", exact=False),
    Rule("log-softmax", "stabilize", ("log", ("softmax", X)), _log_softmax,
         "log(softmax x) -> log_softmax(x)", exact=False),
    Rule("logsumexp", "stabilize", ("log", ("sum", ("exp", X))), _logsumexp,
         "log(sum(exp x)) -> logsumexp(x)", exact=False),
    # specialize: cheaper ops for the same value.
    Rule("pow-two", "specialize", ("power", X, TWO), ("square", X), "x**2 -> square(x)"),
    Rule("pow-half", "specialize", ("power", X, HALF), ("sqrt", X), "x**0.5 -> sqrt(x)"),
    Rule("pow-minus-one", "specialize", ("power", X, MINUS_ONE), ("divide", 1, X),
         "x**-1 -> 1/x"),
]


def rules_table() -> str:
    """The rules as text, one per line: stage, name, what it does.

    >>> from symgraph.rewrite_rules import rules_table
    >>> print(rules_table().splitlines()[0])
    merge         merge-const            equal large constants
    """
    return "\n".join(f"{r.stage:<13} {r.name:<22} {r.doc}" + (
        "" if r.exact is True else "  [assume_finite]" if r.exact is False
        else "  [exact where shown safe, else assume_finite]") for r in RULES)

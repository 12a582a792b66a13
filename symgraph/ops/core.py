"""How an op is declared, and how nodes are made from it.

Owns: :class:`Op` (one declaration per op: forward rule, derivative rules, shape and
dtype rules, display, test cases), the registry ``OPS``, inputs (``var``), constants
(``const``, with NumPy-2 weak promotion of Python scalars) and :func:`make`, the single
place where a node is checked, interned and appended.

Imports: ``symgraph.graph``, NumPy and its siblings ``folding`` and ``values``; re-exports
``symgraph.array_methods.follows_numpy``, with which a public function declares the NumPy
function it follows (so ``np.where(c, x, 0)`` of nodes calls ``sg.where``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symgraph.array_methods import follows_numpy  # noqa: F401 - re-exported: an op tool
from symgraph.graph import (
    BUILD_CONTEXT, Graph, Node, ShapeError, SymgraphError, get_default_graph,
)
from symgraph.ops.folding import (  # noqa: F401 - the one folding rule, with the op tools
    FOLD_INPUT_LIMIT, FOLD_LIMIT, exact_cast, exact_product, fill_value, fold,
)
from symgraph.ops.tex import latex_function, operatorname, tex_escape  # noqa: F401 - op tools
from symgraph.ops.values import (  # noqa: F401 - re-exported: keys and labels of constants
    attr_key, const_key, const_label, format_number,
)

Shape = tuple  # of int | None

# A derivative rule builds nodes: vjp_i(g, out) is input i's share of the cotangent g of
# ``out``; jvp_i(t, out) is the tangent of ``out`` caused by a tangent t of input i.
Rule = Callable[..., "Node | None"]


@dataclass
class Case:
    """A test case for an op: how to build it from fresh inputs and where to sample them.

    ``inputs`` is a list of ``(shape, low, high)`` (or ``(shape, "int", high)`` for integer
    indices below ``high``, or a NumPy array for a fixed value); ``build`` maps the input nodes to the node under test; ``ref`` maps
    the NumPy inputs to the expected value (by default the op's own forward rule).
    ``order`` is how many derivatives the gradient check takes (2 unless the op is not
    twice differentiable on the domain).
    """

    build: Callable[..., Node]
    inputs: list
    ref: Callable[..., Any] | None = None
    order: int = 2


@dataclass(eq=False)
class Op:
    """The one declaration of an op.

    - ``impl(*arrays, **attrs)``: the forward rule, in NumPy.
    - ``shape(inputs, attrs)`` and ``dtype(inputs, attrs)``: static rules (inputs are
      Nodes); raise :class:`ShapeError` for operands that do not fit.
    - ``vjp``: one rule per input, ``rule(g, out) -> Node | None`` (``None``: no gradient
      flows to that input), or for ops with any number of inputs one rule
      ``rule(g, out, i)``. Rules use symgraph's own ops, so derivatives are
      differentiable again. Broadcasting is undone by the ``grad`` driver, not here.
    - ``jvp``: the same for forward mode, ``rule(t, out) -> Node | None``.
    - ``infix``/``prec``: how ``str`` prints it (``None``: as a call ``label(args)``).
    - ``cases``: test cases (see :class:`Case`); the registry test runs every one.
    - ``batch``: the vmap rule, ``batch(node, args, batched)`` (see ``symgraph.batching``).

    - ``array_api``, ``latex``/``latex_atom``, ``parse``: how backends, LaTeX and the
      ``symgraph diff`` language name the op (see the fields below).
    - ``commutative``: the two inputs may be swapped (see the field below).

    Users declare their own ops with :func:`symgraph.define_op`.
    """

    name: str
    impl: Callable[..., Any]
    shape: Callable[[tuple, dict], Shape]
    dtype: Callable[[tuple, dict], np.dtype]
    vjp: Sequence[Rule | None] | Rule | None = None
    jvp: Sequence[Rule | None] | Rule | None = None
    infix: str | None = None
    prec: int = 100
    label: str | None = None
    show_attrs: tuple[str, ...] = ()
    # Attribute values not printed because they are the default (a value, or a function of
    # the node giving it, e.g. the last axis).
    defaults: dict[str, Any] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    # Inputs that only lend their runtime shape (drawn dotted, never differentiated).
    shape_only: tuple[int, ...] = ()
    # batch(node, args, batched) -> Node: this op applied to arguments where those flagged
    # in ``batched`` carry an extra leading axis; the result carries it too (a vmap rule,
    # used for Jacobians and Hessians without one subgraph per row). None: no rule.
    batch: Callable[..., Node | None] | None = None
    # rewrite_inner(node, rewrite, key, readers) -> Node | dict | None: for an op holding
    # graphs of its own in its attributes (a loop's body), the node with those graphs
    # rewritten by ``rewrite(nodes) -> nodes`` (``key`` names the rule set, for caches), of
    # the same shape and dtype as ``node``. ``readers``: every node the rewrite's outputs
    # stand on that reads ``node`` (None: unknown); given them, the hook may return a dict
    # {node: new node, reader: replacement for each reader}, the new node then computing
    # something else (a loop that drops results nobody reads). None: nothing to rewrite.
    rewrite_inner: Callable[..., Node | None] | None = None
    # For an op holding graphs in its attributes (a loop's traced bodies), those graphs as
    # plain data for the layers below the op's package (save/load, to_networkx, pictures):
    # ``encode_attrs(attrs) -> (plain, bodies)``, ``plain`` the other attributes and
    # ``bodies`` ``{attr: (inputs, outputs, meta)}`` (lists of nodes; ``meta`` a dict of
    # JSON values: how the inputs and outputs group); ``decode_attrs(plain, bodies) ->
    # attrs`` its inverse. None: every attribute is a plain value.
    encode_attrs: Callable[[dict], tuple[dict, dict]] | None = None
    decode_attrs: Callable[[dict, dict], dict] | None = None
    doc: str = ""
    # The op's name in the array API / NumPy (``"tanh"``): backends call that function of
    # their array module (numpy, jax.numpy, dask.array). None: the op has no such function.
    array_api: str | None = None
    # LaTeX, a ``str.format`` template over the arguments' LaTeX: ``{0}``, ``{1}``...,
    # ``{args}`` (all, comma-separated) and ``{attrs}`` (the shown attributes, ``, axis=0``);
    # the spec ``{0:base}`` writes an argument as the base of a superscript (parenthesised
    # unless atomic). A function of the node may choose the template (None: the generic
    # ``\operatorname``). ``latex_atom``: the template delimits itself (a fraction, |x|).
    latex: str | Callable[[Any], str | None] | None = None
    latex_atom: bool = False
    # Whether the expression language of ``symgraph diff`` may call the op by its name.
    parse: bool = False
    # A user op's own implementation per backend (``define_op(..., impls={"jax": fn})``).
    impls: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # A built-in op's lowering per backend, made once per node when that backend compiles
    # it: ``lowerings={"jax": make}``, ``make(node)`` returns the backend's step function
    # (each backend's module docstring says its form). Ops that hold graphs (the loops)
    # declare theirs here, beside the op, so that no backend keeps a table of them.
    lowerings: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # Whether the two inputs may be swapped (``add``, ``multiply``; ``maximum`` and
    # ``minimum`` but for the sign of a zero on a tie): rewrite patterns match such ops in
    # either order and merge ``b + a`` into an existing ``a + b``.
    commutative: bool = False
    # vjp_rules(n) by n, for the ``vjp`` it was built from (asked once per node that grad
    # walks, so built once per arity; rebuilt if ``vjp`` is replaced).
    _vjp_by_arity: tuple[Any, dict] = field(
        default_factory=lambda: (None, {}), init=False, repr=False
    )

    def vjp_rule(self, i: int) -> Rule | None:
        return _rule(self.vjp, i)

    def vjp_rules(self, n_inputs: int) -> tuple[Rule | None, ...]:
        """The vjp rule of each of ``n_inputs`` inputs (``None`` where none flows).

        >>> import symgraph as sg
        >>> rules = sg.OPS["multiply"].vjp_rules(2)
        >>> len(rules), all(callable(r) for r in rules)
        (2, True)
        >>> sg.OPS["less"].vjp_rules(2)   # a comparison passes no gradient
        (None, None)
        """
        source, by_arity = self._vjp_by_arity
        if source is not self.vjp:
            source, by_arity = self._vjp_by_arity = (self.vjp, {})
        rules = by_arity.get(n_inputs)
        if rules is None:
            rules = by_arity[n_inputs] = tuple(_rule(self.vjp, i) for i in range(n_inputs))
        return rules

    def jvp_rule(self, i: int) -> Rule | None:
        return _rule(self.jvp, i)

    def __repr__(self) -> str:
        return f"<symgraph op {self.name!r}>"


def _rule(rules: Any, i: int) -> Rule | None:
    if rules is None:
        return None
    if callable(rules):
        return functools.partial(_variadic, rules, i)
    return rules[i] if i < len(rules) else None


def _variadic(rule: Rule, i: int, cot: Node, out: Node) -> Node | None:
    return rule(cot, out, i)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry (its name must be new)."""
    if op.name in OPS:
        raise SymgraphError(f"an op named {op.name!r} is already declared; choose another name")
    OPS[op.name] = op
    return op


# --- shapes and dtypes ---------------------------------------------------------------------


def describe(node: Node) -> str:
    """How errors name a node: its name, or its (shortened) formula, and its shape."""
    label = node.name if node.op == "var" and node.name else _brief(str(node))
    return f"'{label}' (shape {node.shape})"


def _brief(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@functools.lru_cache(maxsize=4096)
def broadcast_shapes(a: Shape, b: Shape) -> Shape | None:
    """NumPy broadcasting of two static shapes; ``None`` if they cannot broadcast.

    An unknown dimension (``None``) against 1 stays unknown; against ``n`` it becomes ``n``.
    """
    if a == b:
        return a
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == db or db == 1:
            out.append(da)
        elif da == 1:
            out.append(db)
        elif da is None:
            out.append(db)
        elif db is None:
            out.append(da)
        else:
            return None
    return tuple(reversed(out))


def broadcast_rule(inputs: tuple, attrs: dict) -> Shape:
    shape = inputs[0].shape
    for other in inputs[1:]:
        result = broadcast_shapes(shape, other.shape)
        if result is None:
            names = " and ".join(describe(n) for n in inputs)
            raise ShapeError(
                f"cannot broadcast {names} together; make the trailing dimensions equal or 1"
            )
        shape = result
    return shape


def same_shape(inputs: tuple, attrs: dict) -> Shape:
    return inputs[0].shape


FLOAT64 = np.dtype("float64")
BOOL = np.dtype("bool")


@functools.lru_cache(maxsize=1024)
def _promote(dtypes: tuple, inexact: bool) -> np.dtype:
    dtype = np.result_type(*dtypes)
    if inexact and dtype.kind not in "fc":
        dtype = FLOAT64
    return dtype


def promote(inputs: tuple, attrs: dict) -> np.dtype:
    """NumPy's promotion of the inputs' dtypes (``int + int`` stays integer)."""
    return _promote(tuple(n.dtype for n in inputs), False)


def inexact(inputs: tuple, attrs: dict) -> np.dtype:
    """Promotion, then integers and booleans become float64: as NumPy does for 32- and
    64-bit integers, and on purpose for the others, where NumPy's ``np.sin`` gives float16
    (8-bit, bool) or float32 (16-bit): a derivative graph computed in float16 is no use,
    and JAX (x64) and PyTensor compute such inputs in float64 too. README: dtypes."""
    return _promote(tuple(n.dtype for n in inputs), True)


def first_dtype(inputs: tuple, attrs: dict) -> np.dtype:
    return inputs[0].dtype


def boolean(inputs: tuple, attrs: dict) -> np.dtype:
    return BOOL


# The dtype rules that answer float64 for float64 inputs: :func:`make` does not call them
# for such inputs (most of a derivative's nodes). An op declaring a rule of its own with
# that property adds it here (power's, which looks at integer operands only).
FLOAT64_RULES: set[Callable[[tuple, dict], np.dtype]] = {first_dtype, promote, inexact}


def normalize_axes(axis: Any, ndim: int, who: str | Callable[[], str]) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative ints (``None`` for all axes).

    ``who`` names the call in errors; a function giving the text is called only when one is
    raised (a node's formula costs a walk, and reductions are built on grad's hot path).
    """
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)):  # (an int to Python: axis=True meant axis 1)
        raise ShapeError(f"{lazy_text(who)}: axis {axis!r} is a bool, not an int or a tuple "
                         "of ints")
    if isinstance(axis, (int, np.integer)):
        axes: Any = (axis,)
    elif isinstance(axis, (str, bytes)) or not hasattr(axis, "__iter__"):
        # (a float or a string is not a sequence of axes: tuple() would fail or split it)
        raise ShapeError(f"{lazy_text(who)}: axis {axis!r} is not an int or a tuple of ints")
    else:
        axes = tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, (bool, np.bool_)) or \
                not -ndim <= a < ndim:
            raise ShapeError(f"{lazy_text(who)}: axis {a!r} is out of range for {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{lazy_text(who)}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def flag(who: str, **option: Any) -> bool:
    """A yes/no option (one keyword: its name and value) as a bool: True, False, NumPy's
    bools, 0 or 1; anything else raises (``keepdims="no"`` is a true string: it would
    silently mean yes).

    >>> flag("sg.sum", keepdims=1), flag("sg.sum", keepdims=np.bool_(False))
    (True, False)
    """
    ((name, value),) = option.items()
    if isinstance(value, (bool, np.bool_)) or (type(value) is int and value in (0, 1)):
        return bool(value)
    raise SymgraphError(f"{who}: {name}= must be True or False, got {value!r}")


def lazy_text(text: str | Callable[[], str]) -> str:
    """``text``, or what the function ``text`` gives (error text made only when raised)."""
    return text() if callable(text) else text


# --- making nodes -----------------------------------------------------------------------------


def _graph_of(nodes: Sequence[Node], who: str) -> Graph:
    graph = nodes[0].graph
    for n in nodes[1:]:
        if n.graph is not graph:
            for m in nodes:  # a node its graph forgot (Graph._drop) raises, saying why
                m.graph._nodes  # noqa: B018
            raise SymgraphError(
                f"{who}: {describe(nodes[0])} and {describe(n)} belong to different graphs; "
                "build every node of one computation inside the same sg.Graph"
            )
    return graph


def make(op: Op, inputs: Sequence[Node], attrs: dict | None = None) -> Node:
    """Return the node ``op(*inputs, **attrs)``: the existing one if it was built before."""
    if type(inputs) is not tuple:
        inputs = tuple(inputs)
    # The interning key; spelled out for one and two inputs, which make nearly every node
    # (this runs for every node built: a 10^5-node grad calls it 3*10^5 times).
    arity = len(inputs)
    if attrs or arity > 2:
        graph = _graph_of(inputs, op.name) if inputs else get_default_graph()
        key = (op.name, *[n.id for n in inputs], *(attr_key(attrs) if attrs else ()))
    elif arity == 2:
        a, b = inputs
        graph = a.graph
        if b.graph is not graph:
            _graph_of(inputs, op.name)  # raises
        key = (op.name, a.id, b.id)
    elif arity:
        graph = inputs[0].graph
        key = (op.name, inputs[0].id)
    else:
        graph = get_default_graph()
        key = (op.name,)
    existing = graph._interned.get(key)  # dict reads are atomic; _add re-checks under its lock
    if existing is not None:
        # reached again from a lower order: it takes that order (Graph._reach)
        if existing.order and BUILD_CONTEXT.get().order < existing.order:
            graph._reach(existing)
        return existing
    if attrs is None:
        attrs = {}
    # The rules' answers for float64 inputs of one shape, without calling them: a derivative
    # is mostly such nodes (the rules cost as much as appending the node).
    rule = op.dtype
    if rule in FLOAT64_RULES:
        shape = inputs[0].shape if arity else None
        for n in inputs:
            if n.dtype is not FLOAT64 or n.shape != shape:
                break
        else:
            rule = op.shape
            if arity and (rule is same_shape or rule is broadcast_rule):
                return graph._add(key, op, inputs, attrs, shape, FLOAT64)
    shape = op.shape(inputs, attrs)
    dtype = op.dtype(inputs, attrs)
    return graph._add(key, op, inputs, attrs, shape, dtype)


def as_node(value: Any, like: Node | None = None, graph: Graph | None = None) -> Node:
    """``value`` as a node of ``like``'s graph: Python numbers take ``like``'s dtype kind
    (NumPy 2's weak scalars: ``float32_node * 2.0`` stays float32)."""
    if isinstance(value, Node):
        return value
    if graph is None:
        graph = like.graph if like is not None else get_default_graph()
    if isinstance(value, (bool, int, float, complex)) and like is not None:
        # Derivative rules write numbers (``1 - y*y``): find their constant without NumPy.
        # -0.0 == 0.0 and nan != nan, so floats that are zero or nan take the long way.
        key = (_NUMBER, type(value), value, like.dtype)
        cacheable = type(value) is int or (type(value) is float and value != 0 and value == value)
        if cacheable:
            found = graph._lookup(key)
            if found is not None:
                return found
        try:
            dtype = np.result_type(like.dtype, value)
        except (TypeError, OverflowError) as exc:
            raise SymgraphError(f"the number {value!r} does not fit {describe(like)}: {exc}")
        node = const(value, dtype=dtype, graph=graph)
        if cacheable:
            graph._alias(key, node)
        return node
    return const(value, graph=graph)


_NUMBER = object()  # the interning key of a Python number next to a node of some dtype


def operands(values: Sequence[Any], who: str, graph: Graph | None = None) -> list[Node]:
    """Nodes for an op's arguments; Python numbers adapt to the first node's dtype."""
    for like in values:  # plain loops, not all()/next() over generators: on every node built
        if isinstance(like, Node):
            break
    else:
        return [const(v, graph=graph) for v in values]
    return [v if type(v) is Node else as_node(v, like) for v in values]


# --- inputs and constants ------------------------------------------------------------------


def _check_dtype(dtype: Any, who: str | Callable[[], str]) -> np.dtype:
    """``dtype`` as a supported NumPy dtype; ``who`` (or ``who()``, made only for the
    message: describing a node or an array costs more than the check) names the caller."""
    if dtype is FLOAT64 or (type(dtype) is str and dtype == "float64"):  # sg.var's default
        return FLOAT64
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        who = who() if callable(who) else who
        raise SymgraphError(f"{who}: {dtype!r} is not a NumPy dtype ({exc})") from None
    if dt.kind not in "biuf" or (dt.kind == "f" and dt.itemsize > 8):
        who = who() if callable(who) else who
        raise SymgraphError(
            f"{who}: dtype {dt} is not supported; use a float (up to float64), integer or "
            "bool dtype"
        )
    return dt


def _check_shape(shape: Any, who: str | Callable[[], str]) -> Shape:
    if type(shape) is tuple and not shape:  # a scalar, the default of every sg.var
        return ()
    who = lazy_text(who)
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise SymgraphError(f"{who}: shape must be a tuple of ints or None, got {shape!r}")
    for d in dims:
        if d is not None and not (isinstance(d, (int, np.integer)) and d >= 0):
            raise SymgraphError(
                f"{who}: shape {shape!r} has {d!r}; dimensions are ints >= 0 or None (unknown)"
            )
    return tuple(None if d is None else int(d) for d in dims)


def _var_shape(inputs: tuple, attrs: dict) -> Shape:
    raise AssertionError("vars carry their shape")  # pragma: no cover


VAR = register(
    Op(
        name="var",
        impl=lambda: None,
        shape=_var_shape,
        dtype=_var_shape,
        doc="an input, fed when the graph is evaluated",
    )
)


def var(name: str, shape: Any = (), dtype: Any = "float64") -> Node:
    """An input of the default graph: a scalar by default, fed by node or by name.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     W = sg.var("W", shape=(3, None))
    >>> W.shape, W.dtype.name
    ((3, None), 'float64')
    """
    if not isinstance(name, str) or not name:
        raise SymgraphError(f"sg.var needs a non-empty string name, got {name!r}")
    who = lambda: f"sg.var({name!r})"  # noqa: E731 - the text is made only for an error
    shape = _check_shape(shape, who)
    dtype = _check_dtype(dtype, who)
    graph = get_default_graph()
    return graph._add(None, VAR, (), {}, shape, dtype, name)


CONST = register(
    Op(
        name="const",
        impl=lambda: None,
        shape=_var_shape,
        dtype=_var_shape,
        doc="a constant array",
    )
)


def const(
    value: Any, dtype: Any = None, name: str | None = None, graph: Graph | None = None
) -> Node:
    """A constant. Equal small constants are one node.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     c = sg.const(np.eye(2))
    ...     h = sg.const(0.5, dtype="float32")
    >>> c.shape, h.dtype.name, str(h)
    ((2, 2), 'float32', '0.5')
    """
    if isinstance(value, Node):
        raise SymgraphError(f"sg.const got the node {describe(value)}; it is already a node")
    if not isinstance(name, (str, type(None))) or not isinstance(graph, (Graph, type(None))):
        raise SymgraphError(f"sg.const: name must be a str and graph an sg.Graph, got "
                            f"{type(name).__name__} and {type(graph).__name__}")
    if type(value) is float and (dtype is None or dtype is FLOAT64):
        # the rewrites' and derivatives' constants: nothing to check, nothing to cast
        array = np.array(value)
    else:
        array = _checked_array(value, dtype)
    array.setflags(write=False)
    graph = graph if graph is not None else get_default_graph()  # (an empty Graph is falsy)
    key = const_key(array) if name is None else None
    if key is not None:
        found = graph._lookup(key)
        if found is not None:
            return found
    return graph._add(key, CONST, (), {"value": array}, array.shape, array.dtype, name)


def _checked_array(value: Any, dtype: Any) -> np.ndarray:
    """``value`` as a contiguous array of ``dtype`` (exactly: see ``exact_cast``)."""
    try:
        array = raw = np.asarray(value)
        if dtype is not None:  # (asarray(1.5, int64) would be 1, an int array wraps round)
            array = exact_cast(raw, _check_dtype(dtype, "sg.const"))
    except (ValueError, TypeError, OverflowError) as exc:
        raise SymgraphError(
            f"sg.const could not make an array of {_brief(repr(value))}: {exc}; "
            "pass a number or a rectangular array of numbers"
        ) from None
    _check_dtype(array.dtype, lambda: f"sg.const({_brief(repr(value), 40)})")
    if any(array.strides) or array.size == 0:
        array = array.copy()
    return array


def placeholder(graph: Graph, shape: Shape, dtype: Any, name: str) -> Node:
    """An input node that derivative builders create and later substitute away."""
    return graph._add(None, VAR, (), {}, tuple(shape), np.dtype(dtype), name, findable=False)


def full(shape: Shape, fill: float, dtype: Any, graph: Graph) -> Node:
    """A constant filled with one number (stored as a zero-stride view: no memory)."""
    array = np.broadcast_to(np.asarray(fill, dtype=dtype), shape)
    return const(array, graph=graph)


def is_const(node: Node, number: float | None = None) -> bool:
    """Whether ``node`` is a constant (whose every element equals ``number``, if given)."""
    if node.op != "const":
        return False
    if number is None:
        return True
    value = node.attrs["value"]
    if value.size == 0:
        return False
    if value.ndim == 0 or not any(value.strides):
        return value.item(0) == number  # a Python number: 4x faster than NumPy's scalar ==
    return value.size <= 256 and bool(np.all(value == number))

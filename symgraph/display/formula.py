"""Infix text of a node: ``sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])``.

Owns: ``str``/``repr`` of nodes (``sg.formula``), minimal parentheses from each op's
``prec``, the text of shown attributes (``attr_text``), ``printable`` (how every view shows a
name), ``bottom_up`` (the bounded walk the text views share), and how constants read
(``const_text``: ``eye(2)``, ``ones(3)``). Printing stays faithful but hides what derivative
builders leave behind: a product with a broadcast one of the same shape
(``broadcast_to(1, shape=(3,))*v``) prints as ``v``, and a minus moves to the front of a
product or becomes a subtraction (``x*-sin(x)`` is ``-x*sin(x)``, ``a + -b`` is ``a - b``;
IEEE negation is exact, so the text computes the same numbers; not where a negation
wraps in a narrower integer dtype: ``x + -u`` of a uint8 ``u`` stays so). A right operand
of equal precedence keeps its brackets (``x*(y*z)``: floats do not reassociate), and
numbers print as the shortest text that reads back as them (``-0.0`` included). Shared
subexpressions are printed where they are used (``sg.pprint`` names them once instead).
Iterative and bounded:
a node deeper than ``max_depth`` prints as ``…``, so the text of a node at the end of a
100,000-node chain is short and instant.

Imports: ``symgraph.graph`` and ``symgraph.ops`` (op records, constant labels, index text).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgraph.graph import Node, SymgraphError
from symgraph.ops.arithmetic import DIVIDE, MULTIPLY, NEGATIVE
from symgraph.ops.core import CONST, VAR, const_label
from symgraph.ops.linalg import MATMUL
from symgraph.ops.reduce import BROADCAST_TO
from symgraph.ops.shape import EXPAND_DIMS, GETITEM, RESHAPE, format_index
from symgraph.ops.values import fill_label, format_number

ATOM = 100
MAX_DEPTH = 40
MAX_CHARS = 2000
# How tightly a leading minus binds (the prec of negative): a negative constant ``-3`` too.
PREFIX = 30


def attr_text(node: Node) -> str:
    """The attributes ``node`` shows, as ``, axis=0`` (those at their default left out)."""
    parts = []
    for key in node.opdef.show_attrs:
        value = node.attrs.get(key)
        default = node.opdef.defaults.get(key)
        if callable(default):
            default = default(node)
        if value is None or value is False or (default is not None and value == default
                                               and _same_zero(value, default)):
            continue
        if key == "index":
            value = format_index(value)
        elif isinstance(value, tuple) and len(value) == 1 and key == "axis":
            value = value[0]
        parts.append(f"{key}={value}")
    return printable("".join(", " + p for p in parts))


def _same_zero(value: object, default: object) -> bool:
    """False where ``value`` equals ``default`` only as -0.0 equals 0.0 (``nan=-0.0`` is
    not the default ``nan=0.0``: it shows)."""
    if isinstance(value, (float, np.floating)) and isinstance(default, (float, int)):
        return bool(np.signbit(value) == np.signbit(float(default)))
    return True


def printable(text: str) -> str:
    """``text`` with each character that is not printable written as a Python escape:
    control characters (which a terminal obeys), lone surrogates (which UTF-8 cannot
    encode), line separators and non-characters (which XML forbids). Every text view
    shows names through it, so a name can neither break an SVG or DOT file nor drive the
    terminal it is printed in.

    >>> print(printable("x\\x1b[2J"), printable("w\\udc80"), printable("αβ 1"))
    x\\x1b[2J w\\udc80 αβ 1
    """
    if text.isprintable():  # nearly always: one pass in C
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(c: str) -> str:
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else (
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def const_text(node: Node) -> str:
    """How a constant reads: its name, its value (``2``, ``[1, 0]``, ``[[1, 0], [0, -1]]``
    up to four numbers), ``ones(3)``/``zeros(2, 2)`` for a broadcast fill, ``eye(2)`` for an identity
    (the rows ``sg.jacobian`` seeds with), ``diag([2, 2, 2])`` or ``diag(full(9, 2))`` for a
    diagonal matrix (a Hessian of a sum of squares), else ``const(shape)``.

    >>> import numpy as np, symgraph as sg
    >>> with sg.Graph():
    ...     print(const_text(sg.const(np.eye(3))), const_text(sg.const(np.ones(9))),
    ...           const_text(sg.const([[1.0, 0.0], [0.0, -1.0]])))
    eye(3) ones(9) [[1, 0], [0, -1]]
    """
    if node.name:
        return node.name
    value = node.attrs["value"]
    if value.ndim and any(value.strides) and 1 < value.size <= 65536 and (
            value.dtype.kind in "iuf" and (value == value.flat[0]).all()
            and (np.signbit(value) == np.signbit(value.flat[0])).all()):  # -0.0 is no 0
        return fill_label(value.flat[0], value.shape)  # as a fill: ones(9), zeros(3, 3)
    if value.ndim >= 2 and any(value.strides) and 0 < value.size <= 65536:
        n = value.shape[0]
        if value.size == n * n and np.array_equal(value.reshape(n, n), np.eye(n)):
            rest = value.shape if value.ndim > 2 else None
            return f"eye({n})" + ("" if rest is None else f".reshape{rest}")
        if value.size <= 4 and value.dtype.kind in "iuf":
            return _nested(value)
        if value.shape == (n, n) and value.dtype.kind in "iuf" and _is_diagonal(value):
            diagonal = np.diagonal(value)  # e.g. the Hessian of sum(x*x): diag(full(3, 2))
            same = (diagonal == diagonal[0]).all() and (
                np.signbit(diagonal) == np.signbit(diagonal[0])).all()
            if same and n > 4:
                return f"diag({fill_label(diagonal[0], (n,))})"
            if n <= 4:
                return f"diag({_nested(diagonal)})"
    return const_label(node)


def _is_diagonal(square: np.ndarray) -> bool:
    """Zeros off the diagonal, each +0.0 (a -0.0 there must show)."""
    off = square - np.diag(np.diagonal(square))
    return not np.count_nonzero(off) and not np.signbit(off).any()


def _nested(value: np.ndarray) -> str:
    if value.ndim:
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return format_number(value[()])  # the text that reads back as the same number


_RESHAPINGS = (BROADCAST_TO, EXPAND_DIMS, RESHAPE)  # of a fill, a fill of the same number


def fill_value(node: Node) -> float | None:
    """The number an unnamed fill constant repeats, or a ``broadcast_to``, ``expand_dims``
    or ``reshape`` of one (a ones/zeros array a derivative builder made), else None."""
    while node.opdef in _RESHAPINGS and len(node.inputs) == 1:
        node = node.inputs[0]
    if node.opdef is not CONST or node.name:
        return None
    value = node.attrs["value"]
    if value.size and (value.ndim == 0 or not any(value.strides)):
        return value.flat[0]
    return None


def unit_operand(node: Node) -> int | None:
    """For ``v*ones`` (a product with a broadcast one that changes neither shape nor
    dtype: a seed left by ``grad``), the index of ``v``; else None. ``v*1`` is ``v``
    exactly, NaN, inf and -0 included."""
    if node.opdef is not MULTIPLY or len(node.inputs) != 2:
        return None
    for k in (0, 1):
        one, kept = node.inputs[1 - k], node.inputs[k]
        if (getattr(one, "opdef", None) in (CONST, *_RESHAPINGS) and one.shape
                and fill_value(one) == 1 and getattr(kept, "shape", None) == node.shape
                and getattr(kept, "dtype", None) == node.dtype):
            return k
    return None


def prec(node: Node) -> int:
    """How tightly ``node``'s text binds: its op's ``prec`` (``ATOM`` for calls and inputs)."""
    if node.opdef is CONST and not node.name and node.attrs["value"].ndim == 0:
        value = node.attrs["value"][()]  # -3 and -0.0 bind like unary minus
        return PREFIX if value < 0 or (value == 0 and np.signbit(value)) else ATOM
    if node.opdef is MULTIPLY:
        kept = unit_operand(node)
        if kept is not None:  # printed as that operand alone
            return prec(node.inputs[kept])
    return node.opdef.prec


def _wrap(text: str, inner: int, needed: int, strict: bool = False) -> str:
    return f"({text})" if inner < needed or (strict and inner == needed) else text


def render(node: Node, args: list[str]) -> str:
    """The text of ``node`` given the texts of its inputs (``args``)."""
    op = node.opdef
    if op is VAR:
        return printable(node.name)
    if op is CONST:
        return printable(const_text(node))  # a named constant shows its name
    if op in _RESHAPINGS and fill_value(node) is not None:  # ones(3), not broadcast_to(1, ...)
        return fill_label(fill_value(node), node.shape)
    if op is GETITEM:
        return _wrap(args[0], prec(node.inputs[0]), op.prec) + format_index(node.attrs["index"])
    if op.infix and len(args) == 1:  # prefix minus
        return op.infix + _wrap(args[0], prec(node.inputs[0]), op.prec, strict=True)
    if op.infix and len(args) == 2:
        kept = unit_operand(node)
        if kept is not None:
            return args[kept]
        a, b = node.inputs
        right_assoc = op.infix == "**"
        left = _wrap(args[0], prec(a), op.prec, strict=right_assoc)
        # a right operand of the same precedence is bracketed for every left-associative
        # op, + and * included: floats do not reassociate (x*(y*0) is 0 at x=1e308,
        # y=1e200, where x*y*0 is NaN; 1e308 + (1e308 - 1e308) is finite, 1e308 + 1e308 -
        # 1e308 is inf), and the text must compute what the graph does
        right = _wrap(args[1], prec(b), op.prec, strict=not right_assoc)
        # Tight products (w[0]*x[0]) and spaced sums, as in the CS231n notes.
        sep = op.infix if op.infix in ("*", "/", "**") else f" {op.infix} "
        if right.startswith("-") and _signs_exact(node):  # a right operand's leading minus
            if op.infix in ("*", "/", "@"):  # a*-b = -a*b: the minus opens the product
                left, right = (left[1:] if left.startswith("-") else "-" + left), right[1:]
            elif op.infix in ("+", "-"):  # a + -b = a - b, a - -b = a + b
                sep, right = (" - " if op.infix == "+" else " + "), right[1:]
        return left + sep + right
    label = op.label or op.name
    return f"{label}({', '.join(args)}{attr_text(node)})"


_SIGNED = frozenset({NEGATIVE, MULTIPLY, DIVIDE, MATMUL})  # ops a leading minus passes


def _signs_exact(node: Node) -> bool:
    """Whether a minus may move within ``node``'s text (``a*-b`` as ``-a*b``, ``a + -b``
    as ``a - b``): when every node along its operands' leading products and negations
    computes in ``node``'s dtype or in floats, where negation is exact. A negation in a
    narrower integer dtype wraps (``-uint8(3)`` is 253: ``x + -u`` is not ``x - u``)."""
    stack = [(i, 0) for i in node.inputs]
    while stack:
        n, depth = stack.pop()
        if n.dtype != node.dtype and n.dtype.kind != "f":
            return False
        if n.opdef in _SIGNED:
            if depth > MAX_DEPTH:
                return False
            stack.extend((i, depth + 1) for i in n.inputs)
    return True


def formula(node: Node, max_depth: int = MAX_DEPTH, max_chars: int = MAX_CHARS) -> str:
    """The infix formula of ``node`` (what ``str(node)`` shows).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    ...     f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    >>> sg.formula(f)
    'sigmoid(w[0]*x[0] + w[1]*x[1] + w[2])'
    """
    if not isinstance(node, Node):
        raise SymgraphError(f"sg.formula needs a symgraph node, got {type(node).__name__}")

    def capped(n: Node, args: list[str]) -> str:
        s = render(n, args)
        return s if len(s) <= max_chars else s[: max_chars - 1] + "…"

    return bottom_up(node, max_depth, capped, "…")


def bottom_up(node: Node, max_depth: int, render: Callable[[Node, list[str]], str],
              elided: str) -> str:
    """The text of ``node``, made bottom-up by ``render(n, texts of n's inputs)`` over the
    nodes within ``max_depth`` edges of it; deeper nodes with inputs print as ``elided``.
    Depths are breadth-first, so a node reached by a short path prints in full.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(sg.sin(sg.sin(x)))
    >>> bottom_up(y, 2, lambda n, args: f"{n.op}({', '.join(args)})" if args else n.name, "...")
    'sin(sin(...))'
    """
    depth = {node.id: 0}
    frontier = [node]
    nodes = {node.id: node}
    while frontier:
        nxt = []
        for n in frontier:
            d = depth[n.id]
            if d >= max_depth:
                continue
            for inp in n.inputs:
                if inp.id not in depth:
                    depth[inp.id] = d + 1
                    nodes[inp.id] = inp
                    nxt.append(inp)
        frontier = nxt
    # In id order: inputs always have smaller ids than their consumers.
    text: dict[int, str] = {}
    for nid in sorted(nodes):
        n = nodes[nid]
        if depth[nid] >= max_depth and n.inputs:
            text[nid] = elided
        else:
            text[nid] = render(n, [text.get(i.id, elided) for i in n.inputs])
    return text[node.id]

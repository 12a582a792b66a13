"""Text views of graphs: ``pprint``, ``debugprint``, ``latex`` and ``stats``.

Owns: the formula with shared subexpressions named once (CasADi's ``@1 = ...``), the
one-line-per-node listing (PyTensor's ``debugprint``, flat so shared nodes appear once and
are referred to by id), LaTeX for notebooks, growth counts, and the compact text of a
value (``format_value``) that the renderer puts on nodes.

Every walk goes through node ids in increasing order (a topological order), never by
recursion, so a chain of 100,000 nodes is fine.

Imports: ``symgraph.graph``, ``symgraph.ops`` (registry, constant labels, index text),
``symgraph.formula`` (its per-op infix rendering is reused, not repeated),
``symgraph.engine`` (argument checking only).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from symgraph.engine import _outputs
from symgraph.formula import ATOM, _attr_text, _prec, _render, bottom_up, printable
from symgraph.graph import Node, SymgraphError, ancestors
from symgraph.ops.core import OPS, const_label
from symgraph.ops.shape import format_index

Outputs = Node | Sequence[Node]

# --- pprint ------------------------------------------------------------------------------------


def _uses(nodes: list[Node]) -> Counter:
    """How many arguments refer to each node (``x*x`` uses ``x`` twice)."""
    uses: Counter = Counter()
    for n in nodes:
        for inp in n.inputs:
            uses[inp.id] += 1
    return uses


def _prefix(nodes: list[Node], base: str) -> str:
    """``base`` (``t``, ``out``), unless a user's name already looks like ``t3``: then
    ``_t``, ``__t``... so a generated name never reads as one of the user's inputs."""
    names = {n.name for n in nodes if n.name}
    prefix = base
    while any(re.fullmatch(re.escape(prefix) + r"\d*", name) for name in names):
        prefix = "_" + prefix
    return prefix


def _atom(name: str) -> SimpleNamespace:
    # Stands in for a named subexpression: formula's rules see an input-like atom, so a
    # name is never wrapped in parentheses.
    return SimpleNamespace(op="var", opdef=OPS["var"], name=name, attrs={}, inputs=())


def _worth_naming(n: Node) -> bool:
    """Shared nodes get a name, except an indexed input (``w[0]``): its text is as short as
    a name, and naming it would hide the formula's shape."""
    return bool(n.inputs) and not (n.op == "getitem" and not n.inputs[0].inputs)


def pprint(outputs: Outputs, width: int = 80) -> str:
    """The formula of ``outputs`` with every shared subexpression named once.

    A node used by more than one argument becomes ``t1 = ...`` (each name is defined
    before it is used), and when a right-hand side would grow longer than ``width``
    characters its longest argument gets a name of its own, so lines stay short however
    deep the graph
    and a derivative graph stays readable. Indexed inputs such as ``w[0]`` are never
    named. The outputs are ``out`` (one node) or ``out0, out1, ...`` (a list) and come
    last, in the order given, unless a later line uses one (then it is defined where
    needed and referred to by name). Names are deterministic: the same graph always
    prints the same text.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     w = sg.var("w")
    ...     z = sg.sin(sg.sin(sg.sin(w)))
    ...     dz = sg.grad(z, w)
    >>> print(sg.pprint([z, dz]))
    t1 = sin(w)
    t2 = sin(t1)
    out0 = sin(t2)
    out1 = cos(t2)*cos(t1)*cos(w)
    """
    outs, single = _outputs(outputs, "sg.pprint")
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise SymgraphError(f"sg.pprint: width must be a positive int, got {width!r}")
    nodes = ancestors(outs)
    uses = _uses(nodes)
    base = _prefix(nodes, "out")
    out_names: dict[int, str] = {}
    for i, o in enumerate(outs):
        out_names.setdefault(o.id, base if single else f"{base}{i}")
    prefix = _prefix(nodes, "t")
    text: dict[int, str] = {}  # inline text of the nodes not given a name
    named: dict[int, str] = {}
    lines: list[str] = []
    last: dict[int, str] = {}  # outputs no other node uses: printed at the end

    def body(n: Node) -> str:
        args = [named.get(i.id) or text[i.id] for i in n.inputs]
        shown: Any = n
        if any(i.id in named for i in n.inputs):
            inputs = tuple(_atom(named[i.id]) if i.id in named else i for i in n.inputs)
            shown = SimpleNamespace(op=n.op, opdef=n.opdef, name=n.name, attrs=n.attrs,
                                    inputs=inputs)
        return _render(shown, args)

    temps = itertools.count(1)

    def name(n: Node, line: str) -> None:
        named[n.id] = f"{prefix}{next(temps)}"
        lines.append(f"{named[n.id]} = {line}")

    for n in nodes:
        line = body(n)
        while len(line) > width:  # split off the longest inline argument
            inline = [i for i in n.inputs if i.id in text and _worth_naming(i)]
            if not inline:
                break
            longest = max(inline, key=lambda i: len(text[i.id]))
            name(longest, text.pop(longest.id))
            line = body(n)
        if n.id in out_names:
            named[n.id] = out_names[n.id]
            if uses[n.id]:
                lines.append(f"{named[n.id]} = {line}")
            else:
                last[n.id] = f"{named[n.id]} = {line}"
        elif _worth_naming(n) and uses[n.id] > 1:
            name(n, line)
        else:
            text[n.id] = line
    for i, o in enumerate(outs):
        if o.id in last:
            lines.append(last.pop(o.id))
        elif not single and out_names[o.id] != f"{base}{i}":
            lines.append(f"{base}{i} = {out_names[o.id]}")  # an output listed twice
    return "\n".join(lines)


# --- debugprint --------------------------------------------------------------------------------


def _shape_text(shape: tuple) -> str:
    """A shape as Python writes it, ``?`` for a dimension known only when fed: ``(?, 3)``."""
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def debugprint(outputs: Outputs) -> str:
    """One line per node of the outputs' ancestors, in graph (topological) order.

    Columns: ``#id``, op (with the name of an input or the value of a constant), shape,
    dtype, derivative order, the ids of the inputs (one per argument, so a shared node
    is printed once and referred to by id), then for derivative nodes ``grad_of #k`` (the
    forward node whose rule built it), the scope if any, and ``<- out0`` on outputs.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * sg.sin(x)
    >>> print(sg.debugprint(y))
    #0  var x     ()  float64  order 0
    #1  sin       ()  float64  order 0  #0
    #2  multiply  ()  float64  order 0  #1 #1  <- out
    """
    outs, single = _outputs(outputs, "sg.debugprint")
    marks: dict[int, list[str]] = {}
    for i, o in enumerate(outs):
        marks.setdefault(o.id, []).append("out" if single else f"out{i}")
    rows = []
    for n in ancestors(outs):
        if n.op == "var":
            op = f"var {printable(n.name)}"
        elif n.op == "const":
            op = f"const {printable(const_label(n))}"
        elif n.op == "getitem":
            op = "getitem " + format_index(n.attrs["index"])
        else:
            op = n.op + _attr_text(n).replace(", ", " ")
        extra = []
        if n.inputs:
            extra.append(" ".join(f"#{i.id}" for i in n.inputs))
        if n.grad_of is not None:
            extra.append(f"grad_of #{n.grad_of.id}")
        if n.scope:
            extra.append(f"scope {printable(n.scope)}")
        if n.id in marks:
            extra.append("<- " + ", ".join(marks[n.id]))
        rows.append((f"#{n.id}", op, _shape_text(n.shape), str(n.dtype), f"order {n.order}",
                     "  ".join(extra)))
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:5], widths)).rstrip()
        + ("  " + r[5] if r[5] else "")
        for r in rows
    )


# --- latex ---------------------------------------------------------------------------------------

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
          "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi",
          "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi",
          "Psi", "Omega"}
_FUNCS = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "tanh": r"\tanh", "exp": r"\exp",
          "log": r"\log", "sigmoid": r"\sigma", "max": r"\max"}
_RELATIONS = {"<": "<", "<=": r"\le", ">": ">", ">=": r"\ge", "!=": r"\ne", "*": r"\cdot",
              "@": r"\,", "+": "+", "-": "-"}
_NAME = re.compile(r"([A-Za-z]+)_?(\d+)")
_NUMBER = re.compile(r"-?[\d.]+(e[+-]?\d+)?")


def _latex_name(name: str) -> str:
    match = _NAME.fullmatch(name)
    base, sub = (match.group(1), match.group(2)) if match else (name, None)
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1 or not base.isalpha():
        base = r"\mathrm{" + _escape(base) + "}"
    return base if sub is None else f"{base}_{{{sub}}}"


def _latex_wrap(text: str, inner: int, needed: int, strict: bool = False) -> str:
    if inner < needed or (strict and inner == needed):
        return rf"\left({text}\right)"
    return text


_NEG = 15  # a leading minus binds looser than a product in math: a \cdot \left(-b\right)


def _latex_prec(n: Node) -> int:
    """Precedence as LaTeX shows it: braces and fractions delimit themselves."""
    if n.op in ("getitem", "divide", "sqrt", "abs", "square") or _is_plain_transpose(n):
        return ATOM
    if n.op == "negative":
        return _NEG
    prec = _prec(n)
    return _NEG if prec == 30 else prec  # a negative constant


def _is_plain_transpose(n: Node) -> bool:
    """``x.T`` (all axes reversed), which math writes as a superscript."""
    if n.op != "transpose":
        return False
    axes = n.attrs.get("axes")
    return axes is None or tuple(axes) == tuple(range(len(n.shape) - 1, -1, -1))


def _base(n: Node, text: str) -> str:
    """The base of a power: an atom, else parenthesised (a fraction too)."""
    if _latex_prec(n) < ATOM or n.op in ("divide", "transpose", "power", "square"):
        text = rf"\left({text}\right)"
    return _group(text)


_SIMPLE = re.compile(r"\\?[A-Za-z]+|\d+")


def _group(text: str) -> str:
    """``text`` ready for a sub- or superscript: braces unless it is one symbol."""
    return text if _SIMPLE.fullmatch(text) else "{" + text + "}"


def _latex_node(n: Node, args: list[str]) -> str:
    op = n.opdef
    if n.op == "var":
        return _latex_name(n.name)
    if n.op == "const":
        if n.name:
            return _latex_name(n.name)
        label = const_label(n)
        return label if _NUMBER.fullmatch(label) else r"\mathrm{" + _escape(label) + "}"
    if n.op == "getitem":
        base = _latex_wrap(args[0], _latex_prec(n.inputs[0]), ATOM)
        return f"{_group(base)}_{{{_escape(format_index(n.attrs['index'])[1:-1])}}}"
    if n.op == "divide":
        return rf"\frac{{{args[0]}}}{{{args[1]}}}"
    if n.op == "power":
        return _base(n.inputs[0], args[0]) + "^{" + args[1] + "}"
    if n.op == "square":
        return _base(n.inputs[0], args[0]) + "^{2}"
    if n.op == "sqrt":
        return rf"\sqrt{{{args[0]}}}"
    if n.op == "abs":
        return rf"\left|{args[0]}\right|"
    if _is_plain_transpose(n):
        return _base(n.inputs[0], args[0]) + r"^{\top}"
    if op.infix and len(args) == 1:
        return "-" + _latex_wrap(args[0], _latex_prec(n.inputs[0]), _NEG, strict=True)
    if op.infix and len(args) == 2:
        a, b = n.inputs
        left_prec, right_prec = _latex_prec(a), _latex_prec(b)
        # A minus sign may open a product or sum (-a b, -a + b) but not follow an operator.
        left = _latex_wrap(args[0], ATOM if left_prec == _NEG else left_prec, op.prec)
        if right_prec == _NEG:
            right = rf"\left({args[1]}\right)"
        else:
            right = _latex_wrap(args[1], right_prec, op.prec, strict=op.infix in "-@")
        return f"{left} {_RELATIONS.get(op.infix, op.infix)} {right}"
    func = _FUNCS.get(n.op) or r"\operatorname{" + _escape(op.label or op.name) + "}"
    attrs = _escape(_attr_text(n))
    return rf"{func}\left({', '.join(args)}{attrs}\right)"


_TEX_SPECIAL = re.compile(r"[_#$%&{}\\^~]")
_TEX_ESCAPES = {"\\": r"\backslash{}", "^": r"\hat{}", "~": r"\tilde{}"}


def _escape(text: str) -> str:
    """Characters LaTeX treats specially, escaped (user names and attribute text): no
    name can run a command (``\\input{x}``) or open a superscript. Unprintable characters
    are shown as Python escapes first.

    >>> print(_escape("\\\\input{x}"), _escape("a^b~c_1"))
    \\backslash{}input\\{x\\} a\\hat{}b\\tilde{}c\\_1
    """
    return _TEX_SPECIAL.sub(lambda m: _TEX_ESCAPES.get(m[0]) or "\\" + m[0], printable(text))


def latex(node: Node, max_depth: int = 40) -> str:
    """LaTeX math for ``node`` (without ``$``), for notebooks and papers.

    Parts deeper than ``max_depth`` are shown as ``\\ldots``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     w, x = sg.var("w", shape=(3,)), sg.var("x", shape=(2,))
    ...     f = sg.sigmoid(w[0] * x[0] + w[2]) / x[1] ** 2
    >>> print(sg.latex(f))
    \\frac{\\sigma\\left(w_{0} \\cdot x_{0} + w_{2}\\right)}{{x_{1}}^{2}}
    """
    if not isinstance(node, Node):
        raise SymgraphError(f"sg.latex needs one symgraph node, got {type(node).__name__}")
    return bottom_up(node, max_depth, _latex_node, r"\ldots")


# --- stats -------------------------------------------------------------------------------------


def stats(outputs: Outputs) -> dict[str, Any]:
    """Counts over the ancestors of ``outputs``: how big a graph (or a derivative) is.

    Keys: ``nodes``, ``edges`` (one per argument, so ``x*x`` has 2), ``by_op`` and
    ``by_order`` (node counts per op name and per derivative order, sorted by key),
    ``inputs`` (``var`` nodes), ``depth`` (edges on the longest path from an input or
    constant to an output).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x * x
    ...     dy = sg.grad(y, x)
    >>> s = sg.stats([y, dy])
    >>> s["nodes"], s["edges"], s["by_order"]
    (3, 4, {0: 2, 1: 1})
    """
    outs, _ = _outputs(outputs, "sg.stats")
    nodes = ancestors(outs)
    by_op = Counter(n.op for n in nodes)
    by_order = Counter(n.order for n in nodes)
    level: dict[int, int] = {}
    for n in nodes:
        level[n.id] = 1 + max((level[i.id] for i in n.inputs), default=-1)
    return {
        "nodes": len(nodes),
        "edges": sum(len(n.inputs) for n in nodes),
        "by_op": dict(sorted(by_op.items())),
        "by_order": dict(sorted(by_order.items())),
        "inputs": by_op.get("var", 0),
        "depth": max(level[o.id] for o in outs),
    }


# --- values ------------------------------------------------------------------------------------


def _number(v: Any, digits: int) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return f"{float(v):.{digits}g}"


def format_value(value: Any, digits: int = 4, small: int = 6) -> str:
    """A value as a node label shows it: ``0.7311``; ``[1, -2.5]`` for at most ``small``
    elements; otherwise the shape and range, ``(100, 10) -2.31..4.5``.

    >>> import numpy as np
    >>> format_value(np.float64(2) / 3), format_value(np.arange(3.0)), format_value(np.eye(9))
    ('0.6667', '[0, 1, 2]', '(9, 9) 0..1')
    """
    array = np.asarray(value)
    if array.ndim == 0:
        return _number(array[()], digits)
    if array.size == 0:
        return f"{_shape_text(array.shape)} empty"
    if array.size <= small:
        return np.array2string(
            array, separator=", ", formatter={"all": lambda v: _number(v, digits)}
        ).replace("\n", "")
    if array.dtype.kind == "f" and np.isnan(array).any():
        finite = array[~np.isnan(array)]
        rng = "nan" if finite.size == 0 else (
            f"{_number(finite.min(), digits)}..{_number(finite.max(), digits)}, nan")
    else:
        rng = f"{_number(array.min(), digits)}..{_number(array.max(), digits)}"
    return f"{_shape_text(array.shape)} {rng}"

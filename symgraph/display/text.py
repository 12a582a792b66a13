"""Text views of graphs: ``pprint``, ``debugprint``, ``stats`` and ``format_value``.

Owns: the formula with shared subexpressions named once (CasADi's ``@1 = ...``), the
one-line-per-node listing (PyTensor's ``debugprint``, flat so shared nodes appear once and
are referred to by id), growth counts, and the compact text of a value (``format_value``)
and of a shape (``shape_text``) that pictures put on nodes. Loop bodies in text: pprint
and debugprint show a loop's bodies beneath it, indented; ``body_title`` and ``role_name``
are the words pictures use for them too.

Every walk goes through node ids in increasing order (a topological order), never by
recursion, so a chain of 100,000 nodes is fine (only bodies inside loops recurse, one
level per nesting of loops).

Imports: ``symgraph.graph``, ``symgraph.ops`` (op records, constant labels, index text),
``symgraph.display.formula`` (its per-op infix rendering is reused, not repeated),
``symgraph.plan`` (argument checking only), ``symgraph.io.bodies`` (a loop's bodies).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from symgraph.display.formula import (
    attr_text,
    const_text,
    fill_value,
    printable,
    render,
    unit_operand,
)
from symgraph.graph import Node, SymgraphError, ancestors
from symgraph.io.bodies import bodies_of
from symgraph.ops.core import CONST, VAR
from symgraph.ops.shape import GETITEM, format_index
from symgraph.feeds import as_outputs as _outputs

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


def _atom(name: str, n: Node) -> SimpleNamespace:
    # Stands in for a named subexpression: formula's rules see an input-like atom, so a
    # name is never wrapped in parentheses.
    return SimpleNamespace(op=VAR.name, opdef=VAR, name=name, attrs={}, inputs=(),
                           shape=n.shape, ndim=n.ndim, dtype=n.dtype)


def _worth_naming(n: Node) -> bool:
    """Shared nodes get a name, except an indexed input (``w[0]``) or a fill (``ones(3)``):
    their text is as short as a name, and naming it would hide the formula's shape. A
    product with a broadcast one prints as its other operand, so is named as that is."""
    kept = unit_operand(n)
    if kept is not None:
        return _worth_naming(n.inputs[kept])
    return (bool(n.inputs) and not (n.opdef is GETITEM and not n.inputs[0].inputs)
            and fill_value(n) is None)


def pprint(outputs: Outputs, width: int = 80) -> str:
    """The formula of ``outputs`` with every shared subexpression named once.

    A node used by more than one argument becomes ``t1 = ...`` (each name is defined
    before it is used), and when a right-hand side would grow longer than ``width``
    characters its longest argument gets a name of its own, so lines stay short however
    deep the graph
    and a derivative graph stays readable. Indexed inputs such as ``w[0]`` are never
    named. A loop node (``scan``, ``cond``...) is always named and its bodies follow its
    line, indented, with the placeholders called by role (``carry0``, ``x0``,
    ``closure0``) and the results by what they become (``carry0'``, ``y0``). The outputs
    are ``out`` (one node) or ``out0, out1, ...`` (a list) and come
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
    base = _prefix(nodes, "out")
    labels = [base if single else f"{base}{i}" for i in range(len(outs))]
    lines = _lines(nodes, outs, labels, {}, _prefix(nodes, "t"), itertools.count(1), width, "")
    return "\n".join(lines)


def _lines(nodes: list[Node], outs: list[Node], labels: list[str], preset: dict[int, str],
           prefix: str, temps: Any, width: int, indent: str) -> list[str]:
    """pprint's lines for ``nodes`` (a topological list ending in ``outs``, which are
    called ``labels``); ``preset`` names nodes given by name (a body's placeholders). A
    loop node is always named, and its bodies follow its line, indented."""
    uses = _uses(nodes)
    out_names: dict[int, str] = {}
    for o, text_ in zip(outs, labels):
        out_names.setdefault(o.id, text_)
    text: dict[int, str] = {}  # inline text of the nodes not given a name
    named: dict[int, str] = {}
    lines: list[str] = []
    last: dict[int, list[str]] = {}  # outputs no other node uses: printed at the end

    def body(n: Node) -> str:
        args = [named.get(i.id) or text[i.id] for i in n.inputs]
        shown: Any = n
        if any(i.id in named for i in n.inputs):
            inputs = tuple(_atom(named[i.id], i) if i.id in named else i for i in n.inputs)
            # (ndim too: an op's default attributes, axis=-1 say, read it)
            shown = SimpleNamespace(op=n.op, opdef=n.opdef, name=n.name, attrs=n.attrs,
                                    inputs=inputs, shape=n.shape, ndim=n.ndim, dtype=n.dtype)
        return render(shown, args)

    def name(n: Node, line: str) -> None:
        named[n.id] = f"{prefix}{next(temps)}"
        lines.append(f"{indent}{named[n.id]} = {line}")

    for n in nodes:
        if n.id in preset:
            named[n.id] = preset[n.id]
            if n.id in out_names:
                last[n.id] = [f"{indent}{out_names[n.id]} = {preset[n.id]}"]
            continue
        kept = unit_operand(n)
        if kept is not None and n.inputs[kept].id in named and n.id not in out_names:
            named[n.id] = named[n.inputs[kept].id]  # v*ones prints as v: no line of its own
            continue
        line = body(n)
        while len(line) > width:  # split off the longest inline argument
            inline = [i for i in n.inputs if i.id in text and _worth_naming(i)]
            if not inline:
                break
            longest = max(inline, key=lambda i: len(text[i.id]))
            name(longest, text.pop(longest.id))
            line = body(n)
        held = bodies_of(n)
        if n.id in out_names:
            named[n.id] = out_names[n.id]
            shown = [f"{indent}{named[n.id]} = {line}"]
            shown += _body_lines(n, held, named[n.id], prefix, temps, width, indent)
            if uses[n.id]:
                lines.extend(shown)
            else:
                last[n.id] = shown
        elif (_worth_naming(n) and uses[n.id] > 1) or held:
            name(n, line)
            lines.extend(_body_lines(n, held, named[n.id], prefix, temps, width, indent))
        else:
            text[n.id] = line
    for o, label in zip(outs, labels):
        if o.id in last:
            lines.extend(last.pop(o.id))
        elif out_names[o.id] != label:
            lines.append(f"{indent}{label} = {out_names[o.id]}")  # an output listed twice
    return lines


def _body_lines(loop: Node, held: list, loop_name: str, prefix: str, temps: Any, width: int,
                indent: str) -> list[str]:
    """The bodies of ``loop`` (named ``loop_name``) as pprint shows them, indented."""
    lines = []
    inner = indent + "    "
    for body in held:
        lines.append(f"{indent}  {body_title(loop, body)} of {loop_name}:")
        preset = {n.id: role_name(r) for n, r in zip(body.inputs, body.roles)}
        labels = [role_name(r, result=True) for r in body.out_roles]
        lines += _lines(body.nodes, body.outputs, labels, preset, prefix, temps, width, inner)
    return lines


def body_title(loop: Node, body: Any) -> str:
    """``scan body (40 steps)`` (``, reversed`` for a reverse sweep), ``cond true
    branch``, ``while_loop test``: how pictures and text title a loop's body."""
    what = {"true": "true branch", "false": "false branch"}.get(body.attr, body.attr)
    steps = loop.attrs.get("length")
    if not isinstance(steps, int):
        return f"{loop.op} {what}"
    return f"{loop.op} {what} ({steps} steps{', reversed' if loop.attrs.get('reverse') else ''})"


def role_name(role: str, result: bool = False) -> str:
    """A body placeholder's role as text names it: ``carry 0`` -> ``carry0``; a result
    ``carry out 0`` -> ``carry0'``, ``y 0`` -> ``y0``."""
    if result and role.startswith("carry out "):
        return "carry" + role[len("carry out "):] + "'"
    return role.replace(" ", "")


# --- debugprint --------------------------------------------------------------------------------


def shape_text(shape: tuple) -> str:
    """A shape as Python writes it, ``?`` for a dimension known only when fed: ``(?, 3)``."""
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def debugprint(outputs: Outputs) -> str:
    """One line per node of the outputs' ancestors, in graph (topological) order.

    Columns: ``#id``, op (with the name of an input or the value of a constant), shape,
    dtype, derivative order, the ids of the inputs (one per argument, so a shared node
    is printed once and referred to by id), then for derivative nodes ``grad_of #k`` (the
    forward node whose rule built it), the scope if any, and ``<- out0`` on outputs.
    A loop node's bodies follow it, indented under a title (``scan body (40 steps) of
    #11:``): their placeholders say their role (``carry 0``), their results what they
    become (``<- carry0'``, ``<- y0``).

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
    rows: list[tuple | str] = []
    _rows(ancestors(outs), marks, {}, "", rows)
    cells = [r for r in rows if isinstance(r, tuple)]
    widths = [max(len(r[k]) for r in cells) for k in range(5)]
    return "\n".join(
        r if isinstance(r, str) else
        "  ".join(cell.ljust(w) for cell, w in zip(r[:5], widths)).rstrip()
        + ("  " + r[5] if r[5] else "")
        for r in rows
    )


def _rows(nodes: list[Node], marks: dict[int, list[str]], roles: dict[int, str], indent: str,
          rows: list) -> None:
    """debugprint's rows (a tuple of cells per node, a str per body title); a loop's
    bodies follow its row, indented, placeholders marked with their role."""
    for n in nodes:
        if n.opdef is VAR:
            op = f"{n.op} {printable(n.name)}"
        elif n.opdef is CONST:
            op = f"{n.op} {printable(const_text(n))}"
        elif n.opdef is GETITEM:
            op = f"{n.op} {format_index(n.attrs['index'])}"
        else:
            op = n.op + attr_text(n).replace(", ", " ")
        extra = []
        if n.id in roles:
            extra.append(roles[n.id])
        if n.inputs:
            extra.append(" ".join(f"#{i.id}" for i in n.inputs))
        if n.grad_of is not None:
            extra.append(f"grad_of #{n.grad_of.id}")
        if n.scope:
            extra.append(f"scope {printable(n.scope)}")
        if n.id in marks:
            extra.append("<- " + ", ".join(marks[n.id]))
        rows.append((f"{indent}#{n.id}", op, shape_text(n.shape), str(n.dtype),
                     f"order {n.order}", "  ".join(extra)))
        for body in bodies_of(n):
            rows.append(f"{indent}  {body_title(n, body)} of #{n.id}:")
            inner: dict[int, list[str]] = {}
            for o, r in zip(body.outputs, body.out_roles):
                inner.setdefault(o.id, []).append(role_name(r, result=True))
            _rows(body.nodes, inner, dict(zip((p.id for p in body.inputs), body.roles)),
                  indent + "    ", rows)


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
        "inputs": by_op.get(VAR.name, 0),
        "depth": max(level[o.id] for o in outs),
    }


# --- values ------------------------------------------------------------------------------------


def _number(v: Any, digits: int) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    return "0" if f == 0 else f"{f:.{digits}g}"  # -0.0 too: a picture shows no "-0"


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
        return f"{shape_text(array.shape)} empty"
    if array.size <= small:
        return np.array2string(
            array, separator=", ", formatter=dict(all=lambda v: _number(v, digits))
        ).replace("\n", "")
    if array.dtype.kind == "f" and np.isnan(array).any():
        finite = array[~np.isnan(array)]
        rng = "nan" if finite.size == 0 else (
            f"{_number(finite.min(), digits)}..{_number(finite.max(), digits)}, nan")
    else:
        rng = f"{_number(array.min(), digits)}..{_number(array.max(), digits)}"
    return f"{shape_text(array.shape)} {rng}"

"""Formulas typed by a user, such as ``"sigmoid(w0*x0 + w1*x1 + w2)"``, as symgraph nodes.

Owns: the expression language of the ``symgraph`` command. Text is parsed with Python's
``ast`` (``mode="eval"``) and translated node by node through an explicit whitelist:
numbers, names (each unknown one becomes a scalar ``sg.var``), ``+ - * / **``, unary
``-``/``+``, parentheses and calls of the functions in :data:`FUNCTIONS` by plain name.
Anything else is rejected with :class:`ExpressionError`, naming the column. Nothing is
evaluated: no ``eval``, no constant folding (``9**9**9`` stays three nodes), and the input
is bounded (length, bracket depth, operator count) *before* ``ast.parse`` sees it,
because the parser itself can exhaust memory or the stack on hostile input; the size of
numbers, the count of parts and of distinct names are checked on the syntax tree.

Imports: ``symgraph.graph`` and ``symgraph.ops``.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import Any

from symgraph import ops
from symgraph.graph import Node, SymgraphError

MAX_LENGTH = 10_000
MAX_DEPTH = 100  # brackets open at once
# Operators (+ - * / **, unary signs included) nest the syntax tree as much as brackets do
# (``x+x+...`` is a chain as deep as it is long); CPython's ast construction gives up near
# 3000 levels, so brackets and operators together stay far below that.
MAX_OPERATORS = 1_000
MAX_NODES = 5_000  # expression nodes of the syntax tree
MAX_NAMES = 500  # distinct variables
MAX_DIGITS = 100

def _parseable() -> dict[str, Callable[..., Node]]:
    """The ops that declare ``parse=True``, by name: their public constructors."""
    return {name: getattr(ops, name) for name, op in ops.OPS.items() if op.parse}


FUNCTIONS: dict[str, Callable[..., Node]] = _parseable()
# how many arguments each takes (positional parameters without a default)
_ARITY = {
    name: sum(p.default is inspect.Parameter.empty for p in inspect.signature(f).parameters.values())
    for name, f in FUNCTIONS.items()
}
_BINARY: dict[type, Callable[[Node, Node], Node]] = {
    ast.Add: ops.add, ast.Sub: ops.subtract, ast.Mult: ops.multiply, ast.Div: ops.divide,
    ast.Pow: ops.power,
}
_SYMBOL = {
    ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~",
}
# What a user wrote that is not allowed, in words, for the error message.
_WHAT = {
    ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension",
    ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.IfExp: "if/else",
    ast.Starred: "*unpacking", ast.NamedExpr: "an assignment (:=)", ast.Tuple: "a tuple",
    ast.List: "a list", ast.Dict: "a dict", ast.Set: "a set", ast.JoinedStr: "an f-string",
    ast.keyword: "a keyword argument", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Slice: "a slice",
}


class ExpressionError(SymgraphError):
    """A formula that cannot be read; ``column`` (1-based, or None) says where.

    >>> from symgraph.parse import parse_expression, ExpressionError
    >>> try:
    ...     parse_expression("sin(x).real")
    ... except ExpressionError as e:
    ...     print(e.column, e)
    1 column 1: attribute access is not allowed ('sin(x).real'); use names, numbers,
    + - * / ** and calls like sin(x)
    """

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message if column is None else f"column {column}: {message}")
        self.column = column


def parse_expression(text: str, variables: dict[str, Node] | None = None) -> Node:
    """The node for the formula ``text``, built in the default graph.

    Names found in ``variables`` stand for those nodes; every other name becomes a new
    scalar ``sg.var`` and is added to ``variables`` (pass a dict to see them). Numbers
    become float64 constants.

    >>> import symgraph as sg
    >>> from symgraph.parse import parse_expression
    >>> names = {}
    >>> with sg.Graph():
    ...     f = parse_expression("sigmoid(w0*x0 + w1*x1 + w2)", names)
    >>> str(f), sorted(names)
    ('sigmoid(w0*x0 + w1*x1 + w2)', ['w0', 'w1', 'w2', 'x0', 'x1'])
    >>> round(float(sg.evaluate(f, {"w0": 2, "w1": -3, "w2": -3, "x0": -1, "x1": -2})), 4)
    0.7311
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a string, got {type(text).__name__}")
    variables = {} if variables is None else variables
    text = text.strip()  # (Python would take a leading blank for an indent)
    tree = _parse(text)
    _check(tree, text)
    return _translate(tree, text, variables)


def _parse(text: str) -> ast.Expression:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression has {len(text)} characters, more than the limit of {MAX_LENGTH}"
        )
    if not text.strip():
        raise ExpressionError("the expression is empty")
    depth = 0
    for col, ch in enumerate(text, 1):
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError(
                    f"brackets are nested more than {MAX_DEPTH} deep; simplify the expression", col
                )
        elif ch in ")]}":
            depth -= 1
    operators = sum(text.count(c) for c in "+-*/") - text.count("**")
    if operators > MAX_OPERATORS:
        raise ExpressionError(
            f"the expression has {operators} operators (+ - * / **), more than the limit of "
            f"{MAX_OPERATORS}; split it up"
        )
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        column = exc.offset if exc.offset and exc.lineno == 1 else None
        if exc.offset == 0 and exc.lineno == 1:  # CPython's way of saying "at the end"
            column = len(text.split("\n", 1)[0]) + 1
        detail = "" if exc.msg == "invalid syntax" else f" ({exc.msg})"
        if column is not None:  # offset counts characters here, unlike ast's col_offset
            near = " ".join(text.split("\n", 1)[0][column - 1:column + 19].split())
            detail += f" at {near!r}" if near else " at the end"
        raise ExpressionError(f"invalid syntax{detail}", column) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(
            "the expression nests too deeply for the parser (long chains of unary signs or "
            "powers, or very long sums); split it up"
        ) from None
    except ValueError as exc:  # e.g. a null character
        raise ExpressionError(f"the expression cannot be read: {exc}") from None


def _column(node: ast.AST, text: str) -> int | None:
    """1-based character column (ast offsets count UTF-8 bytes)."""
    offset = getattr(node, "col_offset", None)
    if offset is None or getattr(node, "lineno", 1) != 1:
        return None
    line = text.split("\n", 1)[0]
    return len(line.encode("utf-8")[:offset].decode("utf-8", errors="ignore")) + 1


def _snippet(node: ast.AST, text: str) -> str:
    segment = ast.get_source_segment(text, node) or ""
    segment = " ".join(segment.split())
    return repr(segment if len(segment) <= 40 else segment[:39] + "…")


def _check(tree: ast.Expression, text: str) -> None:
    """Reject, before building anything, whatever the whitelist does not allow."""
    count = 0
    problems: list[tuple[int, ExpressionError]] = []
    called: set[int] = set()  # the Name nodes that are a call's function
    names: set[str] = set()
    for node in ast.walk(tree):  # breadth-first with a queue (no recursion): parents first
        if isinstance(node, (ast.expr, ast.keyword)):
            count += 1
            if count > MAX_NODES:
                raise ExpressionError(
                    f"the expression has more than {MAX_NODES} parts; simplify it")
        if isinstance(node, ast.Call):
            called.add(id(node.func))
        elif isinstance(node, ast.Name) and id(node) not in called:
            names.add(node.id)
            if len(names) > MAX_NAMES:
                raise ExpressionError(
                    f"the expression has more than {MAX_NAMES} different variables; "
                    "simplify it", _column(node, text))
        problem = _problem(node, text)
        if problem is None and isinstance(node, ast.Name) and id(node) not in called:
            if node.id in FUNCTIONS:
                problem = f"{node.id!r} is a function; call it, as in {node.id}(x)"
        if problem is not None:
            is_op = isinstance(node, ast.BinOp) and type(node.op) not in _BINARY
            col = _operator_column(node, text) if is_op else _column(node, text)
            problems.append((col or 0, ExpressionError(problem, col)))
    if problems:
        raise min(problems, key=lambda p: p[0])[1]  # the leftmost


def _problem(node: ast.AST, text: str) -> str | None:
    """Why ``node`` is not allowed, or None (operators are checked with their BinOp)."""
    hint = "use names, numbers, + - * / ** and calls like sin(x)"
    if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
        return f"the operator '{_SYMBOL.get(type(node.op), '?')}' is not allowed; {hint}"
    if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd)):
        return f"the operator '{_SYMBOL.get(type(node.op), '?')}' is not allowed; {hint}"
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Expression)):
        return None
    if isinstance(node, ast.Name):
        return _name_problem(node.id, text)
    if isinstance(node, ast.Constant):
        return _number_problem(node.value, _snippet(node, text))
    if isinstance(node, ast.Call):
        return _call_problem(node, text)
    if not hasattr(node, "col_offset"):
        return None  # operators, contexts, lambda arguments: their expression is reported
    what = _WHAT.get(type(node), type(node).__name__)
    return f"{what} is not allowed ({_snippet(node, text)}); {hint}"


def _operator_column(node: ast.BinOp, text: str) -> int | None:
    """Where a binary operator is: the first non-blank character after its left operand."""
    left = node.left
    if getattr(left, "end_lineno", None) != 1 or node.lineno != 1:
        return _column(node, text)
    line = text.split("\n", 1)[0].encode("utf-8")
    offset = left.end_col_offset or 0
    while offset < len(line) and line[offset:offset + 1] in (b" ", b"\t", b")"):
        offset += 1
    return len(line[:offset].decode("utf-8", errors="ignore")) + 1


def _name_problem(name: str, text: str) -> str | None:
    if name.startswith("__"):
        return f"the name {name!r} is not allowed (names may not start with '__')"
    if not name.isascii():
        return f"the name {name!r} is not allowed; use ASCII letters, digits and _"
    return None


def _number_problem(value: Any, snippet: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = snippet
        if isinstance(value, (str, bytes)):
            kind = f"a string ({snippet})"
        elif isinstance(value, complex):
            kind = f"a complex number ({snippet})"
        return f"{kind} is not allowed; only real numbers"
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        return f"the number {snippet} has more than {MAX_DIGITS} digits"
    if isinstance(value, float) and abs(value) == float("inf"):
        return f"the number {snippet} is too large for a float"
    return None


def _call_problem(node: ast.Call, text: str) -> str | None:
    if not isinstance(node.func, ast.Name):
        return f"only plain function names can be called ({_snippet(node, text)})"
    name = node.func.id
    if name not in FUNCTIONS:
        if name.startswith("__"):
            return f"the name {name!r} is not allowed (names may not start with '__')"
        return f"unknown function {name!r}; known: {', '.join(sorted(FUNCTIONS))}"
    if node.keywords:
        return f"{name}() takes no keyword arguments"
    if any(isinstance(a, ast.Starred) for a in node.args):
        return None  # the *argument itself is reported
    arity = _ARITY[name]
    if len(node.args) != arity:
        return f"{name}() takes {arity} argument{'s' if arity > 1 else ''}, got {len(node.args)}"
    return None


def _children(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp) and not isinstance(node.operand, ast.Constant):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _translate(tree: ast.Expression, text: str, variables: dict[str, Node]) -> Node:
    """Build the nodes bottom-up with an explicit stack (sums of hundreds of terms are deep)."""
    built: dict[int, Node] = {}
    stack: list[tuple[ast.expr, bool]] = [(tree.body, False)]
    while stack:
        node, ready = stack.pop()
        kids = _children(node)
        if not ready:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
            continue
        args = [built.pop(id(k)) for k in kids]
        built[id(node)] = _build(node, args, text, variables)
    return built[id(tree.body)]


def _build(node: ast.expr, args: list[Node], text: str, variables: dict[str, Node]) -> Node:
    if isinstance(node, ast.Constant):
        return ops.const(float(node.value))
    if isinstance(node, ast.Name):
        found = variables.get(node.id)
        if found is None:
            found = variables[node.id] = ops.var(node.id)
        elif not isinstance(found, Node):
            raise ExpressionError(f"the variable {node.id!r} is not a symgraph node")
        return found
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.operand, ast.Constant):  # -3 is the number -3, not negative(3)
            value = float(node.operand.value)
            return ops.const(-value if isinstance(node.op, ast.USub) else value)
        return ops.negative(args[0]) if isinstance(node.op, ast.USub) else args[0]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](args[0], args[1])
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return FUNCTIONS[node.func.id](*args)

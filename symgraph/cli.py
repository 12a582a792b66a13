"""The ``symgraph`` command: ``symgraph diff EXPR --wrt ...`` and ``symgraph demo``.

``diff`` parses a formula (through :mod:`symgraph.parse`'s whitelist, never ``eval``;
``pi`` and ``e`` are constants), builds its derivatives up to ``--order`` with ``sg.grad``
(``sg.jacobian`` where what is differentiated is not a scalar), prints them with
``sg.pprint`` and, with ``--at``, their values; ``--svg`` draws them. A value in ``--at``
may be a list (``x=[1,2]``): that variable is then a vector (any nesting gives its shape),
declared before the formula is read, so the formula works on it elementwise.

``demo`` writes three pictures into ``demo-output`` (or ``--out``): the chain of Goodfellow
et al.'s Fig. 6.10 with its first and second derivative, the CS231n neuron with values and
gradients, and a small MLP (Algorithms 6.3/6.4) drawn by layer.

Every error, from the arguments or from symgraph, ends the command with status 2 and one
line on standard error, never a traceback.

Imports: the public ``symgraph`` names, ``symgraph.ops`` (the ``var`` record) and
:mod:`symgraph.parse`.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import math
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import symgraph as sg
from symgraph.errors import SymgraphError
from symgraph.ops.core import VAR
from symgraph.parse import MAX_LENGTH, parse_expression

EXIT_ERROR = 2
MAX_ORDER = 6
# Derivatives printed by one diff: len(wrt) ** k summed over k <= order (twice the 256 of
# the highest order alone, so every command that printed only that order still runs).
MAX_ENTRIES = 512
MAX_ELEMENTS = 1_000_000  # numbers in all derivatives together (vectors make tensors)
MAX_ARGUMENT = 10_000  # characters of --wrt / --at
MAX_NESTING = 32  # brackets open at once in an --at value (NumPy's dimension limit)
# The names the expression language reads as constants, not as variables (inf and nan as
# formulas print them).
CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
DEMO_FOLDER = "demo-output"
# Graphviz needs ~2 s for 500 nodes and ~50 s for 2000; a bigger picture is unreadable anyway.
SVG_MAX_NODES = 500


class _UsageError(Exception):
    """Bad command-line arguments (argparse's own errors included)."""


class _Exit(Exception):
    """argparse is done (``--help``, ``--version``): end with this status, no SystemExit."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print the usage over many lines
        raise _UsageError(f"{message} (see symgraph --help)")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        # main() returns the status, so callers in Python (and tests) get it, not SystemExit.
        if message:
            print(message, file=sys.stderr, end="")
        raise _Exit(status)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symgraph",
        description="Symbol-to-symbol derivatives: print, evaluate and draw them.",
    )
    parser.add_argument("--version", action="version", version=f"symgraph {sg.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diff = sub.add_parser(
        "diff",
        help="differentiate a formula",
        description="Print the derivatives of EXPR (and their values with --at). EXPR uses "
        "names, numbers, the constants pi and e, + - * / ** and functions such as sin, exp, "
        "sigmoid, tanh, maximum. Give '-' to read it from standard input or @FILE to read it "
        "from a file. --order K prints every partial derivative up to order K, in order: "
        "d^2f/dx dy is the derivative by x, then by y (so --order 2 adds the whole Hessian, "
        "each mixed derivative both ways). A list in --at (x=[1,2]) makes that variable a "
        "vector; the derivative of a vector by a vector is its Jacobian.",
    )
    diff.add_argument("expr", metavar="EXPR")
    # (given twice, --wrt x --wrt y, both count: not only the last, silently)
    diff.add_argument("--wrt", required=True, metavar="NAME[,NAME...]", action="append",
                      help="the variables to differentiate with respect to")
    diff.add_argument("--at", metavar="NAME=VALUE[,...]", action="append",
                      help="a point to evaluate at; a VALUE may be a list, x=[1,2]")
    diff.add_argument("--order", type=int, default=1, metavar="K",
                      help=f"the highest derivative (1 to {MAX_ORDER}; 2 adds the Hessian)")
    diff.add_argument("--svg", metavar="PATH", help="also draw the graph to this SVG file")
    diff.add_argument("--max-nodes", type=int, default=SVG_MAX_NODES, metavar="N",
                      help=f"draw at most N nodes, those nearest the outputs (default "
                      f"{SVG_MAX_NODES})")
    diff.set_defaults(run=_diff)
    demo = sub.add_parser(
        "demo", help="write three example pictures",
        description="Write three SVG pictures (chain_fig6_10.svg, neuron_cs231n.svg, "
        "mlp_alg6_4.svg) into the folder DIR, created if missing, and print their paths. "
        "DIR is demo-output in the current folder unless --out says otherwise (here: "
        f"{os.path.abspath(DEMO_FOLDER)}).")
    demo.add_argument("--out", default=DEMO_FOLDER, metavar="DIR",
                      help=f"the folder for the pictures (default: {DEMO_FOLDER})")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    >>> main(["diff", "x**3", "--wrt", "x", "--at", "x=2"])
    f = x**3
    df/dx = 3*x**2
    at x=2:
      f = 8
      df/dx = 12
    0
    """
    try:
        args = _parser().parse_args(_expression_marked(sys.argv[1:] if argv is None else argv))
        return args.run(args)
    except _Exit as exc:
        return exc.status
    except _UsageError as exc:
        return _fail(str(exc))
    except SymgraphError as exc:
        return _fail(str(exc))
    except (RecursionError, MemoryError):
        return _fail("the input is too large or too deeply nested")
    except KeyboardInterrupt:
        return _fail("interrupted")
    except BrokenPipeError:  # `symgraph diff ... | head`: the reader has what it wanted
        # Python would complain again when it flushes stdout at exit; point it at devnull.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug in symgraph: still one line, and say so
        return _fail(f"internal error ({type(exc).__name__}: {exc}); please report it")


# diff's options, and whether each takes a value
_DIFF_OPTIONS = {"--wrt": True, "--at": True, "--order": True, "--svg": True,
                 "--max-nodes": True, "-h": False, "--help": False}


def _expression_marked(argv: Sequence[str]) -> list[str]:
    """``argv`` with an EXPR of ``diff`` that starts with a minus (``-x**2``) given a
    leading blank, which the parser strips: argparse would take it for an option."""
    argv = list(argv)
    if not argv or argv[0] != "diff" or "--" in argv:
        return argv
    value_next = False
    for k in range(1, len(argv)):
        token = argv[k]
        if value_next:
            value_next = False
        elif token in _DIFF_OPTIONS:
            value_next = _DIFF_OPTIONS[token]
        elif token.startswith("-") and token != "-" and token.split("=")[0] not in _DIFF_OPTIONS:
            argv[k] = " " + token
    return argv


def _fail(message: str) -> int:
    print(f"symgraph: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


# --- diff ------------------------------------------------------------------------------------


def _diff(args: argparse.Namespace) -> int:
    text = _read_expression(args.expr)
    wrt_names = _names(",".join(args.wrt))
    feeds = None if args.at is None else _assignments(",".join(args.at))
    if not 1 <= args.order <= MAX_ORDER:
        raise _UsageError(f"--order must be from 1 to {MAX_ORDER}, got {args.order}")
    if args.max_nodes < 1:
        raise _UsageError(f"--max-nodes must be at least 1, got {args.max_nodes}")
    folder = os.path.dirname(args.svg) if args.svg else ""
    if folder and not os.path.isdir(folder):  # said before any result is printed
        raise _UsageError(f"--svg {args.svg}: the folder {folder!r} does not exist; create it "
                          "or write the picture elsewhere")
    entries = sum(len(wrt_names) ** k for k in range(1, args.order + 1))
    if entries > MAX_ENTRIES:
        raise _UsageError(f"{len(wrt_names)} variables up to order {args.order} is {entries} "
                          f"derivatives, more than {MAX_ENTRIES}")
    for name in wrt_names + list(feeds or {}):
        if name in CONSTANTS:
            option = "--wrt" if name in wrt_names else "--at"
            raise _UsageError(f"{option} names {name!r}, which expressions read as the constant "
                              f"{CONSTANTS[name]:.6g}; call the variable something else")
    with sg.Graph():
        f, variables = _build(text, feeds)
        for name in wrt_names + list(feeds or {}):
            if name not in variables:
                option = "--wrt" if name in wrt_names else "--at"
                raise _UsageError(f"{option} names {name!r}, which is not in the expression "
                                  f"(its variables: {', '.join(sorted(variables)) or 'none'})")
        missing = [n for n in variables if feeds is not None and n not in feeds]
        if missing:
            raise _UsageError(f"--at gives no value for {', '.join(map(repr, missing))}; "
                              f"add {missing[0]}=VALUE")
        wrt = [variables[n] for n in wrt_names]
        _check_size(f, wrt, args.order)
        labels, derivatives = _derivatives(f, wrt, wrt_names, args.order)
        outputs = [f, *derivatives]
        labels = ["f", *labels]
        for label, node, simpler in zip(labels, outputs, [f, *sg.simplify(derivatives)]):
            print(min(_formula(label, node), _formula(label, simpler), key=_untidiness))
        if feeds is not None:
            values = sg.evaluate(outputs, feeds)
            print("at " + ", ".join(f"{k}={_number(v)}" for k, v in feeds.items()) + ":")
            for label, value in zip(labels, values):
                first, *rest = _number(value).split("\n")
                indent = " " * len(f"  {label} = ")  # an array's later rows under its first
                print("\n".join([f"  {label} = {first}", *(indent + r if r else r for r in rest)]))
        if args.svg:
            _draw(outputs, args.svg, feeds=feeds, max_nodes=args.max_nodes)
            print(f"wrote {args.svg}")
    return 0


def _build(text: str, feeds: dict[str, Any] | None) -> tuple[Any, dict[str, Any]]:
    """The expression's node and its variables by name (those it uses, constants not).

    The expression language makes every unknown name a scalar input, so an input fed a
    list in ``--at`` is declared first with that value's shape; ``pi`` and ``e`` are
    given as constants the same way.
    """
    given: dict[str, Any] = {name: sg.const(value, name=name) for name, value in CONSTANTS.items()}
    for name, value in (feeds or {}).items():
        if np.ndim(value):
            given[name] = sg.var(name, shape=np.shape(value))
    f = parse_expression(text, given)
    used = {n.name for n in sg.ancestors([f]) if n.opdef is VAR}
    return f, {name: node for name, node in given.items() if name in used}


def _read_expression(arg: str) -> str:
    """EXPR itself, or read from standard input (``-``) or a file (``@FILE``), bounded."""
    if arg != "-" and not arg.startswith("@"):
        return arg
    where = "standard input" if arg == "-" else arg[1:]
    try:
        if arg == "-":
            text = sys.stdin.read(MAX_LENGTH + 1)
        else:
            with open(arg[1:], encoding="utf-8") as f:
                text = f.read(MAX_LENGTH + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"cannot read the expression from {where}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    if len(text) > MAX_LENGTH:
        raise _UsageError(f"the expression in {where} is longer than {MAX_LENGTH} characters")
    # A formula in a file may run over several lines; it is one expression all the same.
    return " ".join(text.splitlines()).strip()


def _names(arg: str) -> list[str]:
    if len(arg) > MAX_ARGUMENT:
        raise _UsageError(f"--wrt is longer than {MAX_ARGUMENT} characters")
    names = [n.strip() for n in arg.split(",")]
    for n in names:
        if not n.isidentifier():
            raise _UsageError(f"--wrt: {n!r} is not a variable name")
    if len(set(names)) != len(names):
        raise _UsageError("--wrt names a variable twice")
    return names


def _assignments(arg: str) -> dict[str, Any]:
    """``--at``: each name's number, or its array for a (nested) list like ``[1, 2.5]``."""
    if len(arg) > MAX_ARGUMENT:
        raise _UsageError(f"--at is longer than {MAX_ARGUMENT} characters")
    feeds: dict[str, Any] = {}
    for item in _top_level_items(arg):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise _UsageError(f"--at: {item.strip()!r} is not NAME=VALUE")
        if name in feeds:
            raise _UsageError(f"--at gives {name!r} twice")
        feeds[name] = _value(name, value.strip())
    return feeds


def _top_level_items(arg: str) -> list[str]:
    """``arg`` split at the commas outside brackets (``x=[1,2],y=3``: two items)."""
    items, start, depth = [], 0, 0
    for i, ch in enumerate(arg):
        if ch == "[":
            depth += 1
            if depth > MAX_NESTING:
                raise _UsageError(f"--at: lists are nested more than {MAX_NESTING} deep")
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise _UsageError(f"--at: a ']' at character {i + 1} closes no '['")
        elif ch == "," and depth == 0:
            items.append(arg[start:i])
            start = i + 1
    if depth:
        raise _UsageError("--at: a '[' is never closed")
    return [*items, arg[start:]]


_TOKENS = re.compile(r"\s*(\[|\]|,|[^\[\],\s]+)")


def _value(name: str, text: str) -> Any:
    """A number, or a nested list of numbers as a float64 array (no ``eval``)."""
    problem = (f"--at: the value of {name!r}, {text[:40]!r}, is not a number or a list of "
               "numbers such as [1, 2.5]")
    if not text.startswith("["):
        try:
            return float(text)
        except ValueError:
            raise _UsageError(problem) from None
    stack: list[list] = []  # the lists open at this point, outermost first
    done: list | None = None
    wants_item = True  # after '[' or ','
    for match in _TOKENS.finditer(text):
        token = match.group(1)
        if done is not None:
            raise _UsageError(problem)  # something after the closing bracket
        if token == "[" and wants_item:
            stack.append([])
        elif token == "]" and stack and not (wants_item and stack[-1]):  # not "[1,]"
            inner = stack.pop()
            if stack:
                stack[-1].append(inner)
            else:
                done = inner
            wants_item = False
        elif token == "," and stack and not wants_item:
            wants_item = True
        elif token not in ("[", "]", ",") and stack and wants_item:
            try:
                stack[-1].append(float(token))
            except ValueError:
                raise _UsageError(problem) from None
            wants_item = False
        else:
            raise _UsageError(problem)
    if done is None:
        raise _UsageError(problem)
    try:
        return np.array(done, dtype=np.float64)
    except ValueError:  # [[1, 2], [3]] or [1, [2]]
        raise _UsageError(f"--at: the value of {name!r} is not a rectangular array; each "
                          "row needs the same length") from None


def _check_size(f: Any, wrt: list, order: int) -> None:
    """Bound the numbers the derivatives hold: of a vector, they grow as its size ** order."""
    total, level = 0, [math.prod(f.shape)]
    for k in range(1, order + 1):
        level = [size * math.prod(x.shape) for size in level for x in wrt]
        total += sum(level)
        if total > MAX_ELEMENTS:
            raise _UsageError(f"the derivatives up to order {k} hold {total} numbers, more "
                              f"than {MAX_ELEMENTS}; use smaller vectors or a lower --order")


def _derivatives(f: Any, wrt: list, names: list[str], order: int) -> tuple[list[str], list]:
    """Every partial derivative up to ``order``, level by level: each the ``grad`` of one of
    the level below (its ``jacobian`` where that is not a scalar: shape ``g.shape +
    x.shape``, so the k-th derivative by vectors is the full tensor)."""
    level: list[tuple[tuple[int, ...], Any]] = [((), f)]
    found: list[tuple[tuple[int, ...], Any]] = []
    for _ in range(order):
        level = [(index + (j,), d) for index, node in level
                 for j, d in enumerate(sg.grad(node, wrt) if node.shape == ()
                                       else sg.jacobian(node, wrt))]
        found += level
    return [_label([names[j] for j in index]) for index, _ in found], [d for _, d in found]


def _label(names: list[str]) -> str:
    """``df/dx``, ``d^2f/dx^2``, ``d^2f/dw0 dw1``."""
    k = len(names)
    runs = [(n, len(list(group))) for n, group in itertools.groupby(names)]
    parts = " ".join(f"d{n}" + (f"^{m}" if m > 1 else "") for n, m in runs)
    return f"d{'' if k == 1 else f'^{k}'}f/{parts}"


def _formula(label: str, node: Any) -> str:
    """``label = formula``, then its shared subexpressions (``where t1 = ...``) below it."""
    try:
        text = sg.pprint(node)
    except NotImplementedError:  # the printer is not written yet in this build
        text = f"out = {node}"
    *named, last = text.splitlines() or [""]
    if last.startswith("out = "):
        last = last[len("out = "):]
    lines = [f"{label} = {last}"]
    lines += [("  where " if i == 0 else "        ") + line for i, line in enumerate(named)]
    return "\n".join(lines)


def _untidiness(formula: str) -> tuple[int, int]:
    """How hard a printed formula is to read: its lines (shared subexpressions), then its
    length. The CLI prints each derivative as grad built it or as the default
    ``sg.simplify`` gives it (which keeps every value), whichever reads easier: ``2*cos(x)
    - x*sin(x)`` rather than ``t1 - x*sin(x) + t1``, but ``3*x**2`` rather than
    ``3*square(x)``; the values and the picture are those of the graph grad built."""
    return formula.count("\n"), len(formula)


def _number(value: Any) -> str:
    array = np.asarray(value)
    if array.dtype.kind == "f":
        array = array + 0.0  # -0.0 (off the diagonal of a Jacobian) prints as 0
    if array.ndim == 0:
        return format(float(array), ".6g")
    return np.array2string(array, precision=6, separator=", ")


def _draw(outputs: Any, path: str, **options: Any) -> None:
    """``sg.to_svg`` to ``path``; an option this build's renderer lacks is left out, with a
    warning, so the picture is still drawn."""
    accepted = _drawing_options()
    if accepted is not None:
        for key in [k for k in options if k not in accepted]:
            del options[key]
            print(f"symgraph: warning: sg.to_svg has no {key!r} option in this build; "
                  "drawing without it", file=sys.stderr)
    try:
        sg.to_svg(outputs, path, **options)
    except NotImplementedError:
        raise _UsageError("drawing needs the SVG renderer (sg.to_svg), which this build of "
                          "symgraph does not have yet") from None
    except OSError as exc:
        raise _UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _drawing_options() -> set[str] | None:
    """The keywords ``sg.to_svg`` takes (its own and, through ``**options``, ``sg.to_dot``'s),
    or None when they cannot be told."""
    names: set[str] = set()
    for function in (sg.to_svg, sg.to_dot):
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {p.name for p in parameters if p.kind is not p.VAR_KEYWORD}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break  # to_svg passes nothing on to to_dot
    return names


# --- demo ------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    out = args.out
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise _UsageError(f"cannot create the folder {out!r}: {exc.strerror or exc}") from None
    pictures = [_neuron(out), _chain(out), _mlp(out)]
    for path, what in pictures:
        print(f"wrote {path}  ({what})")
    return 0


def _chain(out: str) -> tuple[str, str]:
    """Fig. 6.10: z = f(f(f(w))) with f = sin, and its first and second derivative."""
    with sg.Graph():
        w = sg.var("w")
        z = sg.sin(sg.sin(sg.sin(w)))
        dz = sg.grad(z, w)
        d2z = sg.grad(dz, w)
        path = os.path.join(out, "chain_fig6_10.svg")
        _draw([z, dz, d2z], path, labels=["z", None, None])  # then dz/dw, d²z/dw², derived
    return path, "Fig. 6.10: z = sin(sin(sin(w))), dz/dw and d2z/dw2, coloured by order"


def _neuron(out: str) -> tuple[str, str]:
    """The CS231n neuron: prints its value and gradient, draws both on every node."""
    with sg.Graph():
        w = sg.var("w", shape=(3,))
        x = sg.var("x", shape=(2,))
        f = sg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
        dw, dx = sg.grad(f, [w, x])
        feeds = {w: [2.0, -3.0, -3.0], x: [-1.0, -2.0]}
        values = sg.evaluate([f, dw, dx], feeds)
        print(f"CS231n neuron f = {f}  at w = [2, -3, -3], x = [-1, -2]")
        for label, value in zip(("f", "df/dw", "df/dx"), values):
            print(f"  {label} = {np.array2string(np.asarray(value), precision=4)}")
        path = os.path.join(out, "neuron_cs231n.svg")
        _draw(f, path, feeds=feeds, grads_of=f, labels=["f"])
    return path, "the CS231n neuron with values and gradients"


def _mlp(out: str) -> tuple[str, str]:
    """Algorithms 6.3/6.4: two tanh layers, softmax cross-entropy and weight decay."""
    with sg.Graph():
        x = sg.var("x", shape=(4, 3))
        y = sg.var("y", shape=(4, 2))  # one-hot targets
        params = []
        h = x
        for k, (n_in, n_out) in enumerate([(3, 5), (5, 5)], 1):
            with sg.name_scope(f"layer{k}"):
                W, b = sg.var(f"W{k}", shape=(n_in, n_out)), sg.var(f"b{k}", shape=(n_out,))
                h = sg.tanh(h @ W + b)
            params += [W, b]
        with sg.name_scope("output"):
            W, b = sg.var("W3", shape=(5, 2)), sg.var("b3", shape=(2,))
            logits = h @ W + b
        params += [W, b]
        with sg.name_scope("loss"):
            cross_entropy = -sg.mean(sg.sum(y * sg.log_softmax(logits), axis=-1))
            squares = [sg.sum(sg.square(W)) for W in params[::2]]  # biases are not decayed
            penalty = squares[0]
            for s in squares[1:]:
                penalty = penalty + s
            J = cross_entropy + 1e-3 * penalty
        grads = sg.grad(J, params)
        path = os.path.join(out, "mlp_alg6_4.svg")
        _draw([J, *grads], path, collapse=True)
    return path, "an MLP (Alg. 6.4) and its gradient, one box per layer"


if __name__ == "__main__":
    sys.exit(main())

"""The ``symgraph`` command: ``symgraph diff EXPR --wrt ...`` and ``symgraph demo``.

``diff`` parses a formula (through :mod:`symgraph.parse`'s whitelist, never ``eval``),
builds its derivatives with ``sg.grad``, prints them with ``sg.pprint`` and, with
``--at``, their values; ``--svg`` draws them. ``demo`` writes three pictures: the chain of
Goodfellow et al.'s Fig. 6.10 with its first and second derivative, the CS231n neuron
with values and gradients, and a small MLP (Algorithms 6.3/6.4) drawn by layer.

Every error, from the arguments or from symgraph, ends the command with status 2 and one
line on standard error, never a traceback.

Imports: the public ``symgraph`` names and :mod:`symgraph.parse` (inside the commands).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

EXIT_ERROR = 2
MAX_ORDER = 6
MAX_ENTRIES = 256  # derivatives printed by one diff (len(wrt) ** order)
MAX_ARGUMENT = 10_000  # characters of --wrt / --at
# Graphviz needs ~2 s for 500 nodes and ~50 s for 2000; a bigger picture is unreadable anyway.
SVG_MAX_NODES = 500


class _UsageError(Exception):
    """Bad command-line arguments (argparse's own errors included)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print the usage over many lines
        raise _UsageError(f"{message} (see symgraph --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symgraph",
        description="Symbol-to-symbol derivatives: print, evaluate and draw them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diff = sub.add_parser(
        "diff",
        help="differentiate a formula",
        description="Print the derivatives of EXPR (and their values with --at). EXPR uses "
        "names, numbers, + - * / ** and functions such as sin, exp, sigmoid, tanh, "
        "maximum. Give '-' to read it from standard input or @FILE to read it from a file. "
        "With several --wrt names, --order K prints every K-th partial derivative, in order: "
        "d^2f/dx dy is the derivative by x, then by y (so --order 2 gives the whole Hessian, "
        "each mixed derivative both ways).",
    )
    diff.add_argument("expr", metavar="EXPR")
    diff.add_argument("--wrt", required=True, metavar="NAME[,NAME...]",
                      help="the variables to differentiate with respect to")
    diff.add_argument("--at", metavar="NAME=VALUE[,...]", help="a point to evaluate at")
    diff.add_argument("--order", type=int, default=1, metavar="K",
                      help=f"which derivative (1 to {MAX_ORDER}; 2 gives the Hessian)")
    diff.add_argument("--svg", metavar="PATH", help="also draw the graph to this SVG file")
    diff.add_argument("--max-nodes", type=int, default=SVG_MAX_NODES, metavar="N",
                      help=f"draw at most N nodes, those nearest the outputs (default "
                      f"{SVG_MAX_NODES})")
    diff.set_defaults(run=_diff)
    demo = sub.add_parser("demo", help="write three example pictures",
                          description="Write three SVG pictures and print their paths.")
    demo.add_argument("--out", default="demo-output", metavar="DIR",
                      help="the folder for the pictures (default: demo-output)")
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
    from symgraph.graph import SymgraphError

    try:
        args = _parser().parse_args(argv)
        return args.run(args)
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


def _fail(message: str) -> int:
    print(f"symgraph: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


# --- diff ------------------------------------------------------------------------------------


def _diff(args: argparse.Namespace) -> int:
    import symgraph as sg
    from symgraph.parse import parse_expression

    text = _read_expression(args.expr)
    wrt_names = _names(args.wrt)
    feeds = None if args.at is None else _assignments(args.at)
    if not 1 <= args.order <= MAX_ORDER:
        raise _UsageError(f"--order must be from 1 to {MAX_ORDER}, got {args.order}")
    if args.max_nodes < 1:
        raise _UsageError(f"--max-nodes must be at least 1, got {args.max_nodes}")
    if len(wrt_names) ** args.order > MAX_ENTRIES:
        raise _UsageError(f"{len(wrt_names)} variables to order {args.order} is "
                          f"{len(wrt_names) ** args.order} derivatives, more than {MAX_ENTRIES}")
    with sg.Graph():
        variables: dict[str, Any] = {}
        f = parse_expression(text, variables)
        for name in wrt_names + list(feeds or {}):
            if name not in variables:
                option = "--wrt" if name in wrt_names else "--at"
                raise _UsageError(f"{option} names {name!r}, which is not in the expression "
                                  f"(its variables: {', '.join(sorted(variables)) or 'none'})")
        missing = [n for n in variables if feeds is not None and n not in feeds]
        if missing:
            raise _UsageError(f"--at gives no value for {', '.join(map(repr, missing))}; "
                              f"add {missing[0]}=VALUE")
        labels, derivatives = _derivatives(f, [variables[n] for n in wrt_names], wrt_names,
                                           args.order)
        outputs = [f, *derivatives]
        labels = ["f", *labels]
        for label, node in zip(labels, outputs):
            print(_formula(label, node))
        if feeds is not None:
            values = sg.evaluate(outputs, feeds)
            print("at " + ", ".join(f"{k}={_number(v)}" for k, v in feeds.items()) + ":")
            for label, value in zip(labels, values):
                print(f"  {label} = {_number(value)}")
        if args.svg:
            _draw(outputs, args.svg, feeds=feeds, max_nodes=args.max_nodes)
            print(f"wrote {args.svg}")
    return 0


def _read_expression(arg: str) -> str:
    """EXPR itself, or read from standard input (``-``) or a file (``@FILE``), bounded."""
    from symgraph.parse import MAX_LENGTH

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


def _assignments(arg: str) -> dict[str, float]:
    if len(arg) > MAX_ARGUMENT:
        raise _UsageError(f"--at is longer than {MAX_ARGUMENT} characters")
    feeds: dict[str, float] = {}
    for item in arg.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise _UsageError(f"--at: {item.strip()!r} is not NAME=VALUE")
        if name in feeds:
            raise _UsageError(f"--at gives {name!r} twice")
        try:
            feeds[name] = float(value)
        except ValueError:
            raise _UsageError(f"--at: the value of {name!r}, {value.strip()[:40]!r}, "
                              "is not a number") from None
    return feeds


def _derivatives(f: Any, wrt: list, names: list[str], order: int) -> tuple[list[str], list]:
    """Every ``order``-th partial derivative, each the ``grad`` of one of the level below."""
    import symgraph as sg

    level: list[tuple[tuple[int, ...], Any]] = [((), f)]
    for _ in range(order):
        level = [(index + (j,), g) for index, node in level
                 for j, g in enumerate(sg.grad(node, wrt))]
    return [_label([names[j] for j in index]) for index, _ in level], [g for _, g in level]


def _label(names: list[str]) -> str:
    """``df/dx``, ``d^2f/dx^2``, ``d^2f/dw0 dw1``."""
    k = len(names)
    runs = [(n, len(list(group))) for n, group in itertools.groupby(names)]
    parts = " ".join(f"d{n}" + (f"^{m}" if m > 1 else "") for n, m in runs)
    return f"d{'' if k == 1 else f'^{k}'}f/{parts}"


def _formula(label: str, node: Any) -> str:
    """``label = formula``, then its shared subexpressions (``where t1 = ...``) below it."""
    import symgraph as sg

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


def _number(value: Any) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return format(float(array), ".6g")
    return np.array2string(array, precision=6, separator=", ")


def _draw(outputs: Any, path: str, **options: Any) -> None:
    """``sg.to_svg`` to ``path``; an option this build's renderer lacks is left out, with a
    warning, so the picture is still drawn."""
    import symgraph as sg

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
    import inspect

    import symgraph as sg

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
    import symgraph as sg

    with sg.Graph():
        w = sg.var("w")
        z = sg.sin(sg.sin(sg.sin(w)))
        dz = sg.grad(z, w)
        d2z = sg.grad(dz, w)
        path = os.path.join(out, "chain_fig6_10.svg")
        _draw([z, dz, d2z], path)
    return path, "Fig. 6.10: z = sin(sin(sin(w))), dz/dw and d2z/dw2, coloured by order"


def _neuron(out: str) -> tuple[str, str]:
    """The CS231n neuron: prints its value and gradient, draws both on every node."""
    import symgraph as sg

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
        _draw(f, path, feeds=feeds, grads_of=f)
    return path, "the CS231n neuron with values and gradients"


def _mlp(out: str) -> tuple[str, str]:
    """Algorithms 6.3/6.4: two tanh layers, softmax cross-entropy and weight decay."""
    import symgraph as sg

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

"""What every backend is and receives: the :class:`Backend` interface, the :class:`Request`
a backend compiles, and :func:`prepare`, the lowering every backend shares.

``prepare`` checks that the inputs cover the outputs, rewrites the outputs (``sg.simplify``'s
rules and the compile-only rules of ``symgraph.rewrite.rules_lowering``, in one run of
:func:`symgraph.rewrite.lower`) and plans what remains: constant steps are folded into
the plan's presets once. A backend then turns that :class:`Plan` into a callable, whose
calls put their arguments in order with :func:`by_name` and check a user's op's results
with :func:`check_shape`.

Imports: NumPy, ``symgraph.graph``, ``symgraph.errors``, ``symgraph.ops``, ``symgraph.plan``,
``symgraph.rewrite``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from symgraph.errors import ShapeError, SymgraphError
from symgraph.graph import Node
from symgraph.ops.core import Op, describe
from symgraph.plan import Plan, needed_nodes, walk
from symgraph.rewrite import lower
from symgraph.rewrite.rules_lowering import RULES as LOWERING

# Rewriting costs about 15 µs per node on a random DAG of scalars; bigger graphs are
# compiled as built (their constant steps are still folded by the plan).
SIMPLIFY_MAX_NODES = 50_000


@dataclass
class Request:
    """One compilation: ``outputs`` as asked, ``computed`` (the rewritten nodes the code
    computes, one per output), ``inputs`` in the order of the function's arguments,
    ``single`` (one node was asked, not a list) and ``plan`` (of ``computed`` given the
    inputs, constant steps folded)."""

    outputs: list[Node]
    computed: list[Node]
    inputs: list[Node]
    single: bool
    plan: Plan
    # user ops' functions to call instead of their NumPy forward (the numba backend's
    # ``define_op(impls={"numba": fn})``, run by the python backend's code)
    impls: dict = field(default_factory=dict)


class Backend:
    """A way to run a plan. Subclasses set ``name``, ``extra`` (the pip extra its optional
    dependency comes with, or None), ``options`` (the keyword options of ``sg.compile``
    it takes, with their defaults) and implement :meth:`compile`."""

    name: str = ""
    extra: str | None = None
    options: ClassVar[dict[str, Any]] = {}

    def available(self) -> bool:
        """Whether this backend can run here (its optional dependency imports)."""
        return True

    def supports(self, op: Op) -> bool:
        """Whether this backend can run ``op`` (asked at compile time, per op needed)."""
        return True

    def normalize(self, options: dict[str, Any]) -> dict[str, Any]:
        """Every option of this backend, given or defaulted (this one: all flags)."""
        return {k: bool(options.get(k, default)) for k, default in self.options.items()}

    def compile(self, request: Request, **options: Any) -> Callable[..., Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<symgraph backend {self.name!r}>"


def prepare(outputs: list[Node], inputs: list[Node], assume_finite: bool,
            rewrite: bool = True) -> tuple[list[Node], list[Node]]:
    """The nodes to compute for ``outputs`` (rewritten unless ``rewrite`` is False or the
    graph is large) and their ancestors, none past an input; an input the outputs need
    but ``inputs`` lacks raises first, as evaluate would."""
    fed = frozenset(n.id for n in inputs)
    needed = needed_nodes(outputs, fed, "sg.compile: {names} {is_} needed but not among the "
                          "inputs; add {it} to inputs", keep=not rewrite or len(
                              outputs[0].graph) > SIMPLIFY_MAX_NODES)  # (else rewritten)
    if not rewrite or len(needed) > SIMPLIFY_MAX_NODES:
        return list(outputs), needed
    rewritten = lower(list(outputs), LOWERING, assume_finite=assume_finite)
    # A rewrite may see through an intermediate node listed as an input (feeding it
    # replaces its ancestors): then the rewritten graph would need unfed inputs.
    after, unfed = walk(list(rewritten), fed)
    if unfed:
        return list(outputs), needed
    return list(rewritten), after


def check_supported(backend: Backend, plan: Plan) -> None:
    """Raise naming the first op of ``plan`` that ``backend`` cannot run."""
    if type(backend).supports is Backend.supports:
        return  # runs every op: no walk over the steps
    if all(map(backend.supports, plan.ops)):
        return  # (the distinct ops of every needed node: fed and preset ones too)
    nodes = plan.nodes
    for op in {nodes[s].opdef: s for s in plan.steps}.items():
        if not backend.supports(op[0]):
            node = nodes[op[1]]
            raise SymgraphError(
                f"sg.compile: the backend {backend.name!r} cannot run the op "
                f"'{op[0].name}' (node #{node.id}, {describe(node)}); compile with another "
                "backend (sg.backends() lists them)")


_NOT_GIVEN = object()


def arguments(inputs: Sequence[Node], args: tuple, names: dict[str, Any]) -> tuple:
    """A compiled function's arrays, one per input in ``inputs``' order: ``args`` as given,
    with ``names`` (keyword arguments) placed by :func:`by_name`; a wrong count raises.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, w = sg.var("x"), sg.var("w")
    >>> arguments([x, w], (1.0,), {"w": 2.0})
    (1.0, 2.0)
    """
    if names:
        args = tuple(by_name(inputs, args, names))
    if len(args) != len(inputs):
        raise SymgraphError(
            f"this compiled function takes {len(inputs)} arrays (inputs: "
            f"{_listed(inputs) or 'none'}), got {len(args)}; pass one array per input, in the "
            "order given to sg.compile")
    return args


def by_name(inputs: Sequence[Node], args: Sequence[Any], names: dict[str, Any],
            who: str = "compiled function") -> list[Any]:
    """A compiled function's arguments in the order of ``inputs``: ``args`` first, then
    ``names`` (keyword arguments, keyed by the inputs' names).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, w = sg.var("x"), sg.var("w")
    >>> by_name([x, w], [1.0], {"w": 2.0})
    [1.0, 2.0]
    """
    if len(args) > len(inputs):
        raise SymgraphError(f"{who}: takes {len(inputs)} arrays (inputs: "
                            f"{_listed(inputs)}), got {len(args)} positional ones")
    out = [*args, *[_NOT_GIVEN] * (len(inputs) - len(args))]
    for key, value in names.items():
        at = [k for k, n in enumerate(inputs) if n.name == key]
        if len(at) != 1:
            raise SymgraphError(
                f"{who}: {'no input is' if not at else 'several inputs are'} named {key!r} "
                f"(inputs: {_listed(inputs)}); pass it by position, in sg.compile's order")
        if out[at[0]] is not _NOT_GIVEN:
            raise SymgraphError(f"{who}: {key!r} is given twice, by position and by name")
        out[at[0]] = value
    missing = [n for n, v in zip(inputs, out) if v is _NOT_GIVEN]
    if missing:
        raise SymgraphError(f"{who}: no value for {_listed(missing)}; pass one array per "
                            f"input (inputs: {_listed(inputs)}), by position or by name")
    return out


def _listed(nodes: Sequence[Node]) -> str:
    return ", ".join(describe(n) for n in nodes) or "none"


class ResultShapeError(ShapeError):
    """A user's op returned another shape than its shape rule declares (the interpreter
    passes it on as it is: the message already names the op and the node)."""


def check_shape(node: Node, value: Any) -> Any:
    """``value``, the result of a user's op at ``node``, if it has the node's declared
    shape; else a SymgraphError naming the op (a two-input op declared without a shape
    rule is assumed to broadcast, which its forward may not do). Backends call this after
    user ops only: symgraph's own ops are tested against their shape rules."""
    got, want = np.shape(value), node.shape
    if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
        shown = tuple("?" if d is None else d for d in want)
        raise ResultShapeError(
            f"the op '{node.opdef.name}' ({describe(node)}, node #{node.id}) returned shape "
            f"{got}, but its shape rule declares {shown}; give sg.define_op"
            f"({node.opdef.name!r}, ..., shape=rule) a rule saying what forward returns"
            .replace("'?'", "?"))
    return check_dtype(node, value)


def check_dtype(node: Node, value: Any) -> Any:
    """``value``, a user's op's result at ``node``, as the node's declared dtype: a result
    of the same kind or a safe one (float32 or int64 for a float64 node) is converted, as
    later steps and the caller expect; one of another kind (strings, objects, floats for
    an integer node) raises naming the op."""
    want = node.dtype
    got = getattr(value, "dtype", None)  # (not compared when None: dtype(None) is float64)
    if (got is not None and got == want) or (type(value) is float and want == np.float64):
        return value
    array = np.asarray(value)
    if array.dtype == want:
        return array
    if array.dtype.kind in "biuf" and np.can_cast(array.dtype, want, casting="same_kind"):
        return array.astype(want)
    raise ResultShapeError(
        f"the op '{node.opdef.name}' ({describe(node)}, node #{node.id}) returned dtype "
        f"{array.dtype}, but its dtype rule declares {want}; return {want} from forward, or "
        f"give sg.define_op({node.opdef.name!r}, ..., dtype=rule) a rule saying what it "
        "returns")

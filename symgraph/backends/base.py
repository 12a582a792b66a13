"""What every backend is and receives: the :class:`Backend` interface, the :class:`Request`
a backend compiles, and :func:`prepare`, the lowering every backend shares.

``prepare`` checks that the inputs cover the outputs, rewrites the outputs (``sg.simplify``'s
rules and the compile-only rules of ``symgraph.rewrite.rules_lowering``, in one run of
:func:`symgraph.rewrite.lower`) and plans what remains: constant steps are folded into
the plan's presets once. A backend then turns that :class:`Plan` into a callable.

Imports: ``symgraph.graph``, ``symgraph.errors``, ``symgraph.ops``, ``symgraph.plan``,
``symgraph.rewrite``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from symgraph.errors import SymgraphError
from symgraph.graph import Node, ancestors
from symgraph.ops.core import VAR, Op, describe
from symgraph.plan import Plan, needed_nodes
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
                          "inputs; add {it} to inputs")
    if not rewrite or len(needed) > SIMPLIFY_MAX_NODES:
        return list(outputs), needed
    rewritten = lower(list(outputs), LOWERING, assume_finite=assume_finite)
    # A rewrite may see through an intermediate node listed as an input (feeding it
    # replaces its ancestors): then the rewritten graph would need unfed inputs.
    after = ancestors(rewritten, stop=fed)
    if any(n.opdef is VAR and n.id not in fed for n in after):
        return list(outputs), needed
    return list(rewritten), after


def check_supported(backend: Backend, plan: Plan) -> None:
    """Raise naming the first op of ``plan`` that ``backend`` cannot run."""
    if type(backend).supports is Backend.supports:
        return  # runs every op: no walk over the steps
    nodes = plan.nodes
    for op in {nodes[s].opdef: s for s in plan.steps}.items():
        if not backend.supports(op[0]):
            node = nodes[op[1]]
            raise SymgraphError(
                f"sg.compile: the backend {backend.name!r} cannot run the op "
                f"'{op[0].name}' (node #{node.id}, {describe(node)}); compile with another "
                "backend (sg.backends() lists them)")

"""The evaluator: computes nodes from numeric feeds (the book's graph evaluation engine).

Owns: feeds (by node or name, validated), the plan (the ancestors of the outputs in id
order, which is topological, with the point after which each value is dead), and the
loop that runs it, freeing each intermediate value after its last use.

A feed may name any node, not only an input: its value replaces the node and the
node's ancestors are not computed (as TensorFlow 1.x allows).

Compiled functions (``sg.compile``) live in ``symgraph.codegen``; they use this module's
feeds, and its plans to rerun a call the generated code could not finish.

Imports: ``symgraph.graph``, ``symgraph.ops`` (for formulas in error messages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from symgraph.graph import (
    MissingFeedError,
    Node,
    ShapeError,
    SymgraphError,
    ancestors,
    gc_paused,
)
from symgraph.ops.core import describe

Outputs = Node | Sequence[Node]
_PLAN_CACHE_SIZE = 256


def needed_nodes(outputs: list[Node], fed: frozenset[int], complaint: str) -> list[Node]:
    """The ancestors of ``outputs`` (none past a fed node), in id order; an input among
    them that is not fed raises :class:`MissingFeedError` with ``complaint``, a format
    string of ``{names}``, ``{is_}`` (is/are) and ``{it}`` (it/them).

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x, y = sg.var("x"), sg.var("y")
    ...     z = x * y
    >>> [n.op for n in needed_nodes([z], frozenset({x.id, y.id}), "")]
    ['var', 'var', 'multiply']
    """
    nodes = ancestors(outputs, stop=fed)
    missing = [n for n in nodes if n.op == "var" and n.id not in fed]
    if missing:
        one = len(missing) == 1
        raise MissingFeedError(complaint.format(
            names=", ".join(describe(n) for n in missing), is_="is" if one else "are",
            it="it" if one else "them"), missing)
    return nodes


class Plan:
    """What to compute for ``outputs`` when the nodes in ``fed`` are given.

    ``slots`` holds every needed node; each step computes one node from earlier slots
    and then frees the slots it was the last reader of.
    """

    __slots__ = ("nodes", "slot", "steps", "preset", "fed", "outputs")

    def __init__(self, outputs: list[Node], fed: frozenset[int]):
        nodes = needed_nodes(outputs, fed, "no value was fed for {names}; add {it} to feeds "
                             "(keyed by the node or its name)")
        slot = {n.id: i for i, n in enumerate(nodes)}
        keep = {slot[n.id] for n in outputs}
        last_reader: dict[int, int] = {}
        computed = [n for n in nodes if n.id not in fed and n.op != "const"]
        for step, n in enumerate(computed):
            for inp in n.inputs:
                last_reader[slot[inp.id]] = step
        frees: list[list[int]] = [[] for _ in computed]
        for s, step in last_reader.items():
            if s not in keep:
                frees[step].append(s)
        self.nodes = nodes
        self.slot = slot
        self.fed = fed
        self.outputs = [slot[n.id] for n in outputs]
        self.preset = [(slot[n.id], n.attrs["value"]) for n in nodes
                       if n.op == "const" and n.id not in fed]
        self.steps = [
            (slot[n.id], n.opdef.impl, [slot[i.id] for i in n.inputs], n.attrs, frees[k], n)
            for k, n in enumerate(computed)
        ]

    def run(self, fed_values: dict[int, np.ndarray], check_finite: bool = False) -> list:
        values: list[Any] = [None] * len(self.nodes)
        for s, value in self.preset:
            values[s] = value
        for nid, value in fed_values.items():
            s = self.slot.get(nid)
            if s is not None:
                values[s] = value
        if check_finite:
            for s, value in enumerate(values):
                if value is not None:
                    _check_finite(self.nodes[s], value)
        with np.errstate(all="ignore"):
            for out, impl, ins, attrs, frees, node in self.steps:
                try:
                    result = impl(*[values[i] for i in ins], **attrs)
                except Exception as exc:
                    raise _op_error(node, [values[i] for i in ins], exc) from None
                values[out] = result
                if check_finite:
                    _check_finite(node, result)
                for i in frees:
                    values[i] = None
        return [np.asarray(values[i]) for i in self.outputs]


def _op_error(node: Node, args: list, exc: Exception) -> SymgraphError:
    shapes = ", ".join(str(np.shape(a)) for a in args)
    return SymgraphError(
        f"computing {describe(node)} (op '{node.op}', node #{node.id}) failed for inputs of "
        f"shapes ({shapes}): {type(exc).__name__}: {exc}; check the shapes of the values fed"
    )


def _check_finite(node: Node, value: Any) -> None:
    array = np.asarray(value)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = "nan" if np.any(np.isnan(array)) else "inf"
        raise SymgraphError(
            f"{describe(node)} (op '{node.op}', node #{node.id}) produced {bad}; "
            "look at this node's inputs (check_finite=True stops at the first such node)"
        )


def _outputs(outputs: Any, who: str) -> tuple[list[Node], bool]:
    if isinstance(outputs, Node):
        return [outputs], True
    if isinstance(outputs, (list, tuple)) and outputs:
        for o in outputs:
            if not isinstance(o, Node):
                raise SymgraphError(f"{who}: outputs hold {o!r}, which is not a symgraph node")
        graph = outputs[0].graph
        if any(o.graph is not graph for o in outputs):
            raise SymgraphError(f"{who}: the outputs belong to different graphs")
        return list(outputs), False
    raise SymgraphError(f"{who}: outputs must be a node or a non-empty list of nodes")


def _resolve(key: Any, graph: Any, who: str) -> Node:
    if isinstance(key, Node):
        if key.graph is not graph:
            raise SymgraphError(f"{who}: the feed for {describe(key)} is a node of another graph")
        return key
    if isinstance(key, str):
        found = graph.by_name(key)
        if not found:
            raise MissingFeedError(f"{who}: the graph has no node named {key!r} to feed")
        if len(found) > 1:
            raise SymgraphError(
                f"{who}: {len(found)} nodes are named {key!r}; feed by node instead of by name"
            )
        return found[0]
    raise SymgraphError(f"{who}: feeds are keyed by nodes or names, got {key!r}")


def convert_feed(node: Node, value: Any, who: str) -> np.ndarray:
    """``value`` as an array of ``node``'s dtype, checked against its static shape.

    A conversion must keep every value: integers that do not fit (``2**64 - 1`` for an
    int64 input, ``-1`` for a uint8 one) and finite floats that would become inf raise
    instead of wrapping round. This is the one check ``sg.evaluate`` and compiled
    functions share.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     i = sg.var("i", shape=(2,), dtype="uint8")
    >>> convert_feed(i, [1, 255], "sg.evaluate").tolist()
    [1, 255]
    >>> try:
    ...     convert_feed(i, [1, -1], "sg.evaluate")
    ... except sg.SymgraphError as e:
    ...     print(str(e).split("; ")[0])
    sg.evaluate: the value fed for 'i' (shape (2,)) holds -1, which does not fit uint8 (0 to 255)
    """
    if isinstance(value, Node):
        raise SymgraphError(f"{who}: the feed for {describe(node)} is a node; feed numbers")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise SymgraphError(
            f"{who}: the value fed for {describe(node)} is not a rectangular array of numbers "
            f"({exc})"
        ) from None
    if array.dtype.kind not in "biuf":
        big = _too_big_int(array)
        if big is not None:
            raise SymgraphError(
                f"{who}: the value fed for {describe(node)} holds {big}, which does not fit "
                f"{node.dtype} (nor any NumPy integer type); feed values in its range"
            )
        raise SymgraphError(
            f"{who}: the value fed for {describe(node)} has dtype {array.dtype}, not numbers; "
            "feed ints, floats or bools"
        )
    expected = node.shape
    if len(array.shape) != len(expected) or any(
        e is not None and e != g for e, g in zip(expected, array.shape)
    ):
        shown = tuple("?" if e is None else e for e in expected)
        raise ShapeError(
            f"{who}: the value fed for {describe(node)} has shape {array.shape}, expected "
            f"{shown}".replace("'?'", "?")
        )
    if array.dtype != node.dtype:
        # Integer to integer is judged by value below (NumPy refuses int64 -> uint8 by
        # kind, though [1, 2] fits); other kinds must not change (float -> int rounds).
        integers = array.dtype.kind in "iu" and node.dtype.kind in "iu"
        if not integers and not np.can_cast(array.dtype, node.dtype, casting="same_kind"):
            raise SymgraphError(
                f"{who}: the value fed for {describe(node)} has dtype {array.dtype}, which "
                f"cannot become {node.dtype} without losing its kind; convert it first"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below
            converted = array.astype(node.dtype)
        if not np.can_cast(array.dtype, node.dtype, casting="safe"):
            _check_fits(node, array, converted, who)
        array = converted
    return array


def _too_big_int(array: np.ndarray) -> int | None:
    """The first Python int of an object array that no NumPy integer type holds."""
    if array.dtype.kind != "O" or not all(isinstance(v, int) for v in array.flat):
        return None
    return next((v for v in array.flat if not -(2**63) <= v < 2**64), None)


def _check_fits(node: Node, array: np.ndarray, converted: np.ndarray, who: str) -> None:
    """A narrowing conversion kept every value: no integer wrapped round (``astype``
    makes 2**64 - 1 into -1), no finite float became inf."""
    if array.size == 0:
        return
    bad: Any = None
    if node.dtype.kind in "iu":
        info = np.iinfo(node.dtype)
        low, high = array.min(), array.max()
        bad = low if low < info.min else high if high > info.max else None
        limits = f"{info.min} to {info.max}"
    else:
        overflow = np.isinf(converted) & np.isfinite(array)
        if overflow.any():
            bad = array[overflow].flat[0]
        limits = f"its largest is {np.finfo(node.dtype).max:g}"
    if bad is not None:
        raise SymgraphError(
            f"{who}: the value fed for {describe(node)} holds {bad}, which does not fit "
            f"{node.dtype} ({limits}); feed values in that range or give the input a "
            "wider dtype"
        )


def _plan(outputs: list[Node], fed: frozenset[int]) -> Plan:
    graph = outputs[0].graph
    key = ("plan", tuple(n.id for n in outputs), fed)
    plan = graph.cache.get(key)
    if plan is None:
        with gc_paused():  # a plan of 10^5 steps allocates as many tuples, all kept
            plan = Plan(outputs, fed)
        if len(graph.cache) > _PLAN_CACHE_SIZE:
            graph.cache.clear()
        graph.cache[key] = plan
    return plan


def evaluate(outputs: Outputs, feeds: Mapping[Any, Any] | None = None,
             check_finite: bool = False) -> np.ndarray | list[np.ndarray]:
    """Compute ``outputs`` (a node or a list of nodes) from ``feeds``.

    ``feeds`` maps input nodes (or their names) to array-likes; it may also map an
    intermediate node, whose value is then used instead of computing it. Only the
    ancestors of ``outputs`` are computed, so only the inputs they need must be fed.
    With ``check_finite=True`` the first node whose value is not finite raises.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * x
    ...     dy = sg.grad(y, x)
    >>> [round(float(v), 4) for v in sg.evaluate([y, dy], {"x": 1.0})]
    [0.8415, 1.3818]
    """
    nodes, single = _outputs(outputs, "sg.evaluate")
    if feeds is None:
        feeds = {}
    if not isinstance(feeds, Mapping):
        raise SymgraphError(f"sg.evaluate: feeds must be a dict, got {type(feeds).__name__}")
    graph = nodes[0].graph
    values: dict[int, np.ndarray] = {}
    for key, value in feeds.items():
        node = _resolve(key, graph, "sg.evaluate")
        values[node.id] = convert_feed(node, value, "sg.evaluate")
    plan = _plan(nodes, frozenset(values))
    results = plan.run(values, check_finite)
    return results[0] if single else results

"""Graphs out of symgraph and back: a versioned JSON ``save``/``load``.

Owns: the JSON format (``"format": "symgraph"``, ``"version": 1``): the saved nodes in id
order, each with its op name, the positions of its inputs, its attributes, name, shape,
dtype and provenance (order, scope, grad_call, grad_of; fields holding their default are
left out), then the positions of the outputs (the README documents it). A graph an op
holds in an attribute (a loop's body, read through the op's ``encode_attrs`` hook) is a
nested node list of the same records, ``{"$": "graph", "meta", "nodes", "inputs",
"outputs"}``, rebuilt through the op's ``decode_attrs``: no code is stored. Writing it, and
loading it into a fresh ``Graph`` that is only returned when the whole file checks out.
Loading trusts nothing in the file: ``symgraph.io.checks`` type-checks and bounds every
field, ``symgraph.io.rebuild`` makes every node through its op's public constructor (it
must come out with the stored shape and dtype) and prices the work the graph asks of
``evaluate``, which is bounded here. Nothing is executed and there is no pickle.

Imports: ``symgraph.errors``, ``symgraph.context``, ``symgraph.graph``, ``symgraph.ops``,
``symgraph.plan`` (its check of ``outputs``), ``symgraph.io.checks``,
``symgraph.io.rebuild``, NumPy.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.context import derivative_context, name_scope
from symgraph.feeds import as_outputs as _outputs
from symgraph.errors import SymgraphError
from symgraph.graph import Graph, Node, ancestors
from symgraph.io.checks import (
    DEFAULTS,
    DTYPES,
    FORMAT,
    MAX_BODY_DEPTH,
    NODE_ELEMENTS,
    TOTAL_WORK,
    VERSION,
    BadFile,
    BodyRecord,
    brief,
    check_document,
    check_record,
    is_int,
    read_json,
)
from symgraph.io.rebuild import make_node, work
from symgraph.ops.core import describe, placeholder


def save(outputs: Node | Sequence[Node], path: str | os.PathLike) -> None:
    """Write ``outputs`` and everything they depend on to ``path`` as versioned JSON.

    Saved are the outputs' ancestors plus the forward nodes their derivative nodes are
    the derivative of (``grad_of``), so provenance survives. A loop's bodies (``scan``,
    ``cond``, ``while_loop``) are saved with it as nested node lists, its derivative
    loops' bodies too: no code. :func:`load` reads it back. The file is replaced
    atomically.

    >>> import os, tempfile, symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = sg.sin(x) * x
    >>> path = os.path.join(tempfile.mkdtemp(), "y.json")
    >>> sg.save(y, path)
    >>> (y2,) = sg.load(path)
    >>> str(y2), y2.graph is y.graph
    ('sin(x)*x', False)
    """
    outs = _outputs(outputs, "sg.save")[0]
    nodes = _saved_nodes(outs)
    index = {n.id: i for i, n in enumerate(nodes)}
    lines = [json.dumps(_node_record(n, index), allow_nan=False) for n in nodes]
    # One node per line: files stay readable and diff well.
    text = (f'{{"format": "{FORMAT}", "version": {VERSION},\n "nodes": [\n  '
            + ",\n  ".join(lines) + '\n ],\n "outputs": '
            + json.dumps([index[o.id] for o in outs]) + "}\n")
    _write_atomically(_path(path, "sg.save"), text)


def _path(path: Any, who: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise SymgraphError(f"{who}: the path must be a str or os.PathLike, got "
                            f"{type(path).__name__}")
    return os.fspath(path)


def _saved_nodes(outputs: list[Node]) -> list[Node]:
    """Ancestors of ``outputs`` closed under ``grad_of``, sorted by id (iterative)."""
    seen: dict[int, Node] = {}
    stack = list(outputs)
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen[node.id] = node
        stack.extend(node.inputs)
        if node.grad_of is not None:
            stack.append(node.grad_of)
    return [seen[i] for i in sorted(seen)]


def _node_record(n: Node, index: dict[int, int], level: int = 0) -> dict[str, Any]:
    where = f"node #{n.id} ({n.op}{' ' + repr(n.name) if n.name else ''})"
    attrs, bodies = (n.attrs, {}) if n.opdef.encode_attrs is None else \
        n.opdef.encode_attrs(n.attrs)
    encoded = {k: _encode(v, f"attribute {k!r} of {where}") for k, v in attrs.items()}
    for k, (inputs, outputs, meta) in bodies.items():
        if level >= MAX_BODY_DEPTH:  # (load refuses deeper: write only what it reads)
            raise SymgraphError(
                f"sg.save: the bodies of {where} are nested more than {MAX_BODY_DEPTH} levels "
                "deep (a checkpointed scan is a scan of scans), more than the format holds")
        encoded[k] = _body_record(inputs, outputs, meta, level + 1)
    full = {
        "op": n.op, "inputs": [index[i.id] for i in n.inputs],
        "attrs": encoded,
        "name": n.name, "shape": list(n.shape), "dtype": _dtype_name(n.dtype, where),
        "order": n.order, "scope": n.scope, "grad_call": n.grad_call,
        # (in a body, the node it differentiates may lie outside the body: then none)
        "grad_of": None if n.grad_of is None else index.get(n.grad_of.id),
    }
    return {k: v for k, v in full.items() if k not in DEFAULTS or v != DEFAULTS[k]}


def _body_record(inputs: list[Node], outputs: list[Node], meta: dict,
                 level: int) -> dict[str, Any]:
    """A graph an op holds in an attribute (a loop's body) as a nested node list:
    ``{"$": "graph", "meta": ..., "nodes": [...], "inputs": [...], "outputs": [...]}``,
    positions local to its list. Its nodes are its outputs' ancestors down to its
    inputs (placeholders, saved as ``var`` records); constants it shares with the outer
    graph are saved again, and interned into one node when loaded."""
    stop = {n.id for n in inputs}
    nodes = {n.id: n for n in [*ancestors(outputs, stop), *inputs]}
    ordered = [nodes[i] for i in sorted(nodes)]
    index = {n.id: i for i, n in enumerate(ordered)}
    return {"$": "graph", "meta": meta,
            "nodes": [_node_record(n, index, level) for n in ordered],
            "inputs": [index[n.id] for n in inputs], "outputs": [index[n.id] for n in outputs]}


def _dtype_name(dtype: np.dtype, where: str) -> str:
    if dtype.name not in DTYPES:
        raise SymgraphError(f"sg.save: {where} has dtype {dtype}, which the format cannot hold")
    return dtype.name


def _encode(value: Any, where: str) -> Any:
    """An attribute value as JSON: tuples become lists, the rest tagged ``{"$": ...}``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if value is Ellipsis:
        return {"$": "ellipsis"}
    if isinstance(value, tuple):
        return [_encode(v, where) for v in value]
    if isinstance(value, np.ndarray):
        return _encode_array(value, where)
    raise SymgraphError(
        f"sg.save: {where} is a {type(value).__name__}, which the JSON format cannot hold"
    )


def _float(f: float) -> Any:
    if math.isfinite(f):
        return f
    return {"$": "float", "value": _nonfinite(f)}


def _nonfinite(f: float) -> str:
    """NaN (its sign kept: ``np.copysign`` reads it) or an infinity, as a string."""
    if math.isnan(f):
        return "-nan" if math.copysign(1.0, f) < 0 else "nan"
    return "inf" if f > 0 else "-inf"


def _encode_array(a: np.ndarray, where: str) -> dict[str, Any]:
    record: dict[str, Any] = {"$": "array", "dtype": _dtype_name(a.dtype, where),
                              "shape": list(a.shape)}
    if a.size and not any(a.strides):  # a scalar or a broadcast fill: one number suffices
        record["fill"] = _scalar(a.flat[0].item())
    else:
        flat = a.ravel().tolist()
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            flat = [_scalar(v) for v in flat]
        record["data"] = flat
    return record


def _scalar(v: Any) -> Any:
    """An array element: NaN and infinities as the strings "nan", "-nan", "inf", "-inf"."""
    if isinstance(v, float) and not math.isfinite(v):
        return _nonfinite(v)
    return v


def _write_atomically(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".symgraph-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise SymgraphError(f"sg.save: cannot write {path!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SymgraphError(f"sg.save: cannot write {path!r}: {exc.strerror or exc}") from None


# --- load ----------------------------------------------------------------------------------


def load(path: str | os.PathLike, *, max_elements: int = NODE_ELEMENTS,
         max_work: int = TOTAL_WORK) -> list[Node]:
    """Read a file written by :func:`save`: the list of output nodes, in a new Graph.

    Names, constants, derivative orders, scopes and provenance (``grad_call``,
    ``grad_of``) are kept. A file that is not valid symgraph JSON, names an op this
    process does not know, holds what the public constructors refuse (``sg.transpose``
    axes that are no permutation...) or does not rebuild to the stored shapes and dtypes
    raises ``sg.SymgraphError`` saying what is wrong; no graph is left behind.

    A few hundred bytes can declare a sum over a 2**24 x 2**24 fill, hours of work for
    ``sg.evaluate``. So no node may have more than ``max_elements`` elements (2**28), and
    all together may ask for ``max_work`` element operations (2**36; each node its largest
    operand or result, a matrix product its multiply-adds; a loop its bodies' work times
    its steps, a ``while_loop`` one step): raise them for a file you trust.
    Unknown dimensions (``None``) count as 1: the values you feed set their cost.

    >>> import os, tempfile, symgraph as sg
    >>> path = os.path.join(tempfile.mkdtemp(), "bad.json")
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"format": "symgraph", "version": 99, "nodes": [], "outputs": []}')
    >>> try:
    ...     sg.load(path)
    ... except sg.SymgraphError as e:
    ...     print(str(e).split(": ", 2)[2])
    version 99 is not supported; this symgraph reads version 1
    """
    name = _path(path, "sg.load")
    for limit, value in (("max_elements", max_elements), ("max_work", max_work)):
        if not is_int(value) or value < 1:
            raise SymgraphError(f"sg.load: {limit} must be an int >= 1, got {value!r}")
    try:
        doc = read_json(name)
        records, outputs = check_document(doc)
        built = _rebuild(records, max_elements, max_work)
    except BadFile as exc:
        raise SymgraphError(f"sg.load: {name}: {exc}") from None
    return [built[i] for i in outputs]


def _rebuild(records: list, max_elements: int, max_work: int) -> list[Node]:
    """Every record rebuilt, in order, into a fresh Graph (discarded on any error)."""
    graph = Graph()
    builder = _Builder(graph, max_elements, max_work)
    with graph:
        built, _ = builder.nodes(records, "")
    if builder.calls:
        # Later sg.grad calls on the loaded graph must get fresh numbers.
        graph._grad_calls = itertools.count(max(builder.calls) + 1)
    return built


class _Builder:
    """Rebuilds checked node records into one graph, the bodies loops hold included, and
    prices the work they ask of ``evaluate``: a loop costs its own node plus, per step,
    the work of its bodies (a ``while_loop`` counts one step: its count is known only
    when it runs)."""

    def __init__(self, graph: Graph, max_elements: int, max_work: int):
        self.graph, self.max_elements, self.max_work = graph, max_elements, max_work
        self.total = 0  # work of the top-level nodes so far
        self.calls: list[int] = []

    def nodes(self, records: list, where: str, held: Sequence[int] = ()) -> tuple[list[Node], int]:
        """``records`` rebuilt (top-level ones checked here, a body's already are; the
        positions ``held`` are a body's placeholders), and the sum of their work."""
        built: list[Node] = []
        sizes: list[int] = []  # static elements of each built node
        spent = 0
        held = set(held)
        current: tuple | None = None
        ctx: Any = None
        contexts = contextlib.ExitStack()
        try:
            for i, raw in enumerate(records):
                rec = raw if where else check_record(raw, i)
                here = f"{where}node {i} ({rec['op']})"
                # Consecutive nodes mostly share scope and provenance: switch contexts rarely.
                key = (rec["scope"], rec["order"], rec["grad_call"])
                if key != current:
                    contexts.close()
                    contexts = contextlib.ExitStack()
                    ctx = _enter(contexts, rec, here)
                    current = key
                ctx.grad_of = None if rec["grad_of"] is None else built[rec["grad_of"]]
                inner = 0
                if i in held:
                    if rec["inputs"] or rec["attrs"]:
                        raise BadFile(f"{here}: a body's input has no inputs and no attributes")
                    node = placeholder(self.graph, rec["shape"], rec["dtype"],
                                       rec["name"] or "input")
                else:
                    attrs, inner = self._attrs(rec, here)
                    node = _make_node(rec, attrs, [built[j] for j in rec["inputs"]],
                                      self.graph, here)
                if node.shape != rec["shape"] or node.dtype != np.dtype(rec["dtype"]):
                    raise BadFile(
                        f"{here}: the file says shape {rec['shape']} and dtype "
                        f"{rec['dtype']}, but rebuilding it gives shape {node.shape} and dtype "
                        f"{node.dtype}; the file is corrupt or from an incompatible version"
                    )
                size = math.prod(d for d in node.shape if d is not None)
                cost = work(node, size, [sizes[j] for j in rec["inputs"]]) + inner
                spent += cost
                if not where:
                    self.total += cost
                for limit, value, most, what in (
                        ("max_elements", size, self.max_elements, "elements"),
                        ("max_work", spent if where else self.total, self.max_work,
                         "element operations up to it")):
                    if value > most:  # the file asks for hours of work (or all memory)
                        raise BadFile(f"{where}node {i} ({describe(node)}): {value} {what}, more "
                                      f"than {limit}={most}; if you trust this file, load it "
                                      f"with sg.load(path, {limit}={value})")
                built.append(node)
                sizes.append(size)
                if node.grad_call is not None:
                    self.calls.append(node.grad_call)
        finally:
            contexts.close()
        return built, spent

    def _attrs(self, rec: dict, here: str) -> tuple[dict, int]:
        """The record's attributes with its bodies rebuilt (through its op's
        ``decode_attrs``), and the work of its bodies times its steps."""
        attrs = rec["attrs"]
        held = {k: v for k, v in attrs.items() if isinstance(v, BodyRecord)}
        if not held:
            return attrs, 0
        op = rec["opdef"]
        if op.decode_attrs is None:
            raise BadFile(f"{here}: attribute {brief(repr(next(iter(held))), 30)} holds a "
                          "graph, which this op does not take")
        bodies, inner = {}, 0
        for k, b in held.items():
            nodes, spent = self.nodes(b.records, f"{here}, body {brief(repr(k), 30)}: ", b.inputs)
            bodies[k] = ([nodes[j] for j in b.inputs], [nodes[j] for j in b.outputs], b.meta)
            inner += spent
        plain = {k: v for k, v in attrs.items() if k not in held}
        steps = plain.get("length")
        try:
            decoded = op.decode_attrs(plain, bodies)
        except Exception as exc:  # a hand-made body that does not fit its loop
            raise BadFile(f"{here}: its bodies do not fit the op ({brief(str(exc))})") from None
        return decoded, inner * (steps if is_int(steps) and steps > 1 else 1)


def _enter(stack: contextlib.ExitStack, rec: dict, here: str) -> Any:
    scope = rec["scope"]
    try:
        for part in scope.split("/") if scope else ():
            stack.enter_context(name_scope(part))
    except SymgraphError:
        raise BadFile(f"{here}: scope {brief(repr(scope), 60)} is not a '/'-separated "
                      "path of non-empty names") from None
    return stack.enter_context(derivative_context(rec["order"], rec["grad_call"]))


def _make_node(rec: dict, attrs: dict, inputs: list[Node], graph: Graph, here: str) -> Node:
    """The record's node, as its public constructor makes it (see ``symgraph.io.rebuild``)."""
    try:
        return make_node(rec["opdef"], inputs, attrs, rec["name"], shape=rec["shape"],
                         dtype=rec["dtype"], order=rec["order"], grad_call=rec["grad_call"],
                         graph=graph)
    except SymgraphError as exc:
        raise BadFile(f"{here}: {exc}") from None
    except Exception as exc:  # an op's shape rule choking on attributes it never expected
        raise BadFile(f"{here}: its attributes do not fit the op "
                      f"({type(exc).__name__}: {brief(str(exc))})") from None

"""Graphs out of symgraph and back: ``to_networkx`` and a versioned JSON ``save``/``load``.

The JSON format (``"format": "symgraph"``, ``"version": 1``) lists the saved nodes in id
order, each with its op name, the positions of its inputs, its attributes, name, shape,
dtype and provenance (order, scope, grad_call, grad_of; fields holding their default are
left out), then the positions of the outputs. The README documents the format.
Loading trusts nothing in the file: every field is type-checked and bounded, every node is
rebuilt through its op's public constructor (``var``, ``const``, ``sg.transpose``...; ``make``
for ops without attributes) and must come out with the stored shape and dtype, and the work
the graph asks of ``evaluate`` is bounded. It is built into a fresh ``Graph`` that is only
returned when the whole file checks out. Nothing is executed and there is no pickle.

Imports: ``symgraph.graph``, ``symgraph.ops``, ``symgraph.loadcheck``, NumPy, networkx (and
``symgraph.engine``'s output check, lazily).
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

import networkx as nx
import numpy as np

from symgraph.graph import (Graph, Node, SymgraphError, ancestors, derivative_context,
                            gc_paused, name_scope)
from symgraph.loadcheck import rebuild, work
from symgraph.ops.core import OPS, const, describe, var

FORMAT = "symgraph"
VERSION = 1
# Bounds on what a file may ask for; each is far above what a real graph needs.
MAX_FILE_BYTES = 64 * 2**20
MAX_NODES = 1_000_000
MAX_NDIM = 32
MAX_ELEMENTS = 2**48  # static size of any shape a file declares (fills, inputs)
# Defaults of load's limits on the work a file may ask of evaluate: the elements of any one
# node (2 GiB of float64), and the element operations of all nodes together (a minute or so).
NODE_ELEMENTS = 2**28
TOTAL_WORK = 2**36
MAX_ORDER = 1000
MAX_STRING = 10_000
MAX_ATTR_DEPTH = 8
DTYPES = frozenset(
    ["bool", "float16", "float32", "float64"]
    + [f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)]
)
REQUIRED = ("op", "shape", "dtype")
# Fields left out of a record when they hold these values (most nodes), so files stay small.
DEFAULTS: dict[str, Any] = {"inputs": [], "attrs": {}, "name": None, "order": 0, "scope": "",
                            "grad_call": None, "grad_of": None}
FIELDS = ("op", "inputs", "attrs", "name", "shape", "dtype", "order", "scope", "grad_call",
          "grad_of")
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _outputs(outputs: Node | Sequence[Node], who: str = "symgraph") -> list[Node]:
    from symgraph.engine import _outputs as check

    return check(outputs, who)[0]


def to_networkx(outputs: Node | Sequence[Node]) -> nx.MultiDiGraph:
    """The ancestors of ``outputs`` as a ``networkx.MultiDiGraph`` keyed by ``node.id``.

    Node attributes: ``op``, ``shape``, ``dtype`` (its name), ``name``, ``order``,
    ``scope``, ``grad_call`` and ``grad_of`` (an id or None). One edge per
    argument from each input to its consumer, with attribute ``index`` (its position), so
    ``x*x`` has two edges.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     x = sg.var("x")
    ...     y = x * x
    >>> G = sg.to_networkx(y)
    >>> G.number_of_edges(x.id, y.id), G.nodes[y.id]["op"]
    (2, 'multiply')
    """
    nodes = ancestors(_outputs(outputs))
    graph = nx.MultiDiGraph()
    with gc_paused():  # every dict networkx makes here is kept: collections would only cost
        graph.add_nodes_from(
            (n.id, {"op": n.op, "shape": n.shape, "dtype": str(n.dtype), "name": n.name,
                    "order": n.order, "scope": n.scope, "grad_call": n.grad_call,
                    "grad_of": None if n.grad_of is None else n.grad_of.id})
            for n in nodes
        )
        graph.add_edges_from(
            (inp.id, n.id, {"index": index}) for n in nodes for index, inp in enumerate(n.inputs)
        )
    return graph


# --- save ----------------------------------------------------------------------------------


def save(outputs: Node | Sequence[Node], path: str | os.PathLike) -> None:
    """Write ``outputs`` and everything they depend on to ``path`` as versioned JSON.

    Saved are the outputs' ancestors plus the forward nodes their derivative nodes are
    the derivative of (``grad_of``), so provenance survives. :func:`load` reads it back.
    The file is replaced atomically.

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
    outs = _outputs(outputs, "sg.save")
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


def _node_record(n: Node, index: dict[int, int]) -> dict[str, Any]:
    where = f"node #{n.id} ({n.op}{' ' + repr(n.name) if n.name else ''})"
    full = {
        "op": n.op, "inputs": [index[i.id] for i in n.inputs],
        "attrs": {k: _encode(v, f"attribute {k!r} of {where}") for k, v in n.attrs.items()},
        "name": n.name, "shape": list(n.shape), "dtype": _dtype_name(n.dtype, where),
        "order": n.order, "scope": n.scope, "grad_call": n.grad_call,
        "grad_of": None if n.grad_of is None else index[n.grad_of.id],
    }
    return {k: v for k, v in full.items() if k not in DEFAULTS or v != DEFAULTS[k]}


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
    return {"$": "float", "value": "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")}


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
    """An array element: NaN and infinities as the strings "nan", "inf", "-inf"."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
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


class _Bad(Exception):
    """A problem with the file; ``load`` turns it into one SymgraphError naming the file."""


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
    operand or result, a matrix product its multiply-adds): raise them for a file you trust.
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
        if not _is_int(value) or value < 1:
            raise SymgraphError(f"sg.load: {limit} must be an int >= 1, got {value!r}")
    try:
        doc = _read_json(name)
        records, outputs = _check_document(doc)
        built = _rebuild(records, max_elements, max_work)
    except _Bad as exc:
        raise SymgraphError(f"sg.load: {name}: {exc}") from None
    return [built[i] for i in outputs]


def _read_json(path: str) -> Any:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _Bad(f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _Bad(f"the file is larger than {MAX_FILE_BYTES >> 20} MiB; not loading it")
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except _Bad:
        raise
    except RecursionError:
        raise _Bad("not valid JSON: nested too deeply") from None
    except MemoryError:
        raise _Bad("not valid JSON: too big to parse") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise _Bad(f"not valid JSON: {_brief(str(exc))}") from None


def _no_constant(token: str) -> Any:
    raise _Bad(f"not valid JSON: {token} is not a JSON number (the format writes \"nan\" etc.)")


def _finite_float(text: str) -> float:
    f = float(text)
    if not math.isfinite(f):
        raise _Bad(f"the number {_brief(text, 30)} is out of range")
    return f


def _brief(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(v: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    return {str: "a string", list: "an array", dict: "an object"}.get(type(v), type(v).__name__)


def _is_int(v: Any) -> bool:
    return type(v) is int  # JSON true/false decode to bool, a subclass of int


def _check_document(doc: Any) -> tuple[list, list[int]]:
    if not isinstance(doc, dict):
        raise _Bad(f"not a symgraph file: the JSON is {_kind(doc)}, not an object")
    if doc.get("format") != FORMAT:
        raise _Bad(f"not a symgraph file: \"format\" is {_brief(repr(doc.get('format')), 40)}, "
                   f"expected {FORMAT!r}")
    version = doc.get("version")
    if version != VERSION or not _is_int(version):
        raise _Bad(f"version {_brief(repr(version), 40)} is not supported; "
                   f"this symgraph reads version {VERSION}")
    extra = set(doc) - {"format", "version", "nodes", "outputs"}
    if extra:
        raise _Bad(f"unknown top-level field {sorted(extra)[0]!r}")
    nodes, outputs = doc.get("nodes"), doc.get("outputs")
    if not isinstance(nodes, list) or not nodes:
        raise _Bad(f"\"nodes\" must be a non-empty array, got {_kind(nodes)}")
    if len(nodes) > MAX_NODES:
        raise _Bad(f"{len(nodes)} nodes is more than the limit of {MAX_NODES}")
    if not isinstance(outputs, list) or not outputs:
        raise _Bad(f"\"outputs\" must be a non-empty array of node positions, got {_kind(outputs)}")
    for o in outputs:
        if not _is_int(o) or not 0 <= o < len(nodes):
            raise _Bad(f"output {_brief(repr(o), 30)} is not a node position "
                       f"(0 to {len(nodes) - 1})")
    return nodes, outputs


def _rebuild(records: list, max_elements: int, max_work: int) -> list[Node]:
    """Every record rebuilt, in order, into a fresh Graph (discarded on any error)."""
    graph = Graph()
    built: list[Node] = []
    sizes: list[int] = []  # static elements of each built node
    total = 0
    current: tuple | None = None
    ctx: Any = None
    contexts = contextlib.ExitStack()
    try:
        with graph:
            for i, raw in enumerate(records):
                rec = _record(raw, i)
                # Consecutive nodes mostly share scope and provenance: switch contexts rarely.
                key = (rec["scope"], rec["order"], rec["grad_call"])
                if key != current:
                    contexts.close()
                    contexts = contextlib.ExitStack()
                    ctx = _enter(contexts, rec, i)
                    current = key
                ctx.grad_of = None if rec["grad_of"] is None else built[rec["grad_of"]]
                node = _make_node(rec, [built[j] for j in rec["inputs"]], graph, i)
                if node.shape != rec["shape"] or node.dtype != np.dtype(rec["dtype"]):
                    raise _Bad(
                        f"node {i} ({rec['op']}): the file says shape {rec['shape']} and dtype "
                        f"{rec['dtype']}, but rebuilding it gives shape {node.shape} and dtype "
                        f"{node.dtype}; the file is corrupt or from an incompatible version"
                    )
                size = math.prod(d for d in node.shape if d is not None)
                total += work(node, size, [sizes[j] for j in rec["inputs"]])
                for limit, value, most, what in (
                        ("max_elements", size, max_elements, "elements"),
                        ("max_work", total, max_work, "element operations up to it")):
                    if value > most:  # the file asks for hours of work (or all memory)
                        raise _Bad(f"node {i} ({describe(node)}): {value} {what}, more than "
                                   f"{limit}={most}; if you trust this file, load it with "
                                   f"sg.load(path, {limit}={value})")
                built.append(node)
                sizes.append(size)
    finally:
        contexts.close()
    calls = [n.grad_call for n in built if n.grad_call is not None]
    if calls:
        # Later sg.grad calls on the loaded graph must get fresh numbers.
        graph._grad_calls = itertools.count(max(calls) + 1)
    return built


def _enter(stack: contextlib.ExitStack, rec: dict, i: int) -> Any:
    scope = rec["scope"]
    try:
        for part in scope.split("/") if scope else ():
            stack.enter_context(name_scope(part))
    except SymgraphError:
        raise _Bad(f"node {i}: scope {_brief(repr(scope), 60)} is not a '/'-separated path "
                   "of non-empty names") from None
    return stack.enter_context(derivative_context(rec["order"], rec["grad_call"]))


def _make_node(rec: dict, inputs: list[Node], graph: Graph, i: int) -> Node:
    op, attrs, name = rec["op"], rec["attrs"], rec["name"]
    where = f"node {i} ({op})"
    arrays = [k for k, v in attrs.items() if isinstance(v, np.ndarray)]
    try:
        if op == "var":
            if inputs or attrs or name is None:
                raise _Bad(f"{where}: an input has a name, no inputs and no attributes")
            if rec["order"] and rec["grad_call"] is None:  # sg.var makes order 0 only
                raise _Bad(f"{where}: input {name!r} has derivative order {rec['order']}; "
                           "only a derivative's placeholder (with a \"grad_call\") has one")
            return var(name, rec["shape"], rec["dtype"])
        if op == "const":
            if inputs or list(attrs) != ["value"] or arrays != ["value"]:
                raise _Bad(f"{where}: a constant has no inputs and one attribute, an array 'value'")
            return const(attrs["value"], name=name, graph=graph)
        if arrays:
            raise _Bad(f"{where}: attribute {arrays[0]!r} is an array; only constants hold arrays")
        if name is not None:
            raise _Bad(f"{where}: only var and const nodes carry names")
        return rebuild(op, inputs, attrs)  # as the op's public constructor makes it
    except _Bad:
        raise
    except SymgraphError as exc:
        raise _Bad(f"{where}: {exc}") from None
    except Exception as exc:  # an op's shape rule choking on attributes it never expected
        raise _Bad(f"{where}: its attributes do not fit the op "
                   f"({type(exc).__name__}: {_brief(str(exc))})") from None


def _record(raw: Any, i: int) -> dict[str, Any]:
    """One node record, checked field by field (``i`` is its position)."""
    where = f"node {i}"
    if not isinstance(raw, dict):
        raise _Bad(f"{where} is {_kind(raw)}, not an object")
    missing = [f for f in REQUIRED if f not in raw]
    if missing:
        raise _Bad(f"{where} has no field {missing[0]!r}")
    extra = sorted(set(raw) - set(FIELDS))
    if extra:
        raise _Bad(f"{where} has an unknown field {_brief(repr(extra[0]), 40)}")
    raw = {**DEFAULTS, **raw}
    op = raw["op"]
    if not isinstance(op, str):
        raise _Bad(f"{where}: \"op\" is {_kind(op)}, not a string")
    if op not in OPS:
        raise _Bad(f"{where}: unknown op {_brief(repr(op), 40)}; if it is your own op, declare "
                   "it with sg.define_op before loading")
    where = f"node {i} ({op})"
    inputs = raw["inputs"]
    if not isinstance(inputs, list):
        raise _Bad(f"{where}: \"inputs\" is {_kind(inputs)}, not an array")
    for j in inputs:
        if not _is_int(j) or j < 0:
            raise _Bad(f"{where}: input {_brief(repr(j), 30)} is not a node position")
        if j >= i:
            raise _Bad(f"{where}: input {j} refers forward; a node may only use earlier nodes")
    attrs = raw["attrs"]
    if not isinstance(attrs, dict):
        raise _Bad(f"{where}: \"attrs\" is {_kind(attrs)}, not an object")
    decoded = {k: _decode(v, f"{where}: attribute {_brief(repr(k), 30)}", 0)
               for k, v in attrs.items()}
    return {
        "op": op, "inputs": inputs, "attrs": decoded,
        "name": _optional_string(raw["name"], f"{where}: \"name\""),
        "shape": _shape(raw["shape"], f"{where}: \"shape\"", unknown_ok=True),
        "dtype": _dtype(raw["dtype"], f"{where}: \"dtype\""),
        "order": _bounded_int(raw["order"], 0, MAX_ORDER, f"{where}: \"order\""),
        "scope": _string(raw["scope"], f"{where}: \"scope\""),
        "grad_call": None if raw["grad_call"] is None
        else _bounded_int(raw["grad_call"], 1, 2**62, f"{where}: \"grad_call\""),
        "grad_of": None if raw["grad_of"] is None
        else _bounded_int(raw["grad_of"], 0, i - 1, f"{where}: \"grad_of\" (an earlier node)"),
    }


def _string(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise _Bad(f"{where} is {_kind(v)}, not a string")
    if len(v) > MAX_STRING:
        raise _Bad(f"{where} is longer than {MAX_STRING} characters")
    return v


def _optional_string(v: Any, where: str) -> str | None:
    return None if v is None else _string(v, where)


def _bounded_int(v: Any, low: int, high: int, where: str) -> int:
    if not _is_int(v) or not low <= v <= high:
        raise _Bad(f"{where} must be an integer from {low} to {high}, got {_brief(repr(v), 30)}")
    return v


def _dtype(v: Any, where: str) -> str:
    if not isinstance(v, str) or v not in DTYPES:
        raise _Bad(f"{where} must be one of {', '.join(sorted(DTYPES))}; "
                   f"got {_brief(repr(v), 30)}")
    return v


def _shape(v: Any, where: str, unknown_ok: bool) -> tuple:
    if not isinstance(v, list) or len(v) > MAX_NDIM:
        raise _Bad(f"{where} must be an array of at most {MAX_NDIM} dimensions")
    size = 1
    for d in v:
        if d is None and unknown_ok:
            continue
        if not _is_int(d) or d < 0:
            raise _Bad(f"{where} has the dimension {_brief(repr(d), 30)}; dimensions are "
                       f"integers >= 0{' or null' if unknown_ok else ''}")
        size *= d
        if size > MAX_ELEMENTS:
            raise _Bad(f"{where} {_brief(repr(v), 60)} is larger than {MAX_ELEMENTS} elements")
    return tuple(v)


def _decode(v: Any, where: str, depth: int) -> Any:
    """An attribute value from JSON (the inverse of ``_encode``); depth is bounded."""
    if depth > MAX_ATTR_DEPTH:
        raise _Bad(f"{where} is nested more than {MAX_ATTR_DEPTH} levels deep")
    if v is None or isinstance(v, (bool, int, float)):
        if _is_int(v) and abs(v) >= 2**63:
            raise _Bad(f"{where} holds the integer {_brief(repr(v), 30)}, which is out of range")
        return v
    if isinstance(v, str):
        return _string(v, where)
    if isinstance(v, list):
        if len(v) > MAX_NDIM * 4:
            raise _Bad(f"{where} is a list longer than {MAX_NDIM * 4} items")
        return tuple(_decode(x, where, depth + 1) for x in v)
    tag = v.get("$")
    if tag == "ellipsis" and len(v) == 1:
        return Ellipsis
    if tag == "float" and set(v) == {"$", "value"} and v["value"] in _NONFINITE:
        return _NONFINITE[v["value"]]
    if tag == "array" and depth == 0:
        return _decode_array(v, where)
    raise _Bad(f"{where} is an object that is not a tagged value (\"$\": \"array\", "
               "\"ellipsis\" or \"float\")")


def _decode_array(v: dict, where: str) -> np.ndarray:
    keys = set(v)
    if keys not in ({"$", "dtype", "shape", "data"}, {"$", "dtype", "shape", "fill"}):
        raise _Bad(f"{where}: an array has \"$\", \"dtype\", \"shape\" and \"data\" or \"fill\"")
    dtype = np.dtype(_dtype(v["dtype"], f"{where}: \"dtype\""))
    shape = _shape(v["shape"], f"{where}: \"shape\"", unknown_ok=False)
    if "fill" in v:
        base = _to_array([v["fill"]], dtype, where)[0]
        return np.asarray(base) if not shape else np.broadcast_to(base, shape)
    data = v["data"]
    count = math.prod(shape)
    if not isinstance(data, list) or len(data) != count:
        raise _Bad(f"{where}: \"data\" must be an array of {count} numbers (the shape's size)")
    return _to_array(data, dtype, where).reshape(shape)


def _to_array(items: list, dtype: np.dtype, where: str) -> np.ndarray:
    """A flat array of ``dtype`` from JSON scalars, checking each kind (no silent casts)."""
    kinds = set(map(type, items))
    allowed = {"b": {bool}, "i": {int}, "u": {int}, "f": {int, float, str}}[dtype.kind]
    if not kinds <= allowed:
        bad = next(x for x in items if type(x) not in allowed)
        raise _Bad(f"{where} holds {_brief(repr(bad), 30)}, which is not a {dtype} value")
    if str in kinds and not {x for x in items if type(x) is str} <= set(_NONFINITE):
        raise _Bad(f"{where}: the only strings allowed in float data are "
                   "\"nan\", \"inf\", \"-inf\"")
    try:
        with np.errstate(over="raise", invalid="raise"):
            return np.array(items, dtype=dtype)
    except (OverflowError, FloatingPointError, ValueError) as exc:
        raise _Bad(f"{where} holds a value out of range for {dtype}: {_brief(str(exc))}") from None

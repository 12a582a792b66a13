"""What a symgraph JSON file may hold: its fields, their types and their bounds.

Owns: the format's field list and defaults, the bounds on what a file may ask for (bytes,
nodes, dimensions, elements, strings, nesting; and the defaults of ``load``'s limits on
work), reading the bytes as JSON without trusting them, and checking the document and
each node record field by field, decoding attribute values (arrays, NaN, infinities,
``...``) with no silent casts. Nothing here builds a node: ``symgraph.io.rebuild`` does.
A problem raises :class:`BadFile`, which ``load`` turns into one ``SymgraphError`` naming
the file.

Imports: ``symgraph.ops`` (the registry, to know op names), NumPy.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from symgraph.ops.core import OPS, VAR

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
MAX_BODY_DEPTH = 32  # loops within loop bodies (a derivative's body holds the loop's)
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
NONFINITE = {"nan": math.nan, "-nan": math.copysign(math.nan, -1.0), "inf": math.inf,
             "-inf": -math.inf}


class BadFile(Exception):
    """A problem with the file; ``load`` turns it into one SymgraphError naming the file."""


def read_json(path: str) -> Any:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise BadFile(f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise BadFile(f"the file is larger than {MAX_FILE_BYTES >> 20} MiB; not loading it")
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except BadFile:
        raise
    except RecursionError:
        raise BadFile("not valid JSON: nested too deeply") from None
    except MemoryError:
        raise BadFile("not valid JSON: too big to parse") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise BadFile(f"not valid JSON: {brief(str(exc))}") from None


def _no_constant(token: str) -> Any:
    raise BadFile(f"not valid JSON: {token} is not a JSON number (the format writes \"nan\" etc.)")


def _finite_float(text: str) -> float:
    f = float(text)
    if not math.isfinite(f):
        raise BadFile(f"the number {brief(text, 30)} is out of range")
    return f


def brief(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind(v: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    return {str: "a string", list: "an array", dict: "an object"}.get(type(v), type(v).__name__)


def is_int(v: Any) -> bool:
    return type(v) is int  # JSON true/false decode to bool, a subclass of int


def check_document(doc: Any) -> tuple[list, list[int]]:
    if not isinstance(doc, dict):
        raise BadFile(f"not a symgraph file: the JSON is {kind(doc)}, not an object")
    if doc.get("format") != FORMAT:
        raise BadFile(f"not a symgraph file: \"format\" is {brief(repr(doc.get('format')), 40)}, "
                      f"expected {FORMAT!r}")
    version = doc.get("version")
    if version != VERSION or not is_int(version):
        raise BadFile(f"version {brief(repr(version), 40)} is not supported; "
                      f"this symgraph reads version {VERSION}")
    extra = set(doc) - {"format", "version", "nodes", "outputs"}
    if extra:
        raise BadFile(f"unknown top-level field {sorted(extra)[0]!r}")
    nodes, outputs = doc.get("nodes"), doc.get("outputs")
    if not isinstance(nodes, list) or not nodes:
        raise BadFile(f"\"nodes\" must be a non-empty array, got {kind(nodes)}")
    if len(nodes) > MAX_NODES:
        raise BadFile(f"{len(nodes)} nodes is more than the limit of {MAX_NODES}")
    if not isinstance(outputs, list) or not outputs:
        raise BadFile("\"outputs\" must be a non-empty array of node positions, got "
                      f"{kind(outputs)}")
    for o in outputs:
        if not is_int(o) or not 0 <= o < len(nodes):
            raise BadFile(f"output {brief(repr(o), 30)} is not a node position "
                          f"(0 to {len(nodes) - 1})")
    return nodes, outputs



def check_record(raw: Any, i: int, level: int = 0, within: str = "") -> dict[str, Any]:
    """One node record, checked field by field (``i`` is its position; ``level`` how deep
    in bodies it is), with its fields' defaults filled in and its op record as
    ``"opdef"``; an attribute holding a body becomes a :class:`BodyRecord`. ``within``
    prefixes messages (where the body is)."""
    where = f"{within}node {i}"
    if not isinstance(raw, dict):
        raise BadFile(f"{where} is {kind(raw)}, not an object")
    missing = [f for f in REQUIRED if f not in raw]
    if missing:
        raise BadFile(f"{where} has no field {missing[0]!r}")
    extra = sorted(set(raw) - set(FIELDS))
    if extra:
        raise BadFile(f"{where} has an unknown field {brief(repr(extra[0]), 40)}")
    raw = {**DEFAULTS, **raw}
    op = raw["op"]
    if not isinstance(op, str):
        raise BadFile(f"{where}: \"op\" is {kind(op)}, not a string")
    if op not in OPS:
        raise BadFile(f"{where}: unknown op {brief(repr(op), 40)}; if it is your own op, declare "
                      "it with sg.define_op before loading")
    where = f"{within}node {i} ({op})"
    inputs = raw["inputs"]
    if not isinstance(inputs, list):
        raise BadFile(f"{where}: \"inputs\" is {kind(inputs)}, not an array")
    for j in inputs:
        if not is_int(j) or j < 0:
            raise BadFile(f"{where}: input {brief(repr(j), 30)} is not a node position")
        if j >= i:
            raise BadFile(f"{where}: input {j} refers forward; a node may only use earlier nodes")
    attrs = raw["attrs"]
    if not isinstance(attrs, dict):
        raise BadFile(f"{where}: \"attrs\" is {kind(attrs)}, not an object")
    decoded = {k: check_body(v, f"{where}: attribute {brief(repr(k), 30)}", level)
               if isinstance(v, dict) and v.get("$") == "graph"
               else _decode(v, f"{where}: attribute {brief(repr(k), 30)}", 0)
               for k, v in attrs.items()}
    return {
        "op": op, "opdef": OPS[op], "inputs": inputs, "attrs": decoded,
        "name": _optional_string(raw["name"], f"{where}: \"name\""),
        "shape": _shape(raw["shape"], f"{where}: \"shape\"", unknown_ok=True),
        "dtype": check_dtype(raw["dtype"], f"{where}: \"dtype\""),
        "order": _bounded_int(raw["order"], 0, MAX_ORDER, f"{where}: \"order\""),
        "scope": _string(raw["scope"], f"{where}: \"scope\""),
        "grad_call": None if raw["grad_call"] is None
        else _bounded_int(raw["grad_call"], 1, 2**62, f"{where}: \"grad_call\""),
        "grad_of": None if raw["grad_of"] is None
        else _bounded_int(raw["grad_of"], 0, i - 1, f"{where}: \"grad_of\" (an earlier node)"),
    }


class BodyRecord:
    """A graph held in an attribute (a loop's body), checked: ``meta`` (JSON values),
    ``records`` (checked node records, positions local to them), ``inputs`` and
    ``outputs`` (positions)."""

    def __init__(self, meta: dict, records: list, inputs: list[int], outputs: list[int]):
        self.meta, self.records, self.inputs, self.outputs = meta, records, inputs, outputs


def check_body(v: dict, where: str, level: int) -> BodyRecord:
    """A ``{"$": "graph", ...}`` attribute: a nested node list whose inputs are ``var``
    records (the body's placeholders) and whose other records are no ``var``."""
    if level >= MAX_BODY_DEPTH:
        raise BadFile(f"{where}: bodies are nested more than {MAX_BODY_DEPTH} levels deep")
    if set(v) != {"$", "meta", "nodes", "inputs", "outputs"}:
        raise BadFile(f"{where}: a body has the fields \"$\", \"meta\", \"nodes\", "
                      "\"inputs\" and \"outputs\"")
    meta, nodes = v["meta"], v["nodes"]
    if not isinstance(meta, dict) or len(meta) > MAX_NDIM or not all(
            isinstance(x, str) and len(x) <= MAX_STRING or is_int(x) and 0 <= x <= MAX_NODES
            for x in meta.values()):
        raise BadFile(f"{where}: a body's \"meta\" is an object of short strings and "
                      "counts")
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        raise BadFile(f"{where}: a body's \"nodes\" must be an array of at most "
                      f"{MAX_NODES} nodes")
    ends = []
    for field in ("inputs", "outputs"):
        got = v[field]
        if not isinstance(got, list) or not all(is_int(j) and 0 <= j < len(nodes) for j in got):
            raise BadFile(f"{where}: a body's \"{field}\" must be an array of its node "
                          f"positions (0 to {len(nodes) - 1})")
        ends.append(got)
    inputs, outputs = ends
    if len(set(inputs)) != len(inputs):
        raise BadFile(f"{where}: a body's \"inputs\" repeats a node")
    records = [check_record(raw, j, level + 1, f"{where}, body ") for j, raw in enumerate(nodes)]
    held = set(inputs)
    for j, rec in enumerate(records):
        if (rec["opdef"] is VAR) != (j in held):
            raise BadFile(f"{where}: body node {j} ({rec['op']}): a body's inputs, and only "
                          f"they, are {VAR.name} records")
    return BodyRecord(dict(meta), records, inputs, outputs)


def _string(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise BadFile(f"{where} is {kind(v)}, not a string")
    if len(v) > MAX_STRING:
        raise BadFile(f"{where} is longer than {MAX_STRING} characters")
    return v


def _optional_string(v: Any, where: str) -> str | None:
    return None if v is None else _string(v, where)


def _bounded_int(v: Any, low: int, high: int, where: str) -> int:
    if not is_int(v) or not low <= v <= high:
        raise BadFile(f"{where} must be an integer from {low} to {high}, got {brief(repr(v), 30)}")
    return v


def check_dtype(v: Any, where: str) -> str:
    if not isinstance(v, str) or v not in DTYPES:
        raise BadFile(f"{where} must be one of {', '.join(sorted(DTYPES))}; "
                      f"got {brief(repr(v), 30)}")
    return v


def _shape(v: Any, where: str, unknown_ok: bool) -> tuple:
    if not isinstance(v, list) or len(v) > MAX_NDIM:
        raise BadFile(f"{where} must be an array of at most {MAX_NDIM} dimensions")
    size = 1
    for d in v:
        if d is None and unknown_ok:
            continue
        if not is_int(d) or d < 0:
            raise BadFile(f"{where} has the dimension {brief(repr(d), 30)}; dimensions are "
                          f"integers >= 0{' or null' if unknown_ok else ''}")
        size *= d
        if size > MAX_ELEMENTS:
            raise BadFile(f"{where} {brief(repr(v), 60)} is larger than {MAX_ELEMENTS} elements")
    return tuple(v)


def _decode(v: Any, where: str, depth: int) -> Any:
    """An attribute value from JSON (the inverse of ``_encode``); depth is bounded."""
    if depth > MAX_ATTR_DEPTH:
        raise BadFile(f"{where} is nested more than {MAX_ATTR_DEPTH} levels deep")
    if v is None or isinstance(v, (bool, int, float)):
        if is_int(v) and abs(v) >= 2**63:
            raise BadFile(f"{where} holds the integer {brief(repr(v), 30)}, which is out of range")
        return v
    if isinstance(v, str):
        return _string(v, where)
    if isinstance(v, list):
        if len(v) > MAX_NDIM * 4:
            raise BadFile(f"{where} is a list longer than {MAX_NDIM * 4} items")
        return tuple(_decode(x, where, depth + 1) for x in v)
    tag = v.get("$")
    if tag == "ellipsis" and len(v) == 1:
        return Ellipsis
    if tag == "float" and set(v) == {"$", "value"} and v["value"] in NONFINITE:
        return NONFINITE[v["value"]]
    if tag == "array" and depth == 0:
        return _decode_array(v, where)
    raise BadFile(f"{where} is an object that is not a tagged value (\"$\": \"array\", "
                  "\"ellipsis\" or \"float\")")


def _decode_array(v: dict, where: str) -> np.ndarray:
    keys = set(v)
    if keys not in ({"$", "dtype", "shape", "data"}, {"$", "dtype", "shape", "fill"}):
        raise BadFile(f"{where}: an array has \"$\", \"dtype\", \"shape\" and \"data\" or \"fill\"")
    dtype = np.dtype(check_dtype(v["dtype"], f"{where}: \"dtype\""))
    shape = _shape(v["shape"], f"{where}: \"shape\"", unknown_ok=False)
    if "fill" in v:
        base = _to_array([v["fill"]], dtype, where)[0]
        return np.asarray(base) if not shape else np.broadcast_to(base, shape)
    data = v["data"]
    count = math.prod(shape)
    if not isinstance(data, list) or len(data) != count:
        raise BadFile(f"{where}: \"data\" must be an array of {count} numbers (the shape's size)")
    return _to_array(data, dtype, where).reshape(shape)


def _to_array(items: list, dtype: np.dtype, where: str) -> np.ndarray:
    """A flat array of ``dtype`` from JSON scalars, checking each kind (no silent casts)."""
    kinds = set(map(type, items))
    allowed = {"b": {bool}, "i": {int}, "u": {int}, "f": {int, float, str}}[dtype.kind]
    if not kinds <= allowed:
        bad = next(x for x in items if type(x) not in allowed)
        raise BadFile(f"{where} holds {brief(repr(bad), 30)}, which is not a {dtype} value")
    if str in kinds and not {x for x in items if type(x) is str} <= set(NONFINITE):
        raise BadFile(f"{where}: the only strings allowed in float data are "
                      "\"nan\", \"-nan\", \"inf\", \"-inf\"")
    try:
        with np.errstate(over="raise", invalid="raise"):
            return np.array(items, dtype=dtype)
    except (OverflowError, FloatingPointError, ValueError) as exc:
        raise BadFile(f"{where} holds a value out of range for {dtype}: "
                      f"{brief(str(exc))}") from None

"""What a node read from an untrusted file (``sg.load``) may be, and what it may cost.

Owns: rebuilding a node from its op record, input nodes and attributes through the op's
public constructor (``var``, ``const``, ``sg.transpose``...), so a file can hold nothing
the constructors refuse (``make`` alone trusts its caller: it would take transpose axes
``(0, 0)`` or an unsorted sum axis); and the element operations a node asks of
``evaluate``, which ``load`` bounds.

Imports: ``symgraph.errors``, ``symgraph.graph``, ``symgraph.ops``, NumPy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from symgraph import ops
from symgraph.errors import SymgraphError
from symgraph.graph import Graph, Node
from symgraph.ops.core import CONST, VAR, Op, _check_shape, describe, make, normalize_axes
from symgraph.ops.elementwise import CAST
from symgraph.ops.linalg import MATMUL
from symgraph.ops.nn import LOG_SOFTMAX, LOGSUMEXP, SOFTMAX
from symgraph.ops.reduce import BROADCAST_TO, COUNT, FIRST_MAX_MASK, MAX, MEAN, SUM, SUM_TO
from symgraph.ops.shape import (
    CONCATENATE,
    EXPAND_DIMS,
    GETITEM,
    RESHAPE,
    SCATTER,
    STACK,
    TRANSPOSE,
    _canonical_index,
    numpy_index,
)

Rebuild = Callable[[list, dict], Node]


def _internal(op: Op) -> Rebuild:
    """grad's own ops with an axis (no public constructor): their maker normalises it."""
    return lambda ins, a: make(op, ins, {"axis": normalize_axes(a["axis"], ins[0].ndim, op.name)})


def _to_shape(f: Callable[..., Node]) -> Rebuild:
    """reshape, broadcast_to, sum_to: to a static shape, or to the shape of a second input."""
    return lambda ins, a: f(ins[0], ins[1] if ins[1:] else a["shape"])


def _reduce(f: Callable[..., Node]) -> Rebuild:
    return lambda ins, a: f(ins[0], a["axis"], a["keepdims"])


def _on_axis(f: Callable[..., Node]) -> Rebuild:
    return lambda ins, a: f(ins[0], a["axis"])


def _join(f: Callable[..., Node]) -> Rebuild:
    return lambda ins, a: f(ins, a["axis"])


# The public constructor of each built-in op with attributes, as f(inputs, attrs), keyed by
# the op record (an op without an entry has no attributes and is rebuilt by ``make``).
PUBLIC: dict[Op, Rebuild] = {
    RESHAPE: _to_shape(ops.reshape), BROADCAST_TO: _to_shape(ops.broadcast_to),
    SUM_TO: _to_shape(ops.sum_to),
    SUM: _reduce(ops.sum), MEAN: _reduce(ops.mean), MAX: _reduce(ops.max),
    LOGSUMEXP: _reduce(ops.logsumexp),
    SOFTMAX: _on_axis(ops.softmax), LOG_SOFTMAX: _on_axis(ops.log_softmax),
    EXPAND_DIMS: _on_axis(ops.expand_dims),
    CONCATENATE: _join(ops.concatenate), STACK: _join(ops.stack),
    COUNT: _internal(COUNT), FIRST_MAX_MASK: _internal(FIRST_MAX_MASK),
    TRANSPOSE: lambda ins, a: ops.transpose(ins[0], a["axes"]),
    GETITEM: lambda ins, a: ops.getitem(ins[0], numpy_index(a["index"])),
    CAST: lambda ins, a: ops.cast(ins[0], a["dtype"]),
    SCATTER: lambda ins, a: make(SCATTER, ins, {  # grad's adjoint of getitem
        "index": _canonical_index(numpy_index(a["index"]), SCATTER.name),
        "shape": ins[1].shape if ins[1:] else _check_shape(a["shape"], SCATTER.name)}),
}


class RecordError(SymgraphError):
    """A node record that its op cannot be rebuilt from; ``load`` names the file and node."""


def make_node(op: Op, inputs: list[Node], attrs: dict, name: str | None, *, shape: tuple,
              dtype: str, order: int, grad_call: int | None, graph: Graph) -> Node:
    """The node a file's record describes, made as a user would make it (see
    :func:`rebuild`); ``var`` and ``const`` records are checked field by field (an input
    of order > 0 must be one of grad's placeholders, with a ``grad_call``).

    Raises :class:`RecordError` for a record no public constructor makes, and
    ``SymgraphError`` from the constructors.
    """
    arrays = [k for k, v in attrs.items() if isinstance(v, np.ndarray)]
    if op is VAR:
        if inputs or attrs or name is None:
            raise RecordError("an input has a name, no inputs and no attributes")
        if order and grad_call is None:  # sg.var makes order 0 only
            raise RecordError(f"input {name!r} has derivative order {order}; only a "
                              "derivative's placeholder (with a \"grad_call\") has one")
        return ops.var(name, shape, dtype)
    if op is CONST:
        if inputs or list(attrs) != ["value"] or arrays != ["value"]:
            raise RecordError("a constant has no inputs and one attribute, an array 'value'")
        return ops.const(attrs["value"], name=name, graph=graph)
    if arrays:
        raise RecordError(f"attribute {arrays[0]!r} is an array; only constants hold arrays")
    if name is not None:
        raise RecordError(f"only {VAR.name} and {CONST.name} nodes carry names")
    return rebuild(op, inputs, attrs)


def rebuild(op: Op, inputs: list[Node], attrs: dict) -> Node:
    """The node ``op(*inputs, **attrs)``, made as a user would make it: an op with
    attributes by its public constructor, whose result must be that very node (the
    attributes as the constructor normalises them), any other by ``make`` after its
    forward rule was checked to take these arguments. Raises ``SymgraphError``.

    >>> import symgraph as sg
    >>> from symgraph.ops.shape import TRANSPOSE
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> rebuild(TRANSPOSE, [m], {"axes": (1, 0)}).shape
    (3, 2)
    >>> try:
    ...     rebuild(TRANSPOSE, [m], {"axes": (0, 0)})
    ... except sg.SymgraphError as e:
    ...     print(str(e).split(": ")[-1])
    (0, 0) is not a permutation of its axes
    """
    public = PUBLIC.get(op)
    if public is None:
        _check_call(op, len(inputs), attrs)
        return make(op, inputs, attrs)
    node = public(inputs, attrs)
    if node.opdef is not op or node.inputs != tuple(inputs) or node.attrs != attrs:
        raise SymgraphError(f"sg.{op.name} makes {describe(node)} with {node.attrs} from these "
                            f"inputs, not the attributes {attrs}")
    return node


def _check_call(op: Op, n_inputs: int, attrs: dict) -> None:
    """The op's forward rule must accept this many inputs and these attribute names (shape
    rules alone do not count arguments); checked from its signature, nothing is called."""
    impl = op.impl
    if isinstance(impl, np.ufunc):
        fits, takes = n_inputs == impl.nin and not attrs, f"{impl.nin} inputs"
    else:
        try:
            signature = inspect.signature(impl)
        except (TypeError, ValueError):
            return  # a builtin without a signature: the shape rule has to do
        takes = f"({', '.join(map(str, signature.parameters.values()))})"
        try:
            signature.bind(*range(n_inputs), **attrs)
            fits = True
        except TypeError:
            fits = False
    if not fits:
        raise SymgraphError(f"{n_inputs} inputs and the attributes {sorted(attrs)} do not fit "
                            f"the op, which takes {takes[:80]}")


def work(node: Node, size: int, input_sizes: list[int]) -> int:
    """Element operations evaluating ``node`` takes, given the static sizes of it and its
    inputs: its largest operand or result, or for a matrix product its multiply-adds.
    Inputs and constants cost nothing: they are given, not computed.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     a, b = sg.var("a", shape=(4, 5)), sg.var("b", shape=(5, 6))
    ...     work(a @ b, 24, [20, 30]), work(sg.sum(a), 1, [20])
    (120, 20)
    """
    op = node.opdef
    if op is VAR or op is CONST:
        return 0
    if op is MATMUL:
        return size * (node.inputs[0].shape[-1] or 1)
    return max([size, *input_sizes])

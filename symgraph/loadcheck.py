"""What a node read from an untrusted file (``sg.load``) may be, and what it may cost.

Owns: rebuilding a node from its op name, input nodes and attributes through the op's
public constructor, so a file can hold nothing the constructors refuse (``make`` alone
trusts its caller: it would take transpose axes ``(0, 0)`` or an unsorted sum axis); and
the element operations a node asks of ``evaluate``, which ``load`` bounds.

Imports: ``symgraph.graph``, ``symgraph.ops``, NumPy.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from symgraph import ops
from symgraph.graph import Node, SymgraphError
from symgraph.ops.core import OPS, _check_shape, describe, make, normalize_axes
from symgraph.ops.shape import _canonical_index, numpy_index


def _internal(name: str) -> Any:
    """grad's own ops with an axis (no public constructor): their maker normalises it."""
    return lambda ins, a: make(OPS[name], ins,
                               {"axis": normalize_axes(a["axis"], ins[0].ndim, name)})


# The public constructor of each built-in op with attributes, as f(inputs, attrs).
PUBLIC: dict[str, Any] = {
    **{k: lambda ins, a, f=getattr(ops, k): f(ins[0], ins[1] if ins[1:] else a["shape"])
       for k in ("reshape", "broadcast_to", "sum_to")},
    **{k: lambda ins, a, f=getattr(ops, k): f(ins[0], a["axis"], a["keepdims"])
       for k in ("sum", "mean", "max", "logsumexp")},
    **{k: lambda ins, a, f=getattr(ops, k): f(ins[0], a["axis"])
       for k in ("softmax", "log_softmax", "expand_dims")},
    **{k: lambda ins, a, f=getattr(ops, k): f(ins, a["axis"]) for k in ("concatenate", "stack")},
    **{k: _internal(k) for k in ("count", "first_max_mask")},
    "transpose": lambda ins, a: ops.transpose(ins[0], a["axes"]),
    "getitem": lambda ins, a: ops.getitem(ins[0], numpy_index(a["index"])),
    "cast": lambda ins, a: ops.cast(ins[0], a["dtype"]),
    "scatter": lambda ins, a: make(OPS["scatter"], ins, {  # grad's adjoint of getitem
        "index": _canonical_index(numpy_index(a["index"]), "scatter"),
        "shape": ins[1].shape if ins[1:] else _check_shape(a["shape"], "scatter")}),
}


def rebuild(op: str, inputs: list[Node], attrs: dict) -> Node:
    """The node ``op(*inputs, **attrs)``, made as a user would make it: an op with
    attributes by its public constructor, whose result must be that very node (the
    attributes as the constructor normalises them), any other by ``make`` after its
    forward rule was checked to take these arguments. Raises ``SymgraphError``.

    >>> import symgraph as sg
    >>> with sg.Graph():
    ...     m = sg.var("m", shape=(2, 3))
    >>> rebuild("transpose", [m], {"axes": (1, 0)}).shape
    (3, 2)
    >>> try:
    ...     rebuild("transpose", [m], {"axes": (0, 0)})
    ... except sg.SymgraphError as e:
    ...     print(str(e).split(": ")[-1])
    (0, 0) is not a permutation of its axes
    """
    public = PUBLIC.get(op)
    if public is None:
        _check_call(OPS[op], len(inputs), attrs)
        return make(OPS[op], inputs, attrs)
    node = public(inputs, attrs)
    if node.op != op or node.inputs != tuple(inputs) or node.attrs != attrs:
        raise SymgraphError(f"sg.{op} makes {describe(node)} with {node.attrs} from these "
                            f"inputs, not the attributes {attrs}")
    return node


def _check_call(op: Any, n_inputs: int, attrs: dict) -> None:
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
    if node.op in ("var", "const"):
        return 0
    if node.op == "matmul":
        return size * (node.inputs[0].shape[-1] or 1)
    return max([size, *input_sizes])
